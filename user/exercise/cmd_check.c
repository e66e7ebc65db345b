// SPDX-License-Identifier: GPL-2.0
/*
 * check: a conformance walk of a VFIO device driver, for driver developers.
 * It asks what a VMM would ask and reports, one line each, what the driver
 * gets wrong:
 *
 *   ok <what>
 *   FAIL <what>: <why>
 *   note <what>
 *   check: <n> ok, <n> failed
 *
 * Device info, every region (sizes, flags, BAR sizes against config space,
 * accesses past the end, mmap), bad arguments (unknown ioctl, bad region
 * and IRQ indexes), every IRQ index (eventfd trigger fired through a
 * DATA_NONE test trigger), reset, and for drivers with migration ops the
 * v2 state machine: every mandatory arc, a save/restore round trip on the
 * device itself, and arcs that must be refused. Exit status 0 when nothing
 * failed, 1 otherwise.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include "cmds.h"
#include "event_fmt.h"
#include "vx.h"

static int n_ok, n_fail;

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ok ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	n_ok++;
}

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	n_fail++;
}

#define expect(cond, ...) do { if (cond) ok(__VA_ARGS__); else bad(__VA_ARGS__); } while (0)

static const char *region_name(__u32 i)
{
	static const char *const names[] = {
		"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
	};

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "device-specific";
}

/* a BAR's size as the PCI config space reports it (write all-ones probing) */
static __u64 config_bar_size(struct vx_dev *d, __u64 cfg_off, int bar)
{
	__u32 orig, mask, ones = 0xffffffff;
	off_t off = cfg_off + PCI_BASE_ADDRESS_0 + 4 * bar;

	if (pread(d->device, &orig, 4, off) != 4)
		return 0;
	if (pwrite(d->device, &ones, 4, off) != 4)
		return 0;
	if (pread(d->device, &mask, 4, off) != 4)
		return 0;
	if (pwrite(d->device, &orig, 4, off) != 4)
		return 0;
	if (orig & PCI_BASE_ADDRESS_SPACE_IO)
		mask &= PCI_BASE_ADDRESS_IO_MASK;
	else
		mask &= PCI_BASE_ADDRESS_MEM_MASK;
	if (!mask)
		return 0;
	/* 64-bit BARs: the upper half would have to be probed too */
	return (__u64)(~mask + 1);
}

