-- ch5-exits.lua — lab for chapter 5 (VM exits; SDM Vol. 3C ch. 28, the
-- exit qualification §28.2.1, Appendix C the basic exit reasons).  Each
-- exit says why (the basic reason) and, for many reasons, how
-- (EXIT_QUALIFICATION): for an I/O instruction the port, the direction, the
-- size; for CPUID the leaf is in the guest's EAX.  The script hooks the
-- next exits of the guest and decodes the first few of each kind; the rest
-- are counted, and the counts shown when N were seen or the guest powers
-- off, whichever comes first.
--
--   (gdb) vmx lua scripts/labs/ch5-exits.lua [N]   # the next N exits (default 40), in the console log
--   (gdb) continue                     # then Ctrl-C
--   (gdb) monitor exits                # counts by reason
--   (gdb) monitor exit                 # the last exit, decoded by vmxdbg itself
--
-- Check: I/O exits name the guest's serial port (0x3f8-0x3ff) and CPUID
-- exits the leaves the guest asks for; run from the guest's first
-- instruction (gdb-wait) to its end, the counts are the hypervisor's own
-- ("[I] exits:" at power-off) but for the preemption timer.

local limit = tonumber((...)) or 40
local shown, counts, seen, handle = {}, {}, 0, nil

-- I/O qualification (SDM Vol. 3C Table 28-5): 2:0 size-1, 3 in, 4 string, 5 REP, 31:16 port.
local function io(e)
  local q = e.qualification
  return string.format("%s port 0x%x, %d byte%s%s", q & 8 ~= 0 and "IN from" or "OUT to", q >> 16, (q & 7) + 1,
    (q & 7) == 0 and "" or "s", q & 16 ~= 0 and ", string" or "")
end

-- Control-register access (Table 28-3): 3:0 CR, 5:4 type, 11:8 the GPR.
local CR_ACCESS = { [0] = "MOV to", "MOV from", "CLTS", "LMSW" }
local function cr(e)
  local q = e.qualification
  return string.format("%s CR%d (GPR %d)", CR_ACCESS[(q >> 4) & 3], q & 15, (q >> 8) & 15)
end

-- Exception or NMI: the interruption information (§25.9.2) names the
-- vector; for #DB the qualification holds DR6-like bits (BS = bit 14).
local function exception(e)
  local info = e.interruption_info
  return string.format("vector %d, type %d, qualification 0x%x", info & 0xff, (info >> 8) & 7, e.qualification)
end

local decode = {
  IO_INSTRUCTION = io,
  CR_ACCESS = cr,
  EXCEPTION_NMI = exception,
  CPUID = function() return string.format("leaf 0x%x, subleaf 0x%x", regs.rax & 0xffffffff, regs.rcx & 0xffffffff) end,
  MSR_READ = function() return string.format("MSR 0x%x", regs.rcx & 0xffffffff) end,
  MSR_WRITE = function() return string.format("MSR 0x%x", regs.rcx & 0xffffffff) end,
  HLT = function() return "the guest halts" end,
}

local function summary(until_when)
  local parts = {}
  for k, n in pairs(counts) do parts[#parts + 1] = k .. " " .. n end
  table.sort(parts)
  print(string.format("ch5: %d exits%s: %s", seen, until_when, table.concat(parts, ", ")))
end

handle = hv.on_exit("*", function(e)
  local name = e.name
  if name == "PREEMPTION_TIMER" then return nil end   -- vmxdbg's own clock, not the guest's doing
  seen = seen + 1
  counts[name] = (counts[name] or 0) + 1
  if (shown[name] or 0) < 3 then
    shown[name] = (shown[name] or 0) + 1
    local how = decode[name] and decode[name](e) or string.format("qualification 0x%x", e.qualification)
    print(string.format("ch5: exit %d reason %d %s at rip 0x%x: %s", seen, e.reason, name, e.rip, how))
  end
  if seen == limit then
    hv.off(handle)
    summary("")
  end
  return nil
end)
hv.on_poweroff(function(how)
  if seen < limit then summary(" until the guest powered off (" .. how .. ")") end
end)
print(string.format("ch5: decoding the next %d exits (not counting the preemption timer)", limit))
