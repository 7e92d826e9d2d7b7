/*
 * Jute primitives and framing (jute.h, prim.c): exact big-endian bytes, round
 * trips, null buffers and strings, bad lengths refused before allocation, the
 * sticky error of the reader and the writer, every truncation, and
 * jute_frame_peek on partial, exact-limit, oversized and negative frames.
 *
 * Inputs are copied into exact-size malloc'd buffers (copy_exact) so that
 * AddressSanitizer reports any read past the end of what the decoder was given.
 */
#include "common/alloc.h"
#include "common/arena.h"
#include "common/err.h"
#include "jute/jute.h"
#include "t.h"

#include <stdint.h>
#include <stdlib.h>

/* Returns an exact-size malloc'd copy of len bytes (release with free). */
static uint8_t *copy_exact(const void *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (len)
        memcpy(p, data, len);
    return p;
}

static void test_int_bytes(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_int(&out, 0x01020304);
    jute_put_int(&out, -1);
    jute_put_int(&out, INT32_MIN);
    jute_put_long(&out, 0x0102030405060708LL);
    jute_put_long(&out, INT64_MIN);
    jute_put_bool(&out, true);
    jute_put_bool(&out, false);
    static const uint8_t want[] = {
        0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, /* ints */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,                         /* long */
        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                         /* long */
        0x01, 0x00,                                                             /* bools */
    };
    CHECK_EQ_INT(out.err, 0);
    CHECK_EQ_INT(out.len, sizeof(want));
    CHECK(memcmp(out.data, want, sizeof(want)) == 0);

    uint8_t *copy = copy_exact(out.data, out.len);
    struct jute_in in;
    jute_in_init(&in, copy, out.len, NULL);
    CHECK_EQ_INT(jute_get_int(&in), 0x01020304);
    CHECK_EQ_INT(jute_get_int(&in), -1);
    CHECK_EQ_INT(jute_get_int(&in), INT32_MIN);
    CHECK(jute_get_long(&in) == 0x0102030405060708LL);
    CHECK(jute_get_long(&in) == INT64_MIN);
    CHECK(jute_get_bool(&in) == true);
    CHECK(jute_get_bool(&in) == false);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    free(copy);
    jute_out_close(&out);
}

static void test_int_roundtrip_edges(void)
{
    static const int32_t ints[] = {INT32_MIN, INT32_MIN + 1, -2, -1, 0, 1, 255, 256, INT32_MAX};
    static const int64_t longs[] = {INT64_MIN, -1, 0, 1, 0xffffffffLL, 0x100000000LL, INT64_MAX};
    struct jute_out out;
    jute_out_init(&out);
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        jute_put_int(&out, ints[i]);
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
        jute_put_long(&out, longs[i]);
    uint8_t *copy = copy_exact(out.data, out.len);
    struct jute_in in;
    jute_in_init(&in, copy, out.len, NULL);
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        CHECK_EQ_INT(jute_get_int(&in), ints[i]);
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
        CHECK(jute_get_long(&in) == longs[i]);
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    free(copy);
    jute_out_close(&out);
}

/* Java's readBoolean is `byte != 0`: any non-zero byte is true. */
static void test_bool_nonzero_is_true(void)
{
    static const uint8_t bytes[] = {0x02, 0xff, 0x00};
    uint8_t *copy = copy_exact(bytes, sizeof(bytes));
    struct jute_in in;
    jute_in_init(&in, copy, sizeof(bytes), NULL);
    CHECK(jute_get_bool(&in));
    CHECK(jute_get_bool(&in));
    CHECK(!jute_get_bool(&in));
    CHECK_EQ_INT(in.err, 0);
    free(copy);
}

