#!/usr/bin/env python3
"""RSP figures (issue 4, item 12): what a gdb session costs on the wire,
vmxdbg's stub against QEMU's own, with the same gdb script and gdb's
default settings.

Round trips and bytes are counted by a TCP proxy between gdb and the stub
(vmxdbg's COM2 relay, QEMU's -gdb port).  A round trip is one packet gdb
sends (acknowledgements are not packets; a '+' rides with the reply it
acknowledges); bytes are everything the stub sends: packets, framing, acks.
The script marks its phases with `maint packet qvmxdbg.mark:NAME`, which
both stubs answer with the empty reply; the proxy leaves each marker and
its reply out of the figures.

Phases, all in work_step of the basic guest (straight-line code):
  stepi      N `stepi`s, no breakpoint set;
  stepi-bp   N `stepi`s with a breakpoint set elsewhere (gdb inserts it
             before each step and removes it after: Z0/z0 are its cost);
  dump-64k   `dump binary memory` of 64 KiB of guest memory.

Round-trip latency (vmxdbg only), in wall milliseconds: 256 one-word `m`
requests on a raw socket through `make run`'s COM2 relay, in no-ack mode as
gdb negotiates it (the median is the figure), and gdb's own wall time per
command (`maint set per-command time on`) for `x/256xw` (one request per
word) and `stepi`.  Idle-machine figures: Bochs shares the CPU with
whatever else runs.

Break-in latency (vmxdbg only) is measured in instructions: Bochs with
`clock: sync=none` advances its tick counter, which is the guest's TSC,
once per instruction, and with the serial device's debug log on it stamps
two events with that counter: the 0x03 entering COM2's receive FIFO from
the socket ("com2: read byte [0x03]") and the hypervisor reading it from
the data register (the stub's poll on a preemption-timer exit).  Their
difference is the latency, in instructions executed.  Two guests: the
basic guest's `in` loop on port 0x80, which never exits (only the
preemption timer, counting guest time, polls), and the exit-loop guest,
which does nothing but CPUID exits (the TSC deadline on the exit path
polls); the first byte of the stop reply leaving is stamped too.  QEMU has no such
clock (its stub stops the vCPU as soon as its main loop reads the byte).

Writes build/bench-gdb.json (bench.py merges it into build/bench.json).
"""
import argparse
import bisect
import json
import os
import random
import re
import selectors
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELF = os.path.join(ROOT, "build", "vmxdbg.elf")
GUEST = os.path.join(ROOT, "build", "guests", "basic.elf")
EXITLOOP = os.path.join(ROOT, "build", "guests", "exitloop.elf")
STEPS = 20
DUMP = (0x100000, 0x110000)         # 64 KiB of the guest's image: mapped, paging off
BREAKINS = 8
ROUND_TRIPS = 256
ROUND_TRIP_TARGET_MS = 5
STEPI_TIMED = 10
TARGETS = {"stepi_round_trips": 3, "stepi_bytes": 350, "stepi_bp_round_trips": 4,
           "dump_64k_round_trips": 8}
MARK = "qvmxdbg.mark:"


# ----------------------------------------------------------------- the proxy


