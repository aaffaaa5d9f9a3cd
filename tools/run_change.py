#!/usr/bin/env python3
"""Run a playbook for a change request through ansible-runner and keep its artifacts, secrets scrubbed.

    tools/run_change.py --change-id CR-2026-0142 playbooks/os_baseline.yml -i inventories/huaian -l hongze [--check]

The runner's ident is `<change id>-<UTC time>`; its artifacts (stdout, job_events/, command, rc, status, and the
private data dir's env/) stay under artifacts/<ident>/ (git-ignored). Afterwards every value of the inventory's
vault files (6 characters or more, as is and in its JSON-, XML- and URL-escaped forms) is replaced by ********
in every artifact file, the `env` field (the controller's whole environment) is dropped from `command`, and
the artifacts are searched again: the exit status is non-zero if a secret remains, otherwise it is the
playbook's. The scrub and the search run even when the runner raises or is interrupted (the exception then
goes on).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
MASK = "********"
MIN_SECRET = 6


def read_password(password_file):
    return pathlib.Path(password_file).read_bytes().strip()


def _leaves(data, prefix=""):
    """(key path, leaf) of every leaf that is not None or a boolean; the path as a.b[0]."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, "%s.%s" % (prefix, key) if prefix else str(key))
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            yield from _leaves(value, "%s[%d]" % (prefix, index))
    elif data is not None and not isinstance(data, bool):
        yield prefix, data


def vault_files(inventories):
    """Files of the inventories (recursively, for a directory; a file's group_vars/host_vars beside it) that
    hold vault data: wholly encrypted files and YAML with inline !vault values."""
    found = []
    for inventory in inventories:
        path = pathlib.Path(inventory)
        roots = [path] if path.is_dir() else [path.parent / "group_vars", path.parent / "host_vars", path]
        for root in roots:
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
            for file in files:
                try:
                    head = file.read_bytes()
                except OSError:
                    continue
                if head.startswith(b"$ANSIBLE_VAULT;") or b"!vault" in head:
                    found.append(file)
    return sorted(set(found))


