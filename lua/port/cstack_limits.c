/* cstack_limits.c — where Lua's C-stack check (lua/port/lhv_user.h,
 * expanded inside Lua's ldo.c and lstate.c) starts raising errors: 0 (no
 * check) until lua/port/stack_guard.c knows the image's Lua stack, and
 * always in the host build, which links this file into its liblua.a. */
unsigned long lhv_cstack_soft, lhv_cstack_hard;
