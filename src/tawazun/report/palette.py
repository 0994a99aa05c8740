"""The one palette of every chart (report and web app): one colour per engine, wherever it appears.

Engines take the Okabe–Ito colours (distinguishable with the common colour-vision
deficiencies); reference lines are grey (status quo) and black (recorded outcome). A result
label such as ``smp (joint: iraq-deal)`` (:func:`tawazun.forecast.result_label`) takes its
engine's colour. An engine not listed here gets a colour chosen from its name by a stable hash,
so it keeps the same colour in every chart and every run.
"""

from __future__ import annotations

import hashlib
import re

ENGINE_COLOURS: dict[str, str] = {
    "compromise": "#0072B2",  # blue
    "median": "#E69F00",      # orange
    "bdm": "#009E73",         # bluish green
    "smp": "#D55E00",         # vermilion
    "nash": "#CC79A7",        # reddish purple
}
STATUS_QUO = "#7F7F7F"
OUTCOME = "#000000"
REFERENCE_COLOURS: dict[str, str] = {"status quo": STATUS_QUO, "outcome": OUTCOME}

# For engines not listed above: none of these is close to a listed engine's colour.
FALLBACK = ("#56B4E9", "#8C564B", "#44AA99", "#999933", "#332288", "#882255", "#BCBD22", "#6A3D9A")

# Actors in trajectory charts: the few that move most in colour, the rest muted grey.
# Darker, desaturated tones so that an actor's line is not mistaken for an engine's.
ACTOR_HIGHLIGHT = ("#332288", "#882255", "#8C510A", "#4B6C8F", "#7A7A1A")
ACTOR_MUTED = "#C8C8C8"
LEADER = "#8A8A8A"  # leader lines from a label to its point

# Dynamics series and regimes (fan charts, regime chart): fixed, so a series keeps its colour in
# every run; darker tones than the engines', since they never share a chart with them. Others
# get a colour from their name (:func:`series_colour`).
DYNAMICS_COLOURS: dict[str, str] = {
    "attacks": "#B2182B",           # dark red
    "protests": "#762A83",          # purple
    "balance": "#2166AC",           # dark blue
    "legitimacy": "#1B7837",        # dark green
    "collapse": "#B2182B",
    "fragile-security": "#4D4D4D",  # dark grey
}


def series_colour(name: str) -> str:
    """The colour of a dynamics series or regime."""
    if name in DYNAMICS_COLOURS:
        return DYNAMICS_COLOURS[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return FALLBACK[int.from_bytes(digest[:4], "big") % len(FALLBACK)]


_JOINT = re.compile(r"^(?P<engine>.+?) \(joint: .+\)$")


def engine_of(label: str) -> str:
    """The engine of a result label: ``smp (joint: iraq-deal)`` -> ``smp``; ``bdm`` -> ``bdm``.

    Inverse of :func:`tawazun.forecast.result_label` (tested against it)."""
    m = _JOINT.match(label)
    return m.group("engine") if m else label


def colour(name: str) -> str:
    """The colour of an engine, a result label of an engine, ``status quo`` or ``outcome``."""
    if name in REFERENCE_COLOURS:
        return REFERENCE_COLOURS[name]
    engine = engine_of(name)
    if engine in ENGINE_COLOURS:
        return ENGINE_COLOURS[engine]
    # hashlib, not hash(): str hashes change from one Python process to the next
    digest = hashlib.sha256(engine.encode("utf-8")).digest()
    return FALLBACK[int.from_bytes(digest[:4], "big") % len(FALLBACK)]


def tint(hex_colour: str, amount: float) -> str:
    """``hex_colour`` mixed with white (``amount`` 0: unchanged, 1: white)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02X}" for c in mix)


def actor_colour(rank: int) -> str:
    """Colour of the ``rank``-th highlighted actor of a chart (0 = moves most)."""
    return ACTOR_HIGHLIGHT[rank % len(ACTOR_HIGHLIGHT)]
