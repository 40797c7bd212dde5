#!/usr/bin/env python3
"""`make test`: host unit tests (cmocka), then integration tests (Bochs/QEMU).

Prints `PASS name` or `FAIL name: reason` per test and ends with the line
`N passed, N failed`; exit status 1 if anything failed. Logs of failing
integration tests stay in build/test-logs/<name>/ (console.txt, e9.txt,
bochs.log, bochsrc, com2.log, gdb-*.txt, reason.txt).

usage: tests/run.py [PATTERN...] [--unit-only | --integration-only] [-j N] [-v] [--keep]
A PATTERN selects tests whose name contains it, e.g. `test_boot` or `unit.`.

Names: unit.<binary>.<case> (one per cmocka case) and
integration.<file>.<case or function without test_>.

Writing an integration test: tests/integration/test_<topic>.py, no imports needed.
Either declare cases:

    CASES = [
        dict(name="reaches_platform_ready", hv_args="panic=poweroff",
             expect=[r"platform ready: \\d+ TSC ticks"], forbid=[r"EXCEPTION"],
             until="expected"),
    ]

  keys: name; emu "bochs"|"qemu"; hv_args; modules [(path, "tag args")]
  (paths relative to the repo root); timeout (s; bochs 30, qemu 20);
  expect / forbid (regexes on the COM1 console, re.M); expect_e9 / forbid_e9
  (on port 0xE9); until "poweroff" (default: the machine must end by itself)
  or "expected" (stop it once every expect/expect_e9 matched, after `settle`
  seconds, default 0.3); check: a function (t, outcome) for anything else;
  machine options model, megs, cpus, com1..com4, kvm, extra_config (see
  tools/emu.py).

or write functions `def test_<behaviour>(t):` that use the TestContext `t`:

    r = t.boot(hv_args="panic=poweroff selftest=pagefault")     # until power-off
    m = r.expect(r"CR2=(0x[0-9a-f]+)")                          # returns re.Match
    r.forbid(r"PANIC"); r.expect_poweroff(); t.check(cond, "why")
    t.find(out, r"pattern", "what")             # a match in gdb's output, or a failure
    path = t.write_file("hook.lua", text)      # a file in the test's log folder

    m = t.start(hv_args=..., modules=[...])    # running emu.Machine
    m.wait_for(r"gdbstub: ready")              # console regex (source="e9" too)
    out = t.gdb(m, "info registers rip", elf=t.path("tests/guests/basic/x.elf"))
    m.gdb_port                                 # COM2 via the relay, for gdb or a socket
    r = t.finish(m)                            # wait for power-off; t.finish(m, stop=True) ends it now

A function may set `test_x.timeout = seconds` (whole test, default 300).
Run at most one machine at a time per test: tests run two at a time (-j 2).
"""
import argparse
import concurrent.futures
import importlib.util
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
LOGS = os.path.join(BUILD, "test-logs")
ELF = os.path.join(BUILD, "vmxdbg.elf")
sys.dont_write_bytecode = True    # no __pycache__ folders in the source tree
sys.path.insert(0, os.path.join(ROOT, "tools"))
from emu import EMULATORS, kill_all  # noqa: E402

DEFAULT_TIMEOUT = {"bochs": 30, "qemu": 20}
UNIT_TIMEOUT = 60
ABORTING = threading.Event()
_live_contexts = set()
_live_lock = threading.Lock()


def abort_all():
    """Ctrl-C / SIGTERM: stop every running test's machines and helpers."""
    ABORTING.set()
    with _live_lock:
        contexts = list(_live_contexts)
    for t in contexts:
        t.abort()
    kill_all()


class TestSkipped(Exception):
    """t.skip(reason): the test cannot run here (say why); never a pass."""


SKIP = "\0skip:"      # marks a skip reason on its way from run_body to Report.add


class TestFailure(AssertionError):
    pass


# ------------------------------------------------------------------ outcomes


