"""multi (opcode 14) and multiRead (opcode 22).

ZooKeeper 3.8.0 facts pinned here that are easy to get wrong:
  * a multi is atomic; when op k fails, the results are: ops before k ->
    error result with code 0 (kazoo: RolledBackError), op k -> its error,
    ops after k -> RUNTIMEINCONSISTENCY (-2);
  * the reply header of a failed multi has err == 0: the errors are only in
    the per-op results (each failed result is MultiHeader{type -1, done
    false, err code} followed by ErrorResponse{err code});
  * every multi -- successful, failed, even empty -- is one txn and takes
    exactly one zxid, shared by all of its ops;
  * createContainer/createTTL inside a multi answer with a create2-style
    result (type 15, path + stat); a plain create answers type 1 (path);
  * multiRead is not atomic: each op has its own result or error;
  * a read op inside multi, or a write op inside multiRead, is a
    MARSHALLINGERROR (-5) in the reply header; the connection stays usable.
"""

import pytest
from kazoo.exceptions import (BadVersionError, NodeExistsError, NoNodeError,
                              NotEmptyError, RolledBackError,
                              RuntimeInconsistency)

from zkutil import Recorder
from zkwire import (Err, Flags, Op, enc_create, enc_path_version,
                    enc_path_watch, enc_set_data)


def test_multi_success(zk, base):
    zk.create(base + "/a", b"a")
    zk.create(base + "/gone")
    tx = zk.transaction()
    tx.create(base + "/new", b"n")
    tx.set_data(base + "/a", b"b", version=0)
    tx.check(base + "/a", 1)           # sees the set_data above
    tx.delete(base + "/gone")
    res = tx.commit()
    assert res[0] == base + "/new"
    assert res[1].version == 1 and res[1].dataLength == 1
    assert res[2] is True and res[3] is True
    st_new = zk.exists(base + "/new")
    # one txn: every op carries the same zxid
    assert st_new.czxid == res[1].mzxid == zk.exists(base).pzxid
    assert zk.exists(base + "/gone") is None


@pytest.mark.parametrize("bad_index", [0, 1, 2, 3])
def test_multi_failure_results_and_atomicity(zk, base, bad_index):
    zk.create(base + "/x", b"0")
    before = zk.exists(base)
    tx = zk.transaction()
    ops = [
        lambda: tx.create(base + "/n1"),
        lambda: tx.set_data(base + "/x", b"1"),
        lambda: tx.create(base + "/n2"),
        lambda: tx.delete(base + "/x"),
    ]
    bad = [lambda: tx.create(base + "/x"),              # NodeExists
           lambda: tx.set_data(base + "/x", b"1", 5),   # BadVersion
           lambda: tx.create(base + "/nope/x"),         # NoNode
           lambda: tx.delete(base + "/x", 3)]           # BadVersion
    errs = [NodeExistsError, BadVersionError, NoNodeError, BadVersionError]
    for i, op in enumerate(ops):
        (bad[i] if i == bad_index else op)()
    res = tx.commit()
    assert len(res) == 4
    for i, r in enumerate(res):
        if i < bad_index:
            assert isinstance(r, RolledBackError), (i, r)
        elif i == bad_index:
            assert isinstance(r, errs[i]), (i, r)
        else:
            assert isinstance(r, RuntimeInconsistency), (i, r)
    # nothing happened
    assert zk.exists(base + "/n1") is None and zk.exists(base + "/n2") is None
    assert zk.get(base + "/x")[0] == b"0"
    after = zk.exists(base)
    assert (after.cversion, after.numChildren, after.pzxid) == \
        (before.cversion, before.numChildren, before.pzxid)


