#!/usr/bin/env bash
# Only configured replicas may gossip: replicas 0 and 1 share a key file; replica 2 has another
# key.  0 and 1 exchange updates; replica 2's gossip is refused with a log line, and nothing it
# sends is applied.  Then replica 2 gets the right key and catches up.  Then a client calls
# GOSSIP and SNAPSHOT by hand: refused, logged, nothing applied (see the section below).
. "$(dirname "$0")/lib.sh"

printf 'the key of this test cluster, 42\n' >"$T/good.key"
printf 'an intruder with another key!!!\n' >"$T/bad.key"
chmod 600 "$T/good.key" "$T/bad.key"
start_cluster 3 -x 0 "--key-file $T/good.key" -x 1 "--key-file $T/good.key" \
    -x 2 "--key-file $T/bad.key"

assert_exit 0 cli_r 0 rate 970 1 4.0
assert_exit 0 cli_r 2 rate 971 1 1.5
wait_for -m "replica 1 has 970/1 from replica 0" replica_has 1 970 1 4.0
wait_for -m "replica 0 refused replica 2's gossip" \
    grep -q "refused GOSSIP claiming to be from replica 2" "$T/replica-0.log"
wait_for -m "replica 2 says its gossip is refused" grep -q "not authenticated" "$T/replica-2.log"
# Nothing crossed the boundary either way.
assert_exit 1 cli_r 0 get 971 1
assert_exit 1 cli_r 1 get 971 1
assert_exit 1 cli_r 2 get 970 1

# With the cluster's key, replica 2 joins the exchange.
stop_replica 2
start_replica 2 --key-file "$T/good.key"
wait_for -m "replica 0 has 971/1" replica_has 0 971 1 1.5
wait_for -m "replica 2 has 970/1" replica_has 2 970 1 4.0
wait_for -m "all converge" converged

# ---- a client that calls GOSSIP directly cannot inject an update ----------------------------
# A GOSSIP call by hand (fuzz/rawrpc.c) to replica 0, claiming to come from replica 1, with one
# record that would be applied if it were authentic: origin 1, the next sequence number of
# replica 1 as replica 0 knows it, no dependencies, rating 9999/1 = 4.0.  Unsigned, with a
# wrong MAC, signed with another key, or signed and then altered, it is refused (RT_DENIED, 8)
# with a log line, and nothing is applied.  The control at the end: the same message signed
# with the cluster's key is applied -- so the refusals were the authenticator's doing.
RAW=$BIN/rawrpc
if [[ ! -x $RAW ]]; then
    RAW=$T/rawrpc
    cc -O2 -o "$RAW" "$E2E_ROOT/fuzz/rawrpc.c" || fail "cannot build fuzz/rawrpc.c"
fi
KEY="the key of this test cluster, 42"   # good.key without its newline (auth.c strips it)
u32() { printf '%08x' "$1"; }
u64() { printf '%016x' "$1"; }
unhex() { local h=$1 e=""; while [[ -n $h ]]; do e+="\\x${h:0:2}"; h=${h:2}; done; printf '%b' "$e"; }
# hmac KEY HEX: the MAC of a GOSSIP call (common/auth.h): HMAC-SHA256 of "RP_GOSSIP", a zero
# byte, "C" and the bytes; in hex.
hmac() {
    { printf 'RP_GOSSIP\0C'; unhex "$2"; } | openssl dgst -sha256 -mac HMAC -macopt "key:$1" -binary |
        od -An -v -tx1 | tr -d ' \n'
}

