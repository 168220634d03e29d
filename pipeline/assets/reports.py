"""Report and publication assets (group `reports`).

The snapshot is published first and the site and downloads show what was published. An
unchanged build (same data, catalogue and code) publishes nothing, so the site and
downloads are skipped too; each writes a marker with the build's fingerprint once its files
are in place, so a build killed between the snapshot and the reports finishes them next
time.
"""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from checks.registry import TABLES
from pipeline.assets.coordination import COORDINATION_MARTS
from pipeline.assets.health_economics import HEALTH_MARTS
from pipeline.factory import OWNER
from pipeline.publication import (catalog_version, code_version, reports_marker, save_record,
                                  write_reports_marker)
from pipeline.resources import Paths, StatisticsApis
from pipeline.warehouse import fingerprint, publish, published_run, read_published
from reports.downloads import FOLDER as DOWNLOAD_DIR
from reports.model import Marts
from reports.render import ReportContext, render_downloads, render_site
from sources.geography import boundaries

MART_KEYS = [dg.AssetKey(["marts", t]) for t in ("area", "indicator", "fact_indicator",
                                                  "kommun_structure", "peer_group",
                                                  "funnel_limit", "method", "label",
                                                  "watch_list")]
MART_KEYS += [dg.AssetKey([TABLES[t][0], t]) for t in (*COORDINATION_MARTS, "register_file")]
MART_KEYS += [dg.AssetKey(["marts", t]) for t in HEALTH_MARTS]
# Published meta tables besides the raw-response log (data quality, source vintages and
# the survey waves' releases).
META_KEYS = [dg.AssetKey(["meta", t]) for t in ("data_quality", "kolada_vintage", "scb_vintage",
                                                 "survey_release")]
SNAPSHOT_KEY = dg.AssetKey(["reports", "published_snapshot"])


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


SITE_INS = {name: dg.AssetIn(key=["marts", name]) for name in
            ("fact_indicator", "indicator", "area", "peer_group", "funnel_limit", "method")}
# The coordination layer's marts, which the county pages and profiles tell the story with.
COORDINATION_INS = {name: dg.AssetIn(key=["marts", name]) for name in
                    ("need_index", "need_sensitivity", "need_contribution", "readiness",
                     "readiness_stage", "support_need", "goal_progress", "selection")}
QUALITY_INS = {"data_quality": dg.AssetIn(key=["meta", "data_quality"]),
               "watch_list": dg.AssetIn(key=["marts", "watch_list"])}
HEALTH_INS = {name: dg.AssetIn(key=["marts", name]) for name in HEALTH_MARTS}


def site_marts(fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
               peer_group: pl.DataFrame, funnel_limit: pl.DataFrame, method: pl.DataFrame,
               **optional: pl.DataFrame | None) -> Marts:
    """The marts the site reads; the coordination marts and meta.data_quality by keyword (a
    part whose frame is None says on the page that it is not available)."""
    return Marts(facts=fact_indicator, indicators=indicator, areas=area, peers=peer_group,
                 funnels=funnel_limit, methods=method, shapes=boundaries(), **optional)


# The publication history (CONTRACT-changes.md) as the snapshot the site shows has it; a
# table not there yet (before the operations work lands) is None and the page says so.
HISTORY_TABLES = ("publication_history", "publication_change", "decision_history")


def published_history(paths: Paths) -> dict[str, pl.DataFrame | None]:
    return {name: read_published(paths.published, "meta", name) for name in HISTORY_TABLES}


def report_context(context: dg.AssetExecutionContext, apis: StatisticsApis,
                   facts: pl.DataFrame) -> ReportContext:
    return ReportContext(run_id=context.run.run_id, data_label=apis.label, is_demo=apis.is_demo,
                         fetched=fetched_date(facts))


def published_fingerprint(paths: Paths) -> str:
    return (published_run(paths.published) or {}).get("fingerprint", "")


