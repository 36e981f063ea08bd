// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/ipcunit misc device and the ioctl dispatcher.
 *
 * Every ioctl goes through one table indexed by _IOC_NR: it names the
 * command, the kind of file it applies to, the structure size (current and
 * oldest accepted), the flags allowed in the structure's first word and
 * where its reserved bytes are.  The dispatcher does all the generic
 * validation (unknown command -ENOTTY, short structure -EINVAL, non-zero
 * tail of a longer one -E2BIG, unknown flags or non-zero reserved bytes
 * -EINVAL) before a handler sees the arguments, copies the result back and
 * installs a new fd only after that copy succeeded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/ipcunit.h>

#include "chan.h"
#include "dev.h"
#include "notify.h"
#include "region.h"

/* File kinds, as bits: a command may apply to several. */
#define IPCU_FILE_DEV		BIT(0)
#define IPCU_FILE_EP		BIT(1)
#define IPCU_FILE_REGION	BIT(2)

typedef long (*ipcu_ioctl_fn)(struct file *file, void *karg,
			      unsigned long arg, struct ipcu_ioctl_ctx *ctx);

/**
 * struct ipcu_ioctl_def - one row of the dispatch table
 * @cmd: the full command, encoding the current structure size.
 * @minsz: oldest structure size accepted (its first published size).
 * @flags: flags allowed in the first __u32 of the structure.
 * @resv_off: offset of the reserved bytes that must be zero.
 * @resv_len: their length.
 * @kinds: IPCU_FILE_* bits of the files the command applies to.
 * @fn: the handler.
 */
struct ipcu_ioctl_def {
	unsigned int cmd;
	unsigned int minsz;
	u32 flags;
	unsigned short resv_off;
	unsigned short resv_len;
	unsigned int kinds;
	ipcu_ioctl_fn fn;
};

/* The largest argument any command takes. */
union ipcu_ioctl_arg {
	struct ipcu_version version;
	struct ipcu_chan_create chan_create;
	struct ipcu_chan_attach chan_attach;
	struct ipcu_ep_info ep_info;
	struct ipcu_ep_peer ep_peer;
	struct ipcu_ep_eventfd ep_eventfd;
	struct ipcu_wait wait;
	struct ipcu_region_create region_create;
	struct ipcu_region_attach region_attach;
	struct ipcu_clone clone;
	struct ipcu_region_stats region_stats;
};

static long ipcu_version_ioctl(struct file *file, void *karg,
			       unsigned long arg, struct ipcu_ioctl_ctx *ctx);

