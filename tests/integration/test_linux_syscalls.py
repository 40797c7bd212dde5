"""The Linux syscall tracer (issue 13 item 5): scripts/linux_syscalls.lua
sets a hidden breakpoint at the entry IA32_LSTAR names once the kernel has
written it, logs each system call with its name and first arguments, and
counts them at power-off.  /init (tools/linux-guest.py: a busybox shell
script) runs its commands and ends with `poweroff -f`: its calls appear in
order, from the shell's start to the reboot(2) that powers off, while the
kernel, reading its own text (alternatives, jump labels), sees no int3.
"""
import importlib.util
import os
import re

_spec = importlib.util.spec_from_file_location(
    "integration.test_linux_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_linux.py"))
L = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(L)

CALL = r"^\[I\] lua: syscall (\d+) (\w+)\((0x[0-9a-f]+), (0x[0-9a-f]+), (0x[0-9a-f]+), (0x[0-9a-f]+)\) vcpu \d+"


def test_the_syscall_tracer_logs_inits_calls_in_order_and_counts_them_at_power_off(t):
    info = L.linux(t)
    entry = info["symbols"]["entry_SYSCALL_64"]
    r = t.boot(hv_args="panic=poweroff",
               modules=L.modules(info, "vmlinux") + [("scripts/linux_syscalls.lua", "script limit=5000")],
               megs=L.MEGS, timeout=L.BOOT_TIMEOUT + 120)
    r.expect(rf"linux_syscalls: LSTAR = 0x{entry:x}: hidden breakpoint set there")
    L.booted_to_init_and_powered_off(r, info)
    calls = [(int(m.group(1)), m.group(2)) for m in re.finditer(CALL, r.console, re.M)]
    names = [n for _, n in calls]
    t.check(len(calls) >= 20, f"only {len(calls)} system calls logged: {names}")
    # The shell starts (execve of busybox by the kernel is not a SYSCALL;
    # its own start-up is), mounts /proc, reads /proc/cmdline, powers off.
    want = ["brk", "mount", "uname", "execve", "reboot"]
    at = 0
    for w in want:
        t.check(w in names[at:], f"{w} missing after position {at} of the calls: {names}")
        at = names.index(w, at) + 1
    t.check(names[-1] == "reboot", f"the last call is {names[-1]}, not reboot: {names[-10:]}")
    reboot = [c for c in re.finditer(CALL, r.console, re.M)][-1]
    t.check(int(reboot.group(3), 16) == 0xfee1dead, f"reboot's first argument is {reboot.group(3)}, not LINUX_REBOOT_MAGIC1")
    summary = r.expect(r"linux_syscalls: (\d+) system calls, (\d+) kinds, at power-off \(ACPI S5\):")
    t.check(int(summary.group(1)) == len(calls), f"counted {summary.group(1)}, logged {len(calls)}")
    r.expect(r"^\[I\] lua:\s+reboot \(169\)\s+1$")
    for name in set(names):
        r.expect(rf"^\[I\] lua:\s+{name} \(\d+\)\s+{names.count(name)}$")


test_the_syscall_tracer_logs_inits_calls_in_order_and_counts_them_at_power_off.timeout = L.BOOT_TIMEOUT + 240
