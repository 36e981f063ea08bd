// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: IPCU_IOC_REGION_CREATE / REGION_ATTACH / CLONE / SEAL /
 * REGION_STATS validation, one exact errno per bad input; the mmap policy
 * of region files; region names; the per-user limits.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define RW	(PROT_READ | PROT_WRITE)

FIXTURE(region) {
	int dev;
	size_t pg;
	char name[64];
};

FIXTURE_SETUP(region)
{
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", IPCU_DEVICE_PATH,
				      strerror(errno));
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	snprintf(self->name, sizeof(self->name), "region_test.%d", (int)getpid());
}

FIXTURE_TEARDOWN(region)
{
	close(self->dev);
}

static struct ipcu_region_create region_req(__u64 size)
{
	struct ipcu_region_create c;

	memset(&c, 0, sizeof(c));
	c.size = size;
	return c;
}

static __u64 stats_writable_maps(int fd)
{
	struct ipcu_region_stats s;

	if (ipcu_test_region_stats(fd, &s))
		return ~0ULL;
	return s.writable_maps;
}

/* --- REGION_CREATE ------------------------------------------------------ */

TEST_F(region, version_advertises_regions)
{
	struct ipcu_version v = { 0 };

	ASSERT_EQ(0, ipcu_test_ioctl(self->dev, IPCU_IOC_VERSION, &v));
	EXPECT_TRUE(v.features & IPCU_FEAT_REGION);
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_REGION_CREATE)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_REGION_ATTACH)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_CLONE)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_SEAL)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_REGION_STATS)));
}

TEST_F(region, create_basic)
{
	struct ipcu_region_stats s;
	unsigned char *p;
	size_t i;
	int fd;

	fd = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(-fd));
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));

	/* Nothing is allocated before it is touched. */
	memset(&s, 0xff, sizeof(s));
	s.flags = 0;
	memset(s.reserved, 0, sizeof(s.reserved));
	ASSERT_EQ(0, ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, &s));
	EXPECT_EQ(4 * self->pg, s.size);
	EXPECT_EQ(0, s.state);
	EXPECT_EQ(0, s.private_pages);
	EXPECT_EQ(0, s.shared_pages);
	EXPECT_EQ(0, s.cow_copies);
	EXPECT_EQ(0, s.writable_maps);
	EXPECT_EQ(0, s.reserved[0] | s.reserved[1] | s.reserved[2]);

	p = ipcu_test_map(fd, 4, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(1, stats_writable_maps(fd));
	/* Pages come zeroed, on first touch. */
	for (i = 0; i < 4 * self->pg; i++)
		if (p[i])
			break;
	EXPECT_EQ(4 * self->pg, i);
	ASSERT_EQ(0, ipcu_test_region_stats(fd, &s));
	EXPECT_EQ(4, s.private_pages);
	memset(p, 0x5a, 2 * self->pg);
	ASSERT_EQ(0, ipcu_test_region_stats(fd, &s));
	EXPECT_EQ(4, s.private_pages);
	EXPECT_EQ(0, s.cow_copies);
	munmap(p, 4 * self->pg);
	EXPECT_EQ(0, stats_writable_maps(fd));
	close(fd);
}

TEST_F(region, create_unknown_flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct ipcu_region_create c = region_req(self->pg);

		c.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
						   IPCU_IOC_REGION_CREATE, &c))
			TH_LOG("flag bit %u", bit);
	}
}

TEST_F(region, create_pad)
{
	struct ipcu_region_create c = region_req(self->pg);

	c.pad = 1;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_CREATE, &c));
	c.pad = 0x80000000U;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_CREATE, &c));
}

TEST_F(region, create_reserved)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		struct ipcu_region_create c = region_req(self->pg);

		c.reserved[i] = 1ULL << (i * 20);
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
						   IPCU_IOC_REGION_CREATE, &c))
			TH_LOG("reserved[%u]", i);
	}
}

TEST_F(region, create_bad_size)
{
	const __u64 bad[] = {
		0, 1, self->pg - 1, self->pg + 1, 2 * self->pg - 1,
		self->pg / 2, IPCU_REGION_MAX + self->pg,
		IPCU_REGION_MAX + 1, IPCU_REGION_MAX * 2, 1ULL << 63,
		~0ULL, ~0ULL - self->pg + 1, (__u64)UINT32_MAX + 1 + 1,
	};
	unsigned int i;
	long regions = ipcu_test_stat("regions");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long long size = bad[i];
		struct ipcu_region_create c = region_req(size);

		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
						   IPCU_IOC_REGION_CREATE, &c))
			TH_LOG("size %llu", size);
	}
	EXPECT_EQ(regions, ipcu_test_stat("regions"));
}

TEST_F(region, create_good_sizes)
{
	const __u64 good[] = { self->pg, 2 * self->pg, 17 * self->pg,
			       1ULL << 30 };
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ipcu_region_stats s;
		int fd = ipcu_test_region_create(self->dev, good[i], NULL, 0);

		ASSERT_LE(0, fd) TH_LOG("size %llu: %s",
					(unsigned long long)good[i],
					strerror(-fd));
		ASSERT_EQ(0, ipcu_test_region_stats(fd, &s));
		EXPECT_EQ(good[i], s.size);
		close(fd);
	}
}

TEST_F(region, create_bad_mode)
{
	const __u32 bad[] = { 01000, 01777, 02000, 04000, 0x10000, ~0U };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		__u32 mode = bad[i];

		EXPECT_EQ(-EINVAL, ipcu_test_region_create(self->dev, self->pg,
							   self->name, mode))
			TH_LOG("mode %#o", mode);
	}
	/* A mode without a name. */
	EXPECT_EQ(-EINVAL, ipcu_test_region_create(self->dev, self->pg, NULL,
						   0600));
	EXPECT_EQ(-EINVAL, ipcu_test_region_create(self->dev, self->pg, NULL,
						   1));
	/* None of these published the name. */
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
}

