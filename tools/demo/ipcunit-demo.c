// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit-demo: what ipcunit does, in one run.
 *
 *  1. the module's ABI version and features;
 *  2. a producer and a consumer in two processes exchanging messages of
 *     several sizes in place, with checksums, and the doorbells the kernel
 *     counted per 1,000 messages: none while the consumer keeps up awake,
 *     one per sleep when it blocks;
 *  3. the consumer's mappings are read-only: mapping the payload writable is
 *     refused, and a stray write is a SIGSEGV;
 *  4. a copy-on-write snapshot of a region while a writer keeps going, and
 *     the page counts afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcunit.h>

#define die(...) do { fprintf(stderr, "ipcunit-demo: " __VA_ARGS__); \
		      fputc('\n', stderr); exit(1); } while (0)

static uint32_t fnv1a(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void kernel_counts(struct ipcu_ep *ep, unsigned long long *doorbells,
			  unsigned long long *sleeps)
{
	struct ipcu_ep_info info = { 0 };

	if (ioctl(ipcu_ep_fd(ep), IPCU_IOC_EP_INFO, &info))
		die("EP_INFO: %s", strerror(errno));
	*doorbells = info.doorbells;
	*sleeps = info.sleeps;
}

static void show_version(int dev)
{
	struct ipcu_version v;
	int err = ipcu_version(dev, &v);

	if (err)
		die("version: %s", strerror(-err));
	printf("== ipcunit ABI %u.%u, page size %u\n", v.abi_major,
	       v.abi_minor, v.page_size);
	printf("   features:%s%s%s%s%s%s\n",
	       v.features & IPCU_FEAT_VERSION ? " version" : "",
	       v.features & IPCU_FEAT_CHANNEL ? " channels" : "",
	       v.features & IPCU_FEAT_NAMES ? " names" : "",
	       v.features & IPCU_FEAT_EVENTFD ? " eventfd" : "",
	       v.features & IPCU_FEAT_WAIT ? " wait+doorbell" : "",
	       v.features & IPCU_FEAT_REGION ? " regions+clone+seal" : "");
}

/*
 * The producer: @count messages of @size bytes, each written in place
 * (sequence number, then a pattern, then the checksum of both).
 */
static void produce(struct ipcu_ep *ep, unsigned int count, size_t size)
{
	unsigned int seq;

	for (seq = 0; seq < count; seq++) {
		unsigned char *buf;
		void *p;
		int err;

		while ((err = ipcu_reserve(ep, size, &p)) == -EAGAIN) {
			ipcu_flush(ep);
			err = ipcu_wait_space(ep, size, -1);
			if (err)
				die("producer wait: %s", strerror(-err));
		}
		if (err)
			die("reserve: %s", strerror(-err));
		buf = p;
		memcpy(buf, &seq, sizeof(seq));
		memset(buf + 4, (int)(seq & 0xff), size - 8);
		*(uint32_t *)(buf + size - 4) = fnv1a(buf, size - 4);
		ipcu_commit(ep, size, seq);
		ipcu_flush(ep);
	}
}

/* The consumer: checks every message in place; @block sleeps when empty. */
static void consume(struct ipcu_ep *ep, unsigned int count, size_t size,
		    int block)
{
	unsigned int seq = 0;

	while (seq < count) {
		const unsigned char *buf;
		const void *p;
		size_t len;
		__u32 tag;
		int err = ipcu_peek(ep, &p, &len, &tag);

		if (err == -EAGAIN) {
			if (block) {
				err = ipcu_wait(ep, -1);
				if (err)
					die("consumer wait: %s", strerror(-err));
			}
			continue;
		}
		if (err)
			die("peek: %s", strerror(-err));
		buf = p;
		if (len != size || tag != seq || memcmp(buf, &seq, 4) ||
		    *(const uint32_t *)(buf + size - 4) != fnv1a(buf, size - 4))
			die("message %u corrupt", seq);
		ipcu_release(ep);
		ipcu_flush(ep);
		seq++;
	}
}

static void exchange(int dev, size_t size, unsigned int count, int block)
{
	struct ipcu_chan_params params = {
		.ring_entries = 256,
		.max_msg = size,
		.payload_bytes = size <= 2048 ? 64 * 1024 : 4 * size,
	};
	unsigned long long db, sl, cdb, csl;
	struct ipcu_ep prod, cons;
	pid_t pid;
	int err, status;

	err = ipcu_chan_create(dev, &params, IPCU_ROLE_PRODUCER, &prod);
	if (err)
		die("create: %s", strerror(-err));
	err = ipcu_ep_peer(&prod, &cons);
	if (err)
		die("peer: %s", strerror(-err));

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		ipcu_ep_close(&prod);
		consume(&cons, count, size, block);
		_exit(0);
	}
	produce(&prod, count, size);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("consumer failed");
	kernel_counts(&prod, &db, &sl);
	kernel_counts(&cons, &cdb, &csl);
	printf("   %7zu B x %5u  %-9s  producer doorbells %6.1f / 1000 msgs, consumer slept %llu times\n",
	       size, count, block ? "blocking" : "busy-poll",
	       1000.0 * db / count, csl);
	ipcu_ep_close(&cons);
	ipcu_ep_close(&prod);
}

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

