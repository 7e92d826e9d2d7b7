/*
 * Paddock's own error codes (negative ints) and their messages.
 *
 * These are failures of Paddock itself: out of memory, I/O, malformed input.
 * ZooKeeper result codes (ZNONODE, ZBADVERSION, ...) are protocol data and live
 * in jute/jute.h; they never travel through this channel.
 */
#ifndef PD_COMMON_ERR_H
#define PD_COMMON_ERR_H

#define PD_ERRNO_MAP(X)                                                                            \
    X(ENOMEM, 1, "out of memory")                                                                  \
    X(EIO, 2, "input/output error")                                                                \
    X(ENOSPC, 3, "no space left on device")                                                        \
    X(ECORRUPT, 4, "corrupt data")                                                                 \
    X(EMALFORMED, 5, "malformed input")                                                            \
    X(ETOOBIG, 6, "too big")                                                                       \
    X(ECLOSED, 7, "closed")                                                                        \
    X(EAGAIN, 8, "need more bytes")                                                                \
    X(EINVAL, 9, "invalid argument")                                                               \
    X(ENOENT, 10, "not found")                                                                     \
    X(EEXIST, 11, "already exists")                                                                \
    X(ECONFIG, 12, "bad configuration")                                                            \
    X(ELIMIT, 13, "limit reached")                                                                 \
    X(ENOTSUP, 14, "not supported")

enum {
#define PD_ERR_ENUM(name, num, msg) PD_##name = -(num),
    PD_ERRNO_MAP(PD_ERR_ENUM)
#undef PD_ERR_ENUM
};

/* Message for a PD_E* code (or "unknown error"); never NULL, static storage. */
const char *pd_strerror(int err);

#endif
