// SPDX-License-Identifier: GPL-2.0
/*
 * migrate: VFIO migration v2 of SRC to DST as a VMM performs it, one FSM arc
 * per VFIO_DEVICE_FEATURE(MIG_DEVICE_STATE) request so that every arc gets
 * its own timestamps, with optional injected delays, and a per-device
 * workload that gives the source state worth migrating and verifies the
 * destination continues exactly where the source stopped.
 *
 * Several SRC DST pairs are one VM with several devices, migrated together
 * the way QEMU does: every source leaves running, then each is saved in
 * turn; each destination is loaded in turn, then all start running.
 *
 * Source:      RUNNING [-> RUNNING_P2P] -> STOP -> STOP_COPY -> STOP
 *   --precopy: RUNNING -> PRE_COPY [-> PRE_COPY_P2P] -> STOP_COPY -> STOP
 * Destination: RUNNING -> STOP (before the blackout), then
 *              STOP -> RESUMING -> STOP [-> RUNNING_P2P] -> RUNNING
 *
 * Output (CLOCK_MONOTONIC ns, the clock BPF's bpf_ktime_get_ns() reads;
 * DEV is the device's BDF or mdev UUID):
 *   migration_flags <side> 0x<flags> <names> DEV
 *   arc <side> <from> <to> <start_ns> <end_ns> <errno> DEV
 *   delay <side> <what> <start_ns> <end_ns> DEV
 *   mig_bytes <side> <precopy|stop_copy|resuming> <bytes> DEV
 *   precopy_info <side> <initial_bytes> <dirty_bytes> DEV  each answer read
 *   device_downtime_ns SRC DST <n>  SRC leaves RUNNING/PRE_COPY -> DST RUNNING
 *   device_share_ns SRC <n>  the device's own blackout work: from the request
 *                            for STOP_COPY to STOP_COPY -> STOP returning, plus
 *                            from the request for RESUMING to RESUMING -> STOP
 *   vm_stop_ns <t>, vm_running_ns <t>  first source stopped, last dst running
 *   downtime_ns <n>          the VM's: vm_running_ns - vm_stop_ns
 *   dominant_device SRC      the largest device_share_ns
 *   realtime_offset_ns <n>   CLOCK_REALTIME - CLOCK_MONOTONIC, to join hosts
 *   migration ok | migration failed <side> <from> <to> <errno>
 * Exit status: 0 migrated and verified, 1 usage or set-up error,
 * 3 an arc failed, 4 the workload's verification failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cmds.h"
#include "event_fmt.h"
#include "migrate.h"

/* state names: the library's, shared with vfiosnoop and vfiomig */
#define state_name vfs_mig_state_name

/* the workloads a migration can carry; "none" moves bare device state */
static void *none_setup(struct vx_dev *src, struct vx_dev *dst, unsigned long seed)
{
	return NULL;
}

static void none_load(void *ctx, struct vx_dev *src)
{
}

static int none_verify(void *ctx, struct vx_dev *dst)
{
	return 0;
}

static void none_teardown(void *ctx, struct vx_dev *src, struct vx_dev *dst)
{
}

static const struct vx_mig_workload wl_none = {
	.name = "none",
	.setup = none_setup,
	.load = none_load,
	.verify = none_verify,
	.teardown = none_teardown,
};

VX_WORKLOAD(wl_none);

static const struct vx_mig_workload *find_workload(const char *name)
{
	const struct vx_mig_workload *const *w;
	char known[256] = "";

	for (w = __start_vx_workloads; w < __stop_vx_workloads; w++) {
		if (!strcmp(name, (*w)->name))
			return *w;
		snprintf(known + strlen(known), sizeof(known) - strlen(known), " %s", (*w)->name);
	}
	die("unknown workload '%s' (known:%s)", name, known);
}

