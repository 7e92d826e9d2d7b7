"""Linearizability and lost-write checking for ZooKeeper-style fault runs.

History: a list of Op records, one per client operation, with the call time,
the return time (None when the outcome is unknown: timeout, ConnectionLoss,
session loss -- the op may or may not have taken effect, now or later) and
the result.  Each znode is an independent register with a version (the
model is compositional: a history is linearizable iff every key's
sub-history is), so each key is checked on its own.

Model of one znode: None (absent) or (value, version).
  create v       ok       : None -> (v, 0)
                 exists   : requires not None
  cas ev v       ok       : (x, ev) -> (v, ev + 1)
                 badversion: requires not None and version != ev
                 nonode   : requires None
  read           (v, ver) or None: must equal the state      [only checked
                 when reads=True: ZooKeeper reads are not linearizable (a
                 follower may lag), so the fault runs check reads only for
                 phantoms, see check_reads]

Search: Wing & Gong / Lowe style depth-first search over "which op
linearizes next" with memoisation of (set of linearized ops, state), as
Porcupine and Knossos do.  An op may go next if it was called before every
still-pending op with a known return returned.  Ops with an unknown outcome
may linearize at any point after their call, or never.  The search is
exponential in the worst case; keep each key's history short (<= ~200 ops,
modest concurrency) and it is bounded by `budget` states (on exhaustion the
verdict is "unknown", never "ok").

Also here: the fault-run workload (Workload), the nemesis (Nemesis), and a
command line for long runs by hand:
  PADDOCK_BIN=build/paddock /usr/bin/python3 linearize.py --seconds 600 \
      --servers 5 --seed 1234
"""

import random
import sys
import threading
import time


class Op:
    __slots__ = ("id", "proc", "key", "f", "arg", "call", "ret", "status",
                 "result")

    def __init__(self, id, proc, key, f, arg, call):
        self.id = id
        self.proc = proc
        self.key = key
        self.f = f              # "create" | "cas" | "read"
        self.arg = arg          # create: v; cas: (ev, v); read: None
        self.call = call
        self.ret = None         # None: unknown outcome (info)
        self.status = None      # "ok" | "fail" | "info"
        self.result = None      # create: "ok"|"exists"; cas: "ok"|
                                # "badversion"|"nonode"; read: state

    def __repr__(self):
        return "Op(%d p%s %s %s %r -> %s %r @%.3f..%s)" % (
            self.id, self.proc, self.key, self.f, self.arg, self.status,
            self.result, self.call,
            "%.3f" % self.ret if self.ret is not None else "?")


def step(state, op, reads):
    """The model: the new state if `op` with its recorded result can happen
    in `state`, else the sentinel _NO.  Unknown-outcome ops are tried as if
    they succeeded (a failed-and-unknown op that had no effect is the
    'never linearized' branch)."""
    f = op.f
    res = op.result if op.status != "info" else "ok"
    if f == "create":
        if res == "ok":
            return (op.arg, 0) if state is None else _NO
        return state if state is not None else _NO       # exists
    if f == "cas":
        ev, v = op.arg
        if res == "ok":
            if state is not None and state[1] == ev:
                return (v, ev + 1)
            return _NO
        if res == "badversion":
            return state if state is not None and state[1] != ev else _NO
        return state if state is None else _NO           # nonode
    if f == "read":
        if op.status == "info":
            return state
        return state if state == op.result else _NO
    raise ValueError(op.f)


_NO = object()


class Verdict:
    def __init__(self, ok, key, detail="", explored=0):
        self.ok = ok            # True, False, or None (budget exhausted)
        self.key = key
        self.detail = detail
        self.explored = explored

    def __repr__(self):
        return "Verdict(%s, %s, %s)" % (self.key, self.ok, self.detail)


