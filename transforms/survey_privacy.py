"""Disclosure control for survey cells that survives an integer-programming attack.

Cells form additive tables per survey × scale × year (a *block*): T = K + M (per area and
grade), all = Σ grades (per area and sex), län = Σ its kommuner and ALLA = Σ län (per sex and
grade). Respondents with a missing sex or grade count only in T or `all`; the audit treats
those gaps as known to the attacker (more knowledge than anyone has, so the audit can only
over-protect). Every cut of a scale shares the scale's denominators, so one pattern of
hidden cells serves all cuts of a scale.

What an attacker is assumed to know: every shown cell (respondents n and, per cut, the
flagged count f: a shown share with its denominator fixes its numerator), every sum above,
0 ≤ f ≤ n, integrality, and which cells are hidden — not why (one public reason).

1. Primary: a cell with fewer than `min_respondents` respondents is hidden, and so is a
   cell under `extreme_below` respondents whose share is 0 % or 100 % for some cut (it
   would tell something about every one of its pupils).
2. Audit and complements: for every sensitive hidden cell (step 1), integer programming
   over the block must find feasible values at least `interval` above and below the true
   value (clipped at 0) for its respondents and for its flagged count in every cut; every
   other hidden cell (a complement) must not be pinned to a single value. A cell that fails
   gets complements from a linear programme (`Repair`) in which every shown cell may move
   at a price and the failing cell must reach its interval: the cells that move are the
   cheapest to hide. Cost grows with respondents and with the level (a grade or sex cell
   before a kommun's total, a kommun before a län), so protecting a kommun with 9
   respondents does not hide one with 200. Hiding more only widens every range, so a cell
   that passed stays passed.
3. A new version of a released wave (a supplement, a replacement, a withdrawal) is audited
   against every earlier released version as well: a cell shown in both must not change by
   1–9 respondents (nor by a 0 %/100 % group under `extreme_below`), and the difference of
   every other cell, with both versions' sums and the direction of the change known, must
   keep the same protection interval. Cells of the new version are hidden until it does.

For a weighted survey the published share is weighted; the audit runs on the unweighted
counts of the same cells (what an attacker would have for an unweighted survey). Every
hidden survey cell gets one public reason; the detailed reason (primary, extreme share,
complement, difference against an earlier version) is returned for the private store.
The audit uses HiGHS (highspy): one model per block, shown cells fixed by their bounds, so
hiding a cell only frees its bounds and every solve starts warm; a point pushed towards
many interval ends at once certifies all it reaches, so most cells need no solve of their
own. The linear relaxation chooses the complements; the integer programme has the last word.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np
import polars as pl
from scipy.sparse import coo_array

PUBLIC_REASON = "dold av röjandeskäl"
PATTERN_KEYS = ["survey_id", "scale", "period", "area_code", "area_type", "parent", "sex", "breakdown"]
CELL_KEYS = ["area_code", "area_type", "parent", "sex", "breakdown"]
BLOCK_KEYS = ["survey_id", "scale", "period"]
# Private reasons (the private store keeps them; the public sees PUBLIC_REASON only).
PRIMARY, EXTREME, COMPLEMENT, DIFFERENCE = "primary", "extreme", "complement", "difference"
AREA_COST = {"kommun": 1.0, "lan": 6.0, "total": 40.0}
# The integer programme's budget is counted in branch-and-bound nodes, not seconds: a
# time limit would let a busy machine publish a different pattern than a quiet one (and a
# replayed build differ from its original). A solve that runs out of nodes keeps its best
# feasible point or certifies nothing, so the cell gets complements: it never under-protects.
# The demo's slowest solve takes 0.1 s; the wall-clock limit is only a backstop.
MIP_NODES = 20_000
BACKSTOP_SECONDS = 600.0
INTEGER_PHASES = (False, True)


@dataclass(frozen=True)
class Protection:
    """The disclosure rule for survey cells (configurable; DESIGN.md §8)."""

    min_respondents: int = 10
    interval: int = 5          # ± respondents around the true value a hidden cell must keep
    flagged_interval: int = 5  # the same for the respondents flagged (the numerator)
    extreme_below: int = 30    # a 0 % or 100 % share is shown only from this many respondents

    @property
    def intervals(self) -> tuple[int, int]:
        return self.interval, self.flagged_interval


Equation = tuple[int, list[int]]  # total, parts


@dataclass
class Table:
    """One block of one version: cells, their true counts and the sums that bind them."""

    keys: list[tuple]
    values: np.ndarray            # cells × (1 + cuts): respondents, then flagged per cut
    equations: list[Equation]
    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def quantities(self) -> int:
        return self.values.shape[1]

    @cached_property
    def member_of(self) -> list[list[tuple[int, ...]]]:
        """Per cell, the members of every equation it is in (so a walk along equations
        does not scan them all at each step)."""
        out: list[list[tuple[int, ...]]] = [[] for _ in range(self.size)]
        for total, parts in self.equations:
            members = (total, *parts)
            for m in members:
                out[m].append(members)
        return out


def equations(keys: list[tuple]) -> list[Equation]:
    """The additive equations among one block's cells (CELL_KEYS tuples)."""
    at = {(k[0], k[3], k[4]): i for i, k in enumerate(keys)}
    areas = sorted({(k[0], k[1], k[2]) for k in keys}, key=lambda a: (a[0], a[2] or ""))
    grades = sorted({k[4] for k in keys} - {"all"})
    children: dict[str, list[str]] = defaultdict(list)
    for area, _, parent in areas:
        if parent is not None:
            children[parent].append(area)
    out: list[Equation] = []
    for area, _, _ in areas:
        for brk in grades + ["all"]:
            total, parts = at.get((area, "T", brk)), [at[(area, s, brk)] for s in "KM" if (area, s, brk) in at]
            if total is not None and parts:
                out.append((total, parts))
        for sex in "KMT":
            total, parts = at.get((area, sex, "all")), [at[(area, sex, g)] for g in grades if (area, sex, g) in at]
            if total is not None and parts:
                out.append((total, parts))
    for parent, kids in sorted(children.items()):
        for sex in "KMT":
            for brk in grades + ["all"]:
                total = at.get((parent, sex, brk))
                parts = [at[(k, sex, brk)] for k in kids if (k, sex, brk) in at]
                if total is not None and parts:
                    out.append((total, parts))
    return out


