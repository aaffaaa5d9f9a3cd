#!/usr/bin/env python3
"""Prove that no vault secret leaked into reports, baselines, run records or artifacts.

usage: secret_scan.py --vault FILE [--vault FILE ...] PATH [PATH ...]

Every string value of the vault files (decrypted with the password file named by
ANSIBLE_VAULT_PASSWORD_FILE) at least --min-length long is a canary: any file under the PATHs holding one,
as text or inside binary data, is reported by file and vault key, never by value. Exit 1 when found.
"""
import argparse
import os
import pathlib
import sys

import yaml


def vault_values(paths, password_file, min_length=6):
    """{vault key: secret} for every string leaf of the vault files at least min_length long."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(pathlib.Path(password_file).read_bytes().strip())
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)])
    found = {}
    for path in paths:
        raw = pathlib.Path(path).read_bytes()
        text = vault.decrypt(raw) if vault.is_encrypted(raw) else raw
        collect(yaml.safe_load(text) or {}, "", found, min_length)
    return found


def collect(node, prefix, found, min_length):
    if isinstance(node, dict):
        for key, value in node.items():
            collect(value, "%s.%s" % (prefix, key) if prefix else str(key), found, min_length)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            collect(value, "%s[%d]" % (prefix, i), found, min_length)
    elif isinstance(node, str) and len(node) >= min_length:
        found[prefix] = node
    elif isinstance(node, (int, float)) and not isinstance(node, bool) and len(str(node)) >= min_length:
        found[prefix] = str(node)


def scan(paths, secrets):
    """[(file, vault key)] for every secret found in any file under paths."""
    needles = {name: value.encode() for name, value in secrets.items()}
    hits = []
    files = 0
    for root in paths:
        root = pathlib.Path(root)
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            files += 1
            data = path.read_bytes()
            for name, needle in needles.items():
                if needle in data:
                    hits.append((str(path), name))
    return files, hits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vault", action="append", required=True, help="an ansible-vault file (repeatable)")
    parser.add_argument("--min-length", type=int, default=6)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    password_file = os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if not password_file:
        parser.error("ANSIBLE_VAULT_PASSWORD_FILE is not set")
    secrets = vault_values(args.vault, password_file, args.min_length)
    if not secrets:
        print("secret_scan: the vault files hold no value to look for", file=sys.stderr)
        return 2
    files, hits = scan(args.paths, secrets)
    for path, name in hits:
        print("secret_scan: %s holds the value of %s" % (path, name))
    print("secret_scan: %d vault values looked for in %d files: %s"
          % (len(secrets), files, "%d leak(s)" % len(hits) if hits else "none found"))
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
