"""Ensemble options of ZooKeeper 3.8 over real Paddock processes (issue #5).

leaderServes=no (zookeeper.leaderServes): Leader.lead() then never hands the
connection factory its ZooKeeperServer, so the leader closes every client
connection at its ConnectRequest ("ZooKeeperServer not running") and srvr /
mntr answer "This ZooKeeper instance is not currently serving requests";
the followers serve, and so does a former leader once it follows.

electionPortBindRetry (zookeeper.electionPortBindRetry, default 3, 0 =
forever): QuorumCnxManager.Listener tries to bind the election port that
many times, a second apart; then the server exits with status 14
(ExitCode.UNABLE_TO_BIND_QUORUM_PORT).  Freed in time, the port is bound and
the server joins its ensemble.

Host names in server.N lines are resolved (a name /etc/hosts maps to
127.0.0.1, so that only loopback is used).

Every wait is bounded; only processes started here are stopped, by PID.
"""

import os
import socket
import time

import pytest
from kazoo.client import KazooClient

from zkensemble import Ensemble, close_client as close, print_logs as fail_logs
from zkutil import wait_until
from zkwire import RawClient, ConnectionClosed, four_letter

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

NOT_SERVING = "This ZooKeeper instance is not currently serving requests"


def client(member, timeout=10.0):
    zk = KazooClient(hosts=member.hosts, timeout=4.0,
                     connection_retry={"max_tries": 20, "delay": 0.05,
                                       "max_delay": 0.2})
    zk.start(timeout=timeout)
    return zk


def leader_without_clients(ens, members, timeout=30.0):
    """With leaderServes=no: waits until every member but one is a follower;
    the remaining one is then the (established) leader.  Returns it."""
    def find():
        modes = {m.sid: m.mode() for m in members}
        rest = [m for m in members if modes[m.sid] != "follower"]
        if len(rest) == 1 and modes[rest[0].sid] is None:
            return rest[0]
        return None
    return wait_until(find, timeout=timeout, what="followers serving")


def assert_no_session(member):
    """A ConnectRequest to member is answered by closing the connection."""
    c = RawClient(member.client_port, timeout=5.0)
    try:
        with pytest.raises(ConnectionClosed):
            c.connect()
    finally:
        c.close()


def test_leader_serves_no():
    ens = Ensemble(["paddock"] * 3, extra_cfg="leaderServes=no\n")
    ens.start()
    try:
        leader = leader_without_clients(ens, ens.members)
        assert "LEADING, phase 3" in leader.log_tail(200)
        followers = [m for m in ens.members if m is not leader]
        assert_no_session(leader)
        assert four_letter(leader.client_port, "srvr").strip() == NOT_SERVING
        assert four_letter(leader.client_port, "mntr").strip() == NOT_SERVING
        assert four_letter(leader.client_port, "ruok") == "imok"
        # Every 4lw that needs a running ZooKeeperServer says so (3.8).
        for w in ("stat", "cons", "conf", "dump", "wchs", "dirs", "srst"):
            assert four_letter(leader.client_port, w) == NOT_SERVING + "\n", w
        assert four_letter(leader.client_port, "isro") == "null"
        assert four_letter(leader.client_port, "hash") == NOT_SERVING
        assert four_letter(followers[0].client_port, "isro") == "rw"

        # The followers serve: writes through one are read on the other.
        zk = client(followers[0])
        zk.create("/a", b"1")
        zk.create("/e", b"", ephemeral=True)
        close(zk)
        zk = client(followers[1])
        zk.sync("/a")
        assert zk.get("/a")[0] == b"1"
        assert zk.exists("/e") is None   # the session's close went through
        close(zk)

        # The leader goes: the new one stops serving, the old one, back as
        # a follower, serves.
        leader.kill9()
        new_leader = leader_without_clients(ens, followers)
        assert_no_session(new_leader)
        leader.start()
        again = leader_without_clients(ens, ens.members)
        assert again is new_leader
        zk = client(leader)
        zk.sync("/a")
        assert zk.get("/a")[0] == b"1"
        close(zk)
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        ens.cleanup()


