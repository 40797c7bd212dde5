-- ex4-2-mtf.lua — book example 4-2: the monitor trap flag (SDM Vol. 3C
-- §26.5.2, the control; §26.7.2, when its exit comes).  MTF makes the CPU
-- exit (reason 37) after one guest instruction: a single-step the guest
-- cannot see, unlike RFLAGS.TF.  vmxdbg counts MTF as usable only when the
-- capability MSR allows PRIMARY_VM_EXEC_CONTROL bit 27 AND a probe entry
-- at boot was seen to exit with reason 37 (hv/mtf_probe.c): Bochs 2.7
-- advertises MTF on its icelake_u/tigerlake models and never exits, and
-- drops it on skylake_x.  gdb's stepi uses MTF where it works, else TF+#DB.
--
--   (gdb) monitor info                 # the "single-step:" line: which, and why
--   (gdb) vmx lua scripts/labs/ex4-2-mtf.lua
--   (gdb) stepi                        # by MTF or by TF, as the probe said

local method, why = hv.stepping()
print("ex4-2: stepping with " .. method)
print("ex4-2: " .. why)
local ok, err = pcall(hv.on_exit, "MONITOR_TRAP_FLAG", function() end)
if ok then
  hv.off(err)
  print("ex4-2: a hook on MONITOR_TRAP_FLAG is accepted: its exits happen on this CPU")
else
  print("ex4-2: a hook on MONITOR_TRAP_FLAG is refused: " .. tostring(err))
end
