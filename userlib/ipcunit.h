/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * libipcunit: a thin library over /dev/ipcunit channels.
 *
 * Setting up is a handful of system calls (ipcu_chan_create(),
 * ipcu_chan_attach(), ipcu_ep_peer(), ipcu_ep_from_fd()); the data path is
 * the static inline functions below and touches only shared memory:
 *
 *   producer: ipcu_reserve() -> write the payload -> ipcu_commit()
 *   consumer: ipcu_peek() -> read the payload -> ipcu_release()
 *   both:     ipcu_flush() publishes a batch and rings the peer's doorbell
 *             only if the peer said it sleeps (IPCU_NEED_WAKEUP);
 *             ipcu_wait() sleeps when there is nothing to do.
 *
 * The ring protocol, its memory ordering and the wakeup protocol are
 * described in <linux/ipcunit.h>; the comments here refer to its pairs (A)
 * and (B).
 *
 * Every function returns 0 (or a non-negative count or file descriptor) on
 * success and a negative errno value on failure; errno itself is not part of
 * the interface.
 *
 * An endpoint (struct ipcu_ep) is used by one thread at a time; the two
 * endpoints of a channel, the producer and the consumer, may live in
 * different threads or processes.
 */
#ifndef IPCUNIT_H
#define IPCUNIT_H

#include <errno.h>
#include <stddef.h>
#include <linux/ipcunit.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPCU_LIB_MAJOR		1
#define IPCU_LIB_MINOR		0

/* Default for struct ipcu_ep.spin. */
#define IPCU_SPIN_DEFAULT	256

/**
 * struct ipcu_ep_stats - what an endpoint cost in system calls
 * @doorbells: doorbells rung by this endpoint, alone or inside a wait.
 * @waits: waits that found the endpoint not ready and had to spin or sleep.
 * @sleeps: IPCU_IOC_WAIT calls.
 */
struct ipcu_ep_stats {
	unsigned long long doorbells;
	unsigned long long waits;
	unsigned long long sleeps;
};

/**
 * struct ipcu_ep - one mapped endpoint
 *
 * Only @fd, @role, @spin and @stats are meant to be used directly; the other
 * fields belong to the inline functions below.
 *
 * @fd: the endpoint file descriptor, -1 for a ring in caller memory.
 * @role: IPCU_ROLE_PRODUCER or IPCU_ROLE_CONSUMER.
 * @entries: descriptor slots (a power of two).
 * @mask: @entries - 1.
 * @max_msg: largest message in bytes.
 * @pay_size: payload area in bytes (a power of two).
 * @spin: how many times ipcu_wait() checks the ring before it sleeps; may be
 *	changed at any time (0 sleeps at once).
 * @prod: the producer's control page.
 * @cons: the consumer's control page.
 * @desc: the descriptor ring.
 * @payload: the payload area.
 * @head: consumer: next message to peek; producer: the consumer's head as
 *	last read (cached).
 * @pay_head: consumer: end of the last released message; producer: the
 *	consumer's pay_head as last read (cached).
 * @tail: producer: next descriptor to fill; consumer: the producer's tail as
 *	last read (cached).
 * @pay_tail: producer: end of the last committed message; consumer: unused.
 * @published: this side's own index (@tail or @head) as last published by
 *	ipcu_flush().
 * @cur_pos: producer: start of the pending reservation; consumer: start of
 *	the peeked message.
 * @cur_len: length of the pending reservation or of the peeked message;
 *	0 if there is none.
 * @cur_tag: consumer: tag of the peeked message.
 * @want: producer: bytes of the last ipcu_reserve() that failed with
 *	-EAGAIN, or of ipcu_wait_space(); 0 after a successful reservation.
 * @sleep_seq: how many times this side has armed IPCU_NEED_WAKEUP; kept in
 *	the upper bits of its flags word (IPCU_SLEEP_SEQ_SHIFT).
 * @rung: the peer's flags word this side last rang the doorbell for: one
 *	doorbell per sleep of the peer, however many flushes see the flag.
 * @map_base: the mapping of the endpoint, NULL for a ring in caller memory.
 * @map_len: its length.
 * @stats: counters, zeroed when the endpoint is set up.
 *
 * The producer's and the consumer's own indices live here, in private
 * memory: the shared copies are only ever written by ipcu_flush(), so a
 * hostile peer cannot move them.  The cached copies of the peer's indices
 * are validated each time they are read.
 */
