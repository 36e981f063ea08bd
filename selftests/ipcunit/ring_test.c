// SPDX-License-Identifier: GPL-2.0
/*
 * Ring semantics through the kernel's pages, with the user library's data
 * path: FIFO order, wrap-around at every message size, the full and empty
 * states, index wrap at 2^32, and readiness (poll() and IPCU_IOC_WAIT)
 * matching the state of the ring at every step.
 */
#include <poll.h>
#include <sys/epoll.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define PG	((size_t)sysconf(_SC_PAGESIZE))
#define MIB	(1024 * 1024)

/* The expected contents of a message, built here and compared at once. */
static unsigned char ref[2 * MIB];

static void fill(unsigned char *buf, size_t len, uint32_t seq)
{
	uint32_t tail = ~seq;

	memset(buf, (int)((seq * 37 + 11) & 0xff), len);
	if (len >= 4)
		memcpy(buf, &seq, 4);
	if (len >= 8)
		memcpy(buf + len - 4, &tail, 4);
}

/* Produce message @seq of @len bytes, tagged @seq, and publish it. */
static int put(struct ipcu_ep *p, size_t len, uint32_t seq)
{
	unsigned char *buf;
	int ret;

	ret = ipcu_reserve(p, len, (void **)&buf);
	if (ret)
		return ret;
	/* Contiguous and inside the payload area. */
	if (buf < p->payload || buf + len > p->payload + p->pay_size)
		return -ERANGE;
	fill(buf, len, seq);
	ret = ipcu_commit(p, len, seq);
	if (ret)
		return ret;
	ret = ipcu_flush(p);
	return ret < 0 ? ret : 0;
}

/*
 * Consume the oldest message and release it: 0 if it is message @seq of
 * @len bytes, intact; -EBADMSG if it is another one; -EAGAIN if empty.
 */
static int get(struct ipcu_ep *c, size_t len, uint32_t seq)
{
	const unsigned char *buf;
	size_t got;
	__u32 tag;
	int ret;

	ret = ipcu_peek(c, (const void **)&buf, &got, &tag);
	if (ret)
		return ret;
	if (got != len || tag != seq)
		return -EBADMSG;
	if (buf < c->payload || buf + len > c->payload + c->pay_size)
		return -ERANGE;
	fill(ref, len, seq);
	if (memcmp(buf, ref, len))
		return -EBADMSG;
	ret = ipcu_release(c);
	if (ret)
		return ret;
	ret = ipcu_flush(c);
	return ret < 0 ? ret : 0;
}

