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
 *  - names_lock (mutex) protects the name table.  The final reference to a
 *    channel is dropped with kref_put_mutex() under it, so a lookup never
 *    finds a channel whose count has reached zero.  Nothing that can fault
 *    on user memory runs under it.
 *  - chan->lock (spinlock) protects which roles are held or gone.
 *  - Order: mmap_lock -> names_lock -> chan->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/ipc_namespace.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "acct.h"
#include "chan.h"
#include "compat.h"
#include "dev.h"
#include "inode.h"
#include "notify.h"

static DEFINE_MUTEX(names_lock);
static DEFINE_HASHTABLE(names_hash, 7);

static void chan_get(struct ipcu_chan *chan)
{
	kref_get(&chan->ref);
}

static void chan_free_pages(struct ipcu_chan *chan)
{
	unsigned long i;

	if (!chan->pages)
		return;
	for (i = 0; i < chan->nr_pages; i++) {
		if (!chan->pages[i])
			break;
		put_page(chan->pages[i]);
		atomic_long_dec(&ipcu_stats.pages);
	}
	kvfree(chan->pages);
}

static void chan_free(struct ipcu_chan *chan)
{
	u32 role;
	int ev;

	for (role = 0; role < 2; role++)
		for (ev = 0; ev < IPCU_EV_NR; ev++)
			WARN_ON_ONCE(rcu_access_pointer(chan->efd[role][ev]));
	chan_free_pages(chan);
	if (chan->ns)
		ipcu_put_ipc_ns(chan->ns);
	if (chan->inode)
		iput(chan->inode);
	if (chan->acct)
		ipcu_acct_uncharge(chan->acct, chan->acct_bytes);
	mutex_destroy(&chan->efd_lock);
	kfree(chan);
	atomic_long_dec(&ipcu_stats.channels);
}

/* Called with names_lock held by kref_put_mutex(); drops it. */
static void chan_release(struct kref *ref)
	__releases(&names_lock)
{
	struct ipcu_chan *chan = container_of(ref, struct ipcu_chan, ref);

	if (!hlist_unhashed(&chan->name_node))
		hash_del(&chan->name_node);
	mutex_unlock(&names_lock);
	chan_free(chan);
}

/**
 * ipcu_chan_put - drop a reference; the last one frees the channel
 * @chan: the channel
 */
void ipcu_chan_put(struct ipcu_chan *chan)
{
	kref_put_mutex(&chan->ref, chan_release, &names_lock);
}

static int chan_alloc_pages(struct ipcu_chan *chan)
{
	unsigned long i;

	chan->pages = kvcalloc(chan->nr_pages, sizeof(*chan->pages),
			       GFP_KERNEL_ACCOUNT);
	if (!chan->pages)
		return -ENOMEM;
	for (i = 0; i < chan->nr_pages; i++) {
		/* A large payload takes a while: stay killable. */
		if (fatal_signal_pending(current))
			return -EINTR;
		chan->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!chan->pages[i])
			return -ENOMEM;
		atomic_long_inc(&ipcu_stats.pages);
		cond_resched();
	}
	chan->cons = page_address(chan->pages[0]);
	chan->prod = page_address(chan->pages[1]);
	return 0;
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
	INIT_HLIST_NODE(&chan->name_node);
	chan->acct = acct;
	chan->acct_bytes = bytes;
	chan->geom.entries = req->ring_entries;
	chan->geom.max_msg = req->max_msg;
	chan->geom.pay_size = req->payload_bytes;
	chan->desc_pgoff = 2;
	chan->pay_pgoff = 2 + desc_pages;
	chan->nr_pages = 2 + desc_pages + pay_pages;
	chan->uid = current_euid();
	chan->gid = current_egid();
	chan->mode = req->mode;

	err = chan_alloc_pages(chan);
	if (err)
		goto err_free;
	chan->inode = ipcu_inode_new();
	if (IS_ERR(chan->inode)) {
		err = PTR_ERR(chan->inode);
		chan->inode = NULL;
		goto err_free;
	}
	return chan;

err_free:
	chan_free(chan);
	return ERR_PTR(err);
}

/* Valid names: 1..IPCU_NAME_MAX-1 bytes of [A-Za-z0-9._-]. */
static int name_from_user(char *name, u64 uptr)
{
	long len;
	int i;

	len = strncpy_from_user(name, u64_to_user_ptr(uptr), IPCU_NAME_MAX);
	if (len < 0)
		return len;
	if (len == IPCU_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("._-", name[i]))
			return -EINVAL;
	return 0;
}

