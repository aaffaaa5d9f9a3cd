"""The shipped inventories and the validation playbook, run on the controller (no host is contacted)."""
import json
import os
import subprocess

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
# The lab vault (made by `make secrets`) decrypts with the lab's own password file.
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
           ANSIBLE_VAULT_PASSWORD_FILE=str(ROOT / ".lab" / "vault-password"))
PLATFORMS = ["city", "qingjiangpu", "huaian_district", "huaiyin", "hongze", "lianshui", "xuyi", "jinhu",
             "econ_dev_zone", "industrial_park", "eco_tourism_zone"]


def inventory(path):
    out = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(ROOT / path), "--list"], env=ENV, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def members(inv, group):
    """All hosts of a group, through its children."""
    node = inv.get(group, {})
    hosts = set(node.get("hosts", []))
    for child in node.get("children", []):
        hosts |= members(inv, child)
    return hosts


def validate(path, *extra):
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / path), "playbooks/validate.yml", *extra],
                          env=ENV, cwd=ROOT, capture_output=True, text=True)


def failure_messages(res):
    """The msg list of the failed task, from the json callback's output."""
    report = json.loads(res.stdout)
    for play in report["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                if result.get("failed"):
                    return result["msg"]
    return []


def graph_groups(path):
    out = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(ROOT / path), "--graph"], env=ENV, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return {line.strip(" |-").lstrip("@").rstrip(":") for line in out.splitlines() if "@" in line}


def test_production_inventory_shape():
    inv = inventory("inventories/huaian")
    assert sorted(inv["platforms"]["children"]) == sorted(PLATFORMS)
    assert len(members(inv, "kingbase")) == 24
    assert len(members(inv, "bes")) == 73
    for group in ["preview", "yozo_preview", "ofd_preview", "ofd_convert", "preview_cache", "sms_gateway",
                  "mobile_gateway", "backup_server", "backup_appliance"]:
        assert members(inv, group), group
    everyone = members(inv, "all")
    assert sum(len(members(inv, p)) for p in PLATFORMS) == len(everyone)


def test_production_clusters_have_one_primary_each():
    inv = inventory("inventories/huaian")
    hostvars = inv["_meta"]["hostvars"]
    clusters = {}
    for name in members(inv, "kingbase"):
        clusters.setdefault(hostvars[name]["kingbase_cluster_name"], []).append(hostvars[name]["kingbase_node_role"])
    assert len(clusters) == 12
    assert all(sorted(roles) == ["primary", "standby"] for roles in clusters.values())


# The component groups of the contract (docs/architecture.md), present in every inventory.
STRUCTURAL = {"platforms", "kingbase", "bes", "preview", "yozo_preview", "ofd_preview", "ofd_convert",
              "preview_cache", "sms_gateway", "mobile_gateway", "backup_server", "backup_appliance", "front_end"}


@pytest.mark.parametrize("path", ["inventories/lab", "inventories/lab-vendor"])
def test_lab_inventory_uses_the_production_group_names(path):
    lab, prod = graph_groups(path), graph_groups("inventories/huaian")
    assert STRUCTURAL <= lab and STRUCTURAL <= prod
    assert set(inventory(path)["platforms"]["children"]) <= set(PLATFORMS)
    assert lab <= prod


@pytest.mark.parametrize("path", ["inventories/lab", "inventories/lab-vendor"])
def test_lab_inventory_is_valid(path):
    res = validate(path)
    assert res.returncode == 0, res.stdout
    assert "no problems found" in res.stdout


def test_vendor_lab_inventory_shape():
    inv = inventory("inventories/lab-vendor")
    hostvars = inv["_meta"]["hostvars"]
    assert members(inv, "kingbase_qingjiangpu") == {"qjp-kb01", "qjp-kb02"}
    assert members(inv, "bes") == {"qjp-bes01"} and members(inv, "front_end") == {"qjp-fep01"}
    assert {h: hostvars[h]["kingbase_node_role"] for h in members(inv, "kingbase")} == {
        "qjp-kb01": "primary", "qjp-kb02": "standby"}
    assert hostvars["qjp-kb01"]["kingbase_cluster_name"] == "qingjiangpu"
    assert hostvars["qjp-fep01"]["adoption_mode_default"] == "observe"


