#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kingbase_inspect
short_description: Inspect one KingbaseES node in one call and judge it against thresholds
description:
  - Reads, as the Kingbase OS user, with C(ksql) against the local server, whether the server runs, its
    version, role (C(sys_is_in_recovery())), uptime, connections against C(max_connections), long
    transactions, lock waits, streaming replication per expected standby (primary) or the WAL receiver
    (standby), inactive replication slots, archiver failures, database sizes and licence days left
    (C(get_license_validdays())). Without the server it still reads the WAL backlog (C(.ready) files in
    the WAL directory's C(archive_status)), the kbha crontab entry and, through C(repmgr cluster show),
    the cluster's view.
  - Returns C(facts), C(metrics) and C(findings) as the inspection contract describes. Never fails on an
    unhealthy or stopped server (that is a finding, C(KB_DOWN)); fails only on invalid parameters.
  - Read-only (only SELECTs, C(sys_isready), C(repmgr cluster show), C(crontab -l), directory listings);
    safe in check mode. Runs on Python 3.7 (Kylin V10). Uses only Kingbase's C(sys_) names; each catalog
    name can be overridden through O(sql_names).
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  bin_dir:
    description: Kingbase's bin directory (C(ksql), C(sys_isready), C(repmgr), C(kingbase)).
    type: path
    required: true
  data_dir:
    description: The data directory.
    type: path
    required: true
  wal_dir_name:
    description: The WAL directory inside the data directory (Kingbase C(sys_wal); the lab's PostgreSQL C(pg_wal)).
    type: str
    default: sys_wal
  host:
    description: Address ksql connects to.
    type: str
    default: 127.0.0.1
  port:
    description: Server port.
    type: int
    default: 54321
  user:
    description: Database superuser the queries run as.
    type: str
    default: system
  database:
    description: Database the queries run in (must hold the C(sys_) views).
    type: str
    default: test
  passfile:
    description: Password file for ksql (C(KINGBASE_PASSFILE)); empty uses the client's default (C(~/.kbpass)).
    type: path
  node_name:
    description: This node's name in repmgr and in C(application_name) of its replication connection (the inventory name).
    type: str
    default: ""
  expected_standbys:
    description:
      - The other members of this node's cluster. When this node is the primary, each must have a
        C(streaming) replication connection whose C(application_name) is its name.
    type: list
    elements: str
    default: []
  repmgr_conf:
    description: repmgr.conf of this node. Empty for a single instance (no repmgr, kbha or repmgrd checks).
    type: path
  kbha_cron_pattern:
    description: Text an active line of the OS user's crontab must contain (and the repmgr.conf path) for kbha (K22).
    type: str
    default: kbha -A daemon
  sql_names:
    description:
      - Catalog views and functions by role, merged over the defaults (C(stat_activity=sys_stat_activity),
        C(stat_replication=sys_stat_replication), C(replication_slots=sys_replication_slots),
        C(stat_archiver=sys_stat_archiver), C(stat_wal_receiver=sys_stat_wal_receiver),
        C(database=sys_database), C(is_in_recovery=sys_is_in_recovery),
        C(postmaster_start_time=sys_postmaster_start_time), C(current_wal_lsn=sys_current_wal_lsn),
        C(wal_lsn_diff=sys_wal_lsn_diff), C(database_size=sys_database_size),
        C(license_validdays=get_license_validdays)).
      - UNCONFIRMED on real KingbaseES (not in the vendor sources of domain-research.md) are
        C(sys_stat_archiver), C(sys_database_size) and C(sys_postmaster_start_time); correct them here
        from a live system if they differ.
    type: dict
    default: {}
  thresholds:
    description:
      - Merged over the defaults; an unknown key is an error.
      - C(connections_pct_warning)/C(_critical) (70/90, percent of max_connections);
        C(long_xact_warning_s)/C(_critical_s) (600/3600, seconds a client transaction is open);
        C(lock_wait_min_s) (10, a lock wait counts once it is this old);
        C(lock_waits_warning)/C(_critical) (1/10, sessions);
        C(repl_lag_bytes_warning)/C(_critical) (64 MiB/1 GiB);
        C(repl_lag_s_warning)/C(_critical) (30/300, replay lag seconds);
        C(slot_retained_bytes_critical) (10 GiB, WAL an inactive slot holds);
        C(wal_ready_warning)/C(_critical) (32/128, C(.ready) files);
        C(license_days_warning) (30) and C(license_days_critical) (0, at or below is KB_LICENSE_EXPIRED).
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection; licences expiring within O(horizon_days) are findings.
    type: bool
    default: false
  horizon_days:
    description: Deep-mode horizon for the licence, in days.
    type: int
    default: 90
  timeout:
    description: Seconds each command may take (run under C(timeout)).
    type: int
    default: 30
notes:
  - "Finding codes (component C(kingbase)):"
  - "C(KB_DOWN) critical: the server does not accept connections (C(sys_isready)). Check the kingbased service and sys_log; start it per the runbook."
  - "C(KB_CONNECT_FAILED) critical: the server answers but the inspection's queries fail (password file, sys_hba.conf)."
  - "C(KB_CONNECTIONS_HIGH) warning/critical: client connections over a share of max_connections. Check application pools."
  - "C(KB_LONG_TRANSACTION) warning/critical: a client transaction open longer than the threshold. Ask its owner; terminate if needed."
  - "C(KB_LOCK_WAITS) warning/critical: sessions waiting on a lock longer than lock_wait_min_s. Find the blocker."
  - "C(KB_STANDBY_NOT_STREAMING) critical (on the primary; subject the standby): an expected standby has no streaming replication connection."
  - "C(KB_REPL_LAG) warning/critical (subject the standby): replay lag over the byte or second threshold."
  - "C(KB_WAL_RECEIVER_NOT_STREAMING) critical (on a standby): its WAL receiver is not streaming from the primary."
  - "C(KB_REPL_SLOT_INACTIVE) warning, critical over slot_retained_bytes_critical (subject the slot): an unused slot holds WAL back."
  - "C(KB_ARCHIVE_FAILING) critical: the archiver's last failure is newer than its last success (archive_command failing)."
  - "C(KB_WAL_BACKLOG) warning/critical: WAL segments waiting to be archived (C(.ready) files) over the threshold."
  - "C(KB_LICENSE_EXPIRED) critical: licence days left at or below license_days_critical; the server will not start again."
  - "C(KB_LICENSE_EXPIRING) warning: days left below license_days_warning, or (deep mode) within horizon_days."
  - "C(KB_LICENSE_UNREADABLE) warning: get_license_validdays() gave no number. What it returns for a permanent licence is UNCONFIRMED (K32)."
  - "C(KB_REPMGR_UNAVAILABLE) warning: the server runs but C(repmgr cluster show) gave nothing."
  - "C(KB_REPMGR_NODE_MISSING) critical (subject the member): an expected member is not in repmgr's metadata."
  - "C(KB_REPMGR_NODE_NOT_RUNNING) critical (subject the node): repmgr shows a node unreachable, failed or not running."
  - "C(KB_REPMGR_ROLE_MISMATCH) warning: repmgr shows a node whose role differs from its metadata (C(!))."
  - "C(KB_REPMGR_MULTIPLE_PRIMARIES) critical: more than one reachable primary (split brain). Stop writes; runbook."
  - "C(KB_REPMGR_NO_PRIMARY) critical: no reachable primary in repmgr's view."
  - "C(KB_KBHA_CRON_MISSING) critical: the OS user's crontab has no active kbha keep-alive line; automatic failover is lost."
  - "C(KB_REPMGRD_NOT_RUNNING) warning: no repmgrd process for this repmgr.conf (kbha should start it within a minute)."
"""

EXAMPLES = r"""
- name: Inspect this Kingbase node
  kingbase_inspect:
    bin_dir: /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin
    data_dir: /opt/Kingbase/ES/V8/data
    node_name: "{{ inventory_hostname }}"
    expected_standbys: [city-kb02]
    repmgr_conf: /opt/Kingbase/ES/V8/V008R006C008B0014/etc/repmgr.conf
    thresholds: {connections_pct_warning: 60}
  become: true
  become_user: kingbase
  register: kb
"""

RETURN = r"""
facts:
  description: The node's state (no secrets, no SQL text).
  returned: always
  type: dict
  sample: {"node": "city-kb01", "running": true, "role": "primary", "server_version": "15.14",
           "connections": 12, "max_connections": 100, "connections_pct": 12.0, "license_days": 351,
           "replication": {"expected": ["city-kb02"], "standbys": [{"name": "city-kb02", "state": "streaming",
           "lag_bytes": 0, "lag_s": 0.0}]}, "wal": {"dir": "/opt/Kingbase/ES/V8/data/sys_wal", "ready": 0},
           "kbha_cron": {"present": true}}
metrics:
  description: Flat name -> number for trend charts.
  returned: always
  type: dict
  sample: {"kb_up": 1, "kb_connections_pct": 12.0, "kb_longest_xact_s": 0, "kb_lock_waits": 0,
           "kb_repl_lag_bytes:city-kb02": 0, "kb_wal_ready": 0, "kb_db_size_bytes:huaian": 8000000,
           "kb_license_days": 351, "kb_uptime_s": 86400}
thresholds:
  description: The thresholds in effect (the defaults merged with O(thresholds)).
  returned: always
  type: dict
findings:
  description: Findings (code, severity, component, subject, message, action, value, threshold); empty when healthy.
  returned: always
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_inspect_kingbase import (
    NULL, SEP, build_queries, count_ready, judge, kbha_cron_line, merge_repmgr, merge_sql_names, merge_thresholds,
    metrics, parse_archiver, parse_core, parse_databases, parse_license_days, parse_locks, parse_receiver,
    parse_repmgr_csv, parse_repmgr_table, parse_senders, parse_slots, parse_xacts)


def first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


class Reader(object):
    """Runs the read-only commands; tests replace run_command with fixtures."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.p = p
        self.env = {"LC_ALL": "C"}
        if p["passfile"]:
            self.env["KINGBASE_PASSFILE"] = p["passfile"]
        # A hung server or an unreachable repmgr peer must not hang the inspection.
        timeout = module.get_bin_path("timeout")
        self.prefix = [timeout, str(p["timeout"])] if timeout else []

    def run(self, args):
        return self.module.run_command(self.prefix + args, environ_update=self.env)

    def ksql(self, sql):
        p = self.p
        args = [os.path.join(p["bin_dir"], "ksql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-F", SEP, "-P", "null=" + NULL, "-h", p["host"], "-p", str(p["port"]), "-U", p["user"],
                "-d", p["database"], "-c", sql]
        rc, out, err = self.run(args)
        return (out, None) if rc == 0 else (None, first_line(err) or "ksql rc=%s" % rc)


def list_dir(path):
    try:
        return os.listdir(path), None
    except OSError as exc:
        return [], str(exc)


def dir_bytes(path):
    total = 0
    try:
        for name in os.listdir(path):
            full = os.path.join(path, name)
            if os.path.isfile(full):
                total += os.path.getsize(full)
    except OSError:
        return None
    return total


def repmgrd_running(repmgr_conf, proc="/proc"):
    """Is a repmgrd process running with this repmgr.conf (the lab and the vendor start it with -f <conf>)?"""
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, "cmdline"), "rb") as handle:
                cmd = handle.read().decode("utf-8", "replace").split("\0")
        except (IOError, OSError):
            continue
        if cmd and os.path.basename(cmd[0]) == "repmgrd" and repmgr_conf in cmd:
            return True
    return False


def collect(module, reader, thresholds, names, proc="/proc"):
    p = module.params
    facts = {"node": p["node_name"], "running": False, "isready": None, "connect_error": None,
             "repmgr_conf": p["repmgr_conf"] or None}

    rc, out, err = reader.run([os.path.join(p["bin_dir"], "kingbase"), "-V"])
    facts["binary_version"] = first_line(out) if rc == 0 else None

    rc, out, err = reader.run([os.path.join(p["bin_dir"], "sys_isready"), "-h", p["host"], "-p", str(p["port"])])
    facts["isready"] = first_line(out) or first_line(err) or "rc=%s" % rc
    facts["running"] = rc == 0

    if facts["running"]:
        queries = build_queries(names, thresholds)
        text, error = reader.ksql(queries["core"])
        core = parse_core(text) if text is not None else None
        if core is None:
            facts["connect_error"] = error or "unexpected answer"
        else:
            facts.update(core)
            errors = {}

            def read(topic, parser):
                text, error = reader.ksql(queries[topic])
                if error is not None:
                    errors[topic] = error
                    return None
                return parser(text)

            facts["long_transactions"] = read("xacts", parse_xacts)
            locks = read("locks", parse_locks)
            facts["lock_waits"], facts["lock_wait_longest_s"] = locks if locks else (None, None)
            repl = {"expected": list(p["expected_standbys"]), "standbys": []}
            if core["role"] == "primary":
                repl["standbys"] = read("senders", parse_senders) or []
                facts["wal_receiver"] = None
            else:
                facts["wal_receiver"] = read("receiver", parse_receiver)
            facts["replication"] = repl
            facts["slots"] = read("slots", parse_slots) or []
            facts["archiver"] = read("archiver", parse_archiver)
            facts["databases"] = read("databases", parse_databases) or {}
            facts["license_days"] = read("license", parse_license_days)
            if facts["license_days"] is None:
                facts["license_error"] = errors.get("license", "no number in the answer")
            facts["query_errors"] = errors

    wal_dir = os.path.join(p["data_dir"], p["wal_dir_name"])
    names_in_status, error = list_dir(os.path.join(wal_dir, "archive_status"))
    facts["wal"] = {"dir": wal_dir, "ready": None if error else count_ready(names_in_status),
                    "bytes": dir_bytes(wal_dir), "error": error}

    if p["repmgr_conf"]:
        facts["cluster_members"] = ([p["node_name"]] if p["node_name"] else []) + list(p["expected_standbys"])
        repmgr = [os.path.join(p["bin_dir"], "repmgr"), "-f", p["repmgr_conf"], "cluster", "show"]
        rc_csv, out_csv, err_csv = reader.run(repmgr + ["--csv"])
        rc_tab, out_tab, err_tab = reader.run(repmgr)
        nodes = merge_repmgr(parse_repmgr_csv(out_csv), parse_repmgr_table(out_tab))
        error = None
        if rc_csv != 0 and rc_tab != 0:
            error = first_line(err_csv) or first_line(err_tab) or "repmgr rc=%s" % rc_csv
        facts["repmgr"] = {"nodes": nodes, "error": error}
        rc, out, err = reader.run(["crontab", "-l"])
        line = kbha_cron_line(out if rc == 0 else "", p["kbha_cron_pattern"], p["repmgr_conf"])
        facts["kbha_cron"] = {"present": line is not None, "line": line}
        facts["repmgrd_running"] = repmgrd_running(p["repmgr_conf"], proc)
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bin_dir=dict(type="path", required=True),
            data_dir=dict(type="path", required=True),
            wal_dir_name=dict(type="str", default="sys_wal"),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=54321),
            user=dict(type="str", default="system"),
            database=dict(type="str", default="test"),
            passfile=dict(type="path"),
            node_name=dict(type="str", default=""),
            expected_standbys=dict(type="list", elements="str", default=[]),
            repmgr_conf=dict(type="path"),
            kbha_cron_pattern=dict(type="str", default="kbha -A daemon"),
            sql_names=dict(type="dict", default={}),
            timeout=dict(type="int", default=30),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    try:
        thresholds = merge_thresholds(module.params["thresholds"])
        names = merge_sql_names(module.params["sql_names"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def body():
        facts = collect(module, Reader(module), thresholds, names)
        findings = judge(facts, thresholds, module.params["deep"], module.params["horizon_days"])
        return dict(changed=False, facts=facts, metrics=metrics(facts), findings=findings, thresholds=thresholds)

    module.exit_json(**guarded(module, "kingbase_inspect", body))


if __name__ == "__main__":
    main()