def vault_values(files, password, min_length=MIN_SECRET, plain_values=False):
    """[(key path, value as text)] of the vault files' values at least min_length long: every value of an
    encrypted file and the inline !vault values of a plain one (with plain_values, its other values too).
    Decrypted with ansible's VaultLib; tools/secret_scan.py uses it as well."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode
    from ansible.parsing.yaml.loader import AnsibleLoader

    secrets = [("default", VaultSecret(password))]
    vault = VaultLib(secrets)
    values = []
    for file in files:
        raw = pathlib.Path(file).read_bytes()
        encrypted = vault.is_encrypted(raw)
        text = vault.decrypt(raw).decode("utf-8") if encrypted else raw.decode("utf-8")
        loader = AnsibleLoader(text, file_name=str(file), vault_secrets=secrets)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        for key, leaf in _leaves(data):
            if isinstance(leaf, AnsibleVaultEncryptedUnicode):
                leaf = str(leaf.data)
            elif not (encrypted or plain_values):
                continue  # a plain value of a plain file is no secret
            leaf = str(leaf)
            if len(leaf) >= min_length:
                values.append((key, leaf))
    return values


def vault_secrets(files, password):
    """Every value (as text, >= 6 characters) of the vault files (vault_values), and each line of a
    multi-line one."""
    values = set()
    for _key, leaf in vault_values(files, password):
        values.add(leaf)
        # A multi-line secret (a key) also leaks line by line.
        values.update(line.strip() for line in leaf.splitlines() if len(line.strip()) >= MIN_SECRET)
    return values


def forms(secret):
    """The byte strings (UTF-8, longest first) a secret takes in artifact and report files: as is; escaped
    inside a JSON string, ASCII-only or not (json.dumps, to_json / to_nice_json); XML/HTML-escaped (&quot;
    &apos; as XML writes them, &#34; &#39; as markupsafe / Jinja's escape, &#x27; as html.escape); and
    URL-encoded (quote with and without '/' safe, quote_plus). tools/secret_scan.py searches these too."""
    out = {secret}
    for ascii_only in (True, False):
        out.add(json.dumps(secret, ensure_ascii=ascii_only)[1:-1])
    markup = secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for quot, apos in (('"', "'"), ("&quot;", "&apos;"), ("&#34;", "&#39;"), ("&quot;", "&#x27;")):
        out.add(markup.replace('"', quot).replace("'", apos))
    out.add(urllib.parse.quote(secret, safe=""))
    out.add(urllib.parse.quote(secret))
    out.add(urllib.parse.quote_plus(secret))
    return sorted(set(form.encode("utf-8") for form in out), key=len, reverse=True)


def scrub_bytes(data, secrets):
    count = 0
    for secret in sorted(secrets, key=len, reverse=True):
        for form in forms(secret):
            n = data.count(form)
            if n:
                count += n
                data = data.replace(form, MASK.encode())
    return data, count


def artifact_files(root):
    return sorted(p for p in pathlib.Path(root).rglob("*") if p.is_file() and not p.is_symlink())


def drop_command_env(root):
    """artifacts/<ident>/command holds the controller's environment: keep only the command and cwd."""
    for command in pathlib.Path(root).rglob("command"):
        try:
            data = json.loads(command.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "env" in data:
            data["env"] = "removed by tools/run_change.py"
            command.write_text(json.dumps(data, indent=2), encoding="utf-8")


def scrub_tree(root, secrets):
    """Replace every secret in every file under root; returns {file: replacements}."""
    done = {}
    for file in artifact_files(root):
        data = file.read_bytes()
        new, count = scrub_bytes(data, secrets)
        if count:
            file.write_bytes(new)
            done[str(file)] = count
    return done


def leaks(root, secrets):
    """Files under root that still hold a secret (in any form)."""
    found = []
    for file in artifact_files(root):
        data = file.read_bytes()
        if any(form in data for secret in secrets for form in forms(secret)):
            found.append(str(file))
    return found


def make_ident(change_id, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return "%s-%s" % (change_id, now.strftime("%Y%m%dT%H%M%SZ"))


def parse_extra(items):
    out = {}
    for item in items or []:
        if item.startswith("{"):
            out.update(json.loads(item))
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit("run_change: -e takes key=value or a JSON object, got %r" % item)
        out[key] = value
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("playbook")
    parser.add_argument("--change-id", required=True, help="the change request, e.g. CR-2026-0142")
    parser.add_argument("-i", "--inventory", action="append", help="default: inventories/lab")
    parser.add_argument("-l", "--limit")
    parser.add_argument("-e", "--extra-vars", action="append", help="key=value or a JSON object")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--diff", action="store_true")
    parser.add_argument("--tags")
    parser.add_argument("--vault-password-file", default=os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE"))
    parser.add_argument("--artifacts-dir", default=str(ROOT / "artifacts"))
    args = parser.parse_args(argv)

    import ansible_runner

    inventories = [str(pathlib.Path(i).resolve()) for i in (args.inventory or [str(ROOT / "inventories" / "lab")])]
    if not args.vault_password_file:
        parser.error("a vault password file is needed (--vault-password-file or ANSIBLE_VAULT_PASSWORD_FILE)")
    password_file = str(pathlib.Path(args.vault_password_file).resolve())
    secrets = vault_secrets(vault_files(inventories), read_password(password_file))

    ident = make_ident(args.change_id)
    artifacts = pathlib.Path(args.artifacts_dir).resolve()
    run_dir = artifacts / ident
    extravars = parse_extra(args.extra_vars)
    extravars["change_id"] = args.change_id
    cmdline = ["--vault-password-file", password_file]
    if args.check:
        cmdline.append("--check")
    if args.diff:
        cmdline.append("--diff")
    if args.tags:
        cmdline += ["--tags", args.tags]
    venv_bin = str(pathlib.Path(sys.executable).parent)
    envvars = {
        "ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg")),
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        # The runner puts its own callback directory in ANSIBLE_CALLBACK_PLUGINS (after this one), which
        # would hide ansible.cfg's: keep the project's (run_record, huaian_ara).
        "ANSIBLE_CALLBACK_PLUGINS": str(ROOT / "plugins" / "callback"),
    }
    (run_dir / "private").mkdir(parents=True, exist_ok=True)
    result = None
    try:
        result = ansible_runner.run(
            private_data_dir=str(run_dir / "private"), artifact_dir=str(artifacts), ident=ident,
            project_dir=str(ROOT), playbook=str(pathlib.Path(args.playbook).resolve()), inventory=inventories,
            limit=args.limit, extravars=extravars, cmdline=" ".join(cmdline), envvars=envvars,
            rotate_artifacts=0, quiet=False)
    finally:
        # Also when the runner raised or was interrupted (Ctrl-C): whatever artifacts it left are scrubbed
        # and searched again before the exception goes on.
        drop_command_env(run_dir)
        scrubbed = scrub_tree(run_dir, secrets)
        remaining = leaks(run_dir, secrets)
        if result is None:
            print("run_change: ident %s: the run did not finish; %d replacement(s) in %d file(s) of %s" % (
                ident, sum(scrubbed.values()), len(scrubbed), run_dir), file=sys.stderr)
            if remaining:
                print("run_change: SECRET STILL PRESENT in: %s" % ", ".join(remaining), file=sys.stderr)
    print("run_change: ident %s, status %s, rc %s; artifacts %s" % (ident, result.status, result.rc, run_dir))
    print("run_change: %d secret value(s) from %d vault file(s); %d replacement(s) in %d file(s)" % (
        len(secrets), len(vault_files(inventories)), sum(scrubbed.values()), len(scrubbed)))
    if remaining:
        print("run_change: SECRET STILL PRESENT in: %s" % ", ".join(remaining), file=sys.stderr)
        return 3
    return 0 if result.rc == 0 else (result.rc or 1)


if __name__ == "__main__":
    sys.exit(main())