def cell_cost(key: tuple, n: float) -> float:
    """What hiding a cell loses: its respondents, more for totals and higher areas."""
    area_type, sex, breakdown = key[1], key[3], key[4]
    level = (2.0 if sex == "T" else 1.0) * (2.0 if breakdown == "all" else 1.0)
    return (n + 1.0) * level * AREA_COST.get(area_type, 40.0)


# --- the audit --------------------------------------------------------------------------------

@dataclass
class Layer:
    """A version of a block in an audit: its table and which cells are hidden in it."""

    table: Table
    hidden: set[int]


class _Rows:
    """Sparse constraint rows low ≤ Σ coef·x ≤ high, added one at a time."""

    def __init__(self):
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.data: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, terms: dict[int, float], low: float, high: float) -> None:
        r = len(self.lo)
        for var, coef in terms.items():
            self.rows.append(r), self.cols.append(var), self.data.append(coef)
        self.lo.append(low), self.hi.append(high)

    def highs(self, n: int, lower: np.ndarray, upper: np.ndarray, integer: bool = False) -> highspy.Highs:
        """A quiet HiGHS model of these rows over n columns with the given bounds."""
        matrix = coo_array((self.data, (self.rows, self.cols)), shape=(len(self.lo), n)).tocsc()
        lo, hi = np.array(self.lo), np.array(self.hi)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_max_nodes", MIP_NODES)
        h.setOptionValue("time_limit", BACKSTOP_SECONDS)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(lo)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.row_lower_ = np.where(np.isfinite(lo), lo, -highspy.kHighsInf)
        lp.row_upper_ = np.where(np.isfinite(hi), hi, highspy.kHighsInf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        h.passModel(lp)
        return h


class Audit:
    """Feasibility of one (layered) block: can a hidden cell's value move by the interval?

    One layer: the attacker's view of a version. Two layers (old, new): the attacker's view
    of both versions, linked by the direction of the change (`sign` +1 when every cell grew
    or stayed, −1 when every cell shrank or stayed, 0 when mixed); what is audited then is
    the difference new − old of each cell.

    Every cell of every layer is a variable of one HiGHS model; a shown cell is fixed to its
    value by its bounds, a hidden one may take any count. Hiding a cell only frees its
    bounds, so the model is built once per block and every later solve starts warm.
    """

    def __init__(self, layers: list[Layer], sign: int = 0, integer: bool = False):
        self.layers, self.sign, self.integer = layers, sign, integer
        table = layers[-1].table
        self.q, self.size = table.quantities, table.size
        self.n = len(layers) * self.size * self.q
        rows = _Rows()
        for li, layer in enumerate(layers):
            t = layer.table
            for total, parts in t.equations:
                for q in range(self.q):
                    # The gap (respondents without a sex or grade) is taken as known.
                    gap = t.values[total, q] - sum(t.values[p, q] for p in parts)
                    terms = {self.var(li, total, q): 1.0}
                    terms.update({self.var(li, p, q): -1.0 for p in parts})
                    rows.add(terms, gap, gap)
            for cell in range(self.size):  # flagged ≤ respondents
                for q in range(1, self.q):
                    rows.add({self.var(li, cell, q): 1.0, self.var(li, cell, 0): -1.0}, -np.inf, 0.0)
        if len(layers) == 2 and sign:
            for cell in range(self.size):
                for q in range(self.q):
                    # sign·Δ ≥ 0; for flagged also sign·(Δf − Δn) ≤ 0 (added flagged ≤ added).
                    rows.add({self.var(1, cell, q): sign, self.var(0, cell, q): -sign}, 0.0, np.inf)
                    if q:
                        rows.add({self.var(1, cell, q): sign, self.var(0, cell, q): -sign,
                                  self.var(1, cell, 0): -sign, self.var(0, cell, 0): sign}, -np.inf, 0.0)
        self.truth = np.concatenate([layer.table.values.reshape(-1) for layer in layers])
        # Counts are ≥ 0; the cap (far above any real count) keeps a pushed point finite
        # and only narrows what the attacker may assume, so it can only over-protect.
        self.cap = 4 * float(self.truth.max(initial=0)) + 100
        self.hidden = [set() for _ in layers]
        # Every cell starts shown (fixed to its value); set_hidden frees the hidden ones.
        self._highs = rows.highs(self.n, self.truth.copy(), self.truth.copy(), integer)
        for li, layer in enumerate(layers):
            self.set_hidden(li, layer.hidden)

    def var(self, layer: int, cell: int, q: int) -> int:
        return (layer * self.size + cell) * self.q + q

    def set_hidden(self, layer: int, cells: set[int]) -> None:
        """Free the bounds of newly hidden cells (and fix again those shown once more)."""
        for cell in cells ^ self.hidden[layer]:
            idx = np.array([self.var(layer, cell, q) for q in range(self.q)], dtype=np.int32)
            if cell in cells:
                low, high = np.zeros(self.q), np.full(self.q, self.cap)
            else:
                low = high = self.truth[idx]
            self._highs.changeColsBounds(self.q, idx, low, high)
        self.hidden[layer] = set(cells)

    def feasible_point(self, objective: np.ndarray) -> np.ndarray | None:
        """A point of the attacker's feasible set that minimises `objective`, or None when
        HiGHS finds none within its budget. Integer (MIP) when `self.integer`, else the linear
        relaxation: a superset, much faster, used to choose complements before the integer
        audit has the last word."""
        h = self._highs
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), objective.astype(float))
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            if self.integer and h.getInfo().primal_solution_status == 2:  # feasible, not proven optimal
                return np.round(np.array(h.getSolution().col_value))
            return None
        x = np.array(h.getSolution().col_value)
        return np.round(x) if self.integer else x

    def terms(self, cell: int, q: int) -> dict[int, float]:
        """The audited quantity: the cell itself with one layer, new − old with two."""
        if len(self.layers) == 1:
            return {self.var(0, cell, q): 1.0}
        return {self.var(1, cell, q): 1.0, self.var(0, cell, q): -1.0}

    def value(self, point: np.ndarray, cell: int, q: int) -> float:
        return sum(c * point[v] for v, c in self.terms(cell, q).items())

    def target(self, cell: int, q: int, intervals: tuple[int, int]) -> tuple[float, float, float]:
        """(true value, the low end that must be reachable, the high end): the interval
        around the true value, clipped where the attacker knows a bound (counts ≥ 0; a
        difference ≥ 0 when every cell grew, ≤ 0 when every cell shrank)."""
        true = self.value(self.truth, cell, q)
        interval = intervals[0] if q == 0 else intervals[1]
        low, high = true - interval, true + interval
        if len(self.layers) == 1 or self.sign > 0:
            low = max(low, 0.0)
        if len(self.layers) == 2 and self.sign < 0:
            high = min(high, 0.0)
        return true, low, high

    def reaches(self, point: np.ndarray, key: tuple[int, int, int], end: float) -> bool:
        cell, q, d = key
        return (self.value(point, cell, q) - end) * d >= -1e-6

    def failing(self, cells: list[int], intervals: tuple[int, int], sensitive: set[int] | None = None,
                first_only: bool = False) -> list[tuple[int, int, int]]:
        """(cell, quantity, direction ±1) that cannot reach their interval end.

        A sensitive cell (too few respondents, an extreme share, a small change) must reach
        the interval both ways; any other hidden cell (a complement) must only not be pinned
        to a single value: one step up or down. A point pushed towards many ends at once
        certifies every end it reaches (any feasible point is a witness), so most cells need
        no problem of their own."""
        sensitive = set(cells) if sensitive is None else sensitive
        ends = {}
        for c in cells:
            for q in range(self.q):
                true, low, high = self.target(c, q, intervals if c in sensitive else (1, 1))
                for d, end in ((1, high), (-1, low)):
                    if end != true:  # else nothing to reach (0 already at its bound)
                        ends[(c, q, d)] = end
        failed = []
        for direction in (1, -1):
            pending = sorted(k for k in ends if k[2] == direction)
            while pending:
                point = self.feasible_point(self._objective(pending))
                reached = {k for k in pending if point is not None and self.reaches(point, k, ends[k])}
                if not reached:
                    key = pending[0]
                    point = self.feasible_point(self._objective([key]))
                    if point is None or not self.reaches(point, key, ends[key]):
                        failed.append(key)
                        pending = pending[1:]
                        if first_only and (key[0] in sensitive or direction < 0):
                            break
                        continue
                    reached = {k for k in pending if self.reaches(point, k, ends[k])}
                pending = [k for k in pending if k not in reached]
            if first_only and any(f[0] in sensitive for f in failed):
                break
        # A complement fails only when it can move neither up nor down.
        out = []
        for c, q, d in failed:
            if c in sensitive or ((c, q, -d) in failed or (c, q, -d) not in ends):
                out.append((c, q, d))
        return sorted(out)[:1] if first_only else sorted(out)

    def _objective(self, keys: list[tuple[int, int, int]]) -> np.ndarray:
        objective = np.zeros(self.n)
        for c, q, d in keys:
            for v, coef in self.terms(c, q).items():
                objective[v] -= d * coef
        return objective


