# lua.mk — Lua 5.4 in the hypervisor, for the top-level Makefile to include.
#
# Lua comes from Debian's lua5.4 source package, unpacked into
# $(BUILD)/lua-src by tools/fetch-lua.sh (never committed), and is compiled
# freestanding against musl's headers (docs/platform-notes.md, "Lua 5.4 in the
# hypervisor").  Not -mgeneral-regs-only: lua_Number is a double; the
# hypervisor saves the guest's FPU state around every call (lua/port/fpu.c).
#
# Gives:  LUA_OBJS  Lua core + libraries + lua/ (port and bindings) objects
#         LUA_LIBS  musl's libc.a, to link after every object
# Needs:  BUILD, CC (the top-level Makefile's).

LUA_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

LUA_SRC     := $(BUILD)/lua-src/src
LUA_HEADER  := $(LUA_SRC)/lua.h
MUSL_INC    := /usr/include/x86_64-linux-musl
LUA_LIBS    := /usr/lib/x86_64-linux-musl/libc.a

# The core and the libraries we open (not linit liolib loslib loadlib ldblib:
# no files, no OS, no C modules, no debug library).
LUA_CORE_NAMES := lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem \
	lobject lopcodes lparser lstate lstring ltable ltm lundump lvm lzio \
	lauxlib lbaselib lcorolib lmathlib lstrlib ltablib lutf8lib
LUA_CORE_C := $(patsubst %,$(LUA_SRC)/%.c,$(LUA_CORE_NAMES))

# LUAI_MAXCCALLS=64 bounds Lua's C stack near 50 KiB (the default 200: 154 KiB).
LUA_DEFS := -DLUAI_MAXCCALLS=64 -DLUA_USER_H='"lhv_user.h"' -Ilua/port

LUA_CFLAGS := -std=gnu99 -O2 -g -ffreestanding -nostdinc -isystem $(MUSL_INC) \
	-fno-pic -fno-pie -mcmodel=small -mno-red-zone -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-ffunction-sections -fdata-sections $(LUA_DEFS) -MMD -MP

# Ours (lua/, lua/port/): Lua's flags plus the hypervisor's warnings and
# include root, and Lua's headers.
LHV_CFLAGS := $(filter-out -std=gnu99,$(LUA_CFLAGS)) -std=gnu11 \
	-Wall -Wextra -Werror -I. -isystem $(LUA_SRC)

LHV_C    := $(wildcard lua/*.c lua/port/*.c)
LHV_OBJS := $(patsubst %.c,$(BUILD)/lua/%.o,$(LHV_C))
LUA_CORE_OBJS := $(patsubst %,$(BUILD)/lua/core/%.o,$(LUA_CORE_NAMES))
LUA_OBJS := $(LUA_CORE_OBJS) $(LHV_OBJS)

$(LUA_HEADER):
	tools/fetch-lua.sh $(BUILD)/lua-src
# The sources appear with the header; no rule of their own.
$(LUA_CORE_C): | $(LUA_HEADER)

$(BUILD)/lua/core/%.o: $(LUA_SRC)/%.c | $(LUA_HEADER)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LUACC   $<")
	$(Q)$(CC) $(LUA_CFLAGS) -c $< -o $@

# The doors in from the hypervisor run before the guest's FPU state is saved.
LHV_NO_SSE := $(BUILD)/lua/lua/lhv_entry.o $(BUILD)/lua/lua/port/image.o
$(LHV_NO_SSE): LHV_CFLAGS += -mgeneral-regs-only

$(BUILD)/lua/%.o: %.c | $(LUA_HEADER)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(LHV_CFLAGS) -c $< -o $@

.PHONY: lua-fetch
lua-fetch: $(LUA_HEADER)

.DEFAULT_GOAL := $(LUA_SAVED_DEFAULT_GOAL)
