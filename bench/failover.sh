#!/usr/bin/env bash
# Failover time of a 3-node ensemble, Paddock vs Apache ZooKeeper 3.8: the time
# from kill -9 of the leader until the first write succeeds through a survivor.
#
# For each repetition and each target (the order alternates between
# repetitions), it starts a fresh ensemble on 127.0.0.1 (free client, quorum
# and election ports, a temporary dataDir with myid per server, the zoo.cfg of
# bench/compare.sh: tickTime=2000 initLimit=10 syncLimit=5, maxClientCnxns=0,
# admin.enableServer=false, plus server.I=127.0.0.1:QUORUM:ELECTION lines;
# Apache as `java -Xmx2g -cp zookeeper.jar:/usr/share/java/*
# org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg`, fsync on, Paddock
# as `paddock server zoo.cfg`) and waits until every server answers `srvr` with
# Mode: leader or follower and exactly one leads. Then:
#
#  1. Setup, through the leader: creates /failover and one znode per follower.
#  2. Load: one writer per follower, each with its own session connected to
#     that follower only (so every write is forwarded to the leader). A writer
#     sends setData(its znode, 100 bytes, version -1) every --interval ms
#     (default 10) without waiting for the replies (pipelined), i.e. a light
#     load of 2 x 100 writes/s, for --load-time s (default 5) before the kill.
#     Every write must succeed during that time, else the repetition fails.
#  3. Kill: t0 = CLOCK_MONOTONIC just before kill(leader PID, SIGKILL).
#  4. Recovery: each writer keeps sending every --interval ms while its
#     connection is up. When its server closes the connection (Apache
#     followers drop their clients when they lose the leader) it reconnects to
#     the same server every --retry-ms ms (default 5) with the same session id
#     and password and its last seen zxid (as a real client does), and sends a
#     write at once on each reconnect. A reply that does not come within 10 s
#     counts as a lost connection.
#  5. Failover time = (receipt time of the first successful reply (err 0) to a
#     write SENT after t0, through either survivor) - t0. Writes sent before
#     the kill do not count even when they complete after it. Resolution: the
#     pacing, at most --interval ms when the connection stays up, --retry-ms
#     plus one round trip when it was dropped. Also reported: the same per
#     survivor (new leader / follower), when the first survivor answered
#     `srvr` with Mode: leader (polled every 10 ms: "election"), when each
#     writer saw its connection close, whether a session had expired, and
#     that the first successful write has a zxid of a newer epoch than every
#     write before the kill (the new leader committed it).
#  6. Stops every server it started, by PID (SIGTERM, SIGKILL after 10 s).
#
# The client is a minimal ZooKeeper wire-protocol client in Python (stdlib,
# one thread per writer, times from time.monotonic()), so no client library's
# reconnect back-off is in the figure.
#
# usage: bench/failover.sh [--reps N] [--targets "zookeeper paddock"]
#            [--interval MS] [--retry-ms MS] [--load-time S] [--timeout S]
#            [--ensemble-timeout S] [--paddock BIN] [--out DIR]
#
# --reps N (default 5) repetitions per target; --timeout S (default 30): how
# long to wait after the kill for a write to succeed through each survivor;
# --ensemble-timeout S (default 120): for the ensemble to elect at start.
# Results go to --out (default ${TMPDIR:-/tmp}/paddock-failover-<date>):
# failover.tsv (one line per repetition), events-<target>-rep<R>.log (every
# writer event with its time relative to the kill), server logs, results.md
# (the tables: each repetition and the median, min and max per target).
# Without --paddock the binary is built in build-bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

REPS=5
TARGETS="zookeeper paddock"
INTERVAL=10
RETRY_MS=5
LOAD_TIME=5
TIMEOUT=30
ENSEMBLE_TIMEOUT=120
PADDOCK=""
OUT=""

