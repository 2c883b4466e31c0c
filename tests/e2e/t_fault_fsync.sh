#!/usr/bin/env bash
# Fault class of issue 10: fdatasync failing under a write load.  Replica 2 runs under libfiu
# (fiu-utils: the POSIX preload, controlled with fiu-ctrl); midway every fdatasync it makes
# fails with EIO.  It must stop or refuse, and never acknowledge an update it could not make
# durable: no write sent to it after the fault began is acknowledged by it.  It is started
# again without the fault, catches up, and the whole history passes histcheck (every
# acknowledged write is there, on every replica).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"
need_fiu
((E2E_ASAN == 0)) || skip "libfiu's POSIX preload and ASan's interceptors do not mix (the normal build runs this test)"
[[ -z ${E2E_WRAP:-} ]] || skip "libfiu's preload under $E2E_WRAP: the normal build runs this test"

start_cluster 3
stop_replica 2
start_replica_env 2 "LD_PRELOAD=/usr/lib/fiu/fiu_run_preload.so:$FIU_LIB FIU_CTRL_FIFO=$T/fiu FIU_ENABLE="
hist_init
LOAD_GIVEUP_S=30
load_start a 77000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 77100 -H 127.0.0.1 -P "$FE_PROG"
load_start c 77200 -r "127.0.0.1:$((PROG_BASE + 2))"
load_wait_acks 30
assert_int_ge 1 "$(hist_acks 0 99999999999999 2)" "writes acknowledged by replica 2 before the fault"

pid2=${REPL_PID[2]}
fiu-ctrl -f "$T/fiu" -c "enable name=posix/io/sync/fdatasync,failinfo=5" "$pid2" ||
    fail "fiu-ctrl could not enable the fault in replica 2 (pid $pid2)"
t_on=$(_now_ms)
note "-- every fdatasync of replica 2 fails from now on"
load_wait_acks 20
sleep 1
after=$(cat "$HIST_DIR"/*.log | awk -v t="$t_on" '
    $1 == "op=write" && / status=ok / && / by=2 / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "t0" && kv[2] > t) n++ } }
    END { print n + 0 }')
if alive "$pid2"; then
    note "replica 2 still runs: it must be refusing"
    run cli_r 2 rate 77999 1 3.0
    assert_eq 3 "$RC" "an update at replica 2 while its fdatasync fails"
    fiu-ctrl -f "$T/fiu" -c "disable name=posix/io/sync/fdatasync" "$pid2"
    stop_replica 2
else
    reap "$pid2" 1
    REPL_PID[2]=""
    note "replica 2 stopped (exit status $REAPED): $(grep -a -m1 'durable' "$T/replica-2.log")"
fi
assert_eq 0 "$after" "writes sent to replica 2 after its fdatasync began to fail that it acknowledged"

start_replica 2
load_wait_acks 20
load_stop
hist_settle
