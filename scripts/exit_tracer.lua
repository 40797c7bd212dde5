-- exit_tracer.lua — one log line per VM exit: its reason, where the guest
-- was, and the exit qualification (SDM Vol. 3C §28.2.1: what the exit is
-- about; its meaning depends on the reason).
--
-- Arguments (words after the script's name in SCRIPTS, after `script` on
-- the module line, or after FILE in `vmx lua FILE ...`): the reasons to
-- trace (names or numbers; default every reason but PREEMPTION_TIMER, the
-- hypervisor's own polling tick) and `limit=N`, how many exits to print
-- before the tracer removes itself (default 200).  The summary, exits by
-- reason, prints at the limit or when the guest powers off, whichever
-- comes first (hv.on_poweroff).
--
--   make run SCRIPTS="scripts/exit_tracer.lua"              200 exits of any reason
--   make run SCRIPTS="scripts/exit_tracer.lua CPUID HLT limit=50"
--   module line: script CPUID IO_INSTRUCTION limit=50
--
-- To stop it early: `monitor lua for _, h in ipairs(hv.hooks()) do hv.off(h.id) end` (every hook).

local limit, reasons = 200, {}
for _, word in ipairs({ ... }) do
  local n = word:match("^limit=(%d+)$")
  if n then
    limit = tonumber(n)
  else
    reasons[#reasons + 1] = word
  end
end
local every = #reasons == 0
if every then reasons = { "*" } end
local TIMER = hv.reason("PREEMPTION_TIMER")

local seen, counts, done = 0, {}, false

local function summary(when)
  local names = {}
  for name in pairs(counts) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  local parts = {}
  for _, name in ipairs(names) do parts[#parts + 1] = name .. " " .. counts[name] end
  print(string.format("exit_tracer: %s after %d exits: %s", when, seen,
    #parts > 0 and table.concat(parts, ", ") or "none"))
  done = true
end

local function trace(e)
  if every and e.reason == TIMER then return nil end
  seen = seen + 1
  counts[e.name] = (counts[e.name] or 0) + 1
  print(string.format("exit %4d %-20s rip=%016x qual=%x", seen, e.name, e.rip, e.qualification))
  if seen >= limit then
    for _, h in ipairs(TRACER) do hv.off(h) end
    summary("done")
  end
end

TRACER = {}
for _, reason in ipairs(reasons) do
  TRACER[#TRACER + 1] = hv.on_exit(reason, trace)
end
TRACER[#TRACER + 1] = hv.on_poweroff(function(how)
  if not done then summary("guest powered off (" .. how .. ")") end
end)
print(string.format("exit_tracer: tracing %s, %d exits",
  every and "every exit but PREEMPTION_TIMER" or table.concat(reasons, " "), limit))
