"""Survey assets: one partition per inbox file (private), and the published cells.

`private/survey_file` (partitioned by file name) reads, checks, scores and stores one file
in data/private/surveys/; its check lists the file's problems (file, row, column) and a bad
file is quarantined without anything being stored. `staging/survey_value` turns every
stored file into disclosure-controlled cells for the warehouse. Row-level data never pass
through the IO manager: the partitioned asset returns no frame.
"""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import functools
import os
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.factory import OWNER, table_asset
from pipeline.resources import Paths, StatisticsApis
from sources.catalog import CatalogError, load_source_settings
from sources.demo.world import DEMO_LABEL, DemoWorld
from sources.geography import load_kommuner
from sources.surveys.codebook import CodebookError, load_codebooks
from transforms.survey_codebook import Codebook
from sources.surveys.demo import write_demo_surveys
from sources.surveys.intake import take_in
from sources.surveys.private_store import PrivateStore
from sources.tabular.problems import KINDS
from sources.surveys.tables import build_survey_values
from sources.surveys.validate import DEFAULT_MAX_BYTES

SURVEY_FILES = dg.DynamicPartitionsDefinition(name="survey_file")
SURVEY_FILE_KEY = dg.AssetKey(["private", "survey_file"])
SURVEY_VALUE_KEY = dg.AssetKey(["staging", "survey_value"])
SURVEY_DEMO_KEY = dg.AssetKey(["inbox", "survey_demo_files"])
CHECK_NAME = "survey_file_problems"


class SurveySettings(dg.ConfigurableResource):
    """Where survey files arrive and how large they may be."""

    inbox_dir: str = Field(default="", description="Survey inbox (empty: <data>/inbox/surveys)")
    codebook_dir: str = Field(default="", description="Codebooks (empty: <catalog>/surveys)")
    max_file_mb: float = Field(default=DEFAULT_MAX_BYTES / 1024**2, gt=0,
                               description="Larger files are refused and quarantined")
    settle_seconds: float = Field(default=10.0, ge=0,
                                  description="A file must be this old before it is read "
                                              "(a copy may still be under way)")

    @classmethod
    def from_env(cls) -> "SurveySettings":
        env = os.environ
        return cls(inbox_dir=env.get("UPPVAXT_SURVEY_INBOX", ""),
                   codebook_dir=env.get("UPPVAXT_SURVEY_CODEBOOKS", ""),
                   max_file_mb=float(env.get("UPPVAXT_SURVEY_MAX_MB", DEFAULT_MAX_BYTES / 1024**2)))

    def inbox(self, paths: Paths) -> Path:
        return Path(self.inbox_dir) if self.inbox_dir else paths.data / "inbox" / "surveys"

    def codebooks(self, paths: Paths) -> dict[str, Codebook]:
        return load_codebooks(Path(self.codebook_dir) if self.codebook_dir else paths.catalog / "surveys")

    def store(self, paths: Paths) -> PrivateStore:
        return PrivateStore(paths.private / "surveys")

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_mb * 1024**2)


@functools.cache
def _kommun_codes() -> frozenset[str]:
    return frozenset(load_kommuner()["kommun_code"].to_list())


def _codebooks(settings: SurveySettings, paths: Paths) -> dict[str, Codebook]:
    try:
        return settings.codebooks(paths)
    except CodebookError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err


