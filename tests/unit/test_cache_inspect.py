"""cache_inspect: RESP, INFO / SENTINEL / CLUSTER parsing, judging, and gathering from a local RESP server."""
import ast
import io
import socket
import socketserver
import threading

import pytest

import cache_inspect as mod
from ansible.module_utils import huaian_inspect_cache as hc
from conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "cache_inspect"
PASSWORD = "s3cret-Canary-7f1e"
T = dict(hc.DEFAULT_THRESHOLDS)


def fixture(name):
    return (FIX / name).read_text()


# --- a Redis / Sentinel speaking RESP on a local port -----------------------------------------------

def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(items):
    return b"*%d\r\n" % len(items) + b"".join(bulk(str(i)) for i in items)


def read_command(rfile):
    """The server side of RESP: one array of bulk strings (what clients send)."""
    line = rfile.readline()
    if not line:
        return None
    assert line.startswith(b"*"), line
    args = []
    for _ in range(int(line[1:-2])):
        size = int(rfile.readline()[1:-2])
        args.append(rfile.read(size + 2)[:-2].decode())
    return args


class FakeRedis(object):
    """replies: {'INFO': bytes, 'SENTINEL MASTER': bytes, ...}; requires AUTH when password is set."""

    def __init__(self, replies, password=None):
        self.replies, self.password, self.received = replies, password, []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                authed = fake.password is None
                while True:
                    args = read_command(self.rfile)
                    if args is None:
                        return
                    fake.received.append(args)
                    name = args[0].upper()
                    if name == "AUTH":
                        if fake.password is None:
                            self.wfile.write(b"-ERR AUTH <password> called without any password configured for the default user. "
                                             b"Are you sure your configuration is correct?\r\n")
                        elif args[-1] == fake.password:
                            authed = True
                            self.wfile.write(b"+OK\r\n")
                        else:
                            self.wfile.write(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
                    elif not authed:
                        self.wfile.write(b"-NOAUTH Authentication required.\r\n")
                    elif name == "PING":
                        self.wfile.write(b"+PONG\r\n")
                    else:
                        key = " ".join(a.upper() for a in args[:2]) if name in ("SENTINEL", "CLUSTER") else name
                        self.wfile.write(fake.replies.get(key, b"-ERR unknown command '%s'\r\n" % args[0].encode()))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SENTINEL_MASTER = ["name", "preview-cache", "ip", "10.231.10.31", "port", "6379", "runid", "5d7c1c3f8b0a4e8f9d2b7e1a3c4d5e6f7a8b9c0d",
                   "flags", "master", "link-pending-commands", "0", "link-refcount", "1", "last-ping-sent", "0",
                   "last-ok-ping-reply", "412", "last-ping-reply", "412", "down-after-milliseconds", "5000",
                   "info-refresh", "5121", "role-reported", "master", "role-reported-time", "17518912",
                   "config-epoch", "0", "num-slaves", "2", "num-other-sentinels", "2", "quorum", "2",
                   "failover-timeout", "30000", "parallel-syncs", "1"]
CKQUORUM_OK = b"+OK 3 usable Sentinels. Quorum and failover authorization can be reached\r\n"


def sentinel_master(**over):
    reply = list(SENTINEL_MASTER)
    for key, value in over.items():
        reply[reply.index(key.replace("_", "-")) + 1] = value
    return array(reply)


@pytest.fixture
def servers():
    made = []

    def make(replies, password=PASSWORD):
        s = FakeRedis(replies, password)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


EXPECTED = {"address": "10.231.10.31", "replicas": 2, "sentinels": 3, "quorum": 2, "nodes": 0}


# --- protocol and parsers ---------------------------------------------------------------------------

def test_encode_command_is_resp_arrays_of_bulk_strings():
    assert hc.encode_command(["SENTINEL", "MASTER", "preview-cache"]) == (
        b"*3\r\n$8\r\nSENTINEL\r\n$6\r\nMASTER\r\n$13\r\npreview-cache\r\n")
    assert hc.encode_command(["AUTH", "pä"]) == b"*2\r\n$4\r\nAUTH\r\n$3\r\np\xc3\xa4\r\n"


@pytest.mark.parametrize("raw, expected", [
    (b"+PONG\r\n", "PONG"),
    (b":42\r\n", 42),
    (b"$-1\r\n", None),
    (b"$5\r\nhello\r\n", "hello"),
    (b"*2\r\n$1\r\na\r\n:1\r\n", ["a", 1]),
    (b"*1\r\n*1\r\n+x\r\n", [["x"]]),
])
def test_read_reply(raw, expected):
    assert hc.read_reply(io.BytesIO(raw)) == expected


def test_read_reply_errors_and_truncation():
    err = hc.read_reply(io.BytesIO(b"-NOAUTH Authentication required.\r\n"))
    assert isinstance(err, hc.RespError) and str(err).startswith("NOAUTH")
    with pytest.raises(EOFError):
        hc.read_reply(io.BytesIO(b"$10\r\nshort\r\n"))
    with pytest.raises(EOFError):
        hc.read_reply(io.BytesIO(b""))


def test_parse_info_of_a_master():
    info = hc.parse_info(fixture("info_master.txt"))
    assert info["role"] == "master" and info["connected_slaves"] == 2
    assert info["maxmemory"] == 64 * 1048576 and info["used_memory"] == 2513728
    assert info["maxmemory_policy"] == "allkeys-lru" and info["evicted_keys"] == 0
    assert info["slave1"] == {"ip": "10.231.10.33", "port": 6379, "state": "online", "offset": 2861467, "lag": 1}
    assert info["db0"]["keys"] == 6
    assert info["used_memory_peak_perc"] == "92.88%"
    assert [r["ip"] for r in hc.replicas_from_info(info)] == ["10.231.10.32", "10.231.10.33"]


def test_pairs_and_cluster_nodes():
    m = hc.pairs_to_dict(SENTINEL_MASTER)
    assert m["ip"] == "10.231.10.31" and m["num-other-sentinels"] == 2 and m["flags"] == "master"
    nodes = hc.parse_cluster_nodes(fixture("cluster_nodes_fail.txt"))
    assert [n["address"] for n in nodes] == ["10.231.10.31:6379", "10.231.10.32:6379", "10.231.10.33:6379"]
    assert nodes[2]["flags"] == ["master", "fail"] and nodes[2]["link"] == "disconnected"
    assert nodes[0]["slots"] == ["0-5460"]


def test_thresholds_merge_and_refuse_unknown_keys():
    merged = hc.merge_thresholds(T, {"mem_used_pct_warning": "80"})
    assert merged["mem_used_pct_warning"] == 80 and merged["mem_used_pct_critical"] == 95
    with pytest.raises(ValueError, match="mem_used_pct_warn"):
        hc.merge_thresholds(T, {"mem_used_pct_warn": 80})
    with pytest.raises(ValueError, match="number"):
        hc.merge_thresholds(T, {"evicted_keys_warning": "many"})


# --- gathering from a live RESP server ---------------------------------------------------------------

def test_healthy_master_with_its_sentinel(servers):
    redis = servers({"INFO": bulk(fixture("info_master.txt"))})
    sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    facts = hc.gather("127.0.0.1", redis.port, sentinel.port, PASSWORD, "sentinel", "preview-cache")
    assert facts["redis"]["running"] and facts["redis"]["role"] == "master"
    assert facts["redis"]["unauthenticated_ping"] == "NOAUTH"
    assert facts["sentinel"]["master"]["num-other-sentinels"] == 2 and facts["sentinel"]["ckquorum"]["ok"]
    # the password went only in AUTH, and never into the facts
    assert [c for c in redis.received if PASSWORD in c] == [["AUTH", PASSWORD]]
    assert PASSWORD not in repr(facts)
    findings, metrics = hc.judge(facts, T, EXPECTED)
    assert findings == []
    assert metrics == {"cache_mem_used_pct": 3.7, "cache_evicted_keys": 0, "cache_connected_replicas": 2}


def test_redis_down_is_a_finding_not_an_error(servers):
    sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    facts = hc.gather("127.0.0.1", free_port(), sentinel.port, PASSWORD, "sentinel", "preview-cache", timeout=1)
    findings, metrics = hc.judge(facts, T, EXPECTED)
    assert [f["code"] for f in findings] == ["CACHE_DOWN"] and findings[0]["severity"] == "critical"
    assert "ConnectionRefusedError" in findings[0]["value"] and metrics == {}


def test_wrong_password_and_open_access(servers):
    redis = servers({"INFO": bulk(fixture("info_master.txt"))})
    sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    facts = hc.gather("127.0.0.1", redis.port, sentinel.port, "wrong", "sentinel", "preview-cache")
    codes = [f["code"] for f in hc.judge(facts, T, EXPECTED)[0]]
    assert "CACHE_AUTH_FAILED" in codes and "CACHE_SENTINEL_DOWN" in codes
    open_redis = servers({"INFO": bulk(fixture("info_master.txt"))}, password=None)
    open_sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK}, password=None)
    facts = hc.gather("127.0.0.1", open_redis.port, open_sentinel.port, PASSWORD, "sentinel", "preview-cache")
    findings = hc.judge(facts, T, EXPECTED)[0]
    # a sentinel without requirepass refuses AUTH yet serves: only Redis answering anyone is reported
    assert [(f["code"], f["severity"]) for f in findings] == [("CACHE_AUTH_DISABLED", "critical")]


