/* vmcs_fixture.c — the VMCS every entry-check and write-policy test starts
 * from (vmcs_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vmcs_fixture.h"

/* Bochs 2.7, cpu model corei7_skylake_x. BASIC, PROCBASED_CTLS2, EPT_VPID_CAP
 * and MISC are read from the emulator; the others are values consistent with
 * them and the SDM (TRUE MSRs present, no MTF, no posted interrupts). */
const struct vmx_caps_raw skylake_x = {
	.have = VMX_HAVE_BASIC | VMX_HAVE_PINBASED | VMX_HAVE_PROCBASED | VMX_HAVE_PROCBASED2 |
		VMX_HAVE_EXIT | VMX_HAVE_ENTRY | VMX_HAVE_TRUE_PINBASED | VMX_HAVE_TRUE_PROCBASED |
		VMX_HAVE_TRUE_EXIT | VMX_HAVE_TRUE_ENTRY | VMX_HAVE_MISC | VMX_HAVE_CR_FIXED |
		VMX_HAVE_EPT_VPID_CAP | VMX_HAVE_VMFUNC,
	.basic = 0x00d810000000002bull,
	.pinbased = 0x0000007f00000016ull, .true_pinbased = 0x0000007f00000016ull,
	.procbased = 0xf7f9fffe0401e172ull, .true_procbased = 0xf7f9fffe04006172ull,
	.procbased2 = 0x02177fff00000000ull,
	.exit = 0x007fffff00036dffull, .true_exit = 0x007fffff00036dfbull,
	.entry = 0x0000ffff000011ffull, .true_entry = 0x0000ffff000011fbull,
	.misc = 0x600401e0ull,
	.cr0_fixed0 = 0x80000021ull, .cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x00002000ull, .cr4_fixed1 = 0x007727ffull,
	.ept_vpid_cap = 0x00000f0106334141ull,
	.vmfunc = 0x1ull,
};

/* A VMCS as a list of (encoding, value); absent fields are unsupported. */
static struct {
	struct { uint32_t enc; uint64_t val; } f[160];
	int n;
} vmcs;

void set(uint32_t enc, uint64_t val)
{
	for (int i = 0; i < vmcs.n; i++)
		if (vmcs.f[i].enc == enc) {
			vmcs.f[i].val = val;
			return;
		}
	assert_true(vmcs.n < (int)(sizeof(vmcs.f) / sizeof(vmcs.f[0])));
	vmcs.f[vmcs.n].enc = enc;
	vmcs.f[vmcs.n++].val = val;
}

uint64_t get(uint32_t enc)
{
	for (int i = 0; i < vmcs.n; i++)
		if (vmcs.f[i].enc == enc)
			return vmcs.f[i].val;
	return 0;
}

static int fake_read(void *ctx, uint32_t enc, uint64_t *val)
{
	(void)ctx;
	for (int i = 0; i < vmcs.n; i++)
		if (vmcs.f[i].enc == enc) {
			*val = vmcs.f[i].val;
			return 0;
		}
	return -1;
}

const struct vmcs_reader reader = { NULL, fake_read, 39, 48 };

