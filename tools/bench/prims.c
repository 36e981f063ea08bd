// SPDX-License-Identifier: GPL-2.0
/*
 * What the building blocks cost, one process, no sleeping: the system
 * calls each mechanism is made of, and the ring operations alone (no
 * payload work).  These explain the scenario figures: under icount, a
 * round trip is its system calls plus two context switches plus the
 * payload work.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liburing.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "ipcunit.h"
#include "bench.h"

struct prim {
	const char *name;
	const char *what;
	bool module;
	/* Set up on first use; 0 or -errno. */
	int (*run)(unsigned int n);
};

/* --- state shared by the primitives (one process) ------------------------- */

static int devfd = -1, efd = -1, pfd[2] = { -1, -1 };
static struct ipcu_ep prod, cons, eprod, econs;	/* e*: an empty channel */
static struct io_uring ring_a, ring_b;
static bool rings_ok;

static int chan_pair(struct ipcu_ep *p, struct ipcu_ep *c)
{
	struct ipcu_chan_params cp = {
		.ring_entries = 256, .max_msg = 64, .payload_bytes = 64 * KiB,
	};
	int ret = ipcu_chan_create(devfd, &cp, IPCU_ROLE_PRODUCER, p);

	return ret ? ret : ipcu_ep_peer(p, c);
}

static int setup_module(void)
{
	void *buf;
	int ret;

	if (devfd >= 0)
		return 0;
	devfd = ipcu_open();
	if (devfd < 0)
		return devfd;
	ret = chan_pair(&prod, &cons);
	if (!ret)
		ret = chan_pair(&eprod, &econs);
	if (ret)
		return ret;
	/* One message that stays: the consumer is always ready. */
	ret = ipcu_reserve(&prod, 64, &buf);
	if (ret)
		return ret;
	memset(buf, 0, 64);
	ipcu_commit(&prod, 64, 0);
	return ipcu_flush(&prod) < 0 ? -EIO : 0;
}

static int wait_ioctl(struct ipcu_ep *ep, int bell_fd)
{
	struct ipcu_wait w;

	memset(&w, 0, sizeof(w));
	w.flags = bell_fd >= 0 ? IPCU_WAIT_DOORBELL : 0;
	w.doorbell_fd = bell_fd;
	w.timeout_ns = 0;
	return ioctl(ep->fd, IPCU_IOC_WAIT, &w) < 0 ? -errno : 0;
}

/* --- the primitives ----------------------------------------------------------- */

static int p_getppid(unsigned int n)
{
	while (n--)
		syscall(SYS_getppid);
	return 0;
}

static int p_clock(unsigned int n)
{
	while (n--)
		now_ns();
	return 0;
}

static int p_version(unsigned int n)
{
	struct ipcu_version v;
	int ret = setup_module();

	while (!ret && n--)
		ret = ipcu_version(devfd, &v);
	return ret;
}

static int p_doorbell(unsigned int n)
{
	int ret = setup_module();

	while (!ret && n--)
		ret = ioctl(prod.fd, IPCU_IOC_DOORBELL, 0UL) < 0 ? -errno : 0;
	return ret;
}

static int p_wait_ready(unsigned int n)
{
	int ret = setup_module();

	while (!ret && n--)
		ret = wait_ioctl(&cons, -1);
	return ret;
}

static int p_wait_bell_ready(unsigned int n)
{
	int ret = setup_module();

	while (!ret && n--)
		ret = wait_ioctl(&cons, prod.fd);
	return ret;
}

static int p_wait_empty(unsigned int n)
{
	int ret = setup_module();

	while (!ret && n--) {
		ret = wait_ioctl(&econs, -1);
		if (ret == -ETIMEDOUT)
			ret = 0;
	}
	return ret;
}

static int p_efd_write(unsigned int n)
{
	uint64_t one = 1;

	if (efd < 0 && (efd = eventfd(0, EFD_NONBLOCK)) < 0)
		return -errno;
	while (n--)
		if (write(efd, &one, 8) != 8)
			return -errno;
	return 0;
}

static int p_efd_read(unsigned int n)
{
	uint64_t v = 1;

	if (efd < 0 && (efd = eventfd(0, EFD_NONBLOCK)) < 0)
		return -errno;
	/* A read only returns with a count: time the pair. */
	while (n--) {
		if (write(efd, &v, 8) != 8 || read(efd, &v, 8) != 8)
			return -errno;
	}
	return 0;
}

