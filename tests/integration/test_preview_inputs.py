"""preview_cache_deploy.yml refuses bad cache inputs before changing anything (controller-local hosts)."""
import json

import pytest

from test_kingbase_inputs import failures, run_deploy

pytestmark = pytest.mark.integration
CHECK_PLAY = "Check the cache inputs of every node and order the nodes, replicas first"


def test_bad_cache_inputs_are_all_refused_before_any_change():
    res = run_deploy("tests/fixtures/inventories/preview_bad", "playbooks/preview_cache_deploy.yml")
    assert res.returncode != 0
    report = json.loads(res.stdout)
    failed = failures(report)
    assert list(failed) == [CHECK_PLAY]
    assert not any(p["tasks"] for p in report["plays"] if p["play"]["name"].startswith(("Replicas", "The master")))
    for host in ("cache-bad-a", "cache-bad-b"):
        msgs = " ".join(failed[CHECK_PLAY][host])
        for expected in [
            host + ": groups[preview_cache] has 2 node(s), so 2 sentinel(s)",
            host + ": preview_cache_maxmemory_mb = 99999999 : not below the host memory of ",
            host + ": vault_preview_cache_password (preview_cache_password) = (not set) : missing from vault",
        ]:
            assert expected in msgs, expected
