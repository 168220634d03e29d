"""Report and publication assets (group `reports`)."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from pipeline.factory import OWNER
from pipeline.publication import (catalog_version, code_version, reports_marker, save_record,
                                  write_reports_marker)
from pipeline.resources import Paths, StatisticsApis
from pipeline.warehouse import fingerprint, publish, published_run
from reports.model import Marts
from reports.render import ReportContext, render_reports

MART_KEYS = [dg.AssetKey(["marts", t]) for t in ("area", "indicator", "fact_indicator",
                                                  "kommun_structure", "peer_group",
                                                  "funnel_limit", "method")]
# Published meta tables besides the raw-response log (issue 9: data quality and vintages).
META_KEYS = [dg.AssetKey(["meta", t]) for t in ("data_quality", "kolada_vintage", "scb_vintage")]
SNAPSHOT_KEY = dg.AssetKey(["reports", "published_snapshot"])


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


@dg.asset(
    key=["reports", "county_reports"], group_name="reports", owners=[OWNER],
    kinds={"html", "plotly", "jinja"},
    ins={name: dg.AssetIn(key=["marts", name]) for name in
         ("fact_indicator", "indicator", "area", "peer_group", "funnel_limit", "method")},
    deps=[SNAPSHOT_KEY],  # reports show what was published; skipped when nothing changed
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
    published = published_run(paths.published) or {}
    write_reports_marker(paths.reports, context.run.run_id, published.get("fingerprint", ""))
    return dg.MaterializeResult(metadata={
        "reports": len(written),
        "folder": dg.MetadataValue.path(str(paths.reports)),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
        "data_label": apis.label,
    })


def build_fingerprint(paths: Paths, apis: StatisticsApis) -> str:
    return fingerprint(paths.warehouse, extra=[code_version(), catalog_version(paths.catalog),
                                               apis.label])


@dg.asset(
    key=SNAPSHOT_KEY, group_name="reports", owners=[OWNER],
    kinds={"duckdb"}, deps=MART_KEYS + META_KEYS, output_required=False,
)
def published_snapshot(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis):
    """Den publicerade, skrivskyddade databasen data/published/uppvaxt.duckdb: scheman marts
    och meta, byggd som en ny fil och bytt på plats i ett steg. Analytiker som har den
    gamla filen öppen påverkas inte, och pipelinen väntar aldrig på dem. Körs bara när alla
    kontroller av marts har gått igenom. Har inget ändrats sedan förra publiceringen skrivs
    varken databasen eller rapporterna om."""
    print_ = build_fingerprint(paths, apis)
    current = published_run(paths.published) or {}
    unchanged = current.get("fingerprint") == print_
    if unchanged and reports_marker(paths.reports).get("fingerprint") == print_:
        context.log.info(f"Inget har ändrats sedan publiceringen {current.get('run_id')}; "
                         f"databasen och rapporterna skrivs inte om.")
        return
    if unchanged:  # a build killed after publishing: only the reports are behind
        yield dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(paths.published)), "rewritten": False,
            "fingerprint": print_, "data_label": apis.label})
        return
    publication = {
        "run_id": context.run.run_id,
        "data_label": apis.label,
        "data_mode": apis.mode,
        "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fingerprint": print_,
        "code_version": code_version(),
        "catalog_version": catalog_version(paths.catalog),
    }
    save_record(paths.raw, paths.warehouse, publication)
    counts = publish(paths.warehouse, paths.published, publication=pl.DataFrame([publication]))
    yield dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(paths.published)),
        "tables": dg.MetadataValue.json(counts),
        "dagster/row_count": counts.get("marts.fact_indicator", 0),
        "data_label": apis.label,
        "rewritten": True,
        "fingerprint": print_,
    })
