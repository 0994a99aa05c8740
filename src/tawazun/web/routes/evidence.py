"""The Evidence page: pasted text read into highlighted evidence and a draft arena."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from tawazun.web.context import Web, web

# Longest paste the Evidence page reads (characters): a few seconds of extraction in a
# worker thread at most; longer texts go through `tawazun extract`.
EXTRACT_MAX_CHARS = 200_000

router = APIRouter()


@router.get("/extract", response_class=HTMLResponse, include_in_schema=False)
def extract_form(request: Request, w: Web = Depends(web)) -> Response:
    return w.page(request, "extract.html", errors=None, text="", lang="auto", as_of="", counts=None)


@router.post("/extract", response_class=HTMLResponse, include_in_schema=False)
async def extract_page(request: Request, w: Web = Depends(web)) -> Response:
    """Read pasted text into highlighted evidence and a draft arena (nothing is stored)."""
    import datetime as _dt

    import yaml as _yaml

    from tawazun.evidence.pipeline import draft_arena, extract
    from tawazun.evidence.report import render_html

    form = await request.form()
    w.verify_form(request, form)
    text = str(form.get("text") or "").replace("\r\n", "\n")
    lang = str(form.get("lang") or "auto")
    as_of_text = str(form.get("as_of") or "")
    ctx = {"text": text, "lang": lang, "as_of": as_of_text, "counts": None}
    problems = []
    if not text.strip():
        problems.append("text: paste the text to read")
    if lang not in ("auto", "ar", "en"):
        problems.append(f"lang: expected auto, ar or en, got {lang!r}")
    as_of = None
    if as_of_text:
        try:
            as_of = _dt.date.fromisoformat(as_of_text)
        except ValueError:
            problems.append(f"as_of: not a date (YYYY-MM-DD): {as_of_text!r}")
    if len(text) > EXTRACT_MAX_CHARS:
        problems.append(f"text: {len(text):,} characters is over the limit of {EXTRACT_MAX_CHARS:,} "
                        "for this page; use `tawazun extract FILE` for longer texts")
        ctx["text"] = ""  # do not echo a huge paste back into the page
    if problems:
        return w.page(request, "extract.html", http_status=422, errors=problems, **ctx)

    def work() -> tuple[dict[str, Any], str, str]:
        found = extract(text, lang=lang, as_of=as_of)
        draft = draft_arena(found, {"id": "pasted", "title": "Pasted text", "as_of": as_of}, text=text)
        return (found, render_html(text, found, title="Evidence", lang=lang),
                _yaml.safe_dump(draft, allow_unicode=True, sort_keys=False))

    # CPU-bound: run it off the event loop so the server keeps answering meanwhile
    found, highlighted, draft_yaml = await run_in_threadpool(work)
    ctx.update(
        counts={kind: len(found[kind]) for kind in ("actors", "quotes", "numbers", "dates", "stances")},
        highlighted=highlighted,
        draft=draft_yaml,
    )
    return w.page(request, "extract.html", errors=None, **ctx)