class Outcome:
    """A finished run (emu.RunResult) with assertions that explain themselves."""

    def __init__(self, result):
        self.result = result

    def __getattr__(self, name):
        return getattr(self.result, name)

    def _text(self, source):
        return {"console": self.console, "e9": self.e9}[source]

    def _context(self, source):
        lines = [l for l in self._text(source).splitlines() if l.strip()]
        last = f'last {source} line: "{lines[-1]}"' if lines else f"{source} is empty"
        return f"machine {self.describe()}; {last}"

    def expect(self, pattern, source="console"):
        m = re.search(pattern, self._text(source), re.M)
        if not m:
            raise TestFailure(f"{source} lacks /{pattern}/ ({self._context(source)})")
        return m

    def forbid(self, pattern, source="console"):
        m = re.search(pattern, self._text(source), re.M)
        if m:
            text = self._text(source)
            line = text[text.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
            raise TestFailure(f'{source} has forbidden /{pattern}/: "{line}"')

    def expect_poweroff(self):
        if not self.ended_by_itself:
            raise TestFailure(f"machine did not power off ({self._context('console')})")


# ------------------------------------------------------------------- context


class TestContext:
    """What a test function gets: boots machines, runs gdb, keeps logs."""

    def __init__(self, name, workdir):
        self.name = name
        self.workdir = workdir
        self.elf = ELF
        self.aborted = False
        self._machines = []
        self._children = []
        self._lock = threading.Lock()

    def path(self, rel):
        return os.path.join(ROOT, rel)

    def check(self, condition, message):
        if not condition:
            raise TestFailure(message)

    def find(self, out, pattern, what):
        """The first match of pattern (re.M) in a tool's output, or a failure
        naming what was looked for and how the output ends."""
        m = re.search(pattern, out, re.M)
        self.check(m, f"{what}: no /{pattern}/ in the output; it ends {out.strip()[-500:]!r}")
        return m

    def write_file(self, name, text):
        """A file of the test's own (a script, say) in its log folder; its path."""
        os.makedirs(self.workdir, exist_ok=True)
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def skip(self, why):
        raise TestSkipped(why)

    def _next_dir(self):
        n = len(self._machines) + 1
        return self.workdir if n == 1 else os.path.join(self.workdir, f"run{n}")

    def iso(self, workdir, hv_args="", modules=(), bare=None):
        """bare: a multiboot v1 guest ELF (repo-relative) GRUB boots by itself,
        hv_args then being the guest's command line."""
        elf = self.path(bare) if bare else self.elf
        if not os.path.isfile(elf):
            raise TestFailure(f"{os.path.relpath(elf, ROOT)} is missing (run make)")
        os.makedirs(workdir, exist_ok=True)
        iso = os.path.join(workdir, "vmxdbg.iso")
        cmd = [os.path.join(ROOT, "tools", "mkiso"), iso, elf, f"--args={hv_args}"]
        cmd += ["--multiboot1"] if bare else []
        for path, tag in modules:
            cmd += ["--module", self.path(path), tag]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise TestFailure(f"mkiso failed: {(p.stderr or p.stdout).strip()[-300:]}")
        return iso

    def start(self, emu="bochs", hv_args="", modules=(), timeout=None, bare=None, **machine_kw):
        """Build the ISO and start a machine; returns the running emu.Machine.
        bare: boot that guest ELF without the hypervisor (see iso())."""
        if ABORTING.is_set() or self.aborted:
            raise TestFailure("aborted")
        workdir = self._next_dir()
        iso = self.iso(workdir, hv_args, modules, bare)
        timeout = timeout or DEFAULT_TIMEOUT[emu]
        kw = dict(machine_kw)
        if emu == "qemu":
            kw.setdefault("warn", None)   # the no-VMX tests expect TCG; don't nag
        m = EMULATORS[emu](iso, workdir, timeout=timeout, **kw)
        with self._lock:
            self._machines.append(m)
        return m.start()

    def finish(self, machine, stop=False, allow_emulator_errors=False):
        """Wait for the machine's end (or end it now with stop=True)."""
        r = Outcome(machine.stop() if stop else machine.wait())
        if r.emulator_errors and not allow_emulator_errors:
            raise TestFailure(f"{machine.name} failed: {r.emulator_errors[0]}")
        return r

    def boot(self, emu="bochs", hv_args="", modules=(), timeout=None,
             until="poweroff", settle=0.3, **machine_kw):
        """Boot and return the Outcome. until: "poweroff" or a console regex
        after which the machine is stopped (settle seconds later)."""
        m = self.start(emu, hv_args, modules, timeout, **machine_kw)
        if until == "poweroff":
            return self.finish(m)
        self.wait_for(m, until)
        time.sleep(settle)
        return self.finish(m, stop=True)

    def wait_for(self, machine, pattern, source="console", timeout=None):
        try:
            return machine.wait_for(pattern, timeout, source)
        except TimeoutError as e:
            lines = [l for l in (machine.console if source == "console" else machine.e9)
                     .splitlines() if l.strip()]
            last = f'; last {source} line: "{lines[-1]}"' if lines else f"; {source} is empty"
            raise TestFailure(f"{e}{last}") from None

    def spawn(self, cmd, **popen_kw):
        """Start a helper process that is killed if the test is aborted."""
        p = subprocess.Popen(cmd, start_new_session=True, **popen_kw)
        with self._lock:
            self._children.append(p)
        return p

    def gdb(self, target, *commands, elf=None, timeout=60):
        """Run gdb in batch mode against a machine (or port); return its output.
        gdb connects, runs the commands in order, then exits; still attached at
        exit it kills the target, so end with "detach" to keep the guest going.
        Connect once the stub is up (wait_for its line): bytes sent earlier sit
        in a 16-byte UART FIFO and may be lost."""
        port = target.gdb_port if hasattr(target, "gdb_port") else int(target)
        cmd = ["gdb", "-nx", "-q", "-batch", "-ex", "set pagination off"]
        cmd += [elf] if elf else []
        cmd += ["-ex", f"target remote localhost:{port}"]
        for c in commands:
            cmd += ["-ex", c]
        p = self.spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            self._save_gdb(cmd, out)
            raise TestFailure(f"gdb did not finish in {timeout} s; it said: {out.strip()[-300:]!r}")
        self._save_gdb(cmd, out)
        return out

    def _save_gdb(self, cmd, out):
        os.makedirs(self.workdir, exist_ok=True)
        n = sum(1 for f in os.listdir(self.workdir) if f.startswith("gdb-")) + 1
        with open(os.path.join(self.workdir, f"gdb-{n}.txt"), "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + out)

    def abort(self):
        """Time limit or Ctrl-C: kill everything this test started."""
        self.aborted = True
        self.kill_all()

    def kill_all(self):
        with self._lock:
            machines, children = list(self._machines), list(self._children)
        for m in machines:
            m.kill()
        for p in children:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for m in machines:
            if m.proc:
                m.wait()


# --------------------------------------------------------- declarative cases

MACHINE_KEYS = {"model", "megs", "cpus", "com1", "com2", "com3", "com4", "kvm", "extra_config"}
CASE_KEYS = {"name", "emu", "hv_args", "modules", "timeout", "expect", "forbid",
             "expect_e9", "forbid_e9", "until", "settle", "check"} | MACHINE_KEYS


def run_case(t, case):
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise TestFailure(f"unknown case keys: {', '.join(sorted(unknown))}")
    until = case.get("until", "poweroff")
    if until not in ("poweroff", "expected"):
        raise TestFailure(f'until must be "poweroff" or "expected", not {until!r}')
    expect, expect_e9 = case.get("expect", []), case.get("expect_e9", [])
    m = t.start(case.get("emu", "bochs"), case.get("hv_args", ""), case.get("modules", ()),
                case.get("timeout"), **{k: v for k, v in case.items() if k in MACHINE_KEYS})
    if until == "expected":
        for pattern in expect:
            t.wait_for(m, pattern)
        for pattern in expect_e9:
            t.wait_for(m, pattern, source="e9")
        time.sleep(case.get("settle", 0.3))
    r = t.finish(m, stop=(until == "expected"))
    for pattern in expect:
        r.expect(pattern)
    for pattern in expect_e9:
        r.expect(pattern, "e9")
    for pattern in case.get("forbid", []):
        r.forbid(pattern)
    for pattern in case.get("forbid_e9", []):
        r.forbid(pattern, "e9")
    if until == "poweroff":
        r.expect_poweroff()
    if "check" in case:
        case["check"](t, r)


def case_limit(case):
    return (case.get("timeout") or DEFAULT_TIMEOUT[case.get("emu", "bochs")]) + 30


# ---------------------------------------------------------------- collection


def load_integration_tests():
    """[(name, body(t), limit seconds)] from tests/integration/test_*.py."""
    tests = []
    folder = os.path.join(ROOT, "tests", "integration")
    if folder not in sys.path:
        sys.path.insert(0, folder)      # a test module may import a sibling's helpers by name
    for fname in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        stem = fname[:-3]
        try:
            spec = importlib.util.spec_from_file_location(f"integration.{stem}",
                                                          os.path.join(folder, fname))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        except Exception as e:  # a broken test file is a failing test, not a crash
            tests.append((f"integration.{stem}", _raiser(f"import failed: {e!r}"), 10))
            continue
        for case in getattr(mod, "CASES", []):
            tests.append((f"integration.{stem}.{case['name']}",
                          lambda t, c=case: run_case(t, c), case_limit(case)))
        for attr, fn in vars(mod).items():
            if attr.startswith("test_") and callable(fn) and fn.__module__ == mod.__name__:
                tests.append((f"integration.{stem}.{attr[5:]}", fn, getattr(fn, "timeout", 300)))
    return tests


def _raiser(message):
    def body(t):
        raise TestFailure(message)
    return body


def unit_binaries():
    folder = os.path.join(BUILD, "host")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder))
            if f.startswith("test_") and "." not in f
            and os.access(os.path.join(folder, f), os.X_OK)
            and os.path.isfile(os.path.join(folder, f))]


