"""Run records: one JSON file per ansible-playbook run, linked to its change request."""
from __future__ import annotations

DOCUMENTATION = r"""
name: run_record
type: notification
short_description: Write one JSON run record per ansible-playbook run, linked to its change request
description:
  - Writes C(<records_dir>/<YYYY>/<MM>/<start>-<playbook>-<change id or no-change-id>.json) at the end of
    every ansible-playbook run, also when the run fails early (the validate play's assert) or is
    interrupted (Ctrl-C or SIGTERM, best effort).
  - The record holds the change id (extra var C(change_id)), the operator, the project's git commit and
    dirty flag, the playbook, inventory sources, limit, tags, check and diff mode, per-host statistics,
    the names of the changed and failed tasks per host, start, end, duration and result.
  - Only names and counters are recorded, never task results or variables, so no secret can enter a record.
requirements:
  - enable in ansible.cfg C(callbacks_enabled)
options:
  records_dir:
    description:
      - Directory the records go under. A relative path in ansible.cfg is relative to ansible.cfg.
      - Default C(records) next to ansible.cfg (the project), or in the working directory without one.
    type: path
    env:
      - name: HUAIAN_RECORDS_DIR
    ini:
      - section: callback_run_record
        key: records_dir
"""

import atexit
import datetime
import getpass
import json
import os
import re
import signal
import socket
import subprocess
import tempfile

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase

RECORD_VERSION = 1
# record key <- key of ansible's stats.summarize()
COUNTERS = (("ok", "ok"), ("changed", "changed"), ("failed", "failures"), ("unreachable", "unreachable"),
            ("skipped", "skipped"), ("rescued", "rescued"), ("ignored", "ignored"))
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def safe_part(text, fallback):
    """A string fit for a file name: unsafe characters become '_', at most 64 characters."""
    cleaned = _SAFE.sub("_", str(text or "")).strip("._")[:64]
    return cleaned or fallback


def record_path(records_dir, start, playbook, change_id):
    """records/<YYYY>/<MM>/<start>-<playbook>-<change id or no-change-id>.json"""
    name = "%s-%s-%s.json" % (start.strftime("%Y%m%dT%H%M%SZ"),
                              safe_part(os.path.splitext(os.path.basename(playbook or ""))[0], "playbook"),
                              safe_part(change_id, "no-change-id"))
    return os.path.join(records_dir, start.strftime("%Y"), start.strftime("%m"), name)


def operator():
    """Who ran it: the sudo caller first (a shared account hides the person), then the login."""
    try:
        login = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        login = None
    name = os.environ.get("SUDO_USER") or os.environ.get("USER") or login
    return {"name": name, "login": login, "uid": os.getuid(), "sudo_user": os.environ.get("SUDO_USER")}


def git_state(directory):
    """Commit and dirty flag of the git work tree holding directory; None where git cannot tell."""
    def git(*args):
        return subprocess.run(["git", "-C", directory] + list(args), capture_output=True, text=True,
                              timeout=20, check=True).stdout
    try:
        commit = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain").strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def run_result(host_stats, ending):
    """ending: 'stats' (the run reached its recap), 'interrupted' (SIGINT/SIGTERM) or 'aborted' (an error
    stopped ansible-playbook before its recap)."""
    if ending == "interrupted":
        return "interrupted"
    if ending != "stats":
        return "failed"
    if any(s["failed"] or s["unreachable"] or s["failed_tasks"] for s in host_stats.values()):
        return "failed"
    return "success"


