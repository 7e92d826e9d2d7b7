"""zoo.cfg settings that clients can observe: maxClientCnxns (per client IP)
and explicit minSessionTimeout/maxSessionTimeout.

ZooKeeper 3.8.0 behaviour pinned here:
  * a connection beyond maxClientCnxns from one IP is closed at once,
    before any reply (four-letter words included); closing a connection
    frees a slot;
  * minSessionTimeout/maxSessionTimeout override the 2*tickTime/20*tickTime
    defaults, and requested timeouts are clamped into that range.
"""

import pytest

from zkserver import ServerProcess
from zkutil import wait_until
from zkwire import ConnectionClosed, RawClient, four_letter


@pytest.fixture(scope="module")
def limited():
    s = ServerProcess(extra_cfg={"maxClientCnxns": "3",
                                 "minSessionTimeout": "2000",
                                 "maxSessionTimeout": "3000"},
                      name="config-limits")
    s.start()
    yield s
    s.cleanup()


def test_session_timeout_bounds(limited):
    for asked, got in [(100, 2000), (2500, 2500), (100000, 3000)]:
        c = RawClient(limited.port)
        try:
            assert c.connect(timeout_ms=asked).timeout == got
            c.close_session()
        finally:
            c.close()
    conf = four_letter(limited.port, "conf")
    assert "minSessionTimeout=2000" in conf.split("\n")
    assert "maxSessionTimeout=3000" in conf.split("\n")


def test_max_client_connections(limited):
    held = []
    try:
        for _ in range(3):
            c = RawClient(limited.port)
            held.append(c)
            assert c.connect(timeout_ms=3000).timeout == 3000
        extra = RawClient(limited.port)
        with pytest.raises(ConnectionClosed):
            extra.connect()
        extra.close()
        assert four_letter(limited.port, "ruok") == ""
        first = held.pop(0)
        first.close_session()
        first.close()

        def slot_free():
            c = RawClient(limited.port)
            try:
                return c.connect(timeout_ms=3000).timeout == 3000
            except ConnectionClosed:
                return False
            finally:
                c.close()
        wait_until(slot_free, 10, what="a connection slot to free up")
    finally:
        for c in held:
            try:
                c.close_session()
            except Exception:
                pass
            c.close()
