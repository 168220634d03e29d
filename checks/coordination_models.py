"""pandera models for the coordination layer: the local registers and their marts.

Allowed codes come from the dictionaries next to the code that defines them, so that a
check, a `*_label` column and `marts.label` never disagree.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks.models import KOMMUN_CODE, LAN_CODE
from sources.registers.folder import FILE_STATUS, UNKNOWN
from sources.registers.layouts import (ACTOR_TYPE, DIRECTION, PREVENTION_STAR, REGISTERS, SEX,
                                       SUPPORT_TYPE)
from transforms.goals import STATUS as GOAL_STATUS
from sources.registers.layouts import FRAMES
from transforms.need import (AREA_TYPES, CONTRIBUTION_KIND, FACTORS, INPUT_STATUS, NEED_STATUS,
                             SENSITIVITY_KIND)
from transforms.readiness import DIMENSIONS, STAGES
from transforms.selection import NEED_BANDS, PROPOSALS
from transforms.support import CLASSES

FACTOR_CODES = [f for f in FACTORS if f != "overall"]
SCORE = {"min_value": 1, "max_value": 9}
SHARE = {"min_value": 0, "max_value": 1}
STARS = r"^(brott|vald|utanforskap|andts|psykisk_ohalsa)(,(brott|vald|utanforskap|andts|psykisk_ohalsa))*$"


def _rows(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(expr)


class RegisterStod(pa.DataFrameModel):
    """Stödregistret: vilken aktör som stöder vilken kommun, med vad och när."""

    actor: pl.String = pa.Field(description="Aktören som ger stödet (namnet enligt aliaslistan data/catalog/actors.yaml)")
    actor_type: pl.String = pa.Field(isin=list(ACTOR_TYPE), description="Aktörstyp (kod)")
    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    subject: pl.String = pa.Field(nullable=True, description="Sakområde (fritext)")
    factor: pl.String = pa.Field(nullable=True, isin=FACTOR_CODES, description="Strategisk faktor (kod)")
    star: pl.String = pa.Field(nullable=True, isin=list(PREVENTION_STAR),
                               description="Punkt i Preventionsstjärnan (kod)")
    support_type: pl.String = pa.Field(isin=list(SUPPORT_TYPE), description="Stödtyp (kod)")
    start: pl.Date = pa.Field(description="Startdatum")
    end: pl.Date = pa.Field(description="Slutdatum")
    amount_sek: pl.Float64 = pa.Field(nullable=True, ge=0, description="Belopp i kronor")
    description: pl.String = pa.Field(nullable=True, description="Beskrivning")
    source_file: pl.String = pa.Field(description="Filen raden kommer från (i data/registers/)")
    source_row: pl.Int32 = pa.Field(ge=1, description="Radnumret i filen (rubrikraden räknas)")
    actor_written: pl.String = pa.Field(description="Aktören som den skrivits i filen")

    class Config:
        strict = True
        description = ("Stödregistret (data/registers/stod*): en rad per insats och kommun. "
                       "Kontaktuppgifter läses aldrig in.")

    @pa.dataframe_check
    def end_not_before_start(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("end") >= pl.col("start"))


class RegisterBeredskap(pa.DataFrameModel):
    """Beredskapsregistret: poäng per intervju och dimension."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    assessment_id: pl.String = pa.Field(description="Bedömningens id (kolumnen Bedömning; i äldre filer kommun och datum)")
    assessed_on: pl.Date = pa.Field(description="Intervjuns datum (bedömningens datum är det senaste)")
    issue: pl.String = pa.Field(description="Frågan bedömningen gäller")
    prevention_star: pl.String = pa.Field(nullable=True, str_matches=STARS,
                                          description="Frågans punkter i Preventionsstjärnan (koder, kommaseparerade)")
    interview_id: pl.String = pa.Field(description="Intervjuns id inom bedömningen")
    sector: pl.String = pa.Field(nullable=True, description="Den intervjuades sektor")
    source_file: pl.String = pa.Field(description="Filen raden kommer från (i data/registers/)")
    source_row: pl.Int32 = pa.Field(ge=1, description="Radnumret i filen (rubrikraden räknas)")
    dimension: pl.String = pa.Field(isin=list(DIMENSIONS), description="Dimension A–F")
    scorer_1: pl.Float64 = pa.Field(nullable=True, in_range=SCORE, description="Första bedömarens poäng (1–9)")
    scorer_2: pl.Float64 = pa.Field(nullable=True, in_range=SCORE, description="Andra bedömarens poäng (1–9)")
    consensus: pl.Float64 = pa.Field(nullable=True, in_range=SCORE, description="Konsensuspoäng (1–9)")

    class Config:
        strict = True
        description = ("Beredskapsregistret (data/registers/beredskap*): Community Readiness-"
                       "poäng per intervju och dimension.")
        unique = ["area_code", "assessment_id", "interview_id", "dimension"]


