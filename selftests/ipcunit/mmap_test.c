// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping policy of endpoint files: which role may map which area with
 * which protection, and what mprotect(), mremap(), munmap(), madvise(),
 * fork() and /proc/self/mem do with those mappings afterwards.
 */
#include <signal.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define PG	((size_t)sysconf(_SC_PAGESIZE))

enum area { CONS_CTRL, PROD_CTRL, DESC, PAYLOAD, WHOLE, BOTH_CTRL, PROD_ALL,
	    NR_AREAS };

static const char *const area_names[NR_AREAS] = {
	"cons_ctrl", "prod_ctrl", "desc", "payload", "whole",
	"both_ctrl", "prod_all",
};

FIXTURE(map) {
	int fd[2];			/* by role */
	struct ipcu_ep_info info;
	off_t off[NR_AREAS];
	size_t len[NR_AREAS];
};

FIXTURE_SETUP(map)
{
	int dev = ipcu_test_open(O_RDWR);
	const struct ipcu_ep_info *i = &self->info;

	ASSERT_LE(0, dev);
	/* Two pages of descriptors, four of payload. */
	self->fd[IPCU_ROLE_PRODUCER] = ipcu_test_create(dev, 2 * PG / 16,
							PG, 4 * PG, NULL, 0,
							IPCU_ROLE_PRODUCER);
	close(dev);
	ASSERT_LE(0, self->fd[IPCU_ROLE_PRODUCER]);
	self->fd[IPCU_ROLE_CONSUMER] = ipcu_test_peer(self->fd[IPCU_ROLE_PRODUCER]);
	ASSERT_LE(0, self->fd[IPCU_ROLE_CONSUMER]);
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[IPCU_ROLE_PRODUCER], &self->info));

	self->off[CONS_CTRL] = i->cons_ctrl_off;
	self->len[CONS_CTRL] = PG;
	self->off[PROD_CTRL] = i->prod_ctrl_off;
	self->len[PROD_CTRL] = PG;
	self->off[DESC] = i->desc_off;
	self->len[DESC] = i->desc_bytes;
	self->off[PAYLOAD] = i->payload_off;
	self->len[PAYLOAD] = i->payload_bytes;
	self->off[WHOLE] = 0;
	self->len[WHOLE] = i->map_bytes;
	/* The layout the tests below rely on: the uapi's order of areas. */
	ASSERT_EQ(0, i->cons_ctrl_off);
	ASSERT_EQ(PG, i->prod_ctrl_off);
	ASSERT_EQ(2 * PG, i->desc_off);
	ASSERT_EQ(i->desc_off + i->desc_bytes, i->payload_off);
	ASSERT_EQ(i->payload_off + i->payload_bytes, i->map_bytes);
	self->off[BOTH_CTRL] = 0;
	self->len[BOTH_CTRL] = 2 * PG;
	self->off[PROD_ALL] = PG;
	self->len[PROD_ALL] = i->map_bytes - PG;
}

FIXTURE_TEARDOWN(map)
{
	close(self->fd[0]);
	close(self->fd[1]);
}

/* mmap() of @area: the address, or NULL with errno set. */
static void *map_area(FIXTURE_DATA(map) *self, int role, enum area area,
		      int prot)
{
	void *p = mmap(NULL, self->len[area], prot, MAP_SHARED, self->fd[role],
		       self->off[area]);

	return p == MAP_FAILED ? NULL : p;
}

#define RO	PROT_READ
#define RW	(PROT_READ | PROT_WRITE)
#define P	IPCU_ROLE_PRODUCER
#define C	IPCU_ROLE_CONSUMER

