"""Swedish words, symbols and number formats for the site and its downloads.

Every coded column the reports show has its Swedish label here, as a plain dict (the SQL
door builds `marts.label` from these dicts: keep their names). Colours live in
`reports/colours.py`; a colour is never shown without the word or symbol from here.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache


STRATEGIC_FACTORS = {
    "skola": "Måluppfyllelse i skolan",
    "foraldraskap": "Föräldraskap och familjens villkor",
    "fritid": "Meningsfull fritid",
    "narsamhalle": "Tryggt närsamhälle",
    "none": "Övriga indikatorer och sammanhang",
    # the need index over all four factors (coordination marts)
    "overall": "Samlat behov (alla fyra faktorerna)",
}

# The four strategic protective factors, in the order the site shows them.
FACTOR_ORDER = ["skola", "foraldraskap", "fritid", "narsamhalle"]

FACTOR = {"risk": "Riskfaktor", "protective": "Skyddsfaktor", "context": "Sammanhang"}

POLARITY = {"high_is_good": "Högt värde är bättre", "low_is_good": "Lågt värde är bättre",
            "no_judgement": "Ingen värdering av högt eller lågt"}

COMPARISON = {
    "much_better": "Mycket bättre",
    "better": "Bättre",
    "similar": "Ingen säker skillnad",
    "worse": "Sämre",
    "much_worse": "Mycket sämre",
    "lower": "Lägre",
    "higher": "Högre",
    "not_compared": "Ej jämförd",
}

# Printed beside (or inside) every coloured mark, so colour is never the only cue.
COMPARISON_SYMBOL = {
    "much_better": "++",
    "better": "+",
    "similar": "≈",
    "worse": "−",
    "much_worse": "−−",
    "lower": "▽",
    "higher": "△",
    "not_compared": "·",
}

TREND = {
    "increasing_better": "↗ Ökande, bättre",
    "increasing_worse": "↗ Ökande, sämre",
    "decreasing_better": "↘ Minskande, bättre",
    "decreasing_worse": "↘ Minskande, sämre",
    "increasing": "↗ Ökande",
    "decreasing": "↘ Minskande",
    "no_significant_change": "→ Ingen säker förändring",
    "cannot_be_calculated": "–",
}

# Short forms for narrow table columns (the profile); the page explains the arrows.
TREND_SHORT = {
    "increasing_better": "↗ bättre",
    "increasing_worse": "↗ sämre",
    "decreasing_better": "↘ bättre",
    "decreasing_worse": "↘ sämre",
    "increasing": "↗",
    "decreasing": "↘",
    "no_significant_change": "→",
    "cannot_be_calculated": "–",
}

WORSENING = ("increasing_worse", "decreasing_worse")

RANK_BAND = {
    "best_25": "Bästa fjärdedelen",
    "middle_50": "Mittersta hälften",
    "worst_25": "Sämsta fjärdedelen",
    "lowest_25": "Lägsta fjärdedelen",
    "highest_25": "Högsta fjärdedelen",
}

STATUS = {
    "ok": "",
    "suppressed": "Dolt",
    "missing": "Saknas",
    "not_applicable": "Ej tillämpligt",
    "provisional": "Preliminärt",
}

SEX = {"T": "Totalt", "K": "Flickor/kvinnor", "M": "Pojkar/män"}

AREA_TYPE = {"riket": "Riket", "lan": "Län", "subregion": "Delregion", "kommun": "Kommun",
             "total": "Alla svarande i enkäten"}

CI_METHOD = {"wilson": "Wilson (andel)", "byar": "Byar (kvot)",
             "exact_poisson": "Exakt Poisson (kvot)", "t": "Students t (medelvärde)",
             "none": "Inget intervall"}

SOURCE = {"kolada": "Kolada", "survey": "Elevenkät"}

# Need quintiles of the coordination marts (level 1–5, 5 = highest need among kommuner).
NEED_LEVEL = {1: "Lägst behov", 2: "Lågt behov", 3: "Medel", 4: "Högt behov",
              5: "Högst behov"}


# The coordination marts' codes; each table also carries a *_label column, which wins.
GOAL_STATUS_SYMBOL = {"achieved": "✓", "on_track": "↗", "no_certain_change": "→",
                      "wrong_direction": "↘", "cannot_follow": "?"}


def breakdown_label(code: str) -> str:
    """Swedish label of a breakdown code: ak9 → åk 9, gy2 → gy 2, pooled_3y → 3 år sammanslagna."""
    if code == "all":
        return "alla"
    match = re.fullmatch(r"(ak|gy)(\d+)", code)
    if match:
        return f"{'åk' if match.group(1) == 'ak' else 'gy'} {match.group(2)}"
    match = re.fullmatch(r"pooled_(\d+)y", code)
    if match:
        return f"{match.group(1)} år sammanslagna"
    return code


def plural(n: int, singular: str, plural_form: str) -> str:
    """'1 kommun', '2 kommuner', '0 kommuner' (thin space between thousands)."""
    return f"{number(n, 'antal')} {singular if n == 1 else plural_form}"


def unit_phrase(unit: str) -> str:
    """How a unit reads in an axis title or header: '%' → 'andel (%)'."""
    return {"%": "andel (%)", "antal": "antal"}.get(unit, unit)


def unit_suffix(unit: str) -> str:
    """Short unit printed right after a value: ' %' for shares, nothing otherwise."""
    return "\u00a0%" if unit == "%" else ""


def decimals_for(value: float, unit: str) -> int:
    if unit == "antal":
        return 0
    magnitude = abs(value)
    if magnitude >= 100:
        return 0
    if magnitude >= 10 or unit == "%":
        return 1
    return 2


# A site's pages print about 600 000 numbers, four in five of them printed before (riket's and
# a län's values on every page of theirs, a kommun's on its profile, county and indicator pages).
@lru_cache(maxsize=1 << 16)
def number(value: float | None, unit: str = "", decimals: int | None = None) -> str:
    """Swedish number format: decimal comma, thin space between thousands, real minus; '–' if none.

    No abbreviations ('10k', '0,5M'): a Swedish reader sees 10 000 and 500 000.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    places = decimals_for(value, unit) if decimals is None else decimals
    text = f"{value:,.{places}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")  # no "−0,0"
    return text.replace(",", "\u2009").replace(".", ",").replace("-", "−")


