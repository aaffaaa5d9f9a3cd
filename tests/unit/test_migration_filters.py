"""plugins/filter/migration_filters.py: judging a migration precheck from the hosts' migration_facts."""
import copy
import re

import pytest

import migration_filters as mf

GIB = 1024 ** 3
SOURCE_MAC = "00:50:56:ab:00:01"
TARGET_MAC = "fa:16:3e:12:34:56"


def host_facts(machine="x86_64", glibc="glibc 2.28", mac=TARGET_MAC, licence_macs=None, free=500 * GIB,
               mem=64 * GIB, listening=(), synced=True, offset=0.0002):
    """A migration_facts result as the module returns it."""
    return {
        "machine": machine, "byteorder": "little", "glibc": glibc,
        "os_release": {"ID": "kylin", "VERSION_ID": "V10", "PRETTY_NAME": "Kylin Linux Advanced Server V10 (Lance)"},
        "kernel": "4.19.90-24.4.v2101.ky10.%s" % machine, "cpu_count": 16, "mem_total_bytes": mem,
        "macs": [mac, "52:54:00:aa:bb:cc"],
        "interfaces": [{"name": "eth0", "mac": mac, "virtual": False},
                       {"name": "virbr0", "mac": "52:54:00:aa:bb:cc", "virtual": True}],
        "paths": [{"path": "/data/kingbase", "exists": False, "measured": "/data", "mount": "/data", "fstype": "xfs",
                   "free_bytes": free, "total_bytes": 1000 * GIB, "error": None},
                  {"path": "/backup", "exists": True, "measured": "/backup", "mount": "/data", "fstype": "xfs",
                   "free_bytes": free, "total_bytes": 1000 * GIB, "error": None}],
        "usage": [],
        "ports": [{"port": p, "listening": p in listening, "addresses": ["0.0.0.0"] if p in listening else [],
                   "error": None} for p in (54321, 8888)],
        "license_files": [{"path": "/opt/Kingbase/ES/V8/license.dat", "exists": licence_macs is not None,
                           "sha256": "ab" * 32 if licence_macs is not None else None, "mtime": 1795600000.0,
                           "macs": list(licence_macs or []), "error": None}],
        "chrony": {"synced": synced, "reference_id": "0AE70A0B (10.231.10.11)", "stratum": 3,
                   "offset_seconds": offset, "leap_status": "Normal" if synced else "Not synchronised",
                   "reason": None if synced else "Leap status Not synchronised"},
    }


def plan(route="physical", **over):
    """A clean plan: one kingbase pair, one bes pair, everything in order."""
    p = {
        "route": route,
        "pairs": [{"target": "hzq-ckb01", "source": "hzq-kb01", "kind": "kingbase"},
                  {"target": "hzq-cbes01", "source": "hzq-bes01", "kind": "bes"}],
        "facts": {"hzq-ckb01": host_facts(licence_macs=[TARGET_MAC]),
                  "hzq-kb01": host_facts(mac=SOURCE_MAC, licence_macs=[SOURCE_MAC]),
                  "hzq-cbes01": host_facts(mac="fa:16:3e:00:00:02"),
                  "hzq-bes01": host_facts(mac=SOURCE_MAC.replace("01", "02"))},
        "requirements": {"hzq-ckb01": {"paths": {"/data/kingbase": 200 * GIB}, "ports_free": [54321],
                                       "min_mem_bytes": 32 * GIB},
                         "hzq-cbes01": {"paths": {}, "ports_free": [8888], "min_mem_bytes": 16 * GIB}},
        "licence_required": {"hzq-ckb01": True},
        "max_clock_offset_s": 1.0,
        "versions": {"hzq-ckb01": {"kingbase": "V008R006C008B0014"}, "hzq-kb01": {"kingbase": "V008R006C008B0014"}},
        "backup": {"ok": True, "detail": "kingbase-city_a-full 7.5 h old, verified 2026-11-20"},
        "unreachable": [],
    }
    p.update(over)
    return p


