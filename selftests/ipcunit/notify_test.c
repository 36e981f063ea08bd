// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications: eventfds, poll() and epoll, io_uring polls, IPCU_IOC_WAIT
 * with a doorbell, the wakeup protocol's doorbell suppression, and the
 * lifetime races of eventfd registration and epoll (THREATS 10 and 11).
 *
 * Nothing here measures time: loops are bounded by counts, and timeouts
 * only guard against hangs.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#ifdef IPCU_HAVE_URING
#include "ipcunit-uring.h"
#endif

#define ENTRIES		8
#define MAX_MSG		256
#define PAYLOAD		4096

/* Hang guard for anything that blocks; far above any expected run time. */
#define HANG_GUARD_S	100

static int new_efd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

/* The eventfd's count, reset to 0; 0 if it was not signalled. */
static uint64_t efd_take(int efd)
{
	uint64_t v;

	return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

/* poll() readiness right now. */
static short poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static uint64_t doorbells_of(int fd)
{
	struct ipcu_ep_info info;

	return ipcu_test_ep_info(fd, &info) ? ~0ULL : info.doorbells;
}

static uint32_t state_of(int fd)
{
	struct ipcu_ep_info info;

	return ipcu_test_ep_info(fd, &info) ? ~0U : info.state;
}

/* A producer and a consumer endpoint of one channel, both in this process. */
FIXTURE(chan) {
	struct ipcu_ep prod;
	struct ipcu_ep cons;
};

FIXTURE_SETUP(chan)
{
	self->prod.fd = self->cons.fd = -1;
	ASSERT_EQ(0, ipcu_test_pair(&self->prod, &self->cons, ENTRIES,
				    MAX_MSG, PAYLOAD));
}

FIXTURE_TEARDOWN(chan)
{
	ipcu_ep_close(&self->prod);
	ipcu_ep_close(&self->cons);
}

/* --- eventfds ------------------------------------------------------------ */

TEST_F(chan, eventfd_data_counts_doorbells)
{
	int efd = new_efd();
	int i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(100, efd_take(efd));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(100, doorbells_of(self->prod.fd));

	/* The consumer's doorbell is for the producer, not for DATA. */
	ASSERT_EQ(0, ipcu_doorbell(&self->cons));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(1, doorbells_of(self->cons.fd));
	close(efd);
}

TEST_F(chan, eventfd_space_counts_doorbells)
{
	int efd = new_efd();
	int i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, efd));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, ipcu_doorbell(&self->cons));
	EXPECT_EQ(100, efd_take(efd));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(100, doorbells_of(self->cons.fd));

	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(0, efd_take(efd));
	close(efd);
}

/* ipcu_flush() rings only for a consumer that armed NEED_WAKEUP. */
TEST_F(chan, eventfd_data_only_when_armed)
{
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));

	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 64));
	EXPECT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(0, efd_take(efd));

	/* A message is there: arming finds it and does not arm. */
	EXPECT_EQ(1, ipcu_prepare_wait(&self->cons));
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));

	/* Empty: armed, so the next publication rings exactly once. */
	ASSERT_EQ(0, ipcu_prepare_wait(&self->cons));
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 1, 64));
	EXPECT_EQ(1, ipcu_flush(&self->prod));
	EXPECT_EQ(1, efd_take(efd));
	ipcu_finish_wait(&self->cons);
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 1));

	/* Disarmed again: no doorbell. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 2, 64));
	EXPECT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(1, self->prod.stats.doorbells);
	EXPECT_EQ(1, doorbells_of(self->prod.fd));
	close(efd);
}

/* The producer waits for space: the consumer's release rings SPACE once. */
TEST_F(chan, eventfd_space_only_when_armed)
{
	int efd = new_efd();
	uint32_t seq;
	void *buf;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, efd));
	for (seq = 0; seq < ENTRIES; seq++)
		ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 64));
	ASSERT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 64, &buf));
	ASSERT_EQ(0, ipcu_prepare_wait(&self->prod));

	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));
	EXPECT_EQ(1, ipcu_flush(&self->cons));
	EXPECT_EQ(1, efd_take(efd));
	ipcu_finish_wait(&self->prod);

	ASSERT_EQ(0, ipcu_test_get(&self->cons, 1));
	EXPECT_EQ(0, ipcu_flush(&self->cons));
	EXPECT_EQ(0, efd_take(efd));
	EXPECT_EQ(1, doorbells_of(self->cons.fd));
	close(efd);
}

TEST_F(chan, eventfd_unregister)
{
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(1, efd_take(efd));

	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, -1));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(0, efd_take(efd));

	/* Unregistering twice is harmless. */
	EXPECT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, -1));
	/* And registering again works. */
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(1, efd_take(efd));
	close(efd);
}

TEST_F(chan, eventfd_replace)
{
	int old = new_efd(), new = new_efd();

	ASSERT_LE(0, old);
	ASSERT_LE(0, new);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, old));
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, new));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(2, efd_take(new));
	EXPECT_EQ(0, efd_take(old));

	/* The same eventfd for two events counts both. */
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_PEER_GONE, new));
	ipcu_ep_close(&self->prod);
	EXPECT_EQ(1, efd_take(new));
	close(old);
	close(new);
}

