#!/usr/bin/env bash
# Bad input gets the documented exit code and a clear message, and changes nothing.
. "$(dirname "$0")/lib.sh"

start_cluster 3
assert_converged
before_digest=${ST_DIGEST[0]:-} before_rts=${ST_RTS[0]:-}

# expect CODE WORD CMD...: exit CODE, stdout empty, stderr starting "rating: " (or a usage
# text for usage errors) and mentioning WORD (case-insensitive; "" for any message).
expect() {
    local code=$1 word=$2
    shift 2
    assert_exit "$code" "$@"
    [[ -z $OUT ]] || fail "$(_cmdline "$@"): expected no output, got '$(_show "$OUT")'"
    assert_match "$ERR" '^(rating: .+|[Uu]sage: .*rating)' "stderr of $(_cmdline "$@")"
    [[ -z $word || ${ERR,,} == *"${word,,}"* ]] || fail "$(_cmdline "$@"): stderr '$(_show "$ERR")' does not mention '$word'"
}

# Ratings are 0.5 .. 5.0 in half stars.
for r in 6 0 4.3 -1 abc 5.5 0.25 "" 1e1 4,5 nan; do
    expect 2 "" cli rate 1 2 "$r"
    expect 2 "" cli update 1 1 "$r"
    expect 2 "" cli_r 0 rate 1 2 "$r"
done
expect 2 "" cli add-movie 1 7 "Bad Rating Film (2026)"
# Ids.
expect 2 "" cli movie abc
expect 2 "" cli movie -5
expect 2 "" cli movie 1.5
expect 2 "" cli movie 4294967296
expect 2 "" cli get x 1
expect 2 "" cli get 1 x
expect 2 "" cli rate abc 1 3.0
expect 2 "" cli user ""
# Missing or extra arguments.
expect 2 "" cli rate 1 2
expect 2 "" cli get 1
expect 2 "" cli movie
expect 2 "" cli update 1 1
expect 2 "" cli delete 1
expect 2 "" cli add-movie 1 4
expect 2 "" cli search
expect 2 "" cli get 1 1 1
# Unknown command, no command, unknown option.
expect 2 "" cli frobnicate 1
expect 2 "" cli
expect 2 "" cli --no-such-option movie 1
# An over-long title (RT_MAX_TITLE is 255 bytes) and an over-long search pattern.
long=$(printf 'x%.0s' $(seq 300))
expect 2 "" cli add-movie 1 4 "$long" "Drama"
expect 2 "" cli search "$long"
# A bad --uid.
expect 2 "" cli --uid nonsense rate 1 2 3.0
# Not found (exit 1).
expect 1 "" cli movie 999999
expect 1 "" cli get 1 2
expect 1 "" cli get 99999 1
expect 1 "" cli user 99999
expect 1 "" cli search "no such title anywhere"
expect 1 "" cli update 1 2 3.0
expect 1 "" cli delete 1 2
expect 1 "" cli_r 1 movie 999999
# Already exists (exit 4): user 1 rated movie 1.
expect 4 "" cli rate 1 1 3.0
# Nobody at that program: exit 3.
expect 3 "" cli_r 14 movie 1
expect 3 "" timeout 30 "$BIN/rating" -H 127.0.0.1 -P $((PROG_BASE + 14)) -t 2000 movie 1

# The servers' usage errors: exit 2 with a message, nothing started or registered.
for args in "--id 3 --nreplicas 3" "--id 0 --gossip-ms 0" "--id 0 --fail-rate 2" "--nreplicas 3" \
            "--id 0 --replicas nonsense" "--id 0 --bogus"; do
    # shellcheck disable=SC2086
    run timeout 10 "$BIN/ratingd" $args --replica-base $((PROG_BASE + 4)) --data-dir "$T/unused"
    assert_eq 2 "$RC" "exit status of ratingd $args"
    assert_match "$ERR" 'ratingd|usage' "stderr of ratingd $args"
done
for args in "--prefer 7" "--bogus" "--timeout abc"; do
    # shellcheck disable=SC2086
    run timeout 10 "$BIN/ratingfe" --prog $((PROG_BASE + 13)) $args
    assert_eq 2 "$RC" "exit status of ratingfe $args"
done
is_registered $((PROG_BASE + 4)) && fail "a ratingd that refused its options registered anyway"
is_registered $((PROG_BASE + 13)) && fail "a ratingfe that refused its options registered anyway"

# Nothing changed anywhere: same digest and timestamps after a few more gossip rounds.
assert_exit 0 cli get 1 1
assert_eq 4.0 "$OUT" "user 1's rating of movie 1"
assert_exit 0 cli movie 1
assert_contains "$OUT" "ratings: 16"
assert_converged
for k in 0 1 2; do
    assert_eq "$before_digest" "${ST_DIGEST[$k]:-}" "digest of replica $k after the bad requests"
    assert_eq "$before_rts" "${ST_RTS[$k]:-}" "replica timestamp of replica $k after the bad requests"
    assert_eq 103 "${ST_RATINGS[$k]:-}" "ratings at replica $k"
    assert_eq 22 "${ST_MOVIES[$k]:-}" "movies at replica $k"
done
