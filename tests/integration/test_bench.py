"""`paddock bench` (src/bench) against a real server: short runs (about a
second each) of the workloads, checking that the tool works and reports what
it did -- exit status, the RESULT line (loadgen's keys, in loadgen's order,
so bench/compare.sh can parse it), errors=0, and that the tree afterwards
holds what it says it created or deleted.  No timing is asserted.

Each test works under its own chroot (`--hosts 127.0.0.1:port/<test>`),
which bench creates itself, so the tests share one server.

Needs PADDOCK_BIN (the binary with the `bench` subcommand).
"""

import os
import re
import socket
import subprocess
import time

import pytest

from zkserver import ServerProcess

BENCH = os.environ.get("PADDOCK_BIN")

pytestmark = pytest.mark.skipif(not BENCH, reason="PADDOCK_BIN is not set")

# loadgen's RESULT keys, in its order (bench/loadgen.c); bench adds its own after them.
LOADGEN_KEYS = ["op", "clients", "depth", "ops", "ops_per_s", "p50_us", "p90_us",
                "p99_us", "p999_us", "max_us", "errors", "client_cpu_us_per_op"]
SERVER_KEYS = ["server_cpu_us_per_op", "server_rss_kb", "server_hwm_kb"]

KEYS = 200


def run_bench(*args, timeout=90, env=None):
    p = subprocess.run([BENCH, "bench"] + [str(a) for a in args],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p


def io_env(io):
    """The environment for a run whose sockets are served by `io`."""
    env = dict(os.environ)
    env.pop("PADDOCK_NO_URING", None)
    if io == "epoll":
        env["PADDOCK_NO_URING"] = "1"
    return env


def uring_allowed():
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() == "0"
    except OSError:
        return True


def result_of(p):
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    assert lines, "no RESULT line:\n%s\n%s" % (p.stdout, p.stderr)
    assert p.stdout.rstrip("\n").splitlines()[-1] == lines[-1], "RESULT is not last"
    pairs = [kv.split("=", 1) for kv in lines[-1].split()[1:]]
    return [k for k, _ in pairs], dict(pairs)


def short_run(server, chroot, op, *extra):
    return run_bench("--hosts", "%s/%s" % (server.hosts, chroot), "--op", op,
                     "--clients", 4, "--depth", 8, "--keys", KEYS,
                     "--duration", 1, "--warmup", 0.2, *extra)


def check_ok(p, op):
    assert p.returncode == 0, "rc=%d\n%s\n%s" % (p.returncode, p.stdout, p.stderr)
    keys, r = result_of(p)
    assert keys[:len(LOADGEN_KEYS)] == LOADGEN_KEYS
    assert r["op"] == op
    assert r["clients"] == "4" and r["depth"] == "8"
    assert int(r["ops"]) > 0
    assert float(r["ops_per_s"]) > 0
    assert r["errors"] == "0"
    assert float(r["client_cpu_us_per_op"]) >= 0
    assert float(r["p50_us"]) <= float(r["p99_us"]) <= float(r["max_us"])
    assert r["io"] in ("io_uring", "epoll")
    return keys, r


def bench_keys(zk, chroot):
    return sorted(c for c in zk.get_children("/%s/bench" % chroot) if c.startswith("k"))


@pytest.mark.parametrize("op", ["get", "exists", "children", "set", "multi", "mixed"])
def test_workload(server, zk, op):
    chroot = "t_" + op
    p = short_run(server, chroot, op, "--server-pid", server.proc.pid,
                  *(["--read-pct", 50] if op == "mixed" else []))
    keys, r = check_ok(p, op)
    # --server-pid adds loadgen's server keys right after its own.
    assert keys[len(LOADGEN_KEYS):len(LOADGEN_KEYS) + 3] == SERVER_KEYS
    assert float(r["server_cpu_us_per_op"]) >= 0 and int(r["server_rss_kb"]) > 0
    assert "setup    %d keys" % KEYS in p.stdout
    # Setup made the key space under the chroot, with --size bytes each.
    assert bench_keys(zk, chroot) == ["k%08d" % i for i in range(KEYS)]
    data, _ = zk.get("/%s/bench/k00000007" % chroot)
    assert len(data) == 100
    assert zk.exists("/%s/bench/seq" % chroot)
    if op in ("set", "multi", "mixed"):
        changed = [k for k in bench_keys(zk, chroot)
                   if zk.exists("/%s/bench/%s" % (chroot, k)).version > 0]
        assert changed, "no key was written"


@pytest.mark.parametrize("io", ["io_uring", "epoll"])
@pytest.mark.parametrize("depth,size", [(1, 100), (8, 20000)])
def test_io_paths(server, zk, io, depth, size):
    # Both ways of serving the sockets: io_uring (multishot receives into 8 KiB
    # buffers, so 20 kB replies arrive cut in pieces) and epoll with the
    # library's own reads and writes (PADDOCK_NO_URING=1).
    if io == "io_uring" and not uring_allowed():
        pytest.skip("io_uring is disabled on this kernel")
    chroot = "t_io_%s_%d" % (io, depth)
    p = run_bench("--hosts", "%s/%s" % (server.hosts, chroot), "--op", "mixed",
                  "--read-pct", 80, "--clients", 5, "--depth", depth, "--keys", 50,
                  "--size", size, "--duration", 1, "--warmup", 0.2, env=io_env(io))
    assert p.returncode == 0, "rc=%d\n%s\n%s" % (p.returncode, p.stdout, p.stderr)
    _, r = result_of(p)
    assert r["io"] == io
    assert r["errors"] == "0" and int(r["ops"]) > 0
    assert "sockets served by %s" % io in p.stdout
    data, _ = zk.get("/%s/bench/k00000003" % chroot)
    assert len(data) == size


@pytest.mark.parametrize("io", ["io_uring", "epoll"])
def test_server_killed_mid_run(io):
    # The connections end under the bench (end of stream on every socket):
    # it says so, fails, and still finishes in bounded time.
    if io == "io_uring" and not uring_allowed():
        pytest.skip("io_uring is disabled on this kernel")
    srv = ServerProcess(name="bench_kill_" + io)
    srv.start()
    try:
        args = ["--hosts", srv.hosts + "/t_kill", "--op", "get", "--clients", 4,
                "--depth", 4, "--keys", 50, "--duration", 4, "--warmup", 0]
        proc = subprocess.Popen(
            [BENCH, "bench"] + [str(a) for a in args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=io_env(io))
        time.sleep(1.5)
        srv.proc.kill()
        srv.proc.wait(timeout=10)
        out, err = proc.communicate(timeout=60)
    finally:
        srv.cleanup()
    assert proc.returncode == 1, out + err
    assert "lost its connection" in err
    _, r = result_of(subprocess.CompletedProcess([], 1, out, err))
    assert r["io"] == io
    assert int(r["disconnects"]) >= 1


def test_create_makes_sequential_nodes(server, zk):
    p = short_run(server, "t_create", "create", "--size", 10)
    _, r = check_ok(p, "create")
    created = int(r["created"])
    assert created >= int(r["ops"]) > 0
    assert "created  %d nodes" % created in p.stdout
    kids = zk.get_children("/t_create/bench/seq")
    assert len(kids) == created
    assert all(re.fullmatch(r"n-\d{10}", k) for k in kids)
    data, _ = zk.get("/t_create/bench/seq/" + kids[0])
    assert len(data) == 10


def test_delete_removes_setup_keys_in_order(server, zk):
    # No warm-up: the timed run deletes the keys from k00000000 on and ends
    # early when all are gone.
    n = 300
    p = run_bench("--hosts", "%s/t_delete" % server.hosts, "--op", "delete",
                  "--clients", 3, "--depth", 4, "--keys", n, "--duration", 2,
                  "--warmup", 0)
    assert p.returncode == 0, p.stdout + p.stderr
    _, r = result_of(p)
    deleted = int(r["deleted"])
    assert r["errors"] == "0" and 0 < deleted <= n
    assert int(r["ops"]) == deleted
    assert bench_keys(zk, "t_delete") == ["k%08d" % i for i in range(deleted, n)]
    # A second run's setup puts them back; --warmup eats keys too.
    p = run_bench("--hosts", "%s/t_delete" % server.hosts, "--op", "get",
                  "--clients", 2, "--keys", n, "--duration", 0.3, "--warmup", 0)
    assert p.returncode == 0, p.stdout + p.stderr
    assert bench_keys(zk, "t_delete") == ["k%08d" % i for i in range(n)]


def test_hosts_list_spreads_sessions(server, zk):
    # The same server twice: sessions alternate between the two entries.
    hosts = "%s,%s/t_multi_host" % (server.hosts, server.hosts)
    p = run_bench("--hosts", hosts, "--op", "get", "--clients", 3, "--depth", 2,
                  "--keys", 50, "--duration", 0.5, "--warmup", 0)
    _, r = result_of(p)
    assert p.returncode == 0 and r["errors"] == "0" and int(r["ops"]) > 0, p.stderr
    assert len(bench_keys(zk, "t_multi_host")) == 50


def test_no_setup_on_missing_keys_fails(server):
    # --no-setup against keys that do not exist: every get fails with NONODE.
    p = run_bench("--hosts", "%s/t_nosetup" % server.hosts, "--op", "get",
                  "--clients", 2, "--keys", 10, "--duration", 0.3, "--warmup", 0,
                  "--no-setup")
    assert p.returncode == 1, p.stdout + p.stderr
    _, r = result_of(p)
    assert int(r["errors"]) > 0
    assert "NONODE=" in p.stdout
    assert "requests failed" in p.stderr


def test_nobody_listening():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # bound, never listening: connects are refused
        t0 = time.monotonic()
        p = run_bench("--hosts", "127.0.0.1:%d" % port, "--clients", 2,
                      "--duration", 1, "--connect-timeout", 1500)
        took = time.monotonic() - t0
    assert p.returncode == 1, p.stdout + p.stderr
    assert "could not connect" in p.stderr and "127.0.0.1:%d" % port in p.stderr
    assert "RESULT" not in p.stdout
    assert took < 30


@pytest.mark.parametrize("args,what", [
    (["--bogus"], "unrecognized option"),
    (["--op", "get"], "--hosts is required"),
    (["--hosts", "127.0.0.1:1", "--op", "frobnicate"], "unknown workload"),
    (["--hosts", "127.0.0.1:1", "--clients", "0"], "--clients"),
    (["--hosts", "127.0.0.1:1", "--depth", "x"], "--depth"),
    (["--hosts", "127.0.0.1:1", "--read-pct", "101"], "--read-pct"),
    (["--hosts", "127.0.0.1:1", "--duration", "-1"], "--duration"),
    (["--hosts", "127.0.0.1:1", "--server-pid", "1,x"], "--server-pid"),
    (["--hosts", "127.0.0.1:1", "extra"], "unexpected argument"),
])
def test_bad_flags(args, what):
    p = run_bench(*args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert what in p.stderr
    assert "usage: paddock bench" in p.stderr
    assert p.stdout == ""


def test_bad_hosts_string():
    p = run_bench("--hosts", "no-such-host.invalid:2181", "--duration", 0.5)
    assert p.returncode != 0
    assert "--hosts" in p.stderr


def test_help():
    p = run_bench("--help")
    assert p.returncode == 0
    assert "usage: paddock bench" in p.stdout
