"""Sessions across a 3-server Paddock ensemble (issue #5): a client moving
between servers keeps its session, watches and ephemerals; expiry is the
leader's decision; activity on a follower keeps a session alive.

  - A kazoo client on a follower creates an ephemeral and sets data, child
    and exists watches; that follower is killed (kill -9).  The client
    reconnects to the other follower with the same session id (kazoo
    re-registers its watches with SetWatches); the ephemeral is still there;
    changes made by another client fire each watch exactly once; closing the
    session deletes the ephemeral on every server (the killed one too, once
    restarted).
  - A client on a follower that vanishes (socket closed, no closeSession),
    and one that stays connected but sends nothing: the leader expires each
    session after its timeout and the ephemeral goes away on all servers.
  - A client that only reads on a follower, never pinging, for several
    session timeouts keeps its session (the follower reports the activity to
    the leader in its PING replies, as Learner.ping's touch table).

Every wait is bounded; only processes started here are stopped, by PID.
Needs PADDOCK_BIN.
"""

import os
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState

from zkensemble import (Ensemble, close_client as close, sanitizer_reports,
                        wait_until)
from zkwire import (ConnectionClosed, Err, Ev, Op, RawClient,
                    SET_WATCHES_XID, State, WatchEvent, enc_path_watch,
                    j_long, j_string, j_vector, raw_session)

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")


def client(hosts, timeout=15.0, session=6.0, randomize=True):
    zk = KazooClient(hosts=hosts, timeout=session, randomize_hosts=randomize,
                     connection_retry={"max_tries": -1, "delay": 0.05,
                                       "max_delay": 0.2},
                     command_retry={"max_tries": 20, "delay": 0.05,
                                    "max_delay": 0.2})
    zk.start(timeout=timeout)
    return zk


def exists_on(member, path):
    zk = client(member.hosts)
    try:
        zk.sync(path)
        return zk.exists(path) is not None
    finally:
        close(zk)


@pytest.fixture
def ens():
    e = Ensemble(["paddock"] * 3)
    e.start()
    try:
        yield e
        e.stop()
        reports = sanitizer_reports(e)
        assert not reports, reports
    finally:
        e.cleanup()


def raw_call_zxid(c, op, body):
    rep = c.call(op, body)
    assert rep.err == 0, rep
    return rep.zxid


def test_session_moves_with_ephemeral_and_watches(ens):
    leader = ens.wait_serving(timeout=30)
    f1, f2 = [m for m in ens.members if m is not leader]
    # kazoo: session and ephemeral.  kazoo 2.8 drops its watches on a
    # connection loss (fires them with EventType NONE) and never sends
    # SetWatches, so the watches are a raw client's, re-registered on the
    # new server with SetWatches as the Java and C clients do.
    zk = client(f1.hosts + "," + f2.hosts, randomize=False)
    assert zk._connection._socket.getpeername()[1] == f1.client_port
    sid = zk.client_id[0]
    zk.create("/w", b"0")
    zk.create("/w/eph", b"e", ephemeral=True)
    states = []
    zk.add_listener(lambda st: states.append(st))
    raw = raw_session(f1.client_port, timeout_ms=10000)
    last = max(
        raw_call_zxid(raw, Op.GET_DATA, enc_path_watch("/w", True)),
        raw_call_zxid(raw, Op.GET_CHILDREN2, enc_path_watch("/w", True)))
    rep = raw.call(Op.EXISTS, enc_path_watch("/w/new", True))
    assert rep.err == Err.NONODE
    last = max(last, rep.zxid)

    f1.kill9()
    # kazoo moves to f2 by itself, with the same session.
    assert wait_until(lambda: zk.state == KazooState.CONNECTED and
                      zk._connection._socket is not None and
                      zk._connection._socket.getpeername()[1] ==
                      f2.client_port, 20.0), states
    assert zk.client_id[0] == sid
    assert KazooState.LOST not in states, states
    assert zk.exists("/w/eph") is not None
    assert exists_on(leader, "/w/eph")

    other = client(leader.hosts)
    other.set("/w", b"1")             # while the raw client is away
    raw.close()
    raw2 = RawClient(f2.client_port)
    resp = raw2.connect(session_id=raw.session_id, passwd=raw.passwd,
                        timeout_ms=10000, last_zxid=last)
    assert resp.session_id == raw.session_id
    rep = raw2.call(Op.SET_WATCHES,
                    j_long(last) + j_vector(["/w"], j_string) +
                    j_vector(["/w/new"], j_string) +
                    j_vector(["/w"], j_string), xid=SET_WATCHES_XID)
    assert (rep.xid, rep.err) == (SET_WATCHES_XID, 0)
    other.create("/w/new", b"n")
    other.set("/w", b"2")             # one-shot: no second event
    other.create("/w/new2", b"n")
    got = raw2.expect(3, timeout=10.0, settle=1.0)
    assert sorted(got) == sorted([
        WatchEvent(Ev.NODE_DATA_CHANGED, State.SYNC_CONNECTED, "/w"),
        WatchEvent(Ev.NODE_CHILDREN_CHANGED, State.SYNC_CONNECTED, "/w"),
        WatchEvent(Ev.NODE_CREATED, State.SYNC_CONNECTED, "/w/new")]), got
    close(other)
    assert raw2.close_session()[0] == 0
    raw2.close()

    # Closing the session deletes the ephemeral on every server.
    close(zk)
    f1.start()
    ens.wait_serving(timeout=30)
    for m in ens.members:
        assert wait_until(lambda: not exists_on(m, "/w/eph"), 10.0), m.sid
        assert exists_on(m, "/w/new2")


