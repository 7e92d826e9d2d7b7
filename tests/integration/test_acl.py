"""ACLs and authentication: world, digest, auth, ip (address and CIDR), the
permission each operation needs, setACL with aversion, InvalidACL, the super
digest, whoAmI and unknown auth schemes.

Observed on Apache ZooKeeper 3.8.0.  Two checks changed in later 3.8.x
releases and are deliberately NOT pinned here:
  * exists() on a node without READ: allowed up to 3.8.3, NoAuth from 3.8.4
    (ZOOKEEPER-2590);
  * addWatch on a node without READ: allowed up to 3.8.3, checked from 3.8.4
    (ZOOKEEPER-4799).
Paddock should follow the newer (checking) behaviour for both.
"""

import pytest
from kazoo.exceptions import (AuthFailedError, BadVersionError,
                              InvalidACLError, NoAuthError, NodeExistsError,
                              NoNodeError, RolledBackError)
from kazoo.security import ACL, Id, make_acl, make_digest_acl

from zkserver import SUPER_PASSWORD, SUPER_USER, digest
from zkwire import (AUTH_XID, Err, KzWhoAmI, Op, Perm, enc_path_version,
                    enc_set_data, j_buffer, j_int, j_string, kazoo_call)

WORLD_ALL = [ACL(Perm.ALL, Id("world", "anyone"))]


def world(perms):
    return [ACL(perms, Id("world", "anyone"))]


def test_default_acl_is_world_anyone_all(zk, base):
    p = zk.create(base + "/n")
    acls, st = zk.get_acls(p)
    assert acls == WORLD_ALL
    assert st == zk.exists(p) and st.aversion == 0


# What each operation needs (ZooKeeper 3.8; node ACL = world:anyone:<perm>).
# create/delete need CREATE/DELETE on the PARENT; getACL needs READ or ADMIN;
# sync and checkWatches need nothing.
PERM_MATRIX = {
    #            get  ls   set  getacl allch create delete setacl
    0:          (0,   0,   0,   0,     0,    0,     0,     0),
    Perm.READ:  (1,   1,   0,   1,     1,    0,     0,     0),
    Perm.WRITE: (0,   0,   1,   0,     0,    0,     0,     0),
    Perm.CREATE: (0,  0,   0,   0,     0,    1,     0,     0),
    Perm.DELETE: (0,  0,   0,   0,     0,    0,     1,     0),
    Perm.ADMIN: (0,   0,   0,   1,     0,    0,     0,     1),
}


@pytest.mark.parametrize("perm", sorted(PERM_MATRIX))
def test_permission_needed_per_operation(raw_factory, base, perm):
    c = raw_factory()
    n = base + "/n"
    assert c.create(n)[0] == 0
    assert c.create(n + "/child")[0] == 0
    assert c.set_acl(n, [(perm, "world", "anyone")])[0] == 0
    got = (
        c.get_data(n)[0],
        c.get_children(n)[0],
        c.set_data(n, b"z")[0],
        c.get_acl(n)[0],
        c.get_all_children_number(n)[0],
        c.create(n + "/new")[0],
        c.delete(n + "/child")[0],
        c.set_acl(n, [(perm, "world", "anyone")])[0],
    )
    want = tuple(0 if ok else Err.NOAUTH for ok in PERM_MATRIX[perm])
    assert got == want
    # getChildren (op 8) behaves like getChildren2
    rep = c.call(Op.GET_CHILDREN, j_string(n) + b"\x00")
    assert rep.err == want[1]
    # multiRead reports NoAuth per op
    err, res = c.multi_read([(Op.GET_DATA, j_string(n) + b"\x00")])
    assert err == 0
    assert res[0].err == (0 if PERM_MATRIX[perm][0] else Err.NOAUTH)
    # needing no permission
    assert c.sync(n)[0] == 0


