"""Event monitoring on demand (issue 12 item 3): a Lua hook on
EXTERNAL_INTERRUPT, on an exception vector (hv.on_exception) or on the
guest's NMIs switches on what the CPU needs to show it — external-interrupt
exiting with acknowledge-on-exit, exception-bitmap bits — while the hook
exists, and off after hv.off; every event still reaches the guest as it
would have (the basic guest's own checks of error codes, saved EIPs and CR2
pass with the bare checksum).

- scripts/interrupt_counts.lua counts interrupts by vector on the basic
  guest (its timer checks count their own ticks), on the demo guest (one
  tick and one page fault per round) and on Linux (the local APIC timer,
  vector 0xec, dominates);
- the guest's own NMI reaches an NMI hook, gdb's breakpoints and steps keep
  working beside #BP/#DB hooks, two vCPUs each get and lose the control,
  TASK_SWITCH needs none, bad input is refused with the reason.
"""
import os
import re

BASIC = "build/guests/basic.elf"
DEMO = "build/guests/demo.elf"
DONE = r"GUEST DONE passed=\d+ failed=0 checksum=0xf91f694b"
PIC_TIMER = 0x20

CONTROLS = r"""
-- Every exception the basic guest raises on purpose (#DE, #BP, #UD, #GP in
-- its exceptions group, #PF in paging) is hooked; the guest's checks say
-- whether each came back as it was.  At the 3rd interrupt: the controls,
-- then every event hook off (this one too), then the controls again.
local function controls(when)
  print(string.format("controls %s: pin=%x exit=%x bitmap=%x", when, vmcs.read("PIN_BASED_VM_EXEC_CONTROL"),
    vmcs.read("PRIMARY_VM_EXIT_CONTROLS"), vmcs.read("EXCEPTION_BITMAP")))
end
controls("at boot")
local seen, handles = {}, {}
for _, v in ipairs({ 0, 3, 6, 13, 14 }) do
  handles[#handles + 1] = hv.on_exception(v, function(e)
    seen[v] = (seen[v] or 0) + 1
    if seen[v] == 1 then
      print(string.format("exception %d (%s) type=%s error=%s address=%s rip=%x", e.vector, e.name, e.type,
        tostring(e.error_code), e.address and string.format("%x", e.address) or "nil", e.rip))
    end
  end)
end
controls("hooked")
local irqs = 0
local function ext(e)
  irqs = irqs + 1
  if irqs == 1 then print(string.format("interrupt vector 0x%x type=%s", e.vector, e.type)) end
  if irqs == 3 then
    controls("at interrupt 3")
    for _, h in ipairs(handles) do hv.off(h) end
    controls("all off")
  end
end
handles[#handles + 1] = hv.on_exit("EXTERNAL_INTERRUPT", ext)
controls("ext hooked")
hv.on_poweroff(function()
  controls("at power-off")
  local parts = {}
  for _, v in ipairs({ 0, 3, 6, 13, 14 }) do parts[#parts + 1] = v .. "=" .. (seen[v] or 0) end
  print("exceptions seen " .. table.concat(parts, " ") .. ", interrupts " .. irqs)
end)
for _, bad in ipairs({ "hv.on_exception(32, print)", "hv.on_exception(0x80, print)", "hv.on_exception(15, print)",
                       "hv.on_exception(18, print)", "hv.on_exception('#XX', print)",
                       "hv.on_exception(300, print)", "hv.on_exit('NOT_A_REASON', print)" }) do
  print("refused: " .. select(2, pcall(load(bad))))
end
"""

PIN_EXT, EXIT_ACK = 1 << 0, 1 << 15


def controls(t, r, when):
    m = r.expect(rf"lua: controls {when}: pin=([0-9a-f]+) exit=([0-9a-f]+) bitmap=([0-9a-f]+)")
    return tuple(int(g, 16) for g in m.groups())


