"""5-server Paddock ensembles on 127.0.0.1 under partitions and kill -9
(issue #5: "a minority partition accepting no writes while the majority
continues").  The peer links cross the fault-injecting proxy of netproxy.py;
the helpers (Writer, check_writers, assert_same_tree, try_write) are those of
test_ensemble_faults.py.  tickTime 200, syncLimit 5 (1 s).  Every wait is
bounded; only processes started here are signalled, by PID.  Needs
PADDOCK_BIN.

Each test prints its timings (run pytest with -s to see them).
"""

import os
import time

import pytest
from kazoo.client import KazooClient

from netproxy import ProxiedEnsemble
from test_ensemble_faults import (SYNC_LIMIT, TICK, Writer, assert_same_tree,
                                  check_writers, client, close, setup_base,
                                  try_write, wait_until)

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")

SYNC_S = SYNC_LIMIT * TICK / 1000.0
# A write acknowledged this long after a cut may still have had its quorum
# of ACKs in a socket buffer when the proxy stopped forwarding.
IN_FLIGHT_S = 0.3
SERVING = ("leader", "follower")


class _Acks(list):
    """Writer.created that also records when each create was acknowledged."""

    def __init__(self):
        super().__init__()
        self.times = []

    def append(self, p):
        self.times.append(time.time())
        super().append(p)

    def between(self, t0, t1):
        return [p for p, t in zip(self, self.times) if t0 <= t <= t1]


def timed_writer(member, tag):
    w = Writer(member.hosts, tag)
    w.created = _Acks()
    return w


def max_gap(times, t0, t1):
    """The longest stretch of [t0, t1] without an acknowledgement."""
    pts = [t0] + sorted(t for t in times if t0 <= t <= t1) + [t1]
    return max(b - a for a, b in zip(pts, pts[1:]))


def log_size(m):
    try:
        return os.path.getsize(m.log_path)
    except OSError:
        return 0


