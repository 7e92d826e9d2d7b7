"""Start and stop an ensemble of Paddock (and optionally Apache ZooKeeper)
servers on 127.0.0.1: one temporary directory per server with its zoo.cfg,
dataDir/myid and log file, free ports for client, quorum and election.

Processes are stopped by the PID we started (SIGTERM, then SIGKILL), never by
name.  kill9() leaves a server's directory in place so it can be restarted.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from zkserver import free_port, ZK_JAR, ZK_LOG_JARS, LOG4J_PROPERTIES
from zkwire import four_letter

TICK_TIME = 200
ZK_QUORUM_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"


class Member:
    def __init__(self, sid, kind, base, role="participant"):
        self.sid = sid
        self.kind = kind                      # "paddock" or "zookeeper"
        self.role = role                      # "participant" or "observer"
        self.dir = os.path.join(base, "s%d" % sid)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data)
        with open(os.path.join(self.data, "myid"), "w") as f:
            f.write("%d\n" % sid)
        self.client_port = free_port()
        self.quorum_port = free_port()
        self.election_port = free_port()
        self.cfg_path = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.jvm_flags = []                   # extra -D flags for Apache members

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.client_port

    def cmd(self):
        if self.kind == "paddock":
            return [os.environ["PADDOCK_BIN"], "server", self.cfg_path]
        # log4j 1.2 into server.log: Apache logs why it drops a connection.
        log4j = os.path.join(self.dir, "log4j.properties")
        with open(log4j, "w") as f:
            f.write(LOG4J_PROPERTIES.format(logfile=self.log_path))
        cp = ":".join([ZK_JAR] + [j for j in ZK_LOG_JARS if os.path.exists(j)])
        return ["java", "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
                "-Dlog4j.configuration=file:" + log4j,
                "-Dzookeeper.admin.enableServer=false",
                "-Dzookeeper.log.dir=" + self.dir] + self.jvm_flags + [
                "-cp", cp, ZK_QUORUM_MAIN, self.cfg_path]

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd(), stdout=log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def mode(self):
        """'leader', 'follower', 'observer', or None (not serving/down)."""
        try:
            out = four_letter(self.client_port, "srvr", timeout=1.0)
        except Exception:
            return None
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        for line in out.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return None

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(
                    errors="replace")
        except OSError:
            return ""

    def log_text(self):
        """The whole server log."""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Ensemble:
    """roles: one "participant" or "observer" per member (default: all
    participants).  An observer is marked ":observer" in every server list
    and gets peerType=observer in its own zoo.cfg, as ZooKeeper's docs ask.
    member_cfg: {sid: extra zoo.cfg text for that member only}.
    host: how the server lines name 127.0.0.1 (a name must resolve to it)."""

    def __init__(self, kinds, tick=TICK_TIME, extra_cfg="", roles=None,
                 member_cfg=None, host="127.0.0.1"):
        self.base = tempfile.mkdtemp(prefix="paddock-ens-")
        roles = roles or ["participant"] * len(kinds)
        self.members = [Member(i + 1, k, self.base, roles[i])
                        for i, k in enumerate(kinds)]
        lines = ["server.%d=%s:%d:%d%s;%s:%d" % (
            m.sid, host, m.quorum_port, m.election_port,
            ":observer" if m.role == "observer" else "", host, m.client_port)
            for m in self.members]
        for m in self.members:
            with open(m.cfg_path, "w") as f:
                f.write("tickTime=%d\ninitLimit=10\nsyncLimit=5\n" % tick)
                f.write("dataDir=%s\n" % m.data)
                f.write("4lw.commands.whitelist=*\n")
                f.write("admin.enableServer=false\n")
                if m.role == "observer":
                    f.write("peerType=observer\n")
                f.write(extra_cfg)
                f.write((member_cfg or {}).get(m.sid, ""))
                f.write("\n".join(lines) + "\n")

    def start(self):
        for m in self.members:
            m.start()

    def stop(self):
        for m in self.members:
            m.stop()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def modes(self):
        return {m.sid: m.mode() for m in self.members}

    def wait_serving(self, members=None, timeout=30.0):
        """Waits until every given member serves and exactly one leads;
        returns the leader."""
        members = members or self.members
        deadline = time.time() + timeout
        modes = {}
        while time.time() < deadline:
            modes = {m.sid: m.mode() for m in members}
            leaders = [m for m in members if modes[m.sid] == "leader"]
            want = {m.sid: ("observer",) if m.role == "observer"
                    else ("leader", "follower") for m in members}
            if (len(leaders) == 1 and
                    all(modes[s] in want[s] for s in modes)):
                return leaders[0]
            time.sleep(0.05)
        logs = "\n".join("--- s%d\n%s" % (m.sid, m.log_tail())
                         for m in members)
        raise AssertionError("ensemble not serving after %.0fs: %r\n%s" % (
            timeout, modes, logs))


# ---------------------------------------------------------------- test helpers


def close_client(zk):
    """Stops and closes a kazoo client, whatever state it is in."""
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass


def wait_until(pred, timeout, step=0.05):
    """pred()'s first true value within timeout seconds, else None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def sanitizer_reports(ens):
    """{sid: first line} of an ASan/UBSan/LSan report in a server's log."""
    out = {}
    for m in ens.members:
        for line in m.log_text().splitlines():
            if ("Sanitizer" in line and "ERROR" in line) or \
                    "runtime error:" in line:
                out[m.sid] = line
                break
    return out


def print_logs(ens):
    """Each member's exit status and log tail (for a failing test's output)."""
    for m in ens.members:
        rc = m.proc.poll() if m.proc else "not running"
        print("--- s%d (%s, exit status %r)\n%s" % (m.sid, m.role, rc,
                                                     m.log_tail(40)))


def walk_tree(zk):
    """(path, data, stat) of every znode outside /zookeeper, through kazoo client zk."""
    todo = ["/"]
    while todo:
        path = todo.pop()
        data, st = zk.get(path)
        yield path, data, st
        for c in zk.get_children(path):
            child = path.rstrip("/") + "/" + c
            if child != "/zookeeper":
                todo.append(child)
