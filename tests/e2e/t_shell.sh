#!/usr/bin/env bash
# `rating shell` driven through a pipe: a retrieve, a submit and a read back in one session.
. "$(dirname "$0")/lib.sh"

# (This cluster names its replicas the long way: --replicas localhost:0x...,... everywhere.)
start_cluster 3 -s

printf '%s\n' "movie 1" "rate 960 2 3.5" "get 960 2" "update 960 2 4.0" "get 960 2" "get 960 3" "quit" >"$T/in"
run cli shell <"$T/in"
assert_eq 0 "$RC" "exit status of the shell"
assert_contains "$OUT" "title: Toy Story (1995)" "shell output"
assert_contains "$OUT" "ratings: 16" "shell output"
assert_match "$OUT" $'(^|\n)[^\n]*ok replica=[0-2] ts=\\[[0-9,]+\\]' "shell output of the rate"
assert_match "$OUT" $'(^|\n)([^\n]*[^0-9.])?3\\.5\n' "shell output of the first get"
assert_match "$OUT" $'(^|\n)([^\n]*[^0-9.])?4\\.0(\n|$)' "shell output of the second get"
# The order: the movie, then the first get says 3.5 before the second says 4.0.
pos() { local s=${OUT%%"$1"*}; echo ${#s}; }
(( $(pos "Toy Story") < $(pos "3.5") && $(pos "3.5") < $(pos "4.0") )) || fail "shell answers out of order: '$(_show "$OUT")'"
# An error inside the shell does not end it; it is reported.
assert_contains "$ERR" "rating: user 960 has no rating of movie 3" "shell stderr for a missing rating"

# The shell's writes are real: visible to a one-shot client at every replica after gossip.
for k in 0 1 2; do
    wait_for -m "replica $k has 960/2 = 4.0" replica_has "$k" 960 2 4.0
done

# The numbered menu, answering its questions line by line: retrieve movie 2, submit user
# 961's rating of movie 2, read it back, then exit with 0.
printf '%s\n' 1 2 3 961 2 4.5 2 961 2 0 >"$T/menu"
run cli shell <"$T/menu"
assert_eq 0 "$RC" "exit status of the menu-driven shell"
assert_contains "$OUT" "title: Jumanji (1995)" "menu: retrieve"
assert_match "$OUT" 'ok replica=[0-2] ts=' "menu: submit"
assert_match "$OUT" $'(^|\n)([^\n]*[^0-9.])?4\\.5(\n|$)' "menu: read back"
assert_exit 0 cli get 961 2
assert_eq 4.5 "$OUT" "the rating submitted from the menu"

# End of input without "quit" ends the shell too, with status 0.
printf 'get 1 1\n' | cli shell >"$T/out2" 2>&1
assert_eq 0 "$?" "exit status of the shell at end of input"
assert_contains "$(<"$T/out2")" "4.0" "shell output at end of input"
