# shellcheck shell=bash
# harness.sh -- what every test of ratingd's suites shares, whatever it starts: reporting
# (note, fail, skip), assertions, running a command and capturing it, waiting for a
# condition, the state of processes, and the end of a test (its temp dir, problems found at
# cleanup).  Sourced by tests/e2e/lib.sh and tests/cluster/lib.sh, which add what is their
# own (one host and its rpcbind; a network of namespaces) and set these first:
#
#   HARNESS_NAME      the test's name: the prefix of its log lines, the name of its files in
#                     the run directory
#   HARNESS_RUN_DIR   the run's directory (run.sh's), or empty when a test runs alone: a
#                     failed test writes its reason to NAME.reason there, and the temp dir it
#                     keeps to NAME.tmp; tests/lib/runner.sh reads them
#   HARNESS_WAIT      wait_for's deadline, seconds (default 20)
#   HARNESS_SCALE     multiplies every deadline (slower builds); default 1
#   HARNESS_POLL      seconds between two tries of wait_for; default 0.1
#   HARNESS_SHOW_MAX  how much of a value a message shows; default 300 characters
#   HARNESS_KEEP      non-empty: keep the temp dir $T even when the test passes
#
# A test exits 0 for PASS, 77 for SKIP (skip REASON), anything else for FAIL; the first
# fail's message is the reason its runner prints.

: "${HARNESS_NAME:=$(basename "$0" .sh)}"
: "${HARNESS_RUN_DIR:=}"
: "${HARNESS_WAIT:=20}"
: "${HARNESS_SCALE:=1}"
: "${HARNESS_POLL:=0.1}"
: "${HARNESS_SHOW_MAX:=300}"
: "${HARNESS_KEEP:=}"
HARNESS_FAILED=""

# ---- reporting ------------------------------------------------------------

note() { printf '%s [%s] %s\n' "$(date +%T.%3N)" "$HARNESS_NAME" "$*"; }

# _reason TEXT: the reason the runner prints for this test.
_reason() { [[ -z $HARNESS_RUN_DIR ]] || printf '%s\n' "$*" >"$HARNESS_RUN_DIR/$HARNESS_NAME.reason"; }

# fail MESSAGE: record the reason (the first one wins) and end the test.
fail() {
    note "FAIL: $*"
    if [[ -z $HARNESS_FAILED ]]; then
        HARNESS_FAILED="$*"
        _reason "$*"
    fi
    exit 1
}

# skip REASON: the test cannot run here (not a failure).
skip() {
    note "SKIP: $*"
    _reason "$*"
    exit 77
}

