# shellcheck shell=bash
# lib.sh -- the end-to-end test harness of ratingd.  Sourced by every tests/e2e/t_*.sh.
# What any suite needs (reporting, assertions, run, wait_for, processes, the end of a test)
# is tests/lib/harness.sh, which this sources; this file adds one host's cluster.
#
# How a test runs
#   run.sh runs each t_NAME.sh as its own bash process (under `timeout`), with BIN (absolute
#   directory of ratingd, ratingfe, rating) and E2E_RUN_DIR (the run's ledger) in the
#   environment.  A test is a plain script:
#
#       . "$(dirname "$0")/lib.sh"
#       start_cluster 3                      # 3 replicas + a front end, small data set
#       run cli rate 900 1 4.5               # sets RC, OUT, ERR
#       assert_eq 0 "$RC" "rate exit code"
#       wait_for -m "replica 2 has it" replica_has 2 900 1 4.5
#
#   Exit 0 is PASS, `skip REASON` (exit 77) is SKIP, anything else is FAIL; the first `fail`
#   message is the reason run.sh prints.  Tests use real rpcbind, real processes, real sockets
#   and real files, on loopback only.
#
# Isolation and cleanup
#   - Each test gets a temp dir $T under /tmp (data dirs, server logs, session files); it is
#     removed on success and kept on failure (E2E_KEEP=1 keeps it always).
#   - Program numbers: each cluster takes a block of 16 free numbers at a random base in the
#     transient range 0x40000000-0x5fffffff (checked against `rpcinfo -p`, which prints
#     decimal): replica k is PROG_BASE+k, the front end PROG_BASE+15.  Every allocated number is
#     written to the run's ledger before use.
#   - Every process the test starts gets E2E_PROC_TAG in its environment.  At exit (EXIT, INT,
#     TERM) the test sends SIGTERM to its servers, waits, SIGKILLs what is left (also any tagged
#     process it lost track of), and `rpcinfo -d`s any allocated program still registered.
#     run.sh checks the whole run the same way at the end.
#   - A server that exits non-zero after SIGTERM, or a log with a sanitizer report, fails the
#     test even if its assertions passed (see "sanitizers" below).
#   - Data: tests/e2e/data is a 22-movie, 103-rating cut of ml-latest-small in the same format
#     (CRLF, quoted titles with commas and doubled quotes); t_movielens uses the real one.
#
# Main helpers (see each function)
#   start_cluster N [opts]   replicas 0..N-1 + front end; exports PROG_BASE FE_PROG NREPL DATA
#   start_replica K [args] / stop_replica K / kill9_replica K / restart_replica K [args]
#   start_fe [args] / stop_fe
#   cli ARGS...              the client through the front end;  cli_r K ARGS...  directly at K
#   replica_has K U M R / replica_lacks K U M    `get U M` at replica K says R / not found
#   parse_ok "$OUT"          "ok replica=K ts=[..]" -> OK_REPLICA, OK_TS
#   (tests/lib/harness.sh)
#   run CMD...               run and capture: RC, OUT, ERR
#   wait_for [-t S] [-m MSG] CMD...   poll CMD until it succeeds, fail at the deadline
#   assert_eq EXP ACT [what] / assert_ne / assert_contains HAY NEEDLE [what] /
#   assert_not_contains / assert_match STR REGEX [what] / assert_exit CODE CMD... /
#   assert_int_ge / assert_gt;  note, fail, skip;  alive PID, reap PID SECS
#   get_status [K]           parse `rating status` into ST_STATE[k] ST_DIGEST[k] ST_RATINGS[k] ...
#   converged                all replicas report equal digests and timestamps
#
# Variables: E2E_WAIT (default deadline of wait_for, seconds), E2E_SCALE (multiplies every
# deadline; 3 by default for sanitizer builds), E2E_KEEP=1, E2E_VERBOSE=1, E2E_WRAP (words put
# before every ratingd and ratingfe command, e.g. "valgrind --error-exitcode=99 ..." for
# `make valgrind`; the wrapper must exec the server in the same process, as valgrind does).

set -u -o pipefail

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_HERE/../.." && pwd)
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
: "${BIN:=$E2E_ROOT/build/bin}"
: "${E2E_RUN_DIR:=}"
SMALL_DATA="$E2E_HERE/data"
ML_DATA="$E2E_ROOT/data/ml-latest-small"

