"""Released versions of survey waves: what changed, and what protection cost.

Every release of a wave (survey × year × version) is kept in the private store:
`released/<survey>-<year>.parquet` holds its true cells and what was shown (the attacker's
knowledge for later versions) and `released/<survey>-<year>.audit.parquet`, per scale, what
protection cost and what an attacker gets: cells, cells shown, cells the rule alone would
hide (the primaries), respondents in kommuner whose total is shown, values an attacker can
pin or narrow to two respondents or less, and the change against the version before, in
Swedish ("komplettering: 25 svarande i Solna").

`public_releases` is what meta.survey_release publishes of it: only what the published cells
give away anyway. The number of cells the rule alone would hide is left out (it counts hidden
cells by their true size, and its change between two versions could tell in which hidden cell
a late pupil landed), and so is the change in words (a supplement of one pupil in a kommun
would say which cells moved by one); both go to the operator, in the run summary and Dagster.
"""

from __future__ import annotations

import polars as pl

from sources.surveys.private_store import RELEASED, PrivateStore

NEW, SUPPLEMENT, CORRECTION, WITHDRAWAL, CHANGED = "new_wave", "supplement", "correction", "withdrawal", "changed"
# What a release changed, in Swedish (marts.label); the lower-case word opens the change's text.
CHANGE = {NEW: "Ny omgång", SUPPLEMENT: "Komplettering (fler svarande)",
          CORRECTION: "Rättelse (samma svarande, ändrade svar)", WITHDRAWAL: "Tillbakadragande (färre svarande)",
          CHANGED: "Ändrad leverans (både fler och färre svarande)"}
WORD = {code: label.split(" (")[0].lower() for code, label in CHANGE.items()}
AUDIT_SCHEMA = {"survey_id": pl.String, "period": pl.Int32, "version": pl.Int32, "scale": pl.String,
                "change": pl.String, "change_text": pl.String, "cells": pl.Int64, "cells_shown": pl.Int64,
                "cells_publishable": pl.Int64, "pupils_covered": pl.Int64, "pinned": pl.Int64,
                "narrowed": pl.Int64}
PUBLIC_COLUMNS = ["survey_id", "period", "version", "scale", "change", "cells", "cells_shown",
                  "pupils_covered", "pinned", "narrowed"]
MAX_NAMED = 5  # kommuner named in a change; the rest are counted


def number(n: int | float) -> str:
    """A count as Swedish text: 9 308, 12 345 (a space between thousands)."""
    return f"{int(n):,}".replace(",", " ")


def _respondents(wave: pl.DataFrame) -> dict[str, int]:
    """Respondents per kommun of a release: the most with a score on any scale."""
    totals = wave.filter(pl.col("area_type") == "kommun", pl.col("sex") == "T", pl.col("breakdown") == "all")
    return {k: int(n) for k, n in totals.group_by("area_code").agg(pl.col("n").max()).iter_rows()}


def _listed(items: list[tuple[str, int]], names: dict[str, str], word: str) -> str:
    """'25 svarande i Solna, 3 i Sundbyberg och 2 i Täby' (largest first)."""
    items = sorted(items, key=lambda kv: (-abs(kv[1]), kv[0]))
    parts = [f"{number(abs(n))} {word + ' ' if i == 0 else ''}i {names.get(k, k)}"
             for i, (k, n) in enumerate(items[:MAX_NAMED])]
    if len(items) > MAX_NAMED:
        parts.append(f"{number(sum(abs(n) for _, n in items[MAX_NAMED:]))} i {len(items) - MAX_NAMED} kommuner till")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def describe_change(old: pl.DataFrame | None, new: pl.DataFrame, names: dict[str, str],
                    scales: dict[str, str]) -> tuple[str, str]:
    """(kind, Swedish text) of a release against the one before (None: the first). `old`
    and `new` are release cells (area_code, area_type, sex, breakdown, scale, n, n_flag …);
    `names` kommun code → name, `scales` scale id → Swedish title."""
    now = _respondents(new)
    if old is None:
        return NEW, f"{WORD[NEW]}: {number(sum(now.values()))} svarande i {len(now)} kommuner"
    before = _respondents(old)
    delta = [(k, now.get(k, 0) - before.get(k, 0)) for k in sorted(set(now) | set(before))]
    grew = [(k, d) for k, d in delta if d > 0]
    shrank = [(k, d) for k, d in delta if d < 0]
    if grew and not shrank:
        return SUPPLEMENT, f"{WORD[SUPPLEMENT]}: {_listed(grew, names, 'svarande')}"
    if shrank and not grew:
        return WITHDRAWAL, f"{WORD[WITHDRAWAL]}: {_listed(shrank, names, 'svarande')} färre"
    if grew and shrank:
        return CHANGED, (f"{WORD[CHANGED]}: {_listed(grew, names, 'svarande')} fler, "
                         f"{_listed(shrank, names, 'svarande')} färre")
    keys = ["indicator_id", "area_code", "sex", "breakdown"]
    moved = (new.filter(pl.col("area_type") == "kommun").select(*keys, "scale", "n_flag")
             .join(old.select(*keys, before="n_flag"), on=keys, how="left")
             .filter(pl.col("n_flag") != pl.col("before").fill_null(0)))
    kommuner = sorted(set(moved["area_code"]))
    titles = sorted({scales.get(s, s) for s in moved["scale"]})
    where = ", ".join(names.get(k, k) for k in kommuner[:MAX_NAMED]) + (
        f" och {len(kommuner) - MAX_NAMED} kommuner till" if len(kommuner) > MAX_NAMED else "")
    return CORRECTION, f"{WORD[CORRECTION]}: ändrade svar i {where or 'inga kommuner'} ({', '.join(titles).lower()})"


