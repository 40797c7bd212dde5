"""Lua in the hypervisor: boot scripts hook exits and change what the guest
sees; a broken, runaway or greedy script is reported and removed while the
guest finishes its work with the same checksum as an undisturbed run."""
import os

BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=\d+ failed=0 checksum=0xf91f694b"


def script(t, name, text):
    """A script file of the test's own, as a module path."""
    os.makedirs(t.workdir, exist_ok=True)
    path = os.path.join(t.workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_cpuid_spoofer_changes_the_vendor_and_hides_a_feature(t):
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest expect-vmx=0"),
        ("scripts/cpuid_spoof.lua", "script vendor=VmxDbgLuaCPU hide=rdrand")])
    r.expect(r"lua: Lua 5\.4 ready: heap \d+ KiB")
    r.expect(r'lua: cpuid_spoof: vendor "VmxDbgLuaCPU", hiding rdrand')
    r.expect(r'GUEST INFO cpuid-leaf0: vendor "VmxDbgLuaCPU"')
    ecx = int(r.expect(r"GUEST INFO cpuid-vmx: CPUID\.1:ECX\.VMX=0 \(ecx=(0x[0-9a-f]+)").group(1), 16)
    t.check(not ecx & (1 << 30), f"RDRAND (ECX bit 30) still visible: ecx={ecx:#x}")
    r.expect(DONE)
    r.expect_poweroff()


def test_exit_tracer_logs_the_exits_it_was_asked_for_then_removes_itself(t):
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest"), ("scripts/exit_tracer.lua", "script CPUID limit=3")])
    for n in (1, 2, 3):
        r.expect(rf"lua: exit +{n} CPUID +rip=[0-9a-f]{{16}} qual=0")
    r.forbid(r"lua: exit +4 ")
    r.expect(r"lua: exit_tracer: done after 3 exits: CPUID 3")
    r.expect(DONE)


def test_broken_runaway_and_greedy_hooks_are_removed_and_the_guest_finishes(t):
    abuse = script(t, "abuse.lua", "\n".join([
        'hv.on_exit("CPUID", function(e) while true do end end)',
        'hv.on_exit("CPUID", function(e) local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000) end end)',
        'hv.on_exit("CPUID", function(e) error("boom from a hook") end)',
        'hv.on_exit("CPUID", function(e) return string.rep("a", 40):find(string.rep("a*", 20) .. "b") end)',
        'hv.on_exit("CPUID", function(e) while true do pcall(function() while true do end end) end end)',
    ]))
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest"), (abuse, "script")])
    r.expect(r"instruction budget exhausted \(1000000 instructions per call\)")
    r.expect(r"on CPUID: not enough memory")
    r.expect(r"boom from a hook\n(?:.*\n)*?.*stack traceback")
    r.expect(r"instruction budget exhausted in pattern matching")
    t.check(r.console.count("removed; the guest continues") >= 5, "fewer than five hooks were removed")
    r.expect(DONE)
    r.forbid(r"EXCEPTION|PANIC")
    r.expect_poweroff()


def test_what_a_script_may_not_do_is_refused_with_a_reason(t):
    refused = script(t, "refused.lua", "\n".join([
        r'print("bytecode:", load("\27Lua\84\0\25\147\13\10\26\10"))',
        'print("read-only:", pcall(vmcs.write, "VM_EXIT_REASON", 1))',
        'print("host state:", pcall(vmcs.write, "HOST_RIP", 0))',
        'print("hv region:", pcall(ept.protect, 0x08000000, 4096, "r--"))',
        'print("unknown field:", pcall(vmcs.read, "GEST_RIP"))',
        'print("unknown reason:", pcall(hv.on_exit, "CPUIDD", function() end))',
    ]))
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest"), (refused, "script")])
    r.expect(r"bytecode:\s+nil\s+.*binary chunk")
    r.expect(r"read-only:\s+false\s+.*VM_EXIT_REASON is a read-only VM-exit information field")
    r.expect(r"host state:\s+false\s+.*HOST_RIP belongs to the hypervisor")
    r.expect(r"hv region:\s+false")
    r.expect(r'unknown field:\s+false\s+.*unknown VMCS field "GEST_RIP"; did you mean GUEST_RIP\?')
    r.expect(r"unknown reason:\s+false\s+.*CPUIDD")
    r.expect(DONE)
