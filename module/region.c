// SPDX-License-Identifier: GPL-2.0
/*
 * Page stores with copy-on-write cloning, sealing, and regions.
 *
 * A store is an array of pages behind one address_space (one inode per
 * channel or region; file offset in pages == array index).  Cloning gives
 * a second store the same pages; a page's owner count, page_private(),
 * says how many stores hold it and only changes under the page lock.
 *
 * Break on write (->page_mkwrite, with write-notify every first write to a
 * PTE comes here):
 *   1. take st->lock, then the page lock; if the slot no longer holds the
 *      page, another break replaced it: retry the access;
 *   2. owner count 1: the page is private, allow the write, return it
 *      locked so its PTE is installed before anything can share it again;
 *   3. otherwise copy it into a new page (charged to the writer's memory
 *      cgroup), put the copy in the slot, drop the old page's count, and
 *      zap the offset in every mapping of this store, in every process
 *      (unmap_mapping_range() on the store's own address_space), so that
 *      no PTE of this object keeps pointing at the shared page;
 *   4. return VM_FAULT_NOPAGE: the access is retried and faults the copy.
 *
 * Clone: under src->lock (faults and breaks of the source wait for it),
 * cycle every page lock so that faults already past the lock finish
 * installing their PTEs, zap every mapping of the source range, and only
 * then raise every page's owner count under its page lock.  After the zap
 * no writable PTE of the source exists and none can be made, and GUP-fast
 * cannot pin without a PTE: the clone is the source at one instant, and a
 * pin taken before the zap is seen.  Pages held from outside at clone time
 * (a DMA pin, a vmsplice, a /proc/pid/mem write in flight) are copied for
 * the clone at once, as fork() does: their holder may still write them.
 *
 * ->fault: read the slot and take a page reference under st->lock (the
 * owner's reference keeps the page alive meanwhile), then lock the page and
 * check that the slot still holds it; a break swaps slots only with the old
 * page locked.  The page is returned locked.
 *
 * Locking: mmap_lock -> st->lock -> page lock -> i_mmap_rwsem.  No path
 * takes st->lock with a page lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "acct.h"
#include "chan.h"
#include "compat.h"
#include "dev.h"
#include "inode.h"
#include "names.h"
#include "region.h"

/* Copies and lazily populated pages: user memory, charged to the toucher. */
#define STORE_GFP	(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_NOWARN | \
			 __GFP_RETRY_MAYFAIL)

/**
 * ipcu_store_init - an empty store of @nr pages
 * @st: the store, zeroed; the owner sets ->mapping before any mmap
 * @nr: pages
 *
 * Return: 0 or -ENOMEM.
 */
