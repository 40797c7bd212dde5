"""The first run: `make` builds everything, `make run` boots the demo guest,
`make gdb` attaches to it with its symbols.

The demo guest (tests/guests/demo/) runs until stopped, one round per
100 Hz timer tick: work_step over demo_state.work, two CPUIDs, RDMSR and
WRMSR of IA32_MISC_ENABLE, an IN from COM2, a page fault it resolves by
mapping the page, then HLT until the next tick.  Every 2000 rounds it prints

    demo: round N, tsc T: ticks K, page faults P, cpuid "GenuineIntel" 0x..., ...

The machine tests boot it as `make run` does (tools/run.py: the guest as
the module tagged `guest`, `panic=poweroff`), and run gdb with the command
line `make gdb` runs (scripts/gdb/vmxdbg.py, the demo's ELF, `vmx
connect`), in batch mode.
"""
import os
import re
import shlex
import signal
import subprocess
import threading

DEMO = "build/guests/demo.elf"
PROGRESS = (r"^demo: round (\d+), tsc (\d+): ticks (\d+), page faults (\d+), "
            r'cpuid "(\w{12})" 0x[0-9a-f]+, misc_enable 0x[0-9a-f]+, com2 0x([0-9a-f]+)')
REPORT_ROUNDS = 2000
ATTACH_HINT = r"^demo: attach gdb from another terminal:  make gdb"
EXIT_LINE = r"^\s*\d+ (\w+)\s+(\d+)$"       # `monitor exits`: number, name, count


def line_of(n):
    """The n-th progress line (from 0), whole."""
    return rf"^demo: round {1 + n * REPORT_ROUNDS}, [^\n]*\n"


def make(t, *args):
    p = subprocess.run(["make", "--no-print-directory", *args], cwd=t.path(""),
                       capture_output=True, text=True, timeout=120)
    t.check(p.returncode == 0, f"make {' '.join(args)} failed: {(p.stderr or p.stdout)[-400:]}")
    return p.stdout


def progress(t, console, at_least):
    """The progress lines so far, as (round, tsc, ticks, page faults); at least
    `at_least` of them, each with a page fault per round and a tick per round."""
    lines = [tuple(int(g) for g in m.groups()[:4]) + (m.group(5), m.group(6))
             for m in re.finditer(PROGRESS, console, re.M)]
    t.check(len(lines) >= at_least, f"{len(lines)} progress lines, want {at_least}: {console[-500:]!r}")
    for n, (rnd, tsc, ticks, faults, vendor, com2) in enumerate(lines):
        t.check(rnd == 1 + n * REPORT_ROUNDS, f"line {n} is round {rnd}")
        t.check(faults == rnd, f"round {rnd}: {faults} page faults, one per round wanted")
        t.check(ticks >= rnd, f"round {rnd}: {ticks} timer ticks: each round's HLT ends on one")
        t.check(vendor == "GenuineIntel", f"CPUID vendor {vendor!r}")
        t.check(com2 == "ff", f"COM2's LSR read {com2}: the debug UART must be hidden")
    return lines


def start_demo(t, progress_lines=1):
    """vmxdbg with the demo guest as make run boots it, running."""
    m = t.start(hv_args="panic=poweroff", modules=[(DEMO, "guest")], timeout=240)
    t.wait_for(m, ATTACH_HINT, timeout=90)
    t.wait_for(m, line_of(progress_lines - 1), timeout=120)
    return m


def make_gdb_command(t, port, *commands):
    """`make gdb`'s own command line, in batch mode, then the commands."""
    cmd = shlex.split(make(t, "-s", "-n", "gdb", f"GDB_PORT={port}").strip())
    t.check(cmd[:1] == ["gdb"], f"make gdb runs {cmd}")
    cmd = cmd[:1] + ["-nx", "-batch"] + cmd[1:]
    for c in commands:
        cmd += ["-ex", c]
    return cmd


