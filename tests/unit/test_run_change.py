"""tools/run_change.py: vault values found, scrubbed from artifacts in every form, leaks detected."""
import importlib.util
import json
import types

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import ROOT

SPEC = importlib.util.spec_from_file_location("run_change", ROOT / "tools" / "run_change.py")
run_change = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_change)

PASSWORD = b"unit-test-password"
CANARY = 'CANARY-"q\\u-密码-42'  # a quote, a backslash and non-ASCII: escaped differently in JSON


def encrypt(text):
    return VaultLib([("default", VaultSecret(PASSWORD))]).encrypt(text.encode("utf-8"))


@pytest.fixture
def inventory(tmp_path):
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  hosts:\n    a: {}\n")
    (inv / "group_vars" / "all" / "vault.yml").write_bytes(encrypt(
        "vault_canary: %s\nvault_short: abc\nvault_nested:\n  - {key: nested-secret-1}\nvault_port: 5432100\n"
        % json.dumps(CANARY)))
    inline = encrypt("inline-secret-2").decode()
    (inv / "group_vars" / "kingbase.yml").write_text(
        "plain_value: not-a-secret\nvault_inline: !vault |\n" + "".join("  " + line + "\n" for line in inline.splitlines()))
    (tmp_path / "pw").write_bytes(PASSWORD + b"\n")
    return inv


def test_vault_values_are_found(inventory, tmp_path):
    files = run_change.vault_files([str(inventory)])
    assert sorted(f.name for f in files) == ["kingbase.yml", "vault.yml"]
    secrets = run_change.vault_secrets(files, run_change.read_password(tmp_path / "pw"))
    assert secrets == {CANARY, "nested-secret-1", "5432100", "inline-secret-2"}  # short and plain values are not


def test_scrub_every_form_and_detect_leaks(tmp_path):
    run = tmp_path / "CR-1-20260101T000000Z"
    (run / "job_events").mkdir(parents=True)
    (run / "stdout").write_text("msg: the canary is %s\n" % CANARY)
    (run / "job_events" / "1.json").write_text(json.dumps({"stdout": CANARY, "res": {"msg": CANARY}}))
    (run / "job_events" / "2.json").write_text(json.dumps({"stdout": CANARY}, ensure_ascii=False))
    (run / "clean").write_text("nothing here")
    secrets = {CANARY}
    assert len(run_change.leaks(run, secrets)) == 3
    done = run_change.scrub_tree(run, secrets)
    assert sorted(done.values()) == [1, 1, 2]
    assert run_change.leaks(run, secrets) == []
    assert (run / "stdout").read_text() == "msg: the canary is ********\n"
    assert json.loads((run / "job_events" / "1.json").read_text()) == {"stdout": "********", "res": {"msg": "********"}}


def test_the_environment_leaves_the_command_file(tmp_path):
    (tmp_path / "command").write_text(json.dumps({"command": ["ansible-playbook"], "cwd": "/p", "env": {"TOKEN": "x"}}))
    run_change.drop_command_env(tmp_path)
    data = json.loads((tmp_path / "command").read_text())
    assert data["command"] == ["ansible-playbook"] and "TOKEN" not in json.dumps(data)


def test_ident():
    import datetime
    now = datetime.datetime(2026, 5, 1, 8, 9, 10, tzinfo=datetime.timezone.utc)
    assert run_change.make_ident("CR-2026-0142", now) == "CR-2026-0142-20260501T080910Z"


def fake_runner(leak_form):
    """An ansible_runner stand-in that leaves artifacts holding the canary."""
    def run(private_data_dir, artifact_dir, ident, **kwargs):
        out = run_change.pathlib.Path(artifact_dir) / ident
        out.mkdir(parents=True, exist_ok=True)
        (out / "stdout").write_text("the canary is " + leak_form)
        (out / "command").write_text(json.dumps({"command": ["x"], "env": {"A": "b"}}))
        assert kwargs["extravars"]["change_id"] == "CR-2026-0001"
        return types.SimpleNamespace(status="successful", rc=0)
    return types.SimpleNamespace(run=run)


@pytest.mark.parametrize("scrub, expected", [(True, 0), (False, 3)])
def test_main_scrubs_and_fails_when_a_secret_remains(inventory, tmp_path, monkeypatch, scrub, expected):
    monkeypatch.setitem(run_change.sys.modules, "ansible_runner", fake_runner(CANARY))
    if not scrub:
        monkeypatch.setattr(run_change, "scrub_tree", lambda root, secrets: {})
    rc = run_change.main(["--change-id", "CR-2026-0001", "pb.yml", "-i", str(inventory),
                          "--vault-password-file", str(tmp_path / "pw"), "--artifacts-dir", str(tmp_path / "art")])
    assert rc == expected
    [run] = list((tmp_path / "art").iterdir())
    assert run.name.startswith("CR-2026-0001-")
    assert (CANARY in (run / "stdout").read_text()) is (not scrub)


@pytest.mark.parametrize("error", [RuntimeError("runner crashed"), KeyboardInterrupt()], ids=["raises", "interrupted"])
def test_artifacts_are_scrubbed_when_the_runner_raises(inventory, tmp_path, monkeypatch, capsys, error):
    leaving = fake_runner(json.dumps(CANARY)[1:-1])  # as a JSON-escaped job event would hold it

    def run(**kwargs):
        leaving.run(**kwargs)
        raise error

    monkeypatch.setitem(run_change.sys.modules, "ansible_runner", types.SimpleNamespace(run=run))
    with pytest.raises(type(error)):
        run_change.main(["--change-id", "CR-2026-0001", "pb.yml", "-i", str(inventory),
                         "--vault-password-file", str(tmp_path / "pw"), "--artifacts-dir", str(tmp_path / "art")])
    [run_dir] = list((tmp_path / "art").iterdir())
    assert (run_dir / "stdout").read_text() == "the canary is ********"
    assert json.loads((run_dir / "command").read_text())["env"] == "removed by tools/run_change.py"
    assert run_change.leaks(run_dir, {CANARY}) == []
    err = capsys.readouterr().err
    assert "did not finish" in err and "STILL PRESENT" not in err


def test_forms_cover_json_xml_and_url_escaping():
    import html
    import urllib.parse
    from xml.sax.saxutils import escape
    got = set(run_change.forms(CANARY))
    for form in (CANARY, json.dumps(CANARY)[1:-1], json.dumps(CANARY, ensure_ascii=False)[1:-1],
                 escape(CANARY, {'"': "&quot;", "'": "&apos;"}), html.escape(CANARY),
                 urllib.parse.quote(CANARY, safe=""), urllib.parse.quote_plus(CANARY)):
        assert form.encode("utf-8") in got
