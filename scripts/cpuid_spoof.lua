-- cpuid_spoof.lua — the guest's CPUID tells another vendor and lacks a
-- feature.  CPUID always exits in VMX non-root operation (SDM Vol. 3C
-- §27.1.2); the hook answers it itself and skips the instruction.
--
-- Arguments: vendor=TWELVECHARS (default VmxDbgLuaCPU) and hide=FEATURE,
-- repeatable (default rdrand).  Features by name: see FEATURES below.
--
--   module line: script vendor=GenuineIotel hide=rdrand hide=aes

-- CPUID.1 feature bits (SDM Vol. 2A, CPUID, Tables 3-10 and 3-11).
local FEATURES = {
  sse3 = { "ecx", 0 }, pclmulqdq = { "ecx", 1 }, ssse3 = { "ecx", 9 }, fma = { "ecx", 12 },
  cx16 = { "ecx", 13 }, pcid = { "ecx", 17 }, sse4_1 = { "ecx", 19 }, sse4_2 = { "ecx", 20 },
  x2apic = { "ecx", 21 }, movbe = { "ecx", 22 }, popcnt = { "ecx", 23 }, aes = { "ecx", 25 },
  xsave = { "ecx", 26 }, avx = { "ecx", 28 }, f16c = { "ecx", 29 }, rdrand = { "ecx", 30 },
  hypervisor = { "ecx", 31 },
  fpu = { "edx", 0 }, tsc = { "edx", 4 }, msr = { "edx", 5 }, pae = { "edx", 6 }, apic = { "edx", 9 },
  sep = { "edx", 11 }, mtrr = { "edx", 12 }, pge = { "edx", 13 }, cmov = { "edx", 15 }, pat = { "edx", 16 },
  clflush = { "edx", 19 }, mmx = { "edx", 23 }, fxsr = { "edx", 24 }, sse = { "edx", 25 }, sse2 = { "edx", 26 },
  htt = { "edx", 28 },
}

local vendor, hide_ecx, hide_edx, hidden = "VmxDbgLuaCPU", 0, 0, {}
for _, word in ipairs({ ... }) do
  local key, value = word:match("^(%w+)=(.*)$")
  if key == "vendor" then
    assert(#value == 12, "cpuid_spoof: a vendor string is 12 characters, not " .. #value)
    vendor = value
  elseif key == "hide" then
    local f = FEATURES[value:lower()] or error("cpuid_spoof: no feature called " .. value)
    if f[1] == "ecx" then hide_ecx = hide_ecx | 1 << f[2] else hide_edx = hide_edx | 1 << f[2] end
    hidden[#hidden + 1] = value
  else
    error("cpuid_spoof: vendor=... or hide=..., not " .. word)
  end
end
if #hidden == 0 then
  hide_ecx, hidden = 1 << 30, { "rdrand" }
end

-- Leaf 0: EAX the highest leaf; the vendor string is EBX, EDX, ECX in that order.
local vendor_ebx, vendor_edx, vendor_ecx = string.unpack("<I4I4I4", vendor)

hv.on_exit("CPUID", function()
  local leaf, subleaf = regs.rax & 0xffffffff, regs.rcx & 0xffffffff
  if leaf ~= 0 and leaf ~= 1 then return nil end  -- the hypervisor answers the rest
  local a, b, c, d = hv.cpuid(leaf, subleaf)
  if leaf == 0 then
    b, c, d = vendor_ebx, vendor_ecx, vendor_edx
  else
    c, d = c & ~hide_ecx, d & ~hide_edx
  end
  regs.rax, regs.rbx, regs.rcx, regs.rdx = a, b, c, d
  return "skip"
end)
print(string.format("cpuid_spoof: vendor \"%s\", hiding %s", vendor, table.concat(hidden, " ")))
