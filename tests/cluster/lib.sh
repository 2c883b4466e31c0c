# shellcheck shell=bash
# lib.sh -- the multi-host fault tests of ratingd.  Sourced by every tests/cluster/s*_*.sh.
# What any suite needs (reporting, assertions, run, wait_for, processes, the end of a test)
# is tests/lib/harness.sh, which this sources; this file adds the hosts, their servers and
# the clients' histories.
#
# The hosts
#   Each scenario builds its own small network out of Linux network namespaces, all named
#   with a random id CL_ID that is new for every scenario (so that parallel runs never meet):
#
#       rdh-ID   a hub: one bridge (br0); no address, no processes
#       rd1-ID   replica host 1, 10.213.X.1 on its eth0 (veth to the hub)  replica id 0
#       rd2-ID   replica host 2, 10.213.X.2                                replica id 1
#       rd3-ID   replica host 3, 10.213.X.3                                replica id 2
#       rdc-ID   client host,    10.213.X.100: the front end(s) and the clients
#
#   X is random too.  The addresses exist only inside these namespaces: no namespace has a
#   route beyond 10.213.X.0/24, and the root namespace gets no interface at all (the veth pairs
#   are created inside the hub), so no packet of the test can leave it.
#
#   Every host has its own mount namespace with a private tmpfs on /run and its own rpcbind
#   (design note: "One rpcbind per namespace host").  A host is held by a `sleep infinity`
#   process (HOLDER[h]) started as
#       ip netns exec rdh-ID unshare -m --propagation private sh -c \
#           'mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind && exec sleep infinity'
#   and everything else runs in it with `nsenter -t HOLDER -m -n` (in_host), so rpcbind can be
#   killed and started again in the same namespaces.
#
#   The deployment is the documented multi-host one (docs/deployment.md): one replica per host,
#   --listen on the host's address, the SAME replica list on every host and in every front end
#       --replicas 10.213.X.1:0x2f5a7100,10.213.X.2:0x2f5a7100,10.213.X.3:0x2f5a7100
#   (one program number on every host: each host has its own rpcbind), and the same key file
#   (copied to each host's directory) for authenticated gossip.
#
# Clients and their history (worker.sh)
#   A worker is a client loop on the client host: each write goes through a front end (or one
#   replica) with a session file and its own update id (--uid), and is retried with the same id
#   until it is acknowledged; each key (user, movie) belongs to one worker, whose values only
#   grow (0.5, 1.0, ... 5.0), so "newer" means "larger".  After every write it reads the key
#   back and reads one of its older keys.  history_check then finds, from the worker's log:
#     read-your-writes  a read of a key returned less than (or "not found" for) its last
#                       acknowledged write
#     monotonic reads   a read returned less than an earlier read of the same key
#     phantom           a read returned a value the worker never wrote
#     errors            any exit status but 0 (ok) and 3 (unavailable, retried), a given-up write
#   and final_check asks every replica for every key after convergence: each must hold the
#   worker's last acknowledged value (no acknowledged write lost).
#
# Cleanup (trap EXIT, INT, TERM): workers, front ends and replicas get SIGTERM (servers must exit
# 0), then every process still in one of the scenario's network namespaces (`ip netns pids`:
# rpcbinds, holders, anything) gets SIGKILL, then the namespaces are deleted -- with them the
# bridge, the veth pairs, the nftables rules and qdiscs; the /run tmpfs mounts die with their
# mount namespaces.  The temp dir $T is removed on success, kept on failure (CL_KEEP=1: always).
#
# Variables: CL_KEEP=1 (keep $T), BIN, CL_RUN_DIR and CL_RUN_ID (set by run.sh).

set -u -o pipefail
# No configuration file: an installed ratingd.conf must not change what the tests start.
export RATING_CONFIG=

CL_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CL_ROOT=$(cd "$CL_HERE/../.." && pwd)
SCEN=${SCEN:-$(basename "$0" .sh)}
: "${BIN:=$CL_ROOT/build/bin}"
BIN=$(cd "$BIN" 2>/dev/null && pwd || echo "$BIN")
: "${CL_RUN_DIR:=}"
: "${CL_RUN_ID:=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}"
DATASET="$CL_ROOT/tests/e2e/data"   # 22 movies (ids 1..20, 7789, 114335), 103 ratings

