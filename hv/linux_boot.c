/* linux_boot.c — the low area where the Linux loaders put what they hand
 * the kernel (boot_params or hvm_start_info, the command line, the memory
 * map, an RSDP copy): a bump allocator over guest RAM. */
#include "linux_boot.h"

#include <stdarg.h>

#include "platform/errno.h"
#include "platform/fmt.h"
#include "platform/kstring.h"

void *linux_area_alloc(struct linux_boot *lb, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t at = (lb->area + align - 1) & ~(align - 1);
	if (at < lb->area || at > lb->area_end || size > lb->area_end - at)
		return NULL;
	void *p = lb->to(at, size);
	if (!p)
		return NULL;
	lb->area = at + size;
	*gpa = at;
	return memset(p, 0, size);
}

uint64_t linux_area_string(struct linux_boot *lb, const char *s)
{
	uint64_t gpa = 0;
	char *p = linux_area_alloc(lb, strlen(s) + 1, 1, &gpa);
	if (p)
		memcpy(p, s, strlen(s) + 1);
	return gpa;
}

uint64_t linux_area_rsdp(struct linux_boot *lb)
{
	uint64_t gpa = 0;
	void *p = lb->rsdp ? linux_area_alloc(lb, lb->rsdp_len, 16, &gpa) : NULL;
	if (p)
		memcpy(p, lb->rsdp, lb->rsdp_len);
	return gpa;
}

int linux_fail(struct linux_boot *lb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(lb->err, sizeof(lb->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}
