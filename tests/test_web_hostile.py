"""Hostile input through the web workbench (FastAPI TestClient, no network): bad files in the
workspace, numbers JSON cannot carry, forged CSRF pairs, a server stopped mid-run."""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*", category=Warning)

from fastapi.testclient import TestClient  # noqa: E402

from tawazun.arena.load import shipped_path  # noqa: E402
from tawazun.web.app import create_app  # noqa: E402
from tawazun.web.runs import INTERRUPTED  # noqa: E402
from tawazun.web.security import CSRF_COOKIE  # noqa: E402

ARENA = "iraq-2021"
SHIPPED = shipped_path().read_text(encoding="utf-8")
ACTOR0_CAP = re.search(r"capability: \{[^}]*\}", SHIPPED).group(0)  # the first actor's
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(tmp_path)) as c:
        yield c


def form_token(client: TestClient) -> str:
    page = client.get("/extract").text
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m
    return m.group(1)


def arena_file(tmp_path: Path, name: str = ARENA) -> Path:
    return tmp_path / "arenas" / f"{name}.yaml"


BAD_FILES = {
    "bad-date": (SHIPPED.replace("as_of: 2021-07-31", "as_of: 2021-02-30", 1), "not a valid date: 2021-02-30"),
    "month-13": (SHIPPED.replace("as_of: 2021-07-31", "as_of: 2021-13-01", 1), "not a valid date: 2021-13-01"),
    "long-int": (SHIPPED.replace(ACTOR0_CAP, "capability: " + "7" * 4400, 1), "integer too long (4,400 digits)"),
    "nan-cap": (SHIPPED.replace(ACTOR0_CAP, "capability: .nan", 1), "actors[0].capability: Input should be a finite"),
    "bomb": (BOMB, "aliases expand to more than"),
    "dup-key": (SHIPPED.replace("    kind: government\n", "    kind: government\n    kind: person\n", 1),
                "duplicate key 'kind'"),
}


