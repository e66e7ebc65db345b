// SPDX-License-Identifier: GPL-2.0
/*
 * vfiosnoop: every VFIO event as it happens, one line each, for driver
 * developers (opensnoop/execsnoop habits): time, process, device, event,
 * decoded arguments, result and latency. Losses are shown the moment they
 * happen and summed on exit. In JSON, "vm" names the VM an event came from
 * (QEMU's -name, libvirt's domain, else its comm) for a process the
 * collectors know as a VM, even one already gone: from what vm_info
 * captured when it was first seen.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cli.h"
#include "collector.h"
#include "event_fmt.h"
#include "identity.h"
#include "safetext.h"

static volatile sig_atomic_t exiting;

static struct env {
	__u32 pid;
	const char *device;
	__u32 classes;		/* VFS_STREAM() bits */
	bool errors_only;
	bool json;
	bool wall;		/* -T: wall-clock times */
	__u64 start_ns;
	__s64 realtime_offset_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct vfs_collector *c;
	int obj_fd;
	unsigned long printed;
} env;

static void on_signal(int sig)
{
	exiting = 1;
}

/* device names by object address, from the collectors' obj_info map */
static struct {
	__u64 obj;
	char name[VFS_NAME_LEN];
} names[256];
static unsigned int nnames;

static const char *namer(void *user, __u64 obj)
{
	struct vfs_obj_info oi;
	unsigned int i;

	for (i = 0; i < nnames; i++)
		if (names[i].obj == obj)
			return names[i].name;
	if (env.obj_fd < 0 || bpf_map_lookup_elem(env.obj_fd, &obj, &oi))
		return NULL;
	i = nnames < 256 ? nnames++ : obj % 256;	/* full: replace one */
	names[i].obj = obj;
	if (oi.kind == VFS_FD_GROUP)
		snprintf(names[i].name, sizeof(names[i].name), "group-%u", oi.group_id);
	else
		snprintf(names[i].name, sizeof(names[i].name), "%.*s",
			 (int)strnlen(oi.name, sizeof(oi.name)), oi.name);
	return names[i].name;
}

/*
 * VM names by pid, resolved once per VM (a map lookup per event would
 * slow the reader of a flood); a VM's exit forgets its entry, so a pid
 * used again is looked up again. A process that is no VM (yet) is not
 * cached: looked up at each of its (rare: mdev, vDPA) events.
 */
static struct {
	__u32 pid;
	bool used;
	char name[64];
} vms[256];

static const char *vm_of(__u32 pid)
{
	unsigned int i = pid % 256;

	if (!vms[i].used || vms[i].pid != pid) {
		if (vfs_collector_vm_name(env.c, pid, vms[i].name, sizeof(vms[i].name)) < 0)
			return NULL;
		vms[i].used = true;
		vms[i].pid = pid;
	}
	return vms[i].name;
}

static void vm_forget(__u32 pid)
{
	if (vms[pid % 256].pid == pid)
		vms[pid % 256].used = false;
}

static __s64 event_ret(const struct vfs_event_hdr *ev)
{
	switch (ev->type) {
	case VFS_EV_IOCTL: return ((const struct vfs_ev_ioctl *)ev)->ret;
	case VFS_EV_MIG_ARC: return ((const struct vfs_ev_mig_arc *)ev)->ret;
	case VFS_EV_MIG_DATA: return ((const struct vfs_ev_mig_data *)ev)->ret;
	case VFS_EV_MIG_PRECOPY: return ((const struct vfs_ev_mig_precopy *)ev)->ret;
	case VFS_EV_MDEV: return ((const struct vfs_ev_mdev *)ev)->ret;
	case VFS_EV_REGION: return ((const struct vfs_ev_region *)ev)->ret;
	case VFS_EV_VDPA: return ((const struct vfs_ev_vdpa *)ev)->ret;
	case VFS_EV_DMA: return ((const struct vfs_ev_dma *)ev)->ret;
	case VFS_EV_MIG_REQ: return ((const struct vfs_ev_mig_arc *)ev)->ret;
	case VFS_EV_RESET: return ((const struct vfs_ev_reset *)ev)->ret;
	}
	return 0;
}

/*
 * -D: the event's own device fields (a VFIO device's BDF or mdev UUID, an
 * mdev's UUID and parent, a vDPA device's name), not its whole text line,
 * where a process name or a number could match too.
 */
