#!/usr/bin/env python3
"""Probe HTTP URLs continuously and report availability: per URL and for the service as a whole.

Used by tests and runbooks to show that a rolling change kept the service answering:

    tools/http_probe.py --stop-file /tmp/stop --out probe.json http://n1:18080/app/health.jsp http://n2:...

Runs until the stop file exists (or --duration passes), then writes JSON: for each URL the number of
probes, failures, the longest outage in seconds and the server versions seen (from a JSON body's
"server_version"); for the service, the longest time during which no URL answered 200 ("service gap").
Standard library only.
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request


def probe(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read(65536)
            status = resp.status
    except urllib.error.HTTPError as err:
        return err.code, None
    except Exception:
        return None, None
    version = None
    try:
        version = json.loads(body.decode("utf-8")).get("server_version")
    except Exception:
        pass
    return status, version


class Outages(object):
    """Longest run of failed samples, measured from the last success before it to the next success."""

    def __init__(self, start):
        self.last_ok = start
        self.down_since = None
        self.longest = 0.0
        self.windows = 0

    def sample(self, ok, now):
        if ok:
            if self.down_since is not None:
                self.longest = max(self.longest, now - self.last_ok)
                self.down_since = None
            self.last_ok = now
        elif self.down_since is None:
            self.down_since = now
            self.windows += 1

    def finish(self, now):
        if self.down_since is not None:
            self.longest = max(self.longest, now - self.last_ok)
        return round(self.longest, 2)


def summarise(samples, urls, start, end):
    """samples: [(t, url, ok, version)] in time order. Pure: unit-tested."""
    per = {u: {"probes": 0, "failures": 0, "versions": [], "_o": Outages(start)} for u in urls}
    service = Outages(start)
    latest = {u: False for u in urls}
    for t, url, ok, version in samples:
        rec = per[url]
        rec["probes"] += 1
        rec["failures"] += 0 if ok else 1
        if version and version not in rec["versions"]:
            rec["versions"].append(version)
        rec["_o"].sample(ok, t)
        latest[url] = ok
        service.sample(any(latest.values()), t)
    out = {"duration_s": round(end - start, 2), "urls": {}}
    for u in urls:
        rec = per[u]
        o = rec.pop("_o")
        rec["longest_outage_s"] = o.finish(end)
        rec["outages"] = o.windows
        out["urls"][u] = rec
    out["service_longest_gap_s"] = service.finish(end)
    out["service_gaps"] = service.windows
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
    start = time.time()
    stop = threading.Event()

    def worker(url):
        while not stop.is_set():
            status, version = probe(url, args.timeout)
            with lock:
                samples.append((time.time(), url, status == 200, version))
            stop.wait(args.interval)

    threads = [threading.Thread(target=worker, args=(u,), daemon=True) for u in args.urls]
    for t in threads:
        t.start()
    while time.time() - start < args.duration and not (args.stop_file and os.path.exists(args.stop_file)):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(args.timeout + 1)
    end = time.time()
    with lock:
        ordered = sorted(samples)
    result = summarise(ordered, args.urls, start, end)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
