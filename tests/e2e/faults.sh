# shellcheck shell=bash
# faults.sh -- what the fault tests of issue 10 share, on top of lib.sh (sourced after it):
# a write load whose history histcheck checks, and the ways to break a replica.
#
# The load and its history (tests/lib/histload.sh writes docs/history-format.md)
#   hist_init [KEYS]          $T/hist; seeds the shared keys KEYS ("U:M ...", default three)
#                             at replica 0 and waits until every replica has them
#   load_start NAME USER_BASE TARGET-ARGS...   one session (histload.sh) in the background:
#                             its own keys are users USER_BASE.. x movies 1 2 3; TARGET-ARGS is
#                             how it reaches the service (-H 127.0.0.1 -P "$FE_PROG", or
#                             -r "127.0.0.1:$((PROG_BASE + K))"); LOAD_ENV="VAR=VALUE ..." puts
#                             variables in the session's environment (a client's fake clock)
#   load_wait_acks N [SECS]   until N more writes are acknowledged (from now), all sessions
#   hist_acks [FROM_MS [TO_MS [BY]]]  acknowledged write attempts in a window (t1), by replica BY
#   load_stop                 the sessions finish their current write and stop
#   hist_finals               op=final lines: every touched key at every replica (asked
#                             directly; call after assert_converged)
#   hist_settle               assert_converged, hist_finals, hist_check (the finals are checked
#                             even when the replicas do not converge)
#   hist_check                $BIN/histcheck (or $HISTCHECK) on every log: a violation fails
#                             the test.  Until
#                             histcheck is built, hist_basic_check: convergence, and for the
#                             keys of one session no acknowledged write lost and
#                             read-your-writes
# Breaking things
#   start_replica_env K "VAR=VALUE ..." [ARGS]   replica K with those variables in its
#                             environment (LD_PRELOAD of libfaketime or libfiu)
#   need_faketime / need_fiu / need_root   skip unless the machine has it
#   FAKETIME_LIB, FIU_LIB     the preload libraries (scripts/setup.sh installs faketime,
#                             fiu-utils)

FAULTS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HISTLOAD="$FAULTS_HERE/../lib/histload.sh"
. "$FAULTS_HERE/../lib/hist.sh"     # hist_acks, hist_check, hist_basic_check
HIST_DIR=""
declare -a LOAD_NAMES=()
declare -A LOAD_PID=()
SHARED_KEYS=""
: "${LOAD_MAX_S:=120}"


# ---- the load --------------------------------------------------------------------

hist_init() {
    HIST_DIR=$T/hist
    mkdir -p "$HIST_DIR"
    SHARED_KEYS=${1-"70900:1 70900:2 70901:1"}
    local key t0 stamp
    for key in $SHARED_KEYS; do
        t0=$(_now_ms)
        run cli_r 0 rate "${key%%:*}" "${key##*:}" 0.5
        [[ $RC == 0 ]] || fail "seeding shared key $key: rc=$RC $ERR"
        stamp=0
        [[ $OUT =~ id=[0-9]+:[0-9]+:([0-9]+) ]] && stamp=${BASH_REMATCH[1]}
        echo "op=write session=seed seq=$((++_seed_seq)) key=$key value=1 stamp=$stamp uid=0:0 status=ok t0=$t0 t1=$(_now_ms) by=0" >>"$HIST_DIR/seed.log"
    done
    local k
    for key in $SHARED_KEYS; do
        for ((k = 0; k < NREPL; k++)); do
            wait_for -m "replica $k has shared key $key" replica_has "$k" "${key%%:*}" "${key##*:}" 0.5
        done
    done
}
_seed_seq=0

