"""The "Hälsoekonomi" section of a kommun profile and a county page.

Two numbers that are never added together, in this order: what late intervention costs here
now (facts from marts.late_cost, with the reference cost, the county and riket), then one
worked prevention scenario (marts.prevention_scenario and the assumptions behind it in
marts.prevention_assumption) with its interval and the chance of breaking even, and a box
"Det här är inte". Every number names its KPI or its source; an unchecked source says so.
The county page lists its kommuner in alphabetical order and ranks nothing by cost.
"""

from __future__ import annotations

from reports.labels import number, percent
from reports.model import SiteData
from transforms.health_economics import BREAK_EVEN, REFERENCE_COMPARISON

TREND_YEARS = 6
NOT_THIS = [
    ("Inte en prognos", "Räkneexemplet visar vad antagandena ger om de stämmer, inte vad som "
                        "kommer att hända."),
    ("Inte kommunens egen budgetvinst", "Besparingen fördelas på kommun, region, stat och den "
                                        "enskilde och kommer under årtionden; kommunens andel står "
                                        "för sig."),
    ("Livstids- och allabetalarbelopp", "Besparingen är ett nuvärde över livet för alla betalare, "
                                        "inte ett årligt belopp."),
    ("Inte att lägga ihop med kostnaderna ovan", "Skuggpriserna räknar redan in ekonomiskt "
                                                 "bistånd, vård och förlorad skatt; årets "
                                                 "kostnader ingår alltså redan."),
]
COST_CAVEATS = ("Bruttokostnader enligt kommunernas räkenskaper, inte kostnader som hade kunnat "
                "undvikas. En hög kostnad kan spegla behov: jämför med referenskostnaden. En enda "
                "placering kan flytta en liten kommuns värde; treårsmedlet är stadigare.")


NNBSP = "\u202f"  # a narrow space that does not break a number in running text


def kronor(value: float | None) -> str:
    return "–" if value is None else f"{number(value, 'antal')}\u00a0kr".replace("\u2009", NNBSP)


def _scale(value: float) -> tuple[float, str]:
    magnitude = abs(value)
    if magnitude >= 1e9:
        return 1e9, "miljarder kr"
    if magnitude >= 1e6:
        return 1e6, "miljoner kr"
    return 1.0, "kr"


def sek(value: float | None) -> str:
    """An amount to about three figures: '2,4 miljarder kr', '415,7 miljoner kr', '48 300 kr'."""
    if value is None:
        return "–"
    unit, word = _scale(value)
    if unit > 1:
        return f"{number(value / unit, '', 1)}\u00a0{word}".replace("\u2009", NNBSP)
    step = 100 if abs(value) >= 10_000 else 1
    return kronor(round(value / step) * step)


def sek_range(low: float | None, high: float | None) -> str:
    """'3,1–5,9 miljoner kr': both ends in the larger end's unit."""
    if low is None or high is None:
        return "–"
    unit, word = _scale(max(abs(low), abs(high)))
    if unit == 1:
        return f"{sek(low).removesuffix(chr(160) + 'kr')}–{sek(high)}"
    places = 2 if 0 < min(abs(low), abs(high)) / unit < 0.1 else 1
    text = f"{number(low / unit, '', places)}–{number(high / unit, '', places)}\u00a0{word}"
    return text.replace("\u2009", NNBSP)


def residents(band: str) -> str:
    return "invånare" if band == "all" else f"invånare {band.replace('-', '–')} år"


def _catalog(data: SiteData) -> list[dict]:
    parts = data.tables.get("late_cost_kpi") or {}
    return sorted((rows[0] for rows in parts.values()), key=lambda r: r["sort_order"])


def _by_kind_year(rows: list[dict]) -> dict[str, dict[int, dict]]:
    out: dict[str, dict[int, dict]] = {}
    for row in rows:
        out.setdefault(row["cost_kind"], {})[row["year"]] = row
    return out


def _latest(series: dict[int, dict], field: str = "value") -> dict | None:
    years = [y for y, r in series.items() if r[field] is not None]
    return series[max(years)] if years else None


def _kpi(kpi: dict) -> str:
    """The KPI id, starred when it has not been checked against Kolada's KPI list."""
    return kpi["source_kpi"] + ("" if kpi["verification"] == "verified" else "*")


