#!/usr/bin/env bash
# Bug 4 of issue 10: two processes for one replica.  A second `ratingd --id 0` -- on the same
# data directory, on another one, or while the first is paused (SIGSTOP) -- exits 2 with a
# message naming the first, touches nothing, and the first keeps serving under its own rpcbind
# registration; the same for a second ratingfe.  A registration left by a replica killed with
# -9 is still replaced by its successor.  All of it under a write load whose history is checked
# (faults.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

start_cluster 3
hist_init
load_start a 71000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 72000 -r "127.0.0.1:$PROG_BASE"
load_wait_acks 10

P0=$PROG_BASE
port0=$(port_of "$P0")
[[ -n $port0 ]] || fail "replica 0 has no tcp registration"
fe_port=$(port_of "$FE_PROG")

# twin ARGS...: a second ratingd --id 0 with the cluster's arguments and ARGS; sets RC OUT ERR.
twin() { run timeout -k 2 $((30 * E2E_SCALE)) "$BIN/ratingd" --id 0 "${CLUSTER_ARGS[@]}" --movielens "$DATASET" --gossip-ms "$GOSSIP_MS" "$@"; }
first_still_serves() {   # WHAT
    alive "${REPL_PID[0]}" || fail "replica 0 died after $1"
    assert_eq "$port0" "$(port_of "$P0")" "replica 0's registered port after $1"
    assert_exit 0 cli_r 0 movie 1
    assert_contains "$OUT" "Toy Story" "replica 0 after $1"
}

# 1. The same data directory.
twin --data-dir "$DATA"
assert_eq 2 "$RC" "exit status of a second ratingd --id 0 on the same directory"
assert_contains "$ERR" "another ratingd --id 0" "its message"
first_still_serves "a twin on the same directory"

# 2. Another data directory: refused before the directory is even created.
twin --data-dir "$T/other"
assert_eq 2 "$RC" "exit status of a second ratingd --id 0 on another directory"
assert_contains "$ERR" "program $(printf '%#x' "$P0") version 1 is already served at 127.0.0.1 port $port0: another ratingd --id 0 is running" "its message"
[[ ! -e $T/other ]] || fail "the refused twin created $T/other: $(ls -la "$T/other")"
first_still_serves "a twin on another directory"

# 3. The first paused: its registration does not answer, but its directory's lock holds.
kill -STOP "${REPL_PID[0]}"
twin --data-dir "$DATA"
kill -CONT "${REPL_PID[0]}"
assert_eq 2 "$RC" "exit status of a twin on the same directory while the first is stopped"
assert_contains "$ERR" "data directory $DATA is in use: another ratingd --id 0 (pid ${REPL_PID[0]})" "its message"
first_still_serves "a twin while the first was stopped"

# 4. A second front end for the same program number.
run timeout -k 2 $((30 * E2E_SCALE)) "$BIN/ratingfe" --prog "$FE_PROG" "${CLUSTER_ARGS[@]}"
assert_eq 2 "$RC" "exit status of a second ratingfe"
assert_contains "$ERR" "is already served at 127.0.0.1 port $fe_port: another ratingfe is running" "its message"
alive "$FE_PID" || fail "the front end died after a twin"
assert_eq "$fe_port" "$(port_of "$FE_PROG")" "the front end's registered port"
assert_exit 0 cli movie 1

# 5. A replica killed with -9 leaves its registration; the next one replaces it (nobody answers).
kill9_replica 0
is_registered "$P0" || fail "premise: replica 0's registration stays after kill -9"
start_replica 0
assert_ne "$port0" "$(port_of "$P0")" "replica 0's port after its restart"
grep -q "replaced a registration of program $(printf '%#x' "$P0") that no server answers" "$T/replica-0.log" ||
    fail "replica 0 did not say it replaced the dead registration"

load_wait_acks 10
load_stop
hist_settle