int ipcu_store_init(struct ipcu_store *st, unsigned long nr)
{
	mutex_init(&st->lock);
	st->nr = nr;
	st->pages = kvcalloc(nr, sizeof(*st->pages), GFP_KERNEL_ACCOUNT |
			     __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	return st->pages ? 0 : -ENOMEM;
}

static struct page *store_alloc_page(gfp_t gfp)
{
	struct page *page = alloc_page(gfp | __GFP_ZERO);

	if (page) {
		set_page_private(page, 1);
		atomic_long_inc(&ipcu_stats.pages);
	}
	return page;
}

/**
 * ipcu_store_populate - allocate every page now, in lowmem
 * @st: a store nobody can reach yet
 *
 * Channels need their pages up front: the kernel reads the control pages.
 *
 * Return: 0, -ENOMEM, or -EINTR if the caller was killed meanwhile.
 */
int ipcu_store_populate(struct ipcu_store *st)
{
	unsigned long i;

	for (i = 0; i < st->nr; i++) {
		/* A large store takes a while: stay killable. */
		if (fatal_signal_pending(current))
			return -EINTR;
		/* Fail with -ENOMEM over memory.max, never OOM-kill. */
		st->pages[i] = store_alloc_page(GFP_KERNEL_ACCOUNT |
						__GFP_NOWARN |
						__GFP_RETRY_MAYFAIL);
		if (!st->pages[i])
			return -ENOMEM;
		cond_resched();
	}
	return 0;
}

/* Drop this store's ownership of @page and the reference that goes with it. */
static void store_drop_page(struct page *page)
{
	unsigned long owners;

	lock_page(page);
	owners = page_private(page) - 1;
	set_page_private(page, owners);
	unlock_page(page);
	if (!owners)
		atomic_long_dec(&ipcu_stats.pages);
	put_page(page);
}

/**
 * ipcu_store_destroy - release every page; no mapping can exist any more
 * @st: the store
 */
void ipcu_store_destroy(struct ipcu_store *st)
{
	unsigned long i;

	if (st->pages) {
		for (i = 0; i < st->nr; i++) {
			if (st->pages[i])
				store_drop_page(st->pages[i]);
			cond_resched();
		}
		kvfree(st->pages);
	}
	WARN_ON_ONCE(st->writable_maps);
	mutex_destroy(&st->lock);
}

/**
 * ipcu_store_mmap - admit a new mapping
 * @st: the store
 * @vma: the new VMA; its range was checked by the caller
 *
 * Return: 0, or -EPERM for a writable mapping of a sealed store.
 */
int ipcu_store_mmap(struct ipcu_store *st, struct vm_area_struct *vma)
{
	int ret = 0;

	mutex_lock(&st->lock);
	if (vma->vm_flags & VM_MAYWRITE) {
		if (st->sealed)
			ret = -EPERM;
		else
			st->writable_maps++;
	}
	mutex_unlock(&st->lock);
	return ret;
}

/**
 * ipcu_store_vma_open - a VMA was duplicated (fork, split)
 * @st: the store
 * @vma: the new VMA
 */
void ipcu_store_vma_open(struct ipcu_store *st, struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_MAYWRITE) {
		mutex_lock(&st->lock);
		st->writable_maps++;
		mutex_unlock(&st->lock);
	}
}

/**
 * ipcu_store_vma_close - a VMA is going away
 * @st: the store
 * @vma: the VMA
 */
void ipcu_store_vma_close(struct ipcu_store *st, struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_MAYWRITE) {
		mutex_lock(&st->lock);
		if (!WARN_ON_ONCE(!st->writable_maps))
			st->writable_maps--;
		mutex_unlock(&st->lock);
	}
}

static void store_zap(struct ipcu_store *st, unsigned long first,
		      unsigned long nr)
{
	unmap_mapping_range(st->mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)nr << PAGE_SHIFT, 1);
}

/**
 * ipcu_store_fault - ->fault: find (or populate) the page at vmf->pgoff
 * @st: the store
 * @vmf: the fault
 *
 * Return: VM_FAULT_LOCKED with vmf->page set, VM_FAULT_NOPAGE to retry, or
 * VM_FAULT_SIGBUS (outside the store, or no memory for a new page).
 */
