/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipcunit-bench: ipcunit against the other local IPC mechanisms.
 *
 * Every mechanism is a table entry (struct mech) with the same message
 * interface; the scenarios (ping-pong, streaming, wakeup, setup, clone) are
 * written once against that interface.  Two processes exchange messages:
 * the producer writes every byte of every message where the mechanism
 * wants it (in place for the shared-memory rings, into a private buffer for
 * the copying ones) and the consumer reads and checks every byte where the
 * mechanism delivers it.  See payload.c.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KiB		1024UL
#define MiB		(1024UL * 1024)

/* --- run configuration -------------------------------------------------- */

enum run_mode {
	MODE_ICOUNT,	/* QEMU -icount, 1 vCPU: clock ns are instructions */
	MODE_TCG,	/* QEMU TCG, usually 2 vCPUs: wall clock, distorted */
	MODE_NATIVE,	/* the host, no module */
};

struct opts {
	enum run_mode mode;
	bool quick;
	const char *only;	/* comma-separated scenario list, or NULL */
	const char *mechs;	/* comma-separated mechanism list, or NULL */
	const char *out_dir;	/* write files here, or NULL */
	bool bundle;		/* print files to stdout between markers */
	int uring;		/* 0 auto, 1 force MSG_RING, 2 force eventfd */
	unsigned int clone_max_mib;
	unsigned int ncpus;
	double insn_per_ns;	/* icount: counted instructions per clock ns */
	char kernel[128];
	char machine[160];
};

extern struct opts opt;

/* The unit of every time figure: "insn" under icount, else "ns". */
const char *time_unit(void);

/* --- mechanisms ---------------------------------------------------------- */

enum wait_mode { WAIT_BLOCK, WAIT_POLL };

struct chan_cfg {
	size_t msg_size;	/* every message of a run has this size */
	size_t cap_bytes;	/* queue capacity given to the channel */
	unsigned int entries;	/* message slots, where the mechanism has them */
	unsigned int batch;	/* producer: messages per flush */
	unsigned int publish;	/* ring consumers: release every n messages */
	enum wait_mode wait;
};

enum side { SIDE_TX, SIDE_RX };

struct chan {
	const struct mech *m;
	struct chan_cfg cfg;
	void *priv;
};

/* struct mech.flags */
#define M_BLOCK		0x01	/* has a blocking variant */
#define M_POLL		0x02	/* has a busy-polling variant */
#define M_ZEROCOPY	0x04	/* messages are written and read in place */
#define M_MODULE	0x08	/* needs /dev/ipcunit */
#define M_PINGPONG	0x10	/* no flow control: ping-pong only */
#define M_NATIVE_ONLY	0x20	/* only measured natively */
#define M_WAKE		0x40	/* has a notify-to-wake path (wakeup test) */

/*
 * A one-way message channel.  All functions return 0 or a negative errno.
 *
 * open():     create both ends in this process (no mappings if ->map).
 * map():      optional: map what open() created.
 * attach():   after fork(): keep the end @s, drop the other one.
 * send_buf(): room for the next message (cfg.msg_size bytes); waits for
 *             space (sleeps or spins, per cfg.wait).
 * send():     the message at send_buf() is complete.
 * flush():    end of a batch: make the messages visible, wake the consumer.
 * recv():     the next message, waiting (per cfg.wait) if there is none;
 *             if @tx is not NULL, flush it first (a mechanism may combine
 *             the flush and the wait in one system call).
 * recv_done(): the consumer is done with the message recv() returned.
 * close():    release what this process holds.
 */
struct mech {
	const char *name;
	const char *desc;
	unsigned int flags;
	int (*probe)(char *why, size_t len);
	int (*open)(struct chan *c);
	int (*map)(struct chan *c);
	int (*attach)(struct chan *c, enum side s);
	int (*send_buf)(struct chan *c, void **buf);
	int (*send)(struct chan *c);
	int (*flush)(struct chan *c);
	int (*recv)(struct chan *rx, struct chan *tx, const void **buf,
		    size_t *len);
	int (*recv_done)(struct chan *c);
	void (*close)(struct chan *c);
};

extern const struct mech mech_ipcunit, mech_ipcunit_copy, mech_ipcunit_mem;
extern const struct mech mech_pipe, mech_unix_stream, mech_unix_seqpacket;
extern const struct mech mech_mq;
extern const struct mech mech_memfd_eventfd, mech_io_uring, mech_spsc_ref;
extern const struct mech mech_shm_spin;

extern const struct mech *const mechs[];
extern const unsigned int nr_mechs;

/* Which io_uring doorbell the io_uring mechanism uses (after its probe). */
const char *uring_variant(void);

/* Is @m selected (--mechs) and usable in this mode?  @why on "no". */
bool mech_usable(const struct mech *m, char *why, size_t len);

