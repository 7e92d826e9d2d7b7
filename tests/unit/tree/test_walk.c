/*
 * The resumable preorder walk (tree_walk_*) under changes between steps: the
 * same order as tree_foreach_node when nothing changes; deletes of the node it
 * would visit next, of the first child, of the directories it is inside and
 * their parents; deletes followed by creates at the same paths (which reuse
 * the freed ids); setData reallocating the next node; the tree emptied or
 * freed under it; and a randomised sweep (120 runs) checking, for every run, that no
 * path comes twice, parents come first, nothing created after the start
 * comes, and every node that was there at the start and never deleted comes.
 */
#include "tree_test.h"

#define MAXV 4096

/* What a walk gave: paths in order (plain malloc, so OOM sweeps never hit them). */
struct seen {
    char *path[MAXV];
    int64_t czxid[MAXV];
    int n;
};

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->path[i]);
    s->n = 0;
}

static int seen_find(const struct seen *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->path[i], path) == 0)
            return i;
    return -1;
}

/* Takes one step; 1 with the path recorded, 0 at the end. */
static int step(struct tree_walk *w, struct seen *s)
{
    const char *path;
    size_t len;
    const struct tree_node *n;
    int rc;
    while ((rc = tree_walk_next(w, &path, &len, &n)) == 2)
        ;
    CHECK(rc == 0 || rc == 1);
    if (rc != 1)
        return rc;
    CHECK_EQ_INT(strlen(path), len);
    CHECK(s->n < MAXV);
    if (s->n < MAXV) {
        s->path[s->n] = strdup(path);
        struct jute_stat st;
        tree_node_stat(n, &st);
        s->czxid[s->n] = st.czxid;
        s->n++;
    }
    return 1;
}

/* Steps until `path` has been visited. */
static void walk_to(struct tree_walk *w, struct seen *s, const char *path)
{
    while (s->n == 0 || strcmp(s->path[s->n - 1], path) != 0)
        if (step(w, s) != 1) {
            fprintf(stderr, "walk ended before %s\n", path);
            CHECK(0);
            return;
        }
}

static void walk_rest(struct tree_walk *w, struct seen *s)
{
    while (step(w, s) == 1)
        ;
}

/* No path twice, each after its parent ("" is the root, "/x" hangs under it). */
static void check_order(const struct seen *s)
{
    CHECK(s->n > 0 && strcmp(s->path[0], "") == 0);
    for (int i = 1; i < s->n; i++) {
        const char *p = s->path[i];
        int first = seen_find(s, p);
        if (first != i) {
            fprintf(stderr, "%s visited twice (%d and %d)\n", p, first, i);
            CHECK(0);
        }
        const char *slash = strrchr(p, '/');
        CHECK(slash != NULL);
        char parent[256];
        size_t plen = (size_t)(slash - p);
        memcpy(parent, p, plen);
        parent[plen] = '\0';
        int pi = seen_find(s, parent);
        if (pi < 0 || pi >= i) {
            fprintf(stderr, "%s visited before its parent %s\n", p, parent);
            CHECK(0);
        }
    }
}

static void mk(struct tt *x, const char *path)
{
    CHECK_EQ_INT(tt_create(x, path, "d", 0, NULL, 0), ZOK);
}

static void rm(struct tt *x, const char *path)
{
    CHECK_EQ_INT(tt_delete(x, path, -1), ZOK);
}

static int collect_cb(const char *path, size_t len, const struct tree_node *n, void *arg)
{
    (void)len;
    (void)n;
    struct seen *s = arg;
    s->path[s->n++] = strdup(path);
    return 0;
}

static void test_same_as_foreach(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    mk(&x, "/a/b");
    mk(&x, "/a/b/c");
    mk(&x, "/a/d");
    mk(&x, "/e");
    struct seen all = {0}, walked = {0};
    CHECK_EQ_INT(tree_foreach_node(x.t, collect_cb, &all), 0);
    struct tree_walk *w;
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    walk_rest(w, &walked);
    CHECK_EQ_INT(step(w, &walked), 0); /* stays at the end */
    CHECK_EQ_INT(walked.n, all.n);
    for (int i = 0; i < all.n && i < walked.n; i++)
        CHECK_EQ_STR(walked.path[i], all.path[i]);
    CHECK_EQ_INT(all.n, 9); /* "", /zookeeper, its quota and config, and the five */
    check_order(&walked);
    tree_walk_free(w);
    /* detached: another may start */
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    tree_walk_free(w);
    seen_free(&all);
    seen_free(&walked);
    tt_close(&x);
}

