# -*- coding: utf-8 -*-
"""Filters of the preview roles: the cache cluster's input rules. Pure; unit-tested."""
from __future__ import annotations


def preview_cache_problems(cfg):
    """Every problem with one host's preview_cache inputs ('variable = value : reason; allowed: ...')."""
    p = []
    mode = cfg.get("mode")
    members = list(cfg.get("members") or [])
    n = len(members)
    replicas = int(cfg.get("cluster_replicas") or 0)
    if mode not in ("sentinel", "cluster"):
        p.append("preview_cache_mode = %r : allowed: sentinel, cluster" % (mode,))
    elif mode == "sentinel" and (n < 3 or n % 2 == 0):
        p.append("groups[%s] has %d node(s), so %d sentinel(s) : a majority must survive one failure and ties must "
                 "be impossible; allowed: an odd number of nodes, at least 3" % (cfg.get("group"), n, n))
    elif mode == "cluster" and (replicas < 0 or n < 3 * (1 + replicas) or n % (1 + replicas)):
        p.append("groups[%s] has %d node(s) for a Redis Cluster with preview_cache_cluster_replicas = %d : allowed: a "
                 "multiple of %d nodes giving at least 3 masters, i.e. %d, %d, ..."
                 % (cfg.get("group"), n, replicas, 1 + replicas, 3 * (1 + replicas), 4 * (1 + replicas)))
    if members and cfg.get("initial_master") not in members:
        p.append("preview_cache_initial_master = %r : not in groups[%s]; allowed: one of %s"
                 % (cfg.get("initial_master"), cfg.get("group"), ", ".join(members)))
    quorum = int(cfg.get("quorum") or 0)
    if quorum and (quorum > n or quorum <= n // 2):
        p.append("preview_cache_sentinel_quorum = %d : allowed: 0 (a majority) or a majority of the %d sentinels, "
                 "%d..%d" % (quorum, n, n // 2 + 1, n))
    maxmem, mem = int(cfg.get("maxmemory_mb") or 0), int(cfg.get("memtotal_mb") or 0)
    if maxmem <= 0:
        p.append("preview_cache_maxmemory_mb = %d : allowed: a positive size in MB, or 0 for a share of host memory" % maxmem)
    elif mem and maxmem >= mem:
        p.append("preview_cache_maxmemory_mb = %d : not below the host memory of %d MB; allowed: less than the host "
                 "memory (Redis needs room for replication buffers and forks)" % (maxmem, mem))
    if not int(cfg.get("password_length") or 0):
        p.append("vault_preview_cache_password (preview_cache_password) = (not set) : missing from vault; allowed: a "
                 "password in group_vars/all/vault.yml")
    if cfg.get("port") == cfg.get("sentinel_port"):
        p.append("preview_cache_sentinel_port = %s : also preview_cache_port; allowed: two different ports" % cfg.get("port"))
    return p


class FilterModule(object):
    def filters(self):
        return {"preview_cache_problems": preview_cache_problems}