load_start() {
    local name=$1 base=$2
    shift 2
    [[ -n $HIST_DIR ]] || fail "load_start before hist_init"
    # shellcheck disable=SC2086 # LOAD_ENV holds words
    env ${LOAD_ENV:-} BIN="$BIN" HIST="$HIST_DIR/$name.log" SESSION=$name SESSION_FILE="$HIST_DIR/$name.session" \
        USER_BASE=$base MOVIES="1 2 3" SHARED="$SHARED_KEYS" STOP="$HIST_DIR/stop" \
        MAX_S=$LOAD_MAX_S PAUSE="${LOAD_PAUSE:-0.05}" CLIENT_MS=$((${LOAD_CLIENT_MS:-3000} * E2E_SCALE)) \
        GIVEUP_S=$((${LOAD_GIVEUP_S:-20} * E2E_SCALE)) \
        bash "$HISTLOAD" "$@" </dev/null >>"$HIST_DIR/$name.out" 2>&1 &
    LOAD_PID[$name]=$!
    LOAD_NAMES+=("$name")
    E2E_PIDS+=("$!")   # killed at the end if the test fails while it runs
    note "load: session $name (pid $!), users $base.., via $*"
}

load_wait_acks() {
    local n=$1 secs=${2:-$E2E_WAIT} base
    base=$(hist_acks)
    wait_for -t "$secs" -m "$n more acknowledged writes of the load" eval '(( $(hist_acks) >= base + n ))'
}

load_stop() {
    touch "$HIST_DIR/stop"
    local name
    for name in "${LOAD_NAMES[@]}"; do
        [[ -n ${LOAD_PID[$name]} ]] || continue
        reap "${LOAD_PID[$name]}" $(((${LOAD_GIVEUP_S:-20} + 30) * E2E_SCALE)) ||
            fail "load session $name did not stop"
        [[ $REAPED == 0 ]] || fail "load session $name exited $REAPED: $(tail -n 3 "$HIST_DIR/$name.out" | tr '\n' ' ')"
        LOAD_PID[$name]=""
    done
    note "load stopped: $(hist_acks) writes acknowledged, $(cat "$HIST_DIR"/*.log | grep -c '^op=') operations logged"
}

