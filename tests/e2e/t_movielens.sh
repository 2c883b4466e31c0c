#!/usr/bin/env bash
# Three replicas on the real MovieLens ml-latest-small: the import is complete and exact.
. "$(dirname "$0")/lib.sh"

[[ -f $ML_DATA/ratings.csv && -f $ML_DATA/movies.csv ]] || fail "no data set at $ML_DATA"
start_cluster 3 -d "$ML_DATA" -t 120

assert_exit 0 cli movie 1
assert_contains "$OUT" "id: 1"
assert_contains "$OUT" "title: Toy Story (1995)"
assert_contains "$OUT" "genres: Adventure|Animation|Children|Comedy|Fantasy"
assert_contains "$OUT" "ratings: 215"
assert_contains "$OUT" "average: 3.92"

assert_exit 0 cli search "american president"
assert_eq 1 "$(grep -c . <<<"$OUT")" "matches for 'american president'"
assert_eq $'11\tAmerican President, The (1995)\tComedy|Drama|Romance' "$(cut -f1-3 <<<"$OUT")" "match"
assert_exit 0 cli search "TOY STORY"
assert_eq "1 3114 78499" "$(cut -f1 <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')" "ids matching 'TOY STORY'"
# An escaped quote in a quoted CSV field.
assert_exit 0 cli movie 7789
assert_contains "$OUT" "title: 11'09\"01 - September 11 (2002)"
assert_exit 0 cli movie 114335
assert_contains "$OUT" "title: La cravate (1957)"

assert_exit 0 cli get 1 1
assert_eq 4.0 "$OUT" "user 1's rating of movie 1"
assert_exit 0 cli get 610 170875
assert_eq 3.0 "$OUT" "the last rating of ratings.csv"
assert_exit 0 cli user 1
assert_eq 232 "$(grep -c . <<<"$OUT")" "ratings of user 1"
assert_eq $'1\t4.0' "$(head -n1 <<<"$OUT")" "first rating of user 1"
# More than one page (RT_MAX_PAGE is 1000): user 414 has 2698 ratings.
assert_exit 0 cli user 414
assert_eq 2698 "$(grep -c . <<<"$OUT")" "ratings of user 414"

assert_converged
for k in 0 1 2; do
    assert_eq 100836 "${ST_RATINGS[$k]:-}" "ratings at replica $k"
    assert_eq 9742 "${ST_MOVIES[$k]:-}" "movies at replica $k"
done

# A restart opens the database without importing again: same counts and digest.
d=${ST_DIGEST[1]:-}
stop_replica 1
start_replica 1
assert_converged
assert_eq "$d" "${ST_DIGEST[1]:-}" "digest of replica 1 after a restart"
assert_eq 100836 "${ST_RATINGS[1]:-}" "ratings at replica 1 after a restart"
