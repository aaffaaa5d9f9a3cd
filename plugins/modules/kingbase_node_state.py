#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kingbase_node_state
short_description: Read what one Kingbase node is, and what it would start as, in one call
description:
  - Reads, as the Kingbase OS user, whether the server accepts connections (C(sys_isready)); when it does,
    whether it is in recovery, its start time, its WAL receiver's status and repmgr's metadata
    (C(repmgr.nodes)); and from the data directory alone, whether it is initialised, whether it would start
    as a standby (the standby signal file) or as a primary, and C(sys_controldata)'s cluster state and
    timeline. That is what the topology rule (filter C(kingbase_topology)) needs to refuse starting a
    second primary.
  - Runs as root (to see a data directory that is not there yet, on a host whose Kingbase account does not
    exist yet) but never runs a Kingbase program as root; each runs as O(os_user) through C(runuser), since
    the vendor's install leaves those programs writable by that account. Without the account the node
    reads as not running, with whatever its data directory holds.
  - Read-only; safe in check mode; never fails on a stopped or broken server, only on invalid parameters.
    Runs on Python 3.7 (Kylin V10).
version_added: "0.2.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  os_user:
    description: The Kingbase OS account every Kingbase program runs as.
    type: str
    default: kingbase
  bin_dir:
    description: Kingbase's bin directory (C(ksql), C(sys_isready), C(sys_controldata)).
    type: path
    required: true
  data_dir:
    description: The data directory.
    type: path
    required: true
  control_file:
    description: The control file, relative to the data directory (Kingbase C(global/sys_control)).
    type: str
    default: global/sys_control
  standby_signal_file:
    description: The file whose presence makes the server start as a standby (V8R6 C(standby.signal), UNCONFIRMED).
    type: str
    default: standby.signal
  host:
    description: Address ksql connects to.
    type: str
    default: 127.0.0.1
  port:
    description: Server port.
    type: int
    default: 54321
  user:
    description: Database superuser for the queries.
    type: str
    default: system
  database:
    description: Database for the queries.
    type: str
    default: test
  passfile:
    description: Password file for ksql (C(KINGBASE_PASSFILE)); empty uses the client's default (C(~/.kbpass)).
    type: path
  repmgr_user:
    description: repmgr's account; empty skips reading C(repmgr.nodes).
    type: str
    default: ""
  repmgr_database:
    description: repmgr's database.
    type: str
    default: esrep
  timeout:
    description: Seconds each command may take.
    type: int
    default: 15
"""

EXAMPLES = r"""
- name: Read the state of every member of this node's cluster
  kingbase_node_state:
    bin_dir: /opt/Kingbase/ES/V8/V008R006C008B0014/Server/bin
    data_dir: /opt/Kingbase/ES/V8/data
    repmgr_user: esrep
  become: true
  delegate_to: "{{ item }}"
  loop: [city-kb01, city-kb02]
"""

RETURN = r"""
state:
  description: The node's state.
  returned: always
  type: dict
  sample: {"read": true, "account": true, "running": false, "in_recovery": null, "start_epoch": null, "receiver_status": "",
           "data_role": "primary", "control_state": "in production", "timeline": 1, "repmgr_nodes": [],
           "errors": []}
