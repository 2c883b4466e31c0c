#!/usr/bin/env bash
# Fault class of issue 10: the disk fills up under a write load.  Replica 2's data directory
# is a 4 MiB tmpfs in a private mount namespace (nobody else sees it); midway a file fills it.
# The replica must stop or refuse -- never acknowledge an update it could not commit -- and
# go on (or start again) once there is room: then it catches up, and the whole history passes
# histcheck.  A kill -9 while the disk is full is part of it: what it acknowledged before must
# survive.  Root only (mount).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"
need_root "a tmpfs in a private mount namespace"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "unshare/nsenter not found (util-linux)"

SMALL=$T/small
mkdir -p "$SMALL"
start_cluster 3
# The namespace lives as long as its holder; replica 2 runs in it (nsenter execs: same pid).
unshare -m --propagation private sh -c "mount -t tmpfs -o size=4m tmpfs '$SMALL' && exec sleep 3600" \
    </dev/null >>"$T/holder.log" 2>&1 &
HOLDER=$!
E2E_PIDS+=("$HOLDER")
wait_for -m "the tmpfs is mounted in the holder's namespace" \
    eval 'nsenter -t "$HOLDER" -m -- findmnt -n "$SMALL" >/dev/null'
in_small() { nsenter -t "$HOLDER" -m -- "$@"; }
start_small() { local saved=${E2E_WRAP:-}; E2E_WRAP="nsenter -t $HOLDER -m -- $saved"; start_replica 2 --data-dir "$SMALL"; E2E_WRAP=$saved; }
stop_replica 2
start_small     # a new database there (the cluster is new: it imports the data set)

hist_init
LOAD_GIVEUP_S=30
load_start a 78000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 78100 -r "127.0.0.1:$((PROG_BASE + 2))"
load_start c 78200 -r "127.0.0.1:$((PROG_BASE + 2))"
load_wait_acks 30
before=$(hist_acks 0 99999999999999 2)
assert_int_ge 1 "$before" "writes acknowledged by replica 2 before the disk filled"

in_small sh -c "cat /dev/zero >'$SMALL/filler'" 2>/dev/null
t_full=$(_now_ms)
note "-- replica 2's disk is full: $(in_small df -k "$SMALL" | tail -n 1)"
sleep 3
pid2=${REPL_PID[2]}
full_acks=$(hist_acks "$t_full" 99999999999999 2)
if alive "$pid2"; then
    note "replica 2 still runs: $full_acks writes acknowledged while the disk was full (possible only where SQLite had room), $(grep -c 'disk is full' "$T/replica-2.log") commits refused"
else
    reap "$pid2" 1
    REPL_PID[2]=""
    note "replica 2 stopped (exit status $REAPED): $(tail -n 2 "$T/replica-2.log" | tr '\n' ' ')"
fi
# A crash with the disk full; then room again.
if [[ -n ${REPL_PID[2]} ]]; then kill9_replica 2; fi
in_small rm -f "$SMALL/filler"
start_small
load_wait_acks 20
load_stop
hist_settle
note "replica 2 acknowledged $before writes before the disk filled and $full_acks while it was full"
