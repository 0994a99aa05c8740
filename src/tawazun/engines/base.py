"""The single engine contract.

Every engine is a pure function ``run(problem, options, rng) -> EngineResult`` over
NumPy arrays whose first axis is the Monte Carlo batch. A deterministic forecast on
point values is simply a batch of one. Engines are found through :data:`REGISTRY`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One issue (d = 1) or one space of jointly bargained issues (d > 1).

    Shapes use B = batch (draws), n = actors, d = dimensions.
    """

    actors: tuple[str, ...]
    dims: tuple[str, ...]
    position: np.ndarray  # (B, n, d) on the issue's own scale
    salience: np.ndarray  # (B, n, d) in [0, 1]
    capability: np.ndarray  # (B, n), >= 0
    lower: np.ndarray  # (d,) scale minimum
    upper: np.ndarray  # (d,) scale maximum
    status_quo: np.ndarray | None = None  # (B, d) or None when the arena has none

    def __post_init__(self) -> None:
        pos = np.asarray(self.position, dtype=float)
        if pos.ndim != 3:
            raise ValueError(f"position must be (B, n, d), got shape {pos.shape}")
        b, n, d = pos.shape
        sal = np.asarray(self.salience, dtype=float)
        cap = np.asarray(self.capability, dtype=float)
        if sal.shape != (b, n, d):
            raise ValueError(f"salience must be {(b, n, d)}, got {sal.shape}")
        if cap.shape != (b, n):
            raise ValueError(f"capability must be {(b, n)}, got {cap.shape}")
        if len(self.actors) != n or len(self.dims) != d:
            raise ValueError("actors/dims labels do not match the array shapes")
        lo = np.asarray(self.lower, dtype=float).reshape(d)
        hi = np.asarray(self.upper, dtype=float).reshape(d)
        sq = None
        if self.status_quo is not None:
            sq = np.broadcast_to(np.asarray(self.status_quo, dtype=float), (b, d)).copy()
        object.__setattr__(self, "position", pos)
        object.__setattr__(self, "salience", sal)
        object.__setattr__(self, "capability", cap)
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        object.__setattr__(self, "status_quo", sq)

    @property
    def batch(self) -> int:
        return self.position.shape[0]

    @property
    def n_actors(self) -> int:
        return self.position.shape[1]

    @property
    def n_dims(self) -> int:
        return self.position.shape[2]

    @classmethod
    def from_points(
        cls,
        actors: list[str] | tuple[str, ...],
        position: Any,
        salience: Any,
        capability: Any,
        lower: float | Any = 0.0,
        upper: float | Any = 100.0,
        status_quo: Any = None,
        dims: tuple[str, ...] = ("x",),
    ) -> "Problem":
        """Convenience for one point case: position/salience (n,) or (n, d), capability (n,)."""
        pos = np.asarray(position, dtype=float)
        sal = np.asarray(salience, dtype=float)
        if pos.ndim == 1:
            pos = pos[:, None]
        if sal.ndim == 1:
            sal = sal[:, None]
        d = pos.shape[1]
        if len(dims) != d:
            dims = tuple(f"x{k}" for k in range(d))
        sq = None if status_quo is None else np.asarray(status_quo, dtype=float).reshape(1, d)
        return cls(
            actors=tuple(actors),
            dims=tuple(dims),
            position=pos[None],
            salience=np.broadcast_to(sal, pos.shape)[None].copy(),
            capability=np.asarray(capability, dtype=float)[None],
            lower=np.broadcast_to(np.asarray(lower, dtype=float), (d,)),
            upper=np.broadcast_to(np.asarray(upper, dtype=float), (d,)),
            status_quo=sq,
        )

    def take(self, index: Any) -> "Problem":
        """A sub-batch (slice or index array along B)."""
        return dataclasses.replace(
            self,
            position=self.position[index],
            salience=self.salience[index],
            capability=self.capability[index],
            status_quo=None if self.status_quo is None else self.status_quo[index],
        )


@dataclass
class EngineResult:
    """What every engine returns.

    forecast: (B, d). trajectory: (B, T+1, n, d) positions per turn, turn 0 = input,
    for dynamic engines (None otherwise). diagnostics: engine-specific arrays, each with
    the batch axis first.
    """

    engine: str
    forecast: np.ndarray
    trajectory: np.ndarray | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


class OptionError(ValueError):
    """A bad engine option, as one line naming it: ``bdm.rounds: must be >= 0, got -1``."""


