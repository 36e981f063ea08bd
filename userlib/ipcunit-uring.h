/* SPDX-License-Identifier: (LGPL-2.1 OR MIT) */
/*
 * Waiting for an ipcunit endpoint with io_uring.  Header only: libipcunit
 * itself does not depend on liburing.
 *
 *	sqe = io_uring_get_sqe(ring);
 *	ipcu_prep_poll(sqe, ep);
 *	io_uring_sqe_set_data(sqe, ep);
 *	...
 *	on its completion: ipcu_finish_wait(ep), then work on ep
 */
#ifndef IPCUNIT_URING_H
#define IPCUNIT_URING_H

#include <poll.h>
#include <liburing.h>
#include "ipcunit.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ipcu_prep_poll - prepare an SQE that completes when @ep is ready
 * @sqe: an SQE from io_uring_get_sqe()
 * @ep: the endpoint to wait for
 *
 * Publishes @ep's own indices, sets its NEED_WAKEUP flag and re-checks the
 * ring (ipcu_prepare_wait()).  If @ep must wait, @sqe becomes a one-shot
 * poll for POLLIN (consumer) or POLLOUT (producer) on the endpoint fd;
 * otherwise it becomes a NOP, so that it is always safe to submit and
 * always completes exactly once.
 *
 * Return: 0 if the poll was prepared (call ipcu_finish_wait() when it
 * completes), 1 if @ep is ready already (don't sleep; @sqe is a NOP), or a
 * negative errno from ipcu_prepare_wait() (@sqe is a NOP).
 */
static inline int ipcu_prep_poll(struct io_uring_sqe *sqe, struct ipcu_ep *ep)
{
	int ret = ipcu_prepare_wait(ep);

	if (ret)
		io_uring_prep_nop(sqe);
	else
		io_uring_prep_poll_add(sqe, ep->fd,
				       ep->role == IPCU_ROLE_CONSUMER ?
				       POLLIN : POLLOUT);
	return ret;
}

#ifdef __cplusplus
}
#endif

#endif /* IPCUNIT_URING_H */
