#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: backup_inspect
short_description: Inspect the backups of one host (job status records, restore verification) in one call
description:
  - Reads every backup job of the host (roles/backup_job) - its timer's schedule (C(OnCalendar)) and state,
    and the status record the job wrapper leaves in I(status_dir)/<job>/status.json - and judges the age
    of the last success against the schedule's longest gap plus a margin, a failed last run, and a job that
    never succeeded. Jobs are full (C(kingbase-*-full), C(kingbase-dump)) or incremental
    (C(kingbase-*-incr), C(files)); others (C(prune-dumps)) are maintenance, their problems are warnings.
  - With I(verify_archive_dir) (backup hosts) also reads the newest restore verification result per target
    that backup_verify.yml archives there, and judges its result and age.
  - A missing, failed or stale backup is a finding, never a module failure. Read-only; safe in check mode.
    Runs on Python 3.7 (Kylin V10), standard library only. Needs root to read the verification archive (0700).
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  status_dir:
    description: The job status records (backup_job_status_dir).
    type: path
    default: /var/lib/huaian-backup/status
  unit_dir:
    description: Where the job units are (their timers name the schedule).
    type: path
    default: /etc/systemd/system
  unit_prefix:
    description: Prefix of the job units (backup_job_unit_prefix).
    type: str
    default: huaian-backup-
  expected_jobs:
    description: Jobs the inventory says this host runs; one that is not deployed is a finding.
    type: list
    elements: str
    default: []
  verify_archive_dir:
    description: backup_verify.yml's result archive on a backup host; empty on other hosts (not checked).
    type: path
    default: ""
  expected_verify_targets:
    description: Verification targets that must have a result here, each {kind, target} (e.g. sys_rman city_a).
    type: list
    elements: dict
    default: []
  thresholds:
    description:
      - Overrides of the default thresholds; an unknown key is an error.
      - C(stale_warning_margin_h) (2), C(stale_critical_margin_h) (24) - hours past the schedule's longest gap
        (daily 24 h, weekly 168 h, Mon..Sat 48 h) before the last success is stale.
      - C(failed_critical_after) (1) - consecutive failed runs from which a failure is critical.
      - C(verify_max_age_d) (35) - days since the last restore verification of a target.
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection; a missing or too old restore verification is critical.
    type: bool
    default: false
  horizon_days:
    description: Accepted for the common contract (no licence or certificate here).
    type: int
    default: 90
notes:
  - "Finding codes (severity - meaning - action):"
  - "C(BACKUP_FAILED) critical (warning below failed_critical_after failures, or for maintenance jobs) - the last run failed (or its record is unreadable) - read the journal, fix, run backup_run.yml."
  - "C(BACKUP_NEVER_SUCCEEDED) critical (warning for maintenance jobs) - the job has no successful run - run backup_run.yml."
  - "C(BACKUP_STALE) warning past the warning margin, critical past the critical margin (maintenance jobs: warning) - the last success is older than the schedule allows - check the timer, run the job."
  - "C(BACKUP_JOB_MISSING) critical (warning for maintenance jobs) - a job the inventory expects is not deployed - run backup_deploy.yml."
  - "C(BACKUP_TIMER_INACTIVE) warning - the job's timer is not active, the job will not run - enable it."
  - "C(BACKUP_VERIFY_FAILED) critical - the newest restore verification of a target failed - investigate, re-run backup_verify.yml."
  - "C(BACKUP_VERIFY_STALE) warning (critical in deep mode) - no restore verification of a target, or older than verify_max_age_d - run backup_verify.yml."
  - "Metrics - C(backup_full_age_h:<job>), C(backup_incr_age_h:<job>) (hours since the last success)."
"""

EXAMPLES = r"""
- name: Inspect the backups of this host
  backup_inspect:
    expected_jobs: [kingbase-dump]
    thresholds: {stale_warning_margin_h: 4}
  become: true
  register: backups

- name: Inspect a backup host, with its restore verifications
  backup_inspect:
    verify_archive_dir: /backup/verify/archive
    expected_verify_targets: [{kind: sys_rman, target: city_a}]
    deep: true
  become: true
  register: backups
