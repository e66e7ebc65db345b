// SPDX-License-Identifier: GPL-2.0
/*
 * The vfiomig replay reader and the migration model behind it: any bytes
 * as a replay file, then every event fed to the model and every migration
 * it closes walked, as vfiomig --replay does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "migmodel.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static volatile size_t sink;

/* read everything a consumer reads, so stale pointers show */
static void walk_session(const struct vfs_mm_session *s)
{
	size_t i;

	if (!s)
		return;
	sink += strlen(s->dev) + strlen(s->comm) + strlen(vfs_mm_role_name(s->role));
	sink += strlen(vfs_mm_status_name(s->status));
	for (i = 0; i < s->narcs; i++)
		sink += s->arcs[i].from + s->arcs[i].end_ns - s->arcs[i].start_ns;
	for (i = 0; i < s->npoints; i++)
		sink += s->points[i].total;
	if (s->peer)
		sink += strlen(s->peer->dev);
	if (s->mig)
		sink += s->mig->npairs;
}

static void walk(const struct vfs_mm_migration *g)
{
	size_t p;

	sink += strlen(vfs_mm_status_name(g->status)) + g->downtime_ns;
	if (g->err_dev)
		sink += strlen(g->err_dev);
	for (p = 0; p < g->npairs; p++) {
		walk_session(g->pairs[p].src);
		walk_session(g->pairs[p].dst);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const struct vfs_mm_migration *g;
	struct vfs_mm_event *evs;
	struct vfs_migmodel *m;
	char err[320];
	size_t n, i;
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	err[0] = 0;
	if (vfs_mm_read_replay(f, "fuzz", &evs, &n, err, sizeof(err))) {
		fclose(f);
		if (!err[0] || evs)
			abort();	/* every failure names its cause, keeps nothing */
		return 0;
	}
	fclose(f);
	m = vfs_migmodel_new();
	if (!m)
		abort();
	for (i = 0; i < n; i++) {
		if (vfs_migmodel_feed(m, &evs[i]))
			abort();
		while ((g = vfs_migmodel_next(m, false)))
			walk(g);
	}
	while ((g = vfs_migmodel_next(m, true)))
		walk(g);
	sink += vfs_migmodel_unattributed(m);
	vfs_migmodel_free(m);
	free(evs);
	return 0;
}
