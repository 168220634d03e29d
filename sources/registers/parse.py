"""Turn a register file's cells into typed rows, or problems naming file, row and column.

The reader (`sources/tabular/readers.py`) gives every cell as text with its file row. Here
each layout column is found by its Swedish header (or an alias; case and å/ä/ö do not
matter), each cell is parsed by its kind, and each register's row rules are applied: end
before start, a goal year before its baseline, a call whose factors differ between rows,
duplicated rows. Registers are small (hundreds of rows), so cells are parsed once per
distinct text in Python, where a message can say exactly what is wrong.

Personal data (contact person, e-mail) are never read: the typed frame has no such
columns and no message repeats such a cell.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from sources.registers.layouts import DIMENSIONS, Column, Layout, fold
from sources.tabular.problems import SCHEMA, combine, problem
from sources.tabular.readers import RawTable

SCORE_RANGE = (1.0, 9.0)
DIMENSION_CODES = list(DIMENSIONS)
YEAR_RANGE = (1990, 2100)
FROM_DATA = {"fran data", "data", "fran uppvaxt"}
POLARS_TYPES = {"text": pl.String, "kommun": pl.String, "date": pl.Date, "number": pl.Float64,
                "year": pl.Int32, "score": pl.Float64, "choice": pl.String, "choices": pl.String,
                "indicator": pl.String}


@dataclass(frozen=True)
class Known:
    """What a register's codes are checked against."""

    kommun_codes: frozenset[str]
    kommun_names: dict[str, str]  # folded name → code
    indicator_ids: frozenset[str]

    @classmethod
    def of(cls, kommuner: pl.DataFrame, indicator_ids: list[str]) -> Known:
        names = {fold(n): c for c, n in kommuner.select("kommun_code", "kommun_name").iter_rows()}
        return cls(frozenset(kommuner["kommun_code"].to_list()), names, frozenset(indicator_ids))


@dataclass(frozen=True)
class Parsed:
    frame: pl.DataFrame      # typed layout columns + source_file, source_row
    problems: pl.DataFrame


class CellError(ValueError):
    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


# --- one cell -------------------------------------------------------------------------------

def _number(text: str) -> float:
    cleaned = re.sub(r"(?i)\s*(kr|sek|kronor)\.?$", "", text)
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", cleaned).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise CellError("bad_value", f"{text!r} är inget tal (skriv till exempel 150000 eller 4,5)") from None


def _date(text: str) -> date:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", text)
    if found:
        try:
            return date(*(int(g) for g in found.groups()))
        except ValueError:
            pass
    raise CellError("bad_value", f"{text!r} är inget datum; skriv ÅÅÅÅ-MM-DD, till exempel 2025-03-15")


def _kommun(text: str, known: Known) -> str:
    digits = re.fullmatch(r"(\d{1,4})(?:\.0+)?", text)
    if digits:
        code = digits.group(1).zfill(4)
        if code in known.kommun_codes:
            return code
        raise CellError("unknown_kommun", f"kommunkoden {text} finns inte bland Sveriges 290 kommuner")
    name = re.sub(r"\s+kommun$", "", fold(text))
    for candidate in (name, name[:-1] if name.endswith("s") else name):
        if candidate in known.kommun_names:
            return known.kommun_names[candidate]
    raise CellError("unknown_kommun", f"{text!r} är varken en kommunkod eller ett kommunnamn")


def _choice(text: str, column: Column) -> str:
    code = column.accepted.get(fold(text))
    if code is None:
        allowed = ", ".join(column.codes.values())
        raise CellError("bad_value", f"{text!r} är inte ett tillåtet värde; använd något av: {allowed}")
    return code


def _choices(text: str, column: Column) -> str:
    codes = set()
    for part in (p for p in re.split(r"\s*[,;+]\s*", text) if p.strip()):
        pieces = [part] if fold(part) in column.accepted else re.split(r"\s+och\s+", part)
        codes |= {_choice(p, column) for p in pieces}
    return ",".join(c for c in column.codes if c in codes)


