"""apic=virtual (issue 12 item 1): the guest's local APIC as a virtual-APIC
page per vCPU, with virtual-interrupt delivery.  The test guests run under it
with the results and checksums of a pass-through or bare run; a CPU without
the controls is refused with the reason and falls back to pass-through."""
import importlib.util
import os
import re

BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=(\d+) failed=(\d+) checksum=(0x[0-9a-f]+)"
BROKE = [r"EXCEPTION", r"PANIC", r"GUEST FAIL", r"guest stopped"]
VIRTUAL = r"apic: virtual: a virtual-APIC page per vCPU"


def _sibling(filename):
    """Another test file's helpers and constants (the SMP guest, Linux, the demo)."""
    spec = importlib.util.spec_from_file_location(
        "integration.apic_virtual_" + filename[:-3], os.path.join(os.path.dirname(os.path.abspath(__file__)), filename))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _on_the_ap(t, hv_args, guest_args, *commands, prelude=()):
    """The SMP guest under vmxdbg (2 CPUs), stopped by gdb where only its AP
    goes (ap_only_function), then commands; (the machine, gdb's output)."""
    smp = _sibling("test_smp_guest.py")
    m = t.start(hv_args=f"panic=poweroff gdb-wait {hv_args}".strip(), modules=[(smp.SMP, f"guest {guest_args}")],
                cpus=2, timeout=900)
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, *prelude, "break ap_only_function", "continue", "delete", *commands, "detach",
                elf=t.path(smp.SMP), timeout=300)
    return m, out


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



def test_the_smp_guest_under_the_virtual_apic_matches_bare(t):
    """Two vCPUs: INIT-SIPI-SIPI through APIC-write exits on the ICR, 16
    fixed IPIs each way forwarded to the hardware and posted on the other
    vCPU's virtual APIC, EOIs virtualized; the bare run's checksum."""
    smp = _sibling("test_smp_guest.py")
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(smp.SMP, "guest apic=xapic")], cpus=2,
               timeout=smp.TIMEOUT)
    r.expect(VIRTUAL)
    smp.check_two_cpus(t, r, "xapic")
    r.forbid(r"PANIC|EXCEPTION|guest stopped")


def test_the_smp_guest_cannot_switch_to_x2apic_under_the_virtual_apic(t):
    """x2APIC is hidden from the guest's CPUID: the guest says so."""
    smp = _sibling("test_smp_guest.py")
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(smp.SMP, "guest apic=x2apic")], cpus=1,
               timeout=smp.TIMEOUT)
    r.expect(r"^SMP apic: x2apic not supported \(CPUID\.1:ECX\.x2APIC = 0\)$")
    r.forbid(r"PANIC|EXCEPTION")


test_the_smp_guest_under_the_virtual_apic_matches_bare.timeout = 300
test_the_smp_guest_cannot_switch_to_x2apic_under_the_virtual_apic.timeout = 300



def test_linux_reaches_init_under_the_virtual_apic(t):
    """Linux's local-APIC timer (programmed through APIC-write exits, its
    current count read through APIC-access exits), its IOAPIC interrupts and
    its EOIs (virtualized) all work: /init runs and powers off."""
    lx = _sibling("test_linux.py")
    info = lx.linux(t)
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=lx.modules(info, "vmlinux"), megs=lx.MEGS,
               timeout=lx.BOOT_TIMEOUT)
    r.expect(VIRTUAL)
    lx.booted_to_init_and_powered_off(r, info)
    m = r.expect(r"exits: \d+ in all, (.*)")
    print(m.group(0))
    for reason in ("EXTERNAL_INTERRUPT", "APIC_WRITE"):
        t.check(re.search(reason + r" \d+", m.group(1)), f"no {reason} exits: {m.group(1)}")


test_linux_reaches_init_under_the_virtual_apic.timeout = 600


SMPPROBE = "build/guests/smpprobe.elf"


