/*
 * store.h -- a replica's durable state in one SQLite database: the value
 * (movies and ratings), the executed-operation table, the update log and
 * the vector timestamps.  Nothing here knows the gossip rules; gossip.c
 * decides, this module remembers.
 *
 * Threading: a store_t is used by one thread at a time (the replica holds
 * its state lock around every call), except store_sync, which may run
 * beside the others.  Queries may also run on readers: read-only
 * connections to the same file, each used by one thread at a time, that
 * need no lock (WAL: they see the last commit and never wait for the
 * writer).
 *
 * Return convention: 0 on success, -1 on a storage error (store_errmsg
 * says why); lookups return 1 found / 0 not found / -1 error.
 */
#ifndef RATINGD_STORE_H
#define RATINGD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "record.h"
#include "vts.h"

typedef struct store store_t;

typedef struct movie_info {
    uint32_t movie;
    char title[RT_MAX_TITLE + 1];
    char genres[RT_MAX_GENRES + 1];
    uint32_t nratings;
    uint64_t sum_halves;
    uint32_t alias_of;     /* nonzero: this id is another name of that movie */
} movie_info_t;

typedef struct user_rating {
    uint32_t movie;
    uint32_t halves;
} user_rating_t;

typedef struct store_counts {
    uint64_t nratings;     /* live ratings */
    uint32_t nmovies;
    uint64_t executed;     /* rows of the executed table */
    uint64_t digest;       /* order-independent hash of movies and ratings */
} store_counts_t;

enum store_sync { STORE_SYNC_FULL, STORE_SYNC_OFF };

/* Open (creating if absent) the database at path; ":memory:" gives a
 * volatile store.  A database made for another replica id or replica count
 * is refused with a message in err. */
store_t *store_open(const char *path, uint32_t replica_id, uint32_t nreplicas,
                    enum store_sync sync, char *err, size_t errlen);
void store_close(store_t *s);
const char *store_errmsg(store_t *s);

/* Opening checks the file's integrity (SQLite's quick_check) and refuses a
 * damaged one.  A large file's ratings table is left out (checking it takes
 * longer than a start-up may): then store_check_pending says so, and
 * store_check_file(path) runs the whole check on a connection of its own,
 * beside the store's work (0, or -1 with a message in err). */
bool store_check_pending(store_t *s);
int store_check_file(const char *path, char *err, size_t errlen);

/* True until a data set has been imported or a state restored. */
bool store_is_new(store_t *s);
/* Import movies.csv and ratings.csv (GroupLens format: CRLF, quoted
 * titles) from dir in one transaction.  progress: print a progress line to
 * stderr.  Returns 0, or -1 with a message in err (file, line). */
int store_import_movielens(store_t *s, const char *dir, bool progress, char *err, size_t errlen);

int store_begin(store_t *s);
int store_commit(store_t *s);
void store_rollback(store_t *s);
/* Commits are numbered (the count survives restarts): the last one's. */
uint64_t store_commits(store_t *s);
/* Durability.  With STORE_SYNC_FULL a commit is written to the WAL but not
 * synced; store_sync makes every commit made before it durable (one
 * fdatasync, however many commits: group commit).  So a caller may commit
 * several transactions and sync once, but must not reveal a commit before
 * a store_sync that began after it has returned.  A no-op for STORE_SYNC_OFF
 * and ":memory:".  -1 on failure, with store_sync_errmsg: the commits may
 * be lost, and cannot be rolled back. */
int store_sync(store_t *s);
const char *store_sync_errmsg(store_t *s);

/* --- readers -------------------------------------------------------- */
/* A read-only connection to s's file, for the query functions below
 * (store_movie, store_title_search, store_rating, store_user_ratings);
 * close it with store_close.  NULL with a message in err, e.g. for
 * ":memory:" stores, which only their writer can read. */
store_t *store_reader_open(store_t *s, char *err, size_t errlen);
/* A read transaction: its first read fixes the snapshot (the last commit
 * then), and every read until store_read_end sees that one, whatever the
 * writer commits meanwhile. */
int store_read_begin(store_t *r);
/* The value timestamp saved with the transaction's commit, and the
 * commit's number (store_commits): an answer read in the same transaction
 * reflects exactly that timestamp.  Call it after the queries (it is
 * cheapest then: it reads nothing while the snapshot is the one it last
 * read); before any query it fixes the snapshot itself. */
int store_read_clock(store_t *r, vts_t *value_ts, uint64_t *commit);
void store_read_end(store_t *r);

/* --- the value ------------------------------------------------------ */
/* Apply an update record: last writer wins per (user, movie) by
 * lww_cmp(stamp, uid); deletes leave a tombstone so an older write that
 * arrives later cannot resurrect the rating; OP_ADD_MOVIE creates the
 * movie and its first rating.  Records r->uid as executed with r->ts. */
int store_apply(store_t *s, const urec_t *r);
/* The stamp of the current write to (user, movie), live or deleted:
 * 1 and *stamp set, or 0 if never written. *live says it is not deleted. */
int store_key_stamp(store_t *s, uint32_t user, uint32_t movie, uint64_t *stamp, bool *live);
/* Was uid executed here?  1 and what it got, 0, -1. */
int store_executed_find(store_t *s, const upd_id_t *uid, upd_result_t *out);

/* --- queries -------------------------------------------------------- */
int store_movie(store_t *s, uint32_t movie, movie_info_t *out);
/* Movies whose title contains pattern (ASCII case-insensitive), by id. */
int store_title_search(store_t *s, const char *pattern, movie_info_t *out, size_t max,
                       size_t *nout);