class Repair:
    """The cheapest cells to hide so that a failing cell can move: one linear programme in
    which every cell may move, a shown cell at a price per respondent moved (its cost), a
    hidden one for free, and the failing cell must reach its interval end. The cells that
    move are the complements (the linear-programming form of classic cell suppression; it
    finds in one solve the cycles through several kommuner that single cells cannot)."""

    def __init__(self, table: Table):
        self.table, self.q = table, table.quantities
        size, q = table.size, table.quantities
        self.nx = size * q
        n = 3 * self.nx  # x, then moves up, then moves down
        rows = _Rows()
        for total, parts in table.equations:
            for k in range(q):
                gap = table.values[total, k] - sum(table.values[p, k] for p in parts)
                terms = {total * q + k: 1.0}
                terms.update({p * q + k: -1.0 for p in parts})
                rows.add(terms, gap, gap)
        for cell in range(size):
            for k in range(1, q):
                rows.add({cell * q + k: 1.0, cell * q: -1.0}, -np.inf, 0.0)
            for k in range(q):  # x − up + down = true value
                i = cell * q + k
                rows.add({i: 1.0, self.nx + i: -1.0, 2 * self.nx + i: 1.0}, table.values[cell, k], table.values[cell, k])
        self.cap = 4 * float(table.values.max(initial=0)) + 100
        self.highs = rows.highs(n, np.zeros(n), np.full(n, self.cap))

    def cheapest(self, hidden: set[int], key: tuple[int, int, int], end: float) -> set[int]:
        """Shown cells that must be hidden for `key` (cell, quantity, direction) to reach
        `end`; empty when no set of cells would do."""
        cell, k, d = key
        size = self.table.size
        price = np.repeat([0.0 if c in hidden else self.table.cost[c] / (self.table.values[c, 0] + 1.0)
                           for c in range(size)], self.q)
        cost = np.concatenate([np.zeros(self.nx), price, price])
        h = self.highs
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        i = cell * self.q + k
        low, high = (end, self.cap) if d > 0 else (0.0, end)
        h.changeColsBounds(1, np.array([i], dtype=np.int32), np.array([low]), np.array([high]))
        h.run()
        solved = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        sol = np.array(h.getSolution().col_value) if solved else None
        h.changeColsBounds(1, np.array([i], dtype=np.int32), np.array([0.0]), np.array([self.cap]))
        if sol is None:
            return set()
        moved = (sol[self.nx:2 * self.nx] + sol[2 * self.nx:]).reshape(size, self.q).sum(axis=1)
        return {c for c in range(size) if c not in hidden and moved[c] > 1e-6}