def test_bogus_vectors_and_a_self_ipi_flood_leave_the_hypervisor_up(t):
    """Illegal vectors (LVT timer 0x03, self-IPIs 0x02 and 0x0e) reach the
    physical APIC, which flags them in ESR (read back as bare) and delivers
    nothing; 20,000 self-IPIs
    with interrupts on are virtualized (no exit each) and every one is taken,
    as bare; then the guest's AP starts as usual."""
    bare = t.boot(bare=SMPPROBE, hv_args="apic=bogus", cpus=2, timeout=120)
    bare_reads = bare.expect(r"SMPPROBE bogus: timer current count .*").group(0)
    bare_esr = bare.expect(r"SMPPROBE bogus: ESR after them: (0x[0-9a-f]+)").group(1)
    want = int(bare.expect(r"SMPPROBE bogus: flood taken (\d+) times").group(1))
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(SMPPROBE, "guest apic=bogus")], cpus=2,
               timeout=120)
    r.expect(VIRTUAL)
    reads = r.expect(r"SMPPROBE bogus: timer current count .*").group(0)
    t.check(reads == bare_reads == "SMPPROBE bogus: timer current count at most 1000, PPR 0x0",
            f"the timer's count and PPR, read through APIC-access exits: {reads!r}, bare {bare_reads!r}")
    esr = r.expect(r"SMPPROBE bogus: ESR after them: (0x[0-9a-f]+)").group(1)
    t.check(esr == bare_esr, f"ESR {esr} under apic=virtual, {bare_esr} bare: the illegal vectors' errors differ")
    got = int(r.expect(r"SMPPROBE bogus: flood taken (\d+) times").group(1))
    t.check(got == want, f"flood taken {got} times under apic=virtual, {want} bare")
    r.expect(r"SMPPROBE bogus: survived")
    r.expect(r"SMPPROBE ap: started")
    exits = r.expect(r"exits: vCPU 0: \d+ in all, (.*)").group(1)
    t.check(re.search(r"APIC_ACCESS [2-9]", exits), f"the two reads were APIC-access exits: {exits}")
    r.forbid(r"guest stopped|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_the_hostile_probe_under_the_virtual_apic_is_reported_and_survived(t):
    """The pass-through test's bad IPIs (SIPI to a missing CPU, INIT to
    itself, logical INIT) exit as APIC writes and are reported the same."""
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(SMPPROBE, "guest apic=hostile")], cpus=2,
               timeout=120)
    r.expect(r"apic: vCPU 0 sent SIPI vector 0x08 to APIC id 7: no vCPU has that id, ignored")
    r.expect(r"apic: vCPU 0 sent INIT to itself \(APIC id 0\): ignored")
    r.expect(r"apic: vCPU 0 sent INIT with logical destination 0x1: not supported, ignored")
    r.expect(r"SMPPROBE hostile: survived")
    r.forbid(r"guest stopped|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_a_cpu_without_apic_register_virtualization_refuses_apic_virtual_and_passes_through(t):
    """corei3_cnl lacks APIC-register virtualization and virtual-interrupt
    delivery (docs/platform-notes.md): refused at boot with the reason; the
    basic guest runs in pass-through with every check passing."""
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(BASIC, "guest")], model="corei3_cnl")
    r.expect(r"apic=virtual refused: this CPU lacks the secondary processor-based control "
             r"APIC_REGISTER_VIRTUALIZATION \(bit 8\); the local APIC stays passed through")
    r.forbid(VIRTUAL)
    _, failed, _ = done(r)
    t.check(failed == 0, f"{failed} checks failed in pass-through")
    m = r.expect(r"exits: \d+ in all, (.*)")
    t.check("EXTERNAL_INTERRUPT" not in m.group(1), f"external interrupts exited: {m.group(1)}")
    r.expect_poweroff()


def test_linux_with_two_cpus_reaches_init_under_the_virtual_apic(t):
    """Both vCPUs' virtual APICs: INIT-SIPI-SIPI and the kernel's IPIs go
    through APIC-write exits on the ICR, each CPU's timer and IPIs are
    posted to its own virtual-APIC page."""
    lx = _sibling("test_linux.py")
    info = lx.linux(t)
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=lx.modules(info, "vmlinux"), megs=lx.MEGS, cpus=2,
               timeout=1500)
    r.expect(VIRTUAL)
    r.expect(r"smp: Brought up 1 node, 2 CPUs")
    r.expect(r"Run /init as init process")
    r.expect(re.escape(info["marker"]))
    r.forbid(r"Kernel panic|guest stopped|EXCEPTION: |PANIC|do_boot_cpu failed")
    r.expect_poweroff()


test_linux_with_two_cpus_reaches_init_under_the_virtual_apic.timeout = 1620


