// SPDX-License-Identifier: GPL-2.0
/*
 * The scenarios, written once against struct mech:
 *
 *   calib     icount only: clock ns against a loop of known length.
 *   baseline  what the payload work alone costs (one process, no IPC).
 *   memcpy    memcpy() bandwidth between two warm buffers.
 *   pingpong  round trips at 64 B, 4 KiB, 64 KiB, blocking and
 *             busy-polling: min, p50, p99, max, system calls.
 *   stream    one-way throughput, 64 B .. 1 MiB, producer batches of 1,
 *             16, 256, consumer blocking (busy-polling rows for the
 *             shared-memory rings outside icount).
 *   wakeup    notify -> the sleeping receiver runs, receiver verified
 *             asleep (state S in /proc) before every notify.
 *   setup     create, map, first message, first and second pass over the
 *             capacity, destroy.
 *
 * Each measurement runs in its own process group under a watchdog; the
 * two sides of a channel are two processes (pinned to two CPUs when there
 * are two).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "bench.h"

/* --- what each mode runs -------------------------------------------------- */

static const size_t pp_sizes[] = { 64, 4 * KiB, 64 * KiB };
static const size_t st_sizes[] = { 64, 4 * KiB, 64 * KiB, 1 * MiB };
static const unsigned int st_batches[] = { 1, 16, 256 };

struct plan {
	unsigned int pp_iters[ARRAY_SIZE(pp_sizes)];
	unsigned int pp_warm;
	unsigned int st_msgs[ARRAY_SIZE(st_sizes)];
	unsigned int wake_samples;
	unsigned int setup_reps;
	uint64_t calib_loops;
	size_t memcpy_budget;
	unsigned int timeout_s;
};

static const struct plan plans[3][2] = {
	[MODE_ICOUNT] = {
		{ { 2000, 2000, 300 }, 20, { 20000, 4096, 512, 32 },
		  100, 20, 50000000, 32 * MiB, 300 },
		{ { 300, 300, 50 }, 10, { 2000, 512, 64, 12 },
		  20, 5, 10000000, 8 * MiB, 300 },
	},
	[MODE_TCG] = {
		{ { 1000, 500, 200 }, 50, { 10000, 2048, 256, 32 },
		  100, 20, 0, 64 * MiB, 300 },
		{ { 100, 50, 20 }, 10, { 500, 200, 32, 8 },
		  10, 3, 0, 16 * MiB, 300 },
	},
	[MODE_NATIVE] = {
		{ { 50000, 20000, 5000 }, 1000, { 1000000, 200000, 20000, 1000 },
		  300, 200, 0, 1024 * MiB, 120 },
		{ { 1000, 500, 200 }, 50, { 20000, 5000, 500, 20 },
		  20, 10, 0, 64 * MiB, 120 },
	},
};

static const struct plan *plan(void)
{
	return &plans[opt.mode][opt.quick];
}

static void *shared_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/*
 * Outcome of a measurement: a failed channel creation of a comparison
 * mechanism is a system limit (skipped, with the reason); anything else,
 * and any failure of ipcunit itself, fails the run.
 */
#define OPEN_FAILED	0x0fe4

static void set_outcome(struct rec *r, const struct mech *m, int ret)
{
	struct shared *sh = shared_get();

	if (!ret)
		return;
	if (sh->extra[3] == OPEN_FAILED && !(m->flags & M_MODULE))
		rec_skip(r, "%s", sh->err);
	else
		rec_fail(r, "%s", sh->err[0] ? sh->err : "failed");
}

static int open_pair(const struct mech *m, const struct chan_cfg *cfg,
		     struct chan *a, struct chan *b)
{
	int ret = chan_open(a, m, cfg);

	if (!ret && b)
		ret = chan_open(b, m, cfg);
	if (ret) {
		shared_get()->extra[3] = OPEN_FAILED;
		side_error("cannot create the channel: %s", strerror(-ret));
	}
	return ret;
}

