"""Benchmark of the SQL door on a built warehouse (run `make run` first).

    .venv/bin/python scripts/benchmark_sql.py [--repeat N] [--warehouse PATH]

Publishes the warehouse into a temporary file and times it, and the views step alone (make,
comment and count them); then runs the README's questions and a full read of each view as
CSV through the DuckDB 1.5 CLI, printing the median wall time of each.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VIEWS = ["v_kommun_senaste", "v_lan_senaste", "v_trend", "v_senaste_period", "v_indikator",
         "v_liknande_kommuner"]


def readme_queries() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Querying"):text.index("## How it is built")]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def cli_seconds(cli: Path, db: Path, sql: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([str(cli), "-readonly", str(db), "-csv", "-c", sql], check=True,
                       capture_output=True, timeout=300)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warehouse", type=Path,
                        default=REPO / "data" / "warehouse" / "uppvaxt.duckdb")
    args = parser.parse_args()
    import duckdb

    from pipeline.views import create_views
    from pipeline.warehouse import publish

    warehouse = args.warehouse
    if not warehouse.exists():
        print(f"SQL benchmark skipped: no warehouse at {warehouse} (run `make run` first)")
        return
    cli = Path(sys.executable).parent / "duckdb"
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "uppvaxt.duckdb"
        start = time.perf_counter()
        counts = publish(warehouse, target)
        published = time.perf_counter() - start
        # The views step alone, again on the published copy: drop the views, make them anew.
        con = duckdb.connect()
        con.execute(f"ATTACH '{target}' AS pub")
        for (view,) in con.sql("SELECT schema_name || '.' || view_name FROM duckdb_views() "
                               "WHERE database_name = 'pub' AND NOT internal").fetchall():
            con.execute(f"DROP VIEW pub.{view} CASCADE")
        start = time.perf_counter()
        create_views(con, "pub")
        views_step = time.perf_counter() - start
        con.close()
        print(f"publish: {published:.2f} s, of which views (create, comment, count) "
              f"{views_step:.2f} s; snapshot {target.stat().st_size / 1e6:.1f} MB")
        for view in VIEWS:
            print(f"  marts.{view}: {counts[f'marts.{view}']} rows")
        if not cli.exists():
            print("duckdb CLI not installed: no query timings")
            return
        version = subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.split()[0]
        print(f"DuckDB CLI {version}, median of {args.repeat} runs, process start included:")
        print(f"  empty query:               {cli_seconds(cli, target, 'select 1', args.repeat):.3f} s")
        for view in VIEWS:
            sql = f"select * from marts.{view}"
            print(f"  all of {view + ':':26} {cli_seconds(cli, target, sql, args.repeat):.3f} s")
        for i, sql in enumerate(readme_queries(), 1):
            print(f"  README query {i}:            {cli_seconds(cli, target, sql, args.repeat):.3f} s")


if __name__ == "__main__":
    main()
