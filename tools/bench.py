#!/usr/bin/env python3
"""make bench: deterministic figures from Bochs.

With `clock: sync=none` Bochs advances the TSC once per executed
instruction, in root and non-root mode alike, so TSC deltas are exact,
repeatable instruction counts.  Each figure compares the same guest loop run
under vmxdbg and bare (GRUB starting the guest directly): the difference per
iteration is what the hypervisor executes per VM exit round trip.

The RSP figures (round trips and bytes per gdb command against QEMU's own
stub, wall milliseconds per round trip, break-in latency with and without
a high exit rate) come from tools/bench_gdb.py, under "rsp"; the
multiprocessor figures (stop-all latency, emulated xAPIC write, start-up with
1 and 2 CPUs) from tools/bench_smp.py, under "smp"; hidden breakpoints (per
hit, per guest read of a split page) from tools/bench_stealth.py, under
"stealth"; the APIC-mode figures (instructions per delivered interrupt bare,
pass-through and apic=virtual) from tools/bench_apic.py, under "apic".
Linux with 2 CPUs takes
~10 minutes: `make bench-linux` (tools/linux-guest.py measure --cpus 2).

Writes build/bench.json and prints a table.
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_gdb  # noqa: E402
import bench_smp  # noqa: E402
import bench_stealth  # noqa: E402
import emu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 20000
IO_PORT = 0x2FF          # the debug UART's scratch register: trapped under vmxdbg
CONSOLE_BYTES = 256      # bench=com1: a line to the console, whose data port vmxdbg traps
SELF_IPIS = 1000         # bench=selfipi: interrupts the guest sends itself through its xAPIC
# The CPUID round trip: 107 without the exit trace, + 15 with it (on by default).
TARGETS = {"cpuid_exit_instructions": 122, "cpuid_exit_instructions_untraced": 107,
           "trace_instructions_per_exit": 15, "hv_init_instructions": 5_000_000,
           "lua_hook_exit_instructions": 3000, "lua_other_reason_hook_extra_instructions": 0}


def bare_iso(out, guest, args):
    """An ISO where GRUB boots the multiboot v1 guest itself."""
    subprocess.run([os.path.join(ROOT, "tools", "mkiso"), out, guest, "--multiboot1", "--args", args],
                   check=True)


def hv_iso(out, elf, guest, args, script=None, hv_args=""):
    cmd = [os.path.join(ROOT, "tools", "mkiso"), out, elf, "--args", f"panic=poweroff loglevel=warn {hv_args}".strip(),
           "--module", guest, f"guest {args}"]
    if script:
        cmd += ["--module", script, "script"]
    subprocess.run(cmd, check=True)


def hooked_tsc(work, elf, guest, kind, n, reason):
    """The `kind` loop with a trivial Lua hook on `reason` loaded (a hook on
    EXTERNAL_INTERRUPT turns external-interrupt exiting on)."""
    path = os.path.join(work, f"hook_{reason}.lua")
    with open(path, "w") as f:
        f.write(f'hv.on_exit("{reason}", function(e) end)\n')
    iso = os.path.join(work, f"hook_{reason}.iso")
    hv_iso(iso, elf, guest, f"bench={kind}:{n}", path)
    found = bench_lines(boot(iso, os.path.join(work, f"hook_{reason}")))
    return found[kind][1] if kind in found else None


def boot(iso, workdir):
    m = emu.Bochs(iso, workdir, timeout=600)
    m.start()
    r = m.wait()
    return r.console


def bench_lines(console):
    found = {}
    for kind, n, tsc in re.findall(r"GUEST BENCH (\w+) n=(\d+) tsc=(\d+)", console):
        found[kind] = (int(n), int(tsc))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "vmxdbg.elf"))
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "guests", "basic.elf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench.json"))
    ap.add_argument("-n", type=int, default=N)
    ap.add_argument("--no-rsp", action="store_true", help="leave out the gdb stub figures (~2 min)")
    ap.add_argument("--no-smp", action="store_true", help="leave out the multiprocessor figures (~1 min)")
    ap.add_argument("--no-apic", action="store_true", help="leave out the APIC-mode figures (~30 s)")
    a = ap.parse_args()

    args = f"bench=cpuid:{a.n} bench=io:{a.n}:{IO_PORT:#x} bench=com1:{CONSOLE_BYTES} bench=selfipi:{SELF_IPIS}"
    work = os.path.join(ROOT, "build", "bench")
    os.makedirs(work, exist_ok=True)
    hv_iso(os.path.join(work, "hv.iso"), a.elf, a.guest, args)
    bare_iso(os.path.join(work, "bare.iso"), a.guest, args)
    under = boot(os.path.join(work, "hv.iso"), os.path.join(work, "hv"))
    bare = boot(os.path.join(work, "bare.iso"), os.path.join(work, "bare"))

    hv, raw = bench_lines(under), bench_lines(bare)
    launch = re.search(r"launching the guest at \S+ (\d+) TSC ticks", under)
    if not launch or any(k not in f for k in ("cpuid", "io", "com1", "selfipi") for f in (hv, raw)):
        sys.stderr.write("bench: a run did not print its figures; console under vmxdbg:\n" + under[-3000:]
                         + "\nbare:\n" + bare[-2000:])
        return 1
    # The exit trace's cost: the CPUID loop with the trace off (trace=off).
    hv_iso(os.path.join(work, "untraced.iso"), a.elf, a.guest, f"bench=cpuid:{a.n}", hv_args="trace=off")
    untraced = bench_lines(boot(os.path.join(work, "untraced.iso"), os.path.join(work, "untraced")))
    if "cpuid" not in untraced:
        sys.stderr.write("bench: the run with trace=off did not print its figures\n")
        return 1
    hooked = hooked_tsc(work, a.elf, a.guest, "cpuid", a.n, "CPUID")
    other = hooked_tsc(work, a.elf, a.guest, "cpuid", a.n, "HLT")
    watched = hooked_tsc(work, a.elf, a.guest, "selfipi", SELF_IPIS, "EXTERNAL_INTERRUPT")
    if hooked is None or other is None or watched is None:
        sys.stderr.write("bench: a Lua run did not print its figures\n")
        return 1
    res = {
        "cpuid_exit_instructions": round((hv["cpuid"][1] - raw["cpuid"][1]) / a.n, 1),
        "lua_hook_exit_instructions": round((hooked - raw["cpuid"][1]) / a.n, 1),
        "trace_instructions_per_exit": round((hv["cpuid"][1] - untraced["cpuid"][1]) / a.n, 1),
        "cpuid_exit_instructions_untraced": round((untraced["cpuid"][1] - raw["cpuid"][1]) / a.n, 1),
        "lua_other_reason_hook_extra_instructions": round((other - hv["cpuid"][1]) / a.n, 1),
        "io_exit_instructions": round((hv["io"][1] - raw["io"][1]) / a.n, 1),
        "console_byte_exit_instructions": round((hv["com1"][1] - raw["com1"][1]) / CONSOLE_BYTES, 1),
        # A self-IPI: with one CPU the xAPIC page is the guest's, no exit
        # (with more, its ICR and EOI stores are emulated: hv/apic_mmio.c);
        # watched, each interrupt exits twice, acknowledged the second time,
        # runs the Lua hook and is injected (hv/ext_interrupt.c).
        "self_ipi_instructions": round((hv["selfipi"][1] - raw["selfipi"][1]) / SELF_IPIS, 1),
        "watched_interrupt_instructions": round((watched - hv["selfipi"][1]) / SELF_IPIS, 1),
        "hv_init_instructions": int(launch.group(1)),
        "loop_iterations": a.n,
        "cpuid_loop_tsc": {"vmxdbg": hv["cpuid"][1], "bare": raw["cpuid"][1]},
        "io_loop_tsc": {"vmxdbg": hv["io"][1], "bare": raw["io"][1]},
    }
    res["stealth"] = bench_stealth.run(os.path.join(work, "stealth"), a.elf, a.guest)
    if res["stealth"] is None:
        sys.stderr.write("bench: the hidden-breakpoint runs did not print their figures\n")
        return 1
    if not a.no_rsp:
        res["rsp"] = bench_gdb.run(os.path.join(work, "gdb"), elf=a.elf, guest=a.guest)
    if not a.no_smp:
        res["smp"] = bench_smp.run(os.path.join(work, "smp"), elf=a.elf)
    if not a.no_apic:
        import bench_apic  # noqa: E402 (it imports this module)
        res["apic"] = bench_apic.run(os.path.join(work, "apic"), elf=a.elf, guest=a.guest)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(f"{'figure':<34}{'value':>14}{'target':>14}")
    for key in ("cpuid_exit_instructions", "trace_instructions_per_exit", "cpuid_exit_instructions_untraced",
                "io_exit_instructions", "console_byte_exit_instructions",
                "hv_init_instructions", "self_ipi_instructions", "watched_interrupt_instructions",
                "lua_hook_exit_instructions", "lua_other_reason_hook_extra_instructions"):
        t = TARGETS.get(key)
        print(f"{key:<34}{res[key]:>14}{('<= ' + str(t)) if t else '':>14}")
    print(bench_stealth.table(res["stealth"]))
    if "rsp" in res:
        print(bench_gdb.table(res["rsp"]))
    if "smp" in res:
        print(bench_smp.table(res["smp"]))
    if "apic" in res:
        import bench_apic  # noqa: E402
        print(bench_apic.table(res["apic"]))
    print(f"(written to {os.path.relpath(a.out, ROOT)}; {a.n} iterations per loop)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
