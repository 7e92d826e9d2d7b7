/* Per-request bump allocator (arena.h). */
#include "common/arena.h"

#include "common/alloc.h"

#include <stdalign.h>
#include <stdint.h>

struct arena_block {
    struct arena_block *next; /* older block */
    size_t size;              /* usable bytes in data[] */
    size_t used;              /* bytes handed out */
    alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t block_bytes)
{
    a->head = NULL;
    a->block_bytes = block_bytes ? block_bytes : 4096;
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    size_t need = (n + align - 1) & ~(align - 1);
    if (need < n)
        return NULL;
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > a->block_bytes ? need : a->block_bytes;
        if (size > SIZE_MAX - sizeof(*b))
            return NULL;
        b = pd_malloc(sizeof(*b) + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        /* An oversized block goes behind the head so the head's free space is not wasted. */
        if (a->head && size > a->block_bytes) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

void arena_reset(struct arena *a)
{
    struct arena_block *keep = NULL;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        if (!keep && b->size == a->block_bytes) {
            keep = b;
        } else {
            pd_free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}

void arena_close(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        pd_free(b);
        b = next;
    }
    a->head = NULL;
}
