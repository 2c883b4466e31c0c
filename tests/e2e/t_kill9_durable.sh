#!/usr/bin/env bash
# Every update a replica acknowledged survives kill -9: with gossip effectively off nobody
# else has them, so after the restart they can only come from replica 0's own database.
# Then, with gossip on, they reach the other replicas.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -g 600000 -n

vals=(0.5 1.0 1.5 2.0 2.5 3.0 3.5 4.0 4.5 5.0 0.5 1.0)
for i in "${!vals[@]}"; do
    assert_exit 0 cli_r 0 rate $((920 + i)) 7 "${vals[$i]}"
    parse_ok "$OUT"
    assert_eq 0 "$OK_REPLICA" "replica that acknowledged rating $i"
done
assert_exit 0 cli_r 0 update 1 1 1.5
assert_exit 0 cli_r 0 delete 1 3
assert_exit 0 cli_r 0 add-movie 920 4.5 "Durable Film (2026)" "Drama|Thriller"
assert_match "$OUT" '^[0-9]+$' "new movie id"
NEW=$OUT
assert_int_ge 1000000000 "$NEW" "new movie id"
kill9_replica 0

# Premise: nothing was gossiped.
for k in 1 2; do
    assert_exit 1 cli_r "$k" get 920 7
    assert_exit 1 cli_r "$k" movie "$NEW"
done

start_replica 0
for i in "${!vals[@]}"; do
    assert_exit 0 cli_r 0 get $((920 + i)) 7
    assert_eq "${vals[$i]}" "$OUT" "rating $((920 + i))/7 at replica 0 after kill -9"
done
assert_exit 0 cli_r 0 get 1 1
assert_eq 1.5 "$OUT" "updated rating 1/1 after kill -9"
assert_exit 1 cli_r 0 get 1 3
assert_exit 0 cli_r 0 movie "$NEW"
assert_contains "$OUT" "title: Durable Film (2026)"
assert_contains "$OUT" "ratings: 1"
assert_exit 0 cli_r 0 get 920 "$NEW"
assert_eq 4.5 "$OUT" "first rating of the new movie"

# Now let them gossip: restart 0 with a short interval (it pushes and pulls).
stop_replica 0
start_replica 0 --gossip-ms 200
start_fe
for k in 1 2; do
    for i in "${!vals[@]}"; do
        wait_for -m "replica $k has $((920 + i))/7" replica_has "$k" $((920 + i)) 7 "${vals[$i]}"
    done
    wait_for -m "replica $k has 1/1 = 1.5" replica_has "$k" 1 1 1.5
    wait_for -m "replica $k lost 1/3" replica_lacks "$k" 1 3
    wait_for -m "replica $k has the new movie's rating" replica_has "$k" 920 "$NEW" 4.5
done
assert_converged
for k in 0 1 2; do
    assert_eq $((103 + 12 - 1 + 1)) "${ST_RATINGS[$k]:-}" "ratings at replica $k"
    assert_eq 23 "${ST_MOVIES[$k]:-}" "movies at replica $k"
done

# kill -9 in the middle of a stream of writes from three clients: every write that was
# acknowledged is there after the restart (the one in flight may or may not be).
writer() {   # FIRST_USER
    local u=$1 rc
    while :; do
        if cli_r 1 -t 3000 rate "$u" 9 3.5 >/dev/null 2>"$T/writer.$1.err"; then
            echo "$u" >>"$T/acked.$1"
        else
            rc=$?
            echo "$u $rc" >"$T/stopped.$1"
            return 0
        fi
        u=$((u + 1))
    done
}
wpids=()
for w in 2000 3000 4000; do
    : >"$T/acked.$w"
    writer "$w" &
    wpids+=($!)
done
acked_total() { cat "$T"/acked.* | wc -l; }
wait_for -m "60 acknowledged writes" eval '(( $(acked_total) >= 60 ))'
kill9_replica 1
for p in "${wpids[@]}"; do wait "$p"; done
n=$(acked_total)
note "$n writes acknowledged before kill -9; stopped at: $(cat "$T"/stopped.* | tr '\n' ' ')"
for w in 2000 3000 4000; do
    [[ -s $T/stopped.$w ]] || fail "writer $w did not notice that replica 1 died"
done
start_replica 1
for w in 2000 3000 4000; do
    while read -r u; do
        assert_exit 0 cli_r 1 get "$u" 9
        assert_eq 3.5 "$OUT" "acknowledged rating $u/9 at replica 1 after kill -9"
    done <"$T/acked.$w"
done
assert_converged
for k in 0 1 2; do
    assert_int_ge $((115 + n)) "${ST_RATINGS[$k]:-}" "ratings at replica $k after the stream"
done
