// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's ring arithmetic (module/ring.c, built here for user space)
 * against an independent model and against the user library: the kernel
 * decides readiness (poll, IPCU_IOC_WAIT), the library decides what
 * ipcu_reserve() and ipcu_peek() do, and the two must never disagree, on
 * honest rings and on whatever a hostile peer writes.
 */
#include "../../module/ring.h"
#include "memring.h"

#define U32_MAX		0xffffffffU

/* 0, 1, 2^k - 1, 2^k, 2^k + 1 and U32_MAX. */
static __u32 edges[3 * 31 + 3];
static unsigned int nr_edges;

static void init_edges(void)
{
	unsigned int k;

	nr_edges = 0;
	edges[nr_edges++] = 0;
	edges[nr_edges++] = 1;
	for (k = 1; k < 32; k++) {
		edges[nr_edges++] = (1U << k) - 1;
		edges[nr_edges++] = 1U << k;
		edges[nr_edges++] = (1U << k) + 1;
	}
	edges[nr_edges++] = U32_MAX;
}

static bool is_pow2_u32(u32 n)
{
	return n && !(n & (n - 1));
}

/* A value near @base: equal, a small distance off, or an edge value. */
static __u32 near(__u32 *s, __u32 base, __u32 span)
{
	__u32 x = xs32(s);

	switch (x % 8) {
	case 0:
		return base;
	case 1:
		return edges[(x >> 8) % nr_edges];
	case 2:
		return xs32(s);
	case 3:
		return base - span + (x >> 8) % 3 - 1;
	default:
		return base - (x >> 8) % (span + 2);
	}
}

/*
 * Model of a reservation with 64-bit positions that never wrap: the free
 * space is [pay_tail, pay_head + pay_size); a message starts at pay_tail,
 * or at the next multiple of pay_size if it would cross one.
 */
static int model_fits(__u64 pay_size, __u64 max_msg, __u64 pay_head,
		      __u64 pay_tail, __u64 len, __u64 *start)
{
	__u64 pos = pay_tail;

	if (len < 1 || len > max_msg || pay_tail < pay_head ||
	    pay_tail > pay_head + pay_size)
		return 0;
	if (pos / pay_size != (pos + len - 1) / pay_size)
		pos = (pos / pay_size + 1) * pay_size;
	if (pos + len > pay_head + pay_size)
		return 0;
	*start = pos;
	return 1;
}

/*
 * Every payload size 2..64, every max_msg, every occupancy (valid and a
 * little past valid), every offset of pay_tail in two laps and every
 * length, with positions just below 2^32 so the u32 arithmetic wraps.
 */
TAP_TEST(fits_matches_model)
{
	const __u64 base = (1ULL << 32) - 256;
	unsigned int pay, max;

	for (pay = 2; pay <= 64; pay *= 2) {
		for (max = 1; max <= pay / 2; max++) {
			struct ipcu_ring_geom g = { 1, max, pay };
			__u64 ph, used, len;

			for (ph = base; ph < base + 2 * pay; ph++)
			for (used = 0; used <= pay + 2; used++)
			for (len = 0; len <= max + 1; len++) {
				__u64 m_start = 0;
				u32 k_start = 0;
				int m = model_fits(pay, max, ph, ph + used,
						   len, &m_start);
				bool k = ipcu_ring_fits(&g, (u32)(ph + used),
							(u32)ph, (u32)len,
							&k_start);

				ASSERT_EQ(k, m);
				if (m)
					ASSERT_EQ(k_start, (u32)m_start);
			}
		}
	}
	/* A "negative" occupancy (pay_head ahead of pay_tail) never fits. */
	{
		struct ipcu_ring_geom g = { 16, 2048, 4096 };

		ASSERT_FALSE(ipcu_ring_fits(&g, 100, 101, 1, NULL));
		ASSERT_FALSE(ipcu_ring_fits(&g, 0, 1, 1, NULL));
		ASSERT_FALSE(ipcu_ring_fits(&g, 0, U32_MAX - 4095, 1, NULL));
		ASSERT_TRUE(ipcu_ring_fits(&g, 0, U32_MAX - 4094, 1, NULL));
	}
}

