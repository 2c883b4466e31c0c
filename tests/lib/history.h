/*
 * history.h -- a checker of operation histories: what clients did to the
 * service and what it answered, and what every replica holds at the end.
 * The deterministic simulator (tests/sim) feeds it in process; the e2e and
 * cluster fault tests write log files that `histcheck` (histcheck.c) reads.
 *
 * ## The log format (docs/history-format.md has the same text)
 *
 * One operation per line, written after the operation completes; fields are
 * key=value separated by single spaces, in any order; lines starting with
 * '#' are comments.  Times are wall-clock ms, used only to order one
 * session's operations.
 *
 *   op=write session=S seq=N key=USER:MOVIE value=H stamp=T uid=O:Q status=ok|fail|unknown|stale t0=MS t1=MS
 *   op=read  session=S seq=N key=USER:MOVIE value=H status=ok|fail t0=MS t1=MS
 *   op=final replica=K key=USER:MOVIE value=H
 *   op=initial key=USER:MOVIE value=H
 *
 * - value is in half stars 1..10; 0 means deleted / absent (a delete is
 *   op=write value=0; a read that got "not found" is value=0).
 * - stamp=0: the stamp is not known (the checks that need stamps skip that
 *   write).  uid is the update id ORIGIN:SEQ; 0:0 when not known.
 * - status: ok = acknowledged; fail = definitely not applied (refused);
 *   unknown = may or may not be applied (time-out, unavailable); stale =
 *   refused because the rating has a later write: not applied by this attempt.
 * - seq orders one session's operations (a session is sequential).
 * - final: per replica, the value of every key the history touched, read
 *   once the cluster is healed and quiet (0: absent).
 * - initial: a key's value before the history (the data set's); keys
 *   without one start absent.
 * Optional fields (stamp, uid, t0, t1) default to 0; unknown fields are
 * ignored, so writers may add their own.
 *
 * ## The rules (hist_check), per key
 *
 * Lines of one session with the same uid, key and value are one update (a
 * client that repeats a timed-out command with its uid): acknowledged if any
 * of them was, in the session's order at its first line.  fail and stale
 * writes are never applied and take no part below.
 *
 * The checker builds, over the key's initial value and its ok and unknown
 * writes, the relation "x precedes y in the arbitration (last-writer-wins)
 * order" that every correct run must respect:
 *   - the initial value precedes every write;
 *   - stamps: when both are known, by (stamp, uid) as record.c: lww_cmp;
 *   - a session's ok write precedes its later writes of the key;
 *   - the write a session's read observed precedes the session's later
 *     writes of the key (when the value names one write: values are not
 *     unique in general, and an ambiguous read adds nothing);
 *   - single-writer keys (one session writes it): every write of the session
 *     precedes its later ones, unknown ones included (the client's stamps
 *     grow: a late copy of an earlier write must lose);
 *   (the three session rules bind later writes whose stamp is not known:
 *   where it is, the stamps place it, and the stamps rule below checks that
 *   they agree for the writes that were acknowledged)
 * and its transitive closure.  Then:
 *   convergence  every replica's final value of the key is the same;
 *   final        each final value is that of a write no ok write follows (or
 *                the initial value when none does): for a single-writer key,
 *                the last ok write or a later unknown one; for a key of
 *                several sessions, the ok write with the greatest (stamp,
 *                uid) or an unknown one above it when stamps are known;
 *   stamps       a session's acknowledged write has a greater (stamp, uid)
 *                than the ok writes it follows and the writes its reads
 *                observed (where both stamps are known; for single-writer
 *                keys all its earlier writes); an unknown write below them is
 *                no violation, since no replica that saw them may apply it;
 *   read-your-writes  a session's read after its own ok write w returns
 *                the value of w or of a write that may follow w;
 *   monotonic reads   a read never returns a write that precedes one an
 *                earlier read of the same session observed;
 *   reads        a read returns the value of the initial state or of an ok
 *                or unknown write (not of one issued later by the session).
 * Every rule holds in a correct run, so a violation is never a false alarm;
 * where values repeat, a read is checked against every write it may have
 * seen (it violates a rule only if all of them do).  Keys without final
 * lines get no convergence or final check.
 */
#ifndef RATINGD_HISTORY_H
#define RATINGD_HISTORY_H

#include <stdint.h>
#include <stdio.h>

typedef struct hist hist_t;

enum hist_status {
    HIST_OK,       /* acknowledged */
    HIST_FAIL,     /* definitely not applied */
    HIST_UNKNOWN,  /* may or may not be applied */
    HIST_STALE     /* refused: the rating has a later write */
};

/* One client operation: a write (halves 0 deletes) or a read (halves 0:
 * not found).  stamp, uid and the times are 0 when not known. */
typedef struct hist_op {
    const char *session;   /* copied */
    uint64_t seq;
    uint32_t user, movie;
    uint32_t halves;
    uint64_t stamp;
    uint64_t uid_origin, uid_seq;
    enum hist_status status;
    uint64_t t0, t1;
} hist_op_t;

/* What a history holds (hist_stats). */
typedef struct hist_stats {
    uint64_t ops, writes, reads, keys, sessions, finals;
} hist_stats_t;

hist_t *hist_new(void);
void hist_free(hist_t *h);

/* Record one operation or fact.  0, or -1 for a value out of range (halves
 * > 10, a read whose status is unknown or stale) or no memory. */
int hist_write(hist_t *h, const hist_op_t *op);
int hist_read(hist_t *h, const hist_op_t *op);
int hist_final(hist_t *h, uint32_t replica, uint32_t user, uint32_t movie, uint32_t halves);
int hist_initial(hist_t *h, uint32_t user, uint32_t movie, uint32_t halves);

/* One line of the log format: 0 (recorded, or a comment or empty line), or
 * -1 with a message in err. */
int hist_parse_line(hist_t *h, const char *line, char *err, size_t errlen);

/* Check every rule; one line per violation on report (NULL: none).
 * Returns the number of violations, or -1 with no memory. */
int hist_check(hist_t *h, FILE *report);
void hist_stats(const hist_t *h, hist_stats_t *out);

/* Write the history back in the log format (for a replay's record). */
void hist_dump(const hist_t *h, FILE *out);

#endif