TEST_F(region, create_bad_names)
{
	char longest[IPCU_NAME_MAX], too_long[IPCU_NAME_MAX + 1];
	/* Only [A-Za-z0-9._-]: no other ASCII, no Latin-1 letters either. */
	const char *invalid[] = { "", "a/b", "a b", "a\n", "x:y", "a*", "\t",
				  "..\x7f", "caf\xc3\xa9", "\xe9t\xe9",
				  "\xc0", "A\xdf", "\xff" };
	unsigned char *two;
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const char *name = invalid[i];

		EXPECT_EQ(-EINVAL, ipcu_test_region_create(self->dev, self->pg,
							   name, 0600))
			TH_LOG("name \"%s\" (%u)", name, i);
	}

	memset(too_long, 'n', IPCU_NAME_MAX);
	too_long[IPCU_NAME_MAX] = 0;
	EXPECT_EQ(-ENAMETOOLONG, ipcu_test_region_create(self->dev, self->pg,
							 too_long, 0600));

	/* A pointer to nowhere, and a name running into an unmapped page. */
	EXPECT_EQ(-EFAULT, ipcu_test_region_create(self->dev, self->pg,
						   ipcu_test_bad_ptr(), 0600));
	two = mmap(NULL, 2 * self->pg, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(two != MAP_FAILED);
	ASSERT_EQ(0, munmap(two + self->pg, self->pg));
	memset(two + self->pg - 3, 'a', 3);
	EXPECT_EQ(-EFAULT, ipcu_test_region_create(self->dev, self->pg,
						   (char *)two + self->pg - 3,
						   0600));
	munmap(two, self->pg);
	{
		struct ipcu_region_create c = region_req(self->pg);

		/* Not a user address at all. */
		c.name = ~0ULL - 15;
		c.mode = 0600;
		EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->dev,
						   IPCU_IOC_REGION_CREATE, &c));
	}

	/* 63 bytes of every allowed character is fine. */
	for (i = 0; i < IPCU_NAME_MAX - 1; i++)
		longest[i] = "aZ09._-"[i % 7];
	longest[IPCU_NAME_MAX - 1] = 0;
	fd = ipcu_test_region_create(self->dev, self->pg, longest, 0600);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	close(fd);
}

TEST_F(region, create_eexist)
{
	void *p;
	int fd, fd2;

	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EEXIST, ipcu_test_region_create(self->dev, self->pg,
						   self->name, 0600));
	EXPECT_EQ(-EEXIST, ipcu_test_region_create(self->dev, 2 * self->pg,
						   self->name, 0666));

	/* The name lives as long as the region: an fd or a mapping. */
	p = ipcu_test_map(fd, 1, PROT_READ, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_EQ(-EEXIST, ipcu_test_region_create(self->dev, self->pg,
						   self->name, 0600));
	fd2 = ipcu_test_region_attach(self->dev, self->name, 0);
	ASSERT_LE(0, fd2);
	close(fd2);
	munmap(p, self->pg);

	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0600);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(region, readonly_device_fd)
{
	int ro = ipcu_test_open(O_RDONLY);
	int fd;

	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, ipcu_test_region_create(ro, self->pg, NULL, 0));
	EXPECT_EQ(-EBADF, ipcu_test_region_create(ro, self->pg, self->name,
						  0644));
	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, ipcu_test_region_attach(ro, self->name, 0));
	EXPECT_EQ(-EBADF, ipcu_test_region_attach(ro, self->name,
						  IPCU_ATTACH_RDONLY));
	close(fd);
	close(ro);
}

TEST_F(region, create_short_and_long_struct)
{
	struct {
		struct ipcu_region_create c;
		__u64 tail[4];
	} big;
	int fd;

	memset(&big, 0, sizeof(big));
	big.c.size = self->pg;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
		  IPCU_IOC_RESIZE(IPCU_IOC_REGION_CREATE, sizeof(big.c) - 8),
		  &big));
	big.tail[3] = 1;
	EXPECT_EQ(-E2BIG, ipcu_test_ioctl(self->dev,
		  IPCU_IOC_RESIZE(IPCU_IOC_REGION_CREATE, sizeof(big)), &big));
	big.tail[3] = 0;
	ASSERT_EQ(0, ipcu_test_ioctl(self->dev,
		  IPCU_IOC_RESIZE(IPCU_IOC_REGION_CREATE, sizeof(big)), &big));
	fd = big.c.fd;
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, big.tail[0] | big.tail[3]);
	close(fd);
}

/* --- REGION_ATTACH ------------------------------------------------------ */

TEST_F(region, attach_enoent)
{
	int fd;

	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name,
						   IPCU_ATTACH_RDONLY));
	/* Unnamed regions cannot be found. */
	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
	close(fd);
	/* Nor regions that are gone. */
	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
}

TEST_F(region, attach_bad_args)
{
	struct ipcu_region_attach a;
	char too_long[IPCU_NAME_MAX + 1];
	unsigned int bit, i;
	int fd;

	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0600);
	ASSERT_LE(0, fd);

	for (bit = 1; bit < 32; bit++)
		EXPECT_EQ(-EINVAL, ipcu_test_region_attach(self->dev, self->name,
							   1U << bit))
			TH_LOG("flag bit %u", bit);

	memset(&a, 0, sizeof(a));
	a.name = (__u64)(uintptr_t)self->name;
	a.pad = 1;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_ATTACH, &a));
	a.pad = 0;
	a.pad2 = 1;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_ATTACH, &a));
	a.pad2 = 0;
	a.flags = IPCU_ATTACH_RDONLY;
	a.pad2 = 0x80000000U;
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_ATTACH, &a));
	a.pad2 = 0;
	a.flags = 0;
	for (i = 0; i < 5; i++) {
		a.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->dev,
						   IPCU_IOC_REGION_ATTACH, &a))
			TH_LOG("reserved[%u]", i);
		a.reserved[i] = 0;
	}
	/* fd is output only: whatever comes in is ignored. */
	a.fd = 12345;
	ASSERT_EQ(0, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_ATTACH, &a));
	EXPECT_NE(12345, a.fd);
	close(a.fd);

	/* Names: a missing, empty, too long, bad or unreadable one. */
	EXPECT_EQ(-EFAULT, ipcu_test_region_attach(self->dev, NULL, 0));
	EXPECT_EQ(-EINVAL, ipcu_test_region_attach(self->dev, "", 0));
	EXPECT_EQ(-EINVAL, ipcu_test_region_attach(self->dev, "no/slash", 0));
	memset(too_long, 'n', IPCU_NAME_MAX);
	too_long[IPCU_NAME_MAX] = 0;
	EXPECT_EQ(-ENAMETOOLONG, ipcu_test_region_attach(self->dev, too_long, 0));
	EXPECT_EQ(-EFAULT, ipcu_test_region_attach(self->dev,
						   ipcu_test_bad_ptr(), 0));
	close(fd);
}

