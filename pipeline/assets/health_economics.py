"""Hälsoekonomi marts (group `marts`): what late intervention costs in each kommun, and what
prevention could save. Thin: the catalogues are read by sources/health_economics_catalog.py,
the numbers made by transforms/health_economics.py."""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import dagster as dg
import polars as pl

from pipeline.factory import table_asset
from pipeline.resources import Paths
from sources.catalog import CatalogError
from sources.health_economics_catalog import (ASSUMPTION_COLUMNS, KPI_COLUMNS, LATE_COST_FILE,
                                              SCENARIO_FILE, assumptions_frame, kpi_frame,
                                              load_late_cost, load_scenarios)
from transforms.health_economics import (BASELINE_ROWS, LATE_COST_COLUMNS, SCENARIO_COLUMNS,
                                         baselines, late_cost as build_late_cost,
                                         prevention_scenarios)
from transforms.population import carry_forward, population_bands

HEALTH_MARTS = ["late_cost_kpi", "late_cost", "prevention_assumption", "prevention_scenario"]
FACT_COLUMNS = ["indicator_id", "area_code", "area_type", "sex", "breakdown", "period", "value",
                "status"]


def _stop(err: Exception) -> dg.Failure:
    return dg.Failure(description=str(err), allow_retries=False)


def _bands(paths: Paths, scb_population: pl.DataFrame, bands: set[str]) -> pl.DataFrame:
    """SCB's population in the bands asked for ('0-20', 'all', …), sex T included."""
    totals = {t.total_age for t in paths.source_settings().scb.population_tables}
    spans = [(None, None) if b == "all" else tuple(int(x) for x in b.split("-")) for b in bands]
    return population_bands(scb_population, spans, totals)


def _late_cost_catalog(context: dg.AssetExecutionContext, paths: Paths):
    """The cost catalogue, None without the file (an empty mart), a failure when broken."""
    path = paths.catalog / LATE_COST_FILE
    if not path.exists():
        context.log.warning(f"{path} saknas: hälsoekonomins tabeller blir tomma.")
        return None
    try:
        return load_late_cost(path)
    except CatalogError as err:
        raise _stop(err) from err


def _scenario_catalog(context: dg.AssetExecutionContext, paths: Paths):
    costs, path = _late_cost_catalog(context, paths), paths.catalog / SCENARIO_FILE
    if costs is None or not path.exists():
        context.log.warning(f"{path} eller kostnadskatalogen saknas: scenarierna blir tomma.")
        return None
    try:
        return load_scenarios(path, costs.catalog.price_index)
    except CatalogError as err:
        raise _stop(err) from err


@table_asset("late_cost_kpi", group="marts", kinds=("polars", "duckdb", "yaml"))
def late_cost_kpi(context: dg.AssetExecutionContext, paths: Paths) -> pl.DataFrame:
    """Hälsoekonomi: kostnadskatalogen (data/catalog/late_cost.yaml) – Koladas nyckeltal för
    kostnader och volymer, var varje id och titel har kontrollerats (eller att det inte har
    gått), förbehållen och prisindexet med dess källa."""
    costs = _late_cost_catalog(context, paths)
    return pl.DataFrame(schema=KPI_COLUMNS) if costs is None else kpi_frame(costs)


@table_asset("prevention_assumption", group="marts", kinds=("polars", "duckdb", "yaml"))
def prevention_assumption(context: dg.AssetExecutionContext, paths: Paths) -> pl.DataFrame:
    """Hälsoekonomi: scenariernas antaganden (data/catalog/prevention_scenarios.yaml), ett tal
    per rad – lägsta, troligaste och högsta värde, belopp i prisårets priser, källan och om
    talet har kunnat kontrolleras, eller att det är ett antagande."""
    scenarios = _scenario_catalog(context, paths)
    return pl.DataFrame(schema=ASSUMPTION_COLUMNS) if scenarios is None else assumptions_frame(scenarios)


