"""A follower whose disk stops answering (issue #5): it goes on answering the
leader's PINGs, so it is never silent, but it ACKs no PROPOSAL.  The leader
drops it after syncLimit ticks, as ZooKeeper's LearnerHandler.syncLimitCheck
does ("transaction timeout"), keeps committing with the other follower, and
the follower rejoins and catches up once its disk answers again.

Test builds only (the ASan server ctest runs): while the file that
PADDOCK_TEST_STORAGE_STALL_FILE names exists, the server's storage thread
holds its batches.  Every wait is bounded; only processes started here are
stopped, by PID.
"""

import os
import time

import pytest

from test_ensemble_snap import client, tree_of
from zkensemble import Ensemble, print_logs, wait_until

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")


def test_follower_with_a_stalled_disk_is_dropped_and_rejoins(tmp_path, monkeypatch):
    stall = tmp_path / "stall"
    e = Ensemble(["paddock"] * 3)
    e.start()
    try:
        leader = e.wait_serving(timeout=20)
        f = [m for m in e.members if m is not leader][0]
        # Only f has the knob: restart it with the variable set.
        f.stop()
        monkeypatch.setenv("PADDOCK_TEST_STORAGE_STALL_FILE", str(stall))
        f.start()
        monkeypatch.delenv("PADDOCK_TEST_STORAGE_STALL_FILE")
        assert e.wait_serving(timeout=30) is leader
        zk = client(leader)
        zk.create("/s", b"")
        stall.write_text("")
        t0 = time.time()
        for i in range(10):
            zk.create("/s/n%d" % i, b"x")  # committed by the leader and the other
        why = "quorum connection with server %d closed: transaction timeout" % f.sid
        assert wait_until(lambda: why in leader.log_text(), 15), \
            "the leader kept a follower that ACKs nothing"
        took = time.time() - t0
        # It answered PINGs all along: not dropped as silent.
        assert "server %d closed: learner silent" % f.sid not in leader.log_text()
        print("\ndropped %.1f s after its disk stalled (syncLimit: 1 s)" % took)
        for i in range(10, 20):
            zk.create("/s/n%d" % i, b"x")
        stall.unlink()
        e.wait_serving(timeout=30)
        want = tree_of(leader)
        assert "/s/n19" in want
        assert wait_until(lambda: tree_of(f) == want, 20)
        zk.stop()
        zk.close()
    except BaseException:
        print_logs(e)
        raise
    finally:
        if stall.exists():
            stall.unlink()
        e.cleanup()
