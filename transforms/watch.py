"""Which kommuner a county should watch, and why: the watch list, from the fact table alone.

Three signals, each a row with a Swedish reason (one rule for `marts.watch_list` and the
site, so SQL and the pages agree):

* **red_red** (rött–rött): significantly worse than riket and a significantly worsening
  trend on one indicator (`red_red` in the fact table);
* **many_worse** (flera sämre): significantly worse than riket on at least `MIN_WORSE`
  indicators of one strategic factor, and on at least `MIN_SHARE` of that factor's
  compared indicators (a row per factor, `indicator_id` null);
* **worsening** (försämras): a significantly worsening trend over the last five years on an
  indicator that is not already red–red.

Only kommuner, sex T, no breakdown, each indicator's latest year with a national value (or
the years given); context indicators (population) are never part of a signal.
"""

from __future__ import annotations

import polars as pl

MIN_WORSE = 3
MIN_SHARE = 0.4
WORSE = ["worse", "much_worse"]
BETTER = ["better", "much_better"]
COMPARED = [*WORSE, *BETTER, "similar"]
WORSENING = ["increasing_worse", "decreasing_worse"]
NATIONAL = ["riket", "total"]
STRATEGIC = ["skola", "foraldraskap", "fritid", "narsamhalle"]
STRATEGIC_TITLE = {"skola": "Måluppfyllelse i skolan", "foraldraskap": "Föräldraskap och familjens villkor",
                   "fritid": "Meningsfull fritid", "narsamhalle": "Tryggt närsamhälle"}

WATCH_REASON = {"red_red": "rött–rött", "many_worse": "flera sämre", "worsening": "försämras"}

WATCH_SCHEMA = {"lan_code": pl.String, "area_code": pl.String, "indicator_id": pl.String,
                "strategic_factor": pl.String, "reason_code": pl.String, "reason": pl.String,
                "period": pl.Int32, "n_worse": pl.Int32, "n_compared": pl.Int32}


def latest_periods(facts: pl.DataFrame) -> pl.DataFrame:
    """Per indicator, the latest year with a national value (riket, or all respondents)."""
    return (facts.filter(pl.col("area_type").is_in(NATIONAL) & (pl.col("status") == "ok")
                         & (pl.col("sex") == "T") & (pl.col("breakdown") == "all"))
            .group_by("indicator_id").agg(pl.col("period").max()).sort("indicator_id"))


def previous_periods(facts: pl.DataFrame, periods: pl.DataFrame) -> pl.DataFrame:
    """Per indicator, the national year before the one in `periods` (none: left out)."""
    national = (facts.filter(pl.col("area_type").is_in(NATIONAL) & (pl.col("status") == "ok")
                             & (pl.col("sex") == "T") & (pl.col("breakdown") == "all"))
                .select("indicator_id", "period").unique())
    return (national.join(periods.rename({"period": "latest"}), on="indicator_id")
            .filter(pl.col("period") < pl.col("latest"))
            .group_by("indicator_id").agg(pl.col("period").max()).sort("indicator_id"))


def _titles(words: list[str]) -> str:
    """Indicator titles as a list; semicolons, since titles carry commas themselves."""
    return words[0] if len(words) == 1 else f"{'; '.join(words[:-1])} och {words[-1]}"


def latest_rows(facts: pl.DataFrame, indicators: pl.DataFrame, areas: pl.DataFrame,
                periods: pl.DataFrame | None = None) -> pl.DataFrame:
    """Kommun rows (sex T, no breakdown) of the chosen year per indicator, context left out,
    with the indicator's title and strategic factor and the kommun's län."""
    periods = latest_periods(facts) if periods is None else periods
    meta = indicators.select("indicator_id", "short_title", "strategic_factor", "factor")
    return (facts.filter((pl.col("area_type") == "kommun") & (pl.col("sex") == "T")
                         & (pl.col("breakdown") == "all"))
            .join(periods.select("indicator_id", pl.col("period").cast(facts.schema["period"])),
                  on=["indicator_id", "period"], how="inner")
            .join(meta, on="indicator_id", how="inner")
            .filter(pl.col("factor") != "context")
            .join(areas.select("area_code", "lan_code"), on="area_code", how="left")
            .with_columns(ok=pl.col("status") == "ok",
                          cmp=pl.col("compared_to_riket").fill_null("not_compared"))
            .sort("area_code", "short_title", "indicator_id"))


