"""A fault-injecting TCP proxy for the peer links of an ensemble on 127.0.0.1,
and ProxiedEnsemble: a zkensemble.Ensemble whose servers reach each other
only through it.

Every ordered pair (a, b) of servers gets two proxy listeners of its own, one
for b's quorum port and one for b's election port.  Server a's zoo.cfg lists
its own entry with its real ports (a server binds its own entry) and every
other server b at the proxy ports of the pair (a, b), so each server has its
own view of the ensemble and every byte between two servers crosses exactly
one proxied connection that knows who is on either end.  Client ports are
not proxied.

Faults (all bounded, all on 127.0.0.1):
  block(a, b)       bytes from a to b stall (one way): the proxy stops reading
                    them, as a network that drops every packet a -> b would
                    make TCP retransmit; b -> a still flows.  A new connection
                    across a fully cut pair is accepted and held (its SYN
                    "got through" but nothing else does).
  partition(g1, g2) block both ways between every member of g1 and of g2.
  isolate(sid)      partition({sid}, everyone else).
  unblock(a, b)     lift block(a, b): the stalled bytes flow on (a delay).
  heal()            lift every block; connections that crossed a cut are reset
                    (RST), as TCP gives up on them, so nothing stale arrives
                    after healing.
  drop(a, b)        reset every connection between a and b now (no block).
"""

import os
import select
import signal
import socket
import struct
import threading
import time

from zkensemble import Ensemble
from zkserver import free_port

CHUNK = 65536
MAX_BUF = 1 << 20


def _rst(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Pipe:
    """One proxied connection: `a` faces the dialing server (src), `b` the
    accepting one (dst)."""

    def __init__(self, link, a, b):
        self.link = link
        self.a = a
        self.b = b
        self.up = b""      # src -> dst, waiting to be written to b
        self.down = b""    # dst -> src, waiting to be written to a
        self.crossed_cut = False
        self.closed = False


class _Link:
    def __init__(self, src, dst, kind, target_port):
        self.src, self.dst, self.kind = src, dst, kind
        self.target_port = target_port
        self.port = free_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.sock.setblocking(False)


class NetProxy:
    def __init__(self):
        self.links = {}             # (src, dst, kind) -> _Link
        self.pipes = []
        self.blocked = set()        # (a, b): bytes a -> b stall
        self.lock = threading.Lock()
        self.stats = {"accepted": 0, "refused": 0, "reset": 0, "held": 0}
        self._stop = False
        self._thread = None

    def add_link(self, src, dst, kind, target_port):
        link = _Link(src, dst, kind, target_port)
        self.links[(src, dst, kind)] = link
        return link.port

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="netproxy")
        self._thread.start()

    def close(self):
        self._stop = True
        if self._thread:
            self._thread.join(timeout=5)
        with self.lock:
            for p in list(self.pipes):
                self._close_pipe(p, rst=True)
            for link in self.links.values():
                link.sock.close()

    # ---------------------------------------------------------------- faults

    def block(self, a, b):
        with self.lock:
            self.blocked.add((a, b))
            for p in self.pipes:
                if {p.link.src, p.link.dst} == {a, b}:
                    p.crossed_cut = True

    def unblock(self, a, b):
        """Lifts block(a, b) alone: the stalled bytes flow on, as after a
        delay; connections are kept (heal() resets those that crossed)."""
        with self.lock:
            self.blocked.discard((a, b))
            for p in self.pipes:
                pair = {p.link.src, p.link.dst}
                if pair == {a, b} and (b, a) not in self.blocked:
                    p.crossed_cut = False

    def partition(self, g1, g2):
        for a in g1:
            for b in g2:
                self.block(a, b)
                self.block(b, a)

    def isolate(self, sid, sids):
        self.partition([sid], [s for s in sids if s != sid])

    def heal(self):
        with self.lock:
            self.blocked.clear()
            for p in list(self.pipes):
                if p.crossed_cut:
                    self._close_pipe(p, rst=True)

    def drop(self, a, b):
        with self.lock:
            for p in list(self.pipes):
                if {p.link.src, p.link.dst} == {a, b}:
                    self._close_pipe(p, rst=True)

    def drop_all(self, sid):
        with self.lock:
            for p in list(self.pipes):
                if sid in (p.link.src, p.link.dst):
                    self._close_pipe(p, rst=True)

    # ------------------------------------------------------------------ loop

    def _close_pipe(self, p, rst=False):
        if p.closed:
            return
        p.closed = True
        for s in (p.a, p.b):
            if s is None:
                continue
            if rst:
                _rst(s)
            else:
                try:
                    s.close()
                except OSError:
                    pass
        if rst:
            self.stats["reset"] += 1
        if p in self.pipes:
            self.pipes.remove(p)

    def _accept(self, link):
        try:
            a, _ = link.sock.accept()
        except (BlockingIOError, OSError):
            return
        a.setblocking(False)
        self.stats["accepted"] += 1
        p = _Pipe(link, a, None)
        cut = ((link.src, link.dst) in self.blocked and
               (link.dst, link.src) in self.blocked)
        if cut:
            p.crossed_cut = True       # held until heal() resets it
            self.stats["held"] += 1
            self.pipes.append(p)
            return
        b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        b.settimeout(1.0)
        try:
            b.connect(("127.0.0.1", link.target_port))
        except OSError:
            b.close()
            self.stats["refused"] += 1
            _rst(a)                    # like "connection refused"
            return
        b.setblocking(False)
        p.b = b
        if ((link.src, link.dst) in self.blocked or
                (link.dst, link.src) in self.blocked):
            p.crossed_cut = True
        self.pipes.append(p)

    def _loop(self):
        while not self._stop:
            rl, wl = [], []
            with self.lock:
                for link in self.links.values():
                    rl.append(link.sock)
                for p in self.pipes:
                    if p.b is None:
                        continue
                    src, dst = p.link.src, p.link.dst
                    if (src, dst) not in self.blocked:
                        if len(p.up) < MAX_BUF:
                            rl.append(p.a)
                        if p.up:
                            wl.append(p.b)
                    if (dst, src) not in self.blocked:
                        if len(p.down) < MAX_BUF:
                            rl.append(p.b)
                        if p.down:
                            wl.append(p.a)
            try:
                r, w, _ = select.select(rl, wl, [], 0.02)
            except (OSError, ValueError):
                time.sleep(0.005)      # a socket closed under us; go again
                continue
            r, w = set(r), set(w)
            with self.lock:
                for link in self.links.values():
                    if link.sock in r:
                        self._accept(link)
                for p in list(self.pipes):
                    if p.closed or p.b is None:
                        continue
                    self._pump(p, r, w)

    def _pump(self, p, r, w):
        src, dst = p.link.src, p.link.dst
        try:
            if (src, dst) not in self.blocked:
                if p.a in r:
                    data = p.a.recv(CHUNK)
                    if not data:
                        raise ConnectionError("eof from src")
                    p.up += data
                if p.up and (p.b in w or p.a in r):
                    n = p.b.send(p.up)
                    p.up = p.up[n:]
            if (dst, src) not in self.blocked:
                if p.b in r:
                    data = p.b.recv(CHUNK)
                    if not data:
                        raise ConnectionError("eof from dst")
                    p.down += data
                if p.down and (p.a in w or p.b in r):
                    n = p.a.send(p.down)
                    p.down = p.down[n:]
        except BlockingIOError:
            pass
        except ConnectionError as e:
            if "eof" in str(e):
                # An orderly close: deliver what is buffered, then close.
                for sock, buf in ((p.b, p.up), (p.a, p.down)):
                    if buf:
                        try:
                            sock.settimeout(0.2)
                            sock.sendall(buf)
                        except OSError:
                            pass
            self._close_pipe(p, rst=False)
        except OSError:
            # One end closed or reset: pass what is buffered is not worth
            # keeping; close both ends (the other side sees the peer go away).
            self._close_pipe(p, rst=False)


