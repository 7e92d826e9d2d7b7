/*
 * One Zab core driven by hand, record by record: the FLE vote order, the notification a
 * server sends at start, and the durability rules of a learner (ACKEPOCH, ACK of NEWLEADER,
 * ACK of a PROPOSAL only after ZAB_PERSISTED covers them). Cluster behaviour is tested in
 * tests/sim/.
 */
#include "t.h"
#include "zab/zab.h"

#include "common/err.h"

static struct zab_update up;

static const struct zab_send *find_send(int32_t type)
{
    for (size_t i = 0; i < up.n_sends; i++)
        if (up.sends[i].msg.type == type)
            return &up.sends[i];
    return NULL;
}

static const struct zab_store *find_store(int kind)
{
    for (size_t i = 0; i < up.n_stores; i++)
        if (up.stores[i].kind == kind)
            return &up.stores[i];
    return NULL;
}

static int step(struct zab *z, struct zab_event ev)
{
    return zab_step(z, &ev, &up);
}

static int recv(struct zab *z, uint64_t now, pd_sid from, struct zab_msg m)
{
    struct zab_event ev = {.type = ZAB_RECV, .now = now};
    ev.recv.from = from;
    ev.recv.msg = &m;
    return zab_step(z, &ev, &up);
}

static int persisted(struct zab *z, uint64_t now, uint64_t seq)
{
    struct zab_event ev = {.type = ZAB_PERSISTED, .now = now};
    ev.persisted.seq = seq;
    return zab_step(z, &ev, &up);
}

static struct zab *start3(pd_sid self, uint32_t acc, uint32_t cur, pd_zxid last)
{
    struct zab *z = zab_new();
    struct zab_event ev = {.type = ZAB_START, .now = 0};
    ev.start.config = (struct zab_config){
        .self = self, .n_servers = 3, .tick_ms = 100, .init_limit = 10, .sync_limit = 5};
    for (int i = 0; i < 3; i++)
        ev.start.config.servers[i].sid = i + 1;
    ev.start.accepted_epoch = acc;
    ev.start.current_epoch = cur;
    ev.start.last_zxid = last;
    ev.start.seed = 1;
    CHECK_EQ_INT(zab_step(z, &ev, &up), 0);
    return z;
}

static void test_vote_order(void)
{
    /* peerEpoch first, then zxid, then sid */
    CHECK(zab_vote_beats(2, 0x100000001, 1, 1, 0x100000009, 3));
    CHECK(!zab_vote_beats(1, 0x100000009, 3, 2, 0x100000001, 1));
    CHECK(zab_vote_beats(1, 0x100000002, 1, 1, 0x100000001, 3));
    CHECK(zab_vote_beats(1, 0x100000002, 3, 1, 0x100000002, 2));
    CHECK(!zab_vote_beats(1, 0x100000002, 2, 1, 0x100000002, 2));
    CHECK_EQ_INT(zab_make_zxid(3, 7), 0x300000007);
    CHECK_EQ_INT(zab_epoch_of(0x300000007), 3);
    CHECK_EQ_INT(zab_counter_of(0x300000007), 7);
}

static void test_start_notifies_voters(void)
{
    struct zab *z = start3(2, 1, 1, 0x100000005);
    CHECK(zab_role(z) == ZAB_LOOKING);
    CHECK_EQ_INT(up.n_sends, 2); /* to 1 and 3; the one to itself stays inside */
    const struct zab_send *s = find_send(ZAB_MSG_NOTIFICATION);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(s->msg.note.state, ZAB_LOOKING);
        CHECK_EQ_INT(s->msg.note.leader, 2);
        CHECK_EQ_INT(s->msg.note.zxid, 0x100000005);
        CHECK_EQ_INT(s->msg.note.election_epoch, 1);
        CHECK_EQ_INT(s->msg.note.peer_epoch, 1);
        CHECK_EQ_INT(s->msg.note.version, ZAB_FLE_VERSION);
    }
    /* The poll timeout starts at finalizeWait (200 ms) and doubles. */
    CHECK_EQ_INT(up.next_deadline, 200);
    CHECK_EQ_INT(step(z, (struct zab_event){.type = ZAB_TICK, .now = 200}), 0);
    CHECK_EQ_INT(up.n_sends, 2);
    CHECK_EQ_INT(up.next_deadline, 600);
    zab_free(z);
}

