-- ch7-apic.lua — lab for chapter 7 (APIC virtualization; SDM Vol. 3C ch. 30,
-- the book §4.9 and ch. 7).  Under apic=virtual each vCPU has a virtual-APIC
-- page: the guest's APIC reads come from it, its TPR and EOI writes change it
-- without exits, and every interrupt exits, acknowledged, to be posted there
-- (IRR, RVI) and delivered by the CPU when RVI beats PPR.  Part 1 reads the
-- controls and the page at a stop; part 2 hooks the APIC exits that follow
-- and shows the first few of each kind, then the counts.
--
-- On the SMP guest, stopped on its AP (two terminals, see README.md here):
--   make run GUEST=build/guests/smp.elf GUEST_ARGS=apic=xapic CPUS=2 HV_ARGS="gdb-wait apic=virtual"
--   (gdb) break ap_only_function
--   (gdb) continue
--   (gdb) monitor apic                       # vCPU 1's page, decoded by vmxdbg itself
--   (gdb) vmx lua scripts/labs/ch7-apic.lua [N]   # part 1 now; part 2: the next N APIC exits (default 6 a kind)
--   (gdb) continue                           # the guest's 16 IPIs each way go through them
--
-- Check: the four controls are on; the APIC-access address is the guest's
-- xAPIC page (IA32_APIC_BASE); each vCPU's page holds its own APIC id; the
-- BSP's ICR still holds the start-up IPI it sent the AP (an APIC-write exit
-- carried it to vCPU 1); in part 2 every fixed IPI is an APIC write (ICR,
-- 0x300) on the sender and an external interrupt of the same vector on the
-- receiver, posted, and then EOI'd by the guest without an exit.

local limit = tonumber((...)) or 6

local function bit(value, n) return (value >> n) & 1 == 1 and "on" or "OFF" end

-- Part 1: the controls of SDM Vol. 3C §25.6 that make the mode.
local pin = vmcs.read("PIN_BASED_VM_EXEC_CONTROL")
local proc = vmcs.read("PRIMARY_VM_EXEC_CONTROL")
local proc2 = vmcs.read("SECONDARY_VM_EXEC_CONTROL")
local exit = vmcs.read("PRIMARY_VM_EXIT_CONTROLS")
print(string.format("ch7: external-interrupt exiting (pin bit 0) %s, acknowledge interrupt on exit (exit bit 15) %s",
  bit(pin, 0), bit(exit, 15)))
print(string.format("ch7: TPR shadow (primary bit 21) %s; virtualize APIC accesses (secondary bit 0) %s, "
  .. "APIC-register virtualization (bit 8) %s, virtual-interrupt delivery (bit 9) %s",
  bit(proc, 21), bit(proc2, 0), bit(proc2, 8), bit(proc2, 9)))
print(string.format("ch7: APIC_ACCESS_ADDRESS = 0x%x (the guest's xAPIC page); VIRTUAL_APIC_ADDRESS = 0x%x "
  .. "(vCPU %d's page, in the hypervisor's memory)", vmcs.read("APIC_ACCESS_ADDRESS"),
  vmcs.read("VIRTUAL_APIC_ADDRESS"), hv.vcpu()))

-- The page of every vCPU (the guest is stopped: all are reachable).
for _, v in ipairs(hv.vcpus()) do
  local a = apic.view(v.index)
  local status = vmcs.of(v.index).read("GUEST_INTERRUPT_STATUS")
  print(string.format("ch7: vCPU %d: APIC id %d, TPR 0x%02x, PPR 0x%02x, GUEST_INTERRUPT_STATUS 0x%04x "
    .. "(RVI 0x%02x, SVI 0x%02x), IRR %d vectors, ISR %d", v.index, a.id, a.tpr, a.ppr, status, status & 0xff,
    status >> 8, #a.irr, #a.isr))
end
local bsp = apic.view(0)
local icr = bsp.icr
local modes = { [0] = "fixed", [4] = "NMI", [5] = "INIT", [6] = "start-up" }
print(string.format("ch7: vCPU 0's ICR 0x%016x: %s IPI, vector 0x%02x, to APIC id %d", icr,
  modes[(icr >> 8) & 7] or "other", icr & 0xff, icr >> 32))

-- Part 2: the exits APIC virtualization leaves (SDM §30.1-30.5).
local shown, counts = {}, {}
local function note(kind, line)
  counts[kind] = (counts[kind] or 0) + 1
  if counts[kind] <= limit then print("ch7: " .. line) end
end
hv.on_exit("EXTERNAL_INTERRUPT", function(e)
  local info = e.interruption_info
  note("interrupt", string.format("vCPU %d: external interrupt, vector 0x%02x: acknowledged on exit, to be "
    .. "posted (virtual IRR, RVI)", e.vcpu, info & 0xff))
end)
hv.on_exit("APIC_WRITE", function(e)
  local offset = e.qualification & 0xff0
  local value = apic.reg(offset)
  if offset == 0x300 then
    note("icr", string.format("vCPU %d: APIC write at 0x300 (ICR) = 0x%08x: %s IPI, vector 0x%02x, to APIC id %d: "
      .. "forwarded", e.vcpu, value, modes[(value >> 8) & 7] or "other", value & 0xff, apic.reg(0x310) >> 24))
  else
    note("write", string.format("vCPU %d: APIC write at 0x%03x = 0x%08x: forwarded to the physical APIC", e.vcpu,
      offset, value))
  end
end)
hv.on_exit("VIRTUALIZED_EOI", function(e)
  note("eoi", string.format("vCPU %d: EOI of level-triggered vector 0x%02x", e.vcpu, e.qualification & 0xff))
end)
hv.on_exit("APIC_ACCESS", function(e)
  note("access", string.format("vCPU %d: APIC access at offset 0x%03x (not virtualized): emulated", e.vcpu,
    e.qualification & 0xfff))
end)
hv.on_poweroff(function()
  print(string.format("ch7: counted: %d external interrupts, %d ICR writes, %d other APIC writes, %d EOI exits, "
    .. "%d APIC accesses", counts.interrupt or 0, counts.icr or 0, counts.write or 0, counts.eoi or 0,
    counts.access or 0))
end)
print(string.format("ch7: hooks on; `continue` shows the first %d APIC exits of each kind", limit))
