#!/usr/bin/env bash
# Durability and restart, Paddock vs Apache ZooKeeper 3.8 (issue #3).
#
# For each server ("target": paddock, zookeeper) and each tree size N (default
# 100000 and 1000000), one server at a time on 127.0.0.1 with its own
# temporary dataDir and the same zoo.cfg (fsync on, every other setting the
# default; admin.enableServer=false, maxClientCnxns=0 as in compare.sh):
#
#  1. load: start the server on an empty dataDir, create N znodes of 100 bytes
#     /bench/dXXX/nXXXXXX (1000 children per parent) with bench/fill over 4
#     sessions with up to 1000 creates outstanding each; record VmRSS/VmHWM
#     right after, check getAllChildrenNumber(/bench) = N + N/1000;
#  2. snapshot: Paddock gets SIGUSR1 and the script waits for its "Snapshot
#     of zxid ... written" log line. Apache ZooKeeper 3.8 has no on-demand
#     snapshot: it snapshots every snapCount (100000, randomised) txns, so the
#     first restart replays up to ~100000 txns from the log, and it also
#     writes a full snapshot synchronously during every start-up, so the
#     second and later restarts load a complete snapshot. Then SIGTERM (clean
#     stop; the time it takes is recorded too);
#  3. restart, --reps times (default 3): restart-to-serving = from just
#     before the exec until a new session's getData of the last znode
#     succeeds (fill --probe: `srvr` every 5 ms until it shows a Zxid, or
#     every 1 ms while the port refuses connections, then the getData); the
#     server's CPU time (utime+stime) at that moment; VmRSS at that moment,
#     and VmRSS/VmHWM 2 s later; the server's own log timestamps of its
#     load phases. The first restart also re-checks the node count;
#  4. sizes: the newest snapshot file, the whole dataDir (du: allocated
#     blocks, and apparent size: Paddock preallocates log files with
#     fallocate, Apache ZooKeeper by writing one byte at the end, which
#     leaves a sparse file) and the number of log files;
#  5. write throughput with fsync on: bench/loadgen --op create
#     (PERSISTENT_SEQUENTIAL, 100 bytes), 1 client at depth 1 (synchronous)
#     and 32 clients at depth 32 (pipelined), --tput-seconds each after a
#     warm-up (Apache 15 s, Paddock 2 s, as compare.sh), on a fresh empty
#     server per repetition (--tput-reps), the servers' order alternating.
#
# Apache ZooKeeper runs as
#   java -Xmx3g -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar:/usr/share/java/* \
#        org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg
# (slf4j-simple first on the class path so that it logs INFO with timestamps to
# stderr; with the Debian class path alone it picks slf4j-nop and logs nothing).
#
# usage: bench/restart.sh [--sizes "100000 1000000"] [--reps N]
#            [--targets "paddock zookeeper"] [--tput-seconds S] [--tput-reps N]
#            [--no-tput] [--prealloc-kb KB] [--xmx 3g]
#            [--paddock BIN] [--fill BIN] [--loadgen BIN] [--out DIR]
#        bench/restart.sh --summarize DIR   (print the table of an earlier run)
#
# Without --paddock/--fill/--loadgen it builds them (RelWithDebInfo) in
# build-rbench/. --prealloc-kb sets preAllocSize for both servers (default:
# theirs, 64 MiB per log file). Results go to --out (default
# ${TMPDIR:-/tmp}/paddock-restart-<date>): machine.txt, results.tsv (one
# measurement a line), every server and tool log, results.md. The temporary
# dataDirs are removed as soon as each server is done with them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SIZES="100000 1000000"
REPS=3
TARGETS="paddock zookeeper"
TPUT_SECONDS=5
TPUT_REPS=3
DO_TPUT=1
PREALLOC_KB=""
XMX=3g
PADDOCK=""
FILL=""
LOADGEN=""
OUT=""
SUMMARIZE_ONLY=""
PER_PARENT=1000
SIZE=100

