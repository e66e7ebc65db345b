// SPDX-License-Identifier: GPL-2.0
/*
 * fill-maps: make bench's synthetic fleet. Writes VMS virtual machines
 * with DEVS VFIO devices between them (each used with four ioctl
 * commands) into a pinned collector set, so that vfio-policyd's /metrics
 * and vfiotop can be measured at fleet size in a bench guest that has
 * three real devices. The entries use tgids from 4000000 up (above
 * pid_max's default, no live process) and made-up device addresses; the
 * layouts are bpf/abi.h's, the same the collectors write.
 *
 * usage: fill-maps PIN_DIR VMS DEVS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "abi.h"

static int open_map(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/map-%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "fill-maps: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void put(int fd, const void *key, const void *val, const char *what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
		fprintf(stderr, "fill-maps: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const __u32 cmds[] = { VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_SET_IRQS,
				      VFIO_DEVICE_FEATURE, VFIO_DEVICE_RESET };
	int ncpu = libbpf_num_possible_cpus();
	int vm_info, vm_stats, obj_info, ioctl_stats;
	struct vfs_vm_val *vmv;
	struct vfs_cmd_val *cv;
	unsigned int vms, devs, i, k;

	if (argc != 4 || (vms = atoi(argv[2])) < 1 || vms > 100000 ||
	    (devs = atoi(argv[3])) < vms || devs > 65536) {
		fprintf(stderr, "usage: fill-maps PIN_DIR VMS DEVS (1 <= VMS <= DEVS <= 65536)\n");
		return 2;
	}
	vm_info = open_map(argv[1], "vm_info");
	vm_stats = open_map(argv[1], "vm_stats");
	obj_info = open_map(argv[1], "obj_info");
	ioctl_stats = open_map(argv[1], "ioctl_stats");
	vmv = calloc(ncpu, sizeof(*vmv));
	cv = calloc(ncpu, sizeof(*cv));
	if (!vmv || !cv)
		return 1;

	for (i = 0; i < vms; i++) {
		__u32 tgid = 4000000 + i;
		struct vfs_vm_info info = { .first_ns = 1, .locked_pages = 1024 * (i + 1) };

		snprintf(info.comm, sizeof(info.comm), "bench-vm-%u", i % 100000);
		vmv[0].dma_map_ops = 100 + i;
		vmv[0].dma_map_bytes = (100 + i) * 2097152ull;
		vmv[0].irq_set_calls = 4;
		put(vm_info, &tgid, &info, "vm_info");
		put(vm_stats, &tgid, vmv, "vm_stats");
	}
	for (i = 0; i < devs; i++) {
		__u64 obj = 0xffff888100000000ull + (__u64)i * 0x2000;
		struct vfs_obj_info o = {
			.first_ns = 1, .owner_tgid = 4000000 + i % vms,
			.kind = VFS_FD_DEVICE, .group_id = 100 + i,
		};

		snprintf(o.name, sizeof(o.name), "0000:%02x:%02x.%u", 0x80 + i / 256,
			 (i / 8) % 32, i % 8);
		put(obj_info, &obj, &o, "obj_info");
		for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
			struct vfs_cmd_key key = {
				.obj = obj, .tgid = o.owner_tgid, .cmd = cmds[k], .kind = VFS_FD_DEVICE,
			};

			cv[0].count = 10 + k;
			cv[0].lat_sum_ns = cv[0].count * 5000;
			cv[0].lat_max_ns = 9000;
			cv[0].hist[12] = cv[0].count;
			put(ioctl_stats, &key, cv, "ioctl_stats");
		}
	}
	printf("filled %u VMs, %u devices, %u ioctl entries\n", vms, devs,
	       devs * (unsigned int)(sizeof(cmds) / sizeof(cmds[0])));
	return 0;
}
