/* stack_guard.h — the Lua stack's limits and guard pages
 * (lua/port/stack_guard.c). */
#ifndef LUA_PORT_STACK_GUARD_H
#define LUA_PORT_STACK_GUARD_H

#include <setjmp.h>
#include <stdint.h>

/* [guard, guard + guard_bytes) is not present; the stack lies above it,
 * up to top.  From now on Lua checks the stack left at each nested C call,
 * and a fault on the guard pages while Lua runs turns Lua off and jumps
 * to lhv_stack_escape (lhv_port_run sets it before every call). */
void lhv_stack_guard_init(uint64_t guard, uint64_t guard_bytes, uint64_t top);
extern jmp_buf lhv_stack_escape;

#endif