"""

import os
import pwd

from ansible.module_utils.basic import AnsibleModule

SEP = "\t"


def parse_controldata(text):
    """sys_controldata output -> (cluster state, latest checkpoint timeline or None)."""
    state, timeline = "", None
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "database cluster state":
            state = value
        elif key == "latest checkpoint's timelineid":
            try:
                timeline = int(value)
            except ValueError:
                timeline = None
    return state, timeline


def parse_core(text):
    """'t|f <TAB> start epoch <TAB> receiver status' -> (in_recovery, start_epoch, receiver_status)."""
    # Only line breaks are stripped: a primary's empty receiver status is a trailing tab.
    lines = [ln for ln in (text or "").split("\n") if ln.strip()]
    cells = lines[0].rstrip("\r").split(SEP) if lines else []
    if len(cells) < 3 or cells[0] not in ("t", "f"):
        raise ValueError("unexpected answer %r" % (text or "")[:200])
    try:
        start = float(cells[1])
    except ValueError:
        start = None
    return cells[0] == "t", start, cells[2].strip()


def parse_repmgr_nodes(text):
    rows = []
    for line in (text or "").splitlines():
        cells = line.split(SEP)
        if len(cells) >= 4:
            rows.append({"name": cells[0], "type": cells[1], "active": cells[2] == "t",
                         "upstream": cells[3] or None})
    return rows


def data_role(has_control, has_signal, entries):
    if has_control:
        return "standby" if has_signal else "primary"
    return "empty" if entries == 0 else "foreign"


def first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def read_state(run, params, exists, listdir, account=True):
    """The node's state through run(argv) -> (rc, out, err), exists(path) and listdir(path)."""
    errors = []
    data_dir = params["data_dir"]
    has_control = exists(os.path.join(data_dir, params["control_file"]))
    has_signal = exists(os.path.join(data_dir, params["standby_signal_file"]))
    try:
        entries = len(listdir(data_dir)) if exists(data_dir) else 0
    except OSError as exc:
        entries = -1
        errors.append("cannot list %s: %s" % (data_dir, exc))
    state = {"read": True, "account": account, "running": False, "in_recovery": None, "start_epoch": None, "receiver_status": "",
             "data_role": data_role(has_control, has_signal, entries), "control_state": "", "timeline": None,
             "repmgr_nodes": [], "errors": errors}
    if not account:
        return state
    if has_control:
        rc, out, err = run([os.path.join(params["bin_dir"], "sys_controldata"), "-D", data_dir])
        if rc == 0:
            state["control_state"], state["timeline"] = parse_controldata(out)
        else:
            errors.append("sys_controldata: %s" % (first_line(err) or first_line(out) or "rc %d" % rc))
    rc, _, _ = run([os.path.join(params["bin_dir"], "sys_isready"), "-h", params["host"], "-p", str(params["port"])])
    state["running"] = rc == 0
    if not state["running"]:
        return state
    ksql = [os.path.join(params["bin_dir"], "ksql"), "-X", "-q", "-A", "-t", "-F", SEP, "-v", "ON_ERROR_STOP=1",
            "-h", params["host"], "-p", str(params["port"])]
    rc, out, err = run(ksql + ["-U", params["user"], "-d", params["database"], "-c",
                               "select sys_is_in_recovery(), extract(epoch from sys_postmaster_start_time()), "
                               "coalesce((select status from sys_stat_wal_receiver limit 1), '')"])
    if rc != 0:
        errors.append("ksql: %s" % (first_line(err) or "rc %d" % rc))
        state["read"] = False
        state["error"] = "the server runs but its role cannot be read: %s" % errors[-1]
        return state
    try:
        state["in_recovery"], state["start_epoch"], state["receiver_status"] = parse_core(out)
    except ValueError as exc:
        state["read"] = False
        state["error"] = "the server runs but its role cannot be read: %s" % exc
        return state
    if params["repmgr_user"]:
        rc, out, err = run(ksql + ["-U", params["repmgr_user"], "-d", params["repmgr_database"], "-c",
                                   "select n.node_name, n.type, n.active, coalesce(u.node_name, '') from repmgr.nodes n "
                                   "left join repmgr.nodes u on u.node_id = n.upstream_node_id order by n.node_id"])
        if rc == 0:
            state["repmgr_nodes"] = parse_repmgr_nodes(out)
        else:
            errors.append("repmgr metadata: %s" % (first_line(err) or "rc %d" % rc))
    return state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            os_user=dict(type="str", default="kingbase"),
            bin_dir=dict(type="path", required=True),
            data_dir=dict(type="path", required=True),
            control_file=dict(type="str", default="global/sys_control"),
            standby_signal_file=dict(type="str", default="standby.signal"),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=54321),
            user=dict(type="str", default="system"),
            database=dict(type="str", default="test"),
            passfile=dict(type="path"),
            repmgr_user=dict(type="str", default=""),
            repmgr_database=dict(type="str", default="esrep"),
            timeout=dict(type="int", default=15),
        ),
        supports_check_mode=True,
    )
    params = module.params
    env = {"LC_ALL": "C"}
    if params["passfile"]:
        env["KINGBASE_PASSFILE"] = params["passfile"]
    timeout_bin = module.get_bin_path("timeout")
    try:
        account = pwd.getpwnam(params["os_user"])
    except KeyError:
        account = None
    prefix = []
    if account is not None and os.geteuid() == 0 and account.pw_uid != 0:
        prefix = [module.get_bin_path("runuser", required=True, opt_dirs=["/usr/sbin", "/sbin"]),
                  "-u", params["os_user"], "--"]
        env["HOME"] = account.pw_dir

    def run(argv):
        if timeout_bin:
            argv = [timeout_bin, str(params["timeout"])] + argv
        return module.run_command(prefix + argv, environ_update=env, cwd="/")

    module.exit_json(changed=False, state=read_state(run, params, os.path.exists, os.listdir,
                                                     account=account is not None))


if __name__ == "__main__":
    main()
