"""os_baseline's password and lockout policy (plugins/filter/os_baseline_filters.py): input rules, the
line edits, the health check's comparison, and that the role's defaults pass its own inspection."""
import copy
import re

import pytest
import yaml

from conftest import ROOT
from huaian_inspect_host import DEFAULT_THRESHOLDS, judge, pam_lockout, pam_min_length, parse_pwquality_conf
from os_baseline_filters import (
    INSPECTION_DEFAULTS, os_baseline_password_deviations, os_baseline_password_lines, os_baseline_password_problems)

ROLE = ROOT / "roles" / "os_baseline"
PATHS = {"login_defs": "/etc/login.defs", "pwquality": "/etc/security/pwquality.conf",
         "faillock": "/etc/security/faillock.conf"}
# The role's variable -> the filter's settings key (vars/main.yml __os_baseline_password_settings).
SETTINGS_VARS = {"max_days": "os_baseline_password_max_days", "min_days": "os_baseline_password_min_days",
                 "warn_age": "os_baseline_password_warn_age", "min_length": "os_baseline_password_min_length",
                 "min_classes": "os_baseline_password_min_classes", "pwquality_extra": "os_baseline_pwquality_extra",
                 "faillock_deny": "os_baseline_faillock_deny", "faillock_unlock_time": "os_baseline_faillock_unlock_time",
                 "faillock_fail_interval": "os_baseline_faillock_fail_interval",
                 "faillock_admin_group": "os_baseline_faillock_admin_group",
                 "faillock_method": "os_baseline_faillock_method"}


def role_defaults():
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def default_settings():
    defaults = role_defaults()
    return dict((key, defaults[var]) for key, var in SETTINGS_VARS.items())


def settings(**changes):
    s = default_settings()
    s.update(changes)
    return s


# --- One source of truth: the role never configures what its inspection reports -----------------------

def test_the_filters_copy_of_the_inspection_defaults_is_the_inspections():
    assert INSPECTION_DEFAULTS == dict((key, DEFAULT_THRESHOLDS[key]) for key in INSPECTION_DEFAULTS)


def test_settings_mapping_names_every_password_variable_of_the_role():
    vars_main = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    mapped = vars_main["__os_baseline_password_settings"]
    assert set(mapped) == set(SETTINGS_VARS)
    for key, var in SETTINGS_VARS.items():
        assert mapped[key] == "{{ %s }}" % var
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for var in SETTINGS_VARS.values():
        assert var in specs["main"]["options"], var
        assert specs["main"]["options"][var]["default"] == role_defaults()[var], var


@pytest.mark.parametrize("inventory", ["huaian", "lab"])
def test_role_defaults_satisfy_each_inventorys_inspection_thresholds(inventory):
    thresholds = yaml.safe_load(
        (ROOT / "inventories" / inventory / "group_vars" / "all" / "inspection_host.yml").read_text()
    )["os_baseline_inspect_thresholds"]
    assert os_baseline_password_problems(default_settings(), thresholds) == []
    assert os_baseline_password_problems(default_settings(), role_defaults()["os_baseline_inspect_thresholds"]) == []


def apply_lines(text, items, path):
    """What lineinfile makes of `text` for the items of one path (last match replaced, else appended)."""
    lines = text.splitlines()
    for item in (i for i in items if i["path"] == path):
        hits = [n for n, line in enumerate(lines) if re.search(item["regexp"], line)]
        if item["state"] == "absent":
            lines = [line for n, line in enumerate(lines) if n not in hits]
        elif hits:
            lines[hits[-1]] = item["line"]
        else:
            lines.append(item["line"])
    return "\n".join(lines) + "\n"


# Debian 12's vendor files (the parts the role touches) and stacks after pam-auth-update.
PWQUALITY = "# Configuration for systemwide password quality limits\n# minlen = 8\n#\n# minclass = 0\n"
FAILLOCK = ("# deny = 3\n# fail_interval = 900\n# unlock_time = 600\n# even_deny_root\n"
            "# admin_group = <admin_group_name>\n")
