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
 *
 * --exporter: the collectors and /metrics alone, no policy and no LSM
 * program (hosts without BPF LSM, or operators who only want the figures).
 * Under systemd (Type=notify) the daemon says READY=1 once its programs are
 * loaded and pinned and /metrics is bound, RELOADING=1 around a reload and
 * STOPPING=1 when it quits (sd_notify(3): a no-op without NOTIFY_SOCKET).
 */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "gc.h"
#include "metrics.h"
#include "policyd.h"
#include "safetext.h"
#include "vfio_ioctl.h"

#define PD_METRICS_PORT 9477

struct pd_opts {
	const char *sock;
	const char *metrics_addr;
	unsigned short metrics_port;
	bool metrics;
	bool collector;
	bool policy;		/* false: --exporter */
	__u64 gc_grace_ns;	/* 0: the collectors' default */
};

/* ------------------------------------------------------------------ log */
/* a token bucket for log lines: bursts of 20, then one per second */
void pd_log(const char *fmt, ...)
{
	static double tokens = 20;
	static struct timespec last;
	static unsigned long suppressed;
	char line[2048], safe[4 * 1024];
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
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* VM names and policy files are hostile: one line, no escape sequences */
	vfs_safe_text(safe, sizeof(safe), line, sizeof(line), VFS_SAFE_ESCAPE);
	fprintf(stderr, "vfio-policyd: %s\n", safe);
}

/* @s (a NUL-terminated field of @len bytes) made safe in place: see pd_log */
static void make_safe(char *s, size_t len)
{
	char tmp[4 * 1024];

	if (vfs_text_is_safe(s, len, VFS_SAFE_ESCAPE))
		return;
	/* at most @len bytes: an escape that does not fit is left out whole */
	vfs_safe_text(tmp, len < sizeof(tmp) ? len : sizeof(tmp), s, len, VFS_SAFE_ESCAPE);
	memcpy(s, tmp, strlen(tmp) + 1);
}

/* set once start-up is complete: READY=1 was sent */
static bool ready;

