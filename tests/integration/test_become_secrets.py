"""No secret reaches a target process through the `environment:` of a become task, nor through a command line:
sudo writes the command it runs, with the environment Ansible puts in front of it, to the journal (and a command
line is visible in ps to every local user). A secret goes to a module as a no_log parameter (cache_query,
cache_inspect) or into a 0600 file (~/.kbpass, passfiles) instead.

Static: every task the playbooks run on managed hosts (roles, tasks_from, include_tasks and imported playbooks
followed, as in test_change_control), with the environment and become inherited from its blocks and play
(become defaults to on: the inventories set ansible_become on every platform host). A variable is vault-derived
when it is a vault_* variable or its definition (role defaults and vars, inventories, playbook vars, set_fact,
task vars; a loop's item: the loop) refers to one, transitively."""
import functools
import os
import pathlib
import re

import pytest
import yaml

from conftest import ROOT
from test_change_control import CONTROLLER, PLAYBOOKS, ROLES, first_validate_import, is_false, is_true, short, \
    task_module, top_playbooks

pytestmark = pytest.mark.integration
COMMANDS = {"command", "shell", "raw", "script"}
STRUCTURE = {"include_role", "import_role", "include_tasks", "import_tasks"}
JINJA = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Secrets still passed this way in changing playbooks, each with where and why it is left. Strict: a fixed one
# must leave the table, a new one fails the test. Never in a read-only playbook (the test below).
KNOWN_IN_CHANGING_PATHS = {
    ("roles/kingbase/tasks/accounts.yml", "Check the application accounts' passwords"):
        "line 50: KINGBASE_PASSWORD (kingbase_app_accounts[].password) to ksql as the Kingbase OS user (deploy)",
    ("roles/kingbase_cluster/tasks/primary.yml", "Check the replication account's password"):
        "line 29: KINGBASE_PASSWORD (kingbase_esrep_password) to ksql as the Kingbase OS user (deploy, restore)",
    ("roles/preview_cache/tasks/cluster.yml", "Form the cluster from the empty nodes"):
        "line 12: REDISCLI_AUTH to redis-cli --cluster create (deploy, cluster mode)",
    ("roles/preview_cache/tasks/cluster.yml", "Wait until the cluster state is ok"): "line 24: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/restart.yml", "Ask Sentinel for a failover"): "line 9: REDISCLI_AUTH (restart)",
    ("roles/preview_cache/tasks/restart.yml", "Wait until this node follows the new master"): "line 14: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/restart.yml", "Ask the replica to take over"): "line 27: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/restart.yml", "Wait until this node is the replica"): "line 32: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/restart.yml", "Wait until Redis is in sync again"): "line 46: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/restart.yml", "Wait until the cluster state is ok again (cluster mode)"):
        "line 55: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/service.yml", "Wait until Redis answers"): "line 28: REDISCLI_AUTH (deploy)",
    ("roles/preview_cache/tasks/service.yml", "Read Sentinel's settings for the cache"): "line 38: REDISCLI_AUTH",
    ("roles/preview_cache/tasks/service.yml",
     "Apply changed Sentinel settings at run time (Sentinel records them in its file)"): "line 50: REDISCLI_AUTH",
}


def load(path):
    try:
        return yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None  # an encrypted vault file: its names are vault_* anyway


def names_in(value):
    """The identifiers a value's Jinja expressions refer to (attribute names included: conservative)."""
    if isinstance(value, dict):
        return set().union(*[names_in(v) for v in value.values()]) if value else set()
    if isinstance(value, list):
        return set().union(*[names_in(v) for v in value]) if value else set()
    if isinstance(value, str):
        return {n for m in JINJA.finditer(value) for part in m.groups() if part for n in NAME.findall(part)}
    return set()


