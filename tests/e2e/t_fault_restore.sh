#!/usr/bin/env bash
# Fault class of issue 10: a backup restored under a write load.  While sessions write (one
# of them straight at replica 2), replica 2's database is copied with `sqlite3 .backup`; more
# writes; replica 2 is stopped, the copy put back, and it starts again while the load goes
# on.  The cluster must converge with every acknowledged write, and the history pass
# histcheck (t_restore_backup is the same without load, step by step).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

start_cluster 3
hist_init
LOAD_GIVEUP_S=30
load_start a 79000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 79100 -r "127.0.0.1:$((PROG_BASE + 2))"
load_start c 79200 -r "127.0.0.1:$((PROG_BASE + 1))"
load_wait_acks 20
sqlite3 "$DATA/replica-2.db" ".backup '$T/bak.db'" || fail "sqlite3 .backup failed"
t_bak=$(_now_ms)
note "-- backup of replica 2 taken"
load_wait_acks 30
lost_by_restore=$(hist_acks "$t_bak" 99999999999999 2)
stop_replica 2
cp "$T/bak.db" "$DATA/replica-2.db"
rm -f "$DATA/replica-2.db-wal" "$DATA/replica-2.db-shm"
note "-- replica 2 restored from the backup: it lacks the $lost_by_restore writes it acknowledged since"
start_replica 2
load_wait_acks 30
load_stop
hist_settle
