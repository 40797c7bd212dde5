/* lhv_user.h — LUA_USER_H: redirects Lua's few OS hooks to the hypervisor
 * without editing Lua (lua.h includes this after luaconf.h).  Used by the
 * image and by the host build alike, so print() and warnings reach the same
 * place in both: lhv_write (lua/lhv_core.c). */
#ifndef LHV_USER_H
#define LHV_USER_H

#include <stddef.h>

void lhv_write(const char *s, size_t len);
void lhv_write_error(const char *fmt, const char *arg);
unsigned int lhv_seed(void);

/* print() and warn() */
#define lua_writestring(s, l) lhv_write((s), (l))
#define lua_writeline() lhv_write("\n", 1)
#define lua_writestringerror(s, p) lhv_write_error((s), (p))

/* String-hash seed and sort's pivot randomization: no time(), no clock(). */
#define luai_makeseed(L) lhv_seed()
#define l_randomizePivot() lhv_seed()

/* The "C" locale, always (luaconf.h defined it with localeconv()). */
#undef lua_getlocaledecpoint
#define lua_getlocaledecpoint() '.'

/* The C stack, measured where Lua counts a nested C call (lua/port/
 * patches/0002; expanded inside ldo.c and lstate.c only).  Below the soft
 * limit: Lua's own "C stack overflow" error, by pretending the call count
 * reached LUAI_MAXCCALLS (so the error's handler may still run, as Lua
 * allows past that count).  Below the hard limit, while handling it: an
 * error without a handler.  Both 0 (no check) until lua/port/stack_guard.c
 * knows the stack; the guard pages below it are the last resort. */
extern unsigned long lhv_cstack_soft, lhv_cstack_hard;
#define luai_checkcstack(L)                                                              \
	do {                                                                             \
		unsigned long sp_ = (unsigned long)__builtin_frame_address(0);           \
		if (l_unlikely(sp_ < lhv_cstack_soft)) {                                 \
			if (sp_ < lhv_cstack_hard)                                       \
				luaD_throw((L), LUA_ERRERR);                             \
			if (getCcalls(L) < LUAI_MAXCCALLS) {                             \
				(L)->nCcalls += LUAI_MAXCCALLS - getCcalls(L);           \
				luaE_checkcstack(L);                                     \
			}                                                                \
		}                                                                        \
	} while (0)

#endif
