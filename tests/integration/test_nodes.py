"""Znode basics: create (every mode), delete, exists, get, set, children,
stat fields, sequential numbering, containers, TTL nodes, getEphemerals and
getAllChildrenNumber.

Every expectation here was observed on Apache ZooKeeper 3.8.0; the comments
marked "ZK:" record behaviour that is easy to get wrong.  The main ones:
  * the cversion clients see is 2*(child creations) - numChildren, i.e.
    creations + deletions, while the sequential suffix is the number of
    child creations so far (deletes do not advance it);
  * every write that reaches the txn stage takes a zxid even when it fails
    (NodeExists, BadVersion, NoNode...): the reply header carries it and the
    next successful write gets the one after;
  * containers and TTL nodes report ephemeralOwner 0;
  * TTL nodes are reaped once they have no children and mtime + ttl has
    passed; containers once they had a child and are empty again (never
    before their first child);
  * create checks, in order: flags/ttl, path shape up to the last "/",
    ACL validity, parent exists, parent CREATE permission, full path
    validity (after the sequential suffix), NodeExists, ephemeral parent;
  * reads do not validate paths (an invalid path is just NoNode);
  * null data (length -1) and empty data are kept apart.
"""

import time

import pytest
from kazoo.exceptions import (BadVersionError,
                              NoChildrenForEphemeralsError, NodeExistsError,
                              NoNodeError, NotEmptyError)

from zkutil import wait_until
from zkwire import (Err, Flags, KzCreate, KzGetAllChildrenNumber,
                    KzGetEphemerals, Op, Reader, enc_create, j_acl_list,
                    j_buffer, j_int, j_string, kazoo_call, OPEN_ACL)

MAX_TTL = 0xFFFFFFFFFF  # EphemeralType.TTL max value: 40 bits of ms (~34 y)


# --------------------------------------------------------------------------
# create


def test_create_persistent_and_its_stat(zk, base):
    path, st = zk.create(base + "/a", b"hello", include_data=True)
    assert path == base + "/a"
    assert st.version == 0 and st.cversion == 0 and st.aversion == 0
    assert st.dataLength == 5 and st.numChildren == 0
    assert st.ephemeralOwner == 0
    # ZK: a new node has czxid == mzxid == pzxid and ctime == mtime.
    assert st.czxid == st.mzxid == st.pzxid > 0
    assert st.ctime == st.mtime > 0
    # create2's stat is exactly what exists/get report afterwards
    assert zk.exists(path) == st
    data, st2 = zk.get(path)
    assert data == b"hello" and st2 == st


def test_create_errors_and_makepath(zk, base):
    zk.create(base + "/x")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/x")
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    p = zk.create(base + "/m1/m2/m3", b"leaf", makepath=True)
    assert p == base + "/m1/m2/m3"
    assert zk.get(base + "/m1")[0] == b""     # parents get empty data
    assert zk.get(base + "/m1/m2/m3")[0] == b"leaf"
    assert zk.get_children(base + "/m1") == ["m2"]


def test_create_ephemeral(zk, kazoo_factory, base):
    p, st = zk.create(base + "/e", b"x", ephemeral=True, include_data=True)
    # ephemeralOwner is the creating session's id
    assert st.ephemeralOwner == zk.client_id[0]
    assert zk.exists(p).ephemeralOwner == zk.client_id[0]
    # ZK: ephemerals cannot have children, whatever the child's mode
    for kw in ({}, {"ephemeral": True}, {"sequence": True},
               {"ephemeral": True, "sequence": True}):
        with pytest.raises(NoChildrenForEphemeralsError):
            zk.create(p + "/c", **kw)
    # ZK: NodeExists is checked before NoChildrenForEphemerals
    with pytest.raises(NodeExistsError):
        zk.create(p, ephemeral=True)

    other = kazoo_factory()
    q = other.create(base + "/theirs", ephemeral=True)
    assert zk.exists(q).ephemeralOwner == other.client_id[0]
    other.stop()          # closeSession deletes the session's ephemerals
    assert zk.exists(q) is None
    assert zk.exists(p) is not None


