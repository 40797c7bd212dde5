"""The SMP guest (tests/guests/smp/, issue 11 item 7): the BSP starts the
AP the MADT lists with INIT-SIPI-SIPI, over the xAPIC's ICR (plain MOVs to
0xfee00300/0xfee00310) or the x2APIC's (WRMSR 0x830); both CPUs do fixed
work, exchange 16 acknowledged fixed-vector IPIs each way, and the BSP
prints a checksum of it all.  This file recomputes every number the guest
prints from the guest's algorithm (work.c, smp.h), so a wrong CRC, a lost
lock-prefixed add or a lost IPI fails here, bare or under vmxdbg.

Under vmxdbg the guest's AP needs a vCPU of its own (issue 11 core): those
tests skip until AP_VCPUS is True.
"""
import importlib.util
import os
import re
import struct
import zlib

_spec = importlib.util.spec_from_file_location(
    "integration.test_smp_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_smp.py"))
smp_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smp_tests)

AP_VCPUS = True    # the lead flips this once the hypervisor starts guest APs
SMP = "build/guests/smp.elf"
TIMEOUT = 240       # Bochs with two CPUs boots ~3.5 times slower

# tests/guests/smp/smp.h and work.c
IPIS = 16
LOCKED_ADDS = 10000
SPIN_DEFAULT = 100000
WORK_WORDS = 1024
WORK_ROUNDS = 4
WORK_SEEDS = (0x13579bdf, 0x2468ace1)
MASK = 0xffffffff


def work_area_crc(cpu):
    """work_area_run: xorshift32 stirs a zeroed area; its CRC-32."""
    words, x = [0] * WORK_WORDS, WORK_SEEDS[cpu]
    for rnd in range(WORK_ROUNDS):
        for i in range(WORK_WORDS):
            x ^= (x << 13) & MASK
            x ^= x >> 17
            x ^= (x << 5) & MASK
            words[i] = (((words[i] << 7) | (words[i] >> 25)) & MASK) ^ x ^ rnd
    return zlib.crc32(struct.pack(f"<{WORK_WORDS}I", *words))


def expected(spin=SPIN_DEFAULT):
    """The lines a correct run prints, as (regex-free) strings."""
    bsp, ap = work_area_crc(0), work_area_crc(1)
    summary = struct.pack("<6I", bsp, ap, 2 * LOCKED_ADDS, IPIS, IPIS, spin)
    return [
        "SMP cpus: 2",
        f"SMP work: bsp crc 0x{bsp:08x}, ap crc 0x{ap:08x}",
        f"SMP locked adds: {2 * LOCKED_ADDS}",
        f"SMP ipis: bsp->ap {IPIS}, ap->bsp {IPIS}",
        f"SMP ap_counter: {spin}",
        f"SMP checksum: 0x{zlib.crc32(summary):08x}",
        "SMP done",
    ]


def check_two_cpus(t, r, mode, spin=SPIN_DEFAULT):
    r.expect(rf"^SMP apic: {mode}$")
    r.expect(r"^SMP madt: 2 cpus \(APIC ids 0 1\)$")
    r.expect(r"^SMP bsp: APIC id 0$")
    r.expect(r"^SMP ap: started \(APIC id 1\)$")
    for line in expected(spin):
        r.expect("^" + re.escape(line) + "$")
    r.forbid(r"unexpected trap|taken on the wrong CPU|SMP failed|SMP ap: (stalled|did not)|SMP ipi:")
    r.expect_poweroff()


def boot_bare(t, args, cpus):
    return t.boot(bare=SMP, hv_args=args, cpus=cpus, timeout=TIMEOUT)


def boot_under_vmxdbg(t, args, cpus):
    return t.boot(hv_args="panic=poweroff", modules=[(SMP, f"guest {args}")], cpus=cpus, timeout=TIMEOUT)


def test_the_expected_checksum_depends_on_every_count(t):
    """The host-side model can fail: one lost add, IPI or count of ap_counter
    changes the checksum, and the two CPUs' work areas differ."""
    bsp, ap = work_area_crc(0), work_area_crc(1)
    t.check(bsp != ap, "both CPUs' work areas have the same CRC: the seeds do not matter")
    good = (bsp, ap, 2 * LOCKED_ADDS, IPIS, IPIS, SPIN_DEFAULT)
    t.check(expected()[5] == f"SMP checksum: 0x{zlib.crc32(struct.pack('<6I', *good)):08x}",
            f"expected() does not checksum {good}")
    for i in range(2, len(good)):
        worse = good[:i] + (good[i] - 1,) + good[i + 1:]
        t.check(zlib.crc32(struct.pack("<6I", *worse)) != zlib.crc32(struct.pack("<6I", *good)),
                f"{worse} checksums like {good}")


