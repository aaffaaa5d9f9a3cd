"""Observe before manage: every changing playbook declares the components it changes (adoption_run_components
in the vars of its validate.yml import), the declaration covers every role whose tasks it runs change hosts
(judged from the tasks with test_change_control's classifier), and a run against an observing inventory stops
in the validate play naming each host and component, before any host task.

The runs use tests/fixtures/inventories/observe (TEST-NET-1 addresses, never contacted: the validate play's
tasks all run on the controller) and --check, so even a regression could only dry-run."""
import json
import re

import pytest
import yaml

from conftest import ROOT
from test_change_control import PLAYBOOKS, ROLES, Walker, first_validate_import, hosts_run_on, is_true, run, \
    top_playbooks

pytestmark = pytest.mark.integration
COMPONENTS = yaml.safe_load((PLAYBOOKS / "vars" / "adoption.yml").read_text())["adoption_components"]
COMPONENT_OF_ROLE = {role: name for name, spec in COMPONENTS.items() for role in spec["roles"]}
# Roles that change no managed host: they run on the controller (validation, reports, probes from there), or
# only read the hosts (discovery).
CONTROLLER_ROLES = {"inventory_validate", "change_control", "adoption", "inspection_report", "service_probe", "discovery"}
OBSERVE = "tests/fixtures/inventories/observe"
VALIDATE_PLAY = "Validate the inventory and the run's inputs"
GUARD_TASK = "adoption : Refuse to change what the inventory only observes (every refusal is listed)"


class ByRole(Walker):
    """test_change_control's Walker that also attributes each change to the role the playbook includes: a role
    a role includes (kingbase_backup installing Kingbase media on a backup server) counts for the outer one."""

    def __init__(self):
        super().__init__()
        self.by_role = {}

    def role(self, name, tasks_from, origin):
        if not isinstance(name, str) or "{{" in name:
            super().role(name, tasks_from, origin)  # expands to every role with that entry point, then here
            return
        inner = Walker()
        inner.role(name, tasks_from, origin)
        if inner.changes:
            self.by_role.setdefault(name, []).extend(inner.changes)
        self.changes.extend(inner.changes)


def declaration(playbook):
    return (first_validate_import(playbook) or {}).get("adoption_run_components")


def params():
    return [pytest.param(p, id=p.name) for p in top_playbooks()]


@pytest.mark.parametrize("playbook", params())
def test_every_changing_playbook_declares_the_components_it_changes(playbook):
    walker = ByRole()
    walker.playbook(playbook)
    declared = declaration(playbook)
    required = is_true((first_validate_import(playbook) or {}).get("change_control_required", False))
    if not walker.changes:
        if required:  # changes only the controller (baseline_accept): says so explicitly
            assert declared == {}, "%s changes no host: declare adoption_run_components: {}" % playbook.name
        else:
            assert not declared, "%s is read-only: it declares no component" % playbook.name
        return
    assert isinstance(declared, dict) and declared, (
        "%s changes hosts but declares no adoption_run_components in its validate.yml import; changes:\n  %s"
        % (playbook.name, "\n  ".join(walker.changes[:10])))
    assert set(declared) <= set(COMPONENTS), "%s declares unknown components %s" % (
        playbook.name, sorted(set(declared) - set(COMPONENTS)))
    for role, changes in sorted(walker.by_role.items()):
        assert role in COMPONENT_OF_ROLE, "role %s changes hosts but belongs to no component (playbooks/vars/adoption.yml)" % role
        assert COMPONENT_OF_ROLE[role] in declared, "%s changes %s (role %s) without declaring it:\n  %s" % (
            playbook.name, COMPONENT_OF_ROLE[role], role, "\n  ".join(changes[:5]))
    for component, pattern in declared.items():
        assert isinstance(pattern, (str, list)) and pattern != "", (playbook.name, component)


def test_every_role_is_a_component_or_runs_on_the_controller():
    roles = {p.name for p in ROLES.iterdir() if (p / "tasks").is_dir()}
    assert roles == set(COMPONENT_OF_ROLE) | CONTROLLER_ROLES
    assert not set(COMPONENT_OF_ROLE) & CONTROLLER_ROLES


