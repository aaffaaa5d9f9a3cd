"""plugins/filter/backup_filters.py: restore verification summaries and job status checks."""
import pytest

import backup_filters as bf

GIB = 1024 ** 3


def ok(kind, target, restored, seconds):
    return {"kind": kind, "target": target, "result": "success", "restored_bytes": restored, "restore_seconds": seconds}


def test_duration_seconds_reads_command_deltas():
    assert bf.duration_seconds("0:00:12.500000") == 12.5
    assert bf.duration_seconds("2:03:04") == 2 * 3600 + 3 * 60 + 4
    assert bf.duration_seconds(7) == 7.0
    with pytest.raises(ValueError):
        bf.duration_seconds("12 s")


def test_projection_scales_the_measured_rate_to_100_gib():
    p = bf.restore_projection(10 * GIB, 360)
    assert p["hours_per_100gb"] == 1.0
    assert p["mb_per_second"] == round(10 * 1024 / 360, 1)
    assert bf.restore_projection(0, 10) == {"mb_per_second": None, "hours_per_100gb": None}


def test_all_checks_passing_is_a_pass():
    s = bf.backup_verify_summary([ok("sys_rman", "city_a", GIB, 36), ok("files", "bes01", 0, 0)])
    assert s["verdict"] == "pass" and s["success_rate"] == 1.0 and s["checks"] == 2
    assert s["hours_per_100gb"] == 1.0 and s["problems"] == []


def test_one_failure_in_four_misses_the_99_percent_and_names_the_check():
    results = [ok("sys_rman", "a", GIB, 10), ok("sys_dump", "b", GIB, 10), ok("files", "c", 1, 1),
               {"kind": "sys_dump", "target": "hongze", "result": "failed", "reason": "sha256 mismatch in huaian.dump.enc"}]
    s = bf.backup_verify_summary(results)
    assert s["verdict"] == "fail" and s["failed"] == 1 and s["success_rate"] == 0.75
    assert "sys_dump hongze: sha256 mismatch in huaian.dump.enc" in s["problems"]
    assert any("75.0 %" in p and "99.0 %" in p for p in s["problems"])


def test_nothing_verified_is_a_failure():
    assert bf.backup_verify_summary([])["problems"] == ["no backup was verified"]


def test_the_slowest_rate_must_restore_the_largest_database_within_the_objective():
    results = [ok("sys_rman", "fast", 100 * GIB, 3600), ok("sys_rman", "slow", GIB, 3600)]
    s = bf.backup_verify_summary(results, objective_hours=12, estate_bytes=20 * GIB)
    assert s["slowest"]["target"] == "slow" and s["estate_restore_hours"] == 20.0
    assert s["verdict"] == "fail" and "over the 12 h objective" in s["problems"][-1]
    assert bf.backup_verify_summary(results, estate_bytes=5 * GIB)["verdict"] == "pass"


NOW = "2026-11-26T22:00:00+0800"
AGES = {"kingbase-.*-full": 174, "files": 30}


def test_recent_successes_are_healthy():
    recs = {"bak01": {"kingbase-city_a-full": {"result": "success", "last_success": "2026-11-22T01:00:09+0800"}},
            "bes01": {"files": {"result": "success", "last_success": "2026-11-26T02:31:00+0800"}}}
    assert bf.backup_status_problems(recs, NOW, AGES) == []


def test_a_failed_last_run_is_named_with_its_last_error_line():
    recs = {"kb01": {"files": {"result": "failed", "finished": "2026-11-26T02:30:05+0800", "consecutive_failures": 2,
                               "error": "connecting\nssh: connect to host 10.0.0.5 port 22: Connection refused",
                               "last_success": "2026-11-26T01:00:00+0800"}}}
    (p,) = bf.backup_status_problems(recs, NOW, AGES)
    assert "kb01 files: last run failed" in p and "Connection refused" in p and "2 consecutive" in p


def test_stale_and_never_succeeded_jobs_are_reported():
    recs = {"bes01": {"files": {"result": "success", "last_success": "2026-11-24T02:30:00+0800"}},
            "bak01": {"kingbase-city_a-full": {}}}
    problems = bf.backup_status_problems(recs, NOW, AGES)
    assert "bak01 kingbase-city_a-full: never succeeded" in problems
    assert any(p.startswith("bes01 files: last success") and "over 30.0 h" in p for p in problems)


def test_jobs_without_an_age_rule_are_only_checked_for_failure():
    assert bf.backup_status_problems({"h": {"prune-dumps": {"result": "success"}}}, NOW, AGES) == []


def test_findings_carry_the_data_the_reports_word():
    recs = {"kb01": {"files": {"result": "failed", "finished": "2026-11-26T02:30:05+0800", "consecutive_failures": 2,
                               "error": "connecting\nConnection refused", "last_success": "2026-11-24T02:30:00+0800"}},
            "bak01": {"kingbase-city_a-full": {}}}
    findings = bf.backup_status_findings(recs, NOW, AGES, rights=[{"host": "bak01", "path": "/backup/verify", "mode": "0755"}],
                                         archiving=[{"host": "kb01", "segment": "0000000100000007", "failures": 3}])
    assert findings == [
        {"kind": "never", "host": "bak01", "job": "kingbase-city_a-full"},
        {"kind": "failed", "host": "kb01", "job": "files", "finished": "2026-11-26T02:30:05+0800",
         "consecutive_failures": 2, "error": "Connection refused"},
        {"kind": "stale", "host": "kb01", "job": "files", "last_success": "2026-11-24T02:30:00+0800",
         "age_hours": 67.5, "limit_hours": 30.0},
        {"kind": "rights", "host": "bak01", "path": "/backup/verify", "mode": "0755"},
        {"kind": "archiving", "host": "kb01", "segment": "0000000100000007", "failures": 3}]
    lines = [bf.backup_problem_line(f) for f in findings]
    assert lines[3] == "bak01: /backup/verify is not 0700 (0755)"
    assert lines[4] == "kb01: WAL archiving is failing (last failed segment 0000000100000007, 3 failures so far)"
    assert bf.backup_status_problems(recs, NOW, AGES) == lines[:3]
    with pytest.raises(ValueError, match="kind is 'odd'; allowed: failed, never, stale, rights, archiving"):
        bf.backup_problem_line({"kind": "odd"})
