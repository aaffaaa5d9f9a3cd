# -*- coding: utf-8 -*-
"""Filters of the backup roles and playbooks: restore verification summaries and job status checks.

Pure functions; unit-tested in tests/unit/test_backup_filters.py.
"""
from __future__ import annotations

import datetime
import re

GIB = 1024 ** 3
MIB = 1024 ** 2
# The smallest restore whose rate is projected to 100 GiB (backup_verify_min_sample_mib). Below it a
# restore's fixed costs (restic or sys_rman start-up, repository index, SSH, scratch instance) dominate
# its duration and the projection says more about them than about the throughput (docs/performance.md).
DEFAULT_MIN_SAMPLE_MIB = 256
KIND_ZH = {"sys_rman": u"数据库物理备份", "sys_dump": u"数据库逻辑备份", "files": u"附件文件"}
_DELTA = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def duration_seconds(delta):
    """Seconds in a command result's delta ('H:MM:SS.ffffff'); numbers pass through."""
    if isinstance(delta, (int, float)):
        return float(delta)
    m = _DELTA.match(str(delta).strip())
    if not m:
        raise ValueError("not a duration H:MM:SS[.f]: %r" % (delta,))
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def restore_projection(restored_bytes, restore_seconds, reference_bytes=100 * GIB):
    """Throughput of one restore and the time the same rate needs for reference_bytes."""
    restored_bytes, restore_seconds = int(restored_bytes or 0), float(restore_seconds or 0)
    if restored_bytes <= 0 or restore_seconds <= 0:
        return {"mb_per_second": None, "hours_per_100gb": None}
    rate = restored_bytes / restore_seconds
    return {"mb_per_second": round(rate / 1024 ** 2, 1),
            "hours_per_100gb": round(reference_bytes / rate / 3600, 2)}


def min_sample_bytes(min_sample_mib, host="localhost", variable="backup_verify_min_sample_mib"):
    """The minimum projectable sample in bytes; min_sample_mib must be a whole number of MiB, at least 1."""
    value = min_sample_mib
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("%s: %s=%r is not allowed; a whole number of MiB, at least 1 (default %d)"
                         % (host, variable, min_sample_mib, DEFAULT_MIN_SAMPLE_MIB))
    return value * MIB


def _size(nbytes):
    """A sample size for the report: MiB with one decimal, GiB from 1 GiB."""
    if nbytes >= GIB:
        return "%.1f GiB" % (nbytes / GIB)
    return "%.1f MiB" % (nbytes / MIB)


def _name(path):
    return u"%s %s" % (KIND_ZH.get(path.get("kind"), path.get("kind") or u"未知类型"), path.get("target"))


def restore_paths(results, min_bytes):
    """Each successful, timed restore of a verification run, slowest first.

    A path's rate is always kept; its hours per 100 GiB only when its sample reaches min_bytes
    (projectable), since below that the restore's fixed costs dominate its duration.
    """
    paths = []
    for r in results or []:
        if r.get("result") != "success":
            continue
        nbytes, seconds = int(r.get("restored_bytes") or 0), float(r.get("restore_seconds") or 0)
        if nbytes <= 0 or seconds <= 0:
            continue
        p = restore_projection(nbytes, seconds)
        projectable = nbytes >= min_bytes
        paths.append({"kind": r.get("kind"), "target": r.get("target"), "restored_bytes": nbytes,
                      "restore_seconds": seconds, "mb_per_second": p["mb_per_second"],
                      "hours_per_100gb": p["hours_per_100gb"] if projectable else None,
                      "projectable": projectable})
    # Slowest first: the lowest rate (bytes per second), the order of the results among equals.
    return sorted(paths, key=lambda x: x["restored_bytes"] / x["restore_seconds"])


