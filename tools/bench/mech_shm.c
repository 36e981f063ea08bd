// SPDX-License-Identifier: GPL-2.0
/*
 * What a user builds without ipcunit: a single-producer single-consumer
 * ring in a memfd both processes map, written here from scratch.
 *
 * The ring is ipcunit's protocol without the hardening: free-running
 * indices, a descriptor array and a payload area where every message is
 * contiguous (a message that does not fit before the end starts at the
 * next lap), each side caching the other's index and re-reading it only
 * when it runs out.  Nothing is validated: both sides trust each other.
 *
 *   spsc-ref        busy-polling only, so no wakeup protocol at all (no
 *                   flags, no full barrier): the practical limit of the
 *                   data path.
 *   memfd-eventfd   blocking, with the same wakeup suppression as ipcunit
 *                   (NEED_WAKEUP flag, full barrier, re-check) and one
 *                   eventfd per direction: write() to wake, read() to
 *                   sleep.
 *   io_uring        the same ring; the doorbell is IORING_OP_MSG_RING to
 *                   the sleeper's ring, and a ping-pong submits the
 *                   doorbell and waits for its own completion in one
 *                   io_uring_enter().  Kernels without MSG_RING (or
 *                   --uring=eventfd): IORING_OP_WRITE / IORING_OP_READ on
 *                   eventfds.  Busy-polling spins on the completion queue
 *                   (shared memory), so only the doorbell is a system call.
 *   shm-spin        no ring at all: one buffer and one sequence number per
 *                   direction, spun on.  Only valid for a ping-pong (there
 *                   is no flow control): the floor of a round trip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "bench.h"

#define NEED_WAKEUP	1u
#define URING_ENTRIES	64
#define URING_TAG	0x1bcu

enum notify {
	NOTIFY_NONE,
	NOTIFY_EVENTFD,
	NOTIFY_URING_MSG,
	NOTIFY_URING_EFD,
};

/* One cache line written by each side. */
struct ring_ctrl {
	_Alignas(64) uint32_t tail;
	uint32_t prod_flags;
	_Alignas(64) uint32_t head;
	uint32_t pay_head;
	uint32_t cons_flags;
};

struct ring_desc {
	uint32_t pos;
	uint32_t len;
};

struct shm_priv {
	enum notify kind;
	int memfd;
	void *map;
	size_t map_len;
	struct ring_ctrl *ctrl;
	struct ring_desc *desc;
	unsigned char *pay;
	uint32_t mask, pay_size;

	/* producer */
	uint32_t tail, pay_tail, published_tail;
	uint32_t c_head, c_pay_head;		/* cached */
	uint32_t cur_start;
	/* consumer */
	uint32_t head, pay_head, published_head;
	uint32_t c_tail;			/* cached */
	uint32_t cur_pos, cur_len;
	unsigned int unpublished;

	/* [SIDE_RX]: the consumer sleeps for data; [SIDE_TX]: the producer
	 * sleeps for room. */
	int efd[2];
	struct io_uring ring[2];
	struct io_uring_params params[2];
	int ring_fd[2];
	bool ring_mapped[2];
	bool read_armed[2];			/* URING_EFD */
	uint64_t efd_buf[2];

	/* shm-spin */
	uint32_t spin_seq, spin_seen;
};

/* The shm-spin layout: sequence number, then the buffer. */
struct spin_area {
	_Alignas(64) uint32_t seq;
	_Alignas(64) unsigned char buf[];
};

static int uring_mode = -1;	/* NOTIFY_URING_MSG or _EFD once probed */

static int uring_probe(char *why, size_t len)
{
	struct io_uring_probe *pr;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret) {
		snprintf(why, len, "io_uring_setup: %s", strerror(-ret));
		return ret;
	}
	pr = io_uring_get_probe_ring(&ring);
	if (opt.uring == 2 || !pr ||
	    !io_uring_opcode_supported(pr, IORING_OP_MSG_RING))
		uring_mode = NOTIFY_URING_EFD;
	else
		uring_mode = NOTIFY_URING_MSG;
	if (opt.uring == 1 && uring_mode != NOTIFY_URING_MSG) {
		snprintf(why, len, "IORING_OP_MSG_RING not supported");
		ret = -EOPNOTSUPP;
	}
	if (pr)
		io_uring_free_probe(pr);
	io_uring_queue_exit(&ring);
	return ret;
}

