// SPDX-License-Identifier: GPL-2.0
/*
 * Output: JSON (every record), Markdown (tables and the goals this mode can
 * judge) and gnuplot data files.  Ratios are always "this mechanism over
 * pipe" for costs (lower is better) and for throughput alike, and say so
 * in the column title.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const size_t pp_sizes[] = { 64, 4 * KiB, 64 * KiB };
static const size_t st_sizes[] = { 64, 4 * KiB, 64 * KiB, 1 * MiB };
static const unsigned int batches[] = { 1, 16, 256 };

static const char *mode_title(void)
{
	switch (opt.mode) {
	case MODE_ICOUNT:
		return "(a) QEMU -icount, 1 vCPU: instructions";
	case MODE_TCG:
		return "(b) QEMU TCG, wall clock";
	default:
		return "(c) native, no module: wall clock";
	}
}

static const char *mode_name(void)
{
	return opt.mode == MODE_ICOUNT ? "icount" :
	       opt.mode == MODE_TCG ? "tcg" : "native";
}

static const char *size_str(uint64_t size)
{
	static char buf[4][32];
	static int k;
	char *b = buf[k++ & 3];

	if (size >= MiB && !(size % MiB))
		snprintf(b, 32, "%llu MiB", (unsigned long long)(size / MiB));
	else if (size >= KiB && !(size % KiB))
		snprintf(b, 32, "%llu KiB", (unsigned long long)(size / KiB));
	else
		snprintf(b, 32, "%llu B", (unsigned long long)size);
	return b;
}

/* A time figure: integers with thousands separators, small ones with a
 * decimal. */
static const char *fmt_t(double v)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7], tmp[32];
	int len, i, o = 0;

	if (isnan(v))
		return "n/a";
	if (v < 100) {
		snprintf(b, 32, "%.1f", v);
		return b;
	}
	len = snprintf(tmp, sizeof(tmp), "%.0f", v);
	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			b[o++] = ',';
		b[o++] = tmp[i];
	}
	b[o] = 0;
	return b;
}

static const char *fmt_ratio(double v)
{
	static char buf[8][16];
	static int k;
	char *b = buf[k++ & 7];

	if (isnan(v) || isinf(v))
		return "n/a";
	snprintf(b, 16, v < 0.1 ? "%.3f" : v < 10 ? "%.2f" : "%.0f", v);
	return b;
}

static const char *fmt_num(double v, const char *unit)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7];

	if (isnan(v))
		return "n/a";
	if (v >= 1e9)
		snprintf(b, 32, "%.3g G%s", v / 1e9, unit);
	else if (v >= 1e6)
		snprintf(b, 32, "%.3g M%s", v / 1e6, unit);
	else if (v >= 1e3)
		snprintf(b, 32, "%.3g k%s", v / 1e3, unit);
	else
		snprintf(b, 32, "%.3g %s", v, unit);
	return b;
}

static const char *fmt_per_byte(double v)
{
	static char buf[4][16];
	static int k;
	char *b = buf[k++ & 3];

	if (isnan(v))
		return "n/a";
	snprintf(b, 16, "%.3f", v);
	return b;
}

static const char *fmt_sys(double v)
{
	static char buf[4][16];
	static int k;
	char *b = buf[k++ & 3];

	if (isnan(v))
		return "n/a";
	snprintf(b, 16, v < 0.01 && v > 0 ? "%.4f" : "%.2f", v);
	return b;
}

static bool mech_has(const char *scen, const char *mech, const char *wait)
{
	size_t i;

	for (i = 0; i < nr_recs; i++)
		if (!strcmp(recs[i].scen, scen) && !strcmp(recs[i].mech, mech) &&
		    (!wait || !strcmp(recs[i].wait, wait)))
			return true;
	return false;
}

static double get(const char *scen, const char *mech, const char *wait,
		  uint64_t size, unsigned int batch, const char *key)
{
	return rec_get(rec_find(scen, mech, wait, size, batch), key);
}

/* --- goals ------------------------------------------------------------------ */

struct goal {
	const char *id;
	char text[200];
	char measured[480];
	bool judged;
	bool met;
};

static struct goal goals[8];
static unsigned int nr_goals;

static struct goal *goal_new(const char *id)
{
	struct goal *g = &goals[nr_goals++];

	memset(g, 0, sizeof(*g));
	g->id = id;
	return g;
}

