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

Accepted data are never evicted by a newcomer. Files that count already (unchanged since
they were accepted, or in quarantine with an accepted version) are read first; new and
changed files after them, in name order. A new file whose rows take a key that counts
already with other content (the same goal id, the same interview of an assessment) is set
aside with a message naming both files; the accepted one keeps counting. Rows that are
exact copies of counted rows are counted once, with a warning.

Warnings leave a file accepted and are reported in `meta.register_file` and in
`warnings/<file>.warnings.md`: exact duplicates, an older layout, a replacement that no
longer has rows for kommuner its previous version had, actor names that look like the same
actor written two ways (the alias list is `data/catalog/actors.yaml`), and a goal baseline
that differs from the data (added by the goal follow-up).

Demo registers (`DEMO_FILES`, demo mode only) fill in only for counties that have no rows
of their own in a register: a county's own file replaces the demo rows of its kommuner.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.registers.layouts import REGISTERS, Layout, fold
from sources.registers.parse import Known, Parsed, conflicts, empty_register, parse_register
from sources.tabular.problems import KINDS, Summary, combine, empty_problems, problem, write_report
from sources.tabular.problems import format_line as describe_line
from sources.tabular.readers import UnreadableFile, read_table

SUFFIXES = (".csv", ".txt", ".xlsx")
QUARANTINE = "quarantine"
WARNINGS = "warnings"
# The demo writer's files (sources/demo/registers.py): rows for counties without their own.
DEMO_FILES = ("stod_demo.xlsx", "beredskap_demo.csv", "mal_demo.xlsx", "ansokningar_demo.csv")
SIMILAR = 0.88  # difflib ratio of two folded actor names from which they may be one actor
STATE = ".uppvaxt"
TEMPLATES = "mallar"
MAX_BYTES = 20 * 1024 * 1024
ADVICE = ("Rätta filen och lägg den i registermappen igen. Till dess räknas den senast "
          "godkända versionen av filen, om det finns någon.")

# The register of a file whose name claims none (so no row has an empty code).
UNKNOWN = "unknown"
FILE_STATUS = {
    "accepted": "Godkänd",
    "demo": "Demodata – räknas för län utan egna uppgifter",
    "removed": "Borttagen – räknas inte längre",
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
    warnings: pl.DataFrame = field(default_factory=empty_problems)

    def as_row(self) -> dict:
        lines = Summary.of(self.file, self.problems).lines if self.problems.height else []
        noted = Summary.of(self.file, self.warnings).lines if self.warnings.height else []
        return {"register": self.register, "file": self.file, "status": self.status,
                "status_label": FILE_STATUS[self.status], "rows": self.rows,
                "n_problems": self.problems.height, "first_problem": lines[0] if lines else None,
                "report": self.report, "n_warnings": self.warnings.height,
                "first_warning": noted[0] if noted else None,
                "warnings": self.warnings.to_dicts()}


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

    @property
    def warnings(self) -> pl.DataFrame:
        return combine([o.warnings for o in self.outcomes])


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
        """Keep an accepted file's copy; an older quarantine report of it is done with."""
        self.accepted_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, self.accepted(path.name))
        for report in (self.report(path.name), self.report(path.name).with_suffix(".md")):
            report.unlink(missing_ok=True)

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


