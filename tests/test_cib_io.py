"""CIB model validation, .scw / CSV / YAML I/O, the CLI commands and the shipped Iraq matrix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from tawazun.cli.main import app
from tawazun.errors import InputError
from tawazun.scenarios import cib
from tawazun.scenarios import io as cio
from tawazun.scenarios.model import ScenariosSection, check, error_lines, to_arrays

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "cib"
REF = HERE / "reference" / "cib"  # see tests/reference/README.md
IRAQ = HERE.parent / "src" / "tawazun" / "data" / "iraq-2021.yaml"  # the shipped arena holds the matrix
runner = CliRunner()


def _ref(name: str) -> Path:
    path = REF / name
    if not path.exists():
        raise FileNotFoundError(f"shared reference {name} not available")
    return path


def _section(**over):
    base = {
        "descriptors": [
            {"id": "A", "names": {"en": "a"}, "variants": [{"id": "x", "label": "X"}, {"id": "y", "label": "Y"}]},
            {"id": "B", "names": {"en": "b"}, "variants": [{"id": "x", "label": "X"}, {"id": "y", "label": "Y"}]},
        ],
        "judgments": [
            {"source": "A.x", "target": "B.x", "value": 2, "rationale": "r", "evidence": [{"source": "s", "locator": "¶1"}]}
        ],
    }
    base.update(over)
    return base


def _problems(data) -> list[str]:
    with pytest.raises(ValidationError) as info:
        ScenariosSection.model_validate(data)
    return error_lines(info.value)


# ---------------------------------------------------------------- model


def test_valid_section_to_arrays():
    sec = ScenariosSection.model_validate(_section())
    arr = to_arrays(sec)
    assert arr.counts.tolist() == [2, 2] and arr.offsets.tolist() == [0, 2, 4]
    assert arr.matrix[0, 2] == 2 and arr.matrix.sum() == 2
    assert not arr.has_ranges
    assert arr.label([1, 0]) == {"A": "y", "B": "x"}
    assert check(sec, {"s"}) == []
    assert check(sec, {"seed"}) == ["judgments.0.evidence.0.source: unknown source 's'"]


@pytest.mark.parametrize(
    ("judgment", "expected"),
    [
        ({"source": "Q.x", "target": "B.x", "value": 1}, "judgments.0.source: unknown descriptor 'Q'"),
        ({"source": "A.x", "target": "B.z", "value": 1}, "judgments.0.target: unknown variant 'z' of descriptor 'B'"),
        ({"source": "A.x", "target": "A.y", "value": 1}, "judgments.0: same-descriptor judgment A.x -> A.y"),
        ({"source": "A.x", "target": "B.y", "value": 4}, "judgments.0.value: outside -3..+3"),
        ({"source": "A.x", "target": "B.y", "value": {"low": -4, "mode": 0, "high": 1}}, "judgments.0.value: outside -3..+3"),
        ({"source": "A.x", "target": "B.y", "value": {"low": 2, "mode": 0, "high": 1}}, "judgments.0.value: need low <= mode <= high"),
        ({"source": "A.x", "target": "B.y", "value": "big"}, "judgments.0.value: must be an integer or {low, mode, high}"),
        ({"source": "Ax", "target": "B.y", "value": 1}, "judgments.0.source: 'Ax' is not 'descriptor.variant'"),
    ],
)
def test_judgment_problems(judgment, expected):
    judgment = {"rationale": "r", "evidence": [{"source": "s", "locator": "l"}], **judgment}
    lines = _problems(_section(judgments=[judgment]))
    assert any(line.startswith(expected) for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_missing_rationale_and_evidence_and_duplicates():
    data = _section(
        judgments=[
            {"source": "A.x", "target": "B.x", "value": 1},
            {"source": "A.x", "target": "B.x", "value": 0},
            {"source": "A.y", "target": "B.x", "value": {"low": 0, "mode": 0, "high": 0}},
        ]
    )
    data["descriptors"].append({"id": "A", "names": {"en": "again"}, "variants": [{"id": "p", "label": "P"}, {"id": "p", "label": "Q"}]})
    lines = _problems(data)
    assert "judgments.0.rationale: missing (required for a non-zero judgment)" in lines
    assert "judgments.0.evidence: missing (required for a non-zero judgment)" in lines
    assert any(line.startswith("judgments.1: duplicate judgment A.x -> B.x") for line in lines)
    assert any(line.startswith("descriptors.2.id: duplicate descriptor id 'A'") for line in lines)
    assert any(line.startswith("descriptors.2.variants.1.id: duplicate variant id 'p'") for line in lines)
    assert not any(line.startswith("judgments.2.") for line in lines)  # zero needs no evidence


def test_scale_widens_the_value_range():
    data = _section(scale=6)
    data["judgments"][0]["value"] = -6
    assert to_arrays(ScenariosSection.model_validate(data)).matrix[0, 2] == -6


def test_nested_paths_are_prefixed():
    from pydantic import BaseModel

    class Holder(BaseModel):
        scenarios: ScenariosSection | None = None

    bad = _section(judgments=[{"source": "A.x", "target": "A.y", "value": 1, "rationale": "r", "evidence": [{"source": "s", "locator": "l"}]}])
    with pytest.raises(ValidationError) as info:
        Holder.model_validate({"scenarios": bad})
    assert error_lines(info.value)[0].startswith("scenarios.judgments.0: same-descriptor judgment")


# ---------------------------------------------------------------- ScenarioWizard


def test_read_scw_sample():
    data = cio.read_scw(_ref("CIB_global.scw"))
    sec = cio.section_from_dict(data)
    arr = to_arrays(sec)
    assert arr.descriptor_ids == ["WTRD", "WSEC", "WECO"]
    assert arr.variant_ids == [["FT", "Ntl", "Mix"], ["Rlx", "Mod", "Alrt"], ["Decl", "Stag", "ModGr", "RpdGr"]]
    assert sec.scale == 6  # the sample uses judgments up to |6|
    assert arr.matrix[0].tolist() == [0, 0, 0, 1, 2, -3, -4, -2, 3, 3]
    assert arr.matrix[9, 1] == -6
    ev = sec.judgments[0].evidence[0]
    assert ev.source == "import" and re.fullmatch(r"CIB_global\.scw:\d+", ev.locator)


def test_scw_round_trip_of_sample():
    sec = cio.section_from_dict(cio.read_scw(_ref("CIB_global.scw")))
    text = cio.write_scw(sec, "CIB_global.scw")
    again = cio.section_from_dict(cio.read_scw("again.scw", text))
    assert (to_arrays(again).matrix == to_arrays(sec).matrix).all()
    assert to_arrays(again).variant_ids == to_arrays(sec).variant_ids
    assert cio.write_scw(again, "CIB_global.scw") == text


def test_scw_round_trip_of_hand_case():
    sec = cio.section_from_dict(cio.read_cibcsv(FIX / "hand3.csv"))
    text = cio.write_scw(sec, "hand3.scw")
    again = cio.section_from_dict(cio.read_scw("hand3.scw", text))
    assert (to_arrays(again).matrix == to_arrays(sec).matrix).all()
    assert [d.id for d in again.descriptors] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello\n", r"x\.scw:1: not a ScenarioWizard project"),
        ("$ ScenarioWizard 4.0\nx\n&A\n -a\n -b\n&B\n -c\n -d\n#\n", r"x\.scw:\d+: file ends before the cross-impact matrix"),
        ("$ ScenarioWizard 4.0\nx\n -a\n#\n#\n#\n#\n#\n#\n", r"x\.scw:3: variant before any descriptor"),
        ("$ ScenarioWizard 4.0\nx\n&A\n -a\n&B\n -c\n -d\n#\n#\n#\n#\n#\n#\n", r"x\.scw:3: descriptor 'A' has fewer than two variants"),
    ],
)
def test_malformed_scw(text, expected):
    with pytest.raises(InputError) as info:
        cio.read_scw("x.scw", text)
    assert re.match(expected, info.value.lines[0]), info.value.lines


def _scw_with_matrix(rows: list[str]) -> str:
    head = "$ ScenarioWizard 4.0\nx\n&A\n -a1\n -a2\n&B\n -b1\n -b2\n#\n&\n \n \n&\n \n \n#\n#\nFFFFFF\nFFFFFF\nFFFFFF\nFFFFFF\n#\n#\n"
    return head + "\n".join(rows) + "\n#\n"


def test_malformed_scw_matrix():
    ok = ["0,0,1,-1", "0,0,0,0", "2,0,0,0", "0,0,0,0"]
    data = cio.read_scw("x.scw", _scw_with_matrix(ok))
    assert len(data["judgments"]) == 3
    with pytest.raises(InputError) as info:
        cio.read_scw("x.scw", _scw_with_matrix(["0,0,1,-1", "0,0,0", "2,0,0,0", "0,0,0,0"]))
    assert info.value.lines == ["x.scw:25: expected 4 comma-separated values, found 3"]
    with pytest.raises(InputError) as info:
        cio.read_scw("x.scw", _scw_with_matrix(["0,0,1,-1", "0,0,0,0", "2,0,0,q", "0,0,0,0"]))
    assert info.value.lines == ["x.scw:26: value 4: 'q' is not an integer"]
    with pytest.raises(InputError) as info:
        cio.read_scw("x.scw", _scw_with_matrix(["0,1,1,-1", "0,0,0,0", "2,0,0,0", "0,0,0,0"]))
    assert info.value.lines == ["x.scw:24: value 2: non-zero judgment inside descriptor 'A''s own block"]
    with pytest.raises(InputError) as info:
        cio.read_scw("x.scw", _scw_with_matrix(ok[:3]))
    assert info.value.lines[0].startswith("x.scw:26: expected 4 matrix rows")


# ---------------------------------------------------------------- CSV


def test_csv_short_labels_and_round_trip(tmp_path):
    sec = cio.section_from_dict(cio.read_cibcsv(FIX / "hand3.csv"))
    text = cio.write_cibcsv(sec)
    assert text.splitlines()[0] == "source\\target,A.1,A.2,B.1,B.2,C.1,C.2"
    again = cio.section_from_dict(cio.read_cibcsv("x.csv", text))
    assert again.model_dump() == sec.model_dump() or (to_arrays(again).matrix == to_arrays(sec).matrix).all()
    assert cio.write_cibcsv(again) == text
    short = "s\\t,A1,A2,B1,B2\nA1,0,0,1,\nA2,0,0,,-2\nB1,3,0,0,0\nB2,0,0,0,0\n"
    arr = to_arrays(cio.section_from_dict(cio.read_cibcsv("s.csv", short)))
    assert arr.descriptor_ids == ["A", "B"] and arr.variant_ids == [["1", "2"], ["1", "2"]]
    assert arr.matrix[1, 3] == -2 and arr.matrix[2, 0] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "x.csv:1: empty file"),
        ("s,A1\n", "x.csv:1: header needs a corner cell and at least two variant labels"),
        ("s,A1,B1,A2,B2\n", "x.csv:1: column 4: variants of descriptor 'A' are not adjacent"),
        ("s,A1,A2,B1,??\n", "x.csv:1: column 5: label '??' is neither 'descriptor.variant' nor like 'A1'"),
        ("s,A1,A2,B1,B2\nA1,0,0,1,1\n", "x.csv:2: expected 4 matrix rows (one per variant), found 1"),
        ("s,A1,A2,B1,B2\nA1,0,0,1,1\nB1,0,0,0,0\nA2,0,0,0,0\nB2,0,0,0,0\n", "x.csv:3: row label 'B1' should be 'A2' (rows follow the header's order)"),
        ("s,A1,A2,B1,B2\nA1,0,0,1,x\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n", "x.csv:2: column 5 (B2): 'x' is not an integer"),
        ("s,A1,A2,B1,B2\nA1,0,2,1,1\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n", "x.csv:2: column 3 (A2): non-zero judgment inside descriptor 'A''s own block"),
        ("s,A1,A2,B1,B2\nA1,0,0,1\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n", "x.csv:2: expected 4 values, found 3"),
        ("s,A1,A2,B1\nA1,0,0,1\nA2,0,0,0\nB1,0,0,0\n", "x.csv:1: descriptor 'B' has fewer than two variants"),
    ],
)
def test_malformed_csv(text, expected):
    with pytest.raises(InputError) as info:
        cio.read_cibcsv("x.csv", text)
    assert info.value.lines == [expected]


def test_csv_values_beyond_three_widen_scale():
    text = "s,A1,A2,B1,B2\nA1,0,0,5,0\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n"
    sec = cio.section_from_dict(cio.read_cibcsv("x.csv", text))
    assert sec.scale == 5


# ---------------------------------------------------------------- YAML


def test_yaml_round_trip(tmp_path):
    sec, sources = cio.read_yaml(FIX / "hand3_ranges.yaml")
    assert sources == ["analyst"]
    out = tmp_path / "s.yaml"
    out.write_text(cio.section_yaml(sec, [{"id": "analyst", "title": "Analyst judgement"}]))
    again, src2 = cio.read_yaml(out)
    assert again.model_dump() == sec.model_dump()
    assert src2 == ["analyst"]
    arr = to_arrays(again)
    assert arr.low[0, 2] == -1 and arr.matrix[0, 2] == 2 and arr.high[0, 2] == 3


def test_yaml_errors_carry_file_and_line(tmp_path):
    text = (FIX / "hand3_ranges.yaml").read_text()
    bad = text.replace("{source: B.2, target: C.2, value: 2,", "{source: B.2, target: B.1, value: 2,")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(InputError) as info:
        cio.read_yaml(path)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "target: B.1, value: 2" in t)
    assert info.value.lines == [f"{path}:{line}: scenarios.judgments.7: same-descriptor judgment B.2 -> B.1 (must be between different descriptors)"]
    path.write_text(text.replace("source: analyst, locator", "source: nobody, locator", 1))
    with pytest.raises(InputError) as info:
        cio.read_yaml(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: scenarios\.judgments\.0\.evidence\.0\.source: unknown source 'nobody'", info.value.lines[0])
    path.write_text("sources: []\n")
    with pytest.raises(InputError, match="scenarios: missing"):
        cio.read_yaml(path)
    path.write_text("scenarios: [\n")
    with pytest.raises(InputError, match=r"bad\.yaml:\d+: not valid YAML"):
        cio.read_yaml(path)


# ---------------------------------------------------------------- CLI


def test_cli_scenarios_json(tmp_path):
    res = runner.invoke(app, ["scenarios", str(FIX / "hand3.csv"), "--json", "-", "--succession", "global"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert set(payload) == {"descriptors", "scenarios", "evaluated", "method", "complete", "succession"}
    assert payload["complete"] is True and payload["method"] in ("static", "prop")
    assert payload["descriptors"][0] == {"id": "A", "variants": ["1", "2"]}
    assert payload["scenarios"] == [
        {"variants": {"A": "1", "B": "1", "C": "1"}, "inconsistency": 0, "tis": 4, "consistency": 2},
        {"variants": {"A": "2", "B": "2", "C": "2"}, "inconsistency": 0, "tis": 4, "consistency": 2},
    ]
    assert isinstance(payload["evaluated"], int) and payload["evaluated"] > 0
    kinds = [a["kind"] for a in payload["succession"]["attractors"]]
    assert kinds == ["fixed point", "fixed point", "cycle", "cycle"]


def test_cli_scenarios_ensemble_and_table(tmp_path):
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["scenarios", str(FIX / "hand3_ranges.yaml"), "--draws", "20", "--seed", "1", "--json", str(out), "-k", "2"])
    assert res.exit_code == 0, res.output
    assert "IC" in res.stdout and "freq" in res.stdout
    payload = json.loads(out.read_text())
    assert all("frequency" in s for s in payload["scenarios"])
    assert payload["scenarios"][0]["frequency"] == 1.0


def test_cli_import_export(tmp_path):
    y = tmp_path / "m.yaml"
    res = runner.invoke(app, ["import", "cibcsv", str(FIX / "hand3.csv"), "-o", str(y)])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(y.read_text())
    assert set(doc) == {"sources", "scenarios"} and doc["sources"][0]["id"] == "import"
    scw = tmp_path / "m.scw"
    assert runner.invoke(app, ["export", "scw", str(y), "-o", str(scw)]).exit_code == 0
    y2 = tmp_path / "m2.yaml"
    assert runner.invoke(app, ["import", "scw", str(scw), "-o", str(y2)]).exit_code == 0
    csv_out = tmp_path / "m.csv"
    assert runner.invoke(app, ["export", "cibcsv", str(y2), "-o", str(csv_out)]).exit_code == 0
    assert csv_out.read_text() == cio.write_cibcsv(cio.section_from_dict(cio.read_cibcsv(FIX / "hand3.csv")))


def test_cli_max_seconds_marks_a_long_search_incomplete(tmp_path):
    rng = np.random.default_rng(4)
    labels = [f"d{i}.v{j}" for i in range(40) for j in range(3)]
    c = rng.integers(-3, 4, size=(120, 120))
    for i in range(40):
        c[3 * i : 3 * i + 3, 3 * i : 3 * i + 3] = 0
    big = tmp_path / "dense40.csv"
    big.write_text("source\\target," + ",".join(labels) + "\n"
                   + "".join(lab + "," + ",".join(map(str, row)) + "\n" for lab, row in zip(labels, c)))
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["scenarios", str(big), "--max-seconds", "0.5", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Knuth's estimate" in res.stderr  # a 10^19 space is announced before it starts
    assert "warning: search stopped after 0.5 s" in res.stderr
    payload = json.loads(out.read_text())
    assert payload["complete"] is False and payload["method"] == "static" and payload["evaluated"] > 0


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("s,A1,A2,B1,B2\nA1,0,0,1,x\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n")
    res = runner.invoke(app, ["scenarios", str(bad)])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"{bad}:2: column 5 (B2): 'x' is not an integer"
    res = runner.invoke(app, ["scenarios", str(tmp_path / "nope.scw")])
    assert res.exit_code == 2 and "no such file" in res.stderr
    other = tmp_path / "m.txt"
    other.write_text("x")
    assert runner.invoke(app, ["scenarios", str(other)]).exit_code == 2


# ---------------------------------------------------------------- the shipped Iraq-2021 matrix


def test_iraq_matrix_is_valid_and_cited():
    sec, _ = cio.read_yaml(IRAQ)
    assert 8 <= len(sec.descriptors) <= 12
    assert all(2 <= len(d.variants) <= 4 for d in sec.descriptors)
    assert check(sec, {"seed", "analyst"}) == []
    for j in sec.judgments:
        for ev in j.evidence:
            if ev.source == "seed":
                assert re.fullmatch(r"¶([1-9]|1[0-4])", ev.locator), ev.locator
            else:
                assert ev.locator == "judgement"
    doc = (HERE.parent / "docs" / "arenas" / "iraq-2021.md").read_text()
    for d in sec.descriptors:
        assert f"`{d.id}`" in doc


def test_iraq_matrix_yields_a_handful_of_futures():
    sec, _ = cio.read_yaml(IRAQ)
    arr = to_arrays(sec)
    res = cib.enumerate_scenarios(arr.matrix, arr.counts)
    assert 2 <= len(res.scenarios) <= 6
    brute = cib.brute_force(arr.matrix, arr.counts)
    assert (brute == res.scenarios).all()
    labels = [arr.label(s) for s in res.scenarios]
    # the analyst's conditionals hold in every consistent future: ¶11 (a managed balance
    # gives fragile security, with or without staged chaos; failure gives collapse, "inevitably")
    # and ¶14 (a boycott that holds brings protest back strongly)
    for lab in labels:
        if lab["armed-balance"] == "managed":
            assert lab["security"] in ("fragile-stability", "intimidation")
        else:
            assert lab["security"] == "collapse"
        if lab["boycott"] == "holds":
            assert lab["protest"] == "strong-return"
    assert any(lab["security"] == "collapse" for lab in labels)
    assert np.all(res.scores.inconsistency == 0)


def test_cli_experts_ensemble(tmp_path):
    flipped = tmp_path / "expert2.csv"
    rows = (FIX / "hand3.csv").read_text().splitlines()
    # the second expert reads C's effect on A the other way round: no consistent scenario
    rows[5] = "C.1,-1,1,0,0,0,0"
    rows[6] = "C.2,1,-1,0,0,0,0"
    flipped.write_text("\n".join(rows) + "\n")
    res = runner.invoke(app, ["scenarios", str(FIX / "hand3.csv"), "--expert", str(flipped), "--json", "-"])
    assert res.exit_code == 0, res.output
    freqs = [s["frequency"] for s in json.loads(res.stdout)["scenarios"]]
    assert freqs == [0.5, 0.5]
    other = tmp_path / "other.csv"
    other.write_text("s,A1,A2,B1,B2\nA1,0,0,1,0\nA2,0,0,0,0\nB1,0,0,0,0\nB2,0,0,0,0\n")
    res = runner.invoke(app, ["scenarios", str(FIX / "hand3.csv"), "--expert", str(other)])
    assert res.exit_code == 2 and "differ from the main matrix" in res.stderr


@pytest.mark.parametrize("seconds, text", [(5, "5 s"), (7200, "2.0 h"), (4e5, "4.6 days"), (4e6, "46 days"), (1e9, "32 years")])
def test_progress_states_durations_in_readable_units(seconds, text):
    from tawazun.cli.scenario_cmds import _duration

    assert _duration(seconds) == text