def check_key(ops, initial=None, reads=False, budget=2_000_000, key=None):
    """Is this single-key history linearizable?  ops: Op list (any order)."""
    ops = [o for o in ops if o.status in ("ok", "fail", "info")]
    # Reads take part only when asked for, except the final reads (proc
    # "final", made after healing and every op) which always do.
    ops = [o for o in ops if o.f != "read" or
           (o.status == "ok" and (reads or o.proc == "final"))]
    # An op that failed definitely without a model-visible answer does not
    # take part (none exist today: create/cas failures all carry one).
    ops = sorted(ops, key=lambda o: o.call)
    n = len(ops)
    INF = float("inf")
    rets = [o.ret if o.status != "info" else INF for o in ops]
    calls = [o.call for o in ops]
    must = 0
    for i, o in enumerate(ops):
        if o.status != "info":
            must |= 1 << i
    seen = set()
    explored = 0
    # Iterative DFS: (done_mask, state)
    stack = [(0, initial)]
    best = (0, None)
    while stack:
        done, state = stack.pop()
        if (done & must) == must:
            return Verdict(True, key, "", explored)
        if (done, state) in seen:
            continue
        seen.add((done, state))
        explored += 1
        if explored > budget:
            return Verdict(None, key, "search budget exhausted", explored)
        cnt = bin(done & must).count("1")
        if cnt > best[0]:
            best = (cnt, done)
        # earliest return among pending definite ops
        min_ret = INF
        for i in range(n):
            if not (done >> i) & 1 and rets[i] < min_ret:
                min_ret = rets[i]
        for i in range(n):
            if (done >> i) & 1:
                continue
            if calls[i] > min_ret:
                break              # sorted by call: nobody later qualifies
            ns = step(state, ops[i], reads)
            if ns is _NO:
                continue
            stack.append((done | (1 << i), ns))
    # Not linearizable: report the ops pending at the deepest point reached.
    done = best[1] or 0
    pend = [ops[i] for i in range(n) if not (done >> i) & 1 and
            ops[i].status != "info"][:6]
    return Verdict(False, key, "stuck after %d of %d definite ops; next "
                   "pending: %r" % (best[0], bin(must).count("1"), pend),
                   explored)


def check_history(history, reads=False, budget=2_000_000):
    keys = {}
    for o in history:
        keys.setdefault(o.key, []).append(o)
    return {k: check_key(v, reads=reads, budget=budget, key=k)
            for k, v in sorted(keys.items())}


def check_lost_writes(history, final):
    """final: key -> state read on every server after healing (they must
    agree before this is called).  Every acknowledged create must have left
    the node; an acknowledged cas ev must have brought the version past ev;
    the version must count at least the acknowledged cas ops; every value in
    a final state must have been written by some op.  Returns a list of
    problems (empty: none lost)."""
    problems = []
    acked = {}
    written = {}
    for o in history:
        if o.f == "create":
            written.setdefault(o.key, {})[o.arg] = 0
        elif o.f == "cas":
            written.setdefault(o.key, {})[o.arg[1]] = o.arg[0] + 1
        if o.status == "ok" and o.result == "ok" and o.f in ("create", "cas"):
            acked.setdefault(o.key, []).append(o)
    for key, ops in acked.items():
        st = final.get(key)
        if st is None:
            problems.append("%s: acknowledged %r but the node is gone" % (
                key, ops[0]))
            continue
        ncas = 0
        for o in ops:
            if o.f == "cas":
                ncas += 1
                if st[1] < o.arg[0] + 1:
                    problems.append("%s: final version %d but acknowledged "
                                    "%r" % (key, st[1], o))
        if st[1] < ncas:
            problems.append("%s: final version %d < %d acknowledged sets" % (
                key, st[1], ncas))
    for key, st in final.items():
        if st is None:
            continue
        w = written.get(key, {})
        if st[0] not in w or w[st[0]] != st[1]:
            problems.append("%s: final state %r was never written" % (key, st))
    return problems


def check_reads(history):
    """ZooKeeper reads may be stale but never invented: every ok read
    returns a (value, version) some op wrote (with that version), and one
    client never sees a key's version go backwards (its session only moves
    to servers at least as recent)."""
    problems = []
    written = {}
    for o in history:
        if o.f == "create":
            written.setdefault(o.key, {})[o.arg] = 0
        elif o.f == "cas":
            written.setdefault(o.key, {})[o.arg[1]] = o.arg[0] + 1
    last = {}
    for o in sorted(history, key=lambda o: o.call):
        if o.f != "read" or o.status != "ok" or o.result is None:
            continue
        v, ver = o.result
        if written.get(o.key, {}).get(v) != ver:
            problems.append("phantom read %r" % o)
        k = (o.proc, o.key)
        if k in last and ver < last[k]:
            problems.append("client %s saw %s go back to version %d after "
                            "%d: %r" % (o.proc, o.key, ver, last[k], o))
        last[k] = max(ver, last.get(k, -1))
    return problems