def test_delete_needs_parent_permission_only(zk, base):
    par = zk.create(base + "/par")
    zk.create(par + "/locked", acl=world(0))
    zk.delete(par + "/locked")            # node's own ACL is irrelevant
    zk.create(par + "/c")
    zk.set_acls(par, world(Perm.ALL & ~Perm.DELETE))
    with pytest.raises(NoAuthError):
        zk.delete(par + "/c")


def test_check_order_in_create(zk, raw_factory, base):
    par = zk.create(base + "/par")
    zk.create(par + "/exists")
    zk.set_acls(par, world(Perm.READ))
    # ZK: the parent's CREATE permission is checked before NodeExists
    with pytest.raises(NoAuthError):
        zk.create(par + "/exists")
    # ZK: the ACL is validated before the parent is looked up (kazoo turns
    # an empty ACL list into its default, hence the raw client)
    c = raw_factory()
    assert c.create(base + "/missing/x", acl=[])[0] == Err.INVALIDACL
    assert c.create(base + "/missing/x")[0] == Err.NONODE


def test_digest_acl(zk, kazoo_factory, base):
    acl = make_digest_acl("alice", "secret", all=True)
    assert acl.id.id == digest("alice", "secret")
    p = zk.create(base + "/d", b"data", acl=[acl])
    anon = kazoo_factory()
    with pytest.raises(NoAuthError):
        anon.get(p)
    with pytest.raises(NoAuthError):
        anon.get_acls(p)
    wrong = kazoo_factory(auth_data=[("digest", "alice:wrong")])
    with pytest.raises(NoAuthError):
        wrong.get(p)
    alice = kazoo_factory(auth_data=[("digest", "alice:secret")])
    assert alice.get(p)[0] == b"data"
    acls, _ = alice.get_acls(p)
    assert acls == [acl]
    alice.set(p, b"new")
    # add_auth on a live session works too
    anon.add_auth("digest", "alice:secret")
    assert anon.get(p)[0] == b"new"


def test_auth_scheme_expands_to_the_callers_identities(kazoo_factory, base,
                                                       zk):
    c = kazoo_factory(auth_data=[("digest", "bob:pw1")])
    p = c.create(base + "/a", acl=[make_acl("auth", "", all=True)])
    acls, _ = c.get_acls(p)
    # ZK: "auth" becomes one entry per digest identity of the session; the
    # ip identity is not used, and the id given with "auth" is ignored
    assert acls == [ACL(Perm.ALL, Id("digest", digest("bob", "pw1")))]
    c.add_auth("digest", "carol:pw2")
    p2 = c.create(base + "/b", acl=[make_acl("auth", "ignored", read=True,
                                             admin=True)])
    acls, _ = c.get_acls(p2)
    rw = Perm.READ | Perm.ADMIN
    assert sorted(acls) == sorted([
        ACL(rw, Id("digest", digest("bob", "pw1"))),
        ACL(rw, Id("digest", digest("carol", "pw2")))])
    # without any digest identity "auth" is an invalid ACL
    with pytest.raises(InvalidACLError):
        zk.create(base + "/c", acl=[make_acl("auth", "", all=True)])


def test_ip_acls(zk, base):
    ok = [make_acl("ip", "127.0.0.1", all=True),
          make_acl("ip", "127.0.0.0/8", all=True),
          make_acl("ip", "127.0.0.1/32", all=True),
          make_acl("ip", "0.0.0.0/0", all=True)]
    for i, acl in enumerate(ok):
        p = zk.create("%s/ok%d" % (base, i), b"v", acl=[acl])
        assert zk.get(p)[0] == b"v", acl
    for i, acl in enumerate([make_acl("ip", "10.0.0.0/8", all=True),
                             make_acl("ip", "127.0.0.2", all=True)]):
        p = zk.create("%s/no%d" % (base, i), acl=[acl])
        with pytest.raises(NoAuthError):
            zk.get(p)
    for bad in ("999.1.1.1", "127.0.0.1/33", "not-an-ip"):
        with pytest.raises(InvalidACLError):
            zk.create(base + "/bad", acl=[make_acl("ip", bad, all=True)])


