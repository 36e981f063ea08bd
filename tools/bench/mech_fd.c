// SPDX-License-Identifier: GPL-2.0
/*
 * Byte-stream and packet file descriptors: pipe, Unix stream socket, Unix
 * seqpacket socket.
 *
 * The producer writes each message into a private staging buffer and one
 * flush() hands the batch to the kernel: one write() of the whole batch
 * for the byte streams, one sendmmsg() for seqpacket (a plain send() for
 * a batch of one).  The consumer receives in bulk into a private buffer of
 * the channel's capacity: read() of whatever is there for the streams
 * (messages have the run's fixed size, so no framing is needed), one
 * recvmmsg() for seqpacket.  Busy-polling uses O_NONBLOCK / MSG_DONTWAIT
 * and retries on EAGAIN.  Buffers are sized to the channel capacity
 * (F_SETPIPE_SZ, SO_SNDBUF(FORCE)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bench.h"

#define SEQ_SLOTS_MAX	256

struct fd_priv {
	int fd[2];		/* [SIDE_TX] write end, [SIDE_RX] read end */
	unsigned char *stage;	/* producer: staged messages */
	size_t stage_cap, stage_len;
	unsigned char *rbuf;	/* consumer: received bytes */
	size_t rcap, rlen, roff;
	struct mmsghdr *mh;	/* seqpacket: one per message slot */
	struct iovec *iov;
	unsigned int slots, nrecv, next;
};

static bool is_seqpacket(const struct chan *c)
{
	return c->m == &mech_unix_seqpacket;
}