static void test_buffer_and_string(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_out out;
    jute_out_init(&out);
    jute_put_buffer(&out, "\x00\x01\x02", 3);
    jute_put_buffer(&out, "", 0);
    jute_put_string(&out, "/zk");
    jute_put_string(&out, "");
    static const uint8_t want[] = {
        0, 0, 0, 3, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 3, '/', 'z', 'k', 0, 0, 0, 0,
    };
    CHECK_EQ_INT(out.len, sizeof(want));
    CHECK(memcmp(out.data, want, sizeof(want)) == 0);

    uint8_t *copy = copy_exact(out.data, out.len);
    struct jute_in in;
    jute_in_init(&in, copy, out.len, &arena);
    struct jute_buf b = jute_get_buffer(&in);
    CHECK_EQ_INT(b.len, 3);
    CHECK(b.data == copy + 4); /* borrowed: points into the input */
    struct jute_buf e = jute_get_buffer(&in);
    CHECK_EQ_INT(e.len, 0);
    CHECK(e.data != NULL); /* empty is not null */
    char *s = jute_get_string(&in);
    CHECK_EQ_STR(s, "/zk");
    CHECK(s < (char *)copy || s >= (char *)copy + out.len); /* copied into the arena */
    char *es = jute_get_string(&in);
    CHECK_EQ_STR(es, "");
    CHECK_EQ_INT(in.err, 0);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    free(copy);
    jute_out_close(&out);
    arena_close(&arena);
}

static void test_null_buffer_and_string(void)
{
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_out out;
    jute_out_init(&out);
    jute_put_buffer(&out, NULL, -1);
    jute_put_buffer(&out, NULL, 5); /* no data: written as null */
    jute_put_string(&out, NULL);
    static const uint8_t want[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(out.len, sizeof(want));
    CHECK(memcmp(out.data, want, sizeof(want)) == 0);

    uint8_t *copy = copy_exact(out.data, out.len);
    struct jute_in in;
    jute_in_init(&in, copy, out.len, &arena);
    struct jute_buf b = jute_get_buffer(&in);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.len, -1);
    char *s = jute_get_string(&in);
    CHECK(s == NULL);
    CHECK(jute_get_string(&in) == NULL);
    CHECK_EQ_INT(in.err, 0);

    /* And back: a decoded null re-encodes as -1. */
    struct jute_out again;
    jute_out_init(&again);
    jute_put_buffer(&again, b.data, b.len);
    jute_put_string(&again, s);
    CHECK_EQ_INT(again.len, 8);
    CHECK(memcmp(again.data, want, 8) == 0);
    jute_out_close(&again);
    free(copy);
    jute_out_close(&out);
    arena_close(&arena);
}

/* A length word followed by `extra` bytes; returns the exact-size input. */
static uint8_t *length_then(int32_t len, size_t extra, size_t *total)
{
    *total = 4 + extra;
    uint8_t *p = malloc(*total);
    p[0] = (uint8_t)((uint32_t)len >> 24);
    p[1] = (uint8_t)((uint32_t)len >> 16);
    p[2] = (uint8_t)((uint32_t)len >> 8);
    p[3] = (uint8_t)len;
    memset(p + 4, 'x', extra);
    return p;
}

static void test_bad_lengths_refused_before_allocation(void)
{
    static const struct {
        int32_t len;
        size_t extra;
    } cases[] = {
        {-2, 8},        {INT32_MIN, 8}, {-100, 0}, {9, 8},           {INT32_MAX, 8},
        {INT32_MAX, 0}, {1, 0},         {5, 4},    {0x7ffffff0, 16},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int as_string = 0; as_string < 2; as_string++) {
            size_t total;
            uint8_t *p = length_then(cases[i].len, cases[i].extra, &total);
            struct arena arena;
            arena_init(&arena, 0);
            struct jute_in in;
            jute_in_init(&in, p, total, &arena);
            pd_alloc_fail_after(-1, 0);
            if (as_string) {
                CHECK(jute_get_string(&in) == NULL);
            } else {
                struct jute_buf b = jute_get_buffer(&in);
                CHECK(b.data == NULL);
                CHECK_EQ_INT(b.len, -1);
            }
            CHECK_EQ_INT(pd_alloc_fail_after(-1, 0), 0); /* nothing allocated */
            CHECK_EQ_INT(in.err, PD_EMALFORMED);
            CHECK(in.p <= in.end);
            arena_close(&arena);
            free(p);
        }
    }
}