def test_invalid_acls(raw_factory, base):
    c = raw_factory()
    bad = [
        [],                                     # empty list
        [(31, "foo", "bar")],                   # unknown scheme
        [(31, "digest", "nocolon")],            # digest id must be user:hash
        [(31, "world", "someone")],             # only world:anyone
        [(31, "auth", "")],                     # no digest identity yet
    ]
    for acl in bad:
        assert c.create(base + "/x", acl=acl)[0] == Err.INVALIDACL, acl
    assert c.create(base + "/y")[0] == 0
    for acl in bad:
        assert c.set_acl(base + "/y", acl)[0] == Err.INVALIDACL, acl
    # a null ACL vector is InvalidACL too
    body = (j_string(base + "/z") + j_buffer(b"") + j_int(-1) + j_int(0))
    assert c.call(Op.CREATE2, body).err == Err.INVALIDACL


def test_acl_list_is_deduplicated_and_perms_kept(raw_factory, base):
    c = raw_factory()
    acl = [(1, "world", "anyone"), (1, "world", "anyone"),
           (3, "world", "anyone")]
    assert c.create(base + "/d", acl=acl)[0] == 0
    err, (got, _) = c.get_acl(base + "/d")
    # ZK drops exact duplicates and keeps the order of the rest
    assert got == [(1, "world", "anyone"), (3, "world", "anyone")]
    # perms are stored as given, even 0 or bits beyond ALL
    assert c.create(base + "/p0", acl=[(0, "world", "anyone")])[0] == 0
    assert c.create(base + "/p63", acl=[(63, "world", "anyone")])[0] == 0
    assert c.get_acl(base + "/p63")[1][0] == [(63, "world", "anyone")]


def test_get_acl_masks_digests_without_admin(zk, kazoo_factory, base):
    c = kazoo_factory(auth_data=[("digest", "dave:pw")])
    p = c.create(base + "/r", acl=[make_digest_acl("dave", "pw", read=True),
                                   make_acl("world", "anyone", read=True)])
    # ZK: a caller with READ but not ADMIN gets digest ids with the hash
    # replaced by "x" (user:x); everything else is returned as stored
    want = [ACL(Perm.READ, Id("digest", "dave:x")),
            ACL(Perm.READ, Id("world", "anyone"))]
    assert c.get_acls(p)[0] == want
    assert zk.get_acls(p)[0] == want
    q = c.create(base + "/a", acl=[make_digest_acl("dave", "pw", read=True,
                                                   admin=True)])
    assert c.get_acls(q)[0] == [ACL(Perm.READ | Perm.ADMIN,
                                    Id("digest", digest("dave", "pw")))]


def test_set_acl_with_aversion(zk, base):
    p, st0 = zk.create(base + "/v", b"x", include_data=True)
    st1 = zk.set_acls(p, world(Perm.READ | Perm.WRITE | Perm.ADMIN),
                      version=0)
    assert st1.aversion == 1
    # setACL changes neither the data version nor mzxid
    assert st1.version == st0.version and st1.mzxid == st0.mzxid
    with pytest.raises(BadVersionError):
        zk.set_acls(p, WORLD_ALL, version=0)
    st2 = zk.set_acls(p, WORLD_ALL, version=-1)
    assert st2.aversion == 2
    # identical ACL still bumps aversion
    assert zk.set_acls(p, WORLD_ALL).aversion == 3
    assert zk.get_acls(p) == (WORLD_ALL, zk.exists(p))
    with pytest.raises(NoNodeError):
        zk.set_acls(base + "/nope", WORLD_ALL)
    with pytest.raises(NoNodeError):
        zk.get_acls(base + "/nope")