class Reader:
    """A helper process (gdb, run.py) started by the test, its output
    collected line by line as it comes; `seen` is set at the first line
    matching `pattern`."""

    def __init__(self, t, cmd, pattern=r"."):
        self.t, self.cmd, self.lines, self.seen = t, cmd, [], threading.Event()
        # SIGINT as a terminal gives it: a suite started in the background
        # (`cmd &` in a script) hands its children SIGINT ignored, and
        # Python then keeps it ignored: Ctrl-C would never reach run.py.
        self.p = t.spawn(cmd, cwd=t.path(""), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.thread = threading.Thread(target=self._read, args=(re.compile(pattern),), daemon=True)
        self.thread.start()

    def _read(self, rx):
        for line in self.p.stdout:
            self.lines.append(line)
            if rx.search(line):
                self.seen.set()

    def text(self):
        return "".join(self.lines)

    def finish(self, timeout, name):
        """Wait for the end (killing it past timeout), keep the transcript
        in the test's log folder as `name`, return it."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
        self.thread.join(10)
        with open(os.path.join(self.t.workdir, name), "w") as f:
            f.write("$ " + shlex.join(self.cmd) + "\n" + self.text())
        self.t.check(self.p.returncode >= 0, f"{self.cmd[0]} did not finish in {timeout} s: "
                     f"{self.text().strip()[-300:]!r}")
        return self.text()


def gdb_transcript_name(t):
    return f"gdb-{sum(1 for f in os.listdir(t.workdir) if f.startswith('gdb-')) + 1}.txt"


def make_gdb(t, m, *commands, timeout=120):
    out = Reader(t, make_gdb_command(t, m.gdb_port, *commands)).finish(timeout, gdb_transcript_name(t))
    t.check("Remote communication error" not in out, f"gdb lost the stub: {out.strip()[-300:]!r}")
    return out


# ------------------------------------------------------------- the Makefile


def built_by(t, out, target):
    """Whether make -n's commands name target as a word of their own."""
    return re.search(rf"(?<![\w/.-]){re.escape(target)}(?![\w.-])", out)


def test_plain_make_builds_the_hypervisor_the_iso_and_every_guest(t):
    out = make(t, "-n", "-B")       # every command of the default goal
    guests = make(t, "-s", "--eval", "print-guests:\n\t@echo $(GUEST_ELFS)", "print-guests").split()
    t.check(DEMO in guests and "build/guests/basic.elf" in guests, f"the guest images: {guests}")
    for target in ["build/vmxdbg.elf", "build/vmxdbg.iso", *guests]:
        t.check(built_by(t, out, target), f"plain `make` does not build {target}")
    t.check(not built_by(t, out, "build/fuzz/fuzz_gdb"), "plain `make` builds the fuzzer")


def test_make_run_builds_and_boots_the_demo_and_make_gdb_loads_its_symbols(t):
    run = make(t, "-n", "-B", "run")
    t.check(re.search(r"-o build/guests/demo\.elf\b", run), "make run does not build the demo")
    t.check(re.search(r"tools/run\.py .*--guest 'build/guests/demo\.elf'", run.replace("\\\n", "")),
            f"make run does not boot the demo: {run[-400:]!r}")
    # Whatever it boots, it builds: the README's example on a fresh clone.
    basic = make(t, "-n", "-B", "run", "GUEST=./build/guests/basic.elf", "GUEST_MODULES=build/guests/hostile.elf")
    for image in ("basic.elf", "hostile.elf"):
        t.check(re.search(rf"-o build/guests/{re.escape(image)}\b", basic), f"make run does not build {image}")
    t.check(not re.search(r"-o build/guests/demo\.elf\b", basic), "make run builds the demo it does not boot")
    cmd = make_gdb_command(t, 4321)
    t.check(DEMO in cmd and "scripts/gdb/vmxdbg.py" in cmd and "vmx connect 4321" in cmd,
            f"make gdb runs {cmd}")


# ------------------------------------------------------------ the demo itself


def test_make_run_boots_the_demo_which_says_how_to_attach_makes_progress_and_ends_on_ctrl_c(t):
    """tools/run.py with no guest named (what `make run` boots): the banner,
    progress lines, then SIGINT (Ctrl-C) ends the run and the emulator."""
    workdir = os.path.join(t.workdir, "run")
    cmd = ["python3", "tools/run.py", "--workdir", workdir, "--gdb-port", "0", "--timeout", "300"]
    run = Reader(t, cmd, line_of(2))
    t.check(run.seen.wait(240), f"no progress line {line_of(2)!r} within 240 s: {run.text()[-500:]!r}")
    os.kill(run.p.pid, signal.SIGINT)
    text = run.finish(90, "run.txt")    # a loaded machine: Bochs and python may take a while to go
    t.check(run.p.returncode == 130, f"run.py exited {run.p.returncode} on SIGINT")
    t.check("run: interrupted; machine stopped" in text, f"run.py's end: {text[-300:]!r}")
    for hint in (r"make gdb", r"break work_step", r"watch demo_state\.round", r"monitor exits",
                 r"Ctrl-C", r"kill"):
        t.check(re.search(hint, text), f"the banner does not mention {hint}")
    progress(t, text, 3)
    pids = subprocess.run(["pgrep", "-f", workdir], capture_output=True, text=True).stdout.split()
    t.check(not pids, f"the emulator outlived run.py: {pids}")


def test_demo_exits_cpuid_io_msr_and_hlt_each_round(t):
    m = start_demo(t, progress_lines=2)
    out = make_gdb(t, m, "monitor exits", "print demo_state.round", "detach")
    counts = {name: int(n) for name, n in re.findall(EXIT_LINE, out, re.M)}
    rounds = int(t.find(out, r"^\$1 = (\d+)$", "rounds").group(1))
    t.check(rounds > REPORT_ROUNDS, f"{rounds} rounds")
    # Per round: two CPUIDs, one RDMSR, one WRMSR, one IN, one HLT; the
    # stop may fall anywhere in a round.
    for name, per_round in (("CPUID", 2), ("MSR_READ", 1), ("MSR_WRITE", 1), ("HLT", 1)):
        got = counts.get(name, 0)
        t.check(abs(got - per_round * rounds) <= per_round,
                f"{got} {name} exits after {rounds} rounds, want {per_round} a round: {counts}")
    # One IN a round, plus one OUT per byte the demo printed: the console's
    # data port is trapped so log lines never split the guest's.
    io_extra = counts.get("IO_INSTRUCTION", 0) - rounds
    t.check(-1 <= io_extra <= len(m.console),
            f"{counts.get('IO_INSTRUCTION', 0)} IO exits after {rounds} rounds and "
            f"{len(m.console)} console bytes: {counts}")
    t.find(out, r"Inferior 1 \(Remote target\) detached", "detach")
    # It runs on after gdb leaves.
    t.wait_for(m, line_of(3), timeout=120)
    r = t.finish(m, stop=True)
    progress(t, r.console, 4)
    r.expect(r"guest: read from port 0x2fd of the debug UART: hidden")
    r.forbid(r"unexpected trap|EXCEPTION|PANIC|guest stopped")


def test_gdb_breaks_steps_backtraces_and_watches_the_demo_then_kill_powers_off(t):
    m = start_demo(t)
    out = make_gdb(t, m, "break work_step", "continue", "bt", "stepi", "info registers rip",
                   "delete", "watch demo_state.round", "continue", "continue",
                   "print demo_state.page_faults == demo_state.round", "delete",
                   "watch demo_state.page_faults", "continue", "bt", "delete", "kill")
    t.check("not compatible" not in out, f"gdb refused the description: {out[:600]!r}")
    hit = t.find(out, r"Breakpoint 1, work_step \(word=\d+, round=(\d+), index=(?:index@entry=)?\d+\)",
                 "break at work_step")
    backtraces = [re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+|<signal handler called>)", chunk, re.M)
                  for chunk in out.split("Hardware watchpoint 3: demo_state.page_faults")]
    t.check(backtraces[0] == ["work_step", "work_round", "demo_round", "demo_main", "long_mode"],
            f"backtrace at work_step {backtraces[0]}")
    # From the page-fault handler, through the interrupt stub's frame, to
    # the write that faulted.
    t.check(len(backtraces) == 3 and backtraces[2] == ["demo_trap", "<signal handler called>", "demand_touch",
                                                       "demo_round", "demo_main", "long_mode"],
            f"backtrace in the #PF handler {backtraces[2:]}")
    t.check("?? (" not in out, "a backtrace runs past the outermost frame")
    step = t.find(out, r"^rip\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <work_step\+(\d+)>", "stepi")
    t.check(int(step.group(2)) > 0, "stepi did not move")
    rnd = int(hit.group(1))
    watch = re.findall(r"Hardware watchpoint 2: demo_state\.round\s+Old value = (\d+)\s+New value = (\d+)", out)
    t.check(len(watch) == 2, f"{len(watch)} watchpoint stops, want 2")
    t.check([(int(a), int(b)) for a, b in watch] == [(rnd, rnd + 1), (rnd + 1, rnd + 2)],
            f"demo_state.round went {watch}, from round {rnd}")
    t.find(out, r"in demo_round \(s=", "the watchpoint stops in demo_round")
    t.find(out, r"^\$1 = 1$", "one page fault per round")
    t.find(out, r"\[Inferior 1 \(Remote target\) killed\]", "kill")
    r = t.finish(m)
    r.expect(r"gdb: kill request: powering off")
    r.expect_poweroff()


