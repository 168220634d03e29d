"""Apply a codebook to a file's cells: typed respondent rows, or problems naming each cell.

The checked frame has one row per respondent: `respondent_id`, `kommun` (four-digit SCB
code), `year`, `grade` (codebook grade code, null when missing), `sex` (K, M or null when
missing), `weight` (1.0 when the codebook has no weight column), one Float64 column per
scale item (null when missing), and `_row`, the file row for messages.

Every check is a vectorised polars expression: a pass counts a check's problems and only the
first rows are kept as examples (problems.EXAMPLES), so a file with a bad cell in every row
costs about as much as a clean one. Messages show the value only of the design columns
(kommun, grade, year, weight); never a respondent id, the sex or an answer.

SPSS value labels are the truth where they exist: a code is read by its label when the
codebook knows the label, and a file whose code and label disagree with the codebook (code
1 labelled "Flicka" where the codebook says 1 is a boy) is refused, with both shown.
Kommun may be given as an SCB code or a name (through the geography; a name that fits two
kommuner once å, ä, ö are dropped is refused); `municipality.map` adds other spellings.
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sources.tabular.problems import EXAMPLES, combine, empty_problems, problem, sizes
from sources.tabular.readers import RawTable
from transforms.survey_codebook import Codebook, code_text

# A 77 MB file (300,000 rows × 126 columns) with a problem in every row peaks at 1.35 GB
# (scripts/benchmark_surveys.py); 100 MB keeps any file under the limit within 2 GB.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
ROLE_NAMES = {"respondent_id": "svars-id", "municipality": "kommun", "grade": "årskurs",
              "sex": "kön", "year": "år", "weight": "vikt"}
SEX_NAMES = {"K": "flicka (K)", "M": "pojke (M)"}
MISSING = "\x00missing"


@dataclass(frozen=True)
class Checked:
    frame: pl.DataFrame
    problems: pl.DataFrame


def size_problem(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> pl.DataFrame | None:
    """A file above the limit is refused before a byte of it is read."""
    size = path.stat().st_size
    if size <= max_bytes:
        return None
    shown, limit = sizes(size, max_bytes)
    return problem(path.name, "too_large",
                   f"filen är {shown} men gränsen är {limit}; dela upp den (t.ex. per kommun eller "
                   "årskurs) eller höj gränsen (UPPVAXT_SURVEY_MAX_MB)")


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
        # "NaN", "inf" parse as floats; in a delivered file they are no answer.
        number = _text(frame, column).str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number)
    return pl.col(column).cast(pl.Float64, strict=False).fill_nan(None)


# Texts that tools write for "no value". A file that uses one the codebook does not declare
# is told so by name (they are no answers, so they may be shown), with where to declare it.
MISSING_TOKENS = ("na", "n/a", "nan", ".", "-", "#n/a", "null", "#null!", "none", "saknas", "missing")


def _token(text: pl.Expr, declared: list[str] | tuple[str, ...] = ()) -> pl.Expr:
    """Whether a cell's text is a missing-value token the codebook does not declare."""
    return text.str.to_lowercase().is_in(MISSING_TOKENS) & ~text.is_in(list(declared))


def _token_message(what: str, book: Codebook, declare: str, codes: list | tuple) -> Callable[[pl.Expr], pl.Expr]:
    """'NA' används i filen för ett saknat värde … (`declare`: where the codebook says it,
    `codes`: what it says now)."""
    now = ", ".join(c if _is_number(c) else f'"{c}"' for c in map(code_text, codes))
    return lambda v: pl.format(
        f"{what + ': ' if what else ''}{{}} används i filen för ett saknat värde men kodboken "
        f"{book.id} har det inte bland bortfallskoderna; lägg till det i kodboken ({declare}: "
        f"[{now + ', ' if now else ''}\"{{}}\"]) eller be leverantören lämna cellen tom",
        pl.format("'{}'", v), v)


Message = str | Callable[[pl.Expr], pl.Expr]


