#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Restore a sample of files from the newest restic snapshot and compare them with the source.

    file_verify.py --restic /usr/bin/restic --option sftp.command=... --host NAME --scratch DIR --sample 20

Environment: RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE. Prints one JSON document; exits 1 when a
restored file differs from a source file that has not changed since the snapshot, or nothing could be
compared. Runs on the managed hosts' system Python (3.7 on Kylin V10): standard library only.
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time


def choose_sample(nodes, size, seed):
    """A reproducible sample of the regular files among restic ls --json nodes."""
    files = sorted((n for n in nodes if n.get("type") == "file"), key=lambda n: n["path"])
    if len(files) <= size:
        return files
    return sorted(random.Random(seed).sample(files, size), key=lambda n: n["path"])


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text):
    """restic's RFC 3339 time (nanoseconds, offset) as a POSIX timestamp."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % (text,))
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat("%s.%s%s" % (m.group(1), frac, tz)).timestamp()


def classify(entry, source_stat, restored_hash, source_hash):
    """'match', 'mismatch', 'missing' (not restored) or 'changed' (the source changed since the snapshot)."""
    if restored_hash is None:
        return "missing"
    if source_stat is None or int(source_stat["size"]) != int(entry["size"]) \
            or abs(float(source_stat["mtime"]) - parse_time(entry["mtime"])) > 1:
        return "changed"
    return "match" if restored_hash == source_hash else "mismatch"


def sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def restic(args, base):
    out = subprocess.run(base + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if out.returncode != 0:
        raise RuntimeError("restic %s: %s" % (args[0], (out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1]))
    return out.stdout


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--restic", default="restic")
    p.add_argument("--option", action="append", default=[])
    p.add_argument("--host", required=True)
    p.add_argument("--scratch", required=True)
    p.add_argument("--sample", type=int, default=20)
    p.add_argument("--seed", default=None)
    args = p.parse_args(argv)
    base = [args.restic, "--no-cache"] + [x for o in args.option for x in ("-o", o)]
    doc = {"kind": "files", "host": args.host, "result": "failed", "reason": ""}
    try:
        snaps = json.loads(restic(["snapshots", "--json", "--host", args.host], base) or "[]")
        if not snaps:
            raise RuntimeError(u"备份库中没有 %s 的快照" % args.host)  # the reason reaches the Chinese report
        snap = sorted(snaps, key=lambda s: s["time"])[-1]
        doc.update(snapshot=snap["short_id"], snapshot_time=snap["time"], paths=snap.get("paths", []))
        nodes = [json.loads(line) for line in restic(["ls", "--json", snap["id"]], base).splitlines() if line.strip()]
        sample = choose_sample([n for n in nodes if n.get("struct_type") == "node"], args.sample,
                               args.seed or snap["id"])
        if not sample:
            raise RuntimeError(u"快照 %s 中没有文件" % snap["short_id"])
        started = time.time()
        includes = [x for n in sample for x in ("--include", n["path"])]
        restic(["restore", snap["id"], "--target", args.scratch] + includes, base)
        doc["restore_seconds"] = round(time.time() - started, 3)
        outcome = {"match": [], "mismatch": [], "missing": [], "changed": []}
        restored_bytes = 0
        for n in sample:
            restored = os.path.join(args.scratch, n["path"].lstrip("/"))
            r_hash = sha256(restored)
            if r_hash is not None:
                restored_bytes += os.path.getsize(restored)
            try:
                st = os.stat(n["path"])
                s_stat = {"size": st.st_size, "mtime": st.st_mtime}
            except OSError:
                s_stat = None
            kind = classify(n, s_stat, r_hash, sha256(n["path"]) if s_stat else None)
            outcome[kind].append(n["path"])
        doc.update(sampled=len(sample), matched=len(outcome["match"]), mismatches=outcome["mismatch"],
                   missing=outcome["missing"], changed_since=outcome["changed"], restored_bytes=restored_bytes)
        problems = ["%s differs from the source" % f for f in outcome["mismatch"]] + \
                   ["%s was not restored" % f for f in outcome["missing"]]
        if not outcome["match"] and not problems:
            problems.append("no sampled file was unchanged since the snapshot; nothing compared")
        doc["reason"] = "; ".join(problems)
        doc["result"] = "failed" if problems else "success"
    except (RuntimeError, OSError, ValueError) as exc:
        doc["reason"] = str(exc)
    json.dump(doc, sys.stdout, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if doc["result"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