static const struct {
	int role;
	int prot;
	int flags;
	enum area area;
	int err;		/* 0 or the errno of mmap() */
} matrix[] = {
	/* Read-only shared mappings: anything, by anyone. */
	{ C, RO, MAP_SHARED, CONS_CTRL, 0 },
	{ C, RO, MAP_SHARED, PROD_CTRL, 0 },
	{ C, RO, MAP_SHARED, DESC, 0 },
	{ C, RO, MAP_SHARED, PAYLOAD, 0 },
	{ C, RO, MAP_SHARED, WHOLE, 0 },
	{ P, RO, MAP_SHARED, CONS_CTRL, 0 },
	{ P, RO, MAP_SHARED, PROD_CTRL, 0 },
	{ P, RO, MAP_SHARED, DESC, 0 },
	{ P, RO, MAP_SHARED, PAYLOAD, 0 },
	{ P, RO, MAP_SHARED, WHOLE, 0 },
	/* Writable: each side only what it writes. */
	{ C, RW, MAP_SHARED, CONS_CTRL, 0 },
	{ C, RW, MAP_SHARED, PROD_CTRL, EACCES },
	{ C, RW, MAP_SHARED, DESC, EACCES },
	{ C, RW, MAP_SHARED, PAYLOAD, EACCES },
	{ C, RW, MAP_SHARED, WHOLE, EACCES },
	{ C, RW, MAP_SHARED, BOTH_CTRL, EACCES },
	{ C, RW, MAP_SHARED, PROD_ALL, EACCES },
	{ P, RW, MAP_SHARED, CONS_CTRL, EACCES },
	{ P, RW, MAP_SHARED, PROD_CTRL, 0 },
	{ P, RW, MAP_SHARED, DESC, 0 },
	{ P, RW, MAP_SHARED, PAYLOAD, 0 },
	{ P, RW, MAP_SHARED, WHOLE, EACCES },
	{ P, RW, MAP_SHARED, BOTH_CTRL, EACCES },
	{ P, RW, MAP_SHARED, PROD_ALL, 0 },
	/* Private mappings: never, whatever the protection. */
	{ C, RO, MAP_PRIVATE, CONS_CTRL, EINVAL },
	{ C, RO, MAP_PRIVATE, PROD_CTRL, EINVAL },
	{ C, RO, MAP_PRIVATE, DESC, EINVAL },
	{ C, RO, MAP_PRIVATE, PAYLOAD, EINVAL },
	{ C, RO, MAP_PRIVATE, WHOLE, EINVAL },
	{ C, RW, MAP_PRIVATE, CONS_CTRL, EINVAL },
	{ C, RW, MAP_PRIVATE, PROD_CTRL, EINVAL },
	{ C, RW, MAP_PRIVATE, DESC, EINVAL },
	{ C, RW, MAP_PRIVATE, PAYLOAD, EINVAL },
	{ C, RW, MAP_PRIVATE, WHOLE, EINVAL },
	{ P, RO, MAP_PRIVATE, CONS_CTRL, EINVAL },
	{ P, RO, MAP_PRIVATE, PROD_CTRL, EINVAL },
	{ P, RO, MAP_PRIVATE, DESC, EINVAL },
	{ P, RO, MAP_PRIVATE, PAYLOAD, EINVAL },
	{ P, RO, MAP_PRIVATE, WHOLE, EINVAL },
	{ P, RW, MAP_PRIVATE, CONS_CTRL, EINVAL },
	{ P, RW, MAP_PRIVATE, PROD_CTRL, EINVAL },
	{ P, RW, MAP_PRIVATE, DESC, EINVAL },
	{ P, RW, MAP_PRIVATE, PAYLOAD, EINVAL },
	{ P, RW, MAP_PRIVATE, WHOLE, EINVAL },
};

TEST_F(map, permission_matrix)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(matrix); i++) {
		enum area a = matrix[i].area;
		void *p;
		int err;

		p = mmap(NULL, self->len[a], matrix[i].prot, matrix[i].flags,
			 self->fd[matrix[i].role], self->off[a]);
		err = p == MAP_FAILED ? errno : 0;
		EXPECT_EQ(matrix[i].err, err)
			TH_LOG("row %u: %s %s %s %s", i,
			       matrix[i].role == P ? "producer" : "consumer",
			       matrix[i].prot == RW ? "rw" : "ro",
			       matrix[i].flags == MAP_SHARED ? "shared" : "private",
			       area_names[a]);
		if (p != MAP_FAILED)
			munmap(p, self->len[a]);
	}
}

