/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-exercise migrate: VFIO migration v2 of a source device to a
 * destination device, driver-agnostic (cmd_migrate.c), with a per-device
 * workload that gives the source state worth migrating and checks that the
 * destination continues exactly where the source stopped.
 */
#ifndef VX_MIGRATE_H
#define VX_MIGRATE_H

#include "vx.h"

struct vx_mig_workload {
	const char *name;		/* --workload NAME */
	/*
	 * Both devices are open (each in its own container). Map the memory
	 * the device uses at the same IOVAs in both containers (a migrated
	 * VM keeps its guest-physical layout), prepare the device. Returns
	 * the workload's context.
	 */
	void *(*setup)(struct vx_dev *src, struct vx_dev *dst, unsigned long seed);
	/* source RUNNING: create device state (e.g. queue and start jobs) */
	void (*load)(void *ctx, struct vx_dev *src);
	/*
	 * destination RUNNING after the migration: drive the device on, check
	 * the state and results are exactly what the source would have
	 * produced; print "wl_<fact> <value>" lines; 0 if all verified.
	 */
	int (*verify)(void *ctx, struct vx_dev *dst);
	void (*teardown)(void *ctx, struct vx_dev *src, struct vx_dev *dst);
};

/*
 * Each device's workload is defined next to its other commands and
 * registers itself with VX_WORKLOAD(name_of_the_struct): the linker gathers
 * the pointers in section "vx_workloads", so no central table names them.
 */
#define VX_WORKLOAD(wl)							\
	static const struct vx_mig_workload *const __vx_workload_##wl	\
	__attribute__((used, section("vx_workloads"))) = &(wl)

extern const struct vx_mig_workload *const __start_vx_workloads[];
extern const struct vx_mig_workload *const __stop_vx_workloads[];

extern const struct vx_mig_workload vx_wl_mdacc;
extern const struct vx_mig_workload vx_wl_edu;

#endif
