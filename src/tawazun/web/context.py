"""What every route of the workbench shares: the workspace, the run store and worker, the
CSRF signer and the page renderer. One :class:`Web` per app (``app.state.web``); routes get it
through the :func:`web` dependency."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from tawazun.arena.model import Arena
from tawazun.errors import InputError
from tawazun.web.runs import RunManager, RunStore
from tawazun.web.security import CSRF_COOKIE, CSRF_FIELD, CsrfSigner
from tawazun.web.workspace import NotFound, Workspace, parse_cached

log = logging.getLogger("tawazun.web")


class HTTPError(Exception):
    """An error with a status code and one or more message lines (API: {"errors": lines})."""

    def __init__(self, status: int, lines: list[str] | str):
        self.status = status
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("; ".join(self.lines))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class Web:
    def __init__(self, ws: Workspace, store: RunStore, manager: RunManager, signer: CsrfSigner,
                 templates: Jinja2Templates):
        self.ws, self.store, self.manager, self.signer, self.templates = ws, store, manager, signer, templates

    def page(self, request: Request, template: str, /, *, http_status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("flash", None)
        return self.templates.TemplateResponse(request, template, {"csrf": request.state.csrf, **ctx},
                                               status_code=http_status)

    def error_response(self, request: Request, status: int, lines: list[str]) -> Response:
        if is_api(request):
            return JSONResponse({"errors": lines}, status_code=status)
        return self.page(request, "error.html", http_status=status, status_code=status, lines=lines)

    def arena_or_errors(self, name: str) -> tuple[Arena | None, list[str]]:
        try:
            return self.ws.load(name), []
        except InputError as exc:
            return None, exc.lines
        except Exception:  # noqa: BLE001 - one bad file must never break the index
            log.exception("arena %s could not be read", name)
            return None, [f"{self.ws.display_name(name)}:1: (document): this file could not be read "
                          "(the server log has the details)"]

    def verify_form(self, request: Request, form: Any) -> None:
        if not self.signer.verify(request.cookies.get(CSRF_COOKIE), form.get(CSRF_FIELD)):
            raise HTTPError(403, "the form's security token is missing or stale: reload the page and try again")

    async def checked_form(self, request: Request) -> dict[str, str]:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        self.verify_form(request, values)
        return values

    def require_json(self, request: Request) -> None:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise HTTPError(415, "send the body as JSON with Content-Type: application/json")

    def engine_list(self) -> list[dict[str, Any]]:
        from tawazun.engines import REGISTRY
        from tawazun.forecast import resolve_engines

        return [{"name": n, "summary": REGISTRY[n].summary, "dynamic": REGISTRY[n].dynamic,
                 "joint": REGISTRY[n].joint} for n in resolve_engines("all")]

    def run_arena(self, run: dict[str, Any]) -> Arena | None:
        try:
            return parse_cached(run.get("arena_text") or "", f"runs/{run['id']}/arena.yaml")
        except InputError:
            return None

    def get_run(self, run_id: int) -> dict[str, Any]:
        run = self.store.get(run_id)
        if run is None:
            raise NotFound(f"no run number {run_id}")
        return run


def web(request: Request) -> Web:
    """FastAPI dependency: the app's shared :class:`Web`."""
    return request.app.state.web
