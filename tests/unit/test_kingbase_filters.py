"""Kingbase output filters (plugins/filter/kingbase_filters.py)."""
import pytest

from kingbase_filters import (kingbase_cluster_deviations, kingbase_initdb_argv, kingbase_initdb_planned,
                              kingbase_initdb_read, kingbase_settings_lowered, repmgr_cluster_show, repmgr_node_name,
                              repmgr_node_names)

SHOW = """ ID | Name      | Role    | Status    | Upstream  | Location | Priority | Timeline | Connection string
----+-----------+---------+-----------+-----------+----------+----------+----------+------------------
 1  | city-kb01 | primary | * running |           | city_a   | 100      | 1        | host=10.231.10.11
 2  | city-kb02 | standby | ! running | city-kb01 | city_a   | 100      | 1        | host=10.231.10.12
 3  | city-kb03 | standby | - failed  | ?         | city_a   | 100      |          | host=10.231.10.13
WARNING: following issues were detected
"""


def test_repmgr_cluster_show():
    rows = repmgr_cluster_show(SHOW)
    assert [(r["id"], r["name"], r["role"], r["running"], r["marked_primary"], r["flags"]) for r in rows] == [
        (1, "city-kb01", "primary", True, True, ""),
        (2, "city-kb02", "standby", False, False, "!"),
        (3, "city-kb03", "standby", False, False, ""),
    ]
    assert rows[1]["upstream"] == "city-kb01"


def test_repmgr_cluster_show_empty():
    assert repmgr_cluster_show("") == [] and repmgr_cluster_show(None) == []


def test_settings_lowered():
    live = ["max_connections 120", "max_wal_senders 10", "max_worker_processes 8", "garbage"]
    assert kingbase_settings_lowered(live, {"max_connections": 100, "max_wal_senders": "10"}) == ["max_connections"]
    assert kingbase_settings_lowered(live, {"max_connections": 200}) == []
    assert kingbase_settings_lowered(live, {"max_connections": "lots"}) == []
    assert kingbase_settings_lowered([], {"max_connections": 1}) == []


def test_repmgr_failover_window_reads_the_live_reconnect_settings():
    from kingbase_filters import repmgr_failover_window
    assert repmgr_failover_window("reconnect_attempts=10\nreconnect_interval='6'  # vendor\n") == 60
    assert repmgr_failover_window("node_id=1\n") == 60
    assert repmgr_failover_window("reconnect_attempts=3\n#reconnect_interval=100\nreconnect_interval=5\n") == 15
    assert repmgr_failover_window("reconnect_attempts=many\n") is None

# --- initdb-time attributes ---------------------------------------------------------------------------------

GREENFIELD = {"database_mode": "", "enable_ci": False, "data_checksums": False, "encoding": "UTF8", "locale": "zh_CN.UTF-8"}


def test_initdb_argv_greenfield_is_what_the_role_always_ran():
    assert kingbase_initdb_argv(GREENFIELD) == ["-E", "UTF8", "--locale=zh_CN.UTF-8"]
    assert kingbase_initdb_argv(GREENFIELD, {}) == ["-E", "UTF8", "--locale=zh_CN.UTF-8"]


def test_initdb_argv_all_attributes_and_spellings():
    vendor = dict(GREENFIELD, database_mode="Oracle", enable_ci=True, data_checksums=True)
    assert kingbase_initdb_argv(vendor) == ["-E", "UTF8", "--locale=zh_CN.UTF-8", "-m", "oracle", "--enable-ci", "-k"]
    spelled = {"database_mode": "--dbmode=", "data_checksums": "--data-checksums", "encoding": "--encoding=",
               "locale": "--locale"}
    assert kingbase_initdb_argv(vendor, spelled) == ["--encoding=UTF8", "--locale", "zh_CN.UTF-8", "--dbmode=oracle",
                                                     "--enable-ci", "--data-checksums"]
    assert kingbase_initdb_argv({"database_mode": "pg"}) == ["-m", "pg"]
    assert kingbase_initdb_argv({}) == [] and kingbase_initdb_argv(None) == []


def test_initdb_argv_refuses_what_initdb_would():
    with pytest.raises(ValueError, match="database_mode"):
        kingbase_initdb_argv(dict(GREENFIELD, database_mode="sqlserver"))
    with pytest.raises(ValueError, match="enable_ci"):
        kingbase_initdb_argv(dict(GREENFIELD, enable_ci="on"))
    with pytest.raises(ValueError, match="unknown initdb option"):
        kingbase_initdb_argv(GREENFIELD, {"collation": "--lc-collate="})


