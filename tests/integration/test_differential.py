"""Differential test: one scripted scenario against Apache ZooKeeper AND the
Paddock binary, transcripts compared for equality.

The scenario drives several raw sessions (zkwire.RawClient) through writes,
reads, errors, one-shot/persistent watches, multi, multiRead, ACLs, auth,
closeSession and a new session.  The transcript records, per step:
  * the reply's err and decoded result, with stats normalised: ctime/mtime
    dropped, zxids made relative to the first write's zxid (so "every write
    takes the next zxid" is compared too), ephemeralOwner and session ids
    replaced by the session's name;
  * the reply header zxid, relative;
  * every notification each session received, in order.  After each step
    every session pings the server; a notification caused by that step is
    always delivered before the ping's reply, so the transcript needs no
    sleeps and is deterministic.

It runs only when PADDOCK_BIN is set (it does not look at
PADDOCK_TEST_TARGET).  test_scenario_is_deterministic runs the scenario
twice against ZooKeeper when PADDOCK_DIFF_SELFTEST=1, to check the
transcript itself is stable.
"""

import os

import pytest

from zkserver import ServerProcess, digest
from zkwire import (AddWatchMode, Flags, Op, PING_XID, RawClient, Reader,
                    Stat, WATCH_XID, WatcherType, decode_multi, enc_create,
                    enc_multi, enc_path_version, enc_path_watch,
                    enc_set_acl, enc_set_data, j_buffer, j_int, j_string)

ROOT = "/diff"


class Transcript:
    def __init__(self):
        self.sessions = {}     # session id -> name
        self.z0 = None
        self.lines = []

    def zx(self, z):
        if z is None or z <= 0 or self.z0 is None:
            return z
        return "z0+%d" % (z - self.z0)

    def stat(self, s):
        d = s._asdict()
        del d["ctime"], d["mtime"]
        for k in ("czxid", "mzxid", "pzxid"):
            d[k] = self.zx(d[k])
        d["ephemeralOwner"] = self.sessions.get(d["ephemeralOwner"],
                                                d["ephemeralOwner"])
        return tuple(sorted(d.items()))

    def norm(self, v):
        if isinstance(v, Stat):
            return self.stat(v)
        if isinstance(v, tuple):
            return tuple(self.norm(x) for x in v)
        if isinstance(v, list):
            return [self.norm(x) for x in v]
        return v


class Runner:
    """Runs scenario steps on one server and records a Transcript."""

    def __init__(self, port):
        self.port = port
        self.t = Transcript()
        self.clients = {}
        self.step_no = 0

    def open(self, name, timeout_ms=10000):
        c = RawClient(self.port)
        resp = c.connect(timeout_ms=timeout_ms)
        assert resp.timeout > 0
        self.clients[name] = c
        self.t.sessions[c.session_id] = "session:" + name
        self.t.lines.append(("open", name, resp.timeout, resp.length))
        return c

    def close(self, name):
        self.step_no += 1
        c = self.clients.pop(name)
        rep = c.call(Op.CLOSE_SESSION)
        self.t.lines.append(("close", self.step_no, name, rep.err,
                             self.t.zx(rep.zxid)))
        c.close()
        self._settle()

    def _settle(self):
        # every session pings; notifications arrive before the ping reply
        for name in sorted(self.clients):
            c = self.clients[name]
            c.events.clear()
            c.send_request(Op.PING, xid=PING_XID)
            while True:
                hdr, body = c._read_one(10)
                if hdr.xid == WATCH_XID:
                    continue
                assert hdr.xid == PING_XID, hdr
                break
            for ev in c.events:
                self.t.lines.append(("event", self.step_no, name, ev.type,
                                     ev.state, ev.path))
            c.events.clear()

    def call(self, name, op, body=b"", decode=None, xid=None):
        self.step_no += 1
        c = self.clients[name]
        rep = c.call(op, body, xid=xid)
        if self.t.z0 is None and rep.zxid > 0 and op not in (
                Op.PING, Op.EXISTS, Op.GET_DATA):
            self.t.z0 = rep.zxid
        result = None
        if rep.err == 0 and decode is not None:
            result = self.t.norm(decode(rep.body))
        elif rep.body.remaining() and op in (Op.MULTI, Op.MULTI_READ):
            result = self.t.norm(decode(rep.body))
        self.t.lines.append(("reply", self.step_no, name, op, rep.err,
                             self.t.zx(rep.zxid), result))
        self._settle()
        return rep


# decoders
def d_create2(r):
    return (r.string(), r.stat())


def d_stat(r):
    return r.stat()


def d_data(r):
    return (r.buffer(), r.stat())


def d_children2(r):
    return (sorted(r.vector(Reader.string)), r.stat())


