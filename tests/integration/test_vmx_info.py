"""`monitor info` (`vmx info` in the gdb helper) names the guest's operating
mode and paging as the SDM does: the basic guest enters in protected mode
with paging off (multiboot), then turns 32-bit paging on in its paging
group.  The other modes (real, PAE, 64-bit, compatibility, virtual-8086)
are covered by tests/unit/test_guest_mode.c."""
import re

BASIC = "build/guests/basic.elf"


def test_vmx_info_says_protected_mode_paging_off_then_32_bit_paging(t):
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[(BASIC, "guest")], timeout=120)
    t.wait_for(m, r"gdb-wait: the guest waits")
    out = t.gdb(m, "monitor info",
                "break report_expect if $cr0 & 0x80000000", "continue",
                "monitor info", "delete", "detach", elf=t.path(BASIC), timeout=120)
    modes = re.findall(r"vcpu 0: stopped, RIP 0x[0-9a-f]+, (.*)", out)
    t.check(modes == ["protected mode, paging off", "protected mode, 32-bit paging"],
            f"monitor info said {modes}: {out.strip()[-400:]!r}")
    t.finish(m)
