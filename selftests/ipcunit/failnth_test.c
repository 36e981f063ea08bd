// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection at every allocation (THREATS 18): each ioctl, mmap,
 * fault, poll and release path is repeated with
 * /proc/self/task/<tid>/fail-nth set to 1, 2, 3, ... until the operation
 * completes without reaching its n-th fault.
 *
 * At every step the result must be the operation's success (the kernel got
 * over the injected failure: "absorbed"), an errno that
 * Documentation/userspace-api.rst lists for the operation, or SIGBUS for a
 * memory access (accesses run in a forked child).  The objects the step
 * worked on are left as they were, or as the operation made them; a
 * bystander channel and region made at setup still work and are unchanged;
 * no fd is left behind; and once the step's objects are closed and its
 * children reaped, the module's live counters are back at their baseline.
 *
 * failslab, fail_page_alloc and fail_usercopy are set up so that any
 * allocation may fail (sleeping ones, highmem ones, order 0) without a
 * console report (verbose 0), with probability 0: fail-nth alone injects,
 * and only into this task.  Every knob changed is restored afterwards.
 * Kernels without CONFIG_FAULT_INJECTION (the stock Debian ones) skip.
 *
 * fork() is not swept: an injected failure of the child's vmalloc'ed
 * stack makes the core print a warn_alloc() trace, which the VM runner
 * must count as a report.  The VMA duplication of ipcunit mappings is
 * exercised by death_test, cow_test and the fuzzer instead.
 *
 * Each path logs one line, and a last test the totals:
 *   # failnth: <path>: <n> injection points[: <k> <errno>, ..., <j> absorbed]; no leak, ...
 */
#include <poll.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define RW		(PROT_READ | PROT_WRITE)
#define ENTRIES		4
#define MAX_MSG		64

/* An operation that still reaches a fault after this many steps loops. */
#define FN_MAX_STEPS	10000

/* What a step returns when its access raised SIGBUS (errnos are < 0). */
#define FN_SIGBUS	1

#define FN_ERRNOS	3

/* The bytes the fault paths find and write. */
#define OLD		0x11
#define NEW		0x22

#define DEBUGFS		"/sys/kernel/debug/"

/* Fault-injection knobs: any allocation may fail, quietly. */
static const struct {
	const char *file;
	const char *value;
	bool optional;
} fi_knobs[] = {
	{ "failslab/verbose", "0" },
	{ "failslab/ignore-gfp-wait", "N" },
	{ "failslab/cache-filter", "N" },
	{ "fail_page_alloc/verbose", "0" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order", "0" },
	/* CONFIG_FAULT_INJECTION_USERCOPY: copies may fail (EFAULT). */
	{ "fail_usercopy/verbose", "0", true },
};

#define NR_KNOBS	(sizeof(fi_knobs) / sizeof(fi_knobs[0]))

/* With a probability, faults would hit other tasks and the bystanders. */
static const char * const fi_probabilities[] = {
	"failslab/probability",
	"fail_page_alloc/probability",
	"fail_usercopy/probability",
};

/* Flags of a path (struct fn_path.flags). */
#define FN_NAMED	(1U << 0)	/* the object has a name */
#define FN_LEFT		(1U << 1)	/* the peer role was held, then released */
#define FN_POPULATED	(1U << 2)	/* the region's pages are touched */
#define FN_PIPE		(1U << 3)	/* a pipe holds a region page (vmsplice) */
#define FN_EVENTFD	(1U << 4)	/* an eventfd is registered */
#define FN_MSG		(1U << 5)	/* a message is committed */

/* What a mmap path maps (struct fn_path.area). */
enum fn_area {
	AREA_CONS_CTRL,		/* consumer: its control page, writable */
	AREA_PROD_CTRL,		/* producer: its control page, writable */
	AREA_DESC,		/* producer: the descriptors, writable */
	AREA_PAYLOAD,		/* producer: the payload, writable */
	AREA_CHAN_RO,		/* consumer: everything, read-only */
	AREA_REGION_RW,		/* a region, writable */
	AREA_REGION_RO,		/* a region, read-only */
};

struct fn_path;

/* Everything one step works on; prepare() makes it, fn_release() frees it. */
struct fn_ctx {
	const struct fn_path *p;
	int dev;
	size_t pg;
	char name[IPCU_NAME_MAX];

	int fd[3];			/* objects made by prepare(), or -1 */
	struct ipcu_ep prod, cons;	/* a mapped pair, if ->pair */
	bool pair;
	int efd;			/* an eventfd, or -1 */
	int pfd[2];			/* a pipe, or -1 */
	int epfd;			/* an epoll instance, or -1 */
	unsigned char *map[2];		/* mappings made by prepare(), or NULL */
	size_t len[2];
	int st_fd[2];			/* region fds behind map[], or -1 */

	/* The step's mmap() arguments and result. */
	int mfd;
	off_t moff;
	size_t mlen;
	int mprot;
	unsigned char *out_map;

	int out;			/* the fd the step made, or -1 */

	/* Snapshots before the step, and the step's results. */
	struct ipcu_ep_info info;
	struct ipcu_region_stats st;
	struct ipcu_version ver;
	struct ipcu_ep_info info_out;
	struct ipcu_region_stats st_out;
	struct ipcu_wait wait;
};

typedef void (*fn_prepare_t)(struct __test_metadata *_metadata,
			     struct fn_ctx *c);
typedef int (*fn_step_t)(struct fn_ctx *c);
typedef void (*fn_finish_t)(struct __test_metadata *_metadata,
			    struct fn_ctx *c, int ret);

/**
 * struct fn_path - one operation to sweep
 * @label: its name in the log.
 * @prepare: make the objects the step works on; nothing is injected yet.
 * @step: the operation, with fail-nth armed: one system call or one memory
 *	access, nothing else.  Returns 0 or -errno (FN_SIGBUS from the child
 *	runner for an access that raised SIGBUS).
 * @finish: check the objects after the step, given its result.
 * @ok: what @step returns when nothing fails.
 * @errnos: what else it may return (0-terminated): the documented errnos.
 * @access: @step is a memory access: run it in a forked child.
 * @flags: FN_*.
 * @ioc_flags: flags of the ioctl (IPCU_CLONE_SEAL, IPCU_ATTACH_RDONLY).
 * @area: enum fn_area of a mmap path.
 */
struct fn_path {
	const char *label;
	fn_prepare_t prepare;
	fn_step_t step;
	fn_finish_t finish;
	int ok;
	int errnos[FN_ERRNOS];
	bool access;
	unsigned int flags;
	unsigned int ioc_flags;
	enum fn_area area;
};

/* Totals over every path, in memory shared by the harness's test children. */
struct fn_totals {
	unsigned int paths;
	unsigned int points;
	unsigned int absorbed;
	unsigned int enomem;
	unsigned int efault;
	unsigned int sigbus;
	unsigned int other;
	unsigned long long ms;
};

static struct fn_totals *fn_totals;

static void __attribute__((constructor)) fn_totals_init(void)
{
	fn_totals = ipcu_test_shared(sizeof(*fn_totals));
}

static const char *fn_name(int ret)
{
	static char buf[24];

	switch (ret) {
	case 0:
		return "success";
	case FN_SIGBUS:
		return "SIGBUS";
	case -ENOMEM:
		return "ENOMEM";
	case -EFAULT:
		return "EFAULT";
	case -EAGAIN:
		return "EAGAIN";
	case -ETIMEDOUT:
		return "ETIMEDOUT";
	}
	snprintf(buf, sizeof(buf), "errno %d", -ret);
	return buf;
}

/* --- fail-nth and the debugfs knobs -------------------------------------- */

static int knob_read(const char *file, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int knob_write(const char *file, const char *val)
{
	size_t len = strlen(val);
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void fi_path(char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
}

static int fi_open(void)
{
	char path[64];

	fi_path(path, sizeof(path));
	return open(path, O_RDWR | O_CLOEXEC);
}

/* The calling task's @n-th fault from now on fails: 0 or -1. */
static int fi_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return write(fd, buf, len) == len ? 0 : -1;
}

/*
 * Read fail-nth back (0: the n-th fault was injected) and switch it off.
 * If the step did not get as far, this read and write count as well: the
 * read's copy to user space may take the last count itself and fail with
 * EFAULT, a write likewise; either way the fault was not the step's, and a
 * second write finds fail-nth at 0 and clears it for good.
 */
static bool fi_disarm(int fd)
{
	char buf[16];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);
	bool hit = false;

	if (len > 0) {
		buf[len] = '\0';
		hit = strtoul(buf, NULL, 10) == 0;
	}
	while (write(fd, "0", 1) < 0 && errno == EFAULT)
		;
	return hit;
}

/* --- small helpers -------------------------------------------------------- */

static __u32 state_of(int fd)
{
	struct ipcu_ep_info info;

	return ipcu_test_ep_info(fd, &info) ? ~0U : info.state;
}

static int revents_of(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

static struct ipcu_region_stats stats_of(int fd)
{
	struct ipcu_region_stats s;

	if (ipcu_test_region_stats(fd, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

/* An eventfd's count, 0 if it was not signalled; it is reset. */
static unsigned long long efd_take(int efd)
{
	eventfd_t v = 0;

	return eventfd_read(efd, &v) ? 0 : v;
}

/* VMAs of this process inside [@addr, @addr + @len). */
static int vmas_in(const void *addr, size_t len)
{
	unsigned long lo = (unsigned long)addr, hi = lo + len, s, e;
	char line[512];
	FILE *f;
	int n = 0;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s >= lo && e <= hi)
			n++;
	fclose(f);
	return n;
}

static int set_efd(int fd, __u32 event, int efd)
{
	struct ipcu_ep_eventfd e;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.fd = efd;
	return ipcu_test_ioctl(fd, IPCU_IOC_EP_EVENTFD, &e);
}

static int chan_raw(struct fn_ctx *c, const char *name, __u32 role)
{
	return ipcu_test_create(c->dev, ENTRIES, MAX_MSG, c->pg, name,
				name ? 0600 : 0, role);
}

static unsigned char *map_fd(int fd, size_t len, int prot, off_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

/* --- prepare(): the objects a step works on -------------------------------- */

static void prep_none(struct __test_metadata *_metadata, struct fn_ctx *c)
{
}

/* fd[0]: a producer, unnamed or named; its consumer held and gone if LEFT. */
static void prep_chan(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	bool named = c->p->flags & FN_NAMED;
	int peer;

	c->fd[0] = chan_raw(c, named ? c->name : NULL, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, c->fd[0]);
	if (c->p->flags & FN_LEFT) {
		peer = named ? ipcu_test_attach(c->dev, c->name,
						IPCU_ROLE_CONSUMER) :
			       ipcu_test_peer(c->fd[0]);
		ASSERT_LE(0, peer);
		close(peer);
		ASSERT_EQ(IPCU_STATE_PEER_GONE, state_of(c->fd[0]));
	}
	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &c->info));
}

/* fd[0] producer, fd[1] consumer; efd, registered for DATA if EVENTFD. */
static void prep_raw_pair(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	c->fd[0] = chan_raw(c, NULL, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, c->fd[0]);
	c->fd[1] = ipcu_test_peer(c->fd[0]);
	ASSERT_LE(0, c->fd[1]);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, c->efd);
	if (c->p->flags & FN_EVENTFD)
		ASSERT_EQ(0, set_efd(c->fd[1], IPCU_EV_DATA, c->efd));
	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &c->info));
}

