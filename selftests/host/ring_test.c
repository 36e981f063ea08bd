// SPDX-License-Identifier: GPL-2.0
/*
 * The user library's ring logic, without a kernel: a producer and a
 * consumer over the same process memory (ipcu_ep_init_mem()).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "memring.h"

#define MS		1000000LL
#define U32_MAX		0xffffffffU

/* Commit one message of @len bytes filled for @seq, tagged @seq. */
static void put(struct ipcu_ep *p, size_t len, __u32 seq)
{
	void *buf;

	ASSERT_EQ(ipcu_reserve(p, len, &buf), 0);
	fill(buf, len, seq);
	ASSERT_EQ(ipcu_commit(p, len, seq), 0);
}

/* Peek, check and release message @seq of @len bytes. */
static void get(struct ipcu_ep *c, size_t len, __u32 seq)
{
	const void *buf;
	size_t n;
	__u32 tag;

	ASSERT_EQ(ipcu_peek(c, &buf, &n, &tag), 0);
	ASSERT_EQ(n, len);
	ASSERT_EQ(tag, seq);
	ASSERT_TRUE(check(buf, n, seq));
	ASSERT_EQ(ipcu_release(c), 0);
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

TAP_TEST(layout_size)
{
	size_t pg = host_page_size();

	/* Page-rounded areas (pages are 4 KiB or larger). */
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, 2), 4 * pg);
	ASSERT_EQ(ipcu_mem_layout_size(16, 2048, 4096), 4 * pg);
	ASSERT_EQ(ipcu_mem_layout_size(65536, 1, 2),
		  2 * pg + 65536 * sizeof(struct ipcu_desc) + pg);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, IPCU_PAYLOAD_MAX),
		  3 * pg + IPCU_PAYLOAD_MAX);
	/* Invalid geometries need no memory. */
	ASSERT_EQ(ipcu_mem_layout_size(0, 1, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(3, 1, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(131072, 1, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(U32_MAX, 1, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 0, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 2049, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, U32_MAX, 4096), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, 0), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, 1), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, 4095), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, IPCU_PAYLOAD_MAX * 2), 0);
	ASSERT_EQ(ipcu_mem_layout_size(1, 1, ~0ULL), 0);
}

TAP_TEST(init_mem_einval)
{
	size_t size = ipcu_mem_layout_size(16, 2048, 4096);
	unsigned char *mem = aligned_alloc(host_page_size(), size);
	struct ipcu_ep ep;

	ASSERT_TRUE(mem);
	memset(mem, 0, size);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 2, mem, 16, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, U32_MAX, mem, 16, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, NULL, 16, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, mem + 1, 16, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, mem, 0, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, mem, 17, 2048, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, mem, 16, 0, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 0, mem, 16, 2049, 4096), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 1, mem, 16, 2048, 4097), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 1, mem, 16, 2048, 0), -EINVAL);
	ASSERT_EQ(ipcu_ep_init_mem(&ep, 1, mem, 16, 2048, 4096), 0);
	ASSERT_EQ(ep.fd, -1);
	ASSERT_EQ(ep.role, IPCU_ROLE_CONSUMER);
	ASSERT_EQ(ep.entries, 16);
	ASSERT_EQ(ep.mask, 15);
	ASSERT_EQ(ep.max_msg, 2048);
	ASSERT_EQ(ep.pay_size, 4096);
	ASSERT_EQ(ep.spin, IPCU_SPIN_DEFAULT);
	ASSERT_EQ(ipcu_ep_fd(&ep), -1);
	/* Closing a memory endpoint leaves the caller's memory alone. */
	ipcu_ep_close(&ep);
	ASSERT_EQ(ep.fd, -1);
	ASSERT_EQ(mem[0], 0);
	free(mem);
}

TAP_TEST(roles_and_misuse)
{
	struct ring r;
	const void *cbuf;
	void *buf;
	size_t len;

	ring_setup(&r, 16, 2048, 4096, 0, 0);
	ASSERT_EQ(ipcu_reserve(&r.c, 1, &buf), -EINVAL);
	ASSERT_EQ(ipcu_commit(&r.c, 1, 0), -EINVAL);
	ASSERT_EQ(ipcu_peek(&r.p, &cbuf, &len, NULL), -EINVAL);
	ASSERT_EQ(ipcu_release(&r.p), -EINVAL);
	ASSERT_EQ(ipcu_wait_space(&r.c, 1, 0), -EINVAL);

	/* Nothing pending. */
	ASSERT_EQ(ipcu_commit(&r.p, 1, 0), -EINVAL);
	ASSERT_EQ(ipcu_release(&r.c), -EINVAL);

	/* A commit may shrink the reservation, never grow or empty it. */
	ASSERT_EQ(ipcu_reserve(&r.p, 100, &buf), 0);
	ASSERT_EQ(ipcu_commit(&r.p, 0, 0), -EMSGSIZE);
	ASSERT_EQ(ipcu_commit(&r.p, 101, 0), -EMSGSIZE);
	ASSERT_EQ(ipcu_commit(&r.p, (size_t)-1, 0), -EMSGSIZE);
	fill(buf, 60, 7);
	ASSERT_EQ(ipcu_commit(&r.p, 60, 7), 0);
	ASSERT_EQ(ipcu_commit(&r.p, 60, 7), -EINVAL);

	/* Reserving again abandons the first reservation. */
	ASSERT_EQ(ipcu_reserve(&r.p, 200, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 60);
	ASSERT_EQ(ipcu_reserve(&r.p, 10, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 60);
	ASSERT_EQ(ipcu_commit(&r.p, 11, 8), -EMSGSIZE);
	fill(buf, 10, 8);
	ASSERT_EQ(ipcu_commit(&r.p, 10, 8), 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);

	get(&r.c, 60, 7);
	ASSERT_EQ(ipcu_release(&r.c), -EINVAL);
	/* Peeking twice returns the same message; a NULL tag is fine. */
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), 0);
	ASSERT_EQ(len, 10);
	ASSERT_EQ(pay_off(&r.c, cbuf), 60);
	get(&r.c, 10, 8);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EAGAIN);
	ring_free(&r);
}

