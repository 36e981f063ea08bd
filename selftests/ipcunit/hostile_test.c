// SPDX-License-Identifier: GPL-2.0
/*
 * Untrusted shared memory (THREATS 6-9): hostile processes holding a
 * producer's or a consumer's mappings scribble random and boundary values
 * into every field they can write (indices, flags, want, descriptors,
 * payload) while the legitimate peers of that channel keep working, and
 * keep calling poll() and IPCU_IOC_WAIT themselves.
 *
 * The kernel must stay clean (the runner checks its log) and every poll or
 * wait must return.  The honest peers' library calls may fail with -EPROTO
 * (inconsistent ring), -EAGAIN or -ETIMEDOUT, or deliver corrupt bytes,
 * but never crash or hang.  A second channel, running alongside, must be
 * untouched: its stream verifies message by message.
 */
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define ENTRIES		16
#define MAX_MSG		1024
#define PAYLOAD		4096

#define HANG_GUARD_S	150
/* Waits of the honest peers: short, so that garbage never parks them. */
#define SHORT_NS	2000000LL

/* Scribbles at least this many times, and on until the bystander is done. */
#define MIN_SCRIBBLES	200000U
#define MAX_SCRIBBLES	5000000U
/* Messages of the bystander channel. */
#define BYSTANDER_MSGS	2000U
/* Operations of an honest peer of the victim channel, at most. */
#define MAX_OPS		1000000U

/* What each process reports, in memory shared with the parent. */
struct report {
	unsigned long long ops;
	unsigned long long ok;
	unsigned long long eproto;
	unsigned long long eagain;
	unsigned long long timeouts;
	unsigned long long corrupt;
	unsigned long long pollerr;
	unsigned long long bad;		/* anything not allowed */
	int last_bad;
};

struct shared {
	unsigned int bystander_seq;	/* messages the bystander verified */
	int stop_scribbling;		/* the bystander is done */
	int stop_all;			/* the scribblers are done */
	struct report prod, cons, hprod, hcons;
};

