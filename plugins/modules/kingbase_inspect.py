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
  - "From the vendor's installations (domain research K37-K47): which configuration file wins each
    parameter (C(sys_file_settings): C(kingbase.conf), then C(es_rep.conf) through C(include_if_exists),
    then C(kingbase.auto.conf)), configuration errors and settings not yet in effect, a no-op
    C(archive_command) (also one shadowed by a later file), the WAL directory against C(max_wal_size),
    C(repmgr.conf)'s keys (secrets redacted), ping's capability when C(trusted_servers) is set, the kbha
    line in the user's crontab and in C(/etc/cron.d), the licence kind from C(license.dat), and
    password-bearing C(all_nodes_tools.conf) readable by others."
  - Returns C(facts), C(metrics) and C(findings) as the inspection contract describes. Never fails on an
    unhealthy or stopped server (that is a finding, C(KB_DOWN)); fails only on invalid parameters.
  - Read-only (only SELECTs, C(sys_isready), C(repmgr cluster show), C(crontab -l), C(getcap) when the
    capability attribute cannot be read, file reads and directory listings); safe in check mode. Runs on Python 3.7 (Kylin V10). Uses only Kingbase's C(sys_) names; each catalog
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
  repmgrd_config:
    description: The configuration file repmgrd's command line names, when it is not O(repmgr_conf) itself (the
      lab's vendor stand-in starts repmgrd on a translated copy, docs/lab.md). Empty means O(repmgr_conf).
    type: path
  kbha_cron_pattern:
    description: Text an active line of the OS user's crontab must contain (and the repmgr.conf path) for kbha (K22).
    type: str
    default: kbha -A daemon
  kbha_cron_policy:
    description:
      - C(required) - an active kbha line (the OS user's crontab or a file in C(/etc/cron.d)) must exist;
        none, or only a commented one, is C(KB_KBHA_CRON_MISSING) critical.
      - C(manual_recovery) - the site comments the kbha line out so that a node is recovered by hand after
        a reboot (K41). A commented line is that policy (C(facts.kbha_cron.commented), no finding); no
        line at all is C(KB_KBHA_CRON_MISSING) warning.
    type: str
    choices: [required, manual_recovery]
    default: required
  expected_overrides:
    description:
      - Parameters whose different values in several configuration files are expected (for example
        C(primary_conninfo) written by repmgr into C(kingbase.auto.conf)); no C(KB_SETTING_OVERRIDDEN) for
        them. Names are case-insensitive. They stay in C(facts.config_files.multiple) with C(expected=true).
    type: list
    elements: str
    default: []
  ping_path:
    description:
      - The ping the Kingbase account runs for repmgr's C(trusted_servers) check (K46). Read only when
        repmgr.conf sets C(trusted_servers).
      - Accepted when the file has C(cap_net_raw) in its permitted set (read from the C(security.capability)
        attribute, or with C(getcap) when the attribute cannot be read), is setuid root, or
        C(net.ipv4.ping_group_range) covers one of the account's groups (unprivileged ICMP sockets).
    type: path
    default: /bin/ping
  license_path:
    description:
      - The node's C(license.dat) (the vendor keeps it in C(<KB_HOME>/bin)). Empty - the licence is judged
        from C(get_license_validdays()) alone.
      - Read for its kind - C(有效期间 0) permanent, a positive number of days from C(生产日期) dated,
        C(官方网站试用授权) a trial; C(:), C(：) or C(=) separate a field from its value; the lab's
        C(EXPIRE_DATE=) is a dated licence. A permanent licence is never a finding. Without a readable file,
        a C(get_license_validdays) answer of -2 is taken as permanent (one public checker does so; low confidence,
        C(facts.license.confidence=low)).
    type: path
  tools_conf_path:
    description:
      - The vendor's C(all_nodes_tools.conf) (C(<KB_HOME>/etc); it holds the C(system) password
        base64-encoded, K45). Empty or missing - not checked. Only the names of password-like keys and
        the file's mode are reported, never a value.
    type: path
  sql_names:
    description:
      - Catalog views and functions by role, merged over the defaults (C(stat_activity=sys_stat_activity),
        C(stat_replication=sys_stat_replication), C(replication_slots=sys_replication_slots),
        C(stat_archiver=sys_stat_archiver), C(stat_wal_receiver=sys_stat_wal_receiver),
        C(database=sys_database), C(is_in_recovery=sys_is_in_recovery),
        C(postmaster_start_time=sys_postmaster_start_time), C(current_wal_lsn=sys_current_wal_lsn),
        C(wal_lsn_diff=sys_wal_lsn_diff), C(database_size=sys_database_size),
        C(license_validdays=get_license_validdays), C(file_settings=sys_file_settings),
        C(settings=sys_settings)).
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
        C(license_days_warning) (30) and C(license_days_critical) (0, at or below is KB_LICENSE_EXPIRED);
        C(wal_dir_max_wal_size_factor_warning)/C(_critical) (2.0/4.0, the WAL directory's size as a multiple
        of max_wal_size + wal_keep_size (or wal_keep_segments x wal_segment_size) + the most WAL a slot holds).
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
  - "C(KB_LICENSE_EXPIRED) critical: licence days left at or below license_days_critical; the server will not start again. Days left - get_license_validdays(), else from license.dat; a permanent licence is never judged."
  - "C(KB_LICENSE_EXPIRING) warning: days left below license_days_warning, or (deep mode) within horizon_days."
  - "C(KB_LICENSE_UNREADABLE) warning: neither license.dat (O(license_path)) nor get_license_validdays() told the licence's validity. What the function returns for a permanent licence is UNCONFIRMED (K32; -2 is taken as permanent)."
  - "C(KB_REPMGR_UNAVAILABLE) warning: the server runs but C(repmgr cluster show) gave nothing."
  - "C(KB_REPMGR_NODE_MISSING) critical (subject the member): an expected member is not in repmgr's metadata."
  - "C(KB_REPMGR_NODE_NOT_RUNNING) critical (subject the node): repmgr shows a node unreachable, failed or not running."
  - "C(KB_REPMGR_ROLE_MISMATCH) warning: repmgr shows a node whose role differs from its metadata (C(!))."
  - "C(KB_REPMGR_MULTIPLE_PRIMARIES) critical: more than one reachable primary (split brain). Stop writes; runbook."
  - "C(KB_REPMGR_NO_PRIMARY) critical: no reachable primary in repmgr's view."
  - "C(KB_KBHA_CRON_MISSING) critical: neither the OS user's crontab nor /etc/cron.d has an active kbha keep-alive line; automatic failover is lost. With O(kbha_cron_policy=manual_recovery) a commented line is no finding and no line at all is a warning."
  - "C(KB_REPMGRD_NOT_RUNNING) warning: no repmgrd process for this repmgr.conf (kbha should start it within a minute)."
  - "C(KB_SETTING_OVERRIDDEN) warning: parameters set with different values in several configuration files (each losing file:line value and the winning one), less O(expected_overrides)."
  - "C(KB_CONFIG_FILE_ERROR) critical: a configuration line with an error (syntax, unknown parameter, refused value): not applied, and the next start fails; warning when it is only a restart-only parameter changed and not yet reloaded (or invalid: it cannot be told before a reload)."
  - "C(KB_SETTING_NOT_APPLIED) warning: the winning file line is not what runs - a restart is pending (pending_restart), the files changed since the last reload, or the command line overrides them."
  - "C(KB_ARCHIVE_NOOP) critical: archive_mode is on and the winning (or running) archive_command is a no-op (exit 0, true, /bin/true, :, echo, cp to /dev/null): WAL is thrown away, no point-in-time recovery."
  - "C(KB_ARCHIVE_NOOP_SHADOWED) warning: a losing archive_command line is a no-op; archiving works only while the later file overrides it."
  - "C(KB_WAL_DIR_OVERSIZED) warning/critical: the WAL directory holds more than wal_dir_max_wal_size_factor_* times max_wal_size + wal_keep + slot-held WAL; the message names the likely cause (archive backlog or failures, inactive slots, wal_keep)."
  - "C(KB_TRUSTED_SERVERS_FAILURE_MODE) warning: repmgr.conf sets running_under_failure_trusted_servers on - when every trusted server is unreachable the database keeps running but repmgrd stops (HA silently gone)."
  - "C(KB_PING_NO_CAP) critical: repmgr.conf sets trusted_servers and O(ping_path) has no cap_net_raw, is not setuid root and no ping_group_range covers the account - repmgrd stops silently. Not judged (a fact) when the capability could not be read."
  - "C(KB_LICENSE_TRIAL) warning: license.dat is a trial licence (官方网站试用授权)."
  - "C(KB_TOOLS_CONF_READABLE) warning (subject the file): O(tools_conf_path) holds a password-like key (base64 counts) and is readable by group or others."
