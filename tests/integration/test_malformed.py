"""Malformed and hostile input on the client port.  After each case the
server must keep serving other clients (checked by `still_serving`), and the
module fixture fails the test if the process died.

ZooKeeper 3.8.0 behaviour pinned here:
  * a frame length < 0 or > jute.maxbuffer (0xfffff = 1048575) closes the
    connection at once (before or after the handshake); exactly 0xfffff is
    accepted;
  * before the handshake, the first frame must decode as a ConnectRequest,
    otherwise the connection is closed without a reply (this includes a
    normal request or a ping sent first, a short frame, garbage);
  * after the handshake, the first 4 bytes of "ruok" are just a (huge)
    length: closed;
  * an unknown opcode gets a reply {xid, zxid -1, err UNIMPLEMENTED (-6)}
    and then the connection is closed; the session stays valid;
  * a request whose body does not decode (truncated, bad string/vector
    length) gets err MARSHALLINGERROR (-5) with no body and the connection
    stays open;
  * a frame larger than jute.maxbuffer after the handshake closes the
    connection, but the session survives (the client can reattach).
"""

import socket
import struct
import time

import pytest

from zkwire import (ConnectionClosed, Err, Op, RawClient, enc_connect,
                    enc_create, enc_path_watch, frame, j_buffer, j_int,
                    j_string, raw_session)

MAX_BUFFER = 0xfffff


def still_serving(server):
    c = raw_session(server.port)
    try:
        path = "/alive-%d" % c.session_id
        assert c.create(path, b"ok")[0] == 0
        assert c.get_data(path)[1][0] == b"ok"
        assert c.delete(path)[0] == 0
        c.close_session()
    finally:
        c.close()


def closed_without_reply(c, timeout=5.0):
    """True if the server closes the connection and sends nothing first."""
    n = len(c.log)
    try:
        data = c.read_frame(timeout)
    except ConnectionClosed:
        return len(c.log) == n
    except TimeoutError:
        return False
    raise AssertionError("unexpected frame %r" % data[:64])


@pytest.mark.parametrize("payload", [
    frame(b"garbagegarbage!!"),
    struct.pack(">i", 0x7fffffff),
    struct.pack(">i", MAX_BUFFER + 1),
    struct.pack(">i", -5),
    struct.pack(">i", 0),
    frame(enc_connect()[:20]),                      # short ConnectRequest
    frame(j_int(1) + j_int(Op.EXISTS) + enc_path_watch("/")),  # no handshake
    frame(j_int(-2) + j_int(Op.PING)),              # ping before handshake
], ids=["garbage", "len-2^31-1", "len-maxbuffer+1", "len-negative",
        "len-zero", "short-connect", "request-first", "ping-first"])
def test_bad_first_frame_is_closed(server, payload):
    c = RawClient(server.port)
    c.send_raw(payload)
    assert closed_without_reply(c)
    c.close()
    still_serving(server)


def test_truncated_frame_then_hangup(server):
    c = RawClient(server.port)
    c.send_raw(frame(enc_connect())[:20])
    time.sleep(0.2)
    c.close()
    c = raw_session(server.port)
    c.send_raw(j_int(50) + b"\0\0\0\1")     # half a request, then hang up
    time.sleep(0.2)
    c.close()
    still_serving(server)


def test_length_limits_after_handshake(server):
    c = raw_session(server.port, timeout_ms=10000)
    sid, pw = c.session_id, c.passwd
    c.send_raw(struct.pack(">i", MAX_BUFFER + 1))
    assert closed_without_reply(c)
    c.close()
    # the session survives its connection being dropped
    d = RawClient(server.port)
    assert d.connect(session_id=sid, passwd=pw).session_id == sid
    # a frame of exactly jute.maxbuffer bytes is accepted
    path = "/max-%d" % sid
    head = j_int(1) + j_int(Op.CREATE) + j_string(path)
    tail_len = 4 + 4 + 4 + 5 + 4 + 6 + 4      # acl vector + flags
    data_len = MAX_BUFFER - len(head) - 4 - tail_len
    body = enc_create(path, b"d" * data_len)
    payload = j_int(1) + j_int(Op.CREATE) + body
    assert len(payload) == MAX_BUFFER
    d.xid = 1
    d.send_frame(payload)
    rep = d.read_reply(1)
    assert rep.err == 0 and rep.body.string() == path
    assert d.delete(path)[0] == 0
    # one byte more is too much
    too_big = enc_create(path, b"d" * (data_len + 1))
    try:
        d.send_frame(j_int(2) + j_int(Op.CREATE) + too_big)
    except ConnectionClosed:
        # The server refuses the frame from its length word and closes while the
        # client is still sending the body: a reset here is that same refusal.
        pass
    assert closed_without_reply(d)
    d.close()
    still_serving(server)


def test_four_letter_word_after_handshake_is_a_bad_length(server):
    c = raw_session(server.port)
    c.send_raw(b"ruok")
    assert closed_without_reply(c)
    c.close()
    still_serving(server)


@pytest.mark.parametrize("op", [999, 0, 10, 23, 108, -1])
def test_unknown_opcode(server, op):
    c = raw_session(server.port, timeout_ms=10000)
    xid = c.send_request(op, b"\0" * 8)
    data = c.read_frame(5)
    assert struct.unpack(">iqi", data[:16]) == (xid, -1, Err.UNIMPLEMENTED)
    assert len(data) == 16
    assert c.wait_closed(5)
    c.close()
    # the session is still valid
    d = RawClient(server.port)
    assert d.connect(session_id=c.session_id, passwd=c.passwd).timeout > 0
    d.close_session()
    d.close()
    still_serving(server)


@pytest.mark.parametrize("op,body", [
    (Op.CREATE, j_string("/trunc") + j_int(100)),            # truncated
    (Op.GET_DATA, j_int(1 << 30) + b"/x"),                   # string length
    (Op.CREATE2, j_string("/v") + j_buffer(b"") + j_int(1 << 30) + j_int(0)),
    (Op.SET_DATA, j_string("/")),                            # missing fields
    (Op.EXISTS, b""),                                        # empty body
], ids=["truncated-create", "bad-string-length", "huge-acl-count",
        "setdata-missing-fields", "exists-empty"])
def test_undecodable_body(server, op, body):
    c = raw_session(server.port)
    rep = c.call(op, body)
    assert rep.err == Err.MARSHALLINGERROR
    assert rep.body.remaining() == 0
    # the connection is still usable
    assert c.exists("/")[0] == 0
    assert c.exists("/trunc")[0] == Err.NONODE
    c.close_session()
    c.close()


def test_many_connections_opened_and_dropped(server):
    socks = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        socks.append(s)
    for i, s in enumerate(socks):
        if i % 3 == 0:
            s.sendall(frame(enc_connect())[:10])
        s.close()
    still_serving(server)
