/* lhv_entry.h — what the entry points (lhv_entry.c and lua/port/image.c,
 * built -mgeneral-regs-only: the guest's FPU state is still live when they
 * run) hand to the bodies that run Lua (built with SSE) through
 * lhv_port_run(). */
#ifndef LUA_LHV_ENTRY_H
#define LUA_LHV_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hv/hooks.h"
#include "platform/bootinfo.h"

struct lhv_exit {
	struct vcpu *v;
	unsigned reason;
	char *stop_reason;
	size_t len;
	enum hook_verdict verdict;
	bool event;		/* the guest's exception or NMI (hv.on_exception): */
	uint32_t info;		/* its VM_EXIT_INTERRUPTION_INFO */
};

struct lhv_bp_hit {
	struct vcpu *v;
	unsigned id;
	uint64_t gva;
	char *stop_reason;
	size_t len;
	enum hook_verdict verdict;
};

struct lhv_script {
	const char *name, *text, *args;
	size_t len;
	int result;		/* 0, or -1 after reporting */
};

struct lhv_open {
	void *(*alloc)(void *ud, void *ptr, size_t osize, size_t nsize);
	void *ud;
	int64_t budget;
	uint64_t ticks;		/* TSC ticks per call */
	int result;		/* 0 or -ENOMEM */
};

/* The port (lua/port/image.c; a fake in the host tests): runs fn(arg)
 * with the guest's FPU state saved and a clean one loaded, on the Lua
 * stack, and restores it before returning. */
void lhv_port_run(void (*fn)(void *arg), void *arg);

void lhv_hooks_body(void *exit);	/* struct lhv_exit */
void lhv_monitor_body(void *chunk);	/* const char */
void lhv_script_body(void *script);	/* struct lhv_script */
void lhv_file_body(void *script);	/* struct lhv_script, from gdb */
void lhv_poweroff_body(void *how);	/* const char */
void lhv_bp_body(void *hit);		/* struct lhv_bp_hit */
void lhv_open_body(void *open);		/* struct lhv_open */

/* Opens the state (inside the port); 0 or -ENOMEM. */
int lhv_start(const struct lhv_open *how);
/* Runs every module tagged `script`, in order; how many failed. */
int lhv_run_boot_scripts(const struct boot_info *bi);

#endif