/* one side of one device's migration */
struct side {
	const char *name;		/* "src" or "dst" */
	struct vx_dev dev;
	__u64 flags;			/* VFIO_MIGRATION_* */
	__u32 state;
	int data_fd;
	/* when it left running (src) / its arc into RUNNING returned (dst) */
	__u64 stop_ns, running_ns;
	/* its own work in the blackout: src saving, dst resuming */
	__u64 work_start_ns, work_end_ns;
};

struct buf {
	__u8 *data;
	size_t len, cap;
};

/* one device of the VM: source, destination, the data between them */
struct pair {
	struct side src, dst;
	const struct vx_mig_workload *wl;
	void *ctx;
	unsigned long delay_copy, delay_resume;
	struct buf data;
};

static __u64 mig_flags(struct side *s)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_migration m;
	} req = {
		.f.argsz = sizeof(req),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	};
	long r;

	r = vx_ioctl(VFS_FD_DEVICE, s->dev.device, VFIO_DEVICE_FEATURE, &req);
	if (r == -ENOTTY || r == -EINVAL)
		die("%s (%s) does not support VFIO migration: its driver has no "
		    "migration ops (%s)", s->dev.name, s->name, strerror((int)-r));
	VX_CHECK("VFIO_DEVICE_FEATURE(MIGRATION)", r);
	return req.m.flags;
}

static void print_flags(struct side *s)
{
	printf("migration_flags %s 0x%llx%s%s%s %s\n", s->name, (unsigned long long)s->flags,
	       s->flags & VFIO_MIGRATION_STOP_COPY ? " stop_copy" : "",
	       s->flags & VFIO_MIGRATION_P2P ? " p2p" : "",
	       s->flags & VFIO_MIGRATION_PRE_COPY ? " pre_copy" : "", s->dev.name);
}

/* whether @state leaves the device running for the VM */
static int running(__u32 state)
{
	return state == VFIO_DEVICE_STATE_RUNNING || state == VX_STATE_PRE_COPY;
}

static int is_src(const struct side *s)
{
	return !strcmp(s->name, "src");
}

/*
 * One arc: request @to from the current state. A returned data fd (arcs
 * into the saving group or RESUMING) replaces none: the saving group keeps
 * one session. Returns 0, or -errno after printing the failure.
 */
static int arc(struct side *s, __u32 to)
{
	__u32 from = s->state;
	int fd;
	__u64 t0, t1;
	long r;

	t0 = vx_now_ns();
	r = vx_mig_set_state(&s->dev, to, &fd);
	t1 = vx_now_ns();
	printf("arc %s %s %s %llu %llu %d %s\n", s->name, state_name(from), state_name(to),
	       (unsigned long long)t0, (unsigned long long)t1, r < 0 ? (int)-r : 0, s->dev.name);
	if (r < 0) {
		printf("migration failed %s %s %s %d\n", s->name, state_name(from),
		       state_name(to), (int)-r);
		warnx_("%s: arc %s -> %s failed: %s", s->dev.name, state_name(from),
		       state_name(to), strerror((int)-r));
		return (int)r;
	}
	if (is_src(s) && running(from) && !running(to) && !s->stop_ns)
		s->stop_ns = t0;
	/* a device's own blackout work: saving from STOP_COPY, loading in RESUMING */
	if ((is_src(s) && to == VFIO_DEVICE_STATE_STOP_COPY) ||
	    (!is_src(s) && to == VFIO_DEVICE_STATE_RESUMING))
		s->work_start_ns = t0;
	if (from == VFIO_DEVICE_STATE_STOP_COPY || from == VFIO_DEVICE_STATE_RESUMING)
		s->work_end_ns = t1;
	s->state = to;
	/* the blackout ends when the destination's arc into RUNNING returns */
	if (!is_src(s) && to == VFIO_DEVICE_STATE_RUNNING)
		s->running_ns = t1;
	if (fd >= 0) {
		if (s->data_fd >= 0)
			close(s->data_fd);
		s->data_fd = fd;
	}
	return 0;
}

