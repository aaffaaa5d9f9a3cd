"""Inventory validation rules (plugins/filter/inventory_checks.py)."""
import copy

import pytest
import yaml

from inventory_checks import check_inventory, inventory_problems
from conftest import ROOT

DEFAULTS = yaml.safe_load((ROOT / "roles/inventory_validate/defaults/main.yml").read_text())
RULES = {key[len("inventory_validate_"):]: value for key, value in DEFAULTS.items()}


def host(groups, **hostvars):
    return {"groups": list(groups), "vars": dict(hostvars)}


def good_estate():
    common = {"ansible_connection": "ssh", "platform_name_zh": "洪泽区", "platform_subnet": "10.1.20.0/24"}
    return {
        "hzq-kb01": host(["platforms", "hongze", "kingbase", "kingbase_hongze"], ansible_host="10.1.20.11",
                         kingbase_cluster_name="hongze", kingbase_node_role="primary", **common),
        "hzq-kb02": host(["platforms", "hongze", "kingbase", "kingbase_hongze"], ansible_host="10.1.20.12",
                         kingbase_cluster_name="hongze", kingbase_node_role="standby", **common),
        "hzq-bes01": host(["platforms", "hongze", "bes"], ansible_host="10.1.20.21",
                          os_baseline_apply_kernel_runtime=True, **common),
    }


def by_host_var(problems):
    return sorted((p["host"], p["variable"]) for p in problems)


def test_good_estate_has_no_problem():
    assert check_inventory(good_estate(), RULES) == []


def test_every_problem_is_reported_in_one_pass():
    hosts = good_estate()
    hosts["hzq-kb02"]["vars"]["ansible_host"] = "10.1.20.11"          # duplicate address
    hosts["hzq-kb02"]["vars"]["kingbase_node_role"] = "primary"      # two primaries, no standby
    hosts["hzq-bes01"]["vars"]["os_baseline_apply_kernel_runtime"] = "yes"  # string, not boolean
    del hosts["hzq-bes01"]["vars"]["platform_name_zh"]               # required variable missing
    found = by_host_var(check_inventory(hosts, RULES))
    assert found == [
        ("hzq-bes01", "os_baseline_apply_kernel_runtime"),
        ("hzq-bes01", "platform_name_zh"),
        ("hzq-kb01", "ansible_host"),
        ("hzq-kb01", "kingbase_node_role"),
        ("hzq-kb01", "kingbase_node_role"),
        ("hzq-kb02", "ansible_host"),
        ("hzq-kb02", "kingbase_node_role"),
    ]


def test_messages_name_host_variable_value_and_what_is_allowed():
    hosts = good_estate()
    hosts["hzq-bes01"]["vars"]["os_baseline_apply_kernel_runtime"] = "yes"
    (problem,) = check_inventory(hosts, RULES)
    assert problem["message"] == (
        "hzq-bes01: os_baseline_apply_kernel_runtime = 'yes': a string, not a boolean; "
        "allowed: true or false (unquoted YAML booleans)")


@pytest.mark.parametrize("address, what", [
    (None, "no address"),
    ("", "no address"),
    ("10.1.20", "not an IP address"),
    ("10", "not an IP address"),
    ("hzq-bes01.example", "not an IP address"),
    ("10.1.30.5", "outside the platform's subnet"),
])
def test_bad_addresses(address, what):
    hosts = good_estate()
    hosts["hzq-bes01"]["vars"]["ansible_host"] = address
    (problem,) = check_inventory(hosts, RULES)
    assert problem["host"] == "hzq-bes01" and what in problem["message"]


def test_missing_address_is_reported_when_ansible_host_is_absent():
    hosts = good_estate()
    del hosts["hzq-bes01"]["vars"]["ansible_host"]
    (problem,) = check_inventory(hosts, RULES)
    assert problem["value"] == "(not set)"


def test_ipv6_and_no_subnet_are_accepted():
    hosts = good_estate()
    for hv in (h["vars"] for h in hosts.values()):
        hv.pop("platform_subnet")
    hosts["hzq-bes01"]["vars"]["ansible_host"] = "fd00::21"
    assert check_inventory(hosts, RULES) == []


def test_duplicate_detection_uses_canonical_addresses():
    hosts = good_estate()
    for hv in (h["vars"] for h in hosts.values()):
        hv.pop("platform_subnet")
    hosts["hzq-kb01"]["vars"]["ansible_host"] = "fd00::1"
    hosts["hzq-kb02"]["vars"]["ansible_host"] = "fd00:0:0::1"
    assert by_host_var(check_inventory(hosts, RULES)) == [("hzq-kb01", "ansible_host"), ("hzq-kb02", "ansible_host")]


def test_hosts_not_reached_over_the_network_need_no_address():
    hosts = good_estate()
    hosts["hzq-bes01"]["vars"].update(ansible_connection="containers.podman.podman", ansible_host="hzq-bes01")
    assert check_inventory(hosts, RULES) == []


def test_invalid_platform_subnet_is_reported_once_per_platform():
    hosts = good_estate()
    for hv in (h["vars"] for h in hosts.values()):
        hv["platform_subnet"] = "10.1.20.0/33"
    problems = check_inventory(hosts, RULES)
    assert [(p["host"], p["variable"]) for p in problems] == [("group hongze", "platform_subnet")]


def test_host_in_two_platforms_or_none():
    hosts = good_estate()
    hosts["hzq-kb01"]["groups"].append("city")
    hosts["hzq-bes01"]["groups"].remove("hongze")
    found = by_host_var(check_inventory(hosts, RULES))
    assert found == [("hzq-bes01", "group_names"), ("hzq-kb01", "group_names")]


def test_cluster_without_primary_and_unknown_role():
    hosts = good_estate()
    hosts["hzq-kb01"]["vars"]["kingbase_node_role"] = "master"
    problems = check_inventory(hosts, RULES)
    messages = [p["message"] for p in problems]
    assert any("'master': value not allowed; allowed: one of primary, standby, witness" in m for m in messages)
    assert any("0 hosts are primary in kingbase_cluster_name hongze" in m for m in messages)


def test_cluster_needs_a_standby():
    hosts = good_estate()
    del hosts["hzq-kb02"]
    (problem,) = check_inventory(hosts, RULES)
    assert "0 standby in kingbase_cluster_name hongze (hzq-kb01)" in problem["message"]


def test_removed_variable_is_reported_with_its_replacement():
    hosts = good_estate()
    hosts["hzq-bes01"]["vars"]["os_baseline_ntp_server"] = "10.1.0.1"
    (problem,) = check_inventory(hosts, RULES)
    assert problem["variable"] == "os_baseline_ntp_server"
    assert "set os_baseline_ntp_servers" in problem["allowed"]


def test_secret_values_never_appear_in_messages():
    rules = copy.deepcopy(RULES)
    rules["allowed_values"]["vault_kingbase_password"] = ["x"]
    hosts = good_estate()
    hosts["hzq-bes01"]["vars"]["vault_kingbase_password"] = "canary-S3cret"
    (problem,) = check_inventory(hosts, rules)
    assert "canary-S3cret" not in repr(problem) and problem["value"] == "(redacted)"


def test_filter_reads_only_the_variables_it_needs():
    class Lazy(dict):
        def __getitem__(self, key):
            if key == "explodes":
                raise AssertionError("read a variable no rule needs")
            return dict.__getitem__(self, key)

    estate = good_estate()
    hostvars = {}
    for name, h in estate.items():
        hostvars[name] = Lazy(h["vars"], group_names=h["groups"], explodes=1)
    assert inventory_problems(hostvars, list(hostvars), RULES) == []
