// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-on-write clones (IPCU_IOC_CLONE): isolation in both directions,
 * across processes and mappings that existed before the clone, chains of
 * clones, concurrent clones, clones of a channel's payload, exact
 * REGION_STATS counts, page accounting over many cycles, and sealed
 * snapshots.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define RW	(PROT_READ | PROT_WRITE)

FIXTURE(cow) {
	int dev;
	size_t pg;
	long pages;
	long regions;
};

FIXTURE_SETUP(cow)
{
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", IPCU_DEVICE_PATH,
				      strerror(errno));
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->pages = ipcu_test_stat("pages");
	self->regions = ipcu_test_stat("regions");
}

FIXTURE_TEARDOWN(cow)
{
	close(self->dev);
}

/* Every 32-bit word of page @i of @base holds @val. */
static void page_fill(void *base, size_t pg, size_t i, uint32_t val)
{
	ipcu_test_gen_fill((char *)base + i * pg, pg, val);
}

/* The value of page @i if all its words agree, else ~0. */
static uint32_t page_val(const void *base, size_t pg, size_t i)
{
	const uint32_t *w = (const uint32_t *)((const char *)base + i * pg);
	size_t k;

	for (k = 1; k < pg / 4; k++)
		if (w[k] != w[0])
			return ~0U;
	return w[0];
}

static struct ipcu_region_stats stats_of(int fd)
{
	struct ipcu_region_stats s;

	if (ipcu_test_region_stats(fd, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

/* A pipe-based step signal between a parent and a child. */
struct steps {
	int to_child[2];
	int to_parent[2];
};

static int steps_init(struct steps *s)
{
	return pipe(s->to_child) || pipe(s->to_parent) ? -1 : 0;
}

static int step_send(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : -1;
}

/* Wait for step @c: 0, or -1 on EOF or a wrong step. */
static int step_wait(int fd, char c)
{
	char got;

	return read(fd, &got, 1) == 1 && got == c ? 0 : -1;
}

TEST_F(cow, isolation_both_directions)
{
	const size_t n = 8;
	uint32_t *p, *p2, *q, *r;
	size_t i;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p2 = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p2 != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, 0x100 + i);

	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0x100 + i, page_val(q, self->pg, i));

	/* Source to clone: nothing goes across. */
	page_fill(p, self->pg, 0, 0x200);
	EXPECT_EQ(0x200, page_val(p2, self->pg, 0));
	EXPECT_EQ(0x100, page_val(q, self->pg, 0));
	/* Clone to source: nothing either. */
	page_fill(q, self->pg, 1, 0x301);
	EXPECT_EQ(0x101, page_val(p, self->pg, 1));
	EXPECT_EQ(0x101, page_val(p2, self->pg, 1));
	/* Both sides write the same page. */
	page_fill(q, self->pg, 0, 0x300);
	page_fill(p2, self->pg, 1, 0x201);
	EXPECT_EQ(0x200, page_val(p, self->pg, 0));
	EXPECT_EQ(0x201, page_val(p, self->pg, 1));
	EXPECT_EQ(0x300, page_val(q, self->pg, 0));
	EXPECT_EQ(0x301, page_val(q, self->pg, 1));
	/* A single word is enough to break the sharing. */
	p[2 * self->pg / 4 + 7] = 0xdead;
	EXPECT_EQ(0x102, q[2 * self->pg / 4 + 7]);
	EXPECT_EQ(0xdead, p2[2 * self->pg / 4 + 7]);

	/* New mappings see the same as the old ones. */
	r = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i < 2 ? 0x300 + i : 0x100 + i,
			  page_val(r, self->pg, i)) TH_LOG("clone page %zu", i);
	munmap(r, n * self->pg);
	r = ipcu_test_map(fd, n, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	for (i = 0; i < n; i++)
		if (i != 2)
			EXPECT_EQ(i < 2 ? 0x200 + i : 0x100 + i,
				  page_val(r, self->pg, i))
				TH_LOG("source page %zu", i);
	EXPECT_EQ(0xdead, r[2 * self->pg / 4 + 7]);
	munmap(r, n * self->pg);

	munmap(p, n * self->pg);
	munmap(p2, n * self->pg);
	munmap(q, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_F(cow, isolation_across_processes)
{
	const size_t n = 6;
	uint32_t *p, *q;
	size_t i;
	pid_t pid;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, 0x10 + i);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);

	/* A process that maps the source after the clone and writes it. */
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *m = ipcu_test_map(fd, n, RW, 0);

		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		page_fill(m, self->pg, 3, 0xa3);
		_exit(0);
	}
	ASSERT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(0xa3, page_val(p, self->pg, 3));
	EXPECT_EQ(0x13, page_val(q, self->pg, 3));

