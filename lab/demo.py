#!/usr/bin/env python3
"""make demo as named steps (lab/demo.yml): each with its own log, resumable from any step.

  demo.py run [--from STEP] [--change-id ID]   run the steps in order (from STEP on)
  demo.py list                                 the steps, one a line

Each step's output goes to the terminal and to reports/demo/<run>/<NN>-<step>.log; steps.json in the same
directory keeps each step's start, seconds, exit code and, for a playbook, the PLAY RECAP's changed count.
When a step fails the run stops and says which step, where its log is, and the one command that resumes
from it (make demo FROM=<step>). When all pass it prints each step's time and where the results are.
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
STEPS_FILE = ROOT / "lab" / "demo.yml"
RECAP = re.compile(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")
BEIJING = datetime.timezone(datetime.timedelta(hours=8), "CST")


class DemoError(Exception):
    pass


def load(path=STEPS_FILE):
    """The steps and the closing lines of lab/demo.yml, checked: unique names, a command each."""
    with open(str(path), encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    steps, seen, problems = data.get("steps") or [], set(), []
    for i, step in enumerate(steps):
        name = step.get("name") if isinstance(step, dict) else None
        if not name or not re.match(r"^[a-z][a-z0-9_]*$", str(name)):
            problems.append("steps[%d]: name %r: lower-case letters, digits and _" % (i, name))
        elif name in seen:
            problems.append("steps[%d]: name %r is used twice" % (i, name))
        seen.add(name)
        if not isinstance(step, dict) or not step.get("run") or not isinstance(step.get("run"), list):
            problems.append("steps[%d] (%s): run must be a non-empty list (the command's argv)" % (i, name))
    if not steps:
        problems.append("no steps")
    if problems:
        raise DemoError("%s: %s" % (path, "; ".join(problems)))
    return steps, data.get("results") or []


def select(steps, start=None):
    """The steps from `start` on (all when None); an unknown name lists the known ones."""
    if not start:
        return list(steps)
    names = [s["name"] for s in steps]
    if start not in names:
        raise DemoError("FROM=%s is not a step of make demo; the steps are: %s" % (start, " ".join(names)))
    return list(steps[names.index(start):])


def command(step, values):
    return [str(part).format(**values) for part in step["run"]]


def recap_changed(lines):
    """Sum of changed= over a PLAY RECAP's host lines, None when the output has no recap."""
    total, seen = 0, False
    for line in lines:
        m = RECAP.match(line.strip())
        if m:
            seen = True
            total += int(m.group(2))
    return total if seen else None


def resume_hint(step_name):
    return "make demo FROM=%s" % step_name


def _now():
    return datetime.datetime.now(BEIJING)


def run_step(argv, log_path, out=sys.stdout, env=None, cwd=ROOT):
    """Run one step, its output to `out` and to log_path as it comes; returns (rc, lines)."""
    lines = []
    with open(str(log_path), "w", encoding="utf-8") as log:
        log.write("$ %s\n" % " ".join(argv))
        try:
            proc = subprocess.Popen(argv, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, universal_newlines=True, errors="replace", bufsize=1)
        except OSError as e:
            msg = "cannot start %s: %s\n" % (argv[0], e)
            log.write(msg)
            out.write(msg)
            return 127, [msg]
        for line in proc.stdout:
            lines.append(line)
            log.write(line)
            out.write(line)
        out.flush()
        return proc.wait(), lines


def run(steps, results, run_dir, values, start=None, out=sys.stdout, env=None):
    """Run the steps from `start` on; returns 0 or the failed step's exit code."""
    chosen = select(steps, start)
    order = dict((s["name"], i + 1) for i, s in enumerate(steps))
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {"run": run_dir.name, "from": chosen[0]["name"], "resumed": chosen[0] is not steps[0],
              "change_id": values.get("change_id"), "steps": []}
    record_path = run_dir / "steps.json"
    began = time.monotonic()
    for step in chosen:
        n = order[step["name"]]
        argv = command(step, values)
        log_path = run_dir / ("%02d-%s.log" % (n, step["name"]))
        out.write("\n=== demo step %d/%d %s: %s\n" % (n, len(steps), step["name"], step.get("what", "")))
        out.flush()
        t0, started = time.monotonic(), _now()
        rc, lines = run_step(argv, log_path, out, env)
        entry = {"step": step["name"], "started": started.isoformat(timespec="seconds"),
                 "seconds": round(time.monotonic() - t0, 1), "rc": rc, "changed": recap_changed(lines),
                 "log": str(log_path)}
        record["steps"].append(entry)
        record_path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if rc != 0:
            out.write("\ndemo: step %s FAILED (exit %d) after %.0f s; its log: %s\n"
                      "demo: when the cause is fixed, resume from this step with:  %s\n"
                      % (step["name"], rc, entry["seconds"], log_path, resume_hint(step["name"])))
            return rc
    record["seconds"] = round(time.monotonic() - began, 1)
    record_path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.write(summary(record, results, values))
    return 0


def summary(record, results, values):
    lines = ["", "demo: every step passed in %s%s (reports/demo/%s)" % (
        _duration(record["seconds"]), " (resumed at %s)" % record["from"] if record.get("resumed") else "",
        record["run"])]
    for e in record["steps"]:
        lines.append("  %-16s %9s%s" % (e["step"], _duration(e["seconds"]),
                                        "" if e["changed"] is None else "   changed=%d" % e["changed"]))
    lines.append("")
    for label, text in results:
        lines.append("  %-13s %s" % (label + ":", str(text).format(**values)))
    return "\n".join(lines) + "\n"


def _duration(seconds):
    seconds = int(round(seconds))
    return "%d min %02d s" % divmod(seconds, 60) if seconds >= 60 else "%d s" % seconds


def environment():
    """make's environment, or the same when demo.py is started by hand."""
    env = dict(os.environ)
    venv_bin = str(ROOT / ".venv" / "bin")
    if venv_bin not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", str(ROOT / ".lab" / "vault-password"))
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--from", dest="start", default="")
    p_run.add_argument("--change-id", default="LAB-%d-0001" % datetime.date.today().year)
    sub.add_parser("list")
    args = parser.parse_args(argv)
    try:
        steps, results = load()
        if args.cmd == "list":
            for i, s in enumerate(steps, 1):
                print("%2d %-16s %s" % (i, s["name"], s.get("what", "")))
            return 0
        select(steps, args.start)  # an unknown FROM stops before anything runs
        run_dir = ROOT / "reports" / "demo" / _now().strftime("%Y%m%dT%H%M%S")
        values = {"change_id": args.change_id, "run": str(run_dir), "python": sys.executable}
        return run(steps, results, run_dir, values, args.start or None, env=environment())
    except DemoError as e:
        print("demo: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
