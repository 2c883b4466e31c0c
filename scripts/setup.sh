#!/usr/bin/env bash
# setup.sh -- install what ratingd needs to build and test, and start rpcbind.  Idempotent;
# `make deps` (and so `make demo` and `make test`) runs it.
#
#   build: gcc, make, pkg-config, rpcgen (rpcsvc-proto), libtirpc-dev, libsqlite3-dev,
#          libcmocka-dev (unit tests)
#   run:   rpcbind (also gives rpcinfo), /etc/netconfig (libtirpc-common), netbase (/etc/rpc,
#          /etc/services), sqlite3 (to inspect a replica's database), procps (ps, pgrep)
#   multi-host tests (tests/cluster, root only): iproute2 (ip netns, veth, bridge, tc),
#          nftables (loss and partitions), util-linux (unshare, nsenter)
#   hostile input (docs/security.md): clang + libclang-rt-14-dev (libFuzzer, make fuzz),
#          valgrind (make valgrind)
#   install (docs/install.md): groff-base and man-db (the man pages are checked with groff -ww)
#   benchmark (make bench): gnuplot-nox (the latency/throughput plot)
#   fault tests (tests/e2e/faults.sh): faketime (libfaketime: a replica's clock skewed or
#          jumped), fiu-utils (fiu-ctrl and libfiu's POSIX preload: fdatasync failing)
#
# As root on Debian it installs what is missing with apt-get; otherwise it says what to
# install and exits 1.  Then it makes sure rpcbind answers (`rpcinfo -p`), starting it by hand
# when no init system did (`mkdir -p /run/rpcbind && rpcbind -w`).
set -eu

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

PACKAGES="gcc libc6-dev make pkg-config rpcsvc-proto libtirpc-dev libtirpc-common rpcbind
netbase libcmocka-dev libsqlite3-dev libssl-dev sqlite3 procps coreutils grep sed
iproute2 nftables util-linux clang libclang-rt-14-dev valgrind groff-base man-db
gnuplot-nox faketime fiu-utils"
PACKAGES=$(echo $PACKAGES)

# --- what is missing ------------------------------------------------------------
missing=""
need() { missing="$missing $1"; }
have() { command -v "$1" >/dev/null 2>&1; }
check() {
    missing=""
    for c in gcc cc make pkg-config rpcgen cpp sqlite3 pgrep ps timeout awk; do
        have "$c" || need "$c"
    done
    # rpcbind and rpcinfo live in /usr/sbin, which a non-root PATH may lack.
    for c in rpcbind rpcinfo; do
        have "$c" || [ -x "/usr/sbin/$c" ] || [ -x "/sbin/$c" ] || need "$c"
    done
    # The multi-host tests run only as root (network namespaces); others skip them.
    if [ "$(id -u)" = 0 ]; then
        for c in ip tc nft unshare nsenter; do
            have "$c" || [ -x "/usr/sbin/$c" ] || [ -x "/sbin/$c" ] || need "$c"
        done
    fi
    if have pkg-config && ! pkg-config --exists libtirpc 2>/dev/null; then need libtirpc.pc; fi
    [ -f /usr/include/tirpc/rpc/rpc.h ] || need tirpc-headers
    [ -f /usr/include/cmocka.h ] || need cmocka.h
    [ -f /usr/include/sqlite3.h ] || need sqlite3.h
    [ -f /usr/include/openssl/hmac.h ] || need openssl/hmac.h
    [ -f /usr/include/stdio.h ] || need libc-headers
    [ -f /etc/netconfig ] || need /etc/netconfig
    [ -f /etc/rpc ] || need /etc/rpc
    # make fuzz (clang's libFuzzer runtime) and make valgrind
    have clang || need clang
    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || need libclang_rt.fuzzer
    have valgrind || need valgrind
    # make install's man pages (tests/e2e/t_install.sh renders them)
    have groff || need groff
    have man || need man
    have gnuplot || need gnuplot
    # the fault tests: a replica's clock (libfaketime), failing fdatasync (libfiu)
    have faketime || need faketime
    have fiu-ctrl || need fiu-ctrl
    [ -f /usr/lib/fiu/fiu_posix_preload.so ] || need fiu_posix_preload.so
    missing=${missing# }
}

check
if [ -n "$missing" ]; then
    say "missing: $missing"
    if [ "$(id -u)" != 0 ]; then
        die "run as root, or install them yourself:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends $PACKAGES
then run this script again (it also starts rpcbind)."
    fi
    have apt-get || die "no apt-get here: install the equivalents of: $PACKAGES"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/ratingd-setup.XXXXXX)
    apt_get() {
        if ! apt-get -q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 "$@" </dev/null >"$log" 2>&1; then
            tail -n 30 "$log" >&2
            die "apt-get $1 failed (full log: $log)"
        fi
    }
    say "apt-get update"
    apt_get update
    say "apt-get install $PACKAGES"
    apt_get install --no-install-recommends $PACKAGES
    rm -f "$log"
    hash -r
    check
    [ -z "$missing" ] || die "still missing after apt-get install: $missing"
fi
say "build and test tools present (gcc, make, rpcgen, libtirpc $(pkg-config --modversion libtirpc), cmocka, sqlite3)"

# --- rpcbind ---------------------------------------------------------------------
PATH="$PATH:/usr/sbin:/sbin"
if rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
    say "rpcbind is running"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    die "rpcbind is not running; start it as root:
    sudo sh -c 'mkdir -p /run/rpcbind && rpcbind -w'
(or: sudo systemctl start rpcbind)"
fi
say "starting rpcbind"
mkdir -p /run/rpcbind
# Another rpcbind may be starting (or stuck); if it holds the lock, wait for it instead.
rpcbind -w 2>/tmp/ratingd-rpcbind.err || say "rpcbind: $(cat /tmp/ratingd-rpcbind.err)"
i=0
until rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 100 ] || die "rpcbind does not answer after 10 s ($(cat /tmp/ratingd-rpcbind.err 2>/dev/null))"
    sleep 0.1
done
rm -f /tmp/ratingd-rpcbind.err
say "rpcbind is running"
