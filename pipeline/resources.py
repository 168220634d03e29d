"""Dagster resources: where things live and how the statistics APIs are reached."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import httpx
from pydantic import Field

from pipeline.io_manager import WarehouseIOManager
from pipeline.layout import DataLayout
from pipeline.warehouse import published_run

from sources.build_record import RecordError, latest_record, read_record
from sources.catalog import SourceSettings, load_source_settings
from sources.demo.apis import DEMO_KOLADA_URL, DEMO_SCB_URL, demo_transport
from sources.demo.world import DEMO_LABEL, DemoWorld
from sources.http import Fetcher, RateLimiter
from sources.kolada import KoladaClient
from sources.raw_store import RawStore
from sources.scb import ScbClient

REPO_ROOT = Path(__file__).resolve().parent.parent
LIVE_LABEL = "Källa: Kolada och SCB; bearbetning uppvaxt"


class Paths(dg.ConfigurableResource):
    """Folders and files: catalogue (committed) and generated data (ignored by git)."""

    data_dir: str = Field(default=str(REPO_ROOT / "data"),
                          description="Folder for the warehouse, raw store, snapshot and reports")
    catalog_dir: str = Field(default=str(REPO_ROOT / "data" / "catalog"),
                             description="Folder with indicators.yaml, sources.yaml, subregions.yaml")

    @property
    def data(self) -> Path:
        return Path(self.data_dir)

    @property
    def catalog(self) -> Path:
        return Path(self.catalog_dir)

    @property
    def indicators_file(self) -> Path:
        return self.catalog / "indicators.yaml"

    @property
    def sources_file(self) -> Path:
        return self.catalog / "sources.yaml"

    @property
    def subregions_file(self) -> Path:
        return self.catalog / "subregions.yaml"

    @property
    def peers_file(self) -> Path:
        return self.catalog / "peers.yaml"

    @property
    def methods_file(self) -> Path:
        return self.catalog / "methods.yaml"

    @property
    def accept_file(self) -> Path:
        """Level shifts and unit changes a person has checked and accepted."""
        return self.catalog / "accepted_changes.yaml"

    @property
    def layout(self) -> DataLayout:
        return DataLayout(self.data)

    @property
    def warehouse(self) -> Path:
        return self.layout.warehouse

    @property
    def published(self) -> Path:
        return self.layout.published

    @property
    def raw(self) -> Path:
        return self.layout.raw

    @property
    def reports(self) -> Path:
        return self.layout.reports

    @property
    def private(self) -> Path:
        """Row-level data (survey microdata): never in the warehouse, snapshot or reports."""
        return self.layout.private

    def raw_store(self) -> RawStore:
        return RawStore(self.raw)

    def source_settings(self) -> SourceSettings:
        return load_source_settings(self.sources_file)


MODES = ("demo", "live", "replay")


class StatisticsApis(dg.ConfigurableResource):
    """Kolada and SCB: the live APIs, the embedded demo services (the default), or a replay
    of a published build from the raw store (no network)."""

    mode: str = Field(default="demo", description="demo (synthetic data, no network), live, "
                                                  "or replay (the last published build, from data/raw)")
    replay_of: str = Field(default="", description="replay only: the mode of the build replayed")
    kolada_url: str = Field(default="", description="Kolada v3 base URL (empty: sources.yaml)")
    scb_url: str = Field(default="", description="SCB PxWebApi 2.0 base URL (empty: sources.yaml)")
    timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def is_demo(self) -> bool:
        if self.mode not in MODES:
            raise ValueError(f"UPPVAXT_SOURCE must be one of {', '.join(MODES)}, not {self.mode!r}")
        return self.mode == "demo" or (self.mode == "replay" and self.replay_of == "demo")

    @property
    def is_replay(self) -> bool:
        return self.mode == "replay"

    @property
    def label(self) -> str:
        return DEMO_LABEL if self.is_demo else LIVE_LABEL

    def _http(self, demo_world: Callable[[], DemoWorld]) -> httpx.Client:
        transport = demo_transport(demo_world()) if self.is_demo else None
        return httpx.Client(transport=transport,
                            timeout=httpx.Timeout(self.timeout_seconds,
                                                  connect=self.connect_timeout_seconds),
                            headers={"user-agent": "uppvaxt (statistics pipeline)"},
                            follow_redirects=True)

    def _limiter(self, max_calls: int, period: float) -> RateLimiter | None:
        # The in-process demo services have no rate limit to keep to.
        return None if self.is_demo else RateLimiter(max_calls, period)

    def kolada(self, settings: SourceSettings, store: RawStore,
               demo_world: Callable[[], DemoWorld]) -> KoladaClient | None:
        """The Kolada client, or None in replay (nothing is fetched)."""
        if self.is_replay:
            return None
        cfg = settings.kolada
        base = DEMO_KOLADA_URL if self.is_demo else (self.kolada_url or cfg.base_url)
        fetcher = Fetcher(self._http(demo_world), "kolada",
                          self._limiter(cfg.max_calls, cfg.period_seconds), store)
        return KoladaClient(fetcher, base, per_page=cfg.per_page, max_ids=cfg.max_ids_per_segment)

    def scb(self, settings: SourceSettings, store: RawStore,
            demo_world: Callable[[], DemoWorld]) -> ScbClient | None:
        """The SCB client, or None in replay (nothing is fetched)."""
        if self.is_replay:
            return None
        cfg = settings.scb
        base = DEMO_SCB_URL if self.is_demo else (self.scb_url or cfg.base_url)
        fetcher = Fetcher(self._http(demo_world), "scb",
                          self._limiter(cfg.max_calls, cfg.period_seconds), store)
        return ScbClient(fetcher, base)


def replay_record(paths: Paths) -> dict:
    """The build record a replay rebuilds: UPPVAXT_REPLAY_RUN, else the published build's,
    else the newest record in the raw store."""
    run_id = os.environ.get("UPPVAXT_REPLAY_RUN") or (published_run(paths.published) or {}).get("run_id")
    if run_id:
        return read_record(paths.raw, run_id)
    record = latest_record(paths.raw)
    if record is None:
        raise RecordError(f"nothing to replay: no published build recorded in {paths.raw / 'builds'}")
    return record


def replayed_mode(paths: Paths) -> str:
    try:
        return replay_record(paths).get("data_mode", "")
    except RecordError:
        return ""  # the replay run itself says what is missing


def default_resources(paths: Paths | None = None,
                      apis: StatisticsApis | None = None) -> dict[str, object]:
    """Resources as configured by the environment (UPPVAXT_* variables) unless given."""
    env = os.environ
    paths = paths or Paths(
        data_dir=env.get("UPPVAXT_DATA_DIR", str(REPO_ROOT / "data")),
        catalog_dir=env.get("UPPVAXT_CATALOG_DIR", str(REPO_ROOT / "data" / "catalog")),
    )
    mode = env.get("UPPVAXT_SOURCE", "demo")
    apis = apis or StatisticsApis(
        mode=mode,
        replay_of=replayed_mode(paths) if mode == "replay" else "",
        kolada_url=env.get("UPPVAXT_KOLADA_URL", ""),
        scb_url=env.get("UPPVAXT_SCB_URL", ""),
    )
    return {"paths": paths, "apis": apis,
            "io_manager": WarehouseIOManager(database=str(paths.warehouse),
                                             label=DEMO_LABEL if apis.is_demo else "",
                                             catalog_dir=str(paths.catalog))}