vm_fault_t ipcu_store_fault(struct ipcu_store *st, struct vm_fault *vmf)
{
	unsigned long idx = vmf->pgoff;
	struct page *page;

	if (idx >= st->nr)
		return VM_FAULT_SIGBUS;

	mutex_lock(&st->lock);
	page = st->pages[idx];
	if (!page) {
		page = store_alloc_page(STORE_GFP);
		if (!page) {
			mutex_unlock(&st->lock);
			return VM_FAULT_SIGBUS;
		}
		WRITE_ONCE(st->pages[idx], page);
	}
	get_page(page);
	mutex_unlock(&st->lock);

	lock_page(page);
	if (READ_ONCE(st->pages[idx]) != page) {
		/* Broken meanwhile; its PTEs are zapped. Fault again. */
		unlock_page(page);
		put_page(page);
		return VM_FAULT_NOPAGE;
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/*
 * May a write fault on @page (locked) go to the page itself?
 *
 * Not if another store shares it.  Not either if something outside the
 * store's owners and mappings holds a reference, such as a pipe that
 * vmspliced it: that reference was taken when the page may still have been
 * shared, and must keep seeing the bytes of that moment, not this writer's
 * (the CVE-2020-29374 class).  A reference is expected for the store, one
 * per PTE, and one held by the fault path itself.  Pages pinned for DMA are
 * the exception: the pin is this store's own I/O (pinned pages are never
 * shared by a clone), so it must keep writing to the page the store holds.
 * Pages before st->cow_first (a channel's control pages and descriptor
 * ring) are never shared and never replaced: the kernel reads them.
 */
static bool page_reusable(struct ipcu_store *st, unsigned long idx,
			  struct page *page)
{
	struct folio *folio = page_folio(page);

	if (idx < st->cow_first)
		return true;
	if (page_private(page) != 1)
		return false;
	if (folio_maybe_dma_pinned(folio))
		return true;
	return folio_ref_count(folio) <= 2 + ipcu_page_mapcount(page);
}

/**
 * ipcu_store_mkwrite - ->page_mkwrite: break copy-on-write sharing
 * @st: the store
 * @vmf: the fault, vmf->page mapped read-only or just faulted in
 *
 * Return: VM_FAULT_LOCKED to allow the write to a private page,
 * VM_FAULT_NOPAGE after a break (or a lost race) to retry the access, or
 * VM_FAULT_SIGBUS when no memory is left for the copy or the store is
 * sealed.
 */
vm_fault_t ipcu_store_mkwrite(struct ipcu_store *st, struct vm_fault *vmf)
{
	unsigned long idx = vmf->pgoff;
	struct page *page = vmf->page;
	struct page *copy;

	mutex_lock(&st->lock);
	lock_page(page);
	if (idx >= st->nr || st->pages[idx] != page) {
		unlock_page(page);
		mutex_unlock(&st->lock);
		return VM_FAULT_NOPAGE;
	}
	if (WARN_ON_ONCE(st->sealed)) {
		unlock_page(page);
		mutex_unlock(&st->lock);
		return VM_FAULT_SIGBUS;
	}
	if (page_reusable(st, idx, page)) {
		mutex_unlock(&st->lock);
		return VM_FAULT_LOCKED;
	}

	copy = alloc_page(STORE_GFP);
	if (!copy) {
		unlock_page(page);
		mutex_unlock(&st->lock);
		return VM_FAULT_SIGBUS;
	}
	copy_highpage(copy, page);
	set_page_private(copy, 1);
	atomic_long_inc(&ipcu_stats.pages);
	WRITE_ONCE(st->pages[idx], copy);
	set_page_private(page, page_private(page) - 1);
	if (!page_private(page))
		atomic_long_dec(&ipcu_stats.pages);
	st->cow_copies++;
	store_zap(st, idx, 1);
	unlock_page(page);
	mutex_unlock(&st->lock);
	/* The store's reference; the old page lives on in the other owners. */
	put_page(page);
	return VM_FAULT_NOPAGE;
}

/*
 * After the zap, a page's references are one per owning store, one per PTE
 * of the other owners' mappings, and whatever else holds it: a DMA pin, a
 * pipe that vmspliced it, a /proc/pid/mem or ptrace write in flight.  Such
 * a holder may still write it, or must keep seeing it as it is: the clone
 * gets a copy of its own instead (fork() does the same).
 */
static bool page_referenced_outside(struct page *page)
{
	struct folio *folio = page_folio(page);

	return folio_maybe_dma_pinned(folio) ||
	       folio_ref_count(folio) > page_private(page) +
					ipcu_page_mapcount(page);
}

/**
 * ipcu_store_clone - share @src's pages from @first with @dst
 * @dst: an empty store nobody can reach yet, dst->nr pages
 * @src: the source
 * @first: index in @src of dst's first page
 *
 * Return: 0, or -ENOMEM copying a page held from outside (dst is then
 * partially filled; ipcu_store_destroy() releases it).
 */
int ipcu_store_clone(struct ipcu_store *dst, struct ipcu_store *src,
		     unsigned long first)
{
	unsigned long i;
	int ret = 0;

	mutex_lock(&src->lock);
	/*
	 * Faults and breaks of the source now wait for src->lock.  A fault
	 * that got past that before holds its page's lock until its PTE is
	 * in: cycling every page lock lets those finish, and the zap then
	 * removes every PTE of the range, writable or not.  From here until
	 * the unlock nothing can write the source through a mapping, and no
	 * GUP-fast pin can be taken without faulting: the clone is one
	 * instant of the source, and a pin taken before shows up below.
	 */
	for (i = 0; i < dst->nr; i++) {
		struct page *page = src->pages[first + i];

		if (page) {
			lock_page(page);
			unlock_page(page);
		}
	}
	store_zap(src, first, dst->nr);

	for (i = 0; i < dst->nr; i++) {
		struct page *page = src->pages[first + i];

		if (!page)
			continue;
		lock_page(page);
		if (page_referenced_outside(page)) {
			struct page *copy = store_alloc_page(STORE_GFP);

			if (!copy) {
				unlock_page(page);
				ret = -ENOMEM;
				break;
			}
			copy_highpage(copy, page);
			dst->pages[i] = copy;
		} else {
			set_page_private(page, page_private(page) + 1);
			get_page(page);
			dst->pages[i] = page;
		}
		unlock_page(page);
		cond_resched();
	}
	mutex_unlock(&src->lock);
	return ret;
}

/* --- regions ------------------------------------------------------------ */

/**
 * struct ipcu_region - a standalone page store with a file and a name
 * @ref: files and VMAs hold one each.
 * @inode: private inode; mappings hang off its i_mapping.
 * @store: the pages.
 * @name: identity and permissions.
 * @acct: per-user accounting record.
 * @acct_bytes: bytes charged.
 */
struct ipcu_region {
	struct kref ref;
	struct inode *inode;
	struct ipcu_store store;
	struct ipcu_name name;
	struct ipcu_user *acct;
	u64 acct_bytes;
};

static void region_get(struct ipcu_region *r)
{
	kref_get(&r->ref);
}

static void region_free(struct ipcu_region *r)
{
	ipcu_store_destroy(&r->store);
	ipcu_name_release(&r->name);
	if (r->inode)
		iput(r->inode);
	ipcu_acct_uncharge(r->acct, r->acct_bytes);
	kfree(r);
	atomic_long_dec(&ipcu_stats.regions);
}

/*
 * Called with ipcu_names_lock held by kref_put_mutex(); drops it.  (No
 * __releases() annotation: sparse does not track mutexes.)
 */
static void region_release(struct kref *ref)
{
	struct ipcu_region *r = container_of(ref, struct ipcu_region, ref);

	ipcu_name_unpublish(&r->name);
	mutex_unlock(&ipcu_names_lock);
	region_free(r);
}

static void region_put(struct ipcu_region *r)
{
	kref_put_mutex(&r->ref, region_release, &ipcu_names_lock);
}

/*
 * Every region, clones included, is charged its full size to its creator's
 * per-user limit up front, so a later copy-on-write fault never runs into
 * that limit; the pages themselves are charged to memory cgroups as they
 * are allocated.
 */
static struct ipcu_region *region_new(unsigned long nr, umode_t mode)
{
	u64 bytes = (u64)nr << PAGE_SHIFT;
	struct ipcu_user *acct;
	struct ipcu_region *r;
	int err;

	acct = ipcu_acct_charge(current_euid(), bytes);
	if (IS_ERR(acct))
		return ERR_CAST(acct);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		ipcu_acct_uncharge(acct, bytes);
		return ERR_PTR(-ENOMEM);
	}
	atomic_long_inc(&ipcu_stats.regions);
	kref_init(&r->ref);
	r->acct = acct;
	r->acct_bytes = bytes;
	ipcu_name_init(&r->name, IPCU_NAME_REGION, mode);
	err = ipcu_store_init(&r->store, nr);
	if (err)
		goto err_free;
	r->inode = ipcu_inode_new();
	if (IS_ERR(r->inode)) {
		err = PTR_ERR(r->inode);
		r->inode = NULL;
		goto err_free;
	}
	r->store.mapping = r->inode->i_mapping;
	return r;

err_free:
	region_free(r);
	return ERR_PTR(err);
}

/* A new file on @r with an fd reserved for it, left in @ctx. */
static int region_open(struct ipcu_region *r, int flags,
		       struct ipcu_ioctl_ctx *ctx)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	region_get(r);
	file = ipcu_file_new(r->inode, "[ipcunit-region]", flags,
			     &ipcu_region_fops, r);
	if (IS_ERR(file)) {
		region_put(r);
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	ctx->file = file;
	ctx->fd = fd;
	return fd;
}

/**
 * ipcu_region_create - IPCU_IOC_REGION_CREATE
 * @file: the device file
 * @karg: struct ipcu_region_create, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new region file
 *
 * Return: 0 or -errno.
 */
long ipcu_region_create(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_region_create *req = karg;
	char name[IPCU_NAME_MAX];
	struct ipcu_region *r;
	int fd, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (req->pad || !req->size || req->size > IPCU_REGION_MAX ||
	    !PAGE_ALIGNED(req->size))
		return -EINVAL;
	if (req->mode & ~0777U || (!req->name && req->mode))
		return -EINVAL;
	if (req->name) {
		err = ipcu_name_from_user(name, req->name);
		if (err)
			return err;
	}

	r = region_new(req->size >> PAGE_SHIFT, req->mode);
	if (IS_ERR(r))
		return PTR_ERR(r);
	fd = region_open(r, O_RDWR, ctx);
	if (fd < 0) {
		region_put(r);
		return fd;
	}
	/* Published last: nobody can attach to a half-made region. */
	if (req->name) {
		err = ipcu_name_publish(&r->name, name);
		if (err) {
			fput(ctx->file);
			put_unused_fd(ctx->fd);
			ctx->file = NULL;
			region_put(r);
			return err;
		}
	}
	region_put(r);
	req->fd = fd;
	return 0;
}

/**
 * ipcu_region_attach - IPCU_IOC_REGION_ATTACH
 * @file: the device file
 * @karg: struct ipcu_region_attach, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new region file
 *
 * Return: 0 or -errno.
 */
long ipcu_region_attach(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_region_attach *req = karg;
	bool rdonly = req->flags & IPCU_ATTACH_RDONLY;
	char name[IPCU_NAME_MAX];
	struct ipcu_region *r = NULL;
	struct ipcu_name *n;
	int fd, err;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (req->pad || req->pad2)
		return -EINVAL;
	err = ipcu_name_from_user(name, req->name);
	if (err)
		return err;

	mutex_lock(&ipcu_names_lock);
	n = ipcu_name_find(IPCU_NAME_REGION, name);
	if (n) {
		r = container_of(n, struct ipcu_region, name);
		region_get(r);
	}
	mutex_unlock(&ipcu_names_lock);
	if (!r)
		return -ENOENT;

	if (!ipcu_name_permitted(&r->name, rdonly ? MAY_READ :
				 MAY_READ | MAY_WRITE)) {
		region_put(r);
		return -EACCES;
	}
	fd = region_open(r, rdonly ? O_RDONLY : O_RDWR, ctx);
	region_put(r);
	if (fd < 0)
		return fd;
	req->fd = fd;
	return 0;
}

/**
 * ipcu_clone_ioctl - IPCU_IOC_CLONE on a region or a channel endpoint
 * @file: a region file or an endpoint file
 * @karg: struct ipcu_clone, flags and reserved already checked
 * @arg: unused
 * @ctx: receives the new region file
 *
 * Return: 0, -ENOSPC over the per-user limit, -ENOMEM, or -errno.
 */
long ipcu_clone_ioctl(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_clone *req = karg;
	struct ipcu_store *src;
	struct ipcu_region *r;
	unsigned long first;
	int fd, err;

	if (file->f_op == &ipcu_region_fops) {
		struct ipcu_region *from = file->private_data;

		src = &from->store;
		first = 0;
	} else {
		struct ipcu_chan *chan = ipcu_ep_from_file(file)->chan;

		src = &chan->store;
		first = chan->pay_pgoff;
	}

	r = region_new(src->nr - first, 0);
	if (IS_ERR(r))
		return PTR_ERR(r);
	err = ipcu_store_clone(&r->store, src, first);
	if (err)
		goto out_put;
	r->store.sealed = req->flags & IPCU_CLONE_SEAL;
	fd = region_open(r, O_RDWR, ctx);
	if (fd < 0) {
		err = fd;
		goto out_put;
	}
	req->fd = fd;
out_put:
	region_put(r);
	return err;
}

/**
 * ipcu_seal_ioctl - IPCU_IOC_SEAL: make a region read-only for good
 * @file: a region file
 * @karg: unused
 * @arg: flags, must be 0
 * @ctx: unused
 *
 * Return: 0 (also if already sealed), -EINVAL for flags, -EPERM on a
 * read-only fd, -EBUSY while a writable mapping or a DMA pin exists.
 */
long ipcu_seal_ioctl(struct file *file, void *karg, unsigned long arg,
		     struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_region *r = file->private_data;
	struct ipcu_store *st = &r->store;
	unsigned long i;
	int ret = 0;

	if (arg)
		return -EINVAL;
	if (!(file->f_mode & FMODE_WRITE))
		return -EPERM;

	mutex_lock(&st->lock);
	if (st->writable_maps)
		ret = -EBUSY;
	/* A pinned page may still be written by a device. */
	for (i = 0; !ret && i < st->nr; i++)
		if (st->pages[i] && folio_maybe_dma_pinned(page_folio(st->pages[i])))
			ret = -EBUSY;
	if (!ret)
		st->sealed = true;
	mutex_unlock(&st->lock);
	return ret;
}

/**
 * ipcu_region_stats_ioctl - IPCU_IOC_REGION_STATS
 * @file: a region file
 * @karg: struct ipcu_region_stats, flags and reserved already checked
 * @arg: unused
 * @ctx: unused
 *
 * Return: 0.
 */
long ipcu_region_stats_ioctl(struct file *file, void *karg, unsigned long arg,
			     struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_region *r = file->private_data;
	struct ipcu_region_stats *s = karg;
	struct ipcu_store *st = &r->store;
	unsigned long i;

	s->size = (u64)st->nr << PAGE_SHIFT;
	s->private_pages = 0;
	s->shared_pages = 0;
	mutex_lock(&st->lock);
	for (i = 0; i < st->nr; i++) {
		struct page *page = st->pages[i];

		if (!page)
			continue;
		/* Counts move under page locks; a snapshot is good enough. */
		if (data_race(page_private(page)) > 1)
			s->shared_pages++;
		else
			s->private_pages++;
	}
	s->state = st->sealed ? IPCU_REGION_SEALED : 0;
	s->cow_copies = st->cow_copies;
	s->writable_maps = st->writable_maps;
	mutex_unlock(&st->lock);
	return 0;
}

static void region_vm_open(struct vm_area_struct *vma)
{
	struct ipcu_region *r = vma->vm_private_data;

	region_get(r);
	ipcu_store_vma_open(&r->store, vma);
}

static void region_vm_close(struct vm_area_struct *vma)
{
	struct ipcu_region *r = vma->vm_private_data;

	ipcu_store_vma_close(&r->store, vma);
	region_put(r);
}

static vm_fault_t region_vm_fault(struct vm_fault *vmf)
{
	struct ipcu_region *r = vmf->vma->vm_private_data;

	return ipcu_store_fault(&r->store, vmf);
}

static vm_fault_t region_vm_mkwrite(struct vm_fault *vmf)
{
	struct ipcu_region *r = vmf->vma->vm_private_data;

	return ipcu_store_mkwrite(&r->store, vmf);
}

static const struct vm_operations_struct region_vm_ops = {
	.open		= region_vm_open,
	.close		= region_vm_close,
	.fault		= region_vm_fault,
	.page_mkwrite	= region_vm_mkwrite,
};

static int region_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ipcu_region *r = file->private_data;
	unsigned long npages = vma_pages(vma);
	int err;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= r->store.nr || npages > r->store.nr - vma->vm_pgoff)
		return -EINVAL;
	/*
	 * A mapping made without PROT_WRITE stays read-only, so that it
	 * never stands in the way of a seal: map again to write.
	 */
	if (!(vma->vm_flags & VM_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);
	err = ipcu_store_mmap(&r->store, vma);
	if (err)
		return err;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &region_vm_ops;
	vma->vm_private_data = r;
	region_get(r);
	return 0;
}

static int region_file_release(struct inode *inode, struct file *file)
{
	region_put(file->private_data);
	return 0;
}

const struct file_operations ipcu_region_fops = {
	.owner		= THIS_MODULE,
	.release	= region_file_release,
	.mmap		= region_mmap,
	.unlocked_ioctl	= ipcu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
