#!/usr/bin/env bash
# A replica killed with -9 misses updates while it is down; restarted on the same data dir it
# catches up by gossip: every update readable from it, digest equal to the others'.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -f "--prefer 0"
assert_converged
digest0=${ST_DIGEST[0]:-}

kill9_replica 2
wait_for -m "status reports replica 2 unreachable" eval 'get_status && [[ ${ST_STATE[2]:-} == unreachable ]]'
assert_eq active "${ST_STATE[0]:-}" "state of replica 0"
assert_eq active "${ST_STATE[1]:-}" "state of replica 1"

# While 2 is down: five new ratings, an update and a delete of ratings it has.
vals=(0.5 1.5 2.5 3.5 5.0)
for i in 0 1 2 3 4; do
    assert_exit 0 cli rate $((910 + i)) 5 "${vals[$i]}"
    parse_ok "$OUT"
    [[ $OK_REPLICA != 2 ]] || fail "replica 2 is dead but accepted an update"
done
assert_exit 0 cli update 1 6 1.0      # was 4.0
assert_exit 0 cli delete 1 3          # was 4.0
assert_exit 3 cli_r 2 -t 1000 get 1 3   # nobody there
assert_converged 0 1
[[ ${ST_DIGEST[0]:-} != "$digest0" ]] || fail "the digest did not change after 7 updates"
assert_eq 107 "${ST_RATINGS[0]:-}" "ratings at replica 0 (103 + 5 - 1)"

# More than one gossip message holds (RT_MAX_RECORDS is 512): 600 ratings in one shell
# session through the front end.
for u in $(seq 5000 5599); do echo "rate $u 11 2.5"; done >"$T/many"
run cli shell <"$T/many"
assert_eq 0 "$RC" "exit status of the shell"
assert_eq 600 "$(grep -c '^ok replica=[01] ' <<<"$OUT")" "updates acknowledged by replicas 0 and 1"
assert_eq "" "$ERR" "errors from the shell"

# A database is tied to its replica id and count: refused with 4 replicas.
run timeout 20 "$BIN/ratingd" --id 2 --nreplicas 4 --replica-base "$PROG_BASE" --data-dir "$DATA" \
    --movielens "$DATASET"
assert_eq 1 "$RC" "exit status of ratingd on a database made for 3 replicas"
assert_contains "$ERR" "ratingd:" "its message"

restart_replica 2
for i in 0 1 2 3 4; do
    wait_for -m "replica 2 has rating $((910 + i))/5" replica_has 2 $((910 + i)) 5 "${vals[$i]}"
done
wait_for -m "replica 2 has the update of 1/6" replica_has 2 1 6 1.0
wait_for -m "replica 2 lost the deleted 1/3" replica_lacks 2 1 3
assert_converged
for k in 0 1 2; do
    assert_eq 707 "${ST_RATINGS[$k]:-}" "ratings at replica $k (103 + 5 - 1 + 600)"
done
assert_eq "${ST_DIGEST[0]:-}" "${ST_DIGEST[2]:-}" "digest of replica 2 vs replica 0"
assert_exit 0 cli_r 2 movie 5
assert_contains "$OUT" "ratings: 9" "movie 5 at replica 2 (4 imported + 5 new)"
assert_exit 0 cli_r 2 movie 11
assert_contains "$OUT" "ratings: 608" "movie 11 at replica 2 (8 imported + 600 new)"
assert_exit 0 cli_r 2 get 5599 11
assert_eq 2.5 "$OUT" "the last of the 600 at replica 2"
