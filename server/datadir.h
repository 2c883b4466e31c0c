/*
 * datadir.h -- a replica's claim on its data directory: one process per
 * replica, and the durable-commit mark.
 *
 * DIR/replica-K.lock is opened and locked (flock LOCK_EX|LOCK_NB) for the
 * whole life of the process.  A second ratingd --id K on the same
 * directory finds it locked and stops before it touches anything; the
 * kernel drops the lock when the holder dies however it dies, so a crash
 * never leaves a stale lock behind.  The file is text, 192 bytes:
 *
 *     ratingd replica K pid P                         (64 bytes, offset 0)
 *     mark commit=C epoch=E crc=X                     (128 bytes, offset 64)
 *
 * The first line says who holds the lock (for the refusal's message).
 * The second is the mark: the number of the last commit known durable and
 * the database's epoch, as the last run recorded them.  A database whose
 * own commit number is below the mark of its directory is older than what
 * this replica already acknowledged (a restored backup, a copied file,
 * lost writes): the caller's recovery rule decides what to do (state.c).
 * The mark is written in place with pwrite and no fsync after every group
 * commit (it survives a process crash: it is in the page cache), and
 * fsynced at shutdown.  It is only ever written after the commit it names
 * is durable, so after a power loss it may be older than the database but
 * never newer; crc (FNV-1a of the text before it) catches a torn or
 * edited line.
 */
#ifndef RATINGD_DATADIR_H
#define RATINGD_DATADIR_H

#include <stddef.h>
#include <stdint.h>

typedef struct datadir datadir_t;

/* Lock DIR/replica-ID.lock (creating it) and record our pid in it.
 * 0, -1 with a message (cannot create or lock the file), or -2 when
 * another live process holds it (the message names its pid). */
int datadir_open(const char *dir, uint32_t id, datadir_t **out, char *err, size_t errlen);
/* The mark as the last run recorded it.  1 found, 0 none (a new
 * directory, or one an older ratingd used), -1 error (unreadable or
 * corrupt: datadir_error says which). */
int datadir_mark_get(datadir_t *d, uint64_t *commit, uint64_t *epoch);
/* Record the mark (pwrite, no fsync).  0 or -1 (datadir_error). */
int datadir_mark_put(datadir_t *d, uint64_t commit, uint64_t epoch);
/* Make the last mark_put durable (fdatasync).  0 or -1 (datadir_error). */
int datadir_mark_sync(datadir_t *d);
/* The reason of the last -1 of a mark function. */
const char *datadir_error(const datadir_t *d);
/* Release the lock and free d (NULL is fine).  The file stays: it holds
 * the mark for the next run. */
void datadir_close(datadir_t *d);

#endif
