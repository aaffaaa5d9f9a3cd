"""Every playbook that may start, restart or reconfigure a Kingbase server reads the live topology
(kingbase_topology.yml) before its first change, so a failed-over cluster is refused before anything
changes (issue 22). Judged from the playbooks' plays in order, with test_change_control's classifier."""
import pathlib

import pytest
import yaml

from conftest import ROOT
from test_change_control import PLAYBOOKS, Walker

pytestmark = pytest.mark.integration
GUARDED = ["site.yml", "kingbase_deploy.yml", "kingbase_config.yml", "backup_deploy.yml", "migrate_platform.yml"]


def plays_in_order(path):
    """(kind, name, changes) for each play, following import_playbook; kind 'topology' for the guard."""
    path = pathlib.Path(path)
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        target = entry.get("import_playbook") or entry.get("ansible.builtin.import_playbook")
        if target:
            if pathlib.Path(target).name == "kingbase_topology.yml":
                yield ("topology", target, [])
                continue
            yield from plays_in_order(path.parent / target)
            continue
        # One play at a time through the same classifier the change-control test uses.
        walker = Walker()
        for section in ("pre_tasks", "tasks", "post_tasks"):
            hosts = entry.get("hosts")
            if isinstance(hosts, str) and all(h.strip() in ("localhost", "127.0.0.1") for h in hosts.split(":")):
                break
            walker.tasks(entry.get(section) or [], path, base=path.parent)
        else:
            for role in entry.get("roles") or []:
                name = role if isinstance(role, str) else (role.get("role") or role.get("name"))
                walker.role(name, "main", path)
        yield ("play", entry.get("name", "?"), walker.changes)


@pytest.mark.parametrize("name", GUARDED)
def test_the_topology_is_read_before_the_first_change(name):
    plays = list(plays_in_order(PLAYBOOKS / name))
    kinds = [k for k, _, _ in plays]
    assert "topology" in kinds, "%s never imports kingbase_topology.yml" % name
    first_guard = kinds.index("topology")
    changing = [(i, n, c) for i, (k, n, c) in enumerate(plays) if k == "play" and c]
    assert changing, name
    i, play, changes = changing[0]
    assert first_guard < i, "%s: play %r changes hosts before the topology is read:\n  %s" % (name, play, "\n  ".join(changes[:5]))


def test_the_topology_playbook_itself_changes_nothing():
    plays = [p for p in plays_in_order(PLAYBOOKS / "kingbase_topology.yml") if p[0] == "play"]
    assert plays and not any(c for _, _, c in plays)
    # ...and its one play reads through the kingbase role's topology entry point.
    doc = yaml.safe_load((PLAYBOOKS / "kingbase_topology.yml").read_text(encoding="utf-8"))
    tasks = doc[-1]["tasks"]
    assert tasks[0]["ansible.builtin.include_role"] == {"name": "kingbase", "tasks_from": "topology", "public": True}
