"""Which warehouse table each pandera model guards: table name → (schema, model).

Asset keys are [schema, table]; the asset factory and the IO manager look tables up here.
"""

from __future__ import annotations

import pandera.polars as pa

from checks import models
from checks import coordination_models as coordination
from checks import health_economics_models as health
from checks import survey_models
from checks import watch_model

TABLES: dict[str, tuple[str, type[pa.DataFrameModel]]] = {
    "kommun": ("raw", models.RawKommun),
    "indicator_catalog": ("raw", models.IndicatorCatalog),
    "kolada_kpi": ("raw", models.KoladaKpi),
    "kolada_value": ("raw", models.KoladaValue),
    "scb_population": ("raw", models.ScbPopulation),
    "raw_response": ("meta", models.RawResponse),
    "area_membership": ("staging", models.AreaMembership),
    "population": ("staging", models.PopulationBand),
    "kommun_value": ("staging", models.KommunValue),
    "area": ("marts", models.Area),
    "indicator": ("marts", models.IndicatorMart),
    "fact_indicator": ("marts", models.FactIndicator),
    "kommun_structure": ("marts", models.KommunStructure),
    "peer_group": ("marts", models.PeerGroup),
    "funnel_limit": ("marts", models.FunnelLimit),
    "method": ("marts", models.Method),
    "label": ("marts", models.Label),
}

# Survey cells (issue 4); row-level survey data have no table: see sources/surveys/.
TABLES["survey_value"] = ("staging", survey_models.SurveyValue)
TABLES["survey_release"] = ("meta", survey_models.SurveyRelease)

# Data quality and source vintages (issue 9).
TABLES["kolada_vintage"] = ("meta", models.KoladaVintage)
TABLES["scb_vintage"] = ("meta", models.ScbVintage)
TABLES["data_quality"] = ("meta", models.DataQuality)
# The coordination layer (issue 7): local registers, their file status, and the marts.
TABLES.update({
    "register_stod": ("raw", coordination.RegisterStod),
    "register_beredskap": ("raw", coordination.RegisterBeredskap),
    "register_mal": ("raw", coordination.RegisterMal),
    "register_ansokningar": ("raw", coordination.RegisterAnsokningar),
    "register_file": ("meta", coordination.RegisterFile),
    "need_index_input": ("marts", coordination.NeedIndexInput),
    "need_index": ("marts", coordination.NeedIndex),
    "need_sensitivity": ("marts", coordination.NeedSensitivity),
    "need_contribution": ("marts", coordination.NeedContribution),
    "readiness": ("marts", coordination.Readiness),
    "readiness_stage": ("marts", coordination.ReadinessStage),
    "support_need": ("marts", coordination.SupportNeed),
    "goal_progress": ("marts", coordination.GoalProgress),
    "selection": ("marts", coordination.Selection),
})

# The watch list (issue 16): the rule is transforms/watch.py, shared with the site.
TABLES["watch_list"] = ("marts", watch_model.WatchList)
# Hälsoekonomi (issue 17): late-intervention cost and prevention scenarios.
TABLES["late_cost"] = ("marts", health.LateCost)
TABLES["prevention_scenario"] = ("marts", health.PreventionScenario)
TABLES["late_cost_kpi"] = ("marts", health.LateCostKpi)
TABLES["prevention_assumption"] = ("marts", health.PreventionAssumption)