/* A pair mapped by the user library; a message committed if MSG. */
static void prep_lib_pair(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	ASSERT_EQ(0, ipcu_test_pair(&c->prod, &c->cons, ENTRIES, MAX_MSG,
				    c->pg));
	c->pair = true;
	if (c->p->flags & FN_MSG) {
		ASSERT_EQ(0, ipcu_test_put(&c->prod, 1, 32));
		ASSERT_LE(0, ipcu_flush(&c->prod));
	}
	ASSERT_EQ(0, ipcu_test_ep_info(c->prod.fd, &c->info));
}

/* fd[0]: a named region of two pages. */
static void prep_named_region(struct __test_metadata *_metadata,
			      struct fn_ctx *c)
{
	c->fd[0] = ipcu_test_region_create(c->dev, 2 * c->pg, c->name, 0600);
	ASSERT_LE(0, c->fd[0]);
}

/*
 * fd[0]: a region of two pages, mapped writable at map[0]; its pages
 * touched (OLD) if POPULATED; page 0 held by a pipe too if PIPE.
 */
static void prep_region(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	struct iovec iov;

	c->fd[0] = ipcu_test_region_create(c->dev, 2 * c->pg, NULL, 0);
	ASSERT_LE(0, c->fd[0]);
	c->len[0] = 2 * c->pg;
	c->map[0] = map_fd(c->fd[0], c->len[0], RW, 0);
	ASSERT_TRUE(c->map[0] != NULL);
	c->st_fd[0] = c->fd[0];
	if (c->p->flags & FN_POPULATED)
		memset(c->map[0], OLD, c->len[0]);
	if (c->p->flags & FN_PIPE) {
		ASSERT_EQ(0, pipe2(c->pfd, O_CLOEXEC));
		iov.iov_base = c->map[0];
		iov.iov_len = c->pg;
		ASSERT_EQ((ssize_t)c->pg, vmsplice(c->pfd[1], &iov, 1, 0));
	}
	c->st = stats_of(c->fd[0]);
}

/* The arguments of a mmap path's step. */
static void prep_mmap(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	struct ipcu_ep_info info;

	if (c->p->area == AREA_REGION_RW || c->p->area == AREA_REGION_RO) {
		c->fd[0] = ipcu_test_region_create(c->dev, 2 * c->pg, NULL, 0);
		ASSERT_LE(0, c->fd[0]);
		c->mfd = c->fd[0];
		c->moff = 0;
		c->mlen = 2 * c->pg;
		c->mprot = c->p->area == AREA_REGION_RW ? RW : PROT_READ;
		return;
	}

	c->fd[0] = chan_raw(c, NULL, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, c->fd[0]);
	c->fd[1] = ipcu_test_peer(c->fd[0]);
	ASSERT_LE(0, c->fd[1]);
	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &info));
	c->mfd = c->fd[0];
	c->mprot = RW;
	c->mlen = c->pg;
	switch (c->p->area) {
	case AREA_CONS_CTRL:
		c->mfd = c->fd[1];
		c->moff = info.cons_ctrl_off;
		break;
	case AREA_PROD_CTRL:
		c->moff = info.prod_ctrl_off;
		break;
	case AREA_DESC:
		c->moff = info.desc_off;
		c->mlen = info.desc_bytes;
		break;
	case AREA_PAYLOAD:
		c->moff = info.payload_off;
		c->mlen = info.payload_bytes;
		break;
	default:
		c->mfd = c->fd[1];
		c->moff = 0;
		c->mlen = info.map_bytes;
		c->mprot = PROT_READ;
		break;
	}
}

/* fd[0]: a region of three pages, mapped writable at map[0], touched. */
static void prep_split(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	c->fd[0] = ipcu_test_region_create(c->dev, 3 * c->pg, NULL, 0);
	ASSERT_LE(0, c->fd[0]);
	c->len[0] = 3 * c->pg;
	c->map[0] = map_fd(c->fd[0], c->len[0], RW, 0);
	ASSERT_TRUE(c->map[0] != NULL);
	memset(c->map[0], OLD, c->len[0]);
	ASSERT_EQ(1, stats_of(c->fd[0]).writable_maps);
}

/* A fresh region page at map[0], read-only or writable. */
static void prep_fault_region(struct __test_metadata *_metadata,
			      struct fn_ctx *c)
{
	c->fd[0] = ipcu_test_region_create(c->dev, c->pg, NULL, 0);
	ASSERT_LE(0, c->fd[0]);
	c->len[0] = c->pg;
	c->map[0] = map_fd(c->fd[0], c->len[0],
			   c->p->area == AREA_REGION_RW ? RW : PROT_READ, 0);
	ASSERT_TRUE(c->map[0] != NULL);
	c->st_fd[0] = c->fd[0];
}

/* A fresh channel's payload page at map[0]: the producer's or consumer's. */
static void prep_fault_payload(struct __test_metadata *_metadata,
			       struct fn_ctx *c)
{
	struct ipcu_ep_info info;
	bool rw = c->p->area == AREA_PAYLOAD;

	c->fd[0] = chan_raw(c, NULL, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, c->fd[0]);
	c->fd[1] = ipcu_test_peer(c->fd[0]);
	ASSERT_LE(0, c->fd[1]);
	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &info));
	c->len[0] = info.payload_bytes;
	c->map[0] = map_fd(rw ? c->fd[0] : c->fd[1], c->len[0],
			   rw ? RW : PROT_READ, info.payload_off);
	ASSERT_TRUE(c->map[0] != NULL);
}

/*
 * A page shared copy-on-write, holding OLD, both sides mapped writable.
 * map[0] is the side the step writes, map[1] the other side, st_fd[] the
 * region fds behind them (-1 for a channel).  AREA_REGION_RW: a region
 * (fd[0]) is written, its clone (fd[1]) is not; AREA_REGION_RO: the clone
 * is written; AREA_PAYLOAD: a producer (fd[0]) writes its payload, cloned
 * into fd[1].
 */