/* pd_reload of the configured file; what it keeps for replies made safe */
static int reload(struct pd_state *s)
{
	struct timespec now;
	int r;

	if (!s->bpf) {
		snprintf(s->last_error, sizeof(s->last_error),
			 "exporter mode: no policy is loaded (start without --exporter)");
		pd_log("reload refused: %s", s->last_error);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ready)
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
			   (unsigned long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	r = pd_reload(s, s->config);
	if (ready)
		sd_notifyf(0, "READY=1\nSTATUS=policy generation %u%s", s->generation,
			   r ? "; the last reload was refused" : "");

	make_safe(s->last_error, sizeof(s->last_error));
	if (s->have_policy)
		make_safe(s->conf.file, sizeof(s->conf.file));
	return r;
}

/* @text (@len bytes) to @f, escaped but for its newlines: see ctl_serve */
static void put_safe(FILE *f, const char *text, size_t len)
{
	char *safe = malloc(4 * len + 1);

	if (!safe)
		return;
	vfs_safe_text(safe, 4 * len + 1, text, len, VFS_SAFE_ESCAPE | VFS_SAFE_NL);
	fputs(safe, f);
	free(safe);
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
		/* root's alone, like the stream locks beside the socket (collector.c) */
		if (mkdir(dir, 0700) && errno != EEXIST) {
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

/* ----------------------------------------------------------- the stream */
/* whether the collectors' event stream is ours: said in status and the log */
static struct {
	int err;		/* last vfs_collector_poll() failure, 0: reading */
	char why[256];
} stream;

static void stream_result(struct vfs_collector *coll, int r)
{
	int err = r < 0 && r != -EINTR ? r : 0;
	char why[sizeof(stream.why)] = "";

	if (err)
		snprintf(why, sizeof(why), "%s", vfs_collector_stream_error(coll)[0] ?
			 vfs_collector_stream_error(coll) : strerror(-err));
	if (err == stream.err && !strcmp(why, stream.why))
		return;
	stream.err = err;
	memcpy(stream.why, why, sizeof(why));
	if (!err)
		pd_log("the collectors' event stream is read again: migration and event figures resume");
	else
		pd_log("cannot read the collectors' event stream: %s; /metrics' migration and "
		       "event figures stop until it is free", why);
}

static void ctl_stream_status(struct pd_state *s, FILE *out)
{
	if (!stream.err)
		return;
	fprintf(out, "event_stream blocked\n");
	fprintf(out, "note the collectors' event stream is not read: %s\n", stream.why);
}

/* the reply to @cmd, as the peer gets it: see ctl_serve */
static void ctl_reply(struct pd_state *s, const char *cmd, FILE *out)
{
	size_t i;

	if (!strcmp(cmd, "status") && !s->bpf) {
		fprintf(out, "mode exporter\npolicy none\nenforcing no\n");
		ctl_stream_status(s, out);
	} else if (!strcmp(cmd, "status")) {
		pd_write_status(s, out);
		ctl_stream_status(s, out);
	} else if (!strcmp(cmd, "vms") && !s->bpf) {
		fprintf(out, "error exporter mode: no policy, no VMs matched\n");
	} else if (!strcmp(cmd, "vms")) {
		/* names come from the VMs: nothing in them may forge a line */
		for (i = 0; i < s->nvms; i++)
			make_safe(s->vms[i].name, sizeof(s->vms[i].name));
		pd_write_vms(s, out);
	} else if (!strcmp(cmd, "reload")) {
		if (reload(s))
			fprintf(out, "error %s\n", s->last_error);
		else
			fprintf(out, "ok generation %u\n", s->generation);
	} else {
		fprintf(out, "error unknown command '%s' (status, vms, reload)\n", cmd);
	}
}

static void ctl_serve(struct pd_state *s, int lfd)
{
	struct timeval tmo = { 1, 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char cmd[64] = "", *reply = NULL;
	size_t rlen = 0;
	ssize_t n;
	FILE *out, *mem;
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
	/*
	 * The reply is rendered whole, then made safe line by line: no
	 * control, escape sequence or invalid UTF-8 from a VM name, a policy
	 * file or the command itself reaches the operator's terminal.
	 */
	mem = open_memstream(&reply, &rlen);
	if (!mem) {
		fprintf(out, "error out of memory\n");
		fclose(out);
		return;
	}
	ctl_reply(s, cmd, mem);
	fclose(mem);
	put_safe(out, reply, rlen);
	free(reply);
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
	struct pd_state *s = ctx;

	if (e->action == VFS_POL_ACT_UNKNOWN) {
		s->scan_soon = true;	/* a new VFIO caller: discovery looks now */
		return;
	}

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

/* what the policy cannot charge, and why: never claimed as enforced */
static void policy_gaps(struct prom_buf *out, struct pd_state *s)
{
	static const struct {
		enum vfs_pol_health h;
		const char *reason;
	} gaps[] = {
		{ VFS_POL_H_UNCLASSIFIED, "unclassified_file" },
		{ VFS_POL_H_MEMBER_FULL, "member_table_full" },
		{ VFS_POL_H_BUCKET_FULL, "bucket_table_full" },
	};
	size_t i;
	int k;

	prom_family(out, "vfioscope_policy_file_kind_charged", PROM_GAUGE,
		    "1 if VFIO calls on files of this kind are charged to quotas (the kernel's file_operations resolved).");
	for (k = VFS_FD_CONTAINER; k < VFS_FD_KIND_MAX; k++) {
		struct prom_label l = { "kind", vfio_fd_kind_name(k) };

		prom_sample_u64(out, "vfioscope_policy_file_kind_charged", &l, 1,
				s->fops.fops[k] != 0);
	}
	prom_family(out, "vfioscope_policy_kernel_gaps_total", PROM_COUNTER,
		    "Calls and forks the policy programs could not handle as the policy says, by reason (unclassified_file and member_table_full pass unlimited; bucket_* are refused).");
	for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		struct prom_label l = { "reason", gaps[i].reason };

		prom_sample_u64(out, "vfioscope_policy_kernel_gaps_total", &l, 1,
				pd_health(s, gaps[i].h));
	}
	prom_family(out, "vfioscope_policy_unmapped", PROM_GAUGE,
		    "Selected cgroups and VM processes the kernel's maps could not take at the last sync (full): not limited.");
	{
		struct prom_label l = { "map", "target" };

		prom_sample_u64(out, "vfioscope_policy_unmapped", &l, 1, s->targets_failed);
		l.value = "member";
		prom_sample_u64(out, "vfioscope_policy_unmapped", &l, 1, s->members_failed);
	}
}

/* the shares' instances: knob, measured use and weight, per instance */
static void share_families(struct prom_buf *out, struct pd_state *s)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{ "vfioscope_policy_share_knob", "The value a share set on an instance's knob (the knob table's unit; 0 unlimited)." },
		{ "vfioscope_policy_share_used", "What an instance under a share did per second at the last tick, from its use counter." },
		{ "vfioscope_policy_share_weight", "The weight of an instance's owner in its share (its VM's rule, else the default)." },
		{ "vfioscope_policy_share_writes_total", "Knob writes a share made on an instance: made (result ok) and refused by the kernel (result failed)." },
	};
	char rule[16];
	size_t f, i;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		prom_family(out, fam[f].name, f == 3 ? PROM_COUNTER : PROM_GAUGE, fam[f].help);
		for (i = 0; i < s->nsinst; i++) {
			const struct pd_share_inst *p = &s->sinst[i];
			const struct pd_mdev *m = &s->conf.mdevs[p->mdev];
			struct prom_label l[7] = {
				{ "parent", m->parent }, { "type", m->type }, { "mdev", p->uuid },
				{ "knob", m->share.knob }, { "vm", p->vm },
				{ "rule", p->rule ? pd_rule_label(s, p->rule, rule, sizeof(rule)) : "" },
				{ "result", "ok" },
			};

			switch (f) {
			case 0:
				prom_sample_u64(out, fam[f].name, l, 6, p->knob);
				break;
			case 1:
				if (!p->fresh)
					prom_sample_u64(out, fam[f].name, l, 6, p->used);
				break;
			case 2:
				prom_sample_u64(out, fam[f].name, l, 6, p->weight);
				break;
			default:
				prom_sample_u64(out, fam[f].name, l, 7, p->writes);
				l[6].value = "failed";
				prom_sample_u64(out, fam[f].name, l, 7, p->errors);
			}
		}
	}
}

/* which build answers: the version and the BPF ABI its programs speak */
static void build_info(struct prom_buf *out)
{
	char abi[16];
	struct prom_label l[2] = { { "version", vfs_version }, { "abi", abi } };

	snprintf(abi, sizeof(abi), "%d", vfs_abi_version);
	prom_family(out, "vfioscope_build_info", PROM_GAUGE,
		    "Always 1: the version of vfioscope serving these metrics and its BPF ABI version.");
	prom_sample_u64(out, "vfioscope_build_info", l, 2, 1);
}

/* the daemon's own families, rendered on each scrape */
static void own_families(struct prom_buf *out, void *ctx)
{
	static const char *const verdicts[] = { "allowed", "throttled", "denied", "would_deny" };
	struct pd_state *s = ctx;
	const struct pd_bpf_state *b;
	struct vfs_pol_stat_key *k = NULL;
	struct vfs_pol_stat *v = NULL;
	size_t n = 0, ks, vs, i, j, r;
	char rule[16];

	build_info(out);
	if (!s->bpf)
		return;	/* --exporter: the collectors' figures only */
	b = pd_bpf_state(s->bpf);
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
	policy_gaps(out, s);
	share_families(out, s);
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
		"  --exporter          the collectors and /metrics only: no policy file, no LSM\n"
		"                      program (hosts without BPF LSM)\n"
		"  --gc-grace S        keep an exited VM's or a removed device's entries\n"
		"                      (collectors and policy) S seconds (default 30)\n"
		"  -h, --help          this text\n"
		"  --version           the version and the BPF ABI version, then exit\n");
}

