"""Fault tests on real Paddock ensembles on 127.0.0.1 (issue #5): partitions
through a per-link TCP proxy (netproxy.py), kill -9 of a minority and of a
majority of a 5-server ensemble, SIGSTOP of the leader beyond syncLimit.
tickTime 200, syncLimit 5 (1 s).  Every wait is bounded; only processes
started here are signalled, by PID.  Needs PADDOCK_BIN.
"""

import os
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from netproxy import ProxiedEnsemble
from zkensemble import close_client as close, wait_until
from zkwire import Op, enc_create, raw_session

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

TICK = 200
SYNC_LIMIT = 5


def client(hosts, timeout=10.0):
    zk = KazooClient(hosts=hosts, timeout=4.0,
                     connection_retry={"max_tries": -1, "delay": 0.05,
                                       "max_delay": 0.2},
                     command_retry=None)
    zk.start(timeout=timeout)
    return zk


def dump(member, base="/t"):
    """{child: (data, version)} under base, read on member after sync."""
    zk = client(member.hosts)
    try:
        zk.sync(base)
        out = {}
        for c in sorted(zk.get_children(base)):
            try:
                d, st = zk.get(base + "/" + c)
                out[c] = (d, st.version)
            except NoNodeError:
                pass
        return out
    finally:
        close(zk)


def assert_same_tree(ens, members=None, base="/t", timeout=20.0):
    members = members or ens.members
    deadline = time.time() + timeout
    while True:
        views = {}
        try:
            views = {m.sid: dump(m, base) for m in members}
        except Exception as e:
            views = {"error": repr(e)}
        vals = list(views.values())
        if "error" not in views and all(v == vals[0] for v in vals):
            return vals[0]
        if time.time() > deadline:
            raise AssertionError("servers disagree: %r" % views)
        time.sleep(0.3)


def try_write(zk, path, data=b"x", timeout=3.0):
    """'ok', 'fail' (a definite error) or 'info' (unknown outcome)."""
    try:
        zk.create_async(path, data).get(timeout=timeout)
        return "ok"
    except Exception as e:
        name = type(e).__name__
        if name in ("NodeExistsError", "NoNodeError"):
            return "fail"
        return "info"


@pytest.fixture
def ens3():
    e = ProxiedEnsemble(["paddock"] * 3, tick=TICK, sync_limit=SYNC_LIMIT)
    e.start()
    try:
        yield e
    finally:
        e.cleanup()


def setup_base(member):
    zk = client(member.hosts)
    zk.ensure_path("/t")
    close(zk)


# ---------------------------------------------------------------- partitions


def test_isolated_follower_accepts_no_writes_and_catches_up(ens3):
    leader = ens3.wait_serving(timeout=20)
    setup_base(leader)
    fol = [m for m in ens3.members if m is not leader]
    iso, other = fol[0], fol[1]
    zk_maj = client(leader.hosts)
    zk_oth = client(other.hosts)
    zk_iso = client(iso.hosts)
    assert try_write(zk_iso, "/t/before-iso") == "ok"

    ens3.isolate(iso.sid)
    # The isolated follower notices within syncLimit (+ slack) and stops
    # serving; the majority keeps committing through leader and follower.
    assert wait_until(lambda: iso.mode() != "follower", 5.0), \
        "isolated follower still says follower"
    acked = []
    for i in range(20):
        zk = zk_maj if i % 2 else zk_oth
        assert try_write(zk, "/t/maj-%d" % i) == "ok"
        acked.append("maj-%d" % i)
    iso_results = [try_write(zk_iso, "/t/iso-%d" % i, timeout=1.0)
                   for i in range(5)]
    assert "ok" not in iso_results, iso_results
    assert ens3.wait_serving(members=[leader, other], timeout=5) is leader

    ens3.heal()
    ens3.wait_serving(timeout=20)
    tree = assert_same_tree(ens3)
    for c in acked + ["before-iso"]:
        assert c in tree
    # Nothing written through the isolated server during the partition.
    assert not [c for c in tree if c.startswith("iso-")], tree
    for zk in (zk_maj, zk_oth, zk_iso):
        close(zk)


class Writer:
    """A thread doing unique creates and version-checked sets of /t/ctr
    through one server; records which were acknowledged."""

    def __init__(self, hosts, tag):
        self.zk = client(hosts)
        self.tag = tag
        self.created, self.unknown = [], []
        self.sets_ok = 0
        self.sets_unknown = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.is_set():
            p = "%s-%d" % (self.tag, i)
            r = try_write(self.zk, "/t/" + p, timeout=2.0)
            if r == "ok":
                self.created.append(p)
            elif r == "info":
                self.unknown.append(p)
            try:
                _, st = self.zk.get_async("/t/ctr").get(timeout=2.0)
                self.zk.set_async("/t/ctr", p.encode(),
                                  st.version).get(timeout=2.0)
                self.sets_ok += 1
            except Exception as e:
                if type(e).__name__ not in ("BadVersionError",
                                            "NoNodeError"):
                    self.sets_unknown += 1
            i += 1
            time.sleep(0.01)

    def finish(self):
        self.stop.set()
        self.t.join(timeout=10)
        close(self.zk)