static int stopped(int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

/* The kernel's view of an endpoint, which must always come back. */
static void probe_kernel(int fd, struct report *r, uint64_t *rnd)
{
	struct ipcu_wait w = { .doorbell_fd = -1 };
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
	const __u32 known = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
			    EPOLLHUP | EPOLLERR;
	int ret;

	ret = poll(&p, 1, 0);
	if (ret < 0 || ret > 1) {
		r->bad++;
		r->last_bad = -errno;
	}
	if (p.revents & POLLERR)
		r->pollerr++;

	w.timeout_ns = ipcu_test_rand(rnd) % 2 ? 0 : 100000;
	ret = ipcu_test_ioctl(fd, IPCU_IOC_WAIT, &w);
	if ((ret && ret != -ETIMEDOUT) || (w.revents & ~known)) {
		r->bad++;
		r->last_bad = ret;
	}
	if (ipcu_test_rand(rnd) % 4 == 0 &&
	    ipcu_test_ioctl(fd, IPCU_IOC_DOORBELL, 0)) {
		r->bad++;
		r->last_bad = -errno;
	}
}

/*
 * A library result of an honest peer: count it, or count it as bad.  A
 * failure returns without a system call, so back off a little: the
 * scribblers and the bystander need the CPUs more.
 */
static void account(struct report *r, int ret, int peer_may_be_gone)
{
	r->ops++;
	if (ret < 0)
		usleep(1000);
	else if (r->ops % 16 == 0)
		sched_yield();
	if (ret >= 0)
		r->ok++;
	else if (ret == -EPROTO)
		r->eproto++;
	else if (ret == -EAGAIN)
		r->eagain++;
	else if (ret == -ETIMEDOUT)
		r->timeouts++;
	else if (ret == -EPIPE && peer_may_be_gone)
		r->ok++;
	else {
		r->bad++;
		r->last_bad = ret;
	}
}

static int honest_producer(struct ipcu_ep *ep, struct shared *sh)
{
	struct report *r = &sh->prod;
	unsigned char msg[MAX_MSG];
	uint64_t rnd = 77;
	uint32_t seq = 0;
	int ret;

	while (!stopped(&sh->stop_all) && r->ops < MAX_OPS) {
		size_t len = IPCU_TEST_MSG_MIN + ipcu_test_rand(&rnd) % 200;
		void *buf;

		switch (ipcu_test_rand(&rnd) % 8) {
		case 0:
			probe_kernel(ep->fd, r, &rnd);
			break;
		case 1:	/* In place: reserve may fail, commit may not. */
			ret = ipcu_reserve(ep, len, &buf);
			if (!ret) {
				ipcu_test_msg_fill(buf, len, seq);
				ret = ipcu_commit(ep, len, seq++);
				if (ret)
					account(r, -EINVAL, 0);
				ret = ipcu_flush(ep);
			}
			account(r, ret, stopped(&sh->stop_all));
			break;
		default:
			ipcu_test_msg_fill(msg, len, seq);
			ret = ipcu_send(ep, msg, len, SHORT_NS);
			if (!ret)
				seq++;
			account(r, ret, stopped(&sh->stop_all));
			break;
		}
	}
	/* Done early: stay, or the peer would see a hangup. */
	while (!stopped(&sh->stop_all))
		usleep(1000);
	return 0;
}

/* Is @msg some intact test message, whatever its sequence number? */
static int intact(const unsigned char *msg, size_t len)
{
	struct ipcu_test_msg hdr;

	if (len < sizeof(hdr))
		return 0;
	memcpy(&hdr, msg, sizeof(hdr));
	return !ipcu_test_msg_check(msg, len, hdr.seq);
}

static int honest_consumer(struct ipcu_ep *ep, struct shared *sh)
{
	struct report *r = &sh->cons;
	unsigned char msg[MAX_MSG];
	uint64_t rnd = 78;
	int ret;

	while (!stopped(&sh->stop_all) && r->ops < MAX_OPS) {
		const void *buf;
		size_t len;
		__u32 tag;

		switch (ipcu_test_rand(&rnd) % 8) {
		case 0:
			probe_kernel(ep->fd, r, &rnd);
			break;
		case 1:	/* In place: copy first, the producer may be hostile. */
			ret = ipcu_peek(ep, &buf, &len, &tag);
			if (!ret) {
				if (len > sizeof(msg)) {
					account(r, -E2BIG, 0);
					break;
				}
				memcpy(msg, buf, len);
				if (!intact(msg, len))
					r->corrupt++;
				ret = ipcu_release(ep);
				if (ret)
					account(r, -EINVAL, 0);
				ret = ipcu_flush(ep);
			}
			account(r, ret, stopped(&sh->stop_all));
			break;
		default:
			ret = ipcu_recv(ep, msg, sizeof(msg), SHORT_NS);
			if (ret >= 0 && (ret > MAX_MSG || !intact(msg, ret)))
				r->corrupt++;
			account(r, ret, stopped(&sh->stop_all));
			break;
		}
	}
	/* Done early: stay, or the peer would see a hangup. */
	while (!stopped(&sh->stop_all))
		usleep(1000);
	return 0;
}

/* Boundary and random values for a field that now holds @cur. */
static uint32_t nasty(uint64_t *rnd, uint32_t cur)
{
	static const uint32_t fixed[] = {
		0, 1, ENTRIES - 1, ENTRIES, ENTRIES + 1, 0xffffffffU,
		0x80000000U, 0x7fffffffU, PAYLOAD - 1, PAYLOAD, PAYLOAD + 1,
		MAX_MSG, MAX_MSG + 1, 2 * PAYLOAD, IPCU_NEED_WAKEUP,
	};
	static const int32_t delta[] = {
		-1, 1, -2, 2, ENTRIES, -ENTRIES, ENTRIES + 1, PAYLOAD,
		-PAYLOAD, PAYLOAD - 1, MAX_MSG,
	};
	uint32_t r = ipcu_test_rand(rnd);

	switch (r % 3) {
	case 0:
		return fixed[(r >> 2) % (sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return cur + delta[(r >> 2) % (sizeof(delta) / sizeof(delta[0]))];
	default:
		return ipcu_test_rand(rnd);
	}
}

static void scribble(uint32_t *field, uint64_t *rnd)
{
	__atomic_store_n(field, nasty(rnd, __atomic_load_n(field,
							   __ATOMIC_RELAXED)),
			 __ATOMIC_RELEASE);
}

/* Everything the producer may write: its control page, ring and payload. */
static int hostile_producer(struct ipcu_ep *ep, struct shared *sh)
{
	struct report *r = &sh->hprod;
	uint32_t *ctrl[] = {
		&ep->prod->tail, &ep->prod->pay_tail, &ep->prod->flags,
		&ep->prod->want,
	};
	uint64_t rnd = 0xbad;
	unsigned int n;

	for (n = 0; n < MAX_SCRIBBLES; n++) {
		uint32_t pick = ipcu_test_rand(&rnd);
		struct ipcu_desc *d = &ep->desc[(pick >> 8) % ENTRIES];
		uint32_t *words = (uint32_t *)ep->payload;

		if (n >= MIN_SCRIBBLES && stopped(&sh->stop_scribbling))
			break;
		switch (pick % 16) {
		case 0 ... 5:
			scribble(ctrl[(pick >> 4) % 4], &rnd);
			break;
		case 6:
			scribble(&d->pos, &rnd);
			break;
		case 7:
			scribble(&d->len, &rnd);
			break;
		case 8:
			scribble(&d->flags, &rnd);
			break;
		case 9:
			scribble(&d->tag, &rnd);
			break;
		case 10:
			scribble(&words[(pick >> 8) % (PAYLOAD / 4)], &rnd);
			break;
		case 11:	/* A whole burst at once. */
			scribble(&ep->prod->tail, &rnd);
			scribble(&ep->prod->pay_tail, &rnd);
			scribble(&d->pos, &rnd);
			scribble(&d->len, &rnd);
			break;
		case 12:
			probe_kernel(ep->fd, r, &rnd);
			break;
		default:
			break;
		}
		/* In bursts: the peers and the bystander need the CPUs too. */
		if (n % 256 == 255)
			usleep(1000);
		r->ops++;
	}
	return 0;
}

/* Everything the consumer may write: its control page. */
static int hostile_consumer(struct ipcu_ep *ep, struct shared *sh)
{
	struct report *r = &sh->hcons;
	uint32_t *ctrl[] = {
		&ep->cons->head, &ep->cons->pay_head, &ep->cons->flags,
		&ep->cons->pad,
	};
	uint64_t rnd = 0xbadc;
	unsigned int n;

	for (n = 0; n < MAX_SCRIBBLES; n++) {
		uint32_t pick = ipcu_test_rand(&rnd);

		if (n >= MIN_SCRIBBLES && stopped(&sh->stop_scribbling))
			break;
		switch (pick % 8) {
		case 0 ... 4:
			scribble(ctrl[(pick >> 4) % 4], &rnd);
			break;
		case 5:
			scribble(&ep->cons->head, &rnd);
			scribble(&ep->cons->pay_head, &rnd);
			break;
		case 6:
			probe_kernel(ep->fd, r, &rnd);
			break;
		default:
			break;
		}
		/* In bursts: the peers and the bystander need the CPUs too. */
		if (n % 256 == 255)
			usleep(1000);
		r->ops++;
	}
	return 0;
}

/* The bystander channel: a fully verified stream, blocking waits. */
static int bystander_producer(struct ipcu_ep *ep)
{
	uint64_t rnd = 99;
	uint32_t seq;
	int ret;

	for (seq = 0; seq < BYSTANDER_MSGS; seq++) {
		size_t len = IPCU_TEST_MSG_MIN + ipcu_test_rand(&rnd) % 500;

		while ((ret = ipcu_test_put(ep, seq, len)) == -EAGAIN)
			IPCU_TEST_CHILD_CHECK(!ipcu_wait(ep, -1), "seq %u", seq);
		IPCU_TEST_CHILD_CHECK(ret == 0, "seq %u: %d", seq, ret);
		IPCU_TEST_CHILD_CHECK(ipcu_flush(ep) >= 0, "");
	}
	return 0;
}

static int bystander_consumer(struct ipcu_ep *ep, unsigned int *done)
{
	uint64_t rnd = 99;
	uint32_t seq;
	int ret;

	for (seq = 0; seq < BYSTANDER_MSGS; seq++) {
		size_t len = IPCU_TEST_MSG_MIN + ipcu_test_rand(&rnd) % 500;
		const void *buf;
		size_t got;
		__u32 tag;

		while ((ret = ipcu_peek(ep, &buf, &got, &tag)) == -EAGAIN)
			IPCU_TEST_CHILD_CHECK(!ipcu_wait(ep, -1), "seq %u", seq);
		IPCU_TEST_CHILD_CHECK(ret == 0, "seq %u: %d", seq, ret);
		IPCU_TEST_CHILD_CHECK(got == len && tag == seq, "seq %u", seq);
		IPCU_TEST_CHILD_CHECK(!ipcu_test_msg_check(buf, got, seq),
				      "seq %u", seq);
		IPCU_TEST_CHILD_CHECK(!ipcu_release(ep), "");
		IPCU_TEST_CHILD_CHECK(ipcu_flush(ep) >= 0, "");
		__atomic_store_n(done, seq + 1, __ATOMIC_RELAXED);
	}
	/* Nothing more, ever. */
	IPCU_TEST_CHILD_CHECK(ipcu_wait(ep, -1) == -EPIPE, "");
	return 0;
}

enum proc {
	P_PROD, P_CONS, P_HPROD, P_HCONS, P_BPROD, P_BCONS, P_NR
};

FIXTURE(hostile) {
	struct ipcu_ep prod, cons, bprod, bcons;
	struct shared *sh;
	pid_t pid[P_NR];
	struct ipcu_test_counters start;
	int have_counters;
};

FIXTURE_VARIANT(hostile) {
	int scribble_prod;
	int scribble_cons;
};

FIXTURE_VARIANT_ADD(hostile, producer_side)
{
	.scribble_prod = 1,
};

FIXTURE_VARIANT_ADD(hostile, consumer_side)
{
	.scribble_cons = 1,
};

FIXTURE_VARIANT_ADD(hostile, both_sides)
{
	.scribble_prod = 1, .scribble_cons = 1,
};

FIXTURE_SETUP(hostile)
{
	self->have_counters = !ipcu_test_counters_read(&self->start);
	self->sh = ipcu_test_shared(sizeof(*self->sh));
	ASSERT_TRUE(self->sh != NULL);
	ASSERT_EQ(0, ipcu_test_pair(&self->prod, &self->cons, ENTRIES, MAX_MSG,
				    PAYLOAD));
	ASSERT_EQ(0, ipcu_test_pair(&self->bprod, &self->bcons, ENTRIES,
				    MAX_MSG, PAYLOAD));
}

FIXTURE_TEARDOWN(hostile)
{
	munmap(self->sh, sizeof(*self->sh));
}

/* Fork process @which: it keeps only the endpoint it plays. */
static pid_t start(FIXTURE_DATA(hostile) *self, enum proc which)
{
	struct ipcu_ep *keep[P_NR] = {
		[P_PROD] = &self->prod, [P_CONS] = &self->cons,
		[P_HPROD] = &self->prod, [P_HCONS] = &self->cons,
		[P_BPROD] = &self->bprod, [P_BCONS] = &self->bcons,
	};
	struct ipcu_ep *all[] = {
		&self->prod, &self->cons, &self->bprod, &self->bcons,
	};
	pid_t pid = ipcu_test_fork();
	unsigned int i;

	if (pid)
		return pid;
	alarm(HANG_GUARD_S);
	for (i = 0; i < 4; i++)
		if (all[i] != keep[which])
			ipcu_ep_close(all[i]);
	switch (which) {
	case P_PROD:
		_exit(honest_producer(&self->prod, self->sh));
	case P_CONS:
		_exit(honest_consumer(&self->cons, self->sh));
	case P_HPROD:
		_exit(hostile_producer(&self->prod, self->sh));
	case P_HCONS:
		_exit(hostile_consumer(&self->cons, self->sh));
	case P_BPROD:
		_exit(bystander_producer(&self->bprod));
	case P_BCONS:
		_exit(bystander_consumer(&self->bcons,
					 &self->sh->bystander_seq));
	default:
		_exit(3);
	}
}

static void log_report(struct __test_metadata *_metadata, const char *who,
		       const struct report *r)
{
	TH_LOG("%s: %llu ops, %llu ok, %llu EPROTO, %llu EAGAIN, %llu timeouts, %llu corrupt, %llu POLLERR, %llu bad (last %d)",
	       who, r->ops, r->ok, r->eproto, r->eagain, r->timeouts,
	       r->corrupt, r->pollerr, r->bad, r->last_bad);
}

TEST_F_TIMEOUT(hostile, scribble_while_peers_run, 200)
{
	struct ipcu_test_counters now;
	struct shared *sh = self->sh;
	int i;

	memset(self->pid, 0, sizeof(self->pid));
	self->pid[P_BPROD] = start(self, P_BPROD);
	self->pid[P_BCONS] = start(self, P_BCONS);
	self->pid[P_PROD] = start(self, P_PROD);
	self->pid[P_CONS] = start(self, P_CONS);
	if (variant->scribble_prod)
		self->pid[P_HPROD] = start(self, P_HPROD);
	if (variant->scribble_cons)
		self->pid[P_HCONS] = start(self, P_HCONS);
	for (i = 0; i < P_NR; i++)
		ASSERT_LE(0, self->pid[i]);
	/* The parent keeps nothing: the children hold every role. */
	ipcu_ep_close(&self->prod);
	ipcu_ep_close(&self->cons);
	ipcu_ep_close(&self->bprod);
	ipcu_ep_close(&self->bcons);
	alarm(HANG_GUARD_S + 10);

	/* The bystander's stream verifies in full, then the scribblers stop. */
	EXPECT_EQ(0, ipcu_test_reap(self->pid[P_BCONS]));
	EXPECT_EQ(0, ipcu_test_reap(self->pid[P_BPROD]));
	__atomic_store_n(&sh->stop_scribbling, 1, __ATOMIC_RELEASE);
	if (self->pid[P_HPROD])
		EXPECT_EQ(0, ipcu_test_reap(self->pid[P_HPROD]));
	if (self->pid[P_HCONS])
		EXPECT_EQ(0, ipcu_test_reap(self->pid[P_HCONS]));
	__atomic_store_n(&sh->stop_all, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, ipcu_test_reap(self->pid[P_PROD]));
	EXPECT_EQ(0, ipcu_test_reap(self->pid[P_CONS]));
	alarm(0);

	TH_LOG("bystander: %u of %u messages verified", sh->bystander_seq,
	       BYSTANDER_MSGS);
	log_report(_metadata, "producer", &sh->prod);
	log_report(_metadata, "consumer", &sh->cons);
	if (variant->scribble_prod)
		log_report(_metadata, "hostile producer", &sh->hprod);
	if (variant->scribble_cons)
		log_report(_metadata, "hostile consumer", &sh->hcons);
	EXPECT_EQ(0, sh->prod.bad);
	EXPECT_EQ(0, sh->cons.bad);
	EXPECT_EQ(0, sh->hprod.bad);
	EXPECT_EQ(0, sh->hcons.bad);

	if (self->have_counters) {
		ASSERT_EQ(0, ipcu_test_counters_read(&now));
		EXPECT_EQ(self->start.channels, now.channels);
		EXPECT_EQ(self->start.endpoints, now.endpoints);
		EXPECT_EQ(self->start.pages, now.pages);
	}
}

/*
 * The kernel alone against garbage: every combination of the four indices
 * and want from the boundary set gives a prompt answer from poll() and
 * IPCU_IOC_WAIT, on both endpoints, in one process.
 */
TEST(kernel_readiness_boundaries)
{
	static const uint32_t v[] = {
		0, 1, ENTRIES, ENTRIES + 1, PAYLOAD - 1, PAYLOAD, PAYLOAD + 1,
		0x80000000U, 0xffffffffU,
	};
	const unsigned int nv = sizeof(v) / sizeof(v[0]);
	struct report r = { 0 };
	struct ipcu_ep prod, cons;
	unsigned int a, b, c, d;
	uint64_t rnd = 1;

	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG, PAYLOAD));
	for (a = 0; a < nv; a++)
		for (b = 0; b < nv; b++)
			for (c = 0; c < nv; c++)
				for (d = 0; d < nv; d++) {
					prod.prod->tail = v[a];
					prod.prod->pay_tail = v[b];
					cons.cons->head = v[c];
					cons.cons->pay_head = v[d];
					prod.prod->want = v[(a + d) % nv];
					probe_kernel(prod.fd, &r, &rnd);
					probe_kernel(cons.fd, &r, &rnd);
				}
	log_report(_metadata, "kernel", &r);
	EXPECT_EQ(0, r.bad);
	/* Inconsistent indices are reported as such. */
	EXPECT_LT(0, r.pollerr);
	ipcu_ep_close(&prod);
	ipcu_ep_close(&cons);
}

TEST_HARNESS_MAIN
