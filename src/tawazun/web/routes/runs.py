"""Run pages: start a run from an arena page, the run list, a run, its report, compare two."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tawazun.errors import InputError
from tawazun.report.html import with_inline_plotly
from tawazun.web import figures
from tawazun.web.context import HTTPError, Web, web
from tawazun.web.workspace import NotFound, check_name

router = APIRouter()


@router.post("/arenas/{name}/runs", include_in_schema=False)
async def run_start(request: Request, name: str, w: Web = Depends(web)) -> Response:
    check_name(name)
    form = await request.form()
    w.verify_form(request, form)
    engines = [str(e) for e in form.getlist("engines")]
    if not engines:
        raise InputError("engines: choose at least one engine")
    try:
        draws = int(str(form.get("draws") or "0"))
        seed = int(str(form.get("seed") or "0"))
    except ValueError:
        raise InputError("draws and seed must be whole numbers") from None
    run_id = w.manager.submit(name, w.ws.read_text(name), w.ws.display_name(name), engines, draws, seed)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs", response_class=HTMLResponse, include_in_schema=False)
def runs_page(request: Request, w: Web = Depends(web)) -> Response:
    runs = w.store.list()
    return w.page(request, "runs.html", runs=runs, choices=compare_choices(w, runs))


def compare_choices(w: Web, runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for r in runs:
        if r["status"] != "done":
            continue
        for label in figures.engine_labels(w.store.result(r["id"]) or {}):
            out.append((f"{r['id']}:{label}", f"run {r['id']} · {r['arena']} · {label}"
                        + (f" · {r['draws']} draws" if r["draws"] else "")))
    return out


@router.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
def run_page(request: Request, run_id: int, w: Web = Depends(web)) -> Response:
    run = w.get_run(run_id)
    ctx: dict[str, Any] = {"run": run, "table": None, "chart": None, "labels": [], "dynamics": ""}
    if run["status"] == "done" and run["result"]:
        ctx["dynamics"] = figures.dynamics_html(run["result"])  # the report's dynamics charts
        arena = w.run_arena(run)
        rows = figures.forecast_rows(run["result"])
        labels = figures.engine_labels(run["result"])
        if arena is not None:
            ctx["table"] = [(issue, [rows.get((issue.id, lab)) for lab in labels]) for issue in arena.issues]
            fig = figures.overview_figure(arena, [(lab, rows, lab) for lab in labels],
                                          title="Forecast per issue (bars: 10–90% of the draws; dashed: status quo)"
                                          if run["draws"] else "Forecast per issue (dashed: status quo)")
            ctx["chart"] = figures.figure_html(fig, "overview")
        ctx["labels"] = labels
    return w.page(request, "run.html", **ctx)


@router.get("/runs/{run_id}/report", response_class=HTMLResponse, include_in_schema=False)
def run_report(run_id: int, standalone: bool = False, w: Web = Depends(web)) -> Response:
    report = w.store.report(run_id)
    if report is None:
        raise NotFound(f"run {run_id} has no report (not finished, failed, or does not exist)")
    if standalone:
        return HTMLResponse(with_inline_plotly(report), headers={
            "Content-Disposition": f'attachment; filename="tawazun-run-{run_id}-report.html"'})
    return HTMLResponse(report)


@router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
def compare_page(request: Request, a: str = "", b: str = "", w: Web = Depends(web)) -> Response:
    runs = w.store.list()
    choices = compare_choices(w, runs)
    ctx: dict[str, Any] = {"choices": choices, "a": a, "b": b, "table": None, "chart": None,
                           "labels": None, "note": None}
    if a and b:
        sides = []
        for key in (a, b):
            rid, _, label = key.partition(":")
            if not rid.isdigit() or not label:
                raise HTTPError(400, f"expected RUN:ENGINE, got {key!r}")
            run = w.get_run(int(rid))
            if run["status"] != "done":
                raise HTTPError(409, f"run {rid} has not finished")
            rows = figures.forecast_rows(run["result"])
            if label not in figures.engine_labels(run["result"]):
                raise NotFound(f"run {rid} has no engine {label!r}")
            sides.append((run, f"run {rid} · {label}", rows, label))
        arena = w.run_arena(sides[0][0])
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
    return w.page(request, "compare.html", **ctx)
