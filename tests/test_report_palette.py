"""The one palette and the label geometry of the charts (tawazun.report.palette, .labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tawazun.forecast import result_label
from tawazun.report import labels, palette

names = st.text(st.characters(min_codepoint=33, max_codepoint=0x6FF, blacklist_characters="()"),
                min_size=1, max_size=20)


@given(names, names, st.booleans())
def test_result_labels_take_their_engines_colour(engine: str, unit: str, joint: bool) -> None:
    label = result_label(engine, unit, joint)
    assert palette.engine_of(label) == engine
    assert palette.colour(label) == palette.colour(engine)


def test_engine_colours_are_distinct_and_fixed() -> None:
    fixed = [palette.colour(e) for e in ("compromise", "median", "bdm", "smp", "nash", "status quo", "outcome")]
    assert len(set(fixed)) == len(fixed)
    assert palette.colour("smp (joint: iraq-deal)") == palette.ENGINE_COLOURS["smp"] == "#D55E00"
    # an unknown engine: the same colour every time (a stable hash, not Python's salted hash())
    assert palette.colour("ktab-xyz") == palette.colour("ktab-xyz (joint: s)") in palette.FALLBACK
    assert palette.tint("#000000", 0.5) == "#808080" and palette.tint("#D55E00", 0.0) == "#D55E00"


boxes = st.lists(st.tuples(st.floats(0, 600), st.floats(0, 300), st.floats(8, 90), st.floats(8, 30)),
                 min_size=1, max_size=14)


@settings(deadline=None, max_examples=40)  # each call places up to 14 labels on a 36k-spot grid
@given(boxes)
def test_placed_labels_stay_inside_and_apart_when_there_is_room(spec) -> None:
    points = np.array([[x, y] for x, y, _w, _h in spec])
    sizes = [(w, h) for _x, _y, w, h in spec]
    area = (-200.0, -200.0, 800.0, 500.0)  # room for every label
    offsets = labels.place_labels(points, np.full(len(spec), 4.0), sizes, area, list(range(len(spec))))
    placed = []
    for (px, py), (dx, dy), (w, h) in zip(points, offsets, sizes):
        box = (px + dx - w / 2, py + dy - h / 2, px + dx + w / 2, py + dy + h / 2)
        assert area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]
        for other in placed:
            assert min(box[2], other[2]) - max(box[0], other[0]) <= 0 or min(box[3], other[3]) - max(box[1], other[1]) <= 0
        placed.append(box)
    # deterministic
    assert offsets == labels.place_labels(points, np.full(len(spec), 4.0), sizes, area, list(range(len(spec))))


@given(st.lists(st.tuples(st.floats(0, 400), st.floats(5, 30)), min_size=1, max_size=12))
def test_spread_separates_end_labels(spec) -> None:
    centres, heights = [c for c, _h in spec], [h for _c, h in spec]
    ys = labels.spread(centres, heights, 0.0, 400.0, gap=2.0)
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    for a, b in zip(order, order[1:]):
        assert ys[b] - ys[a] >= (heights[a] + heights[b]) / 2 + 2.0 - 1e-9
    if sum(heights) + 2.0 * len(heights) <= 400.0:  # when they fit, they stay inside
        assert all(y - h / 2 >= -1e-9 and y + h / 2 <= 400.0 + 1e-9 for y, h in zip(ys, heights))


def test_lanes_and_names() -> None:
    assert labels.lanes([(0, 50), (40, 90), (60, 120), (100, 130)], gap=6) == [0, 1, 0, 1]
    assert labels.short_name("Government of Iraq (PM Mustafa al-Kadhimi)") == "Government of Iraq"
    assert labels.plotly_text(["ألفا", "a<b"]) == "\u2067ألفا\u2069<br>a&lt;b"
    assert labels.input_display("us-gov.salience", {"us-gov": "United States (Biden administration)"}) \
        == "United States · salience"
    assert labels.input_display("x.position", None) == "x.position"
    with pytest.raises(ValueError, match="lang: expected en or ar"):
        labels.check_lang("fr")


def test_figures_name_actors_and_highlight_top_movers() -> None:
    from tawazun.arena import load_arena
    from tawazun.report.figures import actor_map, top_movers, trajectory_figure

    arena = load_arena()
    issue = arena.issue("us-presence")
    actors = ["iran", "fatah", "resistance"]
    fig = actor_map(arena, issue, actors, np.array([5.0, 15.0, 0.0]), np.array([0.6, 0.4, 0.3]),
                    np.array([0.6, 0.45, 0.85]), lang="ar", forecasts={"smp (joint: iraq-deal)": 54.1})
    texts = [a.text for a in fig.layout.annotations]
    assert any("الجمهورية الإسلامية" in t for t in texts) and not any(a in " ".join(texts) for a in actors)
    assert fig.data[1].marker.color == palette.ENGINE_COLOURS["smp"]
    # 7 actors, 3 rounds: the five that get farthest from their start, most first; still ones left out
    traj = np.zeros((3, 7, 1))
    traj[:, :, 0] = [[0, 0, 0, 0, 0, 0, 0], [10, 0, 50, 5, 20, 30, 0], [0, 0, 40, 5, 25, 1, 0]]
    assert top_movers(traj) == [2, 5, 4, 0, 3]
    tf = trajectory_figure(issue, "bdm", [a.id for a in arena.actors[:7]], traj, arena=arena,
                           median=np.array([0.0, 10.0, 20.0]))
    coloured = [t for t in tf.data if t.line.color != palette.ACTOR_MUTED]
    assert [t.name for t in coloured][-1] == "bdm forecast" and len(coloured) == 6
    assert coloured[-1].line.color == palette.ENGINE_COLOURS["bdm"]


def test_web_overview_uses_the_palette() -> None:
    from tawazun.arena import load_arena
    from tawazun.web.figures import overview_figure

    arena = load_arena()
    rows = {("us-presence", "smp (joint: iraq-deal)"): {"value": 54.1, "q10": 41.8, "q90": 67.2, "nearest": None},
            ("us-presence", "bdm"): {"value": 70.0, "q10": None, "q90": None, "nearest": None}}
    fig = overview_figure(arena, [(lab, rows, lab) for lab in ("smp (joint: iraq-deal)", "bdm")])
    for t in fig.data:
        colour = t.marker.color
        assert colour == palette.colour(t.legendgroup), t.name


def test_cli_lang_ar_names_actors_in_arabic(tiny_arena_path: Path, tmp_path: Path) -> None:
    from tawazun.cli.main import app

    def chart_label(lang: str) -> bool:
        out = tmp_path / lang
        res = CliRunner().invoke(app, ["forecast", str(tiny_arena_path), "--out", str(out), "-e", "compromise",
                                       "--draws", "0", "--lang", lang], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        html = (out / "report.html").read_text(encoding="utf-8")
        # Plotly's JSON writes non-ASCII text as \uXXXX escapes
        return r"\u2067\u0623\u0644\u0641\u0627\u2069" in html or "\u2067ألفا\u2069" in html

    assert chart_label("ar") and not chart_label("en")
