"""pandera models for the health-economics marts: marts.late_cost and marts.prevention_scenario.

The descriptions become the tables' Swedish COMMENT ON text, caveats included: the two
numbers are never to be added together, a cost is not an avoidable cost, a scenario is not a
forecast and not the kommun's own budget gain.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from transforms.health_economics import (AREA_TYPES, ASSUMPTION_KIND, BREAK_EVEN, COST_STATUS,
                                         MEASURE, PARAMETERS, REFERENCE_COMPARISON,
                                         SCENARIO_STATUS, VERIFICATION)

AREA_CODE = r"^(\d{4}|\d{2})$"
SHARE = {"min_value": 0, "max_value": 1}


def _rows(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(expr)


class LateCost(pa.DataFrameModel):
    """Sen insats: vad socialtjänstens vård av barn och unga kostar, per kommun, län och år."""

    area_code: pl.String = pa.Field(str_matches=AREA_CODE,
                                    description="Områdeskod: kommun (fyra siffror), län (två) eller riket (00)")
    area_type: pl.String = pa.Field(isin=list(AREA_TYPES), description="Områdestyp")
    lan_code: pl.String = pa.Field(nullable=True, str_matches=r"^\d{2}$",
                                   description="Länet kommunen hör till (tomt för riket)")
    year: pl.Int32 = pa.Field(in_range={"min_value": 1990, "max_value": 2100}, description="År")
    cost_kind: pl.String = pa.Field(str_matches=r"^[a-z][a-z0-9_]*$",
                                    description="Kostnadens eller volymens kod (data/catalog/late_cost.yaml)")
    cost_label: pl.String = pa.Field(description="Kostnadens eller volymens namn på svenska")
    measure: pl.String = pa.Field(isin=["cost", "volume"],
                                  description="cost = kronor per invånare; volume = andel av invånarna (%)")
    source_kpi: pl.String = pa.Field(str_matches=r"^[NU]\d{5}$", description="Koladas nyckeltal")
    source_title: pl.String = pa.Field(nullable=True, description="Koladas titel vid hämtningen")
    resident_band: pl.String = pa.Field(str_matches=r"^(all|\d+-\d+)$",
                                        description="Invånarna värdet gäller per: åldrar (t.ex. 0-20) eller all")
    population: pl.Float64 = pa.Field(nullable=True, ge=0,
                                      description="Invånarna i åldersgruppen (SCB); för län och riket i "
                                                  "kommunerna med värde")
    value_nominal: pl.Float64 = pa.Field(nullable=True,
                                         description="Värdet som Kolada redovisar, i löpande priser (kostnad) "
                                                     "eller procent (volym); län och riket räknade som "
                                                     "Σ total / Σ invånare")
    price_year: pl.Int32 = pa.Field(nullable=True,
                                    description="Prisåret för value, sek_total, rolling_value, lan_value "
                                                "och riket_value (kostnader; index i late_cost.yaml)")
    value: pl.Float64 = pa.Field(nullable=True,
                                 description="Kronor per invånare i prisårets priser (kostnad), eller "
                                             "procent (volym). Tomt när värde saknas, aldrig 0 för det")
    sek_total: pl.Float64 = pa.Field(nullable=True, ge=0,
                                     description="Kostnaden totalt i kronor, prisårets priser: värdet × invånarna")
    persons: pl.Float64 = pa.Field(nullable=True, ge=0,
                                   description="Volym: antal personer (andelen × invånarna)")
    rolling_value: pl.Float64 = pa.Field(nullable=True,
                                         description="Glidande medel över rolling_years år som slutar med året: "
                                                     "Σ total / Σ invånare (stadigare för små kommuner); "
                                                     "tomt om något av åren saknas")
    rolling_years: pl.Int32 = pa.Field(nullable=True, description="Antal år i det glidande medlet")
    coverage: pl.Float64 = pa.Field(nullable=True, in_range=SHARE,
                                    description="Län och riket: andel av invånarna som bor i kommuner med värde")
    lan_value: pl.Float64 = pa.Field(nullable=True, description="Länets värde samma år (kommunrader)")
    riket_value: pl.Float64 = pa.Field(nullable=True, description="Rikets värde samma år (kommun- och länsrader)")
    reference_kpi: pl.String = pa.Field(nullable=True, description="Referenskostnadens nyckeltal (t.ex. N30007)")
    reference_value: pl.Float64 = pa.Field(nullable=True,
                                           description="Referenskostnaden samma år, kronor per invånare i "
                                                       "prisårets priser: vad strukturen ger vid rikets "
                                                       "genomsnittliga kostnadsnivå")
    reference_deviation_pct: pl.Float64 = pa.Field(nullable=True,
                                                   description="100 × (kostnad − referenskostnad) / referenskostnad")
    reference_comparison: pl.String = pa.Field(isin=list(REFERENCE_COMPARISON),
                                               description="Kostnaden mot referenskostnaden: över, nära (inom "
                                                           "bandet i late_cost.yaml), under, eller inte jämförd")
    status: pl.String = pa.Field(isin=list(COST_STATUS), description="Värdets status")
    status_reason: pl.String = pa.Field(nullable=True, description="Orsak när värdet saknas eller avviker")

    class Config:
        strict = True
        unique = ["area_code", "cost_kind", "year"]
        description = (
            "Hälsoekonomi, del 1 – vad sena insatser kostar nu (fakta, inte prognos): Koladas "
            "kostnader för socialtjänstens vård av barn och unga 0–20 år (HVB, familjehem, öppna "
            "insatser) och individ- och familjeomsorgen med referenskostnad, samt andelar barn och "
            "unga vuxna med ekonomiskt bistånd, per kommun, län och riket och år. Kostnaderna är "
            "omräknade till fast pris med KPI. Förbehåll: bruttokostnader, inte kostnader som hade "
            "kunnat undvikas; en hög kostnad kan spegla behov (se referenskostnaden); små kommuner "
            "svänger med en enda placering (se det glidande medlet); räkenskapernas definitioner "
            "ändras ibland. Lägg aldrig ihop de här kostnaderna med scenarierna i "
            "marts.prevention_scenario.")

    @pa.dataframe_check
    def fixed_price_only_for_costs(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("measure") == "cost") | (pl.col("price_year").is_null()
                                                           & pl.col("sek_total").is_null()))

    @pa.dataframe_check
    def value_only_when_ok(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("value").is_null() | (pl.col("status") == "ok"))


class PreventionScenario(pa.DataFrameModel):
    """Förebyggande scenario: vad ett program för unga i riskzonen kunde spara, som intervall."""

    scenario_id: pl.String = pa.Field(str_matches=r"^[a-z][a-z0-9_]*$",
                                      description="Scenariots id (data/catalog/prevention_scenarios.yaml)")
    scenario_order: pl.Int32 = pa.Field(ge=0, description="Scenariots plats i katalogen (det första visas som räkneexempel)")
    scenario_title: pl.String = pa.Field(description="Scenariots namn")
    area_code: pl.String = pa.Field(str_matches=AREA_CODE, description="Kommun, län eller riket (00)")
    area_type: pl.String = pa.Field(isin=list(AREA_TYPES), description="Områdestyp")
    lan_code: pl.String = pa.Field(nullable=True, description="Länet (tomt för riket)")
    outcome_indicator: pl.String = pa.Field(description="Indikatorn scenariot flyttar (marts.indicator)")
    outcome_text: pl.String = pa.Field(nullable=True, description="Vad ett utfall till är, i klartext")
    at_risk_text: pl.String = pa.Field(nullable=True, description="Vilka som räknas till riskgruppen")
    baseline_year: pl.Int32 = pa.Field(nullable=True, description="År för kommunens utgångsläge")
    baseline_value: pl.Float64 = pa.Field(nullable=True, description="Kommunens värde på indikatorn (%)")
    shortfall_pct: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100},
                                         description="Andel av årskullen i riskgruppen (%)")
    cohort_year: pl.Int32 = pa.Field(nullable=True, description="År för årskullen (SCB)")
    cohort: pl.Float64 = pa.Field(nullable=True, ge=0, description="En årskull enligt SCB")
    at_risk: pl.Float64 = pa.Field(nullable=True, ge=0, description="Riskgruppen: årskullen × andelen")
    coverage: pl.Float64 = pa.Field(nullable=True, in_range=SHARE,
                                    description="Län och riket: andel av årskullen i kommuner som kunde räknas")
    participants: pl.Float64 = pa.Field(nullable=True, ge=0, description="Deltagare (centralt värde)")
    outcomes_central: pl.Float64 = pa.Field(nullable=True, ge=0,
                                            description="Fler med bättre utfall, centralt värde (alla antaganden i sitt troligaste värde)")
    outcomes_low: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, nedre gräns (5:e percentilen)")
    outcomes_high: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, övre gräns (95:e percentilen)")
    saving_central: pl.Float64 = pa.Field(nullable=True, ge=0,
                                          description="Besparing för alla betalare (kommun, region, stat, den "
                                                      "enskilde) i kronor, nuvärde i prisårets priser, centralt värde")
    saving_low: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 5:e percentilen")
    saving_high: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 95:e percentilen")
    kommun_saving_central: pl.Float64 = pa.Field(nullable=True, ge=0,
                                                 description="Kommunens egen andel av besparingen, centralt värde")
    kommun_saving_low: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 5:e percentilen")
    kommun_saving_high: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 95:e percentilen")
    cost_central: pl.Float64 = pa.Field(nullable=True, ge=0, description="Programmets kostnad, centralt värde")
    cost_low: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 5:e percentilen")
    cost_high: pl.Float64 = pa.Field(nullable=True, ge=0, description="Dito, 95:e percentilen")
    net_central: pl.Float64 = pa.Field(nullable=True, description="Besparing minus kostnad, centralt värde")
    net_low: pl.Float64 = pa.Field(nullable=True, description="Dito, 5:e percentilen")
    net_high: pl.Float64 = pa.Field(nullable=True, description="Dito, 95:e percentilen")
    p_break_even: pl.Float64 = pa.Field(nullable=True, in_range=SHARE,
                                        description="Andel dragningar där besparingen (alla betalare) överstiger kostnaden")
    break_even: pl.String = pa.Field(nullable=True, isin=list(BREAK_EVEN),
                                     description="Läsning av p_break_even i tre utfall (gränser i katalogen)")
    p_break_even_kommun: pl.Float64 = pa.Field(nullable=True, in_range=SHARE,
                                               description="Andel dragningar där kommunens egen andel överstiger hela kostnaden")
    break_even_kommun: pl.String = pa.Field(nullable=True, isin=list(BREAK_EVEN),
                                            description="Läsning av p_break_even_kommun i tre utfall")
    price_year: pl.Int32 = pa.Field(description="Prisåret för alla belopp")
    discount_rate: pl.Float64 = pa.Field(description="Diskonteringsräntans troligaste värde (real, per år)")
    draws: pl.Int32 = pa.Field(ge=1, description="Antal Monte Carlo-dragningar")
    seed: pl.Int64 = pa.Field(description="Fast frö: samma indata ger samma intervall")
    status: pl.String = pa.Field(isin=list(SCENARIO_STATUS), description="Om scenariot kunde räknas")
    status_reason: pl.String = pa.Field(nullable=True, description="Orsak när det inte kunde räknas")

    class Config:
        strict = True
        unique = ["scenario_id", "area_code"]
        description = (
            "Hälsoekonomi, del 2 – vad förebyggande insatser skulle kunna spara: scenarier, aldrig "
            "prognoser. Per scenario och kommun, län och riket: riskgruppen (SCB:s årskull × "
            "andelen som inte når utfallet), antagen effekt, skuggpris per utfall med källa, "
            "diskonterat till nuvärde; 90-procentigt intervall från Monte Carlo-dragningar med "
            "fast frö, kommunens egen andel för sig och sannolikheten att besparingen överstiger "
            "programmets kostnad. Förbehåll: alla placeringar och år i utanförskap går inte att "
            "förebygga; besparingarna kommer under decennier och hos flera betalare, inte i "
            "kommunens budget; skuggpriserna räknar redan in ekonomiskt bistånd och förlorad skatt "
            "och ska aldrig läggas till kostnaderna i marts.late_cost; skuggpriserna är "
            "konsultberäkningar och antaganden vars källor anges i katalogen.")

    @pa.dataframe_check
    def numbers_only_when_ok(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") | pl.col("saving_central").is_null())

    @pa.dataframe_check
    def interval_around_centre(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("saving_low").is_null()
                     | (pl.col("saving_low") <= pl.col("saving_high")))


class LateCostKpi(pa.DataFrameModel):
    """Kostnadskatalogen: Koladas nyckeltal bakom marts.late_cost, med källa och prisindex."""

    source_kpi: pl.String = pa.Field(unique=True, str_matches=r"^[NU]\d{5}$", description="Koladas nyckeltal")
    cost_kind: pl.String = pa.Field(unique=True, str_matches=r"^[a-z][a-z0-9_]*$",
                                    description="Kod i marts.late_cost.cost_kind")
    cost_label: pl.String = pa.Field(description="Namn på svenska")
    measure: pl.String = pa.Field(isin=list(MEASURE),
                                  description="cost = kostnad; reference = referenskostnad (visas "
                                              "bredvid kostnaden i reference_for); volume = andel")
    resident_band: pl.String = pa.Field(str_matches=r"^(all|\d+-\d+)$",
                                        description="Invånarna värdet gäller per")
    reference_for: pl.String = pa.Field(nullable=True, description="Kostnaden en referenskostnad jämförs med")
    kolada_title: pl.String = pa.Field(description="Koladas titel som katalogen citerar")
    verification: pl.String = pa.Field(isin=list(VERIFICATION),
                                       description="verified = id och titel finns i Koladas nyckeltalslista "
                                                   "2023-03-28 (projektets utdrag); unverified = inte kontrollerat där")
    verified_in: pl.String = pa.Field(description="Var id och titel har lästs")
    note: pl.String = pa.Field(nullable=True, description="Förbehåll som visas i rapporterna")
    price_index: pl.String = pa.Field(description="Prisindexet kostnaderna räknas om med")
    price_index_source: pl.String = pa.Field(description="Prisindexets källa")
    price_index_note: pl.String = pa.Field(nullable=True, description="Förbehåll om prisindexet")
    price_year: pl.Int32 = pa.Field(description="Prisåret")
    sort_order: pl.Int32 = pa.Field(ge=0, description="Ordning i katalogen")

    class Config:
        strict = True
        description = ("Hälsoekonomi: katalogen över Koladas kostnads- och volymnyckeltal "
                       "(data/catalog/late_cost.yaml) med var varje id har kontrollerats och vilket "
                       "prisindex kostnaderna räknas om med.")


class PreventionAssumption(pa.DataFrameModel):
    """Scenariernas antaganden: varje tal med sin källa, eller markerat som antagande."""

    scenario_id: pl.String = pa.Field(description="Scenariot (marts.prevention_scenario)")
    parameter: pl.String = pa.Field(isin=list(PARAMETERS), description="Vilket tal")
    label: pl.String = pa.Field(description="Talets namn på svenska")
    unit: pl.String = pa.Field(description="Enhet")
    low: pl.Float64 = pa.Field(nullable=True, description="Lägsta värde (triangelfördelning)")
    mode: pl.Float64 = pa.Field(nullable=True, description="Troligaste värde")
    high: pl.Float64 = pa.Field(nullable=True, description="Högsta värde; tomt i alla tre: inte kontrollerat, räknas inte")
    source_price_year: pl.Int32 = pa.Field(nullable=True, description="Beloppets prisår i källan")
    price_year: pl.Int32 = pa.Field(nullable=True, description="Prisåret beloppen är omräknade till (KPI)")
    kind: pl.String = pa.Field(isin=list(ASSUMPTION_KIND),
                               description="cited = med källa; assumption = ett antagande (vad händer om …)")
    source: pl.String = pa.Field(nullable=True, description="Källan")
    verified: pl.Boolean = pa.Field(description="Om talet har kontrollerats i källan själv")
    note: pl.String = pa.Field(nullable=True, description="Förbehåll eller förklaring")
    sort_order: pl.Int32 = pa.Field(ge=0, description="Ordning inom scenariot")

    class Config:
        strict = True
        unique = ["scenario_id", "parameter"]
        description = ("Hälsoekonomi: antagandena bakom marts.prevention_scenario "
                       "(data/catalog/prevention_scenarios.yaml), ett tal per rad med lägsta, troligaste "
                       "och högsta värde, källa och om det har kunnat kontrolleras. Ett antagande är "
                       "ingen slutsats.")
