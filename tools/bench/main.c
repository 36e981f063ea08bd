// SPDX-License-Identifier: GPL-2.0
/*
 * ipcunit-bench: command line, the mechanism table, and the run.
 *
 *   ipcunit-bench --mode icount|tcg|native [--quick] [--out DIR] [--bundle]
 *                 [--only SCENARIOS] [--mechs MECHANISMS]
 *                 [--uring auto|msg|eventfd] [--clone-max-mib N]
 *
 * Writes <mode>.json, <mode>.md and the plot data (<mode>-*.dat) to DIR;
 * with --bundle also prints them to stdout between IPCU-BENCH-FILE and
 * IPCU-BENCH-EOF lines (how results leave the VM: its serial console).
 * Exits 1 if any measurement failed, 2 on a usage or setup error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "bench.h"

struct opts opt = {
	.mode = MODE_NATIVE,
	.clone_max_mib = 256,
};

/* Table order is report order. */
const struct mech *const mechs[] = {
	&mech_ipcunit,
	&mech_ipcunit_copy,
	&mech_ipcunit_mem,
	&mech_spsc_ref,
	&mech_shm_spin,
	&mech_memfd_eventfd,
	&mech_io_uring,
	&mech_pipe,
	&mech_unix_stream,
	&mech_unix_seqpacket,
	&mech_mq,
};
const unsigned int nr_mechs = ARRAY_SIZE(mechs);

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

bool mech_usable(const struct mech *m, char *why, size_t len)
{
	if (opt.mechs && !in_list(opt.mechs, m->name)) {
		snprintf(why, len, "not selected (--mechs)");
		return false;
	}
	if ((m->flags & M_MODULE) && opt.mode == MODE_NATIVE) {
		snprintf(why, len, "needs the module (VM only)");
		return false;
	}
	if ((m->flags & M_NATIVE_ONLY) && opt.mode != MODE_NATIVE) {
		snprintf(why, len, "native runs only");
		return false;
	}
	return !m->probe || !m->probe(why, len);
}

void chan_cfg_default(struct chan_cfg *cfg, size_t msg_size,
		      unsigned int batch, enum wait_mode wait)
{
	size_t slots;

	memset(cfg, 0, sizeof(*cfg));
	cfg->msg_size = msg_size;
	cfg->cap_bytes = 4 * msg_size > 256 * KiB ? 4 * msg_size : 256 * KiB;
	cfg->entries = 1024;
	cfg->batch = batch;
	cfg->wait = wait;
	/*
	 * A ring consumer publishes its releases every quarter of the
	 * ring (and whenever it runs dry): often enough to keep the
	 * producer going, rarely enough to be cheap.
	 */
	slots = cfg->cap_bytes / msg_size;
	if (slots > cfg->entries)
		slots = cfg->entries;
	cfg->publish = slots / 4 ? (unsigned int)(slots / 4) : 1;
}

int chan_open(struct chan *c, const struct mech *m, const struct chan_cfg *cfg)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->cfg = *cfg;
	ret = m->open(c);
	if (!ret && m->map)
		ret = m->map(c);
	return ret;
}

const char *wait_name(enum wait_mode w)
{
	return w == WAIT_BLOCK ? "block" : "poll";
}

/* Busy-polling on one vCPU measures the scheduler, not the mechanism. */
bool wait_measured(enum wait_mode w)
{
	return w == WAIT_BLOCK || (opt.mode != MODE_ICOUNT && opt.ncpus > 1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipcunit-bench --mode icount|tcg|native [--quick] [--out DIR] [--bundle]\n"
		"                     [--only calib,baseline,memcpy,prims,pingpong,stream,wakeup,setup,clone]\n"
		"                     [--mechs NAME,...] [--uring auto|msg|eventfd]\n"
		"                     [--clone-max-mib N] [--list]\n");
}

static void list_mechs(void)
{
	char why[160];
	unsigned int i;

	for (i = 0; i < nr_mechs; i++) {
		bool ok = mech_usable(mechs[i], why, sizeof(why));

		printf("%-16s %-4s %s%s%s\n", mechs[i]->name, ok ? "yes" : "no",
		       mechs[i]->desc, ok ? "" : " -- ", ok ? "" : why);
	}
}

