"""The web workbench through its HTTP interface (FastAPI TestClient, no network, no browser)."""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

warnings.filterwarnings("ignore", message=".*httpx.*", category=Warning)

from fastapi.testclient import TestClient  # noqa: E402

from tawazun.arena import load_arena, parse_arena_text  # noqa: E402
from tawazun.forecast import run_forecast, to_json  # noqa: E402
from tawazun.web.app import create_app, number_from_form  # noqa: E402
from tawazun.web.runs import RunStore  # noqa: E402
from tawazun.web.security import CSRF_COOKIE  # noqa: E402
from tawazun.web.workspace import BadName, Workspace, cited_paragraphs  # noqa: E402

ARENA = "iraq-2021"
# index of Iran, the shipped arena's first actor of kind "state" (the error tests edit it)
IRAN = next(i for i, a in enumerate(load_arena(ARENA).actors) if a.id == "iran")
assert next(a for a in load_arena(ARENA).actors if a.kind == "state").id == "iran"


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(tmp_path)) as c:
        yield c


def arena_file(tmp_path: Path, name: str = ARENA) -> Path:
    return tmp_path / "arenas" / f"{name}.yaml"


def csrf(client: TestClient) -> str:
    """The form token, as a browser gets it: from a page's hidden field (the cookie holds
    only the session value the token is signed over)."""
    page = client.get("/extract").text  # also sets the cookie
    assert client.cookies.get(CSRF_COOKIE)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return token.group(1)


def wait_for_run(client: TestClient, run_id: int, limit_s: float = 120) -> dict:
    deadline = time.monotonic() + limit_s
    while True:
        status = client.get(f"/api/runs/{run_id}/status").json()
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            return client.get(f"/api/runs/{run_id}").json()
        time.sleep(0.1)


# ---- workspace ------------------------------------------------------------------------

def test_first_start_copies_the_shipped_arena(client: TestClient, tmp_path: Path) -> None:
    assert arena_file(tmp_path).is_file()
    for sub in ("history", "sources"):
        assert (tmp_path / sub).is_dir()
    assert (tmp_path / "runs.sqlite").is_file()
    listing = client.get("/api/arenas").json()
    assert [a["name"] for a in listing] == [ARENA]
    shipped = load_arena(ARENA)
    assert listing[0]["valid"] and listing[0]["stances"] == len(shipped.stances)


def test_arena_round_trip_get_put_get(client: TestClient, tmp_path: Path) -> None:
    first = client.get(f"/api/arenas/{ARENA}")
    assert first.status_code == 200
    doc = first.json()
    assert doc["arena"]["id"] == ARENA and doc["arena"]["as_of"] == "2021-07-31"
    put = client.put(f"/api/arenas/{ARENA}", json=doc)
    assert put.status_code == 200, put.text
    assert put.json()["history"].startswith(f"{ARENA}.")
    assert client.get(f"/api/arenas/{ARENA}").json() == doc
    # the saved file is plain YAML the CLI loader accepts, with the same content
    saved = load_arena(arena_file(tmp_path))
    assert saved == load_arena(ARENA)
    assert len(list((tmp_path / "history").glob(f"{ARENA}.*.yaml"))) == 1


def test_put_changes_one_number_and_keeps_the_old_version(client: TestClient, tmp_path: Path) -> None:
    before = arena_file(tmp_path).read_text(encoding="utf-8")
    doc = client.get(f"/api/arenas/{ARENA}").json()
    doc["stances"][0]["salience"] = 0.33
    assert client.put(f"/api/arenas/{ARENA}", json=doc).status_code == 200
    assert client.get(f"/api/arenas/{ARENA}").json()["stances"][0]["salience"] == 0.33
    (kept,) = (tmp_path / "history").glob(f"{ARENA}.*.yaml")
    assert kept.read_text(encoding="utf-8") == before


def test_put_creates_a_new_arena(client: TestClient, tmp_path: Path) -> None:
    doc = client.get(f"/api/arenas/{ARENA}").json()
    r = client.put("/api/arenas/my_copy-2", json=doc)
    assert r.status_code == 201 and r.json()["history"] is None
    assert [a["name"] for a in client.get("/api/arenas").json()] == ["iraq-2021", "my_copy-2"]