int store_rating(store_t *s, uint32_t user, uint32_t movie, uint32_t *halves);
/* One page of a user's live ratings by movie id; *total counts them all.
 * Returns 1 if the user has ratings, 0 if none. */
int store_user_ratings(store_t *s, uint32_t user, uint32_t offset, uint32_t limit,
                       user_rating_t *out, size_t *nout, uint32_t *total);
int store_counts(store_t *s, store_counts_t *out);

/* --- replica state -------------------------------------------------- */
int store_save_ts(store_t *s, const vts_t *replica_ts, const vts_t *value_ts,
                  const vts_t *table, uint32_t n);
/* 1 and the vectors if saved before, 0 for a new store. */
int store_load_ts(store_t *s, vts_t *replica_ts, vts_t *value_ts, vts_t *table, uint32_t n);
/* Insert or replace a log record (keyed by origin and ts[origin]). */
int store_log_put(store_t *s, const urec_t *r);
int store_log_del(store_t *s, const urec_t *r);
/* Call fn for every log record in (origin, seq) order. */
int store_log_each(store_t *s, int (*fn)(void *arg, const urec_t *r), void *arg);

/* --- identity --------------------------------------------------------- */
/* A random number made when the database was created: a replica that
 * comes back with another epoch has lost its old state. */
uint64_t store_epoch(store_t *s);
/* A new epoch, inside a transaction: the replica's state changed in a way
 * its peers' beliefs about it do not cover (recovery, a snapshot). */
int store_new_epoch(store_t *s);
/* Small named values in meta (e.g. what we know of peers' epochs). */
int store_meta_get(store_t *s, const char *key, char *buf, size_t cap);
int store_meta_put(store_t *s, const char *key, const char *val);

/* --- snapshot transfer (a wiped replica rejoins) ------------------------ */
typedef struct snap_rating {
    uint32_t user;
    uint32_t movie;
    uint32_t halves;       /* 0: deleted */
    uint64_t stamp;
    upd_id_t uid;
} snap_rating_t;

typedef struct snap_exec {
    upd_id_t uid;
    upd_result_t got;
} snap_exec_t;

typedef struct store_snap store_snap_t;

/* A consistent read-only view of the committed database: a second
 * connection in a read transaction (WAL lets the replica go on writing).
 * Not available for ":memory:" stores. */
store_snap_t *store_snap_open(store_t *s, char *err, size_t errlen);
void store_snap_close(store_snap_t *v);
int store_snap_header(store_snap_t *v, vts_t *replica_ts, vts_t *value_ts, vts_t *table,
                      uint32_t n, store_counts_t *counts);
/* Pages in key order after a cursor; *nout < max means the end. */
int store_snap_movies(store_snap_t *v, uint32_t after, movie_info_t *out, size_t max,
                      size_t *nout);
int store_snap_ratings(store_snap_t *v, uint32_t after_user, uint32_t after_movie,
                       snap_rating_t *out, size_t max, size_t *nout);
int store_snap_executed(store_snap_t *v, const upd_id_t *after, snap_exec_t *out, size_t max,
                        size_t *nout);
int store_snap_log(store_snap_t *v, uint32_t after_origin, uint64_t after_seq, urec_t *out,
                   size_t max, size_t *nout);

/* Install received rows as they are (inside store_begin/commit), after
 * store_clear_state (a replica that copies a peer while running has rows
 * of its own), then the counters and digest of the source, and mark the
 * store imported. */
int store_clear_state(store_t *s);
int store_put_movie(store_t *s, const movie_info_t *m);
int store_put_rating(store_t *s, const snap_rating_t *r);
int store_put_executed(store_t *s, const snap_exec_t *e);
int store_finish_snapshot(store_t *s, const store_counts_t *counts);

/* --- anti-entropy repair (store_repair.c) ------------------------------- */
/* The digest tree of the rows (server/merkle.h): every rating, tombstones
 * included, and every movie, grouped by owner (a rating's user; 0 for the
 * movies).  It follows every change of a row; the owners' digests are
 * kept in table `digests` and written in the transaction of the change,
 * and the tree above them is rebuilt from that table at open.  Its root
 * is store_counts' digest.  A database whose digests are missing or
 * marked stale (meta key 'digests' deleted, e.g. after rows were changed
 * with the sqlite3 tool: docs/operations.md) recomputes them from the
 * tables when it is opened. */
const merkle_t *store_repair_tree(store_t *s);
/* Owners of one bucket from owner `from` on, in owner order: at most max
 * into out, *nout of them. */
int store_repair_owners(store_t *s, uint32_t bucket, uint32_t from, merkle_owner_t *out,
                        size_t max, size_t *nout);
/* The digests of the nparts parts of an owner's rows, into out[nparts]. */
int store_repair_parts(store_t *s, uint32_t owner, uint32_t nparts, uint64_t *out);
/* Every row of an owner in the parts whose bit is set in `parts` (nparts
 * bits): ratings to rating(), movies (owner 0) to movie().  A nonzero
 * result of either stops the walk and is returned. */
typedef struct store_repair_sink {
    int (*rating)(void *arg, const snap_rating_t *r);
    int (*movie)(void *arg, const movie_info_t *m);
    void *arg;
} store_repair_sink_t;
int store_repair_rows(store_t *s, uint32_t owner, uint32_t nparts, const uint8_t *parts,
                      const store_repair_sink_t *sink);
/* Merge a peer's row by the conflict rule (docs/algorithm.md): 1 if it
 * replaced or added ours, 0 if ours stays, -1 on a storage error.  Inside
 * store_begin/commit. */
int store_repair_merge_rating(store_t *s, const snap_rating_t *r);
int store_repair_merge_movie(store_t *s, const movie_info_t *m);

#endif
