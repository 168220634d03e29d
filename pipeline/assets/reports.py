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
from reports.render import ReportContext, render_reports

MART_KEYS = [dg.AssetKey(["marts", t]) for t in ("area", "indicator", "fact_indicator",
                                                  "kommun_structure", "peer_group",
                                                  "funnel_limit", "method", "label")]
MART_KEYS += [dg.AssetKey([TABLES[t][0], t]) for t in (*COORDINATION_MARTS, "register_file")]


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


@dg.asset(
    key=["reports", "county_reports"], group_name="reports", owners=[OWNER],
    kinds={"html", "plotly", "jinja"},
    ins={name: dg.AssetIn(key=["marts", name]) for name in
         ("fact_indicator", "indicator", "area", "peer_group", "funnel_limit", "method")},
)
def county_reports(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
                   fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
                   peer_group: pl.DataFrame, funnel_limit: pl.DataFrame,
                   method: pl.DataFrame) -> dg.MaterializeResult:
    """En HTML-rapport per län (data/reports/), på svenska, som fungerar offline och går att
    skriva ut: översikt, rött–rött-lista, kommunernas värden per strategisk skyddsfaktor med
    konfidensintervall, jämförelser med län, riket och liknande kommuner, trend och relativ
    position, trattdiagram, metodbilaga, och länets data som CSV."""
    ctx = ReportContext(run_id=context.run.run_id, data_label=apis.label, is_demo=apis.is_demo,
                        fetched=fetched_date(fact_indicator))
    marts = Marts(facts=fact_indicator, indicators=indicator, areas=area, peers=peer_group,
                  funnels=funnel_limit, methods=method)
    written = render_reports(marts, paths.reports, ctx)
    return dg.MaterializeResult(metadata={
        "reports": len(written),
        "folder": dg.MetadataValue.path(str(paths.reports)),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
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