def test_monitor_apic_and_lua_decode_each_vcpus_virtual_apic_page(t):
    """The SMP guest stopped on its AP (ap_only_function): each vCPU's
    virtual-APIC page as the guest left it — its own APIC id, the SVR the
    guest wrote (enabled, spurious vector 0xff), the BSP's ICR holding the
    start-up IPI it sent to APIC id 1, nothing requested or in service —
    through `monitor apic` and through Lua on the vCPU gdb selected."""
    # flushregs: gdb has the stopped thread's registers from the stop reply
    # and would not select thread 2 again (Hg) otherwise.
    m, out = _on_the_ap(t, "apic=virtual", "apic=xapic", "thread 1", "flushregs", "p $pc", "monitor apic",
                "thread 2", "flushregs", "p $pc", "monitor apic", "monitor lua local a = apic.view() return a.mode, a.id, a.svr, #a.isr",
                "monitor lua return apic.view(0).id, apic.reg(0xf0, 1), apic.show(1):match('ID[^\\n]*')",
                "monitor lua apic.reg(0x123)")
    bsp = out[out.index("vCPU 0, virtual-APIC page"):out.index("vCPU 1, virtual-APIC page")]
    ap = out[out.index("vCPU 1, virtual-APIC page"):]
    t.find(bsp, r"^ID   0x00000000 \(APIC id 0\)", "vCPU 0's APIC id")
    t.find(ap, r"^ID   0x01000000 \(APIC id 1\)", "vCPU 1's APIC id")
    for page in (bsp, ap):
        t.find(page, r"^SVR  0x000001ff: APIC software-enabled, spurious vector 0xff$", "the SVR the guest wrote")
        t.find(page, r"^TPR  0x00 \(class 0\)   PPR 0x00", "TPR and PPR")
        t.find(page, r"^ISR  none$", "nothing in service")
        t.find(page, r"^LVT timer    0x00010000: vector 0x00, one-shot, masked$", "the timer as the guest left it")
    t.find(bsp, r"^ICR  0x00000001_00004608: vector 0x08, start-up, physical, assert, edge, no shorthand, "
                r"destination 0x1$", "the BSP's last IPI: the SIPI (trampoline page 8) to APIC id 1")
    t.find(bsp, r"^exits: \d+ interrupts posted, .* [1-9]\d* APIC writes", "the BSP's APIC writes exited")
    t.find(out, r"^virtual\t1 \(0x1\)\t511 \(0x1ff\)\t0 \(0x0\)$", "Lua's view of the selected vCPU 1")
    t.find(out, r"^0 \(0x0\)\t511 \(0x1ff\)\tID   0x01000000 \(APIC id 1\)", "Lua's view of vCPU 0 and 1 by index")
    t.find(out, r"an xAPIC register offset: 0x000-0x3f0, a multiple of 16", "a bad offset refused")
    r = t.finish(m)
    r.forbid(r"PANIC|EXCEPTION: |guest stopped")


def test_monitor_apic_in_pass_through_shows_the_physical_apic(t):
    """Pass-through: the stopped processor's physical xAPIC, as the guest
    programmed it; another processor's APIC is out of reach and said to be."""
    m, out = _on_the_ap(t, "", "apic=xapic", "thread 2", "flushregs", "p $pc", "monitor apic", "thread 1",
                        "flushregs", "p $pc", "monitor apic", "monitor lua return apic.view(1).mode")
    t.find(out, r"^vCPU 1, physical APIC, xAPIC mode$", "the stopped AP's physical APIC")
    t.find(out, r"^ID   0x01000000 \(APIC id 1\)", "its id")
    t.find(out, r"^SVR  0x000001ff: APIC software-enabled", "the SVR the guest wrote, on the hardware")
    t.find(out, r"vCPU 0's physical APIC answers its own processor only", "vCPU 0 out of reach")
    t.find(out, r"^xapic$", "Lua's view of vCPU 1")
    t.finish(m)


test_monitor_apic_and_lua_decode_each_vcpus_virtual_apic_page.timeout = 900
test_monitor_apic_in_pass_through_shows_the_physical_apic.timeout = 900



def test_the_demo_sleeps_and_wakes_on_its_pit_ticks_under_the_virtual_apic(t):
    """The 64-bit demo halts every round until the 8259's timer tick: under
    apic=virtual each tick exits (ExtINT, acknowledged on exit) and is
    injected into the halted guest; its rounds, ticks and page faults count
    as in pass-through."""
    demo = _sibling("test_demo.py")
    m = t.start(hv_args="panic=poweroff apic=virtual", modules=[(demo.DEMO, "guest")], timeout=240)
    t.wait_for(m, demo.line_of(2), timeout=200)
    r = t.finish(m, stop=True)
    r.expect(VIRTUAL)
    demo.progress(t, r.console, 3)
    r.forbid(r"unexpected trap|EXCEPTION|PANIC|guest stopped")


test_the_demo_sleeps_and_wakes_on_its_pit_ticks_under_the_virtual_apic.timeout = 300