/* poll() readiness of @fd, without waiting. */
static int polled(int fd)
{
	struct pollfd p = {
		.fd = fd,
		.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
	};

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

/* IPCU_IOC_WAIT with a zero timeout: 0 or -errno, and the revents. */
static int wait0(int fd, __u32 *revents)
{
	struct ipcu_wait w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.doorbell_fd = -1;
	w.revents = 0xdead;
	ret = ipcu_test_ioctl(fd, IPCU_IOC_WAIT, &w);
	*revents = w.revents;
	return ret;
}

/* poll() and IPCU_IOC_WAIT agree that @fd's readiness is @mask. */
#define EXPECT_READY(fd, mask) do {					\
	__u32 __rev = 0;						\
	int __ret = wait0(fd, &__rev);					\
									\
	EXPECT_EQ((int)(mask), polled(fd)) TH_LOG("poll, " #mask);	\
	if (mask) {							\
		EXPECT_EQ(0, __ret) TH_LOG("wait, " #mask);		\
		EXPECT_EQ((__u32)(mask), __rev) TH_LOG("wait, " #mask);	\
	} else {							\
		EXPECT_EQ(-ETIMEDOUT, __ret) TH_LOG("wait, " #mask);	\
	}								\
} while (0)

#define IN	(EPOLLIN | EPOLLRDNORM)
#define OUT	(EPOLLOUT | EPOLLWRNORM)

FIXTURE(ring) {
	struct ipcu_ep prod;
	struct ipcu_ep cons;
};

FIXTURE_SETUP(ring)
{
	self->prod.fd = -1;
	self->cons.fd = -1;
}

FIXTURE_TEARDOWN(ring)
{
	if (self->prod.fd >= 0)
		ipcu_ep_close(&self->prod);
	if (self->cons.fd >= 0)
		ipcu_ep_close(&self->cons);
}

static int pair(FIXTURE_DATA(ring) *self, unsigned int entries,
		unsigned int max_msg, size_t payload)
{
	return ipcu_test_pair(&self->prod, &self->cons, entries, max_msg,
			      payload);
}

TEST_F(ring, fifo_tags)
{
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 64, 1024, 16 * PG));
	for (seq = 0; seq < 50; seq++)
		ASSERT_EQ(0, put(&self->prod, 1 + seq * 19 % 1024, seq * 3 + 1))
			TH_LOG("seq %u", seq);
	for (seq = 0; seq < 50; seq++)
		ASSERT_EQ(0, get(&self->cons, 1 + seq * 19 % 1024, seq * 3 + 1))
			TH_LOG("seq %u", seq);
	EXPECT_EQ(-EAGAIN, get(&self->cons, 1, 0));
}

/* Peeking twice gives the same message; releasing moves on. */
TEST_F(ring, peek_is_idempotent)
{
	const void *a, *b;
	size_t la, lb;
	__u32 ta, tb;

	ASSERT_EQ(0, pair(self, 8, 1024, PG));
	ASSERT_EQ(0, put(&self->prod, 10, 7));
	ASSERT_EQ(0, put(&self->prod, 20, 8));
	ASSERT_EQ(0, ipcu_peek(&self->cons, &a, &la, &ta));
	ASSERT_EQ(0, ipcu_peek(&self->cons, &b, &lb, &tb));
	EXPECT_TRUE(a == b);
	EXPECT_EQ(la, lb);
	EXPECT_EQ(7, tb);
	EXPECT_EQ(-EINVAL, ipcu_reserve(&self->cons, 1, (void **)&a));
	ASSERT_EQ(0, ipcu_release(&self->cons));
	EXPECT_EQ(-EINVAL, ipcu_release(&self->cons));
	EXPECT_EQ(0, get(&self->cons, 20, 8));
}

/* Nothing is visible to the other side before ipcu_flush(). */
TEST_F(ring, flush_publishes)
{
	void *buf;
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 8, 256, PG));
	for (seq = 0; seq < 3; seq++) {
		ASSERT_EQ(0, ipcu_reserve(&self->prod, 100, &buf));
		fill(buf, 100, seq);
		ASSERT_EQ(0, ipcu_commit(&self->prod, 100, seq));
	}
	EXPECT_EQ(-EAGAIN, get(&self->cons, 100, 0));
	EXPECT_READY(self->cons.fd, 0);
	/* One flush publishes the whole batch. */
	EXPECT_LE(0, ipcu_flush(&self->prod));
	EXPECT_READY(self->cons.fd, IN);
	for (seq = 0; seq < 3; seq++) {
		const void *msg;
		size_t len;
		__u32 tag;

		ASSERT_EQ(0, ipcu_peek(&self->cons, &msg, &len, &tag));
		EXPECT_EQ(seq, tag);
		ASSERT_EQ(0, ipcu_release(&self->cons));
	}
	/*
	 * Released but not flushed: nothing left to read here, but the
	 * kernel judges by the published head and still sees three.
	 */
	EXPECT_EQ(-EAGAIN, get(&self->cons, 100, 0));
	EXPECT_EQ(0, self->cons.cons->head);
	EXPECT_READY(self->cons.fd, IN);
	EXPECT_LE(0, ipcu_flush(&self->cons));
	EXPECT_EQ(3, self->cons.cons->head);
	EXPECT_READY(self->cons.fd, 0);
}

/* A commit may be shorter than its reservation. */
TEST_F(ring, short_commit)
{
	void *buf;

	ASSERT_EQ(0, pair(self, 8, 2048, PG));
	ASSERT_EQ(0, ipcu_reserve(&self->prod, 2048, &buf));
	fill(buf, 5, 1);
	ASSERT_EQ(0, ipcu_commit(&self->prod, 5, 1));
	ASSERT_LE(0, ipcu_flush(&self->prod));
	/* The unused rest of the reservation is free again. */
	ASSERT_EQ(0, put(&self->prod, 2048, 2));
	EXPECT_EQ(0, get(&self->cons, 5, 1));
	EXPECT_EQ(0, get(&self->cons, 2048, 2));
	EXPECT_EQ(-EINVAL, ipcu_commit(&self->prod, 1, 0));
}

