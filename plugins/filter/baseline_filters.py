# -*- coding: utf-8 -*-
"""Filters of the baseline and drift playbooks: key-level comparison of a host's stored baseline
with its live state, and the drift summary the reports show.

Pure functions (controller side; filter plugins cannot import module_utils); unit-tested in
tests/unit/test_baseline_filters.py.
"""
from __future__ import annotations

import fnmatch
import json

# Keys whose value changes without anyone changing the configuration: Sentinel rewrites its own file
# (epochs, ids, the replicas and sentinels it has seen, the current master), and replication.conf
# follows the master after a failover. Patterns are fnmatch globs on '<source>|<key>'.
DEFAULT_VOLATILE = [
    "sentinel.conf|sentinel myid",
    "sentinel.conf|sentinel current-epoch",
    "sentinel.conf|sentinel config-epoch *",
    "sentinel.conf|sentinel leader-epoch *",
    "sentinel.conf|sentinel known-replica *",
    "sentinel.conf|sentinel known-sentinel *",
    "sentinel.conf|sentinel monitor *",
    "replication.conf|replicaof",
]


def _volatile(source, key, patterns):
    probe = "%s|%s" % (source, key)
    return any(fnmatch.fnmatchcase(probe, p) for p in patterns)


def _canon(value):
    """Comparable form of a value (a list and its JSON are the same; None is absent)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def baseline_diff(old, new, host="", volatile=None):
    """Key-level differences between two baselines (source -> key -> value).

    Returns a list of {host, source, key, kind, old, new} sorted by source and key; kind is added
    (in new only), removed (in old only) or changed. A source missing on one side counts as all its
    keys added or removed. Keys matching a volatile pattern ('<source>|<key>' glob; None: the
    defaults) are ignored.
    """
    patterns = DEFAULT_VOLATILE if volatile is None else list(volatile)
    old = old or {}
    new = new or {}
    out = []
    for source in sorted(set(old) | set(new)):
        before = old.get(source) or {}
        after = new.get(source) or {}
        for key in sorted(set(before) | set(after)):
            if _volatile(source, key, patterns):
                continue
            if key not in before:
                kind = "added"
            elif key not in after:
                kind = "removed"
            elif _canon(before[key]) != _canon(after[key]):
                kind = "changed"
            else:
                continue
            out.append({"host": host, "source": source, "key": key, "kind": kind,
                        "old": before.get(key), "new": after.get(key)})
    return out


def baseline_key_count(baseline):
    """Number of keys in a baseline (source -> key -> value)."""
    return sum(len(keys) for keys in (baseline or {}).values())


def drift_summary(hosts, stored, live, volatile=None):
    """The drift run's result over every host of the run.

    hosts: inventory names of the run; stored: host -> stored baseline file content (or missing);
    live: host -> live baseline (missing when the host could not be read).
    Returns {hosts: [{host, status, changes, key_count}], changes: [...], drifted, no_baseline,
    unreadable, clean}; status is drift, clean, no_baseline or unreadable.
    """
    rows, changes = [], []
    for host in sorted(hosts):
        current = live.get(host)
        record = stored.get(host)
        if current is None:
            rows.append({"host": host, "status": "unreadable", "changes": 0, "key_count": 0})
            continue
        if not record:
            rows.append({"host": host, "status": "no_baseline", "changes": 0, "key_count": baseline_key_count(current)})
            continue
        diff = baseline_diff(record.get("baseline", {}), current, host=host, volatile=volatile)
        changes.extend(diff)
        # The stored declaration (what drift.yml reads again) is the machine's business, not the report's.
        recorded = dict((k, v) for k, v in record.get("metadata", {}).items() if k != "declared")
        rows.append({"host": host, "status": "drift" if diff else "clean", "changes": len(diff),
                     "key_count": baseline_key_count(current), "recorded": recorded})
    by = {}
    for row in rows:
        by.setdefault(row["status"], []).append(row["host"])
    return {"hosts": rows, "changes": changes, "drifted": by.get("drift", []), "clean": by.get("clean", []),
            "no_baseline": by.get("no_baseline", []), "unreadable": by.get("unreadable", [])}


def baseline_document(live, summary=None, metadata=None):
    """The stored form of a host's baseline: {metadata, baseline}.

    metadata gets the key count and, per source, the keys whose values were redacted (their names
    only); the compared part, baseline, holds no timestamp.
    """
    meta = dict(metadata or {})
    meta["key_count"] = baseline_key_count(live)
    meta["redacted"] = dict((name, s["redacted"]) for name, s in sorted((summary or {}).items()) if s.get("redacted"))
    return {"metadata": meta, "baseline": live or {}}


def baseline_value_text(value):
    """A value as one line for the reports: lists joined with ' | ', absent as '—'."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    return str(value)


def baseline_files(directory, hosts):
    """{host: stored baseline} for each host that has <directory>/<host>.json; hosts without one are left
    out (drift_summary reports them as having no baseline). Read in one pass on the controller."""
    import os
    out = {}
    for host in hosts:
        path = os.path.join(directory, "%s.json" % host)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                out[host] = json.load(handle)
    return out


class FilterModule:
    def filters(self):
        return {
            "baseline_diff": baseline_diff,
            "baseline_key_count": baseline_key_count,
            "drift_summary": drift_summary,
            "baseline_value_text": baseline_value_text,
            "baseline_document": baseline_document,
            "baseline_files": baseline_files,
        }
