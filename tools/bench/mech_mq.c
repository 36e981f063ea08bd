// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX message queue: one mq_send() per message (there is no batched
 * send), one mq_receive() per message, both copying.  The queue holds
 * capacity / message size messages (at least 2, at most 1024); with
 * CAP_SYS_RESOURCE that may exceed fs.mqueue.msg_max and msgsize_max
 * (without it, msg_max messages, and sizes above msgsize_max are skipped),
 * and RLIMIT_MSGQUEUE is raised for the large sizes.  Busy-polling opens
 * the queue O_NONBLOCK.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "bench.h"

struct mq_priv {
	mqd_t q;
	unsigned char *sbuf, *rbuf;
};

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

static int mq_probe(char *why, size_t len)
{
	struct rlimit rl = { 512 * MiB, 512 * MiB };
	char name[64];
	mqd_t q;

	/* Best effort: without it the large sizes fail to open (skipped). */
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	snprintf(name, sizeof(name), "/ipcunit-bench-probe-%d", getpid());
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
	if (q == (mqd_t)-1) {
		snprintf(why, len, "mq_open: %s", strerror(errno));
		return -errno;
	}
	mq_close(q);
	mq_unlink(name);
	return 0;
}

static int mq_chan_open(struct chan *c)
{
	static unsigned int seq;
	struct mq_priv *p = calloc(1, sizeof(*p));
	size_t n = c->cfg.cap_bytes / c->cfg.msg_size;
	int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    (c->cfg.wait == WAIT_POLL ? O_NONBLOCK : 0);
	struct mq_attr attr;
	char name[64];

	if (!p)
		return -ENOMEM;
	c->priv = p;
	p->q = (mqd_t)-1;
	memset(&attr, 0, sizeof(attr));
	attr.mq_maxmsg = n < 2 ? 2 : n > 1024 ? 1024 : (long)n;
	attr.mq_msgsize = (long)c->cfg.msg_size;
	snprintf(name, sizeof(name), "/ipcunit-bench-%d-%u", getpid(), seq++);
	p->q = mq_open(name, flags, 0600, &attr);
	if (p->q == (mqd_t)-1 && errno == EINVAL) {
		/* No CAP_SYS_RESOURCE: stay within fs.mqueue.msg_max. */
		long max = (long)sysctl_ulong("/proc/sys/fs/mqueue/msg_max", 10);

		if (attr.mq_maxmsg > max)
			attr.mq_maxmsg = max;
		p->q = mq_open(name, flags, 0600, &attr);
	}
	if (p->q == (mqd_t)-1)
		return -errno;
	mq_unlink(name);
	p->sbuf = aligned_alloc(4096, (c->cfg.msg_size + 4095) & ~4095UL);
	p->rbuf = aligned_alloc(4096, (c->cfg.msg_size + 4095) & ~4095UL);
	return p->sbuf && p->rbuf ? 0 : -ENOMEM;
}

/* One descriptor serves both ends. */
static int mq_attach(struct chan *c, enum side s)
{
	(void)c;
	(void)s;
	return 0;
}

static int mq_send_buf(struct chan *c, void **buf)
{
	*buf = ((struct mq_priv *)c->priv)->sbuf;
	return 0;
}

static int mq_chan_send(struct chan *c)
{
	struct mq_priv *p = c->priv;

	for (;;) {
		if (!SYSC(mq_send(p->q, (const char *)p->sbuf,
				  c->cfg.msg_size, 0)))
			return 0;
		if (errno == EAGAIN)
			cpu_relax();
		else if (errno != EINTR)
			return -errno;
	}
}

static int mq_flush(struct chan *c)
{
	(void)c;
	return 0;
}

static int mq_recv(struct chan *rx, struct chan *tx, const void **buf,
		   size_t *len)
{
	struct mq_priv *p = rx->priv;
	ssize_t n;

	(void)tx;
	for (;;) {
		n = SYSC(mq_receive(p->q, (char *)p->rbuf, rx->cfg.msg_size,
				    NULL));
		if (n >= 0) {
			*buf = p->rbuf;
			*len = (size_t)n;
			return 0;
		}
		if (errno == EAGAIN)
			cpu_relax();
		else if (errno != EINTR)
			return -errno;
	}
}

static int mq_recv_done(struct chan *c)
{
	(void)c;
	return 0;
}

static void mq_chan_close(struct chan *c)
{
	struct mq_priv *p = c->priv;

	if (!p)
		return;
	if (p->q != (mqd_t)-1)
		mq_close(p->q);
	free(p->sbuf);
	free(p->rbuf);
	free(p);
	c->priv = NULL;
}

const struct mech mech_mq = {
	.name = "posix-mq",
	.desc = "POSIX message queue: mq_send()/mq_receive() per message",
	.flags = M_BLOCK | M_POLL | M_WAKE,
	.probe = mq_probe,
	.open = mq_chan_open,
	.attach = mq_attach,
	.send_buf = mq_send_buf,
	.send = mq_chan_send,
	.flush = mq_flush,
	.recv = mq_recv,
	.recv_done = mq_recv_done,
	.close = mq_chan_close,
};
