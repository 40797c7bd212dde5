/* vmcs_table.c — look-ups over the VMCS field, exit-reason and
 * VM-instruction-error tables, and "did you mean" help for mistyped names. */
#include "vmcs_table.h"

#include "platform/fmt.h"

static const struct vmcs_field_info fields[] = {
#define VMCS_FIELD(name, encoding, width, group) \
	{ #name, (encoding), VMCS_WIDTH_##width, VMCS_GROUP_##group },
#include "vmcs_fields.def"
#undef VMCS_FIELD
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

struct described {
	const char *name;
	const char *text;
};

/* Indexed by number; unassigned numbers stay { NULL, NULL }. */
static const struct described exit_reasons[EXIT_REASON_LIMIT] = {
#define EXIT_REASON(name, number, description) [number] = { #name, description },
#include "exit_reasons.def"
#undef EXIT_REASON
};

static const struct described vm_errors[] = {
#define VM_INSTRUCTION_ERROR(number, name, meaning) [number] = { #name, meaning },
#include "vm_instruction_errors.def"
#undef VM_INSTRUCTION_ERROR
};

#define VM_ERROR_LIMIT (sizeof(vm_errors) / sizeof(vm_errors[0]))

/* Longest name the suggestion code compares; longer input matches nothing. */
#define NAME_MAX_LEN 63

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_equal(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static bool name_starts_with(const char *s, const char *prefix)
{
	while (*prefix && lower(*s) == lower(*prefix)) {
		s++;
		prefix++;
	}
	return *prefix == '\0';
}

static bool name_contains(const char *s, const char *part)
{
	for (; *s; s++)
		if (name_starts_with(s, part))
			return true;
	return false;
}

static size_t name_length(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;
	return m < c ? m : c;
}

/* Case-insensitive edit distance counting a swap of two neighbours as one
 * edit (optimal string alignment); both strings at most NAME_MAX_LEN long. */
static unsigned name_distance(const char *a, const char *b)
{
	unsigned rows[3][NAME_MAX_LEN + 2];
	size_t la = name_length(a), lb = name_length(b);
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) != lower(b[j - 1]);
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

enum { NO_MATCH = -1, MATCH_PREFIX = 3, MATCH_CONTAINS = 4 };

/* Lower is closer: 0-2 edits, then prefix, then substring. Short names get
 * one edit at most, or every three-letter name would look alike. */
static int match_score(const char *query, const char *name)
{
	size_t ql = name_length(query);

	if (ql == 0 || ql > NAME_MAX_LEN || name_length(name) > NAME_MAX_LEN)
		return NO_MATCH;
	unsigned d = name_distance(query, name);
	if (d <= (ql <= 4 ? 1u : 2u))
		return (int)d;
	if (ql >= 3 && name_starts_with(name, query))
		return MATCH_PREFIX;
	if (ql >= 3 && name_contains(name, query))
		return MATCH_CONTAINS;
	return NO_MATCH;
}

/* Ranks candidates 0..count-1 (skipping NULL names) by score, stable in
 * table order; writes the indexes of the best max of them to out. */
static size_t suggest(const char *query, const char *(*name_at)(size_t), size_t count,
		      size_t *out, int *scores, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		const char *name = name_at(i);
		int s = name ? match_score(query, name) : NO_MATCH;
		if (s == NO_MATCH || (n == max && s >= scores[n - 1]))
			continue;
		size_t k = n < max ? n++ : n - 1;
		while (k > 0 && scores[k - 1] > s) {
			scores[k] = scores[k - 1];
			out[k] = out[k - 1];
			k--;
		}
		scores[k] = s;
		out[k] = i;
	}
	return n;
}

/* "unknown <what> "<typed>"; did you mean A, B or C?", naming only the
 * candidates that share the best score for query (typed, maybe trimmed). */
static int unknown_message(char *buf, size_t n, const char *what, const char *typed,
			   const char *query, const char *(*name_at)(size_t), size_t count)
{
	size_t idx[3];
	int scores[3];
	size_t found = suggest(query, name_at, count, idx, scores, 3);
	size_t best = 0;
	size_t len = (size_t)ksnprintf(buf, n, "unknown %s \"%.*s\"", what, NAME_MAX_LEN, typed);

	while (best < found && scores[best] == scores[0])
		best++;
	for (size_t i = 0; i < best; i++) {
		const char *sep = i == 0 ? "; did you mean " : i + 1 == best ? " or " : ", ";
		len += (size_t)ksnprintf(len < n ? buf + len : NULL, len < n ? n - len : 0,
					 "%s%s", sep, name_at(idx[i]));
	}
	if (best)
		len += (size_t)ksnprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "?");
	return (int)len;
}

size_t vmcs_field_count(void)
{
	return FIELD_COUNT;
}

const struct vmcs_field_info *vmcs_field_at(size_t i)
{
	return i < FIELD_COUNT ? &fields[i] : NULL;
}

const struct vmcs_field_info *vmcs_field_by_name(const char *name)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (name_equal(fields[i].name, name))
			return &fields[i];
	return NULL;
}

