"""Survey assets: one partition per inbox file (private), and the published cells.

`private/survey_file` (partitioned by file name) reads, checks, scores and stores one file
in data/private/surveys/ (or withdraws one, for a `<file>.withdraw` marker); its check lists
the file's problems (file, row, column — never a respondent id or an answer) and a bad file
is quarantined without anything being stored; a second check warns when the file's wave is
much smaller than the survey's previous one. `staging/survey_value` turns every stored file
into disclosure-controlled cells for the warehouse. Row-level data never pass through the
IO manager: the partitioned asset returns no frame.
"""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import functools
import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from pipeline.factory import OWNER, CheckWarning, table_multi_asset
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
SURVEY_RELEASE_KEY = dg.AssetKey(["meta", "survey_release"])
SURVEY_DEMO_KEY = dg.AssetKey(["inbox", "survey_demo_files"])
CHECK_NAME = "survey_file_problems"
SIZE_CHECK = "survey_file_wave_size"
RELEASE_CHECK = "survey_value_new_version"
RELEASE_CHECK_TEXT = ("Varnar när en redan publicerad enkätomgång publiceras i en ny version "
                      "(komplettering, rättelse eller tillbakadragen fil: vad som ändrades och hur "
                      "många celler den nya versionen visar) och när en ny version visar minst 10 % "
                      "färre celler än förra versionen.")


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
def _kommun_names() -> dict[str, str]:
    """SCB kommun code → name, so that files may name the kommun."""
    kommuner = load_kommuner()
    return dict(zip(kommuner["kommun_code"].to_list(), kommuner["kommun_name"].to_list(), strict=True))


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
        description="Filen stämmer med sin kodbok: alla kolumner finns, koderna och "
                    "SPSS-etiketterna stämmer med kodboken, värdena är möjliga, svars-id är "
                    "unika, filen är läsbar, inte tom, inte för stor, inte redan levererad och "
                    "har så många svarande som leveranssedeln anger. Varje problem anges med "
                    "fil, rad och kolumn, aldrig med svars-id eller svar."),
        dg.AssetCheckSpec(
            SIZE_CHECK, asset=SURVEY_FILE_KEY,
            description="Varnar när enkätomgången har betydligt färre svarande än enkätens "
                        "förra omgång (en avklippt fil eller en saknad leverans?).")],
)
def survey_file(context: dg.AssetExecutionContext, paths: Paths, survey_settings: SurveySettings):
    """En enkätfil från inkorgen (data/inbox/surveys/): läses (CSV, XLSX eller SPSS),
    kontrolleras mot sin kodbok, poängsätts per skala och sparas rad för rad i det privata
    lagret data/private/surveys/, som aldrig publiceras. En fil med fel flyttas till
    inkorgens karantänmapp med en rapport och ingenting av den sparas."""
    inbox = survey_settings.inbox(paths)
    # take_in refuses a key that is not a plain file name directly in the inbox ("../x").
    outcome = take_in(inbox / context.partition_key, inbox=inbox,
                      codebooks=_codebooks(survey_settings, paths), kommun_codes=_kommun_names(),
                      store=survey_settings.store(paths), max_bytes=survey_settings.max_bytes)
    if not outcome.ok:
        summary = outcome.summary()
        metadata = {
            "failure_count": summary.failure_count,
            "failures_by_kind": dg.MetadataValue.json({KINDS[k]: n for k, n in summary.by_kind.items()}),
            "failure_sample": dg.MetadataValue.json(summary.sample),
            "problems": dg.MetadataValue.md("\n".join(f"- {line}" for line in summary.lines)),
            "report": str(outcome.report) if outcome.report else "",
        }
        yield dg.AssetCheckResult(check_name=CHECK_NAME, passed=False, metadata=metadata,
                                  severity=dg.AssetCheckSeverity.ERROR,
                                  description=summary.headline())
        yield dg.AssetCheckResult(check_name=SIZE_CHECK, passed=True, metadata={"checked": False})
        where = f"Rapport: {outcome.report}" if outcome.report else "Ingen fil lästes."
        raise dg.Failure(description=f"{summary.headline()}. {where} Första problemet: {summary.lines[0]}",
                         metadata=metadata, allow_retries=False)
    if outcome.withdrawn:
        yield dg.MaterializeResult(metadata={"withdrawn": outcome.withdrawn})
        yield dg.AssetCheckResult(check_name=CHECK_NAME, passed=True,
                                  metadata={"failure_count": 0, "withdrawn": outcome.withdrawn})
        yield dg.AssetCheckResult(check_name=SIZE_CHECK, passed=True, metadata={"checked": False})
        return
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
    yield dg.AssetCheckResult(check_name=SIZE_CHECK, passed=not outcome.warnings,
                              severity=dg.AssetCheckSeverity.WARN,
                              description="; ".join(outcome.warnings) or "Omgången har inte betydligt färre svarande än förra.",
                              metadata={"warnings": dg.MetadataValue.json(outcome.warnings)})


