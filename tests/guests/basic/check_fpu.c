/* check_fpu.c — the guest's x87, SSE and AVX registers survive VM exits.
 * vmxdbg's Lua hooks do floating point in root mode; the hypervisor must
 * save the guest's state before any of it runs and restore it before VM
 * entry (issue 5, docs/design.md "Lua").  So: distinctive values in the eight
 * x87 registers, XMM0-7 and, where AVX can be enabled, the upper halves of
 * YMM0-7; a control word and MXCSR that are not the defaults; then CPUIDs,
 * each one a VM exit that runs the hooks; then everything read back.  The
 * FXSAVE image (SDM Vol. 1 §10.5.1) after the exits must hold the values
 * loaded and equal the image taken before them, item by item.  The guest
 * is built -mgeneral-regs-only, so every FPU, SSE and AVX access is inline
 * asm (and the compiler never touches those registers in between).
 * fpu-selftest-clobber zeroes XMM3 between load and compare, to show the
 * check can fail. */
#include "checks.h"
#include "cmdline.h"
#include "kstring.h"
#include "report.h"
#include "x86.h"

#define FPU_CPUIDS	16
#define FCW_TEST	0x0e7b	/* round toward zero, 53-bit precision, zero-divide unmasked */
#define MXCSR_TEST	0xed00	/* flush to zero, round toward zero; invalid, zero-divide, precision unmasked */
#define MXCSR_DEFAULT	0x1f80
#define XCR0_AVX	0x7	/* x87, SSE and AVX state (SDM Vol. 1 §13.3) */

#define CR0_MP		(1u << 1)
#define CR0_EM		(1u << 2)
#define CR0_TS		(1u << 3)
#define CR0_NE		(1u << 5)
#define CR4_OSXSAVE	(1u << 18)
#define CPUID_1_EDX_FXSR	(1u << 24)
#define CPUID_1_EDX_SSE		(1u << 25)
#define CPUID_1_ECX_XSAVE	(1u << 26)
#define CPUID_1_ECX_AVX		(1u << 28)

/* FXSAVE's layout in 32-bit mode: only XMM0-7 exist there. */
struct fxsave_area {
	uint16_t fcw, fsw;
	uint8_t ftw, reserved0;
	uint16_t fop;
	uint32_t fip, fcs, fdp, fds;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];	/* 80-bit values, 6 bytes of padding each */
	uint8_t xmm[8][16];
	uint8_t reserved[224];
} __attribute__((aligned(16)));

/* Per register 32 bytes: XMMn is the low 16, YMMn's upper half the rest. */
static uint8_t patterns[8][32] __attribute__((aligned(32)));
static uint8_t ymm_back[8][32] __attribute__((aligned(32)));
static struct fxsave_area before, after;

/* 80-bit values that need all 64 significand bits, little-endian:
 * significand, then sign and exponent.  Loaded last: ST2, ST1, ST0. */
static const uint8_t x87_constants[3][10] = {
	{ 0x0d, 0xf0, 0xfe, 0xca, 0xef, 0xbe, 0xad, 0xde, 0x05, 0x40 },	/* 0xdeadbeefcafef00d * 2^-57 */
	{ 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xff, 0xbf },	/* -(1 + 2^-63) */
	{ 0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40 },	/* pi, rounded up */
};

static void fill_patterns(void)
{
	uint32_t x = 0x6a09e667u;	/* any fixed seed: every byte distinct enough */
	for (unsigned r = 0; r < 8; r++)
		for (unsigned i = 0; i < 32; i++) {
			x = x * 1103515245u + 12345u;
			patterns[r][i] = (uint8_t)(x >> 16);
		}
}

static void load_x87(void)
{
	static const uint16_t fcw = FCW_TEST;
	__asm__ volatile("fninit\n\t"
			 "fldcw %0\n\t"
			 "fldpi\n\t"
			 "fld1\n\t"
			 "fldl2t\n\t"
			 "fldl2e\n\t"
			 "fldln2\n\t"
			 "fldt %1\n\t"
			 "fldt %2\n\t"
			 "fldt %3"
			 : : "m"(fcw), "m"(x87_constants[0]), "m"(x87_constants[1]), "m"(x87_constants[2])
			 : "memory");
}

static void load_mxcsr(uint32_t value)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(value));
}

/* Legacy SSE loads leave the YMM upper halves alone; VEX loads set them. */
static void load_vectors(bool avx)
{
	if (avx)
		__asm__ volatile("vmovups 0(%0), %%ymm0\n\tvmovups 32(%0), %%ymm1\n\t"
				 "vmovups 64(%0), %%ymm2\n\tvmovups 96(%0), %%ymm3\n\t"
				 "vmovups 128(%0), %%ymm4\n\tvmovups 160(%0), %%ymm5\n\t"
				 "vmovups 192(%0), %%ymm6\n\tvmovups 224(%0), %%ymm7"
				 : : "r"(patterns) : "memory");
	else
		__asm__ volatile("movups 0(%0), %%xmm0\n\tmovups 32(%0), %%xmm1\n\t"
				 "movups 64(%0), %%xmm2\n\tmovups 96(%0), %%xmm3\n\t"
				 "movups 128(%0), %%xmm4\n\tmovups 160(%0), %%xmm5\n\t"
				 "movups 192(%0), %%xmm6\n\tmovups 224(%0), %%xmm7"
				 : : "r"(patterns) : "memory");
}

static void store_ymm(void)
{
	__asm__ volatile("vmovups %%ymm0, 0(%0)\n\tvmovups %%ymm1, 32(%0)\n\t"
			 "vmovups %%ymm2, 64(%0)\n\tvmovups %%ymm3, 96(%0)\n\t"
			 "vmovups %%ymm4, 128(%0)\n\tvmovups %%ymm5, 160(%0)\n\t"
			 "vmovups %%ymm6, 192(%0)\n\tvmovups %%ymm7, 224(%0)"
			 : : "r"(ymm_back) : "memory");
}

