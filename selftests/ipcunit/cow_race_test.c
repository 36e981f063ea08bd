// SPDX-License-Identifier: GPL-2.0
/*
 * Races around copy-on-write (THREATS 1 and 2, Dirty COW style): writers
 * through several mappings, processes and get_user_pages(), MADV_DONTNEED
 * and readers hammer a region while it is cloned over and over.  Every
 * clone must be an instantaneous snapshot and never change afterwards;
 * readers must never see a page older than what the writers completed.
 * And writes through /proc/self/mem, process_vm_writev() or ptrace() into
 * read-only mappings (sealed or not) must fail and change nothing.
 *
 * Everything runs a fixed number of iterations, not for a fixed time.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define RW	(PROT_READ | PROT_WRITE)

/*
 * The region's pages belong to writers, each with its own way in:
 *   set 0, pages  0..5:  a thread storing through mapping m1;
 *   set 1, pages  6..10: a thread storing through mapping m2;
 *   set 2, pages 11..13: a thread writing through /proc/self/mem (GUP);
 *   set 3, pages 14..15: a child process storing through its own mapping.
 */
#define NPAGES		16
#define NSETS		4
#define CLONES		160

static const unsigned int set_first[NSETS + 1] = { 0, 6, 11, 14, NPAGES };

struct race {
	int src;
	size_t pg;
	size_t len;
	uint32_t *m1, *m2, *mr;
	int mem;
	/* Shared with the child: MAP_SHARED | MAP_ANONYMOUS. */
	struct race_shared {
		uint32_t done[NSETS];	/* completed generations */
		int stop;
		int failed;
		char why[160];
	} *sh;
	uint64_t reads;
};

static void race_fail(struct race *r, const char *fmt, unsigned int a,
		      unsigned int b)
{
	if (!__atomic_exchange_n(&r->sh->failed, 1, __ATOMIC_SEQ_CST))
		snprintf(r->sh->why, sizeof(r->sh->why), fmt, a, b);
}

static int stopping(struct race *r)
{
	return __atomic_load_n(&r->sh->stop, __ATOMIC_ACQUIRE);
}

static void *set_addr(void *base, size_t pg, int set)
{
	return (char *)base + set_first[set] * pg;
}

static size_t set_len(size_t pg, int set)
{
	return (set_first[set + 1] - set_first[set]) * pg;
}

/* Sets 0, 1 and 3: plain stores, word by word, in ascending order. */
static void store_writer(struct race *r, uint32_t *map, int set)
{
	uint32_t gen = 0;

	while (!stopping(r)) {
		ipcu_test_gen_fill(set_addr(map, r->pg, set), set_len(r->pg, set),
				   ++gen);
		__atomic_store_n(&r->sh->done[set], gen, __ATOMIC_RELEASE);
	}
}

static void *writer0(void *arg)
{
	struct race *r = arg;

	store_writer(r, r->m1, 0);
	return NULL;
}

static void *writer1(void *arg)
{
	struct race *r = arg;

	store_writer(r, r->m2, 1);
	return NULL;
}

/* Set 2: one page per pwrite() to /proc/self/mem, in ascending order. */
static void *writer2(void *arg)
{
	struct race *r = arg;
	uint32_t gen = 0, *page = malloc(r->pg);
	unsigned int i;

	if (!page) {
		race_fail(r, "malloc", 0, 0);
		return NULL;
	}
	while (!stopping(r)) {
		gen++;
		ipcu_test_gen_fill(page, r->pg, gen);
		for (i = set_first[2]; i < set_first[3]; i++) {
			uint32_t *at = (uint32_t *)((char *)r->m1 + i * r->pg);

			if (pwrite64(r->mem, page, r->pg, (off64_t)(uintptr_t)at) !=
			    (ssize_t)r->pg) {
				race_fail(r, "pwrite /proc/self/mem page %u: errno %u",
					  i, errno);
				free(page);
				return NULL;
			}
		}
		__atomic_store_n(&r->sh->done[2], gen, __ATOMIC_RELEASE);
	}
	free(page);
	return NULL;
}

