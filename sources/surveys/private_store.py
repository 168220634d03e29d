"""The pipeline's private store for survey microdata: data/private/surveys/.

Row-level data (scores per respondent) and unsuppressed cell counts live here as parquet,
one file per survey file, and nowhere else: not in the warehouse, not in the published
snapshot, not in reports. The folder is ignored by git. Files are written to a temporary
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

MICRODATA = "microdata"
CELLS = "cells"


class PrivateStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _write(self, frame: pl.DataFrame, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        frame.write_parquet(tmp)
        os.replace(tmp, target)
        return target

    def microdata_path(self, source_file: str) -> Path:
        return self.root / MICRODATA / f"{source_file}.parquet"

    def write_microdata(self, source_file: str, scores: pl.DataFrame) -> Path:
        """Scored respondent rows of one survey file (replacing an earlier version)."""
        return self._write(scores, self.microdata_path(source_file))

    def microdata_files(self) -> list[Path]:
        return sorted((self.root / MICRODATA).glob("*.parquet"))

    def read_microdata(self, path: Path) -> pl.DataFrame:
        return pl.read_parquet(path)

    def write_cells(self, source_file: str, cells: pl.DataFrame) -> Path:
        """Unsuppressed kommun cell sums of one survey file (audit trail, private)."""
        return self._write(cells, self.root / CELLS / f"{source_file}.parquet")

    def write_cut_values(self, cuts: pl.DataFrame) -> Path:
        return self._write(cuts, self.root / "cut_values.parquet")

    def all_files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())
