// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness, poll, doorbells, waiting and eventfd notifications.
 *
 * Readiness is computed from the indices in shared memory, which either
 * peer may scribble on: each index is read exactly once per evaluation with
 * READ_ONCE() into a snapshot, and only the snapshot is used.  The reads go
 * in this order: the caller's own indices first, then (acquire) the peer's.
 * With honest peers that order keeps the invariants of ipcu_ring_valid()
 * even while the peer runs; a snapshot that still breaks them after a
 * re-read means a peer wrote garbage, and is reported as EPOLLERR.
 *
 * Wakeup protocol (see uapi/linux/ipcunit.h): the waker publishes its index,
 * issues a full barrier and reads the sleeper's NEED_WAKEUP flag; the sleeper
 * sets the flag, issues a full barrier and re-checks the ring.  Here the
 * sleeper is queued on chan->wq[role] (poll_wait() or prepare_to_wait(),
 * which take the waitqueue lock) before readiness is evaluated, and the
 * doorbell wakes that queue under the same lock after the waker's store:
 * either the evaluation sees the store or the wakeup sees the waiter.
 *
 * Locking: chan->efd_lock serialises eventfd registration; signalling only
 * takes rcu_read_lock().  A replaced eventfd is released after a grace
 * period, so a concurrent signal never touches a freed context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "chan.h"
#include "compat.h"
#include "dev.h"
#include "notify.h"

/* A snapshot that breaks the invariants is re-read this often. */
#define SNAP_TRIES	3

static void read_snap(struct ipcu_chan *chan, u32 role,
		      struct ipcu_ring_snap *s)
{
	if (role == IPCU_ROLE_CONSUMER) {
		s->head = READ_ONCE(chan->cons->head);
		s->pay_head = READ_ONCE(chan->cons->pay_head);
		/* Pairs with the producer's store-release of tail. */
		s->tail = smp_load_acquire(&chan->prod->tail);
		s->pay_tail = READ_ONCE(chan->prod->pay_tail);
		s->want = 0;
	} else {
		s->tail = READ_ONCE(chan->prod->tail);
		s->pay_tail = READ_ONCE(chan->prod->pay_tail);
		s->want = READ_ONCE(chan->prod->want);
		/* Pairs with the consumer's store-release of head. */
		s->head = smp_load_acquire(&chan->cons->head);
		s->pay_head = READ_ONCE(chan->cons->pay_head);
	}
}

/**
 * ipcu_readiness - poll mask of one role of a channel
 * @chan: the channel
 * @role: IPCU_ROLE_*
 *
 * Return: EPOLLIN (consumer, a message is committed), EPOLLOUT (producer,
 * room for the message it waits for), EPOLLHUP (the peer has gone) and
 * EPOLLERR (the shared indices are inconsistent).
 */
__poll_t ipcu_readiness(struct ipcu_chan *chan, u32 role)
{
	struct ipcu_ring_snap snap;
	__poll_t mask = 0;
	int tries = 0;

	do {
		read_snap(chan, role, &snap);
	} while (!ipcu_ring_valid(&chan->geom, &snap) && ++tries < SNAP_TRIES);

	if (tries == SNAP_TRIES)
		mask |= EPOLLERR;
	else if (role == IPCU_ROLE_CONSUMER && ipcu_ring_readable(&snap))
		mask |= EPOLLIN | EPOLLRDNORM;
	else if (role == IPCU_ROLE_PRODUCER &&
		 ipcu_ring_writable(&chan->geom, &snap))
		mask |= EPOLLOUT | EPOLLWRNORM;

	/* Lockless: a stale value only delays EPOLLHUP to the next wakeup. */
	if (READ_ONCE(chan->gone[!role]))
		mask |= EPOLLHUP;
	return mask;
}

/**
 * ipcu_ep_poll - f_op->poll of endpoint files
 * @file: the endpoint file
 * @pt: poll table
 *
 * Return: readiness of the endpoint's role.
 */
__poll_t ipcu_ep_poll(struct file *file, poll_table *pt)
{
	struct ipcu_ep *ep = file->private_data;

	poll_wait(file, &ep->chan->wq[ep->role], pt);
	return ipcu_readiness(ep->chan, ep->role);
}

static void efd_signal(struct ipcu_chan *chan, u32 role, u32 event)
{
	struct ipcu_efd *efd;

	rcu_read_lock();
	efd = rcu_dereference(chan->efd[role][event]);
	if (efd)
		ipcu_eventfd_signal(efd->ctx);
	rcu_read_unlock();
}

static void efd_free_rcu(struct rcu_head *head)
{
	struct ipcu_efd *efd = container_of(head, struct ipcu_efd, rcu);

	eventfd_ctx_put(efd->ctx);
	kfree(efd);
}

static void efd_set(struct ipcu_chan *chan, u32 role, u32 event,
		    struct ipcu_efd *efd)
{
	struct ipcu_efd *old;

	mutex_lock(&chan->efd_lock);
	old = rcu_replace_pointer(chan->efd[role][event], efd,
				  lockdep_is_held(&chan->efd_lock));
	mutex_unlock(&chan->efd_lock);
	if (old)
		call_rcu(&old->rcu, efd_free_rcu);
}

/**
 * ipcu_efd_drop_role - unregister every eventfd of a released role
 * @chan: the channel
 * @role: the role being released
 */
void ipcu_efd_drop_role(struct ipcu_chan *chan, u32 role)
{
	u32 event;

	for (event = 0; event < IPCU_EV_NR; event++)
		efd_set(chan, role, event, NULL);
}