static void check_regions(struct vx_dev *d)
{
	struct vfio_region_info ri, cfg;
	int is_pci = d->info.flags & VFIO_DEVICE_FLAGS_PCI;
	__u8 byte;
	__u32 i;
	long r;

	if (is_pci) {
		expect(d->info.num_regions >= VFIO_PCI_NUM_REGIONS,
		       "PCI device reports %u regions (at least %d)", d->info.num_regions,
		       VFIO_PCI_NUM_REGIONS);
		expect(d->info.num_irqs >= VFIO_PCI_NUM_IRQS,
		       "PCI device reports %u IRQ indexes (at least %d)", d->info.num_irqs,
		       VFIO_PCI_NUM_IRQS);
	}
	r = vx_region_info(d, d->info.num_regions + 7, &ri);
	expect(r == -EINVAL, "GET_REGION_INFO for index %u (past num_regions) answers EINVAL (got %s)",
	       d->info.num_regions + 7, r ? strerror((int)-r) : "success");

	if (is_pci) {
		r = vx_region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
		if (r || cfg.size < 256) {
			bad("config region: %s, size 0x%llx (a PCI device needs >= 256 bytes)",
			    r ? strerror((int)-r) : "present", (unsigned long long)cfg.size);
			is_pci = 0;
		} else {
			__u16 ids[2];

			expect(pread(d->device, ids, 4, cfg.offset) == 4,
			       "config space reads (vendor 0x%04x device 0x%04x)", ids[0], ids[1]);
		}
	}

	for (i = 0; i < d->info.num_regions; i++) {
		r = vx_region_info(d, i, &ri);
		if (r == -EINVAL) {
			printf("note region %u (%s) absent\n", i, region_name(i));
			continue;
		}
		if (r) {
			bad("GET_REGION_INFO %u (%s): %s", i, region_name(i), strerror((int)-r));
			continue;
		}
		if (!ri.size) {
			printf("note region %u (%s) size 0\n", i, region_name(i));
			continue;
		}
		if (!(ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)))
			bad("region %u (%s) of size 0x%llx is neither readable nor writable", i,
			    region_name(i), (unsigned long long)ri.size);
		if (ri.flags & VFIO_REGION_INFO_FLAG_READ) {
			r = pread(d->device, &byte, 1, ri.offset);
			expect(r == 1, "region %u (%s) reads at offset 0", i, region_name(i));
			r = pread(d->device, &byte, 1, ri.offset + ri.size);
			expect(r <= 0, "region %u (%s) refuses a read past its end (size 0x%llx)",
			       i, region_name(i), (unsigned long long)ri.size);
		}
		if (is_pci && i <= VFIO_PCI_BAR5_REGION_INDEX) {
			__u64 sz = config_bar_size(d, cfg.offset, i);

			expect(sz == ri.size,
			       "region %u (%s) size 0x%llx matches the BAR size in config space (0x%llx)",
			       i, region_name(i), (unsigned long long)ri.size,
			       (unsigned long long)sz);
		}
		if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP &&
		    !(ri.flags & VFIO_REGION_INFO_FLAG_CAPS)) {
			void *p = mmap(NULL, ri.size, PROT_READ, MAP_SHARED, d->device, ri.offset);

			expect(p != MAP_FAILED, "region %u (%s) advertises mmap and mmaps", i,
			       region_name(i));
			if (p != MAP_FAILED)
				munmap(p, ri.size);
		}
	}
}

static void check_bad_ioctls(struct vx_dev *d)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = d->info.num_irqs + 3 };
	struct vfio_device_info small = { .argsz = 4 };
	long r;

	r = vx_ioctl(VFS_FD_DEVICE, d->device, _IO(VFIO_TYPE, VFIO_BASE + 63), NULL);
	expect(r == -ENOTTY || r == -EINVAL, "an unknown ioctl answers ENOTTY/EINVAL (got %s)",
	       r ? strerror((int)-r) : "success");
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	expect(r == -EINVAL, "GET_IRQ_INFO for a bad index answers EINVAL (got %s)",
	       r ? strerror((int)-r) : "success");
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_INFO, &small);
	expect(r == -EINVAL, "GET_INFO with a too small argsz answers EINVAL (got %s)",
	       r ? strerror((int)-r) : "success");
}

/* SET_IRQS with an eventfd for vector 0, then a DATA_NONE test trigger */
static void check_irq(struct vx_dev *d, __u32 index)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = index };
	struct {
		struct vfio_irq_set s;
		__s32 fd;
	} set;
	struct vfio_irq_set trig = {
		.argsz = sizeof(trig),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index, .start = 0, .count = 1,
	};
	struct vfio_irq_set off = {
		.argsz = sizeof(off),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index, .start = 0, .count = 0,
	};
	struct pollfd pfd;
	__u64 v;
	long r;
	int efd;

	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_GET_IRQ_INFO, &ii);
	if (r) {
		bad("GET_IRQ_INFO %u: %s", index, strerror((int)-r));
		return;
	}
	if (!ii.count) {
		printf("note IRQ index %u has no vectors\n", index);
		return;
	}
	if (!(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
		bad("IRQ index %u has %u vectors but no eventfd signalling", index, ii.count);
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	set.s = (struct vfio_irq_set) {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index, .start = 0, .count = 1,
	};
	set.fd = efd;
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_SET_IRQS, &set);
	if (r) {
		bad("IRQ index %u: SET_IRQS eventfd trigger: %s", index, strerror((int)-r));
		close(efd);
		return;
	}
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_SET_IRQS, &trig);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (r)
		bad("IRQ index %u: DATA_NONE test trigger: %s", index, strerror((int)-r));
	else
		expect(poll(&pfd, 1, 1000) == 1 && read(efd, &v, 8) == 8,
		       "IRQ index %u: a test trigger signals the eventfd", index);
	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_SET_IRQS, &off);
	expect(!r, "IRQ index %u: disabling the trigger works%s%s", index, r ? ": " : "",
	       r ? strerror((int)-r) : "");
	close(efd);
}

