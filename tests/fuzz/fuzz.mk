# tests/fuzz/fuzz.mk — libFuzzer over the gdb stub's packet layer and
# commands, against the fake target.  Included by the top Makefile.
#
#   make fuzz          a long run: FUZZ_TIME seconds (default 600), inputs up
#                      to 20000 bytes (packets past PacketSize included)
#   make fuzz-short    FUZZ_SHORT seconds (default 30), inputs up to 4 KiB
#                      (ten times the executions); what `make test` runs
#
# clang's libFuzzer comes with Debian's libclang-rt-14-dev (a dependency of
# clang-14).  New inputs go to build/fuzz/corpus-gdb (the seeds in
# tests/fuzz/corpus/gdb stay as committed); crashes to build/fuzz/crashes/,
# replayed with `build/fuzz/fuzz_gdb FILE`.

FUZZ_CC     ?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DHOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_TIME   ?= 600
FUZZ_SHORT  ?= 30
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

.PHONY: fuzz fuzz-short
fuzz: $(FUZZ_GDB)
	$(call fuzz_gdb_run,$(FUZZ_TIME),20000)

fuzz-short: $(FUZZ_GDB)
	$(call fuzz_gdb_run,$(FUZZ_SHORT),4096)
