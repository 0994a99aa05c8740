"""`tawazun simulate`: same seed -> identical JSON; files written atomically; errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tawazun.cli.main import app

FIXTURE = Path(__file__).parent / "fixtures" / "dynamics" / "balance.yaml"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_same_seed_same_json(tmp_path: Path):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    for path, seed in ((a, "4"), (b, "4"), (c, "5")):
        res = run("simulate", str(FIXTURE), "--paths", "30", "--horizon", "6", "--seed", seed, "--json", str(path))
        assert res.exit_code == 0, res.output
    assert a.read_bytes() == b.read_bytes() and a.read_bytes() != c.read_bytes()
    doc = json.loads(a.read_text())
    assert set(doc) >= {"arena", "version", "seed", "horizon", "steps", "series", "regimes"}
    assert doc["seed"] == 4 and doc["horizon"] == 6 and len(doc["steps"]) == 6
    assert set(doc["series"]["balance"]["quantiles"]) == {"0.1", "0.5", "0.9"}
    assert len(doc["regimes"]["collapse"]["probability_by_step"]) == 6


def test_json_to_stdout_and_out_folder(tmp_path: Path):
    res = run("simulate", str(FIXTURE), "--paths", "20", "--horizon", "3", "--json", "-", "--out", str(tmp_path / "run"))
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["arena"] == "balance-test"
    assert json.loads((tmp_path / "run" / "result.json").read_text()) == doc
    man = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert man["seed"] == 0 and len(man["arena"]["sha256"]) == 64


def test_errors_exit_2_and_write_nothing(tmp_path: Path, tiny_arena_path: Path):
    res = run("simulate", str(tiny_arena_path), "--json", str(tmp_path / "x.json"))   # no dynamics section
    assert res.exit_code == 2 and "no dynamics section" in res.stderr and not (tmp_path / "x.json").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(FIXTURE.read_text(encoding="utf-8").replace("below: 0.25", "below: 2"), encoding="utf-8")
    res = run("simulate", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "Traceback" not in res.output and not (tmp_path / "o").exists()
    assert res.stderr.startswith(f"{bad}:") and "dynamics.regimes[0].below" in res.stderr