E2E_ASAN=0
grep -q -a -m1 __asan_init "$BIN/ratingd" 2>/dev/null && E2E_ASAN=1
if [[ -z ${E2E_SCALE:-} ]]; then
    E2E_SCALE=1
    if ((E2E_ASAN)); then E2E_SCALE=3; fi
fi
# A server's VmRSS is its own memory only when no sanitizer or wrapper allocates for it:
# ASan's quarantine grows to 256 MB by design, valgrind keeps 20 MB of freed blocks.  Tests
# that bound memory growth check it when this is 1 (the leak checkers cover the rest).
E2E_RSS_OWN=1
if ((E2E_ASAN)) || [[ -n ${E2E_WRAP:-} ]]; then E2E_RSS_OWN=0; fi
E2E_WAIT=${E2E_WAIT:-20}
CLIENT_MS=${CLIENT_MS:-8000}          # the client's own RPC deadline (-t)

# The shared harness (tests/lib/harness.sh): reporting, assertions, run, wait_for, processes.
HARNESS_NAME=$TEST_NAME HARNESS_RUN_DIR=$E2E_RUN_DIR HARNESS_WAIT=$E2E_WAIT
HARNESS_SCALE=$E2E_SCALE HARNESS_POLL=0.1 HARNESS_SHOW_MAX=300 HARNESS_KEEP=${E2E_KEEP:-}
. "$E2E_ROOT/tests/lib/harness.sh"

T=$(mktemp -d "/tmp/ratingd-e2e-$TEST_NAME.XXXXXX")
E2E_TAG_VALUE="${E2E_RUN_TAG:-ratingd-e2e-$$}/$TEST_NAME"
# No configuration file: an installed ratingd.conf must not change what the tests start.
export RATING_CONFIG=
export E2E_PROC_TAG="$E2E_TAG_VALUE"     # bash's own environ lacks it, its children have it

declare -a E2E_PIDS=()       # every server pid we started (for cleanup)
declare -a E2E_PROGS=()      # every program number allocated
declare -A REPL_PID=() REPL_ARGS=()
FE_PID=""
FE_ARGS=""

# ---- program numbers --------------------------------------------------------

# registered_progs: the distinct program numbers (decimal) registered with local rpcbind.
registered_progs() { rpcinfo -p 127.0.0.1 2>/dev/null | awk 'NR > 1 { print $1 }' | sort -u; }
is_registered() { registered_progs | grep -qx "$1"; }

# alloc_progs: set PROG_BASE to a block of 16 program numbers none of which is registered.
alloc_progs() {
    local tries base reg p ok
    for tries in $(seq 1 50); do
        base=$(( 0x40000000 + (((RANDOM << 15) | RANDOM) % (0x20000000 / 16)) * 16 ))
        reg=$(registered_progs) || fail "rpcinfo -p failed: is rpcbind running? (scripts/setup.sh starts it)"
        ok=1
        for ((p = base; p < base + 16; p++)); do
            if grep -qx "$p" <<<"$reg"; then ok=0; break; fi
        done
        if ((ok)); then
            PROG_BASE=$base
            for ((p = base; p < base + 16; p++)); do
                E2E_PROGS+=("$p")
                [[ -n $E2E_RUN_DIR ]] && echo "$p" >>"$E2E_RUN_DIR/progs"
            done
            return 0
        fi
    done
    fail "no free block of program numbers found"
}

# ---- sanitizers -------------------------------------------------------------------
# Under `make asan` the servers are built with ASan + UBSan.  Full stacks (the slow unwinder:
# libtirpc has no frame pointers) so that reports say where.  No leak is expected or
# forgiven (common/sanitize.c suppresses none): a leak report makes ASan exit 1 at the
# server's shutdown, and any report in a log fails the test.  Under `make valgrind`
# (E2E_WRAP) a memory error or a definite or indirect leak does the same.
export ASAN_OPTIONS="fast_unwind_on_malloc=0:malloc_context_size=30${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# sanitizer_findings LOG: print the first line of every sanitizer or valgrind report in LOG
# (valgrind's also of a server that was killed, so its exit status says nothing).
sanitizer_findings() {
    grep -a -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|ThreadSanitizer|^(Direct|Indirect) leak of|^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Process terminating)|^==[0-9]+== .* are (definitely|indirectly) lost' "$1" 2>/dev/null
}

