# shellcheck shell=bash
# hist.sh -- reading the histories that tests/lib/histload.sh writes (docs/history-format.md),
# for the e2e fault tests (tests/e2e/faults.sh) and the cluster scenarios
# (tests/cluster/faults.sh).  Sourced; needs HIST_DIR (the logs: *.log) and the harness's
# note, fail and _show.
#   hist_acks [FROM_MS [TO_MS [BY]]]   acknowledged write attempts answered in the window, by
#                                 replica BY (default any)
#   hist_check                    $HISTCHECK (default $BIN/histcheck) on every log; a
#                                 violation fails the test.  Until histcheck is built, the
#                                 basic check below
#   hist_basic_check LOG...       convergence, and for keys one session writes: no
#                                 acknowledged write lost, read-your-writes

# hist_acks [FROM_MS [TO_MS [BY]]]: acknowledged write attempts whose answer came in the window.
hist_acks() {
    cat "$HIST_DIR"/*.log 2>/dev/null | awk -v from="${1:-0}" -v to="${2:-99999999999999}" -v by="${3:-any}" '
        $1 == "op=write" && / status=ok / {
            t1 = 0; b = "-"
            for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "t1") t1 = kv[2]; if (kv[1] == "by") b = kv[2] }
            if (t1 >= from && t1 <= to && (by == "any" || b == by)) n++
        }
        END { print n + 0 }'
}

hist_check() {
    local out rc hc=${HISTCHECK:-$BIN/histcheck}
    if [[ -x $hc ]]; then
        out=$("$hc" "$HIST_DIR"/*.log 2>&1)
        rc=$?
    else
        out="histcheck not built (yet): the basic check only"$'\n'$(hist_basic_check "$HIST_DIR"/*.log)
        rc=$?
    fi
    note "history: ${out##*$'\n'}"
    if ((rc != 0)); then
        note "history violations:"$'\n'"$(head -n 40 <<<"$out")"
        fail "history check failed (${out##*$'\n'}; logs in $HIST_DIR)"
    fi
}

# hist_basic_check LOG...: the rules that need no stamps, on keys one session writes --
# every replica ends with the last acknowledged value (or a later unknown one), reads return
# the session's last acknowledged write (or a later unknown one) -- and convergence of every
# key.  Exit 1 on a violation.
hist_basic_check() {
    cat "$@" | awk '
        function f(name,   i, kv) { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] } return "" }
        function bad(msg) { nbad++; if (nbad <= 20) print msg }
        $1 == "op=write" || $1 == "op=read" {
            n++; s = f("session"); k = f("key")
            line[s, f("seq")] = $0
            if (!((s, f("seq")) in seen)) { seen[s, f("seq")] = 1; nops[s]++; order[s, nops[s]] = f("seq") }
            sess[s] = 1
            if ($1 == "op=write") { w++; writers[k] = writers[k] (index(writers[k], " " s " ") ? "" : " " s " ") }
            next
        }
        $1 == "op=final" { fin[f("key"), f("replica")] = f("value"); fkeys[f("key")] = 1; reps[f("replica")] = 1 }
        END {
            # replay each session in seq order (seq is numeric within a session)
            for (s in sess) {
                m = 0; for (key in seen) { split(key, p, SUBSEP); if (p[1] == s) sq[++m] = p[2] + 0 }
                for (i = 2; i <= m; i++) { x = sq[i]; for (j = i - 1; j >= 1 && sq[j] > x; j--) sq[j + 1] = sq[j]; sq[j + 1] = x }
                for (i = 1; i <= m; i++) {
                    $0 = line[s, sq[i]]; k = f("key"); st = f("status"); v = f("value")
                    single = (writers[k] == " " s " ")
                    if ($1 == "op=write") {
                        if (st == "ok") { lastok[k] = v; allowed[k] = " " v " "; hasok[k] = 1 }
                        else if (st == "unknown") allowed[k] = allowed[k] " " v " "
                    } else if (single && st == "ok" && hasok[k] && !index(allowed[k], " " v " ")) {
                        ryw++; bad("read-your-writes: session " s " read " v " of " k " after writing" allowed[k] "[" $0 "]")
                    }
                }
                delete sq
            }
            for (k in fkeys) {
                first = ""; for (r in reps) { if (first == "") first = fin[k, r]; else if (fin[k, r] != first) { bad("divergence: " k " is " fin[k, r] " at replica " r " but " first " elsewhere"); div++ } }
                split(writers[k], ws, " "); nw = 0; for (x in ws) if (ws[x] != "") nw++
                if (nw == 1 && writers[k] !~ / seed /) {
                    a = hasok[k] ? allowed[k] : " 0 " allowed[k]
                    for (r in reps) if (!index(a, " " fin[k, r] " ")) { lost++; bad("acknowledged write lost: " k " is " fin[k, r] " at replica " r ", expected one of" a) }
                }
            }
            printf "basic check: %d operations (%d writes), %d keys; %d lost, %d divergent, %d read-your-writes; %d violations\n", n, w, length(fkeys), lost, div, ryw, nbad
            exit nbad > 0
        }'
}

