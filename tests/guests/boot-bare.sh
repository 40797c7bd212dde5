#!/bin/bash
# boot-bare.sh — boot a test guest with no hypervisor, print its COM1 output.
#
#   tests/guests/boot-bare.sh qemu  build/guests/basic.elf [guest options...]
#   tests/guests/boot-bare.sh bochs build/guests/basic.elf [guest options...]
#
# qemu:  `-kernel` loads a multiboot v1 image directly (ELF32 or a.out
#        kludge; QEMU takes neither multiboot2 nor ELF64); isa-debug-exit ends
#        the run (exit status 1 when the guest reports success, 3 otherwise).
# bochs: GRUB's `multiboot` command (`multiboot2` for an image with a
#        multiboot2 header) from a grub-mkrescue ISO, as under vmxdbg; the
#        guest's "Shutdown" on port 0x8900 ends the run (status 1).
#        `clock: sync=none` makes the TSC count instructions (GUEST BENCH).
# Either way status 124 means the guest never powered off (TIMEOUT seconds,
# default 120).  Set KEEP=1 to keep the work folder (ISO, bochsrc, logs).
set -euo pipefail

emu=${1:?usage: $0 qemu|bochs GUEST.elf [options...]}
elf=${2:?usage: $0 qemu|bochs GUEST.elf [options...]}
shift 2
args="$*"
timeout_s=${TIMEOUT:-120}
# "mb2" if the image has a multiboot2 header (8-byte aligned in the first
# 32 KiB, checksum good: Multiboot2 §3.1.1), "elf64" for an ELF64 file, else "mb1".
kind=$(python3 - "$elf" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read(32768)
for off in range(0, len(data) - 15, 8):
    magic, arch, length, csum = struct.unpack_from("<4I", data, off)
    if magic == 0xE85250D6 and (magic + arch + length + csum) & 0xFFFFFFFF == 0:
        print("mb2")
        break
else:
    print("elf64" if data[:5] == b"\x7fELF\x02" else "mb1")
PY
)
work=$(mktemp -d /tmp/guest-bare.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

status=0
case "$emu" in
qemu)
	if [ "$kind" != mb1 ]; then
		echo "$0: QEMU -kernel loads multiboot v1 ELF32 or a.out images only; boot $elf with bochs" >&2
		exit 2
	fi
	timeout "$timeout_s" qemu-system-x86_64 -m 256 -kernel "$elf" -append "$args" \
		-serial "file:$work/com1.txt" -display none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 || status=$?
	;;
bochs)
	mkdir -p "$work/iso/boot/grub"
	cp "$elf" "$work/iso/boot/guest.elf"
	command=multiboot
	[ "$kind" = mb2 ] && command=multiboot2
	cat >"$work/iso/boot/grub/grub.cfg" <<-GRUB
	set timeout=0
	set default=0
	menuentry "test guest" {
		$command /boot/guest.elf $args
		boot
	}
	GRUB
	grub-mkrescue -o "$work/guest.iso" "$work/iso" >"$work/grub-mkrescue.log" 2>&1
	# sound: the Debian build aborts in its ALSA thread without a dummy driver.
	cat >"$work/bochsrc" <<-BOCHS
	megs: 256
	cpu: model=corei7_skylake_x, count=1, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0
	clock: sync=none, time0=local
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	display_library: rfb, options="timeout=0"
	sound: driver=dummy
	ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
	ata0-master: type=cdrom, path=$work/guest.iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$work/com1.txt
	log: $work/bochs.log
	panic: action=fatal
	error: action=report
	info: action=report
	debug: action=ignore
	BOCHS
	printf 'c\nquit\n' >"$work/bochs.rc"
	timeout "$timeout_s" bochs -q -f "$work/bochsrc" -rc "$work/bochs.rc" \
		</dev/null >"$work/bochs.out" 2>&1 || status=$?
	;;
*)
	echo "$0: unknown emulator '$emu' (qemu or bochs)" >&2
	exit 2
	;;
esac

[ -f "$work/com1.txt" ] && tr -d '\r' <"$work/com1.txt"
[ "${KEEP:-0}" = 1 ] && echo "work folder: $work" >&2
exit "$status"
