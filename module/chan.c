// SPDX-License-Identifier: GPL-2.0
/*
 * Channels: creation, names and permissions, endpoints, mmap.
 *
 * Lifetime: a channel is a kref'd object.  Every endpoint file and every
 * VMA holds a reference (VMAs through vm_ops->open/close, and their vm_file
 * is an endpoint file that holds one too), so the pages are freed only after
 * the last fd is closed and the last mapping is gone.
 *
 * Locking:
 *  - ipcu_names_lock (names.c) protects the name table.  The final
 *    reference to a channel is dropped with kref_put_mutex() under it, so
 *    a lookup never finds a channel whose count has reached zero.
 *  - chan->lock (spinlock) protects which roles are held or gone.
 *  - chan->store.lock and page locks: see region.c.
 *  - Order: mmap_lock -> ipcu_names_lock -> chan->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "acct.h"
#include "chan.h"
#include "compat.h"
#include "dev.h"
#include "inode.h"
#include "names.h"
#include "notify.h"
#include "region.h"

static void chan_get(struct ipcu_chan *chan)
{
	kref_get(&chan->ref);
}

static void chan_free(struct ipcu_chan *chan)
{
	u32 role;
	int ev;

	for (role = 0; role < 2; role++)
		for (ev = 0; ev < IPCU_EV_NR; ev++)
			WARN_ON_ONCE(rcu_access_pointer(chan->efd[role][ev]));
	ipcu_store_destroy(&chan->store);
	ipcu_name_release(&chan->name);
	if (chan->inode)
		iput(chan->inode);
	if (chan->acct)
		ipcu_acct_uncharge(chan->acct, chan->acct_bytes);
	mutex_destroy(&chan->efd_lock);
	kfree(chan);
	atomic_long_dec(&ipcu_stats.channels);
}

/*
 * Called with ipcu_names_lock held by kref_put_mutex(); drops it.  (No
 * __releases() annotation: sparse does not track mutexes.)
 */
static void chan_release(struct kref *ref)
{
	struct ipcu_chan *chan = container_of(ref, struct ipcu_chan, ref);

	ipcu_name_unpublish(&chan->name);
	mutex_unlock(&ipcu_names_lock);
	chan_free(chan);
}

/**
 * ipcu_chan_put - drop a reference; the last one frees the channel
 * @chan: the channel
 */
void ipcu_chan_put(struct ipcu_chan *chan)
{
	kref_put_mutex(&chan->ref, chan_release, &ipcu_names_lock);
}

static struct ipcu_chan *chan_new(const struct ipcu_chan_create *req)
{
	unsigned long desc_pages, pay_pages;
	struct ipcu_user *acct;
	struct ipcu_chan *chan;
	u64 bytes;
	int role, err;

	desc_pages = DIV_ROUND_UP((unsigned long)req->ring_entries *
				  sizeof(struct ipcu_desc), PAGE_SIZE);
	pay_pages = req->payload_bytes >> PAGE_SHIFT;
	bytes = (2 + desc_pages + pay_pages) << PAGE_SHIFT;

	acct = ipcu_acct_charge(current_euid(), bytes);
	if (IS_ERR(acct))
		return ERR_CAST(acct);

	chan = kzalloc(sizeof(*chan), GFP_KERNEL_ACCOUNT);
	if (!chan) {
		ipcu_acct_uncharge(acct, bytes);
		return ERR_PTR(-ENOMEM);
	}
	atomic_long_inc(&ipcu_stats.channels);
	kref_init(&chan->ref);
	spin_lock_init(&chan->lock);
	mutex_init(&chan->efd_lock);
	for (role = 0; role < 2; role++)
		init_waitqueue_head(&chan->wq[role]);
	ipcu_name_init(&chan->name, IPCU_NAME_CHAN, req->mode);
	chan->acct = acct;
	chan->acct_bytes = bytes;
	chan->geom.entries = req->ring_entries;
	chan->geom.max_msg = req->max_msg;
	chan->geom.pay_size = req->payload_bytes;
	chan->desc_pgoff = 2;
	chan->pay_pgoff = 2 + desc_pages;
	chan->nr_pages = 2 + desc_pages + pay_pages;