def test_replica_whose_link_is_down(servers):
    redis = servers({"INFO": bulk(fixture("info_replica_link_down.txt"))})
    sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    facts = hc.gather("127.0.0.1", redis.port, sentinel.port, PASSWORD, "sentinel", "preview-cache")
    findings, metrics = hc.judge(facts, T, dict(EXPECTED, address="10.231.10.32"))
    assert [(f["code"], f["severity"]) for f in findings] == [("CACHE_REPLICA_LINK_DOWN", "critical")]
    # The master's address is in the message; the subject stays the same across failovers.
    assert "42" in findings[0]["message"] and "10.231.10.31:6379" in findings[0]["message"]
    assert findings[0]["subject"] == ""
    assert metrics["cache_connected_replicas"] == 0


def test_sentinel_sees_the_master_objectively_down_and_no_quorum(servers):
    redis = servers({"INFO": bulk(fixture("info_replica_link_down.txt"))})
    sentinel = servers({"SENTINEL MASTER": sentinel_master(flags="master,s_down,o_down", num_other_sentinels="0"),
                        "SENTINEL CKQUORUM": b"-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the "
                                             b"specified quorum for this master. Not enough available Sentinels to reach "
                                             b"the majority and authorize a failover\r\n"})
    facts = hc.gather("127.0.0.1", redis.port, sentinel.port, PASSWORD, "sentinel", "preview-cache")
    findings = hc.judge(facts, T, dict(EXPECTED, address="10.231.10.32"))[0]
    got = dict((f["code"], f["severity"]) for f in findings)
    assert got == {"CACHE_REPLICA_LINK_DOWN": "critical", "CACHE_SENTINEL_MASTER_DOWN": "critical",
                   "CACHE_SENTINEL_PEERS_MISSING": "warning", "CACHE_SENTINEL_NOQUORUM": "critical"}
    # Keyed by the master's name (stable across a failover); its address is in the message.
    down = [f for f in findings if f["code"] == "CACHE_SENTINEL_MASTER_DOWN"][0]
    assert down["subject"] == "preview-cache" and "10.231.10.31:6379" in down["message"]