struct ipcu_ep {
	int fd;
	unsigned int role;
	unsigned int entries;
	unsigned int mask;
	unsigned int max_msg;
	unsigned int pay_size;
	unsigned int spin;

	struct ipcu_prod_ctrl *prod;
	struct ipcu_cons_ctrl *cons;
	struct ipcu_desc *desc;
	unsigned char *payload;

	__u32 head;
	__u32 pay_head;
	__u32 tail;
	__u32 pay_tail;
	__u32 published;

	__u32 cur_pos;
	__u32 cur_len;
	__u32 cur_tag;
	__u32 want;
	__u32 sleep_seq;
	__u32 rung;

	void *map_base;
	size_t map_len;

	struct ipcu_ep_stats stats;
};

/**
 * struct ipcu_chan_params - what ipcu_chan_create() asks for
 * @ring_entries: descriptor slots: a power of two, 1..IPCU_RING_ENTRIES_MAX.
 * @max_msg: largest message: 1..@payload_bytes / 2.
 * @payload_bytes: payload area: a power of two, page size..IPCU_PAYLOAD_MAX.
 * @name: NUL-terminated channel name, or NULL for an unnamed channel.
 * @mode: permission bits of a named channel, 0 otherwise.
 */
struct ipcu_chan_params {
	__u32 ring_entries;
	__u32 max_msg;
	__u64 payload_bytes;
	const char *name;
	__u32 mode;
};

/* Device and channel setup. */
int ipcu_open(void);
int ipcu_version(int devfd, struct ipcu_version *v);
int ipcu_chan_create(int devfd, const struct ipcu_chan_params *p,
		     unsigned int role, struct ipcu_ep *ep);
int ipcu_chan_attach(int devfd, const char *name, unsigned int role,
		     struct ipcu_ep *ep);
int ipcu_ep_peer(struct ipcu_ep *ep, struct ipcu_ep *peer);
int ipcu_ep_from_fd(int fd, struct ipcu_ep *ep);
void ipcu_ep_close(struct ipcu_ep *ep);
int ipcu_ep_fd(const struct ipcu_ep *ep);
int ipcu_set_eventfd(struct ipcu_ep *ep, unsigned int event, int efd);

/* Rings in caller memory, without the kernel. */
size_t ipcu_mem_layout_size(unsigned int entries, unsigned int max_msg,
			    __u64 payload_bytes);
int ipcu_ep_init_mem(struct ipcu_ep *ep, unsigned int role, void *base,
		     unsigned int entries, unsigned int max_msg,
		     __u64 payload_bytes);

/* Wakeups. */
int ipcu_doorbell(struct ipcu_ep *ep);
int ipcu_prepare_wait(struct ipcu_ep *ep);
void ipcu_finish_wait(struct ipcu_ep *ep);
int ipcu_wait(struct ipcu_ep *ep, long long timeout_ns);
int ipcu_wait_space(struct ipcu_ep *ep, size_t len, long long timeout_ns);
int ipcu_flush_wait(struct ipcu_ep *flush_ep, struct ipcu_ep *wait_ep,
		    long long timeout_ns);

/* Copying convenience. */
int ipcu_send(struct ipcu_ep *ep, const void *buf, size_t len,
	      long long timeout_ns);
int ipcu_recv(struct ipcu_ep *ep, void *buf, size_t cap,
	      long long timeout_ns);

/*
 * Internal helpers of the inline functions.  Everything the peer can write
 * is loaded exactly once into a local and validated before use.
 */

/*
 * Producer: re-read the consumer's indices.  Together with the checks in
 * __ipcu_prod_room() this is ipcu_ring_valid() followed by
 * ipcu_ring_fits() in the kernel (module/ring.c).
 */
static inline int __ipcu_prod_refresh(struct ipcu_ep *ep)
{
	/*
	 * (B): pairs with the consumer's store-release of pay_head and head
	 * in ipcu_flush(); only then may the space be reused.
	 */
	__u32 head = __atomic_load_n(&ep->cons->head, __ATOMIC_ACQUIRE);
	__u32 pay_head = __atomic_load_n(&ep->cons->pay_head, __ATOMIC_ACQUIRE);

	if (ep->tail - head > ep->entries ||
	    ep->pay_tail - pay_head > ep->pay_size)
		return -EPROTO;
	ep->head = head;
	ep->pay_head = pay_head;
	return 0;
}

