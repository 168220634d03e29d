"""The pipeline's private store for survey data: data/private/surveys/.

Row-level data live here and nowhere else: not in the inbox once read, not in the
warehouse, the published snapshot, reports or Dagster's run history. Folders are 0700 and
files 0600 (only the pipeline's user can read them); the folder is ignored by git. Files
are written to a temporary name and renamed, so a reader never sees half a file.

| path | holds |
|---|---|
| `incoming/<file>` | a vendor's file while it is being checked (moved out of the inbox first) |
| `raw/<file>` | the vendor's file as delivered, once accepted, with its sidecars |
| `quarantine/<file>` | a refused file (its report is in the inbox's quarantine folder) |
| `microdata/<file>.parquet` | scored respondents of an accepted file |
| `files/<file>.json` | what was accepted: codebook, sha256, years, respondents per kommun |
| `cells/<file>.parquet` | unsuppressed kommun cells of a file (audit trail) |
| `cuts/<codebook>-v<version>.parquet` | percentile cut-points, fixed per codebook version |
| `released/<survey>-<year>.parquet` | every released version of a wave: true cells and what was shown |
| `suppression.parquet` | why each hidden cell is hidden (primary, complement, …) |
| `log/withdrawn.jsonl`, `log/errors/` | withdrawals; internal errors (tracebacks stay here) |
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import polars as pl

MICRODATA = "microdata"
CELLS = "cells"
RAW = "raw"
INCOMING = "incoming"
QUARANTINE = "quarantine"
FILES = "files"
CUTS = "cuts"
RELEASED = "released"
LOG = "log"
DIR_MODE = 0o700
FILE_MODE = 0o600


class PrivateStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    # --- permissions ----------------------------------------------------------------------

    def secure(self) -> None:
        """Make the store (and data/private above it) 0700, and every file in it 0600."""
        self._dir(self.root)
        if self.root.parent.name == "private":
            os.chmod(self.root.parent, DIR_MODE)
        for path in self.root.rglob("*"):
            if path.is_symlink():
                continue
            os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)

    def _dir(self, path: Path) -> Path:
        if self.root.parent.name == "private" and not self.root.parent.exists():
            self.root.parent.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
            os.chmod(self.root.parent, DIR_MODE)
        missing = [p for p in [path, *path.parents] if not p.exists() and self.root in [p, *p.parents]]
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        for p in [*missing, path]:
            os.chmod(p, DIR_MODE)
        return path

    def _commit(self, tmp: Path, target: Path) -> Path:
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
        return target

    def _tmp(self, target: Path) -> Path:
        self._dir(target.parent)
        return target.with_name(f".{target.name}.{os.getpid()}.tmp")

    def write_frame(self, frame: pl.DataFrame, target: Path) -> Path:
        tmp = self._tmp(target)
        frame.write_parquet(tmp)
        return self._commit(tmp, target)

    def write_text(self, text: str, target: Path) -> Path:
        tmp = self._tmp(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return self._commit(tmp, target)

    def append_line(self, line: str, target: Path) -> None:
        self._dir(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line.rstrip("\n") + "\n")
        os.chmod(target, FILE_MODE)

    def move_in(self, source: Path, folder: str, name: str | None = None) -> Path:
        """Move a file (never following a link) into a private folder, replacing any file of
        the same name there."""
        target = self._dir(self.root / folder) / (name or source.name)
        try:
            os.replace(source, target)
        except OSError:  # another file system: copy, then remove the original
            shutil.copy2(source, target, follow_symlinks=False)
            source.unlink()
        if not target.is_symlink():
            os.chmod(target, FILE_MODE)
        return target

    # --- what the intake and the tables use -----------------------------------------------

    def path(self, folder: str, name: str) -> Path:
        return self.root / folder / name

    def microdata_path(self, source_file: str) -> Path:
        return self.root / MICRODATA / f"{source_file}.parquet"

    def write_microdata(self, source_file: str, scores: pl.DataFrame) -> Path:
        """Scored respondent rows of one survey file (replacing an earlier version)."""
        return self.write_frame(scores, self.microdata_path(source_file))

    def microdata_files(self) -> list[Path]:
        """Stored files that are still in: microdata whose manifest and raw file are there
        (deleting the raw file withdraws it, like a `.withdraw` marker)."""
        out = []
        for path in sorted((self.root / MICRODATA).glob("*.parquet")):
            name = path.name.removesuffix(".parquet")
            if (self.root / FILES / f"{name}.json").is_file() and (self.root / RAW / name).is_file():
                out.append(path)
        return out

    def stale_files(self) -> list[str]:
        """Stored microdata whose raw file or manifest was deleted: withdrawn by hand."""
        kept = {p.name for p in self.microdata_files()}
        return sorted(p.name.removesuffix(".parquet") for p in (self.root / MICRODATA).glob("*.parquet")
                      if p.name not in kept)

    def read_microdata(self, path: Path, columns: list[str] | None = None) -> pl.DataFrame:
        return pl.read_parquet(path, columns=columns)

    def write_manifest(self, source_file: str, manifest: dict) -> Path:
        return self.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True),
                               self.root / FILES / f"{source_file}.json")

    def manifests(self) -> dict[str, dict]:
        out = {}
        for path in sorted((self.root / FILES).glob("*.json")):
            out[path.name.removesuffix(".json")] = json.loads(path.read_text(encoding="utf-8"))
        return out

    def remove_file(self, source_file: str) -> list[Path]:
        """Everything stored of one file (a withdrawal); returns what was removed."""
        removed = []
        candidates = [self.microdata_path(source_file), self.root / CELLS / f"{source_file}.parquet",
                      self.root / FILES / f"{source_file}.json"]
        candidates += sorted((self.root / RAW).glob(f"{source_file}*")) if (self.root / RAW).exists() else []
        for path in candidates:
            if path.exists() or path.is_symlink():
                path.unlink()
                removed.append(path)
        return removed

    def write_cells(self, source_file: str, cells: pl.DataFrame) -> Path:
        """Unsuppressed kommun cell sums of one survey file (audit trail, private)."""
        return self.write_frame(cells, self.root / CELLS / f"{source_file}.parquet")

    def write_cut_values(self, cuts: pl.DataFrame) -> Path:
        return self.write_frame(cuts, self.root / "cut_values.parquet")

    def all_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())
