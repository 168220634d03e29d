"""Read a delivered table into polars: CSV, XLSX or SPSS .sav (survey extracts and local
registers alike).

CSV comes from many hands: comma or semicolon separated, UTF-8 (with or without BOM) or
Windows-1252/Latin-1, decimal commas, trailing empty columns from Excel. The reader works
these out from the bytes and keeps every cell as text, so that the codebook check can name
the exact cell that does not parse (polars' own number parsing stops at the first bad cell
and names no row). The header is the line among the first ones that names the most expected
columns, so a title or a note above it is skipped (rows keep the numbers the file has). A file in another encoding (DOS CP850, Mac Roman …) is refused with the
encoding a detector (charset-normalizer) finds most likely; a zip, an Excel or an SPSS file
under a .csv name is refused as what it is. XLSX is read from the sheet and row where the
codebook's column names are (a title row above the header, data on a later sheet), also as
text. SPSS files keep their numeric codes (user-missing codes included: the codebook, not
the file, decides what is missing) and their value labels.

Only the columns the codebook needs are kept (`wanted`), so the other hundreds of columns of
a real export cost nothing; a register keeps every named column (`every_column`), since its
headers are matched loosely by the register's own layout. Structural problems (empty, wrong encoding, wrong delimiter,
rows of the wrong width, unreadable) are raised as UnreadableFile carrying problem rows;
their messages show column names but never a cell of a respondent.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from sources.tabular.problems import combine, problem
from transforms.survey_codebook import code_text

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".sav": "sav", ".zsav": "sav"}
DELIMITERS = {";": "semikolon", ",": "komma"}
# Seen in files saved by other tools; recognised only to say what went wrong.
FOREIGN_DELIMITERS = {"\t": "tabb", "|": "lodstreck"}
MAX_ROW_PROBLEMS = 50
SAMPLE_ROWS = 1000  # rows of every column kept to look for personal identity numbers
BLOCK_BYTES = 8 * 1024 * 1024  # the width check counts separators one block at a time
HEADER_SEARCH_ROWS = 30  # how far down a sheet or a CSV file the header row may be
# Encodings the detector chooses among for a CSV that is not UTF-8; the Windows ones are
# read, the others are named in the refusal.
ACCEPTED_ENCODINGS = {"cp1252", "latin_1", "iso8859_15"}
ENCODING_NAMES = {"cp850": "DOS (CP850)", "cp437": "DOS (CP437/CP850)", "cp865": "DOS (CP865)",
                  "mac_roman": "Mac Roman", "cp1252": "Windows-1252", "latin_1": "Latin-1",
                  "iso8859_15": "Latin-9"}
MAGIC = [(b"PK\x03\x04", "zip"), (b"$FL2", "sav"), (b"$FL3", "sav"),
         (b"\xd0\xcf\x11\xe0", "xls"), (b"%PDF", "pdf"), (b"\x1f\x8b", "gzip")]


class UnreadableFile(Exception):
    """The file cannot be read as a table; `problems` names file, row and column."""

    def __init__(self, problems: pl.DataFrame):
        self.problems = problems
        super().__init__("; ".join(problems["message"].to_list()[:3]))


@dataclass(frozen=True)
class RawTable:
    """A file's cells as read, before the codebook is applied.

    `frame` has the file's wanted columns plus `_row`, the row number the file's reader
    sees (blank rows are dropped but keep their numbers).
    """

    file: str
    format: str
    frame: pl.DataFrame
    first_row: int  # the file's row number of frame row 0
    encoding: str | None = None
    delimiter: str | None = None
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet: str | None = None
    header: tuple[str, ...] = ()  # every column name in the file, read or not
    sample: pl.DataFrame | None = None  # the first rows of every column, as text (identity check)


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def read_table(path: Path, wanted: list[str] | None = None, *, every_column: bool = False,
               row_noun: str = "svarsrader") -> RawTable:
    """Read any supported file, keeping the `wanted` columns (all when None or with
    `every_column`, where `wanted` only guides the delimiter and the header row). `row_noun`
    names the data rows in the message for a file that has none."""
    name = path.name
    fmt = file_format(path)
    if fmt is None:
        raise UnreadableFile(problem(name, "unreadable",
                                     f"filtypen {path.suffix or '(ingen)'} stöds inte; "
                                     "använd .csv, .xlsx eller .sav"))
    if path.stat().st_size == 0:
        raise UnreadableFile(problem(name, "empty", "filen är tom (0 byte)"))
    with path.open("rb") as fh:
        head = fh.read(4096)
    disguised = what_it_is(head)
    if disguised and disguised != _expected_magic(fmt):
        raise UnreadableFile(problem(name, "unreadable", disguised_message(path, disguised, head)))
    if fmt == "csv":
        table = read_csv(path, wanted, every_column=every_column)
    elif fmt == "xlsx":
        table = read_xlsx(path, wanted, every_column=every_column)
    else:
        table = read_sav(path, wanted)
    cells = list(table.frame.columns)
    # Multi-chunk string columns trip polars' streaming engine (a panic in pl.format after a
    # filter): every later step gets one chunk per column.
    frame = table.frame.rechunk().with_columns(
        _row=pl.int_range(pl.len(), dtype=pl.Int64) + table.first_row)
    if cells:
        blank = frame.select(pl.all_horizontal([pl.col(c).is_null() for c in cells])).to_series()
        if blank.any():  # filtering copies every column: only when there is a blank row
            frame = frame.filter(~blank)
    table = replace(table, frame=frame)
    if table.frame.height == 0:
        raise UnreadableFile(problem(name, "empty", f"filen har inga {row_noun}, bara rubriker",
                                     row=table.first_row))
    return table


def _expected_magic(fmt: str) -> str | None:
    return {"xlsx": "zip", "sav": "sav"}.get(fmt)


def what_it_is(head: bytes) -> str | None:
    """What the first bytes say the file is, whatever its name: zip, sav, xls, pdf, gzip."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    return None


