#!/usr/bin/env bash
# Bug 3 of issue 10: restoring a backup must not reuse sequence numbers.  As the issue tells
# it: `sqlite3 replica-2.db ".backup bak.db"` while replica 2 runs; more acknowledged writes at
# replica 2; stop it, put bak.db back, start it.  Its database is then older than what it
# acknowledged (its directory's durable-commit mark says so; the backup carries the old
# epoch, so the epoch cannot): it must take its later updates back from its peers before it
# takes a new one, number the new one above them, and converge to the same digest.  Before the
# fix it numbers new updates 3, 4, ... again, the peers drop them as known, and the digests
# differ forever at equal timestamps.  Then the same with replica 1 away: replica 2 must stay
# `recovering` (refusing updates) until it has heard from every peer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"

start_cluster 3
# write_at2 USER STARS SEQ: an update at replica 2 that gets sequence number SEQ, gossiped.
write_at2() {
    assert_exit 0 cli_r 2 rate "$1" 1 "$2"
    parse_ok_id "$OUT"
    assert_eq "$3" "$(ts_entry "$OK_TS" 2)" "replica 2's sequence number of $1/1"
    local k
    for k in 0 1; do wait_for -m "replica $k has $1/1" replica_has "$k" "$1" 1 "$2"; done
}
# until_accepted K ARGS...: repeat an update at K while it refuses (exit 3, recovering); OUT
# is the acknowledgement.
try_update() {
    local k=$1
    shift
    run cli_r "$k" "$@"
    [[ $RC == 0 ]] && return 0
    [[ $RC == 3 ]] || fail "update $* at replica $k: rc=$RC $ERR"
    return 1
}
until_accepted() { wait_for -m "replica $1 takes an update" try_update "$@"; }

write_at2 74001 2.0 1
write_at2 74002 2.0 2
sqlite3 "$DATA/replica-2.db" ".backup '$T/bak.db'" || fail "sqlite3 .backup failed"
write_at2 74003 3.0 3
write_at2 74004 3.0 4
write_at2 74005 3.0 5

restore() {   # BACKUP
    stop_replica 2
    cp "$1" "$DATA/replica-2.db"
    rm -f "$DATA/replica-2.db-wal" "$DATA/replica-2.db-shm"
}

# ---- 1. restored with every peer up ---------------------------------------------------------
restore "$T/bak.db"
start_replica 2
until_accepted 2 rate 74010 1 4.0
parse_ok_id "$OUT"
seq=$(ts_entry "$OK_TS" 2)
((seq >= 6)) || fail "restored replica 2 numbered its next update $seq again (ts [$OK_TS]); it had used 1..5"
for i in 3 4 5; do
    assert_exit 0 cli_r 2 get 7400$i 1
    assert_eq 3.0 "$OUT" "restored replica 2: its own update 7400$i/1, taken back from its peers"
done
assert_converged

# ---- 2. restored while replica 1 is away: recovering until it has heard from everyone ---------
sqlite3 "$DATA/replica-2.db" ".backup '$T/bak2.db'" || fail "sqlite3 .backup failed"
last=$seq
write_at2 74011 1.5 $((last + 1))
write_at2 74012 1.5 $((last + 2))
stop_replica 1
restore "$T/bak2.db"
start_replica -r 2
sleep 1
st=$(state_of 2)
run cli_r 2 rate 74020 1 4.5
[[ $RC != 0 ]] || fail "restored replica 2 (state '$st') took an update with replica 1 away: ts [$(parse_ok_id "$OUT"; echo "$OK_TS")]"
assert_eq 3 "$RC" "exit status of an update at recovering replica 2"
assert_contains "$ERR" recovering "the refusal"
assert_eq recovering "$st" "restored replica 2's state with replica 1 away"
start_replica 1
until_accepted 2 rate 74021 1 4.5
parse_ok_id "$OUT"
seq=$(ts_entry "$OK_TS" 2)
((seq > last + 2)) || fail "restored replica 2 numbered its next update $seq; it had used up to $((last + 2))"
assert_converged
for k in 0 1 2; do
    for u in 74001:2.0 74002:2.0 74003:3.0 74004:3.0 74005:3.0 74010:4.0 74011:1.5 74012:1.5 74021:4.5; do
        assert_exit 0 cli_r "$k" get "${u%%:*}" 1
        assert_eq "${u##*:}" "$OUT" "replica $k: ${u%%:*}/1"
    done
done
