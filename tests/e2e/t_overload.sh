#!/usr/bin/env bash
# Overload, as the original system had it: a replica with more than --overload own updates
# waiting for gossip reports itself overloaded (STATUS, a log line), refuses new updates with
# RT_OVERLOADED (the client says so and exits 3), still answers queries, and the front end
# sends updates elsewhere meanwhile.  Once its gossip gets through it is active again.
#
# Replica 0's gossip cannot get through because it has another key than replicas 1 and 2
# (they refuse it), so its updates stay pending however often it gossips.
. "$(dirname "$0")/lib.sh"

printf 'the key of this test cluster, 42\n' >"$T/good.key"
printf 'replica 0 has the wrong one!!!!!\n' >"$T/bad.key"
chmod 600 "$T/good.key" "$T/bad.key"
start_cluster 3 -x 0 "--key-file $T/bad.key --overload 3" -x 1 "--key-file $T/good.key" \
    -x 2 "--key-file $T/good.key" -f "--prefer 0"

# Three updates at replica 0 are accepted (3 pending is not more than 3), the fourth too
# (it makes 4), the fifth is refused.
for u in 1 2 3 4; do
    assert_exit 0 cli_r 0 rate $((940 + u)) 1 3.0
done
wait_for -m "replica 0 logs that it is overloaded" \
    grep -q "warn replica0: overloaded: 4 own updates wait for gossip (threshold 3)" "$T/replica-0.log"
assert_exit 3 cli_r 0 rate 945 1 3.0
assert_contains "$ERR" "overloaded" "the client's message for an overloaded replica"
assert_exit 1 cli_r 0 get 945 1
assert_exit 0 cli_r 0 get 941 1
assert_eq 3.0 "$OUT" "an overloaded replica still answers queries"

wait_for -m "status shows replica 0 overloaded" eval 'get_status && [[ ${ST_STATE[0]:-} == overloaded ]]'
assert_eq active "${ST_STATE[1]:-}" "state of replica 1"
assert_eq 4 "${ST_PENDING[0]:-}" "pending updates at replica 0"

# The front end prefers replica 0 but sends the update to another.
assert_exit 0 cli rate 946 1 2.5
parse_ok "$OUT"
[[ $OK_REPLICA != 0 ]] || fail "the overloaded replica 0 accepted an update through the front end"
assert_exit 0 cli movie 1

# With the cluster's key its updates leave, and it is active again.
stop_replica 0
start_replica 0 --key-file "$T/good.key"
wait_for -m "replica 0 is active again" eval 'get_status && [[ ${ST_STATE[0]:-} == active ]]'
wait_for -m "replica 0 logs the end of its overload" \
    grep -q "info replica0: no longer overloaded" "$T/replica-0.log"
for u in 1 2 3 4; do
    wait_for -m "replica 2 has $((940 + u))/1" replica_has 2 $((940 + u)) 1 3.0
done
wait_for -m "replica 0 has 946/1" replica_has 0 946 1 2.5
assert_converged