TEST_F(ring, bad_lengths)
{
	void *buf;

	ASSERT_EQ(0, pair(self, 8, 100, PG));
	EXPECT_EQ(-EMSGSIZE, ipcu_reserve(&self->prod, 0, &buf));
	EXPECT_EQ(-EMSGSIZE, ipcu_reserve(&self->prod, 101, &buf));
	EXPECT_EQ(-EMSGSIZE, ipcu_reserve(&self->prod, (size_t)-1, &buf));
	ASSERT_EQ(0, ipcu_reserve(&self->prod, 50, &buf));
	EXPECT_EQ(-EMSGSIZE, ipcu_commit(&self->prod, 51, 0));
	EXPECT_EQ(-EMSGSIZE, ipcu_commit(&self->prod, 0, 0));
	EXPECT_EQ(0, ipcu_commit(&self->prod, 50, 0));
}

/*
 * Every message size from 1 to max_msg, the ring kept as full as it gets:
 * when a message does not fit, the oldest is consumed first.  Messages
 * that would straddle the end of the payload area skip to its start.
 */
struct geometry {
	unsigned int entries;
	unsigned int max_msg;
	size_t payload;
	unsigned int stride;
};

static const struct geometry wrap_geometries[] = {
	{ 16, 4096, 8192, 1 },		/* the smallest area for 4 KiB */
	{ 4, 4096, 8192, 7 },		/* descriptors run out first */
	{ 1, 2048, 4096, 5 },		/* one message at a time */
	{ 256, 100, 4096, 1 },		/* many small ones */
	{ 1024, 4096, 65536, 3 },
};

#define QMAX	1024

static int run_sizes(struct __test_metadata *_metadata, struct ipcu_ep *p,
		     struct ipcu_ep *c, const struct geometry *g, uint32_t seq0)
{
	static uint32_t qlen[QMAX];
	unsigned int qhead = 0, qtail = 0, n, size;
	uint32_t seq = seq0, next = seq0;
	int ret;

	for (n = 0; n < g->max_msg; n++) {
		size = 1 + (n * g->stride) % g->max_msg;
		while ((ret = put(p, size, seq)) == -EAGAIN) {
			/* Full with nothing in flight would be a bug. */
			if (qhead == qtail) {
				TH_LOG("size %u does not fit an empty ring", size);
				return -1;
			}
			ret = get(c, qlen[qhead % QMAX], next);
			if (ret) {
				TH_LOG("get seq %u: %d", next, ret);
				return -1;
			}
			qhead++;
			next++;
		}
		if (ret) {
			TH_LOG("put size %u seq %u: %d", size, seq, ret);
			return -1;
		}
		if (qtail - qhead >= QMAX) {
			TH_LOG("more in flight than entries");
			return -1;
		}
		qlen[qtail++ % QMAX] = size;
		seq++;
	}
	for (; qhead != qtail; qhead++, next++) {
		ret = get(c, qlen[qhead % QMAX], next);
		if (ret) {
			TH_LOG("drain seq %u: %d", next, ret);
			return -1;
		}
	}
	return get(c, 1, 0) == -EAGAIN ? 0 : -1;
}

TEST_F(ring, wrap_every_size)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(wrap_geometries); i++) {
		const struct geometry *g = &wrap_geometries[i];

		ASSERT_EQ(0, pair(self, g->entries, g->max_msg, g->payload))
			TH_LOG("geometry %u", i);
		EXPECT_EQ(0, run_sizes(_metadata, &self->prod, &self->cons, g,
				       i * 100000)) TH_LOG("geometry %u", i);
		ipcu_ep_close(&self->prod);
		ipcu_ep_close(&self->cons);
	}
}