def codes(problems):
    return sorted(p["code"] for p in problems)


def only(problems, code):
    found = [p for p in problems if p["code"] == code]
    assert len(found) == 1, problems
    return found[0]


def test_a_clean_plan_has_no_problems_on_every_route():
    for route in mf.ROUTES:
        assert mf.migration_precheck_problems(plan(route)) == []


def test_every_problem_has_the_contract_fields():
    p = plan(unreachable=["hzq-bes01"], backup={"ok": False, "detail": "no full backup in 8 days"})
    p["facts"]["hzq-ckb01"] = host_facts(machine="aarch64", licence_macs=[SOURCE_MAC], free=10 * GIB, mem=8 * GIB,
                                         listening=(54321,), synced=False, offset=3.0, glibc="glibc 2.34")
    problems = mf.migration_precheck_problems(p)
    for problem in problems:
        assert set(problem) == {"code", "severity", "host", "variable_or_item", "value", "allowed", "message",
                                "message_zh"}
        assert problem["code"] in mf.CODES and problem["severity"] in ("error", "warning")
        assert re.search("[\u4e00-\u9fff]", problem["message_zh"]), problem


# --- HOST_UNREACHABLE ---------------------------------------------------------------------------------

def test_unreachable_host_and_host_without_facts():
    p = plan(unreachable=["hzq-kb01"])
    del p["facts"]["hzq-cbes01"]
    problems = mf.migration_precheck_problems(p)
    assert codes(problems) == ["HOST_UNREACHABLE", "HOST_UNREACHABLE"]
    down = [x for x in problems if x["host"] == "hzq-kb01"][0]
    assert down["severity"] == "error" and down["value"] == "unreachable"
    assert [x for x in problems if x["host"] == "hzq-cbes01"][0]["value"] == "no migration facts"


def test_a_failed_registered_result_counts_as_no_facts():
    p = plan()
    p["facts"]["hzq-cbes01"] = {"failed": True, "msg": "MODULE FAILURE", "changed": False}
    problem = only(mf.migration_precheck_problems(p), "HOST_UNREACHABLE")
    assert problem["host"] == "hzq-cbes01" and problem["value"] == "no migration facts"


def test_unreachable_source_skips_the_pair_checks_not_the_target_checks():
    p = plan(unreachable=["hzq-kb01"])
    p["facts"]["hzq-ckb01"]["machine"] = "aarch64"
    p["facts"]["hzq-ckb01"]["mem_total_bytes"] = GIB
    assert codes(mf.migration_precheck_problems(p)) == ["HOST_UNREACHABLE", "MEMORY_SHORT"]


# --- ARCH_MISMATCH, GLIBC_DIFFERS, VERSION_MISMATCH -------------------------------------------------------

def aarch64_target(route):
    p = plan(route)
    p["facts"]["hzq-ckb01"] = host_facts(machine="aarch64", licence_macs=[TARGET_MAC])
    return p


def test_aarch64_target_of_an_x86_64_source_cannot_replicate_physically():
    problem = only(mf.migration_precheck_problems(aarch64_target("physical")), "ARCH_MISMATCH")
    assert problem["severity"] == "error" and problem["host"] == "hzq-ckb01"
    assert problem["value"] == "aarch64/little-endian" and problem["allowed"] == "x86_64/little-endian"
    assert "physical replication needs the same architecture" in problem["message"]
    assert "logical_sync" in problem["message"] and "dump_restore" in problem["message"]
    assert "物理复制" in problem["message_zh"] and "logical_sync" in problem["message_zh"]


def test_aarch64_target_is_fine_on_the_logical_routes():
    for route in ("dump_restore", "logical_sync"):
        assert mf.migration_precheck_problems(aarch64_target(route)) == []


def test_byte_order_alone_is_an_arch_mismatch():
    p = plan()
    p["facts"]["hzq-ckb01"]["byteorder"] = "big"
    assert "big-endian" in only(mf.migration_precheck_problems(p), "ARCH_MISMATCH")["message"]


