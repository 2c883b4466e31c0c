#!/usr/bin/env bash
# A replica whose database is deleted rejoins: it copies a peer's state by snapshot transfer
# (docs/algorithm.md), keeps the updates it had accepted before the wipe (from its peers), never
# reuses one of its own sequence numbers, and converges to the same digest as the others.
. "$(dirname "$0")/lib.sh"

start_cluster 3

# Updates accepted at every replica, including replica 2's own, then gossiped everywhere.
assert_exit 0 cli_r 0 rate 950 1 4.5
assert_exit 0 cli_r 2 rate 951 1 2.0
parse_ok "$OUT"
assert_eq "0,0,1" "$OK_TS" "ts of replica 2's first update"
assert_exit 0 cli_r 1 add-movie 952 3.5 "Rejoin Film (2026)" "Drama"
NEW=$OUT
for k in 0 1 2; do
    wait_for -m "replica $k has the new movie" replica_has "$k" 952 "$NEW" 3.5
    wait_for -m "replica $k has 951/1" replica_has "$k" 951 1 2.0
done

# Wipe replica 2 while the others take more updates.
kill9_replica 2
rm -f "$DATA"/replica-2.db "$DATA"/replica-2.db-wal "$DATA"/replica-2.db-shm
assert_exit 0 cli_r 0 rate 953 1 1.0
assert_exit 0 cli_r 1 delete 950 1

start_replica 2
wait_for -m "replica 2 logs that it joined from a peer" grep -q "joined from replica" "$T/replica-2.log"
# It has everything at once, from the snapshot and the first gossip exchanges.
wait_for -m "replica 2 has 953/1" replica_has 2 953 1 1.0
wait_for -m "replica 2 lost 950/1" replica_lacks 2 950 1
assert_exit 0 cli_r 2 get 951 1
assert_eq 2.0 "$OUT" "replica 2's own update from before the wipe"
assert_exit 0 cli_r 2 movie "$NEW"
assert_contains "$OUT" "title: Rejoin Film (2026)"

# Its next update continues its own sequence (2, not 1 again) and reaches everyone.
assert_exit 0 cli_r 2 rate 954 1 5.0
parse_ok "$OUT"
assert_match "$OK_TS" '^[0-9]+,[0-9]+,2$' "ts of replica 2's first update after rejoining"
for k in 0 1; do
    wait_for -m "replica $k has 954/1" replica_has "$k" 954 1 5.0
done
wait_for -m "all replicas converge" converged
assert_converged
