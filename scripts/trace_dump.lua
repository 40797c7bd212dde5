-- trace_dump.lua: at power-off, the exit trace (every record held, all
-- vCPUs merged by TSC) as CSV rows on the hypervisor's log, each line
-- "TRACE-CSV <row>" -- for a run with no gdb attached (tools/trace-linux.py:
-- the README's picture).  `tools/trace-plot --log LOG` reads them back.
-- Lines go out at power-off only: put console=none on the command line and
-- read port 0xE9 (e9.txt), or thousands of lines wait for the UART.

hv.on_poweroff(function(how)
  local records, note = hv.trace(1 << 30)
  print("TRACE-CSV tsc,vcpu,reason,code,qual,rip,ticks,hook")
  for _, r in ipairs(records) do
    print(string.format("TRACE-CSV %d,%d,%s,%d,0x%x,0x%x,%s,%s", r.tsc, r.vcpu, r.reason, r.code,
                        r.qual, r.rip, r.ticks and tostring(r.ticks) or "", r.hook))
  end
  print("TRACE-CSV-END " .. #records .. " records at " .. how .. (note and ("; " .. note) or ""))
end)
