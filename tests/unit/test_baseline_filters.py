"""baseline_filters: key-level drift between a stored baseline and the live state."""
import json

import pytest

from baseline_filters import (DEFAULT_VOLATILE, baseline_diff, baseline_document, baseline_key_count, baseline_value_text,
                              drift_summary)

OLD = {
    "kingbase.conf": {"#state": "present", "max_connections": "500", "work_mem": "8MB", "shared_buffers": "1GB"},
    "sshd_config": {"permitrootlogin": "prohibit-password", "acceptenv": ["LANG", "LC_*"]},
    "crontab:kingbase": {"job kbha keep-alive (role kingbase_cluster)": "*/1 * * * * kbha"},
    "sentinel.conf": {"sentinel current-epoch": "0", "port": "26379",
                      "sentinel known-replica preview-cache": ["10.0.0.2 6379"]},
}


def live(**changes):
    new = json.loads(json.dumps(OLD))
    for source, keys in changes.items():
        for key, value in keys.items():
            if value is None:
                new[source].pop(key)
            else:
                new.setdefault(source, {})[key] = value
    return new


def test_unchanged_is_empty():
    assert baseline_diff(OLD, live(), host="h") == []


def test_added_removed_changed_with_old_and_new():
    new = live(**{"kingbase.conf": {"max_connections": "800", "work_mem": None, "wal_level": "replica"}})
    assert baseline_diff(OLD, new, host="city-kb01") == [
        {"host": "city-kb01", "source": "kingbase.conf", "key": "max_connections", "kind": "changed", "old": "500", "new": "800"},
        {"host": "city-kb01", "source": "kingbase.conf", "key": "wal_level", "kind": "added", "old": None, "new": "replica"},
        {"host": "city-kb01", "source": "kingbase.conf", "key": "work_mem", "kind": "removed", "old": "8MB", "new": None},
    ]


def test_list_values_compare_in_order():
    new = live(sshd_config={"acceptenv": ["LC_*", "LANG"]})
    assert [d["key"] for d in baseline_diff(OLD, new)] == ["acceptenv"]


def test_deleted_cron_line_and_missing_source():
    new = live(**{"crontab:kingbase": {"job kbha keep-alive (role kingbase_cluster)": None}})
    del new["sshd_config"]
    kinds = sorted((d["source"], d["kind"]) for d in baseline_diff(OLD, new))
    assert kinds == [("crontab:kingbase", "removed"), ("sshd_config", "removed"), ("sshd_config", "removed")]


def test_volatile_keys_are_ignored_by_default_and_explicit_list_replaces_them():
    new = live(**{"sentinel.conf": {"sentinel current-epoch": "3",
                                    "sentinel known-replica preview-cache": ["10.0.0.2 6379", "10.0.0.3 6379"]}})
    assert baseline_diff(OLD, new) == []
    assert len(baseline_diff(OLD, new, volatile=[])) == 2
    assert [d["key"] for d in baseline_diff(OLD, new, volatile=["sentinel.conf|sentinel current-epoch"])] == [
        "sentinel known-replica preview-cache"]
    assert all("|" in p for p in DEFAULT_VOLATILE)


def test_a_real_sentinel_setting_is_not_volatile():
    new = live(**{"sentinel.conf": {"port": "26380"}})
    assert [d["key"] for d in baseline_diff(OLD, new)] == ["port"]


def test_drift_summary_statuses():
    stored = {"a": {"metadata": {"change_id": "CR-2026-0001"}, "baseline": OLD},
              "b": {"metadata": {}, "baseline": OLD}}
    current = {"a": live(), "b": live(sshd_config={"permitrootlogin": "yes"}), "c": live()}
    s = drift_summary(["a", "b", "c", "d"], stored, current)
    assert [(h["host"], h["status"], h["changes"]) for h in s["hosts"]] == [
        ("a", "clean", 0), ("b", "drift", 1), ("c", "no_baseline", 0), ("d", "unreadable", 0)]
    assert s["drifted"] == ["b"] and s["no_baseline"] == ["c"] and s["unreadable"] == ["d"] and s["clean"] == ["a"]
    assert s["changes"][0]["host"] == "b" and s["changes"][0]["old"] == "prohibit-password"
    assert s["hosts"][0]["recorded"]["change_id"] == "CR-2026-0001"


def test_document_is_stable_and_keeps_time_out_of_the_baseline():
    summary = {"redis.conf": {"keys": 3, "state": "present", "redacted": ["requirepass"]},
               "sshd_config": {"keys": 2, "state": "present", "redacted": []}}
    doc = baseline_document(OLD, summary, {"host": "h", "time": "2026-01-01T00:00:00Z"})
    assert doc["baseline"] == OLD
    assert doc["metadata"]["key_count"] == baseline_key_count(OLD) == 10
    assert doc["metadata"]["redacted"] == {"redis.conf": ["requirepass"]}
    assert "2026" not in json.dumps(doc["baseline"])


@pytest.mark.parametrize("value,text", [(None, "—"), (["a", "b"], "a | b"), ("x", "x"), ("", "")])
def test_value_text(value, text):
    assert baseline_value_text(value) == text


def test_drift_summary_leaves_the_stored_declaration_out_of_the_report():
    from baseline_filters import drift_summary
    stored = {"h1": {"metadata": {"change_id": "CR-1", "declared": {"sources": [{"name": "x", "path": "/x"}]}},
                     "baseline": {"x": {"a": "1"}}}}
    out = drift_summary(["h1"], stored, {"h1": {"x": {"a": "1"}}})
    assert out["clean"] == ["h1"]
    assert out["hosts"][0]["recorded"] == {"change_id": "CR-1"}


def test_baseline_files_reads_the_hosts_that_have_one(tmp_path):
    from baseline_filters import baseline_files
    (tmp_path / "h1.json").write_text(json.dumps({"metadata": {"host": "h1"}, "baseline": {}}))
    (tmp_path / "other.json").write_text("{}")
    assert baseline_files(str(tmp_path), ["h1", "h2"]) == {"h1": {"metadata": {"host": "h1"}, "baseline": {}}}
