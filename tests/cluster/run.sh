#!/usr/bin/env bash
# run.sh [-k] [SCENARIO...] -- the multi-host fault tests of ratingd (`make test-cluster`).
#
#   BIN=/abs/build/bin tests/cluster/run.sh          every tests/cluster/s*_*.sh, in order
#   tests/cluster/run.sh s2 s4_rpcbind_restart       a subset (by number or name)
#   -k keeps every scenario's temp dir (CL_KEEP=1)
#   CL_EXPECT_FAIL="s4 s6"   scenarios known to fail (a bug being fixed): a failure of one of
#                            them prints XFAIL and counts as skipped, a pass prints XPASS
#
# Each scenario builds its own hosts out of network namespaces (see lib.sh), runs as its own
# process under `timeout`, and tears everything down when it ends.  Prints "PASS name",
# "FAIL name (reason)" or "SKIP name (reason)" per scenario, then checks that no namespace and
# no process of the run is left, and ends with "N passed, M failed[, K skipped]".  Exit 1 if
# anything failed.  Without root or without `ip netns`, every scenario is skipped (exit 0) --
# except on CI (CI set, as .ci/run sets it, and not "false"): there the scenarios must run,
# so a skip is a failure (exit 1).  CL_ALLOW_SKIP=1 allows it anyway.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
PATH="$PATH:/usr/sbin:/sbin"

while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in
    -k) export CL_KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

scenarios=()
if [[ $# -gt 0 ]]; then
    for a in "$@"; do
        a=${a%.sh}
        [[ $a == s* ]] || a=s$a
        m=("$HERE"/"$a"*.sh)
        [[ -f ${m[0]} ]] || { echo "run.sh: no scenario $a" >&2; exit 2; }
        scenarios+=("$(basename "${m[0]}" .sh)")
    done
else
    for f in "$HERE"/s[0-9]*_*.sh; do scenarios+=("$(basename "$f" .sh)"); done
fi

# What this machine lacks, if anything: then every scenario is skipped.
why_skip() {
    [[ $(id -u) == 0 ]] || { echo "not root: the cluster tests build hosts out of network namespaces, which needs root"; return; }
    local c
    for c in ip unshare nsenter rpcbind rpcinfo; do
        command -v "$c" >/dev/null || { echo "$c not found (scripts/setup.sh installs iproute2, util-linux, rpcbind)"; return; }
    done
    local probe="rdprobe-$$-$RANDOM"
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "ip netns does not work here (no CAP_SYS_ADMIN, or a container without namespaces)"
        return
    fi
    ip netns del "$probe" 2>/dev/null
    if ! unshare -m --propagation private true 2>/dev/null; then
        echo "unshare -m does not work here (no mount namespaces)"
    fi
}
# On CI a skipped scenario is a failure: the fault tests are the point of running there.
must_run=0
if [[ -n ${CI:-} && ${CI:-} != false && ${CI:-} != 0 && -z ${CL_ALLOW_SKIP:-} ]]; then must_run=1; fi
reason=$(why_skip)
if [[ -n $reason ]]; then
    if ((must_run)); then
        echo "FAIL: ratingd cluster tests cannot run on CI: $reason (CL_ALLOW_SKIP=1 to skip)"
        for s in "${scenarios[@]}"; do echo "FAIL $s (cannot run: $reason)"; done
        echo "0 passed, ${#scenarios[@]} failed"
        exit 1
    fi
    echo "SKIP: ratingd cluster tests: $reason"
    for s in "${scenarios[@]}"; do echo "SKIP $s"; done
    echo "0 passed, 0 failed, ${#scenarios[@]} skipped"
    exit 0
fi

[[ -d $BIN ]] || { echo "run.sh: no binary directory $BIN (run make first)" >&2; exit 2; }
BIN=$(cd "$BIN" && pwd)
for b in ratingd ratingfe rating; do
    [[ -x $BIN/$b ]] || { echo "run.sh: $BIN/$b is missing (run make first)" >&2; exit 2; }
done
export BIN

CL_RUN_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
CL_RUN_DIR=$(mktemp -d /tmp/ratingd-cluster-run.XXXXXX)
export CL_RUN_ID CL_RUN_DIR
SCEN_TIMEOUT=${CL_SCENARIO_TIMEOUT:-150}

. "$ROOT/tests/lib/harness.sh"   # tagged_pids
. "$ROOT/tests/lib/runner.sh"
RUNNER_DIR=$CL_RUN_DIR RUNNER_NAME_VAR=SCEN RUNNER_TIMEOUT=$SCEN_TIMEOUT RUNNER_KILL_AFTER=20
RUNNER_OUT_LINES=30 RUNNER_OUT_WIDTH=400 RUNNER_LOG_LINES=6 RUNNER_LOG_WIDTH=300
RUNNER_EXPECT_FAIL=${CL_EXPECT_FAIL:-} RUNNER_EXPECT_FAIL_VAR=CL_EXPECT_FAIL
RUNNER_MUST_RUN=$must_run RUNNER_KEEP=${CL_KEEP:-}
runner_logs() { printf '%s\n' "$1"/h*/replica.log "$1"/hc/*.log; }

echo "ratingd cluster tests: ${#scenarios[@]} scenarios, 3 replica hosts + a client host each (network namespaces rd*-$CL_RUN_ID*), binaries in $BIN, run dir $CL_RUN_DIR"
for s in "${scenarios[@]}"; do
    ((interrupted)) && break
    runner_one "$s" "$HERE/$s.sh"
done

# Whatever a scenario left behind (it was killed before its trap ran, or its cleanup failed):
# namespaces named with this run's id, processes with its tag.  Remove them; it is a failure.
problems=""
for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E -- "^rd[0-9a-z]+-$CL_RUN_ID"); do
    problems+="namespace $ns left; "
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    sleep 0.2
    ip netns del "$ns" 2>/dev/null
done
for p in $(tagged_pids CL_PROC_TAG "ratingd-cluster-$CL_RUN_ID/"); do
    problems+="process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 100)) left; "
    kill -KILL "$p" 2>/dev/null
done
runner_end "cluster tests" "$problems" "no leftover namespaces or processes"