def test_bad_files_are_listed_as_invalid_and_never_break_the_index(client: TestClient, tmp_path: Path) -> None:
    for name, (text, _) in BAD_FILES.items():
        arena_file(tmp_path, name).write_text(text, encoding="utf-8")
    arena_file(tmp_path, "binary").write_bytes(b"arena:\x00\xff\n")
    arena_file(tmp_path, "huge").write_text("#" + "x" * (6 * 2**20) + "\n", encoding="utf-8")
    assert client.get("/").status_code == 200
    r = client.get("/api/arenas")
    assert r.status_code == 200
    listing = {a["name"]: a for a in r.json()}
    assert listing[ARENA]["valid"]
    for name, (_, fragment) in BAD_FILES.items():
        item = listing[name]
        assert not item["valid"] and any(fragment in e for e in item["errors"]), (name, item)
        assert all(e.startswith(f"arenas/{name}.yaml:") for e in item["errors"])
        assert client.get(f"/arenas/{name}").status_code == 200  # its page shows the messages
        assert client.get(f"/api/arenas/{name}").status_code in (200, 422)
    assert listing["binary"]["errors"] == ["arenas/binary.yaml:1: (document): binary file (NUL byte at offset 6), "
                                           "expected a YAML arena file"]
    assert "limited to 5 MB" in listing["huge"]["errors"][0]
    assert client.get("/api/arenas/huge").status_code == 422


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1e308", "1e10"])
def test_stance_form_refuses_non_finite_and_huge_capabilities(client: TestClient, tmp_path: Path, value: str) -> None:
    before = arena_file(tmp_path).read_bytes()
    form = {"csrf_token": form_token(client), "position_mode": "70", "salience_mode": "0.5",
            "capability_mode": value}
    r = client.post(f"/arenas/{ARENA}/stances/0", data=form, follow_redirects=False)
    assert r.status_code == 422 and "stances[0].capability" in r.text
    assert arena_file(tmp_path).read_bytes() == before
    assert client.get(f"/api/arenas/{ARENA}").status_code == 200


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e308, True])
def test_put_refuses_non_finite_huge_and_boolean_numbers(client: TestClient, tmp_path: Path, value) -> None:
    doc = client.get(f"/api/arenas/{ARENA}").json()
    doc["stances"][0]["capability"] = value
    before = arena_file(tmp_path).read_bytes()
    r = client.put(f"/api/arenas/{ARENA}", content=json.dumps(doc),  # json.dumps writes NaN/Infinity
                   headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert any("stances[0].capability" in e for e in r.json()["errors"]), r.json()
    assert arena_file(tmp_path).read_bytes() == before
    assert client.get(f"/api/arenas/{ARENA}").status_code == 200


def test_a_valid_arena_that_cannot_be_forecast_is_refused_at_submit(client: TestClient, tmp_path: Path) -> None:
    text = SHIPPED[: SHIPPED.index("\nstances:\n")] + "\nstances: []\n"
    arena_file(tmp_path, "draft").write_text(text, encoding="utf-8")
    assert {a["name"]: a for a in client.get("/api/arenas").json()}["draft"]["valid"]
    r = client.post("/api/runs", json={"arena": "draft", "engines": "compromise"})
    assert r.status_code == 422
    (line,) = r.json()["errors"]
    assert re.match(r"^arenas/draft\.yaml:\d+: stances: the arena has no stances", line), line
    assert client.get("/api/runs").json() == []


def test_get_of_a_hand_edited_file_with_nan_is_a_message_not_500(client: TestClient, tmp_path: Path) -> None:
    arena_file(tmp_path, "edited").write_text(SHIPPED.replace(ACTOR0_CAP, "capability: .inf", 1), encoding="utf-8")
    r = client.get("/api/arenas/edited")
    assert r.status_code == 422 and any("actors[0].capability" in e for e in r.json()["errors"])


def test_csrf_cookie_and_field_chosen_by_an_attacker_are_refused(client: TestClient, tmp_path: Path) -> None:
    before = arena_file(tmp_path).read_bytes()
    forged = "A" * 43
    client.cookies.set(CSRF_COOKIE, forged)
    r = client.post(f"/arenas/{ARENA}/stances/0", follow_redirects=False,
                    data={"csrf_token": forged, "position_mode": "10", "salience_mode": "0.5"})
    assert r.status_code == 403  # matching pair, but not signed by the server
    r = client.post(f"/arenas/{ARENA}/runs", data={"csrf_token": forged, "engines": "compromise"},
                    follow_redirects=False)
    assert r.status_code == 403
    assert arena_file(tmp_path).read_bytes() == before


def test_csrf_token_is_bound_to_the_session_and_the_server(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    with TestClient(app) as alice, TestClient(app) as mallory:
        token = form_token(alice)
        assert token != alice.cookies.get(CSRF_COOKIE)  # the cookie alone does not give the token
        assert app.state.csrf.verify(alice.cookies.get(CSRF_COOKIE), token)
        # mallory's own session cannot use alice's token
        form_token(mallory)
        r = mallory.post(f"/arenas/{ARENA}/runs", data={"csrf_token": token, "engines": "compromise"},
                         follow_redirects=False)
        assert r.status_code == 403
        r = alice.post(f"/arenas/{ARENA}/runs", data={"csrf_token": token, "engines": "compromise", "draws": "0"},
                       follow_redirects=False)
        assert r.status_code == 303
    # another server (a restart): a new secret, so the old token is stale
    other = create_app(tmp_path)
    assert not other.state.csrf.verify(alice.cookies.get(CSRF_COOKIE), token)


def _wait(client: TestClient, run_id: int, states: tuple[str, ...], limit_s: float = 300) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = client.get(f"/api/runs/{run_id}/status").json()
        if status["status"] in states:
            return status
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached {states}: {status}")


def test_server_stop_during_a_run_is_recorded_as_interrupted(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    with TestClient(app) as c:
        r = c.post("/api/runs", json={"arena": ARENA, "engines": "compromise", "draws": 20_000})
        run_id = r.json()["id"]
        _wait(c, run_id, ("running",))
        app.state.runs.shutdown()  # what the lifespan does on Ctrl-C / SIGTERM
        status = _wait(c, run_id, ("failed", "done"))
    assert status["status"] == "failed" and status["error"] == INTERRUPTED


def test_thread_pool_refusal_at_shutdown_is_recorded_as_interrupted(tmp_path: Path, monkeypatch) -> None:
    """At interpreter shutdown the engines' thread pools raise RuntimeError; that is the stop."""
    import tawazun.forecast as forecast

    app = create_app(tmp_path)

    def refused(*_a, **_k):
        app.state.runs.shutdown()
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(forecast, "execute", refused)
    with TestClient(app) as c:
        run_id = c.post("/api/runs", json={"arena": ARENA, "engines": "bdm"}).json()["id"]
        status = _wait(c, run_id, ("failed", "done"))
    assert status["error"] == INTERRUPTED
