/* SPDX-License-Identifier: GPL-2.0 */
/* vfio-exercise commands: one function per command, argv[0] = its name */
#ifndef VX_CMDS_H
#define VX_CMDS_H

struct vx_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

int cmd_info(int argc, char **argv);
int cmd_edu_dma(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_mdacc_jobs(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_dma(int argc, char **argv);
int cmd_dma_rate(int argc, char **argv);
int cmd_dma_race(int argc, char **argv);
int cmd_ioctls(int argc, char **argv);
int cmd_vhost_kick(int argc, char **argv);
int cmd_reset(int argc, char **argv);

#endif
