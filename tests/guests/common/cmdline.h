/* cmdline.h — "key=value" words of the multiboot command line.
 *
 * Words are separated by spaces; the first word (the image's path, from
 * GRUB and QEMU) has no '=' and is never a match.  A key may appear more
 * than once. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX	512

struct cmdline_value {
	const char *text;	/* not NUL-terminated */
	size_t len;
};

/* Copies the line (truncated to CMDLINE_MAX - 1 bytes). */
void cmdline_init(const char *line);
const char *cmdline_text(void);
/* Finds the next "key=" word after *cursor (start with *cursor = NULL). */
bool cmdline_next(const char *key, const char **cursor, struct cmdline_value *out);
bool cmdline_find(const char *key, struct cmdline_value *out);
/* True if a "key=a,b,c" word lists item. */
bool cmdline_lists(const char *key, const char *item);
/* True if the line has this word, exactly (a flag without '='). */
bool cmdline_has(const char *word);

/* Decimal, or hexadecimal after "0x"; the whole span must be a number that fits. */
bool parse_u32(const char *s, size_t len, uint32_t *out);
/* Splits "a:b" at the first sep into head and rest (rest empty if none). */
void split_at(struct cmdline_value v, char sep, struct cmdline_value *head, struct cmdline_value *rest);
bool value_is(struct cmdline_value v, const char *s);

#endif
