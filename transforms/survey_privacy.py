"""Disclosure control for survey cells that survives an integer-programming attack.

Cells form additive tables per survey × scale × year (a *block*): T = K + M (per area and
grade), all = Σ grades (per area and sex), län = Σ its kommuner and ALLA = Σ län (per sex and
grade). Respondents with a missing sex or grade count only in T or `all`; the audit treats
those gaps as known to the attacker (more knowledge than anyone has, so the audit can only
over-protect). Every cut of a scale shares the scale's denominators, so one pattern of
hidden cells serves all cuts of a scale.

What an attacker is assumed to know: every shown cell (respondents n and, per cut, the
flagged count f: a shown share with its denominator fixes its numerator), every sum above,
0 ≤ f ≤ n, integrality, which cells are hidden (not why: one public reason), and every
earlier released version of the wave, with the direction of the change when every cell
grew (a supplement) or every cell shrank (a withdrawal): the same pupils may be in both.

The guarantee, checked by integer programming for every hidden quantity (respondents and
each cut's flagged count), within a version and across versions:
- a *sensitive* cell — fewer than `min_respondents`, or a 0 %/100 % share under
  `extreme_below` — keeps a feasible range reaching `interval` below and above its true
  value (clipped at 0); so does the *difference* between two versions of a cell that changed
  by 1–9 respondents (or whose changed pupils share a 0 %/100 % share under `extreme_below`);
- every other hidden cell, and every difference of a cell hidden in either version, keeps a
  feasible range of at least `min_range` (never pinned, never narrowed to 0–1 or 0–2).

How cells are chosen (one cost model for everything):
1. Hidden first: sensitive cells, and cells shown in an earlier version whose change is
   sensitive (the difference would be published exactly otherwise).
2. The audit splits the hidden cells into *components*: cells linked by a sum in which
   both are hidden (or by being the same cell in two versions). Components share no
   constraint, so each is audited on its own, as a small model; a cell that passed stays
   passed (hiding more only widens every range).
3. A failing cell gets complements from one linear programme over its region (its län and
   the all-respondents cells, both versions): every shown cell of the new version may move,
   at a price that is the cost of hiding it — respondents weighted by level (a sex or grade
   cell before a kommun's total, a kommun before its län, a län before all respondents) —
   and the failing value must reach its end. The cells that move are hidden. A cell hidden
   in the earlier version, or one whose value changed, is cheaper to hide than a margin
   that did not change, so a supplement or a correction hides the cells it moved, not
   the county.

For a weighted survey the published share is weighted; the audit runs on the unweighted
counts of the same cells (what an attacker would have for an unweighted survey). Every
hidden survey cell gets one public reason; the detailed reason (primary, extreme share,
complement, difference against an earlier version) is returned for the private store.
The solver is HiGHS (highspy): linear programmes find witnesses (an integral optimum is a
feasible point of the integer problem) and prove failures (no real point reaches, so no
integer one does); a branch-and-bound solve, with a budget counted in nodes so that a busy
machine decides as a quiet one, settles the rest. A solve that runs out of nodes proves
nothing and its cell gets complements: more hidden, never less.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from transforms.survey_codebook import PUBLIC_REASON

PATTERN_KEYS = ["survey_id", "scale", "period", "area_code", "area_type", "parent", "sex", "breakdown"]
CELL_KEYS = ["area_code", "area_type", "parent", "sex", "breakdown"]
BLOCK_KEYS = ["survey_id", "scale", "period"]
# Private reasons (the private store keeps them; the public sees PUBLIC_REASON only).
PRIMARY, EXTREME, COMPLEMENT, DIFFERENCE = "primary", "extreme", "complement", "difference"
AREA_COST = {"kommun": 1.0, "lan": 6.0, "total": 40.0}
# What hiding a cell again costs when the earlier version hid it too, or when its value
# changed (what moved is hidden before what did not).
ALREADY_HIDDEN, CHANGED = 0.3, 0.5
# The branch-and-bound budget is counted in nodes, not seconds: a time limit would let a
# busy machine publish a different pattern than a quiet one (and a replayed build differ
# from its original). The wall-clock limit is only a backstop.
MIP_NODES = 20_000
BACKSTOP_SECONDS = 600.0
EPS = 1e-6
CHUNK = 64  # values checked together before a failing one is repaired


@dataclass(frozen=True)
class Protection:
    """The disclosure rule for survey cells (configurable; DESIGN.md §8)."""

    min_respondents: int = 10
    interval: int = 5          # ± respondents around the true value a sensitive cell must keep
    flagged_interval: int = 5  # the same for the respondents flagged (the numerator)
    extreme_below: int = 30    # a 0 % or 100 % share is shown only from this many respondents
    min_range: int = 3         # every hidden value keeps at least this feasible range

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
    def member_of(self) -> list[list[int]]:
        """Per cell, the indices of the equations it is in."""
        out: list[list[int]] = [[] for _ in range(self.size)]
        for e, (total, parts) in enumerate(self.equations):
            for m in (total, *parts):
                out[m].append(e)
        return out

    @cached_property
    def lan(self) -> list[str | None]:
        """Per cell, the län it belongs to (None for all respondents)."""
        return [k[2] if k[1] == "kommun" else (k[0] if k[1] == "lan" else None) for k in self.keys]

    @cached_property
    def incidence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The equations flattened: (equation, cell, coefficient) per member, +1 for the
        total and −1 for each part, in equation order."""
        rows, cells, coefs = [], [], []
        for e, (total, parts) in enumerate(self.equations):
            rows += [e] * (1 + len(parts))
            cells += [total, *parts]
            coefs += [1.0] + [-1.0] * len(parts)
        return np.array(rows, dtype=np.int64), np.array(cells, dtype=np.int64), np.array(coefs)

    def with_values(self, values: np.ndarray) -> Table:
        return Table(self.keys, values, self.equations, self.cost)


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


