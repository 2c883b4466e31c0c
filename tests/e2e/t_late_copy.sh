#!/usr/bin/env bash
# Bug 1 of issue 10: a late copy of an update undoes later writes.  Three ways to get two
# copies of one update id at two replicas, each followed by a write that must win:
#   A  replica 0 is stopped (SIGSTOP: a slow disk looks the same) while it holds a request;
#      the front end times out and sends the same update id to another replica, which
#      acknowledges; the client deletes the rating; replica 0 resumes and applies its copy.
#   B  the same, and another client's update after it in place of the delete.
#   C  no stall: a client repeats a command (same --uid, as the CLI tells it to when the
#      outcome is unknown) at another replica, after a delete of the rating.
# In each, once the replicas have gossiped, every replica must hold the later write (deleted,
# or the other client's value) and the replicas must agree.  Before the fix every replica ends
# with the late copy's value: the acknowledged delete or update is lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

# Each case's loss is collected, so that one run shows all three.
lost=()

# ---- C: the client's repeat, no stall (gossip off until the end of the case) -------------
start_cluster 3 -g 600000 -n
# First copy at replica 0 (its answer "lost").  The id to repeat is the one the CLI prints
# when an outcome is unknown, ORIGIN:SEQ:STAMP: the first copy is sent with that one.
REPEAT=4711:1:$(date +%s%3N)
run cli_r 0 --uid "$REPEAT" rate 70003 1 1.0
assert_eq 0 "$RC" "the first copy of 70003/1 at replica 0 ($ERR)"
assert_exit 0 cli_r 0 delete 70003 1
note "client repeats --uid $REPEAT at replica 1, which has not seen the first copy"
run cli_r 1 --uid "$REPEAT" rate 70003 1 1.0
note "the repeat at replica 1: rc=$RC"
for k in 0 1 2; do stop_replica "$k"; done
for k in 0 1 2; do start_replica "$k" --gossip-ms 200; done
start_fe --timeout 1000
sleep 2
assert_converged
for k in 0 1 2; do
    run cli_r "$k" get 70003 1
    [[ $RC == 1 ]] || lost+=("C replica $k: 70003/1 = '$OUT', not deleted")
done

# ---- A and B: the front end's resend from a stopped replica --------------------------------
c1() { cli -s "$T/c1.session" "$@"; }
assert_exit 0 c1 rate 70000 2 2.0
parse_ok_id "$OUT"
assert_eq 0 "$OK_REPLICA" "premise: the front end prefers replica 0"
for k in 1 2; do wait_for -m "replica $k has 70000/2 (the session's timestamp)" replica_has "$k" 70000 2 2.0; done

# A: delete after the resend.
kill -STOP "${REPL_PID[0]}"
assert_exit 0 c1 rate 70001 1 1.0
parse_ok_id "$OUT"
assert_ne 0 "$OK_REPLICA" "premise: the update was sent on to another replica"
assert_exit 0 c1 delete 70001 1
assert_exit 1 c1 get 70001 1

kill -CONT "${REPL_PID[0]}"
sleep 2   # a few gossip intervals
assert_converged
for k in 0 1 2; do
    run cli_r "$k" get 70001 1
    [[ $RC == 1 ]] || lost+=("A replica $k: 70001/1 = '$OUT', not deleted")
done

# B: another client's update after the resend (straight at replica 1, so that no copy of it
# waits at replica 0).  A new front end: the old one avoids replica 0 for a while.
stop_fe
start_fe --timeout 1000
assert_exit 0 c1 update 70000 2 2.5
parse_ok_id "$OUT"
assert_eq 0 "$OK_REPLICA" "premise: the new front end prefers replica 0"
for k in 1 2; do wait_for -m "replica $k has 70000/2 = 2.5" replica_has "$k" 70000 2 2.5; done
kill -STOP "${REPL_PID[0]}"
assert_exit 0 c1 rate 70002 1 1.0
parse_ok_id "$OUT"
assert_ne 0 "$OK_REPLICA" "premise: the update was sent on to another replica"
wait_for -m "replica 1 has 70002/1" replica_has 1 70002 1 1.0
assert_exit 0 cli_r 1 -s "$T/c2.session" update 70002 1 4.0
kill -CONT "${REPL_PID[0]}"
sleep 2
assert_converged
for k in 0 1 2; do
    run cli_r "$k" get 70002 1
    [[ $RC == 0 && $OUT == 4.0 ]] || lost+=("B replica $k: 70002/1 = '$OUT', not 4.0")
done
((${#lost[@]} == 0)) || fail "acknowledged writes undone by a late copy of an earlier update: $(printf '%s; ' "${lost[@]}")"
