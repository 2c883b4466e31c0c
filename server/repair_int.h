/*
 * repair_int.h -- what the halves of anti-entropy repair share, and
 * nothing else may use: repair.c is the caller's round, repair_serve.c the
 * callee's answers, repair_msg.c what both do with messages -- the checks
 * of what a message may hold, and rows between the store and messages.
 */
#ifndef RATINGD_REPAIR_INT_H
#define RATINGD_REPAIR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "merkle.h"
#include "repair.h"
#include "store.h"

#define REPAIR_XDR(f) ((xdrproc_t)(f))

/* ---- checks: what a message may hold ------------------------------------ */

/* A call the callee may answer: every index, split and part in range,
 * parts of one split per user, every row well formed and every key in one
 * of the call's parts. */
bool repair_ask_ok(const rt_repair_ask *q);
/* Rows well formed (and, with parts, each in one of them). */
bool repair_rows_ok(const rt_repair_rows *rows, const rt_repair_part *parts, u_int nparts);

/* ---- the rows of some parts, with their hashes --------------------------- */

/* A row (a rating, or a movie: user 0) by its key, in (user, movie) order
 * once sorted; `at` indexes ratings or movies. */
typedef struct repair_entry {
    uint32_t user;
    uint32_t movie;
    uint64_t hash;
    uint32_t at;
} repair_entry_t;

typedef struct repair_set {
    snap_rating_t *ratings;
    movie_info_t *movies;
    repair_entry_t *entries;  /* sorted by key after repair_set_read */
    size_t nratings, nmovies, n;
    size_t cap_ratings, cap_movies, cap;
} repair_set_t;

/* Every row this store has in the parts (valid: repair_ask_ok), sorted.
 * 0, or -1 (a storage error, or out of memory). */
int repair_set_read(store_t *db, const rt_repair_part *parts, u_int nparts, repair_set_t *set);
/* The entry of (user, movie), or NULL. */
const repair_entry_t *repair_set_find(const repair_set_t *set, uint32_t user, uint32_t movie);
void repair_set_free(repair_set_t *set);

/* Room for RT_MAX_REPAIR_ROWS ratings and movies; 0 or -1. */
int repair_rows_alloc(rt_repair_rows *out);
/* Add the row of an entry of set to out: 1, 0 if out is full, -1 out of
 * memory. */
int repair_rows_add(rt_repair_rows *out, const repair_set_t *set, const repair_entry_t *e);
/* Merge a peer's rows by the conflict rule, the movies first (so that a
 * movie's counts take its ratings).  The rows taken, or -1. */
int64_t repair_rows_merge(store_t *db, const rt_repair_rows *in);
/* The hash of a rating row as a message holds it. */
uint64_t repair_rating_hash(const rt_snap_rating *r);

#endif
