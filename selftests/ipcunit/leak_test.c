// SPDX-License-Identifier: GPL-2.0
/*
 * Leak accounting (THREATS 21): after thousands of create / map / peer /
 * eventfd / send / close cycles, the module's live object and page counters
 * (debugfs) are back at their starting values.  And fds installed before
 * their object is complete (THREATS 12): a thread closes guessed fd numbers
 * while another creates channels.
 */
#include <pthread.h>
#include <sys/eventfd.h>

#include "../kselftest_harness.h"
#include "ipcu_test.h"

#define ENTRIES		8
#define MAX_MSG		256
#define PAYLOAD		4096

FIXTURE(leak) {
	struct ipcu_test_counters start;
};

FIXTURE_SETUP(leak)
{
	if (ipcu_test_counters_read(&self->start))
		SKIP(return, "no debugfs counters (/sys/kernel/debug/ipcunit/stats)");
}

FIXTURE_TEARDOWN(leak)
{
}

static void expect_counters_back(struct __test_metadata *_metadata,
				 const struct ipcu_test_counters *start)
{
	struct ipcu_test_counters now;

	ASSERT_EQ(0, ipcu_test_counters_read(&now));
	EXPECT_EQ(start->channels, now.channels);
	EXPECT_EQ(start->endpoints, now.endpoints);
	EXPECT_EQ(start->regions, now.regions);
	EXPECT_EQ(start->pages, now.pages);
	EXPECT_EQ(start->users, now.users);
}

/*
 * One full life: create, map, peer, eventfds on every event, a message
 * each way of the wakeup protocol, then a teardown that varies: either
 * side first, eventfds closed before the channel, a forked copy of the
 * mappings that exits on its own.
 */
static int cycle(int dev, unsigned int i)
{
	struct ipcu_chan_params p = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD << (i % 3),
	};
	struct ipcu_ep prod, cons;
	unsigned char msg[MAX_MSG];
	int efd[3], ret, k;
	pid_t pid = 0;

	ret = ipcu_chan_create(dev, &p, i % 2 ? IPCU_ROLE_CONSUMER :
			       IPCU_ROLE_PRODUCER, i % 2 ? &cons : &prod);
	if (ret)
		return ret;
	ret = ipcu_ep_peer(i % 2 ? &cons : &prod, i % 2 ? &prod : &cons);
	if (ret)
		return ret;
	for (k = 0; k < 3; k++) {
		efd[k] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd[k] < 0)
			return -errno;
	}
	if (ipcu_set_eventfd(&cons, IPCU_EV_DATA, efd[0]) ||
	    ipcu_set_eventfd(&prod, IPCU_EV_SPACE, efd[1]) ||
	    ipcu_set_eventfd(&cons, IPCU_EV_PEER_GONE, efd[2]) ||
	    ipcu_set_eventfd(&prod, IPCU_EV_PEER_GONE, efd[2]))
		return -EIO;

	ipcu_test_msg_fill(msg, 64, i);
	if (ipcu_send(&prod, msg, 64, 0) ||
	    ipcu_recv(&cons, msg, sizeof(msg), 0) != 64 ||
	    ipcu_test_msg_check(msg, 64, i))
		return -EBADMSG;
	/* Doorbells into every registered eventfd. */
	if (ipcu_doorbell(&prod) || ipcu_doorbell(&cons))
		return -EIO;

	if (i % 4 == 1) {
		for (k = 0; k < 3; k++)
			close(efd[k]);
	}
	if (i % 50 == 7) {
		pid = ipcu_test_fork();
		if (pid < 0)
			return -errno;
		if (pid == 0)
			_exit(ipcu_test_put(&prod, 1, 8) ? 1 : 0);
	}
	if (i % 2) {
		ipcu_ep_close(&prod);
		ipcu_ep_close(&cons);
	} else {
		ipcu_ep_close(&cons);
		ipcu_ep_close(&prod);
	}
	if (pid > 0 && ipcu_test_reap(pid))
		return -ECHILD;
	if (i % 4 != 1) {
		for (k = 0; k < 3; k++)
			close(efd[k]);
	}
	return 0;
}

TEST_F_TIMEOUT(leak, create_use_close_cycles, 200)
{
	unsigned int i;
	int dev = ipcu_open();

	ASSERT_LE(0, dev);
	for (i = 0; i < 2000; i++)
		ASSERT_EQ(0, cycle(dev, i)) TH_LOG("cycle %u", i);
	close(dev);
	expect_counters_back(_metadata, &self->start);
}

/* Named channels: the name goes with the channel, so it is free again. */
TEST_F_TIMEOUT(leak, named_cycles, 200)
{
	struct ipcu_chan_params p = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD, .mode = 0600,
	};
	char name[IPCU_NAME_MAX];
	struct ipcu_ep a, b;
	unsigned int i;
	int dev = ipcu_open();

	ASSERT_LE(0, dev);
	snprintf(name, sizeof(name), "leak-test-%d", (int)getpid());
	p.name = name;
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, ipcu_chan_create(dev, &p, i % 2, &a));
		ASSERT_EQ(0, ipcu_chan_attach(dev, name, !(i % 2), &b));
		EXPECT_EQ(-EEXIST, ipcu_chan_create(dev, &p, 0, &a));
		if (i % 3) {
			ipcu_ep_close(&a);
			ipcu_ep_close(&b);
		} else {
			ipcu_ep_close(&b);
			ipcu_ep_close(&a);
		}
		/* Gone with its last reference. */
		EXPECT_EQ(-ENOENT, ipcu_chan_attach(dev, name, 0, &a));
	}
	close(dev);
	expect_counters_back(_metadata, &self->start);
}

