-- msr_logger.lua — logs the guest's RDMSR and WRMSR that exit: which MSR
-- (ECX), the value written (EDX:EAX), and where.  Which MSRs exit is the
-- MSR bitmap's choice (SDM Vol. 3C §25.6.9); with the bitmap vmxdbg sets
-- up, those are the ones it guards (VMX capability MSRs, feature control)
-- and any the hypervisor chose to watch.  The hook returns nil: the
-- hypervisor still handles the access.
--
-- Argument: `only=0xc0000080` (repeatable) logs just those MSRs.

local NAMES = {
  [0x10] = "IA32_TIME_STAMP_COUNTER", [0x1b] = "IA32_APIC_BASE", [0x3a] = "IA32_FEATURE_CONTROL",
  [0x8b] = "IA32_BIOS_SIGN_ID", [0xfe] = "IA32_MTRRCAP", [0x174] = "IA32_SYSENTER_CS",
  [0x175] = "IA32_SYSENTER_ESP", [0x176] = "IA32_SYSENTER_EIP", [0x1a0] = "IA32_MISC_ENABLE",
  [0x1d9] = "IA32_DEBUGCTL", [0x277] = "IA32_PAT", [0x2ff] = "IA32_MTRR_DEF_TYPE",
  [0x480] = "IA32_VMX_BASIC", [0x481] = "IA32_VMX_PINBASED_CTLS", [0x482] = "IA32_VMX_PROCBASED_CTLS",
  [0x483] = "IA32_VMX_EXIT_CTLS", [0x484] = "IA32_VMX_ENTRY_CTLS", [0x485] = "IA32_VMX_MISC",
  [0x486] = "IA32_VMX_CR0_FIXED0", [0x487] = "IA32_VMX_CR0_FIXED1", [0x488] = "IA32_VMX_CR4_FIXED0",
  [0x489] = "IA32_VMX_CR4_FIXED1", [0x48a] = "IA32_VMX_VMCS_ENUM", [0x48b] = "IA32_VMX_PROCBASED_CTLS2",
  [0x48c] = "IA32_VMX_EPT_VPID_CAP", [0x48d] = "IA32_VMX_TRUE_PINBASED_CTLS",
  [0x48e] = "IA32_VMX_TRUE_PROCBASED_CTLS", [0x48f] = "IA32_VMX_TRUE_EXIT_CTLS",
  [0x490] = "IA32_VMX_TRUE_ENTRY_CTLS", [0x491] = "IA32_VMX_VMFUNC",
  [0x6e0] = "IA32_TSC_DEADLINE", [0xc0000080] = "IA32_EFER", [0xc0000081] = "IA32_STAR",
  [0xc0000082] = "IA32_LSTAR", [0xc0000083] = "IA32_CSTAR", [0xc0000084] = "IA32_FMASK",
  [0xc0000100] = "IA32_FS_BASE", [0xc0000101] = "IA32_GS_BASE", [0xc0000102] = "IA32_KERNEL_GS_BASE",
  [0xc0000103] = "IA32_TSC_AUX",
}

local only
for _, word in ipairs({ ... }) do
  local msr = word:match("^only=(.+)$")
  local n = msr and math.tointeger(tonumber(msr))
  if not n then error("msr_logger: only=MSR, not " .. word) end
  only = only or {}
  only[n] = true
end

local function name(msr)
  return NAMES[msr] or string.format("MSR 0x%x", msr)
end

hv.on_exit("MSR_READ", function(e)
  local msr = regs.rcx & 0xffffffff
  if only and not only[msr] then return nil end
  print(string.format("rdmsr %s at rip %x", name(msr), e.rip))
end)

hv.on_exit("MSR_WRITE", function(e)
  local msr = regs.rcx & 0xffffffff
  if only and not only[msr] then return nil end
  local value = (regs.rdx & 0xffffffff) << 32 | (regs.rax & 0xffffffff)
  print(string.format("wrmsr %s <- 0x%x at rip %x", name(msr), value, e.rip))
end)
print("msr_logger: logging the RDMSR/WRMSR that exit")
