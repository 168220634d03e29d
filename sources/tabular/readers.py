"""Read a delivered table into polars: CSV, XLSX or SPSS .sav (survey extracts and local
registers alike).

CSV comes from many hands: comma or semicolon separated, UTF-8 (with or without BOM) or
Windows-1252/Latin-1, decimal commas. The reader works these out from the bytes and keeps
every cell as text (blank and padded cells are left to the caller's checks), so that the
check can name the exact cell that does not parse (polars' own number parsing stops at the
first bad cell and names no row). XLSX is read from the first sheet, also as text; with
`find_header` the header is looked for below title rows. SPSS files keep their numeric codes
(user-missing codes included: the codebook, not the file, decides what is missing) and
their value labels.

Structural problems (empty, wrong encoding, wrong delimiter, rows of the wrong width,
unreadable) are raised as UnreadableFile carrying problem rows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from transforms.survey_codebook import code_text
from sources.tabular.problems import combine, problem

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".sav": "sav", ".zsav": "sav"}
DELIMITERS = {";": "semikolon", ",": "komma"}
# Seen in files saved by other tools; recognised only to say what went wrong.
FOREIGN_DELIMITERS = {"\t": "tabb", "|": "lodstreck"}
MAX_ROW_PROBLEMS = 50
HEADER_SEARCH_ROWS = 20


class UnreadableFile(Exception):
    """The file cannot be read as a table; `problems` names file, row and column."""

    def __init__(self, problems: pl.DataFrame):
        self.problems = problems
        super().__init__("; ".join(problems["message"].to_list()[:3]))


@dataclass(frozen=True)
class RawTable:
    """A file's cells as read, before the codebook is applied.

    `frame` has the file's columns plus `_row`, the row number the file's reader sees
    (blank rows are dropped but keep their numbers).
    """

    file: str
    format: str
    frame: pl.DataFrame
    first_row: int  # the file's row number of frame row 0
    encoding: str | None = None
    delimiter: str | None = None
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def read_table(path: Path, expected_columns: list[str] | None = None, *,
               find_header: bool = False, row_noun: str = "svarsrader") -> RawTable:
    """Read any supported file; `expected_columns` helps choose the CSV delimiter and, with
    `find_header`, the XLSX header row below any title rows. `row_noun` names the data rows
    in the message for a file that has none."""
    fmt = file_format(path)
    if fmt is None:
        raise UnreadableFile(problem(path.name, "unreadable",
                                     f"filtypen {path.suffix or '(ingen)'} stöds inte; "
                                     "använd .csv, .xlsx eller .sav"))
    if path.stat().st_size == 0:
        raise UnreadableFile(problem(path.name, "empty", "filen är tom (0 byte)"))
    if fmt == "csv":
        table = read_csv(path, expected_columns)
    elif fmt == "xlsx":
        table = read_xlsx(path, expected_columns if find_header else None)
    else:
        table = read_sav(path)
    cells = list(table.frame.columns)
    frame = table.frame.with_columns(_row=pl.int_range(pl.len(), dtype=pl.Int64) + table.first_row)
    blank = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in cells])).to_series()
    if blank.any():  # filtering copies every column: only when there is a blank row
        frame = frame.filter(~blank)
    table = replace(table, frame=frame)
    if table.frame.height == 0:
        raise UnreadableFile(problem(path.name, "empty", f"filen har inga {row_noun}, bara rubriker",
                                     row=table.first_row))
    return table


# --- CSV ------------------------------------------------------------------------------------

def to_utf8(name: str, raw: bytes) -> tuple[bytes, str]:
    """The file's bytes as UTF-8 without a BOM, and the encoding it was saved in."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:65536]:
        # Already the header cannot be read: the whole file is in another encoding.
        raise UnreadableFile(problem(
            name, "encoding", "filen är sparad som UTF-16 eller innehåller nolltecken; spara "
            "den som CSV i UTF-8 eller Windows-1252", row=1))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        raw.decode("utf-8")  # a check only: polars reads the bytes themselves
        return raw, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError:
        # Latin-1 maps every byte; cp1252 leaves five undefined.
        return raw.decode("latin-1").encode("utf-8"), "latin-1"


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep, quotechar='"'))


