"""gdb on a two-CPU guest (issue 11, items 3 and 4): every vCPU is a thread,
a stop on one stops all (all-stop), a step moves one vCPU when gdb asks for
it (scheduler-locking), and the guest still ends with the checksum of an
undisturbed run.  Guest: tests/guests/smp (ap_only_function runs on the AP
only, bsp_only_function on the BSP only, once per millisecond while it
waits; ap_counter counts on the AP while the BSP waits)."""
import importlib.util
import os
import re


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"integration.{name}_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


session = _load("test_gdb_session")
smp_guest = _load("test_smp_guest")

SMP = "build/guests/smp.elf"
SPIN = 3000000
WAITING = r"gdb-wait: the guest waits"


def waiting_smp_guest(t, args):
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(SMP, f"guest apic=xapic {args}")], cpus=2,
                timeout=900)
    t.wait_for(m, WAITING)
    return m


def threads(t, out, what):
    """`info threads` lines: {thread number: its frame, as gdb printed it}."""
    found = {int(n): frame.strip() for n, frame in
             re.findall(r"^\*?\s+(\d+)\s+Thread \d+ \"[^\"]*\" \([^)]*\)\s+(.*)$", out, re.M)}
    t.check(found, f"{what}: gdb listed no threads")
    return found


def section(out, start, end):
    i = out.index(start)
    return out[i:out.index(end, i)]


def test_every_vcpu_is_a_thread_and_a_stop_on_one_stops_both(t):
    m = waiting_smp_guest(t, f"spin={SPIN}")
    script = os.path.join(t.workdir, "smp.gdb")
    t.write_file(script, f"""
echo @@threads-at-wait\\n
info threads
break ap_only_function
continue
echo @@threads-at-ap\\n
info threads
echo @@end\\n
delete
break bsp_only_function
continue
while ap_counter == 0
  continue
end
echo @@counter\\n
print ap_counter
shell sleep 4
print ap_counter
echo @@threads-before-step\\n
info threads
echo @@end\\n
thread 2
set scheduler-locking on
stepi
echo @@threads-after-step\\n
info threads
echo @@end\\n
set scheduler-locking off
thread 1
continue
echo @@counter-later\\n
print ap_counter
delete
detach
""")
    rc, out = session.run_tool(t, session.gdb_cmd(t, m, SMP, f"source {script}"), timeout=600)
    # At gdb-wait the guest has not started its AP: vCPU 1 is listed, waiting for its SIPI.
    at_wait = section(out, "@@threads-at-wait", "Breakpoint 1")
    t.find(at_wait, r"Thread 2 \"vCPU 1\".*waiting for SIPI", "vCPU 1 listed as waiting for SIPI at gdb-wait")
    # A breakpoint only the AP reaches reports thread 2.
    t.find(out, r"Thread 2 \"vCPU 1\".* hit Breakpoint 1, .*ap_only_function", "the AP's breakpoint in thread 2")
    at_ap = threads(t, section(out, "@@threads-at-ap", "@@end"), "at the AP's breakpoint")
    t.check(sorted(at_ap) == [1, 2], f"threads at the AP's breakpoint: {at_ap}")
    t.check(at_ap[1] != at_ap[2], f"both vCPUs at the same place: {at_ap[1]}")
    # While stopped on the BSP, the AP's counter does not move (all-stop).
    t.find(out, r"Thread 1 \"vCPU 0\".* hit Breakpoint 2, .*bsp_only_function", "the BSP's breakpoint in thread 1")
    counts = [int(v) for v in re.findall(r"^\$\d+ = (\d+)", section(out, "@@counter", "@@threads-before-step"), re.M)]
    t.check(len(counts) == 2 and counts[0] > 0, f"ap_counter readings: {counts}")
    t.check(counts[0] == counts[1], f"ap_counter moved from {counts[0]} to {counts[1]} while the guest was stopped")
    # Stepping thread 2 with scheduler-locking moves vCPU 1 only.
    before = threads(t, section(out, "@@threads-before-step", "@@end"), "before the step")
    after = threads(t, section(out, "@@threads-after-step", "@@end"), "after the step")
    t.check(after[1] == before[1], f"vCPU 0 moved from {before[1]} to {after[1]} during vCPU 1's step")
    t.check(after[2] != before[2], f"vCPU 1 did not move at its step ({before[2]})")
    # After continue, the counter runs again.
    later = [int(v) for v in re.findall(r"^\$\d+ = (\d+)", section(out, "@@counter-later", "detached]"), re.M)]
    t.check(later and later[0] > counts[1], f"ap_counter after continue: {later} (was {counts[1]})")
    r = t.finish(m)
    smp_guest.check_two_cpus(t, r, "xapic", spin=SPIN)


