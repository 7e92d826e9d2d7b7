#!/usr/bin/python3
"""Record golden wire bytes from Apache ZooKeeper 3.8 for tests/unit/jute.

What it does:
  1. starts a standalone Apache ZooKeeper 3.8 (Debian package `zookeeper`) on a
     free 127.0.0.1 port with a temporary dataDir;
  2. starts a recording TCP proxy on another free port that forwards bytes both
     ways unchanged and splits each direction into frames (4-byte big-endian
     length + body);
  3. drives a fixed scenario with kazoo through the proxy (connect, create2,
     create with ACLs, getData with a watch, setData firing the watch, exists
     on a missing node, getChildren/getChildren2, getACL before and after
     auth, multi that succeeds and multi with a failing op, delete, ping,
     close);
  4. stops the server by its PID and reads the transaction log it wrote, so the
     txn records (TxnHeader + body + TxnDigest) are recorded too;
  5. writes tests/unit/jute/golden_frames.h (C arrays, one per frame, each the
     full frame including its length word; txn log entries are the bare txn
     bytes) and the fuzz seed corpus tests/fuzz/corpus/records/ (see
     tests/fuzz/fuzz_records.c for the one-byte kind prefix).

The output is generated once and committed; test_golden.c checks field values
that depend on this exact scenario (paths, data, versions, zxids, error codes),
and relations for the values that change from run to run (session id, times).
If you re-run it, re-check test_golden.c: the zxids and xids stay the same as
long as the scenario does, the session id, password and times do not.

Re-run (from the repository root, with the system python that has kazoo):
    /usr/bin/python3 tests/unit/jute/record_golden.py
Options: --out-header PATH, --corpus DIR, --keep (keep the temp dir).
"""

import argparse
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

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.security import ACL, Id, Permissions, make_digest_acl_credential

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

ZK_CP = ":".join([
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-simple.jar",
])
ZK_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"

# Frame direction, as in golden_frames.h.
C2S, S2C, TXN = 0, 1, 2


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30.0):
    # Not `ruok`: Apache answers imok before the server takes sessions, and a
    # connect in that window is dropped ("ZooKeeperServer not running").
    # `srvr` reports the zxid only once the server is serving.
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"srvr")
                reply = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                if b"Zxid:" in reply:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("ZooKeeper did not start on port %d" % port)


