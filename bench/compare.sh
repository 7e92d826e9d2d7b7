#!/usr/bin/env bash
# Paddock vs Apache ZooKeeper 3.8, side by side, with `paddock bench` as the
# client for both (or bench/loadgen with --loadgen).
#
# Starts one standalone server at a time on 127.0.0.1 (a free port each, its own
# temporary dataDir, the same zoo.cfg for both), warms it up, runs every
# workload cell with the client, stops it (by the PID this script started), and
# repeats for the next server. Servers alternate order between repetitions so
# that slow drift on the (shared) machine does not favour one of them. At the
# end it prints Markdown tables of the medians over the repetitions.
#
# Servers ("targets"):
#   zookeeper         Apache ZooKeeper 3.8 (Debian package), default settings:
#                     fsyncs its txn log before acknowledging each write batch
#   paddock           build/paddock with the same zoo.cfg. Builds before commit
#                     c90a2ca keep data in memory only (no log, no fsync), so
#                     their writes are NOT comparable to Apache's; from c90a2ca
#                     on Paddock fsyncs its txn log (group commit) like Apache
#   zookeeper-nosync  Apache with forceSync=no: still writes its txn log, but
#                     does not fsync it; run for the write workloads only, as
#                     the fairer write comparison for an in-memory Paddock
#
# Clients ("--client"):
#   bench             `paddock bench` (src/bench, on libpaddock; default): the
#                     binary of --bench, by default the --paddock binary
#   loadgen           bench/loadgen (raw wire protocol, the tool used before
#                     paddock bench existed); --loadgen BIN selects it too
# Both take the same flags and print the same RESULT line; both run beside the
# server on the same machine, so their own CPU per op is in the tables.
#
# Cells: workloads get, exists, set, create, mixed (90% get / 10% set), 100-byte
# values on 10000 keys, for each clients:depth pair (default 16:1 16:32 64:1
# 64:32). Server CPU per op is utime+stime of the server process (all threads,
# /proc/PID/stat) over the timed run divided by the ops completed in it; the
# client reads it (--server-pid). RSS is the server's VmRSS after the cell; the
# peak (VmHWM) of each server instance is reported separately.
#
# Ensembles ("--ensemble N", N >= 3; default off = the standalone run above):
# instead of one standalone server, each target runs as an N-server ensemble on
# 127.0.0.1 (free client, quorum and election ports and a dataDir with myid
# per server; the same zoo.cfg settings as the standalone run plus the lines
# server.I=127.0.0.1:QUORUM:ELECTION; Apache as QuorumPeerMain). It waits until
# every server answers `srvr` with Mode: leader/follower and exactly one leads,
# then warms up and runs the cells with `paddock bench --hosts` over all N
# servers (sessions spread round-robin, so most talk to a follower and writes
# are forwarded to the leader) and `--server-pid` over all N: server CPU per op
# is summed over the N processes, the per-cell RSS is the sum of their VmRSS,
# and the peak RSS (VmHWM) is reported per server (leader, followers), max and
# sum. Default targets there: zookeeper paddock. Only --client bench.
#
# usage: bench/compare.sh [--quick] [--reps N] [--duration S] [--warmup S]
#            [--jvm-warmup S] [--cells "16:1 64:32"] [--ops "get set"]
#            [--targets "zookeeper paddock zookeeper-nosync"]
#            [--ensemble 3] [--ensemble-timeout S]
#            [--paddock BIN] [--client bench|loadgen] [--bench BIN]
#            [--loadgen BIN] [--out DIR]
#        bench/compare.sh --summarize DIR   (print the tables of an earlier run)
#
# --ensemble-timeout S: how long an ensemble may take to elect and serve
# (default 120 s; three JVMs starting on 2 CPUs are slow).
#
# Default: 3 repetitions x (20 + 20 + 12) cells of 2 s (+0.5 s warm-up each),
# plus a warm-up of each server instance (Apache: --jvm-warmup, 15 s; Paddock:
# 2 s): about 10 minutes. --quick: 1 repetition, cells 16:1 and 64:32, 1 s each:
# about 1 minute. Results (raw TSV, per-run logs, server logs, results.md) go to
# --out (default ${TMPDIR:-/tmp}/paddock-bench-<date>). Without --paddock (and
# --bench / --loadgen) the binaries are built in build-bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

