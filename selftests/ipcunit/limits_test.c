// SPDX-License-Identifier: GPL-2.0
/*
 * Resource limits: the per-user object and byte limits (module parameters
 * max_objects_per_user and max_bytes_per_user, -ENOSPC past them, counted
 * by the creator's euid) and the memory cgroup (channel memory is charged
 * to the creator: a small memory.max gives a clean -ENOMEM).  After every
 * test the module's counters are back where they started.
 *
 * Runs as root: it writes the module parameters (and restores them).
 */
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define PG		((__u64)sysconf(_SC_PAGESIZE))
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define NOBODY		65534
#define MAX_FDS		256

/* Bytes charged for a channel: both control pages, descriptors, payload. */
static __u64 charge(__u32 entries, __u64 payload)
{
	__u64 desc = ((__u64)entries * sizeof(struct ipcu_desc) + PG - 1) / PG;

	return (2 + desc) * PG + payload;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

FIXTURE(limits) {
	long long max_objects;
	long long max_bytes;
	struct ipcu_test_counters start;
	int dev;
	int fds[MAX_FDS];
	unsigned int nr_fds;
	char cgroup[128];
};

FIXTURE_SETUP(limits)
{
	ASSERT_EQ(0, geteuid()) TH_LOG("the limit tests run as root");
	self->max_objects = ipcu_test_param_get("max_objects_per_user");
	self->max_bytes = ipcu_test_param_get("max_bytes_per_user");
	ASSERT_LE(0, self->max_objects);
	ASSERT_LE(0, self->max_bytes);
	ASSERT_EQ(0, ipcu_test_counters_read(&self->start));
	self->dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->dev);
}

static void close_all(FIXTURE_DATA(limits) *self)
{
	while (self->nr_fds)
		close(self->fds[--self->nr_fds]);
}

FIXTURE_TEARDOWN(limits)
{
	close_all(self);
	close(self->dev);
	if (self->cgroup[0])
		rmdir(self->cgroup);
	/* A test that changed a limit must not leak it into the next. */
	EXPECT_EQ(0, ipcu_test_param_set("max_objects_per_user",
					 self->max_objects));
	EXPECT_EQ(0, ipcu_test_param_set("max_bytes_per_user",
					 self->max_bytes));
}

/* Create a small unnamed channel and keep it: 0 or -errno. */
static int create_keep(FIXTURE_DATA(limits) *self, __u32 entries,
		       __u64 payload)
{
	int fd;

	if (self->nr_fds >= MAX_FDS)
		return -EMFILE;
	fd = ipcu_test_create(self->dev, entries, 64, payload, NULL, 0,
			      IPCU_ROLE_PRODUCER);
	if (fd < 0)
		return fd;
	self->fds[self->nr_fds++] = fd;
	return 0;
}

static int create_small(FIXTURE_DATA(limits) *self)
{
	return create_keep(self, 8, PG);
}

/* Everything freed: the counters are where the test started. */
#define EXPECT_COUNTERS_AT_START() do {					\
	struct ipcu_test_counters __now;				\
									\
	ASSERT_EQ(0, ipcu_test_counters_read(&__now));			\
	EXPECT_EQ(self->start.channels, __now.channels);		\
	EXPECT_EQ(self->start.endpoints, __now.endpoints);		\
	EXPECT_EQ(self->start.pages, __now.pages);			\
	EXPECT_EQ(self->start.users, __now.users);			\
} while (0)

TEST_F(limits, object_limit)
{
	struct ipcu_test_counters now;
	int i, peer;

	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 3));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, create_small(self)) TH_LOG("channel %d", i);
	EXPECT_EQ(-ENOSPC, create_small(self));
	/* Named or not, any role, any geometry. */
	EXPECT_EQ(-ENOSPC, ipcu_test_create(self->dev, 1, 1, PG, "limits_test",
					    0600, IPCU_ROLE_CONSUMER));
	EXPECT_EQ(-ENOSPC, create_keep(self, 1024, 16 * PG));

	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.channels + 3, now.channels);
	EXPECT_EQ(self->start.users + 1, now.users);

	/* A second endpoint is not a new object. */
	peer = ipcu_test_peer(self->fds[0]);
	EXPECT_LE(0, peer);
	close(peer);

	/* Room again after one is freed, and only for one. */
	close(self->fds[--self->nr_fds]);
	EXPECT_EQ(0, create_small(self));
	EXPECT_EQ(-ENOSPC, create_small(self));

	close_all(self);
	EXPECT_COUNTERS_AT_START();
	EXPECT_EQ(0, create_small(self));
	close_all(self);
	EXPECT_COUNTERS_AT_START();
}

TEST_F(limits, object_limit_zero)
{
	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 0));
	EXPECT_EQ(-ENOSPC, create_small(self));
	/* The failed charge left no accounting record behind. */
	EXPECT_COUNTERS_AT_START();
}

