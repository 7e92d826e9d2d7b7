/*
 * Batched replies: a loop turn's socket writes in one system call.
 *
 * At depth 1 every request costs the server one read() and one write(), and
 * on a VM where entering the kernel is dear the entry, not the TCP work, is
 * much of it: measured on the development VM (a PVM guest), a write() of
 * 120 bytes to a loopback socket cost 3.1 us of CPU, the same send as one of
 * 64 io_uring SQEs submitted together 1.3 us.
 *
 * Each send carries MSG_DONTWAIT, so io_uring never parks it: it is done or
 * refused (-EAGAIN) before io_uring_enter returns, and the caller's buffer is
 * free again as soon as sendbatch_submit() has returned. A short or refused
 * send is the caller's to finish (conn.c hands the rest to uv_write).
 *
 * Without liburing at build time, or when the kernel refuses a ring (old
 * kernel, io_uring_disabled, a seccomp filter), or with PADDOCK_NO_URING set,
 * sendbatch_open() fails and the server writes each reply itself.
 */
#include "server/server.h"

#include "common/alloc.h"
#include "common/err.h"

#include <stdlib.h>

#ifdef PADDOCK_HAVE_URING

#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <sys/socket.h>

#define SENDBATCH_ENTRIES 256

struct sendbatch {
    struct io_uring ring;
    unsigned n_queued;                /* SQEs prepared since the last submit */
    uint64_t tags[SENDBATCH_ENTRIES]; /* the caller's tag of each, by user_data */
    bool is_done[SENDBATCH_ENTRIES];  /* its completion was reported */
};

int sendbatch_open(struct sendbatch **out)
{
    *out = NULL;
    const char *off = getenv("PADDOCK_NO_URING");
    if (off && *off && *off != '0')
        return PD_ENOTSUP;
    struct sendbatch *b = pd_calloc(1, sizeof(*b));
    if (!b)
        return PD_ENOMEM;
    if (io_uring_queue_init(SENDBATCH_ENTRIES, &b->ring, 0) != 0) {
        pd_free(b);
        return PD_ENOTSUP;
    }
    *out = b;
    return 0;
}

void sendbatch_close(struct sendbatch *b)
{
    if (!b)
        return;
    io_uring_queue_exit(&b->ring);
    pd_free(b);
}

bool sendbatch_full(const struct sendbatch *b)
{
    return b->n_queued == SENDBATCH_ENTRIES;
}

void sendbatch_add(struct sendbatch *b, int fd, const void *data, size_t len, uint64_t tag)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
    /* Never NULL: the caller submits once sendbatch_full() says so. */
    io_uring_prep_send(sqe, fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, b->n_queued);
    b->tags[b->n_queued] = tag;
    b->is_done[b->n_queued] = false;
    b->n_queued++;
}

int sendbatch_submit(struct sendbatch *b, sendbatch_done_fn done, void *arg)
{
    unsigned want = b->n_queued;
    if (want == 0)
        return 0;
    b->n_queued = 0;
    int rc;
    do {
        rc = io_uring_submit_and_wait(&b->ring, want);
    } while (rc == -EINTR);
    unsigned seen = 0;
    while (rc >= 0 && seen < want) {
        struct io_uring_cqe *cqe;
        rc = io_uring_wait_cqe(&b->ring, &cqe);
        if (rc != 0)
            break;
        uint64_t slot = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&b->ring, cqe);
        if (slot >= want || b->is_done[slot])
            continue; /* not ours: cannot happen */
        b->is_done[slot] = true;
        seen++;
        done(b->tags[slot], res, arg);
    }
    if (seen == want)
        return 0;
    /* The ring failed: what was not reported may or may not have gone out. The caller
     * closes those connections and the ring (which cancels anything still queued). */
    for (unsigned i = 0; i < want; i++)
        if (!b->is_done[i])
            done(b->tags[i], -EIO, arg);
    return PD_EIO;
}

#else /* no liburing: every reply is written on its own */

int sendbatch_open(struct sendbatch **out)
{
    *out = NULL;
    return PD_ENOTSUP;
}

void sendbatch_close(struct sendbatch *b)
{
    (void)b;
}

bool sendbatch_full(const struct sendbatch *b)
{
    (void)b;
    return true;
}

void sendbatch_add(struct sendbatch *b, int fd, const void *data, size_t len, uint64_t tag)
{
    (void)b;
    (void)fd;
    (void)data;
    (void)len;
    (void)tag;
    abort(); /* sendbatch_open() never succeeds here */
}

int sendbatch_submit(struct sendbatch *b, sendbatch_done_fn done, void *arg)
{
    (void)b;
    (void)done;
    (void)arg;
    return 0;
}

#endif
