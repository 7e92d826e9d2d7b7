"""A bounded fault run with a checker (issue #5): six kazoo clients (three
pinned to one server each, three roaming) create, read and compare-and-set
four znodes on a 3-server Paddock ensemble while a nemesis kills (-9),
pauses (SIGSTOP/SIGCONT), isolates, splits, one-way-cuts and resets the
peer links of servers, one fault at a time.  After healing every server
must hold the same values, each key's history must be linearizable against
a register/CAS model (linearize.py), no acknowledged write may be lost and
no read may return a value nobody wrote or go back in time for a client.

The seed is printed; replay with PADDOCK_LIN_SEED=<seed>.  Length:
PADDOCK_LIN_SECONDS (default 30).  Longer runs by hand: linearize.py.
"""

import os
import random

import pytest

import linearize
from netproxy import ProxiedEnsemble

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")


def test_fault_run_is_linearizable_and_loses_nothing():
    seed = int(os.environ.get("PADDOCK_LIN_SEED") or
               random.randrange(1 << 30))
    seconds = float(os.environ.get("PADDOCK_LIN_SECONDS", "30"))
    print("\nPADDOCK_LIN_SEED=%d" % seed)
    ens = ProxiedEnsemble(["paddock"] * 3, tick=200, sync_limit=5)
    ens.start()
    try:
        ens.wait_serving(timeout=20)
        res = linearize.run(ens, seed, seconds, n_clients=6, n_keys=4,
                            max_ops_per_key=150)
    finally:
        ens.cleanup()
    report = linearize.summary(res)
    print(report)
    assert not res["diverged"], report
    bad = {k: v for k, v in res["verdicts"].items() if v.ok is not True}
    assert not bad, "PADDOCK_LIN_SEED=%d\n%s" % (seed, report)
    assert not res["lost"], report
    assert not res["read_problems"], report
    # The run did something: writes were acknowledged and faults injected.
    assert res["acked_writes"] > 20, report
    assert sum(res["nemesis_counts"].values()) >= 3, report
