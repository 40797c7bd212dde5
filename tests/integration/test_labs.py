"""The labs (scripts/labs/, issue 12 item 7): each chapter's Lua + gdb
walk-through run as its README says, on the basic guest, with its key
lines checked against values gdb and the console give independently.
Two boots: one stopped guest runs chapters 2, 3, 4 (part 1), 6 and 5 in
turn; chapter 4's part 2 needs a VM entry that really fails
(selftest=vmentry)."""
import re

BASIC = "build/guests/basic.elf"
CHECKSUM = "0xf91f694b"
DONE = r"GUEST DONE passed=(\d+) failed=(\d+) checksum=(0x[0-9a-f]+)"
EXITED = r"\[Inferior 1 \(Remote target\) exited normally\]"


def lab(t, name, *args):
    return " ".join([f"vmx lua {t.path('scripts/labs/' + name + '.lua')}", *args])


def waiting(t, hv_args=""):
    m = t.start(hv_args=f"panic=poweroff gdb-wait {hv_args}".strip(), modules=[(BASIC, "guest")], timeout=240)
    t.wait_for(m, r"gdb-wait: the guest waits")
    return m


def guest_done(t, r):
    done = r.expect(DONE)
    t.check(done.group(2) == "0" and done.group(3) == CHECKSUM,
            f"the guest ended with {done.group(0)}, want failed=0 checksum={CHECKSUM}")


def check_ch2(t, out):
    for name in ("PRIMARY_VM_EXEC_CONTROL", "SECONDARY_VM_EXEC_CONTROL"):
        lua = int(t.find(out, rf"^ch2:   {name} +=\s+(0x[0-9a-f]+)$", f"ch2: {name}").group(1), 16)
        gdb = int(t.find(out, rf"^{name} = (0x[0-9a-f]+)$", f"monitor vmcs {name}").group(1), 16)
        t.check(lua == gdb, f"ch2 says {name} = {lua:#x}, monitor vmcs {gdb:#x}")
    # Each control within its MSR: the must-be-1 bits set, nothing past the may-be-1 bits.
    must, may = (int(x, 16) for x in t.find(
        out, r"controls: IA32_VMX_TRUE_PROCBASED_CTLS=0x[0-9a-f]+, must be 1 (0x[0-9a-f]+), may be 1 (0x[0-9a-f]+)",
        "monitor caps: the primary controls' MSR").groups())
    proc = int(t.find(out, r"^ch2:   PRIMARY_VM_EXEC_CONTROL +=\s+(0x[0-9a-f]+)$", "ch2").group(1), 16)
    t.check(proc & must == must and proc & ~may == 0, f"PRIMARY_VM_EXEC_CONTROL {proc:#x} outside "
            f"must {must:#x} / may {may:#x}")
    t.find(out, r"^ch2: EPT on, VPID on, unrestricted guest on \(secondary bits 1, 5, 7\)$", "ch2: EPT")
    t.find(out, r"^ch2: the guest's CPUID\.1:ECX = 0x[0-9a-f]{8}: VMX \(bit 5\) = 0 — hidden from the guest$",
           "ch2: VMX hidden")
    t.find(out, r"^ch2: MTF: not advertised \(IA32_VMX_TRUE_PROCBASED_CTLS does not allow bit 27 MONITOR_TRAP_FLAG "
                r"to be 1\): stepping with TF\+#DB\nch2: so gdb's stepi runs by TF$", "ch2: the MTF verdict")


