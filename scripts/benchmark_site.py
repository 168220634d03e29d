"""Benchmark: the report step (the whole site) on the published demo marts.

    make benchmark            # or: .venv/bin/python scripts/benchmark_site.py [--db FILE]

Prints the seconds to write all pages (21 county pages, 290 profiles, the indicator pages
and the start page), sequentially and with the default worker processes, the seconds to
write the downloads cold and warm (unchanged files are kept), and the bytes of each page
kind. Asserts nothing: the targets (all county pages and profiles under 10 s on 2 cores,
a county page ≤ 1.5 MB, a profile ≤ 1 MB) are in the README.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reports.model import Marts  # noqa: E402
from reports.render import ReportContext, render_downloads, render_site, workers_from_env  # noqa: E402
from sources.geography import boundaries  # noqa: E402

TABLES = {"facts": "fact_indicator", "indicators": "indicator", "areas": "area",
          "peers": "peer_group", "funnels": "funnel_limit", "methods": "method"}


def load(db: Path) -> Marts:
    con = duckdb.connect(str(db), read_only=True)
    try:
        frames = {key: con.sql(f"select * from marts.{table}").pl() for key, table in TABLES.items()}
    finally:
        con.close()
    return Marts(**frames, shapes=boundaries())


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} kB".replace(",", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=REPO / "data" / "published" / "uppvaxt.duckdb")
    args = parser.parse_args()
    if not args.db.exists():
        print(f"{args.db} is missing: building the demo data first (make run)")
        subprocess.run([sys.executable, "-m", "pipeline", "build"], cwd=REPO, check=True)
    marts = load(args.db)
    ctx = ReportContext(run_id="benchmark", data_label="Demodata – syntetiska värden", is_demo=True,
                        fetched="2026-01-01")
    workers = workers_from_env()
    print(f"Site benchmark ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{marts.facts.height:,} fact rows)".replace(",", " "))
    print("Wall-clock seconds depend on what else runs; CPU seconds (this process and its "
          "workers) do not.")
    runs = [("county pages + profiles, 1 process", 1, {"county", "profile"}),
            (f"county pages + profiles, {workers} processes", workers, {"county", "profile"}),
            ("whole site, 1 process", 1, None), (f"whole site, {workers} processes", workers, None)]
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, kinds in runs:
            out = Path(tmp) / f"site-{n}"
            started, cpu = time.perf_counter(), cpu_seconds()
            result = render_site(marts, out, ctx, workers=n, kinds=kinds)
            print(f"{label:<44}{time.perf_counter() - started:>7.2f} s wall {cpu_seconds() - cpu:>7.2f} s CPU")
        print(f"{'page kind':<12}{'files':>7}{'smallest':>12}{'median':>12}{'largest':>12}{'total':>14}")
        for kind in ("start", "county", "profile", "indicator"):
            sizes = result.bytes_of(kind)
            print(f"{kind:<12}{len(sizes):>7}{kb(min(sizes)):>12}{kb(statistics.median(sizes)):>12}"
                  f"{kb(max(sizes)):>12}{kb(sum(sizes)):>14}")
        css = (out / "assets" / "site.css").stat().st_size
        print(f"{'stylesheet':<12}{1:>7}{kb(css):>12}   (the only shared asset; no script)")
        for label in ("downloads, cold", "downloads, unchanged"):
            started, cpu = time.perf_counter(), cpu_seconds()
            files = render_downloads(marts, out, ctx)
            print(f"{label:<44}{time.perf_counter() - started:>7.2f} s wall {cpu_seconds() - cpu:>7.2f} s CPU"
                  f" ({len(files)} files)")
        sizes = [p.stat().st_size for p in files]
        print(f"downloads total {kb(sum(sizes))}, largest {kb(max(sizes))}")


if __name__ == "__main__":
    main()
