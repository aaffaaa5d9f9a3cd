# -*- coding: utf-8 -*-
"""The licence rule of a deploy and a health check (license_judgement in
plugins/module_utils/huaian_inspect_kingbase.py) and its module (plugins/modules/kingbase_license_check.py):
permanent, trial, valid, expiring, expired and unknown from license.dat and get_license_validdays()."""
import datetime

import pytest

import kingbase_license_check as mod
from ansible.module_utils import huaian_inspect_kingbase as kb
from ansible.module_utils.common import warnings as module_warnings
from conftest import run_module_main

TODAY = datetime.date(2026, 12, 1)
PATH = "/opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin/license.dat"

PERMANENT = """\
==============================================================
                 KingbaseES 许可证信息
==============================================================
产品名称：KingbaseES V8
生产日期：2024-03-15
有效期间：0
MAC地址：00:16:3E:12:34:56
用户名称：淮安市政务服务管理办公室
"""


def dated(produced, days):
    return PERMANENT.replace("生产日期：2024-03-15", "生产日期：%s" % produced).replace("有效期间：0", "有效期间: %d" % days)


def trial(produced, days):
    return dated(produced, days).replace("淮安市政务服务管理办公室", "官方网站试用授权")


LAB = ("# KingbaseES licence for the lab stand-in (not a vendor licence)\nPRODUCT=KingbaseES\n"
       "ISSUE_DATE=2026-11-20\nEXPIRE_DATE=2027-11-20\n")
NO_FUNCTION = "ERROR:  function get_license_validdays() does not exist"


def judge(text, sql, sql_error=None, file_error=None, warn=30, fail=0, fail_unknown=True):
    return kb.license_judgement(text, file_error, sql, sql_error, TODAY, warn, fail, "city-kb01", path=PATH,
                                fail_unknown=fail_unknown)


@pytest.mark.parametrize("sql,sql_error", [("0\n", None), ("-2\n", None), ("5\n", None), ("-3\n", None),
                                           (None, "not asked"), (None, NO_FUNCTION)])
def test_permanent_file_never_fails_nor_warns_whatever_the_function_says(sql, sql_error):
    j = judge(PERMANENT, sql, sql_error)
    assert (j["state"], j["kind"], j["fail"], j["warn"]) == ("permanent", "permanent", False, False)
    assert j["days_left"] is None and j["source"] == "license.dat" and j["confidence"] == "high"
    assert "WARNING" not in j["message"] and j["message"].startswith("city-kb01: ")


def test_permanent_from_the_function_alone_is_low_confidence():
    j = judge(None, "-2\n", file_error=PATH + ": No such file or directory")
    assert (j["state"], j["fail"], j["warn"], j["confidence"]) == ("permanent", False, False, "low")
    assert "No such file" in j["message"]


def test_trial_warns_with_its_days():
    # 90 days from 2026-09-12 is 2026-12-11: 10 days left by the file; the server agrees.
    for sql in (None, "10\n"):
        j = judge(trial("2026-09-12", 90), sql)
        assert (j["state"], j["kind"], j["days_left"], j["fail"], j["warn"]) == ("trial", "trial", 10, False, True)
        assert j["expiry_date"] == "2026-12-11"
        assert "试用授权" in j["message"] and "WARNING" in j["message"] and "below 30" in j["message"]


def test_trial_far_from_expiry_still_warns():
    j = judge(trial("2026-11-01", 365), "335\n")
    assert (j["state"], j["fail"], j["warn"]) == ("trial", False, True)


def test_expired_trial_fails():
    j = judge(trial("2026-08-01", 90), None)
    assert (j["state"], j["kind"], j["fail"], j["warn"]) == ("expired", "trial", True, False)
    assert j["days_left"] == -32 and "trial" in j["message"] and "kingbase_license_src" in j["message"]


def test_dated_expiring_warns():
    j = judge(dated("2026-09-07", 90), "5\n")
    assert (j["state"], j["kind"], j["days_left"], j["fail"], j["warn"]) == ("expiring", "dated", 5, False, True)
    assert "below 30" in j["message"]
    # The same days above the warning threshold: valid.
    j = judge(dated("2026-09-07", 90), "5\n", warn=5)
    assert (j["state"], j["fail"], j["warn"]) == ("valid", False, False)


def test_dated_at_zero_days_is_expired_and_fails():
    j = judge(dated("2026-09-02", 90), "0\n")
    assert (j["state"], j["days_left"], j["fail"]) == ("expired", 0, True)
    assert j["message"].startswith("city-kb01: ") and "will not start again" in j["message"]
    # The file alone (the function missing): expiry today is 0 days left.
    j = judge(dated("2026-09-02", 90), None, sql_error=NO_FUNCTION)
    assert (j["state"], j["days_left"], j["source"], j["fail"]) == ("expired", 0, "license.dat", True)
    # kingbase_license_fail_days raised: 20 days left fails.
    j = judge(dated("2026-09-02", 110), None, fail=20)
    assert (j["state"], j["days_left"], j["fail"]) == ("expired", 20, True)


def test_the_servers_count_wins_over_the_files_for_a_dated_licence():
    j = judge(LAB, "354\n")
    assert (j["state"], j["days_left"], j["expiry_date"], j["fail"], j["warn"]) == ("valid", 354, "2027-11-20",
                                                                                    False, False)
    j = judge(LAB, "3\n")
    assert (j["state"], j["days_left"], j["fail"]) == ("expiring", 3, False)