@dg.asset(key=["reports", "site"], group_name="reports", owners=[OWNER],
          kinds={"html", "svg", "jinja"}, ins={**SITE_INS, **COORDINATION_INS, **QUALITY_INS, **HEALTH_INS},
          deps=[SNAPSHOT_KEY])
def site(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
         fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame,
         peer_group: pl.DataFrame, funnel_limit: pl.DataFrame, method: pl.DataFrame,
         need_index: pl.DataFrame, need_sensitivity: pl.DataFrame, need_contribution: pl.DataFrame,
         readiness: pl.DataFrame, readiness_stage: pl.DataFrame, support_need: pl.DataFrame,
         goal_progress: pl.DataFrame, selection: pl.DataFrame,
         data_quality: pl.DataFrame, watch_list: pl.DataFrame, late_cost: pl.DataFrame,
         late_cost_kpi: pl.DataFrame, prevention_scenario: pl.DataFrame,
         prevention_assumption: pl.DataFrame) -> dg.MaterializeResult:
    """Webbplatsen i data/reports/ (öppna index.html): startsida med karta över länen, en sida
    per län som börjar med en sammanfattning (behov, bevakningslista, översikt per strategisk
    faktor), en profil per kommun (jämförelsestaplar, trender, flickor och pojkar, elevenkäter,
    liknande kommuner) och en sida per indikator (karta, rangordning, trattdiagram,
    utveckling per län), med behov, beredskap, stöd, mål och urval från samordningslagret
    (och ett beslutsunderlag per utlysning: sida och Excel i nedladdning/)
    och vad som saknas eller är inaktuellt (meta.data_quality). Svenska, fungerar offline
    och går att skriva ut. Skrivs bara om när den publicerade databasen har ändrats."""
    marts = site_marts(fact_indicator, indicator, area, peer_group, funnel_limit, method,
                       need_index=need_index, need_sensitivity=need_sensitivity,
                       need_contribution=need_contribution,
                       readiness=readiness, readiness_stage=readiness_stage,
                       support_need=support_need, goal_progress=goal_progress,
                       selection=selection, data_quality=data_quality, watch_list=watch_list,
                       late_cost=late_cost, late_cost_kpi=late_cost_kpi,
                       prevention_scenario=prevention_scenario,
                       prevention_assumption=prevention_assumption, **published_history(paths))
    result = render_site(marts, paths.reports, report_context(context, apis, fact_indicator))
    write_reports_marker(paths.reports, context.run.run_id, published_fingerprint(paths))
    sizes = {kind: result.bytes_of(kind) for kind in result.pages}
    return dg.MaterializeResult(metadata={
        "pages": sum(len(v) for v in result.pages.values()),
        "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in result.seconds.items()}),
        "largest_bytes": dg.MetadataValue.json({k: max(v) for k, v in sizes.items()}),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
        "data_label": apis.label,
    })


@dg.asset(key=["reports", "downloads"], group_name="reports", owners=[OWNER],
          kinds={"csv", "excel"}, ins=SITE_INS, deps=[SNAPSHOT_KEY])
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
    write_reports_marker(paths.reports / DOWNLOAD_DIR, context.run.run_id, published_fingerprint(paths))
    return dg.MaterializeResult(metadata={
        "files": len(written),
        "folder": dg.MetadataValue.path(str(paths.reports / DOWNLOAD_DIR)),
        "data_label": apis.label,
    })


def build_fingerprint(paths: Paths, apis: StatisticsApis) -> str:
    return fingerprint(paths.warehouse, extra=[code_version(), catalog_version(paths.catalog),
                                               apis.label])


def reports_show(paths: Paths, print_: str) -> bool:
    """Whether the site and the downloads were both written from the build `print_`."""
    return all(reports_marker(folder).get("fingerprint") == print_
               for folder in (paths.reports, paths.reports / DOWNLOAD_DIR))


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
    if unchanged and reports_show(paths, print_):
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