def test_vanished_clients_expire_by_the_leader(ens):
    leader = ens.wait_serving(timeout=30)
    f1, f2 = [m for m in ens.members if m is not leader]
    zk = client(leader.hosts)
    zk.ensure_path("/x")
    close(zk)
    timeout_ms = 2000
    # One client closes its socket without closeSession; another stays
    # connected and silent (a frozen client).  Both on a follower.
    gone = raw_session(f1.client_port, timeout_ms=timeout_ms)
    silent = raw_session(f2.client_port, timeout_ms=timeout_ms)
    assert gone.negotiated_timeout == timeout_ms
    for c, name in ((gone, "/x/gone"), (silent, "/x/silent")):
        err, _ = c.create(name, b"", flags=1)     # EPHEMERAL
        assert err == 0, err
    t0 = time.time()
    gone.close()
    # Still there shortly after: expiry waits for the timeout.
    time.sleep(0.5)
    for m in ens.members:
        assert exists_on(m, "/x/gone") and exists_on(m, "/x/silent")
    for m in ens.members:
        assert wait_until(lambda: not exists_on(m, "/x/gone") and
                          not exists_on(m, "/x/silent"),
                          timeout_ms / 1000.0 + 8.0), m.sid
    took = time.time() - t0
    assert took >= timeout_ms / 1000.0 * 0.9, took
    print("\nvanished sessions expired after %.1f s (timeout %.1f s)"
          % (took, timeout_ms / 1000.0))
    # The leader decided: it logged the expiry, the followers did not.
    for sess in (gone.session_id, silent.session_id):
        line = "Expiring session 0x%x" % sess
        assert line in leader.log_text(), line
        assert line not in f1.log_text() and line not in f2.log_text()
    # The silent client's connection was closed by its server.
    with pytest.raises((ConnectionClosed, OSError)):
        for _ in range(3):
            silent.exists("/x")
            time.sleep(0.2)
    silent.close()


def test_reads_on_a_follower_keep_the_session(ens):
    leader = ens.wait_serving(timeout=30)
    f1 = [m for m in ens.members if m is not leader][0]
    timeout_ms = 2000
    c = raw_session(f1.client_port, timeout_ms=timeout_ms)
    err, _ = c.create("/r", b"", flags=1)
    assert err == 0, err
    # Only reads, no pings, for three session timeouts.
    end = time.time() + 3 * timeout_ms / 1000.0
    n = 0
    while time.time() < end:
        err, _ = c.exists("/r")
        assert err == 0, err
        n += 1
        time.sleep(timeout_ms / 1000.0 / 4)
    assert exists_on(leader, "/r")
    err, st = c.exists("/r")
    assert err == 0 and st.ephemeralOwner == c.session_id
    assert ("Expiring session 0x%x" % c.session_id) not in leader.log_text()
    c.close_session()
    c.close()
    assert wait_until(lambda: not exists_on(leader, "/r"), 10.0)


def test_lagging_follower_asks_the_leader_about_a_new_session():
    """A session created through the leader reattaches on a follower that has
    not yet received its createSession txn (the leader -> follower direction
    is stalled): the follower asks the leader (REVALIDATE) and answers once it
    has applied the txn, instead of calling the session expired."""
    from netproxy import ProxiedEnsemble
    ens = ProxiedEnsemble(["paddock"] * 3)
    ens.start()
    try:
        leader = ens.wait_serving(timeout=30)
        fol = next(m for m in ens.members if m is not leader)
        ens.net.block(leader.sid, fol.sid)
        try:
            first = RawClient(leader.client_port)
            assert first.connect(timeout_ms=6000).timeout > 0
            sid, pw = first.session_id, first.passwd
            first.close()
            again = RawClient(fol.client_port)
            # Lift the stall well within syncLimit (5 ticks of 200 ms).
            lift = threading.Timer(0.4, ens.net.unblock, (leader.sid, fol.sid))
            lift.start()
            t0 = time.time()
            resp = again.connect(session_id=sid, passwd=pw, timeout_ms=6000)
            waited = time.time() - t0
            lift.join()
        finally:
            ens.net.unblock(leader.sid, fol.sid)
        assert resp.timeout > 0 and resp.session_id == sid, resp
        assert waited >= 0.3, "answered before the txn could have arrived"
        assert "asking the leader" in fol.log_text()
        # The session works on the follower: an ephemeral made through it is
        # owned by it, on the leader too.
        err, _ = again.create("/lag", b"x", flags=1)
        assert err == 0, err
        zk = client(leader.hosts)
        try:
            zk.sync("/lag")
            assert zk.exists("/lag").ephemeralOwner == sid
        finally:
            close(zk)
        again.close()
    finally:
        ens.cleanup()
