#!/usr/bin/env bash
# histload.sh TARGET-ARGS... -- one client session of a fault test: a write load whose every
# operation and answer is logged in the history format that histcheck reads
# (docs/history-format.md).  TARGET-ARGS says how `rating` reaches the service: -H HOST -P PROG
# (a front end) or -r HOST:PROG (one replica).  Started by tests/e2e/faults.sh (load_start) and
# the cluster scenarios; runs until $STOP exists or MAX_S pass, then exits 0.
#
# Environment
#   BIN           directory of `rating`            HIST     the log file (appended)
#   SESSION       the session's name in the log     SESSION_FILE  its `rating -s` file
#   USER_BASE     first user of the session's own keys (users USER_BASE.., movies MOVIES)
#   MOVIES        movies of the own keys ("1 2 3")
#   SHARED        keys the sessions share ("U:M U:M", may be empty): they must exist when the
#                 load starts (faults.sh seeds them); written with `update` only, never deleted
#   STOP          stop when this file exists        MAX_S    time limit (60)
#   PAUSE         seconds between operations (0.05) CLIENT_MS the client's -t (3000)
#   GIVEUP_S      how long a write is repeated with its uid while its outcome is unknown (20)
#
# What a session does
#   Own keys: each (user, movie) gets `rate` 1 half-star, then `update` 2, 3, ... 10 (a
#   delete, value 0, after 5, then `rate` 6), so its values grow; four keys are written in
#   turn, a key that reached 10 is replaced by the next.  Shared keys (3 ops in 10): `update`
#   to a random value.  After every write the key is read back, and every other operation a
#   random key the session touched is read too.  A write whose outcome is unknown (exit 3,
#   or no answer) is repeated with the same update id until it is acknowledged or GIVEUP_S
#   pass -- what the CLI tells a user to do; each attempt is its own line (histcheck takes
#   lines of one session with one uid, key and value as one update).
#
# The log (one line per attempt or read, see docs/history-format.md; by=, cmd=, rc= and
# attempt= are this worker's own fields, which histcheck ignores):
#   op=write session=S seq=N key=U:M value=H stamp=T uid=O:Q status=ok|fail|unknown|stale
#            t0=MS t1=MS by=K cmd=rate rc=0 attempt=1
#   op=read  session=S seq=N key=U:M value=H status=ok|fail t0=MS t1=MS rc=0
# stamp: the one the CLI was given with --uid ORIGIN:SEQ:STAMP (when it takes one), or the one
# an `ok ... id=O:Q:T` answer names, else 0 (unknown).
set -u

: "${MAX_S:=60}" "${PAUSE:=0.05}" "${CLIENT_MS:=3000}" "${GIVEUP_S:=20}" "${SHARED:=}"
TARGET=("$@")
now_ms() { local t=${EPOCHREALTIME/./}; printf '%s' "$((t / 1000))"; }
deadline=$(($(now_ms) + MAX_S * 1000))
origin=$(( ((RANDOM << 30) | (RANDOM << 15) | RANDOM) + 1 ))
useq=0      # update ids: origin:useq
opseq=0     # the session's operation order
last_stamp=0
# The CLI takes the writer's stamp in the update id once it can (issue 10).
stamps=0
"$BIN/rating" --help 2>&1 | grep -q 'ORIGIN:SEQ:STAMP' && stamps=1

rating() { timeout -k 2 $((CLIENT_MS / 1000 + 20)) "$BIN/rating" -s "$SESSION_FILE" -t "$CLIENT_MS" "${TARGET[@]}" "$@"; }
# halves R: "4.5" -> 9
halves() { [[ $1 =~ ^([0-5])\.([05])$ ]] && echo $((BASH_REMATCH[1] * 2 + (BASH_REMATCH[2] == 5))); }
stars() { printf '%d.%d' $(($1 / 2)) $(($1 % 2 * 5)); }
log() { printf '%s\n' "$*" >>"$HIST"; }

