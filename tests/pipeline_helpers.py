"""Building the pipeline in-process for tests: definitions on a data folder, runs, copies of a
finished build, catalogue variants and demo services with faults (no network anywhere)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import polars as pl
import yaml

from pipeline.definitions import make_definitions
from pipeline.resources import Paths, StatisticsApis, default_resources
from sources.demo.apis import demo_transport
from tests.conftest import CATALOG


def definitions(data_dir: Path, catalog_dir: Path = CATALOG,
                apis: StatisticsApis | None = None) -> dg.Definitions:
    resources = default_resources(Paths(data_dir=str(data_dir), catalog_dir=str(catalog_dir)),
                                  apis or StatisticsApis(mode="demo"))
    return make_definitions(resources)


def run(data_dir: Path, catalog_dir: Path = CATALOG, apis: StatisticsApis | None = None,
        selection: dg.AssetSelection | None = None, tags: dict | None = None,
        instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    defs = definitions(data_dir, catalog_dir, apis)
    job = defs.resolve_job_def("build_all")
    if selection is not None:  # a multi-asset (Kolada, SCB) runs whole
        selection = selection.required_multi_asset_neighbors()
        job = job.get_subset(asset_selection=set(selection.resolve(defs.resolve_asset_graph())))
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(),
                                  raise_on_error=False, tags=tags or {})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_of(data: Path, tmp_path: Path) -> Path:
    """A copy of a data folder; the publication links are copied as links (they are relative)."""
    target = tmp_path / "data"
    shutil.copytree(data, target, symlinks=True)
    return target


def catalog_copy(tmp_path: Path, change: Callable[[Path], None] | None = None) -> Path:
    """A copy of the default catalogue, changed by `change(folder)`."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target)
    if change:
        change(target)
    return target


def edit_indicators(catalog_dir: Path, edit: Callable[[list[dict]], list[dict]]) -> None:
    path = catalog_dir / "indicators.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["indicators"] = edit(doc["indicators"])
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def failure_messages(result) -> str:
    return "\n".join(str(e.event_specific_data.error) if getattr(e.event_specific_data, "error", None)
                     else (e.message or "") for e in result.all_events if e.is_failure)


def faulty_demo(world: dict | None = None, fault: Callable | None = None,
                requests: list | None = None, mode: str = "demo") -> StatisticsApis:
    """The demo services with a changed source state (`world`: DemoWorld.variant keywords),
    a `fault(request, response) -> response | None` hook on every answer, and every request
    appended to `requests`."""

    class FaultyDemo(StatisticsApis):
        def _http(self, demo_world):
            inner = demo_transport(demo_world().variant(**(world or {})))

            def handler(request: httpx.Request) -> httpx.Response:
                if requests is not None:
                    requests.append(request)
                response = inner.handle_request(request)
                if fault is not None:
                    response = fault(request, response) or response
                return response

            return httpx.Client(transport=httpx.MockTransport(handler))

    return FaultyDemo(mode=mode)


def table(database: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()
