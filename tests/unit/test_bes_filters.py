"""The bes role's pure logic: heap sizing, JDBC URLs, GC options and the input rules."""
import copy

import pytest

from bes_filters import (bes_gc_options, bes_heap_mb, bes_input_problems, bes_jdbc_url, bes_ownership_problems,
                         bes_pool_defaults)


@pytest.mark.parametrize("mem, expected", [
    (16000, 7936),      # half, rounded down to 256 MB
    (1024, 512),        # floor
    (262144, 31744),    # compressed-oops ceiling
    (700, 512),
])
def test_heap_from_host_memory(mem, expected):
    assert bes_heap_mb(mem) == expected


def test_heap_ratio_and_limits_are_parameters():
    assert bes_heap_mb(8192, ratio=0.25, max_mb=1024, min_mb=256) == 1024
    assert bes_heap_mb(8192, ratio=0.1, max_mb=4096, min_mb=1024) == 1024


def test_pool_defaults_keep_explicit_values_and_merge_params():
    pool = bes_pool_defaults({"name": "a", "max_total": 5, "params": {"x": "1"}},
                             {"max_total": 50, "min_idle": 2, "params": {"y": "2"}})
    assert pool["max_total"] == 5 and pool["min_idle"] == 2
    assert pool["params"] == {"x": "1", "y": "2"}


def test_jdbc_url_multi_host_targets_the_primary():
    url = bes_jdbc_url(["10.0.0.1:54321", "10.0.0.2:54321"], "oa", "kingbase8", {"targetServerType": "primary"})
    assert url == "jdbc:kingbase8://10.0.0.1:54321,10.0.0.2:54321/oa?targetServerType=primary"


def test_jdbc_url_single_host_has_no_parameters():
    assert bes_jdbc_url(["db1:54321"], "oa", "kingbase8", {"targetServerType": "primary"}) == "jdbc:kingbase8://db1:54321/oa"


def test_jdbc_url_uses_the_vip_when_the_cluster_has_one():
    url = bes_jdbc_url(["10.0.0.1:54321", "10.0.0.2:54321"], "oa", "kingbase8", {"targetServerType": "primary"},
                       vip="10.0.0.10", vip_port=54322)
    assert url == "jdbc:kingbase8://10.0.0.10:54322/oa"


def test_gc_options_follow_the_java_version():
    new = bes_gc_options(17, "G1", ["-XX:MaxGCPauseMillis=200"], True, "/var/log/bes/x/", 5, 20)
    assert new[:2] == ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=200"]
    assert new[2] == "-Xlog:gc*,safepoint:file=/var/log/bes/x/gc.log:time,uptime,level,tags:filecount=5,filesize=20m"
    old = bes_gc_options(8, "Parallel", [], True, "/logs", 3, 10)
    assert old[0] == "-XX:+UseParallelGC"
    assert "-Xloggc:/logs/gc.log" in old and "-XX:NumberOfGCLogFiles=3" in old and "-XX:GCLogFileSize=10M" in old
    assert bes_gc_options(17, "G1", [], False) == ["-XX:+UseG1GC"]


GOOD = {
    "version": "9.5.5.7266", "media_exists": True, "media_path": "/m/BES.tar.gz",
    "listeners": [{"name": "http-listener-1", "port": 18080, "max_threads": 200, "min_spare_threads": 10}],
    "admin_port": 1900, "os_user": "bes", "os_uid": "990", "heap_mb": 2048, "memtotal_mb": 8192, "gc": "G1",
    "java_major": 17,
    "pools": [{"name": "oa", "kingbase_cluster": "kingbase_city_a", "database": "oa", "user": "oa_app",
               "max_total": 50, "min_idle": 5}],
    "groups": {"kingbase_city_a": ["kb1", "kb2"]}, "pool_password_lengths": [24],
    "driver_files_missing": [], "driver_files_count": 1, "applications_missing": [],
}


def problems(**changes):
    cfg = copy.deepcopy(GOOD)
    cfg.update(changes)
    return bes_input_problems(cfg)