@table_asset("late_cost", group="marts")
def late_cost(context: dg.AssetExecutionContext, paths: Paths, kolada_value: pl.DataFrame,
              kolada_kpi: pl.DataFrame, scb_population: pl.DataFrame,
              kommun: pl.DataFrame) -> pl.DataFrame:
    """Hälsoekonomi, del 1 – vad sena insatser kostar nu: Koladas kostnader för social barn-
    och ungdomsvård (totalt, HVB, familjehem, öppna insatser) per invånare 0–20 år och totalt,
    individ- och familjeomsorgens nettokostnad mot referenskostnaden, och andelar barn och
    unga vuxna med ekonomiskt bistånd; per kommun, län och riket och år, i fast pris (KPI),
    med treåriga glidande medel (Σ kostnad / Σ invånare). Nyckeltalen står i
    data/catalog/late_cost.yaml; ett nyckeltal som Kolada inte längre har saknas här och
    listas i meta.data_quality. Fakta, inte prognos – och aldrig att lägga ihop med
    scenarierna."""
    costs = _late_cost_catalog(context, paths)
    if costs is None:
        return pl.DataFrame(schema=LATE_COST_COLUMNS)
    settings = costs.settings
    years = kolada_value["period"].unique().to_list()
    people = carry_forward(_bands(paths, scb_population, {k.band for k in settings.kpis}), years)
    frame = build_late_cost(kolada_value, people, kommun, settings, kolada_kpi)
    missing = sorted(set(costs.kpi_ids) - set(kolada_value["kpi"].unique().to_list()))
    if missing:
        context.log.warning(f"Inga Kolada-värden för {', '.join(missing)} (se meta.data_quality).")
    return frame


@table_asset("prevention_scenario", group="marts", columns={"fact_indicator": FACT_COLUMNS},
             rows={"fact_indicator": BASELINE_ROWS})
def prevention_scenario(context: dg.AssetExecutionContext, paths: Paths,
                        fact_indicator: pl.DataFrame, indicator_catalog: pl.DataFrame,
                        scb_population: pl.DataFrame, kommun: pl.DataFrame) -> pl.DataFrame:
    """Hälsoekonomi, del 2 – vad förebyggande insatser skulle kunna spara: scenarier, aldrig
    prognoser (data/catalog/prevention_scenarios.yaml). Per scenario och kommun, län och
    riket: riskgruppen ur SCB:s årskull och kommunens utgångsläge, antagen effekt och
    skuggpris med källa, diskonterat till nuvärde, 90-procentigt intervall från Monte
    Carlo-dragningar med fast frö, kommunens egen andel för sig och sannolikheten att
    besparingen överstiger programmets kostnad. Ett skuggpris som inte har kunnat
    kontrolleras räknas inte."""
    scenarios = _scenario_catalog(context, paths)
    if scenarios is None:
        return pl.DataFrame(schema=SCENARIO_COLUMNS)
    path = paths.catalog / SCENARIO_FILE
    known = set(indicator_catalog["indicator_id"])
    unknown = [f"{path}: scenario {s.id!r}: field 'outcome_indicator': {s.outcome_indicator!r} "
               f"is not in the indicator catalogue" for s in scenarios.entries
               if s.outcome_indicator not in known]
    if unknown:
        raise _stop(CatalogError("\n".join(unknown)))
    params = scenarios.parameters()
    base = baselines(fact_indicator, indicator_catalog, sorted({p.outcome_indicator for p in params}))
    cohorts = _bands(paths, scb_population, {p.cohort_band for p in params}).filter(pl.col("sex") == "T")
    frame = prevention_scenarios(params, scenarios.settings, base, cohorts, kommun)
    riket = frame.filter(pl.col("area_type") == "riket").select(
        "scenario_id", "status", "p_break_even", "p_break_even_kommun")
    context.log.info(f"Scenarier, riket: {riket.rows()}")
    return frame