const char *uring_variant(void)
{
	return uring_mode == NOTIFY_URING_MSG ? "IORING_OP_MSG_RING" :
	       uring_mode == NOTIFY_URING_EFD ? "eventfd reads through io_uring" :
	       "not probed";
}

static enum notify kind_of(const struct chan *c)
{
	if (c->m == &mech_memfd_eventfd)
		return NOTIFY_EVENTFD;
	if (c->m == &mech_io_uring)
		return uring_mode == NOTIFY_URING_MSG ? NOTIFY_URING_MSG :
							NOTIFY_URING_EFD;
	return NOTIFY_NONE;
}

static bool is_spin(const struct chan *c)
{
	return c->m == &mech_shm_spin;
}

static size_t pg_round(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

/* memfd (+ eventfds, + io_uring instances); no mappings. */
static int shm_open_chan(struct chan *c)
{
	struct shm_priv *p = calloc(1, sizeof(*p));
	int s;

	if (!p)
		return -ENOMEM;
	c->priv = p;
	p->kind = kind_of(c);
	p->efd[0] = p->efd[1] = p->ring_fd[0] = p->ring_fd[1] = -1;
	p->memfd = -1;
	if (is_spin(c))
		p->map_len = pg_round(sizeof(struct spin_area) + c->cfg.msg_size);
	else
		p->map_len = 4096 + pg_round(c->cfg.entries *
					     sizeof(struct ring_desc)) +
			     pg_round(c->cfg.cap_bytes);
	p->memfd = memfd_create("ipcunit-bench-ring", MFD_CLOEXEC);
	if (p->memfd < 0)
		return -errno;
	if (ftruncate(p->memfd, (off_t)p->map_len))
		return -errno;
	if (p->kind == NOTIFY_EVENTFD || p->kind == NOTIFY_URING_EFD) {
		for (s = 0; s < 2; s++) {
			p->efd[s] = eventfd(0, EFD_CLOEXEC);
			if (p->efd[s] < 0)
				return -errno;
		}
	}
	if (p->kind == NOTIFY_URING_MSG || p->kind == NOTIFY_URING_EFD) {
		for (s = 0; s < 2; s++) {
			p->ring_fd[s] = io_uring_setup(URING_ENTRIES,
						       &p->params[s]);
			if (p->ring_fd[s] < 0)
				return p->ring_fd[s];
		}
	}
	return 0;
}

static int shm_map(struct chan *c)
{
	struct shm_priv *p = c->priv;
	unsigned char *base;
	int s, ret;

	base = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    p->memfd, 0);
	if (base == MAP_FAILED)
		return -errno;
	p->map = base;
	if (!is_spin(c)) {
		p->ctrl = (struct ring_ctrl *)base;
		p->desc = (struct ring_desc *)(base + 4096);
		p->pay = base + 4096 + pg_round(c->cfg.entries *
						sizeof(struct ring_desc));
		p->mask = c->cfg.entries - 1;
		p->pay_size = (uint32_t)c->cfg.cap_bytes;
		/* The producer starts with no room known: it reads head. */
		p->c_head = -c->cfg.entries;
		p->c_pay_head = -p->pay_size;
	}
	for (s = 0; s < 2; s++) {
		if (p->ring_fd[s] < 0)
			continue;
		ret = io_uring_queue_mmap(p->ring_fd[s], &p->params[s],
					  &p->ring[s]);
		if (ret)
			return ret;
		p->ring_mapped[s] = true;
	}
	return 0;
}

/* Both processes keep everything: the fds are tiny and shared anyway. */
static int shm_attach(struct chan *c, enum side s)
{
	(void)c;
	(void)s;
	return 0;
}

/* --- notifications ------------------------------------------------------ */

/* Drain @self's completion queue for side @s; -errno on a failed CQE. */
static int uring_reap(struct shm_priv *self, int s)
{
	struct io_uring *ring = &self->ring[s];
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int ret = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		if (self->kind == NOTIFY_URING_EFD && cqe->user_data == URING_TAG) {
			self->read_armed[s] = false;
			if (cqe->res < 0)
				ret = cqe->res;
		} else if (cqe->res < 0) {
			ret = cqe->res;
		}
		n++;
	}
	io_uring_cq_advance(ring, n);
	return ret;
}