/* The module holds the eventfd context, not the descriptor. */
TEST_F(chan, eventfd_outlives_its_fd)
{
	int efd = new_efd(), keep;
	int i;

	ASSERT_LE(0, efd);
	keep = dup(efd);
	ASSERT_LE(0, keep);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));
	ASSERT_EQ(0, close(efd));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	EXPECT_EQ(5, efd_take(keep));

	/* No descriptor left at all: signals go to a context nobody reads. */
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, keep));
	ASSERT_EQ(0, close(keep));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	/* Replaced and released while unreadable; then the peer goes. */
	efd = new_efd();
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, efd));
	ASSERT_EQ(0, close(efd));
	ipcu_ep_close(&self->cons);
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
}

/* --- peer departure ------------------------------------------------------ */

TEST_F(chan, peer_gone_when_producer_leaves)
{
	int gone = new_efd(), data = new_efd(), own = new_efd();

	ASSERT_LE(0, gone);
	ASSERT_LE(0, data);
	ASSERT_LE(0, own);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_PEER_GONE, gone));
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, data));
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, own));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(self->cons.fd));
	EXPECT_FALSE(poll_now(self->cons.fd) & POLLHUP);

	ipcu_ep_close(&self->prod);
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_EQ(0, efd_take(data));
	EXPECT_EQ(0, efd_take(own));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(self->cons.fd));
	EXPECT_EQ(POLLHUP, poll_now(self->cons.fd));
	/* Once: nothing more happens. */
	EXPECT_EQ(0, efd_take(gone));

	/* A new producer; its departure fires again, once. */
	ASSERT_EQ(0, ipcu_ep_peer(&self->cons, &self->prod));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(self->cons.fd));
	EXPECT_FALSE(poll_now(self->cons.fd) & POLLHUP);
	EXPECT_EQ(0, efd_take(gone));
	ipcu_ep_close(&self->prod);
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_EQ(0, efd_take(own));
	close(gone);
	close(data);
	close(own);
}

TEST_F(chan, peer_gone_when_consumer_leaves)
{
	int gone = new_efd(), space = new_efd(), own = new_efd();

	ASSERT_LE(0, gone);
	ASSERT_LE(0, space);
	ASSERT_LE(0, own);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, gone));
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, space));
	ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_PEER_GONE, own));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(self->prod.fd));

	ipcu_ep_close(&self->cons);
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_EQ(0, efd_take(space));
	EXPECT_EQ(0, efd_take(own));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(self->prod.fd));
	EXPECT_TRUE(poll_now(self->prod.fd) & POLLHUP);
	EXPECT_EQ(0, efd_take(gone));

	ASSERT_EQ(0, ipcu_ep_peer(&self->prod, &self->cons));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(self->prod.fd));
	EXPECT_FALSE(poll_now(self->prod.fd) & POLLHUP);
	ipcu_ep_close(&self->cons);
	EXPECT_EQ(1, efd_take(gone));
	close(gone);
	close(space);
	close(own);
}

/* --- poll() and epoll ---------------------------------------------------- */

/* Readiness is computed from the published indices at every poll(). */
TEST_F(chan, poll_consumer)
{
	EXPECT_EQ(0, poll_now(self->cons.fd));

	/* Committed but not published: not readable yet. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 100));
	EXPECT_EQ(0, poll_now(self->cons.fd));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(POLLIN, poll_now(self->cons.fd));

	/* Released but not published: the kernel still sees it. */
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));
	EXPECT_EQ(POLLIN, poll_now(self->cons.fd));
	ASSERT_EQ(0, ipcu_flush(&self->cons));
	EXPECT_EQ(0, poll_now(self->cons.fd));

	/* A message and a hangup together: both are reported. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 1, 100));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	ipcu_ep_close(&self->prod);
	EXPECT_EQ(POLLIN | POLLHUP, poll_now(self->cons.fd));
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 1));
	ASSERT_EQ(0, ipcu_flush(&self->cons));
	EXPECT_EQ(POLLHUP, poll_now(self->cons.fd));
}

TEST_F(chan, poll_producer)
{
	uint32_t seq;

	EXPECT_EQ(POLLOUT, poll_now(self->prod.fd));
	for (seq = 0; seq < ENTRIES; seq++)
		ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 100));
	/* Until published, the kernel sees the old tail. */
	EXPECT_EQ(POLLOUT, poll_now(self->prod.fd));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(0, poll_now(self->prod.fd));

	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));
	ASSERT_EQ(0, ipcu_flush(&self->cons));
	EXPECT_EQ(POLLOUT, poll_now(self->prod.fd));

	ipcu_ep_close(&self->cons);
	EXPECT_EQ(POLLOUT | POLLHUP, poll_now(self->prod.fd));
}