def test_super_digest(zk, kazoo_factory, base):
    p = zk.create(base + "/locked", b"s", acl=world(0))
    zk.create(base + "/locked2", acl=[make_digest_acl("x", "y", all=True)])
    with pytest.raises(NoAuthError):
        zk.get(p)
    fake = kazoo_factory(auth_data=[("digest", SUPER_USER + ":wrong")])
    with pytest.raises(NoAuthError):
        fake.get(p)
    su = kazoo_factory(auth_data=[("digest", "%s:%s" % (SUPER_USER,
                                                         SUPER_PASSWORD))])
    assert su.get(p)[0] == b"s"
    su.set(p, b"t")
    assert su.get_acls(p)[0] == world(0)
    su.create(p + "/child")          # CREATE on a node nobody may create in
    su.delete(p + "/child")
    su.set_acls(base + "/locked2", WORLD_ALL)
    assert zk.get(base + "/locked2")[0] == b""
    # ZK: the super user shows up as ("super", "") in whoAmI
    assert ("super", "") in kazoo_call(su, KzWhoAmI())


def test_whoami(zk, kazoo_factory):
    assert kazoo_call(zk, KzWhoAmI()) == [("ip", "127.0.0.1")]
    c = kazoo_factory(auth_data=[("digest", "u1:p1")])
    c.add_auth("digest", "u2:p2")
    # ZK returns the identities in no fixed order; digest ids show the user
    # name only
    assert sorted(kazoo_call(c, KzWhoAmI())) == [
        ("digest", "u1"), ("digest", "u2"), ("ip", "127.0.0.1")]


def test_digest_auth_never_fails(raw_factory):
    c = raw_factory()
    # ZK: add_auth with the digest scheme accepts anything (even no colon);
    # the password is only compared through ACL ids later
    assert c.add_auth("digest", "nocolon") == (0, None)
    assert c.add_auth("digest", "super:wrong") == (0, None)
    err, ids = c.whoami()
    assert sorted(ids) == [("digest", "nocolon"), ("digest", "super"),
                           ("ip", "127.0.0.1")]
    # the ip scheme accepts add_auth too but adds no identity
    assert c.add_auth("ip", "10.1.2.3") == (0, None)
    assert len(c.whoami()[1]) == 3


def test_unknown_auth_scheme_fails_and_closes(raw_factory, kazoo_factory):
    c = raw_factory()
    rep = c.call(Op.AUTH, j_int(0) + j_string("nosuch") + j_buffer(b"x"),
                 xid=AUTH_XID)
    # ZK: reply xid -4, err AuthFailed, then the server closes the socket
    assert rep.xid == AUTH_XID and rep.err == Err.AUTHFAILED
    assert c.wait_closed(5)
    k = kazoo_factory()
    with pytest.raises(AuthFailedError):
        k.add_auth("nosuch", "x")


def test_noauth_inside_multi(zk, base):
    p = zk.create(base + "/ro", b"r", acl=world(Perm.READ))
    tx = zk.transaction()
    tx.create(base + "/ok")
    tx.set_data(p, b"w")
    res = tx.commit()
    assert isinstance(res[0], RolledBackError)
    assert isinstance(res[1], NoAuthError)
    assert zk.exists(base + "/ok") is None


def test_noauth_raw_multi_zxid(raw_factory, base):
    c = raw_factory()
    c.create(base + "/ro", acl=[(Perm.READ, "world", "anyone")])
    err, res = c.multi([(Op.SET_DATA, enc_set_data(base + "/ro", b"x")),
                        (Op.DELETE, enc_path_version(base + "/ro"))])
    assert err == 0
    assert [(r.type, r.err) for r in res] == [
        (Op.ERROR, Err.NOAUTH), (Op.ERROR, Err.RUNTIMEINCONSISTENCY)]


def test_create_with_acl_for_other_identity_then_lockout(zk, base):
    p = zk.create(base + "/mine", acl=[make_digest_acl("me", "pw",
                                                       all=True)])
    with pytest.raises(NoAuthError):
        zk.set(p, b"x")
    with pytest.raises(NoAuthError):
        zk.create(p + "/c")
    with pytest.raises(NodeExistsError):
        zk.create(p)   # parent (base) allows CREATE, so NodeExists
    zk.add_auth("digest", "me:pw")
    zk.set(p, b"x")
    zk.create(p + "/c", b"", acl=[make_acl("world", "anyone", read=True)])
    assert zk.get(p + "/c")[0] == b""
