"""The task-switch guest (tests/guests/tasks/, issue 12 item 4): CALL to a
TSS returning with IRET, JMP to a TSS and back, INT 0x40 and #GP through IDT
task gates, three rounds each.  Bare under Bochs the CPU switches tasks
itself; under vmxdbg each switch is a TASK_SWITCH exit (SDM Vol. 3C §27.1.2)
that hv/task_switch.c emulates.  This file recomputes every line the guest
prints, so a wrong back link, busy flag, NT, CR0.TS or error code fails
here, bare or under vmxdbg."""
import re
import struct
import zlib

TASKS = "build/guests/tasks.elf"
ROUNDS = 3
SEL_MAIN, SEL_A, SEL_C = 0x18, 0x20, 0x30
BAD_SEL = 0x7f8
TSS_AVAIL, TSS_BUSY = 0x9, 0xb


def fields():
    """What the guest checksums, in its order (main.c's sum[])."""
    value = 1
    for _ in range(ROUNDS):
        value = (value * 31 + 7) & 0xffffffff
    # A's back link and NT (CALL nests); C's link (a task gate nests too);
    # main ends not nested, with CR0.TS set by the last switch; only the
    # running task's TSS is busy (IRET and JMP free the task they leave).
    return (ROUNDS, value, SEL_MAIN, 1, ROUNDS, ROUNDS, SEL_MAIN, ROUNDS, BAD_SEL, 0, 1,
            TSS_BUSY, TSS_AVAIL, TSS_AVAIL, TSS_AVAIL, TSS_AVAIL)


def checksum(nums):
    return zlib.crc32(struct.pack(f"<{len(nums)}I", *nums))


def expected():
    nums = fields()
    return [
        f"TASKS start: TR 0x{SEL_MAIN:x}, 4 tasks, {ROUNDS} rounds",
        f"TASKS call: task A ran {ROUNDS} times, value 0x{nums[1]:x}, link 0x{SEL_MAIN:x}, NT 1",
        f"TASKS jmp: task B ran {ROUNDS} times",
        f"TASKS int 0x40 gate: task C ran {ROUNDS} times, link 0x{SEL_MAIN:x}",
        f"TASKS #GP gate: task D ran {ROUNDS} times, error 0x{BAD_SEL:x}",
        "TASKS main: NT 0, CR0.TS 1",
        f"TASKS types: main 0x{TSS_BUSY:x} A 0x{TSS_AVAIL:x} B 0x{TSS_AVAIL:x} C 0x{TSS_AVAIL:x} D 0x{TSS_AVAIL:x}",
        f"TASKS checksum: 0x{checksum(nums):08x}",
        "TASKS done",
    ]


def check(r):
    for line in expected():
        r.expect("^" + re.escape(line) + "$")
    r.forbid(r"unexpected trap|unhandled exit reason|guest stopped|PANIC")
    r.expect_poweroff()


def test_the_checksum_depends_on_every_field(t):
    """The model can fail: one field off (a lost run, a wrong link, busy
    flag or error code) changes the checksum."""
    good = fields()
    for i in range(len(good)):
        worse = good[:i] + (good[i] ^ 1,) + good[i + 1:]
        t.check(checksum(worse) != checksum(good), f"field {i} does not change the checksum")


def test_task_switches_bare(t):
    check(t.boot(bare=TASKS))


def test_task_switches_under_vmxdbg_match_bare(t):
    """Every switch exits (TASK_SWITCH) and is emulated: the bare lines."""
    r = t.boot(hv_args="panic=poweroff", modules=[(TASKS, "guest")])
    check(r)
    r.expect(rf"TASK_SWITCH {8 * ROUNDS}\b")   # 4 kinds, out and back


ABSENT_LINE = r"^TASKS absent TSS: #NP 1 time\(s\), error 0x40, TR 0x18$"
SHORT_LINE = r"^TASKS short TSS: #TS 1 time\(s\), error 0x50, TR 0x18, type 0x9$"
LATE_LINE = (r"^TASKS late #TS: task E ran 1 time\(s\), error 0x10; task X recovered 1 time\(s\); TR 0x18; "
             r"types X 0x9 E 0x9$")
PAGING_LINE = r"^TASKS paging: task A on its own CR3 1, main back on its own 1$"


def boot_with(t, options, under_vmxdbg):
    """The guest with options, bare or under vmxdbg; the plain run's lines,
    and those `paging` and `faults` add, checked."""
    if under_vmxdbg:
        r = t.boot(hv_args="panic=poweroff", modules=[(TASKS, f"guest {options}")])
    else:
        r = t.boot(bare=TASKS, hv_args=options)
    check(r)
    if "paging" in options or "pae" in options:
        r.expect(PAGING_LINE)
    if "pae" in options:
        r.expect(r"^TASKS pae: task A read through its own PDPTE 1$")
    for line in (ABSENT_LINE, SHORT_LINE, LATE_LINE):
        r.expect(line)
    return r


def test_task_switch_faults_bare(t):
    boot_with(t, "faults", False)


def test_task_switch_faults_under_vmxdbg_match_bare(t):
    """#NP and #TS on the new TSS descriptor come from the CPU (Bochs checks
    presence, type and limit before the TASK_SWITCH exit).  The bad LDT of
    task X faults after the commit: task_switch.c raises #TS(0x10) in X,
    whose delivery through the #TS task gate exits again and pushes the
    error code onto task E's stack: 4 exits more than the plain run."""
    r = boot_with(t, "faults", True)
    r.expect(r"task switch to 0x58: #10\(0x10\) in the guest")
    r.expect(rf"TASK_SWITCH {8 * ROUNDS + 4}\b")


def test_task_switches_with_paging_load_each_tasks_cr3_bare(t):
    boot_with(t, "paging faults", False)


def test_task_switches_with_paging_load_each_tasks_cr3_under_vmxdbg(t):
    boot_with(t, "paging faults", True)


def test_task_switches_with_pae_paging_bare(t):
    boot_with(t, "pae faults", False)


def test_task_switches_with_pae_paging_load_the_pdptes_under_vmxdbg(t):
    """With EPT the PDPTEs come from the VMCS at VM entry: a new CR3 from a
    TSS needs them copied, or task A's alias faults."""
    boot_with(t, "pae faults", True)


def test_a_16_bit_tss_stops_the_guest_with_the_reason(t):
    """Not emulated, never guessed at: the guest stops, the log says why,
    the hypervisor powers off by itself (panic=poweroff)."""
    r = t.boot(hv_args="panic=poweroff", modules=[(TASKS, "guest tss16")])
    r.expect(r"^TASKS tss16: JMP to 0x48$")
    r.expect(r"guest stopped: task switch \(JMP to TSS 0x48, EIP 0x[0-9a-f]+\): the new TSS is 16-bit: not emulated$")
    r.forbid(r"TASKS tss16: came back|TASKS done|PANIC|unhandled exit reason")
    r.expect(r"exits: \d+ in all")
    r.expect_poweroff()
