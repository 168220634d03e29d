"""Turn a register file's cells into typed rows, or problems naming file, row and column.

The reader (`sources/tabular/readers.py`) gives every cell as text with its file row. Here
each layout column is found by its Swedish header (or an alias; case and å/ä/ö do not
matter), each cell is parsed by its kind, and each register's row rules are applied: end
before start, a goal year before its baseline, a call whose details differ between rows,
an interview scored by its scorers but without a consensus, an assessment with two issues,
rows with the same key but different content. Rows that are exact copies of an earlier row
are not errors: they are reported as warnings and counted once. Registers are small
(hundreds of rows), so cells are parsed once per distinct text in Python, where a message
can say exactly what is wrong.

Warnings (a file is still accepted): exact duplicates, and a readiness file in the layout
before assessment ids (its interviews are then grouped by kommun, date and issue, as
before, and the warning says how to add the column).

Personal data (contact person, e-mail) are never read: the typed frame has no such
columns and no message repeats such a cell.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
                "year": pl.Int32, "count": pl.Int32, "score": pl.Float64, "choice": pl.String,
                "choices": pl.String, "indicator": pl.String}
# Columns a register derives itself, or keeps as written beside the derived value: they do
# not make two rows different.
NOT_CONTENT = ("source_file", "source_row", "actor_written")


@dataclass(frozen=True)
class Known:
    """What a register's codes are checked against."""

    kommun_codes: frozenset[str]
    kommun_names: dict[str, str]  # folded name → code
    indicator_ids: frozenset[str]
    actors: dict[str, str] = field(default_factory=dict)  # folded alias → the actor's name
    names: dict[str, str] = field(default_factory=dict)   # kommun code → name

    @classmethod
    def of(cls, kommuner: pl.DataFrame, indicator_ids: list[str],
           actors: dict[str, str] | None = None) -> Known:
        pairs = list(kommuner.select("kommun_code", "kommun_name").iter_rows())
        return cls(frozenset(c for c, _ in pairs), {fold(n): c for c, n in pairs},
                   frozenset(indicator_ids), dict(actors or {}), dict(pairs))

    def kommun_name(self, code: str) -> str:
        return f"{self.names[code]} ({code})" if code in self.names else code


@dataclass(frozen=True)
class Parsed:
    frame: pl.DataFrame      # typed layout columns + source_file, source_row
    problems: pl.DataFrame
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SCHEMA))


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


def _count(text: str) -> int:
    value = _number(text)
    if value != int(value) or value < 1:
        raise CellError("bad_value", f"{text!r} är inget heltal från 1 och uppåt")
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
        "count": _count,
        "score": _score,
        "choice": lambda t: _choice(t, column),
        "choices": lambda t: _choices(t, column),
        "indicator": lambda t: _indicator(t, known),
    }
    return parsers[kind](text)


# --- one file -------------------------------------------------------------------------------

# Required columns a file may lack because it was made before they existed: the register
# derives them (as it did then) and warns. Column name → the warning's text.
OLDER_LAYOUT = {
    ("beredskap", "assessment_id"): (
        "filen har den äldre layouten utan kolumnen Bedömning; intervjuerna har grupperats "
        "efter kommun, datum och fråga, så intervjuer med olika datum blir olika bedömningar. "
        "Lägg till kolumnen Bedömning (se mallen från make templates) och ge alla intervjuer "
        "i samma bedömning samma id"),
}


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
        elif column.required and (layout.name, column.name) not in OLDER_LAYOUT:
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
    """The file's rows typed by the layout, plus every problem and warning found."""
    found, missing = _locate(table, layout)
    if missing.height:
        return Parsed(empty_register(layout), missing)
    older = [(name, text) for (register, name), text in OLDER_LAYOUT.items()
             if register == layout.name and name not in found]
    series, problems = [], []
    for column in layout.columns:
        if column.kind == "private":
            continue
        values, bad = _parse_column(table, column, found.get(column.name), known)
        series.append(values)
        problems.append(bad)
    frame = pl.DataFrame(series).with_columns(
        source_file=pl.lit(table.file), source_row=table.frame.get_column("_row").cast(pl.Int32))
    frame = DERIVED.get(layout.name, _as_is)(frame, known)
    problems.append(RULES[layout.name](frame, layout, table.file))
    copies = exact_copies(frame)
    warnings = [problem(table.file, "old_layout", text, row=table.first_row - 1,
                        column=layout.column(name).header) for name, text in older]
    first = pl.col("source_row").min().over(content_columns(frame))
    warnings.append(rule_problems(frame.with_columns(_first=first).filter(copies), pl.lit(True), table.file,
                                  None, "exact_duplicate",
                                  pl.format("raden är en exakt kopia av rad {}; den räknas en gång",
                                            pl.col("_first"))))
    return Parsed(frame.filter(~copies), combine(problems), combine(warnings))