class RegisterMal(pa.DataFrameModel):
    """Målregistret: mätbara mål i kommunala planer."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    plan: pl.String = pa.Field(description="Planens namn")
    goal_id: pl.String = pa.Field(unique=True, description="Målets id")
    goal_text: pl.String = pa.Field(description="Målet")
    indicator_id: pl.String = pa.Field(description="Indikatorn målet följs med")
    sex: pl.String = pa.Field(isin=list(SEX), description="Kön: T, K eller M")
    breakdown: pl.String = pa.Field(description="Nedbrytning (all = ingen)")
    direction: pl.String = pa.Field(isin=list(DIRECTION), description="increase (öka) eller decrease (minska)")
    baseline_year: pl.Int32 = pa.Field(description="Basår")
    baseline_value: pl.Float64 = pa.Field(nullable=True, description="Basvärde (tomt = från data)")
    target_value: pl.Float64 = pa.Field(description="Målvärde")
    target_year: pl.Int32 = pa.Field(description="Målår")
    source_file: pl.String = pa.Field(description="Filen raden kommer från (i data/registers/)")
    source_row: pl.Int32 = pa.Field(ge=1, description="Radnumret i filen (rubrikraden räknas)")

    class Config:
        strict = True
        description = "Målregistret (data/registers/mal*): en rad per mål."

    @pa.dataframe_check
    def target_not_before_baseline(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("target_year") >= pl.col("baseline_year"))


class RegisterAnsokningar(pa.DataFrameModel):
    """Ansökningsregistret: kommuner som sökt stöd i en utlysning."""

    call_id: pl.String = pa.Field(description="Utlysningens id")
    call_title: pl.String = pa.Field(nullable=True, description="Utlysningens namn")
    factors: pl.String = pa.Field(str_matches=r"^(skola|foraldraskap|fritid|narsamhalle)(,(skola|foraldraskap|fritid|narsamhalle))*$",
                                  description="Utlysningens strategiska faktorer (koder, kommaseparerade)")
    support_kind: pl.String = pa.Field(isin=list(SUPPORT_TYPE), description="Utlysningens stödform (kod)")
    places: pl.Int32 = pa.Field(nullable=True, ge=1, description="Antal platser (tomt: inställningen i coordination.yaml)")
    frame: pl.String = pa.Field(nullable=True, isin=list(FRAMES), description="Var behovet jämförs: lan eller riket (tomt: lan)")
    issue: pl.String = pa.Field(nullable=True, description="Frågan vars beredskap utlysningen bygger på")
    prevention_star: pl.String = pa.Field(nullable=True, str_matches=STARS,
                                          description="Utlysningens punkter i Preventionsstjärnan (koder)")
    support_year: pl.Int32 = pa.Field(nullable=True, description="Året vars pågående stöd visas (tomt: byggets år)")
    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Sökande kommun")
    applied_on: pl.Date = pa.Field(description="Ansökningsdatum")
    source_file: pl.String = pa.Field(description="Filen raden kommer från (i data/registers/)")
    source_row: pl.Int32 = pa.Field(ge=1, description="Radnumret i filen (rubrikraden räknas)")

    class Config:
        strict = True
        description = ("Ansökningsregistret (data/registers/ansokningar*): en rad per utlysning "
                       "och sökande kommun. Kontaktuppgifter läses aldrig in.")
        unique = ["call_id", "area_code"]


class RegisterFile(pa.DataFrameModel):
    """Registerfilerna i data/registers/ och vad som hände med dem vid senaste körningen."""

    register: pl.String = pa.Field(isin=[UNKNOWN, *REGISTERS], description="Register (unknown för filer vars namn inte visar något register)")
    file: pl.String = pa.Field(description="Filnamnet")
    status: pl.String = pa.Field(isin=list(FILE_STATUS), description="Filens status (kod)")
    status_label: pl.String = pa.Field(description="Filens status i klartext")
    rows: pl.Int32 = pa.Field(ge=0, description="Rader som räknas från filen (tidigare version i karantän)")
    n_problems: pl.Int32 = pa.Field(ge=0, description="Antal problem i filen")
    first_problem: pl.String = pa.Field(nullable=True, description="Första problemet: fil, rad, kolumn och vad")
    report: pl.String = pa.Field(nullable=True, description="Karantänrapporten, relativt data/registers/")
    n_warnings: pl.Int32 = pa.Field(ge=0, description="Antal varningar (filen räknas ändå): dubbletter, borttagna kommuner, liknande aktörsnamn, äldre layout, basvärden som skiljer sig från data")
    first_warning: pl.String = pa.Field(nullable=True, description="Första varningen: fil, rad, kolumn och vad")
    warning_report: pl.String = pa.Field(nullable=True, description="Varningsrapporten, relativt data/registers/")

    class Config:
        strict = True
        description = ("Registerfiler: godkända, demodata, i karantän (med den senast godkända "
                       "versionen eller ingen), borttagna och filer som inget register känner igen, "
                       "med problem och varningar.")
        unique = ["register", "file"]


class NeedIndexInput(pa.DataFrameModel):
    """Behovsindexets indata: en rad per kommun, faktor och indikator."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    factor: pl.String = pa.Field(isin=FACTOR_CODES, description="Strategisk faktor (kod)")
    indicator_id: pl.String = pa.Field(description="Indikatorns id (se marts.indicator)")
    period: pl.Int32 = pa.Field(nullable=True, description="Året som används (indikatorns senaste år med kommunvärden)")
    value: pl.Float64 = pa.Field(nullable=True, description="Värdet; tomt när det saknas eller är dolt, aldrig 0 i stället")
    lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 95 % konfidensintervall")
    upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 95 % konfidensintervall")
    aligned_z: pl.Float64 = pa.Field(nullable=True, description="Normaliserat mot referensåret och vänt så att högre = större behov (winsoriserat)")
    weight: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Vikt inom faktorn, omräknad över kommunens tillgängliga indikatorer")
    status: pl.String = pa.Field(isin=list(INPUT_STATUS), description="ok, missing (saknas) eller suppressed (dolt)")
    status_reason: pl.String = pa.Field(nullable=True, description="Varför värdet saknas")
    direction: pl.Int8 = pa.Field(isin=[-1, 1], description="+1: högt värde = större behov; −1: lågt värde = större behov")
    reference_period: pl.Int32 = pa.Field(nullable=True, description="Referensåret för normaliseringen")
    reference_mean: pl.Float64 = pa.Field(nullable=True, description="Medelvärdet över kommunerna referensåret")
    reference_sd: pl.Float64 = pa.Field(nullable=True, description="Standardavvikelsen över kommunerna referensåret")
    base_weight: pl.Float64 = pa.Field(gt=0, description="Vikten i data/catalog/need_index.yaml")

    class Config:
        strict = True
        description = "Behovsindexets indata per kommun, strategisk faktor och indikator."
        unique = ["area_code", "factor", "indicator_id"]

    @pa.dataframe_check
    def missing_is_never_zero(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") == pl.col("aligned_z").is_not_null())


class NeedIndex(pa.DataFrameModel):
    """Behovsindex per område och strategisk faktor, med osäkerhet från Monte Carlo."""

    area_code: pl.String = pa.Field(description="Kommun (4 siffror), delregion eller län (2 siffror)")
    area_type: pl.String = pa.Field(isin=list(AREA_TYPES), description="kommun, subregion eller lan")
    lan_code: pl.String = pa.Field(str_matches=LAN_CODE, description="Områdets län")
    factor: pl.String = pa.Field(isin=list(FACTORS), description="Strategisk faktor, eller overall för alla fyra")
    factor_label: pl.String = pa.Field(description="Faktorns namn")
    period: pl.Int32 = pa.Field(description="Indexåret (senaste dataår som används)")
    score: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100},
                                 description="Behovspoäng, högre = större behov: percentil 1–100 bland kommunerna; för län och delregioner medelvärdet av kommunernas poäng vägt med antalet barn 0–19 år")
    level: pl.Int8 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5},
                              description="Behovsnivå, kvintil 1–5 bland kommunerna (5 = störst behov)")
    rank: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rang, 1 = störst behov (kommuner bland kommuner, län bland län, delregioner inom länet)")
    rank_median: pl.Float64 = pa.Field(nullable=True, ge=1, description="Medianrang över Monte Carlo-dragningarna")
    rank_lower: pl.Int32 = pa.Field(nullable=True, ge=1, description="5:e percentilens rang (intervallets bästa ände)")
    rank_upper: pl.Int32 = pa.Field(nullable=True, ge=1, description="95:e percentilens rang")
    p_top_fifth: pl.Float64 = pa.Field(nullable=True, in_range=SHARE,
                                       description="Sannolikhet (0–1) att höra till den femtedel med störst behov (kommuner och län)")
    n_ranked: pl.Int32 = pa.Field(ge=0, description="Antal områden som rangordnas tillsammans")
    rankability: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Rangordningsbarhet (Lingsma 2009): andelen av rangskillnaderna mellan områdena i samma jämförelse (kommuner i riket, län, delregioner i länet) som är verkliga och inte osäkerhet; under 0,5 säger rangordningen lite")
    rank_lan: pl.Int32 = pa.Field(nullable=True, ge=1, description="Kommunens rang bland länets kommuner, 1 = störst behov")
    rank_lan_median: pl.Float64 = pa.Field(nullable=True, ge=1, description="Medianrang i länet över dragningarna")
    rank_lan_lower: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rangintervallets bästa ände i länet (5:e percentilen)")
    rank_lan_upper: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rangintervallets andra ände i länet (95:e percentilen)")
    n_ranked_lan: pl.Int32 = pa.Field(nullable=True, ge=0, description="Antal kommuner i länet med beräknat behov för faktorn")
    p_top_lan: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Sannolikhet (0–1) att höra till länets tredjedel med störst behov (tom när länet har färre än tre kommuner att rangordna)")
    rankability_lan: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Rangordningsbarhet bland länets kommuner för faktorn")
    subregion_code: pl.String = pa.Field(nullable=True, description="Kommunens delregion")
    rank_subregion: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rang bland delregionens kommuner")
    rank_subregion_lower: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rangintervallets bästa ände i delregionen")
    rank_subregion_upper: pl.Int32 = pa.Field(nullable=True, ge=1, description="Rangintervallets andra ände i delregionen")
    n_ranked_subregion: pl.Int32 = pa.Field(nullable=True, ge=0, description="Antal kommuner i delregionen med beräknat behov")
    coverage: pl.Float64 = pa.Field(in_range=SHARE, description="Andel av faktorns indikatorer med värde (län och delregioner: andel av barnen i kommuner med beräknat behov)")
    n_indicators: pl.Int32 = pa.Field(ge=0, description="Antal indikatorer som används")
    status: pl.String = pa.Field(isin=list(NEED_STATUS), description="ok, eller missing när täckningsregeln inte uppfylls")
    status_reason: pl.String = pa.Field(nullable=True, description="Varför behovet inte beräknas")
    draws: pl.Int32 = pa.Field(ge=1, description="Antal Monte Carlo-dragningar")
    index_version: pl.String = pa.Field(description="Indexdefinitionens version och kontrollsumma (data/catalog/need_index.yaml)")

    class Config:
        strict = True
        description = ("Behovsindex per kommun, delregion och län och strategisk faktor: poäng, "
                       "rang med 90-procentigt osäkerhetsintervall och sannolikhet för högt behov.")
        unique = ["area_code", "factor"]

    @pa.dataframe_check
    def interval_contains_median(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("rank_lower").is_null()
                     | ((pl.col("rank_lower") <= pl.col("rank_median"))
                        & (pl.col("rank_median") <= pl.col("rank_upper"))))

    @pa.dataframe_check
    def no_score_without_data(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") == pl.col("score").is_not_null())

    @pa.dataframe_check
    def county_interval_contains_median(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("rank_lan_lower").is_null()
                     | ((pl.col("rank_lan_lower") <= pl.col("rank_lan_median"))
                        & (pl.col("rank_lan_median") <= pl.col("rank_lan_upper"))
                        & (pl.col("rank_lan_upper") <= pl.col("n_ranked_lan"))))


class NeedContribution(pa.DataFrameModel):
    """Vad som driver en kommuns behov: varje indikators (och faktors) bidrag till poängen."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    factor: pl.String = pa.Field(isin=list(FACTORS), description="Strategisk faktor, eller overall för det samlade behovet")
    input_id: pl.String = pa.Field(description="Indikatorns id (för overall: faktorns kod)")
    input_kind: pl.String = pa.Field(isin=list(CONTRIBUTION_KIND), description="indicator eller factor")
    input_label: pl.String = pa.Field(description="Indikatorn eller faktorn i klartext")
    period: pl.Int32 = pa.Field(nullable=True, description="Året värdet gäller")
    value: pl.Float64 = pa.Field(nullable=True, description="Indikatorns värde")
    aligned_z: pl.Float64 = pa.Field(description="Normaliserat och vänt värde (högre = större behov); för overall faktorns poäng")
    weight: pl.Float64 = pa.Field(in_range=SHARE, description="Vikten, omräknad över det kommunen har")
    contribution: pl.Float64 = pa.Field(description="Bidraget till poängen: vikt × z; positivt höjer behovet")
    score_z: pl.Float64 = pa.Field(description="Poängen före rangordningen: summan av bidragen")
    rank_of_contribution: pl.Int32 = pa.Field(ge=1, description="1 = det som höjer behovet mest")
    index_version: pl.String = pa.Field(description="Indexdefinitionens version")

    class Config:
        strict = True
        description = ("Vad som driver en kommuns behov: varje indikators bidrag (vikt × vänt z-värde) "
                       "till faktorns poäng, och varje faktors bidrag till det samlade behovet.")
        unique = ["area_code", "factor", "input_id"]

    @pa.dataframe_check
    def contributions_add_up(cls, data: PolarsData) -> pl.LazyFrame:
        total = pl.col("contribution").sum().over("area_code", "factor")
        return _rows(data, (total - pl.col("score_z")).abs() < 1e-9)


class NeedSensitivity(pa.DataFrameModel):
    """Vad som flyttar rangordningen mest i behovsindexet."""

    factor: pl.String = pa.Field(isin=list(FACTORS), description="Strategisk faktor eller overall")
    input: pl.String = pa.Field(description="Indikatorns id eller metodvalets namn")
    input_kind: pl.String = pa.Field(isin=list(SENSITIVITY_KIND), description="indicator eller method")
    input_label: pl.String = pa.Field(description="Indikatorn eller metodvalet i klartext")
    effect: pl.Float64 = pa.Field(ge=0, description="Genomsnittlig absolut rangförändring när bara detta varierar (indikator: när den tas bort)")
    rank_of_effect: pl.Int32 = pa.Field(ge=1, description="1 = flyttar rangordningen mest")
    index_version: pl.String = pa.Field(description="Indexdefinitionens version")

    class Config:
        strict = True
        description = "Känslighetsanalys av behovsindexet: genomsnittlig rangförändring per indata och metodval."
        unique = ["factor", "input"]


class Readiness(pa.DataFrameModel):
    """Beredskap (Community Readiness) per kommun, bedömning och dimension."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    assessment_id: pl.String = pa.Field(description="Bedömningens id")
    assessed_on: pl.Date = pa.Field(description="Bedömningsdatum")
    issue: pl.String = pa.Field(description="Frågan")
    dimension: pl.String = pa.Field(isin=list(DIMENSIONS), description="Dimension A–F")
    dimension_label: pl.String = pa.Field(description="Dimensionens namn")
    score: pl.Float64 = pa.Field(nullable=True, in_range=SCORE, description="Medelvärdet av konsensuspoängen över intervjuerna")
    n_interviews: pl.Int32 = pa.Field(ge=0, description="Intervjuer med konsensuspoäng för dimensionen")
    agreement_within_one: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Andel intervjuer där bedömarna skilde högst en poäng")
    weighted_kappa: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": -1, "max_value": 1},
                                          description="Kvadratiskt viktad kappa mellan bedömarna (före konsensus)")
    previous_score: pl.Float64 = pa.Field(nullable=True, description="Poängen vid förra bedömningen av samma fråga")
    change: pl.Float64 = pa.Field(nullable=True, description="Förändring sedan förra bedömningen")
    warning: pl.String = pa.Field(nullable=True, description="Varning (för få intervjuer, saknade poäng)")

    class Config:
        strict = True
        description = "Beredskap per kommun, bedömning och dimension (Community Readiness Model)."
        unique = ["area_code", "assessment_id", "dimension"]


