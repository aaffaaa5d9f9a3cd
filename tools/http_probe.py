#!/usr/bin/env python3
"""Probe HTTP URLs continuously and report availability: per URL and for the service as a whole.

Used by tests and runbooks to show that a rolling change kept the service answering:

    tools/http_probe.py --stop-file /tmp/stop --out probe.json http://n1:18080/app/health.jsp http://n2:...

Runs until the stop file exists (or --duration passes), then writes JSON. Every probe ends in one of:

    ok        HTTP 200
    status    another HTTP status (e.g. 503: the node answered that it cannot serve)
    refused   the connection was refused, reset or dropped: nothing serves on the port
    error     any other failure to get an answer (unreachable, a malformed answer, ...)
    timeout   no answer within --timeout: the node (or this probe, on a busy machine) was late

`status`, `refused` and `error` are failures: the node is down from that answer on. A `timeout` is
late, not down: it leaves the node in the state its last definite answer showed. So a node that was
serving and answers one probe late still counts as serving; a node that was refusing and then is late
still counts as down.

For each URL: probes, answers of each kind, failures, timeouts, the longest outage (from the last 200
before a failure to the next 200), outage windows, answer times (max, 95th percentile) and the server
versions seen (from a JSON body's "server_version"). For the service: the longest gap, a window in
which every URL was down ("service_longest_gap_s", "service_gaps", "service_gap_windows"), and beside
it the longest window in which no URL answered 200 for whatever reason, late answers included
("service_longest_unanswered_s"). Beside the figures, how busy the machine was: the load average
(at the start, the end, the highest seen) and this probe's own scheduling lateness (how late a 0.1 s
sleep woke: max and 95th percentile, in ms). A timeout while the probe itself was late by seconds says
more about the machine than about the service.
Standard library only.
"""
import argparse
import errno
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

OK = "ok"
DOWN_KINDS = ("status", "refused", "error")
KINDS = (OK,) + DOWN_KINDS + ("timeout",)
MAX_WINDOWS = 20
TICK_S = 0.1

_REFUSED_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE}


def classify_exception(exc):
    """The kind of a failed request: 'timeout', 'refused' or 'error'. Pure: unit-tested."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(reason, (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError,
                           BrokenPipeError, http.client.RemoteDisconnected)):
        return "refused"
    if isinstance(reason, OSError) and reason.errno in _REFUSED_ERRNOS:
        return "refused"
    return "error"


def probe(url, timeout):
    """One request: (kind, HTTP status or None, server_version or None)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(65536)
            status = resp.status
    except urllib.error.HTTPError as err:
        return "status", err.code, None
    except Exception as exc:  # every failure is classified, none ends the probe
        return classify_exception(exc), None, None
    version = None
    try:
        version = json.loads(body.decode("utf-8")).get("server_version")
    except Exception:
        pass
    return ("ok" if status == 200 else "status"), status, version


class Outages(object):
    """Longest run of failed samples, measured from the last success before it to the next success."""

    def __init__(self, start):
        self.last_ok = start
        self.down_since = None
        self.longest = 0.0
        self.windows = 0
        self.spans = []

    def sample(self, ok, now):
        if ok:
            if self.down_since is not None:
                self.longest = max(self.longest, now - self.last_ok)
                self.spans.append((self.last_ok, now))
                self.down_since = None
            self.last_ok = now
        elif self.down_since is None:
            self.down_since = now
            self.windows += 1

    def finish(self, now):
        if self.down_since is not None:
            self.longest = max(self.longest, now - self.last_ok)
            self.spans.append((self.last_ok, now))
            self.down_since = None
        return round(self.longest, 2)