def d_acl(r):
    return (r.vector(Reader.acl), r.stat())


def d_multi(r):
    return [tuple(x) for x in decode_multi(r)]


def d_string(r):
    return r.string()


def d_int(r):
    return r.int()


def d_sorted_strings(r):
    return sorted(r.vector(Reader.string))


def d_whoami(r):
    return sorted(r.vector(lambda x: (x.string(), x.string())))


def run_scenario(port):
    R = Runner(port)
    A = R.open("A")
    R.open("B")
    R.open("C")
    assert A
    pw = lambda p, w=False: enc_path_watch(p, w)  # noqa: E731
    R.call("A", Op.CREATE2, enc_create(ROOT, b"root"), d_create2)
    R.call("A", Op.CREATE2, enc_create(ROOT + "/a", b"1"), d_create2)
    R.call("B", Op.GET_DATA, pw(ROOT + "/a", True), d_data)
    R.call("C", Op.EXISTS, pw(ROOT + "/b", True), d_stat)
    R.call("C", Op.GET_CHILDREN2, pw(ROOT, True), d_children2)
    R.call("A", Op.SET_DATA, enc_set_data(ROOT + "/a", b"2", 0), d_stat)
    R.call("A", Op.SET_DATA, enc_set_data(ROOT + "/a", b"3", 0), d_stat)
    R.call("A", Op.CREATE2, enc_create(ROOT + "/b", b"eph",
                                       flags=Flags.EPHEMERAL), d_create2)
    for _ in range(3):
        R.call("A", Op.CREATE2, enc_create(ROOT + "/s-",
                                           flags=Flags.PERSISTENT_SEQUENTIAL),
               d_create2)
    R.call("A", Op.DELETE, enc_path_version(ROOT + "/s-0000000002", 5))
    R.call("A", Op.DELETE, enc_path_version(ROOT + "/s-0000000002", 0))
    R.call("A", Op.CREATE2, enc_create(ROOT + "/b/x"), d_create2)
    R.call("A", Op.DELETE, enc_path_version(ROOT, -1))
    R.call("A", Op.CREATE, enc_create(ROOT + "/nope/x"), d_string)
    R.call("A", Op.CREATE, enc_create(ROOT + "/a"), d_string)
    R.call("A", Op.GET_DATA, pw(ROOT + "/nope"), d_data)
    R.call("A", Op.EXISTS, pw(ROOT + "/nope"), d_stat)
    R.call("A", Op.GET_CHILDREN2, pw(ROOT), d_children2)
    # multi: success, then failure
    R.call("A", Op.MULTI, enc_multi([
        (Op.CREATE, enc_create(ROOT + "/m")),
        (Op.SET_DATA, enc_set_data(ROOT + "/a", b"4", 1)),
        (Op.CHECK, enc_path_version(ROOT + "/a", 2)),
        (Op.DELETE, enc_path_version(ROOT + "/s-0000000003", -1))]),
        d_multi)
    R.call("A", Op.MULTI, enc_multi([
        (Op.CREATE, enc_create(ROOT + "/m2")),
        (Op.SET_DATA, enc_set_data(ROOT + "/a", b"5", 99)),
        (Op.DELETE, enc_path_version(ROOT + "/m", -1))]), d_multi)
    R.call("A", Op.GET_DATA, pw(ROOT + "/a"), d_data)
    # persistent-recursive watch by B, one-shot child watch by C
    R.call("B", Op.ADD_WATCH, j_string(ROOT) + j_int(
        AddWatchMode.PERSISTENT_RECURSIVE))
    R.call("C", Op.GET_CHILDREN2, pw(ROOT + "/m", True), d_children2)
    R.call("A", Op.SET_DATA, enc_set_data(ROOT + "/m", b"x", -1), d_stat)
    R.call("A", Op.CREATE2, enc_create(ROOT + "/m/c"), d_create2)
    R.call("A", Op.DELETE, enc_path_version(ROOT + "/m/c", -1))
    # ACLs
    R.call("A", Op.SET_ACL, enc_set_acl(ROOT + "/a", [(1, "world", "anyone")],
                                        0), d_stat)
    R.call("A", Op.SET_ACL, enc_set_acl(ROOT + "/a", [(1, "world", "anyone")],
                                        0), d_stat)
    R.call("A", Op.SET_DATA, enc_set_data(ROOT + "/a", b"6"), d_stat)
    R.call("A", Op.GET_ACL, j_string(ROOT + "/a"), d_acl)
    R.call("A", Op.CREATE2, enc_create(ROOT + "/bad", acl=[]), d_create2)
    # containers and TTL nodes (long TTL: nothing is reaped meanwhile)
    R.call("A", Op.CREATE_CONTAINER, enc_create(ROOT + "/cont", b"c",
                                                flags=Flags.CONTAINER),
           d_create2)
    R.call("A", Op.CREATE_TTL, enc_create(ROOT + "/ttl", b"t",
                                          flags=Flags.PERSISTENT_WITH_TTL,
                                          ttl=600000), d_create2)
    R.call("A", Op.CREATE_TTL, enc_create(ROOT + "/ttl2", flags=0, ttl=5),
           d_create2)
    # C watches the ephemeral; A's session closes
    R.call("C", Op.GET_DATA, pw(ROOT + "/b", True), d_data)
    R.close("A")
    # a new session mid-scenario
    R.open("D")
    R.call("D", Op.CREATE2, enc_create(ROOT + "/d-",
                                       flags=Flags.EPHEMERAL_SEQUENTIAL),
           d_create2)
    R.call("D", Op.GET_CHILDREN2, pw(ROOT), d_children2)
    R.call("D", Op.GET_ALL_CHILDREN_NUMBER, j_string(ROOT), d_int)
    R.call("D", Op.GET_EPHEMERALS, j_string(ROOT), d_sorted_strings)
    R.call("D", Op.MULTI_READ, enc_multi([
        (Op.GET_DATA, pw(ROOT + "/a")),
        (Op.GET_CHILDREN, pw(ROOT + "/nope")),
        (Op.GET_CHILDREN, pw(ROOT + "/m"))]), d_multi)
    R.call("B", Op.REMOVE_WATCHES, j_string(ROOT) + j_int(WatcherType.ANY))
    R.call("B", Op.REMOVE_WATCHES, j_string(ROOT) + j_int(WatcherType.ANY))
    R.call("D", Op.SET_DATA, enc_set_data(ROOT + "/m", b"y"), d_stat)
    R.call("D", Op.SYNC, j_string(ROOT), d_string)
    # auth
    R.call("D", Op.AUTH, j_int(0) + j_string("digest") + j_buffer(b"u:p"),
           xid=-4)
    R.call("D", Op.CREATE2, enc_create(ROOT + "/dg", b"secret", acl=[
        (31, "digest", digest("u", "p"))]), d_create2)
    R.call("D", Op.GET_ACL, j_string(ROOT + "/dg"), d_acl)
    R.call("B", Op.GET_DATA, pw(ROOT + "/dg"), d_data)
    R.call("B", Op.GET_ACL, j_string(ROOT + "/dg"), d_acl)
    R.call("D", Op.GET_DATA, pw(ROOT + "/dg"), d_data)
    R.call("D", Op.WHO_AM_I, b"", d_whoami)
    R.call("D", Op.CHECK_WATCHES, j_string(ROOT) + j_int(WatcherType.ANY))
    R.call("D", Op.DELETE, enc_path_version(ROOT + "/cont", -1))
    for name in sorted(list(R.clients)):
        R.close(name)
    return R.t.lines


