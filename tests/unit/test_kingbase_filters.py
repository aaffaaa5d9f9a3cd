"""Kingbase output filters (plugins/filter/kingbase_filters.py)."""
from kingbase_filters import kingbase_settings_lowered, repmgr_cluster_show

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
