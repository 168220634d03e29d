"""Jämför kommuner: every kommun of a county side by side, indicator by indicator.

One table per strategic factor: riket, the län and each kommun as rows, the factor's
indicators as columns (so every table fits a printed A4 page, however many kommuner), each
cell the value with its 95 % interval, the comparison with riket (colour and sign) and the
kommun's place among the county's kommuner. Ticking two or three kommuner keeps only their
rows, one under the other in every table (CSS `:has`, no script); without that support
every row stays, so the page is whole either way. Sorting by one indicator is its indicator page, where all
kommuner are ranked and the county's are marked (the link on each row).
"""

from __future__ import annotations

from reports.labels import STRATEGIC_FACTORS
from reports.model import SiteData, value_cell
from reports.pages.common import by_section, comparison


def county_rank(data: SiteData, ind: dict, codes: list[str]) -> dict[str, str]:
    """Place among the county's kommuner with a value (1 = best; highest where no side is
    better), as 'plats 2 av 13'."""
    rows = [data.row(ind["indicator_id"], c) for c in codes]
    ok = [r for r in rows if r and r["status"] == "ok" and r["value"] is not None]
    sign = 1 if ind["polarity"] == "low_is_good" else -1
    ok.sort(key=lambda r: (sign * r["value"], r["area_code"]))
    return {r["area_code"]: f"{n} av {len(ok)}" for n, r in enumerate(ok, start=1)}


def compare_cell(row: dict | None, unit: str, rank: str) -> dict:
    cell = value_cell(row, unit)
    cmp = comparison(row["compared_to_riket"] if cell["ok"] else None)
    return {"text": cell["text"], "symbol": cmp["symbol"] if cell["ok"] else "",
            "ci": cell["ci"] if cell["ok"] else "", "rank": rank,
            "cls": f"f-{cmp['code']}" if cell["ok"] else "f-none"}


def compare_page(data: SiteData, lan: str) -> dict:
    codes = data.kommuner_of[lan]
    sections = []
    for factor, indicators in by_section(data):
        indicators = [i for i in indicators if any(data.row(i["indicator_id"], c) for c in codes)]
        if not indicators:
            continue
        columns = [{"title": i["short_title"], "file": f"{i['file']}#lan-{lan}", "unit": i["unit_phrase"],
                    "period": data.latest_period.get(i["indicator_id"], "")} for i in indicators]
        ranks = [county_rank(data, i, codes) for i in indicators]
        rows = [{"name": "Riket", "code": "", "file": "", "bench": True,
                 "cells": [{"text": value_cell(data.national_row(i["indicator_id"]), i["unit"])["text"],
                            "ci": "", "rank": "", "cls": "bench"} for i in indicators]},
                {"name": data.names[lan], "code": "", "file": "", "bench": True,
                 "cells": [compare_cell(data.row(i["indicator_id"], lan), i["unit"], "") for i in indicators]}]
        rows += [{"name": data.names[c], "code": c, "file": data.kommun_file(c), "bench": False,
                  "cells": [compare_cell(data.row(i["indicator_id"], c), i["unit"], r.get(c, ""))
                            for i, r in zip(indicators, ranks, strict=True)]} for c in codes]
        sections.append({"title": STRATEGIC_FACTORS[factor], "columns": columns, "rows": rows})
    return {"lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
            "kommuner": [{"code": c, "name": data.names[c], "file": data.kommun_file(c)} for c in codes],
            "sections": sections}