class UnknownOption(OptionError, KeyError):
    """An option name the engine does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def is_number(value: Any) -> bool:
    """A real, non-NaN number given as a number (booleans and strings are not options' numbers)."""
    try:
        return not isinstance(value, (bool, str)) and float(value) == float(value)
    except (TypeError, ValueError):
        return False


def is_whole(value: Any) -> bool:
    return is_number(value) and float(value).is_integer()


class EngineOptions:
    """Base of every engine's options dataclass (frozen, every field with a default).

    The one validation path: ``__post_init__`` calls :meth:`validate`, which checks every
    field and raises :class:`OptionError` naming the first bad one. Subclasses set
    ``engine`` (the registry name, used in the messages) and override ``validate`` using
    :meth:`_choice` and :meth:`_check`.
    """

    engine: ClassVar[str] = "engine"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`OptionError` for the first invalid field; nothing to check here."""

    def _fail(self, name: str, message: str) -> None:
        raise OptionError(f"{self.engine}.{name}: {message}, got {getattr(self, name)!r}")

    def _choice(self, name: str, allowed: tuple[str, ...]) -> None:
        if getattr(self, name) not in allowed:
            self._fail(name, f"expected one of {', '.join(allowed)}")

    def _check(self, name: str, ok: bool, message: str) -> None:
        if not ok:
            self._fail(name, message)


@dataclass(frozen=True)
class EngineSpec:
    name: str
    run: Callable[..., EngineResult]
    options: type  # a frozen dataclass with defaults
    dynamic: bool  # produces a trajectory
    max_dims: int | None  # None: any number of dimensions
    summary: str
    joint: bool = False  # bargains a space of issues jointly (else issue by issue)

    def make_options(self, overrides: dict[str, Any] | None = None) -> Any:
        """Options object from defaults plus string or typed overrides (CLI `-o key=value`).

        Every problem is one line naming the option (``bdm.q: ...``): an unknown name
        (:class:`UnknownOption`, also a KeyError), a value of the wrong type or an invalid
        value (:class:`OptionError`, a ValueError). The result has passed ``validate()``.
        """
        names = {f.name: f for f in dataclasses.fields(self.options)}
        base = self.options()
        kwargs: dict[str, Any] = {}
        for key, value in (overrides or {}).items():
            if key not in names:
                raise UnknownOption(
                    f"{self.name}.{key}: engine {self.name!r} has no option {key!r}; "
                    f"known: {', '.join(sorted(names))}"
                )
            kwargs[key] = _coerce(value, getattr(base, key), f"{self.name}.{key}")
        try:
            opts = dataclasses.replace(base, **kwargs) if kwargs else base
            check = getattr(opts, "validate", None)  # register() requires it; bare specs may lack it
            if check is not None:
                check()
        except OptionError:
            raise
        except (TypeError, ValueError) as exc:  # an options class not built on EngineOptions
            raise OptionError(f"{self.name}: {exc}") from None
        return opts


def _coerce(value: Any, current: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value
    if isinstance(current, bool):
        low = value.lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise OptionError(f"{where}: expected true or false, got {value!r}")
    try:
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
    except ValueError:
        kind = "a whole number" if isinstance(current, int) else "a number"
        raise OptionError(f"{where}: expected {kind}, got {value!r}") from None
    return value


REGISTRY: dict[str, EngineSpec] = {}


def register(
    name: str,
    *,
    options: type,
    dynamic: bool = False,
    max_dims: int | None = 1,
    summary: str = "",
    joint: bool | None = None,
) -> Callable[[Callable[..., EngineResult]], Callable[..., EngineResult]]:
    """Decorator adding an engine function to the registry.

    ``joint`` (default: any engine that accepts more than one dimension) says whether a
    space of issues is bargained as one multi-dimensional problem. Separable engines
    (compromise, median) pass ``joint=False`` and are run issue by issue.
    """

    def deco(fn: Callable[..., EngineResult]) -> Callable[..., EngineResult]:
        if name in REGISTRY:
            raise ValueError(f"engine {name!r} registered twice")
        if not callable(getattr(options, "validate", None)):
            raise TypeError(f"engine {name!r}: its options class needs a validate() method")
        is_joint = (max_dims != 1) if joint is None else joint
        doc = summary or (fn.__doc__ or name).strip().splitlines()[0]
        REGISTRY[name] = EngineSpec(name, fn, options, dynamic, max_dims, doc, is_joint)
        return fn

    return deco


def get_engine(name: str) -> EngineSpec:
    from tawazun import engines as _  # noqa: F401  (import registers the built-ins)

    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; available: {', '.join(sorted(REGISTRY))}") from None


def weights(problem: Problem) -> np.ndarray:
    """Capability x salience, (B, n, d): the common weight of the static models."""
    return problem.capability[:, :, None] * problem.salience


@dataclass(frozen=True)
class RangedProblem:
    """A Problem whose every number is a range: arrays stacked (low, mode, high) on axis 0.

    This is what the arena compiles to; :meth:`point` gives the deterministic case and
    ``tawazun.uncertainty`` draws batches from it.
    """

    actors: tuple[str, ...]
    dims: tuple[str, ...]
    position: np.ndarray  # (3, n, d)
    salience: np.ndarray  # (3, n, d) in [0, 1]
    capability: np.ndarray  # (3, n)
    lower: np.ndarray  # (d,)
    upper: np.ndarray  # (d,)
    status_quo: np.ndarray | None = None  # (3, d)

    def point(self) -> Problem:
        """The modes as a batch of one."""
        return Problem(
            actors=self.actors,
            dims=self.dims,
            position=self.position[1][None],
            salience=self.salience[1][None],
            capability=self.capability[1][None],
            lower=self.lower,
            upper=self.upper,
            status_quo=None if self.status_quo is None else self.status_quo[1][None],
        )