@lru_cache(maxsize=1 << 16)  # as number(): the same intervals are on several pages
def interval(lower: float | None, upper: float | None, unit: str) -> str:
    """'10,7–20,6' with an en dash; '–' when there is no interval."""
    if lower is None or upper is None:
        return "–"
    places = decimals_for(max(abs(lower), abs(upper)), unit)
    return f"{number(lower, unit, places)}–{number(upper, unit, places)}"


def percent(share: float | None) -> str:
    """A probability or share 0–1 as a whole percentage: 0.834 → '83 %'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{number(100 * share, '', 0)}\u00a0%"


def join_words(words: list[str]) -> str:
    """'A', 'A och B', 'A, B och C'."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} och {words[-1]}"


@lru_cache(maxsize=4096)  # every link to a page makes its file name
def slug(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
    cleaned = "".join(c if c.isalnum() else "-" for c in text.lower().translate(table))
    return "-".join(part for part in cleaned.split("-") if part)


# A source's own English status words, which some reasons quote: "dolt av sekretesskäl (Privacy)".
SOURCE_STATUS_WORDS = re.compile(r"\s*\((?:Privacy|Missing|Not applicable|NotApplicable)\)")


def reader_text(text: str | None) -> str | None:
    """A reason as a reader sees it: the source's English status codes left out (the
    Swedish words before them already say it)."""
    return SOURCE_STATUS_WORDS.sub("", text) if text else text