static int check_msg(const void *buf, size_t len, size_t want, uint64_t seq)
{
	if (len != want) {
		side_error("message %llu: %zu bytes, expected %zu",
			   (unsigned long long)seq, len, want);
		return -EMSGSIZE;
	}
	if (payload_check(buf, len, seq)) {
		side_error("message %llu: wrong content", (unsigned long long)seq);
		return -EBADMSG;
	}
	return 0;
}

#define TRY(what, expr)							\
	do {								\
		int __r = (expr);					\
		if (__r) {						\
			side_error("%s: %s", what, strerror(__r < 0 ? -__r : __r)); \
			return -1;					\
		}							\
	} while (0)

/* --- calibration, baseline, memcpy ------------------------------------------ */

void scen_calibrate(void)
{
	struct rec *r;
	double f;

	if (opt.mode != MODE_ICOUNT)
		return;
	r = rec_new("calib", "clock", NULL, 0, 0);
	icount_align();
	f = calibrate_icount(plan()->calib_loops);
	opt.insn_per_ns = f;
	rec_set(r, "insn_per_ns", f);
	rec_set(r, "loop_insns", 2.0 * (double)plan()->calib_loops);
	progress("icount clock check: %.0f instructions took %.0f clock ns (%.5f instructions per ns)",
		 2.0 * (double)plan()->calib_loops,
		 2.0 * (double)plan()->calib_loops / f, f);
}

void scen_baseline(void)
{
	unsigned int i;
	uint64_t n, k;

	for (i = 0; i < ARRAY_SIZE(st_sizes); i++) {
		size_t size = st_sizes[i];
		struct rec *r = rec_new("baseline", "fill+check", NULL, size, 1);
		void *buf = aligned_alloc(4096, size);
		uint64_t t0;

		n = plan()->memcpy_budget / 4 / size;
		n = n < 8 ? 8 : n > 20000 ? 20000 : n;
		payload_fill(buf, size, 0);	/* fault it in */
		icount_align();
		t0 = now_ns();
		for (k = 0; k < n; k++) {
			payload_fill(buf, size, k);
			if (payload_check(buf, size, k))
				rec_fail(r, "payload check failed");
		}
		rec_set(r, "per_msg", ticks(now_ns() - t0) / (double)n);
		rec_set(r, "per_byte", ticks(now_ns() - t0) / (double)n / (double)size);
		free(buf);
	}
}

void scen_memcpy(void)
{
	static const size_t sizes[] = { 64, 4 * KiB, 64 * KiB, 1 * MiB, 64 * MiB };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		struct rec *r = rec_new("memcpy", "memcpy", NULL, size, 1);
		uint64_t n = plan()->memcpy_budget / size, k, t0, dt;
		unsigned char *a, *b;

		if (size > plan()->memcpy_budget / 2 && opt.mode != MODE_NATIVE) {
			rec_skip(r, "over this mode's budget");
			continue;
		}
		n = n < 4 ? 4 : n > 200000 ? 200000 : n;
		a = aligned_alloc(4096, size);
		b = aligned_alloc(4096, size);
		if (!a || !b) {
			rec_fail(r, "out of memory");
			free(a);
			free(b);
			continue;
		}
		memset(a, 1, size);
		memset(b, 2, size);
		icount_align();
		t0 = now_ns();
		for (k = 0; k < n; k++) {
			memcpy(k & 1 ? a : b, k & 1 ? b : a, size);
			__asm__ __volatile__("" : : "r"(a), "r"(b) : "memory");
		}
		dt = now_ns() - t0;
		rec_set(r, "per_copy", ticks(dt) / (double)n);
		rec_set(r, "per_byte", ticks(dt) / (double)n / (double)size);
		if (opt.mode != MODE_ICOUNT)
			rec_set(r, "bytes_per_s", (double)size * (double)n * 1e9 /
				(double)dt);
		free(a);
		free(b);
	}
}

/* --- ping-pong ------------------------------------------------------------- */

struct pp_arg {
	const struct mech *m;
	struct chan_cfg cfg;
	struct chan ab, ba;	/* side 0 sends on ab and receives on ba */
	unsigned int iters, warm;
	double *samples;	/* shared: iters round trips */
};

