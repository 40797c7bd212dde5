# guests.mk — the test guests, for the top-level Makefile to `include`.
#
# Each guest is a multiboot v1 ELF32 kernel linked at 1 MiB: common/ holds
# the boot, descriptor tables, COM1 and probe code both share; basic/ and
# hostile/ hold each guest's own code.  Needs $(BUILD) (the top-level
# Makefile sets BUILD := build); everything else here is prefixed GUEST_.
#
# Targets: $(BUILD)/guests/basic.elf $(BUILD)/guests/hostile.elf
# Variables: GUEST_ELFS (both), GUEST_NAMES

# Including this must not change the including Makefile's default goal.
GUEST_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

GUEST_SRC   := tests/guests
GUEST_BUILD := $(BUILD)/guests
GUEST_NAMES := basic hostile
GUEST_ELFS  := $(patsubst %,$(GUEST_BUILD)/%.elf,$(GUEST_NAMES))

GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_CC_INC  := $(shell $(GUEST_CC) -print-file-name=include)
# -mgeneral-regs-only: the guests flip CR4.OSFXSR and must never depend on
# SSE.  -nostdinc: only gcc's freestanding headers, never the host libc's.
GUEST_CFLAGS  := -m32 -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -nostdlib \
	-mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(GUEST_CC_INC) -I$(GUEST_SRC)/common -MMD -MP
GUEST_ASFLAGS := -m32 -g -I$(GUEST_SRC)/common -MMD -MP
GUEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 \
	-T $(GUEST_SRC)/common/linker.ld

GUEST_COMMON_OBJS := $(patsubst $(GUEST_SRC)/%,$(GUEST_BUILD)/%.o, \
	$(wildcard $(GUEST_SRC)/common/*.S $(GUEST_SRC)/common/*.c))

$(GUEST_BUILD)/%.c.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/%.S.o: $(GUEST_SRC)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

# $(1): a guest's name, also its folder.
define guest_elf_rule
GUEST_OBJS_$(1) := $$(patsubst $$(GUEST_SRC)/%,$$(GUEST_BUILD)/%.o,$$(wildcard $$(GUEST_SRC)/$(1)/*.c))
$$(GUEST_BUILD)/$(1).elf: $$(GUEST_COMMON_OBJS) $$(GUEST_OBJS_$(1)) $$(GUEST_SRC)/common/linker.ld
	$$(GUEST_LD) $$(GUEST_LDFLAGS) -o $$@ $$(GUEST_COMMON_OBJS) $$(GUEST_OBJS_$(1))
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_elf_rule,$(g))))

.DEFAULT_GOAL := $(GUEST_SAVED_DEFAULT_GOAL)
