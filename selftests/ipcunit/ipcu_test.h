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

#endif /* _IPCU_TEST_H */
