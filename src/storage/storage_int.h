/*
 * Helpers that several files of storage/ share (txnlog.c, snapshot.c,
 * purge.c); never included from outside storage/. storage_int.c has them.
 */
#ifndef PD_STORAGE_INT_H
#define PD_STORAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Formats an error message into errmsg (errlen bytes, truncated to fit). A
 * no-op when errmsg is NULL or errlen is 0, for callers that want no message.
 */
void storage_errf(char *errmsg, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reads the hex digits (either case) at the start of s, as Java's
 * Long.parseLong(s, 16) of them would: *zxid is set and the number of digits
 * returned, or 0 when s starts with no hex digit or the value exceeds
 * INT64_MAX (*zxid untouched). The caller decides what may follow them.
 */
size_t storage_parse_hex(const char *s, int64_t *zxid);

/*
 * A file name "<prefix><hex>", as recovery and purge accept a log.<zxid> or
 * snapshot.<zxid>: 1 to 16 hex digits (storage_parse_hex), nothing after.
 * False, *zxid untouched, for any other name.
 */
bool storage_parse_name(const char *name, const char *prefix, int64_t *zxid);

#endif
