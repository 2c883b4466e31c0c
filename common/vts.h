/*
 * vts.h -- vector timestamps of the gossip architecture.
 *
 * Entry k counts the updates accepted at replica k.  A vector has n live
 * entries (the number of replicas); entries at or past n are zero, so
 * vectors of different lengths compare as if padded with zeros.
 */
#ifndef RATINGD_VTS_H
#define RATINGD_VTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTS_MAX 32 /* == RT_MAX_REPLICAS in rating.x */

typedef struct vts {
    uint32_t n;           /* live entries */
    uint64_t t[VTS_MAX];
} vts_t;

void vts_zero(vts_t *v, uint32_t n);
/* a <= b: every entry of a is <= the same entry of b. */
bool vts_le(const vts_t *a, const vts_t *b);
bool vts_eq(const vts_t *a, const vts_t *b);
/* dst = entry-wise max(dst, src); dst->n grows to src->n if shorter. */
void vts_merge(vts_t *dst, const vts_t *src);
/* Write "[a,b,c]" into buf; returns buf. */
char *vts_format(const vts_t *v, char *buf, size_t len);
/* Parse "[a,b,c]" or "a,b,c"; returns 0, or -1 when malformed. */
int vts_parse(vts_t *v, const char *s);

#endif