def _as_is(frame: pl.DataFrame, known: Known) -> pl.DataFrame:
    return frame


def content_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in NOT_CONTENT]


def exact_copies(frame: pl.DataFrame) -> pl.Series:
    """True for each row that repeats an earlier row's content exactly."""
    if frame.height == 0:
        return pl.Series([], dtype=pl.Boolean)
    return frame.select(pl.int_range(pl.len()).over(content_columns(frame)) > 0).to_series()


def empty_register(layout: Layout) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES[c.kind] for c in layout.columns if c.kind != "private"}
    frame = pl.DataFrame(schema={**schema, "source_file": pl.String, "source_row": pl.Int32})
    return DERIVED.get(layout.name, _as_is)(frame, Known(frozenset(), {}, frozenset()))


# --- derived columns ------------------------------------------------------------------------

def _short_hash(*parts: object) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:8]


def _breakdown(text: str | None) -> str:
    folded = re.sub(r"[\s.]", "", fold(text or ""))
    return "all" if folded in ("", "alla", "all", "totalt") else folded


def _goal_ids(frame: pl.DataFrame, known: Known) -> pl.DataFrame:
    frame = frame.with_columns(
        sex=pl.col("sex").fill_null("T"),
        breakdown=pl.col("breakdown").map_elements(_breakdown, return_dtype=pl.String,
                                                   skip_nulls=False))
    derived = [gid or f"{area}-{_short_hash(plan, text, ind, sex, br)}"
               for gid, area, plan, text, ind, sex, br in frame.select(
                   "goal_id", "area_code", "plan", "goal_text", "indicator_id", "sex",
                   "breakdown").iter_rows()]
    return frame.with_columns(goal_id=pl.Series(derived, dtype=pl.String))


def _assessment_ids(frame: pl.DataFrame, known: Known) -> pl.DataFrame:
    """Without an assessment id (the older layout): kommun-date, with a short hash of the
    issue when one day has several issues."""
    issue_key = pl.col("issue").map_elements(lambda t: fold(t or ""), return_dtype=pl.String,
                                             skip_nulls=False)
    frame = frame.with_columns(issue_key=issue_key)
    several = pl.col("issue_key").n_unique().over("area_code", "assessed_on") > 1
    base = pl.concat_str(pl.col("area_code"), pl.lit("-"), pl.col("assessed_on").cast(pl.String))
    hashed = pl.col("issue_key").map_elements(lambda t: _short_hash(t)[:4], return_dtype=pl.String,
                                              skip_nulls=False)
    derived = pl.when(several).then(pl.concat_str(base, pl.lit("-"), hashed)).otherwise(base)
    return frame.with_columns(assessment_id=pl.coalesce("assessment_id", derived)).drop("issue_key")


def _actors(frame: pl.DataFrame, known: Known) -> pl.DataFrame:
    """The actor's name through the alias list (data/catalog/actors.yaml); as written beside."""
    named = [known.actors.get(fold(a), a) if a is not None else None for a in frame["actor"].to_list()]
    return frame.with_columns(actor_written=pl.col("actor"),
                              actor=pl.Series(named, dtype=pl.String))


DERIVED: dict[str, Callable[[pl.DataFrame, Known], pl.DataFrame]] = {
    "mal": _goal_ids,
    "beredskap": _assessment_ids,
    "stod": _actors,
}


# --- row rules ------------------------------------------------------------------------------

def rule_problems(frame: pl.DataFrame, bad: pl.Expr, file: str, column: str | None, kind: str,
                  message: pl.Expr) -> pl.DataFrame:
    """A problem for each row where `bad` holds (null counts as fine)."""
    hits = frame.filter(bad.fill_null(False)).select(
        file=pl.lit(file), row=pl.col("source_row").cast(pl.Int64), column=pl.lit(column),
        kind=pl.lit(kind), message=message, n=pl.lit(1))
    return hits.cast(SCHEMA)  # type: ignore[arg-type]


KEYS: dict[str, tuple[str, ...]] = {
    "beredskap": ("area_code", "assessment_id", "interview_id"),
    "mal": ("goal_id",),
    "ansokningar": ("call_id", "area_code"),
}
KEY_COLUMN = {"beredskap": "Intervju", "mal": "Mål-id", "ansokningar": "Kommunkod"}


