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
