"""Every playbook that can change hosts requires a change id, judged from what its tasks do (not a list).

A playbook is read-only on hosts when every task that runs on a managed host (plays on localhost and tasks
delegated to localhost act on the controller: reports, baselines) is check-style: a module that only reads
(assert, stat, find, slurp, uri GET, the project's read-only fact modules ...), a command/shell with
`changed_when: false`, or a task forced into `check_mode: true`. Roles, tasks_from files, include_tasks and
imported playbooks are followed. Anything else (or a file that cannot be resolved) counts as a change.
"""
import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
PLAYBOOKS = ROOT / "playbooks"
ROLES = ROOT / "roles"
MODULES = ROOT / "plugins" / "modules"

# Modules that never change the host they run on (whatever their arguments).
READ_ONLY = {
    "assert", "debug", "fail", "set_fact", "set_stats", "meta", "group_by", "add_host", "include_vars",
    "validate_argument_spec", "stat", "find", "slurp", "fetch", "setup", "gather_facts", "service_facts",
    "package_facts", "getent", "ping", "wait_for", "wait_for_connection", "pause", "end_play", "end_host",
}
# Modules that change nothing when the task says so with `changed_when: false`.
COMMANDS = {"command", "shell", "raw", "script"}
# Service modules only read the unit's state when given none of these.
SERVICES = {"systemd_service", "systemd", "service"}
SERVICE_CHANGES = {"state", "enabled", "masked", "daemon_reload", "daemon_reexec"}
STRUCTURE = {"include_role", "import_role", "include_tasks", "import_tasks", "block"}
TASK_KEYWORDS = {
    "name", "when", "register", "changed_when", "failed_when", "loop", "loop_control", "with_items", "with_dict",
    "with_list", "with_subelements", "with_fileglob", "with_together", "with_sequence", "with_nested",
    "with_first_found", "vars", "tags", "become", "become_user", "become_method", "become_flags", "delegate_to",
    "delegate_facts", "run_once", "ignore_errors", "ignore_unreachable", "no_log", "notify", "check_mode", "diff",
    "environment", "args", "until", "retries", "delay", "listen", "rescue", "always", "any_errors_fatal",
    "throttle", "timeout", "async", "poll", "collections", "module_defaults", "connection", "remote_user",
    "debugger", "action", "local_action", "port",
}
CONTROLLER = {"localhost", "127.0.0.1", "::1"}


def short(module):
    return module.split(".")[-1]


def project_module_is_read_only(name):
    """A project module reads only when it declares check mode support and never reports a change."""
    path = MODULES / (name + ".py")
    if not path.is_file():
        return None
    source = path.read_text(encoding="utf-8")
    supports = re.search(r"supports_check_mode\s*=\s*True", source) is not None
    changes = re.search(r"changed\s*=\s*True|['\"]changed['\"]\s*:\s*True", source) is not None
    return supports and not changes


def task_module(task):
    for key in task:
        if key not in TASK_KEYWORDS and not key.startswith("with_"):
            return key
    if "action" in task or "local_action" in task:
        action = task.get("action") or task.get("local_action")
        return action.split()[0] if isinstance(action, str) else action.get("module")
    return None


def is_false(value):
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "no"))


def is_true(value):
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


