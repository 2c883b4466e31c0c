#!/usr/bin/env bash
# Anti-entropy repair (docs/algorithm.md): two replicas whose data diverged at equal value
# timestamps -- rows changed with the sqlite3 tool while they were stopped, their digests
# marked stale -- are told apart by `rating status` (equal timestamps, different digests, a
# "divergence:" line), stay apart under gossip alone, and are repaired by the periodic digest
# comparison once it is on: equal digests, and every key holds the value last-writer-wins gives.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (scripts/setup.sh installs it)"

start_cluster 2 -x 0 "--repair-ms 0" -x 1 "--repair-ms 0"
assert_exit 0 cli rate 900 1 2.0
assert_exit 0 cli rate 901 2 3.0
assert_converged

# Divergence of every kind, on both sides, at the same value timestamp.
stop_replica 0
stop_replica 1
sql() { sqlite3 "$DATA/replica-$1.db" "$2; DELETE FROM meta WHERE key = 'digests';" || fail "sqlite3 on replica $1"; }
# replica 0: a later value for (1,1), a lost row (6,2), a later delete of (900,1), a title
sql 0 "UPDATE ratings SET halves = 9, stamp = stamp + 1000 WHERE user = 1 AND movie = 1;
       DELETE FROM ratings WHERE user = 6 AND movie = 2;
       UPDATE ratings SET halves = 0, stamp = stamp + 1 WHERE user = 900 AND movie = 1;
       UPDATE movies SET title = 'Waiting to Exhale, Twice (1995)' WHERE movie = 4"
# replica 1: an earlier value for (1,1), a later one for (6,3), the same write as (901,2)
# with other halves (damage: the higher wins), a row only here (7,2)
sql 1 "UPDATE ratings SET halves = 2, stamp = stamp + 500 WHERE user = 1 AND movie = 1;
       UPDATE ratings SET halves = 3, stamp = stamp + 2000 WHERE user = 6 AND movie = 3;
       UPDATE ratings SET halves = 10 WHERE user = 901 AND movie = 2;
       INSERT INTO ratings VALUES (7, 2, 7, 1, 0, 0)"
start_replica 0
start_replica 1

both_active() { get_status && [[ ${ST_STATE[0]:-} == active && ${ST_STATE[1]:-} == active ]]; }
wait_for -m "the front end reaches both replicas again" both_active
assert_eq "${ST_VTS[0]}" "${ST_VTS[1]}" "value timestamps (no update was made)"
assert_ne "${ST_DIGEST[0]}" "${ST_DIGEST[1]}" "digests of the diverged replicas"
assert_contains "$ST_DIVERGENCE" "divergence: replicas 0 and 1 have value_ts ${ST_VTS[0]}" \
    "status line"
# Gossip alone never finds it: nothing is in flight.
sleep $((E2E_SCALE))
wait_for -m "the front end reaches both replicas" both_active
assert_ne "${ST_DIGEST[0]}" "${ST_DIGEST[1]}" "digests after gossip alone"

# Repair on at replica 1: its next round with replica 0 finds and merges the rows.
stop_replica 1
start_replica 1 --repair-ms 300
assert_converged
assert_eq "" "$ST_DIVERGENCE" "divergence line after the repair"
wait_for -m "replica 1 logs the repair" grep -q "repair with replica 0: .* owners differed" \
    "$T/replica-1.log"
for k in 0 1; do
    replica_has "$k" 1 1 4.5 || fail "replica $k: (1,1) is not the later write 4.5"
    replica_has "$k" 6 2 4.0 || fail "replica $k: (6,2), lost at replica 0, is not back"
    replica_lacks "$k" 900 1 || fail "replica $k: (900,1) is not deleted"
    replica_has "$k" 6 3 1.5 || fail "replica $k: (6,3) is not replica 1's later write"
    replica_has "$k" 901 2 5.0 || fail "replica $k: (901,2) is not the higher of one write"
    replica_has "$k" 7 2 3.5 || fail "replica $k: (7,2) is not there"
    assert_exit 0 cli_r "$k" movie 4
    assert_contains "$OUT" "title: Waiting to Exhale, Twice (1995)" "replica $k's movie 4"
done
# The movies' counts follow the merged ratings.
assert_exit 0 cli_r 0 movie 2
m0=$OUT
assert_exit 0 cli_r 1 movie 2
assert_eq "$m0" "$OUT" "movie 2 (its average and count) at both replicas"
# And repair stays quiet: a new write, gossip, equal digests, nothing to repair.
assert_exit 0 cli rate 902 3 4.0
assert_converged
