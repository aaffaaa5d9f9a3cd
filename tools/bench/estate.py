#!/usr/bin/env python3
"""Estate-scale speed bench (make bench; docs/performance.md).

On the scale lab (lab/scale, `make scale-up`: 120 sshd hosts shaped like inventories/huaian) it times, in
one sitting and on the same hosts, interleaved run by run:

  ping     `ansible all -m ping`: the floor, one connection and one Python start per host
  module   tools/bench/host_inspect_alone.yml: host_inspect as a playbook's only task, the host check's own cost
  inspect  playbooks/inspect.yml (host level: inspection_component_probes is false on the scale hosts)
  drift    playbooks/drift.yml against baselines recorded at the start of the bench
  discover playbooks/discover.yml (read-only discovery; the facts files go to the bench's own directory)
  naive    tools/bench/naive_inspect.yml: the same kind of inspection written one command per check

and reports the median wall time of each, its ratio to the ping floor, the controller's CPU time and the
controller's peak memory (the PSS of ansible's whole process tree, sampled). Every run is also checked:
all hosts answered, inspection reached every host, drift found every host clean, discovery read every host. A wrong result fails the
bench; speed never does (the goals are reported as met or missed).

    tools/bench/estate.py [--runs 3] [--sizes 30,60,120] [--out reports/bench] [--no-naive-below 120]
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "lab" / "scale"
CASES = ("ping", "module", "inspect", "drift", "discover", "naive")
# The goals, as ratios to the ping floor (naive: how many times slower than inspect it must be).
GOALS = {"inspect": 2.0, "drift": 1.5, "discover": 2.0, "naive_over_inspect": 5.0}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


# --- pure functions (tests/unit/test_bench_estate.py) ------------------------------------------------------

def pick_hosts(hosts, size):
    """`size` hosts spread evenly over the sorted list, so a smaller sample keeps the estate's mix."""
    hosts = sorted(hosts)
    if size >= len(hosts):
        return hosts
    if size <= 0:
        return []
    step = len(hosts) / float(size)
    return [hosts[int(i * step)] for i in range(size)]