static bool device_matches(const struct vfs_event_hdr *ev, size_t size)
{
	static const char *const keys[] = { "device", "uuid", "parent" };
	struct json_object *o = vfs_event_json(ev, size, namer, NULL), *v;
	bool hit = false;
	size_t i;

	for (i = 0; o && !hit && i < sizeof(keys) / sizeof(keys[0]); i++)
		hit = json_object_object_get_ex(o, keys[i], &v) &&
		      strstr(json_object_get_string(v), env.device);
	json_object_put(o);
	return hit;
}

static void show_event(const struct vfs_event_hdr *ev, size_t size)
{
	char line[1024], comm[4 * VFS_COMM_LEN];
	double t;

	if (!(env.classes & VFS_STREAM(ev->type)))
		return;
	/* an IOMMU fault's process is the faulting device's owner, or 0 */
	if (env.pid && ev->tgid != env.pid)
		return;
	if (env.errors_only && event_ret(ev) >= 0)
		return;
	if (vfs_event_text(ev, size, namer, NULL, line, sizeof(line)) < 0)
		return;
	if (env.device && !device_matches(ev, size))
		return;
	env.printed++;
	if (env.json) {
		struct json_object *o = vfs_event_json(ev, size, namer, NULL);
		const char *vm = vm_of(ev->tgid);

		if (o) {
			if (vm)
				json_object_object_add(o, "vm", vfs_json_text(vm, (size_t)-1));
			/* wall-clock time too, so recordings of two hosts can be joined */
			json_object_object_add(o, "realtime_ns", json_object_new_int64(
				(__s64)ev->ts_ns + env.realtime_offset_ns));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		}
		return;
	}
	/* the process names itself: no escape sequence of its own reaches the terminal */
	vfs_safe_text(comm, sizeof(comm), ev->comm, sizeof(ev->comm), VFS_SAFE_ESCAPE);
	if (ev->type == VFS_EV_IOMMU_FAULT) {
		/* the owner's name (its own text, escaped): the interrupt ran on nobody's behalf */
		const char *vm = vm_of(ev->tgid);

		vfs_safe_text(comm, sizeof(comm), vm ? vm : "-", (size_t)-1, VFS_SAFE_ESCAPE);
	}
	if (env.wall) {
		__s64 rt = (__s64)ev->ts_ns + env.realtime_offset_ns;
		time_t sec = rt / 1000000000;
		char hms[16];
		struct tm tm;

		strftime(hms, sizeof(hms), "%H:%M:%S", localtime_r(&sec, &tm));
		printf("%s.%06lld %-7u %-15s %s\n", hms, (long long)(rt % 1000000000) / 1000,
		       ev->tgid, comm, line);
		return;
	}
	t = (double)(ev->ts_ns - env.start_ns) / 1e9;
	printf("%-10.6f %-7u %-15s %s\n", t, ev->tgid, comm, line);
}

static int on_event(void *user, const struct vfs_event_hdr *ev, size_t size)
{
	show_event(ev, size);
	if (ev->type == VFS_EV_VM_EXIT)
		vm_forget(ev->tgid);
	return 0;
}

static void report_losses(__u64 *last, bool final)
{
	__u64 d[VFS_DROP_MAX];
	int i;

	if (vfs_collector_drops(env.c, d))
		return;
	for (i = 0; i < VFS_DROP_MAX; i++) {
		if (d[i] == last[i] && !(final && d[i]))
			continue;
		if (env.json && !final)
			printf("{\"event\":\"lost\",\"reason\":\"%s\",\"count\":%llu}\n",
			       vfs_drop_name(i), (unsigned long long)(d[i] - last[i]));
		else if (!final)
			fprintf(stderr, "vfiosnoop: LOST %llu (%s)%s\n",
				(unsigned long long)(d[i] - last[i]), vfs_drop_name(i),
				i == VFS_DROP_RINGBUF ? ": the ring buffer was full, raise "
				"--ringbuf or filter" : "");
		else
			fprintf(stderr, "vfiosnoop: lost in all: %llu (%s)\n",
				(unsigned long long)d[i], vfs_drop_name(i));
		last[i] = d[i];
	}
}