static int pp_client(struct pp_arg *a, struct chan *tx, struct chan *rx)
{
	unsigned int total = a->warm + a->iters, i;
	unsigned long long sys0 = 0;
	uint64_t t = 0, prev = 0;
	const void *rb;
	size_t len;
	void *b;

	for (i = 0; i < total; i++) {
		if (i >= a->warm) {
			t = now_ns();
			if (i == a->warm)
				sys0 = sys_calls;
			else
				a->samples[i - a->warm - 1] = ticks(t - prev);
			prev = t;
		}
		TRY("send_buf", a->m->send_buf(tx, &b));
		payload_fill(b, a->cfg.msg_size, i);
		TRY("send", a->m->send(tx));
		TRY("recv", a->m->recv(rx, tx, &rb, &len));
		if (check_msg(rb, len, a->cfg.msg_size, i))
			return -1;
		TRY("recv_done", a->m->recv_done(rx));
	}
	a->samples[a->iters - 1] = ticks(now_ns() - prev);
	shared_get()->sys[0] = sys_calls - sys0;
	return 0;
}

static int pp_server(struct pp_arg *a, struct chan *tx, struct chan *rx)
{
	unsigned int total = a->warm + a->iters, i;
	unsigned long long sys0 = 0;
	const void *rb;
	size_t len;
	void *b;

	for (i = 0; i < total; i++) {
		if (i == a->warm)
			sys0 = sys_calls;
		/* The previous reply is flushed with this wait. */
		TRY("recv", a->m->recv(rx, i ? tx : NULL, &rb, &len));
		if (check_msg(rb, len, a->cfg.msg_size, i))
			return -1;
		TRY("recv_done", a->m->recv_done(rx));
		TRY("send_buf", a->m->send_buf(tx, &b));
		payload_fill(b, a->cfg.msg_size, i);
		TRY("send", a->m->send(tx));
	}
	TRY("flush", a->m->flush(tx));
	shared_get()->sys[1] = sys_calls - sys0;
	return 0;
}

static int pp_side(void *v, int side)
{
	struct pp_arg *a = v;
	struct chan *tx = side ? &a->ba : &a->ab;
	struct chan *rx = side ? &a->ab : &a->ba;

	/*
	 * Busy-polling needs a CPU per side.  A blocking ping-pong runs one
	 * side at a time: both on one CPU, so that what is measured is the
	 * mechanism and not how fast an idle (virtual) CPU wakes up.
	 */
	pin_cpu(a->cfg.wait == WAIT_POLL ? (unsigned int)side : 0);
	TRY("attach", a->m->attach(tx, SIDE_TX));
	TRY("attach", a->m->attach(rx, SIDE_RX));
	barrier_wait(shared_get());
	return side ? pp_server(a, tx, rx) : pp_client(a, tx, rx);
}

static int pp_cell(void *v)
{
	struct pp_arg *a = v;
	int ret;

	if (open_pair(a->m, &a->cfg, &a->ab, &a->ba))
		return -1;
	ret = pair_run(pp_side, a);
	a->m->close(&a->ab);
	a->m->close(&a->ba);
	return ret;
}

static void pingpong_one(const struct mech *m, size_t size, unsigned int iters,
			 enum wait_mode w)
{
	struct rec *r = rec_new("pingpong", m->name, wait_name(w), size, 1);
	struct shared *sh = shared_get();
	struct pp_arg a = { .m = m, .iters = iters, .warm = plan()->pp_warm };
	struct stats s;
	int ret;

	chan_cfg_default(&a.cfg, size, 1, w);
	a.samples = shared_alloc(iters * sizeof(double));
	ret = run_isolated(pp_cell, &a, plan()->timeout_s);
	set_outcome(r, m, ret);
	if (!ret) {
		stats_of(a.samples, iters, &s);
		rec_set(r, "min", s.min);
		rec_set(r, "p50", s.p50);
		rec_set(r, "p99", s.p99);
		rec_set(r, "max", s.max);
		rec_set(r, "mean", s.mean);
		rec_set(r, "sys_per_rt", (double)(sh->sys[0] + sh->sys[1]) /
			iters);
		rec_set(r, "n", iters);
	}
	munmap(a.samples, iters * sizeof(double));
}

