"""Boot a vmxdbg ISO under Bochs or QEMU and capture what it says.

    m = Bochs(iso, workdir, timeout=30)          # or Qemu(...)
    m.start()
    m.wait_for(r"platform ready")                 # returns the re.Match
    port = m.gdb_port                             # gdb: target remote localhost:<port>
    r = m.wait()                                  # or m.stop() to end it now
    r.exit_code, r.console, r.e9, r.timed_out

Wiring (both emulators):
- COM1 is the console: the emulator writes it to <workdir>/console.txt, which a
  poller thread reads back (and streams to on_console if given).
- Port 0xE9 (Bochs' port_e9_hack, QEMU's isa-debugcon) is captured too.
- COM2 is the debug port. The emulator connects as a TCP *client* to a relay
  that listens before the emulator starts; gdb connects to the relay's
  gdb_port, one client at a time, and may leave and come back. Bochs'
  socket-server mode would block start-up until a client connects. The
  relay's sockets neither hold writes back nor delay ACKs (_ack_now).
- The emulator runs in its own session (process group); stop, timeout, close
  and interpreter exit kill the whole group.
"""
import atexit
import codecs
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

POLL_SECONDS = 0.05

# -------------------------------------------------------------------- results


@dataclass
class RunResult:
    exit_code: int | None     # None when we killed it (timeout or stop)
    console: str              # COM1 text, "\r" removed
    e9: str                   # port 0xE9 text, "\r" removed
    timed_out: bool           # the time limit killed it
    stopped: bool             # stop() ended it on purpose
    elapsed: float
    workdir: str
    emulator_errors: list = field(default_factory=list)  # Bochs panics, QEMU stderr

    @property
    def ended_by_itself(self):
        """True when the machine powered off / quit without being killed."""
        return not self.timed_out and not self.stopped

    def describe(self):
        how = ("timed out" if self.timed_out else "stopped" if self.stopped
               else f"exit code {self.exit_code}")
        return f"{how} after {self.elapsed:.1f} s"


# ------------------------------------------------------------- process groups

_live_machines = set()
_live_lock = threading.Lock()


def kill_all():
    """Kill every machine still running (for signal handlers and atexit)."""
    with _live_lock:
        machines = list(_live_machines)
    for m in machines:
        m.kill()


atexit.register(kill_all)


def _kill_group(proc):
    """SIGTERM the process group, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; children it left in the group get the next signal.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


# ---------------------------------------------------------------- COM2 relay


def _low_latency(conn):
    """Our writes leave at once (no Nagle), and what arrives is acknowledged
    at once (see _ack_now)."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _ack_now(conn)


