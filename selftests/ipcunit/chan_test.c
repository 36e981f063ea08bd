// SPDX-License-Identifier: GPL-2.0
/*
 * The channel ioctls: IPCU_IOC_CHAN_CREATE, IPCU_IOC_CHAN_ATTACH,
 * IPCU_IOC_EP_PEER, IPCU_IOC_EP_INFO, IPCU_IOC_EP_EVENTFD, IPCU_IOC_DOORBELL
 * and IPCU_IOC_WAIT.  One test per validation failure, each asserting the
 * exact errno; failed calls must leave no fd, no channel and no held role
 * behind.
 */
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define PG	((__u64)sysconf(_SC_PAGESIZE))

/* A request that succeeds: producer, 16 entries, one page of payload. */
static void req_init(struct ipcu_chan_create *c)
{
	memset(c, 0, sizeof(*c));
	c->ring_entries = 16;
	c->max_msg = PG / 2;
	c->payload_bytes = PG;
	c->role = IPCU_ROLE_PRODUCER;
}

static int create(int dev, struct ipcu_chan_create *c)
{
	return ipcu_test_ioctl(dev, IPCU_IOC_CHAN_CREATE, c);
}

/* The state bits of an endpoint, or ~0 if EP_INFO fails. */
static __u32 state_of(int fd)
{
	struct ipcu_ep_info info;

	return ipcu_test_ep_info(fd, &info) ? ~0U : info.state;
}

/* poll() revents of @fd without waiting. */
static short revents_of(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

/* FD_CLOEXEC set on @fd? */
static int cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

/* An fd number that is not open. */
static int closed_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

/* Two pages: the first readable and writable, the second PROT_NONE. */
static char *guarded_page(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + PG, PG, PROT_NONE)) {
		munmap(p, 2 * PG);
		return NULL;
	}
	return p;
}

FIXTURE(chan) {
	int dev;
	char name[IPCU_NAME_MAX];
	struct ipcu_chan_create c;
};

FIXTURE_SETUP(chan)
{
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev)
		TH_LOG("open %s: %s", IPCU_DEVICE_PATH, strerror(errno));
	/* Each test runs in its own process: the pid makes names unique. */
	snprintf(self->name, sizeof(self->name), "chan_test-%d", getpid());
	req_init(&self->c);
}

FIXTURE_TEARDOWN(chan)
{
	close(self->dev);
}

/* ---- IPCU_IOC_CHAN_CREATE ---------------------------------------------- */

TEST_F(chan, create_producer)
{
	struct ipcu_ep_info info;

	self->c.fd = -5;
	ASSERT_EQ(0, create(self->dev, &self->c));
	ASSERT_LE(0, self->c.fd);
	EXPECT_TRUE(cloexec(self->c.fd));
	ASSERT_EQ(0, ipcu_test_ep_info(self->c.fd, &info));
	EXPECT_EQ(IPCU_ROLE_PRODUCER, info.role);
	EXPECT_EQ(0, info.state);
	close(self->c.fd);
}

TEST_F(chan, create_consumer)
{
	struct ipcu_ep_info info;

	self->c.role = IPCU_ROLE_CONSUMER;
	ASSERT_EQ(0, create(self->dev, &self->c));
	EXPECT_TRUE(cloexec(self->c.fd));
	ASSERT_EQ(0, ipcu_test_ep_info(self->c.fd, &info));
	EXPECT_EQ(IPCU_ROLE_CONSUMER, info.role);
	close(self->c.fd);
}

TEST_F(chan, create_flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		self->c.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("flag bit %u", bit);
	}
}

TEST_F(chan, create_reserved)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		req_init(&self->c);
		self->c.reserved[i] = 1ULL << (i * 21);
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("reserved[%u]", i);
		self->c.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("reserved[%u] top bit", i);
	}
}

TEST_F(chan, create_role_2)
{
	self->c.role = 2;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_role_u32_max)
{
	self->c.role = UINT32_MAX;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_0)
{
	self->c.ring_entries = 0;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_3)
{
	self->c.ring_entries = 3;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_not_power_of_2)
{
	static const __u32 bad[] = { 6, 24, 1000, 4097, 65535 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.ring_entries = bad[i];
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("ring_entries %u", bad[i]);
	}
}

