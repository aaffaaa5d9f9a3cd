# -*- coding: utf-8 -*-
"""report_files: write a run's report files on the controller in one task.

The reports of inspect.yml and drift.yml (JSON, Markdown, HTML) and the `latest` link beside them are
controller files. Written with file/copy/template delegated to localhost, each file costs a module run
(a Python start and a stat round trip) on the controller; this action writes them in the controller's
own process. Each file is written beside its destination and renamed over it, so a reader never sees a
half-written report. The writing is a pure function (write_report_files), unit-tested in
tests/unit/test_report_files.py.
"""
from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
module: report_files
short_description: Write a run's report files (and a latest link) on the controller
description:
  - Writes each of O(files) under O(dir) (created when missing) on the controller, atomically (written beside
    the destination, then renamed over it), and optionally points a symbolic link at O(dir).
  - Runs in the controller's process; it never connects to the task's host.
  - "In check mode nothing is written and C(changed) says what a real run would change; report tasks set
    C(check_mode: false) because the report is the run's output."
options:
  dir:
    description: The run's report directory (absolute).
    type: path
    required: true
  files:
    description:
      - Files to write, each C(dest) (relative to O(dir), or absolute) and C(content).
      - Each destination must be inside O(dir) or one of O(roots); anything else is refused before any file is written.
    type: list
    elements: dict
    required: true
  roots:
    description: Absolute directories besides O(dir) that files may be written into (e.g. the report root).
    type: list
    elements: path
    default: []
  mode:
    description: Permissions of the files.
    type: str
    default: "0640"
  dir_mode:
    description: Permissions of O(dir) when it is created.
    type: str
    default: "0750"
  latest:
    description: A symbolic link to point at O(dir); relative when it sits beside O(dir).
    type: path
"""

EXAMPLES = r"""
- name: Write the drift report and point latest at it
  report_files:
    dir: "{{ drift_report_dir }}"
    files:
      - dest: drift.json
        content: "{{ drift_result | to_nice_json }}"
      - dest: report.md
        content: "{{ lookup('ansible.builtin.template', 'templates/drift_report.md.j2') }}"
    latest: "{{ drift_report_dir | dirname }}/latest"
  check_mode: false
  run_once: true
"""

RETURN = r"""
written:
  description: Paths whose content changed (or would change, in check mode).
  type: list
  returned: always
dir:
  description: The report directory.
  type: str
  returned: always
"""


class ReportFilesError(ValueError):
    pass


def _mode(value, name):
    try:
        mode = int(str(value), 8)
    except ValueError:
        raise ReportFilesError("%s is %r; allowed: an octal mode such as '0640'" % (name, value))
    if not 0 <= mode <= 0o7777:
        raise ReportFilesError("%s is %r; allowed: an octal mode such as '0640'" % (name, value))
    return mode


def _current(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _make_dirs(path, mode):
    """Create path and its missing parents, each with mode (os.makedirs gives only the last one mode)."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        os.mkdir(path)
        os.chmod(path, mode)


def _inside(path, root):
    return os.path.commonpath([path, root]) == root


def plan_report_files(directory, files, roots=None):
    """[(absolute destination, bytes)] in the given order; raises ReportFilesError on bad input.

    Every destination (relative to directory, or absolute) must stay inside directory or one of roots (absolute
    directories the caller names, e.g. the report root beside the run's directory): a report never writes
    anywhere else, whatever a template or an inventory put into a dest."""
    if not directory or not os.path.isabs(directory):
        raise ReportFilesError("dir is %r; allowed: an absolute path" % (directory,))
    bounds = [os.path.normpath(directory)]
    for root in roots or []:
        if not isinstance(root, str) or not os.path.isabs(root):
            raise ReportFilesError("roots has %r; allowed: absolute paths" % (root,))
        bounds.append(os.path.normpath(root))
    out, seen = [], set()
    for index, item in enumerate(files or []):
        if not isinstance(item, dict) or "dest" not in item or "content" not in item:
            raise ReportFilesError("files[%d] is %r; allowed: a dict with dest and content" % (index, item))
        given = str(item["dest"])
        dest = os.path.normpath(os.path.join(directory, given))
        if not given or not any(_inside(dest, b) and dest != b for b in bounds):
            raise ReportFilesError("files[%d].dest is %r (%s); allowed: a file inside %s" % (
                index, given, dest, " or ".join(bounds)))
        if dest in seen:
            raise ReportFilesError("files[%d]: %s is given twice" % (index, dest))
        seen.add(dest)
        out.append((dest, to_bytes(item["content"], errors="surrogate_or_strict")))
    return out


def write_report_files(directory, files, mode=0o640, dir_mode=0o750, latest=None, check=False, roots=None):
    """Write files (plan_report_files' input) under directory and point latest at it.

    Returns the paths whose content or target changed. In check mode nothing is touched."""
    planned = plan_report_files(directory, files, roots)
    changed = []
    if not os.path.isdir(directory):
        changed.append(directory)
        if not check:
            _make_dirs(directory, dir_mode)
    for dest, data in planned:
        if _current(dest) == data:
            continue
        changed.append(dest)
        if check:
            continue
        parent = os.path.dirname(dest)
        if not os.path.isdir(parent):
            _make_dirs(parent, dir_mode)
        handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), dir=parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temp, mode)
            os.replace(temp, dest)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
    if latest:
        latest = os.path.normpath(latest)
        beside = os.path.dirname(latest) == os.path.dirname(os.path.normpath(directory))
        target = os.path.basename(os.path.normpath(directory)) if beside else os.path.normpath(directory)
        if not (os.path.islink(latest) and os.readlink(latest) == target):
            if os.path.exists(latest) and not os.path.islink(latest):
                raise ReportFilesError("latest is %s, which exists and is not a symbolic link" % latest)
            changed.append(latest)
            if not check:
                temp = "%s.%d.tmp" % (latest, os.getpid())
                os.symlink(target, temp)
                os.replace(temp, latest)
    return changed


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("dir", "files", "mode", "dir_mode", "latest", "roots"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        try:
            directory = os.path.expanduser(to_text(args.get("dir") or ""))
            latest = args.get("latest")
            written = write_report_files(
                directory, args.get("files"),
                mode=_mode(args.get("mode", "0640"), "mode"),
                dir_mode=_mode(args.get("dir_mode", "0750"), "dir_mode"),
                latest=os.path.expanduser(to_text(latest)) if latest else None,
                check=bool(self._task.check_mode),
                roots=[os.path.expanduser(to_text(r)) for r in (args.get("roots") or [])])
        except (ReportFilesError, OSError) as exc:
            raise AnsibleActionFail("report_files: %s" % exc)
        result.update(changed=bool(written), written=written, dir=directory)
        return result