def _indicator(text: str, known: Known) -> str:
    if text in known.indicator_ids:
        return text
    near = difflib.get_close_matches(text, sorted(known.indicator_ids), n=1)
    hint = f" (menade du {near[0]}?)" if near else ""
    raise CellError("unknown_indicator", f"indikatorn {text!r} finns inte i uppvaxts katalog{hint}; "
                                         "se marts.indicator för giltiga id")


def _year(text: str) -> int:
    value = _number(text)
    if value != int(value) or not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise CellError("bad_value", f"{text!r} är inget årtal (skriv till exempel 2024)")
    return int(value)


def _score(text: str) -> float:
    value = _number(text)
    if not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
        raise CellError("out_of_range", f"poängen {text} ligger utanför skalan 1–9")
    return value


def parse_cell(text: str, column: Column, known: Known) -> object:
    """One non-blank cell as its typed value; CellError says what is wrong."""
    kind = column.kind
    if kind == "number":
        if column.name == "baseline_value" and fold(text) in FROM_DATA:
            return None
        value = _number(text)
        if column.name == "amount_sek" and value < 0:
            raise CellError("out_of_range", f"beloppet {text} är negativt")
        return value
    parsers: dict[str, Callable[[str], object]] = {
        "text": lambda t: t,
        "kommun": lambda t: _kommun(t, known),
        "date": _date,
        "year": _year,
        "score": _score,
        "choice": lambda t: _choice(t, column),
        "choices": lambda t: _choices(t, column),
        "indicator": lambda t: _indicator(t, known),
    }
    return parsers[kind](text)


# --- one file -------------------------------------------------------------------------------

def _locate(table: RawTable, layout: Layout) -> tuple[dict[str, str], pl.DataFrame]:
    """Layout column name → the file's column; problems for missing required headers."""
    by_fold = {fold(c): c for c in table.frame.columns if c != "_row"}
    found, missing = {}, []
    for column in layout.columns:
        if column.kind == "private":
            continue
        hit = next((by_fold[fold(h)] for h in (column.header, *column.aliases) if fold(h) in by_fold), None)
        if hit is not None:
            found[column.name] = hit
        elif column.required:
            missing.append(problem(
                table.file, "missing_column",
                f"kolumnen {column.header!r} saknas i rubrikraden (rubrikerna ska vara: "
                f"{', '.join(layout.headers)}; se mallen från make templates)",
                row=table.first_row - 1, column=column.header))
    return found, combine(missing)


def _parse_column(table: RawTable, column: Column, source: str | None,
                  known: Known) -> tuple[pl.Series, pl.DataFrame]:
    dtype = POLARS_TYPES[column.kind]
    if source is None:
        return pl.Series(column.name, [None] * table.frame.height, dtype=dtype), combine([])
    cells = table.frame.get_column(source).str.strip_chars()
    cells = cells.replace("", None)
    values: dict[str, object] = {}
    errors: dict[str, CellError] = {}
    for text in cells.drop_nulls().unique().to_list():
        try:
            values[text] = parse_cell(text, column, known)
        except CellError as err:
            errors[text] = err
    parsed = pl.Series(column.name, [values.get(t) if t is not None else None for t in cells.to_list()],
                       dtype=dtype)
    rows = table.frame.get_column("_row").to_list()
    found = []
    for row, text in zip(rows, cells.to_list(), strict=True):
        if text is None and column.required:
            found.append(problem(table.file, "missing_value",
                                 f"värde saknas; kolumnen {column.header} ska fyllas i",
                                 row=row, column=column.header))
        elif text in errors:
            err = errors[text]
            found.append(problem(table.file, err.kind, str(err), row=row, column=column.header))
    return parsed, combine(found)


