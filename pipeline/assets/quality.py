"""meta.data_quality: what could not be updated this build and why (group `marts`)."""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from pipeline.assets.sources import previous_record
from pipeline.factory import table_asset
from pipeline.resources import Paths, StatisticsApis
from sources.health_economics_catalog import health_kpis
from transforms.data_quality import SCHEMA, data_quality as quality_rows


@table_asset("data_quality", group="marts")
def data_quality(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
                 kolada_vintage: pl.DataFrame, indicator_catalog: pl.DataFrame) -> pl.DataFrame:
    """Datakvalitet: en rad per indikator och problem (okänt id hos källan, inga värden,
    oläsbart svar, misslyckad kontroll, nivåskifte, ny enhet), med meddelande på svenska,
    första och senaste dag problemet sågs och vad som visas i stället: förra värdena
    (inaktuella eller spärrade) eller inga (ej tillgänglig)."""
    record = previous_record(paths, apis) or {}
    previous = pl.DataFrame(record.get("data_quality") or [], schema=SCHEMA)
    if apis.is_replay:  # the replayed build's own table, as it was
        return previous.sort("indicator_id", "problem")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    health = frozenset(health_kpis(paths.catalog, strict=False))
    rows = quality_rows(kolada_vintage, indicator_catalog, previous, today, health)
    for row in rows.iter_rows(named=True):
        context.log.warning(f"{row['indicator_id']} ({row['state']}): {row['message']}")
    return rows
