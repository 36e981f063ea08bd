// SPDX-License-Identifier: GPL-2.0
/* The result records every writer works from. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct rec *recs;
size_t nr_recs;
static size_t cap_recs;

struct rec *rec_new(const char *scen, const char *mech, const char *wait,
		    uint64_t size, unsigned int batch)
{
	struct rec *r;

	if (nr_recs == cap_recs) {
		cap_recs = cap_recs ? 2 * cap_recs : 256;
		recs = realloc(recs, cap_recs * sizeof(*recs));
		if (!recs) {
			perror("realloc");
			exit(2);
		}
	}
	r = &recs[nr_recs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->scen, sizeof(r->scen), "%s", scen);
	snprintf(r->mech, sizeof(r->mech), "%s", mech);
	snprintf(r->wait, sizeof(r->wait), "%s", wait ? wait : "-");
	r->size = size;
	r->batch = batch;
	return r;
}

void rec_set(struct rec *r, const char *key, double v)
{
	unsigned int i;

	for (i = 0; i < r->nval; i++) {
		if (!strcmp(r->val[i].key, key)) {
			r->val[i].v = v;
			return;
		}
	}
	if (r->nval == REC_VALS) {
		fprintf(stderr, "ipcunit-bench: too many values in a record\n");
		exit(2);
	}
	snprintf(r->val[r->nval].key, sizeof(r->val[0].key), "%s", key);
	r->val[r->nval++].v = v;
}

double rec_get(const struct rec *r, const char *key)
{
	unsigned int i;

	if (!r || r->status != REC_OK)
		return NAN;
	for (i = 0; i < r->nval; i++)
		if (!strcmp(r->val[i].key, key))
			return r->val[i].v;
	return NAN;
}

const struct rec *rec_find(const char *scen, const char *mech,
			   const char *wait, uint64_t size, unsigned int batch)
{
	size_t i;

	for (i = 0; i < nr_recs; i++) {
		const struct rec *r = &recs[i];

		if (!strcmp(r->scen, scen) && !strcmp(r->mech, mech) &&
		    (!wait || !strcmp(r->wait, wait)) && r->size == size &&
		    r->batch == batch)
			return r;
	}
	return NULL;
}

static void rec_note(struct rec *r, enum rec_status st, const char *fmt,
		     va_list ap)
{
	r->status = st;
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	if (st == REC_FAIL)
		progress("FAIL %s %s %s size %llu batch %u: %s", r->scen,
			 r->mech, r->wait, (unsigned long long)r->size,
			 r->batch, r->note);
}

void rec_fail(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_note(r, REC_FAIL, fmt, ap);
	va_end(ap);
}

void rec_skip(struct rec *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_note(r, REC_SKIP, fmt, ap);
	va_end(ap);
}

unsigned int rec_failures(void)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < nr_recs; i++)
		n += recs[i].status == REC_FAIL;
	return n;
}