PROG=0x2f5a7100          # every replica, each on its own host
FE_PROG=0x2f5a7000       # the first front end on the client host
# shellcheck disable=SC2034 # used by the scenarios
FE2_PROG=0x2f5a7001      # a second one
GOSSIP_MS=200            # replicas gossip every 200 ms
PEER_MS=500              # --timeout of a replica's calls to its peers
FE_TIMEOUT=1000          # --timeout of the front end's calls to a replica
FE_WAIT=3000             # --wait of the front end
CLIENT_MS=6000           # the client's -t

PATH="$PATH:/usr/sbin:/sbin"

# ---- reporting: tests/lib/harness.sh, and the phases of a fault ------------------------

HARNESS_NAME=$SCEN HARNESS_RUN_DIR=$CL_RUN_DIR HARNESS_WAIT=20 HARNESS_SCALE=1 HARNESS_POLL=0.2
HARNESS_SHOW_MAX=400 HARNESS_KEEP=${CL_KEEP:-}
. "$CL_ROOT/tests/lib/harness.sh"
T=""

# mark EVENT: a time stamp in $T/phases, for counting what the clients did during a fault.
mark() { echo "$(now_ms) $1" >>"$T/phases"; note "-- $1"; }
phase_ms() { awk -v e="$1" '$2 == e { print $1; exit }' "$T/phases"; }

# ---- prerequisites ----------------------------------------------------------------------

# cluster_prereqs: skip (exit 77) unless this machine can run the test: root, ip netns,
# unshare, nsenter, rpcbind, the binaries.
cluster_prereqs() {
    [[ $(id -u) == 0 ]] || skip "not root: network namespaces need root (run make test-cluster as root)"
    local c
    for c in ip unshare nsenter rpcbind rpcinfo; do
        command -v "$c" >/dev/null || skip "$c not found (scripts/setup.sh installs iproute2, util-linux, rpcbind)"
    done
    for c in ratingd ratingfe rating; do
        [[ -x $BIN/$c ]] || fail "$BIN/$c is not built (make)"
    done
}
need_nft() { command -v nft >/dev/null || skip "nft not found (scripts/setup.sh installs nftables)"; }
need_tc() { command -v tc >/dev/null || skip "tc not found (iproute2)"; }

# ---- hosts ------------------------------------------------------------------------------

CL_ID=""
NET=""
declare -a CL_NETNS=()           # every namespace created (for cleanup)
declare -A NS=() HOLDER=() RPCB_PID=() HOST_ADDR=()
declare -A REPL_PID=() FE_PID=() WORKER_PID=()
SPEC=""
HOSTS="1 2 3 c"

# net_up: the hub, four hosts, their links and addresses, their /run and rpcbind.
net_up() {
    CL_ID=${CL_RUN_ID}$(od -An -N1 -tx1 /dev/urandom | tr -d ' \n')
    NET="10.213.$((RANDOM % 254 + 1))"
    local h ns i=0
    NS[hub]="rdh-$CL_ID"
    for h in $HOSTS; do NS[$h]="rd$h-$CL_ID"; done
    HOST_ADDR[1]=$NET.1 HOST_ADDR[2]=$NET.2 HOST_ADDR[3]=$NET.3 HOST_ADDR[c]=$NET.100
    for ns in "${NS[hub]}" "${NS[1]}" "${NS[2]}" "${NS[3]}" "${NS[c]}"; do
        ip netns list | grep -qw -- "$ns" && fail "namespace $ns exists already"
        ip netns add "$ns" || fail "ip netns add $ns failed"
        CL_NETNS+=("$ns")
        ip -n "$ns" link set lo up || fail "ip -n $ns link set lo up failed"
    done
    ip -n "${NS[hub]}" link add br0 type bridge || fail "cannot create a bridge in ${NS[hub]}"
    ip -n "${NS[hub]}" link set br0 up
    for h in $HOSTS; do
        i=$((i + 1))
        # The pair is made inside the hub; one end moves straight into the host.
        ip -n "${NS[hub]}" link add "v$h" type veth peer name eth0 netns "${NS[$h]}" ||
            fail "cannot create the veth pair of host $h"
        ip -n "${NS[hub]}" link set "v$h" master br0 up
        ip -n "${NS[$h]}" addr add "${HOST_ADDR[$h]}/24" dev eth0
        ip -n "${NS[$h]}" link set eth0 up
    done
    SPEC="$NET.1:$PROG,$NET.2:$PROG,$NET.3:$PROG"
    note "network $NET.0/24: hosts ${NS[1]} ${NS[2]} ${NS[3]} (replicas), ${NS[c]} (client), hub ${NS[hub]}"
    for h in $HOSTS; do
        mkdir -p "$T/h$h"
        _holder "$h"
        rpcbind_start "$h"
    done
}

