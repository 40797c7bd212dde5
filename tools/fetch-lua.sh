#!/bin/sh
# fetch-lua.sh — Lua 5.4's source from Debian's `lua5.4` source package,
# unpacked (Debian's patches applied) into DEST (default build/lua-src), so
# that DEST/src/lua.h exists.  Never committed: docs/design.md, "Nothing from
# another project is copied in".  A second run costs one `test -f`.
#
# apt-get source needs a deb-src entry; Debian images list only `Types: deb`,
# so a `Types: deb-src` twin of the Debian source list is added when no
# deb-src entry exists (docs/platform-notes.md, "The build machine").
set -eu

DEST=${1:-build/lua-src}
[ -f "$DEST/src/lua.h" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    as_root="cannot"
fi

root() {
    if [ "$as_root" = cannot ]; then
        echo "fetch-lua: needs root for: $*" >&2
        exit 1
    fi
    $as_root env DEBIAN_FRONTEND=noninteractive "$@"
}

have_deb_src() {
    grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
    grep -qs '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}

if ! command -v dpkg-source >/dev/null 2>&1; then
    echo "fetch-lua: installing dpkg-dev (dpkg-source)"
    root apt-get install -y -q --no-install-recommends dpkg-dev
fi

if ! have_deb_src; then
    src=/etc/apt/sources.list.d/debian.sources
    if [ ! -f "$src" ]; then
        echo "fetch-lua: no deb-src entry and no $src to derive one from;" >&2
        echo "fetch-lua: add a deb-src line for Debian, then run again" >&2
        exit 1
    fi
    echo "fetch-lua: adding deb-src twin of $src"
    sed 's/^Types: *deb$/Types: deb-src/' "$src" | root tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    root apt-get update -q
fi

work="$DEST.tmp"
rm -rf "$work"
mkdir -p "$work"
# --download-only: the .dsc and tarballs; unpacking is ours, into a fixed path.
if ! (cd "$work" && apt-get source -q --download-only lua5.4 >/dev/null 2>&1); then
    root apt-get update -q
    (cd "$work" && apt-get source -q --download-only lua5.4 >/dev/null)
fi
dsc=$(ls "$work"/lua5.4_*.dsc)
# --no-check: apt-get has already verified every file against the signed
# Sources index; the .dsc signature itself needs a keyring we do not carry.
dpkg-source -q --no-check -x "$dsc" "$work/tree" >/dev/null
if [ ! -f "$work/tree/src/lua.h" ]; then
    echo "fetch-lua: $dsc unpacked without src/lua.h" >&2
    exit 1
fi
rm -rf "$DEST"
mv "$work/tree" "$DEST"
basename "$dsc" .dsc >"$DEST/.debian-version"
rm -rf "$work"
echo "fetch-lua: $(cat "$DEST/.debian-version") unpacked in $DEST"
