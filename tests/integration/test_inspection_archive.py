"""The deep inspection reads its archive: the newest restore test, every archived run for the trends,
the history for the capacity forecast. Runs the inspection_report role on the controller over a seeded
archive (the fileglob lookup once found none of it: a wildcard before the last path component)."""
import datetime
import json
import os
import subprocess

import pytest

import backup_filters
from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
PLAYBOOK = ROOT / "tests" / "fixtures" / "playbooks" / "inspection_report_archive.yml"
RUN_FMT = "%Y%m%dT%H%M%SZ"


def _run_id(days_ago):
    return (datetime.datetime.utcnow() - datetime.timedelta(days=days_ago)).strftime(RUN_FMT)


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def seed(archive, history, restore_tests):
    """history: [(days_ago, disk %)], archived inspection runs; restore_tests: [(days_ago, summary fields)]."""
    runs = []
    for days_ago, pct in history:
        run = _run_id(days_ago)
        runs.append(run)
        _write(archive / "inspection" / run / "metrics.json",
               {"run": run, "kind": "weekly", "metrics": {"localhost": {"disk_used_pct:/data": pct}}})
    if runs:  # the link report_files leaves behind must not count a run twice
        os.symlink(runs[-1], str(archive / "inspection" / "latest"))
    for days_ago, failed in restore_tests:
        run = _run_id(days_ago)
        _write(archive / "backup-verify" / run / "summary.json", dict(restore_summary(failed), run=run))
    if restore_tests:
        os.symlink(_run_id(restore_tests[-1][0]), str(archive / "backup-verify" / "latest"))


def restore_summary(failed):
    """What backup_verify.yml archives for four checks, `failed` of them failed."""
    results = [{"kind": kind, "target": "city-kb01", "result": "success", "restored_bytes": 512 * 1024 ** 2,
                "restore_seconds": 20.0} for kind in ("sys_rman", "sys_dump", "sys_dump", "files")]
    for r in results[:failed]:
        r.update(result="failed", reason="checksum mismatch")
    return backup_filters.backup_verify_summary(results)


def report(archive, disk_pct):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    res = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(PLAYBOOK),
                          "-e", "test_archive=%s test_disk_used_pct=%s" % (archive, disk_pct)],
                         env=env, cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    latest = archive / "inspection" / "latest"
    return json.loads((latest / "results.json").read_text())["summary"]


def codes(summary):
    return sorted(f["code"] for f in summary["findings"])


def test_history_gives_every_trend_point_and_the_forecast(tmp_path):
    # Three weekly runs at 50, 60, 70 % and this one at 80 %: +1.43 % a day, full in about 14 days.
    seed(tmp_path, [(21, 50.0), (14, 60.0), (7, 70.0)], [(1, 0)])
    s = report(tmp_path, 80)
    trend = next(t for t in s["trends"] if t["family"] == "disk_used_pct")
    assert len(trend["runs"]) == 4
    assert [p[1] for p in trend["series"][0]["points"]] == [50.0, 60.0, 70.0, 80.0]
    forecast = next(f for f in s["forecast"] if f["metric"] == "disk_used_pct:/data")
    assert forecast["points"] == 4 and 13 <= forecast["days_left"] <= 15
    assert codes(s) == ["CAP_FILESYSTEM_FORECAST"]
    assert s["restore_test"]["verdict"] == "pass"


def test_a_passing_restore_test_is_found(tmp_path):
    # An older failed test does not count: the newest one is read.
    seed(tmp_path, [], [(30, 2), (1, 0)])
    s = report(tmp_path, 40)
    assert codes(s) == []
    assert s["restore_test"]["verdict"] == "pass" and s["restore_test"]["succeeded"] == 4
    # No archived run yet: the trend has this run only and the forecast does not guess.
    assert len(next(t for t in s["trends"] if t["family"] == "disk_used_pct")["runs"]) == 1
    assert [f["days_left"] for f in s["forecast"]] == [None]


@pytest.mark.parametrize("tests,expected", [
    ([(40, 0)], ["BACKUP_RESTORE_TEST_STALE"]),
    ([(1, 1)], ["BACKUP_RESTORE_TEST_FAILED"]),
    ([], ["BACKUP_RESTORE_TEST_MISSING"]),
], ids=["stale", "failed", "missing"])
def test_a_stale_failed_or_missing_restore_test_is_reported_as_such(tmp_path, tests, expected):
    seed(tmp_path, [], tests)
    assert codes(report(tmp_path, 40)) == expected


def test_a_restore_test_too_small_to_project_is_said_so(tmp_path):
    # The lab's restore test: every sample under 256 MiB, the slowest a 2.5 MiB file restore.
    results = [{"kind": "sys_rman", "target": "city_a", "result": "success", "restored_bytes": 40 * 1024 ** 2,
                "restore_seconds": 4.0},
               {"kind": "files", "target": "city-bes01", "result": "success", "restored_bytes": 2621440,
                "restore_seconds": 1.338}]
    run = _run_id(1)
    _write(tmp_path / "backup-verify" / run / "summary.json",
           dict(backup_filters.backup_verify_summary(results), run=run))
    s = report(tmp_path, 40)
    assert codes(s) == ["BACKUP_RESTORE_TIME_UNPROJECTED"]
    text = s["restore_test"]["restore_time"]["text"]
    assert text.startswith(u"最慢路径为附件文件 city-bes01：样本仅 2.5 MiB，不足以推算恢复 100 GiB 所需时间（至少需 256.0 MiB）")
    html = (tmp_path / "inspection" / "latest" / "report.html").read_text(encoding="utf-8")
    assert "<td>%s（要求 12 小时内恢复）</td>" % text in html
    assert u"约需" not in html  # no hours figure from the small samples
