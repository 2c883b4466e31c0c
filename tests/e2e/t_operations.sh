#!/usr/bin/env bash
# Running it as a service: --help and --version everywhere; a cluster started from one
# ratingd.conf (replicas, front ends, [ratingd] keys) with the command line overriding it; a
# mistake in the file refused with FILE:LINE; the client failing over between the front ends
# the file lists; `status --watch` refreshing until SIGINT; and a graceful SIGTERM: an
# update that no gossip round has carried yet still reaches the peers (the last round), the
# replica unregisters after it and exits 0.
. "$(dirname "$0")/lib.sh"

# ---- --help / --version ---------------------------------------------------------------
for p in ratingd ratingfe rating; do
    assert_exit 0 "$BIN/$p" --version
    assert_match "$OUT" "^$p (\\(ratingd\\) )?[0-9]+\\.[0-9]+\\.[0-9]+$" "$p --version"
    assert_exit 0 "$BIN/$p" --help
    assert_contains "$OUT" "--config" "$p --help"
    assert_contains "$OUT" "Exit status" "$p --help"
done
assert_exit 2 "$BIN/ratingd" --id 0 --no-such-option
assert_contains "$ERR" "Try 'ratingd --help'" "ratingd's answer to an unknown option"
# Gossip without a key only on loopback.
assert_exit 2 "$BIN/ratingd" --id 0 --nreplicas 3 --listen 0.0.0.0 --data-dir "$T/none"
assert_contains "$ERR" "refusing to serve gossip without authentication on 0.0.0.0" "ratingd on 0.0.0.0 without a key"
[[ ! -e $T/none ]] || fail "ratingd made its data directory before refusing"
assert_exit 2 "$BIN/ratingfe" --log fax
assert_contains "$ERR" "bad value 'fax' for --log" "ratingfe's answer to a bad --log"

# ---- a cluster from one configuration file ---------------------------------------------
alloc_progs
conf=$T/ratingd.conf
fe_dead=$((PROG_BASE + 14)) fe_live=$((PROG_BASE + 15))
cat >"$conf" <<EOF
# three replicas and two front ends; front end 0 is never started
replica 0 localhost $(printf '%#x' "$PROG_BASE")
replica 1 localhost $(printf '%#x' $((PROG_BASE + 1)))
replica 2 localhost $(printf '%#x' $((PROG_BASE + 2)))
frontend 0 localhost $fe_dead
frontend 1 localhost $fe_live
log-level info

[ratingd]
data-dir $T/data
movielens $SMALL_DATA
gossip-ms 100
overload 1000

[ratingfe]
wait 3000

[rating]
timeout $((CLIENT_MS * E2E_SCALE))
EOF

# A mistake is refused with its line, before anything starts.
sed 's/^gossip-ms 100$/gossip-ms fast/' "$conf" >"$T/bad.conf"
assert_exit 2 "$BIN/ratingd" --config "$T/bad.conf" --id 0
assert_contains "$ERR" "$T/bad.conf:12: bad value 'fast' for --gossip-ms" "message for a bad value"
assert_exit 2 "$BIN/ratingd" --config "$T/none.conf" --id 0
assert_contains "$ERR" "cannot read configuration $T/none.conf" "message for a missing file"

spawn() {   # NAME PROG ARGS...: a server from the file, registered
    local name=$1 prog=$2
    shift 2
    # shellcheck disable=SC2086 # E2E_WRAP holds words
    ${E2E_WRAP:-} "$@" </dev/null >>"$T/$name.log" 2>&1 &
    E2E_PIDS+=("$!")
    eval "PID_$name=$!"
    wait_registered "$prog" "$!" "$T/$name.log" "$name" "$START_SECS"
}
for k in 0 1 2; do
    # replica 2: the command line beats the file's gossip-ms
    extra=()
    [[ $k == 2 ]] && extra=(--gossip-ms 150)
    spawn "r$k" $((PROG_BASE + k)) "$BIN/ratingd" --config "$conf" --id "$k" "${extra[@]}"
