#!/bin/sh
# rpc-names.sh -- add ratingd's program names to an rpc(5) file (/etc/rpc) once, or remove them.
#
#   scripts/rpc-names.sh add [--create] FILE [FRAGMENT]
#   scripts/rpc-names.sh remove [--delete-empty] FILE
#   scripts/rpc-names.sh check FILE          exit 0 if FILE holds the block exactly once
#
# FRAGMENT (default dist/rpc next to this script) is written into FILE between two marker
# lines, "# BEGIN ratingd ..." and "# END ratingd".  add is idempotent: a FILE that already
# holds the same block is not touched (not even rewritten); an older block is replaced by the
# new one in place; otherwise the block is appended (after a newline if FILE does not end
# with one).  remove deletes exactly the lines from BEGIN to END and nothing else (the
# newline that add put after a last line without one stays).
#
#   --create        FILE may be missing: create it with just the block (make install does
#                   this under DESTDIR).  Without it, a missing FILE is an error (exit 1).
#   --delete-empty  delete FILE if nothing but blank lines is left (make uninstall under
#                   DESTDIR, so that an uninstall leaves no files behind).
#
# An entry elsewhere in FILE with one of our names or numbers is reported (rpcinfo shows the
# first entry for a number).  FILE is replaced atomically (a temp file in its directory,
# renamed over it) with its mode and owner kept.  Exit 0 ok, 1 error, 2 usage.
set -eu

BEGIN_MARK="# BEGIN ratingd program names (make install; scripts/rpc-names.sh remove deletes this block)"
END_MARK="# END ratingd program names"

usage() {
    sed -n '3,6p' "$0" | sed 's/^# *//' >&2
    exit 2
}
die() { printf 'rpc-names.sh: %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || usage
cmd=$1
shift
create=0 delete_empty=0
while [ $# -gt 0 ]; do
    case $1 in
    --create) create=1; shift ;;
    --delete-empty) delete_empty=1; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || usage
file=$1
here=$(cd "$(dirname "$0")" && pwd)
fragment=${2:-$here/../dist/rpc}

# count FILE: how many BEGIN marker lines FILE has.
count() { grep -c -x -F -e "$BEGIN_MARK" "$1" 2>/dev/null || true; }

# block: the block as it goes into the file.
block() {
    printf '%s\n' "$BEGIN_MARK"
    cat "$fragment"
    printf '%s\n' "$END_MARK"
}

# without FILE: FILE's lines outside the block.
without() {
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
        $0 == b { inblk = 1; next }
        inblk && $0 == e { inblk = 0; next }
        !inblk { print }
    ' "$1"
}

# inside FILE: the block(s) as they are in FILE, markers included.
inside() {
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
        $0 == b { inblk = 1 }
        inblk { print }
        inblk && $0 == e { inblk = 0 }
    ' "$1"
}

# replace FILE: atomically replace FILE (a symlink's target) with stdin, keeping mode and owner.
replace() {
    target=$(readlink -f "$1")
    dir=$(dirname "$target")
    tmp=$(mktemp "$dir/.rpc-names.XXXXXX") || die "cannot create a temp file in $dir"
    if ! cat >"$tmp"; then rm -f "$tmp"; die "cannot write $tmp"; fi
    if [ -e "$target" ]; then
        chmod --reference="$target" "$tmp" 2>/dev/null || chmod 644 "$tmp"
        [ "$(id -u)" != 0 ] || chown --reference="$target" "$tmp" 2>/dev/null || true
    else
        chmod 644 "$tmp"
    fi
    mv -f "$tmp" "$target" || { rm -f "$tmp"; die "cannot replace $target"; }
}

# warn_clashes FILE: our names or numbers defined outside the block.
warn_clashes() {
    without "$1" | awk '
        NR == FNR { if ($0 !~ /^#/ && NF >= 2) { name[$1] = 1; num[$2] = 1 } next }
        { sub(/#.*/, "") }
        NF >= 2 && ($1 in name || $2 in num) {
            printf "rpc-names.sh: warning: %s already has \"%s %s\"; rpcinfo shows the first entry\n", FILENAME_, $1, $2 > "/dev/stderr"
        }
    ' FILENAME_="$1" "$fragment" - || true
}

case $cmd in
add)
    [ -r "$fragment" ] || die "no fragment $fragment"
    if [ ! -e "$file" ]; then
        [ "$create" = 1 ] || die "$file does not exist (--create makes it)"
        mkdir -p "$(dirname "$file")"
        block | replace "$file"
        echo "rpc-names.sh: created $file with the ratingd program names"
        exit 0
    fi
    n=$(count "$file")
    current=$(inside "$file")
    if [ "$n" = 1 ] && [ "$current" = "$(block)" ]; then
        echo "rpc-names.sh: $file already has the ratingd program names"
        exit 0
    fi
    warn_clashes "$file"
    if [ "$n" = 0 ]; then
        # Append, after a newline if the file does not end with one.
        {
            cat "$file"
            if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" != '\n' ]; then echo; fi
            block
        } | replace "$file"
        echo "rpc-names.sh: added the ratingd program names to $file"
    else
        # Replace the old block(s) by one new block where the first one was.
        BLOCK=$(block) awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
            $0 == b { if (!done) print ENVIRON["BLOCK"]; done = 1; inblk = 1; next }
            inblk && $0 == e { inblk = 0; next }
            !inblk { print }
        ' "$file" | replace "$file"
        echo "rpc-names.sh: updated the ratingd program names in $file"
    fi
    ;;
remove)
    if [ ! -e "$file" ]; then
        echo "rpc-names.sh: no $file, nothing to remove"
        exit 0
    fi
    n=$(count "$file")
    if [ "$n" != 0 ]; then
        without "$file" | replace "$file"
        echo "rpc-names.sh: removed the ratingd program names from $file"
    fi
    if [ "$delete_empty" = 1 ] && ! grep -q '[^[:space:]]' "$file"; then
        rm -f "$file"
        echo "rpc-names.sh: removed $file (nothing else was in it)"
    fi
    ;;
check)
    [ -e "$file" ] || die "no $file"
    n=$(count "$file")
    current=$(inside "$file")
    [ "$n" = 1 ] && [ "$current" = "$(block)" ] || die "$file has $n ratingd blocks (or one that differs from $fragment)"
    ;;
*) usage ;;
esac