SURVEY_VALUE_TEXT = (
    "Elevenkäter: andel svarande med förhöjd risk, hög risk eller högt skydd per skala, "
    "kommun, län och alla svarande, år, kön (T, K, M) och årskurs, från alla inlästa "
    "enkätfiler i det privata lagret, på hela rutnätet av kommuner och årskurser som enkäten "
    "täcker. Celler med färre än 10 svarande och andelar 0 % eller 100 % i grupper under 30 "
    "döljs, liksom de celler som behövs för att de inte ska kunna räknas fram (inom ±5 "
    "svarande, och inget dolt värde på ett spann om högst två) ur summorna över kön, "
    "årskurser, kommuner och län – också jämfört med tidigare publicerade versioner av samma "
    "omgång. Alla dolda celler har samma skäl, \"dold av röjandeskäl\". Inga uppgifter om "
    "enskilda elever lämnar det privata lagret.")
SURVEY_RELEASE_TEXT = (
    "Enkätomgångarnas versioner: per publicerad version och skala vad som ändrades (ny omgång, "
    "komplettering, rättelse, tillbakadragande), hur många celler som visas, hur många svarande "
    "de täcker och vad en angripare kan räkna fram ur summorna (ska vara 0).")


@table_multi_asset({"survey_value": SURVEY_VALUE_TEXT, "survey_release": SURVEY_RELEASE_TEXT},
                   group="staging", kinds=("polars", "duckdb", "parquet"),
                   warns={RELEASE_CHECK: ("survey_value", RELEASE_CHECK_TEXT)})
def survey_value(context: dg.AssetExecutionContext, paths: Paths, survey_settings: SurveySettings):
    """Elevenkäternas publicerade celler och omgångarnas versioner, ur det privata lagret."""
    store = survey_settings.store(paths)
    store.secure()
    tables = build_survey_values(store, _codebooks(survey_settings, paths))
    if tables.orphans:
        context.log.warning(f"stored survey files without a codebook, left out: {tables.orphans}")
    for book, why in sorted(tables.left_out.items()):
        context.log.warning(f"survey {book} left out: {why}")
    for name in tables.withdrawn:
        context.log.warning(f"survey file {name} withdrawn (its raw file was deleted from the private store)")
    for line in tables.changes:
        context.log.info(line)
    context.log.info(f"survey files: {tables.files}; wave versions: {tables.versions}; "
                     f"hidden cells: {int((tables.values['status'] == 'suppressed').sum())} "
                     f"of {tables.values.height}")
    problems = [{"omgång": line} for line in tables.revised + tables.shrunk]
    warning = CheckWarning(RELEASE_CHECK, "survey_value", RELEASE_CHECK_TEXT, problems,
                           headline="; ".join(tables.revised + tables.shrunk),
                           extra={"versions": dg.MetadataValue.json(tables.versions),
                                  "releases": dg.MetadataValue.md("\n".join(f"- {line}" for line in tables.changes))
                                  if tables.changes else "inga nya versioner"})
    return {"survey_value": tables.values, "survey_release": tables.releases}, [warning]


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
    stored = {name: m["sha256"] for name, m in survey_settings.store(paths).manifests().items()}
    written = write_demo_surveys(survey_settings.inbox(paths), world, kommuner,
                                 _codebooks(survey_settings, paths), stored)
    return dg.MaterializeResult(metadata={"written": dg.MetadataValue.json([p.name for p in written]),
                                          "label": DEMO_LABEL})


survey_file_job = dg.define_asset_job(
    "survey_file_job", selection=dg.AssetSelection.assets(SURVEY_FILE_KEY),
    description="Läser in en enkätfil från inkorgen (en partition per fil).")

survey_value_job = dg.define_asset_job(
    "survey_value_job", selection=dg.AssetSelection.assets(SURVEY_VALUE_KEY, SURVEY_RELEASE_KEY).downstream(),
    description="Räknar om enkätandelarna (staging.survey_value) från alla inlästa enkätfiler "
                "och allt som bygger på dem: faktatabellen, rapporterna och publiceringen.")
