# -*- coding: utf-8 -*-
"""Filters of the backup roles and playbooks: restore verification summaries, job status checks and the
archive_command rule of the kingbase_backup role's inputs.

Pure functions; unit-tested in tests/unit/test_backup_filters.py.
"""
from __future__ import annotations

import datetime
import re
import shlex

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
        problems.append(u"本次没有验证任何备份")
    for r in results:
        if r.get("result") != "success":
            problems.append(u"%s %s：%s" % (KIND_ZH.get(r.get("kind"), r.get("kind")), r.get("target"),
                                           backup_verify_note(r)))
    if total and rate < required_success_rate:
        problems.append(u"恢复成功率 %.1f %% 低于要求的 %.1f %%" % (rate * 100, required_success_rate * 100))
    estate_hours = None
    if estate_bytes and headline["status"] == "projected":
        estate_hours = round(headline["hours_per_100gb"] * int(estate_bytes) / (100 * GIB), 2)
        if estate_hours > objective_hours:
            problems.append(u"按最慢实测速度（%s），恢复 %.1f GiB 约需 %.1f 小时，超过 %s 小时的恢复时限"
                            % (headline["name"], int(estate_bytes) / GIB, estate_hours, objective_hours))
    elif estate_bytes and ok:
        problems.append(u"没有测得至少 %s 的恢复样本，无法判断 %.1f GiB 的恢复能否在 %s 小时内完成（%s）"
                        % (_size(min_bytes), int(estate_bytes) / GIB, objective_hours, headline["text"]))
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


