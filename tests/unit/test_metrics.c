// SPDX-License-Identifier: GPL-2.0
/*
 * The /metrics endpoint over real loopback sockets, driven the way the
 * daemon drives it: its epoll fd in our own loop, no thread.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "metrics.h"

static void own(struct prom_buf *out, void *ctx)
{
	unsigned int *calls = ctx;

	(*calls)++;
	prom_family(out, "vfio_policyd_test_calls_total", PROM_COUNTER, "Callback calls.");
	prom_sample_u64(out, "vfio_policyd_test_calls_total", NULL, 0, *calls);
}

/* send @req, drive the server until the peer closes; the whole response */
static char *exchange(struct pd_metrics *m, const char *req)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(pd_metrics_port(m)) };
	struct epoll_event ev = { .events = EPOLLIN };
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	int s, ep, rounds;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(s, 0);
	cr_assert(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS);
	ep = epoll_create1(0);
	ev.data.fd = pd_metrics_fd(m);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	/* connect completes against the backlog: the request can go now */
	for (rounds = 0; rounds < 100 && send(s, req, strlen(req), MSG_NOSIGNAL) < 0; rounds++)
		usleep(1000);
	for (rounds = 0; rounds < 500; rounds++) {
		struct epoll_event got[2];
		int i, n = epoll_wait(ep, got, 2, 20);
		ssize_t r;

		for (i = 0; i < n; i++)
			if (got[i].data.fd == pd_metrics_fd(m))
				pd_metrics_run(m);
		r = recv(s, out + len, cap - len - 1, 0);
		if (r == 0)
			break;
		if (r > 0)
			len += (size_t)r;
		cr_assert_lt(len, cap - 1, "response too long");
	}
	out[len] = '\0';
	close(ep);
	close(s);
	return out;
}

Test(metrics, serves_metrics_404s_the_rest_and_promtool_accepts_it)
{
	unsigned int calls = 0;
	struct pd_metrics *m;
	char err[256], *r, *body, path[] = "/tmp/vfioscope-metrics-XXXXXX", cmd[128];
	FILE *f;
	int fd, rc;

	cr_assert_eq(pd_metrics_start(&m, NULL, 0, NULL, own, &calls, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_gt(pd_metrics_port(m), 0);

	r = exchange(m, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.0 200", 12) || !strncmp(r, "HTTP/1.1 200", 12), "%s", r);
	cr_assert_neq(strcasestr(r, "Content-Type: text/plain; version=0.0.4"), NULL, "%s", r);
	body = strstr(r, "\r\n\r\n");
	cr_assert_neq(body, NULL);
	body += 4;
	cr_assert_neq(strstr(body, "vfio_policyd_test_calls_total 1\n"), NULL, "%s", body);
	cr_assert_neq(strstr(body, "vfioscope_metrics_scrapes_total 1\n"), NULL, "%s", body);
	cr_assert_neq(strstr(body, "\nprocess_resident_memory_bytes "), NULL, "%s", body);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "promtool rejected:\n%s", body);
	free(r);

	r = exchange(m, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_neq(strstr(r, "vfio_policyd_test_calls_total 2\n"), NULL, "%s", r);
	free(r);

	r = exchange(m, "GET / HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r + 9, "404", 3), "%s", r);
	free(r);
	r = exchange(m, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	cr_assert(!strncmp(r + 9, "405", 3), "%s", r);
	free(r);
	/* a method is the client's text, echoed in the 405: escaped */
	r = exchange(m, "P\x1b[2JST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	cr_assert(!strncmp(r + 9, "405", 3), "%s", r);
	cr_expect_neq(strstr(r, "method P\\x1b[2JST not allowed"), NULL, "%s", r);
	cr_expect_null(strchr(r, '\x1b'), "%s", r);
	free(r);
	cr_assert_eq(calls, 2, "the callback runs once per scrape, not for errors");
	pd_metrics_stop(m);
}

Test(metrics, bad_address_is_a_clear_error)
{
	struct pd_metrics *m;
	char err[256];

	cr_assert_eq(pd_metrics_start(&m, "localhost:9", 0, NULL, NULL, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "metrics address 'localhost:9' is not an IPv4 or IPv6 address");
	cr_assert_null(m);
}

Test(metrics, busy_port_is_a_clear_error)
{
	struct pd_metrics *a, *b;
	char err[256];

	cr_assert_eq(pd_metrics_start(&a, "127.0.0.1", 0, NULL, NULL, NULL, err, sizeof(err)), 0);
	cr_assert_lt(pd_metrics_start(&b, "127.0.0.1", pd_metrics_port(a), NULL, NULL, NULL,
				      err, sizeof(err)), 0);
	cr_assert_neq(strstr(err, "cannot serve metrics on 127.0.0.1 port"), NULL, "%s", err);
	pd_metrics_stop(a);
}
