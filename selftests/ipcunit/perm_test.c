// SPDX-License-Identifier: GPL-2.0
/*
 * Named channels: owner, group and mode checked like SysV IPC objects
 * (the producer needs write, the consumer read permission), with the
 * caller's fsuid/fsgid, CAP_IPC_OWNER overriding; names live in the
 * creator's IPC namespace and die with the channel.
 *
 * Runs as root; unprivileged callers are forked children that drop to
 * other ids for good.
 */
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define PG		((size_t)sysconf(_SC_PAGESIZE))
#define NOBODY		65534
#define OTHER_UID	1000
#define GROUP		4321

/* Exit codes of the children below that are not an errno. */
#define CHILD_SETUP	200

FIXTURE(perm) {
	char name[IPCU_NAME_MAX];
	char name2[IPCU_NAME_MAX];
	int fds[8];
	unsigned int nr_fds;
};

FIXTURE_SETUP(perm)
{
	/* Every test changes ids or creates for other users. */
	ASSERT_EQ(0, geteuid()) TH_LOG("the permission tests run as root");
	snprintf(self->name, sizeof(self->name), "perm_test-%d", getpid());
	snprintf(self->name2, sizeof(self->name2), "perm_test-%d-b", getpid());
}

FIXTURE_TEARDOWN(perm)
{
	while (self->nr_fds)
		close(self->fds[--self->nr_fds]);
}

/*
 * Create @name with @mode, the creator holding @role, as if by @uid/@gid
 * (the owner and group of a channel are the creator's effective ids).
 * The endpoint stays open until the end of the test.
 */
static int create_as(FIXTURE_DATA(perm) *self, const char *name, __u32 mode,
		     uid_t uid, gid_t gid, __u32 role)
{
	int dev, fd;

	dev = ipcu_test_open(O_RDWR);
	if (dev < 0)
		return -errno;
	if (setegid(gid) || seteuid(uid))
		fd = -errno;
	else
		fd = ipcu_test_create(dev, 8, 64, PG, name, mode, role);
	if (seteuid(0) || setegid(0))
		abort();
	close(dev);
	if (fd >= 0)
		self->fds[self->nr_fds++] = fd;
	return fd;
}

/* The creator holds @role; the other role is free for attach tests. */
static int create(FIXTURE_DATA(perm) *self, __u32 mode, __u32 role)
{
	return create_as(self, self->name, mode, 0, 0, role);
}

/*
 * In a child that became @uid/@gid (with @groups supplementary groups),
 * attach @name as @role: the child's exit status is 0 on success or the
 * errno, CHILD_SETUP if it could not change ids.
 */
static int attach_in_child(const char *name, __u32 role, uid_t uid,
			   gid_t gid, const gid_t *groups, int ngroups)
{
	pid_t pid = ipcu_test_fork();

	if (pid == 0) {
		int dev, fd;

		if (setgroups(ngroups, groups) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(CHILD_SETUP);
		dev = ipcu_test_open(O_RDWR);
		if (dev < 0)
			_exit(CHILD_SETUP);
		fd = ipcu_test_attach(dev, name, role);
		_exit(fd < 0 ? -fd : 0);
	}
	return pid < 0 ? -1 : ipcu_test_reap(pid);
}

static int attach_as(const char *name, __u32 role, uid_t uid, gid_t gid)
{
	return attach_in_child(name, role, uid, gid, NULL, 0);
}

#define P	IPCU_ROLE_PRODUCER
#define C	IPCU_ROLE_CONSUMER

TEST_F(perm, mode_0600_other_user)
{
	ASSERT_LE(0, create(self, 0600, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0600, C));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
}

TEST_F(perm, mode_0644_other_user)
{
	ASSERT_LE(0, create(self, 0644, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0644, C));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
}

TEST_F(perm, mode_0622_other_user)
{
	ASSERT_LE(0, create(self, 0622, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0622, C));
	EXPECT_EQ(0, attach_as(self->name, P, NOBODY, NOBODY));
}

TEST_F(perm, mode_0666_other_user)
{
	ASSERT_LE(0, create(self, 0666, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0666, C));
	EXPECT_EQ(0, attach_as(self->name, P, NOBODY, NOBODY));
}

/* Execute bits mean nothing here. */
TEST_F(perm, mode_0111_other_user)
{
	ASSERT_LE(0, create(self, 0111, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0111, C));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
}

/* Permission comes first: a held role is not revealed to outsiders. */
TEST_F(perm, denied_before_busy)
{
	ASSERT_LE(0, create(self, 0600, P));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
	ASSERT_LE(0, create_as(self, self->name2, 0666, 0, 0, P));
	EXPECT_EQ(EBUSY, attach_as(self->name2, P, NOBODY, NOBODY));
}

TEST_F(perm, group_bits_matching_gid)
{
	ASSERT_LE(0, create_as(self, self->name, 0060, 0, GROUP, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, GROUP));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);

	ASSERT_LE(0, create_as(self, self->name, 0060, 0, GROUP, C));
	EXPECT_EQ(0, attach_as(self->name, P, NOBODY, GROUP));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
}