def found(frame: pl.DataFrame | pl.LazyFrame, file: str, column: str, kind: str, bad: pl.Expr,
          message: Message, shown: pl.Expr | None = None) -> pl.DataFrame:
    """The rows where `bad` holds: counted all, the first EXAMPLES kept as examples.

    `message` is text, or a function of the shown value (design columns only) that gives
    the message; messages are built on the few example rows, after collecting.
    """
    mask = bad.fill_null(False)
    total = frame.lazy().select(mask.sum()).collect().item()
    if not total:
        return empty_problems()
    columns = [pl.col("_row").alias("row")] + ([shown.alias("value")] if shown is not None else [])
    examples = frame.lazy().filter(mask).select(columns).head(EXAMPLES).collect().sort("row")
    text = pl.lit(message) if isinstance(message, str) else message(pl.col("value"))
    out = examples.select(file=pl.lit(file), row="row", column=pl.lit(column), kind=pl.lit(kind),
                          message=text, n=pl.lit(1, pl.Int64))
    rest = total - examples.height
    if rest:
        out = pl.concat([out, problem(file, kind, f"… och {rest} rader till med samma problem i "
                                      f"kolumnen (de första {examples.height} visas)",
                                      column=column, n=rest)])
    return out


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
    present = set(table.header or table.frame.columns) - {"_row"}
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


def _distinct(frame: pl.DataFrame, text: pl.Expr) -> list[str]:
    return frame.lazy().select(text.alias("v")).drop_nulls().unique().collect()["v"].to_list()


def _category(table: RawTable, column: str, mapping: dict[str, str], missing: list,
              what: str, book: Codebook, names: dict[str, str],
              sensitive: bool) -> tuple[pl.Expr, pl.DataFrame]:
    """Map a coded column to codebook codes, each distinct value decided once.

    With SPSS value labels, a value's label decides when the codebook knows it; a label
    the codebook gives another meaning than the code's is a conflict, reported for the
    column (it is the file's dictionary that is wrong, not a row)."""
    frame = table.frame
    text = _text(frame, column)
    missing_texts = {code_text(m) for m in missing}
    labels = table.value_labels.get(column, {})

    def meaning(value: str | None) -> str | None:
        if value is None:
            return None
        if value in missing_texts:
            return MISSING
        return mapping.get(value)

    def name(meant: str) -> str:
        return "bortfall" if meant == MISSING else names.get(meant, meant)

    resolved: dict[str, str] = {}
    conflicts, conflicted = [], []
    for value in sorted(_distinct(frame, text)):
        by_code, label = meaning(value), labels.get(value)
        by_label = meaning(label)
        if by_label is not None and by_code is not None and by_label != by_code:
            conflicts.append(problem(
                table.file, "label_conflict",
                f"{what} {value} har etiketten '{label}' i filen, vilket i kodboken {book.id} är "
                f"{name(by_label)}, men kodboken säger att {what} {value} är {name(by_code)}; "
                "filens koder och etiketter stämmer inte med kodboken – rätta filen eller kodboken",
                column=column))
            conflicted.append(value)
            continue
        meant = by_label if by_label is not None else by_code
        if meant is not None:
            resolved[value] = meant
    allowed = ", ".join(sorted(mapping)) + (f"; bortfall {', '.join(sorted(missing_texts))}"
                                            if missing_texts else "")
    known = text.is_in(sorted(resolved) + conflicted)
    if sensitive:
        message: Message = f"{what} finns inte i kodboken {book.id} (tillåtna: {allowed})"
        shown = None
    else:
        message = lambda v: pl.format(f"{what} {{}} finns inte i kodboken {book.id} (tillåtna: {allowed})", v)
        shown = text
    # A missing-value token the codebook lacks is named (it is no answer, even for sex).
    token = _token(text, sorted(missing_texts))
    declare = {"årskurskoden": "grade_missing", "könskoden": "sex: missing"}.get(what, "missing")
    unknown = combine([
        found(frame, table.file, column, "unknown_code", text.is_not_null() & ~known & ~token, message, shown),
        found(frame, table.file, column, "unknown_code", token & ~known,
              _token_message(what, book, declare, missing), text)])
    codes = {v: m for v, m in resolved.items() if m != MISSING}
    mapped = text.replace_strict(codes, default=None, return_dtype=pl.String)
    return mapped, combine([*conflicts, unknown])


