"""Chart labels: actor names in English or Arabic, their estimated size, and deterministic
placement (labels that neither overlap nor leave the figure).

Plotly cannot measure text before the browser draws it, so sizes are estimated from a
per-character width table for the fonts a report names (DejaVu Sans, Verdana, Arial), rounded
up; the browser test (tests/test_report_visual.py) checks the drawn boxes. Every position is
computed in pixels of a figure of known size (:data:`FIG_WIDTH`), so the same run gives the
same picture.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import Mapping, Sequence

import numpy as np

from tawazun.arena.model import Arena

LANGS = ("en", "ar")
FIG_WIDTH = 1000  # px: every report figure is drawn this wide (the report's text column)
FONT = "DejaVu Sans, Verdana, Arial, 'Noto Naskh Arabic', sans-serif"
LABEL_SIZE = 11  # px, actor labels
RLI, PDI = "\u2067", "\u2069"  # right-to-left isolate ... pop directional isolate
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_PAREN = re.compile(r"\s*\([^()]*\)")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: expected {' or '.join(LANGS)}, got {lang!r}")
    return lang


def actor_name(arena: Arena, actor_id: str, lang: str = "en") -> str:
    """The actor's full name in ``lang`` (Arabic falls back to English where the arena has none)."""
    names = arena.actor(actor_id).names
    return (names.ar or names.en) if lang == "ar" else names.en


def short_name(name: str) -> str:
    """A chart label: the name without its parenthetical glosses
    ("Government of Iraq (PM Mustafa al-Kadhimi)" -> "Government of Iraq"); the full name
    stays in the hover text."""
    short = " ".join(_PAREN.sub("", name).split())
    return short or name


def is_rtl(text: str) -> bool:
    return bool(_ARABIC.search(text))


def wrap(text: str, width: int = 22) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False) or [text]


def plotly_text(lines: Sequence[str]) -> str:
    """Lines as Plotly text: escaped, joined by <br>; right-to-left lines wrapped in an isolate
    so that the browser's bidi algorithm lays each out right to left (punctuation included)."""
    return "<br>".join(f"{RLI}{html.escape(ln, quote=False)}{PDI}" if is_rtl(ln)
                       else html.escape(ln, quote=False) for ln in lines)


def _char_em(ch: str) -> float:
    # Widths in em, at or above DejaVu Sans and Verdana (the widest of the fonts named).
    if ch == " ":
        return 0.34
    if ch in "ilj.,:;'|!()[]":
        return 0.36
    if ch in "mwMW@":
        return 1.0
    if ch.isupper() or ch in "%&#":
        return 0.78
    if ch.isdigit():
        return 0.66
    if _ARABIC.match(ch):
        return 0.62
    return 0.64


def text_width(line: str, size: float) -> float:
    return sum(_char_em(c) for c in line) * size


def text_box(lines: Sequence[str], size: float, pad: float = 2.0) -> tuple[float, float]:
    """(width, height) in px of a Plotly text block (annotations add ``borderpad`` + 1 px)."""
    w = max(text_width(ln, size) for ln in lines)
    return w + 2 * pad, 1.3 * size * len(lines) + 2 * pad


def _overlap(boxes: np.ndarray, box: np.ndarray, gap: float) -> np.ndarray:
    """Which candidate boxes (m, 4: x0, y0, x1, y1) overlap ``box`` (grown by ``gap``)."""
    return ((boxes[:, 0] < box[2] + gap) & (boxes[:, 2] > box[0] - gap)
            & (boxes[:, 1] < box[3] + gap) & (boxes[:, 3] > box[1] - gap))


