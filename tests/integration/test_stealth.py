"""Hidden breakpoints (issue 13 item 3): the basic guest's selfsum=N
checksums a page of its own code N times, calling a function on it each
round (tests/guests/basic/selfsum.c).  A hidden breakpoint there (execute-
only EPT view with the int3, the guest's own bytes in the read view) fires
N times and the guest's sums equal the bare run's; an int3 breakpoint, as
gdb makes by default, changes them (so the comparison can fail).  Stealth
breakpoints on MMIO (the xAPIC page) and on the hypervisor's region are
refused: gdb gets an error reply, the log says why.
"""
import importlib.util
import os
import re

_spec = importlib.util.spec_from_file_location(
    "integration.test_gdb_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_gdb.py"))
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

BASIC = g.BASIC
ROUNDS = 5
SELFSUM = r"GUEST INFO selfsum: rounds=(\d+) calls=(0x[0-9a-f]+) crc=(0x[0-9a-f]+) near=(0x[0-9a-f]+)"
XAPIC = 0xfee00000


def bare_selfsum(t):
    """The sums with no hypervisor and no breakpoint (QEMU TCG: quick)."""
    r = t.boot(emu="qemu", bare=BASIC, hv_args=f"selfsum={ROUNDS}")
    return r.expect(SELFSUM).groups()


def selfsum_target(t):
    out = g.subprocess.run(["nm", t.path(BASIC)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^([0-9a-f]+) T selfsum_target$", out, re.M).group(1), 16)


COUNT_HITS = r"""
local target = math.tointeger(tonumber((...)))
local hits = 0
local id = bp.add(target, function(addr, vcpu)
  hits = hits + 1
  if addr ~= target then error("hit at " .. addr) end
end)
local ok, err = pcall(bp.add, 0xfee00000, function() end)
print("xapic refused: " .. tostring(not ok) .. ": " .. tostring(err))
hv.on_poweroff(function()
  print(string.format("selfsum hits=%d listed=%d", hits, bp.list()[1].hits))
end)
"""


def test_a_scripts_hidden_breakpoint_fires_each_round_while_the_guest_reads_its_own_bytes(t):
    bare = bare_selfsum(t)
    script = t.write_file("count_hits.lua", COUNT_HITS)
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, f"guest selfsum={ROUNDS}"),
                                                  (script, f"script {selfsum_target(t):#x}")], timeout=120)
    got = r.expect(SELFSUM).groups()
    t.check(got == bare, f"under vmxdbg with a hidden breakpoint the guest summed {got}, bare {bare}")
    r.expect(rf"selfsum hits={ROUNDS} listed={ROUNDS}")
    r.expect(r"xapic refused: true: .*bp.add: no hidden breakpoint at 0xfee00000: it is not guest RAM")
    r.expect(r"stealth: GPA 0xfee00000 is not guest RAM \(MMIO")
    done = r.expect(g.DONE)
    t.check(done.group(2) == "0", f"the guest failed checks: {done.group(0)}")
    r.forbid(r"GUEST FAIL")
    r.expect_poweroff()


test_a_scripts_hidden_breakpoint_fires_each_round_while_the_guest_reads_its_own_bytes.timeout = 150


def gdb_rounds(t, mode_cmds, extra=()):
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, f"guest selfsum={ROUNDS}")], timeout=240)
    t.wait_for(m, g.WAITING)
    hv = t.find(m.console, r"hypervisor region (0x[0-9a-f]+)-", "the hypervisor's region").group(1)
    cmds = list(mode_cmds) + [c.format(hv=hv) for c in extra] + ["break selfsum_target"] + \
        ["continue"] * ROUNDS + ["delete", "monitor bp-mode", "detach"]
    out = g.gdb(t, m, *cmds, timeout=200)
    r = t.finish(m)
    return out, r, hv


