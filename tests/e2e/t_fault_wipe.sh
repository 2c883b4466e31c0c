#!/usr/bin/env bash
# Fault class of issue 10: a replica wiped while the peer that knows most of its updates is
# away, under a write load.  Replica 1 is down while sessions write at replica 2 (straight)
# and through the front end, so replica 0 is the only one with replica 2's updates; then
# replica 2's data is wiped, replica 0 stops, replica 1 and replica 2 start again (2 joins
# from 1), the load goes on, and replica 0 comes back.  The cluster must converge with every
# acknowledged write and the history pass histcheck (t_lost_state is the same without load).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

start_cluster 3
hist_init
LOAD_GIVEUP_S=30
load_start a 79500 -H 127.0.0.1 -P "$FE_PROG"
load_start b 79600 -r "127.0.0.1:$((PROG_BASE + 2))"
load_wait_acks 10
stop_replica 1
note "-- replica 1 down"
load_wait_acks 30
# What replica 2 acknowledged must be at replica 0 before the wipe (the wipe destroys the
# only copy of anything else): the sessions pause, in-flight calls end, replica 0 catches up.
load_pause a b
sleep 1
wait_for -m "replica 0 has every update replica 2 accepted" has_all_of 0 2
kill9_replica 2
rm -f "$DATA"/replica-2.db "$DATA"/replica-2.db-wal "$DATA"/replica-2.db-shm "$DATA"/replica-2.lock
stop_replica 0
note "-- replica 2 wiped, replica 0 (which has its updates) away"
load_resume a b
start_replica 1
start_replica -r 2   # it recovers: the peer with its updates is away
sleep 3
start_replica 0
note "-- replica 0 back"
load_wait_acks 30
load_stop
hist_settle
