"""Report and publication assets (group `reports`)."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from checks.registry import TABLES
from pipeline.assets.coordination import COORDINATION_MARTS
from pipeline.factory import OWNER
from pipeline.resources import Paths, StatisticsApis
from pipeline.warehouse import publish
from reports.model import Marts
from reports.render import ReportContext, render_downloads, render_site
from sources.geography import boundaries

MART_KEYS = [dg.AssetKey(["marts", t]) for t in ("area", "indicator", "fact_indicator",
                                                  "kommun_structure", "peer_group",
                                                  "funnel_limit", "method", "label")]
MART_KEYS += [dg.AssetKey([TABLES[t][0], t]) for t in (*COORDINATION_MARTS, "register_file")]


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


SITE_INS = {name: dg.AssetIn(key=["marts", name]) for name in
            ("fact_indicator", "indicator", "area", "peer_group", "funnel_limit", "method")}
# The coordination layer's marts, which the county pages and profiles tell the story with.
COORDINATION_INS = {name: dg.AssetIn(key=["marts", name]) for name in
                    ("need_index", "need_sensitivity", "readiness", "readiness_stage",
                     "support_need", "goal_progress", "selection")}


def site_marts(fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
               peer_group: pl.DataFrame, funnel_limit: pl.DataFrame, method: pl.DataFrame,
               **optional: pl.DataFrame | None) -> Marts:
    """The marts the site reads; the coordination marts and meta.data_quality by keyword (a
    part whose frame is None says on the page that it is not available)."""
    return Marts(facts=fact_indicator, indicators=indicator, areas=area, peers=peer_group,
                 funnels=funnel_limit, methods=method, shapes=boundaries(), **optional)


def report_context(context: dg.AssetExecutionContext, apis: StatisticsApis,
                   facts: pl.DataFrame) -> ReportContext:
    return ReportContext(run_id=context.run.run_id, data_label=apis.label, is_demo=apis.is_demo,
                         fetched=fetched_date(facts))


@dg.asset(key=["reports", "site"], group_name="reports", owners=[OWNER],
          kinds={"html", "svg", "jinja"}, ins={**SITE_INS, **COORDINATION_INS})
def site(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
         fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
         peer_group: pl.DataFrame, funnel_limit: pl.DataFrame, method: pl.DataFrame,
         need_index: pl.DataFrame, need_sensitivity: pl.DataFrame, readiness: pl.DataFrame,
         readiness_stage: pl.DataFrame, support_need: pl.DataFrame,
         goal_progress: pl.DataFrame, selection: pl.DataFrame) -> dg.MaterializeResult:
    """Webbplatsen i data/reports/ (öppna index.html): startsida med karta över länen, en sida
    per län som börjar med en sammanfattning (behov, bevakningslista, översikt per strategisk
    faktor), en profil per kommun (jämförelsestaplar, trender, flickor och pojkar, elevenkäter,
    liknande kommuner) och en sida per indikator (karta, rangordning, trattdiagram,
    utveckling per län), med behov, beredskap, stöd, mål och urval från samordningslagret.
    Svenska, fungerar offline och går att skriva ut."""
    marts = site_marts(fact_indicator, indicator, area, peer_group, funnel_limit, method,
                       need_index=need_index, need_sensitivity=need_sensitivity,
                       readiness=readiness, readiness_stage=readiness_stage,
                       support_need=support_need, goal_progress=goal_progress,
                       selection=selection)
    result = render_site(marts, paths.reports, report_context(context, apis, fact_indicator))
    sizes = {kind: result.bytes_of(kind) for kind in result.pages}
    return dg.MaterializeResult(metadata={
        "pages": sum(len(v) for v in result.pages.values()),
        "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in result.seconds.items()}),
        "largest_bytes": dg.MetadataValue.json({k: max(v) for k, v in sizes.items()}),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
        "data_label": apis.label,
    })


@dg.asset(key=["reports", "downloads"], group_name="reports", owners=[OWNER],
          kinds={"csv", "excel"}, ins=SITE_INS)
def downloads(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
              fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
              peer_group: pl.DataFrame, funnel_limit: pl.DataFrame,
              method: pl.DataFrame) -> dg.MaterializeResult:
    """Nedladdningsfiler per län och per kommun (data/reports/nedladdning/): CSV med semikolon
    och decimalkomma (UTF-8 med BOM) och Excel (XLSX), med svenska kolumnnamn,
    indikatorernas titlar och svenska etiketter för alla koder. Oförändrade filer skrivs
    inte om."""
    marts = site_marts(fact_indicator, indicator, area, peer_group, funnel_limit, method)
    written = render_downloads(marts, paths.reports, report_context(context, apis, fact_indicator))
    return dg.MaterializeResult(metadata={
        "files": len(written),
        "folder": dg.MetadataValue.path(str(paths.reports / "nedladdning")),
        "data_label": apis.label,
    })


@dg.asset(
    key=["reports", "published_snapshot"], group_name="reports", owners=[OWNER],
    kinds={"duckdb"}, deps=MART_KEYS,
)
def published_snapshot(context: dg.AssetExecutionContext, paths: Paths,
                       apis: StatisticsApis) -> dg.MaterializeResult:
    """Den publicerade, skrivskyddade databasen data/published/uppvaxt.duckdb: scheman marts
    och meta, byggd som en ny fil och bytt på plats i ett steg. Analytiker som har den
    gamla filen öppen påverkas inte, och pipelinen väntar aldrig på dem. Körs bara när alla
    kontroller av marts har gått igenom."""
    publication = pl.DataFrame({
        "run_id": [context.run.run_id],
        "data_label": [apis.label],
        "data_mode": [apis.mode],
        "published_at": [datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
    })
    counts = publish(paths.warehouse, paths.published, publication=publication)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(paths.published)),
        "tables": dg.MetadataValue.json(counts),
        "dagster/row_count": counts.get("marts.fact_indicator", 0),
        "data_label": apis.label,
    })
