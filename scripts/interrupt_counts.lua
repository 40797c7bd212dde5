-- interrupt_counts.lua — how many interrupts of each vector the guest took,
-- printed when the guest powers off (or when asked: `monitor lua
-- interrupt_counts()` from gdb).
--
-- Hooking EXTERNAL_INTERRUPT makes vmxdbg switch external-interrupt exiting
-- on, with the vector acknowledged on exit (SDM Vol. 3C §26.2, §25.7.1):
-- every interrupt becomes a VM exit whose e.vector the hook counts, then
-- goes into the guest as it would have (held while the guest has IF=0).
-- When the last such hook goes (hv.off), the control goes off again.
--
-- Arguments: `nmi` also counts the guest's NMIs (hv.on_exception(2)),
-- `exceptions=14,6` also counts those exception vectors (hv.on_exception).
--
--   make run SCRIPTS="scripts/interrupt_counts.lua"
--   make run SCRIPTS="scripts/interrupt_counts.lua nmi exceptions=14"

local counts, order = {}, {}
local total = 0

local function count(key)
  if not counts[key] then
    counts[key] = 0
    order[#order + 1] = key
  end
  counts[key] = counts[key] + 1
  total = total + 1
end

local HANDLES = { hv.on_exit("EXTERNAL_INTERRUPT", function(e)
  count(e.vector)
end) }

for _, word in ipairs({ ... }) do
  local list = word:match("^exceptions=([%w,#]+)$")
  if word == "nmi" then
    HANDLES[#HANDLES + 1] = hv.on_exception("NMI", function() count("NMI") end)
  elseif list then
    for v in list:gmatch("[^,]+") do
      local vector = tonumber(v) or v
      HANDLES[#HANDLES + 1] = hv.on_exception(vector, function(e)
        count(string.format("exception %d", e.vector))
      end)
    end
  else
    error("interrupt_counts: unknown argument \"" .. word .. "\" (nmi, exceptions=N,M)")
  end
end

local function label(key)
  if type(key) == "number" then return string.format("vector 0x%02x (%d)", key, key) end
  return key
end

-- The table, most frequent first; callable from `monitor lua` too.
function interrupt_counts(when)
  local keys = {}
  for _, k in ipairs(order) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return tostring(a) < tostring(b)
  end)
  print(string.format("interrupt_counts: %s: %d events, %d kinds", when or "so far", total, #keys))
  for _, k in ipairs(keys) do
    print(string.format("interrupt_counts: %-20s %8d %5.1f%%", label(k), counts[k], 100 * counts[k] / total))
  end
end

-- Stop counting: the controls go off with the last hook.
function interrupt_counts_off()
  for _, h in ipairs(HANDLES) do hv.off(h) end
end

hv.on_poweroff(function(how) interrupt_counts("guest powered off (" .. how .. ")") end)
print("interrupt_counts: counting external interrupts by vector" ..
  (#HANDLES > 1 and string.format(" and %d more event kinds", #HANDLES - 1) or ""))
