/* vmx_msr.h — the VMX capability MSRs and the bits they report, and the
 * named bits of the VMX control fields (from hv/vmx_controls.def).
 * Hardware facts only: SDM Vol. 3D, Appendix A, and Vol. 3C, 25.6-25.8.
 * IA32_FEATURE_CONTROL's number (MSR_IA32_FEATURE_CONTROL) lives in
 * platform/cpu.h beside the other architectural MSRs. */
#ifndef HV_VMX_MSR_H
#define HV_VMX_MSR_H

#include <stdint.h>

/* The capability MSRs, SDM Vol. 3D, Appendix A (table of VMX MSRs). */
#define VMX_CAPABILITY_MSR_LIST(X) \
	X(IA32_VMX_BASIC,                0x480) \
	X(IA32_VMX_PINBASED_CTLS,        0x481) \
	X(IA32_VMX_PROCBASED_CTLS,       0x482) \
	X(IA32_VMX_EXIT_CTLS,            0x483) \
	X(IA32_VMX_ENTRY_CTLS,           0x484) \
	X(IA32_VMX_MISC,                 0x485) \
	X(IA32_VMX_CR0_FIXED0,           0x486) \
	X(IA32_VMX_CR0_FIXED1,           0x487) \
	X(IA32_VMX_CR4_FIXED0,           0x488) \
	X(IA32_VMX_CR4_FIXED1,           0x489) \
	X(IA32_VMX_VMCS_ENUM,            0x48a) \
	X(IA32_VMX_PROCBASED_CTLS2,      0x48b) \
	X(IA32_VMX_EPT_VPID_CAP,         0x48c) \
	X(IA32_VMX_TRUE_PINBASED_CTLS,   0x48d) \
	X(IA32_VMX_TRUE_PROCBASED_CTLS,  0x48e) \
	X(IA32_VMX_TRUE_EXIT_CTLS,       0x48f) \
	X(IA32_VMX_TRUE_ENTRY_CTLS,      0x490) \
	X(IA32_VMX_VMFUNC,               0x491) \
	X(IA32_VMX_PROCBASED_CTLS3,      0x492) \
	X(IA32_VMX_EXIT_CTLS2,           0x493)

enum vmx_capability_msr {
#define VMX_MSR_ENUM(name, number) MSR_##name = (number),
	VMX_CAPABILITY_MSR_LIST(VMX_MSR_ENUM)
#undef VMX_MSR_ENUM
};

/* "IA32_VMX_BASIC" for 0x480; NULL for other numbers (vmx_caps_decode.c). */
const char *vmx_msr_name(uint32_t msr);

/* IA32_FEATURE_CONTROL: VMXON #GPs unless locked with the right enable bit (SDM Vol. 3C, 24.7). */
#define FEATURE_CONTROL_LOCKED          (1ull << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX  (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

/* IA32_VMX_BASIC, SDM Vol. 3D, A.1. */
#define VMX_BASIC_REVISION_MASK       0x7fffffffull	/* bits 30:0 */
#define VMX_BASIC_VMCS_SIZE_SHIFT     32		/* bits 44:32, bytes */
#define VMX_BASIC_VMCS_SIZE_MASK      0x1fffull
#define VMX_BASIC_32BIT_ADDRESSES     (1ull << 48)	/* VMXON/VMCS/bitmaps below 4 GiB */
#define VMX_BASIC_DUAL_MONITOR        (1ull << 49)	/* dual-monitor treatment of SMI/SMM */
#define VMX_BASIC_MEMTYPE_SHIFT       50		/* bits 53:50 */
#define VMX_BASIC_MEMTYPE_MASK        0xfull
#define VMX_BASIC_INS_OUTS_INFO       (1ull << 54)	/* INS/OUTS fill VM-exit instruction info */
#define VMX_BASIC_TRUE_CTLS           (1ull << 55)	/* IA32_VMX_TRUE_*_CTLS exist */
#define VMX_BASIC_NO_ERROR_CODE_CHECK (1ull << 56)	/* any vector may be injected with an error code */