/*
 * Producer: is there a free descriptor and room for @len contiguous bytes,
 * judged by the cached consumer indices?  A message never wraps: one that
 * does not fit before the end of the payload area starts at the next lap
 * and the skipped bytes count as used, exactly as ipcu_ring_fits().  The
 * cached indices satisfy ipcu_ring_valid(): __ipcu_prod_refresh() checked
 * them and ipcu_commit() only ever uses room found here.
 */
static inline int __ipcu_prod_room(const struct ipcu_ep *ep, __u32 len,
				   __u32 *start)
{
	__u32 off = ep->pay_tail & (ep->pay_size - 1);
	__u32 pos = ep->pay_tail;

	if (ep->tail - ep->head >= ep->entries)
		return 0;
	if (len > ep->pay_size - off)
		pos += ep->pay_size - off;
	if ((__u64)(pos - ep->pay_head) + len > ep->pay_size)
		return 0;
	*start = pos;
	return 1;
}

/* Consumer: re-read the producer's tail. */
static inline int __ipcu_cons_refresh(struct ipcu_ep *ep)
{
	/*
	 * (A): pairs with the producer's store-release of tail in
	 * ipcu_flush(); the descriptors and payload before it are visible.
	 */
	__u32 tail = __atomic_load_n(&ep->prod->tail, __ATOMIC_ACQUIRE);

	if (tail - ep->head > ep->entries)
		return -EPROTO;
	ep->tail = tail;
	return 0;
}

/*
 * Consumer: read and check the descriptor at head.  The message must be
 * 1..max_msg bytes and start where the previous one ended, or at the start
 * of the next lap (the producer skipped the rest of the area, which it must
 * do when the message does not fit before the end).  Either way it lies
 * inside the payload area, whatever the producer wrote.
 */
static inline int __ipcu_cons_fetch(struct ipcu_ep *ep)
{
	const struct ipcu_desc *d = &ep->desc[ep->head & ep->mask];
	__u32 pos = __atomic_load_n(&d->pos, __ATOMIC_RELAXED);
	__u32 len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	__u32 flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	__u32 tag = __atomic_load_n(&d->tag, __ATOMIC_RELAXED);
	__u32 room = ep->pay_size - (ep->pay_head & (ep->pay_size - 1));

	/* Unknown flags may change what the descriptor means: refuse them. */
	if (flags || len - 1 >= ep->max_msg)
		return -EPROTO;
	if (pos == ep->pay_head) {
		if (len > room)
			return -EPROTO;
	} else if (room == ep->pay_size || pos != ep->pay_head + room) {
		return -EPROTO;
	}
	ep->cur_pos = pos;
	ep->cur_len = len;
	ep->cur_tag = tag;
	return 0;
}

/*
 * Consumer: would the sleeping producer's wait be over now?  The same rule
 * as the kernel's readiness (ipcu_ring_writable() in module/ring.c) on our
 * published indices and the producer's.  Values that make no sense answer
 * yes: the doorbell then lets the kernel report EPOLLERR to the producer.
 */
static inline int __ipcu_peer_room(const struct ipcu_ep *ep)
{
	__u32 tail = __atomic_load_n(&ep->prod->tail, __ATOMIC_ACQUIRE);
	__u32 pay_tail = __atomic_load_n(&ep->prod->pay_tail, __ATOMIC_RELAXED);
	__u32 want = __atomic_load_n(&ep->prod->want, __ATOMIC_RELAXED);
	__u32 off = pay_tail & (ep->pay_size - 1);
	__u32 pos = pay_tail;

	if (tail - ep->head > ep->entries ||
	    pay_tail - ep->pay_head > ep->pay_size)
		return 1;
	if (want == 0)
		want = 1;
	if (want > ep->max_msg)
		want = ep->max_msg;
	if (tail - ep->head >= ep->entries)
		return 0;
	if (want > ep->pay_size - off)
		pos += ep->pay_size - off;
	return (__u64)(pos - ep->pay_head) + want <= ep->pay_size;
}

/*
 * Producer: would the sleeping consumer's wait be over now?  The same rule
 * as the kernel's readiness (ipcu_ring_readable() in module/ring.c): a
 * message it has not released.  Acquire: pairs with the consumer's release
 * of head before it armed the flag we just read.
 */