/* s2 learns from s3 (LEADING) and s1 (FOLLOWING s3) that a quorum follows s3, joins. */
static struct zab *follower_of_3(void)
{
    struct zab *z = start3(2, 1, 1, 0x100000005);
    struct zab_msg n = {.type = ZAB_MSG_NOTIFICATION};
    n.note = (struct zab_notification){.state = ZAB_LEADING,
                                       .leader = 3,
                                       .zxid = 0x100000007,
                                       .election_epoch = 4,
                                       .peer_epoch = 2,
                                       .version = 2};
    CHECK_EQ_INT(recv(z, 10, 3, n), 0);
    CHECK(zab_role(z) == ZAB_LOOKING);
    n.note.state = ZAB_FOLLOWING;
    CHECK_EQ_INT(recv(z, 11, 1, n), 0);
    CHECK(zab_role(z) == ZAB_FOLLOWING);
    CHECK_EQ_INT(zab_leader(z), 3);
    const struct zab_send *fi = find_send(ZAB_MSG_FOLLOWERINFO);
    CHECK(fi != NULL);
    if (fi) {
        CHECK_EQ_INT(fi->to, 3);
        CHECK_EQ_INT(fi->msg.zxid, 0x100000000); /* acceptedEpoch << 32 */
        CHECK_EQ_INT(fi->msg.learner_sid, 2);
        CHECK_EQ_INT(fi->msg.protocol_version, 0x10000);
    }
    return z;
}