def parse_recap(text):
    """{host: {ok, changed, unreachable, failed}} from a PLAY RECAP."""
    out = {}
    for host, ok, changed, unreachable, failed in RECAP.findall(text):
        out[host] = {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
    return out


def ping_answers(text):
    """Hosts that answered an ad-hoc ping (one-line output)."""
    return sorted(set(re.findall(r"^(\S+) \| SUCCESS", text, re.M)))


def summarise(samples, floor_case="ping"):
    """Per case: median wall, min, max, ratio of the medians to the floor's, median controller CPU, peak memory.

    samples: {case: [{"wall": s, "cpu": s, "peak_kib": n}, ...]}
    """
    out = {}
    floor = statistics.median(s["wall"] for s in samples[floor_case]) if samples.get(floor_case) else None
    for case, runs in samples.items():
        if not runs:
            continue
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        out[case] = {
            "runs": len(runs),
            "median_s": round(med, 2),
            "min_s": round(min(walls), 2),
            "max_s": round(max(walls), 2),
            "ratio_to_floor": round(med / floor, 2) if floor else None,
            "controller_cpu_s": round(statistics.median(r["cpu"] for r in runs), 2),
            "targets_cpu_s": round(statistics.median(r.get("targets_cpu", 0.0) for r in runs), 2),
            "peak_mib": round(max(r["peak_kib"] for r in runs) / 1024.0, 1),
        }
    return out


def judge(summary):
    """The goals, each {goal, value, met}; a missing case gives no line."""
    lines = []
    for case in ("inspect", "drift", "discover"):
        if case in summary and summary[case]["ratio_to_floor"] is not None:
            value = summary[case]["ratio_to_floor"]
            lines.append({"goal": "%s <= %.1fx ping" % (case, GOALS[case]), "value": value,
                          "met": value <= GOALS[case]})
    if "naive" in summary and "inspect" in summary:
        value = round(summary["naive"]["median_s"] / summary["inspect"]["median_s"], 2)
        lines.append({"goal": "naive >= %.0fx inspect" % GOALS["naive_over_inspect"], "value": value,
                      "met": value >= GOALS["naive_over_inspect"]})
    return lines


def table(size, summary, goals):
    rows = ["| %d hosts | median s | min–max s | × ping | controller CPU s | targets' CPU s | peak MiB |" % size,
            "|---|---:|---:|---:|---:|---:|---:|"]
    for case in CASES:
        if case in summary:
            s = summary[case]
            rows.append("| %s | %.2f | %.2f–%.2f | %s | %.2f | %.2f | %.1f |" % (
                case, s["median_s"], s["min_s"], s["max_s"],
                "%.2f" % s["ratio_to_floor"] if s["ratio_to_floor"] is not None else "-",
                s["controller_cpu_s"], s.get("targets_cpu_s", 0.0), s["peak_mib"]))
    if goals:
        rows.append("")
    for g in goals:
        rows.append("- %s: %.2f — %s" % (g["goal"], g["value"], "met" if g["met"] else "MISSED"))
    return "\n".join(rows)


# --- measuring -------------------------------------------------------------------------------------------

def tree_pss_kib(root_pid):
    """PSS (KiB) of root_pid and all its descendants now (shared pages counted once in total)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def scale_container_ids():
    res = subprocess.run(["podman", "ps", "--no-trunc", "--format", "{{.ID}}", "--filter", "label=huaian.scale=1"],
                         check=False, capture_output=True, text=True)
    return res.stdout.split()


def targets_cpu_s(ids):
    """CPU seconds the scale containers have used so far (cgroup v1 cpuacct, or v2 cpu.stat)."""
    total = 0.0
    for cid in ids:
        v1 = "/sys/fs/cgroup/cpuacct/libpod_parent/libpod-%s/cpuacct.usage" % cid
        v2 = "/sys/fs/cgroup/libpod_parent/libpod-%s/cpu.stat" % cid
        try:
            with open(v1) as handle:
                total += int(handle.read()) / 1e9
            continue
        except OSError:
            pass
        try:
            with open(v2) as handle:
                for line in handle:
                    if line.startswith("usage_usec"):
                        total += int(line.split()[1]) / 1e6
        except OSError:
            pass
    return total


TARGETS = []


def timed(cmd, env, log):
    """Run cmd; (rc, wall seconds, controller CPU seconds, peak PSS KiB, targets' CPU seconds), output to log."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    targets_before = targets_cpu_s(TARGETS)
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.25):
                peak[0] = max(peak[0], tree_pss_kib(proc.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rc = proc.wait()
        done.set()
        sampler.join()
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rc, wall, cpu, peak[0], targets_cpu_s(TARGETS) - targets_before


def scale_hosts(env):
    res = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-inventory"), "-i", str(INVENTORY), "--list"],
                         cwd=str(ROOT), env=env, check=True, capture_output=True, text=True)
    return sorted(h for h, hv in json.loads(res.stdout)["_meta"]["hostvars"].items() if hv.get("ansible_host"))


def latest_json(directory, name):
    link = pathlib.Path(directory) / "latest" / name
    return json.loads(link.read_text()) if link.exists() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="120", help="comma-separated host counts (30,60,120)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench"))
    parser.add_argument("--no-naive-below", type=int, default=0,
                        help="time the naive playbook only at sizes at or above this (it is the slow one)")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--mitogen", action="store_true",
                        help="every case under mitogen's strategy (needs `.venv/bin/pip install mitogen`; "
                             "docs/performance.md has the verdict)")
    args = parser.parse_args()

    bindir = ROOT / ".venv" / "bin"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               PATH="%s:%s" % (bindir, os.environ.get("PATH", "")), ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", str(ROOT / ".lab" / "vault-password"))
    if args.mitogen:
        try:
            import ansible_mitogen
        except ImportError:
            sys.exit("bench: --mitogen needs mitogen in the venv: .venv/bin/pip install mitogen==0.3.54")
        env["ANSIBLE_STRATEGY_PLUGINS"] = os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")
        env["ANSIBLE_STRATEGY"] = "mitogen_linear"
        # mitogen opens its own SSH connections and checks host keys itself; the scale hosts' keys are new
        # at every scale-up (the lab inventory already passes StrictHostKeyChecking=no to OpenSSH).
        env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    cases = [c for c in args.cases.split(",") if c in CASES]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    outdir = pathlib.Path(args.out) / stamp
    outdir.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="runs-", dir=str(outdir)))
    # Every bench run's record goes with the bench, not into records/ (those are operator runs).
    env["HUAIAN_RECORDS_DIR"] = str(work / "records")
    all_hosts = scale_hosts(env)
    TARGETS.extend(scale_container_ids())
    sizes = sorted({min(int(s), len(all_hosts)) for s in args.sizes.split(",")})
    print("bench: %d scale hosts; sizes %s; %d runs each of %s; logs under %s"
          % (len(all_hosts), sizes, args.runs, ", ".join(cases), work), flush=True)

    playbook = [str(bindir / "ansible-playbook"), "-i", str(INVENTORY)]
    baselines = work / "baselines"
    # The baselines drift compares against, recorded once for every host the bench uses (not timed).
    needed = sorted(set().union(*(pick_hosts(all_hosts, n) for n in sizes)))
    (work / "limit-record").write_text("\n".join(needed) + "\n")
    rc, wall, _, _, _ = timed(playbook + ["playbooks/baseline_record.yml", "-e", "baseline_dir=%s" % baselines,
                                          "-e", "change_id=BENCH-%s" % stamp,
                                          "--limit", "@%s,localhost" % (work / "limit-record")],
                              env, str(work / "baseline_record.log"))
    recorded = len(list((baselines / "scale").glob("*.json")))
    if rc != 0 or recorded != len(needed):
        sys.exit("bench: baseline_record.yml gave rc %d and %d of %d baselines (%s)"
                 % (rc, recorded, len(needed), work / "baseline_record.log"))
    print("bench: baselines of %d hosts recorded in %.1f s" % (recorded, wall), flush=True)

    results = {"run": stamp, "hosts_available": len(all_hosts), "runs": args.runs, "sizes": {},
               "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
               "settings": {k: v for k, v in env.items() if k.startswith("ANSIBLE_") and "VAULT" not in k}}
    errors = []
    for size in sizes:
        hosts = pick_hosts(all_hosts, size)
        limit = work / ("limit-%d" % size)
        limit.write_text("\n".join(hosts) + "\n")
        # Plays that write reports on the controller need localhost in the limit (change_control).
        lim = ["--limit", "@%s,localhost" % limit]
        commands = {
            "ping": [str(bindir / "ansible"), "all", "-i", str(INVENTORY), "-m", "ansible.builtin.ping", "-o",
                     "--limit", "@%s" % limit],
            "module": playbook + ["tools/bench/host_inspect_alone.yml", "--limit", "@%s" % limit],
            "inspect": playbook + ["playbooks/inspect.yml", "-e", "inspection_report_dir=%s" % (work / "inspection"),
                                   "-e", "inspection_report_fail_on=never"] + lim,
            "drift": playbook + ["playbooks/drift.yml", "-e", "baseline_dir=%s" % baselines,
                                 "-e", "drift_report_root=%s" % (work / "drift")] + lim,
            # The facts files go under the bench's directory, not into lab/scale's inventory.
            "discover": playbook + ["playbooks/discover.yml", "-e", "discovery_report_dir=%s" % (work / "discovery"),
                                    "-e", "discovery_facts_file=%s/{{ inventory_hostname }}.yml" % (work / "discovered")] + lim,
            "naive": playbook + ["tools/bench/naive_inspect.yml", "--limit", "@%s" % limit],
        }
        samples = {c: [] for c in cases}
        for run in range(1, args.runs + 1):
            for case in cases:
                if case == "naive" and size < args.no_naive_below:
                    continue
                log = work / ("%s-%d-%d.log" % (case, size, run))
                rc, wall, cpu, peak, tcpu = timed(commands[case], env, str(log))
                text = log.read_text(errors="replace")
                problem = check(case, rc, text, hosts, work)
                if problem:
                    errors.append("%s at %d hosts, run %d: %s (%s)" % (case, size, run, problem, log))
                samples[case].append({"wall": wall, "cpu": cpu, "peak_kib": peak, "targets_cpu": tcpu, "rc": rc})
                print("bench: %-7s %3d hosts run %d: %6.2f s wall, %6.2f s controller CPU, %6.2f s targets' CPU, "
                      "%5.0f MiB peak%s" % (case, size, run, wall, cpu, tcpu, peak / 1024.0,
                                            "  WRONG: " + problem if problem else ""),
                      flush=True)
        summary = summarise({c: s for c, s in samples.items() if s})
        goals = judge(summary)
        results["sizes"][str(size)] = {"hosts": hosts, "summary": summary, "goals": goals, "samples": samples}
        print("\n" + table(size, summary, goals) + "\n", flush=True)
    results["errors"] = errors
    (outdir / "estate.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    md = ["# Estate bench %s" % stamp, "",
          "Scale lab: %d sshd hosts shaped like inventories/huaian (lab/scale); median of %d runs; ratios to the "
          "`ansible all -m ping` floor of the same size in the same run; controller CPU is ansible's whole process "
          "tree (ssh clients included); peak memory is its PSS. docs/performance.md explains the setup."
          % (len(all_hosts), args.runs), ""]
    for size in sizes:
        entry = results["sizes"][str(size)]
        md += [table(size, entry["summary"], entry["goals"]), ""]
    if errors:
        md += ["## Wrong results", ""] + ["- " + e for e in errors]
    (outdir / "estate.md").write_text("\n".join(md) + "\n")
    latest = pathlib.Path(args.out) / "estate-latest.md"
    latest.write_text("\n".join(md) + "\n")
    print("bench: %s and estate.json written" % (outdir / "estate.md"))
    if errors:
        sys.exit("bench: %d runs gave wrong results:\n  %s" % (len(errors), "\n  ".join(errors)))


