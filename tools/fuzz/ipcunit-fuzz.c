// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit-fuzz: a seeded, reproducible fuzzer for /dev/ipcunit.
 *
 * Each seed runs a sequence of operations on channels, regions and clones:
 * every ioctl of the ABI with random and boundary arguments (sizes, flags,
 * names, encoded structure sizes, directions, bad pointers, fds of the
 * wrong kind), mmap/munmap/mprotect/mremap/madvise of the objects, writes
 * and reads of every shared field, fork, close, dup and SCM_RIGHTS.
 *
 * Determinism: operation i of a seed draws its random numbers from a
 * generator seeded with (seed, i) only, so "--seed S --ops N" runs a prefix
 * of "--seed S --ops M" for N < M.  Children run concurrently with the
 * parent but cannot change anything the parent's results depend on: they
 * run as another user (own per-user limits), only use names of their own,
 * never close or fully unmap what they inherited, never seal or take the
 * free role of an inherited object, and hold everything they inherited
 * until the parent reaps them at an operation index chosen up front.
 *
 * Oracles:
 *  - every ioctl result is checked against the errno table of
 *    Documentation/userspace-api.rst; a call made invalid on purpose must
 *    fail, and EINVAL, EFAULT, E2BIG, ENOTTY, EBADF and ENAMETOOLONG are
 *    accepted only when the arguments were made invalid in a way that
 *    documents them; a failed call must not write its argument, and a
 *    creation whose result cannot be copied out must not leave an fd;
 *  - mmap/mprotect follow the mapping policy (PROT_WRITE only where the
 *    role writes, never on a read-only fd or a sealed region, no
 *    MAP_PRIVATE), and valid mappings are not refused;
 *  - a write through a mapping without PROT_WRITE must raise SIGSEGV, and
 *    no other access may fault;
 *  - copy-on-write: the first 8 bytes of every region and payload page are
 *    a tag only the parent writes; a shadow copy per object (copied on
 *    clone) must match what every read sees;
 *  - seal: never while a writable mapping exists; a sealed region has no
 *    writable mapping;
 *  - the module's counters in /sys/kernel/debug/ipcunit/stats are back to
 *    their starting values once a seed has closed everything, and the
 *    kernel log has no new report.
 *
 * On a failure the shortest failing prefix of the seed is searched for by
 * re-running the seed with fewer operations in fresh processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <ipcunit.h>

#ifndef MADV_FREE
#define MADV_FREE		8
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK		18
#define MADV_KEEPONFORK		19
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif

#define PROG			"ipcunit-fuzz"
#define STATS_PATH		"/sys/kernel/debug/ipcunit/stats"
#define PARAM_DIR		"/sys/module/ipcunit/parameters/"

/* Bounds on what one process holds. */
#define MAX_SLOTS		32
#define MAX_MAPS		64
#define MAX_OBJS		128
#define MAX_KIDS		2
#define MAX_QUEUE		8
#define MSG_FDS			3
#define KID_OPS_MAX		32
#define KID_REAP_MAX		24

/* Per-user limits set for the run: bounds the module's memory. */
#define LIMIT_BYTES		(64ULL << 20)
#define LIMIT_OBJECTS		48

/* Shadow tags of region and payload pages. */
#define TAG_UNKNOWN		(~0ULL)
#define TAG_PAGES_MAX		65536UL

/* Size of the errno histogram; its last entry counts SIGSEGVs. */
#define NR_ERR			140
#define ERR_SEGV		(NR_ERR - 1)

#ifndef fallthrough
#define fallthrough		__attribute__((__fallthrough__))
#endif

#define DEFAULT_OPS		10000L
#define DEFAULT_SEED_OPS	10000L

/* ---------------------------------------------------------------------- */
/* Operations */

#define OPS(X)								\
	X(VERSION,	"version",	 8,  8)				\
	X(CHAN_CREATE,	"chan_create",	50, 40)				\
	X(CHAN_ATTACH,	"chan_attach",	25, 20)				\
	X(REGION_CREATE, "region_create", 45, 40)			\
	X(REGION_ATTACH, "region_attach", 25, 20)			\
	X(EP_INFO,	"ep_info",	25, 30)				\
	X(EP_PEER,	"ep_peer",	30, 20)				\
	X(EP_EVENTFD,	"ep_eventfd",	25, 30)				\
	X(DOORBELL,	"doorbell",	25, 40)				\
	X(WAIT,		"wait",		30, 40)				\
	X(CLONE,	"clone",	40, 30)				\
	X(SEAL,		"seal",		25, 20)				\
	X(REGION_STATS,	"region_stats",	25, 20)				\
	X(BAD_IOCTL,	"bad_ioctl",	15, 15)				\
	X(MMAP,		"mmap",		80, 70)			\
	X(MUNMAP,	"munmap",	30, 25)				\
	X(MPROTECT,	"mprotect",	35, 30)				\
	X(MREMAP,	"mremap",	15, 15)				\
	X(MADVISE,	"madvise",	35, 30)				\
	X(WRITE,	"write",	120, 120)			\
	X(READ,		"read",		90, 90)				\
	X(FORK,		"fork",		 2,  0)				\
	X(CLOSE,	"close",	45, 30)				\
	X(DUP,		"dup",		15, 15)				\
	X(SEND_FD,	"send_fd",	15, 15)				\
	X(RECV_FD,	"recv_fd",	15, 15)				\
	X(OPEN,		"open",		10, 10)				\
	X(EVENTFD,	"eventfd",	12, 12)				\
	X(POLL,		"poll",		20, 25)				\
	X(EPOLL,	"epoll",	20, 20)				\
	X(RING,		"ring",		 3,  4)

#define OP_ENUM(n, s, w, cw)	OP_##n,
enum { OPS(OP_ENUM) OP_NR };
#undef OP_ENUM

#define OP_NAME(n, s, w, cw)	s,
static const char *const op_names[] = { OPS(OP_NAME) };
#undef OP_NAME

#define OP_W(n, s, w, cw)	w,
static const unsigned int op_weight[] = { OPS(OP_W) };
#undef OP_W

#define OP_CW(n, s, w, cw)	cw,
static const unsigned int op_child_weight[] = { OPS(OP_CW) };
#undef OP_CW

/* Result of an operation, for the statistics. */
#define RES_SKIP		1	/* nothing to operate on */
#define RES_SEGV		2	/* an expected SIGSEGV */

/* ---------------------------------------------------------------------- */
/* Deterministic random numbers (splitmix64) */

struct rng {
	uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), 0 if n is 0. */
static uint32_t rnd(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd64(r) >> 32) * n) >> 32);
}

/* True with probability pct/100. */
static bool chance(struct rng *r, unsigned int pct)
{
	return rnd(r, 100) < pct;
}

/* True with probability 1/n. */
static bool one_in(struct rng *r, unsigned int n)
{
	return rnd(r, n) == 0;
}

/* The generator of one operation: a function of its coordinates only. */
static void rng_init(struct rng *r, uint64_t seed, uint64_t dom, uint64_t a,
		     uint64_t b)
{
	r->s = seed;
	r->s = rnd64(r) ^ (dom * 0xd1342543de82ef95ULL);
	r->s = rnd64(r) ^ (a * 0x9e3779b97f4a7c15ULL);
	r->s = rnd64(r) ^ (b + 0x632be59bd9b4e019ULL);
	rnd64(r);
}

#define DOM_OP		1
#define DOM_KID		2
#define DOM_KIDOP	3

/* ---------------------------------------------------------------------- */
/* State */

/* What an fd refers to. */
enum {
	FK_FREE,
	FK_DEV,		/* /dev/ipcunit, read-write */
	FK_DEV_RO,	/* /dev/ipcunit, read-only */
	FK_EP,
	FK_REGION,
	FK_EVENTFD,
	FK_EPOLL,
	FK_SOCK,	/* not in the table: the socketpair */
	FK_CLOSED,	/* not an open fd */
	FK_NR
};

static const char *const fk_names[] = {
	"free", "dev", "dev-ro", "ep", "region", "eventfd", "epoll", "sock",
	"closed",
};

#define M(k)		(1u << (k))
#define M_ANY		(M(FK_DEV) | M(FK_DEV_RO) | M(FK_EP) | M(FK_REGION) | \
			 M(FK_EVENTFD) | M(FK_EPOLL))

/* A channel or region as the model knows it. */
struct obj {
	bool used;
	bool chan;
	bool sealed;
	bool inherited;		/* child: the parent's object */
	bool clone;
	int refs;		/* slots, mappings and queued fds */
	int name;		/* index in the name list, or -1 */
	unsigned long nr_pages;	/* the whole object */
	unsigned long pay_first; /* first payload page; 0 for regions */
	uint32_t entries;
	uint32_t max_msg;
	uint64_t pay_bytes;
	uint64_t *tag;		/* per page, NULL if not tracked */
};

struct slot {
	int fd;
	int kind;
	int obj;		/* index in obj[], or -1 */
	int role;
	bool rdonly;
	bool inherited;
};

struct map {
	bool used;
	bool inherited;
	bool maywrite;
	bool dontfork;
	bool multi;		/* may span several VMAs (split not tracked) */
	char *addr;
	size_t len;
	int obj;
	int role;		/* of the endpoint it was made from, or -1 */
	unsigned long pgoff;
	int prot;
};

/* One queued SCM_RIGHTS message. */
struct qmsg {
	int n;
	struct slot s[MSG_FDS];
};

struct kid {
	pid_t pid;
	int relfd;		/* write end: a byte releases the child */
	long reap_at;
	long fork_op;
	bool kill;
};

#define NAMES_MAX	10

struct fz {
	uint64_t seed;
	long op;
	bool child;
	bool failed;
	long fork_op;		/* child: the parent's fork operation */
	struct slot slot[MAX_SLOTS];
	struct map map[MAX_MAPS];
	struct obj obj[MAX_OBJS];
	int cname[NAMES_MAX];	/* channel name -> obj */
	int rname[NAMES_MAX];	/* region name -> obj */
	int sock[2];
	struct qmsg q[MAX_QUEUE];
	int qhead;
	int qlen;
	struct kid kid[MAX_KIDS];
	uint64_t tagctr;
	int res;
	char desc[1024];
	size_t dlen;
};

/* Counters shared with the children (MAP_SHARED anonymous memory). */
struct shared {
	long cnt[OP_NR];
	long ok[OP_NR];
	long skip[OP_NR];
	long err[OP_NR][NR_ERR];
	long usec[OP_NR];
	long tag_checks;	/* reads compared with the shadow tags */
	long tag_checks_clone;	/* ... of pages of clones */
	long cow_stats;		/* REGION_STATS that saw cow_copies > 0 */
	long cow_shared;	/* REGION_STATS that saw shared pages */
	long kid_ops;
	int kid_failed;
	char kid_msg[2048];
};

struct cfg {
	uint64_t seed;
	long ops;
	long seed_ops;
	double seconds;
	bool verbose;
	bool quiet;
	bool minimize;
	bool limits;
	bool seed_given;
	bool ops_given;
	long fail_at;		/* self-test: fail at this operation, or -1 */
};

static struct cfg cfg;
static struct fz fz;
static struct shared *shm;
static unsigned long pg;
static char self_path[PATH_MAX];
static int null_fd = -1;
static int kmsg_fd = -1;
static bool stats_ok;
static bool limits_set;
static char old_limit_bytes[64];
static char old_limit_objects[64];
static bool is_root;
static char long63[64];

/* Names: each process uses its own list, so children never collide. */
static const char *const parent_names[NAMES_MAX] = {
	"p0", "p1", "p2", "p3", "p4", "p5", ".", "..", "a-b_c.D9", long63,
};
static const char *const child_names[NAMES_MAX] = {
	"c0", "c1", "c2", "c3", "c.-_", "c5", "c6", "c7", "c8", "c9",
};
#define PARENT_NAMES	10
#define CHILD_NAMES	5

/* ---------------------------------------------------------------------- */
/* Output and failures */

