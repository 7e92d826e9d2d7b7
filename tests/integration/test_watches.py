"""Watches: one-shot data/exists/child watches (kazoo and raw), the order of
events and replies, persistent and persistent-recursive watches (addWatch,
opcode 106), removeWatches/checkWatches (18/17) and setWatches/setWatches2
(101/105) after a reconnect.

ZooKeeper 3.8.0 facts pinned here:
  * a notification is a frame with ReplyHeader{xid -1, zxid -1, err 0} and
    WatcherEvent{type, state 3 (SyncConnected), path}.  (3.9 puts the
    triggering zxid in the header instead of -1: ZOOKEEPER-4655.)
  * a watch fires before the reply to any later request of the same session,
    so a client never reads new data before the event announcing it;
  * delete fires the node's own events (NodeDeleted) before the parent's
    NodeChildrenChanged; create fires NodeCreated before the parent's
    NodeChildrenChanged;
  * one session watching a node through both exists() and getData() gets
    ONE NodeDataChanged (watches are a set per (path, session));
  * removeWatches answers with err only; the server sends no event (the
    *WatchRemoved events are made up by the Java client itself);
    NOWATCHER (-121) when there is nothing of that type to remove;
  * an exists() watch on a missing node is a data watch;
  * persistent watches fire for the node itself: NodeCreated,
    NodeDataChanged, NodeChildrenChanged, NodeDeleted, and stay;
    persistent-recursive watches fire for the node and every descendant,
    and never NodeChildrenChanged;
  * watches belong to the connection: after reconnecting to the same
    session they are gone unless the client sends setWatches.
Not pinned, because 3.8 is buggy or differs from 3.9: mixing a one-shot
watch with a persistent watch on the SAME path by the same session (3.8
lets the one-shot registration replace the persistent mode, ZOOKEEPER-4466),
removeWatches/checkWatches with type 4/5 (3.8 answers MARSHALLINGERROR;
3.9 supports them), and checkWatches seeing other sessions' watches (a 3.8
bug).
"""

import pytest
from kazoo.exceptions import BadVersionError, NodeExistsError

from zkutil import Recorder
from zkwire import (AddWatchMode, Err, Ev, Op, RawClient, Reader,
                    SET_WATCHES_XID, State, WATCH_XID, WatchEvent,
                    WatcherType, j_long, j_string, j_vector)


def ev(t, path):
    return WatchEvent(t, State.SYNC_CONNECTED, path)


# --------------------------------------------------------------------------
# one-shot watches through kazoo


def test_data_watch_is_one_shot(zk, kazoo_factory, base):
    other = kazoo_factory()
    p = zk.create(base + "/d", b"0")
    rec = Recorder()
    assert zk.get(p, watch=rec)[0] == b"0"
    other.set(p, b"1")
    evs = rec.wait(1)
    assert [(e.type, e.state, e.path) for e in evs] == \
        [("CHANGED", "CONNECTED", p)]
    other.set(p, b"2")
    assert len(rec.settle(0.4)) == 1        # not re-armed


def test_exists_watch_on_missing_then_existing_node(zk, kazoo_factory, base):
    other = kazoo_factory()
    rec = Recorder()
    assert zk.exists(base + "/e", watch=rec) is None
    other.create(base + "/e")
    assert rec.wait(1)[0].type == "CREATED"
    rec2 = Recorder()
    assert zk.exists(base + "/e", watch=rec2) is not None
    other.delete(base + "/e")
    assert rec2.wait(1)[0].type == "DELETED"
    assert len(rec.settle(0.3)) == 1


def test_child_watch(zk, kazoo_factory, base):
    other = kazoo_factory()
    par = zk.create(base + "/p")
    rec = Recorder()
    assert zk.get_children(par, watch=rec) == []
    other.create(par + "/c")
    assert [(e.type, e.path) for e in rec.wait(1)] == [("CHILD", par)]
    rec = Recorder()
    zk.get_children(par, watch=rec)
    other.set(par + "/c", b"x")              # child data: no child event
    other.set(par, b"x")                     # own data: no child event
    other.create(par + "/c/grandchild")      # grandchild: no child event
    assert rec.settle(0.4) == []
    other.delete(par + "/c/grandchild")
    other.delete(par + "/c")
    assert [(e.type, e.path) for e in rec.wait(1)] == [("CHILD", par)]
    # a child watch on a node that is deleted fires NodeDeleted
    rec = Recorder()
    zk.get_children(par, watch=rec)
    other.delete(par)
    assert [(e.type, e.path) for e in rec.wait(1)] == [("DELETED", par)]


