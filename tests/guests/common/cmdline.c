/* cmdline.c — a private copy of the command line, and word lookup in it. */
#include "cmdline.h"
#include "kstring.h"

static char line_copy[CMDLINE_MAX];

void cmdline_init(const char *line)
{
	size_t n = 0;
	while (line[n] && n < CMDLINE_MAX - 1) {
		line_copy[n] = line[n];
		n++;
	}
	line_copy[n] = '\0';
}

const char *cmdline_text(void)
{
	return line_copy;
}

bool cmdline_next(const char *key, const char **cursor, struct cmdline_value *out)
{
	size_t key_len = strlen(key);
	const char *p = *cursor ? *cursor : line_copy;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t word_len = (size_t)(p - word);
		if (word_len > key_len && word[key_len] == '=' && !memcmp(word, key, key_len)) {
			*out = (struct cmdline_value){ word + key_len + 1, word_len - key_len - 1 };
			*cursor = p;
			return true;
		}
	}
	*cursor = p;
	return false;
}

bool cmdline_find(const char *key, struct cmdline_value *out)
{
	const char *cursor = NULL;
	return cmdline_next(key, &cursor, out);
}

bool cmdline_lists(const char *key, const char *item)
{
	const char *cursor = NULL;
	struct cmdline_value list;
	while (cmdline_next(key, &cursor, &list)) {
		struct cmdline_value head;
		while (list.len) {
			split_at(list, ',', &head, &list);
			if (value_is(head, item))
				return true;
		}
	}
	return false;
}

bool cmdline_has(const char *word)
{
	size_t len = strlen(word);
	for (const char *p = line_copy; *p;) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - start) == len && len && !memcmp(start, word, len))
			return true;
	}
	return false;
}

bool parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint32_t base = 10, v = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return false;
		if (v > (0xffffffffu - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

void split_at(struct cmdline_value v, char sep, struct cmdline_value *head, struct cmdline_value *rest)
{
	size_t i = 0;
	while (i < v.len && v.text[i] != sep)
		i++;
	*head = (struct cmdline_value){ v.text, i };
	if (i < v.len)
		*rest = (struct cmdline_value){ v.text + i + 1, v.len - i - 1 };
	else
		*rest = (struct cmdline_value){ v.text + i, 0 };
}

bool value_is(struct cmdline_value v, const char *s)
{
	return strlen(s) == v.len && !memcmp(v.text, s, v.len);
}
