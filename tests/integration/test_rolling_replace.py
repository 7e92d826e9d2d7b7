"""A rolling replacement of a 3-node Apache ZooKeeper 3.8 ensemble by Paddock
servers, one at a time, under light client load (issue #5): each Apache
server is stopped (SIGTERM) and a Paddock server starts in its place with the
same zoo.cfg, myid and dataDir (Apache's snapshots, txn logs and epoch
files), the leader last.  One kazoo session, connected to every server's
client port, lives through the whole run: it must never expire, and every
write it saw acknowledged must be on every server at the end.  Every wait is
bounded; only processes started here are stopped, by PID.
"""

import os
import re
import shutil
import threading
import time

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException

from zkensemble import Ensemble

pytestmark = pytest.mark.skipif(
    not os.environ.get("PADDOCK_BIN") or not shutil.which("java")
    or not os.path.exists("/usr/share/java/zookeeper.jar"),
    reason="needs PADDOCK_BIN, java and Debian's zookeeper")

SESSION_TIMEOUT_S = 10.0


class Load(threading.Thread):
    """Creates /load/NNNNNN one after the other, about 50 a second; keeps
    the paths whose create was acknowledged."""

    def __init__(self, zk):
        super().__init__(daemon=True)
        self.zk = zk
        self.acked = []
        self.failed = 0
        self.stop_event = threading.Event()

    def run(self):
        i = 0
        while not self.stop_event.is_set():
            path = "/load/%06d" % i
            i += 1
            try:
                self.zk.create(path, b"%d" % i)
                self.acked.append(path)
            except KazooException:
                self.failed += 1
                time.sleep(0.05)
            time.sleep(0.02)


def read_all(member, paths):
    zk = KazooClient(hosts=member.hosts, timeout=6.0)
    zk.start(timeout=15)
    try:
        zk.sync("/")
        present = set(zk.get_children("/load"))
        return [p for p in paths if p.rsplit("/", 1)[1] not in present]
    finally:
        zk.stop()
        zk.close()


def test_rolling_replace_apache_by_paddock():
    ens = Ensemble(["zookeeper"] * 3,
                   extra_cfg="maxSessionTimeout=%d\n" %
                   int(SESSION_TIMEOUT_S * 1000))
    states = []
    try:
        ens.start()
        leader = ens.wait_serving(timeout=60)
        hosts = ",".join(m.hosts for m in ens.members)
        zk = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S,
                         connection_retry={"max_tries": -1, "delay": 0.05,
                                           "max_delay": 0.5})
        zk.add_listener(lambda s: states.append(s))
        zk.start(timeout=30)
        session_id = zk.client_id[0]
        zk.ensure_path("/load")
        load = Load(zk)
        load.start()
        time.sleep(1.0)

        order = [m for m in ens.members if m is not leader] + [leader]
        for m in order:
            before = len(load.acked)
            m.stop()
            m.kind = "paddock"
            m.start()
            ens.wait_serving(timeout=60)
            # the load goes on with this server replaced
            deadline = time.time() + 20
            while len(load.acked) < before + 20 and time.time() < deadline:
                time.sleep(0.05)
            assert len(load.acked) >= before + 20, (
                "writes stalled after replacing s%d" % m.sid)
            assert m.mode() in ("leader", "follower")
            # it started from what Apache left in dataDir
            with open(m.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
            assert re.search(r"recovered zxid 0x[1-9a-f][0-9a-f]*: ", text), (
                "s%d did not recover Apache's dataDir" % m.sid)
        assert [m.kind for m in ens.members] == ["paddock"] * 3

        load.stop_event.set()
        load.join(timeout=30)
        assert KazooState.LOST not in states, states
        assert zk.client_id[0] == session_id
        assert zk.exists("/load")
        zk.stop()
        zk.close()
        print("\n%d writes acknowledged, %d failed (connection loss)" % (
            len(load.acked), load.failed))
        for m in ens.members:
            missing = read_all(m, load.acked)
            assert not missing, "s%d lost %d acknowledged writes: %r" % (
                m.sid, len(missing), missing[:5])
    except BaseException:
        for m in ens.members:
            print("--- s%d (%s)\n%s" % (m.sid, m.kind, m.log_tail(150)))
        raise
    finally:
        ens.cleanup()
