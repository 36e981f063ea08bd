// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: the cost of IPCU_IOC_CLONE against region size, next to a
 * memcpy() of the same size, and one copy-on-write fault next to what it
 * replaces (a 4 KiB memcpy() plus a minor fault).
 *
 *   clone         IPCU_IOC_CLONE of a fully populated, mapped region (the
 *                 source mapping is re-populated before every repetition,
 *                 so every clone also zaps a full mapping); close() of the
 *                 clone is reported separately;
 *   clone_unmapped  the same with the source populated but not mapped:
 *                 the per-page sharing alone, without the zap.
 *   memcpy        memcpy() of the region into a buffer already faulted in;
 *   memcpy_fresh  the same into fresh anonymous memory (page faults and
 *                 zeroing included): what a naive snapshot costs.
 *   cow           first write to a page of a mapped clone: fault, copy of
 *                 the page, and the retried fault, per page;
 *   region_fault  first write to a page of a second mapping of a populated
 *                 region without clone (the module's plain fault path);
 *   shmem_fault   the same on a memfd: a minor fault;
 *   memcpy_4k     memcpy() of 4 KiB between warm pages.
 * Per-page figures have the clock's own cost (clock_overhead) subtracted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ipcunit.h"
#include "bench.h"

#define PG		4096UL
#define COW_PAGES	256

enum { CL_CLONE, CL_CLOSE, CL_MEMCPY, CL_FRESH, CL_UNMAPPED, CL_NR };

struct cl_arg {
	size_t size;
	unsigned int reps;
	double *t;	/* shared: [rep][CL_NR] */
};

static void touch_pages(volatile unsigned char *p, size_t size,
			unsigned char v)
{
	size_t off;

	for (off = 0; off < size; off += PG)
		p[off] = v;
}

static int region_create(int devfd, size_t size)
{
	struct ipcu_region_create rc;

	memset(&rc, 0, sizeof(rc));
	rc.size = size;
	if (ioctl(devfd, IPCU_IOC_REGION_CREATE, &rc) < 0)
		return -errno;
	return rc.fd;
}

static int region_clone(int fd)
{
	struct ipcu_clone cl;

	memset(&cl, 0, sizeof(cl));
	if (ioctl(fd, IPCU_IOC_CLONE, &cl) < 0)
		return -errno;
	return cl.fd;
}

static void *map_rw(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int clone_cell(void *v)
{
	struct cl_arg *a = v;
	int devfd = ipcu_open(), fd, cfd;
	unsigned char *src, *dst;
	unsigned int rep;
	uint64_t t0, t1, t2;

	if (devfd < 0 || (fd = region_create(devfd, a->size)) < 0) {
		side_error("region of %zu bytes: %s", a->size,
			   strerror(devfd < 0 ? -devfd : -fd));
		return -1;
	}
	src = map_rw(fd, a->size);
	if (!src) {
		side_error("mmap region: %s", strerror(errno));
		return -1;
	}
	for (rep = 0; rep < a->reps; rep++) {
		touch_pages(src, a->size, (unsigned char)rep + 1);
		t0 = now_ns();
		cfd = region_clone(fd);
		t1 = now_ns();
		if (cfd < 0) {
			side_error("IPCU_IOC_CLONE: %s", strerror(-cfd));
			return -1;
		}
		close(cfd);
		t2 = now_ns();
		a->t[rep * CL_NR + CL_CLONE] = ticks(t1 - t0);
		a->t[rep * CL_NR + CL_CLOSE] = ticks(t2 - t1);

		/* No mapping, nothing to zap. */
		munmap(src, a->size);
		t0 = now_ns();
		cfd = region_clone(fd);
		t1 = now_ns();
		if (cfd < 0) {
			side_error("IPCU_IOC_CLONE: %s", strerror(-cfd));
			return -1;
		}
		close(cfd);
		a->t[rep * CL_NR + CL_UNMAPPED] = ticks(t1 - t0);
		src = map_rw(fd, a->size);
		if (!src) {
			side_error("mmap region: %s", strerror(errno));
			return -1;
		}

		dst = mmap(NULL, a->size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED) {
			side_error("mmap %zu bytes: %s", a->size, strerror(errno));
			return -1;
		}
		t0 = now_ns();
		memcpy(dst, src, a->size);
		t1 = now_ns();
		memcpy(dst, src, a->size);	/* now faulted in */
		t2 = now_ns();
		a->t[rep * CL_NR + CL_MEMCPY] = ticks(t2 - t1);
		a->t[rep * CL_NR + CL_FRESH] = ticks(t1 - t0);
		munmap(dst, a->size);
	}
	munmap(src, a->size);
	close(fd);
	close(devfd);
	return 0;
}

struct cow_arg {
	double *t;	/* shared: [COW_PAGES] per figure, see below */
};

enum { COW_CLONE, COW_REGION, COW_SHMEM, COW_MEMCPY, COW_CLOCK, COW_NR };

static double clock_overhead(void)
{
	double v[COW_PAGES];
	uint64_t t0;
	int i;

	for (i = 0; i < COW_PAGES; i++) {
		t0 = now_ns();
		v[i] = ticks(now_ns() - t0);
	}
	return median(v, COW_PAGES);
}

/* Time the first write to each of COW_PAGES pages of @p. */
static void time_writes(volatile unsigned char *p, double *out)
{
	uint64_t t0;
	int i;

	for (i = 0; i < COW_PAGES; i++) {
		t0 = now_ns();
		p[i * PG] = 0x5a;
		out[i] = ticks(now_ns() - t0);
	}
}

static int cow_cell(void *v)
{
	struct cow_arg *a = v;
	size_t size = COW_PAGES * PG;
	int devfd = ipcu_open(), fd, cfd, mfd;
	unsigned char *src, *cl, *again, *m1, *m2, *buf;
	uint64_t t0;
	int i;

	if (devfd < 0 || (fd = region_create(devfd, size)) < 0) {
		side_error("region: %s", strerror(ENODEV));
		return -1;
	}
	src = map_rw(fd, size);
	if (!src) {
		side_error("mmap region: %s", strerror(errno));
		return -1;
	}
	touch_pages(src, size, 1);

	/* A clone, mapped, written: one break per page. */
	cfd = region_clone(fd);
	if (cfd < 0 || !(cl = map_rw(cfd, size))) {
		side_error("clone: %s", strerror(cfd < 0 ? -cfd : errno));
		return -1;
	}
	time_writes(cl, &a->t[COW_CLONE * COW_PAGES]);
	munmap(cl, size);
	close(cfd);

	/* The same region, not shared any more: a plain fault per page. */
	again = map_rw(fd, size);
	if (!again) {
		side_error("mmap region: %s", strerror(errno));
		return -1;
	}
	time_writes(again, &a->t[COW_REGION * COW_PAGES]);

	/* shmem: pages in the page cache, a second mapping: minor faults. */
	mfd = memfd_create("ipcunit-bench-cow", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)size) ||
	    !(m1 = map_rw(mfd, size)) || !(m2 = map_rw(mfd, size))) {
		side_error("memfd: %s", strerror(errno));
		return -1;
	}
	touch_pages(m1, size, 1);
	time_writes(m2, &a->t[COW_SHMEM * COW_PAGES]);

	/* memcpy() of 4 KiB between warm pages (one page per sample). */
	buf = aligned_alloc(PG, size);
	memset(buf, 1, size);
	for (i = 0; i < COW_PAGES; i++) {
		t0 = now_ns();
		memcpy(m1 + i * PG, buf + i * PG, PG);
		a->t[COW_MEMCPY * COW_PAGES + i] = ticks(now_ns() - t0);
	}
	a->t[COW_CLOCK * COW_PAGES] = clock_overhead();
	return 0;
}

