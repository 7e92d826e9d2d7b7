/*
 * Socket I/O through one io_uring (ringio.h): a loop turn's sends and the
 * receives of every socket without a system call per socket.
 *
 * Why: at depth 1 every request costs a send and a receive, and on the
 * development VM (a PVM guest) entering the kernel is dear: a 120-byte
 * write() 3.1 us of CPU, the same send batched with others 1.3 us
 * (DESIGN-NOTES "Replies").
 *
 * Sends carry MSG_DONTWAIT, so none is ever parked in the kernel: each is
 * finished, short, or refused before the submitting call returns, and its
 * bytes are no longer needed afterwards. Receive buffers go back to the ring
 * as soon as the caller's handler for them returned.
 *
 * Ring set-up prefers IORING_SETUP_DEFER_TASKRUN (6.1), which runs receive
 * completions only when this thread waits on the ring, unless the caller
 * polls the ring's fd (RINGIO_POLLABLE); then COOP_TASKRUN (no interrupt of a
 * running thread: completions are posted at its next system call), then a
 * plain ring. Without liburing, when the kernel refuses (old kernel,
 * io_uring_disabled, seccomp), or with PADDOCK_NO_URING set, ringio_open()
 * fails and callers do their own I/O.
 */
#include "uring/ringio.h"

#include "common/alloc.h"
#include "common/err.h"

#include <stdint.h>
#include <stdlib.h>

#ifdef PADDOCK_HAVE_URING

#include <errno.h>
#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define RING_BGID    1
#define RING_SQ      256
#define RING_MAX_BUF 32768 /* buffer ids are 16 bits */

struct ringio {
    struct io_uring ring;
    struct io_uring_buf_ring *br; /* mmap'd; n_bufs entries */
    uint8_t *bufs;                /* owned; n_bufs * buf_bytes */
    unsigned n_bufs;
    size_t buf_bytes;
    size_t br_bytes;
    unsigned n_returned; /* buffers given back since the last advance */
};

/* Tries the cheapest ring set-up first. */
static int init_ring(struct io_uring *ring, unsigned entries, int flags)
{
    static const unsigned flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    size_t first = flags & RINGIO_POLLABLE ? 1 : 0;
    for (size_t i = first; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        struct io_uring_params p = {0};
        p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
        p.cq_entries = entries * 16;
        if (io_uring_queue_init_params(entries, ring, &p) == 0)
            return 0;
    }
    return PD_ENOTSUP;
}

static void give_back(struct ringio *r, unsigned bid)
{
    io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->buf_bytes, (unsigned)r->buf_bytes,
                          (unsigned short)bid, io_uring_buf_ring_mask(r->n_bufs),
                          (int)r->n_returned);
    r->n_returned++;
}

static void publish_buffers(struct ringio *r)
{
    if (r->n_returned > 0) {
        io_uring_buf_ring_advance(r->br, (int)r->n_returned);
        r->n_returned = 0;
    }
}

int ringio_open(struct ringio **out, unsigned n_bufs, size_t buf_bytes, int flags)
{
    *out = NULL;
    if (n_bufs == 0 || n_bufs > RING_MAX_BUF || (n_bufs & (n_bufs - 1)) != 0 || buf_bytes == 0 ||
        buf_bytes > UINT32_MAX)
        return PD_EINVAL;
    const char *off = getenv("PADDOCK_NO_URING");
    if (off && *off && *off != '0')
        return PD_ENOTSUP;
    struct ringio *r = pd_calloc(1, sizeof(*r));
    if (!r)
        return PD_ENOMEM;
    if (init_ring(&r->ring, RING_SQ, flags) != 0) {
        pd_free(r);
        return PD_ENOTSUP;
    }
    r->n_bufs = n_bufs;
    r->buf_bytes = buf_bytes;
    r->br_bytes = r->n_bufs * sizeof(struct io_uring_buf);
    void *br = mmap(NULL, r->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    r->bufs = pd_malloc((size_t)r->n_bufs * buf_bytes);
    if (br == MAP_FAILED || !r->bufs) {
        if (br != MAP_FAILED)
            munmap(br, r->br_bytes);
        pd_free(r->bufs);
        io_uring_queue_exit(&r->ring);
        pd_free(r);
        return PD_ENOMEM;
    }
    r->br = br;
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = r->n_bufs, .bgid = RING_BGID};
    if (io_uring_register_buf_ring(&r->ring, &reg, 0) != 0) {
        munmap(br, r->br_bytes);
        pd_free(r->bufs);
        io_uring_queue_exit(&r->ring);
        pd_free(r);
        return PD_ENOTSUP;
    }
    io_uring_buf_ring_init(r->br);
    for (unsigned i = 0; i < r->n_bufs; i++)
        give_back(r, i);
    publish_buffers(r);
    *out = r;
    return 0;
}

