/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rings in process memory for the host tests: both endpoints of one ring,
 * laid out with ipcu_mem_layout_size() and attached with
 * ipcu_ep_init_mem(), exactly as two processes would see a channel.
 */
#ifndef IPCU_HOST_MEMRING_H
#define IPCU_HOST_MEMRING_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <ipcunit.h>

#include "tap.h"

/*
 * Larger rings are mmap()ed, untouched pages cost nothing; smaller ones are
 * malloc()ed so that a sanitizer sees any access past their end.
 */
#define RING_MMAP_MIN	(64UL << 20)

struct ring {
	unsigned char *mem;
	size_t size;
	unsigned int entries;
	unsigned int max_msg;
	unsigned int pay;
	struct ipcu_ep p;	/* producer */
	struct ipcu_ep c;	/* consumer */
};

static inline size_t host_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline struct ipcu_cons_ctrl *ring_cons(struct ring *r)
{
	return (struct ipcu_cons_ctrl *)r->mem;
}

static inline struct ipcu_prod_ctrl *ring_prod(struct ring *r)
{
	return (struct ipcu_prod_ctrl *)(r->mem + host_page_size());
}

/* Attach (again) the producer and the consumer to the ring's memory. */
static inline void ring_attach(struct ring *r)
{
	ASSERT_EQ(ipcu_ep_init_mem(&r->p, IPCU_ROLE_PRODUCER, r->mem,
				   r->entries, r->max_msg, r->pay), 0);
	ASSERT_EQ(ipcu_ep_init_mem(&r->c, IPCU_ROLE_CONSUMER, r->mem,
				   r->entries, r->max_msg, r->pay), 0);
}

/* Store raw indices, as a (possibly hostile) peer would. */
static inline void ring_set(struct ring *r, __u32 head, __u32 pay_head,
			    __u32 tail, __u32 pay_tail)
{
	ring_cons(r)->head = head;
	ring_cons(r)->pay_head = pay_head;
	ring_prod(r)->tail = tail;
	ring_prod(r)->pay_tail = pay_tail;
}

/*
 * A zeroed ring whose indices all start at @idx (descriptors) and @pay_idx
 * (payload), so tests can start anywhere, e.g. just before 2^32.
 */
static inline void ring_setup(struct ring *r, unsigned int entries,
			      unsigned int max_msg, unsigned int pay,
			      __u32 idx, __u32 pay_idx)
{
	memset(r, 0, sizeof(*r));
	r->entries = entries;
	r->max_msg = max_msg;
	r->pay = pay;
	r->size = ipcu_mem_layout_size(entries, max_msg, pay);
	ASSERT_NE(r->size, 0);
	if (r->size >= RING_MMAP_MIN) {
		void *m = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);

		ASSERT_TRUE(m != MAP_FAILED);
		r->mem = m;
	} else {
		r->mem = aligned_alloc(host_page_size(), r->size);
		ASSERT_TRUE(r->mem);
		memset(r->mem, 0, r->size);
	}
	ring_set(r, idx, pay_idx, idx, pay_idx);
	ring_attach(r);
}

static inline void ring_free(struct ring *r)
{
	if (r->size >= RING_MMAP_MIN)
		munmap(r->mem, r->size);
	else
		free(r->mem);
	r->mem = NULL;
}

/* Deterministic pseudo-random numbers (xorshift32); never returns 0. */
static inline __u32 xs32(__u32 *s)
{
	__u32 x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline __u32 mix(__u32 seq)
{
	__u32 x = seq * 2654435761U + 0x9e3779b9U;

	return x ? x : 1;
}

/* The contents of message @seq: a stream derived from @seq alone. */
static inline void fill(void *buf, size_t len, __u32 seq)
{
	unsigned char *p = (unsigned char *)buf;
	__u32 s = mix(seq), w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		w = xs32(&s);
		memcpy(p + i, &w, 4);
	}
	w = xs32(&s);
	memcpy(p + i, &w, len - i);
}

/* Does @buf hold the contents of message @seq? */
static inline int check(const void *buf, size_t len, __u32 seq)
{
	const unsigned char *p = (const unsigned char *)buf;
	__u32 s = mix(seq), w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		w = xs32(&s);
		if (memcmp(p + i, &w, 4))
			return 0;
	}
	w = xs32(&s);
	return !memcmp(p + i, &w, len - i);
}

/* Offset of @buf in the payload area of @ep. */
static inline long long pay_off(const struct ipcu_ep *ep, const void *buf)
{
	return (const unsigned char *)buf - ep->payload;
}

#endif /* IPCU_HOST_MEMRING_H */
