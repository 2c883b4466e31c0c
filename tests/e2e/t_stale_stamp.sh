#!/usr/bin/env bash
# A write issued after seeing another one wins over it, whatever the clocks say (docs/algorithm.md,
# "A write issued after seeing another wins over it"): a client whose clock is an hour ahead rates
# a movie; a client with a right clock, who has seen that rating, changes it: the replica refuses
# the earlier stamp (RT_STALE), the client takes a new id with a later stamp, and its write wins
# everywhere.  A repeat the user named with --uid is not stamped again: it exits 5.
. "$(dirname "$0")/lib.sh"

start_cluster 3
now=$(date +%s%3N)
ahead=$((now + 3600 * 1000))
assert_exit 0 cli -s "$T/fast" --uid "7777:1:$ahead" rate 990 1 4.0
assert_exit 0 cli -s "$T/slow" get 990 1
assert_eq 4.0 "$OUT" "the other client sees the rating"
assert_exit 0 cli -s "$T/slow" update 990 1 2.0
for k in 0 1 2; do
    wait_for -m "replica $k has the later write 990/1 = 2.0" replica_has "$k" 990 1 2.0
done
# The stamp it took is after the hour-ahead one: a third write at a right clock must still win.
assert_exit 0 cli -s "$T/slow" update 990 1 3.5
assert_exit 0 cli -s "$T/slow" get 990 1
assert_eq 3.5 "$OUT" "the session reads its own later write"

# --uid names one update, its stamp included: behind the rating's write, it is refused (5).
assert_exit 5 cli -s "$T/slow" --uid "7777:9:$now" update 990 1 1.0
assert_contains "$ERR" "later write" "the refusal of a stale --uid update"
for k in 0 1 2; do
    wait_for -m "replica $k keeps 990/1 = 3.5" replica_has "$k" 990 1 3.5
done

# A client that sends neither id nor stamp (an rpcgen client: FE_UPDATE with zeros, by hand):
# the front end picks both, and after RT_STALE takes a new id with a later stamp.
assert_exit 0 cli --uid "7777:20:$ahead" rate 991 1 4.0
for k in 0 1 2; do
    wait_for -m "replica $k has 991/1 = 4.0 (stamped an hour ahead)" replica_has "$k" 991 1 4.0
done
# prev <0>, uid {0, 0}, stamp 0, OP_RATE user 991 movie 1 halves 6
arg="00000000 0000000000000000 0000000000000000 0000000000000000 00000001 000003df 00000001 00000006"
run "$BIN/rawrpc" 127.0.0.1 "$(port_of "$FE_PROG")" call "$FE_PROG" 1 2 "$arg"
assert_match "$OUT" 'accepted SUCCESS 00000000' "FE_UPDATE without id or stamp: RT_OK"
for k in 0 1 2; do
    wait_for -m "replica $k has the front end's update 991/1 = 3.0" replica_has "$k" 991 1 3.0
done
assert_converged