def test_the_chapter_7_lab_walks_the_virtual_apic_pages_and_the_exits_that_follow(t):
    """scripts/labs/ch7-apic.lua on the SMP guest stopped on its AP: the
    controls, each vCPU's page and the BSP's ICR (values `monitor apic` and
    the guest's own code fix), then, once the guest runs on, the APIC exits
    of its 16 IPIs each way and the counts at power-off."""
    smp = _sibling("test_smp_guest.py")
    m, out = _on_the_ap(t, "apic=virtual", "apic=xapic", f"vmx lua {t.path('scripts/labs/ch7-apic.lua')} 3",
                        prelude=[f"source {t.path('scripts/gdb/vmxdbg.py')}"])
    want = [
        "ch7: external-interrupt exiting (pin bit 0) on, acknowledge interrupt on exit (exit bit 15) on",
        "ch7: TPR shadow (primary bit 21) on; virtualize APIC accesses (secondary bit 0) on, APIC-register "
        "virtualization (bit 8) on, virtual-interrupt delivery (bit 9) on",
        "ch7: vCPU 0's ICR 0x0000000100004608: start-up IPI, vector 0x08, to APIC id 1",
        "ch7: hooks on; `continue` shows the first 3 APIC exits of each kind",
    ]
    for line in want:
        t.find(out, "^" + re.escape(line) + "$", line)
    t.find(out, r"^ch7: APIC_ACCESS_ADDRESS = 0xfee00000 \(the guest's xAPIC page\); VIRTUAL_APIC_ADDRESS = "
                r"0x[0-9a-f]+000 \(vCPU 1's page", "the two addresses")
    for v in (0, 1):
        t.find(out, rf"^ch7: vCPU {v}: APIC id {v}, TPR 0x00, PPR 0x00, GUEST_INTERRUPT_STATUS 0x0000 \(RVI 0x00, "
                    rf"SVI 0x00\), IRR 0 vectors, ISR 0$", f"vCPU {v}'s page")
    r = t.finish(m)
    smp.check_two_cpus(t, r, "xapic")
    icr = re.findall(r"ch7: vCPU (\d): APIC write at 0x300 \(ICR\) = 0x0000(4[0-9a-f])([0-9a-f]{2}): (\S+) IPI, "
                     r"vector 0x([0-9a-f]{2}), to APIC id (\d): forwarded", r.console)
    t.check(len(icr) == 3, f"three ICR writes shown: {icr}")
    t.check(("0", "46", "08", "start-up", "08", "1") in icr, f"the BSP's second SIPI to APIC id 1 is among them: {icr}")
    fixed = [x for x in icr if x[3] == "fixed"]
    t.check(fixed and all(mode == "40" and lo == vec and s != d for s, mode, lo, _, vec, d in fixed),
            f"the fixed IPIs go to the other CPU with their vector: {icr}")
    got = re.findall(r"ch7: vCPU (\d): external interrupt, vector 0x([0-9a-f]{2}): acknowledged", r.console)
    t.check(len(got) == 3, f"three external interrupts shown: {got}")
    counts = r.expect(r"ch7: counted: (\d+) external interrupts, (\d+) ICR writes, \d+ other APIC writes, "
                      r"(\d+) EOI exits, \d+ APIC accesses")
    t.check(int(counts.group(1)) >= 32 and int(counts.group(2)) >= 32 and counts.group(3) == "0",
            f"32 IPIs at least, each an ICR write and an interrupt, no EOI exit (edge): {counts.group(0)}")


test_the_chapter_7_lab_walks_the_virtual_apic_pages_and_the_exits_that_follow.timeout = 900


def test_tpr_writes_and_apic_reads_cost_no_exit_under_the_virtual_apic(t):
    """TPR shadow and APIC-register virtualization: the probe's 1,000 TPR
    writes and reads (2 CPUs, where pass-through write-protects the page and
    each write costs ~900 instructions) run at the bare cost."""
    smp_tests = _sibling("test_smp.py")
    bare = t.boot(bare=SMPPROBE, hv_args="apic=cost", timeout=120)
    under = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(SMPPROBE, "guest apic=cost")], cpus=2,
                   timeout=120)
    (bw, br), (uw, ur) = smp_tests.apic_cost(t, bare), smp_tests.apic_cost(t, under)
    print(f"apic=virtual: TPR write {uw} ticks, read {ur}; bare {bw}, {br}")
    t.check(uw <= bw + 2 and ur <= br + 2, f"TPR write {uw} / read {ur} ticks under apic=virtual, bare {bw} / {br}")
    under.forbid(r"guest stopped|not emulated|write-protected in EPT")