static u32 name_hash(const struct ipc_namespace *ns, const char *name)
{
	return full_name_hash(ns, name, strlen(name));
}

static struct ipcu_chan *name_find(struct ipc_namespace *ns, const char *name)
{
	struct ipcu_chan *chan;

	lockdep_assert_held(&names_lock);
	hash_for_each_possible(names_hash, chan, name_node,
			       name_hash(ns, name))
		if (chan->ns == ns && !strcmp(chan->name, name))
			return chan;
	return NULL;
}

/* SysV IPC's rule (ipcperms()), with the caller's fsuid/fsgid. */
static bool chan_permitted(struct ipcu_chan *chan, u32 role)
{
	int requested = role == IPCU_ROLE_PRODUCER ? 2 : 4;
	int granted = chan->mode;

	if (uid_eq(current_fsuid(), chan->uid))
		granted >>= 6;
	else if (in_group_p(chan->gid))
		granted >>= 3;
	if ((granted & requested) == requested)
		return true;
	return ns_capable(chan->ns->user_ns, CAP_IPC_OWNER);
}

/*
 * Claim @role of @chan for a new endpoint file and reserve an fd for it.
 * The file and fd are left in @ctx for the dispatcher to install.
 */
static int ep_open(struct ipcu_chan *chan, u32 role, struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep;
	struct file *file;
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
	WRITE_ONCE(chan->gone[role], false);
	spin_unlock(&chan->lock);

	chan_get(chan);
	ep->chan = chan;
	ep->role = role;
	file = ipcu_file_new(chan->inode, role == IPCU_ROLE_PRODUCER ?
			     "[ipcunit-producer]" : "[ipcunit-consumer]",
			     &ipcu_ep_fops, ep);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_unclaim;
	}
	atomic_long_inc(&ipcu_stats.endpoints);
	ctx->file = file;
	ctx->fd = fd;
	return fd;

err_unclaim:
	spin_lock(&chan->lock);
	chan->held[role] = false;
	spin_unlock(&chan->lock);
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
		err = name_from_user(name, req->name);
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
		struct ipc_namespace *ns = current->nsproxy->ipc_ns;

		strscpy(chan->name, name, sizeof(chan->name));
		mutex_lock(&names_lock);
		if (name_find(ns, name)) {
			mutex_unlock(&names_lock);
			err = -EEXIST;
			goto err_close;
		}
		chan->ns = ipcu_get_ipc_ns(ns);
		hash_add(names_hash, &chan->name_node, name_hash(ns, name));
		mutex_unlock(&names_lock);
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
	struct ipcu_chan *chan;
	int fd, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (req->role > IPCU_ROLE_CONSUMER || req->pad)
		return -EINVAL;
	err = name_from_user(name, req->name);
	if (err)
		return err;

	mutex_lock(&names_lock);
	chan = name_find(current->nsproxy->ipc_ns, name);
	if (chan)
		chan_get(chan);
	mutex_unlock(&names_lock);
	if (!chan)
		return -ENOENT;

	if (!chan_permitted(chan, req->role)) {
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
	int fd;

	fd = ep_open(ep->chan, !ep->role, ctx);
	if (fd < 0)
		return fd;
	req->fd = fd;
	return 0;
}

static int ep_release(struct inode *inode, struct file *file)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_chan *chan = ep->chan;

	spin_lock(&chan->lock);
	chan->held[ep->role] = false;
	WRITE_ONCE(chan->gone[ep->role], true);
	spin_unlock(&chan->lock);

	ipcu_efd_drop_role(chan, ep->role);
	ipcu_notify_peer_gone(chan, ep->role);
	atomic_long_dec(&ipcu_stats.endpoints);
	kfree(ep);
	ipcu_chan_put(chan);
	return 0;
}

static void chan_vm_open(struct vm_area_struct *vma)
{
	chan_get(vma->vm_private_data);
}

static void chan_vm_close(struct vm_area_struct *vma)
{
	ipcu_chan_put(vma->vm_private_data);
}

static vm_fault_t chan_vm_fault(struct vm_fault *vmf)
{
	struct ipcu_chan *chan = vmf->vma->vm_private_data;
	struct page *page;

	/* ep_mmap() bounded the VMA, but a fault is checked on its own. */
	if (vmf->pgoff >= chan->nr_pages)
		return VM_FAULT_SIGBUS;
	page = chan->pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct chan_vm_ops = {
	.open	= chan_vm_open,
	.close	= chan_vm_close,
	.fault	= chan_vm_fault,
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
