/* hooks.c — the hooked-reason bitmap, which exits a hook may skip, and the
 * calls into the registered script front end (frontend.h). */
#include "hooks.h"

#include "frontend.h"

uint64_t exit_hook_bitmap[EXIT_HOOK_WORDS];

/* Basic exit reasons caused by executing an instruction, whose length the
 * CPU saves (SDM Vol. 3C §28.2.5). */
static const uint8_t instruction_exits[] = {
	EXIT_REASON_CPUID, EXIT_REASON_GETSEC, EXIT_REASON_HLT, EXIT_REASON_INVD, EXIT_REASON_INVLPG,
	EXIT_REASON_RDPMC, EXIT_REASON_RDTSC, EXIT_REASON_RSM, EXIT_REASON_VMCALL,
	EXIT_REASON_VMCLEAR, EXIT_REASON_VMLAUNCH, EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST,
	EXIT_REASON_VMREAD, EXIT_REASON_VMRESUME, EXIT_REASON_VMWRITE, EXIT_REASON_VMXOFF,
	EXIT_REASON_VMXON, EXIT_REASON_CR_ACCESS, EXIT_REASON_DR_ACCESS, EXIT_REASON_IO_INSTRUCTION,
	EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_MWAIT, EXIT_REASON_MONITOR,
	EXIT_REASON_PAUSE, EXIT_REASON_GDTR_IDTR, EXIT_REASON_LDTR_TR, EXIT_REASON_INVEPT,
	EXIT_REASON_RDTSCP, EXIT_REASON_INVVPID, EXIT_REASON_WBINVD, EXIT_REASON_XSETBV,
	EXIT_REASON_RDRAND, EXIT_REASON_INVPCID, EXIT_REASON_VMFUNC, EXIT_REASON_ENCLS,
	EXIT_REASON_RDSEED, EXIT_REASON_XSAVES, EXIT_REASON_XRSTORS, EXIT_REASON_PCONFIG,
	EXIT_REASON_UMWAIT, EXIT_REASON_TPAUSE, EXIT_REASON_LOADIWKEY, EXIT_REASON_ENCLV,
	EXIT_REASON_ENQCMD_PASID_FAILURE, EXIT_REASON_ENQCMDS_PASID_FAILURE, EXIT_REASON_SEAMCALL,
	EXIT_REASON_TDCALL, EXIT_REASON_RDMSRLIST, EXIT_REASON_WRMSRLIST, EXIT_REASON_URDMSR,
	EXIT_REASON_UWRMSR, EXIT_REASON_MSR_READ_IMMEDIATE, EXIT_REASON_MSR_WRITE_IMMEDIATE,
};

bool exit_hook_may_skip(unsigned reason, uint32_t interruption_info)
{
	if (reason == EXIT_REASON_EXCEPTION_NMI) {
		unsigned type = interruption_info >> 8 & 7;
		return type == 5 || type == 6;	/* privileged / software exception */
	}
	for (size_t i = 0; i < sizeof(instruction_exits); i++)
		if (instruction_exits[i] == reason)
			return true;
	return false;
}

bool event_hook_may_skip(unsigned vector)
{
	return vector != 8;
}

static const struct script_frontend *scripts;
static bool poweroff_armed;

void script_frontend_set(const struct script_frontend *fe)
{
	scripts = fe;
	poweroff_armed = fe && fe->poweroff;
}

enum hook_verdict exit_hooks_run(struct vcpu *v, unsigned reason, char *stop_reason, size_t len)
{
	return scripts ? scripts->exit_hooks(v, reason, stop_reason, len) : HOOK_DEFAULT;
}

enum hook_verdict script_event_hooks_run(struct vcpu *v, uint32_t interruption_info, char *stop_reason,
					 size_t len)
{
	if (!scripts || !scripts->event_hooks)
		return HOOK_DEFAULT;
	return scripts->event_hooks(v, interruption_info, stop_reason, len);
}

void poweroff_hook_run(struct vcpu *v, const char *how)
{
	if (!poweroff_armed)
		return;
	poweroff_armed = false;	/* once, even if the callback powers off itself */
	scripts->poweroff(v, how);
}

enum hook_verdict breakpoint_hook_run(struct vcpu *v, unsigned id, uint64_t gva, char *stop_reason, size_t len)
{
	return scripts && scripts->breakpoint ? scripts->breakpoint(v, id, gva, stop_reason, len) : HOOK_DEFAULT;
}
