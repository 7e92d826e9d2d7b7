"""The txn log format, file by file, against Apache ZooKeeper 3.8's own code.

  * Paddock writes, Apache reads: storage_txnlog_sample (a small test binary
    built from tests/unit/storage/txnlog_sample.c, so no test hook ships in
    `paddock`) writes two log files with Paddock's writer holding every txn
    type the server logs: createSession, create/create2 (ephemeral, digest
    and ip ACLs, null, empty and binary data, a non-ASCII path), createTTL,
    createContainer, setData, setACL, an ErrorTxn, a multi with create,
    createTTL, createContainer, setData, check and delete, a failed multi,
    delete, deleteContainer, closeSession with and without paths. Apache's
    TxnLogToolkit (zkTxnLogToolkit.sh; 3.8 no longer ships LogFormatter) must
    read every record with no CRC error or exception and list exactly the
    zxids and types `paddock log --json` lists.
  * Apache writes, Paddock reads: a real Apache ZooKeeper 3.8 server takes
    writes from kazoo (every op kazoo has, a multi that fails, a session
    that closes with an ephemeral), is stopped, and `paddock log --json`
    must read every record of its log files with each checksum verified,
    agree with TxnLogToolkit record for record, and show the writes made.

Needs PADDOCK_BIN, java and Debian's zookeeper (3.8). PADDOCK_TXNLOG_SAMPLE
is the sample writer (ctest sets it; otherwise looked up next to paddock).
About 5 to 10 seconds, most of it JVM starts.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, make_acl

from zkserver import ServerProcess

ZK_JAR = "/usr/share/java/zookeeper.jar"
TOOL_CP = ":".join([ZK_JAR] + [
    os.path.join("/usr/share/java", j)
    for j in ("slf4j-api.jar", "slf4j-nop.jar", "commons-cli.jar")
    if os.path.exists(os.path.join("/usr/share/java", j))])
TOOLKIT = "org.apache.zookeeper.server.persistence.TxnLogToolkit"

# One line per record starts like:
#   6/16/24, 1:06:40 AM UTC session 0x100000821ad0000 cxid 0x3 zxid 0x4 create ...
RECORD = re.compile(r"session 0x([0-9a-f]+) cxid 0x([0-9a-f]+) zxid 0x([0-9a-f]+) (\w+)")
EOF_LINE = re.compile(r"EOF reached after (\d+) txns\.")

pytestmark = [
    pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"), reason="needs PADDOCK_BIN"),
    pytest.mark.skipif(shutil.which("java") is None or not os.path.exists(ZK_JAR),
                       reason="needs java and Debian's zookeeper"),
]


def paddock_log(path):
    """`paddock log --json` on one file: its parsed output (exit status 0 required)."""
    p = subprocess.run([os.environ["PADDOCK_BIN"], "log", path, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, "paddock log %s: %s%s" % (path, p.stdout, p.stderr)
    return json.loads(p.stdout)


def toolkit(path):
    """Apache's TxnLogToolkit on one file: [(session, cxid, zxid, type)]."""
    p = subprocess.run(["java", "-cp", TOOL_CP, TOOLKIT, path],
                       capture_output=True, text=True, errors="replace", timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "CRC ERROR" not in out, out
    assert "Exception" not in out, out
    assert out.startswith("ZooKeeper Transactional Log File with dbid 0 "
                          "txnlog format version 2"), out
    records = [(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16),
                m.group(4)) for m in RECORD.finditer(out)]
    m = EOF_LINE.search(out)
    assert m, out
    assert int(m.group(1)) == len(records), out
    return records


def summary(doc):
    """The same tuples from `paddock log --json`."""
    return [(int(r["session"], 16), r["cxid"] & 0xffffffff, int(r["zxid"], 16),
             r["typeName"]) for r in doc["records"]]


def log_files(d):
    names = [n for n in os.listdir(d) if re.fullmatch(r"log\.[0-9a-f]+", n)]
    return sorted(names, key=lambda n: int(n[4:], 16))


def sample_writer():
    p = os.environ.get("PADDOCK_TXNLOG_SAMPLE")
    if not p:
        p = os.path.join(os.path.dirname(os.environ["PADDOCK_BIN"]), "tests",
                         "storage_txnlog_sample")
    if not os.path.exists(p):
        pytest.skip("storage_txnlog_sample not built (%s)" % p)
    return p


