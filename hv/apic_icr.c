/* apic_icr.c — what a guest's ICR write means (SDM Vol. 3A §12.6.1, the
 * INIT-SIPI-SIPI protocol of §9.4.4.1) when INIT and SIPI are done in
 * software: the delivery mode picks emulation or pass-through, the
 * destination shorthand or the physical destination picks the vCPUs. */
#include "apic_icr.h"

#include "platform/fmt.h"
#include "platform/log.h"
#include "vcpu_ap.h"

/* Reports of bad input are rate-limited per kind: the first few lines in
 * full, then one at every power of ten with the count, so a guest looping
 * on a bad IPI neither floods the console nor goes unnoticed. */
enum apic_report {
	REPORT_SENT,		/* debug: an INIT or SIPI recognised */
	REPORT_SELF,		/* INIT/SIPI to the sender itself */
	REPORT_NO_VCPU,		/* to an APIC id without a vCPU */
	REPORT_LOGICAL,		/* logical destination mode */
	REPORT_DEASSERT,	/* INIT level de-assert */
	REPORT_STORM,
	REPORT_KINDS
};
static const unsigned report_first[REPORT_KINDS] = {
	[REPORT_SENT] = 16, [REPORT_SELF] = 4, [REPORT_NO_VCPU] = 4, [REPORT_LOGICAL] = 4,
	[REPORT_DEASSERT] = 4, [REPORT_STORM] = 4,
};
static unsigned report_counts[REPORT_KINDS];

/* 0: no line; else the occurrence number, and *note the text to append. */
static unsigned report_due(enum apic_report k, char *note, size_t len)
{
	unsigned n = __atomic_add_fetch(&report_counts[k], 1, __ATOMIC_RELAXED);
	note[0] = 0;
	if (n <= report_first[k])
		return n;
	for (unsigned p = 10; p <= n && p <= 1000000000u; p *= 10)
		if (n == p) {
			ksnprintf(note, len, " (%u times so far; lines in between suppressed)", n);
			return n;
		}
	return 0;
}

/* "INIT" or "SIPI vector 0x08": the IPI as every line names it. */
static const char *ipi_name(uint32_t low, char *buf, size_t len)
{
	if ((low & ICR_DELIVERY_MASK) == ICR_DELIVERY_INIT)
		return "INIT";
	ksnprintf(buf, len, "SIPI vector 0x%02x", low & ICR_VECTOR_MASK);
	return buf;
}

/* One vCPU named by an INIT or SIPI. */
static void deliver(struct vcpu *sender, struct vcpu *target, uint32_t low)
{
	char note[64], name[24];
	bool init = (low & ICR_DELIVERY_MASK) == ICR_DELIVERY_INIT;

	if (target == sender) {
		/* A CPU cannot hold its own INIT here (it would have to leave
		 * the guest for wait-for-SIPI with nobody left to wake it), and
		 * a running CPU ignores a SIPI (SDM Vol. 3A §9.4.4.1). */
		if (report_due(REPORT_SELF, note, sizeof(note)))
			log_warn("apic: vCPU %u sent %s to itself (APIC id %u): ignored%s", sender->index,
				 ipi_name(low, name, sizeof(name)), sender->apic_id, note);
		return;
	}
	if (report_due(REPORT_SENT, note, sizeof(note)))
		log_debug("apic: vCPU %u sent %s to APIC id %u%s", sender->index, ipi_name(low, name, sizeof(name)),
			  target->apic_id, note);
	if (init)
		vcpu_guest_init(target);
	else
		vcpu_guest_sipi(target, (uint8_t)(low & ICR_VECTOR_MASK));
}

/* Every vCPU that exists, the sender too or not. */
static void deliver_all(struct vcpu *sender, uint32_t low, bool self_too)
{
	for (unsigned i = 0; i < vcpu_count; i++) {
		struct vcpu *t = &vcpus[i];
		if (t->state != VCPU_ABSENT && (self_too || t != sender))
			deliver(sender, t, low);
	}
}

static void init_or_sipi(struct vcpu *sender, uint32_t dest, uint32_t low)
{
	char note[64], name[24];
	uint32_t shorthand = low & ICR_SHORTHAND_MASK;

	if (shorthand == ICR_SHORTHAND_SELF) {
		deliver(sender, sender, low);
	} else if (shorthand == ICR_SHORTHAND_ALL || (shorthand == 0 && !(low & ICR_DEST_LOGICAL) &&
						       dest == APIC_DEST_BROADCAST)) {
		deliver_all(sender, low, true);
	} else if (shorthand == ICR_SHORTHAND_OTHERS) {
		deliver_all(sender, low, false);
	} else if (low & ICR_DEST_LOGICAL) {
		if (report_due(REPORT_LOGICAL, note, sizeof(note)))
			log_warn("apic: vCPU %u sent %s with logical destination 0x%x: not supported, ignored "
				 "(use a physical APIC id or a shorthand)%s", sender->index, ipi_name(low, name, sizeof(name)),
				 dest, note);
	} else if (dest == sender->apic_id) {
		deliver(sender, sender, low);
	} else {
		struct vcpu *t = vcpu_by_apic_id(dest);
		if (t)
			deliver(sender, t, low);
		else if (report_due(REPORT_NO_VCPU, note, sizeof(note)))
			log_warn("apic: vCPU %u sent %s to APIC id %u: no vCPU has that id, ignored%s",
				 sender->index, ipi_name(low, name, sizeof(name)), dest, note);
	}
}

/* Per vCPU: the IPIs sent since the window began. */
static struct {
	uint64_t window_start;
	unsigned ipis;
} storm[VCPU_MAX];

static void count_ipi(struct vcpu *sender, uint32_t dest, uint32_t low)
{
	char note[64];
	uint64_t now = apic_hw_now();
	unsigned i = sender->index % VCPU_MAX;

	if (now - storm[i].window_start > APIC_STORM_TICKS) {
		storm[i].window_start = now;
		storm[i].ipis = 0;
	}
	if (++storm[i].ipis == APIC_STORM_IPIS && report_due(REPORT_STORM, note, sizeof(note)))
		log_warn("apic: IPI storm: vCPU %u sent %u IPIs within %llu TSC ticks (the last: ICR 0x%x, "
			 "destination 0x%x); still delivered%s", sender->index, APIC_STORM_IPIS,
			 (unsigned long long)APIC_STORM_TICKS, low, dest, note);
}

void apic_icr_write(struct vcpu *sender, uint32_t dest, uint32_t low)
{
	uint32_t mode = low & ICR_DELIVERY_MASK;
	char note[64];

	count_ipi(sender, dest, low);
	if (mode == ICR_DELIVERY_INIT && !(low & ICR_LEVEL_ASSERT)) {
		if (report_due(REPORT_DEASSERT, note, sizeof(note)))
			log_debug("apic: vCPU %u sent INIT level de-assert: ignored%s", sender->index, note);
		return;
	}
	if ((mode == ICR_DELIVERY_INIT || mode == ICR_DELIVERY_STARTUP) && !vcpu_sipi_native)
		init_or_sipi(sender, dest, low);	/* the native path lets the processor take them */
	else
		apic_hw_send_ipi(dest, low);
}
