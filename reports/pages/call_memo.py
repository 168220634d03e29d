"""The call memo (beslutsunderlag): per call and county, a printable page and an XLSX with the
shortlist, each applicant's need in the county and the country with intervals, readiness
(stage, date, issue, warnings), current support, goals and the reasons.

The memo is laid out from `GROUPS`, a list of column groups: each group says which columns
it adds (a Swedish header, a kind for formatting and typing, whether the summary table shows
it) and computes their values from the applicant's `marts.selection` row. The page shows
the summary columns in one table and every group under each applicant; the XLSX has every
column on its sheet "Sökande". One more kind of evidence (e.g. this year's cost of late
intervention beside need, issue 17) is one more `ColumnGroup` appended to `GROUPS`: the
page, the summary and the XLSX pick it up without other changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from reports import coordination as coord
from reports import health_economics
from reports.labels import STRATEGIC_FACTORS, join_words, number, percent, plural
from reports.model import SiteData
from reports.xlsx import Sheet, workbook_bytes
from sources.registers.layouts import SUPPORT_TYPE

METHOD_IDS = ("selection", "need_index", "readiness", "support_classes", "goal_status")
DOWNLOAD_DIR = "nedladdning"


@dataclass(frozen=True)
class Column:
    key: str
    header: str                 # Swedish, on the page and in the XLSX
    kind: str = "text"          # text | share | int | number | date
    summary: bool = False       # also in the page's summary table


@dataclass(frozen=True)
class ColumnGroup:
    key: str
    title: str
    columns: tuple[Column, ...]
    values: Callable[[SiteData, dict], dict[str, object]]  # selection row → {column key: value}
    line: Callable[[dict], str]                             # the values as one Swedish line
    notes: Callable[[SiteData, dict], list[str]] = field(default=lambda data, row: [])  # lines under it


def _span(lower: object, upper: object) -> str:
    return f"{lower}–{upper}"


def _applicant(data: SiteData, r: dict) -> dict:
    why = r["proposal_reason"] or ""
    return {"order": r["order"], "kommun": data.names.get(r["area_code"], r["area_code"]),
            "kommunkod": r["area_code"], "proposal": r["proposal_label"],
            "why": why[:1].upper() + why[1:], "applied_on": r["applied_on"],
            "factor": STRATEGIC_FACTORS.get(r["need_factor"], "") if r["need_factor"] else None}


# Need in a frame: the county (`_lan`, the highest-need third) or the country (the fifth).
FRAMES = {"lan": ("länet", "_lan", "p_top_lan", "länets tredjedel"),
          "riket": ("riket", "", "p_top_fifth", "rikets femtedel")}


def _need_columns(frame: str) -> tuple[Column, ...]:
    where, suffix, p, share = FRAMES[frame]
    return (Column("text", f"Rang i {where} (intervall)", summary=True),
            Column(p, f"Sannolikhet: {share} med störst behov", "share", summary=True),
            Column(f"rank{suffix}", f"Rang i {where}", "int"),
            Column(f"rank{suffix}_lower", f"Rang i {where}, intervallets början", "int"),
            Column(f"rank{suffix}_upper", f"Rang i {where}, intervallets slut", "int"),
            Column(f"n_ranked{suffix}", f"Kommuner i {where}", "int"))


def _need_values(frame: str) -> Callable[[SiteData, dict], dict]:
    where, suffix, p, share = FRAMES[frame]

    def values(data: SiteData, r: dict) -> dict:
        rank = r[f"rank{suffix}"]
        text = None if rank is None else (f"{rank} av {r[f'n_ranked{suffix}']} (intervall "
                                          f"{_span(r[f'rank{suffix}_lower'], r[f'rank{suffix}_upper'])})")
        factor = STRATEGIC_FACTORS.get(r["need_factor"], "") if r["need_factor"] else ""
        return {"text": text, "factor": factor, **{c.key: r[c.key] for c in _need_columns(frame)[1:]}}
    return values


def _need_line(frame: str) -> Callable[[dict], str]:
    where, suffix, p, share = FRAMES[frame]

    def line(v: dict) -> str:
        if v["text"] is None:
            return "kan inte beräknas"
        chance = f"; {percent(v[p])} sannolikhet att höra till {share} med störst behov" if v[p] is not None else ""
        return f"{v['factor']}: {v['text']}{chance}" if frame == "lan" else f"{v['text']}{chance}"
    return line


def _readiness(data: SiteData, r: dict) -> dict:
    assessed = r["readiness_stage"] is not None
    text = "ingen bedömning"
    if assessed:
        notes = [str(r["readiness_assessed_on"])]
        if r["readiness_for_call"] is False:
            notes.append("annan fråga")
        if r["readiness_warning"]:
            notes.append("varning, se nedan")
        text = f"stadium {r['readiness_stage']} ({'; '.join(notes)})"
    return {"text": text,
            "stage": r["readiness_stage"], "stage_label": r["readiness_stage_label"],
            "score": r["readiness_score"], "assessed_on": r["readiness_assessed_on"],
            "issue": r["readiness_issue"],
            "for_call": {True: "ja", False: "nej, en annan fråga", None: "utlysningen anger ingen fråga"}[
                r["readiness_for_call"]] if assessed else None,
            "suitable": {True: "ja", False: "nej", None: None}[r["stage_suitable"]],
            "advice": r["stage_advice"], "warning": r["readiness_warning"]}


def _readiness_line(v: dict) -> str:
    if v["stage"] is None:
        return "ingen bedömning av utlysningens fråga"
    parts = [f"stadium {v['stage']} ({v['stage_label'].lower()}, poäng {number(v['score'], '', 2)}), "
             f"bedömd {v['assessed_on']}, frågan \"{v['issue']}\"",
             f"gäller utlysningens fråga: {v['for_call']}", f"passar stödformen: {v['suitable']}"]
    if v["advice"]:
        parts.append(f"vid {v['advice']}")
    if v["warning"]:
        parts.append(f"varning: {v['warning']}")
    return "; ".join(parts)


def _support(data: SiteData, r: dict) -> dict:
    return {"year": r["support_year"], "supports": r["current_supports"], "actors": r["current_actors"]}


def _support_line(v: dict) -> str:
    when = v["year"] or "ansökningsdagen"
    if not v["supports"]:
        return f"inget stöd {when} inom utlysningens faktorer"
    return f"{plural(v['supports'], 'insats', 'insatser')} {when} inom utlysningens faktorer ({v['actors']})"


def _goal_rows(data: SiteData, code: str) -> list[dict]:
    return coord.goals(data, [code]) or []


def _goals(data: SiteData, r: dict) -> dict:
    rows = _goal_rows(data, r["area_code"])
    return {"n_goals": len(rows), "off_track": sum(g["off_track"] for g in rows),
            "achieved": sum(g["status"] == "achieved" for g in rows)}


def _goals_line(v: dict) -> str:
    if not v["n_goals"]:
        return "inga mål följs upp här"
    return (f"{plural(v['n_goals'], 'mål', 'mål')} följs upp: {v['achieved']} säkert uppnådda, "
            f"{v['off_track']} åt fel håll eller utan säker förändring")


def _goal_lines(data: SiteData, r: dict) -> list[str]:
    return [f"{g['goal']} ({g['indicator']}): {g['status_label']}, senast {g['latest']}, mål {g['target']}"
            + (f" – {g['reason']}" if g["reason"] else "") for g in _goal_rows(data, r["area_code"])]


GROUPS: list[ColumnGroup] = [
    ColumnGroup("applicant", "Sökande", (
        Column("order", "Ordning", "int", summary=True), Column("kommun", "Kommun", summary=True),
        Column("kommunkod", "Kommunkod"), Column("proposal", "Förslag", summary=True),
        Column("why", "Varför", summary=True), Column("applied_on", "Ansökningsdatum", "date"),
        Column("factor", "Faktor med störst behov")),
        _applicant, lambda v: f"{v['proposal']}: {v['why']}"),
    *(ColumnGroup(f"need_{frame}", f"Behov i {FRAMES[frame][0]}", _need_columns(frame), _need_values(frame),
                  _need_line(frame)) for frame in FRAMES),
    ColumnGroup("readiness", "Beredskap", (
        Column("text", "Beredskap", summary=True),
        Column("stage", "Stadium", "int"), Column("stage_label", "Stadiets namn"),
        Column("score", "Poäng", "number"), Column("assessed_on", "Bedömd", "date"),
        Column("issue", "Fråga"), Column("for_call", "Gäller utlysningens fråga"),
        Column("suitable", "Stadiet passar stödformen"), Column("advice", "Vad stadiet kräver"),
        Column("warning", "Varningar")), _readiness, _readiness_line),
    ColumnGroup("support", "Pågående stöd", (
        Column("year", "Stödår", "int"), Column("supports", "Insatser inom faktorerna", "int", summary=True),
        Column("actors", "Aktörer")), _support, _support_line),
    ColumnGroup("goals", "Kommunens mål", (
        Column("n_goals", "Mål som följs", "int"),
        Column("off_track", "Åt fel håll eller ingen säker förändring", "int"),
        Column("achieved", "Säkert uppnådda", "int")), _goals, _goals_line, _goal_lines),
    # Issue 17: this year's cost of late intervention beside need – context, never a reason.
    ColumnGroup("late_cost", health_economics.MEMO_TITLE, (
        Column("short", "Sena insatser, kr per invånare 0–20 år", summary=True),
        Column("year", "Kostnadsår", "int"),
        Column("value", "Barn- och ungdomsvård, kr per invånare 0–20 år (fast pris)", "number"),
        Column("rolling", "Treårsmedel, kr", "number"), Column("lan", "Länet, kr", "number"),
        Column("riket", "Riket, kr", "number"),
        Column("reference", "Individ- och familjeomsorgen mot referenskostnaden")),
        lambda data, r: health_economics.memo_values(data, r["area_code"]), health_economics.memo_line),
    ColumnGroup("reasons", "Skäl", (Column("reasons", "Skäl"),),
                lambda data, r: {"reasons": r["reasons"]}, lambda v: v["reasons"]),
]


def _text(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "share":
        return percent(value)
    if kind == "int":
        return str(value)
    if kind == "number":
        return number(value, "", 2)
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return str(value)


def calls_of(data: SiteData) -> list[tuple[str, str]]:
    """(län, call id) for every call with applicants in a county."""
    parts = data.tables["selection"] or {}
    return sorted({(data.lan_of[code], r["call_id"]) for code, rows in parts.items() for r in rows
                   if data.lan_of.get(code)})


def applicants(data: SiteData, lan: str, call_id: str) -> list[dict]:
    rows = [r for r in data.rows_for("selection", data.kommuner_of[lan]) or [] if r["call_id"] == call_id]
    return sorted(rows, key=lambda r: (r["order"], r["area_code"]))


def values(data: SiteData, row: dict) -> dict[str, dict[str, object]]:
    return {g.key: g.values(data, row) for g in GROUPS}


def _summary(data: SiteData, rows: list[dict]) -> str:
    by = {k: [data.names.get(r["area_code"], r["area_code"]) for r in rows if r["proposal"] == k]
          for k in coord.PROPOSAL_ORDER}
    parts = []
    if by["propose"]:
        parts.append(f"Föreslås: {join_words(by['propose'])}.")
    else:
        parts.append("Ingen kommun föreslås direkt.")
    if by["qualitative_review"]:
        parts.append(f"Bedöms kvalitativt: {join_words(by['qualitative_review'])}.")
    if by["not_proposed"]:
        parts.append(f"Föreslås inte: {join_words(by['not_proposed'])}.")
    return " ".join(parts)


def call_memo_page(data: SiteData, lan: str, call_id: str) -> dict:
    rows = applicants(data, lan, call_id)
    first = rows[0]
    frame = "länets kommuner" if first["frame"] == "lan" else "landets kommuner"
    factors = [f for f in (first["factors"] or "").split(",") if f]
    need = coord.need_rows(data, data.kommuner_of[lan]) or {}
    rankability = [r for r in coord.rankability_lines(need, data.kommuner_of[lan])
                   if r["factor"] in {STRATEGIC_FACTORS[f] for f in factors}]
    summary_columns = [(g, c) for g in GROUPS for c in g.columns if c.summary]
    people = []
    for r in rows:
        vals = values(data, r)
        people.append({
            "name": data.names.get(r["area_code"], r["area_code"]), "code": r["area_code"],
            "file": data.kommun_file(r["area_code"]), "proposal": r["proposal"],
            "proposal_label": r["proposal_label"], "order": r["order"],
            "summary": [_text(vals[g.key][c.key], c.kind) for g, c in summary_columns],
            "lines": [(g.title, g.line(vals[g.key]), g.notes(data, r))
                      for g in GROUPS if g.key not in ("applicant", "reasons")],
            "reasons": r["reasons"]})
    return {
        "lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
        "call_id": call_id, "title": first["call_title"] or f"Utlysning {call_id}",
        "file": coord.memo_file(lan, call_id), "xlsx": memo_xlsx_name(lan, call_id),
        "facts": [("Utlysning", call_id), ("Län", data.names[lan]),
                  ("Strategiska faktorer", ", ".join(STRATEGIC_FACTORS.get(f, f) for f in factors)),
                  ("Stödform", _kind_label(first["support_kind"])),
                  ("Platser", str(first["places"])),
                  ("Behovet jämförs med", frame),
                  ("Pågående stöd räknas för", str(first["support_year"]) if first["support_year"] else "ansökningsdagen"),
                  ("Sökande", plural(len(rows), "kommun", "kommuner"))],
        "summary": _summary(data, rows), "rankability": rankability,
        "heads": [c.header for _, c in summary_columns], "people": people,
        "methods": [m for m in data.methods() if m["method_id"] in METHOD_IDS],
    }


def _kind_label(code: str) -> str:
    return SUPPORT_TYPE.get(code, code)


def memo_xlsx_name(lan: str, call_id: str) -> str:
    return coord.memo_file(lan, call_id)[:-5] + ".xlsx"


def memo_xlsx(data: SiteData, lan: str, call_id: str, label: str, vintage: str) -> bytes:
    """The memo as a workbook: every column of every group per applicant, the goals, and a
    sheet that says what the file is."""
    from reports.downloads import neutralise

    rows = applicants(data, lan, call_id)
    columns = [(g, c, c.header + (" (%)" if c.kind == "share" else "")) for g in GROUPS for c in g.columns]
    flat = []
    for r in rows:
        vals = values(data, r)
        flat.append({name: _cell(vals[g.key][c.key], c.kind) for g, c, name in columns})
    schema = {name: {"int": pl.Int64, "share": pl.Float64, "number": pl.Float64}.get(c.kind, pl.String)
              for _, c, name in columns}
    table = neutralise(pl.DataFrame(flat, schema=schema))
    goals = [{"Kommun": data.names.get(r["area_code"], r["area_code"]), **_goal_cells(g)}
             for r in rows for g in _goal_rows(data, r["area_code"])]
    goal_frame = neutralise(pl.DataFrame(goals, schema={k: pl.String for k in (
        "Kommun", "Mål", "Plan", "Indikator", "Utgångsläge", "Målvärde", "Senast", "95 % KI", "Läge", "Orsak")}))
    page = call_memo_page(data, lan, call_id)
    about = pl.DataFrame({"Rubrik": ["Fil", "Data", "Förslag", *[k for k, _ in page["facts"]],
                                     "Sannolikheter", "Beslut"],
                          "Förklaring": [f"Beslutsunderlag: {page['title']}", f"{label}. Data hämtade {vintage}.",
                                         page["summary"], *[v for _, v in page["facts"]],
                                         "Sannolikheter i procent (0–100).",
                                         "Det här är ett förslag som underlag; beslutet fattas av handläggarna."]})
    created = datetime.strptime(vintage, "%Y-%m-%d") if len(vintage) == 10 else datetime(2000, 1, 1)
    widths = {name: 16 for name in table.columns}
    widths.update({"Kommun": 16, "Skäl": 100, "Vad stadiet kräver": 50, "Varningar": 50, "Fråga": 30,
                   "Aktörer": 30})
    return workbook_bytes([Sheet("Sökande", table, widths, table=True, freeze=(1, 2)),
                           Sheet("Mål", goal_frame, {"Mål": 40, "Plan": 30, "Orsak": 60}, table=True),
                           Sheet("Om underlaget", about, {"Rubrik": 24, "Förklaring": 110}, table=False)],
                          title=f"Beslutsunderlag: {page['title']}", subject=label, author="uppvaxt",
                          created=created, decimals=2)


def _cell(value: object, kind: str) -> object:
    if value is None:
        return None
    if kind == "share":
        return round(100 * value, 1)
    if kind == "date":
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind in ("int", "number"):
        return value
    return str(value)


def _goal_cells(g: dict) -> dict:
    return {"Mål": g["goal"], "Plan": g["plan"], "Indikator": g["indicator"], "Utgångsläge": g["baseline"],
            "Målvärde": g["target"], "Senast": g["latest"], "95 % KI": g["ci"], "Läge": g["status_label"],
            "Orsak": g["reason"] or None}