while [ $# -gt 0 ]; do
    case "$1" in
    --sizes) SIZES=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --tput-seconds) TPUT_SECONDS=$2; shift ;;
    --tput-reps) TPUT_REPS=$2; shift ;;
    --no-tput) DO_TPUT="" ;;
    --prealloc-kb) PREALLOC_KB=$2; shift ;;
    --xmx) XMX=$2; shift ;;
    --paddock) PADDOCK=$2; shift ;;
    --fill) FILL=$2; shift ;;
    --loadgen) LOADGEN=$2; shift ;;
    --out) OUT=$2; shift ;;
    --summarize) OUT=$2; SUMMARIZE_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "restart.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The system python: a pyenv shim costs a second or more per call on a busy machine.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# ---- summary ---------------------------------------------------------------

summarize() {
    "$PY" - "$OUT" <<'EOF'
import csv, os, statistics, sys

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "results.tsv")), delimiter="\t"))
vals = {}
for r in rows:
    if r["value"] in ("", "-1"):
        continue
    vals.setdefault((r["target"], int(r["n"]), r["metric"]), []).append(float(r["value"]))

def med(t, n, m):
    v = vals.get((t, n, m))
    return statistics.median(v) if v else None

def allv(t, n, m):
    return vals.get((t, n, m), [])

def mib(kb):
    return None if kb is None else kb / 1024

def fmt(x, nd=0):
    if x is None:
        return "–"
    if nd == 0 and abs(x) >= 10000:
        return "{:,.0f}".format(x).replace(",", " ")
    return "%.*f" % (nd, x)

def ratio(a, b):
    if a is None or not b:
        return "–"
    r = a / b
    return "%.2f×" % r if r >= 0.1 else "%.3f×" % r

sizes = sorted({n for (_, n, _) in vals if n > 0})
P, Z = "paddock", "zookeeper"