# _holder H: the process that keeps host H's mount namespace (private /run) alive.
_holder() {
    local h=$1 i
    ip netns exec "${NS[$h]}" unshare -m --propagation private sh -c \
        'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/rpcbind && exec sleep infinity' \
        </dev/null >>"$T/h$h/holder.log" 2>&1 &
    HOLDER[$h]=$!
    for i in $(seq 1 100); do
        [[ $(cat "/proc/${HOLDER[$h]}/comm" 2>/dev/null) == sleep ]] && return 0
        [[ -e /proc/${HOLDER[$h]} ]] || break
        sleep 0.05
    done
    fail "host $h: could not set up its mount namespace: $(cat "$T/h$h/holder.log")"
}

# in_host H CMD...: run CMD on host H (its network and mount namespaces).  Absolute paths only.
# (A process started in the background calls nsenter itself, not this function, so that $! is
# the process -- nsenter execs it -- and not a subshell.)
in_host() {
    local h=$1
    shift
    nsenter -t "${HOLDER[$h]}" -m -n -- "$@"
}

# rpcbind_start H: start host H's rpcbind (in the foreground, so we know its pid).
rpcbind_start() {
    local h=$1
    nsenter -t "${HOLDER[$h]}" -m -n -- rpcbind -f -w </dev/null >>"$T/h$h/rpcbind.log" 2>&1 &
    RPCB_PID[$h]=$!
    local i
    for i in $(seq 1 100); do
        in_host "$h" rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "host $h: rpcbind does not answer: $(cat "$T/h$h/rpcbind.log")"
}

# rpcbind_kill9 H: kill host H's rpcbind; its registrations are gone with it.
rpcbind_kill9() {
    local h=$1
    { kill -KILL "${RPCB_PID[$h]}"; reap "${RPCB_PID[$h]}" 5; } 2>/dev/null
    RPCB_PID[$h]=""
}

# reachable H ADDR PROG: a NULL call from host H to PROG at ADDR over TCP (through ADDR's rpcbind).
# (rpcinfo takes decimal program numbers only.)
reachable() { in_host "$1" timeout 5 rpcinfo -T tcp "$2" "$(($3))" 1 >/dev/null 2>&1; }
# registered_at H PROG: host H's rpcbind lists PROG (asked from the client host, over the net).
registered_at() { in_host c timeout 5 rpcinfo -p "${HOST_ADDR[$1]}" 2>/dev/null | awk -v p="$(($2))" '$1 == p { f = 1 } END { exit !f }'; }

# ---- servers ----------------------------------------------------------------------------

# cluster_up [FE args]: network, hosts, a key file on every host, replicas on hosts 1..3, and
# one front end (FE_PROG) on the client host, with FE args.
cluster_up() {
    net_up
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/key"
    local h
    for h in 1 2 3; do
        install -m 600 "$T/key" "$T/h$h/key"
        mkdir -p "$T/h$h/data"
        _spawn_replica "$h"
    done
    for h in 1 2 3; do _wait_replica "$h"; done
    for h in 1 2 3; do _wait_settled "$h"; done
    fe_start fe "$FE_PROG" "$@"
}

