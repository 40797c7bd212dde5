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