def test_cluster_mode_with_a_failed_master(servers):
    info = fixture("info_master.txt").replace("cluster_enabled:0", "cluster_enabled:1").replace(
        "connected_slaves:2", "connected_slaves:0")
    info = "\n".join(line for line in info.splitlines() if not line.startswith("slave"))
    redis = servers({"INFO": bulk(info), "CLUSTER INFO": bulk(fixture("cluster_info_fail.txt")),
                     "CLUSTER NODES": bulk(fixture("cluster_nodes_fail.txt"))})
    facts = hc.gather("127.0.0.1", redis.port, 1, PASSWORD, "cluster", "preview-cache")
    assert facts["sentinel"] is None and facts["cluster"]["state"] == "fail"
    findings = hc.judge(facts, T, {"address": "10.231.10.31", "replicas": 0, "nodes": 3})[0]
    assert sorted((f["code"], f["severity"], f["subject"]) for f in findings) == [
        ("CACHE_CLUSTER_FAIL", "critical", "cluster"),
        ("CACHE_CLUSTER_NODE_FAIL", "critical", "10.231.10.33:6379"),
        ("CACHE_CLUSTER_SLOTS_FAIL", "critical", "cluster")]


# --- judging edge cases on facts ---------------------------------------------------------------------

def master_facts(**red):
    base = {"running": True, "error": None, "auth": "ok", "unauthenticated_ping": "NOAUTH", "role": "master",
            "connected_slaves": 2, "used_memory": 10 * 1048576, "maxmemory": 64 * 1048576, "evicted_keys": 0,
            "uptime_in_seconds": 86400 * 3,
            "replicas": [{"ip": "10.231.10.32", "port": 6379, "state": "online", "lag": 0},
                         {"ip": "10.231.10.33", "port": 6379, "state": "online", "lag": 0}]}
    base.update(red)
    sentinel = {"running": True, "error": None, "ckquorum": {"ok": True, "text": "OK"},
                "master": {"ip": "10.231.10.31", "port": 6379, "flags": "master", "num-other-sentinels": 2, "quorum": 2}}
    return {"mode": "sentinel", "port": 6379, "redis": base, "sentinel": sentinel, "cluster": None}


