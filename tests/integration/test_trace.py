"""The exit trace (issue 13 items 1 and 2): its records are the exits the
basic guest is known to make, in order; `monitor trace` shows, refuses and
switches; `vmx trace save` writes CSV and JSON that tools/trace-plot turns
into a PNG; and the pure parts (the stub's CSV rows, the files) on the host."""
import json
import os
import re
import subprocess
import sys

BASIC = "build/guests/basic.elf"
SKIP_ALL = "skip=boot,com1,cpuid,msr,cr,exceptions,int80,paging,hlt,crc32,fpu"
IO_PORT = 0x2ff      # the debug UART's scratch register: trapped under vmxdbg
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "gdb"))
import vmxdbg_trace  # noqa: E402

# At the fifth IN from the scratch port, the newest exits of vCPU 0 as lines.
AT_THE_FIFTH_IN = f"""
local seen = 0
hv.on_exit("IO_INSTRUCTION", function(e)
  if e.qualification >> 16 ~= {IO_PORT:#x} then return end
  seen = seen + 1
  if seen ~= 5 then return end
  local t, note = hv.trace(60, 0)
  for _, r in ipairs(t) do
    print(string.format("TRACE %s %d 0x%x 0x%x %s %s", r.reason, r.code, r.qual, r.rip, tostring(r.ticks), r.hook))
  end
  print("TRACE-NOTE", note)
  local ok, err = pcall(hv.trace, 0)
  print("TRACE-ZERO", err)
end)
"""


def test_records_are_the_guests_exits_in_order(t):
    """bench=cpuid:6 then bench=io:5 at the scratch port: six CPUID exits at
    one RIP, the console bytes of the cpuid line (IN/OUT at COM1), then five
    INs at the port, the fifth still open (its hook is running)."""
    script = t.write_file("at_fifth_in.lua", AT_THE_FIFTH_IN)
    r = t.boot(hv_args="panic=poweroff",
               modules=[(BASIC, f"guest {SKIP_ALL} bench=cpuid:6 bench=io:5:{IO_PORT:#x}"), (script, "script")])
    rows = re.findall(r"lua: TRACE (\w+) (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+) (\w+) (\S+)", r.console, re.M)
    t.check(len(rows) == 60, f"60 records (the ring holds more than the guest made by then): {len(rows)}")
    reasons = [row[0] for row in rows]
    last_cpuid = max(i for i, x in enumerate(reasons) if x == "CPUID")
    cpuids = rows[last_cpuid - 5:last_cpuid + 1]
    t.check(all(row[0] == "CPUID" and row[3] == cpuids[0][3] for row in cpuids),
            f"six CPUID exits at one RIP, the loop's: {cpuids}")
    t.check(all(row[5] == "-" and row[4] != "nil" and 50 < int(row[4]) < 1000 for row in cpuids),
            f"unhooked, closed, ~100 ticks each: {cpuids}")
    ins = rows[-5:]
    t.check(all(row[0] == "IO_INSTRUCTION" and int(row[2], 16) >> 16 == IO_PORT and int(row[2], 16) & 8
                and row[3] == ins[0][3] for row in ins), f"five INs from {IO_PORT:#x} at one RIP: {ins}")
    t.check([row[5] for row in ins] == ["default"] * 4 + ["-"],
            f"the hook's verdict on the first four (nil: default), the fifth still running: {ins}")
    t.check(ins[-1][4] == "nil" and all(row[4] != "nil" for row in ins[:-1]),
            f"only the exit under way has no ticks yet: {ins}")
    between = rows[last_cpuid + 1:-5]
    line = t.find(r.console, r"^GUEST BENCH cpuid n=6 tsc=\d+", "the cpuid line").group(0)
    outs = [row for row in between if row[0] == "IO_INSTRUCTION" and int(row[2], 16) >> 16 == 0x3f8
            and not int(row[2], 16) & 8]
    t.check(len(outs) == len(line) + 2, f"one OUT exit per byte of {line!r} and CR LF: {len(outs)}")
    t.find(r.console, r"lua: TRACE-NOTE\s+nil", "no note: 60 were held")
    t.find(r.console, r"lua: TRACE-ZERO\s+.*hv\.trace: n must be a positive number of records \(got 0\)",
           "n = 0 refused")


