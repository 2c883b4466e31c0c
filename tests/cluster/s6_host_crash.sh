#!/usr/bin/env bash
# Scenario 6: a whole replica host crashes -- its rpcbind and its replica die at once (kill -9),
# the network stays up -- while clients write, and comes back (a fresh rpcbind, the replica on
# its old data dir).  The other replicas and the front end, which keep trying to reach it
# through its rpcbind, must survive that, serve the clients meanwhile, and converge with it
# once it is back.
. "$(dirname "$0")/lib.sh"
cluster_init

cluster_up --prefer 2
fe_start fe2 "$FE2_PROG" --prefer 0
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE2_PROG"
sleep 3
mark crash
rpcbind_kill9 3
replica_kill9 3
note "host 3 crashed: its rpcbind and its replica are dead"
sleep 6
servers_alive
mark reboot
rpcbind_start 3
replica_start 3
sleep 3
finish a b

t0=$(phase_ms crash) t1=$(phase_ms reboot)
during=$(acks b "$t0" "$t1" "0 1")
note "worker b (front end preferring replica 0): $during writes acknowledged while host 3 was down"
assert_gt 0 "$during" "writes acknowledged while host 3 was down"
