"""Reading and writing CIB matrices: YAML ``scenarios:`` sections, ScenarioWizard ``.scw``, CSV.

Readers return plain dicts shaped like :class:`~tawazun.scenarios.model.ScenariosSection`
(validate them with :func:`section_from_dict`); writers take a validated section. Bad files
raise :class:`~tawazun.errors.InputError` with ``file:line: problem`` lines.

Imported judgments carry ``rationale: "imported from FILE"`` and one evidence item
``{source: "import", locator: "FILE:LINE"}`` so that they satisfy the section's rules; the
YAML written by the import commands lists that ``import`` source too.
"""

from __future__ import annotations

import csv
import io as _io
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tawazun.errors import InputError
from tawazun.files import read_bytes, read_text
from tawazun.scenarios.model import ScenariosSection, check, error_lines, to_arrays

IMPORT_SOURCE = "import"


# ------------------------------------------------------------------------------ helpers


def _slug(text: str, fallback: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_-]+", "-", text.strip()).strip("-")
    if not s or not re.match(r"[A-Za-z0-9]", s[0]):
        s = fallback
    return s


def _unique(ids: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i in ids:
        cand, n = i, 2
        while cand in seen:
            cand = f"{i}-{n}"
            n += 1
        seen.add(cand)
        out.append(cand)
    return out


def _imported_judgment(src: str, tgt: str, value: int, name: str, line: int) -> dict[str, Any]:
    return {
        "source": src,
        "target": tgt,
        "value": value,
        "rationale": f"imported from {name}",
        "evidence": [{"source": IMPORT_SOURCE, "locator": f"{name}:{line}"}],
    }


def section_from_dict(data: Any, where: str = "<scenarios>", lines: dict[str, int] | None = None, prefix: str = "") -> ScenariosSection:
    """Validate a dict; InputError lines ``where[:line]: path: problem``.

    ``lines`` maps dotted paths (``judgments.3``) to 1-based line numbers when known;
    ``prefix`` is prepended to the paths (``scenarios.``).
    """
    if not isinstance(data, dict):
        raise InputError(f"{where}: {prefix.rstrip('.') or 'scenarios'}: expected a mapping")
    try:
        return ScenariosSection.model_validate(data)
    except ValidationError as exc:
        out = []
        for msg in error_lines(exc):
            path = msg.split(":", 1)[0]
            line = _best_line(path, lines or {})
            loc = f"{where}:{line}" if line else where
            out.append(f"{loc}: {prefix}{msg}")
        raise InputError(out) from None


def _best_line(path: str, lines: dict[str, int]) -> int | None:
    parts = path.split(".")
    while parts:
        key = ".".join(parts)
        if key in lines:
            return lines[key]
        parts.pop()
    return lines.get("")


def _node_lines(node: yaml.Node, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    join = (lambda k: f"{path}.{k}") if path else (lambda k: str(k))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                out[join(k.value)] = k.start_mark.line + 1
                _node_lines(v, join(k.value), out)
                out[join(k.value)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _node_lines(v, join(i), out)
    return out


# ------------------------------------------------------------------------------ YAML


def read_yaml(path: str | Path) -> tuple[ScenariosSection, list[str] | None]:
    """The ``scenarios:`` section of a YAML file (an arena or a bare section file).

    Returns the section and the file's source ids (None when it lists no ``sources``).
    """
    path = Path(path)
    text = read_text(path, "YAML file")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InputError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict) or "scenarios" not in data:
        raise InputError(f"{path}:1: scenarios: missing (expected a top-level 'scenarios:' mapping)")
    lines = {k[len("scenarios.") :] if k.startswith("scenarios.") else ("" if k == "scenarios" else "?" + k): v for k, v in _node_lines(root).items()}
    section = section_from_dict(data["scenarios"], str(path), lines, prefix="scenarios.")
    sources = None
    if isinstance(data.get("sources"), list):
        sources = [s.get("id") for s in data["sources"] if isinstance(s, dict) and "id" in s]
        problems = check(section, sources)
        if problems:
            out = []
            for msg in problems:
                line = _best_line(msg.split(":", 1)[0], lines)
                out.append(f"{path}:{line}: scenarios.{msg}" if line else f"{path}: scenarios.{msg}")
            raise InputError(out)
    return section, sources


def import_source(name: str) -> dict[str, Any]:
    """The arena ``sources`` entry that imported judgments cite."""
    import datetime as _dt

    return {
        "id": IMPORT_SOURCE,
        "title": f"Cross-impact matrix imported from {name}",
        "publisher": "tawazun import",
        "date": _dt.date.today().isoformat(),
        "language": "en",
        "locator": "line",
    }


def section_yaml(section: ScenariosSection, sources: list[dict[str, Any]] | None = None) -> str:
    payload: dict[str, Any] = {}
    if sources:
        payload["sources"] = sources
    payload["scenarios"] = section.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(payload, sort_keys=False, allow_unicode=True, width=100)


# ------------------------------------------------------------------------------ CSV


def read_cibcsv(path: str | Path, text: str | None = None) -> dict[str, Any]:
    """A CSV matrix: header ``source\\target,A1,A2,...``, then one row per source variant.

    Variant labels are ``descriptor.variant`` (``gov.patriots``), or the short form
    ``<descriptor><number>`` (``A1`` = variant ``1`` of descriptor ``A``). A descriptor's
    variants must be adjacent; rows must list the variants in the header's order; empty
    cells are 0; cells inside a descriptor's own block must be 0 (or empty).
    """
    path = Path(path)
    name = path.name
    if text is None:
        text = read_text(path, "CSV matrix")
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(_io.StringIO(text)))]
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}:1: empty file")
    hline, header = rows[0]
    labels = [c.strip() for c in header[1:]]
    if len(labels) < 2:
        raise InputError(f"{path}:{hline}: header needs a corner cell and at least two variant labels")
    split: list[tuple[str, str]] = []
    for k, lab in enumerate(labels):
        if "." in lab:
            d, _, v = lab.partition(".")
        else:
            m = re.fullmatch(r"(.*?[^0-9])([0-9]+)", lab)
            if not m:
                raise InputError(f"{path}:{hline}: column {k + 2}: label {lab!r} is neither 'descriptor.variant' nor like 'A1'")
            d, v = m.group(1), m.group(2)
        if not d or not v:
            raise InputError(f"{path}:{hline}: column {k + 2}: label {lab!r} lacks a descriptor or a variant")
        split.append((d, v))
    order: list[str] = []
    variants: dict[str, list[str]] = {}
    for k, (d, v) in enumerate(split):
        if d in variants and order[-1] != d:
            raise InputError(f"{path}:{hline}: column {k + 2}: variants of descriptor {d!r} are not adjacent")
        if d not in variants:
            order.append(d)
            variants[d] = []
        if v in variants[d]:
            raise InputError(f"{path}:{hline}: column {k + 2}: duplicate variant {lab_of(d, v)!r}")
        variants[d].append(v)
    body = rows[1:]
    if len(body) != len(labels):
        last = body[-1][0] if body else hline
        raise InputError(f"{path}:{last}: expected {len(labels)} matrix rows (one per variant), found {len(body)}")
    judgments = []
    for r, (lineno, row) in enumerate(body):
        if not row or row[0].strip() != labels[r]:
            got = row[0].strip() if row else ""
            raise InputError(f"{path}:{lineno}: row label {got!r} should be {labels[r]!r} (rows follow the header's order)")
        cells = row[1:]
        if len(cells) != len(labels):
            raise InputError(f"{path}:{lineno}: expected {len(labels)} values, found {len(cells)}")
        sd, sv = split[r]
        for k, cell in enumerate(cells):
            cell = cell.strip()
            if cell == "":
                continue
            try:
                value = int(cell.replace("+", "", 1) if cell.startswith("+") else cell)
            except ValueError:
                raise InputError(f"{path}:{lineno}: column {k + 2} ({labels[k]}): {cell!r} is not an integer") from None
            if value == 0:
                continue
            td, tv = split[k]
            if td == sd:
                raise InputError(f"{path}:{lineno}: column {k + 2} ({labels[k]}): non-zero judgment inside descriptor {sd!r}'s own block")
            judgments.append(_imported_judgment(f"{_id(sd)}.{_id(sv)}", f"{_id(td)}.{_id(tv)}", value, name, lineno))
    return _assemble(
        [(d, d, [(v, v, "") for v in variants[d]]) for d in order], judgments, path, hline
    )