# --- choosing what to hide ------------------------------------------------------------------

def _neighbours(table: Table, cell: int, hidden: set[int]) -> list[int]:
    """Shown cells that share an equation with `cell`, cheapest first."""
    out = {m for members in table.member_of[cell] for m in members if m not in hidden}
    return sorted(out, key=lambda m: (table.cost[m], m))


def _linked(table: Table, cell: int, hidden: set[int]) -> list[int]:
    """Shown cells in equations reached from `cell` through hidden cells, cheapest first."""
    seen, frontier, out = {cell}, [cell], set()
    while frontier:
        current = frontier.pop()
        for members in table.member_of[current]:
            for m in members:
                if m in hidden and m not in seen:
                    seen.add(m), frontier.append(m)
                elif m not in hidden:
                    out.add(m)
    return sorted(out, key=lambda m: (table.cost[m], m))


@dataclass
class Plan:
    """What to hide in a new version, and why (private)."""

    hidden: set[int]
    reasons: dict[int, str]


def small_change(diff: np.ndarray, protection: Protection) -> bool:
    """A change of a cell between two versions that tells about the pupils behind it: by
    1–9 respondents, or a 0 %/100 % share among the changed ones under `extreme_below`."""
    dn, flagged = abs(diff[0]), np.abs(diff[1:])
    return bool(0 < dn < protection.min_respondents
                or (dn == 0 and np.any((flagged > 0) & (flagged < protection.extreme_below)))
                or (0 < dn < protection.extreme_below and np.any((flagged == 0) | (flagged == dn))))