# --- the rules ------------------------------------------------------------------------------

def primary_cells(table: Table, protection: Protection) -> dict[int, str]:
    """Sensitive cells of one version, with their private reason."""
    out = {}
    for cell in range(table.size):
        n, flagged = table.values[cell, 0], table.values[cell, 1:]
        if n < protection.min_respondents:
            out[cell] = PRIMARY
        elif n < protection.extreme_below and np.any((flagged == 0) | (flagged == n)):
            out[cell] = EXTREME
    return out


def small_change(diff: np.ndarray, protection: Protection) -> bool:
    """A change of a cell between two versions that tells about the pupils behind it: by
    1–9 respondents, or a 0 %/100 % share among the changed ones under `extreme_below`."""
    dn, flagged = abs(diff[0]), np.abs(diff[1:])
    return bool(0 < dn < protection.min_respondents
                or (dn == 0 and np.any((flagged > 0) & (flagged < protection.extreme_below)))
                or (0 < dn < protection.extreme_below and np.any((flagged == 0) | (flagged == dn))))


def floors(values: np.ndarray, eqs: list[Equation]) -> np.ndarray:
    """The least each value can be with every cell hidden: 0, and for a total the known gap
    (respondents without a sex or grade, which count only in totals) plus its parts' least.
    An interval end below it cannot be reached however much is hidden, so it is clipped."""
    gaps = [(total, parts, values[total] - values[parts].sum(axis=0)) for total, parts in eqs]
    out = np.zeros_like(values)
    changed = True
    while changed:
        changed = False
        for total, parts, gap in gaps:
            least = np.maximum(out[total], gap + out[parts].sum(axis=0))
            if np.any(least > out[total] + EPS):
                out[total] = least
                changed = True
    return out


# --- the attacker's view --------------------------------------------------------------------

@dataclass
class Layer:
    """A version of a block in an audit: its table and which cells are hidden in it."""

    table: Table
    hidden: set[int]


Var = tuple[int, int, int]  # (layer, cell, quantity)


@dataclass(frozen=True)
class Target:
    """What must hold for one audited value: a cell's quantity in a layer, or the difference
    new − old of a cell's quantity. `low`/`high`: ends a sensitive value must reach (None
    where nothing is to be reached); `width`: the range any hidden value must keep."""

    key: tuple                      # ("cell", layer, cell, q) or ("diff", cell, q)
    terms: tuple[tuple[Var, float], ...]
    const: float                    # the shown part of the value
    true: float
    low: float | None
    high: float | None
    width: int

    @property
    def sensitive(self) -> bool:
        return self.low is not None or self.high is not None


