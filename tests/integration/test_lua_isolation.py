"""Script isolation (issue 10, item 6), replayed over real gdb and Bochs:
what one `monitor lua` chunk or boot script does to `hv`, `print`, the
string metatable or `regs` (`hv = nil`, `print = nil`, a replaced string
metatable, `rawset(regs, "rip", 0)`: before, they persisted for everyone)
is refused or stays in its own environment; another script's hook keeps
running with its own globals, and the guest finishes with the bare checksum."""
import re

BASIC = "build/guests/basic.elf"
DONE = r"GUEST DONE passed=\d+ failed=0 checksum=0xf91f694b"

COUNTER = """\
calls = 0
hv.on_exit("CPUID", function(e) calls = calls + 1 end)
hv.on_poweroff(function() print(string.format("counter: %d CPUID exits, %s", calls, type(hv))) end)
"""

BREAKER = """\
hv = nil print = nil calls = -1000000
print("breaker: pcall:", pcall(rawset, regs, "rip", 0))
"""

ATTEMPTS = [
    ("hv = nil print = nil", None),
    ("rawset(regs, 'rip', 0)", r"^error: .*bad argument #1 to 'rawset' \(table expected, got userdata\)"),
    ("getmetatable('').__index = { upper = function() return 'hijacked' end }",
     r"^error: .*the string metatable is read-only"),
    ("string.upper = nil", r"^error: .*string\.upper: string is read-only \(shared by every script\)"),
    ("rawset(hv, 'on_exit', nil)", r"^error: .*bad argument #1 to 'rawset' \(table expected, got userdata\)"),
]


def test_no_chunk_or_script_can_break_the_api_or_another_scripts_hook(t):
    counter = t.write_file("counter.lua", COUNTER)
    breaker = t.write_file("breaker.lua", BREAKER)
    m = t.start(hv_args="panic=poweroff gdb-wait", modules=[
        (BASIC, "guest"), (counter, "script:counter.lua"), (breaker, "script:breaker.lua")])
    t.wait_for(m, r"gdb-wait")
    out = t.gdb(m, *[f"monitor lua {chunk}" for chunk, _ in ATTEMPTS],
                "monitor lua return type(hv), type(print), ('abc'):upper(), regs.rip == vmcs.read('GUEST_RIP')",
                "detach")
    for chunk, refusal in ATTEMPTS:
        if refusal:
            t.check(re.search(refusal, out, re.M), f"`{chunk}` was not refused: {out[-800:]!r}")
    t.check(re.search(r"^userdata\tfunction\tABC\ttrue$", out, re.M),
            f"a chunk's changes reached the next one: {out[-800:]!r}")
    r = t.finish(m)
    # hv = nil and print = nil left even the breaker's own view as it was.
    r.expect(r"lua: breaker: pcall:\tfalse\t.*bad argument #1 to 'rawset' \(table expected, got userdata\)")
    r.expect(DONE)
    n = int(r.expect(r"lua: counter: (\d+) CPUID exits, userdata").group(1))
    t.check(n > 0, "the counter's hook never ran")
    r.forbid(r"EXCEPTION|PANIC")
    r.expect_poweroff()
