"""`paddock cli` against a real server, compared with Apache ZooKeeper's
zkCli (org.apache.zookeeper.ZooKeeperMain 3.8.0, Debian `zookeeper`).

  * test_script_transcript: every script of test_zkcli.py, fed to
    `paddock cli -` (one command per line of stdin), must print exactly the
    transcript Apache's zkCli printed for it (test_zkcli.EXPECTED, recorded
    from zkCli 3.8.0), through the same normalisation (zxids relative,
    times, session ids, watch events taken out in order).
  * test_one_shot_same_as_zkcli: ONE_SHOT commands, one process each
    (`paddock cli -server h:p cmd args`), against one fresh Paddock server
    for us and one for zkCli: same stdout, same stderr, same exit status.
    Normalised: zxids, times, session ids and the port.  zkCli prints the
    SyncConnected event from another thread, racing the command's output,
    so events are compared apart from the rest (zkCli's may be missing when
    it exits first).
  * test_quota_same_as_zkcli: the same for QUOTA_ONE_SHOT (setquota,
    listquota, delquota), then the znodes each tool left under
    /zookeeper/quota, compared and checked.
  * test_help_is_zkcli_usage: `help` (ours; zkCli has none) prints the
    command list zkCli prints for an unknown command.
  * test_stdin_same_as_zkcli: a script with a session's state in it
    (addauth + digest ACLs, ephemerals, whoami) through both tools.
  * exit statuses, the stdin mode going on after a failure, and an
    unreachable server.

paddock cli's exit status: 0 when the command (every command, with `-`)
succeeded; 1 when one failed; 127 for an unknown command (as zkCli); 2 for a
bad invocation of `paddock cli` itself.

Needs PADDOCK_BIN (the binary with the `cli` subcommand); the comparisons
with zkCli also need java and zookeeper.jar (skipped without).
"""

import os
import re
import shutil
import socket
import subprocess
import textwrap
import uuid

import pytest

import test_zkcli as zkcli
from zkserver import ZK_JAR, ServerProcess, digest

PADDOCK = os.environ.get("PADDOCK_BIN")

pytestmark = pytest.mark.skipif(
    not PADDOCK, reason="paddock cli needs PADDOCK_BIN")

needs_java = pytest.mark.skipif(
    shutil.which("java") is None or not os.path.exists(ZK_JAR),
    reason="comparing with zkCli needs java and %s" % ZK_JAR)

ALICE = digest("alice", "secret")