static void test_learner_acks_only_when_durable(void)
{
    struct zab *z = follower_of_3();
    struct zab_msg m = {
        .type = ZAB_MSG_LEADERINFO, .zxid = 0x300000000, .protocol_version = 0x10000};
    CHECK_EQ_INT(recv(z, 20, 3, m), 0);
    const struct zab_store *st = find_store(ZAB_STORE_ACCEPTED_EPOCH);
    CHECK(st != NULL && st->epoch == 3);
    uint64_t seq = st ? st->seq : 0;
    CHECK(find_send(ZAB_MSG_ACKEPOCH) == NULL);
    CHECK_EQ_INT(persisted(z, 21, seq), 0);
    const struct zab_send *ae = find_send(ZAB_MSG_ACKEPOCH);
    CHECK(ae != NULL);
    if (ae) {
        CHECK_EQ_INT(ae->msg.epoch, 1);          /* currentEpoch */
        CHECK_EQ_INT(ae->msg.zxid, 0x100000005); /* last logged zxid */
    }

    /* DIFF with two txns, then NEWLEADER: nothing is ACKed until all of it is durable. */
    struct zab_blob *b = zab_blob_new("tx", 2);
    CHECK_EQ_INT(recv(z, 22, 3, (struct zab_msg){.type = ZAB_MSG_DIFF, .zxid = 0x100000007}), 0);
    CHECK_EQ_INT(
        recv(z, 22, 3, (struct zab_msg){.type = ZAB_MSG_PROPOSAL, .zxid = 0x100000006, .data = b}),
        0);
    uint64_t seq6 = find_store(ZAB_STORE_APPEND)->seq;
    CHECK_EQ_INT(recv(z, 22, 3, (struct zab_msg){.type = ZAB_MSG_COMMIT, .zxid = 0x100000006}), 0);
    CHECK_EQ_INT(
        recv(z, 22, 3, (struct zab_msg){.type = ZAB_MSG_PROPOSAL, .zxid = 0x100000007, .data = b}),
        0);
    CHECK_EQ_INT(recv(z, 22, 3, (struct zab_msg){.type = ZAB_MSG_COMMIT, .zxid = 0x100000007}), 0);
    CHECK_EQ_INT(zab_commit_zxid(z), 0); /* nothing applied before UPTODATE */
    CHECK_EQ_INT(recv(z, 23, 3, (struct zab_msg){.type = ZAB_MSG_NEWLEADER, .zxid = 0x300000000}),
                 0);
    st = find_store(ZAB_STORE_CURRENT_EPOCH);
    CHECK(st != NULL && st->epoch == 3 && st->seq > seq6);
    uint64_t seq_cur = st ? st->seq : 0;
    CHECK(find_send(ZAB_MSG_ACK) == NULL);
    CHECK_EQ_INT(persisted(z, 24, seq6), 0);
    CHECK(find_send(ZAB_MSG_ACK) == NULL);
    CHECK_EQ_INT(persisted(z, 25, seq_cur), 0);
    const struct zab_send *ack = find_send(ZAB_MSG_ACK);
    CHECK(ack != NULL && ack->msg.zxid == 0x300000000);
    CHECK_EQ_INT(zab_current_epoch(z), 3);

    /* UPTODATE applies the synced commits. */
    CHECK_EQ_INT(recv(z, 26, 3, (struct zab_msg){.type = ZAB_MSG_UPTODATE, .zxid = -1}), 0);
    CHECK(zab_phase(z) == ZAB_PHASE_BROADCAST);
    CHECK_EQ_INT(up.commit_zxid, 0x100000007);

    /* A broadcast PROPOSAL is ACKed once durable, and COMMIT applies it. */
    CHECK_EQ_INT(
        recv(z, 27, 3, (struct zab_msg){.type = ZAB_MSG_PROPOSAL, .zxid = 0x300000001, .data = b}),
        0);
    uint64_t seqp = find_store(ZAB_STORE_APPEND)->seq;
    CHECK(find_send(ZAB_MSG_ACK) == NULL);
    CHECK_EQ_INT(persisted(z, 28, seqp), 0);
    ack = find_send(ZAB_MSG_ACK);
    CHECK(ack != NULL && ack->msg.zxid == 0x300000001);
    CHECK_EQ_INT(recv(z, 29, 3, (struct zab_msg){.type = ZAB_MSG_COMMIT, .zxid = 0x300000001}), 0);
    CHECK_EQ_INT(up.commit_zxid, 0x300000001);

    /* A PING is answered; silence beyond syncLimit (5 x 100 ms) sends us back to LOOKING. */
    CHECK_EQ_INT(recv(z, 30, 3, (struct zab_msg){.type = ZAB_MSG_PING, .zxid = 0x300000001}), 0);
    CHECK(find_send(ZAB_MSG_PING) != NULL);
    CHECK_EQ_INT(step(z, (struct zab_event){.type = ZAB_TICK, .now = 531}), 0);
    CHECK(zab_role(z) == ZAB_LOOKING);
    CHECK_EQ_INT(zab_check(z), 0);
    zab_blob_unref(b);
    zab_free(z);
}

static void test_learner_refuses_older_epoch(void)
{
    struct zab *z = follower_of_3();
    /* acceptedEpoch is 1; a LEADERINFO for epoch 1 is answered with -1, epoch 0 refused. */
    CHECK_EQ_INT(recv(z, 20, 3, (struct zab_msg){.type = ZAB_MSG_LEADERINFO, .zxid = 0x100000000}),
                 0);
    const struct zab_send *ae = find_send(ZAB_MSG_ACKEPOCH);
    CHECK(ae != NULL && ae->msg.epoch == -1);
    zab_free(z);
    z = follower_of_3();
    CHECK_EQ_INT(recv(z, 20, 3, (struct zab_msg){.type = ZAB_MSG_LEADERINFO, .zxid = 0}), 0);
    CHECK(zab_role(z) == ZAB_LOOKING);
    zab_free(z);
}

static void test_propose_needs_broadcast(void)
{
    struct zab *z = start3(1, 0, 0, 0);
    struct zab_blob *b = zab_blob_new("x", 1);
    struct zab_event ev = {.type = ZAB_PROPOSE, .now = 1};
    ev.propose.data = b;
    CHECK_EQ_INT(zab_step(z, &ev, &up), PD_EINVAL);
    zab_blob_unref(b);
    zab_free(z);
}

int main(void)
{
    RUN(test_vote_order);
    RUN(test_start_notifies_voters);
    RUN(test_learner_acks_only_when_durable);
    RUN(test_learner_refuses_older_epoch);
    RUN(test_propose_needs_broadcast);
    return t_done();
}
