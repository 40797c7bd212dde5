#!/bin/sh
# check-no-syscall.sh ELF — fails when the image holds a system-call
# instruction (syscall, sysenter, int $0x80).  There is no kernel under the
# hypervisor: one would mean a syscall-using musl member was linked in,
# i.e. a strong definition is missing from lua/port/libc.c.  Prints the
# functions that hold them.
set -eu
elf=${1:?usage: lua/check-no-syscall.sh build/vmxdbg.elf}
[ -f "$elf" ] || { echo "check-no-syscall: no $elf" >&2; exit 2; }
hits=$(objdump -d --no-show-raw-insn "$elf" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2 }
    $2 == "syscall" || $2 == "sysenter" || ($2 == "int" && $3 == "$0x80") { print fn }' | sort -u)
if [ -n "$hits" ]; then
    echo "check-no-syscall: $elf has system calls in:" $hits >&2
    exit 1
fi
echo "check-no-syscall: $elf has no system-call instruction"