def restore_time(paths, min_bytes):
    """The restore-time headline of a verification run: the slowest path whose sample can be projected.

    status: projected (the slowest projectable path and its hours per 100 GiB; any smaller samples are
    listed as not projected), sample_too_small (no sample reaches min_bytes: the slowest path is named and
    no number is given), not_measured (no successful, timed restore). text is the report's sentence (zh_CN),
    line the operator's (English).
    """
    paths = list(paths or [])
    projectable = [p for p in paths if p["projectable"]]
    small = [p for p in paths if not p["projectable"]]
    out = {"status": "not_measured", "min_sample_bytes": int(min_bytes), "kind": None, "target": None, "name": None,
           "restored_bytes": None, "restore_seconds": None, "mb_per_second": None, "hours_per_100gb": None,
           "not_projected": [{"kind": p["kind"], "target": p["target"], "restored_bytes": p["restored_bytes"]}
                             for p in small]}
    need = _size(min_bytes)
    if not paths:
        out.update(text=u"没有成功且计时的恢复，无法推算恢复 100 GiB 所需时间",
                   line="no successful timed restore: restore time not projected")
        return out
    if projectable:
        head = projectable[0]
        out.update(status="projected", name=_name(head), **dict((k, head[k]) for k in (
            "kind", "target", "restored_bytes", "restore_seconds", "mb_per_second", "hours_per_100gb")))
        text = (u"最慢路径为%s（样本 %s，%s MB/s）：按此速度恢复 100 GiB 约需 %s 小时"
                % (_name(head), _size(head["restored_bytes"]), head["mb_per_second"], head["hours_per_100gb"]))
        line = ("slowest path %s %s (%s sample, %s MB/s): %s h per 100 GiB"
                % (head["kind"], head["target"], _size(head["restored_bytes"]), head["mb_per_second"],
                   head["hours_per_100gb"]))
        if small:
            text += (u"；另有 %d 项样本不足 %s，未推算：%s"
                     % (len(small), need, u"、".join(u"%s（样本仅 %s）" % (_name(p), _size(p["restored_bytes"]))
                                                    for p in small)))
            line += "; %d sample(s) under %s not projected: %s" % (
                len(small), need, ", ".join("%s %s" % (p["kind"], p["target"]) for p in small))
        out.update(text=text, line=line)
        return out
    head = paths[0]
    out.update(status="sample_too_small", kind=head["kind"], target=head["target"], name=_name(head),
               restored_bytes=head["restored_bytes"], restore_seconds=head["restore_seconds"])
    text = (u"最慢路径为%s：样本仅 %s，不足以推算恢复 100 GiB 所需时间（至少需 %s）"
            % (_name(head), _size(head["restored_bytes"]), need))
    line = ("slowest path %s %s: its %s sample is too small to project the time for 100 GiB (at least %s)"
            % (head["kind"], head["target"], _size(head["restored_bytes"]), need))
    if len(paths) > 1:
        text += u"；其余 %d 项样本也都不足 %s，均未推算" % (len(paths) - 1, need)
        line += "; the other %d sample(s) too" % (len(paths) - 1)
    out.update(text=text, line=line)
    return out


def summary_restore_time(summary, min_sample_mib=DEFAULT_MIN_SAMPLE_MIB, host="localhost",
                         variable="inspection_report_restore_min_sample_mib"):
    """The restore-time headline of an archived summary.json, judged again with min_sample_mib.

    A summary archived before the per-path records (no 'paths') cannot be judged: status unknown.
    """
    min_bytes = min_sample_bytes(min_sample_mib, host, variable)
    if "paths" not in (summary or {}):
        return {"status": "unknown", "min_sample_bytes": min_bytes, "kind": None, "target": None, "name": None,
                "restored_bytes": None, "restore_seconds": None, "mb_per_second": None, "hours_per_100gb": None,
                "not_projected": [],
                "text": u"该次恢复测试的记录没有各路径的样本量（旧版 backup_verify.yml），无法判断推算是否可信；请重新运行恢复测试",
                "line": "the summary has no per-path samples (older backup_verify.yml): restore time not judged"}
    # The archived paths carry their bytes and seconds: judge them with this threshold, not the test's.
    results = [dict(p, result="success") for p in summary["paths"]]
    return restore_time(restore_paths(results, min_bytes), min_bytes)


