#!/usr/bin/env bash
# demo.sh -- start 3 replicas and a front end on MovieLens and walk through a client session.
#
#   scripts/demo.sh            start (or restart) the demo and run the session
#   scripts/demo.sh --fresh    the same on a new data directory (wipes var/demo)
#   scripts/demo.sh stop       stop a running demo
#
# `make demo` runs it after building.  The servers use the default program numbers
# (replicas 0x2F5A7100+k, front end 0x2F5A7000) so `rpcinfo -p` shows the real ones; their
# state is in var/demo/replica-K.db, their logs in var/demo/*.log.  From a terminal the
# servers keep running afterwards; otherwise (CI, a pipe) the script stops them at the end.
# Exit status: 0 if every step worked.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${BIN:-$ROOT/build/bin}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "demo: no $BIN: run make first" >&2; exit 1; }
PATH="$PATH:/usr/sbin:/sbin"
VAR=var/demo
N=3
REPLICA_BASE=$((0x2F5A7100))
FE_PROG=$((0x2F5A7000))
ML=data/ml-latest-small
RATING="$BIN/rating"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[[ -t 1 ]] || say() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# quote ARGS...: the words as a person would type them.
quote() {
    local a out=""
    for a in "$@"; do
        a=${a#"$BIN"/}
        a=${a#"$ROOT"/}
        if [[ -z $a || $a =~ [^A-Za-z0-9_./:=,+-] ]]; then a="\"$a\""; fi
        out+="${out:+ }$a"
    done
    printf '%s' "$out"
}

# show CMD...: print the command as typed, run it, indent its output; fails if CMD does.
show() {
    local shown
    shown=$(quote "$@")
    printf '$ %s\n' "$shown"
    if ! "$@" 2>&1 | sed 's/^/  /'; then
        echo "demo: this step failed: $shown" >&2
        return 1
    fi
}

rpc_up() { timeout 5 rpcinfo -T tcp 127.0.0.1 "$1" 1 >/dev/null 2>&1; }
registered() { rpcinfo -p 127.0.0.1 2>/dev/null | awk -v p="$1" 'NR > 1 && $1 == p { f = 1 } END { exit !f }'; }

# our_pid FILE: the pid in FILE if that process is alive and is one of our programs.
our_pid() {
    local pid
    [[ -f $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */rating* ]] || return 1
    printf '%s' "$pid"
}

stop_demo() {
    local f pid i stopped=0 p
    for f in "$VAR"/frontend.pid "$VAR"/replica-*.pid; do
        [[ -f $f ]] || continue
        if pid=$(our_pid "$f"); then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                echo "demo: $(basename "$f" .pid) (pid $pid) ignored SIGTERM; killing it" >&2
                kill -KILL "$pid" 2>/dev/null || true
            fi
            echo "stopped $(basename "$f" .pid) (pid $pid)"
            stopped=$((stopped + 1))
        fi
        rm -f "$f"
    done
    # A server that exits cleanly unregisters itself; drop what a killed one left behind,
    # but never a registration that someone still answers.
    for p in "$FE_PROG" $(seq "$REPLICA_BASE" $((REPLICA_BASE + N - 1))); do
        if registered "$p"; then
            if rpc_up "$p"; then
                echo "demo: program $(printf '%#x' "$p") is served by a process this demo did not start; left alone" >&2
            else
                rpcinfo -d "$p" 1 2>/dev/null || true
                echo "unregistered stale program $(printf '%#x' "$p")"
            fi
        fi
    done
    [[ $stopped -gt 0 ]] || echo "no demo servers were running"
}

case ${1:-} in
stop) stop_demo; exit 0 ;;
--fresh) FRESH=1 ;;
"") FRESH=0 ;;
-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
*) die "usage: scripts/demo.sh [--fresh | stop]" ;;
esac

