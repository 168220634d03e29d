"""The publication (group `reports`): the database, the site and the downloads, as a whole.

One step makes all three, because a reader must never see two builds at once: it checks
that every published table was built from the same inputs (the build book), compares the
build with the current publication (nothing changed: nothing is written), then fills a new
publication folder — the snapshot with the publication history, the site and the downloads,
unchanged files hardlinked from the current publication — and makes it current with one
atomic symlink swap (pipeline/publication.py). That work runs in a fresh process of its own
(`write_publication`, pipeline/own_process.py), so its peak memory is not added to the run's;
the process starts with the step and loads its modules while the step checks.
The three assets are one multi-asset that cannot be split: materialising any of them in the
UI materialises the publication.
"""

from datetime import UTC, datetime

import dagster as dg

from checks.registry import TABLES
from pipeline.assets.coordination import COORDINATION_MARTS
from pipeline.assets.health_economics import HEALTH_MARTS
from pipeline.factory import OWNER
from pipeline.own_process import OwnProcess
from pipeline.publication import current_release
from pipeline.publication_work import write_publication
from pipeline.resources import Paths, StatisticsApis
from pipeline.summary import PUBLICATION_STEP, SNAPSHOT_KEY
from pipeline.warehouse import Consistency, consistency, fingerprint, published_run, release
from reports.downloads import FOLDER as DOWNLOAD_DIR

MART_KEYS = [dg.AssetKey(["marts", t]) for t in ("area", "indicator", "fact_indicator",
                                                  "kommun_structure", "peer_group",
                                                  "funnel_limit", "method", "label",
                                                  "watch_list")]
MART_KEYS += [dg.AssetKey([TABLES[t][0], t]) for t in (*COORDINATION_MARTS, "register_file")]
MART_KEYS += [dg.AssetKey(["marts", t]) for t in HEALTH_MARTS]
# Published meta tables besides the raw-response log (data quality and source vintages).
META_KEYS = [dg.AssetKey(["meta", t]) for t in ("data_quality", "kolada_vintage", "scb_vintage",
                                                 "raw_response")]
SITE_KEY = dg.AssetKey(["reports", "site"])
DOWNLOADS_KEY = dg.AssetKey(["reports", "downloads"])
MAX_NAMED = 8  # tables named in a refusal; beyond that, rebuild everything


def asset_name(table: str) -> str:
    return table.replace(".", "/")


def refusal(check: Consistency) -> str:
    """Why a publication is refused, and what to rebuild, in Swedish."""
    lines = ["Publiceringen stoppades: tabellerna bygger inte på samma indata, så databasen och "
             "webbplatsen skulle visa en blandning av två byggen. Den publicerade versionen är orörd."]
    for table, inputs in sorted(check.stale.items()):
        lines.append(f"- {asset_name(table)} byggdes av en äldre version av "
                     f"{', '.join(asset_name(t) for t in sorted(inputs))}.")
    if check.unrecorded:
        lines.append(f"- Okänt hur dessa byggdes (före byggboken): "
                     f"{', '.join(asset_name(t) for t in check.unrecorded)}.")
    words = {"code": "koden", "catalog": "katalogen (data/catalog)"}
    for what, tables in sorted(check.mixed.items()):
        named = ", ".join(asset_name(t) for t in tables[:MAX_NAMED])
        more = f" och {len(tables) - MAX_NAMED} till" if len(tables) > MAX_NAMED else ""
        lines.append(f"- Byggda med en annan version av {words[what]} än den senast byggda "
                     f"tabellen: {named}{more}.")
    if check.mixed or len(check.rebuild) > MAX_NAMED:
        lines.append("Materialisera allt (jobbet build_all, eller Materialize all i Dagster) och "
                     "publicera sedan.")
    else:
        lines.append(f"Materialisera {', '.join(asset_name(t) for t in check.rebuild)} och allt som "
                     f"bygger på dem (eller allt: jobbet build_all) och publicera sedan.")
    return "\n".join(lines)