class Joint:
    """The attacker's view of a block: one version, or an earlier released version and the
    new one (layers 0 and 1), with the direction of the change (`sign`: +1 every cell grew
    or stayed, −1 every cell shrank or stayed, 0 mixed)."""

    def __init__(self, layers: list[Layer], sign: int = 0):
        self.layers, self.sign = layers, sign
        self.table = layers[-1].table
        self.q = self.table.quantities
        self.cap = 4 * float(max(l.table.values.max(initial=0) for l in layers)) + 100
        self.floor = [floors(l.table.values, l.table.equations) for l in layers]
        if len(layers) == 2 and sign:
            # The difference of a grown (shrunk) table is itself a table of counts ≥ 0.
            diff = sign * (layers[1].table.values - layers[0].table.values)
            self.diff_floor = sign * floors(diff, self.table.equations)

    @property
    def new(self) -> int:
        return len(self.layers) - 1

    def hidden(self, layer: int) -> set[int]:
        return self.layers[layer].hidden

    def components(self) -> list[list[tuple[int, int]]]:
        """Hidden (layer, cell) nodes in groups that share no constraint: linked by an
        equation in which both are hidden, or by being one cell in two versions."""
        size = self.table.size
        heads, tails = [], []
        for li, layer in enumerate(self.layers):
            eq, cell, _ = layer.table.incidence
            mask = np.zeros(size, dtype=bool)
            mask[sorted(layer.hidden)] = True
            at = np.flatnonzero(mask[cell])
            same = eq[at[:-1]] == eq[at[1:]]  # consecutive hidden members of one equation
            heads.append(li * size + cell[at[:-1][same]])
            tails.append(li * size + cell[at[1:][same]])
        if len(self.layers) == 2:
            both = np.array(sorted(self.layers[0].hidden & self.layers[1].hidden), dtype=np.int64)
            heads.append(both), tails.append(size + both)
        n = len(self.layers) * size
        graph = coo_array((np.ones(sum(len(h) for h in heads)), (np.concatenate(heads), np.concatenate(tails))),
                          shape=(n, n))
        _, label = connected_components(graph, directed=False)
        nodes = sorted((li, c) for li, layer in enumerate(self.layers) for c in layer.hidden)
        groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for li, c in nodes:
            groups[label[li * size + c]].append((li, c))
        return sorted(groups.values())

    def value_terms(self, layer: int, cell: int, q: int) -> tuple[list[tuple[Var, float]], float]:
        if cell in self.hidden(layer):
            return [((layer, cell, q), 1.0)], 0.0
        return [], float(self.layers[layer].table.values[cell, q])

    def targets(self, nodes: list[tuple[int, int]], protection: Protection,
                sensitive: list[set[int]], diff_sensitive: set[int], skip: set[tuple] = frozenset(),
                width_only: bool = False) -> list[Target]:
        """Every requirement on the values of a component's hidden cells."""
        out = []
        intervals = protection.intervals
        cells = sorted({c for _, c in nodes})
        for li, c in nodes:
            for q in range(self.q):
                key = ("cell", li, c, q)
                if key in skip:
                    continue
                t = float(self.layers[li].table.values[c, q])
                iv = intervals[0] if q == 0 else intervals[1]
                if c in sensitive[li] and not width_only:
                    low = max(t - iv, float(self.floor[li][c, q]))
                    out.append(Target(key, (((li, c, q), 1.0),), 0.0, t, low if low < t else None, t + iv,
                                      protection.min_range))
                else:
                    out.append(Target(key, (((li, c, q), 1.0),), 0.0, t, None, None, protection.min_range))
        if len(self.layers) == 2:
            changed = np.any(self.layers[1].table.values != self.layers[0].table.values, axis=1)
            for c in cells:
                if not changed[c]:
                    continue  # no pupil of this cell changed: its difference, 0, tells of no one
                for q in range(self.q):
                    key = ("diff", c, q)
                    if key in skip:
                        continue
                    new_terms, new_const = self.value_terms(1, c, q)
                    old_terms, old_const = self.value_terms(0, c, q)
                    terms = tuple(new_terms + [(v, -coef) for v, coef in old_terms])
                    if not terms:
                        continue
                    const = new_const - old_const
                    t = float(self.layers[1].table.values[c, q] - self.layers[0].table.values[c, q])
                    iv = intervals[0] if q == 0 else intervals[1]
                    if c in diff_sensitive and not width_only:
                        low, high = t - iv, t + iv
                        if self.sign > 0:
                            low = max(low, float(self.diff_floor[c, q]))
                        if self.sign < 0:
                            high = min(high, float(self.diff_floor[c, q]))
                        out.append(Target(key, terms, const, t, low if low < t else None,
                                          high if high > t else None, protection.min_range))
                    else:
                        out.append(Target(key, terms, const, t, None, None, protection.min_range))
        return out


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

    def extend(self, block) -> None:
        """Rows given as arrays (rows, columns, coefficients, lows, highs), numbered on."""
        r, c, d, lo, hi = block
        self.rows += r.tolist(); self.cols += c.tolist(); self.data += d.tolist()  # noqa: E702
        self.lo += lo.tolist(); self.hi += hi.tolist()  # noqa: E702

    def highs(self, n: int, lower: np.ndarray, upper: np.ndarray, cost: np.ndarray | None = None) -> highspy.Highs:
        """A quiet HiGHS model of these rows over n columns with the given bounds."""
        matrix = coo_array((self.data, (self.rows, self.cols)), shape=(len(self.lo), n)).tocsc()
        lo, hi = np.array(self.lo, dtype=float), np.array(self.hi, dtype=float)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_max_nodes", MIP_NODES)
        h.setOptionValue("time_limit", BACKSTOP_SECONDS)
        h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(lo)
        lp.col_cost_ = np.zeros(n) if cost is None else cost
        lp.col_lower_, lp.col_upper_ = lower, upper
        lp.row_lower_ = np.where(np.isfinite(lo), lo, -highspy.kHighsInf)
        lp.row_upper_ = np.where(np.isfinite(hi), hi, highspy.kHighsInf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        h.passModel(lp)
        return h


def _table_rows(table: Table, q: int, col: np.ndarray, inside: np.ndarray, row0: int):
    """Rows of a table's equations that touch the cells with `col` ≥ 0 (`col`: the first of
    a cell's q columns, −1 for a cell that is not a variable): per equation and quantity,
    Σ coef·x over its variable members = Σ coef·value over them (the other members keep
    their value: shown, or outside the model). `inside`: members that are variables."""
    eq, cell, coef = table.incidence
    var = inside[cell]
    touched = np.unique(eq[var])
    if not len(touched):
        return [np.zeros(0, dtype=np.int64)] * 3 + [np.zeros(0)] * 2, row0
    position = np.full(len(table.equations), -1, dtype=np.int64)
    position[touched] = np.arange(len(touched))
    keep = var & (position[eq] >= 0)
    e, c, k = position[eq[keep]], cell[keep], coef[keep]
    out_rows, out_cols, out_data, rhs = [], [], [], []
    for quantity in range(q):
        out_rows.append(row0 + e * q + quantity)
        out_cols.append(col[c] + quantity)
        out_data.append(k)
        rhs.append(np.bincount(e, weights=k * table.values[c, quantity], minlength=len(touched)))
    order = np.stack(rhs, axis=1).reshape(-1)  # row e*q + quantity
    return ([np.concatenate(out_rows), np.concatenate(out_cols), np.concatenate(out_data), order, order],
            row0 + len(touched) * q)


def _flag_rows(cols0: np.ndarray, q: int, row0: int):
    """flagged ≤ respondents for cells whose q columns start at `cols0`."""
    m = len(cols0)
    if q < 2 or not m:
        return [np.zeros(0, dtype=np.int64)] * 3 + [np.zeros(0)] * 2, row0
    r = row0 + np.arange(m * (q - 1))
    flagged = (cols0[:, None] + np.arange(1, q)[None, :]).reshape(-1)
    respondents = np.repeat(cols0, q - 1)
    return ([np.concatenate([r, r]), np.concatenate([flagged, respondents]),
             np.concatenate([np.ones(len(r)), -np.ones(len(r))]), np.full(len(r), -np.inf), np.zeros(len(r))],
            row0 + len(r))


def _add_sign_rows(rows: _Rows, sign: int, q: int, var) -> None:
    """sign·Δ ≥ 0 per quantity, and sign·(Δf − Δn) ≤ 0 (no more flagged added than added)."""
    # `var(layer, q)` gives (column, None) for a variable or (None, value) for a constant.
    def row(parts: tuple[tuple[int, int, float], ...]) -> tuple[dict[int, float], float]:
        terms, const = defaultdict(float), 0.0
        for layer, k, coef in parts:
            col, val = var(layer, k)
            if col is None:
                const += coef * val
            else:
                terms[col] += coef
        return dict(terms), const

    for k in range(q):
        terms, const = row(((1, k, sign), (0, k, -sign)))
        if terms:
            rows.add(terms, -const, np.inf)
        if k:
            terms, const = row(((1, k, sign), (0, k, -sign), (1, 0, -sign), (0, 0, sign)))
            if terms:
                rows.add(terms, -np.inf, -const)


class Component:
    """One component of hidden cells as its own HiGHS model: can a value reach an end?"""

    def __init__(self, joint: Joint, nodes: list[tuple[int, int]]):
        self.joint, self.nodes = joint, nodes
        q, size = joint.q, joint.table.size
        self.index: dict[Var, int] = {}
        for li, c in nodes:
            for k in range(q):
                self.index[(li, c, k)] = len(self.index)
        n = len(self.index)
        parts, row = [], 0
        for li, layer in enumerate(joint.layers):
            col = np.full(size, -1, dtype=np.int64)
            mine = np.array([c for l, c in nodes if l == li], dtype=np.int64)
            if not len(mine):
                continue
            col[mine] = [self.index[(li, c, 0)] for c in mine]
            block, row = _table_rows(layer.table, q, col, col >= 0, row)
            parts.append(block)
            block, row = _flag_rows(col[mine], q, row)
            parts.append(block)
        rows = _Rows()
        for block in parts:
            rows.extend(block)
        if len(joint.layers) == 2 and joint.sign:
            node_set = set(nodes)
            for c in sorted({c for _, c in nodes}):
                def var(layer, k, c=c):
                    if (layer, c) in node_set:
                        return self.index[(layer, c, k)], None
                    return None, float(joint.layers[layer].table.values[c, k])
                _add_sign_rows(rows, joint.sign, q, var)
        self.n = n
        self.lower, self.upper = np.zeros(n), np.full(n, joint.cap)
        self.highs = rows.highs(n, self.lower, self.upper)
        self.integer = False

    def _set_integer(self, integer: bool) -> None:
        if integer != self.integer:
            kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
            self.highs.changeColsIntegrality(self.n, np.arange(self.n, dtype=np.int32),
                                             np.array([kind] * self.n))
            self.integer = integer

    def optimum(self, objective: np.ndarray, integer: bool) -> tuple[np.ndarray | None, bool]:
        """A feasible point maximising `objective` (LP or integer), and whether it is integral
        (a point of the integer problem). None when no point was found within the budget."""
        self._set_integer(integer)
        h = self.highs
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), -objective.astype(float))
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            if integer and h.getInfo().primal_solution_status == 2:  # feasible, not proven optimal
                return np.round(np.array(h.getSolution().col_value)), True
            return None, False
        x = np.array(h.getSolution().col_value)
        if integer:
            return np.round(x), True
        return x, bool(np.all(np.abs(x - np.round(x)) < EPS))

    def objective(self, targets: list[Target], direction: int) -> np.ndarray:
        out = np.zeros(self.n)
        for t in targets:
            for v, coef in t.terms:
                out[self.index[v]] += direction * coef
        return out

    def value(self, point: np.ndarray, target: Target) -> float:
        return target.const + sum(coef * point[self.index[v]] for v, coef in target.terms)

    def _pushed(self, targets: list[Target], ends: dict[tuple, float], direction: int):
        """A point pushed towards every end at once, each single value held at its end (a
        bound for the solve) so that none overshoots at the others' expense."""
        single = [(self.index[t.terms[0][0]], ends[t.key]) for t in targets
                  if len(t.terms) == 1 and t.terms[0][1] == 1.0 and t.const == 0.0]
        if not single:
            return self.optimum(self.objective(targets, direction), integer=False)
        cols = np.array([c for c, _ in single], dtype=np.int32)
        lower, upper = self.lower[cols].copy(), self.upper[cols].copy()
        end = np.array([e for _, e in single])
        new_lower = np.maximum(lower, np.minimum(end, upper)) if direction < 0 else lower
        new_upper = np.minimum(upper, np.maximum(end, lower)) if direction > 0 else upper
        self.highs.changeColsBounds(len(cols), cols, new_lower, new_upper)
        try:
            return self.optimum(self.objective(targets, direction), integer=False)
        finally:
            self.highs.changeColsBounds(len(cols), cols, lower, upper)

    def extreme(self, target: Target, direction: int) -> tuple[float, float | None]:
        """(LP bound, integer optimum or None when not proven) of a target's value."""
        point, integral = self.optimum(self.objective([target], direction), integer=False)
        if point is None:
            return target.true, target.true
        bound = self.value(point, target)
        if integral:
            return bound, bound
        point, _ = self.optimum(self.objective([target], direction), integer=True)
        h = self.highs
        proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        self._set_integer(False)
        return bound, (self.value(point, target) if point is not None and proven else None)

    def reach(self, targets: list[Target], ends: dict[tuple, float], direction: int) -> set[tuple]:
        """Keys of targets whose value can reach its end in `direction` (±1) at an integer
        point. A point pushed towards many ends at once certifies all it reaches."""
        pending = [t for t in targets if t.key in ends]
        reached: set[tuple] = set()

        def hits(point, ts):
            return {t.key for t in ts if direction * (self.value(point, t) - ends[t.key]) >= -EPS}

        while pending:
            point, integral = self._pushed(pending, ends, direction)
            got = hits(point, pending) if point is not None and integral else set()
            if not got:
                first = pending[0]
                point, integral = self.optimum(self.objective([first], direction), integer=False)
                if point is not None and direction * (self.value(point, first) - ends[first.key]) >= -EPS:
                    if not integral:
                        point, integral = self.optimum(self.objective([first], direction), integer=True)
                        self._set_integer(False)
                    got = hits(point, pending) if point is not None and integral else set()
                pending = pending[1:] if first.key not in got else pending
            reached |= got
            pending = [t for t in pending if t.key not in got]
        return reached


