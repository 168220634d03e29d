"""Coordination marts (group `marts`): need index, what drives it, readiness, support against
need, goal follow-up and selection. Thin: each calls a function in transforms/ with the
settings in data/catalog/need_index.yaml and coordination.yaml.

"The build's year" (the support year shown by default, and the latest year followed) is the
year of the latest fetch behind the indicators: today's year for a fresh build, the original
build's for a replay from the raw store, so that a replay stays byte-identical."""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import dagster as dg
import polars as pl

from pipeline.assets.marts import _catalog_file  # a broken catalogue file fails the branch
from pipeline.factory import table_asset
from pipeline.resources import Paths
from sources.coordination_settings import load_coordination_settings, load_need_config
from sources.registers.layouts import SUPPORT_TYPE
from transforms.goals import FACT_COLUMNS as GOAL_FACT_COLUMNS
from transforms.goals import goal_progress as follow_goals
from transforms.need import need_contribution as build_contribution
from transforms.need import need_index as build_need_index
from transforms.need import need_sensitivity as build_sensitivity
from transforms.need import FACT_COLUMNS as NEED_FACT_COLUMNS
from transforms.need import FACT_ROWS as NEED_FACT_ROWS
from transforms.need import prepare_inputs
from transforms.population import population_bands
from transforms.readiness import dimension_scores, stages
from transforms.selection import select
from transforms.support import support_need as build_support_need

COORDINATION_MARTS = ["need_index_input", "need_index", "need_sensitivity", "need_contribution",
                      "readiness", "readiness_stage", "support_need", "goal_progress", "selection"]
FETCHED = {"fact_indicator": ["fetched_at"]}


def need_config(paths: Paths):
    return _catalog_file(load_need_config, paths.catalog / "need_index.yaml")


def coordination_settings(paths: Paths):
    return _catalog_file(load_coordination_settings, paths.catalog / "coordination.yaml")


def build_year(fact_indicator: pl.DataFrame) -> int | None:
    """The year of the latest fetch behind the indicators (see the module text)."""
    latest = fact_indicator["fetched_at"].drop_nulls().max()
    return int(str(latest)[:4]) if latest else None


def children(scb_population: pl.DataFrame) -> pl.DataFrame:
    """Inhabitants 0–19 per kommun and year: area_code, year, children."""
    bands = population_bands(scb_population, [(0, 19)], set())
    return bands.filter(pl.col("sex") == "T").select("area_code", "year", children="population")


@table_asset("need_index_input", group="marts", columns={"fact_indicator": NEED_FACT_COLUMNS},
             rows={"fact_indicator": NEED_FACT_ROWS})
def need_index_input(paths: Paths, fact_indicator: pl.DataFrame, indicator: pl.DataFrame,
                     kommun: pl.DataFrame) -> pl.DataFrame:
    """Behovsindexets indata: för varje kommun, strategisk faktor och indikator i
    data/catalog/need_index.yaml värdet senaste året (kön totalt, ingen nedbrytning) med
    konfidensintervall, det normaliserade och vända värdet (högre = större behov) och
    vikten. Dolda och saknade värden står som saknade med orsak, aldrig som 0."""
    try:
        return prepare_inputs(fact_indicator, indicator, kommun["kommun_code"].to_list(), need_config(paths))
    except ValueError as err:
        raise dg.Failure(description=f"data/catalog/need_index.yaml: {err}", allow_retries=False) from err


@table_asset("need_index", group="marts")
def need_index(paths: Paths, need_index_input: pl.DataFrame, area: pl.DataFrame,
               area_membership: pl.DataFrame, scb_population: pl.DataFrame) -> pl.DataFrame:
    """Behovsindex per kommun, delregion och län för varje strategisk faktor och samlat:
    poäng (percentil 1–100), behovsnivå (kvintil), rang med 90-procentigt intervall och
    sannolikheten att höra till den femtedel med störst behov i riket, samma sak inom länet
    (rang, intervall, sannolikhet att höra till länets tredjedel med störst behov) och inom
    delregionen, och hur rangordningsbar faktorn är (andelen av rangskillnaderna som inte är
    osäkerhet), från 1 000 Monte Carlo-dragningar där indata dras ur sina
    konfidensintervall och metodvalen varieras. Län och delregioner vägs med antalet barn
    0–19 år."""
    config = need_config(paths)
    kids = children(scb_population)
    period = need_index_input["period"].max()
    latest = kids.filter(pl.col("year") <= period)["year"].max() or kids["year"].min()
    return build_need_index(need_index_input, config, area, area_membership,
                            kids.filter(pl.col("year") == latest))


@table_asset("need_sensitivity", group="marts")
def need_sensitivity(paths: Paths, need_index_input: pl.DataFrame,
                     indicator: pl.DataFrame) -> pl.DataFrame:
    """Känslighetsanalys av behovsindexet: hur mycket rangordningen i genomsnitt flyttar
    sig när bara ett metodval varierar (osäkerhet i indata, winsorisering, normalisering,
    vikter, aggregering) eller när en indikator tas bort, per faktor och samlat."""
    titles = dict(indicator.select("indicator_id", "short_title").iter_rows())
    return build_sensitivity(need_index_input, need_config(paths), titles)