static inline int __ipcu_peer_data(const struct ipcu_ep *ep)
{
	return __atomic_load_n(&ep->cons->head, __ATOMIC_ACQUIRE) != ep->tail;
}

/*
 * Store this side's indices to shared memory if they moved since the last
 * call.  Return 1 if the peer asked for a doorbell, 0 if not.
 */
static inline int __ipcu_publish(struct ipcu_ep *ep)
{
	__u32 *peer_flags, flags;

	if (ep->role == IPCU_ROLE_PRODUCER) {
		if (ep->tail == ep->published)
			return 0;
		__atomic_store_n(&ep->prod->pay_tail, ep->pay_tail,
				 __ATOMIC_RELAXED);
		/*
		 * (A): the descriptors and payload written before are
		 * visible to a consumer that load-acquires this tail.
		 */
		__atomic_store_n(&ep->prod->tail, ep->tail, __ATOMIC_RELEASE);
		ep->published = ep->tail;
		peer_flags = &ep->cons->flags;
	} else {
		if (ep->head == ep->published)
			return 0;
		/*
		 * (B): both are releases: the producer reuses space as soon
		 * as it sees either, so our reads of the payload must be
		 * complete before each becomes visible.
		 */
		__atomic_store_n(&ep->cons->pay_head, ep->pay_head,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&ep->cons->head, ep->head, __ATOMIC_RELEASE);
		ep->published = ep->head;
		peer_flags = &ep->prod->flags;
	}
	/*
	 * Waker side of the wakeup protocol: store index; full barrier; load
	 * the peer's flag.  Pairs with the barrier between storing the flag
	 * and re-reading our index in ipcu_prepare_wait() and ipcu_wait() of
	 * the peer: either the peer sees our index, or we see its flag.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Acquire: pairs with the release in the peer's arming of the flag. */
	flags = __atomic_load_n(peer_flags, __ATOMIC_ACQUIRE);
	/*
	 * One doorbell per sleep: the peer bumps the sequence in the upper
	 * bits each time it arms the flag, and the doorbell we rang for this
	 * value wakes it (or its re-check after queueing sees the ring).
	 * A producer waits for room for @want bytes, and the kernel puts it
	 * back to sleep until they fit: ring only once they do, or a
	 * doorbell spent on a partial release would be the only one.
	 */
	if (!(flags & IPCU_NEED_WAKEUP) || flags == ep->rung)
		return 0;
	/*
	 * Ring only if the sleeper's wait is over now, and remember the
	 * sequence only then.  Seeing the flag is not enough: our load of it
	 * may come late, after the peer already took what we published and
	 * armed again (this very sequence) to wait for more.  A doorbell
	 * then wakes nobody, and if it counted as this sleep's doorbell the
	 * next publication would not ring at all.  If the wait is over, the
	 * sleeper's re-check after arming saw an older index than ours, so
	 * the doorbell (rung after our store) reaches its sleep.
	 */
	if (ep->role == IPCU_ROLE_CONSUMER ? !__ipcu_peer_room(ep) :
	    !__ipcu_peer_data(ep))
		return 0;
	ep->rung = flags;
	return 1;
}

/**
 * ipcu_reserve - reserve room for a message of @len bytes
 * @ep: a producer endpoint
 * @len: 1..max_msg
 * @buf: out, where to write the message (contiguous, in shared memory)
 *
 * The consumer's indices are re-read only when the cached ones show no
 * room.  Reserving again before ipcu_commit() abandons the previous
 * reservation.
 *
 * Return: 0, -EAGAIN (no free descriptor or not enough payload space),
 * -EMSGSIZE (@len is 0 or above max_msg), -EPROTO (the consumer's indices
 * are inconsistent), -EINVAL (not a producer).
 */
static inline int ipcu_reserve(struct ipcu_ep *ep, size_t len, void **buf)
{
	__u32 start;
	int ret;

	if (ep->role != IPCU_ROLE_PRODUCER)
		return -EINVAL;
	if (len - 1 >= ep->max_msg)
		return -EMSGSIZE;
	if (!__ipcu_prod_room(ep, (__u32)len, &start)) {
		ret = __ipcu_prod_refresh(ep);
		if (ret)
			return ret;
		if (!__ipcu_prod_room(ep, (__u32)len, &start)) {
			ep->want = (__u32)len;
			return -EAGAIN;
		}
	}
	ep->want = 0;
	ep->cur_pos = start;
	ep->cur_len = (__u32)len;
	*buf = ep->payload + (start & (ep->pay_size - 1));
	return 0;
}

