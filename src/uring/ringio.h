/*
 * Socket I/O through one io_uring, for loops that serve many sockets: sends of
 * a loop turn and receives go to the kernel together, receives are multishot
 * into a ring of provided buffers (no read() per arrival). Used by paddock
 * bench (src/bench/run.c) and by the server for requests (src/server/conn.c).
 *
 * Each operation carries the caller's tag, handed back with its completion.
 * Operations are queued and go to the kernel with the next ringio_submit()
 * or ringio_wait() (or earlier, when the queue is full).
 */
#ifndef PD_URING_RINGIO_H
#define PD_URING_RINGIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ringio;

/*
 * A completion: tag of the operation, res (bytes, or -errno), data the bytes
 * a receive got (res of them; borrowed until the handler returns; NULL for
 * other operations), is_more true while a multishot receive stays armed.
 */
typedef void (*ringio_done_fn)(void *arg, uint64_t tag, int res, const void *data, bool is_more);

enum {
    /*
     * The ring's fd is watched by the caller's poller (epoll, libuv): receive
     * completions must be posted without the caller entering the ring, so
     * IORING_SETUP_DEFER_TASKRUN (which posts them only on a wait) is not used.
     */
    RINGIO_POLLABLE = 1,
};

/*
 * Opens a ring with n_bufs receive buffers (a power of two, 1..32768) of buf_bytes each;
 * flags: RINGIO_POLLABLE or 0. PD_ENOTSUP when io_uring cannot be used (no liburing at
 * build time, a kernel that refuses, PADDOCK_NO_URING set), PD_ENOMEM, PD_EINVAL.
 */
int ringio_open(struct ringio **out, unsigned n_bufs, size_t buf_bytes, int flags);
/* Cancels everything armed and frees the ring. NULL is a no-op. */
void ringio_close(struct ringio *r);
/* The ring's file descriptor (readable when completions wait), for RINGIO_POLLABLE. */
int ringio_fd(const struct ringio *r);
/* Arms a multishot receive on fd: a completion per arrival of bytes until it ends (is_more
 * false: end of stream with res 0, an error, or -ENOBUFS when buffers ran out; re-arm then). */
void ringio_recv(struct ringio *r, int fd, uint64_t tag);
/* A non-blocking send of data[0, len) (borrowed until the next submit returns): it completes
 * with the bytes sent, possibly short, or -EAGAIN, within that call. */
void ringio_send(struct ringio *r, int fd, const void *data, size_t len, uint64_t tag);
/* A one-shot poll of fd for events (POLLOUT...). */
void ringio_poll(struct ringio *r, int fd, unsigned events, uint64_t tag);
/* Cancels the operation tagged target; the cancel's own completion carries tag. */
void ringio_cancel(struct ringio *r, uint64_t target, uint64_t tag);
/* Hands what is queued to the kernel without waiting. 0, or PD_EIO when the ring failed. */
int ringio_submit(struct ringio *r);
/*
 * Submits what is queued and waits up to timeout_ms (-1: no limit, 0: not at
 * all) for at least one completion. Returns 0, or PD_EIO when the ring failed.
 */
int ringio_wait(struct ringio *r, int timeout_ms);
/* Calls done for every completion there is (done may queue new operations). */
void ringio_reap(struct ringio *r, ringio_done_fn done, void *arg);

#endif
