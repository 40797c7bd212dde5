-- ch2-capabilities.lua — lab for chapter 2 (VMX capabilities; SDM Vol. 3D
-- Appendix A).  What the CPU can do is in its capability MSRs (`monitor
-- caps` decodes them bit by bit); what vmxdbg asked for is in the VMCS
-- controls, each chosen within the MSR's allowed 0- and 1-settings; what
-- the guest is told is CPUID with VMX hidden.
--
--   (gdb) monitor caps                 # IA32_VMX_BASIC, the control MSRs, EPT/VPID, MISC, CR0/CR4 fixed bits
--   (gdb) vmx lua scripts/labs/ch2-capabilities.lua
--   (gdb) monitor vmcs PRIMARY_VM_EXEC_CONTROL
--
-- Check: each control value below lies between the "must be 1" and "may
-- be 1" masks `monitor caps` prints for its MSR; bit 5 of CPUID.1:ECX is
-- 0 for the guest; the MTF line says whether bit 27 may be 1 and works.

local function hex(v) return string.format("0x%08x", v) end

print("ch2: the controls vmxdbg chose (each within its capability MSR, SDM Vol. 3D A.3-A.5):")
for _, name in ipairs({ "PIN_BASED_VM_EXEC_CONTROL", "PRIMARY_VM_EXEC_CONTROL", "SECONDARY_VM_EXEC_CONTROL",
                        "PRIMARY_VM_EXIT_CONTROLS", "VM_ENTRY_CONTROLS" }) do
  print(string.format("ch2:   %-26s = %s", name, hex(vmcs.read(name))))
end

local proc2 = vmcs.read("SECONDARY_VM_EXEC_CONTROL")
print(string.format("ch2: EPT %s, VPID %s, unrestricted guest %s (secondary bits 1, 5, 7)",
  proc2 & 2 ~= 0 and "on" or "off", proc2 & 32 ~= 0 and "on" or "off", proc2 & 128 ~= 0 and "on" or "off"))

local _, _, ecx = hv.cpuid(1)
print(string.format("ch2: the guest's CPUID.1:ECX = %s: VMX (bit 5) = %d — hidden from the guest", hex(ecx),
  (ecx >> 5) & 1))

local method, why = hv.stepping()
print("ch2: " .. why)
print("ch2: so gdb's stepi runs by " .. method)
