# guests.mk — the test guests, for the top-level Makefile to `include`.
#
# Each guest is a multiboot kernel linked at 1 MiB: common/ holds the boot,
# descriptor tables, COM1 and probe code both share; basic/ and hostile/
# hold each guest's own code.  demo/ is the 64-bit guest `make run` boots
# by default (below).  The multiboot header is common/header.S,
# assembled once per kind; the basic guest is also built in variants that
# differ only in header and container, to test loaders (README.md).
# Needs $(BUILD) (the top-level Makefile sets BUILD := build); everything
# else here is prefixed GUEST_.
#
# Targets: $(BUILD)/guests/<image> for each image in GUEST_ELFS
# Variables: GUEST_ELFS (every image, flat binaries too), GUEST_NAMES,
#            GUEST_VARIANTS, GUEST_DEMO

# Including this must not change the including Makefile's default goal.
GUEST_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

GUEST_SRC   := tests/guests
GUEST_BUILD := $(BUILD)/guests
GUEST_NAMES := basic hostile exitloop smpprobe smp tasks
# Variants of the basic guest: multiboot2 header; a.out kludge (v1 flags
# bit 16 / v2 address tag) booted as a flat binary; ELF64 container; and
# 2.5 MiB more .bss (it reaches past where GRUB puts the modules of a
# kernel linked high, such as vmxdbg: just above 1 MiB).
GUEST_VARIANTS := basic-mb2.elf basic-aout.bin basic-mb2-aout.bin basic-elf64.elf basic-mb2-elf64.elf \
	basic-big.elf
GUEST_DEMO  := $(GUEST_BUILD)/demo.elf
GUEST_ELFS  := $(patsubst %,$(GUEST_BUILD)/%.elf,$(GUEST_NAMES)) \
	$(addprefix $(GUEST_BUILD)/,$(GUEST_VARIANTS)) $(GUEST_DEMO)

GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_OBJCOPY ?= objcopy
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

