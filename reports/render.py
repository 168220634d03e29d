"""Write the site: start page, county pages, kommun profiles, indicator pages, downloads.

The site is Swedish, opens offline from disk (one stylesheet, no script, no external
request), prints, and is deterministic: the same marts give byte-identical files. A page
depends only on what it shows (no run id; an indicator page names its own indicator's
fetch date), so a changed indicator rewrites only the pages that show it.

How files are written (every page writer follows this): render into the `out_dir` given,
through `write_file`. The publication renders into a staging folder where the current
publication's files are hardlinked in; `write_file` leaves a file whose content is the same
alone (the hardlink stays: nothing rewritten) and otherwise writes a temporary file and
renames it over the name, which never touches the current publication's copy. Never open
an existing file for writing in place. Files the render did not write are pruned.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from reports.changes import plain_history
from reports.colours import COMPARISON_FILL, COUNT_FILL, QUINTILE_FILL
from reports.coordination import RANKABILITY_BANDS, memo_file
from reports.downloads import AreaFacts, write_downloads
from reports.geo import Layers
from reports.labels import COMPARISON, COMPARISON_SYMBOL, NEED_LEVEL
from reports.model import Marts, SiteData
from reports.pages import (COUNTY_VIEW_PAGES, call_memo_page, county_page, indicator_page,
                           profile_page, start_page)
from reports.pages.call_memo import DOWNLOAD_DIR, calls_of, memo_xlsx, memo_xlsx_name
from reports.watch import MIN_SHARE, MIN_WORSE

ASSET_DIR = "assets"


@dataclass(frozen=True)
class ReportContext:
    run_id: str           # the publication (named on the start page only)
    data_label: str
    is_demo: bool
    fetched: str  # date the source data were fetched, YYYY-MM-DD


@dataclass
class SiteResult:
    pages: dict[str, list[Path]] = field(default_factory=dict)   # kind → files
    seconds: dict[str, float] = field(default_factory=dict)      # step → seconds
    rewritten: list[Path] = field(default_factory=list)          # files whose content changed
    alongside: object = None  # what render_site's `alongside` returned

    def bytes_of(self, kind: str) -> list[int]:
        return [p.stat().st_size for p in self.pages.get(kind, [])]


# The markup of a value cell and a comparison badge, which every row of a profile repeats:
# Python functions (escaping as the templates do) cost a fraction of a template macro's call.
def badge(comparison: dict) -> Markup:
    """A comparison's colour with its symbol and words (colour is never alone)."""
    return Markup(f'<span class="badge f-{escape(comparison["code"])}"><span class="sym" aria-hidden="true">'
                  f'{escape(comparison["symbol"])}</span> {escape(comparison["label"])}</span>')


def cell_value(cell: dict, suffix: str = "") -> Markup:
    """A value cell's text (with the unit's suffix when there is a value) and its footnote marks."""
    marks = "".join(f'<sup class="fn"><a href="#not-{n}" aria-label="not {n}">{n}</a></sup>'
                    for n in map(escape, cell["notes"]))
    return Markup(f'{escape(cell["text"])}{escape(suffix) if cell["ok"] else ""}{marks}')


class SiteEnvironment(Environment):
    """The pages hand the templates dicts: `row.title` looks the key up first. (Jinja tries the
    attribute first, and a dict has none of these, so every lookup raised and caught an
    AttributeError: about a microsecond, a few thousand times per page.) No template calls a
    dict's methods."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def environment() -> Environment:
    env = SiteEnvironment(loader=PackageLoader("reports", "templates"),
                          autoescape=select_autoescape(enabled_extensions=("html", "j2")),
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                          auto_reload=False)  # no file system look-up per page
    env.globals.update(badge=badge, cell_value=cell_value)
    return env


def write_file(path: Path, content: str | bytes) -> bool:
    """Write `content` to `path` unless the file already holds exactly that; atomically
    (temporary name, then rename), never in place. True when the file was (re)written."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def stylesheet() -> str:
    """The static stylesheet plus the palette rules generated from reports/colours.py."""
    css = (Path(__file__).parent / "static" / "site.css").read_text(encoding="utf-8")
    rules = [f".f-{code} {{ background: {fill}; color: {ink}; }} svg .f-{code} {{ fill: {fill}; }}"
             for code, (fill, ink) in COMPARISON_FILL.items()]
    rules += [f".q-{level} {{ background: {fill}; color: {ink}; }} svg .q-{level} {{ fill: {fill}; }}"
              for level, (fill, ink) in QUINTILE_FILL.items()]
    rules += [f".c-{i} {{ background: {fill}; color: {ink}; }} svg .c-{i} {{ fill: {fill}; }}"
              for i, (fill, ink) in enumerate(COUNT_FILL)]
    # the overview grid prints each comparison's sign after the value, so colour is never alone
    rules += [f'table.grid td.f-{code}::after {{ content: "\\00a0{symbol}"; font-weight: 700; }}'
              for code, symbol in COMPARISON_SYMBOL.items()]
    rules += [".f-none { background: #fff; } svg .f-none { fill: #f2f2f2; }",
              "svg .f-link { fill: #c9d7ea; }"]
    return css + "\n/* palette (reports/colours.py) */\n" + "\n".join(rules) + "\n"


