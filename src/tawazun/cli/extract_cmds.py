"""`tawazun extract`: evidence from an Arabic or English text (JSON, draft arena, HTML)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Optional

import typer

from tawazun.cli.app import app
from tawazun.cli.common import atomic_write_text, user_errors
from tawazun.errors import InputError
from tawazun.files import read_text


PROGRESS_MIN_CHARS = 200_000  # below this a run takes a few seconds at most: no bar


def _run_with_progress(run_extract, text: str, **kw):
    """Run the extraction with the shared Rich progress bar (cli/progress.py) for large
    inputs: the pipeline reports each of its stages."""
    if len(text) < PROGRESS_MIN_CHARS:
        return run_extract(text, **kw)
    from tawazun.cli.progress import progress_bar

    with progress_bar("extract") as cb:
        return run_extract(text, progress=lambda done, total, _label: cb(done, total), **kw)


def read_text_file(path: Path) -> str:
    """UTF-8 text of ``path``, or an InputError naming the file and the problem."""
    return read_text(path, "UTF-8 text file", allow_empty=False)


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of: '{value}' is not a date (expected YYYY-MM-DD)") from None


@app.command()
@user_errors
def extract(
    file: Path = typer.Argument(..., help="Text file (UTF-8), one paragraph a line.", show_default=False),
    lang: str = typer.Option("auto", "--lang", help="ar, en or auto."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Reference date for relative dates (YYYY-MM-DD)."),
    arena: Optional[Path] = typer.Option(None, "--arena", help="Arena YAML whose actor names extend the gazetteer."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the evidence JSON to PATH ('-' = stdout)."),
    draft: Optional[Path] = typer.Option(None, "--draft", help="Write a draft arena YAML here."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a highlighted HTML page here."),
    source_id: Optional[str] = typer.Option(None, "--source-id", help="Source id in the draft (default: file name)."),
) -> None:
    """Read actors, quotes, numbers, dates and stance cues out of a text (Arabic or English)."""
    from tawazun.evidence.normalize import detect_lang
    from tawazun.evidence.pipeline import draft_arena, extract as run_extract
    from tawazun.evidence.report import render_html

    if lang not in ("auto", "ar", "en"):
        raise InputError(f"--lang: '{lang}' is not one of ar, en, auto")
    ref = _parse_date(as_of) if as_of else None
    from tawazun.evidence.pipeline import MAX_CHARS, TextTooLarge, check_size

    try:
        # 4 bytes per character at most in UTF-8: a bigger file is over the cap unread
        if file.is_file() and file.stat().st_size > 4 * MAX_CHARS:
            raise TextTooLarge(f"the file is {file.stat().st_size:,} bytes; the limit is {MAX_CHARS:,} "
                               "characters (split it into parts)")
        text = read_text_file(file)
        check_size(text)
    except TextTooLarge as exc:
        raise InputError(f"{file}: {exc}") from None
    arena_obj = None
    if arena is not None:
        from tawazun.arena import load_arena

        if not arena.exists():
            raise InputError(f"{arena}: no such file")
        arena_obj = load_arena(arena)
    result = _run_with_progress(run_extract, text, lang=lang, as_of=ref, arena=arena_obj)
    language = detect_lang(text) if lang == "auto" else lang

    # build every output first; write only when all of them are ready
    outputs: list[tuple[str, str]] = []
    if draft is not None:
        import yaml

        sid = source_id or re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem).strip("-.") or "source"
        if not re.match(r"^[A-Za-z0-9]", sid):
            sid = "s" + sid
        meta = {"id": sid, "title": file.name, "language": language,
                "date": ref.isoformat() if ref else None, "as_of": ref.isoformat() if ref else None}
        doc = draft_arena(result, meta, text=text)
        ytext = "# Draft arena written by `tawazun extract`; positions are placeholders for the analyst.\n"
        ytext += yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
        try:
            from tawazun.arena import parse_arena_text
        except ImportError:  # pragma: no cover - arena package always present in the product
            parse_arena_text = None
        if parse_arena_text is not None:
            parse_arena_text(ytext, str(draft))  # raises InputError if the draft is not a valid arena
        outputs.append((str(draft), ytext))
    if html_out is not None:
        outputs.append((str(html_out), render_html(text, result, title=f"Evidence: {file.name}", lang=language)))
    # the JSON is serialised before anything is written (a non-finite number or any
    # other failure here must not leave the draft or the HTML behind)
    import json

    jtext = json.dumps(result, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    to_stdout = json_out == "-" or (json_out is None and not outputs)
    if json_out is not None and json_out != "-":
        outputs.append((json_out, jtext))
    for path, content in outputs:
        atomic_write_text(path, content)
    if to_stdout:
        typer.echo(jtext, nl=False)
