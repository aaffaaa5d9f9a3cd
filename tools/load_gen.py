#!/usr/bin/env python3
"""Write continuously through the BES sample application and prove afterwards that no acknowledged write was lost.

Used during a database or platform migration test. Start the writer before the change, stop it afterwards:

    tools/load_gen.py run --url http://lb:18080/huaian-sample/write.jsp --acked acked.txt --out load.json \\
        --stop-file /tmp/stop-load            # or --duration 600; --interval 0.1 --timeout 3 --prefix lg...

Each attempt calls write.jsp?key=<prefix>-<seq> with a new key (seq zero-padded to 8 digits; the prefix defaults
to lg<unix time>). write.jsp answers 200 {"status":"OK","key":...} only after the row is committed, so an attempt
counts as acknowledged only on exactly that answer, and its key is appended to the --acked file at once. A key is
never retried: a timed-out attempt may or may not have committed, so it stays unacknowledged and cannot be
reported as lost. With several --url they are tried in order, with the same key, until one acknowledges it
(client-side failover; write.jsp's insert ignores a key that is already there). Attempts are sequential, with
--interval seconds between them, also after a failure.

On exit (stop file, --duration, SIGTERM or SIGINT) the summary JSON goes to --out and stdout: attempts,
acknowledged, failed, timeouts, status_counts, the longest unavailability (from the last acknowledged write before
a failure to the next acknowledged write) and the unavailability windows. A signal ends the run after the request
in flight, which takes at most --timeout per URL. Exits 0; 1 if the --acked file could not be written (the
summary is still written, with "error"); 2 on a usage error.

Then export the table's keys (e.g. psql -At -c 'select k from bes_load_rows' > present.txt) and compare:

    tools/load_gen.py check --acked acked.txt --present present.txt [--out check.json]

It prints acknowledged, present, lost, lost_sample, unacknowledged_present and ok, and exits 0 when every
acknowledged key is present, 1 when any is lost (2 on a usage or file error). Standard library only.
"""
import argparse
import datetime
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_probe import Outages  # noqa: E402  (a sibling script, not a package)

ACK = "200"
MAX_WINDOWS = 50
SAMPLE_SIZE = 20
# write.jsp accepts keys of 1-128 characters and drops double quotes when it echoes the key back.
MAX_KEY = 128
SEQ_DIGITS = 8
PREFIX_RE = re.compile(r"^[A-Za-z0-9_.-]{1,%d}$" % (MAX_KEY - SEQ_DIGITS - 1))


def default_prefix(now):
    return "lg%d" % int(now)


def make_key(prefix, seq):
    return "%s-%0*d" % (prefix, SEQ_DIGITS, seq)


