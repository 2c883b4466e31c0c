#!/usr/bin/env bash
# run.sh BUILD SECONDS TARGET... -- run libFuzzer harnesses (make fuzz, make fuzz-long).
#
# Each BUILD/fuzz/fuzz_TARGET runs for SECONDS from fuzz/corpus/TARGET (the committed
# seeds, read only) and BUILD/corpus/TARGET (what earlier runs found; new inputs go
# there), with -rss_limit_mb=2048 (also the largest single allocation), -timeout=10 (a
# hang is a finding).  A crash, leak, sanitizer report, timeout or out-of-memory
# leaves its reproducer in BUILD/crashes/TARGET-* and fails the run; replay one with
#     BUILD/fuzz/fuzz_TARGET BUILD/crashes/TARGET-crash-...
# Prints one summary line per harness (executions, coverage, corpus, peak RSS); the full
# libFuzzer output is in BUILD/fuzz-TARGET.log.
set -uo pipefail

[[ $# -ge 3 ]] || { echo "usage: fuzz/run.sh BUILD SECONDS TARGET..." >&2; exit 2; }
B=$1 S=$2
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Fast unwinding: sanitize.c asks for the slow one (full stacks through libtirpc, which has no
# frame pointers, in the servers' reports), which would cost the fuzzers most of their speed.
export ASAN_OPTIONS="fast_unwind_on_malloc=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

declare -A MAXLEN=([xdr]=16384 [handlers]=16384 [rpc_record]=65536)
failed=()
mkdir -p "$B/crashes"
for t in "$@"; do
    bin=$B/fuzz/fuzz_$t
    [[ -x $bin ]] || { echo "fuzz: $bin is not built" >&2; exit 2; }
    corpus=$B/corpus/$t
    mkdir -p "$corpus"
    seeds=()
    [[ -d $ROOT/fuzz/corpus/$t ]] && seeds=("$ROOT/fuzz/corpus/$t")
    log=$B/fuzz-$t.log
    before=$(ls "$B/crashes" | grep -c "^$t-" || true)
    "$bin" -max_total_time="$S" -rss_limit_mb=2048 -timeout=10 -max_len="${MAXLEN[$t]:-16384}" \
        -print_final_stats=1 -artifact_prefix="$B/crashes/$t-" "$corpus" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1)
    after=$(ls "$B/crashes" | grep -c "^$t-" || true)
    if [[ $rc == 0 && $after == "$before" ]]; then
        echo "fuzz $t: ok, ${S}s, ${execs:-?} runs (${rate:-?}/s), ${cov:-?}, peak rss ${rss:-?} MB"
    else
        echo "fuzz $t: FAILED (exit $rc) -- last lines of $log:"
        grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" | tail -n 40 | sed 's/^/    /'
        echo "    reproducers: $(ls "$B/crashes" | grep "^$t-" | sed "s|^|$B/crashes/|" | tr '\n' ' ')"
        failed+=("$t")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
