#!/usr/bin/env bash
# Scenario 7 (issue 10's fault classes across hosts): pauses and a skewed clock under a write
# load whose history histcheck checks.  The replica on host 3 runs an hour ahead (libfaketime,
# wall clock only).  Four sessions on the client host: two through the front end, one
# straight at host 1's replica, one at host 3's.  Then, in turn: host 1's replica paused with
# SIGSTOP (the front end's calls to it time out and go elsewhere; it applies what waited when
# it resumes), the front end paused, both at once, host 3's clock jumped back two hours, and
# host 1's replica paused again at the very end (a late copy that wins stays visible).
. "$(dirname "$0")/lib.sh"
cluster_init
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[[ -f $FAKETIME_LIB ]] || skip "no $FAKETIME_LIB (scripts/setup.sh installs faketime)"

cluster_up
# Host 3's replica again, under a fake clock it rereads from a file.
replica_stop 3
echo +1h >"$T/h3/clock"
nsenter -t "${HOLDER[3]}" -m -n -- env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$T/h3/clock" \
    FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    "$BIN/ratingd" --id 2 --replicas "$SPEC" --listen "${HOST_ADDR[3]}" --data-dir "$T/h3/data" \
    --movielens "$DATASET" --key-file "$T/h3/key" --gossip-ms "$GOSSIP_MS" --timeout "$PEER_MS" \
    </dev/null >>"$T/h3/replica.log" 2>&1 &
REPL_PID[3]=$!
_wait_replica 3
note "host 3: replica 2 (pid ${REPL_PID[3]}) runs an hour ahead"

cl_hist_init
cl_load_start a 81000 -H "${HOST_ADDR[c]}" -P "$FE_PROG"
cl_load_start b 81100 -H "${HOST_ADDR[c]}" -P "$FE_PROG"
cl_load_start c 81200 -r "${HOST_ADDR[1]}:$PROG"
cl_load_start d 81300 -r "${HOST_ADDR[3]}:$PROG"
cl_load_wait_acks 20

pause() {   # WHAT SECS PID...
    local what=$1 secs=$2 p t0
    shift 2
    t0=$(now_ms)
    for p in "$@"; do kill -STOP "$p"; done
    mark "paused $what"
    sleep "$secs"
    for p in "$@"; do kill -CONT "$p"; done
    mark "resumed $what"
    note "$(hist_acks "$t0") writes acknowledged while $what was paused"
}
pause "replica 0 (host 1)" 2 "${REPL_PID[1]}"
cl_load_wait_acks 10
pause "the front end" 2 "${FE_PID[fe]}"
cl_load_wait_acks 10
pause "replica 0 and the front end" 2 "${REPL_PID[1]}" "${FE_PID[fe]}"
cl_load_wait_acks 10
echo -1h >"$T/h3/clock"
mark "host 3's clock jumped back two hours"
cl_load_wait_acks 20
pause "replica 0 (host 1), at the end" 2 "${REPL_PID[1]}"
cl_load_stop
servers_alive
assert_converged 60
cl_hist_finals
hist_check
