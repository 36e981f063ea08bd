// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit: command-line access to /dev/ipcunit.
 *
 *   ipcunit version                    ABI, features and ioctls of the module
 *   ipcunit stats                      live objects (debugfs)
 *   ipcunit send NAME [MSG...]         send each MSG (or each stdin line) to
 *                                      a named channel, as its producer
 *   ipcunit recv NAME [COUNT]          print COUNT messages (default: until
 *                                      the producer is gone), as consumer;
 *                                      creates the channel (mode 0600) if no
 *                                      channel has that name yet
 *   ipcunit region NAME SIZE [MODE]    create a named region and keep it
 *                                      until killed (for scripts)
 *   ipcunit snapshot NAME FILE         write a consistent copy-on-write
 *                                      snapshot of a named region to FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ipcunit.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "ipcunit: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ipcunit version | stats | send NAME [MSG...] |\n"
		"               recv NAME [COUNT] | region NAME SIZE [MODE] |\n"
		"               snapshot NAME FILE\n");
	return 2;
}

static int cmd_version(int dev)
{
	struct ipcu_version v;
	int err = ipcu_version(dev, &v), nr;

	if (err)
		return fail("version", err);
	printf("abi %u.%u\npage_size %u\nfeatures 0x%llx\nioctls",
	       v.abi_major, v.abi_minor, v.page_size,
	       (unsigned long long)v.features);
	for (nr = 0; nr < 64; nr++)
		if (v.ioctls & (1ULL << nr))
			printf(" 0x%02x", nr);
	printf("\n");
	return 0;
}

static int cmd_stats(void)
{
	FILE *f = fopen("/sys/kernel/debug/ipcunit/stats", "r");
	char line[128];

	if (!f)
		return fail("/sys/kernel/debug/ipcunit/stats", errno);
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return 0;
}

static int cmd_send(int dev, const char *name, int argc, char **argv)
{
	struct ipcu_ep ep;
	char line[4096];
	int err, i;

	err = ipcu_chan_attach(dev, name, IPCU_ROLE_PRODUCER, &ep);
	if (err)
		return fail(name, err);
	for (i = 0; i < argc || (!argc && fgets(line, sizeof(line), stdin)); i++) {
		const char *msg = argc ? argv[i] : line;
		size_t len = strlen(msg);

		if (!argc && len && msg[len - 1] == '\n')
			len--;
		if (!len)
			continue;
		err = ipcu_send(&ep, msg, len, -1);
		if (err) {
			ipcu_ep_close(&ep);
			return fail("send", err);
		}
	}
	ipcu_ep_close(&ep);
	return 0;
}

static int cmd_recv(int dev, const char *name, long count)
{
	struct ipcu_ep ep;
	char *buf;
	int err;

	err = ipcu_chan_attach(dev, name, IPCU_ROLE_CONSUMER, &ep);
	if (err == -ENOENT) {
		struct ipcu_chan_params p = {
			.ring_entries = 256, .max_msg = 4096,
			.payload_bytes = 1 << 20, .name = name, .mode = 0600,
		};

		err = ipcu_chan_create(dev, &p, IPCU_ROLE_CONSUMER, &ep);
	}
	if (err)
		return fail(name, err);
	buf = malloc(ep.max_msg);
	if (!buf)
		return fail("malloc", ENOMEM);
	for (; count; count--) {
		int len = ipcu_recv(&ep, buf, ep.max_msg, -1);

		if (len == -EPIPE)
			break;		/* the producer is gone and all is read */
		if (len < 0) {
			free(buf);
			ipcu_ep_close(&ep);
			return fail("recv", len);
		}
		printf("%.*s\n", len, buf);
		fflush(stdout);
	}
	free(buf);
	ipcu_ep_close(&ep);
	return 0;
}

static void hold(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
}

static int cmd_region(int dev, const char *name, const char *size,
		      const char *mode)
{
	struct ipcu_region_create r = {
		.size = strtoull(size, NULL, 0),
		.name = (unsigned long)name,
		.mode = mode ? strtoul(mode, NULL, 8) : 0600,
	};

	if (ioctl(dev, IPCU_IOC_REGION_CREATE, &r))
		return fail(name, errno);
	hold();
	close(r.fd);
	return 0;
}

static int cmd_snapshot(int dev, const char *name, const char *path)
{
	struct ipcu_region_attach a = {
		.flags = IPCU_ATTACH_RDONLY, .name = (unsigned long)name,
	};
	struct ipcu_clone cl = { .flags = IPCU_CLONE_SEAL };
	struct ipcu_region_stats st = { 0 };
	size_t done = 0;
	char *snap;
	int out;

	if (ioctl(dev, IPCU_IOC_REGION_ATTACH, &a))
		return fail(name, errno);
	/* O(pages), no copy: writers go on against the live region. */
	if (ioctl(a.fd, IPCU_IOC_CLONE, &cl))
		return fail("clone", errno);
	close(a.fd);
	if (ioctl(cl.fd, IPCU_IOC_REGION_STATS, &st))
		return fail("stats", errno);
	snap = mmap(NULL, st.size, PROT_READ, MAP_SHARED, cl.fd, 0);
	if (snap == MAP_FAILED)
		return fail("mmap", errno);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return fail(path, errno);
	while (done < st.size) {
		ssize_t n = write(out, snap + done, st.size - done);

		if (n < 0)
			return fail(path, errno);
		done += n;
	}
	close(out);
	printf("%s: %llu bytes, %llu pages shared with the live region\n",
	       path, (unsigned long long)st.size,
	       (unsigned long long)st.shared_pages);
	return 0;
}

int main(int argc, char **argv)
{
	int dev, ret;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "stats"))
		return cmd_stats();
	dev = ipcu_open();
	if (dev < 0)
		return fail(IPCU_DEVICE_PATH, dev);

	if (!strcmp(argv[1], "version"))
		ret = cmd_version(dev);
	else if (!strcmp(argv[1], "send") && argc >= 3)
		ret = cmd_send(dev, argv[2], argc - 3, argv + 3);
	else if (!strcmp(argv[1], "recv") && argc >= 3)
		ret = cmd_recv(dev, argv[2], argc > 3 ? atol(argv[3]) : -1);
	else if (!strcmp(argv[1], "region") && argc >= 4)
		ret = cmd_region(dev, argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	else if (!strcmp(argv[1], "snapshot") && argc == 4)
		ret = cmd_snapshot(dev, argv[2], argv[3]);
	else
		ret = usage();
	close(dev);
	return ret;
}
