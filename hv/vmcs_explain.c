/* vmcs_explain.c — VMCS values in words: the book's tables (ch. 3 and 5)
 * applied to the live numbers.  SDM Vol. 3C chapters 25 and 28. */
#include "vmcs_explain.h"

#include <stdbool.h>

#include "ept.h"
#include "platform/fmt.h"
#include "vmcs_table.h"
#include "vmx_caps.h"

static const char *const intr_types[8] = {
	"external interrupt", "reserved type 1", "NMI", "hardware exception",
	"software interrupt", "privileged software exception", "software exception", "other event",
};

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP",
	"#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

int vmcs_describe_intr_info(uint32_t info, char *buf, size_t len)
{
	if (!(info & (1u << 31)))
		return ksnprintf(buf, len, "not valid");
	unsigned vector = info & 0xff, type = (info >> 8) & 7;
	const char *exc = (type == 3 || type == 5 || type == 6) && vector < 32 && exception_names[vector] ? exception_names[vector] : NULL;
	return ksnprintf(buf, len, "valid, %s, vector %u%s%s%s, %s%s", intr_types[type], vector, exc ? " (" : "",
			 exc ? exc : "", exc ? ")" : "",
			 info & (1u << 11) ? "error code delivered" : "no error code",
			 info & (1u << 12) ? ", NMI unblocking due to IRET" : "");
}

int vmcs_describe_exit_reason(uint32_t reason, char *buf, size_t len)
{
	unsigned basic = reason & 0xffff;
	const char *name = exit_reason_name(basic), *what = exit_reason_description(basic);
	return ksnprintf(buf, len, "%u %s (%s)%s%s%s%s", basic, name ? name : "unassigned",
			 what ? what : "not a reason the SDM assigns",
			 reason & (1u << 31) ? "; VM-entry failure: the guest never ran" : "",
			 reason & (1u << 29) ? "; from VMX root operation" : "",
			 reason & (1u << 28) ? "; pending MTF VM exit" : "",
			 reason & (1u << 27) ? "; in enclave mode" : "");
}

int vmcs_describe_instruction_error(uint64_t error, char *buf, size_t len)
{
	if (!error)
		return ksnprintf(buf, len, "0: no error (the last VMX instruction succeeded or failed without "
				 "a current VMCS)");
	const char *text = error < 64 ? vm_instruction_error_text((unsigned)error) : NULL;
	return ksnprintf(buf, len, "%llu: %s", (unsigned long long)error,
			 text ? text : "not an error number the SDM assigns");
}