def test_file_missing_function_tells():
    j = judge(None, "100\n", file_error=PATH + ": No such file or directory")
    assert (j["state"], j["kind"], j["days_left"], j["source"]) == ("valid", "dated", 100, "get_license_validdays")
    assert j["expiry_date"] == "2027-03-11" and j["fail"] is False and j["warn"] is False
    assert j["file_error"].endswith("No such file or directory")


@pytest.mark.parametrize("text,file_error", [(None, PATH + ": No such file or directory"), ("garbage\n", None)])
def test_both_unreadable_is_unknown_and_fails_unless_told_otherwise(text, file_error):
    j = judge(text, None, sql_error=NO_FUNCTION, file_error=file_error)
    assert (j["state"], j["kind"], j["fail"], j["warn"]) == ("unknown", None, True, False)
    assert "does not exist" in j["message"] and "kingbase_license_fail_unknown" in j["message"]
    assert j["message"].startswith("city-kb01: ")
    j = judge(text, None, sql_error=NO_FUNCTION, file_error=file_error, fail_unknown=False)
    assert (j["state"], j["fail"], j["warn"]) == ("unknown", False, True)
    # An answer that is not a number is no answer.
    j = judge(text, "t\n", file_error=file_error)
    assert (j["state"], j["fail"]) == ("unknown", True) and "no number" in j["sql_error"]


def _inspection_codes(text, sql):
    """The inspection's findings on the same inputs (its default thresholds 30 / 0)."""
    info = kb.parse_license_file(text, TODAY) if text is not None else None
    sql_days = kb.parse_license_days(sql) if sql is not None else None
    facts = {"license": kb.license_view(info, None if text else "missing", sql_days, None if sql else "no", TODAY)}
    out = []
    kb._judge_license(facts, dict(kb.DEFAULT_THRESHOLDS), False, 90, "city-kb01", out.append)
    return sorted(f["code"] for f in out)


@pytest.mark.parametrize("text,sql", [
    (PERMANENT, "0\n"), (PERMANENT, "-2\n"), (None, "-2\n"), (trial("2026-09-12", 90), None),
    (trial("2026-08-01", 90), None), (dated("2026-09-07", 90), "5\n"), (dated("2026-09-02", 90), "0\n"),
    (LAB, "354\n"), (None, "100\n"), (None, None), ("garbage\n", None)])
def test_the_deploy_and_the_inspection_agree(text, sql):
    j = judge(text, sql, sql_error=None if sql else "not asked",
              file_error=None if text is not None else "missing")
    codes = _inspection_codes(text, sql)
    if j["state"] in ("permanent", "valid"):
        assert codes == [] and not j["fail"] and not j["warn"]
    elif j["state"] == "trial":  # the inspection adds KB_LICENSE_EXPIRING below 30 days: a warning too
        assert "KB_LICENSE_TRIAL" in codes and "KB_LICENSE_EXPIRED" not in codes and j["warn"] and not j["fail"]
    elif j["state"] == "expiring":
        assert codes == ["KB_LICENSE_EXPIRING"] and j["warn"] and not j["fail"]
    elif j["state"] == "expired":
        assert "KB_LICENSE_EXPIRED" in codes and j["fail"]
    else:
        assert (j["state"], codes, j["fail"]) == ("unknown", ["KB_LICENSE_UNREADABLE"], True)


# ---- the module --------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_warnings_from_other_runs(monkeypatch):
    # AnsibleModule.warn() collects into a process-wide list; each main() here is its own run.
    monkeypatch.setattr(module_warnings, "_global_warnings", [])


def test_module_reads_a_gbk_trial_and_warns(tmp_path, monkeypatch, capsys):
    path = tmp_path / "license.dat"
    path.write_bytes(trial("2026-11-01", 3650).encode("gb18030"))
    out = run_module_main(mod, monkeypatch, capsys, {"path": str(path), "sql_rc": 0, "sql_stdout": "3600\n",
                                                     "node": "city-kb01"})
    lic = out["license"]
    assert (lic["state"], lic["kind"], lic["days_left"], lic["fail"]) == ("trial", "trial", 3600, False)
    assert "message" not in lic and out["changed"] is False
    assert out["warnings"] == [out["message"]] and "city-kb01" in out["message"]


def test_module_permanent_with_a_failing_function_is_quiet(tmp_path, monkeypatch, capsys):
    path = tmp_path / "license.dat"
    path.write_text(PERMANENT, encoding="utf-8")
    out = run_module_main(mod, monkeypatch, capsys, {"path": str(path), "sql_rc": 3, "sql_stderr": NO_FUNCTION + "\n"})
    assert (out["license"]["state"], out["license"]["fail"]) == ("permanent", False)
    assert not out.get("warnings") and not out.get("failed")


def test_module_missing_file_not_asked(tmp_path, monkeypatch, capsys):
    args = {"path": str(tmp_path / "license.dat"), "node": "city-kb01"}
    out = run_module_main(mod, monkeypatch, capsys, args)
    assert (out["license"]["state"], out["license"]["fail"]) == ("unknown", True) and not out.get("failed")
    assert "not asked" in out["message"] and "No such file" in out["message"] and not out.get("warnings")
    # Check mode (a greenfield host: no licence placed yet, no server): a warning, the caller does not stop.
    out = run_module_main(mod, monkeypatch, capsys, dict(args, _ansible_check_mode=True))
    assert out["license"]["fail"] is True and out["warnings"][0].startswith("check mode, a real run stops here")
