#!/usr/bin/env python3
"""Multiprocessor figures for `make bench` (issue 11), all under Bochs with
`clock: sync=none`, where the TSC counts machine time in instructions (with
N CPUs Bochs runs them round-robin, each up to one instruction per tick):

  stop-all latency   ticks from a stop on one vCPU to the last other vCPU
                     parked in root mode (hv/allstop.c logs each at
                     loglevel=debug).  The SMP guest with 2 CPUs, its AP
                     counting (`spin=`), gdb breaking at bsp_only_function,
                     which only the BSP runs, STOPS times, then BREAKINS
                     Ctrl-Cs (stopping whichever vCPU polls the UART):
                     min/median/max of each.
  APIC write cost    the smpprobe guest's `apic=cost` mode times 1,000 TPR
                     writes and reads, bare and under vmxdbg: the difference
                     per write is one EPT-write-protection exit with its
                     decode and emulation; reads must cost nothing extra.
  start-up by CPUs   the hypervisor's start-up (GRUB hand-off to the
                     guest's first instruction, `loglevel=warn`) and the
                     wall time of the whole boot with the basic guest, 1 and
                     2 CPUs (what `make run CPUS=N` costs).

Writes build/bench-smp.json (bench.py merges it into build/bench.json).
"""
import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_gdb  # noqa: E402
import emu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELF = os.path.join(ROOT, "build", "vmxdbg.elf")
SMP = os.path.join(ROOT, "build", "guests", "smp.elf")
SMPPROBE = os.path.join(ROOT, "build", "guests", "smpprobe.elf")
BASIC = os.path.join(ROOT, "build", "guests", "basic.elf")
SMP_ARGS = "apic=xapic spin=50000000"   # the AP counts through every stop (~10 s of wall time)
STOPS = 8
BREAKINS = 4
PARKED = re.compile(r"allstop: vCPU (\d+) stopped; (\d+) vCPUs? parked in (\d+) TSC ticks")
TARGETS = {"allstop_latency_max": 1_000_000}


def mkiso(out, kernel, *args):
    subprocess.run([os.path.join(ROOT, "tools", "mkiso"), out, kernel, *args], check=True)


def break_ins(m, count):
    """count Ctrl-C break-ins at random moments on a raw socket (the stop
    lands on whichever vCPU polls the UART first); then detach.  The first
    byte is a 0x03, not a packet: a packet arriving while the guest runs is a
    break-in too, and the other vCPU's poll, finding it half read, stops a
    second time."""
    s = socket.create_connection(("127.0.0.1", m.gdb_port), timeout=60)
    try:
        for n in range(count):
            stops = len(PARKED.findall(m.console))
            if n:
                bench_gdb.rsp(s, b"c")
            time.sleep(random.uniform(0.2, 0.8))
            s.sendall(b"\x03")
            if not n:                   # no `c` outstanding: the stub waits to be asked,
                deadline = time.monotonic() + 60    # once stopped (else `?` is a second break-in)
                while len(PARKED.findall(m.console)) == stops and time.monotonic() < deadline:
                    time.sleep(0.2)
                bench_gdb.rsp(s, b"?")
            reply, _ = bench_gdb.read_packet(s)
            s.sendall(b"+")
            if not reply.startswith(b"T"):
                raise RuntimeError(f"break-in answered {reply!r}")
        bench_gdb.rsp(s, b"D")
        bench_gdb.read_packet(s)
    finally:
        s.close()


