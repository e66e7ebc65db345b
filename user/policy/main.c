// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-policyd: per-VM QoS quotas on VFIO, enforced in the kernel (BPF LSM,
 * RLIMIT_MEMLOCK, the reference mdev driver's knobs) from a YAML policy.
 *
 * One epoll loop: signalfd (SIGHUP reloads, SIGTERM/SIGINT quit), a timerfd
 * for discovery, the policy events' ring buffer, the control socket (root
 * peers only, SO_PEERCRED) and the metrics endpoint. The BPF state is
 * pinned: quitting, even by kill -9, leaves the policy enforced; the next
 * start adopts it. `--unload` removes it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "gc.h"
#include "metrics.h"
#include "policyd.h"

#define PD_METRICS_PORT 9477

struct pd_opts {
	const char *sock;
	const char *metrics_addr;
	unsigned short metrics_port;
	bool metrics;
	bool collector;
	__u64 gc_grace_ns;	/* 0: the collectors' default */
};

/* ------------------------------------------------------------------ log */
/* a token bucket for log lines: bursts of 20, then one per second */
void pd_log(const char *fmt, ...)
{
	static double tokens = 20;
	static struct timespec last;
	static unsigned long suppressed;
	struct timespec now;
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec)
		tokens += (now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9;
	if (tokens > 20)
		tokens = 20;
	last = now;
	if (tokens < 1) {
		suppressed++;
		return;
	}
	tokens -= 1;
	if (suppressed) {
		fprintf(stderr, "vfio-policyd: %lu log lines suppressed\n", suppressed);
		suppressed = 0;
	}
	fputs("vfio-policyd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------- control */
static int ctl_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char dir[sizeof(a.sun_path)], *slash;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	/* 0600 from birth: no window in which others could connect */
	mode_t old = umask(0177);

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

static void ctl_serve(struct pd_state *s, int lfd)
{
	struct timeval tmo = { 1, 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char cmd[64] = "";
	ssize_t n;
	FILE *out;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	out = fdopen(fd, "r+");
	if (!out) {
		close(fd);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		pd_log("control: refused a peer with uid %d (root only)", (int)cred.uid);
		fprintf(out, "error permission denied: root only\n");
		fclose(out);
		return;
	}
	n = read(fd, cmd, sizeof(cmd) - 1);
	cmd[n > 0 ? n : 0] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	if (!strcmp(cmd, "status")) {
		pd_write_status(s, out);
	} else if (!strcmp(cmd, "vms")) {
		pd_write_vms(s, out);
	} else if (!strcmp(cmd, "reload")) {
		if (pd_reload(s, s->config))
			fprintf(out, "error %s\n", s->last_error);
		else
			fprintf(out, "ok generation %u\n", s->generation);
	} else {
		fprintf(out, "error unknown command '%s' (status, vms, reload)\n", cmd);
	}
	fclose(out);
}

static int ctl_client(const char *path, const char *cmd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd, bad = 0, first = 1;
	ssize_t n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "vfio-policyd: cannot connect to %s: %s\n", path, strerror(errno));
		return 1;
	}
	/*
	 * One line in one send: the daemon answers the first read and closes,
	 * so a second write could meet a closed socket (and SIGPIPE).
	 */
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "vfio-policyd: cannot send to %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && !strncmp(buf, "error", 5))
			bad = 1;
		first = 0;
		fwrite(buf, 1, n, stdout);
	}
	close(fd);
	return bad || first;
}

/* --------------------------------------------------------------- events */
static void on_event(const struct vfs_ev_policy *e, void *ctx)
{
	static const char *const act[] = { "?", "throttled", "denied", "would throttle",
					   "would deny" };

	pd_log("%s: pid %u (%.16s) rule %08x class %s cmd %#x%s", act[e->action <= 4 ? e->action : 0],
	       e->hdr.tgid, e->hdr.comm, e->rule, pd_class_name(e->class), e->cmd,
	       e->err ? (e->err == -11 ? " -> EAGAIN" : " -> EDQUOT") : "");
}