@dataclass
class Failure:
    target: Target
    direction: int       # the end not reached: +1 high, −1 low (0: the range is too narrow)
    low: float | None    # the feasible range found (integer where proven)
    high: float | None


def check(component: Component, targets: list[Target]) -> list[Failure]:
    """The targets of one component that fail: a sensitive value that cannot reach an end of
    its interval, or any value whose range is narrower than its width."""
    downs = {t.key: t.low for t in targets if t.low is not None}
    # A value with a range to keep goes down `width` (or to 0) first, then up from there.
    loose = [t for t in targets if not t.sensitive]
    downs.update({t.key: max(t.true - t.width, 0.0) for t in loose if t.true > 0})
    down = component.reach(targets, downs, -1)
    ups = {t.key: t.high for t in targets if t.high is not None}
    for t in loose:
        if t.key in down and t.true - t.width >= 0:
            continue  # `width` below its true value: kept
        ups[t.key] = (downs[t.key] if t.key in down else t.true) + t.width
    up = component.reach(targets, ups, 1)
    failures = []
    for t in targets:
        if t.sensitive:
            if t.high is not None and t.key not in up:
                failures.append(Failure(t, 1, None, None))
            elif t.low is not None and t.key not in down:
                failures.append(Failure(t, -1, None, None))
        elif t.key in ups and t.key not in up:
            # Neither way far enough: the exact integer range decides.
            _, hi = component.extreme(t, 1)
            _, lo = component.extreme(t, -1)
            if hi is None or lo is None or hi - lo < t.width - EPS:
                failures.append(Failure(t, 0, lo, hi))
    return failures


