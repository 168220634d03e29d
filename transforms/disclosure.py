"""The disclosure rule shared by every stage that shows a count: small counts are hidden.

Each indicator's catalogue entry gives the range of counts to hide (default 1–4); the
reason travels with the row, and a hidden value is null, never 0.
"""

from __future__ import annotations

import polars as pl


def small_count(count: pl.Expr) -> pl.Expr:
    """True where `count` lies in the indicator's suppression range."""
    return count.is_between(pl.col("suppress_count_min"), pl.col("suppress_count_max"))


def small_count_reason() -> pl.Expr:
    return pl.format("antal {}–{} döljs (röjanderisk)", pl.col("suppress_count_min"),
                     pl.col("suppress_count_max"))
