#!/usr/bin/env bash
# make install into a temporary root (DESTDIR, PREFIX=/usr) installs exactly the files that
# docs/install.md lists (read from between its "installed files" markers), adds the /etc/rpc
# block once (also on a second install, which keeps a changed configuration), and installs
# man pages that render without groff warnings and name every option of --help, and systemd
# units that systemd-analyze accepts.  Then the INSTALLED ratingd x3, ratingfe and rating run
# from a copy of the INSTALLED ratingd.conf in which only the program numbers, data-dir and
# (to reach the data set inside the temporary root) movielens are changed.  make uninstall
# leaves a changed configuration alone, and otherwise no file at all.
#
# The binaries installed are those of $BIN (make -o: nothing is rebuilt).
. "$(dirname "$0")/lib.sh"

ROOT=$T/root
BUILD_DIR=$(dirname "$BIN")
SBIN=$ROOT/usr/sbin
USRBIN=$ROOT/usr/bin
ETC_CONF=$ROOT/etc/ratingd/ratingd.conf
LIST_DOC=$E2E_ROOT/docs/install.md

for c in make groff man; do
    command -v "$c" >/dev/null || fail "$c not found (scripts/setup.sh installs it)"
done

# make TARGET: the project's Makefile, without the MAKEFLAGS of a make that runs us.
inst_make() {
    run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$E2E_ROOT" --no-print-directory \
        BUILD="$BUILD_DIR" BIN="$BIN" -o "$BIN/ratingd" -o "$BIN/ratingfe" -o "$BIN/rating" \
        DESTDIR="$ROOT" PREFIX=/usr "$@"
    [[ $RC == 0 ]] || fail "make $*: exit $RC: $(tail -n 5 "$T/.err" | tr '\n' ' ')"
}

# installed_files: every file and symlink under ROOT, as absolute paths without ROOT.
installed_files() { (cd "$ROOT" 2>/dev/null && find . -type f,l | sed 's|^\.||' | LC_ALL=C sort); }

# ---- the documented list -----------------------------------------------------------
expected=$(sed -n '/<!-- installed files: begin/,/<!-- installed files: end/p' "$LIST_DOC" |
    grep '^/' | LC_ALL=C sort)
assert_int_ge 10 "$(grep -c . <<<"$expected")" "files listed in docs/install.md"

# ---- install ---------------------------------------------------------------------------
inst_make install
assert_eq "$expected" "$(installed_files)" "files installed by make install (docs/install.md's list)"
for f in "$SBIN/ratingd" "$SBIN/ratingfe" "$USRBIN/rating"; do
    [[ -x $f ]] || fail "$f is not executable"
done
cmp -s "$BIN/ratingd" "$SBIN/ratingd" || fail "the installed ratingd is not $BIN/ratingd"
cmp -s "$ETC_CONF" "$ROOT/usr/share/doc/ratingd/ratingd.conf.example" ||
    fail "the installed configuration differs from the example"
