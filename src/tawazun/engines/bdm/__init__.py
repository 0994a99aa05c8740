"""Bueno de Mesquita's expected-utility ("challenge") model, one issue at a time.

The reconstruction follows Scholz, Calbert & Smith (2011), who rebuilt the model from
Bueno de Mesquita's publications and replicated his 1994 EC car-emission example. Every
point where their text, their figures and the original disagree is a named option of
:class:`BdmOptions`; ``docs/models/bdm.md`` states the equations and the decisions.

Shapes: B draws, n actors. Positions are carried in scale units u = (x - lower) / R,
R = upper - lower, so an affine change of the scale changes nothing but the units of
the answer.

The package:

* ``options``   - :class:`BdmOptions` and the presets (``SCHOLZ``, ``TEXT``, ...);
* ``reference`` - the NumPy reference, ``reference.simulate`` (also the path for
  ``risk_range="alternatives"``);
* ``kernels``   - the compiled Numba path, ``kernels.simulate`` (the default), and the
  thread setting (``set_threads``);
* ``driver``    - the registered engine function :func:`bdm`.

Both ``simulate`` functions take positions in scale units (B, n), weights c*s and
saliences (B, n) and options, and return (trajectory (B, T+1, n), offer counts (B, T, 4),
risk exponents (B, T, n)); the tests check that they agree.
"""

from tawazun.engines.bdm import kernels, reference
from tawazun.engines.bdm.driver import bdm
from tawazun.engines.bdm.kernels import get_threads, set_threads
from tawazun.engines.bdm.options import ORIGINAL, PRESETS, RISK_NEUTRAL, SCHOLZ, TEXT, BdmOptions

__all__ = [
    "BdmOptions", "ORIGINAL", "PRESETS", "RISK_NEUTRAL", "SCHOLZ", "TEXT",
    "bdm", "get_threads", "kernels", "reference", "set_threads",
]
