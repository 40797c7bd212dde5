#!/usr/bin/env python3
"""Debian's packaged Linux kernel as a vmxdbg guest, ready under build/linux/.

usage: tools/linux-guest.py [--dest DIR] [--refresh]      fetch and prepare (cached)
       tools/linux-guest.py measure [--dest DIR] [--cpus N]  boot figures (Bochs, minutes)

What it leaves in DEST (default build/linux/; never committed):
  vmlinuz          the bzImage from `linux-image-amd64` (its dependency, really)
  vmlinux          the uncompressed kernel: the bzImage's payload (an ELF with
                   the PVH note XEN_ELFNOTE_PHYS32_ENTRY), for the PVH entry;
                   the zeros ending its last segment (.bss, .brk, 21 MB) left
                   to the loader (p_filesz < p_memsz): 41 MB, not 66
  System.map       the package's, or -- Debian's is a one-line stub pointing
                   at the -dbg package (850 MB) -- recovered from the kernel's
                   own kallsyms table (CONFIG_KALLSYMS_ALL: data symbols too)
  initramfs.cpio   newc archive written here (no `cpio` needed): busybox from
                   `busybox-static`, /dev/console, and an /init that prints
                   MARKER and powers off (`poweroff -f`, ACPI S5)
  symbols.elf      System.map as an ELF gdb reads (`add-symbol-file`): NOBITS
                   copies of the kernel's own sections, each symbol in its section
                   with a size (`x/s &linux_banner` shows <linux_banner>); no
                   code, no debug info (needs binutils; skipped without)
  info.json        kernel release, PVH entry, symbol addresses the tests use

Exit status 0 when DEST is ready, 2 when the packages cannot be fetched
(stderr says why; the Linux tests then report themselves skipped), 1 on
anything else.  A second run with DEST ready costs a stat.

`measure` boots the same kernel and initramfs three ways under Bochs, one at
a time -- bare GRUB `linux`+`initrd` (the reference), vmxdbg with the
bzImage, vmxdbg with the PVH vmlinux -- and prints emulated instructions from
power-on to the ACPI power-off /init asks for, and vmxdbg's VM exits by reason.
`--cpus N` gives Bochs N processors (`make bench-linux`: 2); the figures go to
build/bench-linux-Ncpu.json too.  With N > 1 a tick is machine time: Bochs
runs its CPUs round-robin, each up to one instruction per tick.
"""
import argparse
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEST = os.path.join(ROOT, "build", "linux")
KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
MARKER = "vmxdbg-linux-guest: /init reached"
# nokaslr: the kernel runs where System.map says (the PVH entry never
# randomizes; the bzImage decompressor would).
CMDLINE = "console=ttyS0,115200 nokaslr"
FILES = ("vmlinuz", "vmlinux", "System.map", "initramfs.cpio", "info.json")
SYMBOLS = ("_text", "_end", "startup_64", "pvh_start_xen", "start_kernel",
           "linux_banner", "entry_SYSCALL_64", "do_syscall_64", "run_init_process")


class FetchError(Exception):
    """The packages cannot be had: the caller skips, it does not fail."""


