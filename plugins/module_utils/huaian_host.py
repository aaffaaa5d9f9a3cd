# -*- coding: utf-8 -*-
"""Pure parsers for host facts: pam_limits, chronyc, sshd -T, locale -a, sysctl, THP.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax.
Every function here takes text and returns data; nothing reads the system, so all of it is
unit-tested on the controller (tests/unit/test_huaian_host.py).
"""
from __future__ import absolute_import, division, print_function

import glob
import grp
import os
import pwd
import re

__metaclass__ = type

# pam_limits sources, most specific first (Linux-PAM modules/pam_limits/pam_limits.c).
LIMITS_USER, LIMITS_GROUP, LIMITS_ALLGROUP, LIMITS_ALL = 0, 1, 2, 3
LIMIT_ITEMS = ("nofile", "nproc", "memlock", "stack", "core", "as", "fsize", "data", "rss", "cpu",
               "locks", "sigpending", "msgqueue", "nice", "rtprio")


def parse_limits(text, source):
    """Entries of a limits.conf-format file: domain, type, item, value, source, line."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4:
            continue
        domain, kind, item, value = fields
        if kind not in ("soft", "hard", "-"):
            continue
        entries.append({"domain": domain, "type": kind, "item": item, "value": value,
                        "source": source, "line": number})
    return entries


def limit_value(value):
    """'unlimited'/'infinity'/-1 -> None (no limit); numbers -> int; anything else -> the text."""
    if value in ("unlimited", "infinity", "-1"):
        return None
    try:
        return int(value)
    except ValueError:
        return value


def domain_priority(domain, user, groups, uid):
    """How specifically a limits domain names this user, or None when it does not apply."""
    if domain == user:
        return LIMITS_USER
    if domain.startswith("@"):
        return LIMITS_GROUP if domain[1:] in groups else None
    if domain == "*":
        return LIMITS_ALL
    if ":" in domain and uid is not None:
        low, _, high = domain.lstrip("@").partition(":")
        try:
            low_n = int(low) if low else 0
            high_n = int(high) if high else None
        except ValueError:
            return None
        if uid >= low_n and (high_n is None or uid <= high_n):
            return LIMITS_ALLGROUP
    return None


def effective_limits(files, user, groups=(), uid=None, items=("nofile", "nproc")):
    """Apply pam_limits' rules to files in read order (limits.conf, then limits.d/*.conf sorted).

    A later entry replaces an earlier one unless the earlier one names the user more specifically.
    Returns {item: {"soft": {...}, "hard": {...}}}, each {"value", "source", "line", "domain"}.
    """
    result = {}
    for path, text in files:
        for entry in parse_limits(text, path):
            if entry["item"] not in items:
                continue
            priority = domain_priority(entry["domain"], user, groups, uid)
            if priority is None:
                continue
            kinds = ("soft", "hard") if entry["type"] == "-" else (entry["type"],)
            slot = result.setdefault(entry["item"], {})
            for kind in kinds:
                current = slot.get(kind)
                if current is not None and current["priority"] < priority:
                    continue
                slot[kind] = {"value": limit_value(entry["value"]), "source": path, "line": entry["line"],
                              "domain": entry["domain"], "priority": priority}
    for slot in result.values():
        for kind in list(slot):
            slot[kind].pop("priority", None)
    return result


def limit_overrides(files, managed_file, user, groups=(), uid=None, items=("nofile", "nproc")):
    """Entries outside the managed file that decide a limit for this user instead of it."""
    effective = effective_limits(files, user, groups, uid, items)
    found = []
    for item, slot in sorted(effective.items()):
        for kind, decided in sorted(slot.items()):
            if decided["source"] != managed_file:
                found.append(dict(decided, item=item, type=kind, user=user))
    return found


_SECONDS = re.compile(r"^\s*([-+]?[0-9.]+(?:e[-+]?\d+)?)\s+seconds(?:\s+(fast|slow))?", re.IGNORECASE)


def parse_chronyc_tracking(text):
    """`chronyc -n tracking` -> reference, stratum, offset (s, + = ahead), leap status, synchronised."""
    fields = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    out = {"reference": fields.get("reference id"), "leap_status": fields.get("leap status")}
    try:
        out["stratum"] = int(fields.get("stratum", ""))
    except ValueError:
        out["stratum"] = None
    offset = None
    match = _SECONDS.match(fields.get("system time", ""))
    if match:
        offset = float(match.group(1))
        if match.group(2) and match.group(2).lower() == "slow":
            offset = -offset
    out["offset_seconds"] = offset
    out["synchronised"] = bool(out["leap_status"]) and out["leap_status"] != "Not synchronised"
    return out


# sshd -T prints these once per value; everything else is a single "key value" line.
_SSHD_MULTI = {"acceptenv", "allowusers", "denyusers", "allowgroups", "denygroups", "hostkey",
               "listenaddress", "port", "subsystem", "setenv", "include", "authorizedkeysfile"}
# Older spellings sshd -T may print, mapped to the current ones.
_SSHD_ALIASES = {("permitrootlogin", "without-password"): "prohibit-password"}


def parse_sshd_effective(text):
    """`sshd -T` -> {lowercase option: value or [values]}."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or " " not in line:
            continue
        key, value = line.split(" ", 1)
        key = key.lower()
        value = _SSHD_ALIASES.get((key, value), value)
        if key in _SSHD_MULTI:
            out.setdefault(key, []).append(value)
        else:
            out.setdefault(key, value)
    return out


def normalise_locale(name):
    """zh_CN.utf8, zh_CN.UTF-8 -> zh_CN.utf8 (the form `locale -a` prints)."""
    base, dot, codeset = name.partition(".")
    if not dot:
        return base
    return base + "." + codeset.lower().replace("-", "")


def parse_locale_list(text):
    return sorted({normalise_locale(line.strip()) for line in text.splitlines() if line.strip()})


def missing_locales(wanted, installed):
    have = {normalise_locale(name).lower() for name in installed}
    return [name for name in wanted if normalise_locale(name).lower() not in have]


def parse_sysctl_file(text):
    """A sysctl.d file -> {key: value} (keys with / are given with dots; values with spaces folded)."""
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        out[key.strip().lstrip("-").replace("/", ".")] = " ".join(value.split())
    return out


def sysctl_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def normalise_sysctl_value(value):
    return " ".join(str(value).split())


def parse_thp(text):
    """'always madvise [never]' -> 'never'."""
    match = re.search(r"\[(\w+)\]", text or "")
    return match.group(1) if match else None


def timezone_from_link(target):
    """/usr/share/zoneinfo/Asia/Shanghai (or ../usr/share/zoneinfo/...) -> Asia/Shanghai."""
    if not target:
        return None
    marker = "zoneinfo/"
    index = target.find(marker)
    return target[index + len(marker):] if index >= 0 else None


# --- readers of the live system (shared by host_baseline_facts and host_inspect) -------------------

def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def limits_files(limits_conf, limits_dir):
    """[(path, text)] of the pam_limits files in the order pam_limits reads them."""
    files = []
    for path in [limits_conf] + sorted(glob.glob(os.path.join(limits_dir, "*.conf"))):
        text = _read(path)
        if text is not None:
            files.append((path, text))
    return files


def account_groups(name):
    """(uid, [group names]) of an account, its primary group included; KeyError if it does not exist."""
    entry = pwd.getpwnam(name)
    groups = [g.gr_name for g in grp.getgrall() if name in g.gr_mem]
    try:
        groups.append(grp.getgrgid(entry.pw_gid).gr_name)
    except KeyError:
        pass
    return entry.pw_uid, groups
