# -*- coding: utf-8 -*-
"""Inspection of the backups on a host: job status records (roles/backup_job) and, on a backup host,
the restore verification results backup_verify.yml archives there.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax.
Reading is in gather(); parsing and judging are pure functions, unit-tested on the controller
(tests/unit/test_backup_inspect.py) with status.json records as the job wrapper writes them.
The rules follow plugins/filter/backup_filters.py backup_status_problems (failed last run, never
succeeded, last success too old) with the allowed age taken from each job's own timer.
"""
from __future__ import absolute_import, division, print_function

import datetime
import functools
import json
import os
import re
import time

# merge_thresholds(defaults, given) and parse_systemctl_show: imported by plugins/modules/backup_inspect.py from here.
from ansible.module_utils.huaian_inspect import finding as _finding, merge_thresholds, parse_systemctl_show  # noqa: F401

__metaclass__ = type

COMPONENT = "backup"

DEFAULT_THRESHOLDS = {
    # Hours a job's last success may exceed the longest gap of its schedule (OnCalendar) before it is
    # stale: daily 24 h + 2 = 26 h warning, + 24 = 48 h critical; weekly 168 + 24 = 192 h (8 days) critical.
    "stale_warning_margin_h": 2,
    "stale_critical_margin_h": 24,
    # Consecutive failed runs from which BACKUP_FAILED is critical (fewer: warning).
    "failed_critical_after": 1,
    # Days since the last restore verification of a target (backup_verify.yml, monthly).
    "verify_max_age_d": 35,
}

# Job name (regex, first match wins) -> kind. full: a complete copy; incr: an incremental one; other:
# maintenance (pruning), whose problems are warnings.
DEFAULT_JOB_KINDS = [
    ("^kingbase-.*-full$", "full"),
    ("^kingbase-dump$", "full"),
    ("^kingbase-.*-incr$", "incr"),
    ("^files$", "incr"),
]

WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
SHORTHANDS = {"minutely": 1.0 / 60, "hourly": 1.0, "daily": 24.0, "weekly": 168.0, "monthly": 744.0,
              "quarterly": 2208.0, "semiannually": 4416.0, "yearly": 8784.0, "annually": 8784.0}
RUN_NAME = re.compile(r"^(\d{8}T\d{6}Z)-")


finding = functools.partial(_finding, COMPONENT)


# --- parsing --------------------------------------------------------------------------------------

def parse_time(text):
    """Epoch seconds of an ISO time as the job wrapper writes it (2026-11-26T01:00:09+0800)."""
    text = str(text).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    m = re.match(r"^(.*[+-]\d\d):?(\d\d)$", text)
    if m and "T" in text:
        text = m.group(1) + m.group(2)
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp()


def _expand(spec, names, low, high):
    """A systemd calendar component (1,3..5 or Mon..Fri or *) -> sorted list of values."""
    if spec == "*":
        return list(range(low, high + 1))
    out = set()
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if ".." in part:
            a, b = part.split("..", 1)
        else:
            a = b = part
        a = names[a.lower()[:3]] if names else int(a)
        b = names[b.lower()[:3]] if names else int(b)
        if "/" in spec and a == b:
            b = high
        out.update(range(a, b + 1, step))
    return sorted(out)


def schedule_interval_hours(expr):
    """The longest gap, in hours, between two runs of an OnCalendar expression, or None if unsupported.

    Supports the shorthands (daily, weekly...) and '[weekdays] *-*-* HH:MM[:SS]' with lists, ranges and
    '*' in the weekday, hour and minute fields; a fixed day of month counts as monthly.
    """
    expr = (expr or "").strip()
    if not expr:
        return None
    if expr.lower() in SHORTHANDS:
        return SHORTHANDS[expr.lower()]
    tokens = expr.split()
    days = list(range(7))
    try:
        if tokens and re.match(r"^[A-Za-z]", tokens[0]):
            days = _expand(tokens.pop(0), WEEKDAYS, 0, 6)
        if tokens and "-" in tokens[0]:
            date = tokens.pop(0).split("-")
            if len(date) != 3 or date[1] != "*" or date[2] != "*":
                return SHORTHANDS["monthly"] if date[-1] != "*" else None
        time_spec = tokens.pop(0) if tokens else "00:00:00"
        if tokens:
            return None  # a time zone or something else this parser does not know
        fields = time_spec.split(":")
        hours = _expand(fields[0], None, 0, 23)
        minutes = _expand(fields[1], None, 0, 59) if len(fields) > 1 else [0]
    except (KeyError, ValueError, IndexError):
        return None
    runs = sorted(d * 1440 + h * 60 + m for d in days for h in hours for m in minutes)
    if not runs:
        return None
    gaps = [b - a for a, b in zip(runs, runs[1:])] + [runs[0] + 7 * 1440 - runs[-1]]
    return max(gaps) / 60.0