done
spawn fe "$fe_live" "$BIN/ratingfe" --config "$conf" --id 1
assert_contains "$(<"$T/r0.log")" "gossip every 100 ms" "replica 0's interval (from the file)"
assert_contains "$(<"$T/r2.log")" "gossip every 150 ms" "replica 2's interval (command line)"
assert_contains "$(<"$T/fe.log")" "registered program $(printf '%#x' "$fe_live")" "front end 1's program"
assert_contains "$(<"$T/r0.log")" "tcp 127.0.0.1 port" "replica 0 bound its entry's host"

# The client takes the front ends from the file: 0 is not there, 1 answers.
rc() { timeout -k 2 $((30 * E2E_SCALE)) "$BIN/rating" --config "$conf" "$@"; }
run rc movie 1
assert_eq 0 "$RC" "rating movie 1 through the file's front ends ($ERR)"
assert_contains "$OUT" "Toy Story" "movie 1"
assert_exit 0 rc -s "$T/sess" rate 930 2 4.5
assert_exit 0 rc -s "$T/sess" get 930 2
assert_eq 4.5 "$OUT" "read back through the second front end"
# With every front end down, each one is named in the message.
run timeout 30 "$BIN/rating" --config "$conf" -P "$fe_dead" movie 1
assert_eq 3 "$RC" "exit status with -P naming a front end that is not there"
run env RATING_CONFIG="$conf" timeout 30 "$BIN/rating" -c '' -P "$fe_dead" movie 1
assert_eq 3 "$RC" "exit status with no file and a dead front end"
for k in 0 1 2; do
    wait_for -m "replica $k has 930/2" eval "timeout 30 '$BIN/rating' -c '' -r 127.0.0.1:$((PROG_BASE + k)) get 930 2 2>/dev/null | grep -qx 4.5"
done

# The log says what gossip did: records received, and discarded once everywhere.
wait_for -m "a 'gossip from replica' line" eval "cat '$T'/r[12].log | grep -q 'info replica[12]: gossip from replica [0-2]: [0-9]* new records'"
wait_for -m "replica 0 logs a discard" grep -q 'info replica0: log: discarded [0-9]* records known everywhere' "$T/r0.log"

# ---- status --watch ------------------------------------------------------------------------
"$BIN/rating" --config "$conf" status --watch 0.2 >"$T/watch.out" 2>"$T/watch.err" &
watch_pid=$!
E2E_PIDS+=("$watch_pid")
wait_for -m "three refreshes of status --watch" eval "[[ \$(grep -c '^replica ' '$T/watch.out') -ge 3 ]]"
kill -INT "$watch_pid"
reap "$watch_pid" 10 || fail "status --watch did not stop on SIGINT"
assert_eq 0 "$REAPED" "exit status of status --watch after SIGINT"
assert_match "$(head -n 1 "$T/watch.out")" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}, every 0\.2 s' "watch header"
assert_contains "$(sed -n 2p "$T/watch.out")" "behind" "status columns"
assert_match "$(<"$T/watch.out")" $'\n0 +active ' "replica 0's row"
assert_exit 2 rc status --watch 0

# ---- graceful shutdown: the last gossip round ------------------------------------------------
for name in fe r0 r1 r2; do
    pid_var=PID_$name
    kill -TERM "${!pid_var}"
    reap "${!pid_var}" $((10 * E2E_SCALE)) || fail "$name did not stop on SIGTERM"
    exit_ok "$REAPED" "$T/$name.log" || fail "$name exited $REAPED after SIGTERM"
done
GOSSIP_MS=600000
start_cluster 3 -n
assert_exit 0 cli_r 0 rate 931 3 2.0
sleep 0.5
replica_lacks 1 931 3 || fail "replica 1 has 931/3 although no gossip round has run"
stop_replica 0
assert_exit 0 cli_r 1 get 931 3
assert_eq 2.0 "$OUT" "replica 1 after replica 0's shutdown (its last gossip round)"
assert_exit 0 cli_r 2 get 931 3
assert_eq 2.0 "$OUT" "replica 2 after replica 0's shutdown"
log0=$(<"$T/replica-0.log")
[[ ${log0%%shutting down*} != "$log0" ]] || fail "replica 0 did not log its shutdown"
after=${log0#*shutting down}
assert_contains "$after" "last gossip round" "replica 0's log after 'shutting down'"
after=${after#*last gossip round}
assert_contains "$after" "unregistered program" "replica 0 unregisters after its last gossip round"
