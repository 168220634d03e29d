"""Synthetic local registers for demo mode, written into the registers folder.

Demodata – syntetiska värden. Written in the formats counties really use, so that the same
reader takes them in:

- `stod_demo.xlsx`: support for every county from the county board, the region, national
  agencies and civil society. Support follows need only partly: it also goes to large
  kommuner and to those that already have it (the demo world's `disadvantage`, which drives
  the need indicators, weighs in but does not decide).
- `beredskap_demo.csv` (Windows-1252, semicolons, decimal commas): Community Readiness
  assessments for two kommuner per county, 4–6 interviews each, two scorers who mostly agree
  (a few pairs differ by more than a point). One kommun is assessed twice (2023 and 2025),
  one has only three interviews.
- `mal_demo.xlsx`: goals for three kommuner per county with plans: registry indicators with
  a target a little beyond the baseline, survey goals where a survey was done, and goals
  that cannot be followed (a sex split the indicator lacks, a grade on a registry
  indicator, a survey the kommun did not take part in).
- `ansokningar_demo.csv` (UTF-8, commas): one call per county with 4–8 applicants (the
  county's most disadvantaged kommun among them), naming the readiness issue it builds on.

Every name a page shows is marked "(demo)": actors, plans, the readiness issue and the
calls. The reader uses a demo file's rows only for counties without rows of their own in
that register (`sources/registers/folder.py`), so a county trying its own files in demo mode
sees its own rows and no demo rows. Every draw is seeded by labels (`stable_rng`); the XLSX
creation time is fixed; a file is only rewritten when its bytes change, so the folder
sensor sees no change from a rebuild. In live mode these four files are removed.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from sources.demo.world import DEMO_LABEL, DemoWorld, stable_rng
from sources.registers.folder import DEMO_FILES
from sources.registers.layouts import (ACTOR_TYPE, ANSOKNINGAR, BEREDSKAP, DIRECTION, FACTOR_CODES,
                                       MAL, PREVENTION_STAR, STOD, SUPPORT_TYPE)
from sources.registers.templates import write_csv, write_xlsx
from transforms.readiness import DIMENSIONS

FACTORS = list(FACTOR_CODES)
SUBJECTS = {"skola": "Skolnärvaro", "foraldraskap": "Föräldraskapsstöd", "fritid": "Meningsfull fritid",
            "narsamhalle": "Brottsprevention"}
STAR_OF = {"skola": "utanforskap", "foraldraskap": "vald", "fritid": "andts", "narsamhalle": "brott"}
SECTORS = ["Skola", "Socialtjänst", "Polis", "Fritid", "Förening", "Region/hälsa"]
DEMO = "(demo)"
ISSUE = f"Förebygga att unga hamnar i kriminalitet och våld {DEMO}"
ISSUE_STAR = "Brott, Våld"
GOAL_INDICATORS = {  # indicator → goal text
    "N15428": "Fler elever i åk 9 ska vara behöriga till yrkesprogram",
    "N17461": "Fler gymnasieelever ska ta examen inom fyra år",
    "N07403": "Färre anmälda våldsbrott",
    "N66077": "Färre barn ska leva i hushåll med låg ekonomisk standard",
    "U09808": "Fler unga ska delta i idrott",
}
SURVEY_GOALS = {  # län → (indicator, goal, the survey's wave as baseline year)
    "01": ("sthlm_fritid_hogt_skydd", "Fler unga ska ha en meningsfull fritid", 2024),
    "05": ("lupp_skola_negativ_forhojd_risk", "Färre unga ska vantrivas i skolan", 2023),
    "13": ("lupp_skola_negativ_forhojd_risk", "Färre unga ska vantrivas i skolan", 2023),
}
CALL_KINDS = ["processtod", "ekonomiskt_stod", "utbildning", "kunskapsstod"]


def _day(rng: np.random.Generator, year: int, first_month: int = 1, last_month: int = 12) -> date:
    start = date(year, first_month, 1)
    end = date(year, last_month, 28)
    return start + timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def _actors(lan_name: str) -> list[tuple[str, str]]:
    return [(f"Länsstyrelsen i {lan_name} {DEMO}", "lansstyrelsen"), (f"Region {lan_name} {DEMO}", "region"),
            (f"Folkhälsomyndigheten {DEMO}", "myndighet"), (f"Brottsförebyggande rådet {DEMO}", "myndighet"),
            (f"Föreningen Trygga barn {DEMO}", "civilsamhalle")]


def support_rows(world: DemoWorld, kommuner: pl.DataFrame) -> list[dict]:
    s = world.structure.join(kommuner.select("kommun_code", "lan_name"), on="kommun_code")
    rows = []
    for code, lan_name, urban, disadvantage in s.select(
            "kommun_code", "lan_name", "urban", "disadvantage").sort("kommun_code").iter_rows():
        rng = stable_rng("register", "stod", code)
        # Partly misaligned: size and luck count as much as need.
        expected = max(0.15, 0.9 + 0.45 * urban + 0.35 * disadvantage + rng.normal(0, 0.4))
        actors = _actors(lan_name)
        for n in range(int(rng.poisson(expected))):
            actor, kind = actors[int(rng.choice(len(actors), p=[0.35, 0.2, 0.15, 0.1, 0.2]))]
            factor = FACTORS[int(rng.integers(len(FACTORS)))]
            support = list(SUPPORT_TYPE)[int(rng.integers(len(SUPPORT_TYPE)))]
            start = _day(rng, int(rng.choice([2023, 2024, 2025])))
            end = min(start + timedelta(days=int(rng.integers(90, 700))), date(2026, 12, 31))
            money = support == "ekonomiskt_stod"
            rows.append({
                "actor": actor, "actor_type": ACTOR_TYPE[kind], "area_code": code,
                "subject": SUBJECTS[factor], "factor": FACTOR_CODES[factor],
                "star": PREVENTION_STAR[STAR_OF[factor]] if rng.random() < 0.5 else None,
                "support_type": SUPPORT_TYPE[support], "start": start, "end": end,
                "amount_sek": float(round(rng.uniform(50, 800)) * 1000) if money else None,
                "description": f"{DEMO_LABEL}: insats {n + 1}",
                "contact": "Demo Kontakt", "email": "kontakt@example.org",
            })
    return rows


def _scores(rng: np.random.Generator, level: float) -> dict[str, float]:
    """Two scorers around the interview's true level; consensus between them."""
    cells = {}
    for d in DIMENSIONS:
        truth = float(np.clip(level + rng.normal(0, 0.6), 1, 9))
        wide = rng.random() < 0.1  # now and then the scorers read an answer differently
        one = float(np.clip(round(2 * (truth + rng.normal(0, 0.35))) / 2, 1, 9))
        two = float(np.clip(round(2 * (truth + rng.normal(0, 1.6 if wide else 0.35))) / 2, 1, 9))
        cells[f"{d.lower()}_scorer_1"] = one
        cells[f"{d.lower()}_scorer_2"] = two
        cells[f"{d.lower()}_consensus"] = round(4 * (one + two) / 2) / 4
    return cells


