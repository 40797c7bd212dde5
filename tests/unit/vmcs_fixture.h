/* vmcs_fixture.h — a VMCS that passes every VM-entry check, as a list of
 * (encoding, value) behind a struct vmcs_reader, and the capabilities of
 * Bochs' corei7_skylake_x: what the entry checker's and the write policy's
 * tests start from. */
#ifndef TESTS_UNIT_VMCS_FIXTURE_H
#define TESTS_UNIT_VMCS_FIXTURE_H

#include <stdint.h>

#include "hv/entry_check.h"
#include "hv/vmcs_table.h"

extern const struct vmx_caps_raw skylake_x;
extern const struct vmcs_reader reader;

/* The TRUE MSRs' must-be-1 bits, which every control field starts from. */
#define PIN_DEFAULT1 0x00000016u
#define PROC_DEFAULT1 0x04006172u
#define EXIT_DEFAULT1 0x00036dfbu
#define ENTRY_DEFAULT1 0x000011fbu

/* Sets a field (adding it: absent fields read as unsupported); reads one (0 if absent). */
void set(uint32_t enc, uint64_t val);
uint64_t get(uint32_t enc);

/* One segment register's four fields. */
void set_segment(uint32_t sel_f, uint32_t base_f, uint32_t limit_f, uint32_t ar_f,
			uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar);
#define SEGMENT(r, sel, base, limit, ar) \
	set_segment(GUEST_##r##_SELECTOR, GUEST_##r##_BASE, GUEST_##r##_LIMIT, GUEST_##r##_ACCESS_RIGHTS, \
		    sel, base, limit, ar)

/* cmocka setups: a 64-bit guest at CPL 0, paging on, FS/GS/LDTR unusable;
 * a 32-bit protected-mode guest with paging off, legal only unrestricted. */
int baseline_64bit(void **state);
int baseline_32bit_unrestricted(void **state);

#endif
