/* ept_watch.c — watchpoints the debug registers cannot express (a length
 * other than 1, 2, 4, 8, a misaligned range, a fifth and further ones), by
 * EPT page protection (book ch. 7; SDM Vol. 3C §29.3.3.2 "EPT Violations").
 *
 * A watch is kept as pieces, one per page its range touches: a range that
 * crosses a page boundary may be two unrelated guest-physical pages.  A
 * watched page loses its write right (write watch) or read and write
 * (read/access watch: execute-only if the CPU allows it, else nothing).
 * Any access to the page then exits with an EPT violation whose exit
 * qualification says read or write and whose GUEST_PHYSICAL_ADDRESS is the
 * accessed byte.  The page opens for exactly one single-stepped instruction
 * and closes again on the #DB (the "re-arm").  One instruction may touch
 * several watched pages (a store across a page boundary, a string move, a
 * far call's frame): each violation during the step opens one more page,
 * and the re-arm closes them all.  The guest stops only if an access
 * touched a watched range — after the access, as a hardware watchpoint
 * would.
 *
 * Only the target API touches the hardware here (target_virt_to_phys,
 * target_ept_protect, which flushes with INVEPT), so the bookkeeping runs
 * in the host tests over the fake target. */
#include "debugger.h"

#include "platform/errno.h"
#include "platform/log.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
/* Exit qualification (SDM Vol. 3C Table 28-7): bit 0 read, bit 1 write,
 * bit 7 the guest linear address is valid, bit 8 (with bit 7) the access
 * was to the translated address, not to a guest paging-structure entry. */
#define QUAL_READ (1u << 0)
#define QUAL_WRITE (1u << 1)
#define QUAL_LINEAR_VALID (1u << 7)
#define QUAL_TRANSLATED (1u << 8)
/* The exit names the first byte accessed on the page, not the access's
 * size: a range up to this far after it counts as touched (a general
 * register store; longer SSE/AVX moves that start before a watched range
 * may be missed at its start). */
#define ACCESS_SPAN 8

struct ept_watch_piece {
	uint64_t gva;		/* the whole watch, as gdb asked: address, length, type */
	uint32_t watch_len;
	uint8_t type;
	uint16_t len;		/* this piece: [gpa, gpa + len), within one page */
	uint64_t gpa;
};

static struct ept_watch_piece pieces[EPT_WATCH_PIECES];
static unsigned npieces;
static uint64_t open_pages[EPT_WATCH_OPEN_MAX];	/* opened for the re-arm step */
static unsigned nopen;
static bool hit;
static struct target_stop hit_stop;

/* The rights a page keeps with its watches on it. */
static unsigned page_perms(const struct vcpu *v, uint64_t page)
{
	unsigned perms = EPT_RWX;
	for (unsigned i = 0; i < npieces; i++) {
		if ((pieces[i].gpa & PAGE_MASK) != page)
			continue;
		perms &= pieces[i].type == BP_WRITE ? ~EPT_W : ~(EPT_R | EPT_W);
	}
	if (!(perms & EPT_R) && !v->ept.exec_only)
		perms = 0;	/* execute-only is a misconfiguration without the capability */
	return perms;
}

static int reprotect(struct vcpu *v, uint64_t page)
{
	return target_ept_protect(v, page, PAGE_SIZE, page_perms(v, page));
}

static bool same_watch(const struct ept_watch_piece *p, enum target_bp_type type, uint64_t gva, uint64_t len)
{
	return p->type == type && p->gva == gva && p->watch_len == len;
}

/* Removes the pieces of one watch, keeping the others in order; the pages
 * they were on get their rights back.  -ENOENT when there is none. */
static int drop_watch(struct vcpu *v, enum target_bp_type type, uint64_t gva, uint64_t len)
{
	uint64_t pages[EPT_WATCH_MAX_LEN / PAGE_SIZE + 1];
	unsigned npages = 0, kept = 0;
	for (unsigned i = 0; i < npieces; i++) {
		if (same_watch(&pieces[i], type, gva, len))
			pages[npages++] = pieces[i].gpa & PAGE_MASK;
		else
			pieces[kept++] = pieces[i];
	}
	npieces = kept;
	int rc = npages ? 0 : -ENOENT;
	for (unsigned i = 0; i < npages; i++) {
		int r = reprotect(v, pages[i]);
		rc = rc ? rc : r;
	}
	return rc;
}