def test_hooks_switch_the_controls_on_and_hv_off_switches_them_off_with_every_event_delivered(t):
    """Hooks at boot: the exception bitmap gains the hooked vectors and the
    external-interrupt controls come on; hv.off of the last event hook
    takes them away again (read back with vmcs.read on the live VMCS).
    Meanwhile the guest's exception checks — error codes, EIP at or after
    the instruction, CR2 of its page faults — and its timer pass as bare."""
    script = t.write_file("controls.lua", CONTROLS)
    r = t.boot(hv_args="panic=poweroff", timeout=90, modules=[(BASIC, "guest"), (script, "script")])
    pin0, exit0, bm0 = controls(t, r, "at boot")
    t.check(not pin0 & PIN_EXT and not exit0 & EXIT_ACK and bm0 == 0,
            f"at boot pin={pin0:#x} exit={exit0:#x} bitmap={bm0:#x}: nothing watched yet")
    _, _, bm1 = controls(t, r, "hooked")
    want = sum(1 << v for v in (0, 3, 6, 13, 14))
    t.check(bm1 == want, f"hooked: bitmap {bm1:#x}, want {want:#x}")
    pin2, exit2, _ = controls(t, r, "ext hooked")
    # Acknowledge-on-exit is on for one exit at a time only, when the guest
    # can take the interrupt (hv/ext_interrupt.c).
    t.check(pin2 == pin0 | PIN_EXT and exit2 == exit0,
            f"EXTERNAL_INTERRUPT hooked: pin {pin2:#x} exit {exit2:#x}, want {pin0 | PIN_EXT:#x} {exit0:#x}")
    pin3, exit3, bm3 = controls(t, r, "at interrupt 3")
    t.check(pin3 & PIN_EXT and exit3 & EXIT_ACK and bm3 == want,
            f"in the hook of an acknowledged interrupt: pin {pin3:#x} exit {exit3:#x} bitmap {bm3:#x}")
    for when in ("all off", "at power-off"):
        pin4, exit4, bm4 = controls(t, r, when)
        t.check((pin4, exit4, bm4) == (pin0, exit0, 0),
                f"{when}: pin {pin4:#x} exit {exit4:#x} bitmap {bm4:#x}, as at boot: {pin0:#x} {exit0:#x} 0")
    # What the hooks saw, and that the guest got every event as it came.
    r.expect(r"lua: exception 0 \(EXCEPTION_NMI\) type=hardware exception error=nil address=nil")
    r.expect(r"lua: exception 3 \(EXCEPTION_NMI\) type=software exception error=nil")
    r.expect(r"lua: exception 13 \(EXCEPTION_NMI\) type=hardware exception error=\d+ address=nil")
    m = r.expect(r"lua: exception 14 \(EXCEPTION_NMI\) type=hardware exception error=\d+ address=([0-9a-f]+)")
    t.check(int(m.group(1), 16) != 0, "a #PF hook sees the faulting address")
    r.expect(rf"lua: interrupt vector 0x{PIC_TIMER:x} type=external interrupt")
    for check in ("exc-de", "exc-ud", "exc-bp", "exc-gp", "exc-pf", "cr0-wp-protect", "hlt"):
        r.expect(rf"GUEST PASS {check}\b")
    m = r.expect(r"lua: exceptions seen 0=(\d+) 3=(\d+) 6=(\d+) 13=(\d+) 14=(\d+), interrupts (\d+)")
    t.check(all(int(n) >= 1 for n in m.groups()), f"every hooked vector seen at least once: {m.group(0)}")
    # Bad input: refused with the reason, nothing hooked by it.
    r.expect(r"refused: .*vector 32 is not an exception \(0-31\): external interrupts are hooked with "
             r"hv.on_exit\(\"EXTERNAL_INTERRUPT\", fn\) and e.vector; INT n causes no VM exit")
    r.expect(r"refused: .*vector 128 is not an exception")
    r.expect(r"refused: .*vector 15 is reserved \(SDM Vol. 3A Table 6-1\)")
    r.expect(r"refused: .*#MC \(18\) is not hookable")
    r.expect(r"refused: .*no exception is called \"#XX\"")
    r.expect(r"refused: .*vector 300 is out of range")
    r.expect(r"refused: .*NOT_A_REASON")
    r.forbid(r"GUEST FAIL|removed; the guest continues|PANIC")
    r.expect(DONE)
    r.expect_poweroff()


