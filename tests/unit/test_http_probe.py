"""tools/http_probe.py: outage and service-gap arithmetic."""
import importlib.util
import pathlib

SPEC = importlib.util.spec_from_file_location(
    "http_probe", pathlib.Path(__file__).resolve().parents[2] / "tools" / "http_probe.py")
http_probe = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(http_probe)

A, B = "http://a/h", "http://b/h"


def test_rolling_restart_keeps_the_service_up():
    samples = [(1, A, True, "1"), (1.1, B, True, "1"), (2, A, False, None), (2.1, B, True, "1"),
               (3, A, False, None), (3.1, B, True, "1"), (4, A, True, "2"), (4.1, B, False, None),
               (5, A, True, "2"), (5.1, B, True, "2")]
    out = http_probe.summarise(samples, [A, B], 0, 6)
    assert out["service_longest_gap_s"] == 0 and out["service_gaps"] == 0
    assert out["urls"][A] == {"probes": 3 + 2, "failures": 2, "versions": ["1", "2"], "longest_outage_s": 3.0,
                              "outages": 1}
    assert out["urls"][B]["longest_outage_s"] == 2.0 and out["urls"][B]["versions"] == ["1", "2"]


def test_both_down_is_a_service_gap_measured_from_last_success():
    samples = [(1, A, True, None), (1, B, True, None), (2, A, False, None), (2, B, False, None),
               (3, A, False, None), (3, B, False, None), (4, A, True, None)]
    out = http_probe.summarise(samples, [A, B], 0, 5)
    # B counted as up until its own failed sample at t=2: the gap runs from 2 to 4.
    assert out["service_longest_gap_s"] == 2.0 and out["service_gaps"] == 1


def test_an_outage_still_open_at_the_end_counts_to_the_end():
    out = http_probe.summarise([(1, A, True, None), (2, A, False, None)], [A], 0, 10)
    assert out["urls"][A]["longest_outage_s"] == 9.0 and out["urls"][A]["outages"] == 1