def backup_verify_summary(results, objective_hours=12, required_success_rate=0.99, estate_bytes=0,
                          min_sample_mib=DEFAULT_MIN_SAMPLE_MIB):
    """Summary of one verification run: success rate, throughput, projected restore time, verdict.

    results: the records of each check (kind, target, result, reason, restored_bytes, restore_seconds).
    estate_bytes: the largest single restore the objective must cover (0: project per 100 GiB only).
    min_sample_mib: the smallest restore (MiB) whose rate is projected (backup_verify_min_sample_mib).
    mb_per_second and hours_per_100gb are the aggregate of every timed restore; the headline is
    restore_time (the slowest projectable path), and the objective is judged on it.
    """
    min_bytes = min_sample_bytes(min_sample_mib)
    results = list(results or [])
    total = len(results)
    ok = [r for r in results if r.get("result") == "success"]
    rate = (len(ok) / total) if total else 0.0
    timed = [r for r in ok if int(r.get("restored_bytes") or 0) > 0 and float(r.get("restore_seconds") or 0) > 0]
    restored = sum(int(r["restored_bytes"]) for r in timed)
    seconds = sum(float(r["restore_seconds"]) for r in timed)
    projection = restore_projection(restored, seconds)
    paths = restore_paths(results, min_bytes)
    headline = restore_time(paths, min_bytes)
    slowest = None
    if paths:
        p = paths[0]
        slowest = dict(restore_projection(p["restored_bytes"], p["restore_seconds"]), target=p["target"],
                       kind=p["kind"], restored_bytes=p["restored_bytes"], projectable=p["projectable"])
    problems = []
    if not total:
        problems.append("no backup was verified")
    for r in results:
        if r.get("result") != "success":
            problems.append("%s %s: %s" % (r.get("kind"), r.get("target"), r.get("reason") or "failed"))
    if total and rate < required_success_rate:
        problems.append("restore success rate %.1f %% is below the required %.1f %%"
                        % (rate * 100, required_success_rate * 100))
    estate_hours = None
    if estate_bytes and headline["status"] == "projected":
        estate_hours = round(headline["hours_per_100gb"] * int(estate_bytes) / (100 * GIB), 2)
        if estate_hours > objective_hours:
            problems.append("at the slowest measured rate (%s %s) a %.1f GiB restore takes %.1f h, over the %s h "
                            "objective" % (headline["kind"], headline["target"], int(estate_bytes) / GIB,
                                           estate_hours, objective_hours))
    elif estate_bytes and ok:
        problems.append("no restore of at least %s was measured: the %.1f GiB restore cannot be held to the %s h "
                        "objective (%s)" % (_size(min_bytes), int(estate_bytes) / GIB, objective_hours,
                                            headline["line"]))
    return {
        "checks": total,
        "succeeded": len(ok),
        "failed": total - len(ok),
        "success_rate": round(rate, 4),
        "required_success_rate": required_success_rate,
        "restored_bytes": restored,
        "restore_seconds": round(seconds, 1),
        "mb_per_second": projection["mb_per_second"],
        "hours_per_100gb": projection["hours_per_100gb"],
        "slowest": slowest,
        "min_sample_bytes": min_bytes,
        "paths": paths,
        "restore_time": headline,
        "objective_hours": objective_hours,
        "estate_bytes": int(estate_bytes or 0),
        "estate_restore_hours": estate_hours,
        "problems": problems,
        "verdict": "pass" if not problems else "fail",
    }


def _parse_time(text):
    text = str(text)
    if re.match(r".*[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.datetime.fromisoformat(text)


def backup_status_problems(records, now, max_age_hours):
    """Problems in job status records (what inspection reports).

    records: {host: {job: record}}; now: ISO time; max_age_hours: {job name pattern (regex): hours}
    allowed since the last success. A job with no record at all is reported too.
    """
    now_t = _parse_time(now)
    problems = []
    for host in sorted(records):
        for job in sorted(records[host]):
            rec = records[host][job] or {}
            if rec.get("result") == "failed":
                problems.append("%s %s: last run failed at %s (%s consecutive): %s"
                                % (host, job, rec.get("finished"), rec.get("consecutive_failures"),
                                   ((rec.get("error") or "").strip().splitlines() or ["no output"])[-1]))
            limit = None
            for pattern, hours in max_age_hours.items():
                if re.fullmatch(pattern, job):
                    limit = float(hours)
                    break
            if limit is None:
                continue
            last = rec.get("last_success")
            if not last:
                problems.append("%s %s: never succeeded" % (host, job))
                continue
            age = (now_t - _parse_time(last)).total_seconds() / 3600
            if age > limit:
                problems.append("%s %s: last success %s is %.1f h old, over %s h" % (host, job, last, age, limit))
    return problems


class FilterModule(object):
    def filters(self):
        return {
            "duration_seconds": duration_seconds,
            "restore_projection": restore_projection,
            "backup_verify_summary": backup_verify_summary,
            "backup_min_sample_bytes": min_sample_bytes,
            "backup_restore_time": summary_restore_time,
            "backup_status_problems": backup_status_problems,
        }
