"""Apache Curator 5.4 (Debian libcurator-{client,framework,recipes}-java),
unchanged, against the server: java/CuratorCheck.java is compiled with javac
into a temp dir once per module and run once against the module's server;
each check it prints is one test here.

What the checks cover (see CuratorCheck.java):
  connect, second_client    start, blockUntilConnected, CONNECTED state
  create_parents_and_modes  creatingParentsIfNeeded, create2 (storingStatIn),
                            sequential numbering, withProtection ephemeral
                            sequential names, NodeExists/NoNode/
                            NoChildrenForEphemerals, orSetData, namespaces
  create_parent_containers  creatingParentContainersIfNeeded,
                            createContainers; the server deletes emptied
                            containers (checkIntervalMs=100 in our zoo.cfg)
  ttl_node                  PERSISTENT_WITH_TTL; the server expires it
  set_get_version           setData/getData/delete with versions,
                            BadVersion, NotEmpty, deletingChildrenIfNeeded
  acl_and_auth              authorization("digest"), CREATOR_ALL_ACL,
                            getACL/setACL with aversion, NoAuth
  transaction               transaction().forOperations (create, sequential
                            create, setData, check), rollback on a failed
                            check, the older inTransaction() API
  mutex_two_clients         InterProcessMutex across two sessions:
                            re-entrancy, timeout, hand-over on release
  semaphore                 InterProcessSemaphoreV2 with two leases
  leader_latch              LeaderLatch with two participants, fail-over
  curator_cache             CuratorCache (persistent recursive watch):
                            initial load, create/change/delete events
  path_children_cache       PathChildrenCache (one-shot child/data watches)
  shared_count              SharedCount, stale version refused
  distributed_atomic_long   DistributedAtomicLong: 4 threads on 2 sessions,
                            100 optimistic increments, compareAndSet
  read_write_lock           InterProcessReadWriteLock: shared readers,
                            exclusive writer
  leader_selector           LeaderSelector: each of two takes leadership
  double_barrier            DistributedDoubleBarrier with two members
  group_member              GroupMember: members and their data
  tree_cache                TreeCache: nested add/update/remove events
  distributed_queue         DistributedQueue: producer and consumer on two
                            sessions, FIFO
  persistent_ttl_node       PersistentTtlNode: a container with a TTL child
                            kept touched; both gone after close
  persistent_ephemeral_node PersistentNode(EPHEMERAL): owner, re-created
                            after someone deletes it, removed on close
  ephemeral_gone_with_session  closeSession deletes the session's ephemerals
  one_shot_watch_and_sync   usingWatcher on getData/checkExists, sync()
  persistent_watch          watchers().add() PERSISTENT_RECURSIVE (addWatch),
                            watchers().remove(), the PersistentWatcher recipe

Validated against Apache ZooKeeper 3.8.0 first (PADDOCK_TEST_TARGET=
zookeeper).  Needs java, javac (Debian default-jdk-headless) and the Curator
jars; the module is skipped without them.
"""

import os
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from zkserver import ZK_JAR

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "java", "CuratorCheck.java")
JAVA_DIR = "/usr/share/java"
# Each jar's manifest Class-Path names its dependencies (guava, slf4j-api,
# jackson-databind, zookeeper, zookeeper-jute), so these are enough.
CURATOR_JARS = [os.path.join(JAVA_DIR, j) for j in (
    "curator-recipes.jar", "curator-framework.jar", "curator-client.jar")]
LOG_JARS = [os.path.join(JAVA_DIR, j) for j in (
    "slf4j-log4j12.jar", "log4j-1.2.jar")]

RUN_TIMEOUT = 90            # the program's own watchdog fires at 80 s

CHECKS = [
    "connect",
    "second_client",
    "create_parents_and_modes",
    "create_parent_containers",
    "ttl_node",
    "set_get_version",
    "acl_and_auth",
    "transaction",
    "mutex_two_clients",
    "semaphore",
    "leader_latch",
    "curator_cache",
    "path_children_cache",
    "shared_count",
    "distributed_atomic_long",
    "read_write_lock",
    "leader_selector",
    "double_barrier",
    "group_member",
    "tree_cache",
    "distributed_queue",
    "persistent_ttl_node",
    "persistent_ephemeral_node",
    "ephemeral_gone_with_session",
    "one_shot_watch_and_sync",
    "persistent_watch",
]