def test_sequential_suffix_comes_from_parent_create_count(zk, base):
    par = base + "/seq"
    zk.create(par)
    names = [zk.create(par + "/s-", sequence=True) for _ in range(3)]
    assert names == [par + "/s-0000000000", par + "/s-0000000001",
                     par + "/s-0000000002"]
    assert zk.exists(par).cversion == 3

    # ZK: a delete bumps the visible cversion but NOT the sequence counter.
    # The counter (stored cversion) counts child creations only; the
    # cversion clients see is 2*creations - numChildren, i.e. creations +
    # deletions (DataNode.copyStat).
    zk.delete(par + "/s-0000000001")
    assert zk.exists(par).cversion == 4
    assert zk.create(par + "/s-", sequence=True) == par + "/s-0000000003"
    assert zk.exists(par).cversion == 5

    # a non-sequential child also advances the shared counter
    zk.create(par + "/plain")
    zk.delete(par + "/plain")
    assert zk.exists(par).cversion == 7
    assert zk.create(par + "/other-", sequence=True) == \
        par + "/other-0000000005"
    st = zk.exists(par)
    assert st.cversion == 8 and st.numChildren == 4


def test_sequential_with_trailing_slash_and_ephemeral(zk, base):
    par = base + "/q"
    zk.create(par)
    # the name may be empty: "<parent>/" + 10 digits
    assert zk.create(par + "/", sequence=True) == par + "/0000000000"
    p, st = zk.create(par + "/e", ephemeral=True, sequence=True,
                      include_data=True)
    assert p == par + "/e0000000001"
    assert st.ephemeralOwner == zk.client_id[0]


def test_delete_with_versions(zk, base):
    p = zk.create(base + "/d", b"v0")
    zk.set(p, b"v1")                           # version 1
    with pytest.raises(BadVersionError):
        zk.delete(p, version=0)
    with pytest.raises(NoNodeError):
        zk.delete(base + "/nope")
    zk.create(p + "/child")
    # ZK: the version is checked before emptiness
    with pytest.raises(BadVersionError):
        zk.delete(p, version=7)
    with pytest.raises(NotEmptyError):
        zk.delete(p, version=1)
    with pytest.raises(NotEmptyError):
        zk.delete(p)
    zk.delete(p + "/child", version=0)
    zk.delete(p, version=1)
    assert zk.exists(p) is None
    q = zk.create(base + "/any")
    zk.set(q, b"x")
    zk.delete(q, version=-1)                   # -1 matches any version
    assert zk.exists(q) is None


def test_set_data_versions_and_stat(zk, base):
    p, st0 = zk.create(base + "/s", b"abc", include_data=True)
    st1 = zk.set(p, b"defgh", version=0)
    assert st1.version == 1 and st1.dataLength == 5
    assert st1.czxid == st0.czxid and st1.ctime == st0.ctime
    assert st1.mzxid > st0.mzxid and st1.mtime >= st0.mtime
    # setData changes neither the child fields nor the ACL version
    assert (st1.cversion, st1.pzxid, st1.aversion, st1.numChildren) == \
        (st0.cversion, st0.pzxid, st0.aversion, st0.numChildren)
    with pytest.raises(BadVersionError):
        zk.set(p, b"x", version=0)
    # ZK: writing identical data still bumps version and mzxid
    st2 = zk.set(p, b"defgh")
    assert st2.version == 2 and st2.mzxid > st1.mzxid
    st3 = zk.set(p, b"", version=2)
    assert st3.version == 3 and st3.dataLength == 0
    assert zk.get(p) == (b"", st3)
    with pytest.raises(NoNodeError):
        zk.set(base + "/nope", b"x")


