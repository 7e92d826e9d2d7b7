"""Four-letter words: the exact shape of every answer, line by line.

test_fourletter.py checks what the answers mean; this module pins their
format, as observed on Apache ZooKeeper 3.8.0 standalone (Debian package,
4lw.commands.whitelist=*), so that tools parsing them keep working:

  * the server answers, then closes; no answer ends without its newline
    except ruok ("imok"), isro ("rw"), gtmk and stmk (a bare number);
  * srvr and stat print ServerStats.toString() in a fixed key order, and the
    4lw connection counts itself: one packet received before it runs, one
    packet sent per 8 KiB of answer;
  * stat and cons list every connection as
    " /ip:port[interestOps](queued=N,recved=N,sent=N" and, for cons and a
    connection with a session, ",sid=0x..,lop=..,est=..,to=..[,lcxid=0x..]
    ,lzxid=0x..,lresp=..,llat=..,minlat=..,avglat=..,maxlat=..)"; the 4lw
    connection itself shows "[0]" and no session;
  * mntr: "zk_<key>\\t<value>" lines, zk_version and zk_server_state first,
    then 24 gauges, 47 counters, 41 summaries (avg/min/max/cnt/sum) and 23
    percentile summaries (plus p50/p95/p99/p999), in the order below.
    ZooKeeper adds zk_*_per_namespace summaries for each top-level znode it
    has seen traffic for; those are ignored here;
  * conf and envi print key=value lines in a fixed order;
  * crst/srst answer "Connection stats reset." / "Server stats reset." and
    reset exactly what ServerCnxn.resetStats / ServerStats.reset reset;
  * a word that is not whitelisted (even telnet's close sequence) answers
    "<word> is not executed because it is not in the whitelist.".

Paddock's version line is "3.8.0-paddock-<v>, built on MM/DD/YYYY HH:MM GMT"
(Apache 3.8 prints "yyyy-MM-dd HH:mm UTC"; the older form is the one that
parsers such as go-zookeeper's FLWSrvr accept).
"""

import re
import socket
import struct
import time

import pytest

from conftest import TARGET
from zkserver import MAX_SESSION_TIMEOUT, MIN_SESSION_TIMEOUT, ServerProcess
from zkwire import Flags, RawClient, four_letter


