// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoints passed over Unix sockets (SCM_RIGHTS): the receiver adopts the
 * fd with ipcu_ep_from_fd() and carries on where the sender left off, and
 * the role stays held by the passed file (in flight or received) until the
 * last reference to it goes.
 */
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

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

/* Send @n fds over @sock with one byte of data: 0 or -errno. */
static int send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive exactly @n fds: 0 or -errno. */
static int recv_fds(int sock, int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -EPROTO;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}

/* A new, unmapped fd for the opposite role of endpoint @fd; or -errno. */
static int peer_fd(int fd)
{
	struct ipcu_ep_peer p = { 0 };
	int ret = ipcu_test_ioctl(fd, IPCU_IOC_EP_PEER, &p);

	return ret ? ret : p.fd;
}

FIXTURE(scm) {
	struct ipcu_ep prod;
	int sock[2];
	struct ipcu_test_counters start;
	int have_counters;
};

FIXTURE_SETUP(scm)
{
	struct ipcu_chan_params p = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD,
	};
	int dev;

	self->prod.fd = -1;
	self->have_counters = !ipcu_test_counters_read(&self->start);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sock));
	dev = ipcu_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ipcu_chan_create(dev, &p, IPCU_ROLE_PRODUCER, &self->prod));
	close(dev);
}

FIXTURE_TEARDOWN(scm)
{
	struct ipcu_test_counters now;

	ipcu_ep_close(&self->prod);
	close(self->sock[0]);
	close(self->sock[1]);
	if (!self->have_counters)
		return;
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.channels, now.channels);
	EXPECT_EQ(self->start.endpoints, now.endpoints);
	EXPECT_EQ(self->start.pages, now.pages);
}

/*
 * The consumer of channel 1 and the producer of channel 2 go to another
 * process, which adopts them and echoes every message back.  The sender
 * closed its copies before the receiver even had them.
 */
TEST_F_TIMEOUT(scm, pass_and_echo, 100)
{
	struct ipcu_ep back;	/* channel 2, consumer */
	int fds[2], ret;
	uint64_t rnd = 9;
	uint32_t seq;
	pid_t pid;

	{
		struct ipcu_chan_params p = {
			.ring_entries = ENTRIES, .max_msg = MAX_MSG,
			.payload_bytes = PAYLOAD,
		};
		int dev = ipcu_open();

		ASSERT_LE(0, dev);
		ASSERT_EQ(0, ipcu_chan_create(dev, &p, IPCU_ROLE_CONSUMER, &back));
		close(dev);
	}
	fds[0] = peer_fd(self->prod.fd);
	ASSERT_LE(0, fds[0]);
	fds[1] = peer_fd(back.fd);
	ASSERT_LE(0, fds[1]);

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ipcu_ep in, out;
		unsigned char msg[MAX_MSG];
		int got[2];

		ipcu_ep_close(&self->prod);
		ipcu_ep_close(&back);
		IPCU_TEST_CHILD_CHECK(!recv_fds(self->sock[1], got, 2), "");
		IPCU_TEST_CHILD_CHECK(!ipcu_ep_from_fd(got[0], &in), "");
		IPCU_TEST_CHILD_CHECK(!ipcu_ep_from_fd(got[1], &out), "");
		IPCU_TEST_CHILD_CHECK(in.role == IPCU_ROLE_CONSUMER, "");
		IPCU_TEST_CHILD_CHECK(out.role == IPCU_ROLE_PRODUCER, "");
		for (;;) {
			ret = ipcu_recv(&in, msg, sizeof(msg), -1);
			if (ret == -EPIPE)
				break;
			IPCU_TEST_CHILD_CHECK(ret > 0, "recv %d", ret);
			ret = ipcu_send(&out, msg, ret, -1);
			IPCU_TEST_CHILD_CHECK(ret == 0, "send %d", ret);
		}
		ipcu_ep_close(&in);
		ipcu_ep_close(&out);
		_exit(0);
	}
	alarm(HANG_GUARD_S);
	/* In flight now; the sender keeps nothing. */
	ASSERT_EQ(0, send_fds(self->sock[0], fds, 2));
	ASSERT_EQ(0, close(fds[0]));
	ASSERT_EQ(0, close(fds[1]));

	for (seq = 0; seq < 2000; seq++) {
		unsigned char msg[MAX_MSG];
		size_t len = IPCU_TEST_MSG_MIN + ipcu_test_rand(&rnd) % (MAX_MSG - 7);

		ipcu_test_msg_fill(msg, len, seq);
		ASSERT_EQ(0, ipcu_send(&self->prod, msg, len, -1));
		ret = ipcu_recv(&back, msg, sizeof(msg), -1);
		ASSERT_EQ(len, ret);
		ASSERT_EQ(0, ipcu_test_msg_check(msg, len, seq));
	}
	/* Our departure ends the echo loop; its departure is our hangup. */
	ipcu_ep_close(&self->prod);
	EXPECT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(POLLHUP, poll_now(back.fd));
	ipcu_ep_close(&back);
	alarm(0);
}

