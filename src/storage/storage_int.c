/*
 * Helpers that several files of storage/ share (storage_int.h).
 */
#include "storage/storage_int.h"
#include "common/digit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void storage_errf(char *errmsg, size_t errlen, const char *fmt, ...)
{
    if (!errmsg || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
}

size_t storage_parse_hex(const char *s, int64_t *zxid)
{
    uint64_t v = 0;
    size_t n = 0;
    int d;
    while ((d = pd_hex_digit(s[n])) >= 0) {
        if (v > ((uint64_t)INT64_MAX >> 4))
            return 0; /* Long.parseLong overflows */
        v = v << 4 | (uint64_t)d;
        n++;
    }
    if (n > 0)
        *zxid = (int64_t)v;
    return n;
}

bool storage_parse_name(const char *name, const char *prefix, int64_t *zxid)
{
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) != 0)
        return false;
    const char *h = name + len;
    int64_t z;
    size_t n = storage_parse_hex(h, &z);
    if (n == 0 || n > 16 || h[n] != '\0')
        return false;
    *zxid = z;
    return true;
}