def _ack_now(conn):
    """Bochs sends each byte of COM2 with its own send() on a socket with
    Nagle's algorithm on: the second byte of a reply waits for the ACK of the
    first, which Linux delays up to 40 ms.  That was the ~50 ms of every gdb
    round trip.  Quick ACK mode ends by itself, so this is re-armed after
    every recv."""
    if hasattr(socket, "TCP_QUICKACK"):      # Linux only
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class SerialRelay:
    """Joins the emulator's COM2 (a TCP client) to one gdb client at a time.

    Bytes from the target while no client is attached are dropped (logged in
    the transcript); bytes from a client are queued until the target connects.
    Further clients wait in the listen backlog until the current one leaves.
    """

    def __init__(self, client_port=0, client_host="127.0.0.1", transcript=None):
        self.target_listener = self._listen("127.0.0.1", 0)
        try:
            self.client_listener = self._listen(client_host, client_port)
        except OSError:
            self.target_listener.close()
            raise
        self.target_port = self.target_listener.getsockname()[1]
        self.client_port = self.client_listener.getsockname()[1]
        self._target = None
        self._client = None
        self._pending_to_target = b""
        self._transcript = open(transcript, "w") if transcript else None
        self._t0 = time.monotonic()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.target_listener, selectors.EVENT_READ, "target-accept")
        self._sel.register(self.client_listener, selectors.EVENT_READ, "client-accept")
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="com2-relay", daemon=True)

    @staticmethod
    def _listen(host, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            s.close()
            raise OSError(f"cannot listen on {host}:{port}: {e.strerror}") from None
        s.listen(4)
        return s

    def start(self):
        self._thread.start()

    def close(self):
        if self._stopping:
            return
        self._stopping = True
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for s in (self._target, self._client, self.target_listener, self.client_listener):
            if s:
                s.close()
        self._sel.close()
        if self._transcript:
            self._transcript.close()
            self._transcript = None

    def _note(self, what, data=b""):
        if self._transcript:
            t = time.monotonic() - self._t0
            self._transcript.write(f"{t:9.3f} {what} {data!r}\n" if data else f"{t:9.3f} {what}\n")
            self._transcript.flush()

    def _loop(self):
        while not self._stopping:
            for key, _ in self._sel.select(timeout=0.2):
                getattr(self, "_on_" + key.data.replace("-", "_"))()

    def _on_target_accept(self):
        conn, _ = self.target_listener.accept()
        if self._target:                 # an emulator reconnecting replaces the old link
            self._drop("target")
        self._target = conn
        _low_latency(conn)
        self._sel.register(conn, selectors.EVENT_READ, "target-data")
        self._note("target connected")
        if self._pending_to_target:
            self._send("target", self._pending_to_target)
            self._pending_to_target = b""

    def _on_client_accept(self):
        conn, addr = self.client_listener.accept()
        conn.settimeout(5)               # a client that stops reading gets dropped
        _low_latency(conn)
        self._client = conn
        self._sel.unregister(self.client_listener)   # one client at a time
        self._sel.register(conn, selectors.EVENT_READ, "client-data")
        self._note(f"client connected from {addr[0]}:{addr[1]}")

    def _on_target_data(self):
        data = self._recv(self._target)
        if not data:
            # The machine is gone: hang up on gdb too, so it says so at once.
            self._note("target closed")
            self._drop("target")
            if self._client:
                self._drop("client")
        elif self._client:
            self._note("target>", data)
            self._send("client", data)
        else:
            self._note("target> (no client, dropped)", data)

    def _on_client_data(self):
        data = self._recv(self._client)
        if not data:
            self._note("client closed")
            self._drop("client")
            return
        self._note("client>", data)
        if self._target:
            self._send("target", data)
        else:
            self._pending_to_target += data

    @staticmethod
    def _recv(conn):
        try:
            data = conn.recv(65536)
            _ack_now(conn)
            return data
        except OSError:
            return b""

    def _send(self, side, data):
        try:
            getattr(self, "_" + side).sendall(data)
        except OSError:
            self._note(f"{side} send failed")
            self._drop(side)

    def _drop(self, side):
        conn = getattr(self, "_" + side)
        self._sel.unregister(conn)
        conn.close()
        setattr(self, "_" + side, None)
        if side == "client":
            self._sel.register(self.client_listener, selectors.EVENT_READ, "client-accept")


# ------------------------------------------------------------ output capture


class _Capture:
    """Text read incrementally from a file the emulator appends to."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.raw = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()

    def poll(self):
        """Return the text appended since the last poll ('' if none)."""
        with self._lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except FileNotFoundError:
                return ""
            self.offset += len(data)
            text = self._decoder.decode(data)
            self.raw += text
            return text


# -------------------------------------------------------------- the machine


class Machine:
    """One emulator run. Subclasses say how to start the emulator."""

    name = "machine"

    def __init__(self, iso, workdir, *, timeout=60, megs=256, gdb_port=0,
                 gdb_host="127.0.0.1", on_console=None, com1=True, com2=True,
                 com3=False, com4=False):
        self.iso = os.path.abspath(iso)
        self.workdir = os.path.abspath(workdir)
        self.timeout = timeout
        self.megs = megs
        self.com1 = com1            # the console, captured to console.txt
        self.com2 = com2            # the debug port, through the relay
        self.com3 = com3            # spare UARTs, captured to com3.txt / com4.txt
        self.com4 = com4
        self.on_console = on_console
        self._gdb_port_wanted = gdb_port
        self._gdb_host = gdb_host
        self.relay = None
        self.proc = None
        self.timed_out = False
        self.stopped = False
        self._cv = threading.Condition()
        self._exited = False
        self._result = None
        os.makedirs(self.workdir, exist_ok=True)
        self.console_path = os.path.join(self.workdir, "console.txt")
        self._console = _Capture(self.console_path)

    # ---- what subclasses provide
    def command(self):
        raise NotImplementedError

    def e9_text(self):
        raise NotImplementedError

    def errors(self):
        return []

    # ---- life cycle
    def start(self):
        for stale in ("console.txt", "e9.txt", "com2.log"):
            path = os.path.join(self.workdir, stale)
            if os.path.exists(path):
                os.unlink(path)
        if self.com2:
            self.relay = SerialRelay(self._gdb_port_wanted, self._gdb_host,
                                     os.path.join(self.workdir, "com2.log"))
            self.relay.start()
        cmd = self.command()
        with open(os.path.join(self.workdir, "command.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        self._t0 = time.monotonic()
        with _live_lock:
            _live_machines.add(self)
        try:
            with open(os.path.join(self.workdir, f"{self.name}.stdout"), "wb") as out, \
                 open(os.path.join(self.workdir, f"{self.name}.stderr"), "wb") as err:
                self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=err, start_new_session=True)
        except OSError:
            self._close()
            raise
        threading.Thread(target=self._watch, name=f"{self.name}-watch", daemon=True).start()
        return self

    @property
    def gdb_port(self):
        """TCP port where gdb (or a test's socket) reaches COM2."""
        return self.relay.client_port if self.relay else None

    @property
    def console(self):
        return self._console.raw.replace("\r", "")

    @property
    def e9(self):
        return self.e9_text().replace("\r", "")

    def _watch(self):
        """Poll output files, stream the console, enforce the time limit."""
        try:
            while True:
                exited = self.proc.poll() is not None
                new = self._console.poll()
                if new and self.on_console:
                    self._stream(new)
                if not exited and time.monotonic() - self._t0 > self.timeout:
                    self.timed_out = True
                    self._kill_now()
                    continue
                if exited:
                    return
                with self._cv:
                    if new:
                        self._cv.notify_all()
                    self._cv.wait(POLL_SECONDS)
        finally:
            # Whatever happened here, waiters must learn the run is over.
            if self.proc.poll() is None:
                self._kill_now()
            with self._cv:
                self._exited = True
                self._cv.notify_all()

    def _stream(self, text):
        try:
            self.on_console(text)
        except Exception as e:  # a broken terminal pipe must not stop the capture
            self.on_console = None
            sys.stderr.write(f"emu: console streaming stopped: {e}\n")

    def _kill_now(self):
        _kill_group(self.proc)

    def wait_for(self, pattern, timeout=None, source="console"):
        """Wait until console (or e9) text matches; return the re.Match.

        Raises TimeoutError if the time runs out or the machine ends first."""
        rx = re.compile(pattern, re.M)
        limit = time.monotonic() + (timeout if timeout is not None else self.timeout)
        with self._cv:
            while True:
                text = self.console if source == "console" else self.e9
                m = rx.search(text)
                if m:
                    return m
                if self._exited:
                    raise TimeoutError(f"{self.name} ended ({self._how()}) before "
                                       f"{source} matched /{pattern}/")
                left = limit - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{source} did not match /{pattern}/ in time")
                self._cv.wait(min(left, POLL_SECONDS * 4))

    def _how(self):
        if self.timed_out:
            return "time limit"
        return f"exit code {self.proc.returncode}"

    def wait(self):
        """Wait for the machine to end by itself or hit the time limit."""
        with self._cv:
            while not self._exited:
                self._cv.wait(POLL_SECONDS * 4)
        return self._finish()

    def stop(self):
        """End the run now, on purpose (not a failure in itself)."""
        if self.proc and self.proc.poll() is None:
            self.stopped = True
            self._kill_now()
        return self.wait()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self._kill_now()
        self._close()

    def _finish(self):
        if self._result is None:
            self._close()
            self._console.poll()
            self._result = RunResult(
                exit_code=None if (self.timed_out or self.stopped) else self.proc.returncode,
                console=self.console, e9=self.e9, timed_out=self.timed_out,
                stopped=self.stopped, elapsed=time.monotonic() - self._t0,
                workdir=self.workdir, emulator_errors=self.errors())
        return self._result

    def _close(self):
        if self.relay:
            self.relay.close()
        with _live_lock:
            _live_machines.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        if self.proc:
            self.wait()

    def connect_debug_port(self, timeout=10):
        """A socket on COM2 through the relay, for tests that speak RSP themselves."""
        return socket.create_connection(("127.0.0.1", self.gdb_port), timeout=timeout)


# ---------------------------------------------------------------------- Bochs

BOCHS_DEFAULT_MODEL = "corei7_skylake_x"


# What Bochs logs as a "panic" when the guest powers off (ACPI S5, port 0x8900).
_BOCHS_POWER_OFF = re.compile(r"ACPI control: soft power off|Shutdown port: shutdown requested")


class Bochs(Machine):
    """Bochs 2.7 with VT-x, headless, stopping at the first magic breakpoint.

    A disabled UART is absent (its probe reads nothing back). extra_config
    lines are appended to the generated bochsrc (later lines win)."""

    name = "bochs"

    def __init__(self, iso, workdir, *, model=BOCHS_DEFAULT_MODEL, cpus=1,
                 extra_config=(), **kw):
        super().__init__(iso, workdir, **kw)
        self.model = model
        self.cpus = cpus
        self.extra_config = list(extra_config)
        self.bochsrc_path = os.path.join(self.workdir, "bochsrc")
        self.stdout_capture = _Capture(os.path.join(self.workdir, "bochs.stdout"))

    def bochsrc(self):
        w = self.workdir
        lines = [
            f"megs: {self.megs}",
            f"cpu: model={self.model}, count={self.cpus}, ips=50000000, "
            "reset_on_triple_fault=0, ignore_bad_msrs=0",
            # sync=none: the TSC advances once per instruction (deterministic).
            "clock: sync=none, time0=local",
            "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
            "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
            # nogui is not compiled in; rfb with timeout=0 runs without a viewer.
            'display_library: rfb, options="timeout=0"',
            # Debian's ALSA mixer thread aborts Bochs when no sound card exists.
            "sound: driver=dummy",
            "speaker: enabled=0",
            "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
            f"ata0-master: type=cdrom, path={self.iso}, status=inserted",
            "boot: cdrom",
            "port_e9_hack: enabled=1",
            "magic_break: enabled=1",
            f"log: {w}/bochs.log",
            "panic: action=fatal",
            "error: action=report",
            "info: action=report",
            "debug: action=ignore",
        ]
        if self.com1:
            lines.append(f"com1: enabled=1, mode=file, dev={self.console_path}")
        if self.com2:
            lines.append(f"com2: enabled=1, mode=socket-client, "
                         f"dev=localhost:{self.relay.target_port}")
        for n, on in ((3, self.com3), (4, self.com4)):
            if on:
                lines.append(f"com{n}: enabled=1, mode=file, dev={w}/com{n}.txt")
        return "\n".join(lines + self.extra_config) + "\n"

    def command(self):
        with open(self.bochsrc_path, "w") as f:
            f.write(self.bochsrc())
        rc = os.path.join(self.workdir, "bochs.rc")
        with open(rc, "w") as f:
            f.write("c\nquit\n")     # run; after the first magic breakpoint, quit (exit 0)
        return ["bochs", "-q", "-f", self.bochsrc_path, "-rc", rc]

    def e9_text(self):
        self.stdout_capture.poll()
        return bochs_e9(self.stdout_capture.raw)

    def _finish(self):
        result = super()._finish()
        # Bochs mixes E9 into its stdout; leave a clean copy beside the other logs.
        with open(os.path.join(self.workdir, "e9.txt"), "w") as f:
            f.write(result.e9)
        return result

    def errors(self):
        """Bochs' panic lines, except the ones a power-off produces."""
        try:
            with open(os.path.join(self.workdir, "bochs.log"), errors="replace") as f:
                return [l.rstrip("\n") for l in f
                        if re.match(r"^\d+p\[", l) and not _BOCHS_POWER_OFF.search(l)]
        except FileNotFoundError:
            return ["no bochs.log (Bochs did not start?)"]


# Bochs' stdout mixes port 0xE9 bytes with its debugger's chatter. The debugger
# speaks before the first instruction (banner, "Next at t=0", the reset-vector
# line) and again only when the machine stops (magic breakpoint, quit).
_BOCHS_FIRST_STOP = re.compile(r"^\(\d+\) \[0x0*fffffff0\][^\n]*\n", re.M)
_BOCHS_LATER_STOP = re.compile(r"\(\d+\) Magic breakpoint|^Next at t=\d+|^\(\d+\)\.?\[", re.M)


def bochs_e9(stdout):
    m = _BOCHS_FIRST_STOP.search(stdout)
    if not m:
        return ""
    text = stdout[m.end():]
    stop = _BOCHS_LATER_STOP.search(text)
    return text[:stop.start()] if stop else text


# ----------------------------------------------------------------------- QEMU


def kvm_runs_vmx_guests():
    """/dev/kvm helps only if the host CPU has VMX and nesting is on."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l for l in f if l.startswith("flags")), "").split()
    except OSError:
        return False
    if "vmx" not in flags:
        return False
    try:
        with open("/sys/module/kvm_intel/parameters/nested") as f:
            return f.read().strip() in ("Y", "1")
    except OSError:
        return False


def _free_tcp_port():
    """A port nobody listens on now (the emulator binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Qemu(Machine):
    """qemu-system-x86_64: KVM with nested VMX when the host allows, else TCG.

    kvm: None = decide from the host; False = force TCG; True = insist.
    gdb_stub: QEMU's own gdb stub on m.stub_port, the CPU held before its
    first instruction (-S) until gdb continues it: the reference stub that
    vmxdbg's is compared with (m.gdb_port stays COM2)."""

    name = "qemu"

    def __init__(self, iso, workdir, *, kvm=None, warn=sys.stderr, gdb_stub=False, **kw):
        super().__init__(iso, workdir, **kw)
        self.kvm = kvm_runs_vmx_guests() if kvm is None else kvm
        self.stub_port = _free_tcp_port() if gdb_stub else None
        if not self.kvm and warn:
            warn.write("emu: VMX is unavailable under QEMU TCG (no usable nested KVM "
                       "here); the hypervisor will report that it has no VMX\n")
        self.e9_capture = _Capture(os.path.join(self.workdir, "e9.txt"))

    def command(self):
        w = self.workdir
        cpu = ["-enable-kvm", "-cpu", "host"] if self.kvm else ["-cpu", "max"]
        cmd = ["qemu-system-x86_64", "-cdrom", self.iso, "-m", str(self.megs),
               "-display", "none", "-monitor", "none", "-parallel", "none",
               "-nic", "none", "-no-reboot", *cpu,
               "-chardev", f"file,id=e9,path={w}/e9.txt",
               "-device", "isa-debugcon,iobase=0xe9,chardev=e9",
               # Test guests power off through it; exit status (value << 1) | 1.
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
               # Explicit UARTs so a disabled port is absent, not silently null.
               "-serial", "none"]
        ports = {1: f"file,path={self.console_path}" if self.com1 else None,
                 2: f"socket,host=127.0.0.1,port={self.relay.target_port}" if self.com2 else None,
                 3: f"file,path={w}/com3.txt" if self.com3 else None,
                 4: f"file,path={w}/com4.txt" if self.com4 else None}
        for n, backend in ports.items():
            if backend:
                cmd += ["-chardev", f"{backend},id=com{n}",
                        "-device", f"isa-serial,index={n - 1},chardev=com{n}"]
        if self.stub_port:
            cmd += ["-S", "-gdb", f"tcp:127.0.0.1:{self.stub_port}"]
        return cmd

    def e9_text(self):
        self.e9_capture.poll()
        return self.e9_capture.raw

    def errors(self):
        try:
            with open(os.path.join(self.workdir, "qemu.stderr"), errors="replace") as f:
                return [l.rstrip("\n") for l in f if l.strip()]
        except FileNotFoundError:
            return []


EMULATORS = {"bochs": Bochs, "qemu": Qemu}


def boot(emu, iso, workdir, **kw):
    """Start a machine of kind emu ('bochs' or 'qemu') and wait for its end."""
    with EMULATORS[emu](iso, workdir, **kw) as m:
        m.start()
        return m.wait()