def prune(out_dir: Path, keep: set[Path]) -> None:
    """Remove pages, assets and memo workbooks of earlier builds that this build did not write."""
    memos = (out_dir / DOWNLOAD_DIR).glob("urval-*.xlsx")
    for path in [*out_dir.glob("*.html"), *out_dir.glob("*.csv"), *(out_dir / ASSET_DIR).glob("*"), *memos]:
        if path not in keep:
            path.unlink()


# Pages are rendered by forked worker processes that inherit the prepared data. Everything
# a page needs is plain Python by then (SiteData.prepare, Layers.prepare), so the workers
# never call polars, GEOS or DuckDB; a fork therefore cannot inherit a lock held by their
# threads (the publication's snapshot may be running in a DuckDB thread at the fork).
_SHARED: dict = {}


def _render_job(job: tuple[str, str, str, str]) -> tuple[str, str, bool]:
    kind, template, name, key = job
    data, layers, env, common, out_dir = (_SHARED[k] for k in ("data", "layers", "env", "common", "out"))
    ctx, fetched = common["ctx"], _SHARED["fetched"]
    context = dict(common)
    if kind == "start":
        page = start_page(data, layers)
        context["publication"] = ctx  # the start page's colophon names the publication
    elif kind == "county":
        page = county_page(data, layers, key)
    elif kind == "profile":
        page = profile_page(data, key)
    elif kind == "call_memo":
        page = call_memo_page(data, *key.split("|", 1))
    elif kind == "about":
        page = {"methods": data.methods()}
    elif kind in COUNTY_VIEW_PAGES:
        page = COUNTY_VIEW_PAGES[kind][2](data, key)
    else:
        page = indicator_page(data, layers, data.by_id[key])
        # An indicator page shows one indicator: its own fetch date, not the newest of all.
        context["ctx"] = replace(ctx, fetched=fetched.get(key) or ctx.fetched)
    written = write_file(out_dir / name, env.get_template(template).render(**context, **page))
    return kind, name, written


def _plain_signals() -> None:
    """A forked worker inherits its parent's signal handlers (Dagster's, in a run), which
    turn a SIGTERM at shutdown into a traceback; workers take the defaults."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _render_share(jobs: list, claimed,
                  parent: int | None = None) -> list[tuple[int, tuple[str, str, bool]]]:
    """Render the jobs nobody has claimed yet, one at a time, until none is left: the
    workers from the start, this process once its own work is done (so neither waits idle
    on the other). `claimed` counts the jobs taken, shared by all of them. A worker
    (`parent`: the process it was forked from) stops when that process is gone: a fork does
    not inherit the publication process's tie to its build, so a killed build would
    otherwise leave its workers rendering."""
    done = []
    while True:
        if parent is not None and os.getppid() != parent:
            os._exit(1)
        with claimed.get_lock():
            n = claimed.value
            claimed.value = n + 1
        if n >= len(jobs):
            return done
        done.append((n, _render_job(jobs[n])))


def _render_worker(jobs: list, claimed, answer, parent: int) -> None:
    """A forked worker's life: its share of the pages, then what it made (or its error)
    sent back once to `parent`, the process that forked it."""
    _plain_signals()
    try:
        answer.send((_render_share(jobs, claimed, parent), None))
    except BaseException as err:  # noqa: BLE001 - sent to the parent, which raises it
        try:
            answer.send((None, err))
        except Exception:  # noqa: BLE001 - an error that cannot be pickled goes as text
            answer.send((None, RuntimeError(f"{type(err).__name__}: {err}")))
    finally:
        answer.close()


def _collect(workers: list) -> list[tuple[int, tuple[str, str, bool]]]:
    """Every worker's pages, or the first error (a worker that ended without answering,
    killed or out of memory, is one too)."""
    done = []
    for process, answer in workers:
        try:
            made, error = answer.recv()
        except EOFError:
            process.join()
            raise RuntimeError(f"en sidarbetare avslutades (kod {process.exitcode}) innan "
                               "den hade skrivit sina sidor") from None
        if error is not None:
            raise error
        done += made
    return done


# A worker comes to copy much of what it reads of the prepared data (each object it reads
# has its reference count written, and so its memory page copied): each worker may cost up to
# the data's size again. Above this size (this process's resident memory once the data are
# prepared) the pages are rendered here, one after another: slower, not larger (at ten times
# the demo's catalogue, workers added about 1 GB to a publication of 2.2 GB).
FORK_LIMIT_MB = 1024


def resident_mb() -> float | None:
    """This process's resident memory now, in MB (None where the system does not say)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:  # pages: size, resident, …
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return None


