#!/usr/bin/env bash
# Fault class of issue 10: processes paused with SIGSTOP and resumed with SIGCONT while
# clients write -- a replica (its requests wait in its socket buffers, the front end times out
# and sends them elsewhere, the paused one applies them when it resumes), the front end, and
# both at once.  Four sessions (two through the front end, one at replica 1, one at replica 2)
# write their own keys and three shared ones; the history must pass histcheck: no
# acknowledged write lost, one final value everywhere that fits the acknowledged order,
# read-your-writes, monotonic reads.  FAULT_PAUSE_S (2) is how long each pause lasts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

PAUSE_S=${FAULT_PAUSE_S:-2}
start_cluster 3 -f "--timeout 700 --wait 4000"
hist_init
load_start a 75000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 75100 -H 127.0.0.1 -P "$FE_PROG"
load_start c 75200 -r "127.0.0.1:$((PROG_BASE + 1))"
load_start d 75300 -r "127.0.0.1:$((PROG_BASE + 2))"
load_wait_acks 20

pause() {   # WHAT PID...
    local what=$1 p t0
    shift
    t0=$(_now_ms)
    for p in "$@"; do kill -STOP "$p"; done
    note "-- paused $what"
    sleep "$PAUSE_S"
    for p in "$@"; do kill -CONT "$p"; done
    note "-- resumed $what: $(hist_acks "$t0") writes acknowledged meanwhile"
}
t_r0=$(_now_ms)
pause "replica 0" "${REPL_PID[0]}"
during_r0=$(hist_acks "$t_r0" $((t_r0 + PAUSE_S * 1000)))
load_wait_acks 10
pause "the front end" "$FE_PID"
load_wait_acks 10
pause "replica 1 and the front end" "${REPL_PID[1]}" "$FE_PID"
load_wait_acks 10
# The last pause ends the load: what the paused replica applies when it resumes is not
# overwritten by later writes, so a late copy that wins shows in the final values.
pause "replica 0 again" "${REPL_PID[0]}"
load_stop
assert_int_ge 1 "$during_r0" "writes acknowledged by the others while replica 0 was paused"
hist_settle
