/* apic_mmio_decode.h — decodes the one instruction that wrote a guest's
 * local-APIC page, so the hypervisor can emulate the store after an EPT
 * write violation (issue 11: the software INIT/SIPI path).  An EPT
 * violation reports no instruction length (SDM Vol. 3C §28.2.5: the field is
 * defined for instruction exits only), so the length decoded here is what
 * advances RIP.
 *
 * Accepted: the 32-bit stores compilers emit for an MMIO register —
 *   89 /r      mov r/m32, r32
 *   C7 /0 id   mov r/m32, imm32
 *   87 /r      xchg r/m32, r32 (Linux's native_apic_mem_write on 11AP parts)
 *   A3 moffs   mov moffs, eAX (gcc -O2's store to a constant address, -m32
 *              and -m64 alike: `movabs %eax, 0xfee00300` in 64-bit code)
 * and the two 32-bit loads, for APIC-access read exits (apic_virtual.c):
 *   8B /r      mov r32, r/m32
 *   A1 moffs   mov eAX, moffs
 * with legacy prefixes (segment overrides, 66, 67, F0, F2/F3), REX in 64-bit
 * mode, and every ModRM/SIB/displacement form of 16-, 32- and 64-bit
 * addressing, RIP-relative included (SDM Vol. 2A §2.1-2.2).
 * Refused, with a code and a sentence: 8/16/64-bit stores, string stores,
 * register operands, other opcodes, more than 15 bytes, truncated input.
 * Pure logic: compiled into the image and into tests/unit. */
#ifndef HV_APIC_MMIO_DECODE_H
#define HV_APIC_MMIO_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define X86_MAX_INSN 15		/* SDM Vol. 2A §2.3.11: longer raises #GP */

/* The code segment's default operand and address size (guest_code_bits in
 * guest_mode.h gives it from the VMCS). */
enum code_bits { CODE_16 = 16, CODE_32 = 32, CODE_64 = 64 };

enum apic_decode_error {
	DECODE_TRUNCATED = -1,		/* the bytes end inside the instruction */
	DECODE_TOO_LONG = -2,		/* more than 15 bytes of prefixes and instruction */
	DECODE_UNKNOWN_OPCODE = -3,	/* not one of the three stores */
	DECODE_NARROW = -4,		/* an 8- or 16-bit store */
	DECODE_WIDE = -5,		/* REX.W: a 64-bit store */
	DECODE_STRING = -6,		/* MOVS/STOS */
	DECODE_REGISTER_OPERAND = -7,	/* ModRM.mod = 11: no memory is written */
};

struct apic_mmio_store {
	uint32_t value;		/* what the instruction stores */
	unsigned width;		/* in bits: always 32 when decoding succeeds */
	unsigned len;		/* bytes, prefixes included */
	int xchg_reg;		/* 87 /r: the register that receives the old value (0-15); else -1 */
	int load_reg;		/* 8B /r, A1: a load into this register (0-15), value 0; else -1 */
};

/* bytes: n (at most X86_MAX_INSN are looked at) bytes from guest RIP;
 * gprs: the guest's registers in the SDM's numbering (0 RAX .. 15 R15,
 * RSP included).  0 and *out filled, or an apic_decode_error. */
int apic_mmio_decode(const uint8_t *bytes, size_t n, enum code_bits bits, const uint64_t gprs[16],
		     struct apic_mmio_store *out);

/* One sentence for an apic_decode_error. */
const char *apic_mmio_decode_strerror(int err);

#endif
