"""INSPECTION_ERROR end to end on the controller (localhost only, no lab host): each way a component's
inspection can stop -- a command's non-zero exit, a module's crash, a module's refusal, a task timeout, an
unreachable probe host -- is recorded by playbooks/tasks/inspect_component_failed.yml with its real cause
and without the host's vault values."""
import json
import os
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
CANARY = "CANARY-inspection-error-9d41e7"

PLAYBOOK = """\
- name: Component inspections that stop
  hosts: localhost
  gather_facts: false
  # As inspect.yml's probe play: an unreachable service_probe_host is recorded, not fatal.
  ignore_unreachable: true
  vars:
    vault_canary_password: "%(canary)s"
    __rescue: "%(root)s/playbooks/tasks/inspect_component_failed.yml"
  tasks:
    - name: A command that fails
      block:
        - name: Read the server's role
          ansible.builtin.command:
            argv: [sh, -c, 'echo "using PGPASSWORD=$0" >&2; echo "ksql: error: fe_sendauth: no password supplied" >&2; exit 2',
                   "{{ vault_canary_password }}"]
          changed_when: false
      rescue:
        - name: Record the command's failure
          ansible.builtin.include_tasks: "{{ __rescue }}"
          vars: {__inspection_role: kingbase_cluster}

    - name: A module that crashes
      block:
        - name: Run the crashing module
          crash: {}
      rescue:
        - name: Record the crash
          ansible.builtin.include_tasks: "{{ __rescue }}"
          vars: {__inspection_role: bes}

    - name: A module that refuses its input
      block:
        - name: Inspect with a bad threshold
          kingbase_inspect: {bin_dir: /nonexistent, data_dir: /nonexistent, thresholds: {no_such_threshold: 1}}
      rescue:
        - name: Record the refusal
          ansible.builtin.include_tasks: "{{ __rescue }}"
          vars: {__inspection_role: kingbase_cluster}

    - name: A task that runs out of time
      block:
        - name: Hang
          ansible.builtin.command: sleep 30
          changed_when: false
          timeout: 1
      rescue:
        - name: Record the timeout
          ansible.builtin.include_tasks: "{{ __rescue }}"
          vars: {__inspection_role: os_baseline}

    - name: The probes from a host that cannot be reached
      ansible.builtin.include_tasks: "%(root)s/playbooks/tasks/inspect_component.yml"
      vars:
        __inspection_role: service_probe
        service_probe_host: probe-gone
        service_probe_endpoints: [{name: sms, component: sms, kind: tcp, host: 127.0.0.1, port: 9}]

    - name: Write what was recorded
      ansible.builtin.copy:
        content: "{{ inspection_errors | to_json }}"
        dest: "%(out)s"
        mode: "0600"
"""

CRASH = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
AnsibleModule(argument_spec={})
raise RuntimeError("cannot parse /proc/meminfo: line 3")
"""


def test_every_way_a_component_stops_is_recorded_with_its_cause(tmp_path):
    out = tmp_path / "errors.json"
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "crash.py").write_text(CRASH)
    (tmp_path / "play.yml").write_text(PLAYBOOK % {"canary": CANARY, "root": ROOT, "out": out})
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost: {ansible_connection: local, ansible_python_interpreter: %s}\n"
        "    probe-gone: {ansible_connection: ssh, ansible_host: 127.0.0.1, ansible_port: 9, ansible_user: nobody}\n"
        % (BIN / "python"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
    run = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    errors = json.loads(out.read_text())
    assert CANARY not in out.read_text()
    assert [(e["component"], e["task"]) for e in errors] == [
        ("kingbase_cluster", "Read the server's role"), ("bes", "Run the crashing module"),
        ("kingbase_cluster", "Inspect with a bad threshold"), ("os_baseline", "Hang"),
        ("service_probe", "Stop, saying why the probes could not run")]
    command, crash, refusal, timeout, probe = [e["message"] for e in errors]
    assert command.startswith(u"命令 sh -c ") and u"<已隐去>" in command
    assert command.endswith(u"；退出码 2；stderr 末尾：using PGPASSWORD=<已隐去> ⏎ ksql: error: fe_sendauth: no password supplied")
    assert crash.startswith(u"模块异常退出；退出码 1；异常 RuntimeError: cannot parse /proc/meminfo: line 3")
    assert refusal.startswith("unknown threshold 'no_such_threshold' (known: ")
    assert timeout == "The ansible.builtin.command action failed to execute in the expected time frame (1) and was terminated"
    assert probe == (u"从探测主机 probe-gone（service_probe_host）探测失败：主机不可达：Failed to connect to the host via "
                     u"ssh: ssh: connect to host 127.0.0.1 port 9: Connection refused")
