# shellcheck shell=bash
# faults.sh -- the write load of issue 10's fault tests on the cluster's hosts (sourced after
# lib.sh): sessions of tests/lib/histload.sh on the client host, their history in the format
# histcheck reads (docs/history-format.md), the final values of every replica, the check.
#   cl_hist_init [KEYS]        $T/hist; seeds the shared keys at replica 0 (host 1) and waits
#                              until every replica has them
#   cl_load_start NAME USER_BASE TARGET-ARGS...   one session on the client host
#                              (-H "${HOST_ADDR[c]}" -P "$FE_PROG", or -r "${HOST_ADDR[h]}:$PROG")
#   cl_load_wait_acks N [SECS] / cl_load_stop / cl_hist_finals (after assert_converged)
#   hist_check, hist_acks           tests/lib/hist.sh
CLF_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HISTLOAD="$CLF_HERE/../lib/histload.sh"
. "$CLF_HERE/../lib/hist.sh"
HIST_DIR=""
SHARED_KEYS=""
declare -a CL_LOADS=()
declare -A CL_LOAD_PID=()

cl_hist_init() {
    HIST_DIR=$T/hist
    mkdir -p "$HIST_DIR"
    chmod 755 "$HIST_DIR"
    SHARED_KEYS=${1-"70900:1 70900:2 70901:1"}
    local key h n=0
    for key in $SHARED_KEYS; do
        run cli_r 1 rate "${key%%:*}" "${key##*:}" 0.5
        [[ $RC == 0 ]] || fail "seeding shared key $key: rc=$RC $ERR"
        n=$((n + 1))
        echo "op=write session=seed seq=$n key=$key value=1 stamp=0 uid=0:0 status=ok t0=0 t1=0 by=0" >>"$HIST_DIR/seed.log"
    done
    for key in $SHARED_KEYS; do
        for h in 1 2 3; do
            wait_for -m "host $h has shared key $key" eval '[[ $(cli_r '"$h"' get '"${key%%:*} ${key##*:}"' 2>/dev/null) == 0.5 ]]'
        done
    done
}

cl_load_start() {
    local name=$1 base=$2
    shift 2
    nsenter -t "${HOLDER[c]}" -m -n -- env BIN="$BIN" HIST="$HIST_DIR/$name.log" SESSION="$name" \
        SESSION_FILE="$HIST_DIR/$name.session" USER_BASE="$base" MOVIES="1 2 3" SHARED="$SHARED_KEYS" \
        STOP="$HIST_DIR/stop" MAX_S="${LOAD_MAX_S:-120}" PAUSE="${LOAD_PAUSE:-0.05}" \
        CLIENT_MS="$CLIENT_MS" GIVEUP_S="${LOAD_GIVEUP_S:-30}" \
        bash "$HISTLOAD" "$@" </dev/null >>"$HIST_DIR/$name.out" 2>&1 &
    CL_LOAD_PID[$name]=$!
    CL_LOADS+=("$name")
    note "client host: load session $name (pid $!) users $base.. via $*"
}

cl_load_wait_acks() {
    local n=$1 secs=${2:-30} base
    base=$(hist_acks)
    wait_for -t "$secs" -m "$n more acknowledged writes of the load" eval '(( $(hist_acks) >= base + n ))'
}

cl_load_stop() {
    touch "$HIST_DIR/stop"
    local name
    for name in "${CL_LOADS[@]}"; do
        [[ -n ${CL_LOAD_PID[$name]} ]] || continue
        reap "${CL_LOAD_PID[$name]}" $((${LOAD_GIVEUP_S:-30} + 30)) || fail "load session $name did not stop"
        [[ $REAPED == 0 ]] || fail "load session $name exited $REAPED"
        CL_LOAD_PID[$name]=""
    done
    note "load stopped: $(hist_acks) writes acknowledged, $(cat "$HIST_DIR"/*.log | grep -c '^op=') operations logged"
}

cl_hist_finals() {
    local h u out line
    local -a users
    mapfile -t users < <(cat "$HIST_DIR"/*.log | grep -o ' key=[0-9]*:' | sort -u | tr -dc '0-9\n')
    : >"$HIST_DIR/final.log"
    for h in 1 2 3; do
        for u in "${users[@]}"; do
            out=$(cli_r "$h" user "$u" 2>&1)
            case $? in 0|1) ;; *) fail "final values: host $h, user $u: $out" ;; esac
            cat "$HIST_DIR"/*.log | grep -o " key=$u:[0-9]*" | sort -u | while read -r line; do
                local m=${line##*:} v
                v=$(awk -F'\t' -v m="$m" '$1 == m { split($2, a, "."); print a[1] * 2 + (a[2] >= 5) }' <<<"$out")
                echo "op=final replica=$((h - 1)) key=$u:$m value=${v:-0}"
            done >>"$HIST_DIR/final.log"
        done
    done
    note "final values: $(wc -l <"$HIST_DIR/final.log") (replica, key) pairs"
}
