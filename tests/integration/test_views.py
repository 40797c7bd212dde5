"""Views that explain themselves (issue 12 item 6), through real gdb:
`monitor vmcs` names every set control bit and puts VM_INSTRUCTION_ERROR
in words without changing it (fields the CPU lacks are never read);
`monitor exit` decodes the last exit; `monitor why` gives the entry
checker's verdict; `monitor ept GPA` walks the EPT entry by entry and says
why an address outside the guest has no walk to show."""
import re

BASIC = "build/guests/basic.elf"


def waiting(t, hv_args=""):
    m = t.start(hv_args=f"panic=poweroff gdb-wait {hv_args}".strip(), modules=[(BASIC, "guest")], timeout=120)
    t.wait_for(m, r"gdb-wait: the guest waits")
    return m


def control_bits(out, field):
    """The bit numbers the dump lists under field."""
    at = out.index(f"  {field} ")
    bits = []
    for line in out[at:].splitlines()[1:]:
        b = re.match(r"^\s+bit\s+(\d+) ", line)
        if not b:
            break
        bits.append(int(b.group(1)))
    return bits


def test_the_dump_names_control_bits_and_leaves_the_instruction_error_alone(t):
    m = waiting(t)
    out = t.gdb(m, "monitor vmcs VM_INSTRUCTION_ERROR", "monitor vmcs PRIMARY_VM_EXEC_CONTROL",
                "monitor vmcs SECONDARY_VM_EXEC_CONTROL", "monitor vmcs", "monitor vmcs VM_INSTRUCTION_ERROR",
                "detach", elf=t.path(BASIC), timeout=120)
    errors = re.findall(r"^VM_INSTRUCTION_ERROR = (0x[0-9a-f]+)", out, re.M)
    # Nothing has failed before the first VMLAUNCH: 0, and 0 after the dump
    # (it once read fields Bochs lacks and left 12 behind, as did the save
    # of the VMCS at every debugger stop).
    t.check(errors == ["0x0", "0x0"], f"VM_INSTRUCTION_ERROR before and after the dump: {errors}")
    t.find(out, r"^  VM_INSTRUCTION_ERROR\s+4400\s+0x0+\n\s+= 0: no error", "the error in words")
    for field in ("PRIMARY_VM_EXEC_CONTROL", "SECONDARY_VM_EXEC_CONTROL"):
        value = int(t.find(out, rf"^{field} = (0x[0-9a-f]+)", field).group(1), 16)
        want = [b for b in range(32) if value >> b & 1]
        t.check(control_bits(out, field) == want, f"{field} 0x{value:x}: the dump lists bits "
                f"{control_bits(out, field)}, want {want}")
    t.find(out, r"bit 31 ACTIVATE_SECONDARY_CONTROLS", "the primary controls by name")
    t.find(out, r"bit  1 ENABLE_EPT", "the secondary controls by name")
    t.find(out, r"^  VM_ENTRY_CONTROLS .*\n(\s+bit .*\n)*\s+bit  9 IA32E_MODE_GUEST|^  VM_ENTRY_CONTROLS",
           "the entry controls")
    t.find(out, r"^  VM_ENTRY_INTERRUPTION_INFO .*\n\s+= (not valid|valid, )", "the injection field in words")
    t.find(out, r"^  VM_EXIT_REASON .*\n\s+= \d+ [A-Z_]+ \(", "the exit reason in words")
    t.finish(m)