class CountingProxy:
    """gdb -> listen port -> target port, recording every chunk in order."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.events = []            # (direction "gdb" | "stub", bytes), in arrival order
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        pair = {}
        while not self._stop:
            for key, _ in sel.select(0.2):
                if key.data == "accept":
                    client, _ = self.listener.accept()
                    target = socket.create_connection(("127.0.0.1", self.target_port), timeout=30)
                    pair = {client: (target, "gdb"), target: (client, "stub")}
                    sel.register(client, selectors.EVENT_READ, "data")
                    sel.register(target, selectors.EVENT_READ, "data")
                    continue
                src = key.fileobj
                dst, who = pair[src]
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    for s in (src, dst):
                        sel.unregister(s)
                        s.close()
                    pair = {}
                    continue
                self.events.append((who, data))
                dst.sendall(data)

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.listener.close()


def packets(stream):
    """Split one direction's bytes into '+', '-', '\\x03' and '$...#xx' items,
    each with the index of the byte that ends it."""
    out, i = [], 0
    while i < len(stream):
        c = stream[i:i + 1]
        if c == b"$":
            end = stream.find(b"#", i)
            if end < 0 or end + 3 > len(stream):
                break
            out.append((stream[i:end + 3], end + 2))
            i = end + 3
        else:
            out.append((c, i))
            i += 1
    return out


def phases(events):
    """{phase: {"round_trips", "bytes", "packets": [...]}} from the proxy's
    record.  Each direction's bytes are split into packets, and each packet
    is placed on the common timeline by the event that carried its end."""
    streams = {"gdb": bytearray(), "stub": bytearray()}
    ends = {"gdb": ([], []), "stub": ([], [])}     # (end offsets, event numbers)
    for n, (who, data) in enumerate(events):
        streams[who] += data
        ends[who][0].append(len(streams[who]))
        ends[who][1].append(n)

    def when(who, pos):             # the event that carried byte pos
        offsets, numbers = ends[who]
        return numbers[bisect.bisect_right(offsets, pos)]

    marks = []                      # (event number, name) for each marker sent
    sent = []                       # (event number, packet) for gdb's other packets
    for pkt, end in packets(bytes(streams["gdb"])):
        if not pkt.startswith(b"$"):
            continue
        body = pkt[1:-3].decode(errors="replace")
        if body.startswith(MARK):
            marks.append((when("gdb", end), body[len(MARK):]))
        else:
            sent.append((when("gdb", end), body))
    stub_items = [(when("stub", end), pkt) for pkt, end in packets(bytes(streams["stub"]))]

    result = {}
    for k, (start, name) in enumerate(marks):
        stop = marks[k + 1][0] if k + 1 < len(marks) else len(events)
        mine = [body for n, body in sent if start < n < stop]
        # The stub's bytes after the marker's own reply, up to the next marker.
        items = [(n, p) for n, p in stub_items if start <= n < stop]
        first_reply = next((i for i, (_, p) in enumerate(items) if p.startswith(b"$")), None)
        counted = items[first_reply + 1:] if first_reply is not None else []
        result[name] = {"round_trips": len(mine), "bytes": sum(len(p) for _, p in counted),
                        "packets": mine}
    return result


# ------------------------------------------------------------------ sessions


def script(steps):
    mark = lambda name: f"maint packet {MARK}{name}"
    return ["break work_step", "continue", "delete",
            mark("stepi"), *["stepi"] * steps,
            "break work_checksum", mark("stepi-bp"), *["stepi"] * steps, "delete",
            mark("dump-64k"), f"dump binary memory {{dump}} {DUMP[0]:#x} {DUMP[1]:#x}",
            mark("end"), "detach"]


def run_gdb(port, commands, before=(), log=None, timeout=300):
    cmd = ["gdb", "-nx", "-q", "-batch", "-ex", "set pagination off", *sum((["-ex", c] for c in before), []),
           GUEST, "-ex", f"target remote localhost:{port}", *sum((["-ex", c] for c in commands), [])]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if log:
        with open(log, "w") as f:
            f.write(" ".join(cmd) + "\n" + p.stdout + p.stderr)
    return p.stdout + p.stderr


def measured(port, work, name, before, steps):
    """One scripted session through the proxy; its phases."""
    proxy = CountingProxy(port)
    dump = os.path.join(work, f"{name}.dump")
    try:
        out = run_gdb(proxy.port, [c.format(dump=dump) for c in script(steps)], before,
                      log=os.path.join(work, f"{name}.gdb.txt"))
    finally:
        proxy.close()
    if "detached" not in out:
        raise RuntimeError(f"{name}: the gdb session failed: {out[-600:]}")
    if os.path.getsize(dump) != DUMP[1] - DUMP[0]:
        raise RuntimeError(f"{name}: the dump has {os.path.getsize(dump)} bytes")
    return phases(proxy.events)


def vmxdbg_machine(work, name, guest_args="", extra_config=(), guest=None):
    iso = os.path.join(work, f"{name}.iso")
    subprocess.run([os.path.join(ROOT, "tools", "mkiso"), iso, ELF, "--args=panic=poweroff gdb-wait",
                    "--module", guest or GUEST, f"guest {guest_args}".strip()], check=True)
    m = emu.Bochs(iso, os.path.join(work, name), timeout=300, extra_config=list(extra_config)).start()
    m.wait_for(r"gdb-wait: the guest waits", timeout=120)
    return m


def session_vmxdbg(work, view, steps):
    m = vmxdbg_machine(work, f"vmxdbg-{view}")
    try:
        before = ()
        if view == "amd64":         # the view QEMU's stub gives; set, then reconnect
            run_gdb(m.gdb_port, ["monitor arch amd64", "disconnect"])
            before = ("set architecture i386:x86-64",)
        return measured(m.gdb_port, work, f"vmxdbg-{view}", before, steps)
    finally:
        m.stop()


def session_qemu(work, steps):
    iso = os.path.join(work, "qemu.iso")
    subprocess.run([os.path.join(ROOT, "tools", "mkiso"), iso, GUEST, "--multiboot1", "--args="], check=True)
    m = emu.Qemu(iso, os.path.join(work, "qemu"), kvm=False, warn=None, gdb_stub=True, timeout=300).start()
    try:
        return measured(m.stub_port, work, "qemu", ("set architecture i386:x86-64",), steps)
    finally:
        m.stop()


# ----------------------------------------------------------------- break-in


def rsp(sock, data):
    sock.sendall(b"$%s#%02x" % (data, sum(data) & 0xff))


def read_packet(sock, buf=b""):
    while not re.search(rb"\$[^#]*#..", buf):
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("the stub hung up")
        buf += chunk
    m = re.search(rb"\$([^#]*)#..", buf)
    return m.group(1), buf[m.end():]


# The guests broken into: (image, None for GUEST; arguments; console line
# once in the loop).
BREAKIN_LOOPS = {
    "no_exits": (None, "bench=io:100000000", r"GUEST PASS crc32-selftest"),
    "cpuid_exits": (EXITLOOP, "", r"EXITLOOP cpuid: looping"),
}


def breakin_latency(work, loop, count=BREAKINS):
    """count break-ins at random moments of a guest loop; instructions from
    the 0x03 entering the UART to the stub reading it, and to the reply."""
    guest, args, looping = BREAKIN_LOOPS[loop]
    name = f"breakin-{loop}"
    m = vmxdbg_machine(work, name, args, ["debug: action=ignore, serial=report"], guest=guest)
    try:
        s = socket.create_connection(("127.0.0.1", m.gdb_port), timeout=30)
        rsp(s, b"qSupported")
        read_packet(s)
        s.sendall(b"+")
        for n in range(count):
            rsp(s, b"c")
            if n == 0:              # into the loop: the checks are done
                m.wait_for(looping, timeout=120)
            time.sleep(random.uniform(0.05, 0.25))
            s.sendall(b"\x03")
            reply, _ = read_packet(s)
            s.sendall(b"+")
            if not reply.startswith(b"T02"):
                raise RuntimeError(f"break-in answered {reply!r}")
        rsp(s, b"D")
        read_packet(s)
        s.close()
    finally:
        m.stop()
    # The debug log holds every COM2 register access (the stub's LSR polls
    # while it waits: hundreds of MB); the events that count are kept in
    # <name>-events.txt and the log goes.
    log = os.path.join(work, name, "bochs.log")
    arrive = r"^(\d+)d\[SER\s*\] com2: read byte \[0x03\]"
    seen = r"^(\d+)d\[SER\s*\] com2 register read from address: 0x02f8 = 0x03"
    reply = r"^(\d+)d\[SER\s*\] com2 register write to  address: 0x02f8 = 0x24"
    samples, state = [], None
    with open(log, errors="replace") as f, open(os.path.join(work, f"{name}-events.txt"), "w") as keep:
        for line in f:
            if (a := re.match(arrive, line)):
                state = [int(a.group(1))]
            elif state and len(state) == 1 and (b := re.match(seen, line)):
                state.append(int(b.group(1)))
            elif state and len(state) == 2 and (c := re.match(reply, line)):
                state.append(int(c.group(1)))
                samples.append(state)
                state = None
            else:
                continue
            keep.write(line)
    os.unlink(log)
    if len(samples) != count:
        raise RuntimeError(f"break-in: {len(samples)} of {count} found (see {name}-events.txt)")
    to_seen = [b - a for a, b, _ in samples]
    to_reply = [c - a for a, _, c in samples]
    return {"samples": count, "to_stub_mean": round(sum(to_seen) / count),
            "to_stub_max": max(to_seen), "to_reply_mean": round(sum(to_reply) / count),
            "to_reply_max": max(to_reply), "to_stub": to_seen}


# ------------------------------------------------------------ wall latency


GDB_TIME = re.compile(r"Command execution time: [\d.]+ \(cpu\), ([\d.]+) \(wall\)")


def gdb_command_times(work, port):
    """gdb's wall seconds for `x/256xw` and each of STEPI_TIMED `stepi`s, at
    the guest's first instruction; gdb disconnects, leaving it stopped."""
    path = os.path.join(work, "wall.gdb")
    with open(path, "w") as f:
        f.write("\n".join(["set pagination off", f"target remote localhost:{port}",
                           "maint set per-command time on", f"x/256xw {DUMP[0]:#x}",
                           *["stepi"] * STEPI_TIMED, "maint set per-command time off", "disconnect"]) + "\n")
    p = subprocess.run(["gdb", "-nx", "-q", "-batch", GUEST, "-x", path], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=300)
    with open(os.path.join(work, "wall.gdb.txt"), "w") as f:
        f.write(p.stdout + p.stderr)
    times = [float(x) for x in GDB_TIME.findall(p.stdout + p.stderr)]
    if len(times) != 1 + STEPI_TIMED:
        raise RuntimeError(f"gdb timed {len(times)} commands (see wall.gdb.txt)")
    return times[0], times[1:]