static int p_pipe(unsigned int n)
{
	char buf[64] = { 0 };

	if (pfd[0] < 0 && pipe(pfd))
		return -errno;
	while (n--)
		if (write(pfd[1], buf, 64) != 64 || read(pfd[0], buf, 64) != 64)
			return -errno;
	return 0;
}

static int p_fionread(unsigned int n)
{
	int avail;

	if (pfd[0] < 0 && pipe(pfd))
		return -errno;
	while (n--)
		if (ioctl(pfd[0], FIONREAD, &avail))
			return -errno;
	return 0;
}

static int p_futex(unsigned int n)
{
	static uint32_t word;

	while (n--)
		futex_wake_all(&word);
	return 0;
}

static int setup_rings(void)
{
	int ret;

	if (rings_ok)
		return 0;
	ret = io_uring_queue_init(64, &ring_a, 0);
	if (!ret)
		ret = io_uring_queue_init(64, &ring_b, 0);
	rings_ok = !ret;
	return ret;
}

static void reap(struct io_uring *r)
{
	unsigned int head, k = 0;
	struct io_uring_cqe *cqe;

	io_uring_for_each_cqe(r, head, cqe)
		k++;
	io_uring_cq_advance(r, k);
}

static int p_uring_nop(unsigned int n)
{
	int ret = setup_rings();

	while (!ret && n--) {
		io_uring_prep_nop(io_uring_get_sqe(&ring_a));
		ret = io_uring_submit_and_wait(&ring_a, 1) < 0 ? -EIO : 0;
		reap(&ring_a);
	}
	return ret;
}

