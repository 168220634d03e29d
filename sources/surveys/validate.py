"""Apply a codebook to a file's cells: typed respondent rows, or problems naming each cell.

The checked frame has one row per respondent: `respondent_id`, `kommun` (four-digit SCB
code), `year`, `grade` (codebook grade code, null when missing), `sex` (K, M or null when
missing), `weight` (1.0 when the codebook has no weight column), one Float64 column per
scale item (null when missing), and `_row`, the file row for messages.

Every check is a vectorised polars expression; rows are only materialised for columns
that have problems, so a clean 300,000-row file costs one pass per column.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.survey_codebook import Codebook, code_text
from sources.tabular.problems import SCHEMA, combine, problem
from sources.tabular.readers import RawTable

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
ROLE_NAMES = {"respondent_id": "svars-id", "municipality": "kommun", "grade": "årskurs",
              "sex": "kön", "year": "år", "weight": "vikt"}


@dataclass(frozen=True)
class Checked:
    frame: pl.DataFrame
    problems: pl.DataFrame


def size_problem(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> pl.DataFrame | None:
    """A file above the limit is refused before a byte of it is read."""
    size = path.stat().st_size
    if size <= max_bytes:
        return None
    return problem(path.name, "too_large",
                   f"filen är {size / 1024**2:,.0f} MB men gränsen är {max_bytes / 1024**2:,.0f} MB; "
                   "dela upp den (t.ex. per kommun eller årskurs) eller höj gränsen "
                   "(UPPVAXT_SURVEY_MAX_MB)".replace(",", " "))


def _text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as code text: 2.0 → "2", text stays text."""
    col = pl.col(column)
    if frame.schema[column] == pl.String:
        stripped = col.str.strip_chars()
        return pl.when(stripped != "").then(stripped)
    if frame.schema[column].is_float():
        return (pl.when(col == col.floor()).then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.cast(pl.String)))
    return col.cast(pl.String)


def _number(frame: pl.DataFrame, column: str) -> pl.Expr:
    if frame.schema[column] == pl.String:
        return _text(frame, column).str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    return pl.col(column).cast(pl.Float64, strict=False)


def _rows(frame: pl.DataFrame, file: str, column: str, kind: str, bad: pl.Expr,
          raw: pl.Expr, message: pl.Expr) -> pl.DataFrame:
    hits = frame.lazy().filter(bad.fill_null(False)).select(
        file=pl.lit(file), row="_row", column=pl.lit(column), kind=pl.lit(kind),
        value=raw, message=message).collect()
    return hits.cast(SCHEMA)  # type: ignore[arg-type]


def _mojibake(text: str) -> str | None:
    """The text as it was meant if UTF-8 was read as Windows-1252 (or the reverse)."""
    for a, b in (("cp1252", "utf-8"), ("utf-8", "cp1252")):
        try:
            fixed = text.encode(a).decode(b)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            return fixed
    return None


def missing_columns(table: RawTable, book: Codebook) -> pl.DataFrame:
    present = set(table.frame.columns)
    wanted = [(ROLE_NAMES[r], c) for r, c in book.columns.roles().items()] + \
        [(f"fråga i skalan {', '.join(s for s, sc in book.scales.items() if i in sc.items)}", i)
         for i in book.scale_items]
    frames = []
    for role, column in wanted:
        if column in present:
            continue
        hint = ""
        garbled = [c for c in present if _mojibake(c) == column]
        close = difflib.get_close_matches(column, sorted(present - {"_row"}), n=2, cutoff=0.75)
        if garbled:
            hint = f"; filen har {garbled[0]!r}, troligen fel teckenkodning"
        elif close:
            hint = f"; menar du {', '.join(repr(c) for c in close)}?"
        frames.append(problem(table.file, "missing_column",
                              f"kolumnen {column!r} ({role}) som kodboken {book.id} kräver saknas{hint}",
                              row=1 if table.format != "sav" else None, column=column))
    return combine(frames)


