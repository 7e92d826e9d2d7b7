"""Fixtures for the integration tests.

Which server the tests run against:
  PADDOCK_TEST_TARGET=zookeeper|paddock   (default: paddock if PADDOCK_BIN is
                                           set, otherwise Apache ZooKeeper)
  PADDOCK_BIN=/path/to/paddock            (runs `$PADDOCK_BIN server zoo.cfg`)
  PADDOCK_TEST_KEEP=1                     keep the temp dirs (logs, data)

Fixtures:
  server         one server per test module (state is shared between the
                 module's tests, so each test works under its own `base` path)
  fresh_server   a server of its own for one test (where global state matters)
  zk             a connected kazoo client on `server`
  kazoo_factory  make more kazoo clients: kazoo_factory(hosts=..., **kwargs)
  raw_factory    make RawClient sessions: raw_factory(handshake=True, ...)
  base           a fresh znode path for this test on `server`, e.g. /test_foo

Every test is bounded by an alarm (TEST_TIMEOUT seconds) and every network
call goes to 127.0.0.1.  The helpers for raw protocol access (jute framing,
ConnectRequest, four-letter words) are in zkwire.py; server processes are
managed by zkserver.py.
"""

import os
import re
import signal
import sys
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kazoo.client import KazooClient  # noqa: E402

from zkserver import ServerProcess, default_target  # noqa: E402
from zkwire import RawClient  # noqa: E402

TEST_TIMEOUT = 120

TARGET = default_target()


def pytest_report_header(config):
    what = TARGET
    if TARGET == "paddock":
        what += " (%s)" % os.environ.get("PADDOCK_BIN")
    return "integration target: " + what


# --------------------------------------------------------------------------
# per-test alarm: nothing may hang the suite


class TestTimeout(Exception):
    pass


@pytest.fixture(autouse=True)
def _bounded(request):
    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded %ds" % TEST_TIMEOUT)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------
# servers


def _module_name(request):
    return re.sub(r"[^A-Za-z0-9]+", "-", request.module.__name__)[-40:]


@pytest.fixture(scope="module")
def server(request):
    s = ServerProcess(TARGET, name=_module_name(request))
    s.start()
    yield s
    died = s.proc is not None and s.proc.poll() is not None
    tail = s.log_tail() if died else ""
    s.cleanup()
    if died:
        pytest.fail("server process died during the module:\n" + tail)


@pytest.fixture(autouse=True)
def _server_alive(request):
    """After each test that used the module server, check it still runs: a
    crash must fail the test that caused it, with the server's log."""
    yield
    if "server" in request.fixturenames:
        s = request.getfixturevalue("server")
        if s.proc is not None and s.proc.poll() is not None:
            tail = s.log_tail()
            s.start()  # give the rest of the module a server again
            pytest.fail("server died (exit %s) during this test:\n%s"
                        % (s.proc and s.proc.returncode, tail))


@pytest.fixture
def fresh_server(request):
    s = ServerProcess(TARGET, name=request.node.name[:40])
    s.start()
    yield s
    died = s.proc is not None and s.proc.poll() is not None
    tail = s.log_tail() if died else ""
    s.cleanup()
    if died:
        pytest.fail("server process died during the test:\n" + tail)


# --------------------------------------------------------------------------
# clients


def _kazoo(hosts, **kw):
    kw.setdefault("timeout", 5.0)
    c = KazooClient(hosts=hosts, **kw)
    c.start(timeout=15)
    return c


@pytest.fixture
def kazoo_factory(request):
    made = []

    def make(hosts=None, start=True, **kw):
        if hosts is None:
            hosts = request.getfixturevalue("server").hosts
        if start:
            c = _kazoo(hosts, **kw)
        else:
            kw.setdefault("timeout", 5.0)
            c = KazooClient(hosts=hosts, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


@pytest.fixture
def zk(kazoo_factory):
    return kazoo_factory()


@pytest.fixture
def raw_factory(request):
    made = []

    def make(port=None, handshake=True, **kw):
        if port is None:
            port = request.getfixturevalue("server").port
        c = RawClient(port)
        made.append(c)
        if handshake:
            resp = c.connect(**kw)
            assert resp.timeout > 0, resp
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def base(zk, request):
    """A fresh, empty persistent node for this test."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    path = "/" + name
    zk.create(path)
    return path