# ---------------------------------------------------------------- unit tests

_CM_RUN = re.compile(r"^\[ RUN      \] (.+)$")
_CM_OK = re.compile(r"^\[       OK \] (.+)$")
_CM_FAILED = re.compile(r"^\[  FAILED  \] (.+)$")
_CM_DETAIL = re.compile(r"^\[\s*(?:ERROR|LINE)\s*\] --- (.+)$")
_CM_PASSED_N = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.", re.M)
_CM_FAILED_N = re.compile(r"^\[  FAILED  \] (\d+) test\(s\)", re.M)
_CM_END = re.compile(r"^\[==========\] \d+ test\(s\) run\.")


def capture_on_pty(cmd, env, timeout):
    """Run cmd with stdout and stderr on one pty: cmocka's two streams then stay
    in order and nothing sits in a stdio buffer when the binary crashes.
    (stdbuf would do it with LD_PRELOAD, which AddressSanitizer refuses.)
    Returns (text, exit status or None on timeout)."""
    master, slave = os.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                         env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    chunks, deadline, rc = [], time.monotonic() + timeout, 0
    while True:
        ready, _, _ = select.select([master], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            os.killpg(p.pid, signal.SIGKILL)
            rc = None
            break
        try:
            data = os.read(master, 65536)
        except OSError:          # EIO: the child side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    status = p.wait()
    text = b"".join(chunks).decode(errors="replace").replace("\r", "")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)     # sanitizers colour their reports on a tty
    return text, (status if rc is not None else None)


