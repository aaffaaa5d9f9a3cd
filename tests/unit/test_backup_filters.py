"""plugins/filter/backup_filters.py: restore verification summaries and job status checks."""
import json
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
    assert s["verdict"] == "fail" and s["problems"][-1] == "按最慢实测速度（数据库物理备份 slow），恢复 20.0 GiB 约需 20.0 小时，超过 12 小时的恢复时限"
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
MIB = 1024 ** 2


def test_min_sample_is_a_whole_number_of_mib_at_least_one():
    assert bf.min_sample_bytes(256) == 256 * MIB
    assert bf.min_sample_bytes("64") == 64 * MIB  # -e passes strings
    for bad in (0, -1, 1.5, "lots", True, None):
        with pytest.raises(ValueError) as err:
            bf.min_sample_bytes(bad, host="localhost", variable="backup_verify_min_sample_mib")
        msg = str(err.value)
        assert msg.startswith("localhost: backup_verify_min_sample_mib=%r is not allowed" % (bad,))
        assert "a whole number of MiB, at least 1" in msg
    with pytest.raises(ValueError):
        bf.backup_verify_summary([ok("files", "bes01", GIB, 10)], min_sample_mib=0)


def test_a_sample_exactly_at_the_minimum_is_projected_one_byte_less_is_not():
    at = bf.backup_verify_summary([ok("files", "city-bes01", 256 * MIB, 10)], min_sample_mib=256)
    assert at["restore_time"]["status"] == "projected"
    assert at["restore_time"]["hours_per_100gb"] == round(100 * GIB / (256 * MIB / 10) / 3600, 2) == 1.11
    assert at["restore_time"]["text"] == (u"最慢路径为附件文件 city-bes01（样本 256.0 MiB，25.6 MB/s）："
                                          u"按此速度恢复 100 GiB 约需 1.11 小时")
    below = bf.backup_verify_summary([ok("files", "city-bes01", 256 * MIB - 1, 10)], min_sample_mib=256)
    rt = below["restore_time"]
    assert rt["status"] == "sample_too_small" and rt["hours_per_100gb"] is None
    assert (rt["kind"], rt["target"], rt["restored_bytes"]) == ("files", "city-bes01", 256 * MIB - 1)
    assert rt["text"] == u"最慢路径为附件文件 city-bes01：样本仅 256.0 MiB，不足以推算恢复 100 GiB 所需时间（至少需 256.0 MiB）"
    assert below["paths"][0]["hours_per_100gb"] is None and below["paths"][0]["mb_per_second"] == 25.6
    # The existing keys keep their meaning: the aggregate rate and the slowest path's raw figure.
    assert below["hours_per_100gb"] == 1.11 and below["slowest"]["hours_per_100gb"] == 1.11
    assert below["slowest"]["projectable"] is False


def test_the_headline_is_the_slowest_path_not_the_average_or_the_fastest():
    # The lab's case at a projectable size: a fast database restore and a slow file restore.
    results = [ok("sys_rman", "city_a", 4 * GIB, 40), ok("sys_dump", "hongze", GIB, 20),
               ok("files", "city-bes01", 512 * MIB, 60)]
    s = bf.backup_verify_summary(results)
    rt = s["restore_time"]
    assert rt["status"] == "projected" and (rt["kind"], rt["target"]) == ("files", "city-bes01")
    assert rt["name"] == u"附件文件 city-bes01"
    assert rt["hours_per_100gb"] == round(100 * GIB / (512 * MIB / 60) / 3600, 2) == 3.33
    assert s["hours_per_100gb"] < rt["hours_per_100gb"]  # the average would flatter it
    assert [p["target"] for p in s["paths"]] == ["city-bes01", "hongze", "city_a"]
    assert rt["not_projected"] == [] and u"未推算" not in rt["text"]