def _same_bytes(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()


def _kommuner_of(frame: pl.DataFrame) -> set[str]:
    return set(frame["area_code"].drop_nulls().to_list()) if "area_code" in frame.columns else set()


def _dropped(name: str, before: pl.DataFrame, after: pl.DataFrame | None, known: Known) -> pl.DataFrame:
    """A warning listing kommuner with rows in the previous version but none now (`after`
    None: the file was removed)."""
    gone = sorted(_kommuner_of(before) - (_kommuner_of(after) if after is not None else set()))
    if not gone:
        return empty_problems()
    names = ", ".join(known.kommun_name(c) for c in gone)
    text = (f"den nya versionen har inga rader för {names}, som den förra versionen hade; deras rader "
            "räknas inte längre. Var det meningen?" if after is not None else
            f"filen är borttagen ur registermappen; dess rader för {names} räknas inte längre")
    return problem(name, "dropped_kommun", text)


class _Counted:
    """The rows that count so far, file by file."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.frames: list[pl.DataFrame] = []

    @property
    def seen(self) -> pl.DataFrame:
        return pl.concat(self.frames, how="vertical") if self.frames else empty_register(self.layout)

    def admit(self, parsed: Parsed, name: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(rows to count, conflicts as problems, copies of counted rows as warnings)."""
        found, copy = conflicts(parsed.frame, self.layout, name, self.seen)
        frame = parsed.frame.filter(~copy)
        warned = parsed.frame.filter(copy).select(
            file=pl.lit(name), row=pl.col("source_row").cast(pl.Int64), column=pl.lit(None, dtype=pl.String),
            kind=pl.lit("exact_duplicate"),
            message=pl.lit("raden är en exakt kopia av en rad som redan räknas från en annan fil; "
                           "den räknas en gång"), n=pl.lit(1, dtype=pl.Int64))
        return frame, found, warned


def take_register(folder: Path, layout: Layout, known: Known, *,
                  max_bytes: int = MAX_BYTES) -> RegisterRead:
    """Read every file of one register, set bad ones aside, and return what counts now."""
    state = _State(folder)
    present = {p.name: p for p in files_in(folder) if register_of(p.name) == layout.name}
    waiting = [n for n in state.quarantined_names(layout.name) if n not in present and state.pending(n)]
    # What counts already is read first, so that a newcomer can never evict it.
    settled = {n for n in present if _same_bytes(present[n], state.accepted(n))} | set(waiting)
    order = sorted({*present, *waiting}, key=lambda n: (n in DEMO_FILES, n not in settled, n))
    counted = _Counted(layout)
    outcomes: list[FileOutcome] = []
    for name in order:
        previous = (check_file(state.accepted(name), layout, known, max_bytes)
                    if state.accepted(name).is_file() else None)
        if name in present:
            parsed = check_file(present[name], layout, known, max_bytes)
            problems, warnings = parsed.problems, parsed.warnings
            if not problems.height:
                frame, problems, copies = counted.admit(parsed, name)
                warnings = combine([warnings, copies])
                if not problems.height:
                    if previous is not None and not previous.problems.height and name not in DEMO_FILES:
                        warnings = combine([warnings, _dropped(name, previous.frame, frame, known)])
                    state.keep(present[name])
                    counted.frames.append(frame)
                    outcomes.append(FileOutcome(layout.name, name, "demo" if name in DEMO_FILES else "accepted",
                                                frame.height, warnings=warnings))
                    continue
            report = state.quarantine(present[name], problems)
        else:
            problems, report, warnings = state.reported_problems(name), f"{QUARANTINE}/{name}.problems.md", None
        if previous is not None and not previous.problems.height:
            frame, clash, copies = counted.admit(previous, name)
            if not clash.height:
                counted.frames.append(frame.with_columns(source_file=pl.lit(name)))
                outcomes.append(FileOutcome(layout.name, name, "previous_version", frame.height,
                                            problems, report, combine([previous.warnings, copies])))
                continue
        outcomes.append(FileOutcome(layout.name, name, "quarantined", 0, problems, report))
    outcomes += _forget_removed(state, layout, keep={*present, *waiting}, known=known, max_bytes=max_bytes)
    frame, outcomes = _demo_only_where_needed(pl.concat([empty_register(layout), *counted.frames],
                                                        how="vertical"), outcomes)
    if layout.name == "stod":
        outcomes = _similar_actors(frame, outcomes, known)
    outcomes = sorted(outcomes, key=lambda o: o.file)
    state.write_status(layout.name, outcomes)
    return RegisterRead(layout, frame, outcomes)


def _demo_only_where_needed(frame: pl.DataFrame, outcomes: list[FileOutcome]
                            ) -> tuple[pl.DataFrame, list[FileOutcome]]:
    """Drop demo rows of counties (kommun code's first two digits) with rows of their own."""
    demo = pl.col("source_file").is_in(list(DEMO_FILES))
    own = set(frame.filter(~demo)["area_code"].str.slice(0, 2).drop_nulls().to_list())
    if not own:
        return frame, outcomes
    kept = frame.filter(~demo | ~pl.col("area_code").str.slice(0, 2).is_in(sorted(own)))
    counts = kept.group_by("source_file").len()
    rows = dict(counts.iter_rows())
    return kept, [FileOutcome(o.register, o.file, o.status, rows.get(o.file, 0), o.problems, o.report,
                              o.warnings) if o.status == "demo" else o for o in outcomes]


def _similar_actors(frame: pl.DataFrame, outcomes: list[FileOutcome], known: Known) -> list[FileOutcome]:
    """Warn where two actor names of the register look like one actor written two ways
    (names the alias list joins are one name already)."""
    listed = set(known.actors.values())
    # Only actors in the same county can overlap; two names the list knows are two actors.
    by_lan = frame.select("actor", lan=pl.col("area_code").str.slice(0, 2)).drop_nulls().unique()
    pairs = set()
    for _, group in sorted(by_lan.group_by("lan"), key=lambda g: g[0]):
        names = sorted(group["actor"].to_list())
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if not (a in listed and b in listed) and \
                        difflib.SequenceMatcher(None, fold(a), fold(b)).ratio() >= SIMILAR:
                    pairs.add((a, b))
    pairs = sorted(pairs)
    if not pairs:
        return outcomes
    files: dict[str, list[str]] = {}
    for file, actor in frame.select("source_file", "actor").unique().sort("source_file", "actor").iter_rows():
        files.setdefault(actor, []).append(file)
    extra: dict[str, list[pl.DataFrame]] = {}
    for a, b in pairs:
        odd = b if a in listed else a  # the name the alias list does not know
        for file in files.get(odd, []):
            extra.setdefault(file, []).append(problem(
                file, "similar_actor", f"aktörsnamnen '{a}' och '{b}' liknar varandra; är det samma "
                "aktör? Lägg i så fall det ena namnet som alias i data/catalog/actors.yaml, annars "
                "räknas de som två aktörer (och kan ge överlapp mellan aktörer)", column="Aktör"))
    return [FileOutcome(o.register, o.file, o.status, o.rows, o.problems, o.report,
                        combine([o.warnings, *extra.get(o.file, [])])) if o.file in extra else o
            for o in outcomes]


def _forget_removed(state: _State, layout: Layout, keep: set[str], known: Known,
                    max_bytes: int) -> list[FileOutcome]:
    """An accepted copy whose file the county removed (and that is not set aside) no
    longer counts; drop it so that it cannot come back, and say which kommuner it had."""
    if not state.accepted_dir.is_dir():
        return []
    out = []
    for copy in sorted(state.accepted_dir.iterdir()):
        if register_of(copy.name) == layout.name and copy.name not in keep:
            if copy.name not in DEMO_FILES:
                before = check_file(copy, layout, known, max_bytes).frame
                out.append(FileOutcome(layout.name, copy.name, "removed", 0,
                                       warnings=_dropped(copy.name, before, None, known)))
            copy.unlink()
    return out


STATUS_SCHEMA = {"register": pl.String, "file": pl.String, "status": pl.String,
                 "status_label": pl.String, "rows": pl.Int32, "n_problems": pl.Int32,
                 "first_problem": pl.String, "report": pl.String, "n_warnings": pl.Int32,
                 "first_warning": pl.String, "warning_report": pl.String}


def folder_status(folder: Path, extra_warnings: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per file: the registers' latest outcomes and files no register claims.

    `extra_warnings` (problem rows naming a file) are added to their file's warnings, e.g.
    goal baselines that differ from the data. Every file with warnings gets a report in
    `warnings/`; reports of files without warnings are removed.
    """
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
    extra = extra_warnings if extra_warnings is not None else empty_problems()
    written = set()
    for row in rows:
        warned = combine([pl.DataFrame(row.pop("warnings", []) or [], schema=empty_problems().schema),
                          extra.filter(pl.col("file") == row["file"])])
        lines = Summary.of(row["file"], warned).lines if warned.height else []
        row.update(n_warnings=warned.height, first_warning=lines[0] if lines else None,
                   warning_report=None)
        if warned.height:
            row["warning_report"] = _write_warnings(folder / WARNINGS, row["file"], warned)
            written.add(row["warning_report"])
    for old in (folder / WARNINGS).glob("*.warnings.md") if (folder / WARNINGS).is_dir() else []:
        if f"{WARNINGS}/{old.name}" not in written:
            old.unlink()
    return pl.DataFrame(rows, schema=STATUS_SCHEMA).sort("register", "file")


def _write_warnings(directory: Path, file: str, warnings: pl.DataFrame) -> str:
    """`warnings/<file>.warnings.md`: what to look at in an accepted file (written only when
    its text changes, so a rebuild does not touch it)."""
    lines = [f"# Varningar: {file}", "",
             "Filen är godkänd och räknas, men det här bör du titta på:", ""]
    lines += [f"- {KINDS[r['kind']]}: {describe_line(r)}" for r in warnings.iter_rows(named=True)]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{file}.warnings.md"
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return f"{WARNINGS}/{path.name}"
