// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/ipcunit/stats: the module-wide live object counters,
 * one "name value" pair per line, for leak tests and operators.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "acct.h"
#include "debugfs.h"

static struct dentry *ipcu_debugfs_dir;

static int stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "channels %ld\n", atomic_long_read(&ipcu_stats.channels));
	seq_printf(m, "endpoints %ld\n", atomic_long_read(&ipcu_stats.endpoints));
	seq_printf(m, "regions %ld\n", atomic_long_read(&ipcu_stats.regions));
	seq_printf(m, "pages %ld\n", atomic_long_read(&ipcu_stats.pages));
	seq_printf(m, "users %ld\n", atomic_long_read(&ipcu_stats.users));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/**
 * ipcu_debugfs_init - create the debugfs files (failure is not fatal)
 */
void ipcu_debugfs_init(void)
{
	ipcu_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, ipcu_debugfs_dir, NULL, &stats_fops);
}

/**
 * ipcu_debugfs_exit - remove them
 */
void ipcu_debugfs_exit(void)
{
	debugfs_remove_recursive(ipcu_debugfs_dir);
}
