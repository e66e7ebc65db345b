# A hostile tenant against a MAP_DMA rate quota (BPF LSM, enforce): the VM
# process, matched by its QEMU-style -name, renames itself once matched,
# then maps through every entry it has at the same time: the 32-bit compat
# syscall (int $0x80), a forked child using the inherited fds, a forked
# child that closed them and got the container back over SCM_RIGHTS, a
# forked child exec'd under another name, and itself natively. Every path
# spends the one bucket of its VM: what all of them got accepted together
# equals the bucket (burst + rate x window, within one refill), and the
# daemon's counts equal what the processes saw, exactly. A process that
# merely claims the tenant's name without driving a device is nobody's VM:
# not matched, its RLIMIT_MEMLOCK untouched. /dev/vfio/devices (the vfio
# cdev) is used too where the kernel has it.
. "$VFIOSCOPE_REPO/tests/vm/lib.sh"
. "$VFIOSCOPE_REPO/tests/vm/policy-lib.sh"
O=$VFIOSCOPE_OUT
RATE=2
BURST=5
SECONDS_=3

grep -qw bpf /sys/kernel/security/lsm || unsupported "BPF LSM is not active: $(cat /sys/kernel/security/lsm)"

gcc -Wall -Werror -O2 -o $O/tenant -x c - <<'CEOF' || fail "building the tenant failed"
/* a VM process that tries to walk around its MAP_DMA quota */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

static int container = -1, group = -1;
static void *buf;
static volatile sig_atomic_t go;
static double seconds;

static void on_usr2(int sig) { (void)sig; go = 1; }

static void wait_go(const char *what)
{
	go = 0;
	printf("%s\n", what);
	fflush(stdout);
	while (!go)
		pause();
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

/* ioctl through the i386 entry: the 32-bit compat path */
static long ioctl32(int fd, unsigned int cmd, void *arg)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret)
		     : "a"(54), "b"(fd), "c"(cmd), "d"((uint32_t)(uintptr_t)arg)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret < 0 ? (errno = -ret, -1) : ret;
}

struct tally { uint64_t accepted, eagain, other, first, last; };

/* map and unmap 4 KiB at an iova of our own until the window ends */
static void flood(int fd, int compat, uint64_t iova, uint64_t end, struct tally *t)
{
	/* the argument must sit below 4 GiB for the 32-bit entry */
	struct vfio_iommu_type1_dma_map *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct vfio_iommu_type1_dma_unmap *unmap = (void *)(map + 1);

	if (map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	while (now_ns() < end) {
		long r;

		*map = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(*map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buf, .iova = iova, .size = 4096 };
		if (!t->first)
			t->first = now_ns();
		r = compat ? ioctl32(fd, VFIO_IOMMU_MAP_DMA, map) :
			     ioctl(fd, VFIO_IOMMU_MAP_DMA, map);
		t->last = now_ns();
		if (r == 0) {
			t->accepted++;
			*unmap = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(*unmap),
				.iova = iova, .size = 4096 };
			if ((compat ? ioctl32(fd, VFIO_IOMMU_UNMAP_DMA, unmap) :
				      ioctl(fd, VFIO_IOMMU_UNMAP_DMA, unmap)))
				t->other++;
		} else if (errno == EAGAIN) {
			t->eagain++;
		} else {
			fprintf(stderr, "tenant %d: MAP_DMA: %s\n", getpid(), strerror(errno));
			t->other++;
		}
		usleep(200);
	}
}

static void send_fd(int sock, int fd)
{
	char c = 0, ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec io = { &c, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1) {
		perror("sendmsg");
		exit(2);
	}
}

