"""Processors (issue 11, first step): every AP the MADT lists enters VMX root
operation at boot and is parked there, so a guest's INIT-SIPI-SIPI cannot
start it outside VMX (VMX root operation blocks INIT, SDM Vol. 3C §24.8;
Bochs 2.7 drops it).  Under Bochs `cpu: count=2` the guest sees two CPUs in
the firmware tables but runs on the BSP only.

The signal that no guest code ran on CPU 1 is Bochs' own: when it ends it
dumps every CPU's state to bochs.log.  A parked AP is halted in long mode,
its RIP in the hypervisor's region, CR4.VMXE set; an AP the guest started
is wherever the guest left it (the probe's trampoline: real mode).
"""
import json
import os
import re
import subprocess

BASIC = "build/guests/basic.elf"
SMPPROBE = "build/guests/smpprobe.elf"
CHECKSUM = "0xf91f694b"
HV_REGION = (0x08000000, 0x0a000000)    # where vmxdbg is linked, 32 MiB
CR4_VMXE = 1 << 13
LINUX = "build/linux"


def bochs_log(r):
    with open(os.path.join(r.workdir, "bochs.log"), errors="replace") as f:
        return f.read()


def final_state(t, r, cpu):
    """CPU `cpu`'s state as Bochs dumped it last: mode, instruction pointer, CR4."""
    lines = re.findall(rf"^(\d+)i\[CPU{cpu}\s*\] (.*)$", bochs_log(r), re.M)
    t.check(lines, f"bochs.log has no line about CPU{cpu}")
    last = lines[-1][0]
    dump = "\n".join(text for stamp, text in lines if stamp == last)
    mode = re.search(r"CPU is in (.*)", dump)
    ip = re.search(r"\| [RE]IP=([0-9a-f]+)", dump)
    cr4 = re.search(r"CR4=0x([0-9a-f]+)", dump)
    t.check(mode and ip and cr4, f"CPU{cpu}'s final state is not in bochs.log: {dump[-400:]!r}")
    return mode.group(1), int(ip.group(1), 16), int(cr4.group(1), 16)


def check_parked(t, r):
    mode, rip, cr4 = final_state(t, r, 1)
    t.check(mode.startswith("long mode (halted)"), f"CPU1 ended in {mode}, not halted in long mode")
    t.check(HV_REGION[0] <= rip < HV_REGION[1], f"CPU1 ended at RIP 0x{rip:x}, outside the hypervisor")
    t.check(cr4 & CR4_VMXE, f"CPU1 ended with CR4=0x{cr4:x}: not in VMX operation")


def test_the_ap_gets_a_vcpu_that_waits_for_the_guests_sipi(t):
    """Book ch. 1's start-up stages, per CPU, at loglevel=debug; a guest that
    never starts its AP leaves it waiting in VMX root operation."""
    r = t.boot(hv_args="panic=poweroff loglevel=debug", modules=[(BASIC, "guest")], cpus=2)
    r.expect(r"cpu 1: started \(SIPI vector 0x[0-9a-f]+, APIC id 1\)")
    r.expect(r"cpu 1: long mode")
    r.expect(r"cpu 1: VMX root \(VMXON ok\)$")
    r.expect(r"cpus: 2 found in the MADT, 1 AP in VMX root operation")
    r.expect(r"cpu 1: VMCS ready \(VPID 2\); vCPU 1 waits for the guest's INIT-SIPI-SIPI")
    r.expect(r"cpus: 2 vCPUs; the guest's BSP runs, 1 AP waits for its INIT-SIPI-SIPI")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")
    r.forbid(r"EXCEPTION|PANIC|GUEST FAIL|left alone")
    r.expect_poweroff()
    check_parked(t, r)


def test_one_cpu_is_reported_with_no_ap_to_park(t):
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest")])
    r.expect(r"cpus: 1 found in the MADT, 0 APs in VMX root operation")
    r.forbid(r"cpu 1:")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")