def _category(table: RawTable, column: str, mapping: dict[str, str], missing: list,
              what: str, book: Codebook) -> tuple[pl.Expr, pl.DataFrame]:
    """Map a coded column (codes, or value labels of an SPSS file) to codebook codes."""
    frame = table.frame
    text = _text(frame, column)
    missing_texts = [code_text(m) for m in missing]
    mapped = text.replace_strict(mapping, default=None, return_dtype=pl.String)
    is_missing = text.is_null() | text.is_in(missing_texts)
    label = pl.lit(None, pl.String)
    if labels := table.value_labels.get(column, {}):
        # An SPSS file may code what the codebook names by label ("Flicka"), or the reverse.
        label = text.replace_strict(labels, default=None, return_dtype=pl.String)
        mapped = pl.coalesce(mapped, label.replace_strict(mapping, default=None, return_dtype=pl.String))
        is_missing = is_missing | label.is_in(missing_texts).fill_null(False)
    allowed = ", ".join(sorted(mapping)) + (f"; bortfall {', '.join(missing_texts)}" if missing_texts else "")
    shown = pl.when(label.is_not_null()).then(pl.format("{} ('{}')", text, label)).otherwise(text)
    bad = _rows(frame, table.file, column, "unknown_code", mapped.is_null() & ~is_missing, text,
                pl.format(f"{what} {{}} finns inte i kodboken {book.id} (tillåtna: {allowed})", shown))
    return pl.when(~is_missing).then(mapped), bad


def _kommun(table: RawTable, book: Codebook, kommun_codes: set[str]) -> tuple[pl.Expr, pl.DataFrame]:
    column = book.columns.municipality
    text = _text(table.frame, column)
    code = pl.when(text.str.contains(r"^\d{1,4}$")).then(text.str.zfill(4)).otherwise(text)
    if book.municipality.map:
        code = code.replace(book.municipality.map)
    valid = code.is_in(sorted(kommun_codes))
    frames = [
        _rows(table.frame, table.file, column, "impossible_value", text.is_null(), text,
              pl.lit("kommun saknas; varje svar måste höra till en kommun")),
        _rows(table.frame, table.file, column, "unknown_code", text.is_not_null() & ~valid, text,
              pl.format("kommunkoden {} finns inte bland SCB:s 290 kommunkoder", text)),
    ]
    return code, combine(frames)


def _bounded(table: RawTable, column: str, what: str, low: float, high: float,
             integer: bool) -> tuple[pl.Expr, pl.DataFrame]:
    text, value = _text(table.frame, column), _number(table.frame, column)
    ok = value.is_between(low, high) & ((value == value.round()) if integer else pl.lit(True))
    span = f"{low:g}–{high:g}".replace(".", ",")
    bad = _rows(table.frame, table.file, column, "impossible_value", ~ok.fill_null(False), text,
                pl.when(text.is_null()).then(pl.lit(f"{what} saknas"))
                .otherwise(pl.format(f"{what} {{}} är omöjligt (ska vara {'ett heltal ' if integer else ''}{span})",
                                     text)))
    return value, bad


def _duplicates(table: RawTable, column: str) -> tuple[pl.Expr, pl.DataFrame]:
    text = _text(table.frame, column)
    # The first row of each id is worked out before filtering, so messages can point to it.
    marked = table.frame.with_columns(_first=pl.col("_row").min().over(text))
    first = pl.col("_first")
    frames = [
        _rows(table.frame, table.file, column, "impossible_value", text.is_null(), text,
              pl.lit("svars-id saknas")),
        _rows(marked, table.file, column, "duplicate_id",
              text.is_not_null() & (pl.col("_row") != first), text,
              pl.format("svars-id {} förekommer också på rad {}", text, first)),
    ]
    return text, combine(frames)


UNPARSED = "\x00unparsed"


def parse_items(table: RawTable, book: Codebook) -> pl.DataFrame:
    """Every scale item as Float64 (null when blank or a text missing code), plus a flag per
    item for text that is no number, in one pass over the file's text cells."""
    exprs = []
    for name in book.scale_items:
        number = _number(table.frame, name)
        exprs.append(number.alias(name))
        if table.frame.schema[name] == pl.String:
            text_missing = [m for m in book.item(name).missing if not _is_number(m)]
            text = _text(table.frame, name)
            exprs.append((text.is_not_null() & number.is_null() & ~text.is_in(text_missing))
                         .alias(name + UNPARSED))
    return table.frame.lazy().select("_row", *exprs).collect()


