#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Run one backup job and leave a status record that inspection reads.

    huaian_backup_job.py --name NAME --status-dir DIR -- COMMAND [ARG...]

The command's output goes to the journal unchanged. The record (DIR/NAME/status.json, replaced
atomically) says when the job last ran and last succeeded, how long it took, how much it wrote and,
on failure, why: the exit code and the command's last lines of output. A command may add details by
writing a JSON object to the file named by $HUAIAN_JOB_RESULT (size_bytes, and anything else).

Runs on the managed hosts' system Python (3.7 on Kylin V10): standard library only.
"""
import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

ERROR_LINES = 15


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(ts))


def build_record(name, host, previous, started, finished, exit_code, tail, result):
    """The status record of one run; previous is the last record (or {})."""
    ok = exit_code == 0
    record = {
        "job": name,
        "host": host,
        "result": "success" if ok else "failed",
        "exit_code": exit_code,
        "started": iso(started),
        "finished": iso(finished),
        "duration_seconds": round(finished - started, 3),
        "size_bytes": result.get("size_bytes"),
        "detail": {k: v for k, v in result.items() if k != "size_bytes"},
        "error": "" if ok else ("\n".join(tail) or "exit code %d" % exit_code),
        "last_success": iso(finished) if ok else previous.get("last_success"),
        "last_success_duration_seconds": (round(finished - started, 3) if ok
                                          else previous.get("last_success_duration_seconds")),
        "last_success_size_bytes": (result.get("size_bytes") if ok
                                    else previous.get("last_success_size_bytes")),
        "consecutive_failures": 0 if ok else int(previous.get("consecutive_failures") or 0) + 1,
    }
    return record


def read_json(path):
    try:
        with open(path) as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_atomic(path, data):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".status.")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--status-dir", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    job_dir = os.path.join(args.status_dir, args.name)
    status_path = os.path.join(job_dir, "status.json")
    previous = read_json(status_path)
    fd, result_path = tempfile.mkstemp(dir=job_dir, prefix=".result.")
    os.close(fd)
    env = dict(os.environ, HUAIAN_JOB_RESULT=result_path)
    tail = collections.deque(maxlen=ERROR_LINES)
    started = time.time()
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                universal_newlines=True, errors="replace")
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.strip():
                tail.append(line.rstrip("\n"))
        exit_code = proc.wait()
    except OSError as exc:
        tail.append("cannot run %s: %s" % (command[0], exc))
        exit_code = 127
    finished = time.time()
    result = read_json(result_path)
    os.unlink(result_path)
    record = build_record(args.name, socket.gethostname(), previous, started, finished, exit_code,
                          list(tail), result)
    write_atomic(status_path, record)
    print("%s: %s in %.1f s" % (args.name, record["result"], record["duration_seconds"]))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
