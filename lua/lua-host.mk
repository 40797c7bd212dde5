# lua-host.mk — Lua for the host unit tests (tests/unit/test_lua_*.c), for
# the top-level Makefile to include after lua/lua.mk.  The same Debian
# source and LUA_USER_H as the image, built with the host's libc into one
# archive that a test's .deps file names like a source:
#     build/host/lua/liblua.a
# Needs: BUILD, CC, HOST_CFLAGS and the unit-test rules of the top-level
# Makefile; LUA_SRC, LUA_HEADER, LUA_CORE_NAMES and LUA_DEFS from lua.mk.

LUA_SAVED_DEFAULT_GOAL_HOST := $(.DEFAULT_GOAL)

LUA_HOST_LIB  := $(BUILD)/host/lua/liblua.a
LUA_HOST_OBJS := $(patsubst %,$(BUILD)/host/lua/%.o,$(LUA_CORE_NAMES))
LUA_HOST_CFLAGS := -std=gnu99 -O2 -g $(LUA_DEFS) -MMD -MP

$(BUILD)/host/lua/%.o: $(LUA_SRC)/%.c | $(LUA_HEADER)
	@mkdir -p $(dir $@)
	$(CC) $(LUA_HOST_CFLAGS) -c $< -o $@

# The C-stack limits Lua's patched core reads (lua/port/lhv_user.h).
LUA_HOST_OBJS += $(BUILD)/host/lua/cstack_limits.o
$(BUILD)/host/lua/cstack_limits.o: lua/port/cstack_limits.c
	@mkdir -p $(dir $@)
	$(CC) $(LUA_HOST_CFLAGS) -c $< -o $@

$(LUA_HOST_LIB): $(LUA_HOST_OBJS)
	rm -f $@
	ar rcs $@ $^

# Our sources and the Lua tests see Lua's headers; the headers must be
# fetched before any of them compiles.
LHV_HOST_OBJS := $(patsubst %.c,$(BUILD)/host/obj/%.o,$(wildcard lua/*.c lua/port/heap.c tests/unit/test_lua_*.c))
$(LHV_HOST_OBJS): HOST_CFLAGS += -isystem $(LUA_SRC) -Ilua/port -DLUA_USER_H='"lhv_user.h"'
$(LHV_HOST_OBJS): | $(LUA_HEADER)

# Lua's math needs libm (the unit rule links only cmocka); `private` keeps
# the flag off the objects built for these binaries.
$(BUILD)/host/test_lua_%: private HOST_CFLAGS += -Wl,--push-state,--no-as-needed,-lm,--pop-state

.DEFAULT_GOAL := $(LUA_SAVED_DEFAULT_GOAL_HOST)