def test_arch_of_a_bes_pair_is_not_judged():
    p = plan()
    p["facts"]["hzq-cbes01"]["machine"] = "aarch64"
    assert mf.migration_precheck_problems(p) == []


def test_glibc_differs_is_a_physical_route_warning():
    p = plan()
    p["facts"]["hzq-ckb01"]["glibc"] = "glibc 2.34"
    problem = only(mf.migration_precheck_problems(p), "GLIBC_DIFFERS")
    assert problem["severity"] == "warning" and problem["value"] == "glibc 2.34" and problem["allowed"] == "glibc 2.28"
    assert "collation" in problem["message"] and "reindex" in problem["message"]
    p["route"] = "logical_sync"
    assert mf.migration_precheck_problems(p) == []


def test_kingbase_versions_must_be_equal_for_physical():
    p = plan(versions={"hzq-ckb01": {"kingbase": "V008R006C009B0014"}, "hzq-kb01": {"kingbase": "V008R006C008B0014"}})
    problem = only(mf.migration_precheck_problems(p), "VERSION_MISMATCH")
    assert problem["severity"] == "error" and problem["value"] == "V008R006C009B0014"
    p["route"] = "logical_sync"
    assert mf.migration_precheck_problems(p) == []
    # Case and spaces do not count.
    assert mf.migration_precheck_problems(plan(versions={"hzq-ckb01": {"kingbase": " v008r006c008b0014"},
                                                         "hzq-kb01": {"kingbase": "V008R006C008B0014"}})) == []


def test_dump_restore_warns_about_different_versions():
    p = plan("dump_restore", versions={"hzq-ckb01": {"kingbase": "V008R006C009B0014"}, "hzq-kb01": {"kingbase": "V008R006C008B0014"}})
    problem = only(mf.migration_precheck_problems(p), "VERSION_MISMATCH")
    assert problem["severity"] == "warning" and problem["host"] == "hzq-ckb01"
    assert "cannot read a newer server" in problem["message"] and "sys_dump" in problem["message_zh"]
    # Equal or undeclared versions: nothing to say on this route.
    assert mf.migration_precheck_problems(plan("dump_restore", versions={"hzq-ckb01": {"kingbase": "V008R006C008B0014"},
                                                                         "hzq-kb01": {"kingbase": "v008r006c008b0014 "}})) == []
    assert mf.migration_precheck_problems(plan("dump_restore", versions={})) == []


def test_an_undeclared_version_is_a_warning():
    problem = only(mf.migration_precheck_problems(plan(versions={"hzq-kb01": {"kingbase": "V008R006C008B0014"}})),
                   "VERSION_MISMATCH")
    assert problem["severity"] == "warning" and "hzq-ckb01" in problem["message"] and "not declared" in problem["message"]


# --- DISK_SHORT, MEMORY_SHORT, PORT_IN_USE -------------------------------------------------------------

def test_disk_short_names_path_free_and_required_in_gib():
    p = plan()
    p["facts"]["hzq-ckb01"] = host_facts(licence_macs=[TARGET_MAC], free=int(150.25 * GIB))
    problem = only(mf.migration_precheck_problems(p), "DISK_SHORT")
    assert problem["severity"] == "error" and problem["variable_or_item"] == "/data/kingbase"
    assert problem["value"] == int(150.25 * GIB) and problem["allowed"] == 200 * GIB
    assert problem["message"] == "hzq-ckb01: /data/kingbase has 150.2 GiB free, 200.0 GiB required"


def test_disk_exactly_enough_is_fine():
    p = plan()
    p["requirements"]["hzq-ckb01"]["paths"] = {"/data/kingbase": 500 * GIB}
    assert mf.migration_precheck_problems(p) == []


def test_paths_on_one_filesystem_must_fit_together():
    p = plan()
    p["requirements"]["hzq-ckb01"]["paths"] = {"/data/kingbase": 300 * GIB, "/backup": 300 * GIB}
    problem = only(mf.migration_precheck_problems(p), "DISK_SHORT")
    assert problem["variable_or_item"] == "/data (/backup, /data/kingbase)"
    assert "500.0 GiB free" in problem["message"] and "600.0 GiB" in problem["message"]


