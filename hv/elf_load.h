/* elf_load.h — loading an ELF32/ELF64 executable's PT_LOAD segments into
 * guest memory.  Pure: the destination comes from a callback, so the host
 * tests load into a buffer. */
#ifndef HV_ELF_LOAD_H
#define HV_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

/* A host pointer for guest-physical [gpa, gpa+len), or NULL if the guest
 * has no RAM there. */
typedef void *(*guest_dest_fn)(uint64_t gpa, uint64_t len);

struct elf_image {
	uint64_t entry;
	uint64_t load_start, load_end;	/* guest-physical extent of the segments */
	int elf_class;			/* 32 or 64 */
};

/* Loads by physical address (p_paddr, as multiboot loaders do).  0, or
 * -EINVAL with a one-line reason in err.  With dest NULL it only checks the
 * image and fills *out: where the segments would go. */
int elf_load(const void *image, size_t len, guest_dest_fn dest, struct elf_image *out,
	     char *err, size_t errlen);

#endif
