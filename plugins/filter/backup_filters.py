# -*- coding: utf-8 -*-
"""Filters of the backup roles and playbooks: restore verification summaries and job status checks.

Pure functions; unit-tested in tests/unit/test_backup_filters.py.
"""
from __future__ import annotations

import datetime
import re

GIB = 1024 ** 3
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


KIND_ZH = {"sys_rman": u"数据库物理备份", "sys_dump": u"数据库逻辑备份", "files": u"附件文件"}
# kb_backup_tool.py compare's last line (English, for the log and results.json).
_COMPARED = re.compile(r"^(match|differ): (\d+) tables, (\d+) rows compared, (\d+) differences$")
# The reasons the verify tasks write themselves (roles/kingbase_backup/tasks/verify_*.yml).
REASON_ZH = {"restored contents differ from the source": u"恢复的数据与源库不一致",
             "restored contents differ from the dump's snapshot": u"恢复的数据与导出时的快照不一致"}


def _compared_zh(line):
    m = _COMPARED.match(str(line).strip())
    if not m:
        return str(line).strip()
    verdict, tables, rows, differences = m.groups()
    if verdict == "match":
        return u"一致：比对 %s 张表、%s 行，无差异" % (tables, rows)
    return u"不一致：比对 %s 张表、%s 行，%s 处差异" % (tables, rows, differences)


def backup_verify_note(record):
    """The 说明 of one restore check in the verification report (zh_CN), from its record.

    sys_rman / sys_dump: the comparison (kb_backup_tool.py compare's line, one per database for a dump set);
    files: the sample (sampled, matched, mismatches, missing, changed_since). A failure names its reason;
    text a tool wrote on failing (a command's error output) is quoted as it is.
    """
    r = record or {}
    notes = []
    if r.get("kind") == "files" and "sampled" in r:
        notes.append(u"抽样 %d 个文件，%d 个与源文件一致" % (int(r.get("sampled") or 0), int(r.get("matched") or 0)))
        if r.get("changed_since"):
            notes.append(u"%d 个自快照后已修改（不参与比对）" % len(r["changed_since"]))
        if r.get("mismatches"):
            notes.append(u"与源文件不一致：%s" % u"、".join(r["mismatches"]))
        if r.get("missing"):
            notes.append(u"未能恢复：%s" % u"、".join(r["missing"]))
        if not r.get("matched") and not r.get("mismatches") and not r.get("missing"):
            notes.append(u"抽样文件自快照后均已修改，未能比对")
        if r.get("result") != "success" and not (r.get("mismatches") or r.get("missing") or not r.get("matched")):
            notes.append(u"失败：%s" % (r.get("reason") or u"原因未记录"))
        return u"；".join(notes)
    compared = r.get("compared")
    lines = compared if isinstance(compared, list) else ([compared] if compared else [])
    notes.extend(_compared_zh(line) for line in lines if str(line).strip())
    if r.get("result") != "success":
        reason = (r.get("reason") or "").strip()
        notes.append(u"失败：%s" % (REASON_ZH.get(reason, reason) or u"原因未记录"))
    return u"；".join(notes)


def backup_verify_summary(results, objective_hours=12, required_success_rate=0.99, estate_bytes=0):
    """Summary of one verification run: success rate, throughput, projected restore time, verdict.

    results: the records of each check (kind, target, result, reason, restored_bytes, restore_seconds).
    estate_bytes: the largest single restore the objective must cover (0: project per 100 GiB only).
    """
    results = list(results or [])
    total = len(results)
    ok = [r for r in results if r.get("result") == "success"]
    rate = (len(ok) / total) if total else 0.0
    timed = [r for r in ok if int(r.get("restored_bytes") or 0) > 0 and float(r.get("restore_seconds") or 0) > 0]
    restored = sum(int(r["restored_bytes"]) for r in timed)
    seconds = sum(float(r["restore_seconds"]) for r in timed)
    projection = restore_projection(restored, seconds)
    slowest = None
    for r in timed:
        p = restore_projection(r["restored_bytes"], r["restore_seconds"])
        if slowest is None or p["hours_per_100gb"] > slowest["hours_per_100gb"]:
            slowest = dict(p, target=r.get("target"))
    problems = []
    if not total:
        problems.append(u"本次没有验证任何备份")
    for r in results:
        if r.get("result") != "success":
            problems.append(u"%s %s：%s" % (KIND_ZH.get(r.get("kind"), r.get("kind")), r.get("target"),
                                           backup_verify_note(r)))
    if total and rate < required_success_rate:
        problems.append(u"恢复成功率 %.1f %% 低于要求的 %.1f %%" % (rate * 100, required_success_rate * 100))
    estate_hours = None
    if estate_bytes and slowest and slowest["hours_per_100gb"]:
        estate_hours = round(slowest["hours_per_100gb"] * int(estate_bytes) / (100 * GIB), 2)
        if estate_hours > objective_hours:
            problems.append(u"按最慢实测速度，恢复 %.1f GiB 约需 %.1f 小时，超过 %s 小时的恢复时限"
                            % (int(estate_bytes) / GIB, estate_hours, objective_hours))
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