def test_a_required_path_that_was_not_measured_is_reported():
    p = plan()
    p["requirements"]["hzq-ckb01"]["paths"] = {"/srv/attachments": GIB}
    problem = only(mf.migration_precheck_problems(p), "DISK_SHORT")
    assert problem["value"] is None and "unknown" in problem["message"]


def test_memory_short():
    p = plan()
    p["facts"]["hzq-cbes01"]["mem_total_bytes"] = 8 * GIB
    problem = only(mf.migration_precheck_problems(p), "MEMORY_SHORT")
    assert problem["host"] == "hzq-cbes01" and problem["message"] == "hzq-cbes01: 8.0 GiB memory, 16.0 GiB required"
    p["facts"]["hzq-cbes01"]["mem_total_bytes"] = 16 * GIB
    assert mf.migration_precheck_problems(p) == []


def test_port_in_use_only_where_it_must_be_free():
    p = plan()
    p["facts"]["hzq-ckb01"]["ports"][0].update(listening=True, addresses=["0.0.0.0", "::"])
    problem = only(mf.migration_precheck_problems(p), "PORT_IN_USE")
    assert problem["host"] == "hzq-ckb01" and problem["variable_or_item"] == "tcp/54321"
    assert problem["value"] == "LISTEN on 0.0.0.0, ::" and problem["severity"] == "error"
    # The source listening on its own port is not a problem.
    p = plan()
    p["facts"]["hzq-kb01"]["ports"][0]["listening"] = True
    assert mf.migration_precheck_problems(p) == []


def test_an_unchecked_port_is_a_warning():
    p = plan()
    p["requirements"]["hzq-ckb01"]["ports_free"] = [54322]
    problem = only(mf.migration_precheck_problems(p), "PORT_IN_USE")
    assert problem["severity"] == "warning" and problem["value"] is None


# --- CLOCK_UNSYNCED, CLOCK_OFFSET ---------------------------------------------------------------------

def test_clock_unsynced_and_unknown():
    p = plan()
    p["facts"]["hzq-kb01"] = host_facts(mac=SOURCE_MAC, licence_macs=[SOURCE_MAC], synced=False)
    problem = only(mf.migration_precheck_problems(p), "CLOCK_UNSYNCED")
    assert problem["severity"] == "error" and problem["host"] == "hzq-kb01" and problem["value"] == "Not synchronised"
    p["facts"]["hzq-kb01"]["chrony"] = {"synced": None, "reason": "chronyc not found", "offset_seconds": None}
    problem = only(mf.migration_precheck_problems(p), "CLOCK_UNSYNCED")
    assert problem["severity"] == "warning" and "chronyc not found" in problem["message"]


def test_clock_offset_either_way():
    p = plan(max_clock_offset_s=0.5)
    p["facts"]["hzq-ckb01"]["chrony"]["offset_seconds"] = -0.75
    problem = only(mf.migration_precheck_problems(p), "CLOCK_OFFSET")
    assert problem["value"] == -0.75 and problem["allowed"] == 0.5 and "behind" in problem["message"]
    p["facts"]["hzq-ckb01"]["chrony"]["offset_seconds"] = 0.5
    assert mf.migration_precheck_problems(p) == []
    # The default allows 1 s.
    p = plan(max_clock_offset_s=None)
    p["facts"]["hzq-ckb01"]["chrony"]["offset_seconds"] = 1.5
    assert "ahead" in only(mf.migration_precheck_problems(p), "CLOCK_OFFSET")["message"]


# --- LICENCE_MISSING -----------------------------------------------------------------------------------

