"""An attacker on published survey cells: integer programming over the published table only.

Written apart from transforms/survey_privacy.py (its own equations, scipy's `milp` rather than
highspy): it reads what anyone can read (the published rows: area, sex, grade, numerator,
denominator, status) and knows the rules of the table — län = Σ its kommuner, ALLA = Σ län,
T ≥ K + M and `all` ≥ Σ grades (respondents without a sex or grade count only in the totals;
`exact_sums=True` assumes none, as in crafted files), 0 ≤ flagged ≤ respondents, integers.
Numerators are used where they are counts (an unweighted survey); a weighted survey's
numerators are not additive and only its denominators are attacked.

`attack` finds, for every hidden cell, whether its respondents or flagged count can be pinned
to a single value or to a range narrower than the protection interval around the true value
(`truth`, from the private store) — and, without truth, ranges narrower than the interval.
`attack_versions` does the same for the difference between two snapshots of the same table
(a supplement or a withdrawal between them). Shown cells under 10 respondents and shown
shares of 0 % or 100 % under 30 respondents are findings too.

    .venv/bin/python -m tests.survey_attack data/published/uppvaxt.duckdb
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

KEY = ["area_code", "sex", "breakdown"]


@dataclass(frozen=True)
class Finding:
    indicator: str
    period: int
    cell: tuple
    what: str


def _scale(indicator_id: str, cuts: set[str]) -> str:
    for cut in sorted(cuts, key=len, reverse=True):
        if indicator_id.endswith("_" + cut):
            return indicator_id[: -len(cut) - 1]
    return indicator_id


def _relations(cells: list[tuple], exact_sums: bool) -> list[tuple[int, list[int], bool]]:
    """(total, parts, exact) among the cells of one block."""
    at = {c: i for i, c in enumerate(cells)}
    areas = {c[0] for c in cells}
    grades = sorted({c[2] for c in cells} - {"all"})
    out = []
    for area in areas:
        for g in grades + ["all"]:
            if (area, "T", g) in at:
                parts = [at[(area, s, g)] for s in "KM" if (area, s, g) in at]
                out.append((at[(area, "T", g)], parts, exact_sums))
        for s in "TKM":
            if (area, s, "all") in at:
                parts = [at[(area, s, g)] for g in grades if (area, s, g) in at]
                out.append((at[(area, s, "all")], parts, exact_sums))
    lans = sorted(a for a in areas if len(a) == 2)
    for s in "TKM":
        for g in grades + ["all"]:
            for lan in lans:
                kids = [at[(k, s, g)] for k in areas if len(k) == 4 and k[:2] == lan and (k, s, g) in at]
                if (lan, s, g) in at and kids:
                    out.append((at[(lan, s, g)], kids, True))
            if ("ALLA", s, g) in at:
                out.append((at[("ALLA", s, g)], [at[(lan, s, g)] for lan in lans if (lan, s, g) in at], True))
    return [(t, p, e) for t, p, e in out if p]


class Snapshot:
    """One published block: cells, which are hidden, shown values per quantity (0 = n)."""

    def __init__(self, rows: pl.DataFrame, cuts: list[str], use_numerators: bool):
        first = rows.filter(pl.col("indicator_id") == cuts[0]).sort(KEY)
        self.cells = [tuple(r) for r in first.select(KEY).iter_rows()]
        self.hidden = [s != "ok" for s in first["status"].to_list()]
        self.q = 1 + (len(cuts) if use_numerators else 0)
        self.shown = np.full((len(self.cells), self.q), np.nan)
        self.shown[:, 0] = first["denominator"].to_numpy()
        if use_numerators:
            for j, cut in enumerate(cuts, start=1):
                self.shown[:, j] = rows.filter(pl.col("indicator_id") == cut).sort(KEY)["numerator"].to_numpy()


def _model(snaps: list[Snapshot], exact_sums: bool, sign: int):
    """Variables for every hidden (snapshot, cell, quantity); constraints as dense rows."""
    index = {}
    for s, snap in enumerate(snaps):
        for c, hid in enumerate(snap.hidden):
            if hid:
                for q in range(snap.q):
                    index[(s, c, q)] = len(index)
    rows, lo, hi = [], [], []

    def add(terms, low, high):  # terms: [(coef, s, c, q)]
        row, const = defaultdict(float), 0.0
        for coef, s, c, q in terms:
            if (s, c, q) in index:
                row[index[(s, c, q)]] += coef
            else:
                const += coef * snaps[s].shown[c, q]
        if row:
            rows.append(dict(row)), lo.append(low - const), hi.append(high - const)

    for s, snap in enumerate(snaps):
        for total, parts, exact in _relations(snap.cells, exact_sums):
            for q in range(snap.q):
                add([(1.0, s, total, q)] + [(-1.0, s, p, q) for p in parts], 0.0, 0.0 if exact else np.inf)
        for c, hid in enumerate(snap.hidden):
            if hid:
                for q in range(1, snap.q):
                    add([(1.0, s, c, q), (-1.0, s, c, 0)], -np.inf, 0.0)
    if len(snaps) == 2 and sign:
        for c in range(len(snaps[0].cells)):
            for q in range(snaps[0].q):
                add([(sign, 1, c, q), (-sign, 0, c, q)], 0.0, np.inf)
    triples = [(r, v, coef) for r, row in enumerate(rows) for v, coef in row.items()]
    r, v, coef = zip(*triples) if triples else ((), (), ())
    matrix = csr_array((coef, (r, v)), shape=(len(rows), len(index)))
    return index, matrix, np.array(lo), np.array(hi)


def _solve(matrix, lo, hi, objective, cap):
    """An integer point of the published constraints maximising −objective: each group of
    unknowns that shares no constraint with the rest (its own small programme) is solved
    on its own where the objective touches it; unknowns it does not touch are NaN."""
    n = len(objective)
    if n == 0:
        return np.zeros(0)
    groups = _groups(matrix)
    point = np.full(n, np.nan)
    for g in np.unique(groups[objective != 0]):
        cols = np.flatnonzero(groups == g)
        rows = np.flatnonzero(np.asarray(abs(matrix[:, cols]).sum(axis=1)).ravel() > 0)
        sub = _solve_group(matrix[rows][:, cols], lo[rows], hi[rows], objective[cols], cap)
        if sub is None:
            return None
        point[cols] = sub
    return point


def _groups(matrix) -> np.ndarray:
    """A label per unknown: unknowns in one constraint share a label (kept on the matrix)."""
    from scipy.sparse.csgraph import connected_components

    if getattr(matrix, "groups_", None) is not None:
        return matrix.groups_
    n = matrix.shape[1]
    incidence = (abs(matrix) > 0).astype(float)
    _, labels = connected_components(incidence.T @ incidence + csr_array((n, n)), directed=False)
    matrix.groups_ = labels
    return labels


def _solve_group(matrix, lo, hi, objective, cap):
    n = len(objective)
    constraints = [LinearConstraint(matrix, lo, hi)] if len(lo) else []
    bounds = Bounds(np.zeros(n), np.full(n, cap))
    # An integral optimum of the relaxation is an integer optimum: branch only when it is not.
    relaxed = milp(objective, constraints=constraints, integrality=np.zeros(n), bounds=bounds)
    if relaxed.x is not None and np.all(np.abs(relaxed.x - np.round(relaxed.x)) < 1e-7):
        return np.round(relaxed.x)
    result = milp(objective, constraints=constraints, integrality=np.ones(n), bounds=bounds,
                  options={"time_limit": 20})
    return None if result.x is None else np.round(result.x)


def _reachable(snaps, exact_sums, sign, targets, layers, cap, model=None):
    """Of `targets` {(cell, q, direction): end}, those no integer point reaches; the value
    audited is Σ coef · (snapshot's cell) over `layers` [(snapshot, coef)]."""
    index, matrix, lo, hi = model or _model(snaps, exact_sums, sign)

    def value(x, c, q):
        return sum(coef * (x[index[(s, c, q)]] if (s, c, q) in index else snaps[s].shown[c, q])
                   for s, coef in layers)

    def objective(keys):
        out = np.zeros(len(index))
        for c, q, d in keys:
            for s, coef in layers:
                if (s, c, q) in index:
                    out[index[(s, c, q)]] -= d * coef
        return out

    unreached = []
    for direction in (1, -1):
        pending = [k for k in targets if k[2] == direction]
        while pending:
            point = _solve(matrix, lo, hi, objective(pending), cap)
            reached = [k for k in pending if point is not None and (value(point, k[0], k[1]) - targets[k]) * k[2] >= -1e-6]
            if not reached:
                first = pending[0]
                point = _solve(matrix, lo, hi, objective([first]), cap)
                if point is None or (value(point, first[0], first[1]) - targets[first]) * first[2] < -1e-6:
                    unreached.append(first)
                    pending = pending[1:]
                    continue
                reached = [k for k in pending if (value(point, k[0], k[1]) - targets[k]) * k[2] >= -1e-6]
            pending = [k for k in pending if k not in reached]
    return unreached


def _range(snaps, exact_sums, sign, cell, q, layers, cap, model=None) -> tuple[float, float]:
    """The exact integer range of one audited value."""
    index, matrix, lo, hi = model or _model(snaps, exact_sums, sign)
    ends = []
    for d in (1, -1):
        objective = np.zeros(len(index))
        const = 0.0
        for s, coef in layers:
            if (s, cell, q) in index:
                objective[index[(s, cell, q)]] -= d * coef
            else:
                const += coef * snaps[s].shown[cell, q]
        point = _solve(matrix, lo, hi, objective, cap)
        used = objective != 0
        ends.append(const - d * float(objective[used] @ point[used]) if point is not None else np.nan)
    return ends[1], ends[0]


def _judge(snaps, exact_sums, sign, values, layers, cap, ids, period, cells, what, width=3):
    """(cell, quantity, finding) for audited values [(cell, q, true, interval or None)]: a value with an
    interval (a sensitive one) must reach true ± interval (clipped by `clip`); every value
    must keep a feasible range of at least `width` (never pinned, never 0–1 or 0–2)."""
    model = _model(snaps, exact_sums, sign)
    targets, loose = {}, []
    for c, q, true, interval, low_clip, high_clip in values:
        if interval is not None:
            high, low = min(true + interval, high_clip), max(true - interval, low_clip)
            if high != true:
                targets[(c, q, 1)] = high
            if low != true:
                targets[(c, q, -1)] = low
        else:
            loose.append((c, q, true))
            targets[(c, q, 1)] = true + width
            if true - width >= low_clip:
                targets[(c, q, -1)] = true - width
    unreached = set(_reachable(snaps, exact_sums, sign, targets, layers, cap, model))
    out = []
    sensitive = {(c, q) for c, q, _, interval, _, _ in values if interval is not None}
    for c, q, d in sorted(unreached):
        if (c, q) in sensitive:
            out.append((c, q, Finding(ids[max(q - 1, 0)], period, cells[c],
                        f"{'respondents' if q == 0 else 'flagged'} {what}: cannot move {'up' if d > 0 else 'down'}")))
    for c, q, true in loose:
        if (c, q, 1) in unreached and ((c, q, -1) in unreached or (c, q, -1) not in targets):
            low, high = _range(snaps, exact_sums, sign, c, q, layers, cap, model)
            if high - low < width:
                kind = "pinned" if high - low < 1e-6 else f"narrowed to {low:g}–{high:g}"
                out.append((c, q, Finding(ids[max(q - 1, 0)], period, cells[c],
                                          f"{'respondents' if q == 0 else 'flagged'} {what}: {kind}")))
    return out


def _blocks(rows: pl.DataFrame, cuts: set[str]):
    rows = rows.with_columns(_scale=pl.col("indicator_id").map_elements(lambda i: _scale(i, cuts), return_dtype=pl.String))
    for (scale, period), block in rows.partition_by("_scale", "period", as_dict=True).items():
        yield scale, int(period), block, sorted(block["indicator_id"].unique().to_list())


def _numerators_are_counts(block: pl.DataFrame) -> bool:
    shown = block.filter(pl.col("status") == "ok")["numerator"]
    return shown.len() > 0 and bool(((shown - shown.round()).abs() < 1e-9).all())


def shown_findings(rows: pl.DataFrame, min_respondents=10, extreme_below=30) -> list[Finding]:
    ok = rows.filter(pl.col("status") == "ok")
    out = [Finding(r["indicator_id"], r["period"], (r["area_code"], r["sex"], r["breakdown"]), "shown under 10")
           for r in ok.filter(pl.col("denominator") < min_respondents).iter_rows(named=True)]
    extreme = ok.filter(pl.col("denominator") < extreme_below,
                        (pl.col("value") <= 1e-9) | (pl.col("value") >= 100 - 1e-9))
    out += [Finding(r["indicator_id"], r["period"], (r["area_code"], r["sex"], r["breakdown"]), "0 % or 100 % under 30")
            for r in extreme.iter_rows(named=True)]
    return out


def attack(rows: pl.DataFrame, cuts: set[str], truth: pl.DataFrame, *, interval: int = 5,
           flagged_interval: int = 5, exact_sums: bool = False, min_respondents: int = 10,
           extreme_below: int = 30) -> list[Finding]:
    """Findings on one snapshot. `truth` (the private cells: indicator_id, period,
    area_code, sex, breakdown, n, n_flag) only judges the attack: a sensitive hidden cell
    (fewer than `min_respondents`, or a 0 %/100 % share under `extreme_below`) whose
    respondents or flagged count cannot be moved the interval up and down (clipped at 0)
    from its true value is recovered too closely; any hidden value with a feasible range of
    two respondents or less (0–1, 0–2, or a single value) is recovered."""
    findings = shown_findings(rows, min_respondents, extreme_below)
    for scale, period, block, ids in _blocks(rows, cuts):
        snap = Snapshot(block, ids, _numerators_are_counts(block))
        true = _truth(truth, ids, period, snap)
        full = _truth(truth, ids, period, Snapshot(block, ids, True))
        values = []
        for c, hid in enumerate(snap.hidden):
            n, flagged = full[c, 0], full[c, 1:]
            sensitive = n < min_respondents or (n < extreme_below and bool(np.any((flagged == 0) | (flagged == n))))
            for q in range(snap.q if hid else 0):
                p = (interval if q == 0 else flagged_interval) if sensitive else None
                values.append((c, q, true[c, q], p, 0.0, np.inf))
        cap = 4 * max(np.nanmax(snap.shown[:, 0], initial=0), true[:, 0].max()) + 100
        findings += [f for _, _, f in _judge([snap], exact_sums, 0, values, [(0, 1.0)], cap, ids, period,
                                             snap.cells, "recovered")]
    return findings


def _truth(truth: pl.DataFrame, ids: list[str], period: int, snap: Snapshot) -> np.ndarray:
    out = np.zeros((len(snap.cells), snap.q))
    at = {c: i for i, c in enumerate(snap.cells)}
    for r in truth.filter(pl.col("period") == period, pl.col("indicator_id").is_in(ids)).iter_rows(named=True):
        i = at.get((r["area_code"], r["sex"], r["breakdown"]))
        if i is None:
            continue
        out[i, 0] = r["n"]
        if snap.q > 1:
            out[i, 1 + ids.index(r["indicator_id"])] = r["n_flag"]
    return out


def attack_versions(before: pl.DataFrame, after: pl.DataFrame, cuts: set[str], *, interval: int = 5,
                    flagged_interval: int = 5, truth_before: pl.DataFrame, truth_after: pl.DataFrame,
                    exact_sums: bool = False, min_respondents: int = 10) -> list[Finding]:
    """Findings with both snapshots known: the difference after − before of every cell
    that changed and is hidden in either (a change of 1–9 respondents, or a 0 %/100 % share among the changed
    under 30, must keep ± the interval; any other must keep a range of three), and each
    snapshot's hidden values, where knowing the other snapshot narrows them to two
    respondents or less (or a sensitive one within its interval) and its own did not."""
    findings = []
    b_blocks = {(s, p): (blk, ids) for s, p, blk, ids in _blocks(before, cuts)}
    for scale, period, block, ids in _blocks(after, cuts):
        if (scale, period) not in b_blocks:
            continue
        old_rows, _ = b_blocks[(scale, period)]
        counts = _numerators_are_counts(block) and _numerators_are_counts(old_rows)
        old, new = Snapshot(old_rows, ids, counts), Snapshot(block, ids, counts)
        t_old = _truth(truth_before, ids, period, old)
        t_new = _truth(truth_after, ids, period, new)
        diff = t_new - t_old
        if not diff.any():
            continue  # the same cells in both: there is no difference to learn
        sign = 1 if (diff >= 0).all() else (-1 if (diff <= 0).all() else 0)
        full_diff = _truth(truth_after, ids, period, Snapshot(block, ids, True)) - \
            _truth(truth_before, ids, period, Snapshot(old_rows, ids, True))
        values = []
        for c in range(len(new.cells)):
            if not (old.hidden[c] or new.hidden[c]):
                dn = abs(new.shown[c, 0] - old.shown[c, 0])
                if 0 < dn < min_respondents:
                    findings.append(Finding(ids[0], period, new.cells[c], f"shown in both, changed by {dn:g}"))
                continue
            dn, df = abs(full_diff[c, 0]), np.abs(full_diff[c, 1:])
            if dn == 0 and not df.any():
                continue  # no pupil of this cell changed: its difference tells of no one
            sensitive = bool(0 < dn < min_respondents or (dn == 0 and np.any((df > 0) & (df < 30)))
                             or (0 < dn < 30 and np.any((df == 0) | (df == dn))))
            for q in range(new.q):
                p = (interval if q == 0 else flagged_interval) if sensitive else None
                values.append((c, q, diff[c, q], p, 0.0 if sign > 0 else -np.inf, 0.0 if sign < 0 else np.inf))
        cap = 4 * max(t_new[:, 0].max(), t_old[:, 0].max()) + 100
        findings += [f for _, _, f in _judge([old, new], exact_sums, sign, values, [(1, 1.0), (0, -1.0)], cap,
                                             ids, period, new.cells, "difference")]
        # Each snapshot's own hidden values, judged with the other known.
        for s, (snap, true_s, rows_s, truth_s) in enumerate(((old, t_old, old_rows, truth_before),
                                                               (new, t_new, block, truth_after))):
            full = _truth(truth_s, ids, period, Snapshot(rows_s, ids, True))
            own = []
            for c, hid in enumerate(snap.hidden):
                n, flagged = full[c, 0], full[c, 1:]
                sensitive = n < min_respondents or (n < 30 and bool(np.any((flagged == 0) | (flagged == n))))
                for q in range(snap.q if hid else 0):
                    p = (interval if q == 0 else flagged_interval) if sensitive else None
                    own.append((c, q, true_s[c, q], p, 0.0, np.inf))
            if not own:
                continue
            alone = {(c, q) for c, q, _ in _judge([snap], exact_sums, 0, own, [(0, 1.0)], cap, ids, period,
                                                   snap.cells, "")}
            both = _judge([old, new], exact_sums, sign, own, [(s, 1.0)], cap, ids, period, snap.cells,
                          f"of the {'earlier' if s == 0 else 'new'} version, with the other known")
            findings += [f for c, q, f in both if (c, q) not in alone]
    return findings


def truth_from_private(private: str) -> pl.DataFrame:
    """The judge's truth: the private kommun cells summed to län and ALLA (0 where absent)."""
    from pathlib import Path

    cells = pl.concat([pl.read_parquet(p) for p in sorted(Path(private, "cells").glob("*.parquet"))],
                      how="diagonal_relaxed")
    keys = ["indicator_id", "period", "sex", "breakdown"]
    kommun = cells.group_by(*keys, "area_code").agg(pl.col("n", "n_flag").sum())
    lan = kommun.group_by(*keys, pl.col("area_code").str.slice(0, 2)).agg(pl.col("n", "n_flag").sum())
    alla = kommun.group_by(keys).agg(pl.col("n", "n_flag").sum()).with_columns(area_code=pl.lit("ALLA"))
    return pl.concat([kommun, lan, alla.select(kommun.columns)])


def published_survey_rows(database: str) -> tuple[pl.DataFrame, set[str]]:
    """Survey rows of the published fact table and the cut ids (from the catalogue)."""
    import duckdb

    con = duckdb.connect(database, read_only=True)
    try:
        rows = con.sql("select f.indicator_id, f.area_code, f.area_type, f.period, f.sex, f.breakdown, "
                       "f.numerator, f.denominator, f.value, f.status, i.source_id from marts.fact_indicator f "
                       "join marts.indicator i using (indicator_id) where i.source = 'survey' "
                       "and f.breakdown not like 'pooled%'").pl()
    finally:
        con.close()
    cuts = {s.split(":")[-1] for s in rows["source_id"].unique().to_list()}
    return rows.drop("source_id"), cuts


if __name__ == "__main__":
    database = sys.argv[1] if len(sys.argv) > 1 else "data/published/uppvaxt.duckdb"
    private = sys.argv[2] if len(sys.argv) > 2 else "data/private/surveys"
    rows, cuts = published_survey_rows(database)
    found = attack(rows, cuts, truth_from_private(private))
    hidden = rows.filter(pl.col("status") != "ok").height
    print(f"{rows.height} survey cells published, {hidden} hidden; attacked every hidden cell by "
          f"integer programming over the published sums: {len(found)} findings")
    for f in found[:50]:
        print(f"  {f.indicator} {f.period} {f.cell}: {f.what}")
    sys.exit(1 if found else 0)