def disguised_message(path: Path, kind: str, head: bytes) -> str:
    if kind == "zip" and (b"[Content_Types].xml" in head or b"xl/" in head):
        return (f"filen är en Excel-fil (.xlsx) fast den heter {path.suffix}; byt filändelse "
                "till .xlsx eller spara den som CSV")
    if kind == "zip":
        return (f"filen är en zip-fil (komprimerad) fast den heter {path.suffix}; packa upp den "
                "och lägg filen som finns i den i inkorgen")
    return {
        "sav": f"filen är en SPSS-fil (.sav) fast den heter {path.suffix}; byt filändelse till .sav",
        "xls": "filen är en äldre Excel-fil (.xls); spara den som .xlsx eller CSV",
        "pdf": "filen är en PDF, inte en datafil; be leverantören om CSV, XLSX eller SPSS",
        "gzip": "filen är komprimerad (gzip); packa upp den och lägg filen i inkorgen",
    }[kind]


# --- CSV ------------------------------------------------------------------------------------

SWEDISH = set("åäöÅÄÖéÉüÜ")


def guess_encoding(raw: bytes, expected: list[str] | None = None) -> str:
    """The most likely single-byte encoding of bytes that are not UTF-8.

    charset-normalizer ranks the encodings Swedish files are saved in; on short, repetitive
    survey text it cannot always tell CP850 from Mac Roman or Windows-1252, so its ranking
    breaks ties only after two plain facts: how many of the codebook's column names the
    header then spells, and how many of the non-ASCII letters become Swedish letters."""
    from charset_normalizer import from_bytes

    # The detector reads a sample; the lines with non-ASCII bytes are the ones that tell.
    lines = [line for line in raw[:4_000_000].split(b"\n") if any(b > 127 for b in line)]
    sample = b"\n".join(lines)[:200_000] or raw[:200_000]
    ranked = [m.encoding for m in from_bytes(sample, cp_isolation=sorted(ENCODING_NAMES))]
    candidates = list(dict.fromkeys(ranked + sorted(ENCODING_NAMES)))
    heads = raw[:BLOCK_BYTES].split(b"\n")[:HEADER_SEARCH_ROWS]  # the header may be below a title
    wanted = {c.strip() for c in expected or []}

    def score(encoding: str) -> tuple[int, float, int]:
        try:
            lines, text = [h.decode(encoding) for h in heads], sample.decode(encoding)
        except UnicodeDecodeError:
            return (-1, -1.0, 0)
        names = max(({c.strip().strip('"') for c in re.split(r"[;,\t|]", h)} & wanted for h in lines),
                    key=len, default=set())
        letters = [ch for ch in text if ord(ch) > 127]
        swedish = sum(ch in SWEDISH for ch in letters) / max(len(letters), 1)
        return (len(names), round(swedish, 2), -candidates.index(encoding))

    return max(candidates, key=score)


