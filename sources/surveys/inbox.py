"""The survey inbox: where vendors' files are dropped, paired with codebooks, quarantined.

Folder: data/inbox/surveys/ by default (UPPVAXT_SURVEY_INBOX overrides). Every regular file
directly in it is a survey file, except hidden files and `<file>.codebook` sidecars.

Pairing a file with its codebook (data/catalog/surveys/<id>.yaml), first match wins:
1. a sidecar `<file name>.codebook` next to it whose text is the codebook id, e.g.
   `elevenkat_2024.sav.codebook` containing `sthlm`;
2. the file name starts with the codebook id followed by `_`, `-` or `.`, e.g.
   `sthlm_2024.sav` or `lupp-2023-ostergotland.csv` (the longest matching id wins).

A file's change key is its name, size and modification time plus the codebook's hash, so a
new or replaced file, or an edited codebook, is processed again, and an unchanged one is
not. A bad file is moved to `<inbox>/quarantine/` next to a report of its problems
(`<file>.problems.md` in Swedish and `<file>.problems.json`); the other files stay put.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.survey_codebook import Codebook
from sources.tabular.problems import problem, write_report

SIDECAR = ".codebook"
QUARANTINE = "quarantine"


@dataclass(frozen=True)
class InboxFile:
    path: Path
    size: int
    mtime_ns: int

    @property
    def partition_key(self) -> str:
        return self.path.name

    def change_key(self, codebook: Codebook | None) -> str:
        book = f"{codebook.id}@{codebook.sha256[:12]}" if codebook else "no-codebook"
        return f"{self.path.name}:{self.size}:{self.mtime_ns}:{book}"


def list_inbox(inbox: Path, settle_seconds: float = 0.0, now: float | None = None) -> list[InboxFile]:
    """Survey files in the inbox, leaving out files modified in the last `settle_seconds`
    (a copy may still be under way)."""
    if not inbox.is_dir():
        return []
    now = time.time() if now is None else now
    found = []
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(SIDECAR):
            continue
        stat = path.stat()
        if now - stat.st_mtime < settle_seconds:
            continue
        found.append(InboxFile(path, stat.st_size, stat.st_mtime_ns))
    return found


def pair(path: Path, codebooks: dict[str, Codebook]) -> tuple[Codebook | None, pl.DataFrame | None]:
    """The codebook for a survey file, or a problem saying why there is none."""
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.is_file():
        wanted = sidecar.read_text(encoding="utf-8", errors="replace").strip()
        if wanted in codebooks:
            return codebooks[wanted], None
        return None, problem(path.name, "no_codebook",
                             f"{sidecar.name} anger kodboken {wanted!r}, som inte finns "
                             f"(kända: {', '.join(sorted(codebooks))})", value=wanted)
    name = path.name.lower()
    matches = [b for b in codebooks if any(name.startswith(b + s) for s in "_-.")]
    if matches:
        return codebooks[max(matches, key=len)], None
    return None, problem(path.name, "no_codebook",
                         "ingen kodbok hittades: börja filnamnet med kodbokens id följt av _ "
                         f"(t.ex. {sorted(codebooks)[0] if codebooks else 'id'}_2024.csv) eller "
                         f"lägg en fil {path.name}{SIDECAR} med id:t bredvid "
                         f"(kända: {', '.join(sorted(codebooks))})")


def quarantine(path: Path, problems: pl.DataFrame, inbox: Path) -> Path:
    """Move a bad file (and its sidecar) aside with a report; return the new location."""
    target_dir = inbox / QUARANTINE
    write_report(target_dir, path.name, problems,
                 advice="Rätta filen och lägg den i inkorgen igen.")
    target = target_dir / path.name
    if path.exists():
        shutil.move(path, target)
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.exists():
        shutil.move(sidecar, target_dir / sidecar.name)
    return target