def codes(findings):
    return [(f["code"], f["severity"]) for f in findings]


@pytest.mark.parametrize("used_mb, expected", [
    (54, []),                                   # 84.4 %
    (55, [("CACHE_MEMORY_HIGH", "warning")]),   # 85.9 %
    (61, [("CACHE_MEMORY_HIGH", "critical")]),  # 95.3 %
])
def test_memory_thresholds(used_mb, expected):
    assert codes(hc.judge(master_facts(used_memory=used_mb * 1048576), T, EXPECTED)[0]) == expected


def test_missing_replica_is_a_warning_then_critical_when_none_or_deep():
    one = [{"ip": "10.231.10.32", "port": 6379, "state": "online", "lag": 0},
           {"ip": "10.231.10.33", "port": 6379, "state": "wait_bgsave", "lag": 0}]
    facts = master_facts(replicas=one)
    assert codes(hc.judge(facts, T, EXPECTED)[0]) == [("CACHE_REPLICAS_MISSING", "warning")]
    assert codes(hc.judge(facts, T, EXPECTED, deep=True)[0]) == [("CACHE_REPLICAS_MISSING", "critical")]
    assert codes(hc.judge(master_facts(replicas=[], connected_slaves=0), T, EXPECTED)[0]) == [
        ("CACHE_REPLICAS_MISSING", "critical")]