	err = ipcu_store_init(&chan->store, chan->nr_pages);
	if (err)
		goto err_free;
	chan->inode = ipcu_inode_new();
	if (IS_ERR(chan->inode)) {
		err = PTR_ERR(chan->inode);
		chan->inode = NULL;
		goto err_free;
	}
	chan->store.mapping = chan->inode->i_mapping;
	chan->store.cow_first = chan->pay_pgoff;
	err = ipcu_store_populate(&chan->store);
	if (err)
		goto err_free;
	chan->cons = page_address(chan->store.pages[0]);
	chan->prod = page_address(chan->store.pages[1]);
	return chan;

err_free:
	chan_free(chan);
	return ERR_PTR(err);
}

/*
 * A claim of @role that never reached user space is undone: the other side
 * sees the role as it was before, departed if it had departed (EPOLLHUP,
 * IPCU_STATE_PEER_GONE), with no new departure event.  Nobody else can
 * have changed gone[@role] meanwhile: the role was held.  The caller wakes
 * the other side's waiters if @was_gone, after dropping ->lock: one may
 * have looked while the flag was clear, and the flag alone wakes nobody.
 */
static void ep_unclaim_gone(struct ipcu_chan *chan, u32 role, bool was_gone)
{
	lockdep_assert_held(&chan->lock);
	WRITE_ONCE(chan->gone[role], was_gone);
}

/*
 * Claim @role of @chan for a new endpoint file and reserve an fd for it.
 * The file and fd are left in @ctx for the dispatcher to install.
 */
static int ep_open(struct ipcu_chan *chan, u32 role, struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep;
	struct file *file;
	bool was_gone;
	int fd, err;

	ep = kzalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return -ENOMEM;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_free_ep;
	}

	spin_lock(&chan->lock);
	if (chan->held[role]) {
		spin_unlock(&chan->lock);
		err = -EBUSY;
		goto err_put_fd;
	}
	chan->held[role] = true;
	was_gone = chan->gone[role];
	WRITE_ONCE(chan->gone[role], false);
	spin_unlock(&chan->lock);

	chan_get(chan);
	ep->chan = chan;
	ep->role = role;
	ep->was_gone = was_gone;
	file = ipcu_file_new(chan->inode, role == IPCU_ROLE_PRODUCER ?
			     "[ipcunit-producer]" : "[ipcunit-consumer]",
			     O_RDWR, &ipcu_ep_fops, ep);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_unclaim;
	}
	atomic_long_inc(&ipcu_stats.endpoints);
	ctx->file = file;
	ctx->fd = fd;
	ctx->live = &ep->live;
	return fd;

err_unclaim:
	spin_lock(&chan->lock);
	chan->held[role] = false;
	ep_unclaim_gone(chan, role, was_gone);
	spin_unlock(&chan->lock);
	if (was_gone)
		wake_up_interruptible_poll(&chan->wq[!role], EPOLLHUP);
	ipcu_chan_put(chan);
err_put_fd:
	put_unused_fd(fd);
err_free_ep:
	kfree(ep);
	return err;
}

/**
 * ipcu_chan_create - IPCU_IOC_CHAN_CREATE
 * @file: the device file
 * @karg: struct ipcu_chan_create, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new endpoint file
 *
 * Return: 0 or -errno.
 */
long ipcu_chan_create(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_chan_create *req = karg;
	char name[IPCU_NAME_MAX];
	struct ipcu_chan *chan;
	int fd, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (req->role > IPCU_ROLE_CONSUMER)
		return -EINVAL;
	if (!req->ring_entries || !is_power_of_2(req->ring_entries) ||
	    req->ring_entries > IPCU_RING_ENTRIES_MAX)
		return -EINVAL;
	if (req->payload_bytes < PAGE_SIZE ||
	    req->payload_bytes > IPCU_PAYLOAD_MAX ||
	    !is_power_of_2(req->payload_bytes))
		return -EINVAL;
	if (!req->max_msg || req->max_msg > req->payload_bytes / 2)
		return -EINVAL;
	if (req->mode & ~0777U || (!req->name && req->mode))
		return -EINVAL;
	if (req->name) {
		err = ipcu_name_from_user(name, req->name);
		if (err)
			return err;
	}

	chan = chan_new(req);
	if (IS_ERR(chan))
		return PTR_ERR(chan);

	fd = ep_open(chan, req->role, ctx);
	if (fd < 0) {
		ipcu_chan_put(chan);
		return fd;
	}

	if (req->name) {
		err = ipcu_name_publish(&chan->name, name);
		if (err)
			goto err_close;
	}

	/* The endpoint holds its own reference now. */
	ipcu_chan_put(chan);
	req->fd = fd;
	return 0;

err_close:
	fput(ctx->file);
	put_unused_fd(ctx->fd);
	ctx->file = NULL;
	ipcu_chan_put(chan);
	return err;
}

