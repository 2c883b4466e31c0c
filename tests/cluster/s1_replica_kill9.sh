#!/usr/bin/env bash
# Scenario 1: a replica killed with -9 and restarted while clients write.
#
# Front end "fe" prefers replica 1 (host 2), the one that dies; "fe2" prefers replica 0.
# Workers a and b write through fe, so their sessions depend on replica 1's latest updates,
# which may not have been gossiped when it dies: they must then wait (or get "unavailable")
# rather than see older data, and carry on once it is back.  Worker c writes through fe2:
# its session does not depend on replica 1, so it keeps writing while replica 1 is down.
# Restarted on the same data dir, replica 1 must still hold everything it acknowledged before
# the kill and catch up by gossip.
. "$(dirname "$0")/lib.sh"
cluster_init

cluster_up --prefer 1
fe_start fe2 "$FE2_PROG" --prefer 0
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start c 30000 "17 18 19" -H "${HOST_ADDR[c]}" -P "$FE2_PROG"
sleep 3
mark down
replica_kill9 2
sleep 4
mark up
replica_start 2
sleep 3
finish a b c

t_down=$(phase_ms down) t_up=$(phase_ms up)
before=$(($(acks a 0 "$t_down" 1) + $(acks b 0 "$t_down" 1)))
blocked=$(($(acks a "$t_down" "$t_up") + $(acks b "$t_down" "$t_up")))
during=$(acks c "$t_down" "$t_up" "0 2")
after=$(($(acks a "$t_up") + $(acks b "$t_up")))
note "a+b: $before writes acknowledged by replica 1 before the kill, $blocked while it was down, $after after its restart; c: $during acknowledged by replicas 0 and 2 while replica 1 was down"
assert_gt 0 "$before" "writes acknowledged by replica 1 before the kill"
assert_gt 0 "$during" "writes of worker c (front end preferring replica 0) while replica 1 was down"
assert_gt 0 "$after" "writes of workers a and b after replica 1 came back"
