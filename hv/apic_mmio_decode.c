/* apic_mmio_decode.c — the MOV/XCHG stores to an APIC register, decoded
 * byte by byte in the SDM's order: prefixes, REX, opcode, ModRM, SIB,
 * displacement, immediate (SDM Vol. 2A §2.1 Figure 2-1, §2.2.1 for REX). */
#include "apic_mmio_decode.h"

#include <stdbool.h>

#define OP_MOV_STORE 0x89	/* mov r/m, r (16/32/64) */
#define OP_MOV_STORE8 0x88
#define OP_MOV_IMM 0xc7		/* mov r/m, imm (group 11, /0) */
#define OP_MOV_IMM8 0xc6
#define OP_XCHG 0x87
#define OP_XCHG8 0x86
#define OP_MOV_MOFFS 0xa3	/* mov moffs, eAX: gcc's store to a constant address */
#define OP_MOV_MOFFS8 0xa2
#define OP_MOV_LOAD 0x8b	/* mov r, r/m: a read (APIC-access exits, apic_virtual.c) */
#define OP_MOV_LOAD8 0x8a
#define OP_MOV_LOAD_MOFFS 0xa1	/* mov eAX, moffs */
#define OP_MOV_LOAD_MOFFS8 0xa0
#define REX_W 0x8
#define REX_R 0x4

struct cursor {
	const uint8_t *bytes;
	size_t n;	/* bytes available, at most X86_MAX_INSN */
	size_t at;	/* the next one to read */
};

/* The next k bytes little-endian, or an error: past 15 bytes the CPU
 * itself refuses the instruction; before that we ran out of input. */
static int take(struct cursor *c, unsigned k, uint32_t *v)
{
	if (c->at + k > X86_MAX_INSN)
		return DECODE_TOO_LONG;
	if (c->at + k > c->n)
		return DECODE_TRUNCATED;
	*v = 0;
	for (unsigned i = 0; i < k; i++)
		*v |= (uint32_t)c->bytes[c->at + i] << (8 * i);
	c->at += k;
	return 0;
}

/* Legacy prefixes (SDM Vol. 2A §2.1.1): lock/rep, segment overrides,
 * operand size, address size. */
static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

/* Skips the ModRM byte's memory operand: SIB and displacement by the
 * address size (SDM Vol. 2A Tables 2-1 and 2-2; 64-bit mode uses the 32-bit
 * forms, mod 00 r/m 101 meaning RIP+disp32, §2.2.1.6). */
static int skip_memory_operand(struct cursor *c, uint8_t modrm, unsigned addr_bits)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	uint32_t sib, disp;
	int rc;

	if (mod == 3)
		return DECODE_REGISTER_OPERAND;
	if (addr_bits == 16) {
		unsigned len = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
		return len ? take(c, len, &disp) : 0;
	}
	if (rm == 4) {
		if ((rc = take(c, 1, &sib)))
			return rc;
		if (mod == 0 && (sib & 7) == 5)
			return take(c, 4, &disp);	/* no base: disp32 */
	}
	if (mod == 1)
		return take(c, 1, &disp);
	if (mod == 2 || (mod == 0 && rm == 5))
		return take(c, 4, &disp);
	return 0;
}

int apic_mmio_decode(const uint8_t *bytes, size_t n, enum code_bits bits, const uint64_t gprs[16],
		     struct apic_mmio_store *out)
{
	struct cursor c = { bytes, n < X86_MAX_INSN ? n : X86_MAX_INSN, 0 };
	bool opsize = false, addrsize = false;
	uint8_t rex = 0;
	uint32_t op, modrm, imm;
	int rc;