/* ------------------------------------------------------------ migration */
/* an arc that must succeed; returns 0 when it did */
static int arc_ok(struct vx_dev *d, __u32 from, __u32 to, int *fd)
{
	long r = vx_mig_set_state(d, to, fd);

	if (r) {
		bad("arc %s -> %s failed: %s", vfs_mig_state_name(from), vfs_mig_state_name(to), strerror((int)-r));
		return -1;
	}
	ok("arc %s -> %s", vfs_mig_state_name(from), vfs_mig_state_name(to));
	return 0;
}

static void arc_refused(struct vx_dev *d, __u32 from, __u32 to, const char *why)
{
	long r = vx_mig_set_state(d, to, NULL);
	__u32 now;

	expect(r == -EINVAL, "arc %s -> %s refused with EINVAL (%s) (got %s)", vfs_mig_state_name(from),
	       vfs_mig_state_name(to), why, r ? strerror((int)-r) : "success");
	if (!r || (!vx_mig_get_state(d, &now) && now != from)) {
		/* back to where the walk expects the device */
		vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_RESET, NULL);
		vx_mig_set_state(d, from, NULL);
	}
}

static ssize_t read_all(int fd, __u8 **out)
{
	size_t len = 0, cap = 0;
	__u8 *buf = NULL;
	ssize_t n;

	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				die("out of memory");
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	*out = buf;
	return n < 0 ? -errno : (ssize_t)len;
}