/* A read-only mapping of an area the role does not write stays so. */
TEST_F(map, mprotect_upgrade)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(matrix); i++) {
		enum area a = matrix[i].area;
		int want;
		void *p;

		/* The rows that say whether PROT_WRITE is allowed. */
		if (matrix[i].prot != RW || matrix[i].flags != MAP_SHARED)
			continue;
		p = map_area(self, matrix[i].role, a, RO);
		ASSERT_TRUE(p != NULL) TH_LOG("row %u", i);
		want = matrix[i].err ? -EACCES : 0;
		EXPECT_EQ(want, mprotect(p, self->len[a], RW) ? -errno : 0)
			TH_LOG("row %u: %s %s", i,
			       matrix[i].role == P ? "producer" : "consumer",
			       area_names[a]);
		/* Part of the mapping is no different. */
		EXPECT_EQ(want, mprotect(p, PG, RW) ? -errno : 0)
			TH_LOG("row %u: first page", i);
		munmap(p, self->len[a]);
	}
}

TEST_F(map, mprotect_down_and_up)
{
	volatile __u32 *p = map_area(self, P, PAYLOAD, RW);

	ASSERT_TRUE(p != NULL);
	p[0] = 1;
	ASSERT_EQ(0, mprotect((void *)p, self->len[PAYLOAD], RO));
	ASSERT_EQ(0, mprotect((void *)p, self->len[PAYLOAD], RW));
	p[0] = 2;
	EXPECT_EQ(2, p[0]);
	munmap((void *)p, self->len[PAYLOAD]);
}

/* An mprotect() range that covers a forbidden area fails as a whole. */
TEST_F(map, mprotect_across_areas)
{
	unsigned char *whole = map_area(self, P, WHOLE, RO);

	ASSERT_TRUE(whole != NULL);
	EXPECT_EQ(-EACCES, mprotect(whole, 2 * PG, RW) ? -errno : 0);
	/* The producer's own pages of the same mapping: still not. */
	EXPECT_EQ(-EACCES, mprotect(whole + PG, PG, RW) ? -errno : 0);
	munmap(whole, self->len[WHOLE]);
}

/* The object has a fixed size. */
TEST_F(map, mremap_grow)
{
	unsigned char *p;
	void *q;

	p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[C], self->off[PAYLOAD]);
	ASSERT_TRUE(p != MAP_FAILED);
	/* Even within the object, and even if it may move. */
	q = mremap(p, PG, 2 * PG, 0);
	EXPECT_TRUE(q == MAP_FAILED);
	EXPECT_EQ(EFAULT, errno);
	q = mremap(p, PG, 2 * PG, MREMAP_MAYMOVE);
	EXPECT_TRUE(q == MAP_FAILED);
	EXPECT_EQ(EFAULT, errno);
	munmap(p, PG);

	p = map_area(self, C, WHOLE, RO);
	ASSERT_TRUE(p != NULL);
	q = mremap(p, self->len[WHOLE], self->len[WHOLE] + PG, MREMAP_MAYMOVE);
	EXPECT_TRUE(q == MAP_FAILED);
	EXPECT_EQ(EFAULT, errno);
	munmap(p, self->len[WHOLE]);
}