/* ratio <= limit, with "n/a" when a figure is missing. */
static bool le(double ratio, double limit, bool *judged)
{
	if (isnan(ratio)) {
		*judged = false;
		return false;
	}
	return ratio <= limit;
}

static void goals_icount(void)
{
	double ipc, efd, pipe, r1, r2, base;
	struct goal *g;
	bool j = true;
	unsigned int i;
	char *p;

	g = goal_new("icount-rt-64");
	snprintf(g->text, sizeof(g->text),
		 "icount, blocking round trip, 64 B: ipcunit <= 0.9x memfd-eventfd and <= 0.75x pipe (p50)");
	ipc = get("pingpong", "ipcunit", "block", 64, 1, "p50");
	efd = get("pingpong", "memfd-eventfd", "block", 64, 1, "p50");
	pipe = get("pingpong", "pipe", "block", 64, 1, "p50");
	r1 = ipc / efd;
	r2 = ipc / pipe;
	g->met = le(r1, 0.9, &j) & le(r2, 0.75, &j);
	g->judged = j;
	snprintf(g->measured, sizeof(g->measured),
		 "ipcunit %s, memfd-eventfd %s, pipe %s insn: %sx eventfd pair, %sx pipe",
		 fmt_t(ipc), fmt_t(efd), fmt_t(pipe), fmt_ratio(r1), fmt_ratio(r2));

	g = goal_new("icount-stream-64-b256");
	snprintf(g->text, sizeof(g->text),
		 "icount, streaming 64 B, batch 256, blocking consumer: ipcunit insn/msg <= 1/20 of pipe");
	ipc = get("stream", "ipcunit", "block", 64, 256, "per_msg");
	pipe = get("stream", "pipe", "block", 64, 256, "per_msg");
	base = get("baseline", "fill+check", NULL, 64, 1, "per_msg");
	j = true;
	g->met = le(ipc / pipe, 1.0 / 20, &j);
	g->judged = j;
	snprintf(g->measured, sizeof(g->measured),
		 "ipcunit %s, pipe %s insn/msg: 1/%s. The payload work alone is %s insn/msg; without it (transport only) %s vs %s: 1/%s",
		 fmt_t(ipc), fmt_t(pipe), fmt_ratio(pipe / ipc), fmt_t(base),
		 fmt_t(ipc - base), fmt_t(pipe - base),
		 fmt_ratio((pipe - base) / (ipc - base)));

	g = goal_new("icount-stream-1m-byte");
	snprintf(g->text, sizeof(g->text),
		 "icount, 1 MiB messages: ipcunit insn/byte <= 1/10 of pipe (every batch size)");
	base = get("baseline", "fill+check", NULL, MiB, 1, "per_byte");
	p = g->measured;
	j = true;
	g->met = true;
	for (i = 0; i < ARRAY_SIZE(batches); i++) {
		ipc = get("stream", "ipcunit", "block", MiB, batches[i], "per_byte");
		pipe = get("stream", "pipe", "block", MiB, batches[i], "per_byte");
		g->met &= le(ipc / pipe, 0.1, &j);
		p += snprintf(p, sizeof(g->measured) - (size_t)(p - g->measured),
			      "batch %u: %.3f vs %.3f = 1/%s (transport only 1/%s); ",
			      batches[i], ipc, pipe, fmt_ratio(pipe / ipc),
			      fmt_ratio((pipe - base) / (ipc - base)));
	}
	snprintf(p, sizeof(g->measured) - (size_t)(p - g->measured),
		 "the payload work alone (write + check every byte) is %.3f insn/byte",
		 base);
	g->judged = j;

	g = goal_new("icount-clone-64m");
	snprintf(g->text, sizeof(g->text),
		 "icount, clone of 64 MiB <= 1/20 of the instructions of memcpy of 64 MiB");
	ipc = get("clone", "ipcunit", NULL, 64 * MiB, 1, "clone");
	pipe = get("clone", "ipcunit", NULL, 64 * MiB, 1, "memcpy");
	base = get("clone", "ipcunit", NULL, 64 * MiB, 1, "memcpy_fresh");
	j = true;
	g->met = le(ipc / pipe, 1.0 / 20, &j);
	g->judged = j;
	snprintf(g->measured, sizeof(g->measured),
		 "clone %s insn, memcpy %s (1/%s), memcpy into fresh memory %s (1/%s)",
		 fmt_t(ipc), fmt_t(pipe), fmt_ratio(pipe / ipc), fmt_t(base),
		 fmt_ratio(base / ipc));
}

