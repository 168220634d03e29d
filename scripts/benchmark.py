"""Benchmark: the demo build from scratch and the work's floor beside it, nights against
the loopback stand-in, a ten times larger catalogue, what a Dagster partition per KPI would
cost, and the test suite. Seconds and peak memory per step; each scenario runs in its own
process so its peak memory is its own.

    make benchmark            # or: .venv/bin/python scripts/benchmark.py [--only NAME] [--keep DIR]

Prints figures against their targets and asserts nothing (issues 9, 15 and 18): the full
demo build with the site and the downloads ≤ 15 s and ≤ 1.5× the work's floor (the same
asset functions called in order in one process, frames handed on in memory and stored once
in DuckDB: no Dagster steps, IO manager or table checks; the publication's work as its step
runs it), its peak ≤ 1.5 GB (all the build's processes at once: the run's, the
publication's and its page workers, a page two processes share counted once); a night
without changes ≤ 10 % of a full build; the ten times larger catalogue ≤ 3 GB; `make test`
≤ 10 minutes on two cores. Beside the full build, `make run` from scratch as the command
line does it (the survey inbox and its audit first, the run history on disk), which no
target names but a user waits for.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.definitions import make_definitions  # noqa: E402
from pipeline.resources import Paths, StatisticsApis, default_resources  # noqa: E402
from pipeline.warehouse import Handover  # noqa: E402
from reports.render import resident_mb  # noqa: E402

REPORT_STEPS = ("publication",)  # the snapshot, the site and the downloads, in one step
PUBLICATION_KEYS = {dg.AssetKey(["reports", k]) for k in ("published_snapshot", "site", "downloads")}
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(children: bool = False) -> float:
    """User + system time of this process (all threads), with `children` also of the ended
    processes it waited for (the publication's, and the page workers that one waited for):
    less sensitive to a busy machine than wall time."""
    kinds = [resource.RUSAGE_SELF] + ([resource.RUSAGE_CHILDREN] if children else [])
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, kinds))


def _descendants(pid: int) -> list[int]:
    """The processes started from `pid` (any of its threads), and theirs."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(k) for k in children.read().split()]
            except OSError:
                continue
            found += kids
            queue += kids
    return found


def tree_pss_mb() -> float:
    """The memory of this process and every process under it at this moment, each page
    counted once: the proportional set size (PSS) splits a page shared by n processes (a
    library's code, a forked worker's inherited data) n ways, where adding resident sizes
    would count it n times."""
    total = 0.0
    for pid in [os.getpid(), *_descendants(os.getpid())]:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024
        except (OSError, StopIteration):
            pass  # ended between the listing and the read
    return total


class MemoryTrace:
    """Memory sampled in a thread: this process's resident memory every 20 ms (to find the
    step of the peak) and its process tree's every 100 ms (the publication's process and its
    page workers included)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        tick, tree = 0, 0.0
        while not self._stop.is_set():
            if tick % 5 == 0:  # the tree every 100 ms: reading it holds the interpreter's lock
                tree = tree_pss_mb()
            self.samples.append((time.time(), resident_mb() or 0.0, tree))
            tick += 1
            self._stop.wait(0.02)

    def __enter__(self) -> "MemoryTrace":
        if self.enabled and os.path.exists("/proc/self/smaps_rollup"):
            self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def peak_between(self, start: float, end: float) -> float:
        return max((rss for t, rss, _ in self.samples if start <= t <= end), default=float("nan"))

    def tree_peak(self) -> float:
        return max((pss for _, _, pss in self.samples), default=float("nan"))


def timed_build(data_dir: Path, catalog_dir: Path | None = None, tags: dict | None = None,
                reports: bool = True, trace: bool = True) -> dict:
    paths = Paths(data_dir=str(data_dir), **({"catalog_dir": str(catalog_dir)} if catalog_dir else {}))
    defs = make_definitions(default_resources(paths, StatisticsApis(mode="demo")))
    job = defs.resolve_job_def("build_all")
    if not reports:  # the data alone: no publication (snapshot, site, downloads)
        keys = set(job.asset_layer.executable_asset_keys) - PUBLICATION_KEYS
        job = job.get_subset(asset_selection=keys)
    instance = dg.DagsterInstance.ephemeral()
    cpu_before, all_before = cpu_seconds(), cpu_seconds(children=True)
    started = time.perf_counter()
    with MemoryTrace(enabled=trace) as trace:
        result = job.execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False,
                                        tags=tags or {})
    total = time.perf_counter() - started
    cpu, cpu_all = cpu_seconds() - cpu_before, cpu_seconds(children=True) - all_before
    starts, steps = {}, []
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            begun = starts[event.step_key]
            steps.append((event.step_key, entry.timestamp - begun,
                          event.event_type_value == "STEP_SUCCESS",
                          trace.peak_between(begun, entry.timestamp)))
    report = sum(s for k, s, _, _ in steps if k in REPORT_STEPS)
    # The run's own memory while the publication's process ran beside it.
    beside = max((peak for k, _, _, peak in steps if k in REPORT_STEPS), default=0.0)
    # The publication runs in a process of its own (its page workers forked from it), which
    # reports its own peak (VmHWM) on the site.
    children = 0.0
    for record in instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        value = materialization.metadata.get("peak_memory_mb")
        children = max(children, float(value.value)) if value is not None else children
    largest = max(steps, key=lambda step: step[3], default=("", 0, True, 0))[0]
    return {"ok": result.success, "total": total, "report": report, "steps": steps, "largest_step": largest,
            "peak_mb": peak_rss_mb(), "children_mb": children, "beside_mb": beside,
            "tree_mb": trace.tree_peak(), "cpu": cpu, "cpu_all": cpu_all}


def print_build(title: str, figures: dict) -> None:
    print(f"{title} ({os.cpu_count()} CPUs): {'ok' if figures['ok'] else 'FAILED'}")
    print(f"  {'step':<36}{'seconds':>9}{'peak MB':>9}")
    for key, seconds, ok, peak in figures["steps"]:
        print(f"  {key:<36}{seconds:>9.2f}{peak:>9.0f}{'' if ok else '  FAILED'}")
    print(f"  (seconds from a build without the memory sampler; peaks from a build before it, "
          f"{figures['memory_run_total']:.1f} s with it)")
    print(f"  total (run, incl. Dagster overhead)  {figures['total']:8.2f} s")
    print(f"  without the publication step         {figures['total'] - figures['report']:8.2f} s")
    print(f"  CPU time of the run (all threads)    {figures['cpu']:8.2f} s")
    print(f"  … and of the processes it started    {figures['cpu_all']:8.2f} s  (the least two "
          f"cores could take: {figures['cpu_all'] / 2:.1f} s)")
    print(f"  peak memory of the run's process     {figures['peak_mb']:8.0f} MB")
    if figures["children_mb"]:
        print(f"  … of the publication's own process   {figures['children_mb']:8.0f} MB")
        print(f"  the run's own during that step       {figures['beside_mb']:8.0f} MB")
    print(f"  all the build's processes at once    {figures['tree_mb']:8.0f} MB  (PSS: a shared page "
          f"counted once)")


def measured_build(data_dir: Path, catalog_dir: Path | None = None) -> dict:
    """Two builds from scratch: the first with its memory sampled, the second timed with
    nothing else running in this process. On two cores the sampler (a page-table walk of
    every process ten times a second) took 2-3 s of the build's time and 4 s of its CPU, so
    the memory figures come from the first and the times from the second (the first pays
    for anything loaded once, so its peak is not flattered by the order)."""
    memory = timed_build(data_dir.parent.with_name(data_dir.parent.name + "-memory") / data_dir.name,
                         catalog_dir)
    timing = timed_build(data_dir, catalog_dir, trace=False)
    peaks = {key: peak for key, _, _, peak in memory["steps"]}
    steps = [(key, seconds, ok, peaks.get(key, float("nan"))) for key, seconds, ok, _ in timing["steps"]]
    return {**memory, **{k: timing[k] for k in ("ok", "total", "report", "cpu", "cpu_all")},
            "ok": timing["ok"] and memory["ok"], "steps": steps,
            "memory_run_total": memory["total"]}


def scenario_full(data_dir: Path) -> dict:
    figures = measured_build(data_dir)
    print_build("Full demo build from scratch", figures)
    # What `make run` does besides: a fresh interpreter and its imports, the demo's survey
    # files through the inbox (one run each) and the disclosure audit in survey_value, and
    # every run's events written to the instance's history on disk.
    root = data_dir.parent.with_name(data_dir.parent.name + "-cli")
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("UPPVAXT_")},
           "UPPVAXT_DATA_DIR": str(root / "data"), "UPPVAXT_SOURCE": "demo", "DAGSTER_HOME": str(home)}
    figures["cli"], code, _ = _cli("build", root / "data", env)
    figures["cli_ok"] = code == 0
    print(f"  make run from scratch (python -m pipeline build)  {figures['cli']:6.2f} s  exit {code}: "
          f"the same build after the demo's survey files went through the inbox, with the "
          f"disclosure audit and the run history on disk")
    return figures


# The stand-in's state on the benchmark's nights: KPIs Kolada knows but has no values for
# (asked on a slower cadence), and SCB a year behind (TAB5557 has none of the years).
NO_DATA = ["N15643", "N17673", "N66077", "N31807", "U09800"]


def _files(data_dir: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for root in (data_dir / "warehouse", (data_dir / "publications" / "current")):
        root = root.resolve()
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file():
                found[str(path.relative_to(root))] = (path.stat().st_ino, path.stat().st_mtime_ns)
    return found


def _cli(command: str, data_dir: Path, env: dict) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", command], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode, done.stdout


def scenario_nightly(data_dir: Path) -> dict:
    """As a county runs it (cron, `python -m pipeline`) in live mode against the loopback
    stand-in with the default catalogue: a full build, two nights without changes (exit
    code, files rewritten, seconds), the schedule's own evaluation (the daemon's door), and a
    night with one KPI revised (files rewritten)."""
    from pipeline.jobs import nightly_request
    from sources.catalog import load_indicators, load_source_settings
    from sources.demo.standin import StandIn
    from sources.demo.world import DemoWorld
    from sources.geography import load_kommuner

    catalog = ROOT / "data" / "catalog"
    years = load_source_settings(catalog / "sources.yaml").years.span
    world = DemoWorld.build(load_kommuner(), load_indicators(catalog / "indicators.yaml"), years)
    quiet = world.variant(kpi_empty=set(NO_DATA), scb_last_year=2024)
    standin = StandIn(quiet).start()
    home = data_dir.parent / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "UPPVAXT_DATA_DIR": str(data_dir), "UPPVAXT_SOURCE": "live",
           "UPPVAXT_KOLADA_URL": standin.kolada_url, "UPPVAXT_SCB_URL": standin.scb_url,
           "DAGSTER_HOME": str(home)}
    try:
        full, code, _ = _cli("build", data_dir, env)
        before = _files(data_dir)
        nights = []
        for _ in range(2):
            seconds, night_code, out = _cli("nightly", data_dir, env)
            nights.append({"seconds": seconds, "exit": night_code, "rewritten": sum(
                1 for k, v in _files(data_dir).items() if before.get(k) != v),
                "skipped": "Inget har ändrats" in out})
        paths = Paths(data_dir=str(data_dir))
        apis = StatisticsApis(mode="live", kolada_url=standin.kolada_url, scb_url=standin.scb_url)
        started = time.perf_counter()
        request = nightly_request(paths, apis)
        tick = time.perf_counter() - started
        standin.set_world(quiet.variant(kpi_modified={"N15428": date.today().isoformat()},
                                        kpi_scale={"N15428": 0.98}))
        old = _files(data_dir)
        changed, changed_code, _ = _cli("nightly", data_dir, env)
        new = _files(data_dir)
        pages = [k for k in new if k.startswith("site/") and k.endswith(".html")]
        downloads = [k for k in new if k.startswith("site/nedladdning/")]
        rewritten = lambda keys: sum(1 for k in keys if old.get(k) != new[k])
    finally:
        standin.stop()
    print(f"Nights against the loopback stand-in (live mode, the command line; {len(NO_DATA)} KPIs "
          f"without values, SCB a year behind)")
    print(f"  full build (python -m pipeline build)           {full:8.2f} s  exit {code}")
    for n, night in enumerate(nights, 1):
        print(f"  night {n} without changes                        {night['seconds']:8.2f} s  "
              f"exit {night['exit']}, {night['rewritten']} files rewritten, "
              f"{'no run' if night['skipped'] else 'A RUN'}  = {100 * night['seconds'] / full:.1f} % of the build")
    print(f"  the schedule's evaluation alone (daemon)        {tick:8.2f} s  "
          f"{'skipped: nothing changed' if not isinstance(request, dg.RunRequest) else 'RUN REQUESTED'}")
    print(f"  night with N15428 revised                       {changed:8.2f} s  exit {changed_code}, "
          f"{rewritten(pages)} of {len(pages)} pages and {rewritten(downloads)} of {len(downloads)} "
          f"download files rewritten")
    return {"full_cli": full, "nights": [n["seconds"] for n in nights],
            "exits": [n["exit"] for n in nights], "rewritten": [n["rewritten"] for n in nights],
            "probe": tick, "changed": changed, "pages_rewritten": rewritten(pages), "pages": len(pages)}


def large_catalogue(target: Path, copies: int = 10) -> int:
    """The default catalogue ten times over: each entry again under new ids (U<k><nnnn>),
    drawn by the demo with the original's profile and its own random numbers."""
    from sources.demo.profiles import PROFILES

    target.mkdir(parents=True, exist_ok=True)
    for item in (ROOT / "data" / "catalog").iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
        else:
            import shutil

            shutil.copytree(item, target / item.name)
    doc = yaml.safe_load((target / "indicators.yaml").read_text(encoding="utf-8"))
    base = doc["indicators"]
    extra = []
    for k in range(1, copies):
        for i, entry in enumerate(base):
            new_id = f"U{k}{i:04d}"
            PROFILES[new_id] = PROFILES[entry["source_id"]]
            extra.append(dict(entry, id=new_id, source_id=new_id,
                              short_title=f"{entry['short_title'][:38]} ({k})"))
    doc["indicators"] = base + extra
    (target / "indicators.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return len(doc["indicators"])


def scenario_large(data_dir: Path) -> dict:
    catalog = data_dir.parent / "catalog_large"
    n = large_catalogue(catalog)
    # The profiles above live in this process: the demo services run in-process.
    # With the publication: its own process runs beside the run's, and both count.
    figures = measured_build(data_dir, catalog)
    print_build(f"Catalogue ten times larger ({n} indicators)", figures)
    return figures


def scenario_tests(_: Path) -> dict:
    """The README's test command, timed (what a developer and CI wait for)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print("The test suite (pytest -n 2, as make test runs it)")
    print(f"  {last}")
    print(f"  wall time                            {seconds:8.1f} s")
    return {"seconds": seconds, "ok": done.returncode == 0}


def scenario_partitions(_: Path) -> dict:
    """Run overhead of a partition per KPI: 40 one-partition runs of a trivial asset
    against one run for all 40."""
    kpis = [f"N{n:05d}" for n in range(40)]
    parts = dg.StaticPartitionsDefinition(kpis)

    @dg.asset(partitions_def=parts)
    def per_kpi(context) -> None:
        return None

    @dg.asset
    def all_kpis() -> None:
        return None

    defs = dg.Definitions(assets=[per_kpi, all_kpis],
                          jobs=[dg.define_asset_job("per", selection=[per_kpi], partitions_def=parts),
                                dg.define_asset_job("one", selection=[all_kpis])])
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    for kpi in kpis:
        defs.resolve_job_def("per").execute_in_process(instance=instance, partition_key=kpi, run_config=QUIET)
    partitioned = time.perf_counter() - started
    started = time.perf_counter()
    defs.resolve_job_def("one").execute_in_process(instance=instance, run_config=QUIET)
    single = time.perf_counter() - started
    print("Dagster overhead: a partition per KPI (40 KPIs, empty asset)")
    print(f"  40 partition runs                    {partitioned:8.2f} s  ({partitioned / 40:.2f} s per run)")
    print(f"  one run for all 40                   {single:8.2f} s")
    return {"partitioned": partitioned, "single": single}


class BareContext:
    """What the asset functions ask of their context, without Dagster behind it."""

    def __init__(self, run_id: str) -> None:
        self.run = SimpleNamespace(run_id=run_id, tags={})
        self.log = logging.getLogger("floor")
        self.partition_key = None


def _outputs(assets_def: dg.AssetsDefinition, produced) -> dict[str, pl.DataFrame]:
    """The tables an asset function gave: a frame, (frames, warnings), or yielded outputs."""
    if isinstance(produced, pl.DataFrame):
        return {assets_def.key.path[-1]: produced}
    if type(produced) is tuple:  # noqa: E721 - Dagster's results are tuples too
        return dict(produced[0])
    found = {}
    items = list(produced) if inspect.isgenerator(produced) else []
    if items and all(isinstance(item, pl.DataFrame) for item in items):  # a chunked table's parts
        return {assets_def.key.path[-1]: pl.concat(items)}
    for item in items:
        value = item.value.take() if isinstance(item, dg.Output) and isinstance(item.value, Handover) else None
        if isinstance(value, pl.DataFrame):
            found[assets_def.keys_by_output_name[item.output_name].path[-1]] = value
    return found


def floor_build(data_dir: Path) -> dict:
    """The work's floor: the same asset functions in dependency order in one process, each
    frame handed on in memory, stored once in DuckDB through one connection, without
    Dagster's steps, events and IO manager or the table checks; then the publication's own
    work (history, snapshot, site, downloads) as the build's step runs it."""
    from pipeline.own_process import in_own_process
    from pipeline.publication_work import write_publication

    paths = Paths(data_dir=str(data_dir))
    apis = StatisticsApis(mode="demo")
    defs = make_definitions(default_resources(paths, apis))
    resources = dict(defs.resources)
    graph = defs.resolve_asset_graph()
    wanted = set(defs.resolve_job_def("build_all").asset_layer.executable_asset_keys) - PUBLICATION_KEYS
    context = BareContext("floor")
    frames: dict[str, pl.DataFrame] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    done: set[int] = set()
    for key in graph.toposorted_asset_keys:
        assets_def = graph.get(key).assets_def
        if key not in wanted or id(assets_def) in done:
            continue
        done.add(id(assets_def))
        function = inspect.unwrap(assets_def.op.compute_fn.decorated_fn)
        arguments = {}
        for name in inspect.signature(function).parameters:
            if name == "context":
                arguments[name] = context
            elif name in resources:
                arguments[name] = resources[name]
            else:
                asked = assets_def.op.ins[name].metadata or {}
                frame = frames[name].filter(**asked.get("rows", {}))
                arguments[name] = frame.select(asked["columns"]) if "columns" in asked else frame
        step = time.perf_counter()
        frames.update(_outputs(assets_def, function(**arguments)))
        seconds[assets_def.op.name] = time.perf_counter() - step
    step = time.perf_counter()
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.warehouse))
    for key in graph.toposorted_asset_keys:
        table = key.path[-1]
        if len(key.path) == 2 and table in frames:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {key.path[0]}")
            con.register("_frame", frames[table])
            con.execute(f"CREATE OR REPLACE TABLE {key.path[0]}.{table} AS SELECT * FROM _frame")
            con.unregister("_frame")
    con.close()
    seconds["store in DuckDB"] = time.perf_counter() - step
    step = time.perf_counter()
    # The publication's own work exactly as the build's step runs it, in a process of its own
    # (the snapshot in a thread, the downloads beside the page worker): the step's Dagster
    # wrapper is all it leaves out.
    row = {"run_id": "floor", "data_label": apis.label, "data_mode": apis.mode,
           "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "fingerprint": "floor",
           "code_version": "floor", "catalog_version": "floor"}
    in_own_process(write_publication, str(data_dir), apis.label, apis.is_demo, "floor", row)
    seconds["publication"] = time.perf_counter() - step
    return {"total": time.perf_counter() - started, "seconds": seconds, "peak_mb": peak_rss_mb()}