hist_finals() {
    local out k u line
    local -a users
    mapfile -t users < <(cat "$HIST_DIR"/*.log | grep -o ' key=[0-9]*:' | sort -u | tr -dc '0-9\n')
    : >"$HIST_DIR/final.log"
    for ((k = 0; k < NREPL; k++)); do
        for u in "${users[@]}"; do
            out=$(cli_r "$k" user "$u" 2>&1)
            case $? in
            0|1) ;;
            *) fail "final values: replica $k, user $u: $out" ;;
            esac
            # every key of user u that the history touched: its value here (0: absent)
            cat "$HIST_DIR"/*.log | grep -o " key=$u:[0-9]*" | sort -u | while read -r line; do
                local m=${line##*:} v
                v=$(awk -F'\t' -v m="$m" '$1 == m { split($2, a, "."); print a[1] * 2 + (a[2] >= 5) }' <<<"$out")
                echo "op=final replica=$k key=$u:$m value=${v:-0}"
            done >>"$HIST_DIR/final.log"
        done
    done
    note "final values: $(wc -l <"$HIST_DIR/final.log") (replica, key) pairs"
}

# ---- breaking things -----------------------------------------------------------

# A preloaded library comes before ASan's runtime in the library list, which ASan refuses
# unless told (the sanitizer build of `make asan`).
if ((E2E_ASAN)); then export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; fi
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
FIU_LIB=/usr/lib/fiu/fiu_posix_preload.so
need_faketime() { [[ -f $FAKETIME_LIB ]] || skip "no $FAKETIME_LIB (scripts/setup.sh installs faketime)"; }
need_fiu() {
    [[ -f $FIU_LIB ]] && command -v fiu-ctrl >/dev/null || skip "no libfiu preload or fiu-ctrl (scripts/setup.sh installs fiu-utils)"
}
need_root() { [[ $(id -u) == 0 ]] || skip "needs root (${1:-a private mount namespace})"; }

# start_replica_env K "VAR=VALUE ..." [ARGS]: replica K under `env VAR=VALUE...` (env execs the
# server: the pid is the server's).  Words, so no spaces inside a value.
start_replica_env() {
    local k=$1 vars=$2
    shift 2
    local saved=${E2E_WRAP:-}
    E2E_WRAP="env $vars ${E2E_WRAP:-}"
    start_replica "$k" "$@"
    E2E_WRAP=$saved
}

# parse_ok_id OUTPUT: "ok replica=K ts=[..]" with or without " id=ORIGIN:SEQ:STAMP" (the CLI
# prints the id once the stamp is in it); sets OK_REPLICA, OK_TS, OK_ID (empty without).
parse_ok_id() {
    [[ $1 =~ ^ok\ replica=([0-9]+)\ ts=\[([0-9,\ ]*)\](\ id=([0-9]+:[0-9]+(:[0-9]+)?))?$ ]] ||
        fail "expected 'ok replica=K ts=[...] [id=O:S:T]', got '$(_show "$1")'"
    OK_REPLICA=${BASH_REMATCH[1]}
    OK_TS=${BASH_REMATCH[2]}
    OK_ID=${BASH_REMATCH[4]:-}
}

# state_of K: replica K's state as it reports it (`rating -r ... status`), or "unreachable".
state_of() { if get_status "$1"; then printf '%s' "${ST_STATE[$1]:-?}"; else printf unreachable; fi; }
# ts_entry TS K: entry K of "a,b,c".
ts_entry() { local -a e; IFS=, read -r -a e <<<"$1"; printf '%s' "${e[$2]:-}"; }
# refuses_recovering K: an update straight at replica K fails (exit 3) saying "recovering".
refuses_recovering() {
    run cli_r "$1" rate 79999 1 3.0
    [[ $RC == 3 && $ERR == *recovering* ]]
}

# hist_settle: the end of every fault scenario -- wait until the replicas converge, then
# hist_finals and hist_check.  If they do not converge in time, the finals are taken and
# checked all the same (histcheck names the keys that differ) before the test fails.
hist_settle() {
    local deadline=$(( $(_now_ms) + E2E_WAIT * E2E_SCALE * 1000 ))
    until converged; do
        if (( $(_now_ms) > deadline )); then
            note "not converged after $((E2E_WAIT * E2E_SCALE)) s: $(_show "$ST_RAW")"
            hist_finals
            hist_check
            fail "the replicas did not converge in $((E2E_WAIT * E2E_SCALE)) s (the history passed the check: see the status above)"
        fi
        sleep 0.2
    done
    note "converged: $(_show "$ST_RAW")"
    hist_finals
    hist_check
}

# load_pause NAME... / load_resume NAME...: SIGSTOP (SIGCONT) a session and the client it is
# running, e.g. so that what a replica acknowledged reaches a peer before the replica is
# wiped (a wipe destroys the only copy of what it has not gossiped yet: no system can keep
# that).
load_pause() {
    local name p
    for name in "$@"; do
        p=${LOAD_PID[$name]}
        kill -STOP "$p" $(pgrep -P "$p") 2>/dev/null
    done
}
load_resume() {
    local name p
    for name in "$@"; do
        p=${LOAD_PID[$name]}
        kill -CONT $(pgrep -P "$p") "$p" 2>/dev/null
    done
}
# has_all_of PEER K: replica PEER has every update replica K has accepted (entry K of their
# replica timestamps).
has_all_of() {
    local rk rp
    get_status "$2" || return 1
    rk=$(ts_entry "${ST_RTS[$2]//[\[\]]/}" "$2")
    get_status "$1" || return 1
    rp=$(ts_entry "${ST_RTS[$1]//[\[\]]/}" "$2")
    [[ -n $rk && -n $rp ]] && ((rp >= rk))
}