def summary(samples):
    s = sorted(samples)
    return {"samples": samples, "min": s[0], "median": s[len(s) // 2], "max": s[-1]}


def stop_all_latency(work, elf=ELF, stops=STOPS, breakins=BREAKINS):
    """gdb stops the SMP guest stops+1 times at bsp_only_function (the first
    hit, the AP maybe still starting, is left out), detaches; then
    `breakins` Ctrl-Cs from a raw socket."""
    iso = os.path.join(work, "allstop.iso")
    mkiso(iso, elf, "--args", "panic=poweroff loglevel=debug gdb-wait", "--module", SMP, f"guest {SMP_ARGS}")
    m = emu.Bochs(iso, os.path.join(work, "allstop"), timeout=900, cpus=2).start()
    try:
        m.wait_for(r"gdb-wait: the guest waits", timeout=300)
        before = len(PARKED.findall(m.console))
        cmds = ["set pagination off", f"target remote localhost:{m.gdb_port}", "break bsp_only_function",
                *["continue"] * (stops + 1), "info threads", "delete", "detach"]
        p = subprocess.run(["gdb", "-nx", "-q", "-batch", SMP, *sum((["-ex", c] for c in cmds), [])],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
        with open(os.path.join(work, "allstop.gdb.txt"), "w") as f:
            f.write(p.stdout + p.stderr)
        m.wait_for(r"gdb: detached", timeout=120)
        at_breakpoints = len(PARKED.findall(m.console))
        break_ins(m, breakins)
        deadline = time.monotonic() + 60      # the console file trails the socket
        while len(PARKED.findall(m.console)) < at_breakpoints + breakins and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        m.stop()
    lines = PARKED.findall(m.console)
    # The last `stops` before the detach: the gdb-wait stop's line may come
    # after `before` was counted, and the first hit is left out.
    hits = len(re.findall(r"hit Breakpoint 1, bsp_only_function", p.stdout))
    bp = [int(t) for cpu, n, t in lines[:at_breakpoints][-stops:] if cpu == "0" and n == "1"]
    if hits != stops + 1 or at_breakpoints - before < stops:
        raise RuntimeError(f"stop-all: gdb saw {hits} of {stops + 1} hits (see {work}/allstop.gdb.txt)")
    ctrl_c = [(int(cpu), int(t)) for cpu, n, t in lines[at_breakpoints:] if n == "1"]
    if len(bp) != stops or len(ctrl_c) < breakins:
        raise RuntimeError(f"stop-all: {len(bp)} of {stops} breakpoint stops and {len(ctrl_c)} of {breakins}"
                           f" break-ins logged (see {work}/allstop)")
    res = summary(bp)
    # Both vCPUs may see the same 0x03 on the shared UART: one stops first,
    # the other's stop follows the next `c` (extra stops, counted).
    res["ctrl_c"] = dict(summary([t for _, t in ctrl_c]), stopping_vcpus=[c for c, _ in ctrl_c],
                         extra_stops=len(ctrl_c) - breakins)
    return res


def apic_line(console):
    m = re.search(r"SMPPROBE apic cost: write (\d+) ticks, read (\d+) ticks", console)
    if not m:
        raise RuntimeError("smpprobe printed no APIC cost line")
    return int(m.group(1)), int(m.group(2))


def apic_write_cost(work, elf=ELF):
    bare, under = os.path.join(work, "apic-bare.iso"), os.path.join(work, "apic-hv.iso")
    mkiso(bare, SMPPROBE, "--multiboot1", "--args", "apic=cost")
    mkiso(under, elf, "--args", "panic=poweroff loglevel=warn", "--module", SMPPROBE, "guest apic=cost")
    res = {}
    # Two CPUs: the xAPIC page is write-protected only when there is an AP
    # to start (with one vCPU its writes do not exit at all).
    for name, iso in (("bare", bare), ("vmxdbg", under)):
        with emu.Bochs(iso, os.path.join(work, f"apic-{name}"), timeout=300, cpus=2) as m:
            m.start()
            res[name] = apic_line(m.wait().console)
    (bw, br), (uw, ur) = res["bare"], res["vmxdbg"]
    return {"write_ticks": {"bare": bw, "vmxdbg": uw}, "read_ticks": {"bare": br, "vmxdbg": ur},
            "per_write": uw - bw, "per_read_extra": ur - br}


def startup_by_cpus(work, elf=ELF, guest=BASIC):
    """Hypervisor start-up ticks, the run's ticks (Bochs' own stamp on its
    exit, after the guest's power-off) and wall seconds, 1 and 2 CPUs."""
    iso = os.path.join(work, "cpus.iso")
    mkiso(iso, elf, "--args", "panic=poweroff loglevel=warn", "--module", guest, "guest")
    out = {}
    for cpus in (1, 2):
        t0 = time.monotonic()
        with emu.Bochs(iso, os.path.join(work, f"cpus-{cpus}"), timeout=300, cpus=cpus) as m:
            m.start()
            r = m.wait()
        launch = re.search(r"launching the guest at \S+ (\d+) TSC ticks", r.console)
        with open(os.path.join(work, f"cpus-{cpus}", "bochs.log"), errors="replace") as f:
            end = re.search(r"^(\d+)i\[SIM *\] quit_sim called", f.read(), re.M)
        if not launch or not end or "GUEST DONE" not in r.console:
            raise RuntimeError(f"{cpus} CPUs: no launch, GUEST DONE or end line (see {work}/cpus-{cpus})")
        out[f"{cpus}cpu"] = {"hv_init_instructions": int(launch.group(1)), "power_on_to_end": int(end.group(1)),
                             "wall_s": round(time.monotonic() - t0, 1)}
    return out


def run(work, elf=None, stops=STOPS):
    elf = elf or ELF
    os.makedirs(work, exist_ok=True)
    return {"allstop_latency_ticks": stop_all_latency(work, elf, stops),
            "apic_write": apic_write_cost(work, elf), "startup_by_cpus": startup_by_cpus(work, elf)}


def table(res):
    a, w, c = res["allstop_latency_ticks"], res["apic_write"], res["startup_by_cpus"]
    return "\n".join([
        f"stop-all latency (ticks, stop on vCPU 0 -> vCPU 1 parked): min {a['min']}, median {a['median']},"
        f" max {a['max']} ({len(a['samples'])} stops; target max <= {TARGETS['allstop_latency_max']});"
        f" Ctrl-C: min {a['ctrl_c']['min']}, median {a['ctrl_c']['median']}, max {a['ctrl_c']['max']}"
        f" (stopping vCPUs {a['ctrl_c']['stopping_vcpus']}; {a['ctrl_c']['extra_stops']} extra stops)",
        f"emulated xAPIC write (TPR): {w['per_write']} instructions each"
        f" ({w['write_ticks']['vmxdbg']} ticks per write under vmxdbg, {w['write_ticks']['bare']} bare);"
        f" a read costs {w['per_read_extra']} extra",
        *(f"basic guest, {n}: hypervisor start-up {v['hv_init_instructions']:,} ticks, power-on to the end"
          f" {v['power_on_to_end']:,}, wall {v['wall_s']} s" for n, v in c.items())])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench-smp.json"))
    ap.add_argument("--stops", type=int, default=STOPS)
    a = ap.parse_args()
    res = run(os.path.join(ROOT, "build", "bench", "smp"), stops=a.stops)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(table(res))
    print(f"(written to {os.path.relpath(a.out, ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