void scen_pingpong(void)
{
	static const enum wait_mode waits[] = { WAIT_BLOCK, WAIT_POLL };
	unsigned int i, j, k;
	char why[160];

	for (k = 0; k < nr_mechs; k++) {
		const struct mech *m = mechs[k];

		if (!mech_usable(m, why, sizeof(why)))
			continue;
		for (j = 0; j < ARRAY_SIZE(waits); j++) {
			if (!(m->flags & (waits[j] == WAIT_BLOCK ? M_BLOCK : M_POLL)) ||
			    !wait_measured(waits[j]))
				continue;
			uint64_t t0 = now_ns();

			for (i = 0; i < ARRAY_SIZE(pp_sizes); i++)
				pingpong_one(m, pp_sizes[i], plan()->pp_iters[i],
					     waits[j]);
			progress("pingpong %s %s (%.1f s)", m->name,
				 wait_name(waits[j]), (double)(now_ns() - t0) / 1e9);
		}
	}
}

/* --- streaming -------------------------------------------------------------- */

#define ST_CHUNKS	20

struct st_arg {
	const struct mech *m;
	struct chan_cfg cfg;
	struct chan c;
	uint64_t n, warm;
	double *chunk;		/* shared: ST_CHUNKS consumer-side durations */
};

static int st_produce(struct st_arg *a, uint64_t from, uint64_t to)
{
	unsigned int k = 0;
	uint64_t i;
	void *b;

	for (i = from; i < to; i++) {
		TRY("send_buf", a->m->send_buf(&a->c, &b));
		payload_fill(b, a->cfg.msg_size, i);
		TRY("send", a->m->send(&a->c));
		if (++k == a->cfg.batch) {
			TRY("flush", a->m->flush(&a->c));
			k = 0;
		}
	}
	TRY("flush", a->m->flush(&a->c));
	return 0;
}

/*
 * With @chunk, also time each of ST_CHUNKS equal slices of the run: on a
 * shared machine the median slice is the mechanism's rate, the whole run
 * includes whatever else the machine did.
 */
static int st_consume(struct st_arg *a, uint64_t from, uint64_t to,
		      double *chunk)
{
	uint64_t i, k = (to - from) / ST_CHUNKS, next = from + k, t = 0;
	unsigned int c = 0;
	const void *rb;
	size_t len;

	for (i = from; i < to; i++) {
		TRY("recv", a->m->recv(&a->c, NULL, &rb, &len));
		if (check_msg(rb, len, a->cfg.msg_size, i))
			return -1;
		TRY("recv_done", a->m->recv_done(&a->c));
		if (chunk && k && (i == from || i == next)) {
			uint64_t now = now_ns();

			if (i != from && c < ST_CHUNKS) {
				chunk[c++] = (double)(now - t);
				next += k;
			}
			t = now;
		}
	}
	return 0;
}

static int st_side(void *v, int side)
{
	struct st_arg *a = v;
	struct shared *sh = shared_get();
	unsigned long long sys0;
	int ret;

	pin_cpu((unsigned int)side);
	TRY("attach", a->m->attach(&a->c, side ? SIDE_RX : SIDE_TX));
	/* Warm-up: every page of the ring touched, caches and TLBs warm. */
	ret = side ? st_consume(a, 0, a->warm, NULL) :
		     st_produce(a, 0, a->warm);
	if (ret)
		return ret;
	barrier_wait(sh);
	sys0 = sys_calls;
	if (side == 0) {
		sh->t_start = now_ns();
		ret = st_produce(a, a->warm, a->warm + a->n);
	} else {
		ret = st_consume(a, a->warm, a->warm + a->n, a->chunk);
		sh->t_end = now_ns();
	}
	sh->sys[side] = sys_calls - sys0;
	return ret;
}

