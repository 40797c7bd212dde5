/* ept_watch.c — watchpoints beyond the four debug registers, by EPT page
 * protection (book ch. 7; SDM Vol. 3C §29.3.3.2 "EPT Violations").
 *
 * A watched page loses its write right (write watch) or read and write
 * (read/access watch: execute-only if the CPU allows it, else nothing).
 * Any access to the page then exits with an EPT violation whose exit
 * qualification says read or write and whose GUEST_PHYSICAL_ADDRESS is the
 * accessed byte.  The page opens for exactly one single-stepped instruction,
 * closes again on the #DB, and the guest stops only if the access touched a
 * watched range — after the access, as a hardware watchpoint would. */
#include "debugger.h"

#include "guest.h"
#include "platform/errno.h"
#include "vmx.h"

#define MAX_EPT_WATCHES 32
#define PAGE_MASK (~0xfffull)
#define QUAL_READ (1u << 0)
#define QUAL_WRITE (1u << 1)

struct ept_watch {
	bool used;
	enum target_bp_type type;
	uint64_t gva, gpa;
	unsigned len;
};

static struct ept_watch watches[MAX_EPT_WATCHES];
static uint64_t open_page = ~0ull;	/* the page opened for the re-arm step */
static struct ept_watch *pending_hit;

/* The rights a page keeps with its watches on it. */
static unsigned page_perms(const struct vcpu *v, uint64_t page)
{
	unsigned perms = EPT_RWX;
	for (int i = 0; i < MAX_EPT_WATCHES; i++) {
		if (!watches[i].used || (watches[i].gpa & PAGE_MASK) != page)
			continue;
		perms &= watches[i].type == BP_WRITE ? ~EPT_W : ~(EPT_R | EPT_W);
	}
	if (!(perms & EPT_R) && !v->ept.exec_only)
		perms = 0;	/* execute-only is a misconfiguration without the capability */
	return perms;
}

static int protect(struct vcpu *v, uint64_t page, unsigned perms)
{
	int rc = ept_protect(&v->ept, page, 4096, perms);
	invept(INVEPT_SINGLE_CONTEXT, v->eptp);
	return rc;
}

int ept_watch_insert(struct vcpu *v, enum target_bp_type type, uint64_t gva, unsigned len)
{
	uint64_t gpa;
	if (target_virt_to_phys(v, gva, &gpa) || !guest_phys_reachable(gpa, len))
		return -EFAULT;
	if ((gpa & PAGE_MASK) != ((gpa + len - 1) & PAGE_MASK))
		return -EINVAL;	/* gdb splits unaligned ranges itself */
	for (int i = 0; i < MAX_EPT_WATCHES; i++) {
		if (watches[i].used)
			continue;
		watches[i] = (struct ept_watch){ true, type, gva, gpa, len };
		int rc = protect(v, gpa & PAGE_MASK, page_perms(v, gpa & PAGE_MASK));
		if (rc)
			watches[i].used = false;
		return rc;
	}
	return -ENOSPC;
}

int ept_watch_remove(struct vcpu *v, enum target_bp_type type, uint64_t gva, unsigned len)
{
	for (int i = 0; i < MAX_EPT_WATCHES; i++) {
		struct ept_watch *w = &watches[i];
		if (!w->used || w->type != type || w->gva != gva || w->len != len)
			continue;
		w->used = false;
		return protect(v, w->gpa & PAGE_MASK, page_perms(v, w->gpa & PAGE_MASK));
	}
	return -ENOENT;
}

void ept_watch_clear_all(struct vcpu *v)
{
	for (int i = 0; i < MAX_EPT_WATCHES; i++) {
		if (watches[i].used) {
			watches[i].used = false;
			protect(v, watches[i].gpa & PAGE_MASK, page_perms(v, watches[i].gpa & PAGE_MASK));
		}
	}
}

static bool hits(const struct ept_watch *w, uint64_t gpa, uint64_t qual)
{
	bool kind = w->type == BP_WRITE ? (qual & QUAL_WRITE) :
		    w->type == BP_READ ? (qual & QUAL_READ) : (qual & (QUAL_READ | QUAL_WRITE));
	/* The exit names the first byte accessed; an access is at most 8 bytes
	 * here (larger ones: SSE/AVX moves — may be missed at the range's start). */
	return kind && gpa < w->gpa + w->len && gpa + 8 > w->gpa;
}

bool ept_watch_on_violation(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	uint64_t page = gpa & PAGE_MASK;
	bool watched = false;
	pending_hit = NULL;
	for (int i = 0; i < MAX_EPT_WATCHES; i++) {
		if (!watches[i].used || (watches[i].gpa & PAGE_MASK) != page)
			continue;
		watched = true;
		if (!pending_hit && hits(&watches[i], gpa, qual))
			pending_hit = &watches[i];
	}
	if (!watched)
		return false;
	protect(v, page, EPT_RWX);
	open_page = page;
	debugger_arm_rearm_step(v);
	return true;
}

bool ept_watch_rearm(struct vcpu *v, struct target_stop *why)
{
	if (open_page != ~0ull)
		protect(v, open_page, page_perms(v, open_page));
	open_page = ~0ull;
	if (!pending_hit)
		return false;
	*why = (struct target_stop){ .kind = STOP_WATCHPOINT, .addr = pending_hit->gva,
				     .watch_type = pending_hit->type };
	pending_hit = NULL;
	return true;
}