/* POLLOUT means room for the size the producer announced in "want". */
TEST(poll_producer_want)
{
	struct ipcu_ep prod, cons;
	void *buf;

	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, 64, 2048, 4096));
	ASSERT_EQ(0, ipcu_test_put(&prod, 0, 2048));
	ASSERT_EQ(0, ipcu_test_put(&prod, 1, 1024));
	ASSERT_EQ(0, ipcu_flush(&prod));
	/* 1024 bytes left: enough for the default want of 1. */
	EXPECT_EQ(POLLOUT, poll_now(prod.fd));

	ASSERT_EQ(-EAGAIN, ipcu_reserve(&prod, 2048, &buf));
	ASSERT_EQ(0, ipcu_prepare_wait(&prod));
	EXPECT_EQ(0, poll_now(prod.fd));

	/* Freeing the first message makes room for 2048; it rings once. */
	ASSERT_EQ(0, ipcu_test_get(&cons, 0));
	EXPECT_EQ(1, ipcu_flush(&cons));
	EXPECT_EQ(POLLOUT, poll_now(prod.fd));
	ipcu_finish_wait(&prod);
	ASSERT_EQ(0, ipcu_reserve(&prod, 2048, &buf));

	ipcu_ep_close(&prod);
	ipcu_ep_close(&cons);
}

/*
 * Readiness changes in shared memory wake nobody: epoll learns about them
 * from doorbells (or a hangup), which is why a sleeper arms NEED_WAKEUP
 * first.  Edge-triggered, each doorbell is one edge.
 */
TEST_F(chan, epoll_edge_triggered)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->cons.fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

	/* Published without a doorbell: poll() sees it, epoll was not woken. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 64));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(POLLIN, poll_now(self->cons.fd));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

	/* The doorbell is the edge, reported once. */
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLIN, out[0].events);
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	ASSERT_EQ(0, ipcu_doorbell(&self->prod));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

	/* The protocol's way: arm, then the producer's flush rings. */
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));
	ASSERT_EQ(0, ipcu_prepare_wait(&self->cons));
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 1, 64));
	ASSERT_EQ(1, ipcu_flush(&self->prod));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLIN, out[0].events);
	ipcu_finish_wait(&self->cons);
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 1));
	ASSERT_EQ(0, ipcu_flush(&self->cons));

	/* The hangup is an edge too. */
	ipcu_ep_close(&self->prod);
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(EPOLLHUP, out[0].events);
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	close(ep);
}

/* A blocked epoll_wait() in another process wakes on the doorbell. */
TEST_F(chan, epoll_blocking_wakeup)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[1];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	uint32_t seq;
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->cons.fd, &ev));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->cons);
		for (seq = 0; seq < 200; seq++) {
			int ret;

			while ((ret = ipcu_test_put(&self->prod, seq, 32)) == -EAGAIN)
				IPCU_TEST_CHILD_CHECK(!ipcu_wait(&self->prod, -1), "");
			IPCU_TEST_CHILD_CHECK(ret == 0, "put %d", ret);
			IPCU_TEST_CHILD_CHECK(ipcu_flush(&self->prod) >= 0, "");
			if (seq % 3 == 0)
				sched_yield();
		}
		_exit(0);
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);

	for (seq = 0; seq < 200;) {
		int ret = ipcu_test_get(&self->cons, seq);

		if (ret == 0) {
			seq++;
			continue;
		}
		ASSERT_EQ(-EAGAIN, ret);
		/* Arm; sleep in epoll only if still empty after arming. */
		ret = ipcu_prepare_wait(&self->cons);
		ASSERT_LE(0, ret);
		if (ret == 0)
			ASSERT_EQ(1, epoll_wait(ep, out, 1, -1));
		ipcu_finish_wait(&self->cons);
	}
	ASSERT_LE(0, ipcu_flush(&self->cons));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	alarm(0);
	close(ep);
}

/* --- io_uring ------------------------------------------------------------ */

#ifdef IPCU_HAVE_URING
/* Wait for one completion; the timeout is only a hang guard. */
static int uring_wait_one(struct io_uring *ring, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = HANG_GUARD_S };
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

/* Prepare and submit one ipcu_prep_poll(); its return value. */
static int uring_poll(struct io_uring *ring, struct ipcu_ep *ep)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	if (!sqe)
		return -EBUSY;
	ret = ipcu_prep_poll(sqe, ep);
	if (io_uring_submit(ring) != 1)
		return -EIO;
	return ret;
}

static int uring_init(struct io_uring *ring)
{
	return io_uring_queue_init(8, ring, 0);
}
#endif

TEST_F(chan, io_uring_poll)
{
#ifdef IPCU_HAVE_URING
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	uint32_t seq;
	void *buf;
	int ret, res;

	ret = uring_init(&ring);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);

	/* Empty: a real poll, which does not complete by itself. */
	ASSERT_EQ(0, uring_poll(&ring, &self->cons));
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	/* The producer commits and rings: the poll completes. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 100));
	ASSERT_EQ(1, ipcu_flush(&self->prod));
	ASSERT_EQ(0, uring_wait_one(&ring, &res));
	EXPECT_TRUE(res & POLLIN);
	ipcu_finish_wait(&self->cons);
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 0));

	/* A message is there already: the SQE is a NOP that completes. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 1, 100));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	ASSERT_EQ(1, uring_poll(&ring, &self->cons));
	ASSERT_EQ(0, uring_wait_one(&ring, &res));
	EXPECT_EQ(0, res);
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 1));
	ASSERT_EQ(0, ipcu_flush(&self->cons));

	/* The producer waits for space; the consumer's release rings. */
	for (seq = 2; seq < 2 + ENTRIES; seq++)
		ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 100));
	ASSERT_EQ(-EAGAIN, ipcu_reserve(&self->prod, 100, &buf));
	ASSERT_EQ(0, uring_poll(&ring, &self->prod));
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	ASSERT_EQ(0, ipcu_test_get(&self->cons, 2));
	ASSERT_EQ(1, ipcu_flush(&self->cons));
	ASSERT_EQ(0, uring_wait_one(&ring, &res));
	EXPECT_TRUE(res & POLLOUT);
	ipcu_finish_wait(&self->prod);
	ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 100));
	ASSERT_EQ(0, ipcu_flush(&self->prod));

	/* Full again, and the consumer leaves: the poll completes, HUP. */
	ASSERT_EQ(0, uring_poll(&ring, &self->prod));
	ipcu_ep_close(&self->cons);
	ASSERT_EQ(0, uring_wait_one(&ring, &res));
	EXPECT_TRUE(res & POLLHUP);
	ipcu_finish_wait(&self->prod);
	io_uring_queue_exit(&ring);