static int st_cell(void *v)
{
	struct st_arg *a = v;
	int ret;

	if (open_pair(a->m, &a->cfg, &a->c, NULL))
		return -1;
	ret = pair_run(st_side, a);
	a->m->close(&a->c);
	return ret;
}

static void stream_one(const struct mech *m, size_t size, unsigned int batch,
		       uint64_t n, enum wait_mode w)
{
	struct rec *r = rec_new("stream", m->name, wait_name(w), size, batch);
	struct shared *sh = shared_get();
	struct st_arg a = { .m = m, .n = n };
	double dt, chunk_dt;
	uint64_t burst;
	int ret;

	chan_cfg_default(&a.cfg, size, batch, w);
	a.warm = a.cfg.cap_bytes / size * 2;
	if (a.warm > n / 4)
		a.warm = n / 4 ? n / 4 : 1;
	a.chunk = shared_alloc(ST_CHUNKS * sizeof(double));
	ret = run_isolated(st_cell, &a, plan()->timeout_s);
	set_outcome(r, m, ret);
	/*
	 * A slice must be long against the bursts a consumer may see (a
	 * full ring, a producer batch), else its median means nothing.
	 */
	burst = a.cfg.cap_bytes / size;
	if (burst > a.cfg.entries)
		burst = a.cfg.entries;
	if (burst < batch)
		burst = batch;
	chunk_dt = n / ST_CHUNKS >= 8 * burst ? median(a.chunk, ST_CHUNKS) : NAN;
	munmap(a.chunk, ST_CHUNKS * sizeof(double));
	if (ret)
		return;
	dt = (double)(sh->t_end - sh->t_start);
	rec_set(r, "per_msg", ticks(sh->t_end - sh->t_start) / (double)n);
	rec_set(r, "per_byte", ticks(sh->t_end - sh->t_start) / (double)n /
		(double)size);
	/* Wall clock: the median slice; icount: the whole run (exact). */
	if (opt.mode != MODE_ICOUNT && !isnan(chunk_dt))
		dt = chunk_dt * ST_CHUNKS;
	rec_set(r, "msgs_per_s", (double)n * 1e9 / dt);
	rec_set(r, "bytes_per_s", (double)n * (double)size * 1e9 / dt);
	rec_set(r, "msgs_per_s_all", (double)n * 1e9 /
		(double)(sh->t_end - sh->t_start));
	rec_set(r, "sys_per_msg", (double)(sh->sys[0] + sh->sys[1]) / (double)n);
	rec_set(r, "sys_prod", (double)sh->sys[0] / (double)n);
	rec_set(r, "sys_cons", (double)sh->sys[1] / (double)n);
	rec_set(r, "n", (double)n);
}

void scen_stream(void)
{
	unsigned int i, j, k;
	char why[160];

	for (k = 0; k < nr_mechs; k++) {
		const struct mech *m = mechs[k];
		uint64_t t0 = now_ns();
		bool block = m->flags & M_BLOCK;
		/* Busy-polling rows: the shared-memory rings, off icount. */
		bool poll = (m->flags & M_POLL) && (m->flags & M_ZEROCOPY) &&
			    wait_measured(WAIT_POLL);

		if ((m->flags & M_PINGPONG) || (!block && !poll) ||
		    !mech_usable(m, why, sizeof(why)))
			continue;
		for (i = 0; i < ARRAY_SIZE(st_sizes); i++) {
			for (j = 0; j < ARRAY_SIZE(st_batches); j++) {
				if (block)
					stream_one(m, st_sizes[i], st_batches[j],
						   plan()->st_msgs[i], WAIT_BLOCK);
				if (poll)
					stream_one(m, st_sizes[i], st_batches[j],
						   plan()->st_msgs[i], WAIT_POLL);
			}
		}
		progress("stream %s (%.1f s)", m->name,
			 (double)(now_ns() - t0) / 1e9);
	}
}

/* --- wakeup ------------------------------------------------------------------ */