def raw_word(port, data, timeout=5.0):
    """Send raw bytes as the first packet and return everything answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)


# --------------------------------------------------------------------------
# the version line

if TARGET == "paddock":
    VERSION_RE = (r"3\.8\.0-paddock-[0-9A-Za-z.\-]+, built on "
                  r"\d\d/\d\d/\d\d\d\d \d\d:\d\d GMT")
else:
    VERSION_RE = r"3\.8\.0-\S+, built on .+"

# go-zookeeper's FLWSrvr regex (zk/flw.go), which Paddock must satisfy.
GO_ZK_SRVR_RE = (
    r"(?m:\A^Zookeeper version: ([A-Za-z0-9\.\-]+), built on "
    r"(\d\d/\d\d/\d\d\d\d \d\d:\d\d [A-Za-z0-9:\+\-]+).*\n"
    r"^Latency min/avg/max: (\d+)/([0-9.]+)/(\d+).*\n"
    r"^Received: (\d+).*\n^Sent: (\d+).*\n^Connections: (\d+).*\n"
    r"^Outstanding: (\d+).*\n"
    r"^Zxid: (0x[A-Za-z0-9]+).*\n^Mode: (\w+).*\n^Node count: (\d+))")

# Java's Double.toString of a value rounded to 4 decimals.
JAVA_DOUBLE = r"\d+\.\d{1,4}|\d\.\d+E-?\d+"

STATS_RE = [
    r"Latency min/avg/max: \d+/(%s)/\d+" % JAVA_DOUBLE,
    r"Received: \d+",
    r"Sent: \d+",
    r"Connections: \d+",
    r"Outstanding: \d+",
    r"Zxid: 0x[0-9a-f]+",
    r"Mode: standalone",
    r"Node count: \d+",
]

BRIEF_CNXN_RE = (r" /127\.0\.0\.1:\d+\[([0-9a-f]+)\]"
                 r"\(queued=\d+,recved=(\d+),sent=(\d+)\)")
FULL_CNXN_RE = (r" /127\.0\.0\.1:\d+\[([0-9a-f]+)\]"
                r"\(queued=\d+,recved=(\d+),sent=(\d+),sid=0x([0-9a-f]+),"
                r"lop=([A-Z0-9]+),est=(\d+),to=(\d+),(?:lcxid=0x([0-9a-f]+),)?"
                r"lzxid=0x([0-9a-f]+),lresp=(\d+),llat=(\d+),minlat=(\d+),"
                r"avglat=(\d+),maxlat=(\d+)\)")


def stats_block(lines):
    """Check the ServerStats lines (everything after the version or the
    client list) and return them as a dict."""
    assert len(lines) == len(STATS_RE), lines
    for line, rx in zip(lines, STATS_RE):
        assert re.fullmatch(rx, line), (line, rx)
    return dict(l.split(": ", 1) for l in lines)


def test_version_line(server):
    for word in ("srvr", "stat"):
        first = four_letter(server.port, word).split("\n")[0]
        m = re.fullmatch(r"Zookeeper version: (.*)", first)
        assert m and re.fullmatch(VERSION_RE, m.group(1)), first
    envi = four_letter(server.port, "envi").split("\n")
    assert re.fullmatch(r"zookeeper\.version=" + VERSION_RE, envi[1]), envi[1]


def test_srvr_exact_shape(server):
    out = four_letter(server.port, "srvr")
    lines = out.split("\n")
    assert lines[-1] == ""
    assert lines[0].startswith("Zookeeper version: ")
    stats_block(lines[1:-1])
    if TARGET == "paddock":
        assert re.search(GO_ZK_SRVR_RE, out), out


def test_stat_exact_shape(server, raw_factory):
    c = raw_factory()
    c.exists("/")
    out = four_letter(server.port, "stat")
    lines = out.split("\n")
    assert lines[0].startswith("Zookeeper version: ")
    assert lines[1] == "Clients:"
    blank = lines.index("", 2)
    clients = lines[2:blank]
    for line in clients:
        assert re.fullmatch(BRIEF_CNXN_RE, line), line
    # The 4lw connection is listed, no longer selectable: "[0]", recved=1.
    assert any(re.fullmatch(BRIEF_CNXN_RE, l).groups() == ("0", "1", "0")
               for l in clients), clients
    assert len(clients) >= 2
    stats_block(lines[blank + 1:-1])
    assert lines[-1] == ""


def test_srvr_counts_itself(fresh_server):
    port = fresh_server.port
    a = stats_block(four_letter(port, "srvr").split("\n")[1:-1])
    b = stats_block(four_letter(port, "srvr").split("\n")[1:-1])
    # srvr's own packet is counted before it runs; its answer after.
    assert int(b["Received"]) == int(a["Received"]) + 1
    assert int(b["Sent"]) == int(a["Sent"]) + 1
    assert b["Connections"] == "1"
    assert b["Outstanding"] == "0"


# --------------------------------------------------------------------------
# cons, crst


def test_cons_exact_shape(server, raw_factory):
    c = raw_factory()
    c.create("/cons_shape", b"x")
    c.get_data("/cons_shape")
    out = four_letter(server.port, "cons")
    assert out.endswith(")\n\n"), out
    lines = out.split("\n")[:-2]
    mine = None
    for line in lines:
        m = re.fullmatch(FULL_CNXN_RE, line)
        if m is None:
            # only a connection without a session prints the brief form
            assert re.fullmatch(BRIEF_CNXN_RE, line), line
            continue
        if int(m.group(4), 16) == c.session_id:
            mine = m
    assert mine, out
    (ops, recved, sent, sid, lop, est, to, lcxid, lzxid, lresp, llat, minlat,
     avglat, maxlat) = mine.groups()
    assert ops == "1"                       # OP_READ
    assert (recved, sent) == ("3", "3")     # connect, create, getData
    assert lop == "GETD"
    assert int(to) == c.negotiated_timeout
    assert abs(int(est) - time.time() * 1000) < 60000
    assert int(lcxid, 16) == c.xid
    assert int(lzxid, 16) > 0
    assert int(minlat) <= int(avglat) <= int(maxlat)


def test_crst_resets_connection_stats(server, raw_factory):
    c = raw_factory()
    c.create("/crst_shape", b"x")
    assert four_letter(server.port, "crst") == "Connection stats reset.\n"
    out = four_letter(server.port, "cons")
    mine = [re.fullmatch(FULL_CNXN_RE, l) for l in out.split("\n")
            if "sid=0x%x," % c.session_id in l]
    assert len(mine) == 1 and mine[0], out
    g = mine[0].groups()
    # ServerCnxn.resetStats: counters 0, lop NA, no lcxid, lzxid -1, lresp 0.
    assert (g[1], g[2], g[4]) == ("0", "0", "NA"), out
    assert g[7] is None
    assert g[8] == "ffffffffffffffff"
    assert g[9:] == ("0", "0", "0", "0", "0")
    assert "to=%d" % c.negotiated_timeout in out


# --------------------------------------------------------------------------
# mntr

MNTR_GAUGES = [
    "ephemerals_count", "num_alive_connections", "avg_latency",
    "outstanding_requests", "znode_count", "global_sessions",
    "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent",
    "packets_received", "max_client_response_size",
    "connection_drop_probability", "watch_count", "auth_failed_count",
    "min_latency", "max_file_descriptor_count", "approximate_data_size",
    "open_file_descriptor_count", "local_sessions", "uptime", "max_latency",
    "outstanding_tls_handshake", "min_client_response_size",
    "non_mtls_local_conn_count",
]
MNTR_COUNTERS = [
    "proposal_count", "watch_bytes", "outstanding_changes_removed",
    "throttled_ops", "stale_requests_dropped", "large_requests_rejected",
    "insecure_admin_count", "connection_rejected",
    "cnxn_closed_without_zk_server_running", "sessionless_connections_expired",
    "looking_count", "dead_watchers_queued", "stale_requests",
    "connection_drop_count", "learner_proposal_received_count",
    "digest_mismatches_count", "dead_watchers_cleared",
    "response_packet_cache_hits", "bytes_received_count",
    "add_dead_watcher_stall_time", "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses", "ensemble_auth_success",
    "prep_processor_request_queued", "learner_commit_received_count",
    "stale_replies", "connection_request_count", "response_bytes",
    "ensemble_auth_fail", "diff_count",
    "response_packet_get_children_cache_misses", "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter", "snap_count",
    "unrecoverable_error_count", "unsuccessful_handshake", "commit_count",
    "stale_sessions_expired", "response_packet_get_children_cache_hits",
    "sync_processor_request_queued", "outstanding_changes_queued",
    "request_commit_queued", "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count", "tls_handshake_exceeded",
    "revalidate_count",
]
MNTR_SUMMARIES = [
    "socket_closing_time", "proposal_process_time", "leader_unavailable_time",
    "node_created_watch_count", "session_queues_drained",
    "write_commit_proc_req_queued", "connection_token_deficit",
    "read_commit_proc_req_queued", "node_deleted_watch_count",
    "startup_txns_load_time", "sync_processor_queue_size",
    "follower_sync_time", "prep_processor_queue_size", "fsynctime",
    "inflight_snap_count", "reads_issued_from_session_queue",
    "learner_request_processor_queue_size", "snapshottime",
    "unavailable_time", "startup_txns_loaded",
    "reads_after_write_in_session_queue", "requests_in_session_queue",
    "write_commit_proc_issued", "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time", "dbinittime", "inflight_diff_count",
    "netty_queued_buffer_capacity", "election_time",
    "commit_commit_proc_req_queued", "sync_processor_batch_size",
    "node_children_watch_count", "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time", "node_changed_watch_count", "sync_process_time",
    "startup_snap_load_time",
]
MNTR_PERCENTILE_SUMMARIES = [
    "prep_processor_queue_time_ms", "jvm_pause_time_ms",
    "close_session_prep_time", "read_commitproc_time_ms", "updatelatency",
    "local_write_committed_time_ms", "request_throttle_queue_time_ms",
    "readlatency", "quorum_ack_latency", "om_commit_process_time_ms",
    "read_final_proc_time_ms", "commit_propagation_latency",
    "dead_watchers_cleaner_latency", "write_final_proc_time_ms",
    "proposal_ack_creation_latency", "proposal_latency",
    "om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms",
    "propagation_latency", "server_write_committed_time_ms",
    "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
]


def mntr_keys():
    keys = ["version", "server_state"] + MNTR_GAUGES + MNTR_COUNTERS
    for s in MNTR_SUMMARIES:
        keys += ["%s_%s" % (p, s) for p in ("avg", "min", "max", "cnt", "sum")]
    for s in MNTR_PERCENTILE_SUMMARIES:
        keys += ["%s_%s" % (p, s) for p in ("avg", "min", "max", "cnt", "sum",
                                           "p50", "p95", "p99", "p999")]
    return ["zk_" + k for k in keys]


def mntr(port):
    out = four_letter(port, "mntr")
    assert out.endswith("\n")
    pairs = []
    for line in out.split("\n")[:-1]:
        k, sep, v = line.partition("\t")
        assert sep == "\t" and "\t" not in v, repr(line)
        pairs.append((k, v))
    return pairs


def test_mntr_keys_and_order(server, zk):
    zk.create("/mntr_order/a", b"data", makepath=True)
    zk.get("/mntr_order/a")
    pairs = mntr(server.port)
    # ZooKeeper's per-namespace summaries come and go with traffic.
    keys = [k for k, _ in pairs if not k.endswith("_per_namespace")]
    assert keys == mntr_keys()
    assert len(mntr_keys()) == 485


def test_mntr_values(server, zk):
    zk.create("/mntr_values/e", b"x", makepath=True, ephemeral=True)
    zk.get("/mntr_values/e", watch=lambda e: None)
    values = dict(mntr(server.port))
    assert re.fullmatch(VERSION_RE, values["zk_version"])
    assert values["zk_server_state"] == "standalone"
    for k, v in values.items():
        if k in ("zk_version", "zk_server_state"):
            continue
        if k.startswith("zk_avg_") or k == "zk_connection_drop_probability":
            assert re.fullmatch(JAVA_DOUBLE, v), (k, v)
        else:
            assert re.fullmatch(r"-?\d+", v), (k, v)
    srvr = stats_block(four_letter(server.port, "srvr").split("\n")[1:-1])
    assert int(values["zk_znode_count"]) == int(srvr["Node count"])
    assert int(values["zk_ephemerals_count"]) >= 1
    assert int(values["zk_watch_count"]) >= 1
    assert int(values["zk_global_sessions"]) >= 1
    assert int(values["zk_num_alive_connections"]) >= 2
    assert values["zk_outstanding_requests"] == "0"
    assert values["zk_local_sessions"] == "0"
    assert int(values["zk_open_file_descriptor_count"]) > 0
    assert int(values["zk_max_file_descriptor_count"]) > 0
    assert int(values["zk_uptime"]) >= 0
    assert int(values["zk_min_client_response_size"]) >= 16
    assert int(values["zk_max_client_response_size"]) >= \
        int(values["zk_min_client_response_size"])
    assert int(values["zk_bytes_received_count"]) > 0
    assert int(values["zk_connection_request_count"]) >= 1
    assert int(values["zk_cnt_readlatency"]) >= 1
    assert int(values["zk_cnt_updatelatency"]) >= 1
    for s in ("readlatency", "updatelatency"):
        lo, hi = int(values["zk_min_" + s]), int(values["zk_max_" + s])
        for p in ("p50", "p95", "p99", "p999"):
            assert lo <= int(values["zk_%s_%s" % (p, s)]) <= hi


# --------------------------------------------------------------------------
# conf, envi, dirs, isro, gtmk, stmk, hash

CONF_KEYS = ["clientPort", "secureClientPort", "dataDir", "dataDirSize",
             "dataLogDir", "dataLogSize", "tickTime", "maxClientCnxns",
             "minSessionTimeout", "maxSessionTimeout",
             "clientPortListenBacklog", "serverId"]

ENVI_KEYS = ["zookeeper.version", "host.name", "java.version", "java.vendor",
             "java.home", "java.class.path", "java.library.path",
             "java.io.tmpdir", "java.compiler", "os.name", "os.arch",
             "os.version", "user.name", "user.home", "user.dir",
             "os.memory.free", "os.memory.max", "os.memory.total"]


def test_conf_exact(server):
    out = four_letter(server.port, "conf")
    assert out.endswith("\n")
    pairs = [l.split("=", 1) for l in out.split("\n")[:-1]]
    assert [k for k, _ in pairs] == CONF_KEYS
    conf = dict(pairs)
    assert conf["clientPort"] == str(server.port)
    assert conf["secureClientPort"] == "-1"
    assert conf["dataDir"] == server.datadir + "/version-2"
    assert conf["dataLogDir"] == server.datadir + "/version-2"
    assert conf["dataDirSize"].isdigit() and conf["dataLogSize"].isdigit()
    assert conf["tickTime"] == "500"
    assert conf["maxClientCnxns"] == "200"
    assert conf["minSessionTimeout"] == str(MIN_SESSION_TIMEOUT)
    assert conf["maxSessionTimeout"] == str(MAX_SESSION_TIMEOUT)
    assert conf["clientPortListenBacklog"] == "-1"
    assert conf["serverId"] == "0"


def test_envi_exact(server):
    out = four_letter(server.port, "envi")
    lines = out.split("\n")
    assert lines[0] == "Environment:" and lines[-1] == ""
    pairs = [l.split("=", 1) for l in lines[1:-1]]
    assert [k for k, _ in pairs] == ENVI_KEYS
    env = dict(pairs)
    assert env["zookeeper.version"].startswith("3.8.0")
    assert env["os.name"] == "Linux"
    for k in ("os.memory.free", "os.memory.max", "os.memory.total"):
        assert re.fullmatch(r"\d+MB", env[k]), (k, env[k])


def test_dirs_isro_hash_exact(server):
    assert re.fullmatch(r"datadir_size: \d+\nlogdir_size: \d+\n",
                        four_letter(server.port, "dirs"))
    assert four_letter(server.port, "isro") == "rw"
    # The digest log: "<zxid hex>: <digest>" lines (empty standalone).
    for line in four_letter(server.port, "hash").split("\n")[:-1]:
        assert re.fullmatch(r"[0-9a-f]+: \d+", line), line


def test_gtmk_stmk(fresh_server):
    port = fresh_server.port
    assert four_letter(port, "gtmk") == "306"
    # stmk takes the new mask as the next 8 bytes (a big-endian long).
    assert raw_word(port, b"stmk" + struct.pack(">q", 1234)) == b"1234"
    assert four_letter(port, "gtmk") == "1234"
    assert raw_word(port, b"stmk" + struct.pack(">q", -1)) == b"-1"
    assert four_letter(port, "gtmk") == "-1"
    # Without the 8 bytes ZooKeeper's getLong() fails: no answer.
    assert raw_word(port, b"stmk") == b""
    assert four_letter(port, "gtmk") == "-1"


# --------------------------------------------------------------------------
# wchs, wchc, wchp


def test_watch_words_exact(fresh_server, raw_factory):
    port = fresh_server.port
    assert four_letter(port, "wchs") == \
        "0 connections watching 0 paths\nTotal watches:0\n"
    assert four_letter(port, "wchc") == "\n"
    assert four_letter(port, "wchp") == "\n"
    a = raw_factory(port=port)
    b = raw_factory(port=port)
    a.create("/w1")
    a.get_data("/w1", watch=True)
    a.exists("/missing", watch=True)
    a.get_children("/w1", watch=True)       # child watches are not listed
    b.get_data("/w1", watch=True)
    sa, sb = "0x%x" % a.session_id, "0x%x" % b.session_id
    assert four_letter(port, "wchs") == \
        "2 connections watching 2 paths\nTotal watches:3\n"
    wchc = four_letter(port, "wchc")
    assert wchc.endswith("\n\n")
    groups = {}
    for line in wchc.split("\n")[:-2]:
        if line.startswith("\t"):
            groups[cur].append(line[1:])
        else:
            cur = line
            groups[cur] = []
    assert {k: sorted(v) for k, v in groups.items()} == \
        {sa: ["/missing", "/w1"], sb: ["/w1"]}
    wchp = four_letter(port, "wchp")
    assert wchp.endswith("\n\n")
    groups = {}
    for line in wchp.split("\n")[:-2]:
        if line.startswith("\t"):
            groups[cur].append(line[1:])
        else:
            cur = line
            groups[cur] = []
    assert {k: sorted(v) for k, v in groups.items()} == \
        {"/w1": sorted([sa, sb]), "/missing": [sa]}


# --------------------------------------------------------------------------
# dump

DATE_RE = r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}"


def test_dump_exact(fresh_server, raw_factory):
    port = fresh_server.port
    a = raw_factory(port=port)
    b = raw_factory(port=port)
    a.create("/e1", flags=Flags.EPHEMERAL)
    a.create("/e2", flags=Flags.EPHEMERAL)
    b.create("/p")
    out = four_letter(port, "dump")
    lines = out.split("\n")
    assert lines[-1] == ""
    assert lines[0] == "SessionTracker dump:"
    m = re.fullmatch(r"Session Sets \((\d+)\)/\((\d+)\):", lines[1])
    assert m and m.group(2) == "2", lines[1]
    i, listed = 2, []
    while not lines[i].startswith("ephemeral"):
        m = re.fullmatch(r"(\d+) expire at (%s):" % DATE_RE, lines[i])
        assert m, lines[i]
        n = int(m.group(1))
        listed += lines[i + 1:i + 1 + n]
        i += 1 + n
    assert sorted(listed) == sorted(["\t0x%x" % a.session_id,
                                     "\t0x%x" % b.session_id])
    assert lines[i] == "ephemeral nodes dump:"
    assert lines[i + 1] == "Sessions with Ephemerals (1):"
    assert lines[i + 2] == "0x%x:" % a.session_id
    assert sorted(lines[i + 3:i + 5]) == ["\t/e1", "\t/e2"]
    assert lines[i + 5] == "Connections dump:"
    m = re.fullmatch(r"Connections Sets \((\d+)\)/\((\d+)\):", lines[i + 6])
    assert m and m.group(2) == "3", lines[i + 6]   # a, b and this one
    conns = []
    j = i + 7
    while j < len(lines) - 1:
        m = re.fullmatch(r"(\d+) expire at (%s):" % DATE_RE, lines[j])
        assert m, lines[j]
        n = int(m.group(1))
        conns += lines[j + 1:j + 1 + n]
        j += 1 + n
    assert len(conns) == 3
    for line in conns:
        assert re.fullmatch(r"\tip: /127\.0\.0\.1:\d+ sessionId: 0x[0-9a-f]+",
                            line), line
    assert sorted(l.rsplit(" ", 1)[1] for l in conns) == \
        sorted(["0x0", "0x%x" % a.session_id, "0x%x" % b.session_id])


# --------------------------------------------------------------------------
# srst


def test_srst_resets_server_stats(fresh_server, raw_factory):
    port = fresh_server.port
    c = raw_factory(port=port)
    for _ in range(5):
        c.exists("/")
    assert four_letter(port, "srst") == "Server stats reset.\n"
    lines = four_letter(port, "srvr").split("\n")
    s = stats_block(lines[1:-1])
    # ServerStats.reset(): latency and packet counters restart; srst's own
    # answer is the one packet sent since, srvr's request the one received.
    assert s["Latency min/avg/max"] == "0/0.0/0"
    assert (s["Received"], s["Sent"]) == ("1", "1")
    values = dict(mntr(port))
    assert values["zk_cnt_readlatency"] == "0"
    assert values["zk_last_client_response_size"] == "-1"
    assert values["zk_connection_request_count"] == "0"
    assert int(values["zk_uptime"]) > 0           # a gauge: not reset


# --------------------------------------------------------------------------
# whitelist

ALL_WORDS = ["conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok",
             "stmk", "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr",
             "isro", "hash"]


@pytest.fixture(scope="module")
def ruok_only_server():
    s = ServerProcess(extra_cfg={"4lw.commands.whitelist": " ruok ,, wchs"},
                      name="4lw-ruok-only")
    s.start()
    yield s
    s.cleanup()


def test_whitelist_exact(ruok_only_server):
    port = ruok_only_server.port
    allowed = {"ruok", "wchs", "srvr"}     # srvr: always, for zkServer.sh
    for w in ALL_WORDS:
        out = four_letter(port, w)
        if w in allowed:
            assert "whitelist" not in out, (w, out)
        else:
            assert out == \
                "%s is not executed because it is not in the whitelist.\n" % w
    assert four_letter(port, "ruok") == "imok"
    # telnet's close sequence is a known word too.
    assert raw_word(port, b"\xff\xf4\xff\xfd") == \
        b"telnet close is not executed because it is not in the whitelist.\n"


def test_telnet_close_with_star(server):
    # Known and allowed, but ZooKeeper has no command for it: just closed.
    assert raw_word(server.port, b"\xff\xf4\xff\xfd") == b""
    assert four_letter(server.port, "ruok") == "imok"


def test_hash_lists_every_128th_zxid(fresh_server):
    # DataTree's digest log: after each zxid divisible by 128, the tree digest,
    # one "<hex zxid>: <decimal digest>" line, oldest first.
    c = RawClient(fresh_server.port)
    c.connect(timeout_ms=10000)
    for i in range(300):
        assert c.create("/hash-%d" % i)[0] == 0
    c.close()
    lines = four_letter(fresh_server.port, "hash").splitlines()
    assert [l.split(": ")[0] for l in lines] == ["80", "100"]
    for l in lines:
        zx, digest = l.split(": ")
        int(zx, 16)
        assert int(digest) != 0