TEST_F(region, attach_shares_pages)
{
	unsigned char *p, *q;
	int fd, fd2;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, self->name, 0600);
	ASSERT_LE(0, fd);
	fd2 = ipcu_test_region_attach(self->dev, self->name, 0);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(O_RDWR, fcntl(fd2, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd2, F_GETFD));
	p = ipcu_test_map(fd, 2, RW, 0);
	q = ipcu_test_map(fd2, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_TRUE(q != MAP_FAILED);
	p[0] = 1;
	q[self->pg] = 2;
	EXPECT_EQ(1, q[0]);
	EXPECT_EQ(2, p[self->pg]);
	EXPECT_EQ(2, stats_writable_maps(fd));
	munmap(p, 2 * self->pg);
	munmap(q, 2 * self->pg);
	close(fd);
	close(fd2);
}

TEST_F(region, attach_rdonly)
{
	struct ipcu_region_stats s;
	unsigned char *p, *q;
	int fd, ro, c;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, self->name, 0644);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[1] = 0x11;

	ro = ipcu_test_region_attach(self->dev, self->name, IPCU_ATTACH_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ro, F_GETFD));

	/* The VFS refuses a writable shared mapping of a read-only file. */
	q = ipcu_test_map(ro, 2, RW, 0);
	EXPECT_TRUE(q == MAP_FAILED);
	EXPECT_EQ(EACCES, errno);
	q = ipcu_test_map(ro, 2, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(0x11, q[1]);
	p[2] = 0x22;
	EXPECT_EQ(0x22, q[2]);
	EXPECT_EQ(-1, mprotect(q, self->pg, RW));
	EXPECT_EQ(EACCES, errno);

	/* A read-only fd may look, and clone, but not seal. */
	EXPECT_EQ(0, ipcu_test_region_stats(ro, &s));
	EXPECT_EQ(1, s.writable_maps);
	EXPECT_EQ(-EPERM, ipcu_test_seal(ro, 0));
	c = ipcu_test_clone(ro, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(O_RDWR, fcntl(c, F_GETFL) & O_ACCMODE);
	close(c);

	munmap(q, 2 * self->pg);
	munmap(p, 2 * self->pg);
	/* Even without a writable mapping: EPERM comes from the fd. */
	EXPECT_EQ(-EPERM, ipcu_test_seal(ro, 0));
	close(ro);
	close(fd);
}

/* Run @fn in a child that is uid/gid 65534 with no groups. */
static int as_nobody(int (*fn)(const char *name, void *arg),
		     const char *name, void *arg)
{
	pid_t pid = ipcu_test_fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		IPCU_TEST_CHILD_CHECK(ipcu_test_become(65534, 65534) == 0,
				      "setuid");
		_exit(fn(name, arg));
	}
	return ipcu_test_reap(pid);
}

/* Child: the attach results it expects, RW first, then RDONLY. */
struct attach_expect {
	int rw;
	int ro;
};

static int nobody_attach(const char *name, void *arg)
{
	const struct attach_expect *e = arg;
	int dev = ipcu_test_open(O_RDWR);
	int rw, ro;

	IPCU_TEST_CHILD_CHECK(dev >= 0, "open: %s", strerror(errno));
	rw = ipcu_test_region_attach(dev, name, 0);
	ro = ipcu_test_region_attach(dev, name, IPCU_ATTACH_RDONLY);
	IPCU_TEST_CHILD_CHECK(e->rw ? rw == e->rw : rw >= 0, "rw %d", rw);
	IPCU_TEST_CHILD_CHECK(e->ro ? ro == e->ro : ro >= 0, "ro %d", ro);
	if (ro >= 0) {
		unsigned char *p = ipcu_test_map(ro, 1, PROT_READ, 0);

		IPCU_TEST_CHILD_CHECK(p != MAP_FAILED, "map");
		IPCU_TEST_CHILD_CHECK(p[0] == 0x77, "content %d", p[0]);
		IPCU_TEST_CHILD_CHECK(ipcu_test_map(ro, 1, RW, 0) == MAP_FAILED &&
				      errno == EACCES, "rw map of ro fd");
	}
	if (rw >= 0) {
		unsigned char *p = ipcu_test_map(rw, 1, RW, 0);

		IPCU_TEST_CHILD_CHECK(p != MAP_FAILED, "map");
		IPCU_TEST_CHILD_CHECK(p[0] == 0x77, "content %d", p[0]);
	}
	return 0;
}

TEST_F(region, attach_permissions)
{
	static const struct {
		__u32 mode;
		struct attach_expect e;
	} rows[] = {
		{ 0600, { -EACCES, -EACCES } },
		{ 0640, { -EACCES, -EACCES } },	/* not in the group */
		{ 0644, { -EACCES, 0 } },
		{ 0604, { -EACCES, 0 } },
		{ 0602, { -EACCES, -EACCES } },	/* write alone is not enough */
		{ 0606, { 0, 0 } },
		{ 0666, { 0, 0 } },
		{ 0000, { -EACCES, -EACCES } },
		{ 0766, { 0, 0 } },
	};
	unsigned int i;

	if (geteuid() != 0)
		SKIP(return, "needs root to become uid 65534");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned char *p;
		int fd;

		fd = ipcu_test_region_create(self->dev, self->pg, self->name,
					     rows[i].mode);
		ASSERT_LE(0, fd);
		p = ipcu_test_map(fd, 1, RW, 0);
		ASSERT_TRUE(p != MAP_FAILED);
		p[0] = 0x77;
		munmap(p, self->pg);
		EXPECT_EQ(0, as_nobody(nobody_attach, self->name,
				       (void *)&rows[i].e))
			TH_LOG("mode %#o", rows[i].mode);
		close(fd);
	}
}

TEST_F(region, attach_owner_and_capability)
{
	int fd, a;

	/* The owner's bits count for the owner; root overrides them. */
	fd = ipcu_test_region_create(self->dev, self->pg, self->name, 0000);
	ASSERT_LE(0, fd);
	a = ipcu_test_region_attach(self->dev, self->name, 0);
	if (geteuid() == 0) {
		EXPECT_LE(0, a);
	} else {
		EXPECT_EQ(-EACCES, a);
	}
	if (a >= 0)
		close(a);
	close(fd);
}

/* --- names -------------------------------------------------------------- */

TEST_F(region, names_are_separate_from_channels)
{
	int ch, r, a;

	ch = ipcu_test_create(self->dev, 8, 64, self->pg, self->name, 0600,
			      IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, ch) TH_LOG("%s", strerror(-ch));
	/* A channel's name does not make a region findable, and back. */
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
	r = ipcu_test_region_create(self->dev, self->pg, self->name, 0600);
	ASSERT_LE(0, r);
	a = ipcu_test_region_attach(self->dev, self->name, 0);
	ASSERT_LE(0, a);
	close(a);
	a = ipcu_test_attach(self->dev, self->name, IPCU_ROLE_CONSUMER);
	ASSERT_LE(0, a);
	close(a);
	close(ch);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, self->name,
					    IPCU_ROLE_CONSUMER));
	a = ipcu_test_region_attach(self->dev, self->name, 0);
	ASSERT_LE(0, a);
	close(a);
	close(r);
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
}

