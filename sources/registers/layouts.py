"""The column layouts of the four local registers: Swedish headers, what each cell holds.

A layout is the contract between the county's spreadsheet, the reader (`parse.py`), the
template (`templates.py`), the demo writer and the README: one list of columns per
register. Codes are English snake_case; the Swedish label dictionaries next to them are
what the marts' `*_label` columns and `marts.label` show.

Cell kinds:
  text       free text (blank allowed unless required)
  kommun     kommun code (0580, also 580 as Excel saves it) or kommun name (Linköping)
  date       ÅÅÅÅ-MM-DD (an Excel date cell is fine)
  number     decimal comma or point, spaces as thousands separator, "kr" allowed
  year       four-digit year
  count      a whole number of at least 1
  score      a Community Readiness score 1–9, decimals allowed
  choice     one of the listed values (Swedish words; case and å/ä/ö do not matter)
  choices    several listed values separated by comma
  indicator  an indicator id of the catalogue (registry or survey)
  private    personal data (contact person, e-mail): read by people, never by the pipeline
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from transforms.need import FACTORS, OVERALL
from transforms.readiness import DIMENSIONS

FACTOR_CODES = {code: label for code, label in FACTORS.items() if code != OVERALL}

ACTOR_TYPE = {
    "lansstyrelsen": "Länsstyrelsen",
    "myndighet": "Nationell myndighet",
    "region": "Region",
    "kommun": "Kommun",
    "civilsamhalle": "Civilsamhälle",
    "annan": "Annan aktör",
}

SUPPORT_TYPE = {
    "kunskapsstod": "Kunskapsstöd",
    "processtod": "Processtöd",
    "utbildning": "Utbildning",
    "ekonomiskt_stod": "Ekonomiskt stöd",
    "data_analys": "Data och analys",
}

PREVENTION_STAR = {
    "brott": "Brott",
    "vald": "Våld",
    "utanforskap": "Utanförskap",
    "andts": "ANDTS",
    "psykisk_ohalsa": "Psykisk ohälsa",
}

DIRECTION = {"increase": "öka", "decrease": "minska"}

SEX = {"T": "Totalt", "K": "Flickor/kvinnor", "M": "Pojkar/män"}

# Words a county writes for each code besides the label itself.
_SYNONYMS = {
    "factor": {"skola": ["måluppfyllelse i skolan", "skolan"],
               "foraldraskap": ["föräldraskapsstöd", "föräldraskap och familj", "familj"],
               "fritid": ["meningsfull fritid"],
               "narsamhalle": ["närsamhälle", "tryggt närsamhälle", "trygghet"]},
    "actor_type": {"lansstyrelsen": ["länsstyrelse", "lst"],
                   "myndighet": ["myndighet", "statlig myndighet"],
                   "region": ["regionen"],
                   "civilsamhalle": ["ideell organisation", "förening", "idéburen organisation"],
                   "annan": ["övrig", "övriga"]},
    "support_type": {"data_analys": ["data/analys", "data", "analys", "dataanalys"],
                     "ekonomiskt_stod": ["ekonomiskt", "bidrag", "medel", "pengar"],
                     "kunskapsstod": ["kunskap"], "processtod": ["process"]},
    "star": {"andts": ["andt", "alkohol narkotika doping tobak spel"],
             "psykisk_ohalsa": ["psykisk hälsa"]},
    "direction": {"increase": ["öka", "ökning", "höja", "upp", "increase"],
                  "decrease": ["minska", "minskning", "sänka", "ner", "decrease"]},
    "sex": {"T": ["alla", "totalt", "båda", "t"], "K": ["flickor", "kvinnor", "tjejer", "k"],
            "M": ["pojkar", "män", "killar", "m"]},
}


def fold(text: str) -> str:
    """Text as compared: lower case, no diacritics, single spaces for - _ / and blanks."""
    plain = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[\s\-_/]+", " ", plain).strip()


def _accepted(codes: dict[str, str], synonyms: dict[str, list[str]]) -> dict[str, str]:
    words: dict[str, str] = {}
    for code, label in codes.items():
        for word in [code, label, *synonyms.get(code, [])]:
            words[fold(word)] = code
    return words


@dataclass(frozen=True)
class Column:
    name: str            # the register table's column
    header: str          # the Swedish header in the file
    kind: str
    required: bool = False
    help: str = ""       # Swedish, for the template's instructions and the README
    example: str = ""
    codes: dict[str, str] = field(default_factory=dict)      # code → Swedish label
    accepted: dict[str, str] = field(default_factory=dict)   # folded word → code
    aliases: tuple[str, ...] = ()


def _choice(name: str, header: str, codes: dict[str, str], *, kind: str = "choice",
            synonyms: str | None = None, **kwargs) -> Column:
    words = _accepted(codes, _SYNONYMS.get(synonyms or name, {}))
    return Column(name, header, kind, codes=codes, accepted=words, **kwargs)


@dataclass(frozen=True)
class Layout:
    name: str            # file names start with it: stod_2025.xlsx
    title: str           # Swedish
    description: str     # Swedish, one paragraph
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()  # other file-name prefixes (with å/ä/ö)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


KOMMUN = Column("area_code", "Kommunkod", "kommun", required=True,
                help="Kommunens kod med fyra siffror (0580) eller kommunens namn (Linköping).",
                example="0580", aliases=("Kommun", "Kommunnr", "Kommunnummer"))
CONTACT = Column("contact", "Kontaktperson", "private",
                 help="För länets egen del; läses inte av uppvaxt och publiceras aldrig.",
                 example="Förnamn Efternamn")
EMAIL = Column("email", "E-post", "private",
               help="För länets egen del; läses inte av uppvaxt och publiceras aldrig.",
               example="namn@kommun.se")

STOD = Layout(
    "stod", "Stöd till kommuner",
    "Vilken aktör som stöder vilken kommun, inom vilket område och vilken strategisk "
    "faktor, med vilken sorts stöd, när och med hur mycket pengar. En rad per insats och "
    "kommun.",
    (
        Column("actor", "Aktör", "text", required=True, example="Länsstyrelsen Östergötland",
               help="Organisationen som ger stödet."),
        _choice("actor_type", "Aktörstyp", ACTOR_TYPE, required=True, example="Länsstyrelsen",
                help="Länsstyrelsen, Nationell myndighet, Region, Kommun, Civilsamhälle eller "
                     "Annan aktör."),
        KOMMUN,
        Column("subject", "Sakområde", "text", example="Föräldraskapsstöd",
               help="Till exempel integration, ANDT, brottsprevention, föräldraskapsstöd."),
        _choice("factor", "Strategisk faktor", FACTOR_CODES, example="Föräldraskap",
                help="Skola, Föräldraskap, Fritid eller Närsamhälle. Ange strategisk faktor "
                     "eller punkt i Preventionsstjärnan (eller båda)."),
        _choice("star", "Preventionsstjärnan", PREVENTION_STAR, example="Våld",
                help="Brott, Våld, Utanförskap, ANDTS eller Psykisk ohälsa."),
        _choice("support_type", "Stödtyp", SUPPORT_TYPE, required=True, example="Processtöd",
                help="Kunskapsstöd, Processtöd, Utbildning, Ekonomiskt stöd eller Data och analys."),
        Column("start", "Startdatum", "date", required=True, example="2025-01-15",
               help="Första dag med stöd, ÅÅÅÅ-MM-DD."),
        Column("end", "Slutdatum", "date", required=True, example="2025-12-31",
               help="Sista dag med stöd, ÅÅÅÅ-MM-DD; inte före startdatum."),
        Column("amount_sek", "Belopp (kr)", "number", example="150000",
               help="Pengar som ges, i kronor (lämna tomt om stödet inte är pengar).",
               aliases=("Belopp", "Belopp kr", "Belopp (SEK)")),
        Column("description", "Beskrivning", "text", example="Stöd att införa ABC i förskolan",
               help="Kort beskrivning av insatsen."),
        CONTACT, EMAIL,
    ),
    aliases=("stöd",),
)

_SCORES = tuple(
    Column(f"{d.lower()}_{role}", f"{d} {header}", "score", example=example,
           help=f"Dimension {d} ({label}): {text}, 1–9 (decimaler tillåtna).")
    for d, label in DIMENSIONS.items()
    for role, header, text, example in (
        ("scorer_1", "bedömare 1", "första bedömarens poäng", "4"),
        ("scorer_2", "bedömare 2", "andra bedömarens poäng", "4,5"),
        ("consensus", "konsensus", "poängen bedömarna enats om", "4,25"))
)

BEREDSKAP = Layout(
    "beredskap", "Beredskap (Community Readiness)",
    "Community Readiness-intervjuer: en rad per intervju, med bedömningens id, kommun, datum "
    "och fråga, och med båda bedömarnas poäng och den poäng de enats om för var och en av de "
    "sex dimensionerna A–F. Alla intervjuer i samma bedömning har samma id i kolumnen "
    "Bedömning (de får ha olika datum).",
    (
        Column("assessment_id", "Bedömning", "text", required=True, example="0580-2025-1",
               help="Bedömningens id: samma för alla intervjuer i bedömningen (till exempel "
                    "kommunkod, år och löpnummer). Intervjuerna får ha olika datum.",
               aliases=("Bedömnings-id", "Bedömningens id")),
        KOMMUN,
        Column("assessed_on", "Bedömningsdatum", "date", required=True, example="2025-03-15",
               help="Dagen intervjun gjordes, ÅÅÅÅ-MM-DD. Bedömningens datum är dess senaste "
                    "intervjus.", aliases=("Intervjudatum", "Datum")),
        Column("issue", "Frågan", "text", required=True,
               example="Förebygga våld bland unga",
               help="Frågan beredskapen gäller, med samma ordalydelse vid varje bedömning och i "
                    "ansökningsregistrets kolumn Beredskapsfråga."),
        _choice("prevention_star", "Preventionsstjärnan", PREVENTION_STAR, kind="choices",
                synonyms="star", example="Brott, Våld",
                help="Valfritt: frågans punkter i Preventionsstjärnan (Brott, Våld, Utanförskap, "
                     "ANDTS, Psykisk ohälsa), åtskilda med kommatecken. En utlysning med samma "
                     "punkt räknar bedömningen som sin."),
        Column("interview_id", "Intervju", "text", required=True, example="1",
               help="Intervjuns nummer eller id inom bedömningen."),
        Column("sector", "Sektor", "text", example="Skola",
               help="Den intervjuades sektor (skola, socialtjänst, polis, förening …)."),
        *_SCORES,
    ),
)

MAL = Layout(
    "mal", "Mål i kommunala planer",
    "Mätbara mål i kommunernas planer: vilken indikator målet följs med, utgångsläge och "
    "målvärde. En rad per mål.",
    (
        KOMMUN,
        Column("plan", "Plan", "text", required=True,
               example="Handlingsplan för trygghet 2024–2027", help="Planens namn."),
        Column("goal_id", "Mål-id", "text", example="",
               help="Eget id för målet (valfritt; annars bildas ett av kommun, plan, mål och "
                    "indikator)."),
        Column("goal_text", "Mål", "text", required=True,
               example="Fler elever i åk 9 ska vara behöriga till gymnasiet",
               help="Målet som det står i planen."),
        Column("indicator_id", "Indikator", "indicator", required=True, example="N15428",
               help="Indikatorns id i uppvaxt (se marts.indicator), från register eller "
                    "elevenkät."),
        _choice("sex", "Kön", SEX, example="Totalt",
                help="Totalt (tomt), Flickor eller Pojkar."),
        Column("breakdown", "Nedbrytning", "text", example="",
               help="Årskurs för enkätindikatorer (åk 9, gy 2); tomt = alla."),
        _choice("direction", "Riktning", DIRECTION, required=True, example="öka",
                help="öka eller minska: åt vilket håll värdet ska gå."),
        Column("baseline_year", "Basår", "year", required=True, example="2022",
               help="Året målet utgår från."),
        Column("baseline_value", "Basvärde", "number", example="från data",
               help="Värdet basåret; tomt eller \"från data\" tar värdet ur uppvaxt."),
        Column("target_value", "Målvärde", "number", required=True, example="85",
               help="Värdet som ska nås."),
        Column("target_year", "Målår", "year", required=True, example="2027",
               help="Året målet ska vara nått; inte före basåret."),
    ),
    aliases=("mål",),
)

FRAMES = {"lan": "Länet", "riket": "Riket"}

ANSOKNINGAR = Layout(
    "ansokningar", "Ansökningar till en utlysning",
    "Kommuner som sökt stöd i en utlysning: en rad per utlysning och kommun. Uppgifterna om "
    "utlysningen (namn, faktorer, stödform, platser, jämförelse, beredskapsfråga, "
    "Preventionsstjärnan, stödår) ska vara desamma på alla rader för samma utlysning.",
    (
        Column("call_id", "Utlysning", "text", required=True, example="LST05-2025-1",
               help="Utlysningens id."),
        Column("call_title", "Utlysningens namn", "text",
               example="Utvecklingsmedel för förebyggande arbete 2025", help="Valfritt."),
        _choice("factors", "Strategiska faktorer", FACTOR_CODES, kind="choices", synonyms="factor",
                required=True,
                example="Skola, Fritid",
                help="Utlysningens strategiska faktorer, åtskilda med kommatecken."),
        _choice("support_kind", "Stödform", SUPPORT_TYPE, required=True, example="Processtöd",
                help="Vad utlysningen ger: Kunskapsstöd, Processtöd, Utbildning, Ekonomiskt "
                     "stöd eller Data och analys."),
        Column("places", "Antal platser", "count", example="3",
               help="Hur många kommuner utlysningen kan ge stöd (valfritt; annars gäller "
                    "inställningen i data/catalog/coordination.yaml)."),
        _choice("frame", "Jämförs med", FRAMES, example="Länet",
                help="Länet (standard) eller Riket: var de sökandes behov jämförs."),
        Column("issue", "Beredskapsfråga", "text", example="Förebygga våld bland unga",
               help="Frågan vars beredskap (Community Readiness) utlysningen bygger på, med "
                    "samma ordalydelse som i beredskapsregistret (valfritt)."),
        _choice("prevention_star", "Preventionsstjärnan", PREVENTION_STAR, kind="choices",
                synonyms="star", example="Brott, Våld",
                help="Valfritt: utlysningens punkter i Preventionsstjärnan. En beredskapsbedömning "
                     "med samma punkt eller samma fråga räknas som bedömningen för utlysningen."),
        Column("support_year", "Stödår", "year", example="",
               help="Året vars pågående stöd visas för de sökande (valfritt; annars årets, "
                    "aldrig ett kommande år)."),
        KOMMUN,
        Column("applied_on", "Ansökningsdatum", "date", required=True, example="2025-02-01",
               help="Dagen ansökan kom in."),
        CONTACT, EMAIL,
    ),
    aliases=("ansökningar", "ansokan", "ansökan"),
)

REGISTERS: dict[str, Layout] = {layout.name: layout for layout in (STOD, BEREDSKAP, MAL, ANSOKNINGAR)}

REGISTER_TITLES = {name: layout.title for name, layout in REGISTERS.items()}