# --------------------------------------------------------------------------
# The workload: concurrent kazoo clients on a few keys.

class Workload:
    """n_clients threads, each with its own kazoo session on one server (or
    roaming over all), doing on `keys` znodes: create (racing), read, and
    read-then-cas.  Every write value is unique.  At most max_ops_per_key
    ops per key are issued."""

    def __init__(self, ensemble, rng, n_clients=6, n_keys=4,
                 max_ops_per_key=180, op_timeout=3.0, base="/lin",
                 seconds=30.0):
        self.ens = ensemble
        self.rng = rng
        self.n_clients = n_clients
        self.keys = ["%s/k%d" % (base, i) for i in range(n_keys)]
        self.base = base
        self.max_ops = max_ops_per_key
        self.op_timeout = op_timeout
        self.history = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.counts = {k: 0 for k in self.keys}
        self.stop_flag = threading.Event()
        self.threads = []
        self.clients = []
        self.seq = 0
        self.errors = []
        # Spread the op budget over the run: mean pause between two ops of
        # one client.
        self.pause = 1.6 * n_clients * seconds / float(n_keys *
                                                       max_ops_per_key)

    def now(self):
        return time.monotonic() - self.t0

    def _client(self, i):
        from kazoo.client import KazooClient
        members = self.ens.members
        if i % 2 == 0:
            hosts = members[(i // 2) % len(members)].hosts     # pinned
        else:
            hosts = ",".join(m.hosts for m in members)        # roaming
        zk = KazooClient(hosts=hosts, timeout=4.0,
                         connection_retry={"max_tries": -1, "delay": 0.05,
                                           "max_delay": 0.3},
                         command_retry=None)
        return zk

    def setup(self):
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=",".join(m.hosts for m in self.ens.members),
                         timeout=6.0)
        zk.start(timeout=20)
        zk.ensure_path(self.base)
        zk.stop()
        zk.close()

    def start(self):
        for i in range(self.n_clients):
            zk = self._client(i)
            self.clients.append(zk)
            t = threading.Thread(target=self._run, args=(i, zk,
                                 random.Random(self.rng.random())),
                                 daemon=True)
            self.threads.append(t)
        for zk in self.clients:
            try:
                zk.start(timeout=15)
            except Exception as e:  # started later by kazoo's own retry
                self.errors.append("start: %r" % e)
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=self.op_timeout + 5)
        for zk in self.clients:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass

    def _record(self, proc, key, f, arg):
        with self.lock:
            if self.counts[key] >= self.max_ops:
                return None
            self.counts[key] += 1
            self.seq += 1
            op = Op(self.seq, proc, key, f, arg, self.now())
            self.history.append(op)
            return op

    def _val(self, proc):
        with self.lock:
            self.seq += 1
            return b"p%d-%d" % (proc, self.seq)

    def _run(self, proc, zk, rng):
        from kazoo.exceptions import (NodeExistsError, BadVersionError,
                                      NoNodeError)
        while not self.stop_flag.is_set():
            open_keys = [k for k in self.keys if self.counts[k] < self.max_ops]
            if not open_keys:
                return
            key = rng.choice(open_keys)
            if not zk.connected:
                time.sleep(0.05)
                continue
            r = rng.random()
            if r < 0.15:
                v = self._val(proc)
                op = self._record(proc, key, "create", v)
                if op is None:
                    continue
                try:
                    zk.create_async(key, v).get(timeout=self.op_timeout)
                    self._done(op, "ok", "ok")
                except NodeExistsError:
                    self._done(op, "fail", "exists")
                except Exception:
                    self._done(op, "info", None)
            else:
                op = self._record(proc, key, "read", None)
                if op is None:
                    continue
                try:
                    data, stat = zk.get_async(key).get(timeout=self.op_timeout)
                    self._done(op, "ok", (data, stat.version))
                except NoNodeError:
                    self._done(op, "ok", None)
                    continue
                except Exception:
                    self._done(op, "info", None)
                    continue
                if r < 0.35:
                    continue                    # a plain read
                ev = stat.version
                if rng.random() < 0.1:
                    ev = max(0, ev - 1)         # a stale compare now and then
                v = self._val(proc)
                op = self._record(proc, key, "cas", (ev, v))
                if op is None:
                    continue
                try:
                    zk.set_async(key, v, ev).get(timeout=self.op_timeout)
                    self._done(op, "ok", "ok")
                except BadVersionError:
                    self._done(op, "fail", "badversion")
                except NoNodeError:
                    self._done(op, "fail", "nonode")
                except Exception:
                    self._done(op, "info", None)
            time.sleep(rng.random() * 2 * self.pause)

    def _done(self, op, status, result):
        op.status = status
        op.result = result
        if status != "info":
            op.ret = self.now()

    def final_states(self, timeout=30.0):
        """Sync-reads every key on every server; returns (states, per-server
        views).  Retries until the servers agree or the timeout passes."""
        from kazoo.client import KazooClient
        from kazoo.exceptions import NoNodeError
        deadline = time.time() + timeout
        views = {}
        while True:
            views = {}
            for m in self.ens.members:
                zk = KazooClient(hosts=m.hosts, timeout=6.0)
                try:
                    zk.start(timeout=10)
                    view = {}
                    for k in self.keys:
                        zk.sync(k)
                        try:
                            d, st = zk.get(k)
                            view[k] = (d, st.version)
                        except NoNodeError:
                            view[k] = None
                    views[m.sid] = view
                except Exception as e:
                    views[m.sid] = "error %r" % e
                finally:
                    try:
                        zk.stop()
                        zk.close()
                    except Exception:
                        pass
            vals = list(views.values())
            if all(v == vals[0] for v in vals) and isinstance(vals[0], dict):
                return vals[0], views
            if time.time() > deadline:
                return None, views
            time.sleep(0.5)


