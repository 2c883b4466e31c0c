#!/usr/bin/env bash
# bench.sh -- what `make bench` runs: one run on loopback that measures, against a null-RPC
# baseline taken in the same run (these machines are shared and noisy: ratios are the headline):
#   - null round trips through the same libtirpc TCP transport (the front end's NULL procedure)
#   - query and update latency through the front end (1 client) and throughput (1..64 clients)
#   - the cost of durability: updates with fsync (default) vs --no-sync vs a bare fdatasync loop
#   - gossip: time from an update's acknowledgement until every replica answers it, and gossip
#     bytes per update (idle gossip subtracted), with 3, 5 and 9 replicas
#   - anti-entropy repair: time and bytes to repair 1,000 divergent keys among MovieLens small's
#     100,836 ratings, against a full snapshot of the same replica (and a rejoin by snapshot)
#   - start-up time and RSS on MovieLens small and on 10 million synthetic ratings
# Writes bench/results.json and bench/latency_throughput.png (gnuplot), prints a table.
#   BENCH_QUICK=1      skip the 10M data set, shorter runs
#   BENCH_SECONDS=N    seconds per load point (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/build/bin}
QUICK=${BENCH_QUICK:-0}
DUR=${BENCH_SECONDS:-2}
((QUICK)) && DUR=1
W=$(mktemp -d /tmp/ratingd-bench.XXXXXX)
PIDS=()
PROGS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for p in "${PROGS[@]}"; do rpcinfo -d "$p" 1 >/dev/null 2>&1 || true; done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'bench: %s\n' "$*" >&2; }
jget() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
now() { printf '%s' "$EPOCHREALTIME"; }
registered() { rpcinfo -T tcp 127.0.0.1 "$1" 1 >/dev/null 2>&1; }

cc -O2 -o "$W/fsync_loop" bench/fsync_loop.c

# A block of 32 free program numbers in the transient range.
BASE=0
for _ in $(seq 50); do
    b=$((0x40000000 + (RANDOM * 32768 + RANDOM) % 0x1ff00000))
    if ! rpcinfo -p 127.0.0.1 | awk -v lo="$b" 'NR > 1 && $1 >= lo && $1 < lo + 32 { f = 1 }
                                                END { exit !f }'; then
        BASE=$b
        break
    fi
done
((BASE)) || { say "no free program numbers"; exit 1; }
FE=$((BASE + 31))
for ((k = 0; k < 32; k++)); do PROGS+=($((BASE + k))); done

wait_up() {   # PROG PID [SECONDS]: importing 10M ratings takes minutes, a restart 20 ms
    local until=$((SECONDS + ${3:-30}))
    while ((SECONDS <= until)); do
        registered "$1" && return 0
        kill -0 "$2" 2>/dev/null || { say "server for $1 died"; return 1; }
        sleep 0.01
    done
    say "program $1 never registered"
    return 1
}

CLUSTER=()
start_cluster() {   # N GOSSIP_MS DATA [ratingd args...]
    local n=$1 g=$2 data=$3 k
    shift 3
    CLUSTER=()
    for ((k = 0; k < n; k++)); do
        "$BIN/ratingd" --id "$k" --nreplicas "$n" --replica-base "$BASE" --data-dir "$data" \
            --gossip-ms "$g" --overload 100000 "$@" >>"$W/replica-$k.log" 2>&1 &
        PIDS+=($!)
        CLUSTER+=($!)
    done
    for ((k = 0; k < n; k++)); do wait_up $((BASE + k)) "${CLUSTER[$k]}"; done
    "$BIN/ratingfe" --prog "$FE" --nreplicas "$n" --replica-base "$BASE" >>"$W/fe.log" 2>&1 &
    PIDS+=($!)
    CLUSTER+=($!)
    wait_up "$FE" "$!"
}

stop_cluster() {
    for p in "${CLUSTER[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${CLUSTER[@]}"; do wait "$p" 2>/dev/null || true; done
}

replicas_spec() {   # N -> localhost:prog,...
    local n=$1 k s=""
    for ((k = 0; k < n; k++)); do s+="${s:+,}localhost:$((BASE + k))"; done
    printf '%s' "$s"
}

# A point with failed calls still prints its numbers (and "errors"); keep going.
load() { "$BIN/ratingbench" "$1" -P "$FE" -c "$2" -d "$DUR" || true; }