def say(msg):
    print(f"linux-guest: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ packages

def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def download(package, into):
    """apt-get download PACKAGE into a folder; the .deb path.  A metapackage
    (linux-image-amd64) is followed to the versioned package it depends on."""
    p = run(["apt-get", "download", package], cwd=into)
    if p.returncode != 0 and "Unable to locate" in p.stderr + p.stdout:
        run(["apt-get", "update", "-q"])       # a fresh machine has no lists yet
        p = run(["apt-get", "download", package], cwd=into)
    if p.returncode != 0:
        raise FetchError(f"apt-get download {package} failed: {(p.stderr or p.stdout).strip()[-300:]}")
    debs = [f for f in os.listdir(into) if f.startswith(package + "_") and f.endswith(".deb")]
    if not debs:
        raise FetchError(f"apt-get download {package} left no .deb")
    return os.path.join(into, debs[0])


def kernel_deb(into):
    meta = download(KERNEL_PACKAGE, into)
    deps = run(["dpkg-deb", "-f", meta, "Depends"]).stdout
    m = re.search(r"(linux-image-[0-9][^\s,(]*)", deps)
    if not m:
        raise FetchError(f"{KERNEL_PACKAGE} depends on no versioned kernel ({deps.strip()!r})")
    return download(m.group(1), into)


def unpack(deb, into):
    p = run(["dpkg-deb", "-x", deb, into])
    if p.returncode != 0:
        raise RuntimeError(f"dpkg-deb -x {deb}: {p.stderr.strip()}")


# ---------------------------------------------------------- bzImage payload

def setup_header(bz):
    """The boot protocol fields this script needs (Documentation/x86/boot.rst)."""
    if len(bz) < 0x270 or bz[0x202:0x206] != b"HdrS":
        raise RuntimeError("vmlinuz has no boot protocol header (HdrS at 0x202)")
    version, = struct.unpack_from("<H", bz, 0x206)
    if version < 0x208:
        raise RuntimeError(f"boot protocol {version >> 8}.{version & 0xff} has no payload fields")
    setup_sects = bz[0x1f1] or 4
    offset, length = struct.unpack_from("<II", bz, 0x248)
    return dict(version=version, payload=(setup_sects + 1) * 512 + offset, payload_length=length)


def decompress(data):
    """The payload by its magic: the kernel's CONFIG_KERNEL_* choices."""
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data)
    if data.startswith(b"\x1f\x8b"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if data.startswith(b"\x5d\x00\x00"):
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(data)
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        return tool_decompress(["zstd", "-dc"], data)
    if data.startswith(b"BZh"):
        return tool_decompress(["bzip2", "-dc"], data)
    if data.startswith(b"\x89LZO"):
        return tool_decompress(["lzop", "-dc"], data)
    if data.startswith(b"\x02\x21\x4c\x18"):
        return tool_decompress(["lz4", "-dc"], data)
    raise RuntimeError(f"unknown compression, payload starts {data[:6].hex()}")


def tool_decompress(cmd, data):
    # The kernel appends the decompressed size after the stream; the tools
    # may call that trailing garbage, so keep the output whatever the status.
    try:
        p = subprocess.run(cmd, input=data, capture_output=True)
    except FileNotFoundError:
        raise RuntimeError(f"{cmd[0]} is not installed (apt-get install {cmd[0]})") from None
    if not p.stdout:
        raise RuntimeError(f"{cmd[0]} failed: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def extract_vmlinux(bz):
    h = setup_header(bz)
    payload = bz[h["payload"]:h["payload"] + h["payload_length"]]
    elf = decompress(payload)
    if not elf.startswith(b"\x7fELF"):
        raise RuntimeError("the decompressed payload is not an ELF file")
    return elf


# ------------------------------------------------------------------ the ELF

def elf_sections(elf):
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    entsize, num, strndx = struct.unpack_from("<HHH", elf, 0x3a)
    raw = [struct.unpack_from("<IIQQQQ", elf, shoff + i * entsize) for i in range(num)]
    names = raw[strndx][4]
    out = {}
    for name, _type, _flags, addr, off, size in raw:
        end = elf.index(b"\0", names + name)
        out[elf[names + name:end].decode()] = (addr, off, size)
    return out


def trim_zero_tail(elf):
    """The vmlinux with the zeros at the end of its last PT_LOAD segment left
    out of the file (p_filesz < p_memsz: the loader zeroes the rest, ELF's
    own rule).  Debian's 6.1 kernel carries 21 MB of them (.bss, .brk,
    .init.scratch): a third of what GRUB reads and vmxdbg copies.  Sections
    past the cut become NOBITS at the cut; the section table follows it."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)
    loads = [i for i in range(phnum) if struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 1]
    if not loads or not shoff:
        return elf
    last = phoff + max(loads, key=lambda i: struct.unpack_from("<Q", elf, phoff + i * phentsize + 8)[0]) * phentsize
    off, filesz = struct.unpack_from("<Q", elf, last + 8)[0], struct.unpack_from("<Q", elf, last + 32)[0]
    end = off + filesz
    if end > shoff:                       # the section table sits inside the segment: leave it be
        return elf
    cut = len(elf[:end].rstrip(b"\0"))
    cut = max(off, (cut + 0xfff) & ~0xfff)
    if cut >= end:
        return elf
    out = bytearray(elf[:cut])
    strtab = struct.unpack_from("<IIQQQQ", elf, shoff + shstrndx * shentsize)
    str_at = len(out)
    out += elf[strtab[4]:strtab[4] + strtab[5]]
    out += b"\0" * (-len(out) % 8)
    new_shoff = len(out)
    for i in range(shnum):
        sh = bytearray(elf[shoff + i * shentsize:shoff + (i + 1) * shentsize])
        stype, = struct.unpack_from("<I", sh, 4)
        soff, ssize = struct.unpack_from("<QQ", sh, 0x18)
        if i == shstrndx:
            struct.pack_into("<Q", sh, 0x18, str_at)
        elif stype and soff + (ssize if stype != 8 else 0) > cut:
            struct.pack_into("<I", sh, 4, 8)          # SHT_NOBITS: zeros, not in the file
            struct.pack_into("<Q", sh, 0x18, min(soff, cut))
        out += sh
    struct.pack_into("<Q", out, last + 32, cut - off)     # p_filesz
    struct.pack_into("<Q", out, 0x28, new_shoff)
    return bytes(out)


def pvh_entry(elf):
    """XEN_ELFNOTE_PHYS32_ENTRY (type 18, owner "Xen") from the PT_NOTE segments."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    entsize, num = struct.unpack_from("<HH", elf, 0x36)
    for i in range(num):
        ptype, _f, off, _v, _p, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * entsize)
        at, end = off, off + filesz
        while ptype == 4 and at + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, at)
            name = elf[at + 12:at + 12 + namesz].rstrip(b"\0")
            desc = at + 12 + (namesz + 3 & ~3)
            if name == b"Xen" and ntype == 18:
                return struct.unpack_from("<I", elf, desc)[0]
            at = desc + (descsz + 3 & ~3)
    return None


