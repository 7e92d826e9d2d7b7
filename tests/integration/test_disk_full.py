"""Disk full: the data directory lives on a small filesystem that fills up
under write load (issue 3, "Disk errors").

  * The txn log cannot grow (the next preallocation block does not fit, or,
    with preallocation off, a write comes up short): the server stops
    acknowledging writes -- a write either fails (ZSYSTEMERROR, as Apache
    answers a write it cannot log) or its connection closes; never an OK for
    something not on disk. Reads on existing sessions keep working; the
    failure is logged once; the server keeps running and stops cleanly.
    After the filler file is deleted and the server restarted: every
    acknowledged write is there with its data and version, the tree is
    consistent (numChildren, no node nobody tried to write), and new writes
    succeed.
  * A snapshot does not fit (dataDir on the small filesystem, dataLogDir
    elsewhere): the snapshot fails, is reported, leaves no file behind that
    a reader could take for a snapshot, and the server goes on acknowledging
    writes: the log holds everything, so a restart loses nothing; once there
    is room again a snapshot succeeds.

The small filesystem is a tmpfs mounted for the test (we run as root);
where mounting is not allowed, a loop-mounted ext4 image; otherwise the
tests are skipped, saying what was tried. Runs against Paddock only: it
reads Paddock's log lines. About 10-20 s.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from zkserver import ServerProcess
from zkutil import wait_until
from zkwire import (ConnectionClosed, Err, Op, RawClient, enc_create, enc_path_watch,
                    enc_set_data)

PADDOCK_BIN = os.environ.get("PADDOCK_BIN")
pytestmark = pytest.mark.skipif(not PADDOCK_BIN, reason="needs PADDOCK_BIN: reads "
                                "Paddock's log lines")

SESSION_MS = 10000
LOG_FAILED = "writing the txn log failed"
SNAP_FAILED = "failed (writer status"

# --------------------------------------------------------------------------
# a small filesystem


class SmallFs:
    """A filesystem of `size_mb` MiB mounted on a fresh directory: tmpfs, or
    a loop-mounted ext4 image if tmpfs cannot be mounted. `how` says which."""

    def __init__(self, size_mb):
        self.top = tempfile.mkdtemp(prefix="paddock-it-smallfs-")
        self.path = os.path.join(self.top, "mnt")
        os.makedirs(self.path)
        self.image = None
        tried = []
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % size_mb,
                            "tmpfs", self.path], capture_output=True, text=True)
        if r.returncode == 0:
            self.how = "tmpfs"
            return
        tried.append("tmpfs: " + (r.stderr.strip() or "exit %d" % r.returncode))
        if shutil.which("mkfs.ext4"):
            self.image = os.path.join(self.top, "fs.img")
            with open(self.image, "wb") as f:
                f.truncate(size_mb << 20)
            r = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", self.image],
                               capture_output=True, text=True)
            if r.returncode == 0:
                r = subprocess.run(["mount", "-o", "loop", self.image, self.path],
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    self.how = "ext4 on a loop device"
                    return
            tried.append("loop ext4: " + (r.stderr.strip() or "exit %d" % r.returncode))
        else:
            tried.append("loop ext4: no mkfs.ext4")
        shutil.rmtree(self.top, ignore_errors=True)
        pytest.skip("cannot make a small filesystem here (%s)" % "; ".join(tried))

    def free(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave):
        """Writes a filler file so that about `leave` bytes stay free."""
        filler = os.path.join(self.path, "filler")
        n = self.free() - leave
        assert n > 0, (self.free(), leave)
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, n)
        return filler

    def close(self):
        subprocess.run(["umount", self.path], capture_output=True)
        if subprocess.run(["mountpoint", "-q", self.path]).returncode == 0:
            subprocess.run(["umount", "-l", self.path], capture_output=True)
        shutil.rmtree(self.top, ignore_errors=True)


@pytest.fixture
def smallfs(request):
    made = []

    def make(size_mb):
        fs = SmallFs(size_mb)
        made.append(fs)
        return fs

    yield make
    for fs in made:
        fs.close()


# --------------------------------------------------------------------------
# load that records what was acknowledged


class Writer(threading.Thread):
    """One session writing under /df/w<id>: creates with `size`-byte data and
    compare-and-set updates of a register, `window` requests in flight. It
    records every acknowledged write and stops at the first failure (an
    error reply or the connection closing) -- or when told to."""

    def __init__(self, port, wid, size, window=16, session_ms=SESSION_MS):
        super().__init__(daemon=True)
        self.port, self.wid, self.size, self.window = port, wid, size, window
        self.session_ms = session_ms
        self.base = "/df/w%d" % wid
        self.created = {}         # path -> data, acknowledged
        self.attempted = set()    # every path a create was sent for
        self.reg = (0, b"r0")     # acknowledged (version, data) of base/reg
        self.reg_tries = {b"r0"}
        self.failure = None       # what ended the load
        self.error_code = None    # the error reply that ended it, if one did
        self.stop = False
        self.n = 0

    def run(self):
        try:
            c = RawClient(self.port, timeout=10.0)
            c.connect(timeout_ms=self.session_ms)
        except (OSError, ConnectionClosed, TimeoutError) as e:
            self.failure = "connect: %r" % e
            return
        try:
            while not self.stop and self.failure is None:
                batch = []
                ver = self.reg[0]
                for _ in range(self.window):
                    self.n += 1
                    if self.n % 5 == 0:
                        data = b"r%d" % self.n
                        self.reg_tries.add(data)
                        x = c.send_request(Op.SET_DATA, enc_set_data(self.base + "/reg", data,
                                                                     ver))
                        batch.append((x, "set", data, ver))
                        ver += 1
                    else:
                        path = "%s/n%06d" % (self.base, self.n)
                        data = (b"%d:" % self.n) * (self.size // 4)
                        self.attempted.add(path)
                        x = c.send_request(Op.CREATE2, enc_create(path, data[:self.size]))
                        batch.append((x, "create", path, data[:self.size]))
                for item in batch:
                    rep = c.read_reply(item[0])
                    if rep.err != 0:
                        self.failure = "error %d" % rep.err
                        self.error_code = rep.err
                        break
                    if item[1] == "create":
                        self.created[item[2]] = item[3]
                    else:
                        st = rep.body.stat()
                        assert st.version == item[3] + 1
                        self.reg = (st.version, item[2])
        except (OSError, ConnectionClosed) as e:
            self.failure = "connection: %r" % e
        except TimeoutError:
            self.failure = "no reply within 10 s"
        finally:
            c.close()


def setup_tree(port, writers):
    c = RawClient(port)
    c.connect(timeout_ms=SESSION_MS)
    assert c.create("/df")[0] in (0, Err.NODEEXISTS)
    for w in range(writers):
        assert c.create("/df/w%d" % w)[0] == 0
        assert c.create("/df/w%d/reg" % w, b"r0")[0] == 0
    return c


def check_acknowledged(port, writers):
    """Every acknowledged write is there; nothing nobody wrote is; the stats
    agree with the children."""
    c = RawClient(port, timeout=10.0)
    c.connect(timeout_ms=SESSION_MS)
    try:
        for w in writers:
            err, (kids, pst) = c.get_children(w.base)
            assert err == 0
            assert pst.numChildren == len(kids)
            names = {w.base + "/" + k for k in kids}
            for path, data in w.created.items():
                err, res = c.get_data(path)
                assert err == 0, "acknowledged create lost: %s" % path
                assert res[0] == data, path
                assert res[1].version == 0
            extra = names - w.attempted - {w.base + "/reg"}
            assert not extra, "nodes nobody created: %s" % sorted(extra)[:5]
            err, (d, st) = c.get_data(w.base + "/reg")
            assert err == 0
            ver, data = w.reg
            assert st.version >= ver, ("register went back", w.base, st.version, ver)
            if st.version == ver:
                assert d == data
            else:
                assert d in w.reg_tries
    finally:
        c.close()


def log_text(srv):
    with open(srv.stdout_path, errors="replace") as f:
        return f.read()


# --------------------------------------------------------------------------
# the txn log fills up


# preallocate-fails: 256 KiB blocks, and batches (2 writers x 4 requests of
#   ~270 bytes) smaller than the 4 KiB slack at which a block is added, so a
#   write never runs past the preallocated end: the fallocate of the next
#   block is what fails.
# write-fails: no preallocation; a write comes up short (a torn tail that
#   recovery cuts off), and bigger batches.
LOG_CASES = {
    "preallocate-fails": dict(prealloc_kb=256, room=600 << 10, size=200, window=4,
                              what="preallocate"),
    "write-fails": dict(prealloc_kb=0, room=1 << 20, size=2000, window=16, what="write of"),
}


@pytest.mark.parametrize("case", sorted(LOG_CASES))
def test_log_fills_up(smallfs, case):
    p = LOG_CASES[case]
    fs = smallfs(8)
    datadir = os.path.join(fs.path, "data")
    os.makedirs(datadir)
    filler = fs.fill(p["room"])
    srv = ServerProcess("paddock", datadir=datadir, name="diskfull-log",
                        extra_cfg={"preAllocSize": str(p["prealloc_kb"]),
                                   "snapCount": "1000000"})
    try:
        srv.start()
        reader = setup_tree(srv.port, 2)
        # short sessions: they expire while the log is failed (see below)
        writers = [Writer(srv.port, i, p["size"], window=p["window"], session_ms=1000)
                   for i in range(2)]
        for w in writers:
            w.start()
        for w in writers:
            w.join(60)
            assert not w.is_alive(), "the load never hit the full disk"
        acked = sum(len(w.created) for w in writers)
        assert acked > 100, "the disk filled before the load got going (%d)" % acked
        assert all(w.failure for w in writers)
        for w in writers:
            # an error reply is ZSYSTEMERROR, nothing else
            assert w.failure.startswith("connection") or w.error_code == Err.SYSTEMERROR, \
                w.failure

        # the server lives on: reads on an existing session work...
        assert srv.proc.poll() is None, srv.log_tail()
        w0 = writers[0]
        some = sorted(w0.created)[len(w0.created) // 2]
        err, res = reader.get_data(some)
        assert err == 0 and res[0] == w0.created[some]
        err, (kids, st) = reader.get_children(w0.base)
        assert err == 0 and st.numChildren == len(kids)
        # ...writes do not
        for _ in range(3):
            err, _ = reader.create("/df/after-full", b"x")
            assert err == Err.SYSTEMERROR, err
            err, _ = reader.set_data(w0.base + "/reg", b"x")
            assert err == Err.SYSTEMERROR, err
        # a new client cannot get a session (that is a txn too), and is told so
        # by its connection closing, not by a session it cannot use
        late = RawClient(srv.port, timeout=5.0)
        try:
            resp = late.connect(timeout_ms=SESSION_MS)
            assert resp.timeout <= 0, resp
        except (ConnectionClosed, TimeoutError, OSError):
            pass
        finally:
            late.close()
        # the writers' sessions time out meanwhile; closing a session is a
        # txn, which cannot be logged now: no error about it either
        for _ in range(5):
            time.sleep(0.5)
            assert reader.ping()[0] == 0

        text = log_text(srv)
        assert text.count(LOG_FAILED) == 1, text[-3000:]
        why = [l for l in text.splitlines() if LOG_FAILED in l][0]
        assert "no space left on device" in why.lower() and p["what"] in why, why
        errors = [l for l in text.splitlines() if "[ERROR]" in l]
        assert errors == [why], "the failure must be logged once:\n" + "\n".join(errors)

        # a clean stop still works
        reader.close()
        t0 = time.monotonic()
        srv.stop(timeout=15)
        assert time.monotonic() - t0 < 15

        # room again: restart, nothing acknowledged is lost, writes work
        os.unlink(filler)
        srv.start()
        check_acknowledged(srv.port, writers)
        c = RawClient(srv.port)
        c.connect(timeout_ms=SESSION_MS)
        for i in range(50):
            assert c.create("/df/after-restart-%d" % i, b"y" * 2000)[0] == 0
        err, st = c.set_data(w0.base + "/reg", b"after")
        assert err == 0
        w0.reg = (st.version, b"after")
        c.close()
        srv.restart()
        c = RawClient(srv.port)
        c.connect(timeout_ms=SESSION_MS)
        assert c.get_data("/df/after-restart-49")[0] == 0
        assert c.get_data(w0.base + "/reg")[1][0] == b"after"
        c.close()
        check_acknowledged(srv.port, writers)
    except BaseException:
        print(srv.log_tail(60))
        raise
    finally:
        srv.cleanup()


# --------------------------------------------------------------------------
# a snapshot does not fit


def test_failed_snapshot_does_not_stop_the_server(smallfs):
    # Room for the whole tree once the filler goes: the writers below run until
    # two snapshots have failed, which on a fast machine is ~7,000 nodes of 1 kB
    # (more than a 4 MiB filesystem holds: seen in session 4).
    fs = smallfs(32)
    datadir = os.path.join(fs.path, "data")
    os.makedirs(datadir)
    logdir = tempfile.mkdtemp(prefix="paddock-it-df-log-")
    filler = fs.fill(64 << 10)  # snapshots of more than ~60 kB cannot be written
    srv = ServerProcess("paddock", datadir=datadir, name="diskfull-snap",
                        extra_cfg={"dataLogDir": logdir, "snapCount": "100",
                                   "preAllocSize": "1024"})
    try:
        srv.start()
        setup_tree(srv.port, 2).close()
        writers = [Writer(srv.port, i, 1000) for i in range(2)]
        for w in writers:
            w.start()
        time.sleep(0.5)
        # snapshots keep being tried (every 51..100 txns) and keep failing
        wait_until(lambda: log_text(srv).count(SNAP_FAILED) >= 2 or
                   any(w.failure for w in writers), 30, what="two failed snapshots")
        # and writes keep being acknowledged
        acked = sum(len(w.created) for w in writers)
        wait_until(lambda: sum(len(w.created) for w in writers) > acked + 200 or
                   any(w.failure for w in writers), 30, what="writes after the failures")
        for w in writers:
            w.stop = True
        for w in writers:
            w.join(20)
        assert not any(w.failure for w in writers), [w.failure for w in writers]
        text = log_text(srv)
        assert LOG_FAILED not in text
        assert srv.proc.poll() is None
        # a skipped snapshot (the previous writer still running) is said once
        # per snapCount window (51..100 txns here), not after every txn
        busy = text.count("Too busy to snap")
        last = int(re.findall(r"snapshot of zxid 0x([0-9a-f]+)", text)[-1], 16)
        assert busy <= last // 51 + 1, "%d 'Too busy to snap' for %d txns" % (busy, last)
        # nothing a reader could take for a snapshot: no file of a failed one
        failed = re.findall(r"Snapshot of zxid 0x([0-9a-f]+) failed", text)
        assert len(failed) >= 2
        v2 = os.path.join(datadir, "version-2")
        wait_until(lambda: not [n for n in os.listdir(v2) if n.startswith("tmp.")], 10,
                   what="the failed snapshots' temporary files to go")
        for z in failed:
            assert not os.path.exists(os.path.join(v2, "snapshot." + z)), z

        # restart: the log had everything
        srv.stop()
        srv.start()
        check_acknowledged(srv.port, writers)
        # with room again a snapshot succeeds
        os.unlink(filler)
        c = RawClient(srv.port)
        c.connect(timeout_ms=SESSION_MS)
        z = c.call(Op.EXISTS, enc_path_watch("/")).zxid
        c.close()
        name = os.path.join(v2, "snapshot.%x" % z)

        def snapped():
            if os.path.exists(name):
                return True
            srv.proc.send_signal(signal.SIGUSR1)
            return False

        wait_until(snapped, 15, interval=0.3, what=name)
        srv.restart()
        check_acknowledged(srv.port, writers)
        assert "snapshot.%x" % z in log_text(srv).split("loaded")[-1]
    except BaseException:
        print(srv.log_tail(60))
        raise
    finally:
        srv.cleanup()
        shutil.rmtree(logdir, ignore_errors=True)
