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