def test_good_inputs_have_no_problems():
    assert problems() == []


def test_heap_larger_than_host_memory_is_refused():
    (msg,) = problems(heap_mb=16384)
    assert msg.startswith("bes_heap_size_mb = 16384 : not below the host memory of 8192 MB; allowed:")


def test_two_listeners_on_one_port_are_refused():
    listeners = GOOD["listeners"] + [{"name": "http-listener-2", "port": 18080}]
    (msg,) = problems(listeners=listeners)
    assert msg == "bes_listeners[1].port = 18080 : also the port of http-listener-1; allowed: one listener per port"


def test_listener_on_the_admin_port_is_refused():
    (msg,) = problems(listeners=[{"name": "l1", "port": 1900}])
    assert "also bes_admin_port" in msg


@pytest.mark.parametrize("user, uid", [("root", "0"), ("bes", "0"), ("", None)])
def test_root_start_user_is_refused(user, uid):
    (msg,) = problems(os_user=user, os_uid=uid)
    assert msg.startswith("bes_os_user = ") and "never runs as root" in msg


def test_version_absent_from_the_media_is_refused():
    (msg,) = problems(version="9.5.5.9999", media_exists=False, media_path="/m/BES-AppServer-Standard-9.5.5.9999.tar.gz")
    assert msg == ("bes_version = '9.5.5.9999' : no media /m/BES-AppServer-Standard-9.5.5.9999.tar.gz on the controller; "
                   "allowed: a version whose media is in bes_media_dir")


def test_malformed_version_is_refused_without_looking_for_media():
    (msg,) = problems(version="latest", media_exists=False)
    assert msg.startswith("bes_version = 'latest' : not a BES version")


def test_every_problem_is_listed_at_once():
    found = problems(heap_mb=99999, os_user="root", os_uid="0", version="9.9.9", media_exists=False,
                     listeners=GOOD["listeners"] * 2, pool_password_lengths=[0],
                     pools=[dict(GOOD["pools"][0], kingbase_cluster="kingbase_nowhere")])
    assert len(found) == 7
    assert [m.split(" ", 1)[0] for m in found] == [
        "bes_version", "bes_os_user", "bes_listeners[1].name", "bes_listeners[1].port", "bes_heap_size_mb",
        "bes_jdbc_pools[0].kingbase_cluster", "bes_jdbc_pools[0].password"]


def test_pool_rules():
    found = problems(pools=[{"name": "a b", "kingbase_cluster": "kingbase_city_a", "database": "", "user": "u",
                             "max_total": 5, "min_idle": 9}], pool_password_lengths=[12])
    assert any(m.startswith("bes_jdbc_pools[0].name") for m in found)
    assert any(m.startswith("bes_jdbc_pools[0].database") for m in found)
    assert any(m.startswith("bes_jdbc_pools[0].min_idle = 9") for m in found)


def test_pools_need_a_driver():
    (msg,) = problems(driver_files_count=0)
    assert msg.startswith("bes_jdbc_driver_files = []")


# --- A BES the vendor installed (bes_ownership: vendor) -------------------------------------------------------

def test_a_vendors_bes_keeps_its_root_run_user_and_needs_no_media():
    cfg = dict(copy.deepcopy(GOOD), ownership="vendor", os_user="root", os_uid="0", media_exists=False)
    assert bes_input_problems(cfg) == []
    # The project's own install still refuses both.
    assert len(bes_input_problems(dict(cfg, ownership="whole"))) == 2


VENDOR = {"ownership": "vendor", "start_method": "iastool", "start_unit": "bes.service", "discovered": True,
          "vendor_files": [], "templates": {"bes_server_config_template": "server.config.j2"},
          "commands": {"bes_iastool_start": "/data/bes/bin/iastool start --server", "bes_iastool_stop": "/data/bes/bin/iastool stop --server"},
          "driver_files": [], "license_src": "", "applications": [], "action": "tune"}


