/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_NOTIFY_H
#define _IPCU_NOTIFY_H

#include <linux/poll.h>
#include <linux/types.h>

struct ipcu_chan;
struct ipcu_ioctl_ctx;

__poll_t ipcu_readiness(struct ipcu_chan *chan, u32 role);
__poll_t ipcu_ep_poll(struct file *file, poll_table *pt);
void ipcu_notify_peer_gone(struct ipcu_chan *chan, u32 role);
void ipcu_efd_drop_role(struct ipcu_chan *chan, u32 role);

long ipcu_doorbell_ioctl(struct file *file, void *karg, unsigned long arg,
			 struct ipcu_ioctl_ctx *ctx);
long ipcu_wait_ioctl(struct file *file, void *karg, unsigned long arg,
		     struct ipcu_ioctl_ctx *ctx);
long ipcu_eventfd_ioctl(struct file *file, void *karg, unsigned long arg,
			struct ipcu_ioctl_ctx *ctx);

#endif /* _IPCU_NOTIFY_H */
