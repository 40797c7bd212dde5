-- inject_demo.lua — events the guest did not cause.  On the Nth exit of a
-- reason, the hook queues an exception, an external interrupt or an NMI
-- for the next VM entry (SDM Vol. 3C §27.6; an interrupt or NMI the guest
-- cannot take yet is held until an interrupt-/NMI-window exit, §25.6.2).
--
-- Arguments:
--   at=REASON:N        when (default CPUID:3, the third CPUID exit)
--   exception=V[:EC]   inject exception vector V, with error code EC
--   interrupt=V        inject external interrupt vector V (32-255)
--   nmi                inject an NMI
-- Default: exception=6 (#UD) at the third CPUID: the guest's CPUID "faults".
-- An exception replaces the instruction (the hook returns "resume": RIP stays
-- on it, so the guest's handler sees the faulting instruction, as for a real
-- #UD); an interrupt or NMI arrives after it ("skip" is not used: the
-- hypervisor still runs the instruction).
--
--   module line: script at=HLT:1 interrupt=0x20

local at_reason, at_count = "CPUID", 3
local kind, vector, errcode = "exception", 6, nil
for _, word in ipairs({ ... }) do
  local key, value = word:match("^(%w+)=(.+)$")
  if key == "at" then
    local r, n = value:match("^([%w_]+):(%d+)$")
    assert(r, "inject_demo: at=REASON:N, not " .. value)
    at_reason, at_count = r, tonumber(n)
  elseif key == "exception" then
    local v, ec = value:match("^(%w+):?(%w*)$")
    kind, vector = "exception", math.tointeger(tonumber(v))
    errcode = ec ~= "" and math.tointeger(tonumber(ec)) or nil
  elseif key == "interrupt" then
    kind, vector = "interrupt", math.tointeger(tonumber(value))
  elseif word == "nmi" then
    kind = "nmi"
  else
    error("inject_demo: unknown argument " .. word)
  end
end

local n, handle = 0, nil
handle = hv.on_exit(at_reason, function(e)
  n = n + 1
  if n < at_count then return nil end
  hv.off(handle)
  if kind == "exception" then
    inject.exception(vector, errcode)
    print(string.format("inject_demo: exception %d%s at rip 0x%x instead of its %s", vector,
      errcode and string.format(" (error code 0x%x)", errcode) or "", e.rip, e.name))
    return "resume"
  elseif kind == "interrupt" then
    inject.interrupt(vector)
    print(string.format("inject_demo: interrupt 0x%x queued at rip 0x%x", vector, e.rip))
  else
    inject.nmi()
    print(string.format("inject_demo: NMI queued at rip 0x%x", e.rip))
  end
  return nil
end)
print(string.format("inject_demo: %s at %s #%d", kind == "nmi" and "an NMI" or
  string.format("%s 0x%x", kind, vector), at_reason, at_count))