static int p_uring_msg(unsigned int n)
{
	struct io_uring_sqe *sqe;
	int ret = setup_rings();

	while (!ret && n--) {
		sqe = io_uring_get_sqe(&ring_a);
		io_uring_prep_msg_ring(sqe, ring_b.ring_fd, 0, 1, 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		ret = io_uring_submit(&ring_a) < 0 ? -EIO : 0;
		reap(&ring_b);
		reap(&ring_a);
	}
	return ret;
}

/* One 64-byte message through libipcunit's inline ring code, no payload. */
static int ring_ops(struct ipcu_ep *p, struct ipcu_ep *c, unsigned int n)
{
	const void *rb;
	size_t len;
	void *b;
	int ret;

	while (n--) {
		ret = ipcu_reserve(p, 64, &b);
		if (!ret)
			ret = ipcu_commit(p, 64, 0);
		if (!ret)
			ret = ipcu_flush(p) < 0 ? -EIO : 0;
		if (!ret)
			ret = ipcu_peek(c, &rb, &len, NULL);
		if (!ret)
			ret = ipcu_release(c);
		if (!ret)
			ret = ipcu_flush(c) < 0 ? -EIO : 0;
		if (ret)
			return ret;
	}
	return 0;
}

static int p_ring_ipcunit_mem(unsigned int n)
{
	static struct ipcu_ep mp, mc;
	static void *mem;

	if (!mem) {
		size_t sz = ipcu_mem_layout_size(256, 64, 64 * KiB);

		mem = aligned_alloc(4096, sz);
		if (!mem)
			return -ENOMEM;
		memset(mem, 0, sz);
		if (ipcu_ep_init_mem(&mp, IPCU_ROLE_PRODUCER, mem, 256, 64, 64 * KiB) ||
		    ipcu_ep_init_mem(&mc, IPCU_ROLE_CONSUMER, mem, 256, 64, 64 * KiB))
			return -EINVAL;
	}
	return ring_ops(&mp, &mc, n);
}

/* The same through the mechanism table: what every scenario pays. */
static int p_ring_mech(const struct mech *m, unsigned int n)
{
	static struct chan c[2];
	static bool open[2];
	int k = m == &mech_spsc_ref;
	struct chan_cfg cfg;
	const void *rb;
	size_t len;
	void *b;
	int ret;

	if (!open[k]) {
		chan_cfg_default(&cfg, 64, 1, WAIT_POLL);
		cfg.publish = 1;
		ret = chan_open(&c[k], m, &cfg);
		if (ret)
			return ret;
		open[k] = true;
	}
	while (n--) {
		ret = m->send_buf(&c[k], &b);
		if (!ret)
			ret = m->send(&c[k]);
		if (!ret)
			ret = m->flush(&c[k]);
		if (!ret)
			ret = m->recv(&c[k], NULL, &rb, &len);
		if (!ret)
			ret = m->recv_done(&c[k]);
		if (ret)
			return ret;
	}
	return 0;
}

static int p_mech_ipcunit_mem(unsigned int n)
{
	return p_ring_mech(&mech_ipcunit_mem, n);
}

static int p_mech_spsc(unsigned int n)
{
	return p_ring_mech(&mech_spsc_ref, n);
}

static const struct prim prims[] = {
	{ "clock_gettime", "vDSO clock read (the cost inside every timed figure)", false, p_clock },
	{ "getppid", "the cheapest system call", false, p_getppid },
	{ "ioctl-fionread", "ioctl(FIONREAD) on a pipe: the generic ioctl path", false, p_fionread },
	{ "futex-wake", "FUTEX_WAKE, nobody waiting", false, p_futex },
	{ "eventfd-write", "write(eventfd), nobody waiting", false, p_efd_write },
	{ "eventfd-write+read", "write(eventfd) then read(eventfd)", false, p_efd_read },
	{ "pipe-write+read", "write() then read() of 64 B on a pipe", false, p_pipe },
	{ "uring-nop", "io_uring_enter: submit a NOP and wait for it", false, p_uring_nop },
	{ "uring-msg-ring", "io_uring_enter: submit MSG_RING to another ring", false, p_uring_msg },
	{ "ipcu-version", "IPCU_IOC_VERSION: the ioctl dispatcher, 64-byte argument", true, p_version },
	{ "ipcu-doorbell", "IPCU_IOC_DOORBELL, nobody waiting", true, p_doorbell },
	{ "ipcu-wait-ready", "IPCU_IOC_WAIT, timeout 0, endpoint ready", true, p_wait_ready },
	{ "ipcu-wait-bell-ready", "IPCU_IOC_WAIT + IPCU_WAIT_DOORBELL, timeout 0, ready", true, p_wait_bell_ready },
	{ "ipcu-wait-empty", "IPCU_IOC_WAIT, timeout 0, nothing to read (-ETIMEDOUT)", true, p_wait_empty },
	{ "ring-ipcunit-inline", "one 64 B message, libipcunit inline calls (reserve, commit, flush, peek, release, flush), no payload", false, p_ring_ipcunit_mem },
	{ "ring-ipcunit-mech", "the same through the benchmark's mechanism table (ipcunit-mem)", false, p_mech_ipcunit_mem },
	{ "ring-spsc-ref", "the same message through the reference ring (spsc-ref)", false, p_mech_spsc },
};

/*
 * The best of several rounds: a round is short, and on a shared machine a
 * single preemption would otherwise be the figure.  (Under icount the
 * rounds agree.)
 */
void scen_prims(void)
{
	unsigned int i, round, n = opt.mode == MODE_ICOUNT ? (opt.quick ? 500 : 2000) :
				   opt.mode == MODE_TCG ? 2000 : 20000;
	unsigned int rounds = opt.mode == MODE_ICOUNT ? 1 : 7;
	bool module = mech_usable(&mech_ipcunit, (char[160]){ 0 }, 160);

	for (i = 0; i < ARRAY_SIZE(prims); i++) {
		const struct prim *p = &prims[i];
		double best = INFINITY, t;
		struct rec *r;
		uint64_t t0;
		int ret;

		if (p->module && !module)
			continue;
		r = rec_new("prims", p->name, NULL, 0, 1);
		snprintf(r->note, sizeof(r->note), "%s", p->what);
		ret = p->run(n / 10);	/* set up, warm up */
		icount_align();
		for (round = 0; !ret && round < rounds; round++) {
			t0 = now_ns();
			ret = p->run(n);
			t = ticks(now_ns() - t0) / (double)n;
			if (t < best)
				best = t;
		}
		if (ret)
			rec_fail(r, "%s: %s", p->what, strerror(-ret));
		else
			rec_set(r, "per_call", best);
	}
}
