#!/usr/bin/env bash
# Scenario 2: a network partition between the replicas, {host 1} | {hosts 2, 3}, while clients
# write on both sides, then healed: every replica converges and keeps every acknowledged write.
#
# The partition is an nftables rule on each replica host that drops every packet arriving from
# a replica on the other side (silently: calls across it time out, as on a real network).  The
# client host still reaches all three.  Worker a writes through front end "fe" (prefers
# replica 0, side {1}), worker b through "fe2" (prefers replica 1, side {2,3}), worker c
# directly at replica 2 (host 3) with `rating -r`.
. "$(dirname "$0")/lib.sh"
cluster_init
need_nft

cluster_up --prefer 0
fe_start fe2 "$FE2_PROG" --prefer 1
worker_start a 10000 "11 12 13" -H "${HOST_ADDR[c]}" -P "$FE_PROG"
worker_start b 20000 "14 15 16" -H "${HOST_ADDR[c]}" -P "$FE2_PROG"
worker_start c 30000 "17 18 19" -r "${HOST_ADDR[3]}:$PROG"
sleep 2

# partition H "ADDR..." : host H drops what arrives from those addresses.
partition() {
    local h=$1 from=$2
    in_host "$h" nft -f - <<NFT || fail "nft on host $h failed"
table inet rdpart {
    chain in {
        type filter hook input priority 0; policy accept;
        ip saddr { $from } counter drop
    }
}
NFT
}
mark split
partition 1 "$NET.2, $NET.3"
partition 2 "$NET.1"
partition 3 "$NET.1"
sleep 6
# Still split: replica 0 and replica 1 have seen different updates.
for h in 1 2 3; do status_of "$h" || fail "status of host $h during the partition: ${ST_LINE[$h]}"; note "during the partition, host $h: ${ST_LINE[$h]}"; done
[[ ${ST_RTS[1]} != "${ST_RTS[2]}" ]] || fail "replicas 0 and 1 have the same replica timestamp during the partition: is it real?"
for h in 1 2 3; do note "host $h drop counter: $(in_host "$h" nft list table inet rdpart | grep -o 'packets [0-9]*')"; done
mark heal
for h in 1 2 3; do in_host "$h" nft delete table inet rdpart || fail "cannot remove the partition on host $h"; done
sleep 2
finish a b c

t_split=$(phase_ms split) t_heal=$(phase_ms heal)
side1=$(($(acks a "$t_split" "$t_heal" 0) + $(acks b "$t_split" "$t_heal" 0) + $(acks c "$t_split" "$t_heal" 0)))
side23=$(($(acks a "$t_split" "$t_heal" "1 2") + $(acks b "$t_split" "$t_heal" "1 2") + $(acks c "$t_split" "$t_heal" "1 2")))
note "during the partition: $side1 writes acknowledged on side {replica 0}, $side23 on side {replicas 1, 2}"
assert_gt 0 "$side1" "writes acknowledged by replica 0 during the partition"
assert_gt 0 "$side23" "writes acknowledged by replicas 1 and 2 during the partition"
