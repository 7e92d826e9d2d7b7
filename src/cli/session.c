/*
 * The CLI's connection: one libpaddock client at a time, driven with the
 * blocking style zkCli has (every command waits for its reply), and the
 * global watcher that prints events as zkCli's MyWatcher does:
 *
 *     (blank line) WATCHER:: (blank line) WatchedEvent state:S type:T path:P
 *
 * A wait that gives up (timeout, session finished) abandons its call: the
 * completion frees it whenever it comes, so nothing points into a stack.
 */
#include "cli/cli_int.h"

#include "common/alloc.h"
#include "common/err.h"

#include <poll.h>
#include <string.h>

/* No session state printed yet for this client. */
enum { NO_STATE = -1000 };

static void print_event(struct pdk_client *zk, const struct pdk_event *ev, void *ctx)
{
    struct cli *c = ctx;
    (void)zk;
    if (ev->type == PDK_EVENT_SESSION) {
        /* The library may tell one state twice (close, then free); Java's
         * watch manager tells its default watcher once. */
        if (ev->state == c->last_session_state)
            return;
        c->last_session_state = ev->state;
    }
    if (!c->is_print_watches)
        return;
    if (c->before_event)
        c->before_event(c);
    fprintf(c->out, "\nWATCHER::\n\nWatchedEvent state:%s type:%s path:%s\n",
            cli_state_name(ev->state), cli_event_name(ev->type), ev->path ? ev->path : "null");
    fflush(c->out);
    if (c->after_event)
        c->after_event(c);
}

static void drop_client(struct cli *c)
{
    if (!c->zk)
        return;
    if (cli_is_alive(c))
        cli_close(c);
    pdk_free(c->zk);
    c->zk = NULL;
}

int cli_connect(struct cli *c, const char *host)
{
    /* host may be c->host itself (`connect` alone): copy it before that is freed. */
    char *copy = pd_strdup(host);
    if (!copy)
        return PDK_ZSYSTEMERROR;
    drop_client(c);
    pd_free(c->host);
    c->host = copy;
    c->last_session_state = NO_STATE;
    struct pdk_options opts = {
        .session_timeout_ms = c->timeout_ms,
        .watcher = print_event,
        .watcher_ctx = c,
        .can_be_read_only = c->is_read_only,
    };
    int rc = pdk_new(c->host, &opts, &c->zk);
    if (rc != PDK_ZOK) {
        c->zk = NULL;
        return rc;
    }
    if (c->is_wait_for_connection) {
        rc = pdk_wait_connected(c->zk, c->timeout_ms);
        if (rc != PDK_ZOK) {
            drop_client(c);
            return rc == PDK_ZOPERATIONTIMEOUT ? PDK_ZCONNECTIONLOSS : rc;
        }
    }
    return PDK_ZOK;
}

void cli_close(struct cli *c)
{
    if (!cli_is_alive(c))
        return;
    struct cli_call *call = cli_call_new();
    if (!call)
        return;
    struct pdk_result *res = NULL;
    cli_call_wait(c, call, pdk_close(c->zk, cli_call_done, call), &res);
    pdk_result_free(res);
    /* Java's client reports Closed to its watcher when close() returns. */
    if (c->last_session_state != PDK_STATE_CLOSED) {
        struct pdk_event ev = {.type = PDK_EVENT_SESSION, .state = PDK_STATE_CLOSED};
        print_event(c->zk, &ev, c);
    }
}

void cli_release(struct cli *c)
{
    /* No Closed event at exit: zkCli's JVM is gone before its event thread prints it. */
    c->is_print_watches = false;
    drop_client(c);
    pd_free(c->host);
    c->host = NULL;
    for (int i = 0; i < c->n_history; i++)
        pd_free(c->history[i]);
    pd_free(c->history);
    c->history = NULL;
    c->n_history = 0;
}

bool cli_is_alive(const struct cli *c)
{
    if (!c->zk)
        return false;
    int state = pdk_state(c->zk);
    return state != PDK_STATE_CLOSED && state != PDK_STATE_AUTH_FAILED &&
           state != PDK_STATE_EXPIRED;
}

struct cli_call *cli_call_new(void)
{
    return pd_calloc(1, sizeof(struct cli_call));
}

void cli_call_done(struct pdk_client *zk, const struct pdk_result *res, void *ctx)
{
    (void)zk;
    struct cli_call *call = ctx;
    if (call->is_abandoned) {
        pd_free(call);
        return;
    }
    call->sync.result = pdk_result_dup(res);
    call->sync.is_done = true;
}

int cli_call_wait(struct cli *c, struct cli_call *call, int submit_rc, struct pdk_result **res)
{
    *res = NULL;
    if (submit_rc != PDK_ZOK) {
        /* Not queued: the completion will never run. */
        pd_free(call);
        return submit_rc;
    }
    int rc = pdk_wait(c->zk, &call->sync, c->timeout_ms);
    if (!call->sync.is_done) {
        call->is_abandoned = true;
        return rc == PDK_ZOPERATIONTIMEOUT ? PDK_ZCONNECTIONLOSS : rc;
    }
    *res = call->sync.result;
    pd_free(call);
    if (!*res)
        return PDK_ZSYSTEMERROR;
    return (*res)->rc;
}

int cli_call_finish(struct cli *c, struct cli_call *call, int submit_rc, const char *path,
                    struct pdk_result **res)
{
    int rc = cli_call_wait(c, call, submit_rc, res);
    if (rc != PDK_ZOK) {
        pdk_result_free(*res);
        *res = NULL;
        return cli_fail(c, rc, path);
    }
    return CLI_OK;
}

void cli_poll_once(struct cli *c, int timeout_ms)
{
    if (!c->zk)
        return;
    int events, wait_ms;
    pdk_interest(c->zk, pdk_now_ms(), &events, &wait_ms);
    if (wait_ms < 0 || wait_ms > timeout_ms)
        wait_ms = timeout_ms;
    struct pollfd p = {.fd = pdk_fd(c->zk), .events = (short)events};
    int n = poll(&p, 1, wait_ms);
    pdk_process(c->zk, n > 0 ? p.revents : 0, pdk_now_ms());
}

struct pdk_result *cli_children(struct cli *c, const char *dir, int timeout_ms)
{
    if (!cli_is_alive(c))
        return NULL;
    struct cli_call *call = cli_call_new();
    if (!call)
        return NULL;
    int saved = c->timeout_ms;
    c->timeout_ms = timeout_ms;
    struct pdk_result *res = NULL;
    int rc = cli_call_wait(
        c, call, pdk_get_children(c->zk, dir, false, NULL, NULL, cli_call_done, call), &res);
    c->timeout_ms = saved;
    if (rc != PDK_ZOK) {
        pdk_result_free(res);
        return NULL;
    }
    return res;
}