TAP_TEST(msgsize)
{
	struct ring r;
	void *buf;
	char big[2049];

	ring_setup(&r, 16, 2048, 4096, 0, 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 0, &buf), -EMSGSIZE);
	ASSERT_EQ(ipcu_reserve(&r.p, 2049, &buf), -EMSGSIZE);
	ASSERT_EQ(ipcu_reserve(&r.p, (size_t)-1, &buf), -EMSGSIZE);
	ASSERT_EQ(ipcu_reserve(&r.p, (size_t)U32_MAX + 1, &buf), -EMSGSIZE);
	ASSERT_EQ(ipcu_wait_space(&r.p, 0, 0), -EMSGSIZE);
	ASSERT_EQ(ipcu_wait_space(&r.p, 2049, 0), -EMSGSIZE);
	memset(big, 0, sizeof(big));
	ASSERT_EQ(ipcu_send(&r.p, big, 0, 0), -EMSGSIZE);
	ASSERT_EQ(ipcu_send(&r.p, big, 2049, 0), -EMSGSIZE);
	/* A failed size check does not disturb a pending reservation. */
	ASSERT_EQ(ipcu_reserve(&r.p, 2048, &buf), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 2049, &buf), -EMSGSIZE);
	fill(buf, 2048, 1);
	ASSERT_EQ(ipcu_commit(&r.p, 2048, 1), 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 2048, 1);
	ring_free(&r);
}

TAP_TEST(fifo)
{
	struct ring r;
	__u32 seq, done = 0, s = 1;
	size_t lens[64];

	ring_setup(&r, 64, 512, 8192, 0, 0);
	for (seq = 0; seq < 20000; seq++) {
		/* Commit a batch, then read it back in order. */
		lens[seq % 64] = 1 + xs32(&s) % 512;
		put(&r.p, lens[seq % 64], seq);
		if (seq % 13 == 12) {
			ASSERT_EQ(ipcu_flush(&r.p), 0);
			for (; done <= seq; done++)
				get(&r.c, lens[done % 64], done);
			ASSERT_EQ(ipcu_flush(&r.c), 0);
		}
	}
	ring_free(&r);
}

/* Nothing is visible to the peer before ipcu_flush(). */
TAP_TEST(flush_publishes)
{
	struct ring r;
	const void *cbuf;
	void *buf;
	size_t len;
	int i;

	ring_setup(&r, 4, 64, 256, 0, 0);
	put(&r.p, 64, 0);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EAGAIN);
	ASSERT_EQ(ring_prod(&r)->tail, 0);
	ASSERT_EQ(ring_prod(&r)->pay_tail, 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	ASSERT_EQ(ring_prod(&r)->tail, 1);
	ASSERT_EQ(ring_prod(&r)->pay_tail, 64);
	for (i = 1; i < 4; i++)
		put(&r.p, 64, i);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);

	/* Released space comes back only with the consumer's flush. */
	get(&r.c, 64, 0);
	get(&r.c, 64, 1);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ASSERT_EQ(ring_cons(&r)->head, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ring_cons(&r)->head, 2);
	ASSERT_EQ(ring_cons(&r)->pay_head, 128);
	ASSERT_EQ(ipcu_reserve(&r.p, 64, &buf), 0);
	ring_free(&r);
}

/* The descriptor ring and the payload area each make the ring full. */
TAP_TEST(full_and_empty)
{
	struct ring r;
	const void *cbuf;
	void *buf;
	size_t len;
	__u32 i;

	/* Descriptors run out first. */
	ring_setup(&r, 8, 2048, 4096, 0, 0);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EAGAIN);
	for (i = 0; i < 8; i++)
		put(&r.p, 1, i);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	for (i = 0; i < 8; i++)
		get(&r.c, 1, i);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EAGAIN);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), 0);
	ring_free(&r);

	/* Payload runs out first: exactly pay_size bytes fit. */
	ring_setup(&r, 64, 2048, 4096, 0, 0);
	put(&r.p, 2048, 0);
	put(&r.p, 2047, 1);
	put(&r.p, 1, 2);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 2048, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	/* 2048 free bytes, all contiguous at the start of the next lap. */
	ASSERT_EQ(ipcu_reserve(&r.p, 2048, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 0);
	fill(buf, 2048, 3);
	ASSERT_EQ(ipcu_commit(&r.p, 2048, 3), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ring_free(&r);

	/*
	 * The skip counts as used.  pay_head = 1500, pay_tail = 3000: 1096
	 * bytes fit before the end; more must start at 4096 and end at most
	 * at 1500 + 4096.
	 */
	ring_setup(&r, 64, 2048, 4096, 0, 0);
	put(&r.p, 1500, 0);
	put(&r.p, 1500, 1);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 1500, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1501, &buf), -EAGAIN);
	ASSERT_EQ(r.p.want, 1501);
	ASSERT_EQ(ipcu_reserve(&r.p, 1096, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 3000);
	ASSERT_EQ(r.p.want, 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1097, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1500, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 0);
	fill(buf, 1500, 2);
	ASSERT_EQ(ipcu_commit(&r.p, 1500, 2), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 1500, 1);
	get(&r.c, 1500, 2);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EAGAIN);
	ring_free(&r);
}

/*
 * A reservation that had to skip to the next lap may be committed shorter,
 * even short enough to have fitted before the end: the consumer accepts a
 * message at the start of the next lap whenever the previous one did not
 * end exactly at a lap boundary.
 */
