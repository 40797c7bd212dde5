/* check_int80.c — a software interrupt to a handler of our own that
 * computes a result from EAX and EBX and returns it in EAX, as a system
 * call would (SDM Vol. 2A, "INT n"). */
#include "checks.h"
#include "report.h"
#include "trap.h"

#define SYSCALL_VECTOR	0x80

static uint32_t calls;

static uint32_t syscall_result(uint32_t eax, uint32_t ebx)
{
	return eax * 3 + ebx;
}

static void syscall_handler(struct trap_frame *f)
{
	calls++;
	f->eax = syscall_result(f->eax, f->ebx);
}

static uint32_t int80(uint32_t eax, uint32_t ebx)
{
	__asm__ volatile("int $0x80" : "+a"(eax) : "b"(ebx) : "memory");
	return eax;
}

void check_int80(void)
{
	static const uint32_t args[][2] = { { 0x1234, 7 }, { 0, 0 }, { 0xffffffffu, 0x55aa55aau } };
	const unsigned n = sizeof(args) / sizeof(args[0]);

	trap_set_handler(SYSCALL_VECTOR, syscall_handler);
	calls = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t got = int80(args[i][0], args[i][1]);
		uint32_t want = syscall_result(args[i][0], args[i][1]);
		if (got != want) {
			report_fail("int-0x80", "eax=0x%x ebx=0x%x returned 0x%x, want 0x%x",
				    args[i][0], args[i][1], got, want);
			trap_set_handler(SYSCALL_VECTOR, 0);
			return;
		}
	}
	trap_set_handler(SYSCALL_VECTOR, 0);
	report_expect("int-0x80", calls == n, "handler ran %u times for %u INT 0x80", calls, n);
}
