"""meta.data_quality: what could not be updated this build and why (group `marts`)."""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from pipeline.assets.sources import previous_record
from pipeline.factory import table_asset
from pipeline.resources import Paths, StatisticsApis
from sources.health_economics_catalog import health_kpis
from transforms.data_quality import KEY, SCHEMA, range_problems
from transforms.data_quality import data_quality as quality_rows

# The fact columns range_problems reads.
RANGE_COLUMNS = ["indicator_id", "area_code", "period", "sex", "breakdown", "value", "status",
                 "source_id", "fetched_at"]


@table_asset("data_quality", group="marts", columns={"fact_indicator": RANGE_COLUMNS})
def data_quality(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
                 kolada_vintage: pl.DataFrame, indicator_catalog: pl.DataFrame,
                 fact_indicator: pl.DataFrame) -> pl.DataFrame:
    """Datakvalitet: en rad per indikator och problem (okänt id hos källan, inga värden,
    oläsbart svar, misslyckad kontroll, nivåskifte, ny enhet), med meddelande på svenska,
    första och senaste dag problemet sågs och vad som visas i stället: förra värdena
    (inaktuella eller spärrade) eller inga (ej tillgänglig). Värden utanför indikatorns
    rimliga intervall (katalogen) visas med en fotnot och får en rad var indikator
    (flaggade): de kostar aldrig indikatorn."""
    record = previous_record(paths, apis) or {}
    previous = pl.DataFrame(record.get("data_quality") or [], schema=SCHEMA)
    if apis.is_replay:  # the replayed build's own table, as it was
        return previous.sort("indicator_id", "problem")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    health = frozenset(health_kpis(paths.catalog, strict=False))
    rows = pl.concat([quality_rows(kolada_vintage, indicator_catalog, previous, today, health),
                      range_problems(fact_indicator, indicator_catalog, previous, today)]).sort(KEY)
    for row in rows.iter_rows(named=True):
        context.log.warning(f"{row['indicator_id']} ({row['state']}): {row['message']}")
    return rows