def timer_schedule(text):
    """The OnCalendar value(s) of a timer unit file, joined with '; '."""
    values = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("OnCalendar="):
            values.append(line.split("=", 1)[1].strip())
    return "; ".join(v for v in values if v)


def job_kind(job, kinds):
    for pattern, kind in kinds:
        if re.search(pattern, job):
            return kind
    return "other"


# --- gathering ------------------------------------------------------------------------------------

def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except (IOError, OSError):
        return None


def _read_json(path):
    text = _read(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"_unreadable": True}
    return data if isinstance(data, dict) else {"_unreadable": True}


def list_jobs(status_dir, unit_dir, unit_prefix):
    """Job names: those with a timer unit, and those with a status directory."""
    jobs = set()
    if os.path.isdir(unit_dir):
        for name in os.listdir(unit_dir):
            if name.startswith(unit_prefix) and name.endswith(".timer"):
                jobs.add(name[len(unit_prefix):-len(".timer")])
    if os.path.isdir(status_dir):
        for name in os.listdir(status_dir):
            if os.path.isdir(os.path.join(status_dir, name)) and not name.startswith("."):
                jobs.add(name)
    return sorted(jobs)


def gather_jobs(status_dir, unit_dir, unit_prefix, expected_jobs=(), kinds=None):
    """{job: {kind, schedule, interval_h, record}} for every job found or expected on this host."""
    kinds = kinds or DEFAULT_JOB_KINDS
    jobs = {}
    for job in sorted(set(list_jobs(status_dir, unit_dir, unit_prefix)) | set(expected_jobs or ())):
        timer_text = _read(os.path.join(unit_dir, "%s%s.timer" % (unit_prefix, job)))
        schedule = timer_schedule(timer_text) if timer_text is not None else ""
        jobs[job] = {"kind": job_kind(job, kinds), "deployed": timer_text is not None, "schedule": schedule,
                     "interval_h": schedule_interval_hours(schedule) if ";" not in schedule else None,
                     "record": _read_json(os.path.join(status_dir, job, "status.json"))}
    return jobs


def gather_verification(archive_dir):
    """The newest verification result per (kind, target) in backup_verify.yml's archive on this host."""
    if not os.path.isdir(archive_dir):
        return {"archive_dir": archive_dir, "exists": False, "latest": {}}
    latest = {}
    try:
        names = sorted(os.listdir(archive_dir))
    except OSError as exc:
        return {"archive_dir": archive_dir, "exists": True, "error": str(exc), "latest": {}}
    for name in names:
        if not name.endswith(".json"):
            continue
        rec = _read_json(os.path.join(archive_dir, name)) or {}
        if rec.get("_unreadable") or not rec.get("kind") or not rec.get("target"):
            continue
        m = RUN_NAME.match(name)
        when = None
        if m:
            when = (datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ")
                    .replace(tzinfo=datetime.timezone.utc).timestamp())
        else:
            try:
                when = float(rec.get("started"))
            except (TypeError, ValueError):
                continue
        key = "%s %s" % (rec["kind"], rec["target"])
        if key not in latest or when >= latest[key]["time"]:
            latest[key] = {"kind": rec["kind"], "target": rec["target"], "time": when, "when": _iso(when), "file": name,
                           "result": rec.get("result"), "reason": rec.get("reason") or "",
                           "duration_seconds": rec.get("duration_seconds"), "restored_bytes": rec.get("restored_bytes")}
    return {"archive_dir": archive_dir, "exists": True, "latest": latest}


# --- judging --------------------------------------------------------------------------------------

def _iso(ts):
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _fallback_interval(kind):
    return 168.0 if kind == "full" else 24.0