def to_utf8(name: str, raw: bytes, expected: list[str] | None = None) -> tuple[bytes, str]:
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
    guess = guess_encoding(raw, expected)
    if guess not in ACCEPTED_ENCODINGS:
        raise UnreadableFile(problem(
            name, "encoding", f"filen ser ut att vara sparad med teckenkodningen "
            f"{ENCODING_NAMES.get(guess, guess)}, som inte läses; spara den som CSV i UTF-8 "
            "eller Windows-1252 (i Excel: CSV UTF-8)"))
    try:
        return raw.decode("cp1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError:
        # Latin-1 maps every byte; cp1252 leaves five undefined.
        return raw.decode("latin-1").encode("utf-8"), "latin-1"


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep, quotechar='"'))


def choose_delimiter(name: str, header: str, expected: list[str] | None, row: int = 1) -> str:
    """The delimiter that best splits the header (on file row `row`) into the expected
    column names."""
    wanted = {c.strip() for c in (expected or [])}

    def score(sep: str) -> tuple[int, int]:
        cells = [c.strip() for c in _split(header, sep)]
        return (len(wanted & set(cells)), len(cells))

    best = max(DELIMITERS, key=score)
    foreign = max(FOREIGN_DELIMITERS, key=score)
    if score(foreign) > score(best) and score(foreign)[1] > 1:
        raise UnreadableFile(problem(
            name, "delimiter", f"filen är avgränsad med {FOREIGN_DELIMITERS[foreign]}; "
            "använd semikolon eller komma", row=row))
    if score(best)[1] < 2:
        raise UnreadableFile(problem(
            name, "delimiter", "rubrikraden går inte att dela upp i kolumner med semikolon "
            "eller komma (fel avgränsare?)", row=row))
    return best


def header_row(lines: list[str], expected: list[str] | None) -> int:
    """Which of a CSV file's first lines is the header: the one that names the most expected
    columns (a title or a note above it, as Excel users write them, is skipped); the first
    line when none names any."""
    wanted = {c.strip().casefold() for c in (expected or [])}
    best, where = 0, 0
    for r, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        for sep in (*DELIMITERS, *FOREIGN_DELIMITERS):
            found = len(wanted & {c.strip().strip('"').casefold() for c in _split(line, sep)}) if line else 0
            if found > best:
                best, where = found, r
    return where