def plan_block(table: Table, primary: dict[int, str], history: list[Layer], sign: list[int],
               protection: Protection, tries: int = 12) -> Plan:
    """Hide cells of `table` until every audit passes: its own, and against every layer of
    `history` (earlier released versions of the same block, with the change's sign)."""
    hidden = set(primary)
    reasons = dict(primary)
    p = protection.intervals
    # Sensitive cells keep the full interval; complements must only not be pinned.
    sensitive = [set(primary)] + [set() for _ in history]

    def hide(cell: int, why: str) -> None:
        hidden.add(cell)
        reasons.setdefault(cell, why)

    # A shown cell whose change against an earlier version is small tells about the pupils
    # who were added or removed: hidden like a primary cell of the difference.
    for old, s in zip(history, sign, strict=True):
        diff = table.values - old.table.values
        for cell in range(table.size):
            if cell in hidden or cell in old.hidden:
                continue
            if small_change(diff[cell], protection):
                hide(cell, DIFFERENCE)
    for a, (old, s) in enumerate(zip(history, sign, strict=True), start=1):
        diff = table.values - old.table.values
        sensitive[a] = {c for c in range(table.size) if small_change(diff[c], protection)}

    def seen(a: int) -> set[int]:
        return hidden if a == 0 else hidden | history[a - 1].hidden

    # The linear relaxation chooses the complements fast; the integer audit then has the
    # last word (its ranges can only be narrower) and adds complements where it must.
    for integer in INTEGER_PHASES:
        audits = [Audit([Layer(table, hidden)], integer=integer)]
        audits += [Audit([old, Layer(table, hidden)], s, integer=integer)
                   for old, s in zip(history, sign, strict=True)]

        repair = Repair(table)

        def sync() -> None:
            for audit in audits:
                audit.set_hidden(len(audit.layers) - 1, hidden)

        passed: set[tuple[int, int]] = set()  # (audit, cell): hiding more never undoes it
        while True:
            _hide_lonely(table, hidden, hide)
            sync()
            todo = [(a, c) for a in range(len(audits)) for c in sorted(seen(a)) if (a, c) not in passed]
            if not todo:
                break
            # One pass over every unchecked cell (witnesses clear most of them at once) …
            failing: list[tuple[int, int]] = []
            for a, audit in enumerate(audits):
                cells = [c for b, c in todo if b == a]
                if cells:
                    bad = {f[0] for f in audit.failing(cells, p, sensitive[a])}
                    passed.update((a, c) for c in cells if c not in bad)
                    failing += [(a, c) for c in cells if c in bad]
            # … then each failing cell gets complements until it passes.
            for a, cell in failing:
                while audits[a].failing([cell], p, sensitive[a], first_only=True):
                    if not _complement(table, cell, hidden, audits[a], p, sensitive[a], tries, hide,
                                       COMPLEMENT if a == 0 else DIFFERENCE, repair if a == 0 else None):
                        break  # everything near it is hidden: nothing more to do
                    _hide_lonely(table, hidden, hide)
                    sync()
                passed.add((a, cell))
    return Plan(hidden, reasons)