def test_interrupt_counts_on_the_basic_guest_match_its_own_timer_and_keep_its_checksum(t):
    r = t.boot(hv_args="panic=poweroff", timeout=90,
               modules=[(BASIC, "guest"), ("scripts/interrupt_counts.lua", "script")])
    r.expect(r"lua: interrupt_counts: counting external interrupts by vector")
    m = r.expect(r"GUEST INFO hlt: \d+ HLTs woke after (\d+) timer and (\d+) other interrupts")
    guest_ticks = int(m.group(1)) + int(m.group(2))
    r.expect(DONE)
    m = r.expect(r"lua: interrupt_counts: guest powered off \(Bochs shutdown port 0x8900\): (\d+) events, (\d+) kinds")
    total = int(m.group(1))
    m = r.expect(rf"lua: interrupt_counts: vector 0x{PIC_TIMER:02x} \({PIC_TIMER}\) +(\d+) +[\d.]+%")
    counted = int(m.group(1))
    # The hlt group counts the ticks that reach its handlers; the events
    # group's stepped HLT may take one more before its #DB (its count is
    # not printed on PASS); none may be lost.
    t.check(guest_ticks <= counted <= guest_ticks + 2,
            f"interrupt_counts saw {counted} timer interrupts, the guest's handlers {guest_ticks}")
    t.check(total == counted, f"{total} interrupts in all, {counted} of them the timer: the PIC has one line open")
    r.expect_poweroff()


def test_the_guests_own_nmi_reaches_an_nmi_hook_and_then_the_guest(t):
    """An NMI the guest sends itself (an IPI through its local APIC) exits
    (NMI exiting is always on: NMIs are how vCPUs call each other); beyond
    the hypervisor's own kicks it is the guest's, and hv.on_exception(2)
    sees it before it goes back through the NMI window."""
    script = t.write_file("nmi.lua", "hv.on_exception('NMI', function(e) "
                          "print(string.format('nmi hook: vector %d type %s rip %x', e.vector, e.type, e.rip)) end)")
    r = t.boot(hv_args="panic=poweroff", timeout=90,
               modules=[(BASIC, "guest injected=2 self-nmi skip=hlt"), (script, "script")])
    r.expect(r"lua: nmi hook: vector 2 type NMI rip [0-9a-f]+")
    r.expect(r"GUEST INFO injected: NMI \(vector 2\)")
    r.forbid(r"GUEST FAIL|removed; the guest continues")
    r.expect(DONE)



DEBUG_EVENTS = r"""
-- The guest's own #BP (its exc-bp probe) and #DB (its stepped HLT) come
-- here; gdb's breakpoint and steps do not.
local bp, db = {}, {}
hv.on_exception("BP", function(e) bp[#bp + 1] = string.format("%x", e.rip) end)
hv.on_exception("DB", function(e) db[#db + 1] = string.format("%x/%x", e.rip, e.qualification) end)
hv.on_poweroff(function()
  print("debug events: #BP " .. #bp .. " [" .. table.concat(bp, " ") .. "], #DB " .. #db .. " [" ..
    table.concat(db, " ") .. "]")
end)
"""


def test_gdb_breakpoints_and_steps_work_beside_bp_and_db_hooks_which_see_only_the_guests_own(t):
    """#BP and #DB belong to the debugger too: with Lua hooks on both, a gdb
    breakpoint still stops (never re-injected: the guest would die of an
    unexpected int3) and stepi still steps; the hooks see only the guest's
    own int3 (exc-bp) and its single-step trap (events-hlt-tf), which go
    back to it (both checks pass).  hv.off would leave gdb's bits alone."""
    script = t.write_file("debug.lua", DEBUG_EVENTS)
    m = t.start(hv_args="panic=poweroff gdb-wait", timeout=120,
                modules=[(BASIC, "guest"), (script, "script")])
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "break check_exceptions", "continue", "stepi", "stepi", "info registers eip",
                "delete", "continue", elf=t.path(BASIC), timeout=100)
    t.find(out, r"Breakpoint 1, (0x[0-9a-f]+ in )?check_exceptions", "the breakpoint")
    r = t.finish(m)
    r.expect(r"GUEST PASS exc-bp\b")
    r.expect(r"GUEST PASS events-hlt-tf\b")
    r.expect(DONE)
    m2 = r.expect(r"lua: debug events: #BP (\d+) \[([0-9a-f ]*)\], #DB (\d+) \[([0-9a-f/ ]*)\]")
    t.check(m2.group(1) == "1", f"the #BP hook saw {m2.group(1)} events ({m2.group(2)}): the guest's int3 only")
    t.check(m2.group(3) == "1" and m2.group(4).endswith("/4000"),
            f"the #DB hook saw {m2.group(3)} ({m2.group(4)}): the guest's single-step trap (BS) only")
    r.forbid(r"GUEST FAIL|removed; the guest continues")


test_gdb_breakpoints_and_steps_work_beside_bp_and_db_hooks_which_see_only_the_guests_own.timeout = 240


DEMO_PROGRESS = r"^demo: round (\d+), tsc \d+: ticks (\d+), page faults (\d+),"