def run_unit_binary(path):
    """[(case, ok, reason)] for one cmocka binary; a crash is one failure."""
    prog = os.path.basename(path)
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="STDOUT")
    out, rc = capture_on_pty([path], env, UNIT_TIMEOUT)
    results, running, last_words, summary = parse_cmocka(out)
    why = f": {last_words}" if last_words else ""
    if rc is None:
        results.append((running or "(binary)", False, f"timed out after {UNIT_TIMEOUT} s{why}"))
    elif rc < 0:
        sig = signal.Signals(-rc).name
        results.append((running or "(binary)", False, f"crashed ({sig}){why}"))
    elif summary is None:
        results.append((running or "(binary)", False,
                        f"died with exit status {rc}, no cmocka summary{why}"))
    else:
        passed, failed = summary
        if passed + failed != len(results):
            results.append(("(summary)", False, f"cmocka counted {passed} passed, {failed} "
                            f"failed, but {len(results)} case results were seen"))
        elif rc != 0 and not any(not ok for _, ok, _ in results):
            results.append(("(binary)", False, f"exit status {rc} with every case passing"))
    return [(f"unit.{prog}.{case}", ok, reason) for case, ok, reason in results]


_SANITIZER = re.compile(r"runtime error: .*|ERROR: \w+Sanitizer: .*")


