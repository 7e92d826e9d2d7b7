"""Start and stop one standalone server (Apache ZooKeeper 3.8 or Paddock) on a
free 127.0.0.1 port, with its own temporary dataDir, zoo.cfg and log files.

Both servers get the same zoo.cfg.  Apache ZooKeeper reads a few settings
only as Java system properties, so for it they are also passed with -D:

  zoo.cfg key                          Apache system property
  -----------------------------------  ------------------------------------------
  extendedTypesEnabled=true            zookeeper.extendedTypesEnabled (ZooKeeper
                                       also copies every unknown zoo.cfg key k to
                                       the property "zookeeper."+k, so the key
                                       alone works too)
  DigestAuthenticationProvider.        zookeeper.DigestAuthenticationProvider.
    superDigest=super:<b64 sha1>         superDigest (read once, when the class
                                       loads; we pass -D to be safe)
  znode.container.checkIntervalMs=100  znode.container.checkIntervalMs -- read by
                                       ZooKeeperServerMain with Integer.getInteger
                                       and WITHOUT the "zookeeper." prefix, so the
                                       zoo.cfg key is not enough for Apache
  admin.enableServer=false             zookeeper.admin.enableServer (no Jetty on
                                       :8080)

Paddock is expected to read all of these keys from zoo.cfg.

Processes are stopped by the PID we started: SIGTERM, then SIGKILL.
"""

import atexit
import base64
import hashlib
import os
import shutil
import signal
import random
import socket
import subprocess
import tempfile
import threading
import time

from zkwire import RawClient, four_letter

ZK_JAR = "/usr/share/java/zookeeper.jar"
# zookeeper.jar's manifest Class-Path pulls in its dependencies but no slf4j
# binding; we add log4j 1.2 so the server logs into the test's temp dir.
ZK_LOG_JARS = ["/usr/share/java/slf4j-log4j12.jar",
               "/usr/share/java/log4j-1.2.jar"]
ZK_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"

TICK_TIME = 500                 # min session timeout = 2*tick = 1000 ms
MIN_SESSION_TIMEOUT = 2 * TICK_TIME
MAX_SESSION_TIMEOUT = 20 * TICK_TIME
CONTAINER_CHECK_MS = 100

SUPER_USER = "super"
SUPER_PASSWORD = "superpw"


def digest(user, password):
    """The `digest` scheme's id for user:password:
    user:base64(sha1("user:password"))."""
    h = hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()
    return "%s:%s" % (user, base64.b64encode(h).decode())


SUPER_DIGEST = digest(SUPER_USER, SUPER_PASSWORD)


# Listening ports come from below the kernel's ephemeral range (32768-60999 on
# Linux): a port bind(0) hands out is released before the server binds it, and
# meanwhile any outbound connection (tests run two at a time, zkCli and Java
# clients open many) may take it as its local port: an ensemble test once lost
# a server to "address already in use" that way.  A port is never handed out
# twice by one test process (an ensemble with its proxies asks for ~20 before
# any is bound), and each process draws from its own slice of 2,000 ports
# (by pid), so two tests running side by side rarely meet.
_PORT_RNG = random.Random()
_PORTS_GIVEN = set()


def free_port():
    base = 10000 + (os.getpid() % 11) * 2000
    for _ in range(400):
        port = base + _PORT_RNG.randrange(2000)
        if port in _PORTS_GIVEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        if len(_PORTS_GIVEN) > 1500:      # long ago handed out: free again by now
            _PORTS_GIVEN.clear()
            _PORTS_GIVEN.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def default_target():
    t = os.environ.get("PADDOCK_TEST_TARGET")
    if t:
        if t not in ("zookeeper", "paddock"):
            raise ValueError("PADDOCK_TEST_TARGET must be zookeeper or "
                             "paddock")
        return t
    return "paddock" if os.environ.get("PADDOCK_BIN") else "zookeeper"


LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File={logfile}
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{{ISO8601}} [%t] %-5p %c{{1}} - %m%n
"""


_running = set()


@atexit.register
def _stop_all():
    """Safety net: stop every server this interpreter started (by PID)."""
    for s in list(_running):
        s.stop(timeout=5.0)


class ServerProcess:
    """One standalone server.  kind is "zookeeper" or "paddock"."""

    def __init__(self, kind=None, extra_cfg=None, name="zk", datadir=None):
        """datadir: use this existing dataDir (e.g. one another server
        wrote) instead of a new one in the temp dir; the caller owns it and
        cleanup() leaves it alone."""
        self.kind = kind or default_target()
        self.extra_cfg = dict(extra_cfg or {})
        self.workdir = tempfile.mkdtemp(prefix="paddock-it-%s-" % name)
        if datadir is None:
            datadir = os.path.join(self.workdir, "data")
        self.datadir = datadir
        os.makedirs(self.datadir, exist_ok=True)
        self.cfg_path = os.path.join(self.workdir, "zoo.cfg")
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self.server_log = os.path.join(self.workdir, "server.log")
        self.port = None
        self.proc = None

    # ---- config

    def config(self):
        cfg = {
            "tickTime": str(TICK_TIME),
            "initLimit": "10",
            "syncLimit": "5",
            "dataDir": self.datadir,
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "maxClientCnxns": "200",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
            "extendedTypesEnabled": "true",
            "znode.container.checkIntervalMs": str(CONTAINER_CHECK_MS),
            "DigestAuthenticationProvider.superDigest": SUPER_DIGEST,
        }
        cfg.update(self.extra_cfg)
        return cfg

    def write_config(self):
        with open(self.cfg_path, "w") as f:
            f.write("# written by tests/integration/zkserver.py\n")
            for k, v in self.config().items():
                f.write("%s=%s\n" % (k, v))

    def command(self):
        if self.kind == "paddock":
            binp = os.environ.get("PADDOCK_BIN")
            if not binp:
                raise RuntimeError("PADDOCK_BIN is not set")
            return [binp, "server", self.cfg_path]
        log4j = os.path.join(self.workdir, "log4j.properties")
        with open(log4j, "w") as f:
            f.write(LOG4J_PROPERTIES.format(logfile=self.server_log))
        cp = ":".join([ZK_JAR] + [j for j in ZK_LOG_JARS if os.path.exists(j)])
        return [
            "java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.net.preferIPv4Stack=true",
            "-Dlog4j.configuration=file:" + log4j,
            "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.extendedTypesEnabled=true",
            "-Dznode.container.checkIntervalMs=%d" % CONTAINER_CHECK_MS,
            "-Dzookeeper.DigestAuthenticationProvider.superDigest="
            + SUPER_DIGEST,
            "-cp", cp, ZK_MAIN, self.cfg_path,
        ]

    # ---- lifecycle

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=30.0):
        last = None
        for _ in range(3):          # a free port can be taken meanwhile
            if self.port is None or last is not None:
                self.port = free_port()
            self.write_config()
            out = open(self.stdout_path, "ab")
            self.proc = subprocess.Popen(
                self.command(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            out.close()
            _running.add(self)
            try:
                self.wait_ready(timeout)
                return self
            except RuntimeError as e:
                last = e
                self.stop()
        raise last

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s during startup:\n%s"
                                   % (self.kind, self.proc.returncode,
                                      self.log_tail()))
            try:
                if self._ready():
                    return
            except (OSError, ValueError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError("%s not ready on port %d after %.0fs:\n%s"
                           % (self.kind, self.port, timeout, self.log_tail()))

    def _ready(self):
        # Apache answers ruok with imok before it serves sessions (a
        # handshake then gets EOF), while srvr says "This ZooKeeper instance
        # is not currently serving requests" until it is ready.
        out = four_letter(self.port, "srvr", timeout=1.0)
        if "Zookeeper version:" in out:
            return True
        if "not in the whitelist" not in out:
            return False
        # srvr is not whitelisted in this config: open a session instead
        c = RawClient(self.port, timeout=2.0)
        try:
            if c.connect(timeout_ms=MIN_SESSION_TIMEOUT).timeout <= 0:
                return False
            c.close_session()
            return True
        finally:
            c.close()

    def stop(self, timeout=10.0):
        p, self.proc = self.proc, None
        _running.discard(self)
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def restart(self):
        """Stop and start again on the same port and dataDir."""
        self.stop()
        self.start()

    def cleanup(self):
        self.stop()
        if os.environ.get("PADDOCK_TEST_KEEP"):
            return
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, n=40):
        text = []
        for p in (self.stdout_path, self.server_log):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    lines = f.readlines()[-n:]
                text.append("--- %s\n%s" % (p, "".join(lines)))
        return "\n".join(text)


class BlackholeProxy:
    """A TCP proxy on 127.0.0.1 in front of a server.  partition() makes it
    stop forwarding bytes in both directions (connections stay open, data is
    dropped), heal() resumes forwarding for new and existing connections.
    Used to make a kazoo session expire without touching kazoo's internals
    or signalling any process."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.blocked = threading.Event()
        self.closing = threading.Event()
        self.socks = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def hosts(self):
        return "127.0.0.1:%d" % self.port

    def partition(self):
        self.blocked.set()

    def heal(self):
        self.blocked.clear()

    def drop_connections(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.closing.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        self.drop_connections()

    def _accept(self):
        while not self.closing.is_set():
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target_port),
                                             timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c),
                             daemon=True).start()

    def _pump(self, src, dst):
        src.settimeout(0.2)
        while not self.closing.is_set():
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            if self.blocked.is_set():
                continue        # dropped on the floor
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