def _blocks(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of blocks of about BLOCK_BYTES that end at a line end."""
    out, start = [], 0
    while start < len(data):
        end = data.find(b"\n", min(start + BLOCK_BYTES, len(data)) - 1)
        end = len(data) if end < 0 else end + 1
        out.append((start, end))
        start = end
    return out


def _width_problems(name: str, data: bytes, sep: str, header: list[str],
                    width_min: int, first_line: int = 1) -> pl.DataFrame | None:
    """Rows whose number of fields differs from the header's (delimiter or quoting trouble).

    Separators are counted per line on the bytes, a block at a time (so memory stays flat
    however large the file), without a copy of the file as Python strings; only lines that
    look wrong or contain quotes are split properly. Rows may stop early only within the
    header's trailing columns without a name (`width_min` ≤ fields ≤ len(header)).
    `data` starts with the header, which is file row `first_line`.
    """
    width = len(header)
    bad: list[tuple[int, int]] = []
    line_offset = 0
    for start, end in _blocks(data):
        arr = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
        ends = np.flatnonzero(arr == ord("\n"))
        starts = np.concatenate([[0], ends + 1])
        ends = np.concatenate([ends, [len(arr)]])
        if starts[-1] == len(arr):  # the block ends with a line end: no line after it
            starts, ends = starts[:-1], ends[:-1]
        separators = np.flatnonzero(arr == ord(sep))
        quotes = np.flatnonzero(arr == ord('"'))
        counts = np.searchsorted(separators, ends) - np.searchsorted(separators, starts)
        quoted = (np.searchsorted(quotes, ends) - np.searchsorted(quotes, starts)) > 0
        blank = (ends - starts) <= 1  # empty, or a lone "\r"
        fields = counts + 1
        odd = ~blank & (((fields < width_min) | (fields > width)) | quoted)
        for i in np.flatnonzero(odd).tolist():
            text = data[start + starts[i]:start + ends[i]].decode("utf-8").rstrip("\r")
            got = len(_split(text, sep))
            if not width_min <= got <= width:
                bad.append((first_line + line_offset + i, got))
                if len(bad) >= MAX_ROW_PROBLEMS:
                    break
        line_offset += len(starts)
        if len(bad) >= MAX_ROW_PROBLEMS:
            break
    if not bad:
        return None
    frames = []
    for row, got in bad:
        column = header[got] if got < width else header[-1]
        where = "saknar värden från och med kolumnen" if got < width else "har fler värden än rubriken efter"
        frames.append(problem(
            name, "delimiter", f"raden har {got} fält men rubriken {width}: den {where} "
            f"{column or '(utan namn)'} (fel avgränsare, citattecken eller radbrytning i ett fält?)",
            row=row, column=column or None))
    return combine(frames)


def read_csv(path: Path, wanted: list[str] | None = None, *, every_column: bool = False) -> RawTable:
    data, encoding = to_utf8(path.name, path.read_bytes(), wanted)
    head = data[:BLOCK_BYTES].decode("utf-8", errors="replace").split("\n")[:HEADER_SEARCH_ROWS]
    skip = header_row([line.rstrip("\r") for line in head], wanted)
    row = skip + 1  # the header's row as the file's reader counts them
    start = sum(len(line.encode("utf-8")) + 1 for line in head[:skip]) if skip else 0
    data = data[start:]
    header_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if not header_line.strip():
        raise UnreadableFile(problem(path.name, "empty", "första raden är tom; den ska ha "
                                     "kolumnnamnen", row=row))
    sep = choose_delimiter(path.name, header_line, wanted, row)
    header = [c.strip() for c in _split(header_line, sep)]
    # Excel leaves empty columns at the end of a sheet saved as CSV: ignored when empty.
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    duplicated = sorted({c for c in header[:named] if header[:named].count(c) > 1})
    if duplicated:
        raise UnreadableFile(combine([
            problem(path.name, "unreadable", f"kolumnnamnet {c!r} förekommer flera gånger i "
                    "rubrikraden", row=row, column=c or None) for c in duplicated]))
    widths = _width_problems(path.name, data, sep, header, named, first_line=row)
    if widths is not None:
        raise UnreadableFile(widths)
    if not data.split(b"\n", 1)[-1].strip() or b"\n" not in data:
        raise UnreadableFile(problem(path.name, "empty", "filen har inga svarsrader, bara rubriker",
                                     row=row + 1))
    keep = [i for i, c in enumerate(header[:named]) if wanted is None or every_column or c in wanted] or [0]
    trailing = list(range(named, len(header)))
    try:
        # Every cell as text: the codebook check parses numbers and names the bad cells.
        # polars keeps a blank line as an all-null row, so frame row i is file row row + 1 + i.
        frame = pl.read_csv(io.BytesIO(data), separator=sep, infer_schema=False, quote_char='"',
                            has_header=False, skip_rows=1, columns=keep + trailing)
    except pl.exceptions.PolarsError:
        raise UnreadableFile(problem(path.name, "unreadable", "filen går inte att läsa som CSV: "
                                     "kontrollera citattecknen (ett fält som börjar med \" ska sluta "
                                     "med \") och att den är sparad som text, inte som Excel-fil", row=row))
    frame.columns = [header[i] for i in keep] + [f"\x00tom{i}" for i in trailing]
    frame = _drop_empty_trailing(path.name, frame, first_row=row + 1)
    sample = pl.read_csv(io.BytesIO(data), separator=sep, infer_schema=False, quote_char='"',
                         has_header=False, skip_rows=1, n_rows=SAMPLE_ROWS, columns=list(range(named)))
    sample.columns = [c or f"(kolumn {i + 1})" for i, c in enumerate(header[:named])]
    return RawTable(path.name, "csv", frame, row + 1, encoding=encoding, delimiter=sep,
                    header=tuple(c for c in header if c), sample=sample)


def _drop_empty_trailing(name: str, frame: pl.DataFrame, first_row: int) -> pl.DataFrame:
    """Drop columns without a name; one that holds values is a problem (it is unclear what
    they are)."""
    unnamed = [c for c in frame.columns if c.startswith("\x00tom")]
    if not unnamed:
        return frame
    first = frame.select([pl.col(c).str.strip_chars().replace("", None).is_not_null().arg_true()
                          .first().alias(c) for c in unnamed]).row(0, named=True)
    for c in unnamed:
        if first[c] is not None:
            raise UnreadableFile(problem(
                name, "unreadable", f"kolumn nummer {int(c.removeprefix(chr(0) + 'tom')) + 1} har "
                "värden men inget namn i rubrikraden; ge den ett namn eller ta bort den",
                row=first_row + int(first[c])))
    return frame.drop(unnamed)


# --- XLSX -----------------------------------------------------------------------------------

def read_xlsx(path: Path, wanted: list[str] | None = None, *, every_column: bool = False) -> RawTable:
    try:
        # skip_rows=0: the engine would otherwise start at the first used row, and every
        # row number below leading empty rows would be off.
        sheets = pl.read_excel(path, sheet_id=0, has_header=False, infer_schema_length=0,
                               drop_empty_rows=False, drop_empty_cols=False,
                               read_options={"skip_rows": 0})
    except Exception:  # fastexcel raises its own error classes; their names mean nothing to a reader
        raise UnreadableFile(problem(path.name, "unreadable",
                                     "filen går inte att läsa som XLSX: den är skadad, avklippt, "
                                     "lösenordsskyddad eller ingen riktig Excel-arbetsbok; öppna den i "
                                     "Excel och spara den igen som .xlsx (eller som CSV)"))
    want = {c.strip() for c in (wanted or [])}
    folded = {c.casefold() for c in want}
    best: tuple[int, int, str, int] | None = None  # (matches, -sheet index, sheet, header row)
    for s, (sheet, frame) in enumerate(sheets.items()):
        for r, cells in enumerate(frame.head(HEADER_SEARCH_ROWS).iter_rows()):
            names = {str(c).strip().casefold() for c in cells if c is not None}
            score = len(names & folded) if want else len(names)
            if score and (best is None or (score, -s) > best[:2]):
                best = (score, -s, sheet, r)
    if best is None:
        raise UnreadableFile(problem(path.name, "empty", "arbetsboken har inga celler med "
                                     "kolumnnamn" + (" som kodboken väntar sig" if want else "")))
    _, _, sheet, r = best
    frame = sheets[sheet]
    names = [("" if c is None else str(c).strip()) for c in frame.row(r)]
    body = frame.slice(r + 1)
    keep = [(i, n) for i, n in enumerate(names) if n and (wanted is None or every_column or n in want)]
    keep = keep or [(i, n) for i, n in enumerate(names) if n][:1]
    unnamed = [(i, f"\x00tom{i}") for i, n in enumerate(names) if not n]
    named = [(i, n) for i, n in enumerate(names) if n]
    sample = body.head(SAMPLE_ROWS).select([pl.col(body.columns[i]).cast(pl.String).alias(n)
                                            for i, n in named if [m for _, m in named].count(n) == 1])
    body = body.select([pl.col(body.columns[i]).alias(n) for i, n in keep + unnamed])
    duplicated = sorted({n for _, n in keep if [m for _, m in keep].count(n) > 1})
    if duplicated:
        raise UnreadableFile(problem(path.name, "unreadable", f"kolumnnamnet {duplicated[0]!r} "
                                     "förekommer flera gånger i rubrikraden", row=r + 1,
                                     column=duplicated[0]))
    # Excel rows are numbered from 1; the header is on row r + 1, data start on r + 2.
    body = body.with_columns([pl.col(n).str.strip_chars().replace("", None) for _, n in unnamed])
    body = _drop_empty_trailing(path.name, body, first_row=r + 2)
    return RawTable(path.name, "xlsx", body, first_row=r + 2, sheet=str(sheet),
                    header=tuple(n for n in names if n), sample=sample)


# --- SPSS -----------------------------------------------------------------------------------

def read_sav(path: Path, wanted: list[str] | None = None) -> RawTable:
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True, output_format="polars")
        present = list(meta.column_names)
        usecols = [c for c in present if wanted is None or c in set(wanted)] or present[:1]
        frame, meta = pyreadstat.read_sav(str(path), output_format="polars", user_missing=True,
                                          disable_datetime_conversion=True, usecols=usecols)
        sample, _ = pyreadstat.read_sav(str(path), output_format="polars", row_limit=SAMPLE_ROWS,
                                        disable_datetime_conversion=True)
    except Exception:  # pyreadstat.ReadstatError and friends; their names mean nothing to a reader
        raise UnreadableFile(problem(path.name, "unreadable",
                                     "filen går inte att läsa som SPSS (.sav): den är skadad eller "
                                     "avklippt, eller sparad i ett format som inte läses; spara den "
                                     "igen från SPSS som .sav (eller som CSV)"))
    labels = {col: {code_text(k): str(v) for k, v in mapping.items()}
              for col, mapping in (meta.variable_value_labels or {}).items() if col in frame.columns}
    return RawTable(path.name, "sav", frame, first_row=1, value_labels=labels, header=tuple(present),
                    sample=sample.select([_as_text(sample, c) for c in sample.columns]))


def _as_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as text; a whole number as its digits, and nine digits padded to ten (a
    number stored as a number loses its leading zero: 0501011234 → 501011234)."""
    col = pl.col(column)
    if not frame.schema[column].is_numeric():
        return col.cast(pl.String)
    whole = col.cast(pl.Int64, strict=False).cast(pl.String)
    digits = pl.when(whole.str.len_chars() == 9).then(whole.str.zfill(10)).otherwise(whole)
    return pl.when(col == col.round()).then(digits).otherwise(col.cast(pl.String)).alias(column)