static int recv_fd(int sock)
{
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec io = { &c, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	int fd;

	if (recvmsg(sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m)) {
		perror("recvmsg");
		exit(2);
	}
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

/* a child: flood, then write its tally to @out */
static pid_t child(int out, int how, uint64_t iova, uint64_t end, int sock, char **argv)
{
	struct tally t = { 0 };
	pid_t p = fork();
	int fd = container;

	if (p)
		return p;
	if (how == 1) {		/* fds handed over, not inherited */
		close(container);
		close(group);
		fd = recv_fd(sock);
	} else if (how == 2) {	/* exec'd under another name */
		char fdarg[16], endarg[32];

		snprintf(fdarg, sizeof(fdarg), "%d", container);
		snprintf(endarg, sizeof(endarg), "%llu", (unsigned long long)end);
		dup2(out, 100);
		execl("/proc/self/exe", "helper", "--as-helper", fdarg, endarg, (char *)NULL);
		perror("exec");
		exit(2);
	}
	flood(fd, 0, iova, end, &t);
	if (write(out, &t, sizeof(t)) != sizeof(t))
		exit(2);
	exit(0);
}

/*
 * A fork storm: STORM_KIDS children, one a millisecond (as fast as the
 * guest forks; SECONDS caps it), each sleeping 100 ms (past at least one
 * of the daemon's syncs) before one MAP_DMA, its result a byte on a pipe.
 * Every child is the VM's: what they got accepted together is the
 * bucket's. A count, not a window: a slow guest forks fewer a second, and
 * the check needs the same number of chances to escape on every machine.
 */
#define STORM_KIDS 500
static int storm(void)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), first = 0, last = 0;
	unsigned long kids = 0, acc = 0, again = 0, other = 0;
	int pfd[2];
	char r;

	if (pipe(pfd))
		return 2;
	while (kids < STORM_KIDS && now_ns() < end) {
		pid_t p = fork();

		if (p < 0)
			return 2;
		if (!p) {
			struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map),
				.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
				.vaddr = (uintptr_t)buf, .iova = 0x1000000 + 4096ull * (kids % 4096),
				.size = 4096 };
			struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap),
				.iova = map.iova, .size = 4096 };

			usleep(100000);
			if (!ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
				r = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ? 'o' : 'a';
			else
				r = errno == EAGAIN ? 'e' : 'o';
			_exit(write(pfd[1], &r, 1) == 1 ? 0 : 2);
		}
		kids++;
		if (!first)
			first = now_ns() + 100000000ull;
		usleep(1000);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	close(pfd[1]);
	while (read(pfd[0], &r, 1) == 1) {
		acc += r == 'a';
		again += r == 'e';
		other += r == 'o';
	}
	last = now_ns();
	while (wait(NULL) > 0)
		;
	printf("storm_children %lu\nstorm_accepted %lu\nstorm_eagain %lu\nstorm_other %lu\n"
	       "storm_elapsed_ns %llu\n", kids, acc, again, other,
	       (unsigned long long)(last - first));
	return 0;
}