TAP_TEST(shrunk_commit_after_skip)
{
	struct ring r;
	void *buf;

	ring_setup(&r, 16, 2048, 4096, 0, 0);
	put(&r.p, 2000, 0);
	put(&r.p, 1000, 1);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 2000, 0);
	get(&r.c, 1000, 1);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 2000, &buf), 0);
	ASSERT_EQ(pay_off(&r.p, buf), 0);
	fill(buf, 10, 2);
	ASSERT_EQ(ipcu_commit(&r.p, 10, 2), 0);
	put(&r.p, 50, 3);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 10, 2);
	get(&r.c, 50, 3);
	ring_free(&r);
}

/*
 * Every message size from 1 to max_msg, starting at many payload offsets,
 * through several laps, with the indices crossing 2^32.  The producer must
 * place each message where a message that does not fit before the end of
 * the area skips to the next lap, and report -EAGAIN exactly when that
 * placement would overrun the consumer.
 */
#define WRAP_PAY	4096U
#define WRAP_MAX	2048U
#define WRAP_ENTRIES	8192U	/* never the limit: the payload is */

static void wrap_run(unsigned int size, __u32 off, __u32 idx)
{
	static __u32 starts[WRAP_ENTRIES];
	__u32 pt = 0xffffe000U + off, ph = pt, seq = 0, done = 0;
	struct ring r;
	int round;

	ring_setup(&r, WRAP_ENTRIES, WRAP_MAX, WRAP_PAY, idx, pt);
	for (round = 0; round < 4; round++) {
		__u32 n;

		for (;;) {
			__u32 o = pt & (WRAP_PAY - 1);
			__u32 start = o + size > WRAP_PAY ? pt + WRAP_PAY - o : pt;
			void *buf;
			int ret = ipcu_reserve(&r.p, size, &buf);

			if ((__u64)(start - ph) + size > WRAP_PAY) {
				ASSERT_EQ(ret, -EAGAIN);
				break;
			}
			ASSERT_EQ(ret, 0);
			ASSERT_EQ(pay_off(&r.p, buf), start & (WRAP_PAY - 1));
			fill(buf, size, seq);
			ASSERT_EQ(ipcu_commit(&r.p, size, seq), 0);
			starts[seq % WRAP_ENTRIES] = start;
			pt = start + size;
			seq++;
		}
		ASSERT_EQ(ipcu_flush(&r.p), 0);

		/* Drain half, then all: the next fill starts elsewhere. */
		n = round & 1 ? seq - done : (seq - done + 1) / 2;
		while (n--) {
			const void *buf;
			size_t len;
			__u32 tag;

			ASSERT_EQ(ipcu_peek(&r.c, &buf, &len, &tag), 0);
			ASSERT_EQ(len, size);
			ASSERT_EQ(tag, done);
			ASSERT_EQ(pay_off(&r.c, buf),
				  starts[done % WRAP_ENTRIES] & (WRAP_PAY - 1));
			ASSERT_TRUE(check(buf, len, done));
			ASSERT_EQ(ipcu_release(&r.c), 0);
			ph = starts[done % WRAP_ENTRIES] + size;
			done++;
		}
		ASSERT_EQ(ipcu_flush(&r.c), 0);
	}
	ring_free(&r);
}

TAP_TEST(wrap_every_size)
{
	__u32 size, i, rnd = 12345;

	for (size = 1; size <= WRAP_MAX; size++) {
		const __u32 offs[] = {
			0, 1, 2, size - 1, size, WRAP_PAY - size - 1,
			WRAP_PAY - size, WRAP_PAY - size + 1, WRAP_PAY / 2 - 1,
			WRAP_PAY / 2, WRAP_PAY - 1, xs32(&rnd),
		};

		for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
			wrap_run(size, offs[i] & (WRAP_PAY - 1),
				 U32_MAX - i * 700);
	}
}

/*
 * A batch costs one publication: the shared indices move only on flush,
 * and the producer re-reads the consumer's indices only when its cached
 * view shows no room.
 */
