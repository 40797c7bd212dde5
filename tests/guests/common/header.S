/* header.S — the multiboot header, one kind per build.  The same guest
 * sources become several images that differ only here (see guests.mk):
 *
 *   (no flag)              multiboot v1, the loader reads the ELF headers
 *   -DHEADER_AOUT          multiboot v1 with the a.out kludge (flags bit 16)
 *   -DHEADER_MB2           multiboot2, the loader reads the ELF headers
 *   -DHEADER_MB2 -DHEADER_AOUT   multiboot2 with address and entry tags
 *
 * The kludge kinds are booted as flat binaries (objcopy -O binary) with no
 * ELF headers at all, so a loader can only use the addresses given here.
 * C code reads multiboot_header[0] to learn which protocol to expect. */

#define MB1_HEADER_MAGIC	0x1BADB002
#define MB1_PAGE_ALIGN		(1 << 0)	/* modules on page boundaries */
#define MB1_MEMORY_INFO		(1 << 1)	/* mem_lower/upper, and the mmap if any */
#define MB1_AOUT_KLUDGE		(1 << 16)	/* load by the address fields below */

#define MB2_HEADER_MAGIC	0xE85250D6
#define MB2_ARCH_I386		0
#define MB2_TAG_END		0
#define MB2_TAG_INFO_REQUEST	1
#define MB2_TAG_ADDRESS		2
#define MB2_TAG_ENTRY_ADDRESS	3
#define MB2_TAG_MODULE_ALIGN	6
#define MB2_INFO_CMDLINE	1
#define MB2_INFO_MMAP		6

	.section .multiboot, "a"
#ifdef HEADER_AOUT
	/* Bytes ahead of the header: the file's first byte is load_addr, not
	 * header_addr, and a loader must work that out (Multiboot 0.6.96
	 * §3.1.3: offset = header offset - (header_addr - load_addr)). */
	.ascii "vmxdbg test guest, kludge image "
#endif
	.balign 8
	.globl multiboot_header
multiboot_header:
#ifndef HEADER_MB2
#ifdef HEADER_AOUT
#define MB1_FLAGS (MB1_PAGE_ALIGN | MB1_MEMORY_INFO | MB1_AOUT_KLUDGE)
#else
#define MB1_FLAGS (MB1_PAGE_ALIGN | MB1_MEMORY_INFO)
#endif
	/* Multiboot 0.6.96 §3.1.1 */
	.long MB1_HEADER_MAGIC
	.long MB1_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_FLAGS)
#ifdef HEADER_AOUT
	.long multiboot_header	/* header_addr */
	.long _image_start	/* load_addr: the file's first byte */
	.long _load_end		/* load_end_addr: end of .data */
	.long _image_end	/* bss_end_addr: .bss and the stack, zeroed */
	.long _start		/* entry_addr */
#endif
#else
	/* Multiboot2 §3.1.1: magic, architecture, header length, checksum */
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - multiboot_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - multiboot_header))
	/* §3.1.4: GRUB refuses to boot rather than leave these out */
	.balign 8
	.short MB2_TAG_INFO_REQUEST, 0
	.long 16
	.long MB2_INFO_CMDLINE, MB2_INFO_MMAP
#ifdef HEADER_AOUT
	/* §3.1.5, §3.1.6: the same fields as v1's kludge */
	.balign 8
	.short MB2_TAG_ADDRESS, 0
	.long 24
	.long multiboot_header, _image_start, _load_end, _image_end
	.balign 8
	.short MB2_TAG_ENTRY_ADDRESS, 0
	.long 12
	.long _start
#endif
	/* §3.1.11: modules on page boundaries */
	.balign 8
	.short MB2_TAG_MODULE_ALIGN, 0
	.long 8
	.balign 8
	.short MB2_TAG_END, 0
	.long 8
mb2_header_end:
#endif

	.section .note.GNU-stack, "", @progbits
