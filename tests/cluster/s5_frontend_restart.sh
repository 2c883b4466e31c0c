#!/usr/bin/env bash
# Scenario 5: the front end is killed with -9 and started again while clients write.  The
# clients keep their session files (the front end is stateless about them): they get
# "unavailable" while it is down, retry their write with the same update id, and carry on --
# with no lost write and no older read -- once it is back.  The new front end prefers another
# replica (2 instead of 0), so the sessions' timestamps, not the front end, must keep the
# guarantees across the restart.
. "$(dirname "$0")/lib.sh"
cluster_init

cluster_up --prefer 0
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
sleep 3
mark fe-down
fe_kill9 fe
registered_at c "$FE_PROG" && note "the dead front end's registration is still in the client host's rpcbind (as after any crash)"
sleep 2
mark fe-up
fe_start fe "$FE_PROG" --prefer 2
sleep 3
finish a b

t_down=$(phase_ms fe-down) t_up=$(phase_ms fe-up)
before=$(($(acks a 0 "$t_down") + $(acks b 0 "$t_down")))
failed=$(($(failed_attempts a "$t_down" "$t_up") + $(failed_attempts b "$t_down" "$t_up")))
after=$(($(acks a "$t_up" 99999999999999 2) + $(acks b "$t_up" 99999999999999 2)))
note "$before writes acknowledged before the kill; $failed attempts got 'unavailable' while the front end was down; $after acknowledged by replica 2 through the new front end"
assert_gt 0 "$before" "writes acknowledged before the front end was killed"
assert_gt 0 "$failed" "write attempts that failed while the front end was down (the clients noticed)"
assert_gt 0 "$after" "writes acknowledged through the restarted front end (prefers replica 2)"