REPS=3
DURATION=2
WARMUP=0.5
JVM_WARMUP=15
PADDOCK_WARMUP=2
CELLS="16:1 16:32 64:1 64:32"
OPS="get exists set mixed create"
TARGETS="zookeeper paddock zookeeper-nosync"
TARGETS_SET=""
ENSEMBLE=1
ENSEMBLE_TIMEOUT=120
KEYS=10000
SIZE=100
PADDOCK=""
CLIENT=bench
BENCH=""
LOADGEN=""
OUT=""
SUMMARIZE_ONLY=""

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) REPS=1; DURATION=1; WARMUP=0.3; JVM_WARMUP=4; PADDOCK_WARMUP=1; CELLS="16:1 64:32" ;;
    --reps) REPS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --jvm-warmup) JVM_WARMUP=$2; shift ;;
    --cells) CELLS=$2; shift ;;
    --ops) OPS=$2; shift ;;
    --targets) TARGETS=$2; TARGETS_SET=1; shift ;;
    --ensemble) ENSEMBLE=$2; shift ;;
    --ensemble-timeout) ENSEMBLE_TIMEOUT=$2; shift ;;
    --paddock) PADDOCK=$2; shift ;;
    --client) CLIENT=$2; shift ;;
    --bench) BENCH=$2; shift ;;
    --loadgen) LOADGEN=$2; CLIENT=loadgen; shift ;;
    --out) OUT=$2; shift ;;
    --summarize) OUT=$2; SUMMARIZE_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ "$ENSEMBLE" =~ ^[0-9]+$ ]] || [ "$ENSEMBLE" -lt 1 ] || [ "$ENSEMBLE" -eq 2 ] \
        || [ "$ENSEMBLE" -gt 9 ]; then
    echo "compare.sh: --ensemble wants 3..9 servers (1 = standalone, the default)" >&2
    exit 2
fi
if [ "$ENSEMBLE" -gt 1 ] && [ -z "$TARGETS_SET" ]; then
    TARGETS="zookeeper paddock"
fi

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- summary ---------------------------------------------------------------

# Medians over the repetitions, as Markdown. Ratios are Paddock / Apache.
summarize() {
    python3 - "$OUT" <<'EOF'
import csv, math, os, statistics, sys

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "raw.tsv")), delimiter="\t"))
# Servers per target: 1 = standalone; written by --ensemble N runs.
ens = 1
if os.path.exists(os.path.join(out, "ensemble.txt")):
    ens = int(open(os.path.join(out, "ensemble.txt")).read().split()[0])
ENS = "%d-node ensemble: " % ens if ens > 1 else ""
NUM = ["ops_per_s", "p50_us", "p99_us", "p999_us", "srv_cpu_us_per_op", "lg_cpu_us_per_op",
       "rss_kb", "loadavg1"]
cells, bad = {}, []
for r in rows:
    key = (r["target"], r["op"], int(r["clients"]), int(r["depth"]))
    if r["rc"] != "0" or (r["errors"] not in ("", "0")):
        bad.append("%s %s c=%s d=%s rep %s: rc=%s errors=%s" % (
            r["target"], r["op"], r["clients"], r["depth"], r["rep"], r["rc"], r["errors"]))
    if r["ops_per_s"] == "":
        continue
    c = cells.setdefault(key, {k: [] for k in NUM})
    for k in NUM:
        if r.get(k) not in (None, ""):
            c[k].append(float(r[k]))

def med(t, op, cl, d, k):
    c = cells.get((t, op, cl, d))
    return statistics.median(c[k]) if c and c[k] else None

def n(c, nd=0):
    if c is None:
        return "–"
    if nd == 0 and c >= 10000:
        return "{:,.0f}".format(c).replace(",", " ")
    return "%.*f" % (nd, c)

def ratio(a, b, nd=2):
    if a is None or not b:
        return "–"
    return "%.*f×" % (nd, a / b)

ops_order = ["get", "exists", "set", "mixed", "create"]
keys = sorted({(op, cl, d) for (_, op, cl, d) in cells},
              key=lambda k: (ops_order.index(k[0]) if k[0] in ops_order else 9, k[1], k[2]))
