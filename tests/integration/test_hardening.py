"""Issue 10, replayed with real gdb: the VMCS writes and injections that
opened the debug UART to the hostile guest, pointed MSR areas at the
hypervisor or killed the guest are refused with a reason, and the guest
runs on with the debug UART still invisible (tests/guests/hostile reports
what it sees on COM2).  The writable bits still go through, and a field
number with the high-half access bit (0x2011) reaches bits 63:32 only.
"""
import re

HOSTILE = "build/guests/hostile.elf"
BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=\d+ failed=0 checksum=0xf91f694b"


def at_gdb_wait(t, guest, *commands):
    """The guest stopped before its first instruction; gdb runs the commands."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(guest, "guest")])
    t.wait_for(m, r"gdb-wait")
    return m, t.gdb(m, *commands, "detach")


def test_refused_vmcs_writes_leave_com2_invisible_to_the_hostile_guest(t):
    m, out = at_gdb_wait(t, HOSTILE,
                         "monitor vmcs PRIMARY_VM_EXEC_CONTROL",
                         "monitor vmcs PRIMARY_VM_EXEC_CONTROL 0x948061f2",
                         "monitor vmcs VM_EXIT_MSR_STORE_ADDRESS 0x8000000",
                         "monitor vmcs VM_EXIT_MSR_LOAD_ADDRESS 0x200000",
                         "monitor vmcs SECONDARY_VM_EXEC_CONTROL 0x80",
                         "monitor vmcs HOST_RIP 0",
                         "monitor lua vmcs.write('GUEST_CS_ACCESS_RIGHTS', 0)",
                         "monitor lua inject.exception(3, 0)",
                         "monitor vmcs PRIMARY_VM_EXEC_CONTROL",
                         "monitor vmcs GUEST_CS_ACCESS_RIGHTS")
    before, after = re.findall(r"^PRIMARY_VM_EXEC_CONTROL = (0x[0-9a-f]+)$", out, re.M)[:2] or (None, None)
    t.check(before is not None and before == after,
            f"PRIMARY_VM_EXEC_CONTROL changed or unread: {before} then {after}")
    t.find(out, r"^vmcs: PRIMARY_VM_EXEC_CONTROL bits? (\d+ \(\w+\), )*25 \(USE_IO_BITMAPS\)",
                "use-I/O-bitmaps cleared")
    t.find(out, r"^vmcs: VM_EXIT_MSR_STORE_ADDRESS is an address", "MSR-store area")
    t.find(out, r"^vmcs: VM_EXIT_MSR_LOAD_ADDRESS is an address", "MSR-load area")
    t.find(out, r"^vmcs: SECONDARY_VM_EXEC_CONTROL is one of vmxdbg's own controls", "EPT off")
    t.find(out, r"^vmcs: HOST_RIP belongs to the hypervisor: host state", "host state")
    t.find(out, r"vmcs\.write: VM entry would fail: GUEST_CS_ACCESS_RIGHTS \(0x00000000\): .* SDM 27\.3\.1\.2",
                "an unusable CS")
    t.find(out, r"inject\.exception: exception 3 pushes no error code", "#BP with an error code")
    t.find(out, r"^GUEST_CS_ACCESS_RIGHTS = 0x[0-9a-f]*9b$", "CS unchanged")
    t.wait_for(m, r"guest stopped: EPT violation at guest-physical 0x8000000")
    r = t.finish(m, stop=True)
    r.expect(r"guest: write to port 0x2f8 of the debug UART: hidden")
    r.expect(r"HOSTILE com2: no device \(every port reads 0xff\)")
    r.forbid(r"device visible")
    r.forbid(r"vmentry:")
    r.forbid(r"EXCEPTION|PANIC")


def test_writable_fields_and_the_high_half_go_through_and_the_guest_finishes(t):
    m, out = at_gdb_wait(t, BASIC,
                         "monitor vmcs 0x2011 0x12345678",
                         "monitor vmcs TSC_OFFSET",
                         "monitor vmcs 0x2011",
                         "monitor vmcs 0x2011 0x100000000",
                         "monitor vmcs TSC_OFFSET 0",
                         "monitor lua return vmcs.read(0x2011), vmcs.read(0x2010)",
                         "monitor lua inject.exception(13)",
                         "monitor vmcs VM_ENTRY_INTERRUPTION_INFO",
                         "set $eflags = 0x20202",
                         "monitor vmcs GUEST_RFLAGS")
    t.find(out, r"^TSC_OFFSET = 0x1234567800000000$", "0x2011 wrote bits 63:32 only")
    t.find(out, r"^0x2011 = 0x12345678$", "0x2011 reads bits 63:32")
    t.find(out, r"^vmcs: 0x100000000 does not fit the high half of TSC_OFFSET \(32 bits\)",
                "a value wider than the high half")
    t.find(out, r"^0 \(0x0\)\t0 \(0x0\)$", "TSC_OFFSET back to 0")
    t.find(out, r"inject\.exception: VM entry would fail: VM_ENTRY_INTERRUPTION_INFO .*exception 13 "
                r"pushes an error code", "#GP without its error code")
    t.find(out, r"^VM_ENTRY_INTERRUPTION_INFO = 0x0$", "nothing left pending")
    # A register write goes through the same policy: RFLAGS.VM would need
    # virtual-8086 segments (SDM 27.3.1.2); gdb hears an error, the log why.
    t.find(out, r"^Could not write register \"eflags\"; remote failure reply 'E22'", "gdb told")
    t.find(out, r"^GUEST_RFLAGS = 0x2$", "RFLAGS unchanged")
    r = t.finish(m)
    r.expect(r"target: register rflags <- 0x20202 refused: VM entry would fail: GUEST_\w+ \(0x[0-9a-f]+\): "
             r"a virtual-8086 guest")
    r.expect(DONE)
    r.forbid(r"vmentry:")
    r.expect_poweroff()


def test_changes_at_a_stop_that_would_fail_entry_are_undone_and_the_guest_finishes(t):
    """Each write passes on its own: IA32_DEBUGCTL.BTF on (single-step on
    branches), and RFLAGS.IF.  `stepi` then holds interrupts off for one
    instruction (blocking by MOV SS) with the step's trap pending (BS),
    which VM entry refuses while BTF is 1 (SDM 27.3.1.5).  Before entering,
    the checker sees it; the stop's changes are undone and the guest runs on
    as if nothing had been asked."""
    m, out = at_gdb_wait(t, BASIC,
                         "monitor lua vmcs.write('GUEST_RFLAGS', vmcs.read('GUEST_RFLAGS') | 0x200)",
                         "monitor vmcs GUEST_IA32_DEBUGCTL 2",
                         "monitor vmcs GUEST_IA32_DEBUGCTL",
                         "stepi",
                         "monitor vmcs GUEST_RFLAGS",
                         "monitor vmcs GUEST_IA32_DEBUGCTL")
    t.find(out, r"^GUEST_IA32_DEBUGCTL = 0x2$", "BTF went in")
    rflags = re.search(r"^GUEST_RFLAGS = (0x[0-9a-f]+)$", out, re.M)
    t.check(rflags and not int(rflags.group(1), 16) & 0x200, f"IF still set after the undo: {out[-600:]!r}")
    t.find(out, r"^GUEST_IA32_DEBUGCTL = 0x0$", "BTF was taken back")
    r = t.finish(m)
    r.expect(r"vmentry: refused the debugger's changes: VM entry would fail: GUEST_PENDING_DEBUG_EXCEPTIONS "
             r"\(0x0000000000004000\): BS \(bit 14\) must be 0 unless RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0")
    r.expect(r"vmentry: restored the \d+ VMCS fields changed while the guest was stopped; the guest runs on")
    r.expect(DONE)
    r.forbid(r"VM entry failed|guest stopped")
    r.expect_poweroff()
