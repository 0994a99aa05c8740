"""KTAB CSV import/export: round trips, the arena it makes, errors, and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tawazun.arena import load_arena, parse_arena_text
from tawazun.arena.compile import ranged_problem
from tawazun.arena.ktab import ktab_csv_text, read_ktab_csv, write_ktab_csv
from tawazun.cli.main import app
from tawazun.errors import InputError

KTAB_DIR = Path(__file__).resolve().parent / "reference" / "ktab-smp"  # see tests/reference/README.md
AS_OF = "2026-11-29"

SMALL = """Three actors,A made-up case for tests,3,2,
Actor,Description,Power,Economy,Sal1,Security,Sal2,
Gov,Government,100,30,40,70,50,
Opp,Opposition party,60,80,55,20,30,
Mil,Armed forces,75.5,50.25,10,90,85,
"""


def _write(tmp_path: Path, text: str, name: str = "case.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _shared(stem: str) -> Path:
    p = KTAB_DIR / f"{stem}.csv"
    if not p.exists():
        raise FileNotFoundError(f"KTAB reference data not available at {KTAB_DIR}")
    return p


def test_read_small_case(tmp_path):
    arena = read_ktab_csv(_write(tmp_path, SMALL), as_of=AS_OF)
    assert arena["format"] == "tawazun-arena/1"
    assert arena["arena"]["id"] == "case" and arena["arena"]["salience_scale"] == "percent"
    assert [i["id"] for i in arena["issues"]] == ["Economy", "Security"]
    assert all(i["scale"] == {"min": 0.0, "max": 100.0} for i in arena["issues"])
    assert arena["spaces"][0]["issues"] == ["Economy", "Security"]
    mil = next(a for a in arena["actors"] if a["id"] == "Mil")
    assert mil["capability"] == 75.5 and mil["names"]["en"] == "Armed forces"
    st = next(s for s in arena["stances"] if s["actor"] == "Mil" and s["issue"] == "Economy")
    assert st["position"] == 50.25 and st["salience"] == 10.0
    assert st["evidence"] == [{"source": "case", "locator": "row 5"}]
    # The dict is a valid arena once written as YAML.
    loaded = parse_arena_text(yaml.safe_dump(arena, allow_unicode=True, sort_keys=False), "case.yaml")
    assert len(loaded.stances) == 6


def test_one_dimension_has_no_space(tmp_path):
    text = "One,d,2,1,\nActor,Desc,Power,Pos,Sal,\nA,a,1,10,50,\nB,b,2,90,50,\n"
    arena = read_ktab_csv(_write(tmp_path, text), as_of=AS_OF)
    assert "spaces" not in arena and len(arena["issues"]) == 1


@pytest.mark.parametrize("stem", ["SOE-Policy", "dummyData_3Dim"])
def test_round_trip_shared_files(tmp_path, stem):
    first = read_ktab_csv(_shared(stem), as_of=AS_OF)
    out = tmp_path / f"{stem}.csv"
    write_ktab_csv(first, out)
    second = read_ktab_csv(out, as_of=AS_OF)
    assert first == second
    # And the written numbers are the file's numbers.
    again = tmp_path / "again" / f"{stem}.csv"
    write_ktab_csv(second, again)
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_round_trip_small_case_via_arena_object(tmp_path):
    first = read_ktab_csv(_write(tmp_path, SMALL), as_of=AS_OF)
    arena = parse_arena_text(yaml.safe_dump(first, sort_keys=False), "case.yaml")
    out = tmp_path / "out" / "case.csv"
    write_ktab_csv(arena, out)
    assert read_ktab_csv(out, as_of=AS_OF) == first


def test_imported_soe_policy_reproduces_ktab_through_the_arena():
    arena = parse_arena_text(yaml.safe_dump(read_ktab_csv(_shared("SOE-Policy"), as_of=AS_OF)),
                             "soe.yaml")
    from tawazun.engines import get_engine

    res = get_engine("smp").run(ranged_problem(arena, arena.issues[0].id).point())
    assert int(res.diagnostics["turns"][0]) == 19
    assert res.trajectory[0, -1, 0, 0] == pytest.approx(38.73, abs=0.01)


def test_export_maps_scales_ranges_and_missing_stances():
    doc = {
        "format": "tawazun-arena/1",
        "arena": {"id": "t", "title": "T", "as_of": "2021-07-31", "salience_scale": "unit"},
        "sources": [{"id": "s", "title": "S"}],
        "actors": [
            {"id": "a", "names": {"en": "Actor A"}, "kind": "state", "capability": 0.8},
            {"id": "b", "names": {"en": "Actor B"}, "kind": "party",
             "capability": {"low": 0.1, "mode": 0.3, "high": 0.5}},
        ],
        "issues": [
            {"id": "x", "title": "X", "scale": {"min": -10, "max": 10}, "status_quo": 5},
            {"id": "y", "title": "Y", "scale": {"min": 0, "max": 1}},
        ],
        "spaces": [{"id": "xy", "issues": ["x", "y"]}],
        "stances": [
            {"actor": "a", "issue": "x", "position": {"low": -6, "mode": -5, "high": 0},
             "salience": 0.4, "evidence": [{"source": "s"}]},
            {"actor": "a", "issue": "y", "position": 0.25, "salience": 0.5,
             "evidence": [{"source": "s"}]},
            {"actor": "b", "issue": "x", "position": 10, "salience": 0.9,
             "capability": 0.6, "evidence": [{"source": "s"}]},
        ],
    }
    lines = ktab_csv_text(doc).splitlines()
    assert lines[0] == "T,,2,2,"
    assert lines[2] == "a,Actor A,0.8,25,40,25,50,"
    # b: stance capability override; no stance on y -> midpoint (0.5 -> 50) with salience 0.
    assert lines[3] == "b,Actor B,0.6,100,90,50,0,"


def test_export_needs_a_unit_when_ambiguous():
    doc = yaml.safe_load(SMALL_ARENA)
    with pytest.raises(InputError, match="--unit"):
        ktab_csv_text(doc)
    assert ktab_csv_text(doc, unit="p").splitlines()[0].endswith(",2,1,")
    with pytest.raises(InputError, match="unknown issue or space"):
        ktab_csv_text(doc, unit="nope")


SMALL_ARENA = """
format: tawazun-arena/1
arena: {id: t, title: T, as_of: 2021-07-31}
sources: [{id: s, title: S}]
actors:
  - {id: a, names: {en: A}, kind: state, capability: 1}
  - {id: b, names: {en: B}, kind: state, capability: 2}
