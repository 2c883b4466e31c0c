#!/usr/bin/env bash
# Run last.  A clean shutdown unregisters: SIGTERM makes every server exit 0 and leave
# rpcbind.  Then: nothing the earlier tests of this run started is still alive, and none of
# the program numbers they allocated is still registered.
. "$(dirname "$0")/lib.sh"

start_cluster 3
assert_exit 0 cli rate 990 9 4.5
stop_fe
is_registered "$FE_PROG" && fail "the front end is still registered after SIGTERM"
for k in 2 1; do
    stop_replica "$k"        # asserts exit 0 and that the program is no longer registered
done
# SIGINT is a clean shutdown too.
kill -INT "${REPL_PID[0]}"
reap "${REPL_PID[0]}" $((10 * E2E_SCALE)) || fail "ratingd 0 did not exit after SIGINT"
REPL_PID[0]=""
exit_ok "$REAPED" "$T/replica-0.log" || fail "ratingd 0 exited $REAPED after SIGINT (expected 0)"
is_registered "$PROG_BASE" && fail "ratingd 0 still registered after SIGINT"
# The last replica to stop had the update (SIGTERM runs a last gossip round).
start_replica 0
assert_exit 0 cli_r 0 get 990 9
assert_eq 4.5 "$OUT" "the update after a clean restart"
stop_replica 0

[[ -n $E2E_RUN_DIR ]] || skip "not run by run.sh: no ledger of the run"
# Processes of earlier tests (this one's own are stopped above).
p=""
for pid in $(_tagged_pids "$E2E_RUN_TAG/"); do
    [[ -r /proc/$pid/environ ]] || continue
    p+="$pid:$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | head -c 80); "
done
[[ -z $p ]] || fail "processes of earlier tests still alive: $p"
reg=$(registered_progs)
n=0
left=""
while read -r prog; do
    [[ -n $prog ]] || continue
    n=$((n + 1))
    grep -qx "$prog" <<<"$reg" && left+="$prog "
done < <(sort -u "$E2E_RUN_DIR/progs")
[[ -z $left ]] || fail "allocated programs still registered: $left"
note "checked $n allocated program numbers and the processes of the run"
