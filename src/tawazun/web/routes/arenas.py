"""Arena pages: the index, an arena, stance and actor edit forms, a source's cited passages."""

from __future__ import annotations

import typing
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tawazun.arena.model import ActorKind
from tawazun.errors import InputError
from tawazun.web.context import Web, web
from tawazun.web.forms import form_values_for_number, number_from_form
from tawazun.web.workspace import NotFound, check_name, cited_paragraphs

ACTOR_KINDS = list(typing.get_args(ActorKind))

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, w: Web = Depends(web)) -> Response:
    rows = []
    for name in w.ws.arena_names():
        arena, errors = w.arena_or_errors(name)
        rows.append({"name": name, "arena": arena, "errors": errors})
    return w.page(request, "arenas.html", arenas=rows, runs=w.store.list(limit=10))


@router.get("/arenas/{name}", response_class=HTMLResponse, include_in_schema=False)
def arena_page(request: Request, name: str, saved: str | None = None, w: Web = Depends(web)) -> Response:
    w.ws.read_text(name)  # 400/404 first
    arena, errors = w.arena_or_errors(name)
    flash = None
    if saved:
        flash = f"Saved. The previous version is kept as history/{saved}." if saved != "-" else "Saved."
    ctx: dict[str, Any] = {"name": name, "arena": arena, "errors": errors, "flash": flash,
                           "history": w.ws.history(name)[:10], "engines": w.engine_list(),
                           "runs": [r for r in w.store.list(limit=50) if r["arena"] == name][:10]}
    if arena is not None:
        ctx["stances_by_issue"] = {
            issue.id: [(k, st) for k, st in enumerate(arena.stances) if st.issue == issue.id]
            for issue in arena.issues
        }
        ctx["default_engines"] = ["bdm"] if any(e["name"] == "bdm" for e in ctx["engines"]) else ["compromise"]
    return w.page(request, "arena.html", **ctx)

# stance edit


def stance_form_values(arena_data: dict[str, Any], idx: int) -> dict[str, str]:
    st = arena_data["stances"][idx]
    vals = {}
    vals.update(form_values_for_number(st.get("position"), "position"))
    vals.update(form_values_for_number(st.get("salience"), "salience"))
    vals.update(form_values_for_number(st.get("capability"), "capability"))
    vals["note"] = str(st.get("note") or "")
    return vals


def stance_context(w: Web, name: str, idx: int) -> dict[str, Any]:
    data = w.ws.load_data(name)
    stances = data.get("stances") if isinstance(data.get("stances"), list) else []
    if not (0 <= idx < len(stances)) or not isinstance(stances[idx], dict):
        raise NotFound(f"no stance number {idx} in arena {name!r}")
    arena, _ = w.arena_or_errors(name)
    st = stances[idx]
    actor = issue = None
    if arena is not None:
        actor = next((a for a in arena.actors if a.id == st.get("actor")), None)
        issue = next((i for i in arena.issues if i.id == st.get("issue")), None)
    return {"name": name, "idx": idx, "stance": st, "actor": actor, "issue": issue, "arena": arena,
            "data": data}


@router.get("/arenas/{name}/stances/{idx}/edit", response_class=HTMLResponse, include_in_schema=False)
def stance_edit(request: Request, name: str, idx: int, w: Web = Depends(web)) -> Response:
    ctx = stance_context(w, name, idx)
    return w.page(request, "stance_edit.html", values=stance_form_values(ctx["data"], idx), errors=[], **ctx)


@router.post("/arenas/{name}/stances/{idx}", response_class=HTMLResponse, include_in_schema=False)
async def stance_save(request: Request, name: str, idx: int, w: Web = Depends(web)) -> Response:
    check_name(name)
    form = await w.checked_form(request)
    ctx = stance_context(w, name, idx)
    fields = {
        "position": number_from_form(form, "position"),
        "salience": number_from_form(form, "salience"),
        "capability": number_from_form(form, "capability"),
        "note": (form.get("note") or "").strip() or None,
    }
    new = w.ws.with_stance(ctx["data"], idx, fields)
    try:
        _arena, kept = w.ws.save_data(name, new)
    except InputError as exc:
        return w.page(request, "stance_edit.html", http_status=422, values=form, errors=exc.lines, **ctx)
    return RedirectResponse(f"/arenas/{quote(name)}?saved={quote(kept or '-')}#stance-{idx}", status_code=303)

# actor edit


def actor_context(w: Web, name: str, actor_id: str) -> dict[str, Any]:
    data = w.ws.load_data(name)
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
    vals.update(form_values_for_number(actor.get("capability"), "capability"))
    return vals


@router.get("/arenas/{name}/actors/{actor_id}/edit", response_class=HTMLResponse, include_in_schema=False)
def actor_edit(request: Request, name: str, actor_id: str, w: Web = Depends(web)) -> Response:
    ctx = actor_context(w, name, actor_id)
    return w.page(request, "actor_edit.html", values=actor_form_values(ctx["actor"]), errors=[], **ctx)


@router.post("/arenas/{name}/actors/{actor_id}", response_class=HTMLResponse, include_in_schema=False)
async def actor_save(request: Request, name: str, actor_id: str, w: Web = Depends(web)) -> Response:
    check_name(name)
    form = await w.checked_form(request)
    ctx = actor_context(w, name, actor_id)
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
    new = w.ws.with_actor(ctx["data"], actor_id, fields)
    try:
        _arena, kept = w.ws.save_data(name, new)
    except InputError as exc:
        return w.page(request, "actor_edit.html", http_status=422, values=form, errors=exc.lines, **ctx)
    return RedirectResponse(f"/arenas/{quote(name)}?saved={quote(kept or '-')}#actor-{quote(actor_id)}",
                            status_code=303)


@router.get("/arenas/{name}/sources/{source_id}", response_class=HTMLResponse, include_in_schema=False)
def source_page(request: Request, name: str, source_id: str, loc: str = "", note: str = "", w: Web = Depends(web)) -> Response:
    arena, errors = w.arena_or_errors(name)
    if arena is None:
        raise InputError(errors)
    source = next((s for s in arena.sources if s.id == source_id), None)
    if source is None:
        raise NotFound(f"arena {name!r} has no source {source_id!r}")
    paragraphs = w.ws.source_paragraphs(source_id)
    cited = cited_paragraphs(loc)
    citing = [(st, ev) for st in arena.stances for ev in st.evidence
              if ev.source == source_id and (not cited or set(cited_paragraphs(ev.locator)) & set(cited))]
    return w.page(request, "source.html", name=name, arena=arena, source=source, paragraphs=paragraphs,
                cited=cited, loc=loc, note=note, citing=citing[:40],
                rtl=source.language.lower().startswith(("ar", "fa", "he", "ur")))
