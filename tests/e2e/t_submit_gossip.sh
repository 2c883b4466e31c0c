#!/usr/bin/env bash
# A rating submitted through the front end is readable at every replica after gossip, the
# movie's count and average follow it everywhere, and all digests become equal.
. "$(dirname "$0")/lib.sh"

start_cluster 3

# The small data set: movie 1 has 16 ratings summing to 61.5 stars (average 3.84).
assert_exit 0 cli movie 1
assert_contains "$OUT" "title: Toy Story (1995)"
assert_contains "$OUT" "ratings: 16"
assert_contains "$OUT" "average: 3.84"
assert_exit 1 cli get 900 1

assert_exit 0 cli rate 900 1 4.5
parse_ok "$OUT"
note "accepted by replica $OK_REPLICA at ts [$OK_TS]"
[[ $OK_REPLICA =~ ^[0-2]$ ]] || fail "replica=$OK_REPLICA is not one of 0..2"
assert_exit 0 cli_r "$OK_REPLICA" get 900 1
assert_eq 4.5 "$OUT" "rating at the accepting replica $OK_REPLICA"

for k in 0 1 2; do
    wait_for -m "replica $k has user 900's rating of movie 1" replica_has "$k" 900 1 4.5
done
# 16 + 1 ratings, (61.5 + 4.5) / 17 = 3.88, at every replica.
for k in 0 1 2; do
    assert_exit 0 cli_r "$k" movie 1
    assert_contains "$OUT" "ratings: 17" "movie 1 at replica $k"
    assert_contains "$OUT" "average: 3.88" "movie 1 at replica $k"
    assert_exit 0 cli_r "$k" user 900
    assert_eq "1	4.5" "$OUT" "user 900's ratings at replica $k"
done

assert_converged
for k in 0 1 2; do
    assert_eq 104 "${ST_RATINGS[$k]:-}" "ratings at replica $k (103 imported + 1)"
    assert_eq 22 "${ST_MOVIES[$k]:-}" "movies at replica $k"
    assert_match "${ST_DIGEST[$k]:-}" '^(0x)?[0-9a-fA-F]+$' "digest of replica $k"
done
note "digest ${ST_DIGEST[0]:-}"

# 20 clients at once through the front end: all accepted, all everywhere.
pids=()
for i in $(seq 1 20); do
    h=$(( (i % 10) + 1 ))
    cli rate $((3000 + i)) 10 "$((h / 2)).$(( (h % 2) * 5 ))" >"$T/c.$i" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "concurrent client $((i + 1)) failed: $(<"$T/c.$((i + 1))")"
done
for i in $(seq 1 20); do
    assert_match "$(<"$T/c.$i")" '^ok replica=[0-2] ts=\[[0-9]+,[0-9]+,[0-9]+\]$' "client $i"
done
assert_converged
for k in 0 1 2; do
    assert_eq 124 "${ST_RATINGS[$k]:-}" "ratings at replica $k after 20 concurrent clients"
    for i in 1 7 20; do
        h=$(( (i % 10) + 1 ))
        assert_exit 0 cli_r "$k" get $((3000 + i)) 10
        assert_eq "$((h / 2)).$(( (h % 2) * 5 ))" "$OUT" "rating $((3000 + i))/10 at replica $k"
    done
done
assert_exit 0 cli movie 10
assert_contains "$OUT" "ratings: 30" "movie 10 (10 imported + 20 new)"