/* One row, for IPCU_IOC_<_n> taking a structure of type _type. */
#define IPCU_IOCTL(_n, _type, _flags, _kinds, _fn)			\
	[_IOC_NR(IPCU_IOC_##_n)] = {					\
		.cmd = IPCU_IOC_##_n,					\
		.minsz = sizeof(_type),					\
		.flags = _flags,					\
		.resv_off = offsetof(_type, reserved),			\
		.resv_len = sizeof_field(_type, reserved),		\
		.kinds = _kinds,					\
		.fn = _fn,						\
	}

/* One row, for IPCU_IOC_<_n> whose argument is a value, not a structure. */
#define IPCU_IOCTL_VAL(_n, _kinds, _fn)					\
	[_IOC_NR(IPCU_IOC_##_n)] = {					\
		.cmd = IPCU_IOC_##_n,					\
		.kinds = _kinds,					\
		.fn = _fn,						\
	}

#define DEV	IPCU_FILE_DEV
#define EP	IPCU_FILE_EP
#define REGION	IPCU_FILE_REGION

static const struct ipcu_ioctl_def ipcu_ioctls[] = {
	IPCU_IOCTL(VERSION, struct ipcu_version, 0, DEV, ipcu_version_ioctl),
	IPCU_IOCTL(CHAN_CREATE, struct ipcu_chan_create, 0, DEV,
		   ipcu_chan_create),
	IPCU_IOCTL(CHAN_ATTACH, struct ipcu_chan_attach, 0, DEV,
		   ipcu_chan_attach),
	IPCU_IOCTL(REGION_CREATE, struct ipcu_region_create, 0, DEV,
		   ipcu_region_create),
	IPCU_IOCTL(REGION_ATTACH, struct ipcu_region_attach,
		   IPCU_ATTACH_RDONLY, DEV, ipcu_region_attach),
	IPCU_IOCTL(EP_INFO, struct ipcu_ep_info, 0, EP, ipcu_ep_info),
	IPCU_IOCTL(EP_PEER, struct ipcu_ep_peer, 0, EP, ipcu_ep_peer),
	IPCU_IOCTL(EP_EVENTFD, struct ipcu_ep_eventfd, 0, EP,
		   ipcu_eventfd_ioctl),
	IPCU_IOCTL_VAL(DOORBELL, EP, ipcu_doorbell_ioctl),
	IPCU_IOCTL(WAIT, struct ipcu_wait, IPCU_WAIT_DOORBELL, EP,
		   ipcu_wait_ioctl),
	IPCU_IOCTL(CLONE, struct ipcu_clone, IPCU_CLONE_SEAL, EP | REGION,
		   ipcu_clone_ioctl),
	IPCU_IOCTL_VAL(SEAL, REGION, ipcu_seal_ioctl),
	IPCU_IOCTL(REGION_STATS, struct ipcu_region_stats, 0, REGION,
		   ipcu_region_stats_ioctl),
};

#undef DEV
#undef EP
#undef REGION

/* The table ends with the last command, and fits the version's bitmap. */
static_assert(ARRAY_SIZE(ipcu_ioctls) == _IOC_NR(IPCU_IOC_REGION_STATS) + 1);
static_assert(ARRAY_SIZE(ipcu_ioctls) <= 64);

static u64 ipcu_ioctl_mask(void)
{
	u64 mask = 0;
	unsigned int nr;

	for (nr = 0; nr < ARRAY_SIZE(ipcu_ioctls); nr++)
		if (ipcu_ioctls[nr].fn)
			mask |= 1ULL << nr;
	return mask;
}

static long ipcu_version_ioctl(struct file *file, void *karg,
			       unsigned long arg, struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_version *v = karg;

	v->abi_major = IPCU_ABI_MAJOR;
	v->abi_minor = IPCU_ABI_MINOR;
	v->page_size = PAGE_SIZE;
	v->features = IPCU_FEAT_VERSION | IPCU_FEAT_CHANNEL | IPCU_FEAT_NAMES |
		      IPCU_FEAT_EVENTFD | IPCU_FEAT_WAIT | IPCU_FEAT_REGION;
	v->ioctls = ipcu_ioctl_mask();
	return 0;
}

static const struct file_operations ipcu_dev_fops;

static unsigned int file_kind(struct file *file)
{
	if (file->f_op == &ipcu_dev_fops)
		return IPCU_FILE_DEV;
	if (file->f_op == &ipcu_region_fops)
		return IPCU_FILE_REGION;
	return IPCU_FILE_EP;
}

/**
 * ipcu_ioctl - unlocked_ioctl of the device and of endpoint files
 * @file: the file
 * @cmd: the command
 * @arg: its argument
 *
 * Return: the handler's result, or -ENOTTY, -EINVAL, -E2BIG, -EFAULT.
 */
long ipcu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct ipcu_ioctl_def *def;
	struct ipcu_ioctl_ctx ctx = { .fd = -1 };
	union ipcu_ioctl_arg karg;
	unsigned int nr = _IOC_NR(cmd);
	size_t usize = _IOC_SIZE(cmd);
	size_t ksize;
	long ret;

	if (_IOC_TYPE(cmd) != IPCU_IOC_MAGIC || nr >= ARRAY_SIZE(ipcu_ioctls))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(ipcu_ioctls));
	def = &ipcu_ioctls[nr];
	/* Same number, different direction: not a command we know. */
	if (!def->fn || _IOC_DIR(cmd) != _IOC_DIR(def->cmd) ||
	    !(def->kinds & file_kind(file)))
		return -ENOTTY;

	ksize = _IOC_SIZE(def->cmd);
	if (!ksize) {
		if (usize)
			return -ENOTTY;
		return def->fn(file, NULL, arg, &ctx);
	}

	if (usize < def->minsz)
		return -EINVAL;
	ret = copy_struct_from_user(&karg, ksize, uarg, usize);
	if (ret)
		return ret;
	if (*(u32 *)&karg & ~def->flags)
		return -EINVAL;
	if (memchr_inv((u8 *)&karg + def->resv_off, 0, def->resv_len))
		return -EINVAL;

	ret = def->fn(file, &karg, arg, &ctx);
	if (ret)
		return ret;

	if ((_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &karg, min(usize, ksize))) {
		ret = -EFAULT;
		goto err_discard;
	}
	if (ctx.file) {
		/* Before fd_install(): after it the file may already be gone. */
		if (ctx.live)
			*ctx.live = true;
		fd_install(ctx.fd, ctx.file);
	}
	return 0;

err_discard:
	if (ctx.file) {
		put_unused_fd(ctx.fd);
		fput(ctx.file);
	}
	return ret;
}

static const struct file_operations ipcu_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ipcu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ipcu_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ipcunit",
	.fops	= &ipcu_dev_fops,
	.mode	= 0666,
};

/**
 * ipcu_dev_init - register /dev/ipcunit
 *
 * Return: 0 or -errno.
 */
int ipcu_dev_init(void)
{
	return misc_register(&ipcu_misc);
}

/**
 * ipcu_dev_exit - unregister /dev/ipcunit
 */
void ipcu_dev_exit(void)
{
	misc_deregister(&ipcu_misc);
}
