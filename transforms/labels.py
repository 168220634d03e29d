"""The label table: every code of every coded column in the published database → Swedish.

A `CodeList` is one dictionary (code → label) and the columns that use it, named
`table.column` with the bare table name, so a column name shared by tables with different
codes (`status`, `factor`) is never mislabelled. Where a column's model restricts it to a list
of codes (pandera `isin`), only those codes get rows, and a code without a label is found by
`unlabelled`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

# qualified table ("marts.fact_indicator") → column → allowed codes, or None where the
# column's codes are not a fixed list (breakdown, quintile, the catalogue's variables).
Columns = Mapping[str, Mapping[str, Sequence[str] | None]]

LABEL_SCHEMA = {"table_name": pl.String, "column_name": pl.String, "code": pl.String,
                "label": pl.String, "description": pl.String, "domain": pl.String,
                "sort_order": pl.Int32}

MISSING_LABEL = "Svensk etikett saknas ännu"


@dataclass(frozen=True)
class CodeList:
    domain: str
    labels: Mapping[str, str]
    columns: tuple[str, ...]
    descriptions: Mapping[str, str] = field(default_factory=dict)


def _qualified(columns: Columns) -> dict[str, str]:
    """Bare table name → qualified name."""
    names: dict[str, str] = {}
    for qualified in columns:
        bare = qualified.split(".", 1)[1]
        if bare in names:
            raise ValueError(f"table name {bare!r} is used in two schemas: {names[bare]}, {qualified}")
        names[bare] = qualified
    return names


def targets(code_list: CodeList, columns: Columns) -> list[tuple[str, str]]:
    """The (qualified table, column) pairs a code list labels; a name that matches no
    published column is an error."""
    tables = _qualified(columns)
    found = []
    for spec in code_list.columns:
        table, _, column = spec.partition(".")
        qualified = tables.get(table)
        if qualified is None or column not in columns[qualified]:
            raise ValueError(f"code list {code_list.domain!r} names {spec!r}, which is not a "
                             f"column of a published table")
        found.append((qualified, column))
    return found


def label_table(code_lists: Sequence[CodeList], columns: Columns) -> pl.DataFrame:
    """One row per table, coded column and code, sorted by table, column and the list's order.

    A code a column allows but its list does not label gets the code itself as label and
    says so in the description (see `unlabelled`).
    """
    rows: list[dict] = []
    seen: dict[tuple[str, str], str] = {}
    for code_list in code_lists:
        empty = [code for code, text in code_list.labels.items() if not str(text).strip()]
        if empty:
            raise ValueError(f"code list {code_list.domain!r} has empty labels for {empty}")
        for table, column in targets(code_list, columns):
            if (table, column) in seen:
                raise ValueError(f"{table}.{column} is labelled by both {seen[table, column]!r} "
                                 f"and {code_list.domain!r}")
            seen[table, column] = code_list.domain
            allowed = columns[table][column]
            codes = list(code_list.labels) if allowed is None else [str(c) for c in allowed]
            order = {code: i for i, code in enumerate(code_list.labels)}
            for code in sorted(codes, key=lambda c: (order.get(c, len(order)), c)):
                known = code in code_list.labels
                rows.append({
                    "table_name": table, "column_name": column, "code": code,
                    "label": code_list.labels[code] if known else code,
                    "description": code_list.descriptions.get(code) if known else MISSING_LABEL,
                    "domain": code_list.domain, "sort_order": order.get(code, len(order)),
                })
    return (pl.DataFrame(rows, schema=LABEL_SCHEMA)
            .sort("table_name", "column_name", "sort_order", "code"))


def unlabelled(code_lists: Sequence[CodeList], columns: Columns) -> list[str]:
    """Coded columns (those with a list of allowed codes) or codes that have no label."""
    labels: dict[tuple[str, str], Mapping[str, str]] = {}
    for code_list in code_lists:
        for target in targets(code_list, columns):
            labels[target] = code_list.labels
    problems = []
    for table, cols in columns.items():
        for column, allowed in cols.items():
            if allowed is None:
                continue
            known = labels.get((table, column))
            if known is None:
                problems.append(f"{table}.{column}: no code list")
                continue
            missing = [str(c) for c in allowed if str(c) not in known]
            if missing:
                problems.append(f"{table}.{column}: no label for {', '.join(missing)}")
    return problems