def vaddr_to_file(elf, sections, vaddr):
    for addr, off, size in sections.values():
        if addr and addr <= vaddr < addr + size:
            return off + vaddr - addr
    return None


# -------------------------------------------------------------------- kallsyms
# The tables scripts/kallsyms.c writes into .rodata (Linux 6.1, with
# CONFIG_KALLSYMS_BASE_RELATIVE and _ABSOLUTE_PERCPU, as Debian builds it):
#   kallsyms_offsets[N] (s32), kallsyms_relative_base (u64), kallsyms_num_syms,
#   kallsyms_names (per symbol: length, 1 or 2 bytes, then token numbers),
#   kallsyms_markers[ceil(N/256)] (u32, offset of every 256th name),
#   [kallsyms_seqs_of_names], kallsyms_token_table (256 strings),
#   kallsyms_token_index[256] (u16); each label 8-byte aligned.
# Found the way no symbol is needed: tokens for characters used as
# themselves keep their ASCII index, so "0\0" .. "9\0" sit in a row.

def align8(x):
    return (x + 7) & ~7


def find_token_table(img, lo, hi):
    digits = b"".join(bytes([c]) + b"\0" for c in b"0123456789")
    at = img.find(digits, lo, hi)
    while at >= 0:
        q = at
        for _ in range(256 - 0x30):
            q = img.index(b"\0", q) + 1
        index = struct.unpack_from("<256H", img, align8(q))
        start = at - index[0x30]
        if index[0] == 0 and all(a < b for a, b in zip(index, index[1:])):
            return start, [img[start + i:img.index(b"\0", start + i)] for i in index]
        at = img.find(digits, at + 1, hi)
    raise RuntimeError("no kallsyms token table in .rodata")


def find_markers(img, lo, hi):
    """The longest run of u32 0, m1, m2 ... each rising by 256 names' worth."""
    best = None
    for at in range(lo & ~3, hi - 8, 4):
        if img[at:at + 4] != b"\0\0\0\0":
            continue
        prev, n, p = 0, 0, at + 4
        while p + 4 <= hi:
            v, = struct.unpack_from("<I", img, p)
            if not (prev + 256 <= v <= prev + 64 * 256):
                break
            prev, n, p = v, n + 1, p + 4
        if n >= 2 and (not best or n + 1 > best[1]):
            best = (at, n + 1)
    if not best:
        raise RuntimeError("no kallsyms markers before the token table")
    return best


def parse_names(img, at, n, tokens, limit):
    names = []
    for _ in range(n):
        if at >= limit:
            return None, at
        length = img[at]
        at += 1
        if length & 0x80:
            length = (length & 0x7f) | img[at] << 7
            at += 1
        names.append(b"".join(tokens[b] for b in img[at:at + length]))
        at += length
    return names, at


