# vmxdbg — build, run, test.  `make help` lists the targets.

BUILD      := build
CC         := gcc
LD         := ld
PYTHON     := python3
GCC_INC    := $(shell $(CC) -print-file-name=include)

EMU        ?= bochs
GDB_PORT   ?= 1234
HV_ARGS    ?=
GUEST      ?= $(GUEST_DEMO)
GUEST_ARGS ?=
GUEST_MODULES ?=
SCRIPTS    ?=
MEGS       ?= 256
CPUS       ?= 1

# The hypervisor proper: freestanding, no SSE/x87 (Lua, built separately,
# runs with the FPU state saved — see docs/design.md), frame pointers kept for
# the exception backtrace.
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-fno-delete-null-pointer-checks \
	-nostdinc -isystem $(GCC_INC) -I. -MMD -MP
HV_ASFLAGS := -g -I. -MMD -MP
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 \
	--gc-sections -T platform/linker.ld

HV_DIRS := platform serial hv gdbstub
HV_C    := $(wildcard $(addsuffix /*.c,$(HV_DIRS)))
HV_S    := $(wildcard $(addsuffix /*.S,$(HV_DIRS)))
HV_OBJS := $(patsubst %,$(BUILD)/hv-obj/%.o,$(HV_S) $(HV_C))

ELF := $(BUILD)/vmxdbg.elf
ISO := $(BUILD)/vmxdbg.iso

# Host unit tests: tests/unit/test_X.c links the sources listed in
# tests/unit/test_X.deps, built with sanitizers.
HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -DHOST_TEST \
	-fsanitize=address,undefined -fno-omit-frame-pointer -MMD -MP
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(addprefix $(BUILD)/host/,$(UNIT_NAMES))

# The fragments below define targets of their own: none may become the
# default goal, which builds everything `make run` and the tests boot.
.DEFAULT_GOAL := all

include tests/guests/guests.mk
include lua/lua.mk
include lua/lua-host.mk
include tests/fuzz/fuzz.mk

.PHONY: all iso deps run gdb test unit integration bench bench-linux clean help linux-guest linux-guest-dbg test-linux
all: $(ELF) $(ISO) $(GUEST_ELFS)
iso: $(ISO)

help:
	@echo "make            build $(ELF), $(ISO) and the test guests ($(BUILD)/guests/)"
	@echo "make deps       install the Debian packages build, run and tests need"
	@echo "make run        boot the demo guest under Bochs (GUEST=, EMU=qemu, MEGS=, CPUS=...: see README)"
	@echo "make gdb        attach gdb to make run's guest, with its symbols (GUEST=, GDB_PORT=)"
	@echo "make test       unit tests + integration tests under Bochs/QEMU"
	@echo "make unit       host unit tests only"
	@echo "make bench      instruction counts per VM exit, start-up, gdb, stop-all latency (Bochs)"
	@echo "make bench-linux  Linux with 2 CPUs to /init, bare and under vmxdbg (~10 min)"
	@echo "make linux-guest  Debian's kernel + a busybox initramfs in build/linux/ (see README)"
	@echo "make linux-guest-dbg  its DWARF vmlinux, source, gdb scripts, a module (~/.cache/vmxdbg)"
	@echo "make test-linux   only the Linux guest tests (make test runs them too)"
	@echo "make fuzz       libFuzzer over the gdb stub and the Lua bindings (FUZZ_TIME=600 s each)"
	@echo "make clean      remove $(BUILD)/"

# V=1 shows the commands.
Q := $(if $(V),,@)

$(BUILD)/hv-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv-obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(HV_ASFLAGS) -c $< -o $@

$(ELF): $(HV_OBJS) $(LUA_OBJS) platform/linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS) $(LUA_OBJS) $(LUA_LIBS)

$(ISO): $(ELF) tools/mkiso
	tools/mkiso $@ $(ELF) --args "$(HV_ARGS)"

$(BUILD)/host/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

define unit_rule
$(BUILD)/host/$(1): $(BUILD)/host/obj/tests/unit/$(1).o \
		$(patsubst %.c,$(BUILD)/host/obj/%.o,$(shell cat tests/unit/$(1).deps 2>/dev/null))
	@$$(if $$(Q),echo "  HOSTLD  $$@")
	$$(Q)$$(CC) $$(HOST_CFLAGS) -o $$@ $$^ -lcmocka
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_rule,$(t))))

deps:
	@tools/deps.sh

shq = '$(subst ','\'',$(1))'     # one shell word, whatever the value holds

# The guest images make run boots that this Makefile builds (GUEST and
# GUEST_MODULES may name them by any path: compared as absolute paths).
RUN_IMAGES := $(foreach g,$(GUEST_ELFS),$(if $(filter $(abspath $(g)),$(abspath $(GUEST) $(GUEST_MODULES))),$(g)))

run: deps $(ELF) $(RUN_IMAGES)
	$(PYTHON) tools/run.py --emu $(call shq,$(EMU)) --elf $(ELF) --gdb-port $(call shq,$(GDB_PORT)) \
		--hv-args $(call shq,$(HV_ARGS)) --guest $(call shq,$(GUEST)) --guest-args $(call shq,$(GUEST_ARGS)) \
		--guest-modules $(call shq,$(GUEST_MODULES)) --scripts $(call shq,$(SCRIPTS)) \
		--megs $(call shq,$(MEGS)) --cpus $(call shq,$(CPUS))

gdb:
	gdb -q -x scripts/gdb/vmxdbg.py $(GUEST) -ex 'vmx connect $(GDB_PORT)'

unit: $(UNIT_BINS)
	tools/check-layers.sh --selftest
	tools/check-layers.sh
	$(PYTHON) tests/run.py --unit-only

test: deps $(ELF) $(UNIT_BINS) $(GUEST_ELFS) $(FUZZ_GDB) $(FUZZ_LUA)
	lua/check-no-syscall.sh $(ELF)
	tools/check-layers.sh --selftest
	tools/check-layers.sh
	@mkdir -p $(BUILD)/fuzz
	@if $(MAKE) -s fuzz-short > $(BUILD)/fuzz/short.log 2>&1; then \
		echo "fuzz: $(FUZZ_SHORT) s over the gdb stub, $(FUZZ_SHORT_LUA) s over Lua: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(BUILD)/fuzz/short.log | grep -o '[0-9]*$$' | paste -sd' ') inputs, no crash"; \
	else tail -30 $(BUILD)/fuzz/short.log; echo "fuzz: FAILED (see $(BUILD)/fuzz/short.log)"; exit 1; fi
	$(PYTHON) tests/run.py $(T)

integration: $(ELF) $(GUEST_ELFS)
	$(PYTHON) tests/run.py --integration-only $(T)

# Linux as the guest: fetched with apt-get download, cached, never committed.
linux-guest:
	$(PYTHON) tools/linux-guest.py

# Source level: the DWARF vmlinux, source, headers, gdb scripts and a module,
# in a cache outside the clone (~1 GB fetched once; README).
linux-guest-dbg: linux-guest
	$(PYTHON) tools/linux-dbg.py

test-linux: deps $(ELF)
	$(PYTHON) tests/run.py --integration-only test_linux

bench: deps $(ELF) $(GUEST_ELFS)
	$(PYTHON) tools/bench.py

# Linux to /init with 2 CPUs, bare and under vmxdbg: ~10 minutes, so apart.
bench-linux: deps $(ELF) linux-guest
	$(PYTHON) tools/linux-guest.py measure --cpus 2

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