static void prep_cow(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	struct ipcu_ep_info info;
	unsigned char *src, *clone;
	off_t off = 0;
	int i;

	if (c->p->area == AREA_PAYLOAD) {
		c->fd[0] = chan_raw(c, NULL, IPCU_ROLE_PRODUCER);
		ASSERT_LE(0, c->fd[0]);
		ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &info));
		off = info.payload_off;
	} else {
		c->fd[0] = ipcu_test_region_create(c->dev, c->pg, NULL, 0);
		ASSERT_LE(0, c->fd[0]);
	}
	src = map_fd(c->fd[0], c->pg, RW, off);
	ASSERT_TRUE(src != NULL);
	memset(src, OLD, c->pg);
	c->fd[1] = ipcu_test_clone(c->fd[0], 0);
	ASSERT_LE(0, c->fd[1]);
	clone = map_fd(c->fd[1], c->pg, RW, 0);
	ASSERT_TRUE(clone != NULL);
	ASSERT_EQ(1, stats_of(c->fd[1]).shared_pages);

	i = c->p->area == AREA_REGION_RO;
	c->map[i] = src;
	c->map[!i] = clone;
	c->len[0] = c->pg;
	c->len[1] = c->pg;
	c->st_fd[i] = c->p->area == AREA_PAYLOAD ? -1 : c->fd[0];
	c->st_fd[!i] = c->fd[1];
}

/* fd[0] producer with a PEER_GONE eventfd, fd[1] consumer; pair for epoll. */
static void prep_release(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	c->fd[0] = chan_raw(c, NULL, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, c->fd[0]);
	c->fd[1] = ipcu_test_peer(c->fd[0]);
	ASSERT_LE(0, c->fd[1]);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, c->efd);
	ASSERT_EQ(0, set_efd(c->fd[0], IPCU_EV_PEER_GONE, c->efd));
}

/* The consumer (fd[1]) held only by a mapping of it at map[0]. */
static void prep_mapped_only(struct __test_metadata *_metadata,
			     struct fn_ctx *c)
{
	struct ipcu_ep_info info;

	prep_release(_metadata, c);
	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[1], &info));
	c->len[0] = info.map_bytes;
	c->map[0] = map_fd(c->fd[1], c->len[0], PROT_READ, 0);
	ASSERT_TRUE(c->map[0] != NULL);
	close(c->fd[1]);
	c->fd[1] = -1;
	ASSERT_EQ(IPCU_STATE_PEER_PRESENT, state_of(c->fd[0]));
}

static void prep_epoll(struct __test_metadata *_metadata, struct fn_ctx *c)
{
	prep_release(_metadata, c);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, c->epfd);
}

/* fd[0]: a region of one page, touched, not mapped. */
static void prep_region_unmapped(struct __test_metadata *_metadata,
				 struct fn_ctx *c)
{
	unsigned char *p;

	c->fd[0] = ipcu_test_region_create(c->dev, c->pg, NULL, 0);
	ASSERT_LE(0, c->fd[0]);
	p = map_fd(c->fd[0], c->pg, RW, 0);
	ASSERT_TRUE(p != NULL);
	memset(p, OLD, c->pg);
	munmap(p, c->pg);
	c->st = stats_of(c->fd[0]);
	ASSERT_EQ(0, c->st.writable_maps);
}

/* --- steps: one system call or one access each ------------------------- */

static int step_version(struct fn_ctx *c)
{
	return ipcu_test_ioctl(c->dev, IPCU_IOC_VERSION, &c->ver);
}

static int step_chan_create(struct fn_ctx *c)
{
	struct ipcu_chan_create cc;
	int ret;

	memset(&cc, 0, sizeof(cc));
	cc.ring_entries = ENTRIES;
	cc.max_msg = MAX_MSG;
	cc.payload_bytes = c->pg;
	cc.role = IPCU_ROLE_PRODUCER;
	if (c->p->flags & FN_NAMED) {
		cc.name = (__u64)(uintptr_t)c->name;
		cc.mode = 0600;
	}
	ret = ipcu_test_ioctl(c->dev, IPCU_IOC_CHAN_CREATE, &cc);
	if (!ret)
		c->out = cc.fd;
	return ret;
}

static int step_chan_attach(struct fn_ctx *c)
{
	struct ipcu_chan_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.role = IPCU_ROLE_CONSUMER;
	a.name = (__u64)(uintptr_t)c->name;
	ret = ipcu_test_ioctl(c->dev, IPCU_IOC_CHAN_ATTACH, &a);
	if (!ret)
		c->out = a.fd;
	return ret;
}

static int step_ep_peer(struct fn_ctx *c)
{
	struct ipcu_ep_peer p;
	int ret;

	memset(&p, 0, sizeof(p));
	ret = ipcu_test_ioctl(c->fd[0], IPCU_IOC_EP_PEER, &p);
	if (!ret)
		c->out = p.fd;
	return ret;
}

static int step_ep_info(struct fn_ctx *c)
{
	return ipcu_test_ioctl(c->fd[0], IPCU_IOC_EP_INFO, &c->info_out);
}

/* Register the eventfd for the consumer's DATA, or unregister it. */
static int step_eventfd(struct fn_ctx *c)
{
	struct ipcu_ep_eventfd e;

	memset(&e, 0, sizeof(e));
	e.event = IPCU_EV_DATA;
	e.fd = c->p->flags & FN_EVENTFD ? -1 : c->efd;
	return ipcu_test_ioctl(c->fd[1], IPCU_IOC_EP_EVENTFD, &e);
}

static int step_doorbell(struct fn_ctx *c)
{
	return ioctl(c->fd[0], IPCU_IOC_DOORBELL, 0) < 0 ? -errno : 0;
}

/* WAIT on the consumer: at once, with the producer's doorbell, or 1 ms. */
static int step_wait(struct fn_ctx *c)
{
	memset(&c->wait, 0, sizeof(c->wait));
	c->wait.doorbell_fd = -1;
	if (c->p->ioc_flags & IPCU_WAIT_DOORBELL) {
		c->wait.flags = IPCU_WAIT_DOORBELL;
		c->wait.doorbell_fd = c->prod.fd;
		c->wait.timeout_ns = -1;
	} else if (!(c->p->flags & FN_MSG)) {
		c->wait.timeout_ns = 1000000;
	}
	return ipcu_test_ioctl(c->cons.fd, IPCU_IOC_WAIT, &c->wait);
}

static int step_region_create(struct fn_ctx *c)
{
	struct ipcu_region_create rc;
	int ret;

	memset(&rc, 0, sizeof(rc));
	rc.size = 2 * c->pg;
	if (c->p->flags & FN_NAMED) {
		rc.name = (__u64)(uintptr_t)c->name;
		rc.mode = 0600;
	}
	ret = ipcu_test_ioctl(c->dev, IPCU_IOC_REGION_CREATE, &rc);
	if (!ret)
		c->out = rc.fd;
	return ret;
}

static int step_region_attach(struct fn_ctx *c)
{
	struct ipcu_region_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.flags = c->p->ioc_flags;
	a.name = (__u64)(uintptr_t)c->name;
	ret = ipcu_test_ioctl(c->dev, IPCU_IOC_REGION_ATTACH, &a);
	if (!ret)
		c->out = a.fd;
	return ret;
}

/* CLONE of fd[0], or of the producer of a library pair. */
static int step_clone(struct fn_ctx *c)
{
	struct ipcu_clone cl;
	int ret;

	memset(&cl, 0, sizeof(cl));
	cl.flags = c->p->ioc_flags;
	ret = ipcu_test_ioctl(c->pair ? c->prod.fd : c->fd[0], IPCU_IOC_CLONE,
			      &cl);
	if (!ret)
		c->out = cl.fd;
	return ret;
}

static int step_seal(struct fn_ctx *c)
{
	return ioctl(c->fd[0], IPCU_IOC_SEAL, 0) < 0 ? -errno : 0;
}

static int step_region_stats(struct fn_ctx *c)
{
	return ipcu_test_ioctl(c->fd[0], IPCU_IOC_REGION_STATS, &c->st_out);
}

static int step_mmap(struct fn_ctx *c)
{
	void *p = mmap(NULL, c->mlen, c->mprot, MAP_SHARED, c->mfd, c->moff);

	if (p == MAP_FAILED)
		return -errno;
	c->out_map = p;
	return 0;
}

/* Unmap the middle page of three: the VMA splits in two. */
static int step_munmap_middle(struct fn_ctx *c)
{
	return munmap(c->map[0] + c->pg, c->pg) ? -errno : 0;
}

static int step_munmap(struct fn_ctx *c)
{
	return munmap(c->map[0], c->len[0]) ? -errno : 0;
}

static int step_read(struct fn_ctx *c)
{
	return *(volatile unsigned char *)c->map[0] == 0 ? 0 : -EIO;
}

static int step_write(struct fn_ctx *c)
{
	*(volatile unsigned char *)c->map[0] = NEW;
	return 0;
}

/* poll() the consumer for 1 ms: it is queued on the channel, then not. */
static int step_poll(struct fn_ctx *c)
{
	struct pollfd p = { .fd = c->fd[1], .events = POLLIN };

	return poll(&p, 1, 1) < 0 ? -errno : 0;
}

static int step_epoll_add(struct fn_ctx *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->fd[1], &ev) ? -errno : 0;
}

/* Close the consumer, or the region, holding the last reference. */
static int step_close(struct fn_ctx *c)
{
	int fd = c->fd[1] >= 0 ? c->fd[1] : c->fd[0];

	return close(fd) ? -errno : 0;
}

/* --- finish(): the objects after the step ------------------------------- */