def test_production_inventory_lists_every_host_without_an_address():
    res = validate("inventories/huaian")
    assert res.returncode != 0
    assert "117 inventory problem(s)" in res.stdout
    assert res.stdout.count("no address (the operator fills it in)") == 117


def test_broken_inventory_fails_with_every_problem_listed():
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / "tests/fixtures/inventories/broken"),
                          "playbooks/validate.yml"], env=dict(ENV, ANSIBLE_STDOUT_CALLBACK="json"), cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode != 0
    messages = failure_messages(res)
    assert messages[0] == "11 inventory problem(s), nothing was changed:"
    assert sorted(messages[1:]) == sorted([
        "hzq-kb01: ansible_host = '10.1.20.11': duplicate address, also used by hzq-kb02; "
        "allowed: an address no other host uses",
        "hzq-kb02: ansible_host = '10.1.20.11': duplicate address, also used by hzq-kb01; "
        "allowed: an address no other host uses",
        "hzq-bes01: ansible_host = '10.1.99.21': outside the platform's subnet; "
        "allowed: an address inside platform_subnet = 10.1.20.0/24 (hongze)",
        "hzq-bes01: os_baseline_apply_kernel_runtime = 'yes': a string, not a boolean; "
        "allowed: true or false (unquoted YAML booleans)",
        "hzq-bes02: platform_name_zh = '': required variable missing; allowed: a value (required on hosts in group all)",
        "hzq-bes02: os_baseline_ntp_server = '10.1.0.1': variable was removed; "
        "allowed: renamed: set os_baseline_ntp_servers (a list)",
        "hzq-kb01: kingbase_node_role = 'primary': 2 hosts are primary in kingbase_cluster_name hongze "
        "(hzq-kb01, hzq-kb02); allowed: exactly one primary per cluster",
        "hzq-kb02: kingbase_node_role = 'primary': 2 hosts are primary in kingbase_cluster_name hongze "
        "(hzq-kb01, hzq-kb02); allowed: exactly one primary per cluster",
        "hzq-kb01: kingbase_node_role = 'primary': 0 standby in kingbase_cluster_name hongze "
        "(hzq-kb01, hzq-kb02); allowed: at least 1 standby per cluster",
        "hzq-bes01: adoption_modes.bes = 'managed' (tests/fixtures/inventories/broken/hosts.yml:16): managing a "
        "component the inventory observes is a recorded change, and adoption_changes.bes is not set; allowed: "
        "adoption_changes.bes: <the change id, e.g. CR-2026-0142> beside it, after reviewing the discovery",
        "hzq-kb02: adoption_modes.kingbase = 'manage' (tests/fixtures/inventories/broken/hosts.yml:29): not a mode; "
        "allowed: observe or managed",
    ])


def test_changing_playbook_refuses_to_start_without_a_change_id():
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventories/lab"), "playbooks/os_baseline.yml",
                          "--check"], env=ENV, cwd=ROOT, capture_output=True, text=True)
    out = " ".join(res.stdout.split())
    assert res.returncode != 0
    assert "This playbook changes hosts and needs a change request id" in out
    assert "PLAY [Apply the common OS baseline]" not in res.stdout


def test_change_id_must_have_the_registers_form():
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventories/lab"), "playbooks/os_baseline.yml",
                          "--check", "-e", "change_id=fix-things"], env=ENV, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode != 0 and "Got change_id = fix-things" in " ".join(res.stdout.split())


def test_requirements_match_the_bundled_collections():
    wanted = yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]
    out = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list", "--format", "json"], env=ENV, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    installed = {}
    for path_entries in json.loads(out).values():
        for name, info in path_entries.items():
            installed.setdefault(name, info["version"])
    for item in wanted:
        assert installed.get(item["name"]) == item["version"], item