/*
 * A passed fd holds the role: in flight, received, and received and
 * mapped with the fd closed.  Only when its last reference goes is the
 * role free again.
 */
TEST_F(scm, role_held_by_passed_fd)
{
	int gone = new_efd(), fd, got;
	struct ipcu_ep cons;

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, gone));
	fd = peer_fd(self->prod.fd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_fds(self->sock[0], &fd, 1));
	ASSERT_EQ(0, close(fd));

	/* In flight. */
	EXPECT_EQ(-EBUSY, peer_fd(self->prod.fd));
	EXPECT_FALSE(poll_now(self->prod.fd) & POLLHUP);
	EXPECT_EQ(0, efd_take(gone));

	/* Received: the same file, so still the same holder. */
	ASSERT_EQ(0, recv_fds(self->sock[1], &got, 1));
	EXPECT_EQ(-EBUSY, peer_fd(self->prod.fd));
	ASSERT_EQ(0, ipcu_ep_from_fd(got, &cons));
	ASSERT_EQ(0, close(got));
	cons.fd = -1;
	/* Mapped, fd closed: still held. */
	EXPECT_EQ(-EBUSY, peer_fd(self->prod.fd));
	EXPECT_EQ(0, efd_take(gone));
	ASSERT_EQ(0, ipcu_test_put(&self->prod, 0, 100));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	EXPECT_EQ(0, ipcu_test_get(&cons, 0));

	/* Unmapped: released, once. */
	ipcu_ep_close(&cons);
	EXPECT_EQ(1, efd_take(gone));
	EXPECT_TRUE(poll_now(self->prod.fd) & POLLHUP);
	fd = peer_fd(self->prod.fd);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(1, efd_take(gone));
	close(gone);
}

/* A named channel: the third attach of a passed role is -EBUSY. */
TEST_F(scm, named_third_attach_busy)
{
	struct ipcu_chan_params p = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD, .mode = 0600,
	};
	struct ipcu_ep creator, attached, third;
	char name[IPCU_NAME_MAX];
	int dev, got;

	snprintf(name, sizeof(name), "scm-test-%d", (int)getpid());
	p.name = name;
	dev = ipcu_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ipcu_chan_create(dev, &p, IPCU_ROLE_PRODUCER, &creator));
	ASSERT_EQ(0, ipcu_chan_attach(dev, name, IPCU_ROLE_CONSUMER, &attached));

	/* Pass the consumer away; drop every local reference. */
	ASSERT_EQ(0, send_fds(self->sock[0], &attached.fd, 1));
	ipcu_ep_close(&attached);
	EXPECT_EQ(-EBUSY, ipcu_chan_attach(dev, name, IPCU_ROLE_CONSUMER, &third));
	EXPECT_EQ(-EBUSY, ipcu_chan_attach(dev, name, IPCU_ROLE_PRODUCER, &third));

	ASSERT_EQ(0, recv_fds(self->sock[1], &got, 1));
	EXPECT_EQ(-EBUSY, ipcu_chan_attach(dev, name, IPCU_ROLE_CONSUMER, &third));
	ASSERT_EQ(0, close(got));
	ASSERT_EQ(0, ipcu_chan_attach(dev, name, IPCU_ROLE_CONSUMER, &third));
	ipcu_ep_close(&third);
	ipcu_ep_close(&creator);
	close(dev);
}

