/*
 * Zab scenarios in the simulator with exact expectations: who is elected, which sync a
 * returning learner gets, what a minority can and cannot do, what an observer sees. Every
 * scenario also runs the simulator's per-step invariants (sim.h); a violation fails it.
 * SIM_TRACE=1 prints the trace of each scenario.
 */
#include "sim.h"
#include "t.h"

#include <stdlib.h>

static struct sim_opts opts(int voters, int observers, uint64_t seed)
{
    struct sim_opts o = {.n_voters = voters, .n_observers = observers, .seed = seed};
    return o;
}

static bool pred_converged(struct sim *s, void *arg)
{
    (void)arg;
    return sim_converged(s);
}

static bool pred_committed(struct sim *s, void *arg)
{
    return sim_is_committed(s, *(uint64_t *)arg);
}

static void finish(struct sim *s, const char *name)
{
    if (sim_failure(s) || getenv("SIM_TRACE")) {
        fprintf(stderr, "--- trace of %s\n", name);
        sim_dump_trace(s);
    }
    if (sim_failure(s))
        fprintf(stderr, "%s: invariant violated: %s\n", name, sim_failure(s));
    CHECK(sim_failure(s) == NULL);
    sim_free(s);
}

/* Writes n txns through server i, each waited for until committed; a refused write is
   retried every 100 ms for up to 5 s, as a client would. */
static int write_n(struct sim *s, int i, int n)
{
    int ok = 0;
    for (int k = 0; k < n; k++) {
        uint64_t id = 0;
        for (int tries = 0; tries < 50 && !id && !sim_failure(s); tries++) {
            id = sim_propose(s, i);
            if (!id)
                sim_run_until(s, sim_now(s) + 100);
        }
        if (id && sim_run_until_pred(s, sim_now(s) + 5000, pred_committed, &id))
            ok++;
    }
    return ok;
}

static void hist(struct sim_txn *h, size_t n, uint32_t epoch, uint64_t base_id)
{
    for (size_t k = 0; k < n; k++) {
        h[k].zxid = zab_make_zxid(epoch, (uint32_t)k + 1);
        h[k].id = base_id + k;
    }
}

/* Election at start picks the highest (currentEpoch, last zxid, sid). */
static void test_election_picks_highest(void)
{
    struct sim_txn h[8];
    hist(h, 8, 1, 1000);
    /* s1: epoch 1, 5 txns; s2 and s3: epoch 1, 7 txns -> s3 wins on sid. */
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 1});
    sim_set_disk(s, 0, 1, 1, h, 5);
    sim_set_disk(s, 1, 1, 1, h, 7);
    sim_set_disk(s, 2, 1, 1, h, 7);
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 2);
    CHECK_EQ_INT(zab_current_epoch(sim_zab(s, 0)), 2);
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 7));
    CHECK(sim_trace_has(s, "s3 sync 1 from 0x100000005 by DIFF to 0x100000007"));
    CHECK(sim_trace_has(s, "s3 sync 2 from 0x100000007 by DIFF (in sync)"));
    /* Election takes about finalizeWait (200 ms) plus a few latencies. */
    CHECK(sim_now(s) < 1000);
    finish(s, "election_picks_highest");

    /* A higher currentEpoch beats a longer log; then zxid; sid last. */
    s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 2});
    struct sim_txn g[4];
    hist(g, 3, 1, 2000);
    g[3] = (struct sim_txn){zab_make_zxid(2, 1), 2003};
    sim_set_disk(s, 0, 2, 2, g, 4); /* epoch 2, 0x200000001 */
    sim_set_disk(s, 1, 1, 1, g, 3);
    sim_set_disk(s, 2, 1, 1, g, 3);
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 0);
    CHECK_EQ_INT(zab_current_epoch(sim_zab(s, 2)), 3);
    finish(s, "election_epoch_first");

    /* Empty ensemble: highest sid leads. */
    s = sim_new(&(struct sim_opts){.n_voters = 5, .seed = 3});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 4);
    CHECK_EQ_INT(zab_current_epoch(sim_zab(s, 4)), 1);
    finish(s, "election_empty");
}

