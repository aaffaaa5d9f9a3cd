# -*- coding: utf-8 -*-
"""The live topology of one Kingbase cluster, read from its members, and what a changing run may do to
each member. The rule that keeps automation from starting a second primary lives here (unit-tested in
tests/unit/test_kingbase_topology.py); playbooks/kingbase_topology.yml applies it before any change."""
from __future__ import annotations

DOCUMENTATION = r"""
name: kingbase_topology
short_description: Judge a Kingbase cluster's live topology and decide what a run may do to each member
description:
  - Input is a dict member name -> the state that module C(kingbase_node_state) returned for that member
    (C(read) false when the member could not be read, with C(error)).
  - "Returns C(cluster), C(members), C(designated_primary) (the member whose C(kingbase_node_role) is primary),
    C(running_primaries), C(primary) (the one running primary; when none runs, the stopped member whose data is
    a primary's and that may start), C(split_brain), C(unreadable), C(nodes) (member -> C(action) and C(reason)),
    C(refusals) (one message per member a run must not touch), C(inventory_current), C(inventory_note) and
    C(states) (the input)."
  - "Actions: C(keep) (runs; nothing to decide), C(start) (stopped, starts as what its data says and that is
    safe), C(initdb) (empty, designated primary, no other member has data), C(clone) (empty; cloned from
    the primary), C(refuse) (starting it could make a second primary or a separate cluster), C(unknown)
    (could not be read)."
options:
  _input:
    description: member -> kingbase_node_state result.
    type: dict
    required: true
  cluster:
    description: The cluster's name (for messages).
    type: str
    required: true
  designated:
    description: The member the inventory names primary.
    type: str
    required: true
  confirmed:
    description: Members the operator confirmed may start as primary although a peer could not be read.
    type: list
    elements: str
    default: []
"""

REJOIN = ("ansible-playbook playbooks/kingbase_rejoin.yml -e rejoin_node={node} -e confirm_rejoin=yes "
          "-e change_id=<CR>")


def _running_primary(state):
    return bool(state.get("read")) and bool(state.get("running")) and state.get("in_recovery") is False


def _timeline(state):
    tl = state.get("timeline")
    return "timeline %s" % tl if tl not in (None, "") else "timeline unknown"