/**
 * ipcu_chan_attach - IPCU_IOC_CHAN_ATTACH
 * @file: the device file
 * @karg: struct ipcu_chan_attach, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new endpoint file
 *
 * Return: 0 or -errno.
 */
long ipcu_chan_attach(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_chan_attach *req = karg;
	char name[IPCU_NAME_MAX];
	struct ipcu_chan *chan = NULL;
	struct ipcu_name *n;
	int fd, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (req->role > IPCU_ROLE_CONSUMER || req->pad)
		return -EINVAL;
	err = ipcu_name_from_user(name, req->name);
	if (err)
		return err;

	mutex_lock(&ipcu_names_lock);
	n = ipcu_name_find(IPCU_NAME_CHAN, name);
	if (n) {
		chan = container_of(n, struct ipcu_chan, name);
		chan_get(chan);
	}
	mutex_unlock(&ipcu_names_lock);
	if (!chan)
		return -ENOENT;

	if (!ipcu_name_permitted(&chan->name, req->role == IPCU_ROLE_PRODUCER ?
				 MAY_WRITE : MAY_READ)) {
		ipcu_chan_put(chan);
		return -EACCES;
	}
	fd = ep_open(chan, req->role, ctx);
	ipcu_chan_put(chan);
	if (fd < 0)
		return fd;
	req->fd = fd;
	return 0;
}

/**
 * ipcu_ep_from_file - the endpoint behind @file, or NULL
 * @file: any file
 *
 * Return: the endpoint if @file is an ipcunit endpoint file.
 */
struct ipcu_ep *ipcu_ep_from_file(struct file *file)
{
	return file->f_op == &ipcu_ep_fops ? file->private_data : NULL;
}

/**
 * ipcu_ep_info - IPCU_IOC_EP_INFO
 * @file: an endpoint file
 * @karg: struct ipcu_ep_info, flags and reserved already checked
 * @arg: unused
 * @ctx: unused
 *
 * Return: 0.
 */
long ipcu_ep_info(struct file *file, void *karg, unsigned long arg,
		  struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_chan *chan = ep->chan;
	struct ipcu_ep_info *info = karg;
	u32 peer = !ep->role;

	info->role = ep->role;
	info->ring_entries = chan->geom.entries;
	info->max_msg = chan->geom.max_msg;
	info->payload_bytes = chan->geom.pay_size;
	info->cons_ctrl_off = 0;
	info->prod_ctrl_off = PAGE_SIZE;
	info->desc_off = (u64)chan->desc_pgoff << PAGE_SHIFT;
	info->desc_bytes = (u64)(chan->pay_pgoff - chan->desc_pgoff) << PAGE_SHIFT;
	info->payload_off = (u64)chan->pay_pgoff << PAGE_SHIFT;
	info->map_bytes = (u64)chan->nr_pages << PAGE_SHIFT;
	spin_lock(&chan->lock);
	info->state = (chan->held[peer] ? IPCU_STATE_PEER_PRESENT : 0) |
		      (chan->gone[peer] ? IPCU_STATE_PEER_GONE : 0);
	spin_unlock(&chan->lock);
	info->pad = 0;
	info->doorbells = atomic64_read(&chan->doorbells[ep->role]);
	info->sleeps = atomic64_read(&chan->sleeps[ep->role]);
	return 0;
}

/**
 * ipcu_ep_peer - IPCU_IOC_EP_PEER: a new endpoint for the opposite role
 * @file: an endpoint file
 * @karg: struct ipcu_ep_peer, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new endpoint file
 *
 * Return: 0, -EBUSY if the opposite role is held, or -errno.
 */
