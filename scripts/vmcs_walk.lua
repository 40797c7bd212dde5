-- vmcs_walk.lua — a walk through the live VMCS in the order of chapter 3
-- of Deng Zhi's "Processor Virtualization Technology" (which follows SDM
-- Vol. 3C ch. 25): how a field is named by its encoding, then the six
-- areas: guest state, host state, VM-execution controls, VM-exit
-- controls, VM-entry controls, VM-exit information.  Every field of the
-- hypervisor's table is shown with its encoding taken apart and its value
-- (or why there is none on this CPU).
--
-- Run it at boot (the VMCS is current once the hypervisor has set it up)
-- or from gdb while the guest is stopped.  Argument: one area's key
-- (encoding, guest, host, exec, exit, entry, info) to show only that one.

local only = ...

local WIDTHS = { "16-bit", "64-bit", "32-bit", "natural" }

-- Encoding bits (SDM Vol. 3C §25.11.2): 0 access, 9:1 index, 11:10 type, 14:13 width.
local function explain(f)
  local width = (f.encoding >> 13) & 3
  return string.format("0x%04x = width %d (%s) | type %d (%s) | index %d | access 0 (full)",
    f.encoding, width, WIDTHS[width + 1], (f.encoding >> 10) & 3, f.group, f.index)
end

local function value_of(f)
  local ok, v = pcall(vmcs.read, f.name)
  if not ok then
    return tostring(v):find("not supported") and "(not on this CPU)" or "(" .. tostring(v) .. ")"
  end
  local digits = f.width == 16 and 4 or f.width == 32 and 8 or 16
  return string.format("0x%0" .. digits .. "x", v)
end

local function show(title, fields)
  print("")
  print("== " .. title)
  for _, f in ipairs(fields) do
    print(string.format("  %-40s %04x  %-8s %s", f.name, f.encoding,
      WIDTHS[((f.encoding >> 13) & 3) + 1], value_of(f)))
  end
end

local function select_fields(group, keep)
  local out = {}
  for _, f in ipairs(vmcs.fields(group)) do
    if keep(f.name) then out[#out + 1] = f end
  end
  return out
end

local function any(patterns)
  return function(name)
    for _, p in ipairs(patterns) do
      if name:find(p) then return true end
    end
    return false
  end
end
local function none(patterns)
  local hit = any(patterns)
  return function(name) return not hit(name) end
end

local SEGMENTS = { "^GUEST_[ECSDFG]S_", "^GUEST_LDTR_", "^GUEST_TR_" }
local DESCRIPTOR_TABLES = { "^GUEST_GDTR_", "^GUEST_IDTR_" }
local REGISTERS = { "^GUEST_CR[034]$", "^GUEST_DR7$", "^GUEST_RSP$", "^GUEST_RIP$", "^GUEST_RFLAGS$",
  "^GUEST_SSP$" }
local GUEST_MSRS = { "^GUEST_IA32_", "^GUEST_SMBASE$" }
local EXIT_CONTROLS = { "VM_EXIT_CONTROLS$", "^VM_EXIT_MSR_" }
local ENTRY_CONTROLS = { "^VM_ENTRY_" }

local AREAS = {
  { "encoding", function()
      print("== Naming a field: its 32-bit encoding (VMREAD/VMWRITE operand)")
      local f = vmcs.info("GUEST_RIP")
      print("  GUEST_RIP: " .. explain(f))
      f = vmcs.info("EXIT_QUALIFICATION")
      print("  EXIT_QUALIFICATION: " .. explain(f) .. " — type 1: read-only VM-exit information")
      f = vmcs.info("EPT_POINTER")
      print("  EPT_POINTER: " .. explain(f) .. " — its upper half alone is 0x" ..
        string.format("%04x", f.encoding | 1) .. " (access 1, high)")
    end },
  { "guest", function()
      show("Guest-state area: registers", select_fields("guest", any(REGISTERS)))
      show("Guest-state area: segment registers (selector, base, limit, access rights)",
        select_fields("guest", any(SEGMENTS)))
      show("Guest-state area: GDTR and IDTR", select_fields("guest", any(DESCRIPTOR_TABLES)))
      show("Guest-state area: MSRs and SMBASE", select_fields("guest", any(GUEST_MSRS)))
      local all = {}
      for _, list in ipairs({ REGISTERS, SEGMENTS, DESCRIPTOR_TABLES, GUEST_MSRS }) do
        for _, p in ipairs(list) do all[#all + 1] = p end
      end
      show("Guest-state area: non-register state (activity, interruptibility, pending #DB, "
        .. "link pointer, preemption timer, PDPTEs, ...)", select_fields("guest", none(all)))
    end },
  { "host", function()
      show("Host-state area: what every VM exit loads (where the hypervisor resumes)",
        select_fields("host", function() return true end))
    end },
  { "exec", function()
      show("VM-execution control fields: what exits, and how the guest is virtualized",
        select_fields("control", none({ EXIT_CONTROLS[1], EXIT_CONTROLS[2], ENTRY_CONTROLS[1] })))
    end },
  { "exit", function()
      show("VM-exit control fields", select_fields("control", any(EXIT_CONTROLS)))
    end },
  { "entry", function()
      show("VM-entry control fields (event injection included)", select_fields("control", any(ENTRY_CONTROLS)))
    end },
  { "info", function()
      show("VM-exit information fields (read-only: the last exit, or the last VM-instruction error)",
        vmcs.fields("exit-info"))
    end },
}

local shown = false
for _, area in ipairs(AREAS) do
  if not only or only == area[1] then
    area[2]()
    shown = true
  end
end
if not shown then
  error("vmcs_walk: no area \"" .. tostring(only) .. "\" (encoding guest host exec exit entry info)")
end
