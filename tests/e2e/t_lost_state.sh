#!/usr/bin/env bash
# Bug 2 of issue 10: a replica that lost state must not hand out its sequence numbers again.
# As the issue tells it: replica 1 down; replica 2 acknowledges 5 writes that only replica 0
# receives; replica 2's data directory is wiped; replica 0 stops; replica 1 and then replica 2
# restart (replica 2 rejoins by snapshot from replica 1, which knows none of its 5 updates).
# Replica 2 must then be `recovering`: refuse updates (the front end sends them elsewhere)
# while replica 0, which holds its updates, is away -- before the fix it takes them, with
# timestamps [0,1,1].. again, and the cluster diverges forever.  Once replica 0 is back,
# replica 2 takes its 5 updates back, its next update is numbered above 5, and everybody
# converges with every acknowledged write.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

start_cluster 3
assert_exit 0 cli_r 1 rate 73000 1 3.0
for k in 0 2; do wait_for -m "replica $k has replica 1's update" replica_has "$k" 73000 1 3.0; done

stop_replica 1
for i in 1 2 3 4 5; do
    assert_exit 0 cli_r 2 rate $((73100 + i)) 1 2.0
    parse_ok_id "$OUT"
    assert_eq "$i" "$(ts_entry "$OK_TS" 2)" "replica 2's sequence number of its update $i"
done
for i in 1 2 3 4 5; do wait_for -m "replica 0 has 7310$i/1" replica_has 0 $((73100 + i)) 1 2.0; done

# The wipe: everything replica 2 had in the data directory.
kill9_replica 2
rm -f "$DATA"/replica-2.db "$DATA"/replica-2.db-wal "$DATA"/replica-2.db-shm "$DATA"/replica-2.lock
stop_replica 0
start_replica 1
start_replica -r 2
wait_for -m "replica 2 joined from replica 1 (premise)" grep -q "joined from replica 1" "$T/replica-2.log"

# Replica 2 knows 0 of its own 5 updates; the only peer that has them is away.
sleep 1
st=$(state_of 2)
reused=""
for i in 1 2 3; do
    run cli_r 2 rate $((73200 + i)) 1 4.0
    if [[ $RC == 0 ]]; then
        parse_ok_id "$OUT"
        reused+=" [$OK_TS]"
    else
        assert_eq 3 "$RC" "exit status of an update at recovering replica 2"
        assert_contains "$ERR" recovering "the refusal of an update at replica 2"
    fi
done
[[ -z $reused ]] || fail "replica 2 (state '$st') took updates while it lacks its own sequence numbers 1..5: timestamps$reused"
assert_eq recovering "$st" "replica 2's state while replica 0 is away"
# The front end sends updates elsewhere meanwhile.
assert_exit 0 cli rate 73300 1 4.5
parse_ok_id "$OUT"
assert_ne 2 "$OK_REPLICA" "the replica the front end chose while replica 2 recovers"
assert_eq recovering "$(state_of 2)" "replica 2's state, a while later, replica 0 still away"

start_replica 0
wait_for -m "replica 2 recovered (active)" eval '[[ $(state_of 2) == active ]]'
for i in 1 2 3 4 5; do
    wait_for -m "replica 2 has its own update 7310$i/1 back" replica_has 2 $((73100 + i)) 1 2.0
done
assert_exit 0 cli_r 2 rate 73400 1 5.0
parse_ok_id "$OUT"
seq2=$(ts_entry "$OK_TS" 2)
assert_int_ge 6 "$seq2" "replica 2's sequence number of its first update after recovering"
assert_converged
for k in 0 1 2; do
    for i in 1 2 3 4 5; do
        assert_exit 0 cli_r "$k" get $((73100 + i)) 1
        assert_eq 2.0 "$OUT" "replica $k: 7310$i/1"
    done
    for u in 73000:3.0 73300:4.5 73400:5.0; do
        assert_exit 0 cli_r "$k" get "${u%%:*}" 1
        assert_eq "${u##*:}" "$OUT" "replica $k: ${u%%:*}/1"
    done
done