static void detect_env(void)
{
	struct utsname u;
	char line[256];
	FILE *f;

	opt.ncpus = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&u))
		snprintf(opt.kernel, sizeof(opt.kernel), "%s", u.release);
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && p) {
				p += 2;
				p[strcspn(p, "\n")] = 0;
				snprintf(opt.machine, sizeof(opt.machine), "%s", p);
				break;
			}
		}
		fclose(f);
	}
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "calib", scen_calibrate },
	{ "baseline", scen_baseline },
	{ "memcpy", scen_memcpy },
	{ "prims", scen_prims },
	{ "pingpong", scen_pingpong },
	{ "stream", scen_stream },
	{ "wakeup", scen_wakeup },
	{ "setup", scen_setup },
	{ "clone", scen_clone },
};

/* Print @path to stdout between markers (the VM's way out). */
static void bundle_file(const char *dir, const char *name)
{
	char path[512], buf[8192];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return;
	printf("IPCU-BENCH-FILE %s\n", name);
	while ((n = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, n, stdout);
	printf("\nIPCU-BENCH-EOF\n");
	fclose(f);
	fflush(stdout);
}

static const char *mode_name(void)
{
	return opt.mode == MODE_ICOUNT ? "icount" :
	       opt.mode == MODE_TCG ? "tcg" : "native";
}

static int write_outputs(void)
{
	static const char *const dats[] = {
		"stream-b1.dat", "stream-b16.dat", "stream-b256.dat",
		"roundtrip.dat", "clone.dat",
	};
	const char *dir = opt.out_dir ? opt.out_dir : "/tmp/ipcunit-bench";
	char path[512], name[64];
	unsigned int i;
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "ipcunit-bench: mkdir %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.json", dir, mode_name());
	f = fopen(path, "w");
	if (!f)
		return -1;
	write_json(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.md", dir, mode_name());
	f = fopen(path, "w");
	if (!f)
		return -1;
	write_markdown(f);
	fclose(f);
	write_plot_data(dir);
	if (!opt.bundle)
		return 0;
	snprintf(name, sizeof(name), "%s.json", mode_name());
	bundle_file(dir, name);
	snprintf(name, sizeof(name), "%s.md", mode_name());
	bundle_file(dir, name);
	for (i = 0; i < ARRAY_SIZE(dats); i++) {
		snprintf(name, sizeof(name), "%s-%s", mode_name(), dats[i]);
		bundle_file(dir, name);
	}
	return 0;
}

/*
 * Under icount the figures are meant to be identical from run to run:
 * no address space randomisation (it moves buffers, and with them the
 * instruction counts of the copy loops).
 */
static void no_aslr(char **argv)
{
	int pers = personality(0xffffffff);

	if (pers == -1 || (pers & ADDR_NO_RANDOMIZE))
		return;
	if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) == -1)
		return;
	execv("/proc/self/exe", argv);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "quick", no_argument, NULL, 'q' },
		{ "out", required_argument, NULL, 'o' },
		{ "bundle", no_argument, NULL, 'b' },
		{ "only", required_argument, NULL, 's' },
		{ "mechs", required_argument, NULL, 'M' },
		{ "uring", required_argument, NULL, 'u' },
		{ "clone-max-mib", required_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool list = false;
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "icount"))
				opt.mode = MODE_ICOUNT;
			else if (!strcmp(optarg, "tcg"))
				opt.mode = MODE_TCG;
			else if (!strcmp(optarg, "native"))
				opt.mode = MODE_NATIVE;
			else
				goto bad;
			break;
		case 'q':
			opt.quick = true;
			break;
		case 'o':
			opt.out_dir = optarg;
			break;
		case 'b':
			opt.bundle = true;
			break;
		case 's':
			opt.only = optarg;
			break;
		case 'M':
			opt.mechs = optarg;
			break;
		case 'u':
			opt.uring = !strcmp(optarg, "msg") ? 1 :
				    !strcmp(optarg, "eventfd") ? 2 : 0;
			break;
		case 'c':
			opt.clone_max_mib = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			list = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (opt.mode == MODE_ICOUNT)
		no_aslr(argv);
	detect_env();
	shared_get();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (list) {
		list_mechs();
		return 0;
	}

	progress("mode %s%s, %u CPU(s), kernel %s", mode_name(),
		 opt.quick ? " (quick)" : "", opt.ncpus, opt.kernel);
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		uint64_t t0 = now_ns();

		if (opt.only && !in_list(opt.only, scenarios[i].name))
			continue;
		scenarios[i].run();
		progress("%s done in %.1f s (clock)", scenarios[i].name,
			 (double)(now_ns() - t0) / 1e9);
	}
	if (write_outputs())
		return 2;
	if (rec_failures()) {
		progress("%u measurement(s) FAILED", rec_failures());
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	return 2;
}
