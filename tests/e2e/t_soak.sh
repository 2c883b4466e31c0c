#!/usr/bin/env bash
# Soak: SOAK_SECONDS (20; `make soak` runs 300) of 16 concurrent clients, each a loop of real
# `rating` processes through the front end with its own session file, mixing queries and
# updates of its own user.  Checked:
#   - every request succeeded or was reported as an error: a non-zero exit status always
#     comes with a message on stderr (zero unreported failures), and no request hangs;
#   - every answer is right: each client keeps a model of its user's ratings (changed only
#     by its acknowledged writes) and every exit status and `get` answer must agree with it
#     (with the session file, a client reads its own writes);
#   - the servers' memory is stable: VmRSS of each server at the start (after a warm-up),
#     the middle and the end grows by at most SOAK_RSS_KB (8192 kB; not checked under ASan or valgrind, whose leak checks cover it);
#   - at the end the replicas converge (equal digests and timestamps) and each replica holds
#     exactly every client's acknowledged ratings.
. "$(dirname "$0")/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-20}
SOAK_CLIENTS=${SOAK_CLIENTS:-16}
SOAK_RSS_KB=${SOAK_RSS_KB:-8192}
WARMUP=$((SOAK_SECONDS / 5 > 3 ? SOAK_SECONDS / 5 : 3))

start_cluster 3
assert_converged

MOVIES=(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 7789 114335)
RATINGS=(0.5 1.0 1.5 2.0 2.5 3.0 3.5 4.0 4.5 5.0)

# soak_client I END_MS: requests until END_MS; one line per request in $T/soak-I.log:
#   VERDICT rc=RC op...   VERDICT: ok | refused (an expected error, e.g. exists / not found)
#   | UNREPORTED (non-zero exit, empty stderr) | WRONG (disagrees with the model)
#   | AMBIGUOUS (exit 3: the write may or may not have happened)
# and the model at the end in $T/soak-I.model ("MOVIE RATING" lines; "MOVIE ?" unknown).
soak_client() {
    local i=$1 end=$2 user=$((50000 + $1)) n=0
    local -A model=()
    local log=$T/soak-$i.log out=$T/soak-$i.out err=$T/soak-$i.err sess=$T/soak-$i.session
    RANDOM=$((i * 7919 + 17))
    : >"$log"
    while (( $(_now_ms) < end )); do
        local m=${MOVIES[RANDOM % ${#MOVIES[@]}]} r=${RATINGS[RANDOM % 10]} pick=$((RANDOM % 100))
        local -a op
        local want=""   # expected exit status (empty: 0 or 1 both fine)
        local have=${model[$m]:-}
        if ((pick < 20)); then op=(rate "$user" "$m" "$r"); [[ -n $have ]] && want=4 || want=0
        elif ((pick < 35)); then op=(update "$user" "$m" "$r"); [[ -n $have ]] && want=0 || want=1
        elif ((pick < 45)); then op=(delete "$user" "$m"); [[ -n $have ]] && want=0 || want=1
        elif ((pick < 70)); then op=(get "$user" "$m"); [[ -n $have ]] && want=0 || want=1
        elif ((pick < 82)); then op=(movie "$m"); want=0
        elif ((pick < 90)); then op=(user "$user")
        elif ((pick < 97)); then op=(search "the")
        else op=(status); want=0; fi
        [[ $have == "?" ]] && want=""
        timeout -k 2 $((30 * E2E_SCALE)) "$BIN/rating" -H 127.0.0.1 -P "$FE_PROG" \
            -t $((CLIENT_MS * E2E_SCALE)) -s "$sess" "${op[@]}" >"$out" 2>"$err"
        local rc=$? verdict=ok
        if ((rc != 0)) && [[ ! -s $err ]]; then
            verdict=UNREPORTED
        elif ((rc == 3)); then
            verdict=AMBIGUOUS
            case ${op[0]} in rate|update|delete) model[$m]="?" ;; esac
        elif [[ -n $want && $rc != "$want" ]]; then
            verdict=WRONG
        elif ((rc != 0 && rc != 1 && rc != 4)); then
            verdict=WRONG
        else
            ((rc != 0)) && verdict=refused
            case ${op[0]} in
            rate|update) ((rc == 0)) && model[$m]=$r ;;
            delete) ((rc == 0)) && unset "model[$m]" ;;
            get) if ((rc == 0)) && [[ $have != "?" && $(<"$out") != "$have" ]]; then verdict=WRONG; fi ;;
            esac
        fi
        local e
        e=$(head -c 200 "$err" | tr '\n' ' ')
        printf '%s rc=%s %s%s\n' "$verdict" "$rc" "${op[*]}" "${e:+ stderr: $e}" >>"$log"
        n=$((n + 1))
    done
    local k
    : >"$T/soak-$i.model"
    for k in "${!model[@]}"; do echo "$k ${model[$k]}" >>"$T/soak-$i.model"; done
}

rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
declare -A SRV=()   # pid -> name
for ((k = 0; k < NREPL; k++)); do SRV[${REPL_PID[$k]}]="ratingd $k"; done
SRV[$FE_PID]=ratingfe

start=$(_now_ms)
end=$((start + SOAK_SECONDS * 1000))
note "soak: $SOAK_CLIENTS clients for $SOAK_SECONDS s (warm-up $WARMUP s)"
cpids=()
for ((i = 0; i < SOAK_CLIENTS; i++)); do
    soak_client "$i" "$end" &
    cpids+=($!)
done

# Memory samples: after the warm-up, in the middle, at the end.
declare -A RSS_START=() RSS_MID=() RSS_END=()
sample() {   # ARRAY-NAME
    local -n into=$1
    local p
    for p in "${!SRV[@]}"; do
        alive "$p" || fail "${SRV[$p]} died during the soak: $(tail -n 5 "$T"/*.log | tr '\n' ' ')"
        into[$p]=$(rss_of "$p")
    done
}
sleep "$WARMUP"
sample RSS_START
sleep $(((SOAK_SECONDS - WARMUP) / 2))
sample RSS_MID
for p in "${cpids[@]}"; do wait "$p"; done
sample RSS_END
note "soak: clients done after $(( ($(_now_ms) - start) / 1000 )) s"

# ---- per-request outcomes ---------------------------------------------------------------
cat "$T"/soak-*.log >"$T/soak-all.log"
total=$(wc -l <"$T/soak-all.log")
ok=$(grep -c '^ok ' "$T/soak-all.log")
refused=$(grep -c '^refused ' "$T/soak-all.log")
unreported=$(grep -c '^UNREPORTED ' "$T/soak-all.log")
wrong=$(grep -c '^WRONG ' "$T/soak-all.log")
ambiguous=$(grep -c '^AMBIGUOUS ' "$T/soak-all.log")
updates=$(grep -cE '^ok rc=0 (rate|update|delete) ' "$T/soak-all.log")
note "soak: $total requests ($((total / SOAK_SECONDS))/s): $ok ok ($updates acknowledged writes), $refused refused as expected, $ambiguous unavailable, $unreported unreported failures, $wrong wrong answers"
note "soak: exit statuses: $(sed -E 's/^[A-Za-z]+ rc=([0-9]+).*/\1/' "$T/soak-all.log" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
((total >= SOAK_CLIENTS * 5)) || fail "only $total requests in $SOAK_SECONDS s"
if ((unreported > 0)); then
    grep '^UNREPORTED ' "$T/soak-all.log" | head -n 5 | sed 's/^/    /'
    fail "$unreported requests failed without an error message"
fi
if ((wrong > 0)); then
    grep '^WRONG ' "$T/soak-all.log" | head -n 5 | sed 's/^/    /'
    fail "$wrong requests got an answer that disagrees with the client's own writes"
fi
# Nothing fails on a healthy cluster; unavailable answers were reported, but count them.
((ambiguous == 0)) || fail "$ambiguous requests found the service unavailable (reported, but no replica was down)"

# ---- memory ------------------------------------------------------------------------------
for p in "${!SRV[@]}"; do
    s=${RSS_START[$p]} m=${RSS_MID[$p]} e=${RSS_END[$p]}
    note "soak: ${SRV[$p]} VmRSS start $s kB, middle $m kB, end $e kB"
    ((E2E_RSS_OWN)) || continue   # ASan's or valgrind's memory is not the server's (lib.sh)
    ((m - s <= SOAK_RSS_KB && e - s <= SOAK_RSS_KB)) ||
        fail "${SRV[$p]} memory grew during the soak: $s -> $m -> $e kB (bound +$SOAK_RSS_KB kB)"
done

# ---- convergence, and every acknowledged write is there ----------------------------------
assert_converged
note "soak: converged, digest ${ST_DIGEST[0]}, ${ST_RATINGS[0]} ratings"
for ((i = 0; i < SOAK_CLIENTS; i++)); do
    user=$((50000 + i))
    grep -q ' ?$' "$T/soak-$i.model" && continue   # an ambiguous write: cannot tell
    want=$(sort -n "$T/soak-$i.model" | tr ' ' '\t')
    for ((k = 0; k < NREPL; k++)); do
        got=$(cli_r "$k" user "$user" 2>/dev/null | sort -n)
        [[ $got == "$want" ]] || fail "replica $k has user $user's ratings '$(_show "$got")', the client's acknowledged writes say '$(_show "$want")'"
    done
done