def check_ch3(t, out, entry):
    t.find(out, r"^ch3: GUEST_RIP +encoding 0x681e: width natural, type guest, index 15$", "ch3: an encoding")
    t.find(out, r"^ch3: EXIT_QUALIFICATION +encoding 0x6400: width natural, type exit-info, index 0$",
           "ch3: a read-only field's encoding")
    t.find(out, rf"^ch3: GUEST_RIP = {entry:#x}, ", "ch3: GUEST_RIP at the gdb-wait stop is the entry point")
    t.find(out, r"^ch3: CS selector 0x[0-9a-f]+, base 0x0, limit 0xffffffff, access rights 0x[0-9a-f]+: "
                r"type 1[15] \(code\), S=1, DPL=0, P=1, L=0, D/B=1, G=1, unusable=0$", "ch3: CS decoded")
    t.find(out, r'^ch3: vmcs.write\("HOST_RIP", 0\): .*HOST_RIP belongs to the hypervisor', "ch3: refused")
    t.find(out, r"^ch3: HOST_RIP still 0x[0-9a-f]+: unchanged$", "ch3: HOST_RIP unchanged")


def check_ch4_part1(t, out):
    t.find(out, r"^ch4: vmcs.write\(GUEST_TR_ACCESS_RIGHTS, 0x1008b\): .*VM entry would fail: "
                r"GUEST_TR_ACCESS_RIGHTS .*\nch4:   GUEST_TR_ACCESS_RIGHTS is 0x8b: unchanged$", "ch4: TR refused")
    t.find(out, r"^ch4: vmcs.write\(GUEST_RFLAGS, 0x0\): .*VM entry would fail: GUEST_RFLAGS .*bit 1"
                r"(.|\n)*?^ch4:   GUEST_RFLAGS is 0x[0-9a-f]+: unchanged$", "ch4: RFLAGS refused")


def check_ch6(t, out, console):
    eptp = int(t.find(out, r"^ch6: EPTP = (0x[0-9a-f]+): PML4 at 0x[0-9a-f]+, memory type 6, page-walk length 4$",
                      "ch6: the EPTP").group(1), 16)
    walk = t.find(out, r"^GPA (0x[0-9a-f]+), EPTP (0x[0-9a-f]+) ", "monitor ept")
    t.check(int(walk.group(2), 16) == eptp, f"monitor ept's EPTP {walk.group(2)} is not ch6's {eptp:#x}")
    for what in ("code", "stack"):
        gva, gpa, hpa = (int(x, 16) for x in t.find(
            out, rf"^ch6: {what} GVA (0x[0-9a-f]+) -> GPA (0x[0-9a-f]+) \(guest paging, CR3 0x[0-9a-f]+\) -> "
                 rf"HPA (0x[0-9a-f]+) \(EPT: rwx, WB, level \d, \d+ KiB page\)$", f"ch6: the {what}").groups())
        t.check(gpa == hpa, f"ch6: guest memory is identity-mapped, yet GPA {gpa:#x} -> HPA {hpa:#x}")
    page = int(t.find(out, r"^ch6: page (0x[0-9a-f]+) is now r-x in the EPT", "ch6: protected").group(1), 16)
    hit = t.find(console, r"ch6: EPT_VIOLATION at rip 0x[0-9a-f]+: write access to GPA (0x[0-9a-f]+) "
                          r"\(linear 0x[0-9a-f]+\): write", "ch6: the violation")
    t.check(int(hit.group(1), 16) & ~0xfff == page, f"the violation at {hit.group(1)} is not in page {page:#x}")
    t.check(len(re.findall(r"ch6: EPT_VIOLATION", console)) == 1, "ch6: more than one violation reported")
    t.find(console, rf"ch6: page {page:#x} is rwx again", "ch6: the rights back")