def test_the_smp_guest_starts_its_ap_over_the_xapic_bare(t):
    check_two_cpus(t, boot_bare(t, "apic=xapic", 2), "xapic")


def test_the_smp_guest_starts_its_ap_over_the_x2apic_bare(t):
    """With spin=0x3e8 as well: ap_counter ends at 1000, and the checksum says so."""
    check_two_cpus(t, boot_bare(t, "apic=x2apic spin=0x3e8", 2), "x2apic", spin=1000)


def test_the_smp_guest_reports_an_ap_that_never_starts_and_powers_off(t):
    """One CPU: the MADT lists only the BSP, the guest tries APIC id 1 all
    the same, times out and says so; it never hangs."""
    r = boot_bare(t, "apic=xapic", 1)
    r.expect(r"^SMP madt: 1 cpu \(APIC ids 0\)$")
    r.expect(r"^SMP madt: no AP listed; trying APIC id 1 anyway$")
    r.expect(r"^SMP ap: did not start \(APIC id 1, \d+ ms after INIT-SIPI-SIPI\)$")
    r.expect(r"^SMP cpus: 1$")
    r.forbid(r"SMP done|SMP checksum|unexpected trap")
    r.expect_poweroff()


def test_an_init_sipi_sipi_to_a_cpu_that_does_not_exist_leaves_vmxdbg_up(t):
    """Under vmxdbg with one CPU, the guest's IPIs to APIC id 1 reach nobody:
    the guest reports it and powers off through the hypervisor."""
    r = boot_under_vmxdbg(t, "apic=xapic", 1)
    r.expect(r"^SMP ap: did not start \(APIC id 1, \d+ ms after INIT-SIPI-SIPI\)$")
    r.expect(r"^SMP cpus: 1$")
    r.forbid(r"PANIC|EXCEPTION|guest stopped|unexpected trap|SMP done")
    r.expect_poweroff()


def test_the_smp_guest_refuses_an_unknown_apic_mode(t):
    r = boot_bare(t, "apic=x3apic", 1)
    r.expect(r"^SMP options: apic=x3apic: want xapic or x2apic$")
    r.forbid(r"SMP madt|SMP done")
    r.expect_poweroff()


def test_the_smp_guest_says_when_the_cpu_has_no_x2apic(t):
    """Bochs' Penryn model has no x2APIC (CPUID.1:ECX bit 21 clear)."""
    r = t.boot(bare=SMP, hv_args="apic=x2apic", model="core2_penryn_t9600", timeout=TIMEOUT)
    r.expect(r"^SMP apic: x2apic not supported \(CPUID\.1:ECX\.x2APIC = 0\)$")
    r.forbid(r"SMP madt|SMP done")
    r.expect_poweroff()


def check_under_vmxdbg(t, mode):
    """The bare run's lines, and the AP inside VMX: Bochs' final dump shows
    CPU 1 with CR4.VMXE set (root or non-root alike; this guest never sets it),
    where an AP the guest had started natively would not have it."""
    if not AP_VCPUS:
        t.skip("needs AP vCPUs (issue 11 core)")
    r = boot_under_vmxdbg(t, f"apic={mode}", 2)
    check_two_cpus(t, r, mode)
    r.forbid(r"PANIC|EXCEPTION|guest stopped")
    _, _, cr4 = smp_tests.final_state(t, r, 1)
    t.check(cr4 & smp_tests.CR4_VMXE, f"CPU1 ended with CR4=0x{cr4:x}: outside VMX, the guest's AP ran natively")


def test_the_smp_guest_under_vmxdbg_over_the_xapic_matches_bare(t):
    check_under_vmxdbg(t, "xapic")


def test_the_smp_guest_under_vmxdbg_over_the_x2apic_matches_bare(t):
    check_under_vmxdbg(t, "x2apic")


for _test in (test_the_smp_guest_starts_its_ap_over_the_xapic_bare,
              test_the_smp_guest_starts_its_ap_over_the_x2apic_bare,
              test_the_smp_guest_under_vmxdbg_over_the_xapic_matches_bare,
              test_the_smp_guest_under_vmxdbg_over_the_x2apic_matches_bare):
    _test.timeout = TIMEOUT + 60