# exit_ok STATUS LOG: STATUS is a clean exit: 0.  (ASan exits 1 after a leak report; that is
# not clean.  LOG is not read: the cleanup reports what is in it.)
exit_ok() {
    [[ $1 == 0 ]]
}

# ---- processes ---------------------------------------------------------------

# rpc_up PROG: a NULL call to PROG version 1 over TCP succeeds.
rpc_up() { timeout 5 rpcinfo -T tcp 127.0.0.1 "$1" 1 >/dev/null 2>&1; }

# wait_registered PROG PID LOG WHAT SECS: until PROG answers; fail if PID dies first.
wait_registered() {
    local prog=$1 pid=$2 log=$3 what=$4 secs=${5:-20}
    local deadline=$(( $(_now_ms) + secs * E2E_SCALE * 1000 ))
    while ! rpc_up "$prog"; do
        if ! alive "$pid"; then
            reap "$pid" 1
            fail "$what exited (status $REAPED) before registering: $(tail -n 5 "$log" | tr '\n' ' ')"
        fi
        (( $(_now_ms) > deadline )) && fail "$what not registered as $prog after $((secs * E2E_SCALE)) s: $(tail -n 5 "$log" | tr '\n' ' ')"
        sleep 0.05
    done
}

# ---- the cluster ---------------------------------------------------------------

NREPL=0
USE_SPEC=0
CLUSTER_ARGS=()
REPLICA_SPEC=""
DATA=""
DATASET="$SMALL_DATA"
GOSSIP_MS=200
START_SECS=20

# start_cluster N [-g GOSSIP_MS] [-d DATASET_DIR|none] [-x K "REPLICA K ARGS"]...
#               [-f "FRONT END ARGS"] [-t START_SECS] [-n (no front end)]
#               [-s (name the replicas with --replicas host:prog,... in hex)]
# Starts replicas 0..N-1 on fresh data under $T/data and a front end, each registered with
# rpcbind under freshly allocated program numbers.  Exports NREPL PROG_BASE FE_PROG DATA.
start_cluster() {
    local n=$1 with_fe=1 k
    shift
    local -A extra=()
    local fe_extra=""
    while [[ $# -gt 0 ]]; do
        case $1 in
        -g) GOSSIP_MS=$2; shift 2 ;;
        -d) DATASET=$2; shift 2 ;;
        -x) extra[$2]=$3; shift 3 ;;
        -f) fe_extra=$2; shift 2 ;;
        -t) START_SECS=$2; shift 2 ;;
        -n) with_fe=0; shift ;;
        -s) USE_SPEC=1; shift ;;
        *) fail "start_cluster: bad option $1" ;;
        esac
    done
    NREPL=$n
    alloc_progs
    FE_PROG=$((PROG_BASE + 15))
    REPLICA_SPEC=""
    for ((k = 0; k < n; k++)); do
        REPLICA_SPEC+="${REPLICA_SPEC:+,}$(printf 'localhost:%#x' $((PROG_BASE + k)))"
    done
    if ((USE_SPEC)); then CLUSTER_ARGS=(--replicas "$REPLICA_SPEC")
    else CLUSTER_ARGS=(--nreplicas "$n" --replica-base "$PROG_BASE"); fi
    DATA="$T/data"
    mkdir -p "$DATA"
    export NREPL PROG_BASE FE_PROG DATA
    for ((k = 0; k < n; k++)); do
        REPL_ARGS[$k]=${extra[$k]:-}
        _spawn_replica "$k"
    done
    for ((k = 0; k < n; k++)); do
        wait_registered $((PROG_BASE + k)) "${REPL_PID[$k]}" "$T/replica-$k.log" "ratingd $k" "$START_SECS"
    done
    for ((k = 0; k < n; k++)); do wait_settled "$k"; done
    note "replicas up: programs $PROG_BASE..$((PROG_BASE + n - 1))"
    if ((with_fe)); then start_fe $fe_extra; fi
}