class Recorder:
    """A TCP proxy for one client connection that logs every frame."""

    def __init__(self, server_port):
        self.server_port = server_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.frames = []        # (dir, label, bytes) in the order they were seen
        self.label = "connect"  # set by the scenario before each operation
        self.xid_label = {}     # request xid -> label
        self.first = {C2S: True, S2C: True}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        # One connection only: a reconnect would need a second ConnectRequest
        # and the scenario is meant to be one session.
        csock, _ = self.lsock.accept()
        self.lsock.close()
        ssock = socket.create_connection(("127.0.0.1", self.server_port))
        threading.Thread(target=self._pump, args=(csock, ssock, C2S), daemon=True).start()
        threading.Thread(target=self._pump, args=(ssock, csock, S2C), daemon=True).start()

    def _tag(self, direction, frame):
        body = frame[4:]
        if self.first[direction]:
            self.first[direction] = False
            return "connect"
        if direction == C2S:
            xid, op = struct.unpack(">ii", body[:8])
            if op == 11:
                label = "ping"
            elif op == -11:
                label = "close"
            else:
                label = self.label
            self.xid_label[xid] = label
            return label
        xid = struct.unpack(">i", body[:4])[0]
        if xid == -1:
            return "watch_event"
        return self.xid_label.get(xid, "unknown")

    def _pump(self, src, dst, direction):
        buf = b""
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            buf += data
            # Log whole frames before forwarding them, so the log order is the
            # order in which each side could have seen them.
            while len(buf) >= 4:
                n = struct.unpack(">i", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                frame, buf = buf[:4 + n], buf[4 + n:]
                with self.lock:
                    self.frames.append((direction, self._tag(direction, frame), frame))
            dst.sendall(data)


def scenario(rec, port):
    """Every operation sets rec.label first; labels name the golden arrays."""
    fired = threading.Event()
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=3.0)
    rec.label = "connect"
    zk.start(timeout=15)

    everyone = ACL(Permissions.ALL, Id("world", "anyone"))
    rec.label = "create2"
    zk.create("/golden", b"hello", acl=[everyone], include_data=True)

    alice = make_digest_acl_credential("alice", "secret")  # alice:base64(sha1)
    acls = [ACL(Permissions.READ, Id("world", "anyone")),
            ACL(Permissions.ALL, Id("digest", alice))]
    rec.label = "create_acl"
    zk.create("/golden/acl", b"secret", acl=acls)

    rec.label = "create2_eph_seq"
    zk.create("/golden/eph-", b"", ephemeral=True, sequence=True, include_data=True)

    rec.label = "get_data_watch"
    zk.get("/golden", watch=lambda ev: fired.set())

    rec.label = "set_data"
    zk.set("/golden", b"world", version=0)
    if not fired.wait(10):
        raise RuntimeError("watch did not fire")

    rec.label = "exists_missing"
    assert zk.exists("/missing") is None

    rec.label = "get_data_missing"
    try:
        zk.get("/missing")
        raise RuntimeError("getData on a missing node succeeded")
    except NoNodeError:
        pass

    rec.label = "get_children"
    zk.get_children("/golden")

    rec.label = "get_children2"
    zk.get_children("/golden", include_data=True)

    rec.label = "get_acl_redacted"
    zk.get_acls("/golden/acl")

    rec.label = "auth"
    zk.add_auth("digest", "alice:secret")

    rec.label = "get_acl"
    zk.get_acls("/golden/acl")

    rec.label = "multi_ok"
    t = zk.transaction()
    t.create("/golden/m1", b"m")
    t.check("/golden", 1)
    t.set_data("/golden/m1", b"mm")
    t.delete("/golden/m1")
    t.commit()

    rec.label = "multi_fail"
    t = zk.transaction()
    t.create("/golden/m2", b"x")
    t.check("/golden", 99)
    t.set_data("/golden", b"never")
    t.commit()

    rec.label = "delete"
    zk.delete("/golden/acl")

    rec.label = "sync"
    zk.sync("/golden")

    # Stay idle until kazoo has pinged (it pings after about a third of the
    # negotiated timeout without traffic).
    rec.label = "idle"
    deadline = time.time() + 15
    while time.time() < deadline:
        with rec.lock:
            if any(l == "ping" and d == S2C for d, l, _ in rec.frames):
                break
        time.sleep(0.1)
    else:
        raise RuntimeError("no ping seen")

    rec.label = "close"
    zk.stop()
    zk.close()
    time.sleep(0.5)


def read_txnlog(datadir):
    """Returns the txns of the first log file: [(type, bytes)]."""
    vdir = os.path.join(datadir, "version-2")
    logs = sorted(f for f in os.listdir(vdir) if f.startswith("log."))
    with open(os.path.join(vdir, logs[0]), "rb") as f:
        data = f.read()
    magic, version, dbid = struct.unpack(">iiq", data[:16])
    assert magic == 0x5A4B4C47 and version == 2, (magic, version)
    off, txns = 16, []
    while off + 12 <= len(data):
        crc, n = struct.unpack(">qi", data[off:off + 12])
        if n <= 0:
            break  # preallocated zeros
        txn = data[off + 12:off + 12 + n]
        assert data[off + 12 + n:off + 13 + n] == b"B"
        op = struct.unpack(">i", txn[28:32])[0]
        txns.append((op, txn))
        off += 12 + n + 1
    return txns


TXN_NAMES = {-10: "create_session", -11: "close_session", 1: "create", 2: "delete",
             5: "set_data", 14: "multi", 15: "create2", -1: "error", 9: "sync"}


def c_array(name, data):
    lines = ["static const uint8_t %s[%d] = {" % (name, len(data))]
    for i in range(0, len(data), 12):
        chunk = data[i:i + 12]
        lines.append("    " + " ".join("0x%02x," % b for b in chunk))
    lines.append("};")
    return "\n".join(lines)


