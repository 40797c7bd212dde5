#!/bin/sh
# `make deps`: install the Debian packages that build, run and test vmxdbg.
# Installs only what is missing, so a second run costs one dpkg-query.
set -eu

PACKAGES="dpkg-dev patch bochs bochsbios vgabios grub-pc-bin grub-common xorriso mtools
qemu-system-x86 musl-dev musl-tools libcmocka-dev gdb lldb clang libclang-rt-14-dev python3 python3-matplotlib make gcc"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done
missing=${missing# }

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "deps: missing packages: $missing" >&2
    echo "deps: run as root: apt-get update && apt-get install -y $missing" >&2
    exit 1
fi

echo "deps: installing $missing"
# No debconf prompts: this also runs unattended in CI (env survives sudo).
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is intended
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
