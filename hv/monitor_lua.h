/* monitor_lua.h — registers `monitor lua` with the gdb stub. */
#ifndef HV_MONITOR_LUA_H
#define HV_MONITOR_LUA_H

void monitor_lua_register(void);

#endif