# --------------------------------------------------------------------------
# The nemesis: one fault at a time, always healed before the next.

class Nemesis:
    """Faults on a netproxy.ProxiedEnsemble: kill -9 (then restart), SIGSTOP
    (then SIGCONT), isolate one server, split the ensemble into a minority
    and a majority, one-way block, reset a link, and the leader-targeted
    variants.  Returns a log of (time, what)."""

    KINDS = ["kill", "kill_leader", "pause", "pause_leader", "isolate",
             "isolate_leader", "split", "oneway", "drop"]

    def __init__(self, ens, rng, now, kinds=None):
        self.ens = ens
        self.rng = rng
        self.now = now
        self.kinds = kinds or self.KINDS
        self.log = []
        self.counts = {}

    def leader(self):
        for m in self.ens.members:
            if m.proc and m.mode() == "leader":
                return m
        return None

    def one(self, hold):
        ens, rng = self.ens, self.rng
        kind = rng.choice(self.kinds)
        target = None
        if kind.endswith("_leader"):
            target = self.leader()
        if target is None:
            target = rng.choice(ens.members)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        what = "%s s%d" % (kind, target.sid)
        undo = None
        if kind.startswith("kill"):
            target.kill9()
            undo = target.start
        elif kind.startswith("pause"):
            ens.pause(target)
            undo = lambda: ens.resume(target)  # noqa: E731
        elif kind.startswith("isolate"):
            ens.isolate(target.sid)
            undo = ens.heal
        elif kind == "split":
            sids = list(ens.sids)
            rng.shuffle(sids)
            k = (len(sids) - 1) // 2
            ens.net.partition(sids[:k], sids[k:])
            what = "split %s | %s" % (sids[:k], sids[k:])
            undo = ens.heal
        elif kind == "oneway":
            other = rng.choice([s for s in ens.sids if s != target.sid])
            ens.net.block(target.sid, other)
            what = "oneway s%d -> s%d" % (target.sid, other)
            undo = ens.heal
        elif kind == "drop":
            for s in ens.sids:
                if s != target.sid:
                    ens.net.drop(target.sid, s)
        self.log.append((self.now(), what))
        print("nemesis %7.2f %s (hold %.1fs)" % (self.now(), what, hold),
              flush=True)
        time.sleep(hold)
        if undo:
            undo()
        self.log.append((self.now(), "heal " + what))


