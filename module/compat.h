/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ipcunit builds for (Debian 6.1 and 6.12)
 * live here, so the rest of the module reads like current upstream code.
 * Kbuild probes the target kernel for each feature (IPCU_HAVE_*), rather
 * than guessing from version numbers that distributions backport around.
 */
#ifndef _IPCU_COMPAT_H
#define _IPCU_COMPAT_H

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/ipc_namespace.h>
#include <linux/proc_ns.h>

#ifndef IPCU_HAVE_VM_FLAGS_SET
/* vm_flags became read-only behind accessors in 6.3. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#ifndef IPCU_HAVE_FD_FILE
/* struct fd became opaque behind fd_file() in 6.12. */
#define fd_file(f) ((f).file)
#endif

/* How many PTEs map @page (an order-0 page). */
static inline int ipcu_page_mapcount(struct page *page)
{
#ifdef IPCU_HAVE_PAGE_MAPCOUNT
	return page_mapcount(page);
#else
	return folio_mapcount(page_folio(page));
#endif
}

static inline void ipcu_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef IPCU_HAVE_EVENTFD_SIGNAL_NOCOUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * Named objects pin their IPC namespace so a name can never be found from
 * a later namespace that reuses the memory.  Ours is often the last
 * reference: an exiting task drops its namespaces before its files'
 * deferred release runs.  Where put_ipc_ns() is not exported to modules
 * (6.1), the namespace's own operations put it, as nsfs does.
 */
static inline struct ipc_namespace *ipcu_get_ipc_ns(struct ipc_namespace *ns)
{
	refcount_inc(&ns->ns.count);
	return ns;
}

static inline void ipcu_put_ipc_ns(struct ipc_namespace *ns)
{
#ifdef IPCU_HAVE_PUT_IPC_NS
	put_ipc_ns(ns);
#else
	ns->ns.ops->put(&ns->ns);
#endif
}

#endif /* _IPCU_COMPAT_H */