def cost_facts(data: SiteData, area: str) -> dict | None:
    """This year's cost of late intervention in an area, with its parts, trend, rolling mean,
    county, riket, reference cost and volumes; None when the mart has nothing for it."""
    catalog = _catalog(data)
    rows = data.rows_for("late_cost", [area]) or []
    series = _by_kind_year(rows)
    costs = [k for k in catalog if k["measure"] == "cost" and k["resident_band"] != "all"]
    if not costs or not series.get(costs[0]["cost_kind"]):
        return None
    head_kpi = costs[0]
    head = series[head_kpi["cost_kind"]]
    latest = _latest(head)
    if latest is None:
        return {"reason": "Kolada har inga kostnader för området som kan räknas om till fast pris."}
    year = latest["year"]
    later = [r for y, r in sorted(head.items()) if y > year and r["value_nominal"] is not None]
    parts = []
    for kpi in costs:
        row = series.get(kpi["cost_kind"], {}).get(year)
        parts.append({"label": kpi["cost_label"], "kpi": _kpi(kpi),
                      "value": kronor(row["value"]) if row else "–",
                      "total": sek(row["sek_total"]) if row else "–",
                      "rolling": kronor(row["rolling_value"]) if row else "–",
                      "lan": kronor(row["lan_value"]) if row else "–",
                      "riket": kronor(row["riket_value"]) if row else "–",
                      "headline": kpi is head_kpi})
    trend_years = [y for y in sorted(head) if head[y]["value"] is not None][-TREND_YEARS:]
    trend = {"years": trend_years,
             "area": [kronor(head[y]["value"]) for y in trend_years],
             "lan": [kronor(head[y]["lan_value"]) for y in trend_years],
             "riket": [kronor(head[y]["riket_value"]) for y in trend_years]}
    return {
        "reason": None, "year": year, "price_year": latest["price_year"],
        "label": head_kpi["cost_label"].lower(), "kpi": _kpi(head_kpi),
        "per": residents(head_kpi["resident_band"]),
        "value": kronor(latest["value"]), "total": sek(latest["sek_total"]),
        "rolling": kronor(latest["rolling_value"]), "rolling_from": year - (latest["rolling_years"] or 1) + 1,
        "lan": kronor(latest["lan_value"]), "riket": kronor(latest["riket_value"]),
        "nominal_later": ({"year": later[-1]["year"], "value": kronor(later[-1]["value_nominal"])}
                          if later else None),
        "parts": parts, "trend": trend,
        "reference": reference(series, catalog),
        "volumes": volumes(series, catalog),
        "index": {"name": head_kpi["price_index"], "source": head_kpi["price_index_source"],
                  "note": head_kpi["price_index_note"]},
        "unchecked": any(k["verification"] != "verified" for k in catalog),
        "quality": quality(data, catalog),
    }


def quality(data: SiteData, catalog: list[dict]) -> list[str]:
    """What meta.data_quality says about the cost KPIs (a retired id, values kept from an
    earlier delivery), in Swedish."""
    labels = {k["source_kpi"]: k["cost_label"] for k in catalog}
    rows = data.rows_for("data_quality", sorted(labels)) or []
    return [f"{labels[r['indicator_id']]}: {r['message']}" for r in rows]


def reference(series: dict[str, dict[int, dict]], catalog: list[dict]) -> list[dict]:
    """Each cost that has a reference cost, read against it in its latest comparable year."""
    out = []
    for kpi in catalog:
        if kpi["measure"] != "cost":
            continue
        row = _latest(series.get(kpi["cost_kind"], {}), "reference_deviation_pct")
        if row is None:
            continue
        ref = next((k for k in catalog if k["reference_for"] == kpi["cost_kind"]), {})
        deviation = row["reference_deviation_pct"]
        out.append({"label": kpi["cost_label"], "year": row["year"], "kpi": _kpi(kpi),
                    "ref_kpi": _kpi(ref) if ref else row["reference_kpi"], "value": kronor(row["value"]),
                    "reference": kronor(row["reference_value"]),
                    "deviation": f"{'+' if deviation > 0 else ''}{number(deviation, '', 1)}\u00a0%",
                    "reading": REFERENCE_COMPARISON[row["reference_comparison"]],
                    "code": row["reference_comparison"], "per": residents(kpi["resident_band"]),
                    "note": ref.get("note")})
    return out