/*
 * Any geometry, even one the kernel would never create, and hostile
 * indices: the functions return (the sanitizers check for undefined
 * behaviour) and what they promise holds.
 */
static void check_any(const struct ipcu_ring_geom *g,
		      const struct ipcu_ring_snap *s, u32 len)
{
	u32 start = 0xdeadbeef;
	bool fits = ipcu_ring_fits(g, s->pay_tail, s->pay_head, len, &start);
	bool valid = ipcu_ring_valid(g, s);

	ASSERT_EQ(valid, s->tail - s->head <= g->entries &&
			 s->pay_tail - s->pay_head <= g->pay_size);
	ASSERT_EQ(ipcu_ring_readable(s), s->tail != s->head);
	if (fits) {
		ASSERT_TRUE(len >= 1 && len <= g->max_msg);
		ASSERT_LE(s->pay_tail - s->pay_head, g->pay_size);
		ASSERT_LE((__u64)(start - s->pay_head) + len, g->pay_size);
		if (is_pow2_u32(g->pay_size)) {
			u32 off = s->pay_tail & (g->pay_size - 1);

			ASSERT_TRUE(start == s->pay_tail ||
				    start == s->pay_tail + g->pay_size - off);
			/* Contiguous inside the area: the memory safety. */
			ASSERT_LE((start & (g->pay_size - 1)) + (__u64)len,
				  g->pay_size);
		}
	} else {
		ASSERT_EQ(start, 0xdeadbeef);
	}
	if (ipcu_ring_writable(g, s)) {
		ASSERT_LT(s->tail - s->head, g->entries);
		ASSERT_LE(s->pay_tail - s->pay_head, g->pay_size);
	}
}

TAP_TEST(any_geometry_any_snapshot)
{
	__u32 seed = 7, i, j, k, n;

	init_edges();
	for (i = 0; i < nr_edges; i++)
	for (j = 0; j < nr_edges; j++)
	for (k = 0; k < nr_edges; k++) {
		struct ipcu_ring_geom g = { edges[i], edges[j], edges[k] };

		for (n = 0; n < 4; n++) {
			struct ipcu_ring_snap s;

			s.head = xs32(&seed);
			s.tail = near(&seed, s.head + g.entries, g.entries);
			s.pay_head = xs32(&seed);
			s.pay_tail = near(&seed, s.pay_head + g.pay_size,
					  g.pay_size);
			s.want = near(&seed, g.max_msg, g.max_msg);
			check_any(&g, &s, s.want);
			check_any(&g, &s, edges[xs32(&seed) % nr_edges]);
		}
	}
}

/*
 * Write @s into the ring as the two peers would have published it, with
 * an honest descriptor of @msg_len bytes at head, attach fresh endpoints
 * and check that the library's decisions are the kernel's:
 *
 *  producer: ipcu_ring_valid() false       -> -EPROTO
 *            ipcu_ring_writable(want = len) -> ipcu_reserve(len) == 0, at
 *                                             ipcu_ring_fits()' start
 *            otherwise                       -> -EAGAIN
 *  consumer: more than entries in flight   -> -EPROTO
 *            ipcu_ring_readable()           -> ipcu_peek() == 0
 *            otherwise                       -> -EAGAIN
 *
 * and the same readiness from ipcu_prepare_wait() of either side.
 */