/* The exact skip rule: the rest of the area counts as used. */
TEST_F(ring, skip_to_start)
{
	void *buf;

	ASSERT_EQ(0, pair(self, 16, 4096, 8192));
	ASSERT_EQ(0, put(&self->prod, 3000, 1));	/* 0..3000 */
	ASSERT_EQ(0, put(&self->prod, 3000, 2));	/* 3000..6000 */
	/* 2192 bytes left before the end: a message of 2192 fits there. */
	ASSERT_EQ(0, ipcu_reserve(&self->prod, 2192, &buf));
	EXPECT_TRUE((unsigned char *)buf == self->prod.payload + 6000);
	/* 2193 does not, and the start is still in use. */
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 2193, &buf));
	ASSERT_EQ(0, get(&self->cons, 3000, 1));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 3001, &buf));
	ASSERT_EQ(0, ipcu_reserve(&self->prod, 3000, &buf));
	EXPECT_TRUE((unsigned char *)buf == self->prod.payload);
	fill(buf, 3000, 3);
	ASSERT_EQ(0, ipcu_commit(&self->prod, 3000, 3));
	ASSERT_LE(0, ipcu_flush(&self->prod));
	EXPECT_EQ(0, get(&self->cons, 3000, 2));
	EXPECT_EQ(0, get(&self->cons, 3000, 3));
	EXPECT_EQ(-EAGAIN, get(&self->cons, 1, 0));
}

TEST_F(ring, full_by_descriptors)
{
	void *buf;
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 4, 64, 16 * PG));
	EXPECT_READY(self->prod.fd, OUT);
	for (seq = 0; seq < 4; seq++)
		ASSERT_EQ(0, put(&self->prod, 1, seq));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 1, &buf));
	EXPECT_READY(self->prod.fd, 0);
	EXPECT_READY(self->cons.fd, IN);
	ASSERT_EQ(0, get(&self->cons, 1, 0));
	EXPECT_READY(self->prod.fd, OUT);
	ASSERT_EQ(0, put(&self->prod, 1, 4));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 1, &buf));
	for (seq = 1; seq < 5; seq++)
		ASSERT_EQ(0, get(&self->cons, 1, seq));
	EXPECT_READY(self->cons.fd, 0);
}

TEST_F(ring, full_by_payload)
{
	void *buf;

	ASSERT_EQ(0, pair(self, 64, 2048, PG));
	ASSERT_EQ(0, put(&self->prod, 2048, 0));
	ASSERT_EQ(0, put(&self->prod, 2048, 1));
	/* Not even one byte, though 62 descriptors are free. */
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 1, &buf));
	EXPECT_READY(self->prod.fd, 0);
	ASSERT_EQ(0, get(&self->cons, 2048, 0));
	EXPECT_READY(self->prod.fd, OUT);
	ASSERT_EQ(0, put(&self->prod, 2048, 2));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 1, &buf));
	EXPECT_EQ(0, get(&self->cons, 2048, 1));
	EXPECT_EQ(0, get(&self->cons, 2048, 2));
}

TEST_F(ring, empty)
{
	const void *buf;
	size_t len;

	ASSERT_EQ(0, pair(self, 8, 64, PG));
	EXPECT_EQ(-EAGAIN, ipcu_peek(&self->cons, &buf, &len, NULL));
	EXPECT_READY(self->cons.fd, 0);
	ASSERT_EQ(0, put(&self->prod, 64, 1));
	EXPECT_EQ(0, get(&self->cons, 64, 1));
	EXPECT_EQ(-EAGAIN, ipcu_peek(&self->cons, &buf, &len, NULL));
	EXPECT_READY(self->cons.fd, 0);
}

TEST_F(ring, one_byte_and_max)
{
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 8, 2048, PG));
	for (seq = 0; seq < 20; seq++) {
		ASSERT_EQ(0, put(&self->prod, 1, 2 * seq));
		ASSERT_EQ(0, put(&self->prod, 2047, 2 * seq + 1));
		ASSERT_EQ(0, get(&self->cons, 1, 2 * seq));
		ASSERT_EQ(0, get(&self->cons, 2047, 2 * seq + 1));
	}
	for (seq = 0; seq < 5; seq++) {
		ASSERT_EQ(0, put(&self->prod, 2048, seq));
		ASSERT_EQ(0, get(&self->cons, 2048, seq));
	}
}

