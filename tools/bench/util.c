// SPDX-License-Identifier: GPL-2.0
/*
 * Time, statistics, the icount clock check, system call accounting and
 * progress output.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "bench.h"

unsigned long long sys_calls;

const char *time_unit(void)
{
	return opt.mode == MODE_ICOUNT ? "insn" : "ns";
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Under -icount shift=0 QEMU advances the virtual clock by exactly 1 ns
 * per executed instruction, and the guest's TSC clocksource follows it:
 * a clock difference is an instruction count.  calibrate_icount() checks
 * that rather than assuming it, and the report prints the result.
 */
double ticks(uint64_t ns)
{
	return (double)ns;
}

/*
 * Under icount, start a measurement at a fixed phase of the timer tick.
 * The tick runs on a grid of multiples of its period in CLOCK_MONOTONIC,
 * while the instructions the guest spent booting vary a little from boot
 * to boot: without this, the ticks would land elsewhere in each run and
 * move every figure they interrupt.  20 ms is a multiple of the tick at
 * HZ = 100, 250 and 1000.  The sleep is idle time, which -icount sleep=off
 * skips at no cost.
 */
void icount_align(void)
{
	const uint64_t grid = 20000000;
	struct timespec ts;
	uint64_t t;

	if (opt.mode != MODE_ICOUNT)
		return;
	t = (now_ns() / grid + 2) * grid + grid / 8;
	ts.tv_sec = (time_t)(t / 1000000000ULL);
	ts.tv_nsec = (long)(t % 1000000000ULL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

double calibrate_icount(uint64_t loops)
{
	uint64_t n = loops, t0, t1;

	t0 = now_ns();
	/* Exactly two instructions per iteration. */
	__asm__ __volatile__("1:\n\tdec %0\n\tjnz 1b" : "+r"(n) : : "cc");
	t1 = now_ns();
	return (double)(2 * loops) / (double)(t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return v[k ? k - 1 : 0];
}

void stats_of(double *v, size_t n, struct stats *s)
{
	double sum = 0;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	s->n = n;
	s->min = v[0];
	s->p50 = pct(v, n, 0.50);
	s->p99 = pct(v, n, 0.99);
	s->max = v[n - 1];
	s->mean = sum / (double)n;
}

double median(double *v, size_t n)
{
	struct stats s;

	stats_of(v, n, &s);
	return s.p50;
}

/*
 * libipcunit's system calls on the data path: wrapped at link time
 * (-Wl,--wrap=ioctl,--wrap=sched_yield) so that they are counted with the
 * benchmark's own.
 */
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
int __real_sched_yield(void);
int __wrap_sched_yield(void);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	sys_calls++;
	return __real_ioctl(fd, req, arg);
}

int __wrap_sched_yield(void)
{
	sys_calls++;
	return __real_sched_yield();
}

void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ipcunit-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