def audit_path(store: PrivateStore, survey: str, period: int):
    return store.root / RELEASED / f"{survey}-{period}.audit.parquet"


def recorded(store: PrivateStore, survey: str, period: int) -> pl.DataFrame:
    path = audit_path(store, survey, period)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=AUDIT_SCHEMA)


def record(store: PrivateStore, survey: str, period: int, rows: pl.DataFrame) -> None:
    """Add (or replace) a version's audit rows for a wave."""
    versions = rows["version"].unique().to_list()
    kept = recorded(store, survey, period).filter(~pl.col("version").is_in(versions))
    store.write_frame(pl.concat([kept, rows.select(list(AUDIT_SCHEMA)).cast(AUDIT_SCHEMA)])
                      .sort("version", "scale"), audit_path(store, survey, period))


def all_recorded(store: PrivateStore) -> pl.DataFrame:
    folder = store.root / RELEASED
    frames = [pl.read_parquet(p) for p in sorted(folder.glob("*.audit.parquet"))] if folder.exists() else []
    return pl.concat(frames) if frames else pl.DataFrame(schema=AUDIT_SCHEMA)


def public_releases(audit: pl.DataFrame, current: dict[tuple[str, int], int]) -> pl.DataFrame:
    """meta.survey_release: per release and scale what the published cells give away anyway,
    and whether it is the version published now (`current`: (survey, year) → version)."""
    live = pl.DataFrame([{"survey_id": s, "period": p, "version": v} for (s, p), v in current.items()],
                        schema={"survey_id": pl.String, "period": pl.Int32, "version": pl.Int32})
    return (audit.select(PUBLIC_COLUMNS)
            .join(live.with_columns(current=pl.lit(True)), on=["survey_id", "period", "version"], how="left")
            .with_columns(pl.col("current").fill_null(False))
            .sort("survey_id", "period", "version", "scale"))


def summary_lines(audit: pl.DataFrame, titles: dict[tuple[str, int], str]) -> list[str]:
    """One Swedish line per release in `audit` for the operator: the change and what is shown,
    against the version before when there is one."""
    lines = []
    per_release = (audit.group_by("survey_id", "period", "version", "change_text")
                   .agg(pl.col("cells", "cells_shown", "cells_publishable").sum())
                   .sort("survey_id", "period", "version"))
    for r in per_release.iter_rows(named=True):
        title = titles.get((r["survey_id"], r["period"]), f"{r['survey_id']} {r['period']}")
        small = r["cells"] - r["cells_publishable"]
        protecting = r["cells_publishable"] - r["cells_shown"]
        lines.append(f"{title} ({r['change_text']}): {number(r['cells_shown'])} av {number(r['cells'])} "
                     f"celler visas; {number(small)} döljs för att de har färre än 10 svarande eller "
                     f"en andel på 0 eller 100 % i en liten grupp, {number(protecting)} till för att "
                     "de inte ska kunna räknas fram ur summorna")
    return lines
