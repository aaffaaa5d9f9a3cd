"""The reports a person reads, rendered with representative data: Beijing time, Chinese throughout.

Each template is rendered as Ansible renders it (trim_blocks, Ansible's core filters and the project's
filter plugins) from data shaped like a real run's. A test fails when a time shows as UTC (a 'UTC' label
or an ISO time ending in Z) or when an English phrase the reports used to carry (or a client must not
read) appears. Codes, host names, ids and paths stay as they are and are not judged.
"""
import importlib
import pathlib
import re

import jinja2
import pytest
from ansible.plugins.filter.core import FilterModule as CoreFilters
from ansible.plugins.filter.mathstuff import FilterModule as MathFilters

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILTER_FILES = ("report_filters", "inspection_filters", "baseline_filters", "backup_filters", "migration_filters")

# What a client must not read: the phrases these reports carried before, and English verdicts, statuses
# and units (matched as whole words, case-insensitive).
ENGLISH = ["UTC", "match", "differ", "differences", "rows compared", "tables", "checksums", "preview",
           "not applicable", "source = target", "never succeeded", "last run failed", "is not 0700",
           "no backup was verified", "success rate", "restored contents", "was not restored", "objective",
           "pass", "fail", "failed", "success", "ok", "new", "open", "resolved", "critical", "warning",
           "hours", "none", "None", "True", "False", "hongze", "city"]
UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*Z\b|\(UTC\)|（UTC）")
# A person-readable time must carry the +08:00 offset (run ids such as 20261206T104012Z are ids).
ANY_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<offset>\s*[+-]\d{2}:?\d{2}|Z)?")


def environment(search):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(ROOT / s) for s in search]), trim_blocks=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    env.filters.update(CoreFilters().filters())
    env.filters.update(MathFilters().filters())
    for name in FILTER_FILES:
        env.filters.update(importlib.import_module(name).FilterModule().filters())
    return env


def render(search, name, **variables):
    variables.setdefault("ansible_managed", "Ansible managed")
    return environment(search).get_template(name).render(**variables)