/* the device state after a failed arc, and a reset out of ERROR */
static void recover(struct side *s)
{
	__u32 st;

	if (vx_mig_get_state(&s->dev, &st) == 0) {
		printf("state_after_failure %s %s %s\n", s->name, state_name(st), s->dev.name);
		if (st == VFIO_DEVICE_STATE_ERROR &&
		    vx_ioctl(VFS_FD_DEVICE, s->dev.device, VFIO_DEVICE_RESET, NULL) == 0)
			printf("reset %s ok\n", s->name);
	}
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			die("out of memory for migration data");
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/*
 * Read the data fd until end of stream (STOP_COPY: read() returns 0) or,
 * in PRE_COPY, until the temporary end (ENOMSG, or no initial bytes left).
 */
static size_t drain(struct side *s, struct buf *b, int precopy)
{
	char chunk[65536];
	size_t total = 0;
	ssize_t n;

	for (;;) {
		if (precopy) {
			struct vfio_precopy_info pi = { .argsz = sizeof(pi) };

			if (ioctl(s->data_fd, VFIO_MIG_GET_PRECOPY_INFO, &pi))
				die("VFIO_MIG_GET_PRECOPY_INFO: %s", strerror(errno));
			printf("precopy_info %s %llu %llu %s\n", s->name,
			       (unsigned long long)pi.initial_bytes,
			       (unsigned long long)pi.dirty_bytes, s->dev.name);
			if (!pi.initial_bytes && !pi.dirty_bytes)
				break;
		}
		n = read(s->data_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && precopy && errno == ENOMSG)
			break;
		if (n < 0)
			die("%s: reading migration data: %s", s->dev.name, strerror(errno));
		if (n == 0)
			break;
		buf_put(b, chunk, n);
		total += n;
	}
	return total;
}

static void feed(struct side *s, const struct buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(s->data_fd, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: writing migration data: %s", s->dev.name, strerror(errno));
		off += n;
	}
}

static void delay(struct side *s, const char *what, unsigned long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	__u64 t0;

	if (!ms)
		return;
	t0 = vx_now_ns();
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	printf("delay %s %s %llu %llu %s\n", s->name, what, (unsigned long long)t0,
	       (unsigned long long)vx_now_ns(), s->dev.name);
}

static void close_data(struct side *s)
{
	if (s->data_fd >= 0)
		close(s->data_fd);
	s->data_fd = -1;
}

/*
 * "A,B,C": the value for each of @n devices; one value is every device's.
 * @what names the option in errors.
 */
static void per_device(const char *what, const char *list, size_t n, const char **out)
{
	char *copy = strdup(list), *save, *tok;	/* out[] points into it */
	size_t k = 0, i;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k == n)
			die("%s '%s' has more values than the %zu device pair%s", what, list, n,
			    n == 1 ? "" : "s");
		out[k++] = tok;
	}
	if (k == 1)
		for (i = 1; i < n; i++)
			out[i] = out[0];
	else if (k != n)
		die("%s '%s' gives %zu values for %zu device pairs: give one, or one per pair",
		    what, list, k, n);
}

static unsigned long ms_value(const char *what, const char *v)
{
	char *end;
	unsigned long ms;

	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || end == v || *end || ms > 600000)
		die("%s: '%s' is not a number of milliseconds (0 to 600000)", what, v);
	return ms;
}

/* per device and for the VM, from the exerciser's own arc timestamps */
static void print_downtime(struct pair *p, size_t n)
{
	__u64 stop = 0, run = 0, best = 0;
	size_t i, dom = 0;

	for (i = 0; i < n; i++) {
		struct side *s = &p[i].src, *d = &p[i].dst;
		__u64 share = (s->work_end_ns - s->work_start_ns) +
			      (d->work_end_ns - d->work_start_ns);

		printf("device_downtime_ns %s %s %llu\n", s->dev.name, d->dev.name,
		       (unsigned long long)(d->running_ns - s->stop_ns));
		printf("device_share_ns %s %llu\n", s->dev.name, (unsigned long long)share);
		if (!stop || s->stop_ns < stop)
			stop = s->stop_ns;
		if (d->running_ns > run)
			run = d->running_ns;
		if (share > best) {
			best = share;
			dom = i;
		}
	}
	printf("vm_stop_ns %llu\nvm_running_ns %llu\n", (unsigned long long)stop,
	       (unsigned long long)run);
	printf("downtime_ns %llu\n", (unsigned long long)(run - stop));
	printf("dominant_device %s\n", p[dom].src.dev.name);
}

