// SPDX-License-Identifier: GPL-2.0
/*
 * Streams between two processes: a producer and a consumer that both block
 * (in IPCU_IOC_WAIT, through the user library) whenever they cannot make
 * progress.  Every message carries its sequence number and the checksum of
 * its body, and both sides draw the same pseudo-random sizes, so the
 * consumer proves that nothing was lost, duplicated, reordered or
 * corrupted; that the stream ends at all proves that no wakeup was lost.
 *
 * The tiny-ring variants switch between full and empty on nearly every
 * message, which makes the sleep/wake races as frequent as possible.
 */
#include <sched.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

/*
 * Hang guard: each side re-arms it every GUARD_EVERY messages, so it fires
 * only when a side made no progress for HANG_GUARD_S seconds (a lost
 * wakeup), however slow the kernel (a debug kernel under TCG takes minutes
 * for a stream).  The harness's timeout bounds the whole test.
 */
#define HANG_GUARD_S	60
#define GUARD_EVERY	256

/*
 * Message sizes: mostly small (header .. 256 bytes), one in 64 anything up
 * to max_msg.  Both sides call this with the same seed.
 */
static size_t msg_len(uint64_t *rnd, unsigned int max_msg)
{
	uint32_t r = ipcu_test_rand(rnd);
	unsigned int top = max_msg < 256 ? max_msg : 256;

	if ((r & 63) == 0)
		top = max_msg;
	return IPCU_TEST_MSG_MIN + (r >> 6) % (top - IPCU_TEST_MSG_MIN + 1);
}

struct side_result {
	struct ipcu_ep_stats stats;
	struct ipcu_ep_info info;
};

FIXTURE(stream) {
	struct ipcu_ep prod;
	struct ipcu_ep cons;
	struct side_result *res;	/* shared with the producer */
};

FIXTURE_VARIANT(stream) {
	unsigned int entries;
	unsigned int max_msg;
	unsigned long long payload;
	uint32_t msgs;
	uint64_t seed;
	/* Messages per ipcu_flush() (0: only when waiting, and at the end). */
	unsigned int batch;
	/* ipcu_send()/ipcu_recv() copies instead of reserve/peek in place. */
	int copy;
	/* ipcu_ep.spin of both sides; -1 keeps the library's default. */
	int spin;
};

/* The main stream: a roomy ring, zero-copy, published in small batches. */
FIXTURE_VARIANT_ADD(stream, million)
{
	.entries = 1024, .max_msg = 4096, .payload = 256 << 10,
	.msgs = 1000000, .seed = 0x1234abcd, .batch = 8, .spin = -1,
};

/* Two slots: full/empty transitions and sleeps on nearly every message. */
FIXTURE_VARIANT_ADD(stream, tiny_ring)
{
	.entries = 2, .max_msg = 2048, .payload = 4096,
	.msgs = 50000, .seed = 0x5eed, .batch = 1, .spin = -1,
};

/* The same without spinning: every wait goes to sleep in the kernel. */
FIXTURE_VARIANT_ADD(stream, tiny_ring_nospin)
{
	.entries = 2, .max_msg = 2048, .payload = 4096,
	.msgs = 20000, .seed = 0xfeed, .batch = 1, .spin = 0,
};

/* Copying helpers, and a payload area that fills before the slots do. */
FIXTURE_VARIANT_ADD(stream, copy_small_payload)
{
	.entries = 256, .max_msg = 2048, .payload = 4096,
	.msgs = 50000, .seed = 0xc0b1, .batch = 0, .copy = 1, .spin = -1,
};

FIXTURE_SETUP(stream)
{
	self->prod.fd = self->cons.fd = -1;
	self->res = ipcu_test_shared(sizeof(*self->res));
	ASSERT_TRUE(self->res != NULL);
	ASSERT_EQ(0, ipcu_test_pair(&self->prod, &self->cons, variant->entries,
				    variant->max_msg, variant->payload));
	if (variant->spin >= 0)
		self->prod.spin = self->cons.spin = variant->spin;
}

FIXTURE_TEARDOWN(stream)
{
	ipcu_ep_close(&self->prod);
	ipcu_ep_close(&self->cons);
	munmap(self->res, sizeof(*self->res));
}

/* The producer's process; returns its exit status. */
static int produce(const FIXTURE_VARIANT(stream) *v, struct ipcu_ep *ep,
		   struct side_result *res)
{
	unsigned char *copy = NULL;
	uint64_t rnd = v->seed;
	uint32_t seq;
	void *buf;
	int ret;

