"""A learner whose connection to the leader fails inside the same call that
opens it (issue #5, TODO: re-entrant step).

Server 1's zoo.cfg lists servers 2 and 3 at 224.0.0.1, a multicast address:
a TCP connect() to it fails at once with ENETUNREACH, without sending a
packet.  Servers 2 and 3 list everyone at 127.0.0.1, so their election
connections reach server 1 (the bigger sid keeps the connection) and server
1 learns who leads.  When server 1 decides to follow, the driver sends
FOLLOWERINFO while performing the Zab core's update, and opening the quorum
connection fails synchronously.

That failure is retried like one reported later (Learner.LeaderConnector:
5 tries, 100 ms apart); only then is the link reported down and server 1
elects again, about twice a second.  Before, the link was reported down at
once, from inside perform(): the core was stepped again while the update it
came from was still being performed (caught by the assertion in step()),
and the re-election ran in a tight loop, ~1000 times a second.

Server 1 must keep going without a sanitizer report, the other two serve
writes, and once server 1 restarts with the right addresses it catches up.
Every wait is bounded; only loopback; only processes started here are
stopped, by PID.  Needs PADDOCK_BIN.
"""

import os
import time

import pytest
from kazoo.client import KazooClient

from zkensemble import Ensemble, close_client as close, sanitizer_reports
from zkwire import four_letter

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

UNREACHABLE = "224.0.0.1"     # connect() fails at once: ENETUNREACH


def client(hosts, timeout=15.0):
    zk = KazooClient(hosts=hosts, timeout=6.0,
                     connection_retry={"max_tries": -1, "delay": 0.05,
                                       "max_delay": 0.3},
                     command_retry=None)
    zk.start(timeout=timeout)
    return zk


def wait_listening(m, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            four_letter(m.client_port, "srvr", timeout=1.0)
            return True
        except Exception:
            time.sleep(0.05)
    return False


def write_cfg(ens, m, hosts):
    lines = ["server.%d=%s:%d:%d;127.0.0.1:%d" % (
        o.sid, hosts.get(o.sid, "127.0.0.1"), o.quorum_port, o.election_port,
        o.client_port) for o in ens.members]
    with open(m.cfg_path, "w") as f:
        f.write("tickTime=200\ninitLimit=10\nsyncLimit=5\n")
        f.write("dataDir=%s\n" % m.data)
        f.write("4lw.commands.whitelist=*\nadmin.enableServer=false\n")
        f.write("\n".join(lines) + "\n")


def test_leader_connect_fails_synchronously():
    ens = Ensemble(["paddock"] * 3)
    s1 = ens.members[0]
    write_cfg(ens, s1, {2: UNREACHABLE, 3: UNREACHABLE})
    # Server 1 listens before the others dial it: it can never dial them,
    # and a leader or follower only answers notifications.
    s1.start()
    try:
        assert wait_listening(s1, 20.0), s1.log_tail()
        for m in ens.members[1:]:
            m.start()
        ens.wait_serving(members=ens.members[1:], timeout=30)
        zk = client(",".join(m.hosts for m in ens.members[1:]))
        zk.ensure_path("/d")
        for i in range(10):
            zk.create("/d/n-%d" % i, b"x")
        # Server 1 keeps trying to follow and failing at once.
        deadline = time.time() + 20
        fails = 0
        while time.time() < deadline:
            assert s1.proc.poll() is None, s1.log_tail()
            fails = s1.log_text().count("cannot connect to the leader")
            if fails >= 5:
                break
            time.sleep(0.2)
        assert fails >= 5, s1.log_tail()
        # Each round is 5 tries 100 ms apart: a few rounds a second at most.
        time.sleep(2.0)
        rounds = s1.log_text().count("cannot connect to the leader") - fails
        assert 1 <= rounds <= 12, (rounds, s1.log_tail())
        assert s1.proc.poll() is None, s1.log_tail()
        assert s1.mode() is None
        assert ens.wait_serving(members=ens.members[1:], timeout=10)
        zk.create("/d/while-s1-fails", b"x")
        close(zk)
        # Restarted with the right addresses, it joins and catches up.
        s1.stop()
        write_cfg(ens, s1, {})
        s1.start()
        ens.wait_serving(timeout=30)
        zk = client(s1.hosts)
        zk.sync("/d")
        assert len(zk.get_children("/d")) == 11
        close(zk)
        ens.stop()
        reports = sanitizer_reports(ens)
        assert not reports, reports
    finally:
        ens.cleanup()