"""

EXAMPLES = r"""
- name: Inspect this Kingbase node
  kingbase_inspect:
    bin_dir: /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin
    data_dir: /opt/Kingbase/ES/V8/data
    node_name: "{{ inventory_hostname }}"
    expected_standbys: [city-kb02]
    repmgr_conf: /opt/Kingbase/ES/V8/V008R006C008B0014/etc/repmgr.conf
    license_path: /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin/license.dat
    expected_overrides: [primary_conninfo, primary_slot_name]
    thresholds: {connections_pct_warning: 60}
  become: true
  become_user: kingbase
  register: kb
"""

RETURN = r"""
facts:
  description:
    - The node's state (no secrets, no SQL text).
    - Besides the server's state - C(config_files) (configuration files in reading order; parameters set on
      several lines with the winning and losing lines; lines with errors; parameters not in effect),
      C(archive) (archive_mode, the winning archive_command and where it comes from, no-op flags, a
      sys_rman command's C(config) and C(stanza)), C(wal.retention) (max_wal_size, wal_keep and slot bytes,
      the allowance and the factor), C(license) (kind permanent / trial / dated, expiry date, days left,
      source and confidence), C(repmgr_settings) (repmgr.conf's keys, secrets redacted), C(ping) (only
      when trusted_servers is set), C(kbha_cron) (active and commented lines, where, the policy),
      C(tools_conf) (mode and password-like key names) and C(data_dir).
  returned: always
  type: dict
  sample: {"node": "city-kb01", "running": true, "role": "primary", "server_version": "15.14",
           "connections": 12, "max_connections": 100, "connections_pct": 12.0, "license_days": 351,
           "replication": {"expected": ["city-kb02"], "standbys": [{"name": "city-kb02", "state": "streaming",
           "lag_bytes": 0, "lag_s": 0.0}]}, "wal": {"dir": "/opt/Kingbase/ES/V8/data/sys_wal", "ready": 0},
           "kbha_cron": {"present": true, "line": "*/1 * * * * . /etc/profile; .../kbha -A daemon -f .../repmgr.conf",
           "source": "crontab", "commented": null, "commented_source": null, "policy": "required", "errors": []},
           "config_files": {"files": ["/data/kingbase.conf", "/data/es_rep.conf", "/data/kingbase.auto.conf"],
           "multiple": [{"name": "shared_buffers", "winner": {"file": "/data/es_rep.conf", "line": 3, "value": "16GB"},
           "losers": [{"file": "/data/kingbase.conf", "line": 120, "value": "8GB"}], "differs": true,
           "expected": false}], "errors": [], "not_applied": [], "unparsed_rows": 0},
           "archive": {"mode": "on", "command": "sys_rman --config /r/sys_rman.conf --stanza=kingbase archive-push %p",
           "source": "/data/es_rep.conf:9", "noop": false, "shadowed_noops": [], "tool": "sys_rman",
           "config": "/r/sys_rman.conf", "stanza": "kingbase"},
           "license": {"kind": "dated", "source": "license.dat", "confidence": "high", "expiry_date": "2027-11-20",
           "days_left": 351},
           "repmgr_settings": {"keys": {"trusted_servers": "10.231.10.1", "running_under_failure_trusted_servers": "off"},
           "error": null},
           "ping": {"path": "/bin/ping", "cap_net_raw": true, "setuid_root": false, "checked": true, "ok": true},
           "tools_conf": {"path": "/home/kingbase/cluster/kingbase/etc/all_nodes_tools.conf", "exists": true,
           "mode": "0600", "group_or_other_readable": false, "password_keys": ["db_password"]}}