def run_cli(port, args, stdin=None, timeout=60):
    """paddock cli -server 127.0.0.1:port args...; returns (status, out, err)."""
    p = subprocess.run(
        [PADDOCK, "cli", "-server", "127.0.0.1:%d" % port] + list(args),
        input=(stdin or "").encode(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def run_zkcli_once(port, args, timeout=60):
    """Apache's zkCli in one-shot mode; returns (status, out, err)."""
    p = subprocess.run(zkcli._cli_command(port) + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def run_cli_script(port, script, timeout=60):
    """The script through `paddock cli -`, stdout and stderr merged in
    order, ended like test_zkcli's scripts (sentinel, then quit); returns
    the output without the sentinel's lines, as test_zkcli.run_zkcli."""
    if isinstance(script, str):
        script = [line for line in textwrap.dedent(script).splitlines()
                  if line.strip()]
    sentinel = "/zkcli-sentinel-" + uuid.uuid4().hex[:12]
    script = list(script) + ["printwatches on", "stat -w " + sentinel,
                             "create -e " + sentinel, "quit"]
    p = subprocess.run(
        [PADDOCK, "cli", "-server", "127.0.0.1:%d" % port, "-"],
        input=("\n".join(script) + "\n").encode(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode()
    out = out.replace("\nWatchedEvent state:SyncConnected type:NodeCreated"
                      " path:%s\n" % sentinel, "")
    return "".join(line for line in out.splitlines(True)
                   if sentinel not in line)


def transcript(out):
    lines, events = zkcli.normalise(out)
    return "\n".join(lines + ["-- events --"] + events)


# --------------------------------------------------------------------------
# test_zkcli's scripts: the transcripts Apache's zkCli printed


@pytest.mark.parametrize("name", sorted(zkcli.SCRIPTS))
def test_script_transcript(server, base, name):
    script = textwrap.dedent(zkcli.SCRIPTS[name]).replace("{b}", base)
    want = zkcli.expect(zkcli.EXPECTED[name]).replace("{b}", base)
    got = transcript(run_cli_script(server.port, script))
    assert got == want, "paddock cli transcript differs from zkCli's:\n" + \
        zkcli.diff(want, got, ("zkCli", "paddock cli"))


# --------------------------------------------------------------------------
# one command per process, next to zkCli

ONE_SHOT = [
    # reconfig: both servers run without reconfigEnabled; the option checks come first
    "reconfig",
    "reconfig -remove 1",
    "reconfig -s -add server.5=127.0.0.1:1234:1235;1236 -v 100000000",
    "reconfig -v zz -add x",
    "reconfig -members a -add b",
    "reconfig -file /nonexistent/dyn.cfg -members a",
    "reconfig -file /nonexistent/dyn.cfg",
    "reconfig -x",
    "reconfig -add",
    "create /d",
    "create /d/a 1",
    "create -s /d/s- x",
    "create -c /d/c",
    "create /d/c/k",
    "create -t 100000 /d/t tv",
    "create -s -t 100000 /d/ts- tv",
    "create /d/a",
    "create /nonexist/x",
    "create d",
    "create /d/",
    "create /d/a/../b",
    "create -t 100 -e /d/bad",
    "create -e -c /d/bad",
    "create -t 0 /d/bad",
    "create -t x /d/bad",
    "create",
    "create /d/acl v world:anyone:r",
    "create /d/acl2 v digest:%s:cdrwa" % ALICE,
    "create /d/noacl v world:anyone",
    "ls /d",
    "ls -s /d",
    "ls -R /d",
    "ls -R /",
    "ls /nonexist",
    "ls -R /nonexist",
    "ls",
    "ls -x /d",
    "ls -sw /d",
    "get /d/a",
    "get -s /d/a",
    "get /d/acl2",
    "get /nonexist",
    "get -s -w /d/t",
    "set /d/a 2",
    "set -s /d/a 3",
    "set -v 7 /d/a 4",
    "set -v 7 -v 2 /d/a 4",
    "set -v 2 /d/a 4",
    "set /d/nonexist v",
    "set /d/a",
    "set -v",
    "stat /d/a",
    "stat /nonexist",
    "stat -w /d/c",
    "getAcl /d/acl",
    "getAcl -s /d/acl2",
    "getAcl /nonexist",
    "setAcl /d/acl world:anyone:cdrwa",
    "setAcl -s -v 1 /d/acl world:anyone:rw",
    "setAcl -v 9 /d/acl world:anyone:r",
    "setAcl /d/acl nonsense:x:r",
    "setAcl /d/acl digest:bad:cdrwa",
    "setAcl -R /d/c world:anyone:cdrwa",
    "setAcl /d/acl",
    "getAllChildrenNumber /d",
    "getAllChildrenNumber /nonexist",
    "getAllChildrenNumber",
    "getEphemerals",
    "getEphemerals /d",
    "getEphemerals d",
    "whoami",
    "sync /d",
    "sync /nonexist",
    "sync d",
    "config",
    "config -s",
    "addWatch /d",
    "addWatch -m PERSISTENT /d",
    "addWatch -m BOGUS /d",
    "removewatches /d",
    "removewatches /d -c",
    "delete /d",
    "delete -v 9 /d/a",
    "delete /d/a",
    "delete /d/a",
    "delete d",
    "deleteall /nonexist",
    "deleteall -b x /d",
    "deleteall /d/c",
    "deleteall -b 2 /d",
    "ls /d",
    "bogus",
    "redo 1",
    "history",
    "printwatches",
]

ZXID_LINE = re.compile(r"^([cmp]Zxid) = 0x[0-9a-f]+$")


def normalise_once(out, port):
    """One process's stdout or stderr, normalised for comparison: returns
    (lines, events)."""
    out = out.replace("127.0.0.1:%d" % port, "127.0.0.1:<port>")
    lines, events = zkcli.normalise(out, relative=False)
    return [ZXID_LINE.sub(r"\1 = <zxid>", line) for line in lines], events


def one_shot_diffs(ours_port, theirs_port, commands):
    """Runs each command (words split at blanks) once with paddock cli on
    ours_port and once with zkCli on theirs_port; returns the differences
    found, as text for an assertion message."""
    diffs = []
    for cmd in commands:
        args = cmd.split(" ")
        st, out, err = run_cli(ours_port, args)
        zst, zout, zerr = run_zkcli_once(theirs_port, args)
        got_out, got_events = normalise_once(out, ours_port)
        want_out, want_events = normalise_once(zout, theirs_port)
        got_err, _ = normalise_once(err, ours_port)
        want_err, _ = normalise_once(zerr, theirs_port)
        # Ours prints every event in order, the connection first; a
        # command refused before anything is sent exits without waiting
        # for the session, and prints none.
        if got_events:
            assert got_events[0] == \
                "WatchedEvent state:SyncConnected type:None path:null", \
                (cmd, out)
            for e in want_events:
                assert e in got_events, (cmd, e, got_events)
        if (st, got_out, got_err) != (zst, want_out, want_err):
            diffs.append("$ %s\n  zkCli: status %d\n    out %r\n    err %r"
                         "\n  ours:  status %d\n    out %r\n    err %r"
                         % (cmd, zst, want_out, want_err,
                            st, got_out, got_err))
    return diffs


@needs_java
def test_one_shot_same_as_zkcli():
    ours_server = ServerProcess("paddock", name="cli-once-pd")
    theirs_server = ServerProcess("paddock", name="cli-once-zk")
    try:
        ours_server.start()
        theirs_server.start()
        diffs = one_shot_diffs(ours_server.port, theirs_server.port, ONE_SHOT)
        assert not diffs, "paddock cli differs from zkCli:\n" + "\n".join(diffs)
    finally:
        ours_server.cleanup()
        theirs_server.cleanup()


# --------------------------------------------------------------------------
# quotas: setquota, listquota, delquota next to zkCli

QUOTA_ONE_SHOT = [
    "create /q",
    "create /q/a x",
    "create /q/a/b yy",
    "create /q/a/b/c zzz",
    "create /q/e",
    "create /q/h",
    # commons-cli: the required option group, one option of it at most
    "setquota",
    "setquota /q/a",
    "setquota -n 5",
    "setquota -n",
    "setquota -x 5 /q/a",
    "setquota -n 5 -b 6 /q/a",
    "setquota -n5 -N6 /q/a",
    "listquota",
    "listquota -n /q/a",
    "delquota",
    "delquota -n",
    "delquota -n -b /q/a",
    "delquota -Nb /q/a",
    "delquota -x /q/a",
    # values: printed, status 0
    "setquota -n 0 /q/a",
    "setquota -n abc /q/a",
    "setquota -N -1 /q/a",
    "setquota -b -1 /q/a",
    "setquota -B x /q/a",
    "setquota -n 2147483648 /q/a",
    # paths, and nothing to list or delete yet
    "setquota -n 5 /zookeeper/quota/q",
    "setquota -n 5 /nonexist",
    "setquota -n 5 q",
    "setquota -n 5 /",
    "setquota -n 5 /q/a/../b",
    "listquota /q/a",
    "listquota /",
    "listquota q",
    "delquota /q/a",
    "delquota -b /q/a",
    "delquota /",
    # a quota made, listed, updated (below what is there: warnings)
    "setquota -n 10 /q/a",
    "listquota /q/a",
    "setquota -B 100 /q/a",
    "setquota -n 1 /q/a",
    "setquota -b 1 /q/a",
    "listquota /q/a",
    "get /zookeeper/quota/q/a/zookeeper_limits",
    "get /zookeeper/quota/q/a/zookeeper_stats",
    # no quota above or below another
    "setquota -N 2 /q/a/b/c",
    "setquota -N 2 /q/e",
    "setquota -b 5 /q/h",
    "setquota -n 1 /q",
    "setquota -n 3 /q/a",
    # the stats follow the subtree
    "create /q/h/x 12345",
    "listquota /q/h",
    # delquota of each kind, then all of it
    "delquota -n /q/a",
    "delquota -b /q/a",
    "delquota -N /q/e",
    "delquota -B /q/a",
    "listquota /q/a",
    "listquota /q/e",
    "delquota /q/a",
    "listquota /q/a",
    "delquota /q/a",
    # deep: the directories are made, refused above, trimmed when it goes
    "setquota -n 3 /q/a/b/c",
    "setquota -n 1 /q/a",
    "ls -R /zookeeper/quota/q",
    "delquota /q/a/b/c",
    "ls -R /zookeeper/quota/q",
    # limits written by an older client, and ones no StatsTrack reads
    "set /zookeeper/quota/q/h/zookeeper_limits count=5,bytes=7",
    "listquota /q/h",
    "setquota -N 9 /q/h",
    "get /zookeeper/quota/q/h/zookeeper_limits",
    "set /zookeeper/quota/q/e/zookeeper_limits count=x,bytes=1",
    "listquota /q/e",
    "setquota -n 4 /q/e",
    "delquota /q/e",
    "set /zookeeper/quota/q/e/zookeeper_limits count==4;;bytes=2=,",
    "listquota /q/e",
    "delquota -n /q/e",
    "get /zookeeper/quota/q/e/zookeeper_limits",
]

# What QUOTA_ONE_SHOT leaves under /zookeeper/quota/q (node: data).
QUOTA_LEFT = {
    "e": None,
    "e/zookeeper_limits": "count=-1,bytes=2",
    "e/zookeeper_stats": "count=1,bytes=0",
    "h": None,
    "h/zookeeper_limits": "count=5,bytes=7=;countHardLimit=9",
    "h/zookeeper_stats": "count=2,bytes=5",
}


def quota_nodes(zk):
    """Every node under /zookeeper/quota/q, relative, with its data."""
    nodes = {}

    def walk(path):
        for child in zk.get_children(path):
            p = path + "/" + child
            data = zk.get(p)[0]
            nodes[p[len("/zookeeper/quota/q/"):]] = \
                None if data is None else data.decode()
            walk(p)
    walk("/zookeeper/quota/q")
    return nodes


@needs_java
def test_quota_same_as_zkcli(kazoo_factory):
    ours_server = ServerProcess("paddock", name="cli-quota-pd")
    theirs_server = ServerProcess("paddock", name="cli-quota-zk")
    try:
        ours_server.start()
        theirs_server.start()
        diffs = one_shot_diffs(ours_server.port, theirs_server.port,
                               QUOTA_ONE_SHOT)
        assert not diffs, "paddock cli differs from zkCli:\n" + "\n".join(diffs)
        ours = kazoo_factory(hosts=ours_server.hosts)
        theirs = kazoo_factory(hosts=theirs_server.hosts)
        assert quota_nodes(ours) == quota_nodes(theirs) == QUOTA_LEFT
    finally:
        ours_server.cleanup()
        theirs_server.cleanup()


def test_quota_data_without_value(server, base):
    """Limits with a pair zkCli dies on (ArrayIndexOutOfBoundsException):
    we say so, status 1, and change nothing."""
    assert run_cli(server.port, ["setquota", "-n", "5", base])[0] == 0
    limits = "/zookeeper/quota%s/zookeeper_limits" % base
    assert run_cli(server.port, ["set", limits, "count=,bytes=1"])[0] == 0
    for cmd in (["listquota", base], ["delquota", base],
                ["setquota", "-b", "3", base]):
        st, out, err = run_cli(server.port, cmd)
        assert st == 1, cmd
        assert err.endswith('Invalid quota data: no value in "count="\n'), \
            (cmd, err)
    st, out, err = run_cli(server.port, ["get", limits])
    assert out.splitlines()[-1] == "count=,bytes=1"
    assert run_cli(server.port, ["set", limits, "count=5"])[0] == 0
    assert run_cli(server.port, ["delquota", base])[0] == 0
    assert run_cli(server.port, ["stat", "/zookeeper/quota" + base])[0] == 1


@needs_java
def test_help_is_zkcli_usage(server):
    zst, zout, zerr = run_zkcli_once(server.port, ["nosuchcommand"])
    st, out, err = run_cli(server.port, ["help"])
    usage = zerr.splitlines()[:-1]
    assert usage[0].startswith("ZooKeeper -server ")
    assert zst == 127
    assert (st, [line for line in out.splitlines()
                 if not line.startswith("Connecting to ")], err) == \
        (0, usage, "")


# --------------------------------------------------------------------------
# a session's worth of commands through both tools

STDIN_SCRIPT = """\
    create /s
    create /s/dig data digest:%(alice)s:cdrwa
    get /s/dig
    whoami
    addauth digest alice:secret
    whoami
    get -s /s/dig
    create -e /s/e1 x
    create -e -s /s/e- y
    getEphemerals
    getEphemerals /s/e-
    create /s/auth d auth::cdra
    getAcl /s/auth
    ls -s /s
    stat -w /s/e1
    delete /s/e1
    get -w /s
    set /s v
    history
    redo 3
    printwatches off
    set /s w
    printwatches on
    printwatches
    deleteall /s
    ls /s
    close
    ls /
    connect 127.0.0.1:{port}
    whoami
""" % {"alice": ALICE}


@needs_java
def test_stdin_same_as_zkcli():
    ours_server = ServerProcess("paddock", name="cli-stdin-pd")
    theirs_server = ServerProcess("paddock", name="cli-stdin-zk")
    try:
        ours_server.start()
        theirs_server.start()
        got = transcript(run_cli_script(
            ours_server.port, STDIN_SCRIPT.replace("{port}",
                                                   str(ours_server.port))))
        want = transcript(zkcli.run_zkcli(
            theirs_server.port, STDIN_SCRIPT.replace("{port}",
                                                     str(theirs_server.port))))
        got = got.replace(str(ours_server.port), "<port>")
        want = want.replace(str(theirs_server.port), "<port>")
        assert got == want, "paddock cli differs from zkCli:\n" + \
            zkcli.diff(want, got, ("zkCli", "paddock cli"))
    finally:
        ours_server.cleanup()
        theirs_server.cleanup()


# --------------------------------------------------------------------------
# exit statuses and modes


def test_exit_status(server, base):
    assert run_cli(server.port, ["create", base + "/x", "v"])[0] == 0
    st, out, err = run_cli(server.port, ["get", base + "/x"])
    assert (st, out.splitlines()[-1], err) == (0, "v", "")
    st, out, err = run_cli(server.port, ["get", base + "/missing"])
    assert (st, err) == (1, "Node does not exist: %s/missing\n" % base)
    st, out, err = run_cli(server.port, ["create", base + "/x"])
    assert (st, err) == (1, "Node already exists: %s/x\n" % base)
    st, out, err = run_cli(server.port, ["set", "-v", "9", base + "/x", "w"])
    assert (st, err) == (1, "version No is not valid : %s/x\n" % base)
    st, out, err = run_cli(server.port, ["ls"])
    assert (st, err) == (1, "ls [-s] [-w] [-R] path\n")
    st, out, err = run_cli(server.port, ["get", "-x", base])
    assert st == 1 and "Unrecognized option: -x" in err
    st, out, err = run_cli(server.port, ["set", "-v", "abc", base + "/x", "w"])
    assert (st, err) == (1, "-v argument must be an int value\n")
    st, out, err = run_cli(server.port, ["nosuchcommand"])
    assert st == 127 and err.endswith(
        "Command not found: Command not found nosuchcommand\n")
    # bad invocations of paddock cli itself
    assert run_cli(server.port, ["-timeout"])[0] == 2
    assert run_cli(server.port, ["-timeout", "abc", "ls", "/"])[0] == 2
    assert run_cli(server.port, ["-bogus", "ls", "/"])[0] == 2
    assert run_cli(server.port, ["-", "ls", "/"])[0] == 2


def test_stdin_mode_carries_on(server, base):
    """With `-` every line runs; the status is the last failure's, or 0."""
    st, out, err = run_cli(server.port, ["-"], stdin="\n".join([
        "create %s/a" % base,
        "get %s/missing" % base,
        "nosuchcommand",
        "create %s/b" % base,
        "ls %s" % base,
    ]) + "\n")
    assert st == 127
    assert out.splitlines()[-1] == "[a, b]"
    assert "Node does not exist: %s/missing\n" % base in err
    st, out, err = run_cli(server.port, ["-"], stdin="\n".join([
        "get %s/missing" % base,
        "ls %s" % base,
    ]) + "\n")
    assert st == 1
    st, out, err = run_cli(server.port, ["-"], stdin="\n".join([
        "ls %s" % base,
        "",
        "   ",
        "quit",
        "create %s/after-quit" % base,
    ]) + "\n")
    assert (st, err) == (0, "")
    assert run_cli(server.port, ["stat", base + "/after-quit"])[0] == 1


def test_addauth_without_credential(server, base):
    """As zkCli, `addauth scheme` sends a null credential: the digest scheme
    refuses it (AuthFailed ends the session), ip takes it."""
    failed = "WatchedEvent state:AuthFailed type:None path:null"
    st, out, err = run_cli(server.port, ["addauth", "digest"])
    assert (st, err) == (1, "") and failed in out
    st, out, err = run_cli(server.port, ["-"], stdin="addauth digest\nwhoami\n")
    assert (st, err) == (1, "")
    assert out.split(failed + "\n", 1)[1] == "Not connected\n"
    st, out, err = run_cli(server.port, ["-"], stdin="addauth ip\nwhoami\n")
    assert (st, err) == (0, "")
    assert out.endswith("Auth scheme: User\nip: 127.0.0.1\n")


def test_one_shot_closes_its_session(server, base):
    """Unlike zkCli (whose JVM exits with the session open), an ephemeral
    made by a one-shot command is gone when the command returns."""
    assert run_cli(server.port, ["create", "-e", base + "/e"])[0] == 0
    st, out, err = run_cli(server.port, ["stat", base + "/e"])
    assert (st, err) == (1, "Node does not exist: %s/e\n" % base)


def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]      # nothing listens there
        st, out, err = run_cli(port, ["-timeout", "2000", "ls", "/"],
                               timeout=30)
    assert st == 1
    assert err == "KeeperErrorCode = ConnectionLoss for /\n"
