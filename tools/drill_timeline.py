#!/usr/bin/env python3
"""Merge the role samples the drill's watchers took on each Kingbase node (lines "<epoch> t|f|down") and
judge them: how many nodes were primary ('f', not in recovery) after each sample, the most at once, when
the promoted node first answered as primary after the kill, and every sample inside the checked windows
with no primary or more than one.

    tools/drill_timeline.py --kill <epoch> --promoted-node city-kb02 --window <from>:<to> \
        city-kb01=city-kb01.watch city-kb02=city-kb02.watch

A sample is t (standby), f (primary), down (the server refused or is not up) or unknown (the probe itself
timed out: on a loaded controller or host a ksql start can take seconds, and that says nothing of the
server's role). An unknown sample keeps the node's last known role, but a node unknown for longer than
--max-unknown-s inside a checked window is a bad sample: an unanswered server is not counted as a primary
for long.

Used by lab/playbooks/failover_drill.yml (make demo, molecule failover). Standard library only.
"""
import argparse
import json
import sys


def read_samples(spec):
    node, _, path = spec.partition("=")
    out = []
    with open(path) as fh:
        for line in fh:
            cells = line.split()
            if len(cells) == 2:
                try:
                    out.append((float(cells[0]), node, cells[1]))
                except ValueError:
                    continue
    return out


UNKNOWN = "unknown"


def judge(samples, kill, promoted_node, windows, max_unknown_s=5.0):
    samples = sorted(samples)
    state = {}
    unknown_since = {}
    most = 0
    bad = []
    checked = 0
    unknown = 0
    promoted_at = None
    for t, node, value in samples:
        inside = any(lo <= t <= hi for lo, hi in windows)
        if value == UNKNOWN:
            unknown += 1
            since = unknown_since.setdefault(node, t)
            if inside and t - since > max_unknown_s:
                bad.append({"t": round(t, 3), "unknown": node, "since": round(since, 3)})
            continue
        unknown_since.pop(node, None)
        state[node] = value
        primaries = sorted(n for n, v in state.items() if v == "f")
        most = max(most, len(primaries))
        if promoted_at is None and t > kill and node == promoted_node and value == "f":
            promoted_at = t
        if inside:
            checked += 1
            if len(primaries) != 1:
                bad.append({"t": round(t, 3), "primaries": primaries})
        elif len(primaries) > 1:
            bad.append({"t": round(t, 3), "primaries": primaries})
    return {
        "samples": len(samples),
        "unknown_samples": unknown,
        "nodes": sorted({n for _, n, _ in samples}),
        "max_primaries": most,
        "promotion_s": round(promoted_at - kill, 1) if promoted_at else None,
        "checked_samples": checked,
        "bad_samples": bad[:20],
        "bad_count": len(bad),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kill", type=float, required=True)
    p.add_argument("--promoted-node", required=True)
    p.add_argument("--window", action="append", default=[], help="from:to epochs that must hold exactly one primary")
    p.add_argument("--max-unknown-s", type=float, default=5.0,
                   help="how long a node may go unanswered inside a window before that is a bad sample")
    p.add_argument("logs", nargs="+", help="node=path")
    a = p.parse_args(argv)
    windows = [tuple(float(x) for x in w.split(":")) for w in a.window]
    samples = [s for spec in a.logs for s in read_samples(spec)]
    json.dump(judge(samples, a.kill, a.promoted_node, windows, a.max_unknown_s), sys.stdout)
    print()


if __name__ == "__main__":
    main()
