// SPDX-License-Identifier: GPL-2.0
/*
 * References to region pages held outside any mapping, across a clone
 * (THREATS 3, CVE-2020-29374 class): vmsplice() into a pipe, direct I/O,
 * io_uring fixed buffers and AF_XDP umems.  Whatever holds a page, data
 * written by one side after a clone must never show up on the other side.
 */
#include <linux/if_xdp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#ifdef IPCU_HAVE_URING
#include <liburing.h>
#endif

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define RW	(PROT_READ | PROT_WRITE)

#ifndef AF_XDP
#define AF_XDP	44
#endif
#ifndef SOL_XDP
#define SOL_XDP	283
#endif

/* The value of every 32-bit word of @buf if they all agree, else ~0. */
static uint32_t buf_val(const void *buf, size_t len)
{
	const uint32_t *w = buf;
	size_t i;

	for (i = 1; i < len / 4; i++)
		if (w[i] != w[0])
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

/* vmsplice() one page at @p into @pipe_wr: 0 or -errno. */
static int splice_page(int pipe_wr, void *p, size_t pg)
{
	struct iovec iov = { .iov_base = p, .iov_len = pg };
	ssize_t n = vmsplice(pipe_wr, &iov, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == pg ? 0 : -EIO;
}

/*
 * vmsplice() and copy-on-write.
 *
 * Steps, with S the source and C the clone, each one page:
 *   1. S's page holds 0x5000.
 *   2. A pipe takes a reference to a page by vmsplice(): of S before the
 *      clone, or of S or of C after it.
 *   3. The two sides write their own page, in the order of the variant:
 *      S writes 0x5001, C writes 0xc001.
 *   4. The pipe is read.
 *
 * Expected: the mappings always show each side's own last write.  The pipe
 * was filled from the spliced side's mapping: it may show that side's page
 * as it was at vmsplice() time (0x5000) or that side's later write
 * (vmsplice() hands over references to pages, not copies), but never the
 * other side's write: that data was written after the clone into an object
 * the splicer does not share, possibly by another process.
 */
FIXTURE(splice) {
	int dev;
	size_t pg;
	int src, clone;
	uint32_t *s, *c;
	int pfd[2];
};

FIXTURE_VARIANT(splice) {
	bool before_clone;	/* vmsplice() before the clone is taken */
	bool splice_clone;	/* vmsplice() C's page rather than S's */
	bool clone_first;	/* C writes before S does */
};

FIXTURE_VARIANT_ADD(splice, before_src_writes_first) {
	.before_clone = true, .splice_clone = false, .clone_first = false,
};

FIXTURE_VARIANT_ADD(splice, before_clone_writes_first) {
	.before_clone = true, .splice_clone = false, .clone_first = true,
};

FIXTURE_VARIANT_ADD(splice, after_src_writes_first) {
	.before_clone = false, .splice_clone = false, .clone_first = false,
};

FIXTURE_VARIANT_ADD(splice, after_clone_writes_first) {
	.before_clone = false, .splice_clone = false, .clone_first = true,
};

FIXTURE_VARIANT_ADD(splice, of_clone_clone_writes_first) {
	.before_clone = false, .splice_clone = true, .clone_first = true,
};

FIXTURE_VARIANT_ADD(splice, of_clone_src_writes_first) {
	.before_clone = false, .splice_clone = true, .clone_first = false,
};

FIXTURE_SETUP(splice)
{
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev);
	self->src = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, self->src);
	self->s = ipcu_test_map(self->src, 1, RW, 0);
	ASSERT_TRUE(self->s != MAP_FAILED);
	ASSERT_EQ(0, pipe(self->pfd));
	self->clone = -1;
	self->c = MAP_FAILED;
}

FIXTURE_TEARDOWN(splice)
{
	if (self->c != MAP_FAILED)
		munmap(self->c, self->pg);
	munmap(self->s, self->pg);
	close(self->pfd[0]);
	close(self->pfd[1]);
	if (self->clone >= 0)
		close(self->clone);
	close(self->src);
	close(self->dev);
}