#define VMX_MEMTYPE_UC 0
#define VMX_MEMTYPE_WB 6

/* IA32_VMX_MISC, SDM Vol. 3D, A.6. */
#define VMX_MISC_PREEMPTION_SHIFT_MASK 0x1fu		/* bits 4:0 */
#define VMX_MISC_STORES_LMA            (1ull << 5)
#define VMX_MISC_ACTIVITY_HLT          (1ull << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN     (1ull << 7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI    (1ull << 8)
#define VMX_MISC_PT_IN_VMX             (1ull << 14)
#define VMX_MISC_RDMSR_SMBASE          (1ull << 15)
#define VMX_MISC_CR3_TARGETS_SHIFT     16		/* bits 24:16 */
#define VMX_MISC_CR3_TARGETS_MASK      0x1ffu
#define VMX_MISC_MSR_LIST_SHIFT        25		/* bits 27:25: 512 * (N + 1) */
#define VMX_MISC_MSR_LIST_MASK         0x7u
#define VMX_MISC_SMM_BLOCK_SMI         (1ull << 28)
#define VMX_MISC_VMWRITE_ANY_FIELD     (1ull << 29)
#define VMX_MISC_ZERO_LENGTH_INJECTION (1ull << 30)
#define VMX_MISC_MSEG_REVISION_SHIFT   32		/* bits 63:32 */

/* IA32_VMX_VMCS_ENUM, SDM Vol. 3D, A.9: bits 9:1 hold the highest field index. */
#define VMX_VMCS_ENUM_MAX_INDEX(v) ((unsigned)((v) >> 1) & 0x1ffu)

/* IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D, A.10. */
#define VMX_EPT_EXECUTE_ONLY           (1ull << 0)
#define VMX_EPT_WALK_4                 (1ull << 6)
#define VMX_EPT_WALK_5                 (1ull << 7)
#define VMX_EPT_MEMTYPE_UC             (1ull << 8)
#define VMX_EPT_MEMTYPE_WB             (1ull << 14)
#define VMX_EPT_PAGE_2M                (1ull << 16)
#define VMX_EPT_PAGE_1G                (1ull << 17)
#define VMX_EPT_INVEPT                 (1ull << 20)
#define VMX_EPT_ACCESSED_DIRTY         (1ull << 21)
#define VMX_EPT_ADVANCED_EXIT_INFO     (1ull << 22)
#define VMX_EPT_INVEPT_SINGLE          (1ull << 25)
#define VMX_EPT_INVEPT_ALL             (1ull << 26)
#define VMX_VPID_INVVPID               (1ull << 32)
#define VMX_VPID_INVVPID_ADDRESS       (1ull << 40)
#define VMX_VPID_INVVPID_SINGLE        (1ull << 41)
#define VMX_VPID_INVVPID_ALL           (1ull << 42)
#define VMX_VPID_INVVPID_SINGLE_GLOBAL (1ull << 43)

/* IA32_VMX_VMFUNC, SDM Vol. 3D, A.11: which VM functions may be enabled. */
#define VMX_VMFUNC_EPTP_SWITCHING (1ull << 0)

/* The control fields, in the order of the SDM's chapter 25. */
enum vmx_control_group {
	VMX_CTL_PIN,
	VMX_CTL_PROC,
	VMX_CTL_PROC2,
	VMX_CTL_PROC3,
	VMX_CTL_EXIT,
	VMX_CTL_EXIT2,
	VMX_CTL_ENTRY,
	VMX_CTL_GROUPS
};

/* VMX_PIN_NMI_EXITING, VMX_PROC2_ENABLE_EPT, VMX_ENTRY_IA32E_MODE_GUEST, ... */
enum vmx_control_bit {
#define CONTROL(group, name, bit) VMX_##group##_##name = 1ull << (bit),
#include "vmx_controls.def"
#undef CONTROL
};

#endif
