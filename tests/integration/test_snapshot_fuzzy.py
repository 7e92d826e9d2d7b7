"""Fuzzy snapshots: Paddock encodes a snapshot a slice per loop turn while it
keeps applying writes, names it by the zxid applied when it started, and
writes the digest of the zxid applied when it ended (as Apache ZooKeeper's
FileTxnSnapLog.save). Recovery replays the log after the snapshot's zxid.

Test builds only (the ASan server ctest runs): PADDOCK_TEST_SNAP_SLICE_NODES
makes every slice that many nodes, so a snapshot of a few thousand nodes spans
thousands of loop turns and many writes.

1. SIGKILL at random moments while writers create, delete, set, make
   sequential and ephemeral nodes and snapshots keep being taken in slices;
   after each restart every acknowledged write is there (test_crash's
   checks), and fuzzy snapshots were written and loaded.
2. A data dir whose newest snapshot is fuzzy (digest zxid past its name) plus
   the log after it: Paddock and Apache ZooKeeper 3.8 both load it and serve
   the tree the writer served, and Apache reports no digest mismatch.
"""

import os
import random
import re
import shutil
import signal
import struct
import time

import pytest

from test_crash import WRITERS, Writer, check
from test_datadir_compat import (apache_log_problems, diff_trees, kill9,
                                 paddock_log_problems, walk)
from zkserver import ZK_JAR, ServerProcess, default_target
from zkutil import wait_until
from zkwire import Flags, Op, RawClient, enc_create, enc_path_version, enc_set_data

pytestmark = pytest.mark.skipif(default_target() != "paddock",
                                reason="Paddock's snapshots (and a test-build knob)")

SLICE_ENV = "PADDOCK_TEST_SNAP_SLICE_NODES"
SESSION_MS = 10000


def snapshots(datadir):
    """{zxid in the name: zxid of the trailing digest} of every complete
    snapshot (ZxidDigest then the seal: long, int, long, long, int 1, "/")."""
    v2 = os.path.join(datadir, "version-2")
    out = {}
    for n in os.listdir(v2):
        if not re.fullmatch(r"snapshot\.[0-9a-f]+", n):
            continue
        with open(os.path.join(v2, n), "rb") as f:
            data = f.read()
        assert data[-5:] == b"\0\0\0\x01/", n
        (dz,) = struct.unpack(">q", data[-33:-25])
        out[int(n[9:], 16)] = dz
    return out


def pad(c, parent, n):
    """n children under parent, pipelined: a tree big enough for long snapshots."""
    assert c.create(parent, b"pad")[0] == 0
    xids = [c.send_request(Op.CREATE2, enc_create("%s/p%05d" % (parent, i), b"x" * 20))
            for i in range(n)]
    for x in xids:
        assert c.read_reply(x).err == 0


def test_sigkill_during_fuzzy_snapshots(monkeypatch):
    monkeypatch.setenv(SLICE_ENV, "2")
    rnd = random.Random(int(os.environ.get("PADDOCK_CRASH_SEED", "4242")))
    srv = ServerProcess(name="fuzzy-crash", extra_cfg={"snapCount": "400"})
    srv.start()
    try:
        c = RawClient(srv.port)
        c.connect(timeout_ms=SESSION_MS)
        c.create("/crash")
        for wid in range(WRITERS):
            c.create("/crash/w%d" % wid)
            c.create("/crash/w%d/reg" % wid, b"r0")
        pad(c, "/pad", 3000)
        c.close_session()
        c.close()
        states = [{"n": 0, "created": {}, "maybe_created": {}, "deleted": set(),
                   "maybe_deleted": set(), "reg": (0, b"r0"), "reg_tries": {b"r0"},
                   "ephemerals": set(), "sequentials": [], "session": None}
                  for _ in range(WRITERS)]
        for _ in range(8):
            writers = [Writer(srv.port, w, random.Random(rnd.random()), states[w])
                       for w in range(WRITERS)]
            for w in writers:
                w.start()
            deadline = time.monotonic() + rnd.uniform(0.5, 1.5)
            while time.monotonic() < deadline:
                srv.proc.send_signal(signal.SIGUSR1)  # skipped while one is being taken
                time.sleep(0.05)
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait(10)
            for w in writers:
                w.stop = True
                w.join(10)
                assert not w.is_alive()
            srv.proc = None
            srv.start()
            check(srv.port, states)
        with open(srv.stdout_path, errors="replace") as f:
            log = f.read()
        slices = [int(m) for m in re.findall(r"encoded in (\d+) slices", log)]
        assert slices and max(slices) > 100, "snapshots were not taken in slices"
        snaps = snapshots(srv.datadir)
        fuzzy = [z for z, dz in snaps.items() if dz > z]
        assert fuzzy, "no snapshot was written while writes went on: %r" % snaps
        loaded = re.findall(r"loaded \S*/snapshot\.([0-9a-f]+):", log)
        assert loaded, "no restart loaded a snapshot"
        problems = [l for l in log.splitlines()
                    if ("[WARN]" in l or "[ERROR]" in l) and "Too busy to snap" not in l
                    and "torn record" not in l]
        assert problems == [], "\n".join(problems)
    except BaseException:
        print(srv.log_tail(60))
        raise
    finally:
        srv.cleanup()