def place_labels(points: np.ndarray, radii: np.ndarray, sizes: Sequence[tuple[float, float]],
                 area: tuple[float, float, float, float], order: Sequence[int],
                 gap: float = 3.0) -> list[tuple[float, float]]:
    """Pixel offsets (dx, dy; y down) of each label's centre from its point.

    Labels are placed one at a time in ``order`` (most important first), each at the nearest
    spot (a little above preferred) whose box lies inside ``area`` (x0, y0, x1, y1) and
    overlaps neither a label already placed nor any point's marker; failing that, one that
    overlaps no label; failing that, the one with least overlap. Deterministic: a fixed grid
    of candidate offsets, ties broken by the grid's order.
    """
    dxs = np.arange(-420.0, 421.0, 4.0)
    dys = np.arange(-260.0, 261.0, 3.0)
    gx, gy = np.meshgrid(dxs, dys)
    cand = np.column_stack([gx.ravel(), gy.ravel()])
    cost = np.hypot(cand[:, 0], cand[:, 1] * 1.2) + np.where(cand[:, 1] > 0, 8.0, 0.0)
    rank = np.argsort(cost, kind="stable")
    cand = cand[rank]
    marker_boxes = np.column_stack([points[:, 0] - radii, points[:, 1] - radii,
                                    points[:, 0] + radii, points[:, 1] + radii])
    placed: list[np.ndarray] = []
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(points)
    for i in order:
        w, h = sizes[i]
        cx, cy = points[i, 0] + cand[:, 0], points[i, 1] + cand[:, 1]
        boxes = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        inside = ((boxes[:, 0] >= area[0]) & (boxes[:, 2] <= area[2])
                  & (boxes[:, 1] >= area[1]) & (boxes[:, 3] <= area[3]))
        free_of_labels = inside.copy()
        for box in placed:
            free_of_labels &= ~_overlap(boxes, box, gap)
        free = free_of_labels & ~_overlap(boxes, marker_boxes[i], gap)
        for j in range(len(points)):
            if j != i:
                free &= ~_overlap(boxes, marker_boxes[j], 1.0)
        for ok in (free, free_of_labels & ~_overlap(boxes, marker_boxes[i], gap), free_of_labels):
            if ok.any():
                k = int(np.argmax(ok))
                break
        else:  # nothing free: least total overlap with the labels placed, inside the area
            area_hit = np.zeros(len(boxes))
            for box in placed:
                ix = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
                iy = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
                area_hit += ix * iy
            area_hit[~inside] = np.inf
            k = int(np.argmin(area_hit))
        placed.append(boxes[k])
        out[i] = (float(cand[k, 0]), float(cand[k, 1]))
    return out


def spread(centres: Sequence[float], heights: Sequence[float], lo: float, hi: float,
           gap: float = 2.0) -> list[float]:
    """Vertical centres (px, y down) as near ``centres`` as possible with no two boxes
    overlapping and every box inside [lo, hi] (when they fit at all)."""
    n = len(centres)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (centres[i], i))
    ys = [float(centres[i]) for i in order]
    hs = [float(heights[i]) for i in order]
    ys[0] = max(ys[0], lo + hs[0] / 2)
    for k in range(1, n):  # push down
        ys[k] = max(ys[k], ys[k - 1] + (hs[k - 1] + hs[k]) / 2 + gap)
    ys[-1] = min(ys[-1], hi - hs[-1] / 2)
    for k in range(n - 2, -1, -1):  # push back up where the bottom overflowed
        ys[k] = min(ys[k], ys[k + 1] - (hs[k] + hs[k + 1]) / 2 - gap)
    shift = lo + hs[0] / 2 - ys[0]
    if shift > 0:  # too many to fit: stack from the top
        ys = [y + shift for y in ys]
    out = [0.0] * n
    for k, i in enumerate(order):
        out[i] = ys[k]
    return out


def lanes(intervals: Sequence[tuple[float, float]], gap: float = 6.0) -> list[int]:
    """Lane (0, 1, ...) of each horizontal interval (x0, x1) so that intervals sharing a lane
    are at least ``gap`` apart; the first lane that fits, in order of x0."""
    ends: list[float] = []
    out = [0] * len(intervals)
    for i in sorted(range(len(intervals)), key=lambda i: (intervals[i][0], i)):
        x0, x1 = intervals[i]
        for lane, end in enumerate(ends):
            if x0 >= end + gap:
                ends[lane] = x1
                out[i] = lane
                break
        else:
            ends.append(x1)
            out[i] = len(ends) - 1
    return out


def isolate(text: str) -> str:
    """``text`` inside a right-to-left isolate when it is Arabic (for mixed-direction lines)."""
    return f"{RLI}{text}{PDI}" if is_rtl(text) else text


def input_display(label: str, names: Mapping[str, str] | None) -> str:
    """A sensitivity input's label (``us-gov.salience``, ``us-gov.position[elections]``) with
    the actor's name for its id: ``United States · salience``. Unknown ids are kept."""
    actor, dot, rest = label.partition(".")
    if not dot or not names or actor not in names:
        return html.escape(label, quote=False)
    name = html.escape(short_name(names[actor]), quote=False)
    return f"{isolate(name)} · {html.escape(rest, quote=False)}"
