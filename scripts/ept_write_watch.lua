-- ept_write_watch.lua — who writes this page?  The page loses its write
-- right in the EPT (SDM Vol. 3C §29.3.3: a write to it is then an EPT
-- violation, exit 48); the hook logs the writer, gives the right back so
-- the guest's write is retried and succeeds, and the next VMX-preemption-
-- timer exit (about a millisecond of guest time later) takes it away again.
-- So every burst of writes is seen once, and the guest runs on unchanged.
--
-- Arguments: gpa=ADDRESS (guest-physical; default: the page of the guest's
-- stack, found from RSP at the first timer tick, so any guest shows writes)
-- and limit=N writes to report (default 20).
--
--   module line: script gpa=0x1ff000 limit=5

local gpa, limit = nil, 20
for _, word in ipairs({ ... }) do
  local key, value = word:match("^(%w+)=(.+)$")
  local n = value and math.tointeger(tonumber(value))
  if key == "gpa" and n then
    gpa = n & ~0xfff
  elseif key == "limit" and n then
    limit = n
  else
    error("ept_write_watch: gpa=ADDRESS or limit=N, not " .. word)
  end
end

local rights, watching                         -- e.g. "rwx", and the same without write: "r-x"
local armed, seen = false, 0
local violation, timer

local function arm()
  ept.protect(gpa, 4096, watching)
  armed = true
end

local function watch(page_gpa, what)
  local page = ept.query(page_gpa)
  assert(page.present, string.format("ept_write_watch: guest-physical 0x%x is not guest memory", page_gpa))
  gpa, rights = page_gpa, page.perms
  watching = rights:gsub("w", "-")
  arm()
  print(string.format("ept_write_watch: watching guest-physical page 0x%x%s (%s -> %s)", gpa, what, rights,
    watching))
end

violation = ept.on_violation(function(e)
  if not gpa or e.guest_physical & ~0xfff ~= gpa or e.access ~= "write" then
    return nil                                 -- not ours: the hypervisor reports it
  end
  seen = seen + 1
  print(string.format("write #%d to 0x%x (linear 0x%x) by rip 0x%x: %s",
    seen, e.guest_physical, e.guest_linear, e.rip, e.description))
  ept.protect(gpa, 4096, rights)
  armed = false
  if seen >= limit then
    hv.off(violation)
    hv.off(timer)
    print("ept_write_watch: limit reached; page 0x" .. string.format("%x", gpa) .. " left " .. rights)
  end
  return "resume"                              -- the write runs again, allowed this time
end)

timer = hv.on_exit("PREEMPTION_TIMER", function()
  if not gpa then
    local stack = mem.virt_to_phys(regs.rsp - 8)
    if stack then watch(stack & ~0xfff, ", the guest's stack") end
  elseif not armed then
    arm()
  end
end)

if gpa then
  watch(gpa, "")
else
  print("ept_write_watch: will watch the page of the guest's stack (RSP at the first timer tick)")
end