def run(ens, seed, seconds, n_clients=6, n_keys=4, max_ops_per_key=180,
        out=sys.stdout, kinds=None):
    """A fault run on a started ProxiedEnsemble.  Returns a result dict."""
    rng = random.Random(seed)
    wl = Workload(ens, rng, n_clients=n_clients, n_keys=n_keys,
                  max_ops_per_key=max_ops_per_key, seconds=seconds)
    wl.setup()
    wl.start()
    nem = Nemesis(ens, rng, wl.now, kinds=kinds)
    t_end = time.monotonic() + seconds
    try:
        time.sleep(1.0)
        while time.monotonic() < t_end and \
                any(c < max_ops_per_key for c in wl.counts.values()):
            nem.one(hold=rng.uniform(0.5, 2.5))
            time.sleep(rng.uniform(0.5, 1.5))
    finally:
        ens.heal()
        for m in ens.members:
            ens.resume(m)
            if m.proc is None:
                m.start()
    ens.wait_serving(timeout=30)
    time.sleep(1.0)
    wl.stop()
    final, views = wl.final_states()
    hist = wl.history
    res = {"seed": seed, "ops": len(hist), "nemesis": nem.log,
           "nemesis_counts": nem.counts, "views": views, "final": final,
           "history": hist}
    res["ok_ops"] = sum(1 for o in hist if o.status == "ok")
    res["fail_ops"] = sum(1 for o in hist if o.status == "fail")
    res["info_ops"] = sum(1 for o in hist if o.status == "info")
    res["acked_writes"] = sum(1 for o in hist if o.status == "ok" and
                              o.f in ("create", "cas"))
    if final is None:
        res["diverged"] = True
        res["verdicts"] = {}
        res["lost"] = ["servers disagree after healing: %r" % views]
        res["read_problems"] = []
        return res
    res["diverged"] = False
    full = list(hist)
    tend = wl.now() + 1
    for k in wl.keys:   # the final state: a definite read after everything
        o = Op(-1, "final", k, "read", None, tend)
        o.status, o.result, o.ret = "ok", final[k], tend + 1
        full.append(o)
    res["verdicts"] = check_history(full, reads=False)
    res["lost"] = check_lost_writes(hist, final)
    res["read_problems"] = check_reads(hist)
    return res


def summary(res):
    lines = ["seed %d: %d ops (%d ok, %d fail, %d info), %d acknowledged "
             "writes" % (res["seed"], res["ops"], res["ok_ops"],
                         res["fail_ops"], res["info_ops"],
                         res["acked_writes"])]
    lines.append("nemesis: %r" % res["nemesis_counts"])
    for k, v in res["verdicts"].items():
        lines.append("  %s: linearizable=%s explored=%d %s" % (
            k, v.ok, v.explored, v.detail))
    for p in res["lost"] + res["read_problems"]:
        lines.append("  PROBLEM: " + p)
    return "\n".join(lines)


def main(argv):
    import argparse
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from netproxy import ProxiedEnsemble
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--servers", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--keys", type=int, default=4)
    ap.add_argument("--ops-per-key", type=int, default=180)
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    totals = {"rounds": 0, "ops": 0, "acked": 0, "bad": 0, "unknown": 0}
    for r in range(a.rounds):
        s = seed + r
        ens = ProxiedEnsemble(["paddock"] * a.servers)
        try:
            ens.start()
            ens.wait_serving(timeout=30)
            res = run(ens, s, a.seconds, n_clients=a.clients,
                      n_keys=a.keys, max_ops_per_key=a.ops_per_key)
        finally:
            ens.cleanup()
        print(summary(res))
        for t, w in res["nemesis"]:
            print("    %7.2f %s" % (t, w))
        totals["rounds"] += 1
        totals["ops"] += res["ops"]
        totals["acked"] += res["acked_writes"]
        bad = (res["lost"] or res["read_problems"] or
               any(v.ok is False for v in res["verdicts"].values()))
        totals["bad"] += bool(bad)
        totals["unknown"] += sum(1 for v in res["verdicts"].values()
                                 if v.ok is None)
        sys.stdout.flush()
    print("TOTAL %r (first seed %d)" % (totals, seed))
    return 1 if totals["bad"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
