#!/usr/bin/env bash
# A replica restored from a backup whose later updates every peer has, and has discarded from
# its log (docs/algorithm.md, "No sequence number twice"): the replica finds out from its data
# directory's mark before it accepts an update, recovers, cannot take its records back from any
# log, so copies the state of the peer that holds the most of them while running, and then numbers
# its next update above every one it ever used.  Without the rule it handed out its numbers again
# and the replicas diverged for good (issue 10, bug 3).
. "$(dirname "$0")/lib.sh"

start_cluster 3

assert_exit 0 cli_r 2 rate 980 1 4.5
wait_for -m "every replica has 980/1" converged
# A backup of the running replica (a consistent copy: sqlite3's .backup).
sqlite3 "$DATA/replica-2.db" ".backup '$T/bak.db'" || fail "sqlite3 .backup failed"
for u in 981 982 983; do
    assert_exit 0 cli_r 2 rate "$u" 1 3.0
done
parse_ok "$OUT"
assert_eq "0,0,4" "$OK_TS" "ts of replica 2's fourth update"
# Every replica has them, and has dropped them from its log (known everywhere).
wait_for -m "converged with replica 2's updates" converged
wait_for -m "replica 0's log is empty" eval 'get_status 0 && [[ ${ST_LOG[0]} == 0 ]]'

stop_replica 2
cp "$T/bak.db" "$DATA/replica-2.db"
rm -f "$DATA/replica-2.db-wal" "$DATA/replica-2.db-shm"
start_replica -r 2
wait_for -m "replica 2 says why it recovers" grep -q "recovering: the database is older than this replica" "$T/replica-2.log"
wait_for -m "replica 2 copies a peer's state" grep -q "copying the state of replica" "$T/replica-2.log"
wait_settled 2
assert_exit 0 cli_r 2 get 983 1
assert_eq 3.0 "$OUT" "replica 2 has the update it acknowledged after the backup"

# Its next update continues its own sequence: 5, not 2 again.
assert_exit 0 cli_r 2 rate 984 1 2.5
parse_ok "$OUT"
assert_eq "0,0,5" "$OK_TS" "ts of replica 2's first update after the restore"
for k in 0 1; do
    wait_for -m "replica $k has 984/1" replica_has "$k" 984 1 2.5
done
assert_converged