DEMO_SCRIPT = r"""
-- The demo maps a page on a #PF each round and sleeps until its 100 Hz
-- tick: count both (a second EXTERNAL_INTERRUPT hook beside
-- interrupt_counts.lua's); every 1000 page faults, say so.
local faults, bad, ticks = 0, 0, 0
hv.on_exit("EXTERNAL_INTERRUPT", function(e) if e.vector == 0x20 then ticks = ticks + 1 end end)
hv.on_exception("PF", function(e)
  faults = faults + 1
  if e.error_code & 1 ~= 0 or e.address == nil then bad = bad + 1 end
  if faults % 1000 == 0 then
    print(string.format("demo counts: page faults %d (not not-present: %d), timer interrupts %d", faults, bad, ticks))
  end
end)
"""


def test_on_the_demo_guest_every_tick_and_page_fault_is_seen_and_the_demo_runs_as_before(t):
    script = t.write_file("demo.lua", DEMO_SCRIPT)
    m = t.start(hv_args="panic=poweroff", timeout=240, modules=[
        (DEMO, "guest"), ("scripts/interrupt_counts.lua", "script"), (script, "script")])
    t.wait_for(m, r"^demo: round 2001, [^\n]*\n", timeout=200)
    r = t.finish(m, stop=True)
    m2 = re.search(DEMO_PROGRESS, r.console, re.M)
    t.check(m2, "no progress line")
    rounds, ticks, faults = (int(g) for g in m2.groups())
    t.check(faults == rounds and ticks >= rounds, f"demo: round {rounds}, ticks {ticks}, page faults {faults}")
    counts = re.findall(r"lua: demo counts: page faults (\d+) \(not not-present: (\d+)\), timer interrupts (\d+)",
                        r.console)
    t.check(len(counts) >= 2, f"the hook's counts: {counts}")
    for pf, bad, timer in counts:
        # One tick a round: each round's HLT ends on the tick, then comes the next #PF.
        t.check(bad == "0" and abs(int(timer) - int(pf)) <= 2, f"{pf} page faults, {timer} ticks, {bad} odd")
    r.forbid(r"removed; the guest continues|guest stopped")


test_on_the_demo_guest_every_tick_and_page_fault_is_seen_and_the_demo_runs_as_before.timeout = 300


def test_interrupt_counts_on_linux_show_its_timer_vector_dominating(t):
    """Debian's kernel through its PVH entry to /init, every interrupt an
    exit while interrupt_counts.lua is loaded: Linux still reaches /init
    and powers off, and the table at the end is the timers': the PIT's IRQ 0
    (vector 0x30, while Linux calibrates) and the local APIC timer
    (LOCAL_TIMER_VECTOR 0xec) first among the vectors and together most of
    the interrupts.  (Which of the two leads depends on the clockevent mode:
    with TSC deadline -- the hypervisor bit set, MWAIT hidden -- Linux ticks
    ~111 times in the half second of guest time the boot takes, the PIT ~322.)"""
    import json
    info_path = t.path("build/linux/info.json")
    t.check(os.path.exists(info_path), "build/linux is not prepared (tools/linux-guest.py)")
    with open(info_path) as f:
        info = json.load(f)
    r = t.boot(hv_args="panic=poweroff", megs=512, timeout=600, modules=[
        ("build/linux/vmlinux", f"guest {info['cmdline']}"), ("build/linux/initramfs.cpio", "initrd"),
        ("scripts/interrupt_counts.lua", "script")])
    r.expect(re.escape(info["marker"]))
    r.expect(r"guest: powered off \(ACPI S5\)")
    m = r.expect(r"lua: interrupt_counts: guest powered off \(ACPI S5\): (\d+) events, (\d+) kinds")
    total = int(m.group(1))
    rows = re.findall(r"lua: interrupt_counts: vector 0x([0-9a-f]+) \(\d+\) +(\d+) +([\d.]+)%", r.console[m.end():])
    t.check(rows, "no table after the summary line")
    counts = {int(v, 16): int(n) for v, n, _share in rows}
    t.check(sum(counts.values()) == total, f"the rows add up to {sum(counts.values())}, not {total}")
    timers = counts.get(0x30, 0) + counts.get(0xec, 0)
    t.check(int(rows[0][0], 16) in (0x30, 0xec) and counts.get(0xec, 0) > 0 and timers > total * 0.8,
            f"the timers (0x30, 0xec) are not most of the {total} interrupts: {counts}")
    for bad in (r"Kernel panic", r"guest stopped", r"PANIC", r"removed; the guest continues"):
        r.forbid(bad)
    r.expect_poweroff()