def check_writers(tree, writers):
    for w in writers:
        for p in w.created:
            assert p in tree, "acknowledged create %s lost" % p
    # Every acknowledged set bumped /t/ctr once; unknown ones at most once.
    ok = sum(w.sets_ok for w in writers)
    unk = sum(w.sets_unknown for w in writers)
    assert ok <= tree["ctr"][1] <= ok + unk, (tree["ctr"], ok, unk)


def test_isolated_leader_steps_down_and_no_acked_write_is_lost(ens3):
    leader = ens3.wait_serving(timeout=20)
    setup_base(leader)
    zk = client(leader.hosts)
    zk.create("/t/ctr", b"")
    close(zk)
    others = [m for m in ens3.members if m is not leader]
    w_old = Writer(leader.hosts, "old")
    w_maj = Writer(others[0].hosts, "maj")
    w_old.t.start()
    w_maj.t.start()
    time.sleep(0.5)

    ens3.isolate(leader.sid)
    t_cut = time.time()
    # The old leader must step down within syncLimit ticks (plus slack for
    # the probe); srvr must stop saying leader.
    assert wait_until(lambda: leader.mode() != "leader", 3.0), \
        "old leader still leading 3 s after losing its quorum"
    stepped = time.time() - t_cut
    new = ens3.wait_serving(members=others, timeout=10)
    t_new = time.time() - t_cut
    n_maj = len(w_maj.created)
    assert wait_until(lambda: len(w_maj.created) > n_maj + 5, 10.0), \
        "writes did not resume on the majority"
    print("\nold leader s%d stepped down after %.0f ms; new leader s%d after "
          "%.0f ms" % (leader.sid, stepped * 1000, new.sid, t_new * 1000))
    acked_old_in_cut = len(w_old.created)
    time.sleep(1.0)
    ens3.heal()
    ens3.wait_serving(timeout=20)
    time.sleep(1.0)
    w_old.finish()
    w_maj.finish()
    tree = assert_same_tree(ens3)
    check_writers(tree, [w_old, w_maj])
    print("acknowledged through the old leader: %d before the cut ended"
          % acked_old_in_cut)


def test_pause_leader_beyond_sync_limit(ens3):
    leader = ens3.wait_serving(timeout=20)
    setup_base(leader)
    zk = client(leader.hosts)
    zk.create("/t/ctr", b"")
    close(zk)
    others = [m for m in ens3.members if m is not leader]
    w_old = Writer(leader.hosts, "old")
    w_maj = Writer(others[0].hosts, "maj")
    w_old.t.start()
    w_maj.t.start()
    time.sleep(0.5)
    ens3.pause(leader)
    try:
        new = ens3.wait_serving(members=others, timeout=10)
        n = len(w_maj.created)
        assert wait_until(lambda: len(w_maj.created) > n + 5, 10.0), \
            "writes did not resume while the old leader was stopped"
        time.sleep(max(0.0, 3 * SYNC_LIMIT * TICK / 1000.0 - 1.0))
    finally:
        ens3.resume(leader)
    # The old leader comes back as a follower of the new one and catches up.
    assert ens3.wait_serving(timeout=20) is new
    time.sleep(1.0)
    w_old.finish()
    w_maj.finish()
    tree = assert_same_tree(ens3)
    check_writers(tree, [w_old, w_maj])


def test_paused_leader_keeps_its_logged_txns(ens3):
    """A leader wakes from a pause and the first thing it handles is a client
    request: proposing it, the core finds the followers' acks too old and
    steps down. The txn it had logged but not yet seen committed must stay:
    the followers logged it too, the new leader commits it, and this server
    must apply it when it rejoins. Session 4 found by reading the code that
    the step-down dropped every queued txn (an ASan run of the test above
    once left the old leader two nodes short, for good); here the new leader
    usually sends a SNAP, which hides the loss, so this passed on the old
    build too: it guards the scenario, it does not reproduce the bug."""
    leader = ens3.wait_serving(timeout=20)
    setup_base(leader)
    fol = [m for m in ens3.members if m is not leader]
    zk = client(leader.hosts)
    raw = raw_session(leader.client_port, timeout_ms=30000)
    # The followers' bytes stop reaching the leader: they log /t/held and ack,
    # the acks are lost, the leader waits for a quorum.
    for f in fol:
        ens3.net.block(f.sid, leader.sid)
    held = zk.create_async("/t/held", b"x")
    time.sleep(0.3)
    ens3.pause(leader)
    try:
        # Without pings the followers give up on it and elect one of themselves,
        # whose history holds /t/held.
        new = ens3.wait_serving(members=fol, timeout=15)
        zk2 = client(new.hosts)
        assert zk2.exists("/t/held") is not None
        close(zk2)
        # A request waits in the paused leader's socket: handled first on waking.
        raw.send_request(Op.CREATE, enc_create("/t/wake", b"w"))
        time.sleep(0.2)
    finally:
        ens3.resume(leader)
    assert wait_until(lambda: leader.mode() != "leader", 10.0)
    ens3.heal()
    ens3.wait_serving(timeout=20)
    tree = assert_same_tree(ens3)
    assert "held" in tree
    try:
        held.get(timeout=1)
    except Exception:
        pass  # its connection went with the old leader's role: unknown outcome
    raw.close()
    close(zk)


