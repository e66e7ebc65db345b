// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: vfio-policyd's policy parser and compiler on arbitrary
 * bytes. Either the file is refused with one "p.yaml:LINE: reason" line, or
 * it compiles (cgroups resolved by a fake) and prints.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compile.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_cgroup(const char *path, uint64_t *id, void *ctx)
{
	if (strlen(path) % 3 == 0)
		return -ENOENT;
	*id = strlen(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_resolver res = { fake_cgroup, NULL };
	struct pd_compiled c;
	struct pd_conf conf;
	char err[512];
	FILE *null;

	if (pd_conf_parse("p.yaml", (const char *)data, size, &conf, err, sizeof(err))) {
		/* every error names the file and a line */
		if (strncmp(err, "p.yaml:", 7) || !strchr(err + 7, ':'))
			abort();
		return 0;
	}
	if (!pd_compile(&conf, &res, 1, &c, err, sizeof(err))) {
		null = fopen("/dev/null", "w");
		if (null) {
			pd_compiled_print(&c, null);
			fclose(null);
		}
		pd_compiled_free(&c);
	}
	pd_conf_free(&conf);
	return 0;
}
