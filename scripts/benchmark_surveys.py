"""Benchmark of the survey path: 300,000 respondents × 120 items, from CSV to cells, and what
disclosure control costs.

    .venv/bin/python scripts/benchmark_surveys.py [--respondents N]

A child process writes a Latin-1, semicolon, decimal-comma CSV over all 290 kommuner and a
codebook with 12 scales of 10 items (percentile and absolute cut-points) into a temporary
folder. Three measurements follow, each in its own process so that each peak memory is its
own: the file with a problem in every row (one scale coded 0–3 instead of 1–4 and an unknown
sex code), taken in as the inbox would (read, checked, quarantined with its report); the
clean file read, checked, scored and aggregated, then the national wave through the
disclosure audit scale by scale, with the protection figures (cells shown, of those the
10-respondent rule alone allows, and what an attacker gets), and a late pupil and a late
school of 25 delivered to the released wave; and the two demo waves taken in as the inbox
does, with the same figures and the late deliveries of issue 19 (Solna in sthlm 2024).
Targets: reading to cells at most 30 s and 2 GB; the audit at most 10 minutes and 2 GB
(issue 18). It prints figures and asserts nothing.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "2")  # the target machine has two cores

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCALES, ITEMS_PER_SCALE = 12, 10
TARGET_SECONDS, TARGET_MB = 30, 2048
AUDIT_TARGET_SECONDS = 600  # issue 18: 290 kommuner × 12 scales through the audit in 10 minutes


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


def protection_line(label: str, audit, seconds: float | None = None) -> str:
    """Cells shown of all and of those the rule about small groups alone would show, and what
    an attacker gets (from a block audit: transforms.survey_privacy.protect)."""
    cells, shown, publishable = (int(audit[c].sum()) for c in ("cells", "shown", "publishable"))
    took = f"  {seconds:6.1f} s" if seconds is not None else ""
    num = lambda n: f"{n:,}".replace(",", " ")  # noqa: E731
    return (f"  {label:<44} {num(shown):>6} of {num(cells):>6} cells shown = {100 * shown / publishable:5.1f} % "
            f"of the {num(publishable)} the 10-respondent rule alone allows; pinned "
            f"{int(audit['pinned'].sum())}, narrowed ≤ 2: {int(audit['narrowed'].sum())}{took}")


def measure_clean(folder: Path) -> None:
    import polars as pl
    import polars.selectors as cs

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

    def cells_of(frame):
        return area_cells(full_grid(combine_files([kommun_cells(frame, book, cuts).with_columns(
            fetched_at=pl.lit("2026-01-01T00:00:00Z"))])))

    cells = stage("aggregate kommun, län and all-respondent cells", lambda: cells_of(scores))
    before = sum(s for _, s, _ in stages)
    print(f"  {'reading to cells':<45} {before:6.2f} s   (target ≤ {TARGET_SECONDS} s)")
    print(f"  peak memory (max RSS)                         {peak_mb():6.0f} MB  (target ≤ {TARGET_MB} MB)")
    # The audit runs in a process of its own (its own peak memory), from these.
    cells.write_parquet(folder / "cells.parquet")
    scores.select("respondent_id", "kommun", "year", "grade", "sex", "weight", cs.starts_with("score__")) \
        .write_parquet(folder / "scores.parquet")
    cuts.write_parquet(folder / "cuts.parquet")


def measure_audit(folder: Path) -> None:
    import polars as pl

    from sources.geography import load_kommuner
    from sources.surveys.codebook import load_codebook
    from transforms.survey import area_cells, combine_files, full_grid, kommun_cells, survey_values

    book = load_codebook(folder / "bench.yaml")
    kommuner = load_kommuner()
    names = dict(zip(kommuner["kommun_code"], kommuner["kommun_name"], strict=True))
    cells, scores = pl.read_parquet(folder / "cells.parquet"), pl.read_parquet(folder / "scores.parquet")
    cuts = pl.read_parquet(folder / "cuts.parquet")

    def cells_of(frame):
        return area_cells(full_grid(combine_files([kommun_cells(frame, book, cuts).with_columns(
            fetched_at=pl.lit("2026-01-01T00:00:00Z"))])))

    print(f"\n  disclosure audit of the national wave ({cells['area_code'].n_unique() - 1} areas), "
          f"one scale at a time (target ≤ {AUDIT_TARGET_SECONDS // 60} min and {TARGET_MB} MB in all):")
    audits, started, releases = [], time.perf_counter(), []
    for scale in sorted(cells["scale"].unique()):
        t = time.perf_counter()
        protected = survey_values(cells.filter(pl.col("scale") == scale), {"bench": True})
        audits.append(protected.audit)
        releases.append(protected.cells)
        print(protection_line(scale, protected.audit, time.perf_counter() - t), flush=True)
    audit = pl.concat(audits)
    print(f"  {'audit, all scales':<45} {time.perf_counter() - started:6.1f} s   "
          f"(target ≤ {AUDIT_TARGET_SECONDS} s)")
    print(f"  peak memory (max RSS, this process)           {peak_mb():6.0f} MB  (target ≤ {TARGET_MB} MB)")
    print(protection_line("national wave, all scales", audit))

    # Late deliveries to the released national wave: the attacker knows version 1.
    history_rows = (cells.join(pl.concat(releases).select("indicator_id", "area_code", "sex", "breakdown",
                                                           shown=pl.col("status") == "ok"),
                               on=["indicator_id", "area_code", "sex", "breakdown"])
                    .select("survey_id", "scale", "period", "area_code", "area_type", "parent", "sex",
                            "breakdown", "indicator_id", "n", "n_flag", "shown"))
    sizes = scores.group_by("kommun").len().sort("len", "kommun")
    kommun = sizes["kommun"][sizes.height // 2]  # a kommun of middling size
    for late in (1, 25):
        extra = scores.filter(pl.col("kommun") == kommun).head(late).with_columns(
            pl.col("respondent_id") + "-sen")
        t = time.perf_counter()
        version2 = survey_values(cells_of(pl.concat([scores, extra])), {"bench": True},
                                 history={("bench", 2024): [history_rows]})
        print(protection_line(f"+ {late} late pupil{'s' if late > 1 else ''} in {names[kommun]}, version 2",
                              version2.audit, time.perf_counter() - t), flush=True)
        kept = int(version2.audit["shown"].sum()) / int(audit["shown"].sum())
        print(f"  {'':<44} {100 * kept:5.1f} % of version 1's shown cells still shown")


def measure_demo(folder: Path) -> None:
    """The two demo waves as a county's inbox takes them in, then a late pupil and a late
    school of 25 in Solna (sthlm 2024, the case of issue 19)."""
    import polars as pl

    from sources.catalog import load_source_settings
    from sources.demo.world import DemoWorld
    from sources.geography import load_kommuner
    from sources.surveys.codebook import load_codebooks
    from sources.surveys.demo import write_demo_surveys
    from sources.surveys.intake import take_in
    from sources.surveys.private_store import PrivateStore
    from sources.surveys.tables import build_survey_values

    kommuner = load_kommuner()
    names = dict(zip(kommuner["kommun_code"], kommuner["kommun_name"], strict=True))
    books = load_codebooks(REPO / "data" / "catalog" / "surveys")
    world = DemoWorld.build(kommuner, [], load_source_settings(REPO / "data" / "catalog" / "sources.yaml").years.span)
    inbox, store = folder / "inbox", PrivateStore(folder / "private")
    for path in write_demo_surveys(inbox, world, kommuner, books):
        assert take_in(path, inbox=inbox, codebooks=books, kommun_codes=names, store=store).ok
    t = time.perf_counter()
    first = build_survey_values(store, books)
    seconds = time.perf_counter() - t
    audit = pl.read_parquet(sorted((store.root / "released").glob("*.audit.parquet")))
    for (survey,), wave in audit.rename({"cells_shown": "shown", "cells_publishable": "publishable"}) \
            .partition_by("survey_id", as_dict=True).items():
        print(protection_line(f"demo {survey} {wave['period'][0]}", wave))
    print(f"  {'both demo waves, version 1':<44} {seconds:6.1f} s")
    shown_first = first.values.filter(pl.col("survey_id") == "sthlm", pl.col("status") == "ok").height
    from tests.survey_files import sthlm_frame, write_sav  # the SPSS layout of the demo wave

    for late in (1, 25):
        # Each case against the released version 1, in a copy of the store.
        copy = PrivateStore(folder / f"private_{late}")
        shutil.copytree(store.root, copy.root)
        name = f"sthlm_2024_sen_{late}.sav"
        write_sav(inbox / name, sthlm_frame(late, seed=late, kommun=184.0).with_columns(pl.col("lopnr") + 900_000))
        assert take_in(inbox / name, inbox=inbox, codebooks=books, kommun_codes=names, store=copy).ok
        t = time.perf_counter()
        tables = build_survey_values(copy, books)
        seconds = time.perf_counter() - t
        shown = tables.values.filter(pl.col("survey_id") == "sthlm", pl.col("status") == "ok")
        change = pl.read_parquet(copy.root / "released" / "sthlm-2024.audit.parquet").filter(
            pl.col("version") == 2)["change_text"][0]
        print(f"  + {late} late in Solna ({change}): {shown.height} of the {shown_first} cells shown before "
              f"still shown ({100 * shown.height / shown_first:.1f} %); län "
              f"{shown.filter(pl.col('area_type') == 'lan').height} and all respondents "
              f"{shown.filter(pl.col('area_type') == 'total').height} of 90 each; {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=300_000)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--problems", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["clean", "problems", "audit", "demo"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.respondents, args.problems)
        return
    if args.measure:
        {"clean": measure_clean, "problems": measure_problems, "audit": measure_audit,
         "demo": measure_demo}[args.measure](args.folder)
        return

    with tempfile.TemporaryDirectory(prefix="uppvaxt-survey-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        for problems in (False, True):
            subprocess.run([sys.executable, __file__, "--generate", str(folder), "--respondents",
                            str(args.respondents)] + (["--problems"] if problems else []), check=True)
        print(f"generated two CSV files of {args.respondents:,} respondents × {SCALES * ITEMS_PER_SCALE} "
              f"items in {time.perf_counter() - started:.1f} s (not counted)")
        for what in ("problems", "clean", "audit"):
            subprocess.run([sys.executable, "-u", __file__, "--measure", what, "--folder", str(folder)], check=True)
    with tempfile.TemporaryDirectory(prefix="uppvaxt-survey-demo-") as tmp:
        print("\nthe demo waves, taken in as the inbox does, and late deliveries to sthlm 2024:")
        subprocess.run([sys.executable, "-u", __file__, "--measure", "demo", "--folder", tmp], check=True)


if __name__ == "__main__":
    main()