/* -------------------------------------------------------------- metrics */
static void sample_state(struct prom_buf *out, const char *name, const char *help, __u64 v)
{
	prom_family(out, name, PROM_GAUGE, help);
	prom_sample_u64(out, name, NULL, 0, v);
}

/* the daemon's own families, rendered on each scrape */
static void own_families(struct prom_buf *out, void *ctx)
{
	static const char *const verdicts[] = { "allowed", "throttled", "denied", "would_deny" };
	struct pd_state *s = ctx;
	const struct pd_bpf_state *b = pd_bpf_state(s->bpf);
	struct vfs_pol_stat_key *k = NULL;
	struct vfs_pol_stat *v = NULL;
	size_t n = 0, ks, vs, i, j, r;
	char rule[16];

	sample_state(out, "vfioscope_policy_generation", "Generation of the policy applied (reloads that succeeded).",
		     s->generation);
	sample_state(out, "vfioscope_policy_enforcing", "1 if quotas are enforced (BPF LSM active, mode enforce).",
		     pd_enforcing(s));
	sample_state(out, "vfioscope_policy_bpf_lsm_active", "1 if \"bpf\" is in the kernel's active LSM list.",
		     b->lsm_active);
	sample_state(out, "vfioscope_policy_vms", "Processes the policy's name and pid selectors matched.",
		     s->nvms);
	prom_family(out, "vfioscope_policy_reload_failures_total", PROM_COUNTER,
		    "Reloads refused (the running policy stayed).");
	prom_sample_u64(out, "vfioscope_policy_reload_failures_total", NULL, 0, s->reload_failures);
	prom_family(out, "vfioscope_policy_retired_total", PROM_COUNTER,
		    "Per-VM policy counters of exited VMs folded into their rule's sums.");
	prom_sample_u64(out, "vfioscope_policy_retired_total", NULL, 0, s->retired);
	if (pd_bpf_dump(s->bpf, PD_MAP_STATS, (void **)&k, (void **)&v, &n, &ks, &vs))
		return;
	prom_family(out, "vfioscope_policy_decisions_total", PROM_COUNTER,
		    "VFIO ioctls and mdev creates seen by a rule, by class and verdict, summed over its VMs.");
	/* one sample per (rule, class, verdict): sum the VMs of each pair */
	for (i = 0; i < n; i++) {
		__u64 sum[4] = { 0 };

		for (j = 0; j < i; j++)
			if (k[j].rule == k[i].rule && k[j].class == k[i].class)
				break;
		if (j < i)
			continue;
		for (j = i; j < n; j++) {
			if (k[j].rule != k[i].rule || k[j].class != k[i].class)
				continue;
			sum[0] += v[j].allowed;
			sum[1] += v[j].throttled;
			sum[2] += v[j].denied;
			sum[3] += v[j].would_deny;
		}
		for (r = 0; r < 4; r++) {
			struct prom_label l[3] = {
				{ "rule", pd_rule_label(s, k[i].rule, rule, sizeof(rule)) },
				{ "class", pd_class_name(k[i].class) },
				{ "verdict", verdicts[r] },
			};

			prom_sample_u64(out, "vfioscope_policy_decisions_total", l, 3, sum[r]);
		}
	}
	free(k);
	free(v);
}

static int on_coll_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	pd_metrics_event(user, ev, size);
	return 0;
}

/* ----------------------------------------------------------------- main */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfio-policyd [-c FILE] [--socket PATH] [--pin-dir DIR]\n"
		"       vfio-policyd --check FILE    validate FILE, print what it compiles to\n"
		"       vfio-policyd --ctl COMMAND   ask the running daemon: status, vms, reload\n"
		"       vfio-policyd --unload        remove the pinned policy (enforcement stops)\n"
		"                                    and the pinned collectors\n"
		"  -c, --config FILE   policy file (default " PD_DEFAULT_CONFIG ")\n"
		"  --socket PATH       control socket (default " PD_DEFAULT_SOCKET ")\n"
		"  --pin-dir DIR       bpffs directory of the pinned state (default " PD_PIN_DIR ")\n"
		"  --metrics-addr A    /metrics address (default 127.0.0.1)\n"
		"  --metrics-port P    /metrics port (default 9477)\n"
		"  --no-metrics        no /metrics endpoint\n"
		"  --no-collector      /metrics without the VFIO collectors (policy figures only)\n"
		"  --gc-grace S        keep an exited VM's or a removed device's entries\n"
		"                      (collectors and policy) S seconds (default 30)\n");
}