WRITES = {"set", "create", "mixed"}

def table(base, title, only=None):
    print("### " + ENS + title + "\n")
    if ens > 1:
        print("Sessions spread round-robin over the %d servers (`paddock bench --hosts`); "
              "server CPU µs/op is the sum over the %d server processes; RSS is the sum of "
              "their VmRSS after the cell.\n" % (ens, ens))
    print("| workload | clients | depth | %s ops/s | Paddock ops/s | Pd/ZK ops | "
          "%s p50 µs | Pd p50 µs | %s p99 µs | Pd p99 µs | Pd/ZK p99 | "
          "%s CPU µs/op | Pd CPU µs/op | Pd/ZK CPU | client µs/op ZK / Pd | "
          "RSS MB ZK / Pd |" % ((base[1],) * 4))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for op, cl, d in keys:
        if only and op not in only:
            continue
        z = lambda k: med(base[0], op, cl, d, k)
        p = lambda k: med("paddock", op, cl, d, k)
        if z("ops_per_s") is None and p("ops_per_s") is None:
            continue
        rss = lambda v: n(v / 1024) if v is not None else "–"
        mark = "†" if (op in WRITES and base[0] == "zookeeper") else ""
        print("| %s%s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | "
              "%s / %s | %s / %s |" % (
                  op, mark, cl, d, n(z("ops_per_s")), n(p("ops_per_s")),
                  ratio(p("ops_per_s"), z("ops_per_s"), 1),
                  n(z("p50_us")), n(p("p50_us")), n(z("p99_us")), n(p("p99_us")),
                  ratio(p("p99_us"), z("p99_us")),
                  n(z("srv_cpu_us_per_op"), 1), n(p("srv_cpu_us_per_op"), 1),
                  ratio(p("srv_cpu_us_per_op"), z("srv_cpu_us_per_op")),
                  n(z("lg_cpu_us_per_op"), 1), n(p("lg_cpu_us_per_op"), 1),
                  rss(z("rss_kb")), rss(p("rss_kb"))))
    print()

have = {t for (t, _, _, _) in cells}
print("## %sMedians of %d repetition(s)\n" % (ENS, len({r["rep"] for r in rows})))
if "zookeeper" in have:
    table(("zookeeper", "ZK"), "Paddock vs Apache ZooKeeper 3.8, default settings "
          "(† = write workload: Apache fsyncs its txn log before acknowledging; so does "
          "Paddock from commit c90a2ca on, builds before it keep data in memory only)")
if "zookeeper-nosync" in have:
    table(("zookeeper-nosync", "ZK nosync"), "Writes: Paddock vs Apache with "
          "forceSync=no (txn log written, not fsynced)", only=WRITES)

# Project targets: reads vs default Apache; writes both vs default Apache (the fair one
# for a durable Paddock) and vs forceSync=no (the fairer one for an in-memory Paddock).
groups = [("reads (get, exists)", "zookeeper", {"get", "exists"}, 3.0),
          ("writes (set, create) vs default (fsync)", "zookeeper", {"set", "create"}, 2.0),
          ("writes (set, create) vs forceSync=no", "zookeeper-nosync", {"set", "create"}, 2.0),
          ("mixed 90/10 vs default (fsync)", "zookeeper", {"mixed"}, 2.0),
          ("mixed 90/10 vs forceSync=no", "zookeeper-nosync", {"mixed"}, 2.0)]
print("### %sAgainst the project's targets (medians per cell; min / geometric mean / max "
      "over the cells)\n" % ENS)
print("| group | cells | throughput (target) | met | p99 Pd/ZK (target ≤ 0.5) | met | "
      "server CPU Pd/ZK (target ≤ 0.33) | met |")
print("|---|---:|---|---:|---|---:|---|---:|")
def stats(v):
    if not v:
        return "–"
    g = math.exp(sum(math.log(x) for x in v) / len(v))
    return "%.2f / %.2f / %.2f" % (min(v), g, max(v))