def test_licence_bound_to_the_source_mac_must_be_reissued():
    p = plan()
    p["facts"]["hzq-ckb01"] = host_facts(licence_macs=[SOURCE_MAC])  # license.dat copied from the source
    problem = only(mf.migration_precheck_problems(p), "LICENCE_MISSING")
    assert problem["host"] == "hzq-ckb01" and problem["value"] == [SOURCE_MAC]
    assert "must be re-issued for these MACs: %s" % TARGET_MAC in problem["message"]
    assert "52:54:00" not in problem["message"]  # the virtual bridge is not offered for the licence
    assert TARGET_MAC in problem["message_zh"]


def test_no_licence_file():
    p = plan()
    p["facts"]["hzq-ckb01"] = host_facts(licence_macs=None)
    problem = only(mf.migration_precheck_problems(p), "LICENCE_MISSING")
    assert "no readable Kingbase licence file" in problem["message"] and "re-issued" in problem["message"]


def test_licence_matching_ignores_spelling():
    p = plan()
    p["facts"]["hzq-ckb01"] = host_facts(licence_macs=[TARGET_MAC.upper().replace(":", "-")])
    assert mf.migration_precheck_problems(p) == []


def test_licence_required_defaults_to_kingbase_targets_and_can_be_switched_off():
    p = plan(licence_required={})
    p["facts"]["hzq-ckb01"] = host_facts(licence_macs=None)
    assert codes(mf.migration_precheck_problems(p)) == ["LICENCE_MISSING"]
    p["licence_required"] = {"hzq-ckb01": False}
    assert mf.migration_precheck_problems(p) == []
    # Not required on a BES target, nor on the source.
    p = plan()
    p["facts"]["hzq-kb01"] = host_facts(mac=SOURCE_MAC, licence_macs=None)
    assert mf.migration_precheck_problems(p) == []


# --- BACKUP_NOT_READY ----------------------------------------------------------------------------------

def test_backup_not_ready():
    problem = only(mf.migration_precheck_problems(plan(backup={"ok": False, "detail": "restore verification failed"})),
                   "BACKUP_NOT_READY")
    assert problem["severity"] == "error" and "restore verification failed" in problem["message"]
    assert only(mf.migration_precheck_problems(plan(backup=None)), "BACKUP_NOT_READY")["value"] == \
        "the latest backup was not judged"


# --- INITDB_MISMATCH, INITDB_UNKNOWN --------------------------------------------------------------------------

def initdb_attrs(origin="server", error=None, **over):
    """A kingbase_initdb_attributes fact as the kingbase role's entry point initdb_attributes sets it."""
    a = {"origin": origin, "error": error, "database_mode": "pg", "enable_ci": "off", "data_checksums": "off",
         "server_encoding": "UTF8", "lc_collate": "zh_CN.UTF-8", "lc_ctype": "zh_CN.UTF-8"}
    a.update(over)
    return a


def initdb_plan(source, target, route="physical"):
    return plan(route, initdb={"hzq-kb01": source, "hzq-ckb01": target})


def test_initdb_equal_attributes_are_no_problem_on_every_route():
    for route in mf.ROUTES:
        assert mf.migration_precheck_problems(initdb_plan(initdb_attrs(), initdb_attrs(), route)) == []
        assert mf.migration_precheck_problems(initdb_plan(initdb_attrs(), initdb_attrs("planned"), route)) == []
    # Spelling differences are not differences: UTF-8/UTF8, utf8 codeset, on/true, booleans, case.
    same = initdb_attrs(database_mode="PG", enable_ci=False, data_checksums="false", server_encoding="utf-8",
                        lc_collate="zh_CN.utf8", lc_ctype="zh_CN.UTF8")
    assert mf.migration_precheck_problems(initdb_plan(initdb_attrs(), same)) == []
    # Not judged without the initdb map (an older plan), nor on a BES pair.
    assert mf.migration_precheck_problems(plan()) == []