TAP_TEST(batching)
{
	struct ring r;
	void *buf;
	__u32 i;

	ring_setup(&r, 16, 100, 4096, 0, 0);
	/* A fresh producer has not read the consumer yet: the first does. */
	put(&r.p, 100, 0);
	ASSERT_EQ(r.p.head, 0);
	for (i = 1; i < 10; i++)
		put(&r.p, 100, i);
	ASSERT_EQ(ring_prod(&r)->tail, 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	ASSERT_EQ(ring_prod(&r)->tail, 10);
	ASSERT_EQ(ring_prod(&r)->pay_tail, 1000);
	for (i = 0; i < 10; i++)
		get(&r.c, 100, i);
	ASSERT_EQ(ring_cons(&r)->head, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ring_cons(&r)->head, 10);
	ASSERT_EQ(ring_cons(&r)->pay_head, 1000);

	/* Room left in the cached view: no re-read. */
	for (i = 10; i < 16; i++)
		put(&r.p, 100, i);
	ASSERT_EQ(r.p.head, 0);
	ASSERT_EQ(r.p.pay_head, 0);
	/* Looks full: re-read, and there is room after all. */
	ASSERT_EQ(ipcu_reserve(&r.p, 100, &buf), 0);
	ASSERT_EQ(r.p.head, 10);
	ASSERT_EQ(r.p.pay_head, 1000);

	/* The consumer re-reads tail only when its cached view is empty. */
	fill(buf, 100, 16);
	ASSERT_EQ(ipcu_commit(&r.p, 100, 16), 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 100, 10);
	ASSERT_EQ(r.c.tail, 17);
	put(&r.p, 100, 17);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	for (i = 11; i < 17; i++)
		get(&r.c, 100, i);
	ASSERT_EQ(r.c.tail, 17);
	get(&r.c, 100, 17);
	ASSERT_EQ(r.c.tail, 18);
	ring_free(&r);
}

/*
 * ipcu_flush() rings only when the peer set NEED_WAKEUP and something was
 * published.  Any fd that is not an endpoint shows the attempt as -ENOTTY.
 */
TAP_TEST(flush_rings_only_when_asked)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct ring r;

	ASSERT_GE(devnull, 0);
	ring_setup(&r, 16, 100, 4096, 0, 0);

	/* A ring in caller memory never rings. */
	ring_cons(&r)->flags = IPCU_NEED_WAKEUP;
	put(&r.p, 10, 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);

	r.p.fd = devnull;
	r.c.fd = devnull;
	ring_cons(&r)->flags = 0;
	put(&r.p, 10, 1);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	/* The consumer arms its flag for a new sleep (sequence 2). */
	ring_cons(&r)->flags = (2 << IPCU_SLEEP_SEQ_SHIFT) | IPCU_NEED_WAKEUP;
	ASSERT_EQ(ipcu_flush(&r.p), 0);		/* nothing new */
	put(&r.p, 10, 2);
	ASSERT_EQ(ipcu_flush(&r.p), -ENOTTY);
	ASSERT_EQ(ring_prod(&r)->tail, 3);	/* published all the same */
	/* Same sleep: it was rung for already, once is enough. */
	put(&r.p, 10, 3);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	/* The next sleep is rung for again. */
	ring_cons(&r)->flags = (3 << IPCU_SLEEP_SEQ_SHIFT) | IPCU_NEED_WAKEUP;
	put(&r.p, 10, 4);
	ASSERT_EQ(ipcu_flush(&r.p), -ENOTTY);
	ASSERT_EQ(ipcu_doorbell(&r.p), -ENOTTY);
	ASSERT_EQ(r.p.stats.doorbells, 0);

	get(&r.c, 10, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ring_prod(&r)->flags = (1 << IPCU_SLEEP_SEQ_SHIFT) | IPCU_NEED_WAKEUP;
	get(&r.c, 10, 1);
	ASSERT_EQ(ipcu_flush(&r.c), -ENOTTY);
	ASSERT_EQ(ring_cons(&r)->head, 2);

	r.p.fd = -1;
	r.c.fd = -1;
	close(devnull);
	ring_free(&r);
}

/*
 * The waker's load of the flag may come late: after the consumer took the
 * message just published, armed a new sleep and found the ring empty.  A
 * doorbell rung then reaches nobody, so it must not count for that sleep,
 * or the next message would not ring at all (a lost wakeup: notify_test's
 * sleeping consumer hung about once in 30 runs on it).  The replayed
 * publication below is that late load.
 */
TAP_TEST(late_flag_load_rings_again)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct ring r;

	ASSERT_GE(devnull, 0);
	ring_setup(&r, 16, 100, 4096, 0, 0);
	r.p.fd = devnull;
	r.c.fd = devnull;

	put(&r.p, 10, 0);
	ASSERT_EQ(ipcu_flush(&r.p), 0);		/* consumer awake */
	get(&r.c, 10, 0);
	ASSERT_EQ(ipcu_prepare_wait(&r.c), 0);	/* empty: it sleeps */
	r.p.published = 0;
	ASSERT_EQ(__ipcu_publish(&r.p), 0);	/* nothing it has not seen */
	ASSERT_EQ(r.p.rung, 0);
	put(&r.p, 10, 1);
	ASSERT_EQ(ipcu_flush(&r.p), -ENOTTY);	/* this one wakes it */
	ASSERT_EQ(r.p.rung, ring_cons(&r)->flags);
	put(&r.p, 10, 2);
	ASSERT_EQ(ipcu_flush(&r.p), 0);		/* once per sleep */
	ipcu_finish_wait(&r.c);

	/* The same for a sleeping producer: ring only once want fits. */
	get(&r.c, 10, 1);
	get(&r.c, 10, 2);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	r.p.want = 10;
	ASSERT_EQ(ipcu_prepare_wait(&r.p), 1);	/* room: no sleep */

	r.p.fd = -1;
	r.c.fd = -1;
	close(devnull);
	ring_free(&r);
}

/* The sleeper's half of the wakeup protocol, for poll() and io_uring. */
TAP_TEST(prepare_finish_wait)
{
	struct ring r;
	void *buf;
	int i;

	ring_setup(&r, 4, 100, 256, 0, 0);
	ASSERT_EQ(ipcu_prepare_wait(&r.c), 0);
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, IPCU_NEED_WAKEUP);
	ipcu_finish_wait(&r.c);
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);

	/* Ready: the flag is left clear. */
	put(&r.p, 100, 0);
	ASSERT_EQ(ipcu_prepare_wait(&r.p), 1);
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);
	ASSERT_EQ(ring_prod(&r)->tail, 1);	/* published first */
	ASSERT_EQ(ipcu_prepare_wait(&r.c), 1);
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);

	/* The producer announces the size it waits for. */
	put(&r.p, 100, 1);
	ASSERT_EQ(ipcu_reserve(&r.p, 57, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_prepare_wait(&r.p), 0);
	ASSERT_EQ(ring_prod(&r)->want, 57);
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, IPCU_NEED_WAKEUP);
	ipcu_finish_wait(&r.p);
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);

	/* The consumer publishes its releases before it would sleep. */
	get(&r.c, 100, 0);
	ASSERT_EQ(ipcu_prepare_wait(&r.c), 1);
	ASSERT_EQ(ring_cons(&r)->head, 1);
	get(&r.c, 100, 1);
	ASSERT_EQ(ipcu_prepare_wait(&r.c), 0);
	ASSERT_EQ(ring_cons(&r)->head, 2);
	ipcu_finish_wait(&r.c);
	ASSERT_EQ(ipcu_prepare_wait(&r.p), 1);

	/* A corrupt ring is reported, with the flag left clear. */
	for (i = 0; i < 2; i++) {
		ring_cons(&r)->head = 7;
		ASSERT_EQ(ipcu_prepare_wait(&r.p), -EPROTO);
		ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);
	}
	ring_free(&r);
}