def test_monitor_apic_reads_the_x2apic_by_its_msrs_in_pass_through(t):
    """The SMP guest in x2APIC mode: the stopped AP's APIC read by RDMSR
    (the 32-bit id, the 64-bit ICR, no DFR), as the guest programmed it."""
    m, out = _on_the_ap(t, "", "apic=x2apic spin=0x3e8", "thread 2", "flushregs", "p $pc", "monitor apic",
                        "monitor lua local a = apic.view() return a.mode, a.id, a.svr")
    t.find(out, r"^vCPU 1, physical APIC, x2APIC mode$", "the x2APIC view")
    t.find(out, r"^ID   0x00000001 \(APIC id 1\)", "the 32-bit x2APIC id")
    t.find(out, r"^SVR  0x000001ff: APIC software-enabled, spurious vector 0xff$", "the SVR the guest wrote")
    t.find(out, r"^LDR  0x[0-9a-f]{8} \(cluster \d+, bits 0x[0-9a-f]{4}\)   ESR 0x00000000$", "x2APIC LDR, no DFR")
    t.find(out, r"^x2apic\t1 \(0x1\)\t511 \(0x1ff\)$", "Lua's view")
    t.finish(m)


test_monitor_apic_reads_the_x2apic_by_its_msrs_in_pass_through.timeout = 900


def test_a_level_triggered_interrupt_is_eoid_on_the_hardware_when_the_guest_eois(t):
    """Level-triggered self-IPIs (the receiving APIC sets TMR): under
    apic=virtual each one's vector goes into the EOI-exit bitmap, the guest's
    EOI exits (EOI-induced, 45) and reaches the physical APIC; none is lost,
    as bare."""
    args = "bench=levelipi:200 bench=ipi:50"
    bare = t.boot(bare=BASIC, hv_args=args)
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(BASIC, f"guest {args}")])
    for run in (bare, r):
        run.expect(r"GUEST BENCH levelipi n=200 tsc=\d+ taken=200$")
        run.expect(r"GUEST BENCH ipi n=50 tsc=\d+ taken=50$")
    m = r.expect(r"exits: \d+ in all, (.*)")
    eois = re.search(r"VIRTUALIZED_EOI (\d+)", m.group(1))
    t.check(eois and int(eois.group(1)) == 200, f"one EOI-induced exit per level-triggered IPI: {m.group(1)}")
    r.forbid(r"GUEST FAIL|guest stopped|EXCEPTION: |PANIC")


RESUMING_HOOKS = r"""
-- Every APIC event hooked, every verdict "resume": the hypervisor's own
-- bookkeeping must still run (an interrupt posted and EOI'd on the
-- hardware, an APIC write forwarded, an APIC read answered).
local seen = {}
for _, reason in ipairs({ "EXTERNAL_INTERRUPT", "APIC_WRITE", "APIC_ACCESS", "VIRTUALIZED_EOI" }) do
  seen[reason] = 0
  hv.on_exit(reason, function(e) seen[reason] = seen[reason] + 1; return "resume" end)
end
hv.on_poweroff(function()
  print(string.format("resuming hooks: %d interrupts, %d APIC writes", seen.EXTERNAL_INTERRUPT, seen.APIC_WRITE))
end)
"""


def test_hooks_that_resume_apic_exits_leave_interrupts_and_ipis_working(t):
    """Regression (review of the merged tree): a hook's "resume" on an
    external-interrupt exit under apic=virtual sent the vector down the
    pass-through path (never EOI'd on the hardware: the timer's class
    blocked), and on an APIC-write exit skipped forwarding the write (the
    ICR's IPI lost).  The SMP guest's 16 IPIs each way and its checksum
    show both are done whatever the hook says."""
    smp = _sibling("test_smp_guest.py")
    script = t.write_file("resume.lua", RESUMING_HOOKS)
    r = t.boot(hv_args="panic=poweroff apic=virtual", modules=[(smp.SMP, "guest apic=xapic"), (script, "script")],
               cpus=2, timeout=smp.TIMEOUT)
    r.expect(VIRTUAL)
    smp.check_two_cpus(t, r, "xapic")
    m = r.expect(r"lua: resuming hooks: (\d+) interrupts, (\d+) APIC writes")
    t.check(int(m.group(1)) >= 32 and int(m.group(2)) >= 32,
            f"the hooks saw {m.group(1)} interrupts and {m.group(2)} APIC writes: want the 32 IPIs at least")
    r.forbid(r"PANIC|EXCEPTION|guest stopped|removed; the guest continues")


test_hooks_that_resume_apic_exits_leave_interrupts_and_ipis_working.timeout = 300
