-- ch3-vmcs.lua — lab for chapter 3 (the VMCS; SDM Vol. 3C ch. 25, Vol. 3D
-- Appendix B).  A field is named by a 32-bit encoding that says its width,
-- its area and its index; the guest-state area holds what VM entry loads,
-- the host-state area what VM exit loads; segment access rights keep the
-- descriptor's bits.  Writes go through one policy: a field that is the
-- hypervisor's is refused with the reason.
--
--   (gdb) vmx lua scripts/labs/ch3-vmcs.lua
--   (gdb) monitor vmcs                 # every field, the controls bit by bit
--   (gdb) monitor vmcs GUEST_RIP       # one field; `info registers rip` agrees
--   (gdb) vmx lua scripts/vmcs_walk.lua guest     # the whole guest-state area
--
-- Check: GUEST_RIP is where gdb says the guest stands; CS is a present
-- code segment; the write to HOST_RIP is refused and HOST_RIP unchanged.

local WIDTHS = { [0] = "16-bit", "64-bit", "32-bit", "natural" }
local TYPES = { [0] = "control", "exit-info", "guest", "host" }

for _, name in ipairs({ "GUEST_RIP", "GUEST_CS_ACCESS_RIGHTS", "EXIT_QUALIFICATION", "HOST_RIP" }) do
  local f = vmcs.info(name)
  print(string.format("ch3: %-22s encoding 0x%04x: width %s, type %s, index %d", name, f.encoding,
    WIDTHS[(f.encoding >> 13) & 3], TYPES[(f.encoding >> 10) & 3], (f.encoding >> 1) & 0x1ff))
end

print(string.format("ch3: GUEST_RIP = 0x%x, GUEST_RSP = 0x%x, GUEST_RFLAGS = 0x%x", vmcs.read("GUEST_RIP"),
  vmcs.read("GUEST_RSP"), vmcs.read("GUEST_RFLAGS")))
print(string.format("ch3: GUEST_CR0 = 0x%x (the guest reads 0x%x: CR0_READ_SHADOW for the bits it does not own)",
  vmcs.read("GUEST_CR0"), regs.cr0))

-- Access rights (SDM Vol. 3C Table 25-2): 3:0 type, 4 S, 6:5 DPL, 7 P, 13 L, 14 D/B, 15 G, 16 unusable.
local ar = vmcs.read("GUEST_CS_ACCESS_RIGHTS")
print(string.format("ch3: CS selector 0x%x, base 0x%x, limit 0x%x, access rights 0x%x: type %d (%s), S=%d, DPL=%d, "
  .. "P=%d, L=%d, D/B=%d, G=%d, unusable=%d", vmcs.read("GUEST_CS_SELECTOR"), vmcs.read("GUEST_CS_BASE"),
  vmcs.read("GUEST_CS_LIMIT"), ar, ar & 15, ar & 8 ~= 0 and "code" or "data", (ar >> 4) & 1, (ar >> 5) & 3,
  (ar >> 7) & 1, (ar >> 13) & 1, (ar >> 14) & 1, (ar >> 15) & 1, (ar >> 16) & 1))

local host_rip = vmcs.read("HOST_RIP")
local ok, err = pcall(vmcs.write, "HOST_RIP", 0)
print("ch3: vmcs.write(\"HOST_RIP\", 0): " .. (ok and "accepted?!" or tostring(err)))
print(string.format("ch3: HOST_RIP still 0x%x: %s", vmcs.read("HOST_RIP"),
  vmcs.read("HOST_RIP") == host_rip and "unchanged" or "CHANGED"))