/* Queue on @via a doorbell for side @ws of @peer. */
static void uring_prep_bell(struct io_uring *via, struct shm_priv *peer, int ws)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(via);

	if (peer->kind == NOTIFY_URING_MSG) {
		io_uring_prep_msg_ring(sqe, peer->ring_fd[ws], 0, URING_TAG, 0);
	} else {
		static const uint64_t one = 1;

		io_uring_prep_write(sqe, peer->efd[ws], &one, sizeof(one), 0);
	}
	/* Only a failure posts a completion to our own ring. */
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, 0);
}

/* URING_EFD: keep one read of our eventfd outstanding. */
static void uring_arm_read(struct shm_priv *self, int s)
{
	struct io_uring_sqe *sqe;

	if (self->kind != NOTIFY_URING_EFD || self->read_armed[s])
		return;
	sqe = io_uring_get_sqe(&self->ring[s]);
	io_uring_prep_read(sqe, self->efd[s], &self->efd_buf[s],
			   sizeof(self->efd_buf[s]), 0);
	io_uring_sqe_set_data64(sqe, URING_TAG);
	self->read_armed[s] = true;
}

/* Wake side @ws of @peer, which set NEED_WAKEUP. */
static int notify(struct shm_priv *peer, int ws)
{
	static const uint64_t one = 1;
	int via = ws == SIDE_RX ? SIDE_TX : SIDE_RX;	/* our own ring */
	int ret;

	switch (peer->kind) {
	case NOTIFY_EVENTFD:
		return SYSC(write(peer->efd[ws], &one, sizeof(one))) < 0 ?
		       -errno : 0;
	case NOTIFY_URING_MSG:
	case NOTIFY_URING_EFD:
		uring_prep_bell(&peer->ring[via], peer, ws);
		ret = SYSC(io_uring_submit(&peer->ring[via]));
		return ret < 0 ? ret : 0;
	default:
		return 0;
	}
}

/*
 * Sleep on side @s of @self until notified; first ring side @ws of @wake
 * if @wake is not NULL (one system call for both with io_uring).  In poll
 * mode (io_uring only) spin on the completion queue instead of sleeping.
 */
static int sleep_on(struct shm_priv *self, int s, struct shm_priv *wake,
		    int ws, bool poll)
{
	struct io_uring *ring = &self->ring[s];
	uint64_t v;
	int ret;

	switch (self->kind) {
	case NOTIFY_EVENTFD:
		if (wake) {
			ret = notify(wake, ws);
			if (ret)
				return ret;
		}
		if (SYSC(read(self->efd[s], &v, sizeof(v))) < 0 &&
		    errno != EINTR)
			return -errno;
		return 0;
	case NOTIFY_URING_MSG:
	case NOTIFY_URING_EFD:
		uring_arm_read(self, s);
		if (wake)
			uring_prep_bell(ring, wake, ws);
		if (poll) {
			if (io_uring_sq_ready(ring)) {
				ret = SYSC(io_uring_submit(ring));
				if (ret < 0)
					return ret;
			}
			while (!io_uring_cq_ready(ring)) {
				/*
				 * Completions that found the queue full wait
				 * in the kernel until it is entered.
				 */
				if (io_uring_cq_has_overflow(ring))
					SYSC(io_uring_get_events(ring));
				cpu_relax();
			}
		} else if (io_uring_cq_ready(ring)) {
			if (io_uring_sq_ready(ring)) {
				ret = SYSC(io_uring_submit(ring));
				if (ret < 0)
					return ret;
			}
		} else {
			ret = SYSC(io_uring_submit_and_wait(ring, 1));
			if (ret < 0 && ret != -EINTR)
				return ret;
		}
		return uring_reap(self, s);
	default:
		return -EOPNOTSUPP;
	}
}

/* --- producer --------------------------------------------------------------- */

static bool prod_room(struct shm_priv *p, uint32_t len, uint32_t *start)
{
	uint32_t off = p->pay_tail & (p->pay_size - 1), pos = p->pay_tail;

	if (p->tail - p->c_head > p->mask)
		return false;
	if (len > p->pay_size - off)
		pos += p->pay_size - off;
	if ((uint64_t)(pos - p->c_pay_head) + len > p->pay_size)
		return false;
	*start = pos;
	return true;
}

