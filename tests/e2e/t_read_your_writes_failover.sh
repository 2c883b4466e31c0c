#!/usr/bin/env bash
# Read-your-writes and monotonic reads across a failover.  Gossip is effectively off (every
# 10 minutes) so that exactly one replica has each new write: a session that saw it must get
# it or "unavailable" (exit 3), never the older value, wherever its read is sent.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -g 600000 -f "--prefer 0 --wait $((3000 * E2E_SCALE))"
S="$T/session"

# User 1 rated movie 1 4.0 and movie 3 4.0 in the data set.
assert_exit 0 cli -s "$S" get 1 1
assert_eq 4.0 "$OUT" "initial rating"
assert_exit 0 cli -s "$S" update 1 1 2.0
parse_ok "$OUT"
W=$OK_REPLICA
assert_eq 0 "$W" "replica that accepted the update (the front end prefers 0)"
A=1 B=2
# The premise: the others have not got it (no gossip), so a session-less read there is old.
for k in $A $B; do
    assert_exit 0 cli_r "$k" get 1 1
    assert_eq 4.0 "$OUT" "session-less read at replica $k (premise: no gossip yet)"
done
assert_exit 0 cli -s "$S" get 1 1
assert_eq 2.0 "$OUT" "the session reads its write"

# Monotonic reads: session 2 reads a write that only replica A has; a replica that lacks it
# must not serve that session the older value afterwards.
assert_exit 0 cli_r $A update 1 3 1.5
parse_ok "$OUT"
assert_eq $A "$OK_REPLICA" "replica that accepted a direct update"
S2="$T/session2"
assert_exit 0 cli_r $A -s "$S2" get 1 3
assert_eq 1.5 "$OUT" "session 2 reads at replica $A"
assert_exit 0 cli_r $B get 1 3
assert_eq 4.0 "$OUT" "session-less read at replica $B (premise: it lacks the update)"
assert_exit 3 cli_r $B -s "$S2" get 1 3
assert_not_contains "$OUT" "4.0" "session 2 read directly at replica $B"
assert_exit 3 env RATING_SESSION="$S2" "$BIN/rating" -r "127.0.0.1:$((PROG_BASE + B))" get 1 3
assert_not_contains "$OUT" "4.0" "session 2 (from RATING_SESSION) read directly at replica $B"
# Through the front end (which prefers 0, which lacks it too) the session gets the new value.
assert_exit 0 cli -s "$S2" get 1 3
assert_eq 1.5 "$OUT" "session 2 through the front end"

# The writer of session 1 dies.  The session has seen 2.0; the others only have 4.0.
kill9_replica "$W"
assert_exit 3 cli -s "$S" get 1 1
assert_not_contains "$OUT" "4.0" "session 1 read through the front end after the writer died"
assert_contains "$ERR" "rating:" "stderr of an unavailable read"
assert_exit 3 cli_r $A -s "$S" get 1 1
assert_not_contains "$OUT" "4.0" "session 1 read directly at replica $A"
# Session 2 only needs replica A, which is up.
assert_exit 0 cli -s "$S2" get 1 3
assert_eq 1.5 "$OUT" "session 2 through the front end with replica $W down"

# The writer comes back (same data dir) with fast gossip while a read of session 1 waits in
# the front end: the read returns the new value once a replica has it (its update survived
# the kill -9), and later reads never return the old value.
t0=$(_now_ms)
cli -s "$S" get 1 1 >"$T/waiting.out" 2>"$T/waiting.err" &
reader=$!
sleep 0.5    # let the read reach the front end's waiting (not an assertion)
restart_replica "$W" --gossip-ms 200
wait "$reader"
rc=$?
waited=$(( $(_now_ms) - t0 ))
note "the waiting read returned exit $rc after $waited ms: '$(<"$T/waiting.out")' $(<"$T/waiting.err")"
assert_eq 0 "$rc" "exit status of the read that waited for the writer's return"
assert_eq 2.0 "$(<"$T/waiting.out")" "the read that waited"
seen_new() {
    local o
    o=$(cli -s "$S" get 1 1 2>/dev/null)
    if [[ $o == 4.0 ]]; then echo "old value" >"$T/old"; return 0; fi
    [[ $o == 2.0 ]]
}
wait_for -m "session 1 reads 2.0 through the front end" seen_new
[[ -e $T/old ]] && fail "the front end returned the old value 4.0 to a session that had written 2.0"
for k in 0 1 2; do
    wait_for -m "replica $k has 1/1 = 2.0" replica_has "$k" 1 1 2.0
    wait_for -m "replica $k has 1/3 = 1.5" replica_has "$k" 1 3 1.5
done
assert_converged