def backup_status_findings(records, now, max_age_hours, rights=None, archiving=None):
    """Problems in job status records (what inspection reports), repository rights and WAL archiving, as data.

    records: {host: {job: record}}; now: ISO time; max_age_hours: {job name pattern (regex): hours}
    allowed since the last success. A job with no record at all is reported too.
    rights: stat results ({host, path, mode}) of repositories whose mode is not 0700; archiving: {host,
    segment, failures} of primaries whose WAL archiving fails. Each finding is {kind, host, ...}:
    failed (job, finished, consecutive_failures, error: the last line), never (job), stale (job,
    last_success, age_hours, limit_hours), rights (path, mode), archiving (segment, failures). The
    reports word them (backup_check_report.md.j2 in Chinese, backup_problem_line in English for the log).
    """
    now_t = _parse_time(now)
    findings = []
    for host in sorted(records):
        for job in sorted(records[host]):
            rec = records[host][job] or {}
            if rec.get("result") == "failed":
                findings.append({"kind": "failed", "host": host, "job": job, "finished": rec.get("finished"),
                                 "consecutive_failures": rec.get("consecutive_failures"),
                                 "error": ((rec.get("error") or "").strip().splitlines() or [""])[-1]})
            limit = None
            for pattern, hours in max_age_hours.items():
                if re.fullmatch(pattern, job):
                    limit = float(hours)
                    break
            if limit is None:
                continue
            last = rec.get("last_success")
            if not last:
                findings.append({"kind": "never", "host": host, "job": job})
                continue
            age = (now_t - _parse_time(last)).total_seconds() / 3600
            if age > limit:
                findings.append({"kind": "stale", "host": host, "job": job, "last_success": last,
                                 "age_hours": round(age, 1), "limit_hours": limit})
    for item in rights or []:
        findings.append({"kind": "rights", "host": item.get("host"), "path": item.get("path"), "mode": item.get("mode")})
    for item in archiving or []:
        findings.append({"kind": "archiving", "host": item.get("host"), "segment": item.get("segment"),
                         "failures": item.get("failures")})
    return findings


def backup_problem_line(finding):
    """One finding of backup_status_findings as a line for the run's log and its failure message (English)."""
    f = finding
    kind = f.get("kind")
    if kind == "failed":
        return "%s %s: last run failed at %s (%s consecutive): %s" % (
            f["host"], f["job"], f.get("finished"), f.get("consecutive_failures"), f.get("error") or "no output")
    if kind == "never":
        return "%s %s: never succeeded" % (f["host"], f["job"])
    if kind == "stale":
        return "%s %s: last success %s is %.1f h old, over %s h" % (
            f["host"], f["job"], f["last_success"], f["age_hours"], f["limit_hours"])
    if kind == "rights":
        return "%s: %s is not 0700 (%s)" % (f["host"], f["path"], f.get("mode"))
    if kind == "archiving":
        return "%s: WAL archiving is failing (last failed segment %s, %s failures so far)" % (
            f["host"], f.get("segment"), f.get("failures"))
    raise ValueError("backup finding kind is %r; allowed: failed, never, stale, rights, archiving" % (kind,))


def backup_status_problems(records, now, max_age_hours, rights=None, archiving=None):
    """backup_status_findings as lines (English, for the log and the run's failure message)."""
    return [backup_problem_line(f) for f in backup_status_findings(records, now, max_age_hours, rights, archiving)]


class FilterModule(object):
    def filters(self):
        return {
            "duration_seconds": duration_seconds,
            "restore_projection": restore_projection,
            "backup_verify_summary": backup_verify_summary,
            "backup_verify_note": backup_verify_note,
            "backup_status_findings": backup_status_findings,
            "backup_status_problems": backup_status_problems,
            "backup_problem_line": backup_problem_line,
        }
