/* vmcs_dump.c — the current VMCS, decoded and grouped the book's way (ch.
 * 3): VM-execution/exit/entry controls, guest state, host state, VM-exit
 * information.  Fields this CPU does not implement are left out, decided
 * by capability before any VMREAD: a failed VMREAD would set
 * VM_INSTRUCTION_ERROR to 12 (SDM Vol. 3C §31.4) and hide the real one. */
#include "vmcs_dump.h"

#include "platform/fmt.h"
#include "vmcs_explain.h"
#include "vmcs_present.h"
#include "vmx.h"

static const enum vmcs_group order[] = {
	VMCS_GROUP_CONTROL, VMCS_GROUP_GUEST, VMCS_GROUP_HOST, VMCS_GROUP_EXIT_INFO,
};
static const char *const titles[] = {
	"VM-execution, VM-exit and VM-entry control fields", "guest-state area", "host-state area",
	"VM-exit information fields",
};

void vmcs_dump(const struct vmx_caps_raw *caps, void (*emit)(void *ctx, const char *line), void *ctx)
{
	char line[128];
	uint64_t reason = 0, intr = 0;

	/* The qualification's words depend on the reason and, for exceptions, the vector. */
	if (vmread_checked(VM_EXIT_REASON, &reason) != VMX_OK || vmread_checked(VM_EXIT_INTERRUPTION_INFO, &intr) != VMX_OK)
		reason = intr = 0;
	for (unsigned g = 0; g < sizeof(order) / sizeof(order[0]); g++) {
		ksnprintf(line, sizeof(line), "%s:", titles[g]);
		emit(ctx, line);
		for (size_t i = 0; i < vmcs_field_count(); i++) {
			const struct vmcs_field_info *f = vmcs_field_at(i);
			uint64_t v;
			if (f->group != order[g] || !vmcs_field_present(caps, f->encoding) ||
			    vmread_checked(f->encoding, &v) != VMX_OK)
				continue;
			unsigned digits = vmcs_width_bits(f->width) / 4;
			ksnprintf(line, sizeof(line), "  %-40s %04x  0x%0*llx", f->name, f->encoding, digits,
				  (unsigned long long)v);
			emit(ctx, line);
			vmcs_explain_field(f->encoding, v, (unsigned)reason & 0xffff, (uint32_t)intr, emit, ctx);
		}
	}
}