# Gossip cost per update: bytes sent while U updates spread (divided by those that succeeded), minus what idle gossip sends in the
# same time (the idle rate measured for 3 s before and 3 s after, averaged: it jitters by a
# gossip round), and records sent per update (idle gossip sends none, so that one is exact).
gossip_cost() {   # N U -> prints "converge_p50_ms bytes_per_update idle_bytes_per_s records_per_update"
    local n=$1 u=$2 spec a b c d ta tb tc td conv
    spec=$(replicas_spec "$n")
    gb() { "$BIN/ratingbench" gbytes -R "$spec"; }
    # first let the gossip of earlier load drain (no records sent for 1 s), or it counts as idle
    for _ in $(seq 60); do
        a=$(gb); sleep 1; b=$(gb)
        [[ $(jget records "$a") == $(jget records "$b") ]] && break
    done
    a=$(gb); ta=$(now); sleep 3; b=$(gb); tb=$(now)
    conv=$("$BIN/ratingbench" converge -P "$FE" -R "$spec" -n "$u" || true)
    c=$(gb); tc=$(now); sleep 3; d=$(gb); td=$(now)
    awk -v a="$(jget bytes "$a")" -v b="$(jget bytes "$b")" -v c="$(jget bytes "$c")" \
        -v d="$(jget bytes "$d")" -v rb="$(jget records "$b")" -v rc="$(jget records "$c")" \
        -v ta="$ta" -v tb="$tb" -v tc="$tc" -v td="$td" -v u="$(jget calls "$conv")" \
        -v p50="$(jget p50 "$conv")" 'BEGIN {
            idle = ((b - a) + (d - c)) / ((tb - ta) + (td - tc)); x = (c - b) - idle * (tc - tb);
            u = u > 0 ? u : 1;
            printf "%.1f %.0f %.0f %.2f\n", p50, (x > 0 ? x : 0) / u, idle, (rc - rb) / u }'
}

declare -A R
# ---- 3 replicas, default gossip interval --------------------------------------------------
say "3 replicas on MovieLens small, loopback"
t0=$(now)
start_cluster 3 1000 "$W/c3"
R[startup_small_first_s]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
for c in 1 4 16 64; do
    out=$(load null "$c"); R[null_tput_$c]=$(jget tput "$out")
    ((c == 1)) && R[null_rtt_us]=$(jget p50 "$out") && R[null_p99_us]=$(jget p99 "$out")
    out=$(load query "$c"); R[tput_$c]=$(jget tput "$out")
    R[query_p50_$c]=$(jget p50 "$out"); R[query_p99_$c]=$(jget p99 "$out")
    say "clients=$c null ${R[null_tput_$c]}/s query ${R[tput_$c]}/s (p50 ${R[query_p50_$c]} us)"
done
R[query_p50_us]=${R[query_p50_1]}; R[query_p99_us]=${R[query_p99_1]}
for c in 1 16; do
    out=$(load update "$c"); R[update_tput_$c]=$(jget tput "$out")
    R[update_p50_$c]=$(jget p50 "$out"); R[update_p99_$c]=$(jget p99 "$out")
done
R[update_p50_us]=${R[update_p50_1]}; R[update_p99_us]=${R[update_p99_1]}
read -r R[gossip_converge_ms] R[gossip_bytes_per_update] R[gossip_idle_bytes_per_s] \
    R[gossip_records_per_update] < <(gossip_cost 3 30)
rss_of() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
R[rss_small_mb]=$(rss_of "${CLUSTER[0]}")
stop_cluster
t0=$(now)
start_cluster 3 1000 "$W/c3"
R[startup_small_s]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
stop_cluster

# ---- durability: --no-sync and a bare fdatasync loop ----------------------------------------
say "durability cost"
start_cluster 3 1000 "$W/nosync" --no-sync
for c in 1 16; do
    out=$(load update "$c"); R[nosync_update_tput_$c]=$(jget tput "$out")
    R[nosync_update_p50_$c]=$(jget p50 "$out"); R[nosync_update_p99_$c]=$(jget p99 "$out")
done
stop_cluster
out=$("$W/fsync_loop" "$W" 2000)
R[fsync_tput]=$(jget tput "$out"); R[fsync_p50_us]=$(jget p50 "$out"); R[fsync_p99_us]=$(jget p99 "$out")