TEST_F(perm, group_read_only)
{
	ASSERT_LE(0, create_as(self, self->name, 0040, 0, GROUP, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, GROUP));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create_as(self, self->name, 0040, 0, GROUP, C));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, GROUP));
}

TEST_F(perm, group_bits_supplementary_group)
{
	const gid_t groups[] = { 100, GROUP };

	ASSERT_LE(0, create_as(self, self->name, 0060, 0, GROUP, P));
	EXPECT_EQ(0, attach_in_child(self->name, C, NOBODY, NOBODY, groups, 2));
	EXPECT_EQ(EACCES, attach_in_child(self->name, C, NOBODY, NOBODY,
					  groups, 1));
}

/* A matching group uses the group bits only, even if "other" allows more. */
TEST_F(perm, group_bits_take_precedence)
{
	ASSERT_LE(0, create_as(self, self->name, 0606, 0, GROUP, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, GROUP));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, NOBODY));
}

/* The owner uses the owner bits only, even if group or other allow. */
TEST_F(perm, owner_bits_take_precedence)
{
	ASSERT_LE(0, create_as(self, self->name, 0066, NOBODY, NOBODY, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	EXPECT_EQ(0, attach_as(self->name, C, OTHER_UID, OTHER_UID));
}

TEST_F(perm, owner_bits)
{
	ASSERT_LE(0, create_as(self, self->name, 0600, NOBODY, NOBODY, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, NOBODY));
	EXPECT_EQ(EACCES, attach_as(self->name, C, OTHER_UID, OTHER_UID));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create_as(self, self->name, 0400, NOBODY, NOBODY, C));
	EXPECT_EQ(EACCES, attach_as(self->name, P, NOBODY, NOBODY));
}

/* Root has CAP_IPC_OWNER: modes do not apply to it. */
TEST_F(perm, cap_ipc_owner)
{
	int dev, fd;

	ASSERT_LE(0, create_as(self, self->name, 0000, NOBODY, NOBODY, P));
	ASSERT_LE(0, create_as(self, self->name2, 0000, 0, 0, C));
	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	fd = ipcu_test_attach(dev, self->name, C);
	EXPECT_LE(0, fd);
	close(fd);
	fd = ipcu_test_attach(dev, self->name2, P);
	EXPECT_LE(0, fd);
	close(fd);
	close(dev);
	/* Nobody else gets in, the owner included. */
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	EXPECT_EQ(EACCES, attach_as(self->name2, P, NOBODY, NOBODY));
}

/* Drop one capability from the effective set: 0 or -errno. */
static int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* uid 0 without CAP_IPC_OWNER is just another owner or user. */
TEST_F(perm, root_without_cap_ipc_owner)
{
	char name3[IPCU_NAME_MAX];
	pid_t pid;

	ASSERT_LE(0, create_as(self, self->name, 0000, NOBODY, NOBODY, P));
	ASSERT_LE(0, create_as(self, self->name2, 0000, 0, 0, C));
	snprintf(name3, sizeof(name3), "perm_test-%d-c", getpid());
	ASSERT_LE(0, create_as(self, name3, 0600, 0, 0, P));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		if (drop_effective_cap(CAP_IPC_OWNER))
			_exit(CHILD_SETUP);
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		fd = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(fd == -EACCES, "other's 0000: %d", fd);
		fd = ipcu_test_attach(dev, self->name2, P);
		IPCU_TEST_CHILD_CHECK(fd == -EACCES, "own 0000: %d", fd);
		fd = ipcu_test_attach(dev, name3, C);
		IPCU_TEST_CHILD_CHECK(fd >= 0, "own 0600: %d", fd);
		_exit(0);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
}

/*
 * The check uses the fsuid, not the euid: a process whose euid is
 * OTHER_UID but whose fsuid is the owner gets in.
 */
TEST_F(perm, fsuid)
{
	pid_t pid;

	ASSERT_LE(0, create_as(self, self->name, 0600, NOBODY, NOBODY, P));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, OTHER_UID, OTHER_UID))
			_exit(CHILD_SETUP);
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		fd = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(fd == -EACCES, "fsuid %d: %d", OTHER_UID,
				      fd);
		setfsuid(NOBODY);
		IPCU_TEST_CHILD_CHECK(setfsuid(-1) == NOBODY, "setfsuid");
		IPCU_TEST_CHILD_CHECK(geteuid() == OTHER_UID, "euid");
		fd = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(fd >= 0, "fsuid %d: %d", NOBODY, fd);
		_exit(0);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
}