def parse_register(table: RawTable, layout: Layout, known: Known) -> Parsed:
    """The file's rows typed by the layout, plus every problem found."""
    found, missing = _locate(table, layout)
    if missing.height:
        return Parsed(empty_register(layout), missing)
    series, problems = [], []
    for column in layout.columns:
        if column.kind == "private":
            continue
        values, bad = _parse_column(table, column, found.get(column.name), known)
        series.append(values)
        problems.append(bad)
    frame = pl.DataFrame(series).with_columns(
        source_file=pl.lit(table.file), source_row=table.frame.get_column("_row").cast(pl.Int32))
    frame = frame.pipe(DERIVED.get(layout.name, lambda f: f))
    problems.append(RULES[layout.name](frame, layout, table.file))
    return Parsed(frame, combine(problems))


def empty_register(layout: Layout) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES[c.kind] for c in layout.columns if c.kind != "private"}
    frame = pl.DataFrame(schema={**schema, "source_file": pl.String, "source_row": pl.Int32})
    return frame.pipe(DERIVED.get(layout.name, lambda f: f))


# --- derived columns ------------------------------------------------------------------------

def _short_hash(*parts: object) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:8]


def _breakdown(text: str | None) -> str:
    folded = re.sub(r"[\s.]", "", fold(text or ""))
    return "all" if folded in ("", "alla", "all", "totalt") else folded


def _goal_ids(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(
        sex=pl.col("sex").fill_null("T"),
        breakdown=pl.col("breakdown").map_elements(_breakdown, return_dtype=pl.String,
                                                   skip_nulls=False))
    derived = [gid or f"{area}-{_short_hash(plan, text, ind, sex, br)}"
               for gid, area, plan, text, ind, sex, br in frame.select(
                   "goal_id", "area_code", "plan", "goal_text", "indicator_id", "sex",
                   "breakdown").iter_rows()]
    return frame.with_columns(goal_id=pl.Series(derived, dtype=pl.String))


def _assessment_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """kommun-date, with a short hash of the issue when one day has several issues."""
    issue_key = pl.col("issue").map_elements(lambda t: fold(t or ""), return_dtype=pl.String,
                                             skip_nulls=False)
    frame = frame.with_columns(issue_key=issue_key)
    several = pl.col("issue_key").n_unique().over("area_code", "assessed_on") > 1
    base = pl.concat_str(pl.col("area_code"), pl.lit("-"), pl.col("assessed_on").cast(pl.String))
    hashed = pl.col("issue_key").map_elements(lambda t: _short_hash(t)[:4], return_dtype=pl.String,
                                              skip_nulls=False)
    return frame.with_columns(
        assessment_id=pl.when(several).then(pl.concat_str(base, pl.lit("-"), hashed)).otherwise(base)
    ).drop("issue_key")


DERIVED: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "mal": _goal_ids,
    "beredskap": _assessment_ids,
}


# --- row rules ------------------------------------------------------------------------------

def rule_problems(frame: pl.DataFrame, bad: pl.Expr, file: str, column: str, kind: str,
                  message: pl.Expr) -> pl.DataFrame:
    """A problem for each row where `bad` holds (null counts as fine)."""
    hits = frame.filter(bad.fill_null(False)).select(
        file=pl.lit(file), row=pl.col("source_row").cast(pl.Int64), column=pl.lit(column),
        kind=pl.lit(kind), message=message, n=pl.lit(1))
    return hits.cast(SCHEMA)  # type: ignore[arg-type]


KEYS: dict[str, tuple[str, ...]] = {
    "beredskap": ("area_code", "assessed_on", "issue", "interview_id"),
    "mal": ("goal_id",),
    "ansokningar": ("call_id", "area_code"),
}
KEY_COLUMN = {"beredskap": "Intervju", "mal": "Mål-id", "ansokningar": "Kommunkod"}