def duplicate_problems(frame: pl.DataFrame, layout: Layout, file: str) -> pl.DataFrame:
    """Rows whose key repeats an earlier row of the file with different content."""
    keys = KEYS.get(layout.name)
    if not keys or frame.height == 0:
        return combine([])
    frame = frame.filter(~exact_copies(frame)).with_columns(
        _first=pl.col("source_row").min().over(list(keys)))
    repeated = pl.int_range(pl.len()).over(list(keys)) > 0
    complete = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
    return rule_problems(
        frame, complete & repeated, file, KEY_COLUMN[layout.name], "duplicate_row",
        pl.format(f"raden har samma {' + '.join(layout.column(k).header for k in keys)} som rad {{}} "
                  "men annat innehåll", pl.col("_first")))


def conflicts(frame: pl.DataFrame, layout: Layout, file: str, seen: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Against rows that already count (earlier files): problems for rows whose key is taken
    with other content (naming the other file and row), and which rows are exact copies of
    a counted row (to be counted once)."""
    if frame.height == 0 or seen.height == 0:
        return combine([]), pl.Series([False] * frame.height, dtype=pl.Boolean)
    columns = content_columns(frame)
    marked = seen.select(columns).unique().with_columns(_copy=pl.lit(True))
    copy = (frame.select(columns).join(marked, on=columns, how="left", nulls_equal=True,
                                       maintain_order="left")["_copy"].fill_null(False))
    keys = KEYS.get(layout.name)
    if not keys:
        return combine([]), copy
    taken = (seen.sort("source_file", "source_row").unique(list(keys), keep="first", maintain_order=True)
             .select(*keys, _file="source_file", _row="source_row"))
    hit = frame.with_columns(_copy=copy).join(taken, on=list(keys), how="left", maintain_order="left")
    found = rule_problems(
        hit, pl.col("_file").is_not_null() & ~pl.col("_copy"), file, KEY_COLUMN[layout.name], "conflict",
        pl.format(f"{' + '.join(layout.column(k).header for k in keys)} finns redan med annat innehåll "
                  "i den godkända filen {} (rad {}); filen läggs åt sidan och den godkända filen "
                  "räknas. Ge raden ett eget id eller ändra i den godkända filen",
                  pl.col("_file"), pl.col("_row")))
    return found, copy


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
    blank = []
    for d in DIMENSION_CODES:
        one, two, agreed = (f"{d.lower()}_scorer_1", f"{d.lower()}_scorer_2", f"{d.lower()}_consensus")
        blank.append(rule_problems(
            frame, (pl.col(one).is_not_null() | pl.col(two).is_not_null()) & pl.col(agreed).is_null(),
            file, layout.column(agreed).header, "missing_value",
            pl.lit(f"bedömarna har gett poäng för dimension {d} men konsensuspoängen saknas; "
                   "fyll i den poäng bedömarna enats om")))
    issues = pl.col("issue").n_unique().over("area_code", "assessment_id")
    return combine([
        rule_problems(frame, pl.all_horizontal([pl.col(s).is_null() for s in scores]), file,
                      "A konsensus", "missing_value",
                      pl.lit("raden har inga poäng alls; fyll i poängen eller ta bort intervjun")),
        *blank,
        rule_problems(frame, issues > 1, file, "Frågan", "inconsistent",
                      pl.format("bedömningen {} har olika frågor på olika rader; en bedömning "
                                "gäller en fråga", pl.col("assessment_id"))),
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
    for name in ("factors", "support_kind", "call_title", "places", "frame", "issue",
                 "prevention_star", "support_year"):
        first = pl.col(name).first().over("call_id", order_by="source_row")
        header = layout.column(name).header
        checks.append(rule_problems(
            frame, pl.col(name).ne_missing(first), file, header, "inconsistent",
            pl.format("utlysningen {} har en annan uppgift i kolumnen {} på en tidigare rad ({})",
                      pl.col("call_id"), pl.lit(header), first.cast(pl.String).fill_null("tomt"))))
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
    ids = ["area_code", "assessment_id", "assessed_on", "issue", "prevention_star", "interview_id",
           "sector", "source_file", "source_row"]
    parts = [frame.select(*ids, dimension=pl.lit(d),
                          scorer_1=f"{d.lower()}_scorer_1", scorer_2=f"{d.lower()}_scorer_2",
                          consensus=f"{d.lower()}_consensus")
             for d in DIMENSION_CODES]
    return pl.concat(parts).sort("source_file", "source_row", "dimension")