def _item(parsed: pl.DataFrame, table: RawTable, book: Codebook, name: str) -> tuple[pl.Expr, list]:
    """The clean item expression and (mask on `parsed`, kind, message on the raw text)."""
    spec = book.item(name)
    value = pl.col(name)
    numeric_missing = [float(m) for m in spec.missing if _is_number(m)]
    is_missing = value.is_null() | value.is_in(numeric_missing)
    integral = value == value.round()
    in_range = value.is_between(spec.low, spec.high)
    unparsed = pl.col(name + UNPARSED) if name + UNPARSED in parsed.columns else pl.lit(False)
    text = _text(table.frame, name)
    shown = text
    if labels := table.value_labels.get(name, {}):
        label = text.replace_strict(labels, default=None, return_dtype=pl.String)
        shown = pl.when(label.is_not_null()).then(pl.format("{} ('{}')", text, label)).otherwise(text)
    missing_note = f", bortfall {', '.join(spec.missing)}" if spec.missing else ""
    checks = [
        (unparsed, "impossible_value", pl.format("värdet {} är inget tal", text)),
        (~is_missing & ~integral, "impossible_value",
         pl.format(f"värdet {{}} är omöjligt: svaren är heltal {spec.low}–{spec.high}", text)),
        (~is_missing & integral & ~in_range, "unknown_code",
         pl.format(f"koden {{}} finns inte i kodboken {book.id} (giltiga {spec.low}–{spec.high}"
                   f"{missing_note})", shown)),
    ]
    clean = pl.when(~is_missing & integral & in_range).then(value)
    return clean.alias(name), [(mask.fill_null(False), kind, msg) for mask, kind, msg in checks]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _item_problems(parsed: pl.DataFrame, table: RawTable, checks: dict[str, list]) -> pl.DataFrame:
    # One pass over the parsed numbers counts every item's problems; only items with
    # problems go back to the text cells to be listed row by row.
    counts = parsed.lazy().select(
        [mask.sum().alias(f"{name}\x00{i}") for name, triples in checks.items()
         for i, (mask, _, _) in enumerate(triples)]).collect().row(0, named=True)
    frames = []
    for key, count in counts.items():
        if not count:
            continue
        name, i = key.split("\x00")
        mask, kind, message = checks[name][int(i)]
        hits = parsed.select(mask).to_series()
        frames.append(_rows(table.frame.filter(hits), table.file, name, kind, pl.lit(True),
                            _text(table.frame, name), message))
    return combine(frames)


def apply_codebook(table: RawTable, book: Codebook, kommun_codes: set[str]) -> Checked:
    """Typed respondent rows and every problem of the file against the codebook."""
    absent = missing_columns(table, book)
    if absent.height:
        return Checked(pl.DataFrame(), absent)
    cols = book.columns
    rid, id_problems = _duplicates(table, cols.respondent_id)
    kommun, kommun_problems = _kommun(table, book, kommun_codes)
    grade, grade_problems = _category(table, cols.grade, book.grade_codes, book.grade_missing,
                                      "årskurskoden", book)
    sex, sex_problems = _category(table, cols.sex, book.sex_codes, book.sex.missing,
                                  "könskoden", book)
    year, year_problems = _bounded(table, cols.year, "året", *book.year_range, integer=True)
    frames = [id_problems, kommun_problems, grade_problems, sex_problems, year_problems]
    weight = pl.lit(1.0)
    if cols.weight:
        weight, weight_problems = _bounded(table, cols.weight, "vikten", *book.weight_range,
                                           integer=False)
        frames.append(weight_problems)
    parsed = parse_items(table, book)
    items = {name: _item(parsed, table, book, name) for name in book.scale_items}
    frames.append(_item_problems(parsed, table, {name: checks for name, (_, checks) in items.items()}))
    problems = combine(frames)
    if problems.height:
        return Checked(pl.DataFrame(), problems)
    people = table.frame.lazy().select(
        respondent_id=rid, kommun=kommun, year=year.cast(pl.Int32), grade=grade, sex=sex,
        weight=weight.cast(pl.Float64)).collect()
    frame = pl.concat([people, parsed.select(*[expr for expr, _ in items.values()], "_row")],
                      how="horizontal")
    return Checked(frame, problems)
