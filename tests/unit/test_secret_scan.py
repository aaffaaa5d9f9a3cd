"""tools/secret_scan.py: every vault value is a canary, found in text or binary files, named not shown."""
import importlib.util

from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import ROOT

spec = importlib.util.spec_from_file_location("secret_scan", ROOT / "tools" / "secret_scan.py")
secret_scan = importlib.util.module_from_spec(spec)
spec.loader.exec_module(secret_scan)

CANARY = "canary-Zq8v1PLx"


def make_vault(tmp_path):
    (tmp_path / "pw").write_text("pw-for-test\n")
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(b"pw-for-test"))])
    plain = "vault_db_password: %s\nvault_short: abc\nvault_list: [one-long-value]\nvault_port: 5432\n" % CANARY
    (tmp_path / "vault.yml").write_bytes(vault.encrypt(plain))
    return tmp_path / "vault.yml", tmp_path / "pw"


def test_values_are_read_from_the_encrypted_vault(tmp_path):
    vault, pw = make_vault(tmp_path)
    values = secret_scan.vault_values([vault], pw)
    assert values == {"vault_db_password": CANARY, "vault_list[0]": "one-long-value"}


def test_scan_finds_the_canary_in_text_and_binary_and_names_the_key(tmp_path, monkeypatch, capsys):
    vault, pw = make_vault(tmp_path)
    out = tmp_path / "out"
    (out / "deep").mkdir(parents=True)
    (out / "clean.json").write_text('{"password": "<redacted>"}')
    (out / "deep" / "leak.bin").write_bytes(b"\x00\x01" + CANARY.encode() + b"\xff")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(pw))
    assert secret_scan.main(["--vault", str(vault), str(out)]) == 1
    printed = capsys.readouterr().out
    assert "leak.bin holds the value of vault_db_password" in printed
    assert CANARY not in printed
    (out / "deep" / "leak.bin").unlink()
    assert secret_scan.main(["--vault", str(vault), str(out)]) == 0


def test_scan_finds_a_value_json_escaped_in_a_report(tmp_path):
    # to_json / to_nice_json escape the quote and the backslash, and (ensure_ascii) the non-ASCII characters.
    import json
    import urllib.parse
    value = 'Kb-"pass\\word-密码'
    for n, text in enumerate([json.dumps({"password": value}), json.dumps({"password": value}, ensure_ascii=False),
                              '<param value="%s"/>' % value.replace("&", "&amp;").replace('"', "&quot;"),
                              "jdbc:kingbase8://app:%s@db/x" % urllib.parse.quote(value, safe="")]):
        (tmp_path / ("report-%d" % n)).write_text(text, encoding="utf-8")
    assert value.encode("utf-8") not in (tmp_path / "report-0").read_bytes()  # the raw bytes alone would miss it
    files, hits = secret_scan.scan([tmp_path], {"vault_kingbase_password": value})
    assert files == 4 and sorted(hits) == [(str(tmp_path / ("report-%d" % n)), "vault_kingbase_password") for n in range(4)]
