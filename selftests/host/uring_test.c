// SPDX-License-Identifier: GPL-2.0
/*
 * ipcu_prep_poll() from <ipcunit-uring.h>: which SQE it prepares and what
 * it leaves in the shared control pages.  No io_uring instance is needed:
 * the SQE is compared with one prepared by liburing directly.
 */
#include <fcntl.h>

#include <ipcunit-uring.h>

#include "memring.h"

static int same_sqe(const struct io_uring_sqe *a, const struct io_uring_sqe *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/*
 * The endpoints get a real fd that is not an endpoint, so a doorbell
 * would fail loudly; none is expected, as the peers never set their flag.
 */
static void setup(struct ring *r, int fd)
{
	ring_setup(r, 4, 100, 256, 0, 0);
	r->p.fd = fd;
	r->c.fd = fd;
}

static void teardown(struct ring *r)
{
	r->p.fd = -1;
	r->c.fd = -1;
	ring_free(r);
}

TAP_TEST(poll_when_waiting)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct io_uring_sqe sqe, ref;
	struct ring r;
	void *buf;
	int i;

	ASSERT_GE(fd, 0);
	setup(&r, fd);

	memset(&sqe, 0xff, sizeof(sqe));
	memset(&ref, 0xff, sizeof(ref));
	io_uring_prep_poll_add(&ref, fd, POLLIN);
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.c), 0);
	ASSERT_TRUE(same_sqe(&sqe, &ref));
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, IPCU_NEED_WAKEUP);
	ipcu_finish_wait(&r.c);
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);

	/* A full producer polls for POLLOUT and says how much it needs. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(ipcu_reserve(&r.p, 100, &buf), 0);
		ASSERT_EQ(ipcu_commit(&r.p, 100, 0), 0);
	}
	ASSERT_EQ(ipcu_reserve(&r.p, 99, &buf), -EAGAIN);
	memset(&sqe, 0xff, sizeof(sqe));
	memset(&ref, 0xff, sizeof(ref));
	io_uring_prep_poll_add(&ref, fd, POLLOUT);
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.p), 0);
	ASSERT_TRUE(same_sqe(&sqe, &ref));
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, IPCU_NEED_WAKEUP);
	ASSERT_EQ(ring_prod(&r)->want, 99);
	ASSERT_EQ(ring_prod(&r)->tail, 2);	/* published before */
	ipcu_finish_wait(&r.p);
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);

	teardown(&r);
	close(fd);
}

/* Ready already, or broken: a NOP, so the SQE is safe to submit. */
TAP_TEST(nop_when_ready_or_corrupt)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct io_uring_sqe sqe, ref;
	struct ring r;
	void *buf;

	ASSERT_GE(fd, 0);
	setup(&r, fd);
	memset(&ref, 0xff, sizeof(ref));
	io_uring_prep_nop(&ref);

	memset(&sqe, 0xff, sizeof(sqe));
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.p), 1);
	ASSERT_TRUE(same_sqe(&sqe, &ref));
	ASSERT_EQ(ring_prod(&r)->flags & IPCU_NEED_WAKEUP, 0);

	ASSERT_EQ(ipcu_reserve(&r.p, 10, &buf), 0);
	ASSERT_EQ(ipcu_commit(&r.p, 10, 0), 0);
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.p), 1);	/* publishes */
	memset(&sqe, 0xff, sizeof(sqe));
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.c), 1);
	ASSERT_TRUE(same_sqe(&sqe, &ref));
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);

	ring_prod(&r)->tail = 1000;
	memset(&sqe, 0xff, sizeof(sqe));
	ASSERT_EQ(ipcu_prep_poll(&sqe, &r.c), -EPROTO);
	ASSERT_TRUE(same_sqe(&sqe, &ref));
	ASSERT_EQ(ring_cons(&r)->flags & IPCU_NEED_WAKEUP, 0);

	teardown(&r);
	close(fd);
}

int main(void)
{
	return tap_main();
}
