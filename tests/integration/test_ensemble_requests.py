"""What a Paddock leader does with the REQUESTs learners forward (issue #5),
checked from a learner played by this test: a Python observer that speaks the
quorum protocol (OBSERVERINFO, LEADERINFO, ACKEPOCH, the sync, NEWLEADER,
UPTODATE, PINGs) and then forwards hand-made REQUEST packets, reading the
txns the leader makes of them from INFORM packets.

As Apache ZooKeeper's PrepRequestProcessor: a request of a session the leader
does not know (it expired while the request was on its way) becomes an error
txn with SESSIONEXPIRED and never an ephemeral owned by a dead session; a body
that cannot be decoded becomes an error txn with MARSHALLINGERROR (the learner
answers its client from it); a closeSession of an unknown session is still a
closeSession txn.  Needs PADDOCK_BIN.
"""

import os
import socket
import struct
import time

import pytest
from kazoo.client import KazooClient

from zkensemble import Ensemble
from zkserver import free_port
from zkwire import enc_create, enc_set_data, Flags

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

REQUEST, ACK, PING, INFORM = 1, 3, 5, 8
NEWLEADER, UPTODATE, DIFF, TRUNC, SNAP = 10, 12, 13, 14, 15
OBSERVERINFO, LEADERINFO, ACKEPOCH = 16, 17, 18
OP_ERROR, OP_CREATE, OP_CLOSESESSION = -1, 1, -11
ZSESSIONEXPIRED, ZMARSHALLINGERROR = -112, -5
FAKE_SID = 9
SNAP_END = struct.pack(">i", 10) + b"BenWasHere"


def packet(typ, zxid, data=None, auth=None):
    out = struct.pack(">iq", typ, zxid)
    out += struct.pack(">i", -1) if data is None else \
        struct.pack(">i", len(data)) + data
    if auth is None:
        out += struct.pack(">i", -1)
    else:
        out += struct.pack(">i", len(auth))
        for scheme, ident in auth:
            for s in (scheme, ident):
                b = s.encode()
                out += struct.pack(">i", len(b)) + b
    return out


class FakeObserver:
    """A learner on the leader's quorum port, driven by the test."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        self.informs = []

    def close(self):
        self.sock.close()

    def _fill(self, need, deadline):
        while len(self.buf) < need:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the leader closed the connection")
            self.buf += chunk

    def recv(self, timeout=5.0):
        deadline = time.time() + timeout
        self._fill(16, deadline)
        typ, zxid, dlen = struct.unpack(">iqi", self.buf[:16])
        at = 16 + max(dlen, 0)
        self._fill(at + 4, deadline)
        (count,) = struct.unpack(">i", self.buf[at:at + 4])
        at += 4
        for _ in range(max(count, 0) * 2):
            self._fill(at + 4, deadline)
            (n,) = struct.unpack(">i", self.buf[at:at + 4])
            at += 4 + max(n, 0)
            self._fill(at, deadline)
        data = self.buf[16:16 + max(dlen, 0)]
        self.buf = self.buf[at:]
        return typ, zxid, data

    def skip_snapshot(self, timeout=5.0):
        """The database a SNAP carries is not a QuorumPacket: skip to its end."""
        deadline = time.time() + timeout
        while SNAP_END not in self.buf:
            self._fill(len(self.buf) + 1, deadline)
        self.buf = self.buf[self.buf.index(SNAP_END) + len(SNAP_END):]

    def send(self, *args, **kw):
        self.sock.sendall(packet(*args, **kw))

    def handshake(self):
        info = struct.pack(">qiq", FAKE_SID, 0x10000, 0)
        self.send(OBSERVERINFO, 0, info)
        typ, zxid, _ = self.recv()
        assert typ == LEADERINFO, typ
        self.send(ACKEPOCH, 0, struct.pack(">i", 0))
        while True:
            typ, zxid, _ = self.recv()
            if typ == SNAP:
                self.skip_snapshot()
            elif typ == NEWLEADER:
                self.send(ACK, zxid)
            elif typ == UPTODATE:
                self.send(ACK, zxid & ~0xFFFFFFFF)
                return
            elif typ == PING:
                self.send(PING, zxid, b"")

    def request(self, session_id, cxid, op, body, auth=()):
        data = struct.pack(">qii", session_id, cxid, op) + body
        self.send(REQUEST, -1, data, auth=list(auth))

    def txn_of(self, session_id, cxid, timeout=5.0):
        """The (type, body) of the txn INFORMed for (session_id, cxid)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for typ, body in self.informs:
                cid, cx = struct.unpack(">qi", body[:12])
                if (cid, cx) == (session_id, cxid):
                    return struct.unpack(">i", body[28:32])[0], body[32:]
            typ, zxid, data = self.recv(max(0.05, deadline - time.time()))
            if typ == PING:
                self.send(PING, zxid, b"")
            elif typ == INFORM:
                self.informs.append((typ, data))
        raise AssertionError("no INFORM for session 0x%x cxid %d" %
                             (session_id, cxid))


@pytest.fixture
def ens():
    # server.9 is an observer no Paddock process plays: the test does.
    line = "server.%d=127.0.0.1:%d:%d:observer\n" % (
        FAKE_SID, free_port(), free_port())
    e = Ensemble(["paddock"] * 3, extra_cfg=line)
    e.start()
    try:
        yield e
    finally:
        e.cleanup()


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=4.0)
    zk.start(timeout=10)
    return zk


def test_leader_turns_forwarded_requests_into_txns_as_prep_does(ens):
    leader = ens.wait_serving(timeout=30)
    zk = client(leader.hosts)
    zk.create("/t", b"")
    obs = FakeObserver(leader.quorum_port)
    try:
        obs.handshake()

        # An unknown (expired) session: SESSIONEXPIRED, no ephemeral.
        dead = 0x7777000000000001
        obs.request(dead, 1, OP_CREATE,
                    enc_create("/t/eph", b"x", flags=Flags.EPHEMERAL))
        typ, body = obs.txn_of(dead, 1)
        assert typ == OP_ERROR
        assert struct.unpack(">i", body[:4])[0] == ZSESSIONEXPIRED

        # A live session (the kazoo one) whose body is cut short.
        live = zk.client_id[0]
        obs.request(live, 1000, 5, enc_set_data("/t", b"new")[:5])
        typ, body = obs.txn_of(live, 1000)
        assert typ == OP_ERROR
        assert struct.unpack(">i", body[:4])[0] == ZMARSHALLINGERROR

        # closeSession of a session the leader does not know: still a txn.
        obs.request(dead + 1, 2, OP_CLOSESESSION, b"")
        typ, _ = obs.txn_of(dead + 1, 2)
        assert typ == OP_CLOSESESSION

        # The live session's well-formed request goes through.
        obs.request(live, 1001, OP_CREATE,
                    enc_create("/t/ok", b"y", flags=Flags.EPHEMERAL))
        typ, _ = obs.txn_of(live, 1001)
        assert typ == OP_CREATE
    finally:
        obs.close()

    assert zk.exists("/t/eph") is None
    assert zk.get("/t")[0] == b""
    data, st = zk.get("/t/ok")
    assert data == b"y" and st.ephemeralOwner == zk.client_id[0]
    zk.stop()
    zk.close()
    # Every server agrees, and the ephemeral went with its session.
    for m in ens.members:
        other = client(m.hosts)
        try:
            other.sync("/t")
            assert sorted(other.get_children("/t")) == []
        finally:
            other.stop()
            other.close()
