# Bad input to mdacc gets the proper errno and never a kernel complaint:
# malformed ioctls, out-of-range region accesses, bad queue programming,
# failing DMA, unmapping a ring in use, forbidden or malformed migration
# (bad magic/version/queue count, truncated stream, data fd after the
# step), and the debug_fault knob making the driver misbehave on purpose
# (bad_region_info, fail_stop_copy, drop_irq) so a checker can see it.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
OUT=$VFIOSCOPE_OUT
T=$MDACC_PARENT/mdev_supported_types
U=6d646163-0000-4000-8000-000000000031
D=/sys/bus/mdev/devices/$U
echo $U > $T/mdacc-1q/create || fail "create $U"

cat > $OUT/poke.py <<'PY'
import ctypes, errno, fcntl, mmap, os, struct, sys

uuid = sys.argv[1]
PRECOPY = sys.argv[2] == "1"
fails = []

def IO(nr): return (0x3b << 8) | (100 + nr)
GET_API, CHECK_EXT, SET_IOMMU, GROUP_STATUS, SET_CONTAINER = IO(0), IO(1), IO(2), IO(3), IO(4)
GET_DEVICE_FD, DEV_INFO, REGION_INFO, IRQ_INFO, SET_IRQS, RESET = IO(6), IO(7), IO(8), IO(9), IO(10), IO(11)
MAP_DMA, UNMAP_DMA, FEATURE = IO(13), IO(14), IO(17)
PRECOPY_INFO = IO(21)
BAR0, CFG = 0, 7
STOP, RUNNING, STOP_COPY, RESUMING = 1, 2, 3, 4

def check(what, cond):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

def expect_errno(what, want, fn):
    try:
        fn()
    except OSError as e:
        check("%s -> %s" % (what, errno.errorcode.get(e.errno, e.errno)), e.errno == want)
        return
    check("%s -> success, want %s" % (what, errno.errorcode[want]), False)

def ioctl_buf(fd, req, buf):
    b = bytearray(buf)
    r = fcntl.ioctl(fd, req, b, True)
    return r, bytes(b)

grp = os.readlink("/sys/bus/mdev/devices/%s/iommu_group" % uuid).split("/")[-1]
cfd = os.open("/dev/vfio/vfio", os.O_RDWR)
gfd = os.open("/dev/vfio/" + grp, os.O_RDWR)
ioctl_buf(gfd, SET_CONTAINER, struct.pack("i", cfd))
fcntl.ioctl(cfd, SET_IOMMU, 3)
dfd, _ = ioctl_buf(gfd, GET_DEVICE_FD, uuid.encode() + b"\0")

def region(index, argsz=32):
    return ioctl_buf(dfd, REGION_INFO, struct.pack("IIIIQQ", argsz, 0, index, 0, 0, 0))[1]

def bar_off(i): return i << 40
def rd(index, off, n): return os.pread(dfd, n, bar_off(index) + off)
def wr(index, off, data): return os.pwrite(dfd, data, bar_off(index) + off)
def r32(off): return struct.unpack("<I", rd(BAR0, off, 4))[0]
def r64(off): return struct.unpack("<Q", rd(BAR0, off, 8))[0]
def w32(off, v): wr(BAR0, off, struct.pack("<I", v))
def w64(off, v): wr(BAR0, off, struct.pack("<Q", v))
def irqs(index, flags, start, count, data=b""):
    return ioctl_buf(dfd, SET_IRQS, struct.pack("IIIII", 20 + len(data), flags, index, start, count) + data)
EVENTFD, NONE_, TRIGGER, MASK = 1 << 2, 1 << 0, 1 << 5, 1 << 3

# ---- ioctls
expect_errno("GET_REGION_INFO index 9", errno.EINVAL, lambda: region(9))
expect_errno("GET_REGION_INFO argsz 8", errno.EINVAL, lambda: region(0, 8))
expect_errno("GET_IRQ_INFO index 5", errno.EINVAL,
             lambda: ioctl_buf(dfd, IRQ_INFO, struct.pack("IIII", 16, 0, 5, 0)))
efd = os.eventfd(0) if hasattr(os, "eventfd") else None
if efd is None:
    import ctypes.util
    libc = ctypes.CDLL(None, use_errno=True)
    efd = libc.eventfd(0, 0)