def parse_cmocka(out):
    """Per-case results, the case left running and its last messages, and
    the (passed, failed) summary.
    A sanitizer report during a case fails it even if cmocka said OK."""
    results, running, details = [], None, []
    for line in out.splitlines():
        if _CM_END.match(line):
            break
        if m := _CM_RUN.match(line):
            running, details = m.group(1), []
        elif m := _CM_OK.match(line):
            sanitizer = [d for d in details if _SANITIZER.match(d)]
            results.append((m.group(1), not sanitizer, "; ".join(sanitizer)))
            running = None
        elif (m := _CM_FAILED.match(line)) and m.group(1) == running:
            results.append((running, False, "; ".join(details) or "failed"))
            running = None
        elif m := _CM_DETAIL.match(line):
            details.append(m.group(1).strip())
        elif m := _SANITIZER.search(line):
            details.append(m.group(0).strip())
    np, nf = _CM_PASSED_N.search(out), _CM_FAILED_N.search(out)
    summary = (int(np.group(1)), int(nf.group(1)) if nf else 0) if np else None
    last_words = "; ".join(details) if running else ""
    return results, running, last_words, summary


# -------------------------------------------------------------------- runner


class Report:
    def __init__(self, patterns):
        self.patterns = patterns
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self._lock = threading.Lock()

    def selected(self, name):
        return not self.patterns or any(p in name for p in self.patterns)

    def add(self, name, ok, reason=""):
        with self._lock:
            if not ok and reason.startswith(SKIP):
                self.skipped += 1
                print(f"SKIP {name}: {reason[len(SKIP):]}", flush=True)
            elif ok:
                self.passed += 1
                print(f"PASS {name}", flush=True)
            else:
                self.failed += 1
                print(f"FAIL {name}: {reason}", flush=True)


def run_body(t, body):
    """Run a test body; return None on success, else the failure reason."""
    try:
        body(t)
        return None
    except TestSkipped as e:
        return SKIP + str(e)
    except TestFailure as e:
        return str(e)
    except Exception as e:  # a test bug is reported like a failure, with its type
        return f"{type(e).__name__}: {e}"


def run_integration_test(name, body, limit, args):
    workdir = os.path.join(LOGS, name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    t = TestContext(name, workdir)
    with _live_lock:
        _live_contexts.add(t)
    # The body runs in a daemon thread so a test stuck in its own Python code
    # cannot hold up the run: past its limit its machines are killed and, if
    # it still does not return, it is abandoned.
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(reason=run_body(t, body)),
                              name=name, daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        t.abort()
        worker.join(5)
    t.kill_all()
    with _live_lock:
        _live_contexts.discard(t)
    reason = outcome.get("reason", "did not return")
    if ABORTING.is_set():
        reason = "interrupted"
    elif t.aborted:
        reason = f"test exceeded its {limit:.0f} s limit" + (f" ({reason})" if reason else "")
    if reason is None:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return True, ""
    if reason.startswith(SKIP):
        return False, reason
    with open(os.path.join(workdir, "reason.txt"), "w") as f:
        f.write(reason + "\n")
    reason += f" [logs: {os.path.relpath(workdir, ROOT)}]"
    if args.verbose:
        console = os.path.join(workdir, "console.txt")
        if os.path.exists(console):
            with open(console, errors="replace") as f:
                tail = f.read().splitlines()[-15:]
            reason += "".join("\n    | " + l for l in tail)
    return False, reason


def run_units(report):
    for path in unit_binaries():
        for name, ok, reason in run_unit_binary(path):
            if report.selected(name):
                report.add(name, ok, reason)


def run_integrations(report, args):
    tests = [t for t in load_integration_tests() if report.selected(t[0])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_integration_test, name, body, limit, args): name
                   for name, body, limit in tests}
        try:
            for f in concurrent.futures.as_completed(futures):
                ok, reason = f.result()
                report.add(futures[f], ok, reason)
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            abort_all()
            raise


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="tests/run.py", description=__doc__.split("\n")[0])
    ap.add_argument("patterns", nargs="*", help="run tests whose name contains one of these")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--unit-only", action="store_true")
    group.add_argument("--integration-only", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="machines in parallel (2)")
    ap.add_argument("-v", "--verbose", action="store_true", help="show console tails of failures")
    ap.add_argument("--keep", action="store_true", help="keep logs of passing tests too")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    report = Report(args.patterns)
    # SIGTERM (CI cancelling) takes the same path as Ctrl-C: kill machines, then exit.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if not args.integration_only:
            run_units(report)
        if not args.unit_only:
            run_integrations(report, args)
    except KeyboardInterrupt:
        abort_all()
        print(f"interrupted\n{report.passed} passed, {report.failed} failed", flush=True)
        return 130
    if report.skipped:
        print(f"{report.skipped} skipped (each said why above)", flush=True)
    print(f"{report.passed} passed, {report.failed} failed", flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
