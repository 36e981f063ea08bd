// SPDX-License-Identifier: GPL-2.0
/*
 * A private pseudo filesystem, so every channel has an inode of its own.
 *
 * All mappings of a channel, through any of its endpoint files, hang off
 * that inode's address_space.  unmap_mapping_range() on it therefore
 * reaches every mapping of this channel and nothing else; the shared
 * anon_inode would lump all objects of all drivers together.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "inode.h"

#define IPCU_FS_MAGIC	0x69706375	/* "ipcu" */

static struct vfsmount *ipcu_mnt;

static int ipcu_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IPCU_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type ipcu_fs_type = {
	.name		 = "ipcunit",
	.init_fs_context = ipcu_fs_init_fs_context,
	.kill_sb	 = kill_anon_super,
};

/**
 * ipcu_fs_init - mount the internal filesystem
 *
 * Return: 0 or -errno.
 */
int ipcu_fs_init(void)
{
	ipcu_mnt = kern_mount(&ipcu_fs_type);
	return PTR_ERR_OR_ZERO(ipcu_mnt);
}

/**
 * ipcu_fs_exit - unmount it; every file must be gone
 */
void ipcu_fs_exit(void)
{
	kern_unmount(ipcu_mnt);
}

/**
 * ipcu_inode_new - a fresh inode for one channel
 *
 * Return: the inode (one reference) or an ERR_PTR.
 */
struct inode *ipcu_inode_new(void)
{
	return alloc_anon_inode(ipcu_mnt->mnt_sb);
}

/**
 * ipcu_file_new - open a file on @inode
 * @inode: the channel's inode; the file takes a new reference
 * @name: dentry name, shown in /proc/<pid>/fd
 * @flags: O_RDWR or O_RDONLY
 * @fops: file operations
 * @priv: private_data
 *
 * Return: the file or an ERR_PTR.
 */
struct file *ipcu_file_new(struct inode *inode, const char *name, int flags,
			   const struct file_operations *fops, void *priv)
{
	struct file *file;

	/* __fput() drops a module reference that alloc_file_pseudo() never took. */
	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);
	ihold(inode);
	file = alloc_file_pseudo(inode, ipcu_mnt, name, flags, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
		return file;
	}
	file->private_data = priv;
	return file;
}