def test_all_samples_too_small_name_the_slowest_and_give_no_number():
    # What the lab measures: a 2.5 MB file restore projecting 14.95 h, small database restores.
    results = [ok("sys_rman", "city_a", 40 * MIB, 4), ok("sys_dump", "hongze", 9 * MIB, 3),
               ok("files", "city-bes01", 2621440, 1.338), ok("files", "hzq-bes01", 3 * MIB, 1.0)]
    s = bf.backup_verify_summary(results)
    rt = s["restore_time"]
    assert rt["status"] == "sample_too_small" and rt["hours_per_100gb"] is None and rt["mb_per_second"] is None
    assert (rt["kind"], rt["target"]) == ("files", "city-bes01") == (s["slowest"]["kind"], s["slowest"]["target"])
    assert rt["text"] == (u"最慢路径为附件文件 city-bes01：样本仅 2.5 MiB，不足以推算恢复 100 GiB 所需时间"
                          u"（至少需 256.0 MiB）；其余 3 项样本也都不足 256.0 MiB，均未推算")
    assert u"小时" not in rt["text"] and "14.9" not in rt["text"]
    assert [p["target"] for p in rt["not_projected"]] == ["city-bes01", "hongze", "hzq-bes01", "city_a"]
    assert s["verdict"] == "pass" and s["estate_restore_hours"] is None


def test_mixed_samples_project_the_slowest_large_one_and_list_the_small_ones():
    results = [ok("sys_rman", "city_a", 2 * GIB, 30), ok("sys_dump", "hongze", GIB, 60),
               ok("files", "city-bes01", 2621440, 1.338)]
    rt = bf.backup_verify_summary(results)["restore_time"]
    assert rt["status"] == "projected" and (rt["kind"], rt["target"]) == ("sys_dump", "hongze")
    assert rt["hours_per_100gb"] == round(100 * 60 / 3600, 2)
    assert rt["not_projected"] == [{"kind": "files", "target": "city-bes01", "restored_bytes": 2621440}]
    assert rt["text"].endswith(u"；另有 1 项样本不足 256.0 MiB，未推算：附件文件 city-bes01（样本仅 2.5 MiB）")
    # A lower minimum lets the small file restore in, and it is the slowest.
    low = bf.backup_verify_summary(results, min_sample_mib=1)["restore_time"]
    assert (low["status"], low["target"], low["hours_per_100gb"]) == ("projected", "city-bes01", 15.22)
    assert low["hours_per_100gb"] == round(100 * GIB / (2621440 / 1.338) / 3600, 2)


def test_failed_and_untimed_restores_are_no_path():
    results = [ok("files", "bes01", 0, 0), {"kind": "sys_rman", "target": "a", "result": "failed", "reason": "x"}]
    s = bf.backup_verify_summary(results)
    assert s["paths"] == [] and s["slowest"] is None
    assert s["restore_time"]["status"] == "not_measured" and s["restore_time"]["text"].startswith(u"没有成功且计时的恢复")


def test_the_objective_is_judged_on_a_projectable_sample_only():
    small = [ok("files", "city-bes01", 2621440, 1.338)]
    s = bf.backup_verify_summary(small, estate_bytes=200 * GIB)
    assert s["estate_restore_hours"] is None and s["verdict"] == "fail"
    assert s["problems"] == ["没有测得至少 256.0 MiB 的恢复样本，无法判断 200.0 GiB 的恢复能否在 12 小时内完成（最慢路径为"
                             "附件文件 city-bes01：样本仅 2.5 MiB，不足以推算恢复 100 GiB 所需时间（至少需 256.0 MiB））"]
    mixed = small + [ok("sys_rman", "city_a", 10 * GIB, 360)]
    s = bf.backup_verify_summary(mixed, estate_bytes=200 * GIB)
    assert s["estate_restore_hours"] == 2.0 and s["verdict"] == "pass"


def test_an_archived_summary_is_judged_again_with_the_inspection_threshold():
    s = bf.backup_verify_summary([ok("sys_rman", "city_a", 300 * MIB, 10), ok("files", "city-bes01", 2621440, 1.338)])
    assert s["restore_time"]["status"] == "projected"
    assert bf.summary_restore_time(s, 256) == s["restore_time"]
    stricter = bf.summary_restore_time(s, 512)
    assert stricter["status"] == "sample_too_small" and stricter["target"] == "city-bes01"
    assert stricter["min_sample_bytes"] == 512 * MIB
    legacy = {k: v for k, v in s.items() if k not in ("paths", "restore_time", "min_sample_bytes")}
    assert bf.summary_restore_time(legacy, 256)["status"] == "unknown"
    with pytest.raises(ValueError, match="inspection_report_restore_min_sample_mib=0 is not allowed"):
        bf.summary_restore_time(s, 0)