/* --- CLONE -------------------------------------------------------------- */

TEST_F(region, clone_bad_args)
{
	struct ipcu_clone c;
	unsigned int bit, i;
	int fd, null;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	for (bit = 1; bit < 32; bit++)
		EXPECT_EQ(-EINVAL, ipcu_test_clone(fd, 1U << bit))
			TH_LOG("flag bit %u", bit);
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.reserved[i] = 1ULL << 40;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd, IPCU_IOC_CLONE, &c))
			TH_LOG("reserved[%u]", i);
	}
	memset(&c, 0, sizeof(c));
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd,
		  IPCU_IOC_RESIZE(IPCU_IOC_CLONE, 4), &c));
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(fd, IPCU_IOC_CLONE, NULL));
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(fd, IPCU_IOC_CLONE,
					   ipcu_test_bad_ptr()));

	/* Not on the device, nor on anything else. */
	EXPECT_EQ(-ENOTTY, ipcu_test_clone(self->dev, 0));
	EXPECT_EQ(-ENOTTY, ipcu_test_clone(self->dev, IPCU_CLONE_SEAL));
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);
	EXPECT_EQ(-ENOTTY, ipcu_test_clone(null, 0));
	close(null);
	close(fd);
}

TEST_F(region, clone_basic)
{
	struct ipcu_region_stats s;
	int fd, c, cs;

	fd = ipcu_test_region_create(self->dev, 3 * self->pg, self->name, 0600);
	ASSERT_LE(0, fd);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(O_RDWR, fcntl(c, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(c, F_GETFD));
	ASSERT_EQ(0, ipcu_test_region_stats(c, &s));
	EXPECT_EQ(3 * self->pg, s.size);
	EXPECT_EQ(0, s.state);
	EXPECT_EQ(0, s.private_pages + s.shared_pages);
	cs = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, cs);
	ASSERT_EQ(0, ipcu_test_region_stats(cs, &s));
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);
	/* Clones are unnamed: the name still finds the source only. */
	EXPECT_EQ(-EEXIST, ipcu_test_region_create(self->dev, self->pg,
						   self->name, 0600));
	close(fd);
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev, self->name, 0));
	close(c);
	close(cs);
}

TEST_F(region, clone_of_endpoint)
{
	struct ipcu_region_stats s;
	struct ipcu_ep_info info;
	int prod, cons, c;

	prod = ipcu_test_create(self->dev, 8, 64, 4 * self->pg, NULL, 0,
				IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	cons = ipcu_test_peer(prod);
	ASSERT_LE(0, cons);
	ASSERT_EQ(0, ipcu_test_ep_info(prod, &info));
	/* Either role clones the payload area, and only that. */
	c = ipcu_test_clone(prod, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, ipcu_test_region_stats(c, &s));
	EXPECT_EQ(info.payload_bytes, s.size);
	EXPECT_EQ(4, s.shared_pages);
	close(c);
	c = ipcu_test_clone(cons, IPCU_CLONE_SEAL);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, ipcu_test_region_stats(c, &s));
	EXPECT_EQ(info.payload_bytes, s.size);
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);
	EXPECT_EQ(-EINVAL, ipcu_test_clone(cons, 2));
	close(c);
	close(cons);
	close(prod);
}

/* --- SEAL --------------------------------------------------------------- */

TEST_F(region, seal_bad_args)
{
	struct ipcu_region_stats s;
	int fd, null, prod;
	__u64 v = 0;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, ipcu_test_seal(fd, 1));
	EXPECT_EQ(-EINVAL, ipcu_test_seal(fd, 2));
	EXPECT_EQ(-EINVAL, ipcu_test_seal(fd, 0x80000000UL));
	EXPECT_EQ(-EINVAL, ipcu_test_seal(fd, ~0UL));
	/* None of these sealed it. */
	ASSERT_EQ(0, ipcu_test_region_stats(fd, &s));
	EXPECT_EQ(0, s.state);
	/* The argument is a value: a size or direction in the command is wrong. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, _IOW(IPCU_IOC_MAGIC, 0x21, __u64),
					   &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, _IOC(_IOC_NONE, IPCU_IOC_MAGIC,
						    0x21, 8), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_seal(self->dev, 0));
	prod = ipcu_test_create(self->dev, 8, 64, self->pg, NULL, 0,
				IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	EXPECT_EQ(-ENOTTY, ipcu_test_seal(prod, 0));
	close(prod);
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);
	EXPECT_EQ(-ENOTTY, ipcu_test_seal(null, 0));
	close(null);
	close(fd);
}

TEST_F(region, seal_rules)
{
	struct ipcu_region_stats s;
	unsigned char *w, *r, *r2;
	int fd, ro;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, self->name, 0644);
	ASSERT_LE(0, fd);
	ro = ipcu_test_region_attach(self->dev, self->name, IPCU_ATTACH_RDONLY);
	ASSERT_LE(0, ro);

	w = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(w != MAP_FAILED);
	memset(w, 0x3c, 2 * self->pg);
	r = ipcu_test_map(fd, 2, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);

	EXPECT_EQ(-EPERM, ipcu_test_seal(ro, 0));
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	/* Dropping PROT_WRITE does not help: the mapping may write again. */
	ASSERT_EQ(0, mprotect(w, 2 * self->pg, PROT_READ));
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	/* Nor does unmapping half of it. */
	ASSERT_EQ(0, munmap(w, self->pg));
	EXPECT_EQ(1, stats_writable_maps(fd));
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	ASSERT_EQ(0, munmap(w + self->pg, self->pg));
	EXPECT_EQ(0, stats_writable_maps(fd));

	/* A read-only mapping never stands in the way. */
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	EXPECT_EQ(-EPERM, ipcu_test_seal(ro, 0));
	ASSERT_EQ(0, ipcu_test_region_stats(fd, &s));
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);
	EXPECT_EQ(2, s.private_pages);
	ASSERT_EQ(0, ipcu_test_region_stats(ro, &s));
	EXPECT_EQ(IPCU_REGION_SEALED, s.state);

	/* After the seal: no writable mapping, no upgrade, reads work. */
	EXPECT_TRUE(ipcu_test_map(fd, 2, RW, 0) == MAP_FAILED);
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(ipcu_test_map(fd, 1, PROT_WRITE, 1) == MAP_FAILED);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, mprotect(r, 2 * self->pg, RW));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0x3c, r[0]);
	EXPECT_EQ(0x3c, r[2 * self->pg - 1]);
	r2 = ipcu_test_map(fd, 1, PROT_READ, 1);
	ASSERT_TRUE(r2 != MAP_FAILED);
	EXPECT_EQ(0x3c, r2[0]);
	EXPECT_EQ(-1, mprotect(r2, self->pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, stats_writable_maps(fd));

	munmap(r, 2 * self->pg);
	munmap(r2, self->pg);
	close(ro);
	close(fd);
}

