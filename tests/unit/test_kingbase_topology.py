"""kingbase_topology: what a changing run may do to each member of a cluster, from the members' live state
(the rule that keeps automation from starting a second primary), and kingbase_node_state's reading."""
import pytest

import kingbase_node_state as mod
from kingbase_topology import kingbase_topology


def primary(**kw):
    s = {"read": True, "running": True, "in_recovery": False, "data_role": "primary", "receiver_status": "", "timeline": 2}
    s.update(kw)
    return s


def standby(**kw):
    s = {"read": True, "running": True, "in_recovery": True, "data_role": "standby", "receiver_status": "streaming",
         "timeline": 2}
    s.update(kw)
    return s


def stopped(role, **kw):
    s = {"read": True, "running": False, "in_recovery": None, "data_role": role, "receiver_status": "", "timeline": 1}
    s.update(kw)
    return s


def unreadable():
    return {"read": False, "error": "UNREACHABLE: ssh: connect to host city-kb02 port 22: No route to host"}


def topo(states, designated="kb1", confirmed=None):
    return kingbase_topology(states, "city_a", designated, confirmed)


def actions(t):
    return {m: n["action"] for m, n in t["nodes"].items()}


def test_healthy_cluster_keeps_every_member_and_matches_the_inventory():
    t = topo({"kb1": primary(), "kb2": standby()})
    assert actions(t) == {"kb1": "keep", "kb2": "keep"}
    assert t["primary"] == "kb1" and t["inventory_current"] and t["refusals"] == [] and t["inventory_note"] == ""


def test_old_primary_after_failover_is_refused_and_named_with_the_new_primary_and_the_rejoin_command():
    t = topo({"kb1": stopped("primary"), "kb2": primary()})
    assert actions(t) == {"kb1": "refuse", "kb2": "keep"}
    assert t["primary"] == "kb2" and not t["split_brain"]
    [msg] = t["refusals"]
    assert msg.startswith("kb1 (cluster city_a): ") and "kb2 is the running primary" in msg
    assert "kingbase_rejoin.yml -e rejoin_node=kb1" in msg and "--limit '!kb1'" in msg


def test_after_a_rejoin_the_inventory_is_reported_out_of_date_with_the_variables_to_change():
    t = topo({"kb1": standby(), "kb2": primary()})
    assert actions(t) == {"kb1": "keep", "kb2": "keep"} and t["refusals"] == []
    assert not t["inventory_current"]
    assert "kingbase_node_role: primary on kb2 and kingbase_node_role: standby on kb1" in t["inventory_note"]
    assert "switchover_target=kb1" in t["inventory_note"]


def test_two_running_primaries_refuse_every_member():
    t = topo({"kb1": primary(), "kb2": primary()})
    assert t["split_brain"] and actions(t) == {"kb1": "refuse", "kb2": "refuse"} and t["primary"] is None
    assert all("2 running primaries (kb1, kb2): split brain" in m for m in t["refusals"])


def test_a_stopped_standby_starts_and_so_does_a_stopped_primary_with_no_rival():
    assert actions(topo({"kb1": primary(), "kb2": stopped("standby")})) == {"kb1": "keep", "kb2": "start"}
    t = topo({"kb1": stopped("primary"), "kb2": stopped("standby")})
    assert actions(t) == {"kb1": "start", "kb2": "start"} and t["primary"] == "kb1" and t["inventory_current"]


def test_primary_data_with_a_standby_that_lost_its_upstream_waits_for_repmgrd():
    t = topo({"kb1": stopped("primary"), "kb2": standby(receiver_status="")})
    assert actions(t)["kb1"] == "refuse"
    assert "kb2 runs as a standby that has lost its upstream (WAL receiver none)" in t["refusals"][0]
    # While the standby still streams (a planned stop elsewhere, say), the old primary may start.
    assert actions(topo({"kb1": stopped("primary"), "kb2": standby()}))["kb1"] == "start"


def test_two_stopped_members_with_primary_data_are_left_to_a_person_with_their_timelines():
    t = topo({"kb1": stopped("primary", timeline=1), "kb2": stopped("primary", timeline=2)})
    assert actions(t) == {"kb1": "refuse", "kb2": "refuse"} and t["primary"] is None
    assert "timeline 1" in t["refusals"][0] and "kb2 (timeline 2)" in t["refusals"][0]


def test_an_unreadable_peer_blocks_starting_primary_data_unless_confirmed():
    states = {"kb1": stopped("primary"), "kb2": unreadable()}
    t = topo(states)
    assert actions(t) == {"kb1": "refuse", "kb2": "unknown"}
    assert "kb2 could not be read" in t["refusals"][0] and "kingbase_confirm_start_primary=kb1" in t["refusals"][0]
    assert "No route to host" in t["nodes"]["kb2"]["reason"]
    assert actions(topo(states, confirmed=["kb1"])) == {"kb1": "start", "kb2": "unknown"}


def test_first_build_initialises_the_designated_primary_and_clones_the_rest():
    t = topo({"kb1": stopped("empty"), "kb2": stopped("empty"), "kb3": stopped("empty")})
    assert actions(t) == {"kb1": "initdb", "kb2": "clone", "kb3": "clone"} and t["refusals"] == []


def test_an_emptied_designated_primary_is_cloned_from_the_running_primary_never_initialised():
    assert actions(topo({"kb1": stopped("empty"), "kb2": primary()})) == {"kb1": "clone", "kb2": "keep"}