static unsigned long sysctl_ulong(const char *path, unsigned long dflt)
{
	unsigned long v = dflt;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static void set_bufs(int fd, size_t bytes)
{
	int v = (int)bytes;

	/* FORCE ignores net.core.[rw]mem_max; it needs CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

static int fd_open(struct chan *c)
{
	size_t msg = c->cfg.msg_size, cap = c->cfg.cap_bytes;
	struct fd_priv *p = calloc(1, sizeof(*p));
	int fds[2], ret;
	unsigned int i;

	if (!p)
		return -ENOMEM;
	c->priv = p;
	p->fd[0] = p->fd[1] = -1;
	if (c->m == &mech_pipe) {
		if (pipe2(fds, O_CLOEXEC))
			return -errno;
		p->fd[SIDE_RX] = fds[0];
		p->fd[SIDE_TX] = fds[1];
		/*
		 * Above fs.pipe-max-size this needs CAP_SYS_RESOURCE; without
		 * it the pipe gets the largest size allowed.
		 */
		if (fcntl(fds[1], F_SETPIPE_SZ, (int)cap) < 0 &&
		    fcntl(fds[1], F_SETPIPE_SZ, (int)sysctl_ulong(
				  "/proc/sys/fs/pipe-max-size", 65536)) < 0)
			return -errno;
	} else {
		if (socketpair(AF_UNIX, (is_seqpacket(c) ? SOCK_SEQPACKET :
					 SOCK_STREAM) | SOCK_CLOEXEC, 0, fds))
			return -errno;
		p->fd[SIDE_TX] = fds[0];
		p->fd[SIDE_RX] = fds[1];
		/* A seqpacket message must fit the send buffer whole. */
		set_bufs(fds[0], cap + msg);
		set_bufs(fds[1], cap + msg);
	}
	if (c->cfg.wait == WAIT_POLL) {
		ret = set_nonblock(p->fd[0]);
		if (!ret)
			ret = set_nonblock(p->fd[1]);
		if (ret)
			return ret;
	}

	p->stage_cap = cap / msg * msg;
	p->stage = aligned_alloc(4096, p->stage_cap);
	if (is_seqpacket(c)) {
		p->slots = (unsigned int)(cap / msg);
		if (p->slots > SEQ_SLOTS_MAX)
			p->slots = SEQ_SLOTS_MAX;
		p->rcap = p->slots * msg;
		p->mh = calloc(p->slots, sizeof(*p->mh));
		p->iov = calloc(p->slots, sizeof(*p->iov));
		if (!p->mh || !p->iov)
			return -ENOMEM;
	} else {
		p->rcap = p->stage_cap;
	}
	p->rbuf = aligned_alloc(4096, p->rcap);
	if (!p->stage || !p->rbuf)
		return -ENOMEM;
	for (i = 0; i < p->slots; i++) {
		p->iov[i].iov_base = p->rbuf + i * msg;
		p->iov[i].iov_len = msg;
		p->mh[i].msg_hdr.msg_iov = &p->iov[i];
		p->mh[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static int fd_attach(struct chan *c, enum side s)
{
	struct fd_priv *p = c->priv;
	int other = s == SIDE_TX ? SIDE_RX : SIDE_TX;

	close(p->fd[other]);
	p->fd[other] = -1;
	return 0;
}

static int write_all(struct chan *c, const unsigned char *buf, size_t len)
{
	struct fd_priv *p = c->priv;
	ssize_t n;

	while (len) {
		n = SYSC(write(p->fd[SIDE_TX], buf, len));
		if (n < 0) {
			if (errno == EAGAIN) {
				cpu_relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int seqpacket_send_all(struct chan *c)
{
	struct fd_priv *p = c->priv;
	size_t msg = c->cfg.msg_size;
	unsigned int n = (unsigned int)(p->stage_len / msg), done = 0, i;
	int flags = c->cfg.wait == WAIT_POLL ? MSG_DONTWAIT : 0;
	struct mmsghdr mh[SEQ_SLOTS_MAX];
	struct iovec iov[SEQ_SLOTS_MAX];
	int r;

	if (n == 1) {
		for (;;) {
			ssize_t s = SYSC(send(p->fd[SIDE_TX], p->stage, msg,
					      flags));

			if (s == (ssize_t)msg)
				return 0;
			if (s >= 0)
				return -EIO;
			if (errno == EAGAIN)
				cpu_relax();
			else if (errno != EINTR)
				return -errno;
		}
	}
	while (done < n) {
		unsigned int k = n - done > SEQ_SLOTS_MAX ? SEQ_SLOTS_MAX :
							   n - done;

		memset(mh, 0, k * sizeof(mh[0]));
		for (i = 0; i < k; i++) {
			iov[i].iov_base = p->stage + (done + i) * msg;
			iov[i].iov_len = msg;
			mh[i].msg_hdr.msg_iov = &iov[i];
			mh[i].msg_hdr.msg_iovlen = 1;
		}
		r = SYSC(sendmmsg(p->fd[SIDE_TX], mh, k, flags));
		if (r < 0) {
			if (errno == EAGAIN)
				cpu_relax();
			else if (errno != EINTR)
				return -errno;
			continue;
		}
		done += (unsigned int)r;
	}
	return 0;
}

static int fd_flush(struct chan *c)
{
	struct fd_priv *p = c->priv;
	int ret;

	if (!p->stage_len)
		return 0;
	ret = is_seqpacket(c) ? seqpacket_send_all(c) :
				write_all(c, p->stage, p->stage_len);
	p->stage_len = 0;
	return ret;
}

static int fd_send_buf(struct chan *c, void **buf)
{
	struct fd_priv *p = c->priv;
	int ret;

	if (p->stage_len + c->cfg.msg_size > p->stage_cap) {
		ret = fd_flush(c);
		if (ret)
			return ret;
	}
	*buf = p->stage + p->stage_len;
	return 0;
}

static int fd_send(struct chan *c)
{
	struct fd_priv *p = c->priv;

	p->stage_len += c->cfg.msg_size;
	return 0;
}

static int stream_recv(struct chan *rx, const void **buf, size_t *len)
{
	struct fd_priv *p = rx->priv;
	size_t msg = rx->cfg.msg_size;
	ssize_t n;

	/*
	 * Everything consumed: start over at the front.  Otherwise a partial
	 * message starts at a multiple of the message size and the buffer is
	 * a multiple of it too, so the rest of the message always fits
	 * behind it: nothing is ever moved.
	 */
	if (p->roff == p->rlen)
		p->roff = p->rlen = 0;
	while (p->rlen - p->roff < msg) {
		n = SYSC(read(p->fd[SIDE_RX], p->rbuf + p->rlen,
			      p->rcap - p->rlen));
		if (n < 0) {
			if (errno == EAGAIN) {
				cpu_relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p->rlen += (size_t)n;
	}
	*buf = p->rbuf + p->roff;
	*len = msg;
	return 0;
}

/*
 * A zero-length entry is the end of file of a SEQPACKET socket.  A
 * non-blocking receive can report it while the peer's last message is
 * still being queued (the kernel checks the queue, then the shutdown
 * state), so it is only believed when nothing else ever arrives.
 */
#define SEQ_EOF_TRIES	100000

static int seqpacket_recv(struct chan *rx, const void **buf, size_t *len)
{
	struct fd_priv *p = rx->priv;
	int flags = rx->cfg.wait == WAIT_POLL ? MSG_DONTWAIT : MSG_WAITFORONE;
	unsigned int eofs = 0;
	int n;

	for (;;) {
		while (p->next < p->nrecv && !p->mh[p->next].msg_len)
			p->next++;
		if (p->next < p->nrecv)
			break;
		n = SYSC(recvmmsg(p->fd[SIDE_RX], p->mh, p->slots, flags,
				  NULL));
		if (n < 0) {
			if (errno == EAGAIN) {
				cpu_relax();
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((n == 0 || !p->mh[0].msg_len) && ++eofs == SEQ_EOF_TRIES)
			return -EPIPE;
		p->nrecv = (unsigned int)n;
		p->next = 0;
	}
	if (p->mh[p->next].msg_hdr.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	*buf = p->iov[p->next].iov_base;
	*len = p->mh[p->next].msg_len;
	return 0;
}

static int fd_recv(struct chan *rx, struct chan *tx, const void **buf,
		   size_t *len)
{
	if (tx) {
		int ret = fd_flush(tx);

		if (ret)
			return ret;
	}
	return is_seqpacket(rx) ? seqpacket_recv(rx, buf, len) :
				  stream_recv(rx, buf, len);
}

static int fd_recv_done(struct chan *c)
{
	struct fd_priv *p = c->priv;

	if (is_seqpacket(c))
		p->next++;
	else
		p->roff += c->cfg.msg_size;
	return 0;
}

static void fd_close(struct chan *c)
{
	struct fd_priv *p = c->priv;

	if (!p)
		return;
	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	free(p->stage);
	free(p->rbuf);
	free(p->mh);
	free(p->iov);
	free(p);
	c->priv = NULL;
}

#define FD_MECH(id, nm, text)						\
const struct mech id = {						\
	.name = nm,							\
	.desc = text,							\
	.flags = M_BLOCK | M_POLL | M_WAKE,				\
	.open = fd_open,						\
	.attach = fd_attach,						\
	.send_buf = fd_send_buf,					\
	.send = fd_send,						\
	.flush = fd_flush,						\
	.recv = fd_recv,						\
	.recv_done = fd_recv_done,					\
	.close = fd_close,						\
}

FD_MECH(mech_pipe, "pipe", "pipe(2): write() per batch, read() in bulk");
FD_MECH(mech_unix_stream, "unix-stream",
	"AF_UNIX SOCK_STREAM socketpair: write() per batch, read() in bulk");
FD_MECH(mech_unix_seqpacket, "unix-seqpacket",
	"AF_UNIX SOCK_SEQPACKET socketpair: send()/sendmmsg() per batch, recvmmsg()");
