"""The data directory moves between Apache ZooKeeper 3.8 and Paddock, in both
directions, with nothing lost (DESIGN.md section 1, issue 3).

  * Apache writes, Paddock reads: Apache ZooKeeper (snapCount 100, so it
    writes several snapshots, fuzzy ones under pipelined load, and several
    logs) builds a varied tree: nested paths, binary, empty and null data, a
    300 kB node, world/digest/ip/auth ACLs, sequential nodes, ephemerals of a
    session that stays alive, containers with children, TTL nodes, setData
    and setACL bumping versions, deletes moving cversion and pzxid, multis
    (one failing: an error txn), a closed session. Variant "crash": it is
    killed with SIGKILL and the directory copied; it is then restarted on
    its own directory, writes more and is stopped cleanly (variant "clean").
    Paddock started on each copy must serve the identical tree (every path,
    data byte, ACL and Stat field, /zookeeper included), the live session
    must be resumable with its id and password and still own its
    ephemerals, new writes get zxids above Apache's and sequence numbers
    continue, and all that survives a Paddock restart.
  * Paddock writes, Apache reads: the same reversed. Paddock's snapshots come
    from snapCount and from SIGUSR1. Apache's log must show that it loaded
    the newest Paddock snapshot and found no digest mismatch while
    replaying Paddock's log (3.8 checks each record's TxnDigest).
  * Apache's own inspection tools read Paddock's files: TxnLogToolkit
    (zkTxnLogToolkit.sh) over every log, SnapshotFormatter (zkSnapShotToolkit.sh,
    with -d) over every snapshot: exit status 0, no exception, no CRC error;
    the txns they list are exactly the records in the file (counted and
    checksummed by an independent parser here) and the snapshot taken at
    rest lists exactly the live tree. 3.8 no longer ships LogFormatter;
    SnapshotFormatter -json needs json-simple, which Debian does not ship
    with zookeeper, so it fails on Apache's own snapshots too and is not run.

Needs PADDOCK_BIN, java and Debian's zookeeper (3.8). To keep JVM starts
down, each writer runs once per direction (module fixtures) and the tools run
in one JVM (java/ZkFileTools.java).
"""

import base64
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib

import pytest

from zkserver import SUPER_PASSWORD, SUPER_USER, ZK_JAR, ServerProcess, digest
from zkutil import wait_until
from zkwire import (Err, Flags, Op, Perm, RawClient, enc_create,
                    enc_path_version, enc_path_watch, enc_set_data)

PADDOCK_BIN = os.environ.get("PADDOCK_BIN")
HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS_SRC = os.path.join(HERE, "java", "ZkFileTools.java")
SLF4J_NOP = "/usr/share/java/slf4j-nop.jar"

pytestmark = [
    pytest.mark.skipif(not PADDOCK_BIN, reason="needs PADDOCK_BIN (Paddock is one side "
                       "of every check here)"),
    pytest.mark.skipif(shutil.which("java") is None or not os.path.exists(ZK_JAR),
                       reason="needs java and Apache ZooKeeper 3.8 (Debian zookeeper)"),
]

SESSION_MS = 10000  # the harness's maxSessionTimeout
CFG = {
    "snapCount": "100",     # snapshots and new log files every 51..100 txns
    "preAllocSize": "256",  # KiB: files grow past several preallocation blocks
}
ROOT = "/compat"
U_DIGEST = digest("u", "p")
BIG = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(300 * 1024))

# --------------------------------------------------------------------------
# clients and trees


def admin(port):
    """A session that may read everything (super) and is also u:p."""
    c = RawClient(port, timeout=15.0)
    assert c.connect(timeout_ms=SESSION_MS).timeout > 0
    assert c.add_auth("digest", "%s:%s" % (SUPER_USER, SUPER_PASSWORD))[0] == 0
    assert c.add_auth("digest", "u:p")[0] == 0
    return c


def resume(port, sess):
    """Reattach to the session (id, password); it must still be alive."""
    sid, pw = sess
    c = RawClient(port, timeout=15.0)
    resp = c.connect(session_id=sid, passwd=pw, timeout_ms=SESSION_MS)
    assert resp.timeout > 0 and resp.session_id == sid, (
        "session 0x%x was not resumable: %r" % (sid, resp))
    return c