def iso(t):
    """ISO-8601 UTC with milliseconds, e.g. 2024-05-01T08:00:00.250Z."""
    stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (stamp.microsecond // 1000)


def write_url(base, key):
    return base + ("&" if "?" in base else "?") + "key=" + urllib.parse.quote(key, safe="")


def is_timeout(err):
    return isinstance(err, socket.timeout) or isinstance(getattr(err, "reason", None), socket.timeout)


def classify(status, body, key):
    """Outcome label of one answer: "200" (= ACK) only for write.jsp's OK for this very key.

    A 200 with any other body (a proxy's error page, another application) is not proof of a commit."""
    if status != 200:
        return str(status)
    try:
        answer = json.loads(body.decode("utf-8"))
    except ValueError:
        return "200-unexpected-body"
    if isinstance(answer, dict) and answer.get("status") == "OK" and answer.get("key") == key:
        return ACK
    return "200-unexpected-body"


def attempt_write(url, key, timeout):
    """One request; returns its outcome label: "200", another HTTP status, "timeout" or "error"."""
    try:
        with urllib.request.urlopen(write_url(url, key), timeout=timeout) as resp:
            return classify(resp.status, resp.read(65536), key)
    except urllib.error.HTTPError as err:
        return str(err.code)
    except Exception as err:  # refused, reset, DNS, timeout: the service did not answer
        return "timeout" if is_timeout(err) else "error"


def summarise_availability(samples, start, end, max_windows=MAX_WINDOWS):
    """samples: [(t, acknowledged)] in time order, one per attempt. Pure: unit-tested.

    A window runs from the last acknowledged write before a failure (or the start of the run) to the next
    acknowledged write (or the end of the run if it was still failing). Of more than max_windows windows the
    longest are kept, listed in time order; unavailability_windows is always the total."""
    outages = Outages(start)
    spans = []
    for t, ok in samples:
        if ok and outages.down_since is not None:
            spans.append((outages.last_ok, t))
        outages.sample(ok, t)
    if outages.down_since is not None:
        spans.append((outages.last_ok, end))
    longest_first = sorted(spans, key=lambda span: span[1] - span[0], reverse=True)
    return {
        "longest_unavailability_s": outages.finish(end),
        "unavailability_windows": outages.windows,
        "windows": [{"start": iso(a), "end": iso(b), "seconds": round(b - a, 2)}
                    for a, b in sorted(longest_first[:max_windows])],
    }


class WriteLog(object):
    """What a run did, attempt by attempt; summary() turns it into the report. Takes times, reads no clock."""

    def __init__(self, urls, prefix, start):
        self.urls, self.prefix, self.start = list(urls), prefix, start
        self.samples = []
        self.acknowledged = self.failed = self.timeouts = 0
        self.status_counts = {}
        self.first_ack_key = self.last_ack_key = None

    def record(self, now, key, outcomes):
        """outcomes: the label of each request of this attempt, one per URL tried."""
        for outcome in outcomes:
            self.status_counts[outcome] = self.status_counts.get(outcome, 0) + 1
        acknowledged = outcomes[-1] == ACK
        self.samples.append((now, acknowledged))
        if acknowledged:
            self.acknowledged += 1
            self.first_ack_key = self.first_ack_key or key
            self.last_ack_key = key
        else:
            self.failed += 1
            # The key's fate is unknown only if a request timed out: it may still have committed.
            self.timeouts += 1 if "timeout" in outcomes else 0

    def summary(self, end):
        out = {
            "urls": self.urls,
            "prefix": self.prefix,
            "started": iso(self.start),
            "finished": iso(end),
            "duration_s": round(end - self.start, 2),
            "attempts": len(self.samples),
            "acknowledged": self.acknowledged,
            "failed": self.failed,
            "timeouts": self.timeouts,
            "first_ack_key": self.first_ack_key,
            "last_ack_key": self.last_ack_key,
            "status_counts": dict(self.status_counts),
        }
        out.update(summarise_availability(self.samples, self.start, end))
        return out


def wall_clock():
    """time.time() that cannot jump: wall time at the first call plus monotonic time since, so an NTP step
    during the migration does not distort the measured unavailability."""
    anchor_wall, anchor_mono = time.time(), time.monotonic()
    return lambda: anchor_wall + (time.monotonic() - anchor_mono)


def run(urls, acked_path, should_stop, prefix, interval=0.1, timeout=3.0, clock=None, write=attempt_write,
        sleep=time.sleep):
    """Write until should_stop(elapsed_seconds) is true; return the summary dict."""
    clock = clock or wall_clock()
    log = WriteLog(urls, prefix, clock())
    seq = 0
    error = None
    try:
        # Appended, line-buffered and flushed per key: a crash keeps every acknowledgement recorded so far.
        with open(acked_path, "a", buffering=1, encoding="utf-8") as acked:
            while not should_stop(clock() - log.start):
                seq += 1
                key = make_key(prefix, seq)
                outcomes = []
                for url in urls:
                    outcomes.append(write(url, key, timeout))
                    if outcomes[-1] == ACK:
                        acked.write(key + "\n")
                        acked.flush()
                        break
                log.record(clock(), key, outcomes)
                sleep(interval)
    except OSError as err:  # the acked file cannot be written: stop, but still report what was measured
        error = str(err)
    summary = log.summary(clock())
    summary["error"] = error
    return summary


def read_keys(path):
    """One key per line; surrounding whitespace and blank lines ignored."""
    with open(path, encoding="utf-8") as fh:
        return set(line.strip() for line in fh if line.strip())


def compare(acked, present, sample_size=SAMPLE_SIZE):
    """Acknowledged keys against the keys found in the table. Pure: unit-tested."""
    acked, present = set(acked), set(present)
    lost = sorted(acked - present)
    # Timed-out attempts that committed after all (or rows of other runs): expected, informational only.
    unacknowledged = sorted(present - acked)
    return {
        "acknowledged": len(acked),
        "present": len(present),
        "lost": len(lost),
        "lost_sample": lost[:sample_size],
        "unacknowledged_present": len(unacknowledged),
        "unacknowledged_present_sample": unacknowledged[:sample_size],
        "ok": not lost,
    }


def emit(result, out_path):
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2, sort_keys=True)
            fh.write("\n")
    print(json.dumps(result, indent=2, sort_keys=True))


