"""Guest formats and boot information: vmxdbg's guest loader (hv/guest_load.c,
hv/elf_load.c, hv/guest_bootinfo.c) runs the basic test guest built as every
kind of multiboot image it accepts -- v1 and v2 headers, ELF32 and ELF64
containers, and the a.out kludge as a flat binary with no ELF headers at all --
and hands each its own command line verbatim, its modules intact, and the
machine's memory map with the hypervisor's region reserved. GRUB booting the
same image bare is the reference: same modules, same checks, same checksum.
One variant (basic-big) reaches past where GRUB puts vmxdbg's modules: the
loader must set them aside before it loads the kernel over them.

The guest's boot group prints what it received (tests/guests/README.md):
    GUEST INFO boot-protocol: multiboot2 (EAX=0x36d76289), header multiboot2, ...
    GUEST INFO cmdline: "..."
    GUEST INFO mmap N: 0x<base>-0x<last> usable|reserved|ACPI reclaimable|...
    GUEST INFO module N: cmdline "..." size N crc32 0x........ at 0x........
and checks it itself: bootinfo-structure, -cmdline, -mmap (with hv-reserved=,
the address must lie in a reserved region, never a usable one), -modules (in
usable memory, clear of the kernel, the structure and each other, page-aligned
as the header asks; expect-modules= counts them).

Command lines and GRUB. GRUB 2.06 as Debian ships it rebuilds every command
line from its words (grub_create_loader_cmdline): a word holding a space is
wrapped in double quotes, and each ', " and \\ gets a backslash before it. So
`two words` arrives as `"two words"` and `it's` as `it\\'s`; no loader after
GRUB can undo that. Every other word arrives verbatim, `=` `,` `.` `/` `$` `;`
`#` `*` included (tools/mkiso single-quotes those for grub.cfg). vmxdbg passes
on exactly what GRUB gave it: the tests expect GRUB's form.
"""
import os
import re
import shlex
import shutil
import subprocess
import zlib

DONE = r"GUEST DONE passed=(\d+) failed=(\d+) checksum=(0x[0-9a-f]+)"
BROKE = [r"EXCEPTION", r"PANIC", r"GUEST FAIL"]
HV_BASE = 0x08000000        # vmxdbg's link address: its region starts here

# Words with `=`, commas, dots, slashes and shell/GRUB metacharacters: all
# must arrive verbatim.
PLAIN_WORDS = ["path=/boot/guest.cfg", "list=a,b,c", "version=1.2.3", "k=v=w", "empty=",
               "sym=$HOME;#x*"]
# Bare there is no hypervisor region to find reserved, and QEMU TCG answers
# RDMSR 0x480 instead of #GP (tests/guests/README.md): no hv-reserved=, no expect-vmx=.
BARE_WORDS = ["expect-modules=2"] + PLAIN_WORDS
GUEST_WORDS = ["expect-vmx=0", f"hv-reserved=0x{HV_BASE:08x}"] + BARE_WORDS
# Two small files of the repo as the guest's modules, with command lines of their own.
MODULES = [("README.md", ["name=readme", "kind=doc,v=1.0"]),
           ("Makefile", ["name=makefile", "path=/x/y.mk"])]


def grub_form(words):
    """The command line GRUB 2.06 builds from these words (see the docstring)."""
    out = []
    for w in words:
        e = re.sub(r"""([\\'"])""", r"\\\1", w)
        out.append(f'"{e}"' if " " in w else e)
    return " ".join(out)


def snapshot_modules(t):
    """Copies of the module files in the test's folder, so that an edit to the
    working tree during the test cannot change them: [(abs path, words)]."""
    folder = os.path.join(t.workdir, "modules")
    os.makedirs(folder, exist_ok=True)
    out = []
    for path, words in MODULES:
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(t.path(path), copy)
        out.append((copy, words))
    return out


def expected_modules(modules):
    """[(cmdline, size, crc32)] as the guest must report them."""
    out = []
    for path, words in modules:
        with open(path, "rb") as f:
            data = f.read()
        out.append((grub_form(words), len(data), f"0x{zlib.crc32(data):08x}"))
    return out


