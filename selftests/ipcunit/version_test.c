// SPDX-License-Identifier: GPL-2.0
/*
 * The device node, IPCU_IOC_VERSION and the generic ioctl validation every
 * command shares: unknown commands, sizes, flags, reserved bytes, pointers.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = ipcu_test_open(O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", IPCU_DEVICE_PATH,
				     strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(IPCU_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* Anyone may create channels; names carry their own permissions. */
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(10, major(st.st_rdev));	/* a misc device */
}

TEST_F(dev, version)
{
	struct ipcu_version v;

	memset(&v, 0xff, sizeof(v));
	v.flags = 0;
	memset(v.reserved, 0, sizeof(v.reserved));
	ASSERT_EQ(0, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION, &v));
	EXPECT_EQ(IPCU_ABI_MAJOR, v.abi_major);
	EXPECT_LE(IPCU_ABI_MINOR, v.abi_minor);
	EXPECT_EQ((unsigned int)sysconf(_SC_PAGESIZE), v.page_size);
	EXPECT_TRUE(v.features & IPCU_FEAT_VERSION);
	EXPECT_TRUE(v.features & IPCU_FEAT_CHANNEL);
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_VERSION)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_CHAN_CREATE)));
	EXPECT_TRUE(v.ioctls & (1ULL << _IOC_NR(IPCU_IOC_WAIT)));
	/* Output structures are zeroed before they are filled. */
	EXPECT_EQ(0, v.flags);
	EXPECT_EQ(0, v.reserved[0] | v.reserved[1] | v.reserved[2] |
		     v.reserved[3]);
}

TEST_F(dev, version_readonly_fd)
{
	struct ipcu_version v = { 0 };
	int fd = ipcu_test_open(O_RDONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ipcu_test_ioctl(fd, IPCU_IOC_VERSION, &v));
	EXPECT_EQ(IPCU_ABI_MAJOR, v.abi_major);
	close(fd);
}

TEST_F(dev, readonly_fd_cannot_create)
{
	struct ipcu_chan_create c = {
		.ring_entries = 8, .max_msg = 64, .payload_bytes = 4096,
	};
	int fd = ipcu_test_open(O_RDONLY);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBADF, ipcu_test_ioctl(fd, IPCU_IOC_CHAN_CREATE, &c));
	close(fd);
}

TEST_F(dev, unknown_flags)
{
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		struct ipcu_version v = { .flags = 1U << bit };

		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION,
						   &v)) TH_LOG("flag bit %u", bit);
	}
}

TEST_F(dev, reserved_nonzero)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		struct ipcu_version v = { 0 };

		v.reserved[i] = 1ULL << (i * 16);
		EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION,
						   &v)) TH_LOG("reserved[%u]", i);
	}
}

TEST_F(dev, null_pointer)
{
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION, NULL));
}

TEST_F(dev, unmapped_pointer)
{
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION,
					   ipcu_test_bad_ptr()));
}

TEST_F(dev, readonly_output_buffer)
{
	struct ipcu_version *v = mmap(NULL, 4096, PROT_READ,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(v != MAP_FAILED);
	/* Readable, all zero, so input validation passes; copy-out fails. */
	EXPECT_EQ(-EFAULT, ipcu_test_ioctl(self->fd, IPCU_IOC_VERSION, v));
	munmap(v, 4096);
}

TEST_F(dev, larger_struct_zero_tail)
{
	struct {
		struct ipcu_version v;
		__u64 tail[8];
	} big = { 0 };

	ASSERT_EQ(0, ipcu_test_ioctl(self->fd,
				     IPCU_IOC_RESIZE(IPCU_IOC_VERSION, sizeof(big)),
				     &big));
	EXPECT_EQ(IPCU_ABI_MAJOR, big.v.abi_major);
	/* The kernel writes only the part it knows. */
	EXPECT_EQ(0, big.tail[0] | big.tail[7]);
}

TEST_F(dev, larger_struct_nonzero_tail)
{
	struct {
		struct ipcu_version v;
		__u64 tail[8];
	} big = { 0 };

	big.tail[7] = 1;
	EXPECT_EQ(-E2BIG, ipcu_test_ioctl(self->fd,
					  IPCU_IOC_RESIZE(IPCU_IOC_VERSION, sizeof(big)),
					  &big));
	big.tail[7] = 0;
	big.tail[0] = 0x100;
	EXPECT_EQ(-E2BIG, ipcu_test_ioctl(self->fd,
					  IPCU_IOC_RESIZE(IPCU_IOC_VERSION, sizeof(big)),
					  &big));
}

TEST_F(dev, short_struct)
{
	struct ipcu_version v = { 0 };

	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->fd,
					   IPCU_IOC_RESIZE(IPCU_IOC_VERSION, 8), &v));
	EXPECT_EQ(-EINVAL, ipcu_test_ioctl(self->fd,
					   IPCU_IOC_RESIZE(IPCU_IOC_VERSION,
							   sizeof(v) - 8), &v));
}

TEST_F(dev, unknown_commands)
{
	struct ipcu_version v = { 0 };
	char buf[256] = { 0 };

	/* Unused numbers, a foreign magic, a wrong direction. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd,
					   _IOWR(IPCU_IOC_MAGIC, 0x3f, struct ipcu_version), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd,
					   _IOWR(IPCU_IOC_MAGIC, 0x05, struct ipcu_version), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd,
					   _IOWR(IPCU_IOC_MAGIC, 0xff, struct ipcu_version), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd,
					   _IOWR('T', 0x00, struct ipcu_version), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd,
					   _IOR(IPCU_IOC_MAGIC, 0x00, struct ipcu_version), &v));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd, _IO(IPCU_IOC_MAGIC, 0x00),
					   NULL));
	/* Endpoint commands are not device commands. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd, IPCU_IOC_EP_INFO, buf));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd, IPCU_IOC_DOORBELL, NULL));
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd, IPCU_IOC_WAIT, buf));
	/* A classic tty ioctl. */
	EXPECT_EQ(-ENOTTY, ipcu_test_ioctl(self->fd, TCGETS, buf));
}

TEST_HARNESS_MAIN
