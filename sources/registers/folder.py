"""The registers folder: which file belongs to which register, what is set aside, what counts.

Folder: data/registers/ by default (UPPVAXT_REGISTERS_DIR overrides). A county drops its
registers there as CSV or XLSX; the file name says the register: `stod…`, `beredskap…`,
`mal…` or `ansokningar…` (also with å/ä/ö), followed by `_`, `-`, `.` or a space, e.g.
`stod_2025.xlsx` or `beredskap-ostergotland.csv`. A register may be split over several
files; their rows are added together.

Each run reads every register file again. A file with any problem is moved to
`quarantine/` next to a report (`<file>.problems.md`, `.problems.json`) naming file, row
and column. Until a corrected file is dropped in again, the **last accepted version** of
that file still counts, so the published marts stay as they were; the register's file
check keeps failing meanwhile. Accepted versions are kept in `.uppvaxt/accepted/` (a copy
of the county's own file, never published); `.uppvaxt/status/` holds each register's
latest outcome for `meta.register_file`. A file removed by the county after it was
accepted no longer counts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.registers.layouts import REGISTERS, Layout, fold
from sources.registers.parse import Known, Parsed, duplicate_problems, empty_register, parse_register
from sources.tabular.problems import Summary, combine, empty_problems, problem, write_report
from sources.tabular.readers import UnreadableFile, read_table

SUFFIXES = (".csv", ".txt", ".xlsx")
QUARANTINE = "quarantine"
STATE = ".uppvaxt"
TEMPLATES = "mallar"
MAX_BYTES = 20 * 1024 * 1024
ADVICE = ("Rätta filen och lägg den i registermappen igen. Till dess räknas den senast "
          "godkända versionen av filen, om det finns någon.")

# The register of a file whose name claims none (so no row has an empty code).
UNKNOWN = "unknown"
FILE_STATUS = {
    "accepted": "Godkänd",
    "previous_version": "I karantän – den senast godkända versionen räknas",
    "quarantined": "I karantän – ingen tidigare version räknas",
    "unknown_register": "Okänt register – filen läses inte",
}


def register_of(name: str) -> str | None:
    """The register a file name belongs to, or None."""
    stem = fold(name.rsplit(".", 1)[0] if "." in name else name)
    for layout in REGISTERS.values():
        for prefix in (layout.name, *layout.aliases):
            p = fold(prefix)
            if stem == p or stem.startswith(p + " "):
                return layout.name
    return None


def files_in(folder: Path) -> list[Path]:
    """Plain files directly in the folder (no hidden files, no symlinks), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir()
                   if not p.name.startswith(".") and not p.is_symlink() and p.is_file()),
                  key=lambda p: p.name)


def folder_key(folder: Path) -> str:
    """Changes when a file is added, replaced, edited or removed (for the sensor)."""
    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files_in(folder)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileOutcome:
    register: str
    file: str
    status: str
    rows: int = 0
    problems: pl.DataFrame = field(default_factory=empty_problems)
    report: str | None = None

    def as_row(self) -> dict:
        lines = Summary.of(self.file, self.problems).lines if self.problems.height else []
        return {"register": self.register, "file": self.file, "status": self.status,
                "status_label": FILE_STATUS[self.status], "rows": self.rows,
                "n_problems": self.problems.height, "first_problem": lines[0] if lines else None,
                "report": self.report}


@dataclass(frozen=True)
class RegisterRead:
    layout: Layout
    frame: pl.DataFrame
    outcomes: list[FileOutcome]

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("previous_version", "quarantined")]

    @property
    def problems(self) -> pl.DataFrame:
        return combine([o.problems for o in self.failed])


