"""How requests arrive and replies leave the server: through io_uring (the
default where the kernel allows it: multishot receives into provided buffers,
src/server/reads.c; a loop turn's replies in one submit, src/server/sendbatch.c)
or through libuv, one read() and one write() each (PADDOCK_NO_URING=1, and
builds or kernels without io_uring).  Both must give every client all its
replies, whole and in order, also when a client stops reading and the socket
buffer fills (a short or refused send is finished by a uv_write; reading stops
and resumes), when many clients are answered in the same loop turn (more than
one ring's worth of sends), when requests arrive cut at every byte, and when
more request bytes arrive at once than the receive buffers hold.
"""

import os
import struct
import threading

import pytest

from zkserver import ServerProcess
from zkwire import Op, Reader, enc_create, enc_path_watch, enc_set_data, raw_session

pytestmark = pytest.mark.skipif(
    os.environ.get("PADDOCK_TEST_TARGET", "paddock") != "paddock"
    or not os.environ.get("PADDOCK_BIN"),
    reason="Paddock's reply path")

BIG = 900 * 1024  # under jute.maxbuffer (1 MiB)


@pytest.fixture(params=["uring", "plain"])
def srv(request):
    old = os.environ.get("PADDOCK_NO_URING")
    if request.param == "plain":
        os.environ["PADDOCK_NO_URING"] = "1"
    else:
        os.environ.pop("PADDOCK_NO_URING", None)
    s = ServerProcess("paddock", name="replies-" + request.param,
                      extra_cfg={"maxClientCnxns": "0"})
    s.path = request.param
    try:
        s.start()
    finally:
        if old is None:
            os.environ.pop("PADDOCK_NO_URING", None)
        else:
            os.environ["PADDOCK_NO_URING"] = old
    yield s
    s.stop()
    s.cleanup()


def read_frames(sock, n, timeout=30.0):
    """n frames off a raw socket, without RawClient's quadratic buffer
    (21 MB arrive here in small pieces)."""
    sock.settimeout(timeout)
    buf = bytearray()
    frames = []
    pos = 0
    while len(frames) < n:
        chunk = sock.recv(1 << 20)
        assert chunk, "server closed the connection"
        buf += chunk
        while len(buf) - pos >= 4:
            size = struct.unpack(">i", buf[pos:pos + 4])[0]
            if len(buf) - pos < 4 + size:
                break
            frames.append(bytes(buf[pos + 4:pos + 4 + size]))
            pos += 4 + size
        if pos > (8 << 20):
            del buf[:pos]
            pos = 0
    return frames


def test_reader_that_stalls_gets_every_reply(srv):
    c = raw_session(srv.port)
    payload = bytes(range(256)) * (BIG // 256)
    assert c.create("/big", payload)[0] == 0
    # 24 x 900 KiB of replies asked for without reading any: far more than the
    # socket buffers hold, past the server's 8 MiB output high-water mark too,
    # so sends come back short or refused and uv_write finishes them.
    xids = []
    for _ in range(24):
        xid = c.next_xid()
        xids.append(xid)
        c.send_request(Op.GET_DATA, enc_path_watch("/big"), xid=xid)
    threading.Event().wait(0.5)
    for xid, data in zip(xids, read_frames(c.sock, len(xids))):
        r = Reader(data)
        assert r.int() == xid
        r.long()
        assert r.int() == 0
        assert r.buffer() == payload
    # and the connection is still good
    assert c.exists("/big")[0] == 0
    c.close()


def test_many_clients_answered_in_one_turn(srv):
    # More sessions than one ring holds (256 sends per submit), each with a
    # request in flight at once, so that a turn's replies span several submits.
    n = 300
    clients = []
    try:
        for i in range(n):
            clients.append(raw_session(srv.port))
        for i, c in enumerate(clients):
            c.send_request(Op.CREATE, enc_create("/n%03d" % i, b"x" * i),
                           xid=c.next_xid())
        for i, c in enumerate(clients):
            hdr, r = c._read_one(timeout=30)
            assert hdr.err == 0, (i, hdr)
            assert r.string() == "/n%03d" % i
        for i, c in enumerate(clients):
            c.send_request(Op.GET_DATA, enc_path_watch("/n%03d" % i),
                           xid=c.next_xid())
        for i, c in enumerate(clients):
            hdr, r = c._read_one(timeout=30)
            assert hdr.err == 0
            assert r.buffer() == b"x" * i
    finally:
        for c in clients:
            c.close()


def test_requests_cut_at_every_byte(srv):
    # Each byte its own segment (TCP_NODELAY): a ring receive per byte, frames
    # put together in the connection's input buffer.
    c = raw_session(srv.port)
    stream = b""
    xids = []
    for i in range(3):
        xid = c.next_xid()
        xids.append(xid)
        body = struct.pack(">i", xid) + struct.pack(">i", Op.CREATE) + \
            enc_create("/cut%d" % i, b"v" * (50 + i))
        stream += struct.pack(">i", len(body)) + body
    for k in range(len(stream)):
        c.sock.sendall(stream[k:k + 1])
    for i, xid in enumerate(xids):
        hdr, r = c._read_one(timeout=30)
        assert hdr.xid == xid and hdr.err == 0
        assert r.string() == "/cut%d" % i
    err, (data, _) = c.get_data("/cut2")
    assert err == 0 and data == b"v" * 52
    c.close()


def test_more_request_bytes_than_receive_buffers(srv):
    # 12 sessions send a 900 KiB setData at once: ~11 MB, more than the ring's
    # 4 MiB of receive buffers, so receives run out of buffers and are armed
    # again; every request must still arrive whole.
    n = 12
    clients = []
    try:
        for i in range(n):
            c = raw_session(srv.port, timeout_ms=30000)
            clients.append(c)
            assert c.create("/buf%02d" % i, b"")[0] == 0
        payloads = [bytes([i]) * BIG for i in range(n)]
        xids = []
        for i, c in enumerate(clients):
            xid = c.next_xid()
            xids.append(xid)
            body = struct.pack(">i", xid) + struct.pack(">i", Op.SET_DATA) + \
                enc_set_data("/buf%02d" % i, payloads[i], -1)
            c.sock.setblocking(False)
            c.pending = memoryview(struct.pack(">i", len(body)) + body)
        # Push all of them at once, without waiting for any reply.
        left = list(clients)
        while left:
            for c in list(left):
                try:
                    sent = c.sock.send(c.pending)
                except BlockingIOError:
                    sent = 0
                c.pending = c.pending[sent:]
                if not len(c.pending):
                    left.remove(c)
        for i, c in enumerate(clients):
            c.sock.setblocking(True)
            hdr, _ = c._read_one(timeout=60)
            assert hdr.xid == xids[i] and hdr.err == 0, (i, hdr)
        for i, c in enumerate(clients):
            err, (data, _) = c.get_data("/buf%02d" % i)
            assert err == 0 and data == payloads[i], i
    finally:
        for c in clients:
            c.close()


def test_server_says_which_path_it_took(srv):
    log = open(srv.stdout_path, errors="replace").read()
    if srv.path == "plain":
        assert "replies are written one write() each" in log
        assert "requests are read one read() each" in log
    else:
        # io_uring may be refused by the kernel (io_uring_disabled, seccomp):
        # then the server must say so and fall back.
        assert ("replies are sent in batches through io_uring" in log
                or "replies are written one write() each" in log)
        assert ("requests are received through io_uring" in log
                or "requests are read one read() each" in log)
