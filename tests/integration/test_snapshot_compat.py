"""The snapshot format, Paddock -> Apache ZooKeeper 3.8 -> Paddock.

  * storage_snapshot_sample (a small test binary built from
    tests/unit/storage/snapshot_sample.c, so no test hook ships in `paddock`)
    writes a snapshot with Paddock's writer: every node kind (persistent,
    sequential, ephemerals of two sessions, container, TTL), ACL lists with a
    freed index, null, empty, binary and 100 KB data, a quota, a non-ASCII
    path, the ZxidDigest.
  * Apache's SnapshotFormatter (plain, -d and -json) must read it without an
    error and list exactly the nodes, stats, sessions and last zxid that
    `paddock snapshot --json` lists.
  * Apache ZooKeeper started on that data directory must compute, over our
    nodes, the digest we stored (its "Snapshot loaded ... digest is N" line)
    and report no digest mismatch, then serve the same tree to kazoo (data,
    versions, ACLs, the ephemerals of the restored sessions).
  * Apache writes its own snapshot of that tree at startup: `paddock
    snapshot` reads it back with the same nodes and the same digest.
  * A corrupt copy: `paddock snapshot` exits 1 with valid JSON saying why.

Needs PADDOCK_BIN, java and Debian's zookeeper (3.8). PADDOCK_SNAPSHOT_SAMPLE
is the sample writer (ctest sets it; otherwise looked up in the build tree
next to paddock). About 10 seconds, most of it JVM starts.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from kazoo.client import KazooClient

from zkserver import ServerProcess

ZK_JAR = "/usr/share/java/zookeeper.jar"
TOOL_CP = ":".join([ZK_JAR] + [
    os.path.join("/usr/share/java", j)
    for j in ("zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar", "commons-cli.jar")
    if os.path.exists(os.path.join("/usr/share/java", j))])
FORMATTER = "org.apache.zookeeper.server.SnapshotFormatter"

pytestmark = [
    pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"), reason="needs PADDOCK_BIN"),
    pytest.mark.skipif(shutil.which("java") is None or not os.path.exists(ZK_JAR),
                       reason="needs java and Debian's zookeeper"),
]


def sample_bin():
    b = os.environ.get("PADDOCK_SNAPSHOT_SAMPLE")
    if b:
        return b
    guess = os.path.join(os.path.dirname(os.environ["PADDOCK_BIN"]), "tests",
                         "storage_snapshot_sample")
    if not os.path.exists(guess):
        pytest.skip("needs PADDOCK_SNAPSHOT_SAMPLE")
    return guess


def paddock_snapshot(path, expect_rc=0):
    p = subprocess.run([os.environ["PADDOCK_BIN"], "snapshot", path, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == expect_rc, "paddock snapshot %s: %s%s" % (path, p.stdout, p.stderr)
    return json.loads(p.stdout)


def formatter(path, *opts):
    p = subprocess.run(["java", "-cp", TOOL_CP, FORMATTER] + list(opts) + [path],
                       capture_output=True, text=True, errors="replace", timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Exception" not in out and "CRC" not in out, out
    return p.stdout


NODE = re.compile(r"^(/.*)\n((?:  \w+ = .*\n)+)", re.M)
FIELD = re.compile(r"  (\w+) = (.*)")
SESSION = re.compile(r"^0x([0-9a-f]+), (\d+), (\d+)$", re.M)


def parse_formatter(out):
    """SnapshotFormatter's text: {path: {field: value}}, sessions, last zxid."""
    nodes = {}
    for m in NODE.finditer(out):
        nodes[m.group(1)] = dict(FIELD.findall(m.group(2)))
    sessions = {int(m.group(1), 16): (int(m.group(2)), int(m.group(3)))
                for m in SESSION.finditer(out)}
    last = re.search(r"^Last zxid: 0x([0-9a-f]+)$", out, re.M)
    return nodes, sessions, int(last.group(1), 16) if last else None