static void fin_version(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	if (ret)
		return;
	ASSERT_EQ(IPCU_ABI_MAJOR, c->ver.abi_major);
	ASSERT_EQ(c->pg, c->ver.page_size);
	ASSERT_TRUE(c->ver.features & IPCU_FEAT_REGION);
}

static void fin_chan_create(struct __test_metadata *_metadata,
			    struct fn_ctx *c, int ret)
{
	bool named = c->p->flags & FN_NAMED;
	struct ipcu_ep_info info;
	int peer;

	if (ret) {
		/* Nothing was installed, nothing is findable. */
		ASSERT_EQ(-1, c->out);
		if (named)
			ASSERT_EQ(-ENOENT, ipcu_test_attach(c->dev, c->name,
							    IPCU_ROLE_CONSUMER));
		return;
	}
	ASSERT_EQ(0, ipcu_test_ep_info(c->out, &info));
	ASSERT_EQ(IPCU_ROLE_PRODUCER, info.role);
	ASSERT_EQ(c->pg, info.payload_bytes);
	ASSERT_EQ(0, info.state);
	peer = named ? ipcu_test_attach(c->dev, c->name, IPCU_ROLE_CONSUMER) :
		       ipcu_test_peer(c->out);
	ASSERT_LE(0, peer);
	close(peer);
}

/*
 * CHAN_ATTACH and EP_PEER: a new consumer is there, or the producer's view
 * is exactly what it was (a failed attempt is no arrival and no departure).
 */
static void fin_attach(struct __test_metadata *_metadata, struct fn_ctx *c,
		       int ret)
{
	bool gone = c->info.state & IPCU_STATE_PEER_GONE;
	struct ipcu_ep_info info;
	int rev;

	if (!ret) {
		ASSERT_EQ(0, ipcu_test_ep_info(c->out, &info));
		ASSERT_EQ(IPCU_ROLE_CONSUMER, info.role);
		ASSERT_EQ(IPCU_STATE_PEER_PRESENT, info.state);
		ASSERT_EQ(IPCU_STATE_PEER_PRESENT, state_of(c->fd[0]));
		return;
	}
	ASSERT_EQ(-1, c->out);
	ASSERT_EQ(c->info.state, state_of(c->fd[0]))
		TH_LOG("%s failed with %s: the producer's state changed",
		       c->p->label, fn_name(ret));
	rev = revents_of(c->fd[0]);
	ASSERT_LE(0, rev);
	ASSERT_EQ(gone, !!(rev & POLLHUP));
	/* The role is free. */
	c->out = ipcu_test_peer(c->fd[0]);
	ASSERT_LE(0, c->out) TH_LOG("peer after a failed attach: %s",
				    fn_name(c->out));
}

static void fin_ep_info(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	if (ret)
		return;
	ASSERT_EQ(IPCU_ROLE_PRODUCER, c->info_out.role);
	ASSERT_EQ(c->pg, c->info_out.payload_bytes);
	ASSERT_EQ(ENTRIES, c->info_out.ring_entries);
	ASSERT_EQ(c->info.map_bytes, c->info_out.map_bytes);
}

/* Ring the producer's doorbell: the eventfd fires iff it is registered. */
static void fin_eventfd(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	bool unregister = c->p->flags & FN_EVENTFD;
	bool registered = unregister ? ret != 0 : ret == 0;

	ASSERT_EQ(0, efd_take(c->efd));
	ASSERT_EQ(0, ioctl(c->fd[0], IPCU_IOC_DOORBELL, 0));
	ASSERT_EQ(registered ? 1 : 0, efd_take(c->efd))
		TH_LOG("%s: %s", c->p->label, fn_name(ret));
}

static void fin_doorbell(struct __test_metadata *_metadata, struct fn_ctx *c,
			 int ret)
{
	struct ipcu_ep_info info;

	ASSERT_EQ(0, ipcu_test_ep_info(c->fd[0], &info));
	ASSERT_EQ(c->info.doorbells + (ret ? 0 : 1), info.doorbells);
	ASSERT_EQ(ret ? 0 : 1, efd_take(c->efd));
}

static void fin_wait(struct __test_metadata *_metadata, struct fn_ctx *c,
		     int ret)
{
	struct ipcu_ep_info info;

	if (ret != c->p->ok)
		return;
	if (c->p->flags & FN_MSG)
		ASSERT_TRUE(c->wait.revents & POLLIN);
	if (c->p->ioc_flags & IPCU_WAIT_DOORBELL) {
		ASSERT_EQ(0, ipcu_test_ep_info(c->prod.fd, &info));
		ASSERT_EQ(c->info.doorbells + 1, info.doorbells);
	}
	/* The message is intact. */
	if (c->p->flags & FN_MSG)
		ASSERT_EQ(0, ipcu_test_get(&c->cons, 1));
}

static void fin_region_create(struct __test_metadata *_metadata,
			      struct fn_ctx *c, int ret)
{
	bool named = c->p->flags & FN_NAMED;
	struct ipcu_region_stats s;
	int fd;

	if (ret) {
		ASSERT_EQ(-1, c->out);
		if (named)
			ASSERT_EQ(-ENOENT, ipcu_test_region_attach(c->dev,
								   c->name, 0));
		return;
	}
	s = stats_of(c->out);
	ASSERT_EQ(2 * c->pg, s.size);
	ASSERT_EQ(0, s.private_pages + s.shared_pages);
	if (named) {
		fd = ipcu_test_region_attach(c->dev, c->name, 0);
		ASSERT_LE(0, fd);
		close(fd);
	}
}

static void fin_region_attach(struct __test_metadata *_metadata,
			      struct fn_ctx *c, int ret)
{
	int mode = c->p->ioc_flags & IPCU_ATTACH_RDONLY ? O_RDONLY : O_RDWR;

