// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit through libipcunit, three ways:
 *
 *   ipcunit       zero copy: ipcu_reserve() -> write in place ->
 *                 ipcu_commit() ... ipcu_flush() per batch; ipcu_peek() ->
 *                 read in place -> ipcu_release().  Blocking: ipcu_wait(),
 *                 ipcu_wait_space() and, in a ping-pong, ipcu_flush_wait()
 *                 (doorbell and sleep in one call).  Busy-polling: no
 *                 waits, so nobody sets NEED_WAKEUP and nothing rings.
 *   ipcunit-copy  ipcu_send() / ipcu_recv(): the copying convenience path,
 *                 as documented (timeout -1 blocks, 0 polls).
 *   ipcunit-mem   the same inline ring code over a memfd with the same
 *                 layout (ipcu_ep_init_mem()), no kernel: busy-polling
 *                 only, for native runs.
 *
 * Blocking endpoints get spin = 0: a blocking consumer sleeps as soon as
 * the ring is empty, like a blocking read().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ipcunit.h"
#include "bench.h"

struct ipcu_priv {
	struct ipcu_ep ep[2];		/* [SIDE_TX] producer, [SIDE_RX] consumer */
	bool mapped[2];
	int fd[2];			/* endpoint fds between open and map */
	unsigned int unpublished;	/* consumer releases since the last flush */
	void *copy_buf;			/* ipcunit-copy: private message buffer */
	int memfd;			/* ipcunit-mem */
	void *mem;
	size_t mem_len;
};

static int devfd = -1;

static int ipcunit_probe(char *why, size_t len)
{
	struct ipcu_version v;
	int ret;

	if (devfd < 0) {
		devfd = ipcu_open();
		if (devfd < 0) {
			snprintf(why, len, "%s: %s", IPCU_DEVICE_PATH,
				 strerror(-devfd));
			return devfd;
		}
	}
	ret = ipcu_version(devfd, &v);
	if (ret) {
		snprintf(why, len, "IPCU_IOC_VERSION: %s", strerror(-ret));
		return ret;
	}
	if ((v.features & (IPCU_FEAT_CHANNEL | IPCU_FEAT_WAIT)) !=
	    (IPCU_FEAT_CHANNEL | IPCU_FEAT_WAIT)) {
		snprintf(why, len, "module lacks channels or waits");
		return -EOPNOTSUPP;
	}
	return 0;
}

static struct ipcu_priv *priv_new(struct chan *c)
{
	struct ipcu_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fd[0] = p->fd[1] = -1;
	p->memfd = -1;
	p->ep[0].fd = p->ep[1].fd = -1;
	c->priv = p;
	return p;
}

/* CHAN_CREATE and EP_PEER only; the mapping is ipcu_ep_from_fd(). */
static int ipcunit_open(struct chan *c)
{
	struct ipcu_chan_create cc;
	struct ipcu_ep_peer peer;
	struct ipcu_priv *p = priv_new(c);

	if (!p)
		return -ENOMEM;
	if (c->m != &mech_ipcunit) {
		p->copy_buf = aligned_alloc(4096, (c->cfg.msg_size + 4095) &
					    ~4095UL);
		if (!p->copy_buf)
			return -ENOMEM;
	}
	memset(&cc, 0, sizeof(cc));
	cc.ring_entries = c->cfg.entries;
	cc.max_msg = (__u32)c->cfg.msg_size;
	cc.payload_bytes = c->cfg.cap_bytes;
	cc.role = IPCU_ROLE_PRODUCER;
	if (ioctl(devfd, IPCU_IOC_CHAN_CREATE, &cc) < 0)
		return -errno;
	p->fd[SIDE_TX] = cc.fd;
	memset(&peer, 0, sizeof(peer));
	if (ioctl(cc.fd, IPCU_IOC_EP_PEER, &peer) < 0)
		return -errno;
	p->fd[SIDE_RX] = peer.fd;
	return 0;
}

static void set_spin(struct chan *c, struct ipcu_ep *ep)
{
	ep->spin = c->cfg.wait == WAIT_BLOCK ? 0 : IPCU_SPIN_DEFAULT;
}

static int ipcunit_map(struct chan *c)
{
	struct ipcu_priv *p = c->priv;
	int s, ret;

	for (s = 0; s < 2; s++) {
		ret = ipcu_ep_from_fd(p->fd[s], &p->ep[s]);
		if (ret)
			return ret;
		p->fd[s] = -1;		/* the endpoint owns it now */
		p->mapped[s] = true;
		set_spin(c, &p->ep[s]);
	}
	return 0;
}

