#!/usr/bin/env bash
# Concurrent writes to one (user, movie) at different replicas converge to one value
# everywhere; a delete concurrent with an update converges too; a deleted rating does not
# come back with later gossip.
. "$(dirname "$0")/lib.sh"

start_cluster 3

# Five ratings of the data set, each updated at replica 0 and at replica 1 at once.
keys=("1 1" "1 3" "1 6" "5 1" "6 2")
pids=()
for i in "${!keys[@]}"; do
    read -r u m <<<"${keys[$i]}"
    cli_r 0 update "$u" "$m" 1.0 >"$T/c0.$i" 2>&1 &
    pids+=($!)
    cli_r 1 update "$u" "$m" 5.0 >"$T/c1.$i" 2>&1 &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent update failed: $(cat "$T"/c[01].* | tr '\n' ' ')"; done
for i in "${!keys[@]}"; do
    assert_match "$(<"$T/c0.$i")" '^ok replica=0 ' "update at replica 0"
    assert_match "$(<"$T/c1.$i")" '^ok replica=1 ' "update at replica 1"
done

# A new rating written at two replicas at once: at least one is accepted, the other either
# too (concurrent) or refused as existing (it saw the first).
cli_r 0 rate 940 4 2.0 >"$T/n0" 2>&1 & p0=$!
cli_r 1 rate 940 4 4.0 >"$T/n1" 2>&1 & p1=$!
wait $p0; r0=$?
wait $p1; r1=$?
[[ ($r0 == 0 || $r0 == 4) && ($r1 == 0 || $r1 == 4) && ($r0 == 0 || $r1 == 0) ]] ||
    fail "concurrent new ratings: exits $r0 and $r1 ($(cat "$T/n0" "$T/n1" | tr '\n' ' '))"

# A delete concurrent with an update.
cli_r 0 delete 7 1 >"$T/d0" 2>&1 & p0=$!
cli_r 2 update 7 1 2.5 >"$T/d2" 2>&1 & p1=$!
wait $p0 || fail "concurrent delete failed: $(<"$T/d0")"
wait $p1 || fail "concurrent update failed: $(<"$T/d2")"

assert_converged
# Every replica has the same value for each key, one of the two written.
for i in "${!keys[@]}"; do
    read -r u m <<<"${keys[$i]}"
    vals=()
    for k in 0 1 2; do
        assert_exit 0 cli_r "$k" get "$u" "$m"
        vals+=("$OUT")
    done
    [[ ${vals[0]} == 1.0 || ${vals[0]} == 5.0 ]] || fail "key $u/$m: '${vals[0]}' is neither written value"
    assert_eq "${vals[0]}" "${vals[1]}" "key $u/$m at replica 1 vs 0"
    assert_eq "${vals[0]}" "${vals[2]}" "key $u/$m at replica 2 vs 0"
    note "key $u/$m converged to ${vals[0]}"
done
n=()
for k in 0 1 2; do assert_exit 0 cli_r "$k" get 940 4; n+=("$OUT"); done
[[ ${n[0]} == 2.0 || ${n[0]} == 4.0 ]] || fail "key 940/4: '${n[0]}' is neither written value"
assert_eq "${n[0]}" "${n[1]}" "key 940/4 at replica 1 vs 0"
assert_eq "${n[0]}" "${n[2]}" "key 940/4 at replica 2 vs 0"
d=()
for k in 0 1 2; do run cli_r "$k" get 7 1; d+=("$RC:$OUT"); done
[[ ${d[0]} == "1:" || ${d[0]} == "0:2.5" ]] || fail "key 7/1 after delete || update: '${d[0]}'"
assert_eq "${d[0]}" "${d[1]}" "key 7/1 (exit:value) at replica 1 vs 0"
assert_eq "${d[0]}" "${d[2]}" "key 7/1 (exit:value) at replica 2 vs 0"
note "key 7/1 converged to '${d[0]}'"

# A delete after a write, at different replicas: gone everywhere, and it stays gone after
# more gossip (markers written later reach everyone, so gossip has run past the delete).
assert_exit 0 cli_r 0 rate 1 2 3.0
wait_for -m "replica 2 has 1/2 = 3.0" replica_has 2 1 2 3.0
assert_exit 0 cli_r 2 delete 1 2
for k in 0 1 2; do wait_for -m "1/2 gone at replica $k" replica_lacks "$k" 1 2; done
for marker in 1 2 3; do
    assert_exit 0 cli_r $((marker % 3)) rate $((950 + marker)) 1 3.0
    for k in 0 1 2; do wait_for -m "marker $marker at replica $k" replica_has "$k" $((950 + marker)) 1 3.0; done
done
for k in 0 1 2; do
    assert_exit 1 cli_r "$k" get 1 2
    assert_exit 0 cli_r "$k" user 1
    assert_not_contains $'\n'"$OUT" $'\n2\t' "user 1's ratings at replica $k"
    assert_eq "1 3 6" "$(cut -f1 <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')" "movies user 1 rated, at replica $k"
done
assert_converged