class Tasks:
    """Every task run on managed hosts, with what it inherits. Also every variable definition seen on the way."""

    def __init__(self):
        self.tasks = []
        self.seen = set()

    def playbook(self, path, ctx=None):
        path = pathlib.Path(path)
        for entry in load(path) or []:
            target = entry.get("import_playbook") or entry.get("ansible.builtin.import_playbook")
            if target:
                self.playbook(path.parent / target, ctx)
                continue
            hosts = entry.get("hosts")
            hosts = [h.strip() for h in hosts.split(":")] if isinstance(hosts, str) else (hosts or [])
            if hosts and all(h in CONTROLLER for h in hosts):
                continue
            play = self.inherit({"env": [], "become": None, "loops": []}, entry)
            for section in ("pre_tasks", "tasks", "post_tasks"):
                self.run(entry.get(section) or [], path, path.parent, play)
            for role in entry.get("roles") or []:
                name = role if isinstance(role, str) else (role.get("role") or role.get("name"))
                self.role(name, "main", play)

    @staticmethod
    def inherit(ctx, node):
        out = dict(ctx, env=list(ctx["env"]), loops=list(ctx["loops"]))
        if node.get("environment") is not None:
            out["env"].append(node["environment"])
        if node.get("become") is not None:
            out["become"] = node["become"]
        return out

    def role(self, name, tasks_from, ctx):
        tasks_from = str(tasks_from)
        if not isinstance(name, str):
            return
        names = sorted(p.parent.parent.name for p in ROLES.glob("*/tasks/%s.yml" % tasks_from)) if "{{" in name else [name]
        for role in names:
            key = (role, tasks_from, repr(ctx))
            if key in self.seen:
                continue
            self.seen.add(key)
            if tasks_from == "main":
                meta = load(ROLES / role / "meta" / "main.yml") or {}
                for dep in meta.get("dependencies") or []:
                    self.role(dep if isinstance(dep, str) else dep.get("role") or dep.get("name"), "main", ctx)
            for candidate in (ROLES / role / "tasks" / tasks_from, ROLES / role / "tasks" / (tasks_from + ".yml")):
                if candidate.is_file():
                    self.run(load(candidate) or [], candidate, candidate.parent, ctx)
                    break

    def run(self, tasks, path, base, ctx):
        for task in tasks:
            if task.get("delegate_to") in CONTROLLER or "local_action" in task:
                continue
            mine = self.inherit(ctx, task)
            loop = task.get("loop", task.get("with_items", task.get("with_list")))
            if loop is not None:
                mine["loops"].append(loop)
            if "block" in task:
                for section in ("block", "rescue", "always"):
                    self.run(task.get(section) or [], path, base, mine)
                continue
            module = task_module(task)
            name = short(module or "")
            args = task.get(module) if module else None
            if name in ("include_role", "import_role"):
                self.role(args.get("name"), args.get("tasks_from", "main"), mine)
            elif name in ("include_tasks", "import_tasks"):
                target = args if isinstance(args, str) else (args or {}).get("file")
                if isinstance(target, str) and "{{" not in target:
                    file = (base / target).resolve()
                    if not file.is_file():
                        file = (path.parent / target).resolve()
                    if file.is_file() and ("file", file, repr(mine)) not in self.seen:
                        self.seen.add(("file", file, repr(mine)))
                        self.run(load(file) or [], file, base, mine)
            else:
                self.tasks.append({"path": os.path.relpath(path, ROOT), "name": task.get("name", "?"),
                                   "module": name, "args": args, "task": task, "ctx": mine})


def definitions():
    """Every variable definition in the project: name -> [values]."""
    defs = {}
    files = (list(ROLES.glob("*/defaults/*.yml")) + list(ROLES.glob("*/vars/*.yml"))
             + list((ROOT / "inventories").rglob("*.yml")) + list((ROOT / "inventories").rglob("*.yml.example"))
             + list(PLAYBOOKS.glob("vars/*.yml")))
    for file in files:
        data = load(file)
        if isinstance(data, dict):
            for key, value in data.items():
                defs.setdefault(key, []).append(value)
    task_files = list(ROLES.glob("*/tasks/*.yml")) + list(PLAYBOOKS.rglob("*.yml"))
    for file in task_files:
        stack = list(load(file) or [])
        while stack:
            node = stack.pop()
            if not isinstance(node, dict):
                continue
            for section in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks"):
                stack.extend(node.get(section) or [])
            for key in ("vars",):
                for name, value in (node.get(key) or {}).items() if isinstance(node.get(key), dict) else []:
                    defs.setdefault(name, []).append(value)
            for fact in ("set_fact", "ansible.builtin.set_fact"):
                if isinstance(node.get(fact), dict):
                    for name, value in node[fact].items():
                        defs.setdefault(name, []).append(value)
    return defs


DEFS = definitions()


def fields(value):
    """The keys of a structured definition (a dict, or the dicts of a list) -> their values."""
    out = {}
    for item in [value] if isinstance(value, dict) else [v for v in value if isinstance(v, dict)]:
        for key, field in item.items():
            out.setdefault(str(key), []).append(field)
    return out


def vault_chain(ids, stack=()):
    """The chain from an expression's identifiers to a vault_* variable, or None. A structured variable (the
    accounts list) is followed field by field: `accounts | map(attribute='database')` reads no secret,
    `item.password` does, and the whole structure (`{{ __preview_cache_env }}`) does when any field is one."""
    for ref in sorted(ids):
        if ref.startswith("vault_"):
            return [ref]
        if ref in stack:
            continue
        for value in DEFS.get(ref, []):
            parts = fields(value) if isinstance(value, (dict, list)) else {}
            if not parts:
                chain = vault_chain(names_in(value), stack + (ref,))
                if chain:
                    return [ref] + chain
                continue
            secret = {}
            for key, values in parts.items():
                chain = vault_chain(names_in(values), stack + (ref,))
                if chain:
                    secret[key] = chain
            used = ids & set(parts)
            hit = sorted(used & set(secret))
            if hit:
                return ["%s.%s" % (ref, hit[0])] + secret[hit[0]]
            if secret and not used:
                key = sorted(secret)[0]
                return ["%s.%s" % (ref, key)] + secret[key]
    return None


