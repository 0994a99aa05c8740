"""Hostile input for `tawazun extract`: time linear in the text length, a size cap with
a one-line error, no non-finite number in the JSON, nothing written on failure."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from typer.testing import CliRunner

import tawazun.evidence.pipeline as pipeline
from tawazun.cli.extract_cmds import PROGRESS_MIN_CHARS, _run_with_progress
from tawazun.cli.main import app
from tawazun.evidence.pipeline import MAX_CHARS, TextTooLarge, extract

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "evidence"
runner = CliRunner()


def _base() -> str:
    return "\n".join(p.read_text(encoding="utf-8").strip() for p in sorted(FIXTURES.glob("*.txt"))) + "\n"


def _best_time(text: str, n: int = 2) -> float:
    best = math.inf
    for _ in range(n):
        t0 = time.perf_counter()
        extract(text, as_of="2021-07-27")
        best = min(best, time.perf_counter() - t0)
    return best


def _ratio(unit: str) -> float:
    extract(unit)  # warm caches
    small, big = unit * 2, unit * 8
    # interleaved, best of two each: the machine is shared and noisy
    ts, tb = [], []
    for _ in range(2):
        ts.append(_best_time(small, 1))
        tb.append(_best_time(big, 1))
    return min(tb) / min(ts)


def test_time_grows_linearly_with_paragraphs() -> None:
    assert _ratio(_base()) < 6.5  # 4x the text; quadratic would be ~16x


def test_time_grows_linearly_without_full_stops() -> None:
    # one endless "sentence": the stance and quote look-backs used to scan to its start
    unit = _base().replace("\n", " ").replace(".", " ").replace("؟", " ")
    assert _ratio(unit) < 6.5


def test_unbalanced_quote_mark_is_fast() -> None:
    body = _base().replace("\n", " ") * 12  # ~90k characters, one line
    for mark in ("«", "“", '"'):
        text = body[: len(body) // 3] + mark + body[len(body) // 3:]
        t = _best_time(text, 1)
        assert t < 10 * max(_best_time(body, 1), 0.05)
        x = extract(text)
        assert all(len(q["text"]) < len(text) // 2 for q in x["quotes"])


def test_long_digit_runs_are_not_numbers_and_json_is_finite() -> None:
    x = extract("9" * 400 + " troops and " + "1" * 5000 + " seats; 2,500 troops; 999999999999999 billion dollars")
    values = [n["value"] for n in x["numbers"]]
    assert all(math.isfinite(v) for v in values)
    assert 2500 in values and len(values) == 2
    json.dumps(x, allow_nan=False)


def test_size_cap_raises() -> None:
    try:
        pipeline.check_size("x" * 11, limit=10)
    except TextTooLarge as exc:
        assert "11 characters; the limit is 10" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("no error")


def test_cli_over_the_cap_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "digits.txt"
    src.write_text("1" * (MAX_CHARS + 1), encoding="utf-8")
    out_json, out_html = tmp_path / "x.json", tmp_path / "x.html"
    res = runner.invoke(app, ["extract", str(src), "--json", str(out_json), "--html", str(out_html)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(src)) and f"{MAX_CHARS:,}" in lines[0]
    assert not out_json.exists() and not out_html.exists()


def test_cli_writes_nothing_when_the_json_fails(tmp_path: Path, monkeypatch) -> None:
    real = pipeline.extract

    def bad(*a, **k):
        x = real(*a, **k)
        x["numbers"].append({"value": float("nan"), "unit": None, "surface": "", "start": 0, "end": 0})
        return x

    monkeypatch.setattr(pipeline, "extract", bad)
    out_json, out_html = tmp_path / "x.json", tmp_path / "x.html"
    res = runner.invoke(app, ["extract", str(FIXTURES / "en_01.txt"), "--json", str(out_json),
                              "--html", str(out_html)])
    assert res.exit_code != 0
    assert not out_json.exists() and not out_html.exists()


def test_progress_callback_and_cli_bar() -> None:
    calls: list[tuple[int, int, str]] = []
    extract("The Pentagon said 2,500 troops would stay.", progress=lambda d, t, s: calls.append((d, t, s)))
    assert [c[0] for c in calls] == list(range(1, pipeline.PROGRESS_STEPS + 1))
    assert all(c[1] == pipeline.PROGRESS_STEPS for c in calls)
    seen: list[int] = []

    def fake(text, progress=None, **kw):
        for i in range(1, 4):
            if progress:
                progress(i, 3, "step")
            seen.append(i)
        return {"ok": progress is not None}

    assert _run_with_progress(fake, "x" * PROGRESS_MIN_CHARS) == {"ok": True}
    assert _run_with_progress(fake, "x") == {"ok": False}
