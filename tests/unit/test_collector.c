// SPDX-License-Identifier: GPL-2.0
/*
 * The sentences --features gives for a hook that is not there, against
 * this machine's own kernel: a module that is not loaded, and a function
 * the kernel's BTF does not have (what a renamed or newly inlined hook
 * looks like to the collectors).
 */
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "collector.h"

static bool kernel_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

Test(collector, hook_module_not_loaded)
{
	char buf[256];
	const char *why = vfs_fentry_why_not("vfioscope_no_such_module", "vfio_pin_pages", buf,
					     sizeof(buf));

	cr_assert_not_null(why);
	cr_expect_str_eq(why, "module vfioscope_no_such_module is not loaded");
}

Test(collector, hook_renamed)
{
	char buf[256];
	const char *why = vfs_fentry_why_not("vmlinux", "vfioscope_renamed_hook", buf,
					     sizeof(buf));

	cr_assert_not_null(why);
	if (kernel_btf())
		cr_expect_str_eq(why, "vmlinux's BTF has no function vfioscope_renamed_hook: "
			     "renamed, removed or inlined in this kernel");
	else
		cr_expect_str_eq(why, "the kernel has no BTF for itself (/sys/kernel/btf/vmlinux)");
}

Test(collector, hook_present)
{
	char buf[256];
	const char *why = vfs_fentry_why_not("vmlinux", "vfs_read", buf, sizeof(buf));

	/* vfs_read is a fentry target on every kernel with BTF */
	if (kernel_btf())
		cr_expect_null(why, "vfs_read reported missing: %s", why);
	else
		cr_expect_not_null(why);
}

Test(collector, hook_sentence_fits)
{
	char buf[40];
	const char *why = vfs_fentry_why_not("vmlinux", "a_very_long_function_name_that_was_renamed",
					     buf, sizeof(buf));

	/* a short buffer truncates, never overflows */
	cr_assert_not_null(why);
	cr_expect_eq(strlen(why), sizeof(buf) - 1);
}
