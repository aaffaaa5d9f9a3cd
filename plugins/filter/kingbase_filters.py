# -*- coding: utf-8 -*-
"""Filters for Kingbase output read on the controller."""
from __future__ import annotations

DOCUMENTATION = r"""
name: repmgr_cluster_show
short_description: Parse the table printed by C(repmgr cluster show)
description:
  - Returns one dict per node with C(id), C(name), C(role), C(status), C(upstream), C(location),
    C(running) (status mentions running), C(marked_primary) (status starts with C(*)) and
    C(flags) (C(!) role differs from metadata, C(?) unreachable).
options:
  _input:
    description: The command's stdout.
    type: str
    required: true
"""


def repmgr_cluster_show(text):
    rows = []
    header = None
    for line in (text or "").splitlines():
        if "|" not in line:
            continue
        cells = [c.strip() for c in line.split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        row = dict(zip(header, cells))
        status = row.get("status", "")
        try:
            node_id = int(row.get("id", ""))
        except ValueError:
            node_id = None
        rows.append({
            "id": node_id,
            "name": row.get("name", ""),
            "role": row.get("role", ""),
            "status": status,
            "upstream": row.get("upstream", ""),
            "location": row.get("location", ""),
            "running": "running" in status and "!" not in status and "?" not in status,
            "marked_primary": status.startswith("*"),
            "flags": "".join(ch for ch in "!?" if ch in status),
        })
    return rows


def kingbase_settings_lowered(live_lines, desired):
    """Names whose desired numeric value is below the live one ("name value" lines from the server).

    Hot standby refuses to run when such a setting is lower on the standby than on its primary, so a
    rolling change that lowers one must change the primary first.
    """
    lowered = []
    for line in live_lines or []:
        parts = str(line).split()
        if len(parts) != 2 or parts[0] not in desired:
            continue
        try:
            live, wanted = int(parts[1]), int(str(desired[parts[0]]))
        except ValueError:
            continue
        if wanted < live:
            lowered.append(parts[0])
    return sorted(lowered)


def repmgr_failover_window(text):
    """Seconds repmgrd waits, once the primary stops answering, before it starts a failover: reconnect_attempts x
    reconnect_interval of a repmgr.conf's text (repmgr's defaults 6 x 10 when a key is absent)."""
    keys = {}
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip().strip("'\"")
    try:
        return int(keys.get("reconnect_attempts", 6)) * int(keys.get("reconnect_interval", 10))
    except ValueError:
        return None


class FilterModule(object):
    def filters(self):
        return {
            "repmgr_cluster_show": repmgr_cluster_show,
            "kingbase_settings_lowered": kingbase_settings_lowered,
            "repmgr_failover_window": repmgr_failover_window,
        }