def run_on(kind):
    s = ServerProcess(kind=kind, name="diff-" + kind)
    try:
        s.start()
        lines = run_scenario(s.port)
        assert s.proc.poll() is None, "%s died:\n%s" % (kind, s.log_tail())
        return lines
    except Exception:
        print(s.log_tail())
        raise
    finally:
        s.cleanup()


def compare(a, b, names=("zookeeper", "paddock")):
    if a == b:
        return
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            ctx = "\n".join("   %r" % (l,) for l in a[max(0, i - 5):i])
            raise AssertionError(
                "transcripts differ at line %d\ncontext (%s):\n%s\n"
                "%s: %r\n%s: %r" % (i, names[0], ctx, names[0], x, names[1],
                                    y))
    raise AssertionError("transcript lengths differ: %s %d, %s %d\n"
                         "extra: %r" % (names[0], len(a), names[1], len(b),
                                        (a[len(b):] or b[len(a):])[:5]))


@pytest.mark.skipif(not os.environ.get("PADDOCK_BIN"),
                    reason="PADDOCK_BIN is not set: nothing to compare "
                           "Apache ZooKeeper with")
def test_zookeeper_and_paddock_agree():
    zk = run_on("zookeeper")
    pd = run_on("paddock")
    compare(zk, pd)


@pytest.mark.skipif(not os.environ.get("PADDOCK_DIFF_SELFTEST"),
                    reason="set PADDOCK_DIFF_SELFTEST=1 to check that the "
                           "scenario transcript is deterministic")
def test_scenario_is_deterministic():
    a = run_on("zookeeper")
    b = run_on("zookeeper")
    compare(a, b, ("zookeeper run 1", "zookeeper run 2"))
    # sanity: the scenario exercised what it claims to
    kinds = {l[0] for l in a}
    assert kinds == {"open", "close", "reply", "event"}
    assert sum(1 for l in a if l[0] == "event") >= 8
