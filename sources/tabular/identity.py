"""Columns that hold Swedish personal identity numbers (personnummer or samordningsnummer).

A delivered file must be de-identified: a column named like a personal identity number, or
whose values mostly are valid ones, stops the file. A value counts when it has 10 or 12
digits (YYMMDD-NNNC or YYYYMMDDNNNC, with or without - or +), a real month, a day of 1–31
(61–91 for a samordningsnummer) and a valid check digit (Luhn over the last ten digits).
Values are never shown: the message names the column and how many values looked so.
"""

from __future__ import annotations

import re

import polars as pl

NAMES = ("personnummer", "personnr", "persnr", "pnr", "person_nr", "personnumber",
         "personal_identity_number", "samordningsnummer", "ssn")
PATTERN = re.compile(r"^(?:\d{2})?(\d{2})(\d{2})(\d{2})[-+ ]?(\d{3})(\d)$")
SHARE = 0.5       # of a column's non-empty sampled values
AT_LEAST = 3      # values, so that a lone match in a small file does not decide


def luhn(digits: str) -> bool:
    """The Luhn check over a string of digits (the last is the check digit)."""
    total = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        if i % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def is_identity_number(value: str) -> bool:
    match = PATTERN.match(value.strip())
    if not match:
        return False
    yy, mm, dd, serial, check = match.groups()
    day = int(dd)
    if not (1 <= int(mm) <= 12 and (1 <= day <= 31 or 61 <= day <= 91)):
        return False
    return luhn(yy + mm + dd + serial + check)


def _normal(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip().casefold())


def identity_columns(header: tuple[str, ...], sample: pl.DataFrame | None) -> list[tuple[str, str]]:
    """(column, why in Swedish) for each column that holds personal identity numbers."""
    out = []
    for name in header:
        normal = _normal(name)
        if normal in NAMES or "personnummer" in normal or "personnr" in normal:
            out.append((name, "kolumnnamnet"))
    named = {c for c, _ in out}
    for column in (sample.columns if sample is not None else []):
        if column in named:
            continue
        values = [v for v in sample[column].cast(pl.String).to_list() if v is not None and v.strip()]
        hits = sum(is_identity_number(v) for v in values)
        if hits >= AT_LEAST and hits >= SHARE * len(values):
            out.append((column, f"{hits} av de första {len(values)} värdena är giltiga personnummer"))
    return out