	if (ret) {
		ASSERT_EQ(-1, c->out);
		return;
	}
	ASSERT_EQ(mode, fcntl(c->out, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(2 * c->pg, stats_of(c->out).size);
}

/*
 * A clone of a region: the source is as it was after a failure; after a
 * success the clone has its size, its seal, and the source's bytes, and
 * shares every populated page but one held by a pipe.
 */
static void fin_clone_region(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	bool populated = c->p->flags & FN_POPULATED;
	struct ipcu_region_stats src = stats_of(c->fd[0]), cl;
	__u64 shared = populated ? 2 : 0;
	unsigned char *p;
	size_t i;

	if (c->p->flags & FN_PIPE)
		shared = 1;
	for (i = 0; i < c->len[0]; i++)
		if (c->map[0][i] != (populated ? OLD : 0))
			break;
	ASSERT_EQ(c->len[0], i) TH_LOG("source byte %zu changed", i);
	if (ret) {
		ASSERT_EQ(-1, c->out);
		ASSERT_EQ(c->st.private_pages, src.private_pages);
		ASSERT_EQ(c->st.shared_pages, src.shared_pages)
			TH_LOG("%s failed with %s: a page still counts as shared",
			       c->p->label, fn_name(ret));
		ASSERT_EQ(0, src.cow_copies);
		return;
	}
	ASSERT_EQ(shared, src.shared_pages);
	cl = stats_of(c->out);
	ASSERT_EQ(2 * c->pg, cl.size);
	ASSERT_EQ(c->p->ioc_flags & IPCU_CLONE_SEAL ? IPCU_REGION_SEALED : 0,
		  cl.state);
	ASSERT_EQ(shared, cl.shared_pages);
	ASSERT_EQ((populated ? 2 : 0) - shared, cl.private_pages);
	p = map_fd(c->out, 2 * c->pg, PROT_READ, 0);
	ASSERT_TRUE(p != NULL);
	i = memcmp(p, c->map[0], 2 * c->pg);
	munmap(p, 2 * c->pg);
	ASSERT_EQ(0, i);
}

static void fin_clone_ep(struct __test_metadata *_metadata, struct fn_ctx *c,
			 int ret)
{
	struct ipcu_region_stats cl;
	unsigned char *p;
	int diff;

	if (ret) {
		ASSERT_EQ(-1, c->out);
		ASSERT_EQ(0, ipcu_test_get(&c->cons, 1));
		return;
	}
	cl = stats_of(c->out);
	ASSERT_EQ(c->pg, cl.size);
	ASSERT_EQ(c->p->ioc_flags & IPCU_CLONE_SEAL ? IPCU_REGION_SEALED : 0,
		  cl.state);
	ASSERT_EQ(1, cl.shared_pages);
	p = map_fd(c->out, c->pg, PROT_READ, 0);
	ASSERT_TRUE(p != NULL);
	diff = memcmp(p, c->prod.payload, c->pg);
	munmap(p, c->pg);
	ASSERT_EQ(0, diff);
	ASSERT_EQ(0, ipcu_test_get(&c->cons, 1));
}

static void fin_seal(struct __test_metadata *_metadata, struct fn_ctx *c,
		     int ret)
{
	unsigned char *p;

	ASSERT_EQ(ret ? 0 : IPCU_REGION_SEALED, stats_of(c->fd[0]).state);
	p = map_fd(c->fd[0], c->pg, RW, 0);
	if (!ret) {
		ASSERT_TRUE(p == NULL);
		ASSERT_EQ(EPERM, errno);
	} else if (p) {
		munmap(p, c->pg);
	}
}

static void fin_region_stats(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	if (ret)
		return;
	ASSERT_EQ(2 * c->pg, c->st_out.size);
	ASSERT_EQ(0, c->st_out.private_pages);
	ASSERT_EQ(1, c->st_out.writable_maps);
}

static void fin_mmap(struct __test_metadata *_metadata, struct fn_ctx *c,
		     int ret)
{
	bool region = c->p->area == AREA_REGION_RW ||
		      c->p->area == AREA_REGION_RO;
	bool rw = c->mprot & PROT_WRITE;
	volatile unsigned char *p = c->out_map;

	if (ret) {
		ASSERT_TRUE(c->out_map == NULL);
		if (region)
			ASSERT_EQ(0, stats_of(c->fd[0]).writable_maps);
		return;
	}
	ASSERT_TRUE(c->out_map != NULL);
	if (rw)
		p[0] = p[0];
	else
		(void)p[c->mlen - 1];
	if (region) {
		ASSERT_EQ(rw ? 1 : 0, stats_of(c->fd[0]).writable_maps);
		ASSERT_EQ(1, stats_of(c->fd[0]).private_pages);
	}
	munmap(c->out_map, c->mlen);
	c->out_map = NULL;
	if (region)
		ASSERT_EQ(0, stats_of(c->fd[0]).writable_maps);
}

/*
 * Whether it split or not, the region counts each writable VMA once.  A
 * failed munmap() may leave one of its two splits done (the core does not
 * undo it: 6.1's do_mas_align_munmap()), so 1 or 2 VMAs are left then.
 */
static void fin_split(struct __test_metadata *_metadata, struct fn_ctx *c,
		      int ret)
{
	int vmas = vmas_in(c->map[0], c->len[0]);

	if (ret) {
		ASSERT_TRUE(vmas == 1 || vmas == 2) TH_LOG("%d VMAs", vmas);
	} else {
		ASSERT_EQ(2, vmas);
	}
	ASSERT_EQ(vmas, stats_of(c->fd[0]).writable_maps);
	ASSERT_EQ(OLD, c->map[0][0]);
	ASSERT_EQ(OLD, c->map[0][2 * c->pg]);
	if (ret)
		ASSERT_EQ(OLD, c->map[0][c->pg]);
}

/* A first touch: the page is there after a success, not after SIGBUS. */
static void fin_fault_region(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	struct ipcu_region_stats s = stats_of(c->fd[0]);
	bool wrote = c->p->area == AREA_REGION_RW;

	ASSERT_EQ(ret ? 0 : 1, s.private_pages);
	if (!ret)
		ASSERT_EQ(wrote ? NEW : 0, c->map[0][0]);
}

static void fin_fault_payload(struct __test_metadata *_metadata,
			      struct fn_ctx *c, int ret)
{
	ASSERT_EQ(c->p->area == AREA_PAYLOAD ? NEW : 0, c->map[0][0]);
}

/*
 * A copy-on-write break: after a success the writer has its own page with
 * NEW and the other side still OLD; after SIGBUS both still share OLD.
 */
static void fin_cow(struct __test_metadata *_metadata, struct fn_ctx *c,
		    int ret)
{
	struct ipcu_region_stats s;

	ASSERT_EQ(ret ? OLD : NEW, c->map[0][0]);
	ASSERT_EQ(OLD, c->map[1][0]);
	if (c->st_fd[0] >= 0) {
		s = stats_of(c->st_fd[0]);
		ASSERT_EQ(ret ? 0 : 1, s.cow_copies);
		ASSERT_EQ(ret ? 1 : 0, s.shared_pages);
	}
	s = stats_of(c->st_fd[1]);
	ASSERT_EQ(0, s.cow_copies);
	ASSERT_EQ(ret ? 1 : 0, s.shared_pages);
	ASSERT_EQ(ret ? 0 : 1, s.private_pages);
}

/* The consumer's wait queue is clean: waking it and freeing it are safe. */
static void fin_poll(struct __test_metadata *_metadata, struct fn_ctx *c,
		     int ret)
{
	ASSERT_EQ(0, ioctl(c->fd[0], IPCU_IOC_DOORBELL, 0));
	ASSERT_EQ(POLLOUT, revents_of(c->fd[0]) & (POLLOUT | POLLHUP));
}

/* Registered or not; the producer leaving is an event only if it is. */
static void fin_epoll(struct __test_metadata *_metadata, struct fn_ctx *c,
		      int ret)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ASSERT_EQ(ret ? -1 : 0, epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd[1],
					  &ev));
	if (ret)
		ASSERT_EQ(ENOENT, errno);
	close(c->fd[0]);
	c->fd[0] = -1;
	ASSERT_EQ(ret ? 0 : 1, epoll_wait(c->epfd, &ev, 1, 0));
	/* The endpoint goes first, while epoll still watches it. */
	close(c->fd[1]);
	c->fd[1] = -1;
}

/* The consumer's release: the producer sees it leave, once. */
static void fin_release(struct __test_metadata *_metadata, struct fn_ctx *c,
			int ret)
{
	c->fd[1] = -1;
	ASSERT_EQ(IPCU_STATE_PEER_GONE, state_of(c->fd[0]));
	ASSERT_EQ(1, efd_take(c->efd));
}

static void fin_close_region(struct __test_metadata *_metadata,
			     struct fn_ctx *c, int ret)
{
	c->fd[0] = -1;
}

static void fin_munmap_last(struct __test_metadata *_metadata,
			    struct fn_ctx *c, int ret)
{
	if (ret) {
		ASSERT_EQ(IPCU_STATE_PEER_PRESENT, state_of(c->fd[0]));
		ASSERT_EQ(0, efd_take(c->efd));
		return;
	}
	c->map[0] = NULL;
	ASSERT_EQ(IPCU_STATE_PEER_GONE, state_of(c->fd[0]));
	ASSERT_EQ(1, efd_take(c->efd));
}

/* --- the paths ---------------------------------------------------------- */

#define ENOMEM_EFAULT	{ -ENOMEM, -EFAULT }