def kingbase_topology(states, cluster, designated, confirmed=None):
    confirmed = set(confirmed or [])
    members = list(states)
    running_primaries = sorted(m for m in members if _running_primary(states[m]))
    unreadable = sorted(m for m in members if not states[m].get("read"))
    with_data = sorted(m for m in members if states[m].get("read") and states[m].get("data_role") in ("primary", "standby"))
    stopped_primary_data = sorted(m for m in members if states[m].get("read") and not states[m].get("running")
                                  and states[m].get("data_role") == "primary")
    split_brain = len(running_primaries) > 1
    nodes = {}
    refusals = []

    def refuse(node, reason):
        nodes[node] = {"action": "refuse", "reason": reason}
        refusals.append("%s (cluster %s): %s" % (node, cluster, reason))

    for m in members:
        s = states[m]
        others = [o for o in members if o != m]
        other_primaries = [o for o in running_primaries if o != m]
        unread_peers = [o for o in unreadable if o != m] if m not in confirmed else []

        def blind(what, risk, node=m, peers=unread_peers):
            return ("%s, and %s could not be read: %s. Bring %s back, or check by hand that none of them runs as "
                    "primary and pass -e kingbase_confirm_start_primary=%s."
                    % (what, ", ".join(peers), risk, ", ".join(peers), node))

        orphans = [o for o in others if states[o].get("read") and states[o].get("running")
                   and states[o].get("in_recovery") and states[o].get("receiver_status") != "streaming"]
        if split_brain:
            refuse(m, "cluster %s has %d running primaries (%s): split brain. Nothing was changed; stop writes and "
                      "resolve it by hand (docs/runbooks/kingbase.md, Two primaries) before any automation."
                   % (cluster, len(running_primaries), ", ".join(running_primaries)))
            continue
        if not s.get("read"):
            nodes[m] = {"action": "unknown", "reason": "could not be read: %s" % (s.get("error") or "no answer")}
            continue
        if s.get("running"):
            nodes[m] = {"action": "keep", "reason": "runs as %s" % ("a standby" if s.get("in_recovery") else "the primary")}
            continue
        role = s.get("data_role")
        if role == "standby":
            nodes[m] = {"action": "start", "reason": "stopped; its data directory starts it as a standby"}
        elif role == "primary":
            if other_primaries:
                refuse(m, "stopped, and its data directory would start it as a primary while %s is the running "
                          "primary: starting it would make a second primary (split brain). Rejoin it as a standby "
                          "of %s first: %s; or leave it out of this run (--limit '!%s')."
                       % (other_primaries[0], other_primaries[0], REJOIN.format(node=m), m))
            elif orphans:
                refuse(m, "stopped with a primary's data directory while %s runs as a standby that has lost its "
                          "upstream (WAL receiver %s): repmgrd may be promoting it right now, and starting this node "
                          "could make a second primary. Wait until repmgr cluster show settles, then run again."
                       % (", ".join(orphans), "/".join(sorted(set(states[o].get("receiver_status") or "none"
                                                                   for o in orphans)))))
            elif [o for o in stopped_primary_data if o != m]:
                rivals = [o for o in stopped_primary_data if o != m]
                refuse(m, "stopped with a primary's data directory (%s), and so is %s (%s): two members claim to be "
                          "primary. Decide by hand which holds the newest committed data (the higher timeline was "
                          "promoted last), start that one alone, then rejoin the other (docs/runbooks/kingbase.md)."
                       % (_timeline(s), ", ".join(rivals),
                          ", ".join(_timeline(states[o]) for o in rivals)))
            elif unread_peers:
                refuse(m, blind("stopped with a primary's data directory", "whether one of them was promoted is unknown"))
            else:
                nodes[m] = {"action": "start", "reason": "stopped; no other member is or claims to be the primary"}
        elif role == "foreign":
            refuse(m, "its data directory holds files but no control file: not a Kingbase database this automation "
                      "may initialise or clone over. Look at what is there and empty it by hand.")
        else:
            if other_primaries:
                nodes[m] = {"action": "clone", "reason": "empty; cloned from the primary %s" % other_primaries[0]}
            elif m == designated and not [o for o in with_data if o != m]:
                if unread_peers:
                    refuse(m, blind("empty and named primary by the inventory",
                                    "a new database here could start a second cluster beside a running one"))
                else:
                    nodes[m] = {"action": "initdb", "reason": "empty, named primary by the inventory, no member has data"}
            elif m == designated:
                holders = [o for o in with_data if o != m]
                refuse(m, "empty and named primary by the inventory, but %s holds the cluster's data and is not "
                          "running: a new database here would be a separate cluster. Start %s first (this node is "
                          "then cloned from it), and make the inventory name the real primary."
                       % (", ".join(holders), holders[0]))
            else:
                nodes[m] = {"action": "clone", "reason": "empty; cloned from the primary once it runs"}

    primary = running_primaries[0] if len(running_primaries) == 1 else None
    if primary is None and not split_brain:
        starting = [m for m in stopped_primary_data if nodes.get(m, {}).get("action") == "start"]
        primary = starting[0] if starting else None
    inventory_current = primary is None or primary == designated
    note = ""
    if not inventory_current:
        note = ("the inventory names %s primary (kingbase_node_role: primary) but the cluster's primary is %s. "
                "Switch back (playbooks/kingbase_switchover.yml -e switchover_target=%s -e confirm_switchover=yes) or "
                "change the inventory: kingbase_node_role: primary on %s and kingbase_node_role: standby on %s."
                % (designated, primary, designated, primary, designated))
    return {
        "cluster": cluster,
        "members": members,
        "designated_primary": designated,
        "running_primaries": running_primaries,
        "primary": primary,
        "split_brain": split_brain,
        "unreadable": unreadable,
        "nodes": nodes,
        "refusals": refusals,
        "inventory_current": inventory_current,
        "inventory_note": note,
        "states": states,
    }


def kingbase_node_states(results):
    """The results of a kingbase_node_state loop over the members (delegated, failed_when false,
    ignore_unreachable) -> member -> state; a member that did not answer is {read: false, error}."""
    out = {}
    for r in results or []:
        name = r.get("item")
        if r.get("unreachable"):
            out[name] = {"read": False, "error": "unreachable: %s" % (r.get("msg") or "").strip()[:300]}
        elif r.get("failed") or "state" not in r:
            out[name] = {"read": False, "error": (r.get("msg") or "the state module failed").strip()[:300]}
        elif r.get("skipped"):
            continue
        else:
            out[name] = r["state"]
    return out


class FilterModule(object):
    def filters(self):
        return {"kingbase_topology": kingbase_topology, "kingbase_node_states": kingbase_node_states}