def test_the_vendor_lab_as_discovered_has_no_problems():
    assert bes_ownership_problems(VENDOR) == []
    assert bes_ownership_problems(dict(VENDOR, vendor_files=["server.config"])) == []
    assert bes_ownership_problems({"ownership": "whole", "start_method": "systemd"}) == []


def test_a_vendor_run_that_would_change_what_the_vendor_owns_is_refused_all_at_once():
    cfg = dict(VENDOR, start_method="systemd", discovered=False, vendor_files=["server.xml"],
               driver_files=["/m/kingbase8.jar"], license_src="/m/bes.lic", applications=[{"name": "oa", "src": "/m/oa.war"}],
               action="upgrade")
    assert bes_ownership_problems(cfg) == [
        "bes_start_method = systemd with bes_ownership = vendor : the role would write its own unit and start the "
        "vendor's BES with it, beside the vendor's start; allowed: iastool or startserver (the vendor's start, from "
        "discovery), or bes_ownership: whole",
        "bes_ownership = vendor : this host has no discovery facts for BES (discovery_facts.bes), so the vendor's home, "
        "instance root, run user and start are unknown; allowed: run playbooks/discover.yml with BES running first, or "
        "whole for a BES the project installs",
        "bes_vendor_config_files[0] = 'server.xml' : allowed: server.config",
        "bes_jdbc_driver_files = ['/m/kingbase8.jar'] : on a BES the vendor installed (bes_ownership = vendor) the role "
        "copies nothing into the vendor's lib/; allowed: [] (the vendor's drivers stay), or bes_ownership: whole",
        "bes_license_src = '/m/bes.lic' : on a BES the vendor installed (bes_ownership = vendor) the licence stays the "
        "vendor's; allowed: '' , or bes_ownership: whole",
        "bes_applications = ['oa'] : on a BES the vendor installed (bes_ownership = vendor) the role deploys nothing into "
        "the vendor's deployments/; allowed: [] (deploy through the vendor's console or iastool), or bes_ownership: whole",
        "bes_ownership = vendor : bes_upgrade.yml switches BES_HOME between the project's version trees, which a "
        "vendor's BES_HOME is not; allowed: the vendor's own upgrade or patch procedure, or bes_ownership: whole for a "
        "BES the project installed",
    ]


def test_start_method_and_ownership_values():
    assert bes_ownership_problems(dict(VENDOR, ownership="Vendor")) == [
        "bes_ownership = 'Vendor' : allowed: whole (a BES the project installs from media and owns) or vendor (a BES the "
        "vendor installed: its tree, run user and start stay the vendor's)"]
    # Discovery could not tell how the vendor starts it: the operator must say.
    assert bes_ownership_problems(dict(VENDOR, start_method="")) == [
        "bes_start_method = (not set) : allowed: systemd, iastool, startserver (on a BES the vendor installed, from "
        "discovery: what its unit or its bin/ runs)"]
    assert bes_ownership_problems({"ownership": "whole", "start_method": "iastool"}) == [
        "bes_start_method = 'iastool' with bes_ownership = whole : a BES the project installs runs under the role's own "
        "unit; allowed: systemd"]


def test_without_a_vendor_unit_the_methods_commands_are_needed():
    cfg = dict(VENDOR, start_unit="", start_method="startserver",
               commands={"bes_startserver_start": "/data/bes/bin/startserver", "bes_startserver_stop": ""})
    assert bes_ownership_problems(cfg) == [
        "bes_startserver_stop = (not set) : bes_start_method = startserver runs it (no vendor unit, bes_start_unit is "
        "empty); allowed: the vendor's command"]
    # Through the vendor's unit the commands are the unit's business.
    assert bes_ownership_problems(dict(cfg, start_unit="bes.service")) == []


def test_a_vendor_file_needs_its_template():
    assert bes_ownership_problems(dict(VENDOR, vendor_files=["server.config"], templates={"bes_server_config_template": ""})) == [
        "bes_server_config_template = (not set) : bes_vendor_config_files lists server.config; allowed: a template of "
        "the vendor's server.config (the operator's own for the real format)"]
