#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preview_inspect
short_description: Inspect the preview services of one host (unit state and health probe per kind) in one call
description:
  - For every preview service kind the host runs (yozo_preview, ofd_preview, ofd_convert), reads its systemd
    unit's state (one C(systemctl show) for all units) and probes its health URL (the probe the role's own
    check uses, which renders the sample document through the cache). With I(cache_check) a second probe
    must be answered from the cache (header C(X-Cache) C(HIT)), as the role's check requires.
  - Judges them against thresholds; a service that is down or failing is a finding, never a module failure.
  - Read-only on the host (the probe renders into the services' own cache, as their health check does);
    safe in check mode. Runs on Python 3.7 (Kylin V10), standard library only.
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  services:
    description: The kinds to inspect.
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description: The kind (yozo_preview, ofd_preview, ofd_convert).
        type: str
        required: true
      unit:
        description: Its systemd unit (C(.service) may be left out).
        type: str
        required: true
      url:
        description: Its health probe URL.
        type: str
        required: true
  timeout:
    description: Seconds the probe may take before it counts as failed.
    type: int
    default: 10
  cache_check:
    description: Probe twice; the second answer must come from the cache (I(cache_header) HIT).
    type: bool
    default: true
  cache_header:
    description: Response header that says whether the answer came from the cache.
    type: str
    default: X-Cache
  thresholds:
    description:
      - Overrides of the default thresholds; an unknown key is an error.
      - C(health_ms_warning) (5000) - milliseconds the first probe (a render) may take.
      - C(restarts_warning) (3) - systemd automatic restarts of a unit (NRestarts) that are a warning.
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection (no additional checks for this component).
    type: bool
    default: false
  horizon_days:
    description: Accepted for the common contract; licences of the vendor services are not readable (UNCONFIRMED).
    type: int
    default: 90
notes:
  - "Finding codes (severity - meaning - action):"
  - "C(PREVIEW_DOWN) critical - the kind's unit is not active (or not installed) - read its journal, start it."
  - "C(PREVIEW_HEALTH_FAILED) critical - the probe did not answer 200 (refused, timeout, error) - read the journal; sample document, fonts."
  - "C(PREVIEW_CACHE_UNAVAILABLE) critical - the cache-required probe answered 503 because the cache cannot be reached - check the cache cluster."
  - "C(PREVIEW_SLOW) warning - the probe's render took longer than health_ms_warning - check load and memory."
  - "C(PREVIEW_CACHE_MISS) warning - the second probe was not served from the cache - check the cache master and evictions."
  - "C(PREVIEW_RESTARTS) warning - systemd restarted the unit restarts_warning times or more - find the crash in the journal."
  - "Metrics - C(preview_health_ms:<kind>) (the first probe's duration, when it answered 200)."
"""

EXAMPLES = r"""
- name: Inspect the preview services of this host
  preview_inspect:
    services:
      - {kind: yozo_preview, unit: preview-yozo-preview, url: "http://127.0.0.1:8090/health?cache=required"}
    thresholds: {health_ms_warning: 3000}
  register: preview
"""

RETURN = r"""
facts:
  description: Per kind, its unit's state and its probe(s) (status, ms, cache headers).
  returned: always
  type: dict
  sample: {"yozo_preview": {"unit": "preview-yozo-preview.service", "unit_state": {"ActiveState": "active", "NRestarts": "0"},
           "probe": {"status": 200, "ms": 35, "headers": {"X-Cache": "MISS"}}, "cache_probe": {"status": 200, "cache": "HIT"}}}
metrics:
  description: Numbers for trend charts.
  returned: always
  type: dict
  sample: {"preview_health_ms:yozo_preview": 35}
findings:
  description: Problems found, each {code, severity, component, subject, message, action, value, threshold}.
  returned: always
  type: list
  elements: dict
thresholds:
  description: The thresholds in effect.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec, run_bounded
from ansible.module_utils.huaian_inspect_preview import (DEFAULT_THRESHOLDS, UNIT_PROPERTIES, gather, judge,
                                                         merge_thresholds, parse_systemctl_show)




def unit_states(module, units):
    systemctl = module.get_bin_path("systemctl")
    if not systemctl or not units:
        return {}
    rc, out, err, _timed_out = run_bounded(module, [systemctl, "show", "--no-pager", "-p", ",".join(UNIT_PROPERTIES)] + units)
    return parse_systemctl_show(out) if rc == 0 else {}


def run(module):
    p = module.params
    try:
        thresholds = merge_thresholds(DEFAULT_THRESHOLDS, p["thresholds"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    units = [s["unit"] if s["unit"].endswith(".service") else s["unit"] + ".service" for s in p["services"]]
    facts = gather(p["services"], unit_states(module, units), p["timeout"], p["cache_check"], p["cache_header"])
    findings, metrics = judge(facts, thresholds, p["cache_check"], deep=p["deep"])
    return {"changed": False, "facts": facts, "metrics": metrics, "findings": findings, "thresholds": thresholds}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", required=True, options=dict(
                kind=dict(type="str", required=True),
                unit=dict(type="str", required=True),
                url=dict(type="str", required=True),
            )),
            timeout=dict(type="int", default=10),
            cache_check=dict(type="bool", default=True),
            cache_header=dict(type="str", default="X-Cache"),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**guarded(module, "preview_inspect", lambda: run(module)))


if __name__ == "__main__":
    main()