def kallsyms(elf):
    """[(address, type, name)] from the kernel's own tables."""
    _addr, ro, size = elf_sections(elf)[".rodata"]
    table, tokens = find_token_table(elf, ro, ro + size)
    markers, m = find_markers(elf, max(ro, table - (8 << 20)), table)
    for q in range(align8(markers) - 8, max(ro, markers - (32 << 20)), -8):
        n, = struct.unpack_from("<I", elf, q)
        if not 256 * (m - 1) < n <= 256 * m:
            continue
        names, end = parse_names(elf, q + 8, n, tokens, markers)
        if names and align8(end) == align8(markers):
            break
    else:
        raise RuntimeError("no kallsyms_num_syms/kallsyms_names before the markers")
    base, = struct.unpack_from("<Q", elf, q - 8)
    offsets = struct.unpack_from(f"<{n}i", elf, q - 8 - align8(4 * n))
    syms = []
    for off, name in zip(offsets, names):
        address = off if off >= 0 else base - 1 - off      # absolute per-CPU, else relative
        syms.append((address, chr(name[0]), name[1:].decode(errors="replace")))
    return syms


def system_map_from(elf):
    syms = kallsyms(elf)
    text = "".join(f"{a:016x} {t} {s}\n" for a, t, s in syms)
    return text, {s: a for a, _t, s in syms}


