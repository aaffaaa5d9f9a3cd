"""lab/demo.py: make demo's steps from lab/demo.yml, each logged, resumable, failures naming the resume."""
import io
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lab"))
import demo  # noqa: E402


def test_the_shipped_steps_load_and_name_what_exists():
    steps, results = demo.load()
    names = [s["name"] for s in steps]
    assert names[0] == "site" and "inspect_deep" in names and len(names) == len(set(names))
    for step in steps:
        for part in step["run"]:
            if str(part).endswith((".yml", ".py")) and "{" not in str(part):
                assert (ROOT / part).is_file(), "%s: %s does not exist" % (step["name"], part)
    assert results and all(len(r) == 2 for r in results)


def test_bad_step_files_are_refused_with_every_problem(tmp_path):
    p = tmp_path / "demo.yml"
    p.write_text("steps:\n  - {name: a, run: [true]}\n  - {name: a, run: [true]}\n  - {name: B-2, run: []}\n")
    with pytest.raises(demo.DemoError) as e:
        demo.load(p)
    assert "name 'a' is used twice" in str(e.value) and "'B-2'" in str(e.value) and "run must be" in str(e.value)


def test_from_selects_the_rest_and_an_unknown_step_lists_the_steps():
    steps = [{"name": n, "run": ["x"]} for n in ("a", "b", "c")]
    assert [s["name"] for s in demo.select(steps, "b")] == ["b", "c"]
    assert demo.select(steps, None) == steps
    with pytest.raises(demo.DemoError, match="FROM=z is not a step of make demo; the steps are: a b c"):
        demo.select(steps, "z")


def test_recap_changed_sums_the_hosts():
    lines = ["PLAY RECAP *****\n",
             "city-kb01                  : ok=12   changed=0    unreachable=0    failed=0    skipped=3\n",
             "hzq-kb01                   : ok=9    changed=2    unreachable=0    failed=0    skipped=1\n"]
    assert demo.recap_changed(lines) == 2
    assert demo.recap_changed(["no recap here\n"]) is None


def _py(code):
    return {"run": [sys.executable, "-c", code]}


def test_a_failed_step_stops_the_run_and_says_how_to_resume(tmp_path):
    steps = [dict(_py("print('one')"), name="one"), dict(_py("import sys; print('boom'); sys.exit(3)"), name="two"),
             dict(_py("open('ran-three', 'w')"), name="three")]
    out = io.StringIO()
    rc = demo.run(steps, [], tmp_path / "run", {"run": str(tmp_path / "run")}, out=out)
    assert rc == 3
    text = out.getvalue()
    assert "demo: step two FAILED (exit 3)" in text and "make demo FROM=two" in text
    assert (tmp_path / "run" / "02-two.log").read_text().endswith("boom\n")
    record = json.loads((tmp_path / "run" / "steps.json").read_text())
    assert [(e["step"], e["rc"]) for e in record["steps"]] == [("one", 0), ("two", 3)]
    assert not (ROOT / "ran-three").exists()


def test_a_resumed_run_starts_at_the_step_and_sums_up(tmp_path):
    recap = "print('PLAY RECAP'); print('h1 : ok=3 changed=1 unreachable=0 failed=0')"
    steps = [dict(_py("raise SystemExit(1)"), name="first"), dict(_py(recap), name="second"),
             dict(_py("print('{run}')"), name="third")]
    steps[2]["run"][-1] = "print('{run}')"
    out = io.StringIO()
    values = {"run": str(tmp_path / "r")}
    assert demo.run(steps, [["logs", "{run}/"]], tmp_path / "r", values, start="second", out=out) == 0
    text = out.getvalue()
    assert "every step passed in" in text and "(resumed at second)" in text
    assert "changed=1" in text and "logs:" in text and str(tmp_path / "r") + "/" in text
    assert not (tmp_path / "r" / "01-first.log").exists()
    assert (tmp_path / "r" / "03-third.log").read_text().strip().endswith(str(tmp_path / "r"))
