"""`tawazun backtest deu3` end to end, and the development file when it is present."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tawazun.cli.main import app

MINI = Path(__file__).parent / "fixtures" / "deu" / "mini.tsv"
SHARED_DEU = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "deu3" / "deu3-dev.tsv"
FAST = "compromise,median,sq-blend,stack,compromise-hetero"
REQUIRED = {"mae", "rmse", "within10", "crps", "coverage50", "coverage80"}


def invoke(*args: str):
    return CliRunner().invoke(app, ["backtest", "deu3", *args])


def test_cli_end_to_end_on_fixture(tmp_path):
    out = tmp_path / "bt"
    r = invoke(str(MINI), "--engines", FAST, "--folds", "3", "--draws", "100", "--boot", "200",
               "--seed", "11", "--out", str(out), "--json", str(tmp_path / "also.json"))
    assert r.exit_code == 0, r.output
    assert "compromise-hetero" in r.output and "kept 13 issues" in r.output
    doc = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert doc == json.loads((tmp_path / "also.json").read_text(encoding="utf-8"))
    assert doc["n_issues"] == 13
    assert list(doc["engines"]) == FAST.split(",")
    for name, e in doc["engines"].items():
        assert REQUIRED <= set(e), name
        assert 0 <= e["coverage50"] <= e["coverage80"] <= 1
        assert 0 < e["crps"] <= e["mae"] + 1e-9  # a spread never scores worse than its point
        assert e["within10"] <= 1 and e["rmse"] >= e["mae"]
    assert doc["skipped"]["issues_skipped"] == 2 and doc["seed"] == 11
    assert doc["capability"]["name"] == "council"
    assert set(doc["differences"]) == set(FAST.split(",")) - {"compromise"}
    page = (out / "backtest.html").read_text(encoding="utf-8")
    tags = re.findall(r"<script[^>]*>", page)
    assert tags and not any("src=" in t for t in tags)  # nothing fetched from a CDN
    assert "Plotly" in page and len(page) > 1_000_000  # the library is inlined
    assert 'id="coverage"' in page and 'id="pit"' in page and 'id="errors"' in page


def test_cli_json_to_stdout_is_clean_and_seeded():
    args = (str(MINI), "--engines", "compromise,median", "--folds", "3", "--draws", "50",
            "--boot", "100", "--capability", "equal", "--json", "-")
    a = CliRunner().invoke(app, ["backtest", "deu3", *args])
    assert a.exit_code == 0, a.output
    doc = json.loads(a.stdout)
    assert doc["capability"]["name"] == "equal" and set(doc["engines"]) == {"compromise", "median"}
    b = CliRunner().invoke(app, ["backtest", "deu3", *args])
    assert json.loads(b.stdout) == doc


def test_cli_user_errors_exit_2_without_traceback(tmp_path):
    r = invoke(str(MINI), "--engines", "compromise,oracle", "--capability", "votes")
    assert r.exit_code == 2
    assert "--engines: unknown 'oracle'" in r.output and "--capability: unknown scheme" in r.output
    assert "Traceback" not in r.output

    bad = tmp_path / "bad.tsv"
    lines = MINI.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    cells = lines[3].split("\t")
    cells[header.index("pcom")] = "fifty"
    lines[3] = "\t".join(cells)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = invoke(str(bad))
    assert r.exit_code == 2
    assert f"{bad}:row 4: column pcom: not a number: 'fifty'" in r.output
    assert "Traceback" not in r.output

    r = invoke(str(MINI), "--folds", "9")
    assert r.exit_code == 2 and "only 7 proposals" in r.output


@pytest.mark.shared
def test_compromise_on_the_development_file_matches_the_published_anchor():
    if not SHARED_DEU.is_file():
        pytest.skip("../shared/data/deu3/deu3-dev.tsv not present")
    from tawazun.evaluation.deu import load_deu
    from tawazun.evaluation.protocol import run_backtest

    data = load_deu(SHARED_DEU)
    assert len(data.issues) == 248 and data.n_rows == 259
    res = run_backtest(data, ["compromise", "median"], scheme="council", draws=200, n_boot=200)
    j = res.to_json()
    assert j["folds"]["source"].startswith("committed")
    comp = j["engines"]["compromise"]
    assert 21.0 < comp["mae"] < 25.5  # published: about 23 on 0-100
    assert j["engines"]["median"]["mae"] > comp["mae"]
    assert 0.7 < comp["coverage80"] < 0.9
