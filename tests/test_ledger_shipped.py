"""The shipped arena's sealed forecasts (ledger/): they audit PASS on a fresh clone and their
resolved questions score against ledger/outcomes-iraq-2021.yaml.

The newest entry is audited: a later change to the package is sealed as a new entry (the
older ones then fail their `package` check by design: the ledger records what was sealed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tawazun.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
LEDGER = ROOT / "ledger" / "iraq-2021.jsonl"
OUTCOMES = ROOT / "ledger" / "outcomes-iraq-2021.yaml"
runner = CliRunner()


def _entries() -> list[dict]:
    return [json.loads(line) for line in LEDGER.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_ledger_is_shipped_with_its_runs():
    entries = _entries()
    assert entries, "no sealed entry"
    for e in entries:
        assert not Path(e["run_dir"]).is_absolute() and not Path(e["arena"]["path"]).is_absolute()
        assert (LEDGER.parent / e["run_dir"] / "result.json").is_file()
        assert e["questions"], "a sealed forecast of the shipped arena carries its questions"


def test_the_newest_sealed_entry_audits_pass():
    newest = _entries()[-1]
    res = runner.invoke(app, ["audit", newest["id"], "--ledger", str(LEDGER), "--json", "-"])
    checks = {c["check"]: c["result"] for c in json.loads(res.stdout)["checks"]}
    assert res.exit_code == 0, res.output
    assert checks == {"ledger": "PASS", "result": "PASS", "arena": "PASS", "package": "PASS", "re-run": "PASS"}


def test_the_resolved_questions_score(tmp_path):
    res = runner.invoke(app, ["resolve", str(LEDGER), "--outcomes", str(OUTCOMES), "--json", "-",
                              "--html", str(tmp_path / "scores.html")])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc, "no score"
    assert (tmp_path / "scores.html").is_file()