LOGIN_DEFS = ("#\tPASS_MAX_DAYS\tMaximum number of days a password may be used.\n"
              "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n")
COMMON_AUTH = ("auth\trequisite\tpam_faillock.so preauth\n"
               "auth\t[success=2 default=ignore]\tpam_unix.so nullok try_first_pass\n"
               "auth\t[default=die]\tpam_faillock.so authfail\n"
               "auth\trequisite\t\t\tpam_deny.so\nauth\trequired\t\t\tpam_permit.so\n")
COMMON_PASSWORD = ("password\trequisite\t\t\tpam_pwquality.so retry=3\n"
                   "password\t[success=1 default=ignore]\tpam_unix.so obscure use_authtok try_first_pass yescrypt\n")


def test_the_role_defaults_written_into_debians_files_pass_the_host_inspection():
    items = os_baseline_password_lines(default_settings(), PATHS)
    login_defs = apply_lines(LOGIN_DEFS, items, PATHS["login_defs"])
    pwquality = parse_pwquality_conf(apply_lines(PWQUALITY, items, PATHS["pwquality"]))
    faillock = parse_pwquality_conf(apply_lines(FAILLOCK, items, PATHS["faillock"]))
    assert "#\tPASS_MAX_DAYS\tMaximum number" in login_defs  # the prose comment is left alone
    assert "PASS_MAX_DAYS\t90\n" in login_defs and "PASS_MIN_DAYS\t1\n" in login_defs
    assert pwquality == {"minlen": "8", "minclass": "3"}
    assert faillock == {"deny": "5", "fail_interval": "900", "unlock_time": "600"}
    security = {
        "password_policy": {"pass_max_days": 90, "pass_min_len": None, "pwquality_minlen": 8,
                            "min_len": pam_min_length([COMMON_PASSWORD], pwquality),
                            "min_len_source": "pam_pwquality/pam_cracklib minlen"},
        "lockout": {"stacks": {"/etc/pam.d/common-auth": pam_lockout(COMMON_AUTH, faillock)},
                    "searched": ["/etc/pam.d/common-auth"]},
    }
    _, findings = judge({"security": security}, dict(DEFAULT_THRESHOLDS), {})
    assert [f for f in findings if f["code"] in ("HOST_SEC_PASSWORD_POLICY", "HOST_SEC_LOCKOUT")] == []
    assert os_baseline_password_deviations(security, default_settings()) == []
    # ... and the same files before the role: both findings, which is what the lab reported.
    before = {"password_policy": {"pass_max_days": 99999, "pwquality_minlen": None, "min_len": None},
              "lockout": {"stacks": {"/etc/pam.d/common-auth": None}, "searched": ["/etc/pam.d/common-auth"]}}
    _, findings = judge({"security": before}, dict(DEFAULT_THRESHOLDS), {})
    assert sorted((f["code"], f["subject"]) for f in findings) == [
        ("HOST_SEC_LOCKOUT", "/etc/pam.d/common-auth"), ("HOST_SEC_PASSWORD_POLICY", "PASS_MAX_DAYS"),
        ("HOST_SEC_PASSWORD_POLICY", "minlen")]


# --- Input rules ----------------------------------------------------------------------------------------

def test_good_inputs():
    assert os_baseline_password_problems(default_settings(), {}) == []
    assert os_baseline_password_problems(settings(max_days=60, min_length=12, faillock_deny=3, min_classes=4,
                                                  pwquality_extra={"difok": 3, "dictpath": "/usr/share/dict/x"},
                                                  faillock_admin_group="wheel", faillock_unlock_time=0), {}) == []