def choose_delimiter(name: str, header: str, expected: list[str] | None) -> str:
    """The delimiter that best splits the header into the expected column names."""
    wanted = {c.strip() for c in (expected or [])}

    def score(sep: str) -> tuple[int, int]:
        cells = [c.strip() for c in _split(header, sep)]
        return (len(wanted & set(cells)), len(cells))

    best = max(DELIMITERS, key=score)
    foreign = max(FOREIGN_DELIMITERS, key=score)
    if score(foreign) > score(best) and score(foreign)[1] > 1:
        raise UnreadableFile(problem(
            name, "delimiter", f"filen är avgränsad med {FOREIGN_DELIMITERS[foreign]}; "
            "använd semikolon eller komma", row=1))
    if score(best)[1] < 2:
        raise UnreadableFile(problem(
            name, "delimiter", "rubrikraden går inte att dela upp i kolumner med semikolon "
            "eller komma (fel avgränsare?)", row=1, value=header[:80]))
    return best


def _width_problems(name: str, data: bytes, sep: str, header: list[str]) -> pl.DataFrame | None:
    """Rows whose number of fields differs from the header's (delimiter or quoting trouble).

    Separators are counted per line on the bytes, without a copy of the file as Python
    strings; only lines that look wrong or contain quotes are split properly.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(arr == ord("\n"))
    starts = np.concatenate([[0], ends + 1])
    ends = np.concatenate([ends, [len(arr)]])
    separators = np.flatnonzero(arr == ord(sep))
    quotes = np.flatnonzero(arr == ord('"'))
    counts = np.searchsorted(separators, ends) - np.searchsorted(separators, starts)
    quoted = (np.searchsorted(quotes, ends) - np.searchsorted(quotes, starts)) > 0
    blank = (ends - starts) <= 1  # empty, or a lone "\r"
    width = len(header)
    bad = []
    for i in np.flatnonzero(~blank & ((counts + 1 != width) | quoted)).tolist():
        fields = len(_split(data[starts[i]:ends[i]].decode("utf-8").rstrip("\r"), sep))
        if fields != width:
            bad.append((i + 1, fields))
            if len(bad) >= MAX_ROW_PROBLEMS:
                break
    if not bad:
        return None
    frames = []
    for row, fields in bad:
        column = header[fields] if fields < width else header[-1]
        where = "saknar värden från och med kolumnen" if fields < width else "har fler värden än rubriken efter"
        frames.append(problem(
            name, "delimiter", f"raden har {fields} fält men rubriken {width}: den {where} "
            f"{column} (fel avgränsare, citattecken eller radbrytning i ett fält?)",
            row=row, column=column))
    return combine(frames)


def read_csv(path: Path, expected_columns: list[str] | None = None) -> RawTable:
    data, encoding = to_utf8(path.name, path.read_bytes())
    header_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not header_line.strip():
        raise UnreadableFile(problem(path.name, "empty", "första raden är tom; den ska ha "
                                     "kolumnnamnen", row=1))
    sep = choose_delimiter(path.name, header_line, expected_columns)
    header = [c.strip() for c in _split(header_line, sep)]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise UnreadableFile(combine([
            problem(path.name, "unreadable", f"kolumnnamnet {c!r} förekommer flera gånger i "
                    "rubrikraden", row=1, column=c) for c in duplicated]))
    widths = _width_problems(path.name, data, sep, header)
    if widths is not None:
        raise UnreadableFile(widths)
    try:
        # Every cell as text: the codebook check parses numbers and names the bad cells.
        # polars keeps a blank line as an all-null row, so frame row i is file row i + 2.
        frame = pl.read_csv(io.BytesIO(data), separator=sep, infer_schema=False,
                            quote_char='"', new_columns=header)
    except pl.exceptions.PolarsError as err:
        raise UnreadableFile(problem(path.name, "unreadable",
                                     f"filen går inte att läsa som CSV: {err}".splitlines()[0]))
    return RawTable(path.name, "csv", frame, 2, encoding=encoding, delimiter=sep)


# --- XLSX -----------------------------------------------------------------------------------

def _excel(path: Path, **options) -> pl.DataFrame:
    try:
        return pl.read_excel(path, sheet_id=1, infer_schema_length=0, **options)
    except Exception as err:  # fastexcel raises its own error classes
        raise UnreadableFile(problem(path.name, "unreadable",
                                     f"filen går inte att läsa som XLSX: {err}".splitlines()[0]))


def read_xlsx(path: Path, header_names: list[str] | None = None) -> RawTable:
    """The first sheet as text; with `header_names`, the header is the row among the first
    ones that holds most of those names (title rows above it are skipped)."""
    if header_names is not None:
        return _read_xlsx_below_title(path, header_names)
    frame = _excel(path)
    frame = frame.rename({c: c.strip() for c in frame.columns})
    return RawTable(path.name, "xlsx", frame, first_row=2)


def _attribute(element: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', element)
    return found.group(1) if found else None


def _first_used_row(path: Path) -> int:
    """The sheet row number of the first row holding a value: the XLSX engine starts its
    table there, so leading empty rows would otherwise shift every row number."""
    try:
        with zipfile.ZipFile(path) as book:
            first_sheet = re.search(r"<sheet\b[^>]*>", book.read("xl/workbook.xml").decode("utf-8", "replace"))
            rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            rid = first_sheet and _attribute(first_sheet.group(0), "r:id")
            targets = {_attribute(r, "Id"): _attribute(r, "Target")
                       for r in re.findall(r"<Relationship\b[^>]*>", rels)}
            target = (targets.get(rid) or "").lstrip("/")
            if not target:
                return 1
            sheet = book.read(target if target.startswith("xl/") else f"xl/{target}").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return 1
    for row in re.finditer(r'<row\b[^>]*\br="(\d+)"[^>]*>(.*?)</row>', sheet, re.S):
        if re.search(r"<v[ >]|<is>", row.group(2)):
            return int(row.group(1))
    return 1


def _read_xlsx_below_title(path: Path, header_names: list[str]) -> RawTable:
    cells = _excel(path, has_header=False, drop_empty_rows=False)
    wanted = {n.strip().casefold() for n in header_names}

    def matches(i: int) -> int:
        return sum(1 for v in cells.row(i) if v is not None and v.strip().casefold() in wanted)

    scores = [matches(i) for i in range(min(HEADER_SEARCH_ROWS, cells.height))]
    at = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores and max(scores) else 0
    header = [(v or "").strip() for v in cells.row(at)] if cells.height else []
    # Columns with neither a name nor a value (Excel's trailing empty columns) are dropped.
    body = cells.slice(at + 1)
    keep = [i for i, name in enumerate(header) if name or body.get_column(cells.columns[i]).is_not_null().any()]
    names = [header[i] or f"(kolumn {i + 1} utan rubrik)" for i in keep]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UnreadableFile(combine([
            problem(path.name, "unreadable", f"kolumnnamnet {c!r} förekommer flera gånger i "
                    "rubrikraden", row=_first_used_row(path) + at, column=c) for c in duplicated]))
    frame = body.select([pl.col(cells.columns[i]).alias(n) for i, n in zip(keep, names)])
    return RawTable(path.name, "xlsx", frame, first_row=_first_used_row(path) + at + 1)


# --- SPSS -----------------------------------------------------------------------------------

def read_sav(path: Path) -> RawTable:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), output_format="polars", user_missing=True,
                                          disable_datetime_conversion=True)
    except Exception as err:  # pyreadstat.ReadstatError and friends
        raise UnreadableFile(problem(path.name, "unreadable",
                                     f"filen går inte att läsa som SPSS (.sav): {err}".splitlines()[0]))
    labels = {col: {code_text(k): str(v) for k, v in mapping.items()}
              for col, mapping in (meta.variable_value_labels or {}).items()}
    return RawTable(path.name, "sav", frame, first_row=1, value_labels=labels)
