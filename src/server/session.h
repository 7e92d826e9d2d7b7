/*
 * Client sessions: the table of live sessions, their passwords, timeouts and
 * authenticated ids, and expiry in tickTime buckets (ZooKeeper's
 * SessionTrackerImpl + ExpiryQueue).
 *
 * Expiry: a session touched at `now` expires at roundup(now + timeout) where
 * roundup rounds to the next multiple of tickTime, so all sessions due in one
 * tick sit in one bucket and the tick timer takes whole buckets. Expiring a
 * session is not done here: sess_next_expired() hands it to the server, which
 * proposes a closeSession txn; only applying that txn removes the session.
 */
#ifndef PD_SERVER_SESSION_H
#define PD_SERVER_SESSION_H

#include "jute/jute.h"

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct sess_bucket;

struct session {
    int64_t id;
    int32_t timeout_ms;              /* negotiated */
    int64_t expire_at;               /* ms, a multiple of tick_ms; 0 while not in a bucket */
    bool is_closing;                 /* closeSession prepped; no new ephemerals */
    bool is_touched;                 /* touched since a learner last reported it (PING) */
    struct conn *conn;               /* current connection (borrowed), or NULL */
    struct session *hash_next;       /* table chain */
    struct sess_bucket *bucket;      /* expiry bucket (owned by the table) */
    struct session *b_prev, *b_next; /* bucket list */
};

struct sess_table {
    struct session **slots; /* owned; chained hash by id */
    size_t n_slots;
    size_t count;
    struct sess_bucket *buckets; /* owned; sorted by expire_at, earliest first */
    int64_t tick_ms;
    int64_t next_id; /* next session id to hand out */
};

/* server_id goes in the top byte of ids, as ZooKeeper's initializeNextSessionId. */
int sess_table_init(struct sess_table *t, int64_t tick_ms, int64_t server_id, int64_t now_ms);
void sess_table_close(struct sess_table *t);

/* A new session id (never the container owner marker). */
int64_t sess_new_id(struct sess_table *t);

/*
 * ZooKeeper derives a session's password from its id (java.util.Random seeded
 * with id ^ 0xB3415C00), so any server can check it after a restart or in a
 * mixed ensemble. Fills 16 bytes.
 */
void sess_password(int64_t id, uint8_t out[ZOO_PASSWD_LEN]);
bool sess_password_ok(int64_t id, const struct jute_buf *passwd);

/* Adds a session (after its createSession txn is applied). PD_ENOMEM, PD_EEXIST. */
int sess_add(struct sess_table *t, int64_t id, int32_t timeout_ms, int64_t now_ms,
             struct session **out);
struct session *sess_find(const struct sess_table *t, int64_t id);
/* Removes and frees a session (after its closeSession txn is applied). */
void sess_remove(struct sess_table *t, struct session *s);

/* Pushes the session's expiry to roundup(now + timeout). PD_ENOMEM keeps the old one. */
int sess_touch(struct sess_table *t, struct session *s, int64_t now_ms);

/*
 * The next session whose expiry time is <= now, taken out of its bucket so
 * it is returned once; NULL when none is due.
 */
struct session *sess_next_expired(struct sess_table *t, int64_t now_ms);

/* Iteration: calls fn for every session. */
void sess_foreach(const struct sess_table *t, void (*fn)(struct session *, void *), void *arg);
struct snap_session;
/* Every session as (id, timeout) for a snapshot: *items is owned by the caller (pd_free), NULL
 * when there are none. 0 or PD_ENOMEM. */
int sess_collect(const struct sess_table *t, struct snap_session **items, size_t *n);

#endif