def test_looser_than_the_inspection_is_refused_naming_the_threshold():
    problems = os_baseline_password_problems(settings(max_days=180, min_length=6, faillock_deny=10), {})
    assert problems == [
        "os_baseline_password_max_days = 180 : the inspection (os_baseline_inspect_thresholds.pass_max_days = 90) "
        "requires passwords to expire within 90 days; allowed: 1..90",
        "os_baseline_password_min_length = 6 : the inspection (os_baseline_inspect_thresholds.pass_min_len = 8) "
        "requires at least 8 characters; allowed: >= 8",
        "os_baseline_faillock_deny = 10 : the inspection (os_baseline_inspect_thresholds.lockout_deny_max = 5) "
        "requires a lockout after at most 5 failures and 0 switches the lockout off; allowed: 1..5",
    ]


def test_a_stricter_inspection_makes_the_defaults_diverge():
    problems = os_baseline_password_problems(default_settings(),
                                             {"pass_max_days": 60, "pass_min_len": 12, "lockout_deny_max": 3})
    assert [p.split(" : ")[0] for p in problems] == [
        "os_baseline_password_max_days = 90", "os_baseline_password_min_length = 8", "os_baseline_faillock_deny = 5"]
    assert "allowed: 1..60" in problems[0] and "allowed: >= 12" in problems[1] and "allowed: 1..3" in problems[2]


def test_deny_zero_switches_the_lockout_off_and_is_refused():
    (msg,) = os_baseline_password_problems(settings(faillock_deny=0), {})
    assert msg.startswith("os_baseline_faillock_deny = 0 :") and msg.endswith("allowed: 1..5")


def test_aging_order_and_classes():
    problems = os_baseline_password_problems(settings(min_days=90, warn_age=95, min_classes=5), {})
    assert problems == [
        "os_baseline_password_min_days = 90 : not below os_baseline_password_max_days (90), so a password could "
        "never be changed before it expires; allowed: 0..89",
        "os_baseline_password_warn_age = 95 : not below os_baseline_password_max_days (90); allowed: 0..89",
        "os_baseline_password_min_classes = 5 : character classes are digits, upper case, lower case and others; "
        "allowed: 1..4",
    ]


def test_pwquality_extra_keys():
    problems = os_baseline_password_problems(
        settings(pwquality_extra={"minlen": 12, "enforce_for_root": "", "badwords": "a b", "difok": 3}), {})
    assert problems == [
        "os_baseline_pwquality_extra.badwords = 'a b' : not a single word; allowed: a number, a path or a "
        "comma-separated word list",
        "os_baseline_pwquality_extra.enforce_for_root = '' : not a pwquality.conf key that takes a value; allowed: "
        "difok, dcredit, ucredit, lcredit, ocredit, maxrepeat, maxsequence, maxclassrepeat, gecoscheck, dictcheck, "
        "usercheck, usersubstr, retry, dictpath, badwords",
        "os_baseline_pwquality_extra.minlen = 12 : set by os_baseline_password_min_length; allowed: the other "
        "pwquality.conf keys",
    ]


def test_admin_group_and_method():
    problems = os_baseline_password_problems(settings(faillock_admin_group="wheel; rm", faillock_method="sed"), {})
    assert problems == [
        "os_baseline_faillock_admin_group = 'wheel; rm' : not a group name; allowed: a local group name or '' (none)",
        "os_baseline_faillock_method = 'sed' : allowed: auto, authselect, pam_auth_update, none",
    ]


def test_non_numbers_are_refused():
    (msg,) = os_baseline_password_problems(settings(faillock_unlock_time="ten"), {})
    assert msg == ("os_baseline_faillock_unlock_time = 'ten' : 0 means locked until an administrator runs "
                   "faillock --reset; allowed: >= 0")


# --- Line edits ----------------------------------------------------------------------------------------

