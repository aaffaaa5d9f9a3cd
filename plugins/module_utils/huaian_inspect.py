# -*- coding: utf-8 -*-
"""What the inspection modules share: the thresholds merge, the finding record, the options of the
inspection contract (thresholds, deep, horizon_days) and the parsing of `systemctl show` output.

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax. The component
module_utils (huaian_inspect_<component>.py, huaian_probe.py) import it as ansible.module_utils.huaian_inspect,
which AnsiballZ packs with them.
"""
from __future__ import absolute_import, division, print_function

import os
import time
import traceback

__metaclass__ = type


def merge_thresholds(defaults, given):
    """defaults updated with given. An unknown key or a value that is not a number is a ValueError naming
    the key (with the known keys). Numbers keep their type; a numeric string becomes an int, else a float."""
    merged = dict(defaults)
    for key, value in sorted((given or {}).items(), key=lambda item: str(item[0])):
        if key not in defaults:
            raise ValueError("unknown threshold %r (known: %s)" % (key, ", ".join(sorted(defaults))))
        if isinstance(value, bool):
            raise ValueError("threshold %r must be a number, got %r" % (key, value))
        if not isinstance(value, (int, float)):
            try:
                value = int(value)
            except (TypeError, ValueError):
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ValueError("threshold %r must be a number, got %r" % (key, value))
        merged[key] = value
    return merged


def finding(component, code, severity, subject, message, action, value=None, threshold=None):
    """One finding as every inspection module returns it (the report's contract)."""
    return {"code": code, "severity": severity, "component": component, "subject": subject,
            "message": message, "action": action, "value": value, "threshold": threshold}


def parse_systemctl_show(text):
    """`systemctl show -p A,B unit1 unit2` -> {Id: {property: value}} (blocks separated by blank lines)."""
    units = {}
    block = {}
    for line in (text or "").splitlines() + [""]:
        if not line.strip():
            if block:
                units[block.get("Id", "?")] = block
            block = {}
        elif "=" in line:
            key, value = line.split("=", 1)
            block[key] = value
    return units


def unexpected_failure(name, exc):
    """(msg, traceback text) for an exception a module's readings did not expect: msg names the module, the
    exception's type and text and the line it was raised at, so the report's INSPECTION_ERROR says what broke
    (Ansible's own message for a crashed module is only "MODULE FAILURE")."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        where = " (%s:%d in %s)" % (os.path.basename(frames[-1].filename), frames[-1].lineno, frames[-1].name)
    text = str(exc)
    msg = "%s stopped on an unexpected error: %s%s%s" % (name, type(exc).__name__, (": " + text) if text else "", where)
    return msg, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def guarded(module, name, body):
    """body()'s result; an exception it raises (any but the SystemExit of fail_json / exit_json) fails the
    module with unexpected_failure's message and the traceback as `exception`."""
    try:
        return body()
    except Exception as exc:  # noqa: BLE001 - whatever stops a reading is the module's message, not a crash
        msg, trace = unexpected_failure(name, exc)
        module.fail_json(msg=msg, exception=trace)


def inspection_argument_spec():
    """The options every inspection module takes, to merge into its argument_spec."""
    return dict(
        thresholds=dict(type="dict", default={}),
        deep=dict(type="bool", default=False),
        horizon_days=dict(type="int", default=90),
    )


# A hung systemd / D-Bus, rpm database lock or sshd must not stall a run: commands run under coreutils
# timeout (then SIGKILL KILL_AFTER_S later), and one that runs out of time counts as unreadable.
COMMAND_TIMEOUT_S = 30
KILL_AFTER_S = 5
TIMED_OUT_RC = (124, 137)  # coreutils timeout: ran out of time (124), had to be killed (128 + 9)


def run_bounded(module, cmd, timeout_s=COMMAND_TIMEOUT_S, require_elapsed=False, **kwargs):
    """(rc, out, err, timed_out) of module.run_command(cmd) under coreutils timeout when it is installed.

    On a timeout out is dropped (it may be partial) and err says so. With require_elapsed, rc 124/137
    counts as a timeout only when the limit really elapsed (rpm -q exits with the number of names not
    installed, which may be 124).
    """
    timeout = module.get_bin_path("timeout")
    prefix = [timeout, "-k", str(KILL_AFTER_S), str(timeout_s)] if timeout else []
    start = time.monotonic()
    rc, out, err = module.run_command(prefix + list(cmd), **kwargs)
    if prefix and rc in TIMED_OUT_RC and (not require_elapsed or time.monotonic() - start >= timeout_s):
        return rc, "", "%s timed out after %d s" % (os.path.basename(cmd[0]), timeout_s), True
    return rc, out, err, False