def test_multi_dependent_ops(zk, base):
    tx = zk.transaction()
    tx.create(base + "/p", b"")
    tx.create(base + "/p/c", b"1")
    tx.set_data(base + "/p/c", b"2")
    tx.delete(base + "/p/c")
    tx.create(base + "/p/s-", sequence=True)
    tx.create(base + "/p/s-", sequence=True)
    res = tx.commit()
    # the sequence counter counts the create of /p/c as well
    assert res[4] == base + "/p/s-0000000001"
    assert res[5] == base + "/p/s-0000000002"
    st = zk.exists(base + "/p")
    assert st.numChildren == 2 and st.cversion == 4   # 3 creates + 1 delete
    # deleting a non-empty node in a multi fails NotEmpty
    tx = zk.transaction()
    tx.delete(base + "/p")
    res = tx.commit()
    assert isinstance(res[0], NotEmptyError)


def test_multi_ephemeral(zk, base):
    tx = zk.transaction()
    tx.create(base + "/e", ephemeral=True)
    tx.commit()
    assert zk.exists(base + "/e").ephemeralOwner == zk.client_id[0]


def test_multi_watches_fire_only_on_commit(zk, kazoo_factory, base):
    other = kazoo_factory()
    zk.create(base + "/w", b"0")
    rec = Recorder()
    other.get(base + "/w", watch=rec)
    other.get_children(base, watch=rec)
    # a failed multi changes nothing and fires nothing
    tx = zk.transaction()
    tx.set_data(base + "/w", b"1")
    tx.create(base + "/w")                 # NodeExists
    tx.commit()
    assert rec.settle(0.4) == []
    tx = zk.transaction()
    tx.set_data(base + "/w", b"1")
    tx.create(base + "/v")
    tx.commit()
    evs = rec.wait(2)
    assert sorted((e.type, e.path) for e in evs) == sorted(
        [("CHANGED", base + "/w"), ("CHILD", base)])


def test_multi_wire_format_on_failure(raw_factory, base):
    c = raw_factory()
    c.create(base + "/m")
    ops = [(Op.CREATE, enc_create(base + "/m/a")),
           (Op.SET_DATA, enc_set_data(base + "/m", b"x", 5)),
           (Op.CREATE, enc_create(base + "/m/b")),
           (Op.CHECK, enc_path_version(base + "/m", 0))]
    err, res = c.multi(ops)
    assert err == 0          # ZK: the reply header does not carry the error
    assert [(r.type, r.err, r.hdr_err) for r in res] == [
        (Op.ERROR, 0, 0),
        (Op.ERROR, Err.BADVERSION, Err.BADVERSION),
        (Op.ERROR, Err.RUNTIMEINCONSISTENCY, Err.RUNTIMEINCONSISTENCY),
        (Op.ERROR, Err.RUNTIMEINCONSISTENCY, Err.RUNTIMEINCONSISTENCY)]


def test_multi_result_types(raw_factory, base):
    c = raw_factory()
    c.create(base + "/m")
    c.create(base + "/m/del")
    ops = [(Op.CREATE, enc_create(base + "/m/a")),
           (Op.CREATE2, enc_create(base + "/m/b")),
           (Op.CREATE_CONTAINER, enc_create(base + "/m/c",
                                            flags=Flags.CONTAINER)),
           (Op.CREATE_TTL, enc_create(base + "/m/d",
                                      flags=Flags.PERSISTENT_WITH_TTL,
                                      ttl=60000)),
           (Op.SET_DATA, enc_set_data(base + "/m", b"x", 0)),
           (Op.CHECK, enc_path_version(base + "/m", 1)),
           (Op.DELETE, enc_path_version(base + "/m/del"))]
    err, res = c.multi(ops)
    assert err == 0
    types = [r.type for r in res]
    # ZK 3.8.0 answers create2 inside multi like create (type 1, path
    # only); 3.8.2+ (ZOOKEEPER-4026) answers type 15 with the stat. Both ok.
    assert types[1] in (Op.CREATE, Op.CREATE2)
    assert types[:1] + types[2:] == [Op.CREATE, Op.CREATE2, Op.CREATE2,
                                     Op.SET_DATA, Op.CHECK, Op.DELETE]
    assert all(r.err == 0 for r in res)
    assert res[0].value == base + "/m/a"
    path_c, st_c = res[2].value
    path_d, st_d = res[3].value
    assert (path_c, path_d) == (base + "/m/c", base + "/m/d")
    assert st_c.ephemeralOwner == 0 and st_d.ephemeralOwner == 0
    st_set = res[4].value
    assert st_set.version == 1
    # one zxid for the whole multi
    assert st_c.czxid == st_d.czxid == st_set.mzxid