def duplicate_problems(frame: pl.DataFrame, layout: Layout, file: str,
                       seen: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rows whose key repeats an earlier row of the file, or a row of an earlier file."""
    keys = KEYS.get(layout.name)
    if not keys or frame.height == 0:
        return combine([])
    earlier = pl.lit(False)
    if seen is not None and seen.height:
        marked = seen.select(*keys).unique().with_columns(_seen=pl.lit(True))
        frame = frame.join(marked, on=list(keys), how="left", nulls_equal=False, maintain_order="left")
        earlier = pl.col("_seen").fill_null(False)
    repeated = pl.int_range(pl.len()).over(list(keys)) > 0
    complete = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
    where = "i en tidigare fil" if seen is not None else "tidigare i filen"
    return rule_problems(
        frame, complete & (repeated | earlier), file, KEY_COLUMN[layout.name], "duplicate_row",
        pl.lit(f"raden har samma {' + '.join(layout.column(k).header for k in keys)} som en rad "
               f"{where}"))


def _stod_rules(frame: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    return combine([
        rule_problems(frame, pl.col("end") < pl.col("start"), file, "Slutdatum", "date_order",
                      pl.format("slutdatum {} är före startdatum {}", pl.col("end"), pl.col("start"))),
        rule_problems(frame, pl.col("factor").is_null() & pl.col("star").is_null(), file,
                      "Strategisk faktor", "missing_value",
                      pl.lit("ange strategisk faktor eller punkt i Preventionsstjärnan (eller båda)")),
    ])


def _beredskap_rules(frame: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    scores = [c.name for c in layout.columns if c.kind == "score"]
    return combine([
        rule_problems(frame, pl.all_horizontal([pl.col(s).is_null() for s in scores]), file,
                      "A konsensus", "missing_value",
                      pl.lit("raden har inga poäng alls; fyll i poängen eller ta bort intervjun")),
        duplicate_problems(frame, layout, file),
    ])


def _mal_rules(frame: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    wrong_way = (((pl.col("direction") == "increase") & (pl.col("target_value") < pl.col("baseline_value")))
                 | ((pl.col("direction") == "decrease") & (pl.col("target_value") > pl.col("baseline_value"))))
    return combine([
        rule_problems(frame, pl.col("target_year") < pl.col("baseline_year"), file, "Målår",
                      "date_order", pl.format("målåret {} är före basåret {}", pl.col("target_year"),
                                              pl.col("baseline_year"))),
        rule_problems(frame, wrong_way, file, "Målvärde", "inconsistent",
                      pl.format("målvärdet {} går inte åt riktningen '{}' från basvärdet {}",
                                pl.col("target_value"),
                                pl.col("direction").replace_strict({"increase": "öka", "decrease": "minska"}),
                                pl.col("baseline_value"))),
        duplicate_problems(frame, layout, file),
    ])


def _ansokningar_rules(frame: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    checks = []
    for name in ("factors", "support_kind", "call_title"):
        first = pl.col(name).first().over("call_id", order_by="source_row")
        header = layout.column(name).header
        checks.append(rule_problems(
            frame, pl.col(name).ne_missing(first), file, header, "inconsistent",
            pl.format("utlysningen {} har en annan uppgift i kolumnen {} på en tidigare rad ({})",
                      pl.col("call_id"), pl.lit(header), first.fill_null("tomt"))))
    return combine([*checks, duplicate_problems(frame, layout, file)])


RULES: dict[str, Callable[[pl.DataFrame, Layout, str], pl.DataFrame]] = {
    "stod": _stod_rules,
    "beredskap": _beredskap_rules,
    "mal": _mal_rules,
    "ansokningar": _ansokningar_rules,
}


def as_table(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    """The register as stored: readiness scores long (one row per interview and dimension),
    the others as read; sorted by file and row."""
    frame = frame.sort("source_file", "source_row")
    if layout.name != "beredskap":
        return frame
    ids = ["area_code", "assessment_id", "assessed_on", "issue", "interview_id", "sector",
           "source_file", "source_row"]
    parts = [frame.select(*ids, dimension=pl.lit(d),
                          scorer_1=f"{d.lower()}_scorer_1", scorer_2=f"{d.lower()}_scorer_2",
                          consensus=f"{d.lower()}_consensus")
             for d in DIMENSION_CODES]
    return pl.concat(parts).sort("source_file", "source_row", "dimension")