def test_a_playbook_importing_changing_playbooks_declares_their_components_too():
    # site.yml's own validate play runs first: it must refuse what any later import would.
    for playbook in top_playbooks():
        mine = set(declaration(playbook) or {})
        for entry in yaml.safe_load(playbook.read_text()) or []:
            target = entry.get("ansible.builtin.import_playbook") or entry.get("import_playbook")
            if target and target != "validate.yml" and (PLAYBOOKS / target).is_file():
                theirs = set(declaration(PLAYBOOKS / target) or {})
                assert theirs <= mine, "%s imports %s but does not declare %s" % (
                    playbook.name, target, sorted(theirs - mine))


def failure(res):
    """The report of the json callback and its one failed (task name, result)."""
    report = json.loads(res.stdout)
    failed = [(task["task"]["name"], result) for play in report["plays"] for task in play["tasks"]
              for result in task["hosts"].values() if result.get("failed")]
    assert len(failed) == 1, failed
    return report, failed[0]


def refusals(res):
    """(host, component) of every refusal; the report; the failed (task name, result)."""
    report, (task, result) = failure(res)
    pairs = [tuple(re.match(r"^(\S+): (\S+) is (\w+), from ", line).group(1, 2)) for line in result["msg"][1:]]
    return pairs, report, (task, result)


SITE_REFUSALS = [
    ("hzq-bak01", "backup"), ("hzq-bak01", "os"),
    ("hzq-bes01", "backup"), ("hzq-bes01", "bes"), ("hzq-bes01", "os"),
    ("hzq-cache01", "os"), ("hzq-cache01", "preview_cache"),
    ("hzq-kb01", "backup"), ("hzq-kb01", "kingbase"), ("hzq-kb01", "os"),
    ("hzq-kb02", "backup"),  # its os and kingbase are managed (adoption_modes + adoption_changes)
    ("hzq-lb01", "os"), ("hzq-lb01", "platform_lb"),
    ("hzq-pv01", "os"), ("hzq-pv01", "preview"),
]


def test_site_against_an_observing_inventory_stops_in_the_validate_play_naming_each_host_and_component(tmp_path):
    res = run(["-i", OBSERVE, "playbooks/site.yml", "-e", "change_id=CR-2026-0142", "--check"], tmp_path)
    assert res.returncode != 0
    pairs, report, (task, result) = refusals(res)
    assert task == GUARD_TASK
    assert pairs == SITE_REFUSALS
    assert result["msg"][0].startswith("15 adoption refusal(s), nothing was changed")
    assert ("hzq-kb01: kingbase is observe, from adoption_mode_default = 'observe' "
            "(tests/fixtures/inventories/observe/group_vars/all.yml:3) and no adoption_modes.kingbase: this run would "
            "change it; allowed: after reviewing its discovery, adoption_modes.kingbase: managed and "
            "adoption_changes.kingbase: <change id, e.g. CR-2026-0142> for hzq-kb01 or one of its groups in the "
            "inventory") in result["msg"]
    # Never past the validate play, which ran once, on the controller.
    assert [p["play"]["name"] for p in report["plays"]] == [VALIDATE_PLAY]
    assert len(hosts_run_on(report)) == 1
    assert sum(s["failures"] for s in report["stats"].values()) == 1
    record = json.loads(next((tmp_path / "records").rglob("*.json")).read_text())
    assert [t for h in record["hosts"].values() for t in h["failed_tasks"]] == [GUARD_TASK]


def test_a_limit_leaves_the_other_hosts_out_of_the_judgement(tmp_path):
    res = run(["-i", OBSERVE, "playbooks/site.yml", "-e", "change_id=CR-2026-0142", "--check",
               "--limit", "hzq-bes01,hzq-kb02"], tmp_path)
    assert res.returncode != 0
    assert refusals(res)[0] == [("hzq-bes01", "backup"), ("hzq-bes01", "bes"), ("hzq-bes01", "os"),
                                ("hzq-kb02", "backup")]