def walk(c):
    """{path: (data, Stat, sorted ACL)} for the whole tree."""
    out = {}
    todo = ["/"]
    while todo:
        p = todo.pop()
        err, res = c.get_data(p)
        assert err == 0, (p, err)
        data, st = res
        err, res = c.get_acl(p)
        assert err == 0, (p, err)
        out[p] = (data, st, sorted(res[0]))
        err, res = c.get_children(p)
        assert err == 0, (p, err)
        todo += [(p.rstrip("/") + "/" + k) for k in res[0]]
    return out


def last_zxid(c):
    """The server's last processed zxid: the zxid in a read's reply header."""
    return c.call(Op.EXISTS, enc_path_watch("/")).zxid


def diff_trees(want, got):
    """Readable differences between two walk() results ([] if equal)."""
    out = []
    for p in sorted(set(want) | set(got)):
        if p not in got:
            out.append("missing: %s" % p)
            continue
        if p not in want:
            out.append("extra: %s %r" % (p, got[p][1]))
            continue
        (wd, ws, wa), (gd, gs, ga) = want[p], got[p]
        if wd != gd:
            out.append("%s: data %r != expected %r" % (p, _short(gd), _short(wd)))
        for f in ws._fields:
            if getattr(ws, f) != getattr(gs, f):
                out.append("%s: %s %r != expected %r" % (p, f, getattr(gs, f), getattr(ws, f)))
        if wa != ga:
            out.append("%s: acl %r != expected %r" % (p, ga, wa))
    return out


def _short(b):
    if b is None or len(b) <= 40:
        return b
    return b[:40] + b"...(%d bytes)" % len(b)


def ok(res):
    err, val = res
    assert err == 0, "error %d" % err
    return val