/* MREMAP_DONTUNMAP would leave a second mapping of the same pages. */
TEST_F(map, mremap_dontunmap)
{
	unsigned char *p = map_area(self, P, PAYLOAD, RW);
	void *q;

	ASSERT_TRUE(p != NULL);
	q = mremap(p, self->len[PAYLOAD], self->len[PAYLOAD],
		   MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	EXPECT_TRUE(q == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	munmap(p, self->len[PAYLOAD]);
}

TEST_F(map, mremap_shrink)
{
	volatile unsigned char *w = map_area(self, P, PAYLOAD, RW);
	unsigned char *r = map_area(self, C, PAYLOAD, RO);
	void *q;

	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(r != NULL);
	q = mremap(r, self->len[PAYLOAD], PG, 0);
	ASSERT_TRUE(q == (void *)r);
	w[7] = 0x77;
	EXPECT_EQ(0x77, r[7]);
	munmap(r, PG);
	munmap((void *)w, self->len[PAYLOAD]);
}

/* Moving is fine: the new address shows the same pages. */
TEST_F(map, mremap_move)
{
	struct ipcu_test_counters before, after;
	volatile unsigned char *w, *r;
	unsigned char *target, *q;
	size_t len = self->len[PAYLOAD];

	w = map_area(self, P, PAYLOAD, RW);
	r = map_area(self, C, PAYLOAD, RO);
	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(r != NULL);
	w[0] = 0x11;
	w[len - 1] = 0x22;

	target = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(target != MAP_FAILED);
	q = mremap((void *)r, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ASSERT_TRUE(q == target);
	EXPECT_EQ(0x11, q[0]);
	EXPECT_EQ(0x22, q[len - 1]);
	w[1] = 0x33;
	EXPECT_EQ(0x33, q[1]);
	/* The old range is gone. */
	EXPECT_EQ(-ENOMEM, msync((void *)r, PG, MS_ASYNC) ? -errno : 0);

	/* The writable side moves too, and its writes still arrive. */
	target = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(target != MAP_FAILED);
	w = mremap((void *)w, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ASSERT_TRUE(w == (void *)target);
	w[2] = 0x44;
	EXPECT_EQ(0x44, q[2]);
	EXPECT_EQ(0x33, w[1]);

	/* Moved mappings hold and release the channel like any other. */
	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	close(self->fd[P]);
	close(self->fd[C]);
	self->fd[P] = -1;
	self->fd[C] = -1;
	munmap(q, len);
	munmap((void *)w, len);
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels - 1, after.channels);
	EXPECT_EQ(before.endpoints - 2, after.endpoints);
}

/* Unmapping part of a mapping keeps the rest, and the role, alive. */
TEST_F(map, partial_munmap)
{
	volatile unsigned char *w = map_area(self, P, PAYLOAD, RW);
	unsigned char *whole = map_area(self, C, WHOLE, RO);
	struct ipcu_ep_info info;
	size_t pay = self->off[PAYLOAD];

	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(whole != NULL);
	close(self->fd[C]);
	self->fd[C] = -1;

	/* Punch out the descriptors and the second payload page. */
	ASSERT_EQ(0, munmap(whole + self->off[DESC], self->len[DESC]));
	ASSERT_EQ(0, munmap(whole + pay + PG, PG));
	w[0] = 0xa1;
	w[2 * PG] = 0xa2;
	EXPECT_EQ(0xa1, whole[pay]);
	EXPECT_EQ(0xa2, whole[pay + 2 * PG]);
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[P], &info));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, info.state);

	/* Piece by piece: the consumer leaves with its last page. */
	ASSERT_EQ(0, munmap(whole, self->off[DESC]));
	ASSERT_EQ(0, munmap(whole + pay, PG));
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[P], &info));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, info.state);
	EXPECT_EQ(0xa2, whole[pay + 2 * PG]);
	ASSERT_EQ(0, munmap(whole + pay + 2 * PG, self->len[PAYLOAD] - 2 * PG));
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[P], &info));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, info.state);
	munmap((void *)w, self->len[PAYLOAD]);
}

TEST_F(map, beyond_the_end)
{
	size_t end = self->info.map_bytes;
	void *p;

	p = mmap(NULL, end + PG, RO, MAP_SHARED, self->fd[C], 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PG, RO, MAP_SHARED, self->fd[C], end - PG);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[C], end);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[C], end + PG);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[P], 0x7fff0000);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	/* The last page itself is fine. */
	p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[C], end - PG);
	ASSERT_TRUE(p != MAP_FAILED);
	munmap(p, PG);
}

TEST_F(map, misaligned_offset)
{
	void *p = mmap(NULL, PG, RO, MAP_SHARED, self->fd[C], 8);

	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
}