ev = struct.pack("i", efd)
expect_errno("SET_IRQS MSI-X eventfd", errno.EINVAL, lambda: irqs(2, EVENTFD | TRIGGER, 0, 1, ev))
expect_errno("SET_IRQS INTx count 2", errno.EINVAL, lambda: irqs(0, EVENTFD | TRIGGER, 0, 2, ev + ev))
expect_errno("SET_IRQS INTx MASK", errno.EINVAL, lambda: irqs(0, NONE_ | MASK, 0, 1))
expect_errno("SET_IRQS MSI bad fd", errno.EBADF, lambda: irqs(1, EVENTFD | TRIGGER, 0, 1, struct.pack("i", 999)))
expect_errno("SET_IRQS MSI fd -2", errno.EINVAL, lambda: irqs(1, EVENTFD | TRIGGER, 0, 1, struct.pack("i", -2)))
irqs(1, EVENTFD | TRIGGER, 0, 1, ev)
expect_errno("SET_IRQS INTx while MSI armed", errno.EBUSY, lambda: irqs(0, EVENTFD | TRIGGER, 0, 1, ev))
irqs(1, NONE_ | TRIGGER, 0, 1)   # test trigger
check("DATA_NONE trigger signals the eventfd", struct.unpack("Q", os.read(efd, 8))[0] == 1)
irqs(1, NONE_ | TRIGGER, 0, 0)   # disarm
irqs(0, EVENTFD | TRIGGER, 0, 1, ev)
irqs(0, NONE_ | TRIGGER, 0, 0)
expect_errno("unknown ioctl", errno.ENOTTY, lambda: fcntl.ioctl(dfd, (0x3b << 8) | 200, 0))

# ---- regions
expect_errno("BAR0 2-byte read", errno.EINVAL, lambda: rd(BAR0, 0, 2))
expect_errno("BAR0 unaligned read", errno.EINVAL, lambda: rd(BAR0, 2, 4))
expect_errno("BAR0 unaligned 8-byte read", errno.EINVAL, lambda: rd(BAR0, 4, 8))
expect_errno("BAR0 read past the end", errno.EINVAL, lambda: rd(BAR0, 0x1000, 4))
expect_errno("BAR1 read (size 0)", errno.EINVAL, lambda: rd(1, 0, 4))
expect_errno("region 9 read", errno.EINVAL, lambda: rd(9, 0, 4))
expect_errno("config read across the end", errno.EINVAL, lambda: rd(CFG, 0xfe, 4))
expect_errno("config read past the end", errno.EINVAL, lambda: rd(CFG, 0x100, 1))
check("config read of 256 bytes", len(rd(CFG, 0, 256)) == 256)
wr(CFG, 0, b"\xff\xff")
check("vendor ID read-only", rd(CFG, 0, 2) == b"\x34\x12")
wr(CFG, 0x10, b"\xff\xff\xff\xff")
check("BAR0 sizing", struct.unpack("<I", rd(CFG, 0x10, 4))[0] == 0xfffff000)
check("BAR0 region size", struct.unpack("IIIIQQ", region(BAR0))[4] == 0x1000)

# ---- device programming
ioctl_buf(dfd, RESET, b"")
wr(CFG, 4, struct.pack("<H", 0x6))           # memory + bus master
Q0 = 0x100
w64(Q0, 0x10000000); w32(Q0 + 8, 3); w32(Q0 + 0xc, 1)
check("QSIZE 3 refused", r32(Q0 + 0xc) == 0 and r32(0x10) & 2)
w32(0xc, 2)                                   # CTRL_RESET
check("CTRL_RESET clears the error", r32(0x10) == 0)
w64(Q0, 0x70000000); w32(Q0 + 8, 8); w32(Q0 + 0xc, 1)
check("unmapped ring refused", r32(Q0 + 0xc) == 0 and r32(0x10) & 2)
w32(0xc, 2)
w64(Q0, 0x10000123); w32(Q0 + 8, 8); w32(Q0 + 0xc, 1)
check("unaligned QBASE refused", r32(Q0 + 0xc) == 0 and r32(0x10) & 2)
w32(0xc, 2)