int main(int argc, char **argv)
{
	struct tally all = { 0 }, t = { 0 };
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int pipefd[2], sv[2], i, n = 0;
	uint64_t end;
	pid_t kids[3];

	if (argc == 4 && !strcmp(argv[1], "--as-helper")) {
		/* exec'd: only the fd number survived, and the tally pipe on 100 */
		buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		flood(atoi(argv[2]), 0, 0x300000, strtoull(argv[3], NULL, 10), &t);
		return write(100, &t, sizeof(t)) == sizeof(t) ? 0 : 2;
	}
	/* tenant GROUP SECONDS [--storm] -name guest=NAME */
	if (argc < 3)
		return 2;
	seconds = atof(argv[2]);
	signal(SIGUSR2, on_usr2);
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(argv[1], O_RDWR);
	if (container < 0 || group < 0 || ioctl(group, VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		perror("vfio set-up");
		return 2;
	}
	wait_go("ready");
	if (argc > 3 && !strcmp(argv[3], "--storm"))
		return storm();
	/* matched: now rename, comm and command line both */
	prctl(PR_SET_NAME, "innocent");
	for (i = 0; i < argc; i++)
		memset(argv[i], 'x', strlen(argv[i]));
	wait_go("renamed");

	if (pipe(pipefd) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 2;
	end = now_ns() + (uint64_t)(seconds * 1e9);
	kids[n++] = child(pipefd[1], 0, 0x100000, end, -1, argv);
	kids[n++] = child(pipefd[1], 1, 0x200000, end, sv[1], argv);
	send_fd(sv[0], container);
	kids[n++] = child(pipefd[1], 2, 0x300000, end, -1, argv);
	/* itself: the compat entry for half the window, then native */
	flood(container, 1, 0x400000, end - (uint64_t)(seconds * 0.5e9), &all);
	printf("compat_accepted %llu\ncompat_eagain %llu\n", (unsigned long long)all.accepted,
	       (unsigned long long)all.eagain);
	flood(container, 0, 0x500000, end, &all);
	for (i = 0; i < n; i++) {
		int status;

		if (read(pipefd[0], &t, sizeof(t)) != sizeof(t))
			return 2;
		all.accepted += t.accepted;
		all.eagain += t.eagain;
		all.other += t.other;
		if (t.first && (!all.first || t.first < all.first))
			all.first = t.first;
		if (t.last > all.last)
			all.last = t.last;
		printf("child_accepted %llu\n", (unsigned long long)t.accepted);
		waitpid(kids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			return 2;
	}
	printf("accepted %llu\neagain %llu\nother %llu\nelapsed_ns %llu\n",
	       (unsigned long long)all.accepted, (unsigned long long)all.eagain,
	       (unsigned long long)all.other, (unsigned long long)(all.last - all.first));
	return 0;
}
CEOF

cat > $O/p.yaml <<EOT
mode: enforce
discovery_interval_ms: 50
rules:
  - name: tenant
    match:
      - name: "tenant-a*"
    max_pinned_bytes: 4M
    rate:
      dma_map: {rate: $RATE, burst: $BURST}
EOT
pd_start $O/p.yaml
pd_ctl status > $O/status.txt
grep -q '^enforcing yes$' $O/status.txt || fail "not enforcing: $(cat $O/status.txt)"
for k in container group device; do
	grep -q "^kind $k charged$" $O/status.txt || fail "$k files not charged: $(cat $O/status.txt)"
done
grep -q '^link file_ioctl_compat pinned$' $O/status.txt ||
	fail "no compat link although the kernel has the hook: $(cat $O/status.txt)"
grep -q '^link fork pinned$' $O/status.txt || fail "no fork link: $(cat $O/status.txt)"
# a module loaded after start-up makes the daemon read kallsyms again,
# without the capabilities it dropped: the kinds must stay resolved
modprobe dummy || fail "modprobe dummy failed"
sleep 1
pd_ctl status > $O/status2.txt
for k in container group device; do
	grep -q "^kind $k charged$" $O/status2.txt ||
		fail "$k files not charged after a module load: $(cat $O/status2.txt)"
done
grep -q '^enforcing yes$' $O/status2.txt || fail "not enforcing after a module load: $(cat $O/status2.txt)"

# a claim without a device: an unprivileged process named like the tenant
setpriv --reuid=65534 --regid=65534 --clear-groups \
	python3 -c 'import time; time.sleep(60)' -name guest=tenant-a-claim &
claim=$!
before=$(prlimit --pid $claim --memlock --output SOFT,HARD --noheadings | tr -s ' ')

grp=/dev/vfio/$(basename "$(readlink /sys/bus/pci/devices/$EDU_BDF/iommu_group)")
$O/tenant $grp $SECONDS_ -name guest=tenant-a-vm1,debug-threads=on > $O/t.txt 2> $O/t.err &
t=$!
wait_for_line $O/t.txt ready 30 $t
pd_wait_vm $t
kill -USR2 $t
wait_for_line $O/t.txt renamed 30 $t
grep -q innocent /proc/$t/comm || fail "the tenant did not rename itself"
# a few discovery rounds see the new name; the process stays in its VM
sleep 1
pd_has vms "^vm $t " || fail "the renamed tenant left its VM: $(pd_ctl vms)"
kill -USR2 $t
wait $t || fail "the tenant failed: $(cat $O/t.err)"
cat $O/t.txt

acc=$(val $O/t.txt accepted)
again=$(val $O/t.txt eagain)
el=$(val $O/t.txt elapsed_ns)
expect_eq "calls failing otherwise" "$(val $O/t.txt other)" 0
want=$(echo "$BURST + $RATE * $el / 1000000000" | bc -l)
note "tenant (all paths): $acc accepted, $again EAGAIN over $el ns; the bucket allows $want"
echo "$acc $want" | awk '{ d = $1 - $2; if (d < 0) d = -d; exit !(d <= 1) }' ||
	fail "the tenant got $acc maps accepted through its paths, its one bucket allows $want (+-1)"
[ "$(val $O/t.txt compat_eagain)" -gt 0 ] || fail "the compat entry was never refused"
awk '$1 == "child_accepted"' $O/t.txt | wc -l | grep -qx 3 || fail "not every child reported"

# the daemon's counts: every process of the VM, summed per rule
sum() {	# CLASS FIELD
	pd_ctl vms | awk -v c="$1" -v f="$2" '
		$1 == "stat" && $3 == "tenant" && $7 == c {
			for (i = 8; i < NF; i += 2) if ($i == f) { v += $(i + 1); seen = 1 }
		}
		END { if (!seen) { print "none"; exit } print v }'
}
expect_eq "daemon: maps allowed (all processes)" "$(sum dma_map allowed)" "$acc"
expect_eq "daemon: maps throttled (all processes)" "$(sum dma_map throttled)" "$again"

# a fork storm from a second VM of the rule (its own bucket): a child
# forked while the daemon syncs its member table is the VM's all the same
$O/tenant $grp 60 --storm -name guest=tenant-a-vm2 > $O/s.txt 2> $O/s.err &
t2=$!
wait_for_line $O/s.txt ready 30 $t2
pd_wait_vm $t2
kill -USR2 $t2
wait $t2 || fail "the storm failed: $(cat $O/s.err)"
cat $O/s.txt
expect_eq "storm: calls failing otherwise" "$(val $O/s.txt storm_other)" 0
expect_eq "storm: children forked (500 unless 60 s ran out)" "$(val $O/s.txt storm_children)" 500
sacc=$(val $O/s.txt storm_accepted)
swant=$(echo "$BURST + $RATE * $(val $O/s.txt storm_elapsed_ns) / 1000000000 + 1" | bc -l)
note "storm: $sacc of $(val $O/s.txt storm_children) children's maps accepted; the bucket allows $swant"
echo "$sacc $swant" | awk '{ exit !($1 <= $2) }' ||
	fail "fork storm: $sacc children's maps accepted, the VM's bucket allows $swant: children escaped their VM"

# the claim without a device was never matched nor touched
pd_has vms "^vm $claim " && fail "a process with no device matched by its claimed name: $(pd_ctl vms)"
expect_eq "the claimant's RLIMIT_MEMLOCK" \
	"$(prlimit --pid $claim --memlock --output SOFT,HARD --noheadings | tr -s ' ')" "$before"
kill $claim

if [ -d /dev/vfio/devices ]; then
	note "this kernel has the vfio cdev: device files opened there are classified by f_op"
else
	note "no /dev/vfio/devices on this kernel (CONFIG_VFIO_DEVICE_CDEV needs IOMMUFD): cdev path not exercised"
fi
pd_has status '^unclassified_calls 0$' || fail "calls on unclassified VFIO files: $(pd_ctl status)"
kill -TERM $pd
wait $pd || fail "daemon exit: $(tail -5 $O/pd.err)"
[ -z "$(kernel_complaints)" ] || fail "kernel: $(kernel_complaints)"