def log_since(m, offset):
    with open(m.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def not_serving(members):
    return all(m.mode() not in SERVING for m in members)


@pytest.fixture
def ens5():
    e = ProxiedEnsemble(["paddock"] * 5, tick=TICK, sync_limit=SYNC_LIMIT)
    e.start()
    try:
        yield e
    finally:
        e.cleanup()


def start_base(ens):
    leader = ens.wait_serving(timeout=30)
    setup_base(leader)
    zk = client(leader.hosts)
    zk.create("/t/ctr", b"")
    close(zk)
    return leader


def finish(writers):
    for w in writers:
        w.finish()


# ------------------------------------------------------------ partitions


def test_minority_with_leader_accepts_no_writes(ens5):
    """Leader + one follower cut off from the other three (the two still
    talk to each other): the minority stops serving within syncLimit and
    acknowledges nothing, the three elect a leader and keep acknowledging
    writes; after the heal all five hold every acknowledged write."""
    leader = start_base(ens5)
    fol = [m for m in ens5.members if m is not leader]
    minority = [leader, fol[0]]
    majority = fol[1:]
    w_old = timed_writer(leader, "old")
    w_min = timed_writer(fol[0], "min")
    w_maj = [timed_writer(majority[0], "maja"),
             timed_writer(majority[1], "majb")]
    writers = [w_old, w_min] + w_maj
    for w in writers:
        w.t.start()
    try:
        assert wait_until(lambda: all(len(w.created) >= 3 for w in writers),
                          10.0), "writes did not start on every server"

        ens5.net.partition([m.sid for m in minority],
                           [m.sid for m in majority])
        t_cut = time.time()
        assert wait_until(lambda: not_serving(minority), SYNC_S + 2.0), \
            "minority still serving %.1f s after the cut: %r" % (
                SYNC_S + 2.0, ens5.modes())
        t_down = time.time() - t_cut
        new = ens5.wait_serving(members=majority, timeout=15)
        t_new = time.time() - t_cut
        n = sum(len(w.created) for w in w_maj)
        assert wait_until(lambda: sum(len(w.created) for w in w_maj) > n + 10,
                          10.0), "writes did not resume on the majority"
        # A fresh client on the minority gets no write through either.
        zk = KazooClient(hosts=",".join(m.hosts for m in minority),
                         timeout=4.0, command_retry=None)
        try:
            zk.start(timeout=1.5)
            assert try_write(zk, "/t/min-fresh", timeout=1.5) != "ok"
        except AssertionError:
            raise
        except Exception:
            pass                      # not even a session: fine
        finally:
            close(zk)
        time.sleep(1.0)
        assert not_serving(minority), ens5.modes()
        t_heal = time.time()
        late = w_old.created.between(t_cut + IN_FLIGHT_S, t_heal) + \
            w_min.created.between(t_cut + IN_FLIGHT_S, t_heal)
        assert not late, "acknowledged by the minority while cut off: %r" % late
        maj_during = sum(len(w.created.between(t_cut, t_heal)) for w in w_maj)
        print("\nminority s%d+s%d stopped serving after %.0f ms; new leader "
              "s%d after %.0f ms; %d creates acknowledged by the majority "
              "during the cut, 0 by the minority" % (
                  leader.sid, fol[0].sid, t_down * 1000, new.sid,
                  t_new * 1000, maj_during))

        ens5.heal()
        assert ens5.wait_serving(timeout=20) is new
        # Writes go through the old minority again.
        n_old, n_min = len(w_old.created), len(w_min.created)
        assert wait_until(lambda: len(w_old.created) > n_old and
                          len(w_min.created) > n_min, 15.0), \
            "the healed servers take no writes"
    finally:
        finish(writers)
    tree = assert_same_tree(ens5)
    check_writers(tree, writers)
    assert "min-fresh" not in tree


def test_minority_of_two_followers(ens5):
    """Two followers cut off from the leader and the two others: the leader
    keeps its quorum and acknowledges writes without a gap; the two stop
    serving, then catch up by DIFF after the heal."""
    leader = start_base(ens5)
    fol = [m for m in ens5.members if m is not leader]
    iso, rest = fol[:2], fol[2:]
    w_lead = timed_writer(leader, "lead")
    w_iso = timed_writer(iso[0], "iso")
    w_rest = timed_writer(rest[0], "rest")
    writers = [w_lead, w_iso, w_rest]
    for w in writers:
        w.t.start()
    try:
        assert wait_until(lambda: all(len(w.created) >= 3 for w in writers),
                          10.0), "writes did not start on every server"

        ens5.net.partition([m.sid for m in iso],
                           [leader.sid] + [m.sid for m in rest])
        t_cut = time.time()
        assert wait_until(lambda: not_serving(iso), SYNC_S + 2.0), \
            "isolated followers still serving: %r" % ens5.modes()
        t_down = time.time() - t_cut
        time.sleep(1.5)
        t_end = time.time()
        assert ens5.wait_serving(members=[leader] + rest, timeout=1) is leader
        gap = max_gap(w_lead.created.times, t_cut - 0.5, t_end)
        n_during = len(w_lead.created.between(t_cut, t_end))
        late = w_iso.created.between(t_cut + IN_FLIGHT_S, t_end)
        assert not late, "acknowledged by a cut-off follower: %r" % late
        assert not_serving(iso), ens5.modes()
        print("\nfollowers s%d+s%d stopped serving after %.0f ms; through the "
              "leader s%d: %d creates during the cut, longest gap %.0f ms" % (
                  iso[0].sid, iso[1].sid, t_down * 1000, leader.sid,
                  n_during, gap * 1000))
        assert gap < 1.0, "writes through the leader stalled %.2f s" % gap

        offsets = {m.sid: log_size(m) for m in iso}
        ens5.heal()
        assert ens5.wait_serving(timeout=20) is leader
        for m in iso:
            text = log_since(m, offsets[m.sid])
            assert "Getting a diff from the leader" in text, \
                "s%d did not sync by DIFF:\n%s" % (m.sid, text[-3000:])
        n_iso = len(w_iso.created)
        assert wait_until(lambda: len(w_iso.created) > n_iso, 15.0), \
            "the healed follower takes no writes"
    finally:
        finish(writers)
    tree = assert_same_tree(ens5)
    check_writers(tree, writers)


# ---------------------------------------------------------------- kill -9


def test_kill_leader_under_write_load(ens5):
    """kill -9 of the leader while four writers (one per follower) run: the
    four elect a new leader and writes resume; prints kill-to-first-write.
    The killed server restarts and all five agree."""
    leader = start_base(ens5)
    fol = [m for m in ens5.members if m is not leader]
    writers = [timed_writer(m, "w%d" % m.sid) for m in fol]
    for w in writers:
        w.t.start()
    try:
        assert wait_until(lambda: all(len(w.created) >= 3 for w in writers),
                          10.0), "writes did not start on every follower"
        # Probes: a create through a survivor every 50 ms from the kill on,
        # each timed when its reply arrives; the first "ok" is the figure (a
        # create sent before the kill may be a commit already on its way).
        zk = client(",".join(m.hosts for m in fol))
        firsts = []

        def probe_done(res):
            if res.exception is None:
                firsts.append(time.time())

        leader.kill9()
        t_kill = time.time()
        try:
            i = 0
            while not firsts and time.time() < t_kill + 20:
                try:
                    zk.create_async("/t/probe-%d" % i).rawlink(probe_done)
                except Exception:
                    pass
                i += 1
                time.sleep(0.05)
            new = ens5.wait_serving(members=fol, timeout=20)
        finally:
            close(zk)
        assert firsts, "no write acknowledged 20 s after the kill"
        t_first = min(firsts)
        n = sum(len(w.created) for w in writers)
        assert wait_until(lambda: sum(len(w.created) for w in writers) > n + 10,
                          10.0), "writers did not resume"
        resumed = min((t for w in writers for t in w.created.times
                       if t > t_kill + IN_FLIGHT_S), default=None)
        print("\nkill -9 of leader s%d: new leader s%d; first acknowledged write through a survivor after %.0f ms "
              "(%d probes sent); writers' first ack after %s" % (
                  leader.sid, new.sid, (t_first - t_kill) * 1000, i,
                  "%.0f ms" % ((resumed - t_kill) * 1000) if resumed
                  else "?"))

        leader.start()
        assert ens5.wait_serving(timeout=20) is new
    finally:
        finish(writers)
    tree = assert_same_tree(ens5)
    check_writers(tree, writers)