# --- choosing what to hide ------------------------------------------------------------------

@dataclass
class Plan:
    """What to hide in a new version, and why (private)."""

    hidden: set[int]
    reasons: dict[int, str]


def closure(table: Table, hidden: set[int], price: np.ndarray | None = None) -> set[int]:
    """`hidden` plus what it takes so that no equation has a single hidden cell (which the
    sum would give away): each time the cheapest other member of such an equation."""
    price = table.cost if price is None else price
    out = set(hidden)
    todo = sorted({e for c in out for e in table.member_of[c]})
    while todo:
        added = []
        for e in todo:
            total, parts = table.equations[e]
            members = (total, *parts)
            if sum(m in out for m in members) == 1:
                pick = min((m for m in members if m not in out), key=lambda m: (price[m], m))
                out.add(pick)
                added.append(pick)
        todo = sorted({e for c in added for e in table.member_of[c]})
    return out


class Repair:
    """The cheapest cells of the new version to hide so that a failing value can reach its
    end: one linear programme over a region (its län and the all-respondents cells, in every
    layer) in which every cell may take any count, a shown cell of the new version at a
    price per respondent moved (the cost of hiding it), and the failing value must reach
    its end. The cells that move are the complements (the linear-programming form of
    classic cell suppression; it finds in one solve the cycles through several kommuner
    that single cells cannot)."""

    def __init__(self, joint: Joint, region: set[int], price: np.ndarray):
        self.joint, self.region = joint, sorted(region)
        q, L, size = joint.q, len(joint.layers), joint.table.size
        new = joint.new
        self.index: dict[Var, int] = {}
        for li in range(L):
            for c in self.region:
                for k in range(q):
                    self.index[(li, c, k)] = len(self.index)
        nx = len(self.index)
        cells = np.array(self.region, dtype=np.int64)
        movable = [c for c in self.region if c not in joint.hidden(new)]
        self.moves = {c: (nx + 2 * q * i, nx + 2 * q * i + q) for i, c in enumerate(movable)}  # up, down
        n = nx + 2 * q * len(movable)
        lower, upper, cost = np.zeros(n), np.full(n, joint.cap), np.zeros(n)
        rows = _Rows()
        row = 0
        inside = np.zeros(size, dtype=bool)
        inside[cells] = True
        for li, layer in enumerate(joint.layers):
            col = np.full(size, -1, dtype=np.int64)
            col[cells] = li * len(cells) * q + np.arange(len(cells)) * q
            block, row = _table_rows(layer.table, q, col, inside, row)
            rows.extend(block)
            block, row = _flag_rows(col[cells], q, row)
            rows.extend(block)
            if li != new:
                shown = [c for c in self.region if c not in layer.hidden]
                for c in shown:  # an earlier version's shown cell is what it was
                    i = self.index[(li, c, 0)]
                    lower[i:i + q] = upper[i:i + q] = layer.table.values[c]
        for c, (up, down) in self.moves.items():
            i = self.index[(new, c, 0)]
            for k in range(q):
                v = joint.table.values[c, k]
                rows.add({i + k: 1.0, up + k: -1.0, down + k: 1.0}, v, v)
            cost[up:up + q] = cost[down:down + q] = price[c]
        if L == 2 and joint.sign:
            for c in self.region:
                _add_sign_rows(rows, joint.sign, q, lambda layer, k, c=c: (self.index[(layer, c, k)], None))
        self.rows = rows
        self.n, self.lower, self.upper, self.cost = n, lower, upper, cost

    def cheapest(self, target: Target, direction: int, end: float) -> set[int] | None:
        """Shown cells of the new version to hide for `target` to reach `end`; None when no
        set of cells in the region would do."""
        if any(v[1] not in set(self.region) for v, _ in target.terms):
            return None
        rows = _Rows()
        rows.rows, rows.cols, rows.data = list(self.rows.rows), list(self.rows.cols), list(self.rows.data)
        rows.lo, rows.hi = list(self.rows.lo), list(self.rows.hi)
        terms: dict[int, float] = defaultdict(float)
        for v, coef in target.terms:
            terms[self.index[v]] += coef
        bound = end - target.const
        rows.add(dict(terms), bound, np.inf) if direction > 0 else rows.add(dict(terms), -np.inf, bound)
        h = rows.highs(self.n, self.lower, self.upper, self.cost)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = np.array(h.getSolution().col_value)
        q = self.joint.q
        return {c for c, (up, down) in self.moves.items()
                if sol[up:up + q].sum() + sol[down:down + q].sum() > EPS}


