"""bes_deploy.yml refuses bad BES inputs before changing anything (controller-local hosts)."""
import pytest

from conftest import ROOT
from test_kingbase_inputs import refused_before_any_change

pytestmark = pytest.mark.integration


def test_bad_bes_inputs_are_all_refused_before_any_change():
    failed = refused_before_any_change("tests/fixtures/inventories/bes_bad", "playbooks/bes_deploy.yml",
                                       "Check the BES inputs of every node before changing any",
                                       ["Deploy BES, one node at a time"])
    a = " ".join(failed["bes-bad-a"])
    for expected in [
        "bes-bad-a: bes_version = '9.5.5.9999' : no media ",
        "bes-bad-a: bes_os_user = 'root' (uid 0) : the server never runs as root",
        "bes-bad-a: bes_listeners[1].port = 18080 : also the port of http-listener-1; allowed: one listener per port",
        "bes-bad-a: bes_heap_size_mb = 99999999 : not below the host memory of ",
        "bes-bad-a: bes_jdbc_pools[0].password = (not set) : missing from vault",
    ]:
        assert expected in a, expected
    b = " ".join(failed["bes-bad-b"])
    assert "bes_os_user" not in b and "bes_heap_size_mb" not in b and "missing from vault" in b
    assert str(ROOT / "tests/fixtures/inventories/bes_bad/media/BES-AppServer-Standard-9.5.5.9999.tar.gz") in b