class Walker:
    """Collects, for one playbook, the host tasks that can change something (as 'file: task name (module)')."""

    def __init__(self):
        self.changes = []
        self.seen = set()

    def load(self, path):
        return yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or []

    def playbook(self, path):
        path = pathlib.Path(path)
        for entry in self.load(path):
            if "import_playbook" in entry or "ansible.builtin.import_playbook" in entry:
                target = entry.get("import_playbook") or entry.get("ansible.builtin.import_playbook")
                self.playbook(path.parent / target)
                continue
            hosts = entry.get("hosts")
            hosts = [h.strip() for h in hosts.split(":")] if isinstance(hosts, str) else (hosts or [])
            if hosts and all(h in CONTROLLER for h in hosts):
                continue  # the play runs on the controller
            if is_true(entry.get("check_mode")):
                continue
            for section in ("pre_tasks", "tasks", "post_tasks"):
                self.tasks(entry.get(section) or [], path, base=path.parent)
            for role in entry.get("roles") or []:
                name = role if isinstance(role, str) else (role.get("role") or role.get("name"))
                self.role(name, "main", path)

    def role(self, name, tasks_from, origin):
        tasks_from = str(tasks_from)
        if isinstance(name, str) and "{{" in name:
            # A templated role name (a loop over components) stands for every role with that entry point.
            found = sorted(p.parent.parent.name for p in ROLES.glob("*/tasks/%s.yml" % tasks_from))
            if not found or "{{" in tasks_from:
                self.changes.append("%s: role %r (tasks_from %s) cannot be resolved" % (origin, name, tasks_from))
            for role in found:
                self.role(role, tasks_from, origin)
            return
        if not isinstance(name, str):
            self.changes.append("%s: role %r cannot be resolved" % (origin, name))
            return
        key = ("role", name, tasks_from)
        if key in self.seen:
            return
        self.seen.add(key)
        if tasks_from == "main":
            meta = ROLES / name / "meta" / "main.yml"
            for dep in ((self.load(meta) or {}).get("dependencies") or []) if meta.is_file() else []:
                self.role(dep if isinstance(dep, str) else dep.get("role") or dep.get("name"), "main", meta)
        candidates = [ROLES / name / "tasks" / tasks_from, ROLES / name / "tasks" / (tasks_from + ".yml")]
        for candidate in candidates:
            if candidate.is_file():
                self.tasks(self.load(candidate), candidate, base=candidate.parent)
                return
        self.changes.append("%s: role %s tasks_from %s not found" % (origin, name, tasks_from))

    def tasks(self, tasks, path, base):
        for task in tasks:
            self.task(task, path, base)

    def task(self, task, path, base):
        if is_true(task.get("check_mode")):
            return
        delegate = task.get("delegate_to")
        if delegate in CONTROLLER or "local_action" in task:
            return
        if "block" in task:
            for section in ("block", "rescue", "always"):
                self.tasks(task.get(section) or [], path, base)
            return
        module = task_module(task)
        name = short(module or "")
        args = task.get(module) if module else None
        label = "%s: %s (%s)" % (os.path.relpath(path, ROOT), task.get("name", "?"), module)
        if name in ("include_role", "import_role"):
            self.role(args.get("name"), args.get("tasks_from", "main"), path)
        elif name in ("include_tasks", "import_tasks"):
            target = args if isinstance(args, str) else (args or {}).get("file")
            if not isinstance(target, str) or "{{" in target:
                self.changes.append(label + ": file cannot be resolved")
                return
            file = (base / target).resolve()
            if not file.is_file():
                file = (path.parent / target).resolve()
            if ("file", file) not in self.seen:
                self.seen.add(("file", file))
                if file.is_file():
                    self.tasks(self.load(file), file, base)
                else:
                    self.changes.append(label + ": file not found")
        elif name in READ_ONLY:
            return
        elif name in SERVICES and isinstance(args, dict) and not SERVICE_CHANGES & set(args):
            return
        elif name in COMMANDS or name == "uri":
            if is_false(task.get("changed_when")):
                return
            if name == "uri" and str((args or {}).get("method", "GET")).upper() in ("GET", "HEAD") \
                    and "dest" not in (args or {}):
                return
            self.changes.append(label)
        elif project_module_is_read_only(name):
            return
        else:
            self.changes.append(label)


def changes_of(playbook):
    walker = Walker()
    walker.playbook(playbook)
    return walker.changes


