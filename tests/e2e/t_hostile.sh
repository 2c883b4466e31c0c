#!/usr/bin/env bash
# Hostile bytes at every server port (each replica and the front end), sent with rawrpc
# (fuzz/rawrpc.c): garbage, truncated and oversized records, fragment floods, every kind of
# bad call header, credentials the servers do not take (AUTH_ERROR), arguments that break XDR bounds, forged gossip and snapshot calls.  After
# each one the server has answered with an RPC error (or a status inside a reply) or closed
# the connection, is still running, and still serves clients; at the end no state changed
# (digests and timestamps as before).  Also: 100 connections with huge length prefixes or an
# unsent 8 MiB fragment do not grow a server's memory, and 200 idle connections do not stop
# it serving others.  Every server listens on 127.0.0.1 only (the default).  docs/security.md
# lists the cases and answers.
. "$(dirname "$0")/lib.sh"
shopt -s extglob

RAW=$BIN/rawrpc
if [[ ! -x $RAW ]]; then
    RAW=$T/rawrpc
    cc -O2 -o "$RAW" "$E2E_ROOT/fuzz/rawrpc.c" || fail "cannot build fuzz/rawrpc.c"
fi

start_cluster 3
assert_converged
before_digest=${ST_DIGEST[0]:-} before_rts=${ST_RTS[0]:-} before_vts=${ST_VTS[0]:-}

# ---- bytes --------------------------------------------------------------------------

