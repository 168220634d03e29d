"""Benchmark of the survey path: 300,000 respondents × 120 items, from CSV to cells.

    .venv/bin/python scripts/benchmark_surveys.py [--respondents N]

A child process writes a Latin-1, semicolon, decimal-comma CSV over all 290 kommuner and a
codebook with 12 scales of 10 items (percentile and absolute cut-points) into a temporary
folder. Two measurements follow, each in its own process so that each peak memory is its
own: a clean file read, checked, scored, aggregated and disclosure-controlled; and the same
file with a problem in every row (one scale coded 0–3 instead of 1–4 and an unknown sex
code), taken in as the inbox would (read, checked, quarantined with its report). Targets:
at most 30 s and 2 GB each on 2 cores. It prints figures and asserts nothing.
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
        "reference": {"description": "Alla svarande 2024.", "years": [2024]},
        "scales": scales,
    }, allow_unicode=True, sort_keys=False)


def generate(folder: Path, respondents: int, problems: bool = False) -> None:
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
    if problems:  # a scale coded 0–3 and an unknown sex code: problems in every row
        frame = frame.with_columns([(pl.col(f"q01_{i}") - 1).alias(f"q01_{i}") for i in range(ITEMS_PER_SCALE)]
                                   + [pl.lit(7).alias("kön")])
    text = frame.write_csv(separator=";", decimal_comma=True, line_terminator="\r\n")
    name = "bench_problems_2024.csv" if problems else "bench_2024.csv"
    (folder / name).write_bytes(text.encode("latin-1"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure_problems(folder: Path) -> None:
    """Take in the file with a problem in every row as the inbox does; print the figures."""
    from sources.geography import load_kommuner
    from sources.surveys.codebook import load_codebook
    from sources.surveys.intake import take_in
    from sources.surveys.private_store import PrivateStore

    book = load_codebook(folder / "bench.yaml")
    kommuner = load_kommuner()
    names = dict(zip(kommuner["kommun_code"], kommuner["kommun_name"], strict=True))
    inbox = folder / "inbox"
    inbox.mkdir()
    (folder / "bench_problems_2024.csv").rename(inbox / "bench_problems_2024.csv")
    size = (inbox / "bench_problems_2024.csv").stat().st_size
    started = time.perf_counter()
    outcome = take_in(inbox / "bench_problems_2024.csv", inbox=inbox, codebooks={"bench": book},
                      kommun_codes=names, store=PrivateStore(folder / "private"), max_bytes=10**10)
    seconds = time.perf_counter() - started
    report = sum(p.stat().st_size for p in (inbox / "quarantine").iterdir())
    summary = outcome.summary()
    print(f"  file with a problem in every row ({size / 1024**2:.0f} MB): {summary.failure_count:,} problems "
          f"counted, {outcome.problems.height} kept as examples; report {report / 1024:.0f} kB")
    print(f"  {'read, check, quarantine with report':<45} {seconds:6.2f} s   (target ≤ {TARGET_SECONDS} s)")
    print(f"  peak memory (max RSS)                         {peak_mb():6.0f} MB  (target ≤ {TARGET_MB} MB)")


def measure_clean(folder: Path) -> None:
    import polars as pl

    from sources.geography import load_kommuner
    from sources.surveys.codebook import load_codebook
    from sources.tabular.readers import read_table
    from sources.surveys.validate import apply_codebook
    from transforms.survey import (area_cells, combine_files, full_grid, kommun_cells,
                                   resolve_cuts, score, survey_values)

    csv = folder / "bench_2024.csv"
    book = load_codebook(folder / "bench.yaml")
    kommuner = load_kommuner()
    names = dict(zip(kommuner["kommun_code"], kommuner["kommun_name"], strict=True))
    stages: list[tuple[str, float, float]] = []

    def stage(name, fn):
        t = time.perf_counter()
        out = fn()
        stages.append((name, time.perf_counter() - t, peak_mb()))
        print(f"  {name:<45} {stages[-1][1]:6.2f} s   {stages[-1][2]:6.0f} MB", flush=True)
        return out

    print(f"  clean file ({csv.stat().st_size / 1024**2:.0f} MB); stage, seconds, peak RSS so far")
    table = stage("read CSV (encoding, delimiter, widths)",
                  lambda: read_table(csv, list(book.columns.roles().values()) + book.scale_items))
    checked = stage("check against the codebook", lambda: apply_codebook(table, book, names))
    assert checked.problems.height == 0, checked.problems.head()
    del table
    scores = stage("score 12 scales", lambda: score(checked.frame, book).collect())
    del checked
    cuts = stage("resolve cut-points (percentiles)", lambda: resolve_cuts(scores, book))
    cells = stage("aggregate kommun cells", lambda: kommun_cells(scores, book, cuts).with_columns(
        fetched_at=pl.lit("2026-01-01T00:00:00Z")))
    values, _ = stage("full grid, län/ALLA, values, disclosure audit",
                      lambda: survey_values(area_cells(full_grid(combine_files([cells]))), {"bench": True}))
    total = sum(s for _, s, _ in stages)
    print(f"  {'total':<45} {total:6.2f} s   (target ≤ {TARGET_SECONDS} s)")
    print(f"  peak memory (max RSS)                         {peak_mb():6.0f} MB  (target ≤ {TARGET_MB} MB)")
    hidden = values.filter(pl.col("status") == "suppressed").height
    print(f"  {values.height:,} cells, {hidden:,} hidden; POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=300_000)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--problems", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["clean", "problems"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.respondents, args.problems)
        return
    if args.measure:
        (measure_clean if args.measure == "clean" else measure_problems)(args.folder)
        return

    with tempfile.TemporaryDirectory(prefix="uppvaxt-survey-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        for problems in (False, True):
            subprocess.run([sys.executable, __file__, "--generate", str(folder), "--respondents",
                            str(args.respondents)] + (["--problems"] if problems else []), check=True)
        print(f"generated two CSV files of {args.respondents:,} respondents × {SCALES * ITEMS_PER_SCALE} "
              f"items in {time.perf_counter() - started:.1f} s (not counted)")
        for what in ("problems", "clean"):
            subprocess.run([sys.executable, "-u", __file__, "--measure", what, "--folder", str(folder)], check=True)


if __name__ == "__main__":
    main()