	/* A process that maps the clone and writes it. */
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *m = ipcu_test_map(c, n, RW, 0);

		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 3) == 0x13, "%x",
				      page_val(m, self->pg, 3));
		page_fill(m, self->pg, 4, 0xb4);
		page_fill(m, self->pg, 3, 0xb3);
		_exit(0);
	}
	ASSERT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(0xa3, page_val(p, self->pg, 3));
	EXPECT_EQ(0x14, page_val(p, self->pg, 4));
	EXPECT_EQ(0xb3, page_val(q, self->pg, 3));
	EXPECT_EQ(0xb4, page_val(q, self->pg, 4));

	/* A process that clones on its own and writes both. */
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int c2 = ipcu_test_clone(fd, 0);
		uint32_t *m;

		IPCU_TEST_CHILD_CHECK(c2 >= 0, "clone %d", c2);
		m = ipcu_test_map(c2, n, RW, 0);
		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		page_fill(m, self->pg, 5, 0xc5);
		page_fill(p, self->pg, 0, 0xc0);	/* inherited */
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 0) == 0x10, "%x",
				      page_val(m, self->pg, 0));
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 3) == 0xa3, "%x",
				      page_val(m, self->pg, 3));
		_exit(0);
	}
	ASSERT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(0xc0, page_val(p, self->pg, 0));
	EXPECT_EQ(0x15, page_val(p, self->pg, 5));
	EXPECT_EQ(0x10, page_val(q, self->pg, 0));
	EXPECT_EQ(0x15, page_val(q, self->pg, 5));

	munmap(p, n * self->pg);
	munmap(q, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/*
 * THREATS 2: a process that had the source mapped, and its page tables
 * filled, before the clone.  After the clone, whichever mapping writes,
 * every other mapping of the same object sees the new page and no mapping
 * of the other object ever does.
 */
TEST_F(cow, premapped_peer)
{
	const size_t n = 4;
	uint32_t *p, *q;
	struct steps st;
	size_t i;
	pid_t pid;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, 0x10 + i);
	ASSERT_EQ(0, steps_init(&st));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *m = ipcu_test_map(fd, n, RW, 0);

		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		/* Fill the page tables of both mappings, read-only. */
		for (i = 0; i < n; i++)
			IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, i) == 0x10 + i &&
					      page_val(p, self->pg, i) == 0x10 + i,
					      "page %zu", i);
		/* ...and make one page writable in both. */
		m[0] = 0x10;
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], 'r'), "send");

		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], 'c'), "wait");
		/* The parent cloned: write through the old mapping. */
		page_fill(m, self->pg, 1, 0xc1);
		m[0] = 0xc0;
		IPCU_TEST_CHILD_CHECK(page_val(p, self->pg, 1) == 0xc1, "%x",
				      page_val(p, self->pg, 1));
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], 'w'), "send");

		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], 'p'), "wait");
		/* The parent wrote page 2 and the clone's page 3. */
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 2) == 0xd2, "%x",
				      page_val(m, self->pg, 2));
		IPCU_TEST_CHILD_CHECK(page_val(p, self->pg, 2) == 0xd2, "%x",
				      page_val(p, self->pg, 2));
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 3) == 0x13, "%x",
				      page_val(m, self->pg, 3));
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(st.to_parent[0], 'r'));

	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	/* The clone's page tables point at the shared pages too. */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0x10 + i, page_val(q, self->pg, i));
	ASSERT_EQ(0, step_send(st.to_child[1], 'c'));

	ASSERT_EQ(0, step_wait(st.to_parent[0], 'w'));
	EXPECT_EQ(0xc1, page_val(p, self->pg, 1));
	EXPECT_EQ(0xc0, p[0]);
	EXPECT_EQ(0x11, page_val(q, self->pg, 1));
	EXPECT_EQ(0x10, page_val(q, self->pg, 0));

	page_fill(p, self->pg, 2, 0xd2);
	EXPECT_EQ(0x12, page_val(q, self->pg, 2));
	ASSERT_EQ(0, step_send(st.to_child[1], 'p'));
	EXPECT_EQ(0, ipcu_test_reap(pid));

	for (i = 0; i < n; i++)
		EXPECT_EQ(0x10 + i, page_val(q, self->pg, i))
			TH_LOG("clone page %zu changed", i);
	munmap(p, n * self->pg);
	munmap(q, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* The same with the roles swapped: the clone is the premapped side. */
TEST_F(cow, premapped_clone_peer)
{
	const size_t n = 3;
	uint32_t *p, *q;
	struct steps st;
	size_t i;
	pid_t pid;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, 0x20 + i);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	ASSERT_EQ(0, steps_init(&st));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *m = ipcu_test_map(c, n, PROT_READ, 0);

		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		for (i = 0; i < n; i++)
			IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, i) == 0x20 + i &&
					      page_val(q, self->pg, i) == 0x20 + i,
					      "page %zu", i);
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], 'r'), "send");
		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], 'w'), "wait");
		/* The source's write stays out, the clone's comes in. */
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 0) == 0x20, "%x",
				      page_val(m, self->pg, 0));
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 1) == 0xe1, "%x",
				      page_val(m, self->pg, 1));
		IPCU_TEST_CHILD_CHECK(page_val(q, self->pg, 1) == 0xe1, "%x",
				      page_val(q, self->pg, 1));
		/* And the inherited clone mapping writes for everyone. */
		page_fill(q, self->pg, 2, 0xe2);
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(st.to_parent[0], 'r'));
	page_fill(p, self->pg, 0, 0xf0);
	page_fill(q, self->pg, 1, 0xe1);
	ASSERT_EQ(0, step_send(st.to_child[1], 'w'));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(0xe2, page_val(q, self->pg, 2));
	EXPECT_EQ(0x22, page_val(p, self->pg, 2));
	EXPECT_EQ(0x21, page_val(p, self->pg, 1));
	EXPECT_EQ(0xf0, page_val(p, self->pg, 0));
	munmap(p, n * self->pg);
	munmap(q, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

#define CHAIN	16

TEST_F_TIMEOUT(cow, chain_of_clones, 180)
{
	const size_t n = CHAIN + 1;
	uint32_t *m[CHAIN + 1];
	int fd[CHAIN + 1];
	size_t i, k;

	fd[0] = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd[0]);
	m[0] = ipcu_test_map(fd[0], n, RW, 0);
	ASSERT_TRUE(m[0] != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(m[0], self->pg, i, 0x1000 + i);

	/* Each link clones the previous one and writes its own page. */
	for (k = 1; k <= CHAIN; k++) {
		fd[k] = ipcu_test_clone(fd[k - 1], 0);
		ASSERT_LE(0, fd[k]) TH_LOG("link %zu: %s", k, strerror(-fd[k]));
		m[k] = ipcu_test_map(fd[k], n, RW, 0);
		ASSERT_TRUE(m[k] != MAP_FAILED);
		page_fill(m[k], self->pg, k, 0x5000 + k);
	}
	for (k = 0; k <= CHAIN; k++)
		for (i = 0; i < n; i++)
			EXPECT_EQ(i >= 1 && i <= k ? 0x5000 + i : 0x1000 + i,
				  page_val(m[k], self->pg, i))
				TH_LOG("link %zu page %zu", k, i);
	for (k = 1; k <= CHAIN; k++) {
		struct ipcu_region_stats s = stats_of(fd[k]);

		EXPECT_EQ(1, s.cow_copies) TH_LOG("link %zu", k);
		EXPECT_EQ(n, s.private_pages + s.shared_pages);
	}

	/* The root rewrites everything; a middle link writes one page. */
	for (i = 0; i < n; i++)
		page_fill(m[0], self->pg, i, 0xdead);
	page_fill(m[CHAIN / 2], self->pg, CHAIN, 0xbeef);
	/* Page 1 was the root's alone once link 1 had copied it. */
	EXPECT_EQ(n - 1, stats_of(fd[0]).cow_copies);
	for (k = 1; k <= CHAIN; k++)
		for (i = 0; i < n; i++) {
			uint32_t want = i >= 1 && i <= k ? 0x5000 + i : 0x1000 + i;

			if (k == CHAIN / 2 && i == CHAIN)
				want = 0xbeef;
			EXPECT_EQ(want, page_val(m[k], self->pg, i))
				TH_LOG("link %zu page %zu", k, i);
		}

	/* Tear the chain down from the middle out; nothing moves. */
	for (k = CHAIN / 2; k <= CHAIN; k++) {
		munmap(m[k], n * self->pg);
		close(fd[k]);
	}
	for (k = 0; k < CHAIN / 2; k++) {
		for (i = 0; i < n; i++)
			EXPECT_EQ(k == 0 ? 0xdead :
				  i >= 1 && i <= k ? 0x5000 + i : 0x1000 + i,
				  page_val(m[k], self->pg, i));
		munmap(m[k], n * self->pg);
		close(fd[k]);
	}
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/* --- concurrent clones of a region being written --------------------------- */

#define CC_PAGES	16
#define CC_CLONES	24
#define CC_THREADS	3

struct cc_shared {
	int src;
	size_t pg;
	size_t len;
	uint32_t *wmap;
	volatile int stop;
	int failed;
	char why[128];
};

struct cc_clone {
	int fd;
	uint32_t *map;
	uint32_t csum;
};

static void cc_fail(struct cc_shared *sh, const char *why)
{
	if (!__atomic_exchange_n(&sh->failed, 1, __ATOMIC_SEQ_CST))
		snprintf(sh->why, sizeof(sh->why), "%s", why);
}

static void *cc_writer(void *arg)
{
	struct cc_shared *sh = arg;
	uint32_t gen = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		ipcu_test_gen_fill(sh->wmap, sh->len, ++gen);
	return NULL;
}

/* Take @nr clones, check each is a snapshot, remember its checksum. */
static void cc_clone_many(struct cc_shared *sh, struct cc_clone *cl, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		cl[i].fd = ipcu_test_clone(sh->src, i % 3 ? 0 : IPCU_CLONE_SEAL);
		if (cl[i].fd < 0) {
			cc_fail(sh, "clone");
			cl[i].map = MAP_FAILED;
			continue;
		}
		cl[i].map = mmap(NULL, sh->len, PROT_READ, MAP_SHARED,
				 cl[i].fd, 0);
		if (cl[i].map == MAP_FAILED) {
			cc_fail(sh, "map");
			continue;
		}
		if (ipcu_test_gen_check(cl[i].map, sh->len, NULL))
			cc_fail(sh, "a clone is not a snapshot");
		cl[i].csum = ipcu_test_csum(cl[i].map, sh->len);
	}
}

/* The clones never changed; then release them. */
static void cc_verify(struct cc_shared *sh, struct cc_clone *cl, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		if (cl[i].map == MAP_FAILED)
			continue;
		if (ipcu_test_csum(cl[i].map, sh->len) != cl[i].csum)
			cc_fail(sh, "a clone changed after it was taken");
		munmap(cl[i].map, sh->len);
		close(cl[i].fd);
	}
}