#else
	SKIP(return, "built without liburing");
#endif
}

/* A consumer that sleeps only in io_uring, fed by another process. */
TEST_F_TIMEOUT(chan, io_uring_stream, 200)
{
#ifdef IPCU_HAVE_URING
	const uint32_t msgs = 3000;
	struct io_uring ring;
	uint64_t rnd = 11;
	uint32_t seq;
	pid_t pid;
	int ret, res;

	ret = uring_init(&ring);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->cons);
		for (seq = 0; seq < msgs; seq++) {
			size_t len = IPCU_TEST_MSG_MIN +
				     ipcu_test_rand(&rnd) % (MAX_MSG - 7);

			while ((ret = ipcu_test_put(&self->prod, seq, len)) == -EAGAIN)
				IPCU_TEST_CHILD_CHECK(!ipcu_wait(&self->prod, -1), "");
			IPCU_TEST_CHILD_CHECK(ret == 0, "put %d", ret);
			IPCU_TEST_CHILD_CHECK(ipcu_flush(&self->prod) >= 0, "");
			if (ipcu_test_rand(&rnd) % 4 == 0)
				sched_yield();
		}
		_exit(0);
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);

	self->cons.spin = 0;
	for (seq = 0; seq < msgs;) {
		ret = ipcu_test_get(&self->cons, seq);
		if (ret == 0) {
			seq++;
			continue;
		}
		ASSERT_EQ(-EAGAIN, ret);
		ret = uring_poll(&ring, &self->cons);
		ASSERT_LE(0, ret);
		ASSERT_EQ(0, uring_wait_one(&ring, &res));
		if (ret == 0) {
			EXPECT_TRUE(res & POLLIN);
			ipcu_finish_wait(&self->cons);
		}
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
	alarm(0);
	io_uring_queue_exit(&ring);
#else
	SKIP(return, "built without liburing");
#endif
}

/* --- IPCU_IOC_WAIT ------------------------------------------------------- */

/* IPCU_WAIT_DOORBELL rings the doorbell of the given endpoint's channel. */
TEST_F(chan, wait_rings_other_channel)
{
	struct ipcu_wait w = { .flags = IPCU_WAIT_DOORBELL };
	struct ipcu_ep prod2, cons2;
	struct ipcu_ep_info info;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ipcu_test_pair(&prod2, &cons2, ENTRIES, MAX_MSG, PAYLOAD));
	ASSERT_EQ(0, ipcu_set_eventfd(&cons2, IPCU_EV_DATA, efd));

	/* Wait on our empty consumer without sleeping; ring channel 2. */
	w.doorbell_fd = prod2.fd;
	w.timeout_ns = 0;
	EXPECT_EQ(-ETIMEDOUT, ipcu_test_ioctl(self->cons.fd, IPCU_IOC_WAIT, &w));
	EXPECT_EQ(1, efd_take(efd));
	EXPECT_EQ(1, doorbells_of(prod2.fd));
	EXPECT_EQ(0, doorbells_of(self->cons.fd));
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons.fd, &info));
	EXPECT_EQ(0, info.sleeps);

	/* Ready at once: revents, and the doorbell still rang. */
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 10));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	memset(&w, 0, sizeof(w));
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = prod2.fd;
	w.timeout_ns = -1;
	EXPECT_EQ(0, ipcu_test_ioctl(self->cons.fd, IPCU_IOC_WAIT, &w));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, w.revents);
	EXPECT_EQ(1, efd_take(efd));

	/* The consumer's own endpoint as the doorbell: rings its producer. */
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, efd));
	memset(&w, 0, sizeof(w));
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = self->cons.fd;
	w.timeout_ns = 0;
	EXPECT_EQ(0, ipcu_test_ioctl(self->cons.fd, IPCU_IOC_WAIT, &w));
	EXPECT_EQ(1, efd_take(efd));

	ipcu_ep_close(&prod2);
	ipcu_ep_close(&cons2);
	close(efd);
}