/* Two mappings of one area, and mappings through both files, alias. */
TEST_F(map, aliases)
{
	volatile __u32 *w1 = map_area(self, P, DESC, RW);
	volatile __u32 *w2 = map_area(self, P, DESC, RW);
	volatile __u32 *r = map_area(self, C, DESC, RO);

	ASSERT_TRUE(w1 != NULL);
	ASSERT_TRUE(w2 != NULL);
	ASSERT_TRUE(r != NULL);
	w1[5] = 0xabcdef01;
	EXPECT_EQ(0xabcdef01, w2[5]);
	EXPECT_EQ(0xabcdef01, r[5]);
	w2[6] = 0x12345678;
	EXPECT_EQ(0x12345678, w1[6]);
	EXPECT_EQ(0x12345678, r[6]);
	munmap((void *)w1, self->len[DESC]);
	munmap((void *)w2, self->len[DESC]);
	munmap((void *)r, self->len[DESC]);
}

/* Fresh channels are zeroed. */
TEST_F(map, zeroed)
{
	unsigned char *p = map_area(self, C, WHOLE, RO);
	size_t i;

	ASSERT_TRUE(p != NULL);
	for (i = 0; i < self->len[WHOLE]; i++)
		if (p[i])
			break;
	EXPECT_EQ(self->len[WHOLE], i);
	munmap(p, self->len[WHOLE]);
}

/* Dropping the pages of a shared mapping loses nothing. */
TEST_F(map, madvise_dontneed)
{
	volatile unsigned char *w = map_area(self, P, PAYLOAD, RW);
	volatile unsigned char *r = map_area(self, C, PAYLOAD, RO);

	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(r != NULL);
	w[100] = 0x5c;
	EXPECT_EQ(0x5c, r[100]);
	ASSERT_EQ(0, madvise((void *)r, self->len[PAYLOAD], MADV_DONTNEED));
	EXPECT_EQ(0x5c, r[100]);
	ASSERT_EQ(0, madvise((void *)w, self->len[PAYLOAD], MADV_DONTNEED));
	EXPECT_EQ(0x5c, w[100]);
	w[101] = 0x5d;
	EXPECT_EQ(0x5d, r[101]);
	munmap((void *)w, self->len[PAYLOAD]);
	munmap((void *)r, self->len[PAYLOAD]);
}

/* The mappings keep the channel alive after both fds are closed. */
TEST_F(map, outlives_fds)
{
	struct ipcu_test_counters before, mid, after;
	volatile unsigned char *w, *r;

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	w = map_area(self, P, PAYLOAD, RW);
	r = map_area(self, C, PAYLOAD, RO);
	ASSERT_TRUE(w != NULL);
	ASSERT_TRUE(r != NULL);
	close(self->fd[P]);
	close(self->fd[C]);
	self->fd[P] = -1;
	self->fd[C] = -1;

	ASSERT_EQ(0, ipcu_test_counters_read(&mid));
	EXPECT_EQ(before.channels, mid.channels);
	EXPECT_EQ(before.pages, mid.pages);
	w[0] = 0x42;
	EXPECT_EQ(0x42, r[0]);

	munmap((void *)w, self->len[PAYLOAD]);
	EXPECT_EQ(0x42, r[0]);
	munmap((void *)r, self->len[PAYLOAD]);
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels - 1, after.channels);
	EXPECT_EQ(before.endpoints - 2, after.endpoints);
	EXPECT_LT(after.pages, before.pages);
}

/* ---- writes that must fault ------------------------------------------- */

/* Write one byte at @p in a child: its exit status (128 + signal if killed). */
static int child_write(volatile unsigned char *p, unsigned char v)
{
	pid_t pid = ipcu_test_fork();

	if (pid == 0) {
		*p = v;
		_exit(0);
	}
	return pid < 0 ? -1 : ipcu_test_reap(pid);
}

