"""The bes role's defaults as Ansible templates them: a host without discovery facts (the project's install, the
bes molecule scenario and the demo lab) keeps the project's layout and unit; a host discovery read resolves to the
vendor's BES or, when the role's unit carries its marker, to the project's own."""
import pathlib

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import filter_loader, init_plugin_loader
from ansible.template import Templar

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "bes"

init_plugin_loader()
filter_loader.add_directory(str(ROOT / "plugins" / "filter"))

# What discovery records on the vendor lab's BES (lab/playbooks/tasks/vendor_bes.yml; molecule/adopt verifies it).
VENDOR_LAB = {"bes": {"present": True, "instances": [{
    "home": "/data/bes", "instance_root": "/data/bes", "user": "root", "unit": "bes.service",
    "config_files": ["/data/bes/conf/server.config"], "owner": "vendor", "start_method": "iastool",
    "start_unit": "bes.service", "jmx": {"port": 6600}, "listeners": [{"port": 8080}, {"port": 1900}, {"port": 6600}],
    "server_config": {"jmx_port": 6600, "admin_port": 1900, "listeners": [
        {"name": "http-listener-1", "port": 8080, "address": "0.0.0.0"},
        {"name": "http-listener-2", "port": 8443, "address": "0.0.0.0"}]}}]}}
# A BES the role installed, read by discovery (its unit carries the marker).
PROJECT = {"bes": {"present": True, "instances": [{
    "home": "/opt/BES/current", "instance_root": "/opt/BES/instances/server", "user": "bes", "unit": "bes-server.service",
    "config_files": ["/opt/BES/instances/server/conf/server.xml"], "owner": "project", "start_method": "systemd",
    "start_unit": None, "jmx": {"port": None}, "listeners": [{"port": 18080}], "server_config": None}]}}


def resolve(names, **extra):
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    variables.update({"inventory_hostname": "h1", "ansible_memtotal_mb": 8192, "bes_version": "9.5.5.7266"})
    variables.update(extra)
    templar = Templar(loader=DataLoader(), variables=variables)
    return {name: templar.template("{{ %s }}" % name) for name in names}


NAMES = ["bes_ownership", "bes_start_method", "bes_start_unit", "__bes_control_unit", "bes_home", "bes_instance_root",
         "bes_os_user", "bes_log_dir", "__bes_rollback_paths", "__bes_vendor_files"]


@pytest.mark.parametrize("facts", [None, PROJECT], ids=["no discovery", "project install discovered"])
def test_the_projects_install_keeps_its_layout_and_unit(facts):
    got = resolve(NAMES, **({"discovery_facts": facts} if facts else {}))
    assert got["bes_ownership"] == "whole" and got["bes_start_method"] == "systemd" and got["bes_start_unit"] == ""
    assert got["__bes_control_unit"] == "bes-server"
    assert got["bes_log_dir"] == "/var/log/bes/server" and got["__bes_vendor_files"] == []
    assert got["__bes_rollback_paths"] == [
        "/opt/BES/instances/server/conf", "/opt/BES/instances/server/lib", "/opt/BES/instances/server/deployments",
        "/etc/systemd/system/bes-server.service", "/etc/huaian/logrotate/bes-server.conf", "/opt/BES/current",
        "/opt/BES/previous"]
    assert (got["bes_home"], got["bes_instance_root"], got["bes_os_user"]) == (
        "/opt/BES/current", "/opt/BES/instances/server", "bes")


def test_the_vendor_labs_bes_resolves_to_the_vendors_start_and_tree():
    got = resolve(NAMES + ["bes_server_config_path", "bes_listeners", "bes_baseline_sources", "bes_process_pattern"],
                  discovery_facts=VENDOR_LAB)
    assert got["bes_ownership"] == "vendor"
    assert (got["bes_start_method"], got["bes_start_unit"], got["__bes_control_unit"]) == ("iastool", "bes.service", "bes.service")
    assert (got["bes_home"], got["bes_instance_root"], got["bes_os_user"]) == ("/data/bes", "/data/bes", "root")
    assert got["bes_log_dir"] == "/data/bes/logs"
    # Nothing of the vendor's is written, so nothing of it is in the rollback point (never BES_HOME or conf/).
    assert got["__bes_rollback_paths"] == [] and got["__bes_vendor_files"] == []
    assert got["bes_server_config_path"] == "/data/bes/conf/server.config"
    assert [(entry["name"], entry["port"]) for entry in got["bes_listeners"]] == [("http-listener-1", 8080)]
    # The baseline: the version and the vendor's files, not the role's unit, rotation or Tomcat-lineage files.
    assert [s["path"] for s in got["bes_baseline_sources"]] == ["/data/bes/VERSION", "/data/bes/conf/server.config"]
    assert got["bes_process_pattern"] == "-D[A-Za-z.]+=/data/bes( |$)"


def test_a_listed_vendor_file_is_rendered_from_the_operators_template_and_kept_in_the_rollback_point():
    got = resolve(["__bes_vendor_files", "__bes_rollback_paths"], discovery_facts=VENDOR_LAB,
                  bes_vendor_config_files=["server.config"], bes_server_config_template="/site/templates/server.config.j2")
    assert got["__bes_vendor_files"] == [{"src": "/site/templates/server.config.j2", "dest": "/data/bes/conf/server.config"}]
    assert got["__bes_rollback_paths"] == ["/data/bes/conf/server.config"]


def test_discovery_without_the_new_fields_counts_as_the_vendors_and_leaves_the_method_to_the_operator():
    old = {"bes": {"present": True, "instances": [dict(VENDOR_LAB["bes"]["instances"][0])]}}
    for key in ("owner", "start_method", "start_unit"):
        del old["bes"]["instances"][0][key]
    got = resolve(["bes_ownership", "bes_start_method", "bes_start_unit"], discovery_facts=old)
    assert got == {"bes_ownership": "vendor", "bes_start_method": "", "bes_start_unit": ""}


def test_the_shipped_server_config_template_is_read_back_by_discovery():
    from ansible.module_utils import huaian_discover as hd
    text = (ROLE / "templates" / "server.config.j2").read_text()
    got = resolve(["bes_listeners"], discovery_facts=VENDOR_LAB, ansible_managed="Managed by huaian-platform-ops")
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(yaml.safe_load((ROLE / "vars" / "main.yml").read_text()))
    variables.update({"inventory_hostname": "h1", "ansible_memtotal_mb": 8192, "bes_version": "9.5.5.7266",
                      "discovery_facts": VENDOR_LAB, "ansible_managed": "Managed by huaian-platform-ops"})
    rendered = Templar(loader=DataLoader(), variables=variables).template(text)
    parsed = hd.parse_server_config(rendered)
    assert parsed == {"jmx_port": 6600, "admin_port": 1900,
                      "listeners": [{"name": "http-listener-1", "port": 8080, "address": "0.0.0.0"}]}
    assert "<jvm-options>-Xmx4096m</jvm-options>" in rendered and 'address="127.0.0.1" port="6600"' in rendered
    assert got["bes_listeners"][0]["port"] == 8080


def test_a_jvm_naming_only_its_home_has_its_instance_there():
    only_home = {"bes": {"present": True, "instances": [dict(VENDOR_LAB["bes"]["instances"][0], instance_root=None)]}}
    got = resolve(["bes_instance_root", "bes_process_pattern"], discovery_facts=only_home)
    assert got == {"bes_instance_root": "/data/bes", "bes_process_pattern": "-D[A-Za-z.]+=/data/bes( |$)"}