/* A sleeping IPCU_IOC_WAIT returns when the peer leaves. */
TEST_F(chan, wait_returns_on_hangup)
{
	struct ipcu_wait w = { .doorbell_fd = -1, .timeout_ns = -1 };
	pid_t pid;

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->cons);
		/* Leave once the consumer has said it sleeps. */
		while (!(__atomic_load_n(&self->prod.cons->flags,
					 __ATOMIC_ACQUIRE) & IPCU_NEED_WAKEUP))
			sched_yield();
		_exit(0);
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);
	__atomic_store_n(&self->cons.cons->flags, IPCU_NEED_WAKEUP,
			 __ATOMIC_SEQ_CST);
	EXPECT_EQ(0, ipcu_test_ioctl(self->cons.fd, IPCU_IOC_WAIT, &w));
	EXPECT_EQ(EPOLLHUP, w.revents);
	EXPECT_EQ(0, ipcu_test_reap(pid));
	alarm(0);
}

/*
 * Ping-pong between two processes over two channels, every wait sleeping
 * in IPCU_IOC_WAIT with the doorbell for the other channel rung inside it
 * (ipcu_flush_wait()).  The counters must agree with the protocol:
 *  - the kernel counts exactly the doorbells the library rang;
 *  - a side rings its peer at most once per message, and only after the
 *    peer armed NEED_WAKEUP, which it does only in a wait that found the
 *    ring empty (the library's "waits");
 *  - a side that never waits for space is never rung for space;
 *  - every kernel sleep is one IPCU_IOC_WAIT call of the library.
 */
#define PP_ROUNDS	2000

struct pp_side {
	struct ipcu_ep_stats in_stats, out_stats;
	struct ipcu_ep_info in_info, out_info;
};

/* Wait for message @seq on @in, publishing @out meanwhile; copy it out. */
static int pp_recv(struct ipcu_ep *out, struct ipcu_ep *in, uint32_t seq,
		   unsigned char *msg, size_t *len)
{
	const void *buf;
	__u32 tag;
	int ret;

	while ((ret = ipcu_peek(in, &buf, len, &tag)) == -EAGAIN) {
		ret = ipcu_flush_wait(out, in, -1);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (tag != seq || *len > MAX_MSG)
		return -EBADMSG;
	memcpy(msg, buf, *len);
	ipcu_release(in);
	return ipcu_test_msg_check(msg, *len, seq) ? -EBADMSG : 0;
}

/* Commit @len bytes of @msg on @out; at most one message is in flight. */
static int pp_send(struct ipcu_ep *out, uint32_t seq,
		   const unsigned char *msg, size_t len)
{
	void *dst;
	int ret;

	ret = ipcu_reserve(out, len, &dst);
	if (ret)
		return ret;
	memcpy(dst, msg, len);
	return ipcu_commit(out, len, seq);
}

/* Publish what is left and collect both endpoints' counters. */
static int pp_finish(struct ipcu_ep *out, struct ipcu_ep *in,
		     struct pp_side *res)
{
	if (ipcu_flush(out) < 0 || ipcu_flush(in) < 0)
		return -EIO;
	res->in_stats = in->stats;
	res->out_stats = out->stats;
	if (ipcu_test_ep_info(in->fd, &res->in_info) ||
	    ipcu_test_ep_info(out->fd, &res->out_info))
		return -EIO;
	return 0;
}

/* A: sends message n, waits for its echo. */
static int pp_initiator(struct ipcu_ep *out, struct ipcu_ep *in,
			struct pp_side *res)
{
	unsigned char msg[MAX_MSG];
	uint64_t rnd = 5;
	uint32_t seq;
	size_t len;
	int ret;

	out->spin = in->spin = 0;
	for (seq = 0; seq < PP_ROUNDS; seq++) {
		len = IPCU_TEST_MSG_MIN + ipcu_test_rand(&rnd) % 64;
		ipcu_test_msg_fill(msg, len, seq);
		ret = pp_send(out, seq, msg, len);
		if (!ret)
			ret = pp_recv(out, in, seq, msg, &len);
		if (ret)
			return ret;
	}
	return pp_finish(out, in, res);
}

/* B: waits for message n, echoes it. */
static int pp_echoer(struct ipcu_ep *out, struct ipcu_ep *in,
		     struct pp_side *res)
{
	unsigned char msg[MAX_MSG];
	uint32_t seq;
	size_t len;
	int ret;

	out->spin = in->spin = 0;
	for (seq = 0; seq < PP_ROUNDS; seq++) {
		ret = pp_recv(out, in, seq, msg, &len);
		if (!ret)
			ret = pp_send(out, seq, msg, len);
		if (ret)
			return ret;
	}
	return pp_finish(out, in, res);
}

TEST_F_TIMEOUT(chan, wait_doorbell_ping_pong, 200)
{
	struct ipcu_ep prod2, cons2;	/* channel 2: B -> A */
	struct pp_side *a, *b;
	pid_t pid;

	a = ipcu_test_shared(2 * sizeof(*a));
	ASSERT_TRUE(a != NULL);
	b = a + 1;
	ASSERT_EQ(0, ipcu_test_pair(&prod2, &cons2, ENTRIES, MAX_MSG, PAYLOAD));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* B: consumer of channel 1, producer of channel 2. */
		ipcu_ep_close(&self->prod);
		ipcu_ep_close(&cons2);
		_exit(-pp_echoer(&prod2, &self->cons, b));
	}
	ipcu_ep_close(&self->cons);
	ipcu_ep_close(&prod2);
	alarm(HANG_GUARD_S);
	/* A: producer of channel 1, consumer of channel 2. */
	ASSERT_EQ(0, pp_initiator(&self->prod, &cons2, a));
	ASSERT_EQ(0, ipcu_test_reap(pid));
	alarm(0);

	TH_LOG("A rang %llu (in %llu waits, %llu sleeps), B rang %llu (in %llu waits, %llu sleeps)",
	       a->out_info.doorbells, a->in_stats.waits, a->in_info.sleeps,
	       b->out_info.doorbells, b->in_stats.waits, b->in_info.sleeps);

	/* The kernel counted what the library rang. */
	EXPECT_EQ(a->out_stats.doorbells, a->out_info.doorbells);
	EXPECT_EQ(b->out_stats.doorbells, b->out_info.doorbells);
	EXPECT_EQ(a->in_stats.doorbells, a->in_info.doorbells);
	EXPECT_EQ(b->in_stats.doorbells, b->in_info.doorbells);
	/* At most one doorbell per message, and only for an armed peer. */
	EXPECT_GE(PP_ROUNDS, a->out_info.doorbells);
	EXPECT_GE(PP_ROUNDS, b->out_info.doorbells);
	EXPECT_GE(b->in_stats.waits, a->out_info.doorbells);
	EXPECT_GE(a->in_stats.waits, b->out_info.doorbells);
	/* Nobody waited for space, so nobody was rung for it. */
	EXPECT_EQ(0, a->in_info.doorbells);
	EXPECT_EQ(0, b->in_info.doorbells);
	EXPECT_EQ(0, a->out_info.sleeps);
	EXPECT_EQ(0, b->out_info.sleeps);
	/* Each kernel sleep was one IPCU_IOC_WAIT of the library. */
	EXPECT_GE(a->in_stats.sleeps, a->in_info.sleeps);
	EXPECT_GE(b->in_stats.sleeps, b->in_info.sleeps);
	munmap(a, 2 * sizeof(*a));
}