# ---- gossip with 3, 5, 9 replicas at a 50 ms interval ---------------------------------------
for n in 3 5 9; do
    say "gossip with $n replicas (50 ms interval)"
    start_cluster "$n" 50 "$W/g$n" --movielens tests/e2e/data
    read -r R[converge50_ms_$n] R[bytes_per_update_$n] R[idle_bytes_per_s_$n] \
        R[records_per_update_$n] < <(gossip_cost "$n" 100)
    stop_cluster
done

# ---- anti-entropy repair: 1,000 divergent keys among 100k ratings, vs a snapshot -------------
# Two replicas import MovieLens small; with both stopped, 1,000 keys spread over the data get
# another value and a later stamp at replica 1 (sqlite3, digests marked stale: the divergence
# a restored file or a lost write leaves).  Replica 1's first repair round with replica 0
# merges them (its log line gives bytes, calls, rows and time); its next round, with nothing
# left, gives the idle cost.  Then the same replica's whole state is read by snapshot
# (ratingbench snapshot: bytes and time of the transfer alone), and replica 1, wiped, rejoins
# by snapshot (start until registered: transfer, install, and the rebuild of its digests).
for k in repair_keys repair_bytes repair_ms repair_calls repair_owners repair_hashes repair_rows_sent \
         repair_rows_taken repair_idle_bytes snapshot_bytes snapshot_ms snapshot_rows snapshot_calls \
         rejoin_small_s; do R[$k]=-1; done
declare -A RP=()
rstart() {   # K [ratingd args]
    local k=$1
    shift
    "$BIN/ratingd" --id "$k" --nreplicas 2 --replica-base "$BASE" --data-dir "$W/rep" \
        --gossip-ms 1000 --overload 100000 "$@" >>"$W/rep-$k.log" 2>&1 &
    PIDS+=($!)
    RP[$k]=$!
    wait_up $((BASE + k)) "$!" 60
}
rstop() { kill -TERM "${RP[$1]}" 2>/dev/null || true; wait "${RP[$1]}" 2>/dev/null || true; }
digest_of() { "$BIN/rating" -r "localhost:$((BASE + $1))" status | awk 'NR == 2 { print $NF }'; }
if ! command -v sqlite3 >/dev/null; then
    say "sqlite3 not installed: no repair figures (scripts/setup.sh installs it)"
