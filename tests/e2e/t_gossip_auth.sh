#!/usr/bin/env bash
# Only configured replicas may gossip: replicas 0 and 1 share a key file; replica 2 has another
# key.  0 and 1 exchange updates; replica 2's gossip is refused with a log line, and nothing it
# sends is applied.  Then replica 2 gets the right key and catches up.
. "$(dirname "$0")/lib.sh"

printf 'the key of this test cluster, 42\n' >"$T/good.key"
printf 'an intruder with another key!!!\n' >"$T/bad.key"
chmod 600 "$T/good.key" "$T/bad.key"
start_cluster 3 -x 0 "--key-file $T/good.key" -x 1 "--key-file $T/good.key" \
    -x 2 "--key-file $T/bad.key"

assert_exit 0 cli_r 0 rate 970 1 4.0
assert_exit 0 cli_r 2 rate 971 1 1.5
wait_for -m "replica 1 has 970/1 from replica 0" replica_has 1 970 1 4.0
wait_for -m "replica 0 refused replica 2's gossip" \
    grep -q "refused GOSSIP claiming to be from replica 2" "$T/replica-0.log"
wait_for -m "replica 2 says its gossip is refused" grep -q "not authenticated" "$T/replica-2.log"
# Nothing crossed the boundary either way.
assert_exit 1 cli_r 0 get 971 1
assert_exit 1 cli_r 1 get 971 1
assert_exit 1 cli_r 2 get 970 1

# With the cluster's key, replica 2 joins the exchange.
stop_replica 2
start_replica 2 --key-file "$T/good.key"
wait_for -m "replica 0 has 971/1" replica_has 0 971 1 1.5
wait_for -m "replica 2 has 970/1" replica_has 2 970 1 4.0
wait_for -m "all converge" converged