metrics:
  description: Flat name -> number for trend charts.
  returned: always
  type: dict
  sample: {"kb_up": 1, "kb_connections_pct": 12.0, "kb_longest_xact_s": 0, "kb_lock_waits": 0,
           "kb_repl_lag_bytes:city-kb02": 0, "kb_wal_ready": 0, "kb_db_size_bytes:huaian": 8000000,
           "kb_license_days": 351, "kb_uptime_s": 86400, "kb_wal_bytes": 1073741824, "kb_wal_retention_factor": 0.5}
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

import datetime
import errno
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_inspect_kingbase import (
    CAP_NET_RAW, NULL, SEP, analyse_file_settings, archive_view, build_queries, count_ready, cron_d_names, judge,
    kbha_cron_entries, license_view, merge_repmgr, merge_sql_names, merge_thresholds, metrics, parse_archiver, parse_conf,
    parse_core, parse_databases, parse_file_settings, parse_getcap, parse_license_days, parse_license_file, parse_locks,
    parse_ping_group_range, parse_receiver, parse_repmgr_csv, parse_repmgr_table, parse_senders, parse_settings, parse_slots,
    parse_vfs_cap, parse_xacts, password_keys, ping_view, redact_conf, repmgrd_cmdline_matches, trusted_servers,
    wal_retention, read_text,
)

PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"


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
    """Is a repmgrd process running with this repmgr.conf (-f <conf> as the lab's and the vendor's kbha start it,
    or --config-file; the same file through another path counts)?"""
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(os.path.join(proc, pid, "cmdline"), "rb") as handle:
                cmd = handle.read().decode("utf-8", "replace").split("\0")
        except (IOError, OSError):
            continue
        if repmgrd_cmdline_matches([c for c in cmd if c], repmgr_conf, os.path.realpath):
            return True
    return False


def _getxattr(path, name):
    return os.getxattr(path, name)


def read_kbha_cron(reader, pattern, repmgr_conf, cron_d):
    """The kbha keep-alive line from the OS user's crontab (crontab -l: the module runs as that user) and from
    /etc/cron.d (world-readable; some deployers write /etc/cron.d/KINGBASECRON), active or commented out."""
    rc, out, err = reader.run(["crontab", "-l"])
    sources = [("crontab", out if rc == 0 else "")]
    errors = []
    names, error = list_dir(cron_d)
    if error and os.path.exists(cron_d):
        errors.append(error)
    for name in cron_d_names(names):
        path = os.path.join(cron_d, name)
        if not os.path.isfile(path):
            continue
        text, error = read_text(path)
        if error:
            errors.append(error)
        sources.append((path, text or ""))
    cron = {"present": False, "line": None, "source": None, "commented": None, "commented_source": None,
            "errors": errors}
    for source, text in sources:
        active, commented = kbha_cron_entries(text, pattern, repmgr_conf)
        if active and not cron["present"]:
            cron.update(present=True, line=active, source=source)
        if commented and cron["commented"] is None:
            cron.update(commented=commented, commented_source=source)
    return cron


