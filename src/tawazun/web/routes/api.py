"""The JSON API under /api/: arenas, engines and runs (documented at /docs)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tawazun.web.context import HTTPError, Web, web
from tawazun.web.runs import MAX_DRAWS
from tawazun.web.workspace import NotFound, check_name


class RunRequest(BaseModel):
    arena: str = Field(description="Arena name in the workspace (file arenas/<name>.yaml)")
    engines: list[str] | str = Field(default="all", description="Engine names, a comma list, or 'all'")
    draws: int = Field(default=0, ge=0, le=MAX_DRAWS, description="Monte Carlo draws (0: point forecast only)")
    seed: int = Field(default=0, ge=0, lt=2**32)

router = APIRouter()


@router.get("/api/arenas", tags=["arenas"], summary="List the workspace's arenas")
def api_arenas(w: Web = Depends(web)) -> list[dict[str, Any]]:
    out = []
    for name in w.ws.arena_names():
        arena, errors = w.arena_or_errors(name)
        item: dict[str, Any] = {"name": name, "valid": arena is not None}
        if arena is not None:
            item.update(id=arena.meta.id, title=arena.meta.title, actors=len(arena.actors),
                        issues=len(arena.issues), stances=len(arena.stances))
        else:
            item["errors"] = errors
        out.append(item)
    return out


@router.get("/api/arenas/{name}", tags=["arenas"], summary="One arena document as JSON")
def api_arena(name: str, w: Web = Depends(web)) -> Any:
    data = jsonable_encoder(w.ws.load_data(name))
    try:
        return JSONResponse(data)
    except ValueError:  # NaN or infinity in a hand-edited file: JSON has no such numbers
        _arena, errors = w.arena_or_errors(name)
        raise HTTPError(422, errors or [f"{w.ws.display_name(name)}: holds numbers JSON cannot carry "
                                        "(NaN or infinity); fix the file"]) from None


@router.put("/api/arenas/{name}", tags=["arenas"],
         summary="Replace (or create) an arena; 422 {errors: [file:line: field.path: message]} when invalid")
def api_arena_put(request: Request, name: str, document: dict[str, Any] = Body(...), w: Web = Depends(web)) -> Any:
    w.require_json(request)
    check_name(name)
    existed = w.ws.arena_path(name).exists()
    _arena, kept = w.ws.save_data(name, document, create=True)
    return JSONResponse({"name": name, "saved": True, "history": kept}, status_code=200 if existed else 201)


@router.get("/api/engines", tags=["runs"], summary="Registered engines")
def api_engines(w: Web = Depends(web)) -> list[dict[str, Any]]:
    return w.engine_list()


@router.post("/api/runs", tags=["runs"], status_code=202, summary="Start a forecast run in the background")
def api_run_start(request: Request, body: RunRequest, w: Web = Depends(web)) -> dict[str, Any]:
    w.require_json(request)
    check_name(body.arena)
    run_id = w.manager.submit(body.arena, w.ws.read_text(body.arena), w.ws.display_name(body.arena),
                            body.engines, body.draws, body.seed)
    return {"id": run_id, "status": "queued", "url": f"/api/runs/{run_id}", "page": f"/runs/{run_id}"}


@router.get("/api/runs", tags=["runs"], summary="Recent runs (status only)")
def api_runs(w: Web = Depends(web)) -> list[dict[str, Any]]:
    return w.store.list()


@router.get("/api/runs/{run_id}", tags=["runs"], summary="A run's status and, when done, its result and manifest")
def api_run(run_id: int, w: Web = Depends(web)) -> dict[str, Any]:
    run = w.get_run(run_id)
    run.pop("report", None)
    run.pop("arena_text", None)
    run["report_url"] = f"/runs/{run_id}/report" if run["status"] == "done" else None
    return run


@router.get("/api/runs/{run_id}/status", tags=["runs"], summary="A run's status only (for polling)")
def api_run_status(run_id: int, w: Web = Depends(web)) -> dict[str, Any]:
    run = w.store.get(run_id, full=False)
    if run is None:
        raise NotFound(f"no run number {run_id}")
    return run
