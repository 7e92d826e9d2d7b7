"""A 3-server Paddock ensemble over real processes on 127.0.0.1 (issue #5):
election, writes through the leader and through a follower, failover after
kill -9 of the leader (time recorded), and a restarted follower catching up
by DIFF.  Every wait is bounded; only processes started here are stopped, by
PID.  Needs PADDOCK_BIN (skipped against Apache ZooKeeper: the helper starts
Paddock ensembles).
"""

import os
import time

import pytest
from kazoo.client import KazooClient

from zkensemble import Ensemble

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")


def client(member, timeout=10.0):
    zk = KazooClient(hosts=member.hosts, timeout=4.0,
                     connection_retry={"max_tries": 20, "delay": 0.05,
                                       "max_delay": 0.2})
    zk.start(timeout=timeout)
    return zk


def read_synced(member, path):
    zk = client(member)
    try:
        zk.sync(path)
        return zk.get(path)[0]
    finally:
        zk.stop()
        zk.close()


@pytest.fixture
def ens():
    e = Ensemble(["paddock"] * 3)
    e.start()
    try:
        yield e
    finally:
        e.cleanup()


def test_one_leader_and_replication(ens):
    t0 = time.time()
    leader = ens.wait_serving(timeout=20)
    print("\nelection at start: %.0f ms" % ((time.time() - t0) * 1000))
    modes = ens.modes()
    assert sorted(modes.values()) == ["follower", "follower", "leader"]
    followers = [m for m in ens.members if m is not leader]

    # A write through the leader is readable on every follower after sync.
    zk = client(leader)
    zk.create("/via-leader", b"L")
    zk.stop()
    zk.close()
    for m in ens.members:
        assert read_synced(m, "/via-leader") == b"L"

    # A write through a follower is committed and readable everywhere; the
    # writer's own session reads it at once (its reads wait for its writes).
    zk = client(followers[0])
    zk.create("/via-follower", b"F")
    zk.set("/via-follower", b"F2")
    assert zk.get("/via-follower")[0] == b"F2"
    zk.stop()
    zk.close()
    for m in ens.members:
        assert read_synced(m, "/via-follower") == b"F2"

    out = __import__("zkwire").four_letter(leader.client_port, "mntr")
    assert "zk_server_state\tleader" in out
    assert "zk_synced_followers\t2" in out


def test_leader_failover_and_follower_catch_up(ens):
    leader = ens.wait_serving(timeout=20)
    zk = client(leader)
    zk.create("/before", b"1")
    zk.stop()
    zk.close()

    t_kill = time.time()
    leader.kill9()
    survivors = [m for m in ens.members if m is not leader]
    new_leader = ens.wait_serving(members=survivors, timeout=20)
    t_elected = time.time()
    zk = client(new_leader)
    zk.create("/after", b"2")
    t_write = time.time()
    print("\nfailover: new leader s%d after %.0f ms, first write after %.0f ms"
          % (new_leader.sid, (t_elected - t_kill) * 1000,
             (t_write - t_kill) * 1000))
    assert new_leader is not leader
    for m in survivors:
        assert read_synced(m, "/before") == b"1"
        assert read_synced(m, "/after") == b"2"

    # The old leader comes back as a follower and catches up (DIFF).
    for i in range(20):
        zk.create("/more-%d" % i, b"x")
    zk.stop()
    zk.close()
    leader.start()
    ens.wait_serving(timeout=20)
    assert leader.mode() == "follower"
    assert read_synced(leader, "/after") == b"2"
    assert read_synced(leader, "/more-19") == b"x"

    # A follower killed and restarted catches up on what it missed.
    f = [m for m in survivors if m is not new_leader][0]
    f.kill9()
    zk = client(new_leader)
    zk.create("/while-down", b"d")
    zk.stop()
    zk.close()
    f.start()
    ens.wait_serving(timeout=20)
    assert read_synced(f, "/while-down") == b"d"