@dg.asset(
    key=SURVEY_FILE_KEY, partitions_def=SURVEY_FILES, group_name="sources", owners=[OWNER],
    kinds={"python", "parquet"},
    check_specs=[dg.AssetCheckSpec(
        CHECK_NAME, asset=SURVEY_FILE_KEY,
        description="Filen stämmer med sin kodbok: alla kolumner finns, koderna finns i "
                    "kodboken, värdena är möjliga, svars-id är unika, filen är läsbar, inte "
                    "tom och inte för stor. Varje problem anges med fil, rad och kolumn.")],
)
def survey_file(context: dg.AssetExecutionContext, paths: Paths, survey_settings: SurveySettings):
    """En enkätfil från inkorgen (data/inbox/surveys/): läses (CSV, XLSX eller SPSS),
    kontrolleras mot sin kodbok, poängsätts per skala och sparas rad för rad i det privata
    lagret data/private/surveys/, som aldrig publiceras. En fil med fel flyttas till
    inkorgens karantänmapp med en rapport och ingenting av den sparas."""
    inbox = survey_settings.inbox(paths)
    outcome = take_in(inbox / context.partition_key, inbox=inbox,
                      codebooks=_codebooks(survey_settings, paths), kommun_codes=set(_kommun_codes()),
                      store=survey_settings.store(paths), max_bytes=survey_settings.max_bytes)
    if not outcome.ok:
        summary = outcome.summary()
        metadata = {
            "failure_count": summary.failure_count,
            "failures_by_kind": dg.MetadataValue.json({KINDS[k]: n for k, n in summary.by_kind.items()}),
            "failure_sample": dg.MetadataValue.json(summary.sample),
            "problems": dg.MetadataValue.md("\n".join(f"- {line}" for line in summary.lines)),
            "quarantined_to": str(outcome.quarantined),
        }
        yield dg.AssetCheckResult(check_name=CHECK_NAME, passed=False, metadata=metadata,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  description=summary.headline())
        raise dg.Failure(description=f"{summary.headline()}. Filen ligger nu i {outcome.quarantined}; "
                                     f"första problemet: {summary.lines[0]}",
                         metadata=metadata, allow_retries=False)
    yield dg.MaterializeResult(metadata={
        "codebook": outcome.codebook,
        "respondents": outcome.respondents,
        "sha256": outcome.sha256,
        "fetched_at": outcome.fetched_at,
        **{k: dg.MetadataValue.json(v) if isinstance(v, list) else v
           for k, v in outcome.details.items() if v is not None},
    })
    yield dg.AssetCheckResult(check_name=CHECK_NAME, passed=True,
                              metadata={"failure_count": 0, "respondents": outcome.respondents})


@table_asset("survey_value", group="staging", deps=[SURVEY_FILE_KEY],
             kinds=("polars", "duckdb", "parquet"))
def survey_value(context: dg.AssetExecutionContext, paths: Paths,
                 survey_settings: SurveySettings) -> pl.DataFrame:
    """Elevenkäter: andel svarande med förhöjd risk, hög risk eller högt skydd per skala,
    kommun, län och alla svarande, år, kön (T, K, M) och årskurs, från alla inlästa
    enkätfiler i det privata lagret. Celler med färre än 10 svarande döljs, liksom celler
    som annars kunde räknas fram ur summor över kön, årskurser, kommuner och län; orsaken
    står på raden. Inga uppgifter om enskilda elever lämnar det privata lagret."""
    tables = build_survey_values(survey_settings.store(paths), _codebooks(survey_settings, paths))
    if tables.orphans:
        context.log.warning(f"stored survey files without a codebook, left out: {tables.orphans}")
    context.log.info(f"survey files: {tables.files}; cut-points: "
                     f"{tables.cuts.select('indicator_id', 'threshold').rows() if tables.cuts.height else []}")
    return tables.values


@dg.asset(key=SURVEY_DEMO_KEY, group_name="sources", owners=[OWNER], kinds={"python", "spss", "csv"})
def survey_demo_files(paths: Paths, apis: StatisticsApis, survey_settings: SurveySettings):
    """Demodata – syntetiska värden: två påhittade enkätomgångar i inkorgen, en
    Stockholmsenkät-lik SPSS-fil för Stockholms län och en LUPP-lik CSV (semikolon,
    Latin-1, decimalkomma) för Östergötland och Halland. Elevernas svar följer samma
    socioekonomiska faktor som demodatan för registren. Skrivs bara i demoläge."""
    if not apis.is_demo:
        return dg.MaterializeResult(metadata={"written": dg.MetadataValue.json([])})
    kommuner = load_kommuner()
    try:
        years = load_source_settings(paths.sources_file).years.span
    except CatalogError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err
    world = DemoWorld.build(kommuner, [], years)
    written = write_demo_surveys(survey_settings.inbox(paths), world, kommuner,
                                 _codebooks(survey_settings, paths))
    return dg.MaterializeResult(metadata={"written": dg.MetadataValue.json([p.name for p in written]),
                                          "label": DEMO_LABEL})


survey_file_job = dg.define_asset_job(
    "survey_file_job", selection=dg.AssetSelection.assets(SURVEY_FILE_KEY),
    description="Läser in en enkätfil från inkorgen (en partition per fil).")

survey_value_job = dg.define_asset_job(
    "survey_value_job", selection=dg.AssetSelection.assets(SURVEY_VALUE_KEY).downstream(),
    description="Räknar om enkätandelarna (staging.survey_value) från alla inlästa enkätfiler "
                "och allt som bygger på dem: faktatabellen, rapporterna och publiceringen.")