# _spawn_replica H [args]: replica H-1 on host H.
_spawn_replica() {
    local h=$1
    shift
    nsenter -t "${HOLDER[$h]}" -m -n -- "$BIN/ratingd" --id $((h - 1)) --replicas "$SPEC" --listen "${HOST_ADDR[$h]}" \
        --data-dir "$T/h$h/data" --movielens "$DATASET" --key-file "$T/h$h/key" \
        --gossip-ms "$GOSSIP_MS" --timeout "$PEER_MS" "$@" \
        </dev/null >>"$T/h$h/replica.log" 2>&1 &
    REPL_PID[$h]=$!
    note "host $h: started ratingd --id $((h - 1)) (pid $!) --listen ${HOST_ADDR[$h]} $*"
}
_wait_replica() {
    local h=$1 deadline=$(($(now_ms) + 30000))
    until reachable c "${HOST_ADDR[$h]}" "$PROG"; do
        if ! alive "${REPL_PID[$h]}"; then
            reap "${REPL_PID[$h]}" 1
            fail "replica on host $h exited ($REAPED) before it was reachable: $(tail -n 5 "$T/h$h/replica.log" | tr '\n' ' ')"
        fi
        (($(now_ms) > deadline)) && fail "replica on host $h not reachable from the client host after 30 s: $(tail -n 5 "$T/h$h/replica.log" | tr '\n' ' ')"
        sleep 0.1
    done
    note "host $h: replica $((h - 1)) reachable at ${HOST_ADDR[$h]} program $PROG"
}
# _wait_settled H: until replica H-1 has heard from its peers (it is not recovering and numbers
# updates: docs/algorithm.md).
_wait_settled() {
    local h=$1 deadline=$(($(now_ms) + 30000))
    until status_of "$h" && [[ ${ST_STATE[$h]} != recovering ]]; do
        (($(now_ms) > deadline)) && fail "replica on host $h still recovering after 30 s: ${ST_LINE[$h]}"
        sleep 0.1
    done
}
replica_start() { _spawn_replica "$@"; _wait_replica "$1"; }

# replica_kill9 H: SIGKILL the replica on host H (its registration stays behind).
replica_kill9() {
    local h=$1
    { kill -KILL "${REPL_PID[$h]}"; reap "${REPL_PID[$h]}" 5; } 2>/dev/null || fail "replica on host $h survived SIGKILL"
    REPL_PID[$h]=""
    note "host $h: killed -9 its replica"
}

# replica_stop H: SIGTERM; it must exit 0.
replica_stop() {
    local h=$1
    kill -TERM "${REPL_PID[$h]}" 2>/dev/null
    reap "${REPL_PID[$h]}" 15 || fail "replica on host $h did not exit within 15 s of SIGTERM"
    REPL_PID[$h]=""
    [[ $REAPED == 0 ]] || fail "replica on host $h exited $REAPED after SIGTERM (expected 0)"
    note "host $h: stopped its replica"
}

# fe_start NAME PROG [args]: a front end on the client host, listening on its address.
fe_start() {
    local name=$1 prog=$2
    shift 2
    nsenter -t "${HOLDER[c]}" -m -n -- "$BIN/ratingfe" --prog "$prog" --replicas "$SPEC" --listen "${HOST_ADDR[c]}" \
        --timeout "$FE_TIMEOUT" --wait "$FE_WAIT" "$@" </dev/null >>"$T/hc/$name.log" 2>&1 &
    FE_PID[$name]=$!
    note "client host: started ratingfe $name (pid $!) --prog $prog $*"
    local deadline=$(($(now_ms) + 20000))
    until reachable c "${HOST_ADDR[c]}" "$prog"; do
        alive "${FE_PID[$name]}" || fail "front end $name exited: $(tail -n 5 "$T/hc/$name.log" | tr '\n' ' ')"
        (($(now_ms) > deadline)) && fail "front end $name not reachable after 20 s"
        sleep 0.1
    done
}
fe_kill9() {
    { kill -KILL "${FE_PID[$1]}"; reap "${FE_PID[$1]}" 5; } 2>/dev/null || fail "front end $1 survived SIGKILL"
    FE_PID[$1]=""
    note "client host: killed -9 front end $1"
}

# ---- clients ----------------------------------------------------------------------------

# cli_fe PROG ARGS...: the client on the client host, through the front end PROG.
cli_fe() {
    local prog=$1
    shift
    in_host c timeout -k 2 30 "$BIN/rating" -H "${HOST_ADDR[c]}" -P "$prog" -t "$CLIENT_MS" "$@"
}
# cli_r H ARGS...: the client on the client host, straight at the replica on host H.
cli_r() {
    local h=$1
    shift
    in_host c timeout -k 2 30 "$BIN/rating" -r "${HOST_ADDR[$h]}:$PROG" -t "$CLIENT_MS" "$@"
}