TEST_F(ring, one_mib_message)
{
	uint32_t seq;
	void *buf;

	ASSERT_EQ(0, pair(self, 4, MIB, 2 * MIB));
	for (seq = 0; seq < 3; seq++) {
		ASSERT_EQ(0, put(&self->prod, MIB, seq));
		ASSERT_EQ(0, put(&self->prod, MIB, seq + 100));
		EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 1, &buf));
		ASSERT_EQ(0, get(&self->cons, MIB, seq));
		ASSERT_EQ(0, get(&self->cons, MIB, seq + 100));
	}
	/*
	 * Off the lap boundary: 1 + 1 MiB leaves 1 MiB - 1 before the end,
	 * so the next big one skips to the start, and the skipped bytes are
	 * free only once the message before them is.
	 */
	ASSERT_EQ(0, put(&self->prod, 1, 1));
	ASSERT_EQ(0, put(&self->prod, MIB, 2));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, MIB, &buf));
	ASSERT_EQ(0, ipcu_reserve(&self->prod, MIB - 1, &buf));
	ASSERT_EQ(0, get(&self->cons, 1, 1));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, MIB, &buf));
	ASSERT_EQ(0, get(&self->cons, MIB, 2));
	ASSERT_EQ(0, ipcu_reserve(&self->prod, MIB, &buf));
	EXPECT_TRUE((unsigned char *)buf == self->prod.payload);
	ASSERT_EQ(0, put(&self->prod, MIB, 3));
	ASSERT_EQ(0, get(&self->cons, MIB, 3));
}

/*
 * Free-running indices wrap modulo 2^32: start both sides just below the
 * wrap (an endpoint takes its indices from its control page) and run
 * messages of every size across it.
 */
TEST_F(ring, index_wrap)
{
	static const struct geometry g = { 16, 4096, 8192, 13 };
	const __u32 tail = 0xfffffff0U, pay = 0xffffd07bU;
	struct ipcu_prod_ctrl *pc;
	struct ipcu_cons_ctrl *cc;
	int dev, pfd, cfd;

	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	pfd = ipcu_test_create(dev, g.entries, g.max_msg, g.payload, NULL, 0,
			       IPCU_ROLE_PRODUCER);
	close(dev);
	ASSERT_LE(0, pfd);
	cfd = ipcu_test_peer(pfd);
	ASSERT_LE(0, cfd);
	pc = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, PG);
	ASSERT_TRUE(pc != MAP_FAILED);
	cc = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	ASSERT_TRUE(cc != MAP_FAILED);
	pc->tail = tail;
	pc->pay_tail = pay;
	cc->head = tail;
	cc->pay_head = pay;
	munmap(pc, PG);
	munmap(cc, PG);

	ASSERT_EQ(0, ipcu_ep_from_fd(pfd, &self->prod));
	ASSERT_EQ(0, ipcu_ep_from_fd(cfd, &self->cons));
	EXPECT_READY(self->cons.fd, 0);
	EXPECT_READY(self->prod.fd, OUT);
	EXPECT_EQ(0, run_sizes(_metadata, &self->prod, &self->cons, &g, 0));
	/* Both wrapped, and the kernel agrees the ring is consistent. */
	EXPECT_GT(tail, self->prod.prod->tail);
	EXPECT_GT(pay, self->prod.prod->pay_tail);
	EXPECT_EQ(self->prod.prod->tail, self->cons.cons->head);
	EXPECT_READY(self->cons.fd, 0);
	EXPECT_READY(self->prod.fd, OUT);
}

/* ---- readiness ------------------------------------------------------------ */

TEST_F(ring, poll_consumer)
{
	ASSERT_EQ(0, pair(self, 8, 512, PG));
	EXPECT_READY(self->cons.fd, 0);
	ASSERT_EQ(0, put(&self->prod, 10, 0));
	EXPECT_READY(self->cons.fd, IN);
	ASSERT_EQ(0, put(&self->prod, 10, 1));
	EXPECT_READY(self->cons.fd, IN);
	ASSERT_EQ(0, get(&self->cons, 10, 0));
	EXPECT_READY(self->cons.fd, IN);
	ASSERT_EQ(0, get(&self->cons, 10, 1));
	EXPECT_READY(self->cons.fd, 0);
	/* The consumer is never writable, the producer never readable. */
	EXPECT_EQ(0, polled(self->cons.fd) & POLLOUT);
	ASSERT_EQ(0, put(&self->prod, 10, 2));
	EXPECT_EQ(0, polled(self->prod.fd) & POLLIN);
}