def build_tree(c, eph, gone):
    """Phase 1: the varied tree. c: admin(); eph: the session that stays
    alive; gone: a session closed at the end (its ephemerals go)."""
    ok(c.create(ROOT, b"root"))
    # data: binary, empty, null, big, non-ASCII names, nesting
    ok(c.create(ROOT + "/bin", bytes(range(256)) * 4))
    ok(c.create(ROOT + "/empty", b""))
    ok(c.create(ROOT + "/null", None))
    ok(c.create(ROOT + "/big", BIG))
    ok(c.create(ROOT + "/caf\u00e9-\u65e5\u672c", b"\xff\x00\xfe"))
    path = ROOT + "/deep"
    for name in "abcdefgh":
        ok(c.create(path))
        path += "/" + name
    ok(c.create(path, b"leaf"))
    # ACLs: digest, ip (host and network), world, auth (=> the session's digests)
    mixed = [(Perm.ALL, "digest", U_DIGEST), (Perm.READ, "world", "anyone")]
    ok(c.create(ROOT + "/acl-digest", b"d", acl=mixed))
    ok(c.create(ROOT + "/acl-digest2", b"d2", acl=mixed))  # shares the cached list
    ok(c.create(ROOT + "/acl-ip", b"i", acl=[(Perm.ALL, "ip", "127.0.0.1"),
                                              (Perm.READ | Perm.WRITE, "ip", "10.0.0.0/8")]))
    ok(c.create(ROOT + "/acl-auth", b"a", acl=[(Perm.ALL, "auth", "")]))
    ok(c.create(ROOT + "/acl-set", b"s"))
    ok(c.set_acl(ROOT + "/acl-set", [(Perm.READ, "world", "anyone")], 0))
    ok(c.set_acl(ROOT + "/acl-set", mixed, 1))
    ok(c.set_acl(ROOT + "/acl-set", [(Perm.ALL, "ip", "127.0.0.1"),
                                     (Perm.ADMIN, "digest", U_DIGEST)], -1))
    # versions: setData with and without version checks, back to null
    ok(c.create(ROOT + "/ver", b"v0"))
    for i in range(4):
        ok(c.set_data(ROOT + "/ver", b"v%d" % (i + 1), i))
    ok(c.set_data(ROOT + "/ver", None, -1))
    assert c.set_data(ROOT + "/ver", b"x", 1)[0] == Err.BADVERSION  # an error txn
    # sequentials (persistent and ephemeral), with deletes moving cversion/pzxid
    ok(c.create(ROOT + "/seq"))
    seqs = [ok(c.create(ROOT + "/seq/s-", b"%d" % i, flags=Flags.PERSISTENT_SEQUENTIAL))[0]
            for i in range(6)]
    ok(c.delete(seqs[1]))
    ok(c.delete(seqs[3], 0))
    ok(eph.create(ROOT + "/seq/e-", b"e", flags=Flags.EPHEMERAL_SEQUENTIAL))
    ok(eph.create(ROOT + "/seq/e-", b"e", flags=Flags.EPHEMERAL_SEQUENTIAL))
    # ephemerals of the live session and of one that closes
    ok(c.create(ROOT + "/eph"))
    ok(eph.create(ROOT + "/eph/e1", b"mine", flags=Flags.EPHEMERAL))
    ok(eph.create(ROOT + "/eph/e2", None, flags=Flags.EPHEMERAL, acl=mixed))
    ok(gone.create(ROOT + "/eph/g1", b"gone", flags=Flags.EPHEMERAL))
    ok(gone.create(ROOT + "/seq/g-", b"gone", flags=Flags.EPHEMERAL_SEQUENTIAL))
    # containers with children (never emptied, so the reaper leaves them)
    ok(c.create(ROOT + "/cont", b"c", flags=Flags.CONTAINER, op=Op.CREATE_CONTAINER))
    ok(c.create(ROOT + "/cont/c1", b"1"))
    ok(eph.create(ROOT + "/cont/c2", b"2", flags=Flags.EPHEMERAL))
    ok(c.create(ROOT + "/cont/inner", flags=Flags.CONTAINER, op=Op.CREATE_CONTAINER))
    ok(c.create(ROOT + "/cont/inner/leaf", b"l"))
    # TTL nodes (extendedTypesEnabled), far from expiring
    ok(c.create(ROOT + "/ttl", b"t", flags=Flags.PERSISTENT_WITH_TTL, ttl=3600 * 1000))
    ok(c.set_data(ROOT + "/ttl", b"t2"))
    ok(c.create(ROOT + "/ttl-seq-", b"ts", flags=Flags.PERSISTENT_SEQUENTIAL_WITH_TTL,
                ttl=7200 * 1000))
    ok(c.create(ROOT + "/ttl/child", b"under a ttl node"))
    # multi: create, create below, setData, check, delete; then a failing one
    ok(c.create(ROOT + "/m-doomed"))
    err, res = c.multi([
        (Op.CREATE, enc_create(ROOT + "/m", b"m")),
        (Op.CREATE, enc_create(ROOT + "/m/x", b"x", flags=Flags.PERSISTENT_SEQUENTIAL)),
        (Op.SET_DATA, enc_set_data(ROOT + "/m", b"m1", 0)),
        (Op.CHECK, enc_path_version(ROOT + "/bin", 0)),
        (Op.DELETE, enc_path_version(ROOT + "/m-doomed", 0)),
        (Op.CREATE, enc_create(ROOT + "/m/eph", b"", acl=mixed)),
    ])
    assert err == 0, res
    _, res = c.multi([
        (Op.CREATE, enc_create(ROOT + "/never", b"n")),
        (Op.SET_DATA, enc_set_data(ROOT + "/m", b"no", 7)),  # BADVERSION
    ])
    assert [r.err for r in res] == [0, Err.BADVERSION], res
    # deletes
    ok(c.create(ROOT + "/del"))
    for i in range(6):
        ok(c.create(ROOT + "/del/x%d" % i, b"x"))
    for i in (0, 2, 5):
        ok(c.delete(ROOT + "/del/x%d" % i))
    assert c.delete(ROOT + "/del")[0] == Err.NOTEMPTY
    assert c.create(ROOT + "/bin")[0] == Err.NODEEXISTS
    ok(gone.close_session())


def bulk(c, n, tag, big_every=0, on_half=None):
    """Pipelined load on ROOT/bulk-<tag>: n creates, then setData on half,
    delete a quarter; crosses snapCount several times (fuzzy snapshots on
    Apache) and the preallocation size (big_every: a 40 kB set every so
    often)."""
    base = ROOT + "/bulk-" + tag
    ok(c.create(base, tag.encode()))
    xids = [c.send_request(Op.CREATE2, enc_create("%s/n%03d" % (base, i), b"v%d" % i))
            for i in range(n)]
    for x in xids:
        assert c.read_reply(x).err == 0
    if on_half:
        on_half()
    xids = []
    for i in range(0, n, 2):
        data = BIG[:40 * 1024] if big_every and i % big_every == 0 else b"w%d" % i
        xids.append(c.send_request(Op.SET_DATA, enc_set_data("%s/n%03d" % (base, i), data)))
    xids += [c.send_request(Op.DELETE, enc_path_version("%s/n%03d" % (base, i)))
             for i in range(1, n, 4)]
    for x in xids:
        assert c.read_reply(x).err == 0


