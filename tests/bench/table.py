#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's table: raw "ROW MODE ROUND VALUE" lines -> docs/bench.md.

Every figure is min / median / max over the rounds. Added costs are paired
per round (traced minus untraced of the same round, the modes having run
back to back), then summarised, so drift of the shared host between rounds
does not enter them. Every verdict and count of rounds is computed from
the rounds in the raw file, and the raw file must hold every round of
every row it has, and every row the bench always measures: otherwise this
prints what is missing and exits 1, with no table.
"""
import argparse
import datetime
import statistics
import sys
from collections import defaultdict

ap = argparse.ArgumentParser()
ap.add_argument("raw")
ap.add_argument("--guest-features", default="")
ap.add_argument("--patched-features", default="")
for a in ("measured", "commit", "host-kernel", "host-cpu", "host-cpus", "load", "host-features", "elapsed"):
    ap.add_argument("--" + a, default="")
ap.add_argument("--rounds", type=int, required=True, help="rounds the run was asked for")
ap.add_argument("--boots", type=int, default=1, help="guest boots per flavour")
args = ap.parse_args()

info = {}
data = defaultdict(dict)          # (row, mode) -> {round: value}
for line in open(args.raw):
    f = line.split()
    if not f:
        continue
    if f[0] == "info":
        info[f[1]] = " ".join(f[2:])
        continue
    row, mode, rnd, val = f[0], f[1], int(f[2]), float(f[3])
    if rnd in data[(row, mode)]:
        sys.exit(f"table: {args.raw}: round {rnd} of {row} {mode} recorded twice")
    data[(row, mode)][rnd] = val


# ---- completeness: every row the bench always measures, and every round
# of every row present (how many rounds each row family has)
def expected_rounds(row):
    if row.startswith("ring_"):
        return int(info.get("ring_rounds", 0))
    if row.startswith("pd_") or row.startswith("top_live_"):
        return int(info.get("fleet_rounds", 0))
    return args.rounds


required = [(row, mode) for row in ("check_ns", "map_ns", "info_ns")
            for mode in ("none", "floor", "vfioscope", "bpftrace",
                         "patched-none", "patched-vfioscope", "patched-vfioscope-fentry")]
required += [("attach_ms", m) for m in ("floor", "vfioscope", "vfioscope-ioctl", "bpftrace")]
required += [(f"startup_{x}", m) for x in ("programs", "probe_ms", "load_ms", "verify_ms", "insns",
                                            "attach_ms")
             for m in ("vfioscope", "vfioscope-ioctl")]
if "kick" not in info:        # the guest says when it had no disk to kick
    required += [("kick_ns", "none"), ("kick_ns", "vfioscope")]
if "ring_rounds" not in info:
    required += [("ring_dropped", "(the ring buffer rows: no ring_rounds record)")]
missing = []
for key in required:
    if key not in data:
        missing.append(f"{key[0]} {key[1]}: no round at all")
for (row, mode), rs in sorted(data.items()):
    want = set(range(1, expected_rounds(row) + 1))
    if set(rs) != want:
        lost = sorted(want - set(rs))
        extra = sorted(set(rs) - want)
        missing.append(f"{row} {mode}: rounds {sorted(rs)} recorded, "
                       f"{'missing ' + str(lost) if lost else ''}{' unexpected ' + str(extra) if extra else ''}")
if missing:
    print(f"table: the raw figures ({args.raw}) are incomplete for a run of {args.rounds} rounds:",
          file=sys.stderr)
    for m in missing:
        print(f"table:   {m}", file=sys.stderr)
    sys.exit(1)


def vals(row, mode):
    return [v for _, v in sorted(data.get((row, mode), {}).items())]


def paired(row, a, b, scale=1.0):
    da, db = data.get((row, a), {}), data.get((row, b), {})
    return [(da[r] - db[r]) / scale for r in sorted(da) if r in db]


def mmm(v, fmt="{:.0f}"):
    if not v:
        return "-"
    return " / ".join(fmt.format(x) for x in (min(v), statistics.median(v), max(v)))


def med(v):
    return statistics.median(v) if v else None


out = []
p = out.append
# --measured: when the raw figures were taken, to re-render an older run
today = args.measured or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
p("# vfioscope benchmarks (`make bench`)")
p("")
p(f"Measured {today} at commit `{args.commit}` in {args.elapsed} s.")
p("")
p(f"- host: {args.host_cpu}, {args.host_cpus} CPUs, kernel {args.host_kernel}; "
  f"load average at the end {args.load}")
p(f"- bench guest: Debian kernel {info.get('kernel', '?')} under QEMU TCG, "
  f"{info.get('guest_cpus', '?')} vCPUs ({info.get('guest_cpu', '?').replace('_', ' ')})")
p("- **Noisy figures.** The machine was shared: other builds and bench guests ran at the "
  "same time, and TCG inflates every absolute figure many times over bare metal. "
  "Read the added costs and ratios, which come from runs interleaved within each "
  "round (untraced, floor, vfioscope, bpftrace, the order rotating by one each round), "
  "not the absolutes.")
p(f"- {args.rounds} rounds of the ioctl loops in {2 * args.boots} guest boots, stock and "
  "patched alternating, the rounds shared out between them; every row below holds every "
  "round (checked before the table is written).")
p("- Each cell is min / median / max over the rounds; \"added\" cells are per-round "
  "differences (traced minus untraced of the same round).")
p("")

rounds = args.rounds
p(f"## Table ({rounds} rounds)")
p("")
p("| measurement | untraced | vfioscope | bpftrace peer | vfioscope added | bpftrace added "
  "| traced / untraced (median): vfioscope, bpftrace |")
p("|---|---|---|---|---|---|---|")


def ratio(row, mode):
    a, b = med(vals(row, mode)), med(vals(row, "none"))
    return f"{a / b:.3f}" if a and b else "-"


def ratios(row):
    return f"{ratio(row, 'vfioscope')}, {ratio(row, 'bpftrace')}"


p(f"| VFIO_CHECK_EXTENSION, ns per ioctl | {mmm(vals('check_ns', 'none'))} | "
  f"{mmm(vals('check_ns', 'vfioscope'))} | {mmm(vals('check_ns', 'bpftrace'))} | "
  f"{mmm(paired('check_ns', 'vfioscope', 'none'))} | {mmm(paired('check_ns', 'bpftrace', 'none'))} | "
  f"{ratios('check_ns')} |")
if vals("info_ns", "none"):
    p(f"| VFIO_DEVICE_GET_INFO (a device fd), ns per ioctl | {mmm(vals('info_ns', 'none'))} | "
      f"{mmm(vals('info_ns', 'vfioscope'))} | {mmm(vals('info_ns', 'bpftrace'))} | "
      f"{mmm(paired('info_ns', 'vfioscope', 'none'))} | {mmm(paired('info_ns', 'bpftrace', 'none'))} | "
      f"{ratios('info_ns')} |")
p(f"| MAP_DMA+UNMAP_DMA of 4 KiB, ns per pair (added: per ioctl) | {mmm(vals('map_ns', 'none'))} | "
  f"{mmm(vals('map_ns', 'vfioscope'))} | {mmm(vals('map_ns', 'bpftrace'))} | "
  f"{mmm(paired('map_ns', 'vfioscope', 'none', 2))} | {mmm(paired('map_ns', 'bpftrace', 'none', 2))} | "
  f"{ratios('map_ns')} |")
if vals("kick_ns", "none"):
    p(f"| vdpa_sim block read at depth 1 (one kick each), ns per kick | {mmm(vals('kick_ns', 'none'))} | "
      f"{mmm(vals('kick_ns', 'vfioscope'))} | n/a | {mmm(paired('kick_ns', 'vfioscope', 'none'))} | n/a | "
      f"{ratio('kick_ns', 'vfioscope')} |")
p("")

# ---- above the floor: what each tool's own programs add to the trampolines
p("### Above the trampoline floor")
p("")
p("The floor (`tests/bench/trace-floor.c`) attaches empty fentry and fexit programs to the "
  "three VFIO ioctl entry points, the hooks of both vfioscope's ioctl collector and the "
  "bpftrace peer here: what any tool on them costs. Each tool's cost above it is its "
  "programs' own work, per round (tool minus floor of the same round). On MAP/UNMAP "
  "vfioscope also runs a program the floor and the peer do not have: the fexit of "
  "`__account_locked_vm` (type1's pin charge: the VM's pinned pages and its RLIMIT_MEMLOCK "
  "headroom), a second trampoline per call, and it reads the ioctl's argument from user "
  "memory (IOVA and size) at the entry and the unmapped size at the exit.")
p("")
p("| measurement | floor added | vfioscope above the floor | bpftrace above the floor "
  "| vfioscope / bpftrace above the floor (medians) | vfioscope cheaper in |")
p("|---|---|---|---|---|---|")
above = {}
for row, label, k in (("check_ns", "VFIO_CHECK_EXTENSION, ns per ioctl", 1),
                      ("info_ns", "VFIO_DEVICE_GET_INFO, ns per ioctl", 1),
                      ("map_ns", "MAP_DMA+UNMAP_DMA of 4 KiB, ns per ioctl", 2)):
    fl = paired(row, "floor", "none", k)
    va = paired(row, "vfioscope", "floor", k)
    ba = paired(row, "bpftrace", "floor", k)
    mv, mb = med(va), med(ba)
    r = mv / mb if mb and mb > 0 else None
    above[row] = r
    wins = sum(1 for a, b in zip(va, ba) if a < b)
    p(f"| {label} | {mmm(fl)} | {mmm(va)} | {mmm(ba)} | "
      f"{f'{r:.2f}' if r is not None else 'n/a (bpftrace not above the floor)'} | "
      f"{wins} of {len(va)} rounds |")
p("")
def read_tiers(path):
    t = {}
    try:
        for line in open(path):
            f = line.split()
            # the header and the start-up line are not classes
            if len(f) >= 2 and f[0] not in ("CLASS", "start-up"):
                t[f[0]] = f[1]
    except OSError:
        pass
    return t


tiers = read_tiers(args.guest_features)
if tiers:
    p("Hooks vfioscope used in the guest (`vfiostat --features`): "
      + ", ".join(f"{c} {t}" for c, t in tiers.items() if c != "bpf-lsm")
      + f"; BPF LSM {tiers.get('bpf-lsm', '?')} (no LSM program of the collectors)."
      " The bpftrace peer only traces the three ioctl entry points.")
    p("")
    p("For scale, published bare-metal costs per event (ANCHORS part 2): fentry ≈ 5 ns, "
      "fexit 5-12 ns, kprobe ≈ 16 ns, classic tracepoint ≈ 10 ns; ebpf_exporter +35-160 ns "
      "with a hash-map update; BPF ring buffer 12-22 M events/s with one producer. TCG "
      "emulates every JITed BPF instruction, so the absolute added costs here are far "
      "above those; the bpftrace column, same hooks in the same run, is the comparison.")
    p("")

def rratio(row, a, b):
    """per-round ratios a / b, rounds matched by number"""
    da, db = data.get((row, a), {}), data.get((row, b), {})
    return [da[r] / db[r] for r in sorted(da) if r in db and db[r]]


ptiers = read_tiers(args.patched_features)
if vals("map_ns", "patched-none"):
    p("## Patched modules (kernel/patches): disabled tracepoints, and the tracepoint tier")
    p("")
    p("The same ioctl loops in guest boots on the patched 6.12 modules, alternating with "
      "the stock boots. Untraced patched vs stock compares two boots (rounds matched by "
      "number), so boot-to-boot drift of the TCG host is in the spread; the added costs are paired "
      "within each boot like the table above. vfioscope's default on the patched modules "
      "is the tracepoint tier: device-fd ioctls at the series' vfio_ioctl_enter/exit "
      "(container and group fds have no tracepoint and keep fentry), plus the dma-results "
      "tracepoint inside the inlined map/unmap.")
    p("")
    p("| measurement | stock, untraced | patched, untraced | patched / stock per round (min / median / max) "
      "| added per ioctl by vfioscope, stock modules | added per ioctl by vfioscope, patched modules |")
    p("|---|---|---|---|---|---|")
    for row, label, k in (("check_ns", "VFIO_CHECK_EXTENSION, ns per ioctl", 1),
                          ("map_ns", "MAP_DMA+UNMAP_DMA of 4 KiB, ns per pair", 2),
                          ("info_ns", "VFIO_DEVICE_GET_INFO, ns per ioctl", 1)):
        if not vals(row, "patched-none"):
            continue
        p(f"| {label} | {mmm(vals(row, 'none'))} | {mmm(vals(row, 'patched-none'))} | "
          f"{mmm(rratio(row, 'patched-none', 'none'), '{:.3f}')} | "
          f"{mmm(paired(row, 'vfioscope', 'none', k))} | "
          f"{mmm(paired(row, 'patched-vfioscope', 'patched-none', k))} |")
    p("")
    if vals("info_ns", "patched-vfioscope-fentry"):
        p("### Tracepoint tier vs fentry tier, same event, same rounds")
        p("")
        p("The patched boot's rounds also run vfioscope with `--tier vfio-ioctl=fentry`: "
          "the same counting body behind fentry/fexit on vfio_device_fops_unl_ioctl "
          "instead of tp_btf on vfio_ioctl_enter/exit. GET_INFO is a device-fd ioctl, so "
          "it is the event the two tiers serve differently; CHECK_EXTENSION (a container "
          "fd) takes fentry in both modes and shows the noise between them.")
        p("")
        p("| measurement | untraced | tracepoint tier | fentry tier | added: tracepoint tier "
          "| added: fentry tier | tracepoint minus fentry, per round |")
        p("|---|---|---|---|---|---|---|")
        for row, label in (("info_ns", "VFIO_DEVICE_GET_INFO (device fd), ns per ioctl"),
                           ("check_ns", "VFIO_CHECK_EXTENSION (container fd, fentry in both), ns per ioctl")):
            p(f"| {label} | {mmm(vals(row, 'patched-none'))} | "
              f"{mmm(vals(row, 'patched-vfioscope'))} | {mmm(vals(row, 'patched-vfioscope-fentry'))} | "
              f"{mmm(paired(row, 'patched-vfioscope', 'patched-none'))} | "
              f"{mmm(paired(row, 'patched-vfioscope-fentry', 'patched-none'))} | "
              f"{mmm(paired(row, 'patched-vfioscope', 'patched-vfioscope-fentry'))} |")
        p("")
    if ptiers:
        p("Hooks on the patched modules (`vfiostat --features`): "
          + ", ".join(f"{c} {t}" for c, t in ptiers.items() if c != "bpf-lsm") + ".")
        p("")

lsm_modes = [m for m in ("host-", "") if vals("lsm_ioctl_ns", m + "none")]
p("## LSM fast path: vfio-policyd's BPF LSM programs on operations no policy concerns")
p("")
p("`tests/bench/syscall-loop`: FIONREAD on a pipe (the `file_ioctl` program returns "
  "before any map lookup for a non-VFIO command) and a 1-byte write to /dev/null (the "
  "`file_permission` program returns after reading the superblock magic), interleaved "
  "within each round: no BPF LSM program; the floor (`tests/bench/lsm-floor.c`: "
  "programs on the same two hooks that decide nothing, what any BPF LSM program costs); "
  "the daemon's programs (a MAP_DMA rate quota and an mdev cap, selecting no process).")
p("")
if info.get("lsm_host"):
    p(f"- host: {info['lsm_host']}: no native figure on this machine.")
    p("")
if lsm_modes:
    p("| where | operation | no LSM program, ns | floor, ns | policy, ns | policy added, ns | policy above the floor, ns | policy / none |")
    p("|---|---|---|---|---|---|---|---|")
    for m in lsm_modes:
        where = f"host {args.host_kernel} (native)" if m else f"guest {info.get('kernel', '?')} (TCG)"
        for what, label in (("ioctl", "ioctl(FIONREAD) on a pipe"), ("write", "write(2) of 1 byte to /dev/null")):
            row = f"lsm_{what}_ns"
            a, b = med(vals(row, m + "policy")), med(vals(row, m + "none"))
            rat = f"{a / b:.3f}" if a and b else "-"
            p(f"| {where} | {label} | {mmm(vals(row, m + 'none'), '{:.0f}')} | "
              f"{mmm(vals(row, m + 'floor'), '{:.0f}')} | "
              f"{mmm(vals(row, m + 'policy'), '{:.0f}')} | "
              f"{mmm(paired(row, m + 'policy', m + 'none'), '{:.0f}')} | "
              f"{mmm(paired(row, m + 'policy', m + 'floor'), '{:.0f}')} | {rat} |")
    p("")
    p(f"LSM programs attached with the policy: {info.get('lsm_links_policy', info.get('host-lsm_links_policy', '?'))}; "
      "none before and after each policy round, and none with a policy that has no rate or "
      "mdev quota (checked).")
    p("")

p("## Load + attach, ms (process start to \"attached\", 10 ms polling)")
p("")
p("A tool loads the classes it reads: `vfiosnoop -c ioctl` (the ioctl class, on the "
  "bpftrace peer's three entry points, plus the VM ledger's hooks) is the like-for-like "
  "figure against the peer; vfiostat loads every collector. The peer's figure includes "
  "bpftrace parsing its script and generating code with LLVM.")
p("")
p("| where | vfioscope, every collector (vfiostat) | vfioscope, the ioctl class (vfiosnoop -c ioctl) "
  "| bpftrace peer (ioctl script) | ioctl class / bpftrace, per round |")
p("|---|---|---|---|---|")
sr = rratio("attach_ms", "vfioscope-ioctl", "bpftrace")
p(f"| guest {info.get('kernel', '?')} | {mmm(vals('attach_ms', 'vfioscope'))} | "
  f"{mmm(vals('attach_ms', 'vfioscope-ioctl'))} | {mmm(vals('attach_ms', 'bpftrace'))} | "
  f"{mmm(sr, '{:.2f}')} |")
host = vals("host_attach_ms", "vfioscope")
# "bpf-lsm" reports whether BPF LSM is active, not a collector class
attachable = [c for c, t in read_tiers(args.host_features).items()
              if t != "unsupported" and c != "bpf-lsm"]
p(f"| host {args.host_kernel} | {mmm(host)} (classes attached: "
  f"{', '.join(attachable) if attachable else 'none: no VFIO or vDPA modules on this kernel'}) "
  "| not run | not run | - |")
p("")
p("Where vfioscope's start-up goes in the guest, ms, as each tool's `--features` reports it "
  "(a separate start of the same tool each round): probing the kernel (which modules, BTF "
  "functions and tracepoints exist: chooses the tiers), libbpf's load (its own parse of the "
  "kernel's BTF, CO-RE relocation, the verifier: the verifier's part is its own account, "
  "log level 4), and attaching the programs (a trampoline update in the kernel each).")
p("")
p("| tool | programs | probing the kernel | load (BTF, CO-RE, verifier) | of which the verifier "
  "| instructions the verifier processed | attach |")
p("|---|---|---|---|---|---|---|")
for m, label in (("vfioscope", "every collector"), ("vfioscope-ioctl", "the ioctl class")):
    p(f"| {label} | {mmm(vals('startup_programs', m))} | {mmm(vals('startup_probe_ms', m))} | "
      f"{mmm(vals('startup_load_ms', m))} | {mmm(vals('startup_verify_ms', m))} | "
      f"{mmm(vals('startup_insns', m))} | {mmm(vals('startup_attach_ms', m))} |")
p("")
p("## Ring buffer under overload (vfiosnoop -c ioctl -j, one producer flooding VFIO_CHECK_EXTENSION)")
p("")
p("Rates are over the flood's wall time. Delivered counts everything vfiosnoop got, "
  "including what the ring still held when the flood ended: with a small ring, delivered / s "
  "is the consumer's throughput (vfiosnoop writing NDJSON, flat out); a large ring inflates "
  "it by its capacity, and without drops it only repeats the producer's rate.")
p("")
p("| ring bytes | produced / s | delivered / s | dropped (counted) | limited by | produced == delivered + dropped |")
p("|---|---|---|---|---|---|")
rings = sorted({int(m) for (r, m) in data if r == "ring_dropped"})
ring_exact = ring_total = 0
for ring in rings:
    m = str(ring)
    pr, de, dr = data[("ring_produced", m)], data[("ring_delivered", m)], data[("ring_dropped", m)]
    exact = sum(1 for r in pr if pr[r] == de[r] + dr[r])
    ring_exact += exact
    ring_total += len(pr)
    p(f"| {ring} | {mmm(vals('ring_produced_per_s', m))} | "
      f"{mmm(vals('ring_delivered_per_s', m))} | {mmm(vals('ring_dropped', m))} | "
      f"{'consumer' if min(vals('ring_dropped', m)) > 0 else 'producer' if max(vals('ring_dropped', m)) == 0 else 'both'} | "
      f"exact in {exact} of {len(pr)} rounds |")
p("")
topcpu = vals("top_cpu_us_per_frame", "vfiotop")
toprss = vals("top_rss_kib", "vfiotop")
topff = vals("top_first_frame_ms", "vfiotop")
if topcpu:
    p("## vfiotop at 64 VMs / 256 devices (host, generated recording)")
    p("")
    p("`scripts/gen-top-replay.py --vms 64 --devices 256 --frames 60`, rendered with "
      "`vfiotop -b --replay`: the model and the text view as live, plus parsing the "
      "recording's JSON, so an upper bound of the live cost at 1 Hz.")
    p("")
    p("| measurement | min / median / max |")
    p("|---|---|")
    p(f"| CPU per frame, µs | {mmm(topcpu)} |")
    p(f"| max RSS, KiB | {mmm(toprss)} |")
    p(f"| first frame (process start to frame), ms | {mmm(topff)} |")
    p("")

pidle = vals("pd_idle_permille", "policyd")
if pidle:
    p(f"## vfio-policyd and vfiotop at fleet size (guest, synthetic maps: {info.get('fleet', '?')})")
    p("")
    p("`tests/bench/fill-maps` writes the synthetic VMs and devices into the daemon's pinned "
      "collector maps (their tgids belong to no process); the daemon runs with its policy, "
      "collectors and /metrics; vfiotop reads the same pinned set (`--shared`, 6 frames at 1 s). "
      "CPU comes from /proc clock ticks (10 ms) and `/usr/bin/time`, under TCG.")
    p("")
    p("| measurement | min / median / max |")
    p("|---|---|")
    p(f"| vfio-policyd idle CPU, per mille of a core | {mmm(pidle)} |")
    p(f"| vfio-policyd CPU per /metrics scrape, µs | {mmm(vals('pd_scrape_cpu_us', 'policyd'))} |")
    p(f"| vfio-policyd RSS, KiB | {mmm(vals('pd_rss_kib', 'policyd'))} |")
    p(f"| vfiotop (live, pinned maps) CPU per frame incl. start-up, µs | {mmm(vals('top_live_cpu_us_per_frame', 'vfiotop'))} |")
    p(f"| vfiotop (live, pinned maps) max RSS, KiB | {mmm(vals('top_live_rss_kib', 'vfiotop'))} |")
    p("")

# goals
chk = med(paired("check_ns", "vfioscope", "none"))
mp = med(paired("map_ns", "vfioscope", "none", 2))
kick = med(paired("kick_ns", "vfioscope", "none"))
att = med(vals("attach_ms", "vfioscope"))
maxprod = max(max(vals("ring_produced_per_s", str(x))) for x in rings) if rings else 0
maxdeliv = max(max(vals("ring_delivered_per_s", str(x))) for x in rings) if rings else 0


def verdict(v, limit):
    if v is None:
        return "not measured"
    return "met" if v <= limit else "not met"


p("## DESIGN.md section 7 goals")
p("")
p("| goal | measured (median) | verdict |")
p("|---|---|---|")
p(f"| traced VFIO ioctl: added p50 ≤ 150 ns | CHECK_EXTENSION {chk:.0f} ns, MAP/UNMAP {mp:.0f} ns per ioctl, under TCG | "
  f"{verdict(max(chk, mp), 150)} under TCG (bare metal not measured) |")
ab = [f"{n} {above[r]:.2f}" if above[r] is not None else f"{n} n/a"
      for r, n in (("check_ns", "CHECK_EXTENSION"), ("info_ns", "GET_INFO"), ("map_ns", "MAP/UNMAP"))]
ok = all(v is not None and v <= 0.5 for v in above.values())
p(f"| vfioscope's per-ioctl cost above the trampoline floor ≤ 0.5× bpftrace's (issue 17) | "
  f"vfioscope / bpftrace above the floor: {', '.join(ab)} (medians, under TCG) | "
  f"{'met' if ok else 'not met'} as measured |")
if lsm_modes:
    m = lsm_modes[0]
    li = med(paired("lsm_ioctl_ns", m + "policy", m + "none"))
    lw = med(paired("lsm_write_ns", m + "policy", m + "none"))
    fi = med(paired("lsm_ioctl_ns", m + "policy", m + "floor"))
    fw = med(paired("lsm_write_ns", m + "policy", m + "floor"))
    if m:
        v = verdict(max(li, lw), 20) + " natively"
    else:
        fl = med(paired("lsm_ioctl_ns", "floor", "none"))
        v = ("not shown either way: no native figure on this host (see the LSM section), and "
             f"under TCG a do-nothing BPF LSM program (the floor) already adds {fl:.0f} ns per ioctl; "
             f"the policy's fast path above that floor: {fi:.0f} ns (ioctl), {fw:.0f} ns (write)")
    p(f"| LSM fast path on non-VFIO ioctls ≤ 20 ns, < 1 % | ioctl +{li:.0f} ns, write +{lw:.0f} ns "
      f"({'host' if m else 'guest, TCG'}) | {v} |")
else:
    p("| LSM fast path on non-VFIO ioctls ≤ 20 ns | - | not measured (BPF LSM active neither on the host nor in the guest) |")
nq = info.get("lsm_links_no_quota", info.get("host-lsm_links_no_quota"))
p("| no LSM program attached when no quota is configured | collectors attached: "
  f"{info.get('lsm_progs_while_attached', '?')} LSM programs; vfio-policyd with a policy "
  f"without rate or mdev quotas: {nq if nq is not None else '?'} LSM links | "
  f"{'met' if info.get('lsm_progs_while_attached') == '0' and nq == '0' else 'not met' if nq else 'not measured'} |")
if kick is not None:
    kp = paired("kick_ns", "vfioscope", "none")
    base = vals("kick_ns", "none")
    noise = max(base) - min(base) if base else 0
    p(f"| vDPA kick accounting ≤ 15 ns per kick | {kick:.0f} ns per kick under TCG "
      f"(paired min / median / max {mmm(kp)}; untraced rounds alone differ by {noise:.0f} ns) | "
      + ("not resolved: the noise between untraced rounds is far above 15 ns, so this run "
         "shows the budget neither met nor missed" if noise > 150 else
         f"{verdict(kick, 15)} as measured") + " |")
else:
    p("| vDPA kick accounting ≤ 15 ns per kick | - | not measured (no vdpa_sim disk) |")
p(f"| ring buffer ≥ 2 M events/s | producer at most {maxprod:.0f} events/s, vfiosnoop -j "
  f"delivers at most {maxdeliv:.0f} /s, under TCG | "
  + ("met as measured |" if maxdeliv >= 2e6 else
     "not met as measured" + ("; a TCG guest cannot produce 2 M events/s, so the budget "
                              "itself is not shown either way |" if maxprod < 2e6 else " |")))
p(f"| ring buffer: zero unaccounted loss | produced == delivered + dropped in {ring_exact} of "
  f"{ring_total} rounds, over {len(rings)} ring sizes | "
  f"{'met' if ring_total and ring_exact == ring_total else 'not met'} |")
p(f"| load+attach of everything ≤ 500 ms | {att:.0f} ms in the TCG guest | {verdict(att, 500)} under TCG |")
sm = med(sr)
p(f"| load + attach of what a tool needs ≤ 0.5× bpftrace's (issue 17) | vfiosnoop -c ioctl "
  f"{med(vals('attach_ms', 'vfioscope-ioctl')):.0f} ms, bpftrace peer "
  f"{med(vals('attach_ms', 'bpftrace')):.0f} ms: {sm:.2f}× (median of the per-round ratios, "
  f"TCG guest) | {'met' if sm <= 0.5 else 'not met'} as measured |")
if topcpu:
    cpu_pct = med(topcpu) / 1e6 * 100      # one frame per second
    ok = cpu_pct <= 0.5 and med(toprss) <= 16 * 1024 and med(topff) <= 200
    p(f"| vfiotop ≤ 0.5 % CPU, RSS ≤ 16 MiB, first frame ≤ 200 ms (64 VMs / 256 devices) | "
      f"{cpu_pct:.3f} % of a core at 1 Hz, {med(toprss) / 1024:.1f} MiB, first frame "
      f"{med(topff):.0f} ms (replay, host) | {'met' if ok else 'not met'} |")
else:
    p("| vfiotop ≤ 0.5 % CPU, RSS ≤ 16 MiB, first frame ≤ 200 ms | - | not measured |")
if pidle:
    p(f"| daemon idle ≤ 0.1 % CPU | {med(pidle) / 10:.2f} % of a core at {info.get('fleet', '?')} "
      f"(guest, TCG) | {verdict(med(pidle), 1)} under TCG |")
else:
    p("| daemon idle ≤ 0.1 % CPU | - | not measured |")
tpf = paired("info_ns", "patched-vfioscope", "patched-vfioscope-fentry")
if tpf:
    tp_add = med(paired("info_ns", "patched-vfioscope", "patched-none"))
    fe_add = med(paired("info_ns", "patched-vfioscope-fentry", "patched-none"))
    wins = sum(1 for d in tpf if d < 0)
    p(f"| tracepoint tier costs less per event than the fentry tier (patched modules) | "
      f"GET_INFO: tracepoint +{tp_add:.0f} ns, fentry +{fe_add:.0f} ns per ioctl (medians); "
      f"tracepoint cheaper in {wins} of {len(tpf)} rounds, under TCG | "
      f"{'met' if med(tpf) < 0 else 'not met'} as measured |")
else:
    p("| tracepoint tier costs less per event than the fentry tier | - | not measured (no patched boot) |")
p("| migration arcs to 1 µs; downtime within ±2 ms | - | not a bench row: checked by the migration scenarios |")
print("\n".join(out))