for name, base, opset, tgt in groups:
    thr, p99, cpu = [], [], []
    for op, cl, d in keys:
        if op not in opset:
            continue
        zt, pt = med(base, op, cl, d, "ops_per_s"), med("paddock", op, cl, d, "ops_per_s")
        if not zt or not pt:
            continue
        thr.append(pt / zt)
        zp, pp = med(base, op, cl, d, "p99_us"), med("paddock", op, cl, d, "p99_us")
        if zp and pp:
            p99.append(pp / zp)
        zc, pc = (med(base, op, cl, d, "srv_cpu_us_per_op"),
                  med("paddock", op, cl, d, "srv_cpu_us_per_op"))
        if zc and pc:
            cpu.append(pc / zc)
    if not thr:
        continue
    print("| %s | %d | %s (≥ %.0f×) | %d/%d | %s | %d/%d | %s | %d/%d |" % (
        name, len(thr), stats(thr), tgt, sum(x >= tgt for x in thr), len(thr),
        stats(p99), sum(x <= 0.5 for x in p99), len(p99),
        stats(cpu), sum(x <= 1 / 3 for x in cpu), len(cpu)))
print()

hwm = list(csv.DictReader(open(os.path.join(out, "peak_rss.tsv")), delimiter="\t"))
if hwm and ens > 1:
    # One row per server instance, with its role when the target was stopped.
    print("### %sPeak RSS (VmHWM) per server, median over repetitions\n" % ENS)
    print("| server | leader MB | %s | max MB | sum MB |" % " | ".join(
        ["follower MB"] * (ens - 1)))
    print("|---|" + "---:|" * (ens + 2))
    per = {}
    for r in hwm:
        if r["peak_rss_kb"] in ("", "-1"):
            continue
        per.setdefault((r["target"], r["rep"]), []).append(
            (r.get("role") or "?", float(r["peak_rss_kb"]) / 1024))
    by = {}
    for (t, _), v in per.items():
        lead = [m for role, m in v if role == "leader"]
        rest = sorted((m for role, m in v if role != "leader"), reverse=True)
        cols = (lead[:1] or [None]) + rest
        cols = (cols + [None] * ens)[:ens]
        have_all = len(v) == ens
        cols += [max(m for _, m in v), sum(m for _, m in v) if have_all else None]
        by.setdefault(t, []).append(cols)
    for t, reps in sorted(by.items()):
        meds = []
        for i in range(ens + 2):
            xs = [c[i] for c in reps if c[i] is not None]
            meds.append("%.0f" % statistics.median(xs) if xs else "–")
        print("| %s | %s |" % (t, " | ".join(meds)))
    print()
elif hwm:
    print("### Peak RSS (VmHWM) of each server instance, median over repetitions\n")
    print("| server | peak RSS MB |")
    print("|---|---:|")
    by = {}
    for r in hwm:
        if r["peak_rss_kb"] not in ("", "-1"):
            by.setdefault(r["target"], []).append(float(r["peak_rss_kb"]) / 1024)
    for t, v in sorted(by.items()):
        print("| %s | %.0f |" % (t, statistics.median(v)))
    print()

loads = {}
for (t, _, _, _), c in cells.items():
    if c["loadavg1"]:
        loads.setdefault(t, []).extend(c["loadavg1"])
if loads:
    print("1-minute load average at the end of each cell (2 CPUs; above ~2 means other "
          "processes were competing): " + ", ".join(
              "%s median %.1f, max %.1f" % (t, statistics.median(v), max(v))
              for t, v in sorted(loads.items())) + "\n")

if bad:
    print("### Runs with errors or a non-zero exit\n")
    for b in bad:
        print("- " + b)
    print()
EOF
}

if [ -n "$SUMMARIZE_ONLY" ]; then
    summarize
    exit 0
fi

# ---- build -----------------------------------------------------------------

case "$CLIENT" in
bench|loadgen) ;;
*) echo "compare.sh: --client must be bench or loadgen" >&2; exit 2 ;;
esac
if [ "$CLIENT" = loadgen ] && [ "$ENSEMBLE" -gt 1 ]; then
    echo "compare.sh: --ensemble needs --client bench (loadgen takes one host)" >&2
    exit 2
