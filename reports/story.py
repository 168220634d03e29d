"""The county page's opening: a short summary in plain Swedish, generated from the marts.

Each point names kommuner, a strategic factor and how sure we are. Where a coordination
mart is not available yet the point says so rather than disappearing.
"""

from __future__ import annotations

from collections import Counter

from reports.coordination import HIGH_NEED
from reports.labels import FACTOR_ORDER, STRATEGIC_FACTORS, join_words, percent, plural
from reports.model import SiteData
from reports.watch import factor_counts

MAX_NAMED = 3


def none_of_county(n_kommuner: int) -> str:
    """The sentence for an empty watch list, in the right number."""
    if n_kommuner == 1:
        return "Länets enda kommun uppfyller inget av bevakningsvillkoren"
    return f"Ingen av länets {n_kommuner} kommuner uppfyller något av bevakningsvillkoren"


def _need_point(data: SiteData, lan: str, need: dict | None) -> dict:
    title = "Var behovet är störst"
    if need is None:
        return {"title": title, "text": "Behovsindexet per strategisk faktor är inte tillgängligt "
                "ännu. Punkterna nedan bygger på indikatorernas jämförelser med riket."}
    parts = []
    rows = {(row["name"], f): cell for row in need["table"]
            for f, cell in zip(["overall", *FACTOR_ORDER], row["cells"], strict=True)}
    for factor in FACTOR_ORDER:
        ranked = sorted(((cell, name) for (name, f), cell in rows.items()
                         if f == factor and cell["level"] is not None),
                        key=lambda t: (-(t[0]["p_value"] or 0), t[1]))
        if not ranked:
            continue
        likely = [f"{name} ({cell['p']})" for cell, name in ranked if cell["certainty"] == "mycket troligt"]
        if likely:
            parts.append(f"{STRATEGIC_FACTORS[factor]}: med minst {percent(HIGH_NEED)} sannolikhet hör "
                         f"{join_words(likely[:MAX_NAMED])} till den femtedel av landets kommuner som "
                         f"har störst behov"
                         f"{f' (och {len(likely) - MAX_NAMED} till)' if len(likely) > MAX_NAMED else ''}.")
        else:
            cell, name = ranked[0]
            parts.append(f"{STRATEGIC_FACTORS[factor]}: störst behov i {name}, men det är "
                         f"{cell['certainty']} att kommunen hör till den femtedel med störst behov "
                         f"({cell['p']} sannolikhet, rang {cell['rank']}).")
    if not parts:
        parts.append("Behovsindexet saknar värden för länets kommuner.")
    return {"title": title, "text": " ".join(parts)}


def _indicator_point(data: SiteData, lan: str) -> dict:
    parts = []
    counts = {code: factor_counts(data, code) for code in data.kommuner_of[lan]}
    for factor in FACTOR_ORDER:
        worst = sorted(((len(c[factor].worse), c[factor].compared, data.names[code])
                        for code, c in counts.items() if c[factor].worse),
                       key=lambda t: (-t[0], t[2]))
        if not worst:
            continue
        top = worst[0][0]
        named = [f"{name} på {n} av {m}" for n, m, name in worst[:MAX_NAMED] if n >= max(2, top - 1)]
        if named:
            parts.append(f"{STRATEGIC_FACTORS[factor]}: säkert sämre än riket är "
                         f"{join_words(named)} jämförda indikatorer.")
    text = " ".join(parts) or ("Ingen kommun i länet är säkert sämre än riket på mer än en "
                               "indikator inom samma strategiska faktor.")
    return {"title": "Sämre än riket", "text": text}


def _support_point(support: dict | None) -> dict:
    title = "Behov och stöd"
    if support is None:
        return {"title": title, "text": "Uppgifter om stöd till kommunerna är inte tillgängliga ännu."}
    high = [f"{t['name']} ({t['factor'].lower()})" for t in support["diverging"]
            if t["class"] == "high_need_no_support"]
    much = [f"{t['name']} ({t['factor'].lower()})" for t in support["diverging"]
            if t["class"] == "lower_need_much_support"]
    if not high and not much:
        return {"title": title, "text": "Stödet följer behovet: ingen kommun har högt behov utan "
                "stöd, och ingen har mycket stöd vid lägre behov."}
    parts = []
    if high:
        parts.append(f"Högt behov men inget stöd: {join_words(high)}.")
    if much:
        parts.append(f"Mycket stöd vid lägre behov: {join_words(much)}.")
    return {"title": title, "text": " ".join(parts)}


def _readiness_point(stages: list[dict] | None, n_kommuner: int) -> dict:
    title = "Beredskap"
    if stages is None:
        return {"title": title, "text": "Beredskapsbedömningar är inte tillgängliga ännu."}
    if not stages:
        return {"title": title, "text": "Länets enda kommun har ingen beredskapsbedömning." if n_kommuner == 1
                else f"Ingen av länets {n_kommuner} kommuner har en beredskapsbedömning."}
    kommuner = {s["name"] for s in stages}
    low = min(stages, key=lambda s: (s["stage"], s["name"]))
    high = max(stages, key=lambda s: (s["stage"], s["name"]))
    common = Counter(s["lowest"] for s in stages).most_common(1)[0][0]
    return {"title": title, "text": (
        f"Beredskapen är bedömd i {plural(len(kommuner), 'kommun', 'kommuner')}: från stadium "
        f"{low['stage']} ({low['stage_label'].lower()}, {low['name']}) till {high['stage']} "
        f"({high['stage_label'].lower()}, {high['name']}). Lägst dimension är oftast "
        f"{common.lower()}.")}


def _goals_point(goal_rows: list[dict] | None) -> dict:
    title = "Mål"
    if goal_rows is None:
        return {"title": title, "text": "Kommunernas mål är inte tillgängliga ännu."}
    if not goal_rows:
        return {"title": title, "text": "Inga mål följs upp för länets kommuner."}
    off = [g for g in goal_rows if g["off_track"]]
    if not off:
        return {"title": title, "text": f"Alla {plural(len(goal_rows), 'mål', 'mål')} som följs upp är "
                "uppnådda, på väg eller går inte att följa ännu."}
    named = [f"{g['name']}: {g['indicator'].lower()} ({g['status_label']})" for g in off[:MAX_NAMED]]
    more = f" och {len(off) - MAX_NAMED} till" if len(off) > MAX_NAMED else ""
    return {"title": title, "text": (
        f"{len(off)} av {plural(len(goal_rows), 'mål', 'mål')} går åt fel håll eller visar ingen "
        f"säker förändring: {'; '.join(named)}{more}.")}


def _watch_point(watch: list[dict], n_kommuner: int) -> dict:
    if not watch:
        return {"title": "Att bevaka", "text": f"{none_of_county(n_kommuner)} (se listan nedan)."}
    names = [w["name"] for w in watch]
    return {"title": "Att bevaka", "text": (
        f"{plural(len(watch), 'kommun', 'kommuner')} av {n_kommuner} finns på bevakningslistan: "
        f"{join_words(names[:6])}{' med flera' if len(names) > 6 else ''}.")}


def county_story(data: SiteData, lan: str, watch: list[dict], need: dict | None,
                 support: dict | None, stages: list[dict] | None,
                 goal_rows: list[dict] | None) -> list[dict]:
    n = len(data.kommuner_of[lan])
    return [_need_point(data, lan, need), _indicator_point(data, lan), _support_point(support),
            _readiness_point(stages, n), _goals_point(goal_rows), _watch_point(watch, n)]