def load_until_fuzzy(srv, c, eph):
    """Writes of every kind, pipelined, with SIGUSR1 now and then, until a
    snapshot exists whose digest is for a later zxid than its name."""
    n = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        srv.proc.send_signal(signal.SIGUSR1)
        for _ in range(10):
            xids = []
            for _ in range(20):
                n += 1
                xids.append(c.send_request(Op.CREATE2, enc_create("/fz/c%06d" % n, b"c%d" % n)))
                xids.append(c.send_request(Op.SET_DATA, enc_set_data(
                    "/pad/p%05d" % (n * 7 % 2000), b"s%d" % n)))
                if n % 3 == 0 and n // 3 < 1000:
                    xids.append(c.send_request(Op.DELETE, enc_path_version(
                        "/pad/p%05d" % (2000 + n // 3))))
                if n % 3 == 0:
                    xids.append(c.send_request(Op.DELETE, enc_path_version(
                        "/fz/c%06d" % (n - 1))))
                if n % 5 == 0:
                    xids.append(c.send_request(Op.CREATE2, enc_create(
                        "/fz/seq-", b"q", flags=Flags.PERSISTENT_SEQUENTIAL)))
            for x in xids:
                assert c.read_reply(x).err == 0
            if n % 40 == 0:
                assert eph.create("/fz/e%06d" % n, b"e", flags=Flags.EPHEMERAL)[0] == 0
        snaps = snapshots(srv.datadir)
        if any(dz > z for z, dz in snaps.items() if z == max(snaps)):
            return max(snaps)
    raise AssertionError("no fuzzy snapshot: %r" % snapshots(srv.datadir))


@pytest.mark.skipif(shutil.which("java") is None or not os.path.exists(ZK_JAR),
                    reason="needs java and Apache ZooKeeper 3.8 (Debian zookeeper)")
def test_paddock_and_apache_load_a_fuzzy_snapshot(monkeypatch, tmp_path):
    monkeypatch.setenv(SLICE_ENV, "1")
    # snapCount high: snapshots only on SIGUSR1, so the newest one is the fuzzy one
    srv = ServerProcess(name="fuzzy-w", extra_cfg={"snapCount": "1000000"})
    srv.start()
    readers = []
    try:
        c = RawClient(srv.port, timeout=15.0)
        assert c.connect(timeout_ms=SESSION_MS).timeout > 0
        eph = RawClient(srv.port, timeout=15.0)
        assert eph.connect(timeout_ms=SESSION_MS).timeout > 0
        sess = (eph.session_id, eph.passwd)
        pad(c, "/pad", 3000)
        assert c.create("/fz", b"fz")[0] == 0
        assert eph.create("/fz/eph", b"e", flags=Flags.EPHEMERAL)[0] == 0
        z = load_until_fuzzy(srv, c, eph)
        # a few more txns, in the log only
        assert c.create("/fz/after", b"log only")[0] == 0
        assert c.set_data("/fz/after", b"log only 2")[0] == 0
        assert eph.create("/fz/eph-after", b"e", flags=Flags.EPHEMERAL)[0] == 0
        want = walk(c)
        want_eph = sorted(eph.get_ephemerals("/")[1])
        c.close()
        eph.close()
        kill9(srv)
        for kind in ("paddock", "zookeeper"):
            d = str(tmp_path / kind)
            shutil.copytree(srv.datadir, d)
            r = ServerProcess(kind, datadir=d, name="fuzzy-r-" + kind)
            readers.append(r)
            r.start(timeout=60)
            e = RawClient(r.port, timeout=15.0)  # first: its timeout runs from here
            resp = e.connect(session_id=sess[0], passwd=sess[1], timeout_ms=SESSION_MS)
            assert resp.timeout > 0 and resp.session_id == sess[0]
            rc = RawClient(r.port, timeout=15.0)
            assert rc.connect(timeout_ms=SESSION_MS).timeout > 0
            diffs = diff_trees(want, walk(rc))
            assert diffs == [], "%s serves a different tree:\n  %s" % (kind, "\n  ".join(diffs))
            assert sorted(e.get_ephemerals("/")[1]) == want_eph
            # new writes go on from there
            err, res = rc.create("/fz/seq-", b"new", flags=Flags.PERSISTENT_SEQUENTIAL)
            assert err == 0
            rc.close()
            e.close()
            if kind == "zookeeper":
                text, bad = apache_log_problems(r)
                assert bad == [], "Apache complained:\n" + "\n".join(bad)
                assert re.search(r"Reading snapshot \S*/snapshot\.%x\b" % z, text), (
                    "Apache did not load the fuzzy snapshot.%x" % z)
            else:
                text, bad = paddock_log_problems(r)
                assert bad == [], "Paddock complained:\n" + "\n".join(bad)
                assert re.search(r"loaded \S*/snapshot\.%x:" % z, text), text
            r.stop()
    except BaseException:
        for s in [srv] + readers:
            print(s.log_tail(60))
        raise
    finally:
        for s in [srv] + readers:
            s.cleanup()