@table_asset("need_contribution", group="marts")
def need_contribution(paths: Paths, need_index_input: pl.DataFrame,
                      indicator: pl.DataFrame) -> pl.DataFrame:
    """Vad som driver en kommuns behov: för varje kommun och strategisk faktor varje
    indikators bidrag till behovspoängen (vikt gånger det vända z-värdet; positivt höjer
    behovet), och för det samlade behovet varje faktors bidrag. Bidragen summerar till
    kommunens poäng före rangordningen."""
    titles = dict(indicator.select("indicator_id", "short_title").iter_rows())
    return build_contribution(need_index_input, need_config(paths), titles)


@table_asset("readiness", group="marts")
def readiness(paths: Paths, register_beredskap: pl.DataFrame) -> pl.DataFrame:
    """Beredskap (Community Readiness) per kommun, bedömning och dimension A–F: medelvärdet
    av konsensuspoängen över intervjuerna, samstämmighet mellan bedömarna (andel inom en
    poäng, viktad kappa), förändring sedan förra bedömningen och varningar (bland dem en
    konsensuspoäng utanför bedömarnas poäng)."""
    return dimension_scores(register_beredskap, coordination_settings(paths).readiness.consensus_margin)


@table_asset("readiness_stage", group="marts")
def readiness_stage(paths: Paths, register_beredskap: pl.DataFrame, readiness: pl.DataFrame) -> pl.DataFrame:
    """Beredskapsstadium per kommun och bedömning: medelvärdet av de sex dimensionerna,
    stadium 1–9 som heltalsdelen (aldrig avrundat uppåt) med namn, den lägsta dimensionen,
    frågans punkter i Preventionsstjärnan, förändring sedan förra bedömningen och varningar
    (färre än fyra intervjuer, konsensus utanför bedömarnas poäng)."""
    return stages(register_beredskap, readiness, coordination_settings(paths).readiness.consensus_margin)


@table_asset("support_need", group="marts", columns=FETCHED)
def support_need(paths: Paths, register_stod: pl.DataFrame, need_index: pl.DataFrame,
                 scb_population: pl.DataFrame, fact_indicator: pl.DataFrame) -> pl.DataFrame:
    """Stöd mot behov per kommun, strategisk faktor och år, till och med byggets år (aldrig
    ett kommande år): behovet med osäkerhet, antal aktörer och insatser, stödtyper, kronor
    per barn 0–19 år (och hur många ekonomiska stöd som saknar belopp), en klass att agera på
    (högt behov utan stöd, osäkert, lägre behov med mycket stöd …), överlapp mellan aktörer
    och vilket år sidorna visar."""
    settings = coordination_settings(paths).support
    return build_support_need(register_stod, need_index, children(scb_population), settings, SUPPORT_TYPE,
                              build_year=build_year(fact_indicator))


@table_asset("goal_progress", group="marts", columns={"fact_indicator": GOAL_FACT_COLUMNS})
def goal_progress(context: dg.AssetExecutionContext, register_mal: pl.DataFrame,
                  fact_indicator: pl.DataFrame, indicator: pl.DataFrame) -> pl.DataFrame:
    """Uppföljning av kommunernas mål år för år sedan basåret: värde med intervall,
    förändring från basvärdet med test, och status (uppnått, på väg, ingen säker
    förändring, åt fel håll, går inte att följa – med orsak)."""
    frame = follow_goals(register_mal, fact_indicator, indicator)
    stuck = frame.filter(pl.col("is_latest") & (pl.col("status") == "cannot_follow"))
    if stuck.height:
        first = ", ".join(f"{g} ({r})" for g, r in stuck.select("goal_id", "status_reason").head(3).iter_rows())
        context.log.info(f"{stuck.height} goal(s) cannot be followed (see marts.goal_progress), e.g. {first}")
    return frame


@table_asset("selection", group="marts", columns=FETCHED)
def selection(paths: Paths, register_ansokningar: pl.DataFrame, need_index: pl.DataFrame,
              readiness_stage: pl.DataFrame, register_stod: pl.DataFrame,
              fact_indicator: pl.DataFrame) -> pl.DataFrame:
    """Urval bland kommuner som sökt en utlysning, bedömt inom länet (eller riket, om
    utlysningen säger det): behov inom utlysningens faktorer i länet och i riket med
    intervall, beredskap för utlysningens fråga och om stödformen passar stadiet (annars vad
    som passar), pågående stöd, och ett av tre förslag med skälen i klartext: föreslås,
    bedöms kvalitativt (osäkert behov, ingen eller för gammal bedömning) eller föreslås inte.
    Det föreslår; människor beslutar."""
    settings = coordination_settings(paths).selection
    config = need_config(paths)
    return select(register_ansokningar, need_index, readiness_stage, register_stod, settings, SUPPORT_TYPE,
                  build_year=build_year(fact_indicator), county_share=config.county_top_share,
                  national_share=config.top_share)