def write_json(path, data):
    """Atomic: a reader never sees half a record; an existing record is never overwritten."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    base, ext = os.path.splitext(path)
    n = 1
    while os.path.exists(path):
        n += 1
        path = "%s-%d%s" % (base, n, ext)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".run-record-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "run_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._pid = os.getpid()
        self._start = None
        self._playbooks = []
        self._change_id = None
        self._inventory = None
        self._hosts = {}
        self._written = None
        self._interrupted = False

    # -- what ansible tells us --------------------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        if self._start is None:
            self._start = utc_now()
            atexit.register(self._at_exit)
            self._catch_signals()
        self._playbooks.append(os.path.abspath(playbook._file_name))

    def v2_playbook_on_play_start(self, play):
        manager = play.get_variable_manager()
        if manager is None:
            return
        if self._change_id is None:
            change_id = manager.extra_vars.get("change_id")
            if change_id is not None:
                self._change_id = str(change_id)
        if self._inventory is None:
            inventory = getattr(manager, "_inventory", None)
            sources = getattr(inventory, "_sources", None)
            if sources:
                self._inventory = [os.path.abspath(s) if os.path.exists(s) else s for s in sources]

    def _host(self, result):
        return self._hosts.setdefault(result._host.get_name(), {"changed_tasks": [], "failed_tasks": []})

    @staticmethod
    def _add(names, task):
        name = task.get_name().strip()
        if name not in names:
            names.append(name)

    def v2_runner_on_ok(self, result):
        entry = self._host(result)
        if result._result.get("changed", False):
            self._add(entry["changed_tasks"], result._task)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        entry = self._host(result)
        if result._result.get("changed", False):
            self._add(entry["changed_tasks"], result._task)
        if not ignore_errors:
            self._add(entry["failed_tasks"], result._task)

    def v2_runner_on_unreachable(self, result):
        self._add(self._host(result)["failed_tasks"], result._task)

    def v2_runner_on_skipped(self, result):
        self._host(result)

    def v2_playbook_on_stats(self, stats):
        self.write(stats=stats, ending="stats")

    # -- the record -------------------------------------------------------------------------------

    def _records_dir(self):
        configured = None
        try:
            configured = self.get_option("records_dir")
        except KeyError:
            pass
        if configured:
            return configured
        project = os.path.dirname(C.CONFIG_FILE) if C.CONFIG_FILE else os.getcwd()
        return os.path.join(project, "records")

    def build(self, stats, ending, end=None):
        end = end or utc_now()
        start = self._start or end
        host_stats = {}
        names = set(self._hosts)
        if stats is not None:
            names |= set(stats.processed)
        for host in sorted(names):
            # Without the recap (interrupted, aborted) the counters are unknown: null, not 0.
            counts = stats.summarize(host) if stats is not None else {}
            tasks = self._hosts.get(host, {"changed_tasks": [], "failed_tasks": []})
            host_stats[host] = {key: counts.get(source) for key, source in COUNTERS}
            host_stats[host]["changed_tasks"] = list(tasks["changed_tasks"])
            host_stats[host]["failed_tasks"] = list(tasks["failed_tasks"])
        args = context.CLIARGS
        project = os.path.dirname(C.CONFIG_FILE) if C.CONFIG_FILE else os.getcwd()
        git = git_state(project)
        return {
            "record_version": RECORD_VERSION,
            "change_id": self._change_id,
            "operator": operator(),
            "controller": socket.gethostname(),
            "project": project,
            "git_commit": git["commit"],
            "git_dirty": git["dirty"],
            "playbook": self._playbooks[0] if self._playbooks else None,
            "playbooks": list(self._playbooks),
            "inventory": self._inventory or [str(i) for i in (args.get("inventory") or ())],
            "limit": args.get("subset") or None,
            "tags": list(args.get("tags") or ()),
            "skip_tags": list(args.get("skip_tags") or ()),
            "check_mode": bool(args.get("check", False)),
            "diff_mode": bool(args.get("diff", False)),
            "hosts": host_stats,
            "start": iso(start),
            "end": iso(end),
            "duration_seconds": round((end - start).total_seconds(), 3),
            "ending": ending,
            "result": run_result(host_stats, ending),
        }

    def write(self, stats=None, ending="stats"):
        """Write the record once; later calls (atexit after stats) do nothing."""
        if self._written or self._start is None or os.getpid() != self._pid:
            return self._written
        record = self.build(stats, ending)
        path = record_path(self._records_dir(), self._start, record["playbook"], self._change_id)
        try:
            self._written = write_json(path, record)
        except OSError as exc:
            self._display.warning("run_record: could not write %s: %s" % (path, exc))
            return None
        self._display.vvv("run_record: %s" % self._written)
        return self._written

    def _at_exit(self):
        self.write(stats=None, ending="interrupted" if self._interrupted else "aborted")

    def _catch_signals(self):
        # Chained in front of whatever handles the signal now (Python's KeyboardInterrupt, ARA's handler):
        # note the interruption (and on SIGTERM write the record, atexit does not run), then carry on as before.
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                if previous != signal.SIG_IGN:
                    signal.signal(signum, self._signal_handler(signum, previous))
        except ValueError:  # not the main thread
            return

    def _signal_handler(self, signum, previous):
        def handler(sig, frame):
            if os.getpid() == self._pid:
                self._interrupted = True
                if signum == signal.SIGTERM:
                    self.write(stats=None, ending="interrupted")
            if callable(previous):
                return previous(sig, frame)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return None
        return handler
