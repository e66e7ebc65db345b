// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "export.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "collector.h"

struct vfs_export {
	struct vfs_collector *c;
};

int vfs_export_new(struct vfs_export **ep, struct vfs_collector *c)
{
	struct vfs_export *e = calloc(1, sizeof(*e));

	*ep = NULL;
	if (!e)
		return -ENOMEM;
	e->c = c;
	*ep = e;
	return 0;
}

void vfs_export_free(struct vfs_export *e)
{
	free(e);
}

int vfs_export_event(struct vfs_export *e, const struct vfs_event_hdr *ev, size_t size)
{
	return 0;
}

/* which hook serves each event class on this kernel */
static void render_tiers(struct vfs_export *e, struct prom_buf *b)
{
	static const char name[] = "vfioscope_collector_tier_info";
	int i;

	prom_family(b, name, PROM_GAUGE,
		    "The hook tier serving each event class on this kernel (tracepoint, fentry, "
		    "kprobe or unsupported); always 1.");
	for (i = 0; i < VFS_CLASS_MAX; i++) {
		const struct vfs_tier_choice *t = vfs_collector_tier(e->c, i);
		struct prom_label l[] = {
			{ "class", vfs_class_name(i) },
			{ "tier", vfs_tier_name(t ? t->tier : VFS_TIER_NONE) },
		};

		prom_sample_u64(b, name, l, 2, 1);
	}
}

/* every loss, where it happened: the ring buffer or a full map */
static int render_drops(struct vfs_export *e, struct prom_buf *b)
{
	static const char name[] = "vfioscope_collector_drops_total";
	__u64 drops[VFS_DROP_MAX];
	int i, err;

	err = vfs_collector_drops(e->c, drops);
	if (err)
		return err;
	prom_family(b, name, PROM_COUNTER,
		    "Events or counts the collector lost, by stage (ringbuf: an event not "
		    "delivered; map: a key not counted because its map was full) and reason.");
	for (i = 0; i < VFS_DROP_MAX; i++) {
		const char *reason = vfs_drop_name(i);
		struct prom_label l[] = {
			{ "stage", i == VFS_DROP_RINGBUF ? "ringbuf" : "map" },
			{ "reason", reason },
		};

		if (strcmp(reason, "unused"))
			prom_sample_u64(b, name, l, 2, drops[i]);
	}
	return 0;
}

int vfs_export_render(struct vfs_export *e, struct prom_buf *out)
{
	int err;

	if (!e->c)
		return 0;
	render_tiers(e, out);
	err = render_drops(e, out);
	return err ? err : out->err;
}