/* ...and the fsgid for the group. */
TEST_F(perm, fsgid)
{
	pid_t pid;

	ASSERT_LE(0, create_as(self, self->name, 0060, 0, GROUP, P));
	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, fd;

		if (setgroups(0, NULL) || setresgid(GROUP, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(CHILD_SETUP);
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		fd = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(fd == -EACCES, "fsgid %d: %d", NOBODY, fd);
		setfsgid(GROUP);
		IPCU_TEST_CHILD_CHECK(setfsgid(-1) == GROUP, "setfsgid");
		fd = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(fd >= 0, "fsgid %d: %d", GROUP, fd);
		_exit(0);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
}

/* An unprivileged creator owns its channel and can attach to it. */
TEST_F(perm, unprivileged_creator)
{
	pid_t pid = ipcu_test_fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int dev, prod, cons;

		if (ipcu_test_become(NOBODY, NOBODY))
			_exit(CHILD_SETUP);
		dev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(dev >= 0, "open");
		prod = ipcu_test_create(dev, 8, 64, PG, self->name, 0600, P);
		IPCU_TEST_CHILD_CHECK(prod >= 0, "create: %d", prod);
		cons = ipcu_test_attach(dev, self->name, C);
		IPCU_TEST_CHILD_CHECK(cons >= 0, "attach: %d", cons);
		_exit(0);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
}

/*
 * In a child that became @uid/@gid, EP_PEER on the inherited endpoint
 * @fd: 0 on success or the errno as the exit status.
 */
static int peer_as(int fd, uid_t uid, gid_t gid)
{
	pid_t pid = ipcu_test_fork();

	if (pid == 0) {
		int peer;

		if (ipcu_test_become(uid, gid))
			_exit(CHILD_SETUP);
		peer = ipcu_test_peer(fd);
		_exit(peer < 0 ? -peer : 0);
	}
	return pid < 0 ? -1 : ipcu_test_reap(pid);
}

/*
 * Holding one endpoint of an unnamed channel is the right to the other;
 * for a named channel EP_PEER needs what IPCU_IOC_CHAN_ATTACH needs.
 */
TEST_F(perm, peer_of_named_channel)
{
	int dev, prod, cons;

	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);

	/* Named, 0644: others may read (consumer) but not write (producer). */
	prod = ipcu_test_create(dev, 8, 64, PG, self->name, 0644, P);
	ASSERT_LE(0, prod);
	cons = ipcu_test_peer(prod);
	ASSERT_LE(0, cons);
	close(prod);
	EXPECT_EQ(EACCES, peer_as(cons, NOBODY, NOBODY));
	prod = ipcu_test_peer(cons);
	ASSERT_LE(0, prod);
	close(cons);
	EXPECT_EQ(0, peer_as(prod, NOBODY, NOBODY));
	close(prod);

	/* Named, 0666: both. */
	prod = ipcu_test_create(dev, 8, 64, PG, self->name2, 0666, P);
	ASSERT_LE(0, prod);
	EXPECT_EQ(0, peer_as(prod, NOBODY, NOBODY));
	close(prod);

	/* Unnamed: no mode to check. */
	prod = ipcu_test_create(dev, 8, 64, PG, NULL, 0, P);
	ASSERT_LE(0, prod);
	EXPECT_EQ(0, peer_as(prod, NOBODY, NOBODY));
	close(prod);
	close(dev);
}

/* A channel's permissions are its own: a reused name gets the new mode. */
TEST_F(perm, mode_of_reused_name)
{
	ASSERT_LE(0, create(self, 0600, P));
	EXPECT_EQ(EACCES, attach_as(self->name, C, NOBODY, NOBODY));
	close(self->fds[--self->nr_fds]);
	ASSERT_LE(0, create(self, 0644, P));
	EXPECT_EQ(0, attach_as(self->name, C, NOBODY, NOBODY));
}

/* The name lives exactly as long as the channel. */
TEST_F(perm, name_freed_with_channel)
{
	int dev, prod, cons;

	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	prod = ipcu_test_create(dev, 8, 64, PG, self->name, 0600, P);
	ASSERT_LE(0, prod);
	cons = ipcu_test_attach(dev, self->name, C);
	ASSERT_LE(0, cons);
	/* The creator leaves; the consumer keeps the channel and its name. */
	close(prod);
	prod = ipcu_test_attach(dev, self->name, P);
	ASSERT_LE(0, prod);
	close(prod);
	EXPECT_EQ(-EEXIST, ipcu_test_create(dev, 8, 64, PG, self->name, 0600, P));
	close(cons);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(dev, self->name, C));
	EXPECT_EQ(-ENOENT, ipcu_test_attach(dev, self->name, P));
	prod = ipcu_test_create(dev, 8, 64, PG, self->name, 0600, P);
	EXPECT_LE(0, prod);
	close(prod);
	close(dev);
}