/* Drop the page tables of every mapping, again and again. */
static void *dontneed(void *arg)
{
	struct race *r = arg;

	while (!stopping(r)) {
		madvise(r->m1, r->len, MADV_DONTNEED);
		madvise(r->m2, r->len, MADV_DONTNEED);
		madvise(r->mr, r->len, MADV_DONTNEED);
		sched_yield();
	}
	return NULL;
}

/*
 * Readers: a word read after a writer published generation g holds at
 * least g (no stale page behind any mapping) and at most what the writer
 * published after the read, plus the pass in progress.
 */
static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned int round = 0, i;
	int set;

	while (!stopping(r)) {
		const uint32_t *base = round++ & 1 ? r->mr : r->m1;

		for (set = 0; set < NSETS; set++) {
			for (i = set_first[set]; i < set_first[set + 1]; i++) {
				const uint32_t *w = (const uint32_t *)
					((const char *)base + i * r->pg);
				uint32_t before, after, v;
				size_t k = (i * 131 + round * 17) % (r->pg / 4);

				before = __atomic_load_n(&r->sh->done[set],
							 __ATOMIC_ACQUIRE);
				v = __atomic_load_n(&w[k], __ATOMIC_ACQUIRE);
				after = __atomic_load_n(&r->sh->done[set],
							__ATOMIC_ACQUIRE);
				if (v < before || v > after + 1)
					race_fail(r, "page %u read a stale or bogus generation %u",
						  i, v);
				r->reads++;
			}
		}
	}
	return NULL;
}

/*
 * Set 2's pages are written one whole page at a time, in no particular
 * order within a page: a snapshot is some pages of generation g + 1, at
 * most one page in the middle of being written, then pages of generation g.
 */
static int gen_check_pages(const uint32_t *base, size_t pg, unsigned int first,
			   unsigned int end)
{
	const uint32_t *w = base + first * pg / 4;
	size_t k, words = (end - first) * pg / 4, per = pg / 4;
	uint32_t lo = w[0], hi = w[0];
	int mixed_seen = 0, lo_seen = 0;
	unsigned int i;

	for (k = 1; k < words; k++) {
		if (w[k] < lo)
			lo = w[k];
		if (w[k] > hi)
			hi = w[k];
	}
	if (hi - lo > 1)
		return -1;
	if (hi == lo)
		return 0;
	for (i = 0; i < end - first; i++) {
		size_t his = 0;

		for (k = 0; k < per; k++)
			his += w[i * per + k] == hi;
		if (his && his < per) {
			if (mixed_seen || lo_seen)
				return -1;
			mixed_seen = 1;
		} else if (!his) {
			lo_seen = 1;
		} else if (lo_seen || mixed_seen) {
			return -1;
		}
	}
	return 0;
}

/* 0 if @map is an instantaneous snapshot of the writers' pages. */
static int snapshot_check(const uint32_t *map, size_t pg)
{
	int set;

	for (set = 0; set < NSETS; set++) {
		if (set == 2) {
			if (gen_check_pages(map, pg, set_first[2], set_first[3]))
				return set + 1;
		} else if (ipcu_test_gen_check(set_addr((void *)map, pg, set),
					       set_len(pg, set), NULL)) {
			return set + 1;
		}
	}
	return 0;
}

static uint64_t stats_of_cow(int fd)
{
	struct ipcu_region_stats s;

	return ipcu_test_region_stats(fd, &s) ? ~0ULL : s.cow_copies;
}

struct snap {
	int fd;
	uint32_t *map;
	uint32_t csum;
	int sealed;
};

FIXTURE(race) {
	int dev;
	size_t pg;
	long pages;
	long regions;
};

FIXTURE_SETUP(race)
{
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev);
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->pages = ipcu_test_stat("pages");
	self->regions = ipcu_test_stat("regions");
}

FIXTURE_TEARDOWN(race)
{
	close(self->dev);
}