def check(case, rc, text, hosts, work):
    """Why a run's result is wrong, or None. Speed is never a reason."""
    if case == "ping":
        answered = ping_answers(text)
        return None if rc == 0 and len(answered) == len(hosts) else \
            "rc %d, %d of %d hosts answered" % (rc, len(answered), len(hosts))
    recap = parse_recap(text)
    bad = sorted(h for h, r in recap.items() if h != "localhost" and (r["unreachable"] or r["failed"]))
    if bad:
        return "failed or unreachable: %s" % ", ".join(bad[:5])
    if case == "inspect":
        results = latest_json(work / "inspection", "results.json")
        if rc != 0 or results is None:
            return "rc %d, results.json %s" % (rc, "missing" if results is None else "written")
        summary = results.get("summary", {})
        if int(summary.get("hosts_reached", 0)) != len(hosts) or int(summary.get("hosts", 0)) != len(hosts):
            return "inspection reached %s of %s hosts (%d asked)" % (
                summary.get("hosts_reached"), summary.get("hosts"), len(hosts))
        return None
    if case == "drift":
        drift = latest_json(work / "drift", "drift.json")
        if rc != 0 or drift is None:
            return "rc %d, drift.json %s" % (rc, "missing" if drift is None else "written")
        if sorted(drift.get("clean", [])) != sorted(hosts):
            return "%d of %d hosts clean (drifted %s, no baseline %s)" % (
                len(drift.get("clean", [])), len(hosts), drift.get("drifted"), drift.get("no_baseline"))
        return None
    if case == "discover":
        found = latest_json(work / "discovery", "discovery.json")
        if rc != 0 or found is None:
            return "rc %d, discovery.json %s" % (rc, "missing" if found is None else "written")
        summary = found.get("summary", {})
        if int(summary.get("reached", 0)) != len(hosts) or int(summary.get("hosts", 0)) != len(hosts):
            return "discovery read %s of %s hosts (%d asked)" % (summary.get("reached"), summary.get("hosts"), len(hosts))
        return None
    return None if rc == 0 and len([h for h in recap if h != "localhost"]) == len(hosts) else \
        "rc %d, %d of %d hosts in the recap" % (rc, len(recap), len(hosts))


if __name__ == "__main__":
    main()
