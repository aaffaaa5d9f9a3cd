"""cache_query: the preview cache checks' reads over RESP, the password a no_log parameter (never an environment
variable of a become task nor a command-line argument, which sudo writes to the journal)."""
import ast

import pytest

import cache_query as mod
from ansible.module_utils import huaian_inspect_cache as hc
from conftest import ROOT, run_module_main
from test_cache_inspect import PASSWORD, CKQUORUM_OK, array, bulk, fixture, free_port, sentinel_master, servers  # noqa: F401


def test_only_reads_are_allowed():
    assert hc.read_only_command(["config", "get", "maxmemory"]) == "CONFIG GET"
    assert hc.read_only_command(["SENTINEL", "get-master-addr-by-name", "preview-cache"]) == \
        "SENTINEL GET-MASTER-ADDR-BY-NAME"
    assert hc.read_only_command(["INFO", "replication"]) == "INFO"
    assert hc.read_only_command(["PING"]) == "PING"
    for write in (["CONFIG", "SET", "maxmemory", "1"], ["SENTINEL", "FAILOVER", "preview-cache"], ["CLUSTER", "FAILOVER"],
                  ["FLUSHALL"], ["SHUTDOWN"], ["DEBUG", "SLEEP", "1"], ["AUTH", "x"], []):
        assert hc.read_only_command(write) is None, write


@pytest.mark.parametrize("reply, lines", [
    (None, []), ("PONG", ["PONG"]), (7, ["7"]), ("# Replication\r\nrole:master\r\n", ["# Replication", "role:master"]),
    (["maxmemory", "67108864"], ["maxmemory", "67108864"]), (["a", ["b", None], "c"], ["a", "b", "c"]),
    (hc.RespError("NOAUTH Authentication required."), ["NOAUTH Authentication required."]),
])
def test_reply_lines_are_what_redis_cli_prints_to_a_pipe(reply, lines):
    assert hc.reply_lines(reply) == lines


def test_authenticated_reads_in_order_on_one_connection(servers):
    redis = servers({"INFO": bulk(fixture("info_master.txt")), "CONFIG": array(["maxmemory", "67108864"])})
    result = hc.query("127.0.0.1", redis.port, PASSWORD, [["INFO", "replication"], ["CONFIG", "GET", "maxmemory"]])
    assert result["connected"] and result["error"] is None
    info, config = result["replies"]
    assert info["ok"] and "role:master" in info["lines"] and info["command"] == "INFO replication"
    assert config == {"command": "CONFIG GET maxmemory", "ok": True, "error": None, "lines": ["maxmemory", "67108864"]}
    assert redis.received == [["AUTH", PASSWORD], ["INFO", "replication"], ["CONFIG", "GET", "maxmemory"]]
    assert PASSWORD not in repr(result)


def test_an_unauthenticated_client_is_refused_and_says_so(servers):
    redis = servers({})
    result = hc.query("127.0.0.1", redis.port, PASSWORD, [["PING"]], authenticate=False)
    assert redis.received == [["PING"]]
    assert result["replies"] == [{"command": "PING", "ok": False, "error": "NOAUTH Authentication required.",
                                  "lines": ["NOAUTH Authentication required."]}]
    open_node = servers({}, password=None)
    assert hc.query("127.0.0.1", open_node.port, "", [["PING"]], authenticate=False)["replies"][0]["lines"] == ["PONG"]


def test_a_wrong_password_or_a_down_node_is_a_result_not_a_failure(servers):
    redis = servers({"INFO": bulk("role:master\r\n")})
    wrong = hc.query("127.0.0.1", redis.port, "not-it", [["INFO", "replication"]])
    assert wrong["connected"] and wrong["error"].startswith("WRONGPASS")
    assert wrong["replies"][0]["ok"] is False and redis.received == [["AUTH", "not-it"]]
    down = hc.query("127.0.0.1", free_port(), PASSWORD, [["INFO"], ["PING"]], timeout=1.0)
    assert not down["connected"] and "ConnectionRefusedError" in down["error"]
    assert [r["lines"] for r in down["replies"]] == [[], []]
    # A server without a password accepts the client that sends one (Sentinel before requirepass is set).
    open_node = servers({"SENTINEL GET-MASTER-ADDR-BY-NAME": array(["10.231.10.31", "6379"])}, password=None)
    views = hc.query("127.0.0.1", open_node.port, PASSWORD, [["SENTINEL", "get-master-addr-by-name", "preview-cache"]])
    assert views["error"] is None and views["replies"][0]["lines"] == ["10.231.10.31", "6379"]


def test_the_module_refuses_a_write_before_connecting_and_never_returns_the_password(servers, monkeypatch, capsys):
    redis = servers({"SENTINEL MASTER": sentinel_master(), "SENTINEL CKQUORUM": CKQUORUM_OK})
    out = run_module_main(mod, monkeypatch, capsys, {
        "port": redis.port, "password": PASSWORD, "commands": [["SENTINEL", "master", "preview-cache"]]})
    assert out["changed"] is False and out["replies"][0]["lines"][:2] == ["name", "preview-cache"]
    assert PASSWORD not in repr(out)
    refused = run_module_main(mod, monkeypatch, capsys, {
        "port": redis.port, "password": PASSWORD, "commands": [["PING"], ["CONFIG", "SET", "requirepass", "x"]]})
    assert refused["failed"] and refused["msg"] == "cache_query sends reads only; refused: CONFIG SET requirepass x"
    assert redis.received == [["AUTH", PASSWORD], ["SENTINEL", "master", "preview-cache"]]


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "cache_query.py"], ids=lambda p: p.name)
def test_host_side_file_parses_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