/*
 * Two awake processes: the consumer only busy-polls with ipcu_peek() and
 * the producer only retries ipcu_reserve(), so neither ever sets
 * NEED_WAKEUP and not a single doorbell or sleep may happen.
 */
TEST_F_TIMEOUT(chan, no_doorbells_between_awake_peers, 200)
{
	const uint32_t msgs = 20000;
	struct ipcu_ep_info *pinfo, info;
	uint64_t rnd = 3;
	uint32_t seq;
	pid_t pid;
	int ret;

	pinfo = ipcu_test_shared(sizeof(*pinfo));
	ASSERT_TRUE(pinfo != NULL);
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->cons);
		for (seq = 0; seq < msgs; seq++) {
			size_t len = IPCU_TEST_MSG_MIN +
				     ipcu_test_rand(&rnd) % (MAX_MSG - 7);

			while ((ret = ipcu_test_put(&self->prod, seq, len)) == -EAGAIN)
				sched_yield();
			IPCU_TEST_CHILD_CHECK(ret == 0, "put %d", ret);
			IPCU_TEST_CHILD_CHECK(ipcu_flush(&self->prod) == 0, "");
		}
		IPCU_TEST_CHILD_CHECK(!ipcu_test_ep_info(self->prod.fd, pinfo), "");
		IPCU_TEST_CHILD_CHECK(self->prod.stats.doorbells == 0, "");
		_exit(0);
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);
	for (seq = 0; seq < msgs;) {
		ret = ipcu_test_get(&self->cons, seq);
		if (ret == -EAGAIN) {
			sched_yield();
			continue;
		}
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, ipcu_flush(&self->cons));
		seq++;
	}
	ASSERT_EQ(0, ipcu_test_reap(pid));
	alarm(0);
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons.fd, &info));
	EXPECT_EQ(0, pinfo->doorbells);
	EXPECT_EQ(0, pinfo->sleeps);
	EXPECT_EQ(0, info.doorbells);
	EXPECT_EQ(0, info.sleeps);
	EXPECT_EQ(0, self->cons.stats.doorbells);
	munmap(pinfo, sizeof(*pinfo));
}

/*
 * A consumer that sleeps as soon as the ring is empty, fed by a producer
 * that publishes every message.  The consumer's loop counts its own arms
 * (NEED_WAKEUP set, ring re-checked) and IPCU_IOC_WAIT calls.  The library
 * and the kernel must agree on the doorbells, every kernel sleep is one
 * wait call, and nothing hangs.
 *
 * A sleeper is woken once per sleep: the producer may ring at most once for
 * each time the consumer armed NEED_WAKEUP.  (Not "once per IPCU_IOC_WAIT":
 * an arm whose re-check finds the message never calls it, yet the producer
 * may have seen the flag and rung.)
 */
