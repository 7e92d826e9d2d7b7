"""ZooKeeper client protocol by hand, for the integration tests.

Three things live here:

* jute encoding/decoding helpers and the protocol constants (opcodes, error
  codes, event types, perms, create flags);
* RawClient, a small synchronous client on a plain socket.  It writes exactly
  the bytes we ask for and records every frame it reads in arrival order, so
  tests can check wire-level facts kazoo hides (xids, the zxid in reply
  headers, the order of a notification relative to a reply, what happens to
  malformed input) and use the opcodes kazoo 2.8 does not know (addWatch,
  removeWatches, checkWatches, createContainer, createTTL, getEphemerals,
  getAllChildrenNumber, whoAmI, multiRead);
* request classes that can be pushed through a kazoo client (kazoo_call) for
  the opcodes kazoo 2.8 lacks, so a test can mix them with a normal session.

Everything connects to 127.0.0.1 only.  Facts about the wire format were
checked against Apache ZooKeeper 3.8 (zookeeper.jute, ZooDefs, ClientCnxn).
"""

import socket
import struct
import time
from collections import namedtuple

# --------------------------------------------------------------------------
# constants

class Op:
    NOTIFICATION = 0
    CREATE = 1
    DELETE = 2
    EXISTS = 3
    GET_DATA = 4
    SET_DATA = 5
    GET_ACL = 6
    SET_ACL = 7
    GET_CHILDREN = 8
    SYNC = 9
    PING = 11
    GET_CHILDREN2 = 12
    CHECK = 13
    MULTI = 14
    CREATE2 = 15
    RECONFIG = 16
    CHECK_WATCHES = 17
    REMOVE_WATCHES = 18
    CREATE_CONTAINER = 19
    DELETE_CONTAINER = 20
    CREATE_TTL = 21
    MULTI_READ = 22
    AUTH = 100
    SET_WATCHES = 101
    SASL = 102
    GET_EPHEMERALS = 103
    GET_ALL_CHILDREN_NUMBER = 104
    SET_WATCHES2 = 105
    ADD_WATCH = 106
    WHO_AM_I = 107
    CREATE_SESSION = -10
    CLOSE_SESSION = -11
    ERROR = -1


class Err:
    OK = 0
    SYSTEMERROR = -1
    RUNTIMEINCONSISTENCY = -2
    DATAINCONSISTENCY = -3
    CONNECTIONLOSS = -4
    MARSHALLINGERROR = -5
    UNIMPLEMENTED = -6
    OPERATIONTIMEOUT = -7
    BADARGUMENTS = -8
    UNKNOWNSESSION = -12
    APIERROR = -100
    NONODE = -101
    NOAUTH = -102
    BADVERSION = -103
    NOCHILDRENFOREPHEMERALS = -108
    NODEEXISTS = -110
    NOTEMPTY = -111
    SESSIONEXPIRED = -112
    INVALIDCALLBACK = -113
    INVALIDACL = -114
    AUTHFAILED = -115
    SESSIONMOVED = -118
    NOTREADONLY = -119
    EPHEMERALONLOCALSESSION = -120
    NOWATCHER = -121
    RECONFIGDISABLED = -123
    QUOTAEXCEEDED = -125
    THROTTLEDOP = -127


class Ev:  # Watcher.Event.EventType
    NONE = -1
    NODE_CREATED = 1
    NODE_DELETED = 2
    NODE_DATA_CHANGED = 3
    NODE_CHILDREN_CHANGED = 4
    DATA_WATCH_REMOVED = 5
    CHILD_WATCH_REMOVED = 6
    PERSISTENT_WATCH_REMOVED = 7


class State:  # Watcher.Event.KeeperState
    DISCONNECTED = 0
    SYNC_CONNECTED = 3
    AUTH_FAILED = 4
    EXPIRED = -112


class WatcherType:  # for removeWatches / checkWatches
    CHILDREN = 1
    DATA = 2
    ANY = 3
    PERSISTENT = 4
    PERSISTENT_RECURSIVE = 5


class AddWatchMode:
    PERSISTENT = 0
    PERSISTENT_RECURSIVE = 1


class Perm:
    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