def test_exists_and_get(zk, base):
    assert zk.exists(base + "/nope") is None
    with pytest.raises(NoNodeError):
        zk.get(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/nope")
    p = zk.create(base + "/g", b"\x00\x01\xff")
    assert zk.get(p)[0] == b"\x00\x01\xff"


def test_children_fields(zk, base):
    par = base + "/c"
    _, st0 = zk.create(par, include_data=True)
    c1, s1 = zk.create(par + "/one", include_data=True)
    st = zk.exists(par)
    # ZK: parent's pzxid is the zxid of the last child create/delete
    assert st.pzxid == s1.czxid
    assert st.numChildren == 1 and st.cversion == 1
    # ...and the parent's own data version/mzxid do not move
    assert st.version == 0 and st.mzxid == st0.mzxid
    # changing a child's data does not touch the parent
    zk.set(c1, b"x")
    assert zk.exists(par) == st
    zk.create(par + "/two")
    zk.create(par + "/three")
    children, pst = zk.get_children(par, include_data=True)
    # ZK returns children in no particular order
    assert sorted(children) == ["one", "three", "two"]
    assert pst == zk.exists(par)
    assert pst.numChildren == 3 and pst.cversion == 3
    zk.delete(par + "/two")
    st = zk.exists(par)
    assert st.numChildren == 2 and st.cversion == 4
    assert st.pzxid > pst.pzxid
    assert zk.get_children(c1) == []


def test_zxid_arithmetic_on_quiet_server(fresh_server, raw_factory):
    """On a server with no other activity every write takes the next zxid,
    and the reply header of a write carries that zxid."""
    c = raw_factory(port=fresh_server.port)
    rep = c.call(Op.CREATE2, enc_create("/z"))
    z = rep.zxid
    assert rep.body.string() == "/z"
    st = rep.body.stat()
    assert st.czxid == st.mzxid == st.pzxid == z
    rep = c.call(Op.CREATE2, enc_create("/z/a"))
    assert rep.zxid == z + 1
    err, st = c.set_data("/z/a", b"1")
    assert st.mzxid == z + 2 and st.czxid == z + 1
    rep = c.call(Op.DELETE, j_string("/z/a") + j_int(-1))
    assert rep.err == 0 and rep.zxid == z + 3
    # the parent's pzxid is the zxid of the delete
    err, st = c.exists("/z")
    assert st.pzxid == z + 3 and st.mzxid == z
    # ZK: a read's reply header carries the last committed zxid
    rep = c.call(Op.EXISTS, j_string("/z") + b"\x00")
    assert rep.zxid == z + 3
    # ZK: a write that fails its checks still takes a zxid (it becomes an
    # error txn in the log); its reply header carries that zxid
    rep = c.call(Op.CREATE2, enc_create("/z"))
    assert rep.err == Err.NODEEXISTS and rep.zxid == z + 4
    rep = c.call(Op.SET_DATA, j_string("/z") + j_buffer(b"x") + j_int(99))
    assert rep.err == Err.BADVERSION and rep.zxid == z + 5
    rep = c.call(Op.DELETE, j_string("/z/nope") + j_int(-1))
    assert rep.err == Err.NONODE and rep.zxid == z + 6
    err, (_, st) = c.create("/z/b")
    assert st.czxid == z + 7
    # a failed read does not
    rep = c.call(Op.GET_DATA, j_string("/nope") + b"\x00")
    assert rep.err == Err.NONODE and rep.zxid == z + 7


def test_get_all_children_number(zk, base):
    zk.create(base + "/t/a/b", makepath=True)
    zk.create(base + "/t/a/c")
    zk.create(base + "/t/d")
    # counts every descendant, not the node itself
    assert kazoo_call(zk, KzGetAllChildrenNumber(base + "/t")) == 4
    assert kazoo_call(zk, KzGetAllChildrenNumber(base + "/t/a")) == 2
    assert kazoo_call(zk, KzGetAllChildrenNumber(base + "/t/d")) == 0
    with pytest.raises(NoNodeError):
        kazoo_call(zk, KzGetAllChildrenNumber(base + "/nope"))


def test_get_all_children_number_of_root(fresh_server, raw_factory):
    c = raw_factory(port=fresh_server.port)
    # ZK: a fresh tree has /zookeeper, /zookeeper/config, /zookeeper/quota
    assert c.get_all_children_number("/") == (0, 3)
    assert c.get_all_children_number("/zookeeper") == (0, 2)
    c.create("/x")
    assert c.get_all_children_number("/") == (0, 4)


def test_get_ephemerals(zk, kazoo_factory, base):
    zk.create(base + "/eph", ephemeral=True)
    zk.create(base + "/eph2", ephemeral=True)
    zk.create(base + "/dir/e", ephemeral=True, makepath=True)
    zk.create(base + "/persist")
    other = kazoo_factory()
    other.create(base + "/others", ephemeral=True)

    def eph(prefix):
        return sorted(kazoo_call(zk, KzGetEphemerals(prefix)))

    mine = sorted([base + "/eph", base + "/eph2", base + "/dir/e"])
    assert eph(base) == mine
    # ZK: the prefix is a plain string prefix of the path, not a subtree
    assert eph(base + "/ep") == sorted([base + "/eph", base + "/eph2"])
    assert eph(base + "/eph/") == []
    assert eph(base + "/nope") == []
    assert sorted(set(eph("/")) & set(mine)) == mine
    assert base + "/others" not in eph("/")   # only the caller's session


def test_container_nodes(zk, base):
    par = base + "/cont"
    path, st = kazoo_call(zk, KzCreate(par, b"d", flags=Flags.CONTAINER,
                                       op=Op.CREATE_CONTAINER))
    assert path == par
    # ZK: containers report ephemeralOwner 0 to clients (the stored value
    # is 0x8000000000000000, visible only in snapshots/logs)
    assert st.ephemeralOwner == 0 and zk.exists(par) == st
    # a container that never had a child is never reaped
    time.sleep(0.6)
    assert zk.exists(par) is not None
    zk.create(par + "/c1")
    zk.create(par + "/c2")
    zk.delete(par + "/c1")
    time.sleep(0.5)
    assert zk.exists(par) is not None           # still has a child
    zk.delete(par + "/c2")
    wait_until(lambda: zk.exists(par) is None, 10,
               what="empty container to be deleted")


def test_container_with_sequential_children(zk, base):
    par = base + "/cq"
    kazoo_call(zk, KzCreate(par, flags=Flags.CONTAINER,
                            op=Op.CREATE_CONTAINER))
    c = zk.create(par + "/job-", sequence=True, ephemeral=True)
    assert c == par + "/job-0000000000"
    zk.delete(c)
    wait_until(lambda: zk.exists(par) is None, 10,
               what="container to be deleted")


def test_ttl_nodes(zk, base):
    p, st = kazoo_call(zk, KzCreate(base + "/ttl", b"t",
                                    flags=Flags.PERSISTENT_WITH_TTL,
                                    ttl=300))
    assert p == base + "/ttl"
    assert st.ephemeralOwner == 0      # ZK: TTL owner bits are hidden too
    # TTL nodes with children are kept; the TTL counts from mtime once empty
    keep, _ = kazoo_call(zk, KzCreate(base + "/ttlkeep", ttl=300,
                                      flags=Flags.PERSISTENT_WITH_TTL))
    zk.create(keep + "/child")
    wait_until(lambda: zk.exists(p) is None, 10,
               what="TTL node to be deleted")
    assert zk.exists(keep) is not None
    zk.delete(keep + "/child")
    wait_until(lambda: zk.exists(keep) is None, 10,
               what="emptied TTL node to be deleted")

    # sequential TTL
    p, st = kazoo_call(zk, KzCreate(base + "/tseq-", ttl=60000,
                                    flags=Flags.PERSISTENT_SEQUENTIAL_WITH_TTL))
    assert p.startswith(base + "/tseq-") and len(p) == len(base) + 16
    # a long TTL is not reaped early
    time.sleep(0.5)
    assert zk.exists(p) is not None


def test_ttl_argument_checks(raw_factory, base):
    c = raw_factory()
    par = base
    ok = [(Flags.PERSISTENT_WITH_TTL, 1), (Flags.PERSISTENT_WITH_TTL, MAX_TTL)]
    for i, (flags, ttl) in enumerate(ok):
        err, res = c.create("%s/ok%d" % (par, i), flags=flags, ttl=ttl)
        assert err == 0, (flags, ttl)
    # ZK: createTTL needs a TTL mode and 0 < ttl <= 2^40-1, else BadArguments
    bad = [(Flags.PERSISTENT_WITH_TTL, 0), (Flags.PERSISTENT_WITH_TTL, -1),
           (Flags.PERSISTENT_WITH_TTL, MAX_TTL + 1),
           (Flags.PERSISTENT, 1000), (Flags.EPHEMERAL, 1000),
           (Flags.CONTAINER, 1000)]
    for flags, ttl in bad:
        err, _ = c.create(par + "/bad", flags=flags, ttl=ttl)
        assert err == Err.BADARGUMENTS, (flags, ttl, err)
    # ...and create/create2 with a TTL mode (no ttl field) is BadArguments
    for op in (Op.CREATE, Op.CREATE2):
        err, _ = c.create(par + "/bad", flags=Flags.PERSISTENT_WITH_TTL,
                          op=op)
        assert err == Err.BADARGUMENTS
    # unknown create flags
    for flags in (7, -1, 100):
        err, _ = c.create(par + "/bad", flags=flags)
        assert err == Err.BADARGUMENTS
    assert c.exists(par + "/bad")[0] == Err.NONODE


def test_invalid_paths(raw_factory, base):
    c = raw_factory()
    c.create(base + "/p")
    # writes validate the path; order: parent must exist before the full
    # path is validated, so "/nope/" is NoNode but "<existing>/" is
    # BadArguments
    cases = {
        "": Err.BADARGUMENTS, "a": Err.BADARGUMENTS,
        base + "/p/": Err.BADARGUMENTS, base + "/nope/": Err.NONODE,
        base + "/p/.": Err.BADARGUMENTS, base + "/p/..": Err.BADARGUMENTS,
        base + "/p//x": Err.NONODE, base + "/p/a\x00b": Err.BADARGUMENTS,
    }
    for path, want in cases.items():
        err, _ = c.create(path)
        assert err == want, (path, err)
    # a sequential create validates the path after appending the suffix
    err, (name, _) = c.create(base + "/p/", flags=Flags.PERSISTENT_SEQUENTIAL)
    assert err == 0 and name == base + "/p/0000000000"
    err, (name, _) = c.create(base + "/p/.",
                              flags=Flags.PERSISTENT_SEQUENTIAL)
    assert err == 0 and name == base + "/p/.0000000001"
    # setData/delete validate too
    assert c.set_data("a", b"")[0] == Err.BADARGUMENTS
    assert c.delete("a")[0] == Err.BADARGUMENTS
    # reads do not: an invalid path is simply not found
    assert c.get_data("a")[0] == Err.NONODE
    assert c.get_data(base + "/p/")[0] == Err.NONODE


def test_reserved_nodes(raw_factory):
    c = raw_factory()
    # ZK: "/" and the /zookeeper subtree's system nodes cannot be deleted
    for p in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        assert c.delete(p)[0] == Err.BADARGUMENTS, p
    assert c.create("/")[0] == Err.NODEEXISTS
    assert c.create("/zookeeper")[0] == Err.NODEEXISTS
    err, (children, _) = c.get_children("/zookeeper")
    assert {"quota", "config"} <= set(children)
    err, (data, st) = c.get_data("/zookeeper/config")
    assert err == 0 and data in (b"", None)
    err, (acl, _) = c.get_acl("/zookeeper/config")
    assert acl == [(1, "world", "anyone")]     # read-only for everyone


def test_null_data_is_not_empty_data(raw_factory, base):
    c = raw_factory()
    # ZK keeps the difference between null data (length -1 on the wire) and
    # empty data (length 0); both have dataLength 0
    body = (j_string(base + "/null") + j_buffer(None) + j_acl_list(OPEN_ACL)
            + j_int(0))
    assert c.call(Op.CREATE, body).err == 0
    c.create(base + "/empty", b"")
    rep = c.call(Op.GET_DATA, j_string(base + "/null") + b"\x00")
    r = Reader(rep.body.data, rep.body.pos)
    assert r.int() == -1
    assert r.stat().dataLength == 0
    rep = c.call(Op.GET_DATA, j_string(base + "/empty") + b"\x00")
    r = Reader(rep.body.data, rep.body.pos)
    assert r.int() == 0


def test_large_data_just_below_the_limit(zk, base):
    data = b"x" * (1024 * 1024 - 1024)
    zk.create(base + "/big", data)
    got, st = zk.get(base + "/big")
    assert got == data and st.dataLength == len(data)

