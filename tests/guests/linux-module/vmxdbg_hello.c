// SPDX-License-Identifier: GPL-2.0
/*
 * vmxdbg_hello: the out-of-tree module the source-level Linux test loads
 * from /init (tests/integration/test_linux_source.py).  Its init function
 * is the breakpoint target `lx-symbols` must make resolvable: gdb only
 * learns where the module landed from the kernel's module list.
 * Built against Debian's linux-headers package by tools/linux-guest.py --dwarf.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

/* Data the test reads through gdb once lx-symbols has loaded our symbols. */
int vmxdbg_hello_calls;
static const char vmxdbg_hello_greeting[] = "vmxdbg_hello: hello from a module";

static noinline int vmxdbg_hello_count(int step)
{
	vmxdbg_hello_calls += step;
	return vmxdbg_hello_calls;
}

/*
 * Not __init: Linux 6.1's lx-symbols gives add-symbol-file the module's
 * .text, .data, .rodata and .bss addresses but not .init.text's, so a
 * function there would get a wrong address in gdb.
 */
static int vmxdbg_hello_init(void)
{
	pr_info("%s (calls %d)\n", vmxdbg_hello_greeting, vmxdbg_hello_count(1));
	return 0;
}

static void __exit vmxdbg_hello_exit(void)
{
	pr_info("vmxdbg_hello: bye\n");
}

module_init(vmxdbg_hello_init);
module_exit(vmxdbg_hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmxdbg's test module: a breakpoint target for lx-symbols");