/* ---- IPC namespaces ------------------------------------------------------ */

TEST_F(perm, ipc_namespace)
{
	char child_only[IPCU_NAME_MAX];
	int to_parent[2], to_child[2];
	int dev, prod, cons;
	char b = 0;
	pid_t pid;

	snprintf(child_only, sizeof(child_only), "perm_test-child-%d", getpid());
	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	prod = ipcu_test_create(dev, 8, 64, PG, self->name, 0666, P);
	ASSERT_LE(0, prod);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));

	pid = ipcu_test_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cdev, cprod, ccons, other;

		if (unshare(CLONE_NEWIPC))
			_exit(CHILD_SETUP);
		cdev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(cdev >= 0, "open");
		/* The parent's name is not visible here... */
		ccons = ipcu_test_attach(cdev, self->name, C);
		IPCU_TEST_CHILD_CHECK(ccons == -ENOENT, "attach: %d", ccons);
		ccons = ipcu_test_attach(cdev, self->name, P);
		IPCU_TEST_CHILD_CHECK(ccons == -ENOENT, "attach: %d", ccons);
		/* ...and free for a channel of this namespace. */
		cprod = ipcu_test_create(cdev, 8, 64, PG, self->name, 0666, P);
		IPCU_TEST_CHILD_CHECK(cprod >= 0, "create: %d", cprod);
		other = ipcu_test_create(cdev, 8, 64, PG, self->name, 0666, C);
		IPCU_TEST_CHILD_CHECK(other == -EEXIST, "create again: %d",
				      other);
		ccons = ipcu_test_attach(cdev, self->name, C);
		IPCU_TEST_CHILD_CHECK(ccons >= 0, "attach own: %d", ccons);
		other = ipcu_test_create(cdev, 8, 64, PG, child_only, 0666, P);
		IPCU_TEST_CHILD_CHECK(other >= 0, "create: %d", other);
		/* Let the parent look while these exist. */
		IPCU_TEST_CHILD_CHECK(write(to_parent[1], &b, 1) == 1, "sync");
		IPCU_TEST_CHILD_CHECK(read(to_child[0], &b, 1) == 1, "sync");
		close(other);
		close(ccons);
		close(cprod);
		close(cdev);
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &b, 1));
	/* The child's channels are not visible here. */
	EXPECT_EQ(-ENOENT, ipcu_test_attach(dev, child_only, C));
	/* The parent's channel is its own: its consumer role is still free. */
	cons = ipcu_test_attach(dev, self->name, C);
	EXPECT_LE(0, cons);
	close(cons);
	ASSERT_EQ(1, write(to_child[1], &b, 1));
	EXPECT_EQ(0, ipcu_test_reap(pid));

	/* Unaffected by the child's namespace going away. */
	cons = ipcu_test_attach(dev, self->name, C);
	ASSERT_LE(0, cons);
	EXPECT_EQ(-EEXIST, ipcu_test_create(dev, 8, 64, PG, self->name, 0666, C));
	EXPECT_EQ(-ENOENT, ipcu_test_attach(dev, child_only, C));
	close(cons);
	close(prod);
	close(dev);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
}

/* A name created in a child namespace does not outlive it in the parent. */
TEST_F(perm, ipc_namespace_no_leak_into_parent)
{
	pid_t pid = ipcu_test_fork();
	int dev;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cdev, fd;

		if (unshare(CLONE_NEWIPC))
			_exit(CHILD_SETUP);
		cdev = ipcu_test_open(O_RDWR);
		IPCU_TEST_CHILD_CHECK(cdev >= 0, "open");
		fd = ipcu_test_create(cdev, 8, 64, PG, self->name, 0666, P);
		IPCU_TEST_CHILD_CHECK(fd >= 0, "create: %d", fd);
		close(fd);
		close(cdev);
		_exit(0);
	}
	EXPECT_EQ(0, ipcu_test_reap(pid));
	dev = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, dev);
	EXPECT_EQ(-ENOENT, ipcu_test_attach(dev, self->name, C));
	close(dev);
}

TEST_HARNESS_MAIN
