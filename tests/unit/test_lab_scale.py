"""lab/lab.py: the scale inventory mirrors inventories/huaian (every host and group) with addresses."""
import importlib.util
import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("lab", ROOT / "lab" / "lab.py")
lab = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab)


def groups_of(tree):
    out = {}

    def walk(name, group):
        for host in ((group or {}).get("hosts") or {}):
            out.setdefault(host, set()).add(name)
        for child, sub in ((group or {}).get("children") or {}).items():
            walk(child, sub)
    walk("all", tree["all"])
    return out


def test_scale_inventory_is_the_production_shape_plus_the_entries():
    production = yaml.safe_load((ROOT / "inventories" / "huaian" / "hosts.yml").read_text())
    tree, addresses = lab.scale_hosts_tree(production, lab.SCALE_EXTRA_HOSTS)
    prod_groups, scale_groups = groups_of(production), groups_of(tree)
    assert len(addresses) >= 120
    for host, groups in prod_groups.items():
        assert groups <= scale_groups[host], host
    assert set(scale_groups) - set(prod_groups) == {"city-lb01", "city-lb02", "hzq-lb01"}
    assert len(set(addresses.values())) == len(addresses)
    # One /24 per platform, in the inventory's order: the city first.
    assert addresses["city-kb01"] == "10.234.1.11" and addresses["qjp-kb01"].startswith("10.234.2.")
    # The input is not modified.
    assert "ansible_host" not in str(production)


def test_committed_scale_inventory_is_current():
    """lab/scale/hosts.yml is generated: regenerate it (python3 lab/lab.py scale-inventory) after changing
    inventories/huaian/hosts.yml."""
    production = yaml.safe_load((ROOT / "inventories" / "huaian" / "hosts.yml").read_text())
    tree, _ = lab.scale_hosts_tree(production, lab.SCALE_EXTRA_HOSTS)
    committed = yaml.safe_load((ROOT / "lab" / "scale" / "hosts.yml").read_text())
    assert committed == tree


def test_scale_kind_picks_the_lab_host_of_the_same_kind():
    assert lab.scale_kind({"kingbase", "city"}, {"kingbase_node_role": "primary"}) == "city-kb01"
    assert lab.scale_kind({"kingbase"}, {"kingbase_node_role": "standby"}) == "city-kb02"
    assert lab.scale_kind({"bes", "attachments"}, {}) == "city-bes01"
    assert lab.scale_kind({"sms_gateway"}, {}) == "hzq-bak01"
    assert lab.scale_kind({"backup_appliance"}, {}) == "city-bak01"
