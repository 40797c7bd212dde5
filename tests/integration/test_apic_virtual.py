"""apic=virtual (issue 12 item 1): the guest's local APIC as a virtual-APIC
page per vCPU, with virtual-interrupt delivery.  The test guests run under it
with the results and checksums of a pass-through or bare run; a CPU without
the controls is refused with the reason and falls back to pass-through."""
import re

BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=(\d+) failed=(\d+) checksum=(0x[0-9a-f]+)"
BROKE = [r"EXCEPTION", r"PANIC", r"GUEST FAIL", r"guest stopped"]
VIRTUAL = r"apic: virtual: a virtual-APIC page per vCPU"


def done(r):
    m = r.expect(DONE)
    return int(m.group(1)), int(m.group(2)), m.group(3)


def test_basic_guest_under_the_virtual_apic_matches_pass_through(t):
    virt = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(BASIC, "guest")])
    virt.expect(VIRTUAL)
    vpass, vfail, vsum = done(virt)
    for bad in BROKE:
        virt.forbid(bad)
    passthrough = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest")])
    ppass, pfail, psum = done(passthrough)
    t.check(vfail == 0 and pfail == 0, f"failures: virtual {vfail}, pass-through {pfail}")
    t.check((vpass, vsum) == (ppass, psum), f"virtual {vpass} {vsum}, pass-through {ppass} {psum}")
    # Every interrupt of this PIC guest exited (ExtINT through LINT0) and was injected.
    m = virt.expect(r"exits: \d+ in all, (.*)")
    t.check(re.search(r"EXTERNAL_INTERRUPT \d+", m.group(1)), f"no external-interrupt exits: {m.group(1)}")
    virt.expect_poweroff()


def _smp():
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location(
        "integration.test_smp_guest_helpers",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_smp_guest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_smp_guest_under_the_virtual_apic_matches_bare(t):
    """Two vCPUs: INIT-SIPI-SIPI through APIC-write exits on the ICR, 16
    fixed IPIs each way forwarded to the hardware and posted on the other
    vCPU's virtual APIC, EOIs virtualized; the bare run's checksum."""
    smp = _smp()
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(smp.SMP, "guest apic=xapic")], cpus=2,
               timeout=smp.TIMEOUT)
    r.expect(VIRTUAL)
    smp.check_two_cpus(t, r, "xapic")
    r.forbid(r"PANIC|EXCEPTION|guest stopped")


def test_the_smp_guest_cannot_switch_to_x2apic_under_the_virtual_apic(t):
    """x2APIC is hidden from the guest's CPUID: the guest says so."""
    smp = _smp()
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(smp.SMP, "guest apic=x2apic")], cpus=1,
               timeout=smp.TIMEOUT)
    r.expect(r"^SMP apic: x2apic not supported \(CPUID\.1:ECX\.x2APIC = 0\)$")
    r.forbid(r"PANIC|EXCEPTION")


test_the_smp_guest_under_the_virtual_apic_matches_bare.timeout = 300
test_the_smp_guest_cannot_switch_to_x2apic_under_the_virtual_apic.timeout = 300


def _linux():
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location(
        "integration.test_linux_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_linux.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linux_reaches_init_under_the_virtual_apic(t):
    """Linux's local-APIC timer (programmed through APIC-write exits, its
    current count read through APIC-access exits), its IOAPIC interrupts and
    its EOIs (virtualized) all work: /init runs and powers off."""
    lx = _linux()
    info = lx.linux(t)
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=lx.modules(info, "vmlinux"), megs=lx.MEGS,
               timeout=lx.BOOT_TIMEOUT)
    r.expect(VIRTUAL)
    lx.booted_to_init_and_powered_off(r, info)
    m = r.expect(r"exits: \d+ in all, (.*)")
    for reason in ("EXTERNAL_INTERRUPT", "APIC_WRITE"):
        t.check(re.search(reason + r" \d+", m.group(1)), f"no {reason} exits: {m.group(1)}")


test_linux_reaches_init_under_the_virtual_apic.timeout = 600
