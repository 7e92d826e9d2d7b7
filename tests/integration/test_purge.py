"""Purging old snapshots and logs (issue 3, item 5): `paddock purge` and
autopurge, checked against Apache ZooKeeper 3.8's own PurgeTxnLog.

  * `paddock purge <dataLogDir> [<snapDir>] -n 3` on a directory Paddock
    wrote (snapCount 50: a snapshot and a new log file every 26..50 txns, so
    about 15 snapshots): afterwards the 3 newest snapshots remain, with the
    newest log starting at or before the oldest of them and every later log;
    Apache's PurgeTxnLog on an identical copy leaves exactly the same files;
    the server restarted on the purged directory serves the identical tree.
  * the same on a directory Apache ZooKeeper 3.8 wrote, with one directory
    and with a separate dataLogDir (PurgeTxnLog's argument order: logs
    first), plus a torn newest snapshot that neither counts; Paddock started
    on the purged directory serves Apache's tree.
  * the tool against a running server (what a zkCleanup.sh cron job does):
    nothing the server needs goes; the tree survives a restart.
  * what the tool refuses: a count below 3, a missing directory, swapped
    directories; and the junk neither touches vs. the junk only Apache
    deletes.
  * autopurge: with autopurge.purgeInterval > 0 the server purges by
    itself, keeping autopurge.snapRetainCount snapshots. The interval is in
    hours, so this needs a test build (PADDOCK_TEST_BUILD, the sanitizer
    build), where PADDOCK_TEST_PURGE_INTERVAL_MS shortens it; skipped
    otherwise.

Needs PADDOCK_BIN; the comparisons also need java and Debian's zookeeper.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from zkserver import ZK_JAR, ServerProcess
from zkutil import wait_until
from zkwire import Op, enc_create, enc_set_data, raw_session

PADDOCK_BIN = os.environ.get("PADDOCK_BIN")
HAVE_ZK = os.path.exists(ZK_JAR) and shutil.which("java") is not None

pytestmark = pytest.mark.skipif(not PADDOCK_BIN,
                                reason="needs PADDOCK_BIN (paddock purge)")

SNAP_COUNT = "50"


# ---------------------------------------------------------------- helpers

def name_zxid(name, prefix):
    """The zxid of "<prefix>.<hex>" (exact), else None."""
    if not name.startswith(prefix + "."):
        return None
    h = name[len(prefix) + 1:]
    if not 1 <= len(h) <= 16 or any(c not in "0123456789abcdefABCDEF"
                                    for c in h):
        return None
    return int(h, 16)


def listing(d):
    return sorted(os.listdir(os.path.join(d, "version-2")))


def snapshots(d):
    return sorted((z, n) for n in listing(d)
                  if (z := name_zxid(n, "snapshot")) is not None)


def logs(d):
    return sorted((z, n) for n in listing(d)
                  if (z := name_zxid(n, "log")) is not None)


def is_valid_snapshot(path):
    """ZooKeeper's SnapStream.isValidCheckedStream."""
    size = os.path.getsize(path)
    if size < 10:
        return False
    with open(path, "rb") as f:
        f.seek(size - 5)
        return f.read(5) == b"\0\0\0\1/"


def expected_after_purge(snap_dir, log_dir, n):
    """What PurgeTxnLog's rule keeps: (snapshot names, log names)."""
    snaps = snapshots(snap_dir)
    valid = [z for z, name in reversed(snaps)
             if is_valid_snapshot(os.path.join(snap_dir, "version-2", name))][:n]
    if not valid:
        return ([s for _, s in snaps], [lg for _, lg in logs(log_dir)])
    least = valid[-1]
    lz = max([z for z, _ in logs(log_dir) if z <= least], default=0)
    return ([s for z, s in snaps if z >= least],
            [lg for z, lg in logs(log_dir) if z >= lz])


def paddock_purge(*args):
    return subprocess.run([PADDOCK_BIN, "purge"] + list(args),
                          capture_output=True, text=True, timeout=60)


