"""The exit trace as files: `vmx trace save` writes them, tools/trace-plot reads them.

Pure Python (no gdb): host-tested by tests/integration/test_trace.py.

The stub's `monitor trace N csv` gives a header and one row per exit,
oldest first (hv/trace_read.c, trace_format_csv):

    tsc,vcpu,reason,code,qual,rip,ticks,hook
    81234567,0,CPUID,10,0x0,0x10254d,120,-

and lines of its own beginning "trace:" (asked for more than is held).
A record here is a dict with those keys: integers, except reason and hook
(words) and ticks (None while the exit was not over: the debugger's stop).
"""
import csv
import io
import json
import os

FIELDS = ("tsc", "vcpu", "reason", "code", "qual", "rip", "ticks", "hook")
HEADER = ",".join(FIELDS)


def parse_monitor(text):
    """(records, notes) from `monitor trace N csv` output; ValueError on a
    row that is not a record."""
    records, notes = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line or line == HEADER:
            continue
        if line.startswith("trace:"):
            notes.append(line)
            continue
        records.append(record_from_row(line.split(","), line))
    return records, notes


def record_from_row(cells, where):
    if len(cells) != len(FIELDS):
        raise ValueError(f"not a trace record ({len(cells)} fields, want {len(FIELDS)}): {where!r}")
    r = dict(zip(FIELDS, cells))
    try:
        for k in ("tsc", "vcpu", "code", "qual", "rip"):
            r[k] = int(r[k], 0)
        r["ticks"] = int(r["ticks"]) if r["ticks"] != "" else None
    except ValueError:
        raise ValueError(f"not a trace record (a number is not one): {where!r}") from None
    return r


def to_csv(records):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS)
    for r in records:
        w.writerow([r["tsc"], r["vcpu"], r["reason"], r["code"], f"0x{r['qual']:x}", f"0x{r['rip']:x}",
                    "" if r["ticks"] is None else r["ticks"], r["hook"]])
    return out.getvalue()


def to_json(records):
    return json.dumps({"records": [{k: r[k] for k in FIELDS} for r in records]}, indent=1) + "\n"


def kind_of(path):
    """"csv" or "json" by the file's extension; ValueError otherwise."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".csv", ".json"):
        raise ValueError(f"{path}: say .csv or .json (the format follows the extension)")
    return ext[1:]


def save(records, path):
    text = to_csv(records) if kind_of(path) == "csv" else to_json(records)
    with open(path, "w") as f:
        f.write(text)


def load(path):
    """The records of a saved trace (either format)."""
    with open(path) as f:
        text = f.read()
    if kind_of(path) == "json":
        records = json.loads(text)["records"]
        for r in records:
            missing = [k for k in FIELDS if k not in r]
            if missing:
                raise ValueError(f"{path}: a record lacks {', '.join(missing)}")
        return records
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or ",".join(rows[0]) != HEADER:
        raise ValueError(f"{path}: not a saved trace (the first line is not {HEADER!r})")
    return [record_from_row(row, ",".join(row)) for row in rows[1:] if row]
