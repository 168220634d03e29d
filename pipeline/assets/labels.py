"""marts.label: a Swedish label for every code in the published database (group `marts`).

CODE_LISTS is the one place that says which dictionary labels which column. To label a new
coded column, add its dictionary (kept next to the code that defines it) and a CodeList
here; tests/test_sql_door.py fails while a published column with an `isin` list lacks one.
"""

import dagster as dg
import polars as pl

from checks.codes import (AREA_TYPE, BREAKDOWN_ALL, CI_METHOD, CI_METHOD_DESCRIPTION,
                          COMPARISON_DESCRIPTION, DATA_MODE, HTTP_METHOD, INDICATOR_DOMAIN,
                          QUINTILE, QUINTILE_DESCRIPTION, RANK_BAND_DESCRIPTION, SEX_SPLIT,
                          SOURCE, SOURCE_MEASURE, STATUS_DESCRIPTION, STATUS_OK,
                          TREND_DESCRIPTION, TREND_NOT_CALCULATED, VALUE_TYPE, VERIFICATION,
                          pooled_label)
from checks.publication_models import HISTORY_MODELS
from checks.registry import TABLES
from checks.validate import allowed_codes
from pipeline.assets.surveys import SurveySettings
from pipeline.factory import table_asset
from pipeline.resources import Paths
from pipeline.warehouse import PUBLISHED_SCHEMAS
from reports.labels import (COMPARISON, FACTOR, POLARITY, RANK_BAND, SEX, STATUS,
                            STRATEGIC_FACTORS, TREND)
from sources.catalog import CatalogError, load_peer_settings
from sources.registers.folder import FILE_STATUS, UNKNOWN
from sources.registers.layouts import DIRECTION, FRAMES, REGISTER_TITLES, SUPPORT_TYPE
from sources.surveys.codebook import CodebookError
from sources.surveys.releases import CHANGE as SURVEY_CHANGE
from transforms import goals, health_economics, need, readiness, selection, support
from transforms.data_quality import (DATA_PROBLEM, QUALITY_STATE, QUALITY_STATE_DESCRIPTION,
                                     USED_FOR, VINTAGE_STATE)
from transforms.changes import DECISION_KINDS
from transforms.labels import CodeList, label_table, unlabelled
from transforms.pooling import pooled_breakdown
from transforms.watch import WATCH_REASON

COMPARED_TO = ("lan", "riket", "rest_of_lan", "rest_of_riket", "peers")


def _then_and_now(column: str) -> tuple[str, str]:
    """meta.publication_change's pair of a fact column: its value before and now."""
    return f"publication_change.old_{column}", f"publication_change.new_{column}"


CODE_LISTS = [
    CodeList("status", {**STATUS, "ok": STATUS_OK},
             ("fact_indicator.status", *_then_and_now("status")), STATUS_DESCRIPTION),
    CodeList("comparison", COMPARISON,
             tuple(f"fact_indicator.compared_to_{to}" for to in COMPARED_TO)
             + _then_and_now("compared_to_lan") + _then_and_now("compared_to_riket"),
             COMPARISON_DESCRIPTION),
    CodeList("trend", {**TREND, "cannot_be_calculated": TREND_NOT_CALCULATED},
             ("fact_indicator.trend", *_then_and_now("trend")), TREND_DESCRIPTION),
    CodeList("rank_band", RANK_BAND, ("fact_indicator.rank_band",), RANK_BAND_DESCRIPTION),
    CodeList("quintile", QUINTILE, ("fact_indicator.quintile",), QUINTILE_DESCRIPTION),
    CodeList("sex", SEX, ("fact_indicator.sex", "funnel_limit.sex", "goal_progress.sex",
                          "publication_change.sex")),
    CodeList("area_type", AREA_TYPE, ("area.area_type", "fact_indicator.area_type",
                                      "late_cost.area_type", "prevention_scenario.area_type",
                                      "publication_change.area_type")),
    CodeList("ci_method", CI_METHOD,
             ("fact_indicator.ci_method", "indicator.ci_method", "funnel_limit.method"),
             CI_METHOD_DESCRIPTION),
    CodeList("strategic_factor", STRATEGIC_FACTORS,
             ("indicator.strategic_factor", "need_index_input.factor", "selection.need_factor",
              "watch_list.strategic_factor")),
    CodeList("factor", FACTOR, ("indicator.factor",)),
    CodeList("polarity", POLARITY, ("indicator.polarity",)),
    CodeList("value_type", VALUE_TYPE, ("indicator.value_type",)),
    CodeList("indicator_domain", INDICATOR_DOMAIN, ("indicator.domain",)),
    CodeList("source", SOURCE, ("indicator.source", "raw_response.source")),
    CodeList("source_measure", SOURCE_MEASURE, ("indicator.source_measure",)),
    CodeList("sex_split", SEX_SPLIT, ("indicator.sex_split",)),
    CodeList("verification", VERIFICATION, ("indicator.verification",)),
    CodeList("http_method", HTTP_METHOD, ("raw_response.method",)),
    CodeList("data_mode", DATA_MODE, ("publication.data_mode", "publication_history.data_mode")),
    CodeList("decision_kind", DECISION_KINDS, ("decision_history.kind",)),
    # Source vintages and data quality.
    CodeList("vintage_state", VINTAGE_STATE, ("kolada_vintage.state", "scb_vintage.state"),
             QUALITY_STATE_DESCRIPTION),
    CodeList("quality_state", QUALITY_STATE, ("data_quality.state",), QUALITY_STATE_DESCRIPTION),
    CodeList("data_problem", DATA_PROBLEM,
             ("data_quality.problem", "kolada_vintage.problem", "scb_vintage.problem")),
    CodeList("used_for", USED_FOR, ("data_quality.used_for",)),
    CodeList("survey_change", SURVEY_CHANGE, ("survey_release.change",)),
    # The coordination layer (registers, need index, readiness, support, goals, selection).
    CodeList("register", {UNKNOWN: "Okänt register (filnamnet visar inget)", **REGISTER_TITLES},
             ("register_file.register",)),
    CodeList("register_file_status", FILE_STATUS, ("register_file.status",)),
    CodeList("need_factor", need.FACTORS,
             ("need_index.factor", "need_sensitivity.factor", "support_need.factor",
              "need_contribution.factor")),
    CodeList("contribution_kind", need.CONTRIBUTION_KIND, ("need_contribution.input_kind",)),
    CodeList("need_input_status", need.INPUT_STATUS, ("need_index_input.status",)),
    CodeList("need_direction", need.DIRECTION, ("need_index_input.direction",)),
    CodeList("need_area_type", need.AREA_TYPES, ("need_index.area_type",)),
    CodeList("need_status", need.NEED_STATUS, ("need_index.status",)),
    CodeList("sensitivity_kind", need.SENSITIVITY_KIND, ("need_sensitivity.input_kind",)),
    CodeList("readiness_dimension", readiness.DIMENSIONS,
             ("readiness.dimension", "readiness_stage.lowest_dimension")),
    CodeList("support_class", support.CLASSES, ("support_need.class",)),
    CodeList("goal_direction", DIRECTION, ("goal_progress.direction",)),
    CodeList("baseline_source", goals.BASELINE_SOURCE, ("goal_progress.baseline_source",)),
    CodeList("goal_status", goals.STATUS, ("goal_progress.status",)),
    CodeList("support_type", SUPPORT_TYPE, ("selection.support_kind",)),
    CodeList("proposal", selection.PROPOSALS, ("selection.proposal",)),
    CodeList("need_band", selection.NEED_BANDS, ("selection.need_band",)),
    CodeList("frame", FRAMES, ("selection.frame",)),
    CodeList("watch_reason", WATCH_REASON, ("watch_list.reason_code",)),
    # Hälsoekonomi (late-intervention cost, prevention scenarios).
    *health_economics.CODE_LISTS,
]

