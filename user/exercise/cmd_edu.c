// SPDX-License-Identifier: GPL-2.0
/* edu-dma: DMA round trips through the vIOMMU on QEMU's edu device */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include "cmds.h"
#include "vx.h"

/* QEMU's edu device (docs/specs/edu.rst): BAR0 registers and a 4 KiB buffer */
#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
/* QEMU 7.2's edu aborts the VM on a DMA of the full 4096 bytes */
#define EDU_DMA_LEN	2048
/* edu's DMA mask is 28 bits */
#define EDU_DMA_MASK	((1ull << 28) - 1)

#define IOVA_BASE	0x100000ull
#define MAP_SIZE	0x100000ull
/* never mapped: -f's DMAs read from here */
#define FAULT_IOVA	0x4000000ull

static void edu_dma(volatile __u8 *bar, __u64 src, __u64 dst, __u64 len, __u64 cmd)
{
	struct timespec t = { 0, 100000 };
	int i;

	*(volatile __u64 *)(bar + EDU_DMA_SRC) = src;
	*(volatile __u64 *)(bar + EDU_DMA_DST) = dst;
	*(volatile __u64 *)(bar + EDU_DMA_CNT) = len;
	*(volatile __u64 *)(bar + EDU_DMA_CMD) = cmd;
	for (i = 0; i < 20000; i++) {
		if (!(*(volatile __u64 *)(bar + EDU_DMA_CMD) & EDU_CMD_START))
			return;
		nanosleep(&t, NULL);
	}
	die("edu DMA did not complete");
}

int cmd_edu_dma(int argc, char **argv)
{
	struct vfio_region_info cfg, bar0;
	unsigned long loops = 1, seed = 1, faults = 0, l, i;
	struct vx_dev d;
	__u8 *mem, *bar;
	__u16 command;
	int opt;

	while ((opt = getopt(argc, argv, "n:s:f:")) != -1) {
		switch (opt) {
		case 'f':
			faults = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			loops = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1)
		die("usage: vfio-exercise edu-dma BDF [-n LOOPS] [-s SEED] [-f FAULTS]");

	vx_open(&d, argv[optind]);
	vx_walk(&d, NULL);

	mem = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	vx_map(&d, mem, IOVA_BASE, MAP_SIZE);

	/* a device does no DMA before the driver enables bus mastering */
	VX_CHECK("config region info", vx_region_info(&d, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	if (vx_region_read(&d, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &command, 2) != 2)
		die("read PCI_COMMAND: %s", strerror(errno));
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (vx_region_write(&d, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &command, 2) != 2)
		die("write PCI_COMMAND: %s", strerror(errno));

	VX_CHECK("BAR0 region info", vx_region_info(&d, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	if (!(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP))
		die("BAR0 of %s cannot be mmapped", d.name);
	bar = vx_region_mmap(&d, VFIO_PCI_BAR0_REGION_INDEX, bar0.size, PROT_READ | PROT_WRITE);
	if (bar == MAP_FAILED)
		die("mmap BAR0: %s", strerror(errno));
	if ((*(volatile __u32 *)(bar + EDU_IDENT) & 0xff) != 0xed)
		die("%s is not an edu device (ident 0x%x)", d.name,
		    *(volatile __u32 *)(bar + EDU_IDENT));

	for (l = 0; l < loops; l++) {
		__u8 *out = mem, *in = mem + MAP_SIZE / 2;

		srandom(seed + l);
		for (i = 0; i < EDU_DMA_LEN; i++) {
			out[i] = random();
			in[i] = ~out[i];
		}
		edu_dma(bar, IOVA_BASE, EDU_BUF, EDU_DMA_LEN, EDU_CMD_START);
		edu_dma(bar, EDU_BUF, (IOVA_BASE + MAP_SIZE / 2) & EDU_DMA_MASK,
			EDU_DMA_LEN, EDU_CMD_START | EDU_CMD_TO_RAM);
		if (memcmp(out, in, EDU_DMA_LEN))
			die("DMA round trip %lu: data mismatch", l);
	}
	/*
	 * -f: DMAs that read an IOVA nothing maps (the IOMMU refuses each and
	 * reports a fault; edu completes the command all the same), one per
	 * page, 20 ms apart so the kernel has handled a fault before the next
	 */
	for (l = 0; l < faults; l++) {
		struct timespec gap = { 0, 20000000 };

		edu_dma(bar, (FAULT_IOVA + l * 0x1000) & EDU_DMA_MASK, EDU_BUF, 8, EDU_CMD_START);
		nanosleep(&gap, NULL);
	}
	vx_unmap(&d, IOVA_BASE, MAP_SIZE);
	munmap(bar, bar0.size);
	vx_close(&d);

	vx_print_summary(stdout);
	printf("dma_roundtrips %lu\n", loops);
	printf("dma_faults %lu\n", faults);
	if (faults)
		printf("fault_iova 0x%llx\n", FAULT_IOVA);
	return 0;
}
