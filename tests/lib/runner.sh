# shellcheck shell=bash
# runner.sh -- what tests/e2e/run.sh and tests/cluster/run.sh share: run each test as its
# own bash process under `timeout`, print one line per test, show what a failed one left,
# and end with the counts.  A suite's run.sh chooses the tests, makes the run directory,
# checks for leftovers in its own way, and sets first:
#
#   RUNNER_DIR        the run directory (HARNESS_RUN_DIR of the tests): NAME.out is a test's
#                     output, NAME.reason and NAME.tmp what it wrote there (harness.sh)
#   RUNNER_NAME_VAR   the environment variable that gives a test its name (TEST_NAME, SCEN)
#   RUNNER_TIMEOUT    seconds a test may take; RUNNER_KILL_AFTER more before SIGKILL
#   RUNNER_OUT_LINES, RUNNER_OUT_WIDTH   how much of a failed test's output to show
#   RUNNER_LOG_LINES, RUNNER_LOG_WIDTH   and of each of its logs, which runner_logs TMPDIR
#                     (a function of the suite) lists
#   RUNNER_EXPECT_FAIL  names known to fail (a bug being fixed): XFAIL, counted as skipped;
#                     RUNNER_EXPECT_FAIL_VAR the variable the user set them in, for messages
#   RUNNER_MUST_RUN   1: a skipped test is a failure (the cluster tests on CI)
#   RUNNER_KEEP       non-empty: keep the run directory even when everything passed
#
# Exit codes of a test: 0 PASS, 77 SKIP, 124 timed out, anything else FAIL.

: "${RUNNER_KILL_AFTER:=15}"
: "${RUNNER_OUT_LINES:=40}" "${RUNNER_OUT_WIDTH:=100000}"
: "${RUNNER_LOG_LINES:=12}" "${RUNNER_LOG_WIDTH:=100000}"
: "${RUNNER_EXPECT_FAIL:=}" "${RUNNER_EXPECT_FAIL_VAR:=RUNNER_EXPECT_FAIL}" "${RUNNER_MUST_RUN:=0}"
: "${RUNNER_KEEP:=}"

passed=0 failed=0 skipped=0
failures=()
current=""
interrupted=0
on_signal() {
    interrupted=1
    [[ -n $current ]] && kill -TERM "$current" 2>/dev/null
}
trap on_signal INT TERM

# _expected_fail NAME: NAME (or its short form, s4 for s4_rpcbind_restart) is listed in
# RUNNER_EXPECT_FAIL.
_expected_fail() {
    local x
    for x in $RUNNER_EXPECT_FAIL; do [[ $1 == "$x" || $1 == "${x}_"* ]] && return 0; done
    return 1
}

# _show_failure NAME: the last lines of its output and of every log it kept.
_show_failure() {
    local name=$1 tmp log
    echo "---- last lines of $name's output ($RUNNER_DIR/$name.out):"
    tail -n "$RUNNER_OUT_LINES" "$RUNNER_DIR/$name.out" | cut -c1-"$RUNNER_OUT_WIDTH" | sed 's/^/    /'
    if [[ -f $RUNNER_DIR/$name.tmp ]]; then
        tmp=$(<"$RUNNER_DIR/$name.tmp")
        for log in $(runner_logs "$tmp"); do
            [[ -f $log ]] || continue
            echo "---- last lines of $log:"
            tail -n "$RUNNER_LOG_LINES" "$log" | cut -c1-"$RUNNER_LOG_WIDTH" | sed 's/^/    /'
        done
    fi
    echo "----"
}

# runner_one NAME SCRIPT: run one test and count it.
runner_one() {
    local name=$1 script=$2 t0=$SECONDS rc dt reason=""
    # timeout puts the test in its own process group and signals the whole group at the end;
    # SIGTERM lets the test's trap clean up.
    env "$RUNNER_NAME_VAR=$name" timeout -k "$RUNNER_KILL_AFTER" "$RUNNER_TIMEOUT" \
        bash "$script" >"$RUNNER_DIR/$name.out" 2>&1 &
    current=$!
    wait "$current"
    rc=$?
    while kill -0 "$current" 2>/dev/null; do wait "$current"; rc=$?; done
    current=""
    dt=$((SECONDS - t0))
    [[ -f $RUNNER_DIR/$name.reason ]] && reason=$(head -c 600 "$RUNNER_DIR/$name.reason" | tr '\n' ' ' | sed 's/ *$//')
    if [[ $rc == 0 ]]; then
        if _expected_fail "$name"; then echo "XPASS $name (${dt}s; listed in $RUNNER_EXPECT_FAIL_VAR, which it no longer needs)"
        else echo "PASS $name (${dt}s)"; fi
        passed=$((passed + 1))
    elif _expected_fail "$name" && [[ $rc != 77 ]]; then
        echo "XFAIL $name (expected, $RUNNER_EXPECT_FAIL_VAR: ${reason:-exit status $rc})"
        skipped=$((skipped + 1))
    elif [[ $rc == 77 ]] && ((RUNNER_MUST_RUN)); then
        echo "FAIL $name (skipped on CI, where it must run: ${reason:-no reason given})"
        failed=$((failed + 1))
        failures+=("$name")
    elif [[ $rc == 77 ]]; then
        echo "SKIP $name (${reason:-no reason given})"
        skipped=$((skipped + 1))
    else
        [[ $rc == 124 ]] && reason="timed out after ${RUNNER_TIMEOUT}s; ${reason}"
        [[ -n $reason ]] || reason="exit status $rc"
        echo "FAIL $name ($reason)"
        failed=$((failed + 1))
        failures+=("$name")
        _show_failure "$name"
    fi
}

# runner_end WHAT PROBLEMS CLEAN: the leftovers line (PROBLEMS found by the suite, or the
# CLEAN message), the time WHAT took, the counts; removes the run directory when nothing
# failed (unless RUNNER_KEEP).  Returns 0 if nothing failed and the run was not interrupted.
runner_end() {
    local what=$1 problems=$2 clean=$3
    if [[ -n $problems ]]; then
        echo "FAIL leftovers (${problems% })"
        failed=$((failed + 1))
        failures+=(leftovers)
    else
        echo "$clean"
    fi
    ((interrupted)) && echo "interrupted"
    echo "$what took $((SECONDS - runner_started))s${failures[*]:+; failed: ${failures[*]}}"
    if [[ $failed == 0 && -z $RUNNER_KEEP ]]; then rm -rf "$RUNNER_DIR"; fi
    if [[ $skipped -gt 0 ]]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    [[ $failed == 0 && $interrupted == 0 ]]
}
runner_started=$SECONDS