static void fxsave(struct fxsave_area *a)
{
	__asm__ volatile("fxsave %0" : "=m"(*a));
}

/* Its own function, so a hook can tell these exits by RIP (nm gives the range). */
static __attribute__((noinline)) void fpu_cpuid_exits(void)
{
	for (int i = 0; i < FPU_CPUIDS; i++)
		(void)cpuid(0, 0);
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* AVX takes CR4.OSXSAVE and XCR0 bits 1-2 (SDM Vol. 1 §14.3), if the CPU
 * has them; *old_xcr0 is what to put back. */
static bool avx_enable(uint32_t cpuid1_ecx, uint64_t *old_xcr0)
{
	if (!(cpuid1_ecx & CPUID_1_ECX_XSAVE) || !(cpuid1_ecx & CPUID_1_ECX_AVX) || cpuid(0, 0).eax < 0xd)
		return false;
	if ((cpuid(0xd, 0).eax & XCR0_AVX) != XCR0_AVX)
		return false;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	*old_xcr0 = xgetbv0();
	xsetbv0(*old_xcr0 | XCR0_AVX);
	return true;
}

/* "0x" and the bytes, most significant first. */
static void hex(char *out, const void *bytes, unsigned n)
{
	const uint8_t *p = bytes;
	static const char digits[] = "0123456789abcdef";
	char *o = out;
	*o++ = '0';
	*o++ = 'x';
	while (n--) {
		*o++ = digits[p[n] >> 4];
		*o++ = digits[p[n] & 15];
	}
	*o = '\0';
}

struct verdict {
	unsigned checked, differ;
	char name[16];			/* the first item that differs */
	char got[36], want[36];		/* its values, in hex */
};

static void compare(struct verdict *v, const char *what, int index, const void *got, const void *want, unsigned n)
{
	v->checked++;
	if (!memcmp(got, want, n) || v->differ++)
		return;
	size_t len = strlen(what);
	memcpy(v->name, what, len);
	if (index >= 0)
		v->name[len++] = (char)('0' + index);
	v->name[len] = '\0';
	hex(v->got, got, n);
	hex(v->want, want, n);
}

/* FCS and FDS are left out: a hypervisor in long mode saves with the
 * 64-bit FXSAVE/XSAVE forms, which keep 64-bit FIP/FDP in their place, and
 * CPUs with CPUID.(EAX=7):EBX[13] store them as 0 anyway (SDM Vol. 1 §8.1.8). */
static void compare_all(struct verdict *v, bool avx)
{
	static const uint16_t fcw = FCW_TEST;
	static const uint32_t mxcsr = MXCSR_TEST;

	compare(v, "fcw", -1, &after.fcw, &fcw, 2);
	compare(v, "fsw", -1, &after.fsw, &before.fsw, 2);
	compare(v, "ftw", -1, &after.ftw, &before.ftw, 1);
	compare(v, "fop", -1, &after.fop, &before.fop, 2);
	compare(v, "fip", -1, &after.fip, &before.fip, 4);
	compare(v, "fdp", -1, &after.fdp, &before.fdp, 4);
	compare(v, "mxcsr", -1, &after.mxcsr, &mxcsr, 4);
	for (int i = 0; i < 8; i++)
		compare(v, "st", i, after.st[i], i < 3 ? x87_constants[2 - i] : before.st[i], 10);
	for (int i = 0; i < 8; i++)
		compare(v, "xmm", i, after.xmm[i], patterns[i], 16);
	if (avx)
		for (int i = 0; i < 8; i++)
			compare(v, "ymm-upper", i, ymm_back[i] + 16, patterns[i] + 16, 16);
}

void check_fpu(void)
{
	struct cpuid_regs l1 = cpuid(1, 0);
	if (!(l1.edx & CPUID_1_EDX_FXSR) || !(l1.edx & CPUID_1_EDX_SSE)) {
		report_info("fpu-kept", "no FXSAVE or SSE (CPUID.1:EDX=0x%08x): nothing to check", l1.edx);
		return;
	}
	uint32_t cr0 = read_cr0(), cr4 = read_cr4();
	uint64_t xcr0 = 0;
	write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
	write_cr0((cr0 & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	bool avx = avx_enable(l1.ecx, &xcr0);

	fill_patterns();
	load_x87();
	load_mxcsr(MXCSR_TEST);
	load_vectors(avx);
	fxsave(&before);
	fpu_cpuid_exits();
	if (cmdline_has("fpu-selftest-clobber"))
		__asm__ volatile("xorps %%xmm3, %%xmm3" ::: "memory");
	fxsave(&after);
	if (avx)
		store_ymm();

	__asm__ volatile("fninit");
	load_mxcsr(MXCSR_DEFAULT);
	if (avx)
		xsetbv0(xcr0);
	write_cr4(cr4);
	write_cr0(cr0);

	struct verdict v = { 0 };
	compare_all(&v, avx);
	report_info("fpu-kept", "FCW 0x%04x, MXCSR 0x%04x, ST0-7, XMM0-7%s across %d CPUIDs: %u items compared",
		    FCW_TEST, MXCSR_TEST, avx ? " and the upper halves of YMM0-7 (AVX)" : " (no AVX)",
		    FPU_CPUIDS, v.checked);
	report_expect("fpu-kept", v.differ == 0, "%s differs: got %s, want %s (%u of %u items differ)",
		      v.name, v.got, v.want, v.differ, v.checked);
}