def test_failed_writes_fire_nothing(zk, kazoo_factory, base):
    other = kazoo_factory()
    p = zk.create(base + "/f", b"0")
    rec = Recorder()
    zk.get(p, watch=rec)
    zk.get_children(p, watch=rec)
    with pytest.raises(BadVersionError):
        other.set(p, b"1", version=9)
    with pytest.raises(NodeExistsError):
        other.create(p)
    with pytest.raises(BadVersionError):
        other.delete(p, version=9)
    assert rec.settle(0.4) == []


def test_ephemeral_owner_closing_notifies_watchers(zk, kazoo_factory, base):
    owner = kazoo_factory()
    p = owner.create(base + "/eph", ephemeral=True)
    drec, crec = Recorder(), Recorder()
    zk.get(p, watch=drec)
    zk.get_children(base, watch=crec)
    owner.stop()
    assert [(e.type, e.path) for e in drec.wait(1)] == [("DELETED", p)]
    assert [(e.type, e.path) for e in crec.wait(1)] == [("CHILD", base)]


# --------------------------------------------------------------------------
# one-shot watches on the wire


def test_notification_wire_format(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    a.create(base + "/n")
    a.get_data(base + "/n", watch=True)
    b.set_data(base + "/n", b"x")
    data = a.read_frame(5)
    r = Reader(data)
    assert (r.int(), r.long(), r.int()) == (WATCH_XID, -1, 0)
    assert (r.int(), r.int(), r.string()) == \
        (Ev.NODE_DATA_CHANGED, State.SYNC_CONNECTED, base + "/n")
    assert r.remaining() == 0


def test_event_arrives_before_the_reply_that_shows_the_change(raw_factory,
                                                              base):
    a, b = raw_factory(), raw_factory()
    p = base + "/o"
    a.create(p, b"old")
    a.get_data(p, watch=True)
    a.get_children(p, watch=True)
    assert a.log and all(kind == "reply" for kind, _ in a.log)
    b.set_data(p, b"new")
    b.create(p + "/kid")
    a.log.clear()
    err, (data, _) = a.get_data(p)
    assert data == b"new"
    # both events were read before the getData reply
    assert [x for x in a.log] == [
        ("event", ev(Ev.NODE_DATA_CHANGED, p)),
        ("event", ev(Ev.NODE_CHILDREN_CHANGED, p)),
        ("reply", a.log[-1][1])]
    assert a.log[-1][0] == "reply"


def test_event_order_on_create_and_delete(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    par, kid = base + "/par", base + "/par/kid"
    a.create(par)
    a.exists(kid, watch=True)
    a.get_children(par, watch=True)
    b.create(kid)
    assert a.expect(2) == [ev(Ev.NODE_CREATED, kid),
                            ev(Ev.NODE_CHILDREN_CHANGED, par)]
    a.get_data(kid, watch=True)
    a.get_children(kid, watch=True)
    a.get_children(par, watch=True)
    b.delete(kid)
    # the node's watches fire (one event per session for data+child
    # watches of the same node), then the parent's child watch
    assert a.expect(2) == [ev(Ev.NODE_DELETED, kid),
                            ev(Ev.NODE_CHILDREN_CHANGED, par)]


def test_exists_and_getdata_watch_fire_once(raw_factory, base):
    a, b, c = raw_factory(), raw_factory(), raw_factory()
    p = base + "/x"
    a.create(p)
    a.exists(p, watch=True)
    a.get_data(p, watch=True)
    c.get_data(p, watch=True)
    b.set_data(p, b"1")
    assert a.expect(1) == [ev(Ev.NODE_DATA_CHANGED, p)]
    assert c.expect(1) == [ev(Ev.NODE_DATA_CHANGED, p)]


# --------------------------------------------------------------------------
# persistent watches (addWatch)


def test_persistent_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/p"
    assert a.add_watch(p, AddWatchMode.PERSISTENT) == (0, None)
    assert a.check_watches(p, WatcherType.DATA)[0] == 0
    assert a.check_watches(p, WatcherType.CHILDREN)[0] == 0
    for op in [lambda: b.create(p), lambda: b.set_data(p, b"1"),
               lambda: b.create(p + "/c"), lambda: b.set_data(p + "/c", b"x"),
               lambda: b.create(p + "/c/d"), lambda: b.delete(p + "/c/d"),
               lambda: b.delete(p + "/c"), lambda: b.delete(p),
               lambda: b.create(p)]:
        assert op()[0] == 0
    assert a.expect(6) == [
        ev(Ev.NODE_CREATED, p), ev(Ev.NODE_DATA_CHANGED, p),
        ev(Ev.NODE_CHILDREN_CHANGED, p), ev(Ev.NODE_CHILDREN_CHANGED, p),
        ev(Ev.NODE_DELETED, p), ev(Ev.NODE_CREATED, p)]
    # removeWatches(ANY) drops it; the server sends no event for that
    assert a.remove_watches(p, WatcherType.ANY) == (0, None)
    b.set_data(p, b"2")
    assert a.drain(0.4) == []
    assert a.remove_watches(p, WatcherType.ANY)[0] == Err.NOWATCHER


def test_persistent_recursive_watch(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    r = base + "/r"
    assert a.add_watch(r, AddWatchMode.PERSISTENT_RECURSIVE) == (0, None)
    for op in [lambda: b.create(r), lambda: b.set_data(r, b"1"),
               lambda: b.create(r + "/c"), lambda: b.set_data(r + "/c", b"x"),
               lambda: b.create(r + "/c/d"), lambda: b.delete(r + "/c/d"),
               lambda: b.delete(r + "/c"), lambda: b.delete(r),
               lambda: b.create(r), lambda: b.create(base + "/rr")]:
        assert op()[0] == 0
    # never NodeChildrenChanged; /rr is a sibling with a common prefix and
    # must not match
    assert a.expect(9) == [
        ev(Ev.NODE_CREATED, r), ev(Ev.NODE_DATA_CHANGED, r),
        ev(Ev.NODE_CREATED, r + "/c"), ev(Ev.NODE_DATA_CHANGED, r + "/c"),
        ev(Ev.NODE_CREATED, r + "/c/d"), ev(Ev.NODE_DELETED, r + "/c/d"),
        ev(Ev.NODE_DELETED, r + "/c"), ev(Ev.NODE_DELETED, r),
        ev(Ev.NODE_CREATED, r)]
    assert a.remove_watches(r, WatcherType.ANY) == (0, None)
    b.create(r + "/after")
    assert a.drain(0.4) == []


def test_recursive_and_one_shot_watches_of_different_sessions(raw_factory,
                                                             base):
    a, b, w = raw_factory(), raw_factory(), raw_factory()
    r = base + "/mix"
    w.create(r)
    a.add_watch(r, AddWatchMode.PERSISTENT_RECURSIVE)
    b.get_children(r, watch=True)
    b.get_data(r, watch=True)
    w.create(r + "/k")
    w.set_data(r, b"1")
    w.set_data(r, b"2")
    assert a.expect(3) == [ev(Ev.NODE_CREATED, r + "/k"),
                            ev(Ev.NODE_DATA_CHANGED, r),
                            ev(Ev.NODE_DATA_CHANGED, r)]
    assert b.expect(2) == [ev(Ev.NODE_CHILDREN_CHANGED, r),
                            ev(Ev.NODE_DATA_CHANGED, r)]


def test_add_watch_bad_mode(raw_factory, base):
    c = raw_factory()
    assert c.add_watch(base, 7)[0] == Err.MARSHALLINGERROR
    assert c.exists(base)[0] == 0          # connection still usable


# --------------------------------------------------------------------------
# removeWatches / checkWatches


def test_remove_and_check_watches(raw_factory, base):
    a, b = raw_factory(), raw_factory()
    p = base + "/rm"
    a.create(p)
    a.get_data(p, watch=True)
    assert a.check_watches(p, WatcherType.DATA) == (0, None)
    assert a.check_watches(p, WatcherType.ANY) == (0, None)
    assert a.check_watches(p, WatcherType.CHILDREN)[0] == Err.NOWATCHER
    assert a.remove_watches(p, WatcherType.CHILDREN)[0] == Err.NOWATCHER
    assert a.remove_watches(p, WatcherType.DATA) == (0, None)
    assert a.remove_watches(p, WatcherType.DATA)[0] == Err.NOWATCHER
    assert a.check_watches(p, WatcherType.DATA)[0] == Err.NOWATCHER
    b.set_data(p, b"1")
    assert a.drain(0.4) == []                # no event at all
    a.get_data(p, watch=True)
    a.get_children(p, watch=True)
    assert a.remove_watches(p, WatcherType.ANY) == (0, None)
    assert a.check_watches(p, WatcherType.ANY)[0] == Err.NOWATCHER
    b.set_data(p, b"2")
    b.create(p + "/c")
    assert a.drain(0.4) == []
    # unknown path
    assert a.remove_watches(base + "/nope", WatcherType.ANY)[0] == \
        Err.NOWATCHER
    # an exists() watch on a missing node is a data watch
    a.exists(base + "/later", watch=True)
    assert a.check_watches(base + "/later", WatcherType.DATA) == (0, None)
    assert a.check_watches(base + "/later", WatcherType.CHILDREN)[0] == \
        Err.NOWATCHER
    # NOT pinned: checkWatches for a path where only ANOTHER session has a
    # watch.  3.8's WatchManager.containsWatcher answers "yes" as soon as
    # anyone watches the path (fixed in 3.9); Paddock should answer
    # NOWATCHER, as 3.9 does.


# --------------------------------------------------------------------------
# watches and reconnects


def _set_watches(c, rel_zxid, data=(), exist=(), child=()):
    body = (j_long(rel_zxid) + j_vector(list(data), j_string)
            + j_vector(list(exist), j_string)
            + j_vector(list(child), j_string))
    return c.call(Op.SET_WATCHES, body, xid=SET_WATCHES_XID)


def test_watches_are_per_connection_and_set_watches(server, raw_factory,
                                                    base):
    a, b = raw_factory(timeout_ms=10000), raw_factory()
    p = base + "/sw"
    a.create(p)
    a.create(p + "/k")
    err, (_, st) = a.get_data(p, watch=True)
    last = st.pzxid
    # reattach to the same session on a new connection: the old connection
    # (and its watches) is dropped by the server
    a2 = RawClient(server.port)
    resp = a2.connect(session_id=a.session_id, passwd=a.passwd,
                      timeout_ms=10000)
    assert resp.session_id == a.session_id
    assert a.wait_closed(5)
    b.set_data(p, b"1")
    assert a2.drain(0.4) == []

    # setWatches with an older zxid: the server fires at once for what
    # changed since (data changed, node now exists, children changed,
    # node gone) and registers the rest
    b.create(p + "/new")
    b.create(base + "/born")
    rep = _set_watches(a2, last, data=[p, base + "/never"],
                       exist=[base + "/born", base + "/unborn"],
                       child=[p, base + "/never2"])
    assert (rep.xid, rep.err, rep.body.remaining()) == (SET_WATCHES_XID, 0, 0)
    got = a2.expect(5)
    assert sorted(got) == sorted([
        ev(Ev.NODE_DATA_CHANGED, p),
        ev(Ev.NODE_DELETED, base + "/never"),
        ev(Ev.NODE_CREATED, base + "/born"),
        ev(Ev.NODE_CHILDREN_CHANGED, p),
        ev(Ev.NODE_DELETED, base + "/never2")])
    # the still-pending exist watch is now registered
    b.create(base + "/unborn")
    assert a2.expect(1) == [ev(Ev.NODE_CREATED, base + "/unborn")]


def test_set_watches2_registers_persistent_watches(server, raw_factory,
                                                   base):
    a, b = raw_factory(), raw_factory()
    r = base + "/sw2"
    body = (j_long(1 << 40) + j_vector([], j_string) + j_vector([], j_string)
            + j_vector([], j_string) + j_vector([base + "/pers"], j_string)
            + j_vector([r], j_string))
    rep = a.call(Op.SET_WATCHES2, body, xid=SET_WATCHES_XID)
    assert (rep.xid, rep.err) == (SET_WATCHES_XID, 0)
    b.create(r)
    b.create(r + "/c")
    b.create(base + "/pers")
    b.set_data(base + "/pers", b"1")
    assert a.expect(4) == [ev(Ev.NODE_CREATED, r),
                            ev(Ev.NODE_CREATED, r + "/c"),
                            ev(Ev.NODE_CREATED, base + "/pers"),
                            ev(Ev.NODE_DATA_CHANGED, base + "/pers")]