static void controls_and_host(void)
{
	set(PIN_BASED_VM_EXEC_CONTROL, PIN_DEFAULT1 | VMX_PIN_EXTERNAL_INTERRUPT_EXITING | VMX_PIN_NMI_EXITING);
	set(PRIMARY_VM_EXEC_CONTROL, PROC_DEFAULT1 | VMX_PROC_HLT_EXITING | VMX_PROC_USE_IO_BITMAPS |
	    VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_ACTIVATE_SECONDARY_CONTROLS);
	set(SECONDARY_VM_EXEC_CONTROL, VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_RDTSCP | VMX_PROC2_ENABLE_VPID |
	    VMX_PROC2_ENABLE_INVPCID | VMX_PROC2_ENABLE_XSAVES_XRSTORS);
	set(PRIMARY_VM_EXIT_CONTROLS, EXIT_DEFAULT1 | VMX_EXIT_HOST_ADDRESS_SPACE_SIZE |
	    VMX_EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT | VMX_EXIT_SAVE_IA32_EFER | VMX_EXIT_LOAD_IA32_EFER);
	set(VM_ENTRY_CONTROLS, ENTRY_DEFAULT1 | VMX_ENTRY_IA32E_MODE_GUEST | VMX_ENTRY_LOAD_IA32_EFER);
	set(EXCEPTION_BITMAP, 0);
	set(CR3_TARGET_COUNT, 0);
	set(IO_BITMAP_A, 0x101000);
	set(IO_BITMAP_B, 0x102000);
	set(MSR_BITMAP, 0x103000);
	set(EPT_POINTER, 0x104000 | 6 | (3 << 3));	/* write-back, 4-level walk */
	set(VIRTUAL_PROCESSOR_ID, 1);
	set(VM_EXIT_MSR_STORE_COUNT, 0);
	set(VM_EXIT_MSR_LOAD_COUNT, 0);
	set(VM_ENTRY_MSR_LOAD_COUNT, 0);
	set(VM_ENTRY_INTERRUPTION_INFO, 0);

	set(HOST_CR0, 0x80050033);	/* PG WP NE ET MP PE */
	set(HOST_CR3, 0x1000);
	set(HOST_CR4, 0x26a0);		/* VMXE OSXMMEXCPT OSFXSR PGE PAE */
	set(HOST_CS_SELECTOR, 0x08);
	set(HOST_SS_SELECTOR, 0x10);
	set(HOST_DS_SELECTOR, 0x10);
	set(HOST_ES_SELECTOR, 0x10);
	set(HOST_FS_SELECTOR, 0x10);
	set(HOST_GS_SELECTOR, 0x10);
	set(HOST_TR_SELECTOR, 0x28);
	set(HOST_FS_BASE, 0x200000);
	set(HOST_GS_BASE, 0);
	set(HOST_TR_BASE, 0x110000);
	set(HOST_GDTR_BASE, 0x111000);
	set(HOST_IDTR_BASE, 0x112000);
	set(HOST_IA32_SYSENTER_ESP, 0);
	set(HOST_IA32_SYSENTER_EIP, 0);
	set(HOST_IA32_EFER, 0xd00);	/* NXE LMA LME */
	set(HOST_IA32_PAT, 0x0007040600070406ull);
	set(HOST_RSP, 0x1ff000);
	set(HOST_RIP, 0x100100);
}

void set_segment(uint32_t sel_f, uint32_t base_f, uint32_t limit_f, uint32_t ar_f,
			uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar)
{
	set(sel_f, sel);
	set(base_f, base);
	set(limit_f, limit);
	set(ar_f, ar);
}

int baseline_64bit(void **state)
{
	(void)state;
	vmcs.n = 0;
	controls_and_host();
	set(GUEST_CR0, 0x80050033);
	set(GUEST_CR3, 0x2000);
	set(GUEST_CR4, 0x2020);		/* VMXE PAE */
	set(GUEST_DR7, 0x400);
	set(GUEST_RSP, 0x7000);
	set(GUEST_RIP, 0x100000);
	set(GUEST_RFLAGS, 0x2);
	SEGMENT(CS, 0x08, 0, 0xffffffff, 0xa09b);	/* G L P S, execute/read accessed */
	SEGMENT(SS, 0x10, 0, 0xffffffff, 0xc093);
	SEGMENT(DS, 0x10, 0, 0xffffffff, 0xc093);
	SEGMENT(ES, 0x10, 0, 0xffffffff, 0xc093);
	SEGMENT(FS, 0, 0, 0, 0x10000);
	SEGMENT(GS, 0, 0, 0, 0x10000);
	SEGMENT(LDTR, 0, 0, 0, 0x10000);
	SEGMENT(TR, 0x18, 0x3000, 0x67, 0x8b);		/* busy TSS */
	set(GUEST_GDTR_BASE, 0x4000);
	set(GUEST_GDTR_LIMIT, 0x1f);
	set(GUEST_IDTR_BASE, 0x5000);
	set(GUEST_IDTR_LIMIT, 0xfff);
	set(GUEST_IA32_DEBUGCTL, 0);
	set(GUEST_IA32_SYSENTER_ESP, 0);
	set(GUEST_IA32_SYSENTER_EIP, 0);
	set(GUEST_IA32_EFER, 0xd00);
	set(GUEST_ACTIVITY_STATE, 0);
	set(GUEST_INTERRUPTIBILITY_STATE, 0);
	set(GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
	set(VMCS_LINK_POINTER, ~0ull);
	return 0;
}

int baseline_32bit_unrestricted(void **state)
{
	baseline_64bit(state);
	set(SECONDARY_VM_EXEC_CONTROL, get(SECONDARY_VM_EXEC_CONTROL) | VMX_PROC2_UNRESTRICTED_GUEST);
	set(VM_ENTRY_CONTROLS, get(VM_ENTRY_CONTROLS) & ~(uint64_t)VMX_ENTRY_IA32E_MODE_GUEST);
	set(GUEST_IA32_EFER, 0);
	set(GUEST_CR0, 0x31);		/* NE ET PE */
	set(GUEST_CR4, 0x2000);
	set(GUEST_CS_ACCESS_RIGHTS, 0xc09b);	/* G D/B P S, execute/read accessed */
	return 0;
}