def first_validate_import(path):
    """The vars of the validate.yml import the playbook runs first (following leading imports)."""
    path = pathlib.Path(path)
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not entries:
        return None
    first = entries[0]
    target = first.get("import_playbook") or first.get("ansible.builtin.import_playbook")
    if not target:
        return None
    if pathlib.Path(target).name == "validate.yml":
        return first.get("vars") or {}
    return first_validate_import(path.parent / target)


def top_playbooks():
    return sorted(p for p in PLAYBOOKS.glob("*.yml") if p.name != "validate.yml")


# Playbooks found to change hosts that run without a change id today, each with the reason. Strict xfail:
# when one gains change control it XPASSes and must leave this table. Decision pending (issue 8).
ROUTINE_WITHOUT_CHANGE_ID = {}


def params():
    out = []
    for playbook in top_playbooks():
        reason = ROUTINE_WITHOUT_CHANGE_ID.get(playbook.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(playbook, id=playbook.name, marks=marks))
    return out


@pytest.mark.parametrize("playbook", params())
def test_changing_playbooks_require_a_change_id(playbook):
    assert first_validate_import(playbook) is not None, "%s does not start with import_playbook: validate.yml" % playbook.name
    required = is_true(first_validate_import(playbook).get("change_control_required", False))
    changes = changes_of(playbook)
    if changes:
        assert required, "%s changes hosts but runs without a change id; changing tasks:\n  %s" % (
            playbook.name, "\n  ".join(changes[:15]))


def test_the_routine_exceptions_do_change_hosts():
    # An exception that no longer changes anything (or no longer exists) must leave the table.
    for name in ROUTINE_WITHOUT_CHANGE_ID:
        assert (PLAYBOOKS / name).is_file(), name
        assert changes_of(PLAYBOOKS / name), name


def test_the_classifier_sees_changes_and_reads(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "inner.yml").write_text(yaml.safe_dump([
        {"name": "Read", "ansible.builtin.command": "cat /etc/hostname", "changed_when": False},
        {"name": "Write", "ansible.builtin.copy": {"dest": "/tmp/x", "content": "x"}},
    ]))
    (tmp_path / "reads.yml").write_text(yaml.safe_dump([
        {"name": "Validate", "ansible.builtin.import_playbook": str(PLAYBOOKS / "validate.yml")},
        {"name": "Check", "hosts": "all", "tasks": [
            {"name": "Stat", "ansible.builtin.stat": {"path": "/etc"}},
            {"name": "Probe", "ansible.builtin.uri": {"url": "http://x/health"}},
            {"name": "Dry", "ansible.builtin.copy": {"dest": "/tmp/x", "content": "x"}, "check_mode": True},
            {"name": "Report", "ansible.builtin.copy": {"dest": "/tmp/r", "content": "x"}, "delegate_to": "localhost"},
            {"name": "Verify", "ansible.builtin.include_role": {"name": "os_baseline", "tasks_from": "verify"}},
        ]},
        {"name": "Controller", "hosts": "localhost", "tasks": [
            {"name": "Write", "ansible.builtin.file": {"path": "/tmp/y", "state": "directory"}}]},
    ]))
    (tmp_path / "writes.yml").write_text(yaml.safe_dump([
        {"name": "Change", "hosts": "kingbase", "tasks": [
            {"name": "Inner", "ansible.builtin.include_tasks": "tasks/inner.yml"},
            {"name": "Restart", "ansible.builtin.command": "systemctl restart x"},
            {"name": "Post", "ansible.builtin.uri": {"url": "http://x/api", "method": "POST"}}]},
    ]))
    assert changes_of(tmp_path / "reads.yml") == []
    found = changes_of(tmp_path / "writes.yml")
    assert [c.split(": ", 1)[1] for c in found] == [
        "Write (ansible.builtin.copy)", "Restart (ansible.builtin.command)", "Post (ansible.builtin.uri)"]
    # A deploy playbook is seen changing hosts, a check playbook is not.
    assert changes_of(PLAYBOOKS / "os_baseline.yml")
    assert changes_of(PLAYBOOKS / "os_check.yml") == []


