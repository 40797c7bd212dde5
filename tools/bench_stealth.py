"""make bench's hidden-breakpoint figures (issue 13): the basic guest's
bench=hit:N calls selfsum_target N times with a script's hidden breakpoint
on it (an empty Lua function: #BP exit, the call, one step on the original
bytes, its #DB exit); bench=read:N reads the split page and calls code on
it N times (a read in the execute view swaps to the data view, the call
swaps back: two EPT-violation exits).  Each against the same loop bare.
"""
import os
import re
import subprocess

import bench

SCRIPT = """
local target, near = math.tointeger(tonumber((...))), math.tointeger(tonumber((select(2, ...))))
bp.add(target, function() end)
bp.add(near, function() end)      -- never run in the loops: splits the page for bench=read
"""


def symbol(guest, name):
    out = subprocess.run(["nm", guest], capture_output=True, text=True, check=True).stdout
    return int(re.search(rf"^([0-9a-f]+) T {name}$", out, re.M).group(1), 16)


def run(work, elf, guest, n=2000):
    os.makedirs(work, exist_ok=True)
    script = os.path.join(work, "stealth.lua")
    with open(script, "w") as f:
        f.write(SCRIPT)
    args = f"bench=hit:{n} bench=read:{n}"
    hv_iso = os.path.join(work, "hv.iso")
    cmd = [os.path.join(bench.ROOT, "tools", "mkiso"), hv_iso, elf, "--args", "panic=poweroff loglevel=warn",
           "--module", guest, f"guest {args}", "--module", script,
           f"script {symbol(guest, 'selfsum_target'):#x} {symbol(guest, 'selfsum_near'):#x}"]
    subprocess.run(cmd, check=True)
    bench.bare_iso(os.path.join(work, "bare.iso"), guest, args)
    hv = bench.bench_lines(bench.boot(hv_iso, os.path.join(work, "hv")))
    raw = bench.bench_lines(bench.boot(os.path.join(work, "bare.iso"), os.path.join(work, "bare")))
    if any(k not in f for k in ("hit", "read") for f in (hv, raw)):
        return None
    return {
        "hidden_bp_hit_instructions": round((hv["hit"][1] - raw["hit"][1]) / n, 1),
        "hidden_page_read_instructions": round((hv["read"][1] - raw["read"][1]) / n, 1),
        "iterations": n,
    }


def table(res):
    return "\n".join(f"{k:<34}{res[k]:>14}" for k in ("hidden_bp_hit_instructions", "hidden_page_read_instructions"))