/* Open a channel of @m (open + map); 0 or -errno. */
int chan_open(struct chan *c, const struct mech *m, const struct chan_cfg *cfg);

/* Default capacity and ring consumer release interval for a size. */
void chan_cfg_default(struct chan_cfg *cfg, size_t msg_size,
		      unsigned int batch, enum wait_mode wait);

/* --- system call accounting --------------------------------------------- */

/*
 * Data-path system calls of this process.  The benchmark counts the calls
 * it makes (SYSC()); the ones libipcunit makes are counted by wrapping
 * ioctl() and sched_yield() at link time (-Wl,--wrap).
 */
extern unsigned long long sys_calls;
#define SYSC(expr)	(sys_calls++, (expr))

/* --- time and statistics ------------------------------------------------- */

uint64_t now_ns(void);
/* A clock difference in the report's unit (instructions under icount). */
double ticks(uint64_t ns);

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

struct stats {
	double min, p50, p99, max, mean;
	size_t n;
};

/* Sorts @v (in place) and summarises it. */
void stats_of(double *v, size_t n, struct stats *s);
double median(double *v, size_t n);

/* icount: wait for a fixed phase of the timer tick (no-op otherwise). */
void icount_align(void);

/* Measure instructions per clock ns with a loop of known length. */
double calibrate_icount(uint64_t loops);

/* --- payload -------------------------------------------------------------- */

/* Write every byte of a message (8-byte words derived from @seq). */
void payload_fill(void *buf, size_t len, uint64_t seq);
/* Read every byte; 0 if the message is message @seq, -EBADMSG if not. */
int payload_check(const void *buf, size_t len, uint64_t seq);

/* --- processes ------------------------------------------------------------ */

/* Shared between the two sides of a run and the parent. */
struct shared {
	uint32_t barrier_count;
	uint32_t barrier_gen;
	uint32_t phase;			/* wakeup test hand-shake */
	uint32_t ack;
	uint64_t t_start, t_end, t_wake;
	unsigned long long sys[2];	/* per side */
	unsigned long long extra[4];
	char err[256];
};

struct shared *shared_get(void);
void barrier_wait(struct shared *sh);
void futex_wait_val(uint32_t *addr, uint32_t val);
void futex_wake_all(uint32_t *addr);

/* Pin this process to @cpu if there are enough CPUs; ignore errors. */
void pin_cpu(unsigned int cpu);

/* Record an error of this process in the shared area (first one wins). */
void side_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Run @fn(@arg, 1) in a child and @fn(@arg, 0) in this process; a side
 * that fails kills the other.  0 if both returned 0, else -1 with
 * shared_get()->err set.  Call it under run_isolated() (the watchdog).
 */
int pair_run(int (*fn)(void *arg, int side), void *arg);

/*
 * Run @fn in a forked process (its own process group) and wait at most
 * @timeout_s seconds; a crash or a timeout is a failure with a message in
 * shared_get()->err.
 */
int run_isolated(int (*fn)(void *arg), void *arg, unsigned int timeout_s);

/* --- results --------------------------------------------------------------- */

#define REC_VALS	20

enum rec_status { REC_OK, REC_SKIP, REC_FAIL };

struct rec {
	char scen[16];
	char mech[32];
	char wait[8];
	uint64_t size;
	unsigned int batch;
	enum rec_status status;
	char note[200];
	unsigned int nval;
	struct {
		char key[16];
		double v;
	} val[REC_VALS];
};

struct rec *rec_new(const char *scen, const char *mech, const char *wait,
		    uint64_t size, unsigned int batch);
void rec_set(struct rec *r, const char *key, double v);
/* NaN if absent or the record is not OK. */
double rec_get(const struct rec *r, const char *key);
const struct rec *rec_find(const char *scen, const char *mech,
			   const char *wait, uint64_t size, unsigned int batch);
void rec_fail(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rec_skip(struct rec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
unsigned int rec_failures(void);

extern struct rec *recs;
extern size_t nr_recs;

/* Progress lines on stderr. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- scenarios ------------------------------------------------------------- */

void scen_calibrate(void);
void scen_baseline(void);
void scen_pingpong(void);
void scen_stream(void);
void scen_wakeup(void);
void scen_setup(void);
void scen_clone(void);
void scen_memcpy(void);
void scen_prims(void);

/* Sizes and counts for this mode (scenarios.c). */
const char *wait_name(enum wait_mode w);
bool wait_measured(enum wait_mode w);

/* --- output ---------------------------------------------------------------- */

void write_json(FILE *f);
void write_markdown(FILE *f);
void write_plot_data(const char *dir);
/* Evaluate the goals that this mode can judge; printed by write_markdown. */
void goals_markdown(FILE *f);

#endif /* BENCH_H */
