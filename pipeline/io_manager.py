"""IO manager that stores asset frames as tables in the pipeline-owned DuckDB warehouse.

Asset key [schema, table] → table schema.table, written in one transaction with the
Swedish documentation of its pandera model as COMMENT ON (see pipeline/warehouse.py for
why the stock DuckDB IO manager is not used), and with its row in the build book: the
versions of the tables it was built from (the asset's parents in the graph) and the code
and catalogue versions, which the publication checks before it publishes anything.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from checks.registry import TABLES
from checks.validate import column_docs
from pipeline.publication import catalog_version, code_version
from pipeline.warehouse import BuildStamp, Handover, TableWrite, hold, read_table, release, write_table


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Polars frames ↔ DuckDB tables in the warehouse file."""

    database: str
    label: str = ""  # prefixed to every table comment, e.g. the demo-data label
    catalog_dir: str = ""  # the catalogue whose version each table records
    _catalog_version: str = PrivateAttr(default="")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Once per run: a catalogue edited during a run does not split it into two versions.
        self._catalog_version = catalog_version(Path(self.catalog_dir)) if self.catalog_dir else ""

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        release(Path(self.database))  # held from the first read or write (pipeline/warehouse.py)

    def _stamp(self, context: dg.OutputContext) -> BuildStamp:
        try:
            node = context.step_context.job_def.asset_layer.asset_graph.get(context.asset_key)
        except dg.DagsterInvariantViolationError:  # an output context built outside a run
            node = None
        parents = tuple(sorted(f"{k.path[0]}.{k.path[1]}" for k in (node.parent_keys if node else ())
                               if len(k.path) == 2 and k.path[1] in TABLES))
        return BuildStamp(parents=parents, code_version=code_version(),
                          catalog_version=self._catalog_version, run_id=context.run_id)

    def _location(self, key: dg.AssetKey) -> tuple[str, str]:
        if len(key.path) != 2:
            raise ValueError(f"asset key {key.to_user_string()} is not [schema, table]")
        return key.path[0], key.path[1]

    def _docs(self, table: str) -> tuple[str | None, dict[str, str]]:
        comment, columns = column_docs(TABLES[table][1]) if table in TABLES else (None, {})
        if self.label:
            comment = f"{self.label}. {comment or ''}".strip()
        return comment, columns

    def begin_write(self, key: dg.AssetKey) -> TableWrite:
        """A table an asset writes a part at a time (pipeline/factory.py, `chunked`): its
        output is this write, which `handle_output` commits like any other table."""
        schema, table = self._location(key)
        hold(Path(self.database))
        return TableWrite(Path(self.database), schema, table)

    def handle_output(self, context: dg.OutputContext,
                      obj: pl.DataFrame | Handover | TableWrite | None) -> None:
        if obj is None:
            return
        if isinstance(obj, Handover):
            obj = obj.take()
        schema, table = self._location(context.asset_key)
        comment, columns = self._docs(table)
        if isinstance(obj, TableWrite):
            if (obj.schema, obj.table) != (schema, table):
                raise ValueError(f"{obj.schema}.{obj.table} handed on as {schema}.{table}")
            obj.commit(comment=comment, column_comments=columns, stamp=self._stamp(context))
            return
        hold(Path(self.database))
        write_table(Path(self.database), schema, table, obj, comment=comment,
                    column_comments=columns, stamp=self._stamp(context))

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        schema, table = self._location(context.asset_key)
        wanted = context.definition_metadata or {}
        hold(Path(self.database))
        return read_table(Path(self.database), schema, table, wanted.get("columns"), wanted.get("rows"))
