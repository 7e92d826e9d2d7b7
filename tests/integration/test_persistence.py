"""Durability across restarts of the same server on the same dataDir.

ZooKeeper 3.8.0 behaviour pinned here:
  * after a clean stop (SIGTERM) or a crash (SIGKILL) every acknowledged
    write is there, with identical stats (zxids, times, versions, cversion,
    ephemeralOwner) and ACLs; sequence counters continue; new zxids are
    larger than every old one;
  * sessions survive a restart: a client can reattach with its session id
    and password and keeps its ephemerals; a session that does not come
    back expires (its timeout counts from the restart) and its ephemerals
    go;
  * authentication (add_auth) and watches belong to the connection and are
    not restored: a reattached client must send them again.
"""

import glob
import os
import signal
import struct
import zlib

import pytest

from zkserver import digest
from zkutil import wait_until
from zkwire import (Err, Flags, Op, RawClient, enc_create, enc_set_data,
                    raw_session)


def walk(c, root):
    """{path: (data, stat, acl)} for root and everything below it."""
    out = {}
    todo = [root]
    while todo:
        p = todo.pop()
        err, (data, st) = c.get_data(p)
        assert err == 0, (p, err)
        err, (acl, _) = c.get_acl(p)
        assert err == 0, (p, err)
        err, (kids, _) = c.get_children(p)
        out[p] = (data, st, sorted(acl))
        todo += [(p.rstrip("/") + "/" + k) for k in kids]
    return out


def kill_and_restart(server, sig):
    p = server.proc
    p.send_signal(sig)
    p.wait(15)
    server.proc = None
    server.start()


@pytest.fixture
def super_client(server):
    def make():
        c = raw_session(server.port, timeout_ms=10000)
        c.add_auth("digest", "super:superpw")
        return c
    return make


def build_tree(c, root):
    assert c.create(root, b"root")[0] == 0
    c.create(root + "/a", b"a" * 100)
    c.set_data(root + "/a", b"changed")
    c.set_data(root + "/a", b"changed again")
    for _ in range(3):
        c.create(root + "/seq-", flags=Flags.PERSISTENT_SEQUENTIAL)
    c.delete(root + "/seq-0000000003")
    c.create(root + "/acl", b"x", acl=[(31, "digest", digest("u", "p")),
                                        (1, "world", "anyone")])
    c.set_acl(root + "/acl", [(31, "digest", digest("u", "p")),
                              (3, "world", "anyone")], 0)
    c.create(root + "/cont", flags=Flags.CONTAINER, op=Op.CREATE_CONTAINER)
    c.create(root + "/ttl", b"t", flags=Flags.PERSISTENT_WITH_TTL,
             ttl=3600 * 1000)
    c.multi([(Op.CREATE, enc_create(root + "/m1")),
             (Op.CREATE, enc_create(root + "/m1/m2", b"deep")),
             (Op.SET_DATA, enc_set_data(root, b"root2"))])
    c.multi([(Op.CREATE, enc_create(root + "/never")),      # fails
             (Op.CREATE, enc_create(root + "/a"))])
    c.create(root + "/empty", b"")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL],
                         ids=["clean-stop", "crash"])
def test_tree_survives_restart(server, super_client, sig):
    root = "/persist-%d" % sig
    c = super_client()
    build_tree(c, root)
    before = walk(c, root)
    last = max(st.mzxid for _, st, _ in before.values())
    c.close()
    kill_and_restart(server, sig)
    d = super_client()
    after = walk(d, root)
    assert after == before
    # the sequence counter and the zxid continue
    err, (name, st) = d.create(root + "/seq-",
                               flags=Flags.PERSISTENT_SEQUENTIAL)
    # children created under root so far: a, seq-1..3, acl, cont, ttl, m1,
    # empty (the failed multi's create did not count)
    assert name == root + "/seq-0000000009"
    assert st.czxid > last
    d.close_session()
    if server.kind == "paddock":
        # replaying our own log reproduces every logged tree digest
        with open(server.stdout_path, errors="replace") as f:
            assert "differs from the logged one" not in f.read()