SIZE = 1 << 20
mem = mmap.mmap(-1, SIZE)
vaddr = ctypes.addressof(ctypes.c_char.from_buffer(mem))
IOVA = 0x10000000
ioctl_buf(cfd, MAP_DMA, struct.pack("IIQQQ", 32, 3, vaddr, IOVA, SIZE))
w64(Q0, IOVA); w32(Q0 + 8, 8); w32(Q0 + 0xc, 1); w32(0xc, 1)
check("queue enabled on mapped memory", r32(Q0 + 0xc) == 1 and r32(0x10) == 0)
w32(Q0 + 0x10, 8)
check("TAIL >= QSIZE refused", r32(Q0 + 0x10) == 0 and r32(0x10) & 2)
w32(0xc, 2)
w64(Q0, IOVA); w32(Q0 + 8, 8); w32(Q0 + 0xc, 1); w32(0xc, 1)

def job(slot, op, src, dst, ln, arg=0):
    mem[slot * 32:(slot + 1) * 32] = struct.pack("<IIQQII", op | arg << 8, 0, src, dst, ln, 0)
def status(slot): return struct.unpack("<I", mem[slot * 32 + 28:slot * 32 + 32])[0]
import time
def wait_head(h):
    for _ in range(2000):
        if r32(Q0 + 0x14) == h:
            return True
        time.sleep(0.005)
    return False
mem[0x8000:0x8010] = b"0123456789abcdef"
job(0, 1, IOVA + 0x8000, IOVA + 0x9000, 16)          # good COPY
job(1, 1, 0x50000000, IOVA + 0x9000, 16)             # unmapped source
job(2, 3, 0, 0x50000000, 16, 0x5a)                   # unmapped destination
job(3, 1, IOVA + 0x8000, IOVA + 0x9000, 0)           # zero length
job(4, 9, IOVA + 0x8000, IOVA + 0x9000, 16)          # unknown op
job(5, 1, IOVA + 0x8000, IOVA + 0x9000, 65537)       # too long
job(6, 2, IOVA + 0xff000, IOVA + 0x9000, 0x2000)     # source runs off the mapping
w32(Q0 + 0x10, 7)
check("all 7 jobs processed", wait_head(7))
check("good job done", status(0) == 1 and bytes(mem[0x9000:0x9010]) == b"0123456789abcdef")
for s in range(1, 7):
    st = status(s)
    check("bad job %d failed with an errno (0x%x)" % (s, st), st & 0x80000000 and 0 < (st & 0xffff) < 4096)
check("zero-length job: EINVAL", status(3) == 0x80000000 | errno.EINVAL)
check("unknown op: EINVAL", status(4) == 0x80000000 | errno.EINVAL)
check("JOBS_FAILED 6", r64(0x30) == 6 and r64(0x20) == 1)
check("STATUS_ERROR after failed jobs", r32(0x10) & 2)
check("Q_JOBS counts failures too", r32(Q0 + 0x18) == 7)
# unmapping the ring in use: the driver unpins it and disables the queue
ioctl_buf(cfd, UNMAP_DMA, struct.pack("IIQQ", 24, 0, IOVA, SIZE))
check("ring unmapped: queue disabled", r32(Q0 + 0xc) == 0)
ioctl_buf(cfd, MAP_DMA, struct.pack("IIQQQ", 32, 3, vaddr, IOVA, SIZE))

# ---- migration
def feature_state(flags, state=0):
    r, b = ioctl_buf(dfd, FEATURE, struct.pack("IIIi", 16, flags, state, -1))
    return struct.unpack("IIIi", b)
def set_state(st): return feature_state((1 << 17) | 2, st)[3]
def get_state(): return feature_state((1 << 16) | 2)[2]
ioctl_buf(dfd, RESET, b"")
expect_errno("migrate to state 9", errno.EINVAL, lambda: set_state(9))
expect_errno("migrate to ERROR", errno.EINVAL, lambda: set_state(0))
check("still RUNNING", get_state() == RUNNING)

def record(magic=0x4d44414d, version=1, size=440, nq=1, jobs_done=0, config=None):
    r = struct.pack("<IIIIIIIIQQQ", magic, version, size, nq, 0, 0, 0, 0, jobs_done, 0, 0)
    r += config if config is not None else bytes(256)
    return r + bytes(4 * 32)

cfg = rd(CFG, 0, 256)
set_state(STOP)
for what, rec in (("bad magic", record(magic=1)), ("bad version", record(version=2)),
                  ("bad size", record(size=100)), ("4 queues into a 1-queue type", record(nq=4))):
    fd = set_state(RESUMING)
    expect_errno("resume data with " + what, errno.EINVAL, lambda: os.write(fd, rec))
    expect_errno("RESUMING -> STOP after " + what, errno.EINVAL, lambda: set_state(STOP))
    check("state after a refused load is RESUMING", get_state() == RESUMING)
    os.close(fd)
    ioctl_buf(dfd, RESET, b"")
    set_state(STOP)
