"""Per-session FIFO order on a follower (ZooKeeper's client order guarantee):
one session pipelines writes and reads to a follower of a 3-server Paddock
ensemble; the follower forwards the writes to the leader, and must still
answer every request in the order it was sent, each read seeing the session's
earlier writes.  A follower once answered reads ahead of the forwarded write
before them (its handshake's forwarded createSession was never counted as
pending), which made libpaddock drop the connection ("xid out of order").
"""

import os

import pytest

from zkensemble import Ensemble
from zkwire import Op, raw_session, enc_create, enc_path_watch, enc_set_data

pytestmark = pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                                reason="needs PADDOCK_BIN")


def test_follower_answers_a_session_in_request_order():
    e = Ensemble(["paddock"] * 3, tick=200)
    e.start()
    try:
        leader = e.wait_serving(timeout=30)
        follower = [m for m in e.members if m is not leader][0]
        c = raw_session(follower.client_port, timeout_ms=10000)
        assert c.call(Op.CREATE, enc_create("/k", b"v0")).err == 0
        sent = []
        for i in range(64):
            if i % 4 == 0:
                body = b"w%d" % i
                sent.append((c.send_request(Op.SET_DATA, enc_set_data("/k", body)),
                             "set", body))
            else:
                sent.append((c.send_request(Op.GET_DATA, enc_path_watch("/k")),
                             "get", None))
        last_written = b"v0"
        for xid, kind, body in sent:
            rep = c.read_reply(xid, timeout=10.0)   # asserts the xid order itself
            assert rep.err == 0, (xid, kind, rep.err)
            if kind == "set":
                last_written = body
            else:
                data = rep.body.buffer()
                assert data == last_written, (xid, data, last_written)
        c.close()
    finally:
        e.cleanup()
