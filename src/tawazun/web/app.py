"""The FastAPI application: server-rendered pages, a JSON API under /api/, static files.

Build one with :func:`create_app`; ``tawazun serve`` runs it under uvicorn.
"""

from __future__ import annotations

import contextlib
import logging
import math
import typing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import plotly
import swagger_ui_bundle
from fastapi import Body, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from tawazun import __version__
from tawazun.arena.model import ActorKind, Arena, Range
from tawazun.errors import InputError
from tawazun.web import figures
from tawazun.report.html import with_inline_plotly
from tawazun.web.runs import MAX_DRAWS, RunManager, RunStore
from tawazun.web.security import CSRF_COOKIE, CSRF_FIELD, MAX_BODY, BodySizeLimit, CsrfSigner, new_token
from tawazun.web.workspace import BadName, NotFound, Workspace, check_name, cited_paragraphs, parse_cached

log = logging.getLogger("tawazun.web")

HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
ACTOR_KINDS = list(typing.get_args(ActorKind))
# Longest paste the Evidence page reads (characters): a few seconds of extraction in a
# worker thread at most; longer texts go through `tawazun extract`.
EXTRACT_MAX_CHARS = 200_000


class HTTPError(Exception):
    """An error with a status code and one or more message lines (API: {"errors": lines})."""

    def __init__(self, status: int, lines: list[str] | str):
        self.status = status
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("; ".join(self.lines))


class RunRequest(BaseModel):
    arena: str = Field(description="Arena name in the workspace (file arenas/<name>.yaml)")
    engines: list[str] | str = Field(default="all", description="Engine names, a comma list, or 'all'")
    draws: int = Field(default=0, ge=0, le=MAX_DRAWS, description="Monte Carlo draws (0: point forecast only)")
    seed: int = Field(default=0, ge=0, lt=2**32)


# ---------------------------------------------------------------------------------------
# small helpers shared by the templates and the handlers

def fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"
    return str(x)


def rng(x: Any) -> dict[str, str] | None:
    """A number or Range as {mode, low, high} strings for display (low/high empty for numbers)."""
    if x is None:
        return None
    if isinstance(x, Range):
        return {"mode": fmt(x.mode), "low": fmt(x.low), "high": fmt(x.high)}
    if isinstance(x, dict):
        return {k: fmt(x.get(k)) for k in ("low", "mode", "high")}
    return {"mode": fmt(x), "low": "", "high": ""}


def _number(text: str) -> Any:
    """Form text -> int/float, or the text itself so that the loader reports it."""
    t = text.strip()
    try:
        v = float(t)
    except ValueError:
        return t
    if not math.isfinite(v):
        return t
    return int(v) if v.is_integer() and "." not in t and "e" not in t.lower() else v


def number_from_form(form: dict[str, str], prefix: str) -> Any:
    """Fields <prefix>_low/_mode/_high -> None (all empty), a number (only mode), or a range."""
    parts = {k: (form.get(f"{prefix}_{k}") or "").strip() for k in ("low", "mode", "high")}
    if not any(parts.values()):
        return None
    if not parts["low"] and not parts["high"]:
        return _number(parts["mode"])
    return {k: _number(v) for k, v in parts.items() if v}


def _form_values_for_number(value: Any, prefix: str) -> dict[str, str]:
    r = rng(value) or {"low": "", "mode": "", "high": ""}
    return {f"{prefix}_{k}": r[k] for k in ("low", "mode", "high")}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# ---------------------------------------------------------------------------------------