fi
if [ -z "$PADDOCK" ] || { [ "$CLIENT" = loadgen ] && [ -z "$LOADGEN" ]; }; then
    BUILD="$ROOT/build-bench"
    targets=paddock
    [ "$CLIENT" = loadgen ] && targets="paddock loadgen"
    log "building $targets in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    # shellcheck disable=SC2086
    cmake --build "$BUILD" -j "$(nproc)" --target $targets >/dev/null
    PADDOCK=${PADDOCK:-$BUILD/paddock}
    LOADGEN=${LOADGEN:-$BUILD/loadgen}
fi
BENCH=${BENCH:-$PADDOCK}
CLIENT_BIN=$BENCH
[ "$CLIENT" = loadgen ] && CLIENT_BIN=$LOADGEN
for f in "$PADDOCK" "$CLIENT_BIN"; do
    [ -x "$f" ] || { echo "compare.sh: $f is not executable" >&2; exit 2; }
done
PADDOCK=$(realpath "$PADDOCK")
CLIENT_BIN=$(realpath "$CLIENT_BIN")
if [ "$CLIENT" = bench ] && ! "$CLIENT_BIN" bench --help >/dev/null 2>&1; then
    echo "compare.sh: $CLIENT_BIN has no bench subcommand (--bench BIN, or --loadgen BIN)" >&2
    exit 2
fi
ZK_JAR=/usr/share/java/zookeeper.jar
if [[ " $TARGETS " == *" zookeeper"* ]]; then
    [ -f "$ZK_JAR" ] || { echo "compare.sh: $ZK_JAR missing (apt-get install zookeeper)" >&2; exit 2; }
    command -v java >/dev/null || { echo "compare.sh: java missing" >&2; exit 2; }
fi

OUT=${OUT:-${TMPDIR:-/tmp}/paddock-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RAW="$OUT/raw.tsv"
HWM="$OUT/peak_rss.tsv"
printf 'target\trep\top\tclients\tdepth\tops_per_s\tp50_us\tp99_us\tp999_us\tsrv_cpu_us_per_op\tlg_cpu_us_per_op\trss_kb\terrors\trc\tloadavg1\n' >"$RAW"
if [ "$ENSEMBLE" -gt 1 ]; then
    printf 'target\trep\tpeak_rss_kb\tmember\trole\n' >"$HWM"
    echo "$ENSEMBLE" >"$OUT/ensemble.txt"
else
    printf 'target\trep\tpeak_rss_kb\n' >"$HWM"
fi

# ---- servers ---------------------------------------------------------------

SERVER_PID=""    # standalone: the server; ensemble: comma-separated, for --server-pid
SERVER_PORT=""
SERVER_DIR=""
SERVER_PIDS=()   # every process this script started for the current target
SERVER_PORTS=()  # their client ports, same order (member I+1 = server.I+1)
SERVER_HOSTS=""  # --hosts for the client

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# N distinct free ports (all bound at once, so none is handed out twice).
free_ports() {
    python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# The Mode: line of `srvr` on 127.0.0.1:PORT (standalone, leader, follower,
# observer), or nothing when it does not serve (yet). srvr is in ZooKeeper's
# default 4lw whitelist; "Mode:" appears once it serves.
server_mode() {
    local reply
    reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf srvr >&3 && cat <&3" \
        2>/dev/null) || return 0
    sed -n 's/^Mode: *\([a-z-]*\).*/\1/p' <<<"$reply" | head -1
}

is_serving() {
    [ "$(server_mode "$1")" = standalone ]
}

# Ensemble: every member answers leader or follower and exactly one leads.
# Prints the modes ("leader follower follower", in member order) either way.
ensemble_serving() {
    local port mode leaders=0 others=0 modes=""
    for port in "${SERVER_PORTS[@]}"; do
        mode=$(server_mode "$port")
        modes="$modes ${mode:-down}"
        case $mode in
        leader) leaders=$((leaders + 1)) ;;
        follower) others=$((others + 1)) ;;
        esac
    done
    echo "${modes# }"
    [ "$leaders" -eq 1 ] && [ $((leaders + others)) -eq "${#SERVER_PORTS[@]}" ]
}