static void show_protection(int dev)
{
	struct ipcu_chan_params params = {
		.ring_entries = 8, .max_msg = 2048, .payload_bytes = 4096,
	};
	struct ipcu_ep_info info = { 0 };
	struct ipcu_ep prod, cons;
	volatile unsigned char *ro;
	void *w;

	if (ipcu_chan_create(dev, &params, IPCU_ROLE_PRODUCER, &prod) ||
	    ipcu_ep_peer(&prod, &cons))
		die("create");
	ioctl(ipcu_ep_fd(&cons), IPCU_IOC_EP_INFO, &info);

	printf("== the consumer cannot write what it reads\n");
	w = mmap(NULL, info.payload_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		 ipcu_ep_fd(&cons), info.payload_off);
	printf("   mmap(payload, PROT_WRITE) as consumer: %s\n",
	       w == MAP_FAILED ? strerror(errno) : "ALLOWED (bug)");
	ro = mmap(NULL, info.payload_bytes, PROT_READ, MAP_SHARED,
		  ipcu_ep_fd(&cons), info.payload_off);
	if (ro == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	printf("   mprotect(payload, PROT_WRITE): %s\n",
	       mprotect((void *)ro, info.payload_bytes, PROT_READ | PROT_WRITE) ?
	       strerror(errno) : "ALLOWED (bug)");
	signal(SIGSEGV, on_segv);
	if (sigsetjmp(segv_jmp, 1) == 0) {
		ro[0] = 1;
		printf("   store to the payload: ALLOWED (bug)\n");
	} else {
		printf("   store to the payload: SIGSEGV\n");
	}
	signal(SIGSEGV, SIG_DFL);
	munmap((void *)ro, info.payload_bytes);
	ipcu_ep_close(&cons);
	ipcu_ep_close(&prod);
}

static void region_stats(int fd, const char *what)
{
	struct ipcu_region_stats s = { 0 };

	if (ioctl(fd, IPCU_IOC_REGION_STATS, &s))
		die("stats: %s", strerror(errno));
	printf("   %-22s private %5llu  shared %5llu  copied on write %5llu%s\n",
	       what, s.private_pages, s.shared_pages, s.cow_copies,
	       s.state & IPCU_REGION_SEALED ? "  (sealed)" : "");
}

static void show_snapshot(int dev)
{
	const size_t size = 16 << 20, page = 4096, pages = size / page;
	struct ipcu_region_create rc = { .size = size };
	struct ipcu_clone cl = { .flags = IPCU_CLONE_SEAL };
	unsigned long long *live;
	const unsigned long long *snap;
	size_t i, frozen = 0;
	pid_t writer;

	printf("== copy-on-write snapshot of a 16 MiB region while a writer runs\n");
	if (ioctl(dev, IPCU_IOC_REGION_CREATE, &rc))
		die("region: %s", strerror(errno));
	live = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, rc.fd, 0);
	if (live == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	for (i = 0; i < pages; i++)
		live[i * page / 8] = 0;

	writer = fork();
	if (writer == 0) {
		/* Bump a counter in every 8th page, forever. */
		for (unsigned long long gen = 1;; gen++)
			for (i = 0; i < pages; i += 8)
				live[i * page / 8] = gen;
	}
	usleep(200 * 1000);
	if (ioctl(rc.fd, IPCU_IOC_CLONE, &cl))
		die("clone: %s", strerror(errno));
	snap = mmap(NULL, size, PROT_READ, MAP_SHARED, cl.fd, 0);
	if (snap == MAP_FAILED)
		die("mmap clone: %s", strerror(errno));
	usleep(200 * 1000);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);

	/* The snapshot never moved, though the writer went on. */
	for (i = 0; i < pages; i += 8)
		frozen += snap[i * page / 8] != live[i * page / 8];
	printf("   clone taken: %zu of %zu written pages differ from the live region now\n",
	       frozen, pages / 8);
	region_stats(rc.fd, "live region:");
	region_stats(cl.fd, "sealed snapshot:");
	munmap((void *)snap, size);
	munmap(live, size);
	close(cl.fd);
	close(rc.fd);
}

int main(void)
{
	static const size_t sizes[] = { 64, 4096, 65536, 1 << 20 };
	unsigned int i;
	int dev = ipcu_open();

	if (dev < 0)
		die("open %s: %s", IPCU_DEVICE_PATH, strerror(-dev));
	setvbuf(stdout, NULL, _IOLBF, 0);
	show_version(dev);

	printf("== zero-copy messages between two processes (checked in place)\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		exchange(dev, sizes[i], sizes[i] >= 65536 ? 200 : 20000, 1);
	exchange(dev, 64, 20000, 0);
	show_protection(dev);
	show_snapshot(dev);
	close(dev);
	printf("== done\n");
	return 0;
}