class Flags:  # CreateMode
    PERSISTENT = 0
    EPHEMERAL = 1
    PERSISTENT_SEQUENTIAL = 2
    EPHEMERAL_SEQUENTIAL = 3
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


WATCH_XID = -1
PING_XID = -2
AUTH_XID = -4
SET_WATCHES_XID = -8

# ephemeralOwner of a container node (EphemeralType.CONTAINER_EPHEMERAL_OWNER)
CONTAINER_OWNER = -0x8000000000000000
# ephemeralOwner of a TTL node is EXTENDED_MASK | ttl (EphemeralType.TTL)
TTL_OWNER_MASK = -0x0100000000000000  # 0xff00000000000000 as a signed long

OPEN_ACL = [(Perm.ALL, "world", "anyone")]

# --------------------------------------------------------------------------
# jute encoding

_i = struct.Struct(">i")
_q = struct.Struct(">q")


def j_int(v):
    return _i.pack(v)


def j_long(v):
    return _q.pack(v)


def j_bool(v):
    return b"\x01" if v else b"\x00"


def j_buffer(b):
    if b is None:
        return _i.pack(-1)
    return _i.pack(len(b)) + bytes(b)


def j_string(s):
    if s is None:
        return _i.pack(-1)
    if isinstance(s, str):
        s = s.encode("utf-8")
    return _i.pack(len(s)) + s


def j_vector(items, enc):
    if items is None:
        return _i.pack(-1)
    return _i.pack(len(items)) + b"".join(enc(x) for x in items)


def j_acl(acl):
    """acl: (perms, scheme, id), or a kazoo ACL(perms, Id(scheme, id))."""
    if hasattr(acl, "id") and hasattr(acl.id, "scheme"):
        perms, scheme, ident = acl.perms, acl.id.scheme, acl.id.id
    else:
        perms, scheme, ident = acl
    return j_int(perms) + j_string(scheme) + j_string(ident)


def j_acl_list(acls):
    return j_vector(acls, j_acl)


def frame(payload):
    """Prefix a payload with its 4-byte big-endian length."""
    return _i.pack(len(payload)) + payload


