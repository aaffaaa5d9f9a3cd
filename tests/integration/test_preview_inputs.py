"""preview_cache_deploy.yml refuses bad cache inputs before changing anything (controller-local hosts)."""
import pytest

from test_kingbase_inputs import refused_before_any_change

pytestmark = pytest.mark.integration


def test_bad_cache_inputs_are_all_refused_before_any_change():
    failed = refused_before_any_change("tests/fixtures/inventories/preview_bad", "playbooks/preview_cache_deploy.yml",
                                       "Check the cache inputs of every node and order the nodes, replicas first",
                                       ["Replicas", "The master"])
    for host in ("cache-bad-a", "cache-bad-b"):
        msgs = " ".join(failed[host])
        for expected in [
            host + ": groups[preview_cache] has 2 node(s), so 2 sentinel(s)",
            host + ": preview_cache_maxmemory_mb = 99999999 : not below the host memory of ",
            host + ": vault_preview_cache_password (preview_cache_password) = (not set) : missing from vault",
        ]:
            assert expected in msgs, expected
