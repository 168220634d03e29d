"""Which warehouse table each pandera model guards: table name → (schema, model).

Asset keys are [schema, table]; the asset factory and the IO manager look tables up here.
"""

from __future__ import annotations

import pandera.polars as pa

from checks import models
from checks import survey_models

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
