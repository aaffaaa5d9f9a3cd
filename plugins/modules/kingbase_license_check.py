#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kingbase_license_check
short_description: Judge a Kingbase node's licence from license.dat and get_license_validdays()
description:
  - Reads the node's C(license.dat) (UTF-8, else GB18030) and takes the answer of the server's function
    C(get_license_validdays) as the caller ran it, and tells the licence's state - permanent, trial, valid, expiring, expired or unknown - with
    the rule of C(license_judgement) in C(module_utils/huaian_inspect_kingbase.py), on the same view of the
    licence the inspection (C(kingbase_inspect)) judges.
  - A permanent licence (C(有效期间 0) in the file) is never a failure nor a warning, whatever the function
    answers. Expired (days left at or below O(fail_days)) fails; a trial or expiring licence warns; unknown
    (neither the file nor the function tells) fails when O(fail_unknown).
  - The module itself never fails on a licence; it returns C(license.fail) for the caller to act on, and
    emits the message as a warning when the licence warns, or when it would fail in check mode.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10). Reading a C(0640) file owned by the
    Kingbase account needs become.
version_added: "0.3.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  path:
    description: The node's C(license.dat).
    type: path
    required: true
  sql_rc:
    description: Exit status of the query of C(get_license_validdays) (C(ksql -At)); omitted - the function was not asked.
    type: int
  sql_stdout:
    description: Its standard output.
    type: str
    default: ""
  sql_stderr:
    description: Its standard error (the first line is reported when O(sql_rc) is not 0).
    type: str
    default: ""
  warn_days:
    description: Days left below which a dated licence warns (C(kingbase_license_warn_days)).
    type: int
    default: 30
  fail_days:
    description: Days left at or below which a licence is expired and fails (C(kingbase_license_fail_days)).
    type: int
    default: 0
  fail_unknown:
    description: Whether a licence nobody could read fails (C(kingbase_license_fail_unknown)); false warns.
    type: bool
    default: true
  node:
    description: The node's name in the message.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Judge the licence
  kingbase_license_check:
    path: /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin/license.dat
    sql_rc: "{{ days.rc }}"
    sql_stdout: "{{ days.stdout }}"
    sql_stderr: "{{ days.stderr }}"
    node: "{{ inventory_hostname }}"
  become: true
  register: judged
"""

RETURN = r"""
license:
  description:
    - The judgement. C(state) permanent, trial, valid, expiring, expired or unknown; C(kind) what license.dat
      (or the function) says - permanent, trial, dated or null; C(days_left) (null for a permanent licence);
      C(expiry_date) ISO date; C(source) license.dat or get_license_validdays; C(confidence) high or low
      (-2 from the function without a readable file); C(fail) whether the caller must stop; C(warn).
  returned: always
  type: dict
  sample: {"state": "permanent", "kind": "permanent", "days_left": null, "expiry_date": null, "source": "license.dat",
           "confidence": "high", "path": "/opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin/license.dat",
           "sql_days": -2, "file_error": null, "sql_error": null, "fail": false, "warn": false}
message:
  description: The judgement for the operator, naming the node and what to do.
  returned: always
  type: str
  sample: "city-kb01: Kingbase licence is permanent (license.dat /opt/.../license.dat: 有效期间 0)"
"""

import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect_kingbase import license_judgement, read_text


def sql_answer(rc, stdout, stderr):
    """(text, error) of the function's answer; (None, reason) when it was not asked or failed."""
    if rc is None:
        return None, "not asked (check mode, or the server is not running)"
    if rc != 0:
        lines = [ln.strip() for ln in (stderr or stdout or "").splitlines() if ln.strip()]
        return None, (lines[0][:300] if lines else "ksql rc %d" % rc)
    return stdout or "", None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            sql_rc=dict(type="int"),
            sql_stdout=dict(type="str", default=""),
            sql_stderr=dict(type="str", default=""),
            warn_days=dict(type="int", default=30),
            fail_days=dict(type="int", default=0),
            fail_unknown=dict(type="bool", default=True),
            node=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    text, file_error = read_text(p["path"])
    sql_text, sql_error = sql_answer(p["sql_rc"], p["sql_stdout"], p["sql_stderr"])
    judged = license_judgement(text, file_error, sql_text, sql_error, datetime.date.today(), p["warn_days"],
                               p["fail_days"], p["node"], path=p["path"], fail_unknown=p["fail_unknown"])
    message = judged.pop("message")
    if judged["warn"]:
        module.warn(message)
    elif judged["fail"] and module.check_mode:
        module.warn("check mode, a real run stops here: %s" % message)
    module.exit_json(changed=False, license=judged, message=message)


if __name__ == "__main__":
    main()