TEST_F(region, seal_waits_for_forked_mapping)
{
	unsigned char *w;
	int fd, go[2], done[2];
	pid_t pid;
	char c;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	w = ipcu_test_map(fd, 1, RW, 0);
	ASSERT_TRUE(w != MAP_FAILED);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		w[0] = 9;
		IPCU_TEST_CHILD_CHECK(write(done[1], "x", 1) == 1, "write");
		/* Hold the inherited mapping until told. */
		IPCU_TEST_CHILD_CHECK(read(go[0], &c, 1) == 1, "read");
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	ASSERT_EQ(1, read(done[0], &c, 1));
	EXPECT_EQ(9, w[0]);
	EXPECT_EQ(2, stats_writable_maps(fd));
	munmap(w, self->pg);
	EXPECT_EQ(1, stats_writable_maps(fd));
	/* The child's copy of the mapping may still write. */
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	ASSERT_EQ(1, write(go[1], "x", 1));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(0, stats_writable_maps(fd));
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	close(go[1]);
	close(done[0]);
	close(fd);
}

TEST_F(region, sealed_clone_rules)
{
	unsigned char *p, *q;
	int fd, c, c2;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 1, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 1;
	/* Born sealed: the source's writable mapping does not matter. */
	c = ipcu_test_clone(fd, IPCU_CLONE_SEAL);
	ASSERT_LE(0, c);
	EXPECT_TRUE(ipcu_test_map(c, 1, RW, 0) == MAP_FAILED);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, ipcu_test_seal(c, 0));
	q = ipcu_test_map(c, 1, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(-1, mprotect(q, self->pg, RW));
	EXPECT_EQ(EACCES, errno);
	p[0] = 2;
	EXPECT_EQ(1, q[0]);
	/* A clone of a sealed region is writable unless asked otherwise. */
	c2 = ipcu_test_clone(c, 0);
	ASSERT_LE(0, c2);
	munmap(q, self->pg);
	q = ipcu_test_map(c2, 1, RW, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(1, q[0]);
	q[0] = 3;
	EXPECT_EQ(2, p[0]);
	munmap(q, self->pg);
	q = ipcu_test_map(c, 1, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	EXPECT_EQ(1, q[0]);
	munmap(q, self->pg);
	munmap(p, self->pg);
	close(c2);
	close(c);
	close(fd);
}

/* --- STATS and the rest ------------------------------------------------- */

TEST_F(region, stats_bad_args)
{
	struct ipcu_region_stats s;
	unsigned int bit, i;
	int fd, prod;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	for (bit = 0; bit < 32; bit++) {
		memset(&s, 0, sizeof(s));
		s.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, &s))
			TH_LOG("flag bit %u", bit);
	}
	for (i = 0; i < 3; i++) {
		memset(&s, 0, sizeof(s));
		s.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, &s))
			TH_LOG("reserved[%u]", i);
	}
	/* Output fields may hold anything on input. */
	memset(&s, 0xa5, sizeof(s));
	s.flags = 0;
	memset(s.reserved, 0, sizeof(s.reserved));
	EXPECT_EQ(0, ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, &s));
	EXPECT_EQ(self->pg, s.size);
	EXPECT_EQ(0, s.private_pages | s.shared_pages | s.cow_copies |
		     s.writable_maps | s.state);
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(fd, IPCU_IOC_REGION_STATS, NULL));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->dev, IPCU_IOC_REGION_STATS, &s));
	prod = ipcu_test_create(self->dev, 8, 64, self->pg, NULL, 0,
				IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, prod);
	memset(&s, 0, sizeof(s));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(prod, IPCU_IOC_REGION_STATS, &s));
	close(prod);
	close(fd);
}

TEST_F(region, other_ioctls_on_region_fd)
{
	union {
		struct ipcu_ep_info info;
		struct ipcu_ep_peer peer;
		struct ipcu_ep_eventfd efd;
		struct ipcu_wait wait;
		struct ipcu_version version;
		struct ipcu_region_create rc;
		struct ipcu_region_attach ra;
		struct ipcu_chan_create cc;
		struct ipcu_chan_attach ca;
		char raw[256];
	} u;
	int fd;

	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	memset(&u, 0, sizeof(u));
	/* Endpoint commands. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_EP_INFO, &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_EP_PEER, &u));
	u.efd.fd = -1;
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_EP_EVENTFD, &u));
	memset(&u, 0, sizeof(u));
	EXPECT_EQ(-1, ioctl(fd, IPCU_IOC_DOORBELL, 0UL));
	EXPECT_EQ(ENOTTY, errno);
	u.wait.doorbell_fd = -1;
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_WAIT, &u));
	/* Device commands. */
	memset(&u, 0, sizeof(u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_VERSION, &u));
	u.rc.size = self->pg;
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_REGION_CREATE, &u));
	memset(&u, 0, sizeof(u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_REGION_ATTACH, &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_CHAN_CREATE, &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, IPCU_IOC_CHAN_ATTACH, &u));
	/* Unused numbers around the region commands. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, _IOWR(IPCU_IOC_MAGIC, 0x23,
						     struct ipcu_clone), &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, _IOWR(IPCU_IOC_MAGIC, 0x1f,
						     struct ipcu_clone), &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, _IOR(IPCU_IOC_MAGIC, 0x20,
						    struct ipcu_clone), &u));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(fd, TCGETS, &u));
	close(fd);
}

/* --- mmap policy -------------------------------------------------------- */

/* One mmap() of a 4-page region and its expected outcome. */
struct map_case {
	const char *what;
	int prot;
	int flags;
	long pgoff;
	long pages;
	int err;	/* 0 for success */
};

