// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The version every tool prints and records: scripts/version.sh's answer
 * at build time, in a header the Makefile rewrites only when it changes
 * (so only this file recompiles after a commit).
 */
#include <linux/types.h>
#include "abi.h"
#include "cli.h"
#include "vfs_version.h"

const char vfs_version[] = VFS_VERSION;
const int vfs_abi_version = VFS_ABI_VERSION;
