"""Sessions: handshake, timeout negotiation, pings, closeSession, expiry,
reattaching with session id + password, wrong password, sync.

The server runs with tickTime=500, so the negotiated session timeout is
clamped to [1000, 10000] ms.

ZooKeeper 3.8.0 facts pinned here:
  * ConnectResponse is 37 bytes when the client sent the readOnly byte and
    36 bytes (no readOnly) when it did not;
  * an expired, closed, unknown or wrong-password session gets a
    ConnectResponse with timeOut 0, sessionId 0 and 16 zero bytes of
    password, and then the connection is closed;
  * reattaching to a live session from a new connection closes the old
    connection and keeps ephemerals; the timeout is renegotiated;
  * a reattach attempt with a WRONG password still closes the session's
    current connection (the session itself survives);
  * a client whose lastZxidSeen is ahead of the server is refused: the
    server closes the connection without any reply;
  * a ping is answered with xid -2, the last zxid, err 0 and no body;
  * after the reply to closeSession the server closes the connection;
  * sync answers with the path as sent, even for a missing or invalid path.
"""

import threading
import time

import pytest
from kazoo.client import KazooState

from zkserver import BlackholeProxy, MAX_SESSION_TIMEOUT, MIN_SESSION_TIMEOUT
from zkutil import Recorder, wait_until
from zkwire import (ConnectionClosed, Err, Flags, Op, PING_XID, RawClient,
                    Reader, enc_create, enc_path_version, enc_path_watch,
                    enc_set_data, raw_session)


def test_timeout_negotiation(raw_factory):
    for asked, got in [(100, MIN_SESSION_TIMEOUT), (0, MIN_SESSION_TIMEOUT),
                       (-5, MIN_SESSION_TIMEOUT), (3000, 3000),
                       (10 ** 6, MAX_SESSION_TIMEOUT)]:
        c = raw_factory(handshake=False)
        resp = c.connect(timeout_ms=asked)
        assert resp.timeout == got, asked
        c.close_session()


def test_connect_response_shape(raw_factory):
    a = raw_factory(handshake=False)
    ra = a.connect()
    assert ra.length == 37 and ra.read_only is False
    assert ra.protocol_version == 0 and len(ra.passwd) == 16
    b = raw_factory(handshake=False)
    rb = b.connect(with_read_only=False)
    assert rb.length == 36 and rb.read_only is None
    assert ra.session_id != rb.session_id and ra.session_id != 0
    # the password given for a new session is ignored (any length)
    c = raw_factory(handshake=False)
    assert c.connect(passwd=b"short").timeout > 0


def test_ping(raw_factory):
    c = raw_factory()
    err, (_, st) = c.create("/ping-" + str(c.session_id))
    rep = c.call(Op.PING, b"", xid=PING_XID)
    assert (rep.xid, rep.err, rep.body.remaining()) == (PING_XID, 0, 0)
    assert rep.zxid >= st.czxid
    c.delete("/ping-" + str(c.session_id))


def test_requests_and_pings_keep_the_session_alive(raw_factory, zk):
    c = raw_factory(timeout_ms=1500)
    p = "/alive-%d" % c.session_id
    c.create(p, flags=Flags.EPHEMERAL)
    deadline = time.monotonic() + 3.0       # twice the session timeout
    i = 0
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if i % 2:
            assert c.ping() == (0, None)
        else:
            assert c.exists("/")[0] == 0
        i += 1
    assert zk.exists(p).ephemeralOwner == c.session_id
    c.close_session()
    assert zk.exists(p) is None


def test_close_session(raw_factory, zk, server):
    c = raw_factory()
    p = "/closing-%d" % c.session_id
    c.create(p, flags=Flags.EPHEMERAL)
    rec = Recorder()
    zk.exists(p, watch=rec)
    assert c.close_session() == (0, None)
    assert c.wait_closed(5)           # the server hangs up after the reply
    assert [e.type for e in rec.wait(1)] == ["DELETED"]
    assert zk.exists(p) is None
    d = RawClient(server.port)
    resp = d.connect(session_id=c.session_id, passwd=c.passwd)
    assert (resp.timeout, resp.session_id, resp.passwd) == (0, 0, b"\0" * 16)
    assert d.wait_closed(5)
    d.close()


