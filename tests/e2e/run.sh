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
. "$ROOT/tests/lib/harness.sh"   # tagged_pids

. "$ROOT/tests/lib/runner.sh"
RUNNER_DIR=$E2E_RUN_DIR RUNNER_NAME_VAR=TEST_NAME RUNNER_TIMEOUT=$TEST_TIMEOUT RUNNER_KILL_AFTER=15
RUNNER_OUT_LINES=40 RUNNER_LOG_LINES=12 RUNNER_KEEP=${E2E_KEEP:-}
runner_logs() { printf '%s\n' "$1"/*.log; }

echo "ratingd e2e: ${#tests[@]} tests, binaries in $BIN, run dir $E2E_RUN_DIR"
for t in "${tests[@]}"; do
    ((interrupted)) && break
    runner_one "${t#t_}" "$HERE/$t.sh"
done

# Whatever a test left behind: processes that carry this run's tag, registrations of
# programs the run allocated.  Clean them up and count it as a failure.
problems=""
mapfile -t left < <(tagged_pids E2E_PROC_TAG "$E2E_RUN_TAG/")
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
runner_end e2e "$problems" "no leftover processes; none of the $nprogs allocated program numbers is registered"