TEST_F(chan, create_entries_65537)
{
	self->c.ring_entries = 65537;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_131072)
{
	self->c.ring_entries = 131072;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_u32_max)
{
	self->c.ring_entries = UINT32_MAX;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_2_pow_31)
{
	self->c.ring_entries = 1U << 31;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_entries_limits_ok)
{
	self->c.ring_entries = 1;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
	self->c.ring_entries = IPCU_RING_ENTRIES_MAX;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

TEST_F(chan, create_payload_0)
{
	self->c.payload_bytes = 0;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_1)
{
	self->c.payload_bytes = 1;
	self->c.max_msg = 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_page_minus_1)
{
	self->c.payload_bytes = PG - 1;
	self->c.max_msg = 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_page_plus_1)
{
	self->c.payload_bytes = PG + 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

/* A power of two, but smaller than the mmap granularity. */
TEST_F(chan, create_payload_below_page)
{
	self->c.payload_bytes = PG / 2;
	self->c.max_msg = 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_not_power_of_2)
{
	self->c.payload_bytes = 3 * PG;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.payload_bytes = (1ULL << 30) - PG;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_2_pow_31)
{
	self->c.payload_bytes = 1ULL << 31;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

/* Would be 0 if the size were ever truncated to 32 bits. */
TEST_F(chan, create_payload_2_pow_32)
{
	self->c.payload_bytes = 1ULL << 32;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.payload_bytes = (1ULL << 32) + PG;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_2_pow_63)
{
	self->c.payload_bytes = 1ULL << 63;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_u64_max)
{
	self->c.payload_bytes = UINT64_MAX;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_payload_sizes_ok)
{
	__u64 size;

	for (size = PG; size <= 64 * PG; size *= 4) {
		self->c.payload_bytes = size;
		ASSERT_EQ(0, create(self->dev, &self->c))
			TH_LOG("payload_bytes %llu", (unsigned long long)size);
		close(self->c.fd);
	}
}

TEST_F(chan, create_max_msg_0)
{
	self->c.max_msg = 0;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_max_msg_half_plus_1)
{
	self->c.max_msg = self->c.payload_bytes / 2 + 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.payload_bytes = 16 * PG;
	self->c.max_msg = 8 * PG + 1;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_max_msg_payload)
{
	self->c.max_msg = self->c.payload_bytes;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_max_msg_u32_max)
{
	self->c.max_msg = UINT32_MAX;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_max_msg_limits_ok)
{
	self->c.max_msg = 1;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
	self->c.max_msg = self->c.payload_bytes / 2;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

TEST_F(chan, create_mode_bits)
{
	static const __u32 bad[] = { 01000, 02000, 04000, 07777, 010000,
				     0100644, 1U << 31, UINT32_MAX };
	unsigned int i;

	self->c.name = (__u64)(uintptr_t)self->name;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		self->c.mode = bad[i];
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("mode %#o", bad[i]);
	}
	/* The name was never taken. */
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
}

TEST_F(chan, create_mode_without_name)
{
	self->c.mode = 0600;
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.mode = 0;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

TEST_F(chan, create_mode_all_ok)
{
	__u32 mode;

	self->c.name = (__u64)(uintptr_t)self->name;
	for (mode = 0; mode <= 0777; mode += 0111) {
		self->c.mode = mode;
		ASSERT_EQ(0, create(self->dev, &self->c)) TH_LOG("mode %#o", mode);
		close(self->c.fd);
	}
}

TEST_F(chan, create_name_empty)
{
	self->c.name = (__u64)(uintptr_t)"";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

/* 64 bytes without a NUL, right before an unmapped page: all were read. */
TEST_F(chan, create_name_64_bytes)
{
	char *page = guarded_page();
	char *name;

	ASSERT_TRUE(page != NULL);
	name = page + PG - IPCU_NAME_MAX;
	memset(name, 'n', IPCU_NAME_MAX);
	self->c.name = (__u64)(uintptr_t)name;
	EXPECT_EQ(-ENAMETOOLONG, create(self->dev, &self->c));
	munmap(page, 2 * PG);
}

TEST_F(chan, create_name_long)
{
	char name[300];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	self->c.name = (__u64)(uintptr_t)name;
	EXPECT_EQ(-ENAMETOOLONG, create(self->dev, &self->c));
	name[IPCU_NAME_MAX] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, create(self->dev, &self->c));
}

TEST_F(chan, create_name_63_bytes_ok)
{
	char name[IPCU_NAME_MAX];
	int fd;

	memset(name, 'x', sizeof(name));
	memcpy(name, self->name, strlen(self->name));
	name[IPCU_NAME_MAX - 1] = '\0';
	self->c.name = (__u64)(uintptr_t)name;
	ASSERT_EQ(0, create(self->dev, &self->c));
	fd = ipcu_test_attach(self->dev, name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, fd);
	close(fd);
	close(self->c.fd);
}

TEST_F(chan, create_name_all_valid_chars)
{
	char name[IPCU_NAME_MAX];
	int fd;

	snprintf(name, sizeof(name), "AZaz09._-%d", getpid());
	self->c.name = (__u64)(uintptr_t)name;
	ASSERT_EQ(0, create(self->dev, &self->c));
	fd = ipcu_test_attach(self->dev, name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, fd);
	close(fd);
	close(self->c.fd);
	/* A name may be a single character, even "." or "-". */
	self->c.name = (__u64)(uintptr_t)".";
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
	self->c.name = (__u64)(uintptr_t)"-";
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

TEST_F(chan, create_name_slash)
{
	self->c.name = (__u64)(uintptr_t)"a/b";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.name = (__u64)(uintptr_t)"/";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_name_space)
{
	self->c.name = (__u64)(uintptr_t)"a b";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
	self->c.name = (__u64)(uintptr_t)" ";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_name_newline)
{
	self->c.name = (__u64)(uintptr_t)"name\n";
	EXPECT_EQ(-EINVAL, create(self->dev, &self->c));
}

TEST_F(chan, create_name_punctuation)
{
	static const char bad[] = "\t\r\x01\x1b\x7f!\"#$%&'()*+,:;<=>?@[\\]^`{|}~";
	char name[8];
	unsigned int i;

	for (i = 0; i < sizeof(bad) - 1; i++) {
		snprintf(name, sizeof(name), "ab%cc", bad[i]);
		self->c.name = (__u64)(uintptr_t)name;
		EXPECT_EQ(-EINVAL, create(self->dev, &self->c))
			TH_LOG("character %#x", (unsigned char)bad[i]);
	}
}

/* Names are ASCII: bytes above 0x7f are not [A-Za-z0-9._-]. */
TEST_F(chan, create_name_non_ascii)
{
	static const unsigned char bad[] = { 0x80, 0xa0, 0xaa, 0xc0, 0xe9, 0xff };
	char name[8];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bad); i++) {
		snprintf(name, sizeof(name), "ab%cc", bad[i]);
		self->c.name = (__u64)(uintptr_t)name;
		ret = create(self->dev, &self->c);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("byte %#x", bad[i]);
		if (!ret)
			close(self->c.fd);
	}
}

TEST_F(chan, create_name_pointer_1)
{
	self->c.name = 1;
	EXPECT_EQ(-EFAULT, create(self->dev, &self->c));
}

TEST_F(chan, create_name_unmapped)
{
	self->c.name = (__u64)(uintptr_t)ipcu_test_bad_ptr();
	EXPECT_EQ(-EFAULT, create(self->dev, &self->c));
}

TEST_F(chan, create_name_kernel_pointer)
{
	self->c.name = 0xffffffff81000000ULL;
	EXPECT_EQ(-EFAULT, create(self->dev, &self->c));
	self->c.name = 1ULL << 63;
	EXPECT_EQ(-EFAULT, create(self->dev, &self->c));
}

/* A name that runs into an unmapped page before its NUL. */
TEST_F(chan, create_name_unterminated)
{
	char *page = guarded_page();
	char *name;

	ASSERT_TRUE(page != NULL);
	name = page + PG - 10;
	memset(name, 'n', 10);
	self->c.name = (__u64)(uintptr_t)name;
	EXPECT_EQ(-EFAULT, create(self->dev, &self->c));
	munmap(page, 2 * PG);
}

TEST_F(chan, create_name_duplicate)
{
	struct ipcu_test_counters before, after;
	int fd, fds, cons;

	self->c.name = (__u64)(uintptr_t)self->name;
	self->c.mode = 0600;
	ASSERT_EQ(0, create(self->dev, &self->c));
	fd = self->c.fd;

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	fds = ipcu_test_fd_count();
	EXPECT_EQ(-EEXIST, create(self->dev, &self->c));
	self->c.role = IPCU_ROLE_CONSUMER;
	EXPECT_EQ(-EEXIST, create(self->dev, &self->c));
	/* Nothing left behind by the failed creates. */
	EXPECT_EQ(fds, ipcu_test_fd_count());
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
	EXPECT_EQ(before.endpoints, after.endpoints);
	EXPECT_EQ(before.pages, after.pages);
	EXPECT_EQ(before.users, after.users);

	/* The first channel still owns the name. */
	EXPECT_EQ(0, state_of(fd));
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(fd));
	close(cons);
	close(fd);
}

TEST_F(chan, create_name_reuse_after_close)
{
	int fd;

	self->c.name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, create(self->dev, &self->c));
	fd = self->c.fd;
	close(fd);
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
	/* Also after both endpoints of the channel were held and closed. */
	ASSERT_EQ(0, create(self->dev, &self->c));
	fd = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, fd);
	close(self->c.fd);
	EXPECT_EQ(-EEXIST, create(self->dev, &self->c));
	close(fd);
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

/* A mapping keeps the channel, and so its name, alive. */
TEST_F(chan, create_name_held_by_mapping)
{
	void *map;

	self->c.name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, create(self->dev, &self->c));
	map = mmap(NULL, PG, PROT_READ, MAP_SHARED, self->c.fd, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	close(self->c.fd);
	EXPECT_EQ(-EEXIST, create(self->dev, &self->c));
	munmap(map, PG);
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

/* Unnamed channels share no namespace: any number may exist. */
TEST_F(chan, create_unnamed_many)
{
	int fds[8];
	unsigned int i;

	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, create(self->dev, &self->c));
		fds[i] = self->c.fd;
	}
	for (i = 0; i < 8; i++)
		close(fds[i]);
}

TEST_F(chan, create_emfile)
{
	struct ipcu_test_counters before, after;
	struct rlimit old, rl;

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	rl = old;
	/* Every descriptor below the lowest free one is in use. */
	rl.rlim_cur = closed_fd();
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_EQ(-EMFILE, create(self->dev, &self->c));
	self->c.name = (__u64)(uintptr_t)self->name;
	EXPECT_EQ(-EMFILE, create(self->dev, &self->c));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));

	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
	EXPECT_EQ(before.endpoints, after.endpoints);
	EXPECT_EQ(before.pages, after.pages);
	EXPECT_EQ(before.users, after.users);
	/* The name was not taken. */
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
}

TEST_F(chan, create_readonly_device)
{
	int dev = ipcu_test_open(O_RDONLY);

	ASSERT_LE(0, dev);
	self->c.name = (__u64)(uintptr_t)self->name;
	EXPECT_EQ(-EBADF, create(dev, &self->c));
	close(dev);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
}