# _show VALUE: VALUE on one line, cut to HARNESS_SHOW_MAX characters, for messages.
_show() {
    local s=$1
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    ((${#s} > HARNESS_SHOW_MAX)) && s="${s:0:HARNESS_SHOW_MAX}..."
    printf '%s' "$s"
}

# _cmdline CMD...: the command as a shell would read it back.
_cmdline() {
    local a s=""
    for a in "$@"; do s+="${s:+ }$(printf '%q' "$a")"; done
    printf '%s' "$s"
}

# ---- assertions -----------------------------------------------------------

assert_eq() {   # EXPECTED ACTUAL [what]
    [[ $1 == "$2" ]] || fail "${3:-value}: expected '$(_show "$1")', got '$(_show "$2")'"
}
assert_ne() {   # UNEXPECTED ACTUAL [what]
    [[ $1 != "$2" ]] || fail "${3:-value}: expected anything but '$(_show "$1")'"
}
assert_contains() {   # HAYSTACK NEEDLE [what]
    [[ $1 == *"$2"* ]] || fail "${3:-output}: expected to contain '$(_show "$2")', got '$(_show "$1")'"
}
assert_not_contains() {   # HAYSTACK NEEDLE [what]
    [[ $1 != *"$2"* ]] || fail "${3:-output}: expected not to contain '$(_show "$2")', got '$(_show "$1")'"
}
assert_match() {   # STRING EXTENDED-REGEX [what]
    [[ $1 =~ $2 ]] || fail "${3:-output}: expected to match /$2/, got '$(_show "$1")'"
}
assert_int_ge() {   # MIN ACTUAL [what]
    [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $1)) || fail "${3:-value}: expected an integer >= $1, got '$(_show "$2")'"
}
assert_gt() {   # LIMIT ACTUAL [what]
    [[ $2 =~ ^[0-9]+$ ]] && (($2 > $1)) || fail "${3:-value}: expected more than $1, got '$(_show "$2")'"
}

# ---- running and waiting ------------------------------------------------------

# run CMD...: run it, capturing RC, OUT and ERR (trailing newlines stripped); logs a line.
run() {
    "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(<"$T/.out")
    ERR=$(<"$T/.err")
    note "\$ $(_cmdline "$@") -> rc=$RC out='$(_show "$OUT")'${ERR:+ err='$(_show "$ERR")'}"
    return 0
}

# assert_exit CODE CMD...: run CMD (see run), fail unless it exits CODE.
assert_exit() {
    local want=$1
    shift
    run "$@"
    [[ $RC == "$want" ]] || fail "$(_cmdline "$@"): expected exit $want, got $RC (stdout '$(_show "$OUT")', stderr '$(_show "$ERR")')"
}

# now_ms: the wall clock in milliseconds (_now_ms is the same).
now_ms() { local t=${EPOCHREALTIME/./}; printf '%s' "$((t / 1000))"; }
_now_ms() { now_ms; }

# wait_for [-t SECS] [-m WHAT] CMD...: try CMD every HARNESS_POLL s until it succeeds, then
# set WAITED_MS; fail at the deadline (HARNESS_WAIT seconds by default, times HARNESS_SCALE).
wait_for() {
    local secs=$HARNESS_WAIT what=""
    while [[ $# -gt 0 ]]; do
        case $1 in
        -t) secs=$2; shift 2 ;;
        -m) what=$2; shift 2 ;;
        *) break ;;
        esac
    done
    [[ -n $what ]] || what=$(_cmdline "$@")
    local t0 deadline tries=0
    t0=$(now_ms)
    deadline=$((t0 + secs * HARNESS_SCALE * 1000))
    while :; do
        tries=$((tries + 1))
        if "$@" >"$T/.wait.out" 2>&1; then
            WAITED_MS=$(($(now_ms) - t0))
            note "waited for: $what ($WAITED_MS ms, $tries tries)"
            return 0
        fi
        if (($(now_ms) > deadline)); then
            fail "timed out after $((secs * HARNESS_SCALE)) s waiting for: $what (last: '$(_show "$(<"$T/.wait.out")")')"
        fi
        sleep "$HARNESS_POLL"
    done
}

# ---- processes ---------------------------------------------------------------

# alive PID: the process exists and is not a zombie.  (One read of /proc/PID/stat: bash may
# reap the child at any moment, so no separate kill -0 first.)
alive() {
    local st
    [[ -n ${1:-} ]] || return 1
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st=${st##*) }
    [[ ${st%% *} != [ZX] ]]
}

# reap PID SECS: wait up to SECS for our child PID to end and set REAPED to its exit status;
# returns 1 if it is still alive.  (Not in a subshell: only the parent can wait.)
REAPED=""
reap() {
    local pid=$1 deadline=$(($(now_ms) + $2 * 1000))
    REAPED=""
    while alive "$pid" && (($(now_ms) < deadline)); do sleep 0.05; done
    alive "$pid" && return 1
    REAPED=0
    wait "$pid" 2>/dev/null || REAPED=$?
    return 0
}

# tagged_pids VAR PREFIX: the live processes (but this shell) whose environment holds
# VAR=PREFIX...  Every process a test starts carries such a tag, so none is lost.
tagged_pids() {
    local p kv
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" || $p == "$BASHPID" ]] && continue
        while IFS= read -r -d '' kv; do
            if [[ $kv == "$1=$2"* ]]; then echo "$p"; break; fi
        done 2>/dev/null <"/proc/$p/environ"
    done 2>/dev/null
}

# ---- the end of a test -----------------------------------------------------------

# terminate SECS LABEL:PID...: SIGTERM to every PID at once, then wait up to SECS for each;
# one that ignores it is killed.  Appends to HARNESS_PROBLEMS what was wrong: a server must
# exit 0 after SIGTERM.
HARNESS_PROBLEMS=""
terminate() {
    local secs=$1 e pid label
    shift
    for e in "$@"; do kill -TERM "${e##*:}" 2>/dev/null; done
    for e in "$@"; do
        pid=${e##*:} label=${e%:*}
        if reap "$pid" "$secs"; then
            [[ $REAPED == 0 ]] || HARNESS_PROBLEMS+="$label exited $REAPED after SIGTERM; "
        else
            kill -KILL "$pid" 2>/dev/null
            reap "$pid" 5
            HARNESS_PROBLEMS+="$label ignored SIGTERM for $secs s; "
        fi
    done
}

# harness_end RC: the end of the cleanup.  Problems found (HARNESS_PROBLEMS) fail a test that
# passed; the temp dir $T is removed if the test passed or was skipped, else kept (and named
# in the run directory).  Exits with the test's status.
harness_end() {
    local rc=$1
    if [[ -n $HARNESS_PROBLEMS ]]; then
        note "cleanup: $HARNESS_PROBLEMS"
        if [[ $rc == 0 ]]; then
            rc=1
            _reason "at cleanup: $HARNESS_PROBLEMS"
        fi
    fi
    if [[ -n ${T:-} ]]; then
        if [[ ($rc == 0 || $rc == 77) && -z $HARNESS_KEEP ]]; then
            rm -rf "$T"
        else
            note "kept $T"
            [[ -z $HARNESS_RUN_DIR ]] || echo "$T" >"$HARNESS_RUN_DIR/$HARNESS_NAME.tmp"
        fi
    fi
    exit "$rc"
}
