#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write a synthetic vfiotop recording (user/lib/record.h, version 1).

    scripts/gen-top-replay.py [--vms 64] [--devices 256] [--frames 60] > FILE
    vfiotop -b --replay FILE         (or -j; measure with /usr/bin/time)

VM i owns devices/vms devices; each device counts ioctls of a few commands
per frame (steady rates), DMA maps, pinned memory and, for every fourth
device, a vDPA queue. The sizes are the model's (bpf/abi.h): the header
check of --replay rejects a file written for another ABI. The layouts
below are packed by hand: the ABI version and every struct's size are read
from bpf/abi.h, and a layout whose size differs stops the script.
"""
import argparse
import os
import re
import struct
import sys

ABI_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bpf", "abi.h")


def abi():
    """bpf/abi.h's VFS_ABI_VERSION and its VFS_ABI_ASSERT sizes by struct name"""
    text = open(ABI_H).read()
    version = int(re.search(r"#define\s+VFS_ABI_VERSION\s+(\d+)", text).group(1))
    sizes = {m.group(1): int(m.group(2))
             for m in re.finditer(r"VFS_ABI_ASSERT\(struct (\w+),\s*(\d+)\)", text)}
    return version, sizes


# the value layouts this script packs, by map, and their struct in bpf/abi.h
VALUES = {
    "vm_info": ("vfs_vm_info", "<QQ16sQQQQIIQII256s192s"),
    "vm_stats": ("vfs_vm_val", "<QQQQQQqQQQ"),
    "obj_info": ("vfs_obj_info", "<48sQQIIIIQ"),
    "vdpa_info": ("vfs_vdpa_info", "<48sQIIIIQ"),
}

SLOTS = 32
CMDS = (0x3b6b, 0x3b6c, 0x3b6d, 0x3b6e)     # device GET_INFO .. GET_IRQ_INFO


def name(s, n):
    b = s.encode()[:n]
    return b + b"\0" * (n - len(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=64)
    ap.add_argument("--devices", type=int, default=256)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    a = ap.parse_args()
    if a.vms < 1 or a.devices < 1 or a.frames < 1:
        ap.error("--vms, --devices and --frames must be at least 1")
    out = sys.stdout
    version, asserted = abi()
    for m, (st, fmt) in VALUES.items():
        if struct.calcsize(fmt) != asserted.get(st):
            sys.exit(f"gen-top-replay.py: struct {st} is {asserted.get(st)} bytes in bpf/abi.h, "
                     f"the layout packed here for {m} is {struct.calcsize(fmt)}: update VALUES")
    sizes = {"ioctl_stats": (asserted["vfs_cmd_key"], asserted["vfs_cmd_val"]),
             "vm_stats": (4, asserted["vfs_vm_val"]), "vm_info": (4, asserted["vfs_vm_info"]),
             "obj_info": (8, asserted["vfs_obj_info"]), "vq_stats": (16, 16),
             "vdpa_info": (8, asserted["vfs_vdpa_info"])}
    out.write('{"format":"vfiotop-record","version":1,"abi":%d,"page_size":4096,"maps":{%s}}\n' %
              (version, ",".join('"%s":{"key_size":%d,"value_size":%d}' % (k, v[0], v[1])
                                 for k, v in sizes.items())))
    t0, rt0 = 1_000_000_000_000, 1_800_000_000_000_000_000
    step = int(a.interval * 1e9)
    for f in range(1, a.frames + 1):
        maps = {k: [] for k in sizes}
        names = []
        for v in range(a.vms):
            pid = 10000 + v
            names.append('[%d,"vm-%03d"]' % (pid, v))
            # the command line captured at first sight names the VM too
            argv = b"qemu-system-x86_64\0-name\0guest=vm-%03d,debug-threads=on\0" % v
            maps["vm_info"].append(struct.pack("<I", pid).hex() + struct.pack(
                VALUES["vm_info"][1], 0, 1 + v, name("qemu-%d" % v, 16), 1024 * (v + 1), 0,
                0, 8 << 30, 1, 0, 0, len(argv), len(argv), argv, b"").hex())
            maps["vm_stats"].append(struct.pack("<I", pid).hex() + struct.pack(
                VALUES["vm_stats"][1], 10 * f, 10 * f * 65536, 0, 9 * f, 9 * f * 65536, 0,
                16 * f, 0, 0, f).hex())
        for d in range(a.devices):
            obj = 0xffff888000000000 + d * 0x1000
            pid = 10000 + d % a.vms
            if d % 4 == 3:
                maps["vdpa_info"].append(struct.pack("<Q", obj).hex() + struct.pack(
                    VALUES["vdpa_info"][1], name("vdpa%d" % d, 48), 0, pid, 15, 2, 1, 0).hex())
                for q in range(2):
                    maps["vq_stats"].append(struct.pack("<QII", obj, q, 2).hex() + struct.pack(
                        "<QQ", 100 * f * (q + 1), 90 * f * (q + 1)).hex())
                continue
            maps["obj_info"].append(struct.pack("<Q", obj).hex() + struct.pack(
                VALUES["obj_info"][1],
                name("0000:%02x:%02x.%d" % (d // 64, d % 64 // 8, d % 8), 48),
                0, 1, pid, 3, 10 + d, 0, 0).hex())
            for i, cmd in enumerate(CMDS):
                n = (d + 1) * (i + 1) * f
                hist = [0] * SLOTS
                hist[10 + i] = n
                maps["ioctl_stats"].append(struct.pack("<QIIII", obj, pid, cmd, 3, 0).hex() +
                                           struct.pack("<QQQQ", n, f if i == 3 else 0,
                                                       n * 1500, 8000).hex() +
                                           struct.pack("<%dI" % SLOTS, *hist).hex())
        out.write('{"frame":%d,"ts_ns":%d,"rt_ns":%d,"lost":0,"names":[%s],"maps":{%s},'
                  '"events":[]}\n' % (f, t0 + f * step, rt0 + f * step, ",".join(names),
                                      ",".join('"%s":[%s]' % (k, ",".join('"%s"' % e for e in v))
                                               for k, v in maps.items())))


if __name__ == "__main__":
    main()