/* The result cannot be written back: no fd, no channel, no name. */
TEST_F(chan, create_copyout_fault)
{
	struct ipcu_test_counters before, after;
	struct ipcu_chan_create *c;
	int fds;

	c = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(c != MAP_FAILED);
	req_init(c);
	c->name = (__u64)(uintptr_t)self->name;
	c->mode = 0600;
	ASSERT_EQ(0, mprotect(c, PG, PROT_READ));

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	fds = ipcu_test_fd_count();
	EXPECT_EQ(-EFAULT, create(self->dev, c));
	EXPECT_EQ(fds, ipcu_test_fd_count());
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
	EXPECT_EQ(before.endpoints, after.endpoints);
	EXPECT_EQ(before.pages, after.pages);
	EXPECT_EQ(before.users, after.users);

	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
	req_init(&self->c);
	self->c.name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, create(self->dev, &self->c));
	close(self->c.fd);
	munmap(c, PG);
}

/* ---- IPCU_IOC_CHAN_ATTACH ---------------------------------------------- */

static int attach_raw(int dev, struct ipcu_chan_attach *a)
{
	return ipcu_test_ioctl(dev, IPCU_IOC_CHAN_ATTACH, a);
}

/* A named producer for the attach tests. */
static int named_producer(FIXTURE_DATA(chan) *self)
{
	self->c.name = (__u64)(uintptr_t)self->name;
	self->c.mode = 0600;
	return create(self->dev, &self->c) ? -1 : self->c.fd;
}

TEST_F(chan, attach_consumer)
{
	struct ipcu_ep_info info;
	int prod, cons;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	EXPECT_TRUE(cloexec(cons));
	ASSERT_EQ(0, ipcu_test_ep_info(cons, &info));
	EXPECT_EQ(IPCU_ROLE_CONSUMER, info.role);
	EXPECT_EQ(self->c.ring_entries, info.ring_entries);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, info.state);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));
	close(cons);
	close(prod);
}

TEST_F(chan, attach_producer)
{
	int prod, cons;

	self->c.role = IPCU_ROLE_CONSUMER;
	cons = named_producer(self);
	ASSERT_LE(0, cons);
	prod = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons));
	close(cons);
	close(prod);
}

TEST_F(chan, attach_unknown_name)
{
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_PRODUCER));
}

/* Names are exact: no prefix or case folding. */
TEST_F(chan, attach_similar_name)
{
	char name[IPCU_NAME_MAX + 8];
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	snprintf(name, sizeof(name), "%sx", self->name);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, name,
					    IPCU_ROLE_CONSUMER));
	snprintf(name, sizeof(name), "%s", self->name);
	name[strlen(name) - 1] = '\0';
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, name,
					    IPCU_ROLE_CONSUMER));
	snprintf(name, sizeof(name), "%s", self->name);
	name[0] = 'C';
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, name,
					    IPCU_ROLE_CONSUMER));
	close(prod);
}

TEST_F(chan, attach_role_held_by_creator)
{
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	EXPECT_EQ(-EBUSY, ipcu_test_attach(self->dev, self->name,
					   IPCU_ROLE_PRODUCER));
	close(prod);
}

TEST_F(chan, attach_role_held_by_attacher)
{
	int prod, cons;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	EXPECT_EQ(-EBUSY, ipcu_test_attach(self->dev, self->name,
					   IPCU_ROLE_CONSUMER));
	close(cons);
	close(prod);
}

/* A dup()ed or inherited fd is the same open file: still one holder. */
TEST_F(chan, attach_role_held_by_dup)
{
	int prod, cons, dup_fd;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	dup_fd = dup(cons);
	ASSERT_LE(0, dup_fd);
	close(cons);
	EXPECT_EQ(-EBUSY, ipcu_test_attach(self->dev, self->name,
					   IPCU_ROLE_CONSUMER));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));
	close(dup_fd);
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(prod));
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, cons);
	close(cons);
	close(prod);
}

TEST_F(chan, attach_after_close)
{
	int prod, cons, i;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	for (i = 0; i < 3; i++) {
		cons = ipcu_test_attach(self->dev, self->name,
					IPCU_ROLE_CONSUMER);
		ASSERT_LE(0, cons) TH_LOG("round %d", i);
		close(cons);
	}
	/* The creator's role too, while the channel lives on. */
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	close(prod);
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(cons));
	prod = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons));
	close(prod);
	close(cons);
}

/* The role is released only once the last mapping is gone too. */
TEST_F(chan, attach_role_held_by_mapping)
{
	int prod, cons;
	void *map;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	map = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, cons, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	close(cons);
	EXPECT_EQ(-EBUSY, ipcu_test_attach(self->dev, self->name,
					   IPCU_ROLE_CONSUMER));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));
	ASSERT_EQ(0, munmap(map, PG));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(prod));
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, cons);
	close(cons);
	close(prod);
}

TEST_F(chan, attach_after_channel_died)
{
	int prod, cons;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	close(prod);
	close(cons);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_PRODUCER));
}

TEST_F(chan, attach_flags)
{
	struct ipcu_chan_attach a;
	unsigned int bit;
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	for (bit = 0; bit < 32; bit++) {
		memset(&a, 0, sizeof(a));
		a.flags = 1U << bit;
		a.role = IPCU_ROLE_CONSUMER;
		a.name = (__u64)(uintptr_t)self->name;
		EXPECT_EQ(-EINVAL, attach_raw(self->dev, &a))
			TH_LOG("flag bit %u", bit);
	}
	/* None of them took the role. */
	EXPECT_EQ(0, state_of(prod));
	close(prod);
}

TEST_F(chan, attach_pad)
{
	struct ipcu_chan_attach a;
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	memset(&a, 0, sizeof(a));
	a.role = IPCU_ROLE_CONSUMER;
	a.name = (__u64)(uintptr_t)self->name;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, attach_raw(self->dev, &a));
	a.pad = 1U << 31;
	EXPECT_EQ(-EINVAL, attach_raw(self->dev, &a));
	EXPECT_EQ(0, state_of(prod));
	close(prod);
}

TEST_F(chan, attach_reserved)
{
	struct ipcu_chan_attach a;
	unsigned int i;
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	for (i = 0; i < 5; i++) {
		memset(&a, 0, sizeof(a));
		a.role = IPCU_ROLE_CONSUMER;
		a.name = (__u64)(uintptr_t)self->name;
		a.reserved[i] = 1ULL << (i * 13);
		EXPECT_EQ(-EINVAL, attach_raw(self->dev, &a))
			TH_LOG("reserved[%u]", i);
	}
	EXPECT_EQ(0, state_of(prod));
	close(prod);
}

TEST_F(chan, attach_role_2)
{
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, self->name, 2));
	close(prod);
}

TEST_F(chan, attach_role_u32_max)
{
	int prod;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, self->name,
					    UINT32_MAX));
	close(prod);
}

TEST_F(chan, attach_name_null)
{
	EXPECT_EQ(-EFAULT, ipcu_test_attach(self->dev, NULL,
					    IPCU_ROLE_CONSUMER));
}

TEST_F(chan, attach_name_unmapped)
{
	EXPECT_EQ(-EFAULT, ipcu_test_attach(self->dev, ipcu_test_bad_ptr(),
					    IPCU_ROLE_CONSUMER));
}

TEST_F(chan, attach_name_empty)
{
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, "",
					    IPCU_ROLE_CONSUMER));
}

TEST_F(chan, attach_name_too_long)
{
	char name[IPCU_NAME_MAX + 1];

	memset(name, 'x', IPCU_NAME_MAX);
	name[IPCU_NAME_MAX] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, ipcu_test_attach(self->dev, name,
						  IPCU_ROLE_CONSUMER));
}