class ProxiedEnsemble(Ensemble):
    """An Ensemble whose peer links go through a NetProxy (self.net).  Each
    server gets its own zoo.cfg view: its own entry real, every peer at the
    proxy ports of the pair (self, peer)."""

    def __init__(self, kinds, tick=200, sync_limit=5, init_limit=10,
                 extra_cfg=""):
        super().__init__(kinds, tick=tick)
        self.net = NetProxy()
        self.sids = [m.sid for m in self.members]
        for a in self.members:
            lines = []
            for b in self.members:
                if a is b:
                    qp, ep = b.quorum_port, b.election_port
                else:
                    qp = self.net.add_link(a.sid, b.sid, "q", b.quorum_port)
                    ep = self.net.add_link(a.sid, b.sid, "e", b.election_port)
                lines.append("server.%d=127.0.0.1:%d:%d;127.0.0.1:%d" % (
                    b.sid, qp, ep, b.client_port))
            with open(a.cfg_path, "w") as f:
                f.write("tickTime=%d\ninitLimit=%d\nsyncLimit=%d\n" % (
                    tick, init_limit, sync_limit))
                f.write("dataDir=%s\n" % a.data)
                f.write("4lw.commands.whitelist=*\n")
                f.write("admin.enableServer=false\n")
                f.write(extra_cfg)
                f.write("\n".join(lines) + "\n")
        self.net.start()

    def member(self, sid):
        return self.members[sid - 1]

    def isolate(self, sid):
        self.net.isolate(sid, self.sids)

    def heal(self):
        self.net.heal()

    @staticmethod
    def pause(m):
        if m.proc and m.proc.poll() is None:
            os.kill(m.proc.pid, signal.SIGSTOP)

    @staticmethod
    def resume(m):
        if m.proc and m.proc.poll() is None:
            os.kill(m.proc.pid, signal.SIGCONT)

    def cleanup(self):
        for m in self.members:
            self.resume(m)           # a stopped process cannot act on SIGTERM
        try:
            if os.environ.get("PADDOCK_TEST_KEEP"):
                self.stop()
                print("kept ensemble dir:", self.base)
            else:
                super().cleanup()
        finally:
            self.net.close()
