// Apache Curator (Debian libcurator-*-java 5.4) against one ZooKeeper-compatible
// server: the framework's builders and the common recipes, unchanged.
//
//   java CuratorCheck 127.0.0.1:PORT /base
//
// Prints "PASS name" or "FAIL name: why" per check, then one summary line
// "curator: N passed, M failed".  Exit code 0 only if every check passed.
// Every wait is bounded; a watchdog ends the JVM after WATCHDOG_S seconds.
// Run by tests/integration/test_curator.py, which compiles it with javac.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.api.transaction.OperationType;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.nodes.GroupMember;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class CuratorCheck {
    static final int WATCHDOG_S = 80;
    static final long WAIT_S = 10;           // bound for any single wait

    static String connect;
    static String base;
    static int passed = 0, failed = 0;
    static final List<CuratorFramework> clients = new ArrayList<>();

    interface Body {
        void run() throws Exception;
    }

    static void check(String name, Body body) {
        long t0 = System.nanoTime();
        try {
            body.run();
            passed++;
            System.out.printf("PASS %s (%d ms)%n", name, (System.nanoTime() - t0) / 1000000);
        } catch (Throwable e) {
            failed++;
            String why = String.valueOf(e).replace('\n', ' ');
            StackTraceElement[] st = e.getStackTrace();
            for (StackTraceElement el : st) {
                if (el.getClassName().startsWith("CuratorCheck") && el.getMethodName().startsWith("lambda$")) {
                    why += " [at line " + el.getLineNumber() + "]";
                    break;
                }
            }
            System.out.printf("FAIL %s: %s%n", name, why);
        }
        System.out.flush();
    }

    static void require(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void same(Object want, Object got, String what) {
        if (want == null ? got != null : !want.equals(got)) {
            throw new AssertionError(what + ": want <" + want + "> got <" + got + ">");
        }
    }

    static <T extends Throwable> T raises(Class<T> type, Body body) throws Exception {
        try {
            body.run();
        } catch (Throwable e) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
            throw new AssertionError("want " + type.getSimpleName() + ", got " + e, e);
        }
        throw new AssertionError("want " + type.getSimpleName() + ", got no exception");
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] d) {
        return d == null ? null : new String(d, StandardCharsets.UTF_8);
    }

    static CuratorFramework client(CuratorFrameworkFactory.Builder builder) throws Exception {
        CuratorFramework c = builder.connectString(connect)
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        clients.add(c);
        c.start();
        if (!c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS)) {
            throw new IllegalStateException("blockUntilConnected timed out");
        }
        return c;
    }

    static CuratorFramework client() throws Exception {
        return client(CuratorFrameworkFactory.builder());
    }

    static long sessionId(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** Poll until cond holds, at most WAIT_S seconds. */
    interface Cond {
        boolean holds() throws Exception;
    }

    static void waitUntil(Cond cond, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!cond.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static String take(BlockingQueue<String> q, String what) throws InterruptedException {
        String e = q.poll(WAIT_S, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("timed out waiting for " + what);
        }
        return e;
    }

    /** The next len events, compared as a list. */
    static void events(BlockingQueue<String> q, String... want) throws InterruptedException {
        List<String> got = new ArrayList<>();
        for (int i = 0; i < want.length; i++) {
            got.add(take(q, "event " + want[i] + " (so far " + got + ")"));
        }
        same(Arrays.asList(want), got, "events");
    }

    static void quiet(BlockingQueue<String> q, long ms) throws InterruptedException {
        String e = q.poll(ms, TimeUnit.MILLISECONDS);
        require(e == null, "unexpected event " + e);
    }

    public static void main(String[] args) throws Exception {
        connect = args[0];
        base = args[1];
        Thread dog = new Thread(() -> {
            try {
                Thread.sleep(WATCHDOG_S * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            System.out.printf("FAIL watchdog: still running after %d s%n", WATCHDOG_S);
            System.out.printf("curator: %d passed, %d failed%n", passed, failed + 1);
            System.out.flush();
            Runtime.getRuntime().halt(3);
        });
        dog.setDaemon(true);
        dog.start();

        final AtomicReference<CuratorFramework> ref = new AtomicReference<>();
        final AtomicReference<CuratorFramework> ref2 = new AtomicReference<>();
        final BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();

        check("connect", () -> {
            CuratorFramework c = CuratorFrameworkFactory.builder()
                    .connectString(connect).sessionTimeoutMs(10000)
                    .connectionTimeoutMs(5000)
                    .retryPolicy(new ExponentialBackoffRetry(100, 3)).build();
            clients.add(c);
            c.getConnectionStateListenable().addListener((cl, st) -> states.add(st));
            c.start();
            require(c.blockUntilConnected((int) WAIT_S, TimeUnit.SECONDS), "blockUntilConnected");
            same(ConnectionState.CONNECTED, states.poll(WAIT_S, TimeUnit.SECONDS), "first state");
            require(c.getZookeeperClient().isConnected(), "isConnected");
            require(sessionId(c) != 0, "session id");
            ref.set(c);
            c.create().creatingParentsIfNeeded().forPath(base);
        });
        check("second_client", () -> ref2.set(client()));
        final CuratorFramework a = ref.get();
        final CuratorFramework c2 = ref2.get();
        if (a == null || c2 == null) {
            System.out.printf("curator: %d passed, %d failed%n", passed, failed);
            System.exit(1);
        }

        check("create_parents_and_modes", () -> {
            String p = base + "/cp/x/y";
            same(p, a.create().creatingParentsIfNeeded().forPath(p, b("deep")), "created path");
            same("deep", s(a.getData().forPath(p)), "data");
            Stat parent = a.checkExists().forPath(base + "/cp/x");
            require(parent != null && parent.getNumChildren() == 1, "parent " + parent);
            same(0L, parent.getEphemeralOwner(), "parent is persistent");

            // create2: the stat comes back with the create
            Stat st = new Stat();
            a.create().storingStatIn(st).forPath(base + "/cp/s", b("12345"));
            Stat ex = a.checkExists().forPath(base + "/cp/s");
            same(ex, st, "create2 stat = exists stat");
            require(st.getCzxid() > 0 && st.getDataLength() == 5 && st.getVersion() == 0, "stat " + st);

            String seq = a.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(base + "/cp/q-");
            require(seq.matches(".*/q-\\d{10}$"), "sequential name " + seq);
            String seq2 = a.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(base + "/cp/q-");
            same(Long.parseLong(seq.substring(seq.length() - 10)) + 1,
                    Long.parseLong(seq2.substring(seq2.length() - 10)), "next sequence number");

            String prot = a.create().withProtection().withMode(CreateMode.EPHEMERAL_SEQUENTIAL)
                    .forPath(base + "/cp/lock-");
            require(prot.matches(".*/_c_[0-9a-f-]{36}-lock-\\d{10}$"), "protected name " + prot);
            same(sessionId(a), a.checkExists().forPath(prot).getEphemeralOwner(), "ephemeralOwner");

            raises(KeeperException.NodeExistsException.class, () -> a.create().forPath(p));
            raises(KeeperException.NoNodeException.class, () -> a.create().forPath(base + "/nope/x"));
            raises(KeeperException.NoChildrenForEphemeralsException.class,
                    () -> a.create().forPath(prot + "/child"));

            a.create().orSetData().forPath(p, b("again"));
            same("again", s(a.getData().forPath(p)), "create().orSetData() on an existing node");

            CuratorFramework ns = a.usingNamespace("cpns" + base.replace('/', '_'));
            ns.create().forPath("/n", b("in namespace"));
            same("in namespace", s(a.getData().forPath("/cpns" + base.replace('/', '_') + "/n")), "namespace");
            a.delete().deletingChildrenIfNeeded().forPath("/cpns" + base.replace('/', '_'));
        });

        check("create_parent_containers", () -> {
            String leaf = base + "/cont/x/leaf";
            a.create().creatingParentContainersIfNeeded().forPath(leaf);
            require(a.checkExists().forPath(base + "/cont/x") != null, "container parent");
            a.createContainers(base + "/cont2/y");
            require(a.checkExists().forPath(base + "/cont2/y") != null, "createContainers");
            a.create().forPath(base + "/cont2/y/z");
            a.delete().forPath(leaf);
            a.delete().forPath(base + "/cont2/y/z");
            // the server removes an emptied container, then its emptied parent
            waitUntil(() -> a.checkExists().forPath(base + "/cont") == null, "containers deleted");
            waitUntil(() -> a.checkExists().forPath(base + "/cont2") == null, "containers deleted");
        });

        check("ttl_node", () -> {
            String p = base + "/ttl";
            Stat st = new Stat();
            a.create().withTtl(200).storingStatIn(st).withMode(CreateMode.PERSISTENT_WITH_TTL).forPath(p, b("t"));
            same(0L, st.getEphemeralOwner(), "ttl node's ephemeralOwner as clients see it");
            waitUntil(() -> a.checkExists().forPath(p) == null, "ttl node expired");
        });

        check("set_get_version", () -> {
            String p = base + "/v";
            a.create().forPath(p, b("v0"));
            Stat st = new Stat();
            same("v0", s(a.getData().storingStatIn(st).forPath(p)), "data");
            same(0, st.getVersion(), "version");
            Stat after = a.setData().withVersion(0).forPath(p, b("v1"));
            same(1, after.getVersion(), "version after set");
            require(after.getMzxid() > after.getCzxid(), "mzxid moves");
            raises(KeeperException.BadVersionException.class, () -> a.setData().withVersion(0).forPath(p, b("v2")));
            same("v1", s(a.getData().forPath(p)), "data after failed set");
            same(2, a.setData().forPath(p, b("v3")).getVersion(), "unconditional set");
            raises(KeeperException.NoNodeException.class, () -> a.setData().forPath(base + "/nope", b("x")));
            raises(KeeperException.BadVersionException.class, () -> a.delete().withVersion(5).forPath(p));
            a.delete().withVersion(2).forPath(p);
            same(null, a.checkExists().forPath(p), "deleted");

            a.create().creatingParentsIfNeeded().forPath(p + "/a/b/c");
            raises(KeeperException.NotEmptyException.class, () -> a.delete().forPath(p));
            a.delete().guaranteed().deletingChildrenIfNeeded().forPath(p);
            same(null, a.checkExists().forPath(p), "deletingChildrenIfNeeded");
        });

        check("acl_and_auth", () -> {
            CuratorFramework alice = client(CuratorFrameworkFactory.builder()
                    .authorization("digest", b("alice:secret")));
            String p = base + "/acl";
            alice.create().withACL(ZooDefs.Ids.CREATOR_ALL_ACL).forPath(p, b("private"));
            List<ACL> acl = alice.getACL().forPath(p);
            same(1, acl.size(), "acl size");
            same("digest", acl.get(0).getId().getScheme(), "scheme");
            require(acl.get(0).getId().getId().startsWith("alice:"), "id " + acl.get(0).getId());
            same("private", s(alice.getData().forPath(p)), "owner reads");
            raises(KeeperException.NoAuthException.class, () -> a.getData().forPath(p));
            List<ACL> open = Arrays.asList(new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
            Stat st = alice.setACL().withVersion(0).withACL(open).forPath(p);
            same(1, st.getAversion(), "aversion");
            same("private", s(a.getData().forPath(p)), "world may read now");
            raises(KeeperException.NoAuthException.class, () -> a.setData().forPath(p, b("x")));
            alice.close();
        });

        check("transaction", () -> {
            String t = base + "/tx";
            a.create().forPath(t);
            CuratorOp op1 = a.transactionOp().create().forPath(t + "/a", b("1"));
            CuratorOp op2 = a.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(t + "/s-");
            CuratorOp op3 = a.transactionOp().setData().withVersion(0).forPath(t + "/a", b("2"));
            CuratorOp op4 = a.transactionOp().check().withVersion(0).forPath(t);
            List<CuratorTransactionResult> res = a.transaction().forOperations(op1, op2, op3, op4);
            same(4, res.size(), "results");
            same(OperationType.CREATE, res.get(0).getType(), "type 0");
            same(t + "/a", res.get(0).getResultPath(), "path 0");
            require(res.get(1).getResultPath().matches(".*/s-\\d{10}$"), "sequential in multi " + res.get(1).getResultPath());
            same(OperationType.SET_DATA, res.get(2).getType(), "type 2");
            same(1, res.get(2).getResultStat().getVersion(), "set stat in multi");
            same(OperationType.CHECK, res.get(3).getType(), "type 3");
            same("2", s(a.getData().forPath(t + "/a")), "applied");

            // a failing op rolls the whole transaction back
            CuratorOp f1 = a.transactionOp().create().forPath(t + "/never");
            CuratorOp f2 = a.transactionOp().check().withVersion(99).forPath(t + "/a");
            raises(KeeperException.BadVersionException.class, () -> a.transaction().forOperations(f1, f2));
            same(null, a.checkExists().forPath(t + "/never"), "rolled back");

            // the older inTransaction() API (deprecated, still in Curator 5)
            @SuppressWarnings("deprecation")
            Collection<CuratorTransactionResult> old = a.inTransaction()
                    .create().forPath(t + "/b", b("x")).and()
                    .setData().forPath(t + "/b", b("y")).and()
                    .delete().forPath(t + "/a").and()
                    .commit();
            same(3, old.size(), "inTransaction results");
            same("y", s(a.getData().forPath(t + "/b")), "inTransaction applied");
            same(null, a.checkExists().forPath(t + "/a"), "inTransaction delete");
        });

        check("mutex_two_clients", () -> {
            String lock = base + "/locks/m";
            InterProcessMutex ma = new InterProcessMutex(a, lock);
            InterProcessMutex mb = new InterProcessMutex(c2, lock);
            require(ma.acquire(WAIT_S, TimeUnit.SECONDS), "a acquires");
            require(ma.acquire(WAIT_S, TimeUnit.SECONDS), "a re-enters");
            require(!mb.acquire(300, TimeUnit.MILLISECONDS), "b must not acquire while a holds it");
            CountDownLatch got = new CountDownLatch(1);
            AtomicReference<Throwable> err = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    if (mb.acquire(WAIT_S, TimeUnit.SECONDS)) {
                        got.countDown();
                    }
                } catch (Throwable e) {
                    err.set(e);
                }
            });
            t.start();
            waitUntil(() -> ma.getParticipantNodes().size() == 2, "b waiting in line");
            require(!got.await(200, TimeUnit.MILLISECONDS), "b acquired too early");
            ma.release();
            require(!got.await(200, TimeUnit.MILLISECONDS), "b acquired after one of two releases");
            ma.release();
            require(got.await(WAIT_S, TimeUnit.SECONDS), "b acquires after a releases: " + err.get());
            t.join(WAIT_S * 1000);
            require(mb.isAcquiredInThisProcess() && !ma.isAcquiredInThisProcess(), "ownership");
            same(1, mb.getParticipantNodes().size(), "one lock node");
            // release() belongs to the acquiring thread; b's lock node is its own
            same(sessionId(c2), a.checkExists().forPath(mb.getParticipantNodes().iterator().next())
                    .getEphemeralOwner(), "lock node owner");
        });

        check("semaphore", () -> {
            String path = base + "/sem";
            InterProcessSemaphoreV2 sa = new InterProcessSemaphoreV2(a, path, 2);
            InterProcessSemaphoreV2 sb = new InterProcessSemaphoreV2(c2, path, 2);
            Collection<Lease> l1 = sa.acquire(2, WAIT_S, TimeUnit.SECONDS);
            require(l1 != null && l1.size() == 2, "a takes both leases");
            same(null, sb.acquire(300, TimeUnit.MILLISECONDS), "no lease left for b");
            sa.returnAll(l1);
            Lease l2 = sb.acquire(WAIT_S, TimeUnit.SECONDS);
            require(l2 != null, "b gets a lease");
            sb.returnLease(l2);
        });

        check("leader_latch", () -> {
            String path = base + "/leader";
            LeaderLatch l1 = new LeaderLatch(a, path, "p1");
            LeaderLatch l2 = new LeaderLatch(c2, path, "p2");
            l1.start();
            l2.start();
            waitUntil(() -> l1.hasLeadership() || l2.hasLeadership(), "a leader");
            waitUntil(() -> l1.getParticipants().size() == 2, "two participants");
            require(l1.hasLeadership() != l2.hasLeadership(), "exactly one leader");
            LeaderLatch leader = l1.hasLeadership() ? l1 : l2;
            LeaderLatch other = leader == l1 ? l2 : l1;
            same(leader.getId(), other.getLeader().getId(), "both agree on the leader");
            leader.close();
            require(other.await(WAIT_S, TimeUnit.SECONDS), "the other takes over");
            require(other.hasLeadership(), "hasLeadership");
            waitUntil(() -> other.getParticipants().size() == 1, "one participant left");
            other.close();
        });

        check("curator_cache", () -> {
            String path = base + "/cache";
            a.create().forPath(path, b("root"));
            a.create().forPath(path + "/old", b("o"));
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            CountDownLatch init = new CountDownLatch(1);
            CuratorCache cache = CuratorCache.build(a, path);
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreates(n -> q.add("create " + n.getPath() + " " + s(n.getData())))
                    .forChanges((o, n) -> q.add("change " + n.getPath() + " " + s(o.getData()) + "->" + s(n.getData())))
                    .forDeletes(n -> q.add("delete " + n.getPath()))
                    .forInitialized(init::countDown)
                    .build());
            cache.start();
            require(init.await(WAIT_S, TimeUnit.SECONDS), "initialized");
            // the initial load reports what is there, in no set order
            List<String> initial = new ArrayList<>();
            initial.add(take(q, "initial"));
            initial.add(take(q, "initial"));
            initial.sort(null);
            same(Arrays.asList("create " + path + " root", "create " + path + "/old o"), initial, "initial");
            c2.create().forPath(path + "/n", b("1"));
            events(q, "create " + path + "/n 1");
            c2.setData().forPath(path + "/n", b("2"));
            events(q, "change " + path + "/n 1->2");
            c2.create().forPath(path + "/n/deep", b("d"));
            events(q, "create " + path + "/n/deep d");
            c2.delete().deletingChildrenIfNeeded().forPath(path + "/n");
            List<String> dels = new ArrayList<>();
            dels.add(take(q, "delete"));
            dels.add(take(q, "delete"));
            dels.sort(null);
            same(Arrays.asList("delete " + path + "/n", "delete " + path + "/n/deep"), dels, "deletes");
            same("o", s(cache.get(path + "/old").map(ChildData::getData).orElse(null)), "cache content");
            same(2L, cache.stream().count(), "cache size");
            cache.close();
        });

        check("path_children_cache", () -> {
            String path = base + "/pcc";
            a.create().forPath(path);
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            @SuppressWarnings("deprecation")
            PathChildrenCache pcc = new PathChildrenCache(a, path, true);
            pcc.getListenable().addListener((cl, e) -> q.add(e.getType()
                    + (e.getData() == null ? "" : " " + e.getData().getPath() + " " + s(e.getData().getData()))));
            pcc.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
            events(q, "INITIALIZED");
            c2.create().forPath(path + "/c", b("1"));
            events(q, "CHILD_ADDED " + path + "/c 1");
            c2.setData().forPath(path + "/c", b("2"));
            events(q, "CHILD_UPDATED " + path + "/c 2");
            c2.delete().forPath(path + "/c");
            events(q, "CHILD_REMOVED " + path + "/c 2");
            pcc.close();
        });

        check("shared_count", () -> {
            String path = base + "/count";
            SharedCount sa = new SharedCount(a, path, 10);
            SharedCount sb = new SharedCount(c2, path, 10);
            sa.start();
            sb.start();
            same(10, sb.getCount(), "initial");
            VersionedValue<Integer> stale = sb.getVersionedValue();
            require(sa.trySetCount(sa.getVersionedValue(), 11), "trySetCount");
            waitUntil(() -> sb.getCount() == 11, "b sees 11");
            require(!sb.trySetCount(stale, 12), "stale version refused");
            same(11, sa.getCount(), "still 11");
            sa.close();
            sb.close();
        });

        check("distributed_atomic_long", () -> {
            String path = base + "/counter";
            final int perThread = 25;
            AtomicInteger failures = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (CuratorFramework c : Arrays.asList(a, c2, a, c2)) {
                DistributedAtomicLong n = new DistributedAtomicLong(c, path, new RetryNTimes(1000, 1));
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            AtomicValue<Long> v = n.increment();
                            if (!v.succeeded()) {
                                failures.incrementAndGet();
                            } else if (v.postValue() != v.preValue() + 1) {
                                failures.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join(WAIT_S * 3000);
            }
            same(0, failures.get(), "failed increments");
            DistributedAtomicLong n = new DistributedAtomicLong(a, path, new RetryNTimes(10, 10));
            same(4L * perThread, n.get().postValue(), "final value");
            AtomicValue<Long> cas = n.compareAndSet(4L * perThread, 7L);
            require(cas.succeeded(), "compareAndSet");
            require(!n.compareAndSet(4L * perThread, 8L).succeeded(), "stale compareAndSet");
            same(7L, n.get().postValue(), "after compareAndSet");
        });

        check("read_write_lock", () -> {
            String path = base + "/rw";
            InterProcessReadWriteLock la = new InterProcessReadWriteLock(a, path);
            InterProcessReadWriteLock lb = new InterProcessReadWriteLock(c2, path);
            require(la.readLock().acquire(WAIT_S, TimeUnit.SECONDS), "a reads");
            require(lb.readLock().acquire(WAIT_S, TimeUnit.SECONDS), "b reads at the same time");
            require(!lb.writeLock().acquire(300, TimeUnit.MILLISECONDS), "no writer while readers hold it");
            la.readLock().release();
            lb.readLock().release();
            require(lb.writeLock().acquire(WAIT_S, TimeUnit.SECONDS), "b writes");
            require(!la.readLock().acquire(300, TimeUnit.MILLISECONDS), "no reader while a writer holds it");
            lb.writeLock().release();
            require(la.readLock().acquire(WAIT_S, TimeUnit.SECONDS), "a reads again");
            la.readLock().release();
        });

        check("leader_selector", () -> {
            String path = base + "/selector";
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            List<LeaderSelector> sels = new ArrayList<>();
            String[] names = {"s1", "s2"};
            CuratorFramework[] cs = {a, c2};
            for (int i = 0; i < 2; i++) {
                final String name = names[i];
                LeaderSelector sel = new LeaderSelector(cs[i], path, new LeaderSelectorListenerAdapter() {
                    @Override
                    public void takeLeadership(CuratorFramework cl) throws Exception {
                        q.add(name);
                        Thread.sleep(100);        // leadership ends when this returns
                    }
                });
                sel.setId(name);
                sels.add(sel);
            }
            for (LeaderSelector sel : sels) {
                sel.start();
            }
            TreeSet<String> leaders = new TreeSet<>();
            leaders.add(take(q, "first leader"));
            leaders.add(take(q, "second leader"));
            same(new TreeSet<>(Arrays.asList(names)), leaders, "each took leadership once");
            for (LeaderSelector sel : sels) {
                sel.close();
            }
        });

        check("double_barrier", () -> {
            String path = base + "/barrier";
            DistributedDoubleBarrier ba = new DistributedDoubleBarrier(a, path, 2);
            DistributedDoubleBarrier bb = new DistributedDoubleBarrier(c2, path, 2);
            AtomicReference<Object> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    other.set(bb.enter(WAIT_S, TimeUnit.SECONDS) && bb.leave(WAIT_S, TimeUnit.SECONDS));
                } catch (Exception e) {
                    other.set(e);
                }
            });
            t.start();
            require(ba.enter(WAIT_S, TimeUnit.SECONDS), "a enters when both are there");
            require(ba.leave(WAIT_S, TimeUnit.SECONDS), "a leaves when both left");
            t.join(WAIT_S * 1000);
            same(Boolean.TRUE, other.get(), "b entered and left");
        });

        check("group_member", () -> {
            String path = base + "/group";
            GroupMember ga = new GroupMember(a, path, "ga", b("A"));
            GroupMember gb = new GroupMember(c2, path, "gb", b("B"));
            ga.start();
            gb.start();
            waitUntil(() -> ga.getCurrentMembers().size() == 2, "two members");
            Map<String, byte[]> m = ga.getCurrentMembers();
            same("A", s(m.get("ga")), "member data");
            same("B", s(m.get("gb")), "member data");
            gb.close();
            waitUntil(() -> ga.getCurrentMembers().size() == 1, "one member left");
            ga.close();
        });

        check("tree_cache", () -> {
            String path = base + "/tree";
            a.create().forPath(path);
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            TreeCache tc = TreeCache.newBuilder(a, path).build();
            tc.getListenable().addListener((cl, e) -> {
                if (e.getType() == TreeCacheEvent.Type.NODE_ADDED
                        || e.getType() == TreeCacheEvent.Type.NODE_UPDATED
                        || e.getType() == TreeCacheEvent.Type.NODE_REMOVED) {
                    q.add(e.getType() + " " + e.getData().getPath());
                } else if (e.getType() == TreeCacheEvent.Type.INITIALIZED) {
                    q.add("INITIALIZED");
                }
            });
            tc.start();
            events(q, "NODE_ADDED " + path, "INITIALIZED");
            c2.create().forPath(path + "/x");
            events(q, "NODE_ADDED " + path + "/x");
            c2.create().forPath(path + "/x/y", b("1"));
            events(q, "NODE_ADDED " + path + "/x/y");
            c2.setData().forPath(path + "/x/y", b("2"));
            events(q, "NODE_UPDATED " + path + "/x/y");
            same("2", s(tc.getCurrentData(path + "/x/y").getData()), "cached data");
            c2.delete().forPath(path + "/x/y");
            events(q, "NODE_REMOVED " + path + "/x/y");
            tc.close();
        });

        check("distributed_queue", () -> {
            String path = base + "/queue";
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            QueueSerializer<String> ser = new QueueSerializer<String>() {
                public byte[] serialize(String item) {
                    return b(item);
                }

                public String deserialize(byte[] bytes) {
                    return s(bytes);
                }
            };
            QueueConsumer<String> consumer = new QueueConsumer<String>() {
                public void consumeMessage(String m) {
                    got.add(m);
                }

                public void stateChanged(CuratorFramework cl, ConnectionState st) {
                }
            };
            QueueConsumer<String> none = new QueueConsumer<String>() {
                public void consumeMessage(String m) {
                    got.add("wrong consumer: " + m);
                }

                public void stateChanged(CuratorFramework cl, ConnectionState st) {
                }
            };
            DistributedQueue<String> consumerQ = QueueBuilder.builder(a, consumer, ser, path).buildQueue();
            DistributedQueue<String> producerQ = QueueBuilder.builder(c2, null, ser, path).buildQueue();
            consumerQ.start();
            producerQ.start();
            for (int i = 0; i < 5; i++) {
                producerQ.put("m" + i);
            }
            events(got, "m0", "m1", "m2", "m3", "m4");
            producerQ.close();
            consumerQ.close();
        });

        check("persistent_ttl_node", () -> {
            String path = base + "/pttl";
            PersistentTtlNode node = new PersistentTtlNode(a, path, 300, b("ttl"));
            node.start();
            require(node.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "initial create");
            same("ttl", s(c2.getData().forPath(path)), "data");
            // a container parent with a TTL "touch" child, touched every ttl/2
            waitUntil(() -> c2.checkExists().forPath(path).getNumChildren() == 1, "touch child");
            Thread.sleep(700);
            require(c2.checkExists().forPath(path) != null, "kept alive while open");
            node.close();
            // the touch node expires, then the emptied container goes
            waitUntil(() -> c2.checkExists().forPath(path) == null, "gone after close + ttl");
        });

        check("persistent_ephemeral_node", () -> {
            String path = base + "/pn";
            PersistentNode pn = new PersistentNode(a, CreateMode.EPHEMERAL, false, path, b("alive"));
            pn.start();
            require(pn.waitForInitialCreate(WAIT_S, TimeUnit.SECONDS), "initial create");
            Stat st = c2.checkExists().forPath(path);
            require(st != null, "node exists");
            same(sessionId(a), st.getEphemeralOwner(), "ephemeralOwner");
            // someone else deletes it: the recipe's watch fires and it comes back
            c2.delete().forPath(path);
            waitUntil(() -> {
                Stat s2 = c2.checkExists().forPath(path);
                return s2 != null && s2.getCzxid() > st.getCzxid();
            }, "node recreated");
            pn.setData(b("changed"));
            waitUntil(() -> "changed".equals(s(c2.getData().forPath(path))), "setData through the recipe");
            pn.close();
            waitUntil(() -> c2.checkExists().forPath(path) == null, "node removed on close");
        });

        check("ephemeral_gone_with_session", () -> {
            CuratorFramework tmp = client();
            String path = base + "/eph";
            tmp.create().withMode(CreateMode.EPHEMERAL).forPath(path);
            same(sessionId(tmp), c2.checkExists().forPath(path).getEphemeralOwner(), "owner");
            tmp.close();
            waitUntil(() -> c2.checkExists().forPath(path) == null, "ephemeral deleted by closeSession");
        });

        check("one_shot_watch_and_sync", () -> {
            String path = base + "/ow";
            a.create().forPath(path, b("0"));
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            a.getData().usingWatcher((Watcher) e -> q.add(e.getType() + " " + e.getPath())).forPath(path);
            c2.setData().forPath(path, b("1"));
            c2.setData().forPath(path, b("2"));
            events(q, "NodeDataChanged " + path);
            a.checkExists().usingWatcher((Watcher) e -> q.add(e.getType() + " " + e.getPath())).forPath(path + "/x");
            c2.create().forPath(path + "/x");
            events(q, "NodeCreated " + path + "/x");
            quiet(q, 200);
            CountDownLatch synced = new CountDownLatch(1);
            AtomicInteger rc = new AtomicInteger(-1);
            a.sync().inBackground((cl, ev) -> {
                rc.set(ev.getResultCode());
                synced.countDown();
            }).forPath(path);
            require(synced.await(WAIT_S, TimeUnit.SECONDS), "sync callback");
            same(0, rc.get(), "sync result");
        });

        check("persistent_watch", () -> {
            String path = base + "/pw";
            a.create().forPath(path);
            BlockingQueue<String> q = new LinkedBlockingQueue<>();
            Watcher w = e -> q.add(e.getType() + " " + e.getPath());
            a.watchers().add().withMode(AddWatchMode.PERSISTENT_RECURSIVE).usingWatcher(w).forPath(path);
            c2.create().forPath(path + "/x", b("1"));
            c2.setData().forPath(path + "/x", b("2"));
            c2.create().forPath(path + "/x/y");
            c2.delete().forPath(path + "/x/y");
            c2.setData().forPath(path, b("top"));
            events(q, "NodeCreated " + path + "/x", "NodeDataChanged " + path + "/x",
                    "NodeCreated " + path + "/x/y", "NodeDeleted " + path + "/x/y",
                    "NodeDataChanged " + path);
            a.watchers().remove(w).forPath(path);
            events(q, "PersistentWatchRemoved " + path);
            c2.setData().forPath(path + "/x", b("3"));
            quiet(q, 300);

            // the recipe, non-recursive: data of the node and its children list
            PersistentWatcher pw = new PersistentWatcher(a, path, false);
            BlockingQueue<String> q2 = new LinkedBlockingQueue<>();
            CountDownLatch reset = new CountDownLatch(1);
            pw.getResetListenable().addListener(reset::countDown);
            pw.getListenable().addListener(e -> q2.add(e.getType() + " " + e.getPath()));
            pw.start();
            require(reset.await(WAIT_S, TimeUnit.SECONDS), "PersistentWatcher set");
            c2.setData().forPath(path + "/x", b("4"));         // not the watched node
            c2.create().forPath(path + "/z");
            c2.setData().forPath(path, b("again"));
            events(q2, "NodeChildrenChanged " + path, "NodeDataChanged " + path);
            pw.close();
        });

        for (CuratorFramework c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is best effort
            }
        }
        System.out.printf("curator: %d passed, %d failed%n", passed, failed);
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }
}
