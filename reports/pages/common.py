"""What every page kind shares: comparisons, download links, data quality, sections."""

from __future__ import annotations

from reports.labels import COMPARISON, COMPARISON_SYMBOL, FACTOR_ORDER
from reports.model import SiteData
from transforms.data_quality import QUALITY_STATE

SECTIONS = [*FACTOR_ORDER, "none"]


def comparison(code: str | None) -> dict:
    code = code or "not_compared"
    return {"code": code, "label": COMPARISON.get(code, code), "symbol": COMPARISON_SYMBOL.get(code, "")}


def downloads(stem: str) -> dict:
    return {"csv": f"{stem}.csv", "xlsx": f"{stem}.xlsx"}


def data_quality(data: SiteData, indicator_ids: list[str]) -> list[dict] | None:
    """meta.data_quality rows for the given indicators (None: the table is not there yet)."""
    rows = data.rows_for("data_quality", sorted(set(indicator_ids)))
    if rows is None:
        return None
    return [{"indicator": data.by_id[r["indicator_id"]]["short_title"] if r["indicator_id"] in data.by_id
             else r["indicator_id"],
             "file": data.by_id[r["indicator_id"]]["file"] if r["indicator_id"] in data.by_id else "",
             "state": QUALITY_STATE.get(r["state"], r["state"]), "message": r["message"],
             "since": str(r["first_seen"])[:10], "last": str(r["last_seen"])[:10]}
            for r in rows]


def by_section(data: SiteData):
    """(factor, its indicators that are not context), in the site's order."""
    for factor in SECTIONS:
        yield factor, [i for i in data.indicators if i["strategic_factor"] == factor and not i["context"]]