class Reader:
    """Bounds-checked jute reader over one frame."""

    def __init__(self, data, pos=0):
        self.data = bytes(data)
        self.pos = pos

    def remaining(self):
        return len(self.data) - self.pos

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short frame: need %d at %d of %d"
                             % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return _i.unpack(self._take(4))[0]

    def long(self):
        return _q.unpack(self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        if n < 0:
            return None
        return self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8")

    def vector(self, dec):
        n = self.int()
        if n < 0:
            return None
        return [dec(self) for _ in range(n)]

    def stat(self):
        return Stat(self.long(), self.long(), self.long(), self.long(),
                    self.int(), self.int(), self.int(), self.long(),
                    self.int(), self.int(), self.long())

    def acl(self):
        return (self.int(), self.string(), self.string())


Stat = namedtuple("Stat", "czxid mzxid ctime mtime version cversion aversion "
                          "ephemeralOwner dataLength numChildren pzxid")
ConnectResponse = namedtuple("ConnectResponse",
                             "protocol_version timeout session_id passwd "
                             "read_only length")
ReplyHeader = namedtuple("ReplyHeader", "xid zxid err")
WatchEvent = namedtuple("WatchEvent", "type state path")
Reply = namedtuple("Reply", "xid zxid err body")  # body: Reader

# --------------------------------------------------------------------------
# request bodies


def enc_connect(session_id=0, passwd=b"\0" * 16, timeout_ms=4000,
                last_zxid=0, read_only=False, with_read_only=True,
                protocol_version=0):
    b = (j_int(protocol_version) + j_long(last_zxid) + j_int(timeout_ms)
         + j_long(session_id) + j_buffer(passwd))
    if with_read_only:
        b += j_bool(read_only)
    return b


def enc_create(path, data=b"", acl=None, flags=0, ttl=None):
    b = j_string(path) + j_buffer(data) + j_acl_list(
        OPEN_ACL if acl is None else acl) + j_int(flags)
    if ttl is not None:
        b += j_long(ttl)
    return b


def enc_path_watch(path, watch=False):
    return j_string(path) + j_bool(watch)


def enc_path_version(path, version=-1):
    return j_string(path) + j_int(version)


def enc_set_data(path, data, version=-1):
    return j_string(path) + j_buffer(data) + j_int(version)


def enc_set_acl(path, acl, version=-1):
    return j_string(path) + j_acl_list(acl) + j_int(version)


def enc_multi(ops):
    """ops: list of (opcode, body bytes).  Ends with the {-1, true, -1}
    header as zookeeper.jute's MultiHeader convention requires."""
    b = b""
    for op, body in ops:
        b += j_int(op) + j_bool(False) + j_int(-1) + body
    return b + j_int(-1) + j_bool(True) + j_int(-1)


MultiResult = namedtuple("MultiResult", "type err value hdr_err")


def decode_multi(r):
    """Decode a MultiResponse into MultiResult(type, err, value, hdr_err).
    For a failed op type is -1 and err is the ErrorResponse code; hdr_err is
    the err field of the op's MultiHeader."""
    out = []
    while True:
        t = r.int()
        done = r.bool()
        hdr_err = r.int()
        if done:
            break
        err, val = 0, None
        if t == Op.ERROR:
            err = r.int()
        elif t == Op.CREATE:
            val = r.string()
        elif t in (Op.CREATE2, Op.CREATE_CONTAINER, Op.CREATE_TTL):
            val = (r.string(), r.stat())
        elif t == Op.SET_DATA:
            val = r.stat()
        elif t in (Op.DELETE, Op.CHECK):
            pass
        elif t == Op.GET_DATA:
            val = (r.buffer(), r.stat())
        elif t == Op.GET_CHILDREN:
            val = r.vector(Reader.string)
        else:
            raise ValueError("unknown multi result type %d" % t)
        out.append(MultiResult(t, err, val, hdr_err))
    return out


# --------------------------------------------------------------------------
# raw client


class ConnectionClosed(Exception):
    pass


class RawClient:
    """A synchronous ZooKeeper client on a plain socket.

    Every frame read is appended to self.log as ("event", WatchEvent) or
    ("reply", ReplyHeader) in arrival order; notifications are also queued in
    self.events until a test takes them with next_event()."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        assert host == "127.0.0.1"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.xid = 0
        self.events = []
        self.log = []
        self.session_id = None
        self.passwd = None
        self.negotiated_timeout = None

    # ---- low level

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ConnectionClosed("send failed: %s" % e)

    def send_frame(self, payload):
        self.send_raw(frame(payload))

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no data from server")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no data from server")
            except (ConnectionResetError, BrokenPipeError):
                raise ConnectionClosed("connection reset")
            if not chunk:
                raise ConnectionClosed("EOF")
            self.buf += chunk

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        self._fill(4, deadline)
        n = _i.unpack(self.buf[:4])[0]
        if n < 0 or n > 16 * 1024 * 1024:
            raise ValueError("bad frame length %d" % n)
        self._fill(4 + n, deadline)
        data = self.buf[4:4 + n]
        self.buf = self.buf[4 + n:]
        return data

    def wait_closed(self, timeout=5.0):
        """True once the server has closed the connection (EOF or RST);
        frames that arrive first are read and logged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._read_one(deadline - time.monotonic())
            except ConnectionClosed:
                return True
            except TimeoutError:
                return False
        return False

    def _read_one(self, timeout=None):
        data = self.read_frame(timeout)
        r = Reader(data)
        hdr = ReplyHeader(r.int(), r.long(), r.int())
        if hdr.xid == WATCH_XID:
            ev = WatchEvent(r.int(), r.int(), r.string())
            self.events.append(ev)
            self.log.append(("event", ev))
            return hdr, ev
        self.log.append(("reply", hdr))
        return hdr, r

    # ---- handshake

    def connect(self, session_id=0, passwd=b"\0" * 16, timeout_ms=4000,
                last_zxid=0, read_only=False, with_read_only=True):
        self.send_frame(enc_connect(session_id, passwd, timeout_ms, last_zxid,
                                    read_only, with_read_only))
        data = self.read_frame()
        r = Reader(data)
        proto, to, sid, pw = r.int(), r.int(), r.long(), r.buffer()
        ro = r.bool() if r.remaining() >= 1 else None
        resp = ConnectResponse(proto, to, sid, pw, ro, len(data))
        if to > 0:
            self.session_id, self.passwd = sid, pw
            self.negotiated_timeout = to
        return resp

    # ---- requests

    def next_xid(self):
        self.xid += 1
        return self.xid

    def send_request(self, op, body=b"", xid=None):
        if xid is None:
            xid = self.next_xid()
        self.send_frame(j_int(xid) + j_int(op) + body)
        return xid

    def read_reply(self, xid, timeout=None):
        """Read frames until the reply for xid; notifications are queued."""
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        while True:
            hdr, rest = self._read_one(max(0.0, deadline - time.monotonic()))
            if hdr.xid == WATCH_XID:
                continue
            if hdr.xid == PING_XID and xid != PING_XID:
                continue
            if hdr.xid != xid:
                raise AssertionError("reply xid %d, expected %d"
                                     % (hdr.xid, xid))
            return Reply(hdr.xid, hdr.zxid, hdr.err, rest)

    def call(self, op, body=b"", xid=None):
        xid = self.send_request(op, body, xid)
        return self.read_reply(xid)

    def next_event(self, timeout=5.0):
        """Next queued notification, reading from the socket if needed."""
        deadline = time.monotonic() + timeout
        while not self.events:
            hdr, _ = self._read_one(max(0.0, deadline - time.monotonic()))
            if hdr.xid not in (WATCH_XID, PING_XID):
                raise AssertionError("unexpected reply xid %d while waiting "
                                     "for an event" % hdr.xid)
        return self.events.pop(0)

    def drain(self, wait=0.3):
        """Read whatever arrives within `wait` seconds; return and clear the
        queued notifications."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._read_one(left)
            except TimeoutError:
                break
        evs, self.events = self.events, []
        return evs

    def expect(self, n, timeout=10.0, settle=0.2):
        """Wait for at least n notifications (up to `timeout`), then read for
        `settle` more seconds so extra events show up too; return and clear
        them all.  Robust on a loaded machine, unlike a fixed drain()."""
        deadline = time.monotonic() + timeout
        while len(self.events) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._read_one(left)
            except TimeoutError:
                break
        return self.drain(settle)

    def no_event(self, wait=0.3):
        """True if no notification arrives within `wait` seconds."""
        if self.events:
            return False
        try:
            self.next_event(wait)
        except TimeoutError:
            return True
        return False

    # ---- convenience wrappers: return (err, result)

    def create(self, path, data=b"", acl=None, flags=0, ttl=None, op=None):
        if op is None:
            op = Op.CREATE_TTL if ttl is not None else Op.CREATE2
        rep = self.call(op, enc_create(path, data, acl, flags, ttl))
        if rep.err:
            return rep.err, None
        if op == Op.CREATE:
            return 0, (rep.body.string(), None)
        return 0, (rep.body.string(), rep.body.stat())

    def delete(self, path, version=-1):
        return self.call(Op.DELETE, enc_path_version(path, version)).err, None

    def exists(self, path, watch=False):
        rep = self.call(Op.EXISTS, enc_path_watch(path, watch))
        return rep.err, (None if rep.err else rep.body.stat())

    def get_data(self, path, watch=False):
        rep = self.call(Op.GET_DATA, enc_path_watch(path, watch))
        if rep.err:
            return rep.err, None
        return 0, (rep.body.buffer(), rep.body.stat())

    def set_data(self, path, data, version=-1):
        rep = self.call(Op.SET_DATA, enc_set_data(path, data, version))
        return rep.err, (None if rep.err else rep.body.stat())

    def get_children(self, path, watch=False):
        rep = self.call(Op.GET_CHILDREN2, enc_path_watch(path, watch))
        if rep.err:
            return rep.err, None
        return 0, (rep.body.vector(Reader.string), rep.body.stat())

    def get_acl(self, path):
        rep = self.call(Op.GET_ACL, j_string(path))
        if rep.err:
            return rep.err, None
        return 0, (rep.body.vector(Reader.acl), rep.body.stat())

    def set_acl(self, path, acl, version=-1):
        rep = self.call(Op.SET_ACL, enc_set_acl(path, acl, version))
        return rep.err, (None if rep.err else rep.body.stat())

    def sync(self, path):
        rep = self.call(Op.SYNC, j_string(path))
        return rep.err, (None if rep.err else rep.body.string())

    def add_watch(self, path, mode):
        rep = self.call(Op.ADD_WATCH, j_string(path) + j_int(mode))
        return rep.err, None

    def remove_watches(self, path, wtype):
        rep = self.call(Op.REMOVE_WATCHES, j_string(path) + j_int(wtype))
        return rep.err, None

    def check_watches(self, path, wtype):
        rep = self.call(Op.CHECK_WATCHES, j_string(path) + j_int(wtype))
        return rep.err, None

    def get_ephemerals(self, prefix):
        rep = self.call(Op.GET_EPHEMERALS, j_string(prefix))
        if rep.err:
            return rep.err, None
        return 0, rep.body.vector(Reader.string)

    def get_all_children_number(self, path):
        rep = self.call(Op.GET_ALL_CHILDREN_NUMBER, j_string(path))
        return rep.err, (None if rep.err else rep.body.int())

    def whoami(self):
        rep = self.call(Op.WHO_AM_I)
        if rep.err:
            return rep.err, None
        return 0, rep.body.vector(lambda r: (r.string(), r.string()))

    def add_auth(self, scheme, auth):
        if isinstance(auth, str):
            auth = auth.encode()
        rep = self.call(Op.AUTH, j_int(0) + j_string(scheme) + j_buffer(auth),
                        xid=AUTH_XID)
        return rep.err, None

    def multi(self, ops):
        rep = self.call(Op.MULTI, enc_multi(ops))
        if rep.err and rep.body.remaining() == 0:
            return rep.err, None
        return rep.err, decode_multi(rep.body)

    def multi_read(self, ops):
        rep = self.call(Op.MULTI_READ, enc_multi(ops))
        return rep.err, decode_multi(rep.body)

    def ping(self):
        rep = self.call(Op.PING, b"", xid=PING_XID)
        return rep.err, None

    def close_session(self):
        rep = self.call(Op.CLOSE_SESSION)
        return rep.err, None


def raw_session(port, timeout_ms=4000, **kw):
    """A RawClient with a fresh session (handshake done)."""
    c = RawClient(port)
    resp = c.connect(timeout_ms=timeout_ms, **kw)
    assert resp.timeout > 0, resp
    return c


# --------------------------------------------------------------------------
# four-letter words


def four_letter(port, word, timeout=5.0):
    """Send a four-letter word and return the whole answer as text."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(word.encode("ascii"))
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks).decode("utf-8", "replace")


