"""backup_inspect: schedules, status records as roles/backup_job's wrapper writes them, verification archive."""
import ast
import datetime
import json

import pytest

import backup_inspect as mod
from ansible.module_utils import huaian_inspect_backup as hb
from conftest import ROOT

T = dict(hb.DEFAULT_THRESHOLDS)
CST = datetime.timezone(datetime.timedelta(hours=8))
# Wednesday 2026-11-25 22:00 +08:00
NOW = datetime.datetime(2026, 11, 25, 22, 0, 0, tzinfo=CST).timestamp()


def iso(hours_ago):
    """A time as the job wrapper writes it (time.strftime('%Y-%m-%dT%H:%M:%S%z'))."""
    return datetime.datetime.fromtimestamp(NOW - hours_ago * 3600, CST).strftime("%Y-%m-%dT%H:%M:%S%z")


def record(job, ok_hours_ago, failed=0, last_success=True, detail=None):
    """A status.json the wrapper writes: failed > 0 means the last run failed, for the n-th time running."""
    finished = ok_hours_ago if not failed else 1.0
    rec = {"job": job, "host": "city-bak01", "result": "failed" if failed else "success",
           "exit_code": 1 if failed else 0, "started": iso(finished + 0.1), "finished": iso(finished),
           "duration_seconds": 361.204, "size_bytes": None if failed else 1893261, "detail": detail or {},
           "error": ("P00   INFO: backup command begin 2.45\nERROR: [056]: unable to find primary cluster - cannot proceed"
                     if failed else ""),
           "last_success": iso(ok_hours_ago) if last_success else None,
           "last_success_duration_seconds": 355.9 if last_success else None,
           "last_success_size_bytes": 1893261 if last_success else None,
           "consecutive_failures": failed}
    return rec


TIMER = """# Managed by huaian-platform-ops (Ansible).
[Unit]
Description=Schedule of {desc}

[Timer]
OnCalendar={calendar}
# A run missed while the host was down is caught up at the next boot.
Persistent=true
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
"""


