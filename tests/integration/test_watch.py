"""Watchpoints and breakpoints at gdb's scale, with real gdb on the basic
guest under vmxdbg in Bochs (issue 9 item 6, issue 10 item 9).

A watch of any length and alignment is taken (on the basic guest, and on
the 64-bit demo guest's whole state struct) (what DR0-3 cannot express
goes to EPT page protection); watches by the dozen from a script, software
breakpoints by the hundred; a watch across a page boundary sees every store,
including those of instructions that touch both pages; past a limit the
stub answers an error gdb shows and the hypervisor's log names the limit.
Each test ends with gdb detaching and the guest finishing with the
checksum of an undisturbed run: nothing was lost or changed on the way.
The helpers (gdb in batch mode, the checksum) are test_gdb.py's.
"""
import importlib.util
import os
import re
import subprocess

_spec = importlib.util.spec_from_file_location(
    "integration.test_gdb_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_gdb.py"))
g = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(g)

BASIC = g.BASIC


def start_waiting(t, guest_args="", timeout=240):
    """test_gdb's start, with time for gdb's hundreds of round trips."""
    m = t.start(hv_args="panic=poweroff gdb-wait",
                modules=[(BASIC, f"guest {guest_args}".strip())], timeout=timeout)
    t.wait_for(m, g.WAITING)
    return m