static const char *ename(int e)
{
	static char buf[16];
	const char *s = e > 0 ? strerrorname_np(e) : NULL;

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static void dsc(struct fz *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append to the description of the current operation. */
static void dsc(struct fz *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->dlen >= sizeof(f->desc) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->desc + f->dlen, sizeof(f->desc) - f->dlen, fmt, ap);
	va_end(ap);
	if (n > 0)
		f->dlen += (size_t)n;
	if (f->dlen > sizeof(f->desc) - 1)
		f->dlen = sizeof(f->desc) - 1;
}

static void failf(struct fz *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the first failure of a run, and say what it was. */
static void failf(struct fz *f, const char *fmt, ...)
{
	char msg[768];
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->child)
		snprintf(line, sizeof(line),
			 PROG ": FAIL seed %" PRIu64 " child of op %ld (pid %d) op %ld: %s: %s\n",
			 f->seed, f->fork_op, (int)getpid(), f->op, f->desc,
			 msg);
	else
		snprintf(line, sizeof(line),
			 PROG ": FAIL seed %" PRIu64 " op %ld: %s: %s\n",
			 f->seed, f->op, f->desc, msg);
	fputs(line, stderr);
	fflush(stderr);
	if (f->failed)
		return;
	f->failed = true;
	if (f->child && shm && !shm->kid_failed) {
		snprintf(shm->kid_msg, sizeof(shm->kid_msg), "%s", line);
		__atomic_store_n(&shm->kid_failed, 1, __ATOMIC_SEQ_CST);
	}
}

static void count(long *p, long n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------- */
/* Faults: accesses that may fault run under sigsetjmp */

static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guard_on;
static volatile sig_atomic_t guard_sig;
static sigjmp_buf abort_jmp;
static volatile sig_atomic_t abort_armed;
static volatile sig_atomic_t unexp_sig;
static void *volatile unexp_addr;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (guard_on) {
		guard_on = 0;
		guard_sig = sig;
		siglongjmp(guard_jmp, 1);
	}
	unexp_sig = sig;
	unexp_addr = si->si_addr;
	if (abort_armed) {
		abort_armed = 0;
		siglongjmp(abort_jmp, 1);
	}
	/* Not even a run to abort: die of it. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void alarm_handler(int sig)
{
	(void)sig;
}

enum { ACC_RD64, ACC_WR64, ACC_RD32, ACC_WR32, ACC_FILL };

/* Access @p; 0, or the signal the access raised. */
static __attribute__((noinline)) int access_mem(char *p, int how,
						uint64_t val, size_t len,
						uint64_t *out)
{
	size_t i;

	guard_sig = 0;
	if (sigsetjmp(guard_jmp, 1))
		return guard_sig;
	guard_on = 1;
	switch (how) {
	case ACC_RD64:
		*out = *(volatile uint64_t *)p;
		break;
	case ACC_WR64:
		*(volatile uint64_t *)p = val;
		break;
	case ACC_RD32:
		*out = *(volatile uint32_t *)p;
		break;
	case ACC_WR32:
		*(volatile uint32_t *)p = (uint32_t)val;
		break;
	case ACC_FILL:
		for (i = 0; i < len; i++)
			((volatile char *)p)[i] = (char)(val + i);
		break;
	}
	guard_on = 0;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The ioctl argument arena */

/*
 * Five read-write pages, one read-only page (a memfd page, written through
 * an alias), two inaccessible pages: structures are placed at the start,
 * right before the read-only page, inside it, across the boundaries, or
 * nowhere valid.  Names live in the last read-write page.
 */
#define ARENA_RW	5

static char *arena;		/* read-write pages */
static char *arena_ro;		/* the read-only page */
static char *arena_ro_alias;	/* its writable alias */
static char *arena_none;	/* the inaccessible pages */
static char *name_area;		/* where names are put */

static int arena_bind_ro(void)
{
	int mfd = (int)syscall(SYS_memfd_create, "ipcunit-fuzz", 0);
	void *p;

	if (mfd < 0 || ftruncate(mfd, (off_t)pg))
		return -1;
	p = mmap(arena_ro, pg, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (arena_ro_alias)
		munmap(arena_ro_alias, pg);
	arena_ro_alias = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			      mfd, 0);
	close(mfd);
	return arena_ro_alias == MAP_FAILED ? -1 : 0;
}

static int arena_init(void)
{
	char *base = mmap(NULL, (ARENA_RW + 3) * pg, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return -1;
	if (mprotect(base, ARENA_RW * pg, PROT_READ | PROT_WRITE))
		return -1;
	arena = base;
	arena_ro = base + ARENA_RW * pg;
	arena_none = arena_ro + pg;
	name_area = arena + (ARENA_RW - 1) * pg;
	return arena_bind_ro();
}

/* Where each byte of [p, p + len) can be written from here, if at all. */
static char *arena_wr(char *p)
{
	if (p >= arena && p < arena_ro)
		return p;
	if (p >= arena_ro && p < arena_none)
		return arena_ro_alias + (p - arena_ro);
	return NULL;
}

static void arena_put(char *p, const void *src, size_t len)
{
	const char *s = src;
	size_t i;

	for (i = 0; i < len; i++) {
		char *w = arena_wr(p + i);

		if (w)
			*w = s[i];
	}
}

/* ---------------------------------------------------------------------- */
/* Objects, slots, mappings */

static void obj_free(struct fz *f, int o)
{
	struct obj *ob = &f->obj[o];
	int i;

	for (i = 0; i < NAMES_MAX; i++) {
		if (f->cname[i] == o)
			f->cname[i] = -1;
		if (f->rname[i] == o)
			f->rname[i] = -1;
	}
	free(ob->tag);
	memset(ob, 0, sizeof(*ob));
}

static void obj_get(struct fz *f, int o)
{
	if (o >= 0)
		f->obj[o].refs++;
}

static void obj_put(struct fz *f, int o)
{
	if (o < 0)
		return;
	if (--f->obj[o].refs <= 0)
		obj_free(f, o);
}

/* A new record with no reference yet; -1 if the table is full. */
static int obj_new(struct fz *f, bool chan, unsigned long nr_pages)
{
	struct obj *ob;
	int o;

	for (o = 0; o < MAX_OBJS; o++)
		if (!f->obj[o].used)
			break;
	if (o == MAX_OBJS)
		return -1;
	ob = &f->obj[o];
	memset(ob, 0, sizeof(*ob));
	ob->used = true;
	ob->chan = chan;
	ob->name = -1;
	ob->nr_pages = nr_pages;
	if (nr_pages && nr_pages <= TAG_PAGES_MAX)
		ob->tag = calloc(nr_pages, sizeof(*ob->tag));
	return o;
}

static int obj_new_chan(struct fz *f, uint32_t entries, uint32_t max_msg,
			uint64_t pay_bytes)
{
	unsigned long desc = ((unsigned long)entries * 16 + pg - 1) / pg;
	int o = obj_new(f, true, 2 + desc + pay_bytes / pg);

	if (o < 0)
		return o;
	f->obj[o].entries = entries;
	f->obj[o].max_msg = max_msg;
	f->obj[o].pay_bytes = pay_bytes;
	f->obj[o].pay_first = 2 + desc;
	return o;
}

static int slot_count(struct fz *f)
{
	int i, n = 0;

	for (i = 0; i < MAX_SLOTS; i++)
		n += f->slot[i].kind != FK_FREE;
	return n;
}

/* Track a new fd; if the table is full, close it. */
static int slot_add(struct fz *f, int fd, int kind, int obj, int role,
		    bool rdonly)
{
	int i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (f->slot[i].kind == FK_FREE)
			break;
	if (i == MAX_SLOTS) {
		close(fd);
		return -1;
	}
	f->slot[i].fd = fd;
	f->slot[i].kind = kind;
	f->slot[i].obj = obj;
	f->slot[i].role = role;
	f->slot[i].rdonly = rdonly;
	f->slot[i].inherited = false;
	obj_get(f, obj);
	return i;
}

static void slot_drop(struct fz *f, int i, bool do_close)
{
	struct slot *s = &f->slot[i];

	if (do_close && close(s->fd))
		failf(f, "close(%d) of a %s fd: %s", s->fd, fk_names[s->kind],
		      ename(errno));
	obj_put(f, s->obj);
	memset(s, 0, sizeof(*s));
	s->kind = FK_FREE;
	s->obj = -1;
}

/* Index of a random slot whose kind is in @mask, or -1. */
static int pick_slot(struct fz *f, struct rng *r, unsigned int mask,
		     bool own_only)
{
	int idx[MAX_SLOTS];
	int i, n = 0;

	for (i = 0; i < MAX_SLOTS; i++) {
		if (!(M(f->slot[i].kind) & mask) || f->slot[i].kind == FK_FREE)
			continue;
		if (own_only && f->slot[i].inherited)
			continue;
		idx[n++] = i;
	}
	return n ? idx[rnd(r, (uint32_t)n)] : -1;
}

static int map_count(struct fz *f)
{
	int i, n = 0;

	for (i = 0; i < MAX_MAPS; i++)
		n += f->map[i].used;
	return n;
}

static int map_free_entries(struct fz *f)
{
	return MAX_MAPS - map_count(f);
}

/* Track a new mapping; if the table is full, unmap it. */
static int map_add(struct fz *f, char *addr, size_t len, int obj, int role,
		   unsigned long pgoff, int prot, bool maywrite)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (!f->map[i].used)
			break;
	if (i == MAX_MAPS) {
		munmap(addr, len);
		return -1;
	}
	memset(&f->map[i], 0, sizeof(f->map[i]));
	f->map[i].used = true;
	f->map[i].addr = addr;
	f->map[i].len = len;
	f->map[i].obj = obj;
	f->map[i].role = role;
	f->map[i].pgoff = pgoff;
	f->map[i].prot = prot;
	f->map[i].maywrite = maywrite;
	obj_get(f, obj);
	return i;
}

static void map_drop(struct fz *f, int i, bool do_unmap)
{
	struct map *m = &f->map[i];

	if (do_unmap && munmap(m->addr, m->len))
		failf(f, "munmap(%p, %zu): %s", (void *)m->addr, m->len,
		      ename(errno));
	obj_put(f, m->obj);
	memset(m, 0, sizeof(*m));
}

/* Split entry @i at byte offset @off; the index of the tail, or -1. */
static int map_split(struct fz *f, int i, size_t off)
{
	struct map *m = &f->map[i];
	int j;

	if (!off || off >= m->len)
		return -1;
	for (j = 0; j < MAX_MAPS; j++)
		if (!f->map[j].used)
			break;
	if (j == MAX_MAPS)
		return -1;
	f->map[j] = *m;
	f->map[j].addr = m->addr + off;
	f->map[j].len = m->len - off;
	f->map[j].pgoff = m->pgoff + off / pg;
	m->len = off;
	obj_get(f, m->obj);
	return j;
}

/* A random mapping; with @prot, mostly one that has all of @prot. */
static int pick_map(struct fz *f, struct rng *r, int prot)
{
	int idx[MAX_MAPS], pref[MAX_MAPS];
	int i, n = 0, np = 0;

	for (i = 0; i < MAX_MAPS; i++) {
		if (!f->map[i].used)
			continue;
		idx[n++] = i;
		if (prot && (f->map[i].prot & prot) == prot)
			pref[np++] = i;
	}
	if (np && chance(r, 85))
		return pref[rnd(r, (uint32_t)np)];
	return n ? idx[rnd(r, (uint32_t)n)] : -1;
}

/* Is @role of channel @o held by something this process knows of? */
static bool role_held(struct fz *f, int o, int role)
{
	int i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (f->slot[i].kind == FK_EP && f->slot[i].obj == o &&
		    f->slot[i].role == role)
			return true;
	for (i = 0; i < MAX_MAPS; i++)
		if (f->map[i].used && f->map[i].obj == o &&
		    f->map[i].role == role)
			return true;
	for (i = 0; i < f->qlen; i++) {
		struct qmsg *m = &f->q[(f->qhead + i) % MAX_QUEUE];
		int j;

		for (j = 0; j < m->n; j++)
			if (m->s[j].kind == FK_EP && m->s[j].obj == o &&
			    m->s[j].role == role)
				return true;
	}
	return false;
}

/* Mappings of @o in this process that may write. */
static int obj_writable_maps(struct fz *f, int o)
{
	int i, n = 0;

	for (i = 0; i < MAX_MAPS; i++)
		n += f->map[i].used && f->map[i].obj == o &&
		     f->map[i].maywrite;
	return n;
}

/* The mapping policy: may @role map pages [pgoff, pgoff + n) writable? */
static bool ep_range_writable(int role, unsigned long pgoff, unsigned long n)
{
	if (role == IPCU_ROLE_CONSUMER)
		return pgoff == 0 && n == 1;
	return pgoff >= 1;
}

/* ---------------------------------------------------------------------- */
/* Queue of fds in flight over the socketpair */

static void queue_drop_all(struct fz *f)
{
	int i, j;

	for (i = 0; i < f->qlen; i++) {
		struct qmsg *m = &f->q[(f->qhead + i) % MAX_QUEUE];

		for (j = 0; j < m->n; j++)
			obj_put(f, m->s[j].obj);
	}
	f->qhead = 0;
	f->qlen = 0;
}

static int sock_open(struct fz *f)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, f->sock)) {
		f->sock[0] = -1;
		f->sock[1] = -1;
		return -1;
	}
	return 0;
}

static void sock_close(struct fz *f)
{
	if (f->sock[0] >= 0)
		close(f->sock[0]);
	if (f->sock[1] >= 0)
		close(f->sock[1]);
	f->sock[0] = -1;
	f->sock[1] = -1;
	queue_drop_all(f);
}

/* ---------------------------------------------------------------------- */
/* fd arguments */

struct fdp {
	int fd;
	int kind;
	int slot;
};

/* Something that is not what the command wants: any fd, or none. */
static struct fdp fd_wrong(struct fz *f, struct rng *r)
{
	struct fdp p = { .fd = -1, .kind = FK_CLOSED, .slot = -1 };
	uint32_t v = rnd(r, 100);
	int s;

	if (v < 60) {
		s = pick_slot(f, r, M_ANY, false);
		if (s >= 0) {
			p.fd = f->slot[s].fd;
			p.kind = f->slot[s].kind;
			p.slot = s;
			return p;
		}
	}
	if (v < 72 && f->sock[0] >= 0) {
		p.fd = f->sock[rnd(r, 2)];
		p.kind = FK_SOCK;
		return p;
	}
	if (v < 82)
		p.fd = -1;
	else if (v < 94)
		p.fd = 1000 + (int)rnd(r, 20);
	else
		p.fd = INT_MAX;
	return p;
}

/* Mostly a slot of a kind in @mask, sometimes (@wrong %) anything. */
static struct fdp fd_pick(struct fz *f, struct rng *r, unsigned int mask,
			  unsigned int wrong)
{
	struct fdp p;
	int s;

	if (!chance(r, wrong)) {
		s = pick_slot(f, r, mask, false);
		if (s >= 0) {
			p.fd = f->slot[s].fd;
			p.kind = f->slot[s].kind;
			p.slot = s;
			return p;
		}
	}
	return fd_wrong(f, r);
}

static struct obj *slot_obj(struct fz *f, int s)
{
	if (s < 0 || f->slot[s].obj < 0)
		return NULL;
	return &f->obj[f->slot[s].obj];
}

/* ---------------------------------------------------------------------- */
/* errno tables (Documentation/userspace-api.rst) */

#define GENERIC		ENOTTY, EINVAL, E2BIG, EFAULT, EBADF
#define CREATES		EMFILE, ENFILE, ENOMEM

static const int set_version[] = { GENERIC, 0 };
static const int set_chan_create[] = {
	GENERIC, CREATES, ENAMETOOLONG, ENOSPC, EINTR, EEXIST, 0
};
static const int set_chan_attach[] = {
	GENERIC, CREATES, ENAMETOOLONG, ENOENT, EACCES, EBUSY, 0
};
static const int set_region_create[] = {
	GENERIC, CREATES, ENAMETOOLONG, ENOSPC, EEXIST, 0
};
static const int set_region_attach[] = {
	GENERIC, CREATES, ENAMETOOLONG, ENOENT, EACCES, 0
};
static const int set_ep_info[] = { GENERIC, 0 };
static const int set_ep_peer[] = { GENERIC, CREATES, EBUSY, EACCES, 0 };
static const int set_ep_eventfd[] = { GENERIC, ENOMEM, 0 };
static const int set_doorbell[] = { ENOTTY, EINVAL, EBADF, 0 };
static const int set_wait[] = { GENERIC, ETIMEDOUT, EINTR, 0 };
static const int set_clone[] = { GENERIC, CREATES, ENOSPC, 0 };
static const int set_seal[] = { ENOTTY, EINVAL, EBADF, EPERM, EBUSY, 0 };
static const int set_region_stats[] = { GENERIC, 0 };
static const int set_bad_ioctl[] = { ENOTTY, EBADF, 0 };

static bool in_set(const int *set, int e)
{
	for (; *set; set++)
		if (*set == e)
			return true;
	return false;
}

/*
 * Why a call must fail.  Each reason also makes some errnos legitimate
 * that are otherwise a failure when returned for valid arguments.
 */
#define BAD_FLAGS	(1u << 0)	/* EINVAL */
#define BAD_RESV	(1u << 1)	/* EINVAL */
#define BAD_SMALL	(1u << 2)	/* EINVAL */
#define BAD_TAIL	(1u << 3)	/* E2BIG */
#define BAD_DIR		(1u << 4)	/* ENOTTY */
#define BAD_PTR		(1u << 5)	/* EFAULT */
#define BAD_COPYOUT	(1u << 6)	/* EFAULT */
#define BAD_KIND	(1u << 7)	/* ENOTTY */
#define BAD_FD		(1u << 8)	/* EBADF */
#define BAD_RDONLY	(1u << 9)	/* EBADF (device), EPERM (seal) */
#define BAD_ARG		(1u << 10)	/* EINVAL */
#define BAD_NAME	(1u << 11)	/* EINVAL */
#define BAD_NAMELONG	(1u << 12)	/* ENAMETOOLONG */
#define BAD_NAMEFAULT	(1u << 13)	/* EFAULT (or ENAMETOOLONG) */
#define BAD_VAL		(1u << 14)	/* EINVAL */
#define BAD_VALSIZE	(1u << 15)	/* ENOTTY */
#define BAD_ARGFD	(1u << 16)	/* EBADF: an fd inside the argument */
#define BAD_ARGKIND	(1u << 17)	/* EINVAL: an fd of the wrong kind */
#define BAD_FOREIGN	(1u << 18)	/* not an ipcunit file: its own errno */
#define BAD_NR		19

static const char *const bad_names[BAD_NR] = {
	"flags", "reserved", "short-size", "nonzero-tail", "direction",
	"bad-pointer", "copy-out-fault", "fd-kind", "closed-fd", "read-only",
	"field", "name", "name-too-long", "name-fault", "value", "value-size",
	"arg-fd-closed", "arg-fd-kind", "foreign-file",
};

static const char *bad_str(unsigned int bad)
{
	static char buf[256];
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < BAD_NR; i++)
		if (bad & (1u << i))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
					      n ? "," : "", bad_names[i]);
	return buf;
}

/* Is errno @e explained by the reasons in @bad? */
static bool strict_ok(unsigned int bad, int e)
{
	switch (e) {
	case EINVAL:
		return bad & (BAD_FLAGS | BAD_RESV | BAD_SMALL | BAD_ARG |
			      BAD_NAME | BAD_VAL | BAD_ARGKIND);
	case E2BIG:
		return bad & BAD_TAIL;
	case ENOTTY:
		return bad & (BAD_DIR | BAD_KIND | BAD_VALSIZE);
	case EFAULT:
		return bad & (BAD_PTR | BAD_COPYOUT | BAD_NAMEFAULT);
	case EBADF:
		return bad & (BAD_FD | BAD_RDONLY | BAD_ARGFD);
	case ENAMETOOLONG:
		return bad & (BAD_NAMELONG | BAD_NAMEFAULT);
	default:
		return true;
	}
}

static void check_result(struct fz *f, unsigned int bad, int ret,
			 const int *set)
{
	if (!ret) {
		if (bad)
			failf(f, "succeeded despite invalid arguments (%s)",
			      bad_str(bad));
		return;
	}
	/* Another driver's file answers for itself (epoll: EINVAL). */
	if (bad & BAD_FOREIGN)
		return;
	if (!in_set(set, -ret))
		failf(f, "undocumented errno %s", ename(-ret));
	else if (!strict_ok(bad, -ret))
		failf(f, "%s for arguments that do not explain it%s%s",
		      ename(-ret), bad ? " (" : "", bad ? bad_str(bad) : "");
}

/* ---------------------------------------------------------------------- */
/* ioctl envelopes: encoded size, direction, placement, flags, reserved */

enum {
	PL_NORMAL,
	PL_UNALIGNED,
	PL_END_RW,		/* ends right before the read-only page */
	PL_IN_RO,		/* copy-out faults */
	PL_STRADDLE_RO,		/* half read-write, half read-only */
	PL_STRADDLE_NONE,	/* copy-in faults */
	PL_NULL,
	PL_KERNEL,
	PL_NONE,
	PL_NR
};

static const char *const pl_names[] = {
	"normal", "unaligned", "end-rw", "in-ro", "straddle-ro",
	"straddle-none", "null", "kernel", "none",
};

struct env {
	unsigned long cmd;
	size_t ksize;
	size_t usize;
	int place;
	char *argp;
	unsigned long val;
	unsigned int bad;
	bool creates;
	int low_fd;		/* lowest free fd before the call, or -1 */
	unsigned char in[16384 + 64];
};

static struct env env;

