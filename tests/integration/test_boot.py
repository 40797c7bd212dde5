"""Boot: the platform comes up, reports the machine, and fails loudly and cleanly.

Log lines carry a level tag such as "[I] "; the patterns are unanchored so the
tag does not matter.
"""

HEX = r"0x[0-9a-f]+"
HEX64 = r"0x[0-9a-f]{16}"
READY = r"platform ready: \d+ TSC ticks since GRUB hand-off"
BROKE = [r"EXCEPTION", r"PANIC"]

CASES = [
    dict(name="reports_memory_map_cmdline_and_vmx_capabilities_then_is_ready",
         hv_args="panic=poweroff console=com1",
         expect=[r'vmxdbg( \S+)? booting: multiboot2 from "GRUB 2\.06',   # version optional
                 r'cmdline: "panic=poweroff console=com1"',
                 rf"mem: {HEX64}-{HEX64} usable",
                 r"mem: \d+ regions, \d+ MiB usable above 1 MiB",
                 r"pmm: \d+ free pages \(\d+ MiB\)",
                 r"vmx: CPUID\.1:ECX\.VMX=1",
                 r"vmx: IA32_FEATURE_CONTROL=0x5: locked, VMX outside SMX enabled",
                 r"vmx: IA32_VMX_BASIC=0x00d810000000002b: revision 0x2b,.*memory type WB \(6\)",
                 READY],
         forbid=BROKE, until="expected"),

    dict(name="unknown_option_and_bad_console_value_are_reported_and_boot_goes_on",
         hv_args="panic=poweroff frobnicate=1 console=com9",
         expect=[r'cmdline: unknown option "frobnicate" ignored',
                 r'cmdline: bad value "com9" for console=, using com1',
                 READY],
         forbid=BROKE, until="expected"),

    dict(name="missing_uart_falls_back_to_port_e9",
         hv_args="panic=poweroff console=com3",    # Bochs has no com3 here
         expect_e9=[r"console: no UART answered at 0x3e8 \(com3\); "
                    r"logging to port 0xE9 only",
                    READY],
         forbid_e9=BROKE, until="expected"),

    dict(name="without_vmx_says_so_and_powers_off",
         emu="qemu", hv_args="panic=poweroff", timeout=20,
         expect=[r"no VMX on this CPU \(CPUID\.1:ECX\.VMX=0\)", r"power: off"],
         forbid=BROKE,
         # "well before the limit": QEMU boots to the kernel in well under a second.
         check=lambda t, r: t.check(r.elapsed < 10, f"power-off took {r.elapsed:.1f} s")),
]


def test_page_fault_is_reported_with_registers_and_backtrace_then_powers_off(t):
    r = t.boot(hv_args="panic=poweroff selftest=pagefault")
    address = r.expect(rf"selftest: reading unmapped address ({HEX})").group(1)
    r.expect(rf"EXCEPTION: #PF page fault \(vector 14\), error code {HEX}")
    r.expect(rf"RIP={HEX}")
    cr2 = r.expect(rf"CR2=({HEX})").group(1)
    t.check(int(cr2, 16) == int(address, 16),
            f"CR2={cr2} but the selftest read {address}")
    r.expect(rf"RAX={HEX}\s+RBX={HEX}")
    r.expect(rf"backtrace:\s*\n\s*#0 {HEX}")
    r.expect(r"EXCEPTION[\s\S]*power: off")     # reported first, then powered off
    r.expect_poweroff()