def lab_of(d: str, v: str) -> str:
    return f"{d}.{v}"


def _id(text: str) -> str:
    return _slug(text, "x")


def _assemble(descs: list[tuple[str, str, list[tuple[str, str, str]]]], judgments: list[dict[str, Any]], path: Path, line: int) -> dict[str, Any]:
    """descs: (raw id, English name, [(raw variant id, label, meaning)])."""
    ids = [_id(d) for d, _, _ in descs]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}:{line}: descriptor names collide once made into ids: {', '.join(ids)}")
    out = []
    for did, (_, en, vs) in zip(ids, descs):
        vids = [_id(v) for v, _, _ in vs]
        if len(set(vids)) != len(vids):
            raise InputError(f"{path}:{line}: variant names of descriptor {did!r} collide once made into ids")
        if len(vs) < 2:
            raise InputError(f"{path}:{line}: descriptor {did!r} has fewer than two variants")
        out.append(
            {
                "id": did,
                "names": {"en": en},
                "variants": [{"id": vid, "label": lab, "meaning": mean} for vid, (_, lab, mean) in zip(vids, vs)],
            }
        )
    biggest = max([abs(j["value"]) for j in judgments] + [3])
    data: dict[str, Any] = {"descriptors": out, "judgments": judgments}
    if biggest > 3:
        data = {"scale": biggest, **data}
    return data