/* Lowering the limit keeps what exists and refuses more. */
TEST_F(limits, object_limit_lowered)
{
	struct ipcu_ep_info info;
	int i;

	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 10));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, create_small(self));
	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 2));
	EXPECT_EQ(-ENOSPC, create_small(self));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, ipcu_test_ep_info(self->fds[i], &info));
	close(self->fds[--self->nr_fds]);
	close(self->fds[--self->nr_fds]);
	EXPECT_EQ(-ENOSPC, create_small(self));
	close(self->fds[--self->nr_fds]);
	EXPECT_EQ(0, create_small(self));
	close_all(self);
	EXPECT_COUNTERS_AT_START();
}

/* Create until the limit, named channels with both endpoints open. */
TEST_F(limits, create_until_failure)
{
	struct ipcu_test_counters now;
	char name[IPCU_NAME_MAX];
	int i, fd, ret;

	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 100));
	for (i = 0; ; i++) {
		snprintf(name, sizeof(name), "limits_test-%d-%d", getpid(), i);
		ret = ipcu_test_create(self->dev, 16, 64, PG, name, 0600,
				       IPCU_ROLE_PRODUCER);
		if (ret < 0)
			break;
		self->fds[self->nr_fds++] = ret;
		fd = ipcu_test_attach(self->dev, name, IPCU_ROLE_CONSUMER);
		ASSERT_LE(0, fd);
		self->fds[self->nr_fds++] = fd;
		ASSERT_GT(100, i);
	}
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_EQ(100, i);
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.channels + 100, now.channels);
	EXPECT_EQ(self->start.endpoints + 200, now.endpoints);
	EXPECT_EQ(self->start.pages + 100 * (charge(16, PG) / PG), now.pages);
	close_all(self);
	EXPECT_COUNTERS_AT_START();
	/* The names went with the channels. */
	snprintf(name, sizeof(name), "limits_test-%d-%d", getpid(), 0);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(self->dev, name, IPCU_ROLE_CONSUMER));
}

TEST_F(limits, byte_limit)
{
	const __u64 small = charge(8, PG);

	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 4 * small));
	ASSERT_EQ(0, create_small(self));
	ASSERT_EQ(0, create_small(self));
	ASSERT_EQ(0, create_small(self));
	ASSERT_EQ(0, create_small(self));
	EXPECT_EQ(-ENOSPC, create_small(self));
	close(self->fds[--self->nr_fds]);
	EXPECT_EQ(-ENOSPC, create_keep(self, 8, 2 * PG));
	EXPECT_EQ(0, create_small(self));
	EXPECT_EQ(-ENOSPC, create_small(self));
	close_all(self);
	EXPECT_COUNTERS_AT_START();
}

/* The limit is inclusive, and every page counts: control, ring, payload. */
TEST_F(limits, byte_limit_exact)
{
	const __u64 two_desc = charge(512, PG);	/* 2 + 2 + 1 pages */
	const __u64 big = charge(8, 8 * PG);	/* 2 + 1 + 8 pages */

	ASSERT_EQ(5 * PG, two_desc);
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", two_desc - 1));
	EXPECT_EQ(-ENOSPC, create_keep(self, 512, PG));
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", two_desc));
	EXPECT_EQ(0, create_keep(self, 512, PG));
	EXPECT_EQ(-ENOSPC, create_keep(self, 1, PG));
	close_all(self);

	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", big));
	EXPECT_EQ(0, create_keep(self, 8, 8 * PG));
	EXPECT_EQ(-ENOSPC, create_keep(self, 1, PG));
	close_all(self);
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", big - PG));
	EXPECT_EQ(-ENOSPC, create_keep(self, 8, 8 * PG));
	EXPECT_EQ(0, create_keep(self, 8, 4 * PG));
	close_all(self);
	EXPECT_COUNTERS_AT_START();
}

/* One channel bigger than the whole limit, as a user owning nothing yet. */
TEST_F(limits, byte_limit_single_channel)
{
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 16 * PG));
	EXPECT_EQ(-ENOSPC, create_keep(self, 8, 16 * PG));
	EXPECT_EQ(-ENOSPC, create_keep(self, 8, 1ULL << 30));
	EXPECT_COUNTERS_AT_START();
	ASSERT_EQ(0, ipcu_test_param_set("max_bytes_per_user", 0));
	EXPECT_EQ(-ENOSPC, create_small(self));
	EXPECT_COUNTERS_AT_START();
}

