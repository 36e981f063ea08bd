/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_INODE_H
#define _IPCU_INODE_H

#include <linux/fs.h>

int ipcu_fs_init(void);
void ipcu_fs_exit(void);
struct inode *ipcu_inode_new(void);
struct file *ipcu_file_new(struct inode *inode, const char *name, int flags,
			   const struct file_operations *fops, void *priv);

#endif /* _IPCU_INODE_H */
