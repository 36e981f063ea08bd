// SPDX-License-Identifier: GPL-2.0
/*
 * Peer death (THREATS 14) and pages that outlive their descriptors
 * (THREATS 4): a peer closes, exits or is killed with SIGKILL at a
 * pseudo-random point, or closes its fd while its mapping lives on.
 *
 * The survivor must see POLLHUP and its PEER_GONE eventfd exactly once,
 * still drain exactly the messages that were published, all intact, and
 * never block again; and once everything is closed and unmapped, the
 * module's object and page counters are back where they started.
 */
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define ENTRIES		16
#define MAX_MSG		512
#define PAYLOAD		4096

#define HANG_GUARD_S	100

static int new_efd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static uint64_t efd_take(int efd)
{
	uint64_t v;

	return read(efd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static short poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static uint32_t state_of(int fd)
{
	struct ipcu_ep_info info;

	return ipcu_test_ep_info(fd, &info) ? ~0U : info.state;
}

/* A raw IPCU_IOC_WAIT without timeout: its revents, or -errno. */
static int wait_forever(int fd)
{
	struct ipcu_wait w = { .doorbell_fd = -1, .timeout_ns = -1 };
	int ret = ipcu_test_ioctl(fd, IPCU_IOC_WAIT, &w);

	return ret ? ret : (int)w.revents;
}

static size_t msg_len(uint64_t *rnd)
{
	return IPCU_TEST_MSG_MIN + ipcu_test_rand(rnd) % (MAX_MSG - 7);
}

/* Publish messages 0..@count - 1, blocking when the ring is full. */
static void produce(struct ipcu_ep *ep, uint32_t count, uint64_t rnd)
{
	uint32_t seq;
	int ret;

	for (seq = 0; seq < count; seq++) {
		size_t len = msg_len(&rnd);

		while ((ret = ipcu_test_put(ep, seq, len)) == -EAGAIN)
			IPCU_TEST_CHILD_CHECK(!ipcu_wait(ep, -1), "");
		IPCU_TEST_CHILD_CHECK(ret == 0, "put %d", ret);
		IPCU_TEST_CHILD_CHECK(ipcu_flush(ep) >= 0, "");
	}
}

/*
 * Counters of the module, compared at the end of every test: everything
 * the test created is closed, unmapped and reaped by then.
 */
FIXTURE(death) {
	struct ipcu_test_counters start;
	int have_counters;
};

FIXTURE_SETUP(death)
{
	self->have_counters = !ipcu_test_counters_read(&self->start);
	if (!self->have_counters)
		TH_LOG("no debugfs counters: leak checks skipped");
}

FIXTURE_TEARDOWN(death)
{
	struct ipcu_test_counters now;

	if (!self->have_counters)
		return;
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.channels, now.channels);
	EXPECT_EQ(self->start.endpoints, now.endpoints);
	EXPECT_EQ(self->start.pages, now.pages);
	EXPECT_EQ(self->start.users, now.users);
}

enum death_mode {
	KILL_STREAMING,		/* SIGKILL while it publishes */
	KILL_SLEEPING,		/* SIGKILL while it waits for space */
	CLOSE_AND_EXIT,		/* ipcu_ep_close(), then exit */
	EXIT_HOLDING,		/* exit with a commit and a reservation pending */
	DEATH_MODES
};

/*
 * The producer goes away in one of four ways; the consumer checks what it
 * is left with.  Fifty iterations, each with its own seed.
 */
TEST_F_TIMEOUT(death, producer_dies, 200)
{
	int iter;

	alarm(HANG_GUARD_S);
	for (iter = 0; iter < 50; iter++) {
		enum death_mode mode = iter % DEATH_MODES;
		uint64_t rnd = 0xdead0000 + iter, child_rnd;
		uint32_t seq = 0, stop, pre, published;
		struct ipcu_ep prod, cons;
		int gone, status, ret;
		pid_t pid;

		ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG,
					    PAYLOAD));
		gone = new_efd();
		ASSERT_LE(0, gone);
		ASSERT_EQ(0, ipcu_set_eventfd(&cons, IPCU_EV_PEER_GONE, gone));
		stop = ipcu_test_rand(&rnd) % 300;
		child_rnd = rnd;

		pid = ipcu_test_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			void *buf;

			ipcu_ep_close(&cons);
			/* @stop messages, or until killed. */
			produce(&prod, mode < CLOSE_AND_EXIT ? UINT32_MAX : stop,
				child_rnd);
			if (mode == CLOSE_AND_EXIT) {
				ipcu_ep_close(&prod);
				_exit(0);
			}
			/* Committed, never published; reserved, never committed. */
			if (ipcu_test_put(&prod, stop, 16) == 0 &&
			    ipcu_reserve(&prod, 16, &buf) == 0)
				memset(buf, 0xee, 16);
			_exit(0);
		}
		ipcu_ep_close(&prod);

		/*
		 * Take messages while it runs: all @stop before a kill; all
		 * but the last few (which fit in the ring) before an exit.
		 */
		pre = mode < CLOSE_AND_EXIT || stop < 4 ? stop : stop - 4;
		for (; seq < pre; seq++) {
			while ((ret = ipcu_test_get(&cons, seq)) == -EAGAIN)
				ASSERT_EQ(0, ipcu_wait(&cons, -1));
			ASSERT_EQ(0, ret) TH_LOG("iteration %d, message %u", iter, seq);
		}
		ASSERT_LE(0, ipcu_flush(&cons));
		/* Let it run into the full ring and go to sleep there. */
		while (mode == KILL_SLEEPING &&
		       !(__atomic_load_n(&cons.prod->flags, __ATOMIC_ACQUIRE) &
			 IPCU_NEED_WAKEUP))
			sched_yield();
		if (mode < CLOSE_AND_EXIT)
			ASSERT_EQ(0, kill(pid, SIGKILL));
		status = ipcu_test_reap(pid);
		EXPECT_EQ(mode < CLOSE_AND_EXIT ? 128 + SIGKILL : 0, status)
			TH_LOG("iteration %d", iter);

		/* Hangup, once, and the state says so. */
		EXPECT_TRUE(poll_now(cons.fd) & POLLHUP);
		EXPECT_EQ(1, efd_take(gone));
		EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(cons.fd));

		/* Everything published is there and intact; nothing else is. */
		published = __atomic_load_n(&cons.prod->tail, __ATOMIC_ACQUIRE);
		while ((ret = ipcu_test_get(&cons, seq)) == 0)
			seq++;
		EXPECT_EQ(-EAGAIN, ret) TH_LOG("iteration %d, message %u", iter, seq);
		EXPECT_EQ(published, seq) TH_LOG("iteration %d", iter);
		if (mode >= CLOSE_AND_EXIT)
			EXPECT_EQ(stop, seq) TH_LOG("iteration %d", iter);
		ASSERT_LE(0, ipcu_flush(&cons));

		/* Waiting now returns at once, with the hangup. */
		EXPECT_EQ(EPOLLHUP, wait_forever(cons.fd));
		EXPECT_EQ(-EPIPE, ipcu_wait(&cons, -1));
		EXPECT_EQ(0, efd_take(gone));
		ipcu_ep_close(&cons);
		close(gone);
	}
	alarm(0);
}

