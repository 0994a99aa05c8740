"""The report's charts in a real browser (Debian's chromium; never a downloaded one).

A report of the shipped arena (50 draws, Sobol N = 8) is opened in chromium, in English and in Arabic, and
checked from what the browser drew: every engine has its palette colour in every figure
(read from each figure's data in the page), no text leaves its figure and no trace text
leaves its plot area, no two labels of an actor map or of a trajectory chart overlap, and
actors are named, never shown by id. Set TAWAZUN_SCREENSHOTS=DIR to keep the screenshots of
docs/report.md (report-actor-map.png, report-actor-map-ar.png, report-distribution.png,
report-trajectory.png) in DIR (e.g. docs/img).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tawazun.report import palette

from browser_support import ARGS, BROWSER_MARKS, CHROMIUM  # noqa: E402,F401

pytestmark = BROWSER_MARKS

# What the browser drew, per figure: trace colours, named shapes, and the boxes of every text.
COLLECT = """() => {
  const figs = [];
  for (const gd of document.querySelectorAll('.plotly-graph-div')) {
    const svg = gd.querySelector('.main-svg').getBoundingClientRect();
    const s = gd._fullLayout._size;
    const plot = {x0: svg.left + s.l, y0: svg.top + s.t, x1: svg.left + s.l + s.w, y1: svg.top + s.t + s.h};
    const box = (el) => { const r = el.getBoundingClientRect();
      return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom, w: r.width, h: r.height}; };
    const texts = [];
    const add = (kind, sel) => gd.querySelectorAll(sel).forEach((el) => {
      const b = box(el);
      if (b.w > 0 && b.h > 0) texts.push({kind, text: el.textContent, ...b});
    });
    add('textpoint', '.textpoint text');
    add('annotation', '.annotation-text-g');
    add('tick', '.xtick text, .ytick text');
    add('title', '.gtitle');
    add('legend', '.legendtext');
    figs.push({
      id: gd.id,
      svg: {x0: svg.left, y0: svg.top, x1: svg.right, y1: svg.bottom},
      plot,
      traces: gd.data.map((t) => ({name: t.name || '', group: t.legendgroup || '',
        line: (t.line || {}).color || null, marker: (t.marker || {}).color || null})),
      shapes: (gd.layout.shapes || []).map((sh) => ({name: sh.name || '', color: (sh.line || {}).color || null})),
      texts,
    });
  }
  return figs;
}"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tawazun.arena import load_arena
    from tawazun.forecast import ForecastConfig, execute
    from tawazun.report.html import render

    run = execute(load_arena(), ForecastConfig(draws=50, sobol_n=8, scenarios=False))
    folder = tmp_path_factory.mktemp("report")
    out = {}
    for lang in ("en", "ar"):
        out[lang] = folder / f"report-{lang}.html"
        out[lang].write_text(render(run, None, lang=lang), encoding="utf-8")
    return out


def _open(path: Path, shots: Path, lang: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1150, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(path.as_uri())
            page.wait_for_function("document.querySelectorAll('.plotly-graph-div .main-svg').length > 0"
                                   " && [...document.querySelectorAll('.plotly-graph-div')]"
                                   ".every((gd) => gd._fullLayout)")
            figs = page.evaluate(COLLECT)
            for fig_id, name in (("map-0", "actor-map"), ("dist-0", "distribution"), ("traj-bdm-0", "trajectory")):
                page.locator(f"#{fig_id}").screenshot(path=str(shots / f"{name}-{lang}.png"))
        finally:
            browser.close()
    return figs


def _inside(box: dict, area: dict, tol: float = 1.0) -> bool:
    return (box["x0"] >= area["x0"] - tol and box["x1"] <= area["x1"] + tol
            and box["y0"] >= area["y0"] - tol and box["y1"] <= area["y1"] + tol)


def _overlap(a: dict, b: dict, tol: float = 0.5) -> bool:
    return (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > tol
            and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > tol)


def _keep_for_docs(src: Path, name: str) -> None:
    target_dir = os.environ.get("TAWAZUN_SCREENSHOTS")
    if not target_dir:
        return
    from PIL import Image

    Path(target_dir).mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:  # full colour: quantising shifts the small engine markers' colours
        im.convert("RGB").save(Path(target_dir) / name, optimize=True)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_report_charts_read_well(reports: dict[str, Path], tmp_path: Path, lang: str) -> None:
    from PIL import Image

    from tawazun.arena import load_arena

    figs = _open(reports[lang], tmp_path, lang)
    assert {f["id"] for f in figs} >= {"map-0", "strip-0", "dist-0", "traj-bdm-0", "tornado-0", "sobol-0"}

    # (a) one colour per engine, the palette's, in every figure it appears in
    seen: dict[str, set[str]] = {}
    figures_with: dict[str, set[str]] = {}
    for f in figs:
        for t in f["traces"]:
            if t["group"] in palette.ENGINE_COLOURS:
                colour = t["marker"] or t["line"]
                seen.setdefault(t["group"], set()).add(colour.upper())
                figures_with.setdefault(t["group"], set()).add(f["id"].split("-")[0])
                assert palette.engine_of(t["name"].removesuffix(" forecast")) == t["group"], t
            if t["name"] == "input at high":  # sensitivity bars take their engine's colour
                assert t["marker"].upper() in {c.upper() for c in palette.ENGINE_COLOURS.values()}
        for sh in f["shapes"]:
            if sh["name"] == "status quo":
                assert sh["color"] == palette.STATUS_QUO
            if sh["name"].endswith(" median"):
                assert sh["color"] == palette.colour(sh["name"].removesuffix(" median"))
    assert set(seen) == set(palette.ENGINE_COLOURS)
    for engine, colours in seen.items():
        assert colours == {palette.ENGINE_COLOURS[engine].upper()}, engine
        assert {"map", "strip", "dist"} <= figures_with[engine], engine  # the same colour across figures

    # (b) no text cut off: every text inside its figure, trace texts inside the plot area
    for f in figs:
        for t in f["texts"]:
            assert _inside(t, f["svg"]), (f["id"], t)
            if t["kind"] == "textpoint":
                assert _inside(t, f["plot"]), (f["id"], t)

    # (c) actor-map and trajectory labels do not overlap; actors are named, never shown by id
    arena = load_arena()
    ids = {a.id for a in arena.actors}
    for f in figs:
        if not f["id"].startswith(("map-", "traj-")):
            continue
        labels = [t for t in f["texts"] if t["kind"] == "annotation"]
        assert labels, f["id"]
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                assert not _overlap(a, b), (f["id"], a["text"], b["text"])
        shown = {t["text"].strip("\u2067\u2069") for t in f["texts"]}
        assert not shown & ids, (f["id"], shown & ids)
    first_map = next(f for f in figs if f["id"] == "map-0")
    text = " ".join(t["text"] for t in first_map["texts"])
    iran = arena.actor("iran").names
    assert (iran.ar.split()[0] if lang == "ar" else iran.en.split()[0]) in text

    for name in ("actor-map", "distribution", "trajectory"):
        shot = tmp_path / f"{name}-{lang}.png"
        with Image.open(shot) as im:
            assert im.width >= 900 and len(im.convert("RGB").getcolors(maxcolors=1 << 16) or range(99)) > 20
        if lang == "en":
            _keep_for_docs(shot, f"report-{name}.png")
    if lang == "ar":
        _keep_for_docs(tmp_path / "actor-map-ar.png", "report-actor-map-ar.png")