def percentile(values, pct):
    """Nearest-rank percentile of a list of numbers (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def summarise(samples, urls, start, end):
    """samples: [(t, url, kind, version)] in time order, t when the answer (or the timeout) came; or
    [(t, url, kind, version, elapsed_s)] with the time the request took. Pure: unit-tested.

    A URL is up until its first failure; after each answer it is up (ok) or down (status, refused,
    error); a timeout keeps the state it was in. The service has a gap while every URL is down."""
    per = {u: {"probes": 0, "failures": 0, "timeouts": 0, "kinds": dict.fromkeys(KINDS, 0), "versions": [],
               "_o": Outages(start), "_late": Outages(start), "_ms": []} for u in urls}
    service = Outages(start)
    answered = Outages(start)
    up = dict.fromkeys(urls, True)
    last_ok = dict.fromkeys(urls, True)
    for sample in samples:
        t, url, kind, version = sample[:4]
        if kind not in KINDS:
            raise ValueError("sample %r: kind %r is not one of %s" % (sample, kind, ", ".join(KINDS)))
        rec = per[url]
        rec["probes"] += 1
        rec["kinds"][kind] += 1
        if len(sample) > 4 and kind != "timeout":
            rec["_ms"].append(sample[4] * 1000.0)
        if kind in DOWN_KINDS:
            rec["failures"] += 1
        elif kind == "timeout":
            rec["timeouts"] += 1
        if version and version not in rec["versions"]:
            rec["versions"].append(version)
        if kind != "timeout":
            up[url] = kind == OK
            rec["_o"].sample(up[url], t)
        last_ok[url] = kind == OK
        rec["_late"].sample(kind == OK, t)
        service.sample(any(up.values()), t)
        answered.sample(any(last_ok.values()), t)
    out = {"duration_s": round(end - start, 2), "urls": {}}
    for u in urls:
        rec = per[u]
        o, late, ms = rec.pop("_o"), rec.pop("_late"), rec.pop("_ms")
        rec["longest_outage_s"] = o.finish(end)
        rec["outages"] = o.windows
        rec["longest_unanswered_s"] = late.finish(end)
        rec["answer_ms_max"] = round(max(ms), 1) if ms else None
        rec["answer_ms_p95"] = round(percentile(ms, 95), 1) if ms else None
        out["urls"][u] = rec
    out["service_longest_gap_s"] = service.finish(end)
    out["service_gaps"] = service.windows
    out["service_gap_windows"] = [[round(a - start, 2), round(b - start, 2)] for a, b in service.spans[:MAX_WINDOWS]]
    out["service_longest_unanswered_s"] = answered.finish(end)
    out["service_unanswered_windows"] = answered.windows
    return out


def summarise_load(loadavgs, lateness_s):
    """loadavgs: [(t, (1 min, 5 min, 15 min))] in time order; lateness_s: how late each tick woke, in
    seconds. Pure: unit-tested."""
    out = {"loadavg_start": None, "loadavg_end": None, "loadavg_1m_max": None,
           "probe_lateness_ms_max": None, "probe_lateness_ms_p95": None, "probe_ticks": len(lateness_s)}
    if loadavgs:
        out["loadavg_start"] = [round(x, 2) for x in loadavgs[0][1]]
        out["loadavg_end"] = [round(x, 2) for x in loadavgs[-1][1]]
        out["loadavg_1m_max"] = round(max(la[0] for _, la in loadavgs), 2)
    if lateness_s:
        out["probe_lateness_ms_max"] = round(max(lateness_s) * 1000.0, 1)
        out["probe_lateness_ms_p95"] = round(percentile(lateness_s, 95) * 1000.0, 1)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--stop-file")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    samples, lock = [], threading.Lock()
    loadavgs, lateness = [], []
    start = time.time()
    stop = threading.Event()

    def worker(url):
        while not stop.is_set():
            sent = time.time()
            kind, _status, version = probe(url, args.timeout)
            done = time.time()
            with lock:
                samples.append((done, url, kind, version, done - sent))
            stop.wait(args.interval)

    def ticker():
        # How late this process gets the CPU: a short sleep that wakes late means a busy machine.
        n = 0
        while not stop.is_set():
            if n % 10 == 0:
                loadavgs.append((time.time(), os.getloadavg()))
            before = time.monotonic()
            time.sleep(TICK_S)
            lateness.append(max(0.0, time.monotonic() - before - TICK_S))
            n += 1

    threads = [threading.Thread(target=worker, args=(u,), daemon=True) for u in args.urls]
    threads.append(threading.Thread(target=ticker, daemon=True))
    for t in threads:
        t.start()
    while time.time() - start < args.duration and not (args.stop_file and os.path.exists(args.stop_file)):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(args.timeout + 1)
    end = time.time()
    loadavgs.append((end, os.getloadavg()))
    with lock:
        ordered = sorted(samples, key=lambda s: s[0])
    result = summarise(ordered, args.urls, start, end)
    result["interval_s"] = args.interval
    result["timeout_s"] = args.timeout
    result["load"] = summarise_load(loadavgs, list(lateness))
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