def volumes(series: dict[str, dict[int, dict]], catalog: list[dict]) -> list[dict]:
    out = []
    for kpi in catalog:
        row = _latest(series.get(kpi["cost_kind"], {})) if kpi["measure"] == "volume" else None
        if row is not None:
            out.append({"label": kpi["cost_label"], "kpi": _kpi(kpi),
                        "year": row["year"], "value": f"{number(row['value'], '%')}\u00a0%",
                        "lan": f"{number(row['lan_value'], '%')}\u00a0%" if row["lan_value"] is not None else "–",
                        "riket": f"{number(row['riket_value'], '%')}\u00a0%" if row["riket_value"] is not None else "–"})
    return out


def _interval(low: float | None, high: float | None, fmt) -> str:
    return "–" if low is None or high is None else f"{fmt(low)}–{fmt(high)}"


def _assumption(row: dict) -> dict:
    amount = row["unit"].startswith("kronor")
    rate = lambda x: f"{number(100 * x, '', 1)}\u00a0%"
    fmt = sek if amount else percent if row["unit"].startswith("andel") else rate
    if row["mode"] is None:
        value = "kunde inte läsas"
    elif row["low"] == row["high"]:
        value = fmt(row["mode"])
    elif amount:
        value = f"{sek(row['mode'])} ({sek_range(row['low'], row['high'])})"
    else:
        value = f"{fmt(row['mode'])} ({_interval(row['low'], row['high'], fmt)})"
    if row["kind"] == "assumption":
        source = "Antagande (vad händer om …)"
    else:
        source = row["source"] + ("" if row["verified"] else " Ej kontrollerat i källan själv.")
    if amount and row["source_price_year"] is not None:
        value += f"; {row['price_year']} års priser (källans {row['source_price_year']})"
    return {"label": row["label"], "unit": row["unit"], "value": value, "source": source,
            "note": row["note"], "assumption": row["kind"] == "assumption",
            "unchecked": row["kind"] == "cited" and not row["verified"]}


def scenario_block(row: dict, assumptions: list[dict]) -> dict:
    """One scenario for an area, in words and numbers."""
    ok = row["status"] == "ok"
    block = {"title": row["scenario_title"], "ok": ok, "reason": row["status_reason"],
             "indicator": row["outcome_indicator"], "outcome": row["outcome_text"],
             "at_risk_text": row["at_risk_text"],
             "assumptions": [_assumption(a) for a in sorted(assumptions, key=lambda a: a["sort_order"])]}
    if not ok:
        return block
    fmt = sek
    block |= {
        "shortfall": f"{number(row['shortfall_pct'], '%')}\u00a0%" if row["shortfall_pct"] is not None else None,
        "baseline_year": row["baseline_year"], "cohort": number(row["cohort"], "antal"),
        "cohort_year": row["cohort_year"], "at_risk": number(row["at_risk"], "antal"),
        "coverage": percent(row["coverage"]) if row["coverage"] is not None and row["coverage"] < 0.999 else None,
        "outcomes": number(row["outcomes_central"]),
        "outcomes_ci": _interval(row["outcomes_low"], row["outcomes_high"], number),
        "saving": fmt(row["saving_central"]), "saving_ci": sek_range(row["saving_low"], row["saving_high"]),
        "kommun": fmt(row["kommun_saving_central"]),
        "kommun_ci": sek_range(row["kommun_saving_low"], row["kommun_saving_high"]),
        "cost": fmt(row["cost_central"]), "cost_ci": sek_range(row["cost_low"], row["cost_high"]),
        "net": fmt(row["net_central"]), "net_ci": sek_range(row["net_low"], row["net_high"]),
        "p": percent(row["p_break_even"]), "reading": BREAK_EVEN[row["break_even"]],
        "p_kommun": percent(row["p_break_even_kommun"]),
        "reading_kommun": BREAK_EVEN[row["break_even_kommun"]],
        "price_year": row["price_year"], "draws": number(row["draws"], "antal"),
        "discount": f"{number(100 * row['discount_rate'], '', 1)}\u00a0%",
    }
    return block


def scenarios(data: SiteData, area: str) -> dict | None:
    """The first computable scenario worked in full, the others in brief; None without the mart."""
    rows = data.rows_for("prevention_scenario", [area])
    if rows is None:
        return None
    assumptions = data.tables.get("prevention_assumption") or {}
    blocks = [scenario_block(r, assumptions.get(r["scenario_id"], []))
              for r in sorted(rows, key=lambda r: r["scenario_order"])]
    worked = next((b for b in blocks if b["ok"]), None)
    return {"worked": worked, "others": [b for b in blocks if b is not worked]}


