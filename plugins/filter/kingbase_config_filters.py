# -*- coding: utf-8 -*-
"""Where a Kingbase setting is written on a cluster the vendor installed (kingbase_config_ownership: block).

The vendor's configuration is a chain: kingbase.conf, the files it includes (a V8R6 cluster ends kingbase.conf
with ``include_if_exists = 'es_rep.conf'``), then kingbase.auto.conf (ALTER SYSTEM, repmgr). The server takes
the last line it reads for each parameter. The project never rewrites the vendor's files: what it changes is one
managed block in the last file of the chain, or ALTER SYSTEM when the operator chooses it. These rules decide,
from the server's own reading of its files (sys_file_settings) and the files' text, where the block goes, what
it holds, what ALTER SYSTEM must set, and what would keep a change from taking effect.
"""
from __future__ import annotations

import base64
import os
import re

SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")

DOCUMENTATION = r"""
name: kingbase_config_plan
short_description: Plan a Kingbase settings change on a vendor-installed cluster
description:
  - Input is the rows of C(sys_file_settings) as printed by the role's query
    (C(seqno|sourceline|applied|error|name|sourcefile|setting), one per line).
  - Returns C(target) (the file that holds the managed block), C(block) (name -> value for the block),
    C(alter_system) (name -> value ALTER SYSTEM must set), C(vendor) (name -> the vendor's value outside the
    block, for each managed name), C(changes) (name, before, after, where) and C(problems) (each one sentence).
options:
  _input:
    description: sys_file_settings rows.
    type: list
    elements: str
    required: true
  texts:
    description: path -> text of the chain's files (to find an existing managed block), or the results of a
      slurp loop over them (C(item) the path, C(content) base64).
    type: raw
  desired:
    description: name -> value the operator manages (kingbase_settings).
    type: dict
  required_preload:
    description: libraries that must be in shared_preload_libraries (merged into the vendor's list).
    type: list
  method:
    description: file (a managed block) or alter_system.
    type: str
  marker:
    description: the block's marker line with C({mark}) for BEGIN or END.
    type: str
"""

AUTO_CONF_SUFFIX = ".auto.conf"


def kingbase_conf_value(value):
    """The right-hand side of ``name = value`` as the role writes it: numbers bare, the rest quoted."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    return "'%s'" % str(value).replace("'", "''")


def kingbase_conf_block(settings):
    """The managed block's lines, sorted by name (the block's content depends on the settings only)."""
    return "\n".join("%s = %s" % (name, kingbase_conf_value(settings[name])) for name in sorted(settings or {}))


def _as_text(value):
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def parse_file_settings(lines):
    """The role's sys_file_settings query output -> rows in read order."""
    rows = []
    for line in lines or []:
        parts = str(line).split("|", 6)
        if len(parts) != 7:
            continue
        seqno, sourceline, applied, error, name, sourcefile, setting = parts
        try:
            seq, ln = int(seqno), int(sourceline or 0)
        except ValueError:
            continue
        rows.append({"seqno": seq, "line": ln, "applied": applied == "t", "error": error == "t",
                     "name": name.lower(), "file": sourcefile, "setting": setting})
    return sorted(rows, key=lambda r: r["seqno"])


def block_lines(text, marker):
    """(first, last) line numbers (1-based, the marker lines included) of the managed block in a text, or None."""
    begin, end = marker.replace("{mark}", "BEGIN"), marker.replace("{mark}", "END")
    first = last = None
    for number, line in enumerate((text or "").splitlines(), 1):
        if line.rstrip() == begin and first is None:
            first = number
        elif line.rstrip() == end and first is not None:
            last = number
            break
    return (first, last) if first and last else None


def preload_names(value):
    return [part.strip().strip("'\"") for part in (value or "").split(",") if part.strip().strip("'\"")]


def _texts(texts):
    if isinstance(texts, dict):
        return texts
    out = {}
    for result in texts or []:
        if result.get("content") is not None:
            out[result["item"]] = base64.b64decode(result["content"]).decode("utf-8", "replace")
    return out


def kingbase_config_files(lines):
    """The configuration files the server reads, in order, except kingbase.auto.conf (ALTER SYSTEM's)."""
    return list(dict.fromkeys(r["file"] for r in parse_file_settings(lines)
                              if r["file"] and not r["file"].endswith(AUTO_CONF_SUFFIX)))