TEST_F_TIMEOUT(race, clone_under_fire, 300)
{
	pthread_t tw[3], tdn, trd[2];
	static struct snap snaps[CLONES];
	struct race r = { 0 };
	unsigned int i, bad = 0, changed = 0;
	pid_t child;
	int t;

	r.pg = self->pg;
	r.len = NPAGES * self->pg;
	r.sh = ipcu_test_shared(sizeof(*r.sh));
	ASSERT_TRUE(r.sh != NULL);
	r.src = ipcu_test_region_create(self->dev, r.len, NULL, 0);
	ASSERT_LE(0, r.src);
	r.m1 = ipcu_test_map(r.src, NPAGES, RW, 0);
	r.m2 = ipcu_test_map(r.src, NPAGES, RW, 0);
	r.mr = ipcu_test_map(r.src, NPAGES, PROT_READ, 0);
	ASSERT_TRUE(r.m1 != MAP_FAILED);
	ASSERT_TRUE(r.m2 != MAP_FAILED);
	ASSERT_TRUE(r.mr != MAP_FAILED);
	r.mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, r.mem);

	/* Set 3's writer: another process with a mapping of its own. */
	child = ipcu_test_fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		uint32_t *m3 = ipcu_test_map(r.src, NPAGES, RW, 0);

		IPCU_TEST_CHILD_CHECK(m3 != MAP_FAILED, "map");
		store_writer(&r, m3, 3);
		_exit(0);
	}
	ASSERT_EQ(0, pthread_create(&tw[0], NULL, writer0, &r));
	ASSERT_EQ(0, pthread_create(&tw[1], NULL, writer1, &r));
	ASSERT_EQ(0, pthread_create(&tw[2], NULL, writer2, &r));
	ASSERT_EQ(0, pthread_create(&tdn, NULL, dontneed, &r));
	for (t = 0; t < 2; t++)
		ASSERT_EQ(0, pthread_create(&trd[t], NULL, reader, &r));

	for (i = 0; i < CLONES; i++) {
		struct snap *s = &snaps[i];
		int from = r.src, err;

		s->sealed = i % 4 == 1;
		/* Now and then a clone of an earlier clone instead. */
		if (i % 8 == 7 && snaps[i / 2].fd >= 0)
			from = snaps[i / 2].fd;
		s->fd = ipcu_test_clone(from, s->sealed ? IPCU_CLONE_SEAL : 0);
		ASSERT_LE(0, s->fd) TH_LOG("clone %u: %s", i, strerror(-s->fd));
		s->map = ipcu_test_map(s->fd, NPAGES, PROT_READ, 0);
		ASSERT_TRUE(s->map != MAP_FAILED);
		err = snapshot_check(s->map, r.pg);
		if (err && !bad++)
			TH_LOG("clone %u: set %d is not a snapshot", i, err - 1);
		s->csum = ipcu_test_csum(s->map, r.len);
		if (from != r.src && s->csum != snaps[i / 2].csum && !bad++)
			TH_LOG("clone %u differs from the clone it was taken of", i);
		/* A clone may be written too: its own pages, nobody else's. */
		if (i % 8 == 3) {
			uint32_t *w = ipcu_test_map(s->fd, NPAGES, RW, 0);

			ASSERT_TRUE(w != MAP_FAILED);
			ipcu_test_gen_fill(w, r.len, 0xc0de0000 + i);
			munmap(w, r.len);
			s->csum = ipcu_test_csum(s->map, r.len);
		}
		/* Some live on in their mapping only. */
		if (i % 5 == 2) {
			close(s->fd);
			s->fd = -1;
		}
		if (__atomic_load_n(&r.sh->failed, __ATOMIC_RELAXED))
			break;
	}

	__atomic_store_n(&r.sh->stop, 1, __ATOMIC_RELEASE);
	for (t = 0; t < 3; t++)
		pthread_join(tw[t], NULL);
	pthread_join(tdn, NULL);
	for (t = 0; t < 2; t++)
		pthread_join(trd[t], NULL);
	EXPECT_EQ(0, ipcu_test_reap(child));
	EXPECT_EQ(0, r.sh->failed) TH_LOG("%s", r.sh->why);
	EXPECT_EQ(0, bad);
	TH_LOG("%u clones; generations %u %u %u %u; %llu checked reads", i,
	       r.sh->done[0], r.sh->done[1], r.sh->done[2], r.sh->done[3],
	       (unsigned long long)r.reads);

	/* Not one clone moved since it was taken. */
	for (i = 0; i < CLONES && snaps[i].map; i++) {
		if (ipcu_test_csum(snaps[i].map, r.len) != snaps[i].csum &&
		    !changed++)
			TH_LOG("clone %u changed after it was taken", i);
		if (snaps[i].sealed && snaps[i].fd >= 0) {
			struct ipcu_region_stats st;

			EXPECT_EQ(0, ipcu_test_region_stats(snaps[i].fd, &st));
			EXPECT_EQ(IPCU_REGION_SEALED, st.state);
			EXPECT_EQ(0, st.cow_copies);
		}
	}
	EXPECT_EQ(0, changed);

	/* The source is whole: every set at its writer's last generation. */
	for (t = 0; t < NSETS; t++) {
		const uint32_t *w = set_addr(r.mr, r.pg, t);
		size_t k;

		for (k = 0; k < set_len(r.pg, t) / 4; k++)
			if (w[k] != r.sh->done[t])
				break;
		EXPECT_EQ(set_len(r.pg, t) / 4, k) TH_LOG("set %d", t);
	}

	for (i = 0; i < CLONES && snaps[i].map; i++) {
		munmap(snaps[i].map, r.len);
		if (snaps[i].fd >= 0)
			close(snaps[i].fd);
	}
	munmap(r.m1, r.len);
	munmap(r.m2, r.len);
	munmap(r.mr, r.len);
	close(r.mem);
	close(r.src);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/* --- forced writes into read-only mappings ------------------------------- */

