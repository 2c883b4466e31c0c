#!/usr/bin/env bash
# Scenario 3: message loss and delay on the replica hosts' links during a write load; once they
# are removed the replicas converge and every acknowledged write is everywhere.
#
# On each replica host: nftables drops 15% of the packets that arrive on its link (at random:
# replica-to-replica and front-end-to-replica traffic alike), and a token-bucket filter (tbf,
# 64 kbit/s, 1600-byte bucket, up to 500 ms of queue) on its outgoing side delays whatever
# exceeds the rate.  (This kernel has no netem, so there is no fixed-delay qdisc.)  Three
# workers write through one front end meanwhile; gossip must get through by retries.
. "$(dirname "$0")/lib.sh"
cluster_init
need_nft
need_tc

cluster_up --prefer 0
fe_start fe2 "$FE2_PROG" --prefer 2
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE2_PROG"
worker_start c 30000 "17 18 19" -r "${HOST_ADDR[2]}:$PROG"
sleep 2

mark lossy
for h in 1 2 3; do
    in_host "$h" nft -f - <<NFT || fail "nft on host $h failed"
table inet rdloss {
    chain in {
        type filter hook input priority 0; policy accept;
        iifname "eth0" numgen random mod 100 < 15 counter drop
    }
}
NFT
    in_host "$h" tc qdisc add dev eth0 root tbf rate 64kbit burst 1600 latency 500ms ||
        fail "tc tbf on host $h failed"
done
sleep 10
dropped=0
for h in 1 2 3; do
    n=$(in_host "$h" nft list table inet rdloss | grep -o 'packets [0-9]*' | awk '{ print $2 }')
    q=$(in_host "$h" tc -s qdisc show dev eth0 | tr '\n' ' ' | grep -o 'Sent [0-9]* bytes [0-9]* pkt (dropped [0-9]*, overlimits [0-9]*' )
    note "host $h: nft dropped ${n:-?} packets; tbf: $q)"
    dropped=$((dropped + ${n:-0}))
    status_of "$h" && note "host $h under loss: ${ST_LINE[$h]}"
done
mark clean
for h in 1 2 3; do
    in_host "$h" nft delete table inet rdloss || fail "cannot remove the loss rule on host $h"
    in_host "$h" tc qdisc del dev eth0 root || fail "cannot remove the tbf qdisc on host $h"
done
sleep 2
finish a b c

t0=$(phase_ms lossy) t1=$(phase_ms clean)
during=$(($(acks a "$t0" "$t1") + $(acks b "$t0" "$t1") + $(acks c "$t0" "$t1")))
retried=$(($(failed_attempts a "$t0" "$t1") + $(failed_attempts b "$t0" "$t1") + $(failed_attempts c "$t0" "$t1")))
note "under loss and delay: $dropped packets dropped, $during writes acknowledged, $retried attempts retried"
assert_gt 0 "$dropped" "packets dropped by the loss rules"
assert_gt 0 "$during" "writes acknowledged under loss and delay"
