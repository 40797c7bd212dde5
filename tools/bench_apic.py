#!/usr/bin/env python3
"""APIC-mode figures for `make bench` (issue 12 item 1), under Bochs with
`clock: sync=none` (the TSC counts instructions):

  per delivered IPI   the basic guest sends itself N fixed IPIs (bench=ipi:N,
                      by APIC id) and N by the "self" shorthand
                      (bench=selfipi:N), each taken by a handler that EOIs,
                      bare, under apic=passthrough and under apic=virtual.
                      Per interrupt: the round trip's instructions, and the
                      hypervisor's extra over bare.  By APIC id, apic=virtual
                      costs an APIC-write exit (the ICR, forwarded) and an
                      external-interrupt exit (acknowledged, EOI'd, posted);
                      by shorthand, nothing: self-IPI, delivery and EOI are
                      virtualized.
  CPUID exit          the same CPUID loop under both modes: virtual APIC must
                      not add to the common exit path.

Writes build/bench-apic.json (bench.py merges it into build/bench.json).
"""
import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IPIS = 2000
CPUIDS = 20000


def ipi_lines(console):
    return {k: (int(n), int(tsc), int(taken))
            for k, n, tsc, taken in re.findall(r"GUEST BENCH (\w+) n=(\d+) tsc=(\d+) taken=(\d+)", console)}


def run(work, elf=os.path.join(ROOT, "build", "vmxdbg.elf"),
        guest=os.path.join(ROOT, "build", "guests", "basic.elf"), n=IPIS):
    os.makedirs(work, exist_ok=True)
    args = f"bench=cpuid:{CPUIDS} bench=ipi:{n} bench=selfipi:{n}"
    runs = {}
    bench.bare_iso(os.path.join(work, "bare.iso"), guest, args)
    runs["bare"] = bench.boot(os.path.join(work, "bare.iso"), os.path.join(work, "bare"))
    for mode in ("passthrough", "virtual"):
        iso = os.path.join(work, f"{mode}.iso")
        bench.hv_iso(iso, elf, guest, args, hv_args=f"apic={mode}")
        runs[mode] = bench.boot(iso, os.path.join(work, mode))
    ipis = {m: ipi_lines(c) for m, c in runs.items()}
    cpuid = {m: bench.bench_lines(c).get("cpuid") for m, c in runs.items()}
    for m in runs:
        if set(ipis[m]) != {"ipi", "selfipi"} or not cpuid[m] or any(v[2] != n for v in ipis[m].values()):
            raise RuntimeError(f"bench_apic: the {m} run lost IPIs or printed no figures:\n{runs[m][-2000:]}")
    res = {"ipis": n, "cpuid_exit_instructions": {}, "per_ipi": {}}
    for m in ("passthrough", "virtual"):
        res["cpuid_exit_instructions"][m] = round((cpuid[m][1] - cpuid["bare"][1]) / CPUIDS, 1)
    for kind in ("ipi", "selfipi"):
        res["per_ipi"][kind] = {m: round(ipis[m][kind][1] / n, 1) for m in runs}
        for m in ("passthrough", "virtual"):
            res["per_ipi"][kind][f"{m}_extra"] = round((ipis[m][kind][1] - ipis["bare"][kind][1]) / n, 1)
    return res


def table(res):
    lines = []
    for kind, what in (("ipi", "self-IPI by APIC id"), ("selfipi", "self-IPI by shorthand")):
        p = res["per_ipi"][kind]
        lines.append(f"{what}, instructions per delivered interrupt: bare {p['bare']}, pass-through "
                     f"{p['passthrough']} (+{p['passthrough_extra']}), virtual {p['virtual']} (+{p['virtual_extra']})")
    c = res["cpuid_exit_instructions"]
    lines.append(f"CPUID exit by APIC mode: pass-through {c['passthrough']}, virtual {c['virtual']}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench-apic.json"))
    ap.add_argument("-n", type=int, default=IPIS)
    a = ap.parse_args()
    res = run(os.path.join(ROOT, "build", "bench", "apic"), n=a.n)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