def kommun_section(data: SiteData, code: str) -> dict | None:
    """The section on a kommun profile; None when neither mart is there."""
    if data.tables.get("late_cost") is None and data.tables.get("prevention_scenario") is None:
        return None
    return {"kind": "kommun", "area": data.names[code], "lan": data.names[data.lan_of[code]],
            "facts": cost_facts(data, code), "scenarios": scenarios(data, code),
            "not_this": NOT_THIS, "cost_caveats": COST_CAVEATS}


def county_rows(data: SiteData, lan: str, year: int, kind: str,
                ref_kind: str | None) -> list[dict]:
    """The län, riket and every kommun in alphabetical order (never by cost)."""
    def one(code: str, name: str, file: str | None, cls: str) -> dict:
        series = _by_kind_year(data.rows_for("late_cost", [code]) or [])
        row = series.get(kind, {}).get(year)
        ref = _latest(series.get(ref_kind, {}), "reference_deviation_pct") if ref_kind else None
        return {"name": name, "file": file, "cls": cls,
                "value": kronor(row["value"]) if row else "–",
                "rolling": kronor(row["rolling_value"]) if row else "–",
                "reason": row["status_reason"] if row and row["value"] is None else None,
                "reference": (f"{REFERENCE_COMPARISON[ref['reference_comparison']]} "
                              f"({'+' if ref['reference_deviation_pct'] > 0 else ''}"
                              f"{number(ref['reference_deviation_pct'], '', 1)}\u00a0%, {ref['year']})")
                if ref else "–",
                "ref_code": ref["reference_comparison"] if ref else "not_compared"}

    kommuner = sorted(data.kommuner_of[lan], key=lambda c: data.names[c])
    return ([one("00", "Riket", None, "riket"), one(lan, data.names[lan], None, "lan")]
            + [one(c, data.names[c], data.kommun_file(c), "kommun") for c in kommuner])


def county_section(data: SiteData, lan: str) -> dict | None:
    """The section on a county page; None when neither mart is there."""
    if data.tables.get("late_cost") is None and data.tables.get("prevention_scenario") is None:
        return None
    facts = cost_facts(data, lan)
    table = None
    if facts and facts["reason"] is None:
        catalog = _catalog(data)
        kind = next(k["cost_kind"] for k in catalog if k["measure"] == "cost" and k["resident_band"] != "all")
        ref_kind = next((k["reference_for"] for k in catalog if k["measure"] == "reference"), None)
        table = county_rows(data, lan, facts["year"], kind, ref_kind)
    return {"kind": "lan", "area": data.names[lan], "lan": data.names[lan], "facts": facts,
            "table": table, "scenarios": scenarios(data, lan), "not_this": NOT_THIS,
            "cost_caveats": COST_CAVEATS}


# -- beside need in a selection memo (context, never a reason) --------------------------------

MEMO_TITLE = "Kostnad för sena insatser (sammanhang, inget skäl)"


def memo_values(data: SiteData, code: str) -> dict:
    """A kommun's late-intervention cost for a memo row: the latest fixed-price year of the
    headline cost, its rolling mean, the län and riket, and the reference-cost reading."""
    facts = cost_facts(data, code) if data.tables.get("late_cost") is not None else None
    if not facts or facts["reason"]:
        return {"short": None, "text": None, "year": None, "value": None, "rolling": None,
                "lan": None, "riket": None, "reference": None}
    series = _by_kind_year(data.rows_for("late_cost", [code]) or [])
    head = series[next(k["cost_kind"] for k in _catalog(data)
                       if k["measure"] == "cost" and k["resident_band"] != "all")][facts["year"]]
    ref = facts["reference"][0] if facts["reference"] else None
    return {"short": f"{facts['value']} ({facts['year']})",
            "text": f"{facts['value']} per {facts['per']} ({facts['year']})",
            "year": facts["year"], "value": head["value"], "rolling": head["rolling_value"],
            "lan": head["lan_value"], "riket": head["riket_value"],
            "reference": f"{ref['reading']} ({ref['deviation']}, {ref['year']})" if ref else None}


def memo_line(values: dict) -> str:
    if values["text"] is None:
        return "uppgift saknas"
    parts = [f"{values['text']}, treårsmedel {kronor(values['rolling'])}, länet "
             f"{kronor(values['lan'])}, riket {kronor(values['riket'])}"]
    if values["reference"]:
        parts.append(f"individ- och familjeomsorgen: {values['reference'].lower()}")
    return "; ".join(parts) + ". Ett sammanhang bredvid behovet, inte ett skäl för eller emot."