while [ $# -gt 0 ]; do
    case "$1" in
    --reps) REPS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --interval) INTERVAL=$2; shift ;;
    --retry-ms) RETRY_MS=$2; shift ;;
    --load-time) LOAD_TIME=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --ensemble-timeout) ENSEMBLE_TIMEOUT=$2; shift ;;
    --paddock) PADDOCK=$2; shift ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "failover.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -z "$PADDOCK" ] && [[ " $TARGETS " == *" paddock "* ]]; then
    BUILD="$ROOT/build-bench"
    log "building paddock in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target paddock >/dev/null
    PADDOCK=$BUILD/paddock
fi
if [ -n "$PADDOCK" ]; then
    [ -x "$PADDOCK" ] || { echo "failover.sh: $PADDOCK is not executable" >&2; exit 2; }
    PADDOCK=$(realpath "$PADDOCK")
fi
ZK_JAR=/usr/share/java/zookeeper.jar
if [[ " $TARGETS " == *" zookeeper "* ]]; then
    [ -f "$ZK_JAR" ] || { echo "failover.sh: $ZK_JAR missing (apt-get install zookeeper)" >&2; exit 2; }
    command -v java >/dev/null || { echo "failover.sh: java missing" >&2; exit 2; }
fi

OUT=${OUT:-${TMPDIR:-/tmp}/paddock-failover-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
         "kernel $(uname -r)"
    echo "java: $(java -version 2>&1 | head -1)"
    echo "zookeeper: $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?')"
    if [ -n "$PADDOCK" ]; then
        echo "paddock: $("$PADDOCK" version 2>/dev/null | head -1 || echo '?') ($PADDOCK," \
             "built $(date -u -r "$PADDOCK" '+%Y-%m-%d %H:%M UTC'); repo HEAD" \
             "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    fi
    echo "settings: reps=$REPS targets=\"$TARGETS\" interval=${INTERVAL}ms retry=${RETRY_MS}ms" \
         "load-time=${LOAD_TIME}s timeout=${TIMEOUT}s tickTime=2000"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

export PADDOCK ZK_JAR
# The Python process starts every server itself (subprocess.Popen) and stops
# them by those PIDs on every exit path, SIGTERM/SIGINT included.
exec python3 - "$OUT" "$REPS" "$TARGETS" "$INTERVAL" "$RETRY_MS" "$LOAD_TIME" "$TIMEOUT" \
    "$ENSEMBLE_TIMEOUT" <<'EOF'
import os, shutil, signal, socket, statistics, struct, subprocess, sys, tempfile
import threading, time

out = sys.argv[1]
REPS, TARGETS = int(sys.argv[2]), sys.argv[3].split()
INTERVAL, RETRY = float(sys.argv[4]) / 1000, float(sys.argv[5]) / 1000
LOAD_TIME, TIMEOUT, ENS_TIMEOUT = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
PADDOCK, ZK_JAR = os.environ.get("PADDOCK", ""), os.environ["ZK_JAR"]
N = 3
SESSION_TIMEOUT_MS = 30000
REPLY_TIMEOUT = 10.0
now = time.monotonic


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def free_ports(n):
    """n distinct free ports (all bound at once, so none is handed out twice)."""
    ss = [socket.socket() for _ in range(n)]
    for s in ss:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in ss]
    for s in ss:
        s.close()
    return ports


# ---- ZooKeeper wire protocol (just what is needed) ------------------------

def j_int(v): return struct.pack(">i", v)
def j_long(v): return struct.pack(">q", v)
def j_buf(b): return j_int(len(b)) + b
def j_str(s): return j_buf(s.encode())
def frame(b): return j_int(len(b)) + b

OP_CREATE, OP_SETDATA, OP_CLOSE = 1, 5, -11
OPEN_ACL = j_int(1) + j_int(31) + j_str("world") + j_str("anyone")


