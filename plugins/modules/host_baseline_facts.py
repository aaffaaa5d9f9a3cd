#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_baseline_facts
short_description: Read, in one call, the OS baseline state of a host
description:
  - Reads effective pam_limits per account (and which files decide them), live and configured sysctl
    values, the transparent-huge-pages mode, the time zone, chrony's tracking state, the locales
    installed and sshd's effective configuration (C(sshd -T)).
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10).
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  accounts:
    description: Accounts whose effective limits to report.
    type: list
    elements: str
    default: []
  limits_items:
    description: pam_limits items to report.
    type: list
    elements: str
    default: [nofile, nproc]
  managed_limits_file:
    description: The limits file the automation owns; entries elsewhere that decide a limit are overrides.
    type: path
  limits_conf:
    description: Main pam_limits file.
    type: path
    default: /etc/security/limits.conf
  limits_dir:
    description: pam_limits drop-in directory (files ending in .conf, read in sorted order).
    type: path
    default: /etc/security/limits.d
  sysctl_keys:
    description: sysctl keys whose live values to read from /proc/sys.
    type: list
    elements: str
    default: []
  sysctl_file:
    description: A sysctl.d file to parse.
    type: path
  locales:
    description: Locales that must be installed; those missing are returned in C(locales_missing).
    type: list
    elements: str
    default: []
  sshd:
    description: Collect sshd's effective configuration with C(sshd -T).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the OS baseline state
  host_baseline_facts:
    accounts: [kingbase]
    managed_limits_file: /etc/security/limits.d/90-huaian-platform.conf
    sysctl_keys: [vm.swappiness]
    sysctl_file: /etc/sysctl.d/90-huaian-platform.conf
  register: baseline
"""

RETURN = r"""
limits:
  description: Per account, per item, the effective soft and hard limit and the file and line that set it.
  returned: always
  type: dict
  sample: {"kingbase": {"nofile": {"soft": {"value": 65536, "source": "/etc/security/limits.d/90-huaian-platform.conf", "line": 4}}}}
limit_overrides:
  description: Entries outside managed_limits_file that decide a limit of a listed account.
  returned: always
  type: list
missing_accounts:
  description: Listed accounts that do not exist.
  returned: always
  type: list
sysctl_live:
  description: Live values of sysctl_keys (null where the key does not exist).
  returned: always
  type: dict
sysctl_file:
  description: Key/value pairs parsed from sysctl_file (empty when absent).
  returned: always
  type: dict
thp:
  description: Transparent huge pages C(enabled) and C(defrag) modes.
  returned: always
  type: dict
timezone:
  description: Time zone named by /etc/localtime.
  returned: always
  type: str
chrony:
  description: Parsed C(chronyc -n tracking) (reference, stratum, offset_seconds, leap_status, synchronised), or null.
  returned: always
  type: dict
locales:
  description: Installed locales as C(locale -a) prints them.
  returned: always
  type: list
locales_missing:
  description: Entries of the C(locales) option that are not installed.
  returned: always
  type: list
sshd:
  description: sshd's effective options, lowercase keys (C(sshd -T)), or null when not collected.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_host import (
    account_groups, limits_files,
    effective_limits, limit_overrides, normalise_sysctl_value, missing_locales, parse_chronyc_tracking, parse_locale_list,
    parse_sshd_effective, parse_sysctl_file, parse_thp, sysctl_path, timezone_from_link)


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def collect(module):
    params = module.params
    result = {"limits": {}, "limit_overrides": [], "missing_accounts": []}
    files = limits_files(params["limits_conf"], params["limits_dir"])
    for account in params["accounts"]:
        try:
            uid, groups = account_groups(account)
        except KeyError:
            result["missing_accounts"].append(account)
            continue
        items = tuple(params["limits_items"])
        result["limits"][account] = effective_limits(files, account, groups, uid, items)
        if params["managed_limits_file"]:
            result["limit_overrides"].extend(
                limit_overrides(files, params["managed_limits_file"], account, groups, uid, items))

    live = {}
    for key in params["sysctl_keys"]:
        text = read(sysctl_path(key))
        live[key] = normalise_sysctl_value(text) if text is not None else None
    result["sysctl_live"] = live
    text = read(params["sysctl_file"]) if params["sysctl_file"] else None
    result["sysctl_file"] = parse_sysctl_file(text) if text else {}

    thp_dir = "/sys/kernel/mm/transparent_hugepage"
    result["thp"] = {"enabled": parse_thp(read(thp_dir + "/enabled")),
                     "defrag": parse_thp(read(thp_dir + "/defrag"))}

    try:
        result["timezone"] = timezone_from_link(os.readlink("/etc/localtime"))
    except OSError:
        result["timezone"] = None

    result["chrony"] = None
    chronyc = module.get_bin_path("chronyc")
    if chronyc:
        rc, out, _ = module.run_command([chronyc, "-n", "tracking"], environ_update={"LC_ALL": "C"})
        if rc == 0:
            result["chrony"] = parse_chronyc_tracking(out)

    rc, out, _ = module.run_command(["locale", "-a"], environ_update={"LC_ALL": "C"})
    result["locales"] = parse_locale_list(out) if rc == 0 else []
    result["locales_missing"] = missing_locales(params["locales"], result["locales"])

    result["sshd"] = None
    if params["sshd"]:
        sshd = module.get_bin_path("sshd", opt_dirs=["/usr/sbin", "/sbin"])
        if sshd:
            rc, out, err = module.run_command([sshd, "-T"], environ_update={"LC_ALL": "C"})
            if rc == 0:
                result["sshd"] = parse_sshd_effective(out)
            else:
                result["sshd_error"] = err.strip()
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            accounts=dict(type="list", elements="str", default=[]),
            limits_items=dict(type="list", elements="str", default=["nofile", "nproc"]),
            managed_limits_file=dict(type="path"),
            limits_conf=dict(type="path", default="/etc/security/limits.conf"),
            limits_dir=dict(type="path", default="/etc/security/limits.d"),
            sysctl_keys=dict(type="list", elements="str", default=[]),
            sysctl_file=dict(type="path"),
            locales=dict(type="list", elements="str", default=[]),
            sshd=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **collect(module))


if __name__ == "__main__":
    main()
