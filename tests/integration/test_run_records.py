"""Run records, ARA and ansible-runner end to end on the controller (localhost only, no lab host): a vault
canary reaches a task and never the record, ARA's database or the scrubbed runner artifacts."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import zlib

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
CANARY = "CANARY-run-records-5e1f0c"
PASSWORD = b"integration-test-password"
VISIBLE = "ARA-VISIBLE-MARKER-77"

PLAYBOOK = """\
- name: A tiny change on the controller
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
    - name: Use the secret
      ansible.builtin.debug:
        msg: "{{ vault_canary }}"
      no_log: true
    - name: Say something harmless
      ansible.builtin.debug:
        msg: "%s"
""" % VISIBLE

LEAKY = """\
- name: Print the canary on purpose (no no_log) to prove the scrub
  hosts: all
  gather_facts: false
  tasks:
    - name: Print the canary
      ansible.builtin.debug:
        msg: "the canary is {{ vault_canary }}"
"""


@pytest.fixture
def workdir(tmp_path):
    vault = VaultLib([("default", VaultSecret(PASSWORD))])
    (tmp_path / "pw").write_bytes(PASSWORD)
    (tmp_path / "secrets.yml").write_bytes(vault.encrypt("vault_canary: %s\n" % CANARY))
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    (inv / "group_vars" / "all" / "vault.yml").write_bytes(vault.encrypt("vault_canary: %s\n" % CANARY))
    (tmp_path / "leaky.yml").write_text(LEAKY)
    return tmp_path


def env_for(tmp_path, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               HUAIAN_RECORDS_DIR=str(tmp_path / "records"), PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    for key in ("HUAIAN_ARA", "ANSIBLE_VAULT_PASSWORD_FILE", "ARA_BASE_DIR"):
        env.pop(key, None)
    env.update(extra)
    return env


def playbook(workdir, *args, **extra):
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
                           str(workdir / "play.yml"),
                           "-e", "@" + str(workdir / "secrets.yml"), "--vault-password-file", str(workdir / "pw"),
                           *args], env=env_for(workdir, **extra), cwd=workdir, capture_output=True, text=True,
                          timeout=300)


def records(workdir):
    return sorted((workdir / "records").rglob("*.json"))


def test_the_callback_records_a_run_and_no_secret(workdir):
    res = playbook(workdir, "-e", "change_id=CR-2026-0142", "--diff")
    assert res.returncode == 0, res.stdout + res.stderr
    [path] = records(workdir)
    assert re.fullmatch(r"\d{8}T\d{6}Z-play-CR-2026-0142\.json", path.name)
    record = json.loads(path.read_text())
    assert record["change_id"] == "CR-2026-0142" and record["result"] == "success" and record["diff_mode"] is True
    assert record["hosts"]["localhost"]["changed_tasks"] == ["Change something"]
    assert record["hosts"]["localhost"]["ok"] == 3 and record["hosts"]["localhost"]["changed"] == 1
    assert record["git_commit"] and record["git_dirty"] in (True, False)
    assert CANARY not in path.read_text()


def test_ara_records_the_run_with_its_labels_and_no_secret(workdir):
    ara_dir = workdir / "ara"
    extra = {"HUAIAN_ARA": "1", "ARA_BASE_DIR": str(ara_dir)}
    assert playbook(workdir, "-e", "change_id=CR-2026-0142", **extra).returncode == 0
    assert playbook(workdir, "-e", "change_id=CR-2026-0142", "--check", **extra).returncode == 0
    assert playbook(workdir, "-e", "change_id=CR-2026-0999", **extra).returncode == 0
    ara = [str(BIN / "ara")]
    listed = subprocess.run(ara + ["playbook", "list", "--label", "cr:CR-2026-0142", "-f", "json"],
                            env=env_for(workdir, **extra), capture_output=True, text=True, check=True)
    runs = json.loads(listed.stdout)
    assert len(runs) == 2
    labels = []
    for run in runs:
        shown = subprocess.run(ara + ["playbook", "show", str(run["id"]), "-f", "json"], env=env_for(workdir, **extra),
                               capture_output=True, text=True, check=True)
        labels.append(sorted(label["name"] for label in json.loads(shown.stdout)["labels"]))
    assert sorted(labels) == [["check:false", "cr:CR-2026-0142", "tags:all"], ["check:true", "cr:CR-2026-0142", "tags:all"]]
    # Every text and (zlib-compressed) blob in ARA's database: the harmless output is there, the secret is not.
    db = sqlite3.connect(str(ara_dir / "ansible.sqlite"))
    texts = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in db.execute('SELECT * FROM "%s"' % table):
            for value in row:
                if isinstance(value, bytes):
                    try:
                        value = zlib.decompress(value)
                    except zlib.error:
                        pass
                    value = value.decode("utf-8", "replace")
                texts.append(str(value))
    blob = "\n".join(texts)
    assert VISIBLE in blob
    assert CANARY not in blob


def test_run_change_scrubs_the_artifacts(workdir):
    art = workdir / "artifacts"
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "run_change.py"), "--change-id", "CR-2026-0142",
                          str(workdir / "leaky.yml"), "-i", str(workdir / "inv"),
                          "--vault-password-file", str(workdir / "pw"), "--artifacts-dir", str(art)],
                         env=env_for(workdir), cwd=workdir, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    [run] = list(art.iterdir())
    assert re.fullmatch(r"CR-2026-0142-\d{8}T\d{6}Z", run.name)
    files = [p for p in run.rglob("*") if p.is_file()]
    assert (run / "stdout").is_file() and list((run / "job_events").glob("*.json"))
    assert "the canary is ********" in (run / "stdout").read_text()
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
    assert "env" not in json.loads((run / "command").read_text()) or \
        json.loads((run / "command").read_text())["env"] == "removed by tools/run_change.py"
    # The run also left its run record.
    [record] = records(workdir)
    assert record.name.endswith("-leaky-CR-2026-0142.json") and CANARY not in record.read_text()