def region_of(table: Table, cells: set[int]) -> set[int]:
    """The cells of the län the given cells are in, and the all-respondents cells; the whole
    block when an all-respondents cell is among them."""
    lans = {table.lan[c] for c in cells}
    if None in lans:
        return set(range(table.size))
    return {c for c in range(table.size) if table.lan[c] in lans or table.lan[c] is None}


class Audit:
    """The audit of a new version in one attacker's view (alone, or with one earlier
    version): its targets per component, what passed (kept: hiding more never undoes it),
    and what fails now."""

    def __init__(self, joint: Joint, protection: Protection, sensitive: list[set[int]],
                 diff_sensitive: set[int], skip: set[tuple]):
        self.joint, self.protection = joint, protection
        self.sensitive, self.diff_sensitive, self.skip = sensitive, diff_sensitive, skip
        self.passed: set[tuple] = set()

    def _targets(self, nodes) -> list[Target]:
        return self.joint.targets(nodes, self.protection, self.sensitive, self.diff_sensitive,
                                  self.skip | self.passed)

    def failures(self) -> list[Failure]:
        """The failing values of every component: sensitive values first, a chunk at a
        time; once a chunk has failures the rest wait for the next round (the repairs of
        these often fix them too)."""
        out = []
        for nodes in self.joint.components():
            targets = sorted(self._targets(nodes), key=lambda t: (not t.sensitive, t.key))
            if not targets:
                continue
            component = Component(self.joint, nodes)
            for i in range(0, len(targets), CHUNK):
                chunk = targets[i:i + CHUNK]
                bad = check(component, chunk)
                keys = {f.target.key for f in bad}
                self.passed.update(t.key for t in chunk if t.key not in keys)
                if bad:
                    out += bad
                    break
        return out

    def recheck(self, key: tuple) -> Failure | None:
        """The failure of one value now (after repairs earlier in the round), or None."""
        cells = {key[2]} if key[0] == "cell" else {key[1]}
        for nodes in self.joint.components():
            if not cells & {c for _, c in nodes}:
                continue
            targets = [t for t in self._targets(nodes) if t.key == key]
            if targets:
                bad = check(Component(self.joint, nodes), targets)
                if not bad:
                    self.passed.add(key)
                return bad[0] if bad else None
        return None


