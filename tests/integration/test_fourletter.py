"""Four-letter words on the client port (4lw.commands.whitelist=*).

Only lines that a Paddock server can produce with the same meaning are
checked; JVM-specific content (envi's java.* keys, most of mntr's metric
names) is not.  ZooKeeper 3.8.0 facts pinned here:
  * the answer is plain text and the server closes the connection after it;
  * srvr/stat: "Zookeeper version: 3.8...", "Zxid: 0x<hex>", "Mode:
    standalone", "Node count: N" where N counts the root TWICE (ZK's
    DataTree keeps it under "" and "/"): N = getAllChildrenNumber("/") + 2,
    i.e. 5 on a fresh server;
  * mntr: "key<TAB>value" lines; zk_znode_count equals srvr's node count;
    zk_watch_count counts data and child watches; zk_ephemerals_count;
  * wchs/wchc/wchp list data watches (exists/getData/persistent), session
    ids as lowercase hex "0x..." without padding;
  * conf: key=value lines; dataDir is the configured dataDir + "/version-2";
  * a word that is not whitelisted answers "<word> is not executed because
    it is not in the whitelist.";
  * an unknown word is read as a frame length, so the server just closes.
"""

import re

import pytest

from zkserver import MAX_SESSION_TIMEOUT, MIN_SESSION_TIMEOUT, ServerProcess
from zkwire import AddWatchMode, Flags, four_letter


def lines(text):
    return [l for l in text.split("\n") if l != ""]


def kv(text, sep):
    out = {}
    for l in lines(text):
        if sep in l:
            k, v = l.split(sep, 1)
            out[k.strip()] = v.strip()
    return out


SRVR_RE = [
    r"Zookeeper version: 3\.8\..*",
    r"Latency min/avg/max: \d+/[\d.]+/\d+",
    r"Received: \d+",
    r"Sent: \d+",
    r"Connections: \d+",
    r"Outstanding: \d+",
    r"Zxid: 0x[0-9a-f]+",
    r"Mode: standalone",
    r"Node count: \d+",
]


def test_ruok(server):
    assert four_letter(server.port, "ruok") == "imok"


def test_srvr_shape(server):
    out = four_letter(server.port, "srvr")
    ls = lines(out)
    assert len(ls) == len(SRVR_RE), out
    for l, rx in zip(ls, SRVR_RE):
        assert re.fullmatch(rx, l), (l, rx)


def test_stat_shape(server, raw_factory):
    c = raw_factory()
    out = four_letter(server.port, "stat")
    ls = lines(out)
    assert re.fullmatch(SRVR_RE[0], ls[0])
    assert ls[1] == "Clients:"
    clients = [l for l in ls if l.startswith(" /127.0.0.1:")]
    # our session's connection and the 4lw connection itself
    assert len(clients) >= 2, out
    for rx in SRVR_RE[1:]:
        assert any(re.fullmatch(rx, l) for l in ls), (rx, out)
    assert c.exists("/")[0] == 0


def test_counts_on_a_fresh_server(fresh_server, raw_factory):
    port = fresh_server.port
    assert kv(four_letter(port, "srvr"), ":")["Node count"] == "5"
    a = raw_factory(port=port)
    b = raw_factory(port=port)
    a.create("/a", b"12345")
    a.create("/a/e1", flags=Flags.EPHEMERAL)
    err, (_, st) = a.create("/e2", b"xy", flags=Flags.EPHEMERAL)
    a.get_data("/a", watch=True)
    b.get_children("/e2", watch=True)
    srvr = kv(four_letter(port, "srvr"), ":")
    assert srvr["Mode"] == "standalone"
    assert int(srvr["Zxid"], 16) == st.czxid
    assert int(srvr["Node count"]) == a.get_all_children_number("/")[1] + 2
    assert srvr["Node count"] == "8"
    mntr = kv(four_letter(port, "mntr"), "\t")
    assert mntr["zk_server_state"] == "standalone"
    assert mntr["zk_version"].startswith("3.8.")
    assert mntr["zk_znode_count"] == "8"
    assert mntr["zk_ephemerals_count"] == "2"
    assert mntr["zk_watch_count"] == "2"      # one data + one child watch
    assert int(mntr["zk_num_alive_connections"]) >= 2
    assert mntr["zk_outstanding_requests"] == "0"
    assert int(mntr["zk_approximate_data_size"]) > 0
    for key in ("zk_avg_latency", "zk_max_latency", "zk_min_latency",
                "zk_packets_received", "zk_packets_sent"):
        assert key in mntr, key