TEST_F(chan, attach_name_bad_char)
{
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, "a/b",
					    IPCU_ROLE_CONSUMER));
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, "a b",
					    IPCU_ROLE_CONSUMER));
	EXPECT_EQ(-EINVAL, ipcu_test_attach(self->dev, "a\n",
					    IPCU_ROLE_CONSUMER));
}

TEST_F(chan, attach_readonly_device)
{
	int prod, dev;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	dev = ipcu_test_open(O_RDONLY);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-EBADF, ipcu_test_attach(dev, self->name,
					   IPCU_ROLE_CONSUMER));
	close(dev);
	EXPECT_EQ(0, state_of(prod));
	close(prod);
}

TEST_F(chan, attach_emfile)
{
	struct rlimit old, rl;
	int prod, cons;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	rl = old;
	rl.rlim_cur = closed_fd();
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_EQ(-EMFILE, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	/* The role was never taken, and nobody left. */
	EXPECT_EQ(0, state_of(prod));
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, cons);
	close(cons);
	close(prod);
}

/* The new fd cannot be written back: no fd, and the role stays free. */
TEST_F(chan, attach_copyout_fault)
{
	struct ipcu_test_counters before, after;
	struct ipcu_chan_attach *a;
	int prod, cons, fds;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(a != MAP_FAILED);
	a->role = IPCU_ROLE_CONSUMER;
	a->name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, mprotect(a, PG, PROT_READ));

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	fds = ipcu_test_fd_count();
	EXPECT_EQ(-EFAULT, attach_raw(self->dev, a));
	EXPECT_EQ(fds, ipcu_test_fd_count());
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
	EXPECT_EQ(before.endpoints, after.endpoints);
	EXPECT_EQ(before.pages, after.pages);

	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	EXPECT_LE(0, cons);
	close(cons);
	close(prod);
	munmap(a, PG);
}

/*
 * An endpoint that never reached user space was never a peer: its
 * disposal must not look like a departure to the other side.
 */
TEST_F(chan, attach_copyout_fault_no_hangup)
{
	struct ipcu_ep_eventfd e = { .event = IPCU_EV_PEER_GONE };
	struct ipcu_chan_attach *a;
	eventfd_t count = 0;
	int prod, efd;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	e.fd = efd;
	ASSERT_EQ(0, ipcu_test_ioctl(prod, IPCU_IOC_EP_EVENTFD, &e));
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(a != MAP_FAILED);
	a->role = IPCU_ROLE_CONSUMER;
	a->name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, mprotect(a, PG, PROT_READ));

	EXPECT_EQ(-EFAULT, attach_raw(self->dev, a));
	EXPECT_EQ(0, state_of(prod));
	EXPECT_EQ(0, revents_of(prod) & POLLHUP);
	EXPECT_EQ(-1, eventfd_read(efd, &count)) TH_LOG("PEER_GONE fired");
	close(efd);
	close(prod);
	munmap(a, PG);
}

/*
 * After the peer has left, a failed claim of its role (the fd never reached
 * user space) must leave the other side as it was: still PEER_GONE, still
 * hung up, and no second departure event.  A claim that succeeds then
 * reconnects the channel.
 */
TEST_F(chan, attach_copyout_fault_after_departure)
{
	struct ipcu_ep_eventfd e = { .event = IPCU_EV_PEER_GONE };
	struct ipcu_chan_attach *a;
	eventfd_t count = 0;
	int prod, cons, efd;

	prod = named_producer(self);
	ASSERT_LE(0, prod);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	e.fd = efd;
	ASSERT_EQ(0, ipcu_test_ioctl(prod, IPCU_IOC_EP_EVENTFD, &e));
	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	close(cons);
	ASSERT_EQ(IPCU_STATE_PEER_GONE, state_of(prod));
	ASSERT_EQ(0, eventfd_read(efd, &count));
	ASSERT_EQ(1, count);

	a = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(a != MAP_FAILED);
	a->role = IPCU_ROLE_CONSUMER;
	a->name = (__u64)(uintptr_t)self->name;
	ASSERT_EQ(0, mprotect(a, PG, PROT_READ));
	EXPECT_EQ(-EFAULT, attach_raw(self->dev, a));
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(prod));
	EXPECT_EQ(POLLHUP, revents_of(prod) & POLLHUP);
	EXPECT_EQ(-1, eventfd_read(efd, &count)) TH_LOG("PEER_GONE fired again");

	cons = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, cons);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));
	EXPECT_EQ(0, revents_of(prod) & POLLHUP);
	close(cons);
	close(efd);
	close(prod);
	munmap(a, PG);
}

/* ---- IPCU_IOC_EP_PEER -------------------------------------------------- */

TEST_F(chan, peer_of_producer)
{
	struct ipcu_ep_info pi, ci;
	int cons;

	ASSERT_EQ(0, create(self->dev, &self->c));
	cons = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, cons);
	EXPECT_TRUE(cloexec(cons));
	ASSERT_EQ(0, ipcu_test_ep_info(self->c.fd, &pi));
	ASSERT_EQ(0, ipcu_test_ep_info(cons, &ci));
	EXPECT_EQ(IPCU_ROLE_PRODUCER, pi.role);
	EXPECT_EQ(IPCU_ROLE_CONSUMER, ci.role);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, pi.state);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, ci.state);
	EXPECT_EQ(pi.ring_entries, ci.ring_entries);
	EXPECT_EQ(pi.payload_bytes, ci.payload_bytes);
	EXPECT_EQ(pi.map_bytes, ci.map_bytes);
	close(cons);
	close(self->c.fd);
}

TEST_F(chan, peer_of_consumer)
{
	struct ipcu_ep_info info;
	int prod;

	self->c.role = IPCU_ROLE_CONSUMER;
	ASSERT_EQ(0, create(self->dev, &self->c));
	prod = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, prod);
	EXPECT_TRUE(cloexec(prod));
	ASSERT_EQ(0, ipcu_test_ep_info(prod, &info));
	EXPECT_EQ(IPCU_ROLE_PRODUCER, info.role);
	close(prod);
	close(self->c.fd);
}

/* Both endpoints are one channel: the pages are the same. */
TEST_F(chan, peer_shares_pages)
{
	volatile __u32 *pw, *cr;
	int cons;

	ASSERT_EQ(0, create(self->dev, &self->c));
	cons = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, cons);
	pw = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->c.fd, PG);
	ASSERT_TRUE(pw != MAP_FAILED);
	cr = mmap(NULL, PG, PROT_READ, MAP_SHARED, cons, PG);
	ASSERT_TRUE(cr != MAP_FAILED);
	pw[3] = 0x5a5aa5a5;
	EXPECT_EQ(0x5a5aa5a5, cr[3]);
	munmap((void *)pw, PG);
	munmap((void *)cr, PG);
	close(cons);
	close(self->c.fd);
}

TEST_F(chan, peer_busy)
{
	int cons;

	ASSERT_EQ(0, create(self->dev, &self->c));
	cons = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, cons);
	EXPECT_EQ(-EBUSY, ipcu_test_peer(self->c.fd));
	EXPECT_EQ(-EBUSY, ipcu_test_peer(cons));
	close(cons);
	close(self->c.fd);
}

TEST_F(chan, peer_after_close)
{
	int cons, i;

	ASSERT_EQ(0, create(self->dev, &self->c));
	for (i = 0; i < 3; i++) {
		cons = ipcu_test_peer(self->c.fd);
		ASSERT_LE(0, cons) TH_LOG("round %d", i);
		EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(self->c.fd));
		close(cons);
		EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(self->c.fd));
	}
	close(self->c.fd);
}