def plan_block(table: Table, primary: dict[int, str], history: list[Layer], sign: list[int],
               protection: Protection) -> Plan:
    """Hide cells of `table` until every audit passes: its own, and against every layer of
    `history` (earlier released versions of the same block, with the change's sign)."""
    hidden = set(primary)
    reasons = dict(primary)
    price = table.cost.copy()
    diff_sensitive: list[set[int]] = []
    for old in history:
        diff = table.values - old.table.values
        moved = {c for c in range(table.size) if np.any(diff[c] != 0)}
        price[sorted(moved)] *= CHANGED
        price[sorted(old.hidden)] *= ALREADY_HIDDEN
        sensitive = {c for c in range(table.size) if small_change(diff[c], protection)}
        diff_sensitive.append(sensitive)
        # Shown before with a sensitive change: showing it again would publish the change.
        for c in sorted(sensitive - old.hidden - hidden):
            hidden.add(c)
            reasons[c] = DIFFERENCE

    def hide(cells, why: str) -> None:
        for c in sorted(cells):
            if c not in hidden:
                hidden.add(c)
                reasons[c] = why

    if history:
        # What the latest release hid stays hidden: showing it now would narrow what that
        # release protected (and a stable pattern reads better from version to version).
        hide(history[-1].hidden, COMPLEMENT)
    hide(closure(table, hidden, price) - hidden, COMPLEMENT)
    new_layer = Layer(table, hidden)  # shares the set: the audits see every cell hidden
    audits = []
    for old, s, dsens in zip(history, sign, diff_sensitive, strict=True):
        old_primary = set(primary_cells(old.table, protection))
        audits.append(Audit(Joint([old, new_layer], s), protection, [old_primary, set(primary)],
                            dsens, weak_values(old, protection, old_primary)))
    if not history:
        audits.append(Audit(Joint([new_layer]), protection, [set(primary)], set(), set()))
    while True:
        failing = [(audit, f) for audit in audits for f in audit.failures()]
        if not failing:
            break
        for audit, first in failing:
            failure = audit.recheck(first.target.key)
            if failure is None:
                continue
            key = failure.target.key
            why = DIFFERENCE if key[0] == "diff" or key[1] != audit.joint.new else COMPLEMENT
            chosen = _repair(audit.joint, failure, price) - hidden
            if not chosen:
                # Nothing left to hide in reach: the whole block (the most that can be done;
                # a value that fails even then is left to the verification's count).
                chosen = set(range(table.size)) - hidden
                if not chosen:
                    audit.skip.add(key)
                    continue
            hide(chosen, why)
            hide(closure(table, hidden, price) - hidden, COMPLEMENT)
    return Plan(hidden, reasons)


def weak_values(old: Layer, protection: Protection, sensitive: set[int], width_only: bool = False) -> set[tuple]:
    """Keys of an earlier version's values that it did not protect on its own (published
    before this rule, or under another): beyond repair now, so not asked of a new version."""
    alone = Joint([old])
    weak = set()
    for nodes in alone.components():
        targets = alone.targets(nodes, protection, [sensitive], set(), width_only=width_only)
        weak |= {f.target.key for f in check(Component(alone, nodes), targets)}
    return weak


def _repair(joint: Joint, failure: Failure, price: np.ndarray) -> set[int]:
    """Cells to hide for one failing value: the cheapest set from the region's programme,
    then the whole block's, else the region itself."""
    target = failure.target
    cells = {v[1] for v, _ in target.terms}
    if failure.direction == 0:
        # A range too narrow: reach `width` above its lowest point (or below its highest).
        low = failure.low if failure.low is not None else target.true
        goals = [(1, low + target.width)]
        if failure.high is not None:
            goals.append((-1, failure.high - target.width))
    else:
        goals = [(failure.direction, target.high if failure.direction > 0 else target.low)]
    for region in (region_of(joint.table, cells), set(range(joint.table.size))):
        repair = Repair(joint, region, price)
        options = [repair.cheapest(target, d, end) for d, end in goals if d > 0 or end >= 0]
        options = [o for o in options if o]
        if options:
            return min(options, key=lambda o: (sum(price[c] for c in o), sorted(o)))
    return region_of(joint.table, cells)


# --- verification: what an attacker gets from the published pattern --------------------------

