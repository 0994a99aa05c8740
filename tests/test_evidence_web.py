"""The Evidence page under load: a size cap with a clear message, and extraction off the
event loop (the server answers other requests while a paste is being read)."""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*", category=Warning)

from fastapi.testclient import TestClient  # noqa: E402

import tawazun.evidence.pipeline as pipeline  # noqa: E402
from tawazun.web.app import EXTRACT_MAX_CHARS, create_app  # noqa: E402
from tawazun.web.security import CSRF_COOKIE  # noqa: E402


@pytest.fixture
def client(tmp_path: Path):
    with TestClient(create_app(tmp_path)) as c:
        yield c


def _token(client: TestClient) -> str:
    """The form token from a page's hidden field: it is an HMAC of the session cookie under
    the server's secret, not the cookie itself (docs/web.md, CSRF)."""
    page = client.get("/extract").text
    assert client.cookies.get(CSRF_COOKIE)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_large_paste_gets_the_cap_message(client: TestClient, monkeypatch) -> None:
    called = []
    monkeypatch.setattr(pipeline, "extract", lambda *a, **k: called.append(1))
    text = "The Pentagon said 2,500 troops would stay. " * (EXTRACT_MAX_CHARS // 40)
    assert len(text) > EXTRACT_MAX_CHARS
    res = client.post("/extract", data={"csrf_token": _token(client), "text": text})
    assert res.status_code == 422
    assert f"over the limit of {EXTRACT_MAX_CHARS:,}" in res.text and "tawazun extract" in res.text
    assert not called  # refused before any extraction
    assert len(res.text) < len(text)  # the paste is not echoed back


def test_server_answers_while_a_paste_is_extracted(client: TestClient, monkeypatch) -> None:
    real = pipeline.extract
    started, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def slow_extract(*a, **k):
        started.set()
        # blocks like a long CPU-bound extraction; if it ran on the event loop, the GET
        # below could not be answered and this wait would time out
        seen["released"] = release.wait(20)
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "extract", slow_extract)
    token = _token(client)
    box: dict[str, int] = {}

    def post() -> None:
        r = client.post("/extract", data={"csrf_token": token, "text": "قالت الحكومة العراقية إن الانتخابات ستجري."})
        box["status"] = r.status_code

    th = threading.Thread(target=post)
    th.start()
    assert started.wait(20)
    other = client.get("/extract")
    release.set()
    th.join(30)
    assert other.status_code == 200
    assert seen.get("released") is True
    assert box.get("status") == 200
