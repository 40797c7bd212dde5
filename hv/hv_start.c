/* hv_start.c — from a ready platform to a running guest, in the book's
 * order: capabilities (ch. 2), VMXON, the VMCS (ch. 3), EPT (ch. 7), then
 * VM entry (ch. 4).  A failure at any step is explained and the machine
 * stops cleanly; the hypervisor never half-launches. */
#include "hv_start.h"
#include "trace.h"

#include "guest_cpuid.h"

#include "debugger.h"
#include "entry_failure.h"
#include "exits.h"
#include "mtf_probe.h"
#include "gdbstub/monitor_apic.h"
#include "gdbstub/monitor_lua.h"
#include "guest.h"
#include "lua/lhv.h"
#include "platform/cpu.h"
#include "platform/errno.h"
#include "platform/kstring.h"
#include "platform/log.h"
#include "platform/memory.h"
#include "platform/power.h"
#include "platform/smp.h"
#include "apic_mmio.h"
#include "apic_virtual.h"
#include "vcpu_ap.h"
#include "vcpu_run.h"
#include "vmcs_setup.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "vmx_on.h"

struct vmx_caps_raw vmx_caps;
uint64_t hv_launch_tsc;

extern uint64_t boot_tsc;

/* The three lines that identify VMX support go to the console; the full
 * decoded report (book example 2-1) at loglevel=debug or `caps`. */
static void caps_line(void *ctx, const char *line)
{
	unsigned *n = ctx;
	log_msg((*n)++ < 3 ? LOG_INFO : LOG_DEBUG, "vmx: %s", line);
}

/* Script modules are read after the guest is loaded, and a guest may load
 * right over where GRUB put them: keep a copy in the hypervisor's region. */
static const struct boot_info *stash_scripts(const struct boot_info *bi)
{
	static struct boot_info copy;
	copy = *bi;
	for (unsigned i = 0; i < copy.nmodules; i++) {
		struct boot_module *m = &copy.modules[i];
		if (!lhv_is_script_module(m->cmdline))
			continue;
		uint64_t len = m->end - m->start, cmd = strlen(m->cmdline) + 1;
		uint64_t pages = (len + cmd + PAGE_SIZE - 1) / PAGE_SIZE;
		uint8_t *p = (uint8_t *)(uintptr_t)pmm_alloc_contig(&phys_pages, pages, PAGE_SIZE);
		if (!p) {
			log_warn("lua: no room to keep script module %u; it is skipped", i);
			m->cmdline = "skipped-script";
			continue;
		}
		memcpy(p, (const void *)(uintptr_t)m->start, len);
		memcpy(p + len, m->cmdline, cmd);
		*m = (struct boot_module){ .start = (uintptr_t)p, .end = (uintptr_t)p + len,
					   .cmdline = (const char *)p + len };
	}
	return &copy;
}

/* Each AP enters VMX root operation at once, so the guest's INIT-SIPI-SIPI
 * cannot start it behind the hypervisor's back: VMX root operation blocks
 * INIT (SDM Vol. 3C §24.8), and a SIPI only wakes a processor in
 * wait-for-SIPI.  It then waits for the BSP's VMCS and EPT to build its own
 * vCPU (vcpu_ap.c), and the guest starts it in software (apic_icr.c). */
static void start_aps(const struct boot_info *bi)
{
	unsigned found;
	unsigned in_root = smp_start_aps(bi, vcpu_ap_enter_root, NULL, "VMX root (VMXON ok)", vcpu_ap_main, &found);
	if (found)
		log_info("cpus: %u found in the MADT, %u AP%s in VMX root operation", found, in_root,
			 in_root == 1 ? "" : "s");
}

static __attribute__((noreturn)) void fail(const char *what, int rc)
{
	log_error("vmxdbg: %s failed (%d); stopping", what, rc);
	platform_stop();
}

void hv_start(const struct boot_info *bi, const struct hv_config *cfg)
{
	uint16_t debug_uart = cfg->gdb.port;
	struct vcpu *v = &vcpus[0];	/* the BSP's */
	struct guest_entry entry;
	unsigned lines = 0;
	int rc;

	v->state = VCPU_RUNNING;
	trace_enable(!cfg->trace_off);	/* before the vCPUs' rings are set up */

	if (!vmx_caps_read(&vmx_caps)) {
		log_error("no VMX on this CPU (CPUID.1:ECX.VMX=0)");
		power_off();
	}
	vmx_caps_report(&vmx_caps, caps_line, &lines);
	start_aps(bi);	/* before the guest's loading can reuse low memory */

	const struct boot_info *scripts = stash_scripts(bi);
	if ((rc = guest_memory_init(v, bi, hv_region_start, hv_region_end)))
		fail("building the guest's memory", rc);
	rc = guest_load(bi, &entry);
	if (rc == -ENOENT) {
		log_info("vmxdbg: no module tagged \"guest\": nothing to run; powering off");
		power_off();
	}
	if (rc)
		fail("loading the guest", rc);
	if ((rc = vmx_enable(&vmx_caps, &v->vmxon_phys)))
		fail("VMXON", rc);
	guest_cpuid_init();
	apic_virtual_choose(cfg->apic_virtual, &vmx_caps);
	if ((rc = vmcs_setup(v, &vmx_caps, &entry, debug_uart)))
		fail("VMCS setup", rc);
	/* Book example 4-2: does MTF really exit? */
	mtf_probe(v, &vmx_caps, !strcmp(cfg->selftest, "mtf-tf"));
	vcpu_choose_sipi_path(cfg->sipi_native, &vmx_caps);
	unsigned n = vcpu_ap_prepare_all(&vmx_caps);
	apic_mmio_follow_base(v);	/* the guest's ICR, watched when it has APs to start */
	if (vcpu_count > 1)
		log_info("cpus: %u vCPU%s; the guest's BSP runs, %u AP%s wait%s for its INIT-SIPI-SIPI", n,
			 n == 1 ? "" : "s", n - 1, n == 2 ? "" : "s", n == 2 ? "s" : "");

	monitor_apic_register();	/* the stub's `monitor apic` (target_apic.c) */

	/* Lua registers its script front end with hv/ (frontend.h) once its
	 * state opens; its `monitor` commands join the stub's. */
	lhv_set_limits(cfg->lua_heap, cfg->lua_budget, cfg->lua_ticks);
	if ((rc = lhv_init(scripts)))
		log_warn("lua: not available (%d); the guest runs without scripts", rc);
	else
		monitor_lua_register();
	if (!rc && !strcmp(cfg->selftest, "luastack"))
		lhv_selftest_stack();

	if (!strcmp(cfg->selftest, "vmentry")) {
		/* A teaching demo: TR must be usable (SDM 27.3.1.2); the CPU refuses
		 * the entry and the checker explains why. */
		log_info("selftest: marking the guest's TR unusable before VMLAUNCH");
		vmwrite(GUEST_TR_ACCESS_RIGHTS, 1u << 16);
	}
	debugger_init(cfg->gdb_wait, cfg->panic == PANIC_POWEROFF);	/* main.c registered the stub */
	debugger_before_launch(v);

	hv_launch_tsc = rdtsc();
	/* Printed at every log level: `make bench` reads the start-up cost here. */
	log_raw("[I] vmx: launching the guest at 0x%llx: %llu TSC ticks since GRUB hand-off\n",
		(unsigned long long)entry.rip, (unsigned long long)(hv_launch_tsc - boot_tsc));
	vcpu_run(v);
}
