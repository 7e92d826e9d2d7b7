#!/usr/bin/python3
"""Record a data directory written by Apache ZooKeeper 3.8 for tests/unit/storage.

What it does:
  1. starts a standalone Apache ZooKeeper 3.8 (Debian package `zookeeper`) on a
     free 127.0.0.1 port with a temporary dataDir, extended types on (TTL
     nodes) and the digest on (the default); at start it writes snapshot.0
     (the empty tree);
  2. drives a fixed scenario: kazoo for the common writes, tests/integration/
     zkwire.py's raw client for what kazoo 2.8 lacks (createContainer,
     createTTL, null data). It covers every node kind (persistent, sequential,
     ephemeral owned by a live session, container, TTL), ACL lists (world,
     digest, ip; one list dropped when its last user goes, so indexes have a
     hole), setData on the root, setACL, multi (ok and failed), deletes, a
     quota (zookeeper_limits/zookeeper_stats), a non-ASCII path, and a
     session that closes (its ephemeral deleted by closeSession);
  3. kills the server with SIGKILL (session A stays open in the log) and
     starts it again on the same dataDir: ZooKeeperServer.loadData replays
     the log and writes snapshot.<last zxid> with session A, its ephemerals
     and the ZxidDigest of the last txn; then kills it again at once;
  4. copies into tests/unit/storage/data/apache/version-2/: both snapshots
     unchanged and the txn log cut after its last record (the preallocated
     zeros dropped: a log ends at the first zero length, so it reads the
     same).

tests/unit/storage/test_snapshot_apache.c loads snapshot.0, replays the log
through Paddock's tree, and checks Paddock's tree digest against each txn's
TxnDigest and against the final snapshot's digest, and that the replayed
tree equals the snapshot Apache wrote.

Java's String.getBytes() (path bytes in the digest) follows the JVM's default
charset; the server runs with -Dfile.encoding=UTF-8 so the non-ASCII path
hashes as UTF-8, as Paddock does.

Re-run (from the repository root, with the system python that has kazoo):
    /usr/bin/python3 tests/unit/storage/record_apache_data.py
then update the expected values in test_snapshot_apache.c (zxids, session
ids and times change from run to run; the scenario's paths do not).
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from kazoo.client import KazooClient  # noqa: E402
from kazoo.security import ACL, Id, Permissions, make_digest_acl_credential  # noqa: E402

import zkwire  # noqa: E402
from zkwire import Flags, Op, Perm  # noqa: E402

ZK_CP = ":".join([
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-simple.jar",
])
ZK_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_serving(port, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if "Zxid:" in zkwire.four_letter(port, "srvr", timeout=1.0):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("ZooKeeper did not start on port %d" % port)


def start(cfg, log):
    return subprocess.Popen(
        ["java", "-cp", ZK_CP, "-Dfile.encoding=UTF-8",
         "-Dzookeeper.extendedTypesEnabled=true",
         "-Dzookeeper.admin.enableServer=false",
         "-Dzookeeper.4lw.commands.whitelist=ruok,srvr", ZK_MAIN, cfg],
        stdout=log, stderr=subprocess.STDOUT)


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(15)


def scenario(port):
    everyone = ACL(Permissions.ALL, Id("world", "anyone"))
    alice = make_digest_acl_credential("alice", "secret")
    # Session A: long timeout, stays open across the restart (its ephemerals
    # are in the second snapshot).
    a = KazooClient(hosts="127.0.0.1:%d" % port, timeout=30.0)
    a.start(timeout=15)
    a.create("/app", b"hello", acl=[everyone])
    a.create("/app/cfg", b"v1", acl=[ACL(Permissions.READ, Id("world", "anyone")),
                                     ACL(Permissions.ALL, Id("digest", alice))])
    a.create("/app/ip", b"x" * 300, acl=[ACL(Permissions.ALL, Id("ip", "127.0.0.1"))])
    for _ in range(3):
        a.create("/app/seq-", b"s", sequence=True)
    a.create("/app/eph", b"mine", ephemeral=True)
    a.create("/app/eph-seq-", b"", ephemeral=True, sequence=True)
    a.create("/gone", b"tmp", acl=[ACL(Permissions.READ | Permissions.WRITE,
                                      Id("digest", "bob:xyz"))])
    a.delete("/gone")  # its ACL list loses its last user: the index is dropped
    a.set("/app", b"world")
    a.set("/app", b"world!")
    a.set("/", b"rootdata")
    a.set_acls("/app/ip", [ACL(Permissions.READ, Id("world", "anyone"))])
    t = a.transaction()
    t.create("/app/m1", b"m")
    t.set_data("/app/m1", b"mm")
    t.create("/app/m2", b"")
    t.delete("/app/m2")
    t.commit()
    t = a.transaction()
    t.create("/app/never", b"x")
    t.check("/app", 999)
    t.commit()
    a.create("/zookeeper/quota/app/zookeeper_limits", b"count=100,bytes=-1", makepath=True)
    a.create("/zookeeper/quota/app/zookeeper_stats", b"count=1,bytes=5")
    a.create("/app/quota-child", b"12345")
    a.create("/\u00fcml\u00e4ut", "gr\u00fc\u00df".encode("utf-8"))

    # What kazoo 2.8 cannot send: containers, TTL nodes, null data.
    r = zkwire.raw_session(port, timeout_ms=10000)
    err, _ = r.create("/box", b"c", flags=Flags.CONTAINER, op=Op.CREATE_CONTAINER)
    assert err == 0, err
    assert r.create("/box/item", b"i")[0] == 0
    assert r.delete("/box/item")[0] == 0  # the container is now "used" (cversion 1)
    err, _ = r.create("/ttl", b"t", flags=Flags.PERSISTENT_WITH_TTL, ttl=3600000)
    assert err == 0, err
    assert r.create("/nulldata", None)[0] == 0
    assert r.create("/r-eph", b"bye", flags=Flags.EPHEMERAL)[0] == 0
    assert r.set_acl("/nulldata", [(Perm.READ | Perm.ADMIN, "world", "anyone")])[0] == 0
    assert r.close_session()[0] == 0  # closeSession deletes /r-eph
    r.close()

    a.create("/app/last", b"end")
    return a


def trim_log(src, dst):
    """Copies a txn log up to the end of its last record."""
    with open(src, "rb") as f:
        data = f.read()
    magic, version, _ = struct.unpack(">iiq", data[:16])
    assert magic == 0x5A4B4C47 and version == 2, (magic, version)
    off = 16
    while off + 12 <= len(data):
        _, n = struct.unpack(">qi", data[off:off + 12])
        if n <= 0:
            break
        assert data[off + 12 + n:off + 13 + n] == b"B"
        off += 12 + n + 1
    with open(dst, "wb") as f:
        f.write(data[:off])
    return off


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data", "apache", "version-2"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="pd-snaprec-")
    datadir = os.path.join(tmp, "data")
    os.makedirs(datadir)
    port = free_port()
    cfg = os.path.join(tmp, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                "maxClientCnxns=0\nadmin.enableServer=false\nmaxSessionTimeout=60000\n"
                "4lw.commands.whitelist=ruok,srvr\n" % (datadir, port))
    log = open(os.path.join(tmp, "zookeeper.log"), "w")
    proc = start(cfg, log)
    a = None
    try:
        wait_serving(port)
        a = scenario(port)
        print("session A 0x%x" % a.client_id[0])
    finally:
        kill(proc)
    if a is not None:
        a.stop()
        a.close()
    # Restart: loadData replays the log and writes snapshot.<last zxid>.
    proc = start(cfg, log)
    try:
        wait_serving(port)
    finally:
        kill(proc)
    log.close()

    vdir = os.path.join(datadir, "version-2")
    names = sorted(os.listdir(vdir))
    print("wrote:", names)
    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        os.unlink(os.path.join(args.out, old))
    for n in names:
        if n.startswith("snapshot."):
            shutil.copy(os.path.join(vdir, n), os.path.join(args.out, n))
        elif n.startswith("log."):
            size = trim_log(os.path.join(vdir, n), os.path.join(args.out, n))
            if size <= 16:
                os.unlink(os.path.join(args.out, n))  # a log the restart opened, empty
    print("copied:", sorted(os.listdir(args.out)))
    if args.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
