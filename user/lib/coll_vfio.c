// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Glue for bpf/vfio.bpf.c: which program serves which class on which tier,
 * the tier choice per class on this kernel (and why), and the dump.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "dump.h"
#include "event_fmt.h"
#include "identity.h"
#include "map_iter.h"
#include "vfio_ioctl.h"
#include "vfio.skel.h"

/*
 * Every program of the object: its class, its tier and what it attaches
 * to (see struct vfs_prog_spec). Extras add what no other tier can see and
 * load whenever their class is served.
 */
#define PROG(p, c, t, m, f) { .prog = p, .cls = c, .tier = t, .module = m, .target = f }
/* a fentry program of the ioctl class that also serves its tracepoint tier */
#define FENTRY_TOO(p, f) { .prog = p, .cls = VFS_CLASS_IOCTL, .tier = VFS_TIER_FENTRY, \
			   .module = "vfio", .target = f, .also = VFS_TIER_TRACEPOINT }
/* the reset class: the PCI core's functions, in vmlinux */
#define RESET(p, f) PROG(p, VFS_CLASS_RESET, VFS_TIER_FENTRY, "vmlinux", f)
#define EXTRA(p, c, t, m, f) { .prog = p, .cls = c, .tier = t, .module = m, .target = f, \
			       .any_of = VFS_CLASS_BIT(c) }

