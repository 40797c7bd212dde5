-- exit_tracer.lua — one log line per VM exit: its reason, where the guest
-- was, and the exit qualification (SDM Vol. 3C §28.2.1: what the exit is
-- about; its meaning depends on the reason).
--
-- Arguments (words after `script` on the module line, or in ... when run
-- through `monitor lua`): the reasons to trace (names or numbers; default
-- every reason) and `limit=N`, how many exits to print before the tracer
-- removes itself and prints a summary (default 200).
--
--   make run SCRIPTS="scripts/exit_tracer.lua"            every exit, 200 of them
--   module line: script CPUID IO_INSTRUCTION limit=50
--
-- TRACER holds the hook handles: `monitor lua for _, h in ipairs(TRACER) do hv.off(h) end`.

local limit, reasons = 200, {}
for _, word in ipairs({ ... }) do
  local n = word:match("^limit=(%d+)$")
  if n then
    limit = tonumber(n)
  else
    reasons[#reasons + 1] = word
  end
end
if #reasons == 0 then reasons = { "*" } end

local seen, counts = 0, {}

local function summary()
  local names = {}
  for name in pairs(counts) do names[#names + 1] = name end
  table.sort(names, function(a, b) return counts[a] > counts[b] end)
  local parts = {}
  for _, name in ipairs(names) do parts[#parts + 1] = name .. " " .. counts[name] end
  print(string.format("exit_tracer: done after %d exits: %s", seen, table.concat(parts, ", ")))
end

local function trace(e)
  seen = seen + 1
  counts[e.name] = (counts[e.name] or 0) + 1
  print(string.format("exit %4d %-20s rip=%016x qual=%x", seen, e.name, e.rip, e.qualification))
  if seen >= limit then
    for _, h in ipairs(TRACER) do hv.off(h) end
    summary()
  end
end

TRACER = {}
for _, reason in ipairs(reasons) do
  TRACER[#TRACER + 1] = hv.on_exit(reason, trace)
end
print(string.format("exit_tracer: tracing %s, %d exits", table.concat(reasons, " "), limit))