static void goals_native(void)
{
	double ipc, ref, pipe, spin;
	struct goal *g;
	bool j = true;
	unsigned int i;
	char *p;

	g = goal_new("native-stream-64-poll");
	snprintf(g->text, sizeof(g->text),
		 "native data path, 64 B, busy-poll: ipcunit-mem >= 0.9x spsc-ref and >= 20x pipe (msgs/s, same batch)");
	p = g->measured;
	g->met = true;
	for (i = 0; i < ARRAY_SIZE(batches); i++) {
		ipc = get("stream", "ipcunit-mem", "poll", 64, batches[i], "msgs_per_s");
		ref = get("stream", "spsc-ref", "poll", 64, batches[i], "msgs_per_s");
		pipe = get("stream", "pipe", "block", 64, batches[i], "msgs_per_s");
		g->met &= le(ref / ipc, 1 / 0.9, &j) & le(pipe / ipc, 1.0 / 20, &j);
		p += snprintf(p, sizeof(g->measured) - (size_t)(p - g->measured),
			      "batch %u: %s vs spsc-ref %s (%sx), pipe %s (%sx); ",
			      batches[i], fmt_num(ipc, "msg/s"),
			      fmt_num(ref, "msg/s"), fmt_ratio(ipc / ref),
			      fmt_num(pipe, "msg/s"), fmt_ratio(ipc / pipe));
	}
	g->judged = j;

	g = goal_new("native-rt-poll");
	snprintf(g->text, sizeof(g->text),
		 "native round trip, busy-poll: ipcunit-mem <= 1.2x the raw shared-memory spin ping-pong (p50)");
	p = g->measured;
	g->met = true;
	j = true;
	for (i = 0; i < ARRAY_SIZE(pp_sizes); i++) {
		ipc = get("pingpong", "ipcunit-mem", "poll", pp_sizes[i], 1, "p50");
		spin = get("pingpong", "shm-spin", "poll", pp_sizes[i], 1, "p50");
		g->met &= le(ipc / spin, 1.2, &j);
		p += snprintf(p, sizeof(g->measured) - (size_t)(p - g->measured),
			      "%s: %s vs %s ns (%sx); ", size_str(pp_sizes[i]),
			      fmt_t(ipc), fmt_t(spin), fmt_ratio(ipc / spin));
	}
	g->judged = j;
}

static void eval_goals(void)
{
	nr_goals = 0;
	if (opt.mode == MODE_ICOUNT)
		goals_icount();
	else if (opt.mode == MODE_NATIVE)
		goals_native();
}

/* --- JSON ------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

void write_json(FILE *f)
{
	static const char *const st[] = { "ok", "skipped", "failed" };
	unsigned int i, k;

	eval_goals();
	fprintf(f, "{\n  \"mode\": \"%s\",\n  \"quick\": %s,\n  \"unit\": \"%s\",\n",
		mode_name(), opt.quick ? "true" : "false", time_unit());
	fputs("  \"kernel\": ", f);
	json_str(f, opt.kernel);
	fputs(",\n  \"cpu\": ", f);
	json_str(f, opt.machine);
	fprintf(f, ",\n  \"cpus\": %u,\n  \"io_uring\": ", opt.ncpus);
	json_str(f, uring_variant());
	fputs(",\n  \"records\": [\n", f);
	for (i = 0; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		fputs("    {\"scenario\": ", f);
		json_str(f, r->scen);
		fputs(", \"mechanism\": ", f);
		json_str(f, r->mech);
		fputs(", \"wait\": ", f);
		json_str(f, r->wait);
		fprintf(f, ", \"size\": %llu, \"batch\": %u, \"status\": \"%s\"",
			(unsigned long long)r->size, r->batch, st[r->status]);
		if (r->note[0]) {
			fputs(", \"note\": ", f);
			json_str(f, r->note);
		}
		fputs(", \"values\": {", f);
		for (k = 0; k < r->nval; k++) {
			fprintf(f, "%s\"%s\": ", k ? ", " : "", r->val[k].key);
			json_num(f, r->val[k].v);
		}
		fprintf(f, "}}%s\n", i + 1 < nr_recs ? "," : "");
	}
	fputs("  ],\n  \"goals\": [\n", f);
	for (i = 0; i < nr_goals; i++) {
		fputs("    {\"id\": ", f);
		json_str(f, goals[i].id);
		fputs(", \"goal\": ", f);
		json_str(f, goals[i].text);
		fputs(", \"measured\": ", f);
		json_str(f, goals[i].measured);
		fprintf(f, ", \"met\": %s}%s\n",
			!goals[i].judged ? "null" : goals[i].met ? "true" : "false",
			i + 1 < nr_goals ? "," : "");
	}
	fputs("  ]\n}\n", f);
}

/* --- Markdown -------------------------------------------------------------- */