static void prod_refresh(struct shm_priv *p)
{
	p->c_head = __atomic_load_n(&p->ctrl->head, __ATOMIC_ACQUIRE);
	p->c_pay_head = __atomic_load_n(&p->ctrl->pay_head, __ATOMIC_ACQUIRE);
}

/* Publish tail; true if the consumer asked to be woken. */
static bool prod_publish(struct shm_priv *p)
{
	if (p->tail == p->published_tail)
		return false;
	__atomic_store_n(&p->ctrl->tail, p->tail, __ATOMIC_RELEASE);
	p->published_tail = p->tail;
	if (p->kind == NOTIFY_NONE)
		return false;	/* nobody ever sleeps: no barrier, no flag */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&p->ctrl->cons_flags, __ATOMIC_RELAXED) &
	       NEED_WAKEUP;
}

static int shm_flush(struct chan *c)
{
	struct shm_priv *p = c->priv;

	if (is_spin(c)) {
		__atomic_store_n(&((struct spin_area *)p->map)->seq,
				 ++p->spin_seq, __ATOMIC_RELEASE);
		return 0;
	}
	return prod_publish(p) ? notify(p, SIDE_RX) : 0;
}

static int shm_send_buf(struct chan *c, void **buf)
{
	struct shm_priv *p = c->priv;
	uint32_t len = (uint32_t)c->cfg.msg_size, start;
	bool poll = c->cfg.wait == WAIT_POLL;
	int ret;

	if (is_spin(c)) {
		*buf = ((struct spin_area *)p->map)->buf;
		return 0;
	}
	while (!prod_room(p, len, &start)) {
		prod_refresh(p);
		if (prod_room(p, len, &start))
			break;
		/* Out of room: what we wrote must be visible. */
		if (poll || p->kind == NOTIFY_NONE) {
			ret = shm_flush(c);
			if (ret)
				return ret;
			cpu_relax();
			continue;
		}
		__atomic_store_n(&p->ctrl->prod_flags, NEED_WAKEUP,
				 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		prod_refresh(p);
		if (!prod_room(p, len, &start)) {
			bool bell = prod_publish(p);

			ret = sleep_on(p, SIDE_TX, bell ? p : NULL, SIDE_RX,
				       false);
		} else {
			ret = 0;
		}
		__atomic_store_n(&p->ctrl->prod_flags, 0, __ATOMIC_RELAXED);
		if (ret)
			return ret;
	}
	p->cur_start = start;
	*buf = p->pay + (start & (p->pay_size - 1));
	return 0;
}

static int shm_send(struct chan *c)
{
	struct shm_priv *p = c->priv;
	struct ring_desc *d;

	if (is_spin(c))
		return 0;
	d = &p->desc[p->tail & p->mask];
	d->pos = p->cur_start;
	d->len = (uint32_t)c->cfg.msg_size;
	p->tail++;
	p->pay_tail = p->cur_start + (uint32_t)c->cfg.msg_size;
	return 0;
}

/* --- consumer --------------------------------------------------------------- */

/* Publish head; true if the producer asked to be woken. */
static bool cons_publish(struct shm_priv *p)
{
	if (p->head == p->published_head)
		return false;
	__atomic_store_n(&p->ctrl->pay_head, p->pay_head, __ATOMIC_RELEASE);
	__atomic_store_n(&p->ctrl->head, p->head, __ATOMIC_RELEASE);
	p->published_head = p->head;
	if (p->kind == NOTIFY_NONE)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&p->ctrl->prod_flags, __ATOMIC_RELAXED) &
	       NEED_WAKEUP;
}

static int cons_flush(struct shm_priv *p)
{
	p->unpublished = 0;
	return cons_publish(p) ? notify(p, SIDE_TX) : 0;
}

static bool cons_fetch(struct shm_priv *p)
{
	const struct ring_desc *d;

	if (p->head == p->c_tail) {
		p->c_tail = __atomic_load_n(&p->ctrl->tail, __ATOMIC_ACQUIRE);
		if (p->head == p->c_tail)
			return false;
	}
	d = &p->desc[p->head & p->mask];
	p->cur_pos = d->pos;
	p->cur_len = d->len;
	return true;
}