/* Three walks at once, at different places, all follow the same deletes; freeing one in the
 * middle of the list leaves the others following; freeing the tree detaches the rest. */
static void test_several_walks(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    for (int i = 1; i <= 6; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/a/b%d", i);
        mk(&x, p);
    }
    mk(&x, "/z");
    struct seen s1 = {0}, s2 = {0}, s3 = {0};
    struct tree_walk *w1, *w2, *w3;
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w1), 0);
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w2), 0);
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w3), 0);
    walk_to(w1, &s1, "/a/b1");
    walk_to(w2, &s2, "/a/b3");
    walk_to(w3, &s3, "/a/b4");
    rm(&x, "/a/b2"); /* w1's next */
    rm(&x, "/a/b4"); /* w2's next, w3's current */
    rm(&x, "/a/b5"); /* w3's next */
    tree_walk_free(w2); /* the middle of the list */
    mk(&x, "/a/b7");    /* created after the walks began: skipped by both */
    CHECK_EQ_INT(step(w1, &s1), 1);
    CHECK_EQ_STR(s1.path[s1.n - 1], "/a/b3");
    CHECK_EQ_INT(step(w3, &s3), 1);
    CHECK_EQ_STR(s3.path[s3.n - 1], "/a/b6");
    rm(&x, "/a/b6"); /* w1's next again, after w2 left the list */
    CHECK_EQ_INT(step(w1, &s1), 1);
    CHECK_EQ_STR(s1.path[s1.n - 1], "/z");
    check_order(&s1);
    tree_free(x.t); /* both still follow it: both fail from now on, and free after it */
    x.t = NULL;
    const char *path;
    size_t len;
    const struct tree_node *n;
    CHECK_EQ_INT(tree_walk_next(w1, &path, &len, &n), PD_ECLOSED);
    CHECK_EQ_INT(tree_walk_next(w3, &path, &len, &n), PD_ECLOSED);
    tree_walk_free(w3);
    tree_walk_free(w1);
    seen_free(&s1);
    seen_free(&s2);
    seen_free(&s3);
    tt_close(&x);
}

static void test_delete_next_and_first(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    for (int i = 1; i <= 5; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/a/b%d", i);
        mk(&x, p);
    }
    mk(&x, "/z");
    struct seen s = {0};
    struct tree_walk *w;
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    walk_to(w, &s, "/a/b2");
    rm(&x, "/a/b3"); /* the next one */
    rm(&x, "/a/b1"); /* the first child, already visited */
    CHECK_EQ_INT(step(w, &s), 1);
    CHECK_EQ_STR(s.path[s.n - 1], "/a/b4");
    rm(&x, "/a/b5"); /* the last one, next again */
    rm(&x, "/a/b2");
    CHECK_EQ_INT(step(w, &s), 1);
    CHECK_EQ_STR(s.path[s.n - 1], "/z");
    CHECK_EQ_INT(step(w, &s), 0);
    check_order(&s);
    tree_walk_free(w);
    seen_free(&s);
    tt_close(&x);
}

/* The directories the walk is inside go, and come back (with the freed ids) at the same paths. */
static void test_delete_dirs_and_recreate(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    mk(&x, "/a/b");
    mk(&x, "/a/b/c1");
    mk(&x, "/a/b/c2");
    mk(&x, "/a/b2");
    mk(&x, "/y");
    mk(&x, "/z");
    struct seen s = {0};
    struct tree_walk *w;
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    int64_t start = x.zxid;
    walk_to(w, &s, "/a/b/c1");
    rm(&x, "/a/b/c2");
    rm(&x, "/a/b/c1");
    rm(&x, "/a/b");
    rm(&x, "/a/b2");
    rm(&x, "/a");
    rm(&x, "/y"); /* the walk's next at the top */
    /* LIFO id reuse: these get the ids just freed */
    mk(&x, "/y");
    mk(&x, "/a");
    mk(&x, "/a/b");
    mk(&x, "/a/b/c2");
    mk(&x, "/a/b2");
    walk_rest(w, &s);
    check_order(&s);
    CHECK(seen_find(&s, "/z") >= 0);
    CHECK(seen_find(&s, "/y") < 0); /* the new one is left to the log */
    CHECK(seen_find(&s, "/a/b2") < 0);
    for (int i = 0; i < s.n; i++)
        CHECK(s.czxid[i] <= start);
    tree_walk_free(w);
    seen_free(&s);
    tt_close(&x);
}