/* Mechanisms in table order that have @scen records with @wait. */
#define FOR_MECH(k, scen, wait)						\
	for (k = 0; k < nr_mechs; k++)					\
		if (mech_has(scen, mechs[k]->name, wait))

static void md_pingpong(FILE *f, const char *wait)
{
	const char *u = time_unit();
	unsigned int k, i;

	if (!mech_has("pingpong", "pipe", wait) &&
	    !mech_has("pingpong", "ipcunit", wait) &&
	    !mech_has("pingpong", "spsc-ref", wait) &&
	    !mech_has("pingpong", "shm-spin", wait))
		return;
	fprintf(f, "\n### Round trip, %s (p50 %s per round trip; ratio to pipe)\n\n",
		!strcmp(wait, "block") ? "blocking" : "busy-polling", u);
	fputs("| mechanism | 64 B | x pipe | 4 KiB | x pipe | 64 KiB | x pipe | syscalls / RT |\n", f);
	fputs("|---|--:|--:|--:|--:|--:|--:|--:|\n", f);
	FOR_MECH(k, "pingpong", wait) {
		const char *m = mechs[k]->name;

		fprintf(f, "| %s |", m);
		for (i = 0; i < ARRAY_SIZE(pp_sizes); i++) {
			double v = get("pingpong", m, wait, pp_sizes[i], 1, "p50");
			double p = get("pingpong", "pipe", wait, pp_sizes[i], 1, "p50");

			fprintf(f, " %s | %s |", fmt_t(v), fmt_ratio(v / p));
		}
		fprintf(f, " %s |\n", fmt_sys(get("pingpong", m, wait, 64, 1,
						   "sys_per_rt")));
	}
	for (i = 0; i < ARRAY_SIZE(pp_sizes); i++) {
		fprintf(f, "\n%s, %s, all figures in %s:\n\n", size_str(pp_sizes[i]),
			wait, u);
		fputs("| mechanism | min | p50 | p99 | max | mean | syscalls / RT |\n", f);
		fputs("|---|--:|--:|--:|--:|--:|--:|\n", f);
		FOR_MECH(k, "pingpong", wait) {
			const struct rec *r = rec_find("pingpong", mechs[k]->name,
						       wait, pp_sizes[i], 1);

			if (!r)
				continue;
			fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n",
				mechs[k]->name, fmt_t(rec_get(r, "min")),
				fmt_t(rec_get(r, "p50")), fmt_t(rec_get(r, "p99")),
				fmt_t(rec_get(r, "max")), fmt_t(rec_get(r, "mean")),
				fmt_sys(rec_get(r, "sys_per_rt")));
		}
	}
}