def label(n):
    return "%dk" % (n // 1000) if n < 1000000 else "%gM" % (n / 1e6)

lines = ["| measure | znodes | Paddock | Apache ZK 3.8 | Paddock ÷ Apache | target |",
         "|---|---|---|---|---|---|"]

def row(name, n, m, conv=lambda x: x, nd=0, target="", unit=""):
    a, b = med(P, n, m), med(Z, n, m)
    a = conv(a) if a is not None else None
    b = conv(b) if b is not None else None
    lines.append("| %s | %s | %s%s | %s%s | %s | %s |" % (
        name, label(n) if n else "–", fmt(a, nd), unit if a is not None else "",
        fmt(b, nd), unit if b is not None else "", ratio(a, b), target))

for n in sizes:
    tgt_t = "< 1 s" if n == 1000000 else ""
    tgt_m = "< 200 MiB" if n == 1000000 else ""
    row("restart to serving, median (s)", n, "restart_ms", lambda x: x / 1000, 2, tgt_t)
    row("… server CPU until serving (s)", n, "restart_cpu_ms", lambda x: x / 1000, 2)
    row("RSS 2 s after restart (MiB)", n, "restart_rss_kb", mib, 0, tgt_m)
    row("peak RSS during restart, VmHWM (MiB)", n, "restart_hwm_kb", mib, 0, tgt_m)
    row("RSS right after loading (MiB)", n, "load_rss_kb", mib, 0)
    row("peak RSS while loading, VmHWM (MiB)", n, "load_hwm_kb", mib, 0)
    row("newest snapshot (MiB)", n, "snap_bytes", lambda x: x / 1048576, 1)
    row("dataDir, allocated blocks (MiB)", n, "datadir_kb", mib, 0)
    row("dataDir, apparent size (MiB)", n, "datadir_apparent_kb", mib, 0)
    row("txn log files after the restarts", n, "log_files")
    row("bulk load, 4 sessions × 1000 outstanding (creates/s)", n, "load_rate", nd=0)
    row("clean stop (SIGTERM → exit) (s)", n, "stop_ms", lambda x: x / 1000, 2)
if vals.get((P, 0, "tput_d1")) or vals.get((Z, 0, "tput_d1")):
    row("creates/s, 1 client, depth 1 (fsync each)", 0, "tput_d1")
    row("creates/s, 32 clients × depth 32", 0, "tput_pipe")
    row("create p50 latency, 1 client depth 1 (µs)", 0, "tput_d1_p50_us")
    row("create p99 latency, 32 × 32 (µs)", 0, "tput_pipe_p99_us")

lines.append("")
lines.append("Every run (restart to serving in ms; server CPU at serving in ms; "
             "load average at the time):")
lines.append("")
for n in sizes:
    for t in (P, Z):
        rs = allv(t, n, "restart_ms")
        if not rs:
            continue
        cpu = allv(t, n, "restart_cpu_ms")
        la = allv(t, n, "restart_loadavg")
        lines.append("- %s %s: restart %s ms; CPU %s ms; load avg %s" % (
            t, label(n), ", ".join("%.0f" % x for x in rs), ", ".join("%.0f" % x for x in cpu),
            ", ".join("%.1f" % x for x in la)))
        extra = []
        for m, what in (("snap_write_ms", "snapshot written in (ms)"),
                        ("phase_listen_ms", "start → port bound (ms)"),
                        ("phase_loaded_ms", "start → snapshot loaded (ms)"),
                        ("phase_recovered_ms", "start → recovered (ms)"),
                        ("zk_snap_loaded_ms", "'Snapshot loaded in' (ms)"),
                        ("zk_snap_taken_ms", "start-up 'Snapshot taken in' (ms)")):
            v = allv(t, n, m)
            if v:
                extra.append("%s %s" % (what, ", ".join("%.0f" % x for x in v)))
        if extra:
            lines.append("  - " + "; ".join(extra))
print("\n".join(lines))
EOF
}

if [ -n "$SUMMARIZE_ONLY" ]; then
    summarize | tee "$OUT/results.md"
    exit 0
fi

# ---- binaries ----------------------------------------------------------------

if [ -z "$PADDOCK" ] || [ -z "$FILL" ] || { [ -n "$DO_TPUT" ] && [ -z "$LOADGEN" ]; }; then
    BUILD=$ROOT/build-rbench
    log "building paddock, fill and loadgen in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target paddock fill loadgen >/dev/null
    PADDOCK=${PADDOCK:-$BUILD/paddock}
    FILL=${FILL:-$BUILD/fill}
    LOADGEN=${LOADGEN:-$BUILD/loadgen}
fi
for f in "$PADDOCK" "$FILL" ${DO_TPUT:+"$LOADGEN"}; do
    [ -x "$f" ] || { echo "restart.sh: $f is not executable" >&2; exit 2; }
done
PADDOCK=$(realpath "$PADDOCK")
FILL=$(realpath "$FILL")
[ -n "$LOADGEN" ] && LOADGEN=$(realpath "$LOADGEN")
ZK_JAR=/usr/share/java/zookeeper.jar
if [[ " $TARGETS " == *" zookeeper "* ]]; then
    [ -f "$ZK_JAR" ] || { echo "restart.sh: $ZK_JAR missing (apt-get install zookeeper)" >&2; exit 2; }
    command -v java >/dev/null || { echo "restart.sh: java missing" >&2; exit 2; }
fi

