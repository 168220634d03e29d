"""Benchmark of the survey path: 300,000 respondents × 120 items, from CSV to cells.

    .venv/bin/python scripts/benchmark_surveys.py [--respondents N]

A child process writes a Latin-1, semicolon, decimal-comma CSV over all 290 kommuner and a
codebook with 12 scales of 10 items (percentile and absolute cut-points) into a temporary
folder; this process then reads, checks, scores, aggregates and suppresses it, printing
seconds per stage and peak memory (max RSS). Target: at most 30 s and 2 GB on 2 cores.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "2")  # the target machine has two cores

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCALES, ITEMS_PER_SCALE = 12, 10
TARGET_SECONDS, TARGET_MB = 30, 2048


def codebook_yaml() -> str:
    import yaml

    items = {f"q{s:02d}_{i}": {"label": f"Fråga {i} i skala {s}"} for s in range(SCALES)
             for i in range(ITEMS_PER_SCALE)}
    scales = {}
    for s in range(SCALES):
        names = [f"q{s:02d}_{i}" for i in range(ITEMS_PER_SCALE)]
        cut = {"kind": "risk", "title": f"Risk i skala {s}", "short_title": f"Risk, skala {s}",
               "definition": "Benchmark."}
        scales[f"skala_{s:02d}"] = {
            "title": f"Skala {s}", "strategic_factor": "none", "domain": "halsa",
            "items": names, "reverse": names[:3], "min_items": 6,
            "cuts": {"forhojd_risk": {**cut, "label": "Förhöjd risk", "op": ">", "percentile": 75},
                     "hog_risk": {**cut, "label": "Hög risk", "op": ">=", "value": 3.2}},
        }
    return yaml.safe_dump({
        "id": "bench", "name": "Benchmark",
        "columns": {"respondent_id": "id", "municipality": "kommun", "grade": "årskurs",
                    "sex": "kön", "year": "år", "weight": "vikt"},
        "grades": {"ak9": {"label": "Årskurs 9", "codes": [9]}, "gy2": {"label": "Gy 2", "codes": [2]}},
        "sex": {"K": [1], "M": [2], "missing": [9]},
        "item_defaults": {"valid": [1, 4], "missing": [9]},
        "items": items,
        "reference": {"description": "Alla svarande."},
        "scales": scales,
    }, allow_unicode=True, sort_keys=False)


def generate(folder: Path, respondents: int) -> None:
    import numpy as np
    import polars as pl

    from sources.geography import load_kommuner

    (folder / "bench.yaml").write_text(codebook_yaml(), encoding="utf-8")
    rng = np.random.default_rng(4)
    kommuner = load_kommuner()["kommun_code"].to_numpy()
    size = rng.lognormal(0, 1.2, len(kommuner))
    frame = pl.DataFrame({
        "id": np.arange(1, respondents + 1),
        "kommun": rng.choice(kommuner, respondents, p=size / size.sum()),
        "årskurs": rng.choice([9, 2], respondents),
        "kön": rng.choice([1, 2, 9], respondents, p=[0.49, 0.49, 0.02]),
        "år": np.full(respondents, 2024),
        "vikt": rng.uniform(0.5, 2.0, respondents).round(3),
    })
    latent = rng.normal(0, 1, respondents)
    items = {f"q{s:02d}_{i}": np.clip(np.round(2.5 + latent + rng.normal(0, 1, respondents)), 1, 4).astype(np.int8)
             for s in range(SCALES) for i in range(ITEMS_PER_SCALE)}
    frame = frame.with_columns(**{k: pl.Series(v) for k, v in items.items()})
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) % 37 == 0).then(9)
                               .otherwise(pl.col("q00_0")).alias("q00_0"))
    text = frame.write_csv(separator=";", decimal_comma=True, line_terminator="\r\n")
    (folder / "bench_2024.csv").write_bytes(text.encode("latin-1"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=300_000)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.respondents)
        return

    with tempfile.TemporaryDirectory(prefix="uppvaxt-survey-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", str(folder),
                        "--respondents", str(args.respondents)], check=True)
        csv = folder / "bench_2024.csv"
        print(f"generated {csv.stat().st_size / 1024**2:.0f} MB CSV ({args.respondents:,} respondents × "
              f"{SCALES * ITEMS_PER_SCALE} items) in {time.perf_counter() - started:.1f} s (not counted)")

        import polars as pl

        from sources.geography import load_kommuner
        from sources.surveys.codebook import load_codebook
        from sources.tabular.readers import read_table
        from sources.surveys.validate import apply_codebook
        from transforms.survey import (area_cells, combine_files, kommun_cells, resolve_cuts,
                                       score, survey_values)

        book = load_codebook(folder / "bench.yaml")
        codes = set(load_kommuner()["kommun_code"])
        stages: list[tuple[str, float, float]] = []

        def stage(name, fn):
            t = time.perf_counter()
            out = fn()
            stages.append((name, time.perf_counter() - t, peak_mb()))
            return out

        table = stage("read CSV (encoding, delimiter, widths)",
                      lambda: read_table(csv, list(book.columns.roles().values()) + book.scale_items))
        checked = stage("check against the codebook", lambda: apply_codebook(table, book, codes))
        assert checked.problems.height == 0, checked.problems.head()
        del table
        scores = stage("score 12 scales", lambda: score(checked.frame, book).collect())
        del checked
        cuts = stage("resolve cut-points (percentiles)", lambda: resolve_cuts(scores, book))
        cells = stage("aggregate kommun cells", lambda: kommun_cells(scores, book, cuts).with_columns(
            source_file=pl.lit(csv.name), fetched_at=pl.lit("2026-01-01T00:00:00Z")))
        values = stage("län/ALLA, values and disclosure control",
                       lambda: survey_values(area_cells(combine_files([cells])), {"bench": True}, 10))
        total = sum(s for _, s, _ in stages)
        print(f"  {'stage':<45} {'seconds':>8}   peak RSS so far")
        for name, seconds, peak in stages:
            print(f"  {name:<45} {seconds:6.2f} s   {peak:6.0f} MB")
        print(f"  {'total':<45} {total:6.2f} s   (target ≤ {TARGET_SECONDS} s)")
        print(f"  peak memory (max RSS)                         {peak_mb():6.0f} MB  (target ≤ {TARGET_MB} MB)")
        hidden = values.filter(pl.col("status") == "suppressed").height
        print(f"  {values.height:,} cells, {hidden:,} hidden; POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']}")


if __name__ == "__main__":
    main()
