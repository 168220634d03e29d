"""Builds table assets: run the function, validate with the table's pandera model, write.

Validation happens inside the asset, before anything is written: a frame that fails its
model is never stored, the check result (failure count and a sample of failing rows) is
recorded, and downstream assets, publishing included, do not run.
"""

from __future__ import annotations

import functools
import inspect

import dagster as dg
import numpy as np
import pandera.polars as pa
import polars as pl

from checks.registry import TABLES
from checks.validate import ValidationResult, describe_column, validate

OWNER = "team:uppvaxt"
PREVIEW_ROWS = 10
PREVIEW_CHARS = 40
MARKDOWN_SPECIAL = set("\\|*_`<>[]#")


def table_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    schema = model.to_schema()
    return dg.TableSchema(columns=[
        dg.TableColumn(name=name, type=str(col.dtype), description=describe_column(col),
                       constraints=dg.TableColumnConstraints(nullable=bool(col.nullable),
                                                             unique=bool(col.unique)))
        for name, col in schema.columns.items()
    ])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # whole digits kept, four decimals or significant digits
        text = np.format_float_positional(value, precision=4, fractional=abs(value) >= 1,
                                          trim="-")
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS - 1] + "…"
    # Escape what markdown would read as table syntax, emphasis, code or HTML.
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


def markdown_table(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> str:
    """The first rows as a GitHub-style markdown table, one line per row and never wrapped
    (polars' own markdown output wraps at its display width and splits column names)."""
    lines = ["| " + " | ".join(_cell(c) for c in frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.head(rows).iter_rows()]
    shown = min(rows, frame.height)
    lines += ["", f"{shown} av {frame.height} rader."]
    return "\n".join(lines)


def preview(frame: pl.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(frame))


def check_metadata(result: ValidationResult) -> dict[str, object]:
    return {
        "rows": result.rows,
        "failure_count": result.failure_count,
        "failures_by_check": dg.MetadataValue.json(result.failures_by_check),
        "failure_sample": dg.MetadataValue.json(result.sample),
    }


def table_asset(table: str, *, group: str, retry_policy: dg.RetryPolicy | None = None,
                deps: list | None = None, kinds: tuple[str, ...] = ("polars", "duckdb")):
    """Decorate a function returning a polars frame as the asset for warehouse table `table`.

    Parameters named after another table become inputs loaded from the warehouse.
    """
    layer, model = TABLES[table]
    key = dg.AssetKey([layer, table])
    check = schema_check(table)

    def decorator(fn):
        params = inspect.signature(fn).parameters
        ins = {p: dg.AssetIn(key=dg.AssetKey([TABLES[p][0], p])) for p in params if p in TABLES}

        @dg.asset(key=key, ins=ins, deps=deps, group_name=group, kinds=set(kinds),
                  owners=[OWNER], description=inspect.getdoc(fn), check_specs=[check],
                  retry_policy=retry_policy,
                  metadata={"dagster/column_schema": table_schema(model),
                            "dagster/table_name": f"{layer}.{table}"})
        @functools.wraps(fn)
        def _asset(*args, **kwargs):
            yield from validated_output(fn(*args, **kwargs), table, check.name)

        return _asset

    return decorator


def schema_check(table: str) -> dg.AssetCheckSpec:
    """The blocking pandera check of warehouse table `table`."""
    layer, model = TABLES[table]
    return dg.AssetCheckSpec(
        name=f"{table}_schema", asset=dg.AssetKey([layer, table]), blocking=True,
        description=f"Kontroll mot tabellmodellen {model.__name__} (pandera): typer, "
                    f"tillåtna värden, nycklar och regler.")


def validated_output(frame: pl.DataFrame, table: str, check_name: str):
    """Validate `frame` against the table's model: the output and a passed check, or a
    failed check and a Failure (nothing is written)."""
    layer, model = TABLES[table]
    result = validate(frame, model)
    meta = check_metadata(result)
    if not result.passed:
        yield dg.AssetCheckResult(check_name=check_name, passed=False, metadata=meta,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  description=result.message(f"{layer}.{table}"))
        raise dg.Failure(description=result.message(f"{layer}.{table}"), metadata=meta,
                         allow_retries=False)
    yield dg.Output(frame, metadata={
        "dagster/row_count": frame.height,
        "preview": preview(frame),
        "dagster/column_schema": table_schema(model),
    })
    yield dg.AssetCheckResult(check_name=check_name, passed=True, metadata=meta)