def test_evictions_lag_maxmemory_and_a_master_the_sentinels_do_not_name():
    lagging = master_facts(evicted_keys=5000, replicas=[
        {"ip": "10.231.10.32", "port": 6379, "state": "online", "lag": 30},
        {"ip": "10.231.10.33", "port": 6379, "state": "online", "lag": 0}])
    assert codes(hc.judge(lagging, T, EXPECTED)[0]) == [("CACHE_REPLICA_LAG", "warning"), ("CACHE_EVICTIONS", "warning")]
    unset = master_facts(maxmemory=0)
    findings, metrics = hc.judge(unset, T, EXPECTED)
    assert codes(findings) == [("CACHE_MAXMEMORY_UNSET", "warning")] and "cache_mem_used_pct" not in metrics
    split = master_facts()
    split["sentinel"]["master"]["ip"] = "10.231.10.33"
    split["sentinel"]["master"]["name"] = "preview-cache"
    findings = hc.judge(split, T, EXPECTED)[0]
    assert codes(findings) == [("CACHE_SENTINEL_MISMATCH", "critical")]
    assert findings[0]["subject"] == "preview-cache" and "10.231.10.33:6379" in findings[0]["message"]
    split["sentinel"]["master"]["ip"] = "10.231.10.32"  # another failover: the same anomaly, the same subject
    assert [f["subject"] for f in hc.judge(split, T, EXPECTED)[0]] == ["preview-cache"]
    quorum = master_facts()
    quorum["sentinel"]["master"]["quorum"] = 1
    assert codes(hc.judge(quorum, T, EXPECTED)[0]) == [("CACHE_SENTINEL_QUORUM", "warning")]


def test_every_finding_follows_the_contract():
    facts = master_facts(used_memory=63 * 1048576, evicted_keys=10 ** 6, replicas=[], connected_slaves=0)
    facts["sentinel"]["master"]["flags"] = "master,o_down"
    for f in hc.judge(facts, T, EXPECTED)[0]:
        assert set(f) == {"code", "severity", "component", "subject", "message", "action", "value", "threshold"}
        assert f["code"].startswith("CACHE_") and f["severity"] in ("critical", "warning") and f["component"] == "cache"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in f["message"] + f["action"])


# --- the module ---------------------------------------------------------------------------------------

class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, params):
        self.params = params

    def fail_json(self, **kw):
        raise Failed(kw["msg"])


def params(**over):
    base = {"host": "127.0.0.1", "port": 6379, "sentinel_port": 26379, "password": PASSWORD, "mode": "sentinel",
            "master_name": "preview-cache", "address": "10.231.10.31", "expected_replicas": 2, "expected_sentinels": 3,
            "expected_quorum": 2, "expected_nodes": 0, "connect_timeout": 2.0, "thresholds": {}, "deep": False,
            "horizon_days": 90}
    base.update(over)
    return base


def test_module_run_against_the_fake_node(servers):
    redis = servers({"INFO": bulk(fixture("info_master.txt"))})
    sentinel = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    result = mod.run(FakeModule(params(port=redis.port, sentinel_port=sentinel.port,
                                       thresholds={"mem_used_pct_warning": 3})))
    assert result["changed"] is False and result["thresholds"]["mem_used_pct_warning"] == 3
    assert codes(result["findings"]) == [("CACHE_MEMORY_HIGH", "warning")]
    assert PASSWORD not in repr(result)
    with pytest.raises(Failed, match="unknown threshold 'memory'"):
        mod.run(FakeModule(params(thresholds={"memory": 1})))


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "cache_inspect.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_inspect_cache.py"], ids=lambda p: p.name)
def test_host_side_files_parse_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))


def test_without_an_address_the_master_must_be_a_local_one():
    assert hc.is_local_address("127.0.0.1") and not hc.is_local_address("192.0.2.123")
    assert not hc.is_local_address("not-an-ip")
    facts = master_facts()
    facts["sentinel"]["master_is_local"] = False
    assert codes(hc.judge(facts, T, dict(EXPECTED, address=""))[0]) == [("CACHE_SENTINEL_MISMATCH", "critical")]
    facts["sentinel"]["master_is_local"] = True
    assert codes(hc.judge(facts, T, dict(EXPECTED, address=""))[0]) == []