else
    say "repair: 1000 divergent keys among MovieLens small's ratings, vs a snapshot"
    rstart 0 --repair-ms 0
    rstart 1 --repair-ms 0
    rstop 0
    rstop 1
    R[repair_keys]=$(sqlite3 "$W/rep/replica-1.db" "UPDATE ratings SET stamp = stamp + 1,
        halves = CASE WHEN halves = 10 THEN 9 ELSE halves + 1 END WHERE (user, movie) IN
        (SELECT user, movie FROM ratings ORDER BY (user * 7919 + movie * 104729) % 100003
         LIMIT 1000); SELECT changes(); DELETE FROM meta WHERE key = 'digests';")
    rstart 0 --repair-ms 0
    rstart 1 --repair-ms 2000 -v
    for _ in $(seq 600); do
        grep -q 'repair with replica 0: equal' "$W/rep-1.log" && break
        sleep 0.05
    done
    line=$(grep -m1 'repair with replica 0: .* owners differed' "$W/rep-1.log" || true)
    if [[ -z $line ]]; then
        say "no repair round in replica 1's log"
    elif [[ $(digest_of 0) != "$(digest_of 1)" ]]; then
        say "digests still differ after the repair round"
    else
        read -r R[repair_owners] R[repair_hashes] R[repair_rows_sent] R[repair_rows_taken] \
            R[repair_bytes] R[repair_calls] R[repair_ms] < <(sed -E 's/.*: ([0-9]+) owners differed, [0-9]+ parts, ([0-9]+) row hashes; sent ([0-9]+) rows, took ([0-9]+); ([0-9]+) bytes in ([0-9]+) calls, ([0-9]+) ms.*/\1 \2 \3 \4 \5 \6 \7/' <<<"$line")
        R[repair_idle_bytes]=$(grep -m1 'repair with replica 0: equal' "$W/rep-1.log" |
                               sed -E 's/.*\(([0-9]+) bytes\).*/\1/')
    fi
    out=$("$BIN/ratingbench" snapshot -H localhost -P "$BASE" || true)
    R[snapshot_bytes]=$(jget bytes "$out"); R[snapshot_ms]=$(jget ms "$out")
    R[snapshot_rows]=$(jget rows "$out"); R[snapshot_calls]=$(jget calls "$out")
    rstop 1
    rm -f "$W"/rep/replica-1.db*
    t0=$(now)
    rstart 1 --repair-ms 0
    R[rejoin_small_s]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
    rstop 0
    rstop 1
    say "repair: ${R[repair_keys]} keys, ${R[repair_bytes]} B in ${R[repair_ms]} ms; snapshot ${R[snapshot_bytes]} B in ${R[snapshot_ms]} ms"
fi

# ---- 10 million ratings ------------------------------------------------------------------
R[startup_10m_s]=-1; R[rss_10m_mb]=-1; R[import_10m_s]=-1
if ((QUICK)); then
    say "BENCH_QUICK: skipping the 10M data set"
elif (($(df -Pk /tmp | awk 'NR == 2 { print $4 }') < 4000000)); then
    say "less than 4 GB free in /tmp: skipping the 10M data set"
else
    say "generating 10M ratings"
    mkdir -p "$W/ml10m"
    tr -d '\r' <data/ml-latest-small/movies.csv >"$W/ml10m/movies.csv"
    awk -F, 'NR > 1 { print $1 }' "$W/ml10m/movies.csv" >"$W/ids"
    # 70,000 users x 143 movies each, a deterministic choice per user, in key order.
    awk 'BEGIN { srand(7) } NR == FNR { id[n++] = $1; next } END {
            print "userId,movieId,rating,timestamp";
            for (u = 1; u <= 70000; u++) {
                s = int(rand() * (n - 150));
                for (j = 0; j < 143; j++) m[j] = id[s + j];
                for (j = 0; j < 143; j++) printf "%d,%d,%.1f,%d\n", u, m[j], (1 + int(rand() * 10)) / 2, 1500000000 + j
            } }' "$W/ids" /dev/null >"$W/ml10m/ratings.csv"
    say "first start imports $(($(wc -l <"$W/ml10m/ratings.csv") - 1)) ratings"
    t0=$(now)
    "$BIN/ratingd" --id 0 --nreplicas 1 --replica-base "$BASE" --data-dir "$W/r10m" \
        --movielens "$W/ml10m" >>"$W/r10m.log" 2>&1 &
    p=$!; PIDS+=($p)
    wait_up "$BASE" "$p" 1800
    R[import_10m_s]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    kill -TERM "$p"; wait "$p" || true
    t0=$(now)
    "$BIN/ratingd" --id 0 --nreplicas 1 --replica-base "$BASE" --data-dir "$W/r10m" \
        >>"$W/r10m.log" 2>&1 &
    p=$!; PIDS+=($p)
    wait_up "$BASE" "$p"
    R[startup_10m_s]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
    for m in 1 2 3 50 356; do "$BIN/rating" -r "localhost:$BASE" movie "$m" >/dev/null || true; done
    R[rss_10m_mb]=$(rss_of "$p")
    kill -TERM "$p"; wait "$p" || true
fi

# ---- results ------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
R[query_p50_ratio]=$(ratio "${R[query_p50_us]}" "${R[null_rtt_us]}")
R[update_p50_ratio]=$(ratio "${R[update_p50_us]}" "${R[null_rtt_us]}")
R[tput16_over_tput1]=$(ratio "${R[tput_16]}" "${R[tput_1]}")
R[tput16_over_null16]=$(ratio "${R[tput_16]}" "${R[null_tput_16]}")
R[durable_over_nosync_update_1]=$(ratio "${R[update_tput_1]}" "${R[nosync_update_tput_1]}")
R[null_tput_16]=${R[null_tput_16]}
R[snapshot_over_repair_bytes]=$(ratio "${R[snapshot_bytes]}" "${R[repair_bytes]}")
R[snapshot_over_repair_ms]=$(ratio "${R[snapshot_ms]}" "${R[repair_ms]}")
mkdir -p bench
{
    printf '{\n  "date": "%s",\n  "machine": "%s cores, shared; loopback",\n' "$(date -u +%FT%TZ)" "$(nproc)"
    printf '  "tput_mix": "queries (Q_MOVIE) through the front end"'
    for k in $(printf '%s\n' "${!R[@]}" | sort); do printf ',\n  "%s": %s' "$k" "${R[$k]}"; done
    printf '\n}\n'
} >bench/results.json