static void test_standalone_quorum_of_one(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 1, .seed = 4});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 5000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 0);
    CHECK_EQ_INT(write_n(s, 0, 10), 10);
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 10));
    sim_crash(s, 0);
    sim_restart(s, 0);
    CHECK(sim_run_until_pred(s, sim_now(s) + 5000, pred_converged, NULL));
    CHECK_EQ_INT(zab_current_epoch(sim_zab(s, 0)), 2);
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 10));
    finish(s, "standalone");
}

static void test_leader_crash_new_leader(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 5});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    int l = sim_leader(s);
    CHECK_EQ_INT(l, 2);
    CHECK_EQ_INT(write_n(s, 0, 5), 5); /* through a follower: REQUEST forwarding */
    CHECK_EQ_INT(write_n(s, l, 5), 5);
    uint64_t t0 = sim_now(s);
    sim_crash(s, l);
    CHECK(sim_run_until_pred(s, t0 + 20000, pred_converged, NULL));
    int l2 = sim_leader(s);
    CHECK_EQ_INT(l2, 1);
    CHECK_EQ_INT(zab_current_epoch(sim_zab(s, l2)), 2);
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 10));
    /* Followers notice at syncLimit (5 ticks of 100 ms) and elect within about a second. */
    CHECK(sim_now(s) - t0 < 2000);
    CHECK_EQ_INT(write_n(s, 0, 3), 3);
    CHECK_EQ_INT(sim_applied(s, 1), zab_make_zxid(2, 3));
    /* The old leader returns as a follower and catches up by DIFF. */
    sim_restart(s, l);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 1);
    CHECK(sim_trace_has(s, "s2 sync 3 from 0x10000000a by DIFF to 0x200000003"));
    CHECK_EQ_INT(sim_committed_count(s), 13);
    finish(s, "leader_crash");
}

static void test_follower_restart_diff_and_snap(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 6});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(write_n(s, 2, 4), 4);
    sim_crash(s, 0);
    CHECK_EQ_INT(write_n(s, 2, 6), 6); /* 6 < commit_log_count (20): DIFF */
    sim_restart(s, 0);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK(sim_trace_has(s, "s3 sync 1 from 0x100000004 by DIFF to 0x10000000a"));
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 10));

    sim_crash(s, 0);
    CHECK_EQ_INT(write_n(s, 1, 30), 30); /* 30 > commit_log_count: SNAP */
    sim_restart(s, 0);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK(sim_trace_has(s, "s3 sync 1 from 0x10000000a by SNAP to 0x100000028"));
    CHECK(sim_trace_has(s, "s1 SNAP at 0x100000028"));
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 40));
    CHECK_EQ_INT(write_n(s, 0, 2), 2);
    CHECK(sim_run_until_pred(s, sim_now(s) + 5000, pred_converged, NULL));
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 42));
    finish(s, "follower_restart");
}

static bool pred_leader_is_not(struct sim *s, void *arg)
{
    int l = sim_leader(s);
    return l >= 0 && l != *(int *)arg;
}