static const struct map_case map_cases[] = {
	{ "shared rw, all",		RW,	   MAP_SHARED,	 0, 4, 0 },
	{ "shared ro, all",		PROT_READ, MAP_SHARED,	 0, 4, 0 },
	{ "shared none",		PROT_NONE, MAP_SHARED,	 0, 1, 0 },
	{ "shared wo",			PROT_WRITE, MAP_SHARED,	 2, 1, 0 },
	{ "shared rw, last page",	RW,	   MAP_SHARED,	 3, 1, 0 },
	{ "shared rw, middle",		RW,	   MAP_SHARED,	 1, 2, 0 },
	{ "shared_validate rw",		RW, MAP_SHARED_VALIDATE, 0, 4, 0 },
	{ "private rw",			RW,	   MAP_PRIVATE,	 0, 4, EINVAL },
	{ "private ro",			PROT_READ, MAP_PRIVATE,	 0, 1, EINVAL },
	{ "private none",		PROT_NONE, MAP_PRIVATE,	 0, 1, EINVAL },
	{ "one page too long",		RW,	   MAP_SHARED,	 0, 5, EINVAL },
	{ "straddles the end",		PROT_READ, MAP_SHARED,	 3, 2, EINVAL },
	{ "offset at the end",		PROT_READ, MAP_SHARED,	 4, 1, EINVAL },
	{ "offset past the end",	RW,	   MAP_SHARED,	 5, 1, EINVAL },
	{ "offset far past the end",	PROT_READ, MAP_SHARED, 65536, 1, EINVAL },
	{ "far too long",		PROT_READ, MAP_SHARED,	 0, 4096, EINVAL },
};

TEST_F(region, mmap_policy_table)
{
	long regions = ipcu_test_stat("regions");
	unsigned int i;
	int fd;

	fd = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *m = &map_cases[i];
		size_t len = (size_t)m->pages * self->pg;
		void *p;

		errno = 0;
		p = mmap(NULL, len, m->prot, m->flags, fd,
			 (off_t)(m->pgoff * (long)self->pg));
		if (m->err) {
			EXPECT_TRUE(p == MAP_FAILED) TH_LOG("%s", m->what);
			EXPECT_EQ(m->err, errno) TH_LOG("%s", m->what);
			if (p != MAP_FAILED)
				munmap(p, len);
			continue;
		}
		ASSERT_TRUE(p != MAP_FAILED) TH_LOG("%s: %s", m->what,
						    strerror(errno));
		EXPECT_EQ(m->prot & PROT_WRITE ? 1 : 0, stats_writable_maps(fd))
			TH_LOG("%s", m->what);
		if (m->prot & PROT_WRITE)
			((volatile unsigned char *)p)[len - 1] = (unsigned char)i;
		if (m->prot & PROT_READ)
			(void)((volatile unsigned char *)p)[0];
		EXPECT_EQ(0, munmap(p, len));
		EXPECT_EQ(0, stats_writable_maps(fd)) TH_LOG("%s", m->what);
	}
	close(fd);
	/* Failed mmap()s leave no reference behind. */
	EXPECT_EQ(regions, ipcu_test_stat("regions"));
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/* 0 if a read of @p works, else the signal it raised. */
static int try_read(const volatile unsigned char *p)
{
	struct sigaction sa, old_segv, old_bus;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fault_handler;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig)
		(void)*p;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