def parse_system_map(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.setdefault(parts[2], int(parts[0], 16))
    return out


# 2: symbols.elf in the kernel's own sections, symbols sized; vmlinux without
# its zero tail.  1 (no field): two overlapping sections, the whole vmlinux.
CACHE_FORMAT = 2


def kernel_sections(elf):
    """The kernel's allocated sections as (name, start, size, flags), by
    address; flags "ax" for code, "a" for read-only data, "aw" for the rest
    (the ELF's SHF_WRITE/SHF_EXECINSTR bits)."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    entsize, num, strndx = struct.unpack_from("<HHH", elf, 0x3a)
    raw = [struct.unpack_from("<IIQQQQ", elf, shoff + i * entsize) for i in range(num)]
    names = raw[strndx][4]
    out = []
    for name, _type, flags, addr, _off, size in raw:
        if not addr or not size or not flags & 2:          # SHF_ALLOC, at a real address
            continue
        end = elf.index(b"\0", names + name)
        kind = "ax" if flags & 4 else "aw" if flags & 1 else "a"
        out.append((elf[names + name:end].decode(), addr, size, kind))
    return sorted(out, key=lambda s: s[1])


def place_symbols(syms, sections):
    """Each symbol in the section holding its address, with a size: the
    distance to the next symbol of that section (gdb prints `<linux_banner>`
    for an address inside it, not `<_etext+3537870>`).  A symbol at a
    section's end (_etext, __bss_stop) belongs to that section, size 0;
    one in no section (per-CPU offsets, absolute values) is left out.
    Returns {section index: [(name, offset, size, is_code, is_global)]}."""
    starts = [s[1] for s in sections]
    placed = {}
    for a, t, n in sorted(syms):
        i = next((k for k in range(len(sections) - 1, -1, -1) if starts[k] <= a), None)
        if i is None:
            continue
        name, start, size, kind = sections[i]
        if a > start + size:
            continue
        placed.setdefault(i, []).append([n, a - start, 0, t in "TtWw", t.isupper()])
    for i, entries in placed.items():
        size = sections[i][2]
        for k, e in enumerate(entries):
            nxt = next((f[1] for f in entries[k + 1:] if f[1] > e[1]), size)
            e[2] = nxt - e[1]
    return placed


def symbol_elf(smap, work, elf):
    """An ELF whose symbols are System.map's, in NOBITS copies of the
    kernel's own sections (no bytes: gdb reads memory from the target).
    The bytes, or None without binutils."""
    syms = [line.split() for line in smap.splitlines()]
    syms = [(int(a, 16), t, n) for a, t, n in (s for s in syms if len(s) == 3)]
    name_ok = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
    syms = [s for s in syms if name_ok.match(s[2])]
    sections = kernel_sections(elf)
    placed = place_symbols(syms, sections)
    lines = []
    for i, (name, _start, size, kind) in enumerate(sections):
        label = f"vmxdbg_s{i}"      # `as` keeps .text/.data PROGBITS: named after, by objcopy
        lines += [f'\t.section .vmxdbg{i},"{kind}",@nobits', f"{label}:", f"\t.skip {size}"]
        for n, off, sz, code, glob in placed.get(i, []):
            lines += [f"\t.globl {n}"] if glob else []
            lines += [f"\t.set {n}, {label} + {off}",
                      f"\t.type {n}, {'@function' if code else '@object'}",
                      f"\t.size {n}, {sz}"]
    src, obj, out = (os.path.join(work, f) for f in ("symbols.S", "symbols.o", "symbols.elf"))
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    starts = [f"--section-start=.vmxdbg{i}={s[1]:#x}" for i, s in enumerate(sections)]
    names = [a for i, s in enumerate(sections) for a in ("--rename-section", f".vmxdbg{i}={s[0]}")]
    try:
        steps = [["as", "--64", "-o", obj, src],
                 ["ld", "-o", out, "-e", "0", "-z", "noseparate-code", *starts, obj],
                 ["objcopy", *names, out]]
        for c in steps:
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode:
                say(f"{c[0]} failed: {r.stderr.strip()[:400]}")
                return None
    except FileNotFoundError:
        return None
    with open(out, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- initramfs

def newc_entry(name, mode, data=b"", ino=1, rdev=(0, 0), nlink=1):
    """One record of the `newc` cpio format (070701: 13 hex fields of 8)."""
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + name_b
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


INIT = f"""#!/bin/sh
# vmxdbg's Linux test guest: say we got here, then power off (ACPI S5).
/bin/busybox mount -t proc proc /proc
echo "{MARKER}: $(/bin/busybox uname -r), pid $$, cmdline: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
"""


def initramfs(busybox):
    S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o020000
    entries = [("dev", S_IFDIR | 0o755, b""), ("bin", S_IFDIR | 0o755, b""),
               ("proc", S_IFDIR | 0o755, b""),
               ("bin/busybox", S_IFREG | 0o755, busybox),
               ("bin/sh", S_IFLNK | 0o777, b"busybox"),
               ("init", S_IFREG | 0o755, INIT.encode())]
    out = b"".join(newc_entry(n, m, d, ino=i + 1) for i, (n, m, d) in enumerate(entries))
    out += newc_entry("dev/console", S_IFCHR | 0o600, ino=len(entries) + 1, rdev=(5, 1))
    out += newc_entry("TRAILER!!!", 0, ino=0, nlink=1)
    return out + b"\0" * (-len(out) % 512)


# ------------------------------------------------------------------ prepare

def ready(dest):
    return all(os.path.isfile(os.path.join(dest, f)) for f in FILES)


def prepare(dest, refresh=False):
    if ready(dest) and not refresh:
        refresh_cache(dest)
        return
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="linux-guest.", dir=dest) as tmp:
        debs = os.path.join(tmp, "debs")
        tree = os.path.join(tmp, "tree")
        os.makedirs(debs)
        say(f"fetching {KERNEL_PACKAGE} and {BUSYBOX_PACKAGE} (apt-get download)")
        kdeb = kernel_deb(debs)
        bdeb = download(BUSYBOX_PACKAGE, debs)
        unpack(kdeb, tree)
        unpack(bdeb, tree)
        boot = os.path.join(tree, "boot")
        vmlinuz = next((f for f in sorted(os.listdir(boot)) if f.startswith("vmlinuz-")), None)
        if not vmlinuz:
            raise RuntimeError(f"{os.path.basename(kdeb)} has no /boot/vmlinuz-*")
        release = vmlinuz[len("vmlinuz-"):]
        with open(os.path.join(boot, vmlinuz), "rb") as f:
            bz = f.read()
        say(f"{release}: decompressing the bzImage payload")
        elf = extract_vmlinux(bz)
        entry = pvh_entry(elf)
        with open(os.path.join(boot, f"System.map-{release}")) as f:
            shipped = f.read()
        if len(shipped.splitlines()) > 1000:
            smap, source = shipped, "package"
        else:
            say("the package's System.map is a stub; recovering it from kallsyms")
            smap, source = system_map_from(elf)[0], "kallsyms"
        syms = parse_system_map(smap)
        check_symbols(elf, syms, entry)
        with open(os.path.join(tree, "bin", "busybox"), "rb") as f:
            cpio = initramfs(f.read())

        info = dict(release=release, package=os.path.basename(kdeb), busybox=os.path.basename(bdeb),
                    pvh_entry=entry, system_map=source, cmdline=CMDLINE, marker=MARKER,
                    cache_format=CACHE_FORMAT,
                    symbols={s: f"0x{syms[s]:x}" for s in SYMBOLS if s in syms})
        outputs = {"vmlinuz": bz, "vmlinux": elf, "System.map": smap.encode(), "initramfs.cpio": cpio}
        symbols = symbol_elf(smap, tmp, elf)
        if symbols:
            outputs["symbols.elf"] = symbols
        else:
            say("no symbols.elf (as/ld from binutils missing?): gdb gets addresses only")
        outputs["info.json"] = (json.dumps(info, indent=1) + "\n").encode()
        for name, data in outputs.items():       # info.json last: it says "ready"
            with open(os.path.join(dest, name + ".tmp"), "wb") as f:
                f.write(data)
            os.replace(os.path.join(dest, name + ".tmp"), os.path.join(dest, name))
    say(f"ready in {os.path.relpath(dest, ROOT)}: kernel {release}, PVH entry 0x{entry:x}, "
        f"start_kernel 0x{syms['start_kernel']:x}")


def refresh_cache(dest):
    """A cache made by an older linux-guest.py, brought to CACHE_FORMAT from
    the files it holds (seconds, no download): symbols.elf again, and the
    vmlinux without its zero tail."""
    path = os.path.join(dest, "info.json")
    with open(path) as f:
        info = json.load(f)
    if info.get("cache_format") == CACHE_FORMAT:
        return
    with open(os.path.join(dest, "vmlinux"), "rb") as f:
        elf = f.read()
    with open(os.path.join(dest, "System.map")) as f:
        smap = f.read()
    outputs = {"vmlinux": trim_zero_tail(elf)}
    with tempfile.TemporaryDirectory(prefix="linux-guest.", dir=dest) as tmp:
        symbols = symbol_elf(smap, tmp, elf)
    if symbols:
        outputs["symbols.elf"] = symbols
    info["cache_format"] = CACHE_FORMAT
    info.pop("symbols_format", None)
    outputs["info.json"] = (json.dumps(info, indent=1) + "\n").encode()
    for name, data in outputs.items():       # info.json last: it says "ready"
        with open(os.path.join(dest, name + ".tmp"), "wb") as f:
            f.write(data)
        os.replace(os.path.join(dest, name + ".tmp"), os.path.join(dest, name))
    say(f"cache brought to format {CACHE_FORMAT}: symbols.elf in the kernel's sections, "
        f"vmlinux {len(elf) >> 20} -> {len(outputs['vmlinux']) >> 20} MB (zero tail left to the loader)")


def check_symbols(elf, syms, entry):
    """The recovered map must agree with the image: the banner's address holds
    the banner, the PVH note's entry is pvh_start_xen."""
    missing = [s for s in ("start_kernel", "linux_banner", "_text") if s not in syms]
    if missing:
        raise RuntimeError(f"System.map lacks {', '.join(missing)}")
    at = vaddr_to_file(elf, elf_sections(elf), syms["linux_banner"])
    if at is None or not elf[at:at + 14] == b"Linux version ":
        raise RuntimeError("System.map's linux_banner does not point at the banner")
    if entry is None:
        raise RuntimeError("vmlinux has no XEN_ELFNOTE_PHYS32_ENTRY note (a kernel without CONFIG_PVH)")
    if "pvh_start_xen" in syms and syms["pvh_start_xen"] - syms["_text"] + 0x1000000 != entry:
        raise RuntimeError("the PVH note's entry is not pvh_start_xen")


# ------------------------------------------------------------------ measure

def measure(dest, cpus=1):
    """Three boots, one Bochs at a time; figures on stdout and in JSON."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import emu
    suffix = "" if cpus == 1 else f"-{cpus}cpu"
    work = os.path.join(ROOT, "build", "linux-measure" + suffix)
    elf = os.path.join(ROOT, "build", "vmxdbg.elf")
    vmlinuz, vmlinux = os.path.join(dest, "vmlinuz"), os.path.join(dest, "vmlinux")
    initrd = os.path.join(dest, "initramfs.cpio")
    # Bare, Bochs must read unknown MSRs as 0 (its default): IA32_MISC_ENABLE,
    # which Linux reads before it has an IDT, is one it lacks.  vmxdbg
    # virtualizes that one and runs with #GP for the rest, as the tests do.
    bare = (vmlinuz, ["--kernel-command", "linux", "--args", CMDLINE, "--module", initrd, ""],
            ["cpu: ignore_bad_msrs=1"])
    under = lambda kernel: (elf, ["--args", "panic=poweroff", "--module", kernel, f"guest {CMDLINE}",
                                  "--module", initrd, "initrd"], [])
    runs = [("bare GRUB, bzImage", bare), ("vmxdbg, bzImage", under(vmlinuz)),
            ("vmxdbg, PVH vmlinux", under(vmlinux))]
    figures = {"cpus": cpus}
    for title, (kernel, iso_args, extra) in runs:
        wd = os.path.join(work, re.sub(r"\W+", "-", title).strip("-"))
        shutil.rmtree(wd, ignore_errors=True)
        os.makedirs(wd)
        iso = os.path.join(wd, "boot.iso")
        subprocess.run([os.path.join(ROOT, "tools", "mkiso"), iso, kernel] + iso_args, check=True)
        with emu.Bochs(iso, wd, timeout=900 * cpus, megs=512, cpus=cpus, extra_config=extra) as m:
            m.start()
            r = m.wait()
        print(f"== {title}, {cpus} CPU{'s' if cpus > 1 else ''}: {r.describe()}", flush=True)
        figures[title] = report(r, wd)
    out = os.path.join(ROOT, "build", f"bench-linux-{cpus}cpu.json")
    with open(out, "w") as f:
        json.dump(figures, f, indent=2)
    print(f"(written to {os.path.relpath(out, ROOT)})")


def report(r, wd):
    """Instructions (= ticks, clock: sync=none) from power-on to the guest's
    S5 write -- Bochs logs the tick of an ACPI power-off; under vmxdbg the
    hypervisor logs the TSC -- split where vmxdbg's log allows, and its exits.
    The same as a dict."""
    with open(os.path.join(wd, "bochs.log"), errors="replace") as f:
        bare_off = re.search(r"^(\d+)\w\[ACPI *\] .*soft power off", f.read(), re.M)
    launch = re.search(r"vmx: launching the guest at \S+: (\d+) TSC ticks since GRUB hand-off", r.console)
    off = re.search(r"guest: powered off \(ACPI S5\) at TSC (\d+), (\d+) after launch", r.console)
    end = int(off.group(1)) if off else int(bare_off.group(1)) if bare_off else None
    fig = {"wall_s": round(r.elapsed, 1), "power_on_to_s5": end, "marker": MARKER in r.console,
           "bochs_s5_tick": int(bare_off.group(1)) if bare_off else None}
    print(f"   instructions from power-on to the S5 write: {end:,}" if end else
          "   no power-off found (see bochs.log and console.txt)")
    if launch and off:
        at_launch = end - int(off.group(2))
        fig.update(firmware_grub=at_launch - int(launch.group(1)), hv_start_and_load=int(launch.group(1)),
                   guest_launch_to_s5=int(off.group(2)))
        print(f"   firmware and GRUB (loading the modules): {fig['firmware_grub']:,}")
        print(f"   vmxdbg start-up and the guest's loading: {fig['hv_start_and_load']:,}")
        print(f"   guest, from its first instruction to the S5 write: {fig['guest_launch_to_s5']:,}")
    cpus_up = re.search(r"smp: Brought up \d+ nodes?, (\d+) CPUs?", r.console)
    if cpus_up:
        fig["linux_cpus"] = int(cpus_up.group(1))
        print("   " + cpus_up.group(0))
    exits = re.findall(r"exits: .*", r.console)     # the vCPU that powered off
    if exits:
        fig["exits"] = exits
        print("   " + "\n   ".join(exits))
    print("   " + ("marker seen" if fig["marker"] else "MARKER MISSING") +
          f"; {r.elapsed:.0f} s of wall time; logs in {os.path.relpath(wd, ROOT)}")
    return fig


def main(argv):
    ap = argparse.ArgumentParser(prog="linux-guest.py", description=__doc__.split("\n")[0])
    ap.add_argument("action", nargs="?", default="prepare", choices=("prepare", "measure"))
    ap.add_argument("--dest", default=DEST)
    ap.add_argument("--refresh", action="store_true", help="fetch again even if DEST is ready")
    ap.add_argument("--cpus", type=int, default=1, help="measure: Bochs' processor count")
    a = ap.parse_args(argv)
    try:
        prepare(os.path.abspath(a.dest), a.refresh)
    except FetchError as e:
        say(f"cannot fetch the packages: {e}")
        return 2
    except (RuntimeError, OSError, struct.error, lzma.LZMAError, zlib.error) as e:
        say(f"error: {e}")
        return 1
    if a.action == "measure":
        measure(os.path.abspath(a.dest), a.cpus)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
