"""Reader for the DEU III (Decision-making in the European Union) tab-separated layout.

One row per controversial issue. Positions ``p<actor>`` and saliences ``s<actor>`` are on
0-100; ``rp`` is the reference point (status quo), ``out`` the decision outcome. The reader
is strict about what it cannot interpret (every malformed cell becomes one
``file:row N: column X: problem`` line of an :class:`InputError`; "row N" is the line number
in the file, the header being row 1; a row with more or fewer cells than the header, a
repeated header line and a column named twice are refused too) and explicit about what it leaves out (issues without
an outcome, actors without a position): see :attr:`DeuData.skipped_issues` and
:attr:`DeuData.skipped_actors`.

Rules (decisions log D1-D4 in docs/backtest.md):

* D1 blank salience for an actor with a position: the mean recorded salience of the other
  actors with a position on that issue; 50 when no actor on the issue has one recorded.
* D2 an issue whose saliences are all zero keeps them as recorded; the weighted engines
  cannot use it, so it is skipped with reason "all saliences zero".
* D3 introduction dates: ``dd-mm-yy`` (years 50-99 are 19xx, 00-49 are 20xx) and
  ``dd-mm-yyyy``; a value shaped ``NNNN-NN-NN`` is the known corruption of ``dd-mm-yy`` in
  the public export (a spreadsheet read it as yy-mm-dd and prefixed a century), so
  ``2014-07-04`` means 14 July 2004: day = last two digits of the first group,
  month = middle group, year = last group.
* D4 the ``finact`` column is ignored (corrupted in the export).
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tawazun.engines.base import Problem
from tawazun.errors import InputError
from tawazun.files import read_text

#: Actor codes as they appear in the column names, Commission and Parliament first.
INSTITUTIONS: tuple[str, ...] = ("com", "ep")
MEMBER_STATES: tuple[str, ...] = (
    "at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu", "ie",
    "it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk",
)
ACTORS: tuple[str, ...] = INSTITUTIONS + MEMBER_STATES

REQUIRED_COLUMNS: tuple[str, ...] = ("prnrnmc", "isnr", "proc", "counvte", "intro", "out")
DEFAULT_SALIENCE = 50.0  # D1 fallback when nobody on the issue has a recorded salience


@dataclass(frozen=True)
class DeuIssue:
    """One issue with an outcome, restricted to the actors that took a position."""

    row: int  # line number in the file (header = 1)
    proposal: str  # prnrnmc
    issue: str  # isnr (unique issue id), or "<proposal>:<isnrnmc>" when blank
    dossier: str  # prnr
    name: str  # prname
    procedure: str  # proc: COD / CNS
    voting: str  # counvte as written: QMV / Unan / QMV(10)
    council: str  # Council configuration
    act_type: str  # type: Reg / Dir / Dec
    intro: _dt.date | None
    actors: tuple[str, ...]
    position: np.ndarray  # (n,) 0-100
    salience: np.ndarray  # (n,) in [0, 1]
    salience_imputed: np.ndarray  # (n,) bool, D1 applied
    status_quo: float | None  # rp, 0-100
    outcome: float  # out, 0-100

    @property
    def unanimity(self) -> bool:
        return self.voting.lower().startswith("unan")

    def problem(self, capability: np.ndarray) -> Problem:
        """The issue as a batch-of-one, one-dimensional engine problem on 0-100."""
        return Problem.from_points(
            self.actors,
            self.position,
            self.salience,
            np.asarray(capability, dtype=float),
            lower=0.0,
            upper=100.0,
            status_quo=self.status_quo,
            dims=(self.issue,),
        )

    def actor_position(self, actor: str) -> float | None:
        try:
            return float(self.position[self.actors.index(actor)])
        except ValueError:
            return None


@dataclass
class DeuData:
    """What the reader kept and what it left out (with reasons)."""

    path: str
    issues: list[DeuIssue]
    n_rows: int
    skipped_issues: list[dict] = field(default_factory=list)  # {row, proposal, issue, reason}
    skipped_actors: dict[str, int] = field(default_factory=dict)  # reason -> count
    imputed_saliences: int = 0

    @property
    def proposals(self) -> list[str]:
        seen: dict[str, None] = {}
        for it in self.issues:
            seen.setdefault(it.proposal, None)
        return list(seen)

    def summary(self) -> dict:
        reasons: dict[str, int] = {}
        for s in self.skipped_issues:
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        return {
            "rows": self.n_rows,
            "issues_kept": len(self.issues),
            "proposals_kept": len(self.proposals),
            "issues_skipped": len(self.skipped_issues),
            "issues_skipped_by_reason": reasons,
            "issues_skipped_list": [dict(s) for s in self.skipped_issues],
            "actor_entries_skipped": dict(self.skipped_actors),
            "saliences_imputed": self.imputed_saliences,
        }


_DMY2 = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2})$")
_DMY4 = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_SWAPPED = re.compile(r"^(\d{2})(\d{2})-(\d{2})-(\d{2})$")


def _year2(yy: int) -> int:
    return 1900 + yy if yy >= 50 else 2000 + yy


def parse_intro(text: str) -> _dt.date:
    """Introduction date by rule D3; ValueError with a short reason otherwise."""
    t = text.strip()
    if m := _DMY2.match(t):
        d, mo, y = int(m[1]), int(m[2]), _year2(int(m[3]))
    elif m := _DMY4.match(t):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    elif m := _SWAPPED.match(t):
        d, mo, y = int(m[2]), int(m[3]), _year2(int(m[4]))
    else:
        raise ValueError(f"not a date (expected dd-mm-yy): {text!r}")
    try:
        return _dt.date(y, mo, d)
    except ValueError as exc:
        raise ValueError(f"impossible date {text!r} ({exc})") from None


def _number(text: str, lo: float = 0.0, hi: float = 100.0) -> float:
    try:
        v = float(text.strip())
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"not a finite number: {text!r}")
    if v < lo or v > hi:
        raise ValueError(f"{v:g} outside [{lo:g}, {hi:g}]")
    return v


def load_deu(path: str | Path) -> DeuData:
    """Read a DEU-layout TSV. Raises InputError listing every malformed cell."""
    p = Path(path)
    label = str(path)
    text = read_text(p, "DEU tab-separated file")

    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{label}: empty file") from None
    col: dict[str, int] = {}
    errors: list[str] = []
    for i, name in enumerate(header):
        if name and name in col:  # the later column would silently win
            errors.append(f"{label}:row 1: column {name}: appears twice in the header "
                          f"(cells {col[name] + 1} and {i + 1})")
        col.setdefault(name, i)
    for name in REQUIRED_COLUMNS:
        if name not in col:
            errors.append(f"{label}:row 1: column {name}: missing from the header")
    present = [a for a in ACTORS if f"p{a}" in col]
    if not present:
        errors.append(f"{label}:row 1: column pcom..puk: no position columns found")
    if errors:
        raise InputError(errors)

    issues: list[DeuIssue] = []
    skipped: list[dict] = []
    actor_skips: dict[str, int] = {}
    imputed_total = 0
    n_rows = 0
    for lineno, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        n_rows += 1
        if [c.strip() for c in raw] == header:
            errors.append(f"{label}:row {lineno}: repeats the header line (two files joined?)")
            continue
        # A ragged row has lost or gained a tab somewhere: every later cell is in the wrong
        # column, so no cell of it can be trusted.
        if len(raw) != len(header):
            errors.append(f"{label}:row {lineno}: {len(raw)} cells but the header has {len(header)}")
            continue
        row = raw

        def cell(name: str) -> str:
            i = col.get(name)
            return "" if i is None else row[i].strip()

        row_errors: list[str] = []

        def num(name: str) -> float | None:
            v = cell(name)
            if v == "":
                return None
            try:
                return _number(v)
            except ValueError as exc:
                row_errors.append(f"{label}:row {lineno}: column {name}: {exc}")
                return None

        proposal = cell("prnrnmc")
        if not proposal:
            row_errors.append(f"{label}:row {lineno}: column prnrnmc: blank proposal id")
        issue_id = cell("isnr") or f"{proposal}:{cell('isnrnmc') or lineno}"
        intro: _dt.date | None = None
        if cell("intro"):
            try:
                intro = parse_intro(cell("intro"))
            except ValueError as exc:
                row_errors.append(f"{label}:row {lineno}: column intro: {exc}")
        positions = {a: num(f"p{a}") for a in present}
        saliences = {a: num(f"s{a}") for a in present}
        rp = num("rp")
        out = num("out")
        if row_errors:
            errors.extend(row_errors)
            continue

        meta = {"row": lineno, "proposal": proposal, "issue": issue_id}
        if out is None:
            skipped.append({**meta, "reason": "no outcome"})
            continue
        actors = [a for a in present if positions[a] is not None]
        for a in present:
            if positions[a] is None:
                why = "no position" if saliences[a] is None else "salience but no position"
                actor_skips[why] = actor_skips.get(why, 0) + 1
        if not actors:
            skipped.append({**meta, "reason": "no actor with a position"})
            continue
        known = [saliences[a] for a in actors if saliences[a] is not None]
        fill = float(np.mean(known)) if known else DEFAULT_SALIENCE
        sal = np.array([saliences[a] if saliences[a] is not None else fill for a in actors])
        imputed = np.array([saliences[a] is None for a in actors])
        if not np.any(sal > 0):
            skipped.append({**meta, "reason": "all saliences zero"})
            continue
        imputed_total += int(imputed.sum())
        issues.append(
            DeuIssue(
                row=lineno,
                proposal=proposal,
                issue=issue_id,
                dossier=cell("prnr"),
                name=cell("prname"),
                procedure=cell("proc").upper(),
                voting=cell("counvte"),
                council=cell("council"),
                act_type=cell("type"),
                intro=intro,
                actors=tuple(actors),
                position=np.array([positions[a] for a in actors], dtype=float),
                salience=sal / 100.0,
                salience_imputed=imputed,
                status_quo=rp,
                outcome=float(out),
            )
        )
    if errors:
        raise InputError(errors)
    return DeuData(
        path=label,
        issues=issues,
        n_rows=n_rows,
        skipped_issues=skipped,
        skipped_actors=actor_skips,
        imputed_saliences=imputed_total,
    )