test_interrupt_counts_on_linux_show_its_timer_vector_dominating.timeout = 700


SMP = "build/guests/smp.elf"
SMP_SCRIPT = r"""
-- Each vCPU's interrupts, by vector; once vCPU 1 has seen 8, the hook goes:
-- from then on no vCPU may keep exiting for interrupts.
local seen, at_off = { [0] = {}, [1] = {} }, nil
local handle
handle = hv.on_exit("EXTERNAL_INTERRUPT", function(e)
  local t = seen[e.vcpu]
  t[e.vector] = (t[e.vector] or 0) + 1
  local n = 0
  for _, c in pairs(seen[1]) do n = n + c end
  if e.vcpu == 1 and n == 8 then
    hv.off(handle)
    local s = hv.stats().vcpus
    at_off = { s[0].by_reason.EXTERNAL_INTERRUPT or 0, s[1].by_reason.EXTERNAL_INTERRUPT or 0 }
    print(string.format("smp: hook off on vCPU 1: exits for interrupts %d, %d", at_off[1], at_off[2]))
  end
end)
hv.on_poweroff(function()
  local s = hv.stats().vcpus
  for v = 0, 1 do
    local parts = {}
    for vec, c in pairs(seen[v]) do parts[#parts + 1] = string.format("0x%x=%d", vec, c) end
    table.sort(parts)
    print(string.format("smp: vCPU %d saw %s; exits for interrupts %d", v, table.concat(parts, " "),
      s[v].by_reason.EXTERNAL_INTERRUPT or 0))
  end
end)
"""


def test_on_two_vcpus_each_gets_the_control_and_loses_it_with_the_last_hook(t):
    """The SMP guest's fixed IPIs between its two CPUs: a hook on
    EXTERNAL_INTERRUPT sees them on the vCPU that takes them (the control
    reached vCPU 1's own VMCS: a request and an NMI kick, hv/event_monitor.c);
    hv.off from vCPU 1 takes it away from vCPU 0 too, and every IPI still
    arrives (the guest's counts and checksum)."""
    script = t.write_file("smp.lua", SMP_SCRIPT)
    r = t.boot(hv_args="panic=poweroff", cpus=2, timeout=300,
               modules=[(SMP, "guest apic=xapic"), (script, "script")])
    r.expect(r"^SMP ipis: bsp->ap 16, ap->bsp 16$")
    r.expect(r"^SMP done$")
    m = r.expect(r"lua: smp: hook off on vCPU 1: exits for interrupts (\d+), (\d+)")
    off = [int(m.group(1)), int(m.group(2))]
    for v in (0, 1):
        m = r.expect(rf"lua: smp: vCPU {v} saw ([0-9a-fx= ]*); exits for interrupts (\d+)")
        t.check(m.group(1) != "", f"vCPU {v} saw no interrupt: the control never reached it")
        # At most an interrupt or two in flight when the request arrives.
        t.check(int(m.group(2)) <= off[v] + 4, f"vCPU {v}: {m.group(2)} exits for interrupts at the end, "
                f"{off[v]} when the hook went: the control stayed on")
    r.forbid(r"unexpected trap|SMP failed|SMP ipi:|removed; the guest continues|PANIC")
    r.expect_poweroff()


test_on_two_vcpus_each_gets_the_control_and_loses_it_with_the_last_hook.timeout = 360


import test_task_switch as task_tests  # noqa: E402  (tests/run.py puts this folder on the path)
TASKS = task_tests.TASKS
TASKS_SCRIPT = r"""
-- TASK_SWITCH always exits (nothing to switch on); #GP goes through the
-- guest's IDT task gate after its hook, with its error code.
local kinds, n, gp = { [0] = "CALL", "IRET", "JMP", "gate" }, {}, {}
hv.on_exit("TASK_SWITCH", function(e)
  local k = kinds[e.qualification >> 30 & 3]
  n[k] = (n[k] or 0) + 1
end)
hv.on_exception("GP", function(e) gp[#gp + 1] = string.format("0x%x", e.error_code) end)
hv.on_poweroff(function()
  print(string.format("tasks: CALL %d IRET %d JMP %d gate %d; #GP %s", n.CALL or 0, n.IRET or 0, n.JMP or 0,
    n.gate or 0, table.concat(gp, " ")))
end)
"""


