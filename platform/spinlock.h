/* spinlock.h — a test-and-test-and-set lock for the few things processors
 * share in root mode (the console, the Lua state, the debugger).  Interrupts
 * are off in VMX root operation here, so a holder is never preempted; pause
 * in the wait loop (SDM Vol. 2B PAUSE: spin-wait hint). */
#ifndef PLATFORM_SPINLOCK_H
#define PLATFORM_SPINLOCK_H

#include <stdbool.h>

struct spinlock {
	volatile int held;
};

static inline bool spin_trylock(struct spinlock *l)
{
	return !__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

#endif