static const struct vfs_prog_spec specs[] = {
	FENTRY_TOO("container_ioctl_enter", "vfio_fops_unl_ioctl"),
	FENTRY_TOO("container_ioctl_exit", "vfio_fops_unl_ioctl"),
	FENTRY_TOO("group_ioctl_enter", "vfio_group_fops_unl_ioctl"),
	FENTRY_TOO("group_ioctl_exit", "vfio_group_fops_unl_ioctl"),
	PROG("device_ioctl_enter", VFS_CLASS_IOCTL, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_unl_ioctl"),
	PROG("device_ioctl_exit", VFS_CLASS_IOCTL, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_unl_ioctl"),
	PROG("tp_ioctl_enter", VFS_CLASS_IOCTL, VFS_TIER_TRACEPOINT, NULL, "vfio_ioctl_enter"),
	PROG("tp_ioctl_exit", VFS_CLASS_IOCTL, VFS_TIER_TRACEPOINT, NULL, "vfio_ioctl_exit"),
	PROG("container_ioctl_kp_enter", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_fops_unl_ioctl"),
	PROG("container_ioctl_kp_exit", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_fops_unl_ioctl"),
	PROG("group_ioctl_kp_enter", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_group_fops_unl_ioctl"),
	PROG("group_ioctl_kp_exit", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_group_fops_unl_ioctl"),
	PROG("device_ioctl_kp_enter", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_device_fops_unl_ioctl"),
	PROG("device_ioctl_kp_exit", VFS_CLASS_IOCTL, VFS_TIER_KPROBE, "vfio", "vfio_device_fops_unl_ioctl"),
	PROG("region_read_enter", VFS_CLASS_REGION, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_read"),
	PROG("region_read_exit", VFS_CLASS_REGION, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_read"),
	PROG("region_write_enter", VFS_CLASS_REGION, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_write"),
	PROG("region_write_exit", VFS_CLASS_REGION, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_write"),
	PROG("region_mmap", VFS_CLASS_REGION, VFS_TIER_FENTRY, "vfio", "vfio_device_fops_mmap"),
	PROG("pin_pages", VFS_CLASS_PIN, VFS_TIER_FENTRY, "vfio", "vfio_pin_pages"),
	PROG("unpin_pages", VFS_CLASS_PIN, VFS_TIER_FENTRY, "vfio", "vfio_unpin_pages"),
	PROG("tp_pin_pages", VFS_CLASS_PIN, VFS_TIER_TRACEPOINT, NULL, "vfio_pin_pages"),
	PROG("tp_unpin_pages", VFS_CLASS_PIN, VFS_TIER_TRACEPOINT, NULL, "vfio_unpin_pages"),
	/* PINNED: every locked_vm change type1 makes, from any thread */
	EXTRA("locked_acct", VFS_CLASS_IOCTL, VFS_TIER_FENTRY, "vmlinux", "__account_locked_vm"),
	PROG("msi_handler", VFS_CLASS_IRQ_SIGNAL, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_msihandler"),
	PROG("intx_handler", VFS_CLASS_IRQ_SIGNAL, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_intx_handler"),
	EXTRA("tp_irq_signal", VFS_CLASS_IRQ_SIGNAL, VFS_TIER_TRACEPOINT, NULL, "vfio_irq_signal"),
	PROG("mdev_create", VFS_CLASS_MDEV, VFS_TIER_FENTRY, "mdev", "mdev_device_create"),
	PROG("mdev_remove_enter", VFS_CLASS_MDEV, VFS_TIER_FENTRY, "mdev", "mdev_device_remove"),
	PROG("mdev_remove_exit", VFS_CLASS_MDEV, VFS_TIER_FENTRY, "mdev", "mdev_device_remove"),
	PROG("tp_mdev_create", VFS_CLASS_MDEV, VFS_TIER_TRACEPOINT, NULL, "mdev_create"),
	PROG("tp_mdev_remove", VFS_CLASS_MDEV, VFS_TIER_TRACEPOINT, NULL, "mdev_remove"),
	PROG("mig_next_state", VFS_CLASS_MIG_ARC, VFS_TIER_FENTRY, "vfio", "vfio_mig_get_next_state"),
	PROG("tp_mig_set_state", VFS_CLASS_MIG_ARC, VFS_TIER_TRACEPOINT, NULL, "vfio_mig_set_state"),
	/* on its tier only: forced to fentry, the learned f_ops report every driver */
	PROG("tp_mig_data", VFS_CLASS_MIG_DATA, VFS_TIER_TRACEPOINT, NULL, "vfio_mig_data"),
	PROG("tp_dma_map", VFS_CLASS_DMA_RESULT, VFS_TIER_TRACEPOINT, NULL, "vfio_dma_map"),
	PROG("tp_dma_unmap", VFS_CLASS_DMA_RESULT, VFS_TIER_TRACEPOINT, NULL, "vfio_dma_unmap"),
	PROG("tp_mig_request", VFS_CLASS_MIG_REQUEST, VFS_TIER_TRACEPOINT, NULL, "vfio_mig_request"),
	RESET("reset_fn_enter", "__pci_reset_function_locked"),
	RESET("reset_fn_exit", "__pci_reset_function_locked"),
	RESET("reset_bus_enter", "pci_reset_bus"),
	RESET("reset_bus_exit", "pci_reset_bus"),
	RESET("reset_m_flr", "pcie_reset_flr"),
	RESET("reset_m_af_flr", "pci_af_flr"),
	RESET("reset_m_pm", "pci_pm_reset"),
	RESET("reset_m_bus", "pci_reset_bus_function"),
	RESET("reset_m_specific", "pci_dev_specific_reset"),
	RESET("reset_m_acpi", "pci_dev_acpi_reset"),
	RESET("reset_m_cxl", "cxl_reset_bus_function"),
	RESET("reset_try_enter", "pci_try_reset_function"),
	RESET("reset_try_exit", "pci_try_reset_function"),
	RESET("reset_func_enter", "pci_reset_function"),
	RESET("reset_func_exit", "pci_reset_function"),
	PROG("reset_open_enter", VFS_CLASS_RESET, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_pci_core_enable"),
	PROG("reset_open_exit", VFS_CLASS_RESET, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_pci_core_enable"),
	PROG("reset_release_enter", VFS_CLASS_RESET, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_pci_core_disable"),
	PROG("reset_release_exit", VFS_CLASS_RESET, VFS_TIER_FENTRY, "vfio_pci_core", "vfio_pci_core_disable"),
	PROG("iommu_fault", VFS_CLASS_IOMMU_FAULT, VFS_TIER_FENTRY, "vmlinux", "dmar_fault"),
	/* exit and removal marks for the maps' garbage collection (gc.c) */
	EXTRA("vm_exit", VFS_CLASS_IOCTL, VFS_TIER_TRACEPOINT, NULL, "sched_process_exit"),
	EXTRA("device_gone", VFS_CLASS_IOCTL, VFS_TIER_FENTRY, "vfio", "vfio_unregister_group_dev"),
};

/* a fentry target: the kernel has BTF and the module has the function */
static bool fentry_ok(const char *module, const char *func)
{
	return vfs_module_loaded(module) && vfs_btf_has_func(module, func);
}

/* an Intel IOMMU unit is registered (/sys/class/iommu/dmarN) */
static bool dmar_active(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, "dmar", 4);
	closedir(d);
	return found;
}

/*
 * Choose a class that has a tracepoint tier: the tracepoint wins when the
 * subsystem itself defines it (a patched kernel: every driver fires it);
 * a tracepoint only some drivers fire (vfioscope_trace, for drivers that
 * opt in) would miss the others, so fentry keeps the class then.
 */
static void choose_tp_or_fentry(struct vfs_collector *c, enum vfs_class cls, const char *tp,
				const char *core, const char *module, const char *func,
				const char *what)
{
	char owner[64] = "", why[192];
	bool have_tp = vfs_tracepoint_owner(tp, owner, sizeof(owner));

	if (have_tp && !strcmp(owner, core))
		vfs_collector_choose(c, cls, VFS_TIER_TRACEPOINT,
				     "tracepoint %s:%s, defined by %s itself", core, tp, core);
	else if (fentry_ok(module, func) && have_tp)
		vfs_collector_choose(c, cls, VFS_TIER_FENTRY,
				     "%s at %s; tracepoint %s comes from %s, which only "
				     "opted-in drivers fire", what, func, tp, owner);
	else if (fentry_ok(module, func))
		vfs_collector_choose(c, cls, VFS_TIER_FENTRY, "%s at %s (%s BTF)", what, func,
				     module);
	else if (have_tp)
		vfs_collector_choose(c, cls, VFS_TIER_TRACEPOINT,
				     "only tracepoint %s (from %s) is available", tp, owner);
	else
		vfs_collector_choose(c, cls, VFS_TIER_NONE, "%s",
				     vfs_fentry_why_not(module, func, why, sizeof(why)) ?:
				     "no hook");
}

/*
 * A class only the tracepoint series (kernel/patches) serves: the
 * subsystem itself must define the event (vfioscope_trace defines it for
 * out-of-tree drivers, which never fire the core's events).
 */
static void choose_core_tp(struct vfs_collector *c, enum vfs_class cls, const char *tp,
			   const char *core, const char *what, const char *why_not)
{
	char owner[64] = "";

	if (vfs_tracepoint_owner(tp, owner, sizeof(owner)) && !strcmp(owner, core))
		vfs_collector_choose(c, cls, VFS_TIER_TRACEPOINT, "%s", what);
	else if (!vfs_module_loaded(core))
		/* whether this kernel's core defines the event is unknown until
		 * it is loaded: say what is missing now, not a guess */
		vfs_collector_choose(c, cls, VFS_TIER_NONE, "module %s is not loaded (and on "
				     "stock kernels %s: needs the tracepoint series)", core, why_not);
	else
		vfs_collector_choose(c, cls, VFS_TIER_NONE,
				     "unavailable: %s on this kernel; needs the tracepoint "
				     "series (kernel/patches)", why_not);
}

static void choose_tiers(struct vfs_collector *c)
{
	char owner[64], why[192];
	enum vfs_tier io;
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	bool fentry = btf && fentry_ok("vfio", "vfio_device_fops_unl_ioctl");
	/* the series' vfio core fires vfio_ioctl_enter/exit for every device fd */
	bool core_tp = vfs_tracepoint_owner("vfio_ioctl_enter", owner, sizeof(owner)) &&
		       !strcmp(owner, "vfio");

	if (!vfs_module_loaded("vfio"))
		io = vfs_collector_choose(c, VFS_CLASS_IOCTL, VFS_TIER_NONE,
					  "vfio is not loaded (modprobe vfio-pci)");
	else if (fentry && core_tp)
		io = vfs_collector_choose(c, VFS_CLASS_IOCTL, VFS_TIER_TRACEPOINT,
					  "device fds: tracepoints vfio:vfio_ioctl_enter/exit, "
					  "defined by vfio itself; container and group fds have "
					  "none: fentry/fexit on their unlocked_ioctl");
	else if (fentry)
		io = vfs_collector_choose(c, VFS_CLASS_IOCTL, VFS_TIER_FENTRY,
					  "fentry/fexit on the container, group and device "
					  "unlocked_ioctl (vfio BTF)");
	else if (vfs_kprobe_ok("vfio", "vfio_device_fops_unl_ioctl"))
		io = vfs_collector_choose(c, VFS_CLASS_IOCTL, VFS_TIER_KPROBE,
					  "no BTF for vfio: kprobes count ioctls per process "
					  "and command only");
	else
		io = vfs_collector_choose(c, VFS_CLASS_IOCTL, VFS_TIER_NONE,
					  "%s; and no kprobe target either",
					  vfs_fentry_why_not("vfio", "vfio_device_fops_unl_ioctl",
							     why, sizeof(why)) ?: "no hook");

	if (io == VFS_TIER_NONE)
		vfs_collector_choose(c, VFS_CLASS_DMA, VFS_TIER_NONE, "%s",
				     vfs_collector_tier(c, VFS_CLASS_IOCTL)->reason);
	else if (io == VFS_TIER_KPROBE || !btf || !fentry_ok("vfio", "vfio_fops_unl_ioctl"))
		vfs_collector_choose(c, VFS_CLASS_DMA, VFS_TIER_NONE,
				     "needs fentry on the container ioctl (BTF)");
	else if (!vfs_module_loaded("vfio_iommu_type1"))
		vfs_collector_choose(c, VFS_CLASS_DMA, VFS_TIER_NONE,
				     "vfio_iommu_type1 is not loaded");
	else
		vfs_collector_choose(c, VFS_CLASS_DMA, VFS_TIER_FENTRY,
				     "at the container ioctl (type1's map/unmap code is "
				     "inlined); pinned pages from mm->locked_vm around each call");
	/* SET_IRQS is decoded where the ioctl class sees device fds */
	if (io == VFS_TIER_FENTRY || io == VFS_TIER_TRACEPOINT)
		vfs_collector_choose(c, VFS_CLASS_IRQ_SET, io, "VFIO_DEVICE_SET_IRQS at the "
				     "device ioctl (%s)", vfs_tier_name(io));
	else
		vfs_collector_choose(c, VFS_CLASS_IRQ_SET, VFS_TIER_NONE, "%s",
				     io == VFS_TIER_NONE ?
				     vfs_collector_tier(c, VFS_CLASS_IOCTL)->reason :
				     "needs BTF (the kprobe tier reads no argument)");

	choose_tp_or_fentry(c, VFS_CLASS_PIN, "vfio_pin_pages", "vfio", "vfio", "vfio_pin_pages",
			    "pins of emulated-IOMMU (mdev) devices");
	if (fentry_ok("vfio", "vfio_device_fops_read"))
		vfs_collector_choose(c, VFS_CLASS_REGION, VFS_TIER_FENTRY,
				     "vfio_device_fops_read/write/mmap; region index from the "
				     "vfio-pci offset layout");
	else
		vfs_collector_choose(c, VFS_CLASS_REGION, VFS_TIER_NONE, "%s",
				     vfs_fentry_why_not("vfio", "vfio_device_fops_read",
							why, sizeof(why)) ?: "no hook");

	if (fentry_ok("vfio_pci_core", "vfio_msihandler"))
		vfs_collector_choose(c, VFS_CLASS_IRQ_SIGNAL, VFS_TIER_FENTRY,
				     "vfio-pci's INTx/MSI handlers, per Linux IRQ%s",
				     vfs_tracepoint_owner("vfio_irq_signal", owner, sizeof(owner)) ?
				     "; plus drivers firing vfio:vfio_irq_signal, per device" : "");
	else if (vfs_tracepoint_owner("vfio_irq_signal", owner, sizeof(owner)))
		vfs_collector_choose(c, VFS_CLASS_IRQ_SIGNAL, VFS_TIER_TRACEPOINT,
				     "drivers firing vfio:vfio_irq_signal (from %s)", owner);
	else
		vfs_collector_choose(c, VFS_CLASS_IRQ_SIGNAL, VFS_TIER_NONE,
				     "vfio_pci_core is not loaded and no driver fires "
				     "vfio:vfio_irq_signal");

	choose_tp_or_fentry(c, VFS_CLASS_MDEV, "mdev_create", "mdev", "mdev", "mdev_device_create",
			    "mdev create/remove");
	/*
	 * Even where the vfio core defines vfio_mig_set_state (the tracepoint
	 * series), only the drivers that opted in fire it: the FSM step every
	 * migration driver takes stays the complete source. "(drivers)" names
	 * no module, so the tracepoint serves only where fentry cannot.
	 */
	choose_tp_or_fentry(c, VFS_CLASS_MIG_ARC, "vfio_mig_set_state", "(drivers)", "vfio",
			    "vfio_mig_get_next_state",
			    "arcs from the FSM step every migration driver takes");
	choose_core_tp(c, VFS_CLASS_DMA_RESULT, "vfio_dma_map", "vfio",
		       "vfio:vfio_dma_map/unmap: type1's map/unmap results from inside its handlers",
		       "type1's map/unmap handlers are inlined");
	choose_core_tp(c, VFS_CLASS_MIG_REQUEST, "vfio_mig_request", "vfio",
		       "vfio:vfio_mig_request: each state request as the vfio core timed it",
		       "the migration state handler is inlined into the ioctl path");
	/*
	 * Resets are the PCI core's: vmlinux functions, there whether or not
	 * vfio-pci is loaded. Which VFIO path caused one needs vfio_pci_core's
	 * enable/disable (open, release) and the device ioctl (the ioctl class).
	 */
	if (!vfs_module_loaded("vfio"))
		/* no VFIO device to reset: load nothing (a host without VFIO,
		 * or one that refuses tracing programs, keeps --features) */
		vfs_collector_choose(c, VFS_CLASS_RESET, VFS_TIER_NONE,
				     "vfio is not loaded (modprobe vfio-pci)");
	else if (fentry_ok("vmlinux", "__pci_reset_function_locked") &&
		 fentry_ok("vmlinux", "pci_reset_bus"))
		vfs_collector_choose(c, VFS_CLASS_RESET, VFS_TIER_FENTRY,
				     "__pci_reset_function_locked and pci_reset_bus (vmlinux), "
				     "method from each reset method's exit%s",
				     fentry_ok("vfio_pci_core", "vfio_pci_core_enable") ?
				     "; open/release from vfio-pci's enable/disable" :
				     "; vfio_pci_core not loaded: open/release show as other");
	else
		vfs_collector_choose(c, VFS_CLASS_RESET, VFS_TIER_NONE, "%s",
				     vfs_fentry_why_not("vmlinux", "__pci_reset_function_locked",
							why, sizeof(why)) ?: "no hook");

	/*
	 * IOMMU faults: the Intel IOMMU's fault interrupt handler (vmlinux),
	 * where the records are read before it clears them. Only where a
	 * DMAR unit is active (otherwise nothing would ever call it) and with
	 * vfio loaded (the programs live in the vfio object). Other
	 * IOMMUs (AMD, Arm SMMU) report through iommu:io_page_fault: not
	 * read yet, and said so.
	 */
	if (!vfs_module_loaded("vfio"))
		vfs_collector_choose(c, VFS_CLASS_IOMMU_FAULT, VFS_TIER_NONE,
				     "vfio is not loaded (modprobe vfio-pci)");
	else if (!dmar_active())
		vfs_collector_choose(c, VFS_CLASS_IOMMU_FAULT, VFS_TIER_NONE,
				     "no Intel IOMMU (DMAR) unit is active (intel_iommu=on); "
				     "other IOMMUs' faults are not read yet");
	else if (fentry_ok("vmlinux", "dmar_fault"))
		vfs_collector_choose(c, VFS_CLASS_IOMMU_FAULT, VFS_TIER_FENTRY,
				     "dmar_fault (vmlinux): each fault record the DMAR unit holds "
				     "when its fault interrupt is taken, read from its registers");
	else
		vfs_collector_choose(c, VFS_CLASS_IOMMU_FAULT, VFS_TIER_NONE, "%s",
				     vfs_fentry_why_not("vmlinux", "dmar_fault", why, sizeof(why)) ?:
				     "no hook");

	/*
	 * Data fds: each driver brings its own f_ops, learned from the fd a
	 * state change returns (the device ioctl's exit) and attached to then
	 * (user/lib/collector.c, bpf/migfops.bpf.c). Drivers that fire the
	 * tracepoint report through it, and the learned programs stay quiet
	 * for their devices.
	 */
	if (io != VFS_TIER_FENTRY && io != VFS_TIER_TRACEPOINT)
		vfs_collector_choose(c, VFS_CLASS_MIG_DATA, VFS_TIER_NONE,
				     "data fds are learned at the device ioctl's exit, "
				     "which needs its fexit (BTF): %s",
				     vfs_collector_tier(c, VFS_CLASS_IOCTL)->reason);
	else if (vfs_tracepoint_owner("vfio_mig_data", owner, sizeof(owner)))
		vfs_collector_choose(c, VFS_CLASS_MIG_DATA, VFS_TIER_TRACEPOINT,
				     "tracepoint vfio:vfio_mig_data from %s; other drivers: "
				     "fexit on their data fds' f_ops, learned at run time", owner);
	else
		vfs_collector_choose(c, VFS_CLASS_MIG_DATA, VFS_TIER_FENTRY,
				     "fexit on each driver's data fd f_ops (read, write, "
				     "ioctl), learned at run time from the fd a state change returns");
}

static const char *const sized_maps[] = {
	"ioctl_stats", "ioctl_errno", "obj_info", "vm_stats", "vm_info", "region_stats",
	"irq_stats", "reset_stats", "fault_stats", NULL
};

int vfs_collector_vm_name(const struct vfs_collector *c, __u32 pid, char *out, size_t len)
{
	int fd = vfs_collector_map_fd(c, "vm_info");
	struct vfs_vm_info vi;

	if (fd < 0 || bpf_map_lookup_elem(fd, &pid, &vi))
		return -1;
	return vfs_vm_name_info((pid_t)pid, &vi, out, len);
}

/* ------------------------------------------------------------------- dump */
struct obj_names {
	size_t n;
	__u64 *keys;
	struct vfs_obj_info *vals;
};

static const char *obj_name(const struct obj_names *on, __u64 obj, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < on->n; i++)
		if (on->keys[i] == obj) {
			if (on->vals[i].kind == VFS_FD_GROUP)
				snprintf(buf, len, "group-%u", on->vals[i].group_id);
			else
				snprintf(buf, len, "%s", on->vals[i].name[0] ?
					 on->vals[i].name : "?");
			return buf;
		}
	snprintf(buf, len, "obj-%llx", (unsigned long long)obj);
	return buf;
}

/* per (tgid, kind, cmd): the exerciser's own summary format */
struct agg {
	__u32 tgid, kind, cmd;
	__u64 count;
};

static void dump_objs(struct vfs_dump *d, const struct obj_names *on)
{
	char name[64], drv[64];
	size_t i;

	for (i = 0; i < on->n; i++) {
		const struct vfs_obj_info *oi = &on->vals[i];

		obj_name(on, on->keys[i], name, sizeof(name));
		snprintf(drv, sizeof(drv), "-");
		if (oi->kind == VFS_FD_DEVICE)
			vfs_device_driver(NULL, name, drv, sizeof(drv));
		VFS_DUMP_ROW(d, "obj", VFS_P_STR("obj", name),
			     VFS_F_STR("kind", vfio_fd_kind_name(oi->kind)),
			     VFS_F_U64("group", oi->group_id), VFS_F_U64("owner", oi->owner_tgid),
			     VFS_F_STR("driver", drv));
	}
}

/* the count of (@k's tgid, kind, cmd) in @ag (nag entries) grows by @count */
static int agg_add(struct agg **ag, size_t *nag, const struct vfs_cmd_key *k, __u64 count)
{
	struct agg *n;
	size_t j;

	for (j = 0; j < *nag; j++)
		if ((*ag)[j].tgid == k->tgid && (*ag)[j].kind == k->kind && (*ag)[j].cmd == k->cmd)
			break;
	if (j == *nag) {
		n = realloc(*ag, (*nag + 1) * sizeof(**ag));
		if (!n)
			return -ENOMEM;
		*ag = n;
		n[(*nag)++] = (struct agg){ k->tgid, k->kind, k->cmd, 0 };
	}
	(*ag)[j].count += count;
	return 0;
}

/* per object, then per (tgid, kind, cmd): the exerciser's own summary */
static void dump_ioctls(struct vfs_collector *c, struct vfs_dump *d, const struct obj_names *on)
{
	struct vfs_map_snapshot cmds;
	struct agg *ag = NULL;
	size_t i, nag = 0;
	char b1[64], b2[64];

	vfs_map_snapshot_fold(vfs_collector_map_fd(c, "ioctl_stats"), &cmds, vfs_cmd_val_fold);
	for (i = 0; i < cmds.n; i++) {
		const struct vfs_cmd_key *k = &((struct vfs_cmd_key *)cmds.keys)[i];
		const struct vfs_cmd_val *v = &((struct vfs_cmd_val *)cmds.vals)[i];

		VFS_DUMP_ROW(d, "ioctl_obj", VFS_P_U64("tgid", k->tgid),
			     VFS_P_STR("obj", obj_name(on, k->obj, b1, sizeof(b1))),
			     VFS_P_STR("kind", vfio_fd_kind_name(k->kind)),
			     VFS_P_STR("cmd", vfio_ioctl_str(k->kind, k->cmd, b2, sizeof(b2))),
			     VFS_F_U64("count", v->count), VFS_F_U64("errors", v->errors),
			     VFS_F_U64("lat_sum_ns", v->lat_sum_ns));
		if (agg_add(&ag, &nag, k, v->count))
			break;
	}
	for (i = 0; i < nag; i++)
		VFS_DUMP_ROW(d, "ioctl", VFS_P_U64("tgid", ag[i].tgid),
			     VFS_P_STR("kind", vfio_fd_kind_name(ag[i].kind)),
			     VFS_P_STR("cmd", vfio_ioctl_str(ag[i].kind, ag[i].cmd, b2, sizeof(b2))),
			     VFS_P_U64("count", ag[i].count));
	free(ag);
	vfs_map_snapshot_free(&cmds);
}

static void dump_errnos(struct vfs_collector *c, struct vfs_dump *d, const struct obj_names *on)
{
	struct vfs_map_snapshot errs;
	char b1[64], b2[64];
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "ioctl_errno"), &errs);
	for (i = 0; i < errs.n; i++) {
		const struct vfs_errno_key *k = &((struct vfs_errno_key *)errs.keys)[i];

		VFS_DUMP_ROW(d, "errno", VFS_P_U64("tgid", k->tgid),
			     VFS_P_STR("obj", obj_name(on, k->obj, b1, sizeof(b1))),
			     VFS_P_STR("kind", vfio_fd_kind_name(k->kind)),
			     VFS_P_STR("cmd", vfio_ioctl_str(k->kind, k->cmd, b2, sizeof(b2))),
			     VFS_P_U64("errno", k->err),
			     VFS_P_U64("count", ((__u64 *)errs.vals)[i]));
	}
	vfs_map_snapshot_free(&errs);
}

static void dump_vm_infos(struct vfs_collector *c, struct vfs_dump *d)
{
	struct vfs_map_snapshot infos;
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "vm_info"), &infos);
	for (i = 0; i < infos.n; i++) {
		const struct vfs_vm_info *vi = &((struct vfs_vm_info *)infos.vals)[i];
		__u32 pid = ((__u32 *)infos.keys)[i];
		char comm[VFS_COMM_LEN + 1], name[128], lim[24];
		enum vfs_name_source src;

		snprintf(comm, sizeof(comm), "%.*s", (int)strnlen(vi->comm, sizeof(vi->comm)),
			 vi->comm);
		src = vfs_vm_name_info(pid, vi, name, sizeof(name));
		VFS_DUMP_ROW(d, "vm_info", VFS_P_U64("tgid", pid), VFS_F_STR("comm", comm),
			     VFS_F_U64("cgroup", vi->cgroup_id),
			     VFS_F_U64("locked_pages", vi->locked_pages),
			     VFS_F_U64("vhost_pinned_pages", vi->vhost_pinned_pages),
			     VFS_F_STR("memlock", !(vi->memlock_flags & VFS_MEMLOCK_KNOWN) ? "-" :
				       vi->memlock_limit == ~0ull ? "unlimited" :
				       (snprintf(lim, sizeof(lim), "%llu",
						 (unsigned long long)vi->memlock_limit), lim)),
			     VFS_F_U64("memlock_bypass",
				       !!(vi->memlock_flags & VFS_MEMLOCK_BYPASS)),
			     VFS_F_STR("name", name),
			     VFS_F_STR("source", vfs_name_source_str(src)));
	}
	vfs_map_snapshot_free(&infos);
}

static void dump_vms(struct vfs_collector *c, struct vfs_dump *d)
{
	struct vfs_map_snapshot vms;
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "vm_stats"), &vms);
	for (i = 0; i < vms.n; i++) {
		const struct vfs_vm_val *v = &((struct vfs_vm_val *)vms.vals)[i];

		VFS_DUMP_ROW(d, "vm", VFS_P_U64("tgid", ((__u32 *)vms.keys)[i]),
			     VFS_F_U64("dma_map_ops", v->dma_map_ops),
			     VFS_F_U64("dma_map_bytes", v->dma_map_bytes),
			     VFS_F_U64("dma_map_errors", v->dma_map_errors),
			     VFS_F_U64("dma_unmap_ops", v->dma_unmap_ops),
			     VFS_F_U64("dma_unmap_bytes", v->dma_unmap_bytes),
			     VFS_F_U64("dma_unmap_errors", v->dma_unmap_errors),
			     VFS_F_S64("pinned_pages", v->pinned_pages),
			     VFS_F_U64("ext_pin_pages", v->ext_pin_pages),
			     VFS_F_U64("ext_unpin_pages", v->ext_unpin_pages),
			     VFS_F_U64("irq_set_calls", v->irq_set_calls));
	}
	vfs_map_snapshot_free(&vms);
}

static void dump_regions(struct vfs_collector *c, struct vfs_dump *d, const struct obj_names *on)
{
	struct vfs_map_snapshot regions;
	char b1[64];
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "region_stats"), &regions);
	for (i = 0; i < regions.n; i++) {
		const struct vfs_region_key *k = &((struct vfs_region_key *)regions.keys)[i];
		const struct vfs_region_val *v = &((struct vfs_region_val *)regions.vals)[i];

		VFS_DUMP_ROW(d, "region", VFS_P_STR("obj", obj_name(on, k->obj, b1, sizeof(b1))),
			     VFS_P_U64("index", k->index), VFS_F_U64("reads", v->reads),
			     VFS_F_U64("writes", v->writes), VFS_F_U64("read_bytes", v->read_bytes),
			     VFS_F_U64("write_bytes", v->write_bytes), VFS_F_U64("mmaps", v->mmaps),
			     VFS_F_U64("errors", v->errors));
	}
	vfs_map_snapshot_free(&regions);
}

static void dump_irqs(struct vfs_collector *c, struct vfs_dump *d, const struct obj_names *on)
{
	struct vfs_map_snapshot irqs, sig;
	char b1[64];
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "irq_stats"), &irqs);
	for (i = 0; i < irqs.n; i++) {
		const struct vfs_irq_key *k = &((struct vfs_irq_key *)irqs.keys)[i];
		const struct vfs_irq_val *v = &((struct vfs_irq_val *)irqs.vals)[i];

		VFS_DUMP_ROW(d, "irq", VFS_P_STR("obj", obj_name(on, k->obj, b1, sizeof(b1))),
			     VFS_P_U64("index", k->index), VFS_F_U64("set_calls", v->set_calls),
			     VFS_F_U64("vectors", v->vectors), VFS_F_U64("signals", v->signals));
	}
	vfs_map_snapshot_free(&irqs);

	vfs_map_snapshot(vfs_collector_map_fd(c, "irq_signals"), &sig);
	for (i = 0; i < sig.n; i++) {
		__u32 irq = ((__u32 *)sig.keys)[i];

		VFS_DUMP_ROW(d, "irq_signal", VFS_P_U64("irq", irq),
			     VFS_P_STR("action", vfs_irq_action_name(irq, b1, sizeof(b1))),
			     VFS_P_U64("count", ((__u64 *)sig.vals)[i]));
	}
	vfs_map_snapshot_free(&sig);
}

/* one row per PCI device, process, cause, method and result */
static void dump_resets(struct vfs_collector *c, struct vfs_dump *d, const struct obj_names *on)
{
	struct vfs_map_snapshot resets;
	char b1[64], res[32], dev[VFS_NAME_LEN + 1];
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "reset_stats"), &resets);
	for (i = 0; i < resets.n; i++) {
		const struct vfs_reset_key *k = &((struct vfs_reset_key *)resets.keys)[i];
		const struct vfs_reset_val *v = &((struct vfs_reset_val *)resets.vals)[i];

		snprintf(dev, sizeof(dev), "%.*s", (int)strnlen(k->dev, sizeof(k->dev)), k->dev);
		VFS_DUMP_ROW(d, "reset", VFS_P_STR("device", dev[0] ? dev : "?"),
			     VFS_P_U64("tgid", k->tgid),
			     VFS_F_STR("cause", vfs_reset_cause_name(k->cause)),
			     VFS_F_STR("method", vfs_reset_method_name(k->method)),
			     VFS_F_STR("result", vfs_reset_result(k->ret, res, sizeof(res))),
			     VFS_F_STR("vfio", k->obj ? obj_name(on, k->obj, b1, sizeof(b1)) : "-"),
			     VFS_F_U64("count", v->count), VFS_F_U64("dur_sum_ns", v->dur_sum_ns),
			     VFS_F_U64("dur_max_ns", v->dur_max_ns),
			     VFS_F_U64("last_dur_ns", v->last_dur_ns));
	}
	vfs_map_snapshot_free(&resets);
}

/* one row per IOMMU unit, then per requester, reason and access */
static void dump_faults(struct vfs_collector *c, struct vfs_dump *d)
{
	struct vfs_map_snapshot faults, units;
	char dev[32], owner[VFS_NAME_LEN + 16];
	size_t i;

	vfs_map_snapshot(vfs_collector_map_fd(c, "fault_units"), &units);
	for (i = 0; i < units.n; i++) {
		const struct vfs_fault_unit *u = &((struct vfs_fault_unit *)units.vals)[i];

		if (!u->irqs)
			continue;
		snprintf(dev, sizeof(dev), "%.*s", (int)strnlen(u->name, sizeof(u->name)), u->name);
		VFS_DUMP_ROW(d, "iommu_unit", VFS_P_STR("iommu", dev[0] ? dev : "?"),
			     VFS_F_U64("irqs", u->irqs), VFS_F_U64("records", u->records),
			     VFS_F_U64("overflows", u->overflows), VFS_F_U64("unread", u->unread));
	}
	vfs_map_snapshot_free(&units);

	vfs_map_snapshot(vfs_collector_map_fd(c, "fault_stats"), &faults);
	for (i = 0; i < faults.n; i++) {
		const struct vfs_fault_key *k = &((struct vfs_fault_key *)faults.keys)[i];
		const struct vfs_fault_val *v = &((struct vfs_fault_val *)faults.vals)[i];

		vfs_fault_bdf(k->segment, k->sid, dev, sizeof(dev));
		if (!k->tgid || vfs_collector_vm_name(c, k->tgid, owner, sizeof(owner)) < 0)
			snprintf(owner, sizeof(owner), "-");
		VFS_DUMP_ROW(d, "iommu_fault", VFS_P_STR("device", dev),
			     VFS_P_U64("unit", k->unit), VFS_P_U64("tgid", k->tgid),
			     VFS_F_STR("access", k->flags & VFS_FAULT_F_READ ? "read" : "write"),
			     VFS_F_U64("reason", k->reason),
			     VFS_F_STR("reason_name", vfs_fault_reason_name(k->reason)),
			     VFS_F_STR("vm", owner), VFS_F_U64("count", v->count),
			     VFS_F_U64("last_addr", v->last_addr));
	}
	vfs_map_snapshot_free(&faults);
}

static void vfio_dump(struct vfs_collector *c, struct vfs_dump *d)
{
	struct vfs_map_snapshot objs;
	struct obj_names on;

	vfs_map_snapshot(vfs_collector_map_fd(c, "obj_info"), &objs);
	on.n = objs.n;
	on.keys = objs.keys;
	on.vals = objs.vals;
	dump_objs(d, &on);
	dump_ioctls(c, d, &on);
	dump_errnos(c, d, &on);
	dump_vm_infos(c, d);
	dump_vms(c, d);
	dump_regions(c, d, &on);
	dump_irqs(c, d, &on);
	dump_resets(c, d, &on);
	dump_faults(c, d);
	vfs_map_snapshot_free(&objs);
}

/* the rows vfio_dump() emits, in its order */
static const char *const dump_rows[] = {
	"obj", "ioctl_obj", "ioctl", "errno", "vm_info", "vm", "region", "irq", "irq_signal",
	"reset", "iommu_unit", "iommu_fault", NULL
};

static const void *vfio_elf(size_t *size)
{
	return vfio_bpf__elf_bytes(size);
}

const struct vfs_family vfs_family_vfio = {
	.name = "vfio",
	.elf = vfio_elf,
	.choose = choose_tiers,
	.specs = specs,
	.nspecs = sizeof(specs) / sizeof(specs[0]),
	.sized_maps = sized_maps,
	.dump = vfio_dump,
	.rows = dump_rows,
};