class ReadinessStage(pa.DataFrameModel):
    """Beredskapsstadium per kommun och bedömning."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    assessment_id: pl.String = pa.Field(description="Bedömningens id")
    assessed_on: pl.Date = pa.Field(description="Bedömningsdatum")
    issue: pl.String = pa.Field(description="Frågan")
    score: pl.Float64 = pa.Field(nullable=True, in_range=SCORE, description="Medelvärdet av de sex dimensionernas poäng")
    stage: pl.Int8 = pa.Field(nullable=True, in_range=SCORE, description="Stadium 1–9: heltalsdelen av poängen, aldrig avrundat uppåt")
    stage_label: pl.String = pa.Field(nullable=True, description="Stadiets namn")
    lowest_dimension: pl.String = pa.Field(nullable=True, isin=list(DIMENSIONS), description="Dimensionen med lägst poäng (arbeta med den först)")
    lowest_dimension_label: pl.String = pa.Field(nullable=True, description="Den lägsta dimensionens namn")
    n_interviews: pl.Int32 = pa.Field(ge=0, description="Antal intervjuer")
    n_dimensions: pl.Int32 = pa.Field(ge=0, le=6, description="Dimensioner med poäng")
    agreement_within_one: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Andel poängpar inom en poäng, alla dimensioner")
    weighted_kappa: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": -1, "max_value": 1},
                                          description="Kvadratiskt viktad kappa, alla dimensioner")
    previous_stage: pl.Int8 = pa.Field(nullable=True, description="Stadiet vid förra bedömningen av samma fråga")
    previous_score: pl.Float64 = pa.Field(nullable=True, description="Poängen vid förra bedömningen")
    change: pl.Float64 = pa.Field(nullable=True, description="Poängförändring sedan förra bedömningen")
    prevention_star: pl.String = pa.Field(nullable=True, str_matches=STARS,
                                          description="Frågans punkter i Preventionsstjärnan (koder)")
    warning: pl.String = pa.Field(nullable=True, description="Varning (för få intervjuer, dimension utan poäng, konsensus utanför bedömarnas poäng)")

    class Config:
        strict = True
        description = "Beredskapsstadium per kommun och bedömning (Community Readiness Model)."
        unique = ["area_code", "assessment_id"]

    @pa.dataframe_check
    def stage_is_truncated_score(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("stage").is_null()
                     | (pl.col("stage") == pl.col("score").round(9).floor().cast(pl.Int8)))


class SupportNeed(pa.DataFrameModel):
    """Stöd mot behov per kommun, strategisk faktor och år."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    lan_code: pl.String = pa.Field(str_matches=LAN_CODE, description="Län")
    factor: pl.String = pa.Field(isin=list(FACTORS), description="Strategisk faktor, eller overall för allt stöd")
    factor_label: pl.String = pa.Field(description="Faktorns namn")
    period: pl.Int32 = pa.Field(description="Uppföljningsår")
    period_start: pl.Date = pa.Field(description="Periodens första dag")
    period_end: pl.Date = pa.Field(description="Periodens sista dag")
    score: pl.Float64 = pa.Field(nullable=True, description="Behovspoäng (se marts.need_index)")
    p_top_fifth: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Sannolikhet för högt behov")
    rank_lower: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets nedre ände")
    rank_upper: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets övre ände")
    n_actors: pl.Int32 = pa.Field(ge=0, description="Antal aktörer som ger stöd")
    n_supports: pl.Int32 = pa.Field(ge=0, description="Antal insatser")
    support_types: pl.String = pa.Field(nullable=True, description="Stödtyper, kommaseparerade")
    actors: pl.String = pa.Field(nullable=True, description="Aktörerna, kommaseparerade")
    sek: pl.Float64 = pa.Field(nullable=True, ge=0, description="Kronor under året (belopp fördelade efter dagar; de belopp som finns)")
    n_missing_amount: pl.Int32 = pa.Field(ge=0, description="Ekonomiska stöd under året som saknar belopp (summan är då en nedre gräns)")
    children: pl.Float64 = pa.Field(nullable=True, ge=0, description="Invånare 0–19 år")
    sek_per_child: pl.Float64 = pa.Field(nullable=True, ge=0, description="Kronor per invånare 0–19 år")
    klass: pl.String = pa.Field(alias="class", isin=list(CLASSES), description="Klass: behov mot stöd (kod)")
    class_label: pl.String = pa.Field(description="Klassen i klartext")
    high_need_from: pl.Float64 = pa.Field(in_range=SHARE, description="Sannolikheten från vilken behovet är tydligt högt (need_bands i coordination.yaml; samma gräns i klasserna och diagrammet)")
    overlap: pl.Boolean = pa.Field(description="Flera aktörer stöder samma faktor samma år")
    overlap_actors: pl.String = pa.Field(nullable=True, description="Aktörerna som överlappar")
    shown: pl.Boolean = pa.Field(description="Året som länets sidor visar (byggets år, eller länets inställning; aldrig ett kommande år)")

    class Config:
        strict = True
        description = "Stöd mot behov per kommun, strategisk faktor och år, med klass och överlapp."
        unique = ["area_code", "factor", "period"]


