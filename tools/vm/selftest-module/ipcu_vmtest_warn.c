// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for tools/vm/selftest: its init triggers a WARN_ON()
 * so that the VM runner's kernel-log check can be shown to fail the run.
 */

#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init ipcu_vmtest_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit ipcu_vmtest_warn_exit(void)
{
}

module_init(ipcu_vmtest_warn_init);
module_exit(ipcu_vmtest_warn_exit);

MODULE_DESCRIPTION("ipcunit VM runner self-test: WARN_ON() at load time");
MODULE_LICENSE("GPL");
