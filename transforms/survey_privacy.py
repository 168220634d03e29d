"""Disclosure control for survey cells: primary and complementary suppression.

Cells form additive tables: T = K + M (per area and grade), all = Σ grades (per area and
sex), län = Σ its kommuner and ALLA = Σ län (per sex and grade). Respondents with a missing
sex or grade count only in T or `all`, so the parts may add up to less than the total;
the equations below treat them as adding up exactly, which can only over-protect.

1. Primary: a cell with fewer than `min_respondents` respondents is hidden.
2. Complementary, by the classic rule: no equation may have exactly one hidden cell
   (otherwise the total minus the visible parts gives it). The extra cell is the visible
   part with the fewest respondents; the total only when no part is left.
3. Audit: the rule above is not enough in linked tables (a hidden cell can be the sum and
   difference of several equations). For every group of hidden cells linked by equations,
   a hidden cell whose unit vector lies in the row space of the equations restricted to
   hidden cells is determined by published numbers; one more cell of its equation is then
   hidden and the rule runs again, until no hidden cell is determined.
4. Shares of 0 % or 100 %: a published total where no one (or everyone) is flagged tells
   that the same holds for each of its hidden parts, whatever their size. Such a total is
   hidden too, and steps 2–4 run again.

The same pattern is applied to every cut of a scale: they share their denominators, so a
cell shown for one cut would give away the denominator hidden for another. Numerators obey
the same equations as denominators, so what protects one protects the other.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import polars as pl

PATTERN_KEYS = ["survey_id", "scale", "period", "area_code", "area_type", "parent", "sex", "breakdown"]
BLOCK_KEYS = ["survey_id", "scale", "period"]
DIMENSIONS = {"sex": "över kön", "grade": "över årskurser", "kommun": "över kommunerna i länet",
              "lan": "över länen", "audit": "via en kombination av summor"}


EXTREME_REASON = ("dold eftersom andelen 0 % eller 100 % annars skulle visa andelen i dolda "
                  "delar (röjandekontroll)")


def primary_reason(min_respondents: int) -> str:
    return f"färre än {min_respondents} svarande"


def secondary_reason(dimension: str) -> str:
    return (f"dold så att en annan dold cell inte kan räknas fram {DIMENSIONS[dimension]} "
            "(komplementär röjandekontroll)")


Group = tuple[int, list[int], str]  # (total, parts, dimension)


def equations(rows: list[dict]) -> list[Group]:
    """The additive equations among one block's cells (indexes into `rows`)."""
    at = {(r["area_code"], r["sex"], r["breakdown"]): i for i, r in enumerate(rows)}
    groups: list[Group] = []
    areas = {(r["area_code"], r["parent"], r["area_type"]) for r in rows}
    grades = sorted({r["breakdown"] for r in rows} - {"all"})
    children: dict[str, list[str]] = defaultdict(list)
    for area, parent, _ in sorted(areas, key=lambda a: (a[0], a[1] or "")):
        if parent is not None:
            children[parent].append(area)
    for area, _, _ in sorted(areas, key=lambda a: a[0]):
        for brk in grades + ["all"]:
            total = at.get((area, "T", brk))
            parts = [at[(area, s, brk)] for s in ("K", "M") if (area, s, brk) in at]
            if total is not None and parts:
                groups.append((total, parts, "sex"))
        for sex in ("K", "M", "T"):
            total = at.get((area, sex, "all"))
            parts = [at[(area, sex, g)] for g in grades if (area, sex, g) in at]
            if total is not None and parts:
                groups.append((total, parts, "grade"))
    for parent, kids in sorted(children.items()):
        for sex in ("K", "M", "T"):
            for brk in grades + ["all"]:
                total = at.get((parent, sex, brk))
                parts = [at[(k, sex, brk)] for k in kids if (k, sex, brk) in at]
                if total is not None and parts:
                    groups.append((total, parts, "lan" if rows[total]["area_type"] == "total" else "kommun"))
    return groups


