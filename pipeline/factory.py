"""Builds table assets: run the function, validate with the table's pandera model, write.

Validation happens inside the asset, before anything is written: a frame that fails its
model is never stored, the check result (failure count and a sample of failing rows) is
recorded, and downstream assets, publishing included, do not run.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass

import dagster as dg
import numpy as np
import pandera.polars as pa
import polars as pl

from checks.registry import TABLES
from checks.validate import ValidationResult, combine, describe_column, validate
from pipeline.warehouse import Handover

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


def markdown_table(frame: pl.DataFrame, rows: int = PREVIEW_ROWS, total: int | None = None) -> str:
    """The first rows as a GitHub-style markdown table, one line per row and never wrapped
    (polars' own markdown output wraps at its display width and splits column names);
    `total` is the table's row count where `frame` is only its first part."""
    lines = ["| " + " | ".join(_cell(c) for c in frame.columns) + " |",
             "|" + "|".join("---" for _ in frame.columns) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.head(rows).iter_rows()]
    shown = min(rows, frame.height)
    lines += ["", f"{shown} av {frame.height if total is None else total} rader."]
    return "\n".join(lines)


def preview(frame: pl.DataFrame, total: int | None = None) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(frame, total=total))


def check_metadata(result: ValidationResult) -> dict[str, object]:
    return {
        "rows": result.rows,
        "failure_count": result.failure_count,
        "failures_by_check": dg.MetadataValue.json(result.failures_by_check),
        "failure_sample": dg.MetadataValue.json(result.sample),
    }


@dataclass(frozen=True)
class CheckWarning:
    """A non-blocking check: problems that did not stop the asset (shown as WARN)."""

    check: str
    table: str
    description: str
    problems: list[dict]
    headline: str = ""
    extra: dict | None = None  # further metadata (counts)


def table_multi_asset(tables: dict[str, str], *, group: str, warns: dict[str, tuple[str, str]] | None = None,
                      kinds: tuple[str, ...] = ("polars", "duckdb"),
                      retry_policy: dg.RetryPolicy | None = None):
    """Like `table_asset`, for a function returning several tables at once:
    `tables` maps table → its Swedish description; the function returns
    (frames: dict[table, frame], warnings: list[CheckWarning]). `warns` declares the WARN checks
    (name → (table, Swedish description)). Every frame is validated before any is written."""
    checks = {t: schema_check(t) for t in tables}
    keys = {t: c.asset_key for t, c in checks.items()}
    models = {t: TABLES[t][1] for t in tables}
    warn_specs = [dg.AssetCheckSpec(name=name, asset=keys[t], blocking=False, description=d)
                  for name, (t, d) in (warns or {}).items()]

    def decorator(fn):
        params = inspect.signature(fn).parameters
        ins = {p: dg.AssetIn(key=dg.AssetKey([TABLES[p][0], p])) for p in params if p in TABLES}
        outs = {t: dg.AssetOut(key=keys[t], description=tables[t], group_name=group,
                               owners=[OWNER], kinds=set(kinds), io_manager_key="io_manager",
                               metadata={"dagster/column_schema": table_schema(models[t]),
                                         "dagster/table_name": f"{TABLES[t][0]}.{t}"})
                for t in tables}

        @dg.multi_asset(outs=outs, ins=ins, name=fn.__name__, description=inspect.getdoc(fn),
                        check_specs=list(checks.values()) + warn_specs, retry_policy=retry_policy)
        @functools.wraps(fn)
        def _asset(*args, **kwargs):
            frames, warnings = fn(*args, **kwargs)
            results = {t: validate(frames[t], models[t]) for t in tables}
            failed = [t for t, r in results.items() if not r.passed]
            for t in failed:
                yield dg.AssetCheckResult(asset_key=keys[t], check_name=checks[t].name,
                                          passed=False, metadata=check_metadata(results[t]),
                                          severity=dg.AssetCheckSeverity.ERROR,
                                          description=results[t].message(f"{TABLES[t][0]}.{t}"))
            if failed:
                raise dg.Failure(description="\n".join(results[t].message(f"{TABLES[t][0]}.{t}")
                                                       for t in failed), allow_retries=False)
            for t in tables:
                yield dg.Output(Handover(frames[t]), output_name=t, metadata={
                    "dagster/row_count": frames[t].height,
                    "preview": preview(frames[t]),
                    "dagster/column_schema": table_schema(models[t]),
                })
                yield dg.AssetCheckResult(asset_key=keys[t], check_name=checks[t].name,
                                          passed=True, metadata=check_metadata(results[t]))
            for w in warnings:
                yield warning_result(keys[w.table], w)

        return _asset

    return decorator