def test_initdb_planned_reads_the_options_back():
    assert kingbase_initdb_planned(["-E", "UTF8", "--locale=zh_CN.UTF-8"]) == {
        "database_mode": "pg", "enable_ci": "off", "data_checksums": "off", "server_encoding": "UTF8",
        "lc_collate": "zh_CN.UTF-8", "lc_ctype": "zh_CN.UTF-8"}
    argv = kingbase_initdb_argv(dict(GREENFIELD, database_mode="oracle", enable_ci=True, data_checksums=True))
    assert kingbase_initdb_planned(argv, None, "pg") == {
        "database_mode": "oracle", "enable_ci": "on", "data_checksums": "on", "server_encoding": "UTF8",
        "lc_collate": "zh_CN.UTF-8", "lc_ctype": "zh_CN.UTF-8"}
    # An operator's own list, in PostgreSQL's long forms; lc-collate after locale wins for that one.
    own = ["--dbmode=MySQL", "--encoding=GBK", "--locale=zh_CN.GBK", "--lc-collate=C", "--data-checksums"]
    assert kingbase_initdb_planned(own) == {
        "database_mode": "mysql", "enable_ci": "off", "data_checksums": "on", "server_encoding": "GBK",
        "lc_collate": "C", "lc_ctype": "zh_CN.GBK"}
    # Spellings given as variables; nothing given: the default mode, switches off, encoding/locale unknown.
    assert kingbase_initdb_planned(["--mode", "oracle", "--ci"], {"database_mode": "--mode", "enable_ci": "--ci"})[
        "database_mode"] == "oracle"
    assert kingbase_initdb_planned([], None, "") == {
        "database_mode": None, "enable_ci": "off", "data_checksums": "off", "server_encoding": None,
        "lc_collate": None, "lc_ctype": None}
    assert kingbase_initdb_planned([], None, "oracle")["database_mode"] == "oracle"


def test_initdb_read_from_sys_settings():
    out = "data_checksums|off\ndatabase_mode|oracle\nenable_ci|on\nlc_collate|zh_CN.UTF-8\nlc_ctype|zh_CN.UTF-8\n" \
          "server_encoding|UTF8\nport|54321\n"
    assert kingbase_initdb_read(out) == {"database_mode": "oracle", "enable_ci": "on", "data_checksums": "off",
                                         "server_encoding": "UTF8", "lc_collate": "zh_CN.UTF-8", "lc_ctype": "zh_CN.UTF-8"}
    # A server without the Kingbase-only rows (PostgreSQL): those are None.
    assert kingbase_initdb_read("server_encoding|UTF8\n") == {
        "database_mode": None, "enable_ci": None, "data_checksums": None, "server_encoding": "UTF8",
        "lc_collate": None, "lc_ctype": None}
    assert kingbase_initdb_read("") == kingbase_initdb_read(None) == dict.fromkeys(
        ("database_mode", "enable_ci", "data_checksums", "server_encoding", "lc_collate", "lc_ctype"))


def test_repmgr_conf_values_and_the_vendor_cluster_input_rules():
    from kingbase_filters import repmgr_conf_value, repmgr_settings_problems
    assert repmgr_conf_value(5) == "5"
    assert repmgr_conf_value(True) == "true"
    assert repmgr_conf_value("automatic") == "'automatic'"
    assert repmgr_settings_problems({}, "whole", "", "") == []
    assert repmgr_settings_problems({"reconnect_attempts": 10}, "block", "10.231.30.10", "10.231.30.10/24") == []
    assert repmgr_settings_problems({"reconnect attempts": 1}, "whole", "10.0.0.9", "") == [
        "kingbase_cluster_repmgr_settings key 'reconnect attempts' : not a repmgr.conf key; allowed: lower-case letters, "
        "digits and _",
        "kingbase_cluster_repmgr_settings = ['reconnect attempts'] : only for a vendor's cluster (kingbase_config_ownership: "
        "block); on a cluster the project installed set the kingbase_cluster_* variables"]
    assert repmgr_settings_problems({}, "block", "10.231.30.10", "") == [
        "kingbase_cluster_vip = 10.231.30.10 : on a vendor's cluster kbha holds the virtual IP of repmgr.conf (virtual_ip = "
        "(none)); the project adds no second mechanism; allowed: empty, or virtual_ip set through the vendor's tools first"]
    assert repmgr_settings_problems({}, "block", "10.231.30.11", "10.231.30.10/24")[0].endswith("allowed: the same address")


# ---- repmgr node names and the cluster health judgement (kingbase_cluster verify) ----


def _discovered(name):
    return {"discovery_facts": {"kingbase": {"present": True, "repmgr": {"keys": {"node_name": name}}}}}


