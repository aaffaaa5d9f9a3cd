"""A component module that meets an error its readings did not expect fails with a message naming the
module, the exception and the line it came from (reported as INSPECTION_ERROR), never Ansible's bare
"MODULE FAILURE"; a refused input keeps its own message."""
import importlib

import pytest

from conftest import run_module_main
from huaian_inspect import guarded, unexpected_failure

# module, the function main() reaches for the readings (replaced by one that raises), arguments.
MODULES = [
    ("host_inspect", "gather", {"_ansible_check_mode": True}),
    ("kingbase_inspect", "collect", {"bin_dir": "/nonexistent/bin", "data_dir": "/nonexistent/data"}),
    ("bes_inspect", "inspect", {"instances": []}),
    ("backup_inspect", "gather_jobs", {}),
    ("cache_inspect", "gather", {"password": "Cache-pw-4471"}),
    ("preview_inspect", "gather", {"services": []}),
    ("endpoint_probe", "inspect", {"probes": []}),
]


def boom(*args, **kwargs):
    raise KeyError("MemTotal")


@pytest.mark.parametrize("name, target, args", MODULES, ids=[m[0] for m in MODULES])
def test_an_unexpected_exception_is_the_modules_message(name, target, args, monkeypatch, capsys):
    mod = importlib.import_module(name)
    monkeypatch.setattr(mod, target, boom)
    result = run_module_main(mod, monkeypatch, capsys, args)
    assert result["failed"] is True
    raised_at = boom.__code__.co_firstlineno + 1
    assert result["msg"] == ("%s stopped on an unexpected error: KeyError: 'MemTotal' "
                             "(test_inspect_failures.py:%d in boom)" % (name, raised_at))
    assert result["exception"].startswith("Traceback (most recent call last):")
    assert result["exception"].rstrip().endswith("KeyError: 'MemTotal'")


def test_a_refused_input_keeps_its_own_message(monkeypatch, capsys):
    mod = importlib.import_module("kingbase_inspect")
    result = run_module_main(mod, monkeypatch, capsys, {"bin_dir": "/x", "data_dir": "/y", "thresholds": {"nope": 1}})
    assert result["failed"] is True and result["msg"].startswith("unknown threshold 'nope'")
    assert "exception" not in result


def test_unexpected_failure_without_text_or_traceback():
    msg, trace = unexpected_failure("x_inspect", RuntimeError())
    assert msg == "x_inspect stopped on an unexpected error: RuntimeError" and "RuntimeError" in trace


def test_guarded_passes_the_result_and_lets_exit_through():
    class Module(object):
        def fail_json(self, **kw):
            raise AssertionError("not expected: %r" % kw)

    assert guarded(Module(), "x", lambda: {"changed": False}) == {"changed": False}
    with pytest.raises(SystemExit):
        guarded(Module(), "x", lambda: (_ for _ in ()).throw(SystemExit(0)))
