// SPDX-License-Identifier: GPL-2.0
#include "metrics.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "export.h"
#include "safetext.h"

struct pd_metrics {
	struct MHD_Daemon *d;
	int epfd;
	unsigned short port;
	struct vfs_export *exp;
	pd_metrics_cb cb;
	void *ctx;
	struct prom_buf buf;	/* reused by every scrape */
	__u64 scrapes, failures;
	long page_size;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static __u64 rss_bytes(long page_size)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (__u64)resident * (__u64)page_size;
}

/* the exporter's own process: CPU, memory, this scrape's rendering time */
static void render_self(struct pd_metrics *m, struct prom_buf *b, __u64 t0)
{
	struct rusage ru;
	__u64 cpu_us = 0;

	if (!getrusage(RUSAGE_SELF, &ru))
		cpu_us = (__u64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
			 (__u64)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	prom_family(b, "process_cpu_seconds_total", PROM_COUNTER,
		    "User and system CPU time spent by vfio-policyd in seconds.");
	prom_sample_double(b, "process_cpu_seconds_total", NULL, 0, (double)cpu_us / 1e6);
	prom_family(b, "process_resident_memory_bytes", PROM_GAUGE,
		    "Resident memory size of vfio-policyd in bytes.");
	prom_sample_u64(b, "process_resident_memory_bytes", NULL, 0, rss_bytes(m->page_size));
	prom_family(b, "vfioscope_metrics_scrapes_total", PROM_COUNTER,
		    "Scrapes of /metrics served, this one included.");
	prom_sample_u64(b, "vfioscope_metrics_scrapes_total", NULL, 0, m->scrapes);
	prom_family(b, "vfioscope_metrics_scrape_failures_total", PROM_COUNTER,
		    "Scrapes answered 500 because rendering failed (out of memory, bad name).");
	prom_sample_u64(b, "vfioscope_metrics_scrape_failures_total", NULL, 0, m->failures);
	prom_family(b, "vfioscope_metrics_scrape_duration_seconds", PROM_GAUGE,
		    "Time spent rendering this response, up to this line, in seconds.");
	prom_sample_double(b, "vfioscope_metrics_scrape_duration_seconds", NULL, 0,
			   (double)(now_ns() - t0) / 1e9);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct pd_metrics *m = cls;
	struct prom_buf *b = &m->buf;
	__u64 t0 = now_ns();
	char msg[128];
	int err = 0;

	if (strcmp(url, "/metrics")) {
		snprintf(msg, sizeof(msg), "not found: this server has only /metrics\n");
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", msg, strlen(msg));
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		char safe[64];

		/* the client's own text, echoed: escaped (safetext.h) */
		vfs_safe_text(safe, sizeof(safe), method, (size_t)-1, VFS_SAFE_ESCAPE);
		snprintf(msg, sizeof(msg), "method %s not allowed on /metrics: use GET\n", safe);
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", msg, strlen(msg));
	}
	m->scrapes++;
	prom_buf_reset(b);
	if (m->exp)
		err = vfs_export_render(m->exp, b);
	if (m->cb)
		m->cb(b, m->ctx);
	render_self(m, b, t0);
	if (!err)
		err = b->err;
	if (err) {
		m->failures++;
		snprintf(msg, sizeof(msg), "rendering the metrics failed: %s\n", strerror(-err));
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", msg, strlen(msg));
	}
	return reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, b->data, b->len);
}

int pd_metrics_start(struct pd_metrics **mp, const char *addr, unsigned short port,
		     struct vfs_collector *coll, pd_metrics_cb cb, void *ctx,
		     char *err, size_t errlen)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned int flags = MHD_USE_EPOLL;
	const union MHD_DaemonInfo *info;
	struct sockaddr *sa;
	struct pd_metrics *m;
	int ret;

	*mp = NULL;
	if (!addr)
		addr = "127.0.0.1";
	if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
		sa = (struct sockaddr *)&sa4;
	} else if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "metrics address '%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->cb = cb;
	m->ctx = ctx;
	m->page_size = sysconf(_SC_PAGESIZE);
	if (coll && (ret = vfs_export_new(&m->exp, coll))) {
		snprintf(err, errlen, "metrics exporter: %s", strerror(-ret));
		free(m);
		return ret;
	}
	errno = 0;
	m->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, m,
				MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_CONNECTION_LIMIT, 16u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!m->d) {
		ret = errno ? -errno : -EADDRINUSE;
		snprintf(err, errlen, "cannot serve metrics on %s port %u: %s", addr, port,
			 strerror(-ret));
		goto fail;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->epfd = info ? info->epoll_fd : -1;
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info ? info->port : port;
	if (m->epfd < 0) {
		ret = -ENOTSUP;
		snprintf(err, errlen, "libmicrohttpd gives no epoll fd to drive /metrics from");
		goto fail;
	}
	*mp = m;
	return 0;
fail:
	pd_metrics_stop(m);
	return ret;
}

int pd_metrics_fd(const struct pd_metrics *m)
{
	return m->epfd;
}

unsigned short pd_metrics_port(const struct pd_metrics *m)
{
	return m->port;
}

void pd_metrics_run(struct pd_metrics *m)
{
	MHD_run(m->d);
}

void pd_metrics_event(struct pd_metrics *m, const struct vfs_event_hdr *ev, size_t size)
{
	if (m->exp)
		vfs_export_event(m->exp, ev, size);
}

void pd_metrics_stop(struct pd_metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	vfs_export_free(m->exp);
	prom_buf_free(&m->buf);
	free(m);
}
