#!/usr/bin/env bash
# Fault class of issue 10: replicas whose clocks disagree, and a clock that jumps backward,
# under a write load (libfaketime: the replicas' wall clock only; their monotonic clock and
# everything else are real).  Replica 1 runs an hour behind, replica 2 an hour ahead; later
# replica 0's clock jumps back an hour, then replica 2's jumps back two (from an hour ahead
# to an hour behind).  Last-writer-wins stamps come from these clocks, so a session's later
# write landing on a slow replica must still win over its earlier one on a fast replica, and
# every replica must end with the same values: histcheck checks the history.  Two client
# sessions run an hour behind and an hour ahead as well.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"
need_faketime

start_cluster 3
# Each replica's fake clock is a file it rereads (FAKETIME_NO_CACHE): an offset like "-1h".
clock() { echo "$2" >"$T/clock$1"; note "-- replica $1's clock: $2"; }
for k in 0 1 2; do
    stop_replica "$k"
    clock "$k" "$(case $k in 0) echo +0 ;; 1) echo -1h ;; 2) echo +1h ;; esac)"
    start_replica_env "$k" "LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock$k FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
done
assert_converged

hist_init
load_start a 76000 -H 127.0.0.1 -P "$FE_PROG"
load_start b 76100 -r "127.0.0.1:$PROG_BASE"
load_start c 76200 -r "127.0.0.1:$((PROG_BASE + 1))"
load_start d 76300 -r "127.0.0.1:$((PROG_BASE + 2))"
# Clients with skewed clocks too (once the client picks the stamps, theirs matter).
echo -1h >"$T/clock-e"
echo +1h >"$T/clock-f"
LOAD_ENV="LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock-e FAKETIME_NO_CACHE=1" load_start e 76400 -H 127.0.0.1 -P "$FE_PROG"
LOAD_ENV="LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock-f FAKETIME_NO_CACHE=1" load_start f 76500 -H 127.0.0.1 -P "$FE_PROG"
load_wait_acks 40
clock 0 -1h
load_wait_acks 40
clock 2 -1h
load_wait_acks 40
load_stop

# The logs say when: replica 0's lines jump back an hour, replica 2's two.
hist_settle
