"""Comparing a newly fetched series with the previously published vintage of it.

A revision moves some values a little; a change of scale moves all of them by the same
factor. Kolada once rescaled two crime KPIs by about 95× between two vintages while the
catalogue still said "per 1 000 invånare": riket then showed 32 million thefts. The test
here is the median, over the values both vintages have (same area, year and sex, both
non-zero), of new / old: outside [0.8, 1.25] it is a level shift, not a revision. The
median ignores the handful of values a real revision changes a lot.

A unit is read from the end of a Kolada title ("…, andel (%)", "…, antal/1000 inv"): when
that part changes, the scale has changed even if no value overlaps yet.
"""

from __future__ import annotations

import re

import polars as pl

LOW, HIGH = 0.8, 1.25
MIN_PAIRS = 5
KEYS = ["kpi", "municipality", "period", "gender"]

# Words that make the last comma-separated part of a Kolada title a unit.
_UNIT_WORDS = re.compile(r"%|antal|andel|/|kr\b|inv\b|per\s|poäng|genomsnitt|medelvärde|dagar|timmar")


def title_unit(title: str | None) -> str | None:
    """The unit at the end of a Kolada title, normalised; None when the title has none."""
    if not title or "," not in title:
        return None
    last = title.rsplit(",", 1)[1].strip().lower()
    if not _UNIT_WORDS.search(last):
        return None
    return re.sub(r"\s+", "", last).replace("1 000", "1000")


def level_shift(new: pl.DataFrame, old: pl.DataFrame, *, low: float = LOW,
                high: float = HIGH, min_pairs: int = MIN_PAIRS) -> pl.DataFrame:
    """Per KPI: median ratio new/old over overlapping non-zero values, the years compared,
    and whether it is a level shift.

    Both frames have columns kpi, municipality, period, gender, value (raw.kolada_value).
    Returns kpi, ratio, pairs, first_year, last_year, shifted (sorted by kpi); a KPI with
    fewer than `min_pairs` overlapping values gets no verdict (shifted false).
    """
    usable = lambda f: f.filter(pl.col("value").is_not_null() & (pl.col("value") != 0)).select(
        *KEYS, "value")
    pairs = usable(new).join(usable(old), on=KEYS, how="inner", suffix="_old")
    return (
        pairs.group_by("kpi")
        .agg(ratio=(pl.col("value") / pl.col("value_old")).median(),
             pairs=pl.len(),
             first_year=pl.col("period").min(),
             last_year=pl.col("period").max())
        .with_columns(shifted=(pl.col("pairs") >= min_pairs)
                      & ((pl.col("ratio") < low) | (pl.col("ratio") > high)))
        .sort("kpi")
    )


def out_of_range(values: pl.DataFrame, value_type: str) -> pl.DataFrame:
    """Rows whose value cannot be of this type: negative counts, rates and shares, or a
    share above 100 %. Means may be anything."""
    value = pl.col("value")
    if value_type == "proportion":
        bad = (value < 0) | (value > 100 + 1e-9)
    elif value_type in ("rate", "count"):
        bad = value < 0
    else:
        return values.clear()
    return values.filter(value.is_not_null() & bad)


def swedish_number(x: float, digits: int = 3) -> str:
    """A number to `digits` significant digits with a decimal comma (e.g. 95,2)."""
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.0f}"
    return text.replace(".", ",")
