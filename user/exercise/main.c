// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-exercise: drive VFIO devices through the uAPI the way a VMM does and
 * print exactly what was done, one fact per line ("pid", "ioctl <pid> <kind>
 * <name> <count>", "dma_map_bytes", ...): the ground truth vfioscope's
 * integration tests compare against, and a tool for driver developers.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include "cli.h"
#include "cmds.h"

static const struct vx_cmd cmds[] = {
	{ "info", cmd_info, "info DEVICE\n\tdescribe DEVICE (PCI BDF or mdev UUID): flags, regions, IRQs" },
	{ "check", cmd_check, "check DEVICE\n"
	  "\tconformance walk of DEVICE's driver: regions, bad arguments, IRQs, reset, migration FSM" },
	{ "migrate", cmd_migrate, "migrate SRC DST [SRC2 DST2 ...] [--workload W[,W2...]]\n"
	  "\t[--precopy|--force-precopy] [--p2p] [--seed N] [--delay-stop-copy MS[,MS2...]]\n"
	  "\t[--delay-resume MS[,MS2...]]\n"
	  "\tVFIO migration v2 of SRC to DST, one timestamped line per FSM arc; several\n"
	  "\tpairs migrate together as one VM's devices (lists: one value per pair)" },
	{ "mdacc-jobs", cmd_mdacc_jobs, "mdacc-jobs UUID -n N [-r RATE_PER_S] [-d SECONDS] [-q DEPTH] [-s SEED] [--irq]\n\tsubmit N seeded COPY/XOR/FILL jobs to an mdacc mdev (for at most SECONDS, at most DEPTH outstanding), wait, verify every byte" },
	{ "vhost-kick", cmd_vhost_kick, "vhost-kick NODE [-n KICKS] [-q QID] [-o]\n\town vhost-vdpa NODE like a VMM, give queue QID an eventfd kick, have a child signal it KICKS times (-o: NODE opened by another process and the fd passed over a unix socket, as libvirtd does)" },
	{ "ioctls", cmd_ioctls, "ioctls DEVICE [--cmd KIND] [-n K] [--time]\n"
	  "\tK ioctls of one kind (get-info, region-info, irq-info, group-status,\n"
	  "\tcheck-extension, api-version, unknown, map-unmap, hostile: undefined\n"
	  "\tand foreign commands on every fd) as fast as the kernel\n"
	  "\tanswers; --time: after K/10 untimed, print the loop's ns_per_op" },
	{ "dma", cmd_dma, "dma DEVICE [-n COUNT] [--size BYTES] [--hold SECONDS] [--wait]\n"
	  "\tmap COUNT buffers for DMA (type1 pins them), hold, unmap" },
	{ "dma-rate", cmd_dma_rate, "dma-rate DEVICE [--seconds S] [--window-ms W] [--wait]\n"
	  "\tmap and unmap one page as fast as allowed for S seconds; accepted and EAGAIN per window" },
	{ "dma-race", cmd_dma_race, "dma-race DEVICE [--seconds S] [--wait]\n"
	  "\tdma-rate's loop while a thread rewrites the MAP_DMA argument and another swaps\n"
	  "\tand closes the container fd; every call allowed or refused (EAGAIN) is counted" },
	{ "reset", cmd_reset, "reset DEVICE [-n N] [--hot] [--hold SECONDS]\n"
	  "\topen DEVICE, VFIO_DEVICE_RESET it N times (--hot: VFIO_DEVICE_PCI_HOT_RESET\n"
	  "\twith its own group), hold, close; each request's result and duration" },
	{ "edu-dma", cmd_edu_dma, "edu-dma BDF [-n LOOPS] [-s SEED] [-f FAULTS]\n"
	  "\tmap DMA, LOOPS round trips RAM -> edu -> RAM through the IOMMU, FAULTS DMAs\n"
	  "\tfrom unmapped IOVAs (IOMMU faults), unmap" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: vfio-exercise [--name NAME] COMMAND [ARGS]\n"
		"  --name NAME   the process name (comm) to run under, e.g. a VM's name\n"
		"  -h, --help    this text\n"
		"  --version     the version and the BPF ABI version, then exit\n"
		"commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %s\n", cmds[i].usage);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 2 && !strcmp(argv[1], "--name")) {
		/* how observers tell VMs apart when there is no QEMU command line */
		prctl(PR_SET_NAME, argv[2], 0, 0, 0);
		argc -= 2;
		argv += 2;
	}
	/* the commands parse their own options: --version only in front of them */
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		vfs_print_version(stdout, "vfio-exercise");
		return 0;
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vfio-exercise: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