def test_ctrl_c_in_gdb_stops_the_running_demo(t):
    m = start_demo(t)
    gdb = Reader(t, make_gdb_command(t, m.gdb_port, "continue", "bt", "print demo_state.round", "detach"))
    # gdb's first words are the frame where attaching stopped the guest; its
    # next command is `continue`.  A progress line printed wholly after the
    # stop (one may be on its way when counting) is the guest running on.
    t.check(gdb.seen.wait(60), "gdb said nothing")
    seen = len(re.findall(PROGRESS, m.console, re.M))
    t.wait_for(m, line_of(seen + 1), timeout=180)
    os.kill(gdb.p.pid, signal.SIGINT)
    text = gdb.finish(60, gdb_transcript_name(t))
    t.find(text, r"Program received signal SIGINT, Interrupt\.", "break-in")
    t.find(text, r"^#\d+\s+(0x[0-9a-f]+ in )?demo_main \(", "stopped inside the demo")
    rounds = int(t.find(text, r"^\$1 = (\d+)$", "round").group(1))
    t.check(rounds > (seen + 1) * REPORT_ROUNDS, f"stopped at round {rounds}")
    t.find(text, r"Inferior 1 \(Remote target\) detached", "detach")
    t.wait_for(m, line_of(seen + 2), timeout=180)
    t.finish(m, stop=True)


test_make_run_boots_the_demo_which_says_how_to_attach_makes_progress_and_ends_on_ctrl_c.timeout = 300
test_demo_exits_cpuid_io_msr_and_hlt_each_round.timeout = 400
test_gdb_breaks_steps_backtraces_and_watches_the_demo_then_kill_powers_off.timeout = 300
test_ctrl_c_in_gdb_stops_the_running_demo.timeout = 300