static const struct fn_path path_version = {
	"VERSION", prep_none, step_version, fin_version, 0, { -EFAULT },
};
static const struct fn_path path_chan_create_anon = {
	"CHAN_CREATE anonymous", prep_none, step_chan_create,
	fin_chan_create, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_chan_create_named = {
	"CHAN_CREATE named", prep_none, step_chan_create, fin_chan_create,
	0, ENOMEM_EFAULT, .flags = FN_NAMED,
};
static const struct fn_path path_chan_attach = {
	"CHAN_ATTACH", prep_chan, step_chan_attach, fin_attach, 0,
	ENOMEM_EFAULT, .flags = FN_NAMED,
};
static const struct fn_path path_chan_attach_left = {
	"CHAN_ATTACH after the peer left", prep_chan, step_chan_attach,
	fin_attach, 0, ENOMEM_EFAULT, .flags = FN_NAMED | FN_LEFT,
};
static const struct fn_path path_region_create_anon = {
	"REGION_CREATE anonymous", prep_none, step_region_create,
	fin_region_create, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_region_create_named = {
	"REGION_CREATE named", prep_none, step_region_create,
	fin_region_create, 0, ENOMEM_EFAULT, .flags = FN_NAMED,
};
static const struct fn_path path_region_attach_rw = {
	"REGION_ATTACH read-write", prep_named_region, step_region_attach,
	fin_region_attach, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_region_attach_ro = {
	"REGION_ATTACH read-only", prep_named_region, step_region_attach,
	fin_region_attach, 0, ENOMEM_EFAULT,
	.ioc_flags = IPCU_ATTACH_RDONLY,
};
static const struct fn_path path_ep_info = {
	"EP_INFO", prep_chan, step_ep_info, fin_ep_info, 0, { -EFAULT },
};
static const struct fn_path path_ep_peer = {
	"EP_PEER", prep_chan, step_ep_peer, fin_attach, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_ep_peer_left = {
	"EP_PEER after the peer left", prep_chan, step_ep_peer, fin_attach,
	0, ENOMEM_EFAULT, .flags = FN_LEFT,
};
static const struct fn_path path_eventfd_register = {
	"EP_EVENTFD register", prep_raw_pair, step_eventfd, fin_eventfd, 0,
	ENOMEM_EFAULT,
};
static const struct fn_path path_eventfd_unregister = {
	"EP_EVENTFD unregister", prep_raw_pair, step_eventfd, fin_eventfd, 0,
	{ -EFAULT }, .flags = FN_EVENTFD,
};
static const struct fn_path path_doorbell = {
	"DOORBELL", prep_raw_pair, step_doorbell, fin_doorbell, 0, { 0 },
	.flags = FN_EVENTFD,
};
static const struct fn_path path_wait_ready = {
	"WAIT timeout 0, ready", prep_lib_pair, step_wait, fin_wait, 0,
	{ -EFAULT }, .flags = FN_MSG,
};
static const struct fn_path path_wait_doorbell = {
	"WAIT with doorbell", prep_lib_pair, step_wait, fin_wait, 0,
	{ -EFAULT }, .flags = FN_MSG, .ioc_flags = IPCU_WAIT_DOORBELL,
};
static const struct fn_path path_wait_sleep = {
	"WAIT sleeping 1 ms", prep_lib_pair, step_wait, fin_wait, -ETIMEDOUT,
	{ -EFAULT },
};
static const struct fn_path path_clone_region = {
	"CLONE region, unpopulated", prep_region, step_clone,
	fin_clone_region, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_clone_region_seal = {
	"CLONE region, unpopulated, SEAL", prep_region, step_clone,
	fin_clone_region, 0, ENOMEM_EFAULT, .ioc_flags = IPCU_CLONE_SEAL,
};
static const struct fn_path path_clone_region_pop = {
	"CLONE region, populated", prep_region, step_clone, fin_clone_region,
	0, ENOMEM_EFAULT, .flags = FN_POPULATED,
};
static const struct fn_path path_clone_region_pop_seal = {
	"CLONE region, populated, SEAL", prep_region, step_clone,
	fin_clone_region, 0, ENOMEM_EFAULT, .flags = FN_POPULATED,
	.ioc_flags = IPCU_CLONE_SEAL,
};
static const struct fn_path path_clone_region_pipe = {
	"CLONE region, page held by a pipe", prep_region, step_clone,
	fin_clone_region, 0, ENOMEM_EFAULT, .flags = FN_POPULATED | FN_PIPE,
};
static const struct fn_path path_clone_ep = {
	"CLONE endpoint", prep_lib_pair, step_clone, fin_clone_ep, 0,
	ENOMEM_EFAULT, .flags = FN_MSG,
};
static const struct fn_path path_clone_ep_seal = {
	"CLONE endpoint, SEAL", prep_lib_pair, step_clone, fin_clone_ep, 0,
	ENOMEM_EFAULT, .flags = FN_MSG, .ioc_flags = IPCU_CLONE_SEAL,
};
static const struct fn_path path_seal = {
	"SEAL", prep_region_unmapped, step_seal, fin_seal, 0, { 0 },
};
static const struct fn_path path_region_stats = {
	"REGION_STATS", prep_region, step_region_stats, fin_region_stats, 0,
	{ -EFAULT },
};
static const struct fn_path path_mmap_cons_ctrl = {
	"mmap consumer control page", prep_mmap, step_mmap, fin_mmap, 0,
	{ -ENOMEM }, .area = AREA_CONS_CTRL,
};
static const struct fn_path path_mmap_prod_ctrl = {
	"mmap producer control page", prep_mmap, step_mmap, fin_mmap, 0,
	{ -ENOMEM }, .area = AREA_PROD_CTRL,
};
static const struct fn_path path_mmap_desc = {
	"mmap descriptors", prep_mmap, step_mmap, fin_mmap, 0, { -ENOMEM },
	.area = AREA_DESC,
};
static const struct fn_path path_mmap_payload = {
	"mmap payload", prep_mmap, step_mmap, fin_mmap, 0, { -ENOMEM },
	.area = AREA_PAYLOAD,
};
static const struct fn_path path_mmap_chan_ro = {
	"mmap whole channel read-only", prep_mmap, step_mmap, fin_mmap, 0,
	{ -ENOMEM }, .area = AREA_CHAN_RO,
};
static const struct fn_path path_mmap_region_rw = {
	"mmap region read-write", prep_mmap, step_mmap, fin_mmap, 0,
	{ -ENOMEM }, .area = AREA_REGION_RW,
};
static const struct fn_path path_mmap_region_ro = {
	"mmap region read-only", prep_mmap, step_mmap, fin_mmap, 0,
	{ -ENOMEM }, .area = AREA_REGION_RO,
};
static const struct fn_path path_munmap_split = {
	"munmap splitting a region mapping", prep_split, step_munmap_middle,
	fin_split, 0, { -ENOMEM },
};
static const struct fn_path path_fault_region_read = {
	"fault region page, first read", prep_fault_region, step_read,
	fin_fault_region, 0, { FN_SIGBUS }, .access = true,
	.area = AREA_REGION_RO,
};
static const struct fn_path path_fault_region_write = {
	"fault region page, first write", prep_fault_region, step_write,
	fin_fault_region, 0, { FN_SIGBUS }, .access = true,
	.area = AREA_REGION_RW,
};
static const struct fn_path path_fault_payload_read = {
	"fault payload page, first read", prep_fault_payload, step_read,
	fin_fault_payload, 0, { 0 }, .access = true, .area = AREA_CHAN_RO,
};
static const struct fn_path path_fault_payload_write = {
	"fault payload page, first write", prep_fault_payload, step_write,
	fin_fault_payload, 0, { 0 }, .access = true, .area = AREA_PAYLOAD,
};
static const struct fn_path path_fault_cow_region = {
	"fault COW break, region source", prep_cow, step_write, fin_cow, 0,
	{ FN_SIGBUS }, .access = true, .area = AREA_REGION_RW,
};
static const struct fn_path path_fault_cow_clone = {
	"fault COW break, region clone", prep_cow, step_write, fin_cow, 0,
	{ FN_SIGBUS }, .access = true, .area = AREA_REGION_RO,
};
static const struct fn_path path_fault_cow_payload = {
	"fault COW break, channel payload", prep_cow, step_write, fin_cow, 0,
	{ FN_SIGBUS }, .access = true, .area = AREA_PAYLOAD,
};
static const struct fn_path path_poll = {
	"poll", prep_release, step_poll, fin_poll, 0, ENOMEM_EFAULT,
};
static const struct fn_path path_epoll_add = {
	"epoll_ctl ADD", prep_epoll, step_epoll_add, fin_epoll, 0,
	ENOMEM_EFAULT,
};
static const struct fn_path path_close_ep = {
	"close last endpoint fd", prep_release, step_close, fin_release, 0,
	{ 0 },
};
static const struct fn_path path_close_region = {
	"close last region fd", prep_region_unmapped, step_close,
	fin_close_region, 0, { 0 },
};
static const struct fn_path path_munmap_last = {
	"munmap last endpoint mapping", prep_mapped_only, step_munmap,
	fin_munmap_last, 0, { -ENOMEM },
};

/* --- the fixture ---------------------------------------------------------- */

FIXTURE(failnth) {
	int dev;
	size_t pg;
	int fail_nth;
	char saved[NR_KNOBS][32];
	bool changed[NR_KNOBS];
	struct ipcu_test_counters start;	/* before the bystanders */
	struct ipcu_test_counters base;		/* with them */
	struct ipcu_ep bprod, bcons;
	struct ipcu_ep_info bprod_info, bcons_info;
	int breg;
	unsigned char *bmap;
	struct ipcu_region_stats bstats;
	uint32_t bseq;
	struct fn_ctx c;
};

FIXTURE_VARIANT(failnth) {
	const struct fn_path *path;
};

FIXTURE_VARIANT_ADD(failnth, version) { .path = &path_version };
FIXTURE_VARIANT_ADD(failnth, chan_create_anon) { .path = &path_chan_create_anon };
FIXTURE_VARIANT_ADD(failnth, chan_create_named) { .path = &path_chan_create_named };
FIXTURE_VARIANT_ADD(failnth, chan_attach) { .path = &path_chan_attach };
FIXTURE_VARIANT_ADD(failnth, chan_attach_left) { .path = &path_chan_attach_left };
FIXTURE_VARIANT_ADD(failnth, region_create_anon) { .path = &path_region_create_anon };
FIXTURE_VARIANT_ADD(failnth, region_create_named) { .path = &path_region_create_named };
FIXTURE_VARIANT_ADD(failnth, region_attach_rw) { .path = &path_region_attach_rw };
FIXTURE_VARIANT_ADD(failnth, region_attach_ro) { .path = &path_region_attach_ro };
FIXTURE_VARIANT_ADD(failnth, ep_info) { .path = &path_ep_info };
FIXTURE_VARIANT_ADD(failnth, ep_peer) { .path = &path_ep_peer };
FIXTURE_VARIANT_ADD(failnth, ep_peer_left) { .path = &path_ep_peer_left };
FIXTURE_VARIANT_ADD(failnth, eventfd_register) { .path = &path_eventfd_register };
FIXTURE_VARIANT_ADD(failnth, eventfd_unregister) { .path = &path_eventfd_unregister };
FIXTURE_VARIANT_ADD(failnth, doorbell) { .path = &path_doorbell };
FIXTURE_VARIANT_ADD(failnth, wait_ready) { .path = &path_wait_ready };
FIXTURE_VARIANT_ADD(failnth, wait_doorbell) { .path = &path_wait_doorbell };
FIXTURE_VARIANT_ADD(failnth, wait_sleep) { .path = &path_wait_sleep };
FIXTURE_VARIANT_ADD(failnth, clone_region) { .path = &path_clone_region };
FIXTURE_VARIANT_ADD(failnth, clone_region_seal) { .path = &path_clone_region_seal };
FIXTURE_VARIANT_ADD(failnth, clone_region_pop) { .path = &path_clone_region_pop };
FIXTURE_VARIANT_ADD(failnth, clone_region_pop_seal) { .path = &path_clone_region_pop_seal };
FIXTURE_VARIANT_ADD(failnth, clone_region_pipe) { .path = &path_clone_region_pipe };
FIXTURE_VARIANT_ADD(failnth, clone_ep) { .path = &path_clone_ep };
FIXTURE_VARIANT_ADD(failnth, clone_ep_seal) { .path = &path_clone_ep_seal };
FIXTURE_VARIANT_ADD(failnth, seal) { .path = &path_seal };
FIXTURE_VARIANT_ADD(failnth, region_stats) { .path = &path_region_stats };
FIXTURE_VARIANT_ADD(failnth, mmap_cons_ctrl) { .path = &path_mmap_cons_ctrl };
FIXTURE_VARIANT_ADD(failnth, mmap_prod_ctrl) { .path = &path_mmap_prod_ctrl };
FIXTURE_VARIANT_ADD(failnth, mmap_desc) { .path = &path_mmap_desc };
FIXTURE_VARIANT_ADD(failnth, mmap_payload) { .path = &path_mmap_payload };
FIXTURE_VARIANT_ADD(failnth, mmap_chan_ro) { .path = &path_mmap_chan_ro };
FIXTURE_VARIANT_ADD(failnth, mmap_region_rw) { .path = &path_mmap_region_rw };
FIXTURE_VARIANT_ADD(failnth, mmap_region_ro) { .path = &path_mmap_region_ro };
FIXTURE_VARIANT_ADD(failnth, munmap_split) { .path = &path_munmap_split };
FIXTURE_VARIANT_ADD(failnth, fault_region_read) { .path = &path_fault_region_read };
FIXTURE_VARIANT_ADD(failnth, fault_region_write) { .path = &path_fault_region_write };
FIXTURE_VARIANT_ADD(failnth, fault_payload_read) { .path = &path_fault_payload_read };
FIXTURE_VARIANT_ADD(failnth, fault_payload_write) { .path = &path_fault_payload_write };
FIXTURE_VARIANT_ADD(failnth, fault_cow_region) { .path = &path_fault_cow_region };
FIXTURE_VARIANT_ADD(failnth, fault_cow_clone) { .path = &path_fault_cow_clone };
FIXTURE_VARIANT_ADD(failnth, fault_cow_payload) { .path = &path_fault_cow_payload };
FIXTURE_VARIANT_ADD(failnth, poll) { .path = &path_poll };
FIXTURE_VARIANT_ADD(failnth, epoll_add) { .path = &path_epoll_add };
FIXTURE_VARIANT_ADD(failnth, close_ep) { .path = &path_close_ep };
FIXTURE_VARIANT_ADD(failnth, close_region) { .path = &path_close_region };
FIXTURE_VARIANT_ADD(failnth, munmap_last) { .path = &path_munmap_last };

/* Why this kernel cannot run the sweep, or NULL. */
static const char *fi_missing(void)
{
	char path[64], val[32];
	size_t i;

	fi_path(path, sizeof(path));
	if (access(path, F_OK))
		return "no /proc/self/task/<tid>/fail-nth (CONFIG_FAULT_INJECTION)";
	if (access(DEBUGFS "failslab", F_OK))
		return "no " DEBUGFS "failslab (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)";
	if (access(DEBUGFS "fail_page_alloc", F_OK))
		return "no " DEBUGFS "fail_page_alloc (CONFIG_FAIL_PAGE_ALLOC)";
	if (geteuid())
		return "the fault-injection knobs need root";
	for (i = 0; i < sizeof(fi_probabilities) / sizeof(fi_probabilities[0]); i++)
		if (!knob_read(fi_probabilities[i], val, sizeof(val)) &&
		    strcmp(val, "0"))
			return "a fault-injection probability is set: faults would hit the bystanders";
	return NULL;
}

static void knobs_restore(FIXTURE_DATA(failnth) *self)
{
	size_t i;

	for (i = NR_KNOBS; i-- > 0;)
		if (self->changed[i] &&
		    !knob_write(fi_knobs[i].file, self->saved[i]))
			self->changed[i] = false;
}

/* 0, or the -errno of the knob that could not be set (all restored). */
static int knobs_set(FIXTURE_DATA(failnth) *self, size_t *bad)
{
	size_t i;
	int ret;

	for (i = 0; i < NR_KNOBS; i++) {
		ret = knob_read(fi_knobs[i].file, self->saved[i],
				sizeof(self->saved[i]));
		if (ret == -ENOENT && fi_knobs[i].optional)
			continue;
		if (!ret)
			ret = knob_write(fi_knobs[i].file, fi_knobs[i].value);
		if (ret) {
			*bad = i;
			knobs_restore(self);
			return ret;
		}
		self->changed[i] = true;
	}
	return 0;
}

FIXTURE_SETUP(failnth)
{
	const char *why = fi_missing();
	unsigned char msg[64];
	size_t bad = 0, i;
	int ret;

	if (why)
		SKIP(return, "%s", why);
	if (ipcu_test_counters_read(&self->start))
		SKIP(return, "no debugfs counters (" DEBUGFS "ipcunit/stats)");

	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", IPCU_DEVICE_PATH,
				      strerror(errno));
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->fail_nth = -1;

	/* Bystanders: a channel with a message through it, a region. */
	ASSERT_EQ(0, ipcu_test_pair(&self->bprod, &self->bcons, 8, 256,
				    self->pg));
	ipcu_test_msg_fill(msg, sizeof(msg), 0);
	ASSERT_EQ(0, ipcu_send(&self->bprod, msg, sizeof(msg), 0));
	ASSERT_EQ((int)sizeof(msg), ipcu_recv(&self->bcons, msg, sizeof(msg), 0));
	ASSERT_EQ(0, ipcu_test_ep_info(self->bprod.fd, &self->bprod_info));
	ASSERT_EQ(0, ipcu_test_ep_info(self->bcons.fd, &self->bcons_info));
	self->breg = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, self->breg);
	self->bmap = map_fd(self->breg, self->pg, RW, 0);
	ASSERT_TRUE(self->bmap != NULL);
	for (i = 0; i < self->pg; i++)
		self->bmap[i] = (unsigned char)(i * 7);
	munmap(self->bmap, self->pg);
	self->bmap = map_fd(self->breg, self->pg, PROT_READ, 0);
	ASSERT_TRUE(self->bmap != NULL);
	self->bstats = stats_of(self->breg);
	ASSERT_EQ(0, ipcu_test_counters_read(&self->base));

	self->fail_nth = fi_open();
	ASSERT_LE(0, self->fail_nth);
	ret = knobs_set(self, &bad);
	ASSERT_EQ(0, ret) TH_LOG("%s%s: %s", DEBUGFS, fi_knobs[bad].file,
				 strerror(-ret));
}

FIXTURE_TEARDOWN(failnth)
{
	struct ipcu_test_counters now;

	if (_metadata->skip)	/* setup skipped: nothing was set up */
		return;
	knobs_restore(self);
	if (self->fail_nth >= 0)
		close(self->fail_nth);
	if (self->bmap)
		munmap(self->bmap, self->pg);
	if (self->breg >= 0)
		close(self->breg);
	ipcu_ep_close(&self->bprod);
	ipcu_ep_close(&self->bcons);
	close(self->dev);
	if (!ipcu_test_counters_read(&now)) {
		EXPECT_EQ(self->start.channels, now.channels);
		EXPECT_EQ(self->start.endpoints, now.endpoints);
		EXPECT_EQ(self->start.regions, now.regions);
		EXPECT_EQ(self->start.pages, now.pages);
		EXPECT_EQ(self->start.users, now.users);
	}
}

static void fn_ctx_reset(struct fn_ctx *c, const struct fn_path *p, int dev,
			 size_t pg)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->dev = dev;
	c->pg = pg;
	snprintf(c->name, sizeof(c->name), "failnth.%d", (int)getpid());
	c->fd[0] = c->fd[1] = c->fd[2] = -1;
	c->prod.fd = c->cons.fd = -1;
	c->efd = c->epfd = c->out = c->mfd = -1;
	c->pfd[0] = c->pfd[1] = -1;
	c->st_fd[0] = c->st_fd[1] = -1;
}

/* Free whatever prepare() and the step left. */
static void fn_release(struct fn_ctx *c)
{
	int i;

	if (c->out_map)
		munmap(c->out_map, c->mlen);
	for (i = 0; i < 2; i++)
		if (c->map[i])
			munmap(c->map[i], c->len[i]);
	if (c->out >= 0)
		close(c->out);
	if (c->epfd >= 0)
		close(c->epfd);
	for (i = 0; i < 3; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	for (i = 0; i < 2; i++)
		if (c->pfd[i] >= 0)
			close(c->pfd[i]);
	if (c->efd >= 0)
		close(c->efd);
	if (c->pair) {
		ipcu_ep_close(&c->prod);
		ipcu_ep_close(&c->cons);
	}
}

/* Run the step with the @n-th fault armed. */
static int fn_run(int fail_nth, struct fn_ctx *c, unsigned int n,
		  bool *reached)
{
	int ret;

	if (fi_arm(fail_nth, n))
		return -EIO;
	ret = c->p->step(c);
	*reached = fi_disarm(fail_nth);
	return ret;
}

static sigjmp_buf fn_jmp;

static void fn_sigbus(int sig)
{
	siglongjmp(fn_jmp, 1);
}

/* The child's exit status: bits of what happened, or FN_CHILD_ERROR. */
#define FN_CHILD_REACHED	1
#define FN_CHILD_SIGBUS		2
#define FN_CHILD_FAILED		4
#define FN_CHILD_ERROR		64

/* Run an access step in a forked child, with the @n-th fault armed there. */
static int fn_run_child(struct __test_metadata *_metadata, struct fn_ctx *c,
			unsigned int n, bool *reached)
{
	struct sigaction sa;
	volatile int bus = 0, ret = 0;
	int fd, status;
	pid_t pid;

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fn_sigbus;
		fd = fi_open();
		if (fd < 0 || sigaction(SIGBUS, &sa, NULL))
			_exit(FN_CHILD_ERROR);
		if (sigsetjmp(fn_jmp, 1) == 0) {
			if (fi_arm(fd, n))
				_exit(FN_CHILD_ERROR);
			ret = c->p->step(c);
		} else {
			bus = 1;
		}
		status = fi_disarm(fd) ? FN_CHILD_REACHED : 0;
		if (bus)
			status |= FN_CHILD_SIGBUS;
		if (ret)
			status |= FN_CHILD_FAILED;
		_exit(status);
	}
	status = ipcu_test_reap(pid);
	ASSERT_TRUE(status >= 0 && status < FN_CHILD_ERROR)
		TH_LOG("%s: fault %u: child status %d", c->p->label, n, status);
	*reached = status & FN_CHILD_REACHED;
	if (status & FN_CHILD_SIGBUS)
		return FN_SIGBUS;
	return status & FN_CHILD_FAILED ? -EIO : 0;
}

/* No fd left, counters at their baseline, bystanders as they were. */
static void fn_expect_clean(struct __test_metadata *_metadata,
			    FIXTURE_DATA(failnth) *self, int fds,
			    unsigned int n, int ret)
{
	const char *label = self->c.p->label;
	struct ipcu_test_counters now;
	struct ipcu_region_stats bst;
	struct ipcu_ep_info info;
	unsigned char msg[64];
	size_t k;

	ASSERT_EQ(fds, ipcu_test_fd_count())
		TH_LOG("%s: fault %u (%s): fd left behind", label, n,
		       fn_name(ret));
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	ASSERT_EQ(self->base.channels, now.channels)
		TH_LOG("%s: fault %u (%s): channels", label, n, fn_name(ret));
	ASSERT_EQ(self->base.endpoints, now.endpoints)
		TH_LOG("%s: fault %u (%s): endpoints", label, n, fn_name(ret));
	ASSERT_EQ(self->base.regions, now.regions)
		TH_LOG("%s: fault %u (%s): regions", label, n, fn_name(ret));
	ASSERT_EQ(self->base.pages, now.pages)
		TH_LOG("%s: fault %u (%s): pages", label, n, fn_name(ret));
	ASSERT_EQ(self->base.users, now.users)
		TH_LOG("%s: fault %u (%s): users", label, n, fn_name(ret));

	/* A message through the bystander channel; its state unchanged. */
	self->bseq++;
	ipcu_test_msg_fill(msg, sizeof(msg), self->bseq);
	ASSERT_EQ(0, ipcu_send(&self->bprod, msg, sizeof(msg), 0));
	memset(msg, 0, sizeof(msg));
	ASSERT_EQ((int)sizeof(msg), ipcu_recv(&self->bcons, msg, sizeof(msg),
					      0));
	ASSERT_EQ(0, ipcu_test_msg_check(msg, sizeof(msg), self->bseq));
	ASSERT_EQ(0, ipcu_test_ep_info(self->bprod.fd, &info));
	ASSERT_EQ(0, memcmp(&info, &self->bprod_info, sizeof(info)))
		TH_LOG("%s: fault %u: bystander producer changed", label, n);
	ASSERT_EQ(0, ipcu_test_ep_info(self->bcons.fd, &info));
	ASSERT_EQ(0, memcmp(&info, &self->bcons_info, sizeof(info)))
		TH_LOG("%s: fault %u: bystander consumer changed", label, n);
	bst = stats_of(self->breg);
	ASSERT_EQ(0, memcmp(&bst, &self->bstats, sizeof(bst)))
		TH_LOG("%s: fault %u: bystander region changed", label, n);
	for (k = 0; k < self->pg; k++)
		if (self->bmap[k] != (unsigned char)(k * 7))
			break;
	ASSERT_EQ(self->pg, k) TH_LOG("%s: fault %u: bystander byte %zu",
				      label, n, k);
}

TEST_F_TIMEOUT(failnth, sweep, 600)
{
	const struct fn_path *p = variant->path;
	struct fn_ctx *c = &self->c;
	unsigned int n, i, points = 0, absorbed = 0, err[FN_ERRNOS] = { 0 };
	const char *sep = ": ";
	struct timespec t0, t1;
	unsigned long long ms;
	char line[256];
	int fds, ret, len;
	bool reached;

	if (_metadata->skip)	/* the harness runs the body after SKIP */
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 1; ; n++) {
		ASSERT_GE(FN_MAX_STEPS, n)
			TH_LOG("%s: a fault is still reached after %u steps",
			       p->label, FN_MAX_STEPS);
		fds = ipcu_test_fd_count();
		ASSERT_LE(0, fds);
		fn_ctx_reset(c, p, self->dev, self->pg);
		p->prepare(_metadata, c);
		if (p->access)
			ret = fn_run_child(_metadata, c, n, &reached);
		else
			ret = fn_run(self->fail_nth, c, n, &reached);

		if (!reached) {
			ASSERT_EQ(p->ok, ret)
				TH_LOG("%s: %s with nothing injected (step %u)",
				       p->label, fn_name(ret), n);
		} else if (ret == p->ok) {
			absorbed++;
		} else {
			for (i = 0; i < FN_ERRNOS && p->errnos[i]; i++)
				if (ret == p->errnos[i])
					break;
			ASSERT_TRUE(i < FN_ERRNOS && p->errnos[i])
				TH_LOG("%s: fault %u: %s is not documented",
				       p->label, n, fn_name(ret));
			err[i]++;
		}
		if (reached)
			points++;
		p->finish(_metadata, c, ret);
		fn_release(c);
		fn_expect_clean(_metadata, self, fds, n, ret);
		if (!reached)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000ULL +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;

	len = snprintf(line, sizeof(line), "%s: %u injection points",
		       p->label, points);
	for (i = 0; i < FN_ERRNOS && p->errnos[i]; i++) {
		if (!err[i])
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s%u %s", sep,
				err[i], fn_name(p->errnos[i]));
		sep = ", ";
	}
	if (absorbed)
		snprintf(line + len, sizeof(line) - len, "%s%u absorbed", sep,
			 absorbed);
	ksft_print_msg("failnth: %s; no leak, bystanders intact (%llu ms)\n",
		       line, ms);
	fflush(stdout);		/* the harness's child ends with _exit() */

	if (fn_totals) {
		fn_totals->paths++;
		fn_totals->points += points;
		fn_totals->absorbed += absorbed;
		fn_totals->ms += ms;
		for (i = 0; i < FN_ERRNOS && p->errnos[i]; i++) {
			if (p->errnos[i] == -ENOMEM)
				fn_totals->enomem += err[i];
			else if (p->errnos[i] == -EFAULT)
				fn_totals->efault += err[i];
			else if (p->errnos[i] == FN_SIGBUS)
				fn_totals->sigbus += err[i];
			else
				fn_totals->other += err[i];
		}
	}
}

/* Runs after every path: the totals. */
FIXTURE(failnth_total) {
	int unused;
};

FIXTURE_SETUP(failnth_total)
{
}

FIXTURE_TEARDOWN(failnth_total)
{
}

TEST_F(failnth_total, summary)
{
	if (!fn_totals || !fn_totals->paths)
		SKIP(return, "no path was swept");
	ksft_print_msg("failnth: total: %u paths, %u injection points: %u ENOMEM, %u EFAULT, %u SIGBUS, %u other errno, %u absorbed; no leak (%llu ms)\n",
		       fn_totals->paths, fn_totals->points, fn_totals->enomem,
		       fn_totals->efault, fn_totals->sigbus, fn_totals->other,
		       fn_totals->absorbed, fn_totals->ms);
	fflush(stdout);
}

TEST_HARNESS_MAIN
