/* selfsum_page.S — one page of code that the guest checksums (selfsum.c)
 * while a debugger breaks in it: a hidden breakpoint's int3 must never
 * show in what the guest reads (issue 13).  The page holds nothing else,
 * so the guest's other code never runs on it; asm, so the bench loops'
 * instruction counts stay put from build to build (bench.c). */
	.section .text.selfsum, "ax"
	.balign 4096
	.globl selfsum_page
selfsum_page:

/* uint32_t selfsum_target(uint32_t x): x * 0x9e3779b1 + 1 — where the
 * tests put their breakpoint. */
	.globl selfsum_target
selfsum_target:
	movl 4(%esp), %eax
	imull $0x9e3779b1, %eax, %eax
	incl %eax
	ret

/* void selfsum_other(void): runs on the page without a breakpoint (the
 * read bench's fetch after each read). */
	.globl selfsum_other
selfsum_other:
	ret

/* uint32_t selfsum_near(void): the page's dwords, rotated and added, read
 * by code on the page itself (an instruction that both runs from the page
 * and reads it). */
	.globl selfsum_near
selfsum_near:
	pushl %esi
	xorl %eax, %eax
	movl $selfsum_page, %esi
	movl $1024, %ecx
1:	roll $1, %eax
	addl (%esi), %eax
	addl $4, %esi
	decl %ecx
	jnz 1b
	popl %esi
	ret

	.balign 4096, 0xcc	/* the rest of the page: int3s the guest never runs */

	.section .note.GNU-stack, "", @progbits