/* Lowest free descriptor number. */
static int lowest_free_fd(void)
{
	int fd = fcntl(null_fd, F_DUPFD, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * Prepare a structure command: @k holds the structure (@ksize bytes) the
 * operation filled in; @flags_ok are the flags the command defines.
 */
static void env_struct(struct fz *f, struct rng *r, struct env *e,
		       unsigned long cmd, void *k, size_t ksize,
		       uint32_t flags_ok, size_t resv_off, size_t resv_len)
{
	static const size_t smaller[] = { 0, 1, 4, 8, 16 };
	static const size_t larger[] = { 1, 8, 64, 4096, 16383 };
	unsigned int dir = _IOC_DIR(cmd);
	size_t usize = ksize, cover;
	uint32_t v;

	e->cmd = cmd;
	e->ksize = ksize;
	e->low_fd = -1;

	/* Flags the command does not define, reserved words not zero. */
	if (one_in(r, 25)) {
		uint32_t bit = 1u << rnd(r, 32);

		if (bit & ~flags_ok) {
			*(uint32_t *)k |= bit;
			e->bad |= BAD_FLAGS;
		}
	}
	if (resv_len && one_in(r, 30)) {
		uint64_t *w = (uint64_t *)((char *)k + resv_off);

		w[rnd(r, (uint32_t)(resv_len / 8))] = rnd64(r) | 1;
		e->bad |= BAD_RESV;
	}

	/* The size encoded in the command. */
	memset(e->in, 0, sizeof(e->in));
	memcpy(e->in, k, ksize);
	v = rnd(r, 100);
	if (v < 3) {
		usize = smaller[rnd(r, 5)];
		if (one_in(r, 2))
			usize = ksize - 1 - rnd(r, 8);
		if (usize >= ksize)
			usize = ksize - 8;
		e->bad |= BAD_SMALL;
	} else if (v < 7) {
		usize = ksize + larger[rnd(r, 5)];
		if (usize > 16383)
			usize = 16383;
		if (one_in(r, 3)) {
			e->in[ksize + rnd(r, (uint32_t)(usize - ksize))] =
				(unsigned char)(1 + rnd(r, 255));
			e->bad |= BAD_TAIL;
		}
	}
	e->usize = usize;

	/* The direction. */
	if (one_in(r, 40)) {
		unsigned int d = rnd(r, 4);

		if (d != dir) {
			dir = d;
			e->bad |= BAD_DIR;
		}
	}
	e->cmd = _IOC(dir, _IOC_TYPE(cmd), _IOC_NR(cmd), usize);

	/* Where the structure is. */
	v = rnd(r, 1000);
	e->place = PL_NORMAL;
	if (v < 30)
		e->place = PL_UNALIGNED;
	else if (v < 50)
		e->place = PL_END_RW;
	else if (v < 65)
		e->place = PL_IN_RO;
	else if (v < 75)
		e->place = PL_STRADDLE_RO;
	else if (v < 85)
		e->place = PL_STRADDLE_NONE;
	else if (v < 92)
		e->place = PL_NULL;
	else if (v < 96)
		e->place = PL_KERNEL;
	else if (v < 100)
		e->place = PL_NONE;
	if (usize > pg - 64 && e->place != PL_NULL && e->place != PL_KERNEL &&
	    e->place != PL_NONE)
		e->place = PL_NORMAL;
	if (usize < 16 && (e->place == PL_STRADDLE_RO ||
			   e->place == PL_STRADDLE_NONE))
		e->place = PL_NORMAL;

	/* The part copied out on success. */
	cover = usize < ksize ? usize : ksize;
	switch (e->place) {
	case PL_NORMAL:
		e->argp = arena;
		break;
	case PL_UNALIGNED:
		e->argp = arena + 1 + rnd(r, 7);
		break;
	case PL_END_RW:
		e->argp = arena_ro - usize;
		break;
	case PL_IN_RO:
		e->argp = arena_ro + 8 * rnd(r, 8);
		break;
	case PL_STRADDLE_RO:
		e->argp = arena_ro - (cover / 2 & ~7UL);
		break;
	case PL_STRADDLE_NONE:
		e->argp = arena_none - (usize / 2 & ~7UL);
		break;
	case PL_NULL:
		e->argp = NULL;
		break;
	case PL_KERNEL:
		e->argp = (char *)(uintptr_t)0xffff888000000000ULL;
		break;
	case PL_NONE:
		e->argp = arena_none;
		break;
	}
	if (e->place >= PL_STRADDLE_NONE)
		e->bad |= BAD_PTR;
	else if ((e->place == PL_IN_RO || e->place == PL_STRADDLE_RO) &&
		 (dir & _IOC_READ))
		e->bad |= BAD_COPYOUT;
	if (e->argp)
		arena_put(e->argp, e->in, usize);
	dsc(f, " size=%zu%s place=%s", usize,
	    dir != _IOC_DIR(cmd) ? " dir-changed" : "", pl_names[e->place]);
}

/* Prepare a value command (DOORBELL, SEAL). */
static void env_value(struct fz *f, struct rng *r, struct env *e,
		      unsigned long cmd)
{
	static const unsigned long vals[] = { 1, 2, 0x80000000UL, ~0UL };
	unsigned int dir = _IOC_NONE;
	size_t size = 0;

	e->cmd = cmd;
	e->ksize = 0;
	e->usize = 0;
	e->val = 0;
	e->argp = NULL;
	e->low_fd = -1;
	e->place = PL_NORMAL;
	if (one_in(r, 15)) {
		e->val = one_in(r, 5) ? (unsigned long)arena : vals[rnd(r, 4)];
		e->bad |= BAD_VAL;
	}
	if (one_in(r, 30)) {
		size = 1 + rnd(r, 64);
		e->bad |= BAD_VALSIZE;
	}
	if (one_in(r, 30)) {
		dir = 1 + rnd(r, 3);
		size = 8;
		e->bad |= BAD_DIR;
	}
	e->cmd = _IOC(dir, _IOC_TYPE(cmd), _IOC_NR(cmd), size);
	dsc(f, " arg=%#lx cmd=%#lx", e->val, e->cmd);
}

/* The kinds of file a command applies to: wrong ones are ENOTTY. */
static void env_kind(struct env *e, struct fdp *p, unsigned int mask)
{
	if (p->kind == FK_CLOSED)
		e->bad |= BAD_FD;
	else if (p->kind == FK_EVENTFD || p->kind == FK_EPOLL ||
		 p->kind == FK_SOCK)
		e->bad |= BAD_FOREIGN;
	else if (!(M(p->kind) & mask))
		e->bad |= BAD_KIND;
}

/*
 * Issue the command; 0 or -errno.  A failed call must not have written its
 * argument; the argument is copied back into @k on success.
 */
static int env_call(struct fz *f, struct env *e, int fd, void *k)
{
	unsigned char out[sizeof(e->in)];
	bool readable;
	int ret;

	if (e->bad)
		dsc(f, " [invalid: %s]", bad_str(e->bad));
	if (e->creates && (e->bad & (BAD_COPYOUT | BAD_PTR)))
		e->low_fd = lowest_free_fd();
	if (e->ksize)
		ret = ioctl(fd, e->cmd, e->argp) < 0 ? -errno : 0;
	else
		ret = ioctl(fd, e->cmd, e->val) < 0 ? -errno : 0;
	f->res = ret;
	if (!e->ksize)
		return ret;

	readable = e->place <= PL_IN_RO;
	if (readable)
		memcpy(out, e->argp, e->usize);
	if (ret && readable && memcmp(out, e->in, e->usize))
		failf(f, "a failed call (%s) wrote to its argument",
		      ename(-ret));
	if (!ret && readable) {
		size_t cover = e->usize < e->ksize ? e->usize : e->ksize;

		if (!(_IOC_DIR(e->cmd) & _IOC_READ) &&
		    memcmp(out, e->in, e->usize))
			failf(f, "an _IOW command wrote to its argument");
		if (e->usize > e->ksize &&
		    memcmp(out + e->ksize, e->in + e->ksize,
			   e->usize - e->ksize))
			failf(f, "the kernel wrote past its structure");
		memcpy(k, out, cover);
	}
	if (ret && e->low_fd >= 0 && fcntl(e->low_fd, F_GETFD) >= 0) {
		failf(f, "fd %d appeared although the creation failed (%s)",
		      e->low_fd, ename(-ret));
		close(e->low_fd);
	}
	return ret;
}

/* A new fd from a creation: O_CLOEXEC, and not one we already hold. */
static bool check_new_fd(struct fz *f, int fd)
{
	int fl, i;

	if (fd < 0) {
		failf(f, "succeeded with fd %d", fd);
		return false;
	}
	fl = fcntl(fd, F_GETFD);
	if (fl < 0) {
		failf(f, "returned fd %d, which is not open", fd);
		return false;
	}
	if (!(fl & FD_CLOEXEC))
		failf(f, "fd %d lacks FD_CLOEXEC", fd);
	for (i = 0; i < MAX_SLOTS; i++)
		if (f->slot[i].kind != FK_FREE && f->slot[i].fd == fd) {
			failf(f, "returned fd %d, already in use", fd);
			return false;
		}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Argument generators */

/*
 * A name argument; @optional: 0 is "no name" (creation).  @bound is the
 * name table of the object kind: creations mostly pick a free name,
 * attaches mostly one that is in use.
 */
static uint64_t pick_name(struct fz *f, struct rng *r, bool optional,
			  const int *bound, unsigned int *bad, int *idx)
{
	static const char *const invalid[] = {
		"", "a/b", "a b", "\xff", "x\n", "\x01", "name*", "caf\xc3\xa9",
	};
	const char *const *names = f->child ? child_names : parent_names;
	int nnames = f->child ? CHILD_NAMES : PARENT_NAMES;
	char *p = name_area + 256;
	uint32_t v = rnd(r, 100);
	size_t n;

	*idx = -1;
	if (optional && v < 50) {
		dsc(f, " name=0");
		return 0;
	}
	if (v < 93) {
		int cand[NAMES_MAX], nc = 0, i;

		for (i = 0; i < nnames; i++)
			if (optional == (bound[i] < 0))
				cand[nc++] = i;
		if (nc && chance(r, 75))
			*idx = cand[rnd(r, (uint32_t)nc)];
		else
			*idx = (int)rnd(r, (uint32_t)nnames);
		if (one_in(r, 20)) {
			/* A valid name in the read-only page. */
			p = arena_ro + 1024;
		}
		arena_put(p, names[*idx], strlen(names[*idx]) + 1);
		dsc(f, " name=\"%.12s\"", names[*idx]);
		return (uint64_t)(uintptr_t)p;
	}
	switch (rnd(r, 6)) {
	case 0:
		n = rnd(r, sizeof(invalid) / sizeof(invalid[0]));
		arena_put(p, invalid[n], strlen(invalid[n]) + 1);
		*bad |= BAD_NAME;
		dsc(f, " name=invalid%zu", n);
		return (uint64_t)(uintptr_t)p;
	case 1:
		/* 64 bytes, no NUL among them. */
		n = 64 + rnd(r, 3) * 60;
		memset(p, 'n', n);
		p[n] = 0;
		*bad |= BAD_NAMELONG;
		dsc(f, " name=long%zu", n);
		return (uint64_t)(uintptr_t)p;
	case 2:
		/* Unterminated, running into the inaccessible page. */
		n = 1 + rnd(r, 70);
		p = arena_none - n;
		memset(arena_wr(p), 'u', n);
		*bad |= BAD_NAMEFAULT;
		dsc(f, " name=unterminated%zu", n);
		return (uint64_t)(uintptr_t)p;
	case 3:
		if (!optional) {
			*bad |= BAD_NAMEFAULT;
			dsc(f, " name=NULL");
			return 0;
		}
		fallthrough;
	case 4:
		*bad |= BAD_NAMEFAULT;
		dsc(f, " name=none-page");
		return (uint64_t)(uintptr_t)arena_none;
	default:
		*bad |= BAD_NAMEFAULT;
		dsc(f, " name=kernel");
		return 0xffffffffff600000ULL + 0x1000000ULL;
	}
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint32_t pick_entries(struct rng *r)
{
	static const uint32_t good[] = { 1, 2, 4, 8, 16, 64, 256, 1024 };
	static const uint32_t edge[] = {
		0, 3, 5, 255, 257, 4096, 65535, 65536, 65537, 1u << 17,
		1u << 31, UINT32_MAX,
	};

	if (chance(r, 93))
		return good[rnd(r, 8)];
	return edge[rnd(r, 12)];
}

static uint64_t pick_payload(struct rng *r)
{
	static const uint64_t good[] = {
		4096, 8192, 16384, 65536, 131072, 262144,
	};
	static const uint64_t edge[] = {
		0, 1, 2048, 4095, 4097, 12288, 1ULL << 20, 1ULL << 22,
		1ULL << 30, (1ULL << 30) + 4096, 1ULL << 31, 1ULL << 32,
		1ULL << 40, 1ULL << 63, UINT64_MAX,
	};
	uint64_t v;

	if (chance(r, 93))
		v = good[rnd(r, 6)];
	else
		v = edge[rnd(r, 15)];
	/* Never allocate a huge channel when the limit is not ours. */
	if (!limits_set && v >= (1ULL << 23) && v <= (1ULL << 30))
		v = 1ULL << 31;
	return v;
}

static uint32_t pick_max_msg(struct rng *r, uint64_t pay)
{
	bool pay_ok = pow2(pay) && pay >= pg && pay <= IPCU_PAYLOAD_MAX;
	uint32_t half = pay_ok ? (uint32_t)(pay / 2) : 4096;

	if (chance(r, 94)) {
		switch (rnd(r, 5)) {
		case 0:
			return 1;
		case 1:
			return half > 8 ? 8 : half;
		case 2:
			return half;
		case 3:
			return half > 64 ? 64 : half;
		default:
			return 1 + rnd(r, half);
		}
	}
	switch (rnd(r, 4)) {
	case 0:
		return 0;
	case 1:
		return half + 1;
	case 2:
		return UINT32_MAX;
	default:
		return half * 2;
	}
}

static uint32_t pick_mode(struct rng *r, bool named, unsigned int *bad)
{
	static const uint32_t good[] = { 0600, 0644, 0666, 0400, 0200, 0 };
	uint32_t m = 0;

	if (named)
		m = good[rnd(r, 6)];
	if (one_in(r, 40)) {
		m = one_in(r, 2) ? 01000 | m : 0xffffffffu;
		*bad |= BAD_ARG;
	} else if (!named && one_in(r, 40)) {
		m = 0600;
		*bad |= BAD_ARG;
	}
	return m;
}

static uint64_t pick_region_size(struct rng *r)
{
	static const uint64_t pages[] = { 1, 1, 2, 3, 4, 8, 16, 64, 256 };
	static const uint64_t edge[] = {
		0, 1, 4095, 4097, 1ULL << 36, (1ULL << 36) + 4096,
		(1ULL << 36) - 4096, 1ULL << 35 | 1, 1ULL << 63, UINT64_MAX,
	};
	uint64_t v;

	if (chance(r, 94))
		return pages[rnd(r, 9)] * pg;
	if (one_in(r, 4))
		return 4096 * pg;
	v = edge[rnd(r, 10)];
	if (!limits_set && v == (1ULL << 36) - 4096)
		v = 1ULL << 36 | 1;
	return v;
}

/* Device fd argument for the device commands. */
static struct fdp pick_dev(struct fz *f, struct rng *r, unsigned int *bad,
			   bool needs_write)
{
	struct fdp p = fd_pick(f, r, M(FK_DEV) | M(FK_DEV_RO), 6);

	if (p.kind == FK_DEV_RO && !one_in(r, 10) && needs_write) {
		/* Mostly use a writable one when there is one. */
		int s = pick_slot(f, r, M(FK_DEV), false);

		if (s >= 0) {
			p.fd = f->slot[s].fd;
			p.kind = FK_DEV;
			p.slot = s;
		}
	}
	if (p.kind == FK_DEV_RO && needs_write)
		*bad |= BAD_RDONLY;
	dsc(f, " fd=%d(%s)", p.fd, fk_names[p.kind]);
	return p;
}

/* ---------------------------------------------------------------------- */
/* Learning objects reached by name */

static int learn_chan(struct fz *f, int fd)
{
	struct ipcu_ep_info info;
	int o;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, IPCU_IOC_EP_INFO, &info) < 0) {
		failf(f, "EP_INFO on a new endpoint: %s", ename(errno));
		return -1;
	}
	o = obj_new_chan(f, info.ring_entries, info.max_msg,
			 info.payload_bytes);
	if (o >= 0 && f->obj[o].tag) {
		/* Contents written before we knew it: learn them on read. */
		unsigned long i;

		for (i = 0; i < f->obj[o].nr_pages; i++)
			f->obj[o].tag[i] = TAG_UNKNOWN;
	}
	return o;
}

static int learn_region(struct fz *f, int fd)
{
	struct ipcu_region_stats s;
	unsigned long i;
	int o;

	memset(&s, 0, sizeof(s));
	if (ioctl(fd, IPCU_IOC_REGION_STATS, &s) < 0) {
		failf(f, "REGION_STATS on a new region: %s", ename(errno));
		return -1;
	}
	o = obj_new(f, false, s.size / pg);
	if (o < 0)
		return o;
	f->obj[o].sealed = s.state & IPCU_REGION_SEALED;
	if (f->obj[o].tag)
		for (i = 0; i < f->obj[o].nr_pages; i++)
			f->obj[o].tag[i] = TAG_UNKNOWN;
	return o;
}

/* ---------------------------------------------------------------------- */
/* ioctl operations */

static void op_version(struct fz *f, struct rng *r)
{
	struct ipcu_version v;
	unsigned int bad = 0;
	struct fdp p;
	int ret, i;

	memset(&v, 0, sizeof(v));
	memset(&env, 0, offsetof(struct env, in));
	p = pick_dev(f, r, &bad, false);
	env.bad = bad;
	env_kind(&env, &p, M(FK_DEV) | M(FK_DEV_RO));
	env_struct(f, r, &env, IPCU_IOC_VERSION, &v, sizeof(v), 0,
		   offsetof(struct ipcu_version, reserved),
		   sizeof(v.reserved));
	ret = env_call(f, &env, p.fd, &v);
	check_result(f, env.bad, ret, set_version);
	if (ret)
		return;
	if (v.abi_major != IPCU_ABI_MAJOR || v.abi_minor != IPCU_ABI_MINOR ||
	    v.page_size != pg || v.features != 0x3f ||
	    v.ioctls != 0x7001f001fULL || v.flags)
		failf(f, "version %u.%u page %u features %#llx ioctls %#llx",
		      v.abi_major, v.abi_minor, v.page_size,
		      (unsigned long long)v.features,
		      (unsigned long long)v.ioctls);
	for (i = 0; i < 4; i++)
		if (v.reserved[i])
			failf(f, "reserved[%d] written", i);
}

static void op_chan_create(struct fz *f, struct rng *r)
{
	struct ipcu_chan_create c;
	unsigned int bad = 0;
	struct fdp p;
	int ret, idx, o;

	memset(&c, 0, sizeof(c));
	memset(&env, 0, offsetof(struct env, in));
	p = pick_dev(f, r, &bad, true);
	c.role = chance(r, 97) ? rnd(r, 2) : (one_in(r, 2) ? 2 : UINT32_MAX);
	c.ring_entries = pick_entries(r);
	c.payload_bytes = pick_payload(r);
	c.max_msg = pick_max_msg(r, c.payload_bytes);
	c.name = pick_name(f, r, true, f->cname, &bad, &idx);
	c.mode = pick_mode(r, c.name != 0, &bad);
	if (c.role > 1 || !pow2(c.ring_entries) ||
	    c.ring_entries > IPCU_RING_ENTRIES_MAX ||
	    !pow2(c.payload_bytes) || c.payload_bytes < pg ||
	    c.payload_bytes > IPCU_PAYLOAD_MAX || !c.max_msg ||
	    c.max_msg > c.payload_bytes / 2)
		bad |= BAD_ARG;
	dsc(f, " role=%u entries=%u max_msg=%u payload=%llu mode=%#o",
	    c.role, c.ring_entries, c.max_msg,
	    (unsigned long long)c.payload_bytes, c.mode);
	env.bad = bad;
	env.creates = true;
	env_kind(&env, &p, M(FK_DEV) | M(FK_DEV_RO));
	env_struct(f, r, &env, IPCU_IOC_CHAN_CREATE, &c, sizeof(c), 0,
		   offsetof(struct ipcu_chan_create, reserved),
		   sizeof(c.reserved));
	ret = env_call(f, &env, p.fd, &c);
	check_result(f, env.bad, ret, set_chan_create);
	if (ret || !check_new_fd(f, c.fd))
		return;
	dsc(f, " -> fd %d", c.fd);
	o = obj_new_chan(f, c.ring_entries, c.max_msg, c.payload_bytes);
	if (o >= 0 && idx >= 0 && c.name) {
		f->cname[idx] = o;
		f->obj[o].name = idx;
	}
	slot_add(f, c.fd, FK_EP, o, (int)c.role, false);
	if (o >= 0 && !f->obj[o].refs)
		obj_free(f, o);
}

static void op_region_create(struct fz *f, struct rng *r)
{
	struct ipcu_region_create c;
	unsigned int bad = 0;
	struct fdp p;
	int ret, idx, o;

	memset(&c, 0, sizeof(c));
	memset(&env, 0, offsetof(struct env, in));
	p = pick_dev(f, r, &bad, true);
	c.size = pick_region_size(r);
	c.name = pick_name(f, r, true, f->rname, &bad, &idx);
	c.mode = pick_mode(r, c.name != 0, &bad);
	if (one_in(r, 30)) {
		c.pad = 1 + rnd(r, 100);
		bad |= BAD_ARG;
	}
	if (!c.size || c.size > IPCU_REGION_MAX || c.size % pg)
		bad |= BAD_ARG;
	dsc(f, " size=%llu mode=%#o pad=%u", (unsigned long long)c.size,
	    c.mode, c.pad);
	env.bad = bad;
	env.creates = true;
	env_kind(&env, &p, M(FK_DEV) | M(FK_DEV_RO));
	env_struct(f, r, &env, IPCU_IOC_REGION_CREATE, &c, sizeof(c), 0,
		   offsetof(struct ipcu_region_create, reserved),
		   sizeof(c.reserved));
	ret = env_call(f, &env, p.fd, &c);
	check_result(f, env.bad, ret, set_region_create);
	if (ret || !check_new_fd(f, c.fd))
		return;
	dsc(f, " -> fd %d", c.fd);
	o = obj_new(f, false, c.size / pg);
	if (o >= 0 && idx >= 0 && c.name) {
		f->rname[idx] = o;
		f->obj[o].name = idx;
	}
	slot_add(f, c.fd, FK_REGION, o, 0, false);
	if (o >= 0 && !f->obj[o].refs)
		obj_free(f, o);
}

static void op_chan_attach(struct fz *f, struct rng *r)
{
	struct ipcu_chan_attach a;
	unsigned int bad = 0;
	struct fdp p;
	int ret, idx, o;

	memset(&a, 0, sizeof(a));
	memset(&env, 0, offsetof(struct env, in));
	p = pick_dev(f, r, &bad, true);
	a.name = pick_name(f, r, false, f->cname, &bad, &idx);
	a.role = rnd(r, 2);
	/* Mostly the role that is free, as far as we know. */
	if (idx >= 0 && f->cname[idx] >= 0 && chance(r, 75) &&
	    role_held(f, f->cname[idx], (int)a.role))
		a.role = !a.role;
	if (one_in(r, 20))
		a.role = 2 + rnd(r, 100);
	if (one_in(r, 30)) {
		a.pad = 1;
		bad |= BAD_ARG;
	}
	if (a.role > 1)
		bad |= BAD_ARG;
	dsc(f, " role=%u pad=%u", a.role, a.pad);
	env.bad = bad;
	env.creates = true;
	env_kind(&env, &p, M(FK_DEV) | M(FK_DEV_RO));
	env_struct(f, r, &env, IPCU_IOC_CHAN_ATTACH, &a, sizeof(a), 0,
		   offsetof(struct ipcu_chan_attach, reserved),
		   sizeof(a.reserved));
	ret = env_call(f, &env, p.fd, &a);
	check_result(f, env.bad, ret, set_chan_attach);
	if (ret || !check_new_fd(f, a.fd))
		return;
	dsc(f, " -> fd %d", a.fd);
	o = idx >= 0 ? f->cname[idx] : -1;
	if (o < 0) {
		o = learn_chan(f, a.fd);
		if (o >= 0 && idx >= 0) {
			f->cname[idx] = o;
			f->obj[o].name = idx;
		}
	}
	slot_add(f, a.fd, FK_EP, o, (int)a.role, false);
	if (o >= 0 && !f->obj[o].refs)
		obj_free(f, o);
}

static void op_region_attach(struct fz *f, struct rng *r)
{
	struct ipcu_region_attach a;
	unsigned int bad = 0;
	struct fdp p;
	int ret, idx, o;

	memset(&a, 0, sizeof(a));
	memset(&env, 0, offsetof(struct env, in));
	p = pick_dev(f, r, &bad, true);
	a.flags = chance(r, 40) ? IPCU_ATTACH_RDONLY : 0;
	a.name = pick_name(f, r, false, f->rname, &bad, &idx);
	if (one_in(r, 40)) {
		a.pad = 1;
		bad |= BAD_ARG;
	}
	if (one_in(r, 40)) {
		a.pad2 = 1u << rnd(r, 32);
		bad |= BAD_ARG;
	}
	dsc(f, " flags=%#x pad=%u pad2=%u", a.flags, a.pad, a.pad2);
	env.bad = bad;
	env.creates = true;
	env_kind(&env, &p, M(FK_DEV) | M(FK_DEV_RO));
	env_struct(f, r, &env, IPCU_IOC_REGION_ATTACH, &a, sizeof(a),
		   IPCU_ATTACH_RDONLY,
		   offsetof(struct ipcu_region_attach, reserved),
		   sizeof(a.reserved));
	ret = env_call(f, &env, p.fd, &a);
	check_result(f, env.bad, ret, set_region_attach);
	if (ret || !check_new_fd(f, a.fd))
		return;
	dsc(f, " -> fd %d", a.fd);
	o = idx >= 0 ? f->rname[idx] : -1;
	if (o < 0) {
		o = learn_region(f, a.fd);
		if (o >= 0 && idx >= 0) {
			f->rname[idx] = o;
			f->obj[o].name = idx;
		}
	}
	slot_add(f, a.fd, FK_REGION, o, 0, a.flags & IPCU_ATTACH_RDONLY);
	if (o >= 0 && !f->obj[o].refs)
		obj_free(f, o);
}

static void op_ep_info(struct fz *f, struct rng *r)
{
	struct ipcu_ep_info in;
	struct fdp p = fd_pick(f, r, M(FK_EP), 8);
	struct obj *o = slot_obj(f, p.slot);
	uint64_t desc;
	int ret;

	memset(&in, 0, sizeof(in));
	memset(&env, 0, offsetof(struct env, in));
	dsc(f, " fd=%d(%s)", p.fd, fk_names[p.kind]);
	env_kind(&env, &p, M(FK_EP));
	env_struct(f, r, &env, IPCU_IOC_EP_INFO, &in, sizeof(in), 0,
		   offsetof(struct ipcu_ep_info, reserved),
		   sizeof(in.reserved));
	ret = env_call(f, &env, p.fd, &in);
	check_result(f, env.bad, ret, set_ep_info);
	if (ret)
		return;
	if (in.pad || in.reserved[0] || in.reserved[1])
		failf(f, "pad or reserved written");
	if (in.state & ~(IPCU_STATE_PEER_PRESENT | IPCU_STATE_PEER_GONE) ||
	    in.state == (IPCU_STATE_PEER_PRESENT | IPCU_STATE_PEER_GONE))
		failf(f, "state %#x", in.state);
	if (!o || p.kind != FK_EP)
		return;
	desc = ((uint64_t)o->entries * 16 + pg - 1) / pg * pg;
	if ((int)in.role != f->slot[p.slot].role ||
	    in.ring_entries != o->entries || in.max_msg != o->max_msg ||
	    in.payload_bytes != o->pay_bytes || in.cons_ctrl_off != 0 ||
	    in.prod_ctrl_off != pg || in.desc_off != 2 * pg ||
	    in.desc_bytes != desc || in.payload_off != 2 * pg + desc ||
	    in.map_bytes != 2 * pg + desc + o->pay_bytes)
		failf(f, "info role %u entries %u max_msg %u payload %llu offsets %llu/%llu/%llu/%llu/%llu map %llu differ from the model",
		      in.role, in.ring_entries, in.max_msg,
		      (unsigned long long)in.payload_bytes,
		      (unsigned long long)in.cons_ctrl_off,
		      (unsigned long long)in.prod_ctrl_off,
		      (unsigned long long)in.desc_off,
		      (unsigned long long)in.desc_bytes,
		      (unsigned long long)in.payload_off,
		      (unsigned long long)in.map_bytes);
}

static void op_ep_peer(struct fz *f, struct rng *r)
{
	struct ipcu_ep_peer pr;
	struct obj *o;
	struct fdp p;
	int ret;

	memset(&pr, 0, sizeof(pr));
	memset(&env, 0, offsetof(struct env, in));
	p = fd_pick(f, r, M(FK_EP), 8);
	if (p.kind == FK_EP && chance(r, 75)) {
		int cand[MAX_SLOTS], nc = 0, i;

		for (i = 0; i < MAX_SLOTS; i++)
			if (f->slot[i].kind == FK_EP && slot_obj(f, i) &&
			    !(f->child && slot_obj(f, i)->inherited) &&
			    !role_held(f, f->slot[i].obj, !f->slot[i].role))
				cand[nc++] = i;
		if (nc) {
			p.slot = cand[rnd(r, (uint32_t)nc)];
			p.fd = f->slot[p.slot].fd;
		}
	}
	o = slot_obj(f, p.slot);
	/* A child never takes the free role of a channel it inherited. */
	if (f->child && p.kind == FK_EP && (!o || o->inherited)) {
		f->res = RES_SKIP;
		return;
	}
	dsc(f, " fd=%d(%s)", p.fd, fk_names[p.kind]);
	env.creates = true;
	env_kind(&env, &p, M(FK_EP));
	env_struct(f, r, &env, IPCU_IOC_EP_PEER, &pr, sizeof(pr), 0,
		   offsetof(struct ipcu_ep_peer, reserved),
		   sizeof(pr.reserved));
	ret = env_call(f, &env, p.fd, &pr);
	check_result(f, env.bad, ret, set_ep_peer);
	if (ret || !check_new_fd(f, pr.fd))
		return;
	dsc(f, " -> fd %d", pr.fd);
	slot_add(f, pr.fd, FK_EP, f->slot[p.slot].obj,
		 !f->slot[p.slot].role, false);
}

static void op_ep_eventfd(struct fz *f, struct rng *r)
{
	struct ipcu_ep_eventfd e;
	struct fdp p = fd_pick(f, r, M(FK_EP), 8);
	unsigned int bad = 0;
	int ret, s;

	memset(&e, 0, sizeof(e));
	memset(&env, 0, offsetof(struct env, in));
	e.event = chance(r, 94) ? rnd(r, 3) : 3 + rnd(r, 1000);
	if (p.kind == FK_EP && e.event < IPCU_EV_PEER_GONE && chance(r, 80))
		e.event = f->slot[p.slot].role == IPCU_ROLE_CONSUMER ?
			  IPCU_EV_DATA : IPCU_EV_SPACE;
	if (e.event >= IPCU_EV_NR)
		bad |= BAD_ARG;
	else if (p.kind == FK_EP &&
		 ((e.event == IPCU_EV_DATA &&
		   f->slot[p.slot].role != IPCU_ROLE_CONSUMER) ||
		  (e.event == IPCU_EV_SPACE &&
		   f->slot[p.slot].role != IPCU_ROLE_PRODUCER)))
		bad |= BAD_ARG;
	switch (rnd(r, 10)) {
	case 0: case 1:
		e.fd = -1;
		break;
	case 2:
		s = pick_slot(f, r, M_ANY & ~M(FK_EVENTFD), false);
		e.fd = s >= 0 ? f->slot[s].fd : 1000;
		bad |= s >= 0 ? BAD_ARGKIND : BAD_ARGFD;
		break;
	case 3:
		e.fd = one_in(r, 2) ? -2 - (int)rnd(r, 100) : 1001;
		bad |= BAD_ARGFD;
		break;
	default:
		s = pick_slot(f, r, M(FK_EVENTFD), false);
		e.fd = s >= 0 ? f->slot[s].fd : -1;
		break;
	}
	if (one_in(r, 30)) {
		e.pad = 1;
		bad |= BAD_ARG;
	}
	dsc(f, " fd=%d(%s) event=%u efd=%d pad=%u", p.fd, fk_names[p.kind],
	    e.event, e.fd, e.pad);
	env.bad = bad;
	env_kind(&env, &p, M(FK_EP));
	env_struct(f, r, &env, IPCU_IOC_EP_EVENTFD, &e, sizeof(e), 0,
		   offsetof(struct ipcu_ep_eventfd, reserved),
		   sizeof(e.reserved));
	ret = env_call(f, &env, p.fd, &e);
	check_result(f, env.bad, ret, set_ep_eventfd);
}

static void op_doorbell(struct fz *f, struct rng *r)
{
	struct fdp p = fd_pick(f, r, M(FK_EP), 8);
	int ret;

	memset(&env, 0, offsetof(struct env, in));
	dsc(f, " fd=%d(%s)", p.fd, fk_names[p.kind]);
	env_kind(&env, &p, M(FK_EP));
	env_value(f, r, &env, IPCU_IOC_DOORBELL);
	ret = env_call(f, &env, p.fd, NULL);
	check_result(f, env.bad, ret, set_doorbell);
}

static void op_wait(struct fz *f, struct rng *r)
{
	static const int64_t tmo[] = { 0, 0, 1000, 100000, 1000000, 2000000 };
	struct fdp p = fd_pick(f, r, M(FK_EP), 8);
	struct itimerval it;
	struct ipcu_wait w;
	unsigned int bad = 0;
	bool timer = false;
	int ret, s;

	memset(&w, 0, sizeof(w));
	memset(&env, 0, offsetof(struct env, in));
	w.doorbell_fd = -1;
	if (chance(r, 40)) {
		w.flags = IPCU_WAIT_DOORBELL;
		switch (rnd(r, 8)) {
		case 0:
			s = pick_slot(f, r, M_ANY & ~M(FK_EP), false);
			w.doorbell_fd = s >= 0 ? f->slot[s].fd : 1002;
			bad |= s >= 0 ? BAD_ARGKIND : BAD_ARGFD;
			break;
		case 1:
			w.doorbell_fd = -1 - (int)rnd(r, 2);
			bad |= BAD_ARGFD;
			break;
		default:
			s = pick_slot(f, r, M(FK_EP), false);
			w.doorbell_fd = s >= 0 ? f->slot[s].fd : -1;
			if (s < 0)
				bad |= BAD_ARGFD;
			break;
		}
	} else if (one_in(r, 20)) {
		w.doorbell_fd = (int)rnd(r, 10);
		bad |= BAD_ARG;
	}
	if (chance(r, 8)) {
		/* Sleep without limit; a repeating timer interrupts it. */
		w.timeout_ns = -1;
		timer = true;
	} else {
		w.timeout_ns = tmo[rnd(r, 6)];
	}
	if (one_in(r, 30)) {
		w.pad = 1;
		bad |= BAD_ARG;
	}
	w.revents = 0xdeadbeef;
	dsc(f, " fd=%d(%s) flags=%#x bell=%d timeout=%lld pad=%u", p.fd,
	    fk_names[p.kind], w.flags, w.doorbell_fd,
	    (long long)w.timeout_ns, w.pad);
	env.bad = bad;
	env_kind(&env, &p, M(FK_EP));
	env_struct(f, r, &env, IPCU_IOC_WAIT, &w, sizeof(w),
		   IPCU_WAIT_DOORBELL, offsetof(struct ipcu_wait, reserved),
		   sizeof(w.reserved));
	if (timer) {
		memset(&it, 0, sizeof(it));
		it.it_value.tv_usec = 1000 + rnd(r, 2000);
		it.it_interval.tv_usec = 2000;
		setitimer(ITIMER_REAL, &it, NULL);
	}
	ret = env_call(f, &env, p.fd, &w);
	if (timer) {
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
	}
	check_result(f, env.bad, ret, set_wait);
	if (ret == -EINTR && w.timeout_ns == 0)
		failf(f, "EINTR without sleeping");
	if (ret == -ETIMEDOUT && w.timeout_ns < 0)
		failf(f, "ETIMEDOUT without a timeout");
	if (ret || env.usize < sizeof(w))
		return;
	dsc(f, " revents=%#x", w.revents);
	if (!w.revents || w.revents & ~(EPOLLIN | EPOLLRDNORM | EPOLLOUT |
					EPOLLWRNORM | EPOLLHUP | EPOLLERR))
		failf(f, "revents %#x", w.revents);
	else if (p.slot >= 0 && f->slot[p.slot].role == IPCU_ROLE_CONSUMER &&
		 w.revents & (EPOLLOUT | EPOLLWRNORM))
		failf(f, "consumer revents %#x", w.revents);
	else if (p.slot >= 0 && f->slot[p.slot].role == IPCU_ROLE_PRODUCER &&
		 w.revents & (EPOLLIN | EPOLLRDNORM))
		failf(f, "producer revents %#x", w.revents);
}

static void op_clone(struct fz *f, struct rng *r)
{
	struct fdp p = fd_pick(f, r, M(FK_EP) | M(FK_REGION), 8);
	struct obj *src = slot_obj(f, p.slot);
	struct ipcu_clone c;
	unsigned long first = 0, nr, i;
	int ret, o;

	memset(&c, 0, sizeof(c));
	memset(&env, 0, offsetof(struct env, in));
	c.flags = chance(r, 30) ? IPCU_CLONE_SEAL : 0;
	dsc(f, " fd=%d(%s) flags=%#x", p.fd, fk_names[p.kind], c.flags);
	env.creates = true;
	env_kind(&env, &p, M(FK_EP) | M(FK_REGION));
	env_struct(f, r, &env, IPCU_IOC_CLONE, &c, sizeof(c), IPCU_CLONE_SEAL,
		   offsetof(struct ipcu_clone, reserved), sizeof(c.reserved));
	ret = env_call(f, &env, p.fd, &c);
	check_result(f, env.bad, ret, set_clone);
	if (ret || !check_new_fd(f, c.fd))
		return;
	dsc(f, " -> fd %d", c.fd);
	o = -1;
	if (src) {
		if (src->chan)
			first = src->pay_first;
		nr = src->nr_pages - first;
		o = obj_new(f, false, nr);
		if (o >= 0) {
			f->obj[o].clone = true;
			f->obj[o].sealed = c.flags & IPCU_CLONE_SEAL;
			if (f->obj[o].tag && src->tag)
				for (i = 0; i < nr; i++)
					f->obj[o].tag[i] = src->tag[first + i];
			else if (f->obj[o].tag)
				for (i = 0; i < nr; i++)
					f->obj[o].tag[i] = TAG_UNKNOWN;
		}
	}
	slot_add(f, c.fd, FK_REGION, o, 0, false);
	if (o >= 0 && !f->obj[o].refs)
		obj_free(f, o);
}

static void op_seal(struct fz *f, struct rng *r)
{
	struct fdp p = fd_pick(f, r, M(FK_REGION), 8);
	struct obj *o;
	int ret;

	/* A child seals only what it made: the parent's seals stay its own. */
	if (f->child && p.kind == FK_REGION &&
	    (!slot_obj(f, p.slot) || slot_obj(f, p.slot)->inherited)) {
		f->res = RES_SKIP;
		return;
	}
	o = slot_obj(f, p.slot);
	memset(&env, 0, offsetof(struct env, in));
	dsc(f, " fd=%d(%s)%s", p.fd, fk_names[p.kind],
	    p.slot >= 0 && f->slot[p.slot].rdonly ? " rdonly" : "");
	env_kind(&env, &p, M(FK_REGION));
	if (p.kind == FK_REGION && f->slot[p.slot].rdonly)
		env.bad |= BAD_RDONLY;
	env_value(f, r, &env, IPCU_IOC_SEAL);
	ret = env_call(f, &env, p.fd, NULL);
	check_result(f, env.bad, ret, set_seal);
	if (ret == -EPERM && !(env.bad & BAD_RDONLY))
		failf(f, "EPERM on a read-write region fd");
	if (ret || !o)
		return;
	if (obj_writable_maps(f, f->slot[p.slot].obj))
		failf(f, "sealed while %d writable mappings exist",
		      obj_writable_maps(f, f->slot[p.slot].obj));
	o->sealed = true;
}

static void op_region_stats(struct fz *f, struct rng *r)
{
	struct fdp p = fd_pick(f, r, M(FK_REGION), 8);
	struct obj *o = slot_obj(f, p.slot);
	struct ipcu_region_stats s;
	int ret;

	memset(&s, 0, sizeof(s));
	memset(&env, 0, offsetof(struct env, in));
	dsc(f, " fd=%d(%s)", p.fd, fk_names[p.kind]);
	env_kind(&env, &p, M(FK_REGION));
	env_struct(f, r, &env, IPCU_IOC_REGION_STATS, &s, sizeof(s), 0,
		   offsetof(struct ipcu_region_stats, reserved),
		   sizeof(s.reserved));
	ret = env_call(f, &env, p.fd, &s);
	check_result(f, env.bad, ret, set_region_stats);
	if (ret)
		return;
	dsc(f, " -> state %#x size %llu private %llu shared %llu cow %llu wmaps %llu",
	    s.state, (unsigned long long)s.size,
	    (unsigned long long)s.private_pages,
	    (unsigned long long)s.shared_pages,
	    (unsigned long long)s.cow_copies,
	    (unsigned long long)s.writable_maps);
	if (s.reserved[0] || s.reserved[1] || s.reserved[2])
		failf(f, "reserved written");
	if (s.cow_copies)
		count(&shm->cow_stats, 1);
	if (s.shared_pages)
		count(&shm->cow_shared, 1);
	if (s.state & ~IPCU_REGION_SEALED)
		failf(f, "state %#x", s.state);
	if (s.private_pages + s.shared_pages > s.size / pg)
		failf(f, "more populated pages than the region has");
	if ((s.state & IPCU_REGION_SEALED) && s.writable_maps)
		failf(f, "sealed region with %llu writable mappings",
		      (unsigned long long)s.writable_maps);
	if (!o || p.kind != FK_REGION)
		return;
	if (s.size != o->nr_pages * pg)
		failf(f, "size %llu, model %lu", (unsigned long long)s.size,
		      o->nr_pages * pg);
	if (o->sealed && !(s.state & IPCU_REGION_SEALED))
		failf(f, "sealed region not reported sealed");
	if (obj_writable_maps(f, f->slot[p.slot].obj) && !s.writable_maps)
		failf(f, "writable_maps 0 while %d writable mappings exist",
		      obj_writable_maps(f, f->slot[p.slot].obj));
	if (s.state & IPCU_REGION_SEALED)
		o->sealed = true;
}

/* Commands that do not exist: always ENOTTY (EBADF without an fd). */
static void op_bad_ioctl(struct fz *f, struct rng *r)
{
	static const unsigned char types[] = { 0xb8, 0xba, 0xf9, 0xfe };
	static const unsigned long real[] = {
		IPCU_IOC_VERSION, IPCU_IOC_CHAN_CREATE, IPCU_IOC_CHAN_ATTACH,
		IPCU_IOC_REGION_CREATE, IPCU_IOC_REGION_ATTACH,
		IPCU_IOC_EP_INFO, IPCU_IOC_EP_PEER, IPCU_IOC_EP_EVENTFD,
		IPCU_IOC_DOORBELL, IPCU_IOC_WAIT, IPCU_IOC_CLONE,
		IPCU_IOC_SEAL, IPCU_IOC_REGION_STATS,
	};
	/* File kinds each of them applies to, in the same order. */
	static const unsigned int kinds[] = {
		M(FK_DEV) | M(FK_DEV_RO), M(FK_DEV) | M(FK_DEV_RO),
		M(FK_DEV) | M(FK_DEV_RO), M(FK_DEV) | M(FK_DEV_RO),
		M(FK_DEV) | M(FK_DEV_RO), M(FK_EP), M(FK_EP), M(FK_EP),
		M(FK_EP), M(FK_EP), M(FK_EP) | M(FK_REGION), M(FK_REGION),
		M(FK_REGION),
	};
	struct fdp p = fd_pick(f, r, M(FK_DEV) | M(FK_EP) | M(FK_REGION), 10);
	unsigned long cmd = 0;
	unsigned int nr, dir, i;
	int ret;

	switch (rnd(r, 4)) {
	case 0:
		cmd = _IOC(rnd(r, 4), types[rnd(r, 4)], rnd(r, 256),
			   rnd(r, 256));
		break;
	case 1:
		/* Numbers that are not commands. */
		do {
			nr = rnd(r, 256);
		} while (nr <= 0x04 || (nr >= 0x10 && nr <= 0x14) ||
			 (nr >= 0x20 && nr <= 0x22));
		cmd = _IOC(rnd(r, 4), IPCU_IOC_MAGIC, nr, rnd(r, 200));
		break;
	case 2:
		/* A command with the wrong direction. */
		i = rnd(r, 13);
		do {
			dir = rnd(r, 4);
		} while (dir == _IOC_DIR(real[i]));
		cmd = _IOC(dir, IPCU_IOC_MAGIC, _IOC_NR(real[i]),
			   _IOC_SIZE(real[i]) ? _IOC_SIZE(real[i]) : 8);
		break;
	default:
		/* A command on a file it does not apply to. */
		i = rnd(r, 13);
		if (p.kind != FK_CLOSED && (M(p.kind) & kinds[i])) {
			f->res = RES_SKIP;
			return;
		}
		cmd = real[i];
		break;
	}
	dsc(f, " fd=%d(%s) cmd=%#lx", p.fd, fk_names[p.kind], cmd);
	memset(arena, 0, 512);
	ret = ioctl(p.fd, cmd, arena) < 0 ? -errno : 0;
	f->res = ret;
	dsc(f, " [invalid]");
	check_result(f, p.kind == FK_CLOSED ? BAD_FD :
		     p.kind == FK_EVENTFD || p.kind == FK_EPOLL ||
		     p.kind == FK_SOCK ? BAD_FOREIGN : BAD_KIND, ret,
		     set_bad_ioctl);
	if (ret == -EBADF && p.kind != FK_CLOSED)
		failf(f, "EBADF on an open fd");
}

/* ---------------------------------------------------------------------- */
/* Memory operations */

/* Reasons a mapping must fail. */
#define MB_FDKIND	(1u << 0)	/* ENODEV, EACCES */
#define MB_CLOSED	(1u << 1)	/* EBADF */
#define MB_LEN0		(1u << 2)	/* EINVAL */
#define MB_UNALIGNED	(1u << 3)	/* EINVAL */
#define MB_PRIVATE	(1u << 4)	/* EINVAL */
#define MB_VALIDATE	(1u << 5)	/* EOPNOTSUPP */
#define MB_HUGE		(1u << 6)	/* ENOMEM, EINVAL, EOVERFLOW */
#define MB_RANGE	(1u << 7)	/* EINVAL, EOVERFLOW */
#define MB_POLICY	(1u << 8)	/* EACCES */
#define MB_RDONLY	(1u << 9)	/* EACCES */
#define MB_SEALED	(1u << 10)	/* EPERM */

static bool mmap_errno_ok(unsigned int why, int e, int prot)
{
	if (e == ENOMEM || e == EAGAIN)
		return true;
	if ((prot & PROT_EXEC) && (e == EPERM || e == EACCES))
		return true;
	switch (e) {
	case ENODEV:
		return why & MB_FDKIND;
	case EBADF:
		return why & MB_CLOSED;
	case EINVAL:
		return why & (MB_LEN0 | MB_UNALIGNED | MB_PRIVATE | MB_HUGE |
			      MB_RANGE);
	case EOPNOTSUPP:
		return why & MB_VALIDATE;
	case EOVERFLOW:
		return why & (MB_HUGE | MB_RANGE);
	case EACCES:
		/* Also: shared PROT_WRITE on a file not open for writing. */
		return why & (MB_POLICY | MB_RDONLY | MB_FDKIND);
	case EPERM:
		return why & MB_SEALED;
	default:
		return false;
	}
}

static int pick_prot(struct rng *r)
{
	uint32_t v = rnd(r, 100);

	if (v < 35)
		return PROT_READ;
	if (v < 82)
		return PROT_READ | PROT_WRITE;
	if (v < 87)
		return PROT_WRITE;
	if (v < 92)
		return PROT_NONE;
	if (v < 96)
		return PROT_READ | PROT_EXEC;
	return PROT_READ | PROT_WRITE | PROT_EXEC;
}

static void op_mmap(struct fz *f, struct rng *r)
{
	struct fdp p = fd_pick(f, r, M(FK_EP) | M(FK_REGION), 6);
	struct obj *o = slot_obj(f, p.slot);
	unsigned long nr = o ? o->nr_pages : 4, pgoff = 0, npages = 1;
	unsigned int why = 0;
	bool known = o && (p.kind == FK_EP || p.kind == FK_REGION);
	bool maywrite = false;
	uint64_t off;
	size_t len;
	int prot, flags;
	uint32_t v;
	char *a;

	v = rnd(r, 100);
	if (o && o->chan && v < 50) {
		switch (rnd(r, 5)) {
		case 0:
			pgoff = 0;
			npages = 1;
			break;
		case 1:
			pgoff = 1;
			npages = 1;
			break;
		case 2:
			pgoff = 2;
			npages = o->pay_first - 2;
			break;
		case 3:
			pgoff = o->pay_first;
			npages = nr - pgoff;
			break;
		default:
			pgoff = 0;
			npages = nr;
			break;
		}
	} else if (v < 90) {
		pgoff = rnd(r, (uint32_t)nr);
		npages = nr - pgoff;
		if (npages > 1 && chance(r, 80))
			npages = 1 + rnd(r, (uint32_t)(npages < 16 ?
							 npages : 16));
	} else {
		switch (rnd(r, 5)) {
		case 0:
			pgoff = nr;
			npages = 1;
			break;
		case 1:
			pgoff = nr - 1;
			npages = 2;
			break;
		case 2:
			pgoff = 0;
			npages = nr + 1;
			break;
		case 3:
			pgoff = 1UL << 36;
			npages = 1;
			break;
		default:
			pgoff = ~0UL / pg - 1;
			npages = 2;
			break;
		}
		why |= MB_RANGE;
	}
	off = (uint64_t)pgoff * pg;
	len = npages * pg;
	if (one_in(r, 25))
		len -= rnd(r, (uint32_t)pg - 1);
	if (one_in(r, 40)) {
		off += 1 + rnd(r, (uint32_t)pg - 1);
		why |= MB_UNALIGNED;
	}
	if (one_in(r, 60)) {
		len = 0;
		why |= MB_LEN0;
	} else if (one_in(r, 80)) {
		len = 1UL << 46;
		why |= MB_HUGE;
	}
	prot = pick_prot(r);
	/* A child keeps its parent's regions sealable. */
	if (f->child && p.kind == FK_REGION && o && o->inherited)
		prot &= ~PROT_WRITE;
	v = rnd(r, 100);
	if (v < 84) {
		flags = MAP_SHARED;
	} else if (v < 89) {
		flags = MAP_SHARED_VALIDATE;
	} else if (v < 92) {
		flags = MAP_SHARED | MAP_POPULATE;
	} else if (v < 95) {
		flags = MAP_SHARED | MAP_NORESERVE;
	} else if (v < 98) {
		flags = MAP_PRIVATE;
		why |= MB_PRIVATE;
	} else {
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
		why |= MB_VALIDATE;
	}
	/* No overcommit accounting (and its log line) for the huge ones. */
	if (why & MB_HUGE)
		flags |= MAP_NORESERVE;
	/* Populating megabytes costs seconds on a debug kernel under TCG. */
	if (len > 64 * pg)
		flags &= ~MAP_POPULATE;
	if (p.kind == FK_CLOSED)
		why |= MB_CLOSED;
	else if (p.kind != FK_EP && p.kind != FK_REGION)
		why |= MB_FDKIND;
	if (known && pgoff < nr && npages <= nr - pgoff &&
	    !(why & (MB_RANGE | MB_HUGE))) {
		if (p.kind == FK_EP) {
			maywrite = ep_range_writable(f->slot[p.slot].role,
						     pgoff, npages);
			if ((prot & PROT_WRITE) && !maywrite)
				why |= MB_POLICY;
		} else {
			maywrite = prot & PROT_WRITE;
			if ((prot & PROT_WRITE) && o->sealed &&
			    !f->slot[p.slot].rdonly)
				why |= MB_SEALED;
		}
	}
	/* The VFS refuses this before anything else looks at the range. */
	if (known && p.kind == FK_REGION && (prot & PROT_WRITE) &&
	    f->slot[p.slot].rdonly && !(why & MB_PRIVATE))
		why |= MB_RDONLY;
	dsc(f, " fd=%d(%s) off=%#llx len=%#zx prot=%#x flags=%#x", p.fd,
	    fk_names[p.kind], (unsigned long long)off, len, prot, flags);
	if (why)
		dsc(f, " [invalid: %#x]", why);
	a = mmap(NULL, len, prot, flags, p.fd, (off_t)off);
	if (a == MAP_FAILED) {
		int e = errno;

		f->res = -e;
		if (!known && !why)
			return;
		if (!mmap_errno_ok(why, e, prot))
			failf(f, "%s%s%s", ename(e),
			      why ? " not explained by the arguments" :
				    " for a valid mapping",
			      "");
		return;
	}
	f->res = 0;
	dsc(f, " -> %p", (void *)a);
	if (why) {
		failf(f, "mapping succeeded (reasons to fail %#x)", why);
		munmap(a, len);
		return;
	}
	if (!known) {
		munmap(a, len);
		return;
	}
	map_add(f, a, (len + pg - 1) / pg * pg, f->slot[p.slot].obj,
		p.kind == FK_EP ? f->slot[p.slot].role : -1, pgoff, prot,
		maywrite);
}

/* A page-aligned sub-range [*start, *start + *n) of entry @i, in pages. */
static void pick_subrange(struct fz *f, struct rng *r, int i,
			  unsigned long *start, unsigned long *n)
{
	unsigned long pages = f->map[i].len / pg;

	*start = 0;
	*n = pages;
	if (pages < 2 || chance(r, 50))
		return;
	*start = rnd(r, (uint32_t)pages);
	*n = 1 + rnd(r, (uint32_t)(pages - *start));
}

/*
 * Make [start, start + n) pages of entry @i an entry of its own; its index,
 * or -1 if the table has no room.
 */
static int isolate(struct fz *f, int i, unsigned long start, unsigned long n)
{
	int j;

	if (map_free_entries(f) < 2)
		return start == 0 && n == f->map[i].len / pg ? i : -1;
	if (start) {
		j = map_split(f, i, start * pg);
		if (j < 0)
			return -1;
		i = j;
	}
	if (n < f->map[i].len / pg)
		map_split(f, i, n * pg);
	return i;
}

static void op_munmap(struct fz *f, struct rng *r)
{
	unsigned long start, n, pages;
	int i = pick_map(f, r, 0), ret, j;
	struct map *m;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	pages = m->len / pg;
	if (one_in(r, 30)) {
		/* Invalid: unaligned, or empty. */
		bool unal = one_in(r, 2);

		dsc(f, " %p %s", (void *)m->addr, unal ? "unaligned" : "len 0");
		ret = munmap(unal ? m->addr + 1 : m->addr, unal ? pg : 0);
		f->res = ret ? -errno : 0;
		if (!ret || errno != EINVAL)
			failf(f, "invalid munmap: %s", ret ? ename(errno) :
			      "succeeded");
		return;
	}
	pick_subrange(f, r, i, &start, &n);
	/* A child never lets go of all of an inherited mapping. */
	if (f->child && m->inherited && n == pages) {
		if (pages < 2) {
			f->res = RES_SKIP;
			return;
		}
		n = pages - 1;
		start = rnd(r, 2);
	}
	dsc(f, " %p+%#lx pages %lu of %lu", (void *)m->addr, start * pg, n,
	    pages);
	j = isolate(f, i, start, n);
	if (j < 0) {
		f->res = RES_SKIP;
		return;
	}
	ret = munmap(f->map[j].addr, f->map[j].len);
	f->res = ret ? -errno : 0;
	if (ret) {
		failf(f, "munmap: %s", ename(errno));
		return;
	}
	map_drop(f, j, false);
}

static void op_mprotect(struct fz *f, struct rng *r)
{
	unsigned long start, n;
	int i = pick_map(f, r, 0), ret, prot, j;
	struct map *m;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	prot = pick_prot(r);
	pick_subrange(f, r, i, &start, &n);
	dsc(f, " %p+%#lx pages %lu prot %#x->%#x%s", (void *)m->addr,
	    start * pg, n, m->prot, prot, m->maywrite ? " maywrite" : "");
	ret = mprotect(m->addr + start * pg, n * pg, prot);
	f->res = ret ? -errno : 0;
	if (ret) {
		int e = errno;

		if ((prot & PROT_WRITE) && !m->maywrite && e == EACCES)
			return;
		if ((prot & PROT_EXEC) && e == EACCES)
			return;
		if (e != ENOMEM)
			failf(f, "mprotect: %s", ename(e));
		return;
	}
	if ((prot & PROT_WRITE) && !m->maywrite) {
		failf(f, "PROT_WRITE granted to a mapping that may not write");
		return;
	}
	/*
	 * Split the entry where the kernel may have split the VMA: an entry
	 * then never spans two VMAs (mremap() needs one).
	 */
	j = isolate(f, i, start, n);
	if (j < 0) {
		/*
		 * No room to track the split: let go of the whole entry, or
		 * (an inherited one, which a child keeps) undo the change.
		 */
		if (!(f->child && m->inherited)) {
			map_drop(f, i, true);
			return;
		}
		if (mprotect(m->addr + start * pg, n * pg, m->prot))
			failf(f, "mprotect back to %#x: %s", m->prot,
			      ename(errno));
		m->multi = true;
		return;
	}
	f->map[j].prot = prot;
}

static void op_mremap(struct fz *f, struct rng *r)
{
	unsigned long pages, old_n, new_n;
	int i = pick_map(f, r, 0), flags = 0;
	bool must_fail = false, fixed = false;
	struct map *m;
	char *ph = NULL, *a;
	size_t old_len, new_len;
	uint32_t v;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	pages = m->len / pg;
	old_n = pages;
	if (pages > 1 && chance(r, 30))
		old_n = 1 + rnd(r, (uint32_t)pages);
	new_n = 1 + rnd(r, (uint32_t)old_n);
	v = rnd(r, 100);
	if (v < 35) {
		/* Shrink in place. */
	} else if (v < 70) {
		/* Move, maybe shrinking. */
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		fixed = true;
	} else if (v < 85) {
		/* Grow: the objects never grow. */
		new_n = old_n + 1 + rnd(r, 4);
		flags = chance(r, 50) ? MREMAP_MAYMOVE : 0;
		must_fail = true;
	} else if (v < 93) {
		new_n = old_n;
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		must_fail = true;
	} else {
		/* Duplicate (old_len 0): growing from nothing. */
		old_n = 0;
		new_n = 1;
		flags = MREMAP_MAYMOVE;
		must_fail = true;
	}
	old_len = old_n * pg;
	new_len = new_n * pg;
	if (fixed) {
		ph = mmap(NULL, new_len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (ph == MAP_FAILED) {
			f->res = RES_SKIP;
			return;
		}
	}
	if (!must_fail && old_n < pages && map_free_entries(f) < 1) {
		if (ph)
			munmap(ph, new_len);
		f->res = RES_SKIP;
		return;
	}
	dsc(f, " %p old %#zx new %#zx flags %#x%s%p", (void *)m->addr, old_len,
	    new_len, flags, fixed ? " to " : "", (void *)ph);
	a = mremap(m->addr, old_len, new_len, flags, ph);
	if (a == MAP_FAILED) {
		int e = errno;

		f->res = -e;
		if (ph)
			munmap(ph, new_len);
		if (e != EFAULT && e != EINVAL && e != ENOMEM && e != EAGAIN)
			failf(f, "undocumented errno %s", ename(e));
		else if (!must_fail && e != ENOMEM && e != EAGAIN &&
			 !(e == EFAULT && m->multi))
			failf(f, "%s shrinking or moving a mapping", ename(e));
		return;
	}
	f->res = 0;
	if (must_fail) {
		failf(f, "mremap succeeded (grow, DONTUNMAP or duplicate) -> %p",
		      (void *)a);
		return;
	}
	if (fixed && a != ph)
		failf(f, "MREMAP_FIXED moved to %p, not %p", (void *)a,
		      (void *)ph);
	if (old_n < pages)
		map_split(f, i, old_len);
	/* Past the remapped range, the entry stays where it was. */
	m->addr = a;
	m->len = new_len;
}

static const struct {
	const char *name;
	int advice;
	bool must_work;		/* 0 (or a temporary failure) expected */
} advices[] = {
	{ "DONTNEED", MADV_DONTNEED, true },
	{ "REMOVE", MADV_REMOVE, false },
	{ "COLD", MADV_COLD, false },
	{ "PAGEOUT", MADV_PAGEOUT, false },
	{ "WILLNEED", MADV_WILLNEED, false },
	{ "NORMAL", MADV_NORMAL, true },
	{ "RANDOM", MADV_RANDOM, true },
	{ "SEQUENTIAL", MADV_SEQUENTIAL, true },
	{ "DONTFORK", MADV_DONTFORK, true },
	{ "DOFORK", MADV_DOFORK, true },
	{ "DONTDUMP", MADV_DONTDUMP, true },
	{ "DODUMP", MADV_DODUMP, false },
	{ "MERGEABLE", MADV_MERGEABLE, false },
	{ "UNMERGEABLE", MADV_UNMERGEABLE, false },
	{ "HUGEPAGE", MADV_HUGEPAGE, false },
	{ "NOHUGEPAGE", MADV_NOHUGEPAGE, false },
	{ "POPULATE_READ", MADV_POPULATE_READ, false },
	{ "POPULATE_WRITE", MADV_POPULATE_WRITE, false },
	{ "FREE", MADV_FREE, false },
	{ "WIPEONFORK", MADV_WIPEONFORK, false },
	{ "KEEPONFORK", MADV_KEEPONFORK, false },
	{ "COLLAPSE", MADV_COLLAPSE, false },
	{ "invalid", 12345, false },
};

static const int set_madvise[] = {
	EINVAL, EACCES, EAGAIN, EBADF, EFAULT, EIO, ENOMEM, EPERM,
	EOPNOTSUPP, EBUSY, ENODEV, ESPIPE, EINTR, 0
};

static void op_madvise(struct fz *f, struct rng *r)
{
	unsigned int n_adv = sizeof(advices) / sizeof(advices[0]);
	unsigned int k = rnd(r, n_adv);
	unsigned long start, n;
	int i = pick_map(f, r, 0), ret, adv, e, j;
	bool readable, writable;
	struct map *m;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	adv = advices[k].advice;
	pick_subrange(f, r, i, &start, &n);
	if ((adv == MADV_POPULATE_READ || adv == MADV_POPULATE_WRITE) &&
	    n > 64)
		n = 64;
	readable = m->prot & PROT_READ;
	writable = m->prot & PROT_WRITE;
	dsc(f, " %p+%#lx pages %lu prot %#x %s", (void *)m->addr, start * pg,
	    n, m->prot, advices[k].name);
	ret = madvise(m->addr + start * pg, n * pg, adv);
	e = ret ? errno : 0;
	f->res = -e;
	if (ret && !in_set(set_madvise, e)) {
		failf(f, "undocumented errno %s", ename(e));
		return;
	}
	if (adv == 12345) {
		if (e != EINVAL)
			failf(f, "invalid advice: %s",
			      ret ? ename(e) : "succeeded");
		return;
	}
	if (ret && advices[k].must_work && e != ENOMEM && e != EAGAIN)
		failf(f, "%s", ename(e));
	/* A populate that faults means the module gave SIGBUS. */
	if (ret && e == EFAULT &&
	    ((adv == MADV_POPULATE_READ && readable) ||
	     (adv == MADV_POPULATE_WRITE && writable)))
		failf(f, "populating a mapping faulted (SIGBUS from the module?)");
	if (ret && adv == MADV_POPULATE_WRITE && writable && e == EINVAL)
		failf(f, "EINVAL populating a writable mapping");
	if (ret)
		return;
	/* Advice that changes the VMA's flags may have split it. */
	j = isolate(f, i, start, n);
	if (j < 0) {
		/* Cannot track the split: let go of the whole entry. */
		if (f->child && m->inherited) {
			m->multi = true;
			return;
		}
		map_drop(f, i, true);
		return;
	}
	if (adv == MADV_DONTFORK || adv == MADV_DOFORK)
		f->map[j].dontfork = adv == MADV_DONTFORK;
}

/* Which area of its object a page of a mapping is. */
enum { AREA_CONS, AREA_PROD, AREA_DESC, AREA_DATA };

static int page_area(const struct obj *o, unsigned long pgoff)
{
	if (!o || !o->chan)
		return AREA_DATA;
	if (pgoff == 0)
		return AREA_CONS;
	if (pgoff == 1)
		return AREA_PROD;
	if (pgoff < o->pay_first)
		return AREA_DESC;
	return AREA_DATA;
}

/* An interesting 32-bit value for a ring field of @o, near @cur. */
static uint32_t ring_value(struct rng *r, const struct obj *o, uint32_t cur)
{
	uint32_t e = o ? o->entries : 16, pay = o ? (uint32_t)o->pay_bytes :
						    4096;
	uint32_t mm = o ? o->max_msg : 64;

	switch (rnd(r, 16)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return e - 1;
	case 3:
		return e;
	case 4:
		return e + 1;
	case 5:
		return pay;
	case 6:
		return pay - 1;
	case 7:
		return pay + 1;
	case 8:
		return mm;
	case 9:
		return mm + 1;
	case 10:
		return UINT32_MAX;
	case 11:
		return 0x80000000u;
	case 12:
		return (uint32_t)rnd64(r);
	case 13:
		return cur + 1;
	case 14:
		return cur - 1;
	default:
		return cur + rnd(r, 64);
	}
}

static void op_write(struct fz *f, struct rng *r)
{
	int i = pick_map(f, r, PROT_WRITE), area, sig;
	unsigned long page, pgoff;
	bool expect_fault;
	struct obj *o;
	struct map *m;
	uint64_t val = 0, cur = 0;
	size_t off, len = 0;
	int how;
	char *p;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	o = m->obj >= 0 ? &f->obj[m->obj] : NULL;
	page = rnd(r, (uint32_t)(m->len / pg));
	pgoff = m->pgoff + page;
	area = page_area(o, pgoff);
	p = m->addr + page * pg;
	expect_fault = !(m->prot & PROT_WRITE);
	how = ACC_WR32;
	off = 0;
	switch (area) {
	case AREA_CONS:
	case AREA_PROD:
		off = 4 * rnd(r, chance(r, 75) ? 4 : (uint32_t)pg / 4);
		if (!expect_fault && m->prot != PROT_NONE)
			cur = *(volatile uint32_t *)(p + off);
		val = off == 8 ? (one_in(r, 2) ? cur + 2 : (cur | 1) ^
				  (rnd(r, 2) << 1)) : ring_value(r, o,
								 (uint32_t)cur);
		break;
	case AREA_DESC:
		off = 4 * rnd(r, (uint32_t)pg / 4);
		val = ring_value(r, o, 0);
		break;
	default:
		if (!f->child && o && o->tag && chance(r, 35)) {
			how = ACC_WR64;
			val = ((uint64_t)(f->op + 1) << 24) | (++f->tagctr &
							      0xffffff);
			dsc(f, " tag");
		} else if (chance(r, 50)) {
			off = 8 + 4 * rnd(r, (uint32_t)(pg - 8) / 4);
			val = rnd64(r);
		} else {
			how = ACC_FILL;
			off = 8 + rnd(r, (uint32_t)pg - 8 - 64);
			len = 1 + rnd(r, 64);
			val = rnd64(r);
		}
		break;
	}
	dsc(f, " %p page %lu area %d off %zu val %#llx prot %#x", (void *)p,
	    pgoff, area, off, (unsigned long long)val, m->prot);
	sig = access_mem(p + off, how, val, len, NULL);
	f->res = sig ? RES_SEGV : 0;
	if (sig && (sig != SIGSEGV || !expect_fault)) {
		failf(f, "write raised %s", sig == SIGSEGV ? "SIGSEGV" :
		      sig == SIGBUS ? "SIGBUS" : "a signal");
		return;
	}
	if (!sig && expect_fault) {
		failf(f, "write through a mapping without PROT_WRITE succeeded");
		return;
	}
	if (!sig && how == ACC_WR64 && o && o->tag)
		o->tag[pgoff] = val;
}

static void op_read(struct fz *f, struct rng *r)
{
	int i = pick_map(f, r, PROT_READ), sig, area;
	unsigned long page, pgoff;
	bool expect_fault, tagged;
	struct obj *o;
	struct map *m;
	uint64_t v = 0;
	size_t off;
	char *p;

	if (i < 0) {
		f->res = RES_SKIP;
		return;
	}
	m = &f->map[i];
	o = m->obj >= 0 ? &f->obj[m->obj] : NULL;
	page = rnd(r, (uint32_t)(m->len / pg));
	pgoff = m->pgoff + page;
	area = page_area(o, pgoff);
	p = m->addr + page * pg;
	expect_fault = m->prot == PROT_NONE;
	tagged = area == AREA_DATA && o && o->tag && !f->child;
	off = tagged ? 0 : 8 * rnd(r, (uint32_t)pg / 8);
	dsc(f, " %p page %lu area %d off %zu prot %#x", (void *)p, pgoff, area,
	    off, m->prot);
	sig = access_mem(p + off, ACC_RD64, 0, 0, &v);
	f->res = sig ? RES_SEGV : 0;
	if (sig && (sig != SIGSEGV || !expect_fault)) {
		failf(f, "read raised %s", sig == SIGSEGV ? "SIGSEGV" :
		      sig == SIGBUS ? "SIGBUS" : "a signal");
		return;
	}
	if (!sig && expect_fault) {
		failf(f, "read through a PROT_NONE mapping succeeded");
		return;
	}
	if (sig || !tagged)
		return;
	if (o->tag[pgoff] == TAG_UNKNOWN) {
		o->tag[pgoff] = v;
		return;
	}
	count(&shm->tag_checks, 1);
	if (o->clone)
		count(&shm->tag_checks_clone, 1);
	if (o->tag[pgoff] != v)
		failf(f, "page %lu of the object holds tag %#llx, expected %#llx (copy-on-write broken?)",
		      pgoff, (unsigned long long)v,
		      (unsigned long long)o->tag[pgoff]);
}

/* ---------------------------------------------------------------------- */
/* Files: close, dup, open, eventfd, poll, epoll, fd passing */

static void op_close(struct fz *f, struct rng *r)
{
	int s = pick_slot(f, r, M_ANY, f->child);

	if (s < 0) {
		f->res = RES_SKIP;
		return;
	}
	dsc(f, " fd=%d(%s)", f->slot[s].fd, fk_names[f->slot[s].kind]);
	f->res = 0;
	slot_drop(f, s, true);
}

static void op_dup(struct fz *f, struct rng *r)
{
	int s = pick_slot(f, r, M_ANY, false), t, fd;
	struct slot copy;

	if (s < 0) {
		f->res = RES_SKIP;
		return;
	}
	copy = f->slot[s];
	switch (rnd(r, 3)) {
	case 0:
		fd = dup(copy.fd);
		dsc(f, " dup(%d)", copy.fd);
		break;
	case 1:
		fd = fcntl(copy.fd, F_DUPFD_CLOEXEC, 64);
		dsc(f, " F_DUPFD_CLOEXEC(%d, 64)", copy.fd);
		break;
	default:
		/* Over another tracked fd, which is closed by it. */
		t = pick_slot(f, r, M_ANY, f->child);
		if (t < 0 || t == s) {
			f->res = RES_SKIP;
			return;
		}
		dsc(f, " dup3(%d, %d(%s))", copy.fd, f->slot[t].fd,
		    fk_names[f->slot[t].kind]);
		fd = dup3(copy.fd, f->slot[t].fd, O_CLOEXEC);
		if (fd >= 0) {
			slot_drop(f, t, false);
			f->res = 0;
			slot_add(f, fd, copy.kind, copy.obj, copy.role,
				 copy.rdonly);
			return;
		}
		break;
	}
	f->res = fd < 0 ? -errno : 0;
	if (fd < 0) {
		if (errno != EMFILE)
			failf(f, "dup: %s", ename(errno));
		return;
	}
	slot_add(f, fd, copy.kind, copy.obj, copy.role, copy.rdonly);
}

static void op_open(struct fz *f, struct rng *r)
{
	bool ro = chance(r, 25);
	int fd;

	if (slot_count(f) == MAX_SLOTS) {
		int s = pick_slot(f, r, M_ANY & ~M(FK_DEV), f->child);

		if (s < 0) {
			f->res = RES_SKIP;
			return;
		}
		dsc(f, " close %d(%s)", f->slot[s].fd,
		    fk_names[f->slot[s].kind]);
		slot_drop(f, s, true);
	}
	dsc(f, " %s", ro ? "O_RDONLY" : "O_RDWR");
	fd = open(IPCU_DEVICE_PATH, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	f->res = fd < 0 ? -errno : 0;
	if (fd < 0) {
		failf(f, "open " IPCU_DEVICE_PATH ": %s", ename(errno));
		return;
	}
	slot_add(f, fd, ro ? FK_DEV_RO : FK_DEV, -1, 0, false);
}

static void op_eventfd(struct fz *f, struct rng *r)
{
	int s = pick_slot(f, r, M(FK_EVENTFD), false), fd;
	uint64_t v = 1;
	ssize_t n;

	if (s < 0 || chance(r, 15)) {
		fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		dsc(f, " new");
		f->res = fd < 0 ? -errno : 0;
		if (fd < 0)
			failf(f, "eventfd: %s", ename(errno));
		else
			slot_add(f, fd, FK_EVENTFD, -1, 0, false);
		return;
	}
	if (one_in(r, 2)) {
		dsc(f, " read %d", f->slot[s].fd);
		n = read(f->slot[s].fd, &v, sizeof(v));
		f->res = n < 0 ? -errno : 0;
		if (n < 0 && errno != EAGAIN)
			failf(f, "eventfd read: %s", ename(errno));
	} else {
		dsc(f, " write %d", f->slot[s].fd);
		n = write(f->slot[s].fd, &v, sizeof(v));
		f->res = n < 0 ? -errno : 0;
		if (n < 0 && errno != EAGAIN)
			failf(f, "eventfd write: %s", ename(errno));
	}
}

/* revents of an endpoint or region in poll() or epoll. */
static void check_revents(struct fz *f, int s, unsigned int ev,
			  unsigned int asked)
{
	unsigned int all = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM |
			   POLLHUP | POLLERR;

	if (s < 0)
		return;
	if (f->slot[s].kind == FK_EP) {
		if (ev & ~all)
			failf(f, "endpoint revents %#x", ev);
		else if (f->slot[s].role == IPCU_ROLE_CONSUMER &&
			 (ev & (POLLOUT | POLLWRNORM)))
			failf(f, "consumer revents %#x", ev);
		else if (f->slot[s].role == IPCU_ROLE_PRODUCER &&
			 (ev & (POLLIN | POLLRDNORM)))
			failf(f, "producer revents %#x", ev);
	} else if (f->slot[s].kind == FK_REGION) {
		unsigned int want = (POLLIN | POLLOUT | POLLRDNORM |
				     POLLWRNORM) & (asked | POLLERR | POLLHUP);

		if (ev != want)
			failf(f, "region revents %#x, expected %#x", ev, want);
	}
}

static void op_poll(struct fz *f, struct rng *r)
{
	struct pollfd pfd[4];
	int slots[4], n = 1 + (int)rnd(r, 4), i, ret;

	for (i = 0; i < n; i++) {
		struct fdp p = fd_pick(f, r, M(FK_EP), 20);

		slots[i] = p.slot;
		pfd[i].fd = p.fd;
		pfd[i].events = POLLIN | POLLOUT;
		if (one_in(r, 3))
			pfd[i].events = one_in(r, 2) ? POLLIN : POLLOUT;
		if (one_in(r, 10))
			pfd[i].events |= POLLPRI | POLLRDHUP;
		pfd[i].revents = 0;
		dsc(f, " %d(%s)", p.fd, fk_names[p.kind]);
	}
	ret = poll(pfd, (nfds_t)n, one_in(r, 4) ? 1 : 0);
	f->res = ret < 0 ? -errno : 0;
	if (ret < 0) {
		if (errno != EINTR && errno != ENOMEM)
			failf(f, "poll: %s", ename(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].fd < 0)
			continue;
		if (slots[i] < 0) {
			if (pfd[i].revents != POLLNVAL &&
			    fcntl(pfd[i].fd, F_GETFD) < 0)
				failf(f, "closed fd %d: revents %#x",
				      pfd[i].fd, pfd[i].revents);
			continue;
		}
		check_revents(f, slots[i], (unsigned int)pfd[i].revents,
			      (unsigned int)pfd[i].events);
	}
}

static const int set_epoll_ctl[] = {
	EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOMEM, ENOSPC, EPERM, 0
};

static void op_epoll(struct fz *f, struct rng *r)
{
	static const int ops[] = {
		EPOLL_CTL_ADD, EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL,
	};
	static const unsigned int evs[] = {
		EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT, EPOLLIN | EPOLLET,
		EPOLLOUT | EPOLLONESHOT, EPOLLIN | EPOLLOUT | EPOLLET,
	};
	int s = pick_slot(f, r, M(FK_EPOLL), false), fd, ret, i, op;
	struct epoll_event ev, out[8];
	struct fdp p;

	if (s < 0 || one_in(r, 20)) {
		fd = epoll_create1(EPOLL_CLOEXEC);
		dsc(f, " create");
		f->res = fd < 0 ? -errno : 0;
		if (fd < 0)
			failf(f, "epoll_create1: %s", ename(errno));
		else
			slot_add(f, fd, FK_EPOLL, -1, 0, false);
		return;
	}
	if (chance(r, 60)) {
		p = fd_pick(f, r, M(FK_EP), 15);
		op = ops[rnd(r, 4)];
		memset(&ev, 0, sizeof(ev));
		ev.events = evs[rnd(r, 6)];
		ev.data.u64 = (uint64_t)p.slot;
		dsc(f, " ctl %d fd=%d(%s) events %#x", op, p.fd,
		    fk_names[p.kind], ev.events);
		ret = epoll_ctl(f->slot[s].fd, op, p.fd, &ev);
		f->res = ret ? -errno : 0;
		if (ret && !in_set(set_epoll_ctl, errno))
			failf(f, "epoll_ctl: undocumented errno %s",
			      ename(errno));
		if (ret && p.kind == FK_EP && op != EPOLL_CTL_DEL &&
		    errno == EPERM)
			failf(f, "an endpoint does not support epoll");
		return;
	}
	dsc(f, " wait %d", f->slot[s].fd);
	ret = epoll_wait(f->slot[s].fd, out, 8, 0);
	f->res = ret < 0 ? -errno : 0;
	if (ret < 0) {
		if (errno != EINTR)
			failf(f, "epoll_wait: %s", ename(errno));
		return;
	}
	for (i = 0; i < ret; i++)
		if (out[i].events & ~(EPOLLIN | EPOLLRDNORM | EPOLLOUT |
				      EPOLLWRNORM | EPOLLHUP | EPOLLERR))
			failf(f, "epoll events %#x", out[i].events);
}

static void op_send_fd(struct fz *f, struct rng *r)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MSG_FDS)];
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	struct qmsg qm;
	char byte = 'x';
	int fds[MSG_FDS], i, s;
	ssize_t n;

	if (f->sock[0] < 0 || one_in(r, 25)) {
		/* Drop whatever is in flight with the sockets. */
		dsc(f, " reset sockets (%d queued)", f->qlen);
		sock_close(f);
		f->res = sock_open(f) ? -errno : 0;
		return;
	}
	if (f->qlen == MAX_QUEUE) {
		f->res = RES_SKIP;
		return;
	}
	memset(&qm, 0, sizeof(qm));
	qm.n = 1 + (int)rnd(r, MSG_FDS);
	for (i = 0; i < qm.n; i++) {
		s = pick_slot(f, r, M_ANY, false);
		if (s < 0) {
			f->res = RES_SKIP;
			return;
		}
		qm.s[i] = f->slot[s];
		qm.s[i].inherited = false;
		fds[i] = f->slot[s].fd;
		dsc(f, " %d(%s)", fds[i], fk_names[f->slot[s].kind]);
	}
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)qm.n);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)qm.n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)qm.n);
	n = sendmsg(f->sock[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	f->res = n < 0 ? -errno : 0;
	if (n < 0) {
		if (errno != EAGAIN && errno != ENOBUFS && errno != ENOMEM &&
		    errno != ETOOMANYREFS)
			failf(f, "sendmsg: %s", ename(errno));
		return;
	}
	for (i = 0; i < qm.n; i++)
		obj_get(f, qm.s[i].obj);
	f->q[(f->qhead + f->qlen) % MAX_QUEUE] = qm;
	f->qlen++;
}

static void op_recv_fd(struct fz *f, struct rng *r)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MSG_FDS)];
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	struct qmsg *qm;
	char byte;
	int fds[MSG_FDS], i, nfd = 0, e;
	ssize_t n;

	if (f->sock[1] < 0) {
		f->res = RES_SKIP;
		return;
	}
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	dsc(f, " queued %d", f->qlen);
	n = recvmsg(f->sock[1], &mh, MSG_DONTWAIT |
		    (one_in(r, 2) ? MSG_CMSG_CLOEXEC : 0));
	e = n < 0 ? errno : 0;
	f->res = -e;
	if (!f->qlen) {
		if (n >= 0 || e != EAGAIN)
			failf(f, "recvmsg on an empty socket: %s",
			      n >= 0 ? "got a message" : ename(e));
		return;
	}
	if (n < 0) {
		if (e != ENOMEM)
			failf(f, "recvmsg: %s", ename(e));
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (nfd > MSG_FDS)
				nfd = MSG_FDS;
			memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)nfd);
		}
	qm = &f->q[f->qhead];
	f->qhead = (f->qhead + 1) % MAX_QUEUE;
	f->qlen--;
	if (nfd != qm->n || (mh.msg_flags & MSG_CTRUNC))
		failf(f, "received %d fds, sent %d (flags %#x)", nfd, qm->n,
		      mh.msg_flags);
	for (i = 0; i < nfd && i < qm->n; i++) {
		dsc(f, " %d(%s)", fds[i], fk_names[qm->s[i].kind]);
		slot_add(f, fds[i], qm->s[i].kind, qm->s[i].obj,
			 qm->s[i].role, qm->s[i].rdonly);
	}
	for (; i < nfd; i++)
		close(fds[i]);
	for (i = 0; i < qm->n; i++)
		obj_put(f, qm->s[i].obj);
}

