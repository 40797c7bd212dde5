"""Linux as the guest: Debian's packaged kernel (linux-image-amd64) boots
under vmxdbg in Bochs to a busybox /init, which prints a marker and powers
off by ACPI; vmxdbg recognises the S5 write and ends the run.  Once through
the PVH entry (the uncompressed vmlinux, no decompressor), once through the
bzImage boot protocol (the kernel's own decompressor runs, emulated: slow).
Then gdb debugs the PVH boot from start_kernel on, with addresses from the
package's System.map (recovered from kallsyms when the package ships a stub).

tools/linux-guest.py fetches and prepares everything into build/linux/
(cached, never committed).  When the packages cannot be fetched the tests
say so and are skipped -- they never pass without having booted Linux.
"""
import fcntl
import json
import os
import re
import subprocess

LINUX = "build/linux"
MEGS = 512                  # the kernel loads at 16 MiB; the hypervisor holds 128-160 MiB
BOOT_TIMEOUT = 420          # Bochs seconds: PVH ~95 s, bzImage ~3 min here
BROKE = [r"Kernel panic", r"guest stopped", r"EXCEPTION: ", r"PANIC", r"ept: violation"]
HV_REGION = r"BIOS-e820: \[mem 0x0*8000000-0x0*9ffffff\] reserved"


def linux(t):
    """build/linux ready (fetched once, under a lock: tests run two at a
    time); its info.json.  Skips the test when the packages cannot be had."""
    fetched(t, "tools/linux-guest.py", "Debian's linux-image-amd64/busybox-static")
    with open(t.path(os.path.join(LINUX, "info.json"))) as f:
        info = json.load(f)
    info["symbols"] = {k: int(v, 16) for k, v in info["symbols"].items()}
    return info


