/* monitor_lua.h — registers `monitor lua` and the file upload
 * (`lua-begin`, `lua-part`, `lua-end`) with the gdb stub. */
#ifndef GDBSTUB_MONITOR_LUA_H
#define GDBSTUB_MONITOR_LUA_H

/* The largest file `vmx lua FILE` can send (scripts/gdb/vmxdbg.py says it too). */
#define LUA_UPLOAD_MAX (256u * 1024)

void monitor_lua_register(void);

#endif