/* Each uid has its own budget; attaching to another's channel is free. */
TEST_F(limits, per_uid)
{
	struct ipcu_test_counters now;
	int to_parent[2], to_child[2];
	char name[IPCU_NAME_MAX];
	char b = 0;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 2));
	ASSERT_EQ(0, create_small(self));
	snprintf(name, sizeof(name), "limits_test-%d", getpid());
	fd = ipcu_test_create(self->dev, 8, 64, PG, name, 0666,
			      IPCU_ROLE_PRODUCER);
	ASSERT_LE(0, fd);
	self->fds[self->nr_fds++] = fd;
	EXPECT_EQ(-ENOSPC, create_small(self));
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, a, c, d, e;

		if (ipcu_test_become(NOBODY, NOBODY))
			_exit(100);
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		a = ipcu_test_create(dev, 8, 64, PG, NULL, 0, 0);
		IPCU_TEST_CHILD_CHECK(a >= 0, "first: %d", a);
		c = ipcu_test_create(dev, 8, 64, PG, NULL, 0, 0);
		IPCU_TEST_CHILD_CHECK(c >= 0, "second: %d", c);
		d = ipcu_test_create(dev, 8, 64, PG, NULL, 0, 0);
		IPCU_TEST_CHILD_CHECK(d == -ENOSPC, "third: %d", d);
		e = ipcu_test_attach(dev, name, IPCU_ROLE_CONSUMER);
		IPCU_TEST_CHILD_CHECK(e >= 0, "attach: %d", e);
		IPCU_TEST_CHILD_CHECK(write(to_parent[1], &b, 1) == 1, "sync");
		IPCU_TEST_CHILD_CHECK(read(to_child[0], &b, 1) == 1, "sync");
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &b, 1));
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.users + 2, now.users);
	EXPECT_EQ(self->start.channels + 4, now.channels);
	/* Root's budget did not move either way. */
	EXPECT_EQ(-ENOSPC, create_small(self));
	ASSERT_EQ(1, write(to_child[1], &b, 1));
	EXPECT_EQ(0, ipcu_test_reap(pid));
	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(self->start.users + 1, now.users);
	EXPECT_EQ(-ENOSPC, create_small(self));
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
}

/* The creator's effective uid is charged. */
TEST_F(limits, charged_to_euid)
{
	ASSERT_EQ(0, ipcu_test_param_set("max_objects_per_user", 1));
	ASSERT_EQ(0, create_small(self));
	EXPECT_EQ(-ENOSPC, create_small(self));
	ASSERT_EQ(0, seteuid(NOBODY));
	EXPECT_EQ(0, create_small(self));
	EXPECT_EQ(-ENOSPC, create_small(self));
	ASSERT_EQ(0, seteuid(0));
	EXPECT_EQ(-ENOSPC, create_small(self));
	close_all(self);
	EXPECT_COUNTERS_AT_START();
}

/* ---- memory cgroup ------------------------------------------------------- */

static int file_has_word(const char *path, const char *word)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = strtok(buf, "\n "); p; p = strtok(NULL, "\n "))
		if (!strcmp(p, word))
			return 1;
	return 0;
}

/*
 * A child in a 4 MiB memory cgroup asks for a 64 MiB payload: a clean
 * -ENOMEM (not the OOM killer), and it can still create small channels.
 */
TEST_F(limits, memcg_enomem)
{
	char path[192];
	pid_t pid;
	int ret;

	if (!file_has_word(CGROUP_ROOT "/cgroup.controllers", "memory"))
		SKIP(return, "no cgroup2 memory controller at " CGROUP_ROOT);
	if (!file_has_word(CGROUP_ROOT "/cgroup.subtree_control", "memory") &&
	    write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		SKIP(return, "cannot enable the memory controller: %s",
		     strerror(errno));
	snprintf(self->cgroup, sizeof(self->cgroup),
		 CGROUP_ROOT "/limits_test-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cgroup, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", self->cgroup);
	ASSERT_EQ(0, write_file(path, "4M"));
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->cgroup);
	write_file(path, "0");
	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cgroup);

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd, i;

		IPCU_TEST_CHILD_CHECK(write_file(path, "0") == 0, "join");
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		fd = ipcu_test_create(dev, 8, 4096, 64ULL << 20, NULL, 0, 0);
		IPCU_TEST_CHILD_CHECK(fd == -ENOMEM, "64 MiB: %d", fd);
		for (i = 0; i < 4; i++) {
			fd = ipcu_test_create(dev, 8, 64, PG, NULL, 0, 0);
			IPCU_TEST_CHILD_CHECK(fd >= 0, "small %d: %d", i, fd);
			close(fd);
		}
		_exit(0);
	}
	ret = ipcu_test_reap(pid);
	EXPECT_EQ(0, ret) TH_LOG("child %s %d", ret > 128 ? "killed by signal" :
				 "exited with", ret > 128 ? ret - 128 : ret);
	EXPECT_COUNTERS_AT_START();
}

TEST_HARNESS_MAIN