OUT=${OUT:-${TMPDIR:-/tmp}/paddock-restart-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
RES="$OUT/results.tsv"
[ -f "$RES" ] || printf 'target\tn\trep\tmetric\tvalue\tloadavg1\n' >"$RES"

record() { # target n rep metric value
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
}

field() { # RESULT-line key
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# ---- servers -------------------------------------------------------------------

SPID=""      # the server this script started, if it runs
SDIR=""      # its temporary directory (zoo.cfg, data/)
SPORT=""

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

new_server_dir() { # target
    SDIR=$(mktemp -d "${TMPDIR:-/tmp}/paddock-restart-$1-XXXXXX")
    mkdir -p "$SDIR/data"
    SPORT=$(free_port)
    {
        echo "# written by bench/restart.sh"
        echo "tickTime=2000"
        echo "initLimit=10"
        echo "syncLimit=5"
        echo "dataDir=$SDIR/data"
        echo "clientPort=$SPORT"
        echo "clientPortAddress=127.0.0.1"
        echo "maxClientCnxns=0"
        echo "admin.enableServer=false"
        if [ -n "$PREALLOC_KB" ]; then echo "preAllocSize=$PREALLOC_KB"; fi
    } >"$SDIR/zoo.cfg"
}

T0_NS=0
start_server() { # target logfile   (sets SPID, T0_NS)
    local target=$1 logf=$2
    local -a cmd
    case "$target" in
    paddock) cmd=("$PADDOCK" server "$SDIR/zoo.cfg") ;;
    zookeeper)
        cmd=(java "-Xmx$XMX" -Dzookeeper.admin.enableServer=false
             -Dorg.slf4j.simpleLogger.showDateTime=true
             "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ"
             -cp "$ZK_JAR:/usr/share/java/slf4j-simple.jar:/usr/share/java/*"
             org.apache.zookeeper.server.ZooKeeperServerMain "$SDIR/zoo.cfg") ;;
    *) echo "restart.sh: unknown target $target" >&2; exit 2 ;;
    esac
    T0_NS=$(date +%s%N)
    (cd "$SDIR" && exec "${cmd[@]}") >"$logf" 2>&1 </dev/null &
    SPID=$!
}

# Waits until a getData of $1 succeeds; prints the probe's RESULT line.
wait_serving() { # path logfile
    local r
    if ! r=$("$FILL" --host "127.0.0.1:$SPORT" --probe "$1" --since-ns "$T0_NS" --timeout 600); then
        echo "restart.sh: the server did not serve $1; see $2" >&2
        return 1
    fi
    echo "$r"
}

STOP_MS=""
stop_server() { # sets STOP_MS: the ms from SIGTERM to exit (no $(...): SPID must be waited for here)
    STOP_MS=""
    [ -n "$SPID" ] || return 0
    local t0 t1 i
    t0=$(date +%s%N)
    kill -TERM "$SPID" 2>/dev/null || true
    for i in $(seq 1 1200); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SPID" 2>/dev/null; then
        log "server $SPID still runs 120 s after SIGTERM; SIGKILL"
        kill -KILL "$SPID" 2>/dev/null || true
    fi
    wait "$SPID" 2>/dev/null || true
    t1=$(date +%s%N)
    SPID=""
    STOP_MS=$(((t1 - t0) / 1000000))
}

cleanup() {
    if [ -n "$SPID" ]; then stop_server; fi
    if [ -n "$SDIR" ]; then rm -rf "$SDIR"; fi
    SDIR=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

proc_kb() { # pid key
    awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo -1
}

proc_cpu_ms() { # pid: utime+stime of every thread, in ms
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz)}' \
        "/proc/$1/stat" 2>/dev/null || echo -1
}

# ms between T0_NS and the first log line matching $2 (both servers stamp lines
# with wall-clock time: Paddock "YYYY-mm-dd HH:MM:SS,mmm" UTC, Apache as set above).
log_phase_ms() { # logfile regex
    "$PY" - "$1" "$2" "$T0_NS" <<'EOF' || echo -1
import datetime, re, sys
path, pat, t0 = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3])
for line in open(path, errors="replace"):
    if not pat.search(line):
        continue
    m = re.match(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) ", line)
    if m:
        ts = datetime.datetime.strptime("%s %s.%s+0000" % m.groups(), "%Y-%m-%d %H:%M:%S.%f%z")
    else:
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}) ", line)
        if not m:
            continue
        ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z")
    print(int(ts.timestamp() * 1000 - t0 / 1e6))
    sys.exit(0)