def _normal(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").split())


def _spellings(value: str) -> list[str]:
    """A name as given, and without " kommun" ("Bollnäs kommun") or "s kommun"
    ("Linköpings kommun")."""
    text = _normal(value)
    return [text] + [text.removesuffix(suffix) for suffix in (" kommun", "s kommun")
                     if text.endswith(suffix)]


def _bare(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", _normal(name)) if not unicodedata.combining(c))


def kommun_lookup(names: Mapping[str, str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(exact normalised name → code, name without diacritics → codes) for the geography."""
    exact = {_normal(n): c for c, n in names.items()}
    bare: dict[str, list[str]] = {}
    for c, n in sorted(names.items()):
        bare.setdefault(_bare(n), []).append(c)
    return exact, bare


def _kommun(table: RawTable, book: Codebook, kommuner: Mapping[str, str]) -> tuple[pl.Expr, pl.DataFrame]:
    column = book.columns.municipality
    text = _text(table.frame, column)
    exact, bare = kommun_lookup(kommuner)
    local = {code_text(k): code_text(v).zfill(4) for k, v in book.municipality.map.items()}
    resolved: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for value in _distinct(table.frame, text):
        if value in local:
            resolved[value] = local[value]
            continue
        if value.isdigit() and len(value) <= 4:
            resolved[value] = value.zfill(4)
            continue
        for name in _spellings(value):
            codes = bare.get(_bare(name), [])
            if name in exact and (len(codes) <= 1 or not name.isascii()):
                # "Habo" without å, ä, ö may be a Håbo that lost its ring: ambiguous below.
                resolved[value] = exact[name]
            elif len(codes) == 1:
                resolved[value] = codes[0]
            elif len(codes) > 1:
                ambiguous[value] = codes
            else:
                continue
            break
    code = text.replace_strict(resolved, default=None, return_dtype=pl.String)
    valid = code.is_in(sorted(kommuner)).fill_null(False)
    frames = [
        found(table.frame, table.file, column, "impossible_value", text.is_null(),
              "kommun saknas; varje svar måste höra till en kommun"),
        found(table.frame, table.file, column, "unknown_code",
              text.is_not_null() & ~valid & ~text.is_in(sorted(ambiguous)),
              lambda v: pl.format("kommunen {} finns inte bland SCB:s 290 kommuner (kod eller namn)", v),
              shown=text),
    ]
    for value, codes in sorted(ambiguous.items()):
        options = " eller ".join(f"{kommuner[c]} ({c})" for c in codes)
        frames.append(found(table.frame, table.file, column, "unknown_code", text == value,
                            f"kommunnamnet {value!r} kan vara {options}; skriv kommunkoden eller "
                            "lägg namnet i kodbokens municipality.map"))
    return code, combine(frames)


def _bounded(table: RawTable, column: str, what: str, low: float, high: float,
             integer: bool) -> tuple[pl.Expr, pl.DataFrame]:
    text, value = _text(table.frame, column), _number(table.frame, column)
    ok = value.is_between(low, high) & ((value == value.round()) if integer else pl.lit(True))
    span = f"{low:g}–{high:g}".replace(".", ",")
    rule = f"ska vara {'ett heltal ' if integer else ''}{span}"
    token = _token(text)
    bad = combine([
        found(table.frame, table.file, column, "impossible_value", text.is_null(), f"{what} saknas (tom cell)"),
        found(table.frame, table.file, column, "impossible_value", token,
              lambda v: pl.format(f"{what} saknas ({{}} används i filen för ett saknat värde); varje "
                                  f"svarsrad behöver ett värde ({rule})", pl.format("'{}'", v)), shown=text),
        found(table.frame, table.file, column, "impossible_value",
              text.is_not_null() & ~token & ~ok.fill_null(False),
              lambda v: pl.format(f"{what} {{}} är omöjligt ({rule})", v), shown=text),
    ])
    return value, bad


def _duplicates(table: RawTable, column: str) -> tuple[pl.Expr, pl.DataFrame]:
    text = _text(table.frame, column)
    # The first row of each id is worked out before filtering, so messages can point to it.
    marked = table.frame.lazy().with_columns(_first=pl.col("_row").min().over(text))
    first = pl.col("_first")
    frames = [
        found(table.frame, table.file, column, "impossible_value", text.is_null(), "svars-id saknas"),
        found(marked, table.file, column, "duplicate_id",
              text.is_not_null() & (pl.col("_row") != first),
              lambda v: pl.format("svars-id:t förekommer också på rad {}", v), shown=first),
    ]
    return text, combine(frames)


UNPARSED = "\x00unparsed"
TOKEN = "\x00token"


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
            token = _token(text, text_missing)
            exprs.append((text.is_not_null() & number.is_null() & ~text.is_in(text_missing) & ~token)
                         .alias(name + UNPARSED))
            exprs.append(pl.when(token).then(text).alias(name + TOKEN))
    return table.frame.lazy().select("_row", *exprs).collect()


def _item(parsed: pl.DataFrame, book: Codebook, name: str) -> tuple[pl.Expr, list]:
    """The clean item expression and (mask on `parsed`, kind, message) per check.

    Answers are never shown: the messages say what the column allows."""
    spec = book.item(name)
    value = pl.col(name)
    numeric_missing = [float(m) for m in spec.missing if _is_number(m)]
    is_missing = value.is_null() | value.is_in(numeric_missing)
    integral = value == value.round()
    in_range = value.is_between(spec.low, spec.high)
    unparsed = pl.col(name + UNPARSED) if name + UNPARSED in parsed.columns else pl.lit(False)
    token = pl.col(name + TOKEN) if name + TOKEN in parsed.columns else pl.lit(None, pl.String)
    missing_note = f", bortfall {', '.join(spec.missing)}" if spec.missing else ""
    declare = f"under items: {name}: missing, eller item_defaults: missing för alla frågor"
    checks = [
        (unparsed, "impossible_value", f"värdet är inget tal (giltiga {spec.low}–{spec.high}{missing_note})", None),
        (token.is_not_null(), "unknown_code", _token_message("", book, declare, spec.missing), token),
        (~is_missing & ~integral, "impossible_value",
         f"värdet är omöjligt: svaren är heltal {spec.low}–{spec.high}", None),
        (~is_missing & integral & ~in_range, "unknown_code",
         f"koden finns inte i kodboken {book.id} (giltiga {spec.low}–{spec.high}{missing_note})", None),
    ]
    clean = pl.when(~is_missing & integral & in_range).then(value)
    return clean.alias(name), [(mask.fill_null(False), kind, msg, shown) for mask, kind, msg, shown in checks]


def _is_number(text: str) -> bool:
    """A finite number ("NaN" and "inf" are texts here, as they are in a delivered file)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _item_problems(parsed: pl.DataFrame, file: str, checks: dict[str, list]) -> pl.DataFrame:
    # One pass over the parsed numbers counts every item's problems; only items with
    # problems are passed again for their first rows.
    counts = parsed.lazy().select(
        [mask.sum().alias(f"{name}\x00{i}") for name, checks_ in checks.items()
         for i, (mask, _, _, _) in enumerate(checks_)]).collect().row(0, named=True)
    frames = []
    for key, n in counts.items():
        if not n:
            continue
        name, i = key.split("\x00")
        mask, kind, message, shown = checks[name][int(i)]
        frames.append(found(parsed, file, name, kind, mask, message, shown))
    return combine(frames)


def apply_codebook(table: RawTable, book: Codebook,
                   kommuner: Mapping[str, str] | set[str] | frozenset[str]) -> Checked:
    """Typed respondent rows and every problem of the file against the codebook.

    `kommuner` maps SCB kommun code → name (a bare set of codes accepts codes only)."""
    if not isinstance(kommuner, Mapping):
        kommuner = {c: c for c in kommuner}
    absent = missing_columns(table, book)
    if absent.height:
        return Checked(pl.DataFrame(), absent)
    cols = book.columns
    rid, id_problems = _duplicates(table, cols.respondent_id)
    kommun, kommun_problems = _kommun(table, book, kommuner)
    grade_names = {g: spec.label for g, spec in book.grades.items()}
    grade, grade_problems = _category(table, cols.grade, book.grade_codes, book.grade_missing,
                                      "årskurskoden", book, grade_names, sensitive=False)
    sex, sex_problems = _category(table, cols.sex, book.sex_codes, book.sex.missing,
                                  "könskoden", book, SEX_NAMES, sensitive=True)
    year, year_problems = _bounded(table, cols.year, "året", *book.year_range, integer=True)
    frames = [id_problems, kommun_problems, grade_problems, sex_problems, year_problems]
    weight = pl.lit(1.0)
    if cols.weight:
        weight, weight_problems = _bounded(table, cols.weight, "vikten", *book.weight_range,
                                           integer=False)
        frames.append(weight_problems)
    parsed = parse_items(table, book)
    items = {name: _item(parsed, book, name) for name in book.scale_items}
    frames.append(_item_problems(parsed, table.file, {name: checks for name, (_, checks) in items.items()}))
    problems = combine(frames)
    if problems.height:
        return Checked(pl.DataFrame(), problems)
    people = table.frame.lazy().select(
        respondent_id=rid, kommun=kommun, year=year.cast(pl.Int32), grade=grade, sex=sex,
        weight=weight.cast(pl.Float64)).collect()
    frame = pl.concat([people, parsed.select(*[expr for expr, _ in items.values()], "_row")],
                      how="horizontal")
    return Checked(frame, problems)
