"""Benchmark: the report step (the whole site) on the published demo marts.

    make benchmark            # or: .venv/bin/python scripts/benchmark_site.py [--db FILE]

Prints the seconds to write all pages (21 county pages and their five views, 290 profiles,
the indicator pages, the start page), in one process and with the default page workers beside it,
the seconds to write the downloads cold and warm (unchanged files are kept), the bytes of
each page kind and the DOM nodes of each kind's largest page (headless Chromium, every node
text included, when Playwright and Chromium are there), each against its target; and the
publication's whole work as a build runs it (history, snapshot, site and downloads in a process
of its own) on a copy of the built warehouse, first and unchanged, with its peak. Asserts
nothing: the targets (a county page ≤ 300 kB; an indicator page ≤ 300 kB and ≤ 5 000 DOM
nodes; a profile ≤ 1 MB) are in the README.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
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

TABLES = {"facts": "marts.fact_indicator", "indicators": "marts.indicator", "areas": "marts.area",
          "peers": "marts.peer_group", "funnels": "marts.funnel_limit", "methods": "marts.method",
          "need_index": "marts.need_index", "need_sensitivity": "marts.need_sensitivity",
          "readiness": "marts.readiness", "readiness_stage": "marts.readiness_stage",
          "support_need": "marts.support_need", "goal_progress": "marts.goal_progress",
          "selection": "marts.selection", "data_quality": "meta.data_quality",
          "watch_list": "marts.watch_list", "publication_history": "meta.publication_history",
          "publication_change": "meta.publication_change", "decision_history": "meta.decision_history"}
TARGETS = {"county": (300 * 1024, None), "indicator": (300 * 1024, 5000), "profile": (1024 * 1024, None)}


def load(db: Path) -> Marts:
    """Every table the site reads that the published database has (as the site asset does)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        have = {f"{s}.{t}" for s, t in con.sql("select schema_name, table_name from duckdb_tables()").fetchall()}
        frames = {key: con.sql(f"select * from {table}").pl() for key, table in TABLES.items() if table in have}
    finally:
        con.close()
    return Marts(**frames, shapes=boundaries())


def dom_nodes(paths: list[Path]) -> list[int | None]:
    """All DOM nodes (elements, text, comments) of each page in headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [None] * len(paths)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        counts = []
        for path in paths:
            page.goto(path.as_uri())
            counts.append(page.evaluate("""(() => { let n = 1; const w = document.createTreeWalker(
                document, NodeFilter.SHOW_ALL); while (w.nextNode()) n++; return n; })()"""))
        browser.close()
    return counts


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def kb(n: float) -> str:
    return f"{n / 1024:,.0f} kB".replace(",", " ")


def publication(data: Path) -> None:
    """`write_publication` in a process of its own, as the build's publication step runs it, on
    a copy of the built warehouse: a first publication (every file written) and the same
    publication again (every page compared, nothing rewritten), wall and CPU seconds (its page
    workers included) and the process's peak. Publishing must stay ≤ 4 s on two cores."""
    from pipeline.own_process import in_own_process
    from pipeline.publication_work import write_publication

    label = "Demodata – syntetiska värden"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "data"
        for part in ("warehouse", "raw"):
            shutil.copytree(data / part, copy / part)
        for n, what in enumerate(("publication, first", "publication, unchanged")):
            run = f"benchmark-{n}"
            row = {"run_id": run, "data_label": label, "data_mode": "demo",
                   "published_at": "2026-01-01T00:00:00Z", "fingerprint": run,
                   "code_version": "", "catalog_version": ""}
            started, cpu = time.perf_counter(), cpu_seconds()
            made, peak = in_own_process(write_publication, str(copy), label, True, run, row)
            print(f"{what:<52}{time.perf_counter() - started:>7.2f} s wall {cpu_seconds() - cpu:>7.2f} s CPU"
                  f" ({made['rewritten_pages']} pages and {made['rewritten_files']} files written; "
                  f"peak {peak or 0:.0f} MB; target ≤ 4 s on two cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=REPO / "data" / "published" / "uppvaxt.duckdb")
    parser.add_argument("--data", type=Path, default=REPO / "data",
                        help="the built data folder whose warehouse the publication is timed on")
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
    # With work alongside (here none), this process takes pages too once it is done, as in
    # the publication, so one worker on two cores is two processes rendering.
    beside = f"this process and {workers} worker{'s' if workers > 1 else ''}"
    runs = [("county pages + profiles, 1 process", 0, {"county", "profile"}),
            (f"county pages + profiles, {beside}", workers, {"county", "profile"}),
            ("whole site, 1 process", 0, None), (f"whole site, {beside}", workers, None)]
    with tempfile.TemporaryDirectory() as tmp:
        for label, n, kinds in runs:
            out = Path(tmp) / f"site-{n}"
            started, cpu = time.perf_counter(), cpu_seconds()
            result = render_site(marts, out, ctx, workers=n, kinds=kinds,
                                 alongside=(lambda data: None) if n else None)
            print(f"{label:<52}{time.perf_counter() - started:>7.2f} s wall {cpu_seconds() - cpu:>7.2f} s CPU")
        print(f"{'page kind':<12}{'files':>7}{'smallest':>12}{'median':>12}{'largest':>12}{'total':>14}"
              f"{'DOM nodes':>11}  target")
        for kind in sorted(result.pages, key=lambda k: (k not in TARGETS, k)):
            sizes = result.bytes_of(kind)
            largest = max(result.pages[kind], key=lambda p: p.stat().st_size)
            (nodes,) = dom_nodes([largest])
            limit_bytes, limit_nodes = TARGETS.get(kind, (None, None))
            target = (f"≤ {kb(limit_bytes)}" + (f", ≤ {limit_nodes} nodes" if limit_nodes else "")
                      if limit_bytes else "")
            print(f"{kind:<12}{len(sizes):>7}{kb(min(sizes)):>12}{kb(statistics.median(sizes)):>12}"
                  f"{kb(max(sizes)):>12}{kb(sum(sizes)):>14}{nodes if nodes is not None else '–':>11}  {target}")
        indicator_pages = result.pages.get("indicator", [])
        nodes = [n for n in dom_nodes(indicator_pages) if n is not None]
        if nodes:
            print(f"indicator pages: DOM nodes median {statistics.median(nodes):.0f}, largest {max(nodes)} "
                  f"(target ≤ 5000); bytes largest {kb(max(result.bytes_of('indicator')))} (target ≤ 300 kB)")
        css = (out / "assets" / "site.css").stat().st_size
        print(f"{'stylesheet':<12}{1:>7}{kb(css):>12}   (the only shared asset; no script)")
        for label in ("downloads, cold", "downloads, unchanged"):
            started, cpu = time.perf_counter(), cpu_seconds()
            files = render_downloads(marts, out, ctx)
            print(f"{label:<52}{time.perf_counter() - started:>7.2f} s wall {cpu_seconds() - cpu:>7.2f} s CPU"
                  f" ({len(files)} files)")
        sizes = [p.stat().st_size for p in files]
        print(f"downloads total {kb(sum(sizes))}, largest {kb(max(sizes))}")
    publication(args.data)


if __name__ == "__main__":
    main()