_spawn_replica() {   # K [more args]
    local k=$1
    shift
    # shellcheck disable=SC2086 # REPL_ARGS and E2E_WRAP hold words
    ${E2E_WRAP:-} "$BIN/ratingd" --id "$k" "${CLUSTER_ARGS[@]}" \
        --data-dir "$DATA" --movielens "$DATASET" --gossip-ms "$GOSSIP_MS" \
        ${REPL_ARGS[$k]} "$@" </dev/null >>"$T/replica-$k.log" 2>&1 &
    REPL_PID[$k]=$!
    E2E_PIDS+=("$!")
    note "started ratingd $k (pid $!): ${CLUSTER_ARGS[*]} ${REPL_ARGS[$k]} $*"
}

# start_replica [-r] K [ARGS]: start replica K (again) and wait until it is registered and has
# heard from its peers (it is not recovering: docs/algorithm.md); with -r, only registered.
start_replica() {
    local settle=1
    if [[ $1 == -r ]]; then settle=0; shift; fi
    local k=$1
    shift
    alive "${REPL_PID[$k]:-}" && fail "start_replica $k: it is still running"
    _spawn_replica "$k" "$@"
    wait_registered $((PROG_BASE + k)) "${REPL_PID[$k]}" "$T/replica-$k.log" "ratingd $k" "$START_SECS"
    if ((settle)); then wait_settled "$k"; fi
}

# port_of PROG: the TCP port rpcbind has for program PROG (decimal).
port_of() { rpcinfo -p 127.0.0.1 | awk -v p="$1" '$1 == p && $3 == "tcp" { print $4; exit }'; }

# replica_settled K: replica K answers STATUS and is not recovering, so it numbers updates.
replica_settled() {
    local out
    out=$(cli_r "$1" status 2>/dev/null) || return 1
    [[ $out != *recovering* ]]
}
wait_settled() { wait_for -m "replica $1 has heard from every peer (not recovering)" replica_settled "$1"; }
restart_replica() { start_replica "$@"; }

# stop_replica K: SIGTERM; it must exit 0 and unregister.
stop_replica() {
    local k=$1 pid=${REPL_PID[$1]}
    kill -TERM "$pid" 2>/dev/null
    reap "$pid" $((10 * E2E_SCALE)) || fail "ratingd $k did not exit within $((10 * E2E_SCALE)) s of SIGTERM"
    REPL_PID[$k]=""
    exit_ok "$REAPED" "$T/replica-$k.log" || fail "ratingd $k exited $REAPED after SIGTERM (expected 0)"
    is_registered $((PROG_BASE + k)) && fail "ratingd $k still registered after a clean exit"
    note "stopped ratingd $k"
}

# kill9_replica K: SIGKILL and reap (its registration stays behind, as after a crash).
kill9_replica() {
    local k=$1 pid=${REPL_PID[$1]}
    kill -KILL "$pid" 2>/dev/null
    reap "$pid" 5 || fail "ratingd $k survived SIGKILL"
    REPL_PID[$k]=""
    note "killed -9 ratingd $k (pid $pid)"
}

# start_fe [ARGS]: the front end at FE_PROG over replicas PROG_BASE..+NREPL-1.
start_fe() {
    FE_ARGS="$*"
    # shellcheck disable=SC2086 # E2E_WRAP holds words
    ${E2E_WRAP:-} "$BIN/ratingfe" --prog "$FE_PROG" "${CLUSTER_ARGS[@]}" \
        "$@" </dev/null >>"$T/frontend.log" 2>&1 &
    FE_PID=$!
    E2E_PIDS+=("$!")
    note "started ratingfe (pid $!) $*"
    wait_registered "$FE_PROG" "$FE_PID" "$T/frontend.log" "ratingfe" "$START_SECS"
}

stop_fe() {
    kill -TERM "$FE_PID" 2>/dev/null
    reap "$FE_PID" $((10 * E2E_SCALE)) || fail "ratingfe did not exit within $((10 * E2E_SCALE)) s of SIGTERM"
    FE_PID=""
    exit_ok "$REAPED" "$T/frontend.log" || fail "ratingfe exited $REAPED after SIGTERM (expected 0)"
}

# ---- the client ------------------------------------------------------------------