# meta.publication and the publication history are written by the publication step itself,
# not by table assets.
PUBLICATION_COLUMNS = {"data_mode": None}


def published_columns() -> dict[str, dict[str, list[str] | None]]:
    """Each published table's columns with the codes its model allows (None: no fixed list)."""
    columns = {
        f"{layer}.{name}": {column: allowed_codes(spec)
                            for column, spec in model.to_schema().columns.items()}
        for name, (layer, model) in TABLES.items() if layer in PUBLISHED_SCHEMAS
    }
    columns["meta.publication"] = dict(PUBLICATION_COLUMNS)
    for name, model in HISTORY_MODELS.items():
        columns[name] = {column: allowed_codes(spec) for column, spec in model.to_schema().columns.items()}
    return columns


def breakdown_labels(grades: dict[str, str], pooling_years: list[int]) -> dict[str, str]:
    """all, each survey grade (the codebook's own label) and each pooled span in use."""
    return {**BREAKDOWN_ALL, **grades,
            **{pooled_breakdown(n): pooled_label(n) for n in sorted(set(pooling_years))}}


def configured_code_lists(breakdowns: dict[str, str], variables: dict[str, str]) -> list[CodeList]:
    """CODE_LISTS and the lists whose codes come from the catalogue files."""
    return CODE_LISTS + [
        CodeList("breakdown", breakdowns, ("fact_indicator.breakdown", "funnel_limit.breakdown",
                                           "publication_change.breakdown")),
        CodeList("structure_variable", variables, ("kommun_structure.variable",)),
    ]


@table_asset("label", group="marts", kinds=("polars", "duckdb", "yaml"))
def label(context: dg.AssetExecutionContext, paths: Paths, survey_settings: SurveySettings,
          indicator_catalog: pl.DataFrame) -> pl.DataFrame:
    """Kodlistor: en svensk etikett för varje kod i varje kodad kolumn i den publicerade
    databasen (status, jämförelser, trend, rangordning, kön, områdestyp, nedbrytning,
    intervallmetod, strategisk skyddsfaktor, riktning, källa …), med förklaring där
    etiketten inte räcker. Årskurserna kommer från enkätkodböckerna, strukturvariablerna
    från data/catalog/peers.yaml. Slå upp: table_name, column_name och code."""
    try:
        books = survey_settings.codebooks(paths)
        peers = load_peer_settings(paths.peers_file)
    except (CodebookError, CatalogError) as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err
    grades: dict[str, str] = {}
    for book_id in sorted(books):
        for code, grade in books[book_id].grades.items():
            grades.setdefault(code, grade.label)
    breakdowns = breakdown_labels(grades, indicator_catalog["pooling_years"].drop_nulls().to_list())
    lists = configured_code_lists(breakdowns, {v.id: v.label for v in peers.variables})
    columns = published_columns()
    missing = unlabelled(lists, columns)
    if missing:  # their rows carry the code as label and say so in the description
        context.log.warning("Koder utan svensk etikett i marts.label: " + "; ".join(missing))
    return label_table(lists, columns)