static const char *const gpr_names[16] = {
	"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

/* Table 28-3: control-register accesses. */
static int describe_cr(uint64_t q, char *buf, size_t len)
{
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	switch (type) {
	case 0: return ksnprintf(buf, len, "MOV to CR%u from %s", cr, gpr_names[reg]);
	case 1: return ksnprintf(buf, len, "MOV from CR%u to %s", cr, gpr_names[reg]);
	case 2: return ksnprintf(buf, len, "CLTS");
	default:
		return ksnprintf(buf, len, "LMSW with source data 0x%llx (%s operand)",
				 (unsigned long long)((q >> 16) & 0xffff), q & (1u << 6) ? "memory" : "register");
	}
}

/* Table 28-5: I/O instructions. */
static int describe_io(uint64_t q, char *buf, size_t len)
{
	return ksnprintf(buf, len, "%s%s of %u byte%s at port 0x%llx%s%s", q & 8 ? "IN" : "OUT",
			 q & 16 ? "S (string)" : "", (unsigned)(q & 7) + 1, (q & 7) ? "s" : "",
			 (unsigned long long)((q >> 16) & 0xffff), q & 32 ? ", REP prefixed" : "",
			 q & 64 ? ", immediate port operand" : ", port in DX");
}

/* Table 28-1: #DB. */
static int describe_db(uint64_t q, char *buf, size_t len)
{
	return ksnprintf(buf, len, "debug exception:%s%s%s%s%s%s%s", q & 1 ? " B0" : "", q & 2 ? " B1" : "",
			 q & 4 ? " B2" : "", q & 8 ? " B3" : "", q & (1u << 13) ? " BD (debug-register access)" : "",
			 q & (1u << 14) ? " BS (single step)" : "", q & 0x600f ? "" : " no condition bits");
}

int vmcs_describe_exit_qualification(unsigned basic_reason, uint32_t intr_info, uint64_t qual, char *buf,
				     size_t len)
{
	switch (basic_reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		if (!(intr_info & (1u << 31)))
			break;
		if ((intr_info & 0xff) == 14)
			return ksnprintf(buf, len, "page fault at linear address 0x%llx", (unsigned long long)qual);
		if ((intr_info & 0xff) == 1)
			return describe_db(qual, buf, len);
		return ksnprintf(buf, len, "none for this exception (0x%llx)", (unsigned long long)qual);
	case EXIT_REASON_CR_ACCESS:
		return describe_cr(qual, buf, len);
	case EXIT_REASON_IO_INSTRUCTION:
		return describe_io(qual, buf, len);
	case EXIT_REASON_EPT_VIOLATION:
		return ept_violation_describe(qual, buf, len);
	case EXIT_REASON_INVLPG:
		return ksnprintf(buf, len, "INVLPG of linear address 0x%llx", (unsigned long long)qual);
	case EXIT_REASON_TASK_SWITCH: {
		static const char *const src[4] = { "CALL", "IRET", "JMP", "task gate in the IDT" };
		return ksnprintf(buf, len, "task switch to TSS selector 0x%llx by %s",
				 (unsigned long long)(qual & 0xffff), src[(qual >> 30) & 3]);
	}
	default:
		break;
	}
	if (len)
		buf[0] = 0;
	return 0;
}

static const char *const segment_names[8] = { "ES", "CS", "SS", "DS", "FS", "GS", "?", "?" };
static const char *const address_sizes[8] = { "16-bit", "32-bit", "64-bit", "?", "?", "?", "?", "?" };

/* The memory-or-register operand of Tables 28-9..28-13: scaling 1:0,
 * address size 9:7, register operand 10, segment 17:15, index 21:18
 * (invalid 22), base 26:23 (invalid 27); a register operand in 6:3. */
static int describe_operand(uint32_t info, char *buf, size_t len)
{
	if (info & (1u << 10))
		return ksnprintf(buf, len, "register operand %s", gpr_names[(info >> 3) & 15]);
	char regs[24] = "";
	bool has_base = !(info & (1u << 27)), has_index = !(info & (1u << 22));
	if (has_index)
		ksnprintf(regs, sizeof(regs), "%s%s%s*%u", has_base ? gpr_names[(info >> 23) & 15] : "",
			  has_base ? " + " : "", gpr_names[(info >> 18) & 15], 1u << (info & 3));
	else if (has_base)
		ksnprintf(regs, sizeof(regs), "%s", gpr_names[(info >> 23) & 15]);
	return ksnprintf(buf, len, "memory operand %s:[%s%sdisplacement], %s address", segment_names[(info >> 15) & 7],
			 regs, regs[0] ? " + " : "", address_sizes[(info >> 7) & 7]);
}

int vmcs_describe_instruction_info(unsigned basic_reason, uint64_t qual, uint32_t info, char *buf, size_t len)
{
	switch (basic_reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		if (!(qual & 16))
			break;	/* only INS and OUTS fill it (IA32_VMX_BASIC[54]) */
		return ksnprintf(buf, len, "%s address, segment %s", address_sizes[(info >> 7) & 7],
				 segment_names[(info >> 15) & 7]);
	case EXIT_REASON_RDRAND:
	case EXIT_REASON_RDSEED:
		return ksnprintf(buf, len, "destination %s, %u-bit operand", gpr_names[(info >> 3) & 15],
				 16u << ((info >> 11) & 3));
	case EXIT_REASON_GDTR_IDTR:
	case EXIT_REASON_LDTR_TR:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_INVPCID:
	case EXIT_REASON_XSAVES:
	case EXIT_REASON_XRSTORS:
		return describe_operand(info, buf, len);
	default:
		break;
	}
	if (len)
		buf[0] = 0;
	return 0;
}

static void emit_words(const char *words, vmcs_emit_fn emit, void *ctx)
{
	char line[256];
	ksnprintf(line, sizeof(line), "      = %s", words);
	emit(ctx, line);
}

/* Each set bit of a control field by name; clear bits are left out (the
 * capability report, `monitor caps`, lists what could be set). */
static void explain_controls(enum vmx_control_group group, uint64_t value, unsigned bits, vmcs_emit_fn emit,
			     void *ctx)
{
	char line[128];
	for (unsigned b = 0; b < bits; b++) {
		if (!(value & (1ull << b)))
			continue;
		const char *name = vmx_control_name(group, b);
		ksnprintf(line, sizeof(line), "      bit %2u %s", b, name ? name : "(reserved: default 1)");
		emit(ctx, line);
	}
}

void vmcs_explain_field(uint32_t encoding, uint64_t value, unsigned basic_reason, uint32_t intr_info,
			vmcs_emit_fn emit, void *ctx)
{
	char words[224];
	switch (encoding) {
	case PIN_BASED_VM_EXEC_CONTROL: explain_controls(VMX_CTL_PIN, value, 32, emit, ctx); return;
	case PRIMARY_VM_EXEC_CONTROL: explain_controls(VMX_CTL_PROC, value, 32, emit, ctx); return;
	case SECONDARY_VM_EXEC_CONTROL: explain_controls(VMX_CTL_PROC2, value, 32, emit, ctx); return;
	case TERTIARY_VM_EXEC_CONTROL: explain_controls(VMX_CTL_PROC3, value, 64, emit, ctx); return;
	case PRIMARY_VM_EXIT_CONTROLS: explain_controls(VMX_CTL_EXIT, value, 32, emit, ctx); return;
	case SECONDARY_VM_EXIT_CONTROLS: explain_controls(VMX_CTL_EXIT2, value, 64, emit, ctx); return;
	case VM_ENTRY_CONTROLS: explain_controls(VMX_CTL_ENTRY, value, 32, emit, ctx); return;
	case VM_ENTRY_INTERRUPTION_INFO:
	case VM_EXIT_INTERRUPTION_INFO:
	case IDT_VECTORING_INFO:
		vmcs_describe_intr_info((uint32_t)value, words, sizeof(words));
		break;
	case VM_EXIT_REASON:
		vmcs_describe_exit_reason((uint32_t)value, words, sizeof(words));
		break;
	case VM_INSTRUCTION_ERROR:
		vmcs_describe_instruction_error(value, words, sizeof(words));
		break;
	case EXIT_QUALIFICATION:
		if (!vmcs_describe_exit_qualification(basic_reason, intr_info, value, words, sizeof(words)))
			return;
		break;
	default:
		return;
	}
	emit_words(words, emit, ctx);
}
