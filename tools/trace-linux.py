#!/usr/bin/env python3
"""trace-linux: the exit trace of a Linux boot under vmxdbg, as pictures.

    tools/trace-linux.py [--cpus N] [--out docs/trace-linux.png]

Boots build/linux's PVH vmlinux and initramfs (tools/linux-guest.py) under
Bochs with scripts/trace_dump.lua, which logs every record the rings hold
when /init powers off (the last 4,095 exits of each vCPU) to port 0xE9
(`console=none`: no UART to wait for), then draws them with
tools/trace-plot (PNG only).  Minutes: ~3 with 1 CPU, ~10 with 2.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import emu  # noqa: E402

CMDLINE = "console=ttyS0,115200 nokaslr"    # tools/linux-guest.py's


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "trace-linux.png"))
    a = ap.parse_args()
    linux = os.path.join(ROOT, "build", "linux")
    work = os.path.join(ROOT, "build", "trace-linux")
    os.makedirs(work, exist_ok=True)
    iso = os.path.join(work, "boot.iso")
    subprocess.run([os.path.join(ROOT, "tools", "mkiso"), iso, os.path.join(ROOT, "build", "vmxdbg.elf"),
                    "--args", "panic=poweroff console=none lua-heap=16M",
                    "--module", os.path.join(linux, "vmlinux"), f"guest {CMDLINE}",
                    "--module", os.path.join(linux, "initramfs.cpio"), "initrd",
                    "--module", os.path.join(ROOT, "scripts", "trace_dump.lua"), "script"], check=True)
    with emu.Bochs(iso, work, timeout=900 * a.cpus, megs=512, cpus=a.cpus) as m:
        m.start()
        r = m.wait()
    log = os.path.join(work, "e9.txt")
    print(f"trace-linux: {r.describe()}; log in {os.path.relpath(log, ROOT)}")
    if "TRACE-CSV-END" not in r.e9:
        sys.exit("trace-linux: the run logged no trace (see the log)")
    cpus = f"{a.cpus} vCPU{'s' if a.cpus > 1 else ''}"
    return subprocess.run([os.path.join(ROOT, "tools", "trace-plot"), "--log", log, "-o", a.out, "--format", "png",
                           "--title", f"Linux 6.1 boot to /init's power-off under vmxdbg, {cpus}"]).returncode


if __name__ == "__main__":
    sys.exit(main())
