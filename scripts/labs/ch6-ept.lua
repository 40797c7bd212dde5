-- ch6-ept.lua — lab for chapter 6 (EPT and memory virtualization; SDM Vol.
-- 3C ch. 29 "VMX Support for Address Translation").  A guest address goes
-- through two translations: the guest's own paging (CR3: guest-virtual to
-- guest-physical), then EPT (the EPTP: guest-physical to host-physical).
-- vmxdbg maps the guest's memory 1:1, without its own region: GPA = HPA
-- wherever the guest has memory.  EPT rights are the hypervisor's: take
-- write away from a page and the guest's next store there exits
-- (EPT_VIOLATION, reason 48) with a qualification that says what and how.
--
--   (gdb) break report_expect if $cr0 & 0x80000000     # the basic guest, paging on
--   (gdb) continue
--   (gdb) vmx lua scripts/labs/ch6-ept.lua
--   (gdb) monitor ept 0xGPA           # the walk, PML4E to PTE, for the GPA printed below
--   (gdb) continue                     # the console shows the violation, once
--
-- Check: the two stages agree with `monitor ept`; the store into the
-- protected stack page exits once with a write access and the page gets
-- its rights back.

local function show(what, gva)
  local gpa, why = mem.virt_to_phys(gva)
  if not gpa then
    print(string.format("ch6: %s 0x%x: no guest-physical address (%s)", what, gva, why))
    return nil
  end
  local m = ept.query(gpa)
  print(string.format("ch6: %s GVA 0x%x -> GPA 0x%x (guest paging, CR3 0x%x) -> HPA 0x%x (EPT: %s, %s, "
    .. "level %d, %d KiB page)", what, gva, gpa, regs.cr3, m.hpa, m.perms, m.memtype, m.level, m.page_size // 1024))
  return gpa
end

print(string.format("ch6: EPTP = 0x%x: PML4 at 0x%x, memory type %d, page-walk length %d",
  vmcs.read("EPT_POINTER"), vmcs.read("EPT_POINTER") & ~0xfff, vmcs.read("EPT_POINTER") & 7,
  ((vmcs.read("EPT_POINTER") >> 3) & 7) + 1))
show("code", regs.rip)
local stack = show("stack", regs.rsp)
if not stack then return end

local page = stack & ~0xfff
ept.protect(page, 4096, "r-x")
print(string.format("ch6: page 0x%x is now r-x in the EPT: the guest's next store there exits", page))
local handle
handle = ept.on_violation(function(e)
  if e.guest_physical & ~0xfff ~= page then return nil end
  hv.off(handle)
  print(string.format("ch6: EPT_VIOLATION at rip 0x%x: %s access to GPA 0x%x (linear 0x%x): %s", e.rip, e.access,
    e.guest_physical, e.guest_linear, e.description))
  ept.protect(page, 4096, "rwx")
  print(string.format("ch6: page 0x%x is rwx again; the store runs when the guest resumes", page))
  return "resume"
end)