def test_the_probe_guest_starts_its_ap_bare(t):
    """The reference: without vmxdbg, the guest's INIT-SIPI-SIPI starts CPU 1,
    which writes the marker and "AP" to port 0xE9, and halts in real mode."""
    r = t.boot(bare=SMPPROBE, hv_args="", cpus=2)
    r.expect(r"SMPPROBE ap: started \(marker 0xa11f\)")
    r.expect(r"^AP$", source="e9")
    mode, _, _ = final_state(t, r, 1)
    t.check(mode.startswith("real mode"), f"CPU1 ended in {mode}, not in the probe's trampoline")


def test_a_guests_init_sipi_sipi_starts_its_ap_as_a_vcpu(t):
    """The isolation hole of issue 11, closed: CPU 1 sits in VMX root
    operation, where INIT is blocked, so the guest's INIT-SIPI-SIPI cannot
    start it natively; vmxdbg catches them at the ICR and starts vCPU 1 in
    real mode at the SIPI's vector.  The probe's trampoline runs there, under
    VMX: CPU 1 ends halted with CR4.VMXE set (bare it ends with CR4=0)."""
    r = t.boot(hv_args="panic=poweroff loglevel=debug", modules=[(SMPPROBE, "guest")], cpus=2)
    r.expect(r"cpus: 2 found in the MADT, 1 AP in VMX root operation")
    r.expect(r"SMPPROBE sending INIT-SIPI-SIPI to APIC id 1")
    r.expect(r"vCPU 1: start-up IPI, vector 0x08: real mode at 0800:0000")
    r.expect(r"SMPPROBE ap: started \(marker 0xa11f\)")
    # The trampoline also writes "AP" to port 0xE9, but nothing orders a
    # guest's port writes with the hypervisor's own lines there: they may
    # interleave ("[D] aAPp..."), so the marker above and CPU 1's final CR4
    # below are the proof.
    r.forbid(r"guest stopped|EXCEPTION|PANIC")
    r.expect_poweroff()
    _, _, cr4 = final_state(t, r, 1)
    t.check(cr4 & CR4_VMXE, f"CPU1 ended with CR4=0x{cr4:x}: the trampoline ran outside VMX")