# --------------------------------------------------------------------------
# requests pushed through kazoo for opcodes kazoo 2.8 does not have


class _KzReq:
    def serialize(self):
        return self.body


class KzCreate(_KzReq):
    """create2 / createContainer / createTTL through kazoo's connection."""

    def __init__(self, path, data=b"", acl=None, flags=0, ttl=None, op=None):
        self.path = path
        self.type = op if op is not None else (
            Op.CREATE_TTL if ttl is not None else Op.CREATE2)
        self.body = enc_create(path, data, acl, flags, ttl)

    def deserialize(self, buf, off):
        r = Reader(buf, off)
        return r.string(), _znode_stat(r.stat())


def _znode_stat(s):
    from kazoo.protocol.states import ZnodeStat
    return ZnodeStat(*s)


class KzGetEphemerals(_KzReq):
    type = Op.GET_EPHEMERALS

    def __init__(self, prefix):
        self.body = j_string(prefix)

    def deserialize(self, buf, off):
        return Reader(buf, off).vector(Reader.string)


class KzGetAllChildrenNumber(_KzReq):
    type = Op.GET_ALL_CHILDREN_NUMBER

    def __init__(self, path):
        self.body = j_string(path)

    def deserialize(self, buf, off):
        return Reader(buf, off).int()


class KzWhoAmI(_KzReq):
    type = Op.WHO_AM_I
    body = b""

    def deserialize(self, buf, off):
        return Reader(buf, off).vector(lambda r: (r.string(), r.string()))


def kazoo_call(client, request, timeout=10.0):
    """Run a custom request on a connected kazoo client; raises kazoo's
    exception for a non-zero error code."""
    ar = client.handler.async_result()
    client._call(request, ar)
    return ar.get(timeout=timeout)