/**
 * ipcu_commit - finish the reserved message
 * @ep: a producer endpoint with a pending reservation
 * @len: bytes actually written: 1..the reserved length
 * @tag: carried to the consumer untouched
 *
 * Writes the descriptor and advances the local tail; the consumer sees the
 * message after the next ipcu_flush().
 *
 * Return: 0, -EMSGSIZE (@len is 0 or above the reservation), -EINVAL (not a
 * producer, or no pending reservation).
 */
static inline int ipcu_commit(struct ipcu_ep *ep, size_t len, __u32 tag)
{
	struct ipcu_desc *d;

	if (ep->role != IPCU_ROLE_PRODUCER || !ep->cur_len)
		return -EINVAL;
	if (len - 1 >= ep->cur_len)
		return -EMSGSIZE;
	d = &ep->desc[ep->tail & ep->mask];
	d->pos = ep->cur_pos;
	d->len = (__u32)len;
	d->flags = 0;
	d->tag = tag;
	ep->tail++;
	ep->pay_tail = ep->cur_pos + (__u32)len;
	ep->cur_len = 0;
	return 0;
}

/**
 * ipcu_peek - look at the oldest message not yet released
 * @ep: a consumer endpoint
 * @buf: out, the message (in shared memory: a hostile producer may change
 *	it while it is read, so copy before validating)
 * @len: out, its length
 * @tag: out, its tag; may be NULL
 *
 * The producer's tail is re-read only when the cached one shows no message.
 * Peeking again before ipcu_release() returns the same message.
 *
 * Return: 0, -EAGAIN (empty), -EPROTO (the producer's tail or the
 * descriptor is inconsistent), -EINVAL (not a consumer).
 */
static inline int ipcu_peek(struct ipcu_ep *ep, const void **buf,
			    size_t *len, __u32 *tag)
{
	int ret;

	if (ep->role != IPCU_ROLE_CONSUMER)
		return -EINVAL;
	if (!ep->cur_len) {
		if (ep->head == ep->tail) {
			ret = __ipcu_cons_refresh(ep);
			if (ret)
				return ret;
			if (ep->head == ep->tail)
				return -EAGAIN;
		}
		ret = __ipcu_cons_fetch(ep);
		if (ret)
			return ret;
	}
	*buf = ep->payload + (ep->cur_pos & (ep->pay_size - 1));
	*len = ep->cur_len;
	if (tag)
		*tag = ep->cur_tag;
	return 0;
}

/**
 * ipcu_release - release the peeked message
 * @ep: a consumer endpoint with a peeked message
 *
 * Advances the local head; the producer may reuse the space after the next
 * ipcu_flush().
 *
 * Return: 0, -EINVAL (not a consumer, or nothing peeked).
 */
static inline int ipcu_release(struct ipcu_ep *ep)
{
	if (ep->role != IPCU_ROLE_CONSUMER || !ep->cur_len)
		return -EINVAL;
	ep->head++;
	ep->pay_head = ep->cur_pos + ep->cur_len;
	ep->cur_len = 0;
	return 0;
}

/**
 * ipcu_flush - publish committed or released messages, wake the peer
 * @ep: an endpoint
 *
 * One release store of this side's index (after pay_tail or pay_head), one
 * full barrier and one load of the peer's flag, however many messages the
 * batch holds; nothing at all if nothing changed since the last flush.  The
 * doorbell is rung only if the peer set IPCU_NEED_WAKEUP, and never for a
 * ring in caller memory.
 *
 * Return: 1 if the doorbell was rung, 0 if not, or the negative errno of
 * the doorbell ioctl.
 */
static inline int ipcu_flush(struct ipcu_ep *ep)
{
	int ret;

	if (!__ipcu_publish(ep) || ep->fd < 0)
		return 0;
	ret = ipcu_doorbell(ep);
	return ret < 0 ? ret : 1;
}

#ifdef __cplusplus
}
#endif

#endif /* IPCUNIT_H */