def test_gdb_in_bp_mode_stealth_stops_each_round_and_the_guest_sums_as_bare(t):
    bare = bare_selfsum(t)
    out, r, hv = gdb_rounds(t, ["monitor bp-mode stealth"],
                            [f"break *{XAPIC:#x}", "continue", "delete", "break *{hv}", "continue", "delete"])
    t.find(out, r"bp-mode stealth: gdb's breakpoints are hidden", "the mode switched")
    t.check(out.count("Cannot insert breakpoint") == 2, f"both bad breakpoints refused: {out[-1500:]!r}")
    t.find(out, rf"Cannot access memory at address {XAPIC:#x}", "gdb's reading of the E reply (xAPIC)")
    stops = re.findall(r"Breakpoint \d+, (0x[0-9a-f]+ in )?selfsum_target", out)
    t.check(len(stops) == ROUNDS, f"gdb stopped {len(stops)} times at selfsum_target, want {ROUNDS}: {out[-1500:]!r}")
    t.find(out, r"hidden breakpoints: 0 .*\n.*view changes: \d+ to execute, \d+ to data, [1-9]\d* steps on the original bytes",
           "monitor bp-mode's counts")
    got = r.expect(SELFSUM).groups()
    t.check(got == bare, f"with hidden breakpoints the guest summed {got}, bare {bare}")
    r.expect(r"stealth: GPA 0xfee00000 is not guest RAM \(MMIO such as the xAPIC page")
    r.expect(rf"stealth: GPA {hv} is in the hypervisor's region: no hidden breakpoint there")
    done = r.expect(g.DONE)
    t.check(done.group(2) == "0", f"the guest failed checks: {done.group(0)}")
    r.expect_poweroff()


test_gdb_in_bp_mode_stealth_stops_each_round_and_the_guest_sums_as_bare.timeout = 300


def test_int3_breakpoints_the_default_show_in_the_guests_sums(t):
    """The control: the same session in bp-mode int3 changes what the
    guest reads, so the comparison above can fail."""
    bare = bare_selfsum(t)
    out, r, _ = gdb_rounds(t, [])
    stops = re.findall(r"Breakpoint \d+, (0x[0-9a-f]+ in )?selfsum_target", out)
    t.check(len(stops) == ROUNDS, f"gdb stopped {len(stops)} times at selfsum_target, want {ROUNDS}")
    t.find(out, r"bp-mode int3: gdb's breakpoints are int3 bytes", "the default mode")
    got = r.expect(SELFSUM).groups()
    t.check(got[0:2] == bare[0:2], f"the calls were disturbed: {got} vs bare {bare}")
    t.check(got[2] != bare[2] and got[3] != bare[3], f"int3 in memory left the sums as bare: {got}")
    r.expect_poweroff()


test_int3_breakpoints_the_default_show_in_the_guests_sums.timeout = 300


import test_smp_guest as smp  # noqa: E402  (tests/run.py puts this folder on the path)

PER_VCPU = r"""
local hits = {}
for i = 1, select("#", ...) do
  local name, addr = (select(i, ...)):match("^(%w[%w_]*)=(0x%x+)$")
  bp.add(math.tointeger(tonumber(addr)), function(at, vcpu)
    local key = name .. "@" .. vcpu
    hits[key] = (hits[key] or 0) + 1
  end)
end
hv.on_poweroff(function()
  local keys = {}
  for k in pairs(hits) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do print(string.format("hits %s %d", k, hits[k])) end
end)
"""


def test_hidden_breakpoints_hit_on_both_vcpus_of_the_smp_guest_and_its_checksum_holds(t):
    """Both CPUs run work_area_run (and crc32 from it; the BSP once more
    for the checksum) on pages with hidden breakpoints: each hit is seen
    on the vCPU that ran it, and every number the guest prints is still
    the model's."""
    out = g.subprocess.run(["nm", t.path(smp.SMP)], capture_output=True, text=True, check=True).stdout
    syms = {m.group(2): int(m.group(1), 16) for m in re.finditer(r"^([0-9a-f]+) T (\w+)$", out, re.M)}
    script = t.write_file("per_vcpu.lua", PER_VCPU)
    args = " ".join(f"{n}={syms[n]:#x}" for n in ("work_area_run", "crc32"))
    r = t.boot(hv_args="panic=poweroff", modules=[(smp.SMP, "guest apic=xapic"), (script, f"script {args}")],
               cpus=2, timeout=smp.TIMEOUT)
    smp.check_two_cpus(t, r, "xapic")
    for line in ("hits work_area_run@0 1", "hits work_area_run@1 1", "hits crc32@1 1"):
        r.expect(r"^\[I\] lua: " + re.escape(line) + "$")
    bsp_crc = r.expect(r"^\[I\] lua: hits crc32@0 (\d+)$")
    t.check(int(bsp_crc.group(1)) >= 2, f"crc32 ran {bsp_crc.group(1)} times on the BSP, want its work and the checksum")


test_hidden_breakpoints_hit_on_both_vcpus_of_the_smp_guest_and_its_checksum_holds.timeout = 300
