// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include "cmds.h"
#include "vx.h"

int cmd_info(int argc, char **argv)
{
	struct vx_dev d;

	if (argc != 2)
		die("usage: vfio-exercise info DEVICE");
	vx_open(&d, argv[1]);
	printf("device %s\n", argv[1]);
	printf("device_flags 0x%x%s%s%s\n", d.info.flags,
	       d.info.flags & VFIO_DEVICE_FLAGS_PCI ? " pci" : "",
	       d.info.flags & VFIO_DEVICE_FLAGS_RESET ? " reset" : "",
	       d.info.flags & VFIO_DEVICE_FLAGS_PLATFORM ? " platform" : "");
	printf("regions %u\nirqs %u\n", d.info.num_regions, d.info.num_irqs);
	vx_walk(&d, stdout);
	vx_close(&d);
	return 0;
}