print(-1)
EOF
}

log_number() { # logfile sed-regex-with-one-group: the first match's number
    sed -n "s/$2/\1/p" "$1" | head -1 | grep . || echo -1
}

# Paddock: SIGUSR1, then wait until the snapshot it starts is written.
paddock_snapshot() { # logfile -> prints the "written in" ms
    local logf=$1 i created written
    # Let a snapCount snapshot that is still being written finish first
    # ("Too busy to snap" would skip ours).
    for i in $(seq 1 3000); do
        created=$(grep -c 'Creating new snapshot of zxid' "$logf" || true)
        written=$(grep -cE 'Snapshot of zxid .* (written|failed)' "$logf" || true)
        [ "$created" = "$written" ] && break
        sleep 0.1
    done
    kill -USR1 "$SPID"
    for i in $(seq 1 3000); do
        grep -q 'Creating new snapshot of zxid .*(SIGUSR1)' "$logf" && break
        sleep 0.05
    done
    for i in $(seq 1 6000); do
        if grep -qE 'Snapshot of zxid .* written in' <(sed -n '/(SIGUSR1)/,$p' "$logf"); then
            sed -n '/(SIGUSR1)/,$p' "$logf" | sed -n 's/.*Snapshot of zxid .* written in \([0-9]*\) ms.*/\1/p' | head -1
            return 0
        fi
        if grep -qE 'Snapshot of zxid .* failed' <(sed -n '/(SIGUSR1)/,$p' "$logf"); then
            echo "restart.sh: the SIGUSR1 snapshot failed; see $logf" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "restart.sh: no snapshot written 300 s after SIGUSR1; see $logf" >&2
    return 1
}