/* ---------------------------------------------------------------------- */
/* Ring traffic through the user library */

static void op_ring(struct fz *f, struct rng *r)
{
	int s = pick_slot(f, r, M(FK_EP), false), fd, ret, k, n, i;
	struct ipcu_ep ep;
	struct obj *o;
	const void *cbuf;
	void *buf;
	size_t len;
	__u32 tag;

	if (s < 0) {
		f->res = RES_SKIP;
		return;
	}
	o = slot_obj(f, s);
	/* Only the parent writes payload: its tags stay right. */
	if (f->child && f->slot[s].role == IPCU_ROLE_PRODUCER) {
		f->res = RES_SKIP;
		return;
	}
	fd = fcntl(f->slot[s].fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		f->res = -errno;
		return;
	}
	dsc(f, " fd=%d(%s) role %d", f->slot[s].fd, fk_names[FK_EP],
	    f->slot[s].role);
	ret = ipcu_ep_from_fd(fd, &ep);
	f->res = ret;
	if (ret) {
		close(fd);
		if (ret != -ENOMEM && ret != -EMFILE)
			failf(f, "ipcu_ep_from_fd: %s", ename(-ret));
		return;
	}
	ep.spin = 0;
	if (o && o->tag && f->slot[s].role == IPCU_ROLE_PRODUCER)
		for (i = (int)o->pay_first; i < (int)o->nr_pages; i++)
			o->tag[i] = TAG_UNKNOWN;
	n = 1 + (int)rnd(r, 12);
	for (k = 0; k < n; k++) {
		if (f->slot[s].role == IPCU_ROLE_PRODUCER) {
			len = 1 + rnd(r, ep.max_msg < 256 ? ep.max_msg : 256);
			ret = ipcu_reserve(&ep, len, &buf);
			if (!ret) {
				memset(buf, (int)k, len);
				ipcu_commit(&ep, len, (__u32)k);
			}
		} else {
			ret = ipcu_peek(&ep, &cbuf, &len, &tag);
			if (!ret) {
				volatile const char *c = cbuf;

				(void)c[len - 1];
				ipcu_release(&ep);
			}
		}
		if (one_in(r, 3))
			ipcu_flush(&ep);
		if (one_in(r, 8))
			ipcu_wait(&ep, one_in(r, 2) ? 0 : 50000);
		if (ret && ret != -EAGAIN)
			break;
	}
	ipcu_flush(&ep);
	dsc(f, " %d steps, last %d", k, ret);
	ipcu_ep_close(&ep);
}

