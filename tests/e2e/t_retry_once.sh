#!/usr/bin/env bash
# A retried update (same --uid) is applied once: the same answer twice, one new movie, one
# log record, also when the retry goes to another replica after gossip.
. "$(dirname "$0")/lib.sh"

start_cluster 3
assert_converged
movies0=${ST_MOVIES[0]:-}
assert_eq 22 "$movies0" "movies in the small data set"

# add-movie through the front end, twice with one uid.
assert_exit 0 cli --uid 4242:1 add-movie 930 4 "Retry Film (2026)" "Drama"
first=$OUT
assert_match "$first" '^[0-9]+$' "new movie id"
assert_int_ge 1000000000 "$first" "new movie id"
assert_exit 0 cli --uid 4242:1 add-movie 930 4 "Retry Film (2026)" "Drama"
assert_eq "$first" "$OUT" "movie id printed by the retry"
assert_converged
for k in 0 1 2; do
    assert_eq $((movies0 + 1)) "${ST_MOVIES[$k]:-}" "movies at replica $k after add-movie and its retry"
    assert_eq 104 "${ST_RATINGS[$k]:-}" "ratings at replica $k"
done
assert_exit 0 cli search "retry film"
assert_eq 1 "$(grep -c . <<<"$OUT")" "search results for 'retry film'"
assert_match "$OUT" "^$first	Retry Film \\(2026\\)	Drama	" "search result"
# The retry also works once the original is everywhere, at another replica.
assert_exit 0 cli_r 2 --uid 4242:1 add-movie 930 4 "Retry Film (2026)" "Drama"
assert_eq "$first" "$OUT" "movie id printed by a retry at replica 2"

# A new rating retried at one replica: "ok" with the same ts, not "already exists".
assert_converged
exec1=${ST_EXEC[1]:-}
assert_exit 0 cli_r 1 --uid 4242:2 rate 931 3 2.5
parse_ok "$OUT"
assert_eq 1 "$OK_REPLICA" "replica of a direct rate"
ts1=$OK_TS
assert_exit 0 cli_r 1 --uid 4242:2 rate 931 3 2.5
parse_ok "$OUT"
assert_eq 1 "$OK_REPLICA" "replica of the retry"
assert_eq "$ts1" "$OK_TS" "ts of the retry"
# Same uid, without --uid: a new update, which is refused as the rating exists.
assert_exit 4 cli_r 1 rate 931 3 2.5
assert_contains "$ERR" "rating:" "stderr of rate of an existing rating"
# A marker after the retries: once it is everywhere, whatever the retries caused is too.
assert_exit 0 cli_r 1 rate 932 3 3.0
for k in 0 1 2; do
    wait_for -m "marker at replica $k" replica_has "$k" 932 3 3.0
    assert_exit 0 cli_r "$k" get 931 3
    assert_eq 2.5 "$OUT" "retried rating at replica $k"
done
assert_converged
for k in 0 1 2; do
    assert_eq 106 "${ST_RATINGS[$k]:-}" "ratings at replica $k (104 + retried + marker)"
    assert_eq $((exec1 + 2)) "${ST_EXEC[$k]:-}" "executed updates at replica $k (retried once + marker)"
done
# Retry at another replica that got the original by gossip: same ts, nothing new.
assert_exit 0 cli_r 0 --uid 4242:2 rate 931 3 2.5
parse_ok "$OUT"
assert_eq "$ts1" "$OK_TS" "ts of a retry at replica 0"
assert_converged
assert_eq $((exec1 + 2)) "${ST_EXEC[0]:-}" "executed updates at replica 0 after the last retry"
assert_eq 106 "${ST_RATINGS[0]:-}" "ratings at replica 0 after the last retry"
