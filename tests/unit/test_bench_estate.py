"""tools/bench/estate.py: host sampling, recap parsing, medians, ratios and the goals."""
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("estate", ROOT / "tools" / "bench" / "estate.py")
estate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(estate)


def test_pick_hosts_spreads_evenly_and_keeps_the_mix():
    hosts = ["h%03d" % i for i in range(120)]
    picked = estate.pick_hosts(hosts, 30)
    assert len(picked) == 30 and len(set(picked)) == 30
    assert picked[0] == "h000" and picked[1] == "h004" and picked[-1] == "h116"
    # Smaller samples of a divisible size are subsets of the larger ones (one set of baselines serves all).
    assert set(estate.pick_hosts(hosts, 30)) <= set(estate.pick_hosts(hosts, 60))


@pytest.mark.parametrize("size,expected", [(0, 0), (5, 5), (200, 7)])
def test_pick_hosts_bounds(size, expected):
    assert len(estate.pick_hosts(["a", "b", "c", "d", "e", "f", "g"], size)) == expected


def test_parse_recap_and_ping_answers():
    text = (
        "PLAY RECAP ****\n"
        "city-kb01                  : ok=5    changed=0    unreachable=0    failed=0    skipped=0\n"
        "hzq-bes02                  : ok=1    changed=0    unreachable=1    failed=0    skipped=0\n"
        "localhost                  : ok=16   changed=4    unreachable=0    failed=1    skipped=1\n")
    recap = estate.parse_recap(text)
    assert recap["hzq-bes02"]["unreachable"] == 1
    assert recap["localhost"] == {"ok": 16, "changed": 4, "unreachable": 0, "failed": 1}
    pings = "a | SUCCESS => {\"ping\": \"pong\"}\nb | UNREACHABLE! => {}\nc | SUCCESS => {}\n"
    assert estate.ping_answers(pings) == ["a", "c"]


def samples(*walls):
    return [{"wall": w, "cpu": w / 2.0, "peak_kib": 1024 * w, "targets_cpu": w} for w in walls]


def test_summarise_takes_medians_and_ratios_to_the_floor():
    summary = estate.summarise({"ping": samples(10, 12, 11), "inspect": samples(30, 20, 21),
                                "drift": samples(16, 15, 40), "naive": samples(200, 210, 190)})
    assert summary["ping"]["median_s"] == 11 and summary["ping"]["ratio_to_floor"] == 1.0
    assert summary["inspect"]["median_s"] == 21 and summary["inspect"]["ratio_to_floor"] == 1.91
    assert summary["drift"]["min_s"] == 15 and summary["drift"]["max_s"] == 40
    assert summary["naive"]["peak_mib"] == 210.0
    assert summary["inspect"]["targets_cpu_s"] == 21


def test_judge_meets_and_misses():
    summary = estate.summarise({"ping": samples(10), "inspect": samples(21), "drift": samples(14),
                                "naive": samples(100)})
    goals = {g["goal"]: g for g in estate.judge(summary)}
    assert goals["inspect <= 2.0x ping"]["met"] is False and goals["inspect <= 2.0x ping"]["value"] == 2.1
    assert goals["drift <= 1.5x ping"]["met"] is True
    assert goals["naive >= 5x inspect"]["value"] == 4.76 and goals["naive >= 5x inspect"]["met"] is False
    table = estate.table(120, summary, estate.judge(summary))
    assert "| inspect | 21.00 |" in table and "MISSED" in table


def test_judge_without_a_floor_says_nothing_about_ratios():
    assert estate.judge(estate.summarise({"inspect": samples(3)})) == []
