# -*- coding: utf-8 -*-
"""Filters of the os_baseline role: the password and login-failure (faillock) policy. Pure; unit-tested
in tests/unit/test_os_baseline_filters.py.

The policy is judged by the host inspection (plugins/module_utils/huaian_inspect_host.py, findings
HOST_SEC_PASSWORD_POLICY and HOST_SEC_LOCKOUT) against os_baseline_inspect_thresholds; the role must
never configure a policy its own inspection would report. Filter plugins cannot import module_utils,
so the inspection's built-in thresholds are repeated in INSPECTION_DEFAULTS and a unit test keeps the
two equal.
"""
from __future__ import annotations

import re

# huaian_inspect_host.DEFAULT_THRESHOLDS, the keys the password policy and lockout are judged by.
INSPECTION_DEFAULTS = {"pass_max_days": 90, "pass_min_len": 8, "lockout_deny_max": 5}

FAILLOCK_METHODS = ("auto", "authselect", "pam_auth_update", "none")

# pwquality.conf keys that take a value (pwquality.conf(5)); minlen and minclass have their own variables.
PWQUALITY_VALUE_KEYS = ("difok", "dcredit", "ucredit", "lcredit", "ocredit", "maxrepeat", "maxsequence",
                        "maxclassrepeat", "gecoscheck", "dictcheck", "usercheck", "usersubstr", "retry",
                        "dictpath", "badwords")


