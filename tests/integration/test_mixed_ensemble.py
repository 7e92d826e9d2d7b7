"""Mixed ensembles of Paddock and Apache ZooKeeper 3.8 servers on 127.0.0.1
(issue #5, the compatibility contract): 2 Apache + 1 Paddock and 1 Apache +
2 Paddock, with the leader on each side at least once.  Leadership is steered
by sid (FLE picks the highest (epoch, zxid, sid)): the intended first leader
has the highest sid and starts first; killing it moves leadership to the
other side, and it rejoins as a follower of that side's leader (DIFF).  Before that, a server of the other kind misses more than the
leader's commit log and catches up by SNAP.

Writes go through every server; afterwards every server holds the identical
tree (paths, data, stat versions, czxid/mzxid/pzxid, ephemeralOwner).  Every
wait is bounded; only processes started here are stopped, by PID.
"""

import os
import shutil
import socket
import time

import pytest
from kazoo.client import KazooClient

from zkensemble import Ensemble, walk_tree

pytestmark = pytest.mark.skipif(
    not os.environ.get("PADDOCK_BIN") or not shutil.which("java")
    or not os.path.exists("/usr/share/java/zookeeper.jar"),
    reason="needs PADDOCK_BIN, java and Debian's zookeeper")


def client(member, timeout=15.0):
    zk = KazooClient(hosts=member.hosts, timeout=6.0,
                     connection_retry={"max_tries": 40, "delay": 0.05,
                                       "max_delay": 0.3})
    zk.start(timeout=timeout)
    return zk


def tree_of(member):
    """{path: (data, version, cversion, aversion, czxid, mzxid, pzxid,
    ephemeralOwner, numChildren)} of everything outside /zookeeper, read
    after a sync."""
    zk = client(member)
    try:
        zk.sync("/")
        return {path: (data, st.version, st.cversion, st.aversion, st.czxid,
                       st.mzxid, st.pzxid, st.ephemeralOwner, st.numChildren)
                for path, data, st in walk_tree(zk)}
    finally:
        zk.stop()
        zk.close()


def assert_same_trees(members):
    trees = {m.sid: tree_of(m) for m in members}
    first = members[0]
    for m in members[1:]:
        a, b = trees[first.sid], trees[m.sid]
        if a != b:
            diff = sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))
            raise AssertionError(
                "s%d (%s) and s%d (%s) differ at %r: %r vs %r" % (
                    first.sid, first.kind, m.sid, m.kind, diff[:5],
                    [a.get(p) for p in diff[:3]], [b.get(p) for p in diff[:3]]))
    return trees[first.sid]


def write_through(member, tag, n=5):
    """Creates, updates, sequential creates, a multi and a delete through one
    server; returns what the client saw acknowledged."""
    zk = client(member)
    try:
        base = "/w-%s-s%d" % (tag, member.sid)
        zk.create(base, b"base")
        for i in range(n):
            zk.create("%s/n%d" % (base, i), b"v%d" % i)
        for i in range(n):
            zk.set("%s/n%d" % (base, i), b"u%d" % i)
        zk.create(base + "/seq-", b"s", sequence=True)
        zk.create(base + "/seq-", b"s", sequence=True)
        t = zk.transaction()
        t.create(base + "/m1", b"m")
        t.set_data(base + "/n0", b"multi")
        t.delete(base + "/n1")
        assert not any(isinstance(r, Exception) for r in t.commit())
        zk.set(base, b"done", version=0)
        assert zk.get(base + "/n0")[0] == b"multi"
        return base
    finally:
        zk.stop()
        zk.close()


def bulk_create(member, prefix, n):
    zk = client(member)
    try:
        zk.ensure_path(prefix)
        for start in range(0, n, 100):
            rs = [zk.create_async("%s/n%04d" % (prefix, i), b"x%d" % i)
                  for i in range(start, min(n, start + 100))]
            for r in rs:
                r.get(timeout=20)
    finally:
        zk.stop()
        zk.close()


def log_text(member):
    with open(member.log_path, "rb") as f:
        return f.read().decode(errors="replace")


def start_steered(ens, first, timeout=30.0):
    """Starts `first` (meant to lead: the highest sid) before the others,
    once its election port listens, and returns the leader; if another
    server won the race anyway, restarts that one so that `first` leads."""
    first.start()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", first.election_port),
                                     timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    for m in ens.members:
        if m is not first:
            m.start()
    leader = ens.wait_serving(timeout=60)
    if leader is not first:
        leader.kill9()
        ens.wait_serving(members=[m for m in ens.members if m is not leader],
                         timeout=60)
        leader.start()
        leader = ens.wait_serving(timeout=60)
    return leader


def print_members(ens):
    for m in ens.members:
        rc = m.proc.poll() if m.proc else "not running"
        print("--- s%d (%s, exit status %r)\n%s" % (
            m.sid, m.kind, rc, m.log_tail(60)))