def write_outputs(frames, txns, header_path, corpus_dir):
    named, seen = [], set()
    prefix = {C2S: "req", S2C: "rsp"}
    for direction, label, data in frames:
        if label in ("idle", "unknown"):
            continue
        kind = "ntf" if label == "watch_event" else prefix[direction]
        name = "golden_%s_%s" % (kind, label)
        if name in seen:
            continue  # keep the first ping pair only
        seen.add(name)
        named.append((name, direction, label, data))
    for i, (op, data) in enumerate(txns):
        name = "golden_txn_%02d_%s" % (i, TXN_NAMES.get(op, "op%d" % op))
        named.append((name, TXN, "txn", data))

    out = ["/*",
           " * Generated by tests/unit/jute/record_golden.py from Apache ZooKeeper 3.8.0",
           " * (Debian) and kazoo 2.8; do not edit. Each golden_req_/golden_rsp_/golden_ntf_",
           " * array is one whole frame as seen on the wire (length word included), in the",
           " * order below; golden_txn_ arrays are the txn bytes of the server's",
           " * version-2/log.1 entries (TxnHeader + body + TxnDigest, without the",
           " * checksum, length and 'B' end-of-record byte around them).",
           " *",
           " * Wire order of the recorded frames (-> client to server, <- server to client):"]
    for name, direction, label, data in named:
        arrow = {C2S: "->", S2C: "<-", TXN: "  "}[direction]
        out.append(" *   %s %s (%d bytes)" % (arrow, name, len(data)))
    out += [" */", "#ifndef PD_TEST_GOLDEN_FRAMES_H", "#define PD_TEST_GOLDEN_FRAMES_H", "",
            "/* clang-format off */",
            "#include <stddef.h>", "#include <stdint.h>", ""]
    for name, direction, label, data in named:
        out.append(c_array(name, data))
        out.append("")
    out += ["enum golden_dir { GOLDEN_C2S, GOLDEN_S2C, GOLDEN_TXN };", "",
            "struct golden_frame {",
            "    const char *name;     /* the array's name without the golden_ prefix */",
            "    enum golden_dir dir;  /* direction, or a txn log entry */",
            "    const uint8_t *bytes; /* static */",
            "    size_t len;",
            "};", "",
            "static const struct golden_frame golden_frames[] = {"]
    dirs = {C2S: "GOLDEN_C2S", S2C: "GOLDEN_S2C", TXN: "GOLDEN_TXN"}
    for name, direction, label, data in named:
        out.append("    {\"%s\", %s, %s, sizeof(%s)}," % (name[len("golden_"):],
                                                      dirs[direction], name, name))
    out += ["};", "", "/* clang-format on */", "", "#endif", ""]
    with open(header_path, "w") as f:
        f.write("\n".join(out))

    # Fuzz seeds: one kind byte, then (for replies) the opcode they answer,
    # then the frame; txns are framed too. See tests/fuzz/fuzz_records.c.
    os.makedirs(corpus_dir, exist_ok=True)
    ops = {"connect": None, "create2": 15, "create_acl": 1, "create2_eph_seq": 15,
           "get_data_watch": 4, "set_data": 5, "exists_missing": 3, "get_data_missing": 4,
           "get_children": 8, "get_children2": 12, "get_acl_redacted": 6, "auth": 100,
           "get_acl": 6, "multi_ok": 14, "multi_fail": 14, "delete": 2, "sync": 9,
           "ping": 11, "close": -11, "watch_event": 0}
    for name, direction, label, data in named:
        if direction == TXN:
            seed = bytes([4]) + struct.pack(">i", len(data)) + data
        elif label == "connect":
            seed = bytes([1 if direction == C2S else 2]) + data
        elif direction == C2S:
            seed = bytes([0]) + data
        else:
            seed = bytes([3, ops[label] & 0xff]) + data
        with open(os.path.join(corpus_dir, name[len("golden_"):]), "wb") as f:
            f.write(seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-header", default=os.path.join(HERE, "golden_frames.h"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "fuzz", "corpus", "records"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pd-golden-")
    datadir = os.path.join(tmp, "data")
    os.makedirs(datadir)
    port = free_port()
    cfg = os.path.join(tmp, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "maxClientCnxns=0\nadmin.enableServer=false\n"
                "4lw.commands.whitelist=ruok,srvr\n" % (datadir, port))
    log = open(os.path.join(tmp, "zookeeper.log"), "w")
    proc = subprocess.Popen(["java", "-cp", ZK_CP, "-Dzookeeper.admin.enableServer=false",
                             "-Dzookeeper.4lw.commands.whitelist=ruok,srvr",
                             ZK_MAIN, cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        rec = Recorder(port)
        scenario(rec, rec.port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    txns = read_txnlog(datadir)
    write_outputs(rec.frames, txns, args.out_header, args.corpus)
    for d, label, data in rec.frames:
        print("%s %-18s %s" % ("->" if d == C2S else "<-", label, data.hex()))
    if args.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
