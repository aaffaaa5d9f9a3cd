"""plugins/filter/report_filters.py: report times in Beijing time with the offset."""
import datetime

import pytest

import report_filters as rf


@pytest.mark.parametrize("value", [
    "20261206T104012Z",                        # a run id (UTC)
    "2026-12-06T10:40:12Z",                    # ISO in UTC
    "2026-12-06T18:40:12+08:00",               # already Beijing time
    "2026-12-06T18:40:12.391042292+08:00",     # restic's nanoseconds
    "2026-12-06T18:40:12.123456+08",           # Kingbase to_char(... OF)
    "2026-12-06T18:40:12+0800",                # strftime %z (huaian_backup_job.py)
    "2026-12-06T05:40:12-05:00",
    1796553612,                                # epoch seconds
    "1796553612.4",
    datetime.datetime(2026, 12, 6, 10, 40, 12, tzinfo=datetime.timezone.utc),
])
def test_every_source_form_reads_as_the_same_beijing_time(value):
    assert rf.report_time(value) == "2026-12-06 18:40:12 +08:00"
    assert rf.report_time(value, style="iso") == "2026-12-06T18:40:12+08:00"


def test_the_utc_day_before_is_the_next_beijing_day():
    assert rf.report_time("20261206T184955Z") == "2026-12-07 02:49:55 +08:00"
    assert rf.report_time("2026-12-31T16:00:00Z", style="minute") == "2027-01-01 00:00 +08:00"
    assert rf.report_time("2026-12-31T16:00:00Z", style="short") == "01-01 00:00"


def test_the_offset_is_a_variable():
    assert rf.report_time("20261206T104012Z", "+0000") == "2026-12-06 10:40:12 +00:00"
    assert rf.report_time("20261206T104012Z", "Z", style="iso") == "2026-12-06T10:40:12+00:00"
    assert rf.report_time("20261206T104012Z", "+05:30") == "2026-12-06 16:10:12 +05:30"


def test_empty_is_empty_for_the_template_to_fill():
    assert rf.report_time(None) == "" and rf.report_time("") == "" and rf.report_time("  ") == ""


@pytest.mark.parametrize("value, words", [
    ("2026-12-06T18:40:12", "not ISO 8601 with an offset"),
    ("2026-12-06 18:40", "not ISO 8601 with an offset"),
    ("yesterday", "'yesterday'"),
    (datetime.datetime(2026, 12, 6, 18, 40), "has no zone"),
    (True, "boolean"),
])
def test_a_time_without_a_zone_is_refused_not_guessed(value, words):
    with pytest.raises(ValueError, match=words):
        rf.report_time(value)


@pytest.mark.parametrize("offset", ["Asia/Shanghai", "+8", "+24:00", "08:00", "+08:60"])
def test_a_bad_offset_names_the_variable_and_what_is_allowed(offset):
    with pytest.raises(ValueError, match=r"report_utc_offset is .*allowed: an offset such as \+08:00"):
        rf.report_time("20261206T104012Z", offset)


def test_an_unknown_style_is_refused():
    with pytest.raises(ValueError, match="style is 'long'; allowed: display, iso, minute, short"):
        rf.report_time("20261206T104012Z", style="long")
