/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ipcunit selftests.
 */
#ifndef _IPCU_TEST_H
#define _IPCU_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ipcunit.h>

/* ioctl() returning 0 or -errno, so tests can ASSERT_EQ(-EINVAL, ...). */
static inline int ipcu_test_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* The same command number with a different encoded structure size. */
#define IPCU_IOC_RESIZE(cmd, size) \
	(((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) | \
	 ((unsigned long)(size) << _IOC_SIZESHIFT))

static inline int ipcu_test_open(int flags)
{
	return open(IPCU_DEVICE_PATH, flags | O_CLOEXEC);
}

/* A page that faults on any access. */
static inline void *ipcu_test_bad_ptr(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? (void *)-4096L : p;
}

/*
 * Read one counter from /sys/kernel/debug/ipcunit/stats, or -1 if debugfs
 * is not there.
 */
static inline long ipcu_test_stat(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/ipcunit/stats", "r");
	char key[64];
	long val, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

/*
 * Helpers for tests that move messages through the user library, fork
 * peers and compare the module's counters.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "ipcunit.h"

/* The module-wide live object counters of /sys/kernel/debug/ipcunit/stats. */
struct ipcu_test_counters {
	long channels;
	long endpoints;
	long regions;
	long pages;
	long users;
};

/* Read them all; -1 if debugfs is not there. */
static inline int ipcu_test_counters_read(struct ipcu_test_counters *c)
{
	c->channels = ipcu_test_stat("channels");
	c->endpoints = ipcu_test_stat("endpoints");
	c->regions = ipcu_test_stat("regions");
	c->pages = ipcu_test_stat("pages");
	c->users = ipcu_test_stat("users");
	return c->channels < 0 || c->endpoints < 0 || c->regions < 0 ||
	       c->pages < 0 || c->users < 0 ? -1 : 0;
}

static inline int ipcu_test_ep_info(int fd, struct ipcu_ep_info *info)
{
	memset(info, 0, sizeof(*info));
	return ipcu_test_ioctl(fd, IPCU_IOC_EP_INFO, info);
}

/*
 * A channel with both endpoints mapped in this process, or -errno.  Fork
 * and ipcu_ep_close() the side a process does not play.
 */
static inline int ipcu_test_pair(struct ipcu_ep *prod, struct ipcu_ep *cons,
				 unsigned int entries, unsigned int max_msg,
				 unsigned long long payload_bytes)
{
	struct ipcu_chan_params p = {
		.ring_entries = entries,
		.max_msg = max_msg,
		.payload_bytes = payload_bytes,
	};
	int dev, ret;

	dev = ipcu_open();
	if (dev < 0)
		return dev;
	ret = ipcu_chan_create(dev, &p, IPCU_ROLE_PRODUCER, prod);
	close(dev);
	if (ret)
		return ret;
	ret = ipcu_ep_peer(prod, cons);
	if (ret)
		ipcu_ep_close(prod);
	return ret;
}

/* Deterministic pseudo-random numbers (splitmix64). */
static inline uint32_t ipcu_test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* FNV-1a, a 32-bit word at a time (any alignment), then the tail bytes. */
static inline uint32_t ipcu_test_csum(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t h = 2166136261U, w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		h = (h ^ w) * 16777619U;
	}
	while (len--)
		h = (h ^ *p++) * 16777619U;
	return h;
}

/*
 * A test message: a header with its sequence number and the checksum of the
 * body, then a body that depends on the sequence number.  At least
 * IPCU_TEST_MSG_MIN bytes long.
 */
struct ipcu_test_msg {
	uint32_t seq;
	uint32_t csum;
};

#define IPCU_TEST_MSG_MIN	((unsigned int)sizeof(struct ipcu_test_msg))

static inline void ipcu_test_msg_fill(void *buf, size_t len, uint32_t seq)
{
	struct ipcu_test_msg hdr = { .seq = seq };
	unsigned char *body = (unsigned char *)buf + sizeof(hdr);
	size_t i, n = len - sizeof(hdr);
	uint32_t w = seq * 0x9e3779b1U + 0x7f4a7c15U;

	for (i = 0; i + 4 <= n; i += 4) {
		w = w * 1664525U + 1013904223U;
		memcpy(body + i, &w, 4);
	}
	for (; i < n; i++)
		body[i] = (unsigned char)(seq + i);
	hdr.csum = ipcu_test_csum(body, n);
	memcpy(buf, &hdr, sizeof(hdr));
}

/* 0 if @buf holds message @seq intact, -1 if not. */
static inline int ipcu_test_msg_check(const void *buf, size_t len,
				      uint32_t seq)
{
	struct ipcu_test_msg hdr;

	if (len < sizeof(hdr))
		return -1;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.seq != seq)
		return -1;
	return hdr.csum == ipcu_test_csum((const unsigned char *)buf +
					  sizeof(hdr), len - sizeof(hdr)) ?
	       0 : -1;
}

