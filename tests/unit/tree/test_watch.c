/*
 * Watches: every event type and DataTree's order, one-shot removal,
 * persistent and persistent-recursive watches, one event per trigger,
 * removeWatches/checkWatches, dropping a connection, setWatches with a
 * relative zxid, and the 4lw summaries.
 */
#include "tree_test.h"

static int W1, W2, W3; /* watcher identities */

static void expect(struct tt *x, int i, void *w, int32_t type, const char *path)
{
    if (i >= x->n_ev) {
        fprintf(stderr, "event %d missing (%d events)\n", i, x->n_ev);
        CHECK(i < x->n_ev);
        return;
    }
    CHECK(x->ev[i].watcher == w);
    CHECK_EQ_INT(x->ev[i].type, type);
    CHECK_EQ_STR(x->ev[i].path, path);
    CHECK_EQ_INT(x->ev[i].state, ZOO_STATE_SYNC_CONNECTED);
}

static void test_create_delete_events(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_EXIST, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_CHILD, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_CHILD, &W2), 0);
    CHECK_EQ_INT(tt_create(&x, "/a", "d", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 3);
    expect(&x, 0, &W1, ZOO_EVENT_CREATED, "/a");
    expect(&x, 1, &W1, ZOO_EVENT_CHILDREN_CHANGED, "/");
    expect(&x, 2, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/");
    CHECK(x.ev[0].has_acl && x.ev[0].acl_count == 1);
    /* one-shot: gone */
    x.n_ev = 0;
    CHECK_EQ_INT(tt_create(&x, "/b", "d", 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 0);
    CHECK_EQ_INT(tree_watch_count(x.t), 0);

    /* delete: data and child watches of one watcher give one NodeDeleted */
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_CHILD, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_CHILD, &W2), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_CHILD, &W3), 0);
    CHECK_EQ_INT(tree_watch_count(x.t), 4);
    CHECK_EQ_INT(tt_delete(&x, "/a", -1), ZOK);
    CHECK_EQ_INT(x.n_ev, 3);
    expect(&x, 0, &W1, ZOO_EVENT_DELETED, "/a");
    expect(&x, 1, &W2, ZOO_EVENT_DELETED, "/a");
    expect(&x, 2, &W3, ZOO_EVENT_CHILDREN_CHANGED, "/");
    CHECK_EQ_INT(tree_watch_count(x.t), 0);

    /* setData */
    x.n_ev = 0;
    CHECK_EQ_INT(tree_watch_add(x.t, "/b", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/b", TREE_WATCH_CHILD, &W2), 0);
    CHECK_EQ_INT(tt_set(&x, "/b", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 1);
    expect(&x, 0, &W1, ZOO_EVENT_DATA_CHANGED, "/b");
    CHECK_EQ_INT(tt_set(&x, "/b", "y", -1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 1);
    /* the child watch is still there; a child create fires it with the parent's ACL */
    CHECK_EQ_INT(tt_create(&x, "/b/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 2);
    expect(&x, 1, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/b");
    tt_close(&x);
}

static void test_event_acl(void)
{
    struct tt x;
    tt_init(&x);
    struct jute_acl two[] = {
        {.perms = ZOO_PERM_READ, .id = {.scheme = "digest", .id = "u:h"}},
        {.perms = ZOO_PERM_ALL, .id = {.scheme = "world", .id = "anyone"}},
    };
    struct jute_create_request r = tt_creq("/s", NULL, 0);
    r.acl = (struct jute_acl_vec){.count = 2, .items = two};
    CHECK_EQ_INT(tree_watch_add(x.t, "/s", TREE_WATCH_EXIST, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/s", TREE_WATCH_PERSISTENT, &W2), 0);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CREATE, &r, 1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 2);
    CHECK_EQ_INT(x.ev[0].acl_count, 2);
    CHECK_EQ_INT(tt_create(&x, "/s/k", NULL, 0, NULL, 0), ZOK);
    expect(&x, 2, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/s");
    CHECK_EQ_INT(x.ev[2].acl_count, 2); /* the parent's ACL */
    CHECK_EQ_INT(tt_delete(&x, "/s/k", -1), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/s", -1), ZOK);
    expect(&x, 4, &W2, ZOO_EVENT_DELETED, "/s");
    CHECK_EQ_INT(x.ev[4].acl_count, 2); /* the deleted node's ACL, still readable */
    tt_close(&x);
}

static void test_persistent(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/p", TREE_WATCH_PERSISTENT, &W1), 0);
    CHECK_EQ_INT(tt_create(&x, "/p", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/p", "1", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/p", "2", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/p/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/p/c/g", NULL, 0, NULL, 0), ZOK); /* not below: no event */
    CHECK_EQ_INT(tt_set(&x, "/p/c", "x", -1, NULL), ZOK);         /* no event */
    CHECK_EQ_INT(tt_delete(&x, "/p/c/g", -1), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/p/c", -1), ZOK);
    CHECK_EQ_INT(tt_delete(&x, "/p", -1), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/p", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 7);
    expect(&x, 0, &W1, ZOO_EVENT_CREATED, "/p");
    expect(&x, 1, &W1, ZOO_EVENT_DATA_CHANGED, "/p");
    expect(&x, 2, &W1, ZOO_EVENT_DATA_CHANGED, "/p");
    expect(&x, 3, &W1, ZOO_EVENT_CHILDREN_CHANGED, "/p");
    expect(&x, 4, &W1, ZOO_EVENT_CHILDREN_CHANGED, "/p");
    expect(&x, 5, &W1, ZOO_EVENT_DELETED, "/p");
    expect(&x, 6, &W1, ZOO_EVENT_CREATED, "/p");
    CHECK_EQ_INT(tree_watch_count(x.t), 2); /* data + child table */
    tt_close(&x);
}

static void test_recursive(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/r", TREE_WATCH_PERSISTENT_RECURSIVE, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/r/a/b", TREE_WATCH_EXIST, &W1), 0); /* dedup */
    CHECK_EQ_INT(tree_watch_add(x.t, "/r/a", TREE_WATCH_CHILD, &W2), 0);
    CHECK_EQ_INT(tt_create(&x, "/r", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/r/a", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/r/a/b", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/r/a/b", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/rx", NULL, 0, NULL, 0), ZOK); /* not below /r */
    CHECK_EQ_INT(tt_delete(&x, "/r/a/b", -1), ZOK);
    CHECK_EQ_INT(x.n_ev, 6);
    expect(&x, 0, &W1, ZOO_EVENT_CREATED, "/r");
    expect(&x, 1, &W1, ZOO_EVENT_CREATED, "/r/a");
    expect(&x, 2, &W1, ZOO_EVENT_CREATED, "/r/a/b"); /* once, though watched two ways */
    expect(&x, 3, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/r/a");
    expect(&x, 4, &W1, ZOO_EVENT_DATA_CHANGED, "/r/a/b");
    expect(&x, 5, &W1, ZOO_EVENT_DELETED, "/r/a/b");
    /* recursive on the root sees everything but child events */
    x.n_ev = 0;
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_PERSISTENT_RECURSIVE, &W3), 0);
    CHECK_EQ_INT(tt_create(&x, "/z", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 2);
    expect(&x, 0, &W3, ZOO_EVENT_CREATED, "/z");
    expect(&x, 1, &W3, ZOO_EVENT_DATA_CHANGED, "/");
    tt_close(&x);
}

static void test_modes_coexist(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_PERSISTENT, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_count(x.t), 2);
    CHECK_EQ_INT(tt_set(&x, "/a", "1", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/a", "2", -1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 2); /* one per change, and the persistent watch survives */
    /* 3.8: a DATA check matches the persistent watch's data-table entry */
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_PERSISTENT, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_PERSISTENT_RECURSIVE, &W1, true),
                 ZNOWATCHER);
    /* removing DATA takes the data-table entry, the child-table half stays */
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, false), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_CHILDREN, &W1, true), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/a", "3", -1, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 2);
    tt_close(&x);
}

static void test_remove_and_check(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_CHILD, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_CHILD, &W2), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/b", TREE_WATCH_PERSISTENT, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/c", TREE_WATCH_PERSISTENT_RECURSIVE, &W1), 0);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_CHILDREN, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_ANY, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W2, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W3, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/zz", ZOO_WATCHER_ANY, &W1, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/b", ZOO_WATCHER_PERSISTENT, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/b", ZOO_WATCHER_DATA, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/b", ZOO_WATCHER_CHILDREN, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/c", ZOO_WATCHER_CHILDREN, &W1, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/c", ZOO_WATCHER_PERSISTENT_RECURSIVE, &W1, true), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/c", ZOO_WATCHER_PERSISTENT, &W1, true), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", 0, &W1, true), ZMARSHALLINGERROR);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", 6, &W1, false), ZMARSHALLINGERROR);
    CHECK_EQ_INT(tree_watch_count(x.t), 6);

    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, false), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_DATA, &W1, false), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_ANY, &W1, false), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/a", ZOO_WATCHER_ANY, &W1, false), ZNOWATCHER);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/b", ZOO_WATCHER_PERSISTENT, &W1, false), ZOK);
    CHECK_EQ_INT(tree_watch_remove(x.t, "/c", ZOO_WATCHER_PERSISTENT_RECURSIVE, &W1, false), ZOK);
    CHECK_EQ_INT(tree_watch_count(x.t), 1);
    /* nothing fires for removed watches; W2's child watch still does */
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a/k", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/c", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 1);
    expect(&x, 0, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/a");
    tt_close(&x);
}

