/*
 * A bump allocator for memory that lives exactly as long as one request: the
 * strings and vectors a decoded record points at. Allocation is a pointer
 * bump in the current block; arena_reset() keeps the first block for reuse
 * and frees the rest, so a steady stream of small requests allocates nothing.
 */
#ifndef PD_COMMON_ARENA_H
#define PD_COMMON_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* current block (owned); older blocks chained behind it */
    size_t block_bytes;       /* size of a normal block */
};

void arena_init(struct arena *a, size_t block_bytes);
/* Returns memory aligned for any type, valid until reset/close; NULL on OOM. */
void *arena_alloc(struct arena *a, size_t n);
/* Releases everything allocated since init but keeps one block for reuse. */
void arena_reset(struct arena *a);
void arena_close(struct arena *a);

#endif