def test_multi_zxids(fresh_server, raw_factory):
    c = raw_factory(port=fresh_server.port)
    err, (_, st) = c.create("/z")
    z = st.czxid
    rep = c.call(Op.MULTI, b"\xff\xff\xff\xff\x01\xff\xff\xff\xff")
    # ZK: an empty multi is still a txn and takes a zxid
    assert rep.err == 0 and rep.zxid == z + 1
    err, res = c.multi([(Op.CREATE, enc_create("/z/a")),
                        (Op.CREATE, enc_create("/z/b"))])
    assert err == 0
    assert c.exists("/z/a")[1].czxid == c.exists("/z/b")[1].czxid == z + 2
    # a failed multi takes a zxid too
    rep = c.call(Op.MULTI, b"".join([
        b"\x00\x00\x00\x0d\x00\xff\xff\xff\xff",
        enc_path_version("/z", 42),
        b"\xff\xff\xff\xff\x01\xff\xff\xff\xff"]))
    assert rep.err == 0 and rep.zxid == z + 3
    err, (_, st) = c.create("/z/c")
    assert st.czxid == z + 4


def test_multi_check_op(raw_factory, base):
    c = raw_factory()
    c.create(base + "/c")
    assert c.multi([(Op.CHECK, enc_path_version(base + "/c", -1))])[1][0] \
        .type == Op.CHECK
    r = c.multi([(Op.CHECK, enc_path_version(base + "/nope", -1))])[1][0]
    assert (r.type, r.err) == (Op.ERROR, Err.NONODE)
    r = c.multi([(Op.CHECK, enc_path_version(base + "/c", 1))])[1][0]
    assert (r.type, r.err) == (Op.ERROR, Err.BADVERSION)


def test_multi_read(raw_factory, base):
    c = raw_factory()
    c.create(base + "/r", b"data")
    c.create(base + "/r/k")
    err, res = c.multi_read([
        (Op.GET_DATA, enc_path_watch(base + "/r")),
        (Op.GET_CHILDREN, enc_path_watch(base + "/nope")),
        (Op.GET_CHILDREN, enc_path_watch(base + "/r")),
        (Op.GET_DATA, enc_path_watch(base + "/nope"))])
    assert err == 0
    assert [(r.type, r.err) for r in res] == [
        (Op.GET_DATA, 0), (Op.ERROR, Err.NONODE), (Op.GET_CHILDREN, 0),
        (Op.ERROR, Err.NONODE)]
    data, st = res[0].value
    assert data == b"data" and st.numChildren == 1
    assert res[2].value == ["k"]


def test_wrong_op_kinds_in_multi(raw_factory, base):
    c = raw_factory()
    rep = c.call(Op.MULTI, b"".join([
        b"\x00\x00\x00\x04\x00\xff\xff\xff\xff",
        enc_path_watch(base),
        b"\xff\xff\xff\xff\x01\xff\xff\xff\xff"]))
    assert rep.err == Err.MARSHALLINGERROR
    rep = c.call(Op.MULTI_READ, b"".join([
        b"\x00\x00\x00\x01\x00\xff\xff\xff\xff",
        enc_create(base + "/x"),
        b"\xff\xff\xff\xff\x01\xff\xff\xff\xff"]))
    assert rep.err == Err.MARSHALLINGERROR
    # the connection is still fine and nothing was created
    assert c.exists(base + "/x")[0] == Err.NONODE