static int spin_recv(struct chan *rx, struct chan *tx, const void **buf,
		     size_t *len)
{
	struct shm_priv *p = rx->priv;
	struct spin_area *a = p->map;
	int ret;

	if (tx) {
		ret = shm_flush(tx);
		if (ret)
			return ret;
	}
	while (__atomic_load_n(&a->seq, __ATOMIC_ACQUIRE) == p->spin_seen)
		cpu_relax();
	p->spin_seen++;
	*buf = a->buf;
	*len = rx->cfg.msg_size;
	return 0;
}

static int shm_recv(struct chan *rx, struct chan *tx, const void **buf,
		    size_t *len)
{
	struct shm_priv *p = rx->priv;
	struct shm_priv *t = tx ? tx->priv : NULL;
	bool poll = rx->cfg.wait == WAIT_POLL;
	int ret;

	if (is_spin(rx))
		return spin_recv(rx, tx, buf, len);
	while (!p->cur_len && !cons_fetch(p)) {
		/* Empty: make our releases and the reply visible. */
		ret = cons_flush(p);
		if (ret)
			return ret;
		if (p->kind == NOTIFY_NONE) {
			if (t) {
				ret = shm_flush(tx);
				if (ret)
					return ret;
				t = NULL;
			}
			cpu_relax();
			continue;
		}
		__atomic_store_n(&p->ctrl->cons_flags, NEED_WAKEUP,
				 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (cons_fetch(p)) {
			__atomic_store_n(&p->ctrl->cons_flags, 0,
					 __ATOMIC_RELAXED);
			break;
		}
		ret = sleep_on(p, SIDE_RX, t && prod_publish(t) ? t : NULL,
			       SIDE_RX, poll);
		t = NULL;
		__atomic_store_n(&p->ctrl->cons_flags, 0, __ATOMIC_RELAXED);
		if (ret)
			return ret;
	}
	if (t) {
		ret = shm_flush(tx);
		if (ret)
			return ret;
	}
	*buf = p->pay + (p->cur_pos & (p->pay_size - 1));
	*len = p->cur_len;
	return 0;
}

static int shm_recv_done(struct chan *c)
{
	struct shm_priv *p = c->priv;

	if (is_spin(c))
		return 0;
	p->head++;
	p->pay_head = p->cur_pos + p->cur_len;
	p->cur_len = 0;
	if (++p->unpublished >= c->cfg.publish)
		return cons_flush(p);
	return 0;
}

static void shm_close(struct chan *c)
{
	struct shm_priv *p = c->priv;
	int s;

	if (!p)
		return;
	for (s = 0; s < 2; s++) {
		if (p->ring_mapped[s])
			io_uring_queue_exit(&p->ring[s]);	/* closes the fd */
		else if (p->ring_fd[s] >= 0)
			close(p->ring_fd[s]);
		if (p->efd[s] >= 0)
			close(p->efd[s]);
	}
	if (p->map)
		munmap(p->map, p->map_len);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
	c->priv = NULL;
}

#define SHM_OPS							\
	.open = shm_open_chan,					\
	.map = shm_map,						\
	.attach = shm_attach,					\
	.send_buf = shm_send_buf,				\
	.send = shm_send,					\
	.flush = shm_flush,					\
	.recv = shm_recv,					\
	.recv_done = shm_recv_done,				\
	.close = shm_close

const struct mech mech_spsc_ref = {
	.name = "spsc-ref",
	.desc = "minimal cached-index SPSC ring in a memfd, busy-polling (reference)",
	.flags = M_POLL | M_ZEROCOPY,
	SHM_OPS,
};

const struct mech mech_memfd_eventfd = {
	.name = "memfd-eventfd",
	.desc = "the same ring with NEED_WAKEUP suppression and an eventfd per direction",
	.flags = M_BLOCK | M_ZEROCOPY | M_WAKE,
	SHM_OPS,
};

const struct mech mech_io_uring = {
	.name = "io_uring",
	.desc = "the same ring, doorbell by io_uring (MSG_RING, or eventfd reads)",
	.flags = M_BLOCK | M_POLL | M_ZEROCOPY | M_WAKE,
	.probe = uring_probe,
	SHM_OPS,
};

const struct mech mech_shm_spin = {
	.name = "shm-spin",
	.desc = "raw shared-memory spin ping-pong: one buffer and sequence number per direction",
	.flags = M_POLL | M_ZEROCOPY | M_PINGPONG,
	SHM_OPS,
};