/* ---------------------------------------------------------------------- */
/* Children */

static void run_op(struct fz *f, struct rng *r, int op);

static int pick_op(struct fz *f, struct rng *r)
{
	const unsigned int *w = f->child ? op_child_weight : op_weight;
	unsigned int total = 0, v;
	int i;

	/* Keep room in the tables, so that new objects are kept a while. */
	v = rnd(r, 100);
	if (v < 30 && pick_slot(f, r, M(FK_DEV), false) < 0)
		return OP_OPEN;
	if (slot_count(f) > MAX_SLOTS - 6 && v < 15)
		return OP_CLOSE;
	if (map_count(f) > MAX_MAPS - 8 && v >= 85)
		return OP_MUNMAP;

	for (i = 0; i < OP_NR; i++)
		total += w[i];
	v = rnd(r, total);
	for (i = 0; i < OP_NR; i++) {
		if (v < w[i])
			return i;
		v -= w[i];
	}
	return 0;
}

static void close_all(struct fz *f)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (f->map[i].used)
			map_drop(f, i, true);
	for (i = 0; i < MAX_SLOTS; i++)
		if (f->slot[i].kind != FK_FREE)
			slot_drop(f, i, true);
	sock_close(f);
}

static void become_nobody(void)
{
	if (!is_root)
		return;
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		fprintf(stderr, PROG ": child: cannot switch to uid 65534: %s\n",
			strerror(errno));
}