static int check(const char *path)
{
	struct pd_resolver res = { pd_cgroup_id, NULL };
	struct pd_compiled comp;
	struct pd_conf conf;
	char err[512];

	if (pd_conf_load(path, &conf, err, sizeof(err)) ||
	    pd_compile(&conf, &res, 1, &comp, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		pd_conf_free(&conf);
		return 1;
	}
	printf("%s: ok\n", path);
	pd_compiled_print(&comp, stdout);
	pd_compiled_free(&comp);
	pd_conf_free(&conf);
	return 0;
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int run(struct pd_state *s, const struct pd_opts *o)
{
	const char *sock_path = o->sock;
	/* the collectors pinned like the policy: a restart adopts them, so the
	 * exported counters stay monotonic, and vfiotop --shared reads them */
	struct vfs_collector_opts copts = { .share = VFS_SHARE_PIN,
					    .gc_grace_ns = o->gc_grace_ns };
	struct vfs_collector *coll = NULL;
	struct pd_metrics *metrics = NULL;
	struct itimerspec its = { 0 };
	int ep, sfd, tfd, lfd, efd, mfd = -1, quit = 0;
	uint32_t scan_ms = 0;
	char err[512];
	sigset_t set;

	if (pd_bpf_open(&s->bpf, s->pin_dir, err, sizeof(err))) {
		fprintf(stderr, "vfio-policyd: %s\n", err);
		return 1;
	}
	if (!pd_bpf_state(s->bpf)->lsm_active)
		pd_log("BPF LSM is not usable (%s), so quotas are counted as in monitor mode and nothing is enforced.",
		       pd_bpf_state(s->bpf)->lsm_why);
	if (pd_reload(s, s->config) && !s->have_policy)
		pd_log("running without a policy until a valid one is loaded (SIGHUP or `--ctl reload`)");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	lfd = ctl_listen(sock_path, err, sizeof(err));
	ep = epoll_create1(EPOLL_CLOEXEC);
	efd = pd_bpf_events_fd(s->bpf);
	if (lfd < 0) {
		fprintf(stderr, "vfio-policyd: %s\n", err);
		return 1;
	}
	if (sfd < 0 || tfd < 0 || ep < 0 || efd < 0 || add_fd(ep, sfd) || add_fd(ep, tfd) ||
	    add_fd(ep, lfd) || add_fd(ep, efd)) {
		fprintf(stderr, "vfio-policyd: cannot set up the main loop: %s\n", strerror(errno));
		return 1;
	}
	if (o->metrics) {
		if (o->collector && vfs_collector_open(&coll, &copts, err, sizeof(err)))
			pd_log("the collectors did not load, /metrics has the policy figures only: %s",
			       err);
		if (pd_metrics_start(&metrics, o->metrics_addr, o->metrics_port, coll, own_families,
				     s, err, sizeof(err))) {
			fprintf(stderr, "vfio-policyd: %s\n", err);
			return 1;
		}
		mfd = pd_metrics_fd(metrics);
		if (add_fd(ep, mfd)) {
			fprintf(stderr, "vfio-policyd: cannot watch the metrics endpoint: %s\n",
				strerror(errno));
			return 1;
		}
		pd_log("metrics on %s:%u", o->metrics_addr, pd_metrics_port(metrics));
	}
	pd_log("ready: control socket %s, state pinned under %s", sock_path, s->pin_dir);
	while (!quit) {
		struct epoll_event evs[8];
		int i, n;

		if (s->have_policy && s->conf.scan_ms != scan_ms) {
			scan_ms = s->conf.scan_ms;
			its.it_value.tv_sec = its.it_interval.tv_sec = scan_ms / 1000;
			its.it_value.tv_nsec = its.it_interval.tv_nsec = (scan_ms % 1000) * 1000000L;
			timerfd_settime(tfd, 0, &its, NULL);
		}
		/* the collector's ring buffer is polled between events */
		n = epoll_wait(ep, evs, 8, coll ? 100 : -1);
		if (n < 0 && errno != EINTR) {
			pd_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP)
					pd_reload(s, s->config);
				else
					quit = 1;
			} else if (fd == tfd) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					pd_scan(s);
			} else if (fd == lfd) {
				ctl_serve(s, lfd);
			} else if (fd == efd) {
				pd_bpf_events_drain(s->bpf, on_event, s);
			} else if (fd == mfd) {
				pd_metrics_run(metrics);
			}
		}
		if (coll)
			vfs_collector_poll(coll, 0, on_coll_event, metrics);
		if (metrics)
			pd_metrics_run(metrics);
	}
	pd_log("exiting; the pinned policy stays enforced (`vfio-policyd --unload` removes it)");
	close(lfd);
	unlink(sock_path);
	pd_metrics_stop(metrics);
	vfs_collector_close(coll);
	pd_bpf_close(s->bpf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", required_argument, NULL, 'C' },
		{ "ctl", required_argument, NULL, 'X' },
		{ "socket", required_argument, NULL, 'S' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "unload", no_argument, NULL, 'U' },
		{ "metrics-addr", required_argument, NULL, 'A' },
		{ "metrics-port", required_argument, NULL, 'p' },
		{ "no-metrics", no_argument, NULL, 'M' },
		{ "no-collector", no_argument, NULL, 'N' },
		{ "gc-grace", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pd_state s = { .config = PD_DEFAULT_CONFIG, .pin_dir = PD_PIN_DIR };
	struct pd_opts o = {
		.sock = PD_DEFAULT_SOCKET, .metrics_addr = "127.0.0.1",
		.metrics_port = PD_METRICS_PORT, .metrics = true, .collector = true,
	};
	const char *ctl = NULL, *chk = NULL;
	int opt, unload = 0;
	char err[256];
	__u64 port, grace;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': s.config = optarg; break;
		case 'C': chk = optarg; break;
		case 'X': ctl = optarg; break;
		case 'S': o.sock = optarg; break;
		case 'P': s.pin_dir = optarg; break;
		case 'U': unload = 1; break;
		case 'A': o.metrics_addr = optarg; break;
		case 'p':
			if (vfs_parse_u64("--metrics-port", optarg, 0, 65535, 0, &port, err,
					  sizeof(err))) {
				fprintf(stderr, "vfio-policyd: %s\n", err);
				return 2;
			}
			o.metrics_port = (unsigned short)port;
			break;
		case 'M': o.metrics = false; break;
		case 'N': o.collector = false; break;
		case 'G':
			if (vfs_parse_u64("--gc-grace", optarg, 1, 86400, 0, &grace, err,
					  sizeof(err))) {
				fprintf(stderr, "vfio-policyd: %s\n", err);
				return 2;
			}
			o.gc_grace_ns = grace * 1000000000ull;
			break;
		case 'h': usage(stdout); return 0;
		default:
			vfs_cli_bad_option(opt, argv, err, sizeof(err));
			fprintf(stderr, "vfio-policyd: %s\n", err);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vfio-policyd: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	s.retire_grace_ns = o.gc_grace_ns ? o.gc_grace_ns : VFS_GC_GRACE_NS;
	if (chk)
		return check(chk);
	if (ctl)
		return ctl_client(o.sock, ctl);
	if (unload) {
		if (pd_bpf_unpin_all(s.pin_dir, err, sizeof(err)) ||
		    vfs_collector_unpin(NULL, err, sizeof(err))) {
			fprintf(stderr, "vfio-policyd: %s\n", err);
			return 1;
		}
		return 0;
	}
	return run(&s, &o);
}