def test_monitor_trace_shows_refuses_switches_and_saves(t):
    m = t.start(hv_args="panic=poweroff gdb-wait",
                modules=[(BASIC, f"guest {SKIP_ALL} bench=cpuid:6 bench=io:5:{IO_PORT:#x}")], timeout=300)
    t.wait_for(m, r"gdb-wait: the guest waits")
    csv_path, json_path = t.write_file("t.csv", ""), t.write_file("t.json", "")
    png = os.path.join(os.path.dirname(csv_path), "t.png")
    out = t.gdb(m, f"source {t.path('scripts/gdb/vmxdbg.py')}", "break injected_finish", "continue",
                "monitor trace 3", "monitor trace 0", "monitor trace -2", "monitor trace 2 9",
                "monitor trace 100000 0", f"vmx trace save {csv_path}", f"vmx trace save {json_path} 20",
                "vmx trace save nowhere.txt", "vmx trace off", "break report_info", "continue", "monitor trace 1",
                "monitor trace on", "monitor trace clear", "monitor trace", "delete", "detach",
                elf=t.path(BASIC), timeout=300)
    three = re.findall(r"^tsc=(\d+) vcpu=0 reason=(\w+)\((\d+)\) qual=(0x[0-9a-f]+) rip=(0x[0-9a-f]+) "
                       r"ticks=(\w+) hook=(\S+)$", out, re.M)
    t.check(len(three) >= 3, f"three records from `monitor trace 3`: {three}")
    t.check(three[2][1] == "EXCEPTION_NMI" and three[2][5] == "open",
            f"the newest: the breakpoint's #BP exit, still open: {three[:3]}")
    t.find(out, r"^trace: N must be a positive number of records; usage: monitor trace", "N = 0 refused")
    t.check(out.count("trace: N must be a positive number of records") >= 2, "N < 0 refused")
    t.find(out, r"^trace: no such vCPU; usage:", "a vCPU that does not exist")
    held = int(t.find(out, r"^trace: asked for 100000, (\d+) held for this vCPU \(the ring keeps 4096 per vCPU\)",
                      "more than held: what there is, and a note").group(1))
    t.find(out, r"vmx trace save: \d+ records to .*t\.csv", "saved as CSV")
    t.find(out, r"vmx trace save: 20 records to .*t\.json", "the newest 20 as JSON")
    t.find(out, r"nowhere\.txt: say \.csv or \.json", "an unknown extension refused")
    t.find(out, r"^trace: off, 4096 records per vCPU", "switched off")
    after_off = out[out.index("trace: off"):]
    newest = t.find(after_off, r"^tsc=(\d+) vcpu=0 reason=(\w+)", "the newest record after a stop with the trace off")
    t.check(newest.group(1) == three[2][0], f"off: the stop adds no record (newest {newest.group(0)}, "
            f"was tsc={three[2][0]})")
    t.find(out, r"^trace: on, 4096 records per vCPU", "back on")
    t.find(out, r"^trace: cleared", "cleared")
    t.find(out, r"^trace: on, 4096 records per vCPU, [01] held", "nothing (or the stop's own exit) after clear")
    t.finish(m)

    saved = vmxdbg_trace.load(csv_path)
    t.check(len(saved) == held, f"the CSV holds every record: {len(saved)} of {held}")
    t.check(sum(r["reason"] == "CPUID" for r in saved) >= 6 and all(r["vcpu"] == 0 for r in saved),
            "the guest's CPUID exits are in it")
    t.check([r["tsc"] for r in saved] == sorted(r["tsc"] for r in saved), "oldest first")
    with open(json_path) as f:
        recs = json.load(f)["records"]
    t.check(len(recs) == 20 and recs[-1]["tsc"] == saved[-1]["tsc"] and recs[-1]["ticks"] is None,
            f"the JSON: the newest 20, the last one open: {recs[-1] if recs else None}")
    p = subprocess.run([t.path("tools/trace-plot"), csv_path, "-o", png],
                       capture_output=True, text=True, timeout=120)
    t.check(p.returncode == 0, f"trace-plot: {p.stdout}{p.stderr}")
    for path in (png, png[:-4] + "-cost.png"):
        t.check(os.path.getsize(path) > 1000, f"{path}: a non-empty picture")
        with open(path, "rb") as f:
            t.check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{path} is a PNG")