# The zoo.cfg lines every server of every run gets.
common_cfg() { # target datadir clientport
    echo "# written by bench/compare.sh"
    echo "tickTime=2000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$2"
    echo "clientPort=$3"
    echo "clientPortAddress=127.0.0.1"
    # 64 sessions come from one address; Apache's default cap is 60.
    echo "maxClientCnxns=0"
    # No Jetty admin server on :8080 (it would also compete for the CPUs).
    echo "admin.enableServer=false"
    if [ "$1" = zookeeper-nosync ]; then echo "forceSync=no"; fi
}

server_cmd() { # target cfg main-class -> SERVER_CMD
    local target=$1 cfg=$2 main=$3
    case "$target" in
    paddock)
        SERVER_CMD=("$PADDOCK" server "$cfg") ;;
    zookeeper|zookeeper-nosync)
        # Apache also copies unknown zoo.cfg keys to zookeeper.<key> system
        # properties; -D makes forceSync certain (FileTxnLog reads it once).
        local sync=yes
        [ "$target" = zookeeper-nosync ] && sync=no
        SERVER_CMD=(java -Xmx2g -Dzookeeper.forceSync=$sync -Dzookeeper.admin.enableServer=false
             -cp "$ZK_JAR:/usr/share/java/*" "$main" "$cfg") ;;
    *) echo "compare.sh: unknown target $target" >&2; exit 2 ;;
    esac
}

start_server() { # target rep
    local target=$1 rep=$2
    if [ "$ENSEMBLE" -gt 1 ]; then
        start_ensemble "$target" "$rep"
        return
    fi
    SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/paddock-bench-$target-XXXXXX")
    mkdir -p "$SERVER_DIR/data"
    SERVER_PORT=$(free_port)
    common_cfg "$target" "$SERVER_DIR/data" "$SERVER_PORT" >"$SERVER_DIR/zoo.cfg"
    server_cmd "$target" "$SERVER_DIR/zoo.cfg" org.apache.zookeeper.server.ZooKeeperServerMain
    (cd "$SERVER_DIR" && exec "${SERVER_CMD[@]}") >"$OUT/server-$target-rep$rep.log" 2>&1 </dev/null &
    SERVER_PID=$!
    SERVER_PIDS=("$SERVER_PID")
    SERVER_PORTS=("$SERVER_PORT")
    SERVER_HOSTS="127.0.0.1:$SERVER_PORT"
    local i
    for i in $(seq 1 300); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "compare.sh: $target exited during startup; see $OUT/server-$target-rep$rep.log" >&2
            SERVER_PID=""
            SERVER_PIDS=()
            exit 1
        fi
        is_serving "$SERVER_PORT" && return 0
        sleep 0.2
    done
    echo "compare.sh: $target did not start serving in 60 s" >&2
    stop_server
    exit 1
}

# ENSEMBLE servers on 127.0.0.1, member I in $SERVER_DIR/sI (zoo.cfg, data/myid),
# its log in $OUT/server-TARGET-repR-sI.log.
start_ensemble() { # target rep
    local target=$1 rep=$2 i
    SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/paddock-bench-$target-ens-XXXXXX")
    local -a ports qp ep
    read -r -a ports <<<"$(free_ports $((3 * ENSEMBLE)))"
    SERVER_PORTS=("${ports[@]:0:ENSEMBLE}")
    qp=("${ports[@]:ENSEMBLE:ENSEMBLE}")
    ep=("${ports[@]:2*ENSEMBLE:ENSEMBLE}")
    local lines=""
    for i in $(seq 1 "$ENSEMBLE"); do
        lines="${lines}server.$i=127.0.0.1:${qp[i-1]}:${ep[i-1]}"$'\n'
    done
    SERVER_PIDS=()
    SERVER_HOSTS=""
    for i in $(seq 1 "$ENSEMBLE"); do
        local d="$SERVER_DIR/s$i"
        mkdir -p "$d/data"
        echo "$i" >"$d/data/myid"
        { common_cfg "$target" "$d/data" "${SERVER_PORTS[i-1]}"; printf '%s' "$lines"; } >"$d/zoo.cfg"
        server_cmd "$target" "$d/zoo.cfg" org.apache.zookeeper.server.quorum.QuorumPeerMain
        (cd "$d" && exec "${SERVER_CMD[@]}") >"$OUT/server-$target-rep$rep-s$i.log" 2>&1 </dev/null &
        SERVER_PIDS+=("$!")
        SERVER_HOSTS="$SERVER_HOSTS${SERVER_HOSTS:+,}127.0.0.1:${SERVER_PORTS[i-1]}"
    done
    SERVER_PID=$(IFS=,; echo "${SERVER_PIDS[*]}")
    SERVER_PORT=${SERVER_PORTS[0]}
    local deadline=$((SECONDS + ENSEMBLE_TIMEOUT)) modes="" pid
    while [ "$SECONDS" -lt "$deadline" ]; do
        for i in "${!SERVER_PIDS[@]}"; do
            pid=${SERVER_PIDS[i]}
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "compare.sh: $target s$((i + 1)) (pid $pid) exited during startup;" \
                     "see $OUT/server-$target-rep$rep-s$((i + 1)).log" >&2
                stop_server
                exit 1
            fi
        done
        if modes=$(ensemble_serving); then
            ENSEMBLE_START_MODES=$modes
            return 0
        fi
        sleep 0.2
    done
    echo "compare.sh: $target ensemble not serving with one leader after ${ENSEMBLE_TIMEOUT} s" \
         "(modes: $modes); logs: $OUT/server-$target-rep$rep-s*.log" >&2
    stop_server
    exit 1
}

