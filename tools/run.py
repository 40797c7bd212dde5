#!/usr/bin/env python3
"""`make run`: build an ISO with the guest and scripts, boot it, show the console.

The console (COM1) streams to the terminal; gdb reaches the debug port (COM2)
on --gdb-port. The run ends when the machine powers off, or on Ctrl-C; either
way no emulator process is left behind.
"""
import argparse
import os
import shlex
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True    # no __pycache__ folders in the source tree
sys.path.insert(0, os.path.join(ROOT, "tools"))
import emu  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n")[0])
    ap.add_argument("--emu", default="bochs", choices=sorted(emu.EMULATORS))
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "vmxdbg.elf"))
    ap.add_argument("--guest", default=os.path.join(ROOT, "build", "guests", "demo.elf"),
                    help="guest image (GRUB module tagged 'guest'); default: the demo guest")
    ap.add_argument("--guest-args", default="", help="guest command line")
    ap.add_argument("--guest-modules", default="", help="paths, space-separated")
    ap.add_argument("--scripts", default="",
                    help="Lua scripts and their arguments: 'a.lua x=1 b.lua' (see scripts_of)")
    ap.add_argument("--gdb-port", type=int, default=1234)
    ap.add_argument("--hv-args", default="", help="hypervisor command line")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build", "run"))
    ap.add_argument("--megs", type=int, default=256)
    ap.add_argument("--model", default=emu.BOCHS_DEFAULT_MODEL, help="Bochs CPU model")
    ap.add_argument("--cpus", type=int, default=1, help="processors (Bochs cpu: count=N)")
    ap.add_argument("--timeout", type=float, default=0, help="seconds; 0 = no limit")
    return ap.parse_args(argv)


def scripts_of(text):
    """SCRIPTS, as [(path, [args])]: a word ending in `.lua` is a script; the
    words after it, up to the next such word, are its arguments (its `...`
    in Lua).  So an argument cannot end in `.lua`."""
    scripts = []
    for word in shlex.split(text):
        if word.endswith(".lua"):
            scripts.append((word, []))
        elif scripts:
            scripts[-1][1].append(word)
        else:
            raise ValueError(f"SCRIPTS begins with {word!r}: name a .lua file first, then its arguments "
                             f"(SCRIPTS=\"scripts/inject_demo.lua at=HLT:1\")")
    return scripts


def modules_of(a):
    """GRUB modules in boot order: guest, its modules, then scripts."""
    mods = []
    if a.guest:
        mods.append((a.guest, f"guest {a.guest_args}".strip()))
    mods += [(p, "guest-module") for p in shlex.split(a.guest_modules)]
    try:
        mods += [(p, shlex.join(["script"] + args)) for p, args in scripts_of(a.scripts)]
    except ValueError as e:
        sys.exit(f"run: {e}")
    return mods


def build_iso(a, iso):
    hv_args = f"panic=poweroff {a.hv_args}".strip()
    cmd = [os.path.join(ROOT, "tools", "mkiso"), iso, a.elf, f"--args={hv_args}"]
    for path, tag in modules_of(a):
        cmd += ["--module", path, tag]
    if subprocess.run(cmd).returncode != 0:
        sys.exit("run: could not build the ISO")


def machine_for(a):
    kw = dict(timeout=a.timeout or float("inf"), megs=a.megs, gdb_port=a.gdb_port,
              on_console=lambda text: (sys.stdout.write(text), sys.stdout.flush()))
    if a.emu == "bochs":
        kw["model"] = a.model
        kw["cpus"] = a.cpus
    return emu.EMULATORS[a.emu](os.path.join(a.workdir, "vmxdbg.iso"), a.workdir, **kw)


def shown(path):
    """A path as short as it can be said from here."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def main(argv):
    a = parse_args(argv)
    if a.cpus < 1 or (a.cpus != 1 and a.emu != "bochs"):
        sys.exit(f"run: CPUS={a.cpus}: 1 or more, and more than 1 only with EMU=bochs")
    if not os.path.isfile(a.elf):
        sys.exit(f"run: {a.elf} not found (build it with make)")
    if a.guest and not os.path.isfile(a.guest):
        sys.exit(f"run: guest {a.guest} not found (make builds the test guests)")
    os.makedirs(a.workdir, exist_ok=True)
    build_iso(a, os.path.join(a.workdir, "vmxdbg.iso"))
    # Turn SIGTERM/SIGHUP into a normal exit so the finally below kills the emulator.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, f: sys.exit(128 + n))
    m = machine_for(a)
    try:
        try:
            m.start()
        except FileNotFoundError as e:
            sys.exit(f"run: {e.filename} not found (make deps installs it)")
        except OSError as e:
            sys.exit(f"run: {e} (choose another port: make run GDB_PORT=...)")
        print(f"run: {a.emu} started; logs in {shown(a.workdir)}/; Ctrl-C stops it")
        print(f"run: debug port (COM2) on localhost:{m.gdb_port}: "
              f"gdb -ex 'target remote localhost:{m.gdb_port}'  (or: make gdb)", flush=True)
        r = m.wait()
    except KeyboardInterrupt:
        if m.proc:
            m.stop()    # which writes e9.txt, the hypervisor's lines alone
        print("\nrun: interrupted; machine stopped")
        return 130
    finally:
        m.kill()
    if not r.console and r.e9:
        print("run: nothing on COM1; port 0xE9 said:\n" + r.e9, end="")
    print(f"\nrun: machine {r.describe()}")
    for line in r.emulator_errors:
        print(f"run: {a.emu}: {line}")
    return 0 if r.ended_by_itself and not r.emulator_errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
