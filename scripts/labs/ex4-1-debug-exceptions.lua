-- ex4-1-debug-exceptions.lua — book example 4-1 (Deng Zhi, "Processor
-- Virtualization Technology" §4.13): how VM entry delivers #DB, with and
-- without an injected event.  Three experiments on the guest's CPUID exits
-- (SDM Vol. 3C §27.6 "Event Injection", §27.7.3 "Delivery of Pending Debug
-- Exceptions after VM Entry"; Vol. 3B §19.2.3 DR6):
--
--  1. GUEST_PENDING_DEBUG_EXCEPTIONS.BS (bit 14) set, nothing injected:
--     the entry delivers the pending single-step #DB before the guest's
--     next instruction, and DR6.BS says so.
--  2. BS set AND a hardware exception (#UD) injected: "there are no pending
--     debug exceptions after VM entry" when the entry injects a hardware
--     exception — the #UD arrives, the #DB never does.
--  3. RFLAGS.TF set and #UD injected in place of CPUID: delivering the
--     event is no instruction, so no single-step trap for it; the handler
--     runs with TF clear (the gate clears it), its IRET restores TF, the
--     CPUID runs again (the hypervisor completes it), and the single-step
--     #DB comes after it — owed by the hypervisor as a pending debug
--     exception (hv/inject.c, guest_single_step_trap).
--
-- Run it on the basic test guest, which reports each #UD and #DB it takes
-- (with DR6 and TF for #DB) and ends the single-step as an OS would:
--
--   make run GUEST=build/guests/basic.elf GUEST_ARGS="injected=1 injected=6 skip=events" \
--            SCRIPTS=scripts/labs/ex4-1-debug-exceptions.lua
--
-- Argument: at=N, the CPUID exit where experiment 1 starts (default 3); 2
-- and 3 follow two CPUIDs apart.  The lab's README reads the output.

local first = 3
for _, word in ipairs({ ... }) do
  local n = word:match("^at=(%d+)$")
  assert(n, "ex4-1: the only argument is at=N, not " .. word)
  first = tonumber(n)
end

local BS = 1 << 14        -- single-step, in the pending debug exceptions and in DR6
local TF = 1 << 8         -- RFLAGS.TF
local UD = 6

local function hex(v) return string.format("0x%x", v) end

-- The injection field in words (SDM Vol. 3C §25.8.3): bit 31 valid, 10:8 type, 7:0 vector.
local function event(info)
  if info & (1 << 31) == 0 then return "nothing injected" end
  return string.format("type %d vector %d", (info >> 8) & 7, info & 0xff)
end

local function show_entry(what)
  print(string.format("ex4-1: %s: GUEST_PENDING_DEBUG_EXCEPTIONS=%s RFLAGS=%s VM_ENTRY_INTERRUPTION_INFO: %s",
    what, hex(vmcs.read("GUEST_PENDING_DEBUG_EXCEPTIONS")), hex(vmcs.read("GUEST_RFLAGS")),
    event(vmcs.read("VM_ENTRY_INTERRUPTION_INFO"))))
end

local experiments = {
  [first] = function(e)
    vmcs.write("GUEST_PENDING_DEBUG_EXCEPTIONS", BS)
    print(string.format("ex4-1: 1 at CPUID rip %s: BS pending, nothing injected: expect #DB at %s with DR6.BS",
      hex(e.rip), hex(e.rip + e.instruction_length)))
    show_entry("1")
    return nil            -- the hypervisor completes CPUID; the entry then delivers the #DB
  end,
  [first + 2] = function(e)
    vmcs.write("GUEST_PENDING_DEBUG_EXCEPTIONS", BS)
    inject.exception(UD)
    print(string.format("ex4-1: 2 at CPUID rip %s: BS pending and #UD injected: expect #UD at %s and no #DB",
      hex(e.rip), hex(e.rip)))
    show_entry("2")
    return "resume"       -- the #UD replaces the CPUID, which runs again after the handler
  end,
  [first + 3] = function(e)
    print(string.format("ex4-1: 2 after the entry: GUEST_PENDING_DEBUG_EXCEPTIONS=%s (the injected #UD "
      .. "discarded the pending #DB)", hex(vmcs.read("GUEST_PENDING_DEBUG_EXCEPTIONS"))))
    return nil
  end,
  [first + 5] = function(e)
    regs.rflags = regs.rflags | TF
    inject.exception(UD)
    print(string.format("ex4-1: 3 at CPUID rip %s: TF set and #UD injected: expect #UD at %s, then #DB at %s "
      .. "with DR6.BS after the CPUID runs again", hex(e.rip), hex(e.rip), hex(e.rip + e.instruction_length)))
    show_entry("3")
    return "resume"
  end,
}

local n, handle = 0, nil
handle = hv.on_exit("CPUID", function(e)
  n = n + 1
  local step = experiments[n]
  if n >= first + 5 then hv.off(handle) end
  if step then return step(e) end
  return nil
end)
print(string.format("ex4-1: three experiments from CPUID exit #%d on", first))
