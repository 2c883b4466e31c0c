#!/usr/bin/env bash
# run.sh [-k] [TEST...] -- the end-to-end tests of ratingd.
#
#   BIN=/abs/build/bin tests/e2e/run.sh            every tests/e2e/t_*.sh (t_cleanup last)
#   BIN=/abs/build/bin tests/e2e/run.sh shell t_movielens    a subset (with or without t_)
#   -k keeps every test's temp dir (E2E_KEEP=1)
#
# Each test runs as its own process with its own program numbers and temp dir (see lib.sh).
# Prints "PASS name", "FAIL name (reason)" or "SKIP name (reason)" per test, then checks that
# no process of the run is left and no program it allocated is still registered with rpcbind,
# and ends with "N passed, M failed[, K skipped]".  Exit 1 if anything failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
[[ -d $BIN ]] || { echo "run.sh: no binary directory $BIN (run make first)" >&2; exit 2; }
BIN=$(cd "$BIN" && pwd)
export BIN

while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in
    -k) export E2E_KEEP=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

for b in ratingd ratingfe rating; do
    [[ -x $BIN/$b ]] || { echo "run.sh: $BIN/$b is missing (run make first)" >&2; exit 2; }
done
if ! rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
    echo "run.sh: rpcbind is not answering on this host; run scripts/setup.sh (make deps)" >&2
    exit 2
fi

# Which tests.
tests=()
if [[ $# -gt 0 ]]; then
    for a in "$@"; do
        a=${a%.sh}
        a=${a#t_}
        [[ -f $HERE/t_$a.sh ]] || { echo "run.sh: no test t_$a.sh" >&2; exit 2; }
        tests+=("t_$a")
    done
else
    for f in "$HERE"/t_*.sh; do
        n=$(basename "$f" .sh)
        [[ $n == t_cleanup ]] || tests+=("$n")
    done
    [[ -f $HERE/t_cleanup.sh ]] && tests+=(t_cleanup)
fi

E2E_RUN_DIR=$(mktemp -d /tmp/ratingd-e2e-run.XXXXXX)
E2E_RUN_TAG="ratingd-e2e-$$-$RANDOM"
: >"$E2E_RUN_DIR/progs"
export E2E_RUN_DIR E2E_RUN_TAG
TEST_TIMEOUT=${E2E_TEST_TIMEOUT:-240}

passed=0 failed=0 skipped=0
failures=()
current=""
interrupted=0
on_signal() {
    interrupted=1
    [[ -n $current ]] && kill -TERM "$current" 2>/dev/null
}
trap on_signal INT TERM

started=$SECONDS
echo "ratingd e2e: ${#tests[@]} tests, binaries in $BIN, run dir $E2E_RUN_DIR"
for t in "${tests[@]}"; do
    ((interrupted)) && break
    name=${t#t_}
    t0=$SECONDS
    # timeout puts the test in its own process group and signals the whole group at the end.
    TEST_NAME=$name timeout -k 15 "$TEST_TIMEOUT" bash "$HERE/$t.sh" >"$E2E_RUN_DIR/$name.out" 2>&1 &
    current=$!
    wait "$current"
    rc=$?
    while kill -0 "$current" 2>/dev/null; do wait "$current"; rc=$?; done
    current=""
    dt=$((SECONDS - t0))
    reason=""
    [[ -f $E2E_RUN_DIR/$name.reason ]] && reason=$(head -c 600 "$E2E_RUN_DIR/$name.reason" | tr '\n' ' ' | sed 's/ *$//')
    if [[ $rc == 0 ]]; then
        echo "PASS $name (${dt}s)"
        passed=$((passed + 1))
    elif [[ $rc == 77 ]]; then
        echo "SKIP $name (${reason:-no reason given})"
        skipped=$((skipped + 1))
    else
        [[ $rc == 124 ]] && reason="timed out after ${TEST_TIMEOUT}s; ${reason}"
        [[ -n $reason ]] || reason="exit status $rc"
        echo "FAIL $name ($reason)"
        failed=$((failed + 1))
        failures+=("$name")
        echo "---- last lines of $name's output ($E2E_RUN_DIR/$name.out):"
        tail -n 40 "$E2E_RUN_DIR/$name.out" | sed 's/^/    /'
        if [[ -f $E2E_RUN_DIR/$name.tmp ]]; then
            tmp=$(<"$E2E_RUN_DIR/$name.tmp")
            for log in "$tmp"/*.log; do
                [[ -f $log ]] || continue
                echo "---- last lines of $log:"
                tail -n 12 "$log" | sed 's/^/    /'
            done
        fi
        echo "----"
    fi
done

# Whatever a test left behind: processes that carry this run's tag, registrations of
# programs the run allocated.  Clean them up and count it as a failure.
leftover_pids() {
    local p kv
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [[ $p == "$$" ]] && continue
        while IFS= read -r -d '' kv; do
            if [[ $kv == "E2E_PROC_TAG=$E2E_RUN_TAG/"* ]]; then echo "$p"; break; fi
        done 2>/dev/null <"/proc/$p/environ"
    done 2>/dev/null
}
problems=""
mapfile -t left < <(leftover_pids)
if [[ ${#left[@]} -gt 0 ]]; then
    for p in "${left[@]}"; do
        problems+="process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 120)) still running; "
        kill -KILL "$p" 2>/dev/null
    done
fi
registered=$(rpcinfo -p 127.0.0.1 2>/dev/null | awk 'NR > 1 { print $1 }' | sort -u)
nprogs=0
while read -r p; do
    [[ -n $p ]] || continue
    nprogs=$((nprogs + 1))
    if grep -qx "$p" <<<"$registered"; then
        problems+="program $p still registered; "
        rpcinfo -d "$p" 1 >/dev/null 2>&1
    fi
done < <(sort -u "$E2E_RUN_DIR/progs")
if [[ -n $problems ]]; then
    echo "FAIL leftovers (${problems% })"
    failed=$((failed + 1))
    failures+=(leftovers)
else
    echo "no leftover processes; none of the $nprogs allocated program numbers is registered"
fi

((interrupted)) && echo "interrupted"
echo "e2e took $((SECONDS - started))s${failures[*]:+; failed: ${failures[*]}}"
if [[ $failed == 0 && -z ${E2E_KEEP:-} ]]; then rm -rf "$E2E_RUN_DIR"; fi
if [[ $skipped -gt 0 ]]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[[ $failed == 0 && $interrupted == 0 ]]
