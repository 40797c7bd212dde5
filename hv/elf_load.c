/* elf_load.c — ELF program headers (System V gABI ch. 5), every offset and
 * size checked against the image: a guest image is untrusted input. */
#include "elf_load.h"

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

#define PT_LOAD 1
#define EM_386 3
#define EM_X86_64 62

struct segment {
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static int fail(char *err, size_t errlen, const char *msg)
{
	ksnprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

static uint64_t rd(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}

/* Reads program header i into *s, for either class. */
static void read_phdr(const uint8_t *ph, int cls, struct segment *s, uint32_t *type)
{
	*type = (uint32_t)rd(ph, 4);
	if (cls == 64) {
		s->offset = rd(ph + 8, 8);
		s->vaddr = rd(ph + 16, 8);
		s->paddr = rd(ph + 24, 8);
		s->filesz = rd(ph + 32, 8);
		s->memsz = rd(ph + 40, 8);
	} else {
		s->offset = rd(ph + 4, 4);
		s->vaddr = rd(ph + 8, 4);
		s->paddr = rd(ph + 12, 4);
		s->filesz = rd(ph + 16, 4);
		s->memsz = rd(ph + 20, 4);
	}
}

static int load_segment(const uint8_t *img, size_t len, const struct segment *s, guest_dest_fn dest,
			char *err, size_t errlen)
{
	if (s->filesz > s->memsz || s->offset > len || s->filesz > len - s->offset)
		return fail(err, errlen, "a segment lies outside the file");
	if (s->paddr + s->memsz < s->paddr)
		return fail(err, errlen, "a segment wraps around the address space");
	if (!dest)
		return 0;
	uint8_t *d = dest(s->paddr, s->memsz);
	if (!d) {
		ksnprintf(err, errlen, "segment at 0x%llx (+0x%llx) is not in guest RAM",
			  (unsigned long long)s->paddr, (unsigned long long)s->memsz);
		return -EINVAL;
	}
	memcpy(d, img + s->offset, s->filesz);
	memset(d + s->filesz, 0, s->memsz - s->filesz);
	return 0;
}

int elf_load(const void *image, size_t len, guest_dest_fn dest, struct elf_image *out,
	     char *err, size_t errlen)
{
	const uint8_t *img = image;
	if (len < 52 || memcmp(img, "\x7f" "ELF", 4))
		return fail(err, errlen, "not an ELF file");
	int cls = img[4] == 2 ? 64 : img[4] == 1 ? 32 : 0;
	if (!cls || img[5] != 1)
		return fail(err, errlen, "not a little-endian ELF32/ELF64 file");
	if (cls == 64 && len < 64)
		return fail(err, errlen, "truncated ELF header");
	uint16_t machine = (uint16_t)rd(img + 18, 2);
	if (machine != (cls == 64 ? EM_X86_64 : EM_386))
		return fail(err, errlen, "not an x86 executable");

	uint64_t phoff = cls == 64 ? rd(img + 32, 8) : rd(img + 28, 4);
	unsigned phentsize = (unsigned)rd(img + (cls == 64 ? 54 : 42), 2);
	unsigned phnum = (unsigned)rd(img + (cls == 64 ? 56 : 44), 2);
	if (phentsize < (cls == 64 ? 56u : 32u) || phnum == 0 || phoff > len ||
	    (uint64_t)phentsize * phnum > len - phoff)
		return fail(err, errlen, "program headers lie outside the file");

	*out = (struct elf_image){ .entry = cls == 64 ? rd(img + 24, 8) : rd(img + 24, 4),
				   .load_start = UINT64_MAX, .elf_class = cls };
	for (unsigned i = 0; i < phnum; i++) {
		struct segment s;
		uint32_t type;
		read_phdr(img + phoff + (uint64_t)i * phentsize, cls, &s, &type);
		if (type != PT_LOAD || s.memsz == 0)
			continue;
		int rc = load_segment(img, len, &s, dest, err, errlen);
		if (rc)
			return rc;
		/* A kernel linked high with AT() load addresses names its entry
		 * virtually: translate it through its segment, as GRUB does. */
		if (s.vaddr != s.paddr && out->entry >= s.vaddr && out->entry - s.vaddr < s.memsz)
			out->entry = out->entry - s.vaddr + s.paddr;
		out->load_start = s.paddr < out->load_start ? s.paddr : out->load_start;
		out->load_end = s.paddr + s.memsz > out->load_end ? s.paddr + s.memsz : out->load_end;
	}
	if (out->load_start == UINT64_MAX)
		return fail(err, errlen, "no loadable segment");
	return 0;
}