class Conn:
    """One TCP connection carrying one session; blocking, with timeouts."""

    def __init__(self, port, session_id=0, passwd=b"\0" * 16, last_zxid=0, timeout=2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.sock.sendall(frame(j_int(0) + j_long(last_zxid) + j_int(SESSION_TIMEOUT_MS)
                                + j_long(session_id) + j_buf(passwd) + b"\0"))
        r = self.read_frame(timeout)
        if r is None or len(r) < 20:
            raise ConnectionError("no connect response")
        _, self.timeout_ms, self.session_id, plen = struct.unpack(">iiqi", r[:20])
        self.passwd = r[20:20 + plen]
        self.sock.settimeout(None)
        self.xid = 0

    def read_frame(self, timeout):
        """A whole frame, None on timeout; raises ConnectionError on EOF."""
        deadline = now() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">i", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    f, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return f
            left = deadline - now()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError as e:
                raise ConnectionError(str(e))
            if not b:
                raise ConnectionError("closed by server")
            self.buf += b

    def send(self, op, body=b""):
        self.xid += 1
        self.sock.sendall(frame(j_int(self.xid) + j_int(op) + body))
        return self.xid

    @staticmethod
    def reply(f):
        return struct.unpack(">iqi", f[:16])  # xid, zxid, err

    def call(self, op, body=b"", timeout=10.0):
        xid = self.send(op, body)
        while True:
            f = self.read_frame(timeout)
            if f is None:
                raise ConnectionError("no reply")
            rx, zxid, err = self.reply(f)
            if rx == xid:
                return zxid, err

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Writer(threading.Thread):
    """Paced pipelined setData on one server, reconnecting with the same session."""

    def __init__(self, name, port, path):
        super().__init__(daemon=True)
        self.name_, self.port, self.path = name, port, path
        self.data = b"x" * 100
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done = []          # (t_sent, t_reply, err, zxid)
        self.events = []        # (t, text)
        self.session = (0, b"\0" * 16)
        self.last_zxid = 0
        self.expired = 0
        self.conn = None

    def event(self, t, text):
        with self.lock:
            self.events.append((t, text))

    def connect(self):
        c = Conn(self.port, self.session[0], self.session[1], self.last_zxid)
        if c.timeout_ms <= 0:        # session expired: a new one
            c.close()
            self.expired += 1
            self.event(now(), "session 0x%x expired; new session" % self.session[0])
            self.session = (0, b"\0" * 16)
            c = Conn(self.port, 0, b"\0" * 16, self.last_zxid)
        if self.session[0] and c.session_id != self.session[0]:
            self.event(now(), "got session 0x%x instead of 0x%x" % (c.session_id, self.session[0]))
        self.session = (c.session_id, c.passwd)
        return c

    def run(self):
        body = j_str(self.path) + j_buf(self.data) + j_int(-1)
        pending = {}            # xid -> t_sent
        next_send = 0.0
        conn = None
        while not self.stop.is_set():
            if conn is None:
                try:
                    conn = self.connect()
                except (OSError, ConnectionError) as e:
                    time.sleep(RETRY)
                    continue
                self.conn = conn
                self.event(now(), "connected (session 0x%x)" % conn.session_id)
                pending = {}
                next_send = 0.0     # a write at once
            t = now()
            try:
                if t >= next_send:
                    pending[conn.send(OP_SETDATA, body)] = now()
                    next_send = t + INTERVAL
                f = conn.read_frame(max(0.0, next_send - now()))
                while f is not None:
                    tr = now()
                    xid, zxid, err = Conn.reply(f)
                    ts = pending.pop(xid, None)
                    if ts is not None:
                        if zxid > self.last_zxid:
                            self.last_zxid = zxid
                        with self.lock:
                            self.done.append((ts, tr, err, zxid))
                    f = conn.read_frame(0) if conn.buf else None
                if pending and now() - min(pending.values()) > REPLY_TIMEOUT:
                    raise ConnectionError("no reply for %.0f s" % REPLY_TIMEOUT)
            except (OSError, ConnectionError) as e:
                self.event(now(), "connection lost: %s (%d writes unanswered)" % (e, len(pending)))
                conn.close()
                conn = None
                self.conn = None
        if conn is not None:
            try:
                conn.send(OP_CLOSE)
            except OSError:
                pass
            conn.close()

    def first_ok_after(self, t0):
        with self.lock:
            ok = [d for d in self.done if d[0] > t0 and d[2] == 0]
        return min(ok, key=lambda d: d[1]) if ok else None


def srvr_mode(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"srvr")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
    except OSError:
        return None
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("Mode: "):
            return line[6:].strip()
    return None


# ---- ensembles -------------------------------------------------------------

class Ensemble:
    def __init__(self, target, rep):
        self.target, self.rep = target, rep
        self.base = tempfile.mkdtemp(prefix="paddock-failover-%s-" % target)
        ports = free_ports(3 * N)
        self.cport, qp, ep = ports[:N], ports[N:2 * N], ports[2 * N:]
        self.procs = [None] * N
        lines = "".join("server.%d=127.0.0.1:%d:%d\n" % (i + 1, qp[i], ep[i]) for i in range(N))
        for i in range(N):
            d = os.path.join(self.base, "s%d" % (i + 1))
            os.makedirs(os.path.join(d, "data"))
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write("%d\n" % (i + 1))
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write("# written by bench/failover.sh\ntickTime=2000\ninitLimit=10\n"
                        "syncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                        "maxClientCnxns=0\nadmin.enableServer=false\n%s"
                        % (os.path.join(d, "data"), self.cport[i], lines))

    def cmd(self, i):
        cfg = os.path.join(self.base, "s%d" % (i + 1), "zoo.cfg")
        if self.target == "paddock":
            return [PADDOCK, "server", cfg]
        return ["java", "-Xmx2g", "-Dzookeeper.forceSync=yes",
                "-Dzookeeper.admin.enableServer=false", "-cp", ZK_JAR + ":/usr/share/java/*",
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]

    def start(self):
        for i in range(N):
            lf = open(os.path.join(out, "server-%s-rep%d-s%d.log" % (self.target, self.rep, i + 1)), "ab")
            self.procs[i] = subprocess.Popen(self.cmd(i), cwd=os.path.join(self.base, "s%d" % (i + 1)),
                                             stdout=lf, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
            lf.close()

    def modes(self, idx=None):
        return {i: srvr_mode(self.cport[i]) for i in (range(N) if idx is None else idx)}

    def wait_leader(self, idx, timeout):
        """Index of the one leader once every member of idx serves; None on timeout."""
        deadline = now() + timeout
        m = {}
        while now() < deadline:
            for i in idx:
                if self.procs[i].poll() is not None:
                    raise RuntimeError("s%d exited (status %s)" % (i + 1, self.procs[i].returncode))
            m = self.modes(idx)
            lead = [i for i, v in m.items() if v == "leader"]
            if len(lead) == 1 and all(v in ("leader", "follower") for v in m.values()):
                return lead[0]
            time.sleep(0.1)
        log("  modes after %.0f s: %s" % (timeout, {"s%d" % (i + 1): v for i, v in m.items()}))
        return None

    def stop(self):
        for p in self.procs:
            if p is not None and p.poll() is None:
                p.terminate()
        for p in self.procs:
            if p is None:
                continue
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def one_run(target, rep):
    """Returns a dict of results (failover_ms None when no write succeeded)."""
    res = {"target": target, "rep": rep}
    ens = Ensemble(target, rep)
    writers = []
    try:
        ens.start()
        t_start = now()
        leader = ens.wait_leader(range(N), ENS_TIMEOUT)
        if leader is None:
            res["error"] = "no single leader at start"
            return res
        res["start_s"] = now() - t_start
        followers = [i for i in range(N) if i != leader]
        res["old_leader"] = "s%d" % (leader + 1)
        # Setup through the leader.
        c = Conn(ens.cport[leader])
        for p in ["/failover"] + ["/failover/s%d" % (i + 1) for i in followers]:
            zxid, err = c.call(OP_CREATE, j_str(p) + j_buf(b"") + OPEN_ACL + j_int(0))
            if err not in (0, -110):
                raise RuntimeError("create %s: err %d" % (p, err))
        c.call(OP_CLOSE)
        c.close()
        writers = [Writer("s%d" % (i + 1), ens.cport[i], "/failover/s%d" % (i + 1))
                   for i in followers]
        for w in writers:
            w.start()
        time.sleep(LOAD_TIME)
        pre = []
        for w in writers:
            with w.lock:
                pre.extend(w.done)
        bad = [d for d in pre if d[2] != 0]
        if not pre or bad or any(not w.done for w in writers):
            res["error"] = "writes through the followers before the kill: %d ok, %d failed" % (
                len(pre) - len(bad), len(bad))
            return res
        res["pre_writes"] = len(pre)
        old_epoch = max(d[3] for d in pre) >> 32
        # Poll the survivors' srvr for the new leader.
        t_leader = []
        stop_poll = threading.Event()

        def poll():
            while not stop_poll.is_set():
                for i in followers:
                    if srvr_mode(ens.cport[i], timeout=0.5) == "leader":
                        t_leader.append((now(), i))
                        return
                time.sleep(0.01)
        poller = threading.Thread(target=poll, daemon=True)
        # Kill.
        lp = ens.procs[leader]
        poller.start()
        t0 = now()
        os.kill(lp.pid, signal.SIGKILL)
        lp.wait(timeout=10)
        ens.procs[leader] = None
        deadline = t0 + TIMEOUT
        while now() < deadline and not all(w.first_ok_after(t0) for w in writers):
            time.sleep(0.01)
        stop_poll.set()
        poller.join(timeout=5)
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(timeout=15)
        new_leader = None
        if t_leader:
            res["election_ms"] = (t_leader[0][0] - t0) * 1000
            new_leader = t_leader[0][1]
            res["new_leader"] = "s%d" % (new_leader + 1)
        firsts = []
        for w, i in zip(writers, followers):
            role = "leader" if i == new_leader else "follower"
            f = w.first_ok_after(t0)
            res["via_" + role + "_ms"] = (f[1] - t0) * 1000 if f else None
            if f:
                firsts.append((f[1], f, w))
        res["expired"] = sum(w.expired for w in writers)
        if firsts:
            t1, f, w = min(firsts, key=lambda x: x[0])
            res["failover_ms"] = (t1 - t0) * 1000
            res["first_via"] = w.name_
            res["new_epoch"] = (f[3] >> 32) > old_epoch
            res["first_sent_ms"] = (f[0] - t0) * 1000
        else:
            res["error"] = "no write succeeded within %.0f s after the kill" % TIMEOUT
        ev = [(0.0, "kill -9 %s (pid %d)" % (res["old_leader"], lp.pid))]
        if t_leader:
            ev.append((res["election_ms"], "srvr: s%d is leader" % (new_leader + 1)))
        for w in writers:
            for t, text in w.events:
                ev.append(((t - t0) * 1000, "writer via %s: %s" % (w.name_, text)))
            with w.lock:
                around = [d for d in w.done if d[1] > t0 - 0.05][:40]
            for ts, tr, err, zxid in around:
                ev.append(((tr - t0) * 1000, "writer via %s: reply to write sent at %+.1f: "
                           "err %d zxid 0x%x" % (w.name_, (ts - t0) * 1000, err, zxid)))
        with open(os.path.join(out, "events-%s-rep%d.log" % (target, rep)), "w") as ef:
            ef.write("# %s rep %d: times in ms relative to the kill (t0)\n" % (target, rep))
            for t, text in sorted(ev, key=lambda e: e[0]):
                ef.write("%+10.1f  %s\n" % (t, text))
        return res
    finally:
        for w in writers:
            w.stop.set()
        ens.stop()


def on_signal(sig, frame):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, on_signal)

results = []
try:
    for rep in range(1, REPS + 1):
        order = TARGETS if rep % 2 else list(reversed(TARGETS))
        for target in order:
            log("%s (rep %d): starting a %d-node ensemble" % (target, rep, N))
            try:
                r = one_run(target, rep)
            except (RuntimeError, OSError, ConnectionError) as e:
                r = {"target": target, "rep": rep, "error": "%s: %s" % (type(e).__name__, e)}
            results.append(r)
            if r.get("failover_ms") is not None:
                log("  %s -> %s: election (srvr) %s ms, first write %.1f ms via %s%s%s" % (
                    r["old_leader"], r.get("new_leader", "?"),
                    "%.0f" % r["election_ms"] if "election_ms" in r else "?",
                    r["failover_ms"], r["first_via"],
                    "" if r["new_epoch"] else " (NOT a newer epoch!)",
                    ", %d session(s) expired" % r["expired"] if r["expired"] else ""))
            else:
                log("  FAILED: %s" % r.get("error"))
except KeyboardInterrupt:
    log("interrupted")
    sys.exit(130)

cols = ["target", "rep", "old_leader", "new_leader", "election_ms", "failover_ms", "first_via",
        "via_leader_ms", "via_follower_ms", "first_sent_ms", "new_epoch", "expired", "pre_writes",
        "start_s", "error"]
with open(os.path.join(out, "failover.tsv"), "w") as f:
    f.write("\t".join(cols) + "\n")
    for r in results:
        f.write("\t".join("" if r.get(c) is None else
                          ("%.1f" % r[c] if isinstance(r[c], float) else str(r[c]))
                          for c in cols) + "\n")

def ms(v):
    return "–" if v is None else "%.0f" % v

lines = ["## 3-node ensemble: failover after kill -9 of the leader (tickTime 2000)", "",
         "Time from kill -9 of the leader until the first write sent after the kill succeeds "
         "through a survivor (ms); election = first `srvr` Mode: leader on a survivor "
         "(polled every 10 ms).", "",
         "| server | %s | median | min | max |" % " | ".join(
             "run %d" % i for i in range(1, REPS + 1)),
         "|---|" + "---:|" * (REPS + 3)]
for t in TARGETS:
    rs = [r for r in results if r["target"] == t]
    v = [r.get("failover_ms") for r in rs]
    ok = [x for x in v if x is not None]
    lines.append("| %s | %s | %s | %s | %s |" % (
        t, " | ".join(ms(x) if x is not None else "FAIL" for x in v),
        ms(statistics.median(ok)) if ok else "–", ms(min(ok)) if ok else "–",
        ms(max(ok)) if ok else "–"))
lines += ["", "| server | run | killed | new leader | election ms | first write ms | via | "
          "via new leader ms | via follower ms | newer epoch | sessions expired |",
          "|---|---:|---|---|---:|---:|---|---:|---:|---|---:|"]
for r in sorted(results, key=lambda r: (TARGETS.index(r["target"]), r["rep"])):
    lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["target"], r["rep"], r.get("old_leader", "–"), r.get("new_leader", "–"),
        ms(r.get("election_ms")), ms(r.get("failover_ms")) if "failover_ms" in r else
        "FAIL: " + r.get("error", "?"), r.get("first_via", "–"), ms(r.get("via_leader_ms")),
        ms(r.get("via_follower_ms")), {True: "yes", False: "NO"}.get(r.get("new_epoch"), "–"),
        r.get("expired", "–")))
text = "\n".join(lines) + "\n"
with open(os.path.join(out, "results.md"), "w") as f:
    f.write(text)
print(text)
log("results in %s" % out)
sys.exit(1 if any(r.get("failover_ms") is None for r in results) else 0)
EOF