issues:
  - {id: p, title: P, scale: {min: 0, max: 100}}
  - {id: q, title: Q, scale: {min: 0, max: 100}}
stances:
  - {actor: a, issue: p, position: 10, salience: 0.5, evidence: [{source: s}]}
  - {actor: b, issue: p, position: 60, salience: 0.5, evidence: [{source: s}]}
  - {actor: b, issue: q, position: 60, salience: 0.5, evidence: [{source: s}]}
"""


@pytest.mark.parametrize("text, expected", [
    ("", ":1: (file): a KTAB CSV needs"),
    ("name,desc,3\nActor,D,P,X,S,\n", ":1: scenario: expected name, description, actors, dimensions"),
    ("n,d,two,1,\nActor,D,P,X,S,\nA,a,1,2,3,\n", ":1: actors: not a whole number: 'two'"),
    ("n,d,1,2,\nActor,D,P,X,S,\nA,a,1,2,3,\n", ":2: header: expected 7 columns"),
    ("n,d,1,1,\nActor,D,P,X,S,\nA,a,-1,2,3,\n", ":3: P: -1 outside >= 0"),
    ("n,d,1,1,\nActor,D,P,X,S,\nA,a,1,101,3,\n", ":3: X: 101 outside [0, 100]"),
    ("n,d,1,1,\nActor,D,P,X,S,\nA,a,1,50,x,\n", ":3: S: not a number: 'x'"),
    ("n,d,1,2,\nActor,D,P,X,S,Y,T,\nA,a,1,50,60,50,50,\n", ":3: T: saliences sum to 110 > 100"),
    ("n,d,2,1,\nActor,D,P,X,S,\nA,a,1,50,60,\nA,b,1,50,60,\n", ":4: Actor: duplicate actor 'A'"),
    ("n,d,3,1,\nActor,D,P,X,S,\nA,a,1,50,60,\n", ":3: actors: line 1 declares 3 actor(s), the file has 1"),
    ("n,d,1,1,\nActor,D,P,X,S,\nA,a,1,50,\n", ":3: (row): expected 5 fields, got 4"),
])
def test_bad_csv_errors(tmp_path, text, expected):
    p = _write(tmp_path, text, "bad.csv")
    with pytest.raises(InputError) as exc:
        read_ktab_csv(p)
    assert any(line.startswith(str(p)) and expected in line for line in exc.value.lines), exc.value.lines


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_ktab_csv(tmp_path / "none.csv")


def test_cli_import_export(tmp_path):
    src = _write(tmp_path, SMALL)
    runner = CliRunner()
    out_yaml = tmp_path / "arena.yaml"
    r = runner.invoke(app, ["import", "ktab", str(src), "-o", str(out_yaml), "--as-of", AS_OF])
    assert r.exit_code == 0, r.output
    arena = load_arena(out_yaml)
    assert len(arena.actors) == 3 and arena.spaces[0].issues == ["Economy", "Security"]
    out_csv = tmp_path / "back.csv"
    r = runner.invoke(app, ["export", "ktab", str(out_yaml), "-o", str(out_csv)])
    assert r.exit_code == 0, r.output
    back = read_ktab_csv(out_csv, as_of=AS_OF)
    first = read_ktab_csv(src, as_of=AS_OF)
    # Same content; only the file stem (arena id, source id) differs.
    assert back["stances"] == [
        {**s, "evidence": [{"source": "back", "locator": s["evidence"][0]["locator"]}]}
        for s in first["stances"]
    ]
    assert np.isclose([a["capability"] for a in back["actors"]],
                      [a["capability"] for a in first["actors"]]).all()


def test_cli_bad_file_exit_2(tmp_path):
    p = _write(tmp_path, "n,d,1,1,\nActor,D,P,X,S,\nA,a,1,500,3,\n", "bad.csv")
    r = CliRunner().invoke(app, ["import", "ktab", str(p)])
    assert r.exit_code == 2
    assert "bad.csv:3: X: 500 outside [0, 100]" in r.output
    assert not (tmp_path / "bad.yaml").exists()