/* asked-for events this kernel cannot produce: say so, never show silence */
static void report_unavailable(void)
{
	static const struct { __u32 type; enum vfs_class cls; } only_tp[] = {
		{ VFS_EV_DMA, VFS_CLASS_DMA_RESULT },
		{ VFS_EV_MIG_REQ, VFS_CLASS_MIG_REQUEST },
	};
	size_t i;

	for (i = 0; i < sizeof(only_tp) / sizeof(only_tp[0]); i++) {
		const struct vfs_tier_choice *t = vfs_collector_tier(env.c, only_tp[i].cls);

		if ((env.classes & VFS_STREAM(only_tp[i].type)) && t->tier == VFS_TIER_NONE)
			fprintf(stderr, "vfiosnoop: %s: %s\n", vfs_class_name(only_tp[i].cls),
				t->reason);
	}
}

/* -c: the events to stream (@out) and the collector classes they need (@cls) */
static int parse_classes(const char *arg, __u32 *out, __u32 *cls)
{
	static const struct { const char *name; __u32 bits, cls; } map[] = {
		{ "ioctl", VFS_STREAM(VFS_EV_IOCTL), VFS_CLASS_BIT(VFS_CLASS_IOCTL) },
		{ "region", VFS_STREAM(VFS_EV_REGION), VFS_CLASS_BIT(VFS_CLASS_REGION) },
		{ "migration", VFS_STREAM(VFS_EV_MIG_ARC) | VFS_STREAM(VFS_EV_MIG_DATA) |
			       VFS_STREAM(VFS_EV_MIG_PRECOPY),
		  VFS_CLASS_BIT(VFS_CLASS_MIG_ARC) | VFS_CLASS_BIT(VFS_CLASS_MIG_DATA) },
		{ "mdev", VFS_STREAM(VFS_EV_MDEV), VFS_CLASS_BIT(VFS_CLASS_MDEV) },
		{ "vdpa", VFS_STREAM(VFS_EV_VDPA),
		  VFS_CLASS_BIT(VFS_CLASS_VDPA_DEV) | VFS_CLASS_BIT(VFS_CLASS_VDPA_VQ) },
		{ "vm", VFS_STREAM(VFS_EV_VM_EXIT), VFS_CLASS_BIT(VFS_CLASS_IOCTL) },
		{ "dma", VFS_STREAM(VFS_EV_DMA), VFS_CLASS_BIT(VFS_CLASS_DMA_RESULT) },
		{ "mig-request", VFS_STREAM(VFS_EV_MIG_REQ), VFS_CLASS_BIT(VFS_CLASS_MIG_REQUEST) },
		{ "reset", VFS_STREAM(VFS_EV_RESET), VFS_CLASS_BIT(VFS_CLASS_RESET) },
		{ "fault", VFS_STREAM(VFS_EV_IOMMU_FAULT), VFS_CLASS_BIT(VFS_CLASS_IOMMU_FAULT) },
	};
	char *s = strdup(arg), *tok, *save;
	size_t i;

	*out = *cls = 0;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcmp(tok, map[i].name))
				break;
		if (i == sizeof(map) / sizeof(map[0])) {
			fprintf(stderr, "vfiosnoop: unknown class '%s' "
				"(ioctl, region, migration, mdev, vdpa, vm, dma, mig-request, reset, "
				"fault)\n", tok);
			free(s);
			return -1;
		}
		*out |= map[i].bits;
		*cls |= map[i].cls;
	}
	free(s);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vfiosnoop [-p PID] [-D DEVICE] [-c CLASSES] [-x] [-j] [-T] [-d SECONDS]\n"
		"                 [--features] [collector options]\n"
		"Trace VFIO, mdev, migration and vDPA events as they happen.\n\n"
		"  -p PID        only this process (a VM)\n"
		"  -D DEVICE     only events whose device (BDF, mdev UUID or parent, vDPA\n"
		"                name) contains DEVICE\n"
		"  -c CLASSES    comma list of ioctl,region,migration,mdev,vdpa,vm (VM\n"
		"                exits),reset (PCI device resets),fault (IOMMU faults),dma,\n"
		"                mig-request (default all; the last two need the kernel\n"
		"                tracepoint series: --features says whether they are here);\n"
		"                only their collectors are loaded\n"
		"  -x            only failed calls\n"
		"  -j            one JSON object per line\n"
		"  -T            wall-clock time of day (HH:MM:SS.ffffff) instead of seconds\n"
		"                since start (-j always has realtime_ns)\n"
		"  -d SECONDS    stop after SECONDS\n"
		"  --features    which tier serves each event class here, and why\n"
		VFS_CLI_VERSION_USAGE "\n"
		"examples:\n"
		"  vfiosnoop -x                 # every VFIO call that failed, with errno\n"
		"  vfiosnoop -D 0000:00:03.0    # one device\n"
		"  vfiosnoop -c migration -j    # migration arcs as NDJSON\n\n"
		"Loads its own probes unless --shared: a pinned set's event stream has\n"
		"one reader at a time.\n"
		VFS_CLI_COLLECTOR_USAGE);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "features", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		VFS_CLI_COLLECTOR_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct vfs_collector_opts o = { 0 };
	__u64 v, secs = 0, last[VFS_DROP_MAX] = { 0 };
	int opt, err, features = 0;
	char msg[256] = "";
	struct timespec ts;
	time_t until = 0;

	env.classes = ~0u;
	env.obj_fd = -1;
	if (vfs_cli_version(argc, argv, "vfiosnoop", ":p:D:c:xjTd:vh", opts))
		return 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:D:c:xjTd:vh", opts, NULL)) != -1) {
		err = vfs_cli_collector_opt(opt, optarg, &o, msg, sizeof(msg));
		if (err < 0)
			goto bad;
		if (err)
			continue;
		switch (opt) {
		case 'p':
			if (vfs_parse_u64("-p", optarg, 1, 4194304, 0, &v, msg, sizeof(msg)))
				goto bad;
			env.pid = v;
			break;
		case 'D':
			env.device = optarg;
			break;
		case 'c':
			if (parse_classes(optarg, &env.classes, &o.classes))
				return 2;
			break;
		case 'x':
			env.errors_only = true;
			break;
		case 'j':
			env.json = true;
			break;
		case 'T':
			env.wall = true;
			break;
		case 'd':
			if (vfs_parse_u64("-d", optarg, 1, 86400, 0, &secs, msg, sizeof(msg)))
				goto bad;
			break;
		case 'F':
			features = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			vfs_cli_bad_option(opt, argv, msg, sizeof(msg));
			goto bad;
		}
	}
	if (optind != argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s' (see --help)", argv[optind]);
		goto bad;
	}
	err = vfs_collector_open(&env.c, &o, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "vfiosnoop: %s\n", msg);
		return 1;
	}
	if (features) {
		vfs_collector_print_features(env.c, stdout);
		vfs_collector_close(env.c);
		return 0;
	}
	env.obj_fd = vfs_collector_map_fd(env.c, "obj_info");
	vfs_collector_stream(env.c, env.classes);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	env.start_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	env.realtime_offset_ns = vfs_realtime_offset_ns();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (secs)
		until = time(NULL) + secs;
	report_unavailable();
	if (!env.json)
		printf(env.wall ? "%-15s %-7s %-15s %s\n" : "%-10s %-7s %-15s %s\n",
		       env.wall ? "TIME" : "TIME(s)", "PID", "COMM", "EVENT");
	fflush(stdout);
	fprintf(stderr, "vfiosnoop: attached\n");
	while (!exiting && (!until || time(NULL) < until)) {
		err = vfs_collector_poll(env.c, 100, on_event, NULL);
		if (err == -EBUSY) {
			fprintf(stderr, "vfiosnoop: the pinned collectors' event stream is read by "
				"pid %d: run without --shared for a stream of our own\n",
				vfs_collector_stream_holder(env.c));
			vfs_collector_close(env.c);
			return 1;
		}
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "vfiosnoop: reading events: %s\n",
				vfs_collector_stream_error(env.c)[0] ?
				vfs_collector_stream_error(env.c) : strerror(-err));
			break;
		}
		report_losses(last, false);
		fflush(stdout);
		if (vfs_cli_rescan(env.c, "vfiosnoop") > 0)
			env.obj_fd = vfs_collector_map_fd(env.c, "obj_info");
	}
	vfs_collector_poll(env.c, 0, on_event, NULL);
	report_losses(last, true);
	fprintf(stderr, "vfiosnoop: %lu events shown\n", env.printed);
	vfs_collector_close(env.c);
	return 0;
bad:
	fprintf(stderr, "vfiosnoop: %s\n", msg);
	return 2;
}