/*
 * Every kind of object through its whole life, FULL_CYCLES times: a channel
 * carries a message, its payload is cloned and the clone written (a
 * copy-on-write break against the live ring); a region is mapped, written,
 * cloned (sealed every third time), the clone mapped and written (a break
 * on each side); then everything goes away in an order that varies with the
 * cycle.  The counters are checked against the start every COUNTER_EVERY
 * cycles, and at the end.
 */
#define FULL_CYCLES	10000U
#define COUNTER_EVERY	500U
#define REGION_PAGES	3U

static int full_cycle(int dev, unsigned int i, size_t pg)
{
	const size_t rlen = REGION_PAGES * pg;
	unsigned char msg[64];
	struct ipcu_ep prod, cons;
	unsigned char *pc, *r, *rc;
	int pclone, reg, rclone, sealed = i % 3 == 0;
	uint32_t gen;
	int ret = 0;

	ret = ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG, PAYLOAD);
	if (ret)
		return ret;
	ipcu_test_msg_fill(msg, sizeof(msg), i);
	if (ipcu_send(&prod, msg, sizeof(msg), 0))
		return -EIO;

	/* The clone of a live payload: writing it must not reach the ring. */
	pclone = ipcu_test_clone(i % 2 ? cons.fd : prod.fd, 0);
	if (pclone < 0)
		return pclone;
	pc = ipcu_test_map(pclone, 1, PROT_READ | PROT_WRITE, 0);
	if (pc == MAP_FAILED)
		return -errno;
	if (ipcu_test_msg_check(pc, sizeof(msg), i))
		return -EBADMSG;
	memset(pc, 0xa5, sizeof(msg));
	if (ipcu_recv(&cons, msg, sizeof(msg), 0) != sizeof(msg) ||
	    ipcu_test_msg_check(msg, sizeof(msg), i))
		return -EBADMSG;

	reg = ipcu_test_region_create(dev, rlen, NULL, 0);
	if (reg < 0)
		return reg;
	r = ipcu_test_map(reg, REGION_PAGES, PROT_READ | PROT_WRITE, 0);
	if (r == MAP_FAILED)
		return -errno;
	ipcu_test_gen_fill(r, rlen, i);
	rclone = ipcu_test_clone(reg, sealed ? IPCU_CLONE_SEAL : 0);
	if (rclone < 0)
		return rclone;
	rc = ipcu_test_map(rclone, REGION_PAGES,
			   sealed ? PROT_READ : PROT_READ | PROT_WRITE, 0);
	if (rc == MAP_FAILED)
		return -errno;
	/* A break on the source side, then (unsealed) on the clone's. */
	r[(i % REGION_PAGES) * pg] ^= 0xff;
	if (!sealed)
		rc[((i + 1) % REGION_PAGES) * pg] ^= 0xff;
	r[(i % REGION_PAGES) * pg] ^= 0xff;
	if (ipcu_test_gen_check(r, rlen, &gen) || gen != i)
		ret = -EBADMSG;
	if (sealed && (ipcu_test_gen_check(rc, rlen, &gen) || gen != i))
		ret = -EBADMSG;

	/* Teardown in a varying order: fds first, maps first, mixed. */
	switch (i % 3) {
	case 0:
		close(rclone);
		close(reg);
		close(pclone);
		ipcu_ep_close(&prod);
		munmap(rc, rlen);
		munmap(r, rlen);
		munmap(pc, pg);
		ipcu_ep_close(&cons);
		break;
	case 1:
		munmap(r, rlen);
		close(reg);
		ipcu_ep_close(&cons);
		munmap(pc, pg);
		close(pclone);
		munmap(rc, rlen);
		close(rclone);
		ipcu_ep_close(&prod);
		break;
	default:
		ipcu_ep_close(&prod);
		ipcu_ep_close(&cons);
		munmap(pc, pg);
		close(pclone);
		munmap(rc, rlen);
		munmap(r, rlen);
		close(rclone);
		close(reg);
		break;
	}
	return ret;
}

/* Cycles of one worker of one block; two workers run a block at once. */
static int full_cycles(unsigned int first, unsigned int n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int dev = ipcu_open(), ret = 0;
	unsigned int i;

	if (dev < 0)
		return dev;
	for (i = first; i < first + n && !ret; i++) {
		ret = full_cycle(dev, i, pg);
		if (ret)
			fprintf(stderr, "# cycle %u: %s\n", i, strerror(-ret));
	}
	close(dev);
	return ret;
}

/*
 * Blocks of COUNTER_EVERY cycles, each split between two processes so that
 * both CPUs work (a debug kernel needs minutes for the whole run); between
 * blocks nothing is open and every counter must be back at the start.
 */