long ipcu_ep_peer(struct file *file, void *karg, unsigned long arg,
		  struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_ep_peer *req = karg;
	u32 role = !ep->role;
	int fd;

	/*
	 * Holding one end of an unnamed channel is the right to the other;
	 * a named channel's other role needs the permission attach needs.
	 */
	if (ep->chan->name.ns &&
	    !ipcu_name_permitted(&ep->chan->name, role == IPCU_ROLE_PRODUCER ?
				 MAY_WRITE : MAY_READ))
		return -EACCES;
	fd = ep_open(ep->chan, role, ctx);
	if (fd < 0)
		return fd;
	req->fd = fd;
	return 0;
}

static int ep_release(struct inode *inode, struct file *file)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_chan *chan = ep->chan;

	/* While the role is still held, so a next holder's stay registered. */
	ipcu_efd_drop_role(chan, ep->role);

	/*
	 * An endpoint whose fd never reached user space (the result could not
	 * be copied out) leaves without the peer noticing.  Otherwise the
	 * peer-gone eventfd fires under ->lock, together with the state
	 * change: a new holder cannot claim the role in between.
	 */
	spin_lock(&chan->lock);
	chan->held[ep->role] = false;
	if (ep->live) {
		WRITE_ONCE(chan->gone[ep->role], true);
		ipcu_notify_peer_gone(chan, ep->role);
	} else {
		ep_unclaim_gone(chan, ep->role, ep->was_gone);
	}
	spin_unlock(&chan->lock);
	if (ep->live || ep->was_gone)
		wake_up_interruptible_poll(&chan->wq[!ep->role], EPOLLHUP);
	atomic_long_dec(&ipcu_stats.endpoints);
	kfree(ep);
	ipcu_chan_put(chan);
	return 0;
}

static void chan_vm_open(struct vm_area_struct *vma)
{
	struct ipcu_chan *chan = vma->vm_private_data;

	chan_get(chan);
	ipcu_store_vma_open(&chan->store, vma);
}

static void chan_vm_close(struct vm_area_struct *vma)
{
	struct ipcu_chan *chan = vma->vm_private_data;

	ipcu_store_vma_close(&chan->store, vma);
	ipcu_chan_put(chan);
}

static vm_fault_t chan_vm_fault(struct vm_fault *vmf)
{
	struct ipcu_chan *chan = vmf->vma->vm_private_data;

	return ipcu_store_fault(&chan->store, vmf);
}

/* Payload pages may be shared with clones (IPCU_IOC_CLONE). */
static vm_fault_t chan_vm_mkwrite(struct vm_fault *vmf)
{
	struct ipcu_chan *chan = vmf->vma->vm_private_data;

	return ipcu_store_mkwrite(&chan->store, vmf);
}

static const struct vm_operations_struct chan_vm_ops = {
	.open		= chan_vm_open,
	.close		= chan_vm_close,
	.fault		= chan_vm_fault,
	.page_mkwrite	= chan_vm_mkwrite,
};

/*
 * Which pages a role may map writable: the consumer writes only its control
 * page (page 0); the producer everything from its control page on.
 */
static bool ep_range_writable(struct ipcu_ep *ep, unsigned long pgoff,
			      unsigned long npages)
{
	if (ep->role == IPCU_ROLE_CONSUMER)
		return pgoff == 0 && npages == 1;
	return pgoff >= 1;
}

static int ep_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_chan *chan = ep->chan;
	unsigned long npages = vma_pages(vma);
	int err;

	/* A private copy of a channel makes no sense and would hide COW. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= chan->nr_pages ||
	    npages > chan->nr_pages - vma->vm_pgoff)
		return -EINVAL;
	if (!ep_range_writable(ep, vma->vm_pgoff, npages)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		/* ...and no later mprotect(PROT_WRITE) either. */
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	err = ipcu_store_mmap(&chan->store, vma);
	if (err)
		return err;
	/* The object has a fixed size: mremap() may move but never grow. */
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &chan_vm_ops;
	vma->vm_private_data = chan;
	chan_get(chan);
	return 0;
}

const struct file_operations ipcu_ep_fops = {
	.owner		= THIS_MODULE,
	.release	= ep_release,
	.mmap		= ep_mmap,
	.poll		= ipcu_ep_poll,
	.unlocked_ioctl	= ipcu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
