// SPDX-License-Identifier: (LGPL-2.1 OR MIT)
/*
 * libipcunit: setup, mapping and waiting.  The data path is inline in
 * ipcunit.h.
 */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ipcunit.h"

/* A ring's deadline: absolute CLOCK_MONOTONIC ns, or one of these. */
#define FOREVER		(-1LL)
#define NOW		0LL

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t round_up(size_t n, size_t align)
{
	return (n + align - 1) & ~(align - 1);
}

static bool is_pow2(__u64 n)
{
	return n && !(n & (n - 1));
}

/*
 * The limits of IPCU_IOC_CHAN_CREATE, except that the payload area may be
 * smaller than a page: nothing in the protocol needs more than 2 bytes.
 */
static bool geometry_ok(__u64 entries, __u64 max_msg, __u64 payload_bytes)
{
	return is_pow2(entries) && entries <= IPCU_RING_ENTRIES_MAX &&
	       is_pow2(payload_bytes) && payload_bytes >= 2 &&
	       payload_bytes <= IPCU_PAYLOAD_MAX &&
	       max_msg >= 1 && max_msg <= payload_bytes / 2;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long deadline(long long timeout_ns)
{
	long long now;

	if (timeout_ns <= 0)
		return timeout_ns < 0 ? FOREVER : NOW;
	now = now_ns();
	return timeout_ns > LLONG_MAX - now ? FOREVER : now + timeout_ns;
}

/* Relative timeout left until @end, in IPCU_IOC_WAIT's convention. */
static long long remaining(long long end)
{
	long long left;

	if (end == FOREVER || end == NOW)
		return end;
	left = end - now_ns();
	return left > 0 ? left : 0;
}

static void cpu_relax(void)
{
#if defined(__i386__) || defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Fill in @ep for a mapped ring.  This side's indices are taken from its
 * own control page, so an endpoint picks up where the previous holder of
 * the role left off; the cached view of the peer is set to "no room" and
 * "empty", which makes the first ipcu_reserve() or ipcu_peek() read and
 * validate the peer's indices.
 */
static void setup(struct ipcu_ep *ep, int fd, unsigned int role,
		  unsigned int entries, unsigned int max_msg,
		  unsigned int pay_size, struct ipcu_cons_ctrl *cons,
		  struct ipcu_prod_ctrl *prod, struct ipcu_desc *desc,
		  unsigned char *payload, void *map_base, size_t map_len)
{
	memset(ep, 0, sizeof(*ep));
	ep->fd = fd;
	ep->role = role;
	ep->entries = entries;
	ep->mask = entries - 1;
	ep->max_msg = max_msg;
	ep->pay_size = pay_size;
	ep->spin = IPCU_SPIN_DEFAULT;
	ep->cons = cons;
	ep->prod = prod;
	ep->desc = desc;
	ep->payload = payload;
	ep->map_base = map_base;
	ep->map_len = map_len;

	/*
	 * A previous holder of the role may have died while waiting: clear
	 * its NEED_WAKEUP so that the peer stops ringing for nobody, and go on
	 * with its sleep sequence, so that our first sleep is a value the
	 * peer has not rung for yet.
	 */
	if (role == IPCU_ROLE_PRODUCER) {
		ep->sleep_seq = __atomic_load_n(&prod->flags, __ATOMIC_RELAXED) >>
				IPCU_SLEEP_SEQ_SHIFT;
		ep->tail = __atomic_load_n(&prod->tail, __ATOMIC_RELAXED);
		ep->pay_tail = __atomic_load_n(&prod->pay_tail, __ATOMIC_RELAXED);
		ep->published = ep->tail;
		ep->head = ep->tail - entries;
		ep->pay_head = ep->pay_tail - pay_size;
		__atomic_store_n(&prod->flags, ep->sleep_seq << IPCU_SLEEP_SEQ_SHIFT,
				 __ATOMIC_RELAXED);
	} else {
		ep->sleep_seq = __atomic_load_n(&cons->flags, __ATOMIC_RELAXED) >>
				IPCU_SLEEP_SEQ_SHIFT;
		ep->head = __atomic_load_n(&cons->head, __ATOMIC_RELAXED);
		ep->pay_head = __atomic_load_n(&cons->pay_head, __ATOMIC_RELAXED);
		ep->published = ep->head;
		ep->tail = ep->head;
		__atomic_store_n(&cons->flags, ep->sleep_seq << IPCU_SLEEP_SEQ_SHIFT,
				 __ATOMIC_RELAXED);
	}
}

int ipcu_open(void)
{
	int fd = open(IPCU_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int ipcu_version(int devfd, struct ipcu_version *v)
{
	memset(v, 0, sizeof(*v));
	return ioctl(devfd, IPCU_IOC_VERSION, v) < 0 ? -errno : 0;
}

/* Adopt a freshly created endpoint fd; on failure it is closed. */
static int adopt(int fd, struct ipcu_ep *ep)
{
	int ret = ipcu_ep_from_fd(fd, ep);

	if (ret)
		close(fd);
	return ret;
}

int ipcu_chan_create(int devfd, const struct ipcu_chan_params *p,
		     unsigned int role, struct ipcu_ep *ep)
{
	struct ipcu_chan_create c;

	memset(&c, 0, sizeof(c));
	c.ring_entries = p->ring_entries;
	c.max_msg = p->max_msg;
	c.mode = p->mode;
	c.payload_bytes = p->payload_bytes;
	c.name = (__u64)(uintptr_t)p->name;
	c.role = role;
	if (ioctl(devfd, IPCU_IOC_CHAN_CREATE, &c) < 0)
		return -errno;
	return adopt(c.fd, ep);
}

int ipcu_chan_attach(int devfd, const char *name, unsigned int role,
		     struct ipcu_ep *ep)
{
	struct ipcu_chan_attach a;

	memset(&a, 0, sizeof(a));
	a.role = role;
	a.name = (__u64)(uintptr_t)name;
	if (ioctl(devfd, IPCU_IOC_CHAN_ATTACH, &a) < 0)
		return -errno;
	return adopt(a.fd, ep);
}

int ipcu_ep_peer(struct ipcu_ep *ep, struct ipcu_ep *peer)
{
	struct ipcu_ep_peer p;

	memset(&p, 0, sizeof(p));
	if (ioctl(ep->fd, IPCU_IOC_EP_PEER, &p) < 0)
		return -errno;
	return adopt(p.fd, peer);
}

/*
 * The kernel is trusted, but a geometry or layout this library does not
 * understand (a newer ABI, a different page size) must not become an
 * out-of-bounds access later.
 */
static bool info_ok(const struct ipcu_ep_info *info, size_t pg)
{
	const __u64 off[] = { info->cons_ctrl_off, info->prod_ctrl_off,
			      info->desc_off, info->payload_off };
	const __u64 len[] = { pg, pg, info->desc_bytes, info->payload_bytes };
	unsigned int i;

	if (info->role > IPCU_ROLE_CONSUMER ||
	    !geometry_ok(info->ring_entries, info->max_msg,
			 info->payload_bytes) ||
	    info->desc_bytes < (__u64)info->ring_entries *
			       sizeof(struct ipcu_desc) ||
	    info->map_bytes > SIZE_MAX)
		return false;
	for (i = 0; i < 4; i++) {
		if (off[i] % pg || len[i] % pg || off[i] > info->map_bytes ||
		    len[i] > info->map_bytes - off[i])
			return false;
	}
	return true;
}

static int map_area(unsigned char *base, int fd, __u64 off, __u64 len,
		    bool writable)
{
	int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;

	if (mmap(base + off, len, prot, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)off) == MAP_FAILED)
		return -errno;
	return 0;
}

int ipcu_ep_from_fd(int fd, struct ipcu_ep *ep)
{
	struct ipcu_ep_info info;
	size_t pg = page_size();
	unsigned char *base;
	bool prod;
	int ret;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, IPCU_IOC_EP_INFO, &info) < 0)
		return -errno;
	if (!info_ok(&info, pg))
		return -EPROTO;
	prod = info.role == IPCU_ROLE_PRODUCER;

	/*
	 * Reserve address space for the whole object, then map each area
	 * over it with the protection its writer needs: the kernel refuses
	 * PROT_WRITE on an area the other side writes.  One munmap() of the
	 * reservation undoes everything.
	 */
	base = mmap(NULL, info.map_bytes, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	ret = map_area(base, fd, info.cons_ctrl_off, pg, !prod);
	if (!ret)
		ret = map_area(base, fd, info.prod_ctrl_off, pg, prod);
	if (!ret)
		ret = map_area(base, fd, info.desc_off, info.desc_bytes, prod);
	if (!ret)
		ret = map_area(base, fd, info.payload_off, info.payload_bytes,
			       prod);
	if (ret) {
		munmap(base, info.map_bytes);
		return ret;
	}
	setup(ep, fd, info.role, info.ring_entries, info.max_msg,
	      (unsigned int)info.payload_bytes,
	      (struct ipcu_cons_ctrl *)(base + info.cons_ctrl_off),
	      (struct ipcu_prod_ctrl *)(base + info.prod_ctrl_off),
	      (struct ipcu_desc *)(base + info.desc_off),
	      base + info.payload_off, base, info.map_bytes);
	return 0;
}

void ipcu_ep_close(struct ipcu_ep *ep)
{
	if (ep->map_base)
		munmap(ep->map_base, ep->map_len);
	if (ep->fd >= 0)
		close(ep->fd);
	memset(ep, 0, sizeof(*ep));
	ep->fd = -1;
}

int ipcu_ep_fd(const struct ipcu_ep *ep)
{
	return ep->fd;
}

int ipcu_set_eventfd(struct ipcu_ep *ep, unsigned int event, int efd)
{
	struct ipcu_ep_eventfd e;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.fd = efd;
	return ioctl(ep->fd, IPCU_IOC_EP_EVENTFD, &e) < 0 ? -errno : 0;
}

size_t ipcu_mem_layout_size(unsigned int entries, unsigned int max_msg,
			    __u64 payload_bytes)
{
	size_t pg = page_size();

	if (!geometry_ok(entries, max_msg, payload_bytes))
		return 0;
	return 2 * pg + round_up(entries * sizeof(struct ipcu_desc), pg) +
	       round_up(payload_bytes, pg);
}

int ipcu_ep_init_mem(struct ipcu_ep *ep, unsigned int role, void *base,
		     unsigned int entries, unsigned int max_msg,
		     __u64 payload_bytes)
{
	size_t pg = page_size();
	unsigned char *p = base;

	if (role > IPCU_ROLE_CONSUMER || !p ||
	    (uintptr_t)p % sizeof(__u32) ||
	    !geometry_ok(entries, max_msg, payload_bytes))
		return -EINVAL;
	/* The kernel's order: consumer's page, producer's page, ring, data. */
	setup(ep, -1, role, entries, max_msg, (unsigned int)payload_bytes,
	      (struct ipcu_cons_ctrl *)p, (struct ipcu_prod_ctrl *)(p + pg),
	      (struct ipcu_desc *)(p + 2 * pg),
	      p + 2 * pg + round_up(entries * sizeof(struct ipcu_desc), pg),
	      NULL, 0);
	return 0;
}

int ipcu_doorbell(struct ipcu_ep *ep)
{
	if (ioctl(ep->fd, IPCU_IOC_DOORBELL, 0UL) < 0)
		return -errno;
	ep->stats.doorbells++;
	return 0;
}

/*
 * Re-read the peer's indices: 1 if @ep can make progress (a message to
 * read; a descriptor and room for want bytes to write), 0 if not, -EPROTO.
 * This is the kernel's readiness (ipcu_ring_readable() and
 * ipcu_ring_writable()) on this side's own, published indices.
 */
static int ready(struct ipcu_ep *ep)
{
	__u32 start;
	int ret;

	if (ep->role == IPCU_ROLE_CONSUMER) {
		ret = __ipcu_cons_refresh(ep);
		return ret ? ret : ep->tail != ep->head;
	}
	ret = __ipcu_prod_refresh(ep);
	return ret ? ret : __ipcu_prod_room(ep, ep->want ? ep->want : 1,
					    &start);
}

/*
 * Set NEED_WAKEUP with a new sleep sequence (and the producer's want), then
 * re-check the ring.
 */
static int arm(struct ipcu_ep *ep)
{
	__u32 flags = (++ep->sleep_seq << IPCU_SLEEP_SEQ_SHIFT) |
		      IPCU_NEED_WAKEUP;

	/* Release: a consumer that sees the flag sees this want too. */
	if (ep->role == IPCU_ROLE_PRODUCER) {
		__atomic_store_n(&ep->prod->want, ep->want, __ATOMIC_RELAXED);
		__atomic_store_n(&ep->prod->flags, flags, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&ep->cons->flags, flags, __ATOMIC_RELEASE);
	}
	/*
	 * Sleeper side of the wakeup protocol: store flag; full barrier; load
	 * the peer's index.  Pairs with the barrier in __ipcu_publish(): either
	 * the peer sees the flag and rings, or we see its index here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ready(ep);
}

void ipcu_finish_wait(struct ipcu_ep *ep)
{
	/*
	 * No ordering needed: a peer that still sees the flag only rings
	 * once too often.
	 */
	__atomic_store_n(ep->role == IPCU_ROLE_PRODUCER ? &ep->prod->flags :
			 &ep->cons->flags, ep->sleep_seq << IPCU_SLEEP_SEQ_SHIFT,
			 __ATOMIC_RELAXED);
}

int ipcu_prepare_wait(struct ipcu_ep *ep)
{
	int ret = ipcu_flush(ep);

	if (ret < 0)
		return ret;
	ret = arm(ep);
	if (ret)
		ipcu_finish_wait(ep);
	return ret;
}

/* Check the ring up to @n times, pausing in between. */
static int spin(struct ipcu_ep *ep, unsigned int n)
{
	int ret;

	while (n--) {
		ret = ready(ep);
		if (ret)
			return ret;
		cpu_relax();
	}
	return 0;
}

/* A ring without a kernel: poll until ready or @end, yielding the CPU. */
static int poll_mem(struct ipcu_ep *ep, long long end)
{
	int ret;

	for (;;) {
		ret = spin(ep, ep->spin ? ep->spin : 1);
		if (ret)
			return ret;
		if (end != FOREVER && now_ns() >= end)
			return -ETIMEDOUT;
		sched_yield();
	}
}

/*
 * Sleep in IPCU_IOC_WAIT until @ep is ready.  If *@bell, the peer of
 * @bell_ep is asleep and waits for our doorbell: ring it inside the same
 * system call and clear *@bell once it is rung.  Return 1 when ready.
 */
static int sleep_kernel(struct ipcu_ep *ep, struct ipcu_ep *bell_ep,
			bool *bell, long long end)
{
	struct ipcu_wait w;
	int ret;

	/*
	 * Spin only while the other side is awake: a sleeping peer cannot
	 * answer before it gets our doorbell.
	 */
	if (!*bell && end != NOW) {
		ret = spin(ep, ep->spin);
		if (ret)
			return ret;
	}
	for (;;) {
		ret = arm(ep);
		if (ret)
			break;
		memset(&w, 0, sizeof(w));
		w.flags = *bell ? IPCU_WAIT_DOORBELL : 0;
		w.doorbell_fd = *bell ? bell_ep->fd : -1;
		w.timeout_ns = remaining(end);
		ep->stats.sleeps++;
		ret = ioctl(ep->fd, IPCU_IOC_WAIT, &w) < 0 ? -errno : 0;
		/*
		 * The doorbell is rung before the wait starts.  On any other
		 * outcome (-EINTR included) ring again rather than risk a
		 * lost wakeup.
		 */
		if (*bell && (ret == 0 || ret == -ETIMEDOUT)) {
			bell_ep->stats.doorbells++;
			*bell = false;
		}
		/* Our own view first: data that arrived wins over a hangup. */
		if (ret == 0 || ret == -ETIMEDOUT) {
			int r = ready(ep);

			if (r) {
				ret = r;
				break;
			}
		}
		if (ret)
			break;
		if (w.revents & EPOLLERR) {
			ret = -EPROTO;
			break;
		}
		if (w.revents & EPOLLHUP) {
			ret = -EPIPE;
			break;
		}
		if (end == NOW || (end != FOREVER && now_ns() >= end)) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	ipcu_finish_wait(ep);
	return ret;
}

/* ipcu_flush_wait() with an absolute deadline. */
static int flush_wait(struct ipcu_ep *flush_ep, struct ipcu_ep *wait_ep,
		      long long end)
{
	bool bell;
	int ret;

	/*
	 * The kernel judges readiness by the published indices: publish
	 * the waiting side too, or it would see work we already did (and
	 * the peer might wait for it).
	 */
	if (wait_ep != flush_ep) {
		ret = ipcu_flush(wait_ep);
		if (ret < 0)
			return ret;
	}
	bell = __ipcu_publish(flush_ep) && flush_ep->fd >= 0;
	ret = ready(wait_ep);
	if (!ret) {
		wait_ep->stats.waits++;
		if (wait_ep->fd >= 0) {
			ret = sleep_kernel(wait_ep, flush_ep, &bell, end);
		} else if (end == NOW) {
			ret = -ETIMEDOUT;
		} else {
			if (bell) {
				ret = ipcu_doorbell(flush_ep);
				if (ret < 0)
					return ret;
				bell = false;
			}
			ret = poll_mem(wait_ep, end);
		}
	}
	if (bell) {
		int r = ipcu_doorbell(flush_ep);

		if (r < 0 && ret >= 0)
			ret = r;
	}
	return ret < 0 ? ret : 0;
}

int ipcu_flush_wait(struct ipcu_ep *flush_ep, struct ipcu_ep *wait_ep,
		    long long timeout_ns)
{
	return flush_wait(flush_ep, wait_ep, deadline(timeout_ns));
}

int ipcu_wait(struct ipcu_ep *ep, long long timeout_ns)
{
	return flush_wait(ep, ep, deadline(timeout_ns));
}

int ipcu_wait_space(struct ipcu_ep *ep, size_t len, long long timeout_ns)
{
	if (ep->role != IPCU_ROLE_PRODUCER)
		return -EINVAL;
	if (len - 1 >= ep->max_msg)
		return -EMSGSIZE;
	ep->want = (__u32)len;
	return flush_wait(ep, ep, deadline(timeout_ns));
}

int ipcu_send(struct ipcu_ep *ep, const void *buf, size_t len,
	      long long timeout_ns)
{
	long long end = deadline(timeout_ns);
	void *dst;
	int ret;

	/* A failed reservation leaves its size in ep->want for the wait. */
	while ((ret = ipcu_reserve(ep, len, &dst)) == -EAGAIN) {
		ret = flush_wait(ep, ep, end);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	memcpy(dst, buf, len);
	ipcu_commit(ep, len, 0);
	ret = ipcu_flush(ep);
	return ret < 0 ? ret : 0;
}

int ipcu_recv(struct ipcu_ep *ep, void *buf, size_t cap,
	      long long timeout_ns)
{
	long long end = deadline(timeout_ns);
	const void *src;
	size_t len;
	int ret;

	while ((ret = ipcu_peek(ep, &src, &len, NULL)) == -EAGAIN) {
		ret = flush_wait(ep, ep, end);
		if (ret)
			return ret;
	}
	if (ret)
		return ret;
	if (len > cap)
		return -EMSGSIZE;
	memcpy(buf, src, len);
	ipcu_release(ep);
	ret = ipcu_flush(ep);
	return ret < 0 ? ret : (int)len;
}