def phase2(c, eph):
    """More writes on the writer's second run (after it recovered)."""
    ok(c.create(ROOT + "/phase2", b"p2"))
    ok(c.set_data(ROOT + "/ver", b"after restart"))
    ok(eph.create(ROOT + "/eph/e3", b"after restart", flags=Flags.EPHEMERAL))
    ok(c.create(ROOT + "/seq/s-", b"p2", flags=Flags.PERSISTENT_SEQUENTIAL))
    ok(c.delete(ROOT + "/del/x1"))
    ok(c.set_acl(ROOT + "/acl-digest2", [(Perm.READ, "world", "anyone")], 0))
    err, _ = c.multi([(Op.CREATE, enc_create(ROOT + "/m2", b"")),
                      (Op.DELETE, enc_path_version(ROOT + "/m/eph"))])
    assert err == 0


def record(c, eph):
    """What the reader must show: the tree, the last zxid, the live
    session's ephemerals."""
    tree = walk(c)
    z = last_zxid(c)
    assert z >= max(max(st.czxid, st.mzxid, st.pzxid) for _, st, _ in tree.values())
    ephs = sorted(ok(eph.get_ephemerals("/")))
    assert len(ephs) >= 4
    assert all(tree[p][1].ephemeralOwner == eph.session_id for p in ephs)
    return {"tree": tree, "zxid": z, "ephemerals": ephs}


# --------------------------------------------------------------------------
# server logs


def apache_log_problems(srv):
    """WARN and ERROR lines about storage in Apache's log (others are noise
    here: a 4lw racing start-up, the `auth` ACL scheme skipping the super
    id; "Too busy to snap" is load, not damage)."""
    with open(srv.server_log, errors="replace") as f:
        text = f.read()
    bad = []
    for line in text.splitlines():
        if (" ERROR " in line or " WARN " in line) and re.search(
                r"(?i)digest|snap|txn|crc|corrupt|zxid|partial|log\.|FileTxn|ZKDatabase",
                line) and "Too busy to snap" not in line:
            bad.append(line)
    return text, bad


def paddock_log_problems(srv):
    with open(srv.stdout_path, errors="replace") as f:
        text = f.read()
    return text, [line for line in text.splitlines()
                  if "[WARN]" in line or "[ERROR]" in line]