static void test_sticky_error(void)
{
    static const uint8_t bytes[] = {0, 0, 0, 7, 0, 0};
    uint8_t *copy = copy_exact(bytes, sizeof(bytes));
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, copy, sizeof(bytes), &arena);
    CHECK_EQ_INT(jute_get_int(&in), 7);
    CHECK_EQ_INT(jute_get_int(&in), 0); /* only 2 bytes left */
    CHECK_EQ_INT(in.err, PD_EMALFORMED);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    /* Everything after the first error reads as zero/null, error unchanged. */
    CHECK(jute_get_long(&in) == 0);
    CHECK(jute_get_bool(&in) == false);
    CHECK(jute_get_string(&in) == NULL);
    CHECK(jute_get_buffer(&in).data == NULL);
    CHECK_EQ_INT(in.err, PD_EMALFORMED);

    /* A sticky error stops reads even where bytes remain. */
    jute_in_init(&in, copy, sizeof(bytes), &arena);
    in.err = PD_ENOMEM;
    CHECK_EQ_INT(jute_get_int(&in), 0);
    CHECK_EQ_INT(in.err, PD_ENOMEM);
    CHECK(in.p == copy);
    arena_close(&arena);
    free(copy);
}

/* Every prefix of an encoding of one primitive fails to decode, in bounds. */
static void test_truncations(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_int(&out, 42);
    size_t n_int = out.len;
    jute_put_long(&out, -42);
    size_t n_long = out.len;
    jute_put_bool(&out, true);
    size_t n_bool = out.len;
    jute_put_buffer(&out, "abcdef", 6);
    size_t n_buf = out.len;
    jute_put_string(&out, "/a/b/c");
    size_t n_str = out.len;
    const size_t ends[] = {n_int, n_long, n_bool, n_buf, n_str};
    size_t start = 0;
    for (int kind = 0; kind < 5; kind++) {
        size_t n = ends[kind] - start;
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *copy = copy_exact(out.data + start, cut);
            struct arena arena;
            arena_init(&arena, 0);
            struct jute_in in;
            jute_in_init(&in, copy, cut, &arena);
            switch (kind) {
            case 0:
                CHECK_EQ_INT(jute_get_int(&in), 0);
                break;
            case 1:
                CHECK(jute_get_long(&in) == 0);
                break;
            case 2:
                CHECK(!jute_get_bool(&in));
                break;
            case 3:
                CHECK(jute_get_buffer(&in).data == NULL);
                break;
            default:
                CHECK(jute_get_string(&in) == NULL);
                break;
            }
            CHECK_EQ_INT(in.err, PD_EMALFORMED);
            CHECK(in.p <= in.end);
            arena_close(&arena);
            free(copy);
        }
        start = ends[kind];
    }
    jute_out_close(&out);
}

static void test_string_oom(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_string(&out, "/some/path");
    uint8_t *copy = copy_exact(out.data, out.len);
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, copy, out.len, &arena);
    pd_alloc_fail_after(0, 1);
    CHECK(jute_get_string(&in) == NULL);
    pd_alloc_fail_after(-1, 0);
    CHECK_EQ_INT(in.err, PD_ENOMEM);
    /* Sticky: a retry on the same reader does not start over. */
    CHECK(jute_get_string(&in) == NULL);
    CHECK_EQ_INT(in.err, PD_ENOMEM);
    arena_close(&arena);
    free(copy);
    jute_out_close(&out);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_frame_peek(void)
{
    uint8_t buf[64] = {0};
    size_t body = 12345;

    /* Partial length word. */
    put_be32(buf, 10);
    for (size_t n = 0; n < 4; n++) {
        uint8_t *copy = copy_exact(buf, n);
        CHECK_EQ_INT(jute_frame_peek(copy, n, 100, &body), PD_EAGAIN);
        free(copy);
    }
    /* Partial body. */
    for (size_t n = 4; n < 14; n++) {
        uint8_t *copy = copy_exact(buf, n);
        CHECK_EQ_INT(jute_frame_peek(copy, n, 100, &body), PD_EAGAIN);
        free(copy);
    }
    CHECK_EQ_INT(body, 12345); /* untouched until a whole frame is there */
    /* Whole frame, and a whole frame followed by the start of the next. */
    CHECK_EQ_INT(jute_frame_peek(buf, 14, 100, &body), 0);
    CHECK_EQ_INT(body, 10);
    CHECK_EQ_INT(jute_frame_peek(buf, 20, 100, &body), 0);
    CHECK_EQ_INT(body, 10);
    /* Empty body. */
    put_be32(buf, 0);
    CHECK_EQ_INT(jute_frame_peek(buf, 4, 100, &body), 0);
    CHECK_EQ_INT(body, 0);
    /* Exactly the limit is accepted, one more is too big. */
    put_be32(buf, 40);
    CHECK_EQ_INT(jute_frame_peek(buf, 44, 40, &body), 0);
    CHECK_EQ_INT(body, 40);
    put_be32(buf, 41);
    CHECK_EQ_INT(jute_frame_peek(buf, 45, 40, &body), PD_ETOOBIG);
    /* Too big is known from the length word alone, before the body arrives. */
    uint8_t *copy = copy_exact(buf, 4);
    CHECK_EQ_INT(jute_frame_peek(copy, 4, 40, &body), PD_ETOOBIG);
    free(copy);
    put_be32(buf, (uint32_t)JUTE_MAX_BUFFER_DEFAULT + 1);
    CHECK_EQ_INT(jute_frame_peek(buf, 4, JUTE_MAX_BUFFER_DEFAULT, &body), PD_ETOOBIG);
    put_be32(buf, INT32_MAX);
    CHECK_EQ_INT(jute_frame_peek(buf, 4, JUTE_MAX_BUFFER_DEFAULT, &body), PD_ETOOBIG);
    /* Negative lengths are malformed, whatever the limit. */
    put_be32(buf, 0xffffffffu);
    CHECK_EQ_INT(jute_frame_peek(buf, 4, SIZE_MAX, &body), PD_EMALFORMED);
    put_be32(buf, 0x80000000u);
    CHECK_EQ_INT(jute_frame_peek(buf, 4, SIZE_MAX, &body), PD_EMALFORMED);
}