def script(t, name, lines):
    """A gdb command file in the test's log folder; returns `source PATH`."""
    os.makedirs(t.workdir, exist_ok=True)
    path = os.path.join(t.workdir, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return f"source {path}"


def test_watch_of_a_20_byte_struct_alone_stops_right_after_its_first_store(t):
    """`watch boot_state` (Z2,107000,14) was refused as "too many hardware
    watchpoints" even as the only one.  entry.S stores EAX (the multiboot
    magic) into boot_state.eax first: the stop shows that store and no other."""
    m = start_waiting(t)
    out = g.gdb(t, m, "watch boot_state", "continue", "p/x boot_state", "delete", "detach")
    t.find(out, r"Hardware watchpoint 1: boot_state", "watch accepted")
    t.check("Could not insert" not in out, f"the watch was refused: {out[-600:]!r}")
    t.find(out, r"Old value = \{eax = 0, ebx = 0, cr0 = 0, eflags = 0, bss_or = 0\}", "old value")
    t.find(out, r"New value = \{eax = 732803074, ebx = 0, cr0 = 0, eflags = 0, bss_or = 0\}",
             "new value: only the first store (0x2badb002) done")
    t.find(out, r"^\$1 = \{eax = 0x2badb002, ebx = 0x0,", "stopped before the second store")
    g.finishes_with(t, m)


def test_rwatch_of_the_struct_ignores_its_stores_and_stops_at_its_first_read(t):
    """A read watch on EPT (execute-only page, or no rights without that
    capability): entry.S's five stores and its reads of the .bss that shares
    the page exit but do not stop; guest_start reading boot_state.eax does."""
    m = start_waiting(t)
    out = g.gdb(t, m, "rwatch boot_state", "continue", "delete", "detach")
    t.find(out, r"Hardware read watchpoint 1: boot_state", "rwatch accepted")
    t.find(out, r"Value = \{eax = 732803074, ebx = \d+, cr0 = \d+, eflags = \d+, bss_or = 0\}",
             "stopped after entry.S filled it in")
    t.find(out, r"^0x[0-9a-f]+ in guest_start \(\) at tests/guests/common/start\.c:\d+\n\d+\s+mbinfo_init\(boot_state\.eax",
             "stopped in guest_start, at its read")
    g.finishes_with(t, m)


def test_sixty_eight_watchpoints_from_a_script_are_accepted_and_an_ept_one_hits(t):
    """gdb inserts the lowest addresses first: the four boot_state words take
    DR0-3 (the guest never writes them again), the 64 work_buffer words go
    to EPT; the first store into one of them stops the guest."""
    m = start_waiting(t)
    watches = [f"watch boot_state.{f}" for f in ("eax", "ebx", "cr0", "eflags")] + \
              [f"watch work_buffer[{i}]" for i in range(100, 164)]
    src = script(t, "watches.gdb", watches)
    out = g.gdb(t, m, "break work_step", "continue", "delete", src, "info watchpoints",
                "continue", "delete", "detach", timeout=240)
    listed = re.findall(r"^\d+\s+hw watchpoint\s+keep\s+y\s+(\S+)$", out, re.M)
    t.check(len(listed) == 68, f"gdb lists {len(listed)} watchpoints, want 68")
    t.check("Could not insert" not in out, f"a watchpoint was refused: {out[-600:]!r}")
    hit = t.find(out, r"Hardware watchpoint (\d+): work_buffer\[(\d+)\]\s+Old value = \d+\s+New value = \d+",
                   "an EPT watchpoint hit")
    t.check(hit.group(2) == "100", f"first hit on work_buffer[{hit.group(2)}], want [100]")
    g.finishes_with(t, m)


def instruction_starts(t, first_symbol, count):
    """count consecutive instruction addresses of the basic guest from a symbol."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", t.path(BASIC)],
                          capture_output=True, text=True, check=True).stdout
    start = int(re.search(rf"^([0-9a-f]+) <{first_symbol}>:", dump, re.M).group(1), 16)
    addrs = [int(a, 16) for a in re.findall(r"^\s+([0-9a-f]+):\t", dump, re.M)]
    return [a for a in addrs if a >= start][:count]


def test_a_hundred_and_twenty_software_breakpoints_are_taken_and_restored(t):
    """Software breakpoints stopped at 64.  120 int3s on consecutive
    instructions from guest_main on, kept inserted while stopped
    (always-inserted): the guest stops at three of them in turn, gdb reads
    the original code bytes through them, and after detach every original
    byte is back (the checksum)."""
    addrs = instruction_starts(t, "guest_main", 120)
    t.check(len(addrs) == 120, f"only {len(addrs)} instructions found")
    m = start_waiting(t)
    src = script(t, "breaks.gdb", [f"break *0x{a:x}" for a in addrs])
    out = g.gdb(t, m, "set breakpoint always-inserted on", src, "info breakpoints", "continue", "p/x $pc", "continue", "p/x $pc",
                "continue", "p/x $pc", "x/4xb guest_main", "delete", "detach", timeout=300)
    listed = re.findall(r"^\d+\s+breakpoint\s+keep\s+y", out, re.M)
    t.check(len(listed) == 120, f"gdb lists {len(listed)} breakpoints, want 120")
    t.check("Cannot insert breakpoint" not in out, f"a breakpoint was refused: {out[-600:]!r}")
    pcs = [int(p, 16) for p in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", out, re.M)]
    t.check(pcs == addrs[:3], f"stops at {pcs}, want the first three breakpoints {addrs[:3]}")
    hits = re.findall(r"^Breakpoint (\d+), ", out, re.M)
    t.check(len(hits) == 3, f"{len(hits)} breakpoint stops, want 3")
    # gdb reads the original bytes, not the int3s, while they are inserted.
    code = t.find(out, r"<guest_main>:((?:\s+0x[0-9a-f]+){4})", "code bytes at guest_main").group(1)
    dump = subprocess.run(["objdump", "-s", f"--start-address={addrs[0]}", f"--stop-address={addrs[0] + 4}",
                           t.path(BASIC)], capture_output=True, text=True, check=True).stdout
    want = bytes.fromhex(re.search(rf"^ {addrs[0]:x} ([0-9a-f]{{8}})", dump, re.M).group(1))
    t.check(bytes(int(b, 16) for b in code.split()) == want, f"gdb read {code.split()}, the ELF has {want.hex()}")
    g.finishes_with(t, m)


# The guest's cross-page stores (tests/guests/basic/cross_page.c), as the
# straddler's four words after each: every stop of `watch` shows one.
ACROSS = [0x0, 0x11110000, 0x1111, 0x0]           # mov across the boundary
FIRST_PAGE = [0x22222222, 0x11110000, 0x1111, 0x0]  # then a store to the first page only
AFTER_COPY = [0x44444444, 0x33330000, 0x3333, 0x0]  # rep movsb across, then the first page
LAST = 0x66666666                                   # the second page only, after pusha across
# then with interrupts enabled a mov across (0x77777777) and a store to the first page (0x88888888)


def test_a_watch_across_a_page_boundary_sees_every_store_of_instructions_touching_both_pages(t):
    """Each crossing instruction exits on one page, then, while stepping, on
    the other; the re-arm used to close only the last page opened, so the
    store after it (to the other page) went unseen."""
    m = start_waiting(t, "cross-page")
    src = script(t, "across.gdb", [
        "break cross_page_run", "continue", "delete",
        "watch cross_page_area.straddler",
        "python",
        "end = int(gdb.parse_and_eval('(unsigned long) report_expect'))",
        "gdb.execute('tbreak *%d' % end)",
        "for _ in range(16):",
        "    gdb.execute('continue')",
        "    if int(gdb.parse_and_eval('(unsigned long) $pc')) == end:",
        "        break",
        "    gdb.execute('p/x cross_page_area.straddler')",
        "end",
    ])
    out = g.gdb(t, m, src, "delete", "detach", timeout=240)
    t.find(out, r"Hardware watchpoint 2: cross_page_area\.straddler", "watch accepted")
    states = [[int(w, 16) for w in s.split(", ")]
              for s in re.findall(r"^\$\d+ = \{(0x[0-9a-f]+(?:, 0x[0-9a-f]+){3})\}$", out, re.M)]
    t.check(len(states) >= 9, f"{len(states)} watch stops, want at least 9: {states}")
    t.check(states[0] == ACROSS, f"first stop {states[0]}, want the crossing mov's {ACROSS}")
    t.check(states[1] == FIRST_PAGE, f"second stop {states[1]}, want the first-page store's {FIRST_PAGE}")
    t.check(AFTER_COPY in states, f"no stop for the first-page store after rep movsb: {states}")
    after = states[states.index(AFTER_COPY) + 1:]
    t.check(len(after) == 5 and after[0][0] not in (0x44444444, 0x55555555),
            f"after rep movsb want pusha, a first-page, a second-page store, a mov across, a first-page store: "
            f"{after}")
    t.check(after[1][0] == 0x55555555 and after[1][1:] == after[0][1:],
            f"the first-page store after pusha: {after}")
    t.check(after[2] == after[1][:3] + [LAST], f"the second-page store: {after}")
    w = after[2]
    across = [w[0], (w[1] & 0xffff) | 0x77770000, (w[2] & 0xffff0000) | 0x7777, w[3]]
    t.check(after[3] == across, f"the mov across with interrupts enabled: {after[3]}, want {across}")
    t.check(after[4] == [0x88888888] + across[1:], f"the first-page store after it: {after[4]}")
    t.find(out, r"Temporary breakpoint \d+, .*report_expect", "reached the guest's own check")
    r = g.finishes_with(t, m)
    r.expect(r"GUEST PASS cross-page")


def test_past_the_limits_gdb_gets_an_error_and_the_log_names_the_limit(t):
    """A fifth hardware breakpoint, a watch longer than 64 KiB (gdb shows it
    cannot insert them); then 64 KiB watches on the same 16 pages until the
    4096 EPT pieces are used up (raw Z2 packets, no value to read): the next
    is E28.  detach clears them all and the guest finishes unharmed."""
    m = start_waiting(t)
    hbreaks = [f"hbreak *0x{a:x}" for a in instruction_starts(t, "guest_main", 5)]
    pieces = 4096 // 16
    packets = [f"maint packet Z2,100000,{0x10000 - k:x}" for k in range(pieces + 1)]
    src = script(t, "limit.gdb", packets)
    out = g.gdb(t, m, *hbreaks, "continue", "delete",
                "set max-value-size 131072", "watch *(char (*)[65537]) 0x100000", "continue", "delete",
                src, "detach", timeout=300)
    t.find(out, r"Cannot insert hardware breakpoint 5\.", "the fifth hbreak refused")
    t.find(out, r"Could not insert hardware watchpoint 6\.", "the long watch refused")
    oks = re.findall(r'^received: "OK"$', out, re.M)
    t.check(len(oks) == pieces, f"{len(oks)} 64 KiB watches taken, want {pieces}")
    t.find(out, r'^received: "E28"$', "the next one past the limit")
    r = g.finishes_with(t, m)
    r.expect(r"breakpoints: all four debug registers in use: no hardware breakpoint at 0x[0-9a-f]+")
    r.expect(r"watch: 0x100000, 65537 bytes: longer than the 65536 bytes one EPT watch may cover")
    r.expect(r"watch: 0x100000, 65280 bytes: all 4096 EPT watch pieces in use")


DEMO = "build/guests/demo.elf"


def test_watch_of_the_demo_guests_whole_state_struct_stops_at_each_change_and_it_runs_on(t):
    """The 64-bit demo guest with paging on and a 100 Hz timer: `watch
    demo_state` (the whole struct, on EPT, through the guest's page tables)
    stops at three changes (the timer's handler counting a tick: the timer
    runs on while gdb holds the guest, so each continue delivers a tick
    first); after delete and detach the guest keeps making progress (no
    interrupt or fault lost)."""
    m = t.start(hv_args="panic=poweroff", modules=[(DEMO, "guest")], timeout=240)
    t.wait_for(m, r"^demo: round 1, ", timeout=120)
    out = t.gdb(m, "watch demo_state", "continue", "continue", "continue", "delete", "detach",
                elf=t.path(DEMO), timeout=120)
    t.find(out, r"Hardware watchpoint 1: demo_state", "watch accepted")
    t.check("Could not insert" not in out, f"the watch was refused: {out[-600:]!r}")
    changes = re.findall(r"Old value = \{(.*?)\}\nNew value = \{(.*?)\}", out, re.S)
    t.check(len(changes) == 3 and all(a != b for a, b in changes),
            f"{len(changes)} stops with a changed value, want 3: {out[-800:]!r}")
    ticks = [int(re.search(r"ticks = (\d+)", new).group(1)) for _, new in changes]
    t.check(ticks == sorted(ticks) and len(set(ticks)) == 3, f"ticks at the stops: {ticks}")
    t.find(out, r"Inferior 1 \(Remote target\) detached", "detach")
    t.wait_for(m, r"^demo: round 2001, ", timeout=150)
    r = t.finish(m, stop=True)
    r.forbid(r"unexpected trap|EXCEPTION|PANIC|guest stopped")


test_watch_of_the_demo_guests_whole_state_struct_stops_at_each_change_and_it_runs_on.timeout = 400
