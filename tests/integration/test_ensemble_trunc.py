"""TRUNC sync over real processes (issue #5): a server that holds logged but
uncommitted txns rejoins and the leader truncates its log.

How a Paddock server comes to hold such txns: the leader is cut off from its
followers (netproxy.py) while a client keeps writing to it; it logs each
write as a proposal that no follower ever sees, then steps down after
syncLimit.  The other two elect a new leader.  When the old leader rejoins,
its last zxid is above everything the new leader has logged, so the new
leader sends TRUNC to its own last committed zxid (LearnerHandler.
syncFollower: peerLastZxid > maxCommittedLog).

Zab allows TRUNC only while the new leader has committed nothing in its
epoch: once it has, the first txn after the old leader's zxid is of another
epoch, and a TRUNC may not cross an epoch boundary (queueCommittedProposals
falls back to SNAP; test_ensemble_faults.py covers that case).  So the
majority here writes nothing (and no client makes a session there, which
would be a txn) until the old leader is back; the writes come after.

Two ways back:
  - heal: the old leader never restarted; as a leader it applied only
    committed txns, so its tree stands at the truncation point already;
  - kill -9 and restart: start-up replays the whole log into the tree,
    uncommitted txns included (as ZooKeeper's loadDataBase does), so TRUNC
    goes below what the tree applied and the tree is reloaded from the
    truncated log in place.
Either way its tree ends identical to the others' and none of the writes it
never acknowledged exist anywhere.

tickTime 200, syncLimit 5 (1 s); sessions may last 30 s so that the
writer's session does not expire on the new leader (a closeSession txn)
before the old leader is back.  Every wait is bounded; only processes
started here are signalled, by PID.  Needs PADDOCK_BIN.
"""

import glob
import json
import os
import signal
import subprocess
import time

import pytest
from kazoo.client import KazooClient

from netproxy import ProxiedEnsemble
from zkensemble import sanitizer_reports
from test_ensemble_faults import assert_same_tree, close, wait_until
from zkwire import four_letter

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

TICK = 200
SYNC_LIMIT = 5
N_UNACKED = 20


def client(hosts, timeout=10.0, session=4.0):
    zk = KazooClient(hosts=hosts, timeout=session,
                     connection_retry={"max_tries": -1, "delay": 0.05,
                                       "max_delay": 0.2},
                     command_retry=None)
    zk.start(timeout=timeout)
    return zk


def srvr_zxid(member):
    out = four_letter(member.client_port, "srvr", timeout=2.0)
    if isinstance(out, bytes):
        out = out.decode(errors="replace")
    for line in out.splitlines():
        if line.startswith("Zxid: "):
            return int(line[len("Zxid: "):], 16)
    raise AssertionError("no Zxid in srvr: %r" % out)


def logged_creates(member):
    """{zxid: path} of every create in member's txn log files (paddock log,
    read only)."""
    out = {}
    for f in sorted(glob.glob(os.path.join(member.data, "version-2",
                                           "log.*"))):
        res = subprocess.run([os.environ["PADDOCK_BIN"], "log", f, "--json"],
                             capture_output=True, timeout=30)
        doc = json.loads(res.stdout.decode())
        for r in doc["records"]:
            if r.get("typeName") == "create":
                out[int(r["zxid"], 16)] = r["path"]
    return out


@pytest.fixture
def ens3():
    e = ProxiedEnsemble(["paddock"] * 3, tick=TICK, sync_limit=SYNC_LIMIT,
                        extra_cfg="maxSessionTimeout=30000\n")
    e.start()
    try:
        yield e
        e.stop()
        reports = sanitizer_reports(e)
        assert not reports, reports
    finally:
        e.cleanup()


def cut_off_leader_with_unacked_writes(ens):
    """Commits /t/c-*, then isolates the leader and writes /t/u-* through it.
    Returns (old leader, the other two, new leader, its last zxid, the
    writer's client)."""
    leader = ens.wait_serving(timeout=20)
    zk = client(leader.hosts)
    zk.ensure_path("/t")
    for i in range(5):
        zk.create("/t/c-%d" % i, b"c")
    close(zk)
    others = [m for m in ens.members if m is not leader]
    zk_old = client(leader.hosts, session=20.0)

    ens.isolate(leader.sid)
    # Sent at once: the old leader logs each as a proposal before syncLimit
    # runs out; no follower sees them, so none may be acknowledged.
    pending = [zk_old.create_async("/t/u-%d" % i, b"u")
               for i in range(N_UNACKED)]
    acked = []
    for i, r in enumerate(pending):
        try:
            r.get(timeout=5.0)
            acked.append(i)
        except Exception:
            pass
    assert not acked, "writes acknowledged by an isolated leader: %r" % acked
    assert wait_until(lambda: leader.mode() != "leader", 5.0), \
        "isolated leader still leading"
    new = ens.wait_serving(members=others, timeout=15)
    new_zxid = srvr_zxid(new)
    unacked = {z: p for z, p in logged_creates(leader).items()
               if p.startswith("/t/u-")}
    assert unacked, "the isolated leader logged none of the writes"
    assert min(unacked) > new_zxid
    assert new_zxid >> 32 == min(unacked) >> 32, \
        "the new leader applied a txn of its own epoch already"
    return leader, others, new, new_zxid, zk_old, unacked


