"""gdb helper for vmxdbg: `source scripts/gdb/vmxdbg.py` (make gdb does it).

Adds a `vmx` command family that wraps the stub's `monitor` commands, so the
hypervisor's view of the guest is one word away:

    vmx vmcs                 decoded dump of the current VMCS (book ch. 3 order)
    vmx vmcs FIELD [VALUE]   read or write one field (GUEST_RIP, 0x681e, ...)
    vmx ept GPA              the EPT translation of a guest-physical address
    vmx exits                VM exits by reason (this vCPU), and in total
    vmx caps                 the decoded VMX capability report
    vmx info                 guest memory map, paging mode, stepping method
    vmx phys ADDR LEN        hex dump of guest-physical memory
    vmx lua FILE [ARGS]      run a local Lua file in the hypervisor, ARGS as its ...
    vmx arch [i386|amd64|auto]  the register view of the next connection
    vmx trace [N [VCPU]|clear|on|off]  the exit trace (monitor trace)
    vmx trace save FILE [N [VCPU]]  the exit trace to FILE, .csv or .json

and `vmx connect [PORT]`, which is `target remote localhost:PORT`.  Each
vCPU is a gdb thread; the `vmx` commands are about gdb's selected thread.  The stub
describes the guest as gdb's i386 or amd64 by the image it was loaded from
(ELF64 and Linux: amd64, even while in 32-bit mode; ELF32 and a.out: i386;
`monitor arch` forces one), so the guest's ELF loads as it is.
"""
import os
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmxdbg_trace  # noqa: E402

# `vmx lua` sends a file in parts (monitor lua-begin / lua-part / lua-end,
# gdbstub/monitor_lua.c); the hypervisor assembles them and runs the whole.
UPLOAD_MAX = 256 * 1024     # bytes per file: gdbstub/monitor_lua.h's LUA_UPLOAD_MAX
UPLOAD_PART = 2000          # bytes per lua-part: 4 hex digits each in the qRcmd
                            # packet, well inside the stub's 16 KiB PacketSize


def select_vcpu():
    """`monitor` commands are about the vCPU the stub has selected (its Hg
    thread), and gdb sends Hg only when it reads registers of a thread other
    than the last it read: after `thread N` with N's registers cached, or an
    `info threads`, the two differ.  Reading the PC afresh makes gdb select
    its own thread in the stub."""
    if gdb.selected_thread() is None:
        return
    try:
        gdb.execute("maintenance flush register-cache", to_string=True)
        gdb.selected_frame().read_register("pc")
    except gdb.error:
        pass        # no registers (a dead connection): the stub keeps its choice


def monitor(line):
    select_vcpu()
    gdb.execute("monitor " + line)


class Vmx(gdb.Command):
    """vmxdbg: the hypervisor's view of the guest. `help vmx` lists the subcommands."""

    def __init__(self):
        super().__init__("vmx", gdb.COMMAND_USER, prefix=True)


class VmxMonitor(gdb.Command):
    def __init__(self, name, doc):
        self.__doc__ = doc
        self.word = name
        super().__init__("vmx " + name, gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        monitor((self.word + " " + arg).strip())


class VmxLua(gdb.Command):
    """vmx lua FILE [ARGS]: run a local Lua file in the hypervisor's Lua engine.
The file (up to 256 KiB) is sent in parts and runs as one chunk named after
it, with ARGS (words) as its `...`; its output, results and errors (with a
traceback naming FILE:LINE) come back here."""

    def __init__(self):
        super().__init__("vmx lua", gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    @staticmethod
    def quiet(line):
        """A monitor command that prints nothing when it works."""
        out = gdb.execute("monitor " + line, to_string=True)
        if out.strip():
            raise gdb.GdbError(out.strip())

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv:
            raise gdb.GdbError("usage: vmx lua FILE [ARGS]")
        path = argv[0]
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > UPLOAD_MAX:
            raise gdb.GdbError(f"{path}: {len(data)} bytes; the hypervisor takes files of up to "
                               f"{UPLOAD_MAX} bytes (larger ones as GRUB modules: make run SCRIPTS=...)")
        select_vcpu()
        self.quiet("lua-begin " + os.path.basename(path))
        for at in range(0, len(data), UPLOAD_PART):
            self.quiet("lua-part " + data[at:at + UPLOAD_PART].hex())
        gdb.execute("monitor " + " ".join(["lua-end"] + argv[1:]))


class VmxTrace(gdb.Command):
    """vmx trace [N [VCPU] | clear | on | off]: the exit trace, newest N exits oldest first
(all vCPUs merged by TSC, or one); `vmx trace save FILE` writes it to a file."""

    def __init__(self):
        super().__init__("vmx trace", gdb.COMMAND_USER, prefix=True)

    def invoke(self, arg, from_tty):
        monitor(("trace " + arg).strip())


class VmxTraceSave(gdb.Command):
    """vmx trace save FILE [N [VCPU]]: the exit trace (every record held, or the newest N,
of all vCPUs or one) to FILE as CSV or JSON, by its extension; for tools/trace-plot."""

    def __init__(self):
        super().__init__("vmx trace save", gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not 1 <= len(argv) <= 3:
            raise gdb.GdbError("usage: vmx trace save FILE [N [VCPU]]")
        path = argv[0]
        try:
            vmxdbg_trace.kind_of(path)
        except ValueError as e:
            raise gdb.GdbError(str(e))
        asked = len(argv) > 1
        n = argv[1] if asked else str(2**32 - 1)
        out = gdb.execute(" ".join(["monitor trace", n, "csv"] + argv[2:]), to_string=True)
        try:
            records, notes = vmxdbg_trace.parse_monitor(out)
        except ValueError as e:
            raise gdb.GdbError(f"{out.strip()}\n({e})")
        if not records and notes and "held" not in notes[0]:
            raise gdb.GdbError(notes[0])     # the stub refused the request
        vmxdbg_trace.save(records, path)
        for note in notes if asked else ():
            print(note)
        print(f"vmx trace save: {len(records)} records to {path}")


class VmxConnect(gdb.Command):
    """vmx connect [PORT]: attach to vmxdbg (default port 1234)."""

    def __init__(self):
        super().__init__("vmx connect", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        port = arg.strip() or "1234"
        gdb.execute("target remote localhost:" + port)


Vmx()
for word, doc in (("vmcs", "vmx vmcs [FIELD [VALUE]]: dump the VMCS, or read/write one field."),
                  ("ept", "vmx ept GPA: the EPT translation of a guest-physical address."),
                  ("exits", "vmx exits: VM exits by reason, of this vCPU and in total."),
                  ("caps", "vmx caps: the decoded VMX capabilities."),
                  ("info", "vmx info: guest memory, paging mode, stepping method."),
                  ("phys", "vmx phys ADDR LEN: hex dump of guest-physical memory."),
                  ("arch", "vmx arch [i386|amd64|auto]: the register view of the next connection.")):
    VmxMonitor(word, doc)
VmxLua()
VmxTrace()
VmxTraceSave()
VmxConnect()
