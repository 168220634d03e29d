"""The publication (group `reports`): the database, the site and the downloads, as a whole.

One step makes all three, because a reader must never see two builds at once: it checks
that every published table was built from the same inputs (the build book), compares the
build with the current publication (nothing changed: nothing is written), then fills a new
publication folder — the snapshot with the publication history, the site and the downloads,
unchanged files hardlinked from the current publication — and makes it current with one
atomic symlink swap (pipeline/publication.py). The three assets are one multi-asset that
cannot be split: materialising any of them in the UI materialises the publication.
"""

from dataclasses import fields
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from checks.registry import TABLES
from checks.validate import column_docs, validate
from pipeline.assets.coordination import COORDINATION_MARTS
from pipeline.assets.health_economics import HEALTH_MARTS
from checks.publication_models import HISTORY_MODELS
from pipeline.factory import OWNER
from pipeline.publication import (current_release, discard_release, finish_release, save_record,
                                  start_release)
from pipeline.resources import Paths, StatisticsApis
from pipeline.summary import PUBLICATION_STEP, SNAPSHOT_KEY
from pipeline.warehouse import (HISTORY_TABLES, Consistency, ExtraTable, consistency, fingerprint,
                                publish, published_run, read_published, read_table, write_table)
from reports.downloads import FOLDER as DOWNLOAD_DIR
from reports.model import Marts
from reports.render import ReportContext, render_downloads, render_site
from sources.geography import boundaries
from transforms.changes import (append, decision_states, history_row, kpi_states,
                                value_changes)

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
# Marts fields read from tables of another name; the others are read by their own name
# from marts.* or meta.* (a field the site adds is filled without a change here).
MARTS_TABLES = {"facts": "marts.fact_indicator", "indicators": "marts.indicator",
                "areas": "marts.area", "peers": "marts.peer_group",
                "funnels": "marts.funnel_limit", "methods": "marts.method"}


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


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


def _table(paths: Paths, name: str) -> pl.DataFrame | None:
    schema, table = name.split(".", 1)
    try:
        return read_table(paths.warehouse, schema, table)
    except Exception:  # noqa: BLE001 - a part without its table says so on the page
        return None


def site_marts(paths: Paths, history: dict[str, pl.DataFrame]) -> Marts:
    """The marts the site reads, from the warehouse, except those given in `history` (this
    publication's history tables, and any table already read) by their schema.table name."""
    values = {}
    for spec in fields(Marts):
        if spec.name == "shapes":
            values[spec.name] = boundaries()
            continue
        names = [MARTS_TABLES[spec.name]] if spec.name in MARTS_TABLES else \
            [f"meta.{spec.name}", f"marts.{spec.name}"]
        found = next((history[n] for n in names if n in history), None)
        if found is None:
            found = next((f for f in (_table(paths, n) for n in names) if f is not None), None)
        values[spec.name] = found
    return Marts(**values)


def history_tables(paths: Paths, run_id: str, publication: dict, facts: pl.DataFrame,
                   marts: dict[str, pl.DataFrame | None]) -> dict[str, pl.DataFrame]:
    """The three history tables with this publication appended. The kept history is the
    current publication's (exactly the publications readers have seen); the warehouse's copy
    serves when there is no published one."""
    current = published_run(paths.published) or {}
    previous_run = current.get("run_id")
    kept = {}
    for name in HISTORY_TABLES:
        schema, table = name.split(".", 1)
        kept[name] = read_published(paths.published, schema, table) if previous_run else None
        if kept[name] is None and not previous_run:
            kept[name] = _table(paths, name)
    old_facts = read_published(paths.published, "marts", "fact_indicator") if previous_run else None
    changes = value_changes(old_facts, facts, run_id, previous_run)
    decisions = decision_states(run_id, marts.get("goal_progress"), marts.get("need_index"),
                                marts.get("watch_list"))
    states = kpi_states(marts["indicator"], marts.get("data_quality"), facts)
    row = history_row(publication, previous_run, facts.height, changes, states)
    return {"meta.publication_history": append(kept["meta.publication_history"], row, run_id),
            "meta.publication_change": append(kept["meta.publication_change"], changes, run_id),
            "meta.decision_history": append(kept["meta.decision_history"], decisions, run_id)}