class Received:
    """What the guest said it got, from its console."""

    def __init__(self, t, r, what):
        self.r, self.what = r, what
        m = r.expect(DONE)
        self.passed, self.failed, self.checksum = int(m.group(1)), int(m.group(2)), m.group(3)
        self.protocol = r.expect(r"GUEST INFO boot-protocol: (\S+) \(EAX=").group(1)
        self.cmdline = r.expect(r'^GUEST INFO cmdline: "(.*)"$').group(1)
        self.modules = [(c, int(s), crc) for c, s, crc in re.findall(
            r'^GUEST INFO module \d+: cmdline "(.*)" size (\d+) crc32 (0x[0-9a-f]{8}) at 0x[0-9a-f]+$',
            r.console, re.M)]
        self.mmap = re.findall(r"^GUEST INFO mmap \d+: (0x[0-9a-f]+)-(0x[0-9a-f]+) (.+)$", r.console, re.M)
        self.passes = set(re.findall(r"^GUEST PASS (\S+)", r.console, re.M))
        fails = re.findall(r"^GUEST FAIL .*$", r.console, re.M)
        t.check(self.failed == 0, f"{what}: failed={self.failed}, first: {fails[:1]}")
        for bad in BROKE:
            r.forbid(bad)
        for check in ("multiboot-magic", "multiboot-entry-state", "multiboot-bss-zeroed",
                      "bootinfo-structure", "bootinfo-cmdline", "bootinfo-mmap", "bootinfo-modules"):
            t.check(check in self.passes, f"{what}: no GUEST PASS {check}")


def image_kib(t, image):
    """What vmxdbg's loader must report: _image_start to _image_end (bss and
    stack included), from the ELF the image was made of."""
    elf = re.sub(r"(-elf64)?\.(elf|bin)$", ".elf", image)
    out = subprocess.run(["nm", t.path(elf)], capture_output=True, text=True, check=True).stdout
    sym = {f[2]: int(f[0], 16) for f in (l.split() for l in out.splitlines()) if len(f) == 3}
    return (sym["_image_end"] - sym["_image_start"]) >> 10


def expected_guest_map(r):
    """The machine's map from vmxdbg's own `mem:` lines, cut around its region,
    which appears as one reserved region of its own; sorted, as (base, last, type)."""
    machine = re.findall(r"\] mem: (0x[0-9a-f]{16})-(0x[0-9a-f]{16}) (.+)$", r.console, re.M)
    m = r.expect(r"hypervisor region (0x[0-9a-f]+)-(0x[0-9a-f]+) absent")
    hv0, hv1 = int(m.group(1), 16), int(m.group(2), 16) + 1
    out = [(hv0, hv1 - 1, "reserved")]
    for base, last, kind in machine:
        a, b = int(base, 16), int(last, 16) + 1
        if a < hv0:
            out.append((a, min(b, hv0) - 1, kind))
        if b > hv1:
            out.append((max(a, hv1), b - 1, kind))
    return sorted(out)


def boot_bare(t, image, protocol, words, modules):
    """Boot the image with no hypervisor: GRUB loads it and its modules itself.
    t.boot(bare=...) always asks tools/mkiso for GRUB's v1 `multiboot` command;
    a multiboot2 image needs `multiboot2`, so for those this builds the ISO with
    `mkiso --kernel-command multiboot2` in place of t.iso."""
    mods = [(path, shlex.join(w)) for path, w in modules]
    if protocol == "multiboot":
        return t.boot(emu="qemu", bare=image, hv_args=shlex.join(words), modules=mods)

    def iso_mb2(workdir, hv_args="", modules=(), bare=None):
        os.makedirs(workdir, exist_ok=True)
        out = os.path.join(workdir, "vmxdbg.iso")
        cmd = [t.path("tools/mkiso"), out, t.path(bare), f"--args={hv_args}",
               "--kernel-command", "multiboot2"]
        for path, tag in modules:
            cmd += ["--module", t.path(path), tag]
        p = subprocess.run(cmd, capture_output=True, text=True)
        t.check(p.returncode == 0, f"mkiso failed: {(p.stderr or p.stdout).strip()[-300:]}")
        return out

    t.iso = iso_mb2
    try:
        return t.boot(emu="qemu", bare=image, hv_args=shlex.join(words), modules=mods)
    finally:
        del t.iso