static void *cc_cloner(void *arg)
{
	struct cc_shared *sh = arg;
	struct cc_clone cl[CC_CLONES];

	cc_clone_many(sh, cl, CC_CLONES);
	/* Let the writer run on, then check nothing moved. */
	sched_yield();
	cc_verify(sh, cl, CC_CLONES);
	return NULL;
}

TEST_F_TIMEOUT(cow, concurrent_clones_threads, 180)
{
	struct cc_shared sh = { 0 };
	pthread_t w, t[CC_THREADS];
	int i;

	sh.pg = self->pg;
	sh.len = CC_PAGES * self->pg;
	sh.src = ipcu_test_region_create(self->dev, sh.len, NULL, 0);
	ASSERT_LE(0, sh.src);
	sh.wmap = ipcu_test_map(sh.src, CC_PAGES, RW, 0);
	ASSERT_TRUE(sh.wmap != MAP_FAILED);
	ASSERT_EQ(0, pthread_create(&w, NULL, cc_writer, &sh));
	for (i = 0; i < CC_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, cc_cloner, &sh));
	for (i = 0; i < CC_THREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	pthread_join(w, NULL);
	EXPECT_EQ(0, sh.failed) TH_LOG("%s", sh.why);
	EXPECT_EQ(0, ipcu_test_gen_check(sh.wmap, sh.len, NULL));
	munmap(sh.wmap, sh.len);
	close(sh.src);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

TEST_F_TIMEOUT(cow, concurrent_clones_processes, 180)
{
	struct cc_shared sh = { 0 };
	pid_t pid[CC_THREADS];
	pthread_t w;
	int i;

	sh.pg = self->pg;
	sh.len = CC_PAGES * self->pg;
	sh.src = ipcu_test_region_create(self->dev, sh.len, NULL, 0);
	ASSERT_LE(0, sh.src);
	sh.wmap = ipcu_test_map(sh.src, CC_PAGES, RW, 0);
	ASSERT_TRUE(sh.wmap != MAP_FAILED);
	ASSERT_EQ(0, pthread_create(&w, NULL, cc_writer, &sh));
	for (i = 0; i < CC_THREADS; i++) {
		pid[i] = ipcu_test_fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			struct cc_clone cl[CC_CLONES];

			/* The writer thread did not come along; the mapping did. */
			sh.failed = 0;
			cc_clone_many(&sh, cl, CC_CLONES);
			cc_verify(&sh, cl, CC_CLONES);
			IPCU_TEST_CHILD_CHECK(!sh.failed, "%s", sh.why);
			_exit(0);
		}
	}
	for (i = 0; i < CC_THREADS; i++)
		EXPECT_EQ(0, ipcu_test_reap(pid[i])) TH_LOG("cloner %d", i);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	pthread_join(w, NULL);
	EXPECT_EQ(0, ipcu_test_gen_check(sh.wmap, sh.len, NULL));
	munmap(sh.wmap, sh.len);
	close(sh.src);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/* --- channels -------------------------------------------------------------- */

TEST_F_TIMEOUT(cow, clone_channel_payload, 180)
{
	uint32_t *m;
	const size_t pay_pages = 16;
	struct cc_shared sh = { 0 };
	struct ipcu_ep_info info;
	struct cc_clone cl[CC_CLONES];
	uint32_t *cons_pay;
	int prod, cons, i;
	pthread_t w;

	prod = ipcu_test_create(self->dev, 16, 256, pay_pages * self->pg, NULL,
				0, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	cons = ipcu_test_peer(prod);
	ASSERT_LE(0, cons);
	ASSERT_EQ(0, ipcu_test_ep_info(prod, &info));
	sh.pg = self->pg;
	sh.len = info.payload_bytes;
	sh.src = prod;
	sh.wmap = mmap(NULL, sh.len, RW, MAP_SHARED, prod,
		       (off_t)info.payload_off);
	ASSERT_TRUE(sh.wmap != MAP_FAILED);
	cons_pay = mmap(NULL, sh.len, PROT_READ, MAP_SHARED, cons,
			(off_t)info.payload_off);
	ASSERT_TRUE(cons_pay != MAP_FAILED);
	ipcu_test_gen_fill(sh.wmap, sh.len, 1);

	/* The producer keeps writing while the payload is cloned. */
	ASSERT_EQ(0, pthread_create(&w, NULL, cc_writer, &sh));
	cc_clone_many(&sh, cl, CC_CLONES / 2);
	/* From the consumer's endpoint too. */
	sh.src = cons;
	cc_clone_many(&sh, cl + CC_CLONES / 2, CC_CLONES - CC_CLONES / 2);
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELAXED);
	pthread_join(w, NULL);
	for (i = 0; i < CC_CLONES; i++) {
		struct ipcu_region_stats s = stats_of(cl[i].fd);

		EXPECT_EQ(info.payload_bytes, s.size);
		EXPECT_EQ(pay_pages, s.private_pages + s.shared_pages);
	}
	/* Both endpoints still share every payload page. */
	EXPECT_EQ(0, memcmp(sh.wmap, cons_pay, sh.len));
	ipcu_test_gen_fill(sh.wmap, sh.len, 0xfeed);
	EXPECT_EQ(0xfeed, page_val(cons_pay, self->pg, pay_pages - 1));
	EXPECT_EQ(0xfeed, page_val(cons_pay, self->pg, 0));
	cc_verify(&sh, cl, CC_CLONES);
	EXPECT_EQ(0, sh.failed) TH_LOG("%s", sh.why);

	/* A payload clone is a region like any other. */
	i = ipcu_test_clone(prod, 0);
	ASSERT_LE(0, i);
	m = ipcu_test_map(i, pay_pages, RW, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_EQ(0xfeed, page_val(m, self->pg, 3));
	page_fill(m, self->pg, 3, 0xc10e);
	EXPECT_EQ(0xfeed, page_val(sh.wmap, self->pg, 3));
	EXPECT_EQ(0xfeed, page_val(cons_pay, self->pg, 3));
	page_fill(sh.wmap, self->pg, 4, 0xabcd);
	EXPECT_EQ(0xfeed, page_val(m, self->pg, 4));
	EXPECT_EQ(0xabcd, page_val(cons_pay, self->pg, 4));
	munmap(m, sh.len);
	close(i);
	munmap(sh.wmap, sh.len);
	munmap(cons_pay, sh.len);
	close(cons);
	close(prod);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

TEST_F(cow, clone_channel_messages)
{
	const size_t pay = 2 * self->pg;
	struct ipcu_ep prod, cons;
	size_t off[4], len[4];
	unsigned char *m;
	const void *buf;
	__u32 tag;
	int c, i;

	ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, 8, 512, pay));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ipcu_test_put(&prod, i, 300 + i));
	ASSERT_EQ(0, ipcu_flush(&prod));
	/* The snapshot holds the messages' bytes where the ring put them. */
	c = ipcu_test_clone(prod.fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, c);
	m = ipcu_test_map(c, pay / self->pg, PROT_READ, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, ipcu_peek(&cons, &buf, &len[i], &tag));
		ASSERT_EQ(i, tag);
		off[i] = (size_t)((const unsigned char *)buf - cons.payload);
		ASSERT_GT(pay, off[i]);
		EXPECT_EQ(0, memcmp(buf, m + off[i], len[i]));
		ASSERT_EQ(0, ipcu_release(&cons));
	}
	ASSERT_EQ(0, ipcu_flush(&cons));
	/* Later messages go round the payload area, not into the snapshot. */
	for (i = 4; i < 40; i++) {
		ASSERT_EQ(0, ipcu_test_put(&prod, i, 300));
		ASSERT_EQ(0, ipcu_flush(&prod));
		ASSERT_EQ(0, ipcu_test_get(&cons, i));
		ASSERT_EQ(0, ipcu_flush(&cons));
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, ipcu_test_msg_check(m + off[i], len[i], i))
			TH_LOG("message %d", i);
	EXPECT_EQ(0, stats_of(c).shared_pages);
	munmap(m, pay);
	close(c);
	ipcu_ep_close(&prod);
	ipcu_ep_close(&cons);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* --- REGION_STATS ------------------------------------------------------- */