	if (v->copy) {
		copy = malloc(v->max_msg);
		IPCU_TEST_CHILD_CHECK(copy, "");
	}
	for (seq = 0; seq < v->msgs; seq++) {
		size_t len = msg_len(&rnd, v->max_msg);

		if (seq % GUARD_EVERY == 0)
			alarm(HANG_GUARD_S);
		if (v->copy) {
			ipcu_test_msg_fill(copy, len, seq);
			ret = ipcu_send(ep, copy, len, -1);
			IPCU_TEST_CHILD_CHECK(ret == 0, "send %u: %d", seq, ret);
			continue;
		}
		/* Blocks when full; a failed reserve left its size in want. */
		while ((ret = ipcu_reserve(ep, len, &buf)) == -EAGAIN) {
			ret = ipcu_wait(ep, -1);
			IPCU_TEST_CHILD_CHECK(ret == 0, "wait %u: %d", seq, ret);
		}
		IPCU_TEST_CHILD_CHECK(ret == 0, "reserve %u: %d", seq, ret);
		ipcu_test_msg_fill(buf, len, seq);
		IPCU_TEST_CHILD_CHECK(!ipcu_commit(ep, len, seq), "");
		if (v->batch && (seq + 1) % v->batch == 0)
			IPCU_TEST_CHILD_CHECK(ipcu_flush(ep) >= 0, "");
	}
	IPCU_TEST_CHILD_CHECK(ipcu_flush(ep) >= 0, "");
	res->stats = ep->stats;
	IPCU_TEST_CHILD_CHECK(!ipcu_test_ep_info(ep->fd, &res->info), "");
	free(copy);
	return 0;
}

TEST_F_TIMEOUT(stream, verified, 1500)
{
	unsigned char *copy = malloc(variant->max_msg);
	struct ipcu_ep_info info;
	uint64_t rnd = variant->seed;
	const void *buf = NULL;
	uint32_t seq;
	size_t len = 0;
	__u32 tag = 0;
	pid_t pid;
	int ret;

	ASSERT_TRUE(copy != NULL);
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		alarm(HANG_GUARD_S);
		ipcu_ep_close(&self->cons);
		_exit(produce(variant, &self->prod, self->res));
	}
	ipcu_ep_close(&self->prod);
	alarm(HANG_GUARD_S);

	for (seq = 0; seq < variant->msgs; seq++) {
		size_t want = msg_len(&rnd, variant->max_msg);

		if (seq % GUARD_EVERY == 0)
			alarm(HANG_GUARD_S);
		if (variant->copy) {
			ret = ipcu_recv(&self->cons, copy, variant->max_msg, -1);
			ASSERT_EQ(want, ret) TH_LOG("message %u", seq);
			ASSERT_EQ(0, ipcu_test_msg_check(copy, want, seq))
				TH_LOG("message %u", seq);
			continue;
		}
		while ((ret = ipcu_peek(&self->cons, &buf, &len, &tag)) == -EAGAIN)
			ASSERT_EQ(0, ipcu_wait(&self->cons, -1))
				TH_LOG("waiting for message %u", seq);
		ASSERT_EQ(0, ret) TH_LOG("message %u", seq);
		ASSERT_EQ(want, len) TH_LOG("message %u", seq);
		ASSERT_EQ(seq, tag);
		ASSERT_EQ(0, ipcu_test_msg_check(buf, len, seq))
			TH_LOG("message %u", seq);
		ASSERT_EQ(0, ipcu_release(&self->cons));
		if (variant->batch && (seq + 1) % variant->batch == 0)
			ASSERT_LE(0, ipcu_flush(&self->cons));
	}
	ASSERT_LE(0, ipcu_flush(&self->cons));
	ASSERT_EQ(0, ipcu_test_reap(pid));
	alarm(0);

	/* Nothing beyond the last message, and the end is a hangup. */
	EXPECT_EQ(-EAGAIN, ipcu_peek(&self->cons, &buf, &len, &tag));
	EXPECT_EQ(-EPIPE, ipcu_wait(&self->cons, -1));

	ASSERT_EQ(0, ipcu_test_ep_info(self->cons.fd, &info));
	TH_LOG("%u messages; producer: %llu doorbells, %llu sleeps (library: %llu waits, %llu wait calls); consumer: %llu doorbells, %llu sleeps (library: %llu waits, %llu wait calls)",
	       variant->msgs, self->res->info.doorbells, self->res->info.sleeps,
	       self->res->stats.waits, self->res->stats.sleeps,
	       info.doorbells, info.sleeps, self->cons.stats.waits,
	       self->cons.stats.sleeps);
	/* The kernel counted exactly the doorbells the library rang. */
	EXPECT_EQ(self->res->stats.doorbells, self->res->info.doorbells);
	EXPECT_EQ(self->cons.stats.doorbells, info.doorbells);
	/* A kernel sleep is one IPCU_IOC_WAIT call of the library. */
	EXPECT_GE(self->res->stats.sleeps, self->res->info.sleeps);
	EXPECT_GE(self->cons.stats.sleeps, info.sleeps);
	free(copy);
}

TEST_HARNESS_MAIN