void ringio_close(struct ringio *r)
{
    if (!r)
        return;
    /* Closing the ring cancels whatever is still armed; then the buffers can go. */
    io_uring_queue_exit(&r->ring);
    munmap(r->br, r->br_bytes);
    pd_free(r->bufs);
    pd_free(r);
}

int ringio_fd(const struct ringio *r)
{
    return r->ring.ring_fd;
}

/* An SQE, submitting what is queued when the ring is full. */
static struct io_uring_sqe *next_sqe(struct ringio *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    while (!sqe) {
        if (io_uring_submit(&r->ring) < 0)
            abort(); /* cannot submit to our own ring: nothing sensible is left */
        sqe = io_uring_get_sqe(&r->ring);
    }
    return sqe;
}

void ringio_recv(struct ringio *r, int fd, uint64_t tag)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = RING_BGID;
    io_uring_sqe_set_data64(sqe, tag);
}

void ringio_send(struct ringio *r, int fd, const void *data, size_t len, uint64_t tag)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    io_uring_prep_send(sqe, fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag);
}

void ringio_poll(struct ringio *r, int fd, unsigned events, uint64_t tag)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    io_uring_prep_poll_add(sqe, fd, events);
    io_uring_sqe_set_data64(sqe, tag);
}

void ringio_cancel(struct ringio *r, uint64_t target, uint64_t tag)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    io_uring_prep_cancel64(sqe, target, 0);
    io_uring_sqe_set_data64(sqe, tag);
}

int ringio_submit(struct ringio *r)
{
    publish_buffers(r);
    int rc;
    do {
        rc = io_uring_submit(&r->ring);
    } while (rc == -EINTR);
    return rc < 0 && rc != -EAGAIN && rc != -EBUSY ? PD_EIO : 0;
}

int ringio_wait(struct ringio *r, int timeout_ms)
{
    publish_buffers(r);
    int rc;
    if (timeout_ms == 0) {
        rc = io_uring_submit_and_get_events(&r->ring);
    } else {
        struct io_uring_cqe *cqe = NULL;
        struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                       .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
        rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts, NULL);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
        return PD_EIO;
    return 0;
}

/* Calls done for every completion in the queue, then frees its entries. */
static void reap_cq(struct ringio *r, ringio_done_fn done, void *arg)
{
    unsigned head, n = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&r->ring, head, cqe)
    {
        n++;
        uint64_t tag = io_uring_cqe_get_data64(cqe);
        bool is_more = (cqe->flags & IORING_CQE_F_MORE) != 0;
        if (cqe->flags & IORING_CQE_F_BUFFER) {
            unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            done(arg, tag, cqe->res, r->bufs + (size_t)bid * r->buf_bytes, is_more);
            give_back(r, bid);
        } else {
            done(arg, tag, cqe->res, NULL, is_more);
        }
    }
    io_uring_cq_advance(&r->ring, n);
    publish_buffers(r);
}

void ringio_reap(struct ringio *r, ringio_done_fn done, void *arg)
{
    for (;;) {
        reap_cq(r, done, arg);
        /* Completions that found the queue full wait on the kernel's overflow list until a
         * system call asks for them; the ring's fd stays readable meanwhile, so a poller
         * that left them would spin. Each round frees the queue, so this ends. */
        if (!io_uring_cq_has_overflow(&r->ring))
            return;
        if (io_uring_get_events(&r->ring) < 0)
            return;
    }
}

#else /* no liburing: callers do their own I/O */

int ringio_open(struct ringio **out, unsigned n_bufs, size_t buf_bytes, int flags)
{
    (void)n_bufs, (void)buf_bytes, (void)flags;
    *out = NULL;
    return PD_ENOTSUP;
}

int ringio_fd(const struct ringio *r)
{
    (void)r;
    abort(); /* ringio_open() never succeeds here */
}

int ringio_submit(struct ringio *r)
{
    (void)r;
    abort();
}

void ringio_close(struct ringio *r)
{
    (void)r;
}

void ringio_recv(struct ringio *r, int fd, uint64_t tag)
{
    (void)r, (void)fd, (void)tag;
    abort();
}

void ringio_send(struct ringio *r, int fd, const void *data, size_t len, uint64_t tag)
{
    (void)r, (void)fd, (void)data, (void)len, (void)tag;
    abort();
}

void ringio_poll(struct ringio *r, int fd, unsigned events, uint64_t tag)
{
    (void)r, (void)fd, (void)events, (void)tag;
    abort();
}

void ringio_cancel(struct ringio *r, uint64_t target, uint64_t tag)
{
    (void)r, (void)target, (void)tag;
    abort();
}

int ringio_wait(struct ringio *r, int timeout_ms)
{
    (void)r, (void)timeout_ms;
    abort();
}

void ringio_reap(struct ringio *r, ringio_done_fn done, void *arg)
{
    (void)r, (void)done, (void)arg;
    abort();
}

#endif