def run_scenario(kinds):
    ens = Ensemble(kinds)
    for m in ens.members:
        # No DIFF from Apache's on-disk txn log: a learner behind its
        # in-memory commit log gets SNAP, as Paddock's leader does.
        m.jvm_flags = ["-Dzookeeper.snapshotSizeFactor=-1"]
    led = set()
    try:
        s1, s2, s3 = ens.members
        leader = start_steered(ens, s3)
        assert leader is s3, "expected s3 to lead: %r" % ens.modes()
        led.add(leader.kind)
        for m in ens.members:
            write_through(m, "a")
        tree = assert_same_trees(ens.members)
        assert "/w-a-s1/m1" in tree and "/w-a-s3/seq-0000000006" in tree

        # SNAP across kinds: s1 misses more than the leader's commit log
        # (500 txns), rejoins and loads the leader's database.
        s1.kill9()
        bulk_create(s3, "/bulk", 650)
        s1.start()
        assert ens.wait_serving(timeout=60) is s3
        if s1.kind == "paddock":
            assert "loaded the leader's database" in log_text(s1)
        else:
            assert "Getting a snapshot from leader" in log_text(s1)
        tree = assert_same_trees(ens.members)
        assert "/bulk/n0649" in tree
        write_through(s1, "snap")

        # A session made on the leader moves to s1 (the other kind) and
        # writes there: s1 must tell the leader (REVALIDATE), or a 3.8
        # leader refuses the writes as coming from a session owned elsewhere
        # (SessionMovedException); a 3.8 learner waits for the leader's
        # answer before it completes the reconnect.
        zk_a = client(s3)
        zk_a.create("/moved", b"0")
        zk_b = KazooClient(hosts=s1.hosts, client_id=zk_a.client_id,
                           timeout=6.0)
        zk_b.start(timeout=15)
        assert zk_b.client_id[0] == zk_a.client_id[0]
        zk_b.set("/moved", b"1")
        zk_b.create("/moved/child", b"c", ephemeral=True)
        zk_b.stop()
        zk_b.close()
        zk_a.stop()
        zk_a.close()

        # The leader goes: the survivors (one of each kind) elect s2.
        s3.kill9()
        leader = ens.wait_serving(members=[s1, s2], timeout=60)
        assert leader is s2
        led.add(leader.kind)
        for m in (s1, s2):
            write_through(m, "b")
        assert_same_trees([s1, s2])

        # The old leader comes back as a follower of the other side (DIFF).
        s3.start()
        leader = ens.wait_serving(timeout=60)
        assert leader is s2
        for m in ens.members:
            write_through(m, "c")
        tree = assert_same_trees(ens.members)
        assert "/w-b-s1/n4" in tree and "/w-c-s3/m1" in tree
        assert led == {"paddock", "zookeeper"}, led
    except BaseException:
        print_members(ens)
        raise
    finally:
        ens.cleanup()


def test_two_apache_one_paddock():
    # Paddock (s3) leads first, then Apache s2; Paddock rejoins as follower.
    run_scenario(["zookeeper", "zookeeper", "paddock"])


def test_one_apache_two_paddock():
    # Apache (s3) leads first, then Paddock s2; Apache rejoins as follower.
    run_scenario(["paddock", "paddock", "zookeeper"])


def test_apache_follower_loads_a_fuzzy_database(monkeypatch):
    """A Paddock leader sends its database a slice at a time while it goes
    on applying writes (PADDOCK_TEST_SNAP_SLICE_NODES=1 in test builds makes
    each slice one node): Apache's follower loads that fuzzy database, replays
    the txns after the SNAP zxid over it, as it does for ZooKeeper's own
    fuzzy SNAP, and ends with the same tree as both Paddock servers."""
    from test_ensemble_snap import Churn, sent_snapshots
    monkeypatch.setenv("PADDOCK_TEST_SNAP_SLICE_NODES", "1")
    ens = Ensemble(["zookeeper", "paddock", "paddock"])
    for m in ens.members:
        m.jvm_flags = ["-Dzookeeper.snapshotSizeFactor=-1"]
    try:
        s1, s2, s3 = ens.members
        leader = start_steered(ens, s3)
        assert leader is s3, "expected s3 to lead: %r" % ens.modes()
        s1.kill9()
        bulk_create(s3, "/pad", 4000)
        bulk_create(s3, "/bulk", 650)
        churn = Churn(s3, 650)
        churn.start()
        time.sleep(0.3)
        s1.start()
        assert ens.wait_serving(timeout=60) is s3
        time.sleep(0.5)
        churn.stop()
        assert "Getting a snapshot from leader" in log_text(s1)
        sent = sent_snapshots(log_text(s3), s1.sid)
        assert any(after > zxid for zxid, after in sent), sent
        tree = assert_same_trees(ens.members)
        assert "/churn/c00010" in tree and "/bulk/n0000" in tree
    except BaseException:
        print_members(ens)
        raise
    finally:
        ens.cleanup()