TEST_F(chan, peer_flags)
{
	struct ipcu_ep_peer p;
	unsigned int bit;

	ASSERT_EQ(0, create(self->dev, &self->c));
	for (bit = 0; bit < 32; bit++) {
		memset(&p, 0, sizeof(p));
		p.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_PEER,
						   &p)) TH_LOG("flag bit %u", bit);
	}
	EXPECT_EQ(0, state_of(self->c.fd));
	close(self->c.fd);
}

TEST_F(chan, peer_reserved)
{
	struct ipcu_ep_peer p;
	unsigned int i;

	ASSERT_EQ(0, create(self->dev, &self->c));
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.reserved[i] = 1ULL << (i * 29);
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_PEER,
						   &p)) TH_LOG("reserved[%u]", i);
	}
	EXPECT_EQ(0, state_of(self->c.fd));
	close(self->c.fd);
}

/* The fd field is output only: whatever it holds on input is ignored. */
TEST_F(chan, peer_fd_input_ignored)
{
	struct ipcu_ep_peer p;

	ASSERT_EQ(0, create(self->dev, &self->c));
	memset(&p, 0, sizeof(p));
	p.fd = -77;
	ASSERT_EQ(0, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_PEER, &p));
	EXPECT_LE(0, p.fd);
	close(p.fd);
	close(self->c.fd);
}

TEST_F(chan, peer_emfile)
{
	struct rlimit old, rl;
	int cons;

	ASSERT_EQ(0, create(self->dev, &self->c));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	rl = old;
	rl.rlim_cur = closed_fd();
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_EQ(-EMFILE, ipcu_test_peer(self->c.fd));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(0, state_of(self->c.fd));
	cons = ipcu_test_peer(self->c.fd);
	EXPECT_LE(0, cons);
	close(cons);
	close(self->c.fd);
}

TEST_F(chan, peer_copyout_fault)
{
	struct ipcu_test_counters before, after;
	struct ipcu_ep_peer *p;
	int cons, fds;

	ASSERT_EQ(0, create(self->dev, &self->c));
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	fds = ipcu_test_fd_count();
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_PEER, p));
	EXPECT_EQ(fds, ipcu_test_fd_count());
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
	EXPECT_EQ(before.endpoints, after.endpoints);
	EXPECT_EQ(before.pages, after.pages);

	cons = ipcu_test_peer(self->c.fd);
	EXPECT_LE(0, cons);
	close(cons);
	close(self->c.fd);
	munmap(p, PG);
}

TEST_F(chan, peer_copyout_fault_no_hangup)
{
	struct ipcu_ep_eventfd e = { .event = IPCU_EV_PEER_GONE };
	eventfd_t count = 0;
	void *p;
	int efd;

	ASSERT_EQ(0, create(self->dev, &self->c));
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	e.fd = efd;
	ASSERT_EQ(0, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_EVENTFD, &e));
	p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);

	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_PEER, p));
	EXPECT_EQ(0, state_of(self->c.fd));
	EXPECT_EQ(0, revents_of(self->c.fd) & POLLHUP);
	EXPECT_EQ(-1, eventfd_read(efd, &count)) TH_LOG("PEER_GONE fired");
	close(efd);
	close(self->c.fd);
	munmap(p, PG);
}

/* ---- IPCU_IOC_EP_INFO -------------------------------------------------- */

static const struct {
	__u32 entries;
	__u32 max_msg;
	__u32 payload_pages;
} geometries[] = {
	{ 1, 1, 1 },
	{ 16, 2048, 1 },
	{ 255 + 1, 100, 4 },	/* descriptors fill exactly one page */
	{ 512, 4096, 16 },
	{ 4096, 1, 2 },
	{ 65536, 65536, 64 },
};

static int disjoint(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a + alen <= b || b + blen <= a;
}

TEST_F(chan, info_layout)
{
	unsigned int i, role;

	for (i = 0; i < ARRAY_SIZE(geometries); i++) {
		for (role = 0; role < 2; role++) {
			__u64 off[4], len[4];
			struct ipcu_ep_info info;
			unsigned int a, b;

			req_init(&self->c);
			self->c.ring_entries = geometries[i].entries;
			self->c.max_msg = geometries[i].max_msg;
			self->c.payload_bytes = geometries[i].payload_pages * PG;
			self->c.role = role;
			ASSERT_EQ(0, create(self->dev, &self->c))
				TH_LOG("geometry %u", i);

			/* Output fields are overwritten, pad included. */
			memset(&info, 0xa5, sizeof(info));
			info.flags = 0;
			memset(info.reserved, 0, sizeof(info.reserved));
			ASSERT_EQ(0, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_INFO,
						     &info));
			close(self->c.fd);

			EXPECT_EQ(role, info.role);
			EXPECT_EQ(geometries[i].entries, info.ring_entries);
			EXPECT_EQ(geometries[i].max_msg, info.max_msg);
			EXPECT_EQ(self->c.payload_bytes, info.payload_bytes);
			EXPECT_EQ(0, info.state);
			EXPECT_EQ(0, info.pad);
			EXPECT_EQ(0, info.doorbells);
			EXPECT_EQ(0, info.sleeps);
			EXPECT_EQ(0, info.flags);
			EXPECT_EQ(0, info.reserved[0] | info.reserved[1]);

			off[0] = info.cons_ctrl_off;
			len[0] = PG;
			off[1] = info.prod_ctrl_off;
			len[1] = PG;
			off[2] = info.desc_off;
			len[2] = info.desc_bytes;
			off[3] = info.payload_off;
			len[3] = info.payload_bytes;
			EXPECT_EQ(0, info.desc_bytes % PG);
			EXPECT_LE((__u64)info.ring_entries *
				  sizeof(struct ipcu_desc), info.desc_bytes);
			EXPECT_GT((__u64)info.ring_entries *
				  sizeof(struct ipcu_desc) + PG, info.desc_bytes);
			EXPECT_EQ(0, info.map_bytes % PG);
			for (a = 0; a < 4; a++) {
				EXPECT_EQ(0, off[a] % PG) TH_LOG("area %u", a);
				EXPECT_LE(off[a] + len[a], info.map_bytes)
					TH_LOG("area %u", a);
				for (b = a + 1; b < 4; b++)
					EXPECT_TRUE(disjoint(off[a], len[a],
							     off[b], len[b]))
						TH_LOG("areas %u and %u", a, b);
			}
		}
	}
}

TEST_F(chan, info_state_transitions)
{
	int prod, cons;
	void *map;

	ASSERT_EQ(0, create(self->dev, &self->c));
	prod = self->c.fd;
	EXPECT_EQ(0, state_of(prod));

	cons = ipcu_test_peer(prod);
	ASSERT_LE(0, cons);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons));

	close(cons);
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(prod));

	/* A new holder clears "gone". */
	cons = ipcu_test_peer(prod);
	ASSERT_LE(0, cons);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(prod));

	/* The producer departs while its mapping lives on: still present. */
	map = mmap(NULL, PG, PROT_READ, MAP_SHARED, prod, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	close(prod);
	EXPECT_EQ(IPCU_STATE_PEER_PRESENT, state_of(cons));
	munmap(map, PG);
	EXPECT_EQ(IPCU_STATE_PEER_GONE, state_of(cons));
	close(cons);
}

TEST_F(chan, info_flags)
{
	struct ipcu_ep_info info;
	unsigned int bit;

	ASSERT_EQ(0, create(self->dev, &self->c));
	for (bit = 0; bit < 32; bit++) {
		memset(&info, 0, sizeof(info));
		info.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_INFO,
						   &info)) TH_LOG("flag bit %u", bit);
	}
	close(self->c.fd);
}