left=$(grep -HnE '@[A-Z]+@' "$ETC_CONF" "$ROOT"/lib/systemd/system/*.service)
assert_eq "" "$left" "placeholders left in the installed configuration or units"
assert_contains "$(<"$ETC_CONF")" "movielens /usr/share/ratingd/ml-latest-small" "installed configuration"
assert_contains "$(<"$ETC_CONF")" "data-dir /var/lib/ratingd" "installed configuration"
assert_contains "$(<"$ROOT/lib/systemd/system/ratingd@.service")" \
    "ExecStart=/usr/sbin/ratingd --config /etc/ratingd/ratingd.conf --id %i" "ratingd@.service"
cmp -s "$E2E_ROOT/data/ml-latest-small/ratings.csv" "$ROOT/usr/share/ratingd/ml-latest-small/ratings.csv" ||
    fail "the installed ratings.csv differs from data/ml-latest-small"

# The /etc/rpc block: once, every line of dist/rpc in it exactly once.
rpc_file=$ROOT/etc/rpc
assert_exit 0 "$E2E_ROOT/scripts/rpc-names.sh" check "$rpc_file"
assert_eq 1 "$(grep -c '^# BEGIN ratingd' "$rpc_file")" "BEGIN markers in etc/rpc"
assert_eq 1 "$(grep -c '^# END ratingd' "$rpc_file")" "END markers in etc/rpc"
while IFS= read -r line; do
    assert_eq 1 "$(grep -c -x -F -e "$line" "$rpc_file")" "copies of '$line' in etc/rpc"
done <"$E2E_ROOT/dist/rpc"
assert_match "$(<"$rpc_file")" $'(^|\n)ratingfe[ \t]+794456064([ \t]|$)' "front end entry"
assert_match "$(<"$rpc_file")" $'(^|\n)ratingd0[ \t]+794456320([ \t]|$)' "replica 0 entry"
assert_match "$(<"$rpc_file")" $'(^|\n)ratingd8[ \t]+794456328([ \t]|$)' "replica 8 entry"

# ---- a second install: nothing changes, a changed configuration is kept -------------------
cp -p "$ETC_CONF" "$T/installed.conf"
echo "# a local change" >>"$ETC_CONF"
cp -p "$rpc_file" "$T/rpc.1"
rpc_stat1=$(stat -c '%i %Y.%y' "$rpc_file")
inst_make install
assert_eq "$expected" "$(installed_files)" "files after a second make install"
assert_contains "$(tail -n 1 "$ETC_CONF")" "# a local change" "the configuration after a second install (kept)"
assert_contains "$OUT" "kept $ETC_CONF" "make install's output"
cmp -s "$T/rpc.1" "$rpc_file" || fail "a second make install changed etc/rpc: $(diff "$T/rpc.1" "$rpc_file" | head -n 5)"
assert_eq "$rpc_stat1" "$(stat -c '%i %Y.%y' "$rpc_file")" "etc/rpc's inode and mtime (not rewritten)"

# ---- man pages ---------------------------------------------------------------------------
declare -A page_of=([ratingd]=man8/ratingd.8 [ratingfe]=man8/ratingfe.8 [rating]=man1/rating.1)
for m in man1/rating.1 man5/ratingd.conf.5 man8/ratingd.8 man8/ratingfe.8; do
    f=$ROOT/usr/share/man/$m
    w=$(groff -ww -man -z "$f" 2>&1)
    assert_eq "" "$w" "groff -ww warnings for $m"
    w=$(MANWIDTH=80 man -l --warnings=w "$f" 2>&1 >/dev/null)
    assert_eq "" "$w" "man -l --warnings=w for $m"
    cmp -s "$f" "$E2E_ROOT/man/${m#*/}" || fail "with PREFIX=/usr the installed $m should equal man/${m#*/}"
done
# Every long option that --help prints is in the program's man page.
for p in ratingd ratingfe rating; do
    if [[ $p == rating ]]; then help=$("$USRBIN/rating" --help); else help=$("$SBIN/$p" --help); fi
    text=$(MANWIDTH=200 man -l "$ROOT/usr/share/man/${page_of[$p]}" 2>/dev/null)
    opts=$(grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z-]*(, -[A-Za-z], --[a-z][a-z-]*)?' <<<"$help" |
        grep -oE -- '--[a-z][a-z-]*' | sort -u)
    assert_int_ge 5 "$(grep -c . <<<"$opts")" "long options in $p --help"
    for o in $opts; do
        grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$text" || fail "$o of $p --help is not in ${page_of[$p]}"
    done
done

# ---- systemd units -----------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # Copies whose ExecStart points into ROOT (verify wants an executable), man pages there.
    mkdir -p "$T/units"
    for u in ratingd@.service ratingfe@.service; do
        sed "s|^ExecStart=/usr/sbin/|ExecStart=$SBIN/|" "$ROOT/lib/systemd/system/$u" >"$T/units/$u"
    done
    w=$(cd "$T/units" && MANPATH=$ROOT/usr/share/man timeout 60 systemd-analyze verify \
        ratingd@0.service ratingfe@0.service 2>&1)
    assert_eq "0:" "$?:$w" "systemd-analyze verify ratingd@0 ratingfe@0"
else
    note "systemd-analyze not found: units not verified"
fi

