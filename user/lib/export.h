/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector's figures as Prometheus families (prom.h): per VM and
 * device rows (the field tables of rows.h give the names), per VM and
 * ioctl command counters and latency histograms, loss counters by stage
 * and reason, the tier serving each event class, and migration downtime
 * and arc latency histograms per driver and VM (fed from the event
 * stream). Names start with "vfioscope_"; the families are listed in
 * dashboards/README.md.
 */
#ifndef VFIOSCOPE_EXPORT_H
#define VFIOSCOPE_EXPORT_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"
#include "prom.h"

struct vfs_collector;
struct vfs_export;

/* @c may be NULL: then only the families that need no collector */
int vfs_export_new(struct vfs_export **e, struct vfs_collector *c);
void vfs_export_free(struct vfs_export *e);
/* one event from the collector's stream; 0 or -ENOMEM */
int vfs_export_event(struct vfs_export *e, const struct vfs_event_hdr *ev, size_t size);
/* read the maps and append every family to @out; 0 or -errno */
int vfs_export_render(struct vfs_export *e, struct prom_buf *out);

#endif
