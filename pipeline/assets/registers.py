"""Local register assets (group `coordination`): one per register, the file status table,
and the demo writer.

Each register asset reads every file of its register in the registers folder, sets bad
files aside (quarantine with a report naming file, row and column) and stores what counts:
the accepted files and, for a file in quarantine, its last accepted version. Its file
check fails while any file of the register is in quarantine (severity ERROR) and warns
while an accepted file has warnings (severity WARN); it does not block, so the marts are
rebuilt from the last accepted data and the published figures stay as they were. The
pandera check of the stored table blocks as for every table. `meta.register_file` adds the
goal follow-up's warnings (a baseline that differs from the data) to the goal files' rows.
"""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import os
import time
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.factory import OWNER, schema_check, table_asset, table_schema, validated_output
from pipeline.resources import Paths, StatisticsApis
from pipeline.sensors import materialized_since
from checks.registry import TABLES
from sources.catalog import CatalogError, load_source_settings
from sources.demo.registers import FACT_COLUMNS as DEMO_FACT_COLUMNS
from sources.demo.registers import remove_demo_registers, write_demo_registers
from sources.demo.world import DEMO_LABEL, DemoWorld
from sources.registers.actors import load_actor_aliases
from sources.registers.folder import MAX_BYTES, files_in, folder_key, folder_status, take_register
from sources.registers.layouts import REGISTERS
from sources.registers.parse import Known, as_table
from sources.tabular.problems import KINDS, combine, problem

GROUP = "coordination"
REGISTER_DEMO_KEY = dg.AssetKey(["inbox", "register_demo_files"])
REGISTER_KEYS = [dg.AssetKey(["raw", f"register_{name}"]) for name in REGISTERS]
REGISTER_FILE_KEY = dg.AssetKey(["meta", "register_file"])


class RegisterSettings(dg.ConfigurableResource):
    """Where the county's registers are dropped, and how large a file may be."""

    folder_dir: str = Field(default="", description="Registers folder (empty: <data>/registers)")
    max_file_mb: float = Field(default=MAX_BYTES / 1024**2, gt=0,
                               description="Larger files are refused and quarantined")
    settle_seconds: float = Field(default=10.0, ge=0,
                                  description="The sensor waits until no file is this recent "
                                              "(a copy may still be under way)")

    @classmethod
    def from_env(cls) -> "RegisterSettings":
        return cls(folder_dir=os.environ.get("UPPVAXT_REGISTERS_DIR", ""))

    def folder(self, paths: Paths) -> Path:
        return Path(self.folder_dir) if self.folder_dir else paths.data / "registers"


@dg.asset(key=REGISTER_DEMO_KEY, group_name=GROUP, owners=[OWNER], kinds={"python", "excel", "csv"},
          ins={"fact_indicator": dg.AssetIn(key=["marts", "fact_indicator"],
                                            metadata={"columns": DEMO_FACT_COLUMNS}),
               "indicator": dg.AssetIn(key=["marts", "indicator"]),
               "kommun": dg.AssetIn(key=["raw", "kommun"])})
def register_demo_files(paths: Paths, apis: StatisticsApis, register_settings: RegisterSettings,
                        fact_indicator: pl.DataFrame, indicator: pl.DataFrame,
                        kommun: pl.DataFrame) -> dg.MaterializeResult:
    """Demodata – syntetiska värden: de fyra registren (stöd, beredskap, mål, ansökningar)
    för alla län, skrivna i registermappen som XLSX och CSV (Windows-1252 med semikolon
    respektive UTF-8 med komma) och inlästa av samma läsare som riktiga filer. Skrivs bara
    i demoläge, och bara när innehållet ändras; i skarpt läge tas demofilerna bort."""
    if not apis.is_demo:
        removed = remove_demo_registers(register_settings.folder(paths))
        return dg.MaterializeResult(metadata={"written": dg.MetadataValue.json([]),
                                              "removed": dg.MetadataValue.json([p.name for p in removed])})
    try:
        years = load_source_settings(paths.sources_file).years.span
    except CatalogError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err
    world = DemoWorld.build(kommun, [], years)
    written = write_demo_registers(register_settings.folder(paths), world, kommun, fact_indicator, indicator)
    return dg.MaterializeResult(metadata={"written": dg.MetadataValue.json([p.name for p in written]),
                                          "label": DEMO_LABEL})


def files_check_name(name: str) -> str:
    return f"register_{name}_files"


