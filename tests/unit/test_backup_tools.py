"""The scripts the backup roles install: kb_backup_tool.py, huaian_backup_job.py, file_verify.py."""
import importlib.util
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


kb = load("kb_backup_tool", "roles/kingbase_backup/files/kb_backup_tool.py")
job = load("huaian_backup_job", "roles/backup_job/files/huaian_backup_job.py")
fv = load("file_verify", "roles/file_backup/files/file_verify.py")

SRC = {"huaian": {"public.documents": {"rows": 3, "sum": "123"}, "public.t": {"rows": 1, "sum": "9"}}}


def test_identical_checksums_compare_equal():
    assert kb.compare_checksums(SRC, json.loads(json.dumps(SRC))) == []


def test_each_kind_of_difference_is_named():
    restored = {"huaian": {"public.documents": {"rows": 2, "sum": "99"}, "public.extra": {"rows": 0, "sum": "0"}}}
    problems = kb.compare_checksums(SRC, restored)
    assert "huaian: table public.documents has 2 rows, the source had 3" in problems
    assert "huaian: table public.t missing from the restored copy" in problems
    assert "huaian: table public.extra not in the source" in problems
    same_rows = {"huaian": {"public.documents": {"rows": 3, "sum": "124"}, "public.t": {"rows": 1, "sum": "9"}}}
    assert kb.compare_checksums(SRC, same_rows) == ["huaian: table public.documents has the source's 3 rows but different contents"]
    assert kb.compare_checksums(SRC, {}) == ["database huaian: missing from the restored copy"]


def test_sql_quotes_identifiers_and_excludes_repmgr():
    assert kb.checksum_sql("pub", 'we"ird').endswith('FROM "pub"."we""ird" AS t')
    assert "NOT IN ('repmgr')" in kb.tables_sql("sys_stat_user_tables")
    assert kb.lock_sql([("public", "a"), ("s", "b")]) == 'LOCK TABLE "public"."a", "s"."b" IN SHARE MODE'
    assert kb.lock_sql([]) == ""


def test_restore_point_names_are_restricted():
    assert kb.restore_point_name_ok("verify-20261126T141504Z")
    assert not kb.restore_point_name_ok("x'; drop table t; --")
    assert not kb.restore_point_name_ok("a" * 64)


def test_passphrases_are_read_from_a_file_never_the_command_line():
    args = kb.openssl_args("openssl", "/etc/sys_rman/dump.pass")
    assert "file:/etc/sys_rman/dump.pass" in args and "-pbkdf2" in args and "-d" not in args
    assert kb.openssl_args("openssl", "/p", decrypt=True)[-1] == "-d"


def test_totals_count_tables_and_rows():
    assert kb.totals(SRC) == {"tables": 2, "rows": 4}


def test_a_success_record_resets_the_failure_count():
    prev = {"consecutive_failures": 3, "last_success": "old"}
    rec = job.build_record("files", "h", prev, 100.0, 112.5, 0, ["x"], {"size_bytes": 42, "snapshot": "ab"})
    assert rec["result"] == "success" and rec["consecutive_failures"] == 0 and rec["error"] == ""
    assert rec["duration_seconds"] == 12.5 and rec["size_bytes"] == 42 and rec["detail"] == {"snapshot": "ab"}
    assert rec["last_success"] == rec["finished"] and rec["last_success_size_bytes"] == 42


def test_a_failure_keeps_the_last_success_and_says_why():
    prev = {"consecutive_failures": 1, "last_success": "2026-11-25T02:30:00+0800", "last_success_size_bytes": 7}
    rec = job.build_record("files", "h", prev, 100.0, 101.0, 1, ["Fatal: unable to open repository"], {})
    assert rec["result"] == "failed" and rec["consecutive_failures"] == 2
    assert rec["last_success"] == "2026-11-25T02:30:00+0800" and rec["last_success_size_bytes"] == 7
    assert rec["error"] == "Fatal: unable to open repository"
    assert job.build_record("j", "h", {}, 0, 1, 2, [], {})["error"] == "exit code 2"


def test_the_wrapper_records_a_real_command(tmp_path):
    os.makedirs(tmp_path / "demo")
    script = "import json,os; json.dump({'size_bytes': 5}, open(os.environ['HUAIAN_JOB_RESULT'], 'w')); print('done')"
    assert job.main(["--name", "demo", "--status-dir", str(tmp_path), "--", sys.executable, "-c", script]) == 0
    rec = json.loads((tmp_path / "demo" / "status.json").read_text())
    assert rec["result"] == "success" and rec["size_bytes"] == 5
    assert job.main(["--name", "demo", "--status-dir", str(tmp_path), "--", sys.executable, "-c",
                     "import sys; print('boom'); sys.exit(3)"]) == 3
    rec = json.loads((tmp_path / "demo" / "status.json").read_text())
    assert rec["result"] == "failed" and rec["exit_code"] == 3 and rec["error"] == "boom"
    assert rec["last_success_size_bytes"] == 5
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["status.json"]


NODES = [{"type": "dir", "path": "/d"}] + [{"type": "file", "path": "/d/f%02d" % i, "size": i,
                                           "mtime": "2026-11-26T22:00:00.5+08:00"} for i in range(30)]


def test_the_file_sample_is_reproducible_and_only_files():
    a = fv.choose_sample(NODES, 5, "seed")
    assert a == fv.choose_sample(NODES, 5, "seed") and len(a) == 5
    assert all(n["type"] == "file" for n in a) and a == sorted(a, key=lambda n: n["path"])
    assert len(fv.choose_sample(NODES[:3], 5, "s")) == 2


def test_restic_times_parse_with_nanoseconds_and_offsets():
    assert fv.parse_time("2026-11-26T22:00:00.123456789+08:00") == fv.parse_time("2026-11-26T14:00:00.123456Z")


def test_file_comparison_outcomes():
    entry = {"size": 10, "mtime": "2026-11-26T14:00:00Z"}
    t = fv.parse_time(entry["mtime"])
    same = {"size": 10, "mtime": t}
    assert fv.classify(entry, same, "aa", "aa") == "match"
    assert fv.classify(entry, same, "aa", "bb") == "mismatch"
    assert fv.classify(entry, same, None, "aa") == "missing"
    assert fv.classify(entry, {"size": 11, "mtime": t}, "aa", "bb") == "changed"
    assert fv.classify(entry, {"size": 10, "mtime": t + 60}, "aa", "bb") == "changed"
    assert fv.classify(entry, None, "aa", None) == "changed"

