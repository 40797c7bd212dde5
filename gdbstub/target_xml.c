/* target_xml.c — the target description gdb reads with
 * qXfer:features:read:target.xml, generated from the connection's register
 * view (regs.c) so the numbers in it are the numbers of `g` and `p`.
 *
 * Features: org.gnu.gdb.i386.core, .sse and .segments are gdb's own names,
 * with the registers and types gdb's i386 and amd64 code require (i386_eflags and
 * i386_mxcsr flags, the vec128 union; i387_ext, code_ptr and data_ptr are
 * predefined).  The control registers have no standard feature: gdb takes
 * any other feature name and shows its registers as extra ones, so they
 * live in org.vmxdbg.system, with flag types that spell out the bits
 * (`info registers cr0` prints [ PE MP ET NE WP AM PG ]). */
#include "stub.h"

#include <stdarg.h>

#include "platform/fmt.h"

struct flag {
	const char *name;
	uint8_t bit;
};

struct flags_type {
	const char *id;
	unsigned size;		/* bytes */
	const struct flag *fields;
	unsigned count;
	uint8_t feature;
};

/* SDM Vol. 1 §3.4.3 (EFLAGS), §10.2.3 (MXCSR); Vol. 3A §2.5 (CR0, CR4), §2.2.1 (EFER). */
static const struct flag eflags_bits[] = {
	{ "CF", 0 }, { "", 1 }, { "PF", 2 }, { "AF", 4 }, { "ZF", 6 }, { "SF", 7 }, { "TF", 8 },
	{ "IF", 9 }, { "DF", 10 }, { "OF", 11 }, { "NT", 14 }, { "RF", 16 }, { "VM", 17 },
	{ "AC", 18 }, { "VIF", 19 }, { "VIP", 20 }, { "ID", 21 },
};
static const struct flag mxcsr_bits[] = {
	{ "IE", 0 }, { "DE", 1 }, { "ZE", 2 }, { "OE", 3 }, { "UE", 4 }, { "PE", 5 }, { "DAZ", 6 },
	{ "IM", 7 }, { "DM", 8 }, { "ZM", 9 }, { "OM", 10 }, { "UM", 11 }, { "PM", 12 }, { "FZ", 15 },
};
static const struct flag cr0_bits[] = {
	{ "PE", 0 }, { "MP", 1 }, { "EM", 2 }, { "TS", 3 }, { "ET", 4 }, { "NE", 5 }, { "WP", 16 },
	{ "AM", 18 }, { "NW", 29 }, { "CD", 30 }, { "PG", 31 },
};
static const struct flag cr4_bits[] = {
	{ "VME", 0 }, { "PVI", 1 }, { "TSD", 2 }, { "DE", 3 }, { "PSE", 4 }, { "PAE", 5 },
	{ "MCE", 6 }, { "PGE", 7 }, { "PCE", 8 }, { "OSFXSR", 9 }, { "OSXMMEXCPT", 10 },
	{ "UMIP", 11 }, { "LA57", 12 }, { "VMXE", 13 }, { "SMXE", 14 }, { "FSGSBASE", 16 },
	{ "PCIDE", 17 }, { "OSXSAVE", 18 }, { "SMEP", 20 }, { "SMAP", 21 }, { "PKE", 22 },
};
static const struct flag efer_bits[] = {
	{ "SCE", 0 }, { "LME", 8 }, { "LMA", 10 }, { "NXE", 11 },
};

#define FLAGS(id, size, bits, feat) { id, size, bits, sizeof(bits) / sizeof(bits[0]), feat }
static const struct flags_type flag_types[] = {
	FLAGS("i386_eflags", 4, eflags_bits, GDB_FEAT_CORE),
	FLAGS("i386_mxcsr", 4, mxcsr_bits, GDB_FEAT_SSE),
	FLAGS("vmxdbg_cr0", 8, cr0_bits, GDB_FEAT_SYSTEM),
	FLAGS("vmxdbg_cr4", 8, cr4_bits, GDB_FEAT_SYSTEM),
	FLAGS("vmxdbg_efer", 8, efer_bits, GDB_FEAT_SYSTEM),
};

static const char *const feature_names[GDB_FEAT_COUNT] = {
	[GDB_FEAT_CORE] = "org.gnu.gdb.i386.core",
	[GDB_FEAT_SSE] = "org.gnu.gdb.i386.sse",
	[GDB_FEAT_SEGMENTS] = "org.gnu.gdb.i386.segments",
	[GDB_FEAT_SYSTEM] = "org.vmxdbg.system",
};

/* The views gdb's own SSE description gives an XMM register. */
static const char vec128_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/>"
	"</union>";

#define XML_MAX 12288
static char xml[XML_MAX];
static size_t xml_len;
static bool xml_overflow;
static const struct gdb_view *xml_view;	/* what xml[] describes */

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(xml + xml_len, XML_MAX - xml_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= XML_MAX - xml_len)
		xml_overflow = true;
	else
		xml_len += (size_t)n;
}

static void add_types(unsigned feature)
{
	if (feature == GDB_FEAT_SSE)
		add("%s", vec128_types);
	for (unsigned t = 0; t < sizeof(flag_types) / sizeof(flag_types[0]); t++) {
		const struct flags_type *f = &flag_types[t];
		if (f->feature != feature)
			continue;
		add("<flags id=\"%s\" size=\"%u\">", f->id, f->size);
		for (unsigned i = 0; i < f->count; i++)
			add("<field name=\"%s\" start=\"%u\" end=\"%u\"/>", f->fields[i].name,
			    f->fields[i].bit, f->fields[i].bit);
		add("</flags>");
	}
}

/* A feature the view has no register of is left out (i386: segments). */
static void add_feature(const struct gdb_view *view, unsigned feature)
{
	unsigned n = 0;
	while (n < view->count && view->regs[n].feature != feature)
		n++;
	if (n == view->count)
		return;
	add("<feature name=\"%s\">", feature_names[feature]);
	add_types(feature);
	for (; n < view->count; n++) {
		const struct gdb_reg *r = &view->regs[n];
		if (r->feature != feature)
			continue;
		add("<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"", r->name, r->bits,
		    r->type, n);
		if (r->group)
			add(" group=\"%s\"", r->group);
		add("/>");
	}
	add("</feature>");
}

static void build(const struct gdb_view *view)
{
	xml_len = 0;
	xml_overflow = false;
	add("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
	    "<target version=\"1.0\"><architecture>%s</architecture>", view->arch);
	for (unsigned f = 0; f < GDB_FEAT_COUNT; f++)
		add_feature(view, f);
	add("</target>");
	xml_view = view;
}

/* Built when asked for another view than last time: a connection reads
 * one view's document in pieces, so that is once per connection at most. */
const char *gdb_target_xml(const struct gdb_view *view, size_t *len)
{
	if (xml_view != view)
		build(view);
	*len = xml_overflow ? 0 : xml_len;
	return xml_overflow ? NULL : xml;
}