/* The old leader logged txns no one else has, then lost its quorum: TRUNC on return. */
static void test_trunc_dead_epoch(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 7});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    int l = sim_leader(s);
    CHECK_EQ_INT(l, 2);
    CHECK_EQ_INT(write_n(s, l, 3), 3);
    sim_partition(s, 1u << l);
    /* Proposed but never committed: only the old leader logs them. */
    uint64_t a = sim_propose(s, l), b = sim_propose(s, l);
    CHECK(a != 0 && b != 0);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_leader_is_not, &l));
    CHECK_EQ_INT(sim_leader(s), 1);
    CHECK(!sim_is_committed(s, a) && !sim_is_committed(s, b));
    sim_heal(s);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK(sim_trace_has(s, "s2 sync 3 from 0x100000005 by TRUNC to 0x100000003"));
    CHECK(sim_trace_has(s, "s3 TRUNC to 0x100000003"));
    CHECK(!sim_is_committed(s, a) && !sim_is_committed(s, b));
    CHECK_EQ_INT(sim_applied(s, 2), zab_make_zxid(1, 3));
    CHECK_EQ_INT(zab_last_zxid(sim_zab(s, 2)), zab_make_zxid(1, 3));
    finish(s, "trunc");

    /* Same, but the new epoch has txns before the old leader returns: TRUNC cannot cross
       the epoch boundary, so the leader falls back to SNAP as ZooKeeper does. */
    s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 8});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(write_n(s, 2, 3), 3);
    sim_partition(s, 1u << 2);
    CHECK(sim_propose(s, 2) != 0);
    l = 2;
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_leader_is_not, &l));
    CHECK_EQ_INT(write_n(s, 1, 2), 2);
    sim_heal(s);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK(sim_trace_has(s, "s2 sync 3 from 0x100000004 by SNAP to 0x200000002"));
    CHECK_EQ_INT(sim_applied(s, 2), zab_make_zxid(2, 2));
    finish(s, "trunc_cross_epoch");
}

static void test_minority_partition(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 5, .seed = 9});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    int l = sim_leader(s);
    CHECK_EQ_INT(l, 4);
    CHECK_EQ_INT(write_n(s, l, 3), 3);
    /* Leader s5 and s4 on one side, s1..s3 on the other. */
    sim_partition(s, (1u << 4) | (1u << 3));
    uint64_t lost = sim_propose(s, 4);
    CHECK(lost != 0);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_leader_is_not, &l) || true);
    /* The minority leader steps down (no synced quorum) and stays without a leader. */
    CHECK(zab_role(sim_zab(s, 4)) != ZAB_LEADING ||
          zab_phase(sim_zab(s, 4)) != ZAB_PHASE_BROADCAST);
    CHECK_EQ_INT(sim_leader(s), 2);
    CHECK(!sim_is_committed(s, lost));
    CHECK(sim_propose(s, 3) == 0); /* LOOKING: refused */
    CHECK_EQ_INT(write_n(s, 0, 4), 4);
    sim_run_until(s, sim_now(s) + 3000);
    CHECK(zab_role(sim_zab(s, 3)) == ZAB_LOOKING);
    CHECK(zab_role(sim_zab(s, 4)) == ZAB_LOOKING);
    CHECK(!sim_is_committed(s, lost));
    sim_heal(s);
    CHECK(sim_run_until_pred(s, sim_now(s) + 30000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 2);
    CHECK_EQ_INT(sim_applied(s, 4), zab_make_zxid(2, 4));
    CHECK(!sim_is_committed(s, lost));
    finish(s, "minority_partition");
}

static void test_observer_follows(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .n_observers = 1, .seed = 10});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 2);
    CHECK(zab_role(sim_zab(s, 3)) == ZAB_OBSERVING);
    CHECK_EQ_INT(write_n(s, 3, 5), 5); /* writes forwarded by the observer */
    CHECK(sim_run_until_pred(s, sim_now(s) + 5000, pred_converged, NULL));
    CHECK_EQ_INT(sim_applied(s, 3), zab_make_zxid(1, 5));
    /* The observer does not count: with two voters down nothing commits. */
    sim_crash(s, 0);
    sim_crash(s, 1);
    uint64_t id = sim_propose(s, 2);
    sim_run_until(s, sim_now(s) + 3000);
    CHECK(!sim_is_committed(s, id));
    CHECK(zab_role(sim_zab(s, 2)) == ZAB_LOOKING);
    CHECK(zab_role(sim_zab(s, 3)) == ZAB_LOOKING);
    sim_restart(s, 0);
    sim_restart(s, 1);
    CHECK(sim_run_until_pred(s, sim_now(s) + 30000, pred_converged, NULL));
    CHECK(zab_role(sim_zab(s, 3)) == ZAB_OBSERVING);
    /* A restarted observer catches up too. */
    sim_crash(s, 3);
    CHECK_EQ_INT(write_n(s, 0, 3), 3);
    sim_restart(s, 3);
    CHECK(sim_run_until_pred(s, sim_now(s) + 30000, pred_converged, NULL));
    CHECK_EQ_INT(sim_applied(s, 3), sim_applied(s, sim_leader(s)));
    finish(s, "observer");
}