for b in ratingd ratingfe rating; do [[ -x $BIN/$b ]] || die "$BIN/$b is missing: run make first"; done
rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || die "rpcbind is not running: run scripts/setup.sh (make deps)"

mkdir -p "$VAR"
printf '*\n' >"$VAR/.gitignore"   # keep the demo's state out of git status
if compgen -G "$VAR/*.pid" >/dev/null; then
    say "Stopping the demo that is still running"
    stop_demo
fi
for p in "$FE_PROG" $(seq "$REPLICA_BASE" $((REPLICA_BASE + N - 1))); do
    ! rpc_up "$p" || die "program $(printf '%#x' "$p") is already served by another process (rpcinfo -p); stop it first"
done
if ((FRESH)); then
    rm -rf "$VAR"
    mkdir -p "$VAR"
    printf '*\n' >"$VAR/.gitignore"
fi

INTERACTIVE=0
[[ -t 0 ]] && INTERACTIVE=1
finish() {
    local rc=$?
    set +e
    if [[ $rc != 0 ]]; then
        echo
        echo "demo: a step failed (exit $rc); server logs are in $VAR/*.log" >&2
        stop_demo
    elif ((!INTERACTIVE)); then
        say "Stopping the servers (not a terminal)"
        stop_demo
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- servers ---------------------------------------------------------------

say "Starting $N replicas and the front end (data and logs in $VAR/)"
for ((k = 0; k < N; k++)); do
    [[ -f $VAR/replica-$k.db ]] || info "replica $k: first start, importing $ML into $VAR/replica-$k.db"
    # setsid: the servers outlive this script and ignore a later Ctrl-C in this terminal.
    setsid "$BIN/ratingd" --id "$k" --nreplicas "$N" --data-dir "$VAR" --movielens "$ML" \
        </dev/null >>"$VAR/replica-$k.log" 2>&1 &
    echo $! >"$VAR/replica-$k.pid"
done

# wait_up NAME PROG PIDFILE LOG SECS
wait_up() {
    local name=$1 prog=$2 pidf=$3 log=$4 secs=$5 t0=$SECONDS
    until rpc_up "$prog"; do
        # kill -0, not our_pid: just after the start, setsid may not have exec'd the server yet
        if ! kill -0 "$(<"$pidf")" 2>/dev/null; then
            tail -n 5 "$log" | sed 's/^/    /' >&2
            if tail -n 3 "$log" | grep -q 'database'; then
                echo "demo: the state in $VAR may be from another version of ratingd;" \
                    "scripts/demo.sh --fresh starts on a new one" >&2
            fi
            die "$name exited before it registered (log: $log)"
        fi
        ((SECONDS - t0 < secs)) || die "$name did not register program $(printf '%#x' "$prog") within $secs s (log: $log)"
        sleep 0.1
    done
    info "$name is up: program $(printf '%#x' "$prog") ($prog), pid $(<"$pidf")"
}
for ((k = 0; k < N; k++)); do
    wait_up "replica $k" $((REPLICA_BASE + k)) "$VAR/replica-$k.pid" "$VAR/replica-$k.log" 180
done
setsid "$BIN/ratingfe" --nreplicas "$N" </dev/null >>"$VAR/frontend.log" 2>&1 &
echo $! >"$VAR/frontend.pid"
wait_up "front end" "$FE_PROG" "$VAR/frontend.pid" "$VAR/frontend.log" 30

say "Every server is registered with rpcbind, found there by program number"
show rpcinfo -p 127.0.0.1
info "(rpcinfo prints decimal: $REPLICA_BASE.. = 0x2f5a7100.., $FE_PROG = 0x2f5a7000)"

# ---- a client session ---------------------------------------------------------

SESSION="$VAR/session"
rm -f "$SESSION"
R=("$RATING" -s "$SESSION")

say "Look up a movie by id, and by title"
show "${R[@]}" movie 1
show "${R[@]}" search "american president"

say "User 1's rating of movie 1 (0.5 to 5.0 stars)"
show "${R[@]}" get 1 1

# A user with no rating of movie 1 yet (the data set has users 1..610; earlier demo runs on the
# same data directory used some above that).
user=611
while "$RATING" get "$user" 1 >/dev/null 2>&1; do
    user=$((user + 1))
    ((user < 100000)) || die "no free user id found"
done

say "User $user rates movie 1 through the front end"
out=$("${R[@]}" rate "$user" 1 4.5) || die "rate failed"
printf '$ %s\n  %s\n' "$(quote "${R[@]}" rate "$user" 1 4.5)" "$out"
[[ $out =~ replica=([0-9]+) ]] || die "unexpected answer: $out"
accepted=${BASH_REMATCH[1]}
info "replica $accepted accepted it; ts is the update's vector timestamp, merged into the"
info "session's 'prev' (in $SESSION) so its later reads never see an older state"

say "The other replicas get it by gossip (read directly from each with -r)"
for ((k = 0; k < N; k++)); do
    [[ $k == "$accepted" ]] && continue
    prog=$((REPLICA_BASE + k))
    t0=$(date +%s%N)
    until v=$("$RATING" -r "localhost:$prog" get "$user" 1 2>/dev/null) && [[ $v == 4.5 ]]; do
        (( ($(date +%s%N) - t0) / 1000000 < 30000 )) || die "replica $k did not get the rating within 30 s"
        sleep 0.1
    done
    printf '$ rating -r localhost:%#x get %s 1\n  %s\n' "$prog" "$user" "$v"
    info "replica $k has it after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done

say "User $user changes the rating; the session reads its own write"
show "${R[@]}" update "$user" 1 3.0
show "${R[@]}" get "$user" 1
[[ $("${R[@]}" get "$user" 1) == 3.0 ]] || die "the session did not read its own update"

say "A new movie with its first rating (the replica assigns the id)"
title="Demo Film $(date '+%Y-%m-%d %H:%M:%S')"
movie=$("${R[@]}" add-movie "$user" 4.0 "$title" "Documentary") || die "add-movie failed"
printf '$ %s\n  %s\n' "$(quote "${R[@]}" add-movie "$user" 4.0 "$title" Documentary)" "$movie"
show "${R[@]}" movie "$movie"
show "${R[@]}" user "$user"

say "Every replica's state, as the front end reports it"
show "$RATING" status

# converged: every replica active with one digest and one value timestamp.
converged() {
    "$RATING" status 2>/dev/null | awk 'NR > 1 { n++; if ($2 != "active") bad = 1; d[$NF]; v[$4] }
        END { c = 0; for (k in d) c++; w = 0; for (k in v) w++; exit !(n > 0 && !bad && c == 1 && w == 1) }'
}
say "Gossip spreads everything: waiting until every replica has the same data"
t0=$SECONDS
until converged; do
    ((SECONDS - t0 < 30)) || die "the replicas did not converge within 30 s"
    sleep 0.2
done
show "$RATING" status
info "equal digests and timestamps: every replica has applied the same updates"

# ---- the end -------------------------------------------------------------------

if ((INTERACTIVE)); then
    say "The demo is still running"
    r=${RATING#"$ROOT"/}
    hint() { printf '    %-44s %s\n' "$1" "$2"; }
    hint "$r --help" "what the client can do"
    hint "$r movie 2" "a movie (also: search, get, user, rate,"
    hint "" "update, delete, add-movie, status)"
    hint "$r shell" "an interactive session with a menu"
    hint "$r -r localhost:0x2f5a7101 movie 2" "ask replica 1 directly"
    hint "rpcinfo -p" "the registered programs"
    hint "tail -f $VAR/*.log" "the servers' logs"
    hint "scripts/demo.sh stop" "stop the servers"
    hint "scripts/demo.sh --fresh" "start anew on a new data directory"
fi
echo
echo "demo: every step worked"
