"""JSON endpoints of the analyst's loop for the arena page: what-if, levers, questions.

They compute and return; nothing is written (a what-if never touches the arena file).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tawazun.web.context import Web, web
from tawazun.web.runs import MAX_DRAWS

LOOP_MAX_DRAWS = min(MAX_DRAWS, 5000)  # an interactive request: keep it to seconds


class WhatIfRequest(BaseModel):
    set: list[str] = Field(default_factory=list, description="ACTOR.ISSUE.FIELD=VALUE or =LOW:MODE:HIGH")
    fix: list[str] = Field(default_factory=list, description="DESCRIPTOR=VARIANT (CIB pins)")
    engines: list[str] | str = Field(default="compromise,median,bdm")
    draws: int = Field(default=300, ge=1, le=LOOP_MAX_DRAWS)
    seed: int = Field(default=0, ge=0, lt=2**32)
    # the arena's dynamics, paired (loop/whatif.py::compare_dynamics): off unless asked, since
    # the protest worlds cost seconds per few hundred paths
    dynamics: bool = Field(default=False, description="also compare the dynamics section's paths")


router = APIRouter()




@router.post("/api/arenas/{name}/whatif", tags=["loop"],
          summary="Baseline and variant on common random numbers; 422 {errors} for a bad change")
def api_whatif(request: Request, name: str, body: WhatIfRequest, w: Web = Depends(web)) -> dict[str, Any]:
    from tawazun.errors import InputError
    from tawazun.forecast import ForecastConfig
    from tawazun.loop.whatif import apply_changes, parse_fix, parse_set, whatif

    w.require_json(request)
    base = w.ws.load(name)
    changes = [parse_set(s) for s in body.set]
    fixes = [parse_fix(f) for f in body.fix]
    if not changes and not fixes:
        raise InputError("set: give at least one change or pin")
    variant, resolved = apply_changes(w.ws.read_text(name), w.ws.display_name(name), changes)
    engines = tuple(body.engines.split(",")) if isinstance(body.engines, str) else tuple(body.engines)
    return whatif(base, variant, resolved, ForecastConfig(engines=engines, seed=body.seed, draws=body.draws), fixes,
                  dynamics=body.dynamics)


@router.get("/api/arenas/{name}/levers", tags=["loop"], summary="An actor's ranked levers on one issue")
def api_levers(name: str, actor: str, issue: str, engine: str = "compromise", goal: float | None = None,
               step: float | None = None, budget: float | None = None, draws: int = 200,
               seed: int = 0, w: Web = Depends(web)) -> dict[str, Any]:
    from tawazun.loop.levers import levers

    return levers(w.ws.load(name), actor, issue, engine, goal=goal, step=step, budget=budget,
                  draws=max(1, min(draws, LOOP_MAX_DRAWS)), seed=seed)


@router.get("/api/arenas/{name}/questions", tags=["loop"], summary="Each question's forecast per engine")
def api_questions(name: str, engines: str = "compromise,median,bdm", draws: int = 300,
                  seed: int = 0, w: Web = Depends(web)) -> list[dict[str, Any]]:
    from tawazun.forecast import ForecastConfig, execute
    from tawazun.loop.questions import question_forecasts

    arena = w.ws.load(name)
    if not arena.questions:
        return []
    config = ForecastConfig(engines=tuple(engines.split(",")), seed=seed,
                            draws=max(1, min(draws, LOOP_MAX_DRAWS)), sensitivity=False, sobol_n=0,
                            scenarios=False, dynamics=False)  # questions read no dynamics yet
    return question_forecasts(execute(arena, config))