TEST_F_TIMEOUT(splice, isolation, 120)
{
	uint32_t *buf, mine_before, mine_after, theirs;

	ipcu_test_gen_fill(self->s, self->pg, 0x5000);
	if (variant->before_clone)
		ASSERT_EQ(0, splice_page(self->pfd[1], self->s, self->pg));
	self->clone = ipcu_test_clone(self->src, 0);
	ASSERT_LE(0, self->clone);
	self->c = ipcu_test_map(self->clone, 1, RW, 0);
	ASSERT_TRUE(self->c != MAP_FAILED);
	ASSERT_EQ(0x5000, buf_val(self->c, self->pg));
	if (!variant->before_clone)
		ASSERT_EQ(0, splice_page(self->pfd[1],
					 variant->splice_clone ? self->c : self->s,
					 self->pg));

	if (variant->clone_first) {
		ipcu_test_gen_fill(self->c, self->pg, 0xc001);
		ipcu_test_gen_fill(self->s, self->pg, 0x5001);
	} else {
		ipcu_test_gen_fill(self->s, self->pg, 0x5001);
		ipcu_test_gen_fill(self->c, self->pg, 0xc001);
	}
	EXPECT_EQ(0x5001, buf_val(self->s, self->pg));
	EXPECT_EQ(0xc001, buf_val(self->c, self->pg));

	buf = malloc(self->pg);
	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ((ssize_t)self->pg, read(self->pfd[0], buf, self->pg));
	mine_before = 0x5000;
	mine_after = variant->splice_clone ? 0xc001 : 0x5001;
	theirs = variant->splice_clone ? 0x5001 : 0xc001;
	TH_LOG("pipe shows %#x (spliced %s, before %#x, own write %#x, other side's write %#x)",
	       buf_val(buf, self->pg), variant->splice_clone ? "clone" : "source",
	       mine_before, mine_after, theirs);
	EXPECT_NE(theirs, buf_val(buf, self->pg))
		TH_LOG("the other side's write after the clone leaked into the pipe");
	EXPECT_TRUE(buf_val(buf, self->pg) == mine_before ||
		    buf_val(buf, self->pg) == mine_after);
	free(buf);
}

/* --- racing helpers: no timing is ever asserted, only used to meet ------ */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Run the calling thread on @cpu, if there is such a CPU: 0 or -1. */
static int to_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* How long a clone of @fd takes at best, in ns: to spread race starts. */
static long long clone_time_ns(int fd)
{
	long long best = -1, t0, d;
	int i, c;

	for (i = 0; i < 5; i++) {
		t0 = now_ns();
		c = ipcu_test_clone(fd, 0);
		d = now_ns() - t0;
		if (c >= 0)
			close(c);
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}

/*
 * When the other party of round @round starts, relative to the clone, in
 * eighths of a clone time @t: from @before eighths before the clone to
 * @after eighths after its start, round after round.
 */
static long long race_offset(int round, long long t, int before, int after)
{
	return (long long)(round % (before + after) - before) * t / 8;
}

static void spin_ns(long long ns)
{
	long long until = now_ns() + ns;

	while (now_ns() < until)
		;
}

/*
 * A start line for two threads on two CPUs, spinning rather than
 * sleeping so that both leave it at nearly the same moment.
 */
struct start_line {
	int ready;
	int go;
};

/* The other thread: wait at the line. */
static void start_wait(struct start_line *l)
{
	__atomic_store_n(&l->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&l->go, __ATOMIC_ACQUIRE))
		;
}

/* The cloning thread: wait for the other one, then let it go. */
static void start_go(struct start_line *l)
{
	while (!__atomic_load_n(&l->ready, __ATOMIC_ACQUIRE))
		;
	__atomic_store_n(&l->go, 1, __ATOMIC_RELEASE);
}

/* --- references that look like DMA pins ---------------------------------- */

#define REF_PIPES	72	/* x 16 buffers: more than GUP_PIN_COUNTING_BIAS */
#define REF_BUFS	16

FIXTURE(pin) {
	int dev;
	size_t pg;
	long pages;
	long regions;
};

FIXTURE_SETUP(pin)
{
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev);
	self->pages = ipcu_test_stat("pages");
	self->regions = ipcu_test_stat("regions");
}

FIXTURE_TEARDOWN(pin)
{
	close(self->dev);
}

/*
 * An order-0 page with GUP_PIN_COUNTING_BIAS (1024) or more references is
 * "maybe DMA-pinned" to the kernel (folio_maybe_dma_pinned()), whatever
 * holds them.  So 1152 pipe buffers of one page put it on the pinned path
 * of region.c: a clone gets its own copy of the page at once, and the
 * region cannot be sealed while the references last.  That reaches the
 * pinned path on every kernel, with no device and no timing.
 */