def documented(tables: dict[str, pl.DataFrame], label: str) -> dict[str, ExtraTable]:
    out = {}
    for name, frame in tables.items():
        model = HISTORY_MODELS[name]
        result = validate(frame, model)
        if not result.passed:
            raise dg.Failure(description=result.message(name), allow_retries=False)
        comment, columns = column_docs(model)
        out[name] = ExtraTable(frame, f"{label}. {comment}" if label else comment, columns)
    return out


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
    published_tables = [f"{k.path[0]}.{k.path[1]}" for k in MART_KEYS + META_KEYS]
    check = consistency(paths.warehouse, published_tables)
    if not check.ok:
        raise dg.Failure(description=refusal(check), allow_retries=False,
                         metadata={"rebuild": dg.MetadataValue.json([asset_name(t) for t in check.rebuild])})
    print_ = fingerprint(paths.warehouse, extra=[check.code_version, check.catalog_version, apis.label])
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
    facts = read_table(paths.warehouse, "marts", "fact_indicator")
    marts = {name: _table(paths, f"marts.{name}") for name in
             ("indicator", "goal_progress", "need_index", "watch_list")}
    marts["data_quality"] = _table(paths, "meta.data_quality")
    history = history_tables(paths, run_id, publication_row, facts, marts)
    release = start_release(paths.data, run_id)
    try:
        save_record(paths.raw, paths.warehouse, publication_row)
        counts = publish(paths.warehouse, release.database,
                         publication=pl.DataFrame([publication_row]),
                         extra=documented(history, apis.label if apis.is_demo else ""))
        # The facts already read (a second copy would cost a few hundred MB at once).
        site_data = site_marts(paths, {**history, MARTS_TABLES["facts"]: facts})
        ctx = ReportContext(run_id=run_id, data_label=apis.label, is_demo=apis.is_demo,
                            fetched=fetched_date(facts))
        site = render_site(site_data, release.site, ctx)
        largest = {kind: max(site.bytes_of(kind)) for kind in site.pages}
        rewritten_downloads: list = []
        download_files = render_downloads(site_data, release.site, ctx, rewritten=rewritten_downloads)
        finish_release(paths.data, release, {k: publication_row[k] for k in
                                              ("run_id", "published_at", "fingerprint", "data_label",
                                               "data_mode")})
    except BaseException:
        discard_release(release)
        raise
    # The warehouse keeps the history too (the next publication reads the published copy).
    for name, frame in history.items():
        schema, table = name.split(".", 1)
        comment, columns = column_docs(HISTORY_MODELS[name])
        write_table(paths.warehouse, schema, table, frame, comment=comment, column_comments=columns)
    changed = history["meta.publication_history"].row(-1, named=True)
    pages = sum(len(v) for v in site.pages.values())
    yield dg.MaterializeResult(asset_key=SNAPSHOT_KEY, metadata={
        "path": dg.MetadataValue.path(str(paths.published)),
        "tables": dg.MetadataValue.json(counts),
        "dagster/row_count": counts.get("marts.fact_indicator", 0),
        "data_label": apis.label, "rewritten": True, "fingerprint": print_,
        "changes": dg.MetadataValue.json({k: v for k, v in changed.items()
                                          if k.startswith("n_") or k == "previous_run_id"}),
    })
    yield dg.MaterializeResult(asset_key=SITE_KEY, metadata={
        "pages": pages, "rewritten": len(site.rewritten),
        "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in site.seconds.items()}),
        "largest_bytes": dg.MetadataValue.json(largest),
        "index": dg.MetadataValue.path(str(paths.reports / "index.html")),
        "data_label": apis.label,
    })
    yield dg.MaterializeResult(asset_key=DOWNLOADS_KEY, metadata={
        "files": len(download_files), "rewritten": len(rewritten_downloads),
        "folder": dg.MetadataValue.path(str(paths.reports / DOWNLOAD_DIR)),
        "data_label": apis.label,
    })