def zookeeper_digest_race(datadir, line):
    """True when `line`, Paddock's warning that the tree digest after replaying
    up to zxid Z differs from the one an Apache snapshot stored for Z, is
    ZooKeeper's own race rather than a replay of ours: a fuzzy 3.8 snapshot
    can hold nodes already changed by a txn after Z (DataTree records the
    digest after changing the tree, while the snapshot thread may finish in
    between), and then our replay's digest is the one Apache logged with a
    later txn. Apache's loader reports the same directory ("Digests are not
    matching"); seen in about 1 run in 6."""
    m = re.search(r"replaying up to zxid (0x[0-9a-f]+) \((-?\d+)\) differs", line)
    if not m:
        return False
    zxid, got = int(m.group(1), 16), int(m.group(2)) & 0xFFFFFFFFFFFFFFFF
    v2 = os.path.join(datadir, "version-2")
    for name in os.listdir(v2):
        if not name.startswith("log."):
            continue
        out = subprocess.run([PADDOCK_BIN, "log", os.path.join(v2, name)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=60).stdout.decode(errors="replace")
        for rec in out.splitlines():
            z = re.search(r" zxid (0x[0-9a-f]+) ", rec)
            d = re.search(r" digest=2:(0x[0-9a-f]+)", rec)
            if z and d and int(z.group(1), 16) > zxid and int(d.group(1), 16) == got:
                return True
    return False


def newest(datadir, prefix):
    names = [n for n in os.listdir(os.path.join(datadir, "version-2"))
             if n.startswith(prefix + ".")]
    return max(names, key=lambda n: int(n.split(".")[1], 16))


def kill9(srv):
    """SIGKILL the server and everything it started (a snapshot writer)."""
    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(15)
    srv.proc = None


def copy_datadir(src, dst):
    shutil.copytree(src, dst)
    return dst


def snapshot_now(srv, zxid):
    """SIGUSR1 until Paddock has written snapshot.<zxid> (a signal that comes
    while another snapshot is being written is skipped)."""
    name = os.path.join(srv.datadir, "version-2", "snapshot.%x" % zxid)

    def done():
        if os.path.exists(name):
            return True
        srv.proc.send_signal(signal.SIGUSR1)
        return False

    wait_until(done, 8, interval=0.2, what=name)


# --------------------------------------------------------------------------
# writers (module fixtures: one run per direction)


def write_datadir(kind, tmp):
    """Run `kind` as the writer: phase 1, SIGKILL (copy "crash"), restart
    on its own directory, phase 2, clean stop (copy "clean")."""
    srv = ServerProcess(kind, extra_cfg=CFG, name="compat-w-" + kind)
    out = {"dirs": {}, "expect": {}, "writer": kind}
    try:
        srv.start()
        c = admin(srv.port)
        eph = RawClient(srv.port, timeout=15.0)
        assert eph.connect(timeout_ms=SESSION_MS).timeout > 0
        gone = RawClient(srv.port, timeout=15.0)
        assert gone.connect(timeout_ms=SESSION_MS).timeout > 0
        out["session"] = (eph.session_id, eph.passwd)
        build_tree(c, eph, gone)

        def usr1():
            if kind == "paddock":  # a snapshot under load, besides snapCount's
                srv.proc.send_signal(signal.SIGUSR1)

        bulk(c, 240, "a", big_every=16, on_half=usr1)
        if kind == "paddock":
            # one at rest too, then a few txns only in the log
            z = last_zxid(c)
            snapshot_now(srv, z)
            ok(c.create(ROOT + "/after-snap", b"log only"))
            ok(c.set_data(ROOT + "/after-snap", b"log only 2"))
        out["expect"]["crash"] = record(c, eph)
        for x in (c, eph, gone):
            x.close()
        kill9(srv)
        out["dirs"]["crash"] = copy_datadir(srv.datadir, os.path.join(tmp, "crash"))

        # the writer recovers its own directory first (the oracle for Apache)
        srv.start()
        eph = resume(srv.port, out["session"])
        c = admin(srv.port)
        assert diff_trees(out["expect"]["crash"]["tree"], walk(c)) == []
        phase2(c, eph)
        bulk(c, 60, "b")
        if kind == "paddock":
            z = last_zxid(c)
            snapshot_now(srv, z)
            out["rest_snapshot"] = "snapshot.%x" % z
        out["expect"]["clean"] = record(c, eph)
        c.close()
        eph.close()
        srv.stop()
        out["dirs"]["clean"] = copy_datadir(srv.datadir, os.path.join(tmp, "clean"))
        if kind == "zookeeper":
            _, bad = apache_log_problems(srv)
            # Apache 3.8.0 replaying its own directory after the kill sometimes reports a
            # digest mismatch (1 run in 5 here, after a fuzzy snapshot taken under load). A
            # false alarm: the tree it then serves equals the writer's record (checked above).
            bad = [l for l in bad if not re.search(
                r"Digests are not matching|First digest mismatch", l)]
            assert bad == [], "Apache (the writer) complained:\n" + "\n".join(bad)
        return out
    except BaseException:
        print(srv.log_tail())
        raise
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def tmpdir_module():
    d = tempfile.mkdtemp(prefix="paddock-it-compat-")
    yield d
    if not os.environ.get("PADDOCK_TEST_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def apache_written(tmpdir_module):
    return write_datadir("zookeeper", os.path.join(tmpdir_module, "by-apache"))


@pytest.fixture(scope="module")
def paddock_written(tmpdir_module):
    return write_datadir("paddock", os.path.join(tmpdir_module, "by-paddock"))


# --------------------------------------------------------------------------
# readers


def check_reader(kind, written, variant, tmp):
    """Start `kind` on a copy of the other server's directory and hold it to
    what the writer served."""
    exp = written["expect"]["clean" if variant == "oldest" else variant]
    datadir = copy_datadir(written["dirs"]["clean" if variant == "oldest" else variant],
                           os.path.join(tmp, "read-%s-%s" % (kind, variant)))
    if variant == "oldest":
        # only the first snapshot is left: the reader replays nearly every
        # txn from the other server's logs (Apache also checks each txn's
        # TxnDigest against its tree while replaying, when the log has them)
        v2 = os.path.join(datadir, "version-2")
        snaps = [n for n in os.listdir(v2) if n.startswith("snapshot.")]
        for n in snaps:
            if n != min(snaps, key=lambda n: int(n[9:], 16)):
                os.unlink(os.path.join(v2, n))
    first_snap = newest(datadir, "snapshot")  # what the reader must load
    srv = ServerProcess(kind, extra_cfg=CFG, datadir=datadir,
                        name="compat-r-%s-%s" % (kind, variant))
    try:
        srv.start()
        eph = resume(srv.port, written["session"])  # first: its timeout runs
        c = admin(srv.port)
        got = walk(c)
        diffs = diff_trees(exp["tree"], got)
        assert diffs == [], ("%s on %s's %s directory serves a different tree:\n  %s"
                             % (kind, written["writer"], variant, "\n  ".join(diffs)))
        assert sorted(ok(eph.get_ephemerals("/"))) == exp["ephemerals"]
        z = last_zxid(c)
        assert z >= exp["zxid"], ("last zxid went back", hex(z), hex(exp["zxid"]))

        # new writes: zxids above the writer's, sequence numbers continue. The
        # suffix is the stored cversion, which counts creates only; clients
        # see 2 * stored - numChildren (DataNode.copyStat)
        seq_parent = exp["tree"][ROOT + "/seq"][1]
        stored = (seq_parent.cversion + seq_parent.numChildren) // 2
        name, st = ok(c.create(ROOT + "/seq/s-", b"new", flags=Flags.PERSISTENT_SEQUENTIAL))
        assert name == ROOT + "/seq/s-%010d" % stored
        assert st.czxid > exp["zxid"]
        name, st2 = ok(eph.create(ROOT + "/eph/new-" + kind, b"", flags=Flags.EPHEMERAL))
        assert st2.czxid > st.czxid and st2.ephemeralOwner == written["session"][0]
        ok(c.set_data(ROOT + "/bin", b"rewritten", 0))
        expected_now = walk(c)

        if kind == "zookeeper":
            text, bad = apache_log_problems(srv)
            assert bad == [], ("Apache complained reading Paddock's directory:\n"
                               + "\n".join(bad))
            snap = first_snap
            assert re.search(r"Reading snapshot \S*/%s\b" % re.escape(snap), text), (
                "Apache did not load Paddock's newest snapshot %s:\n%s"
                % (snap, "\n".join(l for l in text.splitlines() if "napshot" in l)))
        else:
            text, bad = paddock_log_problems(srv)
            if variant == "crash":  # a record the kill cut short: never acknowledged
                bad = [l for l in bad if "torn record" not in l]
            src = written["dirs"]["clean" if variant == "oldest" else variant]
            bad = [l for l in bad if not zookeeper_digest_race(src, l)]
            assert bad == [], ("Paddock complained reading Apache's directory:\n"
                               + "\n".join(bad))
            assert re.search(r"loaded \S*/%s:" % re.escape(first_snap), text), (
                "Paddock did not load Apache's newest snapshot %s:\n%s" % (first_snap, text))
            # Paddock's own writes on top of Apache's files survive its restart
            c.close()
            eph.close()
            srv.restart()
            eph = resume(srv.port, written["session"])
            c = admin(srv.port)
            diffs = diff_trees(expected_now, walk(c))
            assert diffs == [], ("after a restart on Apache's directory:\n  "
                                 + "\n  ".join(diffs))
        c.close()
        eph.close()
    except BaseException:
        print(srv.log_tail(80))
        raise
    finally:
        srv.cleanup()


@pytest.mark.parametrize("variant", ["crash", "clean", "oldest"])
def test_paddock_reads_apache_datadir(apache_written, tmpdir_module, variant):
    check_reader("paddock", apache_written, variant, tmpdir_module)


@pytest.mark.parametrize("variant", ["crash", "clean", "oldest"])
def test_apache_reads_paddock_datadir(paddock_written, tmpdir_module, variant):
    check_reader("zookeeper", paddock_written, variant, tmpdir_module)


# --------------------------------------------------------------------------
# Apache's tools on Paddock's files


def parse_log(path):
    """Our own reading of a txn log file: [zxid] of its records (checksum and
    end-of-record byte checked), as FileTxnLog writes them."""
    with open(path, "rb") as f:
        data = f.read()
    magic, version, dbid = struct.unpack(">iiq", data[:16])
    assert (magic, version, dbid) == (0x5A4B4C47, 2, 0), (path, magic, version, dbid)
    pos, zxids = 16, []
    while pos + 12 <= len(data):
        crc, n = struct.unpack(">qi", data[pos:pos + 12])
        if n == 0:
            break
        payload = data[pos + 12:pos + 12 + n]
        assert len(payload) == n and zlib.adler32(payload) == crc, (path, pos)
        assert data[pos + 12 + n:pos + 13 + n] == b"B", (path, pos)
        zxids.append(struct.unpack(">q", payload[12:20])[0])  # TxnHeader.zxid
        pos += 13 + n
    return zxids


def run_tools(args):
    cp = ":".join([ZK_JAR] + ([SLF4J_NOP] if os.path.exists(SLF4J_NOP) else []))
    p = subprocess.run(["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-cp", cp, TOOLS_SRC] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
    out = p.stdout.decode("utf-8", errors="replace")
    sections = {}
    for m in re.finditer(r"^==== BEGIN (\S+)\n(.*?)^==== END \1 (\w+)$", out, re.M | re.S):
        sections[m.group(1)] = (m.group(3), m.group(2))
    return p.returncode, out, sections


def parse_formatter(text):
    """SnapshotFormatter -d output: ({path: {field: value}}, count, sessions)."""
    nodes = {}
    count = int(re.search(r"ZNode Details \(count=(\d+)\)", text).group(1))
    for block in text.split("----\n"):
        lines = block.splitlines()
        if not lines or not lines[0].startswith("/"):
            continue
        fields = dict(m.groups() for m in (re.match(r"^  (\w+) =(?: (.*))?$", l)
                                           for l in lines[1:]) if m)
        nodes[lines[0]] = fields
    sess = re.findall(r"^(0x[0-9a-f]+), (\d+), (\d+)$", text, re.M)
    return nodes, count, sess


def test_apache_tools_read_paddock_files(paddock_written):
    d = os.path.join(paddock_written["dirs"]["clean"], "version-2")
    logs = sorted((n for n in os.listdir(d) if n.startswith("log.")),
                  key=lambda n: int(n[4:], 16))
    snaps = sorted((n for n in os.listdir(d) if n.startswith("snapshot.")),
                   key=lambda n: int(n[9:], 16))
    assert len(logs) >= 4 and len(snaps) >= 4, (logs, snaps)

    # as an operator runs them: one JVM per file, exit status 0
    cp = ":".join([ZK_JAR] + ([SLF4J_NOP] if os.path.exists(SLF4J_NOP) else []))
    for cls, arg in (("org.apache.zookeeper.server.persistence.TxnLogToolkit",
                      os.path.join(d, logs[-1])),
                     ("org.apache.zookeeper.server.SnapshotFormatter",
                      os.path.join(d, snaps[-1]))):
        p = subprocess.run(["java", "-XX:+UseSerialGC", "-cp", cp, cls, arg],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        text = p.stdout.decode("utf-8", errors="replace")
        assert p.returncode == 0 and "Exception" not in text, (cls, arg, text[-3000:])

    # every file, in one JVM
    args = (["log:" + os.path.join(d, n) for n in logs]
            + ["snapd:" + os.path.join(d, n) for n in snaps])
    rc, out, sections = run_tools(args)
    assert rc == 0, out[-3000:]
    all_zxids = []
    for n in logs:
        status, text = sections["log:" + os.path.join(d, n)]
        assert status == "OK" and "Exception" not in text, (n, text[-3000:])
        assert "CRC ERROR" not in text, (n, text[-3000:])
        ours = parse_log(os.path.join(d, n))
        assert ours and ours[0] == int(n[4:], 16), (n, ours[:3])
        m = re.search(r"EOF reached after (\d+) txns\.", text)
        assert m and int(m.group(1)) == len(ours), (n, len(ours), text[-500:])
        theirs = [int(z, 16) for z in
                  re.findall(r" session 0x[0-9a-f]+ cxid 0x[0-9a-f]+ zxid 0x([0-9a-f]+) ", text)]
        assert theirs == ours, n
        all_zxids += ours
    # the logs hold every txn once, in order, with no gap
    assert all_zxids == list(range(1, all_zxids[-1] + 1)), "zxid gap or repeat in the logs"
    assert all_zxids[-1] == paddock_written["expect"]["clean"]["zxid"]

    for n in snaps:
        status, text = sections["snapd:" + os.path.join(d, n)]
        assert status == "OK" and "Exception" not in text, (n, text[-3000:])
        m = re.search(r"^Last zxid: 0x([0-9a-f]+)$", text, re.M)
        assert m and int(m.group(1), 16) >= int(n[9:], 16), (n, text[-300:])
    # the snapshot taken at rest is exactly the live tree
    rest = paddock_written["rest_snapshot"]
    status, text = sections["snapd:" + os.path.join(d, rest)]
    nodes, count, sessions = parse_formatter(text)
    tree = paddock_written["expect"]["clean"]["tree"]
    assert count == len(nodes) + 1  # DataTree counts the root twice ("" and "/")
    assert set(nodes) == set(tree), sorted(set(nodes) ^ set(tree))
    for p, (data, st, _) in tree.items():
        f = nodes[p]
        want = {"cZxid": st.czxid, "mZxid": st.mzxid, "pZxid": st.pzxid,
                # the file holds the stored cversion (see check_reader)
                "cversion": (st.cversion + st.numChildren) // 2, "dataVersion": st.version,
                "aclVersion": st.aversion, "ephemeralOwner": st.ephemeralOwner}
        # clients see 0 for TTL nodes and containers; files hold the type
        # (EphemeralType: EXTENDED_MASK | ttl, CONTAINER_EPHEMERAL_OWNER)
        if p.startswith(ROOT + "/cont") and not p.endswith(("/c1", "/c2", "/leaf")):
            want["ephemeralOwner"] = -0x8000000000000000
        elif p == ROOT + "/ttl":
            want["ephemeralOwner"] = -0x0100000000000000 | 3600 * 1000
        elif p.startswith(ROOT + "/ttl-seq-"):
            want["ephemeralOwner"] = -0x0100000000000000 | 7200 * 1000
        got = {k: int(f[k], 0) for k in want}
        # %#016x prints negative owners (containers, TTLs) as unsigned
        got["ephemeralOwner"] = struct.unpack(">q", struct.pack(">Q", got["ephemeralOwner"]))[0]
        assert got == want, (p, got, want)
        assert (f["data"] or "") == (base64.b64encode(data).decode() if data else ""), p
    sid = paddock_written["session"][0]
    assert ("%#016x" % sid, str(SESSION_MS),
            str(len(paddock_written["expect"]["clean"]["ephemerals"]))) in sessions, sessions


def test_apache_reads_paddock_datadir_before_its_first_snapshot(tmpdir_module):
    """A Paddock directory with a few txns and no snapshot yet (the default
    snapCount is 100000) must open in Apache too. Apache refuses a data
    directory that has log files but no snapshot ("No snapshot found, but
    there are log entries. Something is broken!", FileTxnSnapLog.restore,
    unless zookeeper.snapshot.trust.empty=true), and never writes one itself:
    ZooKeeperServer.loadData takes a snapshot at every start (snapshot.0 on
    an empty directory)."""
    pad = ServerProcess("paddock", name="compat-nosnap")
    try:
        pad.start()
        c = admin(pad.port)
        eph = RawClient(pad.port, timeout=15.0)
        assert eph.connect(timeout_ms=SESSION_MS).timeout > 0
        ok(c.create("/few", b"f"))
        ok(c.create("/few/seq-", b"", flags=Flags.PERSISTENT_SEQUENTIAL))
        ok(eph.create("/few/eph", b"e", flags=Flags.EPHEMERAL))
        want = walk(c)
        sess = (eph.session_id, eph.passwd)
        c.close()
        eph.close()
        pad.stop()
        datadir = copy_datadir(pad.datadir, os.path.join(tmpdir_module, "nosnap"))
    finally:
        pad.cleanup()
    zk = ServerProcess("zookeeper", datadir=datadir, name="compat-nosnap-r")
    try:
        try:
            zk.start()
        except RuntimeError as e:
            raise AssertionError(
                "Apache cannot start on a Paddock directory that has no snapshot yet "
                "(%s): Paddock should write one at start-up as ZooKeeper does\n%s"
                % (sorted(os.listdir(os.path.join(datadir, "version-2"))),
                   "\n".join(l for l in str(e).splitlines()
                             if "ERROR" in l or "Exception" in l))) from None
        resume(zk.port, sess).close()
        c = admin(zk.port)
        diffs = diff_trees(want, walk(c))
        assert diffs == [], "\n".join(diffs)
        c.close()
    finally:
        zk.cleanup()
