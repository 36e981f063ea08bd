/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ring index arithmetic shared by the readiness checks.  Pure functions of
 * values already read from shared memory: no locking, no memory access, so
 * the same file also builds in the host-side unit tests.
 */
#ifndef _IPCU_RING_H
#define _IPCU_RING_H

#include <linux/types.h>

/**
 * struct ipcu_ring_geom - fixed, kernel-owned geometry of a channel
 * @entries: descriptor slots, a power of two.
 * @max_msg: largest message, at most @pay_size / 2.
 * @pay_size: payload bytes, a power of two.
 */
struct ipcu_ring_geom {
	u32 entries;
	u32 max_msg;
	u32 pay_size;
};

/**
 * struct ipcu_ring_snap - one read of the untrusted shared indices
 * @head: consumer's descriptor index.
 * @pay_head: consumer's payload position.
 * @tail: producer's descriptor index.
 * @pay_tail: producer's payload position.
 * @want: bytes the producer waits for.
 */
struct ipcu_ring_snap {
	u32 head;
	u32 pay_head;
	u32 tail;
	u32 pay_tail;
	u32 want;
};

bool ipcu_ring_valid(const struct ipcu_ring_geom *g,
		     const struct ipcu_ring_snap *s);
bool ipcu_ring_readable(const struct ipcu_ring_snap *s);
bool ipcu_ring_fits(const struct ipcu_ring_geom *g, u32 pay_tail,
		    u32 pay_head, u32 len, u32 *start);
bool ipcu_ring_writable(const struct ipcu_ring_geom *g,
			const struct ipcu_ring_snap *s);

#endif /* _IPCU_RING_H */
