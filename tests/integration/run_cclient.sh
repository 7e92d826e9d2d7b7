#!/usr/bin/env bash
# Run one official-C-client integration test against a fresh standalone server.
#
#   run_cclient.sh <server-binary> <test-binary>
#
# <server-binary> is the paddock binary (started as `paddock server zoo.cfg`),
# or the literal word `zookeeper` to start Apache ZooKeeper 3.8 (Debian package
# `zookeeper`) with java instead: that is how the tests are validated.
#
# The server gets a free 127.0.0.1 port, a temporary dataDir and zoo.cfg
# (tickTime=500, so sessions negotiate between 1000 and 10000 ms;
# 4lw.commands.whitelist=*).  We wait until it answers `ruok` with `imok` and
# `srvr` with its version (Apache says imok before it serves sessions), run
# `<test-binary> 127.0.0.1:<port>`, stop the server we started by its PID
# (SIGTERM, SIGKILL after 5 s), remove the temp dir and exit with the test's
# status.  On failure the tail of the server's log is printed to stderr.
#
# Environment: PADDOCK_TEST_KEEP=1 keeps the temp dir; CCLIENT_TEST_TIMEOUT
# (seconds, default 120) bounds the test binary.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 <paddock-binary|zookeeper> <test-binary>" >&2
    exit 2
fi
server=$1
test_bin=$2
test_timeout=${CCLIENT_TEST_TIMEOUT:-120}

if [ "$server" != zookeeper ] && [ ! -x "$server" ]; then
    echo "run_cclient: server binary '$server' is not executable" >&2
    exit 2
fi
if [ ! -x "$test_bin" ]; then
    echo "run_cclient: test binary '$test_bin' is not executable" >&2
    exit 2
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/paddock-cclient.XXXXXX") || exit 2
datadir=$workdir/data
cfg=$workdir/zoo.cfg
srvout=$workdir/server.out      # stdout+stderr of the server process
srvlog=$workdir/server.log      # Apache's log4j file
mkdir -p "$datadir"

server_pid=

stop_server() {
    local pid=$server_pid
    server_pid=
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        local i
        for ((i = 0; i < 50; i++)); do       # 5 s in steps of 0.1 s
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "run_cclient: server $pid ignored SIGTERM for 5 s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    return 0
}

show_server_log() {
    local f
    for f in "$srvout" "$srvlog"; do
        if [ -s "$f" ]; then
            echo "--- last lines of $f" >&2
            tail -n 40 "$f" >&2
        fi
    done
}

cleanup() {
    stop_server
    if [ -n "${PADDOCK_TEST_KEEP:-}" ]; then
        echo "run_cclient: kept $workdir" >&2
    else
        rm -rf "$workdir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Send a four-letter word and print the reply (bash /dev/tcp, no nc needed).
four_letter() {     # port word
    timeout 2 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "%s" "$2" >&3
        cat <&3
    ' four_letter "$1" "$2" 2>/dev/null
}

# A port nobody listens on now (random in 20000-59999; a connect that fails
# means free).  The server may still lose a race for it; we then retry.
pick_port() {
    local p i
    for ((i = 0; i < 50; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

write_config() {    # port
    cat >"$cfg" <<EOF
# written by tests/integration/run_cclient.sh
tickTime=500
initLimit=10
syncLimit=5
dataDir=$datadir
clientPort=$1
clientPortAddress=127.0.0.1
maxClientCnxns=100
4lw.commands.whitelist=*
admin.enableServer=false
EOF
}

start_server() {    # port
    if [ "$server" = zookeeper ]; then
        # zookeeper.jar's manifest Class-Path brings its dependencies but no
        # slf4j binding; add log4j 1.2 and log into the temp dir only.
        cat >"$workdir/log4j.properties" <<EOF
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$srvlog
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} [%t] %-5p %c{1} - %m%n
EOF
        local cp=/usr/share/java/zookeeper.jar j
        for j in /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar; do
            [ -e "$j" ] && cp=$cp:$j
        done
        (cd "$workdir" && exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
            -Djava.net.preferIPv4Stack=true \
            -Dlog4j.configuration="file:$workdir/log4j.properties" \
            -Dzookeeper.log.dir="$workdir" \
            -Dzookeeper.admin.enableServer=false \
            -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$cfg" \
            </dev/null >>"$srvout" 2>&1) &
    else
        (cd "$workdir" && exec "$server" server "$cfg" </dev/null >>"$srvout" 2>&1) &
    fi
    server_pid=$!
}

wait_ready() {      # port; 0 when serving, 1 on early exit, 2 on timeout
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "run_cclient: server exited during startup" >&2
            return 1
        fi
        if [ "$(four_letter "$1" ruok)" = imok ] &&
            four_letter "$1" srvr | grep -q 'Zookeeper version:'; then
            return 0
        fi
        sleep 0.1
    done
    echo "run_cclient: server not ready on port $1 after 30 s" >&2
    return 2
}

# An early exit may be a lost race for the port: try again on another port.
port=
for attempt in 1 2 3; do
    port=$(pick_port) || { echo "run_cclient: no free port" >&2; exit 2; }
    write_config "$port"
    start_server "$port"
    wait_ready "$port"
    ready=$?
    [ "$ready" -eq 0 ] && break
    show_server_log
    stop_server
    port=
    [ "$ready" -eq 2 ] && break
done
if [ -z "$port" ]; then
    echo "run_cclient: could not start server '$server'" >&2
    exit 2
fi

echo "run_cclient: $server serving on 127.0.0.1:$port (pid $server_pid, dir $workdir)" >&2
timeout -k 5 "$test_timeout" "$test_bin" "127.0.0.1:$port"
status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run_cclient: test binary timed out after ${test_timeout} s" >&2
fi
if [ "$status" -ne 0 ]; then
    show_server_log
fi
exit "$status"
