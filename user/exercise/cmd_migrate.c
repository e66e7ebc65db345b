// SPDX-License-Identifier: GPL-2.0
/*
 * migrate: VFIO migration v2 of SRC to DST as a VMM performs it, one FSM arc
 * per VFIO_DEVICE_FEATURE(MIG_DEVICE_STATE) request so that every arc gets
 * its own timestamps, with optional injected delays, and a per-device
 * workload that gives the source state worth migrating and verifies the
 * destination continues exactly where the source stopped.
 *
 * Source:      RUNNING [-> RUNNING_P2P] -> STOP -> STOP_COPY -> STOP
 *   --precopy: RUNNING -> PRE_COPY [-> PRE_COPY_P2P] -> STOP_COPY -> STOP
 * Destination: RUNNING -> STOP (before the blackout), then
 *              STOP -> RESUMING -> STOP [-> RUNNING_P2P] -> RUNNING
 *
 * Output (CLOCK_MONOTONIC ns, the clock BPF's bpf_ktime_get_ns() reads):
 *   migration_flags <side> 0x<flags> <names>
 *   arc <side> <from> <to> <start_ns> <end_ns> <errno>
 *   delay <side> <what> <start_ns> <end_ns>
 *   mig_bytes <side> <precopy|stop_copy|resuming> <bytes>
 *   downtime_ns <n>          source leaves RUNNING/PRE_COPY -> dst RUNNING
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

/* one side of the migration */
struct side {
	const char *name;		/* "src" or "dst" */
	struct vx_dev dev;
	__u64 flags;			/* VFIO_MIGRATION_* */
	__u32 state;
	int data_fd;
};

static struct {
	__u64 downtime_start, downtime_end;
	int failed;
} mig;

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
	printf("migration_flags %s 0x%llx%s%s%s\n", s->name, (unsigned long long)s->flags,
	       s->flags & VFIO_MIGRATION_STOP_COPY ? " stop_copy" : "",
	       s->flags & VFIO_MIGRATION_P2P ? " p2p" : "",
	       s->flags & VFIO_MIGRATION_PRE_COPY ? " pre_copy" : "");
}

/* whether @state leaves the device running for the VM */
static int running(__u32 state)
{
	return state == VFIO_DEVICE_STATE_RUNNING || state == VX_STATE_PRE_COPY;
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

	if (!strcmp(s->name, "src") && running(from) && !running(to) && !mig.downtime_start)
		mig.downtime_start = vx_now_ns();
	t0 = vx_now_ns();
	r = vx_mig_set_state(&s->dev, to, &fd);
	t1 = vx_now_ns();
	printf("arc %s %s %s %llu %llu %d\n", s->name, state_name(from), state_name(to),
	       (unsigned long long)t0, (unsigned long long)t1, r < 0 ? (int)-r : 0);
	if (r < 0) {
		printf("migration failed %s %s %s %d\n", s->name, state_name(from),
		       state_name(to), (int)-r);
		warnx_("%s: arc %s -> %s failed: %s", s->dev.name, state_name(from),
		       state_name(to), strerror((int)-r));
		mig.failed = 1;
		return (int)r;
	}
	s->state = to;
	/* the blackout ends when the destination's arc into RUNNING returns */
	if (!strcmp(s->name, "dst") && to == VFIO_DEVICE_STATE_RUNNING)
		mig.downtime_end = t1;
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
		printf("state_after_failure %s %s\n", s->name, state_name(st));
		if (st == VFIO_DEVICE_STATE_ERROR &&
		    vx_ioctl(VFS_FD_DEVICE, s->dev.device, VFIO_DEVICE_RESET, NULL) == 0)
			printf("reset %s ok\n", s->name);
	}
}