# worker_start NAME USER_BASE "MOVIES" TARGET-ARGS...: a client loop (worker.sh) on the client
# host; TARGET-ARGS is how it reaches the service, e.g. -H ADDR -P PROG, or -r ADDR:PROG.
worker_start() {
    local name=$1 base=$2 movies=$3
    shift 3
    mkdir -p "$T/hist"
    chmod 755 "$T/hist"
    nsenter -t "${HOLDER[c]}" -m -n -- env BIN="$BIN" HIST="$T/$name.hist" HLOG="$T/hist/$name.log" \
        SESSION="$T/$name.session" STOP="$T/stop" \
        USER_BASE="$base" MOVIES="$movies" CLIENT_MS="$CLIENT_MS" PAUSE="${WORKER_PAUSE:-0.1}" \
        GIVEUP_S="${WORKER_GIVEUP_S:-60}" MAX_S="${WORKER_MAX_S:-100}" \
        bash "$CL_HERE/worker.sh" "$@" </dev/null >>"$T/$name.worker.log" 2>&1 &
    WORKER_PID[$name]=$!
    WORKERS+=("$name")
    note "client host: worker $name (pid $!) users $base.., movies $movies, via $*"
}
WORKERS=()

# workers_stop: ask every worker to stop after its current write (which it retries until
# acknowledged) and wait for them.
workers_stop() {
    touch "$T/stop"
    local name
    for name in "${WORKERS[@]}"; do
        reap "${WORKER_PID[$name]}" 90 || fail "worker $name did not stop within 90 s"
        [[ $REAPED == 0 ]] || fail "worker $name exited $REAPED: $(tail -n 3 "$T/$name.worker.log" | tr '\n' ' ')"
        WORKER_PID[$name]=""
    done
    note "workers stopped"
}

# acks NAME [FROM_MS [TO_MS [REPLICAS]]]: acknowledged writes of worker NAME in a time window,
# accepted by one of REPLICAS (ids, e.g. "0" or "1 2"; default any).
acks() {
    awk -v from="${2:-0}" -v to="${3:-99999999999999}" -v reps=" ${4:-any} " '
        $2 == "W" && $6 == 0 && $1 >= from && $1 <= to && (reps == " any " || index(reps, " " $7 " ")) { n++ }
        END { print n + 0 }' "$T/$1.hist"
}
# failed_attempts NAME [FROM_MS [TO_MS]]: write attempts that got "unavailable" (retried).
failed_attempts() {
    awk -v from="${2:-0}" -v to="${3:-99999999999999}" '
        $2 == "W" && $6 == 3 && $1 >= from && $1 <= to { n++ } END { print n + 0 }' "$T/$1.hist"
}

