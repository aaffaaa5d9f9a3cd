#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: config_baseline
short_description: Record, in one call, the normalised configuration baseline of a host
description:
  - Reads the configuration files the roles own and parses each into flat keys (format per source),
    plus the crontabs of listed users, the versions of listed packages (rpm or dpkg) and listed
    accounts (uid, gid, home, shell, groups; never a password or a hash).
  - Secrets are redacted. The value of a key matching one of O(redact_keys) (and none of
    O(redact_exempt)), or a value matching one of O(redact_values), becomes C(<redacted>). Neither the
    value nor any hash of it is returned.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10).
  - The playbooks C(baseline_record.yml), C(drift.yml) and C(baseline_accept.yml) call it once per host
    with the sources each role declares in C(<role>_baseline_sources) (docs/runbooks/baselines.md).
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  sources:
    description:
      - Files to record. C(name) names the source in the baseline (unique per host), C(path) is the file,
        C(format) its parser.
      - "Formats: C(kv) (kingbase.conf, repmgr.conf: name = value, quotes stripped), C(kv_space)
        (directive value, repeated directives keep all), C(redis) (redis.conf, sentinel.conf),
        C(hba) (sys_hba.conf: 'type database user address' -> 'method options', plus C(#order)),
        C(xml) (xpath-like keys), C(jvm_options) (one key per option name: C(-Xmx), C(-XX:+UseG1GC),
        C(-Dfoo)), C(properties), C(limits), C(sysctl), C(sshd), C(crontab), C(systemd) (Section.Key),
        C(lines) (each line a key) and C(version) (first line of a VERSION file)."
      - Every file source also records C(#state) (present, absent, unreadable) and, when present,
        C(#owner), C(#group) and C(#mode).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Source name in the baseline.
        type: str
        required: true
      path:
        description: File to read.
        type: path
        required: true
      format:
        description: Parser.
        type: str
        required: true
        choices: [kv, kv_space, redis, hba, xml, jvm_options, properties, limits, sysctl, sshd, crontab, systemd, lines, version]
  crontab_users:
    description: Users whose crontab to record, each as source C(crontab:<user>).
    type: list
    elements: str
    default: []
  crontab_dirs:
    description: Crontab spool directories to look in, first match wins (Debian, then RedHat family).
    type: list
    elements: path
    default: [/var/spool/cron/crontabs, /var/spool/cron]
  packages:
    description:
      - Packages whose installed version to record (source C(packages); C(absent) when not installed).
      - The package manager whose database is on the host is asked (rpm first when both are, as on
        openEuler or UOS with dpkg installed); when it lists none of the packages, the other one is asked too.
    type: list
    elements: str
    default: []
  accounts:
    description: Accounts to record (source C(accounts)).
    type: list
    elements: str
    default: []
  declaration:
    description:
      - "What to read, as one dict with the keys C(sources), C(crontab_users), C(packages) and C(accounts) (each
        as the option of that name): the C(metadata.declared) a stored baseline keeps, which C(drift.yml) passes
        back whole. Mutually exclusive with those four options."
    type: dict
    suboptions:
      sources:
        description: As O(sources).
        type: list
        elements: dict
        default: []
      crontab_users:
        description: As O(crontab_users).
        type: list
        elements: str
        default: []
      packages:
        description: As O(packages).
        type: list
        elements: str
        default: []
      accounts:
        description: As O(accounts).
        type: list
        elements: str
        default: []
  sshd_effective:
    description: Also record sshd's effective configuration (C(sshd -T)) as source C(sshd -T).
    type: bool
    default: false
  redact_keys:
    description: Regular expressions (case-insensitive, searched in the key) of keys whose values are secrets.
    type: list
    elements: str
  redact_values:
    description: Regular expressions (case-insensitive) of values that carry a secret whatever their key.
    type: list
    elements: str
  redact_exempt:
    description: Regular expressions of keys that match O(redact_keys) but hold no secret (password_encryption...).
    type: list
    elements: str
notes:
  - Defaults of the redaction patterns are in C(plugins/module_utils/huaian_baseline.py)
    (C(DEFAULT_REDACT_KEYS), C(DEFAULT_REDACT_VALUES), C(DEFAULT_REDACT_EXEMPT)).
"""

EXAMPLES = r"""
- name: Record the host's configuration baseline
  config_baseline:
    sources:
      - {name: kingbase.conf, path: /opt/Kingbase/ES/V8/data/kingbase.conf, format: kv}
      - {name: sys_hba.conf, path: /opt/Kingbase/ES/V8/data/sys_hba.conf, format: hba}
      - {name: sshd_config, path: /etc/ssh/sshd_config, format: sshd}
    crontab_users: [kingbase]
    packages: [openssh-server, chrony]
    accounts: [kingbase]

- name: Read again exactly what a stored baseline covers
  config_baseline:
    declaration: "{{ (lookup('ansible.builtin.file', 'baselines/lab/city-kb01.json') | from_json).metadata.declared }}"
  become: true
  register: baseline
"""

RETURN = r"""
baseline:
  description: Source name -> key -> value (a string, or a list of strings for repeated directives).
  returned: always
  type: dict
  sample: {"kingbase.conf": {"#state": "present", "#mode": "0600", "max_connections": "500"}}
summary:
  description: Per source, the number of keys, the file state and the keys whose values were redacted.
  returned: always
  type: dict
  sample: {"kingbase.conf": {"keys": 34, "state": "present", "redacted": []}}
key_count:
  description: Total number of keys recorded.
  returned: always
  type: int
"""

import grp
import io
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import run_bounded as _run_bounded
from ansible.module_utils.huaian_baseline import (
    DEFAULT_REDACT_EXEMPT, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_VALUES, FORMATS, accounts_baseline, compile_patterns,
    normalise, packages_baseline, parse, parse_dpkg_query, parse_rpm_query, parse_sshd_effective, redact)


def run_bounded(module, cmd, **kwargs):
    """(rc, out, err, timed_out) under the shared command timeout; rc 124 from rpm -q is an answer."""
    return _run_bounded(module, cmd, require_elapsed=True, **kwargs)


def read_text(path):
    """(state, text): state present, absent or unreadable."""
    if not os.path.lexists(path):
        return "absent", None
    if not os.path.isfile(path):
        return "unreadable", None
    try:
        with io.open(path, encoding="utf-8", errors="replace") as handle:
            return "present", handle.read()
    except (IOError, OSError):
        return "unreadable", None


def file_meta(path):
    try:
        st = os.stat(path)
    except OSError:
        return {}
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return {"#owner": owner, "#group": group, "#mode": "%04o" % stat.S_IMODE(st.st_mode)}


def file_source(path, fmt):
    state, text = read_text(path)
    data = {"#state": state}
    if state == "present":
        data.update(parse(fmt, text))
        data.update(file_meta(path))
    return data


def crontab_path(user, dirs):
    for directory in dirs:
        candidate = os.path.join(directory, user)
        if os.path.isfile(candidate):
            return candidate
    return None


# Where each package manager keeps its database. A host may carry both tools (openEuler and UOS ship
# dpkg next to rpm): the one whose database is on the host is asked first, rpm before dpkg when both are.
PACKAGE_DATABASES = (
    ("rpm", ("/var/lib/rpm", "/usr/lib/sysimage/rpm")),
    ("dpkg-query", ("/var/lib/dpkg/status",)),
)
PACKAGE_QUERIES = {
    "rpm": (["-q", "--qf", "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n"], parse_rpm_query),
    "dpkg-query": (["-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"], parse_dpkg_query),
}


def package_tools(module, exists=os.path.exists):
    """[(tool, path)] of the installed package tools in the order to ask them: those whose database
    exists first (rpm before dpkg-query), then the others."""
    ranked = []
    for order, (tool, databases) in enumerate(PACKAGE_DATABASES):
        path = module.get_bin_path(tool)
        if path:
            ranked.append((0 if any(exists(d) for d in databases) else 1, order, tool, path))
    return [(tool, path) for _has_db, _order, tool, path in sorted(ranked)]


def installed_packages(module, names, exists=os.path.exists):
    """(name -> version of the installed ones, None) or (None, error) when the query timed out.

    The tool whose database is on the host is asked first; when it lists none of the names, the other
    one (if installed) is asked too, so a stray second package manager cannot make everything absent.
    """
    if not names:
        return {}, None
    tools = package_tools(module, exists)
    if not tools:
        module.fail_json(msg="neither dpkg-query nor rpm found: cannot read package versions")
    installed = {}
    for tool, path in tools:
        args, parser = PACKAGE_QUERIES[tool]
        # The exit code only says how many names are not installed (rpm: their number, dpkg-query: 1);
        # the output is read either way.
        _rc, out, err, timed_out = run_bounded(module, [path] + args + list(names))
        if timed_out:
            # A query that timed out is no evidence that the packages are absent.
            return None, err
        installed = parser(out)
        if installed:
            break
    return installed, None


DECLARED = ("sources", "crontab_users", "packages", "accounts")


def declared_params(declaration):
    """The four reading options out of a declaration (absent keys read nothing)."""
    return dict((key, list(declaration.get(key) or [])) for key in DECLARED)


def collect(module):
    params = module.params
    raw = {}
    seen = {}
    for source in params["sources"]:
        name, path, fmt = source["name"], source["path"], source["format"]
        if name in seen:
            if seen[name] != (path, fmt):
                module.fail_json(msg="source %s is declared twice with different files: %s (%s) and %s (%s)"
                                 % (name, seen[name][0], seen[name][1], path, fmt))
            continue
        seen[name] = (path, fmt)
        raw[name] = file_source(path, fmt)
    for user in params["crontab_users"]:
        path = crontab_path(user, params["crontab_dirs"])
        raw["crontab:" + user] = file_source(path, "crontab") if path else {"#state": "absent"}
    if params["packages"]:
        installed, error = installed_packages(module, params["packages"])
        # A query that timed out is no evidence that the packages are absent.
        raw["packages"] = packages_baseline(params["packages"], installed) if error is None else {"#error": error}
    if params["accounts"]:
        passwd = read_text("/etc/passwd")[1] or ""
        group = read_text("/etc/group")[1] or ""
        raw["accounts"] = accounts_baseline(params["accounts"], passwd, group)
    if params["sshd_effective"]:
        sshd = module.get_bin_path("sshd", opt_dirs=["/usr/sbin", "/sbin"])
        if sshd:
            rc, out, err, _timed_out = run_bounded(module, [sshd, "-T"])
            raw["sshd -T"] = parse_sshd_effective(out) if rc == 0 else {"#error": (err or out).strip()[:200]}
        else:
            raw["sshd -T"] = {"#state": "absent"}

    key_patterns = compile_patterns(DEFAULT_REDACT_KEYS if params["redact_keys"] is None else params["redact_keys"])
    value_patterns = compile_patterns(DEFAULT_REDACT_VALUES if params["redact_values"] is None else params["redact_values"])
    exempt = compile_patterns(DEFAULT_REDACT_EXEMPT if params["redact_exempt"] is None else params["redact_exempt"])
    baseline, summary = {}, {}
    for name, data in raw.items():
        clean, hidden = redact(normalise(data), key_patterns, value_patterns, exempt)
        baseline[name] = clean
        summary[name] = {"keys": len(clean), "state": clean.get("#state", "present"), "redacted": hidden}
    return {"baseline": baseline, "summary": summary, "key_count": sum(s["keys"] for s in summary.values())}


def main():
    source_options = dict(
        name=dict(type="str", required=True),
        path=dict(type="path", required=True),
        format=dict(type="str", required=True, choices=list(FORMATS)),
    )
    module = AnsibleModule(
        argument_spec=dict(
            sources=dict(type="list", elements="dict", default=[], options=source_options),
            crontab_users=dict(type="list", elements="str", default=[]),
            crontab_dirs=dict(type="list", elements="path", default=["/var/spool/cron/crontabs", "/var/spool/cron"]),
            packages=dict(type="list", elements="str", default=[]),
            accounts=dict(type="list", elements="str", default=[]),
            declaration=dict(type="dict", options=dict(
                sources=dict(type="list", elements="dict", default=[], options=source_options),
                crontab_users=dict(type="list", elements="str", default=[]),
                packages=dict(type="list", elements="str", default=[]),
                accounts=dict(type="list", elements="str", default=[]),
            )),
            sshd_effective=dict(type="bool", default=False),
            redact_keys=dict(type="list", elements="str", no_log=False),
            redact_values=dict(type="list", elements="str"),
            redact_exempt=dict(type="list", elements="str"),
        ),
        mutually_exclusive=[("declaration", key) for key in DECLARED],
        supports_check_mode=True,
    )
    if module.params["declaration"] is not None:
        module.params.update(declared_params(module.params["declaration"]))
    try:
        for key in ("redact_keys", "redact_values", "redact_exempt"):
            compile_patterns(module.params[key] or [])
    except Exception as exc:  # re.error
        module.fail_json(msg="invalid redaction pattern: %s" % exc)
    result = collect(module)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