TEST_F(cow, stats_exact)
{
	int c2;
	const size_t n = 16;
	struct ipcu_region_stats s;
	uint32_t *p, *q;
	size_t i;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, (uint32_t)i);
	s = stats_of(fd);
	EXPECT_EQ(n, s.private_pages);
	EXPECT_EQ(0, s.shared_pages);
	EXPECT_EQ(0, s.cow_copies);
	EXPECT_EQ(1, s.writable_maps);
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));

	/* A clone shares every page; nothing is copied. */
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	s = stats_of(fd);
	EXPECT_EQ(0, s.private_pages);
	EXPECT_EQ(n, s.shared_pages);
	EXPECT_EQ(0, s.cow_copies);
	s = stats_of(c);
	EXPECT_EQ(0, s.private_pages);
	EXPECT_EQ(n, s.shared_pages);
	EXPECT_EQ(0, s.cow_copies);
	EXPECT_EQ(0, s.writable_maps);
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));

	/* Three source writes: three copies for the source. */
	for (i = 0; i < 3; i++)
		p[i * self->pg / 4] = 0x1000;
	s = stats_of(fd);
	EXPECT_EQ(3, s.cow_copies);
	EXPECT_EQ(3, s.private_pages);
	EXPECT_EQ(13, s.shared_pages);
	/* The clone is now the only owner of the three old pages. */
	s = stats_of(c);
	EXPECT_EQ(0, s.cow_copies);
	EXPECT_EQ(3, s.private_pages);
	EXPECT_EQ(13, s.shared_pages);
	EXPECT_EQ(self->pages + (long)n + 3, ipcu_test_stat("pages"));

	/* Writing again where it already copied copies nothing. */
	for (i = 0; i < 3; i++)
		p[i * self->pg / 4 + 1] = 0x1001;
	EXPECT_EQ(3, stats_of(fd).cow_copies);

	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(1, stats_of(c).writable_maps);
	/* The clone writes pages it owns alone: no copy. */
	q[0] = 0x2000;
	q[self->pg / 4] = 0x2000;
	/* ...and two it still shares: two copies. */
	q[10 * self->pg / 4] = 0x2000;
	q[11 * self->pg / 4] = 0x2000;
	s = stats_of(c);
	EXPECT_EQ(2, s.cow_copies);
	EXPECT_EQ(5, s.private_pages);
	EXPECT_EQ(11, s.shared_pages);
	s = stats_of(fd);
	EXPECT_EQ(3, s.cow_copies);
	EXPECT_EQ(5, s.private_pages);
	EXPECT_EQ(11, s.shared_pages);
	EXPECT_EQ(self->pages + (long)n + 5, ipcu_test_stat("pages"));

	/* A clone of the clone: shares everything with it. */
	c2 = ipcu_test_clone(c, IPCU_CLONE_SEAL);
	ASSERT_LE(0, c2);
	s = stats_of(c2);
	EXPECT_EQ(0, s.private_pages);
	EXPECT_EQ(n, s.shared_pages);
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);
	s = stats_of(c);
	EXPECT_EQ(0, s.private_pages);
	EXPECT_EQ(n, s.shared_pages);
	/* The source's private pages were not touched by that. */
	EXPECT_EQ(5, stats_of(fd).private_pages);
	close(c2);
	EXPECT_EQ(5, stats_of(c).private_pages);

	/* Closing the clone frees exactly what only it held. */
	munmap(q, n * self->pg);
	close(c);
	s = stats_of(fd);
	EXPECT_EQ(n, s.private_pages);
	EXPECT_EQ(0, s.shared_pages);
	EXPECT_EQ(3, s.cow_copies);
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));
	/* Content survived all of it. */
	for (i = 0; i < n; i++)
		EXPECT_EQ(i < 3 ? 0x1000 : (uint32_t)i, p[i * self->pg / 4]);
	munmap(p, n * self->pg);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_F(cow, reads_never_copy)
{
	const size_t n = 8;
	volatile uint32_t *p, *q, *r;
	uint32_t sum = 0;
	size_t i;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n * self->pg / 4; i++)
		p[i] = (uint32_t)i;
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	r = ipcu_test_map(fd, n, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	/* Read everything through writable and read-only mappings. */
	for (i = 0; i < n * self->pg / 4; i++)
		sum += p[i] + q[i] + r[i];
	ASSERT_EQ(0, madvise((void *)p, n * self->pg, MADV_DONTNEED));
	for (i = 0; i < n * self->pg / 4; i += 1024)
		sum += p[i] + q[i];
	EXPECT_NE(0, sum);
	EXPECT_EQ(0, stats_of(fd).cow_copies);
	EXPECT_EQ(0, stats_of(c).cow_copies);
	EXPECT_EQ(n, stats_of(fd).shared_pages);
	EXPECT_EQ(n, stats_of(c).shared_pages);
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));
	munmap((void *)p, n * self->pg);
	munmap((void *)q, n * self->pg);
	munmap((void *)r, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_F(cow, clone_untouched_pages)
{
	volatile uint32_t *em, *ecm;
	int e, ec;

	e = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, e);
	em = ipcu_test_map(e, 4, RW, 0);
	ASSERT_TRUE(em != MAP_FAILED);
	em[0] = 1;	/* page 0 only */
	ec = ipcu_test_clone(e, 0);
	ASSERT_LE(0, ec);
	ecm = ipcu_test_map(ec, 4, RW, 0);
	ASSERT_TRUE(ecm != MAP_FAILED);
	EXPECT_EQ(1, stats_of(ec).shared_pages);
	EXPECT_EQ(0, stats_of(ec).private_pages);
	/* A page never touched before the clone is zero on both sides. */
	EXPECT_EQ(0, ecm[self->pg / 4]);
	ecm[2 * self->pg / 4] = 2;
	em[3 * self->pg / 4] = 3;
	EXPECT_EQ(0, em[2 * self->pg / 4]);
	EXPECT_EQ(0, ecm[3 * self->pg / 4]);
	EXPECT_EQ(0, stats_of(ec).cow_copies);
	EXPECT_EQ(0, stats_of(e).cow_copies);
	EXPECT_EQ(3, stats_of(ec).private_pages);	/* pages 1-3 */
	EXPECT_EQ(2, stats_of(e).private_pages);	/* pages 2, 3 */
	EXPECT_EQ(1, stats_of(e).shared_pages);
	munmap((void *)ecm, 4 * self->pg);
	munmap((void *)em, 4 * self->pg);
	close(ec);
	close(e);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* --- fork ------------------------------------------------------------------ */

TEST_F(cow, fork_then_clone_and_write)
{
	uint32_t *q;
	const size_t n = 4;
	uint32_t *p;
	struct steps st;
	size_t i;
	pid_t pid;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < n; i++)
		page_fill(p, self->pg, i, 0x40 + i);
	ASSERT_EQ(0, steps_init(&st));

	/* Parent and child share the mapping of the same region. */
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *cm;
		int cc = ipcu_test_clone(fd, 0);

		IPCU_TEST_CHILD_CHECK(cc >= 0, "clone %d", cc);
		cm = ipcu_test_map(cc, n, RW, 0);
		IPCU_TEST_CHILD_CHECK(cm != MAP_FAILED, "map");
		/* The child writes the region through the inherited mapping. */
		page_fill(p, self->pg, 0, 0xa0);
		IPCU_TEST_CHILD_CHECK(page_val(cm, self->pg, 0) == 0x40, "%x",
				      page_val(cm, self->pg, 0));
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], '1'), "send");
		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], '2'), "wait");
		/* The parent wrote page 1 of the region and cloned it. */
		IPCU_TEST_CHILD_CHECK(page_val(p, self->pg, 1) == 0xb1, "%x",
				      page_val(p, self->pg, 1));
		IPCU_TEST_CHILD_CHECK(page_val(cm, self->pg, 1) == 0x41, "%x",
				      page_val(cm, self->pg, 1));
		/* The child's clone writes stay in it. */
		page_fill(cm, self->pg, 2, 0xc2);
		IPCU_TEST_CHILD_CHECK(page_val(p, self->pg, 2) == 0x42, "%x",
				      page_val(p, self->pg, 2));
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], '3'), "send");
		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], '4'), "wait");
		IPCU_TEST_CHILD_CHECK(page_val(p, self->pg, 3) == 0xd3, "%x",
				      page_val(p, self->pg, 3));
		IPCU_TEST_CHILD_CHECK(page_val(cm, self->pg, 3) == 0x43, "%x",
				      page_val(cm, self->pg, 3));
		IPCU_TEST_CHILD_CHECK(page_val(cm, self->pg, 2) == 0xc2, "%x",
				      page_val(cm, self->pg, 2));
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(st.to_parent[0], '1'));
	EXPECT_EQ(0xa0, page_val(p, self->pg, 0));
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	page_fill(p, self->pg, 1, 0xb1);
	ASSERT_EQ(0, step_send(st.to_child[1], '2'));
	ASSERT_EQ(0, step_wait(st.to_parent[0], '3'));
	EXPECT_EQ(0x42, page_val(p, self->pg, 2));
	page_fill(p, self->pg, 3, 0xd3);
	ASSERT_EQ(0, step_send(st.to_child[1], '4'));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0xa0, page_val(q, self->pg, 0));
	EXPECT_EQ(0x41, page_val(q, self->pg, 1));
	EXPECT_EQ(0x42, page_val(q, self->pg, 2));
	EXPECT_EQ(0x43, page_val(q, self->pg, 3));
	munmap(q, n * self->pg);
	munmap(p, n * self->pg);
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/* --- writes that do not come from the CPU through a PTE ------------------- */