static void agree(struct ring *r, struct ipcu_ring_snap s, u32 len,
		  u32 msg_len)
{
	const struct ipcu_ring_geom g = { r->entries, r->max_msg, r->pay };
	const u32 pay_mask = r->pay - 1;
	u32 start, msg_start;
	bool c_bad = s.tail - s.head > g.entries;
	const void *cbuf;
	void *buf;
	size_t n;
	int ret;

	/* Whatever comes before the next message starts at pay_head. */
	ASSERT_TRUE(ipcu_ring_fits(&g, s.pay_head, s.pay_head, msg_len,
				   &msg_start));
	ring_set(r, s.head, s.pay_head, s.tail, s.pay_tail);
	r->c.desc[s.head & (r->entries - 1)] = (struct ipcu_desc){
		.pos = msg_start, .len = msg_len, .tag = s.head,
	};

	ring_attach(r);
	s.want = len;
	ret = ipcu_reserve(&r->p, len, &buf);
	if (!ipcu_ring_valid(&g, &s)) {
		ASSERT_EQ(ret, -EPROTO);
	} else if (ipcu_ring_writable(&g, &s)) {
		ASSERT_EQ(ret, 0);
		ASSERT_TRUE(ipcu_ring_fits(&g, s.pay_tail, s.pay_head, len,
					   &start));
		ASSERT_EQ(pay_off(&r->p, buf), start & pay_mask);
	} else {
		ASSERT_EQ(ret, -EAGAIN);
	}

	ret = ipcu_peek(&r->c, &cbuf, &n, NULL);
	if (c_bad) {
		ASSERT_EQ(ret, -EPROTO);
	} else if (ipcu_ring_readable(&s)) {
		ASSERT_EQ(ret, 0);
		ASSERT_EQ(n, msg_len);
		ASSERT_EQ(pay_off(&r->c, cbuf), msg_start & pay_mask);
	} else {
		ASSERT_EQ(ret, -EAGAIN);
	}

	ring_attach(r);
	r->p.want = len;
	ret = ipcu_prepare_wait(&r->p);
	ipcu_finish_wait(&r->p);
	if (!ipcu_ring_valid(&g, &s))
		ASSERT_EQ(ret, -EPROTO);
	else
		ASSERT_EQ(ret, ipcu_ring_writable(&g, &s));
	ret = ipcu_prepare_wait(&r->c);
	ipcu_finish_wait(&r->c);
	if (c_bad)
		ASSERT_EQ(ret, -EPROTO);
	else
		ASSERT_EQ(ret, ipcu_ring_readable(&s));
}

/* want 0 means 1 to the kernel; the library never asks for less than 1. */
static void agree_want_zero(struct ring *r, struct ipcu_ring_snap s)
{
	const struct ipcu_ring_geom g = { r->entries, r->max_msg, r->pay };
	int ret;

	ring_set(r, s.head, s.pay_head, s.tail, s.pay_tail);
	ring_attach(r);
	ASSERT_EQ(r->p.want, 0);
	ret = ipcu_prepare_wait(&r->p);
	ipcu_finish_wait(&r->p);
	s.want = 0;
	if (!ipcu_ring_valid(&g, &s))
		ASSERT_EQ(ret, -EPROTO);
	else
		ASSERT_EQ(ret, ipcu_ring_writable(&g, &s));
}

struct geom {
	unsigned int entries, max_msg, pay;
};

/* Geometries at the limits, as the library accepts them. */
static const struct geom edge_geoms[] = {
	{ 1, 1, 2 },
	{ 1, 1, 4096 },
	{ 2, 2048, 4096 },
	{ 16, 1, 4096 },
	{ 16, 2048, 4096 },
	{ 65536, 7, 16 },
	{ 64, 1U << 29, 1U << 30 },
};

/* Random (and boundary) snapshots around a valid ring, on every side. */
TAP_TEST(hostile_snapshots_agree)
{
	__u32 seed = 99, i, n;

	init_edges();
	for (i = 0; i < sizeof(edge_geoms) / sizeof(edge_geoms[0]); i++) {
		const struct geom *e = &edge_geoms[i];
		struct ring r;

		ring_setup(&r, e->entries, e->max_msg, e->pay, 0, 0);
		for (n = 0; n < 20000; n++) {
			struct ipcu_ring_snap s;
			u32 len = 1 + xs32(&seed) % e->max_msg;
			u32 msg_len = 1 + xs32(&seed) % e->max_msg;

			if (n % 4 == 0)
				len = n & 4 ? 1 : e->max_msg;
			s.head = n % 3 ? xs32(&seed) : edges[n % nr_edges];
			s.tail = near(&seed, s.head + e->entries, e->entries);
			s.pay_head = xs32(&seed);
			s.pay_tail = near(&seed, s.pay_head + e->pay, e->pay);
			agree(&r, s, len, msg_len);
			if (n % 8 == 0)
				agree_want_zero(&r, s);
		}
		ring_free(&r);
	}
}

