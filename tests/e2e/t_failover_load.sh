#!/usr/bin/env bash
# The replica the front end prefers dies (kill -9) under load from three clients: every
# request still succeeds (the front end fails over, reusing the update id), and after the
# restart every replica holds each update exactly once -- new movies included, where a
# duplicate would show as an extra movie.
. "$(dirname "$0")/lib.sh"

start_cluster 3 -f "--prefer 0"
OPS=40

writer() {   # W: OPS operations, alternately a new rating and a new movie with its rating
    local w=$1 i rc out
    for ((i = 0; i < OPS; i++)); do
        if ((i % 2 == 0)); then
            out=$(cli rate $((6000 + w * 100 + i)) 12 4.0 2>&1)
        else
            out=$(cli add-movie $((6000 + w * 100 + i)) 3.5 "Load Film $w-$i (2026)" "Drama" 2>&1)
        fi
        rc=$?
        printf '%s %s %s\n' "$i" "$rc" "$out" >>"$T/w.$w"
    done
}
pids=()
for w in 1 2 3; do
    : >"$T/w.$w"
    writer "$w" &
    pids+=($!)
done
done_ops() { cat "$T"/w.* | wc -l; }
wait_for -m "30 operations done" eval '(( $(done_ops) >= 30 ))'
kill9_replica 0
for p in "${pids[@]}"; do wait "$p"; done

# Every operation succeeded, in spite of the failover.
bad=$(awk '$2 != 0' "$T"/w.*)
[[ -z $bad ]] || fail "operations failed during the failover: $(_show "$bad")"
assert_eq $((3 * OPS)) "$(done_ops)" "operations done"
ids=$(awk '$1 % 2 == 1 { print $3 }' "$T"/w.* | sort)
assert_eq $((3 * OPS / 2)) "$(sort -u <<<"$ids" | grep -c '^[0-9][0-9]*$')" "distinct new movie ids"
after=$(awk '$3 == "ok" { print $4 }' "$T"/w.* | sort | uniq -c | tr '\n' ' ')
note "updates accepted per replica: $after"

start_replica 0
assert_converged
for k in 0 1 2; do
    assert_eq $((22 + 3 * OPS / 2)) "${ST_MOVIES[$k]:-}" "movies at replica $k (no new movie twice)"
    assert_eq $((103 + 3 * OPS)) "${ST_RATINGS[$k]:-}" "ratings at replica $k"
done
assert_exit 0 cli search "load film"
assert_eq $((3 * OPS / 2)) "$(grep -c . <<<"$OUT")" "movies found by 'load film'"
for id in $ids; do
    assert_exit 0 cli_r 0 movie "$id"
    assert_contains "$OUT" "ratings: 1" "movie $id at replica 0"
done