# cli ARGS...: the client through the front end.  cli_r K ARGS...: directly at replica K.
cli() { timeout -k 2 $((30 * E2E_SCALE)) "$BIN/rating" -H 127.0.0.1 -P "$FE_PROG" -t "$((CLIENT_MS * E2E_SCALE))" "$@"; }
cli_r() {
    local k=$1
    shift
    timeout -k 2 $((30 * E2E_SCALE)) "$BIN/rating" -r "127.0.0.1:$((PROG_BASE + k))" -t "$((CLIENT_MS * E2E_SCALE))" "$@"
}

# replica_has K USER MOVIE RATING: replica K answers `get USER MOVIE` with exactly RATING.
replica_has() { local o; o=$(cli_r "$1" get "$2" "$3" 2>/dev/null) && [[ $o == "$4" ]]; }
# replica_lacks K USER MOVIE: replica K answers `get` with "not found" (exit 1).
replica_lacks() { cli_r "$1" get "$2" "$3" >/dev/null 2>&1; [[ $? == 1 ]]; }

# parse_ok OUTPUT: OUTPUT must be "ok replica=K ts=[a,b,c]"; sets OK_REPLICA=K, OK_TS=a,b,c.
parse_ok() {
    [[ $1 =~ ^ok\ replica=([0-9]+)\ ts=\[([0-9,\ ]*)\]$ ]] || fail "expected 'ok replica=K ts=[...]', got '$(_show "$1")'"
    OK_REPLICA=${BASH_REMATCH[1]}
    OK_TS=${BASH_REMATCH[2]}
}