TEST_F(cow, kernel_writes_break_cow)
{
	const size_t n = 4;
	uint32_t *p, *q, buf[4] = { 0xa, 0xb, 0xc, 0xd };
	struct iovec local, remote;
	int fd, c, mem, pfd[2];

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, n * self->pg, 0x77);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);

	/* /proc/self/mem: get_user_pages() with FOLL_WRITE. */
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	ASSERT_EQ(sizeof(buf), pwrite64(mem, buf, sizeof(buf),
					(off64_t)(uintptr_t)p));
	EXPECT_EQ(0xa, p[0]);
	EXPECT_EQ(0x77, q[0]);
	close(mem);

	/* process_vm_writev(): pin_user_pages_remote(). */
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = p + self->pg / 4;
	remote.iov_len = sizeof(buf);
	ASSERT_EQ(sizeof(buf), process_vm_writev(getpid(), &local, 1,
						 &remote, 1, 0));
	EXPECT_EQ(0xb, p[self->pg / 4 + 1]);
	EXPECT_EQ(0x77, q[self->pg / 4 + 1]);

	/* read() from a pipe: copy_to_user() faults on the way. */
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(sizeof(buf), write(pfd[1], buf, sizeof(buf)));
	ASSERT_EQ(sizeof(buf), read(pfd[0], p + 2 * self->pg / 4, sizeof(buf)));
	EXPECT_EQ(0xc, p[2 * self->pg / 4 + 2]);
	EXPECT_EQ(0x77, q[2 * self->pg / 4 + 2]);
	close(pfd[0]);
	close(pfd[1]);

	EXPECT_EQ(3, stats_of(fd).cow_copies);
	EXPECT_EQ(0, ipcu_test_gen_check(q, n * self->pg, NULL));
	EXPECT_EQ(0x77, page_val(q, self->pg, 3));
	munmap(p, n * self->pg);
	munmap(q, n * self->pg);
	close(c);
	close(fd);
}