def closure(table: Table, hidden: set[int]) -> set[int]:
    """`hidden` plus what it takes so that no equation has a single hidden cell (which the
    sum would give away): each time the cheapest other member of such an equation."""
    out = set(hidden)
    while True:
        lonely = [(total, parts) for total, parts in table.equations
                  if sum(m in out for m in (total, *parts)) == 1]
        if not lonely:
            return out
        for total, parts in lonely:
            members = [m for m in (total, *parts) if m not in out]
            if len(members) == len(parts):  # still lonely after earlier picks in this pass
                out.add(min(members, key=lambda m: (table.cost[m], m)))


def _hide_lonely(table: Table, hidden: set[int], hide) -> None:
    for m in sorted(closure(table, hidden) - hidden):
        hide(m, COMPLEMENT)


def _mirrors(table: Table, cell: int, hidden: set[int]) -> list[set[int]]:
    """For a cell of an area with a parent: the cells of each sibling area (same parent) at
    the places (sex, grade) where the cell's own area is hidden. Hiding such a mirror closes
    the cycle a single cell cannot (the hypercube idea: a small kommun paired with another)."""
    area, _, parent = table.keys[cell][:3]
    if parent is None:
        return []
    places = {(k[3], k[4]) for i, k in enumerate(table.keys) if k[0] == area and i in hidden}
    by_area: dict[str, set[int]] = defaultdict(set)
    for i, k in enumerate(table.keys):
        if k[2] == parent and k[0] != area and (k[3], k[4]) in places:
            by_area[k[0]].add(i)
    return [cells - hidden for _, cells in sorted(by_area.items()) if cells - hidden]