def test_sysrman_archive_push_accepts_both_config_forms():
    conf, stanza = "/etc/sys_rman/sys_rman.conf", "city_a"
    ours = "/opt/bin/sys_rman --config=/etc/sys_rman/sys_rman.conf --stanza=city_a archive-push %p"
    assert bf.sysrman_archive_push(ours, conf, stanza)
    # The lab's trailing comment (pgBackRest's check wants the word) is the shell's business.
    assert bf.sysrman_archive_push(ours + " # pgbackrest", conf, stanza)
    # The vendor sys_backup.sh writes --config <file> (K37); options in another order count too.
    assert bf.sysrman_archive_push("/home/kingbase/cluster/kingbase/bin/sys_rman --config /etc/sys_rman/sys_rman.conf "
                                   "--stanza city_a archive-push %p", conf, stanza)
    assert bf.sysrman_archive_push("sys_rman --stanza=city_a --config '/etc/sys_rman/sys_rman.conf' archive-push %p",
                                   conf, stanza)
    for bad in ["", "exit 0", ours.replace("city_a", "city_b"), ours.replace("archive-push", "archive-get"),
                ours.replace("/etc/sys_rman/sys_rman.conf", "/etc/sys_rman/other.conf"),
                "pgbackrest --config=/etc/sys_rman/sys_rman.conf --stanza=city_a archive-push %p",
                "sys_rman --config '/etc/sys_rman/sys_rman.conf --stanza=city_a archive-push %p"]:
        assert not bf.sysrman_archive_push(bad, conf, stanza), bad


# --- A vendor's sys_backup.sh schedule: adopt or retire (kingbase_backup_vendor_setup) ------------------------

PATTERN = r"^[A-Z][A-Z0-9]{1,9}-[0-9]{4}-[0-9]{3,6}$"
KB_BIN = "/home/kingbase/cluster/kingbase/bin"
VENDOR_FULL = ("%s/sys_rman --config=/home/kingbase/kbbr_repo/sys_rman.conf --stanza=kingbase --archive-copy "
               "--type=full backup >>/tmp/sys_rman_backup_full.log 2>&1" % KB_BIN)
VENDOR_INCR = VENDOR_FULL.replace("full", "incr")
KBHA = ". /etc/profile;%s/kbha -A daemon -f /home/kingbase/cluster/kingbase/etc/repmgr.conf" % KB_BIN
VENDOR_ARCHIVE = "%s/sys_rman --config /home/kingbase/kbbr_repo/sys_rman.conf --stanza=kingbase archive-push %%p" % KB_BIN


def discovered(*crons, archive=VENDOR_ARCHIVE):
    """discovery_facts.kingbase.backup as estate_discover records it."""
    return {"archive_command": archive, "tool": "sys_rman", "config": "/home/kingbase/kbbr_repo/sys_rman.conf",
            "stanza": "kingbase", "cron": [dict(c) for c in crons]}


def cron(command, active=True, schedule="0 2 */7 * *", source="/etc/cron.d/KINGBASECRON"):
    return {"source": source, "schedule": schedule, "command": command, "active": active}


def member(setup="adopt", change="", backup=None, methods=("sys_rman",), required=True):
    return {"methods": list(methods), "setup": setup, "change": change, "backup": backup, "discovery_required": required}


def test_vendor_backup_command_counts_backups_and_sys_backup_only():
    assert bf.vendor_backup_command(VENDOR_FULL)
    assert bf.vendor_backup_command("/opt/kb/bin/sys_backup.sh start")
    assert bf.vendor_backup_command("sys_rman --config /r/sys_rman.conf --stanza kingbase --type=incr backup")
    for other in [KBHA, VENDOR_ARCHIVE, "sys_rman --config=/r/s.conf --stanza=k expire",
                  "sys_rman --config=/r/s.conf --stanza=k info", "/usr/bin/find /backup -mtime +7 -delete", ""]:
        assert not bf.vendor_backup_command(other), other


