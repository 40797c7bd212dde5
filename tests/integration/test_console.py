"""The console (COM1) keeps whole lines although the guest writes it (the
UART is passed through; vmxdbg traps only its data port) while the
hypervisor logs to it: a hypervisor line that comes while the guest is in
the middle of a line waits for the guest's newline; when too much waits,
the guest's line is cut and marked (" >>" at the cut, ">> " where it goes
on).  The guest's `bench=com1:N` writes a line of N characters in pieces of
8 with a CPUID after each; a boot script logs on every CPUID.  Port 0xE9
carries the hypervisor's lines alone (build/run/e9.txt under `make run`)."""
import os
import re
import subprocess

BASIC = "build/guests/basic.elf"
SKIP_ALL = "skip=boot,com1,cpuid,msr,cr,exceptions,int80,paging,hlt,crc32,fpu"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
DONE = r"GUEST DONE passed=\d+ failed=0"


def line_of(n):
    return "".join(DIGITS[i % len(DIGITS)] for i in range(n))


def hook_script(t, pad, times=1):
    """Logs "console-hook N" (then " " and pad x's) times on every CPUID."""
    tail = " " + "x" * pad if pad else ""
    path = os.path.join(t.workdir, "hook.lua")
    os.makedirs(t.workdir, exist_ok=True)
    with open(path, "w") as f:
        f.write('local n = 0\n'
                'hv.on_exit("CPUID", function(e)\n'
                '  n = n + 1\n'
                f'  for _ = 1, {times} do hv.log("console-hook " .. n .. "{tail}") end\n'
                'end)\n')
    return path


def test_a_guest_line_written_in_pieces_stays_whole_while_a_hook_logs_between_them(t):
    r = t.boot(hv_args="panic=poweroff", modules=[
        (BASIC, f"guest {SKIP_ALL} bench=com1:64"), (hook_script(t, 0), "script")])
    r.expect(DONE)
    whole = r.expect(rf"^GUEST BENCH com1-line: {line_of(64)}$")
    # The 8 lines logged mid-line follow the guest's line, in order.
    after = r.console[whole.end():].lstrip("\n").splitlines()[:8]
    numbers = [int(m.group(1)) for m in map(re.compile(r"lua: console-hook (\d+)$").search, after) if m]
    t.check(len(numbers) == 8 and numbers == list(range(numbers[0], numbers[0] + 8)),
            f"the hook's lines do not follow the guest's line: {after}")
    r.forbid(r" >>$|^>> ")
    # Port 0xE9: the hypervisor's lines alone, none of the guest's.
    r.expect(r"lua: console-hook 8$", source="e9")
    r.forbid(r"GUEST", source="e9")
    r.expect(DONE)
    r.expect_poweroff()


def test_too_much_log_cuts_the_guest_line_with_marks_and_loses_nothing(t):
    # 8 x 16 hook lines of ~220 bytes: more than the 16 KiB held for an open line.
    r = t.boot(hv_args="panic=poweroff", timeout=90, modules=[
        (BASIC, f"guest {SKIP_ALL} bench=com1:64"), (hook_script(t, 200, times=16), "script")])
    r.expect(DONE)
    first = r.expect(r"^GUEST BENCH com1-line: ([0-9a-z]*) >>$")
    rest = re.findall(r"^>> ([0-9a-z]+)$", r.console[first.end():], re.M)
    t.check(first.group(1) + "".join(rest) == line_of(64),
            f"the cut pieces do not make the line: {first.group(1)!r} + {rest!r}")
    for i in range(1, 9):
        r.expect(rf"lua: console-hook {i} x{{200}}\n.*lua: console-hook {i} x{{200}}$")
    r.expect(r"lua: console-hook 8 x{200}$", source="e9")
    r.expect_poweroff()


def test_a_stop_for_gdb_mid_line_shows_the_held_lines_at_once_and_marks_the_cut(t):
    # The hook stops the guest for gdb at the bench line's third CPUID (the
    # line's CPUIDs are the only ones inside bench_run_all here).
    syms = subprocess.run(["nm", "-S", t.path(BASIC)], capture_output=True, text=True).stdout
    start, size = (int(x, 16) for x in re.search(r"^(\w+) (\w+) T bench_run_all$", syms, re.M).groups())
    path = os.path.join(t.workdir, "stop.lua")
    os.makedirs(t.workdir, exist_ok=True)
    with open(path, "w") as f:
        f.write('local n = 0\n'
                'hv.on_exit("CPUID", function(e)\n'
                f'  if e.rip < {start} or e.rip >= {start + size} then return end\n'
                '  n = n + 1\n'
                '  hv.log("console-hook " .. n)\n'
                '  if n == 3 then return "stop", "mid-line" end\n'
                'end)\n')
    m = t.start(hv_args="panic=poweroff gdb-wait", timeout=120,
                modules=[(BASIC, f"guest {SKIP_ALL} bench=com1:64"), (path, "script")])
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "continue", "detach", elf=t.path(BASIC), timeout=120)
    t.check("mid-line" in out or "SIGTRAP" in out, f"gdb did not see the stop: {out.strip()[-300:]!r}")
    r = t.finish(m)
    r.expect(DONE)
    # Held until the stop, then shown: hooks 1-3 between the cut and the rest.
    cut = r.expect(rf"^GUEST BENCH com1-line: {line_of(24)} >>\n(?:.*\n)*?.*lua: console-hook 3\n")
    rest = r.expect(rf"^>> {line_of(64)[24:]}$")
    t.check(cut.end() <= rest.start(), "the rest of the line came before the held lines")