def test_an_empty_designated_primary_beside_stopped_data_is_refused():
    t = topo({"kb1": stopped("empty"), "kb2": stopped("standby")})
    assert actions(t) == {"kb1": "refuse", "kb2": "start"}
    assert "kb2 holds the cluster's data" in t["refusals"][0]
    t = topo({"kb1": stopped("empty"), "kb2": unreadable()})
    assert actions(t)["kb1"] == "refuse" and "second cluster" in t["refusals"][0]


def test_a_data_directory_with_foreign_files_is_refused():
    t = topo({"kb1": primary(), "kb2": stopped("foreign")})
    assert actions(t) == {"kb1": "keep", "kb2": "refuse"} and "no control file" in t["refusals"][0]


# --- kingbase_node_state ----------------------------------------------------------------------------------

CONTROLDATA = """sys_control version number:            1300
Catalog version number:               202209061
Database cluster state:               in production
Latest checkpoint's TimeLineID:       3
Latest checkpoint's PrevTimeLineID:   3
"""

PARAMS = {"bin_dir": "/kb/bin", "data_dir": "/kb/data", "control_file": "global/sys_control",
          "standby_signal_file": "standby.signal", "host": "127.0.0.1", "port": 54321, "user": "system",
          "database": "test", "repmgr_user": "esrep", "repmgr_database": "esrep"}


def fake(files, answers, listing=("global", "base")):
    calls = []

    def run(argv):
        calls.append(argv)
        name = argv[0].rsplit("/", 1)[-1]
        if name == "ksql":
            name = "ksql:" + argv[argv.index("-U") + 1]
        return answers.get(name, (1, "", "no answer for %s" % name))

    return run, (lambda p: p in files), (lambda p: list(listing)), calls


def test_controldata_parsing():
    assert mod.parse_controldata(CONTROLDATA) == ("in production", 3)
    assert mod.parse_controldata("Database cluster state: shut down in recovery\n") == ("shut down in recovery", None)


def test_a_stopped_old_primary_reads_as_primary_data_with_its_timeline_and_no_query():
    run, exists, listdir, calls = fake({"/kb/data", "/kb/data/global/sys_control"},
                                       {"sys_controldata": (0, CONTROLDATA, ""), "sys_isready": (2, "", "")})
    s = mod.read_state(run, PARAMS, exists, listdir)
    assert (s["read"], s["running"], s["data_role"], s["control_state"], s["timeline"]) == \
        (True, False, "primary", "in production", 3)
    assert [c[0].rsplit("/", 1)[-1] for c in calls] == ["sys_controldata", "sys_isready"]


def test_a_running_standby_reads_recovery_receiver_and_repmgr_metadata():
    run, exists, listdir, _ = fake(
        {"/kb/data", "/kb/data/global/sys_control", "/kb/data/standby.signal"},
        {"sys_controldata": (0, CONTROLDATA.replace("in production", "in archive recovery"), ""),
         "sys_isready": (0, "", ""), "ksql:system": (0, "t\t1796000000.5\tstreaming\n", ""),
         "ksql:esrep": (0, "kb1\tprimary\tt\t\nkb2\tstandby\tt\tkb1\n", "")})
    s = mod.read_state(run, PARAMS, exists, listdir)
    assert (s["running"], s["in_recovery"], s["receiver_status"], s["data_role"]) == (True, True, "streaming", "standby")
    assert s["repmgr_nodes"] == [{"name": "kb1", "type": "primary", "active": True, "upstream": None},
                                 {"name": "kb2", "type": "standby", "active": True, "upstream": "kb1"}]


def test_a_server_that_runs_but_cannot_be_queried_is_unreadable_with_the_error():
    run, exists, listdir, _ = fake({"/kb/data", "/kb/data/global/sys_control"},
                                   {"sys_controldata": (0, CONTROLDATA, ""), "sys_isready": (0, "", ""),
                                    "ksql:system": (2, "", "ksql: error: FATAL:  password authentication failed\n")})
    s = mod.read_state(run, PARAMS, exists, listdir)
    assert not s["read"] and "password authentication failed" in s["error"]


@pytest.mark.parametrize("files,listing,role", [
    (set(), (), "empty"),
    ({"/kb/data"}, (), "empty"),
    ({"/kb/data"}, ("lost+found",), "foreign"),
])
def test_data_roles_without_a_control_file(files, listing, role):
    run, exists, listdir, _ = fake(files, {"sys_isready": (2, "", "")}, listing)
    assert mod.read_state(run, PARAMS, exists, listdir)["data_role"] == role


def test_loop_results_become_member_states_with_the_reason_a_member_was_not_read():
    from kingbase_topology import kingbase_node_states
    results = [{"item": "kb1", "changed": False, "state": primary()},
               {"item": "kb2", "unreachable": True, "msg": "Failed to connect to the host via ssh: No route to host\n"},
               {"item": "kb3", "failed": True, "msg": "MODULE FAILURE"}]
    states = kingbase_node_states(results)
    assert states["kb1"] == primary()
    assert states["kb2"] == {"read": False, "error": "unreachable: Failed to connect to the host via ssh: No route to host"}
    assert states["kb3"] == {"read": False, "error": "MODULE FAILURE"}


def test_a_host_without_the_kingbase_account_runs_nothing_and_reads_its_data_directory():
    run, exists, listdir, calls = fake(set(), {})
    s = mod.read_state(run, PARAMS, exists, listdir, account=False)
    assert (s["read"], s["account"], s["running"], s["data_role"]) == (True, False, False, "empty") and calls == []


def test_a_running_primary_with_no_wal_receiver_reads_as_primary():
    # ksql -At -F '\t' prints the empty receiver status as a trailing tab (seen on the lab).
    assert mod.parse_core("f\t1796597283.167110\t\n") == (False, 1796597283.16711, "")
