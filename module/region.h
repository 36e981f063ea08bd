/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_REGION_H
#define _IPCU_REGION_H

#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct ipcu_ioctl_ctx;

/**
 * struct ipcu_store - a page array that can share pages copy-on-write
 * @lock: protects @pages (writes), @writable_maps, @sealed, @cow_copies.
 * @nr: pages in @pages, immutable.
 * @pages: the pages; NULL until first touched.  Each page's owner count
 *	(how many stores hold it) is its page_private(), changed only under
 *	the page lock.
 * @mapping: address_space all mappings of the owner hang off; file offset
 *	(in pages) == index in @pages.
 * @cow_first: first index that clones may share; pages before it are
 *	never replaced (a channel's control pages and descriptors).
 * @writable_maps: VMAs that may write (VM_MAYWRITE), protected by ->lock.
 * @sealed: no writable mapping can ever be made again, protected by ->lock.
 * @cow_copies: pages copied on write so far, protected by ->lock.
 *
 * Lock order: mmap_lock -> ->lock -> page lock -> i_mmap_rwsem.
 */
struct ipcu_store {
	struct mutex lock;		/* see above */
	unsigned long nr;
	struct page **pages;
	struct address_space *mapping;
	unsigned long cow_first;
	unsigned long writable_maps;
	bool sealed;
	u64 cow_copies;
};

int ipcu_store_init(struct ipcu_store *st, unsigned long nr);
int ipcu_store_populate(struct ipcu_store *st);
void ipcu_store_destroy(struct ipcu_store *st);
int ipcu_store_mmap(struct ipcu_store *st, struct vm_area_struct *vma);
void ipcu_store_vma_open(struct ipcu_store *st, struct vm_area_struct *vma);
void ipcu_store_vma_close(struct ipcu_store *st, struct vm_area_struct *vma);
vm_fault_t ipcu_store_fault(struct ipcu_store *st, struct vm_fault *vmf);
vm_fault_t ipcu_store_mkwrite(struct ipcu_store *st, struct vm_fault *vmf);
int ipcu_store_clone(struct ipcu_store *dst, struct ipcu_store *src,
		     unsigned long first);

long ipcu_region_create(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx);
long ipcu_region_attach(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx);
long ipcu_clone_ioctl(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx);
long ipcu_seal_ioctl(struct file *file, void *karg, unsigned long arg,
		     struct ipcu_ioctl_ctx *ctx);
long ipcu_region_stats_ioctl(struct file *file, void *karg, unsigned long arg,
			     struct ipcu_ioctl_ctx *ctx);

extern const struct file_operations ipcu_region_fops;

#endif /* _IPCU_REGION_H */