/* --- page accounting ------------------------------------------------------- */

/*
 * Free memory plus slab memory, in kB.  Freed slab objects can be held back
 * in slab pages (KASAN's quarantine on a debug kernel holds megabytes of
 * them), so MemFree alone drifts; a leaked page is in neither.
 */
static long mem_free_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long kb, free_kb = -1, slab_kb = -1;
	char line[128];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			free_kb = kb;
		else if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			slab_kb = kb;
	}
	fclose(f);
	return free_kb < 0 || slab_kb < 0 ? -1 : free_kb + slab_kb;
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd >= 0) {
		ssize_t ret = write(fd, "3", 1);

		(void)ret;	/* best effort */
		close(fd);
	}
}

/*
 * Enough cycles that a leak of one page per cycle (8 MB with 4 kB pages)
 * stands well clear of the noise of a debug kernel, whose KASAN quarantine
 * and kmemleak metadata move MemFree+Slab by up to 1.3 MB over 500 cycles.
 */
#define CYCLES	2000

static int one_cycle(int dev, int src, uint32_t *p, size_t n, size_t pg,
		     unsigned int i)
{
	uint32_t *q;
	int c, extra = -1;

	c = ipcu_test_clone(src, i % 5 ? 0 : IPCU_CLONE_SEAL);
	if (c < 0)
		return c;
	q = mmap(NULL, n * pg, i % 5 ? RW : PROT_READ, MAP_SHARED, c, 0);
	if (q == MAP_FAILED) {
		close(c);
		return -1;
	}
	if (i % 5) {
		/* Two copies in the clone. */
		q[(i % n) * pg / 4] = i;
		q[((i + 5) % n) * pg / 4] = i;
	} else if (q[(i % n) * pg / 4] == 0xffffffff) {
		return -2;
	}
	/* One in the source, which the clone's close frees. */
	p[((i + 7) % n) * pg / 4] = i;
	if (i % 10 == 0) {
		/* Regions come and go too, and so does a clone of a clone. */
		extra = ipcu_test_region_create(dev, 2 * pg, NULL, 0);
		if (extra >= 0) {
			int cc = ipcu_test_clone(c, 0);

			if (cc >= 0)
				close(cc);
			close(extra);
		}
	}
	munmap(q, n * pg);
	close(c);
	return 0;
}

