/*
 * A deterministic cluster simulator for the Zab core (STYLE.md section 6).
 *
 * N struct zab instances share one virtual clock and one event queue ordered by (time, seq).
 * Links are FIFO per direction with random latency; a connection break (close, crash, two-way
 * partition) drops whatever is in flight and tells the other end ZAB_PEER_DOWN; a one-way
 * block silently drops records in one direction. Each server has a simulated disk: storage
 * operations complete in order after a random latency, and a crash loses every operation not
 * yet complete; a restart feeds ZAB_START from what is durable.
 *
 * After every step the simulator checks the invariants below and records the first violation
 * (sim_failure()): at most one leader established per epoch; a committed prefix never changes
 * (every commit agrees with one global committed chain and leaves no hole); every committed
 * txn is in the history of every later established leader; each server logs in strictly
 * increasing zxid order and commits in strictly increasing zxid order within a lifetime;
 * zab_check() holds.
 */
#ifndef PD_TESTS_SIM_H
#define PD_TESTS_SIM_H

#include "zab/zab.h"

#include <stdbool.h>
#include <stdint.h>

struct sim_txn {
    pd_zxid zxid; /* txn zxid */
    uint64_t id;  /* payload: unique client write id */
};

struct sim_opts {
    int n_voters;              /* participants, sids 1..n_voters */
    int n_observers;           /* observers, sids after the voters */
    uint64_t seed;             /* PRNG seed for latencies (cores get derived seeds) */
    uint32_t tick_ms;          /* default 100 */
    uint32_t init_limit;       /* default 10 */
    uint32_t sync_limit;       /* default 5 */
    uint32_t commit_log_count; /* default 20: small so that SNAP happens */
    uint32_t lat_min_ms;       /* link latency range, default 1..5 */
    uint32_t lat_max_ms;
    uint32_t disk_min_ms; /* disk latency range, default 1..10 */
    uint32_t disk_max_ms;
};

struct sim;

/* Returns owned simulator; servers are not started (set disks first, then sim_start()). */
struct sim *sim_new(const struct sim_opts *o);
void sim_free(struct sim *s);

/* Preloads server i's disk (before it starts): epochs and a history (ascending zxids). */
void sim_set_disk(struct sim *s, int i, uint32_t accepted, uint32_t current,
                  const struct sim_txn *hist, size_t n);
/* Starts every server that is not up and was never crashed. */
void sim_start(struct sim *s);

uint64_t sim_now(const struct sim *s);
/* Runs events up to virtual time t (ms). Stops early after an invariant violation. */
void sim_run_until(struct sim *s, uint64_t t);
/* Runs until pred holds (checked after each event) or time passes max_t; returns pred. */
bool sim_run_until_pred(struct sim *s, uint64_t max_t, bool (*pred)(struct sim *, void *),
                        void *arg);

int sim_n(const struct sim *s);
pd_sid sim_sid(const struct sim *s, int i);
bool sim_is_up(const struct sim *s, int i);
const struct zab *sim_zab(const struct sim *s, int i);
/* Index of an up server LEADING in BROADCAST (the one with the highest epoch), or -1. */
int sim_leader(const struct sim *s);
/* True when a leader exists and every up server follows it in BROADCAST and has applied
   exactly the leader's committed history. */
bool sim_converged(const struct sim *s);
pd_zxid sim_applied(const struct sim *s, int i);
/* Committed chain length (txns committed anywhere so far). */
size_t sim_committed_count(const struct sim *s);
/* True when the txn with payload id is in the global committed chain. */
bool sim_is_committed(const struct sim *s, uint64_t id);

void sim_crash(struct sim *s, int i);
void sim_restart(struct sim *s, int i);
/* Blocks records from a to b (one way); with both directions the connection also breaks. */
void sim_block(struct sim *s, int a, int b);
/* Cuts every link between the servers in mask and those outside it (both ways). */
void sim_partition(struct sim *s, uint32_t mask);
void sim_heal(struct sim *s);
void sim_set_disk_latency(struct sim *s, int i, uint32_t min_ms, uint32_t max_ms);

/* A client write submitted to server i; returns its payload id, or 0 if i refused it. */
uint64_t sim_propose(struct sim *s, int i);

/* The first invariant violation, or NULL. */
const char *sim_failure(const struct sim *s);
/* True when some trace line so far contains needle. */
bool sim_trace_has(const struct sim *s, const char *needle);
/* Prints the trace (for failing runs). */
void sim_dump_trace(const struct sim *s);
/* Steps taken so far. */
uint64_t sim_steps(const struct sim *s);

#endif