static void test_frame_begin_end(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_raw(&out, "zz", 2); /* a frame need not start at 0 */
    size_t at = jute_frame_begin(&out);
    CHECK_EQ_INT(at, 2);
    jute_put_int(&out, 7);
    jute_put_string(&out, "abc");
    jute_frame_end(&out, at);
    static const uint8_t want[] = {'z', 'z', 0, 0, 0, 11, 0, 0, 0, 7, 0, 0, 0, 3, 'a', 'b', 'c'};
    CHECK_EQ_INT(out.len, sizeof(want));
    CHECK(memcmp(out.data, want, sizeof(want)) == 0);
    size_t body = 0;
    CHECK_EQ_INT(jute_frame_peek(out.data + 2, out.len - 2, 100, &body), 0);
    CHECK_EQ_INT(body, 11);

    /* An empty frame. */
    jute_out_reset(&out);
    at = jute_frame_begin(&out);
    jute_frame_end(&out, at);
    CHECK_EQ_INT(out.len, 4);
    CHECK(memcmp(out.data, "\0\0\0\0", 4) == 0);
    jute_out_close(&out);
}

static void test_out_reset_steal_patch(void)
{
    struct jute_out out;
    jute_out_init(&out);
    jute_put_int(&out, 1);
    jute_put_int(&out, 2);
    jute_patch_int(&out, 4, 0x0a0b0c0d);
    jute_patch_int(&out, 5, 99); /* would end past len: ignored */
    CHECK(memcmp(out.data, "\0\0\0\x01\x0a\x0b\x0c\x0d", 8) == 0);
    uint8_t *keep = out.data;
    jute_out_reset(&out);
    CHECK_EQ_INT(out.len, 0);
    CHECK(out.data == keep); /* memory kept */
    jute_put_long(&out, 3);
    size_t len = 0;
    uint8_t *bytes = jute_out_steal(&out, &len);
    CHECK_EQ_INT(len, 8);
    CHECK(bytes == keep);
    CHECK(out.data == NULL);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_INT(out.cap, 0);
    pd_free(bytes);
    jute_out_close(&out);
}