OUTS = {
    "published_snapshot": dg.AssetOut(
        key=SNAPSHOT_KEY, group_name="reports", owners=[OWNER], kinds={"duckdb"}, is_required=False,
        description="Den publicerade, skrivskyddade databasen data/published/uppvaxt.duckdb: "
                    "scheman marts och meta med publiceringshistoriken (vad som ändrats sedan "
                    "förra publiceringen, vyn marts.v_andringar). Analytiker som har en äldre "
                    "fil öppen påverkas inte, och pipelinen väntar aldrig på dem."),
    "site": dg.AssetOut(
        key=SITE_KEY, group_name="reports", owners=[OWNER], kinds={"html", "svg", "jinja"},
        is_required=False,
        description="Webbplatsen i data/reports/ (öppna index.html): startsida med karta över "
                    "länen, en sida per län som börjar med en sammanfattning, en profil per "
                    "kommun och en sida per indikator, med behov, beredskap, stöd, mål och urval "
                    "från samordningslagret och vad som saknas eller är inaktuellt. Svenska, "
                    "fungerar offline och går att skriva ut. Bara sidor vars innehåll ändrats "
                    "skrivs om."),
    "downloads": dg.AssetOut(
        key=DOWNLOADS_KEY, group_name="reports", owners=[OWNER], kinds={"csv", "excel"},
        is_required=False,
        description="Nedladdningsfiler per län och per kommun (data/reports/nedladdning/): CSV "
                    "med semikolon och decimalkomma (UTF-8 med BOM) och Excel (XLSX), med "
                    "svenska kolumnnamn och etiketter. Oförändrade filer skrivs inte om."),
}


@dg.multi_asset(outs=OUTS, deps=MART_KEYS + META_KEYS, name=PUBLICATION_STEP, can_subset=False,
                description="Publicerar databasen, webbplatsen och nedladdningarna som en "
                            "helhet: bara när alla tabeller bygger på samma indata och något "
                            "har ändrats sedan förra publiceringen, och med ett enda atomärt "
                            "byte, så att en läsare aldrig ser två byggen samtidigt.")
def publication(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis):
    # The heavy part in a fresh process, so its peak is not added to what this one keeps.
    # It starts now and loads its modules while this one checks whether to publish.
    with OwnProcess(write_publication) as work:
        published_tables = [f"{k.path[0]}.{k.path[1]}" for k in MART_KEYS + META_KEYS]
        check = consistency(paths.warehouse, published_tables)
        if not check.ok:
            raise dg.Failure(description=refusal(check), allow_retries=False,
                             metadata={"rebuild": dg.MetadataValue.json(
                                 [asset_name(t) for t in check.rebuild])})
        print_ = fingerprint(paths.warehouse,
                             extra=[check.code_version, check.catalog_version, apis.label])
        current = published_run(paths.published) or {}
        if current.get("fingerprint") == print_ and current_release(paths.data) is not None:
            context.log.info(f"Inget har ändrats sedan publiceringen {current.get('run_id')}; "
                             f"databasen, webbplatsen och nedladdningarna skrivs inte om.")
            return
        run_id = context.run.run_id
        publication_row = {
            "run_id": run_id, "data_label": apis.label, "data_mode": apis.mode,
            "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "fingerprint": print_, "code_version": check.code_version,
            "catalog_version": check.catalog_version,
        }
        release(paths.warehouse)
        try:
            made, peak_mb = work.run(str(paths.data), apis.label, apis.is_demo, run_id,
                                     publication_row)
        except Exception as err:  # noqa: BLE001 - whatever stopped it, the step fails saying what
            raise dg.Failure(description=f"Publiceringen misslyckades: {err}", allow_retries=False) from err
    yield dg.MaterializeResult(asset_key=SNAPSHOT_KEY, metadata={
        "path": dg.MetadataValue.path(str(paths.published)),
        "tables": dg.MetadataValue.json(made["counts"]),
        "dagster/row_count": made["counts"].get("marts.fact_indicator", 0),
        "data_label": apis.label, "rewritten": True, "fingerprint": print_,
        "changes": dg.MetadataValue.json(made["changes"]),
    })
    yield dg.MaterializeResult(asset_key=SITE_KEY, metadata={
        "pages": made["pages"], "rewritten": made["rewritten_pages"],
        "seconds": dg.MetadataValue.json(made["seconds"]),
        "largest_bytes": dg.MetadataValue.json(made["largest"]),
        **({"peak_memory_mb": round(peak_mb)} if peak_mb else {}),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
        "data_label": apis.label,
    })
    yield dg.MaterializeResult(asset_key=DOWNLOADS_KEY, metadata={
        "files": made["files"], "rewritten": made["rewritten_files"],
        "folder": dg.MetadataValue.path(str(paths.reports / DOWNLOAD_DIR)),
        "data_label": apis.label,
    })
