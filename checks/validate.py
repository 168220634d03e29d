"""Run a pandera model on a frame and summarise the outcome for people and for Dagster."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.errors as pa_errors
import pandera.polars as pa
import polars as pl

SAMPLE_ROWS = 20


@dataclass(frozen=True)
class ValidationResult:
    model: str
    rows: int
    passed: bool
    failure_count: int = 0
    failures_by_check: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)

    def message(self, table: str) -> str:
        if self.passed:
            return f"{table}: {self.rows} rows pass {self.model}"
        checks = "; ".join(f"{f['column']}: {f['check']} ({f['count']})" for f in self.failures_by_check[:8])
        first = self.sample[0] if self.sample else {}
        where = f" First failure: row {first.get('index')}, column {first.get('column')}, " \
                f"value {first.get('failure_case')!r}." if first else ""
        return f"{table}: {self.failure_count} failures against {self.model}: {checks}.{where}"


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> ValidationResult:
    """Validate a collected frame (a LazyFrame would only get schema checks)."""
    if isinstance(frame, pl.LazyFrame):
        raise TypeError("validate a collected DataFrame; LazyFrames skip data checks")
    try:
        model.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases.with_columns(pl.col("column").cast(pl.String),
                                                pl.col("check").cast(pl.String))
        by_check = (cases.group_by("column", "check").len("count")
                    .sort("count", "column", "check", descending=[True, False, False]))
        sample = cases.sort("index", nulls_last=True).head(SAMPLE_ROWS).select(
            "column", "check", pl.col("failure_case").cast(pl.String), "index")
        return ValidationResult(model.__name__, frame.height, False, cases.height,
                                by_check.to_dicts(), sample.to_dicts())
    except pa_errors.SchemaError as err:  # raised for some schema-level problems even when lazy
        return ValidationResult(model.__name__, frame.height, False, 1,
                                [{"column": str(getattr(err, "column_name", None)),
                                  "check": str(err), "count": 1}], [])
    return ValidationResult(model.__name__, frame.height, True)


def _by_count(item: tuple[tuple[str | None, str | None], int]) -> tuple:
    """polars' order of `validate`'s failures_by_check: count down, then column and check
    (nulls first)."""
    (column, check), count = item
    return (-count, column is not None, column or "", check is not None, check or "")


def combine(results: list[ValidationResult]) -> ValidationResult:
    """One result for a table validated a part at a time (the parts in table order): the
    counts added up and the sample's row numbers counted from the table's first row, as one
    validation of the whole table would give them (for checks within a row or within a part)."""
    offset, sample, counts = 0, [], {}
    for result in results:
        sample += [{**row, "index": None if row["index"] is None else row["index"] + offset}
                   for row in result.sample]
        for failure in result.failures_by_check:
            key = (failure["column"], failure["check"])
            counts[key] = counts.get(key, 0) + failure["count"]
        offset += result.rows
    by_check = [{"column": c, "check": k, "count": n}
                for (c, k), n in sorted(counts.items(), key=_by_count)]
    sample.sort(key=lambda row: (row["index"] is None, row["index"] or 0))
    return ValidationResult(results[0].model if results else "", offset,
                            all(r.passed for r in results),
                            sum(r.failure_count for r in results), by_check, sample[:SAMPLE_ROWS])


def allowed_codes(column: pa.Column) -> list[str] | None:
    """The codes a column's `isin` check allows, in the model's order; None if it has none."""
    for check in column.checks:
        if check.name == "isin":
            return [str(code) for code in check.statistics["allowed_values"]]
    return None


def describe_column(column: pa.Column) -> str | None:
    """A column's description, ending with its allowed codes when it has a fixed list: the
    same list the `isin` check enforces, so the documentation cannot drift from the rule."""
    codes = allowed_codes(column)
    if not codes:
        return column.description
    text = (column.description or "").rstrip(". ")
    return f"{text}. Koder: {', '.join(codes)}; se marts.label".lstrip(". ")


def column_docs(model: type[pa.DataFrameModel]) -> tuple[str | None, dict[str, str]]:
    """The table description and per-column descriptions of a model."""
    schema = model.to_schema()
    docs = {name: describe_column(col) for name, col in schema.columns.items()}
    return schema.description, {name: text for name, text in docs.items() if text}


def failures_by(frame: pl.DataFrame, model: type[pa.DataFrameModel], key: str) -> dict[str, str]:
    """Validate once and say which values of `key` (e.g. each KPI) own the failing rows:
    key value -> the first failing check, for isolating one series from the others. A failure
    no row can be blamed for (a wrong column type) is filed under "" (the whole frame)."""
    try:
        model.validate(frame, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases.with_columns(pl.col("column").cast(pl.String),
                                                pl.col("check").cast(pl.String))
        owners = frame.select(key).with_row_index("index")
        blamed = (cases.with_columns(pl.col("index").cast(pl.UInt32))
                  .join(owners, on="index", how="left")
                  .with_columns(pl.col(key).fill_null(""))
                  .sort("index", nulls_last=True))
        out: dict[str, str] = {}
        for row in blamed.iter_rows(named=True):
            if row[key] in out:
                continue
            where = [f"{word} {frame[column][row['index']]}" for column, word in ROW_WORDS.items()
                     if column in frame.columns and row["index"] is not None]
            if row["schema_context"] == "Column":
                where.append(f"kolumnen {row['column']} = {row['failure_case']}")
            out[row[key]] = check_words(row["check"]) + (f" ({', '.join(where)})" if where else "")
        return out
    except pa_errors.SchemaError as err:
        return {"": f"{model.__name__}: {err}"}
    return {}


# How a failing row is pointed out (a source's columns in Swedish words).
ROW_WORDS = {"municipality": "område", "period": "år", "gender": "kön"}
# What a failed check means, for the Swedish messages that name a series' first failure.
CHECK_WORDS = {
    "privacy_is_not_a_value": "ett värde som källan markerat som sekretesskyddat har ändå en siffra",
    "str_matches": "en uppgift har fel form",
    "isin": "en okänd kod",
    "in_range": "ett värde utanför det tillåtna",
    "greater_than_or_equal_to": "ett för litet värde",
    "less_than_or_equal_to": "ett för stort värde",
    "not_nullable": "en uppgift saknas",
    "field_uniqueness": "samma rad förekommer två gånger",
    "multiple_fields_uniqueness": "samma rad förekommer två gånger",
}


def check_words(check: str) -> str:
    """A pandera check's name ("in_range(1990, 2100)") in Swedish words."""
    name = check.split("(", 1)[0]
    return CHECK_WORDS.get(name, f"regeln {name} bröts")