def test_watch_words(fresh_server, raw_factory):
    port = fresh_server.port
    a = raw_factory(port=port)
    a.create("/w")
    a.get_data("/w", watch=True)
    sid = "0x%x" % a.session_id
    assert four_letter(port, "wchs") == \
        "1 connections watching 1 paths\nTotal watches:1\n"
    assert lines(four_letter(port, "wchc")) == [sid, "\t/w"]
    assert lines(four_letter(port, "wchp")) == ["/w", "\t" + sid]
    b = raw_factory(port=port)
    b.add_watch("/p", AddWatchMode.PERSISTENT)
    b.get_data("/w", watch=True)
    assert lines(four_letter(port, "wchs")) == [
        "2 connections watching 2 paths", "Total watches:3"]
    wchp = lines(four_letter(port, "wchp"))
    i = wchp.index("/w")
    assert sorted(wchp[i + 1:i + 3]) == sorted(
        ["\t" + sid, "\t0x%x" % b.session_id])


def test_cons(server, raw_factory):
    c = raw_factory()
    c.exists("/")
    out = four_letter(server.port, "cons")
    mine = [l for l in lines(out) if "sid=0x%x," % c.session_id in l]
    assert len(mine) == 1, out
    assert mine[0].startswith(" /127.0.0.1:")
    assert "to=%d" % c.negotiated_timeout in mine[0]


def test_conf(server):
    conf = kv(four_letter(server.port, "conf"), "=")
    assert conf["clientPort"] == str(server.port)
    assert conf["tickTime"] == "500"
    assert conf["maxClientCnxns"] == "200"
    assert conf["minSessionTimeout"] == str(MIN_SESSION_TIMEOUT)
    assert conf["maxSessionTimeout"] == str(MAX_SESSION_TIMEOUT)
    assert conf["dataDir"] == server.datadir + "/version-2"
    assert conf["dataLogDir"] == server.datadir + "/version-2"


def test_envi_dirs_isro(server):
    envi = four_letter(server.port, "envi")
    assert envi.startswith("Environment:\n")
    e = kv(envi, "=")
    assert e["zookeeper.version"].startswith("3.8.")
    for key in ("host.name", "os.name", "os.arch", "user.dir"):
        assert key in e, key
    d = kv(four_letter(server.port, "dirs"), ":")
    assert set(d) == {"datadir_size", "logdir_size"}
    assert all(v.isdigit() for v in d.values())
    assert four_letter(server.port, "isro") == "rw"


def test_unknown_word_closes(server):
    assert four_letter(server.port, "xxxx") == ""
    assert four_letter(server.port, "ruok") == "imok"


@pytest.fixture(scope="module")
def restricted_server():
    s = ServerProcess(extra_cfg={"4lw.commands.whitelist": "srvr, stat"},
                      name="4lw-whitelist")
    s.start()
    yield s
    s.cleanup()


def test_whitelist(restricted_server):
    port = restricted_server.port
    for w in ("ruok", "mntr", "conf", "cons", "wchs", "envi", "isro"):
        assert four_letter(port, w) == \
            "%s is not executed because it is not in the whitelist.\n" % w
    assert four_letter(port, "srvr").startswith("Zookeeper version: 3.8.")
    assert four_letter(port, "stat").startswith("Zookeeper version: 3.8.")