static int mem_open(struct chan *c)
{
	struct ipcu_priv *p = priv_new(c);

	if (!p)
		return -ENOMEM;
	p->mem_len = ipcu_mem_layout_size(c->cfg.entries,
					  (unsigned int)c->cfg.msg_size,
					  c->cfg.cap_bytes);
	if (!p->mem_len)
		return -EINVAL;
	p->memfd = SYSC(memfd_create("ipcunit-bench", MFD_CLOEXEC));
	if (p->memfd < 0)
		return -errno;
	if (SYSC(ftruncate(p->memfd, (off_t)p->mem_len)) < 0)
		return -errno;
	return 0;
}

static int mem_map(struct chan *c)
{
	struct ipcu_priv *p = c->priv;
	int s, ret;

	p->mem = SYSC(mmap(NULL, p->mem_len, PROT_READ | PROT_WRITE,
			   MAP_SHARED, p->memfd, 0));
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -errno;
	}
	for (s = 0; s < 2; s++) {
		ret = ipcu_ep_init_mem(&p->ep[s], s == SIDE_TX ?
				       IPCU_ROLE_PRODUCER : IPCU_ROLE_CONSUMER,
				       p->mem, c->cfg.entries,
				       (unsigned int)c->cfg.msg_size,
				       c->cfg.cap_bytes);
		if (ret)
			return ret;
		set_spin(c, &p->ep[s]);
	}
	return 0;
}

static int ipcunit_attach(struct chan *c, enum side s)
{
	struct ipcu_priv *p = c->priv;
	int other = s == SIDE_TX ? SIDE_RX : SIDE_TX;

	if (p->mapped[other]) {
		ipcu_ep_close(&p->ep[other]);
		p->mapped[other] = false;
	}
	return 0;
}

static int ipcunit_send_buf(struct chan *c, void **buf)
{
	struct ipcu_ep *ep = &((struct ipcu_priv *)c->priv)->ep[SIDE_TX];
	int ret;

	for (;;) {
		ret = ipcu_reserve(ep, c->cfg.msg_size, buf);
		if (ret != -EAGAIN)
			return ret;
		if (c->cfg.wait == WAIT_BLOCK) {
			ret = ipcu_wait_space(ep, c->cfg.msg_size, -1);
			if (ret)
				return ret;
		} else {
			ret = ipcu_flush(ep);
			if (ret < 0)
				return ret;
			cpu_relax();
		}
	}
}

static int ipcunit_send(struct chan *c)
{
	struct ipcu_ep *ep = &((struct ipcu_priv *)c->priv)->ep[SIDE_TX];

	return ipcu_commit(ep, c->cfg.msg_size, 0);
}

static int ipcunit_flush(struct chan *c)
{
	struct ipcu_ep *ep = &((struct ipcu_priv *)c->priv)->ep[SIDE_TX];
	int ret = ipcu_flush(ep);

	return ret < 0 ? ret : 0;
}

static int ipcunit_recv(struct chan *rx, struct chan *tx, const void **buf,
			size_t *len)
{
	struct ipcu_priv *p = rx->priv;
	struct ipcu_ep *ep = &p->ep[SIDE_RX];
	int ret;

	for (;;) {
		ret = ipcu_peek(ep, buf, len, NULL);
		if (ret != -EAGAIN) {
			if (!ret && tx)
				ret = ipcunit_flush(tx);
			return ret;
		}
		if (rx->cfg.wait == WAIT_POLL) {
			if (tx) {
				ret = ipcunit_flush(tx);
				if (ret)
					return ret;
				tx = NULL;
			}
			ret = ipcu_flush(ep);	/* our releases */
			if (ret < 0)
				return ret;
			cpu_relax();
			continue;
		}
		p->unpublished = 0;
		if (tx)
			ret = ipcu_flush_wait(&((struct ipcu_priv *)tx->priv)->ep[SIDE_TX],
					      ep, -1);
		else
			ret = ipcu_wait(ep, -1);
		tx = NULL;
		if (ret)
			return ret;
	}
}

