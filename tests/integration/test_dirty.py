"""Dirty-page tracking (issue 13 item 4), through real gdb: between two
labels the basic guest writes one byte to each of a known set of pages
(tests/guests/basic/dirty.h) with nothing else in between; `monitor dirty
list` names exactly those pages: not gdb's own write, and past the PML's
512 entries (the PML-full exit) as well; the degraded scan of the EPT's
dirty flags gives the same; a CPU without EPT A/D flags is refused."""
import re

BASIC = "build/guests/basic.elf"
SKIP_ALL = "skip=boot,com1,cpuid,msr,cr,exceptions,int80,paging,hlt,crc32,fpu"


def written(out):
    """The pages of `monitor dirty list`'s runs, after its heading."""
    head = re.search(r"^dirty: (\d+) pages? written \(([^)]*)\)\n((?:  0x[0-9a-f]+-0x[0-9a-f]+  \d+ pages?\n)*)",
                     out, re.M)
    if not head:
        return None, [], None
    pages = []
    for lo, hi in re.findall(r"0x([0-9a-f]+)-0x([0-9a-f]+)", head.group(3)):
        pages += range(int(lo, 16), int(hi, 16) + 1, 4096)
    return int(head.group(1)), pages, head.group(2)


def run(t, first, count, step, start="monitor dirty start", model=None, extra=()):
    kw = dict(model=model) if model else {}
    m = t.start(hv_args="panic=poweroff gdb-wait", timeout=300,
                modules=[(BASIC, f"guest {SKIP_ALL} dirty={first}:{count}:{step}")], **kw)
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "break dirty_mark_start", "break dirty_mark_end", "continue", start,
                # gdb's own write: the hypervisor's, not through the guest's EPT
                "set {char}((char *)dirty_area + 639 * 4096) = 1",
                "continue", "monitor dirty list", "monitor exits", "monitor dirty stop", "monitor dirty list",
                "print/x (unsigned)dirty_area", "delete", "detach", elf=t.path(BASIC), timeout=300)
    t.finish(m)
    area = int(t.find(out, r"^\$1 = (0x[0-9a-f]+)", "dirty_area's address").group(1), 16)
    return out, [area + (first + k * step) * 4096 for k in range(count)]


def test_listed_pages_are_the_pages_the_guest_wrote(t):
    out, want = run(t, 1, 5, 3)
    t.find(out, r"^dirty: tracking guest writes with PML", "PML on skylake_x")
    n, pages, state = written(out)
    t.check(pages == want, f"the guest's five pages, gdb's write not among them: {[hex(p) for p in pages]}, "
            f"want {[hex(p) for p in want]}")
    t.check(n == 5 and state == "PML, tracking", f"the heading: {n} pages ({state})")
    t.find(out, r"^dirty: stopped", "stop")
    after = out[out.index("dirty: stopped"):]
    n2, pages2, state2 = written(after)
    t.check(pages2 == want and state2 == "stopped", f"after stop the interval's pages stay: {state2} {pages2}")


def test_past_512_pages_the_pml_full_exit_loses_nothing(t):
    out, want = run(t, 0, 600, 1)
    n, pages, _ = written(out)
    t.check(n == 600 and pages == want, f"600 pages written, 600 listed: {n}")
    t.find(out, r"62 PML_FULL +1\n", "one PML-full exit (600 pages, 512 slots): monitor exits")


test_past_512_pages_the_pml_full_exit_loses_nothing.timeout = 400


def test_the_degraded_scan_lists_the_same_pages(t):
    out, want = run(t, 2, 4, 5, start="monitor dirty start scan")
    t.find(out, r"^dirty: tracking guest writes by scanning the EPT's dirty flags at each list \(degraded: asked for\)",
           "the degraded method, said so")
    n, pages, state = written(out)
    t.check(pages == want and state == "dirty-flag scan, tracking", f"the same pages: {[hex(p) for p in pages]}")


def test_a_cpu_without_ept_ad_flags_is_refused(t):
    m = t.start(hv_args="panic=poweroff gdb-wait", model="corei7_ivy_bridge_3770k", timeout=300,
                modules=[(BASIC, f"guest {SKIP_ALL}")])
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "monitor dirty start", "monitor dirty list", "detach", elf=t.path(BASIC), timeout=120)
    t.finish(m)
    t.find(out, r"^dirty: refused: this CPU's EPT has no accessed/dirty flags \(IA32_VMX_EPT_VPID_CAP bit 21\), "
                r"and tracking by write protection is not implemented", "refused, with the reason")
    t.find(out, r"^dirty: tracking never started", "nothing to list")


SMP = "build/guests/smp.elf"
AGREE = ("local s = {} for _, a in ipairs(ept.dirty()) do s[a] = true end "
         "local n, bad = 0, 0 for a = 0, 0x3ff000, 4096 do local q = ept.query(a) "
         "if q.present then if q.dirty then n = n + 1 end "
         "if (q.dirty or false) ~= (s[a] or false) then bad = bad + 1 end end end return n, bad")


def test_both_vcpus_log_their_writes_and_the_logs_agree_with_the_dirty_flags(t):
    """The SMP guest: a stop with the AP in ap_only_function, start, run to
    the BSP's bsp_only_function; the AP's counter page is listed (its vCPU
    logged it in its own PML page), and every page below 4 MiB is listed
    exactly when its EPT leaf is dirty: no log lost, none extra."""
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(SMP, "guest apic=xapic spin=3000000")], cpus=2,
                timeout=900)
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "break ap_only_function", "continue", "monitor dirty start", "delete",
                "break bsp_only_function", "continue", "monitor dirty list", f"monitor lua {AGREE}",
                "print/x (unsigned)&ap_counter", "monitor dirty stop", "delete", "detach",
                elf=t.path(SMP), timeout=600)
    t.finish(m, stop=True)
    t.find(out, r"^dirty: tracking guest writes with PML", "PML")
    n, pages, state = written(out)
    counter = int(t.find(out, r"^\$1 = (0x[0-9a-f]+)", "ap_counter's address").group(1), 16)
    t.check(counter & ~0xfff in pages, f"the AP's counter page 0x{counter & ~0xfff:x} is listed: "
            f"{[hex(p) for p in pages]}")
    agree = t.find(out, r"^(\d+) \(0x[0-9a-f]+\)\t(\d+) \(0x[0-9a-f]+\)$", "the Lua comparison")
    t.check(int(agree.group(1)) > 0 and agree.group(2) == "0",
            f"{agree.group(1)} dirty leaves below 4 MiB, {agree.group(2)} disagreeing with the list")


test_both_vcpus_log_their_writes_and_the_logs_agree_with_the_dirty_flags.timeout = 900