# get_status [K]: `rating status` through the front end (or directly at replica K) into
# ST_ROWS (replica ids) and ST_STATE ST_RTS ST_VTS ST_LOG ST_PENDING ST_EXEC ST_RATINGS
# ST_MOVIES ST_DIGEST indexed by replica id, and ST_DIVERGENCE (the "divergence:" lines after
# the table, if any).  Columns are found by their header names (replica, state, replica_ts,
# value_ts, log, pending, executed, ratings, movies, digest), in that order when there is no
# header.  Returns non-zero if the client failed.
declare -A ST_STATE=() ST_RTS=() ST_VTS=() ST_LOG=() ST_PENDING=() ST_EXEC=() ST_RATINGS=() ST_MOVIES=() ST_DIGEST=()
ST_ROWS=()
ST_RAW=""
ST_DIVERGENCE=""
get_status() {
    local out
    if [[ $# -gt 0 ]]; then out=$(cli_r "$1" status 2>"$T/.status.err") || return 1
    else out=$(cli status 2>"$T/.status.err") || return 1; fi
    ST_RAW=$out
    ST_DIVERGENCE=$(grep '^divergence:' <<<"$out" || true)
    ST_STATE=() ST_RTS=() ST_VTS=() ST_LOG=() ST_PENDING=() ST_EXEC=() ST_RATINGS=() ST_MOVIES=() ST_DIGEST=()
    ST_ROWS=()
    local -A col=([replica]=0 [state]=1 [replicats]=2 [valuets]=3 [log]=4 [pending]=5 [executed]=6 [ratings]=7 [movies]=8 [digest]=9)
    local line i name
    local -a f
    while IFS= read -r line; do
        read -r -a f <<<"$line"
        [[ ${#f[@]} -gt 0 ]] || continue
        # the header: its first word names the replica column (a "divergence:" line after
        # the table mentions digests too, and is neither header nor row)
        if [[ ${line,,} == *digest* && ${f[0],,} =~ ^(id|replica|rep)$ ]]; then
            for i in "${!f[@]}"; do
                name=${f[$i],,}
                name=${name//[^a-z]/}
                case $name in
                id|replica|rep) col[replica]=$i ;;
                state|status) col[state]=$i ;;
                replicats|rts|replicatimestamp) col[replicats]=$i ;;
                valuets|vts|valuetimestamp) col[valuets]=$i ;;
                log|loglen|loglength) col[log]=$i ;;
                pending) col[pending]=$i ;;
                executed|exec) col[executed]=$i ;;
                ratings|nratings) col[ratings]=$i ;;
                movies|nmovies) col[movies]=$i ;;
                digest|digesthex) col[digest]=$i ;;
                esac
            done
            continue
        fi
        [[ ${f[${col[replica]}]:-} =~ ^[0-9]+$ ]] || continue
        local k=${f[${col[replica]}]}
        ST_ROWS+=("$k")
        ST_STATE[$k]=${f[${col[state]}]:-}
        ST_RTS[$k]=${f[${col[replicats]}]:-}
        ST_VTS[$k]=${f[${col[valuets]}]:-}
        ST_LOG[$k]=${f[${col[log]}]:-}
        ST_PENDING[$k]=${f[${col[pending]}]:-}
        ST_EXEC[$k]=${f[${col[executed]}]:-}
        ST_RATINGS[$k]=${f[${col[ratings]}]:-}
        ST_MOVIES[$k]=${f[${col[movies]}]:-}
        ST_DIGEST[$k]=${f[${col[digest]}]:-}
    done <<<"$out"
    [[ ${#ST_ROWS[@]} -gt 0 ]]
}

# converged [K...]: the status of replicas K... (default all) shows them active, with one
# digest, one replica timestamp and one value timestamp.
converged() {
    local -a ks=("$@")
    local k
    [[ ${#ks[@]} -gt 0 ]] || for ((k = 0; k < NREPL; k++)); do ks+=("$k"); done
    get_status || return 1
    local d=${ST_DIGEST[${ks[0]}]:-} r=${ST_RTS[${ks[0]}]:-} v=${ST_VTS[${ks[0]}]:-}
    [[ -n $d && -n $r ]] || return 1
    for k in "${ks[@]}"; do
        [[ ${ST_STATE[$k]:-} == active && ${ST_DIGEST[$k]:-} == "$d" && ${ST_RTS[$k]:-} == "$r" && ${ST_VTS[$k]:-} == "$v" ]] || return 1
    done
    return 0
}

# assert_converged [K...]: wait until converged, then return with ST_* filled.
assert_converged() { wait_for -m "replicas ${*:-all} converged (digests and timestamps equal)" converged "$@"; get_status || fail "status failed"; }

# ---- cleanup ---------------------------------------------------------------------

# _tagged_pids TAG-PREFIX: pids of live processes whose environment has E2E_PROC_TAG=TAG...
_tagged_pids() { tagged_pids E2E_PROC_TAG "$1"; }

_e2e_cleanup() {
    local rc=$? pid k
    trap - EXIT INT TERM
    set +e
    unset E2E_PROC_TAG
    # The front end first, then every replica at once (each runs a last gossip round).
    if [[ -n $FE_PID ]] && alive "$FE_PID"; then terminate $((10 * E2E_SCALE)) "ratingfe:$FE_PID"; fi
    local -a term=()
    for k in "${!REPL_PID[@]}"; do
        pid=${REPL_PID[$k]}
        if [[ -n $pid ]] && alive "$pid"; then term+=("ratingd $k:$pid"); fi
    done
    terminate $((10 * E2E_SCALE)) "${term[@]}"
    for pid in "${E2E_PIDS[@]}"; do
        alive "$pid" && { kill -KILL "$pid" 2>/dev/null; reap "$pid" 5; }
    done
    # Anything else this test started and lost track of (clients, helpers).
    local -a stray
    mapfile -t stray < <(_tagged_pids "$E2E_TAG_VALUE")
    if [[ ${#stray[@]} -gt 0 ]]; then
        for pid in "${stray[@]}"; do
            note "stray process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
            kill -KILL "$pid" 2>/dev/null
        done
    fi
    # Registrations: servers that exited cleanly unregistered; kill -9 leaves them behind.
    local reg p
    reg=$(registered_progs)
    for p in "${E2E_PROGS[@]}"; do
        if grep -qx "$p" <<<"$reg"; then
            rpcinfo -d "$p" 1 >/dev/null 2>&1
            note "unregistered leftover program $p"
        fi
    done
    # Sanitizer reports in any server log.
    local f rep
    for f in "$T"/*.log; do
        [[ -f $f ]] || continue
        rep=$(sanitizer_findings "$f")
        if [[ -n $rep ]]; then
            HARNESS_PROBLEMS+="sanitizer report in $(basename "$f"); "
            head -n 40 <<<"$rep" | sed 's/^/    /'
        fi
    done
    harness_end "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

command -v rpcinfo >/dev/null || fail "rpcinfo not found (scripts/setup.sh installs rpcbind)"
for _b in ratingd ratingfe rating; do
    [[ -x $BIN/$_b ]] || fail "$BIN/$_b is not built"
done
unset _b
note "temp dir $T"