def warning_result(key: dg.AssetKey, warning: CheckWarning) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key, check_name=warning.check, passed=not warning.problems,
        severity=dg.AssetCheckSeverity.WARN, description=warning.headline or None,
        metadata={"problems": len(warning.problems),
                  "list": dg.MetadataValue.json(warning.problems[:200]), **(warning.extra or {})})


def table_asset(table: str, *, group: str, retry_policy: dg.RetryPolicy | None = None,
                deps: list | None = None, kinds: tuple[str, ...] = ("polars", "duckdb"),
                columns: dict[str, list[str]] | None = None,
                rows: dict[str, dict[str, object]] | None = None, chunked: bool = False):
    """Decorate a function returning a polars frame as the asset for warehouse table `table`.

    Parameters named after another table become inputs loaded from the warehouse; `columns`
    loads only those columns of an input (a wide mart read for a few of its columns), `rows`
    only the rows where each named column has the given value.

    `chunked`: the function yields the table a part at a time, parts split by the first
    column of the model's unique key (a large table that should never be whole in memory).
    Each part is validated and set aside as it comes (pipeline/warehouse.py `TableWrite`);
    the IO manager then replaces the table with all parts in one transaction, like any other
    table's write. A part that fails its check leaves the table as it was.
    """
    layer, model = TABLES[table]
    key = dg.AssetKey([layer, table])
    check = schema_check(table)

    def decorator(fn):
        params = inspect.signature(fn).parameters
        only, where = columns or {}, rows or {}
        ins = {p: dg.AssetIn(key=dg.AssetKey([TABLES[p][0], p]),
                            metadata={**({"columns": only[p]} if p in only else {}),
                                      **({"rows": where[p]} if p in where else {})} or None)
               for p in params if p in TABLES}

        @dg.asset(key=key, ins=ins, deps=deps, group_name=group, kinds=set(kinds),
                  owners=[OWNER], description=inspect.getdoc(fn), check_specs=[check],
                  retry_policy=retry_policy,
                  metadata={"dagster/column_schema": table_schema(model),
                            "dagster/table_name": f"{layer}.{table}"})
        @functools.wraps(fn)
        def _asset(*args, **kwargs):
            if chunked:
                yield from written_output(fn(*args, **kwargs), table, check.name)
            else:
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


def written_output(parts, table: str, check_name: str):
    """Validate and write each part of a `chunked` table as it comes (see `table_asset`):
    the output is the open write, committed by the IO manager, with the same metadata and
    check as `validated_output` gives a whole frame."""
    layer, model = TABLES[table]
    key = dg.AssetKey([layer, table])
    split_by = model.to_schema().unique[0]
    write = dg.AssetExecutionContext.get().resources.io_manager.begin_write(key)
    results, seen, first = [], set(), None
    try:
        for part in parts:
            owners = set(part[split_by].unique().to_list())
            if owners & seen:  # the key could then repeat across parts unchecked
                raise ValueError(f"{layer}.{table}: parts must split by {split_by}; "
                                 f"{sorted(owners & seen)[:3]} came twice")
            seen |= owners
            results.append(validate(part, model))
            if all(r.passed for r in results):  # after a failed part, only counted
                write.append(part)
            first = part.head(PREVIEW_ROWS) if first is None else first
    except BaseException:
        write.rollback()
        raise
    result = combine(results) if results else validate(pl.DataFrame(), model)
    meta = check_metadata(result)
    if not result.passed:
        write.rollback()
        yield dg.AssetCheckResult(check_name=check_name, passed=False, metadata=meta,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  description=result.message(f"{layer}.{table}"))
        raise dg.Failure(description=result.message(f"{layer}.{table}"), metadata=meta,
                         allow_retries=False)
    yield dg.Output(write, metadata={
        "dagster/row_count": write.rows,
        "preview": preview(first, total=write.rows),
        "dagster/column_schema": table_schema(model),
    })
    yield dg.AssetCheckResult(check_name=check_name, passed=True, metadata=meta)


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
    yield dg.Output(Handover(frame), metadata={
        "dagster/row_count": frame.height,
        "preview": preview(frame),
        "dagster/column_schema": table_schema(model),
    })
    yield dg.AssetCheckResult(check_name=check_name, passed=True, metadata=meta)