def test_sysrman_options_reads_both_config_forms():
    assert bf.sysrman_options(VENDOR_FULL) == {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase"}
    assert bf.sysrman_options(VENDOR_ARCHIVE) == {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase"}
    assert bf.sysrman_options("sys_rman --stanza city_a --config '/etc/x y.conf' backup") == {
        "config": "/etc/x y.conf", "stanza": "city_a"}
    assert bf.sysrman_options("sys_rman backup") == {"config": None, "stanza": None}
    assert bf.sysrman_options("sys_rman --config") == {"config": None, "stanza": None}


def test_vendor_entries_carry_their_config_in_either_form():
    backup = discovered(cron(VENDOR_FULL), cron(VENDOR_INCR.replace("--config=", "--config "), schedule="0 4 */1 * *"),
                        cron(VENDOR_FULL, active=False), cron(KBHA, schedule="*/1 * * * *"))
    found = bf.vendor_backup_entries(backup)
    assert [(e["schedule"], e["config"], e["stanza"]) for e in found] == [
        ("0 2 */7 * *", "/home/kingbase/kbbr_repo/sys_rman.conf", "kingbase"),
        ("0 4 */1 * *", "/home/kingbase/kbbr_repo/sys_rman.conf", "kingbase")]


def test_greenfield_cluster_is_scheduled_by_the_project():
    plan = bf.sysrman_vendor_plan({"city-kb01": member(required=False), "city-kb02": member(required=False)}, "city_a", PATTERN)
    assert plan == {"stanza": "city_a", "vendor_hosts": [], "entries": {}, "adopt": False, "retire": [],
                    "project_schedules": True, "archive": {"city-kb01": None, "city-kb02": None}, "repository": None,
                    "problems": []}


def test_adopt_keeps_the_vendors_schedule_and_archive_command():
    vendor = discovered(cron(VENDOR_FULL), cron(VENDOR_INCR, schedule="0 4 */1 * *"))
    plan = bf.sysrman_vendor_plan({"qjp-kb01": member(backup=discovered()), "qjp-kb02": member(backup=vendor)},
                                  "kingbase", PATTERN)
    assert plan["vendor_hosts"] == ["qjp-kb02"] and plan["adopt"] is True
    assert plan["project_schedules"] is False and plan["retire"] == [] and plan["problems"] == []
    assert plan["archive"] == {"qjp-kb01": {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase"},
                               "qjp-kb02": {"config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase"}}


def test_retire_with_a_change_id_replaces_the_vendors_schedule():
    vendor = discovered(cron(VENDOR_FULL))
    plan = bf.sysrman_vendor_plan({"qjp-kb01": member("retire", "CR-2026-0142", discovered()),
                                   "qjp-kb02": member("retire", "CR-2026-0142", vendor)}, "kingbase", PATTERN)
    assert plan["retire"] == ["qjp-kb02"] and plan["adopt"] is False and plan["project_schedules"] is True
    assert plan["archive"] == {"qjp-kb01": None, "qjp-kb02": None} and plan["problems"] == []


def test_retire_without_a_change_id_is_refused_as_two_schedules():
    plan = bf.sysrman_vendor_plan({"qjp-kb01": member("retire", "", discovered()),
                                   "qjp-kb02": member("retire", "soon", discovered(cron(VENDOR_FULL)))}, "kingbase", PATTERN)
    assert plan["retire"] == [] and plan["project_schedules"] is True
    assert [p["message"] for p in plan["problems"]] == [
        "qjp-kb01: kingbase_backup_vendor_retire_change = (not set): retiring the vendor's backup schedule is a recorded "
        "change and this is not a change id; allowed: a string matching %s, e.g. CR-2026-0142, beside "
        "kingbase_backup_vendor_setup: retire" % PATTERN,
        "qjp-kb02: kingbase_backup_vendor_retire_change = 'soon': retiring the vendor's backup schedule is a recorded "
        "change and this is not a change id; allowed: a string matching %s, e.g. CR-2026-0142, beside "
        "kingbase_backup_vendor_setup: retire" % PATTERN,
        "qjp-kb02: kingbase_backup_vendor_setup = 'retire': the vendor's backup entries (/etc/cron.d/KINGBASECRON: "
        "0 2 */7 * *) would stay beside the project's kingbase-kingbase-full/-incr jobs: a backup scheduled twice; "
        "allowed: adopt, or retire with kingbase_backup_vendor_retire_change: <change id>"]


def test_a_cluster_choosing_differently_is_refused_and_nothing_is_retired():
    plan = bf.sysrman_vendor_plan({"a": member("adopt", "", discovered(cron(VENDOR_FULL))),
                                   "b": member("retire", "CR-2026-0001", discovered(cron(VENDOR_INCR)))}, "k", PATTERN)
    assert plan["adopt"] is True and plan["retire"] == [] and plan["project_schedules"] is False
    assert [(p["host"], p["variable"], p["value"]) for p in plan["problems"]] == [
        ("a", "kingbase_backup_vendor_setup", "'adopt'"), ("b", "kingbase_backup_vendor_setup", "'retire'")]
    assert plan["problems"][0]["message"].startswith(
        "a: kingbase_backup_vendor_setup = 'adopt': the members of cluster k with the vendor's backup entries (a, b) "
        "choose differently")


def test_undiscovered_vendor_host_and_bad_values_are_refused():
    plan = bf.sysrman_vendor_plan({"x": member("keep", "", None), "y": member("adopt", "CR-2026-0142", discovered()),
                                   "z": member("adopt", "", None, required=False)}, "k", PATTERN)
    assert [(p["host"], p["variable"], p["value"], p["allowed"]) for p in plan["problems"]] == [
        ("x", "discovery_facts.kingbase.backup", "(not set)",
         "run playbooks/discover.yml for the host and review host_vars/x/discovered.yml first"),
        ("x", "kingbase_backup_vendor_setup", "'keep'",
         "adopt (keep the vendor's sys_backup.sh schedule) or retire (replace it, with kingbase_backup_vendor_retire_change)"),
        ("y", "kingbase_backup_vendor_retire_change", "'CR-2026-0142'",
         "a change id only beside kingbase_backup_vendor_setup: retire; remove it otherwise")]
    assert plan["project_schedules"] is True and plan["vendor_hosts"] == []


def test_adopt_refuses_a_member_whose_archive_command_names_no_sys_rman():
    plan = bf.sysrman_vendor_plan({"a": member("adopt", "", discovered(cron(VENDOR_FULL))),
                                   "b": member("adopt", "", dict(discovered(), archive_command="exit 0", config=None, stanza=None))},
                                  "k", PATTERN)
    assert [(p["host"], p["variable"]) for p in plan["problems"]] == [("b", "discovery_facts.kingbase.backup.archive_command")]
    assert plan["archive"]["b"] == {"config": None, "stanza": None}


def test_dump_only_cluster_with_vendor_entries_is_never_scheduled_twice():
    plan = bf.sysrman_vendor_plan({"a": member("adopt", "", discovered(cron(VENDOR_FULL)), methods=["sys_dump"])}, "k", PATTERN)
    assert plan["project_schedules"] is False and plan["archive"] == {"a": None} and plan["problems"] == []
    # Not discovered, but no sys_rman schedule of the project's to collide with: not refused.
    plan = bf.sysrman_vendor_plan({"a": member("adopt", "", None, methods=["sys_dump"])}, "k", PATTERN)
    assert plan["problems"] == [] and plan["project_schedules"] is False


def test_plans_read_hostvars_with_the_roles_defaults():
    hostvars = {"qjp-kb01": {"kingbase_cluster_name": "kingbase", "kingbase_backup_methods": ["sys_rman"],
                             "adoption_mode_default": "observe", "discovery_facts": {"kingbase": {"backup": discovered()}}},
                "qjp-kb02": {"kingbase_cluster_name": "kingbase", "kingbase_backup_methods": ["sys_rman"],
                             "adoption_mode_default": "observe",
                             "discovery_facts": {"kingbase": {"backup": discovered(cron(VENDOR_FULL))}}},
                "city-kb01": {"adoption_mode_default": "managed"}}
    plans = bf.sysrman_vendor_plans(hostvars, ["qjp-kb01", "qjp-kb02", "city-kb01"], PATTERN)
    assert sorted(plans) == ["city-kb01", "kingbase"]
    assert plans["kingbase"]["adopt"] is True and plans["kingbase"]["vendor_hosts"] == ["qjp-kb02"]
    assert plans["city-kb01"]["project_schedules"] is False and plans["city-kb01"]["problems"] == []  # sys_dump by default


def test_retire_cron_comments_out_the_vendors_backups_only():
    text = ("SHELL=/bin/bash\n*/1 * * * * kingbase %s\n0 2 */7 * * kingbase %s\n0 4 */1 * * kingbase %s\n"
            "#0 3 * * * kingbase %s\n" % (KBHA, VENDOR_FULL, VENDOR_INCR, VENDOR_FULL))
    out = bf.sysrman_retire_cron(text, "CR-2026-0142")
    mark = ("# huaian-platform-ops: retired by CR-2026-0142 (the project's kingbase_backup jobs schedule this "
            "cluster's backups)")
    assert out["retired"] == ["0 2 */7 * * kingbase " + VENDOR_FULL, "0 4 */1 * * kingbase " + VENDOR_INCR]
    assert out["text"] == ("SHELL=/bin/bash\n*/1 * * * * kingbase %s\n%s\n#0 2 */7 * * kingbase %s\n%s\n"
                           "#0 4 */1 * * kingbase %s\n#0 3 * * * kingbase %s\n"
                           % (KBHA, mark, VENDOR_FULL, mark, VENDOR_INCR, VENDOR_FULL))
    # Idempotent: a second pass retires nothing and changes nothing.
    assert bf.sysrman_retire_cron(out["text"], "CR-2026-0142") == {"text": out["text"], "retired": []}
    # A user crontab (no user field) and the vendor's --config <file> form.
    user = "0 2 * * 0 %s --config /r/sys_rman.conf --stanza=kingbase --type=full backup\n" % (KB_BIN + "/sys_rman")
    assert bf.sysrman_retire_cron(user, "CR-2026-0142")["retired"] == [user.rstrip("\n")]


def test_info_summary():
    info = ('[{"name": "kingbase", "status": {"code": 0, "message": "ok"}, "backup": ['
            '{"label": "20261207-020001F", "type": "full", "timestamp": {"start": 1, "stop": 100}},'
            '{"label": "20261207-020001F_20261208-040001I", "type": "incr", "timestamp": {"start": 200, "stop": 300}}]}]')
    assert bf.sysrman_info_summary(info) == {
        "stanza": "kingbase", "status": "ok", "backups": 2,
        "last": {"label": "20261207-020001F_20261208-040001I", "type": "incr", "stop": 300},
        "last_full": {"label": "20261207-020001F", "type": "full", "stop": 100}}
    assert bf.sysrman_info_summary('[{"name": "k", "status": {"message": "no valid backups"}, "backup": []}]') == {
        "stanza": "k", "status": "no valid backups", "backups": 0, "last": None, "last_full": None}
    assert bf.sysrman_info_summary("ERROR: [031]: invalid option") == {"error": "not sys_rman info JSON: ERROR: [031]: invalid option"}


def test_the_vendors_archive_command_stays_only_on_an_adopted_vendor_cluster_with_a_repository():
    vendor = {"kingbase": {"present": True, "config_owner": "vendor", "backup": {"config": "/data/sys_rman/sys_rman.conf"}}}
    keeps = bf.sysrman_keeps_vendor_archive
    assert keeps(vendor, "adopt") and keeps(vendor, None)
    assert not keeps(vendor, "retire")
    assert not keeps({"kingbase": dict(vendor["kingbase"], config_owner="project")}, "adopt")
    assert not keeps({"kingbase": dict(vendor["kingbase"], backup={"config": ""})}, "adopt")
    assert not keeps({"kingbase": dict(vendor["kingbase"], present=False)}, "adopt")
    assert not keeps({}, "adopt") and not keeps(None, "adopt") and not keeps("", "adopt")


CRON_FULL = ("/home/kingbase/cluster/kingbase/bin/sys_rman --config=/home/kingbase/kbbr_repo/sys_rman.conf "
               "--stanza=kingbase --archive-copy --type=full backup >>/tmp/sys_rman_backup_full.log 2>&1")
CRON_INCR = ("/home/kingbase/cluster/kingbase/bin/sys_rman --config /home/kingbase/kbbr_repo/sys_rman.conf "
               "--stanza=kingbase --archive-copy --type incr backup 2>&1 >>/tmp/sys_rman_backup_incr.log")


def test_the_vendors_scheduled_backups_become_jobs_run_as_cron_runs_them_full_first():
    entries = [
        {"source": "/etc/cron.d/KINGBASECRON", "user": "kingbase", "schedule": "0 4 */1 * *", "command": CRON_INCR},
        {"source": "/etc/cron.d/KINGBASECRON", "user": "kingbase", "schedule": "0 2 */7 * *", "command": CRON_FULL},
        {"source": "/etc/cron.d/KINGBASECRON", "user": "kingbase", "schedule": "0 2 */7 * *", "command": CRON_FULL}]
    jobs = bf.sysrman_vendor_jobs(entries)
    assert [(j["name"], j["type"], j["user"]) for j in jobs] == [
        ("vendor-kingbase-full", "full", "kingbase"), ("vendor-kingbase-incr", "incr", "kingbase")]
    assert jobs[0]["argv"] == ["/home/kingbase/cluster/kingbase/bin/sys_rman", "--config=/home/kingbase/kbbr_repo/sys_rman.conf",
                               "--stanza=kingbase", "--archive-copy", "--type=full", "backup"]
    # The descriptor of 2>&1 is not an argument of sys_rman.
    assert jobs[1]["argv"][-3:] == ["--type", "incr", "backup"]
    assert not any("error" in j for j in jobs)


def test_a_vendor_entry_that_is_not_one_sys_rman_backup_is_returned_with_its_reason():
    entries = [
        {"user": "kingbase", "command": "/home/kingbase/cluster/kingbase/bin/sys_backup.sh start"},
        {"user": "kingbase", "command": CRON_FULL.replace("--type=full ", "")},
        {"user": "kingbase", "command": CRON_FULL.replace(" >>", " && rm -rf /tmp/x >>")},
        {"command": CRON_FULL.replace("--stanza=kingbase ", "")}]
    jobs = bf.sysrman_vendor_jobs(entries, run_user="kingbase")
    reasons = sorted(j["error"] for j in jobs)
    assert reasons == ["more than one command: only a single sys_rman command with its log redirection is run",
                       "no --config and --stanza", "no --type=full|diff|incr",
                       "not a sys_rman backup command (sys_backup.sh or a wrapper is not run outside its schedule)"]
    assert {j["user"] for j in jobs} == {"kingbase"}


def test_the_repository_options_of_a_vendor_configuration_the_stanza_winning_over_global():
    text = ("# Genarate by script, should not change manually\n[kingbase]\nkb1-path=/home/kingbase/cluster/kingbase/data\n"
            "repo1-retention-full=3\n\n[global]\nrepo1-path=/home/kingbase/kbbr_repo\nrepo1-retention-full=5\n"
            "repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=s3cret\nlog-path=/tmp/\nprocess-max=4\n")
    assert bf.sysrman_repo_options(text, "kingbase") == {"options": {
        "repo1-cipher-pass": "s3cret", "repo1-cipher-type": "aes-256-cbc", "repo1-path": "/home/kingbase/kbbr_repo",
        "repo1-retention-full": "3"}}
    remote = "[global]\nrepo1-host=10.233.10.12\nrepo1-path=/home/kingbase/kbbr_repo\n"
    assert bf.sysrman_repo_options(remote, "kingbase") == {
        "error": "the repository is on 10.233.10.12 (repo1-host): restore-test it there"}
    assert bf.sysrman_repo_options("[global]\nlog-path=/tmp\n", "kingbase") == {"error": "no repo1-path in [global] or [kingbase]"}
    assert bf.sysrman_repo_options("repo1-path=/x\n", "kingbase") == {"error": "line 1 is not key=value in a section"}


def test_the_vendors_repository_is_on_the_member_whose_configuration_names_no_repo1_host():
    repo = dict(discovered(cron(VENDOR_FULL)), repo_path="/home/kingbase/kbbr_repo",
                options={"global": {"repo1-path": "/home/kingbase/kbbr_repo"}, "kingbase": {"kb1-path": "/d"}})
    # sys_backup.sh creates the repository's directory on every node: a directory alone does not make the repository.
    other = dict(discovered(), repo_path="/home/kingbase/kbbr_repo",
                 options={"global": {"repo1-host": "10.0.0.12", "repo1-path": "/home/kingbase/kbbr_repo"}})
    plan = bf.sysrman_vendor_plan({"kb1": member(backup=other), "kb2": member(backup=repo)}, "kingbase", PATTERN)
    assert plan["repository"] == {"host": "kb2", "path": "/home/kingbase/kbbr_repo",
                                  "config": "/home/kingbase/kbbr_repo/sys_rman.conf", "stanza": "kingbase"}
    assert plan["adopt"] and plan["vendor_hosts"] == ["kb2"]
    assert bf.sysrman_vendor_plan({"kb1": member(backup=other)}, "kingbase", PATTERN)["repository"] is None


def test_vendor_runs_report_rc_time_and_sys_rmans_first_error():
    full = {"name": "vendor-kingbase-full", "type": "full"}
    incr = {"name": "vendor-kingbase-incr", "type": "incr"}
    results = [
        {"item": full, "rc": 0, "delta": "0:00:12.500000", "stderr_lines": [], "stdout_lines": []},
        {"item": incr, "rc": 56, "delta": "0:00:01.000000",
         "stderr_lines": ["ERROR: [056]: unable to find primary cluster - cannot proceed", "INFO: backup command end: aborted"],
         "stdout_lines": []},
        {"item": full, "skipped": True}]
    runs = bf.sysrman_vendor_run_results(results)
    assert runs == [
        {"job": "vendor-kingbase-full", "type": "full", "rc": 0, "duration_seconds": 12.5, "error": "", "skipped": False},
        {"job": "vendor-kingbase-incr", "type": "incr", "rc": 56, "duration_seconds": 1.0,
         "error": "ERROR: [056]: unable to find primary cluster - cannot proceed", "skipped": False},
        {"job": "vendor-kingbase-full", "type": "full", "rc": 0, "duration_seconds": 0.0, "error": "", "skipped": True}]
    assert bf.sysrman_vendor_run_line(runs[1], "kb2") == (
        "kb2: vendor-kingbase-incr failed (rc 56): ERROR: [056]: unable to find primary cluster - cannot proceed")
    # No rc at all (the module failed before running it) counts as a failure.
    assert bf.sysrman_vendor_run_results([{"item": incr, "msg": "become failed"}])[0]["error"] == "become failed"


def test_new_backups_are_the_labels_only_the_second_info_lists():
    def info(*labels):
        return json.dumps([{"name": "kingbase", "backup": [
            {"label": label, "type": "incr" if "I" in label[-1:] else "full", "prior": None,
             "info": {"size": 100, "repository": {"delta": 10}}, "timestamp": {"stop": 5}} for label in labels]}])
    before = info("20261207-020000F")
    after = info("20261207-020000F", "20261207-210000F", "20261207-210000F_20261207-210100I")
    new = bf.sysrman_new_backups((before, after))
    assert [(b["type"], b["label"]) for b in new] == [("full", "20261207-210000F"), ("incr", "20261207-210000F_20261207-210100I")]
    assert new[0]["line"] == "kingbase full 20261207-210000F (100 bytes, 10 bytes stored)"
    assert bf.sysrman_new_backups((before, before)) == []
    # A repository sys_rman could not read before: everything it lists after is new.
    assert len(bf.sysrman_new_backups(("ERROR: [055]", after))) == 3


def test_a_vendor_job_problem_names_host_entry_and_what_is_allowed():
    job = bf.sysrman_vendor_jobs([{"source": "/etc/cron.d/KINGBASECRON", "schedule": "0 1 * * *", "user": "kingbase",
                                   "command": "/opt/kb/bin/sys_backup.sh start"}])[0]
    assert bf.sysrman_vendor_job_problem(job, "kb2") == (
        "kb2: /etc/cron.d/KINGBASECRON (0 1 * * *) /opt/kb/bin/sys_backup.sh start: not a sys_rman backup command "
        "(sys_backup.sh or a wrapper is not run outside its schedule); allowed: one `sys_rman --config <file> --stanza "
        "<name> --type=full|diff|incr backup` with its log redirection (run sys_backup.sh's own steps by hand)")