/* Memory shared with forked children, for their results. */
static inline void *ipcu_test_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * fork() a child that dies with its parent, so a failing or timed-out test
 * leaves nothing behind.  Children report through their exit status (see
 * IPCU_TEST_CHILD_CHECK), never through the harness's ASSERT_*.
 */
static inline pid_t ipcu_test_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
	}
	return pid;
}

#define IPCU_TEST_CHILD_CHECK(cond, fmt, ...) do {			\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: %s: " fmt "\n",	\
			(int)getpid(), __FILE__, __LINE__, #cond,	\
			##__VA_ARGS__);					\
		_exit(1);						\
	}								\
} while (0)

/* Reap @pid: its exit status, 128 + the signal that killed it, or -1. */
static inline int ipcu_test_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/*
 * Raw channel setup for the validation tests: the ioctls without the user
 * library, so that every field can be set and every errno is seen as is.
 */
#include <dirent.h>
#include <grp.h>

/* IPCU_IOC_CHAN_CREATE: the new endpoint fd, or -errno. */
static inline int ipcu_test_create(int dev, __u32 entries, __u32 max_msg,
				   __u64 payload_bytes, const char *name,
				   __u32 mode, __u32 role)
{
	struct ipcu_chan_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.ring_entries = entries;
	c.max_msg = max_msg;
	c.payload_bytes = payload_bytes;
	c.name = (__u64)(uintptr_t)name;
	c.mode = mode;
	c.role = role;
	ret = ipcu_test_ioctl(dev, IPCU_IOC_CHAN_CREATE, &c);
	return ret ? ret : c.fd;
}

/* IPCU_IOC_CHAN_ATTACH: the new endpoint fd, or -errno. */
static inline int ipcu_test_attach(int dev, const char *name, __u32 role)
{
	struct ipcu_chan_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.name = (__u64)(uintptr_t)name;
	a.role = role;
	ret = ipcu_test_ioctl(dev, IPCU_IOC_CHAN_ATTACH, &a);
	return ret ? ret : a.fd;
}

/* IPCU_IOC_EP_PEER: the new endpoint fd, or -errno. */
static inline int ipcu_test_peer(int fd)
{
	struct ipcu_ep_peer p;
	int ret;

	memset(&p, 0, sizeof(p));
	ret = ipcu_test_ioctl(fd, IPCU_IOC_EP_PEER, &p);
	return ret ? ret : p.fd;
}

/* Open file descriptors of this process, or -1. */
static inline int ipcu_test_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Become @uid/@gid for good, with no supplementary groups (and so with no
 * capabilities): 0 or -errno.  For forked children.
 */
static inline int ipcu_test_become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -errno;
	return 0;
}

/*
 * Reserve, fill and commit test message @seq of @len bytes, tagged @seq;
 * it is published by the next ipcu_flush().
 */
static inline int ipcu_test_put(struct ipcu_ep *ep, uint32_t seq, size_t len)
{
	void *buf;
	int ret;

	ret = ipcu_reserve(ep, len, &buf);
	if (ret)
		return ret;
	ipcu_test_msg_fill(buf, len, seq);
	return ipcu_commit(ep, len, seq);
}

/* Peek, check and release test message @seq: -EBADMSG if not intact. */
static inline int ipcu_test_get(struct ipcu_ep *ep, uint32_t seq)
{
	const void *buf;
	size_t len;
	__u32 tag;
	int ret;

	ret = ipcu_peek(ep, &buf, &len, &tag);
	if (ret)
		return ret;
	if (tag != seq || ipcu_test_msg_check(buf, len, seq))
		return -EBADMSG;
	return ipcu_release(ep);
}