def write_cibcsv(section: ScenariosSection) -> str:
    """CSV with ``descriptor.variant`` labels; a range judgment is written as its mode."""
    arr = to_arrays(section)
    labels = [f"{d}.{v}" for d, vs in zip(arr.descriptor_ids, arr.variant_ids) for v in vs]
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["source\\target", *labels])
    for i, lab in enumerate(labels):
        w.writerow([lab, *[_num(x) for x in arr.matrix[i]]])
    return buf.getvalue()


def _num(x: float) -> str:
    return str(int(round(float(x))))


# ------------------------------------------------------------------------------ ScenarioWizard


def read_scw(path: str | Path, text: str | None = None) -> dict[str, Any]:
    """A ScenarioWizard 4 project file (plain text, as written by ScenarioWizard 4.x).

    Layout, sections separated by lines holding only ``#``: (1) ``$ ScenarioWizard …``, the
    project name, then per descriptor ``&NAME`` and one `` -VARIANT`` line per variant;
    (2) per descriptor ``&description`` and one line per variant description; (3) empty;
    (4) one colour per variant; (5) empty; (6) the V x V matrix, comma-separated integers,
    rows = source variant, columns = target variant; then free-text comments (ignored).
    """
    path = Path(path)
    name = path.name
    if text is None:
        raw = read_bytes(path, "ScenarioWizard file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("$ ScenarioWizard"):
        raise InputError(f"{path}:1: not a ScenarioWizard project (first line should start with '$ ScenarioWizard')")
    sections: list[list[tuple[int, str]]] = [[]]
    for n, line in enumerate(lines[2:], start=3):
        if line.strip() == "#":
            sections.append([])
            if len(sections) > 6:
                break
            continue
        sections[-1].append((n, line))
    if len(sections) < 6:
        raise InputError(f"{path}:{len(lines)}: file ends before the cross-impact matrix (expected 5 '#' separators, found {len(sections) - 1})")
    descs: list[tuple[str, list[str], int]] = []
    for n, line in sections[0]:
        if line.startswith("&"):
            descs.append((line[1:].strip(), [], n))
        elif line.startswith(" -") or line.startswith("-"):
            if not descs:
                raise InputError(f"{path}:{n}: variant before any descriptor ('&NAME' line)")
            descs[-1][1].append(line.strip()[1:].strip())
        elif line.strip():
            raise InputError(f"{path}:{n}: expected '&DESCRIPTOR' or ' -variant', got {line.strip()!r}")
    if not descs:
        raise InputError(f"{path}:3: no descriptors ('&NAME' lines)")
    for dname, vs, n in descs:
        if not dname:
            raise InputError(f"{path}:{n}: descriptor without a name")
        if len(vs) < 2:
            raise InputError(f"{path}:{n}: descriptor {dname!r} has fewer than two variants")
    # descriptions (optional text)
    texts: list[tuple[str, list[str]]] = []
    for _, line in sections[1]:
        if line.startswith("&"):
            texts.append((line[1:].strip(), []))
        elif texts:
            texts[-1][1].append(line.strip())
    v = sum(len(vs) for _, vs, _ in descs)
    matrix_lines = [(n, line) for n, line in sections[5] if line.strip()]
    if len(matrix_lines) != v:
        where = matrix_lines[-1][0] if matrix_lines else (sections[5][0][0] if sections[5] else len(lines))
        raise InputError(f"{path}:{where}: expected {v} matrix rows (one per variant), found {len(matrix_lines)}")
    flat = [(di, dname, vname) for di, (dname, vs, _) in enumerate(descs) for vname in vs]
    did = _unique([_id(d) for d, _, _ in descs])
    vid = [_unique([_id(x) for x in vs]) for _, vs, _ in descs]
    flat_ids: list[tuple[int, str]] = []
    for di, (_, vs, _) in enumerate(descs):
        for j in range(len(vs)):
            flat_ids.append((di, f"{did[di]}.{vid[di][j]}"))
    judgments = []
    for r, (n, line) in enumerate(matrix_lines):
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != v:
            raise InputError(f"{path}:{n}: expected {v} comma-separated values, found {len(cells)}")
        for k, cell in enumerate(cells):
            try:
                value = int(cell)
            except ValueError:
                raise InputError(f"{path}:{n}: value {k + 1}: {cell!r} is not an integer") from None
            if value == 0:
                continue
            if flat_ids[r][0] == flat_ids[k][0]:
                raise InputError(f"{path}:{n}: value {k + 1}: non-zero judgment inside descriptor {descs[flat_ids[r][0]][0]!r}'s own block")
            judgments.append(_imported_judgment(flat_ids[r][1], flat_ids[k][1], value, name, n))
    out_descs = []
    for di, (dname, vs, _) in enumerate(descs):
        desc_text, var_texts = texts[di] if di < len(texts) else ("", [])
        out_descs.append(
            (
                did[di],
                desc_text or dname,
                [(vid[di][j], vs[j], var_texts[j] if j < len(var_texts) else "") for j in range(len(vs))],
            )
        )
    del flat
    data = _assemble(out_descs, judgments, path, 3)
    return data


def write_scw(section: ScenariosSection, project: str = "tawazun.scw") -> str:
    """A ScenarioWizard 4 project file; ranges are written as their mode, labels as names."""
    arr = to_arrays(section)
    out = ["$ ScenarioWizard 4.0", project]
    for d in section.descriptors:
        out.append(f"&{_scw_text(d.id)}")
        out.extend(f" -{_scw_text(v.id)}" for v in d.variants)
    out.append("#")
    for d in section.descriptors:
        out.append(f"&{_scw_text(d.names.en)}")
        out.extend(f" {_scw_text(v.meaning or v.label)}" for v in d.variants)
    out += ["#", "#"]
    out.extend("FFFFFF" for _ in range(int(arr.offsets[-1])))
    out += ["#", "#"]
    for row in arr.matrix:
        out.append(",".join(f"{int(round(x)):2d} " for x in row).rstrip())
    out += ["#", "# 0-0", '""']
    n = len(section.descriptors)
    for _ in range(n):
        out += ["# ", '""']
    for _ in range(n * n):
        out += ["#  -> ", '""']
    out += ["#", "#"]
    return "\n".join(out) + "\n"


def _scw_text(text: str) -> str:
    return " ".join(text.replace("#", " ").split())
