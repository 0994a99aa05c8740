"""Readable reference of the civil-violence model in Mesa 3 (imported lazily: Mesa is optional here).

The rules and the update order are those documented in :mod:`tawazun.dynamics.protest`; the
compiled kernel there must agree with this model in distribution (tests/test_dynamics_protest.py).
This version is written for reading, not speed.
"""

from __future__ import annotations

import math

import mesa
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid

from tawazun.dynamics.protest import ProtestParams


class Citizen(CellAgent):
    def __init__(self, model: "CivilViolence", cell, hardship: float, risk: float):
        super().__init__(model)
        self.cell = cell
        self.hardship = hardship
        self.risk = risk
        self.active = False
        self.jail = 0

    def step(self) -> None:
        m = self.model
        if self.jail > 0:                       # serve one tick; on release reappear anywhere
            self.jail -= 1
            if self.jail == 0:
                self.cell = m.grid.select_random_empty_cell()
            return
        m.move(self)
        cops = actives = 0
        for cell in self.cell.get_neighborhood(radius=m.p.vision):
            for other in cell.agents:
                if isinstance(other, Cop):
                    cops += 1
                elif other.active:
                    actives += 1
        grievance = self.hardship * (1.0 - m.legitimacy)
        p_arrest = 1.0 - math.exp(-m.p.k * math.floor(cops / (actives + 1)))
        self.active = grievance - self.risk * p_arrest > m.p.threshold


class Cop(CellAgent):
    def __init__(self, model: "CivilViolence", cell):
        super().__init__(model)
        self.cell = cell

    def step(self) -> None:
        m = self.model
        m.move(self)
        suspects = [a for cell in self.cell.get_neighborhood(radius=m.p.vision)
                    for a in cell.agents if isinstance(a, Citizen) and a.active]
        if suspects:
            arrestee = self.random.choice(suspects)
            arrestee.active = False
            arrestee.jail = self.random.randint(1, m.p.j_max)
            arrestee.cell = None                # off the grid while in jail


class CivilViolence(mesa.Model):
    def __init__(self, params: ProtestParams, legitimacy, seed: int | None = None):
        super().__init__(seed=seed)
        self.p = params
        # a number, or one legitimacy per tick
        self.schedule_l = legitimacy if hasattr(legitimacy, "__len__") else None
        self.legitimacy = float(legitimacy if self.schedule_l is None else legitimacy[0])
        self.grid = OrthogonalMooreGrid((params.width, params.height), torus=True, capacity=1,
                                        random=self.random)
        cells = self.random.sample(list(self.grid.all_cells), params.n_cops + params.n_citizens)
        for cell in cells[: params.n_cops]:
            Cop(self, cell)
        for cell in cells[params.n_cops:]:
            Citizen(self, cell, self.random.uniform(params.hardship_low, params.hardship_high),
                    self.random.uniform(0.0, 1.0))
        self.ticks = 0
        self.active_series: list[int] = []
        self.jailed_series: list[int] = []

    def move(self, agent) -> None:
        empty = [c for c in agent.cell.get_neighborhood(radius=self.p.vision) if c.is_empty]
        if empty:
            agent.cell = self.random.choice(empty)

    def step(self) -> None:
        if self.schedule_l is not None:
            self.legitimacy = float(self.schedule_l[self.ticks])
        self.agents.shuffle_do("step")
        citizens = self.agents_by_type[Citizen]
        self.active_series.append(sum(1 for a in citizens if a.active))
        self.jailed_series.append(sum(1 for a in citizens if a.jail > 0))
        self.ticks += 1


def run_reference(params: ProtestParams, ticks: int, legitimacy, seed: int) -> tuple[list[int], list[int]]:
    """One run: active and jailed citizens after each tick."""
    model = CivilViolence(params, legitimacy, seed=seed)
    for _ in range(ticks):
        model.step()
    return model.active_series, model.jailed_series