TEST_F(region, mremap_grow_shrink_move)
{
	unsigned char *p, *q, *hole;
	int fd;

	fd = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 0xa1;
	p[self->pg] = 0xa2;

	/* A region mapping never grows, in place or moving. */
	EXPECT_TRUE(mremap(p, 2 * self->pg, 3 * self->pg, 0) == MAP_FAILED);
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(mremap(p, 2 * self->pg, 4 * self->pg, MREMAP_MAYMOVE) ==
		    MAP_FAILED);
	EXPECT_EQ(EFAULT, errno);
	/* MREMAP_DONTUNMAP would leave the old range behind: refused. */
	EXPECT_TRUE(mremap(p, 2 * self->pg, 2 * self->pg,
			   MREMAP_MAYMOVE | MREMAP_DONTUNMAP) == MAP_FAILED);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, stats_writable_maps(fd));

	/* Moving keeps the pages and the accounting. */
	hole = mmap(NULL, 4 * self->pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_TRUE(hole != MAP_FAILED);
	q = mremap(p, 2 * self->pg, 2 * self->pg, MREMAP_MAYMOVE | MREMAP_FIXED,
		   hole + self->pg);
	ASSERT_TRUE(q == hole + self->pg);
	EXPECT_EQ(0xa1, q[0]);
	EXPECT_EQ(0xa2, q[self->pg]);
	q[1] = 0xb1;
	EXPECT_EQ(1, stats_writable_maps(fd));
	EXPECT_EQ(SIGSEGV, try_read(p));

	/* Shrinking drops the tail only. */
	p = mremap(q, 2 * self->pg, self->pg, 0);
	ASSERT_TRUE(p == q);
	EXPECT_EQ(0xb1, p[1]);
	EXPECT_EQ(1, stats_writable_maps(fd));
	EXPECT_EQ(0, munmap(p, self->pg));
	EXPECT_EQ(0, stats_writable_maps(fd));
	munmap(hole, 4 * self->pg);

	/* The data stayed in the region. */
	p = ipcu_test_map(fd, 2, PROT_READ, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(0xb1, p[1]);
	EXPECT_EQ(0xa2, p[self->pg]);
	munmap(p, 2 * self->pg);
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	close(fd);
}

TEST_F(region, mremap_next_to_another_mapping)
{
	unsigned char *hole, *a, *b;
	long regions = ipcu_test_stat("regions");
	int fd;

	/*
	 * Mappings of consecutive offsets of the same file, side by side:
	 * whether or not the kernel merges them, every VMA's open and close
	 * must balance.
	 */
	fd = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	hole = mmap(NULL, 8 * self->pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_TRUE(hole != MAP_FAILED);
	a = mmap(hole, self->pg, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_TRUE(a == hole);
	b = mmap(hole + self->pg, self->pg, RW, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)self->pg);
	ASSERT_TRUE(b == hole + self->pg);
	a[0] = 1;
	b[0] = 2;
	EXPECT_EQ(2, stats_writable_maps(fd));
	/* Page 2 mapped far away, then moved next to page 1. */
	b = mmap(hole + 5 * self->pg, self->pg, RW, MAP_SHARED | MAP_FIXED, fd,
		 2 * (off_t)self->pg);
	ASSERT_TRUE(b == hole + 5 * self->pg);
	b[0] = 3;
	EXPECT_EQ(3, stats_writable_maps(fd));
	b = mremap(b, self->pg, self->pg, MREMAP_MAYMOVE | MREMAP_FIXED,
		   hole + 2 * self->pg);
	ASSERT_TRUE(b == hole + 2 * self->pg);
	EXPECT_EQ(1, hole[0]);
	EXPECT_EQ(2, hole[self->pg]);
	EXPECT_EQ(3, hole[2 * self->pg]);
	/* 3 VMAs, or fewer if merged: never more writable maps than that. */
	EXPECT_GE(3, stats_writable_maps(fd));
	EXPECT_LE(1, stats_writable_maps(fd));
	/* Split the range in the middle again, then unmap everything. */
	ASSERT_EQ(0, mprotect(hole + self->pg, self->pg, PROT_READ));
	EXPECT_EQ(2, hole[self->pg]);
	ASSERT_EQ(0, munmap(hole, 8 * self->pg));
	EXPECT_EQ(0, stats_writable_maps(fd));
	EXPECT_EQ(0, ipcu_test_seal(fd, 0));
	close(fd);
	EXPECT_EQ(regions, ipcu_test_stat("regions"));
}

TEST_F(region, partial_munmap)
{
	unsigned char *p;
	size_t i;
	int fd;

	fd = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 4, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < 4; i++)
		p[i * self->pg] = (unsigned char)(0x40 + i);
	/* A hole in the middle leaves two mappings that may both write. */
	ASSERT_EQ(0, munmap(p + self->pg, 2 * self->pg));
	EXPECT_EQ(2, stats_writable_maps(fd));
	EXPECT_EQ(SIGSEGV, try_read(p + self->pg));
	EXPECT_EQ(0x40, p[0]);
	EXPECT_EQ(0x43, p[3 * self->pg]);
	p[3 * self->pg + 1] = 0x55;
	EXPECT_EQ(-EBUSY, ipcu_test_seal(fd, 0));
	ASSERT_EQ(0, munmap(p, self->pg));
	EXPECT_EQ(1, stats_writable_maps(fd));
	ASSERT_EQ(0, munmap(p + 3 * self->pg, self->pg));
	EXPECT_EQ(0, stats_writable_maps(fd));
	/* The unmapped pages kept their data. */
	p = ipcu_test_map(fd, 4, PROT_READ, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0x40 + i, p[i * self->pg]);
	EXPECT_EQ(0x55, p[3 * self->pg + 1]);
	munmap(p, 4 * self->pg);
	close(fd);
}

TEST_F(region, mprotect_rules)
{
	unsigned char *r, *w;
	int fd;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	/* Made without PROT_WRITE: never writable, even on an O_RDWR fd. */
	r = ipcu_test_map(fd, 2, PROT_READ, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	EXPECT_EQ(0, stats_writable_maps(fd));
	EXPECT_EQ(-1, mprotect(r, 2 * self->pg, RW));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(r + self->pg, self->pg, PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, mprotect(r, self->pg, PROT_NONE));
	EXPECT_EQ(0, mprotect(r, self->pg, PROT_READ));
	EXPECT_EQ(0, stats_writable_maps(fd));

	/* Made with PROT_WRITE: may go down and up again. */
	w = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(w != MAP_FAILED);
	w[0] = 1;
	ASSERT_EQ(0, mprotect(w, 2 * self->pg, PROT_READ));
	EXPECT_EQ(1, stats_writable_maps(fd));
	ASSERT_EQ(0, mprotect(w + self->pg, self->pg, RW));
	w[self->pg] = 2;
	EXPECT_EQ(2, stats_writable_maps(fd));	/* split in two */
	EXPECT_EQ(1, r[0]);
	EXPECT_EQ(2, r[self->pg]);
	munmap(w, 2 * self->pg);
	munmap(r, 2 * self->pg);
	EXPECT_EQ(0, stats_writable_maps(fd));
	close(fd);
}

TEST_F(region, fork_with_mapping)
{
	unsigned char *p;
	pid_t pid;
	int fd;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 7;
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A shared mapping stays shared across fork(). */
		IPCU_TEST_CHILD_CHECK(p[0] == 7, "%d", p[0]);
		p[self->pg] = 8;
		_exit(stats_writable_maps(fd) == 2 ? 0 : 2);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
	EXPECT_EQ(8, p[self->pg]);
	EXPECT_EQ(1, stats_writable_maps(fd));
	munmap(p, 2 * self->pg);
	close(fd);
}

TEST_F(region, madvise_keeps_data)
{
	unsigned char *p;
	int fd;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 0x6b, 2 * self->pg);
	/* Dropping the page tables of a shared mapping drops no data. */
	ASSERT_EQ(0, madvise(p, 2 * self->pg, MADV_DONTNEED));
	EXPECT_EQ(0x6b, p[0]);
	EXPECT_EQ(0x6b, p[2 * self->pg - 1]);
	/* Punching a hole is not supported: the pages stay. */
	EXPECT_EQ(-1, madvise(p, self->pg, MADV_REMOVE));
	EXPECT_EQ(0x6b, p[1]);
	madvise(p, 2 * self->pg, MADV_WILLNEED);
	madvise(p, 2 * self->pg, MADV_COLD);
	madvise(p, 2 * self->pg, MADV_PAGEOUT);
	EXPECT_EQ(0x6b, p[self->pg]);
	EXPECT_EQ(0x6b, p[0]);
	munmap(p, 2 * self->pg);
	close(fd);
}

TEST_F(region, mapping_outlives_fd)
{
	long regions = ipcu_test_stat("regions");
	unsigned char *p, *q;
	int fd, c;

	fd = ipcu_test_region_create(self->dev, 2 * self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	p = ipcu_test_map(fd, 2, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 0x31;
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	close(fd);
	/* The mapping keeps the region, its pages and its writes. */
	p[self->pg] = 0x32;
	EXPECT_EQ(0x31, p[0]);
	q = ipcu_test_map(c, 2, PROT_READ, 0);
	ASSERT_TRUE(q != MAP_FAILED);
	close(c);
	EXPECT_EQ(0x31, q[0]);
	EXPECT_EQ(0, q[self->pg]);
	EXPECT_EQ(regions + 2, ipcu_test_stat("regions"));
	munmap(p, 2 * self->pg);
	EXPECT_EQ(0x31, q[0]);
	munmap(q, 2 * self->pg);
	EXPECT_EQ(regions, ipcu_test_stat("regions"));
}

/* --- per-user limits ------------------------------------------------------ */

FIXTURE(limits) {
	int dev;
	size_t pg;
	long long max_objects;
	long long max_bytes;
	long regions;
	long pages;
	long users;
};

FIXTURE_SETUP(limits)
{
	self->pg = (size_t)sysconf(_SC_PAGESIZE);
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev);
	self->max_objects = ipcu_test_param_get("max_objects_per_user");
	self->max_bytes = ipcu_test_param_get("max_bytes_per_user");
	if (self->max_objects < 0 || self->max_bytes < 0 || geteuid() != 0)
		SKIP(return, "needs root and /sys/module/ipcunit/parameters");
	self->regions = ipcu_test_stat("regions");
	self->pages = ipcu_test_stat("pages");
	self->users = ipcu_test_stat("users");
}

FIXTURE_TEARDOWN(limits)
{
	if (self->max_objects >= 0)
		ipcu_test_param_set("max_objects_per_user", self->max_objects);
	if (self->max_bytes >= 0)
		ipcu_test_param_set("max_bytes_per_user", self->max_bytes);
	close(self->dev);
}

/* The counters are back to where the test started. */
static void limits_check_counters(struct __test_metadata *_metadata,
				  FIXTURE_DATA(limits) *self)
{
	EXPECT_EQ(self->regions, ipcu_test_stat("regions"));
	EXPECT_EQ(self->pages, ipcu_test_stat("pages"));
	EXPECT_EQ(self->users, ipcu_test_stat("users"));
}

TEST_F(limits, objects)
{
	int fd[4], c, ch, i;

	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 4));
	EXPECT_EQ(4, ipcu_test_param_get("max_objects_per_user"));
	for (i = 0; i < 4; i++) {
		fd[i] = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
		ASSERT_LE(0, fd[i]) TH_LOG("region %d: %s", i, strerror(-fd[i]));
	}
	EXPECT_EQ(-ENOSPC, ipcu_test_region_create(self->dev, self->pg, NULL, 0));
	EXPECT_EQ(-ENOSPC, ipcu_test_region_create(self->dev, self->pg,
						   "region_test.limits", 0600));
	/* Clones and channels count against the same limit. */
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(fd[0], 0));
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(fd[0], IPCU_CLONE_SEAL));
	EXPECT_EQ(-ENOSPC, ipcu_test_create(self->dev, 8, 64, self->pg, NULL, 0,
					    IPCU_ROLE_PRODUCER));
	EXPECT_EQ(self->regions + 4, ipcu_test_stat("regions"));
	/* Failed creates published nothing. */
	EXPECT_EQ(-ENOENT, ipcu_test_region_attach(self->dev,
						   "region_test.limits", 0));

	close(fd[3]);
	c = ipcu_test_clone(fd[0], 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(c, 0));
	close(c);
	ch = ipcu_test_create(self->dev, 8, 64, self->pg, NULL, 0,
			      IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, ch);
	/* A clone of a channel counts too. */
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(ch, 0));
	close(ch);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	limits_check_counters(_metadata, self);
}