_missing = [p for p in CURATOR_JARS + [ZK_JAR] if not os.path.exists(p)]
pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("javac") is None
    or bool(_missing),
    reason="needs java, javac and the Curator jars (missing: %s)"
    % ", ".join(_missing or ["java/javac"]))

LOG4J = """\
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File={logfile}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} [%t] %-5p %c{{1}} - %m%n
"""


class Run:
    def __init__(self, returncode, stdout, stderr, log):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        self.results = {}
        for line in stdout.splitlines():
            m = re.match(r"^(PASS|FAIL) (\w+)(?:: (.*)| \(\d+ ms\))?$", line)
            if m:
                self.results[m.group(2)] = (m.group(1), m.group(3))
        m = re.search(r"^curator: (\d+) passed, (\d+) failed$", stdout, re.M)
        self.summary = (int(m.group(1)), int(m.group(2))) if m else None

    def report(self):
        tail = "\n".join(self.log.splitlines()[-60:])
        return ("exit %s\n--- stdout\n%s\n--- stderr\n%s\n--- curator.log "
                "(tail)\n%s" % (self.returncode, self.stdout,
                                self.stderr[-4000:], tail))


@pytest.fixture(scope="module")
def curator_run(server):
    """Compile CuratorCheck.java and run it once against the module's
    server; returns a Run."""
    work = tempfile.mkdtemp(prefix="paddock-it-curator-")
    try:
        classes = os.path.join(work, "classes")
        os.makedirs(classes)
        cp = ":".join(CURATOR_JARS + [ZK_JAR])
        javac = subprocess.run(
            ["javac", "-nowarn", "-Xlint:none", "-encoding", "UTF-8",
             "-cp", cp, "-d", classes, SOURCE],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=120)
        assert javac.returncode == 0, "javac failed:\n" + javac.stdout
        logfile = os.path.join(work, "curator.log")
        props = os.path.join(work, "log4j.properties")
        with open(props, "w") as f:
            f.write(LOG4J.format(logfile=logfile))
        run_cp = ":".join([classes] + CURATOR_JARS + [ZK_JAR]
                          + [j for j in LOG_JARS if os.path.exists(j)])
        base = "/curator-" + uuid.uuid4().hex[:8]
        proc = subprocess.Popen(
            ["java", "-Xmx256m", "-XX:+UseSerialGC",
             "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
             "-Dzookeeper.sasl.client=false",
             "-Dlog4j.configuration=file:" + props,
             "-cp", run_cp, "CuratorCheck", server.hosts, base],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()             # our own JVM, by its PID
            out, err = proc.communicate(timeout=10)
            err += "\n[killed after %d s]" % RUN_TIMEOUT
        log = ""
        if os.path.exists(logfile):
            with open(logfile, errors="replace") as f:
                log = f.read()
        yield Run(proc.returncode, out, err, log)
    finally:
        if os.environ.get("PADDOCK_TEST_KEEP"):
            print("curator work dir kept:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


# The module-scoped fixture runs before conftest's per-test alarm is set;
# javac and the run are bounded by their own timeouts instead.

@pytest.mark.parametrize("name", CHECKS)
def test_curator(curator_run, name):
    r = curator_run
    assert name in r.results, "check %s not reported\n%s" % (name, r.report())
    verdict, why = r.results[name]
    assert verdict == "PASS", "%s: %s\n%s" % (name, why, r.report())


def test_summary(curator_run):
    """Every check ran, none failed, nothing unexpected, clean exit."""
    r = curator_run
    assert sorted(r.results) == sorted(CHECKS), r.report()
    assert r.summary == (len(CHECKS), 0), r.report()
    assert r.returncode == 0, r.report()