def test_repmgr_node_name_from_inventory_then_discovery_then_the_host():
    hv = {"a": dict(_discovered("node1"), kingbase_cluster_node_name="kb-a"), "b": _discovered("node2"),
          "c": {}, "d": {"discovery_facts": {"kingbase": {"present": False}}}, "e": {"discovery_facts": ""}}
    assert repmgr_node_names(["a", "b", "c", "d", "e", "unknown"], hv) == ["kb-a", "node2", "c", "d", "e", "unknown"]
    assert repmgr_node_name("b", hv) == "node2"


SHOW_VENDOR = """ ID | Name  | Role    | Status    | Upstream | Location | Priority | Timeline | Connection string
----+-------+---------+-----------+----------+----------+----------+----------+------------------
 1  | node1 | primary | * running |          | default  | 100      | 1        | host=10.0.0.1
 2  | node2 | standby |   running | node1    | default  | 100      | 1        | host=10.0.0.2
"""


def _reads(**over):
    base = {"receiver": "", "senders": "node2 streaming", "cluster_show": SHOW_VENDOR, "crontab": "*/1 * * * * kbha -A daemon -f x"}
    base.update(over)
    out = [{"item": {"key": k}, "stdout": v, "stdout_lines": v.splitlines(), "rc": 0} for k, v in base.items()]
    out.append({"item": {"key": "repmgrd"}, "stdout": "123", "rc": 0})
    return out


def _hv(kb1_state, kb2_state, names=("node1", "node2")):
    return {"kb1": dict(_discovered(names[0]), kingbase_state=kb1_state),
            "kb2": dict(_discovered(names[1]), kingbase_state=kb2_state)}


PRIMARY = {"running": True, "in_recovery": False}
STANDBY = {"running": True, "in_recovery": True}


def test_a_vendor_cluster_with_node1_node2_is_healthy():
    hv = _hv(PRIMARY, STANDBY)
    assert kingbase_cluster_deviations("kb1", ["kb1", "kb2"], hv, _reads(), cluster="c") == []
    assert kingbase_cluster_deviations("kb2", ["kb1", "kb2"], hv, _reads(receiver="streaming"), cluster="c") == []


def test_the_same_cluster_judged_by_inventory_names_was_unhealthy():
    # Without the discovered names the old rule looked for kb1/kb2 in repmgr's view and the senders.
    hv = {"kb1": {"kingbase_state": PRIMARY}, "kb2": {"kingbase_state": STANDBY}}
    assert kingbase_cluster_deviations("kb1", ["kb1", "kb2"], hv, _reads(), cluster="c") == [
        "primary has no streaming replication to kb2",
        "repmgr cluster show does not list kb1",
        "repmgr cluster show does not list kb2",
    ]


def test_every_deviation_at_once_naming_the_repmgr_node():
    hv = _hv(PRIMARY, PRIMARY)
    show = SHOW_VENDOR.replace("| standby |   running |", "| standby | ! running as primary |")
    shown = [{"item": {"key": "wal_level", "value": "replica"}, "stdout": "minimal"},
             {"item": {"key": "hot_standby", "value": "on"}, "stdout": "on"}]
    reads = [r for r in _reads(senders="", cluster_show=show, crontab="") if r["item"]["key"] != "repmgrd"]
    out = kingbase_cluster_deviations("kb1", ["kb1", "kb2"], hv, reads, shown=shown, cluster="city_a",
                                      license={"fail": True, "message": "kb1: licence expired"})
    assert out == [
        "cluster city_a has 2 running primaries (kb1, kb2); exactly 1 expected",
        "primary has no streaming replication to kb2 (repmgr node node2)",
        "repmgr cluster show: kb2 (repmgr node node2) is standby / ! running as primary",
        "setting wal_level is minimal, configured replica",
        "licence expired",
        "repmgrd not running",
        "kbha keep-alive crontab entry missing",
    ]


def test_a_stopped_standby_says_only_that_and_what_is_missing_around_it():
    hv = _hv(PRIMARY, {"running": False})
    reads = [{"item": {"key": k}, "skipped": True} for k in ("receiver", "senders", "cluster_show")] + \
        [{"item": {"key": "repmgrd"}, "stdout": "", "rc": 1}, {"item": {"key": "crontab"}, "stdout": "kbha -A daemon", "rc": 0}]
    assert kingbase_cluster_deviations("kb2", ["kb1", "kb2"], hv, reads, cluster="c") == ["server not running", "repmgrd not running"]


def test_a_standby_not_streaming_names_its_receiver_state():
    hv = _hv(PRIMARY, STANDBY)
    assert kingbase_cluster_deviations("kb2", ["kb1", "kb2"], hv, _reads(receiver="waiting"), cluster="c") == [
        "standby not streaming (wal receiver: waiting)"]