TAP_TEST(wait_without_kernel)
{
	struct ring r;
	const void *cbuf;
	long long t;
	size_t len;
	void *buf;

	ring_setup(&r, 4, 100, 256, 0, 0);
	ASSERT_EQ(ipcu_wait(&r.c, 0), -ETIMEDOUT);
	t = mono_ns();
	ASSERT_EQ(ipcu_wait(&r.c, 20 * MS), -ETIMEDOUT);
	ASSERT_GE(mono_ns() - t, 20 * MS);
	ASSERT_EQ(r.c.stats.waits, 2);
	ASSERT_EQ(r.c.stats.sleeps, 0);

	put(&r.p, 100, 0);
	ASSERT_EQ(ipcu_wait(&r.c, 0), -ETIMEDOUT);	/* not published */
	ASSERT_EQ(ipcu_wait(&r.p, -1), 0);	/* publishes; room left */
	ASSERT_EQ(r.p.stats.waits, 0);
	ASSERT_EQ(ipcu_wait(&r.c, 0), 0);
	ASSERT_EQ(ipcu_wait(&r.c, -1), 0);

	put(&r.p, 100, 1);
	ASSERT_EQ(ipcu_wait_space(&r.p, 57, 0), -ETIMEDOUT);
	ASSERT_EQ(ipcu_wait_space(&r.p, 56, 0), 0);
	ASSERT_EQ(ipcu_reserve(&r.p, 57, &buf), -EAGAIN);
	ASSERT_EQ(ipcu_wait(&r.p, 5 * MS), -ETIMEDOUT);
	get(&r.c, 100, 0);
	ASSERT_EQ(ipcu_wait(&r.p, 0), -ETIMEDOUT);	/* not yet flushed */
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(ipcu_wait(&r.p, 0), 0);

	/*
	 * Corruption is found whenever the peer's index is re-read: by a
	 * wait at once, by peek once the cached messages are consumed.
	 */
	ASSERT_EQ(ipcu_wait(&r.c, 0), 0);	/* sees message 1 */
	ring_prod(&r)->tail = 1000;
	ASSERT_EQ(ipcu_wait(&r.c, -1), -EPROTO);
	get(&r.c, 100, 1);
	ASSERT_EQ(ipcu_peek(&r.c, &cbuf, &len, NULL), -EPROTO);
	ASSERT_EQ(ipcu_wait(&r.c, -1), -EPROTO);
	ring_cons(&r)->head = 1000;
	ASSERT_EQ(ipcu_wait(&r.p, -1), -EPROTO);
	ring_free(&r);
}

TAP_TEST(send_recv)
{
	unsigned char in[2048], out[2048];
	struct ring r;
	int i;

	ring_setup(&r, 8, 2048, 4096, 0, 0);
	fill(in, sizeof(in), 99);
	ASSERT_EQ(ipcu_recv(&r.c, out, sizeof(out), 0), -ETIMEDOUT);
	ASSERT_EQ(ipcu_send(&r.p, in, 2048, 0), 0);
	ASSERT_EQ(ipcu_send(&r.p, in, 1000, 0), 0);
	ASSERT_EQ(ipcu_send(&r.p, in, 2048, 0), -ETIMEDOUT);
	ASSERT_EQ(ipcu_send(&r.p, in, 2048, 3 * MS), -ETIMEDOUT);

	/* Too small a buffer leaves the message in place. */
	ASSERT_EQ(ipcu_recv(&r.c, out, 2047, 0), -EMSGSIZE);
	ASSERT_EQ(ipcu_recv(&r.c, out, 2048, 0), 2048);
	ASSERT_TRUE(!memcmp(in, out, 2048));
	ASSERT_EQ(ipcu_recv(&r.c, out, 999, -1), -EMSGSIZE);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(ipcu_recv(&r.c, out, sizeof(out), -1), 1000);
	ASSERT_TRUE(!memcmp(in, out, 1000));
	ASSERT_EQ(ipcu_recv(&r.c, out, sizeof(out), 0), -ETIMEDOUT);

	for (i = 1; i <= 100; i++) {
		ASSERT_EQ(ipcu_send(&r.p, in, i, -1), 0);
		ASSERT_EQ(ipcu_recv(&r.c, out, sizeof(out), -1), i);
		ASSERT_TRUE(!memcmp(in, out, i));
	}
	ring_free(&r);
}

/* A new endpoint takes over a role where the previous holder left off. */
TAP_TEST(reattach)
{
	struct ring r;
	__u32 i;

	ring_setup(&r, 16, 100, 4096, 77, 0xfffff000U);
	for (i = 0; i < 5; i++)
		put(&r.p, 10 + i, i);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 10, 0);
	get(&r.c, 11, 1);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	get(&r.c, 12, 2);	/* released, never published */
	ring_cons(&r)->flags = IPCU_NEED_WAKEUP;
	ring_prod(&r)->flags = IPCU_NEED_WAKEUP;

	ring_attach(&r);
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);
	get(&r.c, 12, 2);
	get(&r.c, 13, 3);
	get(&r.c, 14, 4);
	put(&r.p, 15, 5);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 15, 5);
	ring_free(&r);
}

/*
 * Ping-pong between two threads over two rings, each side publishing its
 * request or reply and waiting for the other's in one ipcu_flush_wait().
 */
struct pingpong {
	struct ring req, resp;
	__u32 rounds;
	int err;
};