def leaks(entry):
    """How this task hands a vault-derived value to the target process: [(where, chain)]."""
    task, ctx = entry["task"], entry["ctx"]
    become = ctx["become"]
    out = []

    def refs(value):
        found = set(names_in(value))
        if "item" in found:  # the loop's item: what the loop iterates over
            for loop in ctx["loops"]:
                found |= names_in(loop)
        return found

    if become is None or not is_false(become):
        for env in ctx["env"]:
            chain = vault_chain(refs(env))
            if chain:
                out.append(("environment of a become task", " <- ".join(chain)))
    if entry["module"] in COMMANDS:
        args = entry["args"]
        line = args if isinstance(args, str) else {k: v for k, v in (args or {}).items() if k in ("cmd", "argv", "_raw_params")}
        extra = task.get("args") if isinstance(task.get("args"), dict) else {}
        chain = vault_chain(refs([line, {k: v for k, v in extra.items() if k in ("cmd", "argv")}]))
        if chain:
            out.append(("command line", " <- ".join(chain)))
    return out


@functools.lru_cache(maxsize=None)
def found_in(playbook):
    walker = Tasks()
    walker.playbook(playbook)
    out = {}
    for entry in walker.tasks:
        for where, chain in leaks(entry):
            out.setdefault((entry["path"], entry["name"]), set()).add("%s: %s" % (where, chain))
    return out


def read_only(playbook):
    return not is_true((first_validate_import(playbook) or {}).get("change_control_required", False))


@pytest.mark.parametrize("playbook", [p for p in top_playbooks() if read_only(p)], ids=lambda p: p.name)
def test_read_only_playbooks_pass_no_secret_through_environment_or_command_lines(playbook):
    found = found_in(playbook)
    assert not found, "%s hands vault-derived values to target processes:\n  %s" % (
        playbook.name, "\n  ".join("%s: %s: %s" % (p, n, sorted(w)) for (p, n), w in sorted(found.items())))


def test_changing_playbooks_pass_only_the_known_ones():
    found = {}
    for playbook in top_playbooks():
        found.update(found_in(playbook))
    new = sorted(set(found) - set(KNOWN_IN_CHANGING_PATHS))
    assert not new, "new secrets through environment or command lines:\n  %s" % "\n  ".join(
        "%s: %s: %s" % (p, n, sorted(found[(p, n)])) for p, n in new)
    gone = sorted(set(KNOWN_IN_CHANGING_PATHS) - set(found))
    assert not gone, "fixed (remove from KNOWN_IN_CHANGING_PATHS): %s" % gone


def test_the_check_sees_a_secret_in_a_become_environment_and_on_a_command_line(tmp_path):
    (tmp_path / "leaky.yml").write_text(yaml.safe_dump([{"name": "Leak", "hosts": "preview_cache", "tasks": [
        {"name": "Env", "ansible.builtin.command": "redis-cli PING", "environment": {"REDISCLI_AUTH": "{{ preview_cache_password }}"},
         "changed_when": False},
        {"name": "Argv", "ansible.builtin.command": {"argv": ["redis-cli", "-a", "{{ preview_cache_password }}", "PING"]},
         "changed_when": False},
        {"name": "Loop", "ansible.builtin.command": "ksql -c 'select 1'", "environment": {"KINGBASE_PASSWORD": "{{ item.password }}"},
         "loop": "{{ kingbase_app_accounts }}", "changed_when": False},
        {"name": "Not as root", "ansible.builtin.command": "redis-cli PING", "become": False,
         "environment": {"REDISCLI_AUTH": "{{ preview_cache_password }}"}, "changed_when": False},
        {"name": "A path", "ansible.builtin.command": "ksql", "environment": "{{ __kingbase_env }}", "changed_when": False},
        {"name": "Module", "cache_query": {"password": "{{ preview_cache_password }}", "commands": [["PING"]]}},
    ]}]))
    found = found_in(tmp_path / "leaky.yml")
    assert {name for _, name in found} == {"Env", "Argv", "Loop"}
    (env,) = [where for (_, name), where in found.items() if name == "Env"]
    assert env == {"environment of a become task: preview_cache_password <- vault_preview_cache_password"}