def scenario_floor(data_dir: Path) -> dict:
    figures = floor_build(data_dir)
    print(f"The work's floor: the same asset functions without Dagster, checks or IO manager ({os.cpu_count()} CPUs)")
    for name, seconds in figures["seconds"].items():
        print(f"  {name:<36}{seconds:>9.2f}")
    print(f"  total                                {figures['total']:8.2f} s")
    print(f"  peak memory (max RSS)                {figures['peak_mb']:8.0f} MB")
    return {k: v for k, v in figures.items() if k != "seconds"}


SCENARIOS = {"full": scenario_full, "floor": scenario_floor, "nightly": scenario_nightly,
             "large": scenario_large, "partitions": scenario_partitions, "tests": scenario_tests}


def run_child(name: str, data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, "--keep", str(data_dir)],
                         capture_output=True, text=True)
    lines = out.stdout.splitlines()
    print("\n".join(line for line in lines if not line.startswith("{")), flush=True)
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return {}
    return json.loads(next(line for line in reversed(lines) if line.startswith("{")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="build into this folder instead of a temporary one")
    parser.add_argument("--only", choices=list(SCENARIOS), action="append")
    parser.add_argument("--child", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = SCENARIOS[args.child](args.keep)
        print(json.dumps({k: v for k, v in figures.items() if k != "steps"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        wanted = args.only or list(SCENARIOS)
        results = {}
        for name in wanted:
            folder = root / {"large": "large", "nightly": "standin", "floor": "floor"}.get(name, "demo") / "data"
            results[name] = run_child(name, folder)
        full, floor, night, large, tests = (results.get(k) for k in ("full", "floor", "nightly",
                                                                    "large", "tests"))
        print("Against the targets")
        if full:
            print(f"  full demo build with publishing      {full['total']:8.2f} s   (target ≤ 15 s)")
            print(f"  … without publishing                 {full['total'] - full['report']:8.2f} s")
            print(f"  … as make run does it, from scratch  {full['cli']:8.2f} s   "
                  f"{'' if full['cli_ok'] else 'FAILED '}(the survey inbox and audit, the run "
                  f"history on disk, the interpreter's start)")
            print(f"  peak memory of the build             {full['tree_mb']:8.0f} MB  "
                  f"(target ≤ 1.5 GB; all its processes at once, PSS; alone: the run's process "
                  f"{full['peak_mb']:.0f} MB, the publication's {full['children_mb']:.0f} MB)")
        if full and floor:
            print(f"  the work's floor (same marts, bare)  {floor['total']:8.2f} s   build = "
                  f"{full['total'] / floor['total']:.2f}× the floor (target ≤ 1.5×); Dagster, IO "
                  f"manager and checks {full['total'] - floor['total']:.1f} s")
        if full and large:
            ratio = (large["total"] - large["report"]) / (full["total"] - full["report"])
            print(f"  320 indicators without publishing    {large['total'] - large['report']:8.2f} s   "
                  f"= {ratio:.1f}× the demo (target ≤ 8×)")
        if large:
            print(f"  320 indicators, peak memory          {large['tree_mb']:8.0f} MB  "
                  f"(target ≤ 3 GB; all its processes at once, PSS; alone: the run's process "
                  f"{large['peak_mb']:.0f} MB, at its largest step {large['largest_step']}"
                  + (f"; the publication's {large['children_mb']:.0f} MB)" if large["children_mb"] else ")"))
        if night:
            worst = max(night["nights"])
            print(f"  a night without changes (CLI, live)  {worst:8.2f} s   = "
                  f"{100 * worst / night['full_cli']:.1f} % of the CLI's full build of "
                  f"{night['full_cli']:.1f} s (target ≤ 10 %); exit codes {night['exits']}, files "
                  f"rewritten {night['rewritten']}; the schedule's evaluation {night['probe']:.2f} s")
        if tests:
            print(f"  the test suite                       {tests['seconds'] / 60:8.1f} min (target ≤ 10 min)"
                  f"{'' if tests['ok'] else ', FAILED'}")

if __name__ == "__main__":
    main()