def create_app(workspace: Path | str, *, allowed_hosts: list[str] | None = None,
               max_body: int = MAX_BODY) -> FastAPI:
    """The app over one workspace folder (created, with the shipped arena, if new)."""
    ws = Workspace(workspace)
    ws.init()
    store = RunStore(ws.db_path)
    manager = RunManager(store, ws.root)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        yield
        manager.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="tawazun workbench",
        version=__version__,
        description="Arenas, edits and forecast runs of one tawazun workspace. "
                    "Writes need `Content-Type: application/json`.",
        docs_url=None,  # served below from the installed swagger-ui-bundle: no CDN
        redoc_url=None,
    )
    app.state.workspace = ws
    app.state.store = store
    app.state.runs = manager
    signer = CsrfSigner()
    app.state.csrf = signer

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["urlq"] = lambda s: quote(str(s), safe="")
    env.globals.update(version=__version__, csrf_field=CSRF_FIELD, rng=rng, cited=cited_paragraphs)
    templates = Jinja2Templates(env=env)

    def page(request: Request, template: str, /, *, http_status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("flash", None)
        return templates.TemplateResponse(request, template, {"csrf": request.state.csrf, **ctx},
                                          status_code=http_status)

    # ---- middleware ----------------------------------------------------------------------
    @app.middleware("http")
    async def csrf_cookie_and_headers(request: Request, call_next: Any) -> Response:
        session = request.cookies.get(CSRF_COOKIE)
        fresh = not session or len(session) < 20 or len(session) > 200
        if fresh:
            session = new_token()
        request.state.csrf = signer.token(session)  # what the forms carry
        response = await call_next(request)
        if fresh:
            response.set_cookie(CSRF_COOKIE, session, httponly=True, samesite="strict", path="/")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(BodySizeLimit, limit=max_body)  # outermost: runs before anything reads the body

    # ---- errors: messages, never tracebacks ----------------------------------------------
    def error_response(request: Request, status: int, lines: list[str]) -> Response:
        if _is_api(request):
            return JSONResponse({"errors": lines}, status_code=status)
        return page(request, "error.html", http_status=status, status_code=status, lines=lines)

    @app.exception_handler(HTTPError)
    async def _http_error(request: Request, exc: HTTPError) -> Response:
        return error_response(request, exc.status, exc.lines)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        return error_response(request, 422, exc.lines)

    @app.exception_handler(BadName)
    async def _bad_name(request: Request, exc: BadName) -> Response:
        return error_response(request, 400, [str(exc)])

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return error_response(request, 404, [exc.args[0] if exc.args else "not found"])

    @app.exception_handler(StarletteHTTPException)
    async def _starlette_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {request.url.path}"
        return error_response(request, exc.status_code, [detail])

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "(body)"
            lines.append(f"{loc}: {err.get('msg', 'invalid')}")
        return error_response(request, 422, lines)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, ["internal error: the server log has the details"])

    # ---- helpers over the workspace ------------------------------------------------------
    def arena_or_errors(name: str) -> tuple[Arena | None, list[str]]:
        try:
            return ws.load(name), []
        except InputError as exc:
            return None, exc.lines
        except Exception:  # noqa: BLE001 - one bad file must never break the index
            log.exception("arena %s could not be read", name)
            return None, [f"{ws.display_name(name)}:1: (document): this file could not be read "
                          "(the server log has the details)"]

    async def checked_form(request: Request) -> dict[str, str]:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not signer.verify(request.cookies.get(CSRF_COOKIE), values.get(CSRF_FIELD)):
            raise HTTPError(403, "the form's security token is missing or stale: reload the page and try again")
        return values

    def require_json(request: Request) -> None:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HTTPError(415, "send the body as JSON with Content-Type: application/json")

    def engine_list() -> list[dict[str, Any]]:
        from tawazun.engines import REGISTRY
        from tawazun.forecast import resolve_engines

        return [{"name": n, "summary": REGISTRY[n].summary, "dynamic": REGISTRY[n].dynamic,
                 "joint": REGISTRY[n].joint} for n in resolve_engines("all")]

    def run_arena(run: dict[str, Any]) -> Arena | None:
        try:
            return parse_cached(run.get("arena_text") or "", f"runs/{run['id']}/arena.yaml")
        except InputError:
            return None

    def get_run(run_id: int) -> dict[str, Any]:
        run = store.get(run_id)
        if run is None:
            raise NotFound(f"no run number {run_id}")
        return run

    # ---- static --------------------------------------------------------------------------
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount("/_swagger", StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def openapi_page() -> HTMLResponse:
        """FastAPI's OpenAPI page, with Swagger UI's files served locally."""
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json",
                                   title="tawazun workbench API",
                                   swagger_js_url="/_swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/_swagger/swagger-ui.css",
                                   swagger_favicon_url="/_swagger/favicon-32x32.png")

    # ---- pages ---------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        rows = []
        for name in ws.arena_names():
            arena, errors = arena_or_errors(name)
            rows.append({"name": name, "arena": arena, "errors": errors})
        return page(request, "arenas.html", arenas=rows, runs=store.list(limit=10))

    @app.get("/arenas/{name}", response_class=HTMLResponse, include_in_schema=False)
    def arena_page(request: Request, name: str, saved: str | None = None) -> Response:
        ws.read_text(name)  # 400/404 first
        arena, errors = arena_or_errors(name)
        flash = None
        if saved:
            flash = f"Saved. The previous version is kept as history/{saved}." if saved != "-" else "Saved."
        ctx: dict[str, Any] = {"name": name, "arena": arena, "errors": errors, "flash": flash,
                               "history": ws.history(name)[:10], "engines": engine_list(),
                               "runs": [r for r in store.list(limit=50) if r["arena"] == name][:10]}
        if arena is not None:
            ctx["stances_by_issue"] = {
                issue.id: [(k, st) for k, st in enumerate(arena.stances) if st.issue == issue.id]
                for issue in arena.issues
            }
            ctx["default_engines"] = ["bdm"] if any(e["name"] == "bdm" for e in ctx["engines"]) else ["compromise"]
        return page(request, "arena.html", **ctx)

    # stance edit
    def stance_form_values(arena_data: dict[str, Any], idx: int) -> dict[str, str]:
        st = arena_data["stances"][idx]
        vals = {}
        vals.update(_form_values_for_number(st.get("position"), "position"))
        vals.update(_form_values_for_number(st.get("salience"), "salience"))
        vals.update(_form_values_for_number(st.get("capability"), "capability"))
        vals["note"] = str(st.get("note") or "")
        return vals

    def stance_context(name: str, idx: int) -> dict[str, Any]:
        data = ws.load_data(name)
        stances = data.get("stances") if isinstance(data.get("stances"), list) else []
        if not (0 <= idx < len(stances)) or not isinstance(stances[idx], dict):
            raise NotFound(f"no stance number {idx} in arena {name!r}")
        arena, _ = arena_or_errors(name)
        st = stances[idx]
        actor = issue = None
        if arena is not None:
            actor = next((a for a in arena.actors if a.id == st.get("actor")), None)
            issue = next((i for i in arena.issues if i.id == st.get("issue")), None)
        return {"name": name, "idx": idx, "stance": st, "actor": actor, "issue": issue, "arena": arena,
                "data": data}

    @app.get("/arenas/{name}/stances/{idx}/edit", response_class=HTMLResponse, include_in_schema=False)
    def stance_edit(request: Request, name: str, idx: int) -> Response:
        ctx = stance_context(name, idx)
        return page(request, "stance_edit.html", values=stance_form_values(ctx["data"], idx), errors=[], **ctx)

    @app.post("/arenas/{name}/stances/{idx}", response_class=HTMLResponse, include_in_schema=False)
    async def stance_save(request: Request, name: str, idx: int) -> Response:
        check_name(name)
        form = await checked_form(request)
        ctx = stance_context(name, idx)
        fields = {
            "position": number_from_form(form, "position"),
            "salience": number_from_form(form, "salience"),
            "capability": number_from_form(form, "capability"),
            "note": (form.get("note") or "").strip() or None,
        }
        new = ws.with_stance(ctx["data"], idx, fields)
        try:
            _arena, kept = ws.save_data(name, new)
        except InputError as exc:
            return page(request, "stance_edit.html", http_status=422, values=form, errors=exc.lines, **ctx)
        return RedirectResponse(f"/arenas/{quote(name)}?saved={quote(kept or '-')}#stance-{idx}", status_code=303)

    # actor edit
    def actor_context(name: str, actor_id: str) -> dict[str, Any]:
        data = ws.load_data(name)
        actors = data.get("actors") if isinstance(data.get("actors"), list) else []
        actor = next((a for a in actors if isinstance(a, dict) and str(a.get("id")) == actor_id), None)
        if actor is None:
            raise NotFound(f"no actor {actor_id!r} in arena {name!r}")
        return {"name": name, "actor_id": actor_id, "actor": actor, "data": data, "kinds": ACTOR_KINDS}

    def actor_form_values(actor: dict[str, Any]) -> dict[str, str]:
        names = actor.get("names") if isinstance(actor.get("names"), dict) else {}
        vals = {"names_en": str(names.get("en") or ""), "names_ar": str(names.get("ar") or ""),
                "aliases": "\n".join(str(a) for a in actor.get("aliases") or []),
                "kind": str(actor.get("kind") or ""), "note": str(actor.get("note") or "")}
        vals.update(_form_values_for_number(actor.get("capability"), "capability"))
        return vals

    @app.get("/arenas/{name}/actors/{actor_id}/edit", response_class=HTMLResponse, include_in_schema=False)
    def actor_edit(request: Request, name: str, actor_id: str) -> Response:
        ctx = actor_context(name, actor_id)
        return page(request, "actor_edit.html", values=actor_form_values(ctx["actor"]), errors=[], **ctx)

    @app.post("/arenas/{name}/actors/{actor_id}", response_class=HTMLResponse, include_in_schema=False)
    async def actor_save(request: Request, name: str, actor_id: str) -> Response:
        check_name(name)
        form = await checked_form(request)
        ctx = actor_context(name, actor_id)
        names: dict[str, Any] = {"en": (form.get("names_en") or "").strip()}
        if (form.get("names_ar") or "").strip():
            names["ar"] = form["names_ar"].strip()
        if not names["en"]:
            names.pop("en")  # the loader then says which field is missing
        aliases = [a.strip() for a in (form.get("aliases") or "").replace("\r", "").split("\n") if a.strip()]
        fields = {
            "names": names,
            "aliases": aliases or None,
            "kind": (form.get("kind") or "").strip() or None,
            "capability": number_from_form(form, "capability"),
            "note": (form.get("note") or "").strip() or None,
        }
        new = ws.with_actor(ctx["data"], actor_id, fields)
        try:
            _arena, kept = ws.save_data(name, new)
        except InputError as exc:
            return page(request, "actor_edit.html", http_status=422, values=form, errors=exc.lines, **ctx)
        return RedirectResponse(f"/arenas/{quote(name)}?saved={quote(kept or '-')}#actor-{quote(actor_id)}",
                                status_code=303)

    @app.get("/arenas/{name}/sources/{source_id}", response_class=HTMLResponse, include_in_schema=False)
    def source_page(request: Request, name: str, source_id: str, loc: str = "", note: str = "") -> Response:
        arena, errors = arena_or_errors(name)
        if arena is None:
            raise InputError(errors)
        source = next((s for s in arena.sources if s.id == source_id), None)
        if source is None:
            raise NotFound(f"arena {name!r} has no source {source_id!r}")
        paragraphs = ws.source_paragraphs(source_id)
        cited = cited_paragraphs(loc)
        citing = [(st, ev) for st in arena.stances for ev in st.evidence
                  if ev.source == source_id and (not cited or set(cited_paragraphs(ev.locator)) & set(cited))]
        return page(request, "source.html", name=name, arena=arena, source=source, paragraphs=paragraphs,
                    cited=cited, loc=loc, note=note, citing=citing[:40],
                    rtl=source.language.lower().startswith(("ar", "fa", "he", "ur")))

    @app.get("/extract", response_class=HTMLResponse, include_in_schema=False)
    def extract_form(request: Request) -> Response:
        return page(request, "extract.html", errors=None, text="", lang="auto", as_of="", counts=None)

    @app.post("/extract", response_class=HTMLResponse, include_in_schema=False)
    async def extract_page(request: Request) -> Response:
        """Read pasted text into highlighted evidence and a draft arena (nothing is stored)."""
        import datetime as _dt

        import yaml as _yaml

        from tawazun.evidence.pipeline import draft_arena, extract
        from tawazun.evidence.report import render_html

        form = await request.form()
        if not signer.verify(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):  # type: ignore[arg-type]
            raise HTTPError(403, "the form's security token is missing or stale: reload the page and try again")
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
            return page(request, "extract.html", http_status=422, errors=problems, **ctx)

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
        return page(request, "extract.html", errors=None, **ctx)

    @app.post("/arenas/{name}/runs", include_in_schema=False)
    async def run_start(request: Request, name: str) -> Response:
        check_name(name)
        form = await request.form()
        if not signer.verify(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):  # type: ignore[arg-type]
            raise HTTPError(403, "the form's security token is missing or stale: reload the page and try again")
        engines = [str(e) for e in form.getlist("engines")]
        if not engines:
            raise InputError("engines: choose at least one engine")
        try:
            draws = int(str(form.get("draws") or "0"))
            seed = int(str(form.get("seed") or "0"))
        except ValueError:
            raise InputError("draws and seed must be whole numbers") from None
        run_id = manager.submit(name, ws.read_text(name), ws.display_name(name), engines, draws, seed)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    @app.get("/runs", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request) -> Response:
        runs = store.list()
        return page(request, "runs.html", runs=runs, choices=compare_choices(runs))

    def compare_choices(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
        out = []
        for r in runs:
            if r["status"] != "done":
                continue
            for label in figures.engine_labels(store.result(r["id"]) or {}):
                out.append((f"{r['id']}:{label}", f"run {r['id']} · {r['arena']} · {label}"
                            + (f" · {r['draws']} draws" if r["draws"] else "")))
        return out

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, run_id: int) -> Response:
        run = get_run(run_id)
        ctx: dict[str, Any] = {"run": run, "table": None, "chart": None, "labels": []}
        if run["status"] == "done" and run["result"]:
            arena = run_arena(run)
            rows = figures.forecast_rows(run["result"])
            labels = figures.engine_labels(run["result"])
            if arena is not None:
                ctx["table"] = [(issue, [rows.get((issue.id, lab)) for lab in labels]) for issue in arena.issues]
                fig = figures.overview_figure(arena, [(lab, rows, lab) for lab in labels],
                                              title="Forecast per issue (bars: 10–90% of the draws; dashed: status quo)"
                                              if run["draws"] else "Forecast per issue (dashed: status quo)")
                ctx["chart"] = figures.figure_html(fig, "overview")
            ctx["labels"] = labels
        return page(request, "run.html", **ctx)

    @app.get("/runs/{run_id}/report", response_class=HTMLResponse, include_in_schema=False)
    def run_report(run_id: int, standalone: bool = False) -> Response:
        report = store.report(run_id)
        if report is None:
            raise NotFound(f"run {run_id} has no report (not finished, failed, or does not exist)")
        if standalone:
            return HTMLResponse(with_inline_plotly(report), headers={
                "Content-Disposition": f'attachment; filename="tawazun-run-{run_id}-report.html"'})
        return HTMLResponse(report)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request, a: str = "", b: str = "") -> Response:
        runs = store.list()
        choices = compare_choices(runs)
        ctx: dict[str, Any] = {"choices": choices, "a": a, "b": b, "table": None, "chart": None,
                               "labels": None, "note": None}
        if a and b:
            sides = []
            for key in (a, b):
                rid, _, label = key.partition(":")
                if not rid.isdigit() or not label:
                    raise HTTPError(400, f"expected RUN:ENGINE, got {key!r}")
                run = get_run(int(rid))
                if run["status"] != "done":
                    raise HTTPError(409, f"run {rid} has not finished")
                rows = figures.forecast_rows(run["result"])
                if label not in figures.engine_labels(run["result"]):
                    raise NotFound(f"run {rid} has no engine {label!r}")
                sides.append((run, f"run {rid} · {label}", rows, label))
            arena = run_arena(sides[0][0])
            if arena is None:
                raise HTTPError(500, "the first run's arena snapshot cannot be read")
            if sides[0][0]["arena_sha256"] != sides[1][0]["arena_sha256"]:
                ctx["note"] = ("The two runs used different versions of the arena; issues are listed "
                               "from the first run's version.")
            sa = (sides[0][1], sides[0][2], sides[0][3])
            sb = (sides[1][1], sides[1][2], sides[1][3])
            ctx["table"] = figures.compare_table(arena, sa, sb)
            ctx["labels"] = (sa[0], sb[0])
            ctx["chart"] = figures.figure_html(figures.overview_figure(arena, [sa, sb], title="Side by side (bars: 10–90% of the draws; dashed: status quo)"),
                                               "compare")
        return page(request, "compare.html", **ctx)

    # ---- JSON API ------------------------------------------------------------------------
    @app.get("/api/arenas", tags=["arenas"], summary="List the workspace's arenas")
    def api_arenas() -> list[dict[str, Any]]:
        out = []
        for name in ws.arena_names():
            arena, errors = arena_or_errors(name)
            item: dict[str, Any] = {"name": name, "valid": arena is not None}
            if arena is not None:
                item.update(id=arena.meta.id, title=arena.meta.title, actors=len(arena.actors),
                            issues=len(arena.issues), stances=len(arena.stances))
            else:
                item["errors"] = errors
            out.append(item)
        return out

    @app.get("/api/arenas/{name}", tags=["arenas"], summary="One arena document as JSON")
    def api_arena(name: str) -> Any:
        data = jsonable_encoder(ws.load_data(name))
        try:
            return JSONResponse(data)
        except ValueError:  # NaN or infinity in a hand-edited file: JSON has no such numbers
            _arena, errors = arena_or_errors(name)
            raise HTTPError(422, errors or [f"{ws.display_name(name)}: holds numbers JSON cannot carry "
                                            "(NaN or infinity); fix the file"]) from None

    @app.put("/api/arenas/{name}", tags=["arenas"],
             summary="Replace (or create) an arena; 422 {errors: [file:line: field.path: message]} when invalid")
    def api_arena_put(request: Request, name: str, document: dict[str, Any] = Body(...)) -> Any:
        require_json(request)
        check_name(name)
        existed = ws.arena_path(name).exists()
        _arena, kept = ws.save_data(name, document, create=True)
        return JSONResponse({"name": name, "saved": True, "history": kept}, status_code=200 if existed else 201)

    @app.get("/api/engines", tags=["runs"], summary="Registered engines")
    def api_engines() -> list[dict[str, Any]]:
        return engine_list()

    @app.post("/api/runs", tags=["runs"], status_code=202, summary="Start a forecast run in the background")
    def api_run_start(request: Request, body: RunRequest) -> dict[str, Any]:
        require_json(request)
        check_name(body.arena)
        run_id = manager.submit(body.arena, ws.read_text(body.arena), ws.display_name(body.arena),
                                body.engines, body.draws, body.seed)
        return {"id": run_id, "status": "queued", "url": f"/api/runs/{run_id}", "page": f"/runs/{run_id}"}

    @app.get("/api/runs", tags=["runs"], summary="Recent runs (status only)")
    def api_runs() -> list[dict[str, Any]]:
        return store.list()

    @app.get("/api/runs/{run_id}", tags=["runs"], summary="A run's status and, when done, its result and manifest")
    def api_run(run_id: int) -> dict[str, Any]:
        run = get_run(run_id)
        run.pop("report", None)
        run.pop("arena_text", None)
        run["report_url"] = f"/runs/{run_id}/report" if run["status"] == "done" else None
        return run

    from tawazun.web.loop_api import register as register_loop

    register_loop(app, ws, require_json)

    @app.get("/api/runs/{run_id}/status", tags=["runs"], summary="A run's status only (for polling)")
    def api_run_status(run_id: int) -> dict[str, Any]:
        run = store.get(run_id, full=False)
        if run is None:
            raise NotFound(f"no run number {run_id}")
        return run

    return app
