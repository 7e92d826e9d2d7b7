#!/usr/bin/python3
"""Record the election-port and quorum-port traffic of a 3-node Apache
ZooKeeper 3.8 ensemble on 127.0.0.1, and trim it into the golden files of
tests/unit/jute/data/quorum/ (see the README there).

Run by hand, not in CI (about a minute):

    /usr/bin/python3 tests/unit/jute/record_quorum_data.py [--out DIR] [--raw DIR]

How the bytes are captured: every server's zoo.cfg lists its own real
quorum/election ports but, for the two other servers, the ports of a
recording TCP proxy run by this script; the proxy forwards each connection to
the real port and keeps both directions' bytes. One twist: when a server with
the smaller sid dials a bigger one, the bigger one closes that socket and dials
back to the address carried in the dialer's initial message (its real
election port), which would bypass the proxy. So the proxy rewrites that
address to the dialer's proxy port in what it forwards. What it RECORDS is
the original, unmodified message.

Scenario: start servers 1-3; once a leader is up, a kazoo client on a
follower creates, sets, deletes, runs a multi and a sync; a second client
takes over the first one's session on the other follower (REVALIDATE);
the follower with the smallest sid is stopped, more writes happen, it is
restarted and syncs from the leader (DIFF); then everything stops.

Processes are started by this script, listen on 127.0.0.1 only, and are
stopped by PID (SIGTERM, then SIGKILL); every wait is bounded.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ZK_CP = ":".join(["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar",
                  "/usr/share/java/log4j-1.2.jar"])
MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
HERE = os.path.dirname(os.path.abspath(__file__))
N = 3

# Quorum packet types (Leader.java).
QP_NAMES = {1: "REQUEST", 2: "PROPOSAL", 3: "ACK", 4: "COMMIT", 5: "PING", 6: "REVALIDATE",
            7: "SYNC", 8: "INFORM", 9: "COMMITANDACTIVATE", 10: "NEWLEADER",
            11: "FOLLOWERINFO", 12: "UPTODATE", 13: "DIFF", 14: "TRUNC", 15: "SNAP",
            16: "OBSERVERINFO", 17: "LEADERINFO", 18: "ACKEPOCH", 19: "INFORMANDACTIVATE"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- recording proxy --------------------------------------------------------------

class Conn:
    def __init__(self, kind, to_sid, seq):
        self.kind = kind          # "election" or "quorum"
        self.to_sid = to_sid      # the server listening behind the proxy
        self.seq = seq
        self.out = bytearray()    # dialer -> listener, as the dialer sent it
        self.inb = bytearray()    # listener -> dialer
        self.from_sid = None      # election: from the initial message; quorum: LearnerInfo
        self.t0 = time.time()


class Proxy:
    def __init__(self, kind, to_sid, listen_port, target_port, election_proxy_ports):
        self.kind, self.to_sid = kind, to_sid
        self.target = ("127.0.0.1", target_port)
        self.eports = election_proxy_ports
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", listen_port))
        self.lsock.listen(16)
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(self.target, timeout=5)
                s.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                conn = Conn(self.kind, self.to_sid, len(self.conns))
                self.conns.append(conn)
            threading.Thread(target=self.pump_out, args=(c, s, conn), daemon=True).start()
            threading.Thread(target=self.pump, args=(s, c, conn.inb), daemon=True).start()

    @staticmethod
    def pump(src, dst, rec):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                rec.extend(b)
                dst.sendall(b)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pump_out(self, src, dst, conn):
        if self.kind == "election":
            if not self.rewrite_initial(src, dst, conn):
                return
        self.pump(src, dst, conn.out)

    def rewrite_initial(self, src, dst, conn):
        """Reads the initial message, records it as sent, forwards it with the
        dialer's address replaced by the dialer's proxy election port."""
        buf = bytearray()

        def need(n):
            while len(buf) < n:
                b = src.recv(65536)
                if not b:
                    return False
                buf.extend(b)
            return True

        try:
            if not need(8):
                return False
            (ver,) = struct.unpack(">q", buf[:8])
            if ver >= 0:
                conn.from_sid = ver
                conn.out.extend(buf)
                dst.sendall(buf)
                return True
            if not need(20):
                return False
            sid, alen = struct.unpack(">qi", buf[8:20])
            if not need(20 + alen):
                return False
            conn.from_sid = sid
            conn.out.extend(buf)
            addr = ("127.0.0.1:%d" % self.eports[sid]).encode() if sid in self.eports else \
                bytes(buf[20:20 + alen])
            fwd = struct.pack(">qqi", ver, sid, len(addr)) + addr + bytes(buf[20 + alen:])
            dst.sendall(fwd)
            return True
        except OSError:
            return False

    def stop(self):
        self.stopping = True
        self.lsock.close()


# ---- ensemble -----------------------------------------------------------------------

LOG4J = """log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File={logfile}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} [%t] %-5p %c{{1}} - %m%n
"""


class Server:
    def __init__(self, sid, work, ports):
        self.sid = sid
        self.dir = os.path.join(work, "s%d" % sid)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write("%d\n" % sid)
        p = ports
        lines = ["tickTime=500", "initLimit=10", "syncLimit=5",
                 "dataDir=" + self.data, "clientPort=%d" % p["client"][sid],
                 "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                 "4lw.commands.whitelist=srvr", "quorumListenOnAllIPs=false"]
        for j in range(1, N + 1):
            q = p["quorum"][j] if j == sid else p["pquorum"][j]
            e = p["election"][j] if j == sid else p["pelection"][j]
            lines.append("server.%d=127.0.0.1:%d:%d" % (j, q, e))
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log4j = os.path.join(self.dir, "log4j.properties")
        with open(self.log4j, "w") as f:
            f.write(LOG4J.format(logfile=os.path.join(self.dir, "zk.log")))
        self.client_port = p["client"][sid]
        self.proc = None

    def start(self):
        cmd = ["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Djava.net.preferIPv4Stack=true", "-Dlog4j.configuration=file:" + self.log4j,
               "-Dzookeeper.admin.enableServer=false", "-cp", ZK_CP, MAIN, self.cfg]
        self.proc = subprocess.Popen(cmd, stdout=open(os.path.join(self.dir, "out.txt"), "ab"),
                                     stderr=subprocess.STDOUT, cwd=self.dir)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def mode(self):
        try:
            with socket.create_connection(("127.0.0.1", self.client_port), timeout=2) as s:
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
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return None


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


# ---- stream parsing (used to trim the captures) ------------------------------------

def parse_election(stream, dialer):
    """Splits an election stream into (kind, bytes) messages: the initial
    message (dialer side only), then 4-byte-length frames."""
    msgs, i = [], 0
    if dialer:
        (ver,) = struct.unpack(">q", stream[:8])
        if ver >= 0:
            msgs.append(("initial", stream[:8]))
            i = 8
        else:
            (alen,) = struct.unpack(">i", stream[16:20])
            msgs.append(("initial", stream[:20 + alen]))
            i = 20 + alen
    while i + 4 <= len(stream):
        (n,) = struct.unpack(">i", stream[i:i + 4])
        if i + 4 + n > len(stream):
            break
        msgs.append(("notification", stream[i:i + 4 + n]))
        i += 4 + n
    return msgs


def parse_quorum(stream):
    """Splits a quorum stream into (type, bytes) QuorumPackets; stops at a SNAP
    (the raw snapshot that follows is not a QuorumPacket) or a partial one."""
    msgs, i = [], 0
    while True:
        start = i
        if i + 16 > len(stream):
            break
        typ, _zxid, dlen = struct.unpack(">iqi", stream[i:i + 16])
        i += 16
        if dlen > 0:
            i += dlen
        if i + 4 > len(stream):
            break
        (cnt,) = struct.unpack(">i", stream[i:i + 4])
        i += 4
        ok = True
        for _ in range(max(cnt, 0)):
            for _f in range(2):
                if i + 4 > len(stream):
                    ok = False
                    break
                (sl,) = struct.unpack(">i", stream[i:i + 4])
                i += 4 + max(sl, 0)
        if not ok or i > len(stream):
            break
        msgs.append((QP_NAMES.get(typ, str(typ)), stream[start:i]))
        if typ == 15:
            break
    return msgs


def trim(msgs, head, per_kind):
    """The first `head` messages, then up to `per_kind` more of each kind not
    yet seen that often, in stream order."""
    keep, count = [], {}
    for idx, (k, b) in enumerate(msgs):
        if idx < head or count.get(k, 0) < per_kind:
            keep.append((k, b))
            count[k] = count.get(k, 0) + 1
    return keep


# ---- main ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "data", "quorum"))
    ap.add_argument("--raw", default=None, help="also keep the raw streams here")
    args = ap.parse_args()

    from kazoo.client import KazooClient

    work = tempfile.mkdtemp(prefix="quorum-rec-")
    ports = {k: {j: free_port() for j in range(1, N + 1)}
             for k in ("client", "quorum", "election", "pquorum", "pelection")}
    proxies = []
    for j in range(1, N + 1):
        proxies.append(Proxy("quorum", j, ports["pquorum"][j], ports["quorum"][j], {}))
        proxies.append(Proxy("election", j, ports["pelection"][j], ports["election"][j],
                             ports["pelection"]))
    servers = {j: Server(j, work, ports) for j in range(1, N + 1)}
    clients = []
    try:
        for s in servers.values():
            s.start()

        def roles():
            m = {j: s.mode() for j, s in servers.items()}
            return m if all(v in ("leader", "follower") for v in m.values()) else None

        m = wait_for(roles, 60, "a leader and two followers")
        leader = [j for j, v in m.items() if v == "leader"][0]
        followers = sorted(j for j, v in m.items() if v == "follower")
        print("roles:", m)

        def hosts(j):
            return "127.0.0.1:%d" % servers[j].client_port

        c1 = KazooClient(hosts=hosts(followers[1]), timeout=6)
        clients.append(c1)
        c1.start(timeout=15)
        c1.create("/golden", b"v0")
        c1.set("/golden", b"v1")
        c1.create("/golden/e", b"eph", ephemeral=True)
        c1.create("/golden/s-", b"", sequence=True)
        tx = c1.transaction()
        tx.create("/golden/m", b"multi")
        tx.check("/golden", 1)
        tx.commit()
        c1.delete("/golden/m")
        c1.sync("/golden")
        time.sleep(1.5)  # a few PINGs carrying this session

        # Take over c1's session on the other follower: REVALIDATE.
        sid, passwd = c1.client_id
        c2 = KazooClient(hosts=hosts(followers[0]), timeout=6)
        clients.append(c2)
        c2._session_id, c2._session_passwd = sid, passwd
        c2.start(timeout=15)
        c2.set("/golden", b"v2")
        time.sleep(1.0)
        c1.stop()
        c1.close()

        # Restart a follower after writes it missed: DIFF.
        victim = followers[0]
        c2.stop()
        c2.close()
        servers[victim].stop()
        c3 = KazooClient(hosts=hosts(followers[1]), timeout=6)
        clients.append(c3)
        c3.start(timeout=15)
        for i in range(3):
            c3.create("/golden/d-", b"x%d" % i, sequence=True)
        servers[victim].start()
        wait_for(lambda: servers[victim].mode() == "follower", 60, "the restarted follower")
        c3.set("/golden", b"v3")
        time.sleep(1.5)
        c3.stop()
        c3.close()
        epochs = {}
        for name in ("acceptedEpoch", "currentEpoch"):
            with open(os.path.join(servers[leader].data, "version-2", name), "rb") as f:
                epochs[name] = f.read()
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        for s in servers.values():
            s.stop()
        time.sleep(0.5)
        for p in proxies:
            p.stop()

    conns = [c for p in proxies for c in p.conns]
    for c in conns:
        if c.kind == "quorum" and len(c.out) >= 36:
            # FOLLOWERINFO's data is LearnerInfo: the serverid is its first long.
            c.from_sid = struct.unpack(">q", c.out[16:24])[0]

    if args.raw:
        os.makedirs(args.raw, exist_ok=True)
        index = []
        for c in conns:
            base = "%s-%sto%s-%d" % (c.kind, c.from_sid, c.to_sid, c.seq)
            for d, b in (("out", c.out), ("in", c.inb)):
                with open(os.path.join(args.raw, base + "." + d), "wb") as f:
                    f.write(b)
            index.append({"name": base, "out": len(c.out), "in": len(c.inb)})
        with open(os.path.join(args.raw, "index.json"), "w") as f:
            json.dump({"leader": leader, "followers": followers, "conns": index}, f, indent=1)

    os.makedirs(args.out, exist_ok=True)
    summary = []

    def save(name, msgs):
        with open(os.path.join(args.out, name), "wb") as f:
            for _, b in msgs:
                f.write(b)
        summary.append("%s: %s" % (name, " ".join(k for k, _ in msgs)))

    # Election: the first connection kept (bigger sid dialling a smaller one) and
    # the first dropped (smaller dialling bigger) that carried an initial message.
    kept = [c for c in conns if c.kind == "election" and c.from_sid is not None
            and c.from_sid > c.to_sid and len(c.inb) > 0]
    dropped = [c for c in conns if c.kind == "election" and c.from_sid is not None
               and c.from_sid < c.to_sid]
    if kept:
        c = max(kept, key=lambda c: len(c.out))
        tag = "%dto%d" % (c.from_sid, c.to_sid)
        save("election_%s.out" % tag, trim(parse_election(bytes(c.out), True), 8, 0))
        save("election_%s.in" % tag, trim(parse_election(bytes(c.inb), False), 8, 0))
    if dropped:
        c = dropped[0]
        save("election_%dto%d_dropped.out" % (c.from_sid, c.to_sid),
             parse_election(bytes(c.out), True)[:1])

    # Quorum: the first and the restarted connection of the restarted follower,
    # and the first connection of the other follower (it carries the client traffic).
    victim_conns = [c for c in conns if c.kind == "quorum" and c.from_sid == victim]
    other_conns = [c for c in conns if c.kind == "quorum" and c.from_sid == followers[1]]
    picks = []
    if victim_conns:
        picks.append(("quorum_f%d_first" % victim, victim_conns[0]))
        if len(victim_conns) > 1:
            picks.append(("quorum_f%d_restart" % victim, victim_conns[-1]))
    if other_conns:
        picks.append(("quorum_f%d" % followers[1], other_conns[0]))
    for name, c in picks:
        save(name + ".out", trim(parse_quorum(bytes(c.out)), 10, 3))
        save(name + ".in", trim(parse_quorum(bytes(c.inb)), 14, 3))

    for name, b in epochs.items():
        with open(os.path.join(args.out, "leader." + name), "wb") as f:
            f.write(b)
    with open(os.path.join(args.out, "CAPTURE.txt"), "w") as f:
        f.write("leader=%d followers=%s restarted=%d\n" % (leader, followers, victim))
        f.write("\n".join(summary) + "\n")
    print("\n".join(summary))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