def test_the_probes_init_and_sipis_are_caught_at_the_xapic_icr(t):
    """The software INIT/SIPI path (issue 11): the guest's xAPIC page is
    write-protected in EPT, its ICR writes are decoded and emulated, and the
    INIT and both SIPIs are recognised.  Whether the AP then starts is the
    vCPU set's business (vcpu_guest_sipi); this test holds either way."""
    r = t.boot(hv_args="panic=poweroff loglevel=debug", modules=[(SMPPROBE, "guest")], cpus=2)
    r.expect(r"apic: xAPIC page 0xfee00000 write-protected in EPT")
    r.expect(r"apic: vCPU 0 sent INIT to APIC id 1")
    t.check(len(re.findall(r"apic: vCPU 0 sent SIPI vector 0x08 to APIC id 1", r.console)) == 2,
            "the two start-up IPIs were not both recognised")
    r.expect(r"SMPPROBE ap: (did not start|started)")
    r.forbid(r"guest stopped|not emulated|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_the_probes_init_and_sipis_are_caught_at_the_x2apic_icr(t):
    """The same through WRMSR 0x830 after the guest switched to x2APIC mode:
    the EPT protection of the xAPIC page is dropped with the switch."""
    r = t.boot(hv_args="panic=poweroff loglevel=debug", modules=[(SMPPROBE, "guest apic=x2apic")], cpus=2)
    r.expect(r"SMPPROBE x2apic: on")
    r.expect(r"apic: x2APIC mode: no xAPIC page to protect; ICR writes exit at WRMSR 0x830")
    r.expect(r"apic: vCPU 0 sent INIT to APIC id 1")
    r.expect(r"apic: vCPU 0 sent SIPI vector 0x08 to APIC id 1")
    r.forbid(r"guest stopped|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_the_probes_x2apic_sender_starts_its_ap_bare(t):
    """The reference for the x2APIC variant: its WRMSR 0x830 INIT-SIPI-SIPI
    starts CPU 1 without vmxdbg."""
    r = t.boot(bare=SMPPROBE, hv_args="apic=x2apic", cpus=2)
    r.expect(r"SMPPROBE x2apic: on")
    r.expect(r"SMPPROBE ap: started \(marker 0xa11f\)")


def test_bad_ipis_are_reported_and_the_hypervisor_survives(t):
    """SIPI to an APIC id no CPU has, INIT to itself, INIT with a logical
    destination, 10,000 fixed IPIs to itself: each reported (rate-limited),
    the guest runs on to its power-off.  A bad IA32_APIC_BASE and an x2APIC
    ICR write in xAPIC mode are the guest's #GP, as on a CPU."""
    r = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=hostile")], cpus=2)
    r.expect(r"apic: vCPU 0 sent SIPI vector 0x08 to APIC id 7: no vCPU has that id, ignored")
    r.expect(r"apic: vCPU 0 sent INIT to itself \(APIC id 0\): ignored")
    r.expect(r"apic: vCPU 0 sent INIT with logical destination 0x1: not supported, ignored")
    r.expect(r"apic: IPI storm: vCPU 0 sent 1000 IPIs within 10000000 TSC ticks")
    r.expect(r"SMPPROBE hostile: IA32_APIC_BASE with reserved bit 9 set: vector 13")
    r.expect(r"SMPPROBE hostile: x2APIC ICR written in xAPIC mode: vector 13")
    r.expect(r"guest: WRMSR IA32_APIC_BASE 0x[0-9a-f]+ -> 0x[0-9a-f]+ refused with #GP")
    r.expect(r"SMPPROBE hostile: survived")
    r.expect(r"SMPPROBE ap: (did not start|started)")
    r.forbid(r"guest stopped|EXCEPTION: |PANIC")
    t.check(len(re.findall(r"IPI storm", r.console)) <= 5, "the storm report is not rate-limited")
    r.expect_poweroff()


def apic_cost(t, r):
    m = re.search(r"SMPPROBE apic cost: write (\d+) ticks, read (\d+) ticks", r.console)
    t.check(m, "the probe printed no APIC cost line")
    return int(m.group(1)), int(m.group(2))


def test_an_emulated_apic_write_costs_an_exit_and_a_read_nothing(t):
    """Bochs' TSC counts instructions (clock: sync=none): the guest times
    1,000 TPR writes and reads bare and under vmxdbg; the difference is the
    root-mode price of one emulated APIC write (reported, bounded here)."""
    bare = t.boot(bare=SMPPROBE, hv_args="apic=cost")
    under = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=cost")], cpus=2)
    (bw, br), (uw, ur) = apic_cost(t, bare), apic_cost(t, under)
    print(f"apic cost: write {uw} ticks under vmxdbg, {bw} bare: {uw - bw} per emulated write; "
          f"read {ur} vs {br}")
    t.check(ur == br, f"APIC reads cost {ur} ticks under vmxdbg, {br} bare: they should not exit")
    t.check(500 < uw - bw < 20000, f"an emulated APIC write costs {uw - bw} ticks")
    under.forbid(r"guest stopped|not emulated")


def test_with_one_vcpu_the_guests_apic_writes_do_not_exit(t):
    """Nothing to catch without an AP: the xAPIC page stays writable and an
    APIC write costs what it costs bare."""
    bare = t.boot(bare=SMPPROBE, hv_args="apic=cost")
    under = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=cost")])
    (bw, br), (uw, ur) = apic_cost(t, bare), apic_cost(t, under)
    t.check(uw == bw and ur == br, f"one vCPU: APIC write {uw} / read {ur} ticks, bare {bw} / {br}")
    under.forbid(r"write-protected in EPT")


def test_an_emulated_apic_store_under_the_guests_own_tf_traps_once_after_it_as_bare(t):
    """The decoder's length advances RIP, and the guest's single-step trap
    owed for the emulated store comes after it, once (advance_rip's rule)."""
    want = r"SMPPROBE tf: 2 #DB traps, at store\+10 and store\+11"
    t.boot(bare=SMPPROBE, hv_args="apic=tf").expect(want)
    r = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=tf")], cpus=2)
    r.expect(want)
    r.forbid(r"guest stopped|not emulated|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_gdb_stepi_over_an_emulated_apic_store_moves_one_instruction(t):
    """The debugger's own step (TF it owns) over a store the hypervisor
    emulates: one stepi, one instruction, the decoder's length."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(SMPPROBE, "guest apic=cost")], cpus=2, timeout=240)
    t.wait_for(m, r"gdb-wait: the guest waits")
    steps = 8
    cmd = ["gdb", "-nx", "-q", "-batch", "-ex", "set pagination off", t.path(SMPPROBE),
           "-ex", f"target remote localhost:{m.gdb_port}", "-ex", "disassemble apic_cost",
           "-ex", "break apic_cost", "-ex", "continue", "-ex", "delete",
           *[c for _ in range(steps) for c in ("-ex", "stepi", "-ex", "p/x $pc")], "-ex", "detach"]
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90).stdout
    with open(os.path.join(t.workdir, "gdb.txt"), "w") as f:
        f.write(out)
    store = t.find(out, r"(0x[0-9a-f]+) <\+\d+>:\s+movl\s+\$0x0,0xfee00080", "the TPR store in apic_cost")
    at = int(store.group(1), 16)
    pcs = [int(v, 16) for v in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
    t.check(len(pcs) == steps, f"{len(pcs)} of {steps} steps printed a pc")
    t.check(at in pcs[:-1] and pcs[pcs.index(at) + 1] == at + 10,
            f"stepi from the store at {at:#x} went through {[hex(p) for p in pcs]}")
    r = t.finish(m)
    r.expect(r"SMPPROBE apic cost: write \d+ ticks")
    r.forbid(r"guest stopped|not emulated|unexpected trap|EXCEPTION: |PANIC")


def test_an_apic_store_the_decoder_refuses_stops_the_guest_with_the_reason(t):
    """A byte store to the APIC page is not guessed at: the guest stops,
    the log names the instruction and why, the hypervisor stays up."""
    r = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=narrow")], cpus=2)
    r.expect(r"apic: write to 0xfee00080 at RIP 0x[0-9a-f]+ \(32-bit code, 15 bytes read: c6 05 80 00 \.\.\.\) "
             r"not emulated: an 8- or 16-bit store \(APIC registers are 32-bit\)")
    r.expect(r"guest stopped: APIC store at 0x[0-9a-f]+ not emulated: an 8- or 16-bit store "
             r"\(APIC registers are 32-bit\)$")
    r.forbid(r"SMPPROBE narrow: went on|EXCEPTION: |PANIC")


def test_apic_writes_are_emulated_under_a_lua_hook_that_resumes(t):
    """A script hooking EPT violations sees the APIC stores and returns
    "resume": the store is emulated all the same (resumed unemulated it
    would exit again forever), and the guest runs to its end."""
    hook = t.write_file("apic_hook.lua", "\n".join([
        "local n = 0",
        'hv.on_exit("EPT_VIOLATION", function(e)',
        "  n = n + 1",
        '  if n <= 2 then print(string.format("apic hook: %s to 0x%x", e.access, e.guest_physical)) end',
        '  return "resume"',
        "end)",
    ]))
    r = t.boot(hv_args="panic=poweroff", modules=[(SMPPROBE, "guest apic=cost"), (hook, "script")], cpus=2)
    r.expect(r"apic hook: write to 0xfee00080")
    r.expect(r"SMPPROBE apic cost: write \d+ ticks")
    r.expect(r"SMPPROBE ap: started")
    r.forbid(r"guest stopped|not emulated|EXCEPTION: |PANIC")
    r.expect_poweroff()


def test_make_run_cpus_2_gives_bochs_two_processors(t):
    """`make run CPUS=N` reaches tools/run.py, which writes Bochs' cpu: count=N."""
    dry = subprocess.run(["make", "-n", "run", "CPUS=2", "GUEST=build/guests/basic.elf"], cwd=t.path("."),
                         capture_output=True, text=True).stdout.replace("\\\n", "")
    t.check(re.search(r"tools/run\.py .*--cpus '2'", dry), f"make run CPUS=2 runs: {dry[-400:]!r}")
    workdir = os.path.join(t.workdir, "run")
    p = subprocess.run(["python3", "tools/run.py", "--workdir", workdir, "--gdb-port", "0", "--timeout", "240",
                        "--cpus", "2", "--guest", BASIC], cwd=t.path("."), capture_output=True, text=True,
                       timeout=280)
    with open(os.path.join(workdir, "bochsrc")) as f:
        t.check(re.search(r"^cpu: .*count=2,", f.read(), re.M), "the bochsrc does not ask for 2 CPUs")
    t.check(p.returncode == 0 and "cpus: 2 found in the MADT, 1 AP in VMX root" in p.stdout,
            f"run.py exited {p.returncode}: {p.stdout[-400:]!r}")
    q = subprocess.run(["python3", "tools/run.py", "--emu", "qemu", "--cpus", "2", "--workdir", workdir],
                       cwd=t.path("."), capture_output=True, text=True, timeout=60)
    t.check(q.returncode != 0 and "only with EMU=bochs" in q.stderr, f"EMU=qemu CPUS=2: {q.stderr!r}")


def test_linux_with_two_cpus_brings_up_both_under_vmx(t):
    """Before: Linux under vmxdbg started CPU 1 natively (143 M lines of
    `[CPU1] RDMSR: Unknown register 0x1a0` in bochs.log: IA32_MISC_ENABLE,
    which vmxdbg emulates, read where nobody did) and hung.  Now its
    INIT-SIPI-SIPI starts vCPU 1 and both CPUs run to /init under VMX."""
    info_path = t.path(os.path.join(LINUX, "info.json"))
    if not os.path.exists(info_path):
        t.skip("the Linux guest is absent (make linux-guest fetches it into build/linux)")
    with open(info_path) as f:
        info = json.load(f)
    m = t.start(hv_args="panic=poweroff",
                modules=[(os.path.join(LINUX, "vmlinux"), f"guest {info['cmdline']}"),
                         (os.path.join(LINUX, "initramfs.cpio"), "initrd")],
                megs=512, cpus=2, timeout=1500)
    t.wait_for(m, r"smp: Brought up 1 node, 2 CPUs", timeout=1200)
    # gdb sees both CPUs, each at a kernel address of its own.
    out = t.gdb(m, "info threads", "thread 2", "info registers rip", "thread 1", "info registers rip",
                "detach", elf=t.path(os.path.join(LINUX, "symbols.elf")), timeout=300)
    rips = [int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)]
    t.check(re.search(r'^\*?\s+2\s+Thread 2 "vCPU 1"', out, re.M), f"gdb lists no vCPU 1: {out[-600:]!r}")
    t.check(len(rips) == 2 and all(x >= 0xffffffff80000000 for x in rips),
            f"the two vCPUs' RIPs are not kernel addresses: {out[-600:]!r}")
    r = t.finish(m)
    r.expect(r"cpus: 2 vCPUs; the guest's BSP runs, 1 AP waits for its INIT-SIPI-SIPI")
    r.expect(r"Run /init as init process")
    r.expect(re.escape(info["marker"]))
    r.forbid(r"Kernel panic|guest stopped|EXCEPTION: |PANIC|do_boot_cpu failed")
    r.expect_poweroff()
    t.check(not re.search(r"\[CPU1\s*\] RDMSR: Unknown register 0x1a0", bochs_log(r)),
            "bochs.log shows CPU1 reading IA32_MISC_ENABLE natively: guest code ran outside VMX")


test_linux_with_two_cpus_brings_up_both_under_vmx.timeout = 1620


def test_sipi_native_falls_back_to_the_software_path_under_bochs(t):
    """sipi=native asks for the SDM's path (the AP in wait-for-SIPI, INIT
    and SIPI exits); Bochs 2.7's INIT exit never clears, so vmxdbg says why
    it keeps the software path, and the probe's AP still starts under VMX."""
    r = t.boot(hv_args="panic=poweroff sipi=native", modules=[(SMPPROBE, "guest")], cpus=2)
    r.expect(r"sipi=native: Bochs 2\.7's INIT and SIPI exits are broken .*; guest APs start the software way")
    r.expect(r"cpus: guest APs start the software way: INIT/SIPI caught at the ICR")
    r.expect(r"SMPPROBE ap: started \(marker 0xa11f\)")
    r.forbid(r"guest stopped|EXCEPTION|PANIC")
    r.expect_poweroff()