def deploy(tmp_path, jobs):
    """jobs: {name: (calendar or None, record or None)} -> (status_dir, unit_dir)."""
    status, units = tmp_path / "status", tmp_path / "units"
    status.mkdir()
    units.mkdir()
    for name, (calendar, rec) in jobs.items():
        if calendar is not None:
            (units / ("huaian-backup-%s.timer" % name)).write_text(TIMER.format(desc=name, calendar=calendar))
            (units / ("huaian-backup-%s.service" % name)).write_text("[Service]\nType=oneshot\n")
        (status / name).mkdir()
        if rec is not None:
            (status / name / "status.json").write_text(json.dumps(rec, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return str(status), str(units)


def codes(findings):
    return sorted((f["code"], f["severity"], f["subject"]) for f in findings)


@pytest.mark.parametrize("calendar, hours", [
    ("Sun *-*-* 01:00:00", 168.0),
    ("Mon..Sat *-*-* 01:00:00", 48.0),      # Saturday's run to Monday's: Sunday is the full's day
    ("*-*-* 01:30:00", 24.0),
    ("*-*-* 05:30", 24.0),
    ("Mon,Thu *-*-* 02:00:00", 96.0),
    ("*-*-* 00/6:00:00", 6.0),
    ("*-*-* *:15:00", 1.0),
    ("daily", 24.0),
    ("weekly", 168.0),
    ("*-*-01 03:00:00", 744.0),
    ("*-*-* 01:00:00 Asia/Shanghai", None),
    ("Funday *-*-* 01:00", None),
    ("", None),
])
def test_schedule_interval(calendar, hours):
    assert hb.schedule_interval_hours(calendar) == hours


@pytest.mark.parametrize("text", ["2026-11-25T01:00:09+0800", "2026-11-25T01:00:09+08:00", "2026-11-24T17:00:09Z"])
def test_parse_time_reads_the_wrappers_format(text):
    assert hb.parse_time(text) == datetime.datetime(2026, 11, 25, 1, 0, 9, tzinfo=CST).timestamp()


def test_job_kinds():
    kinds = hb.DEFAULT_JOB_KINDS
    assert [hb.job_kind(j, kinds) for j in ("kingbase-city_a-full", "kingbase-city_a-incr", "kingbase-dump", "files",
                                            "prune-dumps")] == ["full", "incr", "full", "incr", "other"]


def test_healthy_backup_appliance(tmp_path):
    status, units = deploy(tmp_path, {
        "kingbase-city_a-full": ("Sun *-*-* 01:00:00", record("kingbase-city_a-full", 69)),   # Sunday 01:00
        "kingbase-city_a-incr": ("Mon..Sat *-*-* 01:00:00", record("kingbase-city_a-incr", 21)),
        "prune-dumps": ("*-*-* 05:30:00", record("prune-dumps", 16.5)),
    })
    jobs = hb.gather_jobs(status, units, "huaian-backup-", ["kingbase-city_a-full", "kingbase-city_a-incr", "prune-dumps"])
    assert jobs["kingbase-city_a-incr"]["schedule"] == "Mon..Sat *-*-* 01:00:00"
    assert jobs["kingbase-city_a-incr"]["interval_h"] == 48.0
    findings, metrics = hb.judge_jobs(jobs, NOW, T)
    assert findings == []
    assert metrics == {"backup_full_age_h:kingbase-city_a-full": 69.0, "backup_incr_age_h:kingbase-city_a-incr": 21.0}


def test_failed_stale_and_never_succeeded_jobs(tmp_path):
    status, units = deploy(tmp_path, {
        # failed twice; its last success was Sunday before last: 8 days + 21 h
        "kingbase-city_a-full": ("Sun *-*-* 01:00:00", record("kingbase-city_a-full", 213, failed=2)),
        # daily incremental file backup last succeeded 27 h ago: warning (26 h), not yet critical (48 h)
        "files": ("*-*-* 02:30:00", record("files", 27)),
        # deployed, never ran
        "kingbase-dump": ("*-*-* 01:30:00", None),
        # pruning 3 days late: maintenance, warning only
        "prune-dumps": ("*-*-* 05:30:00", record("prune-dumps", 88.5)),
    })
    jobs = hb.gather_jobs(status, units, "huaian-backup-")
    findings, metrics = hb.judge_jobs(jobs, NOW, T)
    assert codes(findings) == [
        ("BACKUP_FAILED", "critical", "kingbase-city_a-full"),
        ("BACKUP_NEVER_SUCCEEDED", "critical", "kingbase-dump"),
        ("BACKUP_STALE", "critical", "kingbase-city_a-full"),
        ("BACKUP_STALE", "warning", "files"),
        ("BACKUP_STALE", "warning", "prune-dumps"),
    ]
    failed = [f for f in findings if f["code"] == "BACKUP_FAILED"][0]
    assert "unable to find primary cluster" in failed["message"] and failed["value"] == 2
    stale = [f for f in findings if f["subject"] == "kingbase-city_a-full" and f["code"] == "BACKUP_STALE"][0]
    assert stale["value"] == 213.0 and stale["threshold"] == 192
    assert metrics == {"backup_full_age_h:kingbase-city_a-full": 213.0, "backup_incr_age_h:files": 27.0}


def test_failure_threshold_and_a_missing_job_and_a_stopped_timer(tmp_path):
    status, units = deploy(tmp_path, {"files": ("*-*-* 02:30:00", record("files", 20, failed=1))})
    jobs = hb.gather_jobs(status, units, "huaian-backup-", ["files", "kingbase-dump"])
    timers = {"huaian-backup-files.timer": {"Id": "huaian-backup-files.timer", "ActiveState": "inactive",
                                            "UnitFileState": "disabled"}}
    lenient = hb.merge_thresholds(T, {"failed_critical_after": 2})
    assert codes(hb.judge_jobs(jobs, NOW, lenient, timers)[0]) == [
        ("BACKUP_FAILED", "warning", "files"),
        ("BACKUP_JOB_MISSING", "critical", "kingbase-dump"),
        ("BACKUP_TIMER_INACTIVE", "warning", "files")]


def test_a_standby_dump_that_skipped_has_no_age_metric(tmp_path):
    status, units = deploy(tmp_path, {"kingbase-dump": ("*-*-* 01:30:00",
                                                        record("kingbase-dump", 20.5, detail={"skipped": "standby"}))})
    findings, metrics = hb.judge_jobs(hb.gather_jobs(status, units, "huaian-backup-"), NOW, T)
    assert findings == [] and metrics == {}


def test_unreadable_record(tmp_path):
    status, units = deploy(tmp_path, {"files": ("*-*-* 02:30:00", None)})
    (tmp_path / "status" / "files" / "status.json").write_text('{"job": "files", "result": ')
    findings = hb.judge_jobs(hb.gather_jobs(status, units, "huaian-backup-"), NOW, T)[0]
    assert codes(findings) == [("BACKUP_FAILED", "critical", "files")]


def verify_result(kind, target, result="success", reason=""):
    """A result as playbooks/tasks/backup_verify_one.yml archives it (to_nice_json of kingbase_backup_verify_result)."""
    return {"kind": kind, "host": "hzq-bak01", "platform": "hongze", "target": target, "backup": "/backup/upload/hzq-kb01/kingbase/20261102T013001",
            "started": "1762098300.52", "duration_seconds": "41.3", "restore_seconds": "12.8", "restored_bytes": "8519680",
            "mismatches": [], "compared": ["12 tables"], "result": result, "reason": reason}


def archive(tmp_path, files):
    d = tmp_path / "archive"
    d.mkdir()
    for name, data in files.items():
        (d / name).write_text(json.dumps(data, indent=2) + "\n")
    return str(d)


def test_verification_newest_result_per_target(tmp_path):
    d = archive(tmp_path, {
        "20261001T020000Z-sys_dump-hongze.json": verify_result("sys_dump", "hongze", "failed", "sha256 mismatch in huaian.dump.enc"),
        "20261120T020000Z-sys_dump-hongze.json": verify_result("sys_dump", "hongze"),
        "20261002T020000Z-sys_rman-city_a.json": verify_result("sys_rman", "city_a", "failed",
                                                               "restore: ERROR: [075]: no backup set found to restore"),
        "notes.txt": "not a result",
    })
    v = hb.gather_verification(d)
    assert sorted(v["latest"]) == ["sys_dump hongze", "sys_rman city_a"]
    assert v["latest"]["sys_dump hongze"]["result"] == "success"
    expected = [{"kind": "sys_dump", "target": "hongze"}, {"kind": "sys_rman", "target": "city_a"},
                {"kind": "sys_rman", "target": "city_b"}]
    findings = hb.judge_verification(v, expected, NOW, T)
    assert codes(findings) == [("BACKUP_VERIFY_FAILED", "critical", "sys_rman city_a"),
                               ("BACKUP_VERIFY_STALE", "warning", "sys_rman city_a"),
                               ("BACKUP_VERIFY_STALE", "warning", "sys_rman city_b")]
    assert "no backup set found" in findings[0]["message"]
    deep = hb.judge_verification(v, expected, NOW, T, deep=True)
    assert [f["severity"] for f in deep if f["code"] == "BACKUP_VERIFY_STALE"] == ["critical", "critical"]


def test_no_archive_at_all(tmp_path):
    v = hb.gather_verification(str(tmp_path / "missing"))
    assert v["exists"] is False
    assert codes(hb.judge_verification(v, [], NOW, T)) == []
    assert codes(hb.judge_verification(v, [{"kind": "sys_dump", "target": "hongze"}], NOW, T)) == [
        ("BACKUP_VERIFY_STALE", "warning", "sys_dump hongze")]


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, params, systemctl_out=""):
        self.params, self.out, self.ran = params, systemctl_out, []

    def get_bin_path(self, name):
        return "/usr/bin/" + name

    def run_command(self, args):
        self.ran.append(args)
        return 0, self.out, ""

    def fail_json(self, **kw):
        raise Failed(kw["msg"])


def test_module_run(tmp_path, monkeypatch):
    status, units = deploy(tmp_path, {"files": ("*-*-* 02:30:00", record("files", 20, failed=3))})
    monkeypatch.setattr(mod.time, "time", lambda: NOW)
    params = {"status_dir": status, "unit_dir": units, "unit_prefix": "huaian-backup-", "expected_jobs": ["files"],
              "verify_archive_dir": "", "expected_verify_targets": [], "thresholds": {}, "deep": False, "horizon_days": 90}
    module = FakeModule(params, "Id=huaian-backup-files.timer\nActiveState=active\nUnitFileState=enabled\n")
    result = mod.run(module)
    assert module.ran == [["/usr/bin/timeout", "-k", "5", "30", "/usr/bin/systemctl", "show", "--no-pager", "-p",
                           "Id,ActiveState,UnitFileState", "huaian-backup-files.timer"]]
    job = result["facts"]["jobs"]["files"]
    assert job["timer"] == "active" and job["consecutive_failures"] == 3 and job["kind"] == "incr"
    assert job["error_last_line"].startswith("ERROR: [056]") and "error" not in job
    assert codes(result["findings"]) == [("BACKUP_FAILED", "critical", "files")]
    assert result["metrics"] == {"backup_incr_age_h:files": 20.0} and result["facts"]["verification"] is None
    with pytest.raises(Failed, match="unknown threshold 'max_age_h'"):
        mod.run(FakeModule(dict(params, thresholds={"max_age_h": 30})))
    # A systemctl that timed out: the timer state is unknown, not a finding, not a crash.
    stuck = FakeModule(params, "Id=huaian-backup-files.timer\nActiveState=inact")
    stuck.run_command = lambda args: (124, stuck.out, "")
    result = mod.run(stuck)
    assert result["facts"]["jobs"]["files"]["timer"] is None
    assert codes(result["findings"]) == [("BACKUP_FAILED", "critical", "files")]
    with pytest.raises(Failed, match="kind and target"):
        mod.run(FakeModule(dict(params, expected_verify_targets=[{"kind": "sys_dump"}])))


@pytest.mark.parametrize("path", [ROOT / "plugins" / "modules" / "backup_inspect.py",
                                  ROOT / "plugins" / "module_utils" / "huaian_inspect_backup.py"], ids=lambda p: p.name)
def test_host_side_files_parse_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))
