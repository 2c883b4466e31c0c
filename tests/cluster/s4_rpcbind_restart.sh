#!/usr/bin/env bash
# Scenario 4: rpcbind on a replica host is killed and started again (in the same namespaces)
# while clients write.  rpcbind keeps registrations in memory only, so the new one starts
# empty: the replica must notice and register again, and then be found again -- by clients
# that look it up afresh (`rating -r`), by a front end started afterwards, and by a peer that
# restarts and has to look it up through the new rpcbind.
#
# The front end prefers replica 1 (host 2, whose rpcbind dies).  While it is gone, nothing new
# can find replica 1; already open connections keep working.
. "$(dirname "$0")/lib.sh"
cluster_init

cluster_up --prefer 1
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
sleep 2
registered_at 2 "$PROG" || fail "replica 1 is not registered at host 2's rpcbind at the start"

mark rpcbind-down
rpcbind_kill9 2
note "host 2: killed -9 rpcbind"
in_host c timeout 5 rpcinfo -p "${HOST_ADDR[2]}" >/dev/null 2>&1 && fail "host 2's rpcbind still answers after kill -9"
sleep 1
mark rpcbind-up
rpcbind_start 2
if registered_at 2 "$PROG"; then
    note "host 2: the new rpcbind already lists replica 1"
else
    note "host 2: the new rpcbind starts empty (replica 1 not registered)"
fi
# (servers_alive first: a replica that crashed will never register again.)
registered_again() { servers_alive; registered_at 2 "$PROG"; }
wait_for -t 15 -m "replica 1 registered again with host 2's new rpcbind" registered_again
note "replica 1 registered again $WAITED_MS ms after rpcbind came back"
grep -q 'registered again' "$T/h2/replica.log" ||
    note "(replica 1's log does not say it registered again)"
wait_for -t 10 -m "a fresh lookup of replica 1 from the client host (rating -r ... status)" status_of 2

# Found again by a front end that looks it up now, and used: an update accepted by replica 1.
fe_start fe2 "$FE2_PROG" --prefer 1
run cli_fe "$FE2_PROG" rate 40000 11 3.5
assert_eq 0 "$RC" "exit status of a rate through a new front end (stderr '$ERR')"
[[ $OUT =~ ^ok\ replica=1\  ]] || fail "the new front end (prefers replica 1) did not use replica 1: '$OUT'"

# Found again by a peer that looks it up now: replica 0 restarts and, with replica 2 stopped
# (so nothing relays), must gossip with replica 1 itself to get an update made there.
replica_stop 3
replica_stop 1
replica_start 1
run cli_r 2 rate 40001 12 4.5
assert_eq 0 "$RC" "exit status of a rate directly at replica 1"
wait_for -t 20 -m "replica 0 (restarted) has the update made at replica 1, by gossip with it" \
    eval '[[ $(cli_r 1 get 40001 12 2>/dev/null) == 4.5 ]]'
grep -E "replica 1|peer 1|10\.213\.[0-9]+\.2" "$T/h1/replica.log" | tail -n 3 | sed 's/^/    replica 0 log: /'
replica_start 3
sleep 2
finish a b

t0=$(phase_ms rpcbind-down)
note "a+b: $(($(acks a "$t0") + $(acks b "$t0"))) writes acknowledged after rpcbind was killed ($(($(acks a "$t0" 99999999999999 1) + $(acks b "$t0" 99999999999999 1))) by replica 1)"