#define FORCE_ITERS	2000

struct force {
	int mem;
	size_t pg;
	uint32_t *target[3];
	volatile int stop;
	int wrote;	/* pwrite()s that succeeded */
	int bad_errno;
	unsigned int tries;
};

/* Dirty COW's recipe: forced writes racing with MADV_DONTNEED. */
static void *force_writer(void *arg)
{
	struct force *f = arg;
	uint32_t junk = 0x0badc0de;
	unsigned int i;

	for (i = 0; i < FORCE_ITERS; i++) {
		uint32_t *at = f->target[i % 3] + (i % 1024);
		ssize_t n = pwrite64(f->mem, &junk, sizeof(junk),
				     (off64_t)(uintptr_t)at);

		if (n >= 0)
			__atomic_add_fetch(&f->wrote, 1, __ATOMIC_RELAXED);
		else if (errno != EIO && errno != EFAULT)
			f->bad_errno = errno;
		f->tries++;
	}
	f->stop = 1;
	return NULL;
}

static void *force_dontneed(void *arg)
{
	struct force *f = arg;
	int t;

	while (!f->stop)
		for (t = 0; t < 3; t++)
			madvise(f->target[t], f->pg, MADV_DONTNEED);
	return NULL;
}

static void *force_reader(void *arg)
{
	struct force *f = arg;
	uint32_t sum = 0;
	unsigned int i = 0;

	while (!f->stop) {
		sum += __atomic_load_n(&f->target[i % 3][i % 1024],
				       __ATOMIC_RELAXED);
		i++;
	}
	return (void *)(uintptr_t)sum;
}

