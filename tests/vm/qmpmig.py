#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Drive a QEMU live migration over QMP (plain socket and JSON).

qmpmig.py [--kill-destination PID] SRC_QMP DST_QMP URI OUT.json
qmpmig.py --check-arcs MIG.json OUT.json

Both QEMUs already listen on their QMP unix sockets; the destination was
started with `-incoming URI`. Pauses and resumes the source once (see
main), raises the source's downtime limit (nested TCG
moves RAM slowly: without it QEMU would never switch over), migrates, waits
for the source to complete and the destination to run, and writes to
OUT.json every event each side sent (VFIO_MIGRATION, STOP, RESUME, ...,
with QEMU's wall-clock timestamps) and the source's final query-migrate.
Exits non-zero with a sentence when the migration fails or times out.

With --kill-destination PID (the destination QEMU's pid) the migration
is made to fail: the stream is throttled (256 KiB/s, the default
downtime limit) so that it stays in pre-copy; once the source's device is
in PRE_COPY and the destination's in RESUMING, and half a second later,
the destination is killed (SIGKILL). Then the source must report the
migration failed and bring its device back to running (QEMU's own
recovery, VFIO_MIGRATION "running"), and its VM must run; OUT.json holds
the events, the source's final query-migrate and query-status, and the
wall-clock time of the kill.

With --check-arcs, after a completed migration of one device: every
VFIO_MIGRATION event in OUT.json (what the migration wrote) is compared
with the end of vfiomig's arc into that state on that side (MIG.json: the
first line of vfiomig -j); prints each offset and exits non-zero when an
event has no arc or is out of tolerance (check_arcs).
"""
import json
import os
import select
import signal
import socket
import sys
import time


class Qmp:
    def __init__(self, path, name):
        self.name = name
        self.events = []
        self.buf = b""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(300):
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.1)
        else:
            die(f"{name}: cannot connect to QMP at {path}")
        greeting = self.read(30)
        if greeting is None or "QMP" not in greeting:
            die(f"{name}: no QMP greeting: {greeting}")
        self.cmd("qmp_capabilities")

    def read(self, timeout):
        """One message (dict) within TIMEOUT seconds, or None."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                die(f"{self.name}: QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def pump(self, timeout=0.0):
        """Collect the events sent so far (waiting up to TIMEOUT for one)."""
        while True:
            msg = self.read(timeout)
            if msg is None:
                return
            timeout = 0.0
            if "event" in msg:
                self.events.append(msg)

    def cmd(self, execute, arguments=None):
        req = {"execute": execute}
        if arguments is not None:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.read(60)
            if msg is None:
                die(f"{self.name}: no answer to {execute}")
            if "event" in msg:
                self.events.append(msg)
            elif "error" in msg:
                die(f"{self.name}: {execute}: {msg['error'].get('desc')}")
            elif "return" in msg:
                return msg["return"]

    def saw(self, event, data):
        return any(e["event"] == event and
                   all(e.get("data", {}).get(k) == v for k, v in data.items())
                   for e in self.events)


def die(msg):
    print(f"qmpmig: {msg}", file=sys.stderr)
    sys.exit(1)


STATES = {"stop": "STOP", "running": "RUNNING", "stop-copy": "STOP_COPY",
          "resuming": "RESUMING", "running-p2p": "RUNNING_P2P", "pre-copy": "PRE_COPY",
          "pre-copy-p2p": "PRE_COPY_P2P"}


def check_arcs(mig_path, qmp_path):
    """Every VFIO_MIGRATION event between the end of its arc and the next arc.

    Clocks: QMP timestamps are wall clock (seconds + microseconds); the
    arcs are CLOCK_MONOTONIC with vfiomig's live CLOCK_REALTIME -
    CLOCK_MONOTONIC offset (realtime_offset_ns), so an arc's end in wall
    clock is end_ns + realtime_offset_ns, compared to the event's timestamp
    as is. QEMU stamps its event once its ioctl returned and before it asks
    the device for anything else, so each event lies after the end of the
    arc into its state (0.2 ms of slack for the two clocks' reading) and
    before the start of that side's next arc: an order, not a delay. How
    late QEMU's thread gets to stamp it is QEMU's own (its first migration
    code paged in from the guest's 9p root, a vCPU the host descheduled:
    5 ms seen once under load), so a single event's delay is bounded only
    by that order (100 ms after the last arc of a side). The median of all
    must be within 5 ms: 0.3 ms on an idle host, 1.1 ms seen on one whose
    CPU was a third stolen; a wrong clock conversion is off by far more.
    Returns the exit status.
    """
    with open(mig_path) as f:
        mig = json.loads(f.readline())
    with open(qmp_path) as f:
        qmp = json.load(f)
    off = mig["realtime_offset_ns"]
    arcs = mig["devices"][0]["arcs"]
    slack, last_max = 200000, 100000000
    worst, bad, n, offs = 0, 0, 0, []
    for side, key in (("src", "source_events"), ("dst", "destination_events")):
        mine = sorted((a for a in arcs if a["side"] == side), key=lambda a: a["start_ns"])
        for e in qmp[key]:
            if e["event"] != "VFIO_MIGRATION":
                continue
            n += 1
            want = STATES[e["data"]["device-state"]]
            t = (e["timestamp"]["seconds"] * 1000000 + e["timestamp"]["microseconds"]) * 1000
            # the arc it follows: the latest into its state that ended before it
            into = [a for a in mine if a["to"] == want and a["ret"] == 0
                    and a["end_ns"] + off <= t + slack]
            if not into:
                print(f"FAIL: {side} event {want} at {t}: vfiomig has no arc into it that "
                      "ended before it")
                bad += 1
                continue
            a = max(into, key=lambda x: x["end_ns"])
            d = t - (a["end_ns"] + off)
            nxt = [x["start_ns"] + off for x in mine if x["start_ns"] > a["end_ns"]]
            print(f"-- {side} {want:12s} QEMU event - arc end = {d / 1e6:+.3f} ms" +
                  (f", next arc {(min(nxt) - t) / 1e6:.3f} ms later" if nxt else ", its last arc"))
            worst = max(worst, abs(d))
            offs.append(d)
            if nxt and t > min(nxt) + slack:
                print(f"FAIL: {side} {want}: QEMU's event comes after the next arc started")
                bad += 1
            if not nxt and d > last_max:
                print(f"FAIL: {side} {want}: QEMU's event {d / 1e6:+.3f} ms after the last arc")
                bad += 1
    offs.sort()
    mid = offs[len(offs) // 2] if offs else 0
    print(f"-- {n} VFIO_MIGRATION events, the largest offset from an arc's end "
          f"{worst / 1e6:.3f} ms, the median {mid / 1e6:.3f} ms")
    if abs(mid) > 5000000:
        print("FAIL: the median offset is above 5 ms")
        bad += 1
    return 1 if bad or n == 0 else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check-arcs":
        sys.exit(check_arcs(sys.argv[2], sys.argv[3]))
    kill = None
    if len(sys.argv) > 2 and sys.argv[1] == "--kill-destination":
        kill = int(sys.argv[2])
        del sys.argv[1:3]
    if len(sys.argv) != 5:
        die("usage: qmpmig.py [--kill-destination PID] SRC_QMP DST_QMP URI OUT.json\n"
            "       qmpmig.py --check-arcs MIG.json OUT.json")
    src = Qmp(sys.argv[1], "source")
    dst = Qmp(sys.argv[2], "destination")
    # Pause and resume the source once first: its device goes STOP and
    # back (two VFIO_MIGRATION events), so the code that sends those events
    # has run before the migration. The first event a QEMU sends otherwise
    # comes up to 2 ms after its ioctl returned (the binary is read over
    # 9p in the bench guest; later events come within 0.5 ms).
    src.cmd("stop")
    src.cmd("cont")
    end = time.monotonic() + 30
    while not src.saw("VFIO_MIGRATION", {"device-state": "running"}):
        if time.monotonic() > end:
            die("the source's device did not run again after stop and cont")
        src.pump(0.1)
    warmup, src.events = src.events, []
    if kill is None:
        src.cmd("migrate-set-parameters", {"downtime-limit": 60000})
    else:
        # the default downtime limit and a slow stream: it stays in
        # pre-copy until the destination is killed
        src.cmd("migrate-set-parameters", {"max-bandwidth": 256 << 10})
    src.cmd("migrate", {"uri": sys.argv[3]})
    if kill is not None:
        fail_destination(src, dst, kill, warmup)
        return
    end = time.monotonic() + 120
    while True:
        info = src.cmd("query-migrate")
        status = info.get("status")
        if status == "completed":
            break
        if status in ("failed", "cancelled"):
            die(f"the migration {status}: {info.get('error-desc', '')}")
        if time.monotonic() > end:
            die(f"the migration did not complete in 120 s (status {status})")
        dst.pump(0.05)
    end = time.monotonic() + 60
    while not dst.saw("VFIO_MIGRATION", {"device-state": "running"}):
        if time.monotonic() > end:
            die("the destination's device never reached running")
        dst.pump(0.1)
    info = src.cmd("query-migrate")
    running = dst.cmd("query-status")
    # the last events (the source's postmigrate, say) arrive after the answers
    src.pump(0.3)
    dst.pump(0.3)
    with open(sys.argv[4], "w") as f:
        json.dump({"source_warmup_events": warmup,
                   "source_events": src.events, "destination_events": dst.events,
                   "query_migrate": info, "destination_status": running}, f)
    print(f"qmpmig: completed: downtime {info.get('downtime')} ms, total "
          f"{info.get('total-time')} ms, vfio transferred "
          f"{info.get('vfio', {}).get('transferred')}, destination "
          f"{running.get('status')}")


def fail_destination(src, dst, pid, warmup):
    """Kill the destination mid-migration; the source must recover."""
    end = time.monotonic() + 60
    while not (src.saw("VFIO_MIGRATION", {"device-state": "pre-copy"}) and
               dst.saw("VFIO_MIGRATION", {"device-state": "resuming"})):
        if time.monotonic() > end:
            die("the source's device never reached pre-copy with the destination's resuming")
        src.pump(0.05)
        dst.pump(0.05)
    # some RAM and pre-copy data flow first: the stream is under way
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        src.pump(0.05)
        dst.pump(0.05)
    info = src.cmd("query-migrate")
    if info.get("status") != "active":
        die(f"the migration is not under way when the destination is to be killed "
            f"(status {info.get('status')})")
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 60
    while True:
        info = src.cmd("query-migrate")
        if info.get("status") == "failed":
            break
        if info.get("status") == "completed":
            die("the migration completed though its destination was killed")
        if time.monotonic() > end:
            die(f"the source did not see its migration fail in 60 s (status {info.get('status')})")
        src.pump(0.1)
    end = time.monotonic() + 60
    after = lambda: [e for e in src.events if e["event"] == "VFIO_MIGRATION"]
    while not after() or after()[-1]["data"]["device-state"] != "running":
        if time.monotonic() > end:
            die("the source's device did not return to running after the failure")
        src.pump(0.1)
    status = src.cmd("query-status")
    src.pump(0.3)
    with open(sys.argv[4], "w") as f:
        json.dump({"source_warmup_events": warmup, "source_events": src.events,
                   "destination_events": dst.events, "query_migrate": info,
                   "source_status": status, "killed": killed}, f)
    print(f"qmpmig: failed as expected: {info.get('error-desc', '')}; source "
          f"{status.get('status')}")


if __name__ == "__main__":
    main()