def _complement(table: Table, cell: int, hidden: set[int], audit: Audit, p: tuple[int, int],
                sensitive: set[int], tries: int, hide, why: str, repair: Repair | None = None) -> bool:
    """Hide more cells for a failing `cell`: of its cheapest neighbours (single cells) and
    of the mirrors of its area's hidden cells in sibling areas, the choice whose hiding
    (with what that hiding forces) fixes it at the least cost; if none does, the one that
    moves it furthest towards its interval per cost (progress). False when no cell is left
    to hide."""
    singles = _neighbours(table, cell, hidden) or _linked(table, cell, hidden)
    if not singles:
        singles = sorted((m for m in range(table.size) if m not in hidden),
                         key=lambda m: (table.cost[m], m))
    if not singles:
        return False
    options = [{m} for m in singles[:tries]]
    mirrors = sorted(_mirrors(table, cell, hidden), key=lambda c: (sum(table.cost[m] for m in c), min(c)))
    options += mirrors[:tries]
    layer = len(audit.layers) - 1
    failed = audit.failing([cell], p, sensitive, first_only=True)
    key = failed[0] if failed else None
    if repair is not None and key is not None:
        true, low, high = audit.target(key[0], key[1], p if key[0] in sensitive else (1, 1))
        needed = repair.cheapest(hidden, key, high if key[2] > 0 else low)
        if needed:
            for m in sorted(needed):
                hide(m, why)
            return True

    def reach() -> float:
        if key is None:
            return 0.0
        point = audit.feasible_point(audit._objective([key]))
        return -np.inf if point is None else key[2] * audit.value(point, key[0], key[1])

    base = reach()
    best_fix: tuple[float, set[int]] | None = None
    best_step: tuple[float, set[int]] | None = None
    for option in options:
        trial = closure(table, hidden | option)
        cost = float(sum(table.cost[c] for c in trial - hidden))
        if best_fix is not None and cost >= best_fix[0]:
            continue
        audit.set_hidden(layer, trial)
        if not audit.failing([cell], p, sensitive, first_only=True):
            best_fix = (cost, option)
        elif best_fix is None:
            gain = (reach() - base) / cost
            if gain > 1e-9 and (best_step is None or gain > best_step[0]):
                best_step = (gain, option)
    audit.set_hidden(layer, hidden)
    chosen = best_fix[1] if best_fix else best_step[1] if best_step else {singles[0]}
    for m in sorted(chosen):
        hide(m, why)
    return True


# --- from cells to a published pattern --------------------------------------------------------

def block_table(block: pl.DataFrame, cuts: list[str]) -> Table:
    """The Table of one block (rows of every cut of one scale and year)."""
    first = block.filter(pl.col("indicator_id") == cuts[0]).sort(CELL_KEYS, nulls_last=True)
    keys = [tuple(r) for r in first.select(CELL_KEYS).iter_rows()]
    values = np.zeros((len(keys), 1 + len(cuts)))
    values[:, 0] = first["n"].to_numpy()
    for j, cut in enumerate(cuts, start=1):
        rows = block.filter(pl.col("indicator_id") == cut).sort(CELL_KEYS, nulls_last=True)
        values[:, j] = rows["n_flag"].to_numpy()
    cost = np.array([cell_cost(k, n) for k, n in zip(keys, values[:, 0], strict=True)])
    return Table(keys, values, equations(keys), cost)


def primary_cells(table: Table, protection: Protection) -> dict[int, str]:
    out = {}
    for cell in range(table.size):
        n, flagged = table.values[cell, 0], table.values[cell, 1:]
        if n < protection.min_respondents:
            out[cell] = PRIMARY
        elif n < protection.extreme_below and np.any((flagged == 0) | (flagged == n)):
            out[cell] = EXTREME
    return out


