#!/usr/bin/env python3
"""Prove that no vault secret leaked into reports, baselines, run records or artifacts.

usage: secret_scan.py --vault FILE [--vault FILE ...] PATH [PATH ...]

Every string value of the vault files (decrypted with the password file named by
ANSIBLE_VAULT_PASSWORD_FILE) at least --min-length long is a canary: any file under the PATHs holding one,
as text or inside binary data, as is or in any of the forms run_change.forms lists (JSON-escaped as
to_json / to_nice_json write it, ASCII-only or not; XML/HTML-escaped; URL-encoded), is reported by file and
vault key, never by value. Exit 1 when found.
"""
import argparse
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run_change  # noqa: E402 - tools/run_change.py, beside this file


def vault_values(paths, password_file, min_length=6):
    """{vault key: secret} for every value of the vault files at least min_length long (run_change.py's
    reading of vault files; a plain file's values all count)."""
    password = run_change.read_password(password_file)
    return dict(run_change.vault_values(paths, password, min_length, plain_values=True))


def scan(paths, secrets):
    """(files searched, [(file, vault key)]) for every secret found, in any of its forms, in any file under paths."""
    needles = {name: run_change.forms(value) for name, value in secrets.items()}
    hits = []
    files = 0
    for root in paths:
        root = pathlib.Path(root)
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            files += 1
            data = path.read_bytes()
            for name, forms in needles.items():
                if any(form in data for form in forms):
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