def last_log_record(datadir):
    """(path, offset, length) of the last record of the newest txn log."""
    logs = glob.glob(os.path.join(datadir, "version-2", "log.*"))
    path = max(logs, key=lambda p: int(p.rsplit(".", 1)[1], 16))
    with open(path, "rb") as f:
        buf = f.read()
    pos, last = 16, None                      # after the FileHeader
    while pos + 12 <= len(buf):
        crc, n = struct.unpack_from(">qi", buf, pos)
        if n <= 0 or pos + 12 + n + 1 > len(buf):
            break                             # preallocated zeros: the end
        last = (path, pos, n)
        pos += 12 + n + 1                     # checksum, length, payload, 'B'
    return last


def test_replay_reports_a_logged_digest_that_differs(fresh_server):
    """ZooKeeper (DataTree.compareDigest) reports a txn whose logged digest
    differs from the replayed tree's and loads on; so do we."""
    if fresh_server.kind != "paddock":
        pytest.skip("checks Paddock's own log line")
    c = raw_session(fresh_server.port)
    c.create("/dg", b"x")
    c.set_data("/dg", b"y")
    c.close()
    fresh_server.proc.send_signal(signal.SIGKILL)
    fresh_server.proc.wait(15)
    fresh_server.proc = None
    path, pos, n = last_log_record(fresh_server.datadir)
    with open(path, "r+b") as f:
        f.seek(pos + 12)
        payload = bytearray(f.read(n))
        # the payload ends with TxnDigest{int version, long treeDigest}
        old = struct.unpack_from(">q", payload, n - 8)[0]
        struct.pack_into(">q", payload, n - 8, old ^ 1)
        f.seek(pos)
        f.write(struct.pack(">qi", zlib.adler32(bytes(payload)), n))
        f.write(payload)
    fresh_server.start()
    with open(fresh_server.stdout_path, errors="replace") as f:
        assert "differs from the logged one" in f.read()
    d = raw_session(fresh_server.port)
    assert d.get_data("/dg")[1][0] == b"y"
    d.close_session()


def test_many_acknowledged_writes_survive_a_crash(server):
    c = raw_session(server.port)
    root = "/crash"
    c.create(root)
    n = 300
    # pipelined: send everything, then collect the acknowledgements
    xids = [c.send_request(Op.CREATE2, enc_create("%s/n%03d" % (root, i),
                                                  b"v%d" % i))
            for i in range(n)]
    acked = []
    for i, x in enumerate(xids):
        rep = c.read_reply(x)
        assert rep.err == 0
        acked.append((rep.body.string(), rep.body.stat()))
    c.close()
    kill_and_restart(server, signal.SIGKILL)
    d = raw_session(server.port)
    for i, (path, st) in enumerate(acked):
        err, (data, st2) = d.get_data(path)
        assert err == 0 and data == b"v%d" % i and st2 == st
    assert d.get_all_children_number(root) == (0, n)
    d.close_session()


def test_sessions_survive_restart(server):
    keep = raw_session(server.port, timeout_ms=10000)
    gone = raw_session(server.port, timeout_ms=1000)
    keep.add_auth("digest", "u:p")
    keep.create("/s-keep", flags=Flags.EPHEMERAL)
    gone.create("/s-gone", flags=Flags.EPHEMERAL)
    keep.create("/s-auth", acl=[(31, "digest", digest("u", "p"))])
    keep.get_data("/s-auth", watch=True)
    sid, pw = keep.session_id, keep.passwd
    keep.close()
    gone.close()
    kill_and_restart(server, signal.SIGTERM)
    c = RawClient(server.port)
    resp = c.connect(session_id=sid, passwd=pw, timeout_ms=10000)
    assert resp.session_id == sid and resp.timeout == 10000
    assert c.exists("/s-keep")[1].ephemeralOwner == sid
    # auth is not restored with the session...
    assert c.whoami() == (0, [("ip", "127.0.0.1")])
    assert c.get_data("/s-auth")[0] == Err.NOAUTH
    c.add_auth("digest", "u:p")
    assert c.get_data("/s-auth")[0] == 0
    # ...and neither are watches
    other = raw_session(server.port)
    other.add_auth("digest", "u:p")
    other.set_data("/s-auth", b"changed")
    assert c.drain(0.3) == []
    # the session that did not come back expires, counted from the restart
    wait_until(lambda: c.exists("/s-gone")[0] == Err.NONODE, 15,
               what="the abandoned session's ephemeral to go")
    assert c.exists("/s-keep")[0] == 0
    c.close_session()
    other.close_session()