def test_wrong_password_and_unknown_session(raw_factory, server, zk):
    c = raw_factory(timeout_ms=10000)
    sid, pw = c.session_id, c.passwd
    p = "/wrongpw-%d" % sid
    c.create(p, flags=Flags.EPHEMERAL)
    for i, (s, w) in enumerate([(sid, b"x" * 16), (sid, pw[:15] + b"?"),
                                (sid ^ 0x5a5a, pw)]):
        d = RawClient(server.port)
        resp = d.connect(session_id=s, passwd=w)
        assert (resp.timeout, resp.session_id, resp.passwd) == \
            (0, 0, b"\0" * 16)
        assert resp.length == 37
        assert d.wait_closed(5)
        d.close()
        if i == 0:
            # ZK: a reattach attempt closes the session's current connection
            # BEFORE the password is checked, so the rightful owner is
            # disconnected even though the attempt fails...
            assert c.wait_closed(5)
    # ...but the session itself is unharmed: it can be resumed with the
    # right password and its ephemerals are still there
    assert zk.exists(p).ephemeralOwner == sid
    e = RawClient(server.port)
    assert e.connect(session_id=sid, passwd=pw).session_id == sid
    assert e.exists(p)[1].ephemeralOwner == sid
    e.close_session()
    e.close()


def test_reattach_same_session(raw_factory, server, zk):
    c = raw_factory(timeout_ms=10000)
    p = "/reattach-%d" % c.session_id
    c.create(p, flags=Flags.EPHEMERAL)
    d = RawClient(server.port)
    resp = d.connect(session_id=c.session_id, passwd=c.passwd,
                     timeout_ms=4000)
    assert resp.session_id == c.session_id and resp.passwd == c.passwd
    assert resp.timeout == 4000              # renegotiated
    assert c.wait_closed(5)                  # old connection dropped
    assert d.exists(p)[1].ephemeralOwner == c.session_id
    assert zk.exists(p).ephemeralOwner == c.session_id
    # requests on the new connection belong to the same session
    d.create(p + "-2", flags=Flags.EPHEMERAL)
    assert zk.exists(p + "-2").ephemeralOwner == c.session_id
    d.close_session()
    d.close()
    assert zk.exists(p) is None and zk.exists(p + "-2") is None


def test_last_zxid_ahead_of_server_is_refused(raw_factory):
    c = raw_factory(handshake=False)
    with pytest.raises(ConnectionClosed):
        c.connect(last_zxid=1 << 40)


def test_session_expiry_deletes_ephemerals_and_notifies(server, zk):
    c = raw_session(server.port, timeout_ms=MIN_SESSION_TIMEOUT)
    sid, pw = c.session_id, c.passwd
    par = "/expiry-%d" % sid
    c.create(par)
    c.create(par + "/e", flags=Flags.EPHEMERAL)
    drec, crec = Recorder(), Recorder()
    zk.get(par + "/e", watch=drec)
    zk.get_children(par, watch=crec)
    c.close()                 # no closeSession: the session must time out
    t0 = time.monotonic()
    time.sleep(0.3)
    assert zk.exists(par + "/e") is not None, "expired too early"
    assert [e.type for e in drec.wait(1, timeout=10)] == ["DELETED"]
    assert [e.type for e in crec.wait(1, timeout=10)] == ["CHILD"]
    elapsed = time.monotonic() - t0
    assert elapsed >= MIN_SESSION_TIMEOUT / 1000.0 * 0.9
    assert zk.exists(par + "/e") is None
    assert zk.exists(par) is not None        # persistent parent stays
    d = RawClient(server.port)
    resp = d.connect(session_id=sid, passwd=pw)
    assert resp.timeout == 0 and resp.session_id == 0
    d.close()


def test_after_close_session_requests_get_nothing(raw_factory):
    c = raw_factory()
    c.close_session()
    with pytest.raises(ConnectionClosed):
        c.exists("/")


def test_sync(zk, raw_factory, base):
    assert zk.sync(base) == base
    c = raw_factory()
    for p in (base, "/", base + "/missing", "not-a-path"):
        assert c.sync(p) == (0, p)


# --------------------------------------------------------------------------
# kazoo sessions through a proxy that can drop or black-hole traffic


@pytest.fixture
def proxy(server):
    px = BlackholeProxy(server.port)
    yield px
    px.close()


class StateLog:
    def __init__(self, client):
        self.states = []
        self.lock = threading.Lock()
        client.add_listener(self)

    def __call__(self, state):
        with self.lock:
            self.states.append(state)

    def seen(self, state):
        with self.lock:
            return state in self.states


