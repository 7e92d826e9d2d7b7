/*
 * Blocking wrappers over the asynchronous core, and deep copies of results.
 * A wrapper submits its request with a heap slot as context and runs
 * poll() + pdk_process() until the slot is filled; on a timeout the slot is
 * abandoned and the completion frees it whenever it finally runs, so a late
 * reply never writes into a returned stack frame.
 */
#include "client/client_int.h"

#include "common/alloc.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* ---- deep copy ------------------------------------------------------------------- */

/* A bump region: with base NULL it only measures. */
struct bump {
    char *base;
    size_t used;
};

static void *bump(struct bump *b, size_t n)
{
    size_t at = (b->used + 7) & ~(size_t)7;
    b->used = at + n;
    return b->base ? b->base + at : NULL;
}

static const char *bump_str(struct bump *b, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = bump(b, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Copies the fields of src that point elsewhere into b; dst is already a shallow copy. */
static void copy_deep(struct bump *b, struct pdk_result *dst, const struct pdk_result *src)
{
    /* Nothing in the copy may point back into the client, even with a count of 0. */
    dst->path = NULL;
    dst->stat = NULL;
    dst->data = NULL;
    dst->strings.items = NULL;
    dst->acl.items = NULL;
    dst->infos = NULL;
    dst->results = NULL;
    if (src->path)
        dst->path = bump_str(b, src->path);
    if (src->stat) {
        struct pdk_stat *st = bump(b, sizeof(*st));
        if (st)
            *st = *src->stat;
        dst->stat = st;
    }
    if (src->data && src->data_len >= 0) {
        /* One NUL past the end, so text values can be used as strings. */
        char *d = bump(b, (size_t)src->data_len + 1);
        if (d) {
            memcpy(d, src->data, (size_t)src->data_len);
            d[src->data_len] = '\0';
        }
        dst->data = d;
    }
    if (src->strings.count > 0) {
        char **items = bump(b, (size_t)src->strings.count * sizeof(*items));
        for (int32_t i = 0; i < src->strings.count; i++) {
            const char *s = bump_str(b, src->strings.items[i]);
            if (items)
                items[i] = (char *)s;
        }
        dst->strings.items = items;
    }
    if (src->acl.count > 0) {
        struct pdk_acl *a = bump(b, (size_t)src->acl.count * sizeof(*a));
        for (int32_t i = 0; i < src->acl.count; i++) {
            const char *scheme = bump_str(b, src->acl.items[i].scheme);
            const char *id = bump_str(b, src->acl.items[i].id);
            if (a)
                a[i] = (struct pdk_acl){src->acl.items[i].perms, scheme, id};
        }
        dst->acl.items = a;
    }
    if (src->n_infos > 0) {
        struct pdk_client_info *ci = bump(b, (size_t)src->n_infos * sizeof(*ci));
        for (int32_t i = 0; i < src->n_infos; i++) {
            const char *scheme = bump_str(b, src->infos[i].scheme);
            const char *user = bump_str(b, src->infos[i].user);
            if (ci)
                ci[i] = (struct pdk_client_info){scheme, user};
        }
        dst->infos = ci;
    }
    if (src->n_results > 0) {
        struct pdk_result *rs = bump(b, (size_t)src->n_results * sizeof(*rs));
        for (int32_t i = 0; i < src->n_results; i++) {
            struct pdk_result tmp = src->results[i];
            copy_deep(b, &tmp, &src->results[i]);
            if (rs)
                rs[i] = tmp;
        }
        dst->results = rs;
    }
}

struct pdk_result *pdk_result_dup(const struct pdk_result *r)
{
    struct bump m = {NULL, 0};
    bump(&m, sizeof(*r));
    struct pdk_result tmp = *r;
    copy_deep(&m, &tmp, r);
    char *base = pd_malloc(m.used);
    if (!base)
        return NULL;
    struct bump b = {base, 0};
    struct pdk_result *d = bump(&b, sizeof(*d));
    *d = *r;
    copy_deep(&b, d, r);
    return d;
}

void pdk_result_free(struct pdk_result *r)
{
    pd_free(r);
}

/* ---- waiting ----------------------------------------------------------------------- */

void pdk_sync_completion(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    (void)c;
    struct pdk_sync *s = ctx;
    s->result = pdk_result_dup(res);
    s->is_done = true;
}

/* Runs one poll + process turn, waiting at most until deadline (< 0: none). */
static int turn(struct pdk_client *c, int64_t deadline)
{
    int64_t now = pdk_now_ms();
    int events, timeout_ms;
    pdk_interest(c, now, &events, &timeout_ms);
    if (deadline >= 0) {
        int64_t left = deadline - now;
        if (left < 0)
            left = 0;
        if (timeout_ms < 0 || timeout_ms > left)
            timeout_ms = (int)left;
    }
    struct pollfd p = {.fd = pdk_fd(c), .events = (short)events};
    int n = poll(&p, 1, timeout_ms);
    int revents = n > 0 ? p.revents : 0;
    return pdk_process(c, revents, pdk_now_ms());
}

/* Waits until *is_done, or the deadline, or the client finishes. */
static int wait_until(struct pdk_client *c, const bool *is_done, int timeout_ms)
{
    if (c->cb_depth > 0)
        return PDK_ZINVALIDSTATE;
    int64_t deadline = timeout_ms < 0 ? -1 : pdk_now_ms() + timeout_ms;
    c->wait_depth++;
    int rc = PDK_ZOK;
    for (;;) {
        if (*is_done)
            break;
        if (c->is_free_pending) {
            rc = PDK_ZCLOSING;
            break;
        }
        if (deadline >= 0 && pdk_now_ms() >= deadline) {
            rc = PDK_ZOPERATIONTIMEOUT;
            break;
        }
        int prc = turn(c, deadline);
        if (prc != PDK_ZOK && !*is_done) {
            rc = prc;
            break;
        }
    }
    c->wait_depth--;
    if (c->is_free_pending && c->wait_depth == 0) {
        client_destroy(c);
        return *is_done ? rc : PDK_ZCLOSING;
    }
    return rc;
}

int pdk_wait(struct pdk_client *c, struct pdk_sync *s, int timeout_ms)
{
    int rc = wait_until(c, &s->is_done, timeout_ms);
    if (!s->is_done)
        return rc;
    return s->result ? s->result->rc : PDK_ZSYSTEMERROR;
}

int pdk_wait_connected(struct pdk_client *c, int timeout_ms)
{
    if (c->cb_depth > 0)
        return PDK_ZINVALIDSTATE;
    int64_t deadline = timeout_ms < 0 ? -1 : pdk_now_ms() + timeout_ms;
    for (;;) {
        if (c->state == CS_CONNECTED)
            return PDK_ZOK;
        if (client_is_finished(c))
            return client_finished_rc(c);
        if (deadline >= 0 && pdk_now_ms() >= deadline)
            return PDK_ZOPERATIONTIMEOUT;
        c->wait_depth++;
        int rc = turn(c, deadline);
        c->wait_depth--;
        if (c->is_free_pending) {
            client_destroy(c);
            return PDK_ZCLOSING;
        }
        if (rc != PDK_ZOK)
            return rc;
    }
}

/* A heap slot for the wrappers below. */
struct slot {
    struct pdk_sync s;
    bool is_abandoned; /* the wrapper gave up; the completion frees the slot */
};

static void slot_completion(struct pdk_client *c, const struct pdk_result *res, void *ctx)
{
    struct slot *sl = ctx;
    if (sl->is_abandoned) {
        pd_free(sl);
        return;
    }
    pdk_sync_completion(c, res, &sl->s);
}

static struct slot *slot_new(void)
{
    return pd_calloc(1, sizeof(struct slot));
}

/*
 * Waits for a slot whose request was submitted with submit_rc. Returns the
 * rc and hands the result to *res (owned) when res is not NULL; the slot is
 * freed or abandoned.
 */
static int slot_wait(struct pdk_client *c, struct slot *sl, int submit_rc, int timeout_ms,
                     struct pdk_result **res)
{
    if (res)
        *res = NULL;
    if (submit_rc != PDK_ZOK) {
        pd_free(sl);
        return submit_rc;
    }
    int rc = pdk_wait(c, &sl->s, timeout_ms);
    if (!sl->s.is_done) {
        /* Still outstanding (or the client is gone, and then it was already completed). */
        sl->is_abandoned = true;
        return rc;
    }
    if (res)
        *res = sl->s.result;
    else
        pdk_result_free(sl->s.result);
    pd_free(sl);
    return rc;
}

int pdk_create_sync(struct pdk_client *c, const char *path, const void *data, int32_t len,
                    const struct pdk_acl_list *acl, int mode, int64_t ttl_ms, char **path_out,
                    struct pdk_stat *stat_out, int timeout_ms)
{
    if (path_out)
        *path_out = NULL;
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    struct pdk_result *r;
    int rc = slot_wait(
        c, sl,
        pdk_create(c, path, data, len, acl, mode, ttl_ms, stat_out != NULL, slot_completion, sl),
        timeout_ms, &r);
    if (r && rc == PDK_ZOK) {
        if (path_out && r->path) {
            *path_out = pd_strdup(r->path);
            if (!*path_out)
                rc = PDK_ZSYSTEMERROR;
        }
        if (stat_out && r->stat)
            *stat_out = *r->stat;
    }
    pdk_result_free(r);
    return rc;
}

int pdk_delete_sync(struct pdk_client *c, const char *path, int32_t version, int timeout_ms)
{
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    return slot_wait(c, sl, pdk_delete(c, path, version, slot_completion, sl), timeout_ms, NULL);
}

int pdk_exists_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                    struct pdk_stat *stat_out, int timeout_ms)
{
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    struct pdk_result *r;
    int rc =
        slot_wait(c, sl, pdk_exists(c, path, watcher, wctx, slot_completion, sl), timeout_ms, &r);
    if (r && rc == PDK_ZOK && stat_out && r->stat)
        *stat_out = *r->stat;
    pdk_result_free(r);
    return rc;
}

int pdk_get_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher, void *wctx,
                 char **data_out, int32_t *len_out, struct pdk_stat *stat_out, int timeout_ms)
{
    if (data_out)
        *data_out = NULL;
    if (len_out)
        *len_out = -1;
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    struct pdk_result *r;
    int rc =
        slot_wait(c, sl, pdk_get_data(c, path, watcher, wctx, slot_completion, sl), timeout_ms, &r);
    if (r && rc == PDK_ZOK) {
        if (data_out && r->data) {
            *data_out = pd_strndup(r->data, (size_t)r->data_len);
            if (!*data_out)
                rc = PDK_ZSYSTEMERROR;
        }
        if (len_out)
            *len_out = r->data_len;
        if (stat_out && r->stat)
            *stat_out = *r->stat;
    }
    pdk_result_free(r);
    return rc;
}

int pdk_set_sync(struct pdk_client *c, const char *path, const void *data, int32_t len,
                 int32_t version, struct pdk_stat *stat_out, int timeout_ms)
{
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    struct pdk_result *r;
    int rc = slot_wait(c, sl, pdk_set_data(c, path, data, len, version, slot_completion, sl),
                       timeout_ms, &r);
    if (r && rc == PDK_ZOK && stat_out && r->stat)
        *stat_out = *r->stat;
    pdk_result_free(r);
    return rc;
}

int pdk_get_children_sync(struct pdk_client *c, const char *path, pdk_watcher_fn watcher,
                          void *wctx, struct pdk_result **res_out, int timeout_ms)
{
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    struct pdk_result *r;
    int rc = slot_wait(c, sl, pdk_get_children(c, path, true, watcher, wctx, slot_completion, sl),
                       timeout_ms, &r);
    if (res_out)
        *res_out = r;
    else
        pdk_result_free(r);
    return rc;
}

int pdk_close_sync(struct pdk_client *c, int timeout_ms)
{
    struct slot *sl = slot_new();
    if (!sl)
        return PDK_ZSYSTEMERROR;
    return slot_wait(c, sl, pdk_close(c, slot_completion, sl), timeout_ms, NULL);
}