/*
 * The consumer goes away while the producer sleeps for space: the producer
 * wakes with EPOLLHUP, and its library call fails with -EPIPE.
 */
TEST_F_TIMEOUT(death, consumer_dies_while_producer_waits, 200)
{
	int iter;

	alarm(HANG_GUARD_S);
	for (iter = 0; iter < 20; iter++) {
		uint64_t rnd = 0xc0de0000 + iter;
		uint32_t seq, take = ipcu_test_rand(&rnd) % 100;
		unsigned char msg[MAX_MSG];
		struct ipcu_ep prod, cons;
		int gone, ret;
		pid_t pid;

		ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG,
					    PAYLOAD));
		gone = new_efd();
		ASSERT_LE(0, gone);
		ASSERT_EQ(0, ipcu_set_eventfd(&prod, IPCU_EV_PEER_GONE, gone));

		pid = ipcu_test_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			ipcu_ep_close(&prod);
			for (seq = 0; seq < take; seq++) {
				ret = ipcu_recv(&cons, msg, sizeof(msg), -1);
				IPCU_TEST_CHILD_CHECK(ret > 0, "recv %d", ret);
				IPCU_TEST_CHILD_CHECK(!ipcu_test_msg_check(msg, ret, seq), "");
			}
			/* Go once the producer says it sleeps. */
			while (!(__atomic_load_n(&cons.prod->flags, __ATOMIC_ACQUIRE) &
				 IPCU_NEED_WAKEUP))
				sched_yield();
			if (iter % 2)
				kill(getpid(), SIGKILL);
			ipcu_ep_close(&cons);
			_exit(0);
		}
		ipcu_ep_close(&cons);

		prod.spin = iter % 3 ? 0 : IPCU_SPIN_DEFAULT;
		for (seq = 0;; seq++) {
			size_t len = msg_len(&rnd);

			ipcu_test_msg_fill(msg, len, seq);
			ret = ipcu_send(&prod, msg, len, -1);
			if (ret)
				break;
		}
		EXPECT_EQ(-EPIPE, ret) TH_LOG("iteration %d", iter);
		/* It filled the ring beyond what the consumer took. */
		EXPECT_LT(take, seq);
		EXPECT_EQ(iter % 2 ? 128 + SIGKILL : 0, ipcu_test_reap(pid));

		EXPECT_TRUE(poll_now(prod.fd) & POLLHUP);
		EXPECT_EQ(1, efd_take(gone));
		EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(prod.fd));
		/* The ring stays full: the wait reports only the hangup. */
		EXPECT_EQ(EPOLLHUP, wait_forever(prod.fd));
		ipcu_ep_close(&prod);
		close(gone);
	}
	alarm(0);
}