def test_task_switch_and_gp_hooks_see_every_switch_and_the_guests_task_gates_still_work(t):
    """The task-switch guest (tests/guests/tasks/): 3 rounds of CALL/IRET,
    JMP out and back, INT 0x40 and #GP through task gates.  A TASK_SWITCH
    hook needs no control; the #GP hook's exception goes back with its
    error code and through the guest's task gate (a second exit, the
    emulated switch pushes the code): the guest's lines are the bare ones
    (test_task_switch.py recomputes them)."""
    script = t.write_file("tasks.lua", TASKS_SCRIPT)
    r = t.boot(hv_args="panic=poweroff", modules=[(TASKS, "guest"), (script, "script")])
    task_tests.check(r)     # every line as bare, the checksum included
    # Out and back, three rounds: CALL, INT 0x40 and #GP return by IRET; JMP both ways.
    r.expect(r"lua: tasks: CALL 3 IRET 9 JMP 6 gate 6; #GP 0x7f8 0x7f8 0x7f8$")
    r.forbid(r"removed; the guest continues")


def test_a_hook_added_from_gdb_while_both_vcpus_are_stopped_reaches_the_parked_one(t):
    """All-stop on the AP's breakpoint (ap_only_function): the BSP's vCPU is
    parked, its VMCS cleared.  `monitor lua` hooks EXTERNAL_INTERRUPT on the
    stopped AP; the parked BSP takes the control when it leaves its park
    (allstop.c), so after `continue` each vCPU's hook sees the other's 16
    IPIs (0x42 to the BSP, 0x41 to the AP), all delivered."""
    m = t.start(hv_args="panic=poweroff gdb-wait", cpus=2, timeout=400,
                modules=[(SMP, "guest apic=xapic")])
    t.wait_for(m, r"gdb-wait: the guest waits", timeout=200)
    chunk = ("monitor lua seen = { [0] = {}, [1] = {} } "
             "hv.on_exit('EXTERNAL_INTERRUPT', function(e) seen[e.vcpu][e.vector] = (seen[e.vcpu][e.vector] or 0) + 1 end) "
             "hv.on_poweroff(function() for v = 0, 1 do for vec, n in pairs(seen[v]) do "
             "print(string.format('gdb-hook: vCPU %d vector 0x%x %d', v, vec, n)) end end end) "
             "return 'hooked on vCPU ' .. hv.vcpu()")
    out = t.gdb(m, "break ap_only_function", "continue", chunk, "delete", "continue",
                elf=t.path(SMP), timeout=300)
    t.find(out, r"hit Breakpoint 1, .*ap_only_function", "the AP's breakpoint")
    t.find(out, r"hooked on vCPU 1", "monitor lua ran on the stopped AP")
    r = t.finish(m)
    r.expect(r"^SMP ipis: bsp->ap 16, ap->bsp 16$")
    r.expect(r"^SMP done$")
    r.expect(r"lua: gdb-hook: vCPU 0 vector 0x42 16$")
    r.expect(r"lua: gdb-hook: vCPU 1 vector 0x41 16$")
    r.forbid(r"unexpected trap|SMP failed|SMP ipi:|PANIC")


test_a_hook_added_from_gdb_while_both_vcpus_are_stopped_reaches_the_parked_one.timeout = 500


def test_an_exception_hook_that_fails_is_removed_its_vector_unwatched_and_the_event_still_delivered(t):
    """A hook on #UD that raises an error: reported with a traceback and
    removed; the #UD it saw still reaches the guest (its exc-ud check
    passes), and with no hook left the vector leaves the exception bitmap."""
    script = t.write_file("broken.lua", "hv.on_exception('UD', function(e) local x = nil; return x.field end)\n"
                          "hv.on_exit('CPUID', function() last = vmcs.read('EXCEPTION_BITMAP') end)\n"
                          "hv.on_poweroff(function() print(string.format('bitmap at the end %x', last)) end)")
    r = t.boot(hv_args="panic=poweroff", timeout=90, modules=[(BASIC, "guest"), (script, "script")])
    r.expect(r"lua: hook 1 \(#UD\) on EXCEPTION_NMI.*attempt to index a nil value")
    r.expect(r"lua: hook 1 removed; the guest continues")
    r.expect(r"GUEST PASS exc-ud\b")
    r.expect(DONE)
    r.expect(r"lua: bitmap at the end 0$")
    r.expect_poweroff()