	for (;;) {
		if ((rc = take(&c, 1, &op)))
			return rc;
		if (legacy_prefix((uint8_t)op)) {
			opsize |= op == 0x66;
			addrsize |= op == 0x67;
			rex = 0;	/* a REX followed by a legacy prefix is ignored (§2.2.1) */
		} else if (bits == CODE_64 && (op & 0xf0) == 0x40) {
			rex = (uint8_t)op;	/* of several, the last counts */
		} else {
			break;
		}
	}
	switch (op) {
	case OP_MOV_STORE: case OP_MOV_IMM: case OP_XCHG: case OP_MOV_MOFFS:
	case OP_MOV_LOAD: case OP_MOV_LOAD_MOFFS:
		break;
	case OP_MOV_STORE8: case OP_MOV_IMM8: case OP_XCHG8: case OP_MOV_MOFFS8:
	case OP_MOV_LOAD8: case OP_MOV_LOAD_MOFFS8:
		return DECODE_NARROW;
	case 0xa4: case 0xa5: case 0xaa: case 0xab:
		return DECODE_STRING;
	default:
		return DECODE_UNKNOWN_OPCODE;
	}
	modrm = 0;
	bool moffs = op == OP_MOV_MOFFS || op == OP_MOV_LOAD_MOFFS;
	if (!moffs && (rc = take(&c, 1, &modrm)))
		return rc;
	if (op == OP_MOV_IMM && ((modrm >> 3) & 7) != 0)
		return DECODE_UNKNOWN_OPCODE;	/* C7 /1-/7: not MOV (C7 F8 is XBEGIN) */
	if (rex & REX_W)
		return DECODE_WIDE;
	/* 16-bit code's default operand size is 16: 66 makes it 32; elsewhere
	 * 66 makes it 16 (Vol. 1 §3.6, Table 3-4). */
	if ((bits == CODE_16) == !opsize)
		return DECODE_NARROW;
	unsigned addr_bits = bits == CODE_64 ? (addrsize ? 32 : 64) :
			     (bits == CODE_32) != addrsize ? 32 : 16;
	if (moffs) {
		/* The offset is as wide as the address: 8 bytes in 64-bit
		 * mode (gcc's movabs), 4 or 2 elsewhere (Vol. 2B MOV, A3). */
		uint32_t part;
		for (unsigned left = addr_bits / 8; left; left -= left > 4 ? 4 : left)
			if ((rc = take(&c, left > 4 ? 4 : left, &part)))
				return rc;
		rex &= (uint8_t)~REX_R;	/* the register is eAX whatever REX says */
	} else if ((rc = skip_memory_operand(&c, (uint8_t)modrm, addr_bits))) {
		return rc;
	}

	unsigned reg = ((rex & REX_R) ? 8 : 0) | ((modrm >> 3) & 7);
	if (op == OP_MOV_IMM) {
		if ((rc = take(&c, 4, &imm)))
			return rc;
		out->value = imm;
	} else {
		out->value = (uint32_t)gprs[reg];
	}
	out->width = 32;
	out->len = (unsigned)c.at;
	out->xchg_reg = op == OP_XCHG ? (int)reg : -1;
	out->load_reg = op == OP_MOV_LOAD || op == OP_MOV_LOAD_MOFFS ? (int)reg : -1;
	if (out->load_reg >= 0)
		out->value = 0;
	return 0;
}

const char *apic_mmio_decode_strerror(int err)
{
	switch (err) {
	case DECODE_TRUNCATED:
		return "the bytes at RIP end mid-instruction";
	case DECODE_TOO_LONG:
		return "longer than 15 bytes";
	case DECODE_UNKNOWN_OPCODE:
		return "not a MOV/XCHG store (89, C7 /0, 87, A3) or MOV load (8B, A1)";
	case DECODE_NARROW:
		return "an 8- or 16-bit store (APIC registers are 32-bit)";
	case DECODE_WIDE:
		return "a 64-bit store (APIC registers are 32-bit)";
	case DECODE_STRING:
		return "a string store (MOVS/STOS)";
	case DECODE_REGISTER_OPERAND:
		return "a register operand, not memory";
	default:
		return "unknown decode error";
	}
}
