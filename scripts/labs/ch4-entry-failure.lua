-- ch4-entry-failure.lua — lab for chapter 4 (VM entry; SDM Vol. 3C §27.3
-- "Checking and Loading Guest State", §27.8 "VM-Entry Failures").  vmxdbg
-- runs the SDM's entry checks in software (hv/entry_check*.c) before every
-- VMCS write a user asks for: a write that would make the next entry fail
-- is refused with the rule it breaks.  A real failure needs the hypervisor
-- itself to break the VMCS: `selftest=vmentry` marks TR unusable before
-- VMLAUNCH; the CPU then fails the entry (exit reason 33 with bit 31 set),
-- the guest stops for gdb with the checker's verdict, and a fix lets it go.
--
-- Part 1, on any stopped guest — refused writes:
--   (gdb) vmx lua scripts/labs/ch4-entry-failure.lua
-- Part 2 — a real failure and its fix (make run HV_ARGS="gdb-wait selftest=vmentry"):
--   (gdb) continue                     # VMLAUNCH fails: "Program received signal SIGKILL"
--   (gdb) monitor why                  # the processor's verdict, then the checker's rules
--   (gdb) vmx lua scripts/labs/ch4-entry-failure.lua fix
--   (gdb) monitor why                  # "can run"
--   (gdb) continue                     # the entry is tried again; the guest runs
--
-- Check: part 1's writes are refused naming TR and RFLAGS, and change
-- nothing; part 2's fix is accepted and the checker then finds no rule
-- broken.

local mode = ...
local AR_UNUSABLE = 1 << 16
local AR_TSS_BUSY = 0x8b      -- present (bit 7), type 11: busy 32/64-bit TSS (SDM §27.3.1.2)

local function tr()
  local ar = vmcs.read("GUEST_TR_ACCESS_RIGHTS")
  return string.format("GUEST_TR_ACCESS_RIGHTS = 0x%x (type %d, P=%d, unusable=%d)", ar, ar & 15, (ar >> 7) & 1,
    (ar >> 16) & 1)
end

local function try(field, value)
  local before = vmcs.read(field)
  local ok, err = pcall(vmcs.write, field, value)
  print(string.format("ch4: vmcs.write(%s, 0x%x): %s", field, value, ok and "accepted" or tostring(err)))
  print(string.format("ch4:   %s is 0x%x: %s", field, vmcs.read(field),
    vmcs.read(field) == before and "unchanged" or "changed"))
  return ok
end

print("ch4: " .. tr())
if mode == "fix" then
  if try("GUEST_TR_ACCESS_RIGHTS", AR_TSS_BUSY) then
    print("ch4: fixed: " .. tr() .. "; `continue` retries the entry")
  end
elseif mode == nil then
  try("GUEST_TR_ACCESS_RIGHTS", vmcs.read("GUEST_TR_ACCESS_RIGHTS") | AR_UNUSABLE)
  try("GUEST_RFLAGS", 0)      -- bit 1 of RFLAGS must be 1 (§27.3.1.4)
else
  error("ch4: the only argument is fix, not " .. tostring(mode))
end