TEST_F_TIMEOUT(chan, sleeping_consumer_stream, 200)
{
	const uint32_t msgs = 20000;
	struct ipcu_ep_stats *pstats;
	struct ipcu_ep_info *pinfo, info;
	unsigned long long arms = 0, calls = 0;
	uint64_t rnd = 4;
	uint32_t seq;
	pid_t pid;
	int ret;

	pinfo = ipcu_test_shared(4096);
	ASSERT_TRUE(pinfo != NULL);
	pstats = (struct ipcu_ep_stats *)(pinfo + 1);
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ipcu_ep_close(&self->cons);
		for (seq = 0; seq < msgs; seq++) {
			size_t len = IPCU_TEST_MSG_MIN +
				     ipcu_test_rand(&rnd) % (MAX_MSG - 7);

			while ((ret = ipcu_test_put(&self->prod, seq, len)) == -EAGAIN) {
				ret = ipcu_wait(&self->prod, -1);
				IPCU_TEST_CHILD_CHECK(!ret, "seq %u: wait %d",
						      seq, ret);
			}
			IPCU_TEST_CHILD_CHECK(ret == 0, "put %d", ret);
			IPCU_TEST_CHILD_CHECK(ipcu_flush(&self->prod) >= 0, "");
		}
		IPCU_TEST_CHILD_CHECK(!ipcu_test_ep_info(self->prod.fd, pinfo), "");
		*pstats = self->prod.stats;
		_exit(0);
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);
	for (seq = 0; seq < msgs;) {
		struct ipcu_wait w = { .doorbell_fd = -1, .timeout_ns = -1 };

		ret = ipcu_test_get(&self->cons, seq);
		if (ret == 0) {
			ASSERT_LE(0, ipcu_flush(&self->cons));
			seq++;
			continue;
		}
		ASSERT_EQ(-EAGAIN, ret);
		arms++;
		ret = ipcu_prepare_wait(&self->cons);
		ASSERT_LE(0, ret);
		if (ret == 0) {
			calls++;
			ASSERT_EQ(0, ipcu_test_ioctl(self->cons.fd,
						     IPCU_IOC_WAIT, &w));
			/*
			 * Data (with EPOLLHUP once the producer is done);
			 * EPOLLHUP alone means it died (its report above).
			 */
			ASSERT_TRUE(w.revents & EPOLLIN)
				TH_LOG("seq %u revents %#x", seq, w.revents);
		}
		ipcu_finish_wait(&self->cons);
	}
	ASSERT_EQ(0, ipcu_test_reap(pid));
	alarm(0);
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons.fd, &info));
	TH_LOG("producer rang %llu doorbells for %llu consumer arms (%llu waits, %llu slept); consumer rang %llu for %llu producer sleeps",
	       pinfo->doorbells, arms, calls, info.sleeps, info.doorbells,
	       pinfo->sleeps);
	EXPECT_EQ(pstats->doorbells, pinfo->doorbells);
	EXPECT_EQ(self->cons.stats.doorbells, info.doorbells);
	EXPECT_GE(calls, info.sleeps);
	EXPECT_GE(pstats->sleeps, pinfo->sleeps);
	EXPECT_GE(arms, pinfo->doorbells);
	munmap(pinfo, 4096);
}

/* --- THREATS 11: eventfd (un)registration racing with signals ------------ */

#define RACE_BELLS	30000

struct bell_race {
	int fd;
	int done;
	int err;
};

static void *bell_loop(void *arg)
{
	struct bell_race *r = arg;
	int i;

	for (i = 0; i < RACE_BELLS; i++)
		if (ioctl(r->fd, IPCU_IOC_DOORBELL, 0UL))
			r->err = errno;
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F_TIMEOUT(chan, eventfd_register_vs_signal, 200)
{
	struct bell_race race = { .fd = self->prod.fd };
	unsigned int iter = 0;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, bell_loop, &race));
	while (!__atomic_load_n(&race.done, __ATOMIC_ACQUIRE) ||
	       iter < 1000) {
		int e = new_efd(), e2;

		ASSERT_LE(0, e);
		switch (iter++ % 5) {
		case 0:	/* Left registered, descriptor closed. */
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, e));
			break;
		case 1:	/* Unregistered, then closed. */
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, e));
			efd_take(e);
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, -1));
			break;
		case 2:	/* Two events on one context. */
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, e));
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_PEER_GONE, e));
			break;
		case 3:	/* Replaced at once. */
			e2 = new_efd();
			ASSERT_LE(0, e2);
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, e));
			ASSERT_EQ(0, ipcu_set_eventfd(&self->cons, IPCU_EV_DATA, e2));
			close(e2);
			break;
		case 4:	/* The ringing side's own registration. */
			ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, e));
			ASSERT_EQ(0, ipcu_doorbell(&self->cons));
			ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_SPACE, -1));
			EXPECT_EQ(1, efd_take(e));
			break;
		}
		close(e);
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, race.err);
	EXPECT_EQ(RACE_BELLS, doorbells_of(self->prod.fd));
}

/*
 * The consumer endpoint is closed and re-created over and over while the
 * producer rings: releasing a role drops its eventfds under the signaller.
 * Every departure fires the producer's PEER_GONE exactly once.
 */