COUNT_BY_VCPU = """
local by_vcpu = {}
hv.on_exit("EPT_VIOLATION", function(e)
  by_vcpu[e.vcpu] = (by_vcpu[e.vcpu] or 0) + 1
  if e.vcpu ~= hv.vcpu() then print("e.vcpu " .. e.vcpu .. " is not hv.vcpu() " .. hv.vcpu()) end
end)
hv.on_poweroff(function()
  local s = hv.stats()
  for _, v in ipairs(hv.vcpus()) do
    print(string.format("vcpu %d: apic %d started=%s hooked=%d stats=%d",
      v.index, v.apic_id, tostring(v.started), by_vcpu[v.index] or 0,
      s.vcpus[v.index].by_reason.EPT_VIOLATION or 0))
  end
end)
"""


def test_a_lua_hook_counts_exits_per_vcpu(t):
    """The SMP guest's xAPIC writes (IPIs, EOIs) are EPT violations on both
    vCPUs: the hook runs on the vCPU that exited, e.vcpu says which, and the
    hook's counts equal hv.stats()'s per-vCPU counts."""
    script = t.write_file("count.lua", COUNT_BY_VCPU)
    r = t.boot(hv_args="panic=poweroff", modules=[(SMP, "guest apic=xapic"), (script, "script")], cpus=2,
               timeout=smp_guest.TIMEOUT)
    smp_guest.check_two_cpus(t, r, "xapic")
    r.forbid(r"is not hv.vcpu\(\)|lua: .*error")
    rows = re.findall(r"vcpu (\d+): apic (\d+) started=(\w+) hooked=(\d+) stats=(\d+)", r.console)
    t.check(len(rows) == 2, f"the power-off hook listed {len(rows)} vCPUs: {rows}")
    for index, apic, started, hooked, stats in rows:
        t.check(index == apic and started == "true", f"vCPU {index}: APIC id {apic}, started={started}")
        t.check(int(hooked) > 0 and hooked == stats,
                f"vCPU {index}: the hook counted {hooked} EPT violations, hv.stats() {stats}")


def test_each_stop_logs_the_ticks_until_the_other_vcpu_parked(t):
    """make bench's stop-all latency (tools/bench_smp.py) is read from this
    line, logged at loglevel=debug by the vCPU that stopped; a stop while
    the AP waits for its SIPI (the gdb-wait stop) parks it too."""
    m = t.start(hv_args="panic=poweroff gdb-wait loglevel=debug", modules=[(SMP, f"guest apic=xapic spin={SPIN}")],
                cpus=2, timeout=900)
    t.wait_for(m, WAITING)
    out = t.gdb(m, "break bsp_only_function", "continue", "continue", "delete", "detach", elf=SMP, timeout=300)
    t.find(out, r"Thread 1 \"vCPU 0\".* hit Breakpoint 1, .*bsp_only_function", "the BSP's breakpoint")
    r = t.finish(m)
    ticks = [int(n) for n in re.findall(r"allstop: vCPU 0 stopped; 1 vCPU parked in (\d+) TSC ticks", r.console)]
    t.check(len(ticks) == 3, f"{len(ticks)} stop-all lines for the gdb-wait stop and two breakpoint hits: {ticks}")
    t.check(all(0 < n < 1_000_000 for n in ticks), f"parking took {ticks} ticks")


def test_lldb_lists_every_vcpu_as_a_thread(t):
    """lldb asks qfThreadInfo and qThreadStopInfo: both vCPUs are threads,
    the one waiting for its SIPI included, and it selects another."""
    m = waiting_smp_guest(t, "spin=1000")
    rc, out = session.run_tool(t, session.lldb_cmd(m, "thread list", "thread select 2", "register read pc",
                                                    "thread select 1", "continue"), name="lldb", timeout=240)
    t.find(out, r"thread #1: tid = 0x0*1", "lldb's thread #1 (vCPU 0)")
    t.find(out, r"thread #2: tid = 0x0*2", "lldb's thread #2 (vCPU 1)")
    t.find(out, r"thread #2\n\s+frame #0: 0x0+\n", "lldb selected thread #2 (at its reset RIP 0)")
    t.find(out, r"exited with status = 0", "lldb saw the guest run to its end")
    r = t.finish(m)
    # lldb may break in once more while the guest runs (its batch mode's
    # end), so a log line can split a console line: the results, not the
    # layout -- the guest's lines with the hypervisor's gdb lines taken out.
    guest = re.sub(r"\[[DIWE]\] gdb: [^\r\n]*\r?\n", "", r.console)
    for line in smp_guest.expected(spin=1000)[1:]:
        t.check(re.search("^" + re.escape(line) + "\r?$", guest, re.M),
                f"the guest's console lacks {line!r}: {guest[-800:]!r}")
    r.forbid(r"unexpected trap|SMP failed|PANIC|EXCEPTION")
