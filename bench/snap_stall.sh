#!/usr/bin/env bash
# What a follower's resync by SNAP costs a leader's clients: the longest get
# and the leader's peak RSS while the leader sends its database.
#
# For each repetition and each target (the order alternates), it starts 3
# servers on 127.0.0.1 (ports from --port-base; tickTime=2000, a fresh
# temporary dataDir each, snapCount high enough that no snapshot is taken
# meanwhile), waits for a leader, and then, through the leader:
#   1. creates --keys znodes of 100 bytes (paddock bench's setup);
#   2. kills one follower with SIGKILL and runs 1 s of pipelined setData
#      (4 sessions x 8: tens of thousands of txns, far more than the 500 a
#      leader keeps for DIFF, so the follower will need SNAP);
#   3. runs get at 16 sessions x depth 1 for --duration s and restarts the
#      follower 1.5 s into it.
# It prints the get run's RESULT fields p99/p999/max, the leader's RSS and
# peak RSS, the rejoined follower's peak RSS, and the leader's log lines
# about the snapshot it sent.
#
# Targets: each binary given with --paddock (several, comma separated, to
# compare builds), and with --zookeeper Apache ZooKeeper 3.8 (Debian's
# package: java -Xmx2g -cp zookeeper.jar:/usr/share/java/* QuorumPeerMain,
# fsync on, with -Dzookeeper.snapshotSizeFactor=-1 so that its leader sends
# SNAP too: by default it would send a DIFF read from its txn log on disk).
# The load is always paddock bench (the first --paddock binary).
#
# Usage: bench/snap_stall.sh [--paddock BIN[,BIN...]] [--zookeeper] [--keys N]
#                            [--reps R] [--duration S] [--port-base P]
# Stops only the processes it started (by PID); loopback only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
paddocks="$here/../build/paddock"
keys=300000
reps=2
duration=8
port_base=32180
zookeeper=0
ZK_JAR=/usr/share/java/zookeeper.jar

while [ $# -gt 0 ]; do
    case "$1" in
    --paddock) paddocks=$2; shift 2 ;;
    --zookeeper) zookeeper=1; shift ;;
    --keys) keys=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    *) echo "usage: $0 [--paddock BIN[,BIN...]] [--zookeeper] [--keys N] [--reps R] [--duration S] [--port-base P]" >&2
       exit 2 ;;
    esac
done
for n in "$keys" "$reps" "$duration" "$port_base"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "$0: not a number: $n" >&2; exit 2; }
done
IFS=, read -r -a bins <<<"$paddocks"
bench_bin="${bins[0]}"
if [ "$zookeeper" = 1 ]; then
    [ -f "$ZK_JAR" ] && command -v java >/dev/null ||
        { echo "$0: --zookeeper needs java and $ZK_JAR (apt-get install zookeeper)" >&2; exit 2; }
    bins+=(zookeeper)
fi

work=$(mktemp -d /tmp/paddock-snapstall.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

client_port() { echo $((port_base + $1)); }

mode_of() {
    (exec 3<>"/dev/tcp/127.0.0.1/$(client_port "$1")" && echo srvr >&3 && timeout 1 cat <&3) \
        2>/dev/null | awk '/^Mode:/ {print $2}'
}

declare -A pid
start_server() { # bin|zookeeper sid
    if [ "$1" = zookeeper ]; then
        java -Xmx2g -Dzookeeper.forceSync=yes -Dzookeeper.admin.enableServer=false \
            -Dzookeeper.snapshotSizeFactor=-1 -cp "$ZK_JAR:/usr/share/java/*" \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$work/s$2/zoo.cfg" \
            >>"$work/s$2/log" 2>&1 &
    else
        "$1" server "$work/s$2/zoo.cfg" >>"$work/s$2/log" 2>&1 &
    fi
    pid[$2]=$!
    pids+=("$!")
}

run_once() { # bin
    local bin=$1 i leader="" f
    rm -rf "${work:?}"/s*
    for i in 1 2 3; do
        mkdir -p "$work/s$i/data"
        echo "$i" >"$work/s$i/data/myid"
        {
            echo "tickTime=2000"; echo "initLimit=30"; echo "syncLimit=10"
            echo "dataDir=$work/s$i/data"; echo "clientPort=$(client_port "$i")"
            echo "clientPortAddress=127.0.0.1"; echo "maxClientCnxns=0"
            echo "snapCount=100000000"; echo "admin.enableServer=false"
            for j in 1 2 3; do
                echo "server.$j=127.0.0.1:$((port_base + 100 + j)):$((port_base + 200 + j))"
            done
        } >"$work/s$i/zoo.cfg"
    done
    for i in 1 2 3; do start_server "$bin" "$i"; done
    for _ in $(seq 1 300); do
        for i in 1 2 3; do [ "$(mode_of "$i")" = leader ] && leader=$i; done
        [ -n "$leader" ] && break
        sleep 0.2
    done
    [ -n "$leader" ] || { echo "$0: no leader within 60 s" >&2; return 1; }
    f=$((leader % 3 + 1))
    local hosts="127.0.0.1:$(client_port "$leader")"
    "$bench_bin" bench --hosts "$hosts" --clients 16 --depth 32 --op get --keys "$keys" \
        --duration 1 --warmup 0 >/dev/null
    kill -9 "${pid[$f]}"
    wait "${pid[$f]}" 2>/dev/null || true
    "$bench_bin" bench --hosts "$hosts" --clients 4 --depth 8 --op set --keys 1000 \
        --duration 1 --warmup 0 --no-setup >/dev/null
    "$bench_bin" bench --hosts "$hosts" --clients 16 --depth 1 --op get --keys "$keys" \
        --duration "$duration" --warmup 0 --no-setup --server-pid "${pid[$leader]}" \
        >"$work/get.out" 2>&1 &
    local bp=$!
    sleep 1.5
    start_server "$bin" "$f"
    wait "$bp"
    local fhwm
    fhwm=$(awk '/^VmHWM:/ {print $2}' "/proc/${pid[$f]}/status" 2>/dev/null || echo -1)
    echo "$bin: $(grep -o 'p99_us=[^ ]* p999_us=[^ ]* max_us=[^ ]*' "$work/get.out")" \
         "$(grep -o 'server_rss_kb=[^ ]* server_hwm_kb=[^ ]*' "$work/get.out")" \
         "follower_hwm_kb=${fhwm:--1}"
    grep -h "a snapshot of zxid\|the snapshot of zxid\|Sending SNAP\|Sending snapshot" \
        "$work/s$leader/log" | sed 's/^/    /' || true
    for i in 1 2 3; do kill "${pid[$i]}" 2>/dev/null || true; done
    for i in 1 2 3; do wait "${pid[$i]}" 2>/dev/null || true; done
    pids=()
}

for r in $(seq 1 "$reps"); do
    order=("${bins[@]}")
    if [ $((r % 2)) -eq 0 ]; then
        order=()
        for ((k = ${#bins[@]} - 1; k >= 0; k--)); do order+=("${bins[$k]}"); done
    fi
    for b in "${order[@]}"; do run_once "$b"; done
done