TEST_F(ring, poll_producer)
{
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 2, 2048, PG));
	EXPECT_READY(self->prod.fd, OUT);
	ASSERT_EQ(0, put(&self->prod, 100, 0));
	EXPECT_READY(self->prod.fd, OUT);
	ASSERT_EQ(0, put(&self->prod, 100, 1));
	EXPECT_READY(self->prod.fd, 0);
	for (seq = 0; seq < 2; seq++) {
		ASSERT_EQ(0, get(&self->cons, 100, seq));
		EXPECT_READY(self->prod.fd, OUT);
	}
}

/* The producer's "want" decides how much room makes it writable. */
TEST_F(ring, poll_producer_want)
{
	volatile struct ipcu_prod_ctrl *pc;

	ASSERT_EQ(0, pair(self, 16, 4096, 8192));
	pc = self->prod.prod;
	ASSERT_EQ(0, put(&self->prod, 4096, 0));
	ASSERT_EQ(0, put(&self->prod, 2048, 1));
	/* 2048 bytes free before the end, none after it. */
	pc->want = 0;
	EXPECT_READY(self->prod.fd, OUT);
	pc->want = 1;
	EXPECT_READY(self->prod.fd, OUT);
	pc->want = 2048;
	EXPECT_READY(self->prod.fd, OUT);
	pc->want = 2049;
	EXPECT_READY(self->prod.fd, 0);
	pc->want = 4096;
	EXPECT_READY(self->prod.fd, 0);
	/* Above max_msg counts as max_msg. */
	pc->want = 4097;
	EXPECT_READY(self->prod.fd, 0);
	pc->want = UINT32_MAX;
	EXPECT_READY(self->prod.fd, 0);

	ASSERT_EQ(0, get(&self->cons, 4096, 0));
	pc->want = 4096;
	EXPECT_READY(self->prod.fd, OUT);
	pc->want = UINT32_MAX;
	EXPECT_READY(self->prod.fd, OUT);
	pc->want = 0;
	EXPECT_READY(self->prod.fd, OUT);
}

/* The library sets "want" itself before it sleeps. */
TEST_F(ring, wait_space_sets_want)
{
	void *buf;

	ASSERT_EQ(0, pair(self, 16, 4096, 8192));
	ASSERT_EQ(0, put(&self->prod, 4096, 0));
	ASSERT_EQ(0, put(&self->prod, 2048, 1));
	EXPECT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 4096, &buf));
	EXPECT_EQ(-ETIMEDOUT, ipcu_wait_space(&self->prod, 4096, 0));
	EXPECT_EQ(0, ipcu_wait_space(&self->prod, 1000, 0));
	ASSERT_EQ(0, get(&self->cons, 4096, 0));
	EXPECT_EQ(0, ipcu_wait_space(&self->prod, 4096, 0));
	EXPECT_EQ(0, ipcu_reserve(&self->prod, 4096, &buf));
}

TEST_F(ring, wait_consumer_library)
{
	ASSERT_EQ(0, pair(self, 8, 64, PG));
	EXPECT_EQ(-ETIMEDOUT, ipcu_wait(&self->cons, 0));
	EXPECT_EQ(-ETIMEDOUT, ipcu_wait(&self->cons, 1000000));
	ASSERT_EQ(0, put(&self->prod, 64, 1));
	EXPECT_EQ(0, ipcu_wait(&self->cons, 0));
	EXPECT_EQ(0, ipcu_wait(&self->cons, -1));
	EXPECT_EQ(0, get(&self->cons, 64, 1));
	EXPECT_EQ(-ETIMEDOUT, ipcu_wait(&self->cons, 0));
}

/* ---- hostile indices -------------------------------------------------------- */