/* Followers must not ACK NEWLEADER before their synced txns are durable: with slow disks on
   every follower, the leader establishes only after those writes complete, and a crash of
   every follower right after establishment loses nothing. */
static void test_newleader_waits_for_disk(void)
{
    struct sim_txn h[6];
    hist(h, 6, 1, 3000);
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 11});
    sim_set_disk(s, 0, 1, 1, h, 2);
    sim_set_disk(s, 1, 1, 1, h, 2);
    sim_set_disk(s, 2, 1, 1, h, 6);
    sim_set_disk_latency(s, 0, 300, 300);
    sim_set_disk_latency(s, 1, 300, 300);
    sim_start(s);
    CHECK(sim_run_until_pred(s, 20000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 2);
    /* Crash both followers and the leader, then restart the followers only: they must
       elect one of themselves holding all of the committed history. */
    sim_crash(s, 0);
    sim_crash(s, 1);
    sim_crash(s, 2);
    sim_restart(s, 0);
    sim_restart(s, 1);
    sim_run_until(s, sim_now(s) + 10000);
    CHECK(sim_leader(s) == 1);
    CHECK_EQ_INT(zab_last_zxid(sim_zab(s, 1)), zab_make_zxid(1, 6));
    finish(s, "newleader_waits_for_disk");
}

/* A follower that keeps answering PINGs but whose disk takes longer than syncLimit (5 ticks of
   100 ms) to make proposals durable is dropped by the leader ("transaction timeout",
   LearnerHandler.syncLimitCheck), while the other follower keeps the quorum; with its disk
   fast again it rejoins and catches up. Before the check it stayed attached, ACKing ever
   later. */
static void test_slow_disk_follower_dropped(void)
{
    struct sim *s = sim_new(&(struct sim_opts){.n_voters = 3, .seed = 21});
    sim_start(s);
    CHECK(sim_run_until_pred(s, 10000, pred_converged, NULL));
    CHECK_EQ_INT(sim_leader(s), 2);
    CHECK_EQ_INT(write_n(s, 2, 3), 3);
    CHECK(!sim_trace_has(s, "transaction timeout"));
    sim_set_disk_latency(s, 0, 1500, 1500);
    CHECK_EQ_INT(write_n(s, 2, 5), 5); /* committed by the leader and server 2 */
    sim_run_until(s, sim_now(s) + 1000);
    CHECK(sim_trace_has(s, "s3 drop learner 1: transaction timeout"));
    CHECK(!sim_trace_has(s, "drop learner 2"));
    CHECK_EQ_INT(sim_leader(s), 2);
    sim_set_disk_latency(s, 0, 1, 10);
    CHECK(sim_run_until_pred(s, sim_now(s) + 20000, pred_converged, NULL));
    CHECK_EQ_INT(sim_applied(s, 0), zab_make_zxid(1, 8));
    finish(s, "slow_disk_follower_dropped");
}

int main(void)
{
    (void)opts;
    RUN(test_election_picks_highest);
    RUN(test_standalone_quorum_of_one);
    RUN(test_leader_crash_new_leader);
    RUN(test_follower_restart_diff_and_snap);
    RUN(test_trunc_dead_epoch);
    RUN(test_minority_partition);
    RUN(test_observer_follows);
    RUN(test_newleader_waits_for_disk);
    RUN(test_slow_disk_follower_dropped);
    return t_done();
}