static void *pong(void *arg)
{
	struct pingpong *pp = arg;
	__u32 i;

	for (i = 0; i < pp->rounds; i++) {
		const void *in;
		void *out;
		size_t len;
		__u32 tag;
		int ret;

		ret = ipcu_flush_wait(&pp->resp.p, &pp->req.c, 10000 * MS);
		if (!ret)
			ret = ipcu_peek(&pp->req.c, &in, &len, &tag);
		if (!ret)
			ret = ipcu_reserve(&pp->resp.p, len, &out);
		if (ret) {
			pp->err = ret;
			break;
		}
		memcpy(out, in, len);
		ipcu_release(&pp->req.c);
		ipcu_commit(&pp->resp.p, len, tag + 1);
	}
	ipcu_flush(&pp->resp.p);
	return NULL;
}

TAP_TEST(pingpong_flush_wait)
{
	struct pingpong pp;
	pthread_t t;
	__u32 i;

	ring_setup(&pp.req, 4, 512, 4096, 0, 0);
	ring_setup(&pp.resp, 4, 512, 4096, U32_MAX, U32_MAX - 100);
	pp.rounds = 20000;
	pp.err = 0;
	ASSERT_EQ(pthread_create(&t, NULL, pong, &pp), 0);
	for (i = 0; i < pp.rounds; i++) {
		const void *buf;
		size_t len;
		__u32 tag;

		put(&pp.req.p, 1 + i % 512, i);
		ASSERT_EQ(ipcu_flush_wait(&pp.req.p, &pp.resp.c, 10000 * MS), 0);
		ASSERT_EQ(ipcu_peek(&pp.resp.c, &buf, &len, &tag), 0);
		ASSERT_EQ(len, 1 + i % 512);
		ASSERT_EQ(tag, i + 1);
		ASSERT_TRUE(check(buf, len, i));
		ASSERT_EQ(ipcu_release(&pp.resp.c), 0);
	}
	ASSERT_EQ(ipcu_flush(&pp.resp.c), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(pp.err, 0);
	ring_free(&pp.req);
	ring_free(&pp.resp);
}

/*
 * Two threads, one producer and one consumer, 2,000,000 messages of
 * pseudo-random sizes (mostly small, some up to max_msg) and random batch
 * sizes; the consumer checks the sequence number (tag), the length and
 * every byte.  Waiting is the library's polling (fd -1).
 */
#define STRESS_MSGS	2000000U
#define STRESS_SEED	0x1badb002U

struct stress {
	struct ring r;
	__u32 got;
	int err;
};

static size_t stress_len(__u32 seq, unsigned int max_msg)
{
	__u32 x = mix(seq ^ STRESS_SEED);

	x = xs32(&x);
	return x % 16 ? 1 + (x >> 8) % 128 : 1 + (x >> 8) % max_msg;
}

static void *stress_consumer(void *arg)
{
	struct stress *st = arg;
	struct ipcu_ep *c = &st->r.c;
	__u32 seq = 0, batch = 0;

	while (seq < STRESS_MSGS) {
		const void *buf;
		size_t len;
		__u32 tag;
		int ret = ipcu_peek(c, &buf, &len, &tag);

		if (ret == -EAGAIN) {
			ret = ipcu_wait(c, 10000 * MS);
			if (ret)
				break;
			continue;
		}
		if (ret || tag != seq || len != stress_len(seq, c->max_msg) ||
		    !check(buf, len, seq)) {
			ret = ret ? ret : -EBADMSG;
			st->err = ret;
			break;
		}
		ipcu_release(c);
		seq++;
		if (++batch == 32) {
			ipcu_flush(c);
			batch = 0;
		}
	}
	ipcu_flush(c);
	st->got = seq;
	return NULL;
}

TAP_TEST(spsc_stress)
{
	struct stress st;
	__u32 seq = 0, batch = 0, rnd = STRESS_SEED;
	pthread_t t;

	ring_setup(&st.r, 256, 4096, 65536, U32_MAX - 1000, U32_MAX - 30000);
	st.got = 0;
	st.err = 0;
	ASSERT_EQ(pthread_create(&t, NULL, stress_consumer, &st), 0);
	while (seq < STRESS_MSGS) {
		size_t len = stress_len(seq, st.r.max_msg);
		void *buf;
		int ret = ipcu_reserve(&st.r.p, len, &buf);

		if (ret == -EAGAIN) {
			ret = ipcu_wait(&st.r.p, 10000 * MS);
			if (ret)
				break;
			continue;
		}
		ASSERT_EQ(ret, 0);
		fill(buf, len, seq);
		ASSERT_EQ(ipcu_commit(&st.r.p, len, seq), 0);
		seq++;
		if (++batch >= 1 + xs32(&rnd) % 16) {
			ipcu_flush(&st.r.p);
			batch = 0;
		}
	}
	ipcu_flush(&st.r.p);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(seq, STRESS_MSGS);
	ASSERT_EQ(st.err, 0);
	ASSERT_EQ(st.got, STRESS_MSGS);
	tap_info("producer waits %llu, consumer waits %llu",
		 st.r.p.stats.waits, st.r.c.stats.waits);
	ring_free(&st.r);
}

/*
 * A hostile producer: whatever it writes into its control page and the
 * descriptors, the consumer reports -EPROTO or a message that lies inside
 * the payload area.  The ring holds messages 0..2 of 100 bytes; message 1
 * is next, at pay_head with 3000 bytes before the end of the area.
 */
#define C_IDX		(U32_MAX - 1)	/* head of the consumer */
#define C_PAY		(0xfffff000U + 3000)
#define C_ROOM		1096U

static int consumer_sees(__u32 tail, __u32 pos, __u32 len, __u32 flags,
			 long long *off, size_t *n)
{
	struct ring r;
	struct ipcu_desc *d;
	const void *buf;
	int ret;

	ring_setup(&r, 16, 2048, 4096, C_IDX - 1, C_PAY - 100);
	put(&r.p, 100, 0);
	put(&r.p, 100, 1);
	put(&r.p, 100, 2);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	get(&r.c, 100, 0);
	ASSERT_EQ(ipcu_flush(&r.c), 0);
	ASSERT_EQ(r.c.head, C_IDX);
	ASSERT_EQ(r.c.pay_head, C_PAY);

	ring_prod(&r)->tail = tail;
	d = &r.c.desc[C_IDX & r.c.mask];
	d->pos = pos;
	d->len = len;
	d->flags = flags;
	ring_attach(&r);	/* a fresh consumer re-reads tail */
	ret = ipcu_peek(&r.c, &buf, n, NULL);
	if (!ret) {
		*off = pay_off(&r.c, buf);
		ASSERT_GE(*off, 0);
		ASSERT_LE(*off + *n, 4096);
	}
	ring_free(&r);
	return ret;
}

TAP_TEST(hostile_producer)
{
	/* head is 2^32 - 2: tail 0..14 are 2..16 messages, valid. */
	const __u32 bad_tail[] = {
		C_IDX - 1, C_IDX + 17, C_IDX + 0x80000000U, 15, 16, 17,
		U32_MAX - 1000, 0x7fffffff,
	};
	const __u32 bad_len[] = {
		0, 2049, 4095, 4096, 4097, 0x80000000U, U32_MAX,
		C_ROOM + 1,	/* does not fit: must skip */
	};
	/* The next lap starts at C_PAY + C_ROOM = 2^32, i.e. 0. */
	const __u32 bad_pos[] = {
		C_PAY + 1, C_PAY - 1, C_PAY - 100, C_PAY + 100, 1, U32_MAX,
		C_PAY + C_ROOM - 1, C_PAY + C_ROOM + 1, C_PAY + 4096,
		C_PAY - 4096, C_PAY + C_ROOM + 4096, 4095, 4097,
	};
	long long off;
	size_t n;
	unsigned int i;

	/* Control: the honest descriptor, and the edges that are valid. */
	ASSERT_EQ(consumer_sees(C_IDX + 2, C_PAY, 100, 0, &off, &n), 0);
	ASSERT_EQ(off, 3000);
	ASSERT_EQ(consumer_sees(C_IDX, C_PAY, 100, 0, &off, &n), -EAGAIN);
	ASSERT_EQ(consumer_sees(C_IDX + 16, C_PAY, 100, 0, &off, &n), 0);
	ASSERT_EQ(consumer_sees(0, C_PAY, 100, 0, &off, &n), 0);
	ASSERT_EQ(consumer_sees(14, C_PAY, 100, 0, &off, &n), 0);
	ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY, 1, 0, &off, &n), 0);
	ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY, C_ROOM, 0, &off, &n), 0);
	ASSERT_EQ(n, C_ROOM);
	ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY + C_ROOM, C_ROOM + 1, 0,
				&off, &n), 0);
	ASSERT_EQ(off, 0);
	ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY + C_ROOM, 2048, 0, &off, &n),
		  0);
	ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY + C_ROOM, 1, 0, &off, &n), 0);

	for (i = 0; i < sizeof(bad_tail) / sizeof(bad_tail[0]); i++)
		ASSERT_EQ(consumer_sees(bad_tail[i], C_PAY, 100, 0, &off, &n),
			  -EPROTO);
	for (i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY, bad_len[i], 0,
					&off, &n), -EPROTO);
		if (bad_len[i] > 2048 || !bad_len[i])
			ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY + C_ROOM,
						bad_len[i], 0, &off, &n),
				  -EPROTO);
	}
	for (i = 0; i < sizeof(bad_pos) / sizeof(bad_pos[0]); i++)
		ASSERT_EQ(consumer_sees(C_IDX + 1, bad_pos[i], 100, 0,
					&off, &n), -EPROTO);
	for (i = 0; i < 32; i++)
		ASSERT_EQ(consumer_sees(C_IDX + 1, C_PAY, 100, 1U << i,
					&off, &n), -EPROTO);
}

