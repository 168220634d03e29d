"""Benchmark: the need index's Monte Carlo for all 290 kommuner.

    make benchmark            # or: .venv/bin/python scripts/benchmark_need.py [--draws N] [--repeat R]

Synthetic inputs in the shape of data/catalog/need_index.yaml (every indicator of the four
factors for all 290 kommuner, a 95 % interval on each, a few missing), then the timed steps:
preparing the inputs, the full Monte Carlo (nominal ranks, `draws` draws with input sampling
and method choices, län and sub-region aggregation) and the sensitivity analysis. Target
(issue 7): the Monte Carlo for 290 kommuner × 4 factors (+ overall) × 1,000 draws in under
5 s on 2 cores. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sources.coordination_settings import load_need_config  # noqa: E402
from sources.geography import load_kommuner, membership, read_subregion_config, subregions  # noqa: E402
from sources.geography import areas as all_areas  # noqa: E402
from transforms.need import need_index, need_sensitivity, prepare_inputs  # noqa: E402

CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog"


def synthetic(config, kommuner: list[str], seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = sorted({i for _, i, _ in config.inputs()})
    rows = []
    for indicator in ids:
        for year in (config.reference_year, config.reference_year + 5):
            values = rng.normal(50, 12, len(kommuner))
            half = rng.uniform(0.5, 8, len(kommuner))
            gone = rng.random(len(kommuner)) < 0.05
            for code, v, h, g in zip(kommuner, values, half, gone, strict=True):
                rows.append({"indicator_id": indicator, "area_code": code, "area_type": "kommun",
                             "period": year, "sex": "T", "breakdown": "all",
                             "value": None if g else float(v), "lower_95": None if g else float(v - h),
                             "upper_95": None if g else float(v + h),
                             "status": "suppressed" if g else "ok",
                             "status_reason": "dold" if g else None})
    polarity = pl.DataFrame({"indicator_id": ids,
                             "polarity": ["low_is_good" if n % 2 else "high_is_good" for n in range(len(ids))]})
    return pl.DataFrame(rows), polarity


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = load_need_config(CATALOG / "need_index.yaml")
    if args.draws:
        config = config.model_copy(update={"draws": args.draws})
    kommun = load_kommuner()
    codes = kommun["kommun_code"].to_list()
    subs = subregions(kommun, read_subregion_config(CATALOG / "subregions.yaml", kommun))
    lan = kommun.select("lan_code", "lan_name").unique().sort("lan_code")
    areas = all_areas(kommun, lan, subs)
    members = membership(kommun, subs)
    children = pl.DataFrame({"area_code": codes, "children": np.random.default_rng(2).uniform(500, 50_000, len(codes))})
    facts, indicators = synthetic(config, codes)
    print(f"need index benchmark: {len(codes)} kommuner, {len(config.factors)} factors + overall, "
          f"{len(config.inputs())} inputs, {config.draws} draws, {os.cpu_count()} CPUs visible")
    started = time.perf_counter()
    inputs = prepare_inputs(facts, indicators, codes, config)
    print(f"  prepare inputs:                 {time.perf_counter() - started:6.2f} s ({inputs.height} rows)")
    times, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        index = need_index(inputs, config, areas, members, children)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"  Monte Carlo need index:         {min(times):6.2f} s best of {args.repeat} "
          f"(median {sorted(times)[len(times) // 2]:.2f} s; CPU {min(cpu):.2f} s; target < 5 s) "
          f"→ {index.height} rows")
    print(f"  load average while measuring:   {os.getloadavg()[0]:6.2f} (other processes share the cores)")
    started = time.perf_counter()
    sensitivity = need_sensitivity(inputs, config, {})
    print(f"  sensitivity analysis:           {time.perf_counter() - started:6.2f} s ({sensitivity.height} rows)")
    print(f"  peak memory:                    {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.0f} MB")


if __name__ == "__main__":
    main()
