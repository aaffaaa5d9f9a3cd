#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: endpoint_probe
short_description: Probe the SMS gateway connector and the mobile apps' back ends in one call
description:
  - Runs each probe from the host the task runs on (the controller, or a probe host inside the government
    network) - an HTTP(S) GET without any proxy (TLS certificates verified unless C(validate_certs=false)),
    or a TCP connect. Times each probe and judges it against thresholds.
  - In deep mode, the verified certificate of each HTTPS endpoint is read and one expiring within
    O(horizon_days) is a finding.
  - Read-only; safe in check mode; an unreachable endpoint is a finding, never a failure. Fails only on
    invalid parameters (a probe without a url, host or port, a duplicate name, an unknown threshold).
    Runs on Python 3.7.
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  probes:
    description: The endpoints to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Stable identifier (subject of findings, suffix of metric names), e.g. C(app-huaiwei-qianshao).
        type: str
        required: true
      label:
        description: Display name (zh_CN) used in messages, e.g. 淮委前哨.
        type: str
      component:
        description: C(sms) (the SMS gateway connector) or C(app) (a mobile app's back end).
        type: str
        required: true
        choices: [sms, app]
      kind:
        description: C(http) (GET url) or C(tcp) (connect to host:port).
        type: str
        required: true
        choices: [http, tcp]
      url:
        description: The URL of an http probe.
        type: str
      host:
        description: The host of a tcp probe.
        type: str
      port:
        description: The port of a tcp probe.
        type: int
      expect_status:
        description: HTTP statuses that count as reachable.
        type: list
        elements: int
        default: [200]
      timeout_s:
        description: Timeout of this probe (default the C(timeout_s) threshold).
        type: float
      warn_ms:
        description: Response time at or above which this probe is slow (default the C(warn_ms) threshold).
        type: int
      validate_certs:
        description: Verify the TLS certificate of an https url.
        type: bool
        default: true
  thresholds:
    description: Overrides of the defaults C(timeout_s) 5 and C(warn_ms) 2000 (unknown keys are an error).
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection; adds the certificate horizon of https endpoints.
    type: bool
    default: false
  horizon_days:
    description: In deep mode, a certificate expiring within this many days is a finding.
    type: int
    default: 90
notes:
  - "Finding codes (component C(app) or C(sms), subject the probe name):"
  - "C(APP_UNREACHABLE) / C(SMS_UNREACHABLE) critical: no connection, a timeout, a TLS or certificate error, or an HTTP status
    not in expect_status. Action: network and firewall from the probe host, then the service on its host; for TLS the certificate."
  - "C(APP_SLOW) / C(SMS_SLOW) warning: the answer took warn_ms or more. Action: load, dependencies, network latency."
  - "C(APP_CERT_EXPIRING) / C(SMS_CERT_EXPIRING) warning (deep mode): the https certificate expires within horizon_days. Action: renew it."
  - "Metrics: C(probe_ms:<name>) (reachable probes), C(probe_up:<name>) (1 or 0), C(probe_cert_days:<name>) (deep, https)."
"""

EXAMPLES = r"""
- name: Probe the SMS connector and the mobile back ends
  endpoint_probe:
    probes:
      - {name: app-huaiwei-qianshao, label: 淮委前哨, component: app, kind: http,
         url: "https://m.example.gov.cn/qianshao/health", expect_status: [200], warn_ms: 2000}
      - {name: sms-connector, label: 短信网关, component: sms, kind: tcp, host: 10.0.0.5, port: 7890}
    deep: "{{ inspection_deep | default(false) }}"
  delegate_to: localhost
  run_once: true
  register: probes
"""

RETURN = r"""
facts:
  description: Per probe (facts.probes.<name>) target, status, ms, error_kind, error; the thresholds in effect.
  returned: always
  type: dict
  sample: {"probes": {"sms-connector": {"component": "sms", "kind": "tcp", "target": "10.0.0.5:7890", "status": null,
           "ms": 3, "error_kind": null, "error": null}}}
metrics:
  description: Flat name -> number for trend charts.
  returned: always
  type: dict
  sample: {"probe_ms:sms-connector": 3, "probe_up:sms-connector": 1}
findings:
  description: "Findings: code, severity, component, subject, message (zh_CN), action (zh_CN), value, threshold."
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_probe import inspect


def main():
    module = AnsibleModule(
        argument_spec=dict(
            probes=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                label=dict(type="str"),
                component=dict(type="str", required=True, choices=["sms", "app"]),
                kind=dict(type="str", required=True, choices=["http", "tcp"]),
                url=dict(type="str"),
                host=dict(type="str"),
                port=dict(type="int"),
                expect_status=dict(type="list", elements="int", default=[200]),
                timeout_s=dict(type="float"),
                warn_ms=dict(type="int"),
                validate_certs=dict(type="bool", default=True),
            )),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params

    def body():
        try:
            facts, metrics, findings = inspect(p["probes"], p["thresholds"], p["deep"], p["horizon_days"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        facts["deep"] = p["deep"]
        return dict(changed=False, facts=facts, metrics=metrics, findings=findings)

    module.exit_json(**guarded(module, "endpoint_probe", body))


if __name__ == "__main__":
    main()
