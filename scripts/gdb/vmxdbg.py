"""gdb helper for vmxdbg: `source scripts/gdb/vmxdbg.py` (make gdb does it).

Adds a `vmx` command family that wraps the stub's `monitor` commands, so the
hypervisor's view of the guest is one word away:

    vmx vmcs                 decoded dump of the current VMCS (book ch. 3 order)
    vmx vmcs FIELD [VALUE]   read or write one field (GUEST_RIP, 0x681e, ...)
    vmx ept GPA              the EPT translation of a guest-physical address
    vmx exits                VM exits by reason
    vmx caps                 the decoded VMX capability report
    vmx info                 guest memory map, paging mode, stepping method
    vmx phys ADDR LEN        hex dump of guest-physical memory
    vmx lua FILE             run a local Lua file in the hypervisor (monitor lua)
    vmx arch [i386|amd64|auto]  the register view of the next connection

and `vmx connect [PORT]`, which is `target remote localhost:PORT`.  The stub
describes the guest as gdb's i386 or amd64 by the mode it is in when gdb
connects (`monitor arch` forces one), so a 32-bit guest ELF loads as it is.
"""
import gdb

MONITOR_CHUNK = 4000    # characters of Lua per `monitor lua` packet


def monitor(line):
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
    """vmx lua FILE: send a local Lua file to the hypervisor's Lua engine.
The file runs as one chunk; errors come back with a traceback."""

    def __init__(self):
        super().__init__("vmx lua", gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        path = arg.strip()
        if not path:
            raise gdb.GdbError("usage: vmx lua FILE")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if len(text) > MONITOR_CHUNK:
            raise gdb.GdbError(f"{path}: {len(text)} characters; at most {MONITOR_CHUNK} go in one chunk "
                               "(load larger scripts as GRUB modules: make run SCRIPTS=...)")
        # `monitor` takes one line: the stub's `lua` command reads `\n` escapes back.
        monitor("lua " + text.replace("\\", "\\\\").replace("\n", "\\n"))


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
                  ("exits", "vmx exits: VM exits by reason."),
                  ("caps", "vmx caps: the decoded VMX capabilities."),
                  ("info", "vmx info: guest memory, paging mode, stepping method."),
                  ("phys", "vmx phys ADDR LEN: hex dump of guest-physical memory."),
                  ("arch", "vmx arch [i386|amd64|auto]: the register view of the next connection.")):
    VmxMonitor(word, doc)
VmxLua()
VmxConnect()
