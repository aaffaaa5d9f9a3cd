"""tools/drill_timeline.py: the failover drill's judgement of the role samples (never two primaries; exactly
one inside the checked windows; time to promotion)."""
import importlib.util
import json
import pathlib
import subprocess
import sys

TOOL = pathlib.Path(__file__).resolve().parents[2] / "tools" / "drill_timeline.py"
SPEC = importlib.util.spec_from_file_location("drill_timeline", TOOL)
tl = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tl)

# kb1 primary until killed at 100; kb2 promoted at 118.4; kb1 rejoins as a standby at 160.
HEALTHY_FAILOVER = [(99.0, "kb1", "f"), (99.1, "kb2", "t"), (100.5, "kb1", "down"), (101.0, "kb2", "t"),
                    (118.4, "kb2", "f"), (120.0, "kb1", "down"), (160.0, "kb1", "t"), (160.2, "kb2", "f")]


def test_a_clean_failover_has_one_primary_at_most_and_exactly_one_after_the_promotion():
    r = tl.judge(HEALTHY_FAILOVER, kill=100.0, promoted_node="kb2", windows=[(118.4, 161.0)])
    assert (r["max_primaries"], r["promotion_s"], r["bad_count"], r["checked_samples"]) == (1, 18.4, 0, 4)


def test_the_old_primary_started_beside_the_new_one_is_a_bad_sample_even_outside_the_windows():
    samples = HEALTHY_FAILOVER + [(130.0, "kb1", "f")]
    r = tl.judge(samples, kill=100.0, promoted_node="kb2", windows=[])
    assert r["max_primaries"] == 2 and r["bad_count"] >= 1
    assert r["bad_samples"][0] == {"t": 130.0, "primaries": ["kb1", "kb2"]}


def test_no_primary_inside_a_window_is_a_bad_sample_and_no_promotion_is_none():
    samples = [(99.0, "kb1", "f"), (100.5, "kb1", "down"), (101.0, "kb2", "t")]
    r = tl.judge(samples, kill=100.0, promoted_node="kb2", windows=[(100.0, 102.0)])
    assert r["promotion_s"] is None and r["bad_count"] == 2 and r["bad_samples"][1]["primaries"] == []


def test_the_command_reads_watch_files(tmp_path):
    (tmp_path / "kb1.watch").write_text("99.0 f\n100.5 down\ngarbage\n160.0 t\n")
    (tmp_path / "kb2.watch").write_text("99.1 t\n118.4 f\n")
    out = subprocess.run([sys.executable, str(TOOL), "--kill", "100", "--promoted-node", "kb2",
                          "--window", "118.4:161", "kb1=%s" % (tmp_path / "kb1.watch"), "kb2=%s" % (tmp_path / "kb2.watch")],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    assert r["samples"] == 5 and r["nodes"] == ["kb1", "kb2"] and r["promotion_s"] == 18.4 and r["bad_count"] == 0


def test_an_unanswered_probe_keeps_the_last_known_role_for_a_while():
    # kb2 is primary; its probe times out twice (a loaded host) inside the window: no gap is counted.
    samples = HEALTHY_FAILOVER + [(130.0, "kb2", "unknown"), (131.0, "kb2", "unknown"), (131.5, "kb2", "f")]
    r = tl.judge(samples, kill=100.0, promoted_node="kb2", windows=[(118.4, 161.0)])
    assert (r["bad_count"], r["unknown_samples"], r["max_primaries"]) == (0, 2, 1)


def test_a_node_unanswered_for_longer_than_the_bound_inside_a_window_is_bad():
    samples = HEALTHY_FAILOVER + [(130.0 + i, "kb2", "unknown") for i in range(8)]
    r = tl.judge(samples, kill=100.0, promoted_node="kb2", windows=[(118.4, 161.0)], max_unknown_s=5.0)
    assert r["bad_count"] == 2 and r["bad_samples"][0] == {"t": 136.0, "unknown": "kb2", "since": 130.0}


def test_unknown_samples_never_hide_two_primaries():
    # kb1 answers as a primary beside kb2 while kb2's probes time out: kb2's last known role (f) still counts.
    samples = HEALTHY_FAILOVER[:5] + [(121.0, "kb2", "unknown"), (122.0, "kb1", "f")]
    r = tl.judge(samples, kill=100.0, promoted_node="kb2", windows=[(118.4, 161.0)])
    assert r["max_primaries"] == 2 and {"t": 122.0, "primaries": ["kb1", "kb2"]} in r["bad_samples"]
