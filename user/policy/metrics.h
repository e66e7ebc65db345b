/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-policyd's Prometheus endpoint: GET /metrics over libmicrohttpd,
 * bound to loopback unless told otherwise, driven from the daemon's own
 * epoll loop (no thread): add pd_metrics_fd() to the loop and call
 * pd_metrics_run() when it is readable.
 *
 * Each scrape renders, into one reused buffer: the collector's families
 * (export.c: per VM, device, command, loss and tier), then the daemon's own
 * (@cb), then the exporter's process figures (CPU, memory, scrape duration).
 */
#ifndef VFIO_POLICYD_METRICS_H
#define VFIO_POLICYD_METRICS_H

#include <stddef.h>
#include <linux/types.h>
#include "abi.h"
#include "prom.h"

struct vfs_collector;
struct pd_metrics;

/* write the daemon's own families into @out (prom_family, prom_sample_*) */
typedef void (*pd_metrics_cb)(struct prom_buf *out, void *ctx);

/*
 * Listen on @addr (IPv4 or IPv6 literal; NULL: "127.0.0.1") port @port
 * (0: any free port, see pd_metrics_port). @coll may be NULL (no
 * collector families), @cb too. Returns 0, or -errno with a sentence in
 * @err.
 */
int pd_metrics_start(struct pd_metrics **m, const char *addr, unsigned short port,
		     struct vfs_collector *coll, pd_metrics_cb cb, void *ctx,
		     char *err, size_t errlen);
/* the fd to watch for EPOLLIN (libmicrohttpd's own epoll fd) */
int pd_metrics_fd(const struct pd_metrics *m);
/* serve what is ready; never blocks */
void pd_metrics_run(struct pd_metrics *m);
void pd_metrics_stop(struct pd_metrics *m);

/* the port it listens on (the chosen one when started with 0) */
unsigned short pd_metrics_port(const struct pd_metrics *m);
/*
 * Hand each collector event to the exporter (migration arcs and data feed
 * the downtime histograms); other events are ignored.
 */
void pd_metrics_event(struct pd_metrics *m, const struct vfs_event_hdr *ev, size_t size);

#endif
