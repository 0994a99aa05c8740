"""`tawazun extract` end to end, and its bad-input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tawazun.cli.main import app
from tawazun.evidence.pipeline import extract

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "evidence"
runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_extract_end_to_end(tmp_path):
    src = FIXTURES / "ar_01.txt"
    out_json, out_yaml, out_html = tmp_path / "x.json", tmp_path / "d.yaml", tmp_path / "r.html"
    res = _run("extract", src, "--as-of", "2021-04-20", "--json", out_json, "--draft", out_yaml,
               "--html", out_html)
    assert res.exit_code == 0, res.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(extract(src.read_text(encoding="utf-8"), as_of="2021-04-20"),
                                         ensure_ascii=False))
    assert set(data) == {"actors", "quotes", "numbers", "dates", "stances"}
    page = out_html.read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and "k-actor" in page and "legend" in page
    assert "<script" not in page and "<link" not in page and "http" not in page
    # the draft is a valid arena
    arena_mod = pytest.importorskip("tawazun.arena")
    arena = arena_mod.load_arena(out_yaml)
    assert {i.id for i in arena.issues} == {"us-presence"}
    res = _run("validate", out_yaml)
    assert res.exit_code == 0 and "ok" in res.output


def test_extract_json_to_stdout_english(tmp_path):
    res = _run("extract", FIXTURES / "en_02.txt", "--as-of", "2021-07-20", "--json", "-")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {a["id"] for a in data["actors"]} >= {"sadrists", "icp", "unami"}


def test_extract_html_english_is_ltr(tmp_path):
    out = tmp_path / "r.html"
    res = _run("extract", FIXTURES / "en_01.txt", "--html", out)
    assert res.exit_code == 0, res.output
    assert 'dir="ltr"' in out.read_text(encoding="utf-8")


def test_extract_with_arena_aliases(tmp_path):
    arena = tmp_path / "a.yaml"
    base = Path(__file__).resolve().parents[1] / "src" / "tawazun" / "data" / "iraq-2021.yaml"
    if not base.exists():
        pytest.skip("shipped arena not present")
    arena.write_text(base.read_text(encoding="utf-8"), encoding="utf-8")
    txt = tmp_path / "t.txt"
    txt.write_text("The KDP and Halbousi backed the elections.\n", encoding="utf-8")
    res = _run("extract", txt, "--arena", arena, "--json", "-")
    assert res.exit_code == 0, res.output
    ids = [a["id"] for a in json.loads(res.stdout)["actors"]]
    assert ids == ["kurdish-parties", "sunni-parties"]


@pytest.mark.parametrize("content,problem", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    ("café".encode("latin-1"), "not UTF-8"),
    (b"", "empty file"),
    (b"  \n\n  ", "empty file"),
])
def test_bad_input_files(tmp_path, content, problem):
    src = tmp_path / "bad.txt"
    src.write_bytes(content)
    out = tmp_path / "out.json"
    draft = tmp_path / "d.yaml"
    res = _run("extract", src, "--json", out, "--draft", draft)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(src) in lines[0] and problem in lines[0]
    assert "Traceback" not in res.output
    assert not out.exists() and not draft.exists()


def test_missing_file(tmp_path):
    out = tmp_path / "out.json"
    res = _run("extract", tmp_path / "nope.txt", "--json", out)
    assert res.exit_code == 2
    assert res.output.strip() == f"{tmp_path / 'nope.txt'}: no such file"
    assert not out.exists()


def test_bad_options(tmp_path):
    res = _run("extract", FIXTURES / "en_01.txt", "--as-of", "July 2021")
    assert res.exit_code == 2 and "--as-of" in res.output
    res = _run("extract", FIXTURES / "en_01.txt", "--lang", "fr")
    assert res.exit_code == 2 and "--lang" in res.output
    res = _run("extract", FIXTURES / "en_01.txt", "--arena", tmp_path / "none.yaml")
    assert res.exit_code == 2 and "no such file" in res.output