static void check_migration(struct vx_dev *d)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_migration m;
	} req = {
		.f.argsz = sizeof(req),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	};
	__u8 *saved = NULL;
	ssize_t len, w;
	__u32 st;
	long r;
	int fd;

	r = vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_FEATURE, &req);
	if (r == -ENOTTY || r == -EINVAL) {
		printf("note migration: not supported by this driver (%s)\n", strerror((int)-r));
		return;
	}
	if (r) {
		bad("VFIO_DEVICE_FEATURE(MIGRATION): %s", strerror((int)-r));
		return;
	}
	printf("note migration flags 0x%llx%s%s%s\n", (unsigned long long)req.m.flags,
	       req.m.flags & VFIO_MIGRATION_STOP_COPY ? " stop_copy" : "",
	       req.m.flags & VFIO_MIGRATION_P2P ? " p2p" : "",
	       req.m.flags & VFIO_MIGRATION_PRE_COPY ? " pre_copy" : "");
	if (!(req.m.flags & VFIO_MIGRATION_STOP_COPY)) {
		bad("migration flags lack the mandatory VFIO_MIGRATION_STOP_COPY");
		return;
	}
	r = vx_mig_get_state(d, &st);
	expect(!r && st == VFIO_DEVICE_STATE_RUNNING, "a newly opened device is RUNNING (%s)",
	       r ? strerror((int)-r) : vfs_mig_state_name(st));

	if (arc_ok(d, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_STOP, NULL) ||
	    arc_ok(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING, NULL) ||
	    arc_ok(d, VFIO_DEVICE_STATE_RUNNING, VFIO_DEVICE_STATE_STOP, NULL))
		goto reset;
	if (arc_ok(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_STOP_COPY, &fd))
		goto reset;
	if (fd < 0) {
		bad("arc STOP -> STOP_COPY returned no data fd");
		goto reset;
	}
	len = read_all(fd, &saved);
	close(fd);
	expect(len > 0, "STOP_COPY data reads to end of stream (%zd bytes)", len);
	if (len <= 0 || arc_ok(d, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP, NULL))
		goto reset;
	if (arc_ok(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RESUMING, &fd))
		goto reset;
	w = write(fd, saved, len);
	expect(w == len, "RESUMING accepts the device's own saved state (%zd of %zd bytes)", w, len);
	close(fd);
	if (arc_ok(d, VFIO_DEVICE_STATE_RESUMING, VFIO_DEVICE_STATE_STOP, NULL))
		goto reset;

	/* garbage must be refused: by the write or by leaving RESUMING */
	if (!arc_ok(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RESUMING, &fd)) {
		__u8 junk[64];

		memset(junk, 0xa5, sizeof(junk));
		w = write(fd, junk, sizeof(junk));
		close(fd);
		r = w < 0 ? -errno : vx_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
		expect(r < 0, "RESUMING rejects a corrupt state stream (%s)",
		       r < 0 ? strerror((int)-r) : "accepted");
		if (r < 0)
			vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_RESET, NULL);
		vx_mig_get_state(d, &st);
		if (st != VFIO_DEVICE_STATE_STOP)
			vx_mig_set_state(d, VFIO_DEVICE_STATE_STOP, NULL);
	}

	if (!(req.m.flags & VFIO_MIGRATION_PRE_COPY))
		arc_refused(d, VFIO_DEVICE_STATE_STOP, VX_STATE_PRE_COPY, "no PRE_COPY support");
	if (!(req.m.flags & VFIO_MIGRATION_P2P))
		arc_refused(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING_P2P, "no P2P support");
	arc_refused(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_ERROR, "ERROR is not settable");
	arc_refused(d, VFIO_DEVICE_STATE_STOP, 42, "no such state");
	if (arc_ok(d, VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING, NULL))
		goto reset;

	if (req.m.flags & VFIO_MIGRATION_PRE_COPY) {
		struct vfio_precopy_info pi = { .argsz = sizeof(pi) };

		if (arc_ok(d, VFIO_DEVICE_STATE_RUNNING, VX_STATE_PRE_COPY, &fd))
			goto reset;
		r = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &pi) ? -errno : 0;
		expect(!r && pi.initial_bytes > 0,
		       "PRE_COPY: GET_PRECOPY_INFO reports initial bytes (%s, %llu)",
		       r ? strerror((int)-r) : "ok", (unsigned long long)pi.initial_bytes);
		close(fd);
		if (arc_ok(d, VX_STATE_PRE_COPY, VFIO_DEVICE_STATE_RUNNING, NULL))
			goto reset;
	}
	free(saved);
	return;
reset:
	free(saved);
	vx_mig_get_state(d, &st);
	printf("note migration walk stopped in state %s; resetting\n", vfs_mig_state_name(st));
	vx_ioctl(VFS_FD_DEVICE, d->device, VFIO_DEVICE_RESET, NULL);
}

int cmd_check(int argc, char **argv)
{
	struct vx_dev d;
	__u32 i;
	long r;

	if (argc != 2)
		die("usage: vfio-exercise check DEVICE");
	vx_open(&d, argv[1]);
	printf("note device %s flags 0x%x regions %u irqs %u\n", argv[1], d.info.flags,
	       d.info.num_regions, d.info.num_irqs);
	check_regions(&d);
	check_bad_ioctls(&d);
	for (i = 0; i < d.info.num_irqs; i++) {
		/* vfio-pci's ERR and REQ indexes signal errors and unplug requests */
		if (d.info.flags & VFIO_DEVICE_FLAGS_PCI && i > VFIO_PCI_MSIX_IRQ_INDEX)
			continue;
		check_irq(&d, i);
	}
	if (d.info.flags & VFIO_DEVICE_FLAGS_RESET) {
		r = vx_ioctl(VFS_FD_DEVICE, d.device, VFIO_DEVICE_RESET, NULL);
		expect(!r, "VFIO_DEVICE_RESET (advertised) works%s%s", r ? ": " : "",
		       r ? strerror((int)-r) : "");
	} else {
		printf("note device does not advertise reset\n");
	}
	check_migration(&d);
	vx_close(&d);
	printf("check: %d ok, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