"""

RETURN = r"""
facts:
  description: Per job its kind, schedule, longest gap, timer state, age and record summary; the verification results.
  returned: always
  type: dict
  sample: {"jobs": {"kingbase-dump": {"kind": "full", "schedule": "*-*-* 01:30:00", "interval_h": 24.0, "result": "success",
           "last_success": "2026-11-26T01:31:02+0800", "age_h": 7.5, "consecutive_failures": 0}},
           "verification": {"archive_dir": "/backup/verify/archive", "latest": {}}}
metrics:
  description: Numbers for trend charts.
  returned: always
  type: dict
  sample: {"backup_full_age_h:kingbase-dump": 7.5}
findings:
  description: Problems found, each {code, severity, component, subject, message, action, value, threshold}.
  returned: always
  type: list
  elements: dict
thresholds:
  description: The thresholds in effect.
  returned: always
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec, run_bounded
from ansible.module_utils.huaian_inspect_backup import (DEFAULT_THRESHOLDS, gather_jobs, gather_verification,
                                                        judge_jobs, judge_verification, merge_thresholds,
                                                        parse_systemctl_show)

RECORD_KEYS = ("result", "exit_code", "finished", "last_success", "consecutive_failures", "duration_seconds",
               "last_success_duration_seconds", "last_success_size_bytes")




def timer_states(module, jobs, prefix):
    systemctl = module.get_bin_path("systemctl")
    units = ["%s%s.timer" % (prefix, job) for job in sorted(jobs) if jobs[job]["deployed"]]
    if not systemctl or not units:
        return {}
    rc, out, err, _timed_out = run_bounded(module, [systemctl, "show", "--no-pager", "-p", "Id,ActiveState,UnitFileState"] + units)
    return parse_systemctl_show(out) if rc == 0 else {}


def summarise(jobs, timers, prefix):
    """The facts to return: no error output beyond its last line, nothing else from the records."""
    out = {}
    for job, j in jobs.items():
        rec = j.get("record") or {}
        entry = {"kind": j["kind"], "deployed": j["deployed"], "schedule": j["schedule"], "interval_h": j["interval_h"],
                 "age_h": j.get("age_h"), "has_record": j.get("record") is not None,
                 "timer": (timers.get("%s%s.timer" % (prefix, job)) or {}).get("ActiveState")}
        entry.update(dict((k, rec.get(k)) for k in RECORD_KEYS))
        entry["skipped"] = (rec.get("detail") or {}).get("skipped") if isinstance(rec.get("detail"), dict) else None
        if rec.get("error"):
            entry["error_last_line"] = rec["error"].strip().splitlines()[-1][:300]
        out[job] = entry
    return out


def run(module):
    p = module.params
    try:
        thresholds = merge_thresholds(DEFAULT_THRESHOLDS, p["thresholds"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for target in p["expected_verify_targets"]:
        if not target.get("kind") or not target.get("target"):
            module.fail_json(msg="expected_verify_targets: every item needs kind and target, got %r" % (target,))
    now = time.time()
    jobs = gather_jobs(p["status_dir"], p["unit_dir"], p["unit_prefix"], p["expected_jobs"])
    timers = timer_states(module, jobs, p["unit_prefix"])
    findings, metrics = judge_jobs(jobs, now, thresholds, timers, p["unit_prefix"])
    facts = {"status_dir": p["status_dir"], "jobs": summarise(jobs, timers, p["unit_prefix"]), "verification": None}
    if p["verify_archive_dir"]:
        verification = gather_verification(p["verify_archive_dir"])
        findings += judge_verification(verification, p["expected_verify_targets"], now, thresholds, deep=p["deep"])
        facts["verification"] = verification
    return {"changed": False, "facts": facts, "metrics": metrics, "findings": findings, "thresholds": thresholds}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            status_dir=dict(type="path", default="/var/lib/huaian-backup/status"),
            unit_dir=dict(type="path", default="/etc/systemd/system"),
            unit_prefix=dict(type="str", default="huaian-backup-"),
            expected_jobs=dict(type="list", elements="str", default=[]),
            verify_archive_dir=dict(type="path", default=""),
            expected_verify_targets=dict(type="list", elements="dict", default=[]),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**guarded(module, "backup_inspect", lambda: run(module)))


if __name__ == "__main__":
    main()