def read_ping(module, reader, path):
    """Whether the Kingbase account's ping can open its socket (K46): the security.capability attribute read
    directly (getcap needs no shell then), getcap when the attribute cannot be read, setuid root, or
    net.ipv4.ping_group_range covering one of the account's groups."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return ping_view(path, False, False, None, "%s: %s" % (path, exc.strerror or exc), None, [])
    setuid_root = bool(st.st_mode & stat.S_ISUID) and st.st_uid == 0
    cap, error = None, None
    try:
        cap = parse_vfs_cap(_getxattr(path, "security.capability"))
    except AttributeError:
        error = "os.getxattr is not available"
    except OSError as exc:
        if exc.errno == errno.ENODATA:
            cap = parse_vfs_cap(b"")
        else:
            error = "security.capability: %s" % (exc.strerror or exc)
    if cap is None:
        getcap = module.get_bin_path("getcap", opt_dirs=["/usr/sbin", "/sbin"])
        if getcap:
            rc, out, err = reader.run([getcap, path])
            if rc == 0:
                caps = parse_getcap(out)
                cap = {"revision": None, "permitted": (1 << CAP_NET_RAW) if "cap_net_raw" in caps else 0,
                       "effective": None}
                error = None
            else:
                error = "getcap: %s" % (first_line(err) or "rc=%s" % rc)
        else:
            error = (error + "; " if error else "") + "getcap is not installed: the capability could not be checked"
    text, _ = read_text(PING_GROUP_RANGE)
    gids = sorted(set([os.getgid()] + list(os.getgroups())))
    view = ping_view(path, True, setuid_root, cap, error, parse_ping_group_range(text), gids)
    view["realpath"] = os.path.realpath(path)
    return view


def read_tools_conf(path):
    """Mode and password-like key names of all_nodes_tools.conf (K45); never a value."""
    try:
        st = os.stat(path)
    except OSError:
        return {"path": path, "exists": False}
    mode = stat.S_IMODE(st.st_mode)
    text, error = read_text(path)
    return {"path": path, "exists": True, "mode": "%04o" % mode,
            "group_or_other_readable": bool(mode & (stat.S_IRGRP | stat.S_IROTH)),
            "password_keys": password_keys(text) if text is not None else [], "error": error}


def collect(module, reader, thresholds, names, proc="/proc", cron_d="/etc/cron.d", today=None):
    p = module.params
    today = today or datetime.date.today()
    facts = {"node": p["node_name"], "running": False, "isready": None, "connect_error": None,
             "repmgr_conf": p["repmgr_conf"] or None, "data_dir": p["data_dir"]}
    settings = None

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
            settings = read("settings", parse_settings)
            file_settings = read("file_settings", parse_file_settings)
            facts["config_files"] = analyse_file_settings(file_settings, settings, p["expected_overrides"]) \
                if file_settings is not None else None
            facts["archive"] = archive_view(file_settings, settings, core["archive_mode"]) \
                if settings is not None or file_settings is not None else None
            facts["query_errors"] = errors

    wal_dir = os.path.join(p["data_dir"], p["wal_dir_name"])
    names_in_status, error = list_dir(os.path.join(wal_dir, "archive_status"))
    facts["wal"] = {"dir": wal_dir, "ready": None if error else count_ready(names_in_status),
                    "bytes": dir_bytes(wal_dir), "error": error}
    if settings is not None:
        facts["wal"]["retention"] = wal_retention(facts["wal"]["bytes"], settings, facts.get("slots"))

    if p["license_path"]:
        text, file_error = read_text(p["license_path"])
        file_info = parse_license_file(text, today) if text is not None else None
        if file_info is not None and file_info["kind"] is None:
            file_error = "%s: no validity this inspection reads (有效期间/生产日期/EXPIRE_DATE)" % p["license_path"]
    else:
        file_info, file_error = None, None
    facts["license"] = license_view(file_info, file_error, facts.get("license_days"), facts.get("license_error"),
                                    today, p["license_path"])

    if p["tools_conf_path"]:
        facts["tools_conf"] = read_tools_conf(p["tools_conf_path"])

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
        text, error = read_text(p["repmgr_conf"])
        keys = parse_conf(text)
        facts["repmgr_settings"] = {"keys": redact_conf(keys), "error": error}
        if trusted_servers(keys):
            facts["ping"] = read_ping(module, reader, p["ping_path"])
        facts["kbha_cron"] = read_kbha_cron(reader, p["kbha_cron_pattern"], p["repmgr_conf"], cron_d)
        facts["kbha_cron"]["policy"] = p["kbha_cron_policy"]
        facts["repmgrd_running"] = repmgrd_running(p.get("repmgrd_config") or p["repmgr_conf"], proc)
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
            repmgrd_config=dict(type="path"),
            kbha_cron_pattern=dict(type="str", default="kbha -A daemon"),
            kbha_cron_policy=dict(type="str", default="required", choices=["required", "manual_recovery"]),
            expected_overrides=dict(type="list", elements="str", default=[]),
            ping_path=dict(type="path", default="/bin/ping"),
            license_path=dict(type="path"),
            tools_conf_path=dict(type="path"),
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