struct wk_arg {
	const struct mech *m;
	struct chan_cfg cfg;
	struct chan c;
	unsigned int n, warm;
	double *samples;
};

/* Scheduler state of @pid: 'S' when it sleeps. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static int wk_sender(struct wk_arg *a)
{
	struct shared *sh = shared_get();
	struct timespec pause = { 0, 20000 };
	unsigned int i, tries;
	uint64_t t0;
	void *b;

	for (i = 0; i < a->warm + a->n; i++) {
		while (__atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE) != i + 1)
			futex_wait_val(&sh->phase, i);
		/* Really asleep: give it time, then ask the scheduler. */
		for (tries = 0;; tries++) {
			nanosleep(&pause, NULL);
			if (proc_state((pid_t)sh->extra[1]) == 'S')
				break;
			if (tries == 10000) {
				side_error("the receiver never went to sleep");
				return -1;
			}
		}
		TRY("send_buf", a->m->send_buf(&a->c, &b));
		payload_fill(b, a->cfg.msg_size, i);
		t0 = now_ns();
		TRY("send", a->m->send(&a->c));
		TRY("flush", a->m->flush(&a->c));
		while (__atomic_load_n(&sh->ack, __ATOMIC_ACQUIRE) != i + 1)
			futex_wait_val(&sh->ack, i);
		if (i >= a->warm)
			a->samples[i - a->warm] = ticks(sh->t_wake - t0);
	}
	return 0;
}

static int wk_receiver(struct wk_arg *a)
{
	struct shared *sh = shared_get();
	const void *rb;
	unsigned int i;
	uint64_t t1;
	size_t len;

	sh->extra[1] = (unsigned long long)getpid();
	for (i = 0; i < a->warm + a->n; i++) {
		__atomic_store_n(&sh->phase, i + 1, __ATOMIC_RELEASE);
		futex_wake_all(&sh->phase);
		TRY("recv", a->m->recv(&a->c, NULL, &rb, &len));
		t1 = now_ns();
		if (check_msg(rb, len, a->cfg.msg_size, i))
			return -1;
		TRY("recv_done", a->m->recv_done(&a->c));
		sh->t_wake = t1;
		__atomic_store_n(&sh->ack, i + 1, __ATOMIC_RELEASE);
		futex_wake_all(&sh->ack);
	}
	return 0;
}

static int wk_side(void *v, int side)
{
	struct wk_arg *a = v;

	/* Like a blocking ping-pong, and like icount's single vCPU. */
	pin_cpu(0);
	TRY("attach", a->m->attach(&a->c, side ? SIDE_RX : SIDE_TX));
	barrier_wait(shared_get());
	return side ? wk_receiver(a) : wk_sender(a);
}

static int wk_cell(void *v)
{
	struct wk_arg *a = v;
	int ret;

	if (open_pair(a->m, &a->cfg, &a->c, NULL))
		return -1;
	ret = pair_run(wk_side, a);
	a->m->close(&a->c);
	return ret;
}

void scen_wakeup(void)
{
	unsigned int k, n = plan()->wake_samples;
	char why[160];

	for (k = 0; k < nr_mechs; k++) {
		const struct mech *m = mechs[k];
		struct wk_arg a = { .m = m, .n = n, .warm = 5 };
		struct rec *r;
		struct stats s;
		int ret;

		if (!(m->flags & M_WAKE) || !mech_usable(m, why, sizeof(why)))
			continue;
		r = rec_new("wakeup", m->name, "block", 64, 1);
		chan_cfg_default(&a.cfg, 64, 1, WAIT_BLOCK);
		/* Releases must not wake the sender: it is not waiting. */
		a.cfg.publish = 1;
		a.samples = shared_alloc(n * sizeof(double));
		ret = run_isolated(wk_cell, &a, plan()->timeout_s);
		set_outcome(r, m, ret);
		if (!ret) {
			stats_of(a.samples, n, &s);
			rec_set(r, "min", s.min);
			rec_set(r, "p50", s.p50);
			rec_set(r, "p99", s.p99);
			rec_set(r, "max", s.max);
			rec_set(r, "n", n);
		}
		munmap(a.samples, n * sizeof(double));
		progress("wakeup %s", m->name);
	}
}