TEST_F_TIMEOUT(cow, page_accounting_cycles, 600)
{
	const size_t n = 16;
	long free0, free1, drift_kb;
	unsigned int i;
	uint32_t *p;
	int fd;

	if (self->pages < 0)
		SKIP(return, "no /sys/kernel/debug/ipcunit/stats");
	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, n * self->pg, 1);
	/* Warm up caches and per-CPU page lists before measuring. */
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, one_cycle(self->dev, fd, p, n, self->pg, i));
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));
	drop_caches();
	free0 = mem_free_kb();
	ASSERT_LT(0, free0);

	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, one_cycle(self->dev, fd, p, n, self->pg, i))
			TH_LOG("cycle %u", i);
		if (i % 100 == 99)
			ASSERT_EQ(self->pages + (long)n, ipcu_test_stat("pages"))
				TH_LOG("cycle %u", i);
	}
	EXPECT_EQ(self->pages + (long)n, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions + 1, ipcu_test_stat("regions"));
	EXPECT_EQ(n, stats_of(fd).private_pages);
	EXPECT_EQ(50 + CYCLES, stats_of(fd).cow_copies);
	drop_caches();
	free1 = mem_free_kb();
	ASSERT_LT(0, free1);
	/*
	 * Each cycle allocates three pages and must free them all.  A leak of
	 * one page per cycle would be CYCLES pages; allow half of that for
	 * the rest of the system.
	 */
	drift_kb = free0 - free1;
	TH_LOG("MemFree+Slab %ld kB -> %ld kB over %d cycles", free0, free1,
	       CYCLES);
	EXPECT_GT((long)(CYCLES / 2 * self->pg / 1024), drift_kb);
	munmap(p, n * self->pg);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/* --- sealed snapshots ------------------------------------------------------ */

