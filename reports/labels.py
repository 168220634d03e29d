"""Swedish words and number formats for the reports."""

from __future__ import annotations

import math
import re

STRATEGIC_FACTORS = {
    "skola": "Måluppfyllelse i skolan",
    "foraldraskap": "Föräldraskap och familjens villkor",
    "fritid": "Meningsfull fritid",
    "narsamhalle": "Tryggt närsamhälle",
    "none": "Övriga indikatorer och sammanhang",
}

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

# Colour by category; the word is always printed too, so colour is never the only cue.
COMPARISON_COLOUR = {
    "much_better": "#1a7f37",
    "better": "#7cc68d",
    "similar": "#f2d36b",
    "worse": "#f08c4a",
    "much_worse": "#c8301e",
    "lower": "#5b8fd6",
    "higher": "#1f4e9a",
    "not_compared": "#d0d0d0",
}

COMPARISON_SCORE = {"much_better": 2, "better": 1, "similar": 0, "worse": -1,
                    "much_worse": -2}

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



def breakdown_label(code: str) -> str:
    """Swedish label of a breakdown code: ak9 → åk 9, gy2 → gy 2, all → alla."""
    if code == "all":
        return "alla"
    match = re.fullmatch(r"(ak|gy)(\d+)", code)
    if match:
        return f"{'åk' if match.group(1) == 'ak' else 'gy'} {match.group(2)}"
    return code


def decimals_for(value: float, unit: str) -> int:
    if unit == "antal":
        return 0
    magnitude = abs(value)
    if magnitude >= 100:
        return 0
    if magnitude >= 10 or unit == "%":
        return 1
    return 2


def number(value: float | None, unit: str = "", decimals: int | None = None) -> str:
    """Swedish number format: decimal comma, thin space between thousands; '–' if none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    places = decimals_for(value, unit) if decimals is None else decimals
    text = f"{value:,.{places}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("-", "−")


def interval(lower: float | None, upper: float | None, unit: str) -> str:
    if lower is None or upper is None:
        return "–"
    places = decimals_for(max(abs(lower), abs(upper)), unit)
    return f"{number(lower, unit, places)}–{number(upper, unit, places)}"


def slug(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
    cleaned = "".join(c if c.isalnum() else "-" for c in text.lower().translate(table))
    return "-".join(part for part in cleaned.split("-") if part)