def test_lines_cover_each_key_once_and_never_deny_root():
    items = os_baseline_password_lines(settings(pwquality_extra={"difok": 3}), PATHS)
    assert [(i["path"], i["key"], i["state"], i["line"]) for i in items] == [
        ("/etc/login.defs", "PASS_MAX_DAYS", "present", "PASS_MAX_DAYS\t90"),
        ("/etc/login.defs", "PASS_MIN_DAYS", "present", "PASS_MIN_DAYS\t1"),
        ("/etc/login.defs", "PASS_WARN_AGE", "present", "PASS_WARN_AGE\t7"),
        ("/etc/security/faillock.conf", "admin_group", "absent", None),
        ("/etc/security/faillock.conf", "deny", "present", "deny = 5"),
        ("/etc/security/faillock.conf", "even_deny_root", "absent", None),
        ("/etc/security/faillock.conf", "fail_interval", "present", "fail_interval = 900"),
        ("/etc/security/faillock.conf", "unlock_time", "present", "unlock_time = 600"),
        ("/etc/security/pwquality.conf", "difok", "present", "difok = 3"),
        ("/etc/security/pwquality.conf", "minclass", "present", "minclass = 3"),
        ("/etc/security/pwquality.conf", "minlen", "present", "minlen = 8"),
    ]


def test_even_deny_root_is_removed_but_its_comment_kept():
    items = os_baseline_password_lines(default_settings(), PATHS)
    text = apply_lines("deny = 3\neven_deny_root\n  even_deny_root  \n# even_deny_root\n", items, PATHS["faillock"])
    assert "# even_deny_root\n" in text
    assert [line for line in text.splitlines() if line.strip() == "even_deny_root"] == []


def test_admin_group_is_written_when_set():
    items = os_baseline_password_lines(settings(faillock_admin_group="wheel"), PATHS)
    text = apply_lines(FAILLOCK, items, PATHS["faillock"])
    assert "admin_group = wheel\n" in text and "# admin_group = <admin_group_name>" not in text


def test_the_edits_are_idempotent():
    items = os_baseline_password_lines(settings(faillock_admin_group="wheel"), PATHS)
    for path, text in ((PATHS["login_defs"], LOGIN_DEFS), (PATHS["pwquality"], PWQUALITY),
                       (PATHS["faillock"], FAILLOCK)):
        once = apply_lines(text, items, path)
        assert apply_lines(once, items, path) == once


# --- The health check's comparison ----------------------------------------------------------------------

GOOD_SECURITY = {
    "password_policy": {"pass_max_days": 90, "pwquality_minlen": 8, "min_len": 8,
                        "min_len_source": "pam_pwquality/pam_cracklib minlen"},
    "lockout": {"stacks": {"/etc/pam.d/system-auth": {"module": "pam_faillock.so", "deny": 5},
                           "/etc/pam.d/password-auth": {"module": "pam_faillock.so", "deny": 5}},
                "searched": ["/etc/pam.d/system-auth", "/etc/pam.d/password-auth"]},
}


def test_deviations_none_when_in_place():
    assert os_baseline_password_deviations(GOOD_SECURITY, default_settings()) == []


def test_deviations_name_each_difference():
    security = copy.deepcopy(GOOD_SECURITY)
    security["password_policy"].update(pass_max_days=99999, pwquality_minlen=None, min_len=None, min_len_source=None)
    security["lockout"]["stacks"]["/etc/pam.d/system-auth"] = None
    security["lockout"]["stacks"]["/etc/pam.d/password-auth"] = {"module": "pam_tally2.so", "deny": 3}
    assert os_baseline_password_deviations(security, default_settings()) == [
        "login.defs PASS_MAX_DAYS is 99999, baseline 90",
        "pwquality.conf minlen is None, baseline 8",
        "the PAM password stack enforces a minimum length of None (no pam_pwquality), baseline 8",
        "/etc/pam.d/password-auth locks after 3 failures (pam_tally2.so), baseline deny=5",
        "/etc/pam.d/system-auth has no pam_faillock lockout, baseline deny=5",
    ]


def test_deviations_when_facts_are_missing():
    assert os_baseline_password_deviations({}, default_settings()) == [
        "password policy facts unavailable (host_inspect security check password_policy is off)",
        "lockout facts unavailable (host_inspect security check lockout is off)",
    ]
    assert os_baseline_password_deviations(
        {"password_policy": GOOD_SECURITY["password_policy"], "lockout": {"stacks": {}, "searched": ["/x"]}},
        default_settings()) == ["no PAM auth stack found (searched /x)"]