{
    printf 'clients null_tput query_tput query_p50_us\n'
    for c in 1 4 16 64; do printf '%s %s %s %s\n' "$c" "${R[null_tput_$c]}" "${R[tput_$c]}" "${R[query_p50_$c]}"; done
} >"$W/points"
if command -v gnuplot >/dev/null; then
    gnuplot <<EOF
set terminal png size 900,500
set output "bench/latency_throughput.png"
set logscale x 2
set xlabel "concurrent clients"
set ylabel "calls/s"
set y2label "query p50 latency (us)"
set y2tics
set key top left
set title "ratingd on loopback: throughput and latency against clients"
plot "$W/points" using 1:2 with linespoints title "null RPC calls/s", \
     "$W/points" using 1:3 with linespoints title "queries/s via front end", \
     "$W/points" using 1:4 axes x1y2 with linespoints title "query p50 (us)"
EOF
else
    say "gnuplot not installed: no plot (apt-get install gnuplot-nox)"
fi

cat <<EOF

ratingd benchmark ($(date -u +%F), $(nproc) cores, loopback)      baseline: null RPC round trip
  null RPC p50                         ${R[null_rtt_us]} us            1.00
  query p50 / p99 (1 client)           ${R[query_p50_us]} / ${R[query_p99_us]} us    ${R[query_p50_ratio]} x null   (target <= 2.5)
  update p50 / p99 (1 client, fsync)   ${R[update_p50_us]} / ${R[update_p99_us]} us    ${R[update_p50_ratio]} x null
  throughput 1 / 4 / 16 / 64 clients   ${R[tput_1]} / ${R[tput_4]} / ${R[tput_16]} / ${R[tput_64]} queries/s
  null calls/s 1 / 4 / 16 / 64         ${R[null_tput_1]} / ${R[null_tput_4]} / ${R[null_tput_16]} / ${R[null_tput_64]}
  tput16 / tput1                       ${R[tput16_over_tput1]}   (target >= 3)
  tput16 / null16                      ${R[tput16_over_null16]}   (target >= 0.33)
  updates/s 1 / 16 clients, fsync      ${R[update_tput_1]} / ${R[update_tput_16]}
  updates/s 1 / 16 clients, no sync    ${R[nosync_update_tput_1]} / ${R[nosync_update_tput_16]}
  bare fdatasync loop                  ${R[fsync_tput]}/s, p50 ${R[fsync_p50_us]} us, p99 ${R[fsync_p99_us]} us
  gossip converge p50 (1000 ms)        ${R[gossip_converge_ms]} ms
  gossip bytes per update, 3/5/9 repl  ${R[bytes_per_update_3]} / ${R[bytes_per_update_5]} / ${R[bytes_per_update_9]} (idle ${R[idle_bytes_per_s_3]} / ${R[idle_bytes_per_s_5]} / ${R[idle_bytes_per_s_9]} B/s)
  gossip records per update, 3/5/9     ${R[records_per_update_3]} / ${R[records_per_update_5]} / ${R[records_per_update_9]}
  converge p50 at 50 ms, 3/5/9 repl    ${R[converge50_ms_3]} / ${R[converge50_ms_5]} / ${R[converge50_ms_9]} ms
  repair ${R[repair_keys]} keys of 100k ratings      ${R[repair_bytes]} B in ${R[repair_ms]} ms, ${R[repair_calls]} calls (idle round ${R[repair_idle_bytes]} B)
  full snapshot, same replica          ${R[snapshot_bytes]} B in ${R[snapshot_ms]} ms (${R[snapshot_over_repair_bytes]} x the bytes); rejoin ${R[rejoin_small_s]} s
  start-up MovieLens small             first ${R[startup_small_first_s]} s, again ${R[startup_small_s]} s, RSS ${R[rss_small_mb]} MB
  10M ratings                          import ${R[import_10m_s]} s, start-up ${R[startup_10m_s]} s, RSS ${R[rss_10m_mb]} MB
results: bench/results.json, bench/latency_throughput.png
EOF
