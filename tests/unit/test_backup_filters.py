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
    assert s["problems"] == ["数据库逻辑备份 hongze：失败：sha256 mismatch in huaian.dump.enc",
                             "恢复成功率 75.0 % 低于要求的 99.0 %"]


def test_nothing_verified_is_a_failure():
    assert bf.backup_verify_summary([])["problems"] == ["本次没有验证任何备份"]


def test_the_slowest_rate_must_restore_the_largest_database_within_the_objective():
    results = [ok("sys_rman", "fast", 100 * GIB, 3600), ok("sys_rman", "slow", GIB, 3600)]
    s = bf.backup_verify_summary(results, objective_hours=12, estate_bytes=20 * GIB)
    assert s["slowest"]["target"] == "slow" and s["estate_restore_hours"] == 20.0
    assert s["verdict"] == "fail" and s["problems"][-1] == "按最慢实测速度，恢复 20.0 GiB 约需 20.0 小时，超过 12 小时的恢复时限"
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


def test_verify_note_words_the_kingbase_comparison_in_chinese():
    rman = {"kind": "sys_rman", "result": "success", "compared": "match: 2 tables, 20002 rows compared, 0 differences"}
    assert bf.backup_verify_note(rman) == "一致：比对 2 张表、20002 行，无差异"
    dump = {"kind": "sys_dump", "result": "failed", "reason": "restored contents differ from the dump's snapshot",
            "compared": ["match: 1 tables, 10 rows compared, 0 differences",
                         "differ: 2 tables, 20001 rows compared, 3 differences"]}
    assert bf.backup_verify_note(dump) == ("一致：比对 1 张表、10 行，无差异；不一致：比对 2 张表、20001 行，3 处差异；"
                                           "失败：恢复的数据与导出时的快照不一致")
    broken = {"kind": "sys_rman", "result": "failed", "compared": "",
              "reason": "Restore into the scratch data directory: ERROR: no backup set"}
    assert bf.backup_verify_note(broken) == "失败：Restore into the scratch data directory: ERROR: no backup set"
    assert bf.backup_verify_note({"kind": "sys_rman", "result": "failed"}) == "失败：原因未记录"


def test_verify_note_words_the_file_sample_in_chinese():
    ok = {"kind": "files", "result": "success", "sampled": 20, "matched": 18, "changed_since": ["/a", "/b"],
          "mismatches": [], "missing": []}
    assert bf.backup_verify_note(ok) == "抽样 20 个文件，18 个与源文件一致；2 个自快照后已修改（不参与比对）"
    bad = {"kind": "files", "result": "failed", "sampled": 3, "matched": 1, "mismatches": ["/d/x.ofd"],
           "missing": ["/d/y.ofd"], "changed_since": []}
    assert bf.backup_verify_note(bad) == "抽样 3 个文件，1 个与源文件一致；与源文件不一致：/d/x.ofd；未能恢复：/d/y.ofd"
    none = {"kind": "files", "result": "failed", "sampled": 2, "matched": 0, "changed_since": ["/a", "/b"]}
    assert bf.backup_verify_note(none).endswith("抽样文件自快照后均已修改，未能比对")
    no_repo = {"kind": "files", "result": "failed", "reason": "备份库中没有 bes01 的快照"}
    assert bf.backup_verify_note(no_repo) == "失败：备份库中没有 bes01 的快照"
    restic = {"kind": "files", "result": "failed", "reason": "restic snapshots: Fatal: unable to open config file"}
    assert bf.backup_verify_note(restic) == "失败：restic snapshots: Fatal: unable to open config file"
