"""The workbench in a real browser: Playwright driving Debian's chromium (never a downloaded one).

Scenario: open the shipped arena, enter an invalid salience and see the loader's message,
fix it and save, start a run with draws, see the charts, take screenshots and check they
are not blank. Set TAWAZUN_SCREENSHOTS=DIR to also keep the two README screenshots
(web-arena.png, web-run.png) in DIR (e.g. docs/img).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest

from browser_support import ARGS, BROWSER_MARKS, CHROMIUM  # noqa: E402,F401

pytestmark = BROWSER_MARKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    """The app under uvicorn in a thread, on a free loopback port."""
    uvicorn = pytest.importorskip("uvicorn")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from tawazun.web.app import create_app

    workspace = tmp_path / "ws"
    app = create_app(workspace, allowed_hosts=["127.0.0.1", "localhost"])
    # A source text of our own (placeholder sentences), so the evidence link shows a passage.
    (workspace / "sources" / "seed.txt").write_text(
        "\n".join(f"Placeholder paragraph {k}: the workspace's copy of the cited source goes here." for k in range(1, 15)),
        encoding="utf-8")
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", workspace
    srv.should_exit = True
    thread.join(timeout=10)


def not_blank(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
    return colours is None or len(colours) > 20


def keep_for_docs(src: Path, name: str) -> None:
    """Palette-quantised copy for the README (keeps it well under 300 KB)."""
    target_dir = os.environ.get("TAWAZUN_SCREENSHOTS")
    if not target_dir:
        return
    from PIL import Image

    Path(target_dir).mkdir(parents=True, exist_ok=True)
    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
            Path(target_dir) / name, optimize=True)


def test_edit_validate_run_and_chart(server, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tawazun.engines import REGISTRY
    from tawazun.report import palette

    base, workspace = server
    engine = "bdm" if "bdm" in REGISTRY else "compromise"
    shots = tmp_path / "shots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(20_000)
            # 1. arena list -> the shipped arena
            page.goto(base + "/")
            page.click("text=iraq-2021")
            expect(page.locator("h1")).to_contain_text("Iraq")
            expect(page.locator("td.ar[dir=rtl]").first).to_be_visible()
            page.screenshot(path=str(shots / "arena.png"))

            # 2. the evidence link opens the cited paragraph
            page.locator("#stance-0 a.ev").first.click()
            expect(page.locator("li.cited")).to_have_count(1)
            expect(page.locator("li.cited")).to_have_attribute("id", "p2")
            page.go_back()

            # 3. an invalid salience shows the loader's one-line message and keeps the input
            page.click("#stance-0 a.edit")
            page.fill("#salience_mode", "1.7")
            page.click("button[type=submit]")
            expect(page.locator(".errors")).to_contain_text("stances[0].salience")
            expect(page.locator(".errors")).to_contain_text("arenas/iraq-2021.yaml:")
            expect(page.locator("#salience_mode")).to_have_value("1.7")
            page.screenshot(path=str(shots / "invalid.png"))

            # 4. fix and save: back on the arena page, the new value shown, history kept
            page.fill("#salience_mode", "0.55")
            page.click("button[type=submit]")
            expect(page.locator(".flash")).to_contain_text("previous version is kept")
            expect(page.locator("#stance-0")).to_contain_text("0.55")
            assert len(list((workspace / "history").glob("iraq-2021.*.yaml"))) == 1

            # 5. run one engine with draws; the progress page turns into the results
            for box in page.locator("input[name=engines]").all():
                box.set_checked(box.get_attribute("value") == engine)
            page.fill("input[name=draws]", "200")
            page.fill("input[name=seed]", "3")
            page.click(".runform button[type=submit]")
            page.wait_for_url("**/runs/*")
            expect(page.locator("#done")).to_be_visible(timeout=90_000)
            expect(page.locator("#overview .main-svg").first).to_be_visible()
            # the run page's chart takes each engine's colour from the report's palette
            traces = page.evaluate("() => document.getElementById('overview').data"
                                   ".map((t) => [t.legendgroup, (t.marker || {}).color])")
            assert traces and all(colour == palette.colour(group) for group, colour in traces), traces
            frame = page.frame_locator("#report")
            expect(frame.locator(".js-plotly-plot").first).to_be_visible()
            expect(page.locator("table.forecast")).to_contain_text(engine)
            page.screenshot(path=str(shots / "run.png"))
        finally:
            browser.close()

    for name in ("arena.png", "invalid.png", "run.png"):
        assert not_blank(shots / name), name
    keep_for_docs(shots / "arena.png", "web-arena.png")
    keep_for_docs(shots / "run.png", "web-run.png")


def test_whatif_panel_shows_the_delta(server) -> None:
    """Change a stance in the what-if panel and see the paired delta (the file is not touched)."""
    from playwright.sync_api import expect, sync_playwright

    from conftest import TINY_ARENA

    base, workspace = server
    question = """questions:
  - {id: high, text: {en: "Above 6?"}, kind: binary, resolves_on: 2021-12-31, rule: {issue: x, above: 6}}
"""
    (workspace / "arenas" / "tiny.yaml").write_text(TINY_ARENA + question, encoding="utf-8")
    before = (workspace / "arenas" / "tiny.yaml").read_bytes()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(20_000)
            page.goto(base + "/arenas/tiny")
            expect(page.locator("#questions td.qf").first).to_contain_text("p = ")
            page.select_option("#whatif-form select[name=stance]", "a.x")
            page.select_option("#whatif-form select[name=field]", "position")
            page.fill("#whatif-form input[name=value]", "4")
            page.click("#whatif-form button[type=submit]")
            table = page.locator("#whatif-table")
            expect(table).to_be_visible()
            # compromise at the modes moves by 1.5 * 2 / 5.1 = +0.59 (weights 1.5, 2, 1.6)
            expect(table.locator("tr", has_text="compromise").locator("td.delta")).to_have_text("+0.59")
            page.fill("#whatif-form input[name=value]", "40")
            page.click("#whatif-form button[type=submit]")
            expect(page.locator("#whatif-out .errors")).to_contain_text("stances[0].position")
            page.select_option("#levers-form select[name=actor]", "a")
            page.click("#levers-form button[type=submit]")
            expect(page.locator("#levers-table")).to_contain_text("persuade b")
        finally:
            browser.close()
    assert (workspace / "arenas" / "tiny.yaml").read_bytes() == before