/*
 * A mapped consumer hands over mid-stream: the receiver picks up exactly
 * where the sender left off (its head is in the shared control page).
 */
TEST_F(scm, handover_mid_stream)
{
	struct ipcu_ep cons, next;
	uint32_t seq;
	int got;

	ASSERT_EQ(0, ipcu_ep_peer(&self->prod, &cons));
	for (seq = 0; seq < 10; seq++)
		ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 40 + seq));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	for (seq = 0; seq < 4; seq++)
		ASSERT_EQ(0, ipcu_test_get(&cons, seq));
	ASSERT_LE(0, ipcu_flush(&cons));

	ASSERT_EQ(0, send_fds(self->sock[0], &cons.fd, 1));
	ipcu_ep_close(&cons);
	ASSERT_EQ(0, recv_fds(self->sock[1], &got, 1));
	ASSERT_EQ(0, ipcu_ep_from_fd(got, &next));

	for (; seq < 10; seq++)
		ASSERT_EQ(0, ipcu_test_get(&next, seq));
	ASSERT_EQ(0, ipcu_test_put(&self->prod, seq, 8));
	ASSERT_EQ(0, ipcu_flush(&self->prod));
	ASSERT_EQ(0, ipcu_test_get(&next, seq));
	ipcu_ep_close(&next);
}

/*
 * Passed but never received: closing the sockets drops the in-flight
 * file, which releases the role like any last close.
 */
TEST_F(scm, in_flight_fd_dropped)
{
	int gone = new_efd(), fd, i;

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, gone));
	for (i = 0; i < 3; i++) {
		fd = peer_fd(self->prod.fd);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, send_fds(self->sock[0], &fd, 1));
		ASSERT_EQ(0, close(fd));
		EXPECT_EQ(-EBUSY, peer_fd(self->prod.fd));
		EXPECT_EQ(0, efd_take(gone));

		close(self->sock[0]);
		close(self->sock[1]);
		EXPECT_EQ(1, efd_take(gone));
		EXPECT_TRUE(poll_now(self->prod.fd) & POLLHUP);
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
					self->sock));
	}
	close(gone);
}

/*
 * An endpoint passed over a socket that is itself in flight on itself: a
 * reference cycle only the Unix socket garbage collector can break.  The
 * role is released once it does.
 */
TEST_F(scm, in_flight_cycle_collected)
{
	int gone = new_efd(), fd, s[2], i;

	ASSERT_LE(0, gone);
	ASSERT_EQ(0, ipcu_set_eventfd(&self->prod, IPCU_EV_PEER_GONE, gone));
	fd = peer_fd(self->prod.fd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s));
	ASSERT_EQ(0, send_fds(s[0], &fd, 1));
	/* Each end travels in its own receive queue. */
	ASSERT_EQ(0, send_fds(s[0], &s[0], 1));
	ASSERT_EQ(0, send_fds(s[1], &s[1], 1));
	close(fd);
	close(s[0]);
	close(s[1]);
	EXPECT_EQ(-EBUSY, peer_fd(self->prod.fd));

	/* Closing any Unix socket runs the collector; allow it a few tries. */
	for (i = 0; i < 500 && !(poll_now(self->prod.fd) & POLLHUP); i++) {
		int t[2];

		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, t));
		close(t[0]);
		close(t[1]);
		usleep(10000);
	}
	EXPECT_TRUE(poll_now(self->prod.fd) & POLLHUP);
	EXPECT_EQ(1, efd_take(gone));
	fd = peer_fd(self->prod.fd);
	ASSERT_LE(0, fd);
	close(fd);
	close(gone);
}

TEST_HARNESS_MAIN
