"""The run_record callback driven with fake ansible objects: the record's content, its path, and that
results and variables (where secrets live) never reach it."""
import importlib.util
import json
import os
import subprocess

import pytest
from ansible.executor.stats import AggregateStats

from conftest import PLUGINS

SPEC = importlib.util.spec_from_file_location("run_record", PLUGINS / "callback" / "run_record.py")
run_record = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_record)

CANARY = "CANARY-0f9e8d7c6b"


class Named:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Result:
    def __init__(self, host, task, result):
        self._host, self._task, self._result = Named(host), Named(task), result


class VariableManager:
    def __init__(self, extra_vars, sources):
        self.extra_vars = extra_vars
        self._inventory = type("Inventory", (), {"_sources": sources})()


class Play:
    def __init__(self, manager):
        self.manager = manager

    def get_variable_manager(self):
        return self.manager


class Playbook:
    def __init__(self, path):
        self._file_name = path


@pytest.fixture
def callback(tmp_path, monkeypatch):
    monkeypatch.setattr(run_record.context, "CLIARGS", {
        "subset": "hongze", "tags": ("all",), "skip_tags": (), "check": True, "diff": True,
        "extra_vars": ("change_id=CR-2026-0142", "vault_pw=" + CANARY)})
    monkeypatch.setattr(run_record.atexit, "register", lambda fn: None)
    monkeypatch.setattr(run_record.CallbackModule, "_catch_signals", lambda self: None)
    monkeypatch.setenv("SUDO_USER", "zhangsan")
    cb = run_record.CallbackModule()
    monkeypatch.setattr(cb, "get_option", lambda key: str(tmp_path / "records"))
    return cb


def drive(cb, stats=True):
    cb.v2_playbook_on_start(Playbook("/work/x/playbooks/os_baseline.yml"))
    cb.v2_playbook_on_play_start(Play(VariableManager({"change_id": "CR-2026-0142", "vault_pw": CANARY},
                                                      ["/work/x/inventories/huaian"])))
    cb.v2_runner_on_ok(Result("hzq-kb01", "Write kingbase.conf", {"changed": True, "diff": CANARY}))
    cb.v2_runner_on_ok(Result("hzq-kb01", "Write kingbase.conf", {"changed": True}))
    cb.v2_runner_on_ok(Result("hzq-kb01", "Read the state", {"changed": False, "stdout": CANARY}))
    cb.v2_runner_on_failed(Result("hzq-kb02", "Probe", {"msg": CANARY}), ignore_errors=True)
    cb.v2_runner_on_failed(Result("hzq-kb02", "Restart", {"changed": True, "msg": CANARY}))
    cb.v2_runner_on_unreachable(Result("hzq-bes01", "Gathering Facts", {"msg": CANARY}))
    cb.v2_runner_on_skipped(Result("hzq-bes02", "Skip me", {}))
    if stats:
        agg = AggregateStats()
        for what, host in [("ok", "hzq-kb01"), ("ok", "hzq-kb01"), ("changed", "hzq-kb01"), ("ok", "hzq-kb02"),
                           ("ignored", "hzq-kb02"), ("failures", "hzq-kb02"), ("dark", "hzq-bes01"),
                           ("skipped", "hzq-bes02")]:
            agg.increment(what, host)
        cb.v2_playbook_on_stats(agg)
    return cb


def only_record(tmp_path):
    files = list((tmp_path / "records").rglob("*.json"))
    assert len(files) == 1, files
    return files[0], json.loads(files[0].read_text())