def judge_jobs(jobs, now, thresholds, timers=None, unit_prefix="huaian-backup-"):
    """Findings and metrics of the job records. now: epoch seconds; timers: {unit id: state} or None."""
    t = thresholds
    out = []
    metrics = {}
    for job in sorted(jobs):
        j = jobs[job]
        kind = j["kind"]
        rec = j.get("record")
        serious = "critical" if kind in ("full", "incr") else "warning"
        if not j.get("deployed") and rec is None:
            out.append(finding("BACKUP_JOB_MISSING", serious, job,
                               "清单要求的备份任务 %s 未部署（无定时器，无状态记录）" % job,
                               "执行 backup_deploy.yml（需变更单号）后执行 backup_run.yml", None, None))
            continue
        timer = (timers or {}).get("%s%s.timer" % (unit_prefix, job))
        if j.get("deployed") and timer and timer.get("ActiveState") != "active":
            out.append(finding("BACKUP_TIMER_INACTIVE", "warning", job,
                               "备份任务 %s 的定时器未运行（%s，%s），不会再按计划执行" % (job, timer.get("ActiveState"), timer.get("UnitFileState")),
                               "systemctl enable --now huaian-backup-%s.timer，或重新执行 backup_deploy.yml" % job,
                               timer.get("ActiveState"), "active"))
        if rec is not None and rec.get("_unreadable"):
            out.append(finding("BACKUP_FAILED", serious, job, "备份任务 %s 的状态记录无法解析" % job,
                               "检查 /var/lib/huaian-backup/status/%s/status.json 与磁盘" % job, None, None))
            continue
        rec = rec or {}
        failures = int(rec.get("consecutive_failures") or 0)
        if rec.get("result") == "failed":
            last_line = ((rec.get("error") or "").strip().splitlines() or ["无输出"])[-1][:300]
            level = serious if failures >= t["failed_critical_after"] else "warning"
            out.append(finding("BACKUP_FAILED", level, job,
                               "备份任务 %s 最近一次运行失败（%s，连续失败 %d 次）：%s" % (job, rec.get("finished"), failures, last_line),
                               "查看 journalctl -u huaian-backup-%s 与状态记录，排除原因后用 backup_run.yml 重新执行" % job,
                               failures, t["failed_critical_after"]))
        last = rec.get("last_success")
        if not last:
            out.append(finding("BACKUP_NEVER_SUCCEEDED", serious, job,
                               "备份任务 %s 从未成功%s" % (job, "（尚未运行）" if not rec else ""),
                               "用 backup_run.yml 执行该任务并确认成功", None, None))
            continue
        try:
            age = round((now - parse_time(last)) / 3600.0, 1)
        except ValueError:
            continue
        j["age_h"] = age
        # A standby's dump job succeeds by skipping (the primary dumps): no backup age to chart.
        if kind in ("full", "incr") and not (rec.get("detail") or {}).get("skipped"):
            metrics["backup_%s_age_h:%s" % (kind, job)] = age
        interval = j.get("interval_h") or _fallback_interval(kind)
        for level, margin in (("critical", t["stale_critical_margin_h"]), ("warning", t["stale_warning_margin_h"])):
            limit = interval + margin
            if age > limit:
                out.append(finding("BACKUP_STALE", level if serious == "critical" else "warning", job,
                                   "备份任务 %s 最近一次成功在 %s，距今 %.1f 小时，超过 %.0f 小时（计划间隔 %.0f 小时 + %s 小时）"
                                   % (job, _iso(parse_time(last)), age, limit, interval, margin),
                                   "检查定时器与最近运行（journalctl -u huaian-backup-%s），用 backup_run.yml 补做备份" % job,
                                   age, limit))
                break
    return out, metrics


def judge_verification(verification, expected_targets, now, thresholds, deep=False):
    """Findings of the newest restore verification per target on a backup host."""
    t = thresholds
    out = []
    latest = dict(verification.get("latest") or {})
    for target in expected_targets or ():
        key = "%s %s" % (target["kind"], target["target"])
        latest.setdefault(key, None)
    stale_level = "critical" if deep else "warning"
    for key in sorted(latest):
        v = latest[key]
        if v is None:
            out.append(finding("BACKUP_VERIFY_STALE", stale_level, key,
                               "%s 从未做过恢复验证（%s 中无记录%s）" % (key, verification.get("archive_dir"),
                                                               "，读取失败：" + verification["error"] if verification.get("error") else ""),
                               "执行 backup_verify.yml（每月一次，节假日前必做）", None, t["verify_max_age_d"]))
            continue
        age_d = round((now - v["time"]) / 86400.0, 1)
        v["age_d"] = age_d
        if v.get("result") != "success":
            out.append(finding("BACKUP_VERIFY_FAILED", "critical", key,
                               "%s 最近一次恢复验证（%s）失败：%s" % (key, _iso(v["time"]), v.get("reason") or "无原因"),
                               "查看 /backup/verify/scratch 与 reports/backup-verify 中的报告，修复后重新执行 backup_verify.yml",
                               v.get("result"), "success"))
        if age_d > t["verify_max_age_d"]:
            out.append(finding("BACKUP_VERIFY_STALE", stale_level, key,
                               "%s 最近一次恢复验证在 %s，已 %.1f 天，超过 %s 天" % (key, _iso(v["time"]), age_d, t["verify_max_age_d"]),
                               "执行 backup_verify.yml", age_d, t["verify_max_age_d"]))
    return out