TEST_F(cow, sealed_snapshot_for_a_reader)
{
	const size_t n = 4;
	struct ipcu_region_stats s;
	struct steps st;
	uint32_t *p;
	pid_t pid;
	int fd, snap;

	fd = ipcu_test_region_create(self->dev, n * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, n * self->pg, 0x51);
	snap = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, snap);
	ASSERT_EQ(0, steps_init(&st));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t *m, *w;
		int c2;

		close(fd);
		munmap(p, n * self->pg);
		/* The consumer can only read, for good. */
		IPCU_TEST_CHILD_CHECK(ipcu_test_map(snap, n, RW, 0) == MAP_FAILED &&
				      errno == EPERM, "rw map");
		m = ipcu_test_map(snap, n, PROT_READ, 0);
		IPCU_TEST_CHILD_CHECK(m != MAP_FAILED, "map");
		IPCU_TEST_CHILD_CHECK(mprotect(m, n * self->pg, RW) == -1 &&
				      errno == EACCES, "mprotect");
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 0) == 0x51, "%x",
				      page_val(m, self->pg, 0));
		IPCU_TEST_CHILD_CHECK(!step_send(st.to_parent[1], 'm'), "send");
		IPCU_TEST_CHILD_CHECK(!step_wait(st.to_child[0], 'w'), "wait");
		/* The producer rewrote its region meanwhile. */
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 0) == 0x51 &&
				      page_val(m, self->pg, n - 1) == 0x51,
				      "snapshot moved");
		IPCU_TEST_CHILD_CHECK(ipcu_test_seal(snap, 0) == 0, "seal");
		/* A writable working copy of the snapshot. */
		c2 = ipcu_test_clone(snap, 0);
		IPCU_TEST_CHILD_CHECK(c2 >= 0, "clone %d", c2);
		w = ipcu_test_map(c2, n, RW, 0);
		IPCU_TEST_CHILD_CHECK(w != MAP_FAILED, "map");
		page_fill(w, self->pg, 1, 0x99);
		IPCU_TEST_CHILD_CHECK(page_val(m, self->pg, 1) == 0x51, "%x",
				      page_val(m, self->pg, 1));
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(st.to_parent[0], 'm'));
	ipcu_test_gen_fill(p, n * self->pg, 0x52);
	ASSERT_EQ(0, step_send(st.to_child[1], 'w'));
	EXPECT_EQ(0, ipcu_test_reap(pid));

	s = stats_of(snap);
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);
	EXPECT_EQ(0, s.cow_copies);
	EXPECT_EQ(0, s.writable_maps);
	EXPECT_EQ(n, s.private_pages);	/* the source copied them all */
	EXPECT_EQ(n, stats_of(fd).cow_copies);
	EXPECT_EQ(0x52, page_val(p, self->pg, 2));
	munmap(p, n * self->pg);
	close(snap);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_HARNESS_MAIN