def apache_purge(*args):
    """org.apache.zookeeper.server.PurgeTxnLog, as zkCleanup.sh runs it."""
    r = subprocess.run(
        ["java", "-cp", ZK_JAR + ":/usr/share/java/*",
         "org.apache.zookeeper.server.PurgeTxnLog"] + list(args),
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def walk(c, root="/"):
    """{path: (data, stat)} for root and everything below it."""
    out = {}
    todo = [root]
    while todo:
        p = todo.pop()
        err, (data, st) = c.get_data(p)
        assert err == 0, (p, err)
        err, (kids, _) = c.get_children(p)
        assert err == 0, (p, err)
        out[p] = (data, st)
        todo += [(p.rstrip("/") + "/" + k) for k in kids]
    return out


def write_load(port, root, n, batch=50):
    """n txns under root: pipelined creates and setDatas, in batches."""
    c = raw_session(port, timeout_ms=10000)
    try:
        err, _ = c.create(root, b"r")
        assert err == 0
        done = 1
        i = 0
        while done < n:
            xids = []
            for _ in range(min(batch, n - done)):
                if i % 4 == 3:
                    xids.append(c.send_request(
                        Op.SET_DATA, enc_set_data("%s/n%05d" % (root, i - 1),
                                                  b"set %d" % i)))
                else:
                    xids.append(c.send_request(
                        Op.CREATE2, enc_create("%s/n%05d" % (root, i),
                                               b"v%d" % i)))
                i += 1
            for x in xids:
                assert c.read_reply(x).err == 0
            done += len(xids)
        c.close_session()
    finally:
        c.close()


def tree_of(port):
    c = raw_session(port, timeout_ms=10000)
    try:
        return walk(c)
    finally:
        c.close_session()
        c.close()


def load_until_snapshots(port, datadir, n, root, timeout=90):
    """Writes in small steps until datadir holds n snapshots. (A server
    skips a snapshot while the previous one is still being written, so a
    fixed number of txns does not give a fixed number of snapshots.)"""
    deadline = time.monotonic() + timeout
    step = 0
    while len(snapshots(datadir)) < n:
        assert time.monotonic() < deadline, \
            "only %d snapshots in %s" % (len(snapshots(datadir)), datadir)
        write_load(port, "%s-%d" % (root, step), 40, batch=10)
        step += 1
        time.sleep(0.05)


@pytest.fixture
def tmp(request):
    d = tempfile.mkdtemp(prefix="paddock-it-purge-")
    yield d
    if not os.environ.get("PADDOCK_TEST_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers():
    made = []

    def make(**kw):
        s = ServerProcess(**kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.cleanup()


# ---------------------------------------------------------------- tests

def test_purge_paddock_datadir(servers, tmp):
    s = servers(kind="paddock", name="purge-pd",
                extra_cfg={"snapCount": SNAP_COUNT}).start()
    load_until_snapshots(s.port, s.datadir, 8, "/purge")
    before = tree_of(s.port)
    s.stop()
    n_snaps = len(snapshots(s.datadir))
    assert n_snaps >= 8
    assert len(logs(s.datadir)) >= 8

    # Apache's PurgeTxnLog on an identical copy
    copy = os.path.join(tmp, "apache")
    shutil.copytree(s.datadir, copy)
    want_snaps, want_logs = expected_after_purge(s.datadir, s.datadir, 3)
    r = paddock_purge(s.datadir, "-n", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("Removing file: ") == (
        n_snaps - len(want_snaps) + len(logs(copy)) - len(want_logs))
    assert [n for _, n in snapshots(s.datadir)] == want_snaps
    assert len(want_snaps) == 3
    assert [n for _, n in logs(s.datadir)] == want_logs
    if HAVE_ZK:
        apache_purge(copy, "-n", "3")
        assert listing(copy) == listing(s.datadir)

    # nothing more to purge: a second run deletes nothing
    r = paddock_purge(s.datadir)
    assert r.returncode == 0 and "Removing file" not in r.stdout

    s.start()
    assert tree_of(s.port) == before


@pytest.mark.skipif(not HAVE_ZK, reason="needs java and Debian's zookeeper")
@pytest.mark.parametrize("separate_log_dir", [False, True],
                         ids=["one-dir", "dataLogDir"])
def test_purge_matches_apache_on_zookeeper_datadir(servers, tmp,
                                                   separate_log_dir):
    cfg = {"snapCount": SNAP_COUNT}
    logdir = None
    if separate_log_dir:
        logdir = os.path.join(tmp, "zk-logs")
        os.makedirs(logdir)
        cfg["dataLogDir"] = logdir
    z = servers(kind="zookeeper", name="purge-zk", extra_cfg=cfg).start()
    load_until_snapshots(z.port, z.datadir, 7, "/purge")
    before = tree_of(z.port)
    z.stop()

    # A torn newest snapshot (a copy cut short): counted by neither.
    newest_z, newest = snapshots(z.datadir)[-1]
    with open(os.path.join(z.datadir, "version-2", newest), "rb") as f:
        head = f.read(100)
    with open(os.path.join(z.datadir, "version-2",
                           "snapshot.%x" % (newest_z + 1000)), "wb") as f:
        f.write(head)
    # Files neither tool touches.
    for name in ("tmp.snapshot.5", "README"):
        with open(os.path.join(z.datadir, "version-2", name), "w") as f:
            f.write("x")

    mine = os.path.join(tmp, "mine")
    theirs = os.path.join(tmp, "theirs")
    shutil.copytree(z.datadir, os.path.join(mine, "data"))
    shutil.copytree(z.datadir, os.path.join(theirs, "data"))
    if logdir:
        shutil.copytree(logdir, os.path.join(mine, "logs"))
        shutil.copytree(logdir, os.path.join(theirs, "logs"))
        args = lambda d: [os.path.join(d, "logs"), os.path.join(d, "data")]
        log_of = lambda d: os.path.join(d, "logs")
    else:
        args = lambda d: [os.path.join(d, "data")]
        log_of = lambda d: os.path.join(d, "data")

    want_snaps, want_logs = expected_after_purge(
        os.path.join(mine, "data"), log_of(mine), 3)
    r = paddock_purge(*args(mine), "-n", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    apache_purge(*args(theirs), "-n", "3")

    assert listing(os.path.join(mine, "data")) == \
        listing(os.path.join(theirs, "data"))
    assert listing(log_of(mine)) == listing(log_of(theirs))
    assert [n for _, n in snapshots(os.path.join(mine, "data"))] == want_snaps
    assert [n for _, n in logs(log_of(mine))] == want_logs
    assert len(want_snaps) == 4          # 3 valid + the torn one above them
    assert len(snapshots(z.datadir)) > len(want_snaps)   # something went

    # Paddock serves Apache's tree from the purged directory.
    extra = {"snapCount": SNAP_COUNT}
    if logdir:
        extra["dataLogDir"] = os.path.join(mine, "logs")
    p = servers(kind="paddock", name="purge-zk-pd",
                datadir=os.path.join(mine, "data"), extra_cfg=extra).start()
    after = tree_of(p.port)
    # Apache's /zookeeper/config and quota nodes are its own; compare the rest
    assert {k: v for k, v in after.items() if k.startswith("/purge")} == \
        {k: v for k, v in before.items() if k.startswith("/purge")}


def test_purge_while_serving(servers):
    """A cron job purging under a live server removes nothing it needs."""
    s = servers(kind="paddock", name="purge-live",
                extra_cfg={"snapCount": SNAP_COUNT}).start()
    for round in range(6):
        write_load(s.port, "/live%d" % round, 120, batch=10)
        r = paddock_purge(s.datadir, "-n", "3")
        assert r.returncode == 0, r.stdout + r.stderr
    assert len(snapshots(s.datadir)) <= 5    # 3, plus any written since
    before = tree_of(s.port)
    # a crash, so that recovery must replay the log from the kept snapshot
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait(15)
    s.proc = None
    s.start()
    assert tree_of(s.port) == before


def test_purge_refusals(tmp):
    d = os.path.join(tmp, "data")
    os.makedirs(os.path.join(d, "version-2"))
    for z in (0x10, 0x20, 0x30, 0x40):
        with open(os.path.join(d, "version-2", "snapshot.%x" % z), "wb") as f:
            f.write(b"ZKSN" + b"\0" * 10 + b"\0\0\0\1/")
        with open(os.path.join(d, "version-2", "log.%x" % (z + 1)), "wb") as f:
            f.write(b"ZKLG")
    before = listing(d)

    for n in ("2", "0", "-1"):
        r = paddock_purge(d, "-n", n)
        assert r.returncode != 0
        assert "count should be greater than or equal to 3" in r.stderr
    r = paddock_purge(d, "-n", "three")
    assert r.returncode != 0 and "can not be parsed to integer" in r.stderr
    r = paddock_purge(os.path.join(tmp, "missing"))
    assert r.returncode != 0 and "does not exist" in r.stderr
    r = paddock_purge()
    assert r.returncode != 0 and "usage" in r.stderr

    # Swapped or mixed directories: refused, as FileTxnSnapLog refuses them.
    other = os.path.join(tmp, "logs")
    os.makedirs(os.path.join(other, "version-2"))
    with open(os.path.join(other, "version-2", "log.1"), "wb") as f:
        f.write(b"ZKLG")
    r = paddock_purge(d, other, "-n", "3")   # d given as the log directory
    assert r.returncode == 1
    assert "Log directory has snapshot files" in r.stderr
    assert listing(d) == before

    # The same directory spelled two ways is one directory.
    r = paddock_purge(d, os.path.join(d, ".", "..", "data"), "-n", "3")
    assert r.returncode == 0, r.stderr
    # S = 0x20; log.11 holds the txns after it
    assert listing(d) == ["log.11", "log.21", "log.31", "log.41",
                          "snapshot.20", "snapshot.30", "snapshot.40"]


@pytest.mark.skipif(not HAVE_ZK, reason="needs java and Debian's zookeeper")
def test_junk_apache_deletes_and_paddock_keeps(tmp):
    """Names that only look like snapshots or logs: Apache deletes them
    (Util.getZxidFromName gives -1, below every zxid), Paddock never
    touches anything but snapshot.<hex> and log.<hex>. Names that neither
    touches stay with both."""
    junk_only_apache = ["log.junk", "snapshot.xyz", "snapshot.5.tmp", "log.5.bak"]
    junk_neither = ["tmp.snapshot.5", "README", "snapshot", "acceptedEpoch"]
    dirs = []
    for who in ("mine", "theirs"):
        d = os.path.join(tmp, who)
        os.makedirs(os.path.join(d, "version-2"))
        for z in (0x10, 0x20, 0x30, 0x40):
            with open(os.path.join(d, "version-2", "snapshot.%x" % z), "wb") as f:
                f.write(b"ZKSN" + b"\0" * 10 + b"\0\0\0\1/")
            with open(os.path.join(d, "version-2", "log.%x" % (z + 1)), "wb") as f:
                f.write(b"ZKLG")
        for name in junk_only_apache + junk_neither:
            with open(os.path.join(d, "version-2", name), "w") as f:
                f.write("x")
        dirs.append(d)
    mine, theirs = dirs
    assert paddock_purge(mine).returncode == 0
    apache_purge(theirs, "-n", "3")
    real = ["log.11", "log.21", "log.31", "log.41", "snapshot.20",
            "snapshot.30", "snapshot.40"]
    assert listing(mine) == sorted(real + junk_only_apache + junk_neither)
    assert listing(theirs) == sorted(real + junk_neither)


def test_autopurge(servers, monkeypatch):
    monkeypatch.setenv("PADDOCK_TEST_PURGE_INTERVAL_MS", "200")
    s = servers(kind="paddock", name="autopurge",
                extra_cfg={"snapCount": SNAP_COUNT,
                           "autopurge.purgeInterval": "1",
                           "autopurge.snapRetainCount": "3"}).start()
    with open(s.stdout_path, errors="replace") as f:
        if "PADDOCK_TEST_PURGE_INTERVAL_MS" not in f.read():
            pytest.skip("not a test build: the purge interval is in hours")
    load_until_snapshots(s.port, s.datadir, 3, "/auto")
    for round in range(6):
        write_load(s.port, "/auto%d" % round, 120, batch=10)
    # at rest, the next purge leaves the 3 newest snapshots and their logs
    def settled():
        snaps = snapshots(s.datadir)
        if len(snaps) != 3:
            return False
        want = expected_after_purge(s.datadir, s.datadir, 3)
        return ([n for _, n in snaps], [n for _, n in logs(s.datadir)]) == want
    wait_until(settled, timeout=30, what="autopurge to keep 3 snapshots")
    with open(s.stdout_path, errors="replace") as f:
        out = f.read()
    assert "autopurge.snapRetainCount set to 3" in out
    assert "Purge task started." in out
    assert "Removing file: " in out
    assert "Purge task completed" in out
    before = tree_of(s.port)
    s.stop()
    monkeypatch.delenv("PADDOCK_TEST_PURGE_INTERVAL_MS")
    s.start()
    assert tree_of(s.port) == before