def run_variant(t, image, protocol):
    """The image under vmxdbg (Bochs), then bare under GRUB (QEMU TCG)."""
    modules = snapshot_modules(t)
    want_modules = expected_modules(modules)
    mods = [(path, "guest-module " + shlex.join(w)) for path, w in modules]
    r = t.boot(hv_args="panic=poweroff", modules=[(image, "guest " + shlex.join(GUEST_WORDS))] + mods)
    kind = "multiboot2" if protocol == "multiboot2" else "multiboot"
    r.expect(rf'guest: {kind} kernel, {image_kib(t, image)} KiB at 0x100000, entry 0x[0-9a-f]+, '
             rf'args "{re.escape(grub_form(GUEST_WORDS))}"')
    virt = Received(t, r, "under vmxdbg")
    t.check(virt.protocol == protocol, f"under vmxdbg the guest saw {virt.protocol}, want {protocol}")
    t.check(virt.cmdline == grub_form(GUEST_WORDS),
            f"under vmxdbg the guest's command line is {virt.cmdline!r}, want {grub_form(GUEST_WORDS)!r}")
    t.check(virt.modules == want_modules, f"under vmxdbg the modules are {virt.modules}, want {want_modules}")
    r.expect(rf"GUEST INFO bootinfo-mmap: hv-reserved 0x{HV_BASE:08x} lies in region \d+ \(reserved\)")
    got = sorted((int(a, 16), int(b, 16), kind) for a, b, kind in virt.mmap)
    t.check(got == expected_guest_map(r), f"the guest's map {[(hex(a), hex(b), k) for a, b, k in got]} is "
            "not the machine's with the hypervisor's region cut out and reserved")
    r.expect_poweroff()

    bare = Received(t, boot_bare(t, image, protocol, BARE_WORDS, modules), "bare")
    t.check(bare.protocol == protocol, f"bare the guest saw {bare.protocol}, want {protocol}")
    t.check(bare.cmdline == grub_form(BARE_WORDS),
            f"bare the guest's command line is {bare.cmdline!r}, want {grub_form(BARE_WORDS)!r}")
    t.check(bare.modules == virt.modules, f"modules bare {bare.modules} but under vmxdbg {virt.modules}")
    t.check(bare.checksum == virt.checksum, f"checksum {virt.checksum} under vmxdbg but {bare.checksum} bare")
    missing = bare.passes - virt.passes
    t.check(not missing, f"pass bare but not under vmxdbg: {sorted(missing)}")


def test_multiboot_v1_elf32_guest_gets_its_command_line_modules_and_memory_map(t):
    run_variant(t, "build/guests/basic.elf", "multiboot")


def test_multiboot2_elf32_guest_gets_its_command_line_modules_and_memory_map(t):
    run_variant(t, "build/guests/basic-mb2.elf", "multiboot2")


def test_multiboot_v1_a_out_kludge_flat_binary_is_loaded_by_its_header_addresses(t):
    run_variant(t, "build/guests/basic-aout.bin", "multiboot")


def test_multiboot2_address_tag_flat_binary_is_loaded_by_its_header_addresses(t):
    run_variant(t, "build/guests/basic-mb2-aout.bin", "multiboot2")


def test_multiboot_v1_elf64_image_with_32_bit_entry_runs(t):
    run_variant(t, "build/guests/basic-elf64.elf", "multiboot")


def test_multiboot2_elf64_image_with_32_bit_entry_runs(t):
    run_variant(t, "build/guests/basic-mb2-elf64.elf", "multiboot2")


def test_a_kernel_reaching_past_where_grub_put_the_modules_still_gets_them_intact(t):
    """GRUB puts vmxdbg's modules (the guest image among them) and its
    information structure just above 1 MiB, where a multiboot kernel loads:
    this variant's 2.5 MiB .bss covers that place."""
    run_variant(t, "build/guests/basic-big.elf", "multiboot")


def test_words_grub_requotes_reach_the_guest_as_grub_passed_them(t):
    """Spaces, quotes and backslashes: GRUB rewrites them (see the docstring);
    vmxdbg must pass on GRUB's form unchanged, and the guest must see it."""
    words = ["skip=com1,cpuid,msr,cr,exceptions,int80,paging,hlt", "two words", "it's",
             'q="x"', "back\\slash", "hex=\\x41"]
    r = t.boot(hv_args="panic=poweroff", modules=[("build/guests/basic.elf", "guest " + shlex.join(words))])
    want = grub_form(words)
    t.check(want == 'skip=com1,cpuid,msr,cr,exceptions,int80,paging,hlt "two words" it\\\'s '
                   'q=\\"x\\" back\\\\slash hex=\\\\x41', f"grub_form gives {want!r}")
    r.expect(rf'guest: multiboot kernel, .* args "{re.escape(want)}"$')
    r.expect(rf'^GUEST INFO cmdline: "{re.escape(want)}"$')
    r.expect(DONE)
    r.forbid(r"GUEST FAIL")
    r.expect_poweroff()


def test_the_guest_fails_a_map_that_leaves_the_reserved_address_usable(t):
    """The guest's own checks have teeth: bare, 128 MiB is ordinary RAM and
    only one module comes, so hv-reserved= and expect-modules= must fail."""
    r = t.boot(emu="qemu", bare="build/guests/basic.elf", modules=[("README.md", "name=readme")],
               hv_args=f"hv-reserved=0x{HV_BASE:08x} expect-modules=2")
    r.expect(rf"GUEST FAIL bootinfo-mmap: hv-reserved 0x{HV_BASE:08x} lies in region \d+, which is usable")
    r.expect(r"GUEST FAIL bootinfo-modules: 1 modules, expect-modules=2")
    m = r.expect(DONE)
    t.check(int(m.group(2)) == 2, f"failed={m.group(2)}, want exactly the two above")
