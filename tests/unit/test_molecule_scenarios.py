"""The molecule scenarios run two at a time (make molecule-all) on one podman: no two may name the same container,
address or MAC address, or one scenario would take over or destroy the other's hosts."""
import collections
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def platforms():
    for path in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        for p in yaml.safe_load(path.read_text()).get("platforms") or []:
            opts = " ".join(p.get("extra_opts") or [])
            yield path.parent.name, p["name"], re.findall(r"--ip=(\S+)", opts), re.findall(r"--mac-address=(\S+)", opts)


def test_no_two_scenarios_share_a_container_name_address_or_mac():
    seen = collections.defaultdict(set)
    for scenario, name, ips, macs in platforms():
        for key in [("name", name)] + [("ip", ip) for ip in ips] + [("mac", mac) for mac in macs]:
            seen[key].add(scenario)
    shared = {"%s %s" % key: sorted(s) for key, s in seen.items() if len(s) > 1}
    assert shared == {}


def test_every_platform_has_a_fixed_address():
    assert [n for _, n, ips, _ in platforms() if len(ips) != 1] == []