def _int(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def os_baseline_password_problems(settings, thresholds=None):
    """Every problem with the password and lockout inputs ('variable = value : reason; allowed: ...').

    settings: max_days, min_days, warn_age, min_length, min_classes, pwquality_extra, faillock_deny,
    faillock_unlock_time, faillock_fail_interval, faillock_admin_group, faillock_method.
    thresholds: os_baseline_inspect_thresholds (the inspection's limits; missing keys take the
    inspection's built-in values).
    """
    t = dict(INSPECTION_DEFAULTS)
    for key in INSPECTION_DEFAULTS:
        if key in (thresholds or {}) and _int(thresholds[key]) is not None:
            t[key] = _int(thresholds[key])
    p = []

    def number(var, key, low, high=None, why=""):
        value = _int(settings.get(key))
        if value is None or value < low or (high is not None and value > high):
            allowed = ">= %d" % low if high is None else "%d..%d" % (low, high)
            p.append("%s = %r : %sallowed: %s" % (var, settings.get(key), why, allowed))
            return None
        return value

    max_days = number("os_baseline_password_max_days", "max_days", 1, t["pass_max_days"],
                      "the inspection (os_baseline_inspect_thresholds.pass_max_days = %d) requires passwords to "
                      "expire within %d days; " % (t["pass_max_days"], t["pass_max_days"]))
    min_days = number("os_baseline_password_min_days", "min_days", 0)
    if max_days is not None and min_days is not None and min_days >= max_days:
        p.append("os_baseline_password_min_days = %d : not below os_baseline_password_max_days (%d), so a password "
                 "could never be changed before it expires; allowed: 0..%d" % (min_days, max_days, max_days - 1))
    warn_age = number("os_baseline_password_warn_age", "warn_age", 0)
    if max_days is not None and warn_age is not None and warn_age >= max_days:
        p.append("os_baseline_password_warn_age = %d : not below os_baseline_password_max_days (%d); allowed: 0..%d"
                 % (warn_age, max_days, max_days - 1))
    number("os_baseline_password_min_length", "min_length", t["pass_min_len"], None,
           "the inspection (os_baseline_inspect_thresholds.pass_min_len = %d) requires at least %d characters; "
           % (t["pass_min_len"], t["pass_min_len"]))
    number("os_baseline_password_min_classes", "min_classes", 1, 4,
           "character classes are digits, upper case, lower case and others; ")
    for key, value in sorted((settings.get("pwquality_extra") or {}).items()):
        if key in ("minlen", "minclass"):
            p.append("os_baseline_pwquality_extra.%s = %r : set by os_baseline_password_%s; allowed: the other "
                     "pwquality.conf keys" % (key, value, "min_length" if key == "minlen" else "min_classes"))
        elif key not in PWQUALITY_VALUE_KEYS:
            p.append("os_baseline_pwquality_extra.%s = %r : not a pwquality.conf key that takes a value; allowed: %s"
                     % (key, value, ", ".join(PWQUALITY_VALUE_KEYS)))
        elif not re.match(r"^[-A-Za-z0-9_./,]+$", str(value)):
            p.append("os_baseline_pwquality_extra.%s = %r : not a single word; allowed: a number, a path or a "
                     "comma-separated word list" % (key, value))
    number("os_baseline_faillock_deny", "faillock_deny", 1, t["lockout_deny_max"],
           "the inspection (os_baseline_inspect_thresholds.lockout_deny_max = %d) requires a lockout after at "
           "most %d failures and 0 switches the lockout off; " % (t["lockout_deny_max"], t["lockout_deny_max"]))
    number("os_baseline_faillock_unlock_time", "faillock_unlock_time", 0, None,
           "0 means locked until an administrator runs faillock --reset; ")
    number("os_baseline_faillock_fail_interval", "faillock_fail_interval", 1)
    group = settings.get("faillock_admin_group") or ""
    if group and not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", str(group)):
        p.append("os_baseline_faillock_admin_group = %r : not a group name; allowed: a local group name or '' (none)"
                 % (group,))
    if settings.get("faillock_method") not in FAILLOCK_METHODS:
        p.append("os_baseline_faillock_method = %r : allowed: %s" % (settings.get("faillock_method"),
                                                                      ", ".join(FAILLOCK_METHODS)))
    return p


def os_baseline_password_lines(settings, paths):
    """The line-level edits of login.defs, pwquality.conf and faillock.conf: one lineinfile item each.

    paths: {login_defs, pwquality, faillock}. Items: {path, key, state, regexp, line}; sorted by path, key.
    Commented defaults ('# minlen = 8') are replaced in place in pwquality.conf and faillock.conf; in
    login.defs only active lines are (its comments mention the key names in prose).
    """
    def kv(path, key, value):
        return {"path": path, "key": key, "state": "present",
                "regexp": r"^\s*#?\s*%s\s*=" % re.escape(key), "line": "%s = %s" % (key, value)}

    out = []
    for key, name in (("PASS_MAX_DAYS", "max_days"), ("PASS_MIN_DAYS", "min_days"), ("PASS_WARN_AGE", "warn_age")):
        out.append({"path": paths["login_defs"], "key": key, "state": "present",
                    "regexp": r"^\s*%s\s" % key, "line": "%s\t%s" % (key, _int(settings[name]))})
    quality = {"minlen": _int(settings["min_length"]), "minclass": _int(settings["min_classes"])}
    quality.update(settings.get("pwquality_extra") or {})
    for key, value in quality.items():
        out.append(kv(paths["pwquality"], key, value))
    out.append(kv(paths["faillock"], "deny", _int(settings["faillock_deny"])))
    out.append(kv(paths["faillock"], "unlock_time", _int(settings["faillock_unlock_time"])))
    out.append(kv(paths["faillock"], "fail_interval", _int(settings["faillock_fail_interval"])))
    group = settings.get("faillock_admin_group") or ""
    if group:
        out.append(kv(paths["faillock"], "admin_group", group))
    else:
        out.append({"path": paths["faillock"], "key": "admin_group", "state": "absent",
                    "regexp": r"^\s*admin_group\s*=", "line": None})
    # Root must never be locked out: even_deny_root (a bare word) is removed wherever it is active.
    out.append({"path": paths["faillock"], "key": "even_deny_root", "state": "absent",
                "regexp": r"^\s*even_deny_root\s*$", "line": None})
    return sorted(out, key=lambda item: (item["path"], item["key"]))


def os_baseline_password_deviations(security, settings):
    """Where the host's password policy and lockout differ from the settings (host_inspect's security facts).

    security: host_inspect's facts.security ({password_policy, lockout}); returns messages, [] when in place.
    """
    p = []
    policy = (security or {}).get("password_policy")
    if policy is None:
        p.append("password policy facts unavailable (host_inspect security check password_policy is off)")
    else:
        if policy.get("pass_max_days") != _int(settings["max_days"]):
            p.append("login.defs PASS_MAX_DAYS is %s, baseline %s" % (policy.get("pass_max_days"), settings["max_days"]))
        if policy.get("pwquality_minlen") != _int(settings["min_length"]):
            p.append("pwquality.conf minlen is %s, baseline %s" % (policy.get("pwquality_minlen"), settings["min_length"]))
        if policy.get("min_len") != _int(settings["min_length"]):
            p.append("the PAM password stack enforces a minimum length of %s (%s), baseline %s" % (
                policy.get("min_len"), policy.get("min_len_source") or "no pam_pwquality", settings["min_length"]))
    lockout = (security or {}).get("lockout")
    if lockout is None:
        p.append("lockout facts unavailable (host_inspect security check lockout is off)")
    else:
        stacks = lockout.get("stacks") or {}
        if not stacks:
            p.append("no PAM auth stack found (searched %s)" % ", ".join(lockout.get("searched") or []))
        for path, found in sorted(stacks.items()):
            if found is None:
                p.append("%s has no pam_faillock lockout, baseline deny=%s" % (path, settings["faillock_deny"]))
            elif found.get("deny") != _int(settings["faillock_deny"]):
                p.append("%s locks after %s failures (%s), baseline deny=%s" % (
                    path, found.get("deny"), found.get("module"), settings["faillock_deny"]))
    return p


class FilterModule(object):
    def filters(self):
        return {"os_baseline_password_problems": os_baseline_password_problems,
                "os_baseline_password_lines": os_baseline_password_lines,
                "os_baseline_password_deviations": os_baseline_password_deviations}
