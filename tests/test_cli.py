"""CLI end to end: validate, schema, forecast on the shipped arena and on a tiny one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tawazun.cli.main import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_validate_ok_and_bad(tiny_arena_path: Path, tmp_path: Path):
    res = run("validate")
    assert res.exit_code == 0 and res.stdout.startswith("ok:")
    res = run("validate", str(tiny_arena_path))
    assert res.exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_arena_path.read_text().replace("position: 9,", "position: 19,"), encoding="utf-8")
    res = run("validate", str(bad))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:") and "stances[2].position" in lines[0]
    assert "Traceback" not in res.output


def test_missing_and_non_utf8_files(tmp_path: Path):
    res = run("validate", str(tmp_path / "nope.yaml"))
    assert res.exit_code == 2 and "no such file" in res.stderr
    raw = tmp_path / "latin.yaml"
    raw.write_bytes(b"arena: caf\xe9\n")
    res = run("validate", str(raw))
    assert res.exit_code == 2 and "not UTF-8" in res.stderr


def test_schema_command_matches_library(tmp_path: Path):
    from tawazun.arena import json_schema

    res = run("schema")
    assert res.exit_code == 0 and json.loads(res.stdout) == json_schema()


def test_forecast_shipped_arena_json_stdout(tmp_path: Path):
    res = run("forecast", "--json", "-", "--out", str(tmp_path / "r"), "--no-report", "--draws", "200",
              "--sobol-n", "32")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["draws"] == 200 and doc["dist"] == "triangular"
    assert doc["arena"] == "iraq-2021" and doc["seed"] == 0 and doc["version"]
    pairs = {(r["issue"], r["engine"]) for r in doc["results"]}
    for issue in ("us-presence", "election-date", "participation", "vienna-missiles"):
        for engine in ("compromise", "median", "bdm"):
            assert (issue, engine) in pairs, (issue, engine)
    for r in doc["results"]:
        assert all(0 <= x <= 100 for x in r["forecast"])
        if r["engine"] == "bdm":
            assert r["trajectory"][0]["turn"] == 0 and "us-gov" in r["trajectory"][0]["positions"]
        if r["engine"] in ("compromise", "median"):
            assert "trajectory" not in r
        # every result carries its distribution; one summary per issue for a joint space
        dists = [r["distribution"]] if "issues" not in r else [r["distribution"][i] for i in r["issues"]]
        for d in dists:
            q = d["quantiles"]
            assert q["5"] <= q["50"] <= q["95"]
            assert sum(b["probability"] for b in d["bands"]) == pytest.approx(1.0)
    tornado = [r for r in doc["results"] if r["issue"] == "us-presence" and "tornado" in r]
    assert tornado and tornado[0]["tornado"][0]["swing"] >= tornado[0]["tornado"][-1]["swing"]
    sobol = tornado[0]["sobol"]["indices"]
    assert all(-0.2 <= x["S1"] <= 1.2 and x["ST"] >= -0.2 for x in sobol)
    assert json.loads((tmp_path / "r" / "result.json").read_text()) == doc


def test_forecast_writes_report_and_manifest(tiny_arena_path: Path, tmp_path: Path):
    out = tmp_path / "run"
    res = run("forecast", str(tiny_arena_path), "--out", str(out), "--seed", "42", "-e", "compromise,median,bdm",
              "--rounds", "3", "--draws", "100")
    assert res.exit_code == 0, res.output
    assert "Issue X" in res.stdout and "status quo" in res.stdout
    # the tables say what the point and the interval are (they answer different questions)
    assert "forecast: the median of 100 triangular draws over the ranges" in res.stdout
    assert "at modes: one run with every range at its mode" in res.stdout
    assert "80% interval: 10th–90th percentile of the draws" in res.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 42 and len(manifest["arena"]["sha256"]) == 64
    assert manifest["options"]["bdm"]["rounds"] == 3
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Actor map" in html
    assert "Forecast distributions (100 draws" in html and "BDM positions round by round" in html
    assert "Sobol indices of the bdm forecast (N = 64" in html
    # self-contained: no external script, stylesheet or image is referenced
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", html)
    assert "Plotly" in html
    result = json.loads((out / "result.json").read_text())
    # compromise by hand: weights a 3*.5, b 2*1, c 2*.8 -> (2*1.5 + 8*2 + 9*1.6)/5.1
    comp = next(r for r in result["results"] if r["engine"] == "compromise")
    assert comp["forecast"][0] == pytest.approx((2 * 1.5 + 8 * 2 + 9 * 1.6) / 5.1, abs=1e-6)
    bdm = next(r for r in result["results"] if r["engine"] == "bdm")
    assert len(bdm["trajectory"]) == 4


def test_same_seed_same_numbers(tiny_arena_path: Path, tmp_path: Path):
    a = run("forecast", str(tiny_arena_path), "--json", "-", "--out", str(tmp_path / "a"), "--no-report", "--draws", "300")
    b = run("forecast", str(tiny_arena_path), "--json", "-", "--out", str(tmp_path / "b"), "--no-report", "--draws", "300")
    assert json.loads(a.stdout)["results"] == json.loads(b.stdout)["results"]


@pytest.mark.parametrize("args,needle", [
    (["-e", "astrology"], "unknown engine 'astrology'"),
    (["-O", "bdm.colour=red", "-e", "bdm"], "no option 'colour'"),
    (["-O", "nonsense"], "expected ENGINE.KEY=VALUE"),
    (["--dist", "normal"], "expected triangular or pert"),
    (["--scheduler", "not-an-address"], "not a scheduler address"),
    (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach tcp://127.0.0.1:1"),
    (["--draws", "0", "--workers", "2"], "--workers: workers and scheduler spread Monte Carlo draws"),
    (["--lang", "fr"], "--lang: expected en or ar, got 'fr'"),
])
def test_forecast_bad_options_exit_2_and_write_nothing(tiny_arena_path: Path, tmp_path: Path, args, needle):
    out = tmp_path / "never"
    res = run("forecast", str(tiny_arena_path), "--out", str(out), *args)
    assert res.exit_code == 2 and needle in res.stderr and "Traceback" not in res.output
    assert not out.exists()


def test_bad_arena_writes_nothing(tmp_path: Path, tiny_arena_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_arena_path.read_text().replace("kind: militia", "kind: wizard"), encoding="utf-8")
    out = tmp_path / "never"
    res = run("forecast", str(bad), "--out", str(out), "--draws", "0")
    assert res.exit_code == 2 and "actors[2].kind" in res.stderr
    assert not out.exists()


def test_console_script_runs_in_a_subprocess(tmp_path: Path):
    exe = Path(sys.executable).with_name("tawazun")
    proc = subprocess.run([str(exe), "validate"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("ok:")


def test_shipped_report_shows_the_futures_tableau(tmp_path: Path):
    out = tmp_path / "r"
    res = run("forecast", "-e", "compromise", "--draws", "0", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "80% interval" not in res.stdout  # no draws, no interval column nor its legend
    html = (out / "report.html").read_text()
    section = html[html.index("<section id='futures'>"):]
    section = section[: section.index("</section>")]
    scen = json.loads(run("scenarios", "--json", "-").stdout)
    assert f"{len(scen['scenarios'])} consistent scenario(s)" in section
    assert section.count("<tr><td>") == len(scen["scenarios"]) >= 2
    # context actors are listed apart; declared (public) positions are shown beside the positions
    actors = html[html.index("<h2>Actors</h2>"):]
    actors = actors[: actors.index("</section>")]
    assert "<h3>Context actors</h3>" in actors and "<code>isis</code>" in actors.split("<h3>Context actors</h3>")[1]
    assert "<code>isis</code>" not in actors.split("<h3>Context actors</h3>")[0]
    assert "<th title='the public position, where it differs from the one acted on'>declared</th>" in html
    assert "(context: not in the forecasts)" in html


def test_report_says_when_the_futures_search_was_cut_short(tmp_path: Path, monkeypatch):
    """The report caps the CIB search (a report must finish) and says when the cap bit."""
    from tawazun import forecast
    from tawazun.scenarios import analysis

    real = analysis.analyse
    seen = {}

    def capped(*args, **kwargs):
        seen.update(kwargs)
        payload = real(*args, **kwargs)
        payload["complete"] = False  # as if max_seconds had stopped it
        return payload

    monkeypatch.setattr(analysis, "analyse", capped)
    out = tmp_path / "r"
    res = run("forecast", "-e", "compromise", "--draws", "0", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert seen["max_seconds"] == forecast.SCENARIO_SECONDS == 60
    html = (out / "report.html").read_text()
    assert "The exact search was stopped after 60 s" in html
