"""Book examples 4-1 and 4-2 (issue 12 item 5).

- 4-1 (scripts/labs/ex4-1-debug-exceptions.lua, on the basic guest): a
  pending single-step #DB (GUEST_PENDING_DEBUG_EXCEPTIONS.BS) is delivered
  by VM entry before the next instruction; an injected hardware exception
  discards it; TF across an injected #UD gives the #UD first, then the #DB
  after the re-run instruction — the guest's own handlers report each with
  EIP, DR6 and TF, and the script's predictions must match them.
- 4-2, the MTF probe: MTF counts only when advertised AND its exit is seen.
  The default model (skylake_x) does not advertise it; icelake_u advertises
  it and never delivers the exit (Bochs 2.7): the probe says so without
  hanging, stepi still steps (by TF), and a MONITOR_TRAP_FLAG hook is
  refused with the probe's verdict. The bound of a CPU without the
  preemption timer (TF+#DB) is taken on purpose with selftest=mtf-tf."""
import re

BASIC = "build/guests/basic.elf"
CHECKSUM = "0xf91f694b"
DONE = r"GUEST DONE passed=(\d+) failed=(\d+) checksum=(0x[0-9a-f]+)"
EX41 = "scripts/labs/ex4-1-debug-exceptions.lua"


def guest_done(t, r):
    done = r.expect(DONE)
    t.check(done.group(2) == "0" and done.group(3) == CHECKSUM,
            f"the guest ended with {done.group(0)}, want failed=0 checksum={CHECKSUM}")


def test_example_4_1_pending_debug_exceptions_and_injected_events_as_the_sdm_says(t):
    r = t.boot(hv_args="panic=poweroff", timeout=90,
               modules=[(BASIC, "guest injected=1 injected=6 skip=events"), (EX41, "script")])
    # The default model (skylake_x) does not advertise MTF: nothing to probe.
    r.expect(r"vmx: MTF: not advertised \(IA32_VMX_TRUE_PROCBASED_CTLS does not allow bit 27 "
             r"MONITOR_TRAP_FLAG to be 1\): stepping with TF\+#DB")
    r.expect(r"lua: ex4-1: three experiments from CPUID exit #3 on")
    guest = r.console[r.console.index("ex4-1: three experiments"):]
    arrivals = re.findall(r"GUEST INFO injected: (#\w+) \(vector \d+\) error=0x0 eip=(0x[0-9a-f]+)"
                          r"(?: dr6=(0x[0-9a-f]+) tf=(\d))?", guest)

    # 1: BS pending, nothing injected: #DB right after the completed CPUID, DR6.BS set, TF clear.
    rip1, after1 = r.expect(r"ex4-1: 1 at CPUID rip (0x[0-9a-f]+): BS pending, nothing injected: "
                            r"expect #DB at (0x[0-9a-f]+) with DR6.BS").groups()
    t.check(int(after1, 16) == int(rip1, 16) + 2, f"CPUID is 2 bytes: {rip1} -> {after1}")
    r.expect(r"ex4-1: 1: GUEST_PENDING_DEBUG_EXCEPTIONS=0x4000 RFLAGS=0x[0-9a-f]+ "
             r"VM_ENTRY_INTERRUPTION_INFO: nothing injected")
    # 2: BS pending and #UD injected: the #UD at the CPUID, no #DB, the field 0 afterwards.
    rip2 = r.expect(r"ex4-1: 2 at CPUID rip (0x[0-9a-f]+): BS pending and #UD injected").group(1)
    r.expect(r"ex4-1: 2: GUEST_PENDING_DEBUG_EXCEPTIONS=0x4000 RFLAGS=0x[0-9a-f]+ "
             r"VM_ENTRY_INTERRUPTION_INFO: type 3 vector 6")
    r.expect(r"ex4-1: 2 after the entry: GUEST_PENDING_DEBUG_EXCEPTIONS=0x0 ")
    # 3: TF and #UD injected: #UD at the CPUID, then #DB after it with BS, TF still on.
    rip3 = r.expect(r"ex4-1: 3 at CPUID rip (0x[0-9a-f]+): TF set and #UD injected").group(1)
    rflags = int(r.expect(r"ex4-1: 3: GUEST_PENDING_DEBUG_EXCEPTIONS=0x0 RFLAGS=(0x[0-9a-f]+) "
                          r"VM_ENTRY_INTERRUPTION_INFO: type 3 vector 6").group(1), 16)
    t.check(rflags & 0x100, f"experiment 3 enters with RFLAGS {rflags:#x}: TF (bit 8) is not set")
    bs = lambda dr6: int(dr6, 16) & 0x4000 and int(dr6, 16) & 0xf == 0
    want = [("#DB", after1, True, "0"), ("#UD", rip2, None, None), ("#UD", rip3, None, None),
            ("#DB", hex(int(rip3, 16) + 2), True, "1")]
    got = [(v, eip, bs(dr6) if dr6 else None, tf or None) for v, eip, dr6, tf in arrivals]
    t.check(got == want, f"the guest took {arrivals}; want (vector, eip, DR6.BS alone, TF) {want}")
    r.expect(r"GUEST PASS injected")
    r.forbid(r"GUEST FAIL|removed; the guest continues|boot script.* failed")
    guest_done(t, r)


