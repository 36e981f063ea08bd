// SPDX-License-Identifier: GPL-2.0
/*
 * What a message costs its endpoints, the same for every mechanism: the
 * producer writes every byte of the message where the mechanism wants it,
 * the consumer reads every byte where the mechanism delivers it and checks
 * that it is the message it expects (so a mechanism that loses, reorders
 * or corrupts messages fails the run).  Both loops move 8-byte words and
 * are in their own file so that no mechanism gets them inlined differently.
 */
#include <errno.h>
#include <string.h>

#include "bench.h"

#define SEQ_MUL	0x9e3779b97f4a7c15ULL

/*
 * 32-byte vectors where the CPU has them (the host and QEMU's "max" CPU
 * do), chosen at run time: the loops then move data at the width glibc's
 * memcpy() uses, so that "touching the payload" is not made artificially
 * expensive next to the copies it is compared with.  Built with -O3.
 */
#if defined(__x86_64__)
#define VECTOR	__attribute__((target_clones("avx2", "default")))
#else
#define VECTOR
#endif

VECTOR void payload_fill(void *buf, size_t len, uint64_t seq)
{
	uint64_t *w = buf, base = seq * SEQ_MUL;
	size_t i, n = len / 8;

#pragma GCC unroll 4
	for (i = 0; i < n; i++)
		w[i] = base + i;
	if (len % 8) {
		uint64_t last = base + n;

		memcpy(w + n, &last, len % 8);
	}
}

VECTOR int payload_check(const void *buf, size_t len, uint64_t seq)
{
	const uint64_t *w = buf;
	uint64_t base = seq * SEQ_MUL, diff = 0;
	size_t i, n = len / 8;

#pragma GCC unroll 4
	for (i = 0; i < n; i++)
		diff |= w[i] ^ (base + i);
	if (len % 8) {
		uint64_t last = base + n, got = 0;

		memcpy(&got, w + n, len % 8);
		diff |= (got ^ last) & ((1ULL << (8 * (len % 8))) - 1);
	}
	return diff ? -EBADMSG : 0;
}
