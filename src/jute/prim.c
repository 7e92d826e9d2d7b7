/*
 * Jute primitives: big-endian ints and longs, booleans, length-prefixed
 * buffers and strings, with a sticky error on the reader and the writer
 * (jute.h). Format facts: BinaryInputArchive/BinaryOutputArchive.
 */
#include "jute/jute.h"

#include "common/alloc.h"
#include "common/err.h"

#include <string.h>

void jute_in_init(struct jute_in *in, const void *data, size_t len, struct arena *arena)
{
    in->p = data;
    /* An empty input may come as NULL, and NULL + 0 is undefined in C. */
    in->end = len ? in->p + len : in->p;
    in->arena = arena;
    in->err = 0;
    in->has_nul = false;
}

size_t jute_in_left(const struct jute_in *in)
{
    return (size_t)(in->end - in->p);
}

/* Returns a pointer to the next n bytes and consumes them, or NULL (error set). */
static const uint8_t *take(struct jute_in *in, size_t n)
{
    if (in->err)
        return NULL;
    if (jute_in_left(in) < n) {
        in->err = PD_EMALFORMED;
        in->p = in->end;
        return NULL;
    }
    const uint8_t *p = in->p;
    if (n)
        in->p += n;
    return p;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int32_t jute_get_int(struct jute_in *in)
{
    const uint8_t *p = take(in, 4);
    return p ? (int32_t)be32(p) : 0;
}

int64_t jute_get_long(struct jute_in *in)
{
    const uint8_t *p = take(in, 8);
    return p ? (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)) : 0;
}

bool jute_get_bool(struct jute_in *in)
{
    const uint8_t *p = take(in, 1);
    return p ? p[0] != 0 : false;
}

struct jute_buf jute_get_buffer(struct jute_in *in)
{
    struct jute_buf b = {NULL, -1};
    int32_t len = jute_get_int(in);
    if (in->err)
        return b;
    if (len < -1) {
        in->err = PD_EMALFORMED;
        return b;
    }
    if (len == -1)
        return b;
    const uint8_t *p = take(in, (size_t)len);
    if (p) {
        b.data = p;
        b.len = len;
    }
    return b;
}

char *jute_get_string(struct jute_in *in)
{
    struct jute_buf b = jute_get_buffer(in);
    if (in->err || b.len < 0)
        return NULL;
    char *s = arena_alloc(in->arena, (size_t)b.len + 1);
    if (!s) {
        in->err = PD_ENOMEM;
        return NULL;
    }
    memcpy(s, b.data, (size_t)b.len);
    s[b.len] = '\0';
    /* The C string would end early; the caller must refuse it rather than truncate. */
    if (memchr(s, '\0', (size_t)b.len))
        in->has_nul = true;
    return s;
}

void jute_out_init(struct jute_out *out)
{
    out->data = NULL;
    out->len = 0;
    out->cap = 0;
    out->err = 0;
}

void jute_out_close(struct jute_out *out)
{
    pd_free(out->data);
    jute_out_init(out);
}

void jute_out_reset(struct jute_out *out)
{
    out->len = 0;
    out->err = 0;
}

uint8_t *jute_out_steal(struct jute_out *out, size_t *len)
{
    uint8_t *d = out->data;
    *len = out->len;
    jute_out_init(out);
    return d;
}

/* Makes room for n more bytes; returns where they go, or NULL (error set). */
static uint8_t *room(struct jute_out *out, size_t n)
{
    if (out->err)
        return NULL;
    if (out->cap - out->len < n) {
        size_t cap = out->cap ? out->cap : 256;
        while (cap - out->len < n) {
            if (cap > SIZE_MAX / 2) {
                out->err = PD_ENOMEM;
                return NULL;
            }
            cap *= 2;
        }
        uint8_t *d = pd_realloc(out->data, cap);
        if (!d) {
            out->err = PD_ENOMEM;
            return NULL;
        }
        out->data = d;
        out->cap = cap;
    }
    uint8_t *p = out->data + out->len;
    out->len += n;
    return p;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void jute_put_int(struct jute_out *out, int32_t v)
{
    uint8_t *p = room(out, 4);
    if (p)
        put_be32(p, (uint32_t)v);
}

void jute_put_long(struct jute_out *out, int64_t v)
{
    uint8_t *p = room(out, 8);
    if (p) {
        put_be32(p, (uint32_t)((uint64_t)v >> 32));
        put_be32(p + 4, (uint32_t)v);
    }
}

void jute_put_bool(struct jute_out *out, bool v)
{
    uint8_t *p = room(out, 1);
    if (p)
        p[0] = v ? 1 : 0;
}

void jute_put_raw(struct jute_out *out, const void *data, size_t len)
{
    if (len == 0)
        return; /* out->data may still be NULL, and NULL + 0 is undefined */
    uint8_t *p = room(out, len);
    if (p && len)
        memcpy(p, data, len);
}

void jute_put_buffer(struct jute_out *out, const void *data, int32_t len)
{
    if (len < 0 || (!data && len > 0)) {
        jute_put_int(out, -1);
        return;
    }
    jute_put_int(out, len);
    jute_put_raw(out, data, (size_t)len);
}

void jute_put_string(struct jute_out *out, const char *s)
{
    if (!s) {
        jute_put_int(out, -1);
        return;
    }
    jute_put_buffer(out, s, (int32_t)strlen(s));
}

void jute_patch_int(struct jute_out *out, size_t at, int32_t v)
{
    if (!out->err && at + 4 <= out->len)
        put_be32(out->data + at, (uint32_t)v);
}

int jute_frame_peek(const uint8_t *data, size_t len, size_t max_len, size_t *body_len)
{
    if (len < 4)
        return PD_EAGAIN;
    int32_t n = (int32_t)be32(data);
    if (n < 0)
        return PD_EMALFORMED;
    if ((size_t)n > max_len)
        return PD_ETOOBIG;
    if (len - 4 < (size_t)n)
        return PD_EAGAIN;
    *body_len = (size_t)n;
    return 0;
}

size_t jute_frame_begin(struct jute_out *out)
{
    size_t at = out->len;
    jute_put_int(out, 0);
    return at;
}

void jute_frame_end(struct jute_out *out, size_t begin)
{
    jute_patch_int(out, begin, (int32_t)(out->len - begin - 4));
}