# ---- the installed programs, from a copy of the installed configuration ---------------------
"$SBIN/ratingd" --help | grep -q -- '--config' ||
    fail "the installed ratingd has no --config"
alloc_progs
FE_PROG=$((PROG_BASE + 15))
NREPL=3
DATA=$T/data
START_SECS=120
export NREPL PROG_BASE FE_PROG DATA
CONF=$T/ratingd.conf
awk -v base="$PROG_BASE" -v fe="$FE_PROG" -v data="$DATA" -v root="$ROOT" '
    $1 == "replica" && NF == 4 { $4 = sprintf("%d", base + $2) }
    $1 == "frontend" && NF == 4 { $4 = fe }
    $1 == "data-dir" { $2 = data }
    $1 == "movielens" { $2 = root $2 }
    { print }
' "$T/installed.conf" >"$CONF"
changed=$(diff "$T/installed.conf" "$CONF" | grep -c '^>')
assert_eq 6 "$changed" "lines changed in the copy (3 replicas, 1 front end, data-dir, movielens)"
note "configuration: $(grep -vE '^[[:space:]]*(#|$)' "$CONF" | tr '\n' ';')"

for k in 0 1 2; do
    # shellcheck disable=SC2086 # E2E_WRAP holds words
    ${E2E_WRAP:-} "$SBIN/ratingd" --config "$CONF" --id "$k" </dev/null >>"$T/replica-$k.log" 2>&1 &
    REPL_PID[$k]=$!
    E2E_PIDS+=("$!")
    note "started installed ratingd $k (pid $!)"
done
for k in 0 1 2; do
    wait_registered $((PROG_BASE + k)) "${REPL_PID[$k]}" "$T/replica-$k.log" "ratingd $k" "$START_SECS"
done
# shellcheck disable=SC2086
${E2E_WRAP:-} "$SBIN/ratingfe" --config "$CONF" </dev/null >>"$T/frontend.log" 2>&1 &
FE_PID=$!
E2E_PIDS+=("$!")
wait_registered "$FE_PROG" "$FE_PID" "$T/frontend.log" "ratingfe" "$START_SECS"
assert_contains "$(<"$T/replica-0.log")" "127.0.0.1" "replica 0 log (it binds its entry's host, localhost)"

rcli() { timeout -k 2 $((60 * E2E_SCALE)) "$USRBIN/rating" --config "$CONF" "$@"; }
assert_exit 0 rcli movie 1
assert_contains "$OUT" "title: Toy Story (1995)"
assert_contains "$OUT" "ratings: 215" "movie 1 from the installed data set"
assert_exit 1 rcli -s "$T/session" get 611 1
assert_exit 0 rcli -s "$T/session" rate 611 1 4.5
parse_ok "$OUT"
assert_exit 0 rcli -s "$T/session" get 611 1
assert_eq 4.5 "$OUT" "the rating read back through the installed client"
# RATING_CONFIG names the file too; a missing --config file and a bad line are errors (2).
assert_exit 0 env RATING_CONFIG="$CONF" timeout 60 "$USRBIN/rating" -s "$T/session" get 611 1
assert_eq 4.5 "$OUT" "the rating with RATING_CONFIG"
assert_exit 2 "$USRBIN/rating" --config "$T/no-such.conf" movie 1
assert_exit 2 "$SBIN/ratingd" --config "$T/no-such.conf" --id 0
printf 'replica 0 localhost 0x2f5a7100\nlog-level info\nno-such-key 1\n' >"$T/bad.conf"
assert_exit 2 "$SBIN/ratingfe" --config "$T/bad.conf"
assert_contains "$ERR" "$T/bad.conf:3:" "the error message of a bad configuration line"

stop_fe
for k in 0 1 2; do stop_replica "$k"; done

# ---- uninstall -----------------------------------------------------------------------------
inst_make uninstall
assert_eq "/etc/ratingd/ratingd.conf" "$(installed_files)" "files left by make uninstall (the changed configuration)"
assert_contains "$OUT" "kept $ETC_CONF" "make uninstall's output"
cp -p "$T/installed.conf" "$ETC_CONF"
inst_make uninstall
assert_eq "" "$(installed_files)" "files left by make uninstall (none)"
