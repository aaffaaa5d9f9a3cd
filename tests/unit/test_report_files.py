"""report_files (plugins/action): the controller-side writer of the inspection and drift reports."""
import os
import sys

import pytest

from conftest import PLUGINS

sys.path.insert(0, str(PLUGINS / "action"))
import report_files as rf  # noqa: E402


def files(**named):
    return [{"dest": name.replace("_", "."), "content": text} for name, text in named.items()]


def test_writes_every_file_with_its_mode_and_links_latest_beside(tmp_path):
    run = tmp_path / "20261127T120000Z"
    written = rf.write_report_files(str(run), files(report_md="# 报告\n", drift_json="{}\n"),
                                    latest=str(tmp_path / "latest"))
    assert (run / "report.md").read_text(encoding="utf-8") == "# 报告\n"
    assert (run / "drift.json").read_text() == "{}\n"
    assert oct(os.stat(str(run / "report.md")).st_mode & 0o777) == "0o640"
    assert oct(os.stat(str(run)).st_mode & 0o777) == "0o750"
    assert os.readlink(str(tmp_path / "latest")) == "20261127T120000Z"  # relative: the archive can move
    assert written == [str(run), str(run / "report.md"), str(run / "drift.json"), str(tmp_path / "latest")]
    assert not [p for p in os.listdir(str(run)) if p.startswith(".")]  # no temporary file left


def test_second_write_of_the_same_content_changes_nothing(tmp_path):
    run = tmp_path / "r1"
    rf.write_report_files(str(run), files(a_json="1"), latest=str(tmp_path / "latest"))
    assert rf.write_report_files(str(run), files(a_json="1"), latest=str(tmp_path / "latest")) == []
    assert rf.write_report_files(str(run), files(a_json="2")) == [str(run / "a.json")]


def test_latest_moves_to_the_new_run_and_a_link_elsewhere_is_absolute(tmp_path):
    rf.write_report_files(str(tmp_path / "r1"), files(a="1"), latest=str(tmp_path / "latest"))
    rf.write_report_files(str(tmp_path / "r2"), files(a="2"), latest=str(tmp_path / "latest"))
    assert os.readlink(str(tmp_path / "latest")) == "r2"
    (tmp_path / "elsewhere").mkdir()
    rf.write_report_files(str(tmp_path / "r2"), files(a="2"), latest=str(tmp_path / "elsewhere" / "latest"))
    assert os.readlink(str(tmp_path / "elsewhere" / "latest")) == str(tmp_path / "r2")


def test_check_mode_writes_nothing_and_says_what_would_change(tmp_path):
    run = tmp_path / "r1"
    written = rf.write_report_files(str(run), files(a="1"), latest=str(tmp_path / "latest"), check=True)
    assert written == [str(run), str(run / "a"), str(tmp_path / "latest")]
    assert not run.exists() and not os.path.lexists(str(tmp_path / "latest"))


def test_a_file_outside_the_run_directory_only_inside_a_root_the_caller_names(tmp_path):
    run = tmp_path / "r1"
    rf.write_report_files(str(run), [{"dest": "../register.json", "content": "[]"},
                                     {"dest": str(tmp_path / "other.json"), "content": "{}"}], roots=[str(tmp_path)])
    assert (tmp_path / "register.json").read_text() == "[]" and (tmp_path / "other.json").read_text() == "{}"


@pytest.mark.parametrize("dest", ["../register.json", "/etc/cron.d/x", "a/../../x", "", ".", "sub/../../r1x/y"])
def test_a_file_outside_the_run_directory_and_its_roots_is_refused(tmp_path, dest):
    run = tmp_path / "reports" / "r1"
    with pytest.raises(rf.ReportFilesError, match="allowed: a file inside"):
        rf.write_report_files(str(run), [{"dest": "ok.json", "content": "{}"}, {"dest": dest, "content": "x"}],
                              roots=[str(run / "sub")])
    assert not run.exists()


@pytest.mark.parametrize("directory, given, message", [
    ("relative/dir", [], "absolute"),
    ("/tmp/x", [{"dest": "a"}], "dest and content"),
    ("/tmp/x", ["a"], "dest and content"),
    ("/tmp/x", [{"dest": "a", "content": ""}, {"dest": "./a", "content": ""}], "given twice"),
])
def test_bad_input_is_refused_before_anything_is_written(directory, given, message):
    with pytest.raises(rf.ReportFilesError, match=message):
        rf.plan_report_files(directory, given)


def test_a_latest_that_is_a_real_directory_is_not_replaced(tmp_path):
    (tmp_path / "latest").mkdir()
    with pytest.raises(rf.ReportFilesError, match="not a symbolic link"):
        rf.write_report_files(str(tmp_path / "r1"), files(a="1"), latest=str(tmp_path / "latest"))


@pytest.mark.parametrize("value", ["0640", "640", 0o640])
def test_modes_are_octal(value):
    assert rf._mode(value if not isinstance(value, int) else oct(value)[2:], "mode") == 0o640


def test_a_mode_that_is_not_octal_is_refused():
    with pytest.raises(rf.ReportFilesError, match="mode is '0986'"):
        rf._mode("0986", "mode")


def test_missing_parents_of_the_archive_get_the_directory_mode_too(tmp_path):
    run = tmp_path / "reports" / "drift" / "r1"
    rf.write_report_files(str(run), files(a="1"))
    for path in (run, run.parent, run.parent.parent):
        assert oct(os.stat(str(path)).st_mode & 0o777) == "0o750"