def factor_counts(rows: pl.DataFrame) -> pl.DataFrame:
    """Per kommun and strategic factor (`none` included): how many of its indicators with a
    value are compared with riket, and which are worse, better or worsening (id lists in
    title order). `rows` from `latest_rows`."""
    ok = rows.filter(pl.col("ok"))
    return (ok.group_by("lan_code", "area_code", "strategic_factor", maintain_order=True)
            .agg(n_compared=pl.col("cmp").is_in(COMPARED).sum().cast(pl.Int32),
                 worse=pl.col("indicator_id").filter(pl.col("cmp").is_in(WORSE)),
                 better=pl.col("indicator_id").filter(pl.col("cmp").is_in(BETTER)),
                 worsening=pl.col("indicator_id").filter(pl.col("trend").is_in(WORSENING)),
                 worse_titles=pl.col("short_title").filter(pl.col("cmp").is_in(WORSE)))
            .with_columns(n_worse=pl.col("worse").list.len().cast(pl.Int32))
            .sort("area_code", "strategic_factor"))


def watch_list(facts: pl.DataFrame, indicators: pl.DataFrame, areas: pl.DataFrame,
               periods: pl.DataFrame | None = None) -> pl.DataFrame:
    """The watch list: one row per kommun and signal (see the module docstring).

    `periods` (indicator_id, period) chooses the year per indicator; by default each
    indicator's latest national year. Sorted by län, kommun, reason, factor, indicator.
    """
    rows = latest_rows(facts, indicators, areas, periods)
    red_red = (rows.filter(pl.col("red_red").fill_null(False))
               .with_columns(reason_code=pl.lit("red_red"), reason=pl.format(
                   "{}: säkert sämre än riket och säkert försämrad de senaste fem åren ({}).",
                   pl.col("short_title"), pl.col("period"))))
    worsening = (rows.filter(pl.col("ok") & pl.col("trend").is_in(WORSENING)
                             & ~pl.col("red_red").fill_null(False))
                 .with_columns(reason_code=pl.lit("worsening"), reason=pl.format(
                     "{}: säkert försämrad trend de senaste fem åren ({}).",
                     pl.col("short_title"), pl.col("period"))))
    many = (factor_counts(rows)
            .filter(pl.col("strategic_factor").is_in(STRATEGIC) & (pl.col("n_worse") >= MIN_WORSE)
                    & (pl.col("n_worse") >= MIN_SHARE * pl.col("n_compared")))
            .with_columns(
                reason_code=pl.lit("many_worse"),
                reason=pl.struct("strategic_factor", "n_worse", "n_compared", "worse_titles").map_elements(
                    lambda r: (f"{STRATEGIC_TITLE[r['strategic_factor']]}: säkert sämre än riket på "
                               f"{r['n_worse']} av {r['n_compared']} jämförda indikatorer "
                               f"({_titles(r['worse_titles'])})."), return_dtype=pl.String),
                indicator_id=pl.lit(None, pl.String), period=pl.lit(None, pl.Int32)))
    signals = [frame.with_columns(n_worse=pl.lit(None, pl.Int32), n_compared=pl.lit(None, pl.Int32))
               for frame in (red_red, worsening)]
    out = pl.concat([frame.select(list(WATCH_SCHEMA)).cast(WATCH_SCHEMA)
                     for frame in (*signals, many)])
    order = {code: i for i, code in enumerate(WATCH_REASON)}
    return (out.with_columns(_o=pl.col("reason_code").replace_strict(order, return_dtype=pl.Int8))
            .sort("lan_code", "area_code", "_o", "strategic_factor", "indicator_id", nulls_last=True)
            .drop("_o"))
