// SPDX-License-Identifier: GPL-2.0
/*
 * Ring index arithmetic (see the protocol description in
 * uapi/linux/ipcunit.h).  Every input here may have been written by a
 * hostile peer: the functions only compare and subtract, modulo 2^32, and
 * never index memory, so any input is safe.
 */
#include "ring.h"

/**
 * ipcu_ring_valid - check the invariants an honest pair of peers keeps
 * @g: channel geometry
 * @s: indices read from shared memory
 *
 * Return: true if at most @g->entries messages and @g->pay_size payload
 * bytes are in flight.
 */
bool ipcu_ring_valid(const struct ipcu_ring_geom *g,
		     const struct ipcu_ring_snap *s)
{
	return s->tail - s->head <= g->entries &&
	       s->pay_tail - s->pay_head <= g->pay_size;
}

/**
 * ipcu_ring_readable - is there a committed message the consumer has not
 * released?
 * @s: indices read from shared memory
 *
 * Return: true if the ring is not empty.
 */
bool ipcu_ring_readable(const struct ipcu_ring_snap *s)
{
	return s->tail != s->head;
}

/**
 * ipcu_ring_fits - can @len contiguous payload bytes be reserved?
 * @g: channel geometry
 * @pay_tail: producer's payload position
 * @pay_head: consumer's payload position
 * @len: bytes wanted, 1..@g->max_msg
 * @start: out, where the message would start (after any skip to the
 *	beginning of the payload area); may be NULL
 *
 * A message never wraps: if it does not fit before the end of the payload
 * area, it starts at the next multiple of @g->pay_size and the skipped
 * bytes count as used.
 *
 * Return: true if the reservation fits.
 */
bool ipcu_ring_fits(const struct ipcu_ring_geom *g, u32 pay_tail,
		    u32 pay_head, u32 len, u32 *start)
{
	u32 off = pay_tail & (g->pay_size - 1);
	u32 pos = pay_tail;

	if (len == 0 || len > g->max_msg)
		return false;
	if (pay_tail - pay_head > g->pay_size)
		return false;
	if (len > g->pay_size - off)
		pos += g->pay_size - off;
	/* Bytes in use after the reservation, including the skip. */
	if ((u64)(pos - pay_head) + len > g->pay_size)
		return false;
	if (start)
		*start = pos;
	return true;
}

/**
 * ipcu_ring_writable - can the producer commit the message it waits for?
 * @g: channel geometry
 * @s: indices read from shared memory
 *
 * The producer announces the size it waits for in its control page
 * (@s->want); 0 means 1 byte and values above @g->max_msg are clamped, so a
 * hostile value cannot make readiness impossible to reach.
 *
 * Return: true if a descriptor slot is free and @s->want bytes fit.
 */
bool ipcu_ring_writable(const struct ipcu_ring_geom *g,
			const struct ipcu_ring_snap *s)
{
	u32 want = s->want;

	if (want == 0)
		want = 1;
	if (want > g->max_msg)
		want = g->max_msg;
	if (s->tail - s->head >= g->entries)
		return false;
	return ipcu_ring_fits(g, s->pay_tail, s->pay_head, want, NULL);
}