test_monitor_trace_shows_refuses_switches_and_saves.timeout = 400


def test_pure_the_stubs_rows_and_the_files(t):
    text = ("trace: asked for 9, 2 held (the ring keeps 4096 per vCPU)\n" + vmxdbg_trace.HEADER + "\n"
            "1000,0,CPUID,10,0x0,0x10254d,120,-\n"
            "2000,1,IO_INSTRUCTION,30,0x2ff0008,0x1025a0,,default\n")
    recs, notes = vmxdbg_trace.parse_monitor(text)
    t.check(notes == ["trace: asked for 9, 2 held (the ring keeps 4096 per vCPU)"], f"the note: {notes}")
    t.check(recs[0] == dict(tsc=1000, vcpu=0, reason="CPUID", code=10, qual=0, rip=0x10254d, ticks=120, hook="-"),
            f"a closed record: {recs[0]}")
    t.check(recs[1]["ticks"] is None and recs[1]["qual"] == 0x2ff0008, f"an open record: {recs[1]}")
    for name in ("a.csv", "a.json"):
        path = t.write_file(name, "")
        vmxdbg_trace.save(recs, path)
        t.check(vmxdbg_trace.load(path) == recs, f"{name}: what is saved loads back the same")
    for bad, why in (("1,2,3", "3 fields"), ("x,0,CPUID,10,0x0,0x0,1,-", "a number is not one")):
        try:
            vmxdbg_trace.parse_monitor(bad)
            t.check(False, f"{bad!r} refused")
        except ValueError as e:
            t.check(why in str(e), f"{bad!r}: {e}")
    try:
        vmxdbg_trace.kind_of("trace.txt")
        t.check(False, "a .txt refused")
    except ValueError as e:
        t.check("say .csv or .json" in str(e), str(e))
    notcsv = t.write_file("not.csv", "hello\n")
    try:
        vmxdbg_trace.load(notcsv)
        t.check(False, "a CSV that is no trace refused")
    except ValueError as e:
        t.check("not a saved trace" in str(e), str(e))


def test_trace_dump_logs_the_rings_at_power_off_for_trace_plot(t):
    """scripts/trace_dump.lua (what tools/trace-linux.py boots Linux with),
    on the basic guest: every record held, as CSV on port 0xE9, drawn."""
    r = t.boot(hv_args="panic=poweroff console=none",
               modules=[(BASIC, f"guest {SKIP_ALL} bench=cpuid:6"), ("scripts/trace_dump.lua", "script")])
    end = t.find(r.e9, r"TRACE-CSV-END (\d+) records at (.*)", "the dump's last line")
    log = t.write_file("e9.log", r.e9)
    rows = [line for line in r.e9.splitlines() if "TRACE-CSV " in line]
    t.check(len(rows) == int(end.group(1)) + 1, f"a header and {end.group(1)} rows: {len(rows)}")
    t.check(sum(",CPUID," in row for row in rows) >= 6, "the guest's CPUID exits are among them")
    png = os.path.join(os.path.dirname(log), "dump.png")
    p = subprocess.run([t.path("tools/trace-plot"), "--log", log, "-o", png, "--format", "png"],
                       capture_output=True, text=True, timeout=120)
    t.check(p.returncode == 0 and os.path.getsize(png) > 1000, f"trace-plot --log: {p.stdout}{p.stderr}")