def kingbase_config_plan(lines, texts=None, desired=None, required_preload=None, method="file", marker=""):
    texts = _texts(texts)
    desired = dict(desired or {})
    rows = parse_file_settings(lines)
    problems = []
    for row in rows:
        if row["error"]:
            problems.append("%s line %s: the server cannot read this line (%s); mend the file before any change"
                            % (row["file"], row["line"], row["name"] or "syntax"))
    blocks = {}
    for path, text in texts.items():
        span = block_lines(text, marker)
        if span:
            blocks[path] = span

    def in_block(row):
        span = blocks.get(row["file"])
        return bool(span) and span[0] <= row["line"] <= span[1]

    outside = [r for r in rows if not in_block(r) and not r["error"]]
    files = [r["file"] for r in rows if not r["file"].endswith(AUTO_CONF_SUFFIX)]
    if len(blocks) > 1:
        problems.append("a managed block is in %s: keep one (remove the others by hand), then run again"
                        % " and ".join(sorted(blocks)))
    target = sorted(blocks)[0] if blocks else (files[-1] if files else None)
    if target is None and method == "file":
        problems.append("the server reports no configuration file (sys_file_settings is empty): nothing to write to")
    # Where the block is in the read order: after the target's last line above it (or the file's end).
    target_rows = [r for r in rows if r["file"] == target]
    if target in blocks:
        above = [r["seqno"] for r in target_rows if r["line"] <= blocks[target][1]]
        # A block at the top of its file: just before the file's first line the server read.
        anchor = max(above) if above else (min(r["seqno"] for r in target_rows) - 1 if target_rows else
                                           max([r["seqno"] for r in rows if not r["file"].endswith(AUTO_CONF_SUFFIX)] or [0]))
    else:
        anchor = max([r["seqno"] for r in target_rows] or [0])

    def vendor_value(name):
        found = [r for r in outside if r["name"] == name]
        return found[-1]["setting"] if found else None

    managed = dict((name.lower(), value) for name, value in desired.items())
    preload_needed = list(required_preload or [])
    if "shared_preload_libraries" in managed:
        wanted = managed.pop("shared_preload_libraries")
        preload_needed += wanted if isinstance(wanted, list) else preload_names(_as_text(wanted))
    vendor_libs = preload_names(vendor_value("shared_preload_libraries"))
    missing = [lib for lib in dict.fromkeys(preload_needed) if lib not in vendor_libs]
    block_has_preload = any(r["name"] == "shared_preload_libraries" and in_block(r) for r in rows)
    if missing or block_has_preload:
        managed["shared_preload_libraries"] = ", ".join(vendor_libs + missing)

    block, alter, changes = {}, {}, []
    for name in sorted(managed):
        value = managed[name]
        later = [r for r in outside if r["name"] == name and r["seqno"] > anchor]
        auto = [r for r in later if r["file"].endswith(AUTO_CONF_SUFFIX)]
        before = vendor_value(name)
        if method == "alter_system":
            current = auto[-1]["setting"] if auto else None
            if current != _as_text(value):
                alter[name] = value
                changes.append({"name": name, "before": before, "after": _as_text(value), "where": "ALTER SYSTEM"})
            continue
        if auto:
            problems.append("%s is set in %s line %s (ALTER SYSTEM), which the server reads after every other file: "
                            "a managed block cannot take effect; set kingbase_settings_method: alter_system, or remove it "
                            "with ALTER SYSTEM RESET %s in a change window" % (name, auto[-1]["file"], auto[-1]["line"], name))
            continue
        if later:
            problems.append("%s is set again in %s line %s, read after the managed block in %s: the block cannot take "
                            "effect; remove or comment out that line (it is the vendor's file: record it in the change), "
                            "then run again" % (name, later[-1]["file"], later[-1]["line"], target))
            continue
        block[name] = value
        current = [r for r in rows if r["name"] == name and in_block(r)]
        if (current[-1]["setting"] if current else before) != _as_text(value):
            changes.append({"name": name, "before": before, "after": _as_text(value), "where": target})
    return {"target": target, "method": method, "block": block, "alter_system": alter, "changes": changes,
            "vendor": dict((name, vendor_value(name)) for name in sorted(managed)), "problems": problems,
            "chain": list(dict.fromkeys(r["file"] for r in rows))}


def kingbase_settings_landed(lines, plan, restarted=True):
    """After the change: each managed name must come from the file the plan wrote it to (sys_settings rows
    ``name|sourcefile|pending_restart``), and wait for no restart when the role was allowed to restart. Returns one
    sentence per name that did not land."""
    where = dict((name, plan.get("target")) for name in plan.get("block") or {})
    for name in plan.get("alter_system") or {}:
        where[name] = AUTO_CONF_SUFFIX
    problems = []
    seen = set()
    for line in lines or []:
        parts = str(line).split("|")
        if len(parts) != 3 or parts[0] not in where:
            continue
        name, source, pending = parts
        seen.add(name)
        expected = where[name]
        ok = source.endswith(AUTO_CONF_SUFFIX) if expected == AUTO_CONF_SUFFIX else (
            os.path.normpath(source) == os.path.normpath(expected or ""))
        if not ok:
            problems.append("%s comes from %s, not from %s: the change did not take effect"
                            % (name, source or "the built-in default", expected))
        elif pending == "t" and restarted:
            problems.append("%s waits for a restart (pending_restart)" % name)
    for name in sorted(set(where) - seen):
        problems.append("%s: the server does not report it (sys_settings)" % name)
    return problems


def kingbase_settings_problems(settings, ownership, control, discovered):
    """The inputs of a settings change that cannot be right, one sentence each (variable, value, what is allowed)."""
    problems = []
    for name in sorted(settings or {}, key=str):
        if not SETTING_NAME.match(str(name)):
            problems.append("kingbase_settings key %r : not a parameter name; allowed: lower-case letters, digits and _ "
                            "(one dot for an extension's parameter)" % (name,))
    if ownership == "block" and not discovered:
        problems.append("kingbase_config_ownership = block : this host has no discovery facts (discovery_facts.kingbase), so "
                        "the vendor's paths are unknown; allowed: run playbooks/discover.yml first, or whole for a cluster "
                        "the project installed")
    if control == "kbha" and ownership == "whole":
        problems.append("kingbase_control = kbha with kingbase_config_ownership = whole : the role would rewrite the "
                        "vendor's kingbase.conf whole; allowed: block for a cluster kbha runs")
    return problems


class FilterModule(object):
    def filters(self):
        return {
            "kingbase_config_files": kingbase_config_files,
            "kingbase_config_plan": kingbase_config_plan,
            "kingbase_conf_block": kingbase_conf_block,
            "kingbase_conf_value": kingbase_conf_value,
            "kingbase_settings_landed": kingbase_settings_landed,
            "kingbase_settings_problems": kingbase_settings_problems,
        }