static void md_stream(FILE *f)
{
	bool ic = opt.mode == MODE_ICOUNT;
	unsigned int i, j, k, w;
	static const char *const waits[] = { "block", "poll" };

	fprintf(f, "\n### Streaming, one way (%s; ratio to pipe with a blocking consumer, same batch)\n",
		ic ? "instructions per message" : "messages/s and bytes/s");
	for (i = 0; i < ARRAY_SIZE(st_sizes); i++) {
		fprintf(f, "\n%s messages:\n\n", size_str(st_sizes[i]));
		if (ic) {
			fputs("| mechanism | consumer | batch 1 | x pipe | batch 16 | x pipe | batch 256 | x pipe | insn / byte (b16) | syscalls / msg (b1, b16, b256) |\n", f);
			fputs("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n", f);
		} else {
			fputs("| mechanism | consumer | batch 1 msg/s | B/s | x pipe | batch 16 msg/s | B/s | x pipe | batch 256 msg/s | B/s | x pipe | syscalls / msg (b1, b16, b256) |\n", f);
			fputs("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", f);
		}
		for (k = 0; k < nr_mechs; k++) {
			for (w = 0; w < 2; w++) {
				const char *m = mechs[k]->name;

				if (!rec_find("stream", m, waits[w], st_sizes[i], 1))
					continue;
				fprintf(f, "| %s | %s |", m, waits[w]);
				for (j = 0; j < ARRAY_SIZE(batches); j++) {
					const char *key = ic ? "per_msg" : "msgs_per_s";
					double v = get("stream", m, waits[w], st_sizes[i],
						       batches[j], key);
					double p = get("stream", "pipe", "block",
						       st_sizes[i], batches[j], key);

					if (ic)
						fprintf(f, " %s | %s |", fmt_t(v),
							fmt_ratio(v / p));
					else
						fprintf(f, " %s | %s | %s |",
							fmt_num(v, ""),
							fmt_num(get("stream", m, waits[w],
								    st_sizes[i], batches[j],
								    "bytes_per_s"), "B"),
							fmt_ratio(v / p));
				}
				if (ic)
					fprintf(f, " %s |", fmt_per_byte(get("stream", m, waits[w],
									     st_sizes[i], 16, "per_byte")));
				fputs(" ", f);
				for (j = 0; j < ARRAY_SIZE(batches); j++)
					fprintf(f, "%s%s", j ? ", " : "",
						fmt_sys(get("stream", m, waits[w],
							    st_sizes[i], batches[j],
							    "sys_per_msg")));
				fputs(" |\n", f);
			}
		}
	}
}

static void md_wakeup(FILE *f)
{
	double pipe = get("wakeup", "pipe", "block", 64, 1, "p50");
	unsigned int k;

	if (!nr_recs || !mech_has("wakeup", "pipe", NULL))
		return;
	fprintf(f, "\n### Wakeup: notify to the sleeping receiver running (%s)\n\n",
		time_unit());
	fputs("| mechanism | min | p50 | p99 | max | x pipe (p50) |\n", f);
	fputs("|---|--:|--:|--:|--:|--:|\n", f);
	FOR_MECH(k, "wakeup", NULL) {
		const struct rec *r = rec_find("wakeup", mechs[k]->name, NULL, 64, 1);

		fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", mechs[k]->name,
			fmt_t(rec_get(r, "min")), fmt_t(rec_get(r, "p50")),
			fmt_t(rec_get(r, "p99")), fmt_t(rec_get(r, "max")),
			fmt_ratio(rec_get(r, "p50") / pipe));
	}
}

static void md_setup(FILE *f)
{
	unsigned int k;

	if (!mech_has("setup", "pipe", NULL))
		return;
	fprintf(f, "\n### Setup (%s, median; capacity 256 KiB, 4 KiB messages)\n\n",
		time_unit());
	fputs("| mechanism | create | map | first message | first pass (64 msgs) | second pass | destroy |\n", f);
	fputs("|---|--:|--:|--:|--:|--:|--:|\n", f);
	FOR_MECH(k, "setup", NULL) {
		const struct rec *r = rec_find("setup", mechs[k]->name, NULL,
					       4 * KiB, 1);

		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n",
			mechs[k]->name, fmt_t(rec_get(r, "create")),
			fmt_t(rec_get(r, "map")), fmt_t(rec_get(r, "first_msg")),
			fmt_t(rec_get(r, "pass1")), fmt_t(rec_get(r, "pass2")),
			fmt_t(rec_get(r, "destroy")));
	}
}