TEST_F(chan, info_reserved)
{
	struct ipcu_ep_info info;
	unsigned int i;

	ASSERT_EQ(0, create(self->dev, &self->c));
	for (i = 0; i < 2; i++) {
		memset(&info, 0, sizeof(info));
		info.reserved[i] = 1ULL << 40;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->c.fd, IPCU_IOC_EP_INFO,
						   &info)) TH_LOG("reserved[%u]", i);
	}
	close(self->c.fd);
}

TEST_F(chan, info_doorbells)
{
	struct ipcu_ep_info pi, ci;
	int cons, i;

	ASSERT_EQ(0, create(self->dev, &self->c));
	cons = ipcu_test_peer(self->c.fd);
	ASSERT_LE(0, cons);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ipcu_test_ioctl(self->c.fd, IPCU_IOC_DOORBELL, NULL));
	ASSERT_EQ(0, ipcu_test_ioctl(cons, IPCU_IOC_DOORBELL, NULL));
	ASSERT_EQ(0, ipcu_test_ep_info(self->c.fd, &pi));
	ASSERT_EQ(0, ipcu_test_ep_info(cons, &ci));
	EXPECT_EQ(3, pi.doorbells);
	EXPECT_EQ(1, ci.doorbells);
	EXPECT_EQ(0, pi.sleeps);
	EXPECT_EQ(0, ci.sleeps);
	close(cons);
	close(self->c.fd);
}

/* ---- IPCU_IOC_EP_EVENTFD ----------------------------------------------- */

FIXTURE(ep) {
	int prod;
	int cons;
	int efd;
};

FIXTURE_SETUP(ep)
{
	int dev = ipcu_test_open(O_RDWR);
	struct ipcu_chan_create c;

	ASSERT_LE(0, dev);
	req_init(&c);
	ASSERT_EQ(0, create(dev, &c));
	close(dev);
	self->prod = c.fd;
	self->cons = ipcu_test_peer(self->prod);
	ASSERT_LE(0, self->cons);
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ep)
{
	close(self->efd);
	close(self->cons);
	close(self->prod);
}

static int set_efd(int ep, __u32 event, int fd)
{
	struct ipcu_ep_eventfd e;

	memset(&e, 0, sizeof(e));
	e.event = event;
	e.fd = fd;
	return ipcu_test_ioctl(ep, IPCU_IOC_EP_EVENTFD, &e);
}

/* Count signalled on @efd since the last call (reads and resets it). */
static __u64 efd_count(int efd)
{
	eventfd_t v = 0;

	return eventfd_read(efd, &v) ? 0 : v;
}

TEST_F(ep, valid_events)
{
	EXPECT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, self->efd));
	EXPECT_EQ(0, set_efd(self->prod, IPCU_EV_SPACE, self->efd));
	EXPECT_EQ(0, set_efd(self->cons, IPCU_EV_PEER_GONE, self->efd));
	EXPECT_EQ(0, set_efd(self->prod, IPCU_EV_PEER_GONE, self->efd));
	/* Re-registering replaces. */
	EXPECT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, self->efd));
}

TEST_F(ep, event_nr)
{
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_NR, self->efd));
	EXPECT_EQ(-EINVAL, set_efd(self->prod, IPCU_EV_NR, self->efd));
}

TEST_F(ep, event_u32_max)
{
	EXPECT_EQ(-EINVAL, set_efd(self->cons, UINT32_MAX, self->efd));
	EXPECT_EQ(-EINVAL, set_efd(self->cons, 1U << 31, self->efd));
}

TEST_F(ep, data_on_producer)
{
	EXPECT_EQ(-EINVAL, set_efd(self->prod, IPCU_EV_DATA, self->efd));
	EXPECT_EQ(-EINVAL, set_efd(self->prod, IPCU_EV_DATA, -1));
}

TEST_F(ep, space_on_consumer)
{
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_SPACE, self->efd));
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_SPACE, -1));
}

TEST_F(ep, fd_minus_2)
{
	EXPECT_EQ(-EBADF, set_efd(self->cons, IPCU_EV_DATA, -2));
	EXPECT_EQ(-EBADF, set_efd(self->cons, IPCU_EV_DATA, INT_MIN));
}

TEST_F(ep, fd_closed)
{
	EXPECT_EQ(-EBADF, set_efd(self->cons, IPCU_EV_DATA, closed_fd()));
	EXPECT_EQ(-EBADF, set_efd(self->cons, IPCU_EV_DATA, INT_MAX));
}

TEST_F(ep, fd_not_eventfd)
{
	int pipefd[2];

	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_DATA, pipefd[0]));
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_DATA, pipefd[1]));
	/* Nor an endpoint, nor the device. */
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_DATA, self->prod));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(ep, pad)
{
	struct ipcu_ep_eventfd e = {
		.event = IPCU_EV_DATA, .fd = self->efd, .pad = 1,
	};

	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->cons, IPCU_IOC_EP_EVENTFD, &e));
}

TEST_F(ep, reserved)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct ipcu_ep_eventfd e = {
			.event = IPCU_EV_DATA, .fd = self->efd,
		};

		e.reserved[i] = 1ULL << 32;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->cons,
						   IPCU_IOC_EP_EVENTFD, &e))
			TH_LOG("reserved[%u]", i);
	}
}

TEST_F(ep, flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct ipcu_ep_eventfd e = {
			.flags = 1U << bit, .event = IPCU_EV_DATA,
			.fd = self->efd,
		};

		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->cons,
						   IPCU_IOC_EP_EVENTFD, &e))
			TH_LOG("flag bit %u", bit);
	}
}

/* A rejected registration leaves the previous one in place. */
TEST_F(ep, failure_keeps_registration)
{
	ASSERT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, self->efd));
	EXPECT_EQ(-EBADF, set_efd(self->cons, IPCU_EV_DATA, -2));
	EXPECT_EQ(-EINVAL, set_efd(self->cons, IPCU_EV_DATA, self->prod));
	ASSERT_EQ(0, ipcu_test_ioctl(self->prod, IPCU_IOC_DOORBELL, NULL));
	EXPECT_EQ(1, efd_count(self->efd));
}

TEST_F(ep, unregister)
{
	/* Nothing registered yet: unregistering is still fine. */
	EXPECT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, -1));

	ASSERT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, self->efd));
	ASSERT_EQ(0, ipcu_test_ioctl(self->prod, IPCU_IOC_DOORBELL, NULL));
	EXPECT_EQ(1, efd_count(self->efd));

	ASSERT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, -1));
	ASSERT_EQ(0, ipcu_test_ioctl(self->prod, IPCU_IOC_DOORBELL, NULL));
	EXPECT_EQ(0, efd_count(self->efd));
	EXPECT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, -1));
}

/* ---- IPCU_IOC_DOORBELL ------------------------------------------------- */

TEST_F(ep, doorbell_arg)
{
	struct ipcu_ep_info info;

	EXPECT_EQ(-EINVAL, ioctl(self->prod, IPCU_IOC_DOORBELL, 1UL) ? -errno : 0);
	EXPECT_EQ(-EINVAL, ioctl(self->prod, IPCU_IOC_DOORBELL, 0x80000000UL) ?
			   -errno : 0);
	EXPECT_EQ(-EINVAL, ioctl(self->cons, IPCU_IOC_DOORBELL, 2UL) ? -errno : 0);
	EXPECT_EQ(-EINVAL, ioctl(self->cons, IPCU_IOC_DOORBELL, ~0UL) ? -errno : 0);
	/* Rejected doorbells are not counted. */
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(0, info.doorbells);
	EXPECT_EQ(0, ioctl(self->prod, IPCU_IOC_DOORBELL, 0UL) ? -errno : 0);
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(1, info.doorbells);
}