int ept_watch_insert(struct vcpu *v, enum target_bp_type type, uint64_t gva, uint64_t len)
{
	struct ept_watch_piece add[EPT_WATCH_MAX_LEN / PAGE_SIZE + 1];
	unsigned nadd = 0;

	if (type < BP_WRITE || type > BP_ACCESS || len == 0 || gva + len < gva)
		return -EINVAL;
	if (len > EPT_WATCH_MAX_LEN) {
		log_warn("watch: 0x%llx, %llu bytes: longer than the %u bytes one EPT watch may cover",
			 (unsigned long long)gva, (unsigned long long)len, EPT_WATCH_MAX_LEN);
		return -E2BIG;
	}
	for (unsigned i = 0; i < npieces; i++)
		if (same_watch(&pieces[i], type, gva, len))
			return 0;	/* gdb may insert twice */
	for (uint64_t at = gva; at < gva + len; at = (at & PAGE_MASK) + PAGE_SIZE) {
		uint64_t end = (at & PAGE_MASK) + PAGE_SIZE, gpa;
		if (end > gva + len)
			end = gva + len;
		if (target_virt_to_phys(v, at, &gpa))
			return -EFAULT;
		add[nadd++] = (struct ept_watch_piece){ .gva = gva, .watch_len = (uint32_t)len, .type = (uint8_t)type,
							.len = (uint16_t)(end - at), .gpa = gpa };
	}
	if (npieces + nadd > EPT_WATCH_PIECES) {
		log_warn("watch: 0x%llx, %llu bytes: all %u EPT watch pieces in use (one per page a watch touches)",
			 (unsigned long long)gva, (unsigned long long)len, EPT_WATCH_PIECES);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < nadd; i++)
		pieces[npieces++] = add[i];
	for (unsigned i = 0; i < nadd; i++) {
		int rc = reprotect(v, add[i].gpa & PAGE_MASK);
		if (rc) {
			drop_watch(v, type, gva, len);
			/* Not guest RAM: the hypervisor's region, or no mapping at all. */
			return rc == -EPERM || rc == -ENOENT ? -EFAULT : rc;
		}
	}
	return 0;
}

int ept_watch_remove(struct vcpu *v, enum target_bp_type type, uint64_t gva, uint64_t len)
{
	return drop_watch(v, type, gva, len);
}

void ept_watch_clear_all(struct vcpu *v)
{
	while (npieces) {
		const struct ept_watch_piece *p = &pieces[npieces - 1];
		drop_watch(v, (enum target_bp_type)p->type, p->gva, p->watch_len);
	}
}

static bool touches(const struct ept_watch_piece *p, uint64_t gpa, uint64_t qual)
{
	bool kind = p->type == BP_WRITE ? (qual & QUAL_WRITE) :
		    p->type == BP_READ ? (qual & QUAL_READ) : (qual & (QUAL_READ | QUAL_WRITE));
	if ((qual & QUAL_LINEAR_VALID) && !(qual & QUAL_TRANSLATED))
		return false;	/* the CPU walking the guest's page tables, not the program */
	return kind && gpa < p->gpa + p->len && gpa + ACCESS_SPAN > p->gpa;
}

bool ept_watch_on_violation(struct vcpu *v, uint64_t gpa, uint64_t qual)
{
	uint64_t page = gpa & PAGE_MASK;
	bool watched = false;
	if (nopen == 0)
		hit = false;	/* a new instruction; within one, the first hit stands */
	for (unsigned i = 0; i < npieces; i++) {
		if ((pieces[i].gpa & PAGE_MASK) != page)
			continue;
		watched = true;
		if (!hit && touches(&pieces[i], gpa, qual)) {
			hit = true;
			hit_stop = (struct target_stop){ .kind = STOP_WATCHPOINT, .addr = pieces[i].gva,
							 .watch_type = (enum target_bp_type)pieces[i].type };
		}
	}
	if (!watched)
		return false;
	if (nopen == EPT_WATCH_OPEN_MAX) {
		log_error("watch: one instruction touched more than %u watched pages", EPT_WATCH_OPEN_MAX);
		return false;	/* reported and stopped as an unexplained violation */
	}
	open_pages[nopen++] = page;
	target_ept_protect(v, page, PAGE_SIZE, EPT_RWX);
	debugger_arm_rearm_step(v);
	return true;
}

bool ept_watch_rearm(struct vcpu *v, struct target_stop *why)
{
	for (unsigned i = 0; i < nopen; i++)
		reprotect(v, open_pages[i]);
	nopen = 0;
	if (!hit)
		return false;
	*why = hit_stop;
	hit = false;
	return true;
}