static __attribute__((noreturn)) void child_main(struct fz *f, long fork_op,
						 int relfd)
{
	struct rng r;
	long n, j;
	int i;
	char c;

	f->child = true;
	f->fork_op = fork_op;
	for (i = 0; i < MAX_KIDS; i++) {
		if (f->kid[i].pid > 0)
			close(f->kid[i].relfd);
		memset(&f->kid[i], 0, sizeof(f->kid[i]));
	}
	/* Mappings that were not inherited, then mark the rest. */
	for (i = 0; i < MAX_MAPS; i++)
		if (f->map[i].used && f->map[i].dontfork)
			map_drop(f, i, false);
	for (i = 0; i < MAX_MAPS; i++)
		f->map[i].inherited = f->map[i].used;
	for (i = 0; i < MAX_SLOTS; i++)
		f->slot[i].inherited = f->slot[i].kind != FK_FREE;
	for (i = 0; i < MAX_OBJS; i++)
		f->obj[i].inherited = f->obj[i].used;
	/* The child has names of its own. */
	for (i = 0; i < NAMES_MAX; i++) {
		f->cname[i] = -1;
		f->rname[i] = -1;
	}
	/* Own sockets and argument page: nothing shared with the parent. */
	sock_close(f);
	sock_open(f);
	if (arena_bind_ro())
		_exit(3);
	become_nobody();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);

	rng_init(&r, f->seed, DOM_KID, (uint64_t)fork_op, 0);
	n = 1 + rnd(&r, KID_OPS_MAX);
	for (j = 0; j < n && !f->failed; j++) {
		struct rng opr;
		int op;

		rng_init(&opr, f->seed, DOM_KIDOP, (uint64_t)fork_op,
			 (uint64_t)j);
		f->op = j;
		op = pick_op(f, &opr);
		run_op(f, &opr, op);
		count(&shm->kid_ops, 1);
	}
	fflush(stdout);
	/* Hold everything until the parent's reaping point. */
	while (read(relfd, &c, 1) < 0 && errno == EINTR)
		;
	if (rnd(&r, 2))
		close_all(f);
	fflush(stdout);
	_exit(f->failed ? 1 : 0);
}