def cmd_run(args):
    prefix = args.prefix or default_prefix(time.time())
    if not PREFIX_RE.match(prefix):
        print("load_gen: --prefix must be 1-%d characters of A-Z a-z 0-9 _ . -" % (MAX_KEY - SEQ_DIGITS - 1),
              file=sys.stderr)
        return 2
    if args.stop_file and os.path.exists(args.stop_file):
        # A stale stop file would end the run before its first write.
        print("load_gen: stop file %s already exists; remove it first" % args.stop_file, file=sys.stderr)
        return 2
    stopped = {"by": None}

    def on_signal(signum, _frame):
        stopped["by"] = signal.Signals(signum).name

    def should_stop(elapsed):
        if stopped["by"] is None:
            if args.duration is not None and elapsed >= args.duration:
                stopped["by"] = "duration"
            elif args.stop_file and os.path.exists(args.stop_file):
                stopped["by"] = "stop-file"
        return stopped["by"] is not None

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, on_signal)
        except ValueError:  # not the main thread (called from a test's thread): no signal handling
            pass
    try:
        result = run(args.url, args.acked, should_stop, prefix, args.interval, args.timeout)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    result["acked_file"] = args.acked
    result["stopped_by"] = stopped["by"] or "error"
    emit(result, args.out)
    return 1 if result["error"] else 0


def cmd_check(args):
    try:
        acked, present = read_keys(args.acked), read_keys(args.present)
    except (OSError, UnicodeDecodeError) as err:
        print("load_gen: %s" % err, file=sys.stderr)
        return 2
    result = compare(acked, present)
    if not acked:
        print("load_gen: warning: %s holds no acknowledged key" % args.acked, file=sys.stderr)
    emit(result, args.out)
    return 0 if result["ok"] else 1


def positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def non_negative(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    run_ap = sub.add_parser("run", help="write continuously, then write the summary JSON")
    run_ap.add_argument("--url", action="append", required=True,
                        help="write.jsp URL; repeat for client-side failover, tried in order")
    run_ap.add_argument("--acked", required=True, help="file the acknowledged keys are appended to")
    run_ap.add_argument("--out", required=True, help="summary JSON")
    until = run_ap.add_mutually_exclusive_group(required=True)
    until.add_argument("--stop-file", help="stop once this file exists")
    until.add_argument("--duration", type=positive, help="stop after this many seconds")
    run_ap.add_argument("--interval", type=non_negative, default=0.1, help="seconds between attempts")
    run_ap.add_argument("--timeout", type=positive, default=3.0, help="seconds per request")
    run_ap.add_argument("--prefix", help="key prefix (default lg<unix time>)")
    run_ap.set_defaults(func=cmd_run)

    check_ap = sub.add_parser("check", help="compare the acknowledged keys with the keys in the table")
    check_ap.add_argument("--acked", required=True, help="the run's --acked file")
    check_ap.add_argument("--present", required=True, help="keys exported from bes_load_rows(k), one a line")
    check_ap.add_argument("--out", help="also write the result JSON here")
    check_ap.set_defaults(func=cmd_check)

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