TEST_F_TIMEOUT(race, forced_writes_to_readonly_mappings, 300)
{
	const size_t n = 2;
	size_t len = n * self->pg;
	uint32_t *p, *snapmap, *ro, *down, csum_snap, csum_src;
	struct iovec local, remote;
	pthread_t tw, td, tr;
	struct force f = { 0 };
	uint32_t junk = 0x0badc0de;
	int fd, snap, c;

	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0xd0d0);
	snap = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, snap);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);

	/*
	 * Three read-only mappings: of a sealed snapshot; of the writable
	 * source, made without PROT_WRITE; of the source, made with
	 * PROT_WRITE then mprotect()ed to PROT_READ (VM_MAYWRITE, still
	 * shared with the clones).
	 */
	snapmap = ipcu_test_map(snap, n, PROT_READ, 0);
	ro = ipcu_test_map(fd, n, PROT_READ, 0);
	down = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(snapmap != MAP_FAILED);
	ASSERT_TRUE(ro != MAP_FAILED);
	ASSERT_TRUE(down != MAP_FAILED);
	ASSERT_EQ(0, mprotect(down, len, PROT_READ));
	munmap(p, len);
	csum_snap = ipcu_test_csum(snapmap, len);
	csum_src = ipcu_test_csum(ro, len);

	f.mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, f.mem);
	f.pg = self->pg;
	f.target[0] = snapmap;
	f.target[1] = ro;
	f.target[2] = down;
	ASSERT_EQ(0, pthread_create(&tw, NULL, force_writer, &f));
	ASSERT_EQ(0, pthread_create(&td, NULL, force_dontneed, &f));
	ASSERT_EQ(0, pthread_create(&tr, NULL, force_reader, &f));
	pthread_join(tw, NULL);
	pthread_join(td, NULL);
	pthread_join(tr, NULL);
	EXPECT_EQ(FORCE_ITERS, f.tries);
	EXPECT_EQ(0, f.wrote);
	EXPECT_EQ(0, f.bad_errno) TH_LOG("%s", strerror(f.bad_errno));

	/* process_vm_writev() does not force: EFAULT. */
	local.iov_base = &junk;
	local.iov_len = sizeof(junk);
	remote.iov_base = snapmap;
	remote.iov_len = sizeof(junk);
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	remote.iov_base = down;
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);

	EXPECT_EQ(csum_snap, ipcu_test_csum(snapmap, len));
	EXPECT_EQ(csum_src, ipcu_test_csum(ro, len));
	EXPECT_EQ(csum_src, ipcu_test_csum(down, len));
	EXPECT_EQ(0, ipcu_test_gen_check(ro, len, NULL));
	/* Nothing was written anywhere, so nothing was copied. */
	EXPECT_EQ(0, stats_of_cow(fd));
	EXPECT_EQ(0, stats_of_cow(snap));
	EXPECT_EQ(0, stats_of_cow(c));

	close(f.mem);
	munmap(snapmap, len);
	munmap(ro, len);
	munmap(down, len);
	close(c);
	close(snap);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_F(race, ptrace_pokes)
{
	const size_t n = 2;
	size_t len = n * self->pg;
	uint32_t *p, *snapmap, *q;
	int fd, snap, c, status;
	long ret;
	pid_t pid;

	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0xe0e0);
	snap = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, snap);
	snapmap = ipcu_test_map(snap, n, PROT_READ, 0);
	ASSERT_TRUE(snapmap != MAP_FAILED);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Same addresses as the parent's mappings: inherited. */
		IPCU_TEST_CHILD_CHECK(!ptrace(PTRACE_TRACEME, 0, NULL, NULL),
				      "traceme");
		raise(SIGSTOP);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));

	/* A debugger cannot write a sealed snapshot either. */
	errno = 0;
	ret = ptrace(PTRACE_POKEDATA, pid, snapmap + 4, (void *)0x41414141L);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EIO || errno == EFAULT) TH_LOG("%s", strerror(errno));
	/* It may write the writable source: a copy-on-write break. */
	errno = 0;
	ret = ptrace(PTRACE_POKEDATA, pid, p + 8, (void *)0x42424242L);
	EXPECT_EQ(0, ret) TH_LOG("%s", strerror(errno));
	errno = 0;
	ret = ptrace(PTRACE_PEEKDATA, pid, p + 8, NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(0x42424242, (uint32_t)ret);
	ptrace(PTRACE_KILL, pid, NULL, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	/* Parent and child share the source: the poke landed in it. */
	EXPECT_EQ(0x42424242, p[8]);
	EXPECT_EQ(0xe0e0, snapmap[4]);
	EXPECT_EQ(0, ipcu_test_gen_check(snapmap, len, NULL));
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0xe0e0, q[8]);
	EXPECT_EQ(0, ipcu_test_gen_check(q, len, NULL));
	munmap(q, len);
	munmap(snapmap, len);
	munmap(p, len);
	close(c);
	close(snap);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

TEST_HARNESS_MAIN