/*
 * A skip is only possible from inside a lap: at a lap boundary the next
 * message always fits, so a descriptor one lap ahead is corrupt.
 */
TAP_TEST(hostile_producer_lap_boundary)
{
	struct ring r;
	const void *buf;
	size_t n;

	ring_setup(&r, 16, 2048, 4096, 0, 8192);
	r.c.desc[0] = (struct ipcu_desc){ .pos = 8192 + 4096, .len = 10 };
	ring_prod(&r)->tail = 1;
	ASSERT_EQ(ipcu_peek(&r.c, &buf, &n, NULL), -EPROTO);
	r.c.desc[0].pos = 8192;
	ASSERT_EQ(ipcu_peek(&r.c, &buf, &n, NULL), 0);
	ASSERT_EQ(pay_off(&r.c, buf), 0);
	ring_free(&r);
}

/*
 * A hostile consumer: whatever it writes into its control page, the
 * producer reports -EPROTO or reserves room that is really free.  The
 * producer has committed P_FLIGHT messages of 100 bytes, its pay_tail is
 * 3000 bytes into a lap.
 */
#define P_TAIL		5U
#define P_PAY		(0xfffff000U + 3000)
#define P_FLIGHT	3U

static int producer_sees(__u32 head, __u32 pay_head, size_t len)
{
	struct ring r;
	void *buf;
	int ret;
	__u32 i;

	ring_setup(&r, 16, 2048, 4096, P_TAIL - P_FLIGHT,
		   P_PAY - 100 * P_FLIGHT);
	for (i = 0; i < P_FLIGHT; i++)
		put(&r.p, 100, i);
	ASSERT_EQ(ipcu_flush(&r.p), 0);
	ring_cons(&r)->head = head;
	ring_cons(&r)->pay_head = pay_head;
	ring_attach(&r);	/* a fresh producer re-reads head */
	ret = ipcu_reserve(&r.p, len, &buf);
	if (!ret) {
		ASSERT_GE(pay_off(&r.p, buf), 0);
		ASSERT_LE(pay_off(&r.p, buf) + len, 4096);
	}
	ring_free(&r);
	return ret;
}