class GoalProgress(pa.DataFrameModel):
    """Uppföljning av kommunala mål per mål och år sedan basåret."""

    goal_id: pl.String = pa.Field(description="Målets id")
    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    plan: pl.String = pa.Field(description="Planen")
    goal_text: pl.String = pa.Field(description="Målet")
    indicator_id: pl.String = pa.Field(description="Indikatorn")
    sex: pl.String = pa.Field(isin=list(SEX), description="Kön")
    breakdown: pl.String = pa.Field(description="Nedbrytning")
    direction: pl.String = pa.Field(isin=list(DIRECTION), description="increase eller decrease")
    baseline_year: pl.Int32 = pa.Field(description="Basår")
    baseline_value: pl.Float64 = pa.Field(nullable=True, description="Basvärde")
    baseline_source: pl.String = pa.Field(nullable=True, isin=["register", "data"], description="Basvärdet från registret eller ur data")
    target_year: pl.Int32 = pa.Field(description="Målår")
    target_value: pl.Float64 = pa.Field(description="Målvärde")
    year: pl.Int32 = pa.Field(description="År")
    value: pl.Float64 = pa.Field(nullable=True, description="Värdet")
    lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 95 %")
    upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 95 %")
    change: pl.Float64 = pa.Field(nullable=True, description="Förändring från basvärdet (värde − basvärde)")
    change_z: pl.Float64 = pa.Field(nullable=True, description="Testvariabel: förändringen delad med dess standardfel")
    change_significant: pl.Boolean = pa.Field(nullable=True, description="Förändringen är större än slumpen (|z| > 1,96)")
    status: pl.String = pa.Field(isin=list(GOAL_STATUS), description="Status (kod)")
    status_label: pl.String = pa.Field(description="Status i klartext")
    status_reason: pl.String = pa.Field(nullable=True, description="Orsak")
    baseline_data_value: pl.Float64 = pa.Field(nullable=True, description="Datas eget värde för basåret, när basvärdet står i registret")
    baseline_mismatch: pl.Boolean = pa.Field(nullable=True, description="Registrets basvärde ligger utanför datas 95-procentiga intervall för basåret (förändringen mäts då från datas värde)")
    data_until: pl.Int32 = pa.Field(nullable=True, description="Sista året med värde, när kommunens eller indikatorns data har upphört")
    is_latest: pl.Boolean = pa.Field(description="Målets senaste år")

    class Config:
        strict = True
        description = "Uppföljning av kommunala mål: värde, förändring från basåret med test, status."
        unique = ["goal_id", "year"]

    @pa.dataframe_check
    def achieved_beyond_the_interval(cls, data: PolarsData) -> pl.LazyFrame:
        clears = pl.when(pl.col("direction") == "increase").then(pl.col("lower_95") >= pl.col("target_value")) \
            .otherwise(pl.col("upper_95") <= pl.col("target_value"))
        return _rows(data, (pl.col("status") != "achieved") | clears.fill_null(False))

    @pa.dataframe_check
    def reason_when_not_followed(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") != "cannot_follow") | pl.col("status_reason").is_not_null())


class Selection(pa.DataFrameModel):
    """Förslag bland de sökande till en utlysning."""

    call_id: pl.String = pa.Field(description="Utlysningens id")
    call_title: pl.String = pa.Field(nullable=True, description="Utlysningens namn")
    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Sökande kommun")
    applied_on: pl.Date = pa.Field(description="Ansökningsdatum")
    factors: pl.String = pa.Field(description="Utlysningens faktorer (koder, kommaseparerade)")
    support_kind: pl.String = pa.Field(isin=list(SUPPORT_TYPE), description="Utlysningens stödform")
    frame: pl.String = pa.Field(isin=list(FRAMES), description="Var behovet jämförs: lan (länets kommuner) eller riket")
    places: pl.Int32 = pa.Field(ge=1, description="Utlysningens antal platser")
    support_year: pl.Int32 = pa.Field(nullable=True, description="Året vars pågående stöd räknas (aldrig ett kommande år)")
    need_factor: pl.String = pa.Field(nullable=True, isin=FACTOR_CODES, description="Faktorn vars behov används (högst sannolikhet i jämförelsen)")
    p_frame: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Sannolikhet för högt behov i jämförelsen: länets tredjedel eller rikets femtedel med störst behov")
    need_band: pl.String = pa.Field(nullable=True, isin=list(NEED_BANDS), description="Tydligt högt, osäkert eller tydligt lägre behov (need_bands i coordination.yaml)")
    p_top_fifth: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Sannolikhet att höra till rikets femtedel med störst behov")
    rank: pl.Int32 = pa.Field(nullable=True, description="Rang i riket")
    rank_lower: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets nedre ände i riket")
    rank_upper: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets övre ände i riket")
    n_ranked: pl.Int32 = pa.Field(nullable=True, description="Kommuner som rangordnas i riket")
    p_top_lan: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Sannolikhet att höra till länets tredjedel med störst behov")
    rank_lan: pl.Int32 = pa.Field(nullable=True, description="Rang i länet")
    rank_lan_lower: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets nedre ände i länet")
    rank_lan_upper: pl.Int32 = pa.Field(nullable=True, description="Rangintervallets övre ände i länet")
    n_ranked_lan: pl.Int32 = pa.Field(nullable=True, description="Kommuner som rangordnas i länet")
    rankability_frame: pl.Float64 = pa.Field(nullable=True, in_range=SHARE, description="Rangordningsbarheten i jämförelsen")
    readiness_assessment_id: pl.String = pa.Field(nullable=True, description="Beredskapsbedömningen som används")
    readiness_stage: pl.Int8 = pa.Field(nullable=True, description="Dess stadium")
    readiness_stage_label: pl.String = pa.Field(nullable=True, description="Stadiets namn")
    readiness_score: pl.Float64 = pa.Field(nullable=True, description="Bedömningens poäng (stadiet är heltalsdelen)")
    readiness_assessed_on: pl.Date = pa.Field(nullable=True, description="När beredskapen bedömdes")
    readiness_issue: pl.String = pa.Field(nullable=True, description="Frågan bedömningen gäller")
    readiness_for_call: pl.Boolean = pa.Field(nullable=True, description="Bedömningen gäller utlysningens fråga (tomt: utlysningen anger ingen fråga)")
    readiness_warning: pl.String = pa.Field(nullable=True, description="Varningar i bedömningen")
    stage_suitable: pl.Boolean = pa.Field(nullable=True, description="Stadiet passar stödformen (tomt: inte bedömt)")
    stage_advice: pl.String = pa.Field(nullable=True, description="När stadiet inte passar: vad stadiet kräver och vilka stödformer som passar")
    current_supports: pl.Int32 = pa.Field(ge=0, description="Pågående insatser inom utlysningens faktorer under stödåret")
    current_actors: pl.String = pa.Field(nullable=True, description="Aktörerna bakom dem")
    proposal: pl.String = pa.Field(isin=list(PROPOSALS), description="propose, qualitative_review eller not_proposed")
    proposal_label: pl.String = pa.Field(description="Förslaget i klartext")
    proposal_reason: pl.String = pa.Field(description="Varför, kort (hela skälen står i reasons)")
    order: pl.Int32 = pa.Field(ge=1, description="Plats i ordningen: föreslagna, sedan kvalitativ bedömning, sedan ej föreslagna; efter behov inom varje")
    reasons: pl.String = pa.Field(description="Skälen i klartext; förslaget är ett underlag, beslutet fattas av människor")

    class Config:
        strict = True
        description = "Urval bland sökande kommuner: ett av tre förslag med skäl. Det föreslår; människor beslutar."
        unique = ["call_id", "area_code"]

    @pa.dataframe_check
    def proposed_only_when_assessed_and_high(cls, data: PolarsData) -> pl.LazyFrame:
        proposed = pl.col("proposal") == "propose"
        return _rows(data, ~proposed | ((pl.col("need_band") == "high") & pl.col("stage_suitable").fill_null(False)))
