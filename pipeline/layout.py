"""Where the generated data lives under the data folder (plain paths, no Dagster: the
publication's own process uses them, and the `paths` resource hands them out)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataLayout:
    data: Path

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse" / "uppvaxt.duckdb"

    @property
    def published(self) -> Path:
        return self.data / "published" / "uppvaxt.duckdb"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def reports(self) -> Path:
        return self.data / "reports"

    @property
    def private(self) -> Path:
        """Row-level data (survey microdata): never in the warehouse, snapshot or reports."""
        return self.data / "private"