struct buf {
	__u8 *data;
	size_t len, cap;
};

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
	printf("delay %s %s %llu %llu\n", s->name, what, (unsigned long long)t0,
	       (unsigned long long)vx_now_ns());
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
	const struct vx_mig_workload *wl = &wl_none;
	unsigned long seed = 1, delay_copy = 0, delay_resume = 0;
	int precopy = 0, force_precopy = 0, p2p = 0, opt, rc;
	struct side src = { .name = "src", .data_fd = -1, .state = VFIO_DEVICE_STATE_RUNNING };
	struct side dst = { .name = "dst", .data_fd = -1, .state = VFIO_DEVICE_STATE_RUNNING };
	struct buf data = { 0 };
	size_t n;
	void *ctx;

	while ((opt = getopt_long(argc, argv, "w:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			wl = find_workload(optarg);
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
			delay_copy = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			delay_resume = strtoul(optarg, NULL, 0);
			break;
		default:
			return 1;
		}
	}
	if (optind != argc - 2)
		die("usage: vfio-exercise migrate SRC DST [--workload none|mdacc|edu] "
		    "[--precopy] [--p2p] [--seed N] [--delay-stop-copy MS] [--delay-resume MS]");

	vx_open(&src.dev, argv[optind]);
	vx_open(&dst.dev, argv[optind + 1]);
	src.flags = mig_flags(&src);
	dst.flags = mig_flags(&dst);
	print_flags(&src);
	print_flags(&dst);
	if (!(src.flags & VFIO_MIGRATION_STOP_COPY) || !(dst.flags & VFIO_MIGRATION_STOP_COPY))
		die("both devices must support VFIO_MIGRATION_STOP_COPY");
	/* --force-precopy asks anyway: the kernel must refuse the arc */
	if (precopy && !force_precopy && !(src.flags & VFIO_MIGRATION_PRE_COPY))
		die("%s does not support PRE_COPY (its kernel or driver lacks it)", src.dev.name);
	if (p2p && !(src.flags & dst.flags & VFIO_MIGRATION_P2P))
		die("--p2p: both devices must support VFIO_MIGRATION_P2P");

	ctx = wl->setup(&src.dev, &dst.dev, seed);
	/* the destination waits stopped, as a VMM's incoming side does */
	TRY(arc(&dst, VFIO_DEVICE_STATE_STOP));
	wl->load(ctx, &src.dev);

	if (precopy) {
		TRY(arc(&src, VX_STATE_PRE_COPY));
		n = drain(&src, &data, 1);
		printf("mig_bytes src precopy %zu\n", n);
		if (p2p)
			TRY(arc(&src, VX_STATE_PRE_COPY_P2P));
		TRY(arc(&src, VFIO_DEVICE_STATE_STOP_COPY));
	} else {
		if (p2p)
			TRY(arc(&src, VFIO_DEVICE_STATE_RUNNING_P2P));
		TRY(arc(&src, VFIO_DEVICE_STATE_STOP));
		TRY(arc(&src, VFIO_DEVICE_STATE_STOP_COPY));
	}
	delay(&src, "stop_copy", delay_copy);
	n = drain(&src, &data, 0);
	printf("mig_bytes src stop_copy %zu\n", n);
	TRY(arc(&src, VFIO_DEVICE_STATE_STOP));
	close(src.data_fd);
	src.data_fd = -1;

	delay(&dst, "resume", delay_resume);
	TRY(arc(&dst, VFIO_DEVICE_STATE_RESUMING));
	feed(&dst, &data);
	printf("mig_bytes dst resuming %zu\n", data.len);
	TRY(arc(&dst, VFIO_DEVICE_STATE_STOP));
	close(dst.data_fd);
	dst.data_fd = -1;
	if (p2p)
		TRY(arc(&dst, VFIO_DEVICE_STATE_RUNNING_P2P));
	TRY(arc(&dst, VFIO_DEVICE_STATE_RUNNING));
	printf("downtime_ns %llu\n", (unsigned long long)(mig.downtime_end - mig.downtime_start));
	printf("realtime_offset_ns %lld\n", (long long)(vx_realtime_ns() - vx_now_ns()));

	rc = wl->verify(ctx, &dst.dev) ? 4 : 0;
	printf("migration %s\n", rc ? "unverified" : "ok");
	goto out;
failed:
	recover(&src);
	recover(&dst);
	rc = 3;
out:
	wl->teardown(ctx, &src.dev, &dst.dev);
	if (src.data_fd >= 0)
		close(src.data_fd);
	if (dst.data_fd >= 0)
		close(dst.data_fd);
	vx_close(&src.dev);
	vx_close(&dst.dev);
	free(data.data);
	vx_print_summary(stdout);
	return rc;
}
