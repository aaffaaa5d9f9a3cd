"""The preview cache's input rules."""
import copy

import pytest

from preview_filters import preview_cache_problems

GOOD = {"mode": "sentinel", "group": "preview_cache", "members": ["c1", "c2", "c3"], "initial_master": "c1",
        "quorum": 0, "maxmemory_mb": 1024, "memtotal_mb": 8192, "password_length": 24, "port": 6379,
        "sentinel_port": 26379}


def problems(**changes):
    cfg = copy.deepcopy(GOOD)
    cfg.update(changes)
    return preview_cache_problems(cfg)


def test_good_inputs():
    assert problems() == []
    assert problems(members=["c1", "b", "c", "d", "e"], quorum=3) == []


@pytest.mark.parametrize("members", [["c1"], ["c1", "c2"], ["c1", "c2", "c3", "c4"]])
def test_fewer_than_three_or_an_even_number_of_sentinels_is_refused(members):
    (msg,) = problems(members=members)
    assert msg.startswith("groups[preview_cache] has %d node(s), so %d sentinel(s)" % (len(members), len(members)))
    assert msg.endswith("allowed: an odd number of nodes, at least 3")


def test_maxmemory_above_host_memory_is_refused():
    (msg,) = problems(maxmemory_mb=9000)
    assert msg.startswith("preview_cache_maxmemory_mb = 9000 : not below the host memory of 8192 MB")


def test_missing_password_is_refused():
    (msg,) = problems(password_length=0)
    assert msg.startswith("vault_preview_cache_password (preview_cache_password) = (not set) : missing from vault")


def test_quorum_must_be_a_majority():
    (msg,) = problems(quorum=1)
    assert msg.startswith("preview_cache_sentinel_quorum = 1 : allowed: 0 (a majority) or a majority of the 3 sentinels, 2..3")


def test_cluster_mode_needs_three_masters():
    assert problems(mode="cluster") == []
    assert problems(mode="cluster", members=["c1", "b", "c", "d", "e", "f"], cluster_replicas=1) == []
    (msg,) = problems(mode="cluster", members=["c1", "b", "c", "d"], cluster_replicas=1)
    assert msg.startswith("groups[preview_cache] has 4 node(s) for a Redis Cluster with preview_cache_cluster_replicas = 1")
    # An even number of nodes is fine in cluster mode (no sentinels vote).
    assert problems(mode="cluster", members=["c1", "b", "c", "d"]) == []


def test_unknown_mode_is_refused():
    (msg,) = problems(mode="standalone")
    assert msg == "preview_cache_mode = 'standalone' : allowed: sentinel, cluster"


def test_every_problem_at_once():
    assert len(problems(members=["c1", "c2"], initial_master="x", maxmemory_mb=99999, password_length=0,
                        sentinel_port=6379)) == 5
