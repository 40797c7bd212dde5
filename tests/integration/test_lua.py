"""Lua in the hypervisor: boot scripts hook exits and change what the guest
sees; a broken, runaway or greedy script is reported and removed while the
guest finishes its work with the same checksum as an undisturbed run.

Then one boot per API family, each checked against what the basic guest
(tests/guests/basic) prints: hooks doing floating point leave the guest's
x87/SSE/AVX registers alone (its fpu group), `regs` and `hv.stats()`,
`mem` by virtual and physical address with the guest's paging on, `ept`
(query, protect, the page-write watcher), `inject` (exception, NMI, held
interrupt), and `monitor lua` and the gdb helper's `vmx lua` over gdb."""
import math
import os
import re
import subprocess

BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=\d+ failed=0 checksum=0xf91f694b"


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
    abuse = t.write_file("abuse.lua", "\n".join([
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
    refused = t.write_file("refused.lua", "\n".join([
        r'print("bytecode:", load("\27Lua\84\0\25\147\13\10\26\10"))',
        'print("read-only:", pcall(vmcs.write, "VM_EXIT_REASON", 1))',
        'print("host state:", pcall(vmcs.write, "HOST_RIP", 0))',
        'print("hv region:", pcall(ept.protect, 0x08000000, 4096, "r--"))',
        'print("unknown field:", pcall(vmcs.read, "GEST_RIP"))',
        'print("unknown reason:", pcall(hv.on_exit, "CPUIDD", function() end))',
        'print("no MTF:", pcall(hv.on_exit, "MONITOR_TRAP_FLAG", function() end))',
    ]))
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest"), (refused, "script")])
    r.expect(r"bytecode:\s+nil\s+.*binary chunk")
    r.expect(r"read-only:\s+false\s+.*VM_EXIT_REASON is a read-only VM-exit information field")
    r.expect(r"host state:\s+false\s+.*HOST_RIP belongs to the hypervisor")
    r.expect(r"hv region:\s+false")
    r.expect(r'unknown field:\s+false\s+.*unknown VMCS field "GEST_RIP"; did you mean GUEST_RIP\?')
    r.expect(r"unknown reason:\s+false\s+.*CPUIDD")
    # Bochs' skylake_x model offers no MTF: the capability adjust drops it (PLATFORM-NOTES).
    r.expect(r"no MTF:\s+false\s+.*MTF is not available on this CPU: MSR 0x48e does not allow "
             r"MONITOR_TRAP_FLAG to be 1, so no MONITOR_TRAP_FLAG exit can happen")
    r.expect(DONE)


# ------------------------------------------------- one API family per boot
# Addresses come from the guest's own symbol table, so the scripts aim at
# the guest's variables and functions, never at guessed numbers.


def symbols(t):
    """name -> (address, size) from `nm -S` of the basic guest."""
    out = subprocess.run(["nm", "-S", t.path(BASIC)], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            table[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return table


def within(table, name, address):
    start, size = table[name]
    return start <= address < start + size


def instructions(t, function, mnemonic):
    """Addresses of the mnemonic's instructions in one guest function."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={function}", t.path(BASIC)],
                         capture_output=True, text=True, check=True).stdout
    return [int(m.group(1), 16) for m in re.finditer(rf"^\s*([0-9a-f]+):\s+{mnemonic}\b", out, re.M)]


FLOAT_HOOK = r"""
-- Floating point in root mode on every CPUID exit: SSE arithmetic, a
-- zero divide and inexact results, and string.format's %.3f, which musl
-- computes in x87 long doubles.  Harmless under the clean state the
-- hypervisor loads; under the guest's own control words (the fpu group
-- unmasks zero-divide and precision, a reset x87 unmasks everything) they
-- would fault in root mode.
local lo, hi, n = tonumber((...)), tonumber((select(2, ...))), 0
hv.on_exit("CPUID", function(e)
  local x = 0
  for i = 1, 50 do x = x + math.sin(i) * 1.5 end
  local zero = n - n
  local inf, text = 1 / zero, string.format("%.3f", x)
  if e.rip < lo or e.rip >= hi then return nil end
  n = n + 1
  if n == 1 or n == 16 then
    print(string.format("float hook %d in fpu_cpuid_exits: x=%s inf=%s cr0=0x%x cr4=0x%x",
      n, text, tostring(inf), regs.cr0, regs.cr4))
  end
end)
"""


def float_hook_boot(t, guest_args):
    syms = symbols(t)
    start, size = syms["fpu_cpuid_exits"]
    hook = t.write_file("float_hook.lua", FLOAT_HOOK)
    return t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest " + guest_args), (hook, f"script {start:#x} {start + size:#x}")])


def test_hooks_doing_floating_point_leave_the_guests_x87_sse_and_avx_registers_alone(t):
    r = float_hook_boot(t, "expect-vmx=0")
    x = sum(math.sin(i) * 1.5 for i in range(1, 51))
    for n in (1, 16):
        m = r.expect(rf"lua: float hook {n} in fpu_cpuid_exits: x=(\S+) inf=inf cr0=(0x[0-9a-f]+) cr4=(0x[0-9a-f]+)")
        t.check(m.group(1) == f"{x:.3f}", f"Lua computed x={m.group(1)}, Python {x:.3f}")
        cr0, cr4 = int(m.group(2), 16), int(m.group(3), 16)
        # The guest's own view (read shadows) while its FPU state is live.
        t.check(cr0 & 0x2 and not cr0 & 0xc, f"regs.cr0={cr0:#x}: want MP set, EM and TS clear")
        t.check(cr4 & 0x600 == 0x600, f"regs.cr4={cr4:#x}: want OSFXSR and OSXMMEXCPT")
    r.forbid(r"float hook 17 ")
    r.expect(r"GUEST INFO fpu-kept: FCW 0x0e7b, MXCSR 0xed00, ST0-7, XMM0-7 and the upper halves of YMM0-7 "
             r"\(AVX\) across 16 CPUIDs")
    r.expect(r"GUEST PASS fpu-kept")
    r.forbid(r"GUEST FAIL|EXCEPTION|PANIC|removed; the guest continues")
    r.expect(DONE)
    r.expect_poweroff()


def test_the_fpu_check_fails_when_a_register_really_changes(t):
    """The same run with the guest zeroing XMM3 itself between load and
    compare: the check reports exactly that register."""
    r = float_hook_boot(t, "expect-vmx=0 fpu-selftest-clobber")
    r.expect(r"lua: float hook 16 in fpu_cpuid_exits")
    r.expect(r"GUEST FAIL fpu-kept: xmm3 differs: got 0x0{32}, want 0x[0-9a-f]{32} \(1 of \d+ items differ\)")
    r.expect(r"GUEST DONE passed=\d+ failed=1 checksum=0xf91f694b")


REGS_AND_STATS = r"""
-- On CPUID leaf 0 in check_cpuid: read the registers, answer the CPUID
-- with EBX changed.  On the 1st and 10th CPUID exit: the exit counts.
local lo, hi = tonumber((...)), tonumber((select(2, ...)))
local handle, calls = nil, 0
local s = hv.stats()
print(string.format("stats at boot: total=%d CPUID=%s", s.total, tostring(s.CPUID)))
handle = hv.on_exit("CPUID", function(e)
  calls = calls + 1
  if calls == 1 or calls == 10 then
    local s = hv.stats()
    print(string.format("stats at hook call %d: total=%d CPUID=%d vcpu=%d e.vcpu=%d vcpu0 CPUID=%d",
      calls, s.total, s.CPUID, hv.vcpu(), e.vcpu, s.vcpus[0].by_reason.CPUID))
  end
  if calls == 1 then
    local v = hv.vcpus()[1]
    print(string.format("vcpus: %d, vcpu0 index=%d started=%s exits=%d, of(0) is the current: %s",
      #hv.vcpus(), v.index, tostring(v.started), v.exits,
      tostring(regs.of(0).rip == regs.rip and vmcs.of(0).read("GUEST_RIP") == e.rip)))
  end
  if calls == 10 then hv.off(handle) end
  local leaf, rip = regs.rax & 0xffffffff, regs.rip
  if leaf ~= 0 or rip < lo or rip >= hi then return nil end
  local a, b, c, d = hv.cpuid(0)
  print(string.format("regs: leaf %d at rip 0x%x (e.rip 0x%x), rflags 0x%x, real vendor %s",
    leaf, rip, e.rip, regs.rflags, string.pack("<I4I4I4", b, d, c)))
  regs.rax, regs.rbx, regs.rcx, regs.rdx = a, string.unpack("<I4", "Lua!"), c, d
  hv.log(string.format("hv.log: rbx is now 0x%x", regs.rbx))
  return "skip"
end)
"""


def test_a_hook_reads_and_writes_registers_and_sees_the_exit_counts(t):
    syms = symbols(t)
    start, size = syms["check_cpuid"]
    leaf0 = instructions(t, "check_cpuid", "cpuid")[0]
    hook = t.write_file("regs.lua", REGS_AND_STATS)
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest expect-vmx=0"), (hook, f"script {start:#x} {start + size:#x}")])
    r.expect(r"lua: stats at boot: total=0 CPUID=nil")
    m = r.expect(r"lua: regs: leaf 0 at rip (0x[0-9a-f]+) \(e\.rip (0x[0-9a-f]+)\), rflags (0x[0-9a-f]+), "
                 r"real vendor (.{12})$")
    rip, e_rip, rflags, vendor = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
    t.check(rip == e_rip == leaf0, f"regs.rip {rip:#x}, e.rip {e_rip:#x}; check_cpuid's first CPUID is at {leaf0:#x}")
    t.check(rflags & 0x2 and not rflags & 0x200, f"rflags {rflags:#x}: want bit 1 set, IF clear")
    r.expect(r"lua: hv\.log: rbx is now 0x2161754c")
    r.expect(rf'GUEST INFO cpuid-leaf0: vendor "Lua!{re.escape(vendor[4:])}"')
    counts = {}
    for m in re.finditer(r"lua: stats at hook call (\d+): total=(\d+) CPUID=(\d+) vcpu=(\d+) e\.vcpu=(\d+) "
                         r"vcpu0 CPUID=(\d+)", r.console):
        n, total, cpuid, vcpu, e_vcpu, cpuid0 = map(int, m.groups())
        # Counted before the hooks run: the hook's nth call is the nth CPUID exit (all on vCPU 0).
        t.check(cpuid == cpuid0 == n and total >= cpuid and vcpu == 0 and e_vcpu == 0,
                f"implausible: {m.group(0)}")
        counts[n] = total
    t.check(sorted(counts) == [1, 10], f"stats printed at hook calls {sorted(counts)}, want 1 and 10")
    t.check(counts[10] >= counts[1] + 9, f"total went from {counts[1]} to {counts[10]} over 9 CPUID exits")
    r.expect(r"lua: vcpus: [1-9]\d*, vcpu0 index=0 started=true exits=[1-9]\d*, of\(0\) is the current: true")
    r.forbid(r"stats at hook call 11")
    r.expect(DONE)
    r.forbid(r"GUEST FAIL|removed; the guest continues")


MEM = r"""
-- The page of readonly_page loses its write right; the guest writes it
-- twice: zeroing .bss (paging off), then in the paging group through its
-- own page tables (4 KiB pages, a 4 MiB alias at 1 GiB, a not-present
-- hole).  That second exit is where mem.* runs.
local a = {}
for _, word in ipairs({ ... }) do
  local k, v = word:match("^(%w+)=(%w+)$")
  a[k] = math.tointeger(tonumber(v))
end
local ALIAS = 0x40000000
local rights = ept.query(a.ro).perms
local armed, violation, cpuid = true, nil, nil
ept.protect(a.ro, 4096, "r-x")

local function show(label, fn, ...)
  local ok, v, why = pcall(fn, ...)
  if type(v) == "number" then v = string.format("0x%x", v) end
  if type(v) == "string" and not ok then v = v:gsub("^.-mem", "mem") end
  print(string.format("mem: %s: %s %s%s", label, ok and "ok" or "error", string.format("%q", v),
    why and " " .. why or ""))
end

violation = ept.on_violation(function(e)
  if e.guest_physical & ~0xfff ~= a.ro then return nil end
  ept.protect(a.ro, 4096, rights)
  armed = false
  if regs.cr0 & 0x80000000 == 0 then
    print(string.format("mem: write with paging off at rip 0x%x", e.rip))
    return "resume"
  end
  print(string.format("mem: paging on, cr3=0x%x, linear 0x%x", regs.cr3, e.guest_linear))
  show("virt_to_phys(note)", mem.virt_to_phys, a.note)
  show("virt_to_phys(alias+note)", mem.virt_to_phys, ALIAS + a.note)
  show("virt_to_phys(hole)", mem.virt_to_phys, a.hole)
  show("u32 canary by alias", mem.read, ALIAS + a.canary, "u32")
  show("u32 canary by phys", mem.read_phys, a.canary, "u32")
  show("note by alias", mem.read, ALIAS + a.note, 17)
  show("note by phys", mem.read_phys, a.note, 17)
  mem.write(ALIAS + a.note, "by-virt.\0")
  show("note by phys after a write by virtual", mem.read_phys, a.note, 8)
  mem.write_phys(a.note + 3, "u32", string.unpack("<I4", "phys"))
  show("note by alias after a write by physical", mem.read, ALIAS + a.note, 8)
  show("u64 note by virtual", mem.read, a.note, "u64")
  show("hypervisor memory", mem.read_phys, 0x08000000, 4)
  show("the hole", mem.read, a.hole, 4)
  hv.off(violation)
  hv.off(cpuid)
  return "resume"
end)

cpuid = hv.on_exit("CPUID", function()
  if not armed then ept.protect(a.ro, 4096, "r-x") armed = true end
end)
"""


def test_guest_memory_is_read_and_written_by_virtual_and_physical_address(t):
    syms = symbols(t)
    addr = {k: syms[v][0] for k, v in
            dict(note="guest_note", ro="readonly_page", hole="hole_page", canary="alias_canary").items()}
    hook = t.write_file("mem.lua", MEM)
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest"), (hook, "script " + " ".join(f"{k}={v:#x}" for k, v in addr.items()))])
    r.expect(r"lua: mem: write with paging off at rip 0x[0-9a-f]+")
    r.expect(r"lua: mem: paging on, cr3=0x[0-9a-f]+, linear " + f"{addr['ro']:#x}")

    def shown(label, want):
        m = r.expect(rf"lua: mem: {re.escape(label)}: (ok|error) (.*)$")
        t.check(re.fullmatch(want, m.group(1) + " " + m.group(2)), f"{label}: {m.group(1)} {m.group(2)}; want /{want}/")

    shown("virt_to_phys(note)", rf'ok "{addr["note"]:#x}"')
    shown("virt_to_phys(alias+note)", rf'ok "{addr["note"]:#x}"')
    shown("virt_to_phys(hole)", r'ok nil guest-virtual .* is not mapped.*')
    shown("u32 canary by alias", r'ok "0x600dcafe"')
    shown("u32 canary by phys", r'ok "0x600dcafe"')
    shown("note by alias", r'ok "nobody wrote here"')
    shown("note by phys", r'ok "nobody wrote here"')
    shown("note by phys after a write by virtual", r'ok "by-virt\."')
    shown("note by alias after a write by physical", r'ok "by-phys\."')
    shown("u64 note by virtual", r'ok "0x2e737968702d7962"')
    shown("hypervisor memory", r'error ".*0x8000000 \(4 bytes\) is the hypervisor\'s memory"')
    shown("the hole", r'error ".*is not mapped by the guest\'s page tables.*"')
    r.expect(r'GUEST INFO note: "by-phys\."')
    r.expect(r"GUEST PASS cr0-wp-protect")
    r.expect(DONE)
    r.forbid(r"GUEST FAIL|removed; the guest continues|ept: violation")


BIG_PAGE_GPA = 0x800000     # guest memory well away from the image: EPT maps it with large pages
EPT_QUERY = r"""
local gpa = math.tointeger(tonumber((...)))
local q = ept.query(gpa)
print(string.format("ept.query(0x%x): present=%s hpa=0x%x perms=%s memtype=%s level=%d page_size=0x%x",
  gpa, tostring(q.present), q.hpa, q.perms, q.memtype, q.level, q.page_size))
"""


def test_the_page_write_watcher_names_the_writers_and_ept_query_shows_the_mapping(t):
    syms = symbols(t)
    buf, size = syms["work_buffer"]
    page = buf & ~0xfff
    zeroing = instructions(t, "_start", "rep stos")[0]
    query = t.write_file("query.lua", EPT_QUERY)
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest"), (query, f"script {buf + 8:#x}"),
        ("scripts/ept_write_watch.lua", f"script gpa={buf + 8:#x} limit=5"), (query, f"script {buf + 8:#x}"),
        (query, f"script {BIG_PAGE_GPA + 0x1234:#x}")])
    found = re.findall(r"lua: ept\.query\((0x[0-9a-f]+)\): present=true hpa=(0x[0-9a-f]+) perms=(\S+) "
                       r"memtype=(\S+) level=(\d) page_size=(0x[0-9a-f]+)", r.console)
    t.check(len(found) == 3, f"{len(found)} ept.query lines, want 3 (before and after the watcher, a big page)")
    sizes = {1: 0x1000, 2: 0x200000, 3: 0x40000000}
    for (gpa, hpa, perms, memtype, level, page_size), want in zip(found, ("rwx", "r-x", "rwx")):
        gpa, hpa, level, page_size = int(gpa, 16), int(hpa, 16), int(level), int(page_size, 16)
        t.check(perms == want and memtype == "WB", f"page 0x{page:x}: {perms} {memtype}, want {want} WB")
        t.check(sizes.get(level) == page_size, f"level {level} with a page of {page_size:#x}")
        t.check(hpa % page_size == gpa % page_size, f"hpa {hpa:#x} is not at gpa {gpa:#x}'s offset in its page")
    t.check(int(found[1][5], 16) == 0x1000, "a protected page should be mapped by a 4 KiB entry")
    t.check(int(found[2][5], 16) > 0x1000, f"guest memory at {BIG_PAGE_GPA:#x} is mapped by 4 KiB pages")
    r.expect(rf"lua: ept_write_watch: watching guest-physical page 0x{page:x} \(rwx -> r-x\)")
    writes = re.findall(r"^\[I\] lua: write #(\d) to (0x[0-9a-f]+) \(linear (0x[0-9a-f]+)\) by rip (0x[0-9a-f]+): (.*)$",
                        r.console, re.M)
    t.check([int(w[0]) for w in writes] == [1, 2, 3, 4, 5], f"writes numbered {[w[0] for w in writes]}, want 1-5")
    for n, gpa, linear, rip, what in writes:
        gpa, linear, rip = int(gpa, 16), int(linear, 16), int(rip, 16)
        t.check(buf <= gpa < buf + size and linear == gpa, f"write #{n} to {gpa:#x} (linear {linear:#x}) "
                f"is not into work_buffer {buf:#x}")
        t.check(what.startswith("write to a page mapped r-x"), f"write #{n} described as {what!r}")
        # The guest zeroes its .bss first; then only work_round writes the page.
        ok = rip == zeroing if n == "1" else within(syms, "work_round", rip)
        t.check(ok, f"write #{n} by rip {rip:#x}, want " + ("_start's rep stos" if n == "1" else "work_round"))
    r.expect(rf"lua: ept_write_watch: limit reached; page 0x{page:x} left rwx")
    r.expect(DONE)
    r.forbid(r"GUEST FAIL|removed; the guest continues|guest stopped")


def test_injected_exception_nmi_and_interrupt_reach_the_guest_where_they_should(t):
    syms = symbols(t)
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, "guest injected=6 injected=2 injected=0x41 skip=hlt,events"),
        ("scripts/inject_demo.lua", "script"),
        ("scripts/inject_demo.lua", "script at=CPUID:5 nmi"),
        ("scripts/inject_demo.lua", "script at=CPUID:7 interrupt=0x41")])
    r.expect(r"lua: inject_demo: exception 0x6 at CPUID #3")
    ud = int(r.expect(r"lua: inject_demo: exception 6 at rip 0x([0-9a-f]+) instead of its CPUID").group(1), 16)
    nmi = int(r.expect(r"lua: inject_demo: NMI queued at rip 0x([0-9a-f]+)").group(1), 16)
    irq = int(r.expect(r"lua: inject_demo: interrupt 0x41 queued at rip 0x([0-9a-f]+)").group(1), 16)
    # A fault in place of the CPUID: the handler sees the CPUID itself, which then runs again.
    r.expect(rf"GUEST INFO injected: #UD \(vector 6\) error=0x0 eip={ud:#x}$")
    # An NMI after the CPUID completed: the next instruction.
    r.expect(rf"GUEST INFO injected: NMI \(vector 2\) error=0x0 eip={nmi + 2:#x}$")
    # An interrupt while IF=0: held until the guest's one interrupt window (the
    # hlt and events groups open windows of their own, so they are skipped).
    eip = int(r.expect(r"GUEST INFO injected: interrupt \(vector 65\) error=0x0 eip=0x([0-9a-f]+)$").group(1), 16)
    t.check(within(syms, "interrupt_window", eip), f"interrupt 0x41 arrived at {eip:#x}, "
            f"not in the guest's interrupt window (queued at {irq:#x})")
    t.check(len(re.findall(r"GUEST INFO injected:", r.console)) == 3, "an event arrived more than once")
    r.expect(r"GUEST PASS injected")
    r.expect(DONE)
    r.forbid(r"GUEST FAIL|removed; the guest continues")


UPLOAD = "\n".join([
    "-- uploaded by the gdb helper: newlines and backslashes survive the trip",
    "local parts = {}",
    "for i = 1, 3 do",
    '  parts[#parts + 1] = string.format("line %d", i)',
    "end",
    r'print(table.concat(parts, ",") .. " \\ done")',
    r'print("two\nlines")',
    "return #parts",
    ""])


def test_monitor_lua_and_the_gdb_helper_run_chunks_while_the_guest_waits(t):
    upload = t.write_file("upload.lua", UPLOAD)
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest")])
    t.wait_for(m, r"gdb-wait")
    out = t.gdb(m, "monitor lua return 1+1",
                "monitor lua print(vmcs.read('GUEST_RIP'))",
                "monitor lua error('x')",
                f"source {t.path('scripts/gdb/vmxdbg.py')}",
                f"vmx lua {upload}",
                "detach")
    r = t.finish(m)
    entry = int(r.expect(r"guest: multiboot kernel, .* entry (0x[0-9a-f]+)").group(1), 16)
    t.check(re.search(r"^2 \(0x2\)$", out, re.M), f"`return 1+1` did not print 2: {out[-400:]!r}")
    t.check(re.search(rf"^{entry}$", out, re.M), f"GUEST_RIP is not the entry point {entry:#x}: {out[-400:]!r}")
    t.check(re.search(r"^error: monitor:1: x\n\s*stack traceback:", out, re.M),
            f"error('x') without its traceback: {out[-400:]!r}")
    t.check(re.search(r"^line 1,line 2,line 3 \\ done\ntwo\nlines\n3 \(0x3\)$", out, re.M),
            f"the uploaded file's output is wrong: {out[-400:]!r}")
    r.expect(r"gdb: detached; the guest runs on")
    r.expect(DONE)
    r.expect_poweroff()


def test_a_failing_boot_script_is_named_by_its_file_in_the_traceback(t):
    failing = t.write_file("fails_here.lua", "local function inner()\n  error('deliberate')\nend\ninner()\n")
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest"), (failing, "script")])
    r.expect(r"lua: fails_here\.lua: fails_here\.lua:2: deliberate")
    r.expect(r"lua:\s+fails_here\.lua:4: in main chunk")
    r.forbid(r"script \d+:")
    r.expect(DONE)


def test_the_gdb_helper_sends_a_file_of_any_size_and_monitor_lua_shows_tables(t):
    walk = t.path("scripts/vmcs_walk.lua")
    t.check(os.path.getsize(walk) > 4000, "vmcs_walk.lua fits one packet now: pick a larger file")
    broken = t.write_file("broken.lua", "-- a line of padding, so that the file needs several parts\n" * 150
                    + "print('args:', ...)\nlocal x = nil\nreturn x.field\n")
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest")], timeout=120)
    t.wait_for(m, r"gdb-wait")
    out = t.gdb(m, f"source {t.path('scripts/gdb/vmxdbg.py')}",
                f"vmx lua {walk}",
                f"vmx lua {broken} one two",
                "monitor lua hv.stats()",
                "monitor lua ept.query(0x100000)",
                "monitor help",
                "detach")
    r = t.finish(m)
    entry = int(r.expect(r"guest: multiboot kernel, .* entry (0x[0-9a-f]+)").group(1), 16)
    t.check("== Naming a field" in out and "== VM-exit information fields" in out,
            f"vmcs_walk.lua did not run whole: {out[-600:]!r}")
    t.check(re.search(rf"^  GUEST_RIP +681e +natural +0x{entry:016x}$", out, re.M),
            f"vmcs_walk.lua's GUEST_RIP line is missing or wrong: {out[-600:]!r}")
    t.check(re.search(r"^args:\tone\ttwo\nerror: broken\.lua:153: attempt to index a nil value \(local 'x'\)\n"
                      r"\s*stack traceback:(?:\n.*)*?broken\.lua:153: in main chunk", out, re.M),
            f"broken.lua's arguments or error: {out[-600:]!r}")
    t.check(re.search(r"^\{ (?:\w+ = \d+ \(0x[0-9a-f]+\), )*total = \d+ \(0x[0-9a-f]+\), vcpus = \{ "
                      r"\[0 \(0x0\)\] = \{ by_reason = \{\.\.\.\}, exits = \d+ \(0x[0-9a-f]+\) \}.* \} \}$", out, re.M),
            f"hv.stats() is not shown as a table: {out[-600:]!r}")
    t.check(re.search(r"^\{ accessed = \w+, dirty = \w+, hpa = 1048576 \(0x100000\), level = \d \(0x\d\), "
                      r"memtype = \"WB\", page_size = \d+ \(0x[0-9a-f]+\), perms = \"rwx\", present = true \}$",
                      out, re.M), f"ept.query() is not shown as a table: {out[-600:]!r}")
    help = out[out.find("vmxdbg monitor commands"):].splitlines()[1:]
    help = [line for line in help if line.startswith("  ")]
    names = [line.split()[0] for line in help]
    t.check({"lua", "lua-begin", "lua-part", "lua-end", "vmcs"} <= set(names), f"monitor help lists {names}")
    # "  name ARGS", then two spaces or more, then what it does: in one column.
    t.check(any(line.startswith("  lua-part HEX  ") for line in help), f"lua-part's usage is not `lua-part HEX`: {help}")
    columns = {re.match(r"  \S+(?: \S+)* {2,}", line).end() for line in help}
    t.check(len(columns) == 1, f"monitor help's descriptions start in columns {sorted(columns)}: {help}")
    t.check(all(line.split()[1] != line.split()[0] for line in help), f"monitor help repeats a name: {help}")
    r.expect(DONE)


test_the_gdb_helper_sends_a_file_of_any_size_and_monitor_lua_shows_tables.timeout = 300


def test_exit_tracer_prints_its_summary_when_the_guest_powers_off(t):
    # Every exit includes one per console byte (the data port is trapped so
    # lines stay whole), each logged: a few thousand lines to COM1.
    r = t.boot(hv_args="panic=poweroff", timeout=240, modules=[
        (BASIC, "guest"), ("scripts/exit_tracer.lua", "script limit=100000")])
    r.expect(r"lua: exit_tracer: tracing every exit but PREEMPTION_TIMER, 100000 exits")
    r.expect(DONE)
    r.expect(r"guest: powered off \(Bochs shutdown port 0x8900\)")
    m = r.expect(r"lua: exit_tracer: guest powered off \(Bochs shutdown port 0x8900\) after (\d+) exits: (.*)$")
    traced = re.findall(r"lua: exit +\d+ (\w+) ", r.console)
    t.check(int(m.group(1)) == len(traced) > 0, f"summary says {m.group(1)} exits, {len(traced)} were traced")
    want = ", ".join(f"{name} {n}" for name, n in sorted(
        {name: traced.count(name) for name in traced}.items(), key=lambda kv: (-kv[1], kv[0])))
    t.check(m.group(2) == want, f"summary {m.group(2)!r}, the trace counts {want!r}")
    t.check("PREEMPTION_TIMER" not in traced, "the default traced the preemption timer")
    r.expect_poweroff()


def test_make_run_passes_each_script_the_words_after_it(t):
    """`make run SCRIPTS="a.lua ARGS b.lua ARGS"` (tools/run.py --scripts):
    the arguments reach each script's `...`; a first word that is no .lua
    file is refused with the syntax."""
    run = [t.path("tools/run.py"), "--elf", t.path("build/vmxdbg.elf"), "--guest", t.path(BASIC),
           "--workdir", os.path.join(t.workdir, "run"), "--gdb-port", "0", "--timeout", "120"]
    p = subprocess.run(run + ["--scripts", "at=HLT:1 scripts/inject_demo.lua"], capture_output=True, text=True)
    t.check(p.returncode != 0 and "name a .lua file first, then its arguments" in p.stderr,
            f"a SCRIPTS without a leading .lua file: status {p.returncode}, {p.stderr[-300:]!r}")
    p = subprocess.run(run + ["--scripts", "scripts/cpuid_spoof.lua vendor=ArgsReachLua hide=aes "
                              "scripts/exit_tracer.lua CPUID limit=2"],
                       capture_output=True, text=True, cwd=t.path("."))
    t.check(p.returncode == 0, f"run.py failed ({p.returncode}): {(p.stderr or p.stdout)[-300:]!r}")
    t.check('lua: cpuid_spoof: vendor "ArgsReachLua", hiding aes' in p.stdout, "cpuid_spoof's arguments are lost")
    t.check('GUEST INFO cpuid-leaf0: vendor "ArgsReachLua"' in p.stdout, "the guest did not see the spoofed vendor")
    t.check("lua: exit_tracer: done after 2 exits: CPUID 2" in p.stdout, "exit_tracer's arguments are lost")
    t.check(re.search(DONE, p.stdout), "the guest did not finish")


test_make_run_passes_each_script_the_words_after_it.timeout = 200


def test_every_example_script_shows_something_with_its_defaults(t):
    """Each shipped script, no arguments, on the basic guest: the defaults
    aim at what any guest does (CPUID, HLT, I/O, MSRs, its own stack)."""
    names = ["exit_tracer", "cpuid_spoof", "msr_logger", "ept_write_watch", "vmcs_walk", "inject_demo"]
    r = t.boot(hv_args="panic=poweroff", timeout=60,
               modules=[(BASIC, "guest injected=6")] + [(f"scripts/{n}.lua", "script") for n in names])
    r.expect(r"lua: exit +1 \w+ +rip=[0-9a-f]{16}")
    r.expect(r'GUEST INFO cpuid-leaf0: vendor "VmxDbgLuaCPU"')
    r.expect(r"lua: rdmsr \S+ at rip [0-9a-f]+")
    r.expect(r"lua: ept_write_watch: watching guest-physical page 0x[0-9a-f]+, the guest's stack \(rwx -> r-x\)")
    r.expect(r"lua: write #1 to 0x[0-9a-f]+ \(linear 0x[0-9a-f]+\) by rip 0x[0-9a-f]+")
    r.expect(r"lua: == Naming a field")
    r.expect(r"GUEST INFO injected: #UD \(vector 6\)")
    r.forbid(r"boot script.* failed|removed; the guest continues")
    r.expect(r"GUEST DONE")


def test_end_of_run_hooks_run_when_gdb_kills_the_guest_or_a_dead_guest_powers_off(t):
    """hv.on_poweroff's `fn(how)` runs on every way the run ends with a
    power-off, not only the guest's own: gdb's `kill`, and a guest that cannot
    run on under panic=poweroff (selftest=vmentry breaks its first entry)."""
    summary = t.write_file("summary.lua",
                     'hv.on_poweroff(function(how) hv.log("summary: run ended (" .. how .. ")") end)\n')
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest"), (summary, "script")])
    t.wait_for(m, r"gdb-wait: the guest waits")
    t.gdb(m, "kill", elf=t.path(BASIC))
    r = t.finish(m)
    r.expect(r"gdb: kill request: powering off")
    r.expect(r"lua: summary: run ended \(gdb kill\)")
    r.expect_poweroff()
    r = t.boot(hv_args="panic=poweroff selftest=vmentry", modules=[(BASIC, "guest"), (summary, "script")])
    r.expect(r"lua: summary: run ended \(the guest could not run on\)")
    r.expect_poweroff()