# read_key U:M -- one read, logged.
read_key() {
    local key=$1 out rc t0 t1 v=0 st=ok
    t0=$(now_ms)
    out=$(rating get "${key%%:*}" "${key##*:}" 2>/dev/null)
    rc=$?
    t1=$(now_ms)
    if [[ $rc == 0 ]]; then
        v=$(halves "$out") || { v=0; st=fail; }
    elif [[ $rc != 1 ]]; then
        st=fail
    fi
    opseq=$((opseq + 1))
    log "op=read session=$SESSION seq=$opseq key=$key value=$v status=$st t0=$t0 t1=$t1 rc=$rc"
}

# write_key CMD U:M H -- one write (rate, update, delete), repeated with its uid while its
# outcome is unknown.  Sets WROTE to its last status.
write_key() {
    local cmd=$1 key=$2 h=$3 out rc t0 t1 st by stamp uidarg attempt=0 first
    useq=$((useq + 1))
    stamp=0 uidarg=$origin:$useq
    if ((stamps)); then
        stamp=$(now_ms)
        ((stamp > last_stamp)) || stamp=$((last_stamp + 1))
        last_stamp=$stamp
        uidarg=$origin:$useq:$stamp
    fi
    local -a args=("${key%%:*}" "${key##*:}")
    [[ $cmd == delete ]] || args+=("$(stars "$h")")
    first=$(now_ms)
    while :; do
        attempt=$((attempt + 1))
        t0=$(now_ms)
        out=$(rating --uid "$uidarg" "$cmd" "${args[@]}" 2>/dev/null)
        rc=$?
        t1=$(now_ms)
        by=-
        case $rc in
        0) st=ok
           [[ $out =~ replica=([0-9]+) ]] && by=${BASH_REMATCH[1]}
           [[ $out =~ id=[0-9]+:[0-9]+:([0-9]+) ]] && stamp=${BASH_REMATCH[1]} ;;
        1|2|4) st=fail ;;
        5) st=stale ;;
        *) st=unknown ;;
        esac
        opseq=$((opseq + 1))
        log "op=write session=$SESSION seq=$opseq key=$key value=$h stamp=$stamp uid=$origin:$useq status=$st t0=$t0 t1=$t1 by=$by cmd=$cmd rc=$rc attempt=$attempt"
        [[ $st == unknown ]] || break
        (( t1 - first < GIVEUP_S * 1000 )) || break
        sleep 0.2
    done
    WROTE=$st
}

# Own keys: four at a time; next[k] is the next value of key k (1..10), del[k] whether its
# delete is done.
read -r -a movies <<<"${MOVIES:-1 2 3}"
read -r -a shared <<<"$SHARED"
declare -a active=() touched=("${shared[@]}")
declare -A next=() del=()
kidx=0
# new_key SLOT: the next own key goes into active[SLOT].
new_key() {
    local k="$((USER_BASE + kidx / ${#movies[@]})):${movies[$((kidx % ${#movies[@]}))]}"
    kidx=$((kidx + 1))
    next[$k]=1 del[$k]=0
    touched+=("$k")
    active[$1]=$k
}
for i in 0 1 2 3; do new_key "$i"; done

turn=0
while [[ ! -e $STOP ]] && (($(now_ms) < deadline)); do
    turn=$((turn + 1))
    if ((${#shared[@]} > 0 && RANDOM % 10 < 3)); then
        key=${shared[$((RANDOM % ${#shared[@]}))]}
        write_key update "$key" $((RANDOM % 10 + 1))
    else
        slot=$((turn % 4))
        key=${active[$slot]}
        h=${next[$key]}
        if ((h == 6 && del[$key] == 0)); then
            write_key delete "$key" 0
            del[$key]=1
        else
            cmd=update
            ((h == 1 || h == 6)) && cmd=rate
            write_key "$cmd" "$key" "$h"
            next[$key]=$((h + 1))
        fi
        # A key whose last write is not known to be done (or was refused) is left alone:
        # its next rate or update could not be told from a bug.
        if [[ $WROTE != ok ]] || ((next[$key] > 10)); then new_key "$slot"; fi
    fi
    read_key "$key"
    ((turn % 2 == 0)) && read_key "${touched[$((RANDOM % ${#touched[@]}))]}"
    sleep "$PAUSE"
done
exit 0