static void md_clone(FILE *f)
{
	const struct rec *cow = rec_find("cow", "ipcunit", NULL, 4096, 1);
	size_t i;
	bool any = false;

	for (i = 0; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		if (strcmp(r->scen, "clone") || r->status != REC_OK)
			continue;
		if (!any) {
			fprintf(f, "\n### Clone against region size (%s, median)\n\n",
				time_unit());
			fputs("| size | clone | clone, source not mapped | close clone | memcpy (warm dst) | memcpy / clone | memcpy into fresh memory | fresh / clone |\n", f);
			fputs("|--:|--:|--:|--:|--:|--:|--:|--:|\n", f);
			any = true;
		}
		fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			size_str(r->size), fmt_t(rec_get(r, "clone")),
			fmt_t(rec_get(r, "clone_unmapped")),
			fmt_t(rec_get(r, "close")), fmt_t(rec_get(r, "memcpy")),
			fmt_ratio(rec_get(r, "memcpy") / rec_get(r, "clone")),
			fmt_t(rec_get(r, "memcpy_fresh")),
			fmt_ratio(rec_get(r, "memcpy_fresh") / rec_get(r, "clone")));
	}
	if (cow && cow->status == REC_OK) {
		double mf = rec_get(cow, "shmem_fault"), mc = rec_get(cow, "memcpy_4k");

		fprintf(f, "\nOne page (%s per page, median of 256, clock cost of %s subtracted):\n\n",
			time_unit(), fmt_t(rec_get(cow, "clock_overhead")));
		fputs("| copy-on-write fault (clone) | ipcunit fault, no sharing | shmem minor fault | memcpy 4 KiB | minor fault + memcpy 4 KiB | cow / (minor + memcpy) |\n", f);
		fputs("|--:|--:|--:|--:|--:|--:|\n", f);
		fprintf(f, "| %s | %s | %s | %s | %s | %s |\n",
			fmt_t(rec_get(cow, "cow")), fmt_t(rec_get(cow, "region_fault")),
			fmt_t(mf), fmt_t(mc), fmt_t(mf + mc),
			fmt_ratio(rec_get(cow, "cow") / (mf + mc)));
	}
}

static void md_baseline(FILE *f)
{
	unsigned int i;
	bool bw = opt.mode != MODE_ICOUNT;

	fprintf(f, "\n### Reference: payload work alone and memcpy (%s)\n\n", time_unit());
	fputs("| size | fill + check (one process) | per byte | memcpy | per byte |", f);
	fputs(bw ? " memcpy B/s |\n|--:|--:|--:|--:|--:|--:|\n" :
		   "\n|--:|--:|--:|--:|--:|\n", f);
	for (i = 0; i < ARRAY_SIZE(st_sizes) + 1; i++) {
		uint64_t s = i < ARRAY_SIZE(st_sizes) ? st_sizes[i] : 64 * MiB;
		const struct rec *b = rec_find("baseline", "fill+check", NULL, s, 1);
		const struct rec *m = rec_find("memcpy", "memcpy", NULL, s, 1);

		if (!b && (!m || m->status != REC_OK))
			continue;
		fprintf(f, "| %s | %s | %s | %s | %s |", size_str(s),
			fmt_t(rec_get(b, "per_msg")), fmt_per_byte(rec_get(b, "per_byte")),
			fmt_t(rec_get(m, "per_copy")), fmt_per_byte(rec_get(m, "per_byte")));
		if (bw)
			fprintf(f, " %s |", fmt_num(rec_get(m, "bytes_per_s"), "B/s"));
		fputc('\n', f);
	}
}

static void md_prims(FILE *f)
{
	size_t i;
	bool any = false;

	for (i = 0; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		if (strcmp(r->scen, "prims"))
			continue;
		if (!any) {
			fprintf(f, "\n### Building blocks (%s per call, one process, nobody sleeps%s)\n\n",
				time_unit(), opt.mode == MODE_ICOUNT ? "" :
				"; best of 7 rounds");
			fputs("| primitive | cost | what |\n|---|--:|---|\n", f);
			any = true;
		}
		fprintf(f, "| %s | %s | %s |\n", r->mech,
			fmt_t(rec_get(r, "per_call")), r->note);
	}
}

void goals_markdown(FILE *f)
{
	unsigned int i;

	eval_goals();
	if (!nr_goals)
		return;
	fputs("\n### Goals\n\n| goal | measured | met |\n|---|---|---|\n", f);
	for (i = 0; i < nr_goals; i++)
		fprintf(f, "| %s | %s | %s |\n", goals[i].text, goals[i].measured,
			!goals[i].judged ? "not measured" :
			goals[i].met ? "**yes**" : "**no**");
}

static void md_notes(FILE *f)
{
	size_t i;
	bool any = false;

	for (i = 0; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		if (r->status == REC_OK)
			continue;
		if (!any)
			fputs("\n### Not measured\n\n", f);
		any = true;
		fprintf(f, "- %s: %s %s %s%s%s: %s\n",
			r->status == REC_FAIL ? "**FAILED**" : "skipped",
			r->scen, r->mech, r->size ? size_str(r->size) : "",
			r->batch > 1 ? " batch " : "",
			r->batch > 1 ? fmt_t(r->batch) : "", r->note);
	}
}