/* The doorbell takes no structure: any encoded size is another command. */
TEST_F(ep, doorbell_with_size)
{
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOC(_IOC_NONE, IPCU_IOC_MAGIC, 0x13, 8),
					   NULL));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOW(IPCU_IOC_MAGIC, 0x13, __u32), NULL));
}

/* ---- IPCU_IOC_WAIT ----------------------------------------------------- */

static int wait_raw(int ep, struct ipcu_wait *w)
{
	return ipcu_test_ioctl(ep, IPCU_IOC_WAIT, w);
}

static void wait_init(struct ipcu_wait *w, __s64 timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->doorbell_fd = -1;
	w->timeout_ns = timeout_ns;
}

TEST_F(ep, wait_flags)
{
	struct ipcu_wait w;
	unsigned int bit;

	for (bit = 1; bit < 32; bit++) {
		wait_init(&w, 0);
		w.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w)) TH_LOG("flag bit %u", bit);
	}
}

TEST_F(ep, wait_pad)
{
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	wait_init(&w, 0);
	w.pad = 1;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	/* Also with a doorbell: nothing is rung for a rejected request. */
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = self->prod;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(0, info.doorbells);
}

TEST_F(ep, wait_reserved)
{
	struct ipcu_wait w;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		wait_init(&w, 0);
		w.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w)) TH_LOG("reserved[%u]", i);
	}
}

TEST_F(ep, wait_doorbell_fd_without_flag)
{
	struct ipcu_wait w;

	wait_init(&w, 0);
	w.doorbell_fd = 0;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	w.doorbell_fd = -2;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	w.doorbell_fd = self->prod;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
}

TEST_F(ep, wait_doorbell_bad_fd)
{
	struct ipcu_wait w;

	wait_init(&w, 0);
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = -1;
	EXPECT_EQ(-EBADF, wait_raw(self->cons, &w));
	w.doorbell_fd = closed_fd();
	EXPECT_EQ(-EBADF, wait_raw(self->cons, &w));
	w.doorbell_fd = INT_MAX;
	EXPECT_EQ(-EBADF, wait_raw(self->cons, &w));
}

TEST_F(ep, wait_doorbell_not_endpoint)
{
	struct ipcu_wait w;
	int pipefd[2], dev;

	ASSERT_EQ(0, pipe(pipefd));
	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	wait_init(&w, 0);
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = pipefd[0];
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	w.doorbell_fd = dev;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	w.doorbell_fd = self->efd;
	EXPECT_EQ(-EINVAL, wait_raw(self->cons, &w));
	close(dev);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(ep, wait_timeout_0_empty)
{
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	wait_init(&w, 0);
	w.revents = 0xdead;
	EXPECT_EQ(-ETIMEDOUT, wait_raw(self->cons, &w));
	/* Only a successful wait writes revents back. */
	EXPECT_EQ(0xdead, w.revents);
	/* A zero timeout never sleeps. */
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons, &info));
	EXPECT_EQ(0, info.sleeps);
}

TEST_F(ep, wait_short_timeout_empty)
{
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	wait_init(&w, 1000000);
	EXPECT_EQ(-ETIMEDOUT, wait_raw(self->cons, &w));
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons, &info));
	EXPECT_EQ(1, info.sleeps);
}

TEST_F(ep, wait_producer_ready)
{
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	wait_init(&w, 0);
	ASSERT_EQ(0, wait_raw(self->prod, &w));
	EXPECT_EQ(EPOLLOUT | EPOLLWRNORM, w.revents);
	/* Ready at once: a negative (infinite) timeout returns too. */
	wait_init(&w, -1);
	ASSERT_EQ(0, wait_raw(self->prod, &w));
	EXPECT_EQ(EPOLLOUT | EPOLLWRNORM, w.revents);
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(0, info.sleeps);
}

TEST_F(ep, wait_consumer_ready)
{
	struct ipcu_prod_ctrl *prod;
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	prod = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, self->prod,
		    info.prod_ctrl_off);
	ASSERT_TRUE(prod != MAP_FAILED);
	/* One message committed (readiness looks only at the indices). */
	__atomic_store_n(&prod->pay_tail, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&prod->tail, 1, __ATOMIC_RELEASE);
	wait_init(&w, 0);
	ASSERT_EQ(0, wait_raw(self->cons, &w));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, w.revents);
	wait_init(&w, -1);
	ASSERT_EQ(0, wait_raw(self->cons, &w));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, w.revents);
	munmap(prod, PG);
}

TEST_F(ep, wait_consumer_hangup)
{
	struct ipcu_wait w;

	close(self->prod);
	self->prod = -1;
	wait_init(&w, 0);
	ASSERT_EQ(0, wait_raw(self->cons, &w));
	EXPECT_EQ(EPOLLHUP, w.revents);
	/* A hangup ends an infinite wait at once. */
	wait_init(&w, -1);
	ASSERT_EQ(0, wait_raw(self->cons, &w));
	EXPECT_EQ(EPOLLHUP, w.revents);
}

TEST_F(ep, wait_producer_hangup)
{
	struct ipcu_wait w;

	close(self->cons);
	self->cons = -1;
	wait_init(&w, 0);
	ASSERT_EQ(0, wait_raw(self->prod, &w));
	EXPECT_EQ(EPOLLOUT | EPOLLWRNORM | EPOLLHUP, w.revents);
}

static void on_signal(int sig)
{
	(void)sig;
}

/*
 * A signal ends a wait with -EINTR; with a relative timeout even under
 * SA_RESTART, since the remaining time could not be restarted correctly.
 * The timer repeats, so a signal always lands while the wait sleeps.
 */
TEST_F(ep, wait_interrupted)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	struct sigaction sa;
	struct ipcu_wait w;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	wait_init(&w, -1);
	EXPECT_EQ(-EINTR, wait_raw(self->cons, &w));

	sa.sa_flags = SA_RESTART;
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	wait_init(&w, 60LL * 1000000000);
	EXPECT_EQ(-EINTR, wait_raw(self->cons, &w));

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The doorbell is rung before waiting, even if the wait then times out. */
TEST_F(ep, wait_doorbell_rings)
{
	struct ipcu_ep_info info;
	struct ipcu_wait w;

	ASSERT_EQ(0, set_efd(self->cons, IPCU_EV_DATA, self->efd));
	wait_init(&w, 0);
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = self->prod;
	EXPECT_EQ(-ETIMEDOUT, wait_raw(self->cons, &w));
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(1, info.doorbells);
	ASSERT_EQ(0, ipcu_test_ep_info(self->cons, &info));
	EXPECT_EQ(0, info.doorbells);
	EXPECT_EQ(1, efd_count(self->efd));
}

/* The doorbell may belong to any channel. */
TEST_F(ep, wait_doorbell_other_channel)
{
	struct ipcu_chan_create c;
	struct ipcu_ep_info info;
	struct ipcu_wait w;
	int dev;

	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	req_init(&c);
	ASSERT_EQ(0, create(dev, &c));
	close(dev);
	wait_init(&w, 0);
	w.flags = IPCU_WAIT_DOORBELL;
	w.doorbell_fd = c.fd;
	ASSERT_EQ(0, wait_raw(self->prod, &w));
	EXPECT_EQ(EPOLLOUT | EPOLLWRNORM, w.revents);
	ASSERT_EQ(0, ipcu_test_ep_info(c.fd, &info));
	EXPECT_EQ(1, info.doorbells);
	ASSERT_EQ(0, ipcu_test_ep_info(self->prod, &info));
	EXPECT_EQ(0, info.doorbells);
	close(c.fd);
}

/* ---- commands on the wrong kind of file --------------------------------- */

