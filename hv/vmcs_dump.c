/* vmcs_dump.c — the current VMCS, decoded and grouped the book's way (ch.
 * 3): VM-execution/exit/entry controls, guest state, host state, VM-exit
 * information.  Fields this CPU does not implement are left out. */
#include "vmcs_dump.h"

#include "platform/fmt.h"
#include "vmx.h"

static const enum vmcs_group order[] = {
	VMCS_GROUP_CONTROL, VMCS_GROUP_GUEST, VMCS_GROUP_HOST, VMCS_GROUP_EXIT_INFO,
};
static const char *const titles[] = {
	"VM-execution, VM-exit and VM-entry control fields", "guest-state area", "host-state area",
	"VM-exit information fields",
};

void vmcs_dump(void (*emit)(void *ctx, const char *line), void *ctx)
{
	char line[128];

	for (unsigned g = 0; g < sizeof(order) / sizeof(order[0]); g++) {
		ksnprintf(line, sizeof(line), "%s:", titles[g]);
		emit(ctx, line);
		for (size_t i = 0; i < vmcs_field_count(); i++) {
			const struct vmcs_field_info *f = vmcs_field_at(i);
			uint64_t v;
			if (f->group != order[g] || vmread_checked(f->encoding, &v) != VMX_OK)
				continue;
			unsigned digits = vmcs_width_bits(f->width) / 4;
			ksnprintf(line, sizeof(line), "  %-40s %04x  0x%0*llx", f->name, f->encoding, digits,
				  (unsigned long long)v);
			emit(ctx, line);
		}
	}
}