/*
 * A consumer killed at a pseudo-random point of a stream, sleeping or not:
 * the producer, also blocking, ends with -EPIPE and nothing leaks.
 */
TEST_F_TIMEOUT(death, consumer_killed_mid_stream, 200)
{
	int iter;

	alarm(HANG_GUARD_S);
	for (iter = 0; iter < 30; iter++) {
		uint64_t rnd = 0xfee10000 + iter;
		uint32_t seq, take = ipcu_test_rand(&rnd) % 2000;
		struct ipcu_ep prod, cons;
		unsigned int *taken;
		int ret;
		pid_t pid;

		taken = ipcu_test_shared(sizeof(*taken));
		ASSERT_TRUE(taken != NULL);
		ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG,
					    PAYLOAD));
		pid = ipcu_test_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			ipcu_ep_close(&prod);
			cons.spin = iter % 2 ? 0 : IPCU_SPIN_DEFAULT;
			for (seq = 0;; seq++) {
				while ((ret = ipcu_test_get(&cons, seq)) == -EAGAIN)
					IPCU_TEST_CHILD_CHECK(!ipcu_wait(&cons, -1), "");
				IPCU_TEST_CHILD_CHECK(ret == 0, "get %d", ret);
				IPCU_TEST_CHILD_CHECK(ipcu_flush(&cons) >= 0, "");
				__atomic_store_n(taken, seq + 1, __ATOMIC_RELEASE);
			}
		}
		ipcu_ep_close(&cons);

		for (seq = 0;; seq++) {
			size_t len = msg_len(&rnd);

			while ((ret = ipcu_test_put(&prod, seq, len)) == -EAGAIN) {
				ret = ipcu_wait(&prod, -1);
				if (ret)
					break;
			}
			if (ret)
				break;
			ASSERT_LE(0, ipcu_flush(&prod));
			if (__atomic_load_n(taken, __ATOMIC_ACQUIRE) >= take &&
			    pid > 0) {
				ASSERT_EQ(0, kill(pid, SIGKILL));
				EXPECT_EQ(128 + SIGKILL, ipcu_test_reap(pid));
				pid = 0;
			}
		}
		EXPECT_EQ(-EPIPE, ret) TH_LOG("iteration %d", iter);
		EXPECT_EQ(0, pid);
		EXPECT_EQ(EPOLLHUP, wait_forever(prod.fd));
		ipcu_ep_close(&prod);
		munmap(taken, sizeof(*taken));
	}
	alarm(0);
}

/*
 * THREATS 4: the fd is closed while the mapping lives.  The pages stay
 * valid, the role stays held (no third party can take it), and the peer
 * sees the hangup only when the last mapping goes.
 */