class _State:
    def __init__(self, folder: Path):
        self.folder = folder
        self.accepted_dir = folder / STATE / "accepted"
        self.status_dir = folder / STATE / "status"
        self.quarantine_dir = folder / QUARANTINE

    def accepted(self, name: str) -> Path:
        return self.accepted_dir / name

    def report(self, name: str) -> Path:
        return self.quarantine_dir / f"{name}.problems.json"

    def keep(self, path: Path) -> None:
        self.accepted_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, self.accepted(path.name))

    def pending(self, name: str) -> bool:
        """Set aside later than its last acceptance (or never accepted)."""
        report = self.report(name)
        if not report.is_file():
            return False
        copy = self.accepted(name)
        return not copy.is_file() or report.stat().st_mtime_ns > copy.stat().st_mtime_ns

    def quarantined_names(self, register: str) -> list[str]:
        if not self.quarantine_dir.is_dir():
            return []
        suffix = ".problems.json"
        return sorted(p.name[:-len(suffix)] for p in self.quarantine_dir.glob(f"*{suffix}")
                      if register_of(p.name[:-len(suffix)]) == register)

    def reported_problems(self, name: str) -> pl.DataFrame:
        try:
            doc = json.loads(self.report(name).read_text(encoding="utf-8"))
            return combine([pl.DataFrame(doc["problems"], schema=empty_problems().schema)])
        except (OSError, ValueError, KeyError):
            return problem(name, "unreadable", "rapporten i karantänmappen går inte att läsa")

    def quarantine(self, path: Path, problems: pl.DataFrame) -> str:
        write_report(self.quarantine_dir, path.name, problems, advice=ADVICE)
        shutil.move(path, self.quarantine_dir / path.name)
        return f"{QUARANTINE}/{path.name}.problems.md"

    def write_status(self, register: str, outcomes: list[FileOutcome]) -> None:
        self.status_dir.mkdir(parents=True, exist_ok=True)
        rows = [o.as_row() for o in outcomes]
        (self.status_dir / f"{register}.json").write_text(
            json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def check_file(path: Path, layout: Layout, known: Known, max_bytes: int = MAX_BYTES) -> Parsed:
    """Read and check one register file; never raises for bad content."""
    if path.suffix.lower() not in SUFFIXES:
        return Parsed(empty_register(layout), problem(
            path.name, "unreadable", f"filtypen {path.suffix or '(ingen)'} stöds inte för "
            "register; spara filen som .xlsx eller .csv"))
    size = path.stat().st_size
    if size > max_bytes:
        return Parsed(empty_register(layout), problem(
            path.name, "too_large", f"filen är {size / 1024**2:.0f} MB; ett register får vara "
            f"högst {max_bytes / 1024**2:.0f} MB"))
    try:
        table = read_table(path, layout.headers, every_column=True, row_noun="rader med uppgifter")
    except UnreadableFile as err:
        return Parsed(empty_register(layout), err.problems)
    return parse_register(table, layout, known)


def take_register(folder: Path, layout: Layout, known: Known, *,
                  max_bytes: int = MAX_BYTES) -> RegisterRead:
    """Read every file of one register, set bad ones aside, and return what counts now."""
    state = _State(folder)
    present = {p.name: p for p in files_in(folder) if register_of(p.name) == layout.name}
    waiting = [n for n in state.quarantined_names(layout.name) if n not in present and state.pending(n)]
    frames: list[pl.DataFrame] = []
    outcomes: list[FileOutcome] = []
    for name in sorted({*present, *waiting}):
        seen = pl.concat(frames, how="vertical") if frames else None
        if name in present:
            parsed = _with_duplicates(check_file(present[name], layout, known, max_bytes), layout, name, seen)
            if not parsed.problems.height:
                state.keep(present[name])
                frames.append(parsed.frame)
                outcomes.append(FileOutcome(layout.name, name, "accepted", parsed.frame.height))
                continue
            problems, report = parsed.problems, state.quarantine(present[name], parsed.problems)
        else:
            problems, report = state.reported_problems(name), f"{QUARANTINE}/{name}.problems.md"
        previous = None
        if state.accepted(name).is_file():
            previous = _with_duplicates(check_file(state.accepted(name), layout, known, max_bytes),
                                        layout, name, seen)
        if previous is not None and not previous.problems.height:
            frames.append(previous.frame.with_columns(source_file=pl.lit(name)))
            outcomes.append(FileOutcome(layout.name, name, "previous_version", previous.frame.height,
                                        problems, report))
        else:
            outcomes.append(FileOutcome(layout.name, name, "quarantined", 0, problems, report))
    _forget_removed(state, layout, keep={*present, *waiting})
    state.write_status(layout.name, outcomes)
    frame = pl.concat([empty_register(layout), *frames], how="vertical")
    return RegisterRead(layout, frame, outcomes)


def _with_duplicates(parsed: Parsed, layout: Layout, name: str, seen: pl.DataFrame | None) -> Parsed:
    if seen is None or parsed.problems.height:
        return parsed
    across = duplicate_problems(parsed.frame, layout, name, seen)
    return Parsed(parsed.frame, across) if across.height else parsed


def _forget_removed(state: _State, layout: Layout, keep: set[str]) -> None:
    """An accepted copy whose file the county removed (and that is not set aside) no
    longer counts; drop it so that it cannot come back."""
    if not state.accepted_dir.is_dir():
        return
    for copy in state.accepted_dir.iterdir():
        if register_of(copy.name) == layout.name and copy.name not in keep:
            copy.unlink()


def folder_status(folder: Path) -> pl.DataFrame:
    """One row per file: the registers' latest outcomes and files no register claims."""
    state = _State(folder)
    rows = []
    for register in REGISTERS:
        path = state.status_dir / f"{register}.json"
        if path.is_file():
            rows += json.loads(path.read_text(encoding="utf-8"))
    for path in files_in(folder):
        if register_of(path.name) is None:
            rows.append(FileOutcome(UNKNOWN, path.name, "unknown_register", problems=problem(
                path.name, "unknown_register",
                "filnamnet visar inte vilket register filen hör till; börja namnet med "
                "stod_, beredskap_, mal_ eller ansokningar_")).as_row())
    schema = {"register": pl.String, "file": pl.String, "status": pl.String,
              "status_label": pl.String, "rows": pl.Int32, "n_problems": pl.Int32,
              "first_problem": pl.String, "report": pl.String}
    return pl.DataFrame(rows, schema=schema).sort("register", "file")