def aligned(old: pl.DataFrame, table: Table, cuts: list[str]) -> tuple[Layer, dict[int, str]]:
    """An earlier released version of a block on the cells of `table` (missing cells are 0
    and were shown as hidden, which is what the full grid publishes), and its reasons."""
    values = np.zeros_like(table.values)
    hidden = set(range(table.size))
    reasons: dict[int, str] = {}
    position = {k: i for i, k in enumerate(table.keys)}
    for r in old.iter_rows(named=True):
        i = position.get(tuple(r[k] for k in CELL_KEYS))
        if i is None:
            continue
        if r["indicator_id"] == cuts[0]:
            values[i, 0] = r["n"]
            if r["shown"]:
                hidden.discard(i)
            elif r.get("reason"):
                reasons[i] = r["reason"]
        if r["indicator_id"] in cuts:
            values[i, 1 + cuts.index(r["indicator_id"])] = r["n_flag"]
    return Layer(Table(table.keys, values, table.equations, table.cost), hidden), reasons


def change_sign(old: Layer, table: Table) -> int:
    diff = table.values - old.table.values
    if (diff >= 0).all():
        return 1
    if (diff <= 0).all():
        return -1
    return 0


def protect(cells: pl.DataFrame, protection: Protection = Protection(),
            history: dict[tuple[str, int], list[pl.DataFrame]] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`status` (ok|suppressed) and the public `status_reason` for cells keyed by
    PATTERN_KEYS + indicator_id (with `n` and `n_flag`), and the private reasons.

    `history` maps (survey_id, period) to earlier released versions of that wave (frames
    with PATTERN_KEYS, indicator_id, n, n_flag and `shown`); a block that differs from them
    is audited against each."""
    history = history or {}
    decided, private = [], []
    blocks = cells.sort(BLOCK_KEYS).partition_by(BLOCK_KEYS, maintain_order=True, as_dict=True)
    for (survey, scale, period), block in blocks.items():
        cuts = sorted(block["indicator_id"].unique().to_list())
        table = block_table(block, cuts)
        layers, signs, plan = [], [], None
        for old in history.get((survey, int(period)), []):
            layer, kept = aligned(old.filter(pl.col("scale") == scale), table, cuts)
            if np.array_equal(layer.table.values, table.values):
                # The same cells as a released version: its pattern, as it was.
                plan = Plan(layer.hidden, {i: kept.get(i, COMPLEMENT) for i in layer.hidden})
                continue
            plan = None
            layers.append(layer)
            signs.append(change_sign(layer, table))
        if plan is None:
            plan = plan_block(table, primary_cells(table, protection), layers, signs, protection)
        keys = pl.DataFrame([dict(zip(CELL_KEYS, k, strict=True)) for k in table.keys],
                            schema={k: block.schema[k] for k in CELL_KEYS})
        hidden = [i in plan.hidden for i in range(table.size)]
        decided.append(keys.with_columns(survey_id=pl.lit(survey), scale=pl.lit(scale),
                                         period=pl.lit(period, block.schema["period"]),
                                         _hidden=pl.Series(hidden)))
        private.append(keys.with_columns(survey_id=pl.lit(survey), scale=pl.lit(scale),
                                         period=pl.lit(period, block.schema["period"]),
                                         reason=pl.Series([plan.reasons.get(i) for i in range(table.size)],
                                                          dtype=pl.String)))
    if not decided:
        empty = cells.with_columns(status=pl.lit(None, pl.String), status_reason=pl.lit(None, pl.String))
        return empty, pl.DataFrame()
    pattern = pl.concat(decided)
    out = (cells.join(pattern, on=PATTERN_KEYS, how="left", nulls_equal=True)
           .with_columns(status=pl.when(pl.col("_hidden")).then(pl.lit("suppressed")).otherwise(pl.lit("ok")),
                         status_reason=pl.when(pl.col("_hidden")).then(pl.lit(PUBLIC_REASON)))
           .drop("_hidden"))
    return out, pl.concat(private).filter(pl.col("reason").is_not_null())
