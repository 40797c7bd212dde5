/* sw_breakpoints.c — software breakpoints: an int3 (0xCC) written into
 * guest-physical memory at the instruction's first byte, the original byte
 * kept here and shown to every reader (debugger_hide_breakpoints), a write
 * through the debugger landing under the int3 (SDM Vol. 3A §6.15, #BP).
 * The table is dense and unsorted: a linear scan of the breakpoints in use
 * on every #BP exit and every debugger memory access, cheap beside them.
 * Limit: SW_BREAKPOINTS_MAX (debugger.h); past it -ENOSPC and a log line. */
#include "debugger.h"

#include "guest.h"
#include "platform/errno.h"
#include "platform/log.h"

#define INT3 0xcc

struct sw_breakpoint {
	uint64_t gva, gpa;
	uint8_t orig;
};

static struct sw_breakpoint sw[SW_BREAKPOINTS_MAX];	/* sw[0, nsw) in use */
static unsigned nsw;

/* Guest RAM is identity-mapped: guest_phys_ptr() of a reachable byte is
 * its address, NULL for guest-physical 0 included (the hypervisor is built
 * with -fno-delete-null-pointer-checks). */
static uint8_t *code_byte(uint64_t gpa)
{
	return guest_phys_ptr(gpa, 1);
}

static int sw_find(uint64_t gva)
{
	for (unsigned i = 0; i < nsw; i++)
		if (sw[i].gva == gva)
			return (int)i;
	return -ENOENT;
}

unsigned sw_bp_count(void)
{
	return nsw;
}

int sw_bp_insert(struct vcpu *v, uint64_t gva)
{
	uint64_t gpa;
	if (sw_find(gva) >= 0)
		return 0;	/* gdb may insert twice */
	if (nsw == SW_BREAKPOINTS_MAX) {
		log_warn("breakpoints: all %u software breakpoints in use: none at 0x%llx",
			 SW_BREAKPOINTS_MAX, (unsigned long long)gva);
		return -ENOSPC;
	}
	if (target_virt_to_phys(v, gva, &gpa) || !guest_phys_reachable(gpa, 1))
		return -EFAULT;
	sw[nsw++] = (struct sw_breakpoint){ .gva = gva, .gpa = gpa, .orig = *code_byte(gpa) };
	*code_byte(gpa) = INT3;
	return 0;
}

int sw_bp_remove(uint64_t gva)
{
	int i = sw_find(gva);
	if (i < 0)
		return i;
	*code_byte(sw[i].gpa) = sw[i].orig;
	sw[i] = sw[--nsw];
	return 0;
}

/* Newest first: two breakpoints on one guest-physical byte (two virtual
 * aliases) leave the original byte, not the older one's int3. */
void sw_bp_clear_all(void)
{
	while (nsw)
		sw_bp_remove(sw[nsw - 1].gva);
}

bool debugger_is_our_breakpoint(uint64_t gva)
{
	return sw_find(gva) >= 0 || stealth_bp_is_debuggers(gva);
}

void debugger_hide_breakpoints(uint64_t gpa, uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < nsw; i++)
		if (sw[i].gpa >= gpa && sw[i].gpa < gpa + len)
			buf[sw[i].gpa - gpa] = sw[i].orig;
}

void debugger_write_through_breakpoints(uint64_t gpa, const uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < nsw; i++) {
		if (sw[i].gpa >= gpa && sw[i].gpa < gpa + len) {
			sw[i].orig = buf[sw[i].gpa - gpa];
			*code_byte(sw[i].gpa) = INT3;
		}
	}
}