/* Every pair of edge values for (head, tail) and for (pay_head, pay_tail). */
TAP_TEST(edge_values_agree)
{
	__u32 i, j, k;

	init_edges();
	for (k = 0; k < sizeof(edge_geoms) / sizeof(edge_geoms[0]); k++) {
		const struct geom *e = &edge_geoms[k];
		struct ring r;

		ring_setup(&r, e->entries, e->max_msg, e->pay, 0, 0);
		for (i = 0; i < nr_edges; i++) {
			for (j = 0; j < nr_edges; j++) {
				struct ipcu_ring_snap s = {
					.head = edges[i], .tail = edges[j],
					.pay_head = 1000, .pay_tail = 1000,
				};

				agree(&r, s, 1, 1);
				agree(&r, s, e->max_msg, e->max_msg);
				s.head = s.tail = 5;
				s.pay_head = edges[i];
				s.pay_tail = edges[j];
				agree(&r, s, 1, 1);
				agree(&r, s, e->max_msg, e->max_msg);
				agree_want_zero(&r, s);
			}
		}
		ring_free(&r);
	}
}

/*
 * Honest peers doing random things through the library: the indices they
 * publish always satisfy ipcu_ring_valid(), and at every step the library
 * reserves exactly when the kernel would call the producer writable for
 * that size, and finds a message exactly when the kernel would call the
 * consumer readable.
 */
static void walk(struct ring *r, __u32 *seed, unsigned int steps)
{
	const struct ipcu_ring_geom g = { r->entries, r->max_msg, r->pay };
	__u32 sent = 0, recvd = 0;

	while (steps--) {
		struct ipcu_ring_snap s = {
			.head = ring_cons(r)->head,
			.pay_head = ring_cons(r)->pay_head,
			.tail = ring_prod(r)->tail,
			.pay_tail = ring_prod(r)->pay_tail,
		};
		__u32 x = xs32(seed);

		ASSERT_TRUE(ipcu_ring_valid(&g, &s));
		if (x % 2) {
			/* The producer: its own, local indices. */
			u32 len = 1 + (x >> 8) % r->max_msg;
			void *buf;
			int ret;

			s.tail = r->p.tail;
			s.pay_tail = r->p.pay_tail;
			s.want = len;
			ret = ipcu_reserve(&r->p, len, &buf);
			ASSERT_EQ(ret, ipcu_ring_writable(&g, &s) ? 0 : -EAGAIN);
			if (!ret) {
				u32 used = 1 + xs32(seed) % len;

				fill(buf, used, sent);
				ASSERT_EQ(ipcu_commit(&r->p, used, sent), 0);
				sent++;
			}
		} else {
			const void *buf;
			size_t n;
			__u32 tag;
			int ret;

			s.head = r->c.head;
			ret = ipcu_peek(&r->c, &buf, &n, &tag);
			ASSERT_EQ(ret, ipcu_ring_readable(&s) ? 0 : -EAGAIN);
			if (!ret) {
				ASSERT_EQ(tag, recvd);
				ASSERT_TRUE(check(buf, n, recvd));
				ASSERT_EQ(ipcu_release(&r->c), 0);
				recvd++;
			}
		}
		if (x % 7 == 0)
			ASSERT_GE(ipcu_flush(&r->p), 0);
		if (x % 5 == 0)
			ASSERT_GE(ipcu_flush(&r->c), 0);
	}
}

TAP_TEST(random_walk_agrees)
{
	__u32 seed = 2024, n;

	for (n = 0; n < 3000; n++) {
		unsigned int pay = 2U << xs32(&seed) % 14;
		unsigned int max = 1 + xs32(&seed) % (pay / 2);
		unsigned int entries = 1U << xs32(&seed) % 7;
		struct ring r;

		ring_setup(&r, entries, max, pay, xs32(&seed), xs32(&seed));
		walk(&r, &seed, 300);
		ring_free(&r);
	}
}

int main(void)
{
	return tap_main();
}
