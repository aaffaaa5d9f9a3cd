"""archived_runs: every run directory's file, oldest first, no link or half-written run counted."""
import os

import pytest

import archive_filters as af


def _runs(tmp_path, names, filename="metrics.json"):
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / filename).write_text("{}")


def test_every_run_directory_oldest_first(tmp_path):
    _runs(tmp_path, ["20261206T010000Z", "20261122T010000Z", "20261129T010000Z"])
    assert af.archived_runs(str(tmp_path), "metrics.json") == [
        str(tmp_path / r / "metrics.json") for r in ("20261122T010000Z", "20261129T010000Z", "20261206T010000Z")]


def test_latest_link_hidden_and_incomplete_runs_are_left_out(tmp_path):
    _runs(tmp_path, ["20261122T010000Z", "20261129T010000Z", ".20261206T010000Z.tmp"])
    (tmp_path / "20261130T010000Z").mkdir()  # stopped before writing its file
    os.symlink("20261129T010000Z", str(tmp_path / "latest"))
    (tmp_path / "register.json").write_text("{}")
    assert af.archived_runs(str(tmp_path), "metrics.json") == [
        str(tmp_path / "20261122T010000Z" / "metrics.json"), str(tmp_path / "20261129T010000Z" / "metrics.json")]


def test_limit_keeps_the_newest(tmp_path):
    _runs(tmp_path, ["r1", "r2", "r3", "r4"])
    assert [os.path.basename(os.path.dirname(p)) for p in af.archived_runs(str(tmp_path), "metrics.json", 2)] == ["r3", "r4"]
    assert len(af.archived_runs(str(tmp_path), "metrics.json", 0)) == 4


def test_missing_archive_is_empty(tmp_path):
    assert af.archived_runs(str(tmp_path / "none"), "summary.json") == []


@pytest.mark.parametrize("directory,filename", [("", "summary.json"), ("/x", ""), ("/x", "*/summary.json")])
def test_bad_arguments_are_refused(directory, filename):
    with pytest.raises(ValueError):
        af.archived_runs(directory, filename)
