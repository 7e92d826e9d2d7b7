"""Observers over real processes (issue #5): 3 Paddock participants and one
Paddock observer (`server.4=...:observer` in every server list, and
peerType=observer in the observer's own zoo.cfg; ZooKeeper takes the server
list when the two disagree).

What is checked, as ZooKeeper 3.8 behaves: the observer says `Mode: observer`
(srvr) and `zk_server_state observer` (mntr); it follows writes made through
the leader and a follower, forwards writes and new sessions sent to it; the
leader's mntr counts it as a learner and a synced observer, never as a synced
follower; it does not count for the quorum (two participants gone: nothing
is written anywhere and the observer stops serving, as an observer without a
leader does; one back: writes resume and the observer catches up); restarted
while writes go on, it catches up by DIFF and holds the same tree as the
others.

Every wait is bounded; only processes started here are stopped, by PID.
"""

import os
import shutil
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from zkensemble import Ensemble, close_client as close, print_logs as fail_logs, walk_tree
from zkutil import wait_until
from zkwire import RawClient, four_letter, raw_session

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

ROLES = ["participant"] * 3 + ["observer"]


def client(member, timeout=10.0, session_timeout=4.0):
    zk = KazooClient(hosts=member.hosts, timeout=session_timeout,
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
        close(zk)


def exists_synced(member, path):
    zk = client(member)
    try:
        zk.sync(path)
        return zk.exists(path) is not None
    finally:
        close(zk)


def mntr(member):
    out = four_letter(member.client_port, "mntr")
    kv = {}
    for line in out.splitlines():
        k, _, v = line.partition("\t")
        kv[k] = v
    return kv


def tree_of(member):
    """{path: (data, version, cversion, czxid, mzxid, pzxid, ephemeralOwner,
    numChildren)} outside /zookeeper, read after a sync."""
    zk = client(member)
    try:
        zk.sync("/")
        return {path: (data, st.version, st.cversion, st.czxid, st.mzxid,
                       st.pzxid, st.ephemeralOwner, st.numChildren)
                for path, data, st in walk_tree(zk)}
    finally:
        close(zk)


@pytest.fixture
def ens():
    e = Ensemble(["paddock"] * 4, roles=ROLES)
    e.start()
    try:
        yield e
    except BaseException:
        fail_logs(e)
        raise
    finally:
        e.cleanup()


def test_observer_follows_forwards_and_reports(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    follower = [m for m in ens.members[:3] if m is not leader][0]
    assert leader is not obs
    assert obs.mode() == "observer"
    assert mntr(obs)["zk_server_state"] == "observer"
    kv = mntr(obs)
    assert kv["zk_peer_state"] == "observing - broadcast"
    assert kv["zk_observer_master_id"] == str(leader.sid)

    # The leader counts the observer as a learner, not as a synced follower.
    kv = wait_until(lambda: (lambda k: k if k.get("zk_synced_observers") == "1"
                             else None)(mntr(leader)),
                    timeout=10, what="leader sees a synced observer")
    assert kv["zk_server_state"] == "leader"
    assert kv["zk_peer_state"] == "leading - broadcast"
    assert kv["zk_learners"] == "3"
    assert kv["zk_synced_followers"] == "2"
    assert kv["zk_synced_non_voting_followers"] == "0"
    assert kv["zk_quorum_size"] == "3"
    assert "zk_followers" not in kv
    assert "zk_synced_observers" not in mntr(follower)

    # Writes through the leader and a follower reach the observer.
    zk = client(leader)
    zk.create("/via-leader", b"L")
    close(zk)
    zk = client(follower)
    zk.create("/via-follower", b"F")
    close(zk)
    assert read_synced(obs, "/via-leader") == b"L"
    assert read_synced(obs, "/via-follower") == b"F"

    # A watch set on the observer fires on a write made elsewhere.
    zo = client(obs)
    fired = threading.Event()
    zo.get("/via-leader", watch=lambda ev: fired.set())
    zk = client(leader)
    zk.set("/via-leader", b"L2")
    close(zk)
    assert fired.wait(10), "watch on the observer did not fire"

    # Writes sent to the observer are forwarded; its session reads its own
    # writes at once.
    zo.create("/via-observer", b"O")
    zo.set("/via-observer", b"O2")
    assert zo.get("/via-observer")[0] == b"O2"
    t = zo.transaction()
    t.create("/via-observer/m", b"m")
    t.set_data("/via-observer", b"O3")
    assert not any(isinstance(r, Exception) for r in t.commit())
    seq = zo.create("/via-observer/s-", b"", sequence=True)
    assert seq == "/via-observer/s-0000000001"

    # A session and its ephemeral made through the observer live on the
    # leader; closing the session removes the ephemeral everywhere.
    zo.create("/eph", b"e", ephemeral=True)
    owner = zo.client_id[0]
    for m in ens.members:
        zk = client(m)
        zk.sync("/eph")
        st = zk.exists("/eph")
        close(zk)
        assert st is not None and st.ephemeralOwner == owner, m.sid
    assert (owner >> 56) == obs.sid
    close(zo)
    for m in ens.members:
        assert not exists_synced(m, "/eph"), m.sid
    for m in ens.members:
        assert read_synced(m, "/via-observer") == b"O3"

    # The leader's proposal sizes: set by the writes above, reset by srst.
    kv = mntr(leader)
    assert 0 < int(kv["zk_min_proposal_size"]) <= int(kv["zk_max_proposal_size"])
    assert int(kv["zk_last_proposal_size"]) > 0
    assert int(kv["zk_leader_uptime"]) > 0
    assert four_letter(leader.client_port, "srst") == "Server stats reset.\n"
    kv = mntr(leader)
    assert kv["zk_min_proposal_size"] == kv["zk_max_proposal_size"] == "-1"


def try_write(member, path, timeout=3.0):
    """True when a create through member succeeds within timeout."""
    zk = KazooClient(hosts=member.hosts, timeout=4.0,
                     connection_retry={"max_tries": 0})
    try:
        zk.start(timeout=timeout)
    except (KazooTimeoutError, KazooException, OSError):
        zk.close()
        return False
    try:
        zk.create_async(path, b"q").get(timeout=timeout)
        return True
    except Exception:
        return False
    finally:
        close(zk)


def test_observer_does_not_count_for_quorum(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    followers = [m for m in ens.members[:3] if m is not leader]
    zk = client(obs)
    zk.create("/before", b"1")
    close(zk)

    # Leader + observer are not a quorum: the leader steps down (syncLimit)
    # and the observer, without a leader, stops serving.
    t0 = time.time()
    for f in followers:
        f.kill9()
    wait_until(lambda: leader.mode() is None and obs.mode() is None,
               timeout=15, what="leader and observer stop serving")
    print("\nleader and observer stopped serving after %.0f ms"
          % ((time.time() - t0) * 1000))
    for m in (leader, obs):
        assert not try_write(m, "/during-%d" % m.sid), m.sid
    assert "not currently serving" in four_letter(obs.client_port, "srvr")

    # One participant back: a quorum again; the observer rejoins and serves.
    followers[0].start()
    live = [leader, followers[0], obs]
    ens.wait_serving(members=live, timeout=30)
    zk = client(obs)
    zk.create("/after", b"2")
    close(zk)
    for m in live:
        assert read_synced(m, "/before") == b"1"
        assert read_synced(m, "/after") == b"2"
        assert not exists_synced(m, "/during-%d" % leader.sid)
        assert not exists_synced(m, "/during-%d" % obs.sid)


def test_observer_restart_catches_up_by_diff(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    stop = threading.Event()
    written = []
    errors = []

    def writer():
        zk = client(leader)
        try:
            i = 0
            while not stop.is_set():
                zk.create("/load-%04d" % i, b"%d" % i)
                written.append(i)
                i += 1
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)
        finally:
            close(zk)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        wait_until(lambda: len(written) >= 20, timeout=20, what="writes")
        obs.kill9()
        n_down = len(written)
        wait_until(lambda: len(written) >= n_down + 30, timeout=20,
                   what="writes while the observer is down")
        obs.start()
        wait_until(lambda: obs.mode() == "observer", timeout=30,
                   what="observer serving again")
        n_up = len(written)
        wait_until(lambda: len(written) >= n_up + 20, timeout=20,
                   what="writes after the restart")
    finally:
        stop.set()
        t.join(timeout=20)
    assert not errors, errors
    with open(obs.log_path, "rb") as f:
        log = f.read().decode(errors="replace")
    assert "Getting a diff from the leader" in log
    assert "loaded the leader's database" not in log
    trees = {m.sid: tree_of(m) for m in ens.members}
    ref = trees[leader.sid]
    assert "/load-%04d" % written[-1] in ref
    for sid, tree in trees.items():
        assert tree == ref, "s%d differs from the leader" % sid


def test_observer_sessions_live_and_move(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    follower = [m for m in ens.members[:3] if m is not leader][0]

    # An idle session on the observer outlives its timeout many times: the
    # observer passes its clients' activity to the leader (PING replies).
    zo = KazooClient(hosts=obs.hosts, timeout=1.0)
    zo.start(timeout=10)
    assert zo._session_timeout <= 1000
    zo.create("/idle-eph", b"", ephemeral=True)
    time.sleep(4.0)
    st = None
    zk = client(leader)
    zk.sync("/idle-eph")
    st = zk.exists("/idle-eph")
    close(zk)
    assert st is not None and st.ephemeralOwner == zo.client_id[0]

    close(zo)
    for m in ens.members:
        assert not exists_synced(m, "/idle-eph"), m.sid

    # A session made on the observer moves to a follower and writes there,
    # then back (the learner tells the leader: REVALIDATE).
    c = raw_session(obs.client_port, timeout_ms=4000)
    sid, pw = c.session_id, c.passwd
    assert c.create("/moved", b"o", flags=1)[0] == 0     # ephemeral
    c.close()
    for m, data in ((follower, b"f"), (obs, b"o2")):
        c = RawClient(m.client_port)
        assert c.connect(session_id=sid, passwd=pw).session_id == sid
        assert c.set_data("/moved", data)[0] == 0
        assert c.get_data("/moved")[1][0] == data
        c.close()
    c = RawClient(leader.client_port)
    c.connect(session_id=sid, passwd=pw)
    assert c.close_session()[0] == 0
    c.close()
    for m in ens.members:
        assert not exists_synced(m, "/moved"), m.sid


def test_observer_follows_a_new_leader(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    zk = client(obs)
    zk.create("/before", b"1")
    close(zk)
    leader.kill9()
    rest = [m for m in ens.members if m is not leader]
    new_leader = ens.wait_serving(members=rest, timeout=30)
    assert new_leader is not obs
    wait_until(lambda: mntr(obs).get("zk_observer_master_id") ==
               str(new_leader.sid), timeout=20, what="observer follows")
    zk = client(obs)
    zk.create("/after", b"2")
    close(zk)
    for m in rest:
        assert read_synced(m, "/before") == b"1"
        assert read_synced(m, "/after") == b"2"


def test_observer_far_behind_gets_snap(ens):
    leader = ens.wait_serving(timeout=30)
    obs = ens.members[3]
    obs.kill9()
    zk = client(leader)
    zk.ensure_path("/bulk")
    for start in range(0, 650, 100):
        rs = [zk.create_async("/bulk/n%04d" % i, b"x")
              for i in range(start, min(650, start + 100))]
        for r in rs:
            r.get(timeout=20)
    close(zk)
    obs.start()
    ens.wait_serving(timeout=30)
    with open(obs.log_path, "rb") as f:
        assert b"loaded the leader's database" in f.read()
    trees = {m.sid: tree_of(m) for m in ens.members}
    assert "/bulk/n0649" in trees[obs.sid]
    for sid, t in trees.items():
        assert t == trees[leader.sid], "s%d differs" % sid


def test_server_list_decides_the_role():
    # QuorumPeerConfig.setupPeerType(): when peerType and the server list
    # disagree, the server list wins (with a warning).  s4 is an observer in
    # every server list but its zoo.cfg says nothing (participant); s1 says
    # peerType=observer but is a participant in the server list.
    ens = Ensemble(["paddock"] * 4, roles=ROLES,
                   member_cfg={1: "peerType=observer\n"})
    with open(ens.members[3].cfg_path) as f:
        text = f.read().replace("peerType=observer\n", "")
    with open(ens.members[3].cfg_path, "w") as f:
        f.write(text)
    try:
        ens.start()
        ens.wait_serving(timeout=30)
        assert ens.members[3].mode() == "observer"
        assert ens.members[0].mode() in ("leader", "follower")
        assert "using the server list" in ens.members[0].log_tail(200)
        assert "using the server list" in ens.members[3].log_tail(200)
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        ens.cleanup()


# ---------------------------------------------------------------------------
# Mixed: an Apache ZooKeeper 3.8 observer of a Paddock ensemble, and a
# Paddock observer of an Apache ensemble.

needs_java = pytest.mark.skipif(
    not shutil.which("java")
    or not os.path.exists("/usr/share/java/zookeeper.jar"),
    reason="needs java and Debian's zookeeper")


def observer_round(ens, obs, tag):
    """Writes through every member; the observer sees them all, forwards its
    own, and its session's ephemeral lives on every member."""
    for m in ens.members:
        zk = client(m, timeout=20)
        zk.create("/%s-s%d" % (tag, m.sid), b"%d" % m.sid)
        close(zk)
    zo = client(obs, timeout=20)
    zo.create("/%s-eph" % tag, b"e", ephemeral=True)
    owner = zo.client_id[0]
    zo.sync("/")
    for m in ens.members:
        assert zo.get("/%s-s%d" % (tag, m.sid))[0] == b"%d" % m.sid
    for m in ens.members:
        zk = client(m, timeout=20)
        zk.sync("/")
        st = zk.exists("/%s-eph" % tag)
        close(zk)
        assert st is not None and st.ephemeralOwner == owner, m.sid
    close(zo)
    for m in ens.members:
        assert not exists_synced(m, "/%s-eph" % tag), m.sid


@needs_java
def test_apache_observer_of_paddock_ensemble():
    ens = Ensemble(["paddock"] * 3 + ["zookeeper"], roles=ROLES)
    try:
        ens.start()
        leader = ens.wait_serving(timeout=60)
        obs = ens.members[3]
        kv = wait_until(lambda: (lambda k: k if k.get("zk_synced_observers")
                                 == "1" else None)(mntr(leader)),
                        timeout=20, what="leader sees the Apache observer")
        assert kv["zk_synced_followers"] == "2" and kv["zk_learners"] == "3"
        observer_round(ens, obs, "a")
        trees = {m.sid: tree_of(m) for m in ens.members}
        for sid, t in trees.items():
            assert t == trees[leader.sid], "s%d differs" % sid
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        ens.cleanup()


@needs_java
def test_paddock_observer_of_apache_ensemble():
    ens = Ensemble(["zookeeper"] * 3 + ["paddock"], roles=ROLES)
    try:
        ens.start()
        leader = ens.wait_serving(timeout=60)
        obs = ens.members[3]
        assert mntr(obs)["zk_observer_master_id"] == str(leader.sid)
        observer_round(ens, obs, "a")

        # Restarted after missing a few writes, it catches up by DIFF.
        obs.kill9()
        zk = client(leader, timeout=20)
        for i in range(10):
            zk.create("/missed-%d" % i, b"m")
        close(zk)
        obs.start()
        ens.wait_serving(timeout=30)
        observer_round(ens, obs, "b")
        with open(obs.log_path, "rb") as f:
            assert b"Getting a diff from the leader" in f.read()
        trees = {m.sid: tree_of(m) for m in ens.members}
        assert "/missed-9" in trees[obs.sid]
        for sid, t in trees.items():
            assert t == trees[leader.sid], "s%d differs" % sid
    except BaseException:
        fail_logs(ens)
        raise
    finally:
        ens.cleanup()