stop_server() {
    [ "${#SERVER_PIDS[@]}" -gt 0 ] || return 0
    local pid i alive
    for pid in "${SERVER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for i in $(seq 1 50); do
        alive=""
        for pid in "${SERVER_PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ -n "$alive" ] || break
        sleep 0.2
    done
    for pid in "${SERVER_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    SERVER_PID=""
    SERVER_PIDS=()
    SERVER_PORTS=()
    [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"
    SERVER_DIR=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

peak_rss_kb() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -1
}

# ---- runs ------------------------------------------------------------------

# paddock bench and loadgen take the same flags but for the server address.
run_client() { # logfile args...
    local logf=$1
    shift
    local -a hosts=(--hosts "$SERVER_HOSTS")
    [ "$CLIENT" = loadgen ] && hosts=(--host "127.0.0.1:$SERVER_PORT")
    local -a cmd=("$CLIENT_BIN")
    [ "$CLIENT" = bench ] && cmd+=(bench)
    "${cmd[@]}" "${hosts[@]}" --server-pid "$SERVER_PID" \
        --keys "$KEYS" --size "$SIZE" "$@" >"$logf" 2>&1
}

field() { # RESULT-line key
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

run_cell() { # target rep op clients depth
    local target=$1 rep=$2 op=$3 clients=$4 depth=$5 rc=0
    local logf="$OUT/run-$target-rep$rep-$op-c$clients-d$depth.log"
    # The server's warm-up run created the keys and /bench/seq.
    run_client "$logf" --op "$op" --read-pct 90 --clients "$clients" --depth "$depth" \
        --duration "$DURATION" --warmup "$WARMUP" --no-setup || rc=$?
    local r
    r=$(grep '^RESULT' "$logf" | tail -1 || true)
    if [ -z "$r" ]; then
        log "  $op c=$clients d=$depth: no result (rc=$rc), see $logf"
        printf '%s\t%s\t%s\t%s\t%s\t\t\t\t\t\t\t\t\t%s\t%s\n' "$target" "$rep" "$op" \
            "$clients" "$depth" "$rc" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
        return
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$rep" "$op" \
        "$clients" "$depth" "$(field "$r" ops_per_s)" "$(field "$r" p50_us)" \
        "$(field "$r" p99_us)" "$(field "$r" p999_us)" "$(field "$r" server_cpu_us_per_op)" \
        "$(field "$r" client_cpu_us_per_op)" "$(field "$r" server_rss_kb)" \
        "$(field "$r" errors)" "$rc" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
    log "  $op c=$clients d=$depth: $(field "$r" ops_per_s) ops/s p99 $(field "$r" p99_us) us" \
        "load $(cut -d' ' -f1 /proc/loadavg)" \
        "srv $(field "$r" server_cpu_us_per_op) us/op client $(field "$r" client_cpu_us_per_op) us/op" \
        "$([ "$rc" = 0 ] || echo "rc=$rc")"
}

run_target() { # target rep
    local target=$1 rep=$2
    log "$target (rep $rep): starting"
    start_server "$target" "$rep"
    if [ "$ENSEMBLE" -gt 1 ]; then
        log "$target (rep $rep): $ENSEMBLE-node ensemble, pids $SERVER_PID on $SERVER_HOSTS;" \
            "modes: $ENSEMBLE_START_MODES; warming up"
    else
        log "$target (rep $rep): pid $SERVER_PID on 127.0.0.1:$SERVER_PORT; warming up"
    fi
    # The JVM needs its JIT warm (Paddock gets a short warm-up too). No creates
    # here, so every server runs get/exists/set/mixed on the same tree: the
    # keys. The create cells run last; they grow the tree by what each server
    # manages to create.
    local w=$JVM_WARMUP
    [ "$target" = paddock ] && w=$PADDOCK_WARMUP
    w=$(awk -v t="$w" 'BEGIN {printf "%.2f", t / 2}')
    local op
    for op in mixed exists; do
        run_client "$OUT/warmup-$target-rep$rep-$op.log" --op "$op" --clients 64 --depth 32 \
            --duration "$w" --warmup 0 || true
    done
    local ops=$OPS
    if [ "$target" = zookeeper-nosync ]; then
        ops=""
        for op in $OPS; do
            case $op in set|create|mixed) ops="$ops $op" ;; esac
        done
    fi
    local cell
    for op in $ops; do
        for cell in $CELLS; do
            run_cell "$target" "$rep" "$op" "${cell%%:*}" "${cell##*:}"
        done
    done
    if [ "$ENSEMBLE" -gt 1 ]; then
        # Roles now (a change since the start means a re-election during the run).
        local modes i
        modes=$(ensemble_serving) || true
        [ "$modes" = "$ENSEMBLE_START_MODES" ] ||
            log "$target (rep $rep): WARNING: modes changed during the run:" \
                "$ENSEMBLE_START_MODES -> $modes"
        local -a roles
        read -r -a roles <<<"$modes"
        for i in "${!SERVER_PIDS[@]}"; do
            printf '%s\t%s\t%s\ts%d\t%s\n' "$target" "$rep" "$(peak_rss_kb "${SERVER_PIDS[i]}")" \
                $((i + 1)) "${roles[i]:-?}" >>"$HWM"
        done
    else
        printf '%s\t%s\t%s\n' "$target" "$rep" "$(peak_rss_kb "$SERVER_PID")" >>"$HWM"
    fi
    stop_server
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
         "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "java: $(java -version 2>&1 | head -1)"
    echo "zookeeper: $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?')"
    echo "paddock: $("$PADDOCK" version 2>/dev/null | head -1 || echo '?') ($PADDOCK," \
         "built $(date -u -r "$PADDOCK" '+%Y-%m-%d %H:%M UTC'); repo HEAD" \
         "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "client: $CLIENT ($CLIENT_BIN)"
    echo "libuv: $(dpkg-query -W -f='${Version}' libuv1 2>/dev/null || echo '?')"
    echo "tmp fs: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
    if [ "$ENSEMBLE" -gt 1 ]; then
        echo "servers: $ENSEMBLE-node ensemble per target on 127.0.0.1" \
             "(Apache: QuorumPeerMain), sessions spread over all $ENSEMBLE"
    else
        echo "servers: standalone"
    fi
    echo "settings: reps=$REPS duration=${DURATION}s warmup=${WARMUP}s" \
         "server warm-up: zookeeper ${JVM_WARMUP}s paddock ${PADDOCK_WARMUP}s" \
         "cells=\"$CELLS\" ops=\"$OPS\" keys=$KEYS size=$SIZE"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

START=$(date +%s)
for rep in $(seq 1 "$REPS"); do
    order=$TARGETS
    # Alternate the order of the servers between repetitions.
    if [ $((rep % 2)) -eq 0 ]; then
        order=$(echo "$TARGETS" | tr ' ' '\n' | tac | tr '\n' ' ')
    fi
    for target in $order; do
        run_target "$target" "$rep"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
echo "wall time: $(($(date +%s) - START)) s" >>"$OUT/machine.txt"

summarize | tee "$OUT/results.md"
log "results in $OUT"
