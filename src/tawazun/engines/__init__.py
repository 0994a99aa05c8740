"""Bargaining engines. Importing this package registers every built-in engine."""

from tawazun.engines.base import REGISTRY, EngineResult, EngineSpec, Problem, get_engine, register

# One import per engine module; each registers itself.
from tawazun.engines import compromise as _compromise  # noqa: F401,E402
from tawazun.engines import median as _median  # noqa: F401,E402
from tawazun.engines import bdm as _bdm  # noqa: F401,E402
from tawazun.engines import smp as _smp  # noqa: F401,E402
from tawazun.engines import nash as _nash  # noqa: F401,E402

__all__ = ["REGISTRY", "EngineResult", "EngineSpec", "Problem", "get_engine", "register"]