def test_initdb_database_mode_differs_is_exactly_one_error():
    problems = mf.migration_precheck_problems(initdb_plan(initdb_attrs(database_mode="oracle"), initdb_attrs()))
    assert problems == [{
        "code": "INITDB_MISMATCH", "severity": "error", "host": "hzq-ckb01", "variable_or_item": "database_mode",
        "value": "pg", "allowed": "oracle",
        "message": "hzq-ckb01 has database_mode = pg but its source hzq-kb01 has oracle; it is fixed at initdb: "
                   "empty hzq-ckb01's data directory and let prepare initialise it again with "
                   "kingbase_database_mode: oracle, or choose another target",
        "message_zh": "hzq-ckb01 的 database_mode 为 pg，源主机 hzq-kb01 为 oracle；该属性只能在 initdb 时设定："
                      "请清空 hzq-ckb01 的数据目录，并设置 kingbase_database_mode: oracle 后由 prepare 重新初始化，或另选目标主机"}]
    # The same on every route.
    for route in mf.ROUTES:
        assert codes(mf.migration_precheck_problems(
            initdb_plan(initdb_attrs(database_mode="oracle"), initdb_attrs(), route))) == ["INITDB_MISMATCH"]


def test_initdb_planned_target_is_told_which_variable_to_set():
    problems = mf.migration_precheck_problems(initdb_plan(
        initdb_attrs(database_mode="oracle", enable_ci="on", lc_collate="C", lc_ctype="C"), initdb_attrs("planned")))
    assert [(p["code"], p["severity"], p["variable_or_item"], p["value"], p["allowed"]) for p in problems] == [
        ("INITDB_MISMATCH", "error", "database_mode", "pg", "oracle"),
        ("INITDB_MISMATCH", "error", "enable_ci", "off", "on"),
        ("INITDB_MISMATCH", "error", "lc_collate", "zh_CN.UTF-8", "C"),
        ("INITDB_MISMATCH", "error", "lc_ctype", "zh_CN.UTF-8", "C")]
    assert problems[1]["message"] == (
        "hzq-ckb01 will be created with enable_ci = off but its source hzq-kb01 has on; set kingbase_enable_ci: true "
        "for hzq-ckb01 in the inventory so prepare initialises it with the source's value")
    assert problems[1]["message_zh"] == (
        "hzq-ckb01 的 enable_ci 将初始化为 off，源主机 hzq-kb01 为 on；请在库存中为 hzq-ckb01 设置 kingbase_enable_ci: true，"
        "使 prepare 按源库的值初始化")
    assert "kingbase_locale: C" in problems[2]["message"]
    checksums = mf.migration_precheck_problems(initdb_plan(initdb_attrs(data_checksums="on"), initdb_attrs("planned")))
    assert [(p["code"], p["variable_or_item"]) for p in checksums] == [("INITDB_MISMATCH", "data_checksums")]
    assert "kingbase_data_checksums: true" in checksums[0]["message"]


def test_initdb_unknown_value_is_a_warning_not_an_error():
    # The source does not report database_mode (a server without the setting): a warning, the rest compared.
    problems = mf.migration_precheck_problems(initdb_plan(initdb_attrs(database_mode=None),
                                                          initdb_attrs(database_mode="oracle", enable_ci="on")))
    assert [(p["code"], p["severity"], p["variable_or_item"], p["value"], p["allowed"]) for p in problems] == [
        ("INITDB_UNKNOWN", "warning", "database_mode", "oracle", None),
        ("INITDB_MISMATCH", "error", "enable_ci", "on", "off")]
    assert problems[0]["message"] == ("hzq-kb01 does not report database_mode (hzq-kb01 None, hzq-ckb01 oracle): "
                                      "check by hand that hzq-ckb01 matches hzq-kb01")
    # Both sides without it: still a warning (unknown is never equal).
    both = mf.migration_precheck_problems(initdb_plan(initdb_attrs(enable_ci=None), initdb_attrs(enable_ci=None)))
    assert [(p["code"], p["severity"], p["variable_or_item"]) for p in both] == [("INITDB_UNKNOWN", "warning", "enable_ci")]
    # A planned target whose options leave the mode to initdb's unknown default.
    planned = mf.migration_precheck_problems(initdb_plan(initdb_attrs(), initdb_attrs("planned", database_mode=None)))
    assert [(p["code"], p["severity"], p["variable_or_item"]) for p in planned] == [("INITDB_UNKNOWN", "warning", "database_mode")]
    assert "set kingbase_database_mode for hzq-ckb01" in planned[0]["message"]


