"""Apache ZooKeeper's own command-line client, zkCli (org.apache.zookeeper.
ZooKeeperMain from the Debian `zookeeper` package, client 3.8.0), run
unchanged against the server.

One JVM per script: the script's commands go to ZooKeeperMain's standard
input (without jline on the classpath it reads plain lines and prints no
prompt).  Every script ends with a sentinel: `stat -w` on a fresh path, then
`create -e` of it; once that NodeCreated event is printed, every earlier
event has been printed too (zkCli prints events on one thread, in order),
so we send `quit` (which closes the session: no session is left to expire
later and disturb another test's zxids) and close stdin.  No sleeps.

The transcript is normalised before comparing (see `normalise`):
  * watch events are printed by zkCli's event thread and interleave with
    command output at random, so they are taken out into their own list
    (their order among themselves is deterministic);
  * ctime/mtime become <time>, a non-zero ephemeralOwner becomes <session>;
  * zxids are made relative to the first zxid printed (z0, z0+3, ...);
  * `whoami` lines are sorted: Apache keeps a connection's auth ids in a
    hash set (ServerCnxn.authInfo), so their order is not a protocol fact;
  * `getEphemerals` lists are sorted: Apache builds them from a HashSet;
  * adjacent DataWatchRemoved/ChildWatchRemoved events for one path are
    sorted (`removewatches -a`: zkCli reports them in hash order);
  * the final Closed event is dropped (printed, or not, as `quit` exits);
  * trailing blanks are shown as <sp> (`config -c` prints one space).

Left out because zkCli itself is racy there (seen against Apache alone):
  * `deleteall` of a tree the server refuses to delete: ZKUtil.deleteInBatch
    releases its semaphore before it records the failure, so "Failed to
    delete some node(s) in the subtree!" is printed only sometimes;
  * `printwatches off`/`on` around an event: the flag is read on the event
    thread when the event is printed.

Every expected transcript below was produced by Apache ZooKeeper 3.8.0.
test_same_transcript_as_apache also runs all the scripts (plus a few that
look at global state) against a fresh Apache ZooKeeper and a fresh target
server in the same test and compares the transcripts with absolute zxids;
against Apache itself it runs only with PADDOCK_DIFF_SELFTEST=1 (as
test_differential.py does).

Deliberately not pinned (see test_acl.py): `stat`/`get -w`/`addWatch` on a
node without READ, whose ACL check changed in 3.8.4.

The whole module needs java and /usr/share/java/zookeeper.jar (Debian
packages default-jre-headless and zookeeper); it is skipped without them.
"""

import difflib
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import threading
import uuid

import pytest

from zkserver import ZK_JAR, ServerProcess, default_target, digest

LOG_JARS = ["/usr/share/java/slf4j-log4j12.jar",
            "/usr/share/java/log4j-1.2.jar"]

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None or not os.path.exists(ZK_JAR),
    reason="zkCli needs java and %s" % ZK_JAR)

# zkCli's own client logging goes to a file, at WARN, so stdout holds only
# what the CLI prints.
CLI_LOG4J = """\
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File={logfile}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} [%t] %-5p %c{{1}} - %m%n
"""

_cli_dir = None


def _cli_command(port):
    global _cli_dir
    if _cli_dir is None:
        _cli_dir = tempfile.mkdtemp(prefix="paddock-it-zkcli-")
        with open(os.path.join(_cli_dir, "log4j.properties"), "w") as f:
            f.write(CLI_LOG4J.format(
                logfile=os.path.join(_cli_dir, "zkcli.log")))
    # zookeeper.jar's manifest Class-Path brings its dependencies (jute,
    # netty, commons-cli, ...); jline is absent, which is what we want.
    cp = ":".join([ZK_JAR] + [j for j in LOG_JARS if os.path.exists(j)])
    return [
        "java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xshare:auto", "-Djava.net.preferIPv4Stack=true",
        "-Dlog4j.configuration=file:"
        + os.path.join(_cli_dir, "log4j.properties"),
        "-Dzookeeper.sasl.client=false",
        "-cp", cp, "org.apache.zookeeper.ZooKeeperMain",
        "-server", "127.0.0.1:%d" % port,
    ]


def teardown_module(module):
    if _cli_dir and not os.environ.get("PADDOCK_TEST_KEEP"):
        shutil.rmtree(_cli_dir, ignore_errors=True)


