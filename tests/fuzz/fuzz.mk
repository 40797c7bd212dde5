# tests/fuzz/fuzz.mk — libFuzzer over the gdb stub's packet layer and
# commands, against the fake target (fuzz_gdb), and over the Lua bindings:
# chunks run by the host build of Lua against the Lua tests' fake target
# (fuzz_lua).  Included by the top Makefile after lua/lua-host.mk.
#
#   make fuzz          a long run of each: FUZZ_TIME seconds (default 600);
#                      gdb inputs up to 20000 bytes (packets past PacketSize
#                      included), Lua chunks up to 4 KiB
#   make fuzz-gdb, make fuzz-lua   one of the two, as long
#   make fuzz-short    FUZZ_SHORT seconds of gdb (default 30), inputs up to
#                      4 KiB (ten times the executions), then FUZZ_SHORT_LUA
#                      seconds of Lua (default 10); what `make test` runs
#
# One job, one process: `-jobs=1` is libFuzzer's default.
#
# clang's libFuzzer comes with Debian's libclang-rt-14-dev (a dependency of
# clang-14).  New inputs go to build/fuzz/corpus-gdb (the seeds in
# tests/fuzz/corpus/gdb stay as committed); crashes to build/fuzz/crashes/,
# replayed with `build/fuzz/fuzz_gdb FILE`; the same for build/fuzz/corpus-lua,
# tests/fuzz/corpus/lua and build/fuzz/fuzz_lua.

FUZZ_CC     ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DHOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_TIME   ?= 600
FUZZ_SHORT  ?= 30
FUZZ_SHORT_LUA ?= 10
FUZZ_GDB    := $(BUILD)/fuzz/fuzz_gdb
FUZZ_GDB_SRC := tests/fuzz/fuzz_gdb.c $(wildcard gdbstub/*.c) tests/unit/fake_target.c \
	platform/fmt.c

$(FUZZ_GDB): $(FUZZ_GDB_SRC) $(wildcard gdbstub/*.h) tests/unit/fake_target.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_GDB_SRC)

fuzz_gdb_run = mkdir -p $(BUILD)/fuzz/corpus-gdb $(BUILD)/fuzz/crashes && \
	$(FUZZ_GDB) -max_total_time=$(1) -max_len=$(2) -timeout=10 -rss_limit_mb=1024 \
	-dict=tests/fuzz/gdb.dict -artifact_prefix=$(BUILD)/fuzz/crashes/ \
	-print_final_stats=1 $(BUILD)/fuzz/corpus-gdb tests/fuzz/corpus/gdb

# Lua's core with coverage and ASan for the fuzzer (UBSan too: Lua keeps
# its integer arithmetic unsigned); lua/ and the fake as the unit tests
# build them, plus the fuzzer's flags.
FUZZ_LUA := $(BUILD)/fuzz/fuzz_lua
FUZZ_LUA_CORE := $(patsubst %,$(BUILD)/fuzz/lua/%.o,$(LUA_CORE_NAMES))
FUZZ_LUA_SRC := tests/fuzz/fuzz_lua.c lua/lhv_bp.c lua/lhv_trace.c lua/lhv_dirty.c hv/trace_read.c lua/lhv_core.c lua/lhv_env.c lua/lhv_show.c lua/lhv_entry.c \
	lua/lhv_hooks.c lua/lhv_api.c lua/lhv_vcpus.c lua/lhv_api_mem.c lua/lhv_apic.c hv/apic_view.c lua/lhv_strmatch.c lua/port/heap.c lua/port/cstack_limits.c \
	hv/hooks.c hv/vmcs_table.c hv/ept.c platform/fmt.c

$(BUILD)/fuzz/lua/%.o: $(LUA_SRC)/%.c | $(LUA_HEADER)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu99 -g -O1 $(LUA_DEFS) -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined -c $< -o $@

$(FUZZ_LUA): $(FUZZ_LUA_SRC) $(FUZZ_LUA_CORE) $(wildcard lua/*.h) tests/unit/test_lua_fake.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -isystem $(LUA_SRC) -Ilua/port -DLUA_USER_H='"lhv_user.h"' \
		-o $@ $(FUZZ_LUA_SRC) $(FUZZ_LUA_CORE) -lm

fuzz_lua_run = mkdir -p $(BUILD)/fuzz/corpus-lua $(BUILD)/fuzz/crashes && \
	$(FUZZ_LUA) -max_total_time=$(1) -max_len=4097 -timeout=10 -rss_limit_mb=1024 \
	-dict=tests/fuzz/lua.dict -artifact_prefix=$(BUILD)/fuzz/crashes/lua- \
	-print_final_stats=1 $(BUILD)/fuzz/corpus-lua tests/fuzz/corpus/lua

.PHONY: fuzz fuzz-gdb fuzz-lua fuzz-short
fuzz: fuzz-gdb fuzz-lua

fuzz-gdb: $(FUZZ_GDB)
	$(call fuzz_gdb_run,$(FUZZ_TIME),20000)

fuzz-lua: $(FUZZ_LUA)
	$(call fuzz_lua_run,$(FUZZ_TIME))

fuzz-short: $(FUZZ_GDB) $(FUZZ_LUA)
	$(call fuzz_gdb_run,$(FUZZ_SHORT),4096)
	$(call fuzz_lua_run,$(FUZZ_SHORT_LUA))
