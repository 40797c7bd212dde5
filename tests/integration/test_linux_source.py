"""Linux at source level: Debian's stock kernel (build/linux) debugged with
its DWARF vmlinux from the -dbg package, the source tree and Linux's own
gdb scripts (lx-dmesg, lx-ps, lx-symbols, $lx_current()), with 2 vCPUs,
and an out-of-tree module /init loads.  tools/linux-dbg.py prepares all of
it in a cache outside the clone (~1 GB fetched once); when the packages
cannot be fetched the test says so and is skipped, never passed.

One boot, one gdb session: a Linux boot under Bochs takes minutes, and
gdb reads the 630 MB of DWARF in tens of seconds (twice: lx-symbols
reloads vmlinux).
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_linux import BROKE, fetched, linux      # noqa: E402 (its tests are not collected twice: other module)

MEGS = 512
TIMEOUT = 1500              # Bochs seconds for the whole run, gdb included


def linux_dbg(t):
    """The source-level cache, fetched once (under the same lock as
    build/linux); its info.json.  Skips when the packages cannot be had."""
    linux(t)
    out = fetched(t, "tools/linux-dbg.py", "Debian's -dbg kernel, source or headers")
    cache = out.strip().splitlines()[-1]
    with open(os.path.join(cache, "info.json")) as f:
        info = json.load(f)
    info["cache"] = cache
    return info


def test_gdb_debugs_linux_at_source_level_with_its_own_scripts_a_module_and_two_vcpus(t):
    info = linux(t)
    dbg = linux_dbg(t)
    cache = dbg["cache"]
    m = t.start(hv_args="panic=poweroff gdb-wait",
                modules=[(os.path.join("build", "linux", "vmlinux"), f"guest {info['cmdline']}"),
                         (os.path.join(cache, "initramfs-module.cpio"), "initrd")],
                megs=MEGS, cpus=2, timeout=TIMEOUT)
    t.wait_for(m, r"gdb-wait: the guest waits", timeout=180)
    module_dir = os.path.join(cache, "module")
    out = t.gdb(m, f"source {os.path.join(cache, 'gdbinit')}",
                "echo ==start_kernel\\n",
                "hbreak start_kernel",          # paging is off at the PVH entry
                "continue",
                "list start_kernel",
                "info line start_kernel",
                "p sizeof(struct task_struct)",
                "delete",
                "echo ==watch\\n",
                "watch jiffies",                # the first timer tick
                "continue",
                "p jiffies",
                "delete",
                "echo ==syscall\\n",
                "break __x64_sys_mount",        # /init's `mount -t proc`
                "continue",
                "bt",
                "p $lx_current().comm",         # /init's child: `/bin/busybox mount`
                "p $lx_current().real_parent.comm",
                "p $lx_current().real_parent.pid",
                "p $lx_current(0).comm",        # per CPU: vCPU 0's current task
                "info threads",
                "finish",
                "delete",
                "echo ==dmesg\\n",
                "lx-dmesg",
                "echo ==ps\\n",
                "lx-ps",
                "echo ==symbols\\n",
                f"lx-symbols {module_dir}",     # installs its do_init_module hook
                "set breakpoint pending on",
                "break vmxdbg_hello_init",
                "continue",
                "echo ==module\\n",
                "bt 3",
                "info symbol vmxdbg_hello_count",
                "p vmxdbg_hello_greeting",
                "lx-lsmod",
                "delete",
                "detach", elf=os.path.join(cache, "vmlinux"), timeout=TIMEOUT - 200)
    check_session(t, out, info["release"], module_dir)
    r = t.finish(m)
    r.expect(r"vmxdbg_hello: hello from a module \(calls 1\)")
    r.expect(re.escape(dbg["marker"]) + r": 1 vmxdbg_hello in /proc/modules")
    for bad in BROKE:
        r.forbid(bad)
    r.expect_poweroff()


def check_session(t, out, release, module_dir):
    """The gdb session's output, part by part (split at its `echo ==name`)."""
    part = dict(re.findall(r"^==(\w+)\n(.*?)(?=^==|\Z)", out, re.M | re.S))
    for name in ("start_kernel", "watch", "syscall", "dmesg", "ps", "symbols", "module"):
        t.check(name in part, f"gdb never reached the {name} part: {out[-1500:]!r}")
    s = part["start_kernel"]
    # Source: the breakpoint names the file, `list` prints init/main.c.
    t.check(re.search(r"Breakpoint 1, start_kernel \(\) at init/main\.c:\d+", s),
            f"no stop at start_kernel with its source line: {s[-800:]!r}")
    t.check(re.search(r"^\d+\s+void start_kernel\(void\)$", s, re.M), f"list start_kernel showed no source: {s[-1200:]!r}")
    t.check(re.search(r"= 9792\b", s), f"sizeof(struct task_struct) is not 9792: {s[-400:]!r}")
    w = part["watch"]
    t.check(re.search(r"Hardware watchpoint \d+: jiffies", w), f"watch jiffies is no hardware watchpoint: {w!r}")
    t.check(re.search(r"Old value = \d+\s+New value = \d+", w, re.S), f"the watchpoint did not trigger: {w!r}")
    c = part["syscall"]
    t.check(re.search(r"Breakpoint \d+, __x64_sys_mount \(regs=0x[0-9a-f]+\) at fs/namespace\.c:\d+", c),
            f"no stop in the mount syscall: {c[:800]!r}")
    t.check(re.search(r"^#\d+\s+.*do_syscall_64 \(.*arch/x86/entry/common\.c:\d+", c, re.M)
            and re.search(r"^#\d+\s+.*entry_SYSCALL_64\w* \(\) at \S*arch/x86/entry/entry_64\.S:\d+", c, re.M),
            f"bt does not go down to entry_SYSCALL_64: {c[:1500]!r}")
    # gdb writes "init", '\000' <repeats 11 times> for a run of 10 or more NULs.
    nul = r"""(?:\\000|", '\\000')"""
    t.check(re.search(rf'^\$\d+ = "busybox{nul}.*\n\$\d+ = "init{nul}.*\n\$\d+ = 1\n\$\d+ = "[^"\n]+"', c, re.M),
            f"$lx_current() is not /init's busybox child, its parent init (pid 1), CPU 0's task: {c!r}")
    t.check(re.search(r'^\*?\s+1\s+Thread 1 "vCPU 0"', c, re.M) and re.search(r'^\*?\s+2\s+Thread 2 "vCPU 1"', c, re.M),
            f"info threads does not list both vCPUs: {c!r}")
    t.check(re.search(r"^0x[0-9a-f]+ in do_syscall_x64 .*\n.*\nValue returned is \$\d+ = 0$", c, re.M),
            f"finish did not return from the syscall with 0: {c[-1200:]!r}")
    d = part["dmesg"]
    t.check(re.search(r"^\[\s*\d+\.\d+\] Linux version " + re.escape(release), d, re.M),
            f"lx-dmesg lacks the banner: {d[:800]!r}")
    t.check(re.search(r"smp: Brought up 1 node, 2 CPUs", d), f"lx-dmesg lacks the SMP bring-up: {d[-800:]!r}")
    p = part["ps"]
    t.check(re.search(r"^0x[0-9a-f]+\s+1\s+init\s*$", p, re.M), f"lx-ps lists no init (pid 1): {p[:1500]!r}")
    t.check(re.search(r"^0x[0-9a-f]+\s+\d+\s+kthreadd\s*$", p, re.M), f"lx-ps lists no kthreadd: {p[:1500]!r}")
    y = part["symbols"] + part["module"]
    t.check(re.search(rf"loading @0x[0-9a-f]+: {re.escape(module_dir)}/vmxdbg_hello\.ko", y),
            f"lx-symbols did not load the module's symbols: {y[-1500:]!r}")
    k = part["module"]
    t.check(re.search(r"^#0\s+vmxdbg_hello_init \(\) at \S*vmxdbg_hello\.c:\d+", k, re.M),
            f"the module's init function breakpoint did not hit with its source line: {k!r}")
    t.check(re.search(r"^#\d+\s+.*do_one_initcall", k, re.M), f"bt from the module init lacks do_one_initcall: {k!r}")
    t.check(re.search(r"vmxdbg_hello_count\S* in section \.text of \S+vmxdbg_hello\.ko", k),
            f"the module's symbols do not resolve: {k!r}")
    t.check(re.search(r'= "vmxdbg_hello: hello from a module"', k), f"the module's data does not read: {k!r}")
    t.check(re.search(r"^0x[0-9a-f]+ vmxdbg_hello\s+\d+\s+\d+$", k, re.M), f"lx-lsmod lacks the module: {k!r}")


test_gdb_debugs_linux_at_source_level_with_its_own_scripts_a_module_and_two_vcpus.timeout = TIMEOUT + 600