def test_invalid_arena_is_422_with_the_field_path(client: TestClient, tmp_path: Path) -> None:
    before = arena_file(tmp_path).read_bytes()
    doc = client.get(f"/api/arenas/{ARENA}").json()
    doc["stances"][0]["salience"] = 1.7
    del doc["actors"][1]["kind"]
    r = client.put(f"/api/arenas/{ARENA}", json=doc)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert any(re.match(r"arenas/iraq-2021\.yaml:\d+: stances\[0\]\.salience: salience 1\.7 outside \[0, 1\]", e)
               for e in errors), errors
    assert any(re.match(r"arenas/iraq-2021\.yaml:\d+: actors\[1\]\.kind: required field is missing", e)
               for e in errors), errors
    assert arena_file(tmp_path).read_bytes() == before  # nothing written
    assert not list((tmp_path / "history").iterdir())


def test_put_needs_a_json_mapping_and_json_content_type(client: TestClient) -> None:
    r = client.put(f"/api/arenas/{ARENA}", content=b"format: x", headers={"content-type": "text/plain"})
    assert r.status_code in (415, 422)
    r = client.put(f"/api/arenas/{ARENA}", json=[1, 2])
    assert r.status_code == 422 and r.json()["errors"]


@pytest.mark.parametrize("raw", ["..%2Fsecret", "..%2F..%2Fsecret", "a.b", "%2e%2e", "sp%20ace", "x%00y", "..\\secret"])
def test_path_traversal_names_are_refused(client: TestClient, tmp_path: Path, raw: str) -> None:
    (tmp_path / "secret.yaml").write_text("format: top-secret\n", encoding="utf-8")
    for url in (f"/api/arenas/{raw}", f"/arenas/{raw}", f"/arenas/{raw}/stances/0/edit"):
        r = client.get(url)
        assert r.status_code in (400, 404), (url, r.status_code)
        assert "top-secret" not in r.text
    r = client.put(f"/api/arenas/{raw}", json={"format": "tawazun-arena/1"})
    assert r.status_code in (400, 404, 405, 422)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arenas", "history", "runs.sqlite", "secret.yaml", "sources"]
    assert [p.name for p in (tmp_path / "arenas").iterdir()] == ["iraq-2021.yaml"]


def test_arena_names_are_resolved_inside_the_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.init()
    for bad in ("../x", "..", "a/b", "/etc/passwd", "", "a.b", "x" * 101):
        with pytest.raises(BadName):
            ws.arena_path(bad)
    assert ws.arena_path("ok_name-1").parent == (tmp_path / "arenas").resolve()
    assert ws.source_paragraphs("../secret") is None


def test_oversize_body_is_413(client: TestClient) -> None:
    big = {"format": "tawazun-arena/1", "padding": "x" * (3 * 1024 * 1024)}
    r = client.put(f"/api/arenas/{ARENA}", json=big)
    assert r.status_code == 413
    assert "too large" in r.json()["errors"][0]
    r = client.post(f"/arenas/{ARENA}/stances/0", data={"note": "y" * (3 * 1024 * 1024)})
    assert r.status_code == 413


# ---- runs -----------------------------------------------------------------------------

def test_a_web_run_and_a_cli_run_give_the_same_result_document(client: TestClient, tmp_path: Path) -> None:
    """One pipeline: the same arena, engines, draws and seed through the browser's run API
    and through `tawazun forecast --json -` give the same document (the version aside)."""
    from typer.testing import CliRunner

    from tawazun.cli.main import app

    engines = ["compromise", "median", "bdm"]
    r = client.post("/api/runs", json={"arena": ARENA, "engines": engines, "draws": 40, "seed": 11})
    assert r.status_code == 202, r.text
    web = wait_for_run(client, r.json()["id"], limit_s=600)
    assert web["status"] == "done", web
    res = CliRunner().invoke(app, ["forecast", str(arena_file(tmp_path)), "-e", ",".join(engines),
                                   "--draws", "40", "--seed", "11", "--json", "-", "--no-report",
                                   "--out", str(tmp_path / "cli-run")])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.stdout)
    assert web["result"] == cli
    assert any("tornado" in e and "sobol" in e for e in cli["results"])  # sensitivity in both
    assert web["manifest"]["sobol_n"] == json.loads((tmp_path / "cli-run" / "manifest.json").read_text())["sobol_n"]