def test_the_mtf_probe_sees_no_exit_on_icelake_and_stepping_falls_back_to_tf(t):
    """Bochs 2.7's icelake_u advertises MTF (IA32_VMX_TRUE_PROCBASED_CTLS
    allows bit 27) and never exits for it: the probe's preemption-timer
    bound ends it (exit 52), the boot goes on."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest")], model="corei7_icelake_u",
                timeout=150)
    t.wait_for(m, r"gdb-wait: the guest waits")
    verdict = (r"MTF: advertised but no exit observed in the boot probe \(exit 52 PREEMPTION_TIMER came "
               r"instead, as under Bochs 2.7\): stepping with TF\+#DB")
    t.find(m.console, r"vmx: " + verdict, "the probe's verdict at boot")
    out = t.gdb(m, "monitor info", f"source {t.path('scripts/gdb/vmxdbg.py')}",
                f"vmx lua {t.path('scripts/labs/ex4-2-mtf.lua')}",
                "monitor lua return hv.on_exit('MONITOR_TRAP_FLAG', function() end)",
                "p/x $eip", "stepi", "p/x $eip", "stepi", "p/x $eip", "detach",
                elf=t.path(BASIC), timeout=120)
    t.find(out, r"^single-step: " + verdict, "monitor info names the method and why")
    t.find(out, r"^ex4-2: stepping with TF$", "ex4-2: the method")
    t.find(out, r"^ex4-2: " + verdict, "ex4-2: why")
    t.find(out, r"^ex4-2: a hook on MONITOR_TRAP_FLAG is refused: .*no MONITOR_TRAP_FLAG exit can happen on "
                r"this CPU: MTF: advertised but no exit observed", "ex4-2: the hook refused")
    t.find(out, r"no MONITOR_TRAP_FLAG exit can happen on this CPU: MTF: advertised but no exit", "monitor lua")
    eips = [int(x, 16) for x in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
    t.check(len(eips) == 3 and eips[0] < eips[1] < eips[2] and eips[2] - eips[0] <= 30,
            f"stepi by TF after the probe: eip went {[hex(e) for e in eips]}")
    r = t.finish(m)
    guest_done(t, r)
    r.expect_poweroff()


test_the_mtf_probe_sees_no_exit_on_icelake_and_stepping_falls_back_to_tf.timeout = 240


def test_the_probe_bounded_by_tf_instead_of_the_timer_also_ends_and_leaves_the_guest_intact(t):
    """A CPU without the preemption timer bounds the probe by TF with #DB
    intercepted (selftest=mtf-tf takes that path where the timer exists):
    the #DB after `jmp $` ends it (exit 0), and TF, the pending debug
    exceptions and the exception bitmap go back as they were."""
    r = t.boot(hv_args="panic=poweroff selftest=mtf-tf", modules=[(BASIC, "guest")], model="corei7_icelake_u",
               timeout=90)
    r.expect(r"vmx: MTF: advertised but no exit observed in the boot probe \(exit 0 EXCEPTION_NMI came instead, "
             r"as under Bochs 2.7\): stepping with TF\+#DB \(the probe took \d+ TSC ticks\)")
    r.forbid(r"GUEST FAIL|unexpected-trap|guest stopped")
    guest_done(t, r)
    r.expect_poweroff()