void write_markdown(FILE *f)
{
	const struct rec *cal = rec_find("calib", "clock", NULL, 0, 0);

	fprintf(f, "## %s\n\n", mode_title());
	fprintf(f, "Kernel %s, %u CPU(s) (%s)%s. Unit of time figures: **%s**. io_uring doorbell: %s.\n",
		opt.kernel, opt.ncpus, opt.machine,
		opt.quick ? ", **quick run** (few samples)" : "", time_unit(),
		uring_variant());
	if (cal)
		fprintf(f, "\nClock check: a loop of %s instructions took %s clock ns: %.5f instructions per ns.\n",
			fmt_t(rec_get(cal, "loop_insns")),
			fmt_t(rec_get(cal, "loop_insns") / rec_get(cal, "insn_per_ns")),
			rec_get(cal, "insn_per_ns"));
	goals_markdown(f);
	md_pingpong(f, "block");
	md_pingpong(f, "poll");
	md_stream(f);
	md_wakeup(f);
	md_setup(f);
	md_clone(f);
	md_prims(f);
	md_baseline(f);
	md_notes(f);
}

/* --- plot data ---------------------------------------------------------------- */

static FILE *dat_open(const char *dir, const char *what)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s-%s.dat", dir, mode_name(), what);
	return fopen(path, "w");
}

static void dat_val(FILE *f, double v)
{
	if (isnan(v))
		fputs(" ?", f);
	else
		fprintf(f, " %.6g", v);
}

void write_plot_data(const char *dir)
{
	static const char *const waits[] = { "block", "poll" };
	const char *key = opt.mode == MODE_ICOUNT ? "per_byte" : "bytes_per_s";
	unsigned int b, i, k, w;
	char what[32];
	size_t r;
	FILE *f;

	/* Throughput against size: one column per mechanism and wait. */
	for (b = 0; b < ARRAY_SIZE(batches); b++) {
		snprintf(what, sizeof(what), "stream-b%u", batches[b]);
		f = dat_open(dir, what);
		if (!f)
			continue;
		fputs("size", f);
		for (k = 0; k < nr_mechs; k++)
			for (w = 0; w < 2; w++)
				if (mech_has("stream", mechs[k]->name, waits[w]))
					fprintf(f, " %s%s", mechs[k]->name,
						w ? "(poll)" : "");
		fputc('\n', f);
		for (i = 0; i < ARRAY_SIZE(st_sizes); i++) {
			fprintf(f, "%zu", st_sizes[i]);
			for (k = 0; k < nr_mechs; k++)
				for (w = 0; w < 2; w++)
					if (mech_has("stream", mechs[k]->name, waits[w]))
						dat_val(f, get("stream", mechs[k]->name,
							       waits[w], st_sizes[i],
							       batches[b], key));
			fputc('\n', f);
		}
		fclose(f);
	}

	/* Round trip (p50) per mechanism: rows, one column per size. */
	f = dat_open(dir, "roundtrip");
	if (f) {
		fputs("mechanism 64B 4KiB 64KiB\n", f);
		for (w = 0; w < 2; w++) {
			for (k = 0; k < nr_mechs; k++) {
				if (!mech_has("pingpong", mechs[k]->name, waits[w]))
					continue;
				fprintf(f, "%s/%s", mechs[k]->name, waits[w]);
				for (i = 0; i < ARRAY_SIZE(pp_sizes); i++)
					dat_val(f, get("pingpong", mechs[k]->name,
						       waits[w], pp_sizes[i], 1, "p50"));
				fputc('\n', f);
			}
		}
		fclose(f);
	}

	f = dat_open(dir, "clone");
	if (f) {
		fputs("size_mib clone memcpy memcpy_fresh\n", f);
		for (r = 0; r < nr_recs; r++) {
			if (strcmp(recs[r].scen, "clone") || recs[r].status != REC_OK)
				continue;
			fprintf(f, "%llu", (unsigned long long)(recs[r].size / MiB));
			dat_val(f, rec_get(&recs[r], "clone"));
			dat_val(f, rec_get(&recs[r], "memcpy"));
			dat_val(f, rec_get(&recs[r], "memcpy_fresh"));
			fputc('\n', f);
		}
		fclose(f);
	}
}