@pytest.fixture(scope="module")
def sample():
    tmp = tempfile.mkdtemp(prefix="pd-snapshot-compat-")
    datadir = os.path.join(tmp, "data")
    p = subprocess.run([sample_bin(), datadir], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    info["datadir"] = datadir
    info["tmp"] = tmp
    yield info
    if not os.environ.get("PADDOCK_TEST_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)


def test_formatter_reads_paddock_snapshot(sample):
    ours = paddock_snapshot(sample["file"])
    assert ours["valid"] and ours["digestState"] == "match"
    assert ours["treeDigest"] == sample["digest"]
    assert ours["digest"] == {"zxid": sample["zxid"], "version": 2, "digest": sample["digest"]}

    nodes, sessions, last = parse_formatter(formatter(sample["file"]))
    assert last == sample["zxid"]
    assert set(nodes) == {n["path"] for n in ours["nodes"]}
    for n in ours["nodes"]:
        a = nodes[n["path"]]
        assert int(a["cZxid"], 16) == n["czxid"], n["path"]
        assert int(a["mZxid"], 16) == n["mzxid"], n["path"]
        assert int(a["pZxid"], 16) == n["pzxid"], n["path"]
        assert int(a["cversion"]) == n["cversion"], n["path"]
        assert int(a["dataVersion"]) == n["version"], n["path"]
        assert int(a["aclVersion"]) == n["aversion"], n["path"]
        assert int(a["ephemeralOwner"], 16) == n["ephemeralOwner"] & (2**64 - 1), n["path"]
        assert int(a["dataLength"]) == n["dataLength"], n["path"]
    eph = {}
    for n in ours["nodes"]:
        if n["ephemeralOwner"] > 0 and n["ephemeralOwner"] >> 56 != 0xff:
            eph[n["ephemeralOwner"]] = eph.get(n["ephemeralOwner"], 0) + 1
    assert sessions == {sid: (to, eph.get(sid, 0)) for sid, to in sample["sessions"]}
    # -d (data too) and -json must read it as well
    assert "/big" in formatter(sample["file"], "-d")
    tree = json.loads(formatter(sample["file"], "-json"))
    assert tree[0] == 1 and tree[3][0]["name"] == "/"


def test_apache_loads_paddock_snapshot(sample):
    datadir = os.path.join(sample["tmp"], "apache-data")
    shutil.copytree(sample["datadir"], datadir)
    ours = paddock_snapshot(sample["file"])
    zk = ServerProcess(kind="zookeeper", name="snap", datadir=datadir,
                       extra_cfg={"maxSessionTimeout": "60000"})
    try:
        zk.start()
        with open(zk.server_log) as f:
            log = f.read()
        # Apache's own digest of our nodes, and no mismatch with the one we stored
        m = re.search(r"Snapshot loaded in \d+ ms, highest zxid is 0x([0-9a-f]+), digest is (-?\d+)",
                      log)
        assert m, log[-3000:]
        assert int(m.group(1), 16) == sample["zxid"]
        assert int(m.group(2)) == sample["digest"]
        assert "igest mismatch" not in log and "Digests are not matching" not in log, log
        assert "digest value as %d" % sample["digest"] in log, log[-3000:]

        c = KazooClient(hosts=zk.hosts, timeout=10.0)
        c.start(timeout=15)
        try:
            for n in ours["nodes"]:
                path = n["path"]
                data, st = c.get(path)
                want = bytes.fromhex(n["data"]) if n["data"] is not None else b""
                assert (data or b"") == want, path
                assert st.version == n["version"], path
                assert st.aversion == n["aversion"], path
                assert st.mzxid == n["mzxid"] and st.czxid == n["czxid"], path
                assert st.pzxid == n["pzxid"], path
            # (without ADMIN on it, Apache shows a digest id as "user:x")
            acls, _ = c.get_acls("/app/cfg")
            assert sorted((a.perms, a.id.scheme, a.id.id) for a in acls) == [
                (1, "world", "anyone"), (31, "digest", "alice:x")]
            acls, _ = c.get_acls("/app/ip")
            assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(17, "world", "anyone")]
            _, st = c.get("/app/eph")
            assert st.ephemeralOwner == sample["sessions"][0][0]
            _, st = c.get("/other-eph")
            assert st.ephemeralOwner == sample["sessions"][1][0]
        finally:
            c.stop()
            c.close()
    finally:
        zk.stop()
        zk.cleanup()
    # Apache wrote its own snapshot of the same tree at startup (same zxid, same name):
    # Paddock reads it back with the same nodes and digest. Its ZxidDigest is the empty
    # one: 3.8 has no digest of a last txn until it applies one after loading.
    theirs = paddock_snapshot(os.path.join(datadir, "version-2",
                                           os.path.basename(sample["file"])))
    assert theirs["valid"] and theirs["digestState"] == "empty"
    assert theirs["digest"] == {"zxid": 0, "version": 2, "digest": 0}
    assert theirs["treeDigest"] == sample["digest"]

    def key(n):
        return {k: v for k, v in n.items() if k != "acl"}
    assert sorted(map(json.dumps, map(key, theirs["nodes"]))) == \
        sorted(map(json.dumps, map(key, ours["nodes"])))


def test_corrupt_copy_refused(sample):
    bad = os.path.join(sample["tmp"], "snapshot.%x" % sample["zxid"])
    with open(sample["file"], "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x40
    with open(bad, "wb") as f:
        f.write(data)
    out = paddock_snapshot(bad, expect_rc=1)
    assert out["valid"] is False and out["error"]
    with open(bad, "wb") as f:
        f.write(data[:len(data) - 7])
    out = paddock_snapshot(bad, expect_rc=1)
    assert out["valid"] is False and "final" in out["error"]