static int ipcunit_recv_done(struct chan *c)
{
	struct ipcu_priv *p = c->priv;
	int ret = ipcu_release(&p->ep[SIDE_RX]);

	if (!ret && ++p->unpublished >= c->cfg.publish) {
		p->unpublished = 0;
		ret = ipcu_flush(&p->ep[SIDE_RX]);
	}
	return ret < 0 ? ret : 0;
}

/* --- ipcunit-copy ------------------------------------------------------- */

static int copy_send_buf(struct chan *c, void **buf)
{
	*buf = ((struct ipcu_priv *)c->priv)->copy_buf;
	return 0;
}

static int copy_send(struct chan *c)
{
	struct ipcu_priv *p = c->priv;
	int ret;

	for (;;) {
		ret = ipcu_send(&p->ep[SIDE_TX], p->copy_buf, c->cfg.msg_size,
				c->cfg.wait == WAIT_BLOCK ? -1 : 0);
		if (ret != -ETIMEDOUT || c->cfg.wait == WAIT_BLOCK)
			return ret;
		cpu_relax();
	}
}

/* ipcu_send() has published and rung already. */
static int copy_flush(struct chan *c)
{
	(void)c;
	return 0;
}

static int copy_recv(struct chan *rx, struct chan *tx, const void **buf,
		     size_t *len)
{
	struct ipcu_priv *p = rx->priv;
	int ret;

	(void)tx;
	for (;;) {
		ret = ipcu_recv(&p->ep[SIDE_RX], p->copy_buf, rx->cfg.msg_size,
				rx->cfg.wait == WAIT_BLOCK ? -1 : 0);
		if (ret >= 0) {
			*buf = p->copy_buf;
			*len = (size_t)ret;
			return 0;
		}
		if (ret != -ETIMEDOUT || rx->cfg.wait == WAIT_BLOCK)
			return ret;
		cpu_relax();
	}
}

static int copy_recv_done(struct chan *c)
{
	(void)c;
	return 0;
}

static void ipcunit_close(struct chan *c)
{
	struct ipcu_priv *p = c->priv;
	int s;

	if (!p)
		return;
	for (s = 0; s < 2; s++) {
		if (p->mapped[s])
			ipcu_ep_close(&p->ep[s]);
		else if (p->fd[s] >= 0)
			close(p->fd[s]);
	}
	if (p->mem)
		munmap(p->mem, p->mem_len);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p->copy_buf);
	free(p);
	c->priv = NULL;
}

/* ipcunit-mem: both "endpoints" are views of the same mapping. */
static int mem_attach(struct chan *c, enum side s)
{
	(void)c;
	(void)s;
	return 0;
}

const struct mech mech_ipcunit = {
	.name = "ipcunit",
	.desc = "ipcunit channel, zero copy (reserve/commit/flush, peek/release)",
	.flags = M_BLOCK | M_POLL | M_ZEROCOPY | M_MODULE | M_WAKE,
	.probe = ipcunit_probe,
	.open = ipcunit_open,
	.map = ipcunit_map,
	.attach = ipcunit_attach,
	.send_buf = ipcunit_send_buf,
	.send = ipcunit_send,
	.flush = ipcunit_flush,
	.recv = ipcunit_recv,
	.recv_done = ipcunit_recv_done,
	.close = ipcunit_close,
};

const struct mech mech_ipcunit_copy = {
	.name = "ipcunit-copy",
	.desc = "ipcunit channel through ipcu_send()/ipcu_recv() (copies in and out)",
	.flags = M_BLOCK | M_POLL | M_MODULE,
	.probe = ipcunit_probe,
	.open = ipcunit_open,
	.map = ipcunit_map,
	.attach = ipcunit_attach,
	.send_buf = copy_send_buf,
	.send = copy_send,
	.flush = copy_flush,
	.recv = copy_recv,
	.recv_done = copy_recv_done,
	.close = ipcunit_close,
};

const struct mech mech_ipcunit_mem = {
	.name = "ipcunit-mem",
	.desc = "libipcunit's inline ring code over a memfd (ipcu_ep_init_mem), no kernel",
	.flags = M_POLL | M_ZEROCOPY | M_NATIVE_ONLY,
	.open = mem_open,
	.map = mem_map,
	.attach = mem_attach,
	.send_buf = ipcunit_send_buf,
	.send = ipcunit_send,
	.flush = ipcunit_flush,
	.recv = ipcunit_recv,
	.recv_done = ipcunit_recv_done,
	.close = ipcunit_close,
};
