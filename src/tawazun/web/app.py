"""The FastAPI application: server-rendered pages, a JSON API under /api/, static files.

Build one with :func:`create_app`; ``tawazun serve`` runs it under uvicorn. The app holds the
middleware, the error handlers and the static files; the routes live in router modules
(:mod:`tawazun.web.routes`, :mod:`tawazun.web.loop_api`) and share one
:class:`~tawazun.web.context.Web` (workspace, runs, CSRF signer, pages).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import plotly
import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from tawazun import __version__
from tawazun.errors import InputError
from tawazun.web.context import HTTPError, Web, log
from tawazun.web.forms import fmt, number_from_form, rng
from tawazun.web.routes import api, arenas, evidence, runs
from tawazun.web.routes.evidence import EXTRACT_MAX_CHARS
from tawazun.web.runs import RunManager, RunStore
from tawazun.web.security import CSRF_COOKIE, CSRF_FIELD, MAX_BODY, BodySizeLimit, CsrfSigner, new_token
from tawazun.web.workspace import BadName, NotFound, Workspace, cited_paragraphs

__all__ = ["EXTRACT_MAX_CHARS", "HTTPError", "create_app", "number_from_form"]

HERE = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


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

    w = Web(ws, store, manager, signer, templates)
    app.state.web = w

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
    error_response = w.error_response

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

    # ---- routes --------------------------------------------------------------------------
    from tawazun.web import loop_api

    for module in (arenas, evidence, runs, api, loop_api):
        app.include_router(module.router)
    return app
