// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit: zero-copy local IPC channels.
 *
 * Module init and exit, and nothing else: the order here is the order in
 * which the pieces depend on each other.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <uapi/linux/ipcunit.h>

#include "acct.h"
#include "debugfs.h"
#include "dev.h"
#include "inode.h"

static int __init ipcu_init(void)
{
	int err;

	err = ipcu_fs_init();
	if (err)
		return err;
	err = ipcu_dev_init();
	if (err)
		goto err_fs;
	ipcu_debugfs_init();
	pr_info("ABI %u.%u loaded\n", IPCU_ABI_MAJOR, IPCU_ABI_MINOR);
	return 0;

err_fs:
	ipcu_fs_exit();
	return err;
}

static void __exit ipcu_exit(void)
{
	ipcu_debugfs_exit();
	ipcu_dev_exit();
	/* Eventfds released with call_rcu() must be put before unload. */
	rcu_barrier();
	ipcu_acct_exit();
	ipcu_fs_exit();
}

module_init(ipcu_init);
module_exit(ipcu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ipcunit: zero-copy local IPC channels");