def check_ch5(t, out, console):
    """From the first instruction to the end: ch5's counts are the hypervisor's."""
    t.find(out, r"^ch5: decoding the next 100000 exits \(not counting the preemption timer\)$", "ch5 armed")
    t.find(console, r"ch5: exit \d+ reason 30 IO_INSTRUCTION at rip 0x[0-9a-f]+: OUT to port 0x3f[89a-f], 1 byte$",
           "ch5: an OUT to COM1 decoded")
    leaf = t.find(console, r"ch5: exit \d+ reason 10 CPUID at rip 0x[0-9a-f]+: leaf (0x[0-9a-f]+), "
                           r"subleaf 0x[0-9a-f]+$", "ch5: a CPUID decoded").group(1)
    t.check(leaf == "0x0", f"the basic guest's first CPUID asks for leaf 0, ch5 says {leaf}")
    seen, summary = t.find(console, r"ch5: (\d+) exits until the guest powered off \(Bochs shutdown port 0x8900\): "
                                    r"(.*)$", "ch5: the summary at power-off").groups()
    ours = dict((k, int(n)) for k, n in re.findall(r"(\w+) (\d+)", summary))
    final = t.find(console, r"\[I\] exits: (\d+) in all, (.*)$", "the hypervisor's counts")
    theirs = dict((k, int(n)) for k, n in re.findall(r"(\w+) (\d+)", final.group(2)))
    theirs.pop("PREEMPTION_TIMER", None)
    t.check(ours == theirs and int(seen) == sum(theirs.values()),
            f"ch5 counted {seen}: {ours}; the hypervisor {theirs}")


def test_labs_for_chapters_2_3_4_5_and_6_on_one_stopped_guest(t):
    m = waiting(t)
    entry = int(t.find(m.console, r"guest: multiboot kernel, .* entry (0x[0-9a-f]+)", "the entry").group(1), 16)
    out = t.gdb(m, f"source {t.path('scripts/gdb/vmxdbg.py')}",
                "monitor caps", lab(t, "ch2-capabilities"),
                "monitor vmcs PRIMARY_VM_EXEC_CONTROL", "monitor vmcs SECONDARY_VM_EXEC_CONTROL",
                lab(t, "ch3-vmcs"), lab(t, "ch4-entry-failure"), lab(t, "ch5-exits", "100000"),
                "break report_expect if $cr0 & 0x80000000", "continue", "delete",
                lab(t, "ch6-ept"), "monitor ept 0x100000",
                "detach", elf=t.path(BASIC), timeout=240)
    check_ch2(t, out)
    check_ch3(t, out, entry)
    check_ch4_part1(t, out)
    r = t.finish(m)
    check_ch6(t, out, r.console)
    check_ch5(t, out, r.console)
    r.forbid(r"removed; the guest continues")
    guest_done(t, r)


test_labs_for_chapters_2_3_4_5_and_6_on_one_stopped_guest.timeout = 400


def test_lab_4_a_failed_entry_explained_and_fixed(t):
    m = waiting(t, "selftest=vmentry")
    out = t.gdb(m, f"source {t.path('scripts/gdb/vmxdbg.py')}", "continue", "monitor why",
                lab(t, "ch4-entry-failure", "fix"), "monitor why", "continue",
                elf=t.path(BASIC), timeout=240)
    t.find(out, r"Program received signal SIGKILL", "the failed entry stops the guest")
    t.find(out, r"VM entry failed with exit reason 33(.|\n)*?TR", "monitor why: the verdict names TR")
    t.find(out, r"^ch4: GUEST_TR_ACCESS_RIGHTS = 0x10000 \(type 0, P=0, unusable=1\)$", "ch4: TR as broken")
    t.find(out, r"^ch4: vmcs.write\(GUEST_TR_ACCESS_RIGHTS, 0x8b\): accepted\n"
                r"ch4:   GUEST_TR_ACCESS_RIGHTS is 0x8b: changed\n"
                r"ch4: fixed: GUEST_TR_ACCESS_RIGHTS = 0x8b \(type 11, P=1, unusable=0\)", "ch4: the fix")
    t.find(out, r"^vCPU 0 can run: the VMCS passes every check the checker knows", "monitor why after the fix")
    t.find(out, EXITED, "the guest ran to its end")
    r = t.finish(m)
    r.expect(r"gdb: the entry checker finds no broken rule: entering the guest again")
    guest_done(t, r)


test_lab_4_a_failed_entry_explained_and_fixed.timeout = 300