def test_initdb_side_not_read_is_one_warning():
    cases = [
        (initdb_attrs("stopped", "the server does not run", **dict.fromkeys(mf.INITDB_ATTRIBUTES)), initdb_attrs(),
         "hzq-kb01", "stopped: the server does not run"),
        # A source's planned values are no record of its cluster.
        (initdb_attrs("planned"), initdb_attrs(), "hzq-kb01", "planned"),
        (initdb_attrs(error="FATAL: password authentication failed"), initdb_attrs(), "hzq-kb01",
         "read failed: FATAL: password authentication failed"),
        (None, initdb_attrs(), "hzq-kb01", "not read"),
        (initdb_attrs(), None, "hzq-ckb01", "not read"),
        (initdb_attrs(), initdb_attrs("stopped", "the server does not run"), "hzq-ckb01",
         "stopped: the server does not run"),
    ]
    for source, target, host, why in cases:
        problems = mf.migration_precheck_problems(initdb_plan(source, target))
        assert [(p["code"], p["severity"], p["host"], p["variable_or_item"], p["value"]) for p in problems] == [
            ("INITDB_UNKNOWN", "warning", "hzq-ckb01", "initdb attributes", why)], (source, target)
        assert problems[0]["message"].startswith("the initdb-time attributes of %s are unknown (%s)" % (host, why))


def test_initdb_not_judged_for_an_unreachable_pair():
    p = initdb_plan(initdb_attrs(database_mode="oracle"), initdb_attrs())
    p["unreachable"] = ["hzq-ckb01"]
    assert codes(mf.migration_precheck_problems(p)) == ["HOST_UNREACHABLE"]


# --- everything together, validation, summary, required bytes ----------------------------------------------

def test_all_problems_are_reported_together():
    p = plan(backup={"ok": False, "detail": "no full backup in 8 days"}, unreachable=["hzq-bes01"],
             versions={"hzq-ckb01": {"kingbase": "V008R006C009"}, "hzq-kb01": {"kingbase": "V008R006C008"}},
             max_clock_offset_s=1.0,
             initdb={"hzq-kb01": initdb_attrs(database_mode="oracle", enable_ci=None),
                     "hzq-ckb01": initdb_attrs(origin="planned")})
    p["facts"]["hzq-ckb01"] = host_facts(machine="aarch64", glibc="glibc 2.34", licence_macs=[SOURCE_MAC],
                                         free=10 * GIB, mem=8 * GIB, listening=(54321,), synced=False, offset=3.0)
    problems = mf.migration_precheck_problems(p)
    assert codes(problems) == sorted(mf.CODES)
    summary = mf.migration_precheck_summary(problems)
    assert summary == {"errors": len(mf.CODES) - 2, "warnings": 2, "ok": False,
                       "by_code": dict((code, 1) for code in mf.CODES)}


def test_plan_is_not_modified():
    p = plan(licence_required={})
    before = copy.deepcopy(p)
    mf.migration_precheck_problems(p)
    assert p == before


def test_unknown_route_or_kind_is_an_error():
    with pytest.raises(ValueError, match="route"):
        mf.migration_precheck_problems(plan("rsync"))
    with pytest.raises(ValueError, match="kind"):
        mf.migration_precheck_problems(plan(pairs=[{"target": "a", "source": "b", "kind": "dm8"}]))


def test_summary_of_warnings_only_is_ok():
    problems = [{"code": "GLIBC_DIFFERS", "severity": "warning"}, {"code": "PORT_IN_USE", "severity": "warning"}]
    assert mf.migration_precheck_summary(problems) == {"errors": 0, "warnings": 2, "ok": True,
                                                      "by_code": {"GLIBC_DIFFERS": 1, "PORT_IN_USE": 1}}
    assert mf.migration_precheck_summary([]) == {"errors": 0, "warnings": 0, "ok": True, "by_code": {}}