TEST_F(map, consumer_writes_payload)
{
	unsigned char *r = map_area(self, C, PAYLOAD, RO);
	unsigned char *w = map_area(self, P, PAYLOAD, RO);

	ASSERT_TRUE(r != NULL);
	ASSERT_TRUE(w != NULL);
	EXPECT_EQ(128 + SIGSEGV, child_write(r, 0xee));
	EXPECT_EQ(128 + SIGSEGV, child_write(r + self->len[PAYLOAD] - 1, 0xee));
	EXPECT_EQ(0, w[0]);
	munmap(r, self->len[PAYLOAD]);
	munmap(w, self->len[PAYLOAD]);
}

TEST_F(map, consumer_writes_producer_areas)
{
	unsigned char *whole = map_area(self, C, WHOLE, RO);

	ASSERT_TRUE(whole != NULL);
	EXPECT_EQ(128 + SIGSEGV, child_write(whole + self->off[PROD_CTRL], 1));
	EXPECT_EQ(128 + SIGSEGV, child_write(whole + self->off[DESC], 1));
	/* Its own control page, but through a read-only mapping. */
	EXPECT_EQ(128 + SIGSEGV, child_write(whole, 1));
	EXPECT_EQ(0, whole[self->off[PROD_CTRL]]);
	munmap(whole, self->len[WHOLE]);
}

TEST_F(map, consumer_writes_own_ctrl)
{
	volatile struct ipcu_cons_ctrl *mine = map_area(self, C, CONS_CTRL, RW);
	volatile struct ipcu_cons_ctrl *seen = map_area(self, P, CONS_CTRL, RO);

	ASSERT_TRUE(mine != NULL);
	ASSERT_TRUE(seen != NULL);
	mine->head = 3;
	mine->pay_head = 300;
	mine->flags = IPCU_NEED_WAKEUP;
	EXPECT_EQ(3, seen->head);
	EXPECT_EQ(300, seen->pay_head);
	EXPECT_EQ(IPCU_NEED_WAKEUP, seen->flags);
	/* From a child too. */
	EXPECT_EQ(0, child_write((volatile unsigned char *)&mine->pad, 9));
	EXPECT_EQ(9, seen->pad);
	munmap((void *)mine, PG);
	munmap((void *)seen, PG);
}

TEST_F(map, producer_writes_cons_ctrl)
{
	unsigned char *p = map_area(self, P, CONS_CTRL, RO);

	ASSERT_TRUE(p != NULL);
	EXPECT_EQ(128 + SIGSEGV, child_write(p, 1));
	EXPECT_EQ(0, p[0]);
	munmap(p, PG);
}

/*
 * ptrace-style forced writes (FOLL_FORCE through /proc/self/mem) must not
 * get around a read-only shared mapping either.
 */
TEST_F(map, proc_mem_write)
{
	unsigned char *r = map_area(self, C, PAYLOAD, RO);
	unsigned char *pc = map_area(self, P, CONS_CTRL, RO);
	unsigned char v = 0x99;
	int mem;

	ASSERT_TRUE(r != NULL);
	ASSERT_TRUE(pc != NULL);
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite64(mem, &v, 1, (off64_t)(uintptr_t)r));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pwrite64(mem, &v, 1, (off64_t)(uintptr_t)pc));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(0, pc[0]);
	/* Reading is fine. */
	EXPECT_EQ(1, pread64(mem, &v, 1, (off64_t)(uintptr_t)r));
	EXPECT_EQ(0, v);
	close(mem);
	munmap(r, self->len[PAYLOAD]);
	munmap(pc, PG);
}

/* process_vm_writev() into a read-only mapping fails the same way. */
TEST_F(map, process_vm_write)
{
	unsigned char *r = map_area(self, C, PAYLOAD, RO);
	unsigned char v = 0x98;
	struct iovec local = { .iov_base = &v, .iov_len = 1 };
	struct iovec remote;

	ASSERT_TRUE(r != NULL);
	remote.iov_base = r;
	remote.iov_len = 1;
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, r[0]);
	munmap(r, self->len[PAYLOAD]);
}

/* ---- fork ---------------------------------------------------------------- */