def determined(hidden: set[int], groups: list[Group]) -> list[int]:
    """Hidden cells whose value follows from published cells through the equations."""
    if not hidden:
        return []
    # Components of hidden cells linked by equations, so each linear system stays small.
    parent = {h: h for h in hidden}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rows = []
    for total, parts, _ in groups:
        members = [(total, 1.0)] + [(p, -1.0) for p in parts]
        hid = [(m, c) for m, c in members if m in hidden]
        if not hid:
            continue
        rows.append(hid)
        for m, _ in hid[1:]:
            parent[find(m)] = find(hid[0][0])
    by_component: dict[int, list[list[tuple[int, float]]]] = defaultdict(list)
    for eq in rows:
        by_component[find(eq[0][0])].append(eq)
    out = []
    for eqs in by_component.values():
        cells = sorted({m for eq in eqs for m, _ in eq})
        col = {c: j for j, c in enumerate(cells)}
        matrix = np.zeros((len(eqs), len(cells)))
        for i, eq in enumerate(eqs):
            for m, c in eq:
                matrix[i, col[m]] = c
        _, s, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((s > 1e-9 * max(s.max(), 1.0)).sum())
        reach = (vt[:rank] ** 2).sum(axis=0)
        out.extend(c for c in cells if reach[col[c]] > 1 - 1e-9)
    return sorted(out)


def _hide_one_more(group: Group, hidden: set[int], n: list[float]) -> int | None:
    total, parts, _ = group
    visible = [p for p in parts if p not in hidden]
    if visible:
        return min(visible, key=lambda p: (n[p], p))
    return total if total not in hidden else None


def suppress_block(rows: list[dict], min_respondents: int) -> list[str | None]:
    """The reason each cell of one block is hidden, or None when it is shown."""
    n = [r["n"] for r in rows]
    reasons: list[str | None] = [primary_reason(min_respondents) if x < min_respondents else None
                                 for x in n]
    hidden = {i for i, r in enumerate(reasons) if r}
    groups = equations(rows)
    while True:
        changed = True
        while changed:
            changed = False
            for g in groups:
                members = [g[0], *g[1]]
                if sum(m in hidden for m in members) == 1:
                    extra = _hide_one_more(g, hidden, n)
                    if extra is not None:
                        hidden.add(extra)
                        reasons[extra] = secondary_reason(g[2])
                        changed = True
        exposed = determined(hidden, groups)
        if exposed:
            extra = _audit_choice(exposed[0], hidden, groups, n)
            hidden.add(extra)
            reasons[extra] = secondary_reason("audit")
            continue
        revealing = sorted({total for total, parts, _ in groups
                            if rows[total].get("extreme") and total not in hidden
                            and any(p in hidden for p in parts)})
        if not revealing:
            return reasons
        for total in revealing:
            hidden.add(total)
            reasons[total] = EXTREME_REASON


def _audit_choice(cell: int, hidden: set[int], groups: list[Group], n: list[float]) -> int:
    """A visible cell to hide for a determined one: from its own equations if any has one
    left, else from any equation linked to it through hidden cells. One always exists: a
    cell determined by equations whose every member is hidden would have to be 0."""
    linked, frontier = {cell}, [cell]
    while frontier:
        current = frontier.pop()
        for total, parts, _ in groups:
            members = [total, *parts]
            if current not in members:
                continue
            visible = [m for m in members if m not in hidden]
            if visible:
                return min(visible, key=lambda m: (n[m], m))
            for m in members:
                if m not in linked:
                    linked.add(m)
                    frontier.append(m)
    raise AssertionError(f"cell {cell} is determined but no visible cell is linked to it")


def protect(cells: pl.DataFrame, min_respondents: int) -> pl.DataFrame:
    """Add `status` (ok|suppressed) and `status_reason` to cells keyed by PATTERN_KEYS + cut."""
    # A cell is "extreme" when, for any cut of the scale, no one or everyone is flagged.
    flagged, size = pl.col("numerator"), pl.col("n")
    pattern = (cells.group_by(PATTERN_KEYS)
               .agg(n=size.first(), extreme=((flagged <= 1e-9) | (flagged >= size - 1e-9)).any())
               .sort(PATTERN_KEYS, nulls_last=True))
    decided = []
    for _, block in pattern.group_by(BLOCK_KEYS, maintain_order=True):
        rows = block.to_dicts()
        decided.append(block.select(PATTERN_KEYS).with_columns(
            status_reason=pl.Series(suppress_block(rows, min_respondents), dtype=pl.String)))
    if not decided:
        return cells.with_columns(status=pl.lit(None, pl.String), status_reason=pl.lit(None, pl.String))
    reasons = pl.concat(decided)
    return (cells.join(reasons, on=PATTERN_KEYS, how="left", nulls_equal=True)
            .with_columns(status=pl.when(pl.col("status_reason").is_null()).then(pl.lit("ok"))
                          .otherwise(pl.lit("suppressed"))))
