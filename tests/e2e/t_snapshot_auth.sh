#!/usr/bin/env bash
# Snapshot transfer in a cluster with a key file: a wiped replica with the cluster's key
# rejoins by snapshot (its calls and the peer's pages are signed and checked, auth.h); one
# with another key is refused -- the peers log the refused SNAPSHOT, it exits non-zero saying
# so, and it installs nothing: its database stays empty and it does not serve.
. "$(dirname "$0")/lib.sh"

printf 'the key of this test cluster, 42\n' >"$T/good.key"
printf 'an intruder with another key!!!\n' >"$T/bad.key"
chmod 600 "$T/good.key" "$T/bad.key"
start_cluster 3 -x 0 "--key-file $T/good.key" -x 1 "--key-file $T/good.key" \
    -x 2 "--key-file $T/good.key"
assert_exit 0 cli_r 0 rate 960 1 4.0
assert_exit 0 cli_r 2 rate 961 1 1.5
for k in 0 1 2; do wait_for -m "replica $k has 960/1" replica_has "$k" 960 1 4.0; done
for k in 0 1 2; do wait_for -m "replica $k has 961/1" replica_has "$k" 961 1 1.5; done

wipe2() { rm -f "$DATA"/replica-2.db "$DATA"/replica-2.db-wal "$DATA"/replica-2.db-shm; }

# With the cluster's key: joined.
kill9_replica 2
wipe2
assert_exit 0 cli_r 0 rate 962 1 3.0
start_replica 2 --key-file "$T/good.key"
wait_for -m "replica 2 logs that it joined from a peer" grep -q "joined from replica" "$T/replica-2.log"
wait_for -m "replica 2 has 962/1" replica_has 2 962 1 3.0
assert_exit 0 cli_r 2 get 961 1
assert_eq 1.5 "$OUT" "replica 2's own update from before the wipe"
wait_for -m "all converge" converged

# With another key: refused, nothing installed.
kill9_replica 2
wipe2
n0=$(grep -c "refused SNAPSHOT claiming to be from replica 2" "$T/replica-0.log" "$T/replica-1.log" | awk -F: '{ s += $2 } END { print s + 0 }')
_spawn_replica 2 --key-file "$T/bad.key"
pid=${REPL_PID[2]}
reap "$pid" $((20 * E2E_SCALE)) || fail "ratingd 2 with another key is still running after $((20 * E2E_SCALE)) s"
REPL_PID[2]=""
[[ $REAPED != 0 ]] || fail "ratingd 2 with another key exited 0"
# (kill -9 left the old registration behind: nothing answers there.)
rpc_up $((PROG_BASE + 2)) && fail "something answers as ratingd 2 after it was refused"
if [[ -f $DATA/replica-2.db ]]; then
    n=$(sqlite3 "$DATA/replica-2.db" 'SELECT (SELECT count(*) FROM ratings) + (SELECT count(*) FROM movies) + (SELECT count(*) FROM log)') ||
        fail "cannot read the refused replica's database"
    assert_eq 0 "$n" "rows in the refused replica's database"
fi
grep -q "refused the snapshot: not authenticated" "$T/replica-2.log" ||
    fail "ratingd 2 did not say its snapshot was refused: $(tail -n 3 "$T/replica-2.log" | tr '\n' ' ')"
n1=$(grep -c "refused SNAPSHOT claiming to be from replica 2" "$T/replica-0.log" "$T/replica-1.log" | awk -F: '{ s += $2 } END { print s + 0 }')
((n1 > n0)) || fail "no peer logged the refused SNAPSHOT of replica 2"