def test_kazoo_reconnect_keeps_session_and_ephemerals(proxy, kazoo_factory,
                                                      zk, base):
    # (kazoo 2.8 does not resend its watches with setWatches after a
    # reconnect -- it fires them with EventType NONE instead -- so the
    # server side of watch restoration is tested with the raw client in
    # test_watches.py)
    k = kazoo_factory(hosts=proxy.hosts, timeout=6.0)
    states = StateLog(k)
    sid = k.client_id[0]
    k.create(base + "/eph", ephemeral=True)
    proxy.drop_connections()
    wait_until(lambda: states.seen(KazooState.SUSPENDED), 10,
               what="kazoo to notice the dropped connection")
    wait_until(lambda: k.connected and k.client_id[0] == sid, 15,
               what="kazoo to reattach to its session")
    assert not states.seen(KazooState.LOST)
    assert zk.exists(base + "/eph").ephemeralOwner == sid
    k.create(base + "/eph2", ephemeral=True)
    assert zk.exists(base + "/eph2").ephemeralOwner == sid


def test_kazoo_session_expires_during_partition(proxy, kazoo_factory, zk,
                                                base):
    k = kazoo_factory(hosts=proxy.hosts, timeout=1.5)
    states = StateLog(k)
    sid = k.client_id[0]
    k.create(base + "/eph", ephemeral=True)
    rec = Recorder()
    zk.exists(base + "/eph", watch=rec)
    proxy.partition()
    # the server expires the silent session and deletes its ephemeral
    assert [e.type for e in rec.wait(1, timeout=15)] == ["DELETED"]
    wait_until(lambda: states.seen(KazooState.SUSPENDED), 10,
               what="kazoo to notice the partition")
    proxy.heal()
    proxy.drop_connections()
    # on reconnect the server answers timeOut=0: kazoo reports LOST, then
    # starts a new session
    wait_until(lambda: states.seen(KazooState.LOST), 15,
               what="kazoo to learn its session expired")
    wait_until(lambda: k.connected and k.client_id[0] != sid, 15,
               what="kazoo to get a new session")
    assert zk.exists(base + "/eph") is None


def test_two_connections_race_for_one_session(server, zk):
    c = raw_session(server.port, timeout_ms=10000)
    sid, pw = c.session_id, c.passwd
    clients = [c]
    for _ in range(3):
        d = RawClient(server.port)
        clients.append(d)
        assert d.connect(session_id=sid, passwd=pw).session_id == sid
    # only the newest connection stays
    for old in clients[:-1]:
        assert old.wait_closed(5)
    last = clients[-1]
    assert last.exists("/")[0] == 0
    last.close_session()
    for x in clients:
        x.close()


def test_pipelined_requests_are_answered_in_order(raw_factory, base):
    """Requests sent back to back without waiting are answered in order,
    and each read sees every earlier write of the same session."""
    c = raw_factory()
    p = base + "/pipe"
    plan = [
        (Op.CREATE2, enc_create(p, b"0")),
        (Op.GET_DATA, enc_path_watch(p)),
        (Op.SET_DATA, enc_set_data(p, b"1")),
        (Op.GET_DATA, enc_path_watch(p)),
        (Op.CREATE2, enc_create(p + "/c")),
        (Op.GET_CHILDREN2, enc_path_watch(p)),
        (Op.DELETE, enc_path_version(p + "/c")),
        (Op.EXISTS, enc_path_watch(p + "/c")),
        (Op.SET_DATA, enc_set_data(p, b"2", 0)),     # BadVersion
        (Op.GET_DATA, enc_path_watch(p)),
    ] + [(Op.EXISTS, enc_path_watch(p))] * 40
    xids = [c.send_request(op, body) for op, body in plan]
    reps = [c.read_reply(x) for x in xids]      # asserts xid order
    assert [r.xid for r in reps] == xids
    assert reps[1].body.buffer() == b"0"
    assert reps[3].body.buffer() == b"1"
    assert reps[5].body.vector(Reader.string) == ["c"]
    assert reps[7].err == Err.NONODE
    assert reps[8].err == Err.BADVERSION
    assert reps[9].body.buffer() == b"1"
    zx = [r.zxid for r in reps]
    assert zx == sorted(zx)                       # never goes backwards