TEST_F(death, close_fd_while_mapped)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	struct ipcu_ep prod, cons;
	struct ipcu_ep_peer p = { 0 };
	int gone = new_efd();

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG, PAYLOAD));
	ASSERT_EQ(0, ipcu_set_eventfd(&cons, IPCU_EV_PEER_GONE, gone));

	ASSERT_EQ(0, close(prod.fd));
	prod.fd = -1;	/* the library never rings through it now */
	EXPECT_FALSE(poll_now(cons.fd) & POLLHUP);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons.fd));
	EXPECT_EQ(-EBUSY, ipcu_test_ioctl(cons.fd, IPCU_IOC_EP_PEER, &p));
	EXPECT_EQ(0, efd_take(gone));

	/* The mapping still works both ways. */
	ASSERT_EQ(0, ipcu_test_put(&prod, 0, 300));
	ASSERT_EQ(0, ipcu_test_put(&prod, 1, 8));
	ASSERT_EQ(0, ipcu_flush(&prod));
	EXPECT_EQ(POLLIN, poll_now(cons.fd));
	ASSERT_EQ(0, ipcu_test_get(&cons, 0));
	ASSERT_LE(0, ipcu_flush(&cons));

	/* Part of it unmapped: the rest still holds the role. */
	ASSERT_EQ(0, munmap(prod.payload, PAYLOAD));
	EXPECT_FALSE(poll_now(cons.fd) & POLLHUP);
	EXPECT_EQ(0, efd_take(gone));
	ASSERT_EQ(0, munmap(prod.desc, pg));
	EXPECT_FALSE(poll_now(cons.fd) & POLLHUP);
	EXPECT_EQ(-EBUSY, ipcu_test_ioctl(cons.fd, IPCU_IOC_EP_PEER, &p));

	/* The last of it: now the producer is gone. */
	ipcu_ep_close(&prod);
	EXPECT_EQ(POLLIN | POLLHUP, poll_now(cons.fd));
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(cons.fd));
	ASSERT_EQ(0, ipcu_test_get(&cons, 1));

	/* And the role can be taken again. */
	ASSERT_EQ(0, ipcu_test_ioctl(cons.fd, IPCU_IOC_EP_PEER, &p));
	close(p.fd);
	EXPECT_EQ(1, efd_take(gone));
	ipcu_ep_close(&cons);
	close(gone);
}

/* Both fds closed, both mappings touched afterwards, then unmapped. */
TEST_F(death, close_all_fds_while_mapped)
{
	struct ipcu_ep prod, cons;
	uint32_t seq;

	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG, PAYLOAD));
	ASSERT_EQ(0, close(prod.fd));
	ASSERT_EQ(0, close(cons.fd));
	prod.fd = cons.fd = -1;

	/* A channel nobody has an fd for: still a working ring. */
	for (seq = 0; seq < 100; seq++) {
		ASSERT_EQ(0, ipcu_test_put(&prod, seq, 8 + seq));
		ASSERT_EQ(0, ipcu_flush(&prod));
		ASSERT_EQ(0, ipcu_test_get(&cons, seq));
		ASSERT_EQ(0, ipcu_flush(&cons));
	}
	ipcu_ep_close(&prod);
	/* The consumer's pages are the same pages: still readable. */
	EXPECT_EQ(100, cons.cons->head);
	EXPECT_EQ(100, cons.prod->tail);
	ipcu_ep_close(&cons);
}

/*
 * A forked child inherits the mapping and the fd: the role is the
 * child's too, so the parent closing its copy is not a departure.
 */
TEST_F(death, forked_copy_holds_role)
{
	struct ipcu_ep prod, cons;
	int gone = new_efd(), sync[2];
	pid_t pid;
	char c;

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, pipe(sync));
	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG, PAYLOAD));
	ASSERT_EQ(0, ipcu_set_eventfd(&cons, IPCU_EV_PEER_GONE, gone));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sync[1]);
		ipcu_ep_close(&cons);
		/* Keep the mapping and the fd until the parent says so. */
		if (read(sync[0], &c, 1) != 1)
			_exit(2);
		IPCU_TEST_CHILD_CHECK(ipcu_test_put(&prod, 7, 64) == 0, "");
		IPCU_TEST_CHILD_CHECK(ipcu_flush(&prod) >= 0, "");
		_exit(0);	/* the exit releases the role */
	}
	close(sync[0]);
	ipcu_ep_close(&prod);
	EXPECT_FALSE(poll_now(cons.fd) & POLLHUP);
	EXPECT_EQ(0, efd_take(gone));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons.fd));

	ASSERT_EQ(1, write(sync[1], "x", 1));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(POLLIN | POLLHUP, poll_now(cons.fd));
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_EQ(0, ipcu_test_get(&cons, 7));
	close(sync[1]);
	ipcu_ep_close(&cons);
	close(gone);
}

TEST_HARNESS_MAIN