@pytest.mark.parametrize("playbook, extra, expected", [
    ("kingbase_rejoin.yml", ["-e", "rejoin_node=hzq-kb01", "-e", "confirm_rejoin=yes"], [("hzq-kb01", "kingbase")]),
    ("kingbase_switchover.yml", ["-e", "switchover_target=hzq-kb02", "-e", "confirm_switchover=yes"],
     [("hzq-kb01", "kingbase")]),
    ("backup_restore.yml", ["-e", "backup_restore_kind=files", "-e", "backup_restore_host=hzq-bes01"],
     [("hzq-bes01", "backup")]),
    ("backup_restore.yml", ["-e", "backup_restore_kind=sys_rman", "-e", "backup_restore_cluster=hongze"],
     [("hzq-kb01", "backup"), ("hzq-kb01", "kingbase"), ("hzq-kb02", "backup")]),
    ("migrate_platform.yml", ["-e", "migration_platform=hongze", "--tags", "precheck"],
     [("hzq-bak01", "backup"), ("hzq-bes01", "backup"), ("hzq-bes01", "bes"), ("hzq-kb01", "backup"),
      ("hzq-kb01", "kingbase"), ("hzq-kb02", "backup"), ("hzq-lb01", "platform_lb")]),
], ids=["rejoin", "switchover", "restore-files", "restore-cluster", "migration"])
def test_a_computed_declaration_judges_the_hosts_the_run_changes(playbook, extra, expected, tmp_path):
    res = run(["-i", OBSERVE, "playbooks/" + playbook, "-e", "change_id=CR-2026-0142", "--check"] + extra, tmp_path)
    assert res.returncode != 0
    pairs, report, _ = refusals(res)
    assert pairs == expected
    assert [p["play"]["name"] for p in report["plays"]] == [VALIDATE_PLAY]


def test_adoption_cannot_be_given_on_the_command_line(tmp_path):
    res = run(["-i", OBSERVE, "playbooks/os_baseline.yml", "-e", "change_id=CR-2026-0142", "--check",
               "-e", "adoption_mode_default=managed", "-e", '{"adoption_run_components": {}}'], tmp_path)
    assert res.returncode != 0
    _, (_, result) = failure(res)
    assert result["msg"][1:] == [
        "extra vars: %s given with -e: adoption settings come from the inventory and the playbook's declaration, "
        "never from the command line; allowed: set adoption_modes and adoption_changes in the inventory "
        "(docs/runbooks/adoption.md)" % name for name in ("adoption_mode_default", "adoption_run_components")]


def test_the_managed_lab_passes_the_guard_for_everything_site_changes(tmp_path):
    """The lab inventory (adoption_mode_default: managed) through the validate play with site.yml's declaration
    (a playbook that imports validate.yml only: nothing after it could touch a lab host)."""
    declared = declaration(PLAYBOOKS / "site.yml")
    assert set(declared) == set(COMPONENTS) - {"migration"}
    (tmp_path / "site_validate.yml").write_text(yaml.safe_dump([{
        "name": "Validate", "ansible.builtin.import_playbook": str(PLAYBOOKS / "validate.yml"),
        "vars": {"change_control_required": True, "adoption_run_components": declared}}]))
    res = run([str(tmp_path / "site_validate.yml"), "-e", "change_id=CR-2026-0142"], tmp_path, stdout_callback="default")
    assert res.returncode == 0, res.stdout[-3000:]
    assert ("Adoption: this run changes backup, bes, kingbase, os, platform_lb, preview, preview_cache, managed on every"
            " host of the run that carries it") in " ".join(res.stdout.split())
    # The same declaration against the observing fixture is refused (the same validate play, another inventory).
    res = run(["-i", OBSERVE, str(tmp_path / "site_validate.yml"), "-e", "change_id=CR-2026-0142"], tmp_path)
    assert res.returncode != 0 and refusals(res)[0] == SITE_REFUSALS