def readiness_kommuner(lan: str, codes: list[str]) -> list[str]:
    """The two kommuner per county with readiness assessments (they also apply for the call)."""
    rng = stable_rng("register", "beredskap", lan)
    return sorted(rng.choice(codes, size=min(2, len(codes)), replace=False).tolist())


def readiness_rows(kommuner: pl.DataFrame) -> list[dict]:
    rows = []
    for lan, codes in sorted(kommuner.group_by("lan_code").agg(pl.col("kommun_code").sort()).iter_rows()):
        rng = stable_rng("register", "beredskap", lan, "scores")
        for i, code in enumerate(readiness_kommuner(lan, codes)):
            level = float(rng.uniform(2.5, 6.5))
            visits = [(date(2025, 3, 1) + timedelta(days=int(rng.integers(0, 60))), level)]
            if lan == "05" and i == 0:  # assessed twice: readiness grew
                visits.insert(0, (date(2023, 3, 15), level - 1.2))
            for v, (when, true_level) in enumerate(visits, start=1):
                interviews = 3 if (lan == "13" and i == 0) else int(rng.integers(4, 7))
                for n in range(interviews):
                    # Interviews of one assessment over a few days, as they are held.
                    rows.append({"assessment_id": f"{code}-{when.year}-{v}", "area_code": code,
                                 "assessed_on": when + timedelta(days=n // 2), "issue": ISSUE,
                                 "prevention_star": ISSUE_STAR,
                                 "interview_id": str(n + 1), "sector": SECTORS[n % len(SECTORS)],
                                 **_scores(rng, true_level)})
    return rows


def _goal(code: str, plan: str, indicator: str, text: str, base: float, up: bool, year: int) -> dict:
    """A goal a little beyond the baseline: +4 % (at most 100) or −10 %."""
    target = min(base * 1.04, 100.0) if up else base * 0.9
    return {"area_code": code, "plan": plan, "goal_text": text, "indicator_id": indicator,
            "sex": "Totalt", "breakdown": "", "direction": DIRECTION["increase" if up else "decrease"],
            "baseline_year": year, "baseline_value": "från data", "target_value": round(target, 1),
            "target_year": 2027}


# The fact columns the demo goals read: a wide mart is loaded with these only.
FACT_COLUMNS = ["indicator_id", "area_code", "area_type", "sex", "breakdown", "period", "value"]


def goal_rows(kommuner: pl.DataFrame, facts: pl.DataFrame, indicators: pl.DataFrame) -> list[dict]:
    polarity = dict(indicators.select("indicator_id", "polarity").iter_rows())
    values = {(i, a, p): v for i, a, p, v in facts.filter(
        (pl.col("sex") == "T") & (pl.col("breakdown") == "all") & (pl.col("area_type") == "kommun"))
        .select("indicator_id", "area_code", "period", "value").iter_rows()}
    rows = []
    for lan, codes in sorted(kommuner.group_by("lan_code").agg(pl.col("kommun_code").sort()).iter_rows()):
        rng = stable_rng("register", "mal", lan)
        for code in sorted(rng.choice(codes, size=min(3, len(codes)), replace=False).tolist()):
            plan = f"Handlingsplan för barn och unga 2020–2027 {DEMO}"
            wanted = [(i, GOAL_INDICATORS[i], 2020) for i in
                      rng.choice(list(GOAL_INDICATORS), size=2, replace=False).tolist()]
            if lan in SURVEY_GOALS:
                wanted.append(SURVEY_GOALS[lan])
            for indicator, text, year in wanted:
                base = values.get((indicator, code, year))
                if base is not None and indicator in polarity:
                    rows.append(_goal(code, plan, indicator, text, base,
                                      polarity[indicator] == "high_is_good", year))
        # Goals that cannot be followed, each for a stated reason.
        code = codes[0]
        plan = f"Trygghetsplan 2022–2026 {DEMO}"
        rows.append({"area_code": code, "plan": plan, "goal_text": "Färre flickor i hushåll med ekonomiskt bistånd",
                     "indicator_id": "N31807", "sex": "Flickor", "breakdown": "", "direction": "minska",
                     "baseline_year": 2022, "baseline_value": "från data", "target_value": 3.0,
                     "target_year": 2026})
        if lan not in SURVEY_GOALS:
            rows.append({"area_code": code, "plan": plan, "goal_text": "Fler unga ska trivas i skolan",
                         "indicator_id": "lupp_skola_positiv_hogt_skydd", "sex": "Totalt", "breakdown": "åk 9",
                         "direction": "öka", "baseline_year": 2023, "baseline_value": 50.0,
                         "target_value": 60.0, "target_year": 2026})
    return rows


def application_rows(kommuner: pl.DataFrame, world: DemoWorld) -> list[dict]:
    """One call per county. High-need kommuner apply more often: the county's most
    disadvantaged kommun is always among the applicants."""
    disadvantage = dict(world.structure.select("kommun_code", "disadvantage").iter_rows())
    rows = []
    for lan, lan_name, codes in sorted(kommuner.group_by("lan_code", "lan_name")
                                       .agg(pl.col("kommun_code").sort()).iter_rows()):
        rng = stable_rng("register", "ansokningar", lan)
        kind = CALL_KINDS[int(lan) % len(CALL_KINDS)]
        factors = sorted(rng.choice(FACTORS, size=int(rng.integers(1, 3)), replace=False).tolist(),
                         key=FACTORS.index)
        drawn = rng.choice(codes, size=min(len(codes), int(rng.integers(3, 7))), replace=False).tolist()
        neediest = max(codes, key=lambda c: (disadvantage.get(c, 0.0), c))
        applicants = sorted({*drawn, neediest, *readiness_kommuner(lan, codes)})
        for code in applicants:
            rows.append({"call_id": f"LST{lan}-2025-1",
                         "call_title": f"Utvecklingsmedel för förebyggande arbete 2025, {lan_name} {DEMO}",
                         "factors": ", ".join(FACTOR_CODES[f] for f in factors),
                         "support_kind": SUPPORT_TYPE[kind], "places": 3, "issue": ISSUE,
                         "prevention_star": ISSUE_STAR, "area_code": code,
                         "applied_on": _day(rng, 2025, 2, 3), "contact": "Demo Kontakt",
                         "email": "kontakt@example.org"})
    return rows


def _replace_if_changed(path: Path, write) -> Path:
    """Write through a temporary file; keep the old file (and its mtime) if bytes agree."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write(Path(tmp) / path.name)
        data = fresh.read_bytes()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path




def write_demo_registers(folder: Path, world: DemoWorld, kommuner: pl.DataFrame,
                         facts: pl.DataFrame, indicators: pl.DataFrame) -> list[Path]:
    """The four demo registers in `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{DEMO_LABEL}: register"
    writers = [
        lambda p: write_xlsx(STOD, p, support_rows(world, kommuner), title=title),
        lambda p: write_csv(BEREDSKAP, p, readiness_rows(kommuner), delimiter=";", encoding="cp1252"),
        lambda p: write_xlsx(MAL, p, goal_rows(kommuner, facts, indicators), title=title),
        lambda p: write_csv(ANSOKNINGAR, p, application_rows(kommuner, world), delimiter=",", encoding="utf-8",
                            decimal_comma=False),
    ]
    return [_replace_if_changed(folder / name, write) for name, write in zip(DEMO_FILES, writers, strict=True)]


def remove_demo_registers(folder: Path) -> list[Path]:
    """Live mode: the demo registers must not mix with the county's own; remove them."""
    removed = [folder / name for name in DEMO_FILES if (folder / name).is_file()]
    for path in removed:
        path.unlink()
    return removed