static void op_fork(struct fz *f, struct rng *r)
{
	int k, pfd[2];
	pid_t pid;

	for (k = 0; k < MAX_KIDS; k++)
		if (!f->kid[k].pid)
			break;
	if (k == MAX_KIDS || pipe2(pfd, O_CLOEXEC)) {
		f->res = RES_SKIP;
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		f->res = -errno;
		close(pfd[0]);
		close(pfd[1]);
		if (errno != EAGAIN && errno != ENOMEM)
			failf(f, "fork: %s", ename(errno));
		return;
	}
	if (!pid) {
		close(pfd[1]);
		abort_armed = 0;
		child_main(f, f->op, pfd[0]);
	}
	close(pfd[0]);
	f->kid[k].pid = pid;
	f->kid[k].relfd = pfd[1];
	f->kid[k].fork_op = f->op;
	f->kid[k].reap_at = f->op + 1 + rnd(r, KID_REAP_MAX);
	f->kid[k].kill = chance(r, 30);
	f->res = 0;
	dsc(f, " pid %d reap at %ld %s", (int)pid, f->kid[k].reap_at,
	    f->kid[k].kill ? "kill" : "release");
}

static void reap_kid(struct fz *f, int k)
{
	struct kid *kd = &f->kid[k];
	int status = 0, i;
	pid_t ret;

	if (kd->kill)
		kill(kd->pid, SIGKILL);
	else if (write(kd->relfd, "x", 1) != 1)
		kill(kd->pid, SIGKILL);
	for (i = 0; ; i++) {
		struct timespec ts = { 0, 1000000 };

		ret = waitpid(kd->pid, &status, WNOHANG);
		if (ret == kd->pid || (ret < 0 && errno != EINTR))
			break;
		if (i == 60000) {
			/* A minute, a thousand times what it needs. */
			failf(f, "child %d of op %ld has not exited after 60 s",
			      (int)kd->pid, kd->fork_op);
			kill(kd->pid, SIGKILL);
			while ((ret = waitpid(kd->pid, &status, 0)) < 0 &&
			       errno == EINTR)
				;
			status = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	close(kd->relfd);
	if (ret == kd->pid && (WIFSIGNALED(status) ?
			       !(kd->kill && WTERMSIG(status) == SIGKILL) :
			       WEXITSTATUS(status) != 0))
		failf(f, "child %d of op %ld: %s %d", (int)kd->pid, kd->fork_op,
		      WIFSIGNALED(status) ? "killed by signal" : "exit status",
		      WIFSIGNALED(status) ? WTERMSIG(status) :
		      WEXITSTATUS(status));
	if (__atomic_load_n(&shm->kid_failed, __ATOMIC_SEQ_CST)) {
		fputs(shm->kid_msg, stderr);
		failf(f, "child %d of op %ld failed", (int)kd->pid,
		      kd->fork_op);
		shm->kid_failed = 0;
	}
	memset(kd, 0, sizeof(*kd));
}

static void reap_due(struct fz *f, bool all)
{
	int k;

	for (k = 0; k < MAX_KIDS; k++)
		if (f->kid[k].pid && (all || f->kid[k].reap_at <= f->op))
			reap_kid(f, k);
}

/* ---------------------------------------------------------------------- */
/* Running operations */

static double now_s(void);

static void run_op(struct fz *f, struct rng *r, int op)
{
	double t = now_s();
	int e;

	f->dlen = 0;
	f->desc[0] = 0;
	f->res = RES_SKIP;
	dsc(f, "%s", op_names[op]);
	switch (op) {
	case OP_VERSION:
		op_version(f, r);
		break;
	case OP_CHAN_CREATE:
		op_chan_create(f, r);
		break;
	case OP_CHAN_ATTACH:
		op_chan_attach(f, r);
		break;
	case OP_REGION_CREATE:
		op_region_create(f, r);
		break;
	case OP_REGION_ATTACH:
		op_region_attach(f, r);
		break;
	case OP_EP_INFO:
		op_ep_info(f, r);
		break;
	case OP_EP_PEER:
		op_ep_peer(f, r);
		break;
	case OP_EP_EVENTFD:
		op_ep_eventfd(f, r);
		break;
	case OP_DOORBELL:
		op_doorbell(f, r);
		break;
	case OP_WAIT:
		op_wait(f, r);
		break;
	case OP_CLONE:
		op_clone(f, r);
		break;
	case OP_SEAL:
		op_seal(f, r);
		break;
	case OP_REGION_STATS:
		op_region_stats(f, r);
		break;
	case OP_BAD_IOCTL:
		op_bad_ioctl(f, r);
		break;
	case OP_MMAP:
		op_mmap(f, r);
		break;
	case OP_MUNMAP:
		op_munmap(f, r);
		break;
	case OP_MPROTECT:
		op_mprotect(f, r);
		break;
	case OP_MREMAP:
		op_mremap(f, r);
		break;
	case OP_MADVISE:
		op_madvise(f, r);
		break;
	case OP_WRITE:
		op_write(f, r);
		break;
	case OP_READ:
		op_read(f, r);
		break;
	case OP_FORK:
		if (!f->child)
			op_fork(f, r);
		break;
	case OP_CLOSE:
		op_close(f, r);
		break;
	case OP_DUP:
		op_dup(f, r);
		break;
	case OP_SEND_FD:
		op_send_fd(f, r);
		break;
	case OP_RECV_FD:
		op_recv_fd(f, r);
		break;
	case OP_OPEN:
		op_open(f, r);
		break;
	case OP_EVENTFD:
		op_eventfd(f, r);
		break;
	case OP_POLL:
		op_poll(f, r);
		break;
	case OP_EPOLL:
		op_epoll(f, r);
		break;
	case OP_RING:
		op_ring(f, r);
		break;
	}
	count(&shm->cnt[op], 1);
	count(&shm->usec[op], (long)((now_s() - t) * 1e6));
	if (f->res == RES_SKIP) {
		count(&shm->skip[op], 1);
	} else if (f->res == RES_SEGV) {
		count(&shm->err[op][ERR_SEGV], 1);
	} else if (f->res == 0) {
		count(&shm->ok[op], 1);
	} else {
		e = -f->res;
		count(&shm->err[op][e > 0 && e < ERR_SEGV ? e : 0], 1);
	}
	if (cfg.verbose) {
		if (f->res == RES_SKIP)
			printf(PROG ":%s %ld %s -> skipped\n",
			       f->child ? " child" : "", f->op, f->desc);
		else if (f->res == RES_SEGV)
			printf(PROG ":%s %ld %s -> SIGSEGV\n",
			       f->child ? " child" : "", f->op, f->desc);
		else
			printf(PROG ":%s %ld %s -> %s\n",
			       f->child ? " child" : "", f->op, f->desc,
			       f->res ? ename(-f->res) : "ok");
	}
}

/* ---------------------------------------------------------------------- */
/* Module counters and the kernel log */

#define NR_STATS	5
static const char *const stat_names[NR_STATS] = {
	"channels", "endpoints", "regions", "pages", "users",
};

static int read_stats(long *v)
{
	FILE *fp = fopen(STATS_PATH, "r");
	char key[64];
	long val;
	int i, n = 0;

	if (!fp)
		return -1;
	for (i = 0; i < NR_STATS; i++)
		v[i] = -1;
	while (fscanf(fp, "%63s %ld", key, &val) == 2)
		for (i = 0; i < NR_STATS; i++)
			if (!strcmp(key, stat_names[i])) {
				v[i] = val;
				n++;
			}
	fclose(fp);
	return n == NR_STATS ? 0 : -1;
}

static const char *const kmsg_patterns[] = {
	"BUG:", "WARNING:", "KASAN", "UBSAN", "possible circular",
	"possible recursive", "lockdep", "kmemleak", "Call Trace",
	"kernel BUG at", "Oops", "KFENCE:", "general protection fault",
	"refcount_t:", "list_add corruption", "list_del corruption",
	"INFO:", "Kernel panic",
};

/* Scan new kernel log records; true if one is a report. */
static bool kmsg_scan(struct fz *f)
{
	char rec[2048];
	bool hit = false;
	unsigned int i, shown = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return false;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		for (i = 0; !hit && i < sizeof(kmsg_patterns) /
					sizeof(kmsg_patterns[0]); i++)
			if (strstr(rec, kmsg_patterns[i]))
				hit = true;
		if (hit && shown++ < 60) {
			char *msg = strchr(rec, ';');

			fprintf(stderr, PROG ": kernel: %s", msg ? msg + 1 : rec);
		}
	}
	if (hit)
		failf(f, "kernel log report (above)");
	return hit;
}

/* ---------------------------------------------------------------------- */
/* One seed */

static long run_seed(struct fz *f, uint64_t seed, long nops, double deadline)
{
	long start_stats[NR_STATS], end_stats[NR_STATS];
	volatile long done = 0;
	bool have_stats;
	int i, tries;

	memset(f, 0, sizeof(*f));
	f->seed = seed;
	for (i = 0; i < MAX_SLOTS; i++)
		f->slot[i].obj = -1;
	for (i = 0; i < NAMES_MAX; i++) {
		f->cname[i] = -1;
		f->rname[i] = -1;
	}
	have_stats = stats_ok && !read_stats(start_stats);
	f->sock[0] = -1;
	f->sock[1] = -1;
	sock_open(f);
	i = open(IPCU_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (i < 0) {
		failf(f, "open " IPCU_DEVICE_PATH ": %s", strerror(errno));
		return 0;
	}
	slot_add(f, i, FK_DEV, -1, 0, false);

	if (sigsetjmp(abort_jmp, 1)) {
		failf(f, "unexpected %s at %p outside a checked access",
		      unexp_sig == SIGBUS ? "SIGBUS" : unexp_sig == SIGSEGV ?
		      "SIGSEGV" : "signal", unexp_addr);
		goto out;
	}
	abort_armed = 1;
	for (; done < nops; done++) {
		struct rng r;
		struct timespec ts;

		f->op = done;
		reap_due(f, false);
		if (f->failed)
			break;
		if (deadline > 0 && !(done & 127)) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if (ts.tv_sec + ts.tv_nsec / 1e9 >= deadline)
				break;
		}
		rng_init(&r, seed, DOM_OP, (uint64_t)done, 0);
		run_op(f, &r, pick_op(f, &r));
		if (done == cfg.fail_at)
			failf(f, "--fail-at %ld: a failure made on purpose (self-test of the report and the minimizer)",
			      cfg.fail_at);
		if (f->failed) {
			done++;
			break;
		}
		if ((done & 511) == 511 && kmsg_scan(f)) {
			done++;
			break;
		}
	}
out:
	abort_armed = 0;
	reap_due(f, true);
	close_all(f);
	for (i = 0; i < MAX_OBJS; i++)
		if (f->obj[i].used && !f->failed)
			failf(f, "model: object %d still has %d references",
			      i, f->obj[i].refs);
	kmsg_scan(f);
	if (have_stats && !f->failed) {
		f->dlen = 0;
		snprintf(f->desc, sizeof(f->desc), "end of seed");
		for (tries = 0; ; tries++) {
			if (read_stats(end_stats)) {
				failf(f, "cannot read " STATS_PATH);
				break;
			}
			if (!memcmp(start_stats, end_stats,
				    sizeof(start_stats)))
				break;
			if (tries == 40) {
				char buf[512];
				size_t n = 0;

				for (i = 0; i < NR_STATS; i++)
					n += (size_t)snprintf(buf + n,
						sizeof(buf) - n, " %s %ld->%ld",
						stat_names[i], start_stats[i],
						end_stats[i]);
				failf(f, "module counters not back to their starting values:%s",
				      buf);
				break;
			}
			usleep(50000);
		}
	}
	for (i = 0; i < MAX_OBJS; i++)
		if (f->obj[i].used)
			obj_free(f, i);
	return done;
}

/* ---------------------------------------------------------------------- */
/* Minimization */

/* Run "--seed @seed --ops @ops" in a fresh process; true if it fails. */
static bool subrun_fails(uint64_t seed, long ops)
{
	char s_seed[32], s_ops[32], s_fail[32];
	char *argv[] = {
		(char *)PROG, (char *)"--seed", s_seed, (char *)"--ops",
		s_ops, (char *)"--seed-ops", s_ops, (char *)"--quiet",
		(char *)"--no-minimize", (char *)"--fail-at", s_fail, NULL,
	};
	int status;
	pid_t pid;

	snprintf(s_seed, sizeof(s_seed), "%" PRIu64, seed);
	snprintf(s_ops, sizeof(s_ops), "%ld", ops);
	snprintf(s_fail, sizeof(s_fail), "%ld", cfg.fail_at);
	if (cfg.fail_at < 0)
		argv[9] = NULL;		/* no --fail-at */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return true;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(self_path, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static void print_repro(uint64_t seed, long ops)
{
	char more[64] = "";

	if (ops > DEFAULT_SEED_OPS)
		snprintf(more, sizeof(more), " --seed-ops %ld", ops);
	if (cfg.fail_at >= 0)
		snprintf(more + strlen(more), sizeof(more) - strlen(more),
			 " --fail-at %ld", cfg.fail_at);
	printf(PROG ": reproduce with: " PROG " --seed %" PRIu64
	       " --ops %ld%s\n", seed, ops, more);
}

static void minimize(uint64_t seed, long failed_ops)
{
	long lo = 0, hi = failed_ops, n, best;

	printf(PROG ": minimizing: re-running seed %" PRIu64
	       " with fewer operations in fresh processes\n", seed);
	fflush(stdout);
	if (!subrun_fails(seed, hi)) {
		printf(PROG ": seed %" PRIu64 " --ops %ld passes in a fresh process\n",
		       seed, hi);
		printf(PROG ": (timing, or a kernel report printed once per boot: bisect --ops over VM boots)\n");
		print_repro(seed, hi);
		return;
	}
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;
		bool fails = subrun_fails(seed, mid);

		printf(PROG ":   --ops %ld: %s\n", mid, fails ? "fails" :
		       "passes");
		fflush(stdout);
		if (fails)
			hi = mid;
		else
			lo = mid;
	}
	/* Failures need not be monotonic in the prefix: look a bit lower. */
	best = hi;
	for (n = hi - 1; n >= 1 && n >= hi - 8; n--)
		if (subrun_fails(seed, n))
			best = n;
	printf(PROG ": shortest failing prefix: %ld operations (the last one is op %ld)\n",
	       best, best - 1);
	print_repro(seed, best);
}

/* ---------------------------------------------------------------------- */
/* Setup and summary */

static int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_param(const char *name, const char *val)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static void limits_apply(void)
{
	char v[32];

	if (!cfg.limits ||
	    read_param("max_bytes_per_user", old_limit_bytes,
		       sizeof(old_limit_bytes)) ||
	    read_param("max_objects_per_user", old_limit_objects,
		       sizeof(old_limit_objects)))
		return;
	snprintf(v, sizeof(v), "%llu", LIMIT_BYTES);
	if (write_param("max_bytes_per_user", v))
		return;
	snprintf(v, sizeof(v), "%d", LIMIT_OBJECTS);
	if (write_param("max_objects_per_user", v)) {
		write_param("max_bytes_per_user", old_limit_bytes);
		return;
	}
	limits_set = true;
}

static void limits_restore(void)
{
	if (!limits_set)
		return;
	write_param("max_bytes_per_user", old_limit_bytes);
	write_param("max_objects_per_user", old_limit_objects);
	limits_set = false;
}

static void summary(long ops, long seeds, int failures, double secs)
{
	long tot_err[NR_ERR];
	int op, e, shown;

	memset(tot_err, 0, sizeof(tot_err));
	if (!cfg.quiet) {
		printf(PROG ": %-14s %8s %8s %8s %6s  errors\n", "operation",
		       "count", "ok", "skipped", "us/op");
		for (op = 0; op < OP_NR; op++) {
			printf(PROG ": %-14s %8ld %8ld %8ld %6ld ",
			       op_names[op], shm->cnt[op], shm->ok[op],
			       shm->skip[op],
			       shm->cnt[op] ? shm->usec[op] / shm->cnt[op] : 0);
			for (e = 1, shown = 0; e < NR_ERR; e++) {
				tot_err[e] += shm->err[op][e];
				if (!shm->err[op][e])
					continue;
				printf(" %s:%ld", e == ERR_SEGV ? "SIGSEGV" :
				       ename(e), shm->err[op][e]);
				shown++;
			}
			tot_err[0] += shm->err[op][0];
			printf("\n");
		}
		printf(PROG ": results:");
		for (e = 1; e < NR_ERR; e++)
			if (tot_err[e])
				printf(" %s:%ld", e == ERR_SEGV ? "SIGSEGV" :
				       ename(e), tot_err[e]);
		printf("\n");
		printf(PROG ": %ld tag checks (%ld on clones); region stats saw shared pages %ld times, copy-on-write copies %ld times\n",
		       shm->tag_checks, shm->tag_checks_clone, shm->cow_shared,
		       shm->cow_stats);
		printf(PROG ": %ld operations in children, %.1f s, %.0f operations/s\n",
		       shm->kid_ops, secs,
		       secs > 0 ? (ops + shm->kid_ops) / secs : 0.0);
	}
	printf(PROG ": %ld operations, %ld seeds, %d failures\n", ops, seeds,
	       failures);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [--seed N] [--ops N] [--seconds S] [--seed-ops N]\n"
		"                    [--verbose] [--quiet] [--no-minimize] [--no-limits]\n"
		"                    [--fail-at N]\n"
		"\n"
		"  --seed N       first seed (default: from the clock, printed)\n"
		"  --ops N        operations in all (default %ld without --seconds)\n"
		"  --seconds S    run seeds N, N+1, ... until S seconds have passed\n"
		"  --seed-ops N   operations per seed (default %ld)\n"
		"  --verbose      print every operation\n"
		"  --quiet        print failures and the summary line only\n"
		"  --no-minimize  do not search for the shortest failing prefix\n"
		"  --no-limits    leave the module's per-user limits alone\n"
		"  --fail-at N    self-test: report a failure after operation N of\n"
		"                 each seed (checks the report and the minimizer)\n",
		DEFAULT_OPS, DEFAULT_SEED_OPS);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void parse_args(int argc, char **argv)
{
	int i;

	cfg.seed_ops = DEFAULT_SEED_OPS;
	cfg.minimize = true;
	cfg.limits = true;
	cfg.fail_at = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end = NULL;

		if (!strcmp(a, "--verbose")) {
			cfg.verbose = true;
		} else if (!strcmp(a, "--quiet")) {
			cfg.quiet = true;
		} else if (!strcmp(a, "--no-minimize")) {
			cfg.minimize = false;
		} else if (!strcmp(a, "--no-limits")) {
			cfg.limits = false;
		} else if (i + 1 < argc && !strcmp(a, "--seed")) {
			cfg.seed = strtoull(argv[++i], &end, 0);
			cfg.seed_given = true;
		} else if (i + 1 < argc && !strcmp(a, "--ops")) {
			cfg.ops = strtol(argv[++i], &end, 0);
			cfg.ops_given = true;
			if (cfg.ops < 0)
				usage();
		} else if (i + 1 < argc && !strcmp(a, "--seed-ops")) {
			cfg.seed_ops = strtol(argv[++i], &end, 0);
			if (cfg.seed_ops <= 0)
				usage();
		} else if (i + 1 < argc && !strcmp(a, "--fail-at")) {
			cfg.fail_at = strtol(argv[++i], &end, 0);
			if (cfg.fail_at < 0)
				usage();
		} else if (i + 1 < argc && !strcmp(a, "--seconds")) {
			cfg.seconds = strtod(argv[++i], &end);
			if (cfg.seconds <= 0)
				usage();
		} else {
			usage();
		}
		if (end && *end)
			usage();
	}
	if (!cfg.ops_given && cfg.seconds <= 0)
		cfg.ops = DEFAULT_OPS;
	if (!cfg.seed_given)
		cfg.seed = (uint64_t)time(NULL) % 1000000;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	double t0, secs, deadline = 0;
	long total = 0, seeds = 0, n, done;
	uint64_t seed, failed_seed = 0;
	long failed_ops = 0;
	ssize_t len;
	int failures = 0;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pg = (unsigned long)sysconf(_SC_PAGESIZE);
	is_root = geteuid() == 0;
	memset(long63, 'L', 63);
	len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (len > 0)
		self_path[len] = 0;
	else
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (shm == MAP_FAILED || null_fd < 0 || arena_init()) {
		fprintf(stderr, PROG ": setup: %s\n", strerror(errno));
		return 2;
	}
	n = open(IPCU_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (n < 0) {
		fprintf(stderr, PROG ": " IPCU_DEVICE_PATH ": %s\n",
			strerror(errno));
		return 2;
	}
	close((int)n);
	{
		long v[NR_STATS];

		stats_ok = !read_stats(v);
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0 && lseek(kmsg_fd, 0, SEEK_END) < 0) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
	limits_apply();
	if (!cfg.quiet) {
		printf(PROG ": seed %" PRIu64 ", ", cfg.seed);
		if (cfg.ops_given || cfg.seconds <= 0)
			printf("%ld operations", cfg.ops);
		if (cfg.seconds > 0)
			printf("%s%.0f s", cfg.ops_given ? ", at most " : "",
			       cfg.seconds);
		printf(", %ld per seed\n", cfg.seed_ops);
		if (!stats_ok)
			printf(PROG ": " STATS_PATH " not readable: no leak check\n");
		if (kmsg_fd < 0)
			printf(PROG ": /dev/kmsg not readable: no kernel log check\n");
		if (!limits_set)
			printf(PROG ": per-user limits not set: huge objects are not tried\n");
	}

	t0 = now_s();
	if (cfg.seconds > 0)
		deadline = t0 + cfg.seconds;
	for (seed = cfg.seed; ; seed++) {
		n = cfg.seed_ops;
		if (cfg.ops_given || cfg.seconds <= 0) {
			if (total >= cfg.ops)
				break;
			if (n > cfg.ops - total)
				n = cfg.ops - total;
		}
		if (deadline > 0 && now_s() >= deadline)
			break;
		if (!cfg.quiet && cfg.verbose)
			printf(PROG ": seed %" PRIu64 ": %ld operations\n",
			       seed, n);
		done = run_seed(&fz, seed, n, deadline);
		total += done;
		seeds++;
		if (fz.failed) {
			failures++;
			failed_seed = seed;
			failed_ops = fz.op + 1;
			if (failed_ops > done)
				failed_ops = done;
			if (failed_ops < 1)
				failed_ops = 1;
			printf(PROG ": FAIL: seed %" PRIu64 " failed at op %ld\n",
			       seed, failed_ops - 1);
			break;
		}
	}
	limits_restore();
	secs = now_s() - t0;
	if (failures) {
		if (cfg.minimize)
			minimize(failed_seed, failed_ops);
		else
			print_repro(failed_seed, failed_ops);
	}
	summary(total, seeds, failures, secs);
	return failures ? 1 : 0;
}