def test_exit_why_and_the_ept_walk_at_a_breakpoint(t):
    m = waiting(t)
    hv = t.find(m.console, r"hypervisor region (0x[0-9a-f]+)-", "the hypervisor's region").group(1)
    out = t.gdb(m, "break report_expect", "continue", "monitor exit", "monitor why",
                "monitor ept 0x100000", "monitor ept 0x1000000000000", "monitor ept 0x100000000",
                f"monitor ept {hv}", "delete", "detach",
                elf=t.path(BASIC), timeout=120)
    t.find(out, r"^vCPU 0, last VM exit \(of \d+\):", "monitor exit's heading")
    t.find(out, r"^  reason\s+0x00000000 = 0 EXCEPTION_NMI", "a breakpoint stops on an exception exit")
    t.find(out, r"^  interruption\s+0x[0-9a-f]+ = valid, software exception, vector 3 \(#BP\)", "#BP in words")
    t.find(out, r"^  IDT-vectoring\s+0x[0-9a-f]+ = ", "IDT-vectoring information")
    t.find(out, r"^  instruction\s+length 1, information 0x[0-9a-f]+ = not defined for this reason",
           "instruction length (int3: 1 byte) and information")
    t.find(out, r"^vCPU 0 can run: the VMCS passes every check the checker knows", "monitor why, live")
    walk = t.find(out, r"^GPA 0x100000, EPTP 0x[0-9a-f]+ \(PML4 at 0x[0-9a-f]+\):\n"
                       r"  PML4E @0x[0-9a-f]+ = 0x[0-9a-f]{16}: [r-][w-][x-], next table 0x[0-9a-f]+\n"
                       r"  PDPTE @0x[0-9a-f]+ = 0x[0-9a-f]{16}: [r-][w-][x-], next table 0x[0-9a-f]+\n"
                       r"  PDE   @0x[0-9a-f]+ = 0x[0-9a-f]{16}: .*\n", "the walk")
    t.find(out, r"(2 MiB page|4 KiB page) 0x[0-9a-f]+, memory type WB \(6\)", "the leaf's bits")
    t.find(out, r"^GPA 0x100000 -> HPA 0x[0-9a-f]+", "the translation")
    t.find(out, r"^GPA 0x1000000000000 is beyond what a 4-level EPT translates", "a GPA past 48 bits")
    t.find(out, r"^GPA 0x100000000: not mapped \(not guest memory\)", "a GPA beyond the guest's memory")
    t.find(out, rf"^GPA {hv} is in the hypervisor's region", "the hypervisor's region in a sentence")
    t.find(out, rf"^GPA {hv}: not mapped", "no translation there")
    t.finish(m)


def test_why_gives_gdb_the_checkers_verdict_on_a_failed_entry(t):
    """selftest=vmentry marks TR unusable before VMLAUNCH (SDM 27.3.1.2)."""
    m = waiting(t, "selftest=vmentry")
    out = t.gdb(m, "continue", "monitor why", "monitor vmcs GUEST_TR_ACCESS_RIGHTS 0x8b", "monitor why",
                "detach", elf=t.path(BASIC), timeout=120)
    why = out[out.index("Program received signal SIGKILL"):]
    t.find(why, r"^the guest cannot run: VM entry failed", "the reason")
    t.find(why, r"^vmentry:   .*TR", "the rule about TR, in gdb")
    t.find(why, r"^vCPU 0: the checker found|^the guest cannot run", "the second verdict")
    t.finish(m)


def test_the_views_follow_the_selected_vcpu(t):
    """Two vCPUs (tests/guests/smp): stopped where the AP runs, `thread 1`
    and `thread 2` give each vCPU's own last exit and verdict.  gdb sends Hg
    only when it reads registers it has not cached: `flushregs` and a
    register read make it select the thread in the stub."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[("build/guests/smp.elf", "guest apic=xapic")],
                cpus=2, timeout=900)
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "break ap_only_function", "continue", "delete", "thread 1", "flushregs", "p $pc", "monitor exit",
                "monitor why", "thread 2", "flushregs", "p $pc", "monitor exit", "monitor why", "monitor vmcs VM_INSTRUCTION_ERROR", "monitor vmcs",
                "monitor vmcs VM_INSTRUCTION_ERROR", "detach", elf=t.path("build/guests/smp.elf"), timeout=300)
    named = re.findall(r"^vCPU (\d), last VM exit", out, re.M)
    t.check(named == ["0", "1"], f"monitor exit named vCPUs {named}, want 0 then 1")
    t.check(re.findall(r"^vCPU (\d) can run: the VMCS passes", out, re.M) == ["0", "1"],
            "monitor why judged each vCPU")
    ap = out[out.rindex("vCPU 1, last VM exit"):]
    t.find(ap, r"^  reason\s+0x00000000 = 0 EXCEPTION_NMI", "the AP stopped on its breakpoint")
    errors = re.findall(r"^VM_INSTRUCTION_ERROR = (0x[0-9a-f]+)", out, re.M)
    t.check(len(errors) == 2 and errors[0] == errors[1], f"the AP's VM_INSTRUCTION_ERROR around the dump: {errors}")
    t.finish(m)