def test_one_way_cut_from_leader(ens3):
    """The leader's bytes to one follower stall (the follower's still reach
    the leader): that follower loses the leader, rejoins after the heal and
    catches up; the other two keep committing."""
    leader = ens3.wait_serving(timeout=20)
    setup_base(leader)
    f = [m for m in ens3.members if m is not leader]
    ens3.net.block(leader.sid, f[0].sid)
    zk = client(f[1].hosts)
    for i in range(10):
        assert try_write(zk, "/t/ow-%d" % i) == "ok"
    assert wait_until(lambda: f[0].mode() != "follower", 5.0)
    ens3.heal()
    ens3.wait_serving(timeout=20)
    tree = assert_same_tree(ens3)
    assert all("ow-%d" % i in tree for i in range(10))
    close(zk)


# ------------------------------------------------------------ 5 servers


def test_five_servers_lose_two_then_three():
    ens = ProxiedEnsemble(["paddock"] * 5, tick=TICK, sync_limit=SYNC_LIMIT)
    ens.start()
    try:
        leader = ens.wait_serving(timeout=20)
        setup_base(leader)
        fol = [m for m in ens.members if m is not leader]
        # kill -9 the leader and one follower: three remain, a quorum.
        leader.kill9()
        fol[0].kill9()
        alive = fol[1:]
        ens.wait_serving(members=alive, timeout=15)
        zk = client(",".join(m.hosts for m in alive))
        for i in range(10):
            assert try_write(zk, "/t/three-%d" % i) == "ok"
        close(zk)
        # A third one: two left, no quorum, no write may succeed.
        third = alive[0]
        third.kill9()
        left = alive[1:]
        assert wait_until(lambda: all(m.mode() not in ("leader", "follower")
                                      for m in left), 5.0), \
            "two of five still serve: %r" % ens.modes()
        zk = KazooClient(hosts=",".join(m.hosts for m in left),
                         timeout=4.0, command_retry=None)
        try:
            zk.start(timeout=2.0)
            r = try_write(zk, "/t/two", timeout=2.0)
            assert r != "ok"
        except Exception:
            pass                      # not even a session: fine
        finally:
            close(zk)
        # Restart the third: writes resume.
        third.start()
        ens.wait_serving(members=alive, timeout=20)
        zk = client(",".join(m.hosts for m in alive))
        assert try_write(zk, "/t/resumed") == "ok"
        close(zk)
        tree = assert_same_tree(ens, members=alive)
        assert all("three-%d" % i in tree for i in range(10))
        assert "two" not in tree
        # The two killed first come back and agree.
        leader.start()
        fol[0].start()
        ens.wait_serving(timeout=20)
        assert assert_same_tree(ens) == tree
    finally:
        ens.cleanup()


def test_five_servers_kill_leader_under_write_load():
    """kill -9 of the leader of 5 while two clients write through followers:
    the other four elect a new leader, writes resume, no acknowledged write
    is lost, and the old leader rejoins and agrees.  Prints the times."""
    ens = ProxiedEnsemble(["paddock"] * 5, tick=TICK, sync_limit=SYNC_LIMIT)
    ens.start()
    writers = []
    try:
        leader = ens.wait_serving(timeout=30)
        setup_base(leader)
        zk = client(leader.hosts)
        zk.create("/t/ctr", b"")
        close(zk)
        fol = [m for m in ens.members if m is not leader]
        writers = [Writer(fol[0].hosts, "a"),
                   Writer(",".join(m.hosts for m in fol[1:]), "b")]
        for w in writers:
            w.t.start()
        assert wait_until(lambda: all(len(w.created) >= 5 for w in writers),
                          10.0), "no write load before the kill"
        n_before = [len(w.created) for w in writers]
        t_kill = time.time()
        leader.kill9()
        new = ens.wait_serving(members=fol, timeout=20)
        t_elected = time.time() - t_kill
        assert new is not leader
        assert wait_until(lambda: all(len(w.created) > n + 3 for w, n in
                                      zip(writers, n_before)), 15.0), \
            "writes did not resume on the four"
        t_resumed = time.time() - t_kill
        print("\n5 servers, leader s%d killed under load: new leader s%d "
              "after %.0f ms, writes resumed after %.0f ms"
              % (leader.sid, new.sid, t_elected * 1000, t_resumed * 1000))
        leader.start()
        assert ens.wait_serving(timeout=30) is new
        time.sleep(0.5)
        for w in writers:
            w.finish()
        tree = assert_same_tree(ens)
        check_writers(tree, writers)
    finally:
        for w in writers:
            w.stop.set()
        ens.cleanup()
