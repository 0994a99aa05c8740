"""`tawazun sensitivity` on the shipped arena."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("tawazun.arena.compile")

from tawazun.cli.main import app  # noqa: E402

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_sensitivity_json_to_stdout():
    res = run("sensitivity", "--issue", "us-presence", "--engine", "compromise", "--sobol-n", "64",
              "--seed", "3", "--json", "-")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["issue"] == "us-presence" and data["engine"] == "compromise"
    swings = [r["swing"] for r in data["tornado"]]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0
    assert data["sobol"]["n"] == 64 and data["sobol"]["indices"]
    assert {"input", "S1", "S1_conf", "ST", "ST_conf"} <= set(data["sobol"]["indices"][0])
    # the old flag name still works for one release, with a deprecation line
    old = run("sensitivity", "--issue", "us-presence", "--engine", "compromise",
              "--draws", "64", "--seed", "3", "--json", "-")
    assert json.loads(old.stdout) == data
    assert "--draws is deprecated" in old.stderr and "--sobol-n" in old.stderr


def test_sensitivity_engine_options_as_on_forecast():
    base = ["sensitivity", "--issue", "us-presence", "--engine", "bdm", "--no-sobol", "--json", "-"]
    new = run(*base, "-O", "bdm.rounds=2")
    short = run(*base, "--option", "rounds=2")
    old = run(*base, "-o", "rounds=2")
    assert new.exit_code == short.exit_code == old.exit_code == 0, new.output + old.output
    assert json.loads(new.stdout) == json.loads(short.stdout) == json.loads(old.stdout)
    assert "-o is deprecated" in old.stderr
    assert json.loads(new.stdout) != json.loads(run(*base).stdout)  # the option took effect
    wrong = run(*base, "-O", "smp.rounds=2")
    assert wrong.exit_code == 2 and "for engine 'smp'" in wrong.output


def test_sensitivity_tables_and_file(tmp_path):
    out = tmp_path / "sens.json"
    res = run("sensitivity", "--issue", "us-presence", "--engine", "median", "--no-sobol",
              "--top", "5", "--json", str(out))
    assert res.exit_code == 0, res.output
    assert "Tornado" in res.stdout and "Sobol" not in res.stdout
    assert "sobol" not in json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("args, needle", [
    (["--issue", "no-such-issue"], "--issue"),
    (["--issue", "us-presence", "--engine", "nope"], "unknown engine"),
    (["--issue", "us-presence", "--dist", "normal", "--sobol-n", "8"], "distribution"),
    (["--issue", "us-presence", "-O", "oops"], "ENGINE.KEY=VALUE"),
])
def test_sensitivity_user_errors(args, needle):
    res = run("sensitivity", *args)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
