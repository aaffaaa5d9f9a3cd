"""plugins/filter/platform_lb_filters.py: the nginx upstream servers of BES inventory hosts."""
import pytest

from platform_lb_filters import platform_lb_servers

HOSTVARS = {
    "bes1": {"ansible_host": "10.0.0.21", "bes_listeners": [{"name": "http", "port": 18081}, {"port": 9}]},
    "bes2": {"ansible_host": "fd00::22"},
    "bes3": {},
    "bes4": {"ansible_host": "10.0.0.24", "bes_listeners": []},
}


def test_each_backend_at_its_address_and_first_listener():
    got = platform_lb_servers(["bes1", "bes2", "bes3", "bes4"], HOSTVARS)
    assert [e["server"] for e in got] == ["10.0.0.21:18081", "[fd00::22]:18080", "bes3:18080", "10.0.0.24:18080"]
    assert got[0] == {"host": "bes1", "address": "10.0.0.21", "port": 18081, "server": "10.0.0.21:18081"}


def test_a_fixed_backend_port_wins_over_the_listeners():
    got = platform_lb_servers(["bes1", "bes2"], HOSTVARS, backend_port="8080")
    assert [e["server"] for e in got] == ["10.0.0.21:8080", "[fd00::22]:8080"]


def test_the_default_port_is_the_callers():
    assert platform_lb_servers(["bes3"], HOSTVARS, 0, 28080)[0]["port"] == 28080


@pytest.mark.parametrize("backends", [[], None, "bes1", {"bes1": 1}])
def test_no_backends_no_servers(backends):
    assert platform_lb_servers(backends, HOSTVARS) == []


def test_non_strings_and_unknown_hosts():
    got = platform_lb_servers([{"x": 1}, 5, "unknown"], HOSTVARS)
    assert got == [{"host": "unknown", "address": "unknown", "port": 18080, "server": "unknown:18080"}]