const struct vmcs_field_info *vmcs_field_by_encoding(uint32_t encoding)
{
	if (!vmcs_enc_well_formed(encoding))
		return NULL;
	uint32_t full = encoding & ~VMCS_ENC_ACCESS_HIGH;
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (fields[i].encoding == full)
			return &fields[i];
	return NULL;
}

static const char *field_name_at(size_t i)
{
	return fields[i].name;
}

size_t vmcs_field_suggest(const char *name, const struct vmcs_field_info **out, size_t max)
{
	size_t idx[VMCS_SUGGEST_MAX];
	int scores[VMCS_SUGGEST_MAX];

	if (max > VMCS_SUGGEST_MAX)
		max = VMCS_SUGGEST_MAX;
	size_t n = max ? suggest(name, field_name_at, FIELD_COUNT, idx, scores, max) : 0;
	for (size_t i = 0; i < n; i++)
		out[i] = &fields[idx[i]];
	return n;
}

int vmcs_field_unknown_message(char *buf, size_t n, const char *name)
{
	return unknown_message(buf, n, "VMCS field", name, name, field_name_at, FIELD_COUNT);
}

unsigned vmcs_width_bits(enum vmcs_width width)
{
	switch (width) {
	case VMCS_WIDTH_16: return 16;
	case VMCS_WIDTH_32: return 32;
	case VMCS_WIDTH_64:
	case VMCS_WIDTH_NATURAL: return 64;
	}
	return 0;
}

bool vmcs_access_write(uint32_t enc, uint64_t full, uint64_t value, uint64_t *new_full)
{
	unsigned bits = vmcs_enc_is_high(enc) ? 32 : vmcs_width_bits(vmcs_enc_width(enc));

	if (bits < 64 && value >> bits)
		return false;
	*new_full = vmcs_enc_is_high(enc) ? (full & 0xffffffffull) | value << 32 : value;
	return true;
}

const char *vmcs_group_name(enum vmcs_group group)
{
	static const char *const names[] = { "control", "exit-info", "guest", "host" };
	return (unsigned)group < 4 ? names[group] : NULL;
}

const char *exit_reason_name(unsigned basic)
{
	return basic < EXIT_REASON_LIMIT ? exit_reasons[basic].name : NULL;
}

const char *exit_reason_description(unsigned basic)
{
	return basic < EXIT_REASON_LIMIT ? exit_reasons[basic].text : NULL;
}

static const char *strip_exit_reason_prefix(const char *name)
{
	static const char prefix[] = "EXIT_REASON_";
	return name_starts_with(name, prefix) ? name + sizeof(prefix) - 1 : name;
}

int exit_reason_by_name(const char *name)
{
	name = strip_exit_reason_prefix(name);
	for (unsigned i = 0; i < EXIT_REASON_LIMIT; i++)
		if (exit_reasons[i].name && name_equal(exit_reasons[i].name, name))
			return (int)i;
	return -1;
}

static const char *exit_name_at(size_t i)
{
	return exit_reasons[i].name;
}

size_t exit_reason_suggest(const char *name, unsigned *out, size_t max)
{
	size_t idx[VMCS_SUGGEST_MAX];
	int scores[VMCS_SUGGEST_MAX];

	if (max > VMCS_SUGGEST_MAX)
		max = VMCS_SUGGEST_MAX;
	name = strip_exit_reason_prefix(name);
	size_t n = max ? suggest(name, exit_name_at, EXIT_REASON_LIMIT, idx, scores, max) : 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned)idx[i];
	return n;
}

int exit_reason_unknown_message(char *buf, size_t n, const char *name)
{
	return unknown_message(buf, n, "exit reason", name, strip_exit_reason_prefix(name),
			       exit_name_at, EXIT_REASON_LIMIT);
}

const char *vm_instruction_error_name(unsigned number)
{
	return number < VM_ERROR_LIMIT ? vm_errors[number].name : NULL;
}

const char *vm_instruction_error_text(unsigned number)
{
	return number < VM_ERROR_LIMIT ? vm_errors[number].text : NULL;
}