/* fork() shares the pages: writes cross in both directions. */
TEST_F(map, fork_shares_pages)
{
	volatile unsigned char *pw = map_area(self, P, PAYLOAD, RW);
	volatile unsigned char *cr = map_area(self, C, PAYLOAD, RO);
	volatile struct ipcu_cons_ctrl *cw = map_area(self, C, CONS_CTRL, RW);
	volatile struct ipcu_cons_ctrl *pr = map_area(self, P, CONS_CTRL, RO);
	int to_child[2], to_parent[2];
	char b = 0;
	pid_t pid;

	ASSERT_TRUE(pw != NULL);
	ASSERT_TRUE(cr != NULL);
	ASSERT_TRUE(cw != NULL);
	ASSERT_TRUE(pr != NULL);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pw[0] = 1;

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		IPCU_TEST_CHILD_CHECK(cr[0] == 1, "before fork");
		IPCU_TEST_CHILD_CHECK(read(to_child[0], &b, 1) == 1, "sync");
		/* The parent's producer write after the fork. */
		IPCU_TEST_CHILD_CHECK(cr[1] == 2, "parent's write: %d", cr[1]);
		IPCU_TEST_CHILD_CHECK(pr->head == 5, "parent's head: %u",
				      pr->head);
		/* The child writes as producer and as consumer. */
		pw[2] = 3;
		cw->pay_head = 6;
		IPCU_TEST_CHILD_CHECK(write(to_parent[1], &b, 1) == 1, "sync");
		_exit(0);
	}
	pw[1] = 2;
	cw->head = 5;
	ASSERT_EQ(1, write(to_child[1], &b, 1));
	ASSERT_EQ(1, read(to_parent[0], &b, 1));
	EXPECT_EQ(3, cr[2]);
	EXPECT_EQ(6, pr->pay_head);
	EXPECT_EQ(0, ipcu_test_reap(pid));
	/* The child's exit dropped nothing the parent uses. */
	pw[3] = 4;
	EXPECT_EQ(4, cr[3]);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* A forked consumer is still not allowed to write the payload. */
TEST_F(map, fork_consumer_writes_payload)
{
	volatile unsigned char *cr = map_area(self, C, PAYLOAD, RO);
	pid_t pid;

	ASSERT_TRUE(cr != NULL);
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* mprotect() in the child is refused as well. */
		IPCU_TEST_CHILD_CHECK(mprotect((void *)cr, PG, RW) == -1 &&
				      errno == EACCES, "mprotect");
		cr[0] = 1;
		_exit(0);
	}
	EXPECT_EQ(128 + SIGSEGV, ipcu_test_reap(pid));
	EXPECT_EQ(0, cr[0]);
}

/* The mapping survives the parent closing everything while a child maps. */
TEST_F(map, fork_child_keeps_role)
{
	volatile unsigned char *cr = map_area(self, C, PAYLOAD, RO);
	volatile unsigned char *pw = map_area(self, P, PAYLOAD, RW);
	struct ipcu_ep_info info;
	int sync_pipe[2];
	char b = 0;
	pid_t pid;

	ASSERT_TRUE(cr != NULL);
	ASSERT_TRUE(pw != NULL);
	ASSERT_EQ(0, pipe(sync_pipe));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Only the inherited mapping holds the consumer role here. */
		close(self->fd[C]);
		close(self->fd[P]);
		close(sync_pipe[1]);
		/* Wait until the parent has let go of the consumer. */
		IPCU_TEST_CHILD_CHECK(read(sync_pipe[0], &b, 1) == 0, "sync");
		IPCU_TEST_CHILD_CHECK(cr[0] == 7, "%d", cr[0]);
		_exit(0);
	}
	close(sync_pipe[0]);
	pw[0] = 7;
	close(self->fd[C]);
	self->fd[C] = -1;
	munmap((void *)cr, self->len[PAYLOAD]);
	/* The child's copy of the mapping still holds the consumer role. */
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[P], &info));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, info.state);
	close(sync_pipe[1]);
	EXPECT_EQ(0, ipcu_test_reap(pid));
	ASSERT_EQ(0, ipcu_test_ep_info(self->fd[P], &info));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, info.state);
	munmap((void *)pw, self->len[PAYLOAD]);
}

TEST_HARNESS_MAIN