static int nobody_creates(const char *name, void *arg)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int dev = ipcu_test_open(O_RDWR);
	int fd;

	(void)name;
	(void)arg;
	IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
	fd = ipcu_test_region_create(dev, pg, NULL, 0);
	IPCU_TEST_CHILD_CHECK(fd >= 0, "create: %d", fd);
	IPCU_TEST_CHILD_CHECK(ipcu_test_clone(fd, 0) >= 0, "clone");
	return 0;
}

TEST_F(limits, per_user)
{
	int fd, c;

	/* One user at its limit does not stop another. */
	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 2));
	fd = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, fd);
	c = ipcu_test_clone(fd, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(fd, 0));
	EXPECT_EQ(0, as_nobody(nobody_creates, NULL, NULL));
	/* Everything the other user had is gone with it. */
	EXPECT_EQ(self->users + 1, ipcu_test_stat("users"));
	EXPECT_EQ(self->regions + 2, ipcu_test_stat("regions"));
	close(fd);
	close(c);
	limits_check_counters(_metadata, self);
}

TEST_F(limits, bytes)
{
	unsigned char *p;
	int a, b, c;

	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 8 * self->pg));
	/* More than the limit at once: no object is needed to fail. */
	EXPECT_EQ(-ENOSPC, ipcu_test_region_create(self->dev, 9 * self->pg,
						   NULL, 0));
	a = ipcu_test_region_create(self->dev, 8 * self->pg, NULL, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(-ENOSPC, ipcu_test_region_create(self->dev, self->pg, NULL, 0));
	close(a);

	/* A clone is charged its full size, shared pages or not. */
	a = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, a);
	p = ipcu_test_map(a, 4, RW, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	memset(p, 1, 4 * self->pg);
	b = ipcu_test_clone(a, 0);
	ASSERT_LE(0, b);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(a, 0));
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(b, IPCU_CLONE_SEAL));
	/* The limit is on charges, not on pages: writes always work. */
	memset(p, 2, 4 * self->pg);
	close(b);
	c = ipcu_test_clone(a, 0);
	ASSERT_LE(0, c);
	close(c);
	munmap(p, 4 * self->pg);
	close(a);

	/* The largest size is valid, and over a byte limit it is ENOSPC. */
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 1LL << 30));
	EXPECT_EQ(-ENOSPC, ipcu_test_region_create(self->dev, IPCU_REGION_MAX,
						   NULL, 0));
	EXPECT_EQ(-EINVAL, ipcu_test_region_create(self->dev,
						   IPCU_REGION_MAX + self->pg,
						   NULL, 0));

	/* Sizes past 4 GiB, also from 32-bit processes. */
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 8LL << 30));
	a = ipcu_test_region_create(self->dev, (4ULL << 30) + self->pg, NULL, 0);
	ASSERT_LE(0, a) TH_LOG("%s", strerror(-a));
	{
		struct ipcu_region_stats s;

		ASSERT_EQ(0, ipcu_test_region_stats(a, &s));
		EXPECT_EQ((4ULL << 30) + self->pg, s.size);
	}
	p = mmap(NULL, self->pg, RW, MAP_SHARED, a, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	p[0] = 1;
	munmap(p, self->pg);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(a, 0));
	close(a);
	limits_check_counters(_metadata, self);
}

TEST_F(limits, lower_limit_keeps_existing)
{
	int a, b;

	a = ipcu_test_region_create(self->dev, 4 * self->pg, NULL, 0);
	ASSERT_LE(0, a);
	b = ipcu_test_clone(a, 0);
	ASSERT_LE(0, b);
	/* Lowering a limit under the usage breaks nothing that exists. */
	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 1));
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", self->pg));
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(a, 0));
	close(b);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(a, 0));
	close(a);
	a = ipcu_test_region_create(self->dev, self->pg, NULL, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(-ENOSPC, ipcu_test_clone(a, 0));
	close(a);
	limits_check_counters(_metadata, self);
}

TEST_HARNESS_MAIN
