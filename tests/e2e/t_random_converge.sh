#!/usr/bin/env bash
# Three clients each write a random mix of new ratings, updates and deletes on a small set of
# keys directly at their own replica, at the same time.  After gossip every replica holds the
# same ratings, key by key (checked through the client, not only by digest).
. "$(dirname "$0")/lib.sh"

start_cluster 3 -g 20
USERS="8001 8002 8003 8004"
MOVIES="1 2 3 4 5"

for k in 0 1 2; do
    awk -v seed=$((k + 7)) -v users="$USERS" -v movies="$MOVIES" 'BEGIN {
        srand(seed); nu = split(users, u, " "); nm = split(movies, m, " ")
        for (i = 0; i < 150; i++) {
            us = u[1 + int(rand() * nu)]; mo = m[1 + int(rand() * nm)]; r = rand()
            h = 1 + int(rand() * 10); stars = int(h / 2) "." (h % 2) * 5
            if (r < 0.4) print "rate " us " " mo " " stars
            else if (r < 0.8) print "update " us " " mo " " stars
            else print "delete " us " " mo
        }
    }' >"$T/ops.$k"
done
pids=()
for k in 0 1 2; do
    cli_r "$k" shell <"$T/ops.$k" >"$T/out.$k" 2>"$T/err.$k" &
    pids+=($!)
done
for k in 0 1 2; do wait "${pids[$k]}" || fail "the shell at replica $k failed: $(tail -n 3 "$T/err.$k")"; done
oks=$(cat "$T"/out.* | grep -c '^ok replica=')
note "$oks of 450 operations succeeded; refusals: $(cat "$T"/err.* | sed 's/ [0-9][0-9]* / N /g' | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"
(( oks >= 100 )) || fail "only $oks of 450 operations succeeded"
# Every refusal is one of the expected ones.
unexpected=$(cat "$T"/err.* | grep -v -e 'already rated' -e 'has not rated' || true)
[[ -z $unexpected ]] || fail "unexpected errors: $(_show "$unexpected")"

assert_converged
for u in $USERS; do
    run cli_r 0 user "$u"
    ref="$RC:$OUT"
    for k in 1 2; do
        run cli_r "$k" user "$u"
        assert_eq "$ref" "$RC:$OUT" "user $u's ratings (exit:list) at replica $k vs replica 0"
    done
done
# And they stay equal: a few more rounds of gossip (a marker that reaches everyone).
assert_exit 0 cli_r 2 rate 8100 1 1.0
for k in 0 1; do wait_for -m "marker at replica $k" replica_has "$k" 8100 1 1.0; done
assert_converged
d=${ST_DIGEST[0]:-}
for u in $USERS; do
    run cli_r 1 user "$u"
    r1="$RC:$OUT"
    run cli_r 2 user "$u"
    assert_eq "$r1" "$RC:$OUT" "user $u after more gossip"
done
note "converged to digest $d"
