# -*- coding: utf-8 -*-
"""The runs a report archive holds: <dir>/<run>/<file> for every run directory, oldest first.

Reports (inspection, backup-verify, drift) archive each run in a directory of its own and point a
`latest` link at the newest. Ansible's fileglob lookup expands a wildcard in the last path component
only (`<dir>/*/metrics.json` finds nothing), which once left every deep inspection without its restore
test and every trend chart with a single point; this filter globs the run directories itself.

Pure controller-side reads; unit-tested in tests/unit/test_archive_filters.py.
"""
from __future__ import absolute_import, division, print_function

import os

__metaclass__ = type


def archived_runs(directory, filename, limit=0):
    """Paths of <directory>/<run>/<filename>, sorted by run name (oldest first), newest `limit` kept.

    A run is a real directory: links (`latest`) are left out so no run counts twice, and so are
    directories without the file (a run that stopped before writing it) and hidden ones (a report
    being written beside its final name).
    """
    if not directory or not filename or os.sep in str(filename):
        raise ValueError("archived_runs needs an archive directory and a plain file name, got %r, %r"
                         % (directory, filename))
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    paths = []
    for run in entries:
        run_dir = os.path.join(directory, run)
        if run.startswith(".") or os.path.islink(run_dir) or not os.path.isdir(run_dir):
            continue
        path = os.path.join(run_dir, filename)
        if os.path.isfile(path):
            paths.append(path)
    limit = int(limit or 0)
    return paths[-limit:] if limit > 0 else paths


class FilterModule(object):
    def filters(self):
        return {"archived_runs": archived_runs}