newest_snapshot() { # dir: path of the snapshot.<zxid> with the highest zxid
    local f best="" bestz=-1 z
    for f in "$1"/snapshot.*; do
        [ -e "$f" ] || continue
        z=$((16#${f##*.}))
        if [ "$z" -gt "$bestz" ]; then bestz=$z; best=$f; fi
    done
    echo "$best"
}

# ---- one target, one size ------------------------------------------------------

run_size() { # target n
    local t=$1 n=$2 r
    local parents=$(((n + PER_PARENT - 1) / PER_PARENT))
    local last
    last=$("$FILL" --path-of $((n - 1)) --per-parent "$PER_PARENT")
    new_server_dir "$t"
    local pre="$OUT/$t-$n"
    log "$t N=$n: starting on 127.0.0.1:$SPORT ($SDIR)"
    start_server "$t" "$pre-load.server.log"
    wait_serving / "$pre-load.server.log" >/dev/null
    log "$t N=$n: loading (pid $SPID)"
    r=$("$FILL" --host "127.0.0.1:$SPORT" --load "$n" --per-parent "$PER_PARENT" --size "$SIZE" \
        --conns 4 --window 1000 --server-pid "$SPID" | tee "$pre-load.fill.log" | grep '^RESULT')
    record "$t" "$n" 0 load_s "$(field "$r" total_s)"
    record "$t" "$n" 0 load_rate "$(field "$r" creates_per_s)"
    record "$t" "$n" 0 load_rss_kb "$(field "$r" server_rss_kb)"
    record "$t" "$n" 0 load_hwm_kb "$(field "$r" server_hwm_kb)"
    log "$t N=$n: loaded in $(field "$r" total_s) s ($(field "$r" creates_per_s) creates/s)," \
        "RSS $(($(field "$r" server_rss_kb) / 1024)) MiB, peak $(($(field "$r" server_hwm_kb) / 1024)) MiB"
    local c
    c=$("$FILL" --host "127.0.0.1:$SPORT" --count /bench | sed -n 's/^RESULT count=//p')
    if [ "$c" != "$((n + parents))" ]; then
        echo "restart.sh: $t has $c znodes under /bench, expected $((n + parents))" >&2
        exit 1
    fi
    if [ "$t" = paddock ]; then
        local ms
        ms=$(paddock_snapshot "$pre-load.server.log")
        record "$t" "$n" 0 snap_write_ms "$ms"
        log "$t N=$n: SIGUSR1 snapshot written in $ms ms"
    fi
    record "$t" "$n" 0 load_end_hwm_kb "$(proc_kb "$SPID" VmHWM)"
    stop_server
    record "$t" "$n" 0 stop_ms "$STOP_MS"
    log "$t N=$n: stopped in $STOP_MS ms; files: $(ls "$SDIR/data/version-2" | tr '\n' ' ')"

    local rep
    for rep in $(seq 1 "$REPS"); do
        local slog="$pre-restart$rep.server.log"
        start_server "$t" "$slog"
        r=$(wait_serving "$last" "$slog")
        local cpu rss_now la
        cpu=$(proc_cpu_ms "$SPID")
        rss_now=$(proc_kb "$SPID" VmRSS)
        la=$(cut -d' ' -f1 /proc/loadavg)
        echo "$r" >"$pre-restart$rep.probe.log"
        record "$t" "$n" "$rep" restart_ms "$(field "$r" serving_ms)"
        record "$t" "$n" "$rep" restart_cpu_ms "$cpu"
        record "$t" "$n" "$rep" restart_serving_rss_kb "$rss_now"
        record "$t" "$n" "$rep" restart_loadavg "$la"
        sleep 2
        local rss hwm
        rss=$(proc_kb "$SPID" VmRSS)
        hwm=$(proc_kb "$SPID" VmHWM)
        record "$t" "$n" "$rep" restart_rss_kb "$rss"
        record "$t" "$n" "$rep" restart_hwm_kb "$hwm"
        if [ "$t" = paddock ]; then
            record "$t" "$n" "$rep" phase_loaded_ms "$(log_phase_ms "$slog" '\] loaded ')"
            record "$t" "$n" "$rep" phase_recovered_ms "$(log_phase_ms "$slog" '\] recovered zxid')"
            record "$t" "$n" "$rep" phase_listen_ms "$(log_phase_ms "$slog" 'binding to port')"
        else
            record "$t" "$n" "$rep" phase_listen_ms "$(log_phase_ms "$slog" 'binding to port')"
            record "$t" "$n" "$rep" zk_snap_loaded_ms \
                "$(log_number "$slog" '.*Snapshot loaded in \([0-9]*\) ms.*')"
            record "$t" "$n" "$rep" zk_snap_taken_ms \
                "$(log_number "$slog" '.*Snapshot taken in \([0-9]*\) ms.*')"
        fi
        if [ "$rep" = 1 ]; then
            c=$("$FILL" --host "127.0.0.1:$SPORT" --count /bench | sed -n 's/^RESULT count=//p')
            if [ "$c" != "$((n + parents))" ]; then
                echo "restart.sh: after restart $t has $c znodes under /bench, expected $((n + parents))" >&2
                exit 1
            fi
        fi
        log "$t N=$n: restart $rep: serving in $(field "$r" serving_ms) ms, CPU $cpu ms," \
            "RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB), load avg $la"
        stop_server
    done

    local snap
    snap=$(newest_snapshot "$SDIR/data/version-2")
    record "$t" "$n" 0 snap_bytes "$(stat -c %s "$snap")"
    record "$t" "$n" 0 datadir_kb "$(du -sk "$SDIR/data" | cut -f1)"
    record "$t" "$n" 0 datadir_apparent_kb "$(du -sk --apparent-size "$SDIR/data" | cut -f1)"
    record "$t" "$n" 0 log_files "$(find "$SDIR/data/version-2" -name 'log.*' | wc -l)"
    ls -l "$SDIR/data/version-2" >"$pre-files.txt"
    log "$t N=$n: newest snapshot $(basename "$snap") $(($(stat -c %s "$snap") / 1048576)) MiB," \
        "dataDir $(($(du -sk "$SDIR/data" | cut -f1) / 1024)) MiB"
    rm -rf "$SDIR"
    SDIR=""
}

# ---- write throughput ------------------------------------------------------------

run_tput() { # target rep: one fresh server, one run of each cell
    local t=$1 rep=$2
    new_server_dir "$t"
    local pre="$OUT/$t-tput-rep$rep"
    log "$t: write throughput (rep $rep) on an empty server, 127.0.0.1:$SPORT"
    start_server "$t" "$pre.server.log"
    wait_serving / "$pre.server.log" >/dev/null
    local warm=2
    [ "$t" = zookeeper ] && warm=15
    "$LOADGEN" --host "127.0.0.1:$SPORT" --op create --clients 32 --depth 32 --keys 1 \
        --duration "$warm" --warmup 0 >"$pre-warmup.log" 2>&1 || true
    local cell r
    for cell in d1:1:1 pipe:32:32; do
        local name=${cell%%:*} rest=${cell#*:}
        local cl=${rest%%:*} d=${rest##*:}
        r=$("$LOADGEN" --host "127.0.0.1:$SPORT" --server-pid "$SPID" --op create \
            --clients "$cl" --depth "$d" --keys 1 --no-setup --duration "$TPUT_SECONDS" \
            --warmup 1 2>&1 | tee "$pre-$name.log" | grep '^RESULT' || true)
        if [ -z "$r" ] || [ "$(field "$r" errors)" != 0 ]; then
            log "$t: loadgen $name rep $rep failed; see $pre-$name.log"
            continue
        fi
        record "$t" 0 "$rep" "tput_$name" "$(field "$r" ops_per_s)"
        record "$t" 0 "$rep" "tput_${name}_p50_us" "$(field "$r" p50_us)"
        record "$t" 0 "$rep" "tput_${name}_p99_us" "$(field "$r" p99_us)"
        log "$t: create c=$cl d=$d: $(field "$r" ops_per_s) ops/s, p50 $(field "$r" p50_us) us," \
            "p99 $(field "$r" p99_us) us, load avg $(cut -d' ' -f1 /proc/loadavg)"
    done
    stop_server
    rm -rf "$SDIR"
    SDIR=""
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
         "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "java: $(java -version 2>&1 | head -1)"
    echo "zookeeper: $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null || echo '?')"
    echo "paddock: $PADDOCK: $("$PADDOCK" version 2>/dev/null | head -1 || echo '?');" \
         "this repo is at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
         "with $(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -c . || true) files changed" \
         "(the binary may come from elsewhere: --paddock)"
    echo "data fs: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2 " on " $1}')"
    echo "settings: sizes=\"$SIZES\" reps=$REPS targets=\"$TARGETS\" tput=${DO_TPUT:+${TPUT_REPS}x${TPUT_SECONDS}s}" \
         "preAllocSize=${PREALLOC_KB:-default} Xmx=$XMX"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

for n in $SIZES; do
    for t in $TARGETS; do
        run_size "$t" "$n"
    done
done
if [ -n "$DO_TPUT" ]; then
    # A fresh server per repetition, the order alternating between repetitions,
    # so that the disk's (shared, noisy) bad moments do not all hit one server.
    for rep in $(seq 1 "$TPUT_REPS"); do
        order=$TARGETS
        [ $((rep % 2)) = 0 ] && order=$(echo "$TARGETS" | tr ' ' '\n' | tac | tr '\n' ' ')
        for t in $order; do
            run_tput "$t" "$rep"
        done
    done
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
summarize | tee "$OUT/results.md"
log "results in $OUT"