/* --- setup -------------------------------------------------------------------- */

enum { ST_CREATE, ST_MAP, ST_FIRST, ST_PASS1, ST_PASS2, ST_DESTROY, ST_NR };
static const char *const setup_keys[ST_NR] = {
	"create", "map", "first_msg", "pass1", "pass2", "destroy",
};

struct su_arg {
	const struct mech *m;
	struct chan_cfg cfg;
	unsigned int reps;
	double *t;		/* shared: [rep][ST_NR] */
};

/* @n messages through both ends of @c, in this one process. */
static int su_msgs(struct su_arg *a, struct chan *c, unsigned int n,
		   uint64_t seq)
{
	const void *rb;
	unsigned int i;
	size_t len;
	void *b;

	for (i = 0; i < n; i++, seq++) {
		TRY("send_buf", a->m->send_buf(c, &b));
		payload_fill(b, a->cfg.msg_size, seq);
		TRY("send", a->m->send(c));
		TRY("flush", a->m->flush(c));
		TRY("recv", a->m->recv(c, NULL, &rb, &len));
		if (check_msg(rb, len, a->cfg.msg_size, seq))
			return -1;
		TRY("recv_done", a->m->recv_done(c));
	}
	return 0;
}

static int su_cell(void *v)
{
	struct su_arg *a = v;
	unsigned int rep, pass = (unsigned int)(a->cfg.cap_bytes / a->cfg.msg_size);
	uint64_t t[ST_NR + 1];
	struct chan c;
	int s, ret;

	for (rep = 0; rep < a->reps; rep++) {
		memset(&c, 0, sizeof(c));
		c.m = a->m;
		c.cfg = a->cfg;
		t[0] = now_ns();
		ret = a->m->open(&c);
		t[1] = now_ns();
		if (!ret && a->m->map)
			ret = a->m->map(&c);
		t[2] = now_ns();
		if (ret) {
			shared_get()->extra[3] = OPEN_FAILED;
			side_error("cannot create the channel: %s", strerror(-ret));
			return -1;
		}
		if (su_msgs(a, &c, 1, 0))
			return -1;
		t[3] = now_ns();
		if (su_msgs(a, &c, pass - 1, 1))
			return -1;
		t[4] = now_ns();
		if (su_msgs(a, &c, pass, pass))
			return -1;
		t[5] = now_ns();
		a->m->close(&c);
		t[6] = now_ns();
		for (s = 0; s < ST_NR; s++)
			a->t[rep * ST_NR + s] = ticks(t[s + 1] - t[s]);
	}
	return 0;
}

void scen_setup(void)
{
	unsigned int k, s, rep, reps = plan()->setup_reps;
	double *col = calloc(reps, sizeof(double));
	char why[160];

	for (k = 0; k < nr_mechs; k++) {
		const struct mech *m = mechs[k];
		struct su_arg a = { .m = m, .reps = reps };
		struct rec *r;
		int ret;

		if (!mech_usable(m, why, sizeof(why)))
			continue;
		r = rec_new("setup", m->name, NULL, 4 * KiB, 1);
		chan_cfg_default(&a.cfg, 4 * KiB, 1, WAIT_BLOCK);
		a.t = shared_alloc(reps * ST_NR * sizeof(double));
		ret = run_isolated(su_cell, &a, plan()->timeout_s);
		set_outcome(r, m, ret);
		for (s = 0; !ret && s < ST_NR; s++) {
			for (rep = 0; rep < reps; rep++)
				col[rep] = a.t[rep * ST_NR + s];
			rec_set(r, setup_keys[s], median(col, reps));
		}
		if (!ret)
			rec_set(r, "cap_bytes", (double)a.cfg.cap_bytes);
		munmap(a.t, reps * ST_NR * sizeof(double));
	}
	free(col);
	progress("setup: %u mechanisms", k);
}