#define TRY(expr) do { if ((expr) < 0) goto failed; } while (0)

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "precopy", no_argument, NULL, 'p' },
		{ "force-precopy", no_argument, NULL, 'P' },
		{ "p2p", no_argument, NULL, '2' },
		{ "seed", required_argument, NULL, 's' },
		{ "delay-stop-copy", required_argument, NULL, 'c' },
		{ "delay-resume", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *workloads = "none", *delays_copy = "0", *delays_resume = "0";
	unsigned long seed = 1;
	int precopy = 0, force_precopy = 0, p2p = 0, opt, rc;
	const char **vals;
	struct pair *pairs;
	size_t np, i, n;

	while ((opt = getopt_long(argc, argv, "w:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			workloads = optarg;
			break;
		case 'p':
			precopy = 1;
			break;
		case 'P':
			precopy = force_precopy = 1;
			break;
		case '2':
			p2p = 1;
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			delays_copy = optarg;
			break;
		case 'r':
			delays_resume = optarg;
			break;
		default:
			return 1;
		}
	}
	if (argc - optind < 2 || (argc - optind) % 2)
		die("usage: vfio-exercise migrate SRC DST [SRC2 DST2 ...] "
		    "[--workload W[,W2...]] [--precopy] [--p2p] [--seed N] "
		    "[--delay-stop-copy MS[,MS2...]] [--delay-resume MS[,MS2...]]");
	np = (size_t)(argc - optind) / 2;
	pairs = calloc(np, sizeof(*pairs));
	vals = calloc(np, sizeof(*vals));
	if (!pairs || !vals)
		die("out of memory");
	per_device("--workload", workloads, np, vals);
	for (i = 0; i < np; i++)
		pairs[i].wl = find_workload(vals[i]);
	per_device("--delay-stop-copy", delays_copy, np, vals);
	for (i = 0; i < np; i++)
		pairs[i].delay_copy = ms_value("--delay-stop-copy", vals[i]);
	per_device("--delay-resume", delays_resume, np, vals);
	for (i = 0; i < np; i++)
		pairs[i].delay_resume = ms_value("--delay-resume", vals[i]);

	/* one process is one VM: every device pair migrates together */
	for (i = 0; i < np; i++) {
		struct pair *p = &pairs[i];

		p->src = (struct side){ .name = "src", .data_fd = -1,
					.state = VFIO_DEVICE_STATE_RUNNING };
		p->dst = (struct side){ .name = "dst", .data_fd = -1,
					.state = VFIO_DEVICE_STATE_RUNNING };
		vx_open(&p->src.dev, argv[optind + 2 * i]);
		vx_open(&p->dst.dev, argv[optind + 2 * i + 1]);
		p->src.flags = mig_flags(&p->src);
		p->dst.flags = mig_flags(&p->dst);
		print_flags(&p->src);
		print_flags(&p->dst);
		if (!(p->src.flags & VFIO_MIGRATION_STOP_COPY) ||
		    !(p->dst.flags & VFIO_MIGRATION_STOP_COPY))
			die("both devices must support VFIO_MIGRATION_STOP_COPY");
		/* --force-precopy asks anyway: the kernel must refuse the arc */
		if (precopy && !force_precopy && !(p->src.flags & VFIO_MIGRATION_PRE_COPY))
			die("%s does not support PRE_COPY (its kernel or driver lacks it)",
			    p->src.dev.name);
		if (p2p && !(p->src.flags & p->dst.flags & VFIO_MIGRATION_P2P))
			die("--p2p: both devices must support VFIO_MIGRATION_P2P");
	}
	for (i = 0; i < np; i++)
		pairs[i].ctx = pairs[i].wl->setup(&pairs[i].src.dev, &pairs[i].dst.dev,
						  seed + i);
	/* the destinations wait stopped, as a VMM's incoming side does */
	for (i = 0; i < np; i++)
		TRY(arc(&pairs[i].dst, VFIO_DEVICE_STATE_STOP));
	for (i = 0; i < np; i++)
		pairs[i].wl->load(pairs[i].ctx, &pairs[i].src.dev);

	/*
	 * Source, as QEMU does it: pre-copy while the VM runs; then the VM
	 * stops (every device leaves running), then each device in turn is
	 * saved (STOP_COPY, read to the end of stream, STOP).
	 */
	if (precopy) {
		for (i = 0; i < np; i++) {
			TRY(arc(&pairs[i].src, VX_STATE_PRE_COPY));
			n = drain(&pairs[i].src, &pairs[i].data, 1);
			printf("mig_bytes src precopy %zu %s\n", n, pairs[i].src.dev.name);
		}
		if (p2p)
			for (i = 0; i < np; i++)
				TRY(arc(&pairs[i].src, VX_STATE_PRE_COPY_P2P));
		for (i = 0; i < np; i++)
			TRY(arc(&pairs[i].src, VFIO_DEVICE_STATE_STOP_COPY));
	} else {
		if (p2p)
			for (i = 0; i < np; i++)
				TRY(arc(&pairs[i].src, VFIO_DEVICE_STATE_RUNNING_P2P));
		for (i = 0; i < np; i++)
			TRY(arc(&pairs[i].src, VFIO_DEVICE_STATE_STOP));
	}
	for (i = 0; i < np; i++) {
		struct pair *p = &pairs[i];

		if (!precopy)
			TRY(arc(&p->src, VFIO_DEVICE_STATE_STOP_COPY));
		delay(&p->src, "stop_copy", p->delay_copy);
		n = drain(&p->src, &p->data, 0);
		printf("mig_bytes src stop_copy %zu %s\n", n, p->src.dev.name);
		TRY(arc(&p->src, VFIO_DEVICE_STATE_STOP));
		close_data(&p->src);
	}

	/* destination: each device loaded in turn, then the VM starts */
	for (i = 0; i < np; i++) {
		struct pair *p = &pairs[i];

		delay(&p->dst, "resume", p->delay_resume);
		TRY(arc(&p->dst, VFIO_DEVICE_STATE_RESUMING));
		feed(&p->dst, &p->data);
		printf("mig_bytes dst resuming %zu %s\n", p->data.len, p->dst.dev.name);
		TRY(arc(&p->dst, VFIO_DEVICE_STATE_STOP));
		close_data(&p->dst);
	}
	if (p2p)
		for (i = 0; i < np; i++)
			TRY(arc(&pairs[i].dst, VFIO_DEVICE_STATE_RUNNING_P2P));
	for (i = 0; i < np; i++)
		TRY(arc(&pairs[i].dst, VFIO_DEVICE_STATE_RUNNING));
	print_downtime(pairs, np);
	printf("realtime_offset_ns %lld\n", (long long)(vx_realtime_ns() - vx_now_ns()));

	rc = 0;
	for (i = 0; i < np; i++)
		if (pairs[i].wl->verify(pairs[i].ctx, &pairs[i].dst.dev))
			rc = 4;
	printf("migration %s\n", rc ? "unverified" : "ok");
	goto out;
failed:
	for (i = 0; i < np; i++) {
		recover(&pairs[i].src);
		recover(&pairs[i].dst);
	}
	rc = 3;
out:
	for (i = 0; i < np; i++) {
		struct pair *p = &pairs[i];

		p->wl->teardown(p->ctx, &p->src.dev, &p->dst.dev);
		close_data(&p->src);
		close_data(&p->dst);
		vx_close(&p->src.dev);
		vx_close(&p->dst.dev);
		free(p->data.data);
	}
	free(pairs);
	free(vals);
	vx_print_summary(stdout);
	return rc;
}