# Everything in common/ but the header, which each image picks.
GUEST_COMMON_OBJS := $(patsubst $(GUEST_SRC)/%,$(GUEST_BUILD)/%.o, \
	$(filter-out %/header.S,$(wildcard $(GUEST_SRC)/common/*.S $(GUEST_SRC)/common/*.c)))

# Header kinds (see header.S): the object is common/header-<kind>.S.o.
GUEST_HEADER_FLAGS_mb1      :=
GUEST_HEADER_FLAGS_aout     := -DHEADER_AOUT
GUEST_HEADER_FLAGS_mb2      := -DHEADER_MB2
GUEST_HEADER_FLAGS_mb2-aout := -DHEADER_MB2 -DHEADER_AOUT

$(GUEST_BUILD)/%.c.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/%.S.o: $(GUEST_SRC)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_BUILD)/common/header-%.S.o: $(GUEST_SRC)/common/header.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_ASFLAGS) $(GUEST_HEADER_FLAGS_$*) -c $< -o $@

# $(1): the image's name; $(2): the guest (its folder); $(3): header kind;
# $(4): extra linker flags (before the script, which may test them with DEFINED).
define guest_image_rule
$$(GUEST_BUILD)/$(1).elf: $$(GUEST_BUILD)/common/header-$(3).S.o $$(GUEST_COMMON_OBJS) \
		$$(GUEST_OBJS_$(2)) $$(GUEST_SRC)/common/linker.ld
	$$(GUEST_LD) $(4) $$(GUEST_LDFLAGS) -o $$@ $$(GUEST_BUILD)/common/header-$(3).S.o \
		$$(GUEST_COMMON_OBJS) $$(GUEST_OBJS_$(2))
endef
$(foreach g,$(GUEST_NAMES),$(eval GUEST_OBJS_$(g) := \
	$(patsubst $(GUEST_SRC)/%,$(GUEST_BUILD)/%.o,$(wildcard $(GUEST_SRC)/$(g)/*.S $(GUEST_SRC)/$(g)/*.c))))
# The SMP guest reads the MADT with the hypervisor's own parser (pure C,
# host-tested by tests/unit/test_acpi_madt.c), compiled again for 32 bits;
# its sources name it "platform/acpi_madt.h", from the repository's root.
GUEST_OBJS_smp += $(GUEST_BUILD)/smp/platform/acpi_madt.c.o
$(GUEST_BUILD)/smp/%.o: GUEST_CFLAGS += -I.
$(GUEST_BUILD)/smp/platform/%.c.o: platform/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(foreach g,$(GUEST_NAMES),$(eval $(call guest_image_rule,$(g),$(g),mb1)))
$(eval $(call guest_image_rule,basic-mb2,basic,mb2))
$(eval $(call guest_image_rule,basic-aout,basic,aout))
$(eval $(call guest_image_rule,basic-mb2-aout,basic,mb2-aout))
$(eval $(call guest_image_rule,basic-big,basic,mb1,--defsym=guest_ballast=0x280000))

# The same program in an ELF64 container: multiboot loads ELF64 images
# too, entering their (here 32-bit) code in protected mode all the same.
$(GUEST_BUILD)/%-elf64.elf: $(GUEST_BUILD)/%.elf
	$(GUEST_OBJCOPY) -O elf64-x86-64 $< $@

# A flat binary: the file's first byte is load_addr, with no ELF headers a
# loader could fall back on.  4 KiB of 0xA5 follow load_end_addr; a loader
# must not load them (they would land in .bss, which multiboot-bss-zeroed
# checks).
$(GUEST_BUILD)/%.bin: $(GUEST_BUILD)/%.elf
	$(GUEST_OBJCOPY) -O binary $< $@.tmp
	head -c 4096 /dev/zero | tr '\000' '\245' >>$@.tmp
	mv $@.tmp $@

# The demo guest: 64-bit C (the 32-bit entry switches to long mode), frame
# pointers and -Og for gdb's backtraces and stepping, no red zone (its
# interrupts land on the stack in use), linked as ELF64 by its own script.
# It shares COM1, printing, the PIC/PIT and power-off code with the others,
# compiled again for 64-bit under $(GUEST_BUILD)/demo/common/.
GUEST_DEMO_CFLAGS  := -m64 -std=gnu11 -Og -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -nostdlib -mno-red-zone \
	-mgeneral-regs-only -mcmodel=small -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(GUEST_CC_INC) -I$(GUEST_SRC)/common -MMD -MP
GUEST_DEMO_ASFLAGS := -m64 -g -MMD -MP
GUEST_DEMO_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 \
	-T $(GUEST_SRC)/demo/linker.ld
GUEST_DEMO_SHARED  := uart print kstring pic_pit poweroff
GUEST_DEMO_OBJS    := $(GUEST_BUILD)/demo/header.S.o \
	$(patsubst $(GUEST_SRC)/%,$(GUEST_BUILD)/%.o,$(wildcard $(GUEST_SRC)/demo/*.S $(GUEST_SRC)/demo/*.c)) \
	$(patsubst %,$(GUEST_BUILD)/demo/common/%.c.o,$(GUEST_DEMO_SHARED))

# These rules win over the 32-bit ones above for the demo's objects: GNU
# make prefers the pattern rule with the shortest stem.
$(GUEST_BUILD)/demo/%.c.o: $(GUEST_SRC)/demo/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $<")
	$(Q)$(GUEST_CC) $(GUEST_DEMO_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/demo/common/%.c.o: $(GUEST_SRC)/common/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $< (64-bit)")
	$(Q)$(GUEST_CC) $(GUEST_DEMO_CFLAGS) -c $< -o $@

$(GUEST_BUILD)/demo/%.S.o: $(GUEST_SRC)/demo/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_DEMO_ASFLAGS) -c $< -o $@

$(GUEST_BUILD)/demo/header.S.o: $(GUEST_SRC)/common/header.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_DEMO_ASFLAGS) -c $< -o $@

$(GUEST_DEMO): $(GUEST_DEMO_OBJS) $(GUEST_SRC)/demo/linker.ld
	$(GUEST_LD) $(GUEST_DEMO_LDFLAGS) -o $@ $(GUEST_DEMO_OBJS)

.DEFAULT_GOAL := $(GUEST_SAVED_DEFAULT_GOAL)