def run(args, tmp_path, stdout_callback="json"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_VAULT_PASSWORD_FILE=str(ROOT / ".lab" / "vault-password"),
               HUAIAN_RECORDS_DIR=str(tmp_path / "records"), ANSIBLE_STDOUT_CALLBACK=stdout_callback)
    env.pop("HUAIAN_ARA", None)
    return subprocess.run([str(BIN / "ansible-playbook")] + args, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def hosts_run_on(report):
    return {host for play in report["plays"] for task in play["tasks"] for host in task["hosts"]}


@pytest.mark.parametrize("playbook", ["os_baseline.yml", "site.yml"])
def test_a_changing_playbook_without_change_id_stops_before_any_host(playbook, tmp_path):
    """The lab inventory plus the controller itself (a local connection, in platform city so the inventory
    stays valid), limited to the controller and in check mode: no managed host is in scope, and even a
    regression would only dry-run. The validate play refuses the run before any other play."""
    local = tmp_path / "controller.yml"
    local.write_text("all:\n  children:\n    city:\n      hosts:\n        localhost:\n"
                     "          ansible_connection: local\n")
    res = run(["-i", "inventories/lab", "-i", str(local), "playbooks/" + playbook, "--limit", "localhost", "--check"],
              tmp_path)
    assert res.returncode != 0
    report = json.loads(res.stdout)
    assert hosts_run_on(report) == {"localhost"}
    assert [p["play"]["name"] for p in report["plays"]] == ["Validate the inventory and the run's inputs"]
    assert "needs a change request id" in res.stdout
    assert report["stats"]["localhost"]["failures"] == 1
    # The refused run has its record.
    records = list((tmp_path / "records").rglob("*.json"))
    stem = playbook[:-len(".yml")]
    assert len(records) == 1 and records[0].name.endswith("-%s-no-change-id.json" % stem), records
    record = json.loads(records[0].read_text())
    assert record["result"] == "failed" and record["change_id"] is None and record["check_mode"] is True
    assert record["hosts"]["localhost"]["failed_tasks"] == [
        "change_control : Require a change request id for a playbook that changes hosts"]


def test_the_validate_play_accepts_a_change_id_and_rejects_a_malformed_one(tmp_path):
    base = ["playbooks/validate.yml", "-e", "change_control_required=true"]
    ok = run(base + ["-e", "change_id=CR-2026-0142"], tmp_path)
    assert ok.returncode == 0, ok.stdout[-2000:]
    # Once, for the whole run (run_once), with controller-side actions only.
    assert len(hosts_run_on(json.loads(ok.stdout))) == 1
    bad = run(base + ["-e", "change_id=cr 142"], tmp_path)
    assert bad.returncode != 0 and "needs a change request id" in bad.stdout


def test_a_limit_does_not_skip_the_validate_play(tmp_path):
    """--limit leaves the implicit localhost out; the validate play still runs (on the limited host, with
    controller-side tasks only) and refuses a changing run without a change id before any other play."""
    res = run(["playbooks/os_baseline.yml", "--limit", "city-kb01", "--check"], tmp_path)
    assert res.returncode != 0
    report = json.loads(res.stdout)
    assert [p["play"]["name"] for p in report["plays"]] == ["Validate the inventory and the run's inputs"]
    assert "needs a change request id" in res.stdout


def test_a_limit_without_localhost_is_refused_where_reports_are_written_on_the_controller(tmp_path):
    res = run(["playbooks/backup_check.yml", "--limit", "city-kb01"], tmp_path)
    assert res.returncode != 0 and "Add localhost: --limit 'city-kb01:localhost'" in res.stdout
    assert [p["play"]["name"] for p in json.loads(res.stdout)["plays"]] == ["Validate the inventory and the run's inputs"]