static int check(const char *path)
{
	struct pd_resolver res = { pd_cgroup_id, NULL };
	struct pd_compiled comp;
	struct pd_conf conf;
	char err[512], *out = NULL;
	size_t len = 0;
	FILE *mem;

	/* errors and the compiled policy quote the file: escaped for the terminal */
	if (pd_conf_load(path, &conf, err, sizeof(err)) ||
	    pd_compile(&conf, &res, 1, &comp, err, sizeof(err))) {
		put_safe(stderr, err, strlen(err));
		fputc('\n', stderr);
		pd_conf_free(&conf);
		return 1;
	}
	mem = open_memstream(&out, &len);
	if (!mem) {
		fprintf(stderr, "vfio-policyd: out of memory\n");
		pd_compiled_free(&comp);
		pd_conf_free(&conf);
		return 1;
	}
	fprintf(mem, "%s: ok\n", path);
	pd_compiled_print(&comp, mem);
	pd_shares_print(&conf, mem);
	fclose(mem);
	put_safe(stdout, out, len);
	free(out);
	pd_compiled_free(&comp);
	pd_conf_free(&conf);
	return 0;
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ------------------------------------------------------------ hardening */
/*
 * What the daemon keeps once it is set up: everything a reload and the
 * periodic work do. CAP_BPF: map updates, attaching, pinning and unpinning
 * links of the programs loaded at start (and any bpf() call where
 * unprivileged BPF is disabled); CAP_PERFMON: the tracing programs' links;
 * CAP_SYS_RESOURCE: RLIMIT_MEMLOCK of other users' processes (prlimit);
 * CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH: /proc/PID/fd and the like of
 * other users' processes. The metrics port and the control socket are
 * bound before, and files under /run, /sys/fs/bpf and sysfs are root's
 * own (the daemon stays uid 0): nothing else is needed, but for the
 * collectors: CAP_SYS_ADMIN stays with them, since programs they attach
 * after start-up (to a module loaded since, to a migration driver's data
 * fd) are loaded against that module's BTF, and the kernel opens a BTF
 * object by id (BPF_BTF_GET_NEXT_ID, BPF_BTF_GET_FD_BY_ID; libbpf's CO-RE
 * does too) only for CAP_SYS_ADMIN. Policy alone (--no-collector) drops it.
 */
static const int keep_caps[] = {
	CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
};

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/*
 * Drop every capability not in keep_caps from the effective, permitted,
 * inheritable, ambient and bounding sets, then PR_SET_NO_NEW_PRIVS (the
 * daemon runs no program). A kernel without CAP_BPF needs CAP_SYS_ADMIN
 * for BPF instead. 0, or -1 with a sentence in @err.
 */
static int drop_caps(bool collectors, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	__u64 keep = 0, perm;
	int last = last_cap(), cap;
	size_t i;

	for (i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
		keep |= 1ull << keep_caps[i];
	if (last < CAP_BPF || collectors)
		keep |= 1ull << CAP_SYS_ADMIN;
	if (syscall(SYS_capget, &h, d)) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	/* the bounding set needs CAP_SETPCAP, which goes last */
	for (cap = 0; cap <= last && cap < 64; cap++)
		if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno != EINVAL && errno != EPERM) {
			snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s",
				 cap, strerror(errno));
			return -1;
		}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	perm = ((__u64)d[1].permitted << 32 | d[0].permitted) & keep;
	d[0].effective = d[0].permitted = (__u32)perm;
	d[1].effective = d[1].permitted = (__u32)(perm >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Signals are blocked from the first instruction of run() and read from a
 * signalfd once the daemon is ready: a SIGHUP during start-up is a reload
 * done once ready, never a death that systemd would call clean; SIGTERM or
 * SIGINT during start-up stops it between two steps (each leaves the
 * pinned state whole), through the same exit path as later.
 */
static void daemon_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static bool stop_pending(void)
{
	sigset_t p;

	if (sigpending(&p))
		return false;
	return sigismember(&p, SIGTERM) || sigismember(&p, SIGINT);
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
	int ep = -1, sfd = -1, tfd = -1, lfd = -1, efd, mfd = -1, quit = 0, rc = 1;
	uint32_t scan_ms = 0;
	char err[512];
	sigset_t set;

	daemon_signals(&set);
	if (!o->policy) {
		if (!o->metrics || !o->collector) {
			fprintf(stderr, "vfio-policyd: --exporter serves the collectors on /metrics: "
				"it cannot go with --no-metrics or --no-collector\n");
			return 2;
		}
		pd_log("exporter mode: collectors and /metrics only, no policy");
	} else if (pd_bpf_open(&s->bpf, s->pin_dir, err, sizeof(err))) {
		fprintf(stderr, "vfio-policyd: %s\n", err);
		return 1;
	} else if (!pd_bpf_state(s->bpf)->lsm_active) {
		pd_log("BPF LSM is not usable (%s), so quotas are counted as in monitor mode and nothing is enforced.",
		       pd_bpf_state(s->bpf)->lsm_why);
	}
	if (stop_pending())
		goto stopped;
	if (s->bpf && reload(s) && !s->have_policy)
		pd_log("running without a policy until a valid one is loaded (SIGHUP or `--ctl reload`)");
	if (stop_pending())
		goto stopped;
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	lfd = ctl_listen(sock_path, err, sizeof(err));
	ep = epoll_create1(EPOLL_CLOEXEC);
	efd = s->bpf ? pd_bpf_events_fd(s->bpf) : -1;
	if (lfd < 0) {
		fprintf(stderr, "vfio-policyd: %s\n", err);
		goto out;
	}
	if (sfd < 0 || tfd < 0 || ep < 0 || (s->bpf && efd < 0) || add_fd(ep, sfd) ||
	    add_fd(ep, tfd) || add_fd(ep, lfd) || (efd >= 0 && add_fd(ep, efd))) {
		fprintf(stderr, "vfio-policyd: cannot set up the main loop: %s\n", strerror(errno));
		goto out;
	}
	if (o->metrics) {
		if (o->collector && vfs_collector_open(&coll, &copts, err, sizeof(err))) {
			if (!s->bpf) {
				fprintf(stderr, "vfio-policyd: --exporter: the collectors did not load: %s\n",
					err);
				goto out;
			}
			pd_log("the collectors did not load, /metrics has the policy figures only: %s",
			       err);
		}
		if (stop_pending())
			goto stopped;
		if (pd_metrics_start(&metrics, o->metrics_addr, o->metrics_port, coll, own_families,
				     s, err, sizeof(err))) {
			fprintf(stderr, "vfio-policyd: %s\n", err);
			goto out;
		}
		mfd = pd_metrics_fd(metrics);
		if (add_fd(ep, mfd)) {
			fprintf(stderr, "vfio-policyd: cannot watch the metrics endpoint: %s\n",
				strerror(errno));
			goto out;
		}
		pd_log("metrics on %s:%u", o->metrics_addr, pd_metrics_port(metrics));
	}
	if (stop_pending())
		goto stopped;
	/* everything is loaded, bound and open: what is left is a reload's and a scan's */
	if (drop_caps(coll, err, sizeof(err))) {
		fprintf(stderr, "vfio-policyd: cannot drop capabilities: %s\n", err);
		goto out;
	}
	pd_log("capabilities kept: bpf perfmon sys_resource sys_ptrace dac_read_search%s; "
	       "no new privileges", last_cap() < CAP_BPF ? " sys_admin" :
	       coll ? " sys_admin (the collectors: module BTF for what they attach later)" : "");
	if (s->bpf)
		pd_log("ready: control socket %s, state pinned under %s", sock_path, s->pin_dir);
	else
		pd_log("ready: control socket %s, exporter mode", sock_path);
	/* programs loaded and pinned, /metrics bound: systemctl start may return */
	ready = true;
	sd_notifyf(0, "READY=1\nSTATUS=%s", !s->bpf ? "exporter mode: collectors and /metrics" :
		   s->have_policy ? "policy applied" : "no valid policy yet: nothing enforced");
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
					reload(s);
				else if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2)
					pd_log("signal %u from pid %u ignored (SIGHUP reloads, SIGTERM stops)",
					       si.ssi_signo, si.ssi_pid);
				else
					quit = 1;
			} else if (fd == tfd) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
					pd_scan(s);
					/* on the timer only: its rates need even intervals */
					pd_share_tick(s);
				}
			} else if (fd == lfd) {
				ctl_serve(s, lfd);
			} else if (fd == efd) {
				pd_bpf_events_drain(s->bpf, on_event, s);
				if (s->scan_soon) {
					s->scan_soon = false;
					pd_scan(s);
				}
			} else if (fd == mfd) {
				pd_metrics_run(metrics);
			}
		}
		if (coll) {
			char msg[320];

			if (vfs_collector_rescan(coll, msg, sizeof(msg)) >= 0 && msg[0])
				pd_log("collectors: %s", msg);
			stream_result(coll, vfs_collector_poll(coll, 0, on_coll_event, metrics));
		}
		if (metrics)
			pd_metrics_run(metrics);
	}
	sd_notify(0, "STOPPING=1");
	if (s->bpf)
		pd_log("exiting; the pinned policy stays enforced (`vfio-policyd --unload` removes it)");
	else
		pd_log("exiting; the pinned collectors stay (`vfiostat --unpin` removes them)");
	rc = 0;
	goto out;
stopped:
	pd_log("stopped during start-up; what was pinned stays whole and enforced "
	       "(`vfio-policyd --unload` removes it)");
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(sock_path);
	}
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	pd_metrics_stop(metrics);
	vfs_collector_close(coll);
	pd_bpf_close(s->bpf);
	return rc;
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
		{ "exporter", no_argument, NULL, 'E' },
		{ "gc-grace", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pd_state s = { .config = PD_DEFAULT_CONFIG, .pin_dir = PD_PIN_DIR };
	struct pd_opts o = {
		.sock = PD_DEFAULT_SOCKET, .metrics_addr = "127.0.0.1",
		.metrics_port = PD_METRICS_PORT, .metrics = true, .collector = true,
		.policy = true,
	};
	const char *ctl = NULL, *chk = NULL;
	int opt, unload = 0;
	char err[256];
	__u64 port, grace;

	if (vfs_cli_version(argc, argv, "vfio-policyd", ":c:h", opts))
		return 0;
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
		case 'E': o.policy = false; break;
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