def workers_from_env(default: int | None = None) -> int:
    """UPPVAXT_REPORT_WORKERS, else one fewer than the CPUs (at least 1, at most 4): the
    publication's own process writes the downloads meanwhile, so it keeps a core busy, and
    each worker costs memory (on two CPUs one worker beside the downloads was as fast as two,
    and 100–150 MB smaller)."""
    value = os.environ.get("UPPVAXT_REPORT_WORKERS")
    if value:
        return max(0, int(value))
    return default or max(1, min((os.cpu_count() or 1) - 1, 4))


def fetch_dates(facts: pl.DataFrame) -> dict[str, str]:
    """Per indicator, the day its newest value was fetched (rows with indicator_id and
    fetched_at: the fact table, or its newest fetched_at per indicator)."""
    if "fetched_at" not in facts.columns:
        return {}
    return dict(facts.group_by("indicator_id").agg(pl.col("fetched_at").drop_nulls().max().str.slice(0, 10))
                .drop_nulls().iter_rows())


def render_site(marts: Marts, out_dir: Path, ctx: ReportContext, workers: int | None = None,
                kinds: set[str] | None = None, alongside=None,
                fetched_at: pl.DataFrame | None = None, keep_facts: bool = True) -> SiteResult:
    """Write every page of the site (or only the page `kinds` given, for the benchmark);
    returns the files per kind and the seconds per step. `alongside(data)`, given the
    prepared SiteData, runs in this process while the workers render the pages (the
    publication writes the downloads meanwhile), and this process then renders the pages
    still left beside them; or before the pages where they are all rendered here (no
    workers, or prepared data above FORK_LIMIT_MB). What it returns is in
    `result.alongside`.
    `fetched_at` (indicator_id, fetched_at) dates the indicator pages when `marts.facts`
    holds only some of the fact table's rows (fetch_dates). Without `keep_facts` the fact
    rows are let go once the pages' data are prepared (SiteData.prepare): a caller that
    hands over `marts` without keeping them gets their memory back for the render."""
    started = time.perf_counter()
    result = SiteResult()
    fetched = fetch_dates(marts.facts if fetched_at is None else fetched_at)
    data = SiteData(marts).prepare(keep_facts=keep_facts)
    layers = Layers(marts.shapes).prepare(data.kommuner_of)
    del marts  # the prepared data hold what the pages need (and, unless kept, not the facts)
    common = {"ctx": ctx, "asset_dir": ASSET_DIR, "comparisons": COMPARISON,
              "symbols": COMPARISON_SYMBOL, "need_levels": NEED_LEVEL, "min_worse": MIN_WORSE,
              "min_share": f"{round(100 * MIN_SHARE)}\u00a0%", "n_all_kommuner": len(data.kommuner),
              "rankability_bands": RANKABILITY_BANDS}
    css = out_dir / ASSET_DIR / "site.css"
    if write_file(css, stylesheet()):
        result.rewritten.append(css)
    jobs = ([("indicator", "indicator.html.j2", i["file"], i["indicator_id"]) for i in data.indicators]
            + [("start", "index.html.j2", "index.html", ""), ("about", "about.html.j2", "om-siffrorna.html", "")]
            + [("county", "county.html.j2", data.county_file(lan), lan) for lan, _ in data.lans]
            + [("profile", "kommun.html.j2", data.kommun_file(code), code) for code in data.kommuner]
            + [(kind, template, data.view_file(stem, lan), lan) for lan, _ in data.lans
               for kind, (stem, template, _) in COUNTY_VIEW_PAGES.items()]
            + [("call_memo", "call_memo.html.j2", memo_file(lan, call), f"{lan}|{call}")
               for lan, call in calls_of(data)])
    jobs = [job for job in jobs if kinds is None or job[0] in kinds]
    result.seconds["prepare"] = time.perf_counter() - started
    step = time.perf_counter()
    plain_history(data)  # before the workers fork: they cannot run polars
    env = environment()
    for template in env.list_templates():  # compiled once here, not once in every worker
        env.get_template(template)
    _SHARED.update(data=data, layers=layers, env=env, common=common, out=out_dir, fetched=fetched)
    workers = workers_from_env() if workers is None else workers
    resident = resident_mb()
    # One worker is worth its fork when this process has work of its own meanwhile.
    forked = ((workers > 1 or (workers == 1 and alongside is not None))
              and "fork" in multiprocessing.get_all_start_methods()
              and (resident is None or resident <= FORK_LIMIT_MB))
    workers_alive: list = []
    # The prepared data are millions of objects that live to the end: the collector leaves
    # them alone while the pages are rendered (a full collection went through them all, and
    # in a forked worker copied every memory page it touched), and looks at the pages' young
    # objects less often (a page makes tens of thousands; half the collector's time).
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(10_000, *thresholds[1:])
    try:
        fork = multiprocessing.get_context("fork") if forked else None
        claimed = fork.Value("l", 0) if fork else None
        for _ in range(workers if fork else 0):
            answer, send = fork.Pipe(duplex=False)
            process = fork.Process(target=_render_worker, args=(jobs, claimed, send, os.getpid()),
                                   daemon=True)
            process.start()
            send.close()  # the worker's end: closed here, so a dead worker reads as the end
            workers_alive.append((process, answer))
        # The memos' workbooks and the caller's work are done here meanwhile: polars stays
        # out of the forked workers.
        for lan, call in calls_of(data) if kinds is None or "call_memo" in kinds else []:
            memo = out_dir / DOWNLOAD_DIR / memo_xlsx_name(lan, call)
            if write_file(memo, memo_xlsx(data, lan, call, ctx.data_label, ctx.fetched)):
                result.rewritten.append(memo)
        if alongside is not None:
            side = time.perf_counter()
            result.alongside = alongside(data)
            result.seconds["alongside"] = time.perf_counter() - side
        if fork:  # the pages still unclaimed are shared with the workers from here on
            done = [page for _, page in sorted(_render_share(jobs, claimed) + _collect(workers_alive))]
        else:
            done = [_render_job(job) for job in jobs]
    finally:
        for process, answer in workers_alive:
            if process.is_alive():
                process.terminate()
            process.join()
            answer.close()
        _SHARED.clear()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    for kind, name, written in done:
        result.pages.setdefault(kind, []).append(out_dir / name)
        if written:
            result.rewritten.append(out_dir / name)
    result.seconds["pages"] = time.perf_counter() - step
    result.seconds["workers"] = workers if forked else 0  # 0: rendered in this process
    if kinds is None:
        workbooks = {out_dir / DOWNLOAD_DIR / memo_xlsx_name(lan, call) for lan, call in calls_of(data)}
        prune(out_dir, {p for paths in result.pages.values() for p in paths} | {css} | workbooks)
    result.seconds["total"] = time.perf_counter() - started
    return result


def render_downloads(marts: Marts, out_dir: Path, ctx: ReportContext, workers: int | None = None,
                     rewritten: list[Path] | None = None, data: SiteData | None = None,
                     facts: AreaFacts | None = None) -> list[Path]:
    """CSV and XLSX for every county and kommun under `out_dir/nedladdning/`; the files
    whose content changed are appended to `rewritten`. `data`: the marts' SiteData when
    already made (render_site's `alongside` is given it); `facts`: the fact table's rows
    by area when `marts.facts` holds only the site's rows."""
    def write(path: Path, content: str | bytes) -> None:
        if write_file(path, content) and rewritten is not None:
            rewritten.append(path)

    return write_downloads(data if data is not None else SiteData(marts), out_dir, ctx.data_label,
                           ctx.fetched, write, workers=workers, facts=facts)