def check_rejoined(ens, leader, new, new_zxid, zk_old):
    assert ens.wait_serving(timeout=20) is new
    assert wait_until(lambda: leader.mode() == "follower", 10.0)
    text = leader.log_text()
    assert "sync: TRUNC to 0x%x" % new_zxid in text, leader.log_tail()
    assert "sync: server %d by TRUNC to 0x%x" % (leader.sid, new_zxid) \
        in new.log_text()
    assert "fatal" not in text.lower()
    # The truncated log holds none of the unacknowledged writes any more.
    assert not [p for p in logged_creates(leader).values()
                if p.startswith("/t/u-")]
    close(zk_old)
    # Writes resume, through the rejoined server too.
    zk = client(leader.hosts)
    for i in range(5):
        zk.create("/t/after-%d" % i, b"a")
    close(zk)
    tree = assert_same_tree(ens)
    assert sorted(tree) == sorted(["c-%d" % i for i in range(5)] +
                                  ["after-%d" % i for i in range(5)]), tree
    return tree


def test_isolated_leader_heals_and_is_truncated(ens3):
    t0 = time.time()
    leader, others, new, new_zxid, zk_old, unacked = \
        cut_off_leader_with_unacked_writes(ens3)
    ens3.heal()
    check_rejoined(ens3, leader, new, new_zxid, zk_old)
    print("\n%d unacknowledged txns truncated (0x%x..0x%x) in %.1f s"
          % (len(unacked), min(unacked), max(unacked), time.time() - t0))


def test_restarted_leader_truncated_below_its_tree(ens3):
    t0 = time.time()
    leader, others, new, new_zxid, zk_old, unacked = \
        cut_off_leader_with_unacked_writes(ens3)
    leader.kill9()
    ens3.heal()
    leader.start()
    check_rejoined(ens3, leader, new, new_zxid, zk_old)
    text = leader.log_text()
    # Start-up replayed the uncommitted txns into the tree ...
    assert "recovered zxid 0x%x" % max(unacked) in text, text[-3000:]
    # ... and the TRUNC reloaded it in place instead of stopping.
    assert "reloaded the tree" in text, text[-3000:]
    assert leader.proc.poll() is None
    print("\nrestarted server truncated from 0x%x to 0x%x in %.1f s"
          % (max(unacked), new_zxid, time.time() - t0))


def test_snapshot_past_the_cut_is_dropped(ens3):
    """The restarted old leader takes a snapshot (SIGUSR1) while still cut
    off: its tree holds the uncommitted txns it replayed, so the snapshot is
    named past the truncation point and holds them. Recovery loads the
    newest snapshot, so the TRUNC must remove it: before, the reload after
    TRUNC found it, refused it and stopped the server, and a restart then
    loaded those txns again (stopping again at the next TRUNC)."""
    leader, others, new, new_zxid, zk_old, unacked = \
        cut_off_leader_with_unacked_writes(ens3)
    leader.kill9()
    leader.start()  # still cut off from the others
    assert wait_until(lambda: "recovered zxid 0x%x" % max(unacked)
                      in leader.log_text(), 20.0), leader.log_tail()
    # SIGUSR1 only once the server handles it (the line after its handlers are set).
    assert wait_until(lambda: leader.log_text().count(" in an ensemble, tickTime")
                      >= 2, 20.0), leader.log_tail()
    os.kill(leader.proc.pid, signal.SIGUSR1)
    dirty = os.path.join(leader.data, "version-2", "snapshot.%x" % max(unacked))
    assert wait_until(lambda: os.path.exists(dirty), 20.0), leader.log_tail()
    ens3.heal()
    check_rejoined(ens3, leader, new, new_zxid, zk_old)
    assert "reloaded the tree" in leader.log_text()
    assert not os.path.exists(dirty)
    assert "removed 1 snapshot(s) past 0x%x" % new_zxid in leader.log_text()
    # Restarted once more, it loads nothing it never had committed.
    leader.kill9()
    leader.start()
    assert wait_until(lambda: leader.mode() == "follower", 20.0), \
        leader.log_tail()
    assert leader.proc.poll() is None
    assert "fatal" not in leader.log_text().lower()
    tree = assert_same_tree(ens3)
    assert not [c for c in tree if c.startswith("u-")], tree
