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

#endif