def fetched(t, tool, what):
    """Run a fetch-and-prepare tool under build/linux's lock; its output.
    Exit status 2 (cannot fetch) skips the test with the tool's reason."""
    os.makedirs(t.path(LINUX), exist_ok=True)
    with open(t.path(os.path.join(LINUX, ".lock")), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(["python3", t.path(tool)], capture_output=True, text=True)
    if p.returncode == 2:
        skip(t, f"{what} cannot be fetched: " + p.stderr.strip().splitlines()[-1])
    t.check(p.returncode == 0, f"{tool} failed: {p.stderr.strip()[-600:]}")
    return p.stdout


def skip(t, why):
    """Skipped, loudly: a runner without skips counts it as a failure."""
    if hasattr(t, "skip"):
        t.skip(why)
    t.check(False, f"SKIPPED (this runner cannot skip): {why}")


def symbols_elf(t):
    path = t.path(os.path.join(LINUX, "symbols.elf"))
    if not os.path.isfile(path):
        skip(t, "no build/linux/symbols.elf (as/ld/objcopy from binutils missing?)")
    return path


def modules(info, kernel):
    return [(os.path.join(LINUX, kernel), f"guest {info['cmdline']}"),
            (os.path.join(LINUX, "initramfs.cpio"), "initrd")]


def booted_to_init_and_powered_off(r, info):
    r.expect(r"Linux version " + re.escape(info["release"]))
    r.expect(HV_REGION)                              # the map the loader gave, hypervisor region reserved
    r.expect(r"Trying to unpack rootfs image as initramfs")
    r.expect(r"Run /init as init process")
    r.expect(re.escape(info["marker"]) + r": " + re.escape(info["release"]) + r", pid 1, cmdline: "
             + re.escape(info["cmdline"]))
    r.expect(r"ACPI: PM: Preparing to enter system sleep state S5")
    r.expect(r"guest: powered off \(ACPI S5\) at TSC \d+, \d+ after launch")
    r.expect(r"exits: \d+ in all, .*CPUID \d+")
    for bad in BROKE:
        r.forbid(bad)
    r.expect_poweroff()


def test_linux_boots_through_its_pvh_entry_to_init_and_powers_off_by_acpi(t):
    info = linux(t)
    r = t.boot(hv_args="panic=poweroff", modules=modules(info, "vmlinux"), megs=MEGS, timeout=BOOT_TIMEOUT)
    r.expect(rf"guest: Linux PVH vmlinux, \d+ KiB at 0x1000000-0x[0-9a-f]+, entry 0x{info['pvh_entry']:x}, "
             rf"args \"{re.escape(info['cmdline'])}\"")
    r.expect(r"guest: initrd \d+ KiB at 0x[0-9a-f]+")
    booted_to_init_and_powered_off(r, info)
    # CPUID consistent with the MSRs: Bochs advertises APERF/MPERF and the
    # thermal monitor without their MSRs; hidden, Linux never touches them.
    r.expect(r"cpuid: APERF/MPERF \(IA32_APERF\) advertised, MSR 0xe8 absent: hidden from the guest")
    # Linux warns once for the first unchecked RDMSR and once for the first
    # WRMSR, whichever MSR it is: none at all (0xe2, which intel_idle reads
    # by CPU model, went with MONITOR/MWAIT hidden).
    r.forbid(r"unchecked MSR access error")


test_linux_boots_through_its_pvh_entry_to_init_and_powers_off_by_acpi.timeout = BOOT_TIMEOUT + 120


def test_linux_boots_from_its_bzimage_through_the_boot_protocol_too(t):
    info = linux(t)
    r = t.boot(hv_args="panic=poweroff", modules=modules(info, "vmlinuz"), megs=MEGS, timeout=BOOT_TIMEOUT)
    r.expect(r"guest: Linux bzImage, \d+ KiB at 0x1000000-0x[0-9a-f]+, entry 0x1000000, args")
    booted_to_init_and_powered_off(r, info)


test_linux_boots_from_its_bzimage_through_the_boot_protocol_too.timeout = BOOT_TIMEOUT + 120


def test_gdb_breaks_at_start_kernel_reads_the_banner_steps_and_follows_a_syscall_to_init(t):
    """gdb-wait stops the guest at the PVH entry: 32-bit protected mode,
    paging off.  The stub presents the amd64 view the kernel will need from
    the start (the view follows the image, a Linux kernel, not the CPU's
    mode), and the first breakpoint is a hardware one: the kernel's
    virtual addresses do not translate yet, and DR0 compares linear
    addresses whatever the paging.  From start_kernel on, software
    breakpoints work."""
    info = linux(t)
    sym = info["symbols"]
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=modules(info, "vmlinux"), megs=MEGS,
                timeout=BOOT_TIMEOUT + 60)
    t.wait_for(m, r"gdb-wait: the guest waits", timeout=120)
    out = t.gdb(m, "info registers rip",
                f"hbreak *0x{sym['start_kernel']:x}",
                "continue",
                "info registers rip",
                f"x/s 0x{sym['linux_banner']:x}",
                "x/s &linux_banner",
                f"info symbol 0x{sym['linux_banner'] + 5:x}",
                "stepi",
                "info registers rip",
                "delete",
                f"break *0x{sym['entry_SYSCALL_64']:x}",
                "continue",
                "info registers rip rax",
                "delete",
                "detach", elf=symbols_elf(t), timeout=BOOT_TIMEOUT)
    t.check(re.search(rf"rip\s+0x{info['pvh_entry']:x}\b", out),
            f"gdb-wait did not stop at the PVH entry 0x{info['pvh_entry']:x}: {out[-600:]!r}")
    stops = re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)
    t.check(len(stops) >= 4, f"gdb saw {len(stops)} stops, want 4: {out[-800:]!r}")
    t.check(int(stops[1], 16) == sym["start_kernel"],
            f"stopped at {stops[1]}, not start_kernel 0x{sym['start_kernel']:x}")
    t.check(re.search(r'0x[0-9a-f]+(?: <linux_banner>)?:\s+"Linux version ' + re.escape(info["release"]), out),
            f"x/s linux_banner did not show the banner: {out[-800:]!r}")
    # symbols.elf: data symbols sized, in the kernel's own sections.
    t.check(re.search(r'<linux_banner>:\s+"Linux version ', out),
            f"x/s &linux_banner did not name linux_banner: {out[-800:]!r}")
    t.check(re.search(r"linux_banner \+ 5 in section \.rodata", out),
            f"info symbol did not place linux_banner+5 in .rodata: {out[-800:]!r}")
    t.check(int(stops[2], 16) != sym["start_kernel"], "stepi did not move off start_kernel")
    t.check(int(stops[3], 16) == sym["entry_SYSCALL_64"],
            f"stopped at {stops[3]}, not entry_SYSCALL_64 0x{sym['entry_SYSCALL_64']:x}")
    r = t.finish(m)
    booted_to_init_and_powered_off(r, info)


test_gdb_breaks_at_start_kernel_reads_the_banner_steps_and_follows_a_syscall_to_init.timeout = BOOT_TIMEOUT + 180