TEST_F_TIMEOUT(chan, eventfd_release_vs_signal, 200)
{
	struct bell_race race = { .fd = self->prod.fd };
	unsigned int iter = 0;
	int gone = new_efd();
	pthread_t t;

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, gone));
	ipcu_ep_close(&self->cons);
	ASSERT_EQ(1, efd_take(gone));

	ASSERT_EQ(0, pthread_create(&t, NULL, bell_loop, &race));
	while (!__atomic_load_n(&race.done, __ATOMIC_ACQUIRE) ||
	       iter < 500) {
		struct ipcu_ep_peer p = { 0 };
		struct ipcu_ep_eventfd e = { .event = IPCU_EV_DATA };
		int data = new_efd();

		ASSERT_LE(0, data);
		ASSERT_EQ(0, ipcu_test_ioctl(self->prod.fd, IPCU_IOC_EP_PEER, &p));
		e.fd = data;
		ASSERT_EQ(0, ipcu_test_ioctl(p.fd, IPCU_IOC_EP_EVENTFD, &e));
		e.event = IPCU_EV_PEER_GONE;
		ASSERT_EQ(0, ipcu_test_ioctl(p.fd, IPCU_IOC_EP_EVENTFD, &e));
		if (iter % 2)
			close(data);
		ASSERT_EQ(0, close(p.fd));
		if (!(iter % 2))
			close(data);
		iter++;
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, race.err);
	EXPECT_EQ(iter, efd_take(gone));
	close(gone);
}

/* --- THREATS 10: epoll outliving the endpoint ---------------------------- */

static int raw_pair(int *prod, int *cons)
{
	struct ipcu_chan_create c = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD, .role = IPCU_ROLE_PRODUCER,
	};
	struct ipcu_ep_peer p = { 0 };
	int dev = ipcu_open(), ret;

	if (dev < 0)
		return dev;
	ret = ipcu_test_ioctl(dev, IPCU_IOC_CHAN_CREATE, &c);
	close(dev);
	if (ret)
		return ret;
	ret = ipcu_test_ioctl(c.fd, IPCU_IOC_EP_PEER, &p);
	if (ret) {
		close(c.fd);
		return ret;
	}
	*prod = c.fd;
	*cons = p.fd;
	return 0;
}

TEST(epoll_outlives_endpoints)
{
	struct ipcu_test_counters before, after;
	size_t pg = sysconf(_SC_PAGESIZE);
	int i, have = !ipcu_test_counters_read(&before);

	for (i = 0; i < 600; i++) {
		struct epoll_event ev, out[4];
		int prod, cons, ep, n;
		void *map;

		ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, raw_pair(&prod, &cons));
		ev.events = EPOLLIN | EPOLLOUT | (i & 1 ? EPOLLET : 0);
		ev.data.fd = prod;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, prod, &ev));
		ev.data.fd = cons;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, cons, &ev));
		n = epoll_wait(ep, out, 4, 0);
		ASSERT_EQ(1, n);	/* the producer has room */
		EXPECT_EQ(prod, out[0].data.fd);

		switch (i % 3) {
		case 0:	/* Both gone: the channel is freed under epoll. */
			close(prod);
			close(cons);
			EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
			break;
		case 1:	/* One side first: epoll reports the hangup. */
			close(prod);
			n = epoll_wait(ep, out, 4, 0);
			ASSERT_EQ(1, n);
			EXPECT_EQ(cons, out[0].data.fd);
			EXPECT_TRUE(out[0].events & EPOLLHUP);
			close(cons);
			EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
			break;
		case 2:	/* A mapping keeps the closed consumer, and epoll's item. */
			map = mmap(NULL, pg, PROT_READ, MAP_SHARED, cons, 0);
			ASSERT_TRUE(map != MAP_FAILED);
			close(cons);
			close(prod);
			n = epoll_wait(ep, out, 4, 0);
			ASSERT_EQ(1, n);
			EXPECT_EQ(cons, out[0].data.fd);
			EXPECT_TRUE(out[0].events & EPOLLHUP);
			ASSERT_EQ(0, munmap(map, pg));
			EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
			break;
		}
		close(ep);
	}
	if (have) {
		ASSERT_EQ(0, ipcu_test_counters_read(&after));
		EXPECT_EQ(before.channels, after.channels);
		EXPECT_EQ(before.endpoints, after.endpoints);
		EXPECT_EQ(before.pages, after.pages);
	}
}

struct epoll_waiter {
	int ep;
	int n;
	uint32_t events;
};

static void *epoll_waiter(void *arg)
{
	struct epoll_waiter *w = arg;
	struct epoll_event out[2];

	w->n = epoll_wait(w->ep, out, 2, -1);
	if (w->n > 0)
		w->events = out[0].events;
	return NULL;
}

/* A thread blocked in epoll_wait() while the channel is torn down. */
TEST_F_TIMEOUT(chan, epoll_blocked_during_teardown, 200)
{
	int i;

	alarm(HANG_GUARD_S);
	for (i = 0; i < 300; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct epoll_waiter w = { 0 };
		int prod, cons;
		pthread_t t;

		w.ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w.ep);
		ASSERT_EQ(0, raw_pair(&prod, &cons));
		ASSERT_EQ(0, epoll_ctl(w.ep, EPOLL_CTL_ADD, cons, &ev));
		ASSERT_EQ(0, pthread_create(&t, NULL, epoll_waiter, &w));
		if (i % 2)
			sched_yield();
		/* The producer's departure wakes the waiter with a hangup. */
		close(prod);
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(1, w.n);
		EXPECT_EQ(EPOLLHUP, w.events);
		close(cons);
		close(w.ep);
	}
	alarm(0);
}

TEST_HARNESS_MAIN