def occupy(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    return s


def test_election_port_bind_retry_gives_up():
    ens = Ensemble(["paddock"] * 3, member_cfg={1: "electionPortBindRetry=2\n"})
    m = ens.members[0]
    blocker = occupy(m.election_port)
    try:
        t0 = time.time()
        m.start()
        rc = m.proc.wait(timeout=20)
        took = time.time() - t0
        log = m.log_tail(60)
        print("\nexited with %d after %.1f s" % (rc, took))
        assert rc == 14, log
        assert log.count("cannot listen on election port") == 2, log
        assert "after 2 tries (electionPortBindRetry=2" in log, log
        assert 1.8 < took < 15, (took, log)
        assert "AddressSanitizer" not in log and "runtime error" not in log
    finally:
        blocker.close()
        ens.cleanup()


def test_election_port_bind_retry_port_freed_in_time():
    # Default retries (3): the port is freed after the first failed try;
    # the next one binds and the member joins the ensemble.
    ens = Ensemble(["paddock"] * 3)
    m = ens.members[0]
    blocker = occupy(m.election_port)
    try:
        m.start()
        wait_until(lambda: "cannot listen on election port" in m.log_tail(60),
                   timeout=10, what="a failed bind")
        assert "Election port bind maximum retries is 3" in m.log_tail(60)
        blocker.close()
        for other in ens.members[1:]:
            other.start()
        ens.wait_serving(timeout=30)
        assert m.proc.poll() is None
        zk = client(m)
        zk.create("/x", b"1")
        close(zk)
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        blocker.close()
        ens.cleanup()


def test_election_port_bind_retry_zero_is_forever():
    ens = Ensemble(["paddock"] * 3, member_cfg={1: "electionPortBindRetry=0\n"})
    m = ens.members[0]
    blocker = occupy(m.election_port)
    try:
        m.start()
        wait_until(lambda: m.log_tail(60).count(
            "cannot listen on election port") >= 5, timeout=15,
            what="five failed binds")
        assert m.proc.poll() is None
        assert "maximum retries is infinite" in m.log_tail(200)
        blocker.close()
        for other in ens.members[1:]:
            other.start()
        ens.wait_serving(timeout=30)
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        blocker.close()
        ens.cleanup()


def loopback_name():
    """A host name other than localhost that resolves to 127.0.0.1 only."""
    names = [socket.gethostname()]
    try:
        with open("/etc/hosts") as f:
            for line in f:
                parts = line.split("#")[0].split()
                if parts and parts[0] == "127.0.0.1":
                    names += parts[1:]
    except OSError:
        pass
    for n in names:
        if n in ("localhost", "localhost.localdomain") or not n:
            continue
        try:
            addrs = {a[4][0] for a in socket.getaddrinfo(n, None)}
        except OSError:
            continue
        if addrs == {"127.0.0.1"}:
            return n
    return None


def test_host_names_in_server_lines():
    name = loopback_name()
    if name is None:
        pytest.skip("no host name other than localhost resolves to 127.0.0.1")
    ens = Ensemble(["paddock"] * 3, host=name)
    ens.start()
    try:
        leader = ens.wait_serving(timeout=30)
        with open(leader.cfg_path) as f:
            assert "server.1=%s:" % name in f.read()
        zk = client(leader)
        zk.create("/named", b"n")
        close(zk)
        for m in ens.members:
            zk = client(m)
            zk.sync("/named")
            assert zk.get("/named")[0] == b"n"
            close(zk)
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        ens.cleanup()


def test_unresolvable_own_host_name_fails_clearly():
    ens = Ensemble(["paddock"] * 3, host="no-such-host.invalid")
    m = ens.members[0]
    try:
        m.start()
        rc = m.proc.wait(timeout=20)
        log = m.log_tail(40)
        assert rc != 0, log
        assert "no-such-host.invalid" in log, log
        assert "AddressSanitizer" not in log and "runtime error" not in log
    finally:
        ens.cleanup()
