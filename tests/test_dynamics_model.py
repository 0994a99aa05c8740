"""The arena's dynamics section: every problem reported as file:line: field.path: message."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tawazun.arena import load_arena
from tawazun.cli.main import app
from tawazun.dynamics.model import DynamicsSection, check_section, process_order, parse
from tawazun.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "dynamics" / "balance.yaml"


def _problems(tmp_path: Path, old: str, new: str) -> list[str]:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text, old
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_arena(bad)
    lines = exc.value.lines
    assert all(line.startswith(f"{bad}:") for line in lines)
    return lines


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_fixture_is_valid_and_parses():
    arena = load_arena(FIXTURE)
    sec = parse(arena.dynamics)
    assert [s.id for s in sec.states] == ["legitimacy", "balance"]
    assert sec.regimes[0].for_ == 3 and sec.regimes[0].absorbing
    # protests are driven by attacks in the same step: attacks must run first
    assert process_order(sec) == ["attacks", "protests"]


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("{from: presence, to: attacks,", "{from: presense, to: attacks,",
         "dynamics.couplings[0].from", "unknown variable 'presense'"),
        ("{from: management, to: balance,", "{from: management, to: management,",
         "dynamics.couplings[2].to", "is a covariate"),
        ("baseline: {low: 1.0, mode: 2.0, high: 3.0}", "baseline: {low: -1.0, mode: 2.0, high: 3.0}",
         "dynamics.processes[0].baseline", "a rate cannot be negative"),
        ("excitation: {low: 0.2, mode: 0.4, high: 0.5}", "excitation: {low: 0.2, mode: 0.4, high: 0.9}",
         "dynamics.processes[0].excitation", "branching ratio"),
        ("below: 0.25", "below: 1.25", "dynamics.regimes[0].below", "outside state 'balance'"),
        ("state: balance, below", "state: hold, below", "dynamics.regimes[0].state", "unknown state 'hold'"),
        ("legitimacy: legitimacy\n", "legitimacy: balanse\n", "dynamics.processes[1].legitimacy", "unknown state"),
        ("step: month", "step: day", "dynamics.step", "'week' or 'month'"),
        ("initial: 0.5", "initial: {low: 0.6, mode: 0.5, high: 0.7}", "dynamics.states[1].initial", "low <= mode <= high"),
        ("persistence: 0.9\n      noise: {", "persistence: 1.5\n      noise: {", "dynamics.states[1].persistence", "[0, 1]"),
        ("ticks: 3", "tick: 3", "dynamics.processes[1].tick", "unknown field"),
        ("issue: presence\n", "issue: presense\n", "dynamics.covariates[0].issue", "unknown issue 'presense'"),
        ('locator: "¶3"}]\n  states', 'locator: "¶3"}, {source: nope}]\n  states',
         "dynamics.covariates[1].evidence[1].source", "unknown source 'nope'"),
    ],
)
def test_one_line_per_problem(tmp_path: Path, old: str, new: str, path: str, message: str):
    lines = _problems(tmp_path, old, new)
    assert len(lines) == 1, lines
    _, line_no, field, msg = lines[0].split(":", 3)
    assert field.strip() == path and message in msg
    assert int(line_no) == _line_of(tmp_path / "bad.yaml", new.split("\n")[0].strip()[:20]) or path.endswith(("for", "world"))


def test_cycle_between_processes_is_reported(tmp_path: Path):
    cyc = "    - {from: protests, to: attacks, weight: 0.1, evidence: [{source: memo}]}\n  regimes:"
    lines = _problems(tmp_path, "  regimes:", cyc)
    assert len(lines) == 1 and "dynamics.couplings: processes drive each other in a cycle" in lines[0]


def test_several_problems_at_once_and_other_sections_still_checked(tmp_path: Path):
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace("below: 0.25", "below: 7").replace("position: 0,", "position: 1000,")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_arena(bad)
    joined = "\n".join(exc.value.lines)
    assert "dynamics.regimes[0].below" in joined and "stances[1].position" in joined


def test_validate_cli_exit_2_no_traceback(tmp_path: Path):
    text = FIXTURE.read_text(encoding="utf-8").replace("kind: hawkes", "kind: hawks")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.stderr.strip().count("\n") == 0 and "dynamics.processes[0].kind" in res.stderr


def test_check_section_on_raw_values():
    assert check_section(5, []) == [((), "expected a mapping")]
    assert DynamicsSection().horizon == 12
    probs = check_section({"regimes": [{"id": "a", "otherwise": True, "evidence": [{"source": "m"}]},
                                       {"id": "b", "otherwise": True, "evidence": [{"source": "m"}]}]}, ["m"])
    assert probs == [(("regimes",), "at most one `otherwise` regime")]
