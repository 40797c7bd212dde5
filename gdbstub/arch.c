/* arch.c — which register view (regs.c) a gdb connection gets, and
 * `monitor arch` to force one.
 *
 * gdb takes the architecture from target.xml and checks it against the
 * ELF it was given: a 32-bit ELF refuses i386:x86-64 and a 64-bit one
 * refuses i386 ("not compatible"), and gdb then keeps the ELF's layout and
 * misreads ours.  So the view follows the symbol file the user has, which
 * is the image the guest was loaded from (the hypervisor records it), not
 * the mode the CPU is in: a 64-bit ELF or a Linux kernel gets amd64 even
 * while it runs its 32-bit entry code (gdb's amd64 view shows 32-bit state
 * as registers with zero upper halves, and stepping works), a 32-bit ELF
 * or an a.out kludge image gets i386.  Only when the target cannot say
 * does the mode decide: 64-bit mode amd64, any other i386.
 *
 * The view is chosen once per connection, at the first packet that
 * depends on it (gdb reads target.xml first; a gdb without it, the first
 * `g`), and stays: gdb has numbered the registers by it and never reads
 * target.xml again.  A new connection (qSupported, detach, hang-up)
 * chooses again; `monitor arch` outlives connections, so the way to another
 * view is `monitor arch amd64`, `disconnect`, `target remote` again. */
#include "stub.h"

#include "platform/fmt.h"
#include "platform/kstring.h"

#define EFER_LMA (1ull << 10)		/* IA-32e mode active (SDM Vol. 3A §2.2.1) */
#define CS_AR_L (1ull << 13)		/* 64-bit code segment (SDM Vol. 3C §25.4.1) */

enum guest_mode { MODE_64BIT, MODE_COMPAT, MODE_LEGACY, MODE_UNKNOWN };

static enum guest_mode guest_mode(struct gdb_stub *g)
{
	uint64_t efer, ar;
	char err[160];

	if (target_reg_read(g->v, TREG_EFER, &efer))
		return MODE_UNKNOWN;
	if (!(efer & EFER_LMA))
		return MODE_LEGACY;
	if (target_vmcs_read("GUEST_CS_ACCESS_RIGHTS", &ar, err, sizeof(err)))
		return MODE_64BIT;	/* LMA alone: as good a guess as there is */
	return ar & CS_AR_L ? MODE_64BIT : MODE_COMPAT;
}

/* A target that can tell neither image nor mode gets amd64. */
static const struct gdb_view *view_for(struct gdb_stub *g, enum gdb_arch arch)
{
	if (arch == GDB_ARCH_I386)
		return &gdb_view_i386;
	if (arch == GDB_ARCH_AMD64)
		return &gdb_view_amd64;
	switch (target_guest_image()) {
	case TARGET_IMAGE_ELF64:
	case TARGET_IMAGE_LINUX:
		return &gdb_view_amd64;
	case TARGET_IMAGE_ELF32:
	case TARGET_IMAGE_AOUT:
		return &gdb_view_i386;
	default:
		break;
	}
	enum guest_mode m = guest_mode(g);
	return m == MODE_COMPAT || m == MODE_LEGACY ? &gdb_view_i386 : &gdb_view_amd64;
}

const struct gdb_view *gdb_view(struct gdb_stub *g)
{
	if (!g->view)
		g->view = view_for(g, g->arch);
	return g->view;
}

void gdb_view_forget(struct gdb_stub *g)
{
	g->view = NULL;
	g->xml_read = false;
}

static const char *const arch_names[] = {
	[GDB_ARCH_AUTO] = "auto", [GDB_ARCH_I386] = "i386", [GDB_ARCH_AMD64] = "amd64",
};

static const char *mode_words(enum guest_mode m)
{
	switch (m) {
	case MODE_64BIT: return "in 64-bit mode";
	case MODE_COMPAT: return "in compatibility mode (EFER.LMA=1, CS.L=0)";
	case MODE_LEGACY: return "not in IA-32e mode (EFER.LMA=0)";
	default: return "in a mode the target cannot tell";
	}
}

static const char *const image_words[] = {
	[TARGET_IMAGE_UNKNOWN] = "an image the target cannot tell",
	[TARGET_IMAGE_ELF32] = "a 32-bit ELF", [TARGET_IMAGE_ELF64] = "a 64-bit ELF",
	[TARGET_IMAGE_AOUT] = "an a.out kludge image", [TARGET_IMAGE_LINUX] = "a Linux kernel",
};

static void report(struct gdb_stub *g, target_emit_fn out, void *ctx)
{
	char line[160];

	if (g->view)
		ksnprintf(line, sizeof(line), "arch: %s; this connection has the %s view",
			  arch_names[g->arch], g->view->name);
	else
		ksnprintf(line, sizeof(line), "arch: %s; this connection has no view yet",
			  arch_names[g->arch]);
	out(ctx, line);
	enum target_image image = target_guest_image();
	if ((unsigned)image >= sizeof(image_words) / sizeof(image_words[0]))
		image = TARGET_IMAGE_UNKNOWN;
	ksnprintf(line, sizeof(line), "the guest was loaded from %s and is %s: auto gives %s",
		  image_words[image], mode_words(guest_mode(g)), view_for(g, GDB_ARCH_AUTO)->name);
	out(ctx, line);
}

/* `monitor arch [i386|amd64|auto]` */
void gdb_monitor_arch(struct gdb_stub *g, const char *args, target_emit_fn out, void *ctx)
{
	char line[200];
	int arch = -1;

	for (int a = GDB_ARCH_AUTO; a <= GDB_ARCH_AMD64; a++)
		if (strcmp(args, arch_names[a]) == 0)
			arch = a;
	if (*args && arch < 0) {
		out(ctx, "usage: monitor arch [i386|amd64|auto]");
		return;
	}
	if (arch >= 0) {
		g->arch = (enum gdb_arch)arch;
		const struct gdb_view *next = view_for(g, g->arch);
		if (g->view && g->view != next) {
			ksnprintf(line, sizeof(line),
				  "arch: %s from the next connection; this one keeps the %s view gdb "
				  "already numbers the registers by: `disconnect`, then `target remote` again",
				  arch_names[arch], g->view->name);
			out(ctx, line);
			return;
		}
	}
	report(g, out, ctx);
}
