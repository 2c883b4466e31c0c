#!/usr/bin/env bash
# A retry with the same update id at ANOTHER replica, before the first replica's copy has been
# gossiped -- what the front end does when a replica dies after applying an update but before
# answering (t_failover_load hits it by chance).  The update must take effect once: one new
# movie, not two, once the replicas have exchanged gossip.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -g 600000 -n

assert_exit 0 cli_r 0 --uid 4343:1 add-movie 935 4.0 "Twice Film (2026)" "Drama"
A=$OUT
assert_exit 0 cli_r 1 --uid 4343:1 add-movie 935 4.0 "Twice Film (2026)" "Drama"
B=$OUT
note "replica 0 gave movie id $A, replica 1 gave $B"
assert_exit 0 cli_r 0 --uid 4343:2 rate 936 3 2.0
assert_exit 0 cli_r 1 --uid 4343:2 rate 936 3 2.0

# Gossip on: replica 0 restarts with a short interval (its SIGTERM also sends a last round).
stop_replica 0
start_replica 0 --gossip-ms 200
start_fe
wait_for -m "replica 2 has user 935's rating of movie $A or $B" \
    eval "replica_has 2 935 $A 4.0 || replica_has 2 935 $B 4.0"
assert_converged
for k in 0 1 2; do
    assert_eq 23 "${ST_MOVIES[$k]:-}" "movies at replica $k (22 + the one new movie)"
    assert_eq 105 "${ST_RATINGS[$k]:-}" "ratings at replica $k (103 + its first rating + 936/3)"
done
assert_exit 0 cli search "twice film"
assert_eq 1 "$(grep -c . <<<"$OUT")" "movies found by 'twice film'"
# Both ids that were handed out still lead to that movie, with its one rating.
for k in 0 1 2; do
    for id in "$A" "$B"; do
        assert_exit 0 cli_r "$k" movie "$id"
        assert_contains "$OUT" "title: Twice Film (2026)" "movie $id at replica $k"
        assert_contains "$OUT" "ratings: 1" "movie $id at replica $k"
    done
done

# The failover case exactly: replica 0 applies a new movie and dies before anyone hears of
# it; the retry (same id) is applied at replica 1 and spreads to 2; then 0 comes back.
assert_exit 0 cli_r 0 --uid 4343:3 add-movie 937 3.0 "Crash Film (2026)" "Drama"
C=$OUT
kill9_replica 0
stop_replica 1
start_replica 1 --gossip-ms 200
stop_replica 2
start_replica 2 --gossip-ms 200
assert_exit 0 cli_r 1 --uid 4343:3 add-movie 937 3.0 "Crash Film (2026)" "Drama"
D=$OUT
note "replica 0 gave movie id $C before it died, replica 1 gave $D to the retry"
wait_for -m "replica 2 has movie $D" replica_has 2 937 "$D" 3.0
start_replica 0 --gossip-ms 200
assert_converged
for k in 0 1 2; do
    assert_eq 24 "${ST_MOVIES[$k]:-}" "movies at replica $k (22 + Twice Film + Crash Film)"
done
assert_exit 0 cli search "crash film"
assert_eq 1 "$(grep -c . <<<"$OUT")" "movies found by 'crash film'"