@dataclass(frozen=True)
class Verdict:
    """How closely the hidden values of a block can be worked out: `pinned` values with a
    single feasible value, `narrowed` ones with a range of at most two respondents."""

    pinned: int = 0
    narrowed: int = 0


def verify(table: Table, hidden: set[int], history: list[Layer], sign: list[int],
           protection: Protection) -> Verdict:
    """Count the hidden values (and differences against earlier versions) an attacker can
    pin or narrow to `min_range` − 1 respondents or less. An earlier version's own values
    count only where the new version narrows what that version left open."""
    new_layer = Layer(table, set(hidden))
    joints = [(Joint([old, new_layer], s), weak_values(old, protection, set(), width_only=True))
              for old, s in zip(history, sign, strict=True)] or [(Joint([new_layer]), set())]
    pinned = narrowed = 0
    for joint, weak in joints:
        sensitive = [set()] * len(joint.layers)
        for nodes in joint.components():
            targets = joint.targets(nodes, protection, sensitive, set(), weak, width_only=True)
            for f in check(Component(joint, nodes), targets):
                if f.low is not None and f.high is not None and f.high - f.low < EPS:
                    pinned += 1
                else:
                    narrowed += 1
    return Verdict(pinned, narrowed)


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


def aligned(old: pl.DataFrame, table: Table, cuts: list[str]) -> tuple[Layer, dict[int, str]]:
    """An earlier released version of a block on the cells of `table`, and its reasons. A
    cell the earlier version did not have (a kommun or grade a supplement adds) had no row:
    everyone knows it was 0, so it counts as shown with 0."""
    values = np.zeros_like(table.values)
    hidden: set[int] = set()
    reasons: dict[int, str] = {}
    position = {k: i for i, k in enumerate(table.keys)}
    for r in old.iter_rows(named=True):
        i = position.get(tuple(r[k] for k in CELL_KEYS))
        if i is None:
            continue
        if r["indicator_id"] == cuts[0]:
            values[i, 0] = r["n"]
            if not r["shown"]:
                hidden.add(i)
                if r.get("reason"):
                    reasons[i] = r["reason"]
        if r["indicator_id"] in cuts:
            values[i, 1 + cuts.index(r["indicator_id"])] = r["n_flag"]
    return Layer(table.with_values(values), hidden), reasons


def change_sign(old: Layer, table: Table) -> int:
    diff = table.values - old.table.values
    if (diff >= 0).all():
        return 1
    if (diff <= 0).all():
        return -1
    return 0


BLOCK_AUDIT_SCHEMA = {"survey_id": pl.String, "scale": pl.String, "period": pl.Int32,
                      "cells": pl.Int64, "shown": pl.Int64, "publishable": pl.Int64,
                      "pinned": pl.Int64, "narrowed": pl.Int64, "reused": pl.Boolean}


@dataclass(frozen=True)
class Protected:
    """The published pattern: `cells` with status and public reason, the private reasons of
    hidden cells, and per block what protection cost and what an attacker gets (`audit`)."""

    cells: pl.DataFrame
    reasons: pl.DataFrame
    audit: pl.DataFrame


def protect(cells: pl.DataFrame, protection: Protection = Protection(),
            history: dict[tuple[str, int], list[pl.DataFrame]] | None = None) -> Protected:
    """`status` (ok|suppressed) and the public `status_reason` for cells keyed by
    PATTERN_KEYS + indicator_id (with `n` and `n_flag`), the private reasons, and the audit.

    `history` maps (survey_id, period) to earlier released versions of that wave (frames
    with PATTERN_KEYS, indicator_id, n, n_flag and `shown`); a block that differs from them
    is audited against each."""
    history = history or {}
    decided, private, audit = [], [], []
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
        primary = primary_cells(table, protection)
        reused = plan is not None
        if plan is None:
            plan = plan_block(table, primary, layers, signs, protection)
        verdict = verify(table, plan.hidden, [] if reused else layers, [] if reused else signs, protection)
        audit.append({"survey_id": survey, "scale": scale, "period": int(period),
                      "cells": table.size * len(cuts), "shown": (table.size - len(plan.hidden)) * len(cuts),
                      "publishable": (table.size - len(primary)) * len(cuts),
                      "pinned": verdict.pinned, "narrowed": verdict.narrowed, "reused": reused})
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
    audit_frame = pl.DataFrame(audit, schema=BLOCK_AUDIT_SCHEMA)
    if not decided:
        empty = cells.with_columns(status=pl.lit(None, pl.String), status_reason=pl.lit(None, pl.String))
        return Protected(empty, pl.DataFrame(), audit_frame)
    pattern = pl.concat(decided)
    out = (cells.join(pattern, on=PATTERN_KEYS, how="left", nulls_equal=True)
           .with_columns(status=pl.when(pl.col("_hidden")).then(pl.lit("suppressed")).otherwise(pl.lit("ok")),
                         status_reason=pl.when(pl.col("_hidden")).then(pl.lit(PUBLIC_REASON)))
           .drop("_hidden"))
    return Protected(out, pl.concat(private).filter(pl.col("reason").is_not_null()), audit_frame)