def _register_asset(name: str):
    layout = REGISTERS[name]
    table = f"register_{name}"
    key = dg.AssetKey([TABLES[table][0], table])
    files_check = dg.AssetCheckSpec(
        files_check_name(name), asset=key, blocking=False,
        description=f"Filerna i registret {layout.name} ({layout.title}) går att läsa och stämmer: "
                    "rubrikerna finns, kommunkoder och indikatorer är kända, poäng ligger i 1–9, "
                    "slutdatum är inte före startdatum. Varje problem anges med fil, rad och "
                    "kolumn; en felaktig fil läggs i karantän och dess senast godkända version räknas.")
    description = (f"{layout.title} (registermappen, filer som börjar med {name}): "
                   f"{layout.description} Kontaktuppgifter läses inte in. Demodata räknas bara "
                   f"för län utan egna rader i registret.")

    @dg.asset(key=key, group_name=GROUP, owners=[OWNER], kinds={"polars", "duckdb", "excel"},
              description=description, deps=[REGISTER_DEMO_KEY],
              ins={"kommun": dg.AssetIn(key=["raw", "kommun"]),
                   "indicator_catalog": dg.AssetIn(key=["raw", "indicator_catalog"])},
              check_specs=[schema_check(table), files_check],
              metadata={"dagster/column_schema": table_schema(TABLES[table][1]),
                        "dagster/table_name": f"{key.path[0]}.{table}"})
    def _asset(context: dg.AssetExecutionContext, paths: Paths, register_settings: RegisterSettings,
               kommun: pl.DataFrame, indicator_catalog: pl.DataFrame):
        try:
            actors = load_actor_aliases(paths.catalog / "actors.yaml", kommun)
        except CatalogError as err:
            raise dg.Failure(description=str(err), allow_retries=False) from err
        known = Known.of(kommun, indicator_catalog["indicator_id"].to_list(), actors)
        read = take_register(register_settings.folder(paths), layout, known,
                             max_bytes=int(register_settings.max_file_mb * 1024**2))
        problems, warnings = read.problems, read.warnings
        lines = [f"- {o.file}: {o.status} ({o.problems.height} problem; rapport {o.report})"
                 for o in read.failed]
        sample = problems.head(20)
        meta = {
            "files": dg.MetadataValue.json([o.as_row() for o in read.outcomes]),
            "failure_count": problems.height,
            "failures_by_kind": dg.MetadataValue.json(
                {KINDS[k]: n for k, n in sorted(problems.group_by("kind").len().iter_rows())}),
            "failure_sample": dg.MetadataValue.json(sample.to_dicts()),
            "warning_count": warnings.height,
            "warning_sample": dg.MetadataValue.json(warnings.head(20).to_dicts()),
        }
        if read.failed:
            first = read.failed[0].as_row()["first_problem"]
            context.log.warning(f"{name}: {len(read.failed)} file(s) set aside; first problem: {first}")
            yield dg.AssetCheckResult(
                check_name=files_check.name, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                metadata={**meta, "set_aside": dg.MetadataValue.md("\n".join(lines))},
                description=f"{len(read.failed)} fil(er) i karantän; första problemet: {first}")
        elif warnings.height:
            first = warnings.row(0, named=True)
            yield dg.AssetCheckResult(
                check_name=files_check.name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                metadata=meta, description=f"{warnings.height} varning(ar), filerna räknas; första: "
                                           f"{first['file']}: {first['message']}")
        else:
            yield dg.AssetCheckResult(check_name=files_check.name, passed=True, metadata=meta)
        yield from validated_output(as_table(layout, read.frame), table, schema_check(table).name)

    _asset.__name__ = table
    return _asset


register_assets = [_register_asset(name) for name in REGISTERS]


def baseline_warnings(goals: pl.DataFrame, progress: pl.DataFrame) -> pl.DataFrame:
    """A warning per goal whose typed baseline differs from the data, on its file and row."""
    flagged = (progress.filter(pl.col("baseline_mismatch").fill_null(False)
                               & (pl.col("year") == pl.col("baseline_year")))
               .select("goal_id", "status_reason")
               .join(goals.select("goal_id", "source_file", "source_row"), on="goal_id"))
    return combine([problem(f, "baseline_mismatch", f"mål {g}: {reason[reason.find('basvärdet i registret'):]}",
                            row=int(r), column="Basvärde")
                    for g, reason, f, r in flagged.sort("source_file", "source_row").iter_rows()])


@table_asset("register_file", group=GROUP, deps=REGISTER_KEYS, kinds=("polars", "duckdb", "python"))
def register_file(paths: Paths, register_settings: RegisterSettings, register_mal: pl.DataFrame,
                  goal_progress: pl.DataFrame) -> pl.DataFrame:
    """Registerfilerna i registermappen och vad som hände med dem: godkända, demodata, i
    karantän (med den senast godkända versionen eller ingen), borttagna och filer som inget
    register känner igen, med antal problem och det första problemet (fil, rad, kolumn),
    antal varningar (dubbletter, kommuner som försvunnit ur en ny version, liknande
    aktörsnamn, äldre layout, basvärden som skiljer sig från data) och var rapporterna ligger."""
    return folder_status(register_settings.folder(paths), baseline_warnings(register_mal, goal_progress))


register_job = dg.define_asset_job(
    "register_job",
    selection=dg.AssetSelection.assets(*REGISTER_KEYS).downstream(),
    description="Läser registren i registermappen och räknar om det som bygger på dem: "
                "beredskap, stöd mot behov, måluppföljning, urval och publiceringen.")


@dg.sensor(job=register_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Bevakar registermappen (data/registers/): en ny, ändrad eller borttagen "
                       "fil läses in och allt som bygger på registren räknas om.")
def register_folder_sensor(context: dg.SensorEvaluationContext, paths: Paths,
                           register_settings: RegisterSettings):
    folder = register_settings.folder(paths)
    files = files_in(folder)
    recent = [p.name for p in files if time.time() - p.stat().st_mtime < register_settings.settle_seconds]
    if recent:
        return dg.SkipReason(f"Väntar på att kopieringen blir klar: {', '.join(recent)}")
    key = folder_key(folder)
    if not files and context.cursor is None:
        context.update_cursor(key)
        return dg.SkipReason(f"Inga registerfiler i {folder}")
    if context.cursor is None and materialized_since(context.instance, REGISTER_FILE_KEY, files):
        context.update_cursor(key)  # the first tick after a build that read them all
        return dg.SkipReason(f"Registerfilerna i {folder} är redan inlästa")
    if context.cursor == key:
        return dg.SkipReason(f"Inga ändringar i {folder}")
    context.update_cursor(key)
    return dg.RunRequest(run_key=f"registers:{key}")
