/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_DEV_H
#define _IPCU_DEV_H

#include <linux/types.h>

struct file;

/**
 * struct ipcu_ioctl_ctx - state the dispatcher finishes after a handler
 * @file: a file to install as @fd once the result reached user space.
 * @fd: the reserved descriptor for @file.
 * @live: set to true once the result reached user space, just before
 *	fd_install(): until then the object may not announce itself.
 *
 * Handlers that create a file reserve the fd and leave the file here; the
 * dispatcher copies the result out first and calls fd_install() last, so
 * user space never sees an fd for an object that is not complete.
 */
struct ipcu_ioctl_ctx {
	struct file *file;
	int fd;
	bool *live;
};

long ipcu_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int ipcu_dev_init(void);
void ipcu_dev_exit(void);

#endif /* _IPCU_DEV_H */