def shown(html):
    """What a browser shows of an HTML report: no style sheet, comments or tags."""
    html = re.sub(r"<style>.*?</style>|<!--.*?-->", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def english_in(text):
    """The forbidden English words and phrases in text, ignoring codes (UPPER_CASE), paths and ids."""
    cleaned = re.sub(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", " ", text)          # finding codes
    cleaned = re.sub(r"[\w.-]*/[\w./-]*", " ", cleaned)                          # paths
    cleaned = re.sub(r"\b[\w-]*\d[\w-]*\b", " ", cleaned)                        # ids, host names with digits
    cleaned = re.sub(r"\b(?:verify|mark|before|hongze-xinchuang)-[\w-]+", " ", cleaned)
    found = []
    for phrase in ENGLISH:
        flags = 0 if phrase in ("UTC", "None", "True", "False") else re.IGNORECASE
        if re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(phrase), cleaned, flags):
            found.append(phrase)
    return found


def assert_beijing_and_chinese(text, expected_times, allowed=()):
    utc = [m.group(0) for m in UTC_TIME.finditer(text)]
    assert not utc, utc
    for m in ANY_TIME.finditer(text):
        assert m.group("offset") and m.group("offset").strip().replace(":", "") == "+0800", m.group(0)
    for t in expected_times:
        assert t in text, t
    assert [w for w in english_in(text) if w not in allowed] == []


# --- inspection (roles/inspection_report/templates) ---------------------------------------------------------

def inspection_summary(deep=True):
    finding = {"code": "HOST_DISK_USED", "severity": "warning", "status": "open", "host": "city-kb01",
               "platform": "city", "platform_name": "市本级", "subject": "/data", "message": "文件系统 /data 使用率 85%",
               "action": "清理或扩容", "first_seen": "2026-11-29T02:00:05Z"}
    restore = {"run": "20261201T180000Z", "verdict": "pass", "success_rate": 1.0, "succeeded": 4, "checks": 4,
               "mb_per_second": 39.9, "hours_per_100gb": 0.71, "objective_hours": 12}
    restore["restore_time"] = importlib.import_module("backup_filters").restore_time(
        [{"kind": "files", "target": "hzq-bes01", "restored_bytes": 2936012, "restore_seconds": 1.7, "projectable": False}],
        256 * 1024 ** 2)
    return {
        "run": "20261206T104012Z", "time": "2026-12-06T10:40:12Z", "kind": "deep" if deep else "weekly",
        "hosts": 2, "hosts_reached": 2, "counts": {"critical": 0, "warning": 1},
        "register": {"new": 0, "open": 1, "resolved": 1},
        "platforms": [{"code": "city", "name": "市本级", "status": "warning", "hosts": 1, "critical": 0, "warning": 1},
                      {"code": "hongze", "name": "洪泽区", "status": "ok", "hosts": 1, "critical": 0, "warning": 0}],
        "findings": [finding],
        "resolved": [{"code": "BES_HEAP_HIGH", "host": "hzq-bes01", "subject": "", "first_seen": "2026-11-22T02:00:00Z",
                      "message": "老年代占用 92%"}],
        "trends": [{"family": "disk_used_pct", "runs": ["20261129T020005Z", "20261206T104012Z"],
                    "series": [{"label": "city-kb01 /data", "points": [["20261129T020005Z", 80], ["20261206T104012Z", 85]]}]}],
        "forecast": [{"host": "city-kb01", "metric": "disk_used_pct:/data", "label": "磁盘使用率 /data", "current": 85,
                      "per_day": 0.7, "days_left": 21.4, "points": 2, "span_days": 7.4}],
        "failover": [{"cluster": "city_a", "members": ["city-kb01", "city-kb02"], "streaming": ["city-kb02"],
                      "ready": True, "reasons": []}],
        "restore_test": restore if deep else {},
    }


@pytest.mark.parametrize("name", ["summary.md.j2", "report.html.j2"])
@pytest.mark.parametrize("deep", [True, False])
def test_inspection_reports_say_beijing_time_in_chinese(name, deep):
    s = inspection_summary(deep)
    text = render(["roles/inspection_report/templates"], name, __inspection_report_summary=s,
                  __inspection_report_records=[{"host": "city-kb01", "platform_name": "市本级",
                                                "components": ["host", "kingbase", "backup"], "reached": True},
                                               {"host": "city-pv01", "platform_name": "市本级",
                                                "components": ["host", "preview", "service_probe"], "reached": True}],
                  inspection_report_utc_offset="+08:00",
                  inspection_report_trends=[{"family": "disk_used_pct", "title": "磁盘使用率", "unit": "%"}])
    # 10:40:12Z is 18:40:12 in Beijing; the register's first-seen times and the chart's axis follow.
    expected = ["2026-12-06 18:40:12 +08:00"]
    if name.endswith(".html.j2"):
        expected += ["主机、数据库、备份", "主机、文档预览、移动应用与短信网关探测", "2026-11-29 10:00:05 +08:00", "2026-11-22 10:00:00 +08:00", "11-29 10:00", "12-06 18:40"]
    # 'critical'/'warning'/'ok' are CSS classes in the HTML: judged on the text a browser shows.
    assert_beijing_and_chinese(shown(text), expected)


# --- drift (playbooks/templates/drift_report.*) ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["drift_report.md.j2", "drift_report.html.j2"])
def test_drift_reports_say_beijing_time(name):
    result = {"run": "20261206T104012Z", "inventory": "lab", "baseline_dir": "baselines/lab", "operator": "ops",
              "git_commit": "0123456789abcdef", "drifted": ["city-kb01"], "clean": ["city-bes01"], "no_baseline": [],
              "unreadable": [],
              "hosts": [{"host": "city-kb01", "status": "drift", "changes": 1, "key_count": 120,
                         "recorded": {"time": "2026-12-01T01:00:00Z", "change_id": "CR-2026-0001", "operator": "ops"}},
                        {"host": "city-bes01", "status": "clean", "changes": 0, "key_count": 80, "recorded": {}}],
              "changes": [{"host": "city-kb01", "source": "kingbase.conf", "key": "max_connections", "kind": "changed",
                           "old": "500", "new": "800"}]}
    text = render(["playbooks"], "templates/" + name, drift_result=result, drift_report_utc_offset="+08:00")
    assert_beijing_and_chinese(shown(text), ["2026-12-06 18:40:12 +08:00", "2026-12-01 09:00:00 +08:00"])


# --- backup check (playbooks/templates/backup_check_report.md.j2) -----------------------------------------------

def test_backup_check_report_in_chinese_with_every_kind_of_problem():
    import backup_filters as bf
    records = {
        "city-bak01": {"kingbase-city_a-full": {"result": "success", "finished": "2026-12-07T02:49:32+0800",
                                                "last_success": "2026-12-07T02:49:32+0800", "duration_seconds": 10.45,
                                                "size_bytes": 8192656, "consecutive_failures": 0},
                       "kingbase-city_a-incr": {}},
        "city-bes01": {"files": {"result": "failed", "finished": "2026-12-06T18:30:00Z", "consecutive_failures": 2,
                                 "error": "ssh: connect to host 10.231.10.31 port 22: Connection refused",
                                 "last_success": "2026-12-04T02:30:00+08:00"}},
    }
    findings = bf.backup_status_findings(
        records, "2026-12-06T19:00:00Z", {"kingbase-.*-full": 174, "kingbase-.*-incr": 54, "files": 30},
        rights=[{"host": "city-bak01", "path": "/backup/sys_rman", "mode": "0755"}],
        archiving=[{"host": "city-kb01", "segment": "000000010000000000000007", "failures": 3}])
    assert [f["kind"] for f in findings] == ["never", "failed", "stale", "rights", "archiving"]
    text = render(["playbooks"], "templates/backup_check_report.md.j2", __records=records, __findings=findings,
                  __checked_at="2026-12-06T19:00:00Z", backup_check_utc_offset="+08:00")
    assert_beijing_and_chinese(text, ["2026-12-07 03:00:00 +08:00", "2026-12-07 02:49:32 +08:00",
                                      "2026-12-07 02:30:00 +08:00", "2026-12-04 02:30:00 +08:00",
                                      "从未成功运行", "权限为 0755，应为 0700", "WAL 归档失败", "连续失败 2 次"],
                              # the job's own error output is quoted as the tool wrote it
                              allowed=("Connection refused",))
    assert "Connection refused" in text


# --- backup verify (playbooks/templates/backup_verify_report.md.j2) ---------------------------------------------

def verify_results():
    return [
        {"kind": "sys_dump", "host": "hzq-bak01", "platform": "hongze", "target": "hongze", "backup": "/backup/upload/hzq-kb01/kingbase/20261207T024922",
         "result": "success", "duration_seconds": 10.2, "restore_seconds": 6.1, "restored_bytes": 87494468,
         "compared": ["match: 2 tables, 20001 rows compared, 0 differences"]},
        {"kind": "sys_rman", "host": "city-bak01", "platform": "city", "target": "city_a", "backup": "20261207-024924F_20261207-024934I",
         "restore_point": "verify-20261206T184959Z", "restore_point_time": "2026-12-07T02:49:59.871234+08",
         "result": "success", "duration_seconds": 8.3, "restore_seconds": 5.0, "restored_bytes": 128821181,
         "compared": "match: 2 tables, 20002 rows compared, 0 differences"},
        {"kind": "files", "host": "city-bes01", "platform": "city", "target": "city-bes01", "backup": "15a8fff9", "snapshot_time": "2026-12-06T18:49:22.391042292Z",
         "result": "success", "restore_seconds": 1.623, "restored_bytes": 3574312, "sampled": 20, "matched": 20,
         "mismatches": [], "missing": [], "changed_since": []},
        {"kind": "files", "host": "hzq-bes01", "platform": "hongze", "target": "hzq-bes01", "backup": "77a3f077", "snapshot_time": "2026-12-07T02:49:22.536242912+08:00",
         "result": "failed", "restore_seconds": 1.656, "restored_bytes": 2977621, "sampled": 2, "matched": 1,
         "mismatches": ["/data/att/a.ofd"], "missing": [], "changed_since": [],
         "reason": "/data/att/a.ofd differs from the source"},
    ]


def test_backup_verify_report_in_chinese_with_beijing_times():
    import backup_filters as bf
    results = verify_results()
    summary = bf.backup_verify_summary(results, estate_bytes=2000 * 1024 ** 3)
    text = render(["playbooks"], "templates/backup_verify_report.md.j2", __results=results, __summary=summary,
                  backup_verify_run="20261206T184959Z", backup_verify_utc_offset="+08:00",
                  hostvars={"hzq-bak01": {"platform_name_zh": "洪泽区"}, "city-bak01": {"platform_name_zh": "淮安市（市级平台）"},
                            "city-bes01": {"platform_name_zh": "淮安市（市级平台）"}, "hzq-bes01": {"platform_name_zh": "洪泽区"}})
    # 'hongze' stays as the name of the Kingbase cluster (an id); the platform column says 洪泽区.
    assert_beijing_and_chinese(text, ["| 洪泽区 | 数据库逻辑备份 | hongze |", "开始于 2026-12-07 02:49:59 +08:00", "verify-20261206T184959Z（2026-12-07 02:49:59 +08:00）",
                                      "2026-12-07 02:49:22 +08:00", "一致：比对 2 张表、20001 行，无差异",
                                      "与源文件不一致：/data/att/a.ofd", "恢复成功率 75.0 % 低于要求的 99.0 %"],
                              allowed=("hongze",))


# --- migration (roles/migration/templates/report.md.j2) ------------------------------------------------------------

def test_migration_report_in_chinese_with_beijing_times():
    state = {
        "migration_id": "hongze-xinchuang", "platform": "hongze", "route": "physical", "traffic": "target",
        "primary_before": "hzq-kb01",
        "phases": {
            "precheck": {"ok": True, "finished": "2026-12-06T18:52:47Z", "change_id": "CR-2026-0001", "problems": [
                {"severity": "warning", "code": "DISK_SHORT", "message_zh": "目标 /data 可用空间不足"}]},
            "cutover": {"ok": True, "finished": "2026-12-06T19:10:00Z", "change_id": "CR-2026-0001", "moved": True,
                        "old_primary": "hzq-kb01", "new_primary": "hzq-xc-kb01", "hold_seconds": 4.2,
                        "checksums": {"compared": True, "ok": True, "tables": 2, "rows": 20001}},
            "verify": {"ok": False, "finished": "2026-12-06T19:12:30Z", "change_id": "CR-2026-0001",
                       "checks": ["数据校验：2 张表、20001 行，源与目标一致", "文档预览：未检查（未配置 migration_preview_check_url）",
                                  "hzq-xc-kb01 备份作业 kingbase-dump：成功"],
                       "problems": ["hzq-xc-bes01：BES 健康检查未通过 - Status code was 503"]},
        },
    }
    text = render(["roles/migration/templates"], "report.md.j2", migration_state=state, migration_id="hongze-xinchuang",
                  __migration_phases=["precheck", "prepare", "replicate", "sync_files", "cutover", "verify", "finalize",
                                      "rollback"],
                  __migration_report_platform_name="洪泽区", migration_report_utc_offset="+08:00")
    assert text.startswith("# 信创云迁移记录：洪泽区（hongze-xinchuang）")
    # the BES error text is the health check's own message, quoted as it came
    assert_beijing_and_chinese(text, ["2026-12-07 02:52:47 +08:00", "2026-12-07 03:10:00 +08:00", "2026-12-07 03:12:30 +08:00",
                                      "完成时间（北京时间）", "一致（2 张表，20001 行）"], allowed=())


def test_migration_verify_wording_in_the_playbook_is_chinese():
    """The 割接后验证 lines are written by playbooks/migration/verify.yml and roles/migration/tasks/backup_fresh.yml."""
    source = (ROOT / "playbooks/migration/verify.yml").read_text() + (ROOT / "roles/migration/tasks/backup_fresh.yml").read_text()
    for phrase in ("'checksums: ", "source = target", "not applicable", "'preview: ", "'entry: ", "checksums at the hold",
                   "' backup '", "backup jobs failed", "no backup job ran", ": cluster - ", ": BES health - "):
        assert phrase not in source, phrase