TEST_F(ep, device_commands_on_endpoint)
{
	struct ipcu_chan_create c;
	struct ipcu_chan_attach a;
	struct ipcu_version v;

	memset(&v, 0, sizeof(v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod, IPCU_IOC_VERSION, &v));
	req_init(&c);
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod, IPCU_IOC_CHAN_CREATE, &c));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->cons, IPCU_IOC_CHAN_CREATE, &c));
	memset(&a, 0, sizeof(a));
	a.name = (__u64)(uintptr_t)"x";
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->cons, IPCU_IOC_CHAN_ATTACH, &a));
}

TEST_F(ep, endpoint_commands_on_device)
{
	struct ipcu_ep_eventfd e = { .fd = -1 };
	struct ipcu_ep_peer p = { 0 };
	int dev = ipcu_test_open(O_RDWR);

	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(dev, IPCU_IOC_EP_PEER, &p));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(dev, IPCU_IOC_EP_EVENTFD, &e));
	close(dev);
}

TEST_F(ep, unknown_endpoint_commands)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOWR(IPCU_IOC_MAGIC, 0x15, struct ipcu_wait), buf));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOWR(IPCU_IOC_MAGIC, 0x3f, struct ipcu_wait), buf));
	/* Known numbers with the wrong direction. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOR(IPCU_IOC_MAGIC, 0x14, struct ipcu_wait), buf));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOWR(IPCU_IOC_MAGIC, 0x12, struct ipcu_ep_eventfd),
					   buf));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod,
					   _IOR(IPCU_IOC_MAGIC, 0x10, struct ipcu_ep_info), buf));
	/* Not ours at all. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod, TCGETS, buf));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->prod, FIONREAD, buf));
}

/* ---- structure sizes ---------------------------------------------------- */

/* The structure-carrying commands and the file they apply to. */
static const struct {
	const char *name;
	unsigned long cmd;
	int on_endpoint;
} sized_cmds[] = {
	{ "CHAN_CREATE", IPCU_IOC_CHAN_CREATE, 0 },
	{ "CHAN_ATTACH", IPCU_IOC_CHAN_ATTACH, 0 },
	{ "EP_INFO", IPCU_IOC_EP_INFO, 1 },
	{ "EP_PEER", IPCU_IOC_EP_PEER, 1 },
	{ "EP_EVENTFD", IPCU_IOC_EP_EVENTFD, 1 },
	{ "WAIT", IPCU_IOC_WAIT, 1 },
};

#define NR_SIZED_CMDS	ARRAY_SIZE(sized_cmds)

TEST_F(chan, create_short_struct)
{
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
					   IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE,
							   sizeof(self->c) - 8),
					   &self->c));
	/* Short enough to cut off name and role, but not the geometry. */
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
					   IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE, 24),
					   &self->c));
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
					   IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE, 0),
					   &self->c));
}

TEST_F(chan, create_long_struct_zero_tail)
{
	struct {
		struct ipcu_chan_create c;
		__u64 tail[8];
	} big;

	memset(&big, 0, sizeof(big));
	req_init(&big.c);
	big.c.fd = -1;
	ASSERT_EQ(0, ipcu_test_ioctl(self->dev,
				     IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE,
						     sizeof(big)), &big));
	EXPECT_LE(0, big.c.fd);
	/* The kernel writes back only the part it knows. */
	EXPECT_EQ(0, big.tail[0] | big.tail[7]);
	close(big.c.fd);
}

TEST_F(chan, create_long_struct_nonzero_tail)
{
	struct ipcu_test_counters before, after;
	struct {
		struct ipcu_chan_create c;
		__u64 tail[8];
	} big;
	unsigned int i;

	ASSERT_EQ(0, ipcu_test_counters_read(&before));
	for (i = 0; i < 8; i++) {
		memset(&big, 0, sizeof(big));
		req_init(&big.c);
		big.tail[i] = 1ULL << (i * 8);
		EXPECT_EQ(-E2BIG, ipcu_test_ioctl(self->dev,
						  IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE,
								  sizeof(big)), &big))
			TH_LOG("tail[%u]", i);
	}
	ASSERT_EQ(0, ipcu_test_counters_read(&after));
	EXPECT_EQ(before.channels, after.channels);
}

/* The largest size the command encoding allows, tail byte set. */
TEST_F(chan, create_max_size_struct)
{
	size_t size = _IOC_SIZEMASK;
	unsigned char *buf = calloc(1, size);

	ASSERT_TRUE(buf != NULL);
	req_init((struct ipcu_chan_create *)buf);
	buf[size - 1] = 1;
	EXPECT_EQ(-E2BIG, ipcu_test_ioctl(self->dev,
					  IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE, size),
					  buf));
	buf[size - 1] = 0;
	ASSERT_EQ(0, ipcu_test_ioctl(self->dev,
				     IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE, size),
				     buf));
	close(((struct ipcu_chan_create *)buf)->fd);
	free(buf);
}

/* A longer structure whose tail is not readable. */
TEST_F(chan, create_long_struct_tail_unmapped)
{
	char *page = guarded_page();
	struct ipcu_chan_create *c;

	ASSERT_TRUE(page != NULL);
	c = (struct ipcu_chan_create *)(page + PG - sizeof(*c));
	req_init(c);
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->dev,
					   IPCU_IOC_RESIZE(IPCU_IOC_CHAN_CREATE,
							   sizeof(*c) + 8), c));
	munmap(page, 2 * PG);
}

TEST_F(ep, short_structs)
{
	unsigned char buf[512] = { 0 };
	unsigned int i;
	int dev = ipcu_test_open(O_RDWR);

	ASSERT_LE(0, dev);
	for (i = 0; i < NR_SIZED_CMDS; i++) {
		int fd = sized_cmds[i].on_endpoint ? self->cons : dev;
		size_t size = _IOC_SIZE(sized_cmds[i].cmd);

		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd,
						   IPCU_IOC_RESIZE(sized_cmds[i].cmd, size - 8),
						   buf)) TH_LOG("%s", sized_cmds[i].name);
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd,
						   IPCU_IOC_RESIZE(sized_cmds[i].cmd, 4),
						   buf)) TH_LOG("%s", sized_cmds[i].name);
	}
	close(dev);
}

TEST_F(ep, long_structs_nonzero_tail)
{
	unsigned char buf[512];
	unsigned int i;
	int dev = ipcu_test_open(O_RDWR);

	ASSERT_LE(0, dev);
	for (i = 0; i < NR_SIZED_CMDS; i++) {
		int fd = sized_cmds[i].on_endpoint ? self->cons : dev;
		size_t size = _IOC_SIZE(sized_cmds[i].cmd);

		memset(buf, 0, sizeof(buf));
		buf[size + 7] = 0x80;
		EXPECT_EQ(-E2BIG, ipcu_test_ioctl(fd,
						  IPCU_IOC_RESIZE(sized_cmds[i].cmd, size + 8),
						  buf)) TH_LOG("%s", sized_cmds[i].name);
		memset(buf, 0, sizeof(buf));
		buf[size] = 1;
		EXPECT_EQ(-E2BIG, ipcu_test_ioctl(fd,
						  IPCU_IOC_RESIZE(sized_cmds[i].cmd, 256),
						  buf)) TH_LOG("%s", sized_cmds[i].name);
	}
	close(dev);
}

TEST_F(ep, info_long_struct_zero_tail)
{
	struct {
		struct ipcu_ep_info info;
		__u64 tail[4];
	} big;

	memset(&big, 0, sizeof(big));
	ASSERT_EQ(0, ipcu_test_ioctl(self->cons,
				     IPCU_IOC_RESIZE(IPCU_IOC_EP_INFO, sizeof(big)),
				     &big));
	EXPECT_EQ(IPCU_ROLE_CONSUMER, big.info.role);
	EXPECT_EQ(16, big.info.ring_entries);
	EXPECT_EQ(0, big.tail[0] | big.tail[3]);
}

TEST_HARNESS_MAIN