get_status 0 || fail "status of replica 0"
rts=${ST_RTS[0]//[^0-9,]/}
IFS=, read -r -a rts <<<"$rts"
[[ ${#rts[@]} == 3 ]] || fail "replica 0's replica timestamp: '${ST_RTS[0]}'"
seq1=$((rts[1] + 1))
# rt_gossip_args without its mac: from 1, epoch 0, replica_ts [0, seq1, 0], one rt_record
# {origin 1, ts [0, seq1, 0], prev [], uid (0xbad, 1), stamp, OP_RATE user 9999 movie 1
# halves H}, more false, recovering false.
vts3="$(u32 3)$(u64 0)$(u64 "$seq1")$(u64 0)"
gossip_body() {
    printf '%s' "$(u32 1)$(u64 0)${vts3}$(u32 1)"
    printf '%s' "$(u32 1)${vts3}$(u32 0)$(u64 0xbad)$(u64 1)$(u64 "$(_now_ms)")"
    printf '%s' "$(u32 1)$(u32 9999)$(u32 1)$(u32 "$1")$(u32 0)$(u32 0)"
}
with_mac() { if [[ -z $2 ]]; then printf '%s00000000' "$1"; else printf '%s%s%s' "$1" "$(u32 $((${#2} / 2)))" "$2"; fi; }
body8=$(gossip_body 8)
PORT0=$(port_of "$PROG_BASE")
[[ -n $PORT0 ]] || fail "no tcp port registered for ratingd 0"
refusals() { grep -c "refused GOSSIP claiming to be from replica 1: missing or wrong authenticator" "$T/replica-0.log"; }
r0=$(refusals)
forge() {   # WHAT ARGHEX: GOSSIP to replica 0 must get RT_DENIED
    run "$RAW" -w $((4000 * E2E_SCALE)) 127.0.0.1 "$PORT0" call "$PROG_BASE" 1 4 "$2"
    [[ $OUT =~ ^reply\ xid=0x5241\ accepted\ SUCCESS\ 00000008 ]] ||
        fail "GOSSIP $1: expected RT_DENIED (8), got '$(_show "$OUT")'"
}
forge "without a MAC" "$(with_mac "$body8" "")"
forge "with 32 zero bytes as MAC" "$(with_mac "$body8" "$(printf '%064d' 0)")"
forge "signed with another key" "$(with_mac "$body8" "$(hmac "an intruder with another key!!!" "$(with_mac "$body8" "")")")"
body2=$(gossip_body 2)
forge "signed, then its rating changed" "$(with_mac "$body8" "$(hmac "$KEY" "$(with_mac "$body2" "")")")"
# A client cannot read the database through SNAPSHOT either: SNAP_BEGIN without a MAC.
run "$RAW" -w $((4000 * E2E_SCALE)) 127.0.0.1 "$PORT0" call "$PROG_BASE" 1 6 \
    "$(u32 1)$(u64 0)$(u32 0)$(u64 0)$(u64 0)$(u32 0)"
[[ $OUT =~ ^reply\ xid=0x5241\ accepted\ SUCCESS\ 00000008 ]] ||
    fail "SNAPSHOT without a MAC: expected RT_DENIED (8), got '$(_show "$OUT")'"
grep -q "refused SNAPSHOT claiming to be from replica 1" "$T/replica-0.log" ||
    fail "replica 0 did not log the refused SNAPSHOT"
r1=$(refusals)
((r1 - r0 >= 4)) || fail "replica 0 logged $((r1 - r0)) refused GOSSIP calls of the 4 forged ones"
sleep 1   # a few gossip rounds
for k in 0 1 2; do
    replica_lacks "$k" 9999 1 || fail "replica $k has the rating of a forged GOSSIP call"
done
get_status 0 || fail "status of replica 0"
assert_eq "$(IFS=,; echo "${rts[*]}")" "${ST_RTS[0]//[^0-9,]/}" "replica 0's replica timestamp after the forged calls"

# The control.  Replica 1 is stopped first: a record of its origin that it never made would
# clash with its own next update.
stop_replica 1
forged=$(with_mac "$body8" "$(hmac "$KEY" "$(with_mac "$body8" "")")")
run "$RAW" -w $((4000 * E2E_SCALE)) 127.0.0.1 "$PORT0" call "$PROG_BASE" 1 4 "$forged"
[[ $OUT =~ ^reply\ xid=0x5241\ accepted\ SUCCESS\ 00000000 ]] ||
    fail "the same GOSSIP signed with the cluster's key: expected RT_OK (0), got '$(_show "$OUT")'"
wait_for -m "replica 0 applied the signed record" replica_has 0 9999 1 4.0
wait_for -m "replica 2 got it by gossip" replica_has 2 9999 1 4.0