/* Indices that break the invariants read as EPOLLERR, for both sides. */
TEST_F(ring, inconsistent_indices)
{
	volatile struct ipcu_prod_ctrl *pc;
	const void *buf;
	size_t len;

	ASSERT_EQ(0, pair(self, 8, 512, PG));
	pc = self->prod.prod;
	ASSERT_EQ(0, put(&self->prod, 10, 0));
	ASSERT_EQ(0, put(&self->prod, 10, 1));
	ASSERT_EQ(0, get(&self->cons, 10, 0));
	ASSERT_EQ(0, get(&self->cons, 10, 1));
	/* Now head == tail == 2 and pay_head == pay_tail == 20. */

	pc->tail = 2 + 9;			/* more than entries */
	EXPECT_READY(self->cons.fd, EPOLLERR);
	EXPECT_READY(self->prod.fd, EPOLLERR);
	EXPECT_EQ(-EPROTO, ipcu_peek(&self->cons, &buf, &len, NULL));
	pc->tail = 1;				/* behind head */
	EXPECT_READY(self->cons.fd, EPOLLERR);
	EXPECT_READY(self->prod.fd, EPOLLERR);
	EXPECT_EQ(-EPROTO, ipcu_peek(&self->cons, &buf, &len, NULL));
	pc->tail = 2;
	pc->pay_tail = 20 + PG + 1;		/* more than the area */
	EXPECT_READY(self->cons.fd, EPOLLERR);
	EXPECT_READY(self->prod.fd, EPOLLERR);
	pc->pay_tail = 20;
	EXPECT_READY(self->cons.fd, 0);
	EXPECT_READY(self->prod.fd, OUT);
	/* The library never trusted the shared copy of its own indices. */
	ASSERT_EQ(0, put(&self->prod, 10, 2));
	EXPECT_EQ(0, get(&self->cons, 10, 2));
}

/* A descriptor that points outside the rules is refused, not followed. */
TEST_F(ring, corrupt_descriptor)
{
	static const struct { __u32 pos, len, flags; } bad[] = {
		{ 0, 0, 0 },		/* empty */
		{ 0, 513, 0 },		/* above max_msg */
		{ 0, UINT32_MAX, 0 },
		{ 1, 10, 0 },		/* not where the last one ended */
		{ 4096 - 5, 10, 0 },	/* straddles the end */
		{ 0, 10, 1 },		/* unknown flags */
	};
	struct ipcu_desc *d;
	const void *buf;
	unsigned int i;
	size_t len;

	ASSERT_EQ(0, pair(self, 8, 512, PG));
	ASSERT_EQ(0, put(&self->prod, 10, 0));
	d = &self->prod.desc[0];
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		d->pos = bad[i].pos;
		d->len = bad[i].len;
		d->flags = bad[i].flags;
		EXPECT_EQ(-EPROTO, ipcu_peek(&self->cons, &buf, &len, NULL))
			TH_LOG("descriptor %u", i);
	}
	d->pos = 0;
	d->len = 10;
	d->flags = 0;
	EXPECT_EQ(0, get(&self->cons, 10, 0));
}

/* ---- endpoints come and go ----------------------------------------------------- */

/* A new consumer picks up where the previous one left off. */
TEST_F(ring, consumer_resumes)
{
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 8, 256, PG));
	for (seq = 0; seq < 5; seq++)
		ASSERT_EQ(0, put(&self->prod, 100 + seq, seq));
	ASSERT_EQ(0, get(&self->cons, 100, 0));
	ASSERT_EQ(0, get(&self->cons, 101, 1));
	ipcu_ep_close(&self->cons);
	EXPECT_READY(self->prod.fd, OUT | EPOLLHUP);
	ASSERT_EQ(0, ipcu_ep_peer(&self->prod, &self->cons));
	EXPECT_READY(self->prod.fd, OUT);
	EXPECT_READY(self->cons.fd, IN);
	for (seq = 2; seq < 5; seq++)
		EXPECT_EQ(0, get(&self->cons, 100 + seq, seq));
	EXPECT_READY(self->cons.fd, 0);
}

/* ...and so does a new producer. */
TEST_F(ring, producer_resumes)
{
	uint32_t seq;

	ASSERT_EQ(0, pair(self, 8, 256, PG));
	for (seq = 0; seq < 3; seq++)
		ASSERT_EQ(0, put(&self->prod, 200, seq));
	ipcu_ep_close(&self->prod);
	EXPECT_READY(self->cons.fd, IN | EPOLLHUP);
	ASSERT_EQ(0, get(&self->cons, 200, 0));
	ASSERT_EQ(0, ipcu_ep_peer(&self->cons, &self->prod));
	for (seq = 3; seq < 8; seq++)
		ASSERT_EQ(0, put(&self->prod, 200, seq));
	for (seq = 1; seq < 8; seq++)
		EXPECT_EQ(0, get(&self->cons, 200, seq));
}