def test_a_full_run_is_recorded(callback, tmp_path):
    drive(callback)
    path, record = only_record(tmp_path)
    start = record["start"]
    assert path.relative_to(tmp_path / "records").parts[:2] == (start[:4], start[5:7])
    assert path.name == "%s-os_baseline-CR-2026-0142.json" % start.replace("-", "").replace(":", "")
    assert record["change_id"] == "CR-2026-0142"
    assert record["operator"]["name"] == "zhangsan" and record["operator"]["uid"] == os.getuid()
    assert record["playbook"] == "/work/x/playbooks/os_baseline.yml"
    assert record["inventory"] == ["/work/x/inventories/huaian"]
    assert (record["limit"], record["tags"], record["check_mode"], record["diff_mode"]) == ("hongze", ["all"], True, True)
    assert record["hosts"]["hzq-kb01"] == {"ok": 2, "changed": 1, "failed": 0, "unreachable": 0, "skipped": 0,
                                          "rescued": 0, "ignored": 0, "changed_tasks": ["Write kingbase.conf"],
                                          "failed_tasks": []}
    assert record["hosts"]["hzq-kb02"]["changed_tasks"] == ["Restart"]
    assert record["hosts"]["hzq-kb02"]["failed_tasks"] == ["Restart"]  # the ignored failure is not one
    assert record["hosts"]["hzq-bes01"]["unreachable"] == 1 and record["hosts"]["hzq-bes01"]["failed_tasks"] == ["Gathering Facts"]
    assert record["hosts"]["hzq-bes02"]["skipped"] == 1
    assert record["result"] == "failed" and record["ending"] == "stats"
    assert record["duration_seconds"] >= 0 and record["end"] >= record["start"]
    assert CANARY not in path.read_text()


def test_a_clean_run_succeeds_and_is_written_once(callback, tmp_path):
    callback.v2_playbook_on_start(Playbook("/p/playbooks/os_check.yml"))
    callback.v2_playbook_on_play_start(Play(VariableManager({}, ["/p/inventories/lab"])))
    callback.v2_runner_on_ok(Result("city-kb01", "Read", {"changed": False}))
    agg = AggregateStats()
    agg.increment("ok", "city-kb01")
    callback.v2_playbook_on_stats(agg)
    callback._at_exit()  # atexit after the recap writes nothing more
    path, record = only_record(tmp_path)
    assert path.name.endswith("-os_check-no-change-id.json")
    assert record["result"] == "success" and record["change_id"] is None


@pytest.mark.parametrize("interrupted, ending, result", [(True, "interrupted", "interrupted"), (False, "aborted", "failed")])
def test_a_run_without_recap_is_still_recorded(callback, tmp_path, interrupted, ending, result):
    drive(callback, stats=False)
    callback._interrupted = interrupted
    callback._at_exit()
    _, record = only_record(tmp_path)
    assert (record["ending"], record["result"]) == (ending, result)
    assert record["hosts"]["hzq-kb01"]["ok"] is None  # unknown without the recap
    assert record["hosts"]["hzq-kb01"]["changed_tasks"] == ["Write kingbase.conf"]


def test_nothing_is_written_without_a_playbook_or_from_a_worker(callback, tmp_path, monkeypatch):
    callback._at_exit()
    assert not (tmp_path / "records").exists()
    callback.v2_playbook_on_start(Playbook("/p/playbooks/x.yml"))
    monkeypatch.setattr(run_record.os, "getpid", lambda: -1)
    callback._at_exit()
    assert not (tmp_path / "records").exists()


def test_a_second_run_in_the_same_second_does_not_overwrite(tmp_path):
    path = tmp_path / "r.json"
    first = run_record.write_json(str(path), {"a": 1})
    second = run_record.write_json(str(path), {"a": 2})
    assert first != second and json.loads(open(first).read()) == {"a": 1} and json.loads(open(second).read()) == {"a": 2}


@pytest.mark.parametrize("change_id, expected", [
    ("CR-2026-0142", "CR-2026-0142"), (None, "no-change-id"), ("", "no-change-id"),
    ("../../etc/passwd", "etc_passwd"), ("a b/c", "a_b_c")])
def test_record_paths_are_safe(change_id, expected):
    import datetime
    start = datetime.datetime(2026, 5, 1, 8, 9, 10, tzinfo=datetime.timezone.utc)
    path = run_record.record_path("/r", start, "/p/playbooks/site.yml", change_id)
    assert path == "/r/2026/05/20260501T080910Z-site-%s.json" % expected


def test_git_state(tmp_path):
    assert run_record.git_state(str(tmp_path)) == {"commit": None, "dirty": None}
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    for cmd in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", "-C", str(tmp_path)] + cmd, check=True, env=env)
    state = run_record.git_state(str(tmp_path))
    assert len(state["commit"]) == 40 and state["dirty"] is False
    (tmp_path / "new").write_text("x")
    assert run_record.git_state(str(tmp_path))["dirty"] is True