TAP_TEST(hostile_consumer)
{
	/* tail is 5: head 2^32 - 11 .. 5 are valid. */
	const __u32 bad_head[] = {
		P_TAIL + 1, P_TAIL + 100, P_TAIL - 17, 0x80000000U,
		0x80000005U, 4096,
	};
	const __u32 bad_pay_head[] = {
		P_PAY + 1, P_PAY + 4096, P_PAY - 4097, U32_MAX, 0, 1,
		0x80000000U, P_PAY - 0x80000000U,
	};
	unsigned int i;

	/* Control: the consumer as it is, and the valid extremes. */
	ASSERT_EQ(producer_sees(P_TAIL - P_FLIGHT, P_PAY - 300, 100), 0);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY, 2048), 0);
	ASSERT_EQ(producer_sees(P_TAIL - 16, P_PAY, 1), -EAGAIN);
	ASSERT_EQ(producer_sees(P_TAIL - 15, P_PAY, 1), 0);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 4096, 1), -EAGAIN);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 4095, 1), 0);
	ASSERT_EQ(producer_sees(U32_MAX, P_PAY, 1), 0);
	/* 1096 bytes before the end of the lap... */
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 3000, 1096), 0);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 3001, 1096), -EAGAIN);
	/* ...more skips to the next and ends 1096 + len past pay_tail. */
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 952, 2048), 0);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 953, 2048), -EAGAIN);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 1903, 1097), 0);
	ASSERT_EQ(producer_sees(P_TAIL, P_PAY - 1904, 1097), -EAGAIN);

	for (i = 0; i < sizeof(bad_head) / sizeof(bad_head[0]); i++)
		ASSERT_EQ(producer_sees(bad_head[i], P_PAY, 1), -EPROTO);
	for (i = 0; i < sizeof(bad_pay_head) / sizeof(bad_pay_head[0]); i++)
		ASSERT_EQ(producer_sees(P_TAIL, bad_pay_head[i], 1), -EPROTO);
}

/* A scribble is found when the producer next needs to re-read. */
TAP_TEST(hostile_consumer_while_running)
{
	struct ring r;
	void *buf;
	__u32 i;

	ring_setup(&r, 8, 100, 4096, 0, 0);
	put(&r.p, 100, 0);	/* first reservation reads head = 0 */
	ring_cons(&r)->head = 1000;
	for (i = 1; i < 8; i++)
		put(&r.p, 100, i);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EPROTO);
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EPROTO);
	ring_cons(&r)->head = 0;
	ASSERT_EQ(ipcu_reserve(&r.p, 1, &buf), -EAGAIN);
	ring_free(&r);
}

/*
 * Random scribbles over every word either peer can write: no result other
 * than 0, -EAGAIN or -EPROTO, and every buffer handed out lies inside the
 * payload area (a sanitizer build also checks every access).
 */
static __u32 scribble(__u32 *s, __u32 near)
{
	static const __u32 edge[] = { 0, 1, 2, 15, 16, 17, 2047, 2048, 2049,
				      4095, 4096, 4097, 0x7fffffff, 0x80000000U,
				      U32_MAX - 1, U32_MAX };
	__u32 x = xs32(s);

	switch (x % 4) {
	case 0:
		return edge[(x >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return near + (x >> 8) % 64 - 32;
	case 2:
		return near + ((x >> 8) % 3 - 1) * 4096 + (x >> 20) % 8;
	default:
		return xs32(s);
	}
}

TAP_TEST(fuzz_shared_words)
{
	__u32 s = 424242, iter;
	struct ring r;

	ring_setup(&r, 16, 2048, 4096, 0, 0);
	for (iter = 0; iter < 200000; iter++) {
		__u32 h = xs32(&s), ph = xs32(&s);
		struct ipcu_desc *d = &r.c.desc[h & 15];
		const void *cbuf;
		void *buf;
		size_t len = 1 + xs32(&s) % 2048, n;
		int ret;

		ring_set(&r, h, ph, scribble(&s, h), scribble(&s, ph));
		if (iter & 1)
			ring_cons(&r)->head = scribble(&s, h);
		if (iter & 2)
			ring_cons(&r)->pay_head = scribble(&s, ph);
		d->pos = scribble(&s, ph);
		d->len = scribble(&s, 100);
		d->flags = xs32(&s) % 8 ? 0 : xs32(&s);
		ring_attach(&r);

		ret = ipcu_peek(&r.c, &cbuf, &n, NULL);
		ASSERT_TRUE(ret == 0 || ret == -EAGAIN || ret == -EPROTO);
		if (!ret) {
			const volatile unsigned char *b = cbuf;
			unsigned int sum = 0;

			ASSERT_LE(pay_off(&r.c, cbuf) + n, 4096);
			while (n--)
				sum += b[n];	/* touch it all */
			(void)sum;
			ASSERT_EQ(ipcu_release(&r.c), 0);
			ASSERT_EQ(ipcu_flush(&r.c), 0);
		}
		ret = ipcu_reserve(&r.p, len, &buf);
		ASSERT_TRUE(ret == 0 || ret == -EAGAIN || ret == -EPROTO);
		if (!ret) {
			ASSERT_LE(pay_off(&r.p, buf) + len, 4096);
			memset(buf, 0xa5, len);
			ASSERT_EQ(ipcu_commit(&r.p, len, 0), 0);
			ASSERT_EQ(ipcu_flush(&r.p), 0);
		}
	}
	ring_free(&r);
}

int main(void)
{
	return tap_main();
}