/*
 * Regions: the raw IPCU_IOC_REGION_* / CLONE / SEAL ioctls, so that every
 * errno is seen as is, and the module parameters behind the per-user limits.
 */

/* IPCU_IOC_REGION_CREATE: the new region fd, or -errno. */
static inline int ipcu_test_region_create(int dev, __u64 size,
					  const char *name, __u32 mode)
{
	struct ipcu_region_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = size;
	c.name = (__u64)(uintptr_t)name;
	c.mode = mode;
	ret = ipcu_test_ioctl(dev, IPCU_IOC_REGION_CREATE, &c);
	return ret ? ret : c.fd;
}

/* IPCU_IOC_REGION_ATTACH: the new region fd, or -errno. */
static inline int ipcu_test_region_attach(int dev, const char *name,
					  __u32 flags)
{
	struct ipcu_region_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.name = (__u64)(uintptr_t)name;
	ret = ipcu_test_ioctl(dev, IPCU_IOC_REGION_ATTACH, &a);
	return ret ? ret : a.fd;
}

/* IPCU_IOC_CLONE on a region or endpoint fd: the clone's fd, or -errno. */
static inline int ipcu_test_clone(int fd, __u32 flags)
{
	struct ipcu_clone c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	ret = ipcu_test_ioctl(fd, IPCU_IOC_CLONE, &c);
	return ret ? ret : c.fd;
}

/* IPCU_IOC_SEAL with flags word @arg: 0 or -errno. */
static inline int ipcu_test_seal(int fd, unsigned long arg)
{
	return ioctl(fd, IPCU_IOC_SEAL, arg) < 0 ? -errno : 0;
}

/* IPCU_IOC_REGION_STATS: 0 or -errno. */
static inline int ipcu_test_region_stats(int fd, struct ipcu_region_stats *s)
{
	memset(s, 0, sizeof(*s));
	return ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, s);
}

/* A MAP_SHARED mapping of @pages pages of @fd from page @pgoff. */
static inline void *ipcu_test_map(int fd, size_t pages, int prot,
				  size_t pgoff)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return mmap(NULL, pages * pg, prot, MAP_SHARED, fd,
		    (off_t)(pgoff * pg));
}

#define IPCU_TEST_PARAMS	"/sys/module/ipcunit/parameters/"

/* A module parameter (max_objects_per_user, ...), or -1. */
static inline long long ipcu_test_param_get(const char *name)
{
	char path[128];
	long long val;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), IPCU_TEST_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%lld", &val);
	fclose(f);
	return n == 1 ? val : -1;
}

/* Set a module parameter: 0 or -errno. */
static inline int ipcu_test_param_set(const char *name, long long val)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), IPCU_TEST_PARAMS "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%lld\n", val) < 0)
		ret = -EIO;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/*
 * Snapshot patterns for copy-on-write tests: a writer stores generation g
 * into every 32-bit word of its buffer in ascending order, then g + 1, and
 * so on.  Any instantaneous copy of the buffer is then a run of some g + 1
 * followed by a run of g (either run may be empty).
 */
static inline void ipcu_test_gen_fill(void *buf, size_t len, uint32_t gen)
{
	uint32_t *w = buf;
	size_t i;

	for (i = 0; i < len / 4; i++)
		__atomic_store_n(&w[i], gen, __ATOMIC_RELAXED);
}

/* 0 with the older generation in *@gen if @buf is such a copy, else -1. */
static inline int ipcu_test_gen_check(const void *buf, size_t len,
				      uint32_t *gen)
{
	const uint32_t *w = buf;
	size_t i = 0, n = len / 4;
	uint32_t hi = w[0], lo = w[n - 1];

	if (hi != lo && hi != lo + 1)
		return -1;
	while (i < n && w[i] == hi)
		i++;
	while (i < n && w[i] == lo)
		i++;
	if (i != n)
		return -1;
	if (gen)
		*gen = lo;
	return 0;
}

#endif /* _IPCU_TEST_H */
