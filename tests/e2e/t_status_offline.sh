#!/usr/bin/env bash
# A replica that simulates failure on every request (--fail-rate 1) is reported offline, and
# the front end serves reads and writes from the others, also when it prefers that replica.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -x 1 "--fail-rate 1 --seed 1" -f "--prefer 1"

wait_for -m "status shows replica 1 offline" eval 'get_status && [[ ${ST_STATE[1]:-} == offline ]]'
assert_eq "0 1 2" "${ST_ROWS[*]:-}" "replicas in the status table"
assert_eq active "${ST_STATE[0]:-}" "state of replica 0"
assert_eq active "${ST_STATE[2]:-}" "state of replica 2"
note "status:"$'\n'"$ST_RAW"

# Directly, replica 1 refuses (service unavailable, exit 3).
assert_exit 3 cli_r 1 movie 1
assert_contains "$ERR" "rating:" "stderr of a request to an offline replica"

# Through the front end, which prefers replica 1: served by 0 or 2.
assert_exit 0 cli movie 1
assert_contains "$OUT" "title: Toy Story (1995)"
for i in 1 2 3 4 5; do
    assert_exit 0 cli rate $((970 + i)) 8 3.0
    parse_ok "$OUT"
    [[ $OK_REPLICA == 0 || $OK_REPLICA == 2 ]] || fail "update accepted by replica $OK_REPLICA, which is offline"
done
assert_exit 0 cli get 975 8
assert_eq 3.0 "$OUT" "read back through the front end"

# With replica 0 gone too, replica 2 alone serves.
kill9_replica 0
assert_exit 0 cli rate 980 8 2.0
parse_ok "$OUT"
assert_eq 2 "$OK_REPLICA" "the only replica up and online"
assert_exit 0 cli get 980 8
assert_eq 2.0 "$OUT" "read back"
wait_for -m "status shows 0 unreachable, 1 offline, 2 active" \
    eval 'get_status && [[ ${ST_STATE[0]:-} == unreachable && ${ST_STATE[1]:-} == offline && ${ST_STATE[2]:-} == active ]]'