static void test_drop_all(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_EXIST, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_PERSISTENT_RECURSIVE, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_EXIST, &W2), 0);
    tree_watch_drop_all(x.t, &W1);
    tree_watch_drop_all(x.t, &W3); /* unknown: no-op */
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 1);
    expect(&x, 0, &W2, ZOO_EVENT_CREATED, "/a");
    tt_close(&x);
}

static void test_set_watches(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/old", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/par", NULL, 0, NULL, 0), ZOK);
    int64_t rel = x.zxid;
    CHECK_EQ_INT(tt_create(&x, "/new", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/changed", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/par2", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/par2/k", NULL, 0, NULL, 0), ZOK);
    char *data[] = {"/old", "/changed", "/gone"};
    char *exist[] = {"/new", "/missing"};
    char *child[] = {"/par", "/par2", "/gone2"};
    char *pers[] = {"/p"};
    char *rec[] = {"/r"};
    struct jute_set_watches sw = {
        .relative_zxid = rel,
        .data_watches = {.count = 3, .items = data},
        .exist_watches = {.count = 2, .items = exist},
        .child_watches = {.count = 3, .items = child},
        .persistent_watches = {.count = 1, .items = pers},
        .persistent_recursive_watches = {.count = 1, .items = rec},
    };
    CHECK_EQ_INT(tree_set_watches(x.t, &sw, &W1), 0);
    CHECK_EQ_INT(x.n_ev, 5);
    expect(&x, 0, &W1, ZOO_EVENT_DATA_CHANGED, "/changed");
    expect(&x, 1, &W1, ZOO_EVENT_DELETED, "/gone");
    expect(&x, 2, &W1, ZOO_EVENT_CREATED, "/new");
    expect(&x, 3, &W1, ZOO_EVENT_CHILDREN_CHANGED, "/par2");
    expect(&x, 4, &W1, ZOO_EVENT_DELETED, "/gone2");
    CHECK(!x.ev[0].has_acl);
    /* registered: data /old, exist /missing, child /par, persistent /p (2), recursive /r */
    CHECK_EQ_INT(tree_watch_count(x.t), 6);
    x.n_ev = 0;
    CHECK_EQ_INT(tt_set(&x, "/old", "x", -1, NULL), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/missing", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/par/k", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/r", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/r/k", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/p", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(x.n_ev, 6);
    expect(&x, 0, &W1, ZOO_EVENT_DATA_CHANGED, "/old");
    expect(&x, 1, &W1, ZOO_EVENT_CREATED, "/missing");
    expect(&x, 2, &W1, ZOO_EVENT_CHILDREN_CHANGED, "/par");
    expect(&x, 3, &W1, ZOO_EVENT_CREATED, "/r");
    expect(&x, 4, &W1, ZOO_EVENT_CREATED, "/r/k");
    expect(&x, 5, &W1, ZOO_EVENT_CREATED, "/p");
    tt_close(&x);
}

static void test_close_session_events(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tt_create(&x, "/e1", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/e2", NULL, ZOO_EPHEMERAL, NULL, 0), ZOK);
    CHECK_EQ_INT(tree_watch_add(x.t, "/e1", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/e2", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/", TREE_WATCH_PERSISTENT, &W2), 0);
    CHECK_EQ_INT(tt_write(&x, ZOO_OP_CLOSESESSION, NULL, 0, NULL), ZOK);
    CHECK_EQ_INT(x.n_ev, 4);
    expect(&x, 0, &W1, ZOO_EVENT_DELETED, "/e1");
    expect(&x, 1, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/");
    expect(&x, 2, &W1, ZOO_EVENT_DELETED, "/e2");
    expect(&x, 3, &W2, ZOO_EVENT_CHILDREN_CHANGED, "/");
    tt_close(&x);
}

struct visit {
    int n;
    int nulls;
};

static void visit_fn(void *watcher, const char *path, void *arg)
{
    struct visit *v = arg;
    (void)watcher;
    if (path)
        v->n++;
    else
        v->nulls++;
}

static void test_summary(void)
{
    struct tt x;
    tt_init(&x);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/b", TREE_WATCH_DATA, &W1), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/a", TREE_WATCH_DATA, &W2), 0);
    CHECK_EQ_INT(tree_watch_add(x.t, "/c", TREE_WATCH_CHILD, &W3), 0);
    struct tree_watch_summary s;
    tree_watch_summary(x.t, &s);
    CHECK_EQ_INT(s.connections, 2);
    CHECK_EQ_INT(s.paths, 2);
    CHECK_EQ_INT(s.watches, 3);
    CHECK_EQ_INT(tree_watch_count(x.t), 4);
    struct visit v = {0};
    tree_watch_foreach_by_watcher(x.t, visit_fn, &v);
    CHECK_EQ_INT(v.n, 3);
    v = (struct visit){0};
    tree_watch_foreach_by_path(x.t, visit_fn, &v);
    CHECK_EQ_INT(v.n, 3);
    /* W2's only watch fires: ZooKeeper still lists the connection */
    CHECK_EQ_INT(tt_create(&x, "/b", NULL, 0, NULL, 0), ZOK);
    CHECK_EQ_INT(tt_create(&x, "/a", NULL, 0, NULL, 0), ZOK);
    tree_watch_summary(x.t, &s);
    CHECK_EQ_INT(s.connections, 2);
    CHECK_EQ_INT(s.paths, 0);
    CHECK_EQ_INT(s.watches, 0);
    v = (struct visit){0};
    tree_watch_foreach_by_watcher(x.t, visit_fn, &v);
    CHECK_EQ_INT(v.nulls, 2);
    tree_watch_drop_all(x.t, &W2);
    tree_watch_summary(x.t, &s);
    CHECK_EQ_INT(s.connections, 1);
    tt_close(&x);
}

int main(void)
{
    RUN(test_create_delete_events);
    RUN(test_event_acl);
    RUN(test_persistent);
    RUN(test_recursive);
    RUN(test_modes_coexist);
    RUN(test_remove_and_check);
    RUN(test_drop_all);
    RUN(test_set_watches);
    RUN(test_close_session_events);
    RUN(test_summary);
    return t_done();
}