/**
 * ipcu_notify_peer_gone - signal the other side's peer-gone eventfd
 * @chan: the channel, ->lock held (the state change and the event are one)
 * @role: the role that was released
 *
 * The caller wakes the other side's waiters after dropping ->lock.
 */
void ipcu_notify_peer_gone(struct ipcu_chan *chan, u32 role)
{
	lockdep_assert_held(&chan->lock);
	efd_signal(chan, !role, IPCU_EV_PEER_GONE);
}

/* Wake the peer of @role: the consumer for data, the producer for space. */
static void ring_doorbell(struct ipcu_chan *chan, u32 role)
{
	u32 peer = !role;

	atomic64_inc(&chan->doorbells[role]);
	if (role == IPCU_ROLE_PRODUCER) {
		wake_up_interruptible_poll(&chan->wq[peer], EPOLLIN | EPOLLRDNORM);
		efd_signal(chan, peer, IPCU_EV_DATA);
	} else {
		wake_up_interruptible_poll(&chan->wq[peer], EPOLLOUT | EPOLLWRNORM);
		efd_signal(chan, peer, IPCU_EV_SPACE);
	}
}

/**
 * ipcu_doorbell_ioctl - IPCU_IOC_DOORBELL
 * @file: an endpoint file
 * @karg: unused (the command takes no structure)
 * @arg: flags, must be 0
 * @ctx: unused
 *
 * Return: 0 or -EINVAL.
 */
long ipcu_doorbell_ioctl(struct file *file, void *karg, unsigned long arg,
			 struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep = file->private_data;

	if (arg)
		return -EINVAL;
	ring_doorbell(ep->chan, ep->role);
	return 0;
}

static bool ready(struct ipcu_chan *chan, u32 role, __poll_t *revents)
{
	*revents = ipcu_readiness(chan, role);
	return *revents != 0;
}

static int wait_ready(struct ipcu_chan *chan, u32 role, s64 timeout_ns,
		      __poll_t *revents)
{
	wait_queue_head_t *wq = &chan->wq[role];
	long ret;

	if (ready(chan, role, revents))
		return 0;
	if (!timeout_ns)
		return -ETIMEDOUT;

	atomic64_inc(&chan->sleeps[role]);
	if (timeout_ns < 0)
		return wait_event_interruptible(*wq, ready(chan, role, revents));
	ret = wait_event_interruptible_hrtimeout(*wq,
						 ready(chan, role, revents),
						 ns_to_ktime(timeout_ns));
	if (ret == -ETIME)
		return -ETIMEDOUT;
	/* A relative timeout cannot be restarted transparently. */
	if (ret == -ERESTARTSYS)
		return -EINTR;
	return ret;
}

/**
 * ipcu_wait_ioctl - IPCU_IOC_WAIT: optionally ring a doorbell, then wait
 * @file: an endpoint file
 * @karg: struct ipcu_wait, flags and reserved already checked
 * @arg: unused
 * @ctx: unused
 *
 * Return: 0 with ->revents set, -ETIMEDOUT, -EINTR or -ERESTARTSYS, -EBADF
 * for a bad doorbell_fd, -EINVAL for a doorbell_fd that is not an endpoint.
 */
long ipcu_wait_ioctl(struct file *file, void *karg, unsigned long arg,
		     struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_wait *req = karg;
	__poll_t revents = 0;
	int ret;

	if (req->pad)
		return -EINVAL;
	if (req->flags & IPCU_WAIT_DOORBELL) {
		struct fd f = fdget(req->doorbell_fd);
		struct ipcu_ep *bell;

		if (!fd_file(f))
			return -EBADF;
		bell = ipcu_ep_from_file(fd_file(f));
		if (!bell) {
			fdput(f);
			return -EINVAL;
		}
		ring_doorbell(bell->chan, bell->role);
		fdput(f);
	} else if (req->doorbell_fd != -1) {
		return -EINVAL;
	}

	ret = wait_ready(ep->chan, ep->role, req->timeout_ns, &revents);
	req->revents = (__force u32)revents;
	return ret;
}

/**
 * ipcu_eventfd_ioctl - IPCU_IOC_EP_EVENTFD: register or unregister
 * @file: an endpoint file
 * @karg: struct ipcu_ep_eventfd, flags and reserved already checked
 * @arg: unused
 * @ctx: unused
 *
 * Return: 0, -EINVAL for an event this role never receives or a bad field,
 * -EBADF for a bad fd, -EINVAL for an fd that is not an eventfd.
 */
long ipcu_eventfd_ioctl(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx)
{
	struct ipcu_ep *ep = file->private_data;
	struct ipcu_ep_eventfd *req = karg;
	struct eventfd_ctx *ectx;
	struct ipcu_efd *efd;

	if (req->pad || req->event >= IPCU_EV_NR)
		return -EINVAL;
	if ((req->event == IPCU_EV_DATA && ep->role != IPCU_ROLE_CONSUMER) ||
	    (req->event == IPCU_EV_SPACE && ep->role != IPCU_ROLE_PRODUCER))
		return -EINVAL;
	if (req->fd == -1) {
		efd_set(ep->chan, ep->role, req->event, NULL);
		return 0;
	}
	if (req->fd < 0)
		return -EBADF;

	efd = kzalloc(sizeof(*efd), GFP_KERNEL_ACCOUNT);
	if (!efd)
		return -ENOMEM;
	ectx = eventfd_ctx_fdget(req->fd);
	if (IS_ERR(ectx)) {
		kfree(efd);
		return PTR_ERR(ectx);
	}
	efd->ctx = ectx;
	efd_set(ep->chan, ep->role, req->event, efd);
	return 0;
}
