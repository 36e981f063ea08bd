/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_CHAN_H
#define _IPCU_CHAN_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <uapi/linux/ipcunit.h>

#include "names.h"
#include "region.h"
#include "ring.h"

struct eventfd_ctx;
struct file;
struct inode;
struct ipc_namespace;
struct ipcu_user;
struct page;

/**
 * struct ipcu_efd - a registered eventfd, freed after an RCU grace period
 * @ctx: the eventfd context (one reference).
 * @rcu: for call_rcu().
 */
struct ipcu_efd {
	struct eventfd_ctx *ctx;
	struct rcu_head rcu;
};

/**
 * struct ipcu_chan - one channel: its pages, its two roles, its name
 * @ref: endpoints, mappings and in-flight lookups each hold one.
 * @inode: private inode; every mapping of the channel is in its i_mapping.
 * @geom: ring geometry, immutable.
 * @nr_pages: pages in @pages, immutable.
 * @desc_pgoff: first page of the descriptor ring.
 * @pay_pgoff: first page of the payload area.
 * @store: the channel's pages (control, descriptors, payload).
 * @cons: kernel view of the consumer's control page.
 * @prod: kernel view of the producer's control page.
 * @lock: protects @held and @gone.
 * @held: role is held by an endpoint file, protected by ->lock.
 * @gone: role was held and has been released since, protected by ->lock.
 * @wq: waiters per role: pollers and IPCU_IOC_WAIT sleepers.
 * @efd_lock: serialises updates of @efd.
 * @efd: eventfds per role and event; RCU, written under ->efd_lock.
 * @doorbells: doorbells rung per role.
 * @sleeps: waits that slept per role.
 * @name: identity and permissions (names.c).
 * @acct: per-user accounting record of the creator.
 * @acct_bytes: bytes charged to @acct.
 */
struct ipcu_chan {
	struct kref ref;
	struct inode *inode;
	struct ipcu_ring_geom geom;
	unsigned long nr_pages;
	unsigned long desc_pgoff;
	unsigned long pay_pgoff;
	struct ipcu_store store;
	struct ipcu_cons_ctrl *cons;
	struct ipcu_prod_ctrl *prod;

	spinlock_t lock;		/* protects held[] and gone[] */
	bool held[2];
	bool gone[2];
	wait_queue_head_t wq[2];

	struct mutex efd_lock;		/* serialises efd[][] updates */
	struct ipcu_efd __rcu *efd[2][IPCU_EV_NR];
	atomic64_t doorbells[2];
	atomic64_t sleeps[2];

	struct ipcu_name name;

	struct ipcu_user *acct;
	u64 acct_bytes;
};

/**
 * struct ipcu_ep - private data of an endpoint file
 * @chan: the channel (one reference).
 * @role: IPCU_ROLE_*.
 * @live: the fd reached user space; its release is a peer departure.
 * @was_gone: the role had departed before this endpoint claimed it; if the
 *	fd never reaches user space, its release restores that.
 */
struct ipcu_ep {
	struct ipcu_chan *chan;
	u32 role;
	bool live;
	bool was_gone;
};

struct ipcu_ioctl_ctx;

extern const struct file_operations ipcu_ep_fops;

void ipcu_chan_put(struct ipcu_chan *chan);
struct ipcu_ep *ipcu_ep_from_file(struct file *file);

long ipcu_chan_create(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx);
long ipcu_chan_attach(struct file *file, void *karg, unsigned long arg,
		      struct ipcu_ioctl_ctx *ctx);
long ipcu_ep_info(struct file *file, void *karg, unsigned long arg,
		  struct ipcu_ioctl_ctx *ctx);
long ipcu_ep_peer(struct file *file, void *karg, unsigned long arg,
		  struct ipcu_ioctl_ctx *ctx);

#endif /* _IPCU_CHAN_H */