/* Deleted and created again at the same path, before and after the walk passes: once at most. */
static void test_recreate_same_path(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    mk(&x, "/a/b1");
    mk(&x, "/a/b2");
    mk(&x, "/a/b3");
    struct seen s = {0};
    struct tree_walk *w;
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    walk_to(w, &s, "/a/b1");
    rm(&x, "/a/b1");
    mk(&x, "/a/b1"); /* appended after b3 */
    rm(&x, "/a/b2");
    mk(&x, "/a/b2");
    mk(&x, "/a/b1/new"); /* under a node created after the start */
    walk_rest(w, &s);
    check_order(&s);
    CHECK(seen_find(&s, "/a/b1") >= 0);
    CHECK(seen_find(&s, "/a/b2") < 0);
    CHECK(seen_find(&s, "/a/b3") >= 0);
    CHECK(seen_find(&s, "/a/b1/new") < 0);
    tree_walk_free(w);
    seen_free(&s);
    tt_close(&x);
}

/* setData moves the node's block (ids stay): the walk gives the new data. */
static void test_set_data_moves(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    mk(&x, "/a/b1");
    mk(&x, "/a/b2");
    mk(&x, "/a/b2/c");
    struct tree_walk *w;
    struct seen s = {0};
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    walk_to(w, &s, "/a/b1");
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ_INT(tt_set(&x, "/a/b2", big, -1, NULL), ZOK);
    CHECK_EQ_INT(tt_set(&x, "/a", big, -1, NULL), ZOK); /* a directory on the walk's stack */
    const char *path;
    size_t len;
    const struct tree_node *n;
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), 1);
    CHECK_EQ_STR(path, "/a/b2");
    CHECK_EQ_INT(tree_node_data(n).len, (int32_t)sizeof(big) - 1);
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), 1);
    CHECK_EQ_STR(path, "/a/b2/c");
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), 0);
    tree_walk_free(w);
    seen_free(&s);
    tt_close(&x);
}

/* Emptied (a load) or freed under it: the walk fails, and can still be freed. */
static void test_tree_goes(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    struct tree_walk *w;
    struct seen s = {0};
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    CHECK_EQ_INT(step(w, &s), 1);
    CHECK_EQ_INT(tree_load_begin(x.t), 0);
    const char *path;
    size_t len;
    const struct tree_node *n;
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), PD_ECLOSED);
    tree_walk_free(w);
    tree_free(x.t);
    x.t = NULL;
    tt_close(&x);

    tt_init(&x);
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    tree_free(x.t);
    x.t = NULL;
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), PD_ECLOSED);
    tree_walk_free(w); /* after its tree: ASan checks nothing is touched */
    tt_close(&x);
    seen_free(&s);
}

/* Many nodes created behind the walk's position: skipped a bounded run per call. */
static void test_many_new_siblings(void)
{
    struct tt x;
    tt_init(&x);
    mk(&x, "/a");
    mk(&x, "/a/old1");
    mk(&x, "/a/old2");
    mk(&x, "/z");
    struct tree_walk *w;
    struct seen s = {0};
    CHECK_EQ_INT(tree_walk_new(x.t, x.zxid, &w), 0);
    walk_to(w, &s, "/a/old1");
    for (int i = 0; i < 1000; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/a/new%04d", i);
        mk(&x, p);
    }
    const char *path;
    size_t len;
    const struct tree_node *n;
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), 1);
    CHECK_EQ_STR(path, "/a/old2");
    int calls = 0, rc;
    while ((rc = tree_walk_next(w, &path, &len, &n)) == 2)
        calls++;
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_STR(path, "/z");
    CHECK(calls >= 1000 / 64 && calls <= 1000 / 64 + 1);
    CHECK_EQ_INT(tree_walk_next(w, &path, &len, &n), 0);
    tree_walk_free(w);
    seen_free(&s);
    tt_close(&x);
}

/* ---- randomised ------------------------------------------------------------------------ */

struct model {
    char *live[MAXV]; /* paths that exist now (the four built-in ones excluded) */
    int n_live;
    char *gone[MAXV]; /* paths of start-time nodes deleted since the walk began */
    int n_gone;
};

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33) % n;
}

static bool has_children(const struct model *m, const char *p)
{
    size_t l = strlen(p);
    for (int i = 0; i < m->n_live; i++)
        if (strncmp(m->live[i], p, l) == 0 && m->live[i][l] == '/')
            return true;
    return false;
}