TEST_F_TIMEOUT(pin, many_references_look_pinned, 120)
{
	int fd, c, pfd[REF_PIPES][2], i, j;
	struct iovec iov[REF_BUFS];
	uint32_t *p, *q, *buf;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, 2 * self->pg, 0x600d);
	for (j = 0; j < REF_BUFS; j++) {
		iov[j].iov_base = p;
		iov[j].iov_len = self->pg;
	}
	for (i = 0; i < REF_PIPES; i++) {
		ASSERT_EQ(0, pipe(pfd[i]));
		ASSERT_EQ((ssize_t)(REF_BUFS * self->pg),
			  vmsplice(pfd[i][1], iov, REF_BUFS, SPLICE_F_NONBLOCK))
			TH_LOG("pipe %d: %s", i, strerror(errno));
	}

	/* Page 0 is on the pinned path, page 1 is not. */
	munmap(p, 2 * self->pg);
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(1, stats_of(c).private_pages);
	EXPECT_EQ(1, stats_of(c).shared_pages);
	EXPECT_EQ(1, stats_of(fd).private_pages);
	EXPECT_EQ(1, stats_of(fd).shared_pages);
	EXPECT_EQ(0, stats_of(fd).cow_copies);
	EXPECT_EQ(self->pages + 3, ipcu_test_stat("pages"));

	/* The source writes its pinned page in place, the clone sees none of it. */
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	q = ipcu_test_map(c, 2, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	ipcu_test_gen_fill(p, self->pg, 0x600e);
	EXPECT_EQ(0, stats_of(fd).cow_copies);
	EXPECT_EQ(0x600d, buf_val(q, self->pg));
	/* The clone's copy is its own: the pipes never see its writes. */
	ipcu_test_gen_fill(q, self->pg, 0xbad);
	EXPECT_EQ(0, stats_of(c).cow_copies);
	buf = malloc(self->pg);
	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ((ssize_t)self->pg, read(pfd[0][0], buf, self->pg));
	EXPECT_EQ(0x600e, buf_val(buf, self->pg));
	free(buf);
	munmap(q, 2 * self->pg);
	munmap(p, 2 * self->pg);

	for (i = 0; i < REF_PIPES; i++) {
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
	/* References gone: the region seals. */
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	close(c);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
}

/*
 * The clone is the source's content at one instant (region.c: the moment
 * its zap completes).  That should hold for pages on the pinned path too:
 * a writer storing generation g to the first word of pages 0..255 in
 * ascending order, page 0 held "pinned" by pipe references, must never
 * leave a clone whose page 0 is older than a later page.
 */
#define SNAP_PAGES	256
#define SNAP_CLONES	100

struct snap_writer {
	uint32_t *map;
	size_t pg;
	int stop;
	unsigned int passes;
};

static void *snap_writer(void *arg)
{
	struct snap_writer *w = arg;
	uint32_t gen = 1;
	unsigned int i;

	to_cpu(1);
	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		gen++;
		for (i = 0; i < SNAP_PAGES; i++)
			__atomic_store_n(&w->map[i * w->pg / 4], gen,
					 __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->passes, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The first words of the pages: a run of g + 1, then a run of g. */
static int first_words_ordered(const uint32_t *m, size_t pg)
{
	uint32_t hi = m[0], lo = m[(SNAP_PAGES - 1) * pg / 4];
	unsigned int i = 0;

	if (hi != lo && hi != lo + 1)
		return -1;
	while (i < SNAP_PAGES && m[i * pg / 4] == hi)
		i++;
	while (i < SNAP_PAGES && m[i * pg / 4] == lo)
		i++;
	return i == SNAP_PAGES ? 0 : -1;
}

TEST_F_TIMEOUT(pin, pinned_page_in_snapshot, 120)
{
	size_t len = SNAP_PAGES * self->pg;
	int fd, c[SNAP_CLONES], pfd[REF_PIPES][2], i, j, torn = 0, moved = 0;
	uint32_t *m[SNAP_CLONES], csum[SNAP_CLONES];
	struct iovec iov[REF_BUFS];
	struct snap_writer w;
	pthread_t t;

	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	w.map = ipcu_test_map(fd, SNAP_PAGES, RW, 0);
	ASSERT_TRUE(w.map != MAP_FAILED);
	w.pg = self->pg;
	w.stop = 0;
	w.passes = 0;
	ipcu_test_gen_fill(w.map, len, 1);
	for (j = 0; j < REF_BUFS; j++) {
		iov[j].iov_base = w.map;
		iov[j].iov_len = self->pg;
	}
	for (i = 0; i < REF_PIPES; i++) {
		ASSERT_EQ(0, pipe(pfd[i]));
		ASSERT_EQ((ssize_t)(REF_BUFS * self->pg),
			  vmsplice(pfd[i][1], iov, REF_BUFS, SPLICE_F_NONBLOCK));
	}
	/* Page 0 is on the pinned path: copied at once. */
	c[0] = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c[0]);
	EXPECT_EQ(1, stats_of(c[0]).private_pages);
	EXPECT_EQ(SNAP_PAGES - 1, stats_of(c[0]).shared_pages);
	close(c[0]);

	to_cpu(0);
	ASSERT_EQ(0, pthread_create(&t, NULL, snap_writer, &w));
	for (i = 0; i < SNAP_CLONES; i++) {
		unsigned int passes = __atomic_load_n(&w.passes, __ATOMIC_ACQUIRE);

		/* Clone while the writer streams, not while it copies on write. */
		while (__atomic_load_n(&w.passes, __ATOMIC_ACQUIRE) < passes + 2)
			;
		c[i] = ipcu_test_clone(fd, 0);
		ASSERT_LE(0, c[i]);
		m[i] = ipcu_test_map(c[i], SNAP_PAGES, PROT_READ, 0);
		ASSERT_TRUE(m[i] != MAP_FAILED);
		if (first_words_ordered(m[i], self->pg) && !torn++)
			TH_LOG("clone %d: page 0 holds %u, page 1 %u, page %d %u",
			       i, m[i][0], m[i][self->pg / 4], SNAP_PAGES - 1,
			       m[i][(SNAP_PAGES - 1) * self->pg / 4]);
		csum[i] = ipcu_test_csum(m[i], len);
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	for (i = 0; i < SNAP_CLONES; i++) {
		if (ipcu_test_csum(m[i], len) != csum[i])
			moved++;
		munmap(m[i], len);
		close(c[i]);
	}
	EXPECT_EQ(0, moved);
	EXPECT_EQ(0, torn) TH_LOG("%d of %d clones are not one instant of the source",
				  torn, SNAP_CLONES);
	for (i = 0; i < REF_PIPES; i++) {
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
	munmap(w.map, len);
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* --- direct I/O ------------------------------------------------------------ */

TEST_F_TIMEOUT(pin, direct_io, 120)
{
	char path[] = "/tmp/ipcunit-pin-XXXXXX";
	uint32_t *p, *q, *r, *buf;
	const size_t n = 4;
	size_t len = n * self->pg;
	int fd, c, f, tmp;

	tmp = mkstemp(path);
	ASSERT_LE(0, tmp);
	f = open(path, O_RDWR | O_DIRECT);
	unlink(path);
	if (f < 0) {
		close(tmp);
		SKIP(return, "no O_DIRECT on /tmp (%s): tmpfs supports it from 6.6 only",
		     strerror(errno));
	}
	buf = malloc(len);
	ASSERT_TRUE(buf != NULL);

	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);

	/* File -> source. */
	ipcu_test_gen_fill(buf, len, 0xd10a);
	ASSERT_EQ((ssize_t)len, pwrite(tmp, buf, len, 0));
	ASSERT_EQ((ssize_t)len, pread(f, p, len, 0));
	EXPECT_EQ(0xd10a, buf_val(p, len));

	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);

	/* File -> source after the clone: the clone keeps the old bytes. */
	ipcu_test_gen_fill(buf, len, 0xd10b);
	ASSERT_EQ((ssize_t)len, pwrite(tmp, buf, len, 0));
	ASSERT_EQ((ssize_t)len, pread(f, p, len, 0));
	EXPECT_EQ(0xd10b, buf_val(p, len));
	EXPECT_EQ(0xd10a, buf_val(q, len));

	/* File -> clone: the source keeps its bytes. */
	ipcu_test_gen_fill(buf, len, 0xd10c);
	ASSERT_EQ((ssize_t)len, pwrite(tmp, buf, len, 0));
	ASSERT_EQ((ssize_t)self->pg, pread(f, q, self->pg, 0));
	EXPECT_EQ(0xd10c, buf_val(q, self->pg));
	EXPECT_EQ(0xd10a, buf_val(q + self->pg / 4, len - self->pg));
	EXPECT_EQ(0xd10b, buf_val(p, len));

	/* Clone -> file writes the clone's bytes. */
	ASSERT_EQ((ssize_t)len, pwrite(f, q, len, 0));
	ASSERT_EQ((ssize_t)len, pread(tmp, buf, len, 0));
	EXPECT_EQ(0xd10c, buf_val(buf, self->pg));
	EXPECT_EQ(0xd10a, buf_val(buf + self->pg / 4, len - self->pg));

	/* Into a read-only mapping: refused, nothing written. */
	r = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	EXPECT_EQ(-1, pread(f, r, len, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0xd10c, buf_val(r, self->pg));

	munmap(r, len);
	munmap(q, len);
	munmap(p, len);
	close(c);
	close(fd);
	close(f);
	close(tmp);
	free(buf);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* --- short-term pins held across a clone, made to last with userfaultfd --- */

/*
 * process_vm_writev() pins the target pages (pin_user_pages_remote(),
 * FOLL_PIN | FOLL_WRITE), then copies into them from the local iovec.  If
 * a local page is missing in a userfaultfd range, the copy stops there
 * until the fault is resolved: the target pages stay pinned for as long
 * as the test likes.  This works on every kernel, unlike long-term pins.
 */
struct uffd_stall {
	int uffd;
	void *local;		/* @pages pages; the last one is missing */
	size_t pg;
	unsigned int pages;
};

/* A local buffer whose last page faults into @u->uffd: 0 or -errno. */
static int uffd_stall_init(struct uffd_stall *u, size_t pg, unsigned int pages,
			   uint32_t fill)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;

	u->pg = pg;
	u->pages = pages;
	u->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->uffd < 0)
		return -errno;
	if (ioctl(u->uffd, UFFDIO_API, &api))
		return -errno;
	u->local = mmap(NULL, pages * pg, RW, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (u->local == MAP_FAILED)
		return -errno;
	ipcu_test_gen_fill(u->local, (pages - 1) * pg, fill);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (__u64)(uintptr_t)u->local + (pages - 1) * pg;
	reg.range.len = pg;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	return ioctl(u->uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

/* Wait (bounded) for the copy to stop at the missing page: 0 or -errno. */
static int uffd_stall_wait(struct uffd_stall *u)
{
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 30000) != 1)
		return -ETIMEDOUT;
	if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -errno;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -EPROTO;
}

/* Let the copy go on: the missing page becomes @fill. */
static int uffd_stall_release(struct uffd_stall *u, uint32_t fill)
{
	struct uffdio_copy cp;
	uint32_t *src = malloc(u->pg);
	int ret;

	if (!src)
		return -ENOMEM;
	ipcu_test_gen_fill(src, u->pg, fill);
	memset(&cp, 0, sizeof(cp));
	cp.dst = (__u64)(uintptr_t)u->local + (u->pages - 1) * u->pg;
	cp.src = (__u64)(uintptr_t)src;
	cp.len = u->pg;
	ret = ioctl(u->uffd, UFFDIO_COPY, &cp) ? -errno : 0;
	free(src);
	return ret;
}

static void uffd_stall_fini(struct uffd_stall *u)
{
	munmap(u->local, u->pages * u->pg);
	close(u->uffd);
}

struct pvm_job {
	struct uffd_stall *u;
	void *remote;
	struct start_line *line;
	long long delay_ns;
	ssize_t ret;
	int err;
};

/* process_vm_writev() of the whole local buffer to @remote, in this process. */
static void *pvm_writer(void *arg)
{
	struct pvm_job *j = arg;
	struct iovec local, remote;

	if (j->line) {
		start_wait(j->line);
		spin_ns(j->delay_ns);
	}
	local.iov_base = j->u->local;
	local.iov_len = j->u->pages * j->u->pg;
	remote.iov_base = j->remote;
	remote.iov_len = local.iov_len;
	j->ret = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	j->err = errno;
	return NULL;
}

TEST_F_TIMEOUT(pin, held_pin_blocks_seal_and_is_copied, 120)
{
	const unsigned int n = 2;
	size_t len = n * self->pg;
	struct ipcu_region_stats s;
	struct uffd_stall u;
	struct pvm_job j = { 0 };
	uint32_t *p, *q;
	pthread_t t;
	int fd, c, ret;

	ret = uffd_stall_init(&u, self->pg, n, 0x9a);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0x90);

	/* Pin both pages, write page 0, stop before page 1. */
	j.u = &u;
	j.remote = p;
	ASSERT_EQ(0, pthread_create(&t, NULL, pvm_writer, &j));
	ASSERT_EQ(0, uffd_stall_wait(&u));
	EXPECT_EQ(0x9a, buf_val(p, self->pg));
	EXPECT_EQ(0x90, buf_val(p + self->pg / 4, self->pg));

	/* Pinned for writing: no seal, even with no mapping left. */
	munmap(p, len);
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	/* A clone gets its own copies of the pinned pages at once. */
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, ipcu_test_region_stats(c, &s));
	EXPECT_EQ(n, s.private_pages);
	EXPECT_EQ(0, s.shared_pages);
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	/* ...so the clone may be sealed: nothing pins its pages. */
	EXPECT_EQ(0, ipcu_test_seal(c, 0));

	ASSERT_EQ(0, uffd_stall_release(&u, 0x9b));
	pthread_join(t, NULL);
	EXPECT_EQ((ssize_t)len, j.ret) TH_LOG("%s", strerror(j.err));

	/* The held write landed in the source only. */
	p = ipcu_test_map(fd, n, PROT_READ, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0x9a, buf_val(p, self->pg));
	EXPECT_EQ(0x9b, buf_val(p + self->pg / 4, self->pg));
	EXPECT_EQ(0x9a, buf_val(q, self->pg));
	EXPECT_EQ(0x90, buf_val(q + self->pg / 4, self->pg));
	/* Pins gone: now it seals. */
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	munmap(p, len);
	munmap(q, len);
	close(c);
	close(fd);
	uffd_stall_fini(&u);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/*
 * A short-term pin taken while a clone is being made.  The pinned pages
 * are written only after the clone is complete (the copy is held on a
 * userfaultfd page until then), so the write must land in the source
 * alone, whatever point of the clone the pin met: pinned before the clone
 * got to the page, the clone copies it; pinned after the clone, the pin's
 * FOLL_WRITE breaks the sharing.  Pinned after the clone raised the page's
 * owner count but before it zapped the source's page tables, the page is
 * pinned while shared, and the write lands in the clone too.
 */
#define HELD_PAGES	4096
#define HELD_ROUNDS	48
#define HELD_PIN	16	/* pages pinned: the first of the region */

static void *pvm_cpu1(void *arg)
{
	to_cpu(1);
	return pvm_writer(arg);
}

TEST_F_TIMEOUT(pin, held_pin_racing_clone, 300)
{
	size_t len = HELD_PAGES * self->pg, pinlen = HELD_PIN * self->pg;
	int round, fd, c, ret, leaked = 0, shared_pinned = 0;
	long long clone_ns = 0, off;
	struct start_line line;
	struct uffd_stall u;
	struct pvm_job j;
	uint32_t *p, *q;
	uint64_t priv;
	pthread_t t;

	ret = uffd_stall_init(&u, self->pg, HELD_PIN, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "userfaultfd: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	uffd_stall_fini(&u);

	to_cpu(0);
	for (round = 0; round < HELD_ROUNDS; round++) {
		ASSERT_EQ(0, uffd_stall_init(&u, self->pg, HELD_PIN, 0xa000 + round));
		fd = ipcu_test_region_create(self->dev, len, NULL, 0);
		ASSERT_LE(0, fd);
		p = ipcu_test_map(fd, HELD_PAGES, RW, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		ipcu_test_gen_fill(p, len, 0x5000 + round);
		if (!round)
			clone_ns = clone_time_ns(fd);
		/* The pin starts at once: from half a clone early to one late. */
		off = race_offset(round, clone_ns, 4, 12);
		memset(&j, 0, sizeof(j));
		j.u = &u;
		j.remote = p;
		memset(&line, 0, sizeof(line));
		j.line = &line;
		j.delay_ns = off > 0 ? off : 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, pvm_cpu1, &j));
		start_go(&line);
		spin_ns(off < 0 ? -off : 0);
		c = ipcu_test_clone(fd, 0);
		ASSERT_LE(0, c);
		/*
		 * The clone is complete and the pin is held: the clone must own
		 * a page of its own for each pinned one (a copy, or the old page
		 * the pin's write fault left it).  Only then may the pinned
		 * pages be written.
		 */
		ASSERT_EQ(0, uffd_stall_wait(&u));
		priv = stats_of(c).private_pages;
		if (priv != HELD_PIN && !shared_pinned++)
			TH_LOG("round %d: %llu pages pinned for writing are shared with the clone (source cow_copies %llu)",
			       round, (unsigned long long)(HELD_PIN - priv),
			       (unsigned long long)stats_of(fd).cow_copies);
		ASSERT_EQ(0, uffd_stall_release(&u, 0xb000 + round));
		pthread_join(t, NULL);
		EXPECT_EQ((ssize_t)pinlen, j.ret) TH_LOG("%s", strerror(j.err));

		q = ipcu_test_map(c, HELD_PIN, PROT_READ, 0);
		ASSERT_TRUE(q != MAP_FAILED);
		EXPECT_EQ(0xb000 + round,
			  buf_val(p + (HELD_PIN - 1) * self->pg / 4, self->pg));
		if (buf_val(q + (HELD_PIN - 1) * self->pg / 4, self->pg) !=
		    0x5000 + (uint32_t)round && !leaked++)
			TH_LOG("round %d: a write through a pin taken during the clone, done after it, shows in the clone (%#x)",
			       round, buf_val(q + (HELD_PIN - 1) * self->pg / 4,
					      self->pg));
		munmap(q, pinlen);
		munmap(p, len);
		close(c);
		close(fd);
		uffd_stall_fini(&u);
	}
	TH_LOG("a clone of %d pages took %lld us", HELD_PAGES, clone_ns / 1000);
	EXPECT_EQ(0, shared_pinned) TH_LOG("in %d of %d rounds", shared_pinned,
					   HELD_ROUNDS);
	EXPECT_EQ(0, leaked) TH_LOG("in %d of %d rounds", leaked, HELD_ROUNDS);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/* --- io_uring fixed buffers ------------------------------------------------ */

#ifdef IPCU_HAVE_URING
/* One IORING_OP_READ(_FIXED) of @len bytes from @fd into @buf: res or -errno. */
static int uring_read(struct io_uring *ring, int fd, void *buf, size_t len,
		      int fixed)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (fixed)
		io_uring_prep_read_fixed(sqe, fd, buf, len, 0, 0);
	else
		io_uring_prep_read(sqe, fd, buf, len, 0);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/*
 * A registered buffer is a long-term FOLL_PIN|FOLL_WRITE pin.  Kernels
 * refuse it over file mappings that need write notification: 6.1's io_uring
 * takes only anonymous, shmem and hugetlb memory (-EOPNOTSUPP), and from
 * 6.5 GUP itself refuses such long-term writable pins (-EFAULT).  If a
 * kernel ever accepts it, a clone taken while the buffer is registered must
 * get copies of the pinned pages (region.c copies DMA-pinned pages at clone
 * time), so that later READ_FIXED completions land only in the source.
 */
TEST_F_TIMEOUT(pin, io_uring_fixed_buffer, 120)
{
	const size_t n = 2;
	size_t len = n * self->pg;
	struct io_uring ring;
	uint32_t *p, *q, *r, *buf;
	struct iovec iov;
	int fd, c, ret, pfd[2];

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		SKIP(return, "io_uring_queue_init: %s", strerror(-ret));
	buf = malloc(len);
	ASSERT_TRUE(buf != NULL);
	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0x1a);
	ASSERT_EQ(0, pipe(pfd));

	/* Never over a read-only mapping: the device would write it. */
	r = ipcu_test_map(fd, n, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	iov.iov_base = r;
	iov.iov_len = len;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	EXPECT_TRUE(ret == -EFAULT || ret == -EOPNOTSUPP)
		TH_LOG("read-only mapping registered: %d", ret);
	if (!ret)
		io_uring_unregister_buffers(&ring);
	munmap(r, len);

	iov.iov_base = p;
	iov.iov_len = len;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret) {
		TH_LOG("register_buffers over a region mapping: %s (kernel refuses long-term pins of it)",
		       strerror(-ret));
		EXPECT_TRUE(ret == -EFAULT || ret == -EOPNOTSUPP) TH_LOG("%d", ret);
		/* A refused registration leaves no pin behind. */
		munmap(p, len);
		EXPECT_EQ(0, ipcu_test_seal(fd, 0));
		/* Plain reads into a clone's mapping work and stay there. */
		c = ipcu_test_clone(fd, 0);
		ASSERT_LE(0, c);
		q = ipcu_test_map(c, n, RW, 0);
		ASSERT_TRUE(q != MAP_FAILED);
		ipcu_test_gen_fill(buf, len, 0x1b);
		ASSERT_EQ((ssize_t)len, write(pfd[1], buf, len));
		ASSERT_EQ((int)len, uring_read(&ring, pfd[0], q, len, 0));
		EXPECT_EQ(0x1b, buf_val(q, len));
		r = ipcu_test_map(fd, n, PROT_READ, 0);
		ASSERT_TRUE(r != MAP_FAILED);
		EXPECT_EQ(0x1a, buf_val(r, len));
		munmap(r, len);
		munmap(q, len);
		close(c);
	} else {
		TH_LOG("register_buffers over a region mapping accepted");
		c = ipcu_test_clone(fd, 0);
		ASSERT_LE(0, c);
		/* Pinned pages are copied for the clone at once. */
		EXPECT_EQ(n, stats_of(c).private_pages);
		EXPECT_EQ(0, stats_of(fd).shared_pages);
		ipcu_test_gen_fill(buf, len, 0x1c);
		ASSERT_EQ((ssize_t)len, write(pfd[1], buf, len));
		ASSERT_EQ((int)len, uring_read(&ring, pfd[0], p, len, 1));
		EXPECT_EQ(0x1c, buf_val(p, len));
		q = ipcu_test_map(c, n, PROT_READ, 0);
		ASSERT_TRUE(q != MAP_FAILED);
		EXPECT_EQ(0x1a, buf_val(q, len));
		munmap(q, len);
		munmap(p, len);
		/* Pinned: no seal until the buffer is unregistered. */
		EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
		ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
		EXPECT_EQ(0, ipcu_test_seal(fd, 0));
		close(c);
	}
	io_uring_queue_exit(&ring);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
	free(buf);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}
#endif /* IPCU_HAVE_URING */

/* --- AF_XDP umem: a long-term FOLL_PIN ------------------------------------- */

/* Register @len bytes at @p as an AF_XDP umem of socket @s: 0 or -errno. */
static int umem_reg(int s, void *p, size_t len)
{
	struct xdp_umem_reg mr;

	memset(&mr, 0, sizeof(mr));
	mr.addr = (__u64)(uintptr_t)p;
	mr.len = len;
	mr.chunk_size = 2048;
	return setsockopt(s, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ? -errno : 0;
}

/* Seal @fd, giving a deferred umem release a bounded while: 0 or -errno. */
static int seal_eventually(int fd)
{
	int i, ret = -EBUSY;

	for (i = 0; i < 200 && ret == -EBUSY; i++) {
		ret = ipcu_test_seal(fd, 0);
		if (ret == -EBUSY)
			usleep(10000);
	}
	return ret;
}

/*
 * XDP_UMEM_REG pins the umem with pin_user_pages(FOLL_WRITE |
 * FOLL_LONGTERM), as a NIC's DMA target.  6.1 accepts that over a region
 * mapping; from 6.5 GUP refuses long-term writable pins of mappings that
 * need write notification (-EFAULT).  When accepted, both orders matter:
 * pin then clone (the clone gets copies at once), clone then pin (the pin's
 * FOLL_WRITE breaks the sharing first, so the source pins its own copies).
 */
TEST_F_TIMEOUT(pin, af_xdp_umem, 120)
{
	const size_t n = 4;
	size_t len = n * self->pg;
	uint32_t *p, *q;
	int s, fd, c, ret;

	s = socket(AF_XDP, SOCK_RAW, 0);
	if (s < 0)
		SKIP(return, "AF_XDP socket: %s", strerror(errno));
	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0x3a);

	ret = umem_reg(s, p, len);
	if (ret) {
		TH_LOG("XDP_UMEM_REG over a region mapping: %s (kernel refuses long-term pins of it)",
		       strerror(-ret));
		EXPECT_EQ(-EFAULT, ret);
		close(s);
		munmap(p, len);
		/* A refused pin leaves nothing pinned. */
		EXPECT_EQ(0, ipcu_test_seal(fd, 0));
		close(fd);
		EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
		return;
	}
	TH_LOG("XDP_UMEM_REG over a region mapping accepted: pages pinned");

	/* Pin, then clone. */
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(n, stats_of(c).private_pages);
	EXPECT_EQ(0, stats_of(c).shared_pages);
	EXPECT_EQ(n, stats_of(fd).private_pages);
	EXPECT_EQ(self->pages + 2 * (long)n, ipcu_test_stat("pages"));
	/* The pinned pages stay the source's: writes go there, in place. */
	ipcu_test_gen_fill(p, len, 0x3b);
	EXPECT_EQ(0, stats_of(fd).cow_copies);
	q = ipcu_test_map(c, n, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0x3a, buf_val(q, len));
	ipcu_test_gen_fill(q, len, 0x3c);
	EXPECT_EQ(0x3b, buf_val(p, len));
	EXPECT_EQ(0, stats_of(c).cow_copies);
	munmap(q, len);
	close(c);
	munmap(p, len);
	/* No seal while pinned, even without mappings. */
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	close(s);
	EXPECT_EQ(0, seal_eventually(fd));
	close(fd);

	/* Clone, then pin the source: the pin breaks the sharing first. */
	fd = ipcu_test_region_create(self->dev, len, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, n, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ipcu_test_gen_fill(p, len, 0x4a);
	c = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, c);
	s = socket(AF_XDP, SOCK_RAW, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, umem_reg(s, p, len));
	EXPECT_EQ(n, stats_of(fd).cow_copies);
	EXPECT_EQ(n, stats_of(c).private_pages);
	ipcu_test_gen_fill(p, len, 0x4b);
	q = ipcu_test_map(c, n, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0x4a, buf_val(q, len));
	munmap(q, len);
	munmap(p, len);
	close(s);
	close(c);
	EXPECT_EQ(0, seal_eventually(fd));
	close(fd);
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
}

/*
 * A long-term pin taken while a clone is being made.  Every page of the
 * source ends up pinned, so none may end up shared with the clone: pinned
 * before the clone reached it, the clone copies it; pinned after the
 * clone, the pin's FOLL_WRITE breaks the sharing first.  A page pinned
 * after the clone raised its owner count but before it zapped the source's
 * page tables is pinned while shared: a device writing it would write into
 * the clone, and the source's next write moves the source off the page.
 *
 * Either the pin or the clone starts a little later, by a different
 * fraction of how long a clone of this size takes in every round, so that
 * the two meet at different points (race_offset()); no timing is asserted.
 */
#define RACE_PAGES	2048
#define RACE_ROUNDS	32

struct umem_race {
	struct start_line line;
	int sock;
	void *addr;
	size_t len;
	long long delay_ns;
	int ret;
};

static void *umem_racer(void *arg)
{
	struct umem_race *u = arg;

	to_cpu(1);
	start_wait(&u->line);
	spin_ns(u->delay_ns);
	u->ret = umem_reg(u->sock, u->addr, u->len);
	return NULL;
}

TEST_F_TIMEOUT(pin, af_xdp_pin_racing_clone, 240)
{
	size_t len = RACE_PAGES * self->pg;
	int round, fd, c, shared_rounds = 0;
	long long clone_ns = 0, off;
	struct umem_race u;
	uint64_t shared;
	pthread_t t;
	void *p;

	u.sock = socket(AF_XDP, SOCK_RAW, 0);
	if (u.sock < 0)
		SKIP(return, "AF_XDP socket: %s", strerror(errno));
	close(u.sock);

	to_cpu(0);
	for (round = 0; round < RACE_ROUNDS; round++) {
		u.sock = socket(AF_XDP, SOCK_RAW, 0);
		ASSERT_LE(0, u.sock);
		fd = ipcu_test_region_create(self->dev, len, NULL, 0);
		ASSERT_LE(0, fd);
		p = ipcu_test_map(fd, RACE_PAGES, RW, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		ipcu_test_gen_fill(p, len, 0x70 + round);
		if (!round)
			clone_ns = clone_time_ns(fd);
		/* Registering takes a while before it pins: spread wider. */
		off = race_offset(round, clone_ns, 16, 16);
		u.addr = p;
		u.len = len;
		u.delay_ns = off > 0 ? off : 0;
		memset(&u.line, 0, sizeof(u.line));
		ASSERT_EQ(0, pthread_create(&t, NULL, umem_racer, &u));
		start_go(&u.line);
		spin_ns(off < 0 ? -off : 0);
		c = ipcu_test_clone(fd, 0);
		pthread_join(t, NULL);
		ASSERT_LE(0, c);
		if (u.ret) {
			close(u.sock);
			munmap(p, len);
			close(c);
			close(fd);
			ASSERT_EQ(-EFAULT, u.ret);
			TH_LOG("XDP_UMEM_REG refused (%s): nothing to race",
			       strerror(-u.ret));
			return;
		}
		shared = stats_of(c).shared_pages;
		if (shared && !shared_rounds++)
			TH_LOG("round %d: %llu pinned pages of the source are shared with the clone (source cow_copies %llu)",
			       round, (unsigned long long)shared,
			       (unsigned long long)stats_of(fd).cow_copies);
		close(u.sock);
		munmap(p, len);
		close(c);
		close(fd);
	}
	TH_LOG("a clone of %d pages takes about %lld us here", RACE_PAGES,
	       clone_ns / 1000);
	EXPECT_EQ(0, shared_rounds) TH_LOG("in %d of %d rounds", shared_rounds,
					   RACE_ROUNDS);
}

TEST_HARNESS_MAIN
