/*
 * history_int.h -- what a history holds, shared by history.c (recording,
 * the log format) and hist_rules.c (the checks).  Not for users of
 * history.h.
 */
#ifndef RATINGD_HISTORY_INT_H
#define RATINGD_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "record.h"

/* A write or read line.  key is user << 32 | movie. */
struct line {
    uint32_t session;      /* index into the session names */
    bool is_write;
    uint8_t status;        /* enum hist_status */
    uint32_t halves;
    uint64_t seq;
    uint64_t key;
    uint64_t stamp;
    upd_id_t uid;
    uint64_t t0, t1;
};

/* A final or initial value. */
struct fact {
    uint64_t key;
    uint32_t replica;      /* finals only */
    uint32_t halves;
};

struct hist {
    struct line *lines;
    size_t nlines, caplines;
    struct fact *finals;
    size_t nfinals, capfinals;
    struct fact *initials;
    size_t ninitials, capinitials;
    char **names;          /* sessions, interned */
    size_t nnames, capnames;
    uint32_t *slots;       /* open addressing over names: index + 1, 0 empty */
    size_t nslots;
};

extern const char *const hist_status_names[];
int hist_cmp_u64(const void *a, const void *b);
/* Grow *arr (*cap elements of size sz) to hold at least n + 1.  0 or -1. */
int hist_grow(void **arr, size_t *cap, size_t n, size_t sz);

#endif