def test_apache_reads_paddock_log(tmp_path):
    out = subprocess.run([sample_writer(), str(tmp_path)], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    written = dict((name, int(n)) for name, n in
                   (line.split() for line in out.splitlines()))
    assert log_files(tmp_path) == list(written)
    all_types = set()
    for name, n in written.items():
        path = str(tmp_path / name)
        # Preallocated as Apache's: 16 bytes of header plus whole 64 KiB blocks.
        assert (os.path.getsize(path) - 16) % 65536 == 0
        ours = paddock_log(path)
        theirs = toolkit(path)
        assert ours["count"] == n and not ours["end"]["torn"]
        assert summary(ours) == theirs
        assert int(name[4:], 16) == theirs[0][2]  # named after its first zxid
        all_types |= {r[3] for r in theirs}
        for r in ours["records"]:
            for sub in r.get("txns", []):
                all_types.add("multi:" + sub["typeName"])
    assert all_types >= {
        "createSession", "create", "create2", "createTtl", "createContainer",
        "setData", "setACL", "error", "multi", "delete", "deleteContainer",
        "closeSession", "multi:create", "multi:createTtl",
        "multi:createContainer", "multi:setData", "multi:check", "multi:delete",
        "multi:error"}


def test_paddock_reads_apache_log():
    zk = ServerProcess("zookeeper", name="txnlog")
    zk.start()
    try:
        c = KazooClient(hosts=zk.hosts, timeout=10)
        c.start()
        c.create("/compat", b"v0")
        c.create("/compat/e-", b"eph", ephemeral=True, sequence=True)
        c.create("/compat/bin", bytes(range(256)))
        c.set("/compat", b"v1")
        c.set_acls("/compat/bin", [make_digest_acl("alice", "secret", all=True),
                                   make_acl("ip", "127.0.0.1", read=True)])
        t = c.transaction()
        t.create("/compat/m", b"m")
        t.check("/compat", 1)
        t.set_data("/compat/m", b"mm")
        t.delete("/compat/m")
        assert not any(isinstance(r, Exception) for r in t.commit())
        t = c.transaction()
        t.create("/compat/never", b"x")
        t.check("/compat", 99)  # fails: BADVERSION
        assert any(isinstance(r, Exception) for r in t.commit())
        c.delete("/compat/bin")
        c.stop()  # closeSession deletes the ephemeral
        c.close()
    finally:
        zk.stop()
    try:
        vdir = os.path.join(zk.datadir, "version-2")
        names = log_files(vdir)
        assert names
        records = []
        for name in names:
            path = os.path.join(vdir, name)
            ours = paddock_log(path)
            assert not ours["end"]["torn"], ours["end"]
            assert summary(ours) == toolkit(path)
            records += ours["records"]
        zxids = [int(r["zxid"], 16) for r in records]
        assert zxids == list(range(zxids[0], zxids[0] + len(zxids)))
        types = [r["typeName"] for r in records]
        assert types == ["createSession", "create", "create", "create", "setData",
                         "setACL", "multi", "multi", "delete", "closeSession"]
        assert all("digest" in r for r in records)
        by_type = {}
        for r in records:
            by_type.setdefault(r["typeName"], []).append(r)
        first = by_type["create"][0]
        assert first["path"] == "/compat" and first["data"] == b"v0".hex()
        assert by_type["create"][1]["ephemeral"] is True
        assert by_type["create"][2]["data"] == bytes(range(256)).hex()
        acl = by_type["setACL"][0]["acl"]
        assert [(a["scheme"], a["perms"]) for a in acl] == [("digest", 31), ("ip", 1)]
        ok, failed = by_type["multi"]
        assert [s["typeName"] for s in ok["txns"]] == ["create", "check", "setData", "delete"]
        assert ok["txns"][1]["version"] == 2  # the checked version plus one
        # A failed multi is logged as a multi: the op before the failure in
        # full, then the error.
        assert [s["typeName"] for s in failed["txns"]] == ["create", "error"]
        assert failed["txns"][1]["err"] == -103
        closed = by_type["closeSession"][0]["paths2Delete"]
        assert len(closed) == 1 and closed[0].startswith("/compat/e-")
    finally:
        zk.cleanup()
