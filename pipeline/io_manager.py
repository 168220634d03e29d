"""IO manager that stores asset frames as tables in the pipeline-owned DuckDB warehouse.

Asset key [schema, table] → table schema.table, written in one transaction with the
Swedish documentation of its pandera model as COMMENT ON (see pipeline/warehouse.py for
why the stock DuckDB IO manager is not used).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl

from checks.registry import TABLES
from checks.validate import column_docs
from pipeline.warehouse import read_table, write_table


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Polars frames ↔ DuckDB tables in the warehouse file."""

    database: str
    label: str = ""  # prefixed to every table comment, e.g. the demo-data label

    def _location(self, key: dg.AssetKey) -> tuple[str, str]:
        if len(key.path) != 2:
            raise ValueError(f"asset key {key.to_user_string()} is not [schema, table]")
        return key.path[0], key.path[1]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | None) -> None:
        if obj is None:
            return
        schema, table = self._location(context.asset_key)
        comment, columns = (None, {})
        if table in TABLES:
            comment, columns = column_docs(TABLES[table][1])
        if self.label:
            comment = f"{self.label}. {comment or ''}".strip()
        write_table(Path(self.database), schema, table, obj, comment=comment,
                    column_comments=columns)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        schema, table = self._location(context.asset_key)
        columns = (context.definition_metadata or {}).get("columns")
        return read_table(Path(self.database), schema, table, columns)
