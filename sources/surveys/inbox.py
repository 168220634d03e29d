"""The survey inbox: where vendors' files are dropped, paired with codebooks, quarantined.

Folder: data/inbox/surveys/ by default (UPPVAXT_SURVEY_INBOX overrides). Only plain files
directly in it are read, by a validated name (no path separators, control characters or
leading dot; at most 200 characters); a symbolic link is never followed but refused with a
report. Sidecars next to a file are not survey files:

- `<file>.codebook`: the codebook id, e.g. `elevenkat_2024.sav.codebook` containing `sthlm`;
- `<file>.delivery`: the vendor's delivery note, `respondents: 1193` (or just the number):
  the file must have exactly that many respondent rows (a truncated file is refused).

A marker `<file>.withdraw` (empty) withdraws an earlier accepted file: its stored rows are
deleted and its cells leave the published tables at the next refresh.

Pairing a file with its codebook (data/catalog/surveys/<id>.yaml), first match wins:
1. the `.codebook` sidecar;
2. the file name starts with the codebook id followed by `_`, `-` or `.`, e.g.
   `sthlm_2024.sav` or `lupp-2023-ostergotland.csv` (the longest matching id wins).

A file's change key is its name, size, modification and status-change times plus the
codebook's hash, so a new, replaced or re-dropped file, or an edited codebook, is processed
again, and an unchanged one is not. Once read, the file leaves the inbox for the private
store. A refused file goes to the private store's quarantine; its report
(`<file>.problems.md` in Swedish and `<file>.problems.json`) is put in the inbox's
`quarantine/` folder. Reports name rows and columns, never a respondent id or an answer.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sources.tabular.problems import problem, write_report as report
from transforms.survey_codebook import ID, Codebook

SIDECAR = ".codebook"
DELIVERY = ".delivery"
WITHDRAW = ".withdraw"
SIDECARS = (SIDECAR, DELIVERY)
QUARANTINE = "quarantine"
ADVICE = ("Rätta filen och lägg den i inkorgen igen. Filen själv ligger i det privata lagret "
          "(data/private/surveys/quarantine/); rapporten anger rad och kolumn men aldrig svars-id "
          "eller svar.")
SIDECAR_MAX_BYTES = 4096
NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")


def valid_name(name: str) -> bool:
    """A plain file name: no folder, no control characters, not hidden."""
    return bool(NAME.fullmatch(name)) and not name.startswith(".") and name not in (".", "..")


@dataclass(frozen=True)
class InboxFile:
    path: Path
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    link: bool = False

    @property
    def partition_key(self) -> str:
        return self.path.name

    def change_key(self, codebook: Codebook | None) -> str:
        book = f"{codebook.id}@{codebook.sha256[:12]}" if codebook else "no-codebook"
        return f"{self.path.name}:{self.size}:{self.mtime_ns}:{self.ctime_ns}:{book}"


def list_inbox(inbox: Path, settle_seconds: float = 0.0, now: float | None = None) -> list[InboxFile]:
    """Survey files and withdraw markers in the inbox (links too, to be refused), leaving out
    files modified in the last `settle_seconds` (a copy may still be under way)."""
    if not inbox.is_dir():
        return []
    now = time.time() if now is None else now
    found = []
    for entry in sorted(os.scandir(inbox), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name.endswith(SIDECARS):
            continue
        info = entry.stat(follow_symlinks=False)
        link = stat.S_ISLNK(info.st_mode)
        if not (link or stat.S_ISREG(info.st_mode)):
            continue  # folders (quarantine/), sockets and the like
        if now - info.st_mtime < settle_seconds:
            continue
        found.append(InboxFile(Path(entry.path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, link))
    return found


def refusal(path: Path, inbox: Path) -> tuple[str, pl.DataFrame] | None:
    """Why `path` may not be read as an inbox file: ("gone" | "name" | "link" | "special",
    problem), or None for a plain file directly in the inbox under a valid name."""
    name = path.name
    if not valid_name(name) or os.path.normpath(path.parent) != os.path.normpath(inbox) \
            or path.parent.resolve() != inbox.resolve():
        return "name", problem(name if valid_name(name) else "(ogiltigt namn)", "not_allowed",
                               "ogiltigt filnamn: bara vanliga filer direkt i inkorgen läses "
                               "(inga mappar, '..' eller styrtecken i namnet)")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "gone", problem(name, "not_allowed", "filen finns inte i inkorgen (redan inläst, "
                               "flyttad eller i karantän?)")
    if stat.S_ISLNK(info.st_mode):
        return "link", problem(name, "not_allowed",
                               "filen är en symbolisk länk; av säkerhetsskäl läses bara vanliga "
                               "filer som ligger direkt i inkorgen – kopiera själva filen hit")
    if not stat.S_ISREG(info.st_mode):
        return "special", problem(name, "not_allowed", "inte en vanlig fil")
    return None


def read_sidecar(path: Path) -> str | None:
    """A sidecar's text (BOM and whitespace stripped), never through a link; None if absent."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > SIDECAR_MAX_BYTES:
        return ""
    return path.read_bytes().decode("utf-8-sig", errors="replace").strip()


def pair(path: Path, codebooks: dict[str, Codebook]) -> tuple[Codebook | None, pl.DataFrame | None]:
    """The codebook for a survey file, or a problem saying why there is none."""
    wanted = read_sidecar(path.with_name(path.name + SIDECAR))
    known = ", ".join(sorted(codebooks))
    if wanted is not None:
        if wanted in codebooks:
            return codebooks[wanted], None
        said = f"kodboken {wanted!r}, som inte finns" if re.fullmatch(ID, wanted or "-") \
            else "inget giltigt kodboks-id"
        return None, problem(path.name, "no_codebook",
                             f"{path.name}{SIDECAR} anger {said} (kända: {known})")
    name = path.name.lower()
    matches = [b for b in codebooks if any(name.startswith(b + s) for s in "_-.")]
    if matches:
        return codebooks[max(matches, key=len)], None
    return None, problem(path.name, "no_codebook",
                         "ingen kodbok hittades: börja filnamnet med kodbokens id följt av _ "
                         f"(t.ex. {sorted(codebooks)[0] if codebooks else 'id'}_2024.csv) eller "
                         f"lägg en fil {path.name}{SIDECAR} med id:t bredvid (kända: {known})")


def delivery_count(path: Path) -> tuple[int | None, pl.DataFrame | None]:
    """The respondent count a `.delivery` note gives for a file, or a problem."""
    text = read_sidecar(path.with_name(path.name + DELIVERY))
    if text is None:
        return None, None
    match = re.fullmatch(r"(?:(?:respondents|svarande|antal)\s*[:=]\s*)?([\d  ]+)", text.splitlines()[0].strip()
                         if text else "", flags=re.IGNORECASE)
    if not match:
        return None, problem(path.name, "row_count",
                             f"leveranssedeln {path.name}{DELIVERY} går inte att läsa: skriv "
                             "'respondents: <antal svarande>' på första raden")
    return int(re.sub(r"\s", "", match.group(1))), None


def write_report(name: str, problems: pl.DataFrame, inbox: Path) -> Path:
    """The quarantine report in the inbox (`quarantine/<file>.problems.md` and `.json`)."""
    return report(inbox / QUARANTINE, name, problems, advice=ADVICE)