/*
 * From /proc/@pid/status: whether the task sleeps (state S), and its
 * voluntary context switches so far; -1 if unknown.
 */
static long sleeps_seen(pid_t pid, int *sleeping)
{
	char path[64], line[128];
	long switches = -1;
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "State: %c", &state);
		sscanf(line, "voluntary_ctxt_switches: %ld", &switches);
	}
	fclose(f);
	*sleeping = state == 'S';
	return switches;
}

/*
 * A producer asleep in the kernel for more room than one release frees:
 * the first doorbell finds it still not writable and the kernel puts it
 * back to sleep, so the later release that makes the room has to wake it.
 * The bounds below only keep a broken run finite; nothing is timed.
 */
TEST_F(ring, wakeup_after_partial_release)
{
	struct ipcu_ep_info info;
	long switches = -1;
	int i, sleeping = 0, status = 0;
	pid_t pid, done = 0;

	ASSERT_EQ(0, pair(self, 16, 4096, 8192));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, put(&self->prod, 2048, i));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret;

		ipcu_ep_close(&self->cons);
		self->prod.spin = 0;
		ret = ipcu_wait_space(&self->prod, 4096, -1);
		_exit(ret ? 1 : 0);
	}
	/* Until the producer sleeps in IPCU_IOC_WAIT. */
	for (i = 0; i < 2000; i++) {
		ASSERT_EQ(0, ipcu_test_ep_info(self->prod.fd, &info));
		switches = sleeps_seen(pid, &sleeping);
		if (info.sleeps && sleeping)
			break;
		usleep(5000);
	}
	ASSERT_NE(0, info.sleeps);

	/* 2048 bytes free: not enough. */
	ASSERT_EQ(0, get(&self->cons, 2048, 0));
	/* Let a woken producer find that out and go back to sleep. */
	for (i = 0; i < 400; i++) {
		long now = sleeps_seen(pid, &sleeping);

		if (now < 0 || (now > switches && sleeping))
			break;
		usleep(5000);
	}
	/* 4096 bytes free: enough. */
	ASSERT_EQ(0, get(&self->cons, 2048, 1));
	EXPECT_READY(self->prod.fd, OUT);

	for (i = 0; i < 2000 && !done; i++) {
		done = waitpid(pid, &status, WNOHANG);
		if (!done)
			usleep(5000);
	}
	if (!done) {
		kill(pid, SIGKILL);
		ipcu_test_reap(pid);
	}
	EXPECT_EQ(pid, done) TH_LOG("the producer was never woken");
	if (done == pid)
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A peer in another process: same order, same bytes, with sleeping waits. */
TEST_F(ring, fifo_across_processes)
{
	const long long timeout = 10LL * 1000000000;
	const unsigned int count = 3000;
	unsigned char buf[1000];
	uint32_t seq;
	pid_t pid;
	int ret;

	ASSERT_EQ(0, pair(self, 32, 1000, 4 * PG));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->prod);
		for (seq = 0; seq < count; seq++) {
			size_t len = 1 + seq * 7 % 1000;

			ret = ipcu_recv(&self->cons, buf, sizeof(buf), timeout);
			IPCU_TEST_CHILD_CHECK(ret == (int)len, "seq %u: %d",
					      seq, ret);
			fill(ref, len, seq);
			IPCU_TEST_CHILD_CHECK(!memcmp(buf, ref, len),
					      "seq %u content", seq);
		}
		ret = ipcu_recv(&self->cons, buf, sizeof(buf), timeout);
		IPCU_TEST_CHILD_CHECK(ret == -EPIPE, "after the end: %d", ret);
		_exit(0);
	}
	ipcu_ep_close(&self->cons);
	for (seq = 0; seq < count; seq++) {
		size_t len = 1 + seq * 7 % 1000;

		fill(buf, len, seq);
		ASSERT_EQ(0, ipcu_send(&self->prod, buf, len, timeout))
			TH_LOG("seq %u", seq);
	}
	ipcu_ep_close(&self->prod);
	EXPECT_EQ(0, ipcu_test_reap(pid));
}

TEST_HARNESS_MAIN
