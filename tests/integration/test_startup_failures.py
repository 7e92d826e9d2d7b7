"""A server that cannot start says why and exits; it never hangs or crashes.

The client port taken by another process: standalone and as an ensemble
member (whose election and quorum ports were already bound, with dials to
its peers in flight).  Both once went wrong: the member aborted in libuv
(a peer link closed twice), and once that was fixed both hung forever in
storage_free() waiting for a storage thread nobody had stopped.
"""

import os
import socket
import subprocess
import tempfile

import pytest

from zkserver import free_port

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN (Paddock's own exits)")


def run_with_taken_port(extra_lines, myid=None):
    d = tempfile.mkdtemp(prefix="paddock-it-startfail-")
    data = os.path.join(d, "data")
    os.makedirs(data)
    if myid is not None:
        with open(os.path.join(data, "myid"), "w") as f:
            f.write("%d\n" % myid)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", free_port()))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    cfg = os.path.join(d, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir=%s\n"
                "clientPort=%d\nclientPortAddress=127.0.0.1\n" % (data, port))
        f.write("".join(l + "\n" for l in extra_lines))
    p = subprocess.Popen([os.environ["PADDOCK_BIN"], "server", cfg],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        pytest.fail("the server hung after failing to start:\n" + out[-2000:])
    finally:
        blocker.close()
    return p.returncode, out


def test_standalone_with_its_port_taken_exits():
    rc, out = run_with_taken_port([])
    assert rc == 1, out
    assert "address already in use" in out
    assert "Assertion" not in out and "ERROR: AddressSanitizer" not in out


def test_ensemble_member_with_its_port_taken_exits():
    lines = ["server.%d=127.0.0.1:%d:%d" % (i, free_port(), free_port())
             for i in (1, 2, 3)]
    rc, out = run_with_taken_port(lines, myid=1)
    assert rc == 1, out
    assert "address already in use" in out
    assert "Assertion" not in out and "ERROR: AddressSanitizer" not in out