TEST_F_TIMEOUT(leak, full_life_10000_cycles, 1800)
{
	const unsigned int half = COUNTER_EVERY / 2;
	struct ipcu_test_counters now;
	unsigned int block;
	pid_t pid[2];
	int w;

	for (block = 0; block < FULL_CYCLES; block += COUNTER_EVERY) {
		for (w = 0; w < 2; w++) {
			pid[w] = ipcu_test_fork();
			ASSERT_LE(0, pid[w]);
			if (pid[w] == 0)
				_exit(full_cycles(block + w * half, half) ? 1 : 0);
		}
		for (w = 0; w < 2; w++)
			ASSERT_EQ(0, ipcu_test_reap(pid[w]))
				TH_LOG("block at cycle %u", block);
		ASSERT_EQ(0, ipcu_test_counters_read(&now));
		ASSERT_EQ(self->start.channels, now.channels)
			TH_LOG("after cycle %u", block + COUNTER_EVERY);
		ASSERT_EQ(self->start.endpoints, now.endpoints);
		ASSERT_EQ(self->start.regions, now.regions);
		ASSERT_EQ(self->start.pages, now.pages);
		ASSERT_EQ(self->start.users, now.users);
	}
	expect_counters_back(_metadata, &self->start);
	TH_LOG("%u cycles of channel, payload clone, region, region clone",
	       FULL_CYCLES);
}

/*
 * THREATS 12: the closer closes every fd number a new endpoint can get,
 * over and over, while the creator creates channels and peers through
 * fds that may vanish under it.  Nothing may crash or leak; the creator's
 * calls fail with -EBADF at worst.
 */
#define GUESS_FDS	8

struct fd_race {
	int base;
	int stop;
	unsigned int closes;
};

static void *closer(void *arg)
{
	struct fd_race *r = arg;
	int fd;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (fd = r->base; fd < r->base + GUESS_FDS; fd++)
			if (!close(fd))
				r->closes++;
	}
	return NULL;
}

TEST_F_TIMEOUT(leak, close_guessed_fds_during_create, 200)
{
	struct ipcu_chan_create c = {
		.ring_entries = ENTRIES, .max_msg = MAX_MSG,
		.payload_bytes = PAYLOAD,
	};
	size_t pg = sysconf(_SC_PAGESIZE);
	struct fd_race race = { 0 };
	unsigned int i, created = 0, peered = 0;
	int dev = ipcu_open(), fd;
	pthread_t t;

	ASSERT_LE(0, dev);
	/* The lowest free number: every fd the creator gets is from here. */
	race.base = dup(dev);
	ASSERT_LE(0, race.base);
	close(race.base);

	ASSERT_EQ(0, pthread_create(&t, NULL, closer, &race));
	for (i = 0; i < 3000; i++) {
		struct ipcu_ep_peer p = { 0 };
		struct ipcu_ep_info info;
		int ret;
		void *map;

		c.role = i % 2;
		c.fd = -1;
		ret = ipcu_test_ioctl(dev, IPCU_IOC_CHAN_CREATE, &c);
		ASSERT_EQ(0, ret);
		ASSERT_LE(race.base, c.fd);
		ASSERT_GT(race.base + GUESS_FDS, c.fd);
		created++;

		/* Each of these may find the fd closed under it. */
		ret = ipcu_test_ep_info(c.fd, &info);
		EXPECT_TRUE(ret == 0 || ret == -EBADF) TH_LOG("info: %d", ret);
		if (ret == 0)
			EXPECT_EQ(c.role, info.role);
		map = mmap(NULL, pg, PROT_READ, MAP_SHARED, c.fd, 0);
		if (map != MAP_FAILED)
			munmap(map, pg);
		else
			EXPECT_EQ(EBADF, errno);
		ret = ipcu_test_ioctl(c.fd, IPCU_IOC_EP_PEER, &p);
		EXPECT_TRUE(ret == 0 || ret == -EBADF) TH_LOG("peer: %d", ret);
		if (ret == 0)
			peered++;
		close(c.fd);
		if (ret == 0)
			close(p.fd);
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(t, NULL));
	for (fd = race.base; fd < race.base + GUESS_FDS; fd++)
		close(fd);
	close(dev);
	TH_LOG("%u created, %u peered, %u fds closed by the other thread",
	       created, peered, race.closes);
	expect_counters_back(_metadata, &self->start);
}

/* Closing the device fd does not end the channels made through it. */
TEST_F(leak, device_closed_first)
{
	struct ipcu_ep prod, cons;
	unsigned int i;

	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, ipcu_test_pair(&prod, &cons, ENTRIES, MAX_MSG,
					    PAYLOAD));
		ASSERT_EQ(0, ipcu_test_put(&prod, i, 32));
		ASSERT_EQ(0, ipcu_flush(&prod));
		ASSERT_EQ(0, ipcu_test_get(&cons, i));
		ipcu_ep_close(&prod);
		ipcu_ep_close(&cons);
	}
	expect_counters_back(_metadata, &self->start);
}

TEST_HARNESS_MAIN