u32() { printf '%08x' "$1"; }
u64() { printf '%016x' "$1"; }
hexof() { od -An -v -tx1 | tr -d ' \n'; }
zeros() { printf '%*s' $((2 * $1)) '' | tr ' ' 0; }   # N zero bytes, in hex
# xstr STRING: an XDR string (length, bytes, zero padding to a multiple of 4).
xstr() {
    u32 "${#1}"
    printf '%s' "$1" | hexof
    zeros $(((4 - ${#1} % 4) % 4))
}

# Arguments.  rt_query_args: prev, then the query union.
QUERY_MOVIE1="$(u32 0)$(u32 1)$(u32 1)"
QUERY_BAD_KIND="$(u32 0)$(u32 9)$(u32 1)"
vts_of() { local n=$1 i; u32 "$n"; for ((i = 0; i < n; i++)); do u64 0; done; }
QUERY_VTS33="$(vts_of 33)$(u32 1)$(u32 1)"
QUERY_VTS4="$(vts_of 4)$(u32 1)$(u32 1)"
QUERY_VTS_HUGE="$(u32 0x7fffffff)$(u64 0)"
# rt_update_args for SUBMIT of a new movie: prev, uid, op {OP_ADD_MOVIE, movie, title, genres,
# user, halves}.
LONG_TITLE=$(printf 'x%.0s' $(seq 1 300))
SUBMIT_LONG_TITLE="$(u32 0)$(u64 1)$(u64 1)$(u32 3)$(u32 0)$(xstr "$LONG_TITLE")$(xstr Drama)$(u32 1)$(u32 8)"
SUBMIT_TITLE_LEN_ONLY="$(u32 0)$(u64 1)$(u64 1)$(u32 3)$(u32 0)$(u32 0xffffffff)"
# rt_gossip_args: from, epoch, replica_ts, records, more, mac.
# rt_gossip_args: from, epoch, replica_ts <>, records <>, more, recovering, mac <>.
gossip_from() { printf '%s' "$(u32 "$1")$(u64 0)$(u32 0)$(u32 0)$(u32 0)$(u32 0)$(u32 0)"; }
# A record from replica K that no replica could have made: its own entry of ts is 0.
insane_gossip() {
    local k=$1
    printf '%s' "$(u32 "$k")$(u64 0)$(u32 0)$(u32 1)"
    printf '%s' "$(u32 "$k")$(vts_of 3)$(vts_of 0)$(u64 1)$(u64 1)$(u64 0)$(u32 1)$(u32 1)$(u32 1)$(u32 8)"
    printf '%s' "$(u32 0)$(u32 0)$(u32 0)"
}
GOSSIP_513="$(u32 1)$(u64 0)$(u32 0)$(u32 513)"
# rt_snap_args: from, session, part, after_a, after_b, mac.
snap_args() { printf '%s' "$(u32 "$1")$(u64 0)$(u32 "$2")$(u64 0)$(u64 0)$(u32 0)"; }
# A SUBMIT that would rate 960/1 4.0 (in today's rt_update_args: prev, uid, op): sent with
# credentials the servers do not take, it must not run (the digests at the end say it did not).
SUBMIT_RATE="$(u32 0)$(u64 77)$(u64 1)$(u32 1)$(u32 960)$(u32 1)$(u32 8)"
# An AUTH_SYS body: stamp, machine name "h", uid 0, gid 0, no groups; and one cut short.
SYS_CRED="$(u32 1)$(xstr h)$(u32 0)$(u32 0)$(u32 0)"
SYS_CRED_SHORT="$(u32 1)$(u32 1000)"
# A call record by hand whose AUTH_SYS credential claims 4096 bytes (RFC 5531 allows 400).
big_cred_call() { printf '%s' "$(u32 0x80000060)$(u32 1)$(u32 0)$(u32 2)$(u32 "$1")$(u32 1)$(u32 0)$(u32 1)$(u32 4096)$(zeros 64)"; }

# ---- checks ---------------------------------------------------------------------------


NAME="" PROG="" PORT="" PID=""
CASES=0
raw() { run "$RAW" -w $((2000 * E2E_SCALE)) 127.0.0.1 "$PORT" "$@"; }
# raw_auth CRED VERF ARGS...: raw with the calls' credential (FLAVOR[:HEX]) and verifier flavor.
raw_auth() { local c=$1 v=$2; shift 2; run "$RAW" -w $((2000 * E2E_SCALE)) -c "$c" -v "$v" 127.0.0.1 "$PORT" "$@"; }

still_serving() {
    alive "$PID" || { reap "$PID" 1; fail "$NAME died after: $1 (exit $REAPED): $(tail -n 5 "$LOG" | tr '\n' ' ')"; }
    local o
    o=$(cli movie 1 2>&1) || fail "rating movie 1 failed after $NAME got: $1 ($o)"
    [[ $o == *"Toy Story"* ]] || fail "rating movie 1 after $NAME got $1: '$o'"
    CASES=$((CASES + 1))
}

# expect_closed WHAT: the server sent no reply and closed the connection.
expect_closed() {
    [[ $OUT != *reply* ]] || fail "$NAME answered $1: '$(_show "$OUT")'"
    [[ ${OUT##*$'\n'} == closed ]] || fail "$NAME did not close the connection after $1: '$(_show "$OUT")'"
    still_serving "$1"
}
# expect_reply WHAT REGEX: the first reply line matches, and the server is fine.
expect_reply() {
    local first=${OUT#sent +([0-9])$'\n'}   # frags says first how much it sent
    first=${first%%$'\n'*}
    [[ $first =~ $2 ]] || fail "$NAME: $1: expected a reply matching /$2/, got '$(_show "$OUT")'"
    still_serving "$1"
}
# expect_no_reply WHAT: nothing but "open"/"closed" (or partial garbage) came back.
expect_no_reply() {
    [[ $OUT != *reply* ]] || fail "$NAME answered $1: '$(_show "$OUT")'"
    still_serving "$1"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# listen_addrs PORT: the local addresses of the listening TCP sockets on PORT, from
# /proc/net/tcp{,6} (hex, as the kernel prints them: 0100007F is 127.0.0.1).
listen_addrs() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p="$hex" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print a[1] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' '
}

# ---- the cases, at one server ------------------------------------------------------------

# attack NAME PROG PID LOG KIND (KIND: replica K, or fe)
attack() {
    NAME=$1 PROG=$2 PID=$3 LOG=$4
    local kind=$5
    PORT=$(port_of "$PROG")
    [[ -n $PORT ]] || fail "no tcp port registered for $NAME (program $PROG)"
    note "---- $NAME: program $PROG, port $PORT, pid $PID"
    # Bound to loopback only, as configured by default (not the wildcard address).
    local addrs
    addrs=$(listen_addrs "$PORT")
    [[ $addrs == "0100007F " ]] || fail "$NAME listens on port $PORT at '$addrs', expected 127.0.0.1 only (0100007F)"

    # Garbage.
    raw raw "$(printf 'GET / HTTP/1.0\r\n\r\n' | hexof)"
    expect_closed "an HTTP request"
    raw raw "$(u32 0x80000010)ffffffffffffffffffffffffffffffff"
    expect_closed "a record of 0xff bytes"
    raw raw "$(head -c 256 /dev/urandom | hexof)"
    expect_no_reply "256 random bytes"
    raw raw "$(u32 0x80000000)"
    expect_closed "an empty record"
    raw raw "$(big_cred_call "$PROG")"
    expect_closed "a call whose credential claims 4096 bytes"
    # Truncated records: the mark says 1000 bytes, 10 come.
    raw raw "$(u32 0x800003e8)$(zeros 10)" close
    still_serving "a truncated record, then close"
    run "$RAW" -w 500 127.0.0.1 "$PORT" raw "$(u32 0x800003e8)$(zeros 10)"
    [[ $OUT == open ]] || fail "$NAME: a truncated record: expected the server to wait, got '$(_show "$OUT")'"
    still_serving "a truncated record, left open"
    # Length prefixes past the 8 MiB bound, fragment floods.
    raw raw "$(u32 0x7fffffff)"
    expect_closed "a record mark of 0x7fffffff bytes"
    raw raw "$(u32 0xffffffff)"
    expect_closed "a last fragment of 0x7fffffff bytes"
    raw frags 2 4194306 "$PROG"
    expect_closed "a call of 8 MiB + 4 bytes in 2 fragments"
    raw frags 16 1048576
    expect_closed "16 fragments of 1 MiB"
    raw frags 8 1048576 "$PROG"
    expect_reply "a NULL call padded to exactly 8 MiB" '^reply xid=0x5241 accepted SUCCESS'
    raw frags 100 64 "$PROG"
    expect_reply "a NULL call in 100 fragments" '^reply xid=0x5241 accepted SUCCESS'

    # Call headers.
    raw call "$PROG" 2 0
    expect_reply "version 2" '^reply xid=0x5241 accepted PROG_MISMATCH low=1 high=1$'
    run timeout 10 rpcinfo -T tcp 127.0.0.1 "$PROG" 2
    [[ $RC != 0 && "$OUT $ERR" == *"version 2 is not available"* ]] || fail "rpcinfo $PROG 2: rc=$RC '$OUT' '$ERR'"
    raw call $((PROG + 1000)) 1 0
    expect_reply "another program number" '^reply xid=0x5241 accepted PROG_UNAVAIL$'
    raw call "$PROG" 1 99
    expect_reply "procedure 99" '^reply xid=0x5241 accepted PROC_UNAVAIL$'
    raw call "$PROG" 1 4294967295
    expect_reply "procedure 2^32-1" '^reply xid=0x5241 accepted PROC_UNAVAIL$'
    # libtirpc's xdr_callmsg refuses a header whose RPC version is not 2, so the server
    # cannot tell it from garbage and closes (libtirpc's own servers do the same); an
    # RPC_MISMATCH reply would do too.
    raw call "$PROG" 1 0 "" 3
    if [[ $OUT == closed ]]; then expect_closed "RPC version 3"
    else expect_reply "RPC version 3" '^reply xid=0x5241 denied RPC_MISMATCH low=2 high=2$'; fi

    # Credentials (docs/security.md): AUTH_NONE and AUTH_SYS are served; any other flavor is
    # denied with AUTH_ERROR before the procedure runs, a malformed AUTH_SYS body too, and a
    # verifier that is not AUTH_NONE.
    local f
    for f in 2 3 6 7 390003; do
        raw_auth "$f" 0 call "$PROG" 1 0
        expect_reply "a NULL call with credential flavor $f" '^reply xid=0x5241 denied AUTH_ERROR AUTH_REJECTEDCRED$'
    done
    raw_auth "6:$(u32 1)$(u32 0)" 0 call "$PROG" 1 3 "$SUBMIT_RATE"
    expect_reply "a SUBMIT with an RPCSEC_GSS credential" '^reply xid=0x5241 denied AUTH_ERROR AUTH_REJECTEDCRED$'
    raw_auth "1:$SYS_CRED_SHORT" 0 call "$PROG" 1 3 "$SUBMIT_RATE"
    expect_reply "a SUBMIT with a malformed AUTH_SYS credential" '^reply xid=0x5241 denied AUTH_ERROR AUTH_BADCRED$'
    raw_auth 0 1 call "$PROG" 1 3 "$SUBMIT_RATE"
    expect_reply "a SUBMIT with an AUTH_SYS verifier" '^reply xid=0x5241 denied AUTH_ERROR AUTH_BADVERF$'
    raw_auth "1:$SYS_CRED" 0 call "$PROG" 1 0
    expect_reply "a NULL call with an AUTH_SYS credential" '^reply xid=0x5241 accepted SUCCESS'
    raw_auth "0:$(u32 7)" 0 call "$PROG" 1 0
    expect_reply "a NULL call with an AUTH_NONE credential that has a body" '^reply xid=0x5241 accepted SUCCESS'

    # Arguments that do not decode.
    raw call "$PROG" 1 1
    expect_reply "QUERY without arguments" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 1 "$QUERY_BAD_KIND"
    expect_reply "a query of kind 9" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 3 "$SUBMIT_LONG_TITLE"
    expect_reply "a new movie with a 300-byte title" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 3 "$SUBMIT_TITLE_LEN_ONLY"
    expect_reply "a title that claims 4 GiB" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 1 "$QUERY_VTS33"
    expect_reply "a timestamp of 33 entries" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 1 "$QUERY_VTS_HUGE"
    expect_reply "a timestamp that claims 2^31 entries" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    # Decodes, but is wrong: a timestamp longer than the cluster.
    raw call "$PROG" 1 1 "$QUERY_VTS4"
    expect_reply "a timestamp of 4 entries (3 replicas)" '^reply xid=0x5241 accepted SUCCESS 00000002'
    # Several calls on one connection, one of them bad: each gets its answer, in order.
    run "$RAW" -n 3 127.0.0.1 "$PORT" raw "$(u32 0x80000028)$(u32 1)$(u32 0)$(u32 2)$(u32 "$PROG")$(u32 1)$(u32 0)$(zeros 16)$(u32 0x80000028)$(u32 2)$(u32 0)$(u32 2)$(u32 "$PROG")$(u32 1)$(u32 77)$(zeros 16)$(u32 0x80000028)$(u32 3)$(u32 0)$(u32 2)$(u32 "$PROG")$(u32 1)$(u32 0)$(zeros 16)"
    [[ $OUT == $'reply xid=0x1 accepted SUCCESS \nreply xid=0x2 accepted PROC_UNAVAIL\nreply xid=0x3 accepted SUCCESS \nopen' ]] ||
        fail "$NAME: three calls on one connection: '$(_show "$OUT")'"
    still_serving "three calls on one connection"

    if [[ $kind == fe ]]; then
        raw call "$PROG" 1 5
        expect_reply "front-end procedure 5" '^reply xid=0x5241 accepted PROC_UNAVAIL$'
        raw call "$PROG" 1 6 "$(snap_args 1 0)"
        expect_reply "SNAPSHOT at the front end" '^reply xid=0x5241 accepted PROC_UNAVAIL$'
        return
    fi
    # Replica to replica: forged gossip and snapshot calls.
    local k=${kind#replica } peer
    peer=$(((k + 1) % 3))
    raw call "$PROG" 1 4 "$(gossip_from 7)"
    expect_reply "GOSSIP from replica 7 of 3" '^reply xid=0x5241 accepted SUCCESS 00000008'
    raw call "$PROG" 1 4 "$(gossip_from "$k")"
    expect_reply "GOSSIP from itself" '^reply xid=0x5241 accepted SUCCESS 00000008'
    raw call "$PROG" 1 4 "$(insane_gossip "$peer")"
    expect_reply "GOSSIP from replica $peer with a record it cannot have made" '^reply xid=0x5241 accepted SUCCESS 00000002'
    raw call "$PROG" 1 4 "$GOSSIP_513"
    expect_reply "GOSSIP of 513 records" '^reply xid=0x5241 accepted GARBAGE_ARGS$'
    raw call "$PROG" 1 6 "$(snap_args 7 0)"
    expect_reply "SNAPSHOT for replica 7 of 3" '^reply xid=0x5241 accepted SUCCESS 00000008'
    raw call "$PROG" 1 6 "$(snap_args "$peer" 99)"
    expect_reply "SNAPSHOT of part 99" '^reply xid=0x5241 accepted SUCCESS 00000002'
    raw call "$PROG" 1 6 "$(snap_args "$peer" 2)"
    expect_reply "SNAPSHOT page without a session" '^reply xid=0x5241 accepted SUCCESS 00000005'
}

for ((k = 0; k < NREPL; k++)); do
    attack "ratingd $k" $((PROG_BASE + k)) "${REPL_PID[$k]}" "$T/replica-$k.log" "replica $k"
done
attack ratingfe "$FE_PROG" "$FE_PID" "$T/frontend.log" fe
note "$CASES hostile inputs, every server alive and serving after each"

# ---- memory: many connections with huge length prefixes --------------------------------

# flood K: 100 connections with a 2 GiB length prefix (closed at once), then 100 that
# announce a record just under 8 MiB and send nothing more (the server waits, its buffer
# allocated), closed by us after a second.
flood() {
    local k=$1
    if ((k < NREPL)); then PROG=$((PROG_BASE + k)) PID=${REPL_PID[$k]} NAME="ratingd $k" LOG=$T/replica-$k.log
    else PROG=$FE_PROG PID=$FE_PID NAME=ratingfe LOG=$T/frontend.log; fi
    PORT=$(port_of "$PROG")
    raw conns 100 "$(u32 0x7fffffff)"
    assert_match "$OUT" '^100 closed, 0 open, 0 replies$' "$NAME: 100 connections with a 2 GiB length prefix"
    run "$RAW" -w 1000 127.0.0.1 "$PORT" conns 100 "$(u32 0x807ffff0)$(zeros 16)"
    assert_match "$OUT" '^0 closed, 100 open, 0 replies$' "$NAME: 100 connections announcing 8 MiB"
    still_serving "100 connections announcing 8 MiB"
}
declare -A rss0=()
pids=("${REPL_PID[@]}" "$FE_PID")
for ((k = 0; k <= NREPL; k++)); do flood "$k"; done   # warm-up: thread stacks, arenas
sleep 2
for p in "${pids[@]}"; do rss0[$p]=$(rss_kb "$p"); done
for round in 1 2; do
    for ((k = 0; k <= NREPL; k++)); do flood "$k"; done
done
sleep 2   # connection threads end when they see the close
for p in "${pids[@]}"; do
    r1=$(rss_kb "$p")
    grow=$((r1 - ${rss0[$p]}))
    note "pid $p: VmRSS ${rss0[$p]} kB -> $r1 kB ($grow kB) after 2 x 200 hostile connections"
    ((E2E_RSS_OWN)) || continue   # ASan's or valgrind's memory is not the server's (lib.sh)
    ((grow <= 4096)) || fail "pid $p grew by $grow kB after 2 x 200 hostile connections (bound 4096 kB)"
done

# ---- idle connections do not stop the service --------------------------------------------

PORT=$(port_of "$FE_PROG")
"$RAW" 127.0.0.1 "$PORT" hold 200 "" 30 >"$T/hold.out" 2>&1 &
hold_pid=$!
wait_for -m "200 idle connections to the front end are open" grep -q "holding 200" "$T/hold.out"
PID=$FE_PID NAME=ratingfe LOG=$T/frontend.log
still_serving "200 idle connections"
assert_exit 0 cli search Toy
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null

# ---- nothing changed ----------------------------------------------------------------------

assert_converged
for ((k = 0; k < NREPL; k++)); do
    assert_eq "$before_digest" "${ST_DIGEST[$k]:-}" "digest of replica $k after the hostile input"
    assert_eq "$before_rts" "${ST_RTS[$k]:-}" "replica timestamp of replica $k after the hostile input"
    assert_eq "$before_vts" "${ST_VTS[$k]:-}" "value timestamp of replica $k after the hostile input"
done
for ((k = 0; k < NREPL; k++)); do
    grep -q "refused GOSSIP claiming to be from replica 7" "$T/replica-$k.log" ||
        fail "replica $k did not log the forged gossip"
    grep -q "refused SNAPSHOT claiming to be from replica 7" "$T/replica-$k.log" ||
        fail "replica $k did not log the forged snapshot call"
done
