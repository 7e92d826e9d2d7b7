/*
 * ACLs: checkACL per perm and scheme (world, digest, ip v4/v6 with prefixes,
 * super), fixupACL (auth expansion, duplicates, invalid ids) and the
 * interned cache with its indexes.
 */
#include "tree_test.h"

static struct jute_acl A(int perms, const char *scheme, const char *id) {
    struct jute_acl a = {.perms = perms, .id = {.scheme = (char *)scheme, .id = (char *)id}};
    return a;
}

static void
test_digest(void)
{
    char out[128];
    CHECK_EQ_INT(tree_digest_id("super:secret", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
    CHECK_EQ_INT(tree_digest_id("user:pass", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "user:smGaoVKd/cQkjm7b88GyorAUz20=");
    CHECK_EQ_INT(tree_digest_id("nocolon", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=");
    CHECK_EQ_INT(tree_digest_id("a:b:c", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0=");
    CHECK_EQ_INT(tree_digest_id("", out, sizeof(out)), 0);
    CHECK_EQ_STR(out, ":2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    CHECK_EQ_INT(tree_digest_id("user:pass", out, 10), PD_ETOOBIG);
    CHECK_EQ_INT(tree_digest_id("user:pass", out, 34), 0);
    CHECK_EQ_INT(tree_digest_id("user:pass", out, 33), PD_ETOOBIG);
}

static void test_ip_match(void)
{
    CHECK(tree_ip_matches("10.1.2.3", "10.1.2.3"));
    CHECK(!tree_ip_matches("10.1.2.4", "10.1.2.3"));
    CHECK(tree_ip_matches("10.1.2.3", "10.0.0.0/8"));
    CHECK(tree_ip_matches("10.255.0.1", "10.1.2.3/8"));
    CHECK(!tree_ip_matches("11.1.2.3", "10.0.0.0/8"));
    CHECK(tree_ip_matches("192.168.1.77", "192.168.1.64/26"));
    CHECK(!tree_ip_matches("192.168.1.128", "192.168.1.64/26"));
    CHECK(tree_ip_matches("1.2.3.4", "9.9.9.9/0"));
    CHECK(tree_ip_matches("1.2.3.4", "1.2.3.4/32"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3.4/33"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3.4/-1"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3.4/"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3.4.5"));
    CHECK(!tree_ip_matches("1.2.3.4", "1.2.3.256"));
    CHECK(!tree_ip_matches("1.2.3.4", "localhost"));
    CHECK(tree_ip_matches("10.0.0.1", "010.0.0.1")); /* Integer.parseInt */
    CHECK(tree_ip_matches("1.2.3.4", "+1.2.3.4"));
    CHECK(!tree_ip_matches("1.2.3.x", "1.2.3.0/24"));
    /* IPv6 (ZOOKEEPER-4240) */
    CHECK(tree_ip_matches("::1", "0:0:0:0:0:0:0:1"));
    CHECK(tree_ip_matches("0:0:0:0:0:0:0:1", "::1"));
    CHECK(tree_ip_matches("2001:db8::42", "2001:db8::/32"));
    CHECK(tree_ip_matches("2001:db8:ffff::1", "2001:0db8::/32"));
    CHECK(!tree_ip_matches("2001:db9::1", "2001:db8::/32"));
    CHECK(tree_ip_matches("fe80::1:2", "fe80::/10"));
    CHECK(tree_ip_matches("febf::1", "fe80::/10"));
    CHECK(!tree_ip_matches("fec0::1", "fe80::/10"));
    CHECK(tree_ip_matches("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"));
    CHECK(!tree_ip_matches("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/129"));
    CHECK(tree_ip_matches("1::", "1:0:0:0:0:0:0:0"));
    CHECK(tree_ip_matches("::", "::/0"));
    CHECK(!tree_ip_matches("::1", "1.2.3.4/0")); /* v4 rule never matches a v6 address */
    CHECK(!tree_ip_matches("1.2.3.4", "::/0"));
    CHECK(!tree_ip_matches("::1", "1:2:3:4:5:6:7:8:9"));
    CHECK(!tree_ip_matches("::1", "1:2:3:4:5:6:7"));
    CHECK(!tree_ip_matches("::1", "1::2::3"));
    CHECK(!tree_ip_matches("::1", ":::1"));
    CHECK(!tree_ip_matches("::1", "1:2:3:4::5:6:7:8"));
    CHECK(!tree_ip_matches("::1", "12345::"));
    CHECK(!tree_ip_matches("::1", "g::"));
    CHECK(tree_ip_matches("ffff::", "-1::/16")); /* Integer.parseInt("-1", 16) */
}

static bool allows(const struct jute_acl *items, int n, int perm, const struct tree_auth *who)
{
    struct jute_acl_vec v = {.count = n, .items = (struct jute_acl *)items};
    return tree_acl_check(&v, perm, who);
}

static void test_check(void)
{
    struct jute_id ids[3] = {
        {.scheme = "ip", .id = "10.1.2.3"},
        {.scheme = "digest", .id = "bob:hash"},
        {.scheme = "super", .id = ""},
    };
    struct tree_auth bob = {.ids = ids, .n_ids = 2};
    struct tree_auth anon = {.ids = ids, .n_ids = 1};
    struct tree_auth none = {.ids = NULL, .n_ids = 0};
    struct tree_auth sup = {.ids = ids, .n_ids = 3};
    struct tree_auth sup_flag = {.ids = NULL, .n_ids = 0, .is_super = true};

    struct jute_acl acl[] = {
        A(ZOO_PERM_READ, "world", "anyone"),
        A(ZOO_PERM_WRITE | ZOO_PERM_DELETE, "digest", "bob:hash"),
        A(ZOO_PERM_CREATE, "ip", "10.0.0.0/8"),
        A(ZOO_PERM_ADMIN, "digest", "alice:hash"),
    };
    for (int p = 1; p <= ZOO_PERM_ADMIN; p <<= 1) {
        bool b = allows(acl, 4, p, &bob);
        bool a = allows(acl, 4, p, &anon);
        bool n = allows(acl, 4, p, &none);
        switch (p) {
        case ZOO_PERM_READ:
            CHECK(b && a && n);
            break;
        case ZOO_PERM_WRITE:
        case ZOO_PERM_DELETE:
            CHECK(b && !a && !n);
            break;
        case ZOO_PERM_CREATE:
            CHECK(b && a && !n); /* both have the 10.x address */
            break;
        case ZOO_PERM_ADMIN:
            CHECK(!b && !a && !n);
            break;
        }
        CHECK(allows(acl, 4, p, &sup));
        CHECK(allows(acl, 4, p, &sup_flag));
        CHECK(allows(acl, 0, p, &none)); /* an empty list allows all */
    }
    CHECK(tree_acl_check(NULL, ZOO_PERM_ADMIN, &none));
    CHECK(allows(acl, 4, ZOO_PERM_READ | ZOO_PERM_ADMIN, &none)); /* any one bit suffices */
    /* unknown schemes and world with another id never match */
    struct jute_acl odd[] = {A(ZOO_PERM_ALL, "sasl", "bob"), A(ZOO_PERM_ALL, "world", "bob"),
                             A(ZOO_PERM_ALL, "digest", "bob:HASH")};
    CHECK(!allows(odd, 3, ZOO_PERM_READ, &bob));
    struct jute_id sasl = {.scheme = "sasl", .id = "bob"};
    struct tree_auth sasl_who = {.ids = &sasl, .n_ids = 1};
    CHECK(!allows(odd, 3, ZOO_PERM_READ, &sasl_who));
}

/* Creates /n with `acl` and returns the create error. */
static int32_t create_with(struct tt *x, const char *path, struct jute_acl *items, int n)
{
    struct jute_create_request r = tt_creq(path, NULL, ZOO_PERSISTENT);
    r.acl = (struct jute_acl_vec){.count = n, .items = items};
    return tt_write(x, ZOO_OP_CREATE, &r, 1, NULL);
}

static void test_fixup(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_acl auth = A(ZOO_PERM_ALL, "auth", "");
    CHECK_EQ_INT(create_with(&x, "/a", &auth, 1), ZINVALIDACL);
    tt_add_id(&x, "ip", "127.0.0.1");
    CHECK_EQ_INT(create_with(&x, "/a", &auth, 1), ZINVALIDACL); /* ip is not "authenticated" */
    tt_add_id(&x, "super", "");
    CHECK_EQ_INT(create_with(&x, "/a", &auth, 1), ZINVALIDACL);
    tt_add_id(&x, "digest", "bob:h1");
    tt_add_id(&x, "digest", "bob:h2");
    CHECK_EQ_INT(create_with(&x, "/a", &auth, 1), ZOK);
    struct jute_acl_vec v;
    tree_node_acl(x.t, tree_find(x.t, "/a"), &v);
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_STR(v.items[0].id.scheme, "digest");
    CHECK_EQ_STR(v.items[0].id.id, "bob:h1");
    CHECK_EQ_STR(v.items[1].id.id, "bob:h2");
    CHECK_EQ_INT(v.items[1].perms, ZOO_PERM_ALL);

    /* duplicates go, order stays */
    struct jute_acl dup[] = {A(1, "world", "anyone"), A(2, "ip", "1.2.3.4"),
                             A(1, "world", "anyone"), A(2, "ip", "1.2.3.4")};
    CHECK_EQ_INT(create_with(&x, "/b", dup, 4), ZOK);
    tree_node_acl(x.t, tree_find(x.t, "/b"), &v);
    CHECK_EQ_INT(v.count, 2);
    CHECK_EQ_STR(v.items[1].id.scheme, "ip");

    struct jute_acl bad[] = {
        A(31, "digest", "user"), A(31, "digest", "a:b:c"), A(31, "digest", ""),
        A(31, "digest", ":::"),  A(31, "ip", "1.2.3"),     A(31, "ip", "1.2.3.4/33"),
        A(31, "ip", "::1/129"),  A(31, "ip", "host"),      A(31, "world", "somebody"),
        A(31, "super", ""),      A(31, "x509", "CN=x"),    A(31, NULL, "x"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t e = create_with(&x, "/c", &bad[i], 1);
        if (e != ZINVALIDACL)
            fprintf(stderr, "bad acl %zu accepted (%d)\n", i, e);
        CHECK_EQ_INT(e, ZINVALIDACL);
    }
    struct jute_acl good[] = {A(31, "digest", "a:b:"), A(31, "digest", ":b"),
                              A(31, "ip", "::1/128"), A(31, "ip", "10.0.0.0/8"),
                              A(0, "world", "anyone")};
    CHECK_EQ_INT(create_with(&x, "/c", good, 5), ZOK);
    struct jute_acl nul = A(31, "world", NULL);
    CHECK_EQ_INT(create_with(&x, "/d", &nul, 1), ZMARSHALLINGERROR);
    nul = A(31, "digest", NULL);
    CHECK_EQ_INT(create_with(&x, "/d", &nul, 1), ZMARSHALLINGERROR);
    tt_close(&x);
}

static void test_cache_indexes(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/")), -1);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/zookeeper/config")), 1);
    struct jute_acl a1 = A(31, "world", "anyone");
    struct jute_acl a2 = A(1, "world", "anyone");
    CHECK_EQ_INT(create_with(&x, "/a", &a1, 1), ZOK);
    CHECK_EQ_INT(create_with(&x, "/b", &a1, 1), ZOK);
    CHECK_EQ_INT(create_with(&x, "/c", &a2, 1), ZOK); /* same as config's list */
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/a")), 2);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/b")), 2);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/c")), 1);
    struct jute_acl_vec va, vb;
    tree_node_acl(x.t, tree_find(x.t, "/a"), &va);
    tree_node_acl(x.t, tree_find(x.t, "/b"), &vb);
    CHECK(va.items == vb.items); /* interned */
    CHECK_EQ_INT(tt_delete(&x, "/a", -1), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/b", -1), ZOK);
    /* the list's last user is gone: the same list comes back with a new index */
    CHECK_EQ_INT(create_with(&x, "/a", &a1, 1), ZOK);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/a")), 3);
    /* setACL moves the node to another entry */
    struct jute_set_acl_request sa = {
        .path = "/a", .acl = {.count = 1, .items = &a2}, .version = -1};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZOK);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/a")), 1);
    struct jute_acl two[] = {A(1, "ip", "1.2.3.4"), A(2, "ip", "1.2.3.4")};
    struct jute_acl two_rev[] = {A(2, "ip", "1.2.3.4"), A(1, "ip", "1.2.3.4")};
    CHECK_EQ_INT(create_with(&x, "/d", two, 2), ZOK);
    CHECK_EQ_INT(create_with(&x, "/e", two_rev, 2), ZOK); /* order matters: another list */
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/d")), 4);
    CHECK_EQ_INT(tree_node_acl_index(x.t, tree_find(x.t, "/e")), 5);
    tt_close(&x);
}

static void test_ops_by_perm(void)
{
    struct tt x;
    tt_init(&x);
    /* /n: bob may read and write, ip 10/8 may create, alice is admin; nobody may delete */
    struct jute_acl acl[] = {
        A(ZOO_PERM_READ | ZOO_PERM_WRITE, "digest", "bob:hash"),
        A(ZOO_PERM_CREATE, "ip", "10.0.0.0/8"),
        A(ZOO_PERM_ADMIN, "digest", "alice:hash"),
    };
    CHECK_EQ_INT(create_with(&x, "/n", acl, 3), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/n/c", NULL, ZOO_PERSISTENT, NULL, 0), ZNOAUTH);
    CHECK_EQ_INT(tt_set(&x, "/n", "x", -1, NULL), ZNOAUTH);
    tt_add_id(&x, "ip", "10.9.8.7");
    CHECK_EQ_INT(tt_create(&x, "/n/c", NULL, ZOO_PERSISTENT, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/n", "x", -1, NULL), ZNOAUTH);
    struct jute_path_version_request chk = {.path = "/n", .version = -1};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CHECK, &chk, 1, NULL), ZNOAUTH); /* check needs READ */
    tt_add_id(&x, "digest", "bob:hash");
    CHECK_EQ_INT(tt_set(&x, "/n", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CHECK, &chk, 1, NULL), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/n/c", -1), ZNOAUTH);
    struct jute_set_acl_request sa = {.path = "/n", .acl = tt_open_acl, .version = -1};
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZNOAUTH);
    x.auth.is_super = true;
    CHECK_EQ_INT(tt_delete(&x, "/n/c", -1), ZOK);
    x.auth.is_super = false;
    tt_add_id(&x, "digest", "alice:hash");
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_SETACL, &sa, 1, NULL), ZOK);
    /* the read check a server does on getData */
    struct jute_acl only_bob = A(ZOO_PERM_READ, "digest", "bob:hash");
    CHECK_EQ_INT(create_with(&x, "/r", &only_bob, 1), ZOK);
    struct tree_auth nobody = {0};
    CHECK(!tree_acl_allows(x.t, tree_find(x.t, "/r"), ZOO_PERM_READ, &nobody));
    CHECK(tree_acl_allows(x.t, tree_find(x.t, "/r"), ZOO_PERM_READ, &x.auth));
    tt_close(&x);
}

int main(void)
{
    RUN(test_digest);
    RUN(test_ip_match);
    RUN(test_check);
    RUN(test_fixup);
    RUN(test_cache_indexes);
    RUN(test_ops_by_perm);
    return t_done();
}