def test_run_is_created_and_finishes_with_results(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/api/runs", json={"arena": ARENA, "engines": ["compromise", "median"], "draws": 60, "seed": 7})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    run = wait_for_run(client, run_id)
    assert run["status"] == "done", run
    assert run["progress"] == 1.0 and run["engines"] == ["compromise", "median"]
    doc = run["result"]
    assert doc["arena"] == ARENA and doc["seed"] == 7 and doc["draws"] == 60
    arena = load_arena(arena_file(tmp_path))
    # the same numbers as the Python API / CLI on the same arena
    direct = to_json(run_forecast(arena, ["compromise", "median"], seed=7))
    assert [e["forecast"] for e in doc["results"]] == [e["forecast"] for e in direct["results"]]
    for entry in doc["results"]:
        issue = arena.issue(entry["issue"])
        assert issue.scale.min <= entry["forecast"][0] <= issue.scale.max
        assert entry["distribution"]["draws"] == 60
    assert run["manifest"]["arena"]["sha256"] == run["arena_sha256"]
    assert run["manifest"]["draws"] == 60
    # report, run page, compare page
    report = client.get(f"/runs/{run_id}/report")
    assert report.status_code == 200 and "plotly-graph-div" in report.text
    assert "cdn.plot.ly" not in report.text and "/static/plotly.min.js" in report.text
    standalone = client.get(f"/runs/{run_id}/report?standalone=1")
    assert "/static/plotly.min.js" not in standalone.text and len(standalone.text) > len(report.text)
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200 and 'id="overview"' in page.text and 'id="report"' in page.text
    cmp_page = client.get(f"/compare?a={run_id}:compromise&b={run_id}:median")
    assert cmp_page.status_code == 200 and 'id="compare-table"' in cmp_page.text
    assert len(re.findall(r"<tr><td>", cmp_page.text)) == len(arena.issues)


def test_run_requests_are_checked(client: TestClient) -> None:
    r = client.post("/api/runs", json={"arena": ARENA, "engines": ["no-such-engine"], "draws": 0})
    assert r.status_code == 422 and "unknown engine" in r.json()["errors"][0]
    r = client.post("/api/runs", json={"arena": ARENA, "engines": "compromise", "draws": 10**9})
    assert r.status_code == 422 and any(e.startswith("draws:") for e in r.json()["errors"])
    r = client.post("/api/runs", json={"arena": "../x", "engines": "compromise"})
    assert r.status_code == 400
    r = client.post("/api/runs", json={"arena": "missing", "engines": "compromise"})
    assert r.status_code == 404
    r = client.post("/api/runs", content=json.dumps({"arena": ARENA}), headers={"content-type": "text/plain"})
    assert r.status_code in (415, 422)
    assert client.get("/api/runs/999").status_code == 404
    assert client.get("/api/runs").json() == []


def test_runs_interrupted_by_a_restart_are_marked_failed(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.create(ARENA, ["compromise"], 0, 0, "abc", "text")
    store.update(run_id, status="running")
    again = RunStore(tmp_path / "runs.sqlite")
    row = again.get(run_id)
    assert row["status"] == "failed" and "interrupted" in row["error"]


# ---- forms ----------------------------------------------------------------------------

def stance_form(token: str | None, salience_mode: str) -> dict[str, str]:
    form = {"position_low": "60", "position_mode": "70", "position_high": "80",
            "salience_low": "0.4", "salience_mode": salience_mode, "salience_high": "0.6", "note": ""}
    if token is not None:
        form["csrf_token"] = token
    return form


def test_form_post_without_csrf_token_is_403(client: TestClient, tmp_path: Path) -> None:
    before = arena_file(tmp_path).read_bytes()
    csrf(client)
    r = client.post(f"/arenas/{ARENA}/stances/0", data=stance_form(None, "0.5"), follow_redirects=False)
    assert r.status_code == 403 and "security token" in r.text
    r = client.post(f"/arenas/{ARENA}/stances/0", data=stance_form("forged-token-" + "x" * 30, "0.5"),
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post(f"/arenas/{ARENA}/runs", data={"engines": "compromise", "draws": "0"}, follow_redirects=False)
    assert r.status_code == 403
    assert arena_file(tmp_path).read_bytes() == before
    assert client.get("/api/runs").json() == []


def test_stance_edit_shows_loader_messages_then_saves(client: TestClient, tmp_path: Path) -> None:
    token = csrf(client)
    before = arena_file(tmp_path).read_text(encoding="utf-8")
    bad = client.post(f"/arenas/{ARENA}/stances/0", data=stance_form(token, "1.7"), follow_redirects=False)
    assert bad.status_code == 422
    assert re.search(r"arenas/iraq-2021\.yaml:\d+: stances\[0\]\.salience: range must satisfy low &lt;= mode", bad.text)
    assert re.search(r'name="salience_mode"[^>]*value="1\.7"', bad.text)  # the input is kept
    assert arena_file(tmp_path).read_text(encoding="utf-8") == before
    good = client.post(f"/arenas/{ARENA}/stances/0", data=stance_form(token, "0.55"), follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"].startswith(f"/arenas/{ARENA}?saved=")
    arena = load_arena(arena_file(tmp_path))
    assert arena.stances[0].salience.mode == 0.55
    assert arena.stances[0].evidence  # untouched fields survive
    (kept,) = (tmp_path / "history").glob("*.yaml")
    assert kept.read_text(encoding="utf-8") == before
    page = client.get(good.headers["location"])
    assert "previous version is kept" in page.text


def test_actor_edit_round_trip_keeps_arabic(client: TestClient, tmp_path: Path) -> None:
    token = csrf(client)
    form = client.get(f"/arenas/{ARENA}/actors/iran/edit")
    assert form.status_code == 200 and 'dir="rtl"' in form.text
    data = {"csrf_token": token, "names_en": "Iran", "names_ar": "إيران", "aliases": "Tehran\nطهران",
            "kind": "state", "capability_low": "0.5", "capability_mode": "0.6", "capability_high": "0.7",
            "note": "edited"}
    r = client.post(f"/arenas/{ARENA}/actors/iran", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    actor = load_arena(arena_file(tmp_path)).actor("iran")
    assert (actor.names.en, actor.names.ar, actor.aliases, actor.note) == ("Iran", "إيران", ["Tehran", "طهران"], "edited")
    assert "إيران" in arena_file(tmp_path).read_text(encoding="utf-8")  # allow_unicode, not \u escapes
    bad = dict(data, kind="cabal")
    r = client.post(f"/arenas/{ARENA}/actors/iran", data=bad)
    assert r.status_code == 422 and f"actors[{IRAN}].kind" in r.text


def test_arena_page_shows_actors_rtl_scales_and_evidence_links(client: TestClient) -> None:
    page = client.get(f"/arenas/{ARENA}").text
    assert '<td class="ar" dir="rtl" lang="ar">الولايات المتحدة (إدارة بايدن والبنتاغون)</td>' in page
    assert "full withdrawal" in page  # a labelled scale point
    # context actors are marked; declared (public) positions have their own column
    assert re.search(r'<td>person<br><span class="small context"[^>]*>context</span></td>', page)
    assert "<th>declared</th>" in page
    bargainers, context = page.split("<h3>Context actors</h3>")
    assert 'id="actor-isis"' in context and 'id="actor-isis"' not in bargainers and 'id="actor-iran"' in bargainers
    assert re.search(r'href="/arenas/iraq-2021/sources/seed\?loc=%C2%B62&amp;note=[^"]*#p2"', page)
    assert 'name="csrf_token"' in page


def test_source_page_highlights_the_cited_paragraph(client: TestClient, tmp_path: Path) -> None:
    url = f"/arenas/{ARENA}/sources/seed?loc=%C2%B64"
    assert "Source text not in the workspace" in client.get(url).text
    (tmp_path / "sources" / "seed.txt").write_text(
        "\n".join(f"Placeholder paragraph number {k}." for k in range(1, 15)) + "\n", encoding="utf-8")
    page = client.get(url).text
    assert re.search(r'<li id="p4" value="4" class="cited">', page)
    assert len(re.findall(r'class="cited"', page)) == 1
    assert 'dir="rtl"' in page  # the seed source is Arabic
    assert client.get(f"/arenas/{ARENA}/sources/no-such-source").status_code == 404


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/runs/12345").status_code == 404
        r = c.get("/runs/not-a-number")
        assert r.status_code == 422 and "Traceback" not in r.text

        def boom(*_a, **_k):
            raise RuntimeError("secret internals")

        app.state.store.list = boom
        for url in ("/", "/api/runs"):
            r = c.get(url)
            assert r.status_code == 500
            assert "internal error" in r.text and "secret internals" not in r.text and "Traceback" not in r.text


def test_plotly_is_served_locally_and_pages_use_no_cdn(client: TestClient) -> None:
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    for url in ("/", f"/arenas/{ARENA}", "/runs", "/compare"):
        text = client.get(url).text
        assert not re.search(r"<script[^>]+src=['\"]https?:", text), url
    assert client.get("/docs").status_code == 200
    assert "/api/runs" in client.get("/openapi.json").json()["paths"]


# ---- helpers --------------------------------------------------------------------------

def test_cited_paragraphs() -> None:
    assert cited_paragraphs("¶4") == [4]
    assert cited_paragraphs("¶4–¶6") == [4, 5, 6]
    assert cited_paragraphs("¶2, ¶9") == [2, 9]
    assert cited_paragraphs("¶3-5") == [3, 4, 5]
    assert cited_paragraphs("note") == []


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4))


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=3, max_size=3).map(sorted), st.booleans())
def test_number_fields_round_trip(values: list[float], as_range: bool) -> None:
    low, mode, high = values
    if as_range:
        form = {"x_low": repr(low), "x_mode": repr(mode), "x_high": repr(high)}
        assert number_from_form(form, "x") == {"low": low, "mode": mode, "high": high}
    else:
        assert number_from_form({"x_low": "", "x_mode": repr(mode), "x_high": " "}, "x") == mode
    assert number_from_form({}, "x") is None
    assert number_from_form({"x_mode": "abc"}, "x") == "abc"  # left for the loader to report


def test_dumped_yaml_loads_with_the_cli_loader(client: TestClient, tmp_path: Path) -> None:
    doc = client.get(f"/api/arenas/{ARENA}").json()
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    assert parse_arena_text(text, "x.yaml").meta.id == ARENA


def test_serve_command_is_registered_and_checks_its_port() -> None:
    import socket

    from typer.testing import CliRunner

    from tawazun.cli.main import app
    from tawazun.cli.web_cmds import is_loopback

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--workspace" in result.output and "8050" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port), "--workspace", "unused-ws"])
    assert result.exit_code == 2 and f"--port: cannot listen on 127.0.0.1:{port}" in result.output


def test_a_hand_broken_arena_file_is_reported_not_fatal(client: TestClient, tmp_path: Path) -> None:
    text = arena_file(tmp_path).read_text(encoding="utf-8")
    (tmp_path / "arenas" / "broken.yaml").write_text(text.replace("kind: state", "kind: empire", 1), encoding="utf-8")
    (tmp_path / "arenas" / "garbled.yaml").write_text("arena: [unclosed\n", encoding="utf-8")
    listing = {a["name"]: a for a in client.get("/api/arenas").json()}
    assert listing["iraq-2021"]["valid"] and not listing["broken"]["valid"]
    assert any(f"actors[{IRAN}].kind" in e for e in listing["broken"]["errors"])
    assert listing["garbled"]["errors"][0].startswith("arenas/garbled.yaml:")
    page = client.get("/arenas/broken")
    assert page.status_code == 200 and "This arena file does not load" in page.text and f"actors[{IRAN}].kind" in page.text
    assert client.get("/api/arenas/broken").json()["actors"][IRAN]["kind"] == "empire"  # fixable through PUT
    assert client.get("/api/arenas/garbled").status_code == 422
    token = csrf(client)
    r = client.post("/arenas/broken/runs", data={"csrf_token": token, "engines": "compromise", "draws": "0"})
    assert r.status_code == 422 and f"actors[{IRAN}].kind" in r.text
    assert client.get("/").status_code == 200


def test_openapi_page_is_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/_swagger/swagger-ui-bundle.js" in page.text and "cdn.jsdelivr" not in page.text
    js = client.get("/_swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/openapi.json").json()["info"]["title"] == "tawazun workbench"


def test_evidence_page_reads_pasted_text(client: TestClient) -> None:
    token = csrf(client)
    text = ("The Pentagon said on 26 July 2021 that 2,500 troops would stay in Iraq.\n"
            "قالت الحكومة العراقية إن الانتخابات ستجري في تشرين الأول المقبل.")
    res = client.post("/extract", data={"csrf_token": token, "text": text, "lang": "auto", "as_of": "2021-07-31"})
    assert res.status_code == 200, res.text
    assert "srcdoc=" in res.text and "Draft arena" in res.text
    assert "2500" in res.text or "2,500" in res.text
    bad = client.post("/extract", data={"csrf_token": token, "text": "  ", "as_of": "yesterday"})
    assert bad.status_code == 422 and "paste the text" in bad.text and "not a date" in bad.text
    assert client.post("/extract", data={"text": text}).status_code == 403