static void test_out_oom_is_sticky(void)
{
    struct jute_out out;
    jute_out_init(&out);
    pd_alloc_fail_after(0, 1);
    jute_put_int(&out, 1);
    pd_alloc_fail_after(-1, 0);
    CHECK_EQ_INT(out.err, PD_ENOMEM);
    CHECK_EQ_INT(out.len, 0);
    jute_put_int(&out, 2); /* would succeed now, but the error is sticky */
    CHECK_EQ_INT(out.err, PD_ENOMEM);
    CHECK_EQ_INT(out.len, 0);
    jute_out_close(&out);

    /* Failing to grow keeps what was written. */
    jute_out_init(&out);
    jute_put_raw(&out, "abcd", 4);
    uint8_t big[1000];
    memset(big, 'q', sizeof(big));
    pd_alloc_fail_after(0, 1);
    jute_put_raw(&out, big, sizeof(big));
    pd_alloc_fail_after(-1, 0);
    CHECK_EQ_INT(out.err, PD_ENOMEM);
    CHECK_EQ_INT(out.len, 4);
    CHECK(memcmp(out.data, "abcd", 4) == 0);
    jute_out_close(&out);

    /* A reset clears the error (the buffer is reusable). */
    jute_out_init(&out);
    out.err = PD_ENOMEM;
    jute_out_reset(&out);
    jute_put_int(&out, 5);
    CHECK_EQ_INT(out.err, 0);
    CHECK_EQ_INT(out.len, 4);
    jute_out_close(&out);
}

static void test_out_growth(void)
{
    struct jute_out out;
    jute_out_init(&out);
    for (int32_t i = 0; i < 10000; i++)
        jute_put_int(&out, i);
    CHECK_EQ_INT(out.err, 0);
    CHECK_EQ_INT(out.len, 40000);
    struct jute_in in;
    jute_in_init(&in, out.data, out.len, NULL);
    int bad = 0;
    for (int32_t i = 0; i < 10000; i++)
        bad += jute_get_int(&in) != i;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(in.err, 0);
    jute_out_close(&out);
}

/* A string with a NUL byte decodes (whole, in the arena) but flags the reader:
 * as a C string it would end early, and ZooKeeper answers BADARGUMENTS. */
static void test_string_with_nul_flagged(void)
{
    static const uint8_t bytes[] = {0, 0, 0, 2, '/', 'a', 0, 0, 0, 3, '/', 0, 'b'};
    uint8_t *copy = copy_exact(bytes, sizeof(bytes));
    struct arena arena;
    arena_init(&arena, 0);
    struct jute_in in;
    jute_in_init(&in, copy, sizeof(bytes), &arena);
    CHECK(!in.has_nul);
    CHECK_EQ_STR(jute_get_string(&in), "/a");
    CHECK(!in.has_nul);
    char *s = jute_get_string(&in);
    CHECK(s != NULL && memcmp(s, "/\0b", 4) == 0);
    CHECK(in.has_nul);
    CHECK_EQ_INT(in.err, 0); /* not a decoding error: the caller decides */
    /* Buffers may hold NULs freely. */
    jute_in_init(&in, copy + 6, sizeof(bytes) - 6, &arena);
    CHECK_EQ_INT(jute_get_buffer(&in).len, 3);
    CHECK(!in.has_nul);
    arena_close(&arena);
    free(copy);
}

/* An empty input may be NULL (no buffer yet); an empty raw write to a fresh writer. */
static void test_empty_null_input(void)
{
    struct jute_in in;
    jute_in_init(&in, NULL, 0, NULL);
    CHECK_EQ_INT(jute_in_left(&in), 0);
    CHECK_EQ_INT(jute_get_int(&in), 0);
    CHECK_EQ_INT(in.err, PD_EMALFORMED);
    struct jute_out out;
    jute_out_init(&out);
    jute_put_raw(&out, NULL, 0);
    CHECK_EQ_INT(out.err, 0);
    CHECK_EQ_INT(out.len, 0);
    size_t body = 0;
    CHECK_EQ_INT(jute_frame_peek(NULL, 0, 100, &body), PD_EAGAIN);
    jute_out_close(&out);
}

int main(void)
{
    RUN(test_int_bytes);
    RUN(test_int_roundtrip_edges);
    RUN(test_bool_nonzero_is_true);
    RUN(test_buffer_and_string);
    RUN(test_null_buffer_and_string);
    RUN(test_bad_lengths_refused_before_allocation);
    RUN(test_sticky_error);
    RUN(test_truncations);
    RUN(test_string_oom);
    RUN(test_frame_peek);
    RUN(test_frame_begin_end);
    RUN(test_out_reset_steal_patch);
    RUN(test_out_oom_is_sticky);
    RUN(test_out_growth);
    RUN(test_empty_null_input);
    RUN(test_string_with_nul_flagged);
    return t_done();
}