def run_zkcli(port, script, until=None, timeout=30.0):
    """Run zkCli against 127.0.0.1:port with `script` (a list of command
    lines, or a string) on stdin and return everything it printed (stdout
    and stderr merged, in order).

    Without `until`, a sentinel is appended (see the module docstring) and
    its lines are removed from the output.  With `until` (a regex), stdin
    stays open until the output matches it instead."""
    if isinstance(script, str):
        script = [line for line in textwrap.dedent(script).splitlines()
                  if line.strip()]
    script = list(script)
    sentinel = None
    if until is None:
        sentinel = "/zkcli-sentinel-" + uuid.uuid4().hex[:12]
        script += ["printwatches on", "stat -w " + sentinel,
                   "create -e " + sentinel]
        until = re.escape("type:NodeCreated path:" + sentinel)
    proc = subprocess.Popen(
        _cli_command(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    chunks = []
    seen = threading.Event()
    pattern = re.compile(until)

    def reader():
        text = ""
        for raw in iter(lambda: proc.stdout.read1(65536), b""):
            chunks.append(raw)
            text += raw.decode("utf-8", "replace")
            if pattern.search(text):
                seen.set()
        seen.set()              # EOF: the JVM is gone

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        proc.stdin.write(("\n".join(script) + "\n").encode())
        proc.stdin.flush()
        seen.wait(timeout)
        try:
            proc.stdin.write(b"quit\n")
            proc.stdin.close()
        except OSError:
            pass
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        t.join(5)
    out = b"".join(chunks).decode("utf-8", "replace")
    if sentinel:
        # the event with the blank line printed before it (see normalise),
        # then stat's NoNode and create's "Created" lines
        out = out.replace("\nWatchedEvent state:SyncConnected type:NodeCreated"
                          " path:%s\n" % sentinel, "")
        out = "".join(line for line in out.splitlines(True)
                      if sentinel not in line)
    return out


EVENT_RE = re.compile(r"\n(WatchedEvent state:\S+ type:\S+ path:\S+)\n")
ZXID_RE = re.compile(r"^([cmp]Zxid) = 0x([0-9a-f]+)$")


def normalise(out, relative=True):
    """zkCli output -> (lines, events); see the module docstring."""
    events = []
    # zkCli prints "\nWATCHER::" and "\n" + event as single writes, so the
    # blank line before each belongs to it.
    out = out.replace("\nWATCHER::\n", "")

    def take(m):
        # zkCli prints Closed from the event thread while `quit` exits the
        # JVM: whether it makes it out is a race, so it is dropped.
        if m.group(1) != "WatchedEvent state:Closed type:None path:null":
            events.append(m.group(1))
        return ""
    while True:
        new = EVENT_RE.sub(take, out, count=1)
        if new == out:
            break
        out = new
    # `removewatches -a` on a path with a data and a child watch: zkCli
    # (ZKWatchManager) reports the two removals in hash order, so adjacent
    # *WatchRemoved events for one path are sorted.
    i = 0
    while i < len(events):
        j = i
        m = re.match(r"^WatchedEvent state:\S+ type:\w+WatchRemoved "
                     r"(path:.*)$", events[i])
        while m and j + 1 < len(events) and re.match(
                r"^WatchedEvent state:\S+ type:\w+WatchRemoved %s$"
                % re.escape(m.group(1)), events[j + 1]):
            j += 1
        events[i:j + 1] = sorted(events[i:j + 1])
        i = j + 1
    lines = []
    z0 = None
    for line in out.split("\n"):
        if (line.startswith("Connecting to 127.0.0.1:")
                or line in ("Welcome to ZooKeeper!",
                            "JLine support is disabled")):
            continue
        m = ZXID_RE.match(line)
        if m and relative:
            z = int(m.group(2), 16)
            if z0 is None:
                z0 = z
            d = z - z0
            line = "%s = z0%s" % (m.group(1),
                                  "" if d == 0 else "%+d" % d)
        elif line.startswith(("ctime = ", "mtime = ")):
            line = line[:8] + "<time>"
        elif line.startswith("ephemeralOwner = ") and \
                line != "ephemeralOwner = 0x0":
            line = "ephemeralOwner = <session>"
        elif line.startswith("[/") and line.endswith("]"):
            line = "[" + ", ".join(sorted(line[1:-1].split(", "))) + "]"
        if line != line.rstrip(" "):    # keep trailing blanks visible
            stripped = line.rstrip(" ")
            line = stripped + "<sp>" * (len(line) - len(stripped))
        lines.append(line)
    # sort each whoami block ("Auth scheme: User" then "scheme: id" lines)
    i = 0
    while i < len(lines):
        if lines[i] == "Auth scheme: User":
            j = i + 1
            while j < len(lines) and re.match(r"^[a-z0-9]+:( \S|<sp>$)",
                                              lines[j]):
                j += 1
            lines[i + 1:j] = sorted(lines[i + 1:j])
            i = j
        else:
            i += 1
    if lines and lines[-1] == "":      # the output's final newline
        lines.pop()
    return lines, events


def transcript(port, script, **kw):
    lines, events = normalise(run_zkcli(port, script), **kw)
    return "\n".join(lines + ["-- events --"] + events)


def expect(text):
    return textwrap.dedent(text).strip("\n")


def diff(want, got, names=("expected", "got")):
    return "\n".join(difflib.unified_diff(
        want.split("\n"), got.split("\n"), *names, lineterm=""))


def check(server, base, name):
    """Run SCRIPTS[name] under base and compare with EXPECTED[name]."""
    script = textwrap.dedent(SCRIPTS[name]).replace("{b}", base)
    got = transcript(server.port, script)
    want = expect(EXPECTED[name]).replace("{b}", base)
    assert got == want, "zkCli transcript differs:\n" + diff(want, got)


# --------------------------------------------------------------------------
# The scripts ({b} is the test's base node).  Each test below runs one and
# compares with Apache's transcript; test_same_transcript_as_apache runs
# them all against both servers.

ALICE = digest("alice", "secret")

SCRIPTS = {}
EXPECTED = {}

SCRIPTS["create"] = """\
    stat {b}
    create {b}/p data
    create -s {b}/p/seq- d
    create -s {b}/p/seq- d
    create -e {b}/eph e
    create -s -e {b}/p/eseq- x
    create -c {b}/cont
    create -c {b}/cont/child
    create -t 100000 {b}/ttl t
    create -s -t 100000 {b}/ttls- t
    create -t 100 -e {b}/bad
    create -e -c {b}/bad
    create -t 0 {b}/bad
    create {b}/p data
    create {b}/nonexist/x
    create -e {b}/eph/child
    create {b}/bad/
    create nobase
    create -s {b}/
    create {b}/nodata
    get {b}/nodata
    create {b}/empty ""
    get {b}/empty
    create {b}/spaced "with space"
    get {b}/spaced
    ls {b}
    ls {b}/p
    stat {b}/eph
    stat {b}/ttl
    stat {b}/cont
"""

EXPECTED["create"] = """\
    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 0
    Created {b}/p
    Created {b}/p/seq-0000000000
    Created {b}/p/seq-0000000001
    Created {b}/eph
    Created {b}/p/eseq-0000000002
    Created {b}/cont
    Created {b}/cont/child
    Created {b}/ttl
    Created {b}/ttls-0000000004
    TTLs cannot be used with Ephemeral znodes
    -c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.
    ttl must be positive and cannot be larger than: 1099511627775
    Node already exists: {b}/p
    Node does not exist: {b}/nonexist/x
    Ephemerals cannot have children: {b}/eph/child
    Path must not end with / character
    Path must start with / character
    Created {b}/0000000005
    Created {b}/nodata
    null
    Created {b}/empty

    Created {b}/spaced
    with space
    [0000000005, cont, empty, eph, nodata, p, spaced, ttl, ttls-0000000004]
    [eseq-0000000002, seq-0000000000, seq-0000000001]
    cZxid = z0+5
    ctime = <time>
    mZxid = z0+5
    mtime = <time>
    pZxid = z0+5
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = <session>
    dataLength = 1
    numChildren = 0
    cZxid = z0+9
    ctime = <time>
    mZxid = z0+9
    mtime = <time>
    pZxid = z0+9
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 1
    numChildren = 0
    cZxid = z0+7
    ctime = <time>
    mZxid = z0+7
    mtime = <time>
    pZxid = z0+8
    cversion = 1
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 1
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
"""


def test_create_modes_and_errors(server, base):
    """create -s -e -c -t, the CLI's own checks, and the server's errors
    (NodeExists, NoNode, NoChildrenForEphemerals).  TTL and container nodes
    show ephemeralOwner 0x0 to clients."""
    check(server, base, "create")


SCRIPTS["read"] = """\
    create {b}/a 1
    create {b}/a/x 22
    create {b}/a/x/y 333
    create {b}/b
    ls {b}
    ls -s {b}
    ls -R {b}
    ls -R {b}/a/x/y
    ls {b}/nonexist
    ls -s {b}/nonexist
    ls -R {b}/nonexist
    get {b}/a/x
    get -s {b}/a/x/y
    get {b}/nonexist
    get -s {b}/nonexist
    stat {b}/a
    stat {b}/nonexist
"""

EXPECTED["read"] = """\
    Created {b}/a
    Created {b}/a/x
    Created {b}/a/x/y
    Created {b}/b
    [a, b]
    [a, b]
    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0+5
    cversion = 2
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 2
    {b}
    {b}/a
    {b}/b
    {b}/a/x
    {b}/a/x/y
    {b}/a/x/y
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    22
    333
    cZxid = z0+4
    ctime = <time>
    mZxid = z0+4
    mtime = <time>
    pZxid = z0+4
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 3
    numChildren = 0
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    cZxid = z0+2
    ctime = <time>
    mZxid = z0+2
    mtime = <time>
    pZxid = z0+3
    cversion = 1
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 1
    numChildren = 1
    Node does not exist: {b}/nonexist
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
"""


def test_ls_get_stat(server, base):
    """ls (-s, -R), get (-s), stat, and NoNode for each."""
    check(server, base, "read")


SCRIPTS["write"] = """\
    create {b}/n v0
    set {b}/n v1
    set -v 1 {b}/n v2
    set -v 1 {b}/n v3
    set -s {b}/n v4
    set -s -v 3 {b}/n v5
    set {b}/nonexist v
    set -v 0 {b}/nonexist v
    create {b}/n/c1
    create {b}/n/c2
    delete {b}/n
    delete -v 7 {b}/n/c1
    delete -v 0 {b}/n/c1
    delete {b}/n/c1
    delete {b}/nonexist
    delete -v 0 {b}/nonexist
    create {b}/n/c3
    create {b}/n/c3/d
    create {b}/n/c3/d/e
    getAllChildrenNumber {b}
    getAllChildrenNumber {b}/n/c3/d/e
    getAllChildrenNumber {b}/nonexist
    deleteall {b}/n
    ls {b}
    deleteall {b}/nonexist
    create {b}/m
    create {b}/m/1
    create {b}/m/2
    create {b}/m/2/3
    deleteall -b 1 {b}/m
    ls {b}
"""

EXPECTED["write"] = """\
    Created {b}/n
    version No is not valid : {b}/n
    cZxid = z0
    ctime = <time>
    mZxid = z0+4
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 3
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 2
    numChildren = 0
    cZxid = z0
    ctime = <time>
    mZxid = z0+5
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 4
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 2
    numChildren = 0
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    Created {b}/n/c1
    Created {b}/n/c2
    Node not empty: {b}/n
    version No is not valid : {b}/n/c1
    Node does not exist: {b}/n/c1
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    Created {b}/n/c3
    Created {b}/n/c3/d
    Created {b}/n/c3/d/e
    5
    0
    Node does not exist: {b}/nonexist
    []
    Node does not exist: {b}/nonexist
    Created {b}/m
    Created {b}/m/1
    Created {b}/m/2
    Created {b}/m/2/3
    []
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
"""


def test_set_delete_versions(server, base):
    """set (-s, -v), delete (-v), BadVersion, NotEmpty, deleteall (also in
    batches of one: one multi per node), getAllChildrenNumber."""
    check(server, base, "write")


SCRIPTS["acl"] = """\
    create {b}/ro data world:anyone:r
    getAcl {b}/ro
    getAcl -s {b}/ro
    set {b}/ro x
    create {b}/ro/child
    setAcl {b}/ro world:anyone:cdrwa
    delete {b}/ro
    create {b}/ro data
    create {b}/dig data digest:%(alice)s:cdrwa
    getAcl {b}/dig
    get {b}/dig
    whoami
    addauth digest alice:secret
    whoami
    get {b}/dig
    create {b}/auth d auth::cdra
    getAcl {b}/auth
    addauth digest alice:wrong
    get {b}/dig
    whoami
    setAcl -v 5 {b}/auth world:anyone:cdrwa
    setAcl -v 0 {b}/auth world:anyone:rwa
    getAcl -s {b}/auth
    setAcl {b}/auth nonsense:x:cdrwa
    setAcl {b}/auth digest:bad:cdrwa
    create {b}/bad d world:anyone:xyz
    setAcl {b}/auth ip:127.0.0.1:cdrwa,world:anyone:r
    getAcl {b}/auth
    create {b}/ipnet d ip:10.0.0.0/8:cdrwa
    get {b}/ipnet
    create {b}/iplocal d ip:127.0.0.0/8:cdrwa
    get {b}/iplocal
    setAcl {b}/nonexist world:anyone:cdrwa
    getAcl {b}/nonexist
    create {b}/tree
    create {b}/tree/a
    create {b}/tree/a/b
    setAcl -R {b}/tree world:anyone:rwa
    getAcl {b}/tree
    getAcl {b}/tree/a/b
    getAcl /zookeeper/config
    addauth digest bob:pw
    whoami
""" % {"alice": ALICE}

EXPECTED["acl"] = """\
    Created {b}/ro
    'world,'anyone
    : r
    'world,'anyone
    : r
    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 4
    numChildren = 0
    Insufficient permission : {b}/ro
    Insufficient permission : {b}/ro/child
    Insufficient permission : {b}/ro
    Created {b}/ro
    Created {b}/dig
    Insufficient permission : {b}/dig
    Insufficient permission : {b}/dig
    Auth scheme: User
    ip: 127.0.0.1
    Auth scheme: User
    digest: alice
    ip: 127.0.0.1
    data
    Created {b}/auth
    'digest,'%(alice)s
    : cdra
    data
    Auth scheme: User
    digest: alice
    digest: alice
    ip: 127.0.0.1
    version No is not valid : {b}/auth
    'world,'anyone
    : rwa
    cZxid = z0+7
    ctime = <time>
    mZxid = z0+7
    mtime = <time>
    pZxid = z0+7
    cversion = 0
    dataVersion = 0
    aclVersion = 1
    ephemeralOwner = 0x0
    dataLength = 1
    numChildren = 0
    Acl is not valid : {b}/auth
    Acl is not valid : {b}/auth
    Unknown perm type: x
    Unknown perm type: y
    Unknown perm type: z
    Created {b}/bad
    'ip,'127.0.0.1
    : cdrwa
    'world,'anyone
    : r
    Created {b}/ipnet
    Insufficient permission : {b}/ipnet
    Created {b}/iplocal
    d
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    Created {b}/tree
    Created {b}/tree/a
    Created {b}/tree/a/b
    'world,'anyone
    : rwa
    'world,'anyone
    : rwa
    'world,'anyone
    : r
    Auth scheme: User
    digest: alice
    digest: alice
    digest: bob
    ip: 127.0.0.1
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
""" % {"alice": ALICE}


def test_acl_auth_whoami(server, base):
    """getAcl (-s), setAcl (-v, -R), create with an ACL (world, digest, auth,
    ip with a CIDR), addauth digest, whoami, and NoAuth / BadVersion /
    InvalidACL as zkCli prints them.  A wrong digest password is no auth
    failure: the connection just gains an id that matches nothing (a second
    `digest: alice` in whoami).  An unknown perm letter is dropped by the
    CLI itself (the node gets perms 0).

    The wrong password is added only after `auth::` was used: the ACL that
    `auth::` makes lists the connection's digest ids in Apache's hash-set
    order, which is no protocol fact."""
    check(server, base, "acl")


SCRIPTS["misc"] = """\
    create -e {b}/e1
    create {b}/p
    create -e -s {b}/p/e-
    getEphemerals
    getEphemerals {b}/p
    getEphemerals {b}/nonexist
    getAllChildrenNumber {b}
    sync {b}
    sync {b}/nonexist
    config
    config -s
    config -c
    get -s /zookeeper/config
    reconfig -remove 1
    reconfig -add server.5=127.0.0.1:1234:1235;1236
    ls /zookeeper
"""

EXPECTED["misc"] = """\
    Created {b}/e1
    Created {b}/p
    Created {b}/p/e-0000000000
    [{b}/e1, {b}/p/e-0000000000]
    [{b}/p/e-0000000000]
    []
    3
    Sync is OK
    Sync is OK


    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 0
    aclVersion = -1
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 0
    <sp>

    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 0
    aclVersion = -1
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 0
    KeeperErrorCode = Reconfig is disabled
    KeeperErrorCode = Reconfig is disabled
    [config, quota]
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
"""


def test_ephemerals_sync_config(server, base):
    """getEphemerals (with and without a prefix), getAllChildrenNumber, sync,
    and config as a 3.8 standalone server without dynamic config answers
    it: /zookeeper/config exists, empty, aclVersion -1 (`config -c` prints
    one blank); reconfig fails with ReconfigDisabled."""
    check(server, base, "misc")


SCRIPTS["watch"] = """\
    create {b}/a
    get -w {b}/a
    set {b}/a 1
    set {b}/a 2
    ls -w {b}
    create {b}/b
    stat -w {b}/b
    delete {b}/b
    stat -w {b}/new
    create {b}/new
    ls -w {b}/nonexist
    get -w {b}/nonexist
    addWatch -m PERSISTENT {b}
    set {b} x
    create {b}/c
    set {b}/c y
    addWatch -m PERSISTENT_RECURSIVE {b}/a
    create {b}/a/deep
    set {b}/a/deep v
    delete {b}/a/deep
    removewatches {b}/a
    create {b}/a/deep2
    removewatches {b}/a
    removewatches {b}/nonexist
    get -w {b}/c
    removewatches {b}/c -c
    removewatches {b}/c -d
    removewatches {b}/c -a
    set {b} between
    ls -w {b}/c
    stat -w {b}/c
    removewatches {b}/c -a
    addWatch -m BOGUS {b}
    addWatch {b}/later
    create {b}/later
    create {b}/later/x
    removewatches {b}
    removewatches {b}/later
    set {b} y
    get {b}
"""

EXPECTED["watch"] = """\
    Created {b}/a
    null
    [a]
    Created {b}/b
    cZxid = z0
    ctime = <time>
    mZxid = z0
    mtime = <time>
    pZxid = z0
    cversion = 0
    dataVersion = 0
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 0
    numChildren = 0
    Node does not exist: {b}/new
    Created {b}/new
    Node does not exist: {b}/nonexist
    Node does not exist: {b}/nonexist
    Created {b}/c
    Created {b}/a/deep
    Created {b}/a/deep2
    KeeperErrorCode = No such watcher for {b}/a
    KeeperErrorCode = No such watcher for {b}/nonexist
    y
    KeeperErrorCode = No such watcher for {b}/c
    KeeperErrorCode = No such watcher for {b}/c
    []
    cZxid = z0+4
    ctime = <time>
    mZxid = z0+5
    mtime = <time>
    pZxid = z0+4
    cversion = 0
    dataVersion = 1
    aclVersion = 0
    ephemeralOwner = 0x0
    dataLength = 1
    numChildren = 0
    addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE
    Created {b}/later
    Created {b}/later/x
    y
    -- events --
    WatchedEvent state:SyncConnected type:None path:null
    WatchedEvent state:SyncConnected type:NodeDataChanged path:{b}/a
    WatchedEvent state:SyncConnected type:NodeChildrenChanged path:{b}
    WatchedEvent state:SyncConnected type:NodeDeleted path:{b}/b
    WatchedEvent state:SyncConnected type:NodeCreated path:{b}/new
    WatchedEvent state:SyncConnected type:NodeDataChanged path:{b}
    WatchedEvent state:SyncConnected type:NodeChildrenChanged path:{b}
    WatchedEvent state:SyncConnected type:NodeCreated path:{b}/a/deep
    WatchedEvent state:SyncConnected type:NodeDataChanged path:{b}/a/deep
    WatchedEvent state:SyncConnected type:NodeDeleted path:{b}/a/deep
    WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:{b}/a
    WatchedEvent state:SyncConnected type:DataWatchRemoved path:{b}/c
    WatchedEvent state:SyncConnected type:NodeDataChanged path:{b}
    WatchedEvent state:SyncConnected type:ChildWatchRemoved path:{b}/c
    WatchedEvent state:SyncConnected type:DataWatchRemoved path:{b}/c
    WatchedEvent state:SyncConnected type:NodeCreated path:{b}/later
    WatchedEvent state:SyncConnected type:NodeChildrenChanged path:{b}
    WatchedEvent state:SyncConnected type:NodeCreated path:{b}/later/x
    WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:{b}
    WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:{b}/later
"""


def test_watches(server, base):
    """get -w, ls -w, stat -w (also on a missing node), addWatch PERSISTENT
    and PERSISTENT_RECURSIVE (the default), removewatches -c/-d/-a and
    NoWatcher.  (Not `printwatches off`: zkCli reads that flag on its event
    thread when it prints, so whether an event just before `printwatches on`
    shows is a race.)"""
    check(server, base, "watch")


def test_addauth_unknown_scheme_fails_the_session(server):
    """An unknown auth scheme: the server answers the auth packet with
    AuthFailed and closes the connection; zkCli prints the AuthFailed
    state event.  (What later commands print then is a race in zkCli.)"""
    out = run_zkcli(server.port, ["addauth nosuch foo"],
                    until="state:AuthFailed", timeout=20)
    assert normalise(out) == ([], [
        "WatchedEvent state:SyncConnected type:None path:null",
        "WatchedEvent state:AuthFailed type:None path:null"]), out


# --------------------------------------------------------------------------
# differential: the same scripts against a fresh Apache ZooKeeper and a
# fresh target server, with absolute zxids (every session's createSession
# and closeSession is a txn, so the zxids line up exactly), plus a script
# that looks at the global tree: the root, /zookeeper, quotas (the
# /zookeeper/quota/<path>/zookeeper_stats node the server keeps current;
# hard limits are not enforced without zookeeper.enforceQuota), what may
# not be deleted or changed under /zookeeper, the super digest (whoami
# shows an extra "super: " id; super may change /zookeeper/config's ACL),
# and zkCli's close/connect (a new session, without the old auth).

GLOBAL = """\
    stat /
    ls /
    ls -R /zookeeper
    get -s /zookeeper/quota
    getAcl /zookeeper/quota
    getAllChildrenNumber /
    getAllChildrenNumber /zookeeper
    create /q
    create /q/a 12345
    setquota -n 2 /q
    listquota /q
    create /q/b
    create /q/c
    create /q/d
    listquota /q
    ls -R /zookeeper/quota
    get /zookeeper/quota/q/zookeeper_limits
    get -s /zookeeper/quota/q/zookeeper_stats
    setquota -n 3 /q
    setquota -n 3 /q/a
    delquota -n /q
    listquota /q
    delquota /q
    listquota /q
    setquota -b 10 /q
    set /q/a 123456789012
    delete /q/d
    listquota /q
    deleteall /q
    listquota /q
    ls /zookeeper/quota
    delete /
    delete /zookeeper
    delete /zookeeper/config
    delete /zookeeper/quota
    create /zookeeper/config/x
    setAcl /zookeeper/config world:anyone:cdrwa
    set /zookeeper/config x
    create /zookeeper/x
    delete /zookeeper/x
    ls -R /
    stat /
    create /hq
    create /hq/locked d world:anyone:
    get /hq/locked
    addauth digest super:superpw
    whoami
    get /hq/locked
    getAcl /hq/locked
    setAcl /zookeeper/config world:anyone:cdrwa
    getAcl /zookeeper/config
    setAcl /zookeeper/config world:anyone:r
    setquota -N 1 /hq
    setquota -B 5 /hq
    create /hq/a 1234567890
    create /hq/b
    listquota /hq
    close
    ls /hq
    connect 127.0.0.1:{port}
    whoami
    ls /hq
"""


def _differential_run(kind):
    s = ServerProcess(kind, name="zkcli-diff-" + kind)
    try:
        s.start()
        out = []
        for name in SCRIPTS:
            b = "/zkcli_" + name
            script = "create %s\n" % b + \
                textwrap.dedent(SCRIPTS[name]).replace("{b}", b)
            out.append("===== " + name)
            out.append(transcript(s.port, script, relative=False))
        out.append("===== global")
        out.append(transcript(s.port, GLOBAL.replace("{port}", str(s.port)),
                              relative=False))
        return "\n".join(out)
    finally:
        s.cleanup()


@pytest.mark.skipif(default_target() == "zookeeper"
                    and not os.environ.get("PADDOCK_DIFF_SELFTEST"),
                    reason="compares Apache with itself only when "
                    "PADDOCK_DIFF_SELFTEST=1")
def test_same_transcript_as_apache():
    """All scripts against a fresh Apache ZooKeeper and a fresh target
    server.  With PADDOCK_TEST_TARGET=zookeeper and PADDOCK_DIFF_SELFTEST=1
    it runs them against two Apache servers: the transcripts must be
    deterministic."""
    target = default_target()
    want = _differential_run("zookeeper")
    got = _differential_run(target)
    assert got == want, "zkCli transcripts differ (zookeeper vs %s):\n%s" \
        % (target, diff(want, got, ("zookeeper", target)))
