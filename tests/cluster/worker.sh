#!/usr/bin/env bash
# worker.sh TARGET-ARGS... -- one client of the cluster tests, run on the client host by
# lib.sh's worker_start.  TARGET-ARGS says how `rating` reaches the service (-H ADDR -P PROG for
# a front end, -r ADDR:PROG for one replica).
#
# Environment: BIN, HIST (the history log), SESSION (the session file), STOP (stop when this
# file exists), USER_BASE, MOVIES ("11 12 13"), CLIENT_MS, PAUSE (seconds between writes),
# GIVEUP_S (how long one write is retried), MAX_S (the worker's own time limit).
#
# Keys are (user, movie) pairs that only this worker writes: users USER_BASE, USER_BASE+1, ...
# each with MOVIES.  A key gets `rate ... 0.5`, then `update` to 1.0, 1.5, ... 5.0, so a later
# write of a key always has a larger value.  Every write has its own update id (--uid) and is
# retried with that id while the answer is "unavailable" (exit 3), so it is applied once and
# ends acknowledged.  After each write the worker reads the key back and reads one older key,
# with the session file.  History lines (times in ms since the epoch, values in half-stars):
#   MS W USER MOVIE HALVES RC REPLICA ATTEMPT UID     one write attempt (REPLICA "-" unless ok)
#   MS R USER MOVIE HALVES|- RC                        one read
#   MS GIVEUP USER MOVIE HALVES UID                    a write never acknowledged
#   MS E RC first line of stderr                       any failure's message
# With HLOG set, every write attempt and read is also logged there in the history format that
# histcheck reads (docs/history-format.md; session = the name of HIST): lib.sh's finish checks it.
set -u

origin=$(( ((RANDOM << 30) | (RANDOM << 15) | RANDOM) + 1 ))
seq=0
err=$(mktemp "${HIST%.hist}.err.XXXXXX")
trap 'rm -f "$err"' EXIT
now_ms() { local t=${EPOCHREALTIME/./}; printf '%s' "$((t / 1000))"; }
deadline=$(($(now_ms) + MAX_S * 1000))
declare -a keys=()

rating() { timeout -k 2 30 "$BIN/rating" -s "$SESSION" -t "$CLIENT_MS" "$@"; }
sname=$(basename "${HIST%.hist}")
opseq=0
# The CLI takes the writer's stamp in the update id once it can (ORIGIN:SEQ:STAMP).
stamps=0
"$BIN/rating" --help 2>&1 | grep -q 'ORIGIN:SEQ:STAMP' && stamps=1
hlog() { [[ -z ${HLOG:-} ]] || { opseq=$((opseq + 1)); printf '%s\n' "$1 session=$sname seq=$opseq $2" >>"$HLOG"; }; }

# read_key USER MOVIE: one read, logged.
read_key() {
    local out rc h=- t0
    t0=$(now_ms)
    out=$(rating "${TARGET[@]}" get "$1" "$2" 2>"$err")
    rc=$?
    if [[ $rc == 0 && $out =~ ^([0-5])\.([05])$ ]]; then
        h=$((BASH_REMATCH[1] * 2 + (BASH_REMATCH[2] == 5)))
    elif [[ $rc == 0 ]]; then
        rc=99    # an answer that is not a rating
        echo "$(now_ms) E 0 unexpected output '$out'" >>"$HIST"
    fi
    echo "$(now_ms) R $1 $2 $h $rc" >>"$HIST"
    local hv=0 hs=fail
    [[ $rc == 0 ]] && hv=$h hs=ok
    [[ $rc == 1 ]] && hs=ok
    hlog op=read "key=$1:$2 value=$hv status=$hs t0=$t0 t1=$(now_ms) rc=$rc"
    [[ $rc == 0 || $rc == 1 ]] || echo "$(now_ms) E $rc $(head -n 1 "$err")" >>"$HIST"
}

TARGET=("$@")
gen=0
while :; do
    user=$((USER_BASE + gen))
    for h in 1 2 3 4 5 6 7 8 9 10; do
        for m in $MOVIES; do
            [[ -e $STOP ]] && exit 0
            (($(now_ms) > deadline)) && { echo "$(now_ms) E 0 worker time limit" >>"$HIST"; exit 0; }
            cmd=update
            ((h == 1)) && cmd=rate
            seq=$((seq + 1))
            uid=$origin:$seq
            stamp=0
            if ((stamps)); then stamp=$(now_ms); uid=$origin:$seq:$stamp; fi
            value="$((h / 2)).$((h % 2 * 5))"
            t0=$(now_ms)
            attempt=0
            while :; do
                attempt=$((attempt + 1))
                a0=$(now_ms)
                out=$(rating "${TARGET[@]}" --uid "$uid" "$cmd" "$user" "$m" "$value" 2>"$err")
                rc=$?
                case $rc in 0) hs=ok ;; 1|2|4) hs=fail ;; 5) hs=stale ;; *) hs=unknown ;; esac
                [[ $rc == 0 && $out =~ id=[0-9]+:[0-9]+:([0-9]+) ]] && stamp=${BASH_REMATCH[1]}
                hlog op=write "key=$user:$m value=$h stamp=$stamp uid=$origin:$seq status=$hs t0=$a0 t1=$(now_ms) rc=$rc attempt=$attempt"
                rep=-
                [[ $rc == 0 && $out =~ ^ok\ replica=([0-9]+) ]] && rep=${BASH_REMATCH[1]}
                [[ $rc == 0 && $rep == - ]] && rc=99
                echo "$(now_ms) W $user $m $h $rc $rep $attempt $uid" >>"$HIST"
                [[ $rc == 0 ]] || echo "$(now_ms) E $rc $(head -n 1 "$err")${out:+ out: $out}" >>"$HIST"
                [[ $rc == 3 ]] || break
                if (($(now_ms) - t0 > GIVEUP_S * 1000)); then
                    echo "$(now_ms) GIVEUP $user $m $h $uid" >>"$HIST"
                    break
                fi
                sleep 0.2
            done
            read_key "$user" "$m"
            ((${#keys[@]} > 0)) && read_key ${keys[RANDOM % ${#keys[@]}]}
            ((h == 1)) && keys+=("$user $m")
            sleep "$PAUSE"
        done
    done
    gen=$((gen + 1))
done
