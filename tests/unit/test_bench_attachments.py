"""tools/bench/attachments.py: the bench's attachment files (sizes, totals, repeatable content)."""
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("attachments", ROOT / "tools" / "bench" / "attachments.py")
attachments = importlib.util.module_from_spec(spec)
spec.loader.exec_module(attachments)

MIB = 1024 ** 2


def test_the_plan_takes_the_sizes_in_turn_up_to_the_total():
    files = attachments.plan(512 * MIB)
    sizes = [s for _, s in files]
    assert sizes[:5] == [64 * 1024, 512 * 1024, 2 * MIB, 8 * MIB, 64 * 1024]
    assert sum(sizes) >= 512 * MIB and sum(sizes[:-1]) < 512 * MIB
    assert len(files) == 196 and len({n for n, _ in files}) == 196
    assert attachments.plan(1) == [("doc-00000.bin", 64 * 1024)]


def test_content_is_incompressible_and_repeats_for_the_same_seed_and_name():
    a = attachments.content("s", "doc-00001.bin", 4096)
    assert a == attachments.content("s", "doc-00001.bin", 4096) and len(a) == 4096
    assert a != attachments.content("s", "doc-00002.bin", 4096)
    assert a != attachments.content("t", "doc-00001.bin", 4096)
    import zlib
    assert len(zlib.compress(a, 9)) > 4000


def test_main_writes_the_files_and_says_what_it_wrote(tmp_path, capsys):
    assert attachments.main([str(tmp_path / "bench"), "--bytes", str(3 * MIB)]) == 0
    out = json.loads(capsys.readouterr().out)
    written = sorted((tmp_path / "bench").iterdir())
    assert out == {"files": 4, "bytes": sum(p.stat().st_size for p in written)}
    assert [p.stat().st_size for p in written] == [64 * 1024, 512 * 1024, 2 * MIB, 8 * MIB]