static void random_create(struct tt *x, struct model *m)
{
    if (m->n_live >= 600)
        return;
    const char *parent = m->n_live && rnd(4) ? m->live[rnd((uint32_t)m->n_live)] : "";
    if (strlen(parent) > 40)
        return;
    char path[128];
    bool seq = rnd(5) == 0;
    snprintf(path, sizeof(path), "%s/%c%s", parent, 'a' + rnd(6), seq ? "-" : "");
    char made[128];
    struct jute_create_request r = tt_creq(path, "v", seq ? ZOO_PERSISTENT_SEQUENTIAL : 0);
    struct tree_result res;
    int32_t err = tt_write(x, ZOO_OP_CREATE2, &r, 1, &res);
    if (err == ZOK) {
        snprintf(made, sizeof(made), "%s", res.path);
        m->live[m->n_live++] = strdup(made);
    } else {
        CHECK_EQ_INT(err, ZNODEEXISTS);
    }
}

static void random_delete(struct tt *x, struct model *m, const struct seen *start)
{
    if (!m->n_live)
        return;
    int i = (int)rnd((uint32_t)m->n_live);
    if (has_children(m, m->live[i]))
        return;
    rm(x, m->live[i]);
    if (seen_find(start, m->live[i]) >= 0 && m->n_gone < MAXV)
        m->gone[m->n_gone++] = strdup(m->live[i]);
    free(m->live[i]);
    m->live[i] = m->live[--m->n_live];
}

static void random_set(struct tt *x, struct model *m)
{
    if (!m->n_live)
        return;
    static char buf[3000];
    size_t len = rnd(sizeof(buf) - 1);
    memset(buf, 'a' + (int)rnd(26), len);
    buf[len] = '\0';
    CHECK_EQ_INT(tt_set(x, m->live[rnd((uint32_t)m->n_live)], buf, -1, NULL), ZOK);
}

static void one_random_run(uint64_t seed)
{
    rng_state = seed;
    struct tt x;
    tt_init(&x);
    struct model m = {0};
    int n0 = 50 + (int)rnd(250);
    for (int i = 0; i < n0; i++)
        random_create(&x, &m);
    struct seen start = {0};
    CHECK_EQ_INT(tree_foreach_node(x.t, collect_cb, &start), 0);
    int64_t start_zxid = x.zxid;
    struct tree_walk *w;
    CHECK_EQ_INT(tree_walk_new(x.t, start_zxid, &w), 0);
    struct seen s = {0};
    bool is_end = false;
    while (!is_end) {
        int k = 1 + (int)rnd(3);
        for (int i = 0; i < k && !is_end; i++)
            is_end = step(w, &s) != 1;
        int muts = (int)rnd(6);
        for (int i = 0; i < muts; i++) {
            switch (rnd(4)) {
            case 0:
                random_create(&x, &m);
                break;
            case 1:
            case 2:
                random_delete(&x, &m, &start);
                break;
            default:
                random_set(&x, &m);
                break;
            }
        }
    }
    check_order(&s);
    for (int i = 0; i < s.n; i++) {
        CHECK(s.czxid[i] <= start_zxid);
        CHECK(seen_find(&start, s.path[i]) >= 0);
    }
    /* every start-time node never deleted was visited */
    for (int i = 0; i < start.n; i++) {
        bool deleted = false;
        for (int g = 0; g < m.n_gone && !deleted; g++)
            deleted = strcmp(m.gone[g], start.path[i]) == 0;
        if (!deleted && seen_find(&s, start.path[i]) < 0) {
            fprintf(stderr, "seed %llu: %s missed\n", (unsigned long long)seed, start.path[i]);
            CHECK(0);
        }
    }
    tree_walk_free(w);
    seen_free(&s);
    seen_free(&start);
    for (int i = 0; i < m.n_live; i++)
        free(m.live[i]);
    for (int i = 0; i < m.n_gone; i++)
        free(m.gone[i]);
    tt_close(&x);
}

static void test_random_changes(void)
{
    for (uint64_t seed = 1; seed <= 120; seed++)
        one_random_run(seed);
}

int main(void)
{
    RUN(test_same_as_foreach);
    RUN(test_several_walks);
    RUN(test_delete_next_and_first);
    RUN(test_delete_dirs_and_recreate);
    RUN(test_recreate_same_path);
    RUN(test_set_data_moves);
    RUN(test_tree_goes);
    RUN(test_many_new_siblings);
    RUN(test_random_changes);
    return t_done();
}