fd = set_state(RESUMING)
os.write(fd, record(config=cfg)[:100])
expect_errno("RESUMING -> STOP on a truncated record", errno.EINVAL, lambda: set_state(STOP))
os.close(fd)
ioctl_buf(dfd, RESET, b"")
set_state(STOP)
fd = set_state(RESUMING)
os.write(fd, record(jobs_done=12345, config=cfg))
set_state(STOP)
check("valid record loaded", r64(0x20) == 12345)
expect_errno("data fd after its step", errno.ENODEV, lambda: os.write(fd, b"x"))
os.close(fd)
sfd = set_state(STOP_COPY)
data = os.read(sfd, 4096)
check("STOP_COPY data is one 440-byte record", len(data) == 440 and os.read(sfd, 4096) == b"")
if PRECOPY:
    expect_errno("PRECOPY_INFO outside PRE_COPY", errno.EINVAL,
                 lambda: ioctl_buf(sfd, PRECOPY_INFO, struct.pack("IIQQ", 24, 0, 0, 0)))
set_state(STOP)
expect_errno("saving fd after STOP_COPY -> STOP", errno.ENODEV, lambda: os.read(sfd, 10))
os.close(sfd)
set_state(RUNNING)
check("back to RUNNING", get_state() == RUNNING)

# ---- debug_fault
def fault(v):
    with open("/sys/bus/mdev/devices/%s/debug_fault" % uuid, "w") as f:
        f.write(v)
fault("bad_region_info")
check("bad_region_info: BAR0 reported as 0x800", struct.unpack("IIIIQQ", region(BAR0))[4] == 0x800)
fault("fail_stop_copy")
set_state(STOP)
expect_errno("fail_stop_copy: STOP -> STOP_COPY", errno.EIO, lambda: set_state(STOP_COPY))
check("state after the failed arc is STOP", get_state() == STOP)
set_state(RUNNING)
fault("none")
check("fault cleared", struct.unpack("IIIIQQ", region(BAR0))[4] == 0x1000)
expect_errno("debug_fault 'bogus'", errno.EINVAL, lambda: fault("bogus"))

os.close(dfd)
os.close(gfd)
os.close(cfd)
print("%d failures" % len(fails))
sys.exit(1 if fails else 0)
PY

# VFIO_MIG_GET_PRECOPY_INFO exists from v6.2
case $(uname -r) in 6.1.*) pre=0 ;; *) pre=1 ;; esac
python3 $OUT/poke.py $U $pre | tee $OUT/poke.txt
[ "${PIPESTATUS[0]}" = 0 ] || fail "bad-input checks failed: $(grep ^FAIL $OUT/poke.txt | head -5)"

# drop_irq: jobs complete, no interrupt arrives
echo drop_irq > $D/debug_fault
vfio-exercise mdacc-jobs $U -n 10 -s 5 --irq > $OUT/drop.txt || fail "mdacc-jobs under drop_irq failed"
expect_eq "jobs verified under drop_irq" "$(awk '$1 == "jobs_verified" { print $2 }' $OUT/drop.txt)" 10
expect_eq "interrupts under drop_irq" "$(awk '$1 == "irqs" { print $2 }' $OUT/drop.txt)" 0
echo none > $D/debug_fault

# fail_stop_copy: the migration engine sees the arc fail with EIO
U2=6d646163-0000-4000-8000-000000000032
echo $U2 > $T/mdacc-1q/create || fail "create $U2"
echo fail_stop_copy > $D/debug_fault
rc=0
vfio-exercise migrate $U $U2 --workload mdacc > $OUT/mig-fail.txt 2>&1 || rc=$?
expect_eq "migration with fail_stop_copy: exit status" $rc 3
grep -q "^migration failed src STOP STOP_COPY 5$" $OUT/mig-fail.txt ||
	fail "no EIO on STOP -> STOP_COPY: $(grep -E '^(arc|migration)' $OUT/mig-fail.txt)"
grep -q "^state_after_failure src STOP $U$" $OUT/mig-fail.txt || fail "source $U not left in STOP"
echo none > $D/debug_fault
echo 1 > /sys/bus/mdev/devices/$U2/remove

echo 1 > $D/remove
c=$(kernel_complaints)
[ -z "$c" ] || fail "kernel complaints: $c"
echo "mdacc bad input OK"
