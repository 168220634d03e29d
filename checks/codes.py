"""Swedish labels for the code lists that have none elsewhere.

Labels that the reports already use live in `reports/labels.py`; the coordination layer
keeps its own next to the code that defines them. `pipeline/assets/labels.py` gathers all
of them into `marts.label`. Keys must be exactly the codes the models allow (`checks/models.py`);
tests/test_sql_door.py holds them together.
"""

from __future__ import annotations

AREA_TYPE = {
    "kommun": "Kommun",
    "lan": "Län",
    "riket": "Riket",
    "subregion": "Delregion",
    "total": "Alla svarande i enkäten",
}

# One dictionary for the interval methods of the fact table (as computed, per row), the
# catalogue (as asked for, per indicator) and the funnel limits.
CI_METHOD = {
    "wilson": "Wilson (andel)",
    "byar": "Byar (kvot, 10 händelser eller fler)",
    "exact_poisson": "Exakt Poisson (kvot, färre än 10 händelser)",
    "byar_exact": "Byar eller exakt Poisson efter antal händelser",
    "t": "t-fördelning (medelvärde)",
    "none": "Inget intervall",
}

CI_METHOD_DESCRIPTION = {
    "wilson": "Wilsons intervall för en andel (täljare av nämnare).",
    "byar": "Byars approximation för en kvot med minst 10 händelser.",
    "exact_poisson": "Exakt Poissonintervall för en kvot med färre än 10 händelser.",
    "byar_exact": "Katalogens val: exakt Poisson under 10 händelser, annars Byar.",
    "t": "Medelvärde ± t-kvantil × standardfel.",
    "none": "Värdet har inget intervall (antal, saknad nämnare eller dolt värde).",
}

VALUE_TYPE = {"proportion": "Andel", "rate": "Kvot per invånare", "mean": "Medelvärde",
              "count": "Antal"}

SOURCE = {"kolada": "Kolada (RKA)", "survey": "Elevenkät", "scb": "SCB"}

SOURCE_MEASURE = {"value": "Källan ger värdet",
                  "count": "Källan ger antalet; värdet räknas fram med SCB:s befolkning"}

SEX_SPLIT = {"KMT": "Uppdelat på kön (kvinnor, män och totalt)", "T": "Endast totalt"}

VERIFICATION = {
    "VERIFIED-API": "Id:t finns i Koladas nyckeltalslista",
    "LIKELY": "Id:t bekräftat av två oberoende källor",
    "SURVEY": "Indikator ur en elevenkät (kodbok i data/catalog/surveys)",
}

INDICATOR_DOMAIN = {
    "skola": "Skola",
    "familj_ekonomi": "Familj och ekonomi",
    "fritid": "Fritid",
    "trygghet": "Trygghet",
    "socialtjanst": "Socialtjänst",
    "etablering": "Etablering",
    "demografi": "Befolkning",
    "halsa": "Hälsa",
}

QUINTILE = {"1": "Kvintil 1 (bäst eller lägst)", "2": "Kvintil 2", "3": "Kvintil 3",
            "4": "Kvintil 4", "5": "Kvintil 5 (sämst eller högst)"}

QUINTILE_DESCRIPTION = {
    "1": "Bästa femtedelen av kommunerna; utan riktning den lägsta.",
    "5": "Sämsta femtedelen av kommunerna; utan riktning den högsta.",
}

DATA_MODE = {"demo": "Demodata (syntetiska värden)", "live": "Hämtat från Kolada och SCB",
             "replay": "Återskapat ur det sparade rålagret"}

HTTP_METHOD = {"GET": "Hämtning (GET)", "POST": "Fråga med innehåll (POST)"}

STATUS_DESCRIPTION = {
    "ok": "Värdet redovisas.",
    "suppressed": "Dolt för att skydda enskilda (litet antal); aldrig 0. Orsaken står i status_reason.",
    "missing": "Inget värde från källan eller för låg täckning; aldrig 0. Orsaken står i status_reason.",
    "not_applicable": "Frågan gäller inte området.",
    "provisional": "Preliminärt värde som kan ändras.",
}

COMPARISON_DESCRIPTION = {
    "much_better": "Säkert bättre: jämförelsevärdet ligger utanför områdets 99,8-procentsintervall.",
    "better": "Bättre: jämförelsevärdet ligger utanför 95- men inom 99,8-procentsintervallet.",
    "similar": "Jämförelsevärdet ligger inom områdets 95-procentsintervall.",
    "worse": "Sämre: jämförelsevärdet ligger utanför 95- men inom 99,8-procentsintervallet.",
    "much_worse": "Säkert sämre: jämförelsevärdet ligger utanför områdets 99,8-procentsintervall.",
    "lower": "Lägre: jämförelsevärdet ligger över 95-procentsintervallet; ingen riktning är bättre.",
    "higher": "Högre: jämförelsevärdet ligger under 95-procentsintervallet; ingen riktning är bättre.",
    "not_compared": "Inget värde, intervall, jämförelsevärde eller riktning att jämföra med.",
}

RANK_BAND_DESCRIPTION = {code: "Relativ position bland kommunerna, inte ett mått på signifikans."
                         for code in ("best_25", "middle_50", "worst_25", "lowest_25", "highest_25")}

# What the reports show as a blank or a dash is a word here: a label table has no layout
# to carry the meaning.
STATUS_OK = "Redovisat"
TREND_NOT_CALCULATED = "Kan inte beräknas"

TREND_DESCRIPTION = {
    "no_significant_change": "Ingen säker förändring de fem senaste åren (99,8 %).",
    "cannot_be_calculated": "Färre än fem år i följd med värde, eller värden utan det "
                            "intervall eller de antal som trendtestet behöver.",
}

BREAKDOWN_ALL = {"all": "Alla (ingen nedbrytning)"}


def pooled_label(years: int) -> str:
    return f"Sammanslaget över {years} år (sällsynta händelser)"