# history_check NAME...: the session guarantees and errors in each worker's log (see the top);
# writes NAME.final (user movie halves: the last acknowledged value of each key).
history_check() {
    local name out bad=0
    for name in "$@"; do
        out=$(awk -v final="$T/$name.final" '
            function problem(msg) { nbad++; if (nbad <= 8) print "  " msg " [line " NR ": " $0 "]" }
            $2 == "W" {
                key = $3 " " $4
                if ($6 == 0) {
                    acked++
                    if (key in last && $5 < last[key]) problem("write acknowledged out of order")
                    last[key] = $5; if (!(key in seen) || $5 > seen[key]) seen[key] = $5
                    byrep[$7]++
                } else if ($6 == 3) retried++
                else { problem("write exit status " $6 " (expected 0, or 3 and a retry)") }
                next
            }
            $2 == "GIVEUP" { problem("write never acknowledged"); next }
            $2 == "R" {
                key = $3 " " $4
                if ($6 == 0) {
                    reads++
                    if (!(key in last)) { problem("read of a key never written"); next }
                    if ($5 < last[key]) { ryw++; problem("read-your-writes: read " $5 " half-stars after writing " last[key]) }
                    else if ($5 > last[key]) { phantom++; problem("read " $5 " half-stars, never written (last write " last[key] ")") }
                    if ($5 < maxread[key]) { mono++; problem("monotonic reads: read " $5 " after reading " maxread[key]) }
                    if ($5 > maxread[key]) maxread[key] = $5
                } else if ($6 == 1) {
                    if (key in last) { ryw++; problem("read-your-writes: not found after writing " last[key]) }
                } else if ($6 == 3) unavail++
                else problem("read exit status " $6)
                next
            }
            END {
                # No read, no check: a worker whose reads all failed proves nothing.
                if (reads == 0) { nbad++; print "  no read succeeded: read-your-writes and monotonic reads were not checked" }
                for (k in last) print k, last[k] > final
                reps = ""; for (r in byrep) reps = reps " " r ":" byrep[r]
                printf "%d writes acknowledged (by replica%s), %d attempts retried; %d reads, %d unavailable; %d read-your-writes, %d monotonic-read, %d phantom violations; %d problems\n", \
                    acked, reps, retried, reads, unavail, ryw, mono, phantom, nbad
                exit nbad > 0
            }' "$T/$name.hist")
        local rc=$?
        note "history of $name: ${out##*$'\n'}"
        if ((rc != 0)); then
            bad=1
            note "history of $name, problems:"$'\n'"$(sed '$d' <<<"$out")"
        fi
        assert_gt 0 "$(acks "$name")" "acknowledged writes of worker $name"
    done
    ((bad == 0)) || fail "client history check failed (see above; logs in $T)"
}

# final_check NAME...: every replica holds each worker's last acknowledged value of every key.
final_check() {
    local name h u line n=0 missing=0
    for name in "$@"; do cat "$T/$name.final"; done | sort -n -k1,1 -k2,2 >"$T/final.all"
    for h in 1 2 3; do
        for u in $(awk '{ print $1 }' "$T/final.all" | sort -un); do
            # `user U` prints MOVIE<TAB>RATING lines; compare in half-stars.
            if ! out=$(cli_r "$h" user "$u" 2>&1); then
                fail "replica on host $h: user $u: $(_show "$out")"
            fi
            while read -r line; do
                n=$((n + 1))
                local m=${line#* } want
                m=${m%% *}
                want=${line##* }
                got=$(awk -F'\t' -v m="$m" '$1 == m { split($2, a, "."); print a[1] * 2 + (a[2] >= 5) }' <<<"$out")
                if [[ $got != "$want" ]]; then
                    missing=$((missing + 1))
                    ((missing <= 8)) && note "replica on host $h: user $u movie $m: expected $want half-stars, got '${got:-nothing}'"
                fi
            done < <(awk -v u="$u" '$1 == u' "$T/final.all")
        done
    done
    ((missing == 0)) || fail "$missing of $n (replica, key) pairs lack the last acknowledged write"
    note "final values: all $((n / 3)) keys written by $* hold their last acknowledged value on all 3 replicas"
}

# ---- status and convergence ------------------------------------------------------------

# status_of H: `rating -r HOST:PROG status` from the client host -> ST_STATE ST_RTS ST_VTS
# ST_DIGEST ST_LOG for replica H-1 (columns found by the header's names).
status_of() {
    local h=$1 out
    out=$(cli_r "$h" -t 2000 status 2>&1) || { ST_LINE[$h]="unreachable: $(_show "$out")"; return 1; }
    local row
    row=$(awk -v id=$((h - 1)) '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["replica"] == id { print $col["state"], $col["replica_ts"], $col["value_ts"], $col["digest"], $col["log"] }' <<<"$out")
    [[ -n $row ]] || { ST_LINE[$h]="no row for replica $((h - 1)) in '$(_show "$out")'"; return 1; }
    read -r ST_STATE[$h] ST_RTS[$h] ST_VTS[$h] ST_DIGEST[$h] ST_LOG[$h] <<<"$row"
    ST_LINE[$h]=$row
}
# shellcheck disable=SC2034 # ST_LOG: for scenarios that want it
declare -A ST_STATE=() ST_RTS=() ST_VTS=() ST_DIGEST=() ST_LOG=() ST_LINE=()

# converged: every replica, asked directly, is active with the same digest, replica timestamp
# and value timestamp.
converged() {
    local h
    for h in 1 2 3; do status_of "$h" || { echo "host $h: ${ST_LINE[$h]}"; return 1; }; done
    for h in 1 2 3; do echo "host $h: ${ST_LINE[$h]}"; done
    for h in 2 3; do
        [[ ${ST_STATE[$h]} == active && ${ST_DIGEST[$h]} == "${ST_DIGEST[1]}" &&
           ${ST_RTS[$h]} == "${ST_RTS[1]}" && ${ST_VTS[$h]} == "${ST_VTS[1]}" ]] || return 1
    done
    [[ ${ST_STATE[1]} == active ]]
}
assert_converged() {
    wait_for -t "${1:-60}" -m "all 3 replicas converged (same digest and timestamps)" converged
    note "converged: digest ${ST_DIGEST[1]}, replica_ts ${ST_RTS[1]}"
}

# servers_alive: every replica and front end we did not kill on purpose is still running;
# otherwise fail, naming every one that died with the last line of its log.
servers_alive() {
    local h n dead=""
    for h in 1 2 3; do
        [[ -n ${REPL_PID[$h]:-} ]] || continue
        alive "${REPL_PID[$h]}" || dead+="replica on host $h ($(tail -n 1 "$T/h$h/replica.log")); "
    done
    for n in "${!FE_PID[@]}"; do
        [[ -n ${FE_PID[$n]} ]] || continue
        alive "${FE_PID[$n]}" || dead+="front end $n ($(tail -n 1 "$T/hc/$n.log")); "
    done
    [[ -z $dead ]] || fail "died: ${dead%; }"
}

# finish NAME...: after the fault is healed: stop the workers, wait for convergence, check the
# histories and the final values -- the workers' own checks, then histcheck on the same
# history in its format (faults.sh).
finish() {
    workers_stop
    servers_alive
    assert_converged 60
    history_check "$@"
    final_check "$@"
    HIST_DIR=$T/hist     # the same history, in histcheck's format (faults.sh)
    cl_hist_finals
    hist_check
    servers_alive
}

# ---- cleanup ----------------------------------------------------------------------------

_cl_cleanup() {
    local rc=$? pid name h ns
    trap - EXIT INT TERM
    set +e
    [[ -n $T ]] && touch "$T/stop"
    {
        for name in "${!WORKER_PID[@]}"; do
            pid=${WORKER_PID[$name]}
            [[ -n $pid ]] && alive "$pid" && kill -KILL "$pid" && reap "$pid" 5
        done
    } 2>/dev/null
    # Servers: SIGTERM, all at once; each must exit 0 (clean shutdown).
    local -a term=()
    for name in "${!FE_PID[@]}"; do
        pid=${FE_PID[$name]}
        [[ -n $pid ]] && alive "$pid" && term+=("front end $name:$pid")
    done
    for h in "${!REPL_PID[@]}"; do
        pid=${REPL_PID[$h]}
        [[ -n $pid ]] && alive "$pid" && term+=("replica on host $h:$pid")
    done
    terminate 15 "${term[@]}"
    # Everything else in our namespaces: rpcbinds, holders, strays.  (bash's "Killed" notes
    # about its own children go to /dev/null.)
    {
        for ns in "${CL_NETNS[@]}"; do
            for pid in $(ip netns pids "$ns"); do kill -KILL "$pid"; done
        done
        for ns in "${CL_NETNS[@]}"; do
            local i
            for i in $(seq 1 50); do
                [[ -z $(ip netns pids "$ns") ]] && break
                sleep 0.1
            done
            [[ -z $(ip netns pids "$ns") ]] || HARNESS_PROBLEMS+="processes left in $ns; "
        done
        wait
    } 2>/dev/null
    for ns in "${CL_NETNS[@]}"; do
        ip netns del "$ns" 2>/dev/null || HARNESS_PROBLEMS+="ip netns del $ns failed; "
    done
    harness_end "$rc"
}

# cluster_init: check what is needed, make $T, set the traps.  Every scenario calls it first.
cluster_init() {
    cluster_prereqs
    T=$(mktemp -d "/tmp/ratingd-cluster-$SCEN.XXXXXX")
    chmod 755 "$T"
    export CL_PROC_TAG="ratingd-cluster-$CL_RUN_ID/$SCEN"
    trap _cl_cleanup EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    note "temp dir $T"
}

# The history load and histcheck (issue 10's fault tests; s7 and finish use them).
. "$CL_HERE/faults.sh"
