"""Events as the hardware delivers them, whoever raised them: the basic
guest's `events` group (tests/guests/basic/check_events.c) passes bare under
Bochs, and must pass under vmxdbg with the same checksum.

- events-ud-rf: the #UD vmxdbg injects for VMCALL has RF set in its EFLAGS
  image, as every fault the CPU delivers (SDM Vol. 3A §18.3.1.1);
- events-hlt-tf: a single-stepped HLT takes its #DB (EIP past HLT) instead of
  halting in the #DB handler with IF clear (book §4.13.3);
- events-port-f4: a write to port 0xf4 (QEMU's isa-debug-exit) reaches no
  device under Bochs, so the guest runs on instead of the machine powering off.
"""

BASIC = "build/guests/basic.elf"
CHECKSUM = "0xf91f694b"


def test_injected_faults_stepped_hlt_and_port_f4_behave_as_bare(t):
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest")])
    # Bochs is recognised, so only its own shutdown port ends the run.
    r.expect(r"vmx: machine: Bochs; emulator power-off port: 0x8900 \(Bochs\)")
    # No IOMMU under Bochs: the log says what passed-through devices can reach.
    r.expect(r"dma: no IOMMU \(no ACPI DMAR table\): devices the guest drives can DMA anywhere")
    for check in ("events-ud-rf", "events-hlt-tf", "events-port-f4"):
        r.expect(rf"GUEST PASS {check}\b")
    r.forbid(r"QEMU debug-exit")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")
    r.expect_poweroff()


def test_a_stepped_hlt_with_no_interrupt_to_wake_it_still_takes_its_debug_trap(t):
    """Bare, this HLT would wait for an interrupt that never comes: vmxdbg
    delivers the pending #DB before any halt (book §4.13.3)."""
    r = t.boot(hv_args="panic=poweroff", modules=[(BASIC, "guest hlt-tf-alone")], timeout=60)
    r.expect(r"GUEST PASS events-hlt-tf\b")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")


def test_the_same_checks_pass_bare_under_bochs(t):
    """The reference: without vmxdbg, GRUB starting the guest itself."""
    r = t.boot(bare=BASIC, hv_args="")
    for check in ("events-ud-rf", "events-hlt-tf", "events-port-f4"):
        r.expect(rf"GUEST PASS {check}\b")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")


def test_events_delivered_through_a_watched_idt_page_are_not_lost(t):
    """An access watchpoint on an unused IDT gate (idt[8], #DF) takes away
    the read right of the IDT's first page through EPT (the fifth watchpoint:
    DR0-3 hold the four before it, gdb inserts by address).  Every interrupt
    and exception the guest takes reads that page during its delivery: the
    EPT violation interrupts the delivery (IDT-vectoring information valid),
    and vmxdbg must inject the event again and close the page after it
    (SDM Vol. 3C §27.2.4).  The guest then ends with the bare checksum."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest")], timeout=240)
    t.wait_for(m, r"gdb-wait: the guest waits")
    watches = [f"watch handlers[{i}]" for i in (200, 201, 202, 203)] + ["awatch idt[8]"]
    out = t.gdb(m, *watches, "info watchpoints", "continue", elf=t.path(BASIC), timeout=220)
    t.check("Could not insert" not in out, f"a watchpoint was refused: {out[-600:]!r}")
    t.check("idt[8]" in out, f"gdb did not accept the IDT watch: {out[-600:]!r}")
    r = t.finish(m)
    r.expect(r"GUEST PASS hlt\b")
    r.expect(r"GUEST PASS int-0x80\b")
    r.expect(rf"GUEST DONE passed=\d+ failed=0 checksum={CHECKSUM}")
    r.forbid(r"GUEST FAIL")


test_events_delivered_through_a_watched_idt_page_are_not_lost.timeout = 300
