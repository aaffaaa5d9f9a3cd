#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bes_inspect
short_description: Inspect the BES instances of a host in one call and judge them against thresholds
description:
  - For each instance, finds its server JVM the way the role identifies it (the service's MainPID, the
    process whose command line names the instance root through C(-Dcom.bes.instanceRoot=) or
    C(-Dcatalina.base=)), and reads the process owner, the heap use, the TCP ports the process listens
    on, the health URL, the error lines of the last 24 hours of its logs and the size of its log directory.
  - Heap use comes from the JVM's performance-data file C(/tmp/hsperfdata_<user>/<pid>) (what C(jstat -gc)
    reads; present on JRE-only installs, read without attaching to the JVM). With O(heap_attach), a JVM
    started with C(-XX:-UsePerfData) is read with C(jcmd <pid> GC.heap_info) as the process owner instead.
  - The heap is judged on the old generation's occupancy (old generation used / what it may grow to, that
    is the whole heap for G1 and Shenandoah, the old generation's own maximum for Parallel, Serial and CMS),
    not on total use, because eden fills to nearly 100 % before every young GC on a healthy JVM.
    Only where the source gives no old-generation figures (C(jcmd GC.heap_info) output) is total use judged.
    The facts carry both (C(used_pct), C(old_used_pct)) and which one was judged (C(judged), C(judged_pct)).
  - Every command (C(systemctl show), C(jcmd)) runs under coreutils C(timeout) (30 s, then SIGKILL 5 s
    later); one that times out counts as unreadable (no MainPID, heap unknown), never as a failure.
  - Listeners are the process's socket inodes (C(/proc/<pid>/fd)) matched against the listening sockets of
    C(/proc/<pid>/net/tcp) and C(tcp6).
  - Read-only; safe in check mode; never fails because BES is down or unhealthy (that is a finding). Fails
    only on invalid parameters. Runs on Python 3.7 (Kylin V10). Run as root (other users' /proc entries).
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  instances:
    description: The BES instances on this host.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Instance name (subject of findings, suffix of metric names).
        type: str
        required: true
      service:
        description: systemd unit running the instance; its MainPID is preferred when several processes match.
        type: str
      pid_file:
        description: A pid file naming the server process (preferred after the service's MainPID).
        type: path
      instance_root:
        description: The instance root (C(com.bes.instanceRoot)).
        type: path
        required: true
      user:
        description: The account the server must run as.
        type: str
        required: true
      log_dir:
        description: The instance's log directory.
        type: path
        required: true
      listeners:
        description: Ports the server must listen on; C(severity) of a missing one (default critical).
        type: list
        elements: dict
        default: []
      health_url:
        description: Health URL (GET without proxy); empty skips the health check.
        type: str
      health_expect:
        description: Text the health answer's body must contain.
        type: str
  thresholds:
    description:
      - Overrides of the default thresholds (unknown keys are an error).
      - C(heap_used_pct_warning) 85, C(heap_used_pct_critical) 95 (old generation occupancy, %, one sample;
        total heap use / max heap where the old generation cannot be read, see the description);
        C(health_timeout_s) 10; C(health_warning_ms) 3000; C(log_errors_warning) 1 (error lines in 24 h);
        C(log_oom_critical) 1 (OutOfMemoryError lines plus heap dumps in 24 h);
        C(log_dir_mb_warning) 4096, C(log_dir_mb_critical) 8192 (size of the log directory).
    type: dict
    default: {}
  deep:
    description: Holiday / important-event inspection. BES adds no checks yet (its licence format is UNCONFIRMED, B9).
    type: bool
    default: false
  horizon_days:
    description: Deep mode's licence and certificate horizon (unused by BES so far).
    type: int
    default: 90
  log_error_pattern:
    description: Python regular expression of an error line (case-sensitive).
    type: str
    default: 'ERROR|SEVERE|OutOfMemoryError'
  log_oom_pattern:
    description: Python regular expression of an out-of-memory line.
    type: str
    default: 'OutOfMemoryError'
  log_file_pattern:
    description: Python regular expression (searched in the file name) of the log files to scan.
    type: str
    default: '\.(log|out|txt)(\.[0-9]+)?$'
  log_lines_kept:
    description: How many of the last error lines to return (secrets redacted).
    type: int
    default: 5
  heap_attach:
    description: When the perf-data file is unreadable, attach with jcmd (the JVM then creates C(/tmp/.java_pid<pid>)).
    type: bool
    default: false
notes:
  - "Finding codes (component C(bes), subject the instance name or C(<instance>:<port>)):"
  - "C(BES_DOWN) critical: no server process for the instance. Action: journalctl -u <service>, server.log, start it (docs/runbooks/bes.md)."
  - "C(BES_WRONG_USER) critical: the server runs as another account than C(user). Action: find who started it, restart through the service."
  - "C(BES_HEAP_HIGH) warning/critical: old generation occupancy (total heap use where old-generation figures are missing; the message
    says which) at or above C(heap_used_pct_warning) / C(_critical). Action: GC log, load, heap dump; resize the heap."
  - "C(BES_HEAP_UNKNOWN) warning: the heap could not be read (UsePerfData off). Action: re-enable it or set heap_attach."
  - "C(BES_LISTENER_MISSING) critical (or the listener's severity): an expected port is not listened on by the server. Action: server.log, port conflicts."
  - "C(BES_HEALTH_FAILED) critical: the health URL did not answer 2xx (or lacked health_expect). Action: server.log, JDBC pool, database."
  - "C(BES_HEALTH_SLOW) warning: the health URL answered after C(health_warning_ms) or more. Action: thread and JDBC pools, database latency."
  - "C(BES_LOG_ERRORS) warning: C(log_errors_warning) or more error lines in the last 24 h. Action: read facts.instances.<i>.logs.last_errors."
  - "C(BES_LOG_OOM) critical: OutOfMemoryError lines or heap dumps in the last 24 h. Action: analyse the dump, fix the leak or resize."
  - "C(BES_LOG_DISK) warning/critical: the log directory holds C(log_dir_mb_warning) / C(_critical) MB or more. Action: rotation, log level, old dumps."
  - "Metrics: C(bes_heap_used_pct:<instance>) (the judged heap figure: old generation occupancy, or total use where that is missing),
    C(bes_log_errors_24h:<instance>), C(bes_log_bytes:<instance>), C(bes_health_ms:<instance>)."
  - "Log lines count when their leading timestamp (ISO, Tomcat one-line, access log) is within 24 h; lines without one take the time of the
    line before them. Only files modified in the last 24 h are read (their last 32 MiB)."
"""

EXAMPLES = r"""
- name: Inspect the BES instance
  bes_inspect:
    instances:
      - name: server
        service: bes-server
        instance_root: /opt/BES/instances/server
        user: bes
        log_dir: /var/log/bes/server
        listeners: [{name: http-listener-1, port: 18080}, {name: admin console, port: 1900, severity: warning}]
        health_url: http://127.0.0.1:18080/huaian-sample/health.jsp
        health_expect: '"db":"ok"'
    thresholds: {heap_used_pct_warning: 80}
  become: true
  register: bes_inspection
"""

RETURN = r"""
facts:
  description: Per instance (facts.instances.<name>) the process, heap, listeners, health and logs; the thresholds in effect.
  returned: always
  type: dict
  sample: {"instances": {"server": {"process": {"running": true, "pid": 412, "user": "bes"},
           "heap": {"used": 73400320, "max": 268435456, "used_pct": 27.3, "old_used": 41943040, "old_max": 268435456,
                    "old_used_pct": 15.6, "judged": "old_gen", "judged_pct": 15.6, "source": "hsperfdata"},
           "listeners": [{"address": "0.0.0.0", "port": 18080}], "health": {"ok": true, "status": 200, "ms": 35},
           "logs": {"bytes": 1048576, "errors_24h": 0, "oom_24h": 0, "last_errors": []}}}}
metrics:
  description: Flat name -> number for trend charts.
  returned: always
  type: dict
  sample: {"bes_heap_used_pct:server": 15.6, "bes_log_errors_24h:server": 0, "bes_log_bytes:server": 1048576, "bes_health_ms:server": 35}
findings:
  description: "Findings: code, severity, component, subject, message (zh_CN), action (zh_CN), value, threshold."
  returned: always
  type: list
  elements: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect import guarded, inspection_argument_spec
from ansible.module_utils.huaian_inspect_bes import inspect

# A hung systemd/D-Bus or a JVM that does not answer the attach must not stall the inspection run.
COMMAND_TIMEOUT_S = 30
KILL_AFTER_S = 5
TIMED_OUT_RC = (124, 137)  # coreutils timeout: ran out of time (124), had to be killed (128 + 9)


def bounded(module, cmd):
    """cmd prefixed with coreutils timeout when it is installed (as kingbase_inspect does)."""
    timeout = module.get_bin_path("timeout")
    if not timeout:
        return list(cmd)
    return [timeout, "-k", str(KILL_AFTER_S), str(COMMAND_TIMEOUT_S)] + list(cmd)


def runner(module):
    """run(cmd) -> (rc, out, err) for huaian_inspect_bes, each command bounded by COMMAND_TIMEOUT_S."""
    def run(cmd):
        rc, out, err = module.run_command(bounded(module, cmd), environ_update={"LC_ALL": "C"})
        if rc in TIMED_OUT_RC:
            # Could not read: the callers take any non-zero rc as "no answer" and ignore the output.
            return rc, "", "%s timed out after %d s" % (cmd[0], COMMAND_TIMEOUT_S)
        return rc, out, err
    return run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            instances=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                service=dict(type="str"),
                pid_file=dict(type="path"),
                instance_root=dict(type="path", required=True),
                user=dict(type="str", required=True),
                log_dir=dict(type="path", required=True),
                listeners=dict(type="list", elements="dict", default=[], options=dict(
                    name=dict(type="str", required=True),
                    port=dict(type="int", required=True),
                    severity=dict(type="str", default="critical", choices=["critical", "warning"]),
                )),
                health_url=dict(type="str"),
                health_expect=dict(type="str"),
            )),
            log_error_pattern=dict(type="str", default="ERROR|SEVERE|OutOfMemoryError"),
            log_oom_pattern=dict(type="str", default="OutOfMemoryError"),
            log_file_pattern=dict(type="str", default=r"\.(log|out|txt)(\.[0-9]+)?$"),
            log_lines_kept=dict(type="int", default=5),
            heap_attach=dict(type="bool", default=False),
            **inspection_argument_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    names = [i["name"] for i in p["instances"]]
    if len(set(names)) != len(names):
        module.fail_json(msg="instance names must be unique: %s" % ", ".join(names))
    for key in ("log_error_pattern", "log_oom_pattern", "log_file_pattern"):
        try:
            re.compile(p[key])
        except re.error as exc:
            module.fail_json(msg="%s is not a valid regular expression: %s" % (key, exc))
    options = {"error_pattern": p["log_error_pattern"], "oom_pattern": p["log_oom_pattern"],
               "file_pattern": p["log_file_pattern"], "keep": p["log_lines_kept"], "attach": p["heap_attach"]}


    def body():
        try:
            facts, metrics, findings = inspect(p["instances"], p["thresholds"], options, run=runner(module))
        except ValueError as exc:
            module.fail_json(msg=str(exc))
        facts["deep"] = p["deep"]
        return dict(changed=False, facts=facts, metrics=metrics, findings=findings)

    module.exit_json(**guarded(module, "bes_inspect", body))


if __name__ == "__main__":
    main()