def _shell_words(command):
    """A command line's words as the shell reads them (quotes, a trailing comment dropped), or None when it does
    not parse (an unbalanced quote)."""
    try:
        lexer = shlex.shlex(command or "", posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:
        return None


def sysrman_options(command):
    """The sys_rman options --config and --stanza of a command line (an archive_command, a cron entry), in both
    forms: --config=<file> (this project's) and --config <file> (the vendor's sys_backup.sh, K37); the first of
    each counts. {"config": ..., "stanza": ...}, None where not given."""
    words = _shell_words(command) or []
    found = {"config": None, "stanza": None}
    for i, word in enumerate(words):
        for option in ("config", "stanza"):
            flag = "--" + option
            if found[option] is not None:
                continue
            if word.startswith(flag + "="):
                found[option] = word[len(flag) + 1:]
            elif word == flag and i + 1 < len(words):
                found[option] = words[i + 1]
    return found


def sysrman_archive_push(command, config, stanza):
    """Does an archive_command run sys_rman archive-push with this configuration file and stanza? Both option
    forms count: --config=<file> (this project's) and --config <file> (the vendor's sys_backup.sh, K37), the same
    for --stanza; quotes and a trailing shell comment (the lab's '# pgbackrest') are read as the shell would."""
    words = _shell_words(command)
    if words is None:
        return False
    found = sysrman_options(command)
    runs_sysrman = any(w.rsplit("/", 1)[-1] == "sys_rman" for w in words)
    return (runs_sysrman and "archive-push" in words and found.get("config") == config
            and found.get("stanza") == stanza)


# --- A vendor's sys_backup.sh schedule on a managed cluster (kingbase_backup_vendor_setup) -------------------

VENDOR_SETUPS = ("adopt", "retire")
EXAMPLE_CHANGE_ID = "CR-2026-0142"
RETIRED_MARK = "# huaian-platform-ops: retired by %s (the project's kingbase_backup jobs schedule this cluster's backups)"


def vendor_backup_command(command):
    """Does a cron command schedule a sys_rman backup (`sys_rman ... backup`, any --type) or run the vendor's
    sys_backup.sh? archive-push, expire, info and kbha lines do not count."""
    words = _shell_words(command)
    if words is None:
        words = (command or "").split()
    names = [w.rsplit("/", 1)[-1] for w in words]
    return "sys_backup.sh" in names or ("sys_rman" in names and "backup" in words)


def vendor_backup_entries(backup):
    """The active cron entries of discovery_facts.kingbase.backup (discovery's sys_rman / sys_backup entries) that
    schedule backups, each with the --config and --stanza its command names (both option forms)."""
    out = []
    for entry in (backup or {}).get("cron") or []:
        if entry.get("active") and vendor_backup_command(entry.get("command")):
            item = dict(entry)
            item.update(sysrman_options(entry.get("command")))
            out.append(item)
    return out


def _vendor_problem(host, variable, value, what, allowed):
    shown_value = "(not set)" if value is None else repr(value)
    return {"host": host, "variable": variable, "value": shown_value, "allowed": allowed,
            "message": "%s: %s = %s: %s; allowed: %s" % (host, variable, shown_value, what, allowed)}


def sysrman_vendor_plan(members, stanza, id_pattern):
    """What happens to a vendor's sys_backup.sh schedule in one cluster, and whether any host of it would end up
    with two backup schedules (the vendor's cron entries beside the project's kingbase-<stanza>-full/-incr jobs).

    members: {host: {"methods": kingbase_backup_methods, "setup": kingbase_backup_vendor_setup (adopt | retire),
    "change": kingbase_backup_vendor_retire_change, "backup": discovery_facts.kingbase.backup or None (not
    discovered), "discovery_required": True when the host may carry a vendor install (the inventory observes by
    default) and so must have been discovered before the project schedules sys_rman backups of it}}.
    Returns {stanza, vendor_hosts: [hosts with active vendor backup entries], entries: {host: [entries]},
    adopt: the cluster keeps the vendor's schedule, retire: [hosts whose vendor entries the role comments out],
    project_schedules: the project's own jobs are installed for the stanza, archive: {host: {config, stanza}} the
    archive_command each host must run (the vendor's under adopt, else None: the project's), repository: {host,
    path, config, stanza} of the member holding the vendor's repository (or None), problems: [{host,
    variable, value, allowed, message}]}. A host is refused rather than left with two schedules.
    """
    members = members or {}
    problems = []
    entries = {}
    wants_sysrman = any("sys_rman" in (members[h].get("methods") or []) for h in members)
    for host in sorted(members):
        m = members[host]
        setup, change = m.get("setup"), m.get("change") or ""
        if setup not in VENDOR_SETUPS:
            problems.append(_vendor_problem(host, "kingbase_backup_vendor_setup", setup, "not a choice",
                                            "adopt (keep the vendor's sys_backup.sh schedule) or retire (replace it, "
                                            "with kingbase_backup_vendor_retire_change)"))
        if setup == "retire" and not (isinstance(change, str) and re.fullmatch(id_pattern, change)):
            problems.append(_vendor_problem(
                host, "kingbase_backup_vendor_retire_change", change or None,
                "retiring the vendor's backup schedule is a recorded change and this is not a change id",
                "a string matching %s, e.g. %s, beside kingbase_backup_vendor_setup: retire" % (id_pattern, EXAMPLE_CHANGE_ID)))
        if setup == "adopt" and change:
            problems.append(_vendor_problem(
                host, "kingbase_backup_vendor_retire_change", change, "set while kingbase_backup_vendor_setup is adopt",
                "a change id only beside kingbase_backup_vendor_setup: retire; remove it otherwise"))
        if m.get("backup") is None:
            if m.get("discovery_required") and wants_sysrman:
                problems.append(_vendor_problem(
                    host, "discovery_facts.kingbase.backup", None,
                    "not discovered: a backup schedule the vendor's sys_backup.sh left on it cannot be ruled out",
                    "run playbooks/discover.yml for the host and review host_vars/%s/discovered.yml first" % host))
            continue
        found = vendor_backup_entries(m["backup"])
        if found:
            entries[host] = found
    vendor_hosts = sorted(entries)
    setups = sorted(set(members[h].get("setup") for h in vendor_hosts if members[h].get("setup") in VENDOR_SETUPS))
    if len(setups) > 1:
        for host in vendor_hosts:
            problems.append(_vendor_problem(
                host, "kingbase_backup_vendor_setup", members[host].get("setup"),
                "the members of cluster %s with the vendor's backup entries (%s) choose differently: half the vendor's "
                "schedule would stay" % (stanza, ", ".join(vendor_hosts)),
                "one choice for the whole cluster (set it in the cluster's group_vars)"))
    adopt = any(members[h].get("setup") != "retire" for h in vendor_hosts)
    project_schedules = wants_sysrman and not adopt
    # Retired only when the whole cluster retires (a cluster that keeps any vendor entry keeps them all).
    retire = [] if adopt else [h for h in vendor_hosts if re.fullmatch(id_pattern, members[h].get("change") or "")]
    # Whatever the settings, never two schedules: every vendor entry left in place beside the project's jobs.
    for host in vendor_hosts:
        if project_schedules and host not in retire:
            problems.append(_vendor_problem(
                host, "kingbase_backup_vendor_setup", members[host].get("setup"),
                "the vendor's backup entries (%s) would stay beside the project's kingbase-%s-full/-incr jobs: a backup "
                "scheduled twice" % ("; ".join("%s: %s" % (e.get("source"), e.get("schedule")) for e in entries[host]), stanza),
                "adopt, or retire with kingbase_backup_vendor_retire_change: <change id>"))
    archive = {}
    for host in sorted(members):
        if adopt and "sys_rman" in (members[host].get("methods") or []):
            backup = members[host].get("backup") or {}
            archive[host] = {"config": backup.get("config"), "stanza": backup.get("stanza")}
            if not backup.get("config") or not backup.get("stanza"):
                problems.append(_vendor_problem(
                    host, "discovery_facts.kingbase.backup.archive_command", backup.get("archive_command"),
                    "cluster %s adopts the vendor's sys_rman schedule, and this member's archive_command names no "
                    "sys_rman configuration and stanza: its WAL would not reach the vendor's repository" % stanza,
                    "the vendor's `sys_rman --config <repo>/sys_rman.conf --stanza=<stanza> archive-push %p` on every "
                    "member (sys_backup.sh init), discovered again"))
        else:
            archive[host] = None
    # Where the vendor's repository is: the member whose sys_rman.conf names a repo1-path and no repo1-host (the
    # other members reach it over repo1-host). Restore points and restore tests of an adopted cluster go there.
    repository = None
    for host in sorted(members):
        backup = members[host].get("backup") or {}
        options = backup.get("options") or {}
        remote = any((values or {}).get("repo1-host") for values in options.values() if isinstance(values, dict))
        if backup.get("config") and backup.get("repo_path") and not remote:
            repository = {"host": host, "path": backup["repo_path"], "config": backup["config"],
                          "stanza": backup.get("stanza") or stanza}
            break
    unique = {}
    for p in problems:
        unique.setdefault(p["message"], p)
    return {"stanza": stanza, "vendor_hosts": vendor_hosts, "entries": entries, "adopt": adopt, "retire": retire,
            "project_schedules": project_schedules, "archive": archive, "repository": repository,
            "problems": sorted(unique.values(), key=lambda p: (p["host"], p["variable"], p["message"]))}


def sysrman_keeps_vendor_archive(discovery_facts, vendor_setup="adopt"):
    """Does this host keep the vendor's archive_command? Yes on a discovered vendor cluster (config_owner not
    `project`) whose sys_backup.sh repository was found (backup.config) and whose schedule is adopted; the
    inventories then leave kingbase_archive_command empty, so the managed settings never overwrite it."""
    kingbase = (discovery_facts or {}).get("kingbase") if isinstance(discovery_facts, dict) else None
    if not isinstance(kingbase, dict) or not kingbase.get("present"):
        return False
    return (kingbase.get("config_owner") or "vendor") != "project" and bool((kingbase.get("backup") or {}).get("config")) \
        and (vendor_setup or "adopt") == "adopt"


def sysrman_vendor_plans(hostvars, hosts, id_pattern, default_setup="adopt", default_methods=("sys_dump",)):
    """Filter: sysrman_vendor_plan for every cluster of hosts (the kingbase group), {stanza: plan}. Reads each host's
    kingbase_cluster_name (the stanza), kingbase_backup_methods, kingbase_backup_vendor_setup,
    kingbase_backup_vendor_retire_change, discovery_facts and adoption_mode_default from hostvars; the role's
    defaults stand in for what a host does not set."""
    clusters = {}
    for host in hosts or []:
        hv = hostvars[host]
        stanza = hv.get("kingbase_cluster_name") or host
        facts = hv.get("discovery_facts") or {}
        backup = (facts.get("kingbase") or {}).get("backup") if isinstance(facts, dict) else None
        clusters.setdefault(stanza, {})[host] = {
            "methods": list(hv.get("kingbase_backup_methods", list(default_methods)) or []),
            "setup": hv.get("kingbase_backup_vendor_setup", default_setup),
            "change": hv.get("kingbase_backup_vendor_retire_change", ""),
            "backup": backup,
            "discovery_required": hv.get("adoption_mode_default", "observe") != "managed"}
    return dict((stanza, sysrman_vendor_plan(members, stanza, id_pattern)) for stanza, members in clusters.items())


def sysrman_retire_cron(text, change_id):
    """A crontab's text with every active vendor backup entry (vendor_backup_command) commented out, each under a
    line naming the change; other lines (kbha, archive-push, already commented ones) unchanged. The entry stays
    readable as a commented-out entry (discovery reports it inactive). {"text": ..., "retired": [lines]}."""
    out, retired = [], []
    pattern = re.compile(r"^\s*(@\w+|(\S+\s+){5})")
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and pattern.match(stripped) \
                and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", stripped) and vendor_backup_command(stripped):
            out.append(RETIRED_MARK % change_id)
            out.append("#" + line)
            retired.append(line)
        else:
            out.append(line)
    new = "\n".join(out) + ("\n" if (text or "").endswith("\n") or retired else "")
    return {"text": new if retired else (text or ""), "retired": retired}


def sysrman_info_summary(stdout):
    """`sys_rman --output=json info` of one stanza -> {stanza, status, backups, last: {label, type, stop}, last_full:
    {label, stop}} (stop: epoch seconds), or {error} when the output is not that JSON."""
    import json
    try:
        info = json.loads(stdout or "")[0]
    except (ValueError, IndexError, KeyError, TypeError):
        return {"error": "not sys_rman info JSON: %s" % ((stdout or "").strip().splitlines() or [""])[0][:200]}
    backups = info.get("backup") or []

    def brief(b):
        return {"label": b.get("label"), "type": b.get("type"), "stop": (b.get("timestamp") or {}).get("stop")}
    fulls = [b for b in backups if b.get("type") == "full"]
    return {"stanza": info.get("name"), "status": (info.get("status") or {}).get("message"), "backups": len(backups),
            "last": brief(backups[-1]) if backups else None, "last_full": brief(fulls[-1]) if fulls else None}


SYSRMAN_BACKUP_TYPES = ("full", "diff", "incr")


def sysrman_vendor_jobs(entries, run_user=None):
    """The vendor's scheduled sys_rman backups (sysrman_vendor_plan's entries of one host) as jobs to run now, the
    way cron runs them: [{name: vendor-<stanza>-<type>, type, user, argv, schedule, source}], full before diff
    before incr. argv is the entry's command as the shell reads it, up to the first redirection or operator (cron
    appends its log redirection; the job's output is read here instead). An entry that runs sys_backup.sh itself,
    names no --type or no stanza, or carries anything else than one sys_rman command is not a job (it is returned
    in the same list with an `error`, so the caller can refuse it by name). The same job scheduled twice counts
    once. run_user: the account for entries whose source gives none (a user's crontab names it)."""
    jobs, seen = [], set()
    for entry in entries or []:
        command = entry.get("command") or ""
        words = _shell_words(command) or []
        argv = []
        for i, word in enumerate(words):
            punct = bool(word) and set(word) <= set(";&|<>")
            # 2>&1: shlex gives "2" then ">&"; the descriptor belongs to the redirection.
            fd = word.isdigit() and i + 1 < len(words) and words[i + 1][:1] in "<>"
            if punct or fd:
                break
            argv.append(word)
        rest = words[len(argv):]
        names = [w.rsplit("/", 1)[-1] for w in argv]
        options = sysrman_options(command)
        kind = next((w.split("=", 1)[1] for w in argv if w.startswith("--type=")), None)
        if kind is None and "--type" in argv and argv.index("--type") + 1 < len(argv):
            kind = argv[argv.index("--type") + 1]
        job = {"name": "vendor-%s-%s" % (options.get("stanza") or "unknown", kind or "unknown"), "type": kind,
               "user": entry.get("user") or run_user, "argv": argv, "schedule": entry.get("schedule"),
               "source": entry.get("source"), "repository": {"config": options.get("config"), "stanza": options.get("stanza")}}
        problem = None
        if not names or names[0] != "sys_rman" or "backup" not in argv:
            problem = "not a sys_rman backup command (sys_backup.sh or a wrapper is not run outside its schedule)"
        elif kind not in SYSRMAN_BACKUP_TYPES:
            problem = "no --type=full|diff|incr"
        elif not options.get("stanza") or not options.get("config"):
            problem = "no --config and --stanza"
        elif any(w in (";", "&&", "||", "|", "&", "|&") for w in rest):
            problem = "more than one command: only a single sys_rman command with its log redirection is run"
        if problem:
            job["error"] = problem
            job["command"] = command
        key = (job["name"], tuple(argv), job["user"])
        if key in seen:
            continue
        seen.add(key)
        jobs.append(job)
    order = {t: i for i, t in enumerate(SYSRMAN_BACKUP_TYPES)}
    return sorted(jobs, key=lambda j: (order.get(j["type"], len(order)), j["name"]))


def sysrman_vendor_job_problem(job, host):
    """One line naming a vendor entry sysrman_vendor_jobs could not run, and what would be run instead."""
    return "%s: %s (%s) %s: %s; allowed: one `sys_rman --config <file> --stanza <name> --type=full|diff|incr backup` " \
        "with its log redirection (run sys_backup.sh's own steps by hand)" % (
            host, job.get("source"), job.get("schedule"), job.get("command"), job.get("error"))


def _first_error(result):
    lines = (result.get("stderr_lines") or []) + (result.get("stdout_lines") or [])
    errors = [line for line in lines if "ERROR" in line]
    if errors:
        return errors[0].strip()
    rest = [line for line in (result.get("stderr_lines") or []) if line.strip()]
    return rest[-1].strip() if rest else (result.get("msg") or "")


def sysrman_vendor_run_results(results):
    """The loop results of running vendor jobs (each item a sysrman_vendor_jobs job) -> [{job, type, rc,
    duration_seconds, error}]; error is sys_rman's first ERROR line (the last is often only a retry notice)."""
    out = []
    for r in results or []:
        item = r.get("item") or {}
        if r.get("skipped"):
            # --check: the backup is not taken.
            out.append({"job": item.get("name"), "type": item.get("type"), "rc": 0, "duration_seconds": 0.0,
                        "error": "", "skipped": True})
            continue
        rc = r.get("rc")
        rc = 1 if rc is None else int(rc)
        out.append({"job": item.get("name"), "type": item.get("type"), "rc": rc,
                    "duration_seconds": duration_seconds(r.get("delta") or "0:00:00"),
                    "error": "" if rc == 0 else _first_error(r), "skipped": False})
    return out


def sysrman_vendor_run_line(run, host):
    return "%s: %s failed (rc %s): %s" % (host, run.get("job"), run.get("rc"), run.get("error") or "no message")


def sysrman_new_backups(pair):
    """(info before, info after) - two `sys_rman --output=json info` outputs of one stanza - -> the backups only the
    second lists, oldest first: [{stanza, label, type, prior, size, repo_size, stop, line}]."""
    import json
    before, after = pair

    def backups(text):
        try:
            info = json.loads(text or "")[0]
        except (ValueError, IndexError, KeyError, TypeError):
            return None, []
        return info.get("name"), info.get("backup") or []
    _, old = backups(before)
    stanza, new = backups(after)
    known = set(b.get("label") for b in old)
    out = []
    for b in new:
        if b.get("label") in known:
            continue
        info = b.get("info") or {}
        item = {"stanza": stanza, "label": b.get("label"), "type": b.get("type"), "prior": b.get("prior"),
                "size": info.get("size"), "repo_size": (info.get("repository") or {}).get("delta"),
                "stop": (b.get("timestamp") or {}).get("stop")}
        item["line"] = "%s %s %s (%s bytes, %s bytes stored)" % (
            stanza, item["type"], item["label"], item["size"], item["repo_size"])
        out.append(item)
    return out


def sysrman_repo_options(text, stanza):
    """The repository options of a sys_rman configuration file (repo1-*, [global] then the stanza's section, which
    wins), for a scratch restore that reads the same repository with its own data directory, lock and log paths.
    {"options": {...}} or {"error": why} when the file names no repo1-path, or the repository is on another host
    (repo1-host: the restore test belongs on that host)."""
    try:
        sections = _ini_sections(text)
    except ValueError as exc:
        return {"error": str(exc)}
    options = {}
    for name in ("global", stanza):
        for key, value in sections.get(name, []):
            if key.startswith("repo1-"):
                options[key] = value
    if options.get("repo1-host"):
        return {"error": "the repository is on %s (repo1-host): restore-test it there" % options["repo1-host"]}
    if not options.get("repo1-path"):
        return {"error": "no repo1-path in [global] or [%s]" % stanza}
    return {"options": dict(sorted(options.items()))}


def _ini_sections(text):
    sections, current = {}, None
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), [])
            continue
        if "=" not in line or current is None:
            raise ValueError("line %d is not key=value in a section" % number)
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


class FilterModule(object):
    def filters(self):
        return {
            "duration_seconds": duration_seconds,
            "restore_projection": restore_projection,
            "backup_verify_summary": backup_verify_summary,
            "backup_verify_note": backup_verify_note,
            "backup_status_findings": backup_status_findings,
            "backup_min_sample_bytes": min_sample_bytes,
            "backup_restore_time": summary_restore_time,
            "backup_status_problems": backup_status_problems,
            "backup_problem_line": backup_problem_line,
            "sysrman_archive_push": sysrman_archive_push,
            "sysrman_options": sysrman_options,
            "sysrman_vendor_plans": sysrman_vendor_plans,
            "sysrman_keeps_vendor_archive": sysrman_keeps_vendor_archive,
            "sysrman_retire_cron": sysrman_retire_cron,
            "sysrman_info_summary": sysrman_info_summary,
            "sysrman_vendor_jobs": sysrman_vendor_jobs,
            "sysrman_repo_options": sysrman_repo_options,
            "sysrman_vendor_job_problem": sysrman_vendor_job_problem,
            "sysrman_vendor_run_results": sysrman_vendor_run_results,
            "sysrman_vendor_run_line": sysrman_vendor_run_line,
            "sysrman_new_backups": sysrman_new_backups,
        }