def test_required_bytes():
    assert mf.migration_required_bytes(100, 1.1, 0) == 110  # not 111 from 110.00000000000001
    assert mf.migration_required_bytes(100 * GIB, 1.5, 10 * GIB) == 160 * GIB
    assert mf.migration_required_bytes(3, 0.5, 1) == 3  # ceil(1.5) + 1
    assert mf.migration_required_bytes("1000", "1.2", "24") == 1224
    with pytest.raises(ValueError):
        mf.migration_required_bytes(None, 1.2, 0)
    with pytest.raises(ValueError):
        mf.migration_required_bytes(-1, 1.2, 0)


def test_filters_are_registered():
    assert set(mf.FilterModule().filters()) == {"migration_precheck_problems", "migration_precheck_summary",
                                                "migration_required_bytes", "migration_rsync_stats", "migration_rsync_changed",
                                                "migration_duration_s", "migration_target_paths"}


RSYNC_STATS = """
Number of files: 1,204 (reg: 1,180, dir: 24)
Number of created files: 3 (reg: 3)
Number of deleted files: 2 (reg: 2)
Number of regular files transferred: 5
Total file size: 30,512,113 bytes
Total transferred file size: 1,048,576 bytes
"""


def test_rsync_stats_reads_the_numbers_with_thousands_separators():
    stats = mf.migration_rsync_stats(RSYNC_STATS)
    assert stats == {"files": 1204, "transferred": 5, "deleted": 2, "bytes": 1048576, "changed": True}


@pytest.mark.parametrize("transferred, deleted, changed", [(0, 0, False), (1, 0, True), (0, 1, True)])
def test_rsync_pass_changed_when_it_sent_or_deleted_a_file(transferred, deleted, changed):
    text = ("Number of files: 10\nNumber of deleted files: %d\nNumber of regular files transferred: %d\n"
            "Total transferred file size: 0 bytes\n") % (deleted, transferred)
    assert mf.migration_rsync_changed(text) is changed


def test_rsync_stats_missing_lines_count_as_zero():
    assert mf.migration_rsync_stats("") == {"files": 0, "transferred": 0, "deleted": 0, "bytes": 0, "changed": False}
    assert mf.migration_rsync_stats(None)["bytes"] == 0


@pytest.mark.parametrize("delta, seconds", [
    ("0:00:03.940312", 3.9), ("1:02:03.05", 3723.1), ("0:00:00", 0.0), (" 0:10:00.5 ", 600.5),
    ("", None), (None, None), ("3.5", None), ("0:61", None),
])
def test_migration_duration_s(delta, seconds):
    assert mf.migration_duration_s(delta) == seconds


def test_target_paths_follow_the_target_layout():
    usage = [{"path": "/data/kingbase/data", "bytes": 100}, {"path": "/srv/files", "bytes": 10}]
    out = mf.migration_target_paths(usage, ["/data/kingbase/data", "/srv/files"], ["/opt/Kingbase/ES/V8/data", "/srv/files"], 1.5, 5)
    assert out == {"/opt/Kingbase/ES/V8/data": 155, "/srv/files": 20}


def test_target_paths_same_path_when_layouts_do_not_pair():
    usage = [{"path": "/data/kingbase/data", "bytes": 100}]
    assert mf.migration_target_paths(usage, ["/data/kingbase/data"], [], 1, 0) == {"/data/kingbase/data": 100}


def test_target_paths_leave_out_unmeasured_and_sum_paths_that_meet():
    usage = [{"path": "/a", "bytes": None}, {"path": "/b", "bytes": 7}, {"path": "/c", "bytes": 3}]
    assert mf.migration_target_paths(usage, ["/a", "/b", "/c"], ["/x", "/y", "/y"], 1, 1) == {"/y": 12}
