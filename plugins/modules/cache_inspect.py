#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cache_inspect
short_description: Inspect one preview cache node (Redis with Sentinel, or Redis Cluster) in one call
description:
  - Speaks the Redis protocol directly over a socket (no redis-cli, no password on any command line) and
    reads this node's Redis C(INFO) (role, replicas and their lag, replication link, memory against
    maxmemory, evictions), an unauthenticated C(PING) (is a password required?), and either its
    Sentinel's view (C(SENTINEL MASTER), C(SENTINEL CKQUORUM)) or, in cluster mode, C(CLUSTER INFO) and
    C(CLUSTER NODES).
  - Judges them against thresholds and returns facts, metrics and findings. An unreachable or unhealthy
    node is a finding (e.g. C(CACHE_DOWN)), never a module failure; only invalid parameters fail.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10), standard library only.
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  host:
    description: Address Redis and Sentinel are reached on (the node itself).
    type: str
    default: 127.0.0.1
  port:
    description: Redis port.
    type: int
    default: 6379
  sentinel_port:
    description: Sentinel port (sentinel mode).
    type: int
    default: 26379
  password:
    description: The cache password (Redis C(requirepass), also Sentinel's). Never logged or returned.
    type: str
    default: ""
  mode:
    description: C(sentinel) (one master, replicas, a sentinel on every node) or C(cluster) (Redis Cluster).
    type: str
    choices: [sentinel, cluster]
    default: sentinel
  master_name:
    description: The master name the sentinels monitor.
    type: str
    default: preview-cache
  address:
    description: This node's announced address; a master the sentinels do not name is a finding.
    type: str
    default: ""
  expected_replicas:
    description: Online replicas a master must have (sentinel mode, group size - 1; cluster mode, replicas per master).
    type: int
    default: 0
  expected_sentinels:
    description: Sentinels in the group (sentinel mode); this sentinel must see the others.
    type: int
    default: 0
  expected_quorum:
    description: The quorum the sentinels must be configured with (0 = not checked).
    type: int
    default: 0
  expected_nodes:
    description: Nodes the Redis Cluster must know (cluster mode; 0 = not checked).
    type: int
    default: 0
  connect_timeout:
    description: Seconds to wait for a connection or a reply.
    type: float
    default: 3.0
  thresholds:
    description:
      - Overrides of the default thresholds; an unknown key is an error.
      - C(mem_used_pct_warning) (85), C(mem_used_pct_critical) (95) - used_memory against maxmemory, percent.
      - C(evicted_keys_warning) (1000) - keys evicted since Redis started.
      - C(replica_lag_s_warning) (10) - seconds since a replica last acknowledged the master.
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection; failover readiness is strict (a missing replica or sentinel is critical).
    type: bool
    default: false
  horizon_days:
    description: Accepted for the common contract; this component has no licence or certificate to expire.
    type: int
    default: 90
notes:
  - "Finding codes (severity - meaning - action):"
  - "C(CACHE_DOWN) critical - Redis does not answer (or answers INFO with an error) - restore preview-cache-redis."
  - "C(CACHE_AUTH_FAILED) critical - Redis refuses the vault password - align vault_preview_cache_password and requirepass."
  - "C(CACHE_AUTH_DISABLED) critical - Redis answers an unauthenticated client - restore requirepass (preview_cache_deploy.yml)."
  - "C(CACHE_REPLICAS_MISSING) warning (critical with no replica left, or in deep mode) - a master has fewer online replicas than expected - restore the replica nodes."
  - "C(CACHE_REPLICA_LAG) warning - a replica has not acknowledged for longer than replica_lag_s_warning - check network and load."
  - "C(CACHE_REPLICA_LINK_DOWN) critical - a replica's link to its master is down - check the master, masterauth, network."
  - "C(CACHE_MEMORY_HIGH) warning/critical - used memory over mem_used_pct_warning/_critical of maxmemory - resize the cache."
  - "C(CACHE_MAXMEMORY_UNSET) warning - maxmemory is 0, the cache can fill the host - set preview_cache_maxmemory_mb."
  - "C(CACHE_EVICTIONS) warning - more than evicted_keys_warning keys evicted since start - enlarge maxmemory or shorten the TTL."
  - "C(CACHE_SENTINEL_DOWN) critical - this node's sentinel does not answer or does not monitor the master - restore preview-cache-sentinel."
  - "C(CACHE_SENTINEL_MASTER_DOWN) critical if o_down, warning if s_down - the sentinel flags the master down - follow the failover."
  - "C(CACHE_SENTINEL_MISMATCH) critical on a master the sentinels do not name (two masters), warning on a replica following another master - check the sentinels' views."
  - "C(CACHE_SENTINEL_PEERS_MISSING) warning (critical in deep mode) - the sentinel sees fewer other sentinels than expected - restore the missing sentinels."
  - "C(CACHE_SENTINEL_QUORUM) warning - the sentinel's quorum differs from the configured one - run preview_cache_deploy.yml."
  - "C(CACHE_SENTINEL_NOQUORUM) critical - SENTINEL CKQUORUM fails: no automatic failover possible - restore a majority of sentinels."
  - "C(CACHE_CLUSTER_FAIL) critical - cluster_state is not ok - restore the failed masters."
  - "C(CACHE_CLUSTER_SLOTS_UNASSIGNED) critical - fewer than 16384 slots assigned - fix the cluster."
  - "C(CACHE_CLUSTER_SLOTS_FAIL) critical (fail) / warning (pfail) - slots whose master is failing."
  - "C(CACHE_CLUSTER_NODE_FAIL) critical (fail) / warning (fail?) - a cluster node is flagged failing."
  - "C(CACHE_CLUSTER_NODES_MISSING) warning - the cluster knows fewer nodes than expected_nodes."
  - "Metrics - C(cache_mem_used_pct) (when maxmemory is set), C(cache_evicted_keys), C(cache_connected_replicas)."
"""

EXAMPLES = r"""
- name: Inspect this cache node
  cache_inspect:
    password: "{{ preview_cache_password }}"
    address: "{{ preview_cache_address }}"
    expected_replicas: 2
    expected_sentinels: 3
    expected_quorum: 2
    thresholds: {mem_used_pct_warning: 80}
  register: cache
"""

RETURN = r"""
facts:
  description: Redis (role, replicas, link, memory, evictions, version), Sentinel's view or the cluster state. No secrets.
  returned: always
  type: dict
  sample: {"mode": "sentinel", "redis": {"running": true, "role": "master", "connected_slaves": 2, "maxmemory": 67108864},
           "sentinel": {"master": {"ip": "10.231.10.31", "flags": "master", "num-other-sentinels": 2, "quorum": 2}}}
metrics:
  description: Numbers for trend charts.
  returned: always
  type: dict
  sample: {"cache_mem_used_pct": 2.1, "cache_evicted_keys": 0, "cache_connected_replicas": 2}
findings:
  description: Problems found, each {code, severity, component, subject, message, action, value, threshold}.
  returned: always
  type: list
  elements: dict
thresholds:
  description: The thresholds in effect (defaults merged with the thresholds option).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_inspect_cache import DEFAULT_THRESHOLDS, gather, judge, merge_thresholds


def run(module):
    p = module.params
    try:
        thresholds = merge_thresholds(DEFAULT_THRESHOLDS, p["thresholds"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    facts = gather(p["host"], p["port"], p["sentinel_port"], p["password"], p["mode"], p["master_name"],
                   timeout=p["connect_timeout"])
    expected = {"address": p["address"], "replicas": p["expected_replicas"], "sentinels": p["expected_sentinels"],
                "quorum": p["expected_quorum"], "nodes": p["expected_nodes"]}
    findings, metrics = judge(facts, thresholds, expected, deep=p["deep"])
    return {"changed": False, "facts": facts, "metrics": metrics, "findings": findings, "thresholds": thresholds}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=6379),
            sentinel_port=dict(type="int", default=26379),
            password=dict(type="str", default="", no_log=True),
            mode=dict(type="str", default="sentinel", choices=["sentinel", "cluster"]),
            master_name=dict(type="str", default="preview-cache"),
            address=dict(type="str", default=""),
            expected_replicas=dict(type="int", default=0),
            expected_sentinels=dict(type="int", default=0),
            expected_quorum=dict(type="int", default=0),
            expected_nodes=dict(type="int", default=0),
            connect_timeout=dict(type="float", default=3.0),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**guarded(module, "cache_inspect", lambda: run(module)))


if __name__ == "__main__":
    main()