static void clone_sizes(unsigned int *n, size_t *sizes)
{
	size_t max = (opt.quick ? 16 : opt.clone_max_mib) * MiB, s;

	*n = 0;
	for (s = 1 * MiB; s <= max; s *= 2)
		sizes[(*n)++] = s;
}

void scen_clone(void)
{
	static const char *const keys[CL_NR] = {
		"clone", "close", "memcpy", "memcpy_fresh", "clone_unmapped",
	};
	static const char *const cow_keys[COW_NR - 1] = {
		"cow", "region_fault", "shmem_fault", "memcpy_4k",
	};
	size_t sizes[24];
	unsigned int n, i, k, rep;
	struct cow_arg ca;
	double col[8], over;
	char why[160];
	struct rec *r;
	int ret;

	if (!mech_usable(&mech_ipcunit, why, sizeof(why))) {
		r = rec_new("clone", "ipcunit", NULL, 0, 1);
		rec_skip(r, "%s", why);
		return;
	}
	clone_sizes(&n, sizes);
	for (i = 0; i < n; i++) {
		struct cl_arg a = { .size = sizes[i] };

		a.reps = sizes[i] <= 64 * MiB ? 3 : 1;
		a.t = mmap(NULL, a.reps * CL_NR * sizeof(double),
			   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			   -1, 0);
		r = rec_new("clone", "ipcunit", NULL, sizes[i], 1);
		ret = run_isolated(clone_cell, &a, 600);
		if (ret)
			rec_fail(r, "%s", shared_get()->err);
		for (k = 0; !ret && k < CL_NR; k++) {
			for (rep = 0; rep < a.reps; rep++)
				col[rep] = a.t[rep * CL_NR + k];
			rec_set(r, keys[k], median(col, a.reps));
		}
		munmap(a.t, a.reps * CL_NR * sizeof(double));
		progress("clone %zu MiB", sizes[i] / MiB);
	}

	ca.t = mmap(NULL, COW_NR * COW_PAGES * sizeof(double),
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r = rec_new("cow", "ipcunit", NULL, PG, 1);
	ret = run_isolated(cow_cell, &ca, 300);
	if (ret) {
		rec_fail(r, "%s", shared_get()->err);
	} else {
		over = ca.t[COW_CLOCK * COW_PAGES];
		for (k = 0; k < COW_NR - 1; k++)
			rec_set(r, cow_keys[k],
				median(&ca.t[k * COW_PAGES], COW_PAGES) - over);
		rec_set(r, "clock_overhead", over);
	}
	munmap(ca.t, COW_NR * COW_PAGES * sizeof(double));
}