def raw_round_trips(port, n=ROUND_TRIPS):
    """Wall ms of n one-word `m` requests, each sent once the last reply is in."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.sendall(b"+")
        for setup in (b"qSupported", b"QStartNoAckMode"):
            rsp(s, setup)
            read_packet(s)
            s.sendall(b"+")     # acknowledged in ack mode, ignored in no-ack mode
        ms = []
        for _ in range(n):
            t0 = time.monotonic()
            rsp(s, b"m%x,4" % DUMP[0])
            reply, rest = read_packet(s)
            ms.append((time.monotonic() - t0) * 1000)
            if len(reply) != 8 or rest:
                raise RuntimeError(f"`m` answered {reply!r} {rest!r}")
        return ms
    finally:
        s.close()


def wall_latency(work):
    """Wall milliseconds per round trip through the relay, raw and through gdb."""
    m = vmxdbg_machine(work, "wall")
    try:
        x256, stepis = gdb_command_times(work, m.gdb_port)
        ms = sorted(raw_round_trips(m.gdb_port))
    finally:
        m.stop()
    return {"m_word_median_ms": round(ms[len(ms) // 2], 2), "m_word_p90_ms": round(ms[len(ms) * 9 // 10], 2),
            "m_word_samples": len(ms), "x_256xw_ms": round(x256 * 1000, 1),
            "stepi_median_ms": round(sorted(stepis)[len(stepis) // 2] * 1000, 1)}


# -------------------------------------------------------------------- report


def per_step(ph, steps):
    return {"round_trips": round(ph["round_trips"] / steps, 2), "bytes": round(ph["bytes"] / steps, 1)}


def summarise(raw, steps):
    out = {}
    for who, ph in raw.items():
        out[who] = {"stepi": per_step(ph["stepi"], steps), "stepi_bp": per_step(ph["stepi-bp"], steps),
                    "dump_64k": {"round_trips": ph["dump-64k"]["round_trips"],
                                 "bytes": ph["dump-64k"]["bytes"]},
                    "stepi_packets": sorted(set(re.sub(r"[,:].*", "", p) for p in ph["stepi"]["packets"])),
                    "stepi_bp_packets": sorted(set(re.sub(r"[,:].*", "", p)
                                                   for p in ph["stepi-bp"]["packets"]))}
    return out


def run(work, steps=STEPS, breakins=BREAKINS, elf=None, guest=None):
    """Every figure; elf and guest replace the default images."""
    global ELF, GUEST
    ELF, GUEST = elf or ELF, guest or GUEST
    os.makedirs(work, exist_ok=True)
    raw = {"qemu": session_qemu(work, steps), "vmxdbg-i386": session_vmxdbg(work, "i386", steps),
           "vmxdbg-amd64": session_vmxdbg(work, "amd64", steps)}
    res = summarise(raw, steps)
    res["wall"] = wall_latency(work)
    res["breakin_instructions"] = {loop: breakin_latency(work, loop, breakins) for loop in BREAKIN_LOOPS}
    res["steps"] = steps
    return res


def table(res):
    lines = [f"{'rsp figure':<30}{'vmxdbg i386':>13}{'vmxdbg amd64':>14}{'QEMU':>9}{'target':>10}"]
    rows = [("stepi round trips", "stepi", "round_trips", "stepi_round_trips"),
            ("stepi bytes stub->gdb", "stepi", "bytes", "stepi_bytes"),
            ("stepi+bp round trips", "stepi_bp", "round_trips", "stepi_bp_round_trips"),
            ("stepi+bp bytes stub->gdb", "stepi_bp", "bytes", None),
            ("64 KiB dump round trips", "dump_64k", "round_trips", "dump_64k_round_trips"),
            ("64 KiB dump bytes stub->gdb", "dump_64k", "bytes", None)]
    for label, phase, key, target in rows:
        vals = [res[w][phase][key] for w in ("vmxdbg-i386", "vmxdbg-amd64", "qemu")]
        t = f"<= {TARGETS[target]}" if target else ""
        lines.append(f"{label:<30}{vals[0]:>13}{vals[1]:>14}{vals[2]:>9}{t:>10}")
    w = res["wall"]
    lines.append(f"wall ms per one-word `m` round trip: median {w['m_word_median_ms']}, 90% {w['m_word_p90_ms']}"
                 f" ({w['m_word_samples']} samples, target <= {ROUND_TRIP_TARGET_MS}); gdb's wall ms for"
                 f" x/256xw {w['x_256xw_ms']}, per stepi {w['stepi_median_ms']}")
    for loop, b in res["breakin_instructions"].items():
        lines.append(f"break-in ({loop}), 0x03 to stub (instr.) mean {b['to_stub_mean']}, max {b['to_stub_max']}"
                     f" ({b['samples']} samples); to the reply's first byte: mean {b['to_reply_mean']}")
    for w in ("vmxdbg-i386", "qemu"):
        lines.append(f"{w} packets per stepi: {', '.join(res[w]['stepi_packets'])}; "
                     f"with a breakpoint: {', '.join(res[w]['stepi_bp_packets'])}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench-gdb.json"))
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--breakins", type=int, default=BREAKINS)
    a = ap.parse_args()
    res = run(os.path.join(ROOT, "build", "bench", "gdb"), a.steps, a.breakins)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(table(res))
    print(f"(written to {os.path.relpath(a.out, ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
